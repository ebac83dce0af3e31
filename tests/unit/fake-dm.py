#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A misbehaving device model for libxpt's startup tests: started with
xpt-dm's (QEMU's) arguments, it does what $XPT_FAKE_DM says:

  exit3       exits with status 3 at once (dies at startup)
  exit0       exits with status 0 at once
  silent      listens on its QMP socket, accepts, never greets
  running     speaks QMP, but query-status says it already runs
  paused-node writes device-model/<domid>/state = paused, never listens
  garbage     accepts and sends a line that is not JSON
  slow-greet  waits 1.5 s before its greeting, then is a good DM
  prelaunch   a good DM's QMP, whose query-status says "prelaunch"
  no-add      as running, but refuses every device_add as a stub
              domain's QEMU does when it cannot see the device
  slow-add    as running, but answers device_add only after 12 s (a
              stub domain's QEMU realising a device through pcifront
              on a loaded host)

Started in a stub domain (--dm-domid S, by `xpt-guest --stubdom`), it
reaches xenstore as S and, being a QEMU without -S, first announces
/local/domain/S/device-model/<domid>/state = running (except exit*,
paused-node, which writes "paused" there instead, and silent-node, which
writes nothing and never listens).
"""
import json
import os
import socket
import subprocess
import sys
import time


def arg(name):
    return sys.argv[sys.argv.index(name) + 1]


def main():
    mode = os.environ.get("XPT_FAKE_DM", "exit3")
    domid = arg("-xen-domid")
    chardev = arg("-chardev")
    path = [kv[5:] for kv in chardev.split(",") if kv.startswith("path=")][0]
    rundir = arg("--rundir")
    stub = arg("--dm-domid") if "--dm-domid" in sys.argv else "0"
    sock = "socket" if stub == "0" else "domain/%s" % stub
    env = dict(os.environ, XENSTORED_PATH=os.path.join(rundir, sock))
    state = "/local/domain/%s/device-model/%s/state" % (stub, domid)
    if mode == "exit3":
        sys.exit(3)
    if mode == "exit0":
        sys.exit(0)
    if mode == "paused-node":
        subprocess.run(["xenstore-write", state, "paused"], env=env, check=False)
        time.sleep(3600)
    if mode == "silent-node":
        time.sleep(3600)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    if stub != "0":     # QEMU's runstate changes after its chardevs exist
        subprocess.run(["xenstore-write", state, "running"], env=env, check=False)
    c, _ = s.accept()
    if mode == "silent":
        time.sleep(3600)
    if mode == "garbage":
        c.sendall(b"this is not QMP\r\n")
        time.sleep(3600)
    if mode == "slow-greet":
        time.sleep(1.5)
    c.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
              b'"package": ""}, "capabilities": ["oob"]}}\r\n')
    f = c.makefile("rb")
    for line in f:
        req = json.loads(line)
        if req["execute"] == "qmp_capabilities":
            ret = {}
        elif req["execute"] == "device_add" and mode == "no-add":
            err = {"class": "GenericError", "desc": "Could not open "
                   "'/sys/bus/pci/devices/%s/config': No such file or "
                   "directory" % req["arguments"].get("hostaddr")}
            c.sendall(json.dumps({"error": err, "id": req["id"]}).encode() +
                      b"\r\n")
            continue
        elif req["execute"] == "device_add" and mode == "slow-add":
            time.sleep(12)
            ret = {}
        else:
            run = mode in ("running", "no-add", "slow-add")
            ret = {"status": "running" if run else "prelaunch", "singlestep": False,
                   "running": run}
        c.sendall(json.dumps({"return": ret, "id": req["id"]}).encode() + b"\r\n")
    time.sleep(3600)


if __name__ == "__main__":
    main()
