#!/bin/sh
# SPDX-License-Identifier: MIT
# Stop a xenstored started by start.sh: SIGTERM, then SIGKILL after a 5 s
# deadline; remove the socket files it and the shim leave behind.
#
# usage: tests/peers/cxenstored/stop.sh PID
set -u
pid=${1:?usage: $0 PID}
if ! kill -0 "$pid" 2>/dev/null; then
	echo "$0: no process $pid" >&2
	exit 1
fi
case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
*xenstored*) ;;
*) echo "$0: process $pid is not a xenstored; not stopping it" >&2; exit 1 ;;
esac
dir=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^XSSHIM_DIR=//p')
if [ -z "$dir" ]; then
	echo "$0: process $pid was not started by start.sh; not stopping it" >&2
	exit 1
fi

# Gone, or a zombie its (possibly slow) reaper has yet to collect.
alive() {
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
kill -TERM "$pid"
# 4.17 xenstored dies on SIGTERM at once; the loop is the deadline.
i=0
while alive && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -KILL "$pid" 2>/dev/null
rm -f "$dir/socket" "$dir/socket_ro" "$dir/xenstored.pid"
rm -rf "$dir/domain"
exit 0
