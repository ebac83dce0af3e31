#!/bin/bash
# SPDX-License-Identifier: MIT
# Assembles the lab's boot images for one Xen version from Debian packages
# only (apt-get download + dpkg-deb -x), cached under LAB_CACHE (default
# <repo>/.cache/lab) in <version>/:
#   img/xen            the hypervisor, uncompressed for QEMU's multiboot loader
#   img/vmlinuz        the Linux kernel (dom0 and domU)
#   img/dom0.cpio.gz   dom0's initramfs: busybox, Xen tools + libraries, the
#                      domU kernel, initramfs and config under /root
#   img/domU.cpio.gz   the guest's initramfs, PV and HVM (also inside dom0's)
#   img/dom0-hvm.cpio.gz  (4.17) what HVM guests need in dom0, concatenated
#                      after dom0.cpio.gz for the HVM scenarios only: the
#                      device model (qemu-system-xen) and its libraries,
#                      SeaBIOS, QEMU's linuxboot ROMs, hvmloader, hvm.cfg
#   img/dom0-stubdom.cpio.gz  likewise for the stub-domain scenarios: a
#                      Linux stub domain's initramfs (/root/stubdom.cpio.gz,
#                      its /init guest/stubdom-init), vchan-socket-proxy,
#                      xen-pciback's passthrough=1 (/etc/lab/modopts)
# LAB_XEN picks the version: 4.17 (the default; Debian 12 "bookworm", Linux
# 6.1, from the host's apt sources) or 4.20 (Debian 13 "trixie", Linux 6.12,
# through a private apt state in <version>/apt, so the host's apt setup is
# untouched).  Prints the image directory on stdout.  Safe to run from two
# labs at once (one flock).  LAB_KERNEL_PKG overrides the kernel package.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${LAB_CACHE:-$repo/.cache/lab}
xen=${LAB_XEN:-4.17}
case $xen in
4.17) suite=bookworm kseries=6.1 ;;
4.20) suite=trixie kseries=6.12 ;;
*) echo "lab-assemble: error: unknown Xen version '$xen' (4.17 or 4.20)" >&2; exit 2 ;;
esac
vcache=$cache/$xen
mkdir -p "$vcache/debs"
exec 9>"$cache/lock"
flock 9

py=${LAB_PYTHON:-/usr/bin/python3}
log() { echo "lab-assemble: $*" >&2; }
die() { echo "lab-assemble: error: $*" >&2; exit 1; }

# apt: the host's apt for bookworm; for trixie a private state (sources,
# lists, cache) under <version>/apt, on the mirror the host already uses.
apt_opts=()
if [ "$suite" != bookworm ]; then
	a=$vcache/apt
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /^http/ && $2 ~ /debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$a/sources.list"
	apt_opts=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache"
		-o Dir::State::status=/dev/null)
	if ! ls "$a/lists/"*_Packages* >/dev/null 2>&1; then
		log "fetching the $suite package lists ($mirror)"
		apt-get "${apt_opts[@]}" update -qq >&2 2>"$vcache/download.err" ||
			die "apt-get download failed: could not fetch the $suite package lists: $(tail -n 1 "$vcache/download.err")"
	fi
fi
# kernel_for: the linux-image-$kseries.* package linux-image-amd64 depends on.
kernel_for() {
	apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null |
		awk -v re="Depends: linux-image-${kseries//./\\.}\\.[0-9.+a-z-]*-amd64\$" '$0 ~ re { print $2; exit }'
}

kernel_pkg=${LAB_KERNEL_PKG:-}
if [ -z "$kernel_pkg" ]; then
	if [ -f "$vcache/kernel-pkg" ]; then
		kernel_pkg=$(cat "$vcache/kernel-pkg")
	else
		kernel_pkg=$(kernel_for)
		if [ -z "$kernel_pkg" ] && [ "$(id -u)" = 0 ] && [ "$suite" = bookworm ]; then
			apt-get update -qq >&2 || true
			kernel_pkg=$(kernel_for)
		fi
		[ -n "$kernel_pkg" ] || die "no linux-image-$kseries.*-amd64 known to apt (run apt-get update, or set LAB_KERNEL_PKG)"
		echo "$kernel_pkg" > "$vcache/kernel-pkg"
	fi
fi

pkgs="xen-hypervisor-$xen-amd64 xen-utils-$xen xenstore-utils
	libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
	libxenmisc$xen libxenstore4 libxentoollog1 libxendevicemodel1
	libxentoolcore1 libxenhypfs1 libyajl2
	libc6 libgcc-s1 zlib1g liblzma5 libzstd1 libuuid1
	busybox-static $kernel_pkg"
# HVM guests' device model: qemu-system-xen, the library packages it
# needs (apt-cache depends --recurse, the lib* ones; the loader check below
# fails the build if one is missing), SeaBIOS and qemu-system-data
# (linuxboot_dma.bin for direct kernel boot).  The list is resolved once
# and kept in <version>/hvm-pkgs, like the kernel package; without it
# (apt knows no qemu-system-xen) the images have no HVM part.
if [ -f "$vcache/hvm-pkgs" ]; then
	hvm_pkgs=$(cat "$vcache/hvm-pkgs")
else
	hvm_pkgs=$(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends \
		--no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
		qemu-system-xen 2>/dev/null | awk '/^lib/ && !/-bin$/' | sort -u | tr '\n' ' ')
	if [ -n "$hvm_pkgs" ]; then
		hvm_pkgs="qemu-system-xen qemu-system-data seabios $hvm_pkgs"
		echo "$hvm_pkgs" > "$vcache/hvm-pkgs"
	else
		log "note: apt knows no qemu-system-xen: no HVM part in the images"
	fi
fi
pkgs="$pkgs $hvm_pkgs"

missing=""
for p in $pkgs; do
	ls "$vcache/debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "downloading ($suite):$missing"
	if ! (cd "$vcache/debs" && apt-get "${apt_opts[@]}" download -q $missing >&2 2>"$vcache/download.err"); then
		if [ "$(id -u)" = 0 ]; then
			if [ "$suite" = bookworm ]; then
				apt-get update -qq >&2 || true
			else
				apt-get "${apt_opts[@]}" update -qq >&2 || true
			fi
			(cd "$vcache/debs" && apt-get "${apt_opts[@]}" download -q $missing >&2) ||
				die "apt-get download failed for:$missing"
		else
			cat "$vcache/download.err" >&2
			die "apt-get download failed for:$missing (try: sudo apt-get update)"
		fi
	fi
fi

# Build images once per (packages, lab guest files, this script); the
# unpacked packages (~430 MB) are only kept while building.
debs=$(cd "$vcache/debs" && ls *.deb | sort)
debsum=$(echo "$debs" | sha256sum | cut -c1-16)
insum=$( (echo "$debsum"; cat "$here/assemble.sh" "$here/mkcpio.py" "$here"/guest/*) |
	sha256sum | cut -c1-16)
img=$vcache/img
if [ "$(cat "$img/.stamp" 2>/dev/null)" = "$insum" ]; then
	echo "$img"
	exit 0
fi

root=$vcache/root
rm -rf "$root"
mkdir -p "$root"
log "extracting $(echo "$debs" | wc -l) packages"
for d in $debs; do
	dpkg-deb -x "$vcache/debs/$d" "$root"
done

kver=${kernel_pkg#linux-image-}
# Debian 13 is merged-/usr: everything under $root/usr.
mods=$root/lib/modules/$kver
[ -d "$mods" ] || mods=$root/usr/lib/modules/$kver
[ -d "$mods/kernel" ] || die "no modules for $kver in $kernel_pkg"
libdirs=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu
xenbin=$root/usr/lib/xen-$xen/bin
busybox=$root/bin/busybox
[ -f "$busybox" ] || busybox=$root/usr/bin/busybox
# The image's own loader lists libraries (Debian 13's libc is not the host's).
loader=$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -f "$loader" ] || loader=$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -x "$loader" ] || die "no ld-linux-x86-64.so.2 in libc6"

tmp=$vcache/img.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
log "building images for Xen $xen and $kernel_pkg"

zcat "$root/boot/xen-$xen-amd64.gz" > "$tmp/xen"
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"

# copy_mod TREE NAME...: the named modules, flat and uncompressed, into
# TREE/lib/modules/lab; a module built into this kernel is skipped (the
# inits load what is there).
copy_mod() {
	local tree=$1 m f
	shift
	mkdir -p "$tree/lib/modules/lab"
	for m in "$@"; do
		f=$(find "$mods/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
		case $f in
		"") grep -q "/$m\.ko\$" "$mods/modules.builtin" ||
			die "module $m not in $kernel_pkg" ;;
		*.xz) xz -dc "$f" > "$tree/lib/modules/lab/$m.ko" ;;
		*) cp "$f" "$tree/lib/modules/lab/" ;;
		esac
	done
}

# copy_elf TREE FILE DEST: FILE to TREE/DEST plus every library it needs.
copy_elf() {
	local tree=$1 file=$2 dest=$3 lib base
	mkdir -p "$tree/$(dirname "$dest")" "$tree/lib/x86_64-linux-gnu" "$tree/lib64"
	cp -L "$file" "$tree/$dest"
	"$loader" --list --library-path "$libdirs" "$file" >"$tmp/ldd.out" 2>&1 ||
		die "ldd $file: $(cat "$tmp/ldd.out")"
	if grep -q 'not found' "$tmp/ldd.out"; then
		die "ldd $file: $(grep 'not found' "$tmp/ldd.out")"
	fi
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }' "$tmp/ldd.out" | while read -r lib; do
		base=${lib##*/}
		[ -e "$tree/lib/x86_64-linux-gnu/$base" ] && continue
		case $lib in
		"$root"/*) ;;
		*) log "note: $base from the host ($lib)" ;;
		esac
		cp -L "$lib" "$tree/lib/x86_64-linux-gnu/$base"
	done
	[ -e "$tree/lib64/ld-linux-x86-64.so.2" ] ||
		cp -L "$loader" "$tree/lib64/ld-linux-x86-64.so.2"
}

# The PV guest.
u=$tmp/domU
mkdir -p "$u/bin" "$u/sbin" "$u/usr/local/bin"
cp "$busybox" "$u/bin/busybox"
cp "$here/guest/domU-init" "$u/init"
cp "$here/guest/lab-reporter" "$u/usr/local/bin/lab-reporter"
cp "$here/guest/lab-hostile" "$u/usr/local/bin/lab-hostile"
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
cp "$busybox" "$d/bin/busybox"
cp "$here/guest/dom0-init" "$d/init"
for f in lab-gstate lab-xsdump lab-domid lab-concurrent; do
	cp "$here/guest/$f" "$d/usr/local/bin/$f"
done
copy_mod "$d" xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-pciback
for b in xl xenstored xenconsoled xen-init-dom0 xenstore-control; do
	copy_elf "$d" "$xenbin/$b" "usr/lib/xen-$xen/bin/$b"
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

# HVM: a second cpio with what dom0 lacks for an HVM guest (the driver
# concatenates it after dom0.cpio.gz for the HVM scenarios only, so the PV
# scenarios boot the same dom0 as before).  Its libraries are those the
# device model needs and dom0.cpio.gz does not have.
if [ -n "$hvm_pkgs" ]; then
	h=$tmp/dom0-hvm
	mkdir -p "$h/lib/x86_64-linux-gnu" "$h/root"
	copy_elf "$h" "$root/usr/libexec/xen-qemu-system-i386" usr/libexec/xen-qemu-system-i386
	for f in "$h"/lib/x86_64-linux-gnu/*; do
		[ -e "$d/lib/x86_64-linux-gnu/${f##*/}" ] && rm "$f"
	done
	rm -rf "$h/lib64"
	mkdir -p "$h/usr/lib/xen-$xen/boot" "$h/usr/share/seabios" "$h/usr/share/qemu/keymaps"
	cp "$root/usr/lib/xen-$xen/boot/hvmloader" "$h/usr/lib/xen-$xen/boot/"
	cp "$root/usr/share/seabios/bios-256k.bin" "$h/usr/share/seabios/"
	for f in linuxboot_dma.bin linuxboot.bin kvmvapic.bin keymaps/en-us; do
		cp "$root/usr/share/qemu/$f" "$h/usr/share/qemu/$f"
	done
	cp "$here/guest/hvm.cfg" "$h/root/hvm.cfg"
	"$py" "$here/mkcpio.py" "$h" "$tmp/dom0-hvm.cpio.gz"
	rm -rf "$h"

	# Linux stub domain: the same kernel with an initramfs of its own
	# (guest/stubdom-init as /init, busybox, the device model and its
	# libraries, the xenstore tools, vchan-socket-proxy, the Xen frontend
	# modules, QEMU's ROMs and keymap, and the guest's kernel and
	# initramfs, which QEMU opens inside the stub domain).  It goes into
	# a third dom0 cpio, concatenated for the stub-domain scenarios only,
	# with what dom0 needs for them: vchan-socket-proxy in /usr/bin
	# (where libxl runs it) and xen-pciback's passthrough=1.
	s=$tmp/stubdom
	mkdir -p "$s/bin" "$s/usr/bin" "$s/root" "$s/usr/share/seabios" \
		"$s/usr/share/qemu/keymaps"
	cp "$busybox" "$s/bin/busybox"
	cp "$here/guest/stubdom-init" "$s/init"
	copy_mod "$s" xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-pcifront
	copy_elf "$s" "$root/usr/libexec/xen-qemu-system-i386" usr/libexec/xen-qemu-system-i386
	copy_elf "$s" "$xenbin/vchan-socket-proxy" usr/bin/vchan-socket-proxy
	copy_elf "$s" "$root/usr/bin/xenstore" usr/bin/xenstore
	for t in read write ls list rm exists chmod watch; do
		ln -s xenstore "$s/usr/bin/xenstore-$t"
	done
	cp -L "$root/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" "$s/lib/x86_64-linux-gnu/" 2>/dev/null ||
		cp -L "$root/lib/x86_64-linux-gnu/libgcc_s.so.1" "$s/lib/x86_64-linux-gnu/"
	cp "$root/usr/share/seabios/bios-256k.bin" "$s/usr/share/seabios/"
	for f in linuxboot_dma.bin linuxboot.bin kvmvapic.bin keymaps/en-us; do
		cp "$root/usr/share/qemu/$f" "$s/usr/share/qemu/$f"
	done
	cp "$tmp/vmlinuz" "$s/root/vmlinuz"
	cp "$tmp/domU.cpio.gz" "$s/root/domU.cpio.gz"
	sd=$tmp/dom0-stubdom
	mkdir -p "$sd/root" "$sd/lib/x86_64-linux-gnu" "$sd/etc/lab/modopts"
	"$py" "$here/mkcpio.py" "$s" "$sd/root/stubdom.cpio.gz"
	rm -rf "$s"
	copy_elf "$sd" "$xenbin/vchan-socket-proxy" usr/bin/vchan-socket-proxy
	for f in "$sd"/lib/x86_64-linux-gnu/*; do
		[ -e "$d/lib/x86_64-linux-gnu/${f##*/}" ] && rm "$f"
	done
	rm -rf "$sd/lib64"
	echo passthrough=1 > "$sd/etc/lab/modopts/xen-pciback"
	"$py" "$here/mkcpio.py" "$sd" "$tmp/dom0-stubdom.cpio.gz"
	rm -rf "$sd"
fi

rm -rf "$tmp/domU" "$tmp/dom0" "$tmp/ldd.out" "$root"
{
	echo "xen $xen"
	echo "suite $suite"
	echo "kernel $kernel_pkg"
	for p in xen-hypervisor-$xen-amd64 xen-utils-$xen busybox-static $(echo $hvm_pkgs | cut -d' ' -f1); do
		echo "$p $(ls "$vcache/debs/${p}_"*.deb | sed 's/.*_\(.*\)_amd64.deb/\1/')"
	done
} > "$tmp/versions"
echo "$insum" > "$tmp/.stamp"
rm -rf "$img"
mv "$tmp" "$img"
log "images ready in $img ($(du -sh "$img" | cut -f1))"
echo "$img"
