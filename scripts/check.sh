#!/bin/bash
# SPDX-License-Identifier: MIT
# The body of `make check`: every test suite in the normal and the
# ASan+UBSan build, the threaded tests (suite 'tsan') under
# ThreadSanitizer, the libFuzzer targets for a bounded time, then the
# real-Xen lab's quick scenario.  Prints one line per step, the skipped and
# failed tests by name, and a closing "check: N passed, N failed, N skipped".
#
# A test that exits 77 is skipped: something it compares against is missing
# (Debian's Xen userspace could not be fetched, no QEMU, no cmocka).  With
# XPT_CI=1 (.ci/run) everything is installed, so a skip of a suite listed in
# ci_required is a failure: those are the comparisons with other people's
# code, the unit tests, and the trace page in a real browser (Chromium).
#
# usage: scripts/check.sh BUILD ASAN_BUILD FUZZ_BUILD FUZZ_SECONDS [TSAN_BUILD]
set -u
build=$1 asan=$2 fuzz=$3 fuzz_seconds=$4 tsan=${5:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
ci_required="unit interop diff lab trace"
# Every build runs a test of each of these suites (meson.build has no
# optional suites; 'unit' without cmocka is one skipped test).
suites="unit interop badinput diff e2e toolstack cli trace"
passed=0 failed=0 skipped=0 failures=() skips=()

fail() { # what
	failed=$((failed + 1))
	failures+=("$1")
}

skip() { # suite what reason
	if [ -n "${XPT_CI:-}" ] && [[ " $ci_required " == *" $1 "* ]]; then
		fail "$2 was skipped, but CI must run it: $3"
	else
		skipped=$((skipped + 1))
		skips+=("$2: $3")
	fi
}

count() { # builddir [suites]: add meson's per-test results to the totals
	local log="$1/meson-logs/testlog.json" lines result suite name reason seen=" "
	if [ ! -f "$log" ]; then
		fail "$1: meson test did not run (see above)"
		return
	fi
	# One line per test: RESULT, SUITE, NAME, REASON (a skip's own words).
	if ! lines=$(/usr/bin/python3 -c 'import json, re, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    # "xpt:unit+hv / unit-hv-domain": project, suites, test
    suites, _, name = r["name"].partition(" / ")
    suite = suites.split(":")[-1].split("+")[0]
    why = [s for s in (r.get("stdout") or "").splitlines() if "SKIP" in s]
    why = re.sub(r"^.*SKIP:?\s*", "", why[0]) if why else "exit status 77"
    print(r["result"], suite, name, why, sep="\t")' "$log"); then
		fail "$1: cannot read $log"
		return
	fi
	while IFS=$'\t' read -r result suite name reason; do
		[ -n "$result" ] || continue
		seen="$seen$suite "
		case $result in
		OK|EXPECTEDFAIL) passed=$((passed + 1)) ;;
		SKIP) skip "$suite" "$1: $name" "$reason" ;;
		*) fail "$1: $name ($result)" ;;
		esac
	done <<<"$lines"
	for suite in ${2:-$suites}; do
		[[ $seen == *" $suite "* ]] || fail "$1: no test of suite '$suite' ran"
	done
}

for b in "$build" "$asan"; do
	echo "== tests in $b"
	# A stale log from an earlier run must not be counted.
	rm -f "$b/meson-logs/testlog.json"
	meson test -C "$b" --print-errorlogs --num-processes 2 ||
		true
	count "$b"
done

# The threaded tests under ThreadSanitizer: any report fails its test
# (TSan's exit status 66), and is listed from the log as well.
if [ -n "$tsan" ]; then
	echo "== tests of suite 'tsan' in $tsan (ThreadSanitizer)"
	rm -f "$tsan/meson-logs/testlog.json"
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
		meson test -C "$tsan" --no-rebuild --suite tsan \
		--print-errorlogs --num-processes 2 || true
	count "$tsan" unit
	if [ -f "$tsan/meson-logs/testlog.json" ] &&
	   grep -q 'WARNING: ThreadSanitizer' "$tsan/meson-logs/testlog.json"; then
		fail "$tsan: ThreadSanitizer reported (see $tsan/meson-logs/testlog.txt)"
	fi
fi

# Each libFuzzer target with its seed corpus, for a bounded time.
# Undefined behaviour fails the target like a crash (UBSan otherwise only
# prints it and carries on).
fuzz_one() { # target corpus seconds
	local bin="$fuzz/tests/fuzz/$1" work log
	echo "== fuzzing $1 for ${3}s"
	if [ ! -x "$bin" ]; then
		fail "$1 was not built"
		return
	fi
	work=$(mktemp -d)
	log=$(mktemp)
	cp "$2"/* "$work/" 2>/dev/null
	if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	   "$bin" -max_total_time="$3" -print_final_stats=1 "$work" >"$log" 2>&1; then
		passed=$((passed + 1))
		grep -E 'stat::number_of_executed_units|DONE' "$log" | tail -2
	else
		fail "$1 (see the crash above)"
		tail -40 "$log"
	fi
	rm -rf "$work" "$log"
}
fuzz_one fuzz-wire tests/fuzz/corpus "$fuzz_seconds"
fuzz_one fuzz-spec tests/fuzz/corpus-spec $((fuzz_seconds / 3 + 1))
fuzz_one fuzz-hv tests/fuzz/corpus-hv $((fuzz_seconds / 3 + 1))
fuzz_one fuzz-qmp tests/fuzz/corpus-qmp $((fuzz_seconds / 3 + 1))
# stub domains' small line parsers: their coverage is reached in seconds
fuzz_one fuzz-stubdom tests/fuzz/corpus-stubdom $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-query tests/fuzz/corpus-query $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-dmfront tests/fuzz/corpus-dmfront $((fuzz_seconds / 6 + 1))
# pci_op, the domain configuration, the QMP client, pciback's control
# socket: a sixth each keeps the four under a minute with the default 60 s
fuzz_one fuzz-pciop tests/fuzz/corpus-pciop $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-domcfg tests/fuzz/corpus-domcfg $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-qmpclient tests/fuzz/corpus-qmpclient $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-pbctl tests/fuzz/corpus-pbctl $((fuzz_seconds / 6 + 1))
# what guests and driver domains write in xenstore: pciback's xenbus state
# machine against a hostile frontend, libxpt's readers of such nodes
fuzz_one fuzz-xenbus tests/fuzz/corpus-xenbus $((fuzz_seconds / 6 + 1))
fuzz_one fuzz-nodes tests/fuzz/corpus-nodes $((fuzz_seconds / 6 + 1))
# xpt doctor's parsers of Xen's console ring and a capability list
fuzz_one fuzz-doctor tests/fuzz/corpus-doctor $((fuzz_seconds / 6 + 1))
# a store's log read by xpt trace (lines carry what guests wrote)
fuzz_one fuzz-tracelog tests/fuzz/corpus-tracelog $((fuzz_seconds / 6 + 1))
# the guest's status reply read by xpt guest-status --json
fuzz_one fuzz-gstatus tests/fuzz/corpus-gstatus $((fuzz_seconds / 6 + 1))

echo "== the real-Xen lab's quick scenario"
rc=0
out=$(LAB_XPT=${LAB_XPT:-$top/$build/src/xpt/xpt} lab/lab.sh check) || rc=$?
echo "$out"
case $rc in
0)
	passed=$((passed + 1))
	# A broken expectation must fail loudly (and leave no QEMU).
	if lab/selftest-broken.sh >/tmp/xpt-lab-selftest.$$ 2>&1; then
		passed=$((passed + 1))
		echo "lab: selftest-broken PASS"
	else
		fail "lab: selftest-broken"
		tail -20 /tmp/xpt-lab-selftest.$$
	fi
	rm -f /tmp/xpt-lab-selftest.$$
	;;
77) skip lab "lab: cold-plug" "$(echo "$out" | sed -n 's/.*SKIP:* *//p' | tail -1)" ;;
*) fail "lab: cold-plug" ;;
esac

for s in "${skips[@]}"; do echo "SKIPPED: $s"; done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
