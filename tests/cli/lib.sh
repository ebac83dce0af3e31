# SPDX-License-Identifier: MIT
# What the shell tests of the xpt command line share: a modelled host in
# a temporary run directory, started and stopped with xpt itself, and the
# first failure's report.  Source it with XPT set to the xpt binary.

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# host_start HOSTFILE: XPT_RUNDIR set to a new directory, the host up
host_start() {
	XPT_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/xpt-cli.XXXXXX")
	export XPT_RUNDIR
	trap host_stop EXIT
	if ! "$XPT" host start --host "$1" >"$XPT_RUNDIR/start.out" 2>&1; then
		cat "$XPT_RUNDIR/start.out"
		echo "FAIL: xpt host start"
		exit 1
	fi
}

host_stop() {
	[ -n "${XPT_RUNDIR:-}" ] || return 0
	"$XPT" host stop >/dev/null 2>&1
	rm -rf "$XPT_RUNDIR"
}

# slow_guest MS: $XPT_RUNDIR/slow holds an xpt-guest whose rescan after a
# hot-add takes MS milliseconds (create with XPT_LIBEXEC=$XPT_RUNDIR/slow)
slow_guest() {
	mkdir -p "$XPT_RUNDIR/slow"
	printf '#!/bin/sh\nexec %s "$@" --rescan-delay-ms %s\n' \
		"'$(dirname "$(realpath "$XPT")")/../guest/xpt-guest'" "$1" \
		>"$XPT_RUNDIR/slow/xpt-guest"
	chmod +x "$XPT_RUNDIR/slow/xpt-guest"
}

# finish: the exit status of the test
finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails failure(s)"
		exit 1
	fi
	echo "all passed"
	exit 0
}
