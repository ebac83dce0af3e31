# SPDX-License-Identifier: MIT
"""The hostile catalogue against real Linux xen-pciback (docs/hostile.md):
what of tests/toolstack/hostile.c applies from inside a PV domU and from its
frontend directory, with a second domU that must stay served.

  g2 (the victim) gets the e1000 and reads its vendor ID through pcifront
  every second (guest/lab-hostile victim: DOMU-VICTIM lines);
  h (hostile) gets the virtio-blk (MSI-X) and writes its config space
  through sysfs, which pcifront turns into pci_op conf_write: its BARs, ROM,
  command, capability pointer, the MSI-X table offset and control
  (guest/lab-hostile hostile: DOMU-HOSTILE lines, each read back).

dom0 reads the device's real config space before and after.  Then the
frontend-state games and garbage of the model's catalogue are written into
h's frontend directory from dom0 (the domU image has no xenstore client;
pciback reacts to the node, not to who wrote it): state -1, "4 ", "4abc",
garbage in pci-op-ref after Connected, and last state "abc".  After each,
h's backend state and dom0's kernel messages.  g2 must keep reading, h
must destroy cleanly, the virtio-blk be assignable again.  The table goes
to OUT/hostile/hostile.md and into the step "hostile table".
"""
import os

from scenarios import (E1000, VBLK, assignable_add, assert_assignable,
                       destroy, domid_of, find, sees)

EXTRA = "console=hvc0 rdinit=/init loglevel=4"


def _create(lab, name, dev, flag):
    args = ['name="%s"' % name, 'pci=["%s"]' % dev.bdf,
            'extra="%s %s"' % (EXTRA, flag)]
    return lab.tool("create /root/domU.cfg %s" %
                    " ".join("'%s'" % a for a in args),
                    name="create %s with %s (%s)" % (name, dev.label, flag),
                    timeout=300)


def _hw(lab, dev, label):
    """dev's config space as dom0 reads it (the hardware's), 256 bytes."""
    out = lab.sh("od -An -tx1 -v /sys/bus/pci/devices/%s/config | "
                 "head -n 16" % dev.bdf,
                 name="dom0 reads %s's config space (%s)" % (dev.label,
                                                              label))["out"]
    return bytes(int(x, 16) for x in out.split())


def _reg(b, off, size):
    return int.from_bytes(b[off:off + size], "little")


def _victim_seq(lab, label):
    out = lab.sh("grep -a DOMU-VICTIM /var/log/xen/console/guest-g2.log | "
                 "tr -d '\\r' | tail -n 1",
                 name="g2 reads through pcifront (%s)" % label,
                 expect_rc=None)["out"]
    kv = dict(w.split("=", 1) for w in out.split() if "=" in w)
    return int(kv.get("seq", "0")), kv.get("vendor", "?")


def _served(lab, before, label):
    """g2's reads go on: a sequence number past before (waited for, 60 s),
    then a later one 3 s on, vendor 0x8086."""
    seq, vendor = _victim_seq(lab, label)
    for _ in range(20):
        if seq > before:
            break
        lab.sh("sleep 3", record=False)
        seq, vendor = _victim_seq(lab, label)
    lab.sh("sleep 3", name="wait 3 s (%s)" % label)
    seq2, vendor2 = _victim_seq(lab, label + ", 3 s later")
    step = lab.steps[-1]
    lab.check(step, seq2 > seq > before and vendor2 == "0x8086",
              "g2 keeps reading 0x8086 through pcifront (%s)" % label,
              "seq %d -> %d, vendor %s" % (seq, seq2, vendor2))
    return seq2


def _rows(text):
    rows = []
    for ln in text.splitlines():
        p = ln.find("DOMU-HOSTILE ")
        if p < 0:
            continue
        kv = dict(w.split("=", 1) for w in ln[p:].split() if "=" in w)
        if "row" in kv:
            rows.append(kv)
    return rows


def hostile(lab):
    assignable_add(lab, E1000, VBLK)
    _create(lab, "g2", E1000, "lab_victim")
    lab.guest_wait("g2", "sees the e1000", lambda s: sees(s, (E1000,)))
    seq = _served(lab, 0, "before h")
    before = _hw(lab, VBLK, "before h")

    _create(lab, "h", VBLK, "lab_hostile")
    lab.guest_wait("h", "sees the virtio-blk",
                   lambda s: find(s, VBLK) is not None)
    step = None
    for _ in range(60):
        step = lab.sh("grep -a DOMU-H /var/log/xen/console/guest-h.log | "
                      "tr -d '\\r'", name="h's config writes", timeout=60,
                      expect_rc=None, record=False)
        if "DOMU-HOSTILE-DONE" in step["out"]:
            break
        lab.sh("sleep 4", record=False)
    lab.steps.append(step)
    lab.check(step, "DOMU-HOSTILE-DONE" in step["out"],
              "h's lab-hostile finished", step["out"][-2000:])
    rows = _rows(step["out"])
    after = _hw(lab, VBLK, "after h's writes")
    kmsg = lab.sh("dmesg | grep -iE 'pciback|xen_pciback' | tail -n 30",
                  name="dom0 kernel: pciback after h's writes",
                  expect_rc=None)["out"]
    seq = _served(lab, seq, "after h's config writes")

    table = ["| row | write (h, through pcifront) | h's write | h reads "
             "back | hardware (dom0) |", "|---|---|---|---|---|"]
    for r in rows:
        off, size = int(r["off"], 16), int(r["size"])
        hb, ha = _reg(before, off, size), _reg(after, off, size)
        table.append("| %s | %s at 0x%02x/%d (was %s) | %s | %s | %s |" % (
            r["row"], r["wrote"], off, size, r["before"],
            "ok" if r["rc"] == "0" else "refused (rc %s)" % r["rc"],
            r["after"], "unchanged 0x%x" % ha if hb == ha else
            "0x%x -> 0x%x" % (hb, ha)))
        if r["row"].startswith("bar") or r["row"] in ("rom", "capptr",
                                                       "msix-table"):
            lab.check(lab.steps[-1], hb == ha,
                      "h's %s write does not reach the hardware" % r["row"],
                      "0x%x -> 0x%x" % (hb, ha))

    # the frontend's nodes, as the model's state and garbage rows
    hd = domid_of(lab, "h")
    fe = "/local/domain/%d/device/pci/0" % hd
    be = "/local/domain/0/backend/pci/%d/0" % hd
    games = [("state", "-1"), ("state", "4 "), ("state", "4abc"),
             ("pci-op-ref", "abc"), ("event-channel", "-1"),
             ("magic", "junk"), ("state", "abc")]
    table += ["", "| frontend node (written in h's directory) | h's backend "
              "state after | dom0 kernel |", "|---|---|---|"]
    for key, val in games:
        st = lab.sh("xenstore-write -- %s/%s '%s'; sleep 3; "
                    "xenstore-read %s/state || echo gone; "
                    "dmesg | grep -iE 'pciback' | tail -n 3" %
                    (fe, key, val, be),
                    name="h's %s = \"%s\"" % (key, val), expect_rc=None)
        lines = [ln for ln in st["out"].splitlines() if ln.strip()]
        state = lines[0] if lines else "?"
        new = [ln for ln in lines[1:] if ln not in kmsg]
        kmsg += "\n".join(lines[1:])
        table.append("| %s = \"%s\" | %s | %s |" % (
            key, val, state, "; ".join(new)[:300] or "-"))
    seq = _served(lab, seq, "after the frontend games")

    destroy(lab, "h")
    assert_assignable(lab, (VBLK,), "virtio-blk assignable after h")
    seq = _served(lab, seq, "after h was destroyed")
    destroy(lab, "g2")

    text = "\n".join(table) + "\n\ndom0 kernel (pciback):\n" + kmsg + "\n"
    with open(os.path.join(lab.rundir, "hostile.md"), "w") as f:
        f.write(text)
    lab.steps.append({"step": "hostile table", "cmd": "", "rc": 0,
                      "out": text, "ok": True, "t": 0, "seconds": 0})


HOSTILE_SCENARIOS = {
    "hostile": (hostile, "a domU writes BARs, ROM, command, capability "
                "pointer and MSI-X through pcifront, and its frontend "
                "nodes get state games and garbage; a second domU stays "
                "served (docs/hostile.md)", True),
}
