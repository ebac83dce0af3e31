#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xpt doctor on the modelled host: a clean host passes every check; then
one host per failure (the IOMMU off, interrupt remapping off, pciback
dead, a device with no reset, a device bound to a dom0 driver, leftovers
of a domain that is gone, written or left by an xpt destroy killed after
the domain went, the store dead, the hypervisor dead; and functions that
must go together: an RMRR, a bus reset), where that check fails with a
fix naming the object and every other check reads as on the clean host
(or is skipped, naming the check it needs).
Every run of doctor is checked to be read only: the store's tree, the
assignable list (the hypervisor's owners) and the domain list are the
same before and after.

usage: doctor.py XPT DIR...   (DIRs: where the daemons are)
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


# Single-function devices with FLR and MSI-X or MSI: nothing to warn about.
CLEAN = """\
03:00.0 8086:1533 class=020000 bar0=128K,mem32 bar3=16K,mem32 msix=5 msix-bar=3 intx=a reset=flr
04:00.0 1b36:0010 class=010802 bar0=16K,mem64 msix=16 msix-bar=0 intx=a reset=flr
06:00.0 10ee:9038 class=058000 bar0=4K,mem32 msi=1 intx=b reset=flr
"""
DEVS = ["0000:03:00.0", "0000:04:00.0", "0000:06:00.0"]


class Host:
    def __init__(self, xpt, dirs, text, assignable=DEVS):
        self.xpt = xpt
        self.dir = tempfile.mkdtemp(prefix="xpt-doctor.")
        hostfile = os.path.join(self.dir, "host")
        with open(hostfile, "w") as f:
            f.write(text)
        self.env = dict(os.environ, XPT_RUNDIR=self.dir,
                        PATH=":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")]),
                        XENSTORED_PATH=os.path.join(self.dir, "socket"))
        self.env.pop("XPT_LIBEXEC", None)
        self.env.pop("XPT_PLATFORM", None)
        r = self.run("host", "start", "--host", hostfile)
        assert r.returncode == 0, r.stdout + r.stderr
        self.added = []
        for bdf in assignable:
            r = self.run("pci-assignable-add", bdf)
            self.added.append((bdf, r))

    def run(self, *args, timeout=60):
        return subprocess.run([self.xpt] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def pid(self, daemon):
        for line in self.run("host", "status").stdout.splitlines():
            f = line.split()
            if f and f[0] == daemon and "pid" in f:
                return int(f[f.index("pid") + 1])
        return None

    def kill(self, daemon):
        pid = self.pid(daemon)
        assert pid, daemon + " is not running"
        fd = os.pidfd_open(pid)
        os.kill(pid, signal.SIGKILL)
        # readable once it has exited (bounded)
        ready = select.select([fd], [], [], 10)[0]
        os.close(fd)
        assert ready, daemon + " did not die"

    def state(self):
        """what doctor must not change"""
        tree = subprocess.run(["xenstore-ls", "-f", "-p", "/"], env=self.env,
                              capture_output=True, text=True)
        return (tree.returncode, tree.stdout,
                self.run("pci-assignable-list", "-a").stdout,
                self.run("list", "--json").stdout)

    def doctor(self, *args):
        """doctor --json, checked read only; (exit code, rows)"""
        before = self.state()
        r = self.run("doctor", "--json", *args)
        after = self.state()
        for what, b, a in zip(("store tree rc", "store tree",
                               "assignable list", "domain list"),
                              before, after):
            if b != a:
                import difflib
                diff = "\n".join(difflib.unified_diff(
                    str(b).splitlines(), str(a).splitlines(), lineterm="",
                    n=0))
                check(False, "doctor %s changed the %s:\n%s"
                      % (" ".join(args), what, diff[:2000]))
        try:
            out = json.loads(r.stdout)
        except ValueError:
            check(False, "doctor --json printed no JSON: %r %r"
                  % (r.stdout, r.stderr))
            return r.returncode, []
        check(out["result"] == ("fail" if r.returncode else "ok"),
              "doctor's result %s does not match its exit code %d"
              % (out["result"], r.returncode))
        return r.returncode, out["checks"]

    def stop(self):
        self.run("host", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def rows_by_key(rows):
    return {(r["check"], r["object"]): r for r in rows}


def same_except(case, rows, clean, changed):
    """every row of the clean host's run reads the same here, but those
    keyed in changed; and no row is new but those"""
    got, want = rows_by_key(rows), rows_by_key(clean)
    for key, row in want.items():
        if key in changed:
            continue
        check(key in got and got[key]["status"] == row["status"],
              "%s: %s %s is %s, not %s as on the clean host"
              % (case, key[0], key[1],
                 got[key]["status"] if key in got else "missing",
                 row["status"]))
    for key in got:
        check(key in want or key in changed,
              "%s: a row the clean host does not have: %s" % (case, got[key]))


def expect(case, rows, check_name, obj, status, fix_has=()):
    row = rows_by_key(rows).get((check_name, obj))
    if not check(row is not None, "%s: no %s row for %s" % (case, check_name, obj)):
        return None
    check(row["status"] == status, "%s: %s %s is %s, want %s (%s)"
          % (case, check_name, obj, row["status"], status, row["detail"]))
    for word in fix_has:
        check(row["fix"] is not None and word in row["fix"],
              "%s: the fix for %s %s does not say %r: %r"
              % (case, check_name, obj, word, row["fix"]))
    return row


def main():
    xpt, dirs = sys.argv[1], sys.argv[2:]

    # 1. a clean host: every check passes, exit 0, text and JSON agree
    h = Host(xpt, dirs, CLEAN)
    try:
        for bdf, r in h.added:
            check(r.returncode == 0, "assignable-add %s: %s" % (bdf, r.stderr))
        rc, clean = h.doctor()
        check(rc == 0, "clean host: doctor exit %d" % rc)
        for row in clean:
            check(row["status"] == "pass", "clean host: %s" % row)
        want = {"hypervisor", "store", "iommu", "intremap", "pciback",
                "leftovers", "reset", "group", "msi", "driver"}
        check({r["check"] for r in clean} == want,
              "clean host: checks %s" % sorted({r["check"] for r in clean}))
        for bdf in DEVS:
            for c in ("reset", "group", "msi", "driver"):
                expect("clean", clean, c, bdf, "pass")
        text = h.run("doctor")
        check(text.returncode == 0 and
              text.stdout.count("\nPASS ") + text.stdout.startswith("PASS ")
              == len(clean), "clean host: the text has a PASS line per "
              "check: %r" % text.stdout)

        # 5b. a device bound to a dom0 driver is named on the command line
        # (below); 6. leftovers of a domain that is gone: its marker and
        # its backend, as a destroy cut short leaves them
        env = h.env
        subprocess.run(["xenstore-write", "/libxl/pci/0000-03-00-0/domid",
                        "7"], env=env, check=True)
        subprocess.run(["xenstore-write",
                        "/local/domain/0/backend/pci/9/0/num_devs", "1"],
                       env=env, check=True)
        rc, rows = h.doctor()
        check(rc == 1, "leftovers: doctor exit %d" % rc)
        expect("leftovers", rows, "leftovers", "domain 7", "fail",
               ["xpt destroy 7"])
        expect("leftovers", rows, "leftovers", "domain 9", "fail",
               ["xpt destroy 9"])
        same_except("leftovers", rows, clean,
                    {("leftovers", "domains"), ("leftovers", "domain 7"),
                     ("leftovers", "domain 9")})
        # the fix it names works
        for d in ("7", "9"):
            r = h.run("destroy", d)
            check(r.returncode == 0, "xpt destroy %s: %s" % (d, r.stderr))
        rc, rows = h.doctor()
        check(rc == 0 and rows_by_key(rows).get(("leftovers", "domains"),
                                                {}).get("status") == "pass",
              "leftovers: still there after the named `xpt destroy`: %s"
              % [r for r in rows if r["status"] != "pass"])

        # 6b. leftovers of xpt killed in the middle of a destroy, after
        # the hypervisor's domain went and before its records did
        cfg = os.path.join(h.dir, "g.cfg")
        with open(cfg, "w") as f:
            f.write('name = "g"\ntype = "pv"\nmemory = 128\n'
                    'pci = [ "03:00.0" ]\n')
        r = h.run("create", cfg)
        check(r.returncode == 0, "create g: %s" % r.stderr)
        # the guest's frontend and pciback finish connecting on their
        # own: wait for both (bounded), so that only doctor could change
        # the store between its before and after
        end = time.monotonic() + 10
        while time.monotonic() < end:
            pl = h.run("pci-list", "--json", "g")
            pl = json.loads(pl.stdout) if pl.returncode == 0 else {}
            if pl.get("backend_state") == 4 and \
                    pl.get("frontend_state") == 4:
                break
            select.select([], [], [], 0.05)
        check(pl.get("backend_state") == 4 and pl.get("frontend_state") == 4,
              "g's backend never connected: %s" % pl)
        rc, rows = h.doctor()
        row = rows_by_key(rows).get(("driver", "0000:03:00.0"))
        check(row is not None and row["status"] == "pass" and
              "given to domain" in row["detail"],
              "a device given to a guest: %s" % row)
        domid = json.loads(h.run("list", "--json").stdout)[-1]["domid"]
        log = os.path.join(h.dir, "delay.log")
        env = dict(h.env, XPT_DELAY="destroy.domain-gone=20000",
                   XPT_DELAY_LOG=log)
        p = subprocess.Popen([xpt, "destroy", "g"], env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        fd = os.pidfd_open(p.pid)
        end = time.monotonic() + 30
        while not select.select([fd], [], [], 0.02)[0] and \
                time.monotonic() < end:
            if os.path.exists(log) and \
                    "destroy.domain-gone" in open(log).read():
                break
        os.close(fd)
        check(p.poll() is None, "xpt destroy ended before its delay point")
        p.kill()
        p.wait()
        rc, rows = h.doctor()
        check(rc == 1, "killed destroy: doctor exit %d" % rc)
        obj = "domain %d" % domid
        expect("killed destroy", rows, "leftovers", obj, "fail",
               ["xpt destroy %d" % domid])
        r = h.run("destroy", str(domid))
        check(r.returncode == 0, "xpt destroy %d: %s" % (domid, r.stderr))
        rc, rows = h.doctor()
        check(rc == 0, "killed destroy, finished: %s"
              % [r for r in rows if r["status"] != "pass"])

        # 7. the store dead
        h.kill("xpt-xenstored")
        r = h.run("doctor", "--json")
        check(r.returncode == 1, "store dead: doctor exit %d" % r.returncode)
        rows = json.loads(r.stdout)["checks"] if r.stdout else []
        expect("store dead", rows, "store", "xenstore", "fail",
               ["xpt host start"])
        expect("store dead", rows, "leftovers", "domains", "skip")
        same_except("store dead", rows, clean,
                    {("store", "xenstore"), ("leftovers", "domains")})
    finally:
        h.stop()

    # 2. the IOMMU off: nothing can be assigned (made assignable) either
    h = Host(xpt, dirs, "xen iommu=off\n" + CLEAN)
    try:
        for bdf, r in h.added:
            check(r.returncode != 0, "IOMMU off: assignable-add %s worked"
                  % bdf)
        rc, rows = h.doctor()
        check(rc == 1, "IOMMU off: doctor exit %d" % rc)
        expect("IOMMU off", rows, "iommu", "Xen", "fail", ["iommu=off"])
        expect("IOMMU off", rows, "intremap", "Xen", "skip")
        host_rows = [r for r in rows if r["check"] not in
                     ("reset", "group", "msi", "driver", "device")]
        same_except("IOMMU off", host_rows,
                    [r for r in clean if r["check"] not in
                     ("reset", "group", "msi", "driver")],
                    {("iommu", "Xen"), ("intremap", "Xen")})
    finally:
        h.stop()

    # 3. interrupt remapping off
    h = Host(xpt, dirs, "xen intremap=off\n" + CLEAN)
    try:
        rc, rows = h.doctor()
        check(rc == 1, "intremap off: doctor exit %d" % rc)
        expect("intremap off", rows, "intremap", "Xen", "fail",
               ["intremap=off"])
        same_except("intremap off", rows, clean, {("intremap", "Xen")})
    finally:
        h.stop()

    # 4. a device that cannot be reset, 5. one bound to a dom0 driver
    h = Host(xpt, dirs, CLEAN +
             "05:00.0 1234:1111 class=ff0000 bar0=4K intx=a msi=1 reset=none\n"
             "07:00.0 8086:10d3 class=020000 bar0=128K msix=5 intx=a "
             "reset=flr driver=e1000e\n",
             DEVS + ["0000:05:00.0"])
    try:
        rc, rows = h.doctor()
        check(rc == 1, "reset=none: doctor exit %d" % rc)
        expect("reset=none", rows, "reset", "0000:05:00.0", "fail",
               ["0000:05:00.0"])
        same_except("reset=none", rows, clean,
                    {(c, "0000:05:00.0") for c in
                     ("reset", "group", "msi", "driver")})
        for c in ("group", "msi", "driver"):
            expect("reset=none", rows, c, "0000:05:00.0", "pass")

        rc, rows = h.doctor("07:00.0", *DEVS)
        check(rc == 1, "dom0 driver: doctor exit %d" % rc)
        row = expect("dom0 driver", rows, "driver", "0000:07:00.0", "fail",
                     ["xpt pci-assignable-add 0000:07:00.0"])
        check(row is not None and "e1000e" in row["detail"],
              "dom0 driver: the driver is not named: %s" % row)
        same_except("dom0 driver", [r for r in rows if "05:00.0" not in
                                    r["object"]], clean,
                    {(c, "0000:07:00.0") for c in
                     ("reset", "group", "msi", "driver")})
        for c in ("reset", "group", "msi"):
            expect("dom0 driver", rows, c, "0000:07:00.0", "pass")
        # the fix it names works
        r = h.run("pci-assignable-add", "07:00.0")
        check(r.returncode == 0, "assignable-add 07:00.0: %s" % r.stderr)
        rc, rows = h.doctor("07:00.0")
        expect("dom0 driver, fixed", rows, "driver", "0000:07:00.0", "pass")

        # a device the host does not have, by address and by name
        rc, rows = h.doctor("0a:00.0", "name=nosuch")
        check(rc == 1, "no such device: doctor exit %d" % rc)
        expect("no such device", rows, "device", "0000:0a:00.0", "fail")
        expect("no such device", rows, "device", "nosuch", "fail",
               ["xpt pci-assignable-list"])
    finally:
        h.stop()

    # 4b. functions that go together: two sharing an RMRR (as Xen prints
    # with iommu=verbose), a GPU and its audio function under one bus
    # reset, a device alone with its RMRR
    h = Host(xpt, dirs, CLEAN.replace("04:00.0 1b36:0010 class=010802 "
                                      "bar0=16K,mem64 msix=16 msix-bar=0 "
                                      "intx=a reset=flr",
                                      "04:00.0 1b36:0010 class=010802 "
                                      "bar0=16K,mem64 msix=16 msix-bar=0 "
                                      "intx=a reset=flr rmrr=1") +
             "0a:00.0 8086:1533 class=020000 bar0=128K msix=5 intx=a "
             "reset=flr rmrr=1\n"
             "0b:00.0 8086:1533 class=020000 bar0=128K msix=5 intx=a "
             "reset=flr rmrr=2\n"
             "02:00.0 10de:1eb8 class=030000 bar0=16M intx=a msi=1 "
             "reset=bus\n"
             "02:00.1 10de:10f8 class=040300 bar0=16K intx=b msi=1 "
             "reset=bus\n"
             "02:05.0 8086:1533 class=020000 bar0=128K msix=5 intx=a "
             "reset=flr\n",
             DEVS + ["0000:0b:00.0", "0000:02:00.0"])
    try:
        rc, rows = h.doctor()
        check(rc == 1, "groups: doctor exit %d" % rc)
        row = expect("groups", rows, "group", "0000:04:00.0", "fail",
                     ["xpt pci-assignable-add 0000:0a:00.0"])
        check(row is not None and "0000:0a:00.0 (RMRR)" in row["detail"],
              "groups: the RMRR peer is not named: %s" % row)
        row = expect("groups", rows, "group", "0000:0b:00.0", "warn",
                     ["rdm=\"strategy=host,policy=strict\""])
        row = expect("groups", rows, "group", "0000:02:00.0", "fail",
                     ["xpt pci-assignable-add 0000:02:00.1",
                      "xpt pci-assignable-add 0000:02:05.0", "02:00.*"])
        check(row is not None and "0000:02:00.1 (same slot, bus reset), "
              "0000:02:05.0 (bus reset)" in row["detail"],
              "groups: the bus-reset peers: %s" % row)
        same_except("groups", rows, clean,
                    {("group", "0000:04:00.0")} |
                    {(c, b) for c in ("reset", "group", "msi", "driver")
                     for b in ("0000:0b:00.0", "0000:02:00.0")})
        # with every peer assignable, they are to go to one guest: warnings
        for bdf in ("0a:00.0", "02:00.1", "02:05.0"):
            r = h.run("pci-assignable-add", bdf)
            check(r.returncode == 0, "assignable-add %s: %s" % (bdf, r.stderr))
        rc, rows = h.doctor("04:00.0", "02:00.0")
        check(rc == 0, "groups, all assignable: %s"
              % [r for r in rows if r["status"] == "fail"])
        expect("groups", rows, "group", "0000:04:00.0", "warn")
        expect("groups", rows, "group", "0000:02:00.0", "warn", ["02:00.*"])
    finally:
        h.stop()

    # 6. pciback dead
    h = Host(xpt, dirs, CLEAN)
    try:
        h.kill("xpt-pciback")
        rc, rows = h.doctor()
        check(rc == 1, "pciback dead: doctor exit %d" % rc)
        expect("pciback dead", rows, "pciback", "xpt-pciback", "fail",
               ["xpt host start"])
        host_rows = [r for r in rows if r["check"] not in
                     ("reset", "group", "msi", "driver", "device")]
        same_except("pciback dead", host_rows,
                    [r for r in clean if r["check"] not in
                     ("reset", "group", "msi", "driver")],
                    {("pciback", "xpt-pciback")})
        rc, rows = h.doctor(*DEVS)
        for bdf in DEVS:
            expect("pciback dead", rows, "driver", bdf, "fail",
                   ["xpt pci-assignable-add " + bdf])
            for c in ("reset", "group", "msi"):
                expect("pciback dead", rows, c, bdf, "pass")
    finally:
        h.stop()

    # 8. the hypervisor dead: what needs it is skipped, saying so
    h = Host(xpt, dirs, CLEAN)
    try:
        h.kill("xpt-hypervisor")
        rc, rows = h.doctor()
        check(rc == 1, "hypervisor dead: doctor exit %d" % rc)
        expect("hypervisor dead", rows, "hypervisor", "xpt-hypervisor",
               "fail", ["xpt host start"])
        for c, o in (("iommu", "Xen"), ("intremap", "Xen"),
                     ("leftovers", "domains"), ("device", "devices")):
            row = expect("hypervisor dead", rows, c, o, "skip",
                         ["hypervisor check"])
        expect("hypervisor dead", rows, "store", "xenstore", "pass")
        expect("hypervisor dead", rows, "pciback", "xpt-pciback", "pass")
    finally:
        h.stop()

    # 9. many devices: a row for each check of each, none lost
    many = "".join("%02x:%02x.0 8086:1533 class=020000 bar0=128K "
                   "msix=5 intx=a gsi=%d reset=flr\n"
                   % (0x10 + i // 32, i % 32, 16 + i % 200)
                   for i in range(400))
    h = Host(xpt, dirs, many, [])
    try:
        bdfs = ["%02x:%02x.0" % (0x10 + i // 32, i % 32) for i in range(400)]
        rc, rows = h.doctor(*bdfs)
        check(rc == 1, "400 devices: doctor exit %d" % rc)
        for c in ("reset", "group", "msi", "driver"):
            n = sum(1 for r in rows if r["check"] == c)
            check(n == 400, "400 devices: %d %s rows" % (n, c))
        check(sum(1 for r in rows if r["status"] == "fail") == 400,
              "400 devices: not one driver failure each")
        # pciback holding more than a screenful still answers
        for bdf in bdfs[:40]:
            r = h.run("pci-assignable-add", bdf)
            check(r.returncode == 0, "assignable-add %s: %s" % (bdf, r.stderr))
        rc, rows = h.doctor()
        check(rc == 0, "40 assignable devices: %s"
              % [r for r in rows if r["status"] != "pass"])
        check(sum(1 for r in rows if r["check"] == "driver") == 40,
              "40 assignable devices: the default set is not pciback's")
    finally:
        h.stop()

    # usage errors
    r = subprocess.run([xpt, "doctor", "--nosuch"], capture_output=True,
                       text=True)
    check(r.returncode == 2 and "usage: xpt doctor" in r.stderr,
          "doctor --nosuch: %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([xpt, "doctor", "--help"], capture_output=True,
                       text=True)
    check(r.returncode == 0 and r.stdout.startswith("usage: xpt doctor "),
          "doctor --help: %r" % r.stdout)

    if failures:
        print("doctor: %d failure(s)" % len(failures))
        return 1
    print("doctor: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
