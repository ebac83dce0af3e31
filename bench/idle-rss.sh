#!/bin/bash
# SPDX-License-Identifier: MIT
# What an idle client costs xpt-xenstored: its VmRSS with no client, then
# with N connections open on the privileged socket, each having made one
# round trip (XS_READ of /) and then sitting idle, as the idle-K rows of
# `make bench` leave them.  Printed, never asserted.
#
# usage: bench/idle-rss.sh BUILD_DIR [N]     (N: connections, default 1000)
#        IDLE_RSS_XENSTORED=PATH runs that binary instead (an older build)
set -uo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR [N]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
n=${2:-1000}
xs=${IDLE_RSS_XENSTORED:-$build/src/xenstored/xpt-xenstored}
if [ -z "${IDLE_RSS_XENSTORED:-}" ]; then
	ninja -C "$build" src/xenstored/xpt-xenstored >/dev/null ||
		{ echo "idle-rss: the build failed (ninja -C $build)" >&2; exit 1; }
fi
[ -x "$xs" ] || { echo "idle-rss: $xs is not an executable" >&2; exit 1; }

# The daemon and the client each need N fds and a few more.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt $((n + 64)) ]; then
	echo "idle-rss: $n connections need $((n + 64)) fds; the limit is" \
		"$(ulimit -Sn) (ulimit -n)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xpt-idle-rss.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$xs" --rundir "$work/run" >"$work/xenstored.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -S "$work/run/socket" ] && break
	sleep 0.05
done
[ -S "$work/run/socket" ] ||
	{ echo "idle-rss: $xs did not start; its log:" >&2; cat "$work/xenstored.log" >&2; exit 1; }

python3 - "$work/run/socket" "$n" "$pid" <<'EOF'
import socket, struct, sys, time

path, n, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
XS_READ = 2

def rss_kb():
	with open("/proc/%s/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise SystemExit("idle-rss: no VmRSS for pid %s" % pid)

def round_trip(s, req_id):
	s.sendall(struct.pack("<IIII", XS_READ, req_id, 0, 2) + b"/\0")
	hdr = b""
	while len(hdr) < 16:
		chunk = s.recv(16 - len(hdr))
		if not chunk:
			raise SystemExit("idle-rss: the daemon closed connection %d" % req_id)
		hdr += chunk
	left = struct.unpack("<IIII", hdr)[3]
	while left:
		left -= len(s.recv(left))

# One connection first: the daemon's first client allocates what every
# later one shares (the socket read buffer, the heap's first arenas).
first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
first.connect(path)
round_trip(first, 1)
time.sleep(0.2)
base = rss_kb()
conns = []
for i in range(n):
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(path)
	round_trip(s, i + 2)
	conns.append(s)
time.sleep(0.5)
full = rss_kb()
print("xpt-xenstored VmRSS: %d KB with 1 client, %d KB with %d more idle "
      "ones: %.1f KB per idle connection" % (base, full, n, (full - base) / n))
EOF
