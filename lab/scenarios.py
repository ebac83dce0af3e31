# SPDX-License-Identifier: MIT
"""The lab's scenarios, written against Xen's own xl.

A scenario is a function of one booted Lab (see driver.py).  It runs
commands in dom0 with lab.sh(), asserts on what the guest reports with
lab.guest_wait(), and saves the xenstore PCI subtrees with lab.xsdump() at
each step.  What a guest sees comes from its reporter (guest/lab-reporter)
through xenconsoled's log, condensed by guest/lab-gstate into:

    DOMU-BOOT id=<boot_id> up=...
    DOMU-PCI seq=3 n=2 devices=0000:00:00.0,0000:00:01.0 up=...
    DOMU-PCIDEV 0000:00:00.0 vendor=0x8086 device=0x100e class=0x020000 driver=e1000
    DOMU-IRQ 0000:00:00.0 total=7 vectors=1 msix=0 kinds=xen-pirq_-pcifront_e1000 up=...

Guest BDFs are pcifront's virtual ones, so devices are matched by vendor and
device id.
"""


class Dev:
    def __init__(self, label, bdf, vendor, devices, driver):
        self.label = label
        self.bdf = bdf
        self.vendor = vendor
        self.devices = devices
        self.driver = driver


E1000 = Dev("e1000", "0000:00:05.0", "0x8086", ("0x100e",), "e1000")
EDU = Dev("edu", "0000:00:06.0", "0x1234", ("0x11e8",), None)
VBLK = Dev("virtio-blk", "0000:00:07.0", "0x1af4", ("0x1001", "0x1042"),
           "virtio-pci")


def _kv(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def parse_gstate(text):
    """lab-gstate's output -> {"boot", "n", "devs": {bdf: {...}}, "errors"}."""
    st = {"boot": None, "n": None, "devs": {}, "errors": []}
    for ln in text.splitlines():
        w = ln.split()
        if not w:
            continue
        if w[0] == "DOMU-BOOT":
            st["boot"] = _kv(w).get("id")
        elif w[0] == "DOMU-PCI":
            st["n"] = int(_kv(w).get("n", "0"))
        elif w[0] == "DOMU-PCIDEV" and len(w) > 1:
            st["devs"][w[1]] = _kv(w[2:])
        elif w[0] == "DOMU-IRQ" and len(w) > 1 and w[1] in st["devs"]:
            kv = _kv(w[2:])
            irq = {k: int(kv.get(k, "0")) for k in ("total", "vectors", "msix")}
            irq["kinds"] = kv.get("kinds", "")
            st["devs"][w[1]]["irq"] = irq
        elif w[0] == "DOMU-ERROR":
            st["errors"].append(ln)
    return st


def find(st, dev):
    for bdf, d in st["devs"].items():
        if d.get("vendor") == dev.vendor and d.get("device") in dev.devices:
            return dict(d, bdf=bdf)
    return None


def sees(st, devs):
    """The guest shows exactly devs, each bound to its driver if it has one."""
    if st["boot"] is None or st["n"] is None or st["n"] != len(devs):
        return False
    for dev in devs:
        d = find(st, dev)
        if d is None or (dev.driver and d.get("driver") != dev.driver):
            return False
    return True


def names(devs):
    return " + ".join(d.label for d in devs) if devs else "no device"


def msix(st, dev):
    """dev's interrupt report if it is bound, its interrupts fired, and every
    one of its vectors is an MSI-X one (pcifront-msi-x in /proc/interrupts)."""
    d = find(st, dev)
    if d is None or d.get("driver") != dev.driver:
        return None
    irq = d.get("irq")
    if irq and irq["total"] > 0 and irq["msix"] > 0 and \
            irq["msix"] == irq["vectors"]:
        return irq
    return None


# -- xl steps ---------------------------------------------------------------

def assignable_add(lab, *devs):
    for d in devs:
        lab.sh("xl pci-assignable-add %s" % d.bdf,
               name="make %s assignable" % d.label, timeout=90)
    assert_assignable(lab, devs, "assignable after pci-assignable-add")


def assert_assignable(lab, devs, why):
    step = lab.sh("xl pci-assignable-list", name=why, timeout=60)
    missing = [d.bdf for d in devs if d.bdf not in step["out"]]
    lab.check(step, not missing,
              "xl pci-assignable-list lists %s" % " ".join(d.bdf for d in devs),
              "missing %s; output:\n%s" % (" ".join(missing), step["out"]))


def create(lab, name, pci=(), hotplug=False):
    args = ['name="%s"' % name]
    if pci:
        args.append("pci=[%s]" % ",".join('"%s"' % d.bdf for d in pci))
    if hotplug:
        args.append('passthrough="enabled"')
    what = ("with " + names(pci)) if pci else "empty"
    if hotplug:
        what += ', passthrough="enabled"'
    return lab.sh("xl create /root/domU.cfg %s" %
                  " ".join("'%s'" % a for a in args),
                  name="create %s (%s)" % (name, what), timeout=300)


def pci_list(lab, name, devs):
    step = lab.sh("xl pci-list %s" % name, name="xl pci-list %s" % name,
                  timeout=60)
    have = [d.bdf for d in devs if d.bdf in step["out"]]
    extra = [d.bdf for d in (E1000, EDU, VBLK)
             if d not in devs and d.bdf in step["out"]]
    lab.check(step, len(have) == len(devs) and not extra,
              "xl pci-list %s shows exactly %s" % (name, names(devs)),
              step["out"])


def destroy(lab, name):
    return lab.sh("xl destroy %s" % name, name="destroy %s" % name,
                  timeout=180)


def watch_release(lab, name):
    """Before destroying guest name: a node it owns outside its own
    directory, and a xenstore-watch on @releaseDomain in dom0 that exits
    after the registration event and one more.  Returns the domid."""
    step = lab.sh("xl domid %s" % name, name="domid of %s" % name)
    domid = int(step["out"].strip().splitlines()[-1])
    lab.sh("xenstore-write /tool/lab/owned-by-%d x && "
           "xenstore-chmod /tool/lab/owned-by-%d n%d" % (domid, domid, domid),
           name="a node owned by %s outside its directory" % name)
    lab.sh("rm -f /tmp/release.txt; "
           "(xenstore-watch -n 2 @releaseDomain >/tmp/release.txt 2>&1; "
           "echo exit=$? >>/tmp/release.txt) & "
           "i=0; until [ -s /tmp/release.txt ] || [ $i -ge 50 ]; do "
           "usleep 100000; i=$((i + 1)); done; cat /tmp/release.txt",
           name="xenstore-watch @releaseDomain started")
    return domid


def released(lab, domid):
    """After xl destroy: @releaseDomain fired (the watcher got its second
    event and exited) and no node of the domain is left."""
    step = lab.sh("i=0; until grep -q exit= /tmp/release.txt || "
                  "[ $i -ge 100 ]; do usleep 100000; i=$((i + 1)); done; "
                  "cat /tmp/release.txt", name="@releaseDomain fired")
    events = [ln for ln in step["out"].splitlines()
              if ln.startswith("@releaseDomain")]
    lab.check(step, len(events) == 2 and "exit=0" in step["out"],
              "xenstore-watch saw @releaseDomain twice (registration, "
              "destroy) and exited 0", step["out"])
    step = lab.sh("xenstore-ls -fp / | grep -E '/local/domain/%d(/| )|"
                  "owned-by-%d|\\(n%d' || echo '(none)'" % (domid, domid, domid),
                  name="no node of domain %d left" % domid)
    lab.check(step, step["out"].strip() == "(none)",
              "no node under /local/domain/%d, owned by it or naming it"
              % domid, step["out"])


# -- scenarios --------------------------------------------------------------

def cold_plug(lab, passed=(E1000, EDU), expected=(E1000, EDU),
              timeout=None):
    assignable_add(lab, E1000, EDU)
    lab.xsdump("before create")
    create(lab, "g1", pci=passed)
    lab.xsdump("created", "g1")
    lab.guest_wait("g1", "sees " + names(expected),
                   lambda s: sees(s, expected), timeout=timeout)
    lab.xsdump("guest sees devices", "g1")
    pci_list(lab, "g1", passed)
    destroy(lab, "g1")
    lab.xsdump("destroyed")
    assert_assignable(lab, (E1000, EDU), "assignable again after destroy")


def cold_plug_broken(lab):
    """Passes only the e1000 but expects the edu too: must fail."""
    cold_plug(lab, passed=(E1000,), expected=(E1000, EDU), timeout=90)


def hotplug(lab):
    assignable_add(lab, E1000, EDU)
    create(lab, "g1", hotplug=True)
    lab.guest_wait("g1", "up with no device", lambda s: sees(s, ()))
    lab.xsdump("created empty", "g1")
    lab.sh("xl pci-attach g1 %s" % E1000.bdf, name="hot-attach e1000",
           timeout=120)
    lab.guest_wait("g1", "sees e1000", lambda s: sees(s, (E1000,)))
    lab.xsdump("attached e1000", "g1")
    lab.sh("xl pci-attach g1 %s" % EDU.bdf, name="hot-attach edu",
           timeout=120)
    lab.guest_wait("g1", "sees e1000 + edu", lambda s: sees(s, (E1000, EDU)))
    lab.xsdump("attached edu", "g1")
    pci_list(lab, "g1", (E1000, EDU))
    lab.sh("xl pci-detach g1 %s" % E1000.bdf, name="hot-detach e1000",
           timeout=120)
    lab.guest_wait("g1", "sees edu only", lambda s: sees(s, (EDU,)))
    lab.xsdump("detached e1000", "g1")
    pci_list(lab, "g1", (EDU,))
    assert_assignable(lab, (E1000,), "e1000 assignable after detach")
    lab.sh("xl pci-detach g1 %s" % EDU.bdf, name="hot-detach edu",
           timeout=120)
    lab.guest_wait("g1", "sees no device", lambda s: sees(s, ()))
    lab.xsdump("detached edu", "g1")
    pci_list(lab, "g1", ())
    destroy(lab, "g1")
    lab.xsdump("destroyed")
    assert_assignable(lab, (E1000, EDU), "assignable again after destroy")


def _growth(lab, name, boot, label):
    """Two MSI-X interrupt reports of the virtio-blk in guest name (boot id
    boot), the second with a larger total."""
    s1 = lab.guest_wait(name, "virtio-blk bound, MSI-X interrupts fired (%s)"
                        % label,
                        lambda s: s["boot"] == boot and msix(s, VBLK))
    first = msix(s1, VBLK)
    s2 = lab.guest_wait(name, "virtio-blk MSI-X count grows past %d (%s)"
                        % (first["total"], label),
                        lambda s: s["boot"] == boot and msix(s, VBLK) and
                        msix(s, VBLK)["total"] > first["total"])
    second = msix(s2, VBLK)
    lab.facts.setdefault("irq", []).append(
        {"when": label, "guest": name, "before": first["total"],
         "after": second["total"], "vectors": second["vectors"],
         "msix_vectors": second["msix"], "kinds": second["kinds"]})
    return second


def reassign_msix(lab):
    assignable_add(lab, VBLK)
    create(lab, "ga", pci=(VBLK,))
    st = lab.guest_wait("ga", "up", lambda s: s["boot"] is not None)
    boot1 = st["boot"]
    _growth(lab, "ga", boot1, "ga, first boot")
    lab.xsdump("ga running with virtio-blk", "ga")

    lab.sh("xl reboot ga", name="reboot ga", timeout=120)
    st = lab.guest_wait("ga", "rebooted (new boot id)",
                        lambda s: s["boot"] not in (None, boot1))
    boot2 = st["boot"]
    _growth(lab, "ga", boot2, "ga, after reboot")
    lab.xsdump("ga rebooted", "ga")

    lab.sh("xl pci-detach ga %s" % VBLK.bdf, name="detach virtio-blk from ga",
           timeout=120)
    lab.guest_wait("ga", "virtio-blk gone",
                   lambda s: s["boot"] == boot2 and find(s, VBLK) is None)
    lab.xsdump("detached from ga", "ga")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after detach")

    create(lab, "gb", hotplug=True)
    st = lab.guest_wait("gb", "up with no device", lambda s: sees(s, ()))
    lab.sh("xl pci-attach gb %s" % VBLK.bdf, name="attach virtio-blk to gb",
           timeout=120)
    _growth(lab, "gb", st["boot"], "gb, after re-assignment")
    lab.xsdump("attached to gb", "ga", "gb")
    pci_list(lab, "gb", (VBLK,))

    destroy(lab, "gb")
    destroy(lab, "ga")
    lab.xsdump("destroyed")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after destroy")


def destroy_attached(lab):
    assignable_add(lab, E1000, EDU, VBLK)
    create(lab, "g1", pci=(E1000, VBLK))
    lab.guest_wait("g1", "sees e1000 + virtio-blk",
                   lambda s: sees(s, (E1000, VBLK)))
    lab.sh("xl pci-attach g1 %s" % EDU.bdf, name="hot-attach edu", timeout=120)
    lab.guest_wait("g1", "sees e1000 + virtio-blk + edu",
                   lambda s: sees(s, (E1000, VBLK, EDU)))
    lab.xsdump("three devices attached", "g1")
    pci_list(lab, "g1", (E1000, VBLK, EDU))
    domid = watch_release(lab, "g1")
    step = destroy(lab, "g1")
    lab.facts["destroy_seconds"] = step["seconds"]
    released(lab, domid)
    dump = lab.xsdump("destroyed")
    lab.check(lab.steps[-1], "(absent)" in dump,
              "no PCI backend left in xenstore after destroy", dump)
    step = lab.sh("xl list", name="xl list after destroy")
    lab.check(step, "g1" not in step["out"], "g1 gone from xl list",
              step["out"])
    assert_assignable(lab, (E1000, EDU, VBLK),
                      "all three assignable again after destroy")
    lab.sh("xenstore-ls -fp /libxl 2>/dev/null || echo '(no /libxl)'",
           name="libxl's records after destroy")


# name: (function, what it checks, in the default set)
SCENARIOS = {
    "cold-plug": (cold_plug, "two devices at create, both seen by the guest",
                  True),
    "hotplug": (hotplug, "hot-attach and hot-detach to a running guest",
                True),
    "reassign-msix": (reassign_msix, "MSI-X device across guest reboot and "
                      "re-assignment to a second guest; interrupts grow",
                      True),
    "destroy-attached": (destroy_attached, "destroy with three devices "
                         "attached; all assignable again", True),
    "cold-plug-broken": (cold_plug_broken, "expects a device that is not "
                         "passed; must FAIL (self-test)", False),
}
