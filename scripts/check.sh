#!/bin/bash
# SPDX-License-Identifier: MIT
# The body of `make check`: every test suite in the normal and the
# ASan+UBSan build, then the libFuzzer target for a bounded time.  Prints
# one line per step and a closing "check: N passed, N failed" line.
#
# usage: scripts/check.sh BUILD ASAN_BUILD FUZZ_BUILD FUZZ_SECONDS
set -u
build=$1 asan=$2 fuzz=$3 fuzz_seconds=$4
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0 failed=0 failures=()

count() { # builddir label: add meson's per-test results to the totals
	local log="$1/meson-logs/testlog.json" p f
	[ -f "$log" ] || return
	p=$(grep -c '"result": "OK"' "$log")
	f=$(grep -c -E '"result": "(FAIL|ERROR|TIMEOUT)"' "$log")
	passed=$((passed + p)) failed=$((failed + f))
	while read -r name; do failures+=("$2: $name"); done < <(
		/usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["result"] in ("FAIL","ERROR","TIMEOUT"): print(r["name"])' "$log")
}

for b in "$build" "$asan"; do
	echo "== tests in $b"
	meson test -C "$b" --print-errorlogs --num-processes 2 ||
		true
	count "$b" "$b"
done

# Each libFuzzer target with its seed corpus, for a bounded time.
fuzz_one() { # target corpus seconds
	local bin="$fuzz/tests/fuzz/$1" work log
	echo "== fuzzing $1 for ${3}s"
	if [ ! -x "$bin" ]; then
		failed=$((failed + 1))
		failures+=("$1 was not built")
		return
	fi
	work=$(mktemp -d)
	log=$(mktemp)
	cp "$2"/* "$work/" 2>/dev/null
	if "$bin" -max_total_time="$3" -print_final_stats=1 "$work" >"$log" 2>&1; then
		passed=$((passed + 1))
		grep -E 'stat::number_of_executed_units|DONE' "$log" | tail -2
	else
		failed=$((failed + 1))
		failures+=("$1 (see the crash above)")
		tail -40 "$log"
	fi
	rm -rf "$work" "$log"
}
fuzz_one fuzz-wire tests/fuzz/corpus "$fuzz_seconds"
fuzz_one fuzz-spec tests/fuzz/corpus-spec $((fuzz_seconds / 3 + 1))
fuzz_one fuzz-hv tests/fuzz/corpus-hv $((fuzz_seconds / 3 + 1))

echo "== the real-Xen lab's quick scenario"
if [ -x lab/lab.sh ]; then
	lab/lab.sh check
	case $? in
	0)
		passed=$((passed + 1))
		# A broken expectation must fail loudly (and leave no QEMU).
		if lab/selftest-broken.sh >/tmp/xpt-lab-selftest.$$ 2>&1; then
			passed=$((passed + 1))
			echo "lab: selftest-broken PASS"
		else
			failed=$((failed + 1))
			failures+=("lab: selftest-broken")
			tail -20 /tmp/xpt-lab-selftest.$$
		fi
		rm -f /tmp/xpt-lab-selftest.$$
		;;
	77) ;;	# it printed its SKIP line and the reason
	*) failed=$((failed + 1)); failures+=("lab: cold-plug") ;;
	esac
fi

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
