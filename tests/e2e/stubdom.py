#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HVM guests whose device model runs in a stub domain, through the xpt CLI
on the modelled host (xl.cfg device_model_stubdomain_override = 1).

The stub domain S of guest G is a modelled PV domain: its kernel is
`xpt-guest --stubdom` (pcifront, and an init that starts xpt-dm for G as
a Linux stub domain starts QEMU).  Each step checks every layer a user
cannot fake: the hypervisor's owner (G), pciback's exporting domain (S),
S's own backend, the absence of a backend for G, the /libxl/pci markers,
the device model's view (QMP), the guest's own view, and the stub
domain's nodes (target, device-model-domid, the state under S's home).

usage: stubdom.py XPT HOSTFILE FAKE-DM DIR...   (DIRs: where the daemons are)
"""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvm import Host, cfg, check, failures, guest_pid, guest_sees  # noqa: E402

STUB = ("device_model_stubdomain_override = 1\n"
        "stubdomain_memory = 64\n")


def exports(h):
    """BDF -> the domain pciback exports it to (pciback's own view)"""
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(h.dir, "pciback", "control"))
    s.sendall(b"list\n")
    data = b""
    while not data.endswith(b"\n") or b"\nok" not in b"\n" + data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    out = {}
    for line in data.decode().splitlines():
        if "exported-to=" in line:
            bdf, to = line.split()[0], line.split("exported-to=")[1]
            if to != "-":
                out[bdf] = int(to)
    return out


def backend(h, domid):
    """dev-N values of a domain's pciback backend, and its state"""
    be = "/local/domain/0/backend/pci/%d/0" % domid
    n = h.xs(be + "/num_devs")
    devs = [h.xs("%s/dev-%d" % (be, i)) for i in range(int(n))] if n else []
    return devs, h.xs(be + "/state")


def layers(h, g, s, want):
    """every layer agrees that G has exactly `want` (BDFs) through S"""
    full = ["0000:" + d for d in want]
    owners = {b: d for b, d in h.owners().items()}
    check(owners == {b: g for b in full}, "IOMMU owners %s, want %s for %d"
          % (owners, full, g))
    ex = exports(h)
    check(ex == {b: s for b in full}, "pciback exports %s, want %s to %d"
          % (ex, full, s))
    devs, state = backend(h, s)
    check(sorted(devs) == sorted(full) and (not full or state == "4"),
          "stub backend %s state %s" % (devs, state))
    check(h.xs("/local/domain/0/backend/pci/%d" % g) is None,
          "a backend for the HVM guest itself")
    check(h.markers() == len(full), "%d markers for %s" % (h.markers(), full))
    ids = set(h.devices_in_dm(g))
    check(ids == {"pci-pt-%s_%s" % (d[:2], d[3:7]) for d in want},
          "the device model's devices %s, want %s" % (ids, want))


def stub_of(h, g):
    v = h.xs("/local/domain/%d/image/device-model-domid" % g)
    return int(v) if v else None


def main():
    xpt, hostfile, fake_dm, dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    h = Host(xpt, hostfile, dirs)
    try:
        for d in ("03:00.0", "04:00.0", "05:00.0"):
            h.run("pci-assignable-add", d)

        # 0. the stub domain's name is checked before any domain is built
        # (on Xen libxl builds <name>-dm with the guest: checked after the
        # build, the name was always taken, by that stub domain): with
        # n-dm taken, create n is refused and builds nothing, so the next
        # domain gets the next domid
        r = h.run("create", "-p", cfg(h, "n-dm", ""))
        check(r.returncode == 0, "create -p n-dm: %s" % r.stderr)
        held = h.domid("n-dm")
        r = h.run("create", "-p", cfg(h, "n", STUB))
        check(r.returncode != 0 and "'n-dm' already exists" in r.stderr,
              "create n with n-dm taken: rc %d %s" % (r.returncode, r.stderr))
        r = h.run("create", "-p", cfg(h, "n2", ""))
        check(r.returncode == 0 and held is not None and
              h.domid("n2") == held + 1, "the refused create of n built a "
              "domain: n-dm is %s, the next domain %s" % (held, h.domid("n2")))
        for n in ("n2", "n-dm"):
            h.run("destroy", n)

        # 1. create paused with one device: the stub domain is built and
        # runs its device model, the device reaches it through the stub
        # domain's own backend (a hot-plug), the guest has not run
        r = h.run("create", "-p", cfg(h, "s1", 'pci = ["03:00.0,permissive=1"]\n'
                                      + STUB))
        check(r.returncode == 0, "create -p s1: %s" % r.stderr)
        g, s = h.domid("s1"), h.domid("s1-dm")
        check(g is not None and s is not None, "s1 / s1-dm not listed")
        check(stub_of(h, g) == s and h.xs("/local/domain/%d/target" % s) == str(g),
              "device-model-domid / target: %s / %s" % (stub_of(h, g), s))
        check(h.xs("/local/domain/%d/device-model/%d/state" % (s, g)) == "running",
              "the state node is not under the stub domain's home")
        check(h.xs("/local/domain/0/device-model/%d" % g) is None,
              "a dom0 device-model directory for a stub-domain guest")
        layers(h, g, s, ["03:00.0"])
        row = [l.split() for l in h.run("list").stdout.splitlines() if l.startswith("s1-dm ")]
        check(row and row[0][2:4] == ["64", "1"], "xpt list of the stub domain: %s" % row)
        for verb in (["destroy"], ["reboot"], ["pci-attach", "s1-dm", "04:00.0"]):
            args = verb + (["s1-dm"] if len(verb) == 1 else [])
            r = h.run(*args)
            check(r.returncode != 0 and "stub domain of domain %d" % g in r.stderr,
                  "xpt %s of the stub domain: rc %d %s" % (verb[0], r.returncode, r.stderr))
        check(h.domid("s1-dm") == s, "the stub domain went after a refused verb")
        check(h.run("guest-status", "s1").returncode != 0 or
              "dev " not in h.run("guest-status", "s1").stdout,
              "the guest ran before it was unpaused")

        # 2. unpause: the guest finds the device through the device model
        r = h.run("unpause", "s1")
        check(r.returncode == 0, "unpause s1: %s" % r.stderr)
        seen = guest_sees(h, "s1", lambda l: any("driver=bound" in x for x in l))
        check(len(seen) == 1 and "driver=bound" in seen[0], "guest view: %s" % seen)
        for _ in range(3):
            h.run("host", "raise-irq", "03:00.0")
        seen = guest_sees(h, "s1", lambda l: any("count=3" in x for x in l))
        check(any("count=3" in x for x in seen), "3 interrupts: %s" % seen)

        # 3. hot-attach: S's backend gets it first, then its device model
        r = h.run("pci-attach", "s1", "04:00.0,permissive=1")
        check(r.returncode == 0, "pci-attach: %s" % r.stderr)
        layers(h, g, s, ["03:00.0", "04:00.0"])
        seen = guest_sees(h, "s1", lambda l: len(l) == 2)
        check(len(seen) == 2, "the guest's view after attach: %s" % seen)
        out = h.run("pci-list", "s1").stdout
        rows = [l.split() for l in out.splitlines()[1:] if "0000:0" in l]
        check(sorted(r[1] for r in rows) == ["0000:03:00.0", "0000:04:00.0"] and
              all(r[3] == "3" and "permissive=1" in r[4] for r in rows),
              "pci-list of a stub-domain guest (the stub backend's state "
              "and options): %s" % out)

        # 4. detach: out of the device model, out of S, then the host side
        r = h.run("pci-detach", "s1", "03:00.0")
        check(r.returncode == 0, "pci-detach: %s" % r.stderr)
        layers(h, g, s, ["04:00.0"])
        check("0000:03:00.0" in h.run("pci-assignable-list").stdout,
              "detached 03:00.0 not assignable again")

        # 4b. without permissive=1 the stub's config writes are filtered:
        # the attach says so (naming the fix), and whatever it then did,
        # a detach leaves the layers as before
        r = h.run("pci-attach", "s1", "03:00.0")
        check("03:00.0 has no permissive=1" in r.stderr and
              '"0000:03:00.0,permissive=1"' in r.stderr,
              "attach without permissive: no warning: rc %d %s"
              % (r.returncode, r.stderr))
        if r.returncode == 0:
            r = h.run("pci-detach", "s1", "03:00.0")
            check(r.returncode == 0, "pci-detach (not permissive): %s" % r.stderr)
        layers(h, g, s, ["04:00.0"])

        # 5. reboot: a new guest and a new stub domain, the device kept
        r = h.run("reboot", "s1")
        check(r.returncode == 0, "reboot: %s" % r.stderr)
        g2, s2 = h.domid("s1"), h.domid("s1-dm")
        check(g2 is not None and g2 != g and s2 is not None and s2 != s,
              "after reboot: s1 %s s1-dm %s" % (g2, s2))
        check(h.xs("/local/domain/%d" % s) is None, "the old stub's home left")
        if g2 is not None and s2 is not None:
            layers(h, g2, s2, ["04:00.0"])

        # 6. destroy: both domains, every node, the device assignable
        r = h.run("destroy", "s1")
        check(r.returncode == 0, "destroy: %s" % r.stderr)
        check(h.domid("s1") is None and h.domid("s1-dm") is None,
              "domains left: %s" % h.run("list").stdout)
        check(h.owners() == {} and exports(h) == {} and h.markers() == 0,
              "after destroy: owners %s exports %s markers %d"
              % (h.owners(), exports(h), h.markers()))
        for p in ("/local/domain/%d" % s2, "/local/domain/0/backend/pci/%d" % s2,
                  "/libxl/%d" % s2):
            check(h.xs(p) is None, "%s left after destroy" % p)

        # 6b. a stub domain that hangs (its kernel stopped) while a device
        # is hot-added (C-R10): the attach fails within its bound naming
        # the stub domain, and leaves what was there; continued, it works
        r = h.run("create", cfg(h, "s2", 'pci = ["03:00.0,permissive=1"]\n' + STUB))
        check(r.returncode == 0, "create s2: %s" % r.stderr)
        g, s = h.domid("s2"), h.domid("s2-dm")
        if g is not None and s is not None:
            kpid = guest_pid(h, s)
            os.kill(kpid, signal.SIGSTOP)
            t0 = time.monotonic()
            r = h.run("pci-attach", "s2", "04:00.0,permissive=1")
            took = time.monotonic() - t0
            os.kill(kpid, signal.SIGCONT)
            # the failed attach took its entry back; the backend it left
            # Reconfiguring returns to Connected once the stub answers
            end = time.monotonic() + 10
            while backend(h, s)[1] != "4" and time.monotonic() < end:
                time.sleep(0.05)
            check(r.returncode != 0 and "stub domain of domain %d" % g in r.stderr,
                  "attach through a hung stub domain: rc %d %s" % (r.returncode, r.stderr))
            check(took < 45, "attach through a hung stub domain took %.0f s" % took)
            layers(h, g, s, ["03:00.0"])
            r = h.run("pci-attach", "s2", "04:00.0,permissive=1")
            check(r.returncode == 0, "attach once the stub answers: %s" % r.stderr)
            layers(h, g, s, ["03:00.0", "04:00.0"])

            # 6c. the stub domain killed outright (C-R11): destroy still
            # takes every device back and leaves nothing
            os.kill(guest_pid(h, s), signal.SIGKILL)
            r = h.run("destroy", "s2")
            check(r.returncode == 0, "destroy with a dead stub domain: %s" % r.stderr)
            check(h.domid("s2") is None and h.domid("s2-dm") is None and
                  h.owners() == {} and exports(h) == {} and h.markers() == 0,
                  "after destroy with a dead stub: %s owners %s exports %s"
                  % (h.run("list").stdout, h.owners(), exports(h)))
            check(h.xs("/local/domain/0/backend/pci/%d" % s) is None,
                  "the dead stub's backend left")

        # 6d. a stub domain's device model that takes 12 s to answer a
        # device_add (the lab, under load): more than libxl's 10 s, and
        # the device is added, not given up while under way
        libexec = os.path.join(h.dir, "libexec")
        os.mkdir(libexec)
        os.symlink(os.path.abspath(fake_dm), os.path.join(libexec, "xpt-dm"))
        env = dict(h.env, XPT_LIBEXEC=libexec, XPT_FAKE_DM="slow-add")
        t0 = time.monotonic()
        r = h.run("create", "-p", cfg(h, "slow", 'pci = ["03:00.0,permissive=1"]\n' + STUB),
                  env=env)
        took = time.monotonic() - t0
        check(r.returncode == 0 and took > 11,
              "a device_add answered after 12 s: rc %d after %.0f s: %s"
              % (r.returncode, took, r.stderr))
        if h.domid("slow") is not None:
            check(h.owners() == {"0000:03:00.0": h.domid("slow")},
                  "slow-add: owners %s" % h.owners())
            r = h.run("destroy", "slow")
            check(r.returncode == 0 and h.owners() == {} and h.markers() == 0,
                  "destroy slow: %s" % r.stderr)
        subprocess.run(["pkill", "-f", "fake-dm.py.*%s" % h.dir])

        # 7. stub domains whose device model fails (hv-dm.md C-R3..C-R7):
        # each create fails, bounded, naming the stub domain, and leaves
        # no domain, owner, export or marker.  The device model is
        # tests/unit/fake-dm.py, started by the stub domain's init.
        for mode, bound, says in (("exit3", 40, "stub domain"),
                                  ("paused-node", 40, '"paused"'),
                                  ("silent", 20, "does not answer"),
                                  ("garbage", 20, "device model"),
                                  ("prelaunch", 20, "not running"),
                                  # every device_add refused: the reason
                                  # outlives the stub domain's undo
                                  ("no-add", 40, "Could not open")):
            env = dict(h.env, XPT_LIBEXEC=libexec, XPT_FAKE_DM=mode)
            t0 = time.monotonic()
            r = h.run("create", cfg(h, "bad", 'pci = ["03:00.0,permissive=1"]\n' + STUB),
                      env=env)
            took = time.monotonic() - t0
            check(r.returncode != 0 and says in r.stderr,
                  "%s: create: rc %d %s" % (mode, r.returncode, r.stderr))
            check(took < bound, "%s: create took %.0f s" % (mode, took))
            check(h.domid("bad") is None and h.domid("bad-dm") is None and
                  h.owners() == {} and exports(h) == {} and h.markers() == 0,
                  "%s: a failed stub-domain create left something: %s owners %s"
                  % (mode, h.run("list").stdout, h.owners()))
            subprocess.run(["pkill", "-f", "fake-dm.py.*%s" % h.dir])
    finally:
        h.stop()
    print("e2e-stubdom-xpt: %s" % ("%d failures" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
