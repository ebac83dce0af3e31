#!/bin/bash
# SPDX-License-Identifier: MIT
# Progress of long waits (xpt(1), PROGRESS): a wait that lasts says on
# stderr what it waits for and its bound after a second, then every five
# seconds how long so far; a quick operation says nothing new; -q says
# nothing; on a terminal the line is rewritten in place.  The long waits
# here are the lock of a domain, held by flock(1) as another xpt would, a
# device model slow to greet on QMP, and a daemon that does not stop on
# SIGTERM; and a guest slow to take a hot-added device, with -q.
#
# usage: progress.sh XPT HOSTFILE FAKE-DM
set -u
XPT=$1
FAKE_DM=$(realpath "$3")
. "$(dirname "$0")/lib.sh"
host_start "$2"
cfg=$XPT_RUNDIR/p.cfg
printf 'name = "p1"\ntype = "pv"\nmemory = 128\npassthrough = "enabled"\n' >"$cfg"
"$XPT" pci-assignable-add 04:00.0 || fail "pci-assignable-add"
out=$("$XPT" create "$cfg") || fail "create: $out"
id=$("$XPT" list --json | python3 -c 'import json,sys; print([d["domid"] for d in json.load(sys.stdin) if d["name"] == "p1"][0])')
lock=$XPT_RUNDIR/xpt/lock/$id

# hold SECONDS: the domain's lock held by flock(1), as another xpt would
# hold it, for SECONDS from now (returns once it is held)
hold() {
	rm -f "$XPT_RUNDIR/fifo"
	mkfifo "$XPT_RUNDIR/fifo"
	flock "$lock" sh -c "echo held; exec sleep $1" >"$XPT_RUNDIR/fifo" &
	holder=$!
	read -r _ <"$XPT_RUNDIR/fifo"
}

# quick: nothing on stderr
if ! "$XPT" pci-attach p1 04:00.0 2>"$XPT_RUNDIR/err"; then
	fail "pci-attach: $(cat "$XPT_RUNDIR/err")"
fi
[ -s "$XPT_RUNDIR/err" ] && fail "a quick attach said: $(cat "$XPT_RUNDIR/err")"

# held for 2.5 s: one line naming the lock, the domain and the bound
hold 2.5
"$XPT" pci-detach p1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach: $(cat "$XPT_RUNDIR/err")"
wait "$holder"
want="xpt: waiting for the lock of domain $id, which another xpt holds (at most 60 s)"
[ "$(cat "$XPT_RUNDIR/err")" = "$want" ] ||
	fail "held 2.5 s: stderr is '$(cat "$XPT_RUNDIR/err")', not '$want'"

# held 6 s: the first line, then one saying 5 s so far
"$XPT" pci-attach p1 04:00.0 || fail "pci-attach again"
hold 6
"$XPT" pci-detach p1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach: $(cat "$XPT_RUNDIR/err")"
wait "$holder"
want2="xpt: still waiting for the lock of domain $id, which another xpt holds: 5 s so far (at most 60 s)"
[ "$(cat "$XPT_RUNDIR/err")" = "$want"$'\n'"$want2" ] ||
	fail "held 6 s: stderr is '$(cat "$XPT_RUNDIR/err")'"

# -q: nothing
"$XPT" pci-attach p1 04:00.0 || fail "pci-attach again"
hold 2
"$XPT" -q pci-detach p1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach -q"
wait "$holder"
[ -s "$XPT_RUNDIR/err" ] && fail "-q said: $(cat "$XPT_RUNDIR/err")"

# a terminal: the line ends without a newline and is erased (\r, ESC [K)
# when the wait is over; script(1) gives xpt a terminal
if command -v script >/dev/null; then
	"$XPT" pci-attach p1 04:00.0 || fail "pci-attach again"
	hold 2
	TERM=xterm script -qec "'$XPT' pci-detach p1 04:00.0" /dev/null >"$XPT_RUNDIR/tty" </dev/null
	wait "$holder"
	grep -q "waiting for the lock of domain $id, which another xpt holds (at most 60 s)"$'\r\033\\[K' "$XPT_RUNDIR/tty" ||
		fail "on a terminal: $(od -c "$XPT_RUNDIR/tty" | head -20)"
	# TERM=dumb: plain lines, no escape
	"$XPT" pci-attach p1 04:00.0 || fail "pci-attach again"
	hold 2
	TERM=dumb script -qec "'$XPT' pci-detach p1 04:00.0" /dev/null >"$XPT_RUNDIR/tty" </dev/null
	wait "$holder"
	grep -q $'\033' "$XPT_RUNDIR/tty" && fail "TERM=dumb: $(od -c "$XPT_RUNDIR/tty" | head -20)"
	grep -q "^xpt: waiting for the lock of domain $id, which another xpt holds (at most 60 s)"$'\r*$' "$XPT_RUNDIR/tty" ||
		fail "TERM=dumb: no plain line: $(od -c "$XPT_RUNDIR/tty" | head -20)"
fi

"$XPT" destroy p1 >/dev/null 2>&1 || fail "destroy"

# a device model that greets on QMP 1.5 s after it was connected to
# (tests/unit/fake-dm.py slow-greet): the wait names it, then it works
mkdir -p "$XPT_RUNDIR/libexec"
ln -s "$FAKE_DM" "$XPT_RUNDIR/libexec/xpt-dm"
printf 'name = "h1"\ntype = "hvm"\nmemory = 128\n' >"$XPT_RUNDIR/h1.cfg"
XPT_LIBEXEC=$XPT_RUNDIR/libexec XPT_FAKE_DM=slow-greet \
	"$XPT" create -p "$XPT_RUNDIR/h1.cfg" >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "create h1: $(cat "$XPT_RUNDIR/err")"
grep -qE "^xpt: waiting for domain [0-9]+'s device model \(pid [0-9]+\) to greet on QMP \(at most 10 s\)$" "$XPT_RUNDIR/err" ||
	fail "a device model slow to greet: stderr is '$(cat "$XPT_RUNDIR/err")'"
XPT_LIBEXEC=$XPT_RUNDIR/libexec "$XPT" destroy h1 >/dev/null 2>&1 || fail "destroy h1"

# a guest slow to take a hot-added device (its rescan takes 12 s, past the
# 10 s wait for it): the attach waits longer, and with -q says nothing of
# it.  Before, libxpt wrote "the guest is slow to take the change" to
# stderr itself, past -q.
slow_guest 12000
printf 'name = "s1"\ntype = "pv"\nmemory = 128\npci = [ "04:00.0" ]\n' >"$XPT_RUNDIR/s1.cfg"
"$XPT" pci-assignable-add 05:00.0 || fail "pci-assignable-add 05:00.0"
XPT_LIBEXEC=$XPT_RUNDIR/slow "$XPT" create "$XPT_RUNDIR/s1.cfg" >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "create s1: $(cat "$XPT_RUNDIR/err")"
"$XPT" -q pci-attach s1 05:00.0 2>"$XPT_RUNDIR/err" ||
	fail "-q pci-attach to a slow guest: $(cat "$XPT_RUNDIR/err")"
[ -s "$XPT_RUNDIR/err" ] && fail "-q pci-attach to a slow guest said: $(cat "$XPT_RUNDIR/err")"
"$XPT" destroy s1 >/dev/null 2>&1 || fail "destroy s1"

# a daemon that does not stop on SIGTERM (stopped with SIGSTOP): host stop
# waits 5 s for it, saying so, then kills it
pid=$(cat "$XPT_RUNDIR/pciback/pciback.pid")
kill -STOP "$pid"
"$XPT" host stop 2>"$XPT_RUNDIR/err" >/dev/null
grep -qxF "xpt: waiting for xpt-pciback (pid $pid) to stop (at most 7 s)" "$XPT_RUNDIR/err" &&
grep -qxF "xpt: still waiting for xpt-pciback (pid $pid) to stop: 5 s so far (at most 7 s)" "$XPT_RUNDIR/err" ||
	fail "host stop of a daemon that ignores SIGTERM: $(cat "$XPT_RUNDIR/err")"
grep -q "xpt-pciback (pid $pid) did not stop on SIGTERM within 5 s: killed" "$XPT_RUNDIR/err" ||
	fail "host stop did not say it killed xpt-pciback: $(cat "$XPT_RUNDIR/err")"
finish
