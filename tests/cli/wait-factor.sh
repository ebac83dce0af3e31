#!/bin/bash
# SPDX-License-Identifier: MIT
# xpt --wait-factor (xpt(1), WAITS): every bound on waiting for another
# party is multiplied by it.  A bad factor, from the option or from
# $XPT_WAIT_FACTOR, is a usage error that changes nothing.  A guest that
# rescans a hot-added device in 5 s (it has one from the start): at 0.1 the attach gives up after
# 1 s + 2 s (the device stays attached, as after any slow guest, and
# pci-detach takes it back); at 0.4 it waits 4 s, then says it waits 8 s
# more, and succeeds; at 0.6 it waits without a word.  A domain's lock
# held by another xpt: at 0.1 the wait is bounded by 6 s, not 60 s.
#
# usage: wait-factor.sh XPT HOSTFILE
set -u
XPT=$1
. "$(dirname "$0")/lib.sh"
host_start "$2"

# a guest kernel whose rescan after a hot-add takes 5 s
slow_guest 5000
printf 'name = "w1"\ntype = "pv"\nmemory = 128\npci = [ "05:00.0" ]\n' >"$XPT_RUNDIR/w1.cfg"
"$XPT" pci-assignable-add 04:00.0 || fail "pci-assignable-add 04:00.0"
"$XPT" pci-assignable-add 05:00.0 || fail "pci-assignable-add 05:00.0"

# bad factors: exit 2, the source named, nothing created
for bad in 0 0.05 101 abc 1e9; do
	"$XPT" -W "$bad" create "$XPT_RUNDIR/w1.cfg" >/dev/null 2>"$XPT_RUNDIR/err"
	rc=$?
	[ "$rc" = 2 ] || fail "-W '$bad': rc $rc, not 2"
	grep -qF -- "--wait-factor '$bad': not a number from 0.1 to 100" "$XPT_RUNDIR/err" ||
		fail "-W '$bad': stderr is '$(cat "$XPT_RUNDIR/err")'"
done
XPT_WAIT_FACTOR=abc "$XPT" create "$XPT_RUNDIR/w1.cfg" >/dev/null 2>"$XPT_RUNDIR/err"
rc=$?
[ "$rc" = 2 ] && grep -qF "XPT_WAIT_FACTOR 'abc': not a number from 0.1 to 100" "$XPT_RUNDIR/err" ||
	fail "XPT_WAIT_FACTOR=abc: rc $rc: '$(cat "$XPT_RUNDIR/err")'"
out=$("$XPT" list --json | python3 -c 'import json,sys; print(len([d for d in json.load(sys.stdin) if d["name"] == "w1"]))')
[ "$out" = 0 ] || fail "a bad factor left a domain w1"
# an empty factor is no factor: the default
"$XPT" -W "" create "$XPT_RUNDIR/w1.cfg" >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "-W '': $(cat "$XPT_RUNDIR/err")"
"$XPT" destroy w1 >/dev/null 2>&1 || fail "destroy after -W ''"

XPT_LIBEXEC=$XPT_RUNDIR/slow "$XPT" create "$XPT_RUNDIR/w1.cfg" >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "create w1: $(cat "$XPT_RUNDIR/err")"
id=$("$XPT" list --json | python3 -c 'import json,sys; print([d["domid"] for d in json.load(sys.stdin) if d["name"] == "w1"][0])')

# devs: the devices pci-list shows for w1, one line (05:00.0 from the
# start)
devs() {
	"$XPT" pci-list --json w1 | python3 -c 'import json,sys; print(" ".join(sorted(d["bdf"] for d in json.load(sys.stdin)["devices"])))'
}

# 0.1: 1 s, then 2 s more; the device stays attached
t0=$(date +%s%N)
"$XPT" -W 0.1 pci-attach w1 04:00.0 >/dev/null 2>"$XPT_RUNDIR/err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "-W 0.1 pci-attach to a 5 s guest: rc $rc: $(cat "$XPT_RUNDIR/err")"
grep -qF "the guest is slow to take the change" "$XPT_RUNDIR/err" &&
	grep -qF "waiting up to 2 s more" "$XPT_RUNDIR/err" ||
	fail "-W 0.1: no 2 s more: $(cat "$XPT_RUNDIR/err")"
grep -qF "domain $id: the guest has not finished taking 0000:04:00.0 in time" "$XPT_RUNDIR/err" ||
	fail "-W 0.1: not the slow guest's error: $(cat "$XPT_RUNDIR/err")"
[ "$ms" -lt 4900 ] || fail "-W 0.1 pci-attach took $ms ms: the 5 s rescan was waited for"
[ "$(devs)" = "0000:04:00.0 0000:05:00.0" ] || fail "-W 0.1: pci-list shows '$(devs)'"
"$XPT" pci-detach w1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach after -W 0.1: $(cat "$XPT_RUNDIR/err")"
[ "$(devs)" = "0000:05:00.0" ] || fail "after pci-detach: pci-list shows '$(devs)'"

# 0.4 from the environment: 4 s, then 8 s more, which is enough
XPT_WAIT_FACTOR=0.4 "$XPT" pci-attach w1 04:00.0 >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "XPT_WAIT_FACTOR=0.4 pci-attach: $(cat "$XPT_RUNDIR/err")"
grep -qF "waiting up to 8 s more" "$XPT_RUNDIR/err" ||
	fail "XPT_WAIT_FACTOR=0.4: no 8 s more: $(cat "$XPT_RUNDIR/err")"
[ "$(devs)" = "0000:04:00.0 0000:05:00.0" ] || fail "0.4: pci-list shows '$(devs)'"
"$XPT" pci-detach w1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach after 0.4: $(cat "$XPT_RUNDIR/err")"

# 0.6 as an option, over the environment's 0.1: 6 s, no word of more
XPT_WAIT_FACTOR=0.1 "$XPT" --wait-factor 0.6 pci-attach w1 04:00.0 >/dev/null 2>"$XPT_RUNDIR/err" ||
	fail "--wait-factor 0.6 pci-attach: $(cat "$XPT_RUNDIR/err")"
grep -q "more" "$XPT_RUNDIR/err" && fail "--wait-factor 0.6 waited longer: $(cat "$XPT_RUNDIR/err")"
[ "$(devs)" = "0000:04:00.0 0000:05:00.0" ] || fail "0.6: pci-list shows '$(devs)'"

# the domain's lock, held by flock(1) as another xpt would: at most 6 s
lock=$XPT_RUNDIR/xpt/lock/$id
flock "$lock" sleep 9 &
holder=$!
sleep 0.5
"$XPT" -W 0.1 pci-detach w1 04:00.0 >/dev/null 2>"$XPT_RUNDIR/err"
rc=$?
[ "$rc" = 1 ] || fail "-W 0.1 pci-detach behind a held lock: rc $rc"
grep -qF "waiting for the lock of domain $id, which another xpt holds (at most 6 s)" "$XPT_RUNDIR/err" ||
	fail "-W 0.1 lock: $(cat "$XPT_RUNDIR/err")"
[ "$(devs)" = "0000:04:00.0 0000:05:00.0" ] || fail "a detach that did not get the lock changed pci-list: '$(devs)'"
wait "$holder"
"$XPT" pci-detach w1 04:00.0 2>"$XPT_RUNDIR/err" || fail "pci-detach: $(cat "$XPT_RUNDIR/err")"
"$XPT" destroy w1 >/dev/null 2>&1 || fail "destroy w1"
finish
