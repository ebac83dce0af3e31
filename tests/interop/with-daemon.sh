#!/bin/sh
# SPDX-License-Identifier: MIT
# usage: with-daemon.sh XPT_XENSTORED COMMAND [ARGS...]
# Starts a private xpt-xenstored (see daemon.sh), runs COMMAND with
# XENSTORED_PATH and XPT_RUNDIR set, stops the daemon, exits with COMMAND's
# status.
set -u
. "$(dirname "$0")/daemon.sh"
xpt_start_daemon "$1"
shift
"$@"
