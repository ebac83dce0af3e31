#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark xpt-xenstored against Debian's C xenstored 4.17 and the floor (a
# peer that answers at once without a store), all three started here, with
# bench/xsbench alternating rounds between them; prints one table.  Then
# bench/vpci: the hypervisor model's vPCI with 1, 2, 4 and 8 vCPUs; and
# bench/pbwatch: xpt-pciback's cost per watch event for a guest with 8
# devices; and bench/qmpclient: libxpt's QMP client reading a reply after a
# megabyte of empty lines, against the same megabyte in one line.
#
# usage: bench/run.sh BUILD_DIR          (make bench: bench/run.sh build)
# Environment knobs:
#   BENCH_QUICK=1          a short run (~15 s): fewer rounds, iterations, seconds
#   BENCH_WORKLOADS="..."  subset of: ops mixed conflict fanout idle
#   BENCH_ROUNDS=N         rounds per figure for ops/fanout/idle (default 7)
#   BENCH_TP_ROUNDS=N      rounds for mixed/conflict (default 5)
#   BENCH_ITERS=N          calls per round for ops/idle (default 2000)
#   BENCH_SECONDS=S        length of a mixed/conflict round (default 2)
#   BENCH_CLIENTS=N        mixed-workload clients (default 64)
#   BENCH_TX_CLIENTS=N,..  conflict-workload clients (default 8)
#   BENCH_WATCHERS=N,..    fan-out watchers (default 1,32)
#   BENCH_IDLE=N,..        idle connections (default 1,100,1000)
#   BENCH_PIN=0            do not pin the latency workloads (ops, fanout, idle)
#                          to one CPU; see bench/README.md
#   BENCH_RESULTS=FILE     also keep the raw RESULT lines in FILE
#   BENCH_XPT_ARGS="..."   extra xpt-xenstored arguments
#   BENCH_TIMEOUT=S        give up on one workload after S seconds (default 300)
#   BENCH_VPCI_SECONDS=S   length of one bench/vpci figure (default 0.5; 0 skips it)
#   BENCH_PBWATCH_ROUNDS=N rounds of bench/pbwatch (default 7; 0 skips it)
#   BENCH_QMP_ROUNDS=N     rounds of bench/qmpclient (default 15; 0 skips it)
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	d_rounds=3 d_tp_rounds=3 d_iters=400 d_seconds=0.5
else
	d_rounds=7 d_tp_rounds=5 d_iters=2000 d_seconds=2
fi
rounds=${BENCH_ROUNDS:-$d_rounds}
tp_rounds=${BENCH_TP_ROUNDS:-$d_tp_rounds}
iters=${BENCH_ITERS:-$d_iters}
seconds=${BENCH_SECONDS:-$d_seconds}
clients=${BENCH_CLIENTS:-64}
tx_clients=${BENCH_TX_CLIENTS:-8}
watchers=${BENCH_WATCHERS:-1,32}
idle=${BENCH_IDLE:-1,100,1000}
workloads=${BENCH_WORKLOADS:-ops mixed conflict fanout idle}
pin=${BENCH_PIN:-1}

# Build only through ninja: the benchmark programs are required, the daemon
# is measured if it builds.  A build directory configured before
# bench/meson.build existed lacks their targets: meson's own `reconfigure`
# target adds them.
if ! ninja -C "$build" -t query bench/qmpclient >/dev/null 2>&1; then
	ninja -C "$build" reconfigure >/dev/null ||
		{ echo "bench: 'ninja -C $build reconfigure' failed" >&2; exit 1; }
fi
progs="bench/floor bench/xsbench bench/vpci bench/pbwatch bench/qmpclient"
# shellcheck disable=SC2086
if ! ninja -C "$build" $progs >/dev/null; then
	echo "bench: building $progs failed:" >&2
	# shellcheck disable=SC2086
	ninja -C "$build" $progs >&2
	exit 1
fi
xsbench=$build/bench/xsbench
floor=$build/bench/floor
xpt=$build/src/xenstored/xpt-xenstored
if ! ninja -C "$build" src/xenstored/xpt-xenstored >/dev/null 2>&1; then
	echo "bench: xpt-xenstored does not build; measuring without it" >&2
	xpt=""
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xpt-bench.XXXXXX")
results=$work/results
: >"$results"
floor_pid="" xpt_pid="" c_pid=""
c_start=$top/tests/peers/cxenstored/start.sh
c_stop=$top/tests/peers/cxenstored/stop.sh

cleanup() {
	trap - EXIT INT TERM
	[ -n "$floor_pid" ] && kill -TERM "$floor_pid" 2>/dev/null
	[ -n "$xpt_pid" ] && kill -TERM "$xpt_pid" 2>/dev/null
	[ -n "$c_pid" ] && "$c_stop" "$c_pid" >/dev/null 2>&1
	[ -n "$floor_pid" ] && wait "$floor_pid" 2>/dev/null
	[ -n "$xpt_pid" ] && wait "$xpt_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the three peers ---------------------------------------------------
# The idle workload holds 1000+ connections to each peer: raise the fd limit
# the peers and xsbench inherit.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ] && ulimit -Sn "$hard"
servers=()
"$floor" --rundir "$work/floor" >"$work/floor.log" 2>&1 &
floor_pid=$!
servers+=(-F "floor=$work/floor/socket")

if [ -n "$xpt" ]; then
	# shellcheck disable=SC2086
	"$xpt" --rundir "$work/xpt" ${BENCH_XPT_ARGS:-} >"$work/xpt.log" 2>&1 &
	xpt_pid=$!
	servers+=(-s "xpt=$work/xpt/socket")
fi

if [ -x "$c_start" ]; then
	if c_pid=$("$c_start" "$work/c"); then
		servers+=(-s "c=$work/c/socket")
	else
		echo "bench: tests/peers/cxenstored/start.sh failed; measuring without C xenstored" >&2
		c_pid=""
	fi
else
	echo "bench: the C xenstored peer (tests/peers/cxenstored/start.sh) is missing;" \
		"measuring without C xenstored" >&2
fi

if ! "$xsbench" "${servers[@]}" -t 20 wait; then
	for s in floor xpt; do
		[ -f "$work/$s.log" ] && sed "s/^/bench: $s log: /" "$work/$s.log" >&2
	done
	exit 1
fi

# --- CPU placement ------------------------------------------------------------
# Wake-ups across vCPUs cost tens of microseconds on virtual machines and vary
# from call to call; with everything on one CPU the latency figures show what
# the daemons themselves cost.  Throughput workloads always use every CPU.
cpus=$(taskset -c -p $$ 2>/dev/null | sed 's/.*: //')
pin_cpu=${cpus%%[,-]*}
have_taskset=0
command -v taskset >/dev/null && [ -n "$cpus" ] && have_taskset=1
place() { # pinned|spread
	[ $have_taskset = 1 ] || return 0
	local mask=$cpus p
	[ "$1" = pinned ] && mask=$pin_cpu
	for p in $floor_pid $xpt_pid $c_pid; do
		taskset -a -c -p "$mask" "$p" >/dev/null 2>&1
	done
}
run_xsbench() { # pinned|spread ARGS...
	local how=$1
	shift
	place "$how"
	if [ "$how" = pinned ] && [ $have_taskset = 1 ]; then
		timeout "${BENCH_TIMEOUT:-300}" taskset -c "$pin_cpu" "$xsbench" "${servers[@]}" "$@"
	else
		timeout "${BENCH_TIMEOUT:-300}" "$xsbench" "${servers[@]}" "$@"
	fi
}
lat=spread
[ "$pin" = 1 ] && [ $have_taskset = 1 ] && lat=pinned

# --- header -------------------------------------------------------------------
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "# xpt xenstore benchmark  $(date -u +%FT%TZ)  xpt $rev"
echo "# $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), loadavg at start $(cut -d' ' -f1-3 /proc/loadavg)"
c_desc="(missing)"
[ -n "$c_pid" ] && c_desc="4.17 (tests/peers/cxenstored)"
echo "# peers: floor (bench/floor), xpt ${xpt:-(not built)}, C xenstored $c_desc"
where="spread over CPUs $cpus"
[ $lat = pinned ] && where="all pinned to CPU $pin_cpu"
echo "# latency workloads (ops, fanout, idle): peers and client $where; mixed/conflict: spread over CPUs $cpus"
echo "# rounds $rounds (mixed/conflict $tp_rounds), $iters calls per round, ${seconds}s per throughput round; medians over rounds"

# --- run ----------------------------------------------------------------------
for w in $workloads; do
	case $w in
	ops) run_xsbench "$lat" -r "$rounds" -i "$iters" ops ;;
	mixed) run_xsbench spread -r "$tp_rounds" -d "$seconds" -c "$clients" mixed ;;
	conflict) run_xsbench spread -r "$tp_rounds" -d "$seconds" -n "$tx_clients" conflict ;;
	fanout) run_xsbench "$lat" -r "$rounds" -i "$iters" -w "$watchers" fanout ;;
	idle) run_xsbench "$lat" -r "$rounds" -i "$iters" -k "$idle" idle ;;
	*) echo "bench: unknown workload $w" >&2; continue ;;
	esac >>"$results" || echo "bench: xsbench $w exited with status $?" >&2
done
place spread
for p in $floor_pid $xpt_pid $c_pid; do
	kill -0 "$p" 2>/dev/null || echo "bench: peer pid $p died during the run" >&2
done
[ -n "${BENCH_RESULTS:-}" ] && cp "$results" "$BENCH_RESULTS"

# --- table --------------------------------------------------------------------
echo "# loadavg at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ratios divide xpt's figure by the other's: for us lower is better, for /s higher is better"
awk '
function fmt(v, u) {
	if (v == "" || v == "FAIL") return v == "" ? "-" : "FAIL"
	if (u == "ns") return sprintf("%.1f", v / 1000)
	if (u ~ /\/s$/) return sprintf("%d", v + 0.5)
	return sprintf("%.2f", v)
}
function ratio(a, b) {
	if (a == "" || b == "" || a == "FAIL" || b == "FAIL" || b + 0 == 0) return "-"
	return sprintf("%.2f", a / b)
}
# target: "F<=1.1 C<=0.8" style clauses over xpt/floor (F), xpt/C (C) or the value
function check(t, rf, rc, v,   n, i, c, x, lim, ok, any) {
	if (t == "-") return "-"
	n = split(t, c, " "); ok = 1; any = 0
	for (i = 1; i <= n; i++) {
		x = substr(c[i], 1, 1) == "F" ? rf : substr(c[i], 1, 1) == "C" ? rc : v
		if (x == "-" || x == "" || x == "FAIL") continue
		any = 1
		if (c[i] ~ /<=/) { lim = substr(c[i], index(c[i], "<=") + 2); if (x + 0 > lim + 0) ok = 0 }
		else { lim = substr(c[i], index(c[i], ">=") + 2); if (x + 0 < lim + 0) ok = 0 }
	}
	return any ? (ok ? "yes" : "NO") : "?"
}
function target(item) {
	if (item ~ /^(read|write|dir|rm)-/) return "F<=1.1 C<=0.8"
	if (item ~ /^ta-/) return "C<=0.6"
	if (item ~ /^mixed-64$/) return "C>=2"
	return "-"
}
function row(item, unit, f, x, c, t,   rf, rc) {
	rf = ratio(x, f); rc = ratio(x, c)
	if (unit ~ /\/s$/ || unit == "ns") { } else { rf = "-"; rc = "-" }
	met = check(t, rf, rc, x)
	# a goal over C that the floor itself misses cannot be met here
	if (met == "NO" && t ~ /C/ && check(t, "-", ratio(f, c), f) == "NO") {
		met = "NO*"; star = 1
	}
	printf "%-22s %-14s %10s %10s %10s %9s %7s  %-14s %s\n", item,
		(unit == "ns" ? "us" : unit), fmt(f, unit), fmt(x, unit),
		fmt(c, unit), rf, rc, t, met
}
$1 == "RESULT" {
	item = $2; srv = $3
	if (!(item in seen)) { seen[item] = 1; order[++n] = item; unit[item] = $5 }
	val[item, srv] = $4
	if (item ~ /^idle-[0-9]+-read-1$/) {
		k = item; sub(/^idle-/, "", k); sub(/-read-1$/, "", k); k += 0
		if (kmin == "" || k < kmin) kmin = k
		if (kmax == "" || k > kmax) kmax = k
	}
}
END {
	printf "%-22s %-14s %10s %10s %10s %9s %7s  %-14s %s\n", "workload", "unit",
		"floor", "xpt", "C", "xpt/floor", "xpt/C", "target", "met"
	for (i = 1; i <= n; i++) {
		it = order[i]
		row(it, unit[it], val[it, "floor"], val[it, "xpt"], val[it, "c"], target(it))
	}
	if (kmin != "" && kmax > kmin) {
		lo = "idle-" kmin "-read-1"; hi = "idle-" kmax "-read-1"
		split("floor xpt c", s, " ")
		for (j = 1; j <= 3; j++) r[s[j]] = ratio(val[hi, s[j]], val[lo, s[j]])
		t = "xpt<=1.1"
		printf "%-22s %-14s %10s %10s %10s %9s %7s  %-14s %s\n",
			"idle-" kmax "/idle-" kmin, "ratio", r["floor"], r["xpt"], r["c"],
			"-", "-", t, (r["xpt"] == "-" ? "?" : (r["xpt"] + 0 <= 1.1 ? "yes" : "NO"))
	}
	if (star)
		print "NO*: the floor misses this goal over C as well, so no server can meet it on this machine"
}' "$results"

# --- vPCI ---------------------------------------------------------------------
vpci_seconds=${BENCH_VPCI_SECONDS:-0.5}
if [ "$vpci_seconds" != 0 ]; then
	echo
	timeout "${BENCH_TIMEOUT:-300}" "$build/bench/vpci" "$vpci_seconds" ||
		echo "bench: bench/vpci exited with status $?" >&2
fi

# --- xpt-pciback per watch event ----------------------------------------------
pbwatch_rounds=${BENCH_PBWATCH_ROUNDS:-7}
if [ "$pbwatch_rounds" != 0 ] && [ -n "$xpt" ]; then
	echo
	timeout "${BENCH_TIMEOUT:-300}" "$build/bench/pbwatch" "$xpt" \
		"$pbwatch_rounds" ||
		echo "bench: bench/pbwatch exited with status $?" >&2
fi

# --- libxpt's QMP client --------------------------------------------------------
qmp_rounds=${BENCH_QMP_ROUNDS:-15}
if [ "$qmp_rounds" != 0 ]; then
	echo
	timeout "${BENCH_TIMEOUT:-300}" "$build/bench/qmpclient" "$qmp_rounds" ||
		echo "bench: bench/qmpclient exited with status $?" >&2
fi
