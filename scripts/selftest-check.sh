#!/bin/bash
# SPDX-License-Identifier: MIT
# Self-test of scripts/check.sh's summary, in a few seconds: a copy of it
# runs against a stub `meson test` (one OK, one FAIL, one SKIP per build),
# stub fuzz targets and a stub lab that skips.  Skips must be counted and
# named, a missing suite and a stale log must fail, and with XPT_CI=1 a
# skipped comparison must be a failure.  .ci/run runs it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/lab" "$tmp/bin" "$tmp/fz/tests/fuzz" \
	"$tmp/tests/fuzz/corpus" "$tmp/tests/fuzz/corpus-spec" "$tmp/tests/fuzz/corpus-hv"
cp "$top/scripts/check.sh" "$tmp/scripts/"

# meson test -C DIR ...: a build whose name says what its log holds.
cat >"$tmp/bin/meson" <<'EOF'
#!/bin/sh
d=$3
mkdir -p "$d/meson-logs"
case $d in
*norun) exit 1 ;;
*broken) echo 'not json' >"$d/meson-logs/testlog.json"; exit 1 ;;
esac
{
	for s in unit badinput diff e2e toolstack cli trace; do
		printf '{"name": "xpt:%s / %s-ok", "stdout": "", "result": "OK"}\n' "$s" "$s"
	done
	printf '%s\n' '{"name": "xpt:unit+hv / unit-hv-x", "stdout": "", "result": "FAIL"}'
	case $d in
	*nointerop) ;;
	*) printf '%s\n' '{"name": "xpt:interop / interop-pyxs", "stdout": "1..0 # SKIP python3-pyxs is not installed\n", "result": "SKIP"}' ;;
	esac
} >"$d/meson-logs/testlog.json"
EOF
printf '#!/bin/sh\necho "lab: SKIP: no QEMU here"\nexit 77\n' >"$tmp/lab/lab.sh"
# every target check.sh fuzzes, each a pass: the counts follow the list
fuzzers=$(sed -n 's/^fuzz_one \(fuzz-[a-z0-9-]*\) .*/\1/p' "$top/scripts/check.sh")
for t in $fuzzers; do
	printf '#!/bin/sh\necho DONE\n' >"$tmp/fz/tests/fuzz/$t"
done
# two builds of seven suites with one OK test each, and the fuzzers
ok=$((14 + $(echo $fuzzers | wc -w)))
chmod +x "$tmp/bin/meson" "$tmp/lab/lab.sh" "$tmp"/fz/tests/fuzz/*

failed=0
# expect NAME PATTERN: the last run's output has a line matching PATTERN.
expect() {
	if grep -qE "$2" "$tmp/out"; then
		echo "ok - $1"
	else
		echo "not ok - $1 (no line matching '$2'; the output:)"
		sed 's/^/#   /' "$tmp/out"
		failed=$((failed + 1))
	fi
}
run() { # BUILD ASAN [env...]
	local b=$1 a=$2
	shift 2
	rc=0
	(cd "$tmp" && env PATH="$tmp/bin:$PATH" "$@" scripts/check.sh "$b" "$a" fz 1) \
		>"$tmp/out" 2>&1 || rc=$?
}

run b1 b2 XPT_CI=
expect "the summary counts skips" "^check: $ok passed, 2 failed, 3 skipped\$"
expect "a skipped test is named with its reason" '^SKIPPED: b1: interop-pyxs: python3-pyxs is not installed$'
expect "a skipped lab is named with its reason" '^SKIPPED: lab: cold-plug: no QEMU here$'
expect "a failure is named" '^FAILED: b2: unit-hv-x \(FAIL\)$'
[ $rc != 0 ] && echo "ok - exit status $rc" || { echo "not ok - exit status 0"; failed=$((failed + 1)); }

run b1 b2 XPT_CI=1
expect "in CI a skipped interop test fails" '^FAILED: b1: interop-pyxs was skipped, but CI must run it: python3-pyxs'
expect "in CI a skipped lab fails" '^FAILED: lab: cold-plug was skipped, but CI must run it: no QEMU here$'
expect "in CI the summary" "^check: $ok passed, 5 failed, 0 skipped\$"

mkdir -p "$tmp/b3norun/meson-logs"
echo '{"name": "xpt:unit / stale", "stdout": "", "result": "OK"}' >"$tmp/b3norun/meson-logs/testlog.json"
run b1nointerop b3norun XPT_CI=
expect "a suite that did not run fails" "^FAILED: b1nointerop: no test of suite 'interop' ran$"
expect "a stale log is not counted" '^FAILED: b3norun: meson test did not run'

run b4broken b1 XPT_CI=
expect "an unreadable log fails" '^FAILED: b4broken: cannot read'

if [ $failed = 0 ]; then
	echo "selftest-check: PASS"
else
	echo "selftest-check: $failed FAILED"
	exit 1
fi
