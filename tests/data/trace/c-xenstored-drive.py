#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Drives a C xenstored (Debian's Xen 4.17, run outside Xen with
# /work/shared/anchors/xenstored's start.sh and -T FILE) through a small
# PCI passthrough protocol with pyxs, to record its trace log as the test
# sample c-xenstored.log: a toolstack writes a backend in a transaction,
# a backend and a frontend connection watch and answer, a transaction is
# aborted, one loses to a conflict (EAGAIN), and some requests fail.
import os
import sys
from pyxs import Client, PyXSError

sock = os.environ["XENSTORED_PATH"]
be = b"/local/domain/0/backend/pci/5/0"
fe = b"/local/domain/5/device/pci/0"

tool = Client(unix_socket_path=sock)
back = Client(unix_socket_path=sock)
front = Client(unix_socket_path=sock)
for c in (tool, back, front):
    c.connect()

tool.write(b"/local/domain/5/name", b"web01")
mon = back.monitor()
mon.watch(b"/local/domain/0/backend/pci", b"pciback")
next(mon.wait())                       # the watch's first event

tool.transaction()
tool.write(be + b"/frontend", fe)
tool.write(be + b"/frontend-id", b"5")
tool.write(be + b"/domain", b"web01")
tool.write(be + b"/key-0", b"0000:03:02.0")
tool.write(be + b"/dev-0", b"0000:03:02.0")
tool.write(be + b"/state-0", b"1")
tool.write(be + b"/num_devs", b"1")
tool.write(be + b"/state", b"1")
tool.write(fe + b"/backend", be)
tool.write(fe + b"/backend-id", b"0")
tool.write(fe + b"/state", b"1")
tool.commit()
next(mon.wait())

back.write(be + b"/state", b"2")        # InitWait
front.write(fe + b"/state", b"3")       # Initialised
back.write(be + b"/root-0", b"0000:00")
back.write(be + b"/state", b"4")        # Connected
front.write(fe + b"/state", b"4")

# a read of a missing node and a write the store refuses
try:
    front.read(be + b"/vdev-9")
except PyXSError:
    pass
try:
    front.write(b"", b"x")
except (PyXSError, ValueError):
    pass

# a transaction given up (TRANSACTION_END F)
tool.transaction()
tool.write(be + b"/state-0", b"5")
tool.rollback()

# a commit that loses to a write outside it: EAGAIN
tool.transaction()
tool.read(be + b"/state")
tool.write(be + b"/num_devs", b"2")
back.write(be + b"/state", b"4")
try:
    tool.commit()
except PyXSError:
    pass

tool.delete(be + b"/state-0")
mon.unwatch(b"/local/domain/0/backend/pci", b"pciback")
for c in (tool, back, front):
    c.close()
