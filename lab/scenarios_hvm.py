# SPDX-License-Identifier: MIT
"""The lab's HVM scenarios, written once for both toolstacks like the PV
ones (scenarios.py): the guest is lab/guest/hvm.cfg (type="hvm", the same
kernel and initramfs as the PV guest, booted by hvmloader and SeaBIOS) and
its passed-through devices reach it through a real device model, Debian's
qemu-system-xen in dom0, which the toolstack starts and drives over QMP.

The driver gives these scenarios (functions with .hvm set) a machine
whose CPU has SVM and nested paging (driver.CPU_HVM) and dom0's HVM part
(img/dom0-hvm.cpio.gz: the device model, its libraries, SeaBIOS,
hvmloader, hvm.cfg).  In the guest there is no pcifront: devices are on
the emulated PCI bus beside the chipset, so the reporter lists only the
lab's devices (lab.pci= on the guest's command line); the guest's
reports reach dom0 as for PV (its PV console, hvc0, logged by
xenconsoled).  Hot-plug goes through ACPI (acpiphp, built into Debian's
kernel).

Toolstack operations are tagged with op names prefixed "hvm-", so that the
driver's operation table gives HVM figures in rows of their own.  Step
names never name the toolstack.
"""
import scenarios
from scenarios import (E1000, EDU, VBLK, assignable_add, assert_assignable,
                       find, names, pci_list, sees, stale_records, _growth)

CFG = "/root/hvm.cfg"
# QEMU's process in dom0 for domain D, found by its command line (whoever
# started it); "[ ]" keeps the grep from matching its own command line.
DM_PIDS = ("for p in /proc/[0-9]*; do "
           "{ tr '\\0' ' ' <$p/cmdline; } 2>/dev/null | "
           "grep -q -- '-xen-domid[ ]%d ' && "
           "echo \"${p#/proc/} $(cut -d' ' -f3 $p/stat)\"; done; true")


def create(lab, name, pci=(), hotplug=False):
    """TOOL create /root/hvm.cfg name=... [pci=[...]] [passthrough=...];
    then the device model must be running (QEMU writes
    /local/domain/0/device-model/<domid>/state = running)."""
    args = ['name="%s"' % name]
    if pci:
        args.append("pci=[%s]" % ",".join('"%s"' % d.bdf for d in pci))
    if hotplug:
        args.append('passthrough="enabled"')
    what = ("with " + names(pci)) if pci else "empty"
    if hotplug:
        what += ', passthrough="enabled"'
    op = {0: "hvm-create-0", 1: "hvm-create-1",
          2: "hvm-create-2"}.get(len(pci))
    step = lab.tool("create %s %s" % (CFG, " ".join("'%s'" % a
                                                     for a in args)),
                    name="create %s (HVM, %s)" % (name, what), timeout=300,
                    op=op)
    if lab.round is not None and step["rc"] != 0:
        raise lab.RoundOver()  # no guest: this round is over
    dm_running(lab, name)
    return step


def dm_running(lab, name):
    # dom0's shell keeps its variables from step to step: cleared first,
    # or a missing domain would show the last one's state
    step = lab.sh("d= s=; d=$(lab-domid %s) && s=$(xenstore-read "
                  "/local/domain/0/device-model/$d/state); "
                  "echo \"domid=$d state=$s\"; [ \"$s\" = running ]"
                  % name, name="device model of %s running" % name,
                  expect_rc=None)
    lab.check(step, step["rc"] == 0,
              "an HVM domain %s whose device model (QEMU in dom0) says "
              "running" % name, step["out"])
    return step


def dm_pids(lab, domid, what):
    """[(pid, state)] of the device model processes of domain domid."""
    step = lab.sh(DM_PIDS % domid, name=what)
    return step, [tuple(ln.split()[:2]) for ln in step["out"].splitlines()
                  if len(ln.split()) >= 2 and ln.split()[0].isdigit()]


def dm_gone(lab, domid, name):
    """No device model of domain domid left running (a zombie whose parent
    has not reaped it yet counts as gone)."""
    step, procs = dm_pids(lab, domid, "no device model of %s left" % name)
    live = [p for p, st in procs if st != "Z"]
    return lab.check(step, not live, "no QEMU process of domain %d" % domid,
                     step["out"])


def is_hvm(lab, name):
    """The guest says it is an HVM guest (/sys/hypervisor/guest_type)."""
    step = lab.sh("lab-gstate %s | grep DOMU-BOOT" % name,
                  name="guest %s: runs as an HVM guest" % name,
                  expect_rc=None)
    lab.check(step, "type=HVM" in step["out"],
              "DOMU-BOOT ... type=HVM", step["out"])


def attach(lab, name, dev, what=None):
    return lab.tool("pci-attach %s %s" % (name, dev.bdf),
                    name=what or "hot-attach %s" % dev.label, timeout=180,
                    op="hvm-attach")


def detach(lab, name, dev, what=None):
    return lab.tool("pci-detach %s %s" % (name, dev.bdf),
                    name=what or "hot-detach %s" % dev.label, timeout=180,
                    op="hvm-detach")


def destroy(lab, name, op="hvm-destroy-live"):
    domid = scenarios.domid_of(lab, name)
    step = lab.tool("destroy %s" % name, name="destroy %s" % name,
                    timeout=300, op=op)
    dm_gone(lab, domid, name)
    return step, domid


# -- scenarios --------------------------------------------------------------

def hvm_cold_plug(lab):
    assignable_add(lab, E1000, EDU)
    lab.xsdump("before create")
    create(lab, "g1", pci=(E1000, EDU))
    lab.xsdump("created", "g1")
    lab.guest_wait("g1", "sees e1000 + edu",
                   lambda s: sees(s, (E1000, EDU)))
    is_hvm(lab, "g1")
    lab.xsdump("guest sees devices", "g1")
    pci_list(lab, "g1", (E1000, EDU))
    destroy(lab, "g1")
    lab.xsdump("destroyed")
    assert_assignable(lab, (E1000, EDU), "assignable again after destroy")


def hvm_hotplug(lab):
    assignable_add(lab, E1000, EDU)
    create(lab, "g1", hotplug=True)
    lab.guest_wait("g1", "up with no device", lambda s: sees(s, ()))
    is_hvm(lab, "g1")
    lab.xsdump("created empty", "g1")
    attach(lab, "g1", E1000)
    lab.guest_wait("g1", "sees e1000", lambda s: sees(s, (E1000,)))
    lab.xsdump("attached e1000", "g1")
    pci_list(lab, "g1", (E1000,))
    attach(lab, "g1", EDU)
    lab.guest_wait("g1", "sees e1000 + edu", lambda s: sees(s, (E1000, EDU)))
    lab.xsdump("attached edu", "g1")
    pci_list(lab, "g1", (E1000, EDU))
    detach(lab, "g1", E1000)
    lab.guest_wait("g1", "sees edu only", lambda s: sees(s, (EDU,)))
    lab.xsdump("detached e1000", "g1")
    pci_list(lab, "g1", (EDU,))
    assert_assignable(lab, (E1000,), "e1000 assignable after detach")
    detach(lab, "g1", EDU)
    lab.guest_wait("g1", "sees no device", lambda s: sees(s, ()))
    lab.xsdump("detached edu", "g1")
    pci_list(lab, "g1", ())
    destroy(lab, "g1")
    lab.xsdump("destroyed")
    assert_assignable(lab, (E1000, EDU), "assignable again after destroy")


def hvm_reassign_msix(lab):
    assignable_add(lab, VBLK)
    create(lab, "ga", pci=(VBLK,))
    st = lab.guest_wait("ga", "up", lambda s: s["boot"] is not None)
    is_hvm(lab, "ga")
    boot1 = st["boot"]
    _growth(lab, "ga", boot1, "ga, first boot")
    lab.xsdump("ga running with virtio-blk", "ga")

    lab.tool("reboot ga", name="reboot ga", timeout=180)
    st = lab.guest_wait("ga", "rebooted (new boot id)",
                        lambda s: s["boot"] not in (None, boot1))
    boot2 = st["boot"]
    dm_running(lab, "ga")
    ga_domid = scenarios.domid_of(lab, "ga")
    _growth(lab, "ga", boot2, "ga, after reboot")
    lab.xsdump("ga rebooted", "ga")

    detach(lab, "ga", VBLK, "detach virtio-blk from ga")
    lab.guest_wait("ga", "virtio-blk gone",
                   lambda s: s["boot"] == boot2 and find(s, VBLK) is None)
    lab.xsdump("detached from ga", "ga")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after detach")

    create(lab, "gb", hotplug=True)
    st = lab.guest_wait("gb", "up with no device", lambda s: sees(s, ()))
    gb_domid = scenarios.domid_of(lab, "gb")
    attach(lab, "gb", VBLK, "attach virtio-blk to gb")
    _growth(lab, "gb", st["boot"], "gb, after re-assignment")
    lab.xsdump("attached to gb", "ga", "gb")
    pci_list(lab, "gb", (VBLK,))
    # Both guests keep running: a guest that crashes (Xen: "dNv0 Triple
    # fault - invoking HVM shutdown action 1") is restarted by the
    # toolstack (on_reboot="restart") as a new domain of the same name,
    # which shows at once in its domid (its new boot id only once it has
    # booted).  Seen 5 to 60 s after the attach, in ga or in gb.
    lab.sh("sleep 60", name="60 s with the device in gb", timeout=120)
    for name, domid in (("ga", ga_domid), ("gb", gb_domid)):
        step = lab.sh("lab-domid %s" % name,
                      name="%s still domain %d (not crashed and "
                      "restarted)" % (name, domid), expect_rc=None)
        lab.check(step, step["out"].strip() == str(domid),
                  "%s still domain %d" % (name, domid), step["out"])
    lab.guest_wait("ga", "still its second boot, without the device",
                   lambda s: s["boot"] == boot2 and find(s, VBLK) is None,
                   timeout=10)

    destroy(lab, "gb")
    destroy(lab, "ga")
    lab.xsdump("destroyed")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after destroy")


def hvm_destroy_hung_dm(lab):
    """The guest's device model stops answering (SIGSTOP to its QEMU in
    dom0): destroy must still finish, leave no QEMU of the domain behind
    and give the device back.  In rounds: xl leaves the stopped QEMU
    (XFAIL, below), and a round that leaves anything gets the next one a
    fresh host."""
    def body(lab, i):
        scenarios.ensure_assignable(lab, (E1000,))
        create(lab, "g1", pci=(E1000,))
        lab.guest_wait("g1", "sees e1000", lambda s: sees(s, (E1000,)))
        domid = scenarios.domid_of(lab, "g1")
        step, procs = dm_pids(lab, domid, "device model process of g1")
        if not lab.check(step, len(procs) == 1 and procs[0][1] != "Z",
                         "one running QEMU process of domain %d" % domid,
                         step["out"]):
            return False
        pid = procs[0][0]
        step = lab.sh("kill -STOP %s && sleep 1 && cut -d' ' -f3 "
                      "/proc/%s/stat" % (pid, pid),
                      name="stop the device model (SIGSTOP)")
        lab.check(step, step["out"].strip().endswith("T"),
                  "QEMU stopped (state T)", step["out"])
        step, _ = destroy(lab, "g1", op="hvm-destroy-hung-dm")
        lab.facts.setdefault("destroy_hung_dm_seconds", []).append(
            step["seconds"])
        ok = step["rc"] == 0 and lab.round["failures"] == []
        gone = lab.sh("lab-domid g1 || echo gone", name="g1 gone")
        ok = lab.check(gone, gone["out"].strip() == "gone",
                       "no domain named g1 after destroy",
                       gone["out"]) and ok
        ok = stale_records(lab, domid) and ok
        lab.xsdump("destroyed")
        ok = assert_assignable(lab, (E1000,),
                               "e1000 assignable again after destroy") and ok
        left = lab.sh("cut -d' ' -f3 /proc/%s/stat 2>/dev/null || "
                      "echo gone" % pid,
                      name="the stopped QEMU after destroy")
        lab.facts.setdefault("hung_dm_after_destroy", []).append(
            left["out"].strip())
        return ok
    lab.rounds(lab.opts.rounds, body)


HVM_SPEED_OPS = (("hvm-create-2", "HVM create, 2 devices"),
                 ("hvm-detach", "HVM pci-detach"),
                 ("hvm-attach", "HVM pci-attach"),
                 ("hvm-destroy", "HVM destroy, 2 devices"))


def hvm_speed(lab):
    """speed (scenarios.py) for HVM guests: on one host, xl and xpt
    alternating round by round, each timed in dom0: create with two
    devices (until the command returns; the device model is running by
    then), hot-detach and hot-attach of the e1000 through the device
    model (until the command returns; the guest's ACPI eject or plug is
    then waited for by the scenario, untimed), destroy."""
    assignable_add(lab, E1000, EDU)
    both = (E1000, EDU)
    for r, order in scenarios.speed_rounds(lab):
        for tool in order:
            t = tool.split()[0]
            g = "h%s%d" % (t, r)
            scenarios.timed(lab, tool, "create %s 'name=\"%s\"' "
                            "'pci=[\"%s\",\"%s\"]'" % (CFG, g, E1000.bdf,
                                                       EDU.bdf),
                            "%s r%d: create %s (HVM, e1000 + edu)" %
                            (t, r, g), "hvm-create-2")
            dm_running(lab, g)
            lab.guest_wait(g, "sees e1000 + edu", lambda s: sees(s, both))
            domid = scenarios.domid_of(lab, g)
            scenarios.timed(lab, tool, "pci-detach %s %s" % (g, E1000.bdf),
                            "%s r%d: pci-detach e1000" % (t, r),
                            "hvm-detach", timeout=180)
            lab.guest_wait(g, "sees edu only", lambda s: sees(s, (EDU,)))
            scenarios.timed(lab, tool, "pci-attach %s %s" % (g, E1000.bdf),
                            "%s r%d: pci-attach e1000" % (t, r),
                            "hvm-attach", timeout=180)
            lab.guest_wait(g, "sees e1000 + edu again",
                           lambda s: sees(s, both))
            scenarios.timed(lab, tool, "destroy %s" % g,
                            "%s r%d: destroy %s" % (t, r, g), "hvm-destroy")
            dm_gone(lab, domid, g)
            assert_assignable(lab, both, "%s r%d: both assignable again" %
                              (t, r))


for _f in (hvm_cold_plug, hvm_hotplug, hvm_reassign_msix,
           hvm_destroy_hung_dm, hvm_speed):
    _f.hvm = True  # driver.py: the SVM machine and dom0's HVM part

# name: (function, what it checks, in the default set); merged into
# scenarios.SCENARIOS.
HVM_SCENARIOS = {
    "hvm-cold-plug": (hvm_cold_plug, "HVM guest, two devices at create "
                      "through the device model, both seen", True),
    "hvm-hotplug": (hvm_hotplug, "HVM guest, ACPI hot-attach and "
                    "hot-detach of two devices", True),
    "hvm-reassign-msix": (hvm_reassign_msix, "HVM guest, MSI-X device "
                          "across reboot and re-assignment to a second "
                          "HVM guest; interrupts grow", True),
    "hvm-destroy-hung-dm": (
        hvm_destroy_hung_dm, "HVM guest whose device model is stopped "
        "(SIGSTOP): destroy finishes, no QEMU left, device assignable", True,
        {"xl": "destroy waits 10 s for the stopped QEMU to remove the "
         "device, exits 0, and leaves that QEMU behind, stopped (its "
         "SIGHUP stays pending)"}),
    "hvm-speed": (hvm_speed, "each HVM toolstack operation timed in dom0, "
                  "xl and xpt alternating on one host (needs xpt)", False),
}
