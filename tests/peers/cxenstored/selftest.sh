#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the peer end to end: Debian's xenstore-* tools on DIR/socket, then an
# introduced domain (dom1) on DIR/domain/1 that reads and writes its own
# nodes, sees relative paths and watch events, and gets EACCES on dom0's.
#
# usage: tests/peers/cxenstored/selftest.sh      (prints "selftest: ok")
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
root=$("$top/tests/peers/fetch-debian-xen.sh")
dir=$(mktemp -d "${TMPDIR:-/tmp}/cxs-selftest.XXXXXX")
pid=
cleanup() {
	[ -z "$pid" ] || "$here/stop.sh" "$pid" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
pid=$("$here/start.sh" "$dir")

export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/xen-4.17/lib"
b="$root/usr/bin"
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
expect() { # expect WANT CMD...: stdout of CMD must be WANT
	want=$1; shift
	got=$(timeout 10 "$@" 2>&1) || true
	[ "$got" = "$want" ] || fail "$*: got '$got', want '$want'"
}

# dom0 over the socket, with Debian's CLI tools.
export XENSTORED_PATH="$dir/socket"
timeout 10 "$b/xenstore-write" /vm/a hello /vm/b world
expect hello "$b/xenstore-read" /vm/a
expect "a
b" "$b/xenstore-list" /vm
timeout 10 "$b/xenstore-rm" /vm/b
expect a "$b/xenstore-list" /vm

# dom1: introduce it over the socket, give it its home, then be it.
/usr/bin/python3 - "$dir" <<'PY'
import os, socket, struct, sys
d = sys.argv[1]
def talk(sock, ty, payload, rid=[0]):
    rid[0] += 1
    sock.sendall(struct.pack("<4I", ty, rid[0], 0, len(payload)) + payload)
    while True:
        t, r, _, n = struct.unpack("<4I", sock.recv(16, socket.MSG_WAITALL))
        body = sock.recv(n, socket.MSG_WAITALL) if n else b""
        if t != 15:  # watch events are checked below
            return t, body
        events.append(body)
events = []
def conn(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    return s
XS = dict(READ=2, GET_PERMS=3, WATCH=4, INTRODUCE=8, GET_DOMAIN_PATH=10,
          WRITE=11, MKDIR=12, SET_PERMS=14, ERROR=16)
d0 = conn(d + "/socket")
assert talk(d0, XS["INTRODUCE"], b"1\0" b"0\0" b"9\0") == (8, b"OK\0")
assert os.path.exists(d + "/domain/1"), "no DIR/domain/1 after INTRODUCE"
assert talk(d0, XS["MKDIR"], b"/local/domain/1\0")[0] == 12
assert talk(d0, XS["SET_PERMS"], b"/local/domain/1\0n1\0")[0] == 14
d1 = conn(d + "/domain/1")
assert talk(d1, XS["GET_DOMAIN_PATH"], b"1\0") == (10, b"/local/domain/1\0")
assert talk(d1, XS["WRITE"], b"name\0vm1") == (11, b"OK\0")
assert talk(d1, XS["READ"], b"/local/domain/1/name\0") == (2, b"vm1")
assert talk(d1, XS["GET_PERMS"], b"name\0") == (3, b"n1\0")
assert talk(d1, XS["READ"], b"/vm/a\0") == (16, b"EACCES\0")
assert talk(d1, XS["WRITE"], b"/vm/a\0x") == (16, b"EACCES\0")
assert talk(d1, XS["WATCH"], b"name\0tok\0") == (4, b"OK\0")
assert talk(d0, XS["WRITE"], b"/local/domain/1/name\0vm1b") == (11, b"OK\0")
assert talk(d1, XS["READ"], b"name\0") == (2, b"vm1b")
assert events == [b"name\0tok\0", b"name\0tok\0"], events
# A new client on DIR/domain/1 starts without the old client's watches.
d1.close()
d1 = conn(d + "/domain/1")
events.clear()
assert talk(d0, XS["WRITE"], b"/local/domain/1/name\0vm1c") == (11, b"OK\0")
assert talk(d1, XS["READ"], b"name\0") == (2, b"vm1c")
assert events == [], events
PY

# Debian's tools work as dom1 too (XENSTORED_PATH may name any socket).
XENSTORED_PATH="$dir/domain/1" expect vm1c "$b/xenstore-read" name
XENSTORED_PATH="$dir/domain/1" timeout 10 "$b/xenstore-write" data/x 42
expect 42 "$b/xenstore-read" /local/domain/1/data/x
if XENSTORED_PATH="$dir/domain/1" timeout 10 "$b/xenstore-read" /vm/a >/dev/null 2>&1; then
	fail "dom1 read dom0's /vm/a"
fi

# RELEASE removes the domain's socket.
/usr/bin/python3 -c 'import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(struct.pack("<4I", 9, 1, 0, 2) + b"1\0")
assert s.recv(64)[16:] == b"OK\0"' "$dir/socket"
[ ! -e "$dir/domain/1" ] || fail "DIR/domain/1 still there after RELEASE"
echo "selftest: ok"
