#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: start xpt-xenstored in a temporary run directory and drive it
# with Debian's own xenstore-* tools, narrating each step.
set -euo pipefail
daemon=$(realpath "$1")
rundir=$(mktemp -d /tmp/xpt-demo.XXXXXX)
export XENSTORED_PATH="$rundir/socket"
bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)

cleanup() {
	[ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null || true
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$rundir"
}
trap cleanup EXIT

step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
wait_for() { # FILE: wait up to 5 s for it to appear
	local i
	for i in $(seq 500); do [ -e "$1" ] && return 0; sleep 0.01; done
	echo "demo: $1 did not appear" >&2; exit 1
}

step "Start xpt-xenstored in $rundir"
"$daemon" --rundir "$rundir" --access-log "$rundir/access.log" &
pid=$!
wait_for "$rundir/xenstored.pid"
echo "  pid $pid, clients use XENSTORED_PATH=$XENSTORED_PATH"

step "Watch /vm for changes (xenstore-watch, in the background)"
xenstore-watch /vm >"$rundir/watch.out" 2>&1 &
watcher=$!
wait_for "$rundir/watch.out"

step "Write and read back nodes (parents are created on the way)"
run xenstore-write /vm/guest1/name web01 /vm/guest1/memory 2048
run xenstore-read /vm/guest1/name /vm/guest1/memory
echo "  (xenstore-write with several pairs writes them in one transaction:"
echo "   the access log shows TRANSACTION_START, two WRITEs, TRANSACTION_END)"
grep -E 'TRANSACTION_(START|END)|WRITE' "$rundir/access.log" | grep ' IN ' |
	sed -e 's/^[0-9.]* //' -e 's/^/  log: /' | head -4

step "List the tree"
run xenstore-ls /vm
run xenstore-list /vm/guest1

step "Introduce domain 5: its clients connect to $rundir/domain/5"
/usr/bin/python3 - "$rundir/socket" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
body = b"5\0" b"0\0" b"1\0"
s.sendall(struct.pack("<IIII", 8, 1, 0, len(body)) + body)  # XS_INTRODUCE
h = s.recv(16); t, _, _, n = struct.unpack("<IIII", h)
print("  XS_INTRODUCE 5 ->", s.recv(n).rstrip(b"\0").decode())
PY
as_dom5() { # run a tool as domain 5
	echo "\$ XENSTORED_PATH=$rundir/domain/5 $*"
	XENSTORED_PATH="$rundir/domain/5" "$@" 2>&1 | sed 's/^/  /' || true
	echo
}
as_dom5 xenstore-read /vm/guest1/name
echo "  (refused: dom0 owns /vm/guest1 and its default is n: no access)"

step "Permissions: let domain 5 read the subtree, and nothing more"
run xenstore-chmod -r /vm/guest1 n0 r5
run xenstore-ls -p /vm
as_dom5 xenstore-read /vm/guest1/name
as_dom5 xenstore-write /vm/guest1/name evil
echo "  (refused: read access only; the value is unchanged:)"
run xenstore-read /vm/guest1/name
echo "  Domain 5 owns what it creates in its own directory:"
run xenstore-write /local/domain/5 ""
run xenstore-chmod /local/domain/5 n5
as_dom5 xenstore-write data/greeting hello
run xenstore-ls -p /local/domain/5

step "Remove a subtree"
run xenstore-rm /vm/guest1
run xenstore-exists /vm/guest1 || echo "  (gone: xenstore-exists exits 1)"

step "What the watcher saw"
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
watcher=
sed 's/^/  /' "$rundir/watch.out"

step "Stop the daemon"
kill "$pid"; wait "$pid" || true; pid=
echo "  stopped; sockets and pid file removed: $(ls "$rundir" | grep -c socket) sockets left"
