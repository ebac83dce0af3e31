#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian's own test-xenstore (Xen 4.17.7, unmodified) against xpt-xenstored:
# every test it lists, each alone with -i 10, then the default whole run.
# usage: test-xenstore.sh XPT_XENSTORED
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/daemon.sh"

if ! ROOT=$("$here/../peers/fetch-debian-xen.sh"); then
	echo "1..0 # SKIP cannot fetch Debian's Xen userspace (tests/peers/fetch-debian-xen.sh)"
	exit 77
fi
TX=$ROOT/usr/lib/xen-4.17/bin/test-xenstore
if [ ! -x "$TX" ]; then
	echo "1..0 # SKIP $TX missing"
	exit 77
fi
export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-4.17/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

xpt_start_daemon "$1"

names=$("$TX" -l | sed 's/ *:.*//')
if [ -z "$names" ]; then
	echo "test-xenstore -l listed nothing" >&2
	exit 1
fi

n=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/xpt-test-xenstore.XXXXXX")
# run NAME ARGS...: test-xenstore must exit 0 and print no "failed"
run() {
	_name=$1
	shift
	n=$((n + 1))
	"$TX" "$@" >"$out" 2>&1
	_rc=$?
	if [ "$_rc" -eq 0 ] && ! grep -qi "failed\|Exhaustive" "$out"; then
		echo "ok $n - $_name: $(tr '\n' ' ' <"$out" | sed 's/ *$//')"
	else
		failed=$((failed + 1))
		echo "not ok $n - $_name (status $_rc)"
		sed 's/^/#   /' "$out"
	fi
}

count=0
while IFS= read -r t; do
	run "$t" -t "$t" -i 10
	count=$((count + 1))
done <<EOF2
$names
EOF2
run "whole run, default" 
run "whole run, -i 10" -i 10
run "random tests for 3 s" -r 3
rm -f "$out"

echo "1..$n"
if [ "$count" -lt 12 ]; then
	echo "# test-xenstore listed only $count tests" >&2
	exit 1
fi
if [ "$failed" -ne 0 ]; then
	echo "# test-xenstore: $failed of $n runs failed"
	exit 1
fi
echo "# test-xenstore: all $n runs passed ($count tests)"
