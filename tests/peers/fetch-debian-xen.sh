#!/bin/sh
# SPDX-License-Identifier: MIT
# Unpack Debian's own Xen 4.17 userspace (C xenstored, oxenstored,
# test-xenstore and the libraries they link) into a cache directory, without
# installing it: xen-utils would pull in a hypervisor this machine does not
# run.  The peers, interop tests and benchmarks use these unmodified binaries.
#
# usage: tests/peers/fetch-debian-xen.sh [DIR]
#   DIR defaults to $XPT_DEBIAN_XEN, else <repo>/.cache/debian-xen.
#   Prints DIR/root on success.  Re-running is cheap: a complete unpack is kept.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${XPT_DEBIAN_XEN:-$top/.cache/debian-xen}}
root="$dir/root"
pkgs="xen-utils-4.17 xen-utils-common xenstore-utils libxenstore4 libxen-dev
      libxenmisc4.17 libxenevtchn1 libxengnttab1 libxentoollog1 libxencall1
      libxenforeignmemory1 libxendevicemodel1 libxentoolcore1 libxenhypfs1"

if [ -f "$root/.complete" ] && [ -x "$root/usr/lib/xen-4.17/bin/xenstored" ]; then
	echo "$root"
	exit 0
fi

mkdir -p "$dir/debs"
(
	cd "$dir/debs"
	# shellcheck disable=SC2086
	if ! apt-get download $pkgs >/dev/null 2>&1; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "fetch-debian-xen: 'apt-get download' failed; run 'sudo apt-get update' and retry" >&2
			exit 1
		fi
		apt-get update -q >/dev/null
		apt-get download $pkgs >/dev/null
	fi
)
rm -rf "$root.tmp"
mkdir -p "$root.tmp"
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$root.tmp"
done
rm -rf "$root"
mv "$root.tmp" "$root"
touch "$root/.complete"
echo "$root"
