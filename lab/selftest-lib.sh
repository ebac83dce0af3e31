# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared checks for the lab's self-tests (sourced).
py=/usr/bin/python3
failed=0

# expect WHAT CMD...: run CMD, report WHAT as ok or FAIL.
expect() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		failed=$((failed + 1))
	fi
}

# qemu_left DIR: prints the pids of processes whose command line names DIR
# (the run's QEMU has DIR/vblk.img on its command line).
qemu_left() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF "$1/vblk.img" &&
			echo "${p#/proc/}"
	done
	return 0
}

# not_running PID: no such process, or only a zombie (its parent died
# before reaping it; a zombie holds no memory, CPU or files).
not_running() {
	[ -e "/proc/$1" ] || return 0
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# expect_no_qemu DIR: the QEMU started for scenario directory DIR is gone.
expect_no_qemu() {
	local dir=$1 pid=""
	[ -f "$dir/qemu.pid" ] && pid=$(cat "$dir/qemu.pid")
	expect "QEMU of $(basename "$dir") was started (qemu.pid)" test -n "$pid"
	expect "QEMU pid ${pid:-?} is gone" not_running "${pid:-0}"
	expect "no process left naming $dir" test -z "$(qemu_left "$dir")"
}

finish() {
	if [ $failed = 0 ]; then
		echo "$1: PASS (${2}s)"
		exit 0
	fi
	echo "$1: FAIL ($failed checks failed; ${2}s)"
	exit 1
}
