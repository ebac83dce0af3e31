# SPDX-License-Identifier: MIT
# Sourced by the interop tests: start a private xpt-xenstored and stop it on
# exit.
#
#   . "$(dirname "$0")/daemon.sh"
#   xpt_start_daemon /path/to/xpt-xenstored [daemon args...]
#
# Afterwards XENSTORED_PATH (exported) is the daemon's socket and XPT_RUNDIR
# its run directory (DIR/domain/<id> appear there after XS_INTRODUCE).
# XPT_EXTERNAL is 1 when XPT_EXTERNAL_SOCKET=PATH named an already running
# daemon instead (a development hook, e.g. for Debian's C xenstored; tests
# skip what needs xpt-only features such as domain sockets).
# The daemon's output goes to a log that is printed if the test fails.

XPT_DAEMON_PID=
XPT_DAEMON_LOG=
XPT_EXTERNAL=0

xpt_stop_daemon() {
	rc=$?
	if [ -n "$XPT_DAEMON_PID" ]; then
		kill "$XPT_DAEMON_PID" 2>/dev/null || true
		wait "$XPT_DAEMON_PID" 2>/dev/null || true
		XPT_DAEMON_PID=
		if [ "$rc" -ne 0 ] && [ -s "$XPT_DAEMON_LOG" ]; then
			echo "--- daemon log ($XPT_DAEMON_LOG) ---" >&2
			tail -n 50 "$XPT_DAEMON_LOG" >&2
		fi
		rm -rf "$XPT_RUNDIR" "$XPT_DAEMON_LOG"
	fi
	exit "$rc"
}

# xpt_wait_for CMD...: run CMD until it succeeds, for at most 20 s.
xpt_wait_for() {
	_end=$(($(date +%s) + 20))
	until "$@"; do
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

xpt_start_daemon() {
	if [ -n "${XPT_EXTERNAL_SOCKET:-}" ]; then
		XENSTORED_PATH=$XPT_EXTERNAL_SOCKET
		XPT_RUNDIR=$(dirname "$XPT_EXTERNAL_SOCKET")
		XPT_EXTERNAL=1
		export XENSTORED_PATH XPT_RUNDIR XPT_EXTERNAL
		return 0
	fi
	_daemon=$1
	shift
	if [ ! -x "$_daemon" ]; then
		echo "no daemon executable: $_daemon" >&2
		exit 1
	fi
	XPT_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/xpt-interop.XXXXXX")
	XPT_DAEMON_LOG=$(mktemp "${TMPDIR:-/tmp}/xpt-interop-log.XXXXXX")
	trap xpt_stop_daemon EXIT
	trap 'exit 130' INT TERM
	"$_daemon" --rundir "$XPT_RUNDIR" "$@" </dev/null >"$XPT_DAEMON_LOG" 2>&1 &
	XPT_DAEMON_PID=$!
	_end=$(($(date +%s) + 20))
	while [ ! -s "$XPT_RUNDIR/xenstored.pid" ]; do
		if ! kill -0 "$XPT_DAEMON_PID" 2>/dev/null; then
			echo "daemon exited before writing its pid file" >&2
			cat "$XPT_DAEMON_LOG" >&2
			XPT_DAEMON_PID=
			exit 1
		fi
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "daemon wrote no pid file within 20 s" >&2
			exit 1
		fi
		sleep 0.01
	done
	XENSTORED_PATH=$XPT_RUNDIR/socket
	export XENSTORED_PATH XPT_RUNDIR XPT_EXTERNAL
}
