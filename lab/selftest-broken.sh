#!/bin/bash
# SPDX-License-Identifier: MIT
# A broken expectation must fail loudly: runs cold-plug-broken (which passes
# only the e1000 to the guest but expects the edu as well) and checks that
# the lab exits non-zero, names the failing step and the expectation, writes
# them to result.json, and leaves no QEMU of its run behind.
#   lab/selftest-broken.sh [RUN-DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/.cache/lab/runs/selftest-broken-$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
out=$(cd "$out" && pwd)
. "$here/selftest-lib.sh"

t0=$SECONDS
rc=0
"$here/lab.sh" run --out "$out" cold-plug-broken >"$out/stdout" 2>"$out/stderr" || rc=$?
step="guest g1: sees e1000 + edu"

expect "lab exits non-zero" test "$rc" != 0
expect "stderr names the failing step" grep -qF "lab: FAIL cold-plug-broken at step '$step'" "$out/stderr"
expect "stderr says what was expected" grep -qF "expected: sees e1000 + edu" "$out/stderr"
expect "stderr shows what the guest saw (only the e1000)" grep -q "DOMU-PCI seq=[0-9]* n=1 " "$out/stderr"
expect "stderr shows console lines" grep -qF "relevant console lines:" "$out/stderr"
expect "summary table says FAIL" grep -q "^cold-plug-broken *FAIL" "$out/stdout"
expect "result.json records the step" "$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "FAIL" and r["failure"]["step"] == sys.argv[2], r.get("failure")
assert r["steps"][-1]["ok"] is False' "$out/cold-plug-broken/result.json" "$step"
expect_no_qemu "$out/cold-plug-broken"
finish "selftest-broken" $((SECONDS - t0))
