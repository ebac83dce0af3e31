#!/bin/bash
# SPDX-License-Identifier: MIT
# Assembles the lab's boot images from Debian packages only (apt-get download
# + dpkg-deb -x), cached under LAB_CACHE (default <repo>/.cache/lab):
#   img/xen            the hypervisor, uncompressed for QEMU's multiboot loader
#   img/vmlinuz        the Linux 6.1 kernel (dom0 and domU)
#   img/dom0.cpio.gz   dom0's initramfs: busybox, Xen tools + libraries, the
#                      domU kernel, initramfs and config under /root
#   img/domU.cpio.gz   the PV guest's initramfs (also inside dom0's)
# Prints the image directory on stdout.  Safe to run from two labs at once
# (one flock).  LAB_KERNEL_PKG overrides the kernel package.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${LAB_CACHE:-$repo/.cache/lab}
mkdir -p "$cache/debs"
exec 9>"$cache/lock"
flock 9

py=${LAB_PYTHON:-/usr/bin/python3}
log() { echo "lab-assemble: $*" >&2; }
die() { echo "lab-assemble: error: $*" >&2; exit 1; }

kernel_pkg=${LAB_KERNEL_PKG:-}
if [ -z "$kernel_pkg" ]; then
	if [ -f "$cache/kernel-pkg" ]; then
		kernel_pkg=$(cat "$cache/kernel-pkg")
	else
		kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-6\.1\.[0-9.-]*-amd64$/ { print $2; exit }')
		if [ -z "$kernel_pkg" ] && [ "$(id -u)" = 0 ]; then
			apt-get update -qq >&2 || true
			kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
				awk '/Depends: linux-image-6\.1\.[0-9.-]*-amd64$/ { print $2; exit }')
		fi
		[ -n "$kernel_pkg" ] || die "no linux-image-6.1.*-amd64 known to apt (run apt-get update, or set LAB_KERNEL_PKG)"
		echo "$kernel_pkg" > "$cache/kernel-pkg"
	fi
fi

pkgs="xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
	libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
	libxenmisc4.17 libxenstore4 libxentoollog1 libxendevicemodel1
	libxentoolcore1 libxenhypfs1 libyajl2
	libc6 libgcc-s1 zlib1g liblzma5 libzstd1 libuuid1
	busybox-static $kernel_pkg"

missing=""
for p in $pkgs; do
	ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "downloading:$missing"
	if ! (cd "$cache/debs" && apt-get download -q $missing >&2 2>"$cache/download.err"); then
		if [ "$(id -u)" = 0 ]; then
			apt-get update -qq >&2 || true
			(cd "$cache/debs" && apt-get download -q $missing >&2) ||
				die "apt-get download failed for:$missing"
		else
			cat "$cache/download.err" >&2
			die "apt-get download failed for:$missing (try: sudo apt-get update)"
		fi
	fi
fi

# Build images once per (packages, lab guest files, this script); the
# unpacked packages (~430 MB) are only kept while building.
debs=$(cd "$cache/debs" && ls *.deb | sort)
debsum=$(echo "$debs" | sha256sum | cut -c1-16)
insum=$( (echo "$debsum"; cat "$here/assemble.sh" "$here/mkcpio.py" "$here"/guest/*) |
	sha256sum | cut -c1-16)
img=$cache/img
if [ "$(cat "$img/.stamp" 2>/dev/null)" = "$insum" ]; then
	echo "$img"
	exit 0
fi

root=$cache/root
rm -rf "$root"
mkdir -p "$root"
log "extracting $(echo "$debs" | wc -l) packages"
for d in $debs; do
	dpkg-deb -x "$cache/debs/$d" "$root"
done

kver=${kernel_pkg#linux-image-}
mods=$root/lib/modules/$kver/kernel
[ -d "$mods" ] || die "no modules for $kver in $kernel_pkg"
libdirs=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu
xenbin=$root/usr/lib/xen-4.17/bin

tmp=$cache/img.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
log "building images for $kernel_pkg"

zcat "$root/boot/xen-4.17-amd64.gz" > "$tmp/xen"
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"

# copy_mod TREE NAME...: the named modules, flat, into TREE/lib/modules/lab.
copy_mod() {
	local tree=$1 m f
	shift
	mkdir -p "$tree/lib/modules/lab"
	for m in "$@"; do
		f=$(find "$mods" -name "$m.ko" | head -n 1)
		[ -n "$f" ] || die "module $m not in $kernel_pkg"
		cp "$f" "$tree/lib/modules/lab/"
	done
}

# copy_elf TREE FILE DEST: FILE to TREE/DEST plus every library ldd names.
copy_elf() {
	local tree=$1 file=$2 dest=$3 lib base
	mkdir -p "$tree/$(dirname "$dest")" "$tree/lib/x86_64-linux-gnu" "$tree/lib64"
	cp -L "$file" "$tree/$dest"
	LD_LIBRARY_PATH=$libdirs ldd "$file" >"$tmp/ldd.out" 2>&1 ||
		die "ldd $file: $(cat "$tmp/ldd.out")"
	if grep -q 'not found' "$tmp/ldd.out"; then
		die "ldd $file: $(grep 'not found' "$tmp/ldd.out")"
	fi
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }' "$tmp/ldd.out" | while read -r lib; do
		base=${lib##*/}
		[ -e "$tree/lib/x86_64-linux-gnu/$base" ] && continue
		case $lib in
		"$root"/*) ;;
		*) [ -e "$root/lib/x86_64-linux-gnu/$base" ] && lib=$root/lib/x86_64-linux-gnu/$base
		   [ -e "$root/usr/lib/x86_64-linux-gnu/$base" ] && lib=$root/usr/lib/x86_64-linux-gnu/$base
		   case $lib in "$root"/*) ;; *) log "note: $base from the host ($lib)" ;; esac ;;
		esac
		cp -L "$lib" "$tree/lib/x86_64-linux-gnu/$base"
	done
	[ -e "$tree/lib64/ld-linux-x86-64.so.2" ] ||
		cp -L "$root/lib64/ld-linux-x86-64.so.2" "$tree/lib64/ld-linux-x86-64.so.2"
}

# The PV guest.
u=$tmp/domU
mkdir -p "$u/bin" "$u/sbin" "$u/usr/local/bin"
cp "$root/bin/busybox" "$u/bin/busybox"
cp "$here/guest/domU-init" "$u/init"
cp "$here/guest/lab-reporter" "$u/usr/local/bin/lab-reporter"
cp "$here/guest/domU-shutdown" "$u/sbin/reboot"
cp "$here/guest/domU-shutdown" "$u/sbin/poweroff"
copy_mod "$u" xen-pcifront virtio_ring virtio virtio_pci_modern_dev \
	virtio_pci_legacy_dev virtio_pci virtio_blk e1000
"$py" "$here/mkcpio.py" "$u" "$tmp/domU.cpio.gz"

# dom0.
d=$tmp/dom0
mkdir -p "$d/bin" "$d/sbin" "$d/usr/bin" "$d/usr/local/bin" "$d/root" "$d/etc/xen" \
	"$d/var" "$d/etc/lab/dom0.d"
ln -s ../run "$d/var/run"
ln -s ../run/lock "$d/var/lock"
cp "$root/bin/busybox" "$d/bin/busybox"
cp "$here/guest/dom0-init" "$d/init"
for f in lab-gstate lab-xsdump; do
	cp "$here/guest/$f" "$d/usr/local/bin/$f"
done
copy_mod "$d" xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-pciback
for b in xl xenstored xenconsoled xen-init-dom0 xenstore-control; do
	copy_elf "$d" "$xenbin/$b" "usr/lib/xen-4.17/bin/$b"
done
copy_elf "$d" "$root/usr/bin/xenstore" usr/bin/xenstore
for t in read write ls list rm exists chmod watch; do
	ln -s xenstore "$d/usr/bin/xenstore-$t"
done
# glibc dlopen()s libgcc_s for pthread_cancel; ldd cannot see that.
cp -L "$root/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" "$d/lib/x86_64-linux-gnu/" 2>/dev/null ||
	cp -L "$root/lib/x86_64-linux-gnu/libgcc_s.so.1" "$d/lib/x86_64-linux-gnu/"
cp "$tmp/vmlinuz" "$d/root/vmlinuz"
cp "$tmp/domU.cpio.gz" "$d/root/domU.cpio.gz"
cp "$here/guest/domU.cfg" "$d/root/domU.cfg"
: > "$d/etc/xen/xl.conf"
(cd "$d" && find . -mindepth 1 | sed 's|^\./||' | sort) > "$tmp/dom0.files"
"$py" "$here/mkcpio.py" "$d" "$tmp/dom0.cpio.gz"

rm -rf "$tmp/domU" "$tmp/dom0" "$tmp/ldd.out" "$root"
{
	echo "kernel $kernel_pkg"
	for p in xen-hypervisor-4.17-amd64 xen-utils-4.17 busybox-static; do
		echo "$p $(ls "$cache/debs/${p}_"*.deb | sed 's/.*_\(.*\)_amd64.deb/\1/')"
	done
} > "$tmp/versions"
echo "$insum" > "$tmp/.stamp"
rm -rf "$img"
mv "$tmp" "$img"
log "images ready in $img ($(du -sh "$img" | cut -f1))"
echo "$img"
