# SPDX-License-Identifier: MIT
"""The lab's scenarios, written once for both toolstacks: Xen's own xl and
the project's xpt take the same verbs (create CFG KEY=VALUE..., destroy,
list, pause, reboot, pci-attach, pci-detach, pci-list,
pci-assignable-add/-list); lab.tool() prefixes them with the toolstack of
the run ("xl", or "xpt" and its arguments).

A scenario is a function of one booted Lab (see driver.py).  It runs
commands in dom0 with lab.tool() and lab.sh(), asserts on what the guest
reports with lab.guest_wait(), and saves the xenstore PCI subtrees with
lab.xsdump() at each step.  Step names never name the toolstack, so that a
step of an xl run and the same step of an xpt run share a row of the table.

The race scenarios run in rounds (lab.rounds()): a broken expectation is
recorded in its round and the round goes on; a round that leaves the host
unclean gets the next one a freshly booted host.  Where upstream xl 4.17 is
known to break (XFAIL below), the xl column is expected to break in some
round, and xpt must pass every round.  What a guest sees comes from its reporter (guest/lab-reporter)
through xenconsoled's log, condensed by guest/lab-gstate into:

    DOMU-BOOT id=<boot_id> up=...
    DOMU-PCI seq=3 n=2 devices=0000:00:00.0,0000:00:01.0 up=...
    DOMU-PCIDEV 0000:00:00.0 vendor=0x8086 device=0x100e class=0x020000 driver=e1000
    DOMU-IRQ 0000:00:00.0 total=7 vectors=1 msix=0 kinds=xen-pirq_-pcifront_e1000 up=...
    DOMU-DISK vda read-stuck since=31 up=41.5   (a read of a passed-through disk still waiting)

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
# One multi-function device: QEMU edu at function 0 (multifunction=on) and
# pci-testdev at function 1 of slot 08.
MF0 = Dev("edu 08.0", "0000:00:08.0", "0x1234", ("0x11e8",), None)
MF1 = Dev("testdev 08.1", "0000:00:08.1", "0x1b36", ("0x0005",), None)
MF_SPEC = "0000:00:08.*@3"
ALL = (E1000, EDU, VBLK, MF0, MF1)


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


# -- toolstack steps ---------------------------------------------------------

def assignable_add(lab, *devs):
    for d in devs:
        lab.tool("pci-assignable-add %s" % d.bdf,
                 name="make %s assignable" % d.label, timeout=90)
    assert_assignable(lab, devs, "assignable after pci-assignable-add")


def assert_assignable(lab, devs, why):
    step = lab.tool("pci-assignable-list", name=why, timeout=60)
    missing = [d.bdf for d in devs if d.bdf not in step["out"]]
    return lab.check(step, not missing,
                     "pci-assignable-list lists %s" %
                     " ".join(d.bdf for d in devs),
                     "missing %s; output:\n%s" % (" ".join(missing),
                                                  step["out"]))


def ensure_assignable(lab, devs):
    """devs assignable: those not listed yet are added."""
    step = lab.tool("pci-assignable-list", name="assignable devices",
                    timeout=60)
    todo = [d for d in devs if d.bdf not in step["out"]]
    if todo:
        assignable_add(lab, *todo)


def create(lab, name, pci=(), hotplug=False, spec=None):
    args = ['name="%s"' % name]
    if pci or spec:
        args.append("pci=[%s]" % ",".join(
            '"%s"' % b for b in ([spec] if spec else [d.bdf for d in pci])))
    if hotplug:
        args.append('passthrough="enabled"')
    what = ("with " + (spec or names(pci))) if pci or spec else "empty"
    if hotplug:
        what += ', passthrough="enabled"'
    op = {0: "create-0", 2: "create-2"}.get(len(pci)) if not spec else None
    step = lab.tool("create /root/domU.cfg %s" %
                    " ".join("'%s'" % a for a in args),
                    name="create %s (%s)" % (name, what), timeout=300, op=op)
    if lab.round is not None and step["rc"] != 0:
        # No guest to wait for: this round is over.
        raise lab.RoundOver()
    return step


def pci_list(lab, name, devs, expect_rc=0):
    step = lab.tool("pci-list %s" % name, name="pci-list %s" % name,
                    timeout=60, expect_rc=expect_rc)
    have = [d.bdf for d in devs if d.bdf in step["out"]]
    extra = [d.bdf for d in ALL if d not in devs and d.bdf in step["out"]]
    return lab.check(step, len(have) == len(devs) and not extra,
                     "pci-list %s shows exactly %s" % (name, names(devs)),
                     step["out"])


def attach(lab, name, dev, what=None, timeout=120):
    return lab.tool("pci-attach %s %s" % (name, dev.bdf),
                    name=what or "hot-attach %s" % dev.label,
                    timeout=timeout, op="attach")


def detach(lab, name, dev, what=None, timeout=120):
    return lab.tool("pci-detach %s %s" % (name, dev.bdf),
                    name=what or "hot-detach %s" % dev.label,
                    timeout=timeout, op="detach")


def destroy(lab, name, op="destroy-live", expect_rc=0):
    return lab.tool("destroy %s" % name, name="destroy %s" % name,
                    timeout=180, op=op, expect_rc=expect_rc)


def domid_of(lab, name):
    step = lab.sh("lab-domid %s" % name, name="domid of %s" % name)
    return int(step["out"].strip().splitlines()[-1])


def watch_release(lab, name):
    """Before destroying guest name: a node it owns outside its own
    directory, and a xenstore-watch on @releaseDomain in dom0 that exits
    after the registration event and one more.  Returns the domid."""
    domid = domid_of(lab, name)
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
    """After destroy: @releaseDomain fired (the watcher got its second
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
    attach(lab, "g1", E1000)
    lab.guest_wait("g1", "sees e1000", lambda s: sees(s, (E1000,)))
    lab.xsdump("attached e1000", "g1")
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

    lab.tool("reboot ga", name="reboot ga", timeout=120)
    st = lab.guest_wait("ga", "rebooted (new boot id)",
                        lambda s: s["boot"] not in (None, boot1))
    boot2 = st["boot"]
    _growth(lab, "ga", boot2, "ga, after reboot")
    lab.xsdump("ga rebooted", "ga")

    detach(lab, "ga", VBLK, "detach virtio-blk from ga")
    lab.guest_wait("ga", "virtio-blk gone",
                   lambda s: s["boot"] == boot2 and find(s, VBLK) is None)
    lab.xsdump("detached from ga", "ga")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after detach")

    create(lab, "gb", hotplug=True)
    st = lab.guest_wait("gb", "up with no device", lambda s: sees(s, ()))
    attach(lab, "gb", VBLK, "attach virtio-blk to gb")
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
    attach(lab, "g1", EDU)
    lab.guest_wait("g1", "sees e1000 + virtio-blk + edu",
                   lambda s: sees(s, (E1000, VBLK, EDU)))
    lab.xsdump("three devices attached", "g1")
    pci_list(lab, "g1", (E1000, VBLK, EDU))
    domid = watch_release(lab, "g1")
    step = destroy(lab, "g1")
    lab.facts["destroy_seconds"] = step["seconds"]
    released(lab, domid)
    dump = lab.xsdump("destroyed")
    # An empty backend/pci is no backend (xl 4.17 removes it, xpt keeps it).
    lab.check(lab.steps[-1],
              "/local/domain/0/backend/pci/" not in dump,
              "no PCI backend left in xenstore after destroy", dump)
    step = lab.tool("list", name="list after destroy")
    lab.check(step, "g1" not in step["out"], "g1 gone from the domain list",
              step["out"])
    assert_assignable(lab, (E1000, EDU, VBLK),
                      "all three assignable again after destroy")
    lab.sh("xenstore-ls -fp /libxl 2>/dev/null || echo '(no /libxl)'",
           name="libxl's records after destroy")


# -- the races and other upstream bugs, in rounds ------------------------------

# A guest's devices settle within one reporter poll (2 s) of the command;
# this is how long a round waits for a state that may never come.
SETTLE = 24


def concurrently(lab, what, cmds, timeout=120):
    """Runs the toolstack commands cmds at the same moment (lab-concurrent);
    each must exit 0.  Returns [(rc, seconds, output)]."""
    quoted = " ".join(_q("timeout %d %s %s" % (timeout, lab.tool_cmd, c))
                      for c in cmds)
    step = lab.sh("lab-concurrent %s" % quoted, name=what,
                  timeout=timeout + 60)
    res = []
    cur = None
    for ln in step["out"].splitlines():
        if ln.startswith("== "):
            kv = _kv(ln.split(":", 1)[0].split())
            cur = [int(kv["rc"]) if kv.get("rc", "?").isdigit() else None,
                   float(kv["seconds"]) if kv.get("seconds", "?") != "?"
                   else None, []]
            res.append(cur)
        elif cur is not None:
            cur[2].append(ln)
    res = [(rc, secs, "\n".join(out)) for rc, secs, out in res]
    step["concurrent"] = [{"cmd": c, "rc": rc, "seconds": secs}
                          for c, (rc, secs, _) in zip(cmds, res)]
    bad = [(c, r) for c, r in zip(cmds, res) if r[0] != 0]
    lab.check(step, len(res) == len(cmds) and not bad,
              "every command exits 0",
              "; ".join("%s: rc %s: %s" % (c, r[0], r[2][-300:])
                        for c, r in bad) or step["out"])
    return res


def _q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def backend_state(lab, name, domid):
    """pciback's records of domain domid: num_devs matches the dev-N
    entries (no hole, no orphan beyond num_devs), and backend and frontend
    are both Connected (4)."""
    step = lab.sh("xenstore-ls -fp /local/domain/0/backend/pci/%d/0 | "
                  "grep -E '^/local/domain/0/backend/pci/%d/0/"
                  "(num_devs|dev-[0-9]+|state) '; echo \"frontend state "
                  "$(xenstore-read /local/domain/%d/device/pci/0/state)\""
                  % (domid, domid, domid),
                  name="backend records of %s consistent, both ends "
                  "Connected" % name, expect_rc=None)
    num = None
    devs = set()
    bstate = fstate = None
    for ln in step["out"].splitlines():
        w = ln.split(" = ")
        if len(w) == 2:
            key = w[0].rsplit("/", 1)[-1]
            val = w[1].split('"')[1] if '"' in w[1] else w[1]
            if key == "num_devs":
                num = int(val) if val.isdigit() else None
            elif key.startswith("dev-"):
                devs.add(int(key[4:]))
            elif key == "state":
                bstate = val
        elif ln.startswith("frontend state "):
            fstate = ln.split()[-1] if len(ln.split()) > 2 else None
    ok = num is not None and devs == set(range(num)) and \
        bstate == "4" and fstate == "4"
    lab.check(step, ok, "num_devs = N with dev-0..dev-(N-1), backend and "
              "frontend state 4",
              "num_devs=%s dev-%s backend state %s frontend state %s" % (
                  num, sorted(devs), bstate, fstate))
    return num


def stale_records(lab, domid):
    """Nodes that still name domain domid after its destroy: its own
    directory, a backend directory for it, a node it owns, or a
    toolstack record such as libxl's /libxl/pci/<bdf>/domid."""
    step = lab.sh("xenstore-ls -fp / | grep -E '^/local/domain/%d/|"
                  "^/local/domain/[0-9]+/backend/[^/]+/%d/|"
                  "/domid = \"%d\"|\\(n%d[,)]' || echo '(none)'"
                  % (domid, domid, domid, domid),
                  name="no record of the destroyed domain left")
    return lab.check(step, step["out"].strip() == "(none)",
                     "nothing in xenstore names domain %d" % domid,
                     step["out"])


def settle(lab, name, devs, what=None):
    return lab.guest_wait(name, what or "sees " + names(devs),
                          lambda s: sees(s, devs), timeout=SETTLE)


def end_round(lab, name, domid, devs, op="destroy-live"):
    """Destroy guest name; the host is clean when it is gone, nothing
    names it in xenstore and devs are assignable again."""
    step = destroy(lab, name, op=op)
    gone = lab.sh("lab-domid %s || echo gone" % name,
                  name="%s gone" % name)
    ok = lab.check(gone, gone["out"].strip() == "gone",
                   "no domain named %s after destroy" % name, gone["out"])
    ok = stale_records(lab, domid) and ok
    ok = assert_assignable(lab, devs, "assignable again after destroy") and ok
    return ok and step["rc"] == 0, step


def concurrent_first_attach(lab):
    devs = (E1000, EDU, VBLK)

    def body(lab, i):
        ensure_assignable(lab, devs)
        create(lab, "g1", hotplug=True)
        lab.guest_wait("g1", "up with no device", lambda s: sees(s, ()))
        domid = domid_of(lab, "g1")
        res = concurrently(lab, "three pci-attach at once",
                           ["pci-attach g1 %s" % d.bdf for d in devs])
        lab.facts.setdefault("attach_seconds", []).append(
            [r[1] for r in res])
        settle(lab, "g1", devs, "sees all three")
        pci_list(lab, "g1", devs)
        backend_state(lab, "g1", domid)
        for d in devs:
            detach(lab, "g1", d)
        settle(lab, "g1", (), "sees no device after detaching all three")
        return end_round(lab, "g1", domid, devs)[0]
    lab.rounds(lab.opts.rounds, body)


def concurrent_append(lab):
    devs = (E1000, EDU, VBLK)

    def body(lab, i):
        ensure_assignable(lab, devs)
        create(lab, "g1", pci=(E1000,), hotplug=True)
        lab.guest_wait("g1", "sees e1000", lambda s: sees(s, (E1000,)))
        domid = domid_of(lab, "g1")
        concurrently(lab, "two pci-attach at once",
                     ["pci-attach g1 %s" % d.bdf for d in (EDU, VBLK)])
        settle(lab, "g1", devs, "sees all three")
        pci_list(lab, "g1", devs)
        backend_state(lab, "g1", domid)
        return end_round(lab, "g1", domid, devs)[0]
    lab.rounds(lab.opts.rounds, body)


def attach_detach_race(lab):
    devs = (E1000, EDU, VBLK)
    long_list = {"xl": "list -l", "xpt": "list --json"}[lab.toolstack]

    def body(lab, i):
        ensure_assignable(lab, devs)
        create(lab, "g1", pci=(E1000, EDU), hotplug=True)
        lab.guest_wait("g1", "sees e1000 + edu",
                       lambda s: sees(s, (E1000, EDU)))
        domid = domid_of(lab, "g1")
        concurrently(lab, "pci-attach virtio-blk and pci-detach edu at once",
                     ["pci-attach g1 %s" % VBLK.bdf,
                      "pci-detach g1 %s" % EDU.bdf])
        settle(lab, "g1", (E1000, VBLK))
        pci_list(lab, "g1", (E1000, VBLK))
        lab.tool("list", name="list")
        lab.tool(long_list, name="list, long form")
        backend_state(lab, "g1", domid)
        return end_round(lab, "g1", domid, devs)[0]
    lab.rounds(lab.opts.rounds, body)


DEAD_DESTROY_MAX = 1.0


def destroy_dead_frontend(lab):
    devs = (E1000, EDU)

    def body(lab, i):
        ensure_assignable(lab, devs)
        create(lab, "g1", pci=devs)
        lab.guest_wait("g1", "sees e1000 + edu", lambda s: sees(s, devs))
        domid = domid_of(lab, "g1")
        # A paused guest's kernel, and pcifront with it, answers nothing.
        lab.tool("pause g1", name="pause g1 (frontend dead)")
        ok, step = end_round(lab, "g1", domid, devs, op="destroy-dead")
        lab.facts.setdefault("destroy_dead_seconds", []).append(
            step["seconds"])
        lab.check(step, step["seconds"] < DEAD_DESTROY_MAX,
                  "destroy with a dead frontend and two devices within "
                  "%.0f s" % DEAD_DESTROY_MAX, "%.1f s" % step["seconds"])
        return ok
    lab.rounds(lab.opts.rounds, body)


def multifunction(lab):
    devs = (MF0, MF1)

    def body(lab, i):
        ensure_assignable(lab, devs)
        create(lab, "g1", hotplug=True, spec=MF_SPEC)
        lab.guest_wait("g1", "up", lambda s: s["boot"] is not None)
        domid = domid_of(lab, "g1")
        settle(lab, "g1", devs, "sees both functions (cold-plugged %s)"
               % MF_SPEC)
        pci_list(lab, "g1", devs)
        lab.tool("pci-detach g1 %s" % MF_SPEC, name="pci-detach %s" % MF_SPEC)
        settle(lab, "g1", (), "sees no device after detach")
        lab.tool("pci-attach g1 %s" % MF_SPEC, name="pci-attach %s" % MF_SPEC)
        settle(lab, "g1", devs, "sees both functions (hot-attached)")
        pci_list(lab, "g1", devs)
        return end_round(lab, "g1", domid, devs)[0]
    lab.rounds(lab.opts.rounds, body)


# -- speed: xl and xpt on one host ------------------------------------------

SPEED_OPS = (("create-0", "create, no device"),
             ("create-2", "create, 2 devices"),
             ("attach", "pci-attach"),
             ("attach-settled", "pci-attach, until backend Connected"),
             ("detach", "pci-detach"),
             ("detach-settled", "pci-detach, until backend Connected"),
             ("destroy-live", "destroy, live frontend (1 device)"),
             ("destroy-dead", "destroy, dead frontend (2 devices)"))


def timed(lab, tool, args, name, op, timeout=300, settle=None):
    """tool args in dom0, timed there (/proc/uptime around the command, so
    the serial console's typing and echo are not counted); the seconds
    go into facts["speed"][op][tool].  With settle (a domid), also the
    time until that domain's PCI backend is Connected (4) again, or gone:
    the guest has taken the change (op + "-settled")."""
    wait = ""
    if settle is not None:
        st = "/local/domain/0/backend/pci/%d/0/state" % settle
        wait = ("i=0; while x=$(xenstore-read %s 2>/dev/null) && "
                "[ \"$x\" != 4 ] && [ $i -lt 1000 ]; do usleep 10000; "
                "i=$((i + 1)); done; " % st)
    step = lab.sh("s=$(cut -d' ' -f1 /proc/uptime); %s %s; rc=$?; "
                  "e=$(cut -d' ' -f1 /proc/uptime); %s"
                  "f=$(cut -d' ' -f1 /proc/uptime); echo LAB-TIME $s $e $f; "
                  "(exit $rc)" % (tool, args, wait), name=name,
                  timeout=timeout)
    words = [ln.split() for ln in step["out"].splitlines()
             if ln.startswith("LAB-TIME ")]
    if words:
        w = words[-1]
        per = lab.facts.setdefault("speed", {})
        secs = round(float(w[2]) - float(w[1]), 2)
        step["dom0_seconds"] = secs
        per.setdefault(op, {}).setdefault(tool.split()[0], []).append(secs)
        if settle is not None:
            per.setdefault(op + "-settled", {}).setdefault(
                tool.split()[0], []).append(round(float(w[3]) -
                                                  float(w[1]), 2))
    return step


def speed_rounds(lab):
    """[(round, (tool, tool))]: xl and xpt, the order flipping each round;
    none (a broken check) without xpt in dom0."""
    step = lab.sh("command -v xpt || echo none", name="xpt in dom0")
    if not lab.check(step, lab.xpt_cmd and "none" not in step["out"],
                     "xpt in dom0 (run with --toolstack xpt or both)",
                     step["out"]):
        return []
    tools = ("xl", lab.xpt_cmd)
    return [(r, tools if r % 2 else tools[::-1])
            for r in range(1, lab.opts.rounds + 1)]


def speed(lab):
    """Each toolstack operation with xl and with xpt on one host, the two
    alternating, lab.opts.rounds times: create (empty; with two devices),
    pci-attach, pci-detach, destroy with a live frontend and with a dead
    one.  Times are taken in dom0; the table puts xpt's median beside
    xl's, with their ratio.  Needs the xpt binary in dom0 (any column
    of a run with --toolstack xpt or both)."""
    assignable_add(lab, E1000, EDU)
    for r, order in speed_rounds(lab):
        for tool in order:
            t = tool.split()[0]
            g = "s%s%d" % (t, r)
            timed(lab, tool, "create /root/domU.cfg 'name=\"%s\"' "
                  "'passthrough=\"enabled\"'" % g,
                  "%s r%d: create %s (empty)" % (t, r, g), "create-0")
            lab.guest_wait(g, "up with no device", lambda s: sees(s, ()))
            domid = domid_of(lab, g)
            for dev, want in ((E1000, (E1000,)), (EDU, (E1000, EDU))):
                timed(lab, tool, "pci-attach %s %s" % (g, dev.bdf),
                      "%s r%d: pci-attach %s" % (t, r, dev.label), "attach",
                      settle=domid)
                lab.guest_wait(g, "sees " + names(want),
                               lambda s, w=want: sees(s, w))
            for dev, want in ((E1000, (EDU,)), (EDU, ())):
                timed(lab, tool, "pci-detach %s %s" % (g, dev.bdf),
                      "%s r%d: pci-detach %s" % (t, r, dev.label), "detach",
                      settle=domid)
                lab.guest_wait(g, "sees " + names(want),
                               lambda s, w=want: sees(s, w))
            timed(lab, tool, "pci-attach %s %s" % (g, E1000.bdf),
                  "%s r%d: pci-attach e1000 again" % (t, r), "attach",
                  settle=domid)
            lab.guest_wait(g, "sees e1000 again",
                           lambda s: sees(s, (E1000,)))
            timed(lab, tool, "destroy %s" % g,
                  "%s r%d: destroy %s (e1000 attached)" % (t, r, g),
                  "destroy-live")
            g2 = g + "p"
            timed(lab, tool, "create /root/domU.cfg 'name=\"%s\"' "
                  "'pci=[\"%s\",\"%s\"]'" % (g2, E1000.bdf, EDU.bdf),
                  "%s r%d: create %s (e1000 + edu)" % (t, r, g2), "create-2")
            lab.guest_wait(g2, "sees e1000 + edu",
                           lambda s: sees(s, (E1000, EDU)))
            lab.sh("%s pause %s" % (tool, g2), name="%s r%d: pause %s" %
                   (t, r, g2))
            timed(lab, tool, "destroy %s" % g2,
                  "%s r%d: destroy %s (paused, 2 devices)" % (t, r, g2),
                  "destroy-dead", timeout=180)
            assert_assignable(lab, (E1000, EDU), "%s r%d: both assignable "
                              "again" % (t, r))


def probe(lab):
    """The commands of --probe FILE, one per line, run in dom0 in order
    (a line "# ..." is skipped), each a step with its output and exit
    status (any); for looking at a real host by hand."""
    with open(lab.opts.probe) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                lab.sh(ln, timeout=300, expect_rc=None)


# name: (function, what it checks, in the default set[, where upstream
# breaks: {toolstack: what it gets wrong}])
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
    "concurrent-first-attach": (
        concurrent_first_attach, "three pci-attach at once to a guest "
        "without devices: all seen, all detachable, nothing stale", True,
        {"xl": "one device survives; the others are lost to the guest and "
         "their markers outlive destroy"}),
    "concurrent-append": (
        concurrent_append, "two pci-attach at once to a guest that has a "
        "device: none lost, frontend Connected", True,
        {"xl": "one of the two is lost and the frontend is left at 7"}),
    "attach-detach-race": (
        attach_detach_race, "pci-attach and pci-detach at once: records "
        "consistent, pci-list, list and destroy never crash", True,
        {"xl": "an orphan dev-N outside num_devs, or a hole after which "
         "pci-list, list -l and destroy segfault"}),
    "destroy-dead-frontend": (
        destroy_dead_frontend, "destroy of a paused guest with two devices "
        "(its pcifront cannot answer) within 1 s, nothing left", True,
        {"xl": "about 10 s per device waiting for the frontend"}),
    "multifunction": (
        multifunction, "BB:DD.*@3 of a two-function device, cold-plugged "
        "and hot-attached: both seen, detach works, nothing stale", True,
        {"xl": "the guest gets function 1 only, detach of the spec fails "
         "and a marker of function 0 survives destroy"}),
    "speed": (speed, "each toolstack operation timed in dom0, xl and xpt "
              "alternating on one host (needs xpt)", False),
    "probe": (probe, "the commands of --probe FILE in dom0 (by hand)",
              False),
    "cold-plug-broken": (cold_plug_broken, "expects a device that is not "
                         "passed; must FAIL (self-test)", False),
}


def xfail(name):
    """{toolstack: what it is known to get wrong} for scenario name."""
    s = SCENARIOS[name]
    return s[3] if len(s) > 3 else {}


# The HVM scenarios (scenarios_hvm.py, which imports this module).
from scenarios_hvm import HVM_SCENARIOS, HVM_SPEED_OPS  # noqa: E402
SCENARIOS.update(HVM_SCENARIOS)
# HVM guests with the device model in a Linux stub domain
# (scenarios_stubdom.py; not in the default set).
from scenarios_stubdom import STUBDOM_SCENARIOS  # noqa: E402
SCENARIOS.update(STUBDOM_SCENARIOS)
# Xen 4.20 with a PVH dom0: vPCI's BAR mapping racing device removal
# (scenarios_vpci.py; not in the default set).
from scenarios_vpci import VPCI_SCENARIOS  # noqa: E402
SCENARIOS.update(VPCI_SCENARIOS)
# The hostile catalogue against Linux's pciback (scenarios_hostile.py).
from scenarios_hostile import HOSTILE_SCENARIOS  # noqa: E402
SCENARIOS.update(HOSTILE_SCENARIOS)
# the speed scenarios and their operations, for the driver's table
SPEED_TABLES = (("speed", SPEED_OPS), ("hvm-speed", HVM_SPEED_OPS))
