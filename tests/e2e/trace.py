#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xpt trace on the modelled host: a host started with --access-log, a PV
guest created with a device, a second attached and detached, a second
guest with its own device, an HVM guest with a stub domain given a
device, all destroyed; then `xpt trace --json
--domain NAME` must name the parties from the log (toolstack, pciback,
pcifront of that domain, the store), follow the backend's xenbus state
from Initialising to Connected and through each reconfiguration
(Reconfiguring, Reconfigured, Connected again), the second device's own
state-1 from Initialising through Initialised to Closing at its detach,
report no failed request but the removals of nodes not yet there, and
leave the other guest out.  `xpt trace` with no file reads the log the
host recorded, and needs no host running.

usage: trace.py XPT HOSTFILE DIR...   (DIRs: where the daemons are)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


# Names itself "a b=<i>\x1b" (prctl PR_SET_NAME), then writes /hostile
# through the store's socket in the wire protocol (header: type, req_id,
# tx_id, len; XS_WRITE is 11) and reads the reply.
HOSTILE_COMM = r"""
import ctypes, socket, struct, sys
ctypes.CDLL(None).prctl(15, b"a b=<i>\x1b", 0, 0, 0)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = b"/hostile\0x"
s.sendall(struct.pack("<IIII", 11, 7, 0, len(body)) + body)
hdr = s.recv(16)
assert struct.unpack("<IIII", hdr)[0] == 11, hdr
"""


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def run(xpt, env, *args):
    return subprocess.run([xpt] + list(args), env=env, capture_output=True,
                          text=True, timeout=60)


def states(events, path):
    """the committed states written to path, in order"""
    return [e["state"]["to"] for e in events
            if "state" in e and e["path"] == path and not e["aborted"]
            and not e["failed"]]


def subseq(want, seq):
    """want appears in seq in this order (not necessarily adjacent)"""
    it = iter(seq)
    return all(any(x == w for x in it) for w in want)


def check_hv(t, dom, log):
    """The hypervisor's lane (log.hv, merged by time): the devices assigned
    to the guest and taken back, its MSI-X set up and torn down, in the
    order the code makes them relative to the store's events."""
    ev = t["events"]
    check(t["hv_log"] == log + ".hv", "hv_log: %s" % t["hv_log"])
    hv_lane = [l["index"] for l in t["lanes"] if l["party"] == "hypervisor"]
    front = [l["index"] for l in t["lanes"] if l["party"] == "pcifront"]
    if not check(len(hv_lane) == 1 and front, "lanes: %s" % t["lanes"]):
        return
    hv = [i for i, e in enumerate(ev) if e["kind"] == "hv"]
    check(all(ev[i]["from"] == hv_lane[0] and ev[i]["to"] == front[0]
              and ev[i]["domid"] == dom for i in hv),
          "hv events of web01 go hypervisor -> its pcifront: %s" %
          [ev[i] for i in hv if ev[i]["domid"] != dom][:3])
    check(all(ev[i]["t"] <= ev[i + 1]["t"] for i in range(len(ev) - 1)),
          "events out of time order")

    def first(pred, after=-1):
        return next((i for i, e in enumerate(ev) if i > after and pred(e)),
                    None)

    def hvev(name, *fields):
        return lambda e: (e["kind"] == "hv" and e["path"] == name and
                          all(f in e["value"].split() for f in fields))

    def write(path, to, by=None):
        return lambda e: (e["kind"] == "write" and e["path"] == path and
                          "state" in e and e["state"]["to"] == to and
                          not e["aborted"])
    be = "/local/domain/0/backend/pci/%d/0" % dom
    fe = "/local/domain/%d/device/pci/0/state" % dom
    d0, d1 = "bdf=0000:03:00.0", "bdf=0000:04:00.0"
    # create: the domain, then its device assigned out of quarantine,
    # before the toolstack writes the backend (Initialising)
    c = first(hvev("create", "name=web01"))
    a0 = first(hvev("assign", d0, "from=32753", "to=%d" % dom))
    b1 = first(write(be + "/state", 1))
    check(None not in (c, a0, b1) and c < a0 < b1,
          "create %s < assign 03:00.0 %s < backend Initialising %s" %
          (c, a0, b1))
    # the guest's driver sets up MSI-X (through pciback) once the backend
    # is Connected, before pcifront says Connected
    b4 = first(write(be + "/state", 4))
    m0 = first(hvev("map_pirq", d0, "type=msix"))
    f4 = first(write(fe, 4), m0 if m0 is not None else -1)
    check(None not in (b4, m0, f4) and b4 < m0 < f4,
          "backend Connected %s < MSI-X of 03:00.0 %s < frontend "
          "Connected %s" % (b4, m0, f4))
    # hot-plug: assigned before the toolstack writes state-1 Initialising;
    # MSI-X once the backend is Reconfigured
    a1 = first(hvev("assign", d1, "from=32753", "to=%d" % dom))
    s1 = first(write(be + "/state-1", 1))
    r8 = first(write(be + "/state", 8), s1 if s1 is not None else -1)
    m1 = [i for i, e in enumerate(ev) if hvev("map_pirq", d1, "type=msix")(e)]
    check(None not in (a1, s1, r8) and a1 < s1 < r8 and len(m1) >= 1 and
          r8 < m1[0], "assign 04:00.0 %s < state-1 Initialising %s < "
          "Reconfigured %s < its MSI-X %s" % (a1, s1, r8, m1))
    pirqs = {f for i in m1 for f in ev[i]["value"].split()
             if f.startswith("pirq=")}
    # detach: the toolstack's Closing, the guest's driver gives its
    # pirqs back, then the device goes back to quarantine
    s5 = first(write(be + "/state-1", 5))
    un = [i for i, e in enumerate(ev) if e["kind"] == "hv" and
          e["path"] == "unmap_pirq" and set(e["value"].split()) & pirqs]
    d = first(hvev("deassign", d1, "from=%d" % dom, "to=32753"))
    check(None not in (s5, d) and len(un) == len(pirqs) and
          all(s5 < i < d for i in un),
          "state-1 Closing %s < unmaps of %s %s < deassign 04:00.0 %s" %
          (s5, sorted(pirqs), un, d))
    # destroy: 03:00.0 back to quarantine before the domain goes
    dd = first(hvev("deassign", d0, "from=%d" % dom, "to=32753"))
    x = first(hvev("destroy"))
    check(None not in (dd, x) and d < dd < x,
          "deassign 03:00.0 %s < destroy %s" % (dd, x))


def main():
    xpt, hostfile, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
    d = tempfile.mkdtemp(prefix="xpt-e2e-trace.")
    log = os.path.join(d, "access.log")
    env = dict(os.environ, XPT_RUNDIR=os.path.join(d, "run"),
               PATH=":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")]))
    env.pop("XPT_LIBEXEC", None)
    started = False
    try:
        r = run(xpt, env, "host", "start", "--host", hostfile,
                "--access-log", log)
        if not check(r.returncode == 0, "host start: " + r.stderr):
            return 1
        started = True
        for bdf in ("03:00.0", "04:00.0", "05:00.0"):
            r = run(xpt, env, "pci-assignable-add", bdf)
            check(r.returncode == 0, "pci-assignable-add %s: %s" % (bdf, r.stderr))
        for name, dev in (("web01", "03:00.0"), ("db02", "05:00.0")):
            cfg = os.path.join(d, name + ".cfg")
            with open(cfg, "w") as f:
                f.write('name = "%s"\ntype = "pv"\nmemory = 128\n'
                        'pci = ["%s"]\n' % (name, dev))
            r = run(xpt, env, "create", cfg)
            check(r.returncode == 0, "create %s: %s" % (name, r.stderr))
        cfg = os.path.join(d, "kiosk.cfg")
        with open(cfg, "w") as f:
            f.write('name = "kiosk"\ntype = "hvm"\nmemory = 128\n'
                    'device_model_stubdomain_override = 1\n'
                    'stubdomain_memory = 64\npassthrough = "enabled"\n')
        for args in (("pci-attach", "web01", "04:00.0"),
                     ("pci-detach", "web01", "04:00.0"),
                     ("create", cfg), ("pci-attach", "kiosk", "04:00.0,permissive=1"),
                     ("destroy", "kiosk"), ("reboot", "db02"),
                     ("destroy", "web01"), ("destroy", "db02")):
            r = run(xpt, env, *args)
            check(r.returncode == 0, "%s: %s" % (" ".join(args), r.stderr))
        # A client whose command name holds a space, '=', markup and an
        # escape byte (a process can name itself anything): its CONNECT
        # record stays one field, printable.
        sock = os.path.join(d, "run", "socket")
        r = subprocess.run([sys.executable, "-c", HOSTILE_COMM, sock],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "hostile-comm client: %s" % r.stderr)
        r = run(xpt, env, "host", "stop")
        started = False

        # The store's own records: who each connection is, when it goes,
        # and the watch events it was sent.
        with open(log, errors="replace") as f:
            raw = [l.split() for l in f]
        connects = {l[1]: l for l in raw if len(l) > 3 and l[3] == "CONNECT"}
        closes = [l[1] for l in raw if len(l) > 3 and l[3] == "CLOSE"]
        comms = sorted({l[5] for l in connects.values() if len(l) > 5
                        and l[5] != "comm=a?b??i??"})
        check(comms == ["comm=xpt", "comm=xpt-dm", "comm=xpt-guest",
                        "comm=xpt-pciback"], "CONNECT records: %s" % comms)
        check(sorted(set(closes)) == sorted(closes) and
              set(closes) <= set(connects),
              "CLOSE records: one per connection, after its CONNECT")
        check(set(connects) == set(closes),
              "every connection closed by host stop: %s" %
              (set(connects) - set(closes)))
        check(any(l[3:5] == ["OUT", "WATCH_EVENT"] for l in raw if len(l) > 4),
              "no watch event in the access log")
        hostile = [l for l in raw if len(l) > 5 and l[3] == "CONNECT"
                   and l[5].startswith("comm=a")]
        check(len(hostile) == 1 and hostile[0][5] == "comm=a?b??i??"
              and len(hostile[0]) == 6,
              "a hostile command name in CONNECT: %s" % hostile)
        ta = json.loads(run(xpt, env, "trace", "--json", "--all-paths",
                            log).stdout)
        check("other d0 (a?b??i??)" in [l["name"] for l in ta["lanes"]],
              "the hostile client's lane: %s" % [l["name"] for l in ta["lanes"]])

        # No file given: the log recorded at host start.  No host runs.
        r = run(xpt, env, "trace", "--json", "--domain", "web01")
        if not check(r.returncode == 0, "trace --json --domain web01: " +
                     r.stderr):
            return 1
        t = json.loads(r.stdout)
        check(t["format"] == "xpt-xenstored", "format %s" % t["format"])
        check(t["skipped"] == 0, "%d lines skipped" % t["skipped"])
        dom = t["domain"]
        check(t["domain_name"] == "web01" and dom is not None,
              "domain %s %s" % (dom, t["domain_name"]))
        parties = sorted(l["party"] for l in t["lanes"])
        check(parties == ["hypervisor", "pciback", "pcifront", "store",
                          "toolstack"],
              "lanes: %s" % [l["name"] for l in t["lanes"]])
        front = [l for l in t["lanes"] if l["party"] == "pcifront"]
        check(front and front[0]["domid"] == dom,
              "pcifront lane of domain %s: %s" % (dom, front))
        ev = t["events"]
        lane_party = {l["index"]: l["party"] for l in t["lanes"]}
        be = "/local/domain/0/backend/pci/%d/0" % dom
        fe = "/local/domain/%d/device/pci/0/state" % dom
        bs = states(ev, be + "/state")
        check(bs[:4] == [1, 2, 3, 4],
              "backend state at create: %s (want 1 2 3 4 first)" % bs)
        # attach, then detach: each a reconfiguration back to Connected
        check(subseq([4, 7, 8, 4, 7, 8, 4], bs),
              "backend state through attach and detach: %s" % bs)
        node = [n for n in t["nodes"] if n["path"] == be + "/state-1"]
        check(node and node[0]["device"] == "0000:04:00.0" and
              node[0]["removed"] and subseq([1, 3, 5], node[0]["states"]),
              "state-1's summary: %s" % node)
        s1 = states(ev, be + "/state-1")
        check(subseq([1, 3, 5], s1),
              "state-1 of the attached device: %s (want 1 3 5)" % s1)
        fs = states(ev, fe)
        check(subseq([1, 3, 4, 7, 4, 7, 4], fs), "frontend state: %s" % fs)
        # who wrote what: the backend's state by pciback (after the
        # toolstack's Initialising and Reconfiguring), the frontend's by
        # pcifront
        writers = {lane_party[e["from"]] for e in ev
                   if "state" in e and e["path"] == be + "/state"
                   and e["state"]["to"] in (2, 3, 4, 8)}
        check(writers == {"pciback"}, "backend states 2/3/4/8 written by %s"
              % writers)
        check(all(e["state"]["from"] == p for e, p in zip(
            [e for e in ev if "state" in e and e["path"] == be + "/state"
             and not e["aborted"]][1:], bs)),
              "a state write's 'from' is the state before it")
        # Failures: only removals of nodes not there yet (xpt clears a
        # leftover backend before writing one).
        failed = [(e["kind"], e["path"], e["error"]) for e in ev if e["failed"]]
        check(all(k == "rm" and err == "ENOENT" for k, _, err in failed),
              "failed requests: %s" % failed)
        check(not any(e["aborted"] for e in ev), "aborted events")
        check_hv(t, dom, log)
        # The other guest is left out.
        r2 = run(xpt, env, "trace", "--json", log)
        all_ev = json.loads(r2.stdout)["events"]
        other = [e for e in ev if e["domid"] not in (dom, None)]
        check(not other, "events of other domains kept: %s" % other[:3])
        check(any(e["domid"] not in (dom, None) for e in all_ev),
              "the unfiltered trace has the other guest's events")
        check(len(all_ev) > len(ev), "the filter dropped nothing")
        # The text view says the same.
        r = run(xpt, env, "trace", "--domain", "web01", log)
        check(r.returncode == 0 and "Reconfigured" in r.stdout and
              "pcifront d%d" % dom in r.stdout and
              "aborted transactions: none" in r.stdout and
              "failed requests: none" in r.stdout,
              "text view: %s" % r.stdout[-400:])
        # A line of the hypervisor's log that is no event is skipped; the
        # events stay.  --no-hv-log leaves them out; --hv-log not there is
        # an error.
        with open(log + ".hv", "a") as f:
            f.write("12.5 dom=x assign\n\x01garbage\n")
        g = json.loads(run(xpt, env, "trace", "--json", "--domain", "web01",
                           log).stdout)
        check(g["skipped"] == 2 and g["events"] == ev,
              "garbage hv lines: %d skipped" % g["skipped"])
        r = run(xpt, env, "trace", "--json", "--no-hv-log", log)
        check(r.returncode == 0 and not any(
            e["kind"] == "hv" for e in json.loads(r.stdout)["events"]),
              "--no-hv-log: %d" % r.returncode)
        r = run(xpt, env, "trace", "--hv-log", log + ".nosuch", log)
        check(r.returncode == 3 and "nosuch" in r.stderr,
              "--hv-log not there: %d %s" % (r.returncode, r.stderr))
        r = run(xpt, env, "trace", "--domain", "nosuch", log)
        check(r.returncode == 3 and "no domain named 'nosuch'" in r.stderr,
              "unknown name: %d %s" % (r.returncode, r.stderr))
        # An HVM guest whose device model runs in a stub domain: its
        # trace keeps the stub domain's own backend and pcifront, through
        # which the device goes, and the device model in it.
        k = json.loads(run(xpt, env, "trace", "--json", "--domain", "kiosk",
                           log).stdout)
        stubs = k["stub_domains"]
        check(len(stubs) == 1 and stubs[0] != k["domain"],
              "kiosk's stub domains: %s" % stubs)
        names = [l["name"] for l in k["lanes"]]
        if stubs:
            s = stubs[0]
            check(names == ["store", "toolstack (xpt)", "pciback (xpt-pciback)",
                            "pcifront d%d (xpt-guest)" % s,
                            "stubdom d%d (xpt-dm)" % s, "hypervisor"],
                  "kiosk's lanes: %s" % names)
            sb = states(k["events"], "/local/domain/0/backend/pci/%d/0/state" % s)
            check(subseq([1, 2, 3, 4], sb), "stub's backend: %s" % sb)
            check(any(e["path"].startswith("/local/domain/%d/device-model/%d/"
                                           % (s, k["domain"]))
                      for e in k["events"]), "the stub's device model's nodes")
        check(not [e for e in k["events"] if e["domid"] not in stubs +
                   [k["domain"], None]], "kiosk's trace keeps other domains")
        # db02 was rebooted (a new domid, the same name): --domain db02
        # keeps both ids' events, the old one's named as earlier.
        b = json.loads(run(xpt, env, "trace", "--json", "--domain", "db02",
                           log).stdout)
        old = b["earlier_domains"]
        check(len(old) == 1 and old[0] != b["domain"],
              "db02's earlier domains: %s (now %s)" % (old, b["domain"]))
        for dd in old + [b["domain"]]:
            s = states(b["events"], "/local/domain/0/backend/pci/%d/0/state"
                       % dd)
            check(subseq([1, 2, 3, 4], s),
                  "db02's backend as domain %d: %s" % (dd, s))
        check(not [e for e in b["events"] if e["domid"] not in old +
                   [b["domain"], None]], "db02's trace keeps other domains")
        r = run(xpt, env, "trace", "--domain", "db02", log)
        check(old and "and earlier %d," % old[0] in r.stdout.splitlines()[0],
              "text view of db02: %s" % r.stdout.splitlines()[:1])
        os.unlink(os.path.join(d, "run", "access-log"))
        r = run(xpt, env, "trace")
        check(r.returncode == 2 and "--access-log" in r.stderr,
              "no log recorded: %d %s" % (r.returncode, r.stderr))
    finally:
        if started:
            run(xpt, env, "host", "stop")
        if not failures:
            shutil.rmtree(d, ignore_errors=True)
        else:
            print("kept", d)
    print("trace: %s" % ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
