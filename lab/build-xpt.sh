#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds xpt against another Debian release's Xen libraries, for the lab's
# dom0 of that Xen version: libxenctrl and libxenlight have a soname per
# Xen version (libxenctrl.so.4.20), and one built for 4.17 misreads 4.20's
# hypervisor.  The host's build (build/) serves 4.17, the host's own.
#   lab/build-xpt.sh VERSION      prints the binary's path (build-xenVERSION/src/xpt/xpt)
# libxen-dev and its libraries come from Debian's archive through the
# image's private apt state (assemble.sh), unpacked into a sysroot under
# LAB_CACHE/VERSION/sysroot whose pkg-config files point into it.  The
# binary links the host's libc; Debian 13's newer libc runs it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${LAB_CACHE:-$repo/.cache/lab}
xen=${1:?usage: lab/build-xpt.sh VERSION}
log() { echo "lab-build-xpt: $*" >&2; }
die() { echo "lab-build-xpt: error: $*" >&2; exit 1; }

vcache=$cache/$xen
build=$repo/build-xen$xen
# The image's assembly sets up the apt state and downloads the libraries.
LAB_XEN=$xen "$here/assemble.sh" >/dev/null
a=$vcache/apt
[ -f "$a/sources.list" ] || die "no apt state for $xen in $a"
apt_opts=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache"
	-o Dir::State::status=/dev/null)
exec 9>"$cache/lock"
flock 9
mkdir -p "$vcache/devdebs"
if ! ls "$vcache/devdebs/"libxen-dev_*.deb >/dev/null 2>&1; then
	log "downloading libxen-dev ($xen)"
	(cd "$vcache/devdebs" && apt-get "${apt_opts[@]}" download -q libxen-dev >&2) ||
		die "apt-get download failed for libxen-dev"
fi
s=$vcache/sysroot
stamp=$(ls "$vcache/devdebs" "$vcache/debs" | sha256sum | cut -c1-16)
if [ "$(cat "$s/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$s"
	mkdir -p "$s"
	for d in "$vcache/devdebs/"libxen-dev_*.deb "$vcache/debs/"libxen*.deb; do
		dpkg-deb -x "$d" "$s"
	done
	sed -i "s#^\(prefix\|includedir\|libdir\)=/usr#\1=$s/usr#" \
		"$s"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc
	echo "$stamp" >"$s/.stamp"
fi
flock -u 9
lib=$s/usr/lib/x86_64-linux-gnu
if [ ! -f "$build/build.ninja" ]; then
	log "meson setup $build (Xen $xen libraries from $s)"
	PKG_CONFIG_PATH=$lib/pkgconfig \
	LDFLAGS="-Wl,-rpath-link,$lib -Wl,--allow-shlib-undefined" \
		meson setup "$build" "$repo" -Dwerror=false >"$vcache/build-xpt.log" 2>&1 ||
		{ cat "$vcache/build-xpt.log" >&2; die "meson setup failed"; }
fi
ninja -C "$build" src/xpt/xpt >"$vcache/build-xpt.log" 2>&1 ||
	{ tail -30 "$vcache/build-xpt.log" >&2; die "ninja failed"; }
grep -q "libxenctrl.so.$xen" <(readelf -d "$build/src/xpt/xpt") ||
	die "$build/src/xpt/xpt does not link libxenctrl.so.$xen (built without Xen?)"
echo "$build/src/xpt/xpt"
