#!/bin/bash
# SPDX-License-Identifier: MIT
# The real-Xen lab: Debian's Xen 4.17 + Linux 6.1 (or Xen 4.20 + Linux 6.12)
# under QEMU (TCG), driven over the serial console.  See lab/README.md.
#
#   lab/lab.sh run [--out DIR] [--store c|xpt] [--toolstack xl|xpt|both] [--xen 4.17|4.20|both] [SCENARIO...]
#   lab/lab.sh check                          cold-plug only, one line, for make check
#   lab/lab.sh list                           the scenarios
#   lab/lab.sh assemble                       build (or reuse) the images only
#
# Environment: LAB_OUT (run directory), LAB_CACHE (image cache, default
# <repo>/.cache/lab), LAB_TOOLSTACK (xl, the default, xpt or both: the
# toolstack the scenarios drive; xpt is LAB_XPT or build/src/xpt/xpt, given
# LAB_XPT_ARGS before its command; 4.20's dom0 gets LAB_XPT_4_20, or what
# lab/build-xpt.sh 4.20 builds), LAB_XEN (4.17, the default, 4.20, or
# both: the Xen + Linux images), LAB_ROUNDS (rounds of each race scenario,
# default 3), LAB_DOM0_FILES ("SRC:/DEST ..." added to dom0),
# LAB_XENSTORED (dom0's xenstored command line, default the C xenstored),
# LAB_STORE (c, the default, or xpt: dom0's store is xpt-xenstored --xen,
# LAB_XPT_XENSTORED or build/src/xenstored/xpt-xenstored; its log is
# /var/log/xen/xpt-xenstored.log in dom0), LAB_QEMU (the QEMU binary,
# default qemu-system-x86_64), LAB_GUEST_LOGLEVEL (the stub-domain
# scenarios' guest kernel loglevel, default hvm.cfg's 4), CC (builds
# the static dom0 helper lab/lab-vpci.c for vpci-remove-race, default cc),
# LAB_VPCI_SECONDS, LAB_VPCI_ROUNDS, LAB_VPCI_CYCLES, LAB_VPCI_MODE (that
# scenario's race: lab/README.md), LAB_NO_TRACE (set: no store trace log;
# by default each boot's log comes back as <scenario>/trace/boot-N.log,
# drawn by LAB_TRACE_XPT, default build/src/xpt/xpt, as boot-N.html/.txt).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
py=/usr/bin/python3
qemu=${LAB_QEMU:-qemu-system-x86_64}
qemu_pkg="apt-get install -y --no-install-recommends qemu-system-x86"

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

# need_qemu: prints nothing and returns 0 when QEMU is usable; otherwise
# prints the reason and returns 1.  Installs QEMU when run as root.
need_qemu() {
	if ! command -v "$qemu" >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			echo "$qemu not installed; as root run: $qemu_pkg"
			return 1
		fi
		echo "lab: installing qemu-system-x86" >&2
		if ! DEBIAN_FRONTEND=noninteractive $qemu_pkg >/dev/null 2>&1; then
			apt-get update -qq >/dev/null 2>&1 || true
			DEBIAN_FRONTEND=noninteractive $qemu_pkg >/dev/null 2>&1 || {
				echo "could not install QEMU ($qemu_pkg failed)"
				return 1
			}
		fi
		command -v "$qemu" >/dev/null 2>&1 || {
			echo "$qemu not found, even after $qemu_pkg"
			return 1
		}
	fi
	[ -x "$py" ] || { echo "$py not found (apt-get install python3)"; return 1; }
	if ! "$qemu" -device help 2>/dev/null | grep -q '"edu"'; then
		echo "$qemu has no edu device"
		return 1
	fi
	if ! "$qemu" -accel help 2>/dev/null | grep -qx tcg; then
		echo "$qemu has no TCG accelerator"
		return 1
	fi
	local avail
	avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
	if [ "${avail:-0}" -lt 3300 ]; then
		echo "only ${avail} MiB of memory available; a lab needs 3.3 GiB"
		return 1
	fi
	return 0
}

# xen_versions: LAB_XEN as a list.
xen_versions() {
	local v=${LAB_XEN:-4.17}
	case $v in
	both | all) echo "4.17 4.20" ;;
	*) echo "${v//,/ }" ;;
	esac
}

# assemble ERR: sets $imgs (one image directory per Xen version), or
# prints why not and returns 1 (10: download failed).
assemble() {
	local err=$1 v img
	imgs=()
	: >"$err"
	for v in $(xen_versions); do
		case $v in
		4.17 | 4.20) ;;
		*) echo "lab: unknown Xen version '$v' (4.17, 4.20 or both)" >&2; exit 2 ;;
		esac
		if ! img=$(LAB_XEN=$v "$here/assemble.sh" 2>>"$err"); then
			if grep -q 'apt-get download failed\|no linux-image' "$err"; then
				return 10
			fi
			return 1
		fi
		imgs+=(--img "$img")
	done
	return 0
}

default_out() {
	echo "${LAB_OUT:-$repo/.cache/lab/runs/$(date +%Y%m%d-%H%M%S)-$$}"
}

# store_args OUT: with LAB_STORE=xpt, dom0 gets xpt-xenstored and a
# wrapper that starts it as the host's store (on the socket path
# libxenstore uses, logging to a file so the console stays clean).
store_args() {
	local out=$1 bin w
	case "${LAB_STORE:-c}" in
	c) return 0 ;;
	xpt) ;;
	*) echo "lab: unknown store '${LAB_STORE}' (c or xpt)" >&2; exit 2 ;;
	esac
	bin=${LAB_XPT_XENSTORED:-$repo/build/src/xenstored/xpt-xenstored}
	if [ ! -x "$bin" ]; then
		echo "lab: $bin not built (make build)" >&2
		exit 1
	fi
	if ! "$bin" --help | grep -q -- '--xen'; then
		echo "lab: $bin has no Xen transport (libxen-dev missing at build time?)" >&2
		exit 1
	fi
	w=$out/xpt-xenstored-lab
	cat >"$w" <<'EOS'
#!/bin/sh
# dom0's store for LAB_STORE=xpt (written by lab.sh)
exec /usr/sbin/xpt-xenstored --xen --rundir=/run/xenstored \
	--pid-file=/run/xenstored.pid -v \
	--access-log=/var/log/xen/xenstored-trace.log \
	"$@" 2>>/var/log/xen/xpt-xenstored.log
EOS
	chmod 755 "$w"
	args+=(--dom0-file "$bin:/usr/sbin/xpt-xenstored"
	       --dom0-file "$w:/usr/sbin/xpt-xenstored-lab")
	[ -n "${LAB_XENSTORED:-}" ] || args+=(--xenstored /usr/sbin/xpt-xenstored-lab)
}

# toolstack_args: LAB_TOOLSTACK's driver options; with xpt, its binary (it
# goes into dom0 as /usr/local/bin/xpt, with the libraries dom0 lacks).
toolstack_args() {
	local ts=${LAB_TOOLSTACK:-xl} bin a b v
	case $ts in
	xl)
		# xl runs still get xpt in dom0, on Xen 4.17 (what it is built
		# against), for `xpt doctor` after each scenario
		bin=${LAB_XPT:-$repo/build/src/xpt/xpt}
		if [ -x "$bin" ] && [ "$(xen_versions)" = 4.17 ]; then
			args+=(--xpt "$bin")
		fi
		return 0 ;;
	xpt | both | xl,xpt | xpt,xl) ;;
	*) echo "lab: unknown toolstack '$ts' (xl, xpt or both)" >&2; exit 2 ;;
	esac
	bin=${LAB_XPT:-$repo/build/src/xpt/xpt}
	if [ ! -x "$bin" ]; then
		echo "lab: $bin not built (make build)" >&2
		exit 1
	fi
	args+=(--toolstack "$ts" --xpt "$bin")
	# Another Xen version's dom0 needs an xpt built against its libraries
	# (LAB_XPT_4_20, or lab/build-xpt.sh builds build-xen4.20/).
	for v in $(xen_versions); do
		[ "$v" = 4.17 ] && continue
		a=LAB_XPT_${v//./_}
		b=${!a:-}
		if [ -z "$b" ]; then
			echo "lab: building xpt against Xen $v's libraries (lab/build-xpt.sh $v)" >&2
			b=$("$here/build-xpt.sh" "$v") || { echo "lab: lab/build-xpt.sh $v failed" >&2; exit 1; }
		fi
		args+=(--xpt-for "$v=$b")
	done
	for a in ${LAB_XPT_ARGS:-}; do
		args+=("--xpt-arg=$a")
	done
}

driver_args() {
	local f
	args=(--qemu "$qemu")
	[ -n "${LAB_ROUNDS:-}" ] && args+=(--rounds "$LAB_ROUNDS")
	toolstack_args
	for f in ${LAB_DOM0_FILES:-}; do
		args+=(--dom0-file "$f")
	done
	[ -n "${LAB_XENSTORED:-}" ] && args+=(--xenstored "$LAB_XENSTORED")
	# Each boot's store trace log comes back and is drawn by the host's
	# xpt (xpt trace); LAB_NO_TRACE=1 leaves the store untraced.
	if [ -n "${LAB_NO_TRACE:-}" ]; then
		args+=(--no-trace)
	else
		args+=(--trace-xpt "${LAB_TRACE_XPT:-$repo/build/src/xpt/xpt}")
	fi
	store_args "$1"
	return 0
}

# helper_args OUT: the static dom0 helpers scenarios ask for
# (.dom0_helpers: lab/NAME.c), built into OUT (CC, default cc, with
# -static); one that does not build is left out, and a scenario that
# needs it fails saying so.
helper_args() {
	local out=$1 h cc=${CC:-cc}
	for h in lab-vpci; do
		if "$cc" -static -O2 -Wall -o "$out/$h" "$here/$h.c" >"$out/$h.build.log" 2>&1; then
			args+=(--helper "$h=$out/$h")
		else
			echo "lab: $h not built ($cc -static; $out/$h.build.log)" >&2
		fi
	done
}

cmd_run() {
	local out
	out=$(default_out)
	while [ $# -gt 0 ]; do
		case "$1" in
		--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
		--store) [ $# -ge 2 ] || usage; LAB_STORE=$2; shift 2 ;;
		--toolstack) [ $# -ge 2 ] || usage; LAB_TOOLSTACK=$2; shift 2 ;;
		--xen) [ $# -ge 2 ] || usage; LAB_XEN=$2; shift 2 ;;
		*) break ;;
		esac
	done
	if ! why=$(need_qemu); then
		echo "lab: cannot run: $why" >&2
		exit 1
	fi
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	local t0=$SECONDS rc=0
	assemble "$out/assemble.log" || rc=$?
	cat "$out/assemble.log" >&2
	[ $rc = 0 ] || { echo "lab: image assembly failed (see above)" >&2; exit 1; }
	echo "lab: images ready in $((SECONDS - t0))s; run directory $out" \
		"(Xen $(xen_versions); toolstack ${LAB_TOOLSTACK:-xl};" \
		"store ${LAB_STORE:-c})" >&2
	driver_args "$out"
	helper_args "$out"
	"$py" "$here/driver.py" "${imgs[@]}" --out "$out" "${args[@]}" "$@"
}

# The toolstacks `check` runs cold-plug with: xl and xpt, one boot each
# (LAB_TOOLSTACK overrides it).
check_toolstack=both

cmd_check() {
	local why out rc=0 t0=$SECONDS
	LAB_TOOLSTACK=${LAB_TOOLSTACK:-$check_toolstack}
	if ! why=$(need_qemu); then
		echo "lab: SKIP: $why"
		exit 77
	fi
	out=$(default_out)
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	assemble "$out/assemble.log" || rc=$?
	if [ $rc = 10 ]; then
		echo "lab: SKIP: the Debian packages could not be downloaded:" \
			"$(tail -n 1 "$out/assemble.log")"
		exit 77
	elif [ $rc != 0 ]; then
		cat "$out/assemble.log" >&2
		echo "lab: FAIL: image assembly failed (see above)"
		exit 1
	fi
	driver_args "$out"
	rc=0
	"$py" "$here/driver.py" "${imgs[@]}" --out "$out" "${args[@]}" cold-plug \
		>"$out/driver.out" 2>"$out/driver.err" || rc=$?
	local secs what="" hung=""
	# A command that never returned (no end sentinel: seen in `xl
	# create`'s domain build, for both toolstacks, with nothing on any
	# console, only on a loaded machine) is run once more, and said;
	# a wrong result fails at once.
	if [ $rc != 0 ] && [ -z "${LAB_NO_RETRY:-}" ] &&
	   grep -q "no end sentinel after" "$out/driver.err"; then
		hung=$(grep -m1 "FAIL cold-plug at step" "$out/driver.err")
		echo "lab: cold-plug: a command never returned (${hung#lab: }," \
			"run directory $out): running the scenario once more" >&2
		mkdir -p "$out/retry"
		mv "$out/driver.out" "$out/driver.out.hung"
		mv "$out/driver.err" "$out/driver.err.hung"
		rc=0
		"$py" "$here/driver.py" "${imgs[@]}" --out "$out/retry" \
			"${args[@]}" cold-plug >"$out/driver.out" \
			2>"$out/driver.err" || rc=$?
		what=", after one retry: the first run hung (${hung#lab: FAIL })"
	fi
	secs=$((SECONDS - t0))
	[ "$LAB_TOOLSTACK" = xl ] || what="$what, toolstack $LAB_TOOLSTACK"
	[ "${LAB_XEN:-4.17}" = 4.17 ] || what="$what, Xen $(xen_versions)"
	[ -n "${LAB_STORE:-}" ] && what="$what, store $LAB_STORE"
	if [ $rc = 0 ]; then
		echo "lab: cold-plug PASS (${secs}s$what)"
		return 0
	fi
	cat "$out/driver.out" >&2
	cat "$out/driver.err" >&2
	echo "lab: cold-plug FAIL (${secs}s$what, exit $rc); run directory $out"
	exit 1
}

case "${1:-}" in
run) shift; cmd_run "$@" ;;
check) cmd_check ;;
list) exec "$py" "$here/driver.py" --img . --out . --list ;;
assemble) for v in $(xen_versions); do LAB_XEN=$v "$here/assemble.sh"; done ;;
*) usage ;;
esac
