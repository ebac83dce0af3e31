#!/bin/bash
# SPDX-License-Identifier: MIT
# The fresh-machine proof: each make command runs in its own new Debian 12
# (bookworm, debootstrap --variant=minbase) chroot with this working tree
# copied in.  First as a user, where it must stop and name the exact
# `apt-get install` line; then as root, where it must install those
# packages itself and succeed.  The chroot gets nothing but `make` and the
# host's apt sources (the same archive).  .ci/run proves `make demo` so.
#
# usage: scripts/fresh-machine.sh ['MAKE ARGS'...]   (default: 'demo')
#   e.g. scripts/fresh-machine.sh demo fuzz 'lab STORE=xpt SCENARIO=cold-plug'
# Environment: XPT_FRESH_MIRROR (debootstrap's mirror, default
#   http://deb.debian.org/debian), XPT_FRESH_KEEP=1 (keep the chroots).
# Needs root: debootstrap, chroot and a private mount and PID namespace, so
# no mount and no process outlives a run.  The minbase tree is cached in
# .cache/fresh/ for a day.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mirror=${XPT_FRESH_MIRROR:-http://deb.debian.org/debian}
cache=$top/.cache/fresh
base=$cache/bookworm-minbase.tar
log() { echo "fresh-machine: $*"; }
die() { echo "fresh-machine: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount namespaces)"
[ $# -gt 0 ] || set -- demo
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null ||
		die "apt-get install debootstrap failed"
fi
mkdir -p "$cache"

# The pristine minbase tree, made at most once a day.
if [ -z "$(find "$base" -mtime -1 2>/dev/null)" ]; then
	t0=$SECONDS
	tmp=$(mktemp -d "$cache/debootstrap.XXXXXX")
	if ! debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
		tail -20 "$cache/debootstrap.log" >&2
		rm -rf --one-file-system "$tmp"
		die "debootstrap bookworm from $mirror failed (log above)"
	fi
	tar -C "$tmp" -cf "$base.tmp" .
	mv -f "$base.tmp" "$base"
	rm -rf --one-file-system "$tmp"
	log "debootstrap --variant=minbase bookworm: $((SECONDS - t0))s"
fi

# in_chroot ROOT CMD: run CMD (sh -c) in ROOT with /proc and /dev/shm, in
# namespaces of its own: its mounts and processes end with it.
in_chroot() {
	unshare --mount --pid --fork --propagation private /bin/sh -c '
		mount -t proc proc "$1/proc" &&
		mount -t tmpfs -o mode=1777 shm "$1/dev/shm" &&
		exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb /bin/sh -c "$2"' sh "$1" "$2"
}

# prepare ROOT: a fresh copy of the minbase tree with the host's apt
# sources, make, and this working tree in /xpt (no .git, build or cache).
prepare() {
	tar -C "$1" -xf "$base"
	chmod 755 "$1"		# mktemp's 0700 would lock users out of /
	rm -f "$1/etc/apt/sources.list"
	cp /etc/apt/sources.list "$1/etc/apt/" 2>/dev/null || true
	find /etc/apt/sources.list.d -maxdepth 1 \( -name '*.list' -o -name '*.sources' \) \
		-exec cp {} "$1/etc/apt/sources.list.d/" \;
	cp /etc/resolv.conf "$1/etc/resolv.conf"
	mkdir "$1/xpt"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			tar --null -T - --ignore-failed-read -cf - 2>/dev/null
	else
		tar --exclude=./.cache --exclude='./build*' -cf - .
	fi | tar -C "$1/xpt" -xf -
	in_chroot "$1" 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q make' \
		>"$1/prepare.log" 2>&1 || {
		cat "$1/prepare.log" >&2
		die "could not install make in the chroot"
	}
}

root=
cleanup() {
	if [ -n "$root" ] && [ -z "${XPT_FRESH_KEEP:-}" ]; then
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT

status=0
for args in "$@"; do
	t0=$SECONDS
	cleanup
	root=$(mktemp -d "$cache/root.XXXXXX")
	prepare "$root"
	log "make $args: a new bookworm minbase in $root ($((SECONDS - t0))s)"
	out=$root/make.log

	# As a user: must fail, naming the packages in one apt-get line.
	rc=0
	in_chroot "$root" "cd /xpt && setpriv --reuid=nobody --regid=nogroup --clear-groups make $args" \
		>"$out.user" 2>&1 || rc=$?
	line=$(grep -o 'apt-get install .*' "$out.user" | head -1 || true)
	if [ $rc = 0 ] || [ -z "$line" ]; then
		sed 's/^/  | /' "$out.user"
		log "FAIL: make $args as a user did not stop with an apt-get line (exit $rc)"
		status=1
	else
		log "make $args as a user: exit $rc, prints: $line"
	fi

	# As root: installs what it needs and succeeds.
	t1=$SECONDS
	rc=0
	in_chroot "$root" "cd /xpt && make $args" >"$out" 2>&1 || rc=$?
	installed=$(sed -n 's/^deps: installing missing Debian packages://p' "$out" | head -1)
	if [ $rc != 0 ]; then
		sed 's/^/  | /' "$out"
		log "FAIL: make $args as root: exit $rc after $((SECONDS - t1))s"
		status=1
	elif [ "apt-get install$installed" != "$line" ]; then
		sed 's/^/  | /' "$out"
		log "FAIL: make $args as root installed '$installed'; as a user it named '$line'"
		status=1
	else
		tail -3 "$out" | sed 's/^/  | /'
		log "make $args as root: PASS in $((SECONDS - t1))s (installed:$installed)"
	fi
	[ -z "${XPT_FRESH_KEEP:-}" ] || log "kept $root"
done
exit $status
