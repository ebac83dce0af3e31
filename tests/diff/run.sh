#!/bin/sh
# SPDX-License-Identifier: MIT
# Differential test: Debian's C xenstored 4.17 (A, tests/peers/cxenstored)
# against xpt-xenstored (B), both driven by xsdiff.py with the same seeded
# random requests for about a minute.  Ends with "diff: N passed, N failed".
#
# usage: tests/diff/run.sh XPT_XENSTORED_BINARY
#        tests/diff/run.sh --self-check
#   --self-check runs C xenstored against a C xenstored with a watch quota of
#   2 (-W 2) and succeeds only if the driver reports a mismatch: it shows the
#   test can fail.
# Environment: XSDIFF_SEEDS (default 1-1000), XSDIFF_OPS (300),
#   XSDIFF_BUDGET (seconds, default 50), XSDIFF_ARGS (more driver options).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
peer="$here/../peers/cxenstored"
if [ $# -ne 1 ]; then
	echo "usage: $0 XPT_XENSTORED_BINARY | --self-check" >&2
	exit 2
fi
mode=$1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsdiff.XXXXXX")
pid_a=
pid_b=
cleanup() {
	[ -z "$pid_a" ] || "$peer/stop.sh" "$pid_a" >/dev/null 2>&1 || true
	if [ -n "$pid_b" ]; then
		if [ "$mode" = --self-check ]; then
			"$peer/stop.sh" "$pid_b" >/dev/null 2>&1 || true
		else
			kill -TERM "$pid_b" 2>/dev/null || true
			wait "$pid_b" 2>/dev/null || true
		fi
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pid_a=$("$peer/start.sh" "$tmp/a")
if [ "$mode" = --self-check ]; then
	pid_b=$("$peer/start.sh" "$tmp/b" -W 2)
	seeds=${XSDIFF_SEEDS:-1-20}
	expect=--expect-mismatch
else
	case $mode in /*) bin=$mode ;; *) bin=$(pwd)/$mode ;; esac
	"$bin" --rundir "$tmp/b" >"$tmp/xpt-xenstored.log" 2>&1 &
	pid_b=$!
	# Wait, with a deadline, for the pid file: it is written once listening.
	i=0
	while [ ! -s "$tmp/b/xenstored.pid" ]; do
		if ! kill -0 "$pid_b" 2>/dev/null || [ $i -ge 1000 ]; then
			echo "run.sh: xpt-xenstored did not start; its log:" >&2
			cat "$tmp/xpt-xenstored.log" >&2
			exit 1
		fi
		sleep 0.01
		i=$((i + 1))
	done
	seeds=${XSDIFF_SEEDS:-1-1000}
	expect=
fi

# shellcheck disable=SC2086
/usr/bin/python3 "$here/xsdiff.py" --a-socket-dir "$tmp/a" \
	--b-socket-dir "$tmp/b" --seeds "$seeds" --ops "${XSDIFF_OPS:-300}" \
	--budget "${XSDIFF_BUDGET:-50}" $expect ${XSDIFF_ARGS:-}
