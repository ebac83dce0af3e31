#!/bin/bash
# SPDX-License-Identifier: MIT
# The lab leaves no process behind and runs side by side:
#   timeout   a boot deadline too short to make: the lab fails at the boot
#             step and its QEMU is gone;
#   interrupt SIGINT (Ctrl-C) to the driver while dom0 boots: it stops, its
#             QEMU is gone;
#   killed    SIGKILL to the driver: its QEMU dies too (parent-death signal);
#   parallel  two labs in two run directories at the same time: both pass,
#             and neither leaves a QEMU.
#   lab/selftest-procs.sh [timeout|interrupt|killed|parallel]...   (default: all)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
base=$repo/.cache/lab/runs/selftest-procs-$(date +%Y%m%d-%H%M%S)-$$
. "$here/selftest-lib.sh"
t0=$SECONDS
img=$("$here/assemble.sh") || { echo "selftest-procs: assembly failed"; exit 1; }

t_timeout() {
	local out=$base/timeout rc=0
	mkdir -p "$out"
	echo "timeout: boot deadline 5s"
	"$here/lab.sh" run --out "$out" --boot-timeout 5 cold-plug \
		>"$out/stdout" 2>"$out/stderr" || rc=$?
	expect "lab exits non-zero" test $rc != 0
	expect "the boot step is named" grep -qF "at step 'boot: Xen and dom0 up (DOM0-READY)'" "$out/stderr"
	expect "the deadline is reported" grep -qF "no DOM0-READY in 5s" "$out/stderr"
	expect_no_qemu "$out/cold-plug"
}

t_interrupt() {
	local out=$base/interrupt pid rc=0
	mkdir -p "$out"
	echo "interrupt: SIGINT to the driver once QEMU runs"
	"$py" "$here/driver.py" --img "$img" --out "$out" cold-plug \
		>"$out/stdout" 2>"$out/stderr" &
	pid=$!
	for _ in $(seq 1 300); do
		[ -s "$out/cold-plug/serial.log" ] && break
		sleep 0.1
	done
	sleep 3
	kill -INT $pid
	wait $pid || rc=$?
	expect "driver exits 130" test $rc = 130
	expect "summary says ABORTED" grep -q "^cold-plug *ABORTED" "$out/stdout"
	expect_no_qemu "$out/cold-plug"
}

t_killed() {
	local out=$base/killed pid
	mkdir -p "$out"
	echo "killed: SIGKILL to the driver once QEMU runs"
	"$py" "$here/driver.py" --img "$img" --out "$out" cold-plug \
		>"$out/stdout" 2>"$out/stderr" &
	pid=$!
	for _ in $(seq 1 300); do
		[ -s "$out/cold-plug/serial.log" ] && break
		sleep 0.1
	done
	sleep 3
	kill -KILL $pid
	wait $pid 2>/dev/null
	# The kernel delivers QEMU's parent-death signal; give it a moment.
	for _ in $(seq 1 100); do
		[ -z "$(qemu_left "$out/cold-plug")" ] && break
		sleep 0.1
	done
	expect_no_qemu "$out/cold-plug"
}

t_parallel() {
	local a=$base/parallel-a b=$base/parallel-b pa pb ra=0 rb=0
	mkdir -p "$a" "$b"
	echo "parallel: two cold-plug labs at once"
	"$here/lab.sh" run --out "$a" cold-plug >"$a/stdout" 2>"$a/stderr" &
	pa=$!
	"$here/lab.sh" run --out "$b" cold-plug >"$b/stdout" 2>"$b/stderr" &
	pb=$!
	wait $pa || ra=$?
	wait $pb || rb=$?
	expect "lab A passes" test $ra = 0
	expect "lab B passes" test $rb = 0
	expect "the two QEMUs were different processes" \
		test "$(cat "$a/cold-plug/qemu.pid")" != "$(cat "$b/cold-plug/qemu.pid")"
	expect_no_qemu "$a/cold-plug"
	expect_no_qemu "$b/cold-plug"
	grep -h "^cold-plug" "$a/stdout" "$b/stdout" | sed 's/^/  /'
}

for t in "${@:-timeout interrupt killed parallel}"; do
	for u in $t; do
		case $u in
		timeout | interrupt | killed | parallel) "t_$u" ;;
		*) echo "selftest-procs: unknown test $u"; exit 2 ;;
		esac
	done
done
finish "selftest-procs" $((SECONDS - t0))
