#!/bin/sh
# SPDX-License-Identifier: MIT
# Make sure the Debian packages a make target needs are installed: as root,
# install the missing ones with apt-get; otherwise print the exact command
# and fail.
#
# usage: scripts/deps.sh build|check|demo|demo-store|bench|fuzz|lab ...
#
# The lab's QEMU is installed by lab/lab.sh itself (without recommends, and
# checked for the devices the lab needs).  Debian's Xen userspace, the
# reference the tests and benchmarks compare with, is fetched with
# `apt-get download`, never installed (tests/peers/fetch-debian-xen.sh).
set -eu

pkgs_build="gcc meson ninja-build pkg-config libxen-dev libyajl-dev"
pkgs_fuzz="$pkgs_build clang libclang-rt-14-dev"
pkgs_lab="python3"
# chromium and python3-pil: the trace page's test in a real browser
# (tests/trace/browser.py), about 100 MB.
pkgs_check="$pkgs_fuzz $pkgs_lab libcmocka-dev xenstore-utils python3-pyxs qemu-system-x86 chromium python3-pil"
pkgs_demo="$pkgs_build"
pkgs_demo_store="$pkgs_build xenstore-utils"
pkgs_bench="$pkgs_build"

want=""
for target in "$@"; do
	case "$target" in
	build) want="$want $pkgs_build" ;;
	check) want="$want $pkgs_check" ;;
	demo) want="$want $pkgs_demo" ;;
	demo-store) want="$want $pkgs_demo_store" ;;
	bench) want="$want $pkgs_bench" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	lab) want="$want $pkgs_lab" ;;
	*) echo "deps.sh: unknown target '$target'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing missing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y -q $missing >/dev/null 2>&1 || {
		apt-get update -q >/dev/null
		apt-get install -y -q $missing >/dev/null
	}
	exit 0
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: install them with:  sudo apt-get install$missing" >&2
exit 1
