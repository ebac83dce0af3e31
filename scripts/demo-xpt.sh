#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: PCI passthrough to a PV guest, and to an HVM guest through
# its device model (in dom0, then in a stub domain), on the modelled Xen host, driven with the xpt
# toolstack.  At every step it shows, side by side,
# what the toolstack recorded (`xpt pci-list`) and what the guest itself
# sees (`xpt guest-status`: its devices, drivers and interrupt counts).
#
# usage: scripts/demo-xpt.sh [BUILD_DIR]   (default: build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$top/build}")
xptbin="$build/src/xpt/xpt"
[ -x "$xptbin" ] || { echo "demo: $xptbin not built (make build)" >&2; exit 1; }
xpt() { "$xptbin" "$@"; }
cd "$top"
export XPT_RUNDIR
XPT_RUNDIR=$(mktemp -d /tmp/xpt-demo.XXXXXX)
bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)

cleanup() {
	xpt host stop >/dev/null 2>&1 || true
	rm -rf "$XPT_RUNDIR"
}
trap cleanup EXIT

step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
say() { printf '   %s\n' "$@"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }

# What the guest sees, in words: one line per device it found.
guest_view() {
	xpt guest-status "$1" | awk '
	/^state/ && $4 == "hvm" { print "  an HVM guest: PCI by config-space I/O, answered by its device model" }
	/^state/ && $4 != "hvm" { split($2, f, "="); split($3, b, "=");
		   printf "  guest PCI frontend state %s, backend state %s (4 = connected)\n", f[2], b[2] }
	/^dev / {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		kind = "device"
		if (v["class"] ~ /^0x0200/) kind = "Ethernet"
		if (v["class"] ~ /^0x0108/) kind = "NVMe"
		if (v["class"] ~ /^0x03/) kind = "GPU"
		if (v["class"] ~ /^0x0403/) kind = "audio"
		where = v["host"] == "?" ? "" : " = host " v["host"]
		printf "  guest slot %s%s  %-8s %s:%s  driver %-5s %s x%s  interrupts %s\n",
		       $2, where, kind, substr(v["vendor"], 3), substr(v["device"], 3),
		       v["driver"], v["irq"], v["vectors"], v["count"]
		n++ }
	END { if (!n) print "  (the guest sees no PCI device)" }'
}

# Both views of the domain side by side.
show() {
	printf '%s-- toolstack (xpt pci-list %s):%s\n' "$bold" "$1" "$off"
	xpt pci-list "$1" | sed 's/^/  /'
	printf '%s-- guest (xpt guest-status %s):%s\n' "$bold" "$1" "$off"
	guest_view "$1"
}

# Make a device signal interrupts n times on vector 0 (the modelled
# hardware: e.g. a NIC receiving packets).
traffic() {
	local i
	bound "$1"
	for i in $(seq "$2"); do xpt host raise-irq "$1" 0 >/dev/null; done
}

# The guest's driver binds a device a moment after the toolstack returns
# (the backend connects first): wait for it, bounded, before the traffic.
# $2: the guest (default demo); $3: what to look for in its status.
bound() {
	local deadline=$((SECONDS + 10)) full
	full=$(printf '%s' "$1" | sed 's/^\([0-9a-f]*:[0-9a-f]*\.[0-7]\)$/0000:\1/')
	until xpt guest-status "${2:-demo}" 2>/dev/null |
		grep -q "${3:-host=$full .*driver=bound}"; do
		if [ $SECONDS -ge $deadline ]; then
			echo "demo: the guest did not bind $1 within 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
}

step "1. Start the modelled host"
say "A host is a hypervisor with PCI devices, a xenstore database and dom0's PCI" \
    "backend (pciback).  Its devices come from examples/host: an SR-IOV NIC with" \
    "4 virtual functions (VFs, 03:02.0-3), a GPU with its HDMI audio (02:00.0-1)," \
    "an NVMe drive (04:00.0)."
run xpt host start --host "examples/host"
run xpt host status

step "2. Make devices assignable (bind them to pciback, quarantine them)"
for d in 03:02.0 03:02.1 03:02.2 03:02.3; do xpt pci-assignable-add "$d"; done
run xpt pci-assignable-add -n nvme 04:00.0
run xpt pci-assignable-list

step "3. Create a guest with three NIC VFs (cold-plug)"
say "examples/demo.cfg lists pci = [ \"03:02.0\", \"03:02.1\", \"03:02.2\" ]: all three" \
    "go into xenstore in ONE transaction before the guest runs, so even an old" \
    "pciback exports all of them (Xen's toolstack once lost all but the first)."
run xpt create "examples/demo.cfg"
run xpt list
traffic 03:02.0 5
traffic 03:02.2 2
say "(the VFs at 03:02.0 and 03:02.2 received 5 and 2 interrupts)"
show demo

step "4. Hot-plug the NVMe drive into the running guest"
say "The toolstack waits for the backend to be connected, writes the device and" \
    "'reconfigure' in one transaction, then waits until the guest took it."
run xpt pci-attach demo name=nvme
traffic 04:00.0 3
show demo

step "5. Hot-unplug one VF (03:02.1)"
say "The guest releases it, the toolstack compacts the backend's list, the device" \
    "is reset and goes back to quarantine, assignable again."
run xpt pci-detach demo 03:02.1
show demo
run xpt pci-assignable-list

step "6. Reboot the guest"
say "The domain is destroyed and created again from its recorded configuration," \
    "which follows every attach and detach: the same three devices come back."
run xpt reboot demo
traffic 04:00.0 1
show demo

step "7. An HVM guest beside it"
say "examples/demo-hvm.cfg: type=\"hvm\" with the fourth VF (03:02.3) at guest slot 6." \
    "Its device model starts paused; the VF is given to it over QMP (device_add)" \
    "before the guest's first instruction; the guest runs only after the device" \
    "model's 'cont', so its first PCI scan finds the device."
run xpt create "examples/demo-hvm.cfg"
run xpt list
bound 03:02.3 desk "0000:00:06.0 .*driver=bound"
for i in 1 2 3 4; do xpt host raise-irq 03:02.3 0 >/dev/null; done
say "(the VF at 03:02.3 received 4 interrupts)"
show desk
run xpt destroy desk

step "8. An HVM guest with its device model in a stub domain"
say "examples/demo-stubdom.cfg: the same VF, but the device model runs in its own" \
    "small PV domain, kiosk-dm, not in dom0.  The VF goes to kiosk-dm through its" \
    "own PCI backend (its pcifront connects it), then to the device model there," \
    "which hands it to the guest; the hypervisor gives the VF to the guest itself."
run xpt create "examples/demo-stubdom.cfg"
run xpt list
bound 03:02.3 kiosk "0000:00:06.0 .*driver=bound"
for i in 1 2 3; do xpt host raise-irq 03:02.3 0 >/dev/null; done
say "(the VF at 03:02.3 received 3 interrupts)"
show kiosk
printf '%s-- the stub domain (xpt guest-status kiosk-dm):%s\n' "$bold" "$off"
guest_view kiosk-dm
run xpt pci-detach kiosk 03:02.3
run xpt destroy kiosk
run xpt list

step "9. Destroy the guests and stop the host"
run xpt destroy demo
run xpt pci-assignable-list
run xpt host stop
printf '\n%sdone.%s\n' "$bold" "$off"
