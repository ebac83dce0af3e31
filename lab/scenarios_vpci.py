# SPDX-License-Identifier: MIT
"""The lab's vPCI scenario: Xen 4.20 with a PVH dom0, whose own PCI
devices Xen's vPCI handles (config space trapped, BARs mapped into dom0's
p2m only while memory decoding is on).  It hammers the race of seed 002
(research hv-dm.md, A.1 and A.12): dom0 toggling memory decoding and
moving a BAR of the edu at 0000:00:06.0 while the same device is removed
and rescanned (Linux tells Xen with PHYSDEVOP_pci_device_remove and _add),
on two vCPUs.  Not in the default set; needs Xen 4.20: its expectations
were measured there (anchors/realxen/XEN420.md), 4.17's vPCI predates
the 4.19 locking (hv-dm.md A.10) and the lab has never booted a PVH dom0
on 4.17; there it is SKIP, with the reason.

The driver gives it (functions with .pvh_dom0) the SVM machine, an IOMMU
with aw-bits=48, dom0=pvh and dom0_max_vcpus=2, and dom0 the static
helper lab-vpci (lab/lab-vpci.c, .dom0_helpers; lab.sh builds it): config
reads and writes through sysfs, 32-bit reads of a physical address
through /dev/mem and of a BAR through resourceN, and the race loop.

First the oracle (facts "oracle", tests/data/vpci-oracle.txt): what dom0
sees through the BAR with decoding on and off, after a move, after a BAR
write with decoding on, after remove and after rescan.  Then the race in
rounds (LAB_VPCI_ROUNDS of them, or as many as fit in LAB_VPCI_SECONDS,
default 300; each LAB_VPCI_CYCLES cycles, default 5): in each cycle a
child process toggles decoding and moves BAR 0 between its address and a
free one while the parent removes the device and rescans; then the
device must be back and answer its ID register (0x010000ED) through BAR
0, both at the address in config space (/dev/mem) and through Linux's
resource0 (BAR 0 set to Linux's resource first: Linux's own BAR write
after a rescan comes with decoding on, which Xen ignores).
LAB_VPCI_MODE=toggle-only or remove-only runs one half alone (controls).
At the end: Xen's console and `xl dmesg` have no line of trouble, dom0's
kernel logged no oops or warning, and dom0's shell and Xen answer.
"""
import os
import re
import time

BDF = "0000:00:06.0"
ID = 0x010000ED          # edu's identification register, BAR 0 offset 0
VENDOR_DEVICE = 0x11E81234
CMD_MEM = 0x2
ALL_ONES = 0xFFFFFFFF
# Lines of Xen (xl dmesg, its console) or dom0's kernel that mean trouble.
# (Also grep -iE patterns in dom0: the logs are long after the race.)
XEN_TROUBLE_ERE = ("vpci|page fault|fatal|assert|bug|panic|crash|warn|"
                   "traceback|d0v[0-9]+ .*fault")
LINUX_TROUBLE_ERE = ("bug|oops|warning|call trace|general protection|"
                     "unable to handle|rip:|soft lockup|hung task")
XEN_TROUBLE = re.compile(XEN_TROUBLE_ERE, re.I)
LINUX_TROUBLE = re.compile(LINUX_TROUBLE_ERE, re.I)


def v(lab, args, name, expect_rc=0, timeout=60):
    return lab.sh("lab-vpci %s" % args, name=name, expect_rc=expect_rc,
                  timeout=timeout)


def val(step):
    """The hex number a lab-vpci read printed (None when it printed none)."""
    m = re.search(r"0x[0-9a-fA-F]+", step.get("out") or "")
    return int(m.group(0), 16) if m else None


def rd(lab, addr, name):
    return val(v(lab, "memrd 0x%x" % addr, name))


def cfg(lab, off, size, name):
    return val(v(lab, "cfgrd %s 0x%x %d" % (BDF, off, size), name))


def cfgwr(lab, off, size, value, name):
    v(lab, "cfgwr %s 0x%x %d 0x%x" % (BDF, off, size, value), name)


def parse_iomem(text):
    """/proc/iomem -> [(depth, start, end, name)]."""
    out = []
    for ln in text.splitlines():
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", ln)
        if m:
            out.append((len(m.group(1)) // 2, int(m.group(2), 16),
                        int(m.group(3), 16), m.group(4).strip()))
    return out


def free_slot(iomem, bar, size):
    """A size-aligned range of size bytes, below 4 GiB, inside the PCI root
    window that holds bar, that nothing in /proc/iomem uses: the highest
    one (Linux allocates from the bottom of a window)."""
    ents = parse_iomem(iomem)
    win = None
    for i, (d, s, e, n) in enumerate(ents):
        if n.startswith("PCI Bus 0000:00") and s <= bar <= e and e < 1 << 32:
            win = (i, d, s, e)
    if win is None:
        return None
    i, d, s, e = win
    used = []
    for d2, s2, e2, n2 in ents[i + 1:]:
        if d2 <= d:
            break
        used.append((s2, e2))
    # Anything else (reserved regions outside the window's subtree) too.
    used += [(s2, e2) for d2, s2, e2, n2 in ents
             if d2 == 0 and not n2.startswith("PCI Bus")]
    a = ((e + 1 - size) // size) * size
    while a >= s:
        if a != bar and all(a + size - 1 < s2 or a > e2 for s2, e2 in used):
            return a
        a -= size
    return None


def linux_res0(lab, what):
    """Linux's resource 0 of the edu: (start, size)."""
    res = lab.sh("head -n 1 /sys/bus/pci/devices/%s/resource" % BDF,
                 name="%s: Linux's resource 0" % what)["out"].split()
    if len(res) < 2:
        return 0, 0
    return int(res[0], 16), int(res[1], 16) - int(res[0], 16) + 1


def bar_info(lab, what):
    """(BAR 0's address, its size, COMMAND) as dom0 sees them now."""
    bar = cfg(lab, 0x10, 4, "%s: BAR 0" % what)
    size = linux_res0(lab, what)[1]
    cmd = cfg(lab, 0x04, 2, "%s: COMMAND" % what)
    return (bar or 0) & ~0xF, size, cmd or 0


def alt_addr(lab, bar, size, what):
    iomem = lab.sh("cat /proc/iomem", name="%s: /proc/iomem" % what)["out"]
    alt = free_slot(iomem, bar, size)
    lab.check(lab.steps[-1], alt is not None,
              "a free %#x-byte slot in the PCI window of %#x" % (size, bar),
              iomem)
    return alt


def decoding(lab, cmd, on, name):
    cfgwr(lab, 0x04, 2, (cmd | CMD_MEM) if on else (cmd & ~CMD_MEM), name)


def move(lab, cmd, to, name):
    """Decoding off, BAR 0 = to, decoding on (how dom0 moves a BAR)."""
    decoding(lab, cmd, False, "%s: decoding off" % name)
    cfgwr(lab, 0x10, 4, to, "%s: BAR 0 = %#x" % (name, to))
    decoding(lab, cmd, True, "%s: decoding on" % name)


def xen_pdev(lab, what):
    """Whether Xen's PCI device list (debug key Q) has the edu now."""
    st = lab.sh("xl dmesg -c >/dev/null; xl debug-keys Q; "
                "xl dmesg | grep -c '%s' || true" % BDF[5:],
                name="%s: Xen's PCI device list (debug key Q)" % what)
    lines = st["out"].strip().splitlines()
    return lines[-1].strip() if lines else "?"


def oracle(lab):
    """The guest-visible (here: hardware domain's) behaviour, each fact
    checked where Xen's design says what it must be and recorded."""
    o = {}
    t = lab.sh("cat /sys/hypervisor/guest_type; xl info | "
               "grep -E '^(xen_version|xen_caps)'",
               name="dom0 is PVH on Xen 4.20")
    lab.check(t, t["out"].splitlines()[0].strip() == "PVH",
              "dom0's guest_type PVH", t["out"])
    # dom0's kernel base this boot (KASLR), to place a RIP of Xen's dump
    # of a dom0 vCPU in Debian's System.map.
    k = lab.sh("grep -m1 ' _stext$' /proc/kallsyms",
               name="dom0's kernel text base (kallsyms)", expect_rc=None)
    lab.facts["dom0_stext"] = (k["out"].split() or ["?"])[0]
    vd = cfg(lab, 0x00, 4, "edu's vendor and device id")
    lab.check(lab.steps[-1], vd == VENDOR_DEVICE, "%#x" % VENDOR_DEVICE,
              "%r" % vd)
    bar, size, cmd = bar_info(lab, "at boot")
    o["bar0"] = "%#x" % bar
    o["bar0_size"] = "%#x" % size
    o["command_at_boot"] = "%#06x" % cmd
    alt = alt_addr(lab, bar, size, "at boot")
    o["alt"] = "%#x" % alt
    lab.facts["vpci_alt"] = alt

    decoding(lab, cmd, True, "decoding on")
    o["id_value"] = rd(lab, bar, "ID through BAR 0, decoding on")
    lab.check(lab.steps[-1], o["id_value"] == ID, "%#010x" % ID,
              "%r" % o["id_value"])
    r0 = val(v(lab, "resrd %s 0 0" % BDF, "ID through resource0"))
    lab.check(lab.steps[-1], r0 == ID, "%#010x" % ID, "%r" % r0)

    decoding(lab, cmd, False, "decoding off")
    o["read_decoding_off"] = rd(lab, bar, "BAR 0 read, decoding off")
    lab.check(lab.steps[-1], o["read_decoding_off"] == ALL_ONES,
              "all-ones", "%r" % o["read_decoding_off"])

    cfgwr(lab, 0x10, 4, alt, "move: BAR 0 = alt (decoding off)")
    decoding(lab, cmd, True, "move: decoding on")
    back = (cfg(lab, 0x10, 4, "move: BAR 0 read back") or 0) & ~0xF
    lab.check(lab.steps[-1], back == alt, "%#x" % alt, "%#x" % back)
    o["moved_new_addr_read"] = rd(lab, alt, "move: read at the new address")
    lab.check(lab.steps[-1], o["moved_new_addr_read"] == ID, "%#010x" % ID,
              "%r" % o["moved_new_addr_read"])
    o["moved_old_addr_read"] = rd(lab, bar, "move: read at the old address")
    lab.check(lab.steps[-1], o["moved_old_addr_read"] == ALL_ONES,
              "all-ones", "%r" % o["moved_old_addr_read"])
    move(lab, cmd, bar, "move back")
    x = rd(lab, bar, "move back: read at the old address again")
    lab.check(lab.steps[-1], x == ID, "%#010x" % ID, "%r" % x)

    # A BAR write with decoding on: Xen's vPCI ignores it for a BAR that is
    # mapped (hv-dm.md A.5); what happens is measured, not asserted.
    cfgwr(lab, 0x10, 4, alt, "BAR 0 = alt with decoding on")
    rb = (cfg(lab, 0x10, 4, "decoding on: BAR 0 read back") or 0) & ~0xF
    old = rd(lab, bar, "decoding on: read at the old address")
    new = rd(lab, alt, "decoding on: read at the written address")
    o["bar_write_while_decoding"] = (
        "ignored" if rb == bar and old == ID else
        "applied" if rb == alt and new == ID else
        "other")
    o["bar_write_while_decoding_readback"] = "%#x" % rb
    o["bar_write_while_decoding_old_read"] = old
    o["bar_write_while_decoding_new_read"] = new
    if rb != bar:
        move(lab, cmd, bar, "restore BAR 0")

    # Remove: Xen's record of the device and dom0's view of the old BAR.
    o["xen_pdev_before_remove"] = xen_pdev(lab, "before remove")
    v(lab, "remove %s" % BDF, "remove the edu (sysfs)")
    o["read_after_remove"] = rd(lab, bar, "after remove: read at BAR 0's "
                                "address")
    o["xen_pdev_after_remove"] = xen_pdev(lab, "after remove")
    v(lab, "rescan", "rescan the bus (sysfs)", timeout=120)
    vd = cfg(lab, 0x00, 4, "after rescan: vendor and device id")
    lab.check(lab.steps[-1], vd == VENDOR_DEVICE, "%#x" % VENDOR_DEVICE,
              "%r" % vd)
    o["xen_pdev_after_rescan"] = xen_pdev(lab, "after rescan")
    bar2, size2, cmd2 = bar_info(lab, "after rescan")
    o["bar0_after_rescan"] = "%#x" % bar2
    o["command_after_rescan"] = "%#06x" % cmd2
    # Linux assigns the rescanned device's BAR anew (first fit) and writes
    # it with decoding on; Xen ignores that write while the BAR is mapped,
    # so Linux's resource and the BAR can differ: read through both.
    rs, _ = linux_res0(lab, "after rescan")
    o["linux_res0_after_rescan"] = "%#x" % rs
    o["read_after_rescan_resource0"] = val(v(
        lab, "resrd %s 0 0" % BDF, "after rescan: read through resource0"))
    o["read_after_rescan_as_left"] = rd(lab, bar2, "after rescan: read at "
                                        "BAR 0 as Linux left it")
    if not cmd2 & CMD_MEM:
        decoding(lab, cmd2, True, "after rescan: decoding on")
    o["read_after_rescan"] = rd(lab, bar2, "after rescan: ID through BAR 0, "
                                "decoding on")
    lab.check(lab.steps[-1], o["read_after_rescan"] == ID, "%#010x" % ID,
              "%r" % o["read_after_rescan"])
    if rs and rs != bar2:
        # BAR 0 where Linux thinks it is (decoding off first, as Xen wants)
        move(lab, cmd2 | CMD_MEM, rs, "after rescan: BAR 0 to Linux's "
             "resource")
        bar2 = rs
        o["read_after_realign_resource0"] = val(v(
            lab, "resrd %s 0 0" % BDF, "after realign: read through "
            "resource0"))
        lab.check(lab.steps[-1], o["read_after_realign_resource0"] == ID,
                  "%#010x" % ID, "%r" % o["read_after_realign_resource0"])
    for k in list(o):
        if isinstance(o[k], int):
            o[k] = "%#010x" % o[k]
    lab.facts["oracle"] = o
    return bar2


def env_int(name, default):
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def vpci_race(lab):
    bar = oracle(lab)
    # LAB_VPCI_ROUNDS rounds, or as many as LAB_VPCI_SECONDS (300) of race
    # take: a round's time varies tenfold with the host's load under TCG.
    rounds = env_int("LAB_VPCI_ROUNDS", 0) if \
        os.environ.get("LAB_VPCI_ROUNDS") else 0
    budget = env_int("LAB_VPCI_SECONDS", 300)
    cycles = env_int("LAB_VPCI_CYCLES", 5)
    lab.facts["vpci_cycles_per_round"] = cycles
    # LAB_VPCI_MODE (for controls): remove-only (no toggling child) or
    # toggle-only (no remove and rescan); default both.
    mode = os.environ.get("LAB_VPCI_MODE", "both")
    lab.facts["vpci_mode"] = mode
    env = "" if mode == "both" else "LAB_VPCI_MODE=%s " % mode
    if rounds:
        lab.facts["vpci_rounds_asked"] = rounds
    else:
        lab.facts["vpci_seconds_budget"] = budget
    # From here on every line of Xen and of dom0's kernel is new.
    lab.sh("xl dmesg -c >/dev/null; dmesg -c >/dev/null",
           name="clear Xen's and dom0's message rings")
    serial0 = lab.qemu.mark()
    totals = {"ok": 0, "bad": 0, "config_writes": 0, "failed_writes": 0,
              "cycles": 0}
    per_cycle = []

    def body(lab, i):
        bar, size, cmd = bar_info(lab, "before")
        alt = alt_addr(lab, bar, size, "before")
        st = lab.sh("%slab-vpci race %s 0x%x 0x%x %d" % (
            env, BDF, alt, ID, cycles), name="remove/rescan while toggling "
            "decoding and moving BAR 0", expect_rc=None,
            timeout=60 + 60 * cycles)
        m = re.search(r"RACE ok=([0-9]+) bad=([0-9]+) cycles=([0-9]+) "
                      r"config_writes=([0-9]+) failed_writes=([0-9]+) "
                      r"s=([0-9.]+)", st["out"])
        for ln in st["out"].splitlines():
            c = re.search(r" s=([0-9.]+) ", ln)
            if ln.startswith("CYCLE") and c:
                per_cycle.append(float(c.group(1)))
        if m:
            for k, g in (("ok", 1), ("bad", 2), ("cycles", 3),
                         ("config_writes", 4), ("failed_writes", 5)):
                totals[k] += int(m.group(g))
        lab.check(st, m is not None and st["rc"] == 0 and
                  int(m.group(2)) == 0,
                  "every cycle: the edu back after the rescan and its ID "
                  "register %#010x through BAR 0" % ID, st["out"])
        # dom0's kernel log so far (a WARN is below the console's
        # loglevel 4): each line of trouble is recorded in its round.
        a = lab.sh("dmesg | grep -iE '%s' | head -n 40 | sed 's/^/| /'; "
                   "true" % LINUX_TROUBLE_ERE,
                   name="dom0 shell answers, its kernel log clean")
        bad = [ln for ln in a["out"].splitlines() if LINUX_TROUBLE.search(ln)]
        lab.check(a, a["rc"] == 0 and not bad, "rc 0 and no oops, BUG or "
                  "warning in dom0's kernel log", "\n".join(bad))
        return True

    t0 = time.monotonic()
    lab.rounds(rounds or 100000, body, until=None if rounds else
               lambda: time.monotonic() - t0 >= budget)
    lab.facts["vpci_race_seconds"] = round(time.monotonic() - t0, 1)
    lab.facts["vpci_rounds"] = len(lab.round_results)
    lab.facts["vpci_race"] = totals
    if per_cycle:
        per_cycle.sort()
        lab.facts["vpci_cycle_seconds_median"] = per_cycle[len(per_cycle) // 2]

    # After the storm: Xen and dom0 alive and quiet.
    xi = lab.sh("xl info | grep -E '^(xen_version|free_memory)'; xl list",
                name="after: Xen answers (xl info, xl list)")
    lab.check(xi, "Domain-0" in xi["out"], "Domain-0 in xl list", xi["out"])
    # Prefixed, or the driver would keep them apart as console lines.
    xd = lab.sh("xl dmesg | wc -l; xl dmesg | grep -iE '%s' | "
                "sed 's/^/| /'; true" % XEN_TROUBLE_ERE,
                name="after: xl dmesg")
    xl = xd["out"].splitlines()
    bad = [ln for ln in xl[1:] if XEN_TROUBLE.search(ln)]
    lab.facts["xl_dmesg_lines_after_race"] = xl[0].strip() if xl else "?"
    lab.check(xd, not bad, "no vPCI, fault, assertion or crash line in "
              "xl dmesg", "\n".join(bad[:40]))
    # Xen's console (all of it; xl dmesg is a ring) during the race.
    serial = lab.qemu.text(serial0).splitlines()
    con = [ln for ln in serial
           if ln.startswith("(XEN)") and XEN_TROUBLE.search(ln)]
    lab.facts["xen_console_during_race"] = {
        k: sum(1 for ln in serial if ln.startswith("(XEN)") and p in ln)
        for k, p in (("pci_remove", "PCI remove device " + BDF),
                     ("pci_add", "PCI add device " + BDF),
                     ("ignored_bar_write", "ignored BAR 0 write while "
                      "mapped"))}
    lab.facts["xen_console_lines_during_race"] = sum(
        1 for ln in serial if ln.startswith("(XEN)"))
    lab.check(xd, not con, "no such line on Xen's console during the race",
              "\n".join(con[:40]))
    dm = lab.sh("dmesg | grep -c 'error updating'; dmesg | grep -iE '%s' "
                "| sed 's/^/| /'; true" % LINUX_TROUBLE_ERE,
                name="after: dom0's kernel log")
    dl = dm["out"].splitlines()
    bad = [ln for ln in dl[1:] if LINUX_TROUBLE.search(ln)]
    lab.facts["linux_bar_update_errors"] = dl[0].strip() if dl else "?"
    lab.check(dm, not bad, "no oops, BUG or warning in dom0's kernel log",
              "\n".join(bad[:40]))
    bar, size, cmd = bar_info(lab, "after")
    if not cmd & CMD_MEM:
        decoding(lab, cmd, True, "after: decoding on")
    x = rd(lab, bar, "after: ID through BAR 0")
    lab.check(lab.steps[-1], x == ID, "%#010x" % ID, "%r" % x)


vpci_race.pvh_dom0 = True          # driver.py: the PVH dom0 machine
vpci_race.needs_xen = ("4.20",)    # SKIP elsewhere, with needs_why
vpci_race.needs_why = ("a PVH dom0 and vPCI as measured on 4.20; 4.17's "
                       "vPCI predates the 4.19 locking, and no PVH dom0 "
                       "was ever booted on the 4.17 lab")
vpci_race.dom0_helpers = ("lab-vpci",)  # lab/lab-vpci.c, built by lab.sh

# name: (function, what it checks, in the default set); merged into
# scenarios.SCENARIOS.
VPCI_SCENARIOS = {
    "vpci-remove-race": (
        vpci_race, "Xen 4.20, PVH dom0: memory decoding toggled and BAR 0 "
        "moved while the edu is removed and rescanned, many rounds; Xen "
        "and dom0 survive, the device answers after every rescan "
        "(LAB_VPCI_SECONDS, LAB_VPCI_ROUNDS)", False),
}
