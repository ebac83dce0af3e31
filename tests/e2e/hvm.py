#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HVM guests through the xpt CLI on the modelled host: the device model
(xpt-dm) started paused and ready before the guest runs, PCI devices
given to it over QMP, hot-plug and detach through the guest's ACPI
hotplug (a hung guest never ejects), destroy with a dead device model,
and device models that fail at startup leaving nothing.

Each step checks the layers a user cannot fake: the hypervisor's owner
(pci-assignable-list -a), the device model's own view (QMP query-pci on
its socket), the /libxl/pci markers and the device-model state node.

usage: hvm.py XPT HOSTFILE FAKE-DM DIR...   (DIRs: where the daemons are)
"""
import json
import os
import select
import shutil
import signal
import socket
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


class Host:
    def __init__(self, xpt, hostfile, dirs):
        self.xpt = xpt
        self.dir = tempfile.mkdtemp(prefix="xpt-e2e-hvm.")
        self.env = dict(os.environ, XPT_RUNDIR=self.dir,
                        PATH=":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")]),
                        XENSTORED_PATH=os.path.join(self.dir, "socket"))
        self.env.pop("XPT_LIBEXEC", None)
        r = self.run("host", "start", "--host", hostfile)
        assert r.returncode == 0, r.stdout + r.stderr

    def run(self, *args, env=None, timeout=60):
        return subprocess.run([self.xpt] + list(args), env=env or self.env,
                              capture_output=True, text=True, timeout=timeout)

    def stop(self):
        self.run("host", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def xs(self, path):
        r = subprocess.run(["xenstore-read", path], env=self.env,
                           capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    def owners(self):
        """BDF -> domid for the devices assigned to a domain"""
        out = {}
        for line in self.run("pci-assignable-list", "-a").stdout.splitlines():
            parts = line.split()
            if "(assigned" in line:
                out[parts[0]] = int(line.split("domain ")[1].rstrip(")"))
        return out

    def markers(self):
        r = subprocess.run(["xenstore-ls", "/libxl/pci"], env=self.env,
                           capture_output=True, text=True)
        return r.stdout.count("domid =")

    def qmp(self, domid, cmd):
        """one QMP command on the device model's socket (then let go: it
        serves one client at a time)"""
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(self.dir, "qmp-libxl-%d" % domid))
        f = s.makefile("rwb", buffering=0)
        json.loads(f.readline())
        f.write(b'{"execute": "qmp_capabilities"}\r\n')
        json.loads(f.readline())
        f.write(json.dumps({"execute": cmd}).encode() + b"\r\n")
        while True:
            m = json.loads(f.readline())
            if "event" not in m:
                s.close()
                return m.get("return", m)

    def devices_in_dm(self, domid):
        ret = self.qmp(domid, "query-pci")
        return {d["qdev_id"]: d["slot"] for b in ret for d in b["devices"]}

    def domid(self, name):
        for line in self.run("list").stdout.splitlines()[1:]:
            f = line.split()
            if f[0] == name:
                return int(f[1])
        return None


def cfg(host, name, text):
    path = os.path.join(host.dir, name + ".cfg")
    with open(path, "w") as f:
        f.write('name = "%s"\ntype = "hvm"\nmemory = 128\n%s' % (name, text))
    return path


def guest_sees(host, name, want, deadline_s=10):
    """the guest's own device lines once they are `want` (a predicate),
    asked again until then, bounded"""
    end = time.monotonic() + deadline_s
    while True:
        out = host.run("guest-status", name).stdout
        seen = [l for l in out.splitlines() if l.startswith("dev ")]
        if want(seen) or time.monotonic() > end:
            return seen
        select.select([], [], [], 0.05)


def guest_pid(host, domid):
    with open(os.path.join(host.dir, "guest", "%d.pid" % domid)) as f:
        return int(f.read())


def dm_pid(host, domid):
    v = host.xs("/local/domain/%d/image/device-model-pid" % domid)
    return int(v) if v else None


def main():
    xpt, hostfile, fake_dm, dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    h = Host(xpt, hostfile, dirs)
    try:
        for d in ("03:00.0", "04:00.0", "05:00.0"):
            h.run("pci-assignable-add", d)

        # 1. create paused with two devices: the device model has both,
        # the guest has not run, the hypervisor assigns both to it
        r = h.run("create", "-p", cfg(h, "h1", 'pci = ["03:00.0", "04:00.0@6"]\n'))
        check(r.returncode == 0, "create -p h1: %s" % r.stderr)
        d1 = h.domid("h1")
        check(d1 is not None, "h1 not listed")
        devs = h.devices_in_dm(d1)
        check(devs == {"pci-pt-03_00.0": 4, "pci-pt-04_00.0": 6},
              "device model's devices after create: %s" % devs)
        check(h.qmp(d1, "query-status").get("status") == "prelaunch",
              "the device model runs before the guest was unpaused")
        check(h.owners() == {"0000:03:00.0": d1, "0000:04:00.0": d1},
              "IOMMU owners after create: %s" % h.owners())
        check(h.xs("/local/domain/0/device-model/%d/state" % d1) is None,
              "device-model state 'running' before cont")

        # 2. unpause: cont first, then the guest
        r = h.run("unpause", "h1")
        check(r.returncode == 0, "unpause h1: %s" % r.stderr)
        check(h.xs("/local/domain/0/device-model/%d/state" % d1) == "running",
              "device model not running after unpause")
        check(h.qmp(d1, "query-status").get("running") is True, "not running")
        # the guest itself (config-space I/O through its device model)
        # finds both devices, binds them, and counts their interrupts
        end = time.monotonic() + 10
        seen = []
        while time.monotonic() < end:
            out = h.run("guest-status", "h1").stdout
            seen = [l for l in out.splitlines() if l.startswith("dev ")]
            if len(seen) == 2 and all("driver=bound" in l for l in seen):
                break
            select.select([], [], [], 0.05)    # the guest boots: poll, bounded
        check(len(seen) == 2 and "device=0x1572" in seen[0] and "0000:00:06.0" in seen[1],
              "the guest's own view: %s" % seen)
        for _ in range(3):
            h.run("host", "raise-irq", "03:00.0")
        out = h.run("guest-status", "h1").stdout
        check("0000:00:04.0" in out and "count=3" in out.split("0000:00:04.0")[1].split("\n")[0],
              "3 interrupts of 03:00.0 not counted by the guest: %s" % out)

        # 3. hot-attach and detach through QMP and the guest's ACPI
        # hotplug: the guest finds the new device when told (no rescan),
        # and has let the detached one go before detach returns (the
        # device model reports DEVICE_DELETED only after the eject)
        r = h.run("pci-attach", "h1", "05:00.0")
        check(r.returncode == 0, "pci-attach: %s" % r.stderr)
        check("pci-pt-05_00.0" in h.devices_in_dm(d1), "attached device not in the DM")
        seen = guest_sees(h, "h1", lambda s: any("0000:00:05.0" in l for l in s))
        check(any("0000:00:05.0" in l and "driver=bound" in l for l in seen),
              "the guest did not take the hot-plugged device: %s" % seen)
        r = h.run("pci-detach", "h1", "03:00.0")
        check(r.returncode == 0, "pci-detach: %s" % r.stderr)
        out = h.run("guest-status", "h1").stdout
        check("0000:00:04.0" not in out,
              "the guest still has the detached device: %s" % out)
        devs = h.devices_in_dm(d1)
        check(devs == {"pci-pt-04_00.0": 6, "pci-pt-05_00.0": 5},
              "device model's devices after detach: %s" % devs)
        check("0000:03:00.0" not in h.owners(), "detached device still assigned")
        out = h.run("pci-list", "h1").stdout
        check("0000:04:00.0" in out and "0000:00:06.0" in out and "03:00.0" not in out,
              "pci-list: %s" % out)

        # 3b. a hung guest (its process stopped) never ejects: detach
        # fails within its bound naming -f and the device model keeps the
        # device; -f takes it back; the guest, continued, ejects it late
        gpid = guest_pid(h, d1)
        os.kill(gpid, signal.SIGSTOP)
        t0 = time.monotonic()
        r = h.run("pci-detach", "h1", "04:00.0")
        check(r.returncode != 0 and "-f" in r.stderr,
              "detach from a hung guest: rc %d %s" % (r.returncode, r.stderr))
        check("pci-pt-04_00.0" in h.devices_in_dm(d1),
              "the device model dropped a device the guest did not eject")
        r = h.run("pci-detach", "-f", "h1", "04:00.0")
        check(r.returncode == 0, "detach -f from a hung guest: %s" % r.stderr)
        check(time.monotonic() - t0 < 30, "detaches from a hung guest took %.0fs"
              % (time.monotonic() - t0))
        check("0000:04:00.0" not in h.owners(), "forced detach left it assigned")
        os.kill(gpid, signal.SIGCONT)
        end = time.monotonic() + 10
        while "pci-pt-04_00.0" in h.devices_in_dm(d1) and time.monotonic() < end:
            select.select([], [], [], 0.05)
        check("pci-pt-04_00.0" not in h.devices_in_dm(d1),
              "the continued guest did not eject: %s" % h.devices_in_dm(d1))

        # 4. a hung device model: detach without -f fails, bounded, and
        # names -f; with -f the device comes back
        pid = dm_pid(h, d1)
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        r = h.run("pci-detach", "h1", "05:00.0")
        check(r.returncode != 0 and "-f" in r.stderr, "detach with a hung DM: %s" % r.stderr)
        r = h.run("pci-detach", "-f", "h1", "05:00.0")
        check(r.returncode == 0, "detach -f with a hung DM: %s" % r.stderr)
        check(time.monotonic() - t0 < 30, "detaches with a hung DM took %.0fs"
              % (time.monotonic() - t0))
        check("0000:05:00.0" not in h.owners(), "forced detach left it assigned")
        os.kill(pid, signal.SIGCONT)
        # the device model, answering again, still lists the device the
        # forced detach took back: attaching it again must still work
        r = h.run("pci-attach", "h1", "05:00.0")
        check(r.returncode == 0, "re-attach after a forced detach: %s" % r.stderr)
        check(list(h.devices_in_dm(d1)).count("pci-pt-05_00.0") == 1 and
              h.owners().get("0000:05:00.0") == d1,
              "re-attach after a forced detach: DM %s, owners %s"
              % (h.devices_in_dm(d1), h.owners()))

        # 5. destroy with the device model killed: everything released
        os.kill(pid, signal.SIGKILL)
        r = h.run("destroy", "h1")
        check(r.returncode == 0, "destroy with a dead DM: %s" % r.stderr)
        check(h.owners() == {} and h.markers() == 0,
              "after destroy: owners %s, %d markers" % (h.owners(), h.markers()))
        check(h.xs("/local/domain/0/device-model/%d" % d1) is None, "DM node left")

        # 6. device models that fail at startup: create fails, nothing left
        libexec = os.path.join(h.dir, "libexec")
        os.mkdir(libexec)
        os.symlink(os.path.abspath(fake_dm), os.path.join(libexec, "xpt-dm"))
        for mode, bound in (("exit3", 5), ("running", 5), ("silent", 20)):
            env = dict(h.env, XPT_LIBEXEC=libexec, XPT_FAKE_DM=mode)
            t0 = time.monotonic()
            r = h.run("create", cfg(h, "bad", 'pci = ["03:00.0"]\n'), env=env)
            took = time.monotonic() - t0
            check(r.returncode != 0 and "device model" in r.stderr,
                  "create with a DM that is %s: rc %d %s" % (mode, r.returncode, r.stderr))
            check(took < bound, "%s: create took %.1fs" % (mode, took))
            check(h.domid("bad") is None and h.owners() == {} and h.markers() == 0,
                  "%s: left a domain, owner or marker" % mode)
            subprocess.run(["pkill", "-f", "fake-dm.py.*%s" % h.dir])
    finally:
        h.stop()
    print("e2e-hvm: %s" % ("%d failures" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
