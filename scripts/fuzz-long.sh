#!/bin/bash
# SPDX-License-Identifier: MIT
# `make fuzz-long`: every libFuzzer target for RUNS executions (10^7 by
# default), one after the other, each on a corpus kept in CORPUS_DIR/NAME
# between runs and seeded from the repository's tests/fuzz/corpus-NAME.
# New inputs stay there (not in the repository); a crash or a failed
# property is written to CORPUS_DIR/NAME-crashes/.  Prints each target's
# executions and time, then a summary; exits 1 if any target failed.
#
# usage: scripts/fuzz-long.sh FUZZ_BUILD CORPUS_DIR RUNS NAME...
set -u

fuzz=$1 dir=$2 runs=$3
shift 3
# undefined behaviour ends a run like a crash does (the input is kept)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=() table=()

seeds() { # NAME: the repository's seed corpus
	if [ "$1" = wire ]; then
		echo tests/fuzz/corpus
	else
		echo "tests/fuzz/corpus-$1"
	fi
}

for name in "$@"; do
	bin=$fuzz/tests/fuzz/fuzz-$name
	corpus=$dir/$name
	crashes=$dir/$name-crashes
	log=$dir/$name.log
	if [ ! -x "$bin" ]; then
		echo "fuzz-long: $bin was not built" >&2
		failed+=("$name")
		continue
	fi
	mkdir -p "$corpus" "$crashes"
	cp -n "$(seeds "$name")"/* "$corpus/" 2>/dev/null
	echo "== fuzz-$name: $runs executions, corpus $corpus"
	start=$(date +%s)
	"$bin" -runs="$runs" -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -1)
	execs=${execs:-?}
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		tail -40 "$log"
		echo "fuzz-$name: FAILED after $execs executions, ${secs}s" \
			"(the input is in $crashes/, the log $log)"
		table+=("$(printf '%-16s %12s %8s %s' "fuzz-$name" "$execs" \
			"${secs}s" FAILED)")
	else
		echo "fuzz-$name: $execs executions, ${secs}s," \
			"corpus $(ls "$corpus" | wc -l) inputs"
		table+=("$(printf '%-16s %12s %8s %s' "fuzz-$name" "$execs" \
			"${secs}s" ok)")
	fi
done

echo "== fuzz-long summary (target, executions, time, result)"
printf '%s\n' "${table[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz-long: failed: ${failed[*]}"
	exit 1
fi
