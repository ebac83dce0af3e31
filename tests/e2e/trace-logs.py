#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xpt trace on saved logs (tests/data/trace/, README there):

c-xenstored.log, the trace of Debian's C xenstored 4.17: its format found,
each of its parties named by what it wrote, transactions followed without
ids on the requests, the xenbus states, the failed commit (EAGAIN) and
the given-up transaction.

c-xenstored-4.19.log, that log in the format of Xen 4.19 and later.

lab-concurrent-first-attach.log.gz, the same daemon's trace in the
real-Xen lab: rings named, and xl 4.17's concurrent attaches;
lab-concurrent-first-attach-xpt.log.gz, the same scenario with xpt;
lab-cold-plug-4.20-xl.log.gz, Debian 13's C xenstored 4.20 in the lab.

hostile.log, an access log of xpt-xenstored with garbage lines, a line of
10000 bytes, a NUL, a payload cut at 256 bytes, control bytes and markup
from a guest: garbage counted as skipped, every good line still read,
every string printable ASCII.

No host runs: xpt trace only reads the file.

usage: trace-logs.py XPT DATADIR
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def trace(xpt, *args):
    env = dict(os.environ, XPT_RUNDIR=tempfile.mkdtemp(prefix="xpt-nohost."))
    r = subprocess.run([xpt, "trace"] + list(args), env=env,
                       capture_output=True, timeout=60)
    os.rmdir(env["XPT_RUNDIR"])
    return r


def trace_json(xpt, *args):
    r = trace(xpt, "--json", *args)
    check(r.returncode == 0, "trace --json %s: %s" % (args, r.stderr))
    return json.loads(r.stdout)


def states(t, path):
    return [e["state"]["to"] for e in t["events"] if "state" in e
            and e["path"] == path and not e["aborted"] and not e["failed"]]


def printable(s):
    return all(32 <= ord(c) <= 126 for c in s)


def c_xenstored(xpt, data):
    log = os.path.join(data, "c-xenstored.log")
    t = trace_json(xpt, log)
    check(t["format"] == "c-xenstored", "format %s" % t["format"])
    # 91 records: IN/OUT lines and CREATE/DESTROY connection; the other
    # 144 lines are the daemon's own ("wrl:", "CREATE watch", ...)
    check((t["lines"], t["records"], t["skipped"], t["ignored"]) ==
          (235, 91, 0, 144), "counts %s" % {k: t[k] for k in
                                             ("lines", "records", "skipped", "ignored")})
    check(len(t["events"]) == 42, "%d events, want 42" % len(t["events"]))
    check([l["name"] for l in t["lanes"]] ==
          ["store", "toolstack", "pciback", "pcifront d5"],
          "lanes %s" % [l["name"] for l in t["lanes"]])
    be = "/local/domain/0/backend/pci/5/0"
    check(states(t, be + "/state") == [1, 2, 4, 4],
          "backend states %s" % states(t, be + "/state"))
    froms = [e["state"]["from"] for e in t["events"] if "state" in e
             and e["path"] == be + "/state"]
    check(froms == [None, 1, 2, 4], "backend states before each write %s" % froms)
    check(states(t, "/local/domain/5/device/pci/0/state") == [1, 3, 4],
          "frontend states %s" % states(t, "/local/domain/5/device/pci/0/state"))
    # state-0's Closing was in the transaction given up
    check(states(t, be + "/state-0") == [1], "state-0 %s" % states(t, be + "/state-0"))
    aborted_w = [e for e in t["events"] if e["aborted"] and e["kind"] == "write"]
    check([(e["path"], e["tx"]) for e in aborted_w] ==
          [(be + "/state-0", 2), (be + "/num_devs", 3)],
          "aborted writes %s" % [(e["path"], e["tx"]) for e in aborted_w])
    ends = [(e["kind"], e["tx"], e["failed"], e.get("error")) for e in t["events"]
            if e["kind"] in ("tx_commit", "tx_abort")]
    check(ends == [("tx_commit", 1, False, None), ("tx_abort", 2, False, None),
                   ("tx_commit", 3, True, "EAGAIN")], "transaction ends %s" % ends)
    # the summary: each node's states, state-0's device, its removal
    nodes = {n["path"]: n for n in t["nodes"]}
    check(nodes.get(be + "/state-0") == {
        "path": be + "/state-0", "side": "backend", "dev": 0,
        "device": "0000:03:02.0", "states": [1], "removed": True},
        "state-0's node %s" % nodes.get(be + "/state-0"))
    check([(n["side"], n["states"], n["removed"]) for n in t["nodes"]
           if n["dev"] < 0] == [("backend", [1, 2, 4, 4], False),
                                ("frontend", [1, 3, 4], False)],
          "bus nodes %s" % t["nodes"])
    # the 11 writes of the toolstack's first transaction carry its id
    check(sum(1 for e in t["events"] if e["kind"] == "write" and e["tx"] == 1) == 11,
          "writes in tx 1")
    # reads only with --reads: the failed READ (ENOENT) appears
    t2 = trace_json(xpt, "--reads", log)
    failed = [(e["kind"], e["error"]) for e in t2["events"] if e["failed"]]
    check(failed == [("read", "ENOENT"), ("tx_commit", "EAGAIN")],
          "failed with --reads %s" % failed)
    # the domain's name in the log selects it
    t3 = trace_json(xpt, "--domain", "web01", log)
    check(t3["domain"] == 5 and len(t3["events"]) > 0 and
          all(e["domid"] in (5, None) for e in t3["events"]),
          "--domain web01: domain %s" % t3["domain"])
    r = trace(xpt, log)
    out = r.stdout.decode()
    check(r.returncode == 0 and "commit failed EAGAIN" in out and
          "Initialising InitWait Connected" in out,
          "text: %s" % out[-600:])


def c_xenstored_419(xpt, data):
    """The same log in the format of Xen 4.19 and later ("io: ",
    "obj: ", the domain as (dN), a reply written in parts as OUT(START)
    then OUT(END)): the same timeline; a domain's relative paths are made
    absolute from its (dN)."""
    old = trace_json(xpt, os.path.join(data, "c-xenstored.log"))
    new = trace_json(xpt, os.path.join(data, "c-xenstored-4.19.log"))
    strip = lambda t: [{k: v for k, v in e.items() if k != "line"}
                       for e in t["events"]]
    check(strip(old) == strip(new), "4.19 format: another timeline")
    check(new["lanes"] == old["lanes"], "4.19 lanes %s" % new["lanes"])
    check((new["skipped"], new["ignored"]) == (0, old["ignored"] + 1),
          "4.19 counts %s" % {k: new[k] for k in ("skipped", "ignored")})
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.write("obj: CREATE connection 0x10\n"
                "io: IN 0x20 (d7) 20261205 21:18:11 WRITE (device/pci/0/state 3)\n"
                "io: OUT 0x20 (d7) 20261205 21:18:11 WRITE (OK )\n")
        f.flush()
        t = trace_json(xpt, f.name)
    check([(e["path"], e["domid"]) for e in t["events"]] ==
          [("/local/domain/7/device/pci/0/state", 7)] and
          [l["name"] for l in t["lanes"]] == ["store", "pcifront d7"],
          "(dN): %s %s" % ([e["path"] for e in t["events"]], t["lanes"]))


def lab(xpt, data):
    """Debian's C xenstored in dom0 on Xen 4.17 (the lab), xl 4.17 making
    three pci-attach at once: the kernel's pciback and pcifront talk
    through rings, named from the INTRODUCE before each; their relative
    paths made absolute; xl's race shows as Initialising written over a
    Connected backend."""
    src = os.path.join(data, "lab-concurrent-first-attach.log.gz")
    with tempfile.NamedTemporaryFile(suffix=".log") as f:
        with gzip.open(src) as g:
            shutil.copyfileobj(g, f)
        f.flush()
        t = trace_json(xpt, f.name)
        # the same from standard input ("-")
        with open(f.name, "rb") as inp:
            r = subprocess.run([xpt, "trace", "--json", "-"], stdin=inp,
                               capture_output=True, timeout=60)
        check(r.returncode == 0 and
              json.loads(r.stdout)["events"] == t["events"] and
              json.loads(r.stdout)["source"] == "(standard input)",
              "trace - (standard input): %s" % r.stderr)
    check((t["format"], t["lines"], t["skipped"]) == ("c-xenstored", 6498, 0),
          "lab log: %s" % {k: t[k] for k in ("format", "lines", "skipped")})
    # xl create's connection stays (its child watches the domain); the
    # three attaches run at once beside it: a lane each
    check([l["name"] for l in t["lanes"]] ==
          ["store", "toolstack", "toolstack #2", "toolstack #3", "toolstack #4",
           "pciback (ring)", "pcifront d1 (ring)"],
          "lab lanes %s" % [l["name"] for l in t["lanes"]])
    be = "/local/domain/0/backend/pci/1/0"
    bs = states(t, be + "/state")
    check(bs == [1, 2, 3, 4, 1, 1, 6], "lab backend states %s" % bs)
    lane = {l["index"]: l["name"] for l in t["lanes"]}
    over = [lane[e["from"]] for e in t["events"] if "state" in e and
            e["path"] == be + "/state" and e["state"]["from"] == 4 and
            e["state"]["to"] == 1 and not e["aborted"]]
    check(len(over) == 1 and over[0].startswith("toolstack #"),
          "Initialising over Connected by %s" % over)
    dev0 = {lane[e["from"]] for e in t["events"] if e["path"] == be + "/dev-0"
            and e["kind"] == "write"}
    check(dev0 == {"toolstack #2", "toolstack #3", "toolstack #4"},
          "dev-0 written by %s (want the three attaches)" % dev0)
    fs = states(t, "/local/domain/1/device/pci/0/state")
    check(fs[:3] == [1, 3, 4], "lab frontend states %s" % fs)
    ends = [(e["kind"], e.get("error")) for e in t["events"] if e["failed"]
            and e["kind"] == "tx_commit"]
    check(ends == [("tx_commit", "EAGAIN")], "lab failed commits %s" % ends)


def lab_xpt(xpt, data):
    """The same scenario with xpt as the toolstack (the real-Xen lab,
    C xenstored 4.17 in dom0): the three attaches, a lane each, add a
    device each in turn -- dev-0, dev-1, dev-2 and num_devs 1, 2, 3, each
    written by a different attach -- with no aborted transaction and the
    backend never put back to Initialising once Connected; and no lane of
    the whole log left without a party."""
    src = os.path.join(data, "lab-concurrent-first-attach-xpt.log.gz")
    with tempfile.NamedTemporaryFile(suffix=".log") as f:
        with gzip.open(src) as g:
            shutil.copyfileobj(g, f)
        f.flush()
        t = trace_json(xpt, "--domain", "g1", f.name)
        everything = trace_json(xpt, f.name)
    # every connection of the log has a name: xpt's own records under
    # /xpt/ (its index of domain names) are the toolstack's, not "other"
    others = [l["name"] for l in everything["lanes"]
              if l["name"].startswith("other")]
    check(not others, "xpt lab log: lanes without a party %s" % others)
    check((t["format"], t["lines"], t["skipped"]) == ("c-xenstored", 9112, 0),
          "xpt lab log: %s" % {k: t[k] for k in ("format", "lines", "skipped")})
    lane = {l["index"]: l["name"] for l in t["lanes"]}
    check(sorted(lane.values()) ==
          sorted(["store", "toolstack", "toolstack #2", "toolstack #3",
                  "pciback (ring)", "pcifront d1 (ring)"]),
          "xpt lab lanes %s" % sorted(lane.values()))
    be = "/local/domain/0/backend/pci/1/0"
    # the attaches: what came before the first detach (a device's state-N
    # set to Closing); a detach may then move later entries down
    first_close = next((i for i, e in enumerate(t["events"])
                        if e["kind"] == "write" and
                        re.match(re.escape(be) + r"/state-\d+$", e["path"])
                        and e["value"] == "5"), len(t["events"]))
    adds = [(e["path"][len(be) + 1:], e["value"], lane[e["from"]])
            for e in t["events"][:first_close] if e["kind"] == "write" and
            e["path"].startswith(be + "/dev-")]
    check([a[0] for a in adds] == ["dev-0", "dev-1", "dev-2"] and
          len({a[1] for a in adds}) == 3 and len({a[2] for a in adds}) == 3,
          "xpt lab: one dev-N per attach, %s" % adds)
    nd = [e["value"] for e in t["events"] if e["kind"] == "write" and
          e["path"] == be + "/num_devs"]
    check(nd[:3] == ["1", "2", "3"], "xpt lab num_devs %s" % nd)
    check(not any(e["aborted"] for e in t["events"]),
          "xpt lab: an aborted transaction")
    bs = states(t, be + "/state")
    check(bs[:4] == [1, 2, 3, 4] and 1 not in bs[4:],
          "xpt lab backend states %s" % bs)
    check(bs.count(8) == 5, "xpt lab: a Reconfigured per attach and detach "
          "(%s)" % bs)


def lab_420(xpt, data):
    """Debian 13's C xenstored 4.20 in the lab's dom0 (xl, cold-plug of two
    devices): the "io: ... (dN)" format of Xen 4.18 and later, read from
    the real daemon; the rings named, the backend Connected with both
    devices."""
    src = os.path.join(data, "lab-cold-plug-4.20-xl.log.gz")
    with tempfile.NamedTemporaryFile(suffix=".log") as f:
        with gzip.open(src) as g:
            shutil.copyfileobj(g, f)
        f.flush()
        t = trace_json(xpt, f.name)
    check((t["format"], t["skipped"]) == ("c-xenstored", 0),
          "4.20 lab log: %s" % {k: t[k] for k in ("format", "skipped")})
    names = {l["name"] for l in t["lanes"]}
    check({"pciback (ring)", "pcifront d1 (ring)", "toolstack"} <= names,
          "4.20 lab lanes %s" % sorted(names))
    be = "/local/domain/0/backend/pci/1/0"
    bs = states(t, be + "/state")
    check(bs[:4] == [1, 2, 3, 4], "4.20 lab backend states %s" % bs)
    devs = sorted({e["value"] for e in t["events"] if e["kind"] == "write"
                   and e["path"] in (be + "/dev-0", be + "/dev-1")})
    check(devs == ["0000:00:05.0", "0000:00:06.0"], "4.20 lab devs %s" % devs)


def many_connections(xpt):
    """A long-running host's log: 20000 short toolstack connections
    (every command is one), then pciback and a toolstack write.  Each
    keeps its own name: none is lumped with another."""
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        t = 1796505598
        for n in range(1, 20001):
            f.write("%d.000001 conn=%d dom=0 CONNECT pid=%d comm=xpt\n"
                    "%d.000002 conn=%d dom=0 IN  READ req=0 tx=0 len=2 /\\0\n"
                    "%d.000003 conn=%d dom=0 OUT READ req=0 tx=0 len=1 \\0\n"
                    "%d.000004 conn=%d dom=0 CLOSE\n" % ((t, n, n + 100) + (t, n) * 3))
        f.write("%d.000005 conn=20001 dom=0 CONNECT pid=7 comm=xpt-pciback\n"
                "%d.000006 conn=20001 dom=0 IN  WRITE req=0 tx=0 len=40 "
                "/local/domain/0/backend/pci/5/0/state\\02\n"
                "%d.000007 conn=20001 dom=0 OUT WRITE req=0 tx=0 len=3 OK\\0\n"
                "%d.000008 conn=20002 dom=0 CONNECT pid=8 comm=xl\n"
                "%d.000009 conn=20002 dom=0 IN  WRITE req=0 tx=0 len=40 "
                "/local/domain/0/backend/pci/5/0/num_devs\\01\n" % ((t,) * 5))
        f.flush()
        tr = trace_json(xpt, f.name)
    check([l["name"] for l in tr["lanes"]] ==
          ["store", "toolstack (xl)", "pciback (xpt-pciback)"],
          "after 20000 connections: lanes %s" % [l["name"] for l in tr["lanes"]])
    check(tr["records"] == 80005 and tr["skipped"] == 0,
          "records %d skipped %d" % (tr["records"], tr["skipped"]))


def hostile(xpt, data):
    log = os.path.join(data, "hostile.log")
    t = trace_json(xpt, "--all-paths", "--reads", log)
    check(t["format"] == "xpt-xenstored", "format %s" % t["format"])
    # 36 lines: 24 records, 11 garbage (skipped), 1 empty (ignored)
    check((t["lines"], t["records"], t["skipped"], t["ignored"]) ==
          (36, 24, 11, 1), "counts %s" % {k: t[k] for k in
                                          ("lines", "records", "skipped", "ignored")})
    strings = [t["source"]] + [l["name"] for l in t["lanes"]]
    for e in t["events"]:
        strings += [e["path"], e["value"], e.get("error", "")]
    bad = [s for s in strings if not printable(s)]
    check(not bad, "strings not printable: %r" % bad)
    vals = {e["path"]: e for e in t["events"] if e["kind"] == "write"}
    x = vals.get("/local/domain/7/device/pci/0/x")
    check(x is not None and x["truncated"] and x["value"].endswith("..."),
          "the cut payload: %s" % x)
    y = vals.get("/local/domain/7/device/pci/0/y")
    check(y is not None and y["value"] == "\\x5cxZZ\\x5cq\\x5c",
          "bad escapes kept as text: %s" % y)
    fe = [e for e in t["events"] if e["path"] == "/local/domain/7/device/pci/0/state"]
    check(len(fe) == 2 and fe[0]["failed"] and fe[0]["error"] == "EINVAL"
          and fe[1]["state"]["to"] == 3, "frontend writes %s" % fe)
    check(t["domain"] is None, "no filter")
    # a guest's ring: its relative paths made absolute, named pcifront
    lanes = {l["name"]: l for l in t["lanes"]}
    check("pcifront d7 (ring)" in lanes, "lanes %s" % list(lanes))
    # markup goes through as text (the HTML writer escapes it)
    check(any("<script>" in e["value"] for e in t["events"]), "markup kept as text")
    r = trace(xpt, "--all-paths", log)
    check(r.returncode == 0 and all(b == 10 or 32 <= b <= 126 for b in r.stdout),
          "text output printable")
    # a domain given by a name the log writes (markup and all)
    t4 = trace_json(xpt, "--domain", "<script>alert(1)</script>", "--all-paths", log)
    check(t4["domain"] == 7, "domain by hostile name: %s" % t4["domain"])


def main():
    xpt, data = sys.argv[1], sys.argv[2]
    c_xenstored(xpt, data)
    c_xenstored_419(xpt, data)
    lab(xpt, data)
    lab_xpt(xpt, data)
    lab_420(xpt, data)
    many_connections(xpt)
    hostile(xpt, data)
    r = trace(xpt, os.path.join(data, "no-such.log"))
    check(r.returncode == 3 and b"cannot open" in r.stderr,
          "missing log: %d %s" % (r.returncode, r.stderr))
    print("trace-logs: %s" % ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
