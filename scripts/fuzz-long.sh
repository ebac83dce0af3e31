#!/bin/bash
# SPDX-License-Identifier: MIT
# `make fuzz-long`: every libFuzzer target for RUNS executions (10^7 by
# default), one after the other, each on a corpus kept in CORPUS_DIR/NAME
# between runs and seeded from the repository's tests/fuzz/corpus-NAME.
# New inputs stay there; with FUZZ_MERGE=1 those that add coverage are
# then merged into the repository's seeds (libFuzzer's -merge=1, so the
# committed corpus stays minimal).  A crash or a failed property is
# written to CORPUS_DIR/NAME-crashes/.  Prints each target's executions,
# time and final coverage, then a summary; exits 1 if any target failed.
# FUZZ_ARGS adds libFuzzer options to every run (-max_len=4096, say, to
# spend a campaign on short inputs where long ones are slow).
#
# usage: [FUZZ_MERGE=1] [FUZZ_ARGS=...] scripts/fuzz-long.sh FUZZ_BUILD CORPUS_DIR RUNS NAME...
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
	echo "== fuzz-$name: $runs executions, corpus $corpus${FUZZ_ARGS:+, $FUZZ_ARGS}"
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" -runs="$runs" -print_final_stats=1 ${FUZZ_ARGS:-} \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -1)
	execs=${execs:-?}
	cov=$(grep -oE '(DONE|pulse) +cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 |
		sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/cov \1 ft \2/')
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		tail -40 "$log"
		echo "fuzz-$name: FAILED after $execs executions, ${secs}s" \
			"(the input is in $crashes/, the log $log)"
		table+=("$(printf '%-16s %12s %8s %-22s %s' "fuzz-$name" \
			"$execs" "${secs}s" "${cov:-cov ?}" FAILED)")
	else
		echo "fuzz-$name: $execs executions, ${secs}s, ${cov:-cov ?}," \
			"corpus $(ls "$corpus" | wc -l) inputs"
		table+=("$(printf '%-16s %12s %8s %-22s %s' "fuzz-$name" \
			"$execs" "${secs}s" "${cov:-cov ?}" ok)")
		if [ "${FUZZ_MERGE:-0}" = 1 ]; then
			"$bin" -merge=1 "$(seeds "$name")" "$corpus" \
				>"$dir/$name-merge.log" 2>&1 ||
				echo "fuzz-$name: merging into $(seeds "$name")" \
					"failed (see $dir/$name-merge.log)"
		fi
	fi
done

echo "== fuzz-long summary (target, executions, time, coverage, result)"
printf '%s\n' "${table[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz-long: failed: ${failed[*]}"
	exit 1
fi
