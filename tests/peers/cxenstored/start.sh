#!/bin/sh
# SPDX-License-Identifier: MIT
# Start Debian's unmodified Xen 4.17 C xenstored without a hypervisor, under
# the xsshim.so LD_PRELOAD shim, and print its PID once DIR/socket answers.
#
# usage: tests/peers/cxenstored/start.sh DIR [extra xenstored args...]
#   DIR/socket          privileged (dom0) clients: XENSTORED_PATH=DIR/socket
#   DIR/domain/<domid>  appears when dom0 sends XS_INTRODUCE(domid, gfn, port);
#                       a client connected there is that unprivileged domain
#   DIR/xenstored.pid   written by xenstored; DIR/xenstored.log its output
# Extra args go to xenstored, e.g. "-t 2" (transactions) or "-W 4" (watches).
# Stop it with tests/peers/cxenstored/stop.sh PID.
# Environment: XPT_DEBIAN_XEN (see fetch-debian-xen.sh), XSSHIM_DEBUG=1 (shim
# logs to DIR/xenstored.log), XSSHIM_SO (use this prebuilt shim).
set -eu

if [ $# -lt 1 ]; then
	echo "usage: $0 DIR [extra xenstored args...]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
shift

root=$("$top/tests/peers/fetch-debian-xen.sh")
bin="$root/usr/lib/xen-4.17/bin/xenstored"
libs="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/xen-4.17/lib"

# Build the shim when missing or older than its source.  Several starts may
# race here, so build to a private name and rename into place.
so=${XSSHIM_SO:-$top/.cache/cxenstored/xsshim.so}
if [ -z "${XSSHIM_SO:-}" ] && { [ ! -f "$so" ] || [ "$here/xsshim.c" -nt "$so" ]; }; then
	mkdir -p "$(dirname "$so")"
	gcc -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror \
		-fPIC -shared -D__XEN_TOOLS__ -I"$root/usr/include" \
		-o "$so.$$" "$here/xsshim.c" -ldl -lpthread
	mv -f "$so.$$" "$so"
fi

pidfile="$dir/xenstored.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
	grep -q xenstored "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null; then
	echo "$0: a xenstored (pid $(cat "$pidfile")) already serves $dir" >&2
	exit 1
fi
rm -f "$dir/socket" "$dir/socket_ro" "$pidfile"
rm -rf "$dir/domain"

# XENSTORED_PATH/RUNDIR place xenstored's socket; XSSHIM_DIR the domains'.
LD_PRELOAD="$so" LD_LIBRARY_PATH="$libs" XSSHIM_DIR="$dir" \
	XENSTORED_RUNDIR="$dir" XENSTORED_PATH="$dir/socket" \
	"$bin" -N -F "$pidfile" "$@" </dev/null >"$dir/xenstored.log" 2>&1 &
pid=$!

# Wait, with a deadline, until the socket answers a GET_DOMAIN_PATH.
if ! /usr/bin/python3 - "$dir/socket" "$pid" <<'PY'
import os, socket, struct, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("xenstored exited")
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        s.connect(path)
        s.sendall(struct.pack("<4I", 10, 1, 0, 2) + b"0\0")
        hdr = s.recv(16, socket.MSG_WAITALL)
        if len(hdr) == 16 and struct.unpack("<4I", hdr)[0] == 10:
            sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.01)  # retry interval of the deadline-bounded poll
sys.exit("no answer on %s" % path)
PY
then
	echo "$0: xenstored (pid $pid) did not come up; $dir/xenstored.log:" >&2
	cat "$dir/xenstored.log" >&2
	kill "$pid" 2>/dev/null || true
	exit 1
fi
echo "$pid"
