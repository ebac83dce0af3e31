#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14's scale figures on the modelled host, started with `xpt host
# start` as `make demo` does: a boot storm of PV guests with 2 devices each,
# attach/detach cycles on one guest with every daemon's RSS before and after,
# `xpt list` and a name lookup with 0 and with many domains, and xenstore
# operations (bench/xsbench ops) against the host's own store empty and with
# those domains' nodes in it.  Figures are printed, never asserted; the
# issue's targets are printed beside them.
#
# usage: bench/scale.sh BUILD_DIR        (make bench-scale: bench/scale.sh build)
# Environment knobs:
#   SCALE_GUESTS=N     boot-storm guests (default 200; capped by HYP_PCI_MAX)
#   SCALE_PARALLEL=N   creates in flight at once (default 20)
#   SCALE_CYCLES=N     attach/detach cycles (default 10000; >= 200)
#   SCALE_DOMAINS=N    domains for the listing and store figures (default 1000)
#   SCALE_ITEMS="..."  subset of: storm cycles list (store runs with list)
#   SCALE_PIN=0        do not pin the store figures to one CPU
#   SCALE_KEEP=1       keep the run directory (the daemons' logs) afterwards
#   SCALE_HOST_ARGS=-v more `xpt host start` arguments (-v: debug logs)
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
guests=${SCALE_GUESTS:-200}
par=${SCALE_PARALLEL:-20}
cycles=${SCALE_CYCLES:-10000}
ndom=${SCALE_DOMAINS:-1000}
items=${SCALE_ITEMS:-storm cycles list}
[ "$cycles" -ge 200 ] || { echo "scale: SCALE_CYCLES must be >= 200" >&2; exit 2; }

if ! ninja -C "$build" -t query bench/xsbench >/dev/null 2>&1; then
	ninja -C "$build" reconfigure >/dev/null ||
		{ echo "scale: 'ninja -C $build reconfigure' failed" >&2; exit 1; }
fi
ninja -C "$build" src/xpt/xpt src/xenstored/xpt-xenstored \
	src/hypervisor/xpt-hypervisor src/pciback/xpt-pciback \
	src/guest/xpt-guest bench/xsbench >/dev/null ||
	{ echo "scale: the build failed (ninja -C $build)" >&2; exit 1; }
xptbin=$build/src/xpt/xpt
xsbench=$build/bench/xsbench
xpt() { "$xptbin" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xpt-scale.XXXXXX")
export XPT_RUNDIR=$work/run
mkdir -p "$XPT_RUNDIR"
cleanup() {
	trap - EXIT INT TERM
	xpt host stop >/dev/null 2>&1
	[ -d "$work/twin" ] && XPT_RUNDIR=$work/twin xpt host stop >/dev/null 2>&1
	if [ "${SCALE_KEEP:-0}" = 1 ]; then
		echo "scale: kept $work (the host's logs are in $XPT_RUNDIR/log)" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers --------------------------------------------------------------------
# Microseconds since the epoch, from bash's own clock (no exec).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
# median and p95 (ms) of a file of microsecond figures, one a line
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int(NR * 0.95 + 0.999)]
		printf "%.1f %.1f\n", m / 1000, p / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# pid of one daemon of the host, from `xpt host status`
host_pid() { xpt host status | awk -v d="$1" '$1 == d { print $NF }'; }
guest_pid() { pgrep -f -- "xpt-guest --rundir $XPT_RUNDIR --domid $1\$" | head -1; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# Run a command N times; the median ms per call (a load spike on the
# shared machine moves a mean more than the number of domains does).
per_call() { # N CMD...
	local n=$1 i s e f=$work/per_call.us
	shift
	: >"$f"
	for ((i = 0; i < n; i++)); do
		s=$(now_us)
		"$@" >/dev/null || return 1
		e=$(now_us)
		echo $((e - s)) >>"$f"
	done
	sort -n "$f" | awk '{ v[NR] = $1 } END {
		printf "%.2f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000 }'
}

# Two commands N times each, interleaved (A B B A A B ...); the median ms
# per call of each: a load spike of the shared machine hits both alike.
per_pair() { # N "VAR=value CMD..." "VAR=value CMD..."
	local n=$1 i s e cmd f fa=$work/pair_a.us fb=$work/pair_b.us
	: >"$fa"
	: >"$fb"
	for ((i = 0; i < 2 * n; i++)); do
		# A B B A A B ...: neither always runs right after the other
		if [ $(((i + i / 2) % 2)) = 0 ]; then cmd=$2 f=$fa; else cmd=$3 f=$fb; fi
		s=$(now_us)
		env $cmd >/dev/null || return 1
		e=$(now_us)
		echo $((e - s)) >>"$f"
	done
	for f in "$fa" "$fb"; do
		sort -n "$f" | awk '{ v[NR] = $1 } END {
			printf "%.2f ", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000 }'
	done
	echo
}

# --- the host ---------------------------------------------------------------------
# HYP_PCI_MAX caps the devices of the modelled host; 2 per guest.  The
# devices share 64 INTx lines (GSI 16-79), as a real host's share its
# IO-APIC's: the model hands out one GSI a device otherwise, 240 in all.
pci_max=$(sed -n 's/^#define HYP_PCI_MAX \([0-9]*\)u.*/\1/p' "$top/src/hypervisor/hypervisor.h")
pci_max=${pci_max:-128}
want_guests=$guests
if [ $((guests * 2)) -gt "$pci_max" ]; then
	guests=$((pci_max / 2))
fi
ndev=$((guests * 2))
[ "$ndev" -ge 1 ] || ndev=1
hostfile=$work/host
for ((i = 0; i < ndev; i++)); do
	printf '%02x:%02x.0 8086:1533 class=020000 bar0=16K,mem64 msi=1 intx=a gsi=%d reset=flr\n' \
		$((0x10 + i / 32)) $((i % 32)) $((16 + i % 64))
done >"$hostfile"
bdf() { printf '%02x:%02x.0' $((0x10 + $1 / 32)) $(($1 % 32)); }
printf 'type = "pv"\nmemory = 64\nvcpus = 1\n' >"$work/guest.cfg"

# shellcheck disable=SC2086
if ! xpt host start --host "$hostfile" ${SCALE_HOST_ARGS:-} >"$work/start.log" 2>&1; then
	echo "scale: xpt host start failed:" >&2
	cat "$work/start.log" >&2
	exit 1
fi
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "# xpt scale figures (issue 14)  $(date -u +%FT%TZ)  xpt $rev"
echo "# $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), loadavg at start $(load)"
echo "# modelled host: $ndev PCI devices (HYP_PCI_MAX $pci_max), run directory $XPT_RUNDIR"

for ((i = 0; i < ndev; i++)); do
	xpt pci-assignable-add "$(bdf $i)" >/dev/null ||
		{ echo "scale: pci-assignable-add $(bdf $i) failed" >&2; exit 1; }
done

# --- 1. boot storm ----------------------------------------------------------------
storm() {
	echo
	echo "## 1. boot storm: $guests PV guests x 2 devices, $par creates at a time"
	if [ "$guests" -lt "$want_guests" ]; then
		echo "   LIMIT: $want_guests guests x 2 devices need $((want_guests * 2)) PCI devices;" \
			"the modelled hypervisor holds at most HYP_PCI_MAX = $pci_max" \
			"(src/hypervisor/hypervisor.h), so N = $guests"
	fi
	local i t0 t1 fails=0 times=$work/create.us
	: >"$times"
	one() {
		local s e
		s=$(now_us)
		xpt create "$work/guest.cfg" "name=\"s$1\"" \
			"pci=[\"$(bdf $((2 * $1)))\",\"$(bdf $((2 * $1 + 1)))\"]" \
			>"$work/create-$1.log" 2>&1 || { echo "FAIL $1" >>"$times"; return; }
		e=$(now_us)
		echo $((e - s)) >>"$times"
	}
	t0=$(now_us)
	for ((i = 0; i < guests; i++)); do
		one "$i" &
		while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
	done
	wait
	t1=$(now_us)
	fails=$(grep -c FAIL "$times")
	grep -v FAIL "$times" >"$times.ok"
	read -r med p95 < <(stats "$times.ok")
	local total
	total=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }')
	printf '   created %d/%d in %s s (target < 60 s for 200), %s creates/s; per create median %s ms, p95 %s ms\n' \
		$((guests - fails)) "$guests" "$total" \
		"$(awk -v n=$((guests - fails)) -v t="$total" 'BEGIN { printf "%.1f", n / t }')" "$med" "$p95"
	if [ "$fails" -gt 0 ]; then
		i=$(sed -n 's/^FAIL //p' "$times" | head -1)
		echo "   FAILED creates: $fails; s$i said: $(head -2 "$work/create-$i.log")"
	fi
	echo "   domains listed: $(($(xpt list | wc -l) - 2)) (besides Domain-0)"
	t0=$(now_us)
	for ((i = 0; i < guests; i++)); do
		xpt destroy "s$i" >/dev/null 2>&1 &
		while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
	done
	wait
	t1=$(now_us)
	printf '   destroyed all, %d at a time, in %s s; domains left: %d\n' "$par" \
		"$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }')" \
		$(($(xpt list | wc -l) - 2))
}

# --- 2. attach/detach cycles ------------------------------------------------------
cycles_item() {
	echo
	echo "## 2. attach/detach cycles: $cycles x (pci-attach + pci-detach of $(bdf 0)) on one PV guest"
	xpt create "$work/guest.cfg" 'name="cyc"' 'passthrough="enabled"' >/dev/null ||
		{ echo "   FAIL: create cyc"; return; }
	local id gpid d names=(xpt-xenstored xpt-hypervisor xpt-pciback xpt-guest) pids=() before=() warm=() i s e
	id=$(xpt list | awk '$1 == "cyc" { print $2 }')
	gpid=$(guest_pid "$id")
	for d in xpt-xenstored xpt-hypervisor xpt-pciback; do pids+=("$(host_pid $d)"); done
	pids+=("$gpid")
	for i in 0 1 2 3; do before+=("$(rss_kb "${pids[$i]}")"); done
	local us=$work/cycle.us t0
	: >"$us"
	t0=$(now_us)
	for ((i = 0; i < cycles; i++)); do
		s=$(now_us)
		if ! xpt pci-attach cyc "$(bdf 0)" >/dev/null 2>"$work/cyc.err" ||
		   ! xpt pci-detach cyc "$(bdf 0)" >/dev/null 2>>"$work/cyc.err"; then
			echo "   FAIL at cycle $i: $(head -2 "$work/cyc.err")"
			[ "${SCALE_KEEP:-0}" = 1 ] || echo "   (SCALE_KEEP=1 keeps the daemons' logs)"
			break
		fi
		e=$(now_us)
		echo $((e - s)) >>"$us"
		# RSS once warm too: the first cycles allocate what every later
		# one reuses (buffers, the guest's device slot)
		if [ "$i" = 99 ]; then
			for d in 0 1 2 3; do warm+=("$(rss_kb "${pids[$d]}")"); done
		fi
	done
	local n first last
	n=$(wc -l <"$us")
	[ "$n" -ge 100 ] || { echo "   fewer than 100 cycles: no figures"; xpt destroy cyc >/dev/null; return; }
	first=$(head -100 "$us" | awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }')
	last=$(tail -100 "$us" | awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }')
	local fmed lmed
	head -100 "$us" >"$us.first"
	tail -100 "$us" >"$us.last"
	read -r fmed _ < <(stats "$us.first")
	read -r lmed _ < <(stats "$us.last")
	printf '   %d cycles in %s s\n' "$n" "$(awk -v d=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", d / 1e6 }')"
	printf '   per cycle, first 100: mean %s ms, median %s ms; last 100: mean %s ms, median %s ms\n' \
		"$first" "$fmed" "$last" "$lmed"
	printf '   last/first: mean %s, median %s (target <= 1.1)\n' \
		"$(ratio "$last" "$first")" "$(ratio "$lmed" "$fmed")"
	printf '   %-15s %10s %10s %10s %8s %8s\n' "VmRSS of" "at start" "cycle 100" "at end" end/start end/c100
	for i in 0 1 2 3; do
		local a
		a=$(rss_kb "${pids[$i]}")
		printf '   %-15s %7s kB %7s kB %7s kB %8s %8s\n' "${names[$i]}" "${before[$i]}" \
			"${warm[$i]:--}" "$a" "$(ratio "$a" "${before[$i]}")" "$(ratio "$a" "${warm[$i]:-0}")"
	done
	echo "   (target: flat RSS in every daemon)"
	xpt destroy cyc >/dev/null
}

# --- 3. and 4. listing and the store with many domains ---------------------------
# The host's xenstored: mean us per read-1 write-1 dir-10.  Like run.sh's
# latency workloads, the store and xsbench are pinned to one CPU while they
# run (a wake-up across vCPUs costs tens of microseconds on a VM and varies
# from call to call: bench/README.md); SCALE_PIN=0 does not pin.
store_ops() {
	local xs cpu pin=()
	xs=$(host_pid xpt-xenstored)
	cpu=$(taskset -c -p $$ 2>/dev/null | sed 's/.*: //; s/[,-].*//')
	if [ "${SCALE_PIN:-1}" = 1 ] && [ -n "$cpu" ] && [ -n "$xs" ] &&
	   taskset -a -c -p "$cpu" "$xs" >/dev/null 2>&1; then
		pin=(taskset -c "$cpu")
	fi
	"${pin[@]}" "$xsbench" -s "xpt=$XPT_RUNDIR/socket" -r 7 -i 1000 -o read-1,write-1,dir-10 ops |
		awk '$1 == "RESULT" { printf "%s=%.2f ", $2, $4 / 1000 } END { print "" }'
	[ ${#pin[@]} -gt 0 ] && taskset -a -c -p "$(taskset -c -p $$ | sed 's/.*: //')" "$xs" >/dev/null 2>&1
	return 0
}
list_item() {
	echo
	echo "## 3. xpt list and a name lookup (xpt pci-list NAME; by id for comparison) with 1 and $ndom domains (median ms of 50 calls)"
	echo "## 4. the host's store: bench/xsbench ops (mean us per call, median of 7 rounds; store and client pinned to one CPU) empty and with $ndom domains' nodes"
	local reps=50 l0 n0 i0 s0 l1 n1 i1 s1 i t0 look_id
	xpt create "$work/guest.cfg" 'name="look"' >/dev/null ||
		{ echo "   FAIL: create look"; return; }
	look_id=$(xpt list | awk '$1 == "look" { print $2 }')
	l0=$(per_call $reps xpt list)
	n0=$(per_call $reps xpt pci-list look)
	i0=$(per_call $reps xpt pci-list "$look_id")
	s0=$(store_ops)
	t0=$(now_us)
	for ((i = 1; i < ndom; i++)); do
		xpt create "$work/guest.cfg" "name=\"d$i\"" >/dev/null 2>>"$work/d.err" &
		while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
	done
	wait
	local have
	have=$(($(xpt list | wc -l) - 2))
	[ -s "$work/d.err" ] && echo "   some creates failed, the first: $(head -1 "$work/d.err")"
	printf '   created %d device-less PV guests (%d at a time) in %s s; %d domains besides Domain-0\n' \
		$((ndom - 1)) "$par" "$(awk -v d=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", d / 1e6 }')" "$have"
	l1=$(per_call $reps xpt list)
	n1=$(per_call $reps xpt pci-list look)
	i1=$(per_call $reps xpt pci-list "$look_id")
	s1=$(store_ops)
	printf '   %-24s %10s %10s %7s\n' "operation" "1 domain" "$have dom." "ratio"
	printf '   %-24s %7s ms %7s ms %7s\n' "xpt list" "$l0" "$l1" "$(ratio "$l1" "$l0")"
	printf '   %-24s %10s %7s ms\n' "  per line (of $((have + 1)))" "" \
		"$(awk -v a="$l0" -v b="$l1" -v n="$have" 'BEGIN { if (n > 1) printf "%.3f", (b - a) / (n - 1) }')"
	printf '   %-24s %7s ms %7s ms %7s\n' "xpt pci-list look" "$n0" "$n1" "$(ratio "$n1" "$n0")"
	printf '   %-24s %7s ms %7s ms %7s\n' "xpt pci-list $look_id (by id)" "$i0" "$i1" "$(ratio "$i1" "$i0")"
	# The same, interleaved with a twin host that has the one domain
	# only (its own daemons, its own run directory): the figures before
	# and after the creates were taken minutes apart, and on a shared
	# machine the load moved them more than the domains did.
	local twin=$work/twin p
	mkdir -p "$twin"
	if XPT_RUNDIR=$twin xpt host start --host "$hostfile" >/dev/null 2>&1 &&
	   XPT_RUNDIR=$twin xpt create "$work/guest.cfg" 'name="look"' >/dev/null; then
		echo "   interleaved with a twin host (the same host file) holding 'look' alone:"
		for p in "list" "pci-list look" "pci-list-id"; do
			local a b cmd=$p tid
			if [ "$p" = pci-list-id ]; then
				tid=$(XPT_RUNDIR=$twin xpt list | awk '$1 == "look" { print $2 }')
				read -r a b < <(per_pair $reps "XPT_RUNDIR=$twin $xptbin pci-list $tid" \
					"XPT_RUNDIR=$XPT_RUNDIR $xptbin pci-list $look_id")
				cmd="pci-list ID (by id)"
			else
				read -r a b < <(per_pair $reps "XPT_RUNDIR=$twin $xptbin $p" \
					"XPT_RUNDIR=$XPT_RUNDIR $xptbin $p")
				cmd="xpt $p"
			fi
			printf '   %-24s %7s ms %7s ms %7s\n' "$cmd" "$a" "$b" "$(ratio "$b" "$a")"
			[ "$p" = list ] && printf '   %-24s %10s %7s ms\n' "  per line (of $((have + 1)))" "" \
				"$(awk -v a="$a" -v b="$b" -v n="$have" 'BEGIN { if (n > 1) printf "%.3f", (b - a) / (n - 1) }')"
		done
	else
		echo "   (the twin host did not start: no interleaved figures)"
	fi
	XPT_RUNDIR=$twin xpt host stop >/dev/null 2>&1
	# the scan every lookup made before /xpt/names (and still makes for
	# a name without an entry): needs Debian's xenstore-utils
	if command -v xenstore-rm >/dev/null &&
	   XENSTORED_PATH=$XPT_RUNDIR/socket xenstore-rm /xpt/names/look 2>/dev/null; then
		n1=$(per_call 10 xpt pci-list look)
		printf '   %-24s %10s %7s ms %7s\n' "  without its entry (scan)" "" \
			"$n1" "$(ratio "$n1" "$n0")"
	fi
	local op a b
	for op in read-1 write-1 dir-10; do
		a=$(tr ' ' '\n' <<<"$s0" | sed -n "s/^$op=//p")
		b=$(tr ' ' '\n' <<<"$s1" | sed -n "s/^$op=//p")
		printf '   %-24s %7s us %7s us %7s\n' "store $op" "${a:--}" "${b:--}" "$(ratio "${b:-0}" "${a:-0}")"
	done
	echo "   (target: per-operation cost with $ndom domains within 1.2x of the empty store)"
}

for it in $items; do
	case $it in
	storm) storm ;;
	cycles) cycles_item ;;
	list|store) list_item ;;
	*) echo "scale: unknown item $it" >&2 ;;
	esac
done
echo
echo "# loadavg at end $(load)"
