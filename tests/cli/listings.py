#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The --json listings of xpt against the schemas docs/xpt.1 documents
(JSON OUTPUT): list, pci-list, pci-assignable-list, host status and
guest-status, on a modelled host with a guest that has a device.  Every
object must have exactly the documented keys, each of the documented
type; a key added or dropped without the manual fails here.  Also: the
manual's JSON OUTPUT section names every key checked here.

usage: listings.py XPT HOSTFILE MANPAGE
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

XPT, HOSTFILE, MAN = sys.argv[1:4]
failures = []

INT, STR, BOOL, NULL, LIST, OBJ = int, str, bool, type(None), list, dict

# key: allowed types (bool is not int here)
SCHEMAS = {
    "list": {"domid": (INT,), "name": (STR,), "state": (STR,),
             "memory": (INT,), "vcpus": (INT,), "pci_devices": (INT,),
             "pci_backend": (STR,), "pci_error": (STR, NULL),
             "kernel": (BOOL,)},
    "pci-assignable-list": {"bdf": (STR,), "name": (STR, NULL),
                            "domid": (INT, NULL)},
    "pci-list": {"domid": (INT,), "backend": (BOOL,),
                 "backend_state": (INT, NULL),
                 "frontend_state": (INT, NULL), "num_devs": (INT, NULL),
                 "devices": (LIST,), "warnings": (LIST,)},
    "pci-list device": {"index": (INT,), "bdf": (STR, NULL),
                        "vdev": (STR, NULL), "vdevfn": (INT, NULL),
                        "state": (INT, NULL), "opts": (STR,),
                        "name": (STR, NULL), "beyond_num_devs": (BOOL,)},
    "host status": {"rundir": (STR,), "running": (BOOL,),
                    "daemons": (LIST,)},
    "host status daemon": {"name": (STR,), "state": (STR,),
                           "pid": (INT, NULL)},
    "guest-status": {"domid": (INT,), "type": (STR,),
                     "frontend_state": (INT,), "backend_state": (INT,),
                     "stubdom": (OBJ, NULL), "devices": (LIST,)},
    "guest-status device": {"bdf": (STR,), "host": (STR, NULL),
                            "vendor": (INT,), "device": (INT,),
                            "class": (INT,), "driver": (STR,),
                            "irq": (STR,), "vectors": (INT,),
                            "count": (INT,), "counts": (LIST,),
                            "mmio": (OBJ, NULL)},
}
# keys that may be present besides the schema's (documented as such)
OPTIONAL = {"pci-list device": {"raw_dev": (STR,)}}


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def typed(v, types):
    return any(type(v) is t for t in types)


def conforms(obj, schema, where):
    want = SCHEMAS[schema]
    extra = OPTIONAL.get(schema, {})
    if not check(isinstance(obj, dict), "%s: not an object: %r" % (where, obj)):
        return
    keys = set(obj)
    check(set(want) <= keys, "%s: missing %s" % (where, sorted(set(want) - keys)))
    check(keys <= set(want) | set(extra),
          "%s: undocumented %s" % (where, sorted(keys - set(want) - set(extra))))
    for k, v in obj.items():
        types = want.get(k) or extra.get(k)
        if types:
            check(typed(v, types), "%s: %s is %r" % (where, k, v))


class Host:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xpt-cli-json.")
        self.env = dict(os.environ, XPT_RUNDIR=self.dir)
        r = self.run("host", "start", "--host", HOSTFILE)
        assert r.returncode == 0, r.stdout + r.stderr

    def run(self, *args):
        return subprocess.run([XPT] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=60)

    def json(self, *args, rc=0):
        r = self.run(*args)
        check(r.returncode == rc, "xpt %s: rc %d: %s" % (" ".join(args),
                                                          r.returncode, r.stderr))
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            check(False, "xpt %s: not JSON (%s): %r" % (" ".join(args), e, r.stdout))
            return None

    def stop(self):
        self.run("host", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    h = Host()
    try:
        cfg = os.path.join(h.dir, "j1.cfg")
        with open(cfg, "w") as f:
            f.write('name = "j1"\ntype = "pv"\nmemory = 128\n'
                    'pci = [ "04:00.0" ]\n')
        for bdf in ("04:00.0", "05:00.0"):
            check(h.run("pci-assignable-add", bdf).returncode == 0, "assignable-add " + bdf)
        r = h.run("create", cfg)
        check(r.returncode == 0, "create: %s" % r.stderr)

        doms = h.json("list", "--json")
        check(isinstance(doms, list) and len(doms) == 2, "list: %r" % doms)
        for d in doms or []:
            conforms(d, "list", "list")
        j1 = [d for d in doms or [] if d.get("name") == "j1"]
        check(j1 and j1[0]["pci_devices"] == 1 and j1[0]["kernel"] is True,
              "list: j1 %r" % j1)
        domid = j1[0]["domid"] if j1 else 1

        for args, n in ((["--json"], 1), (["--json", "-a"], 2)):
            a = h.json("pci-assignable-list", *args)
            check(isinstance(a, list) and len(a) == n, "pci-assignable-list %s: %r" % (args, a))
            for e in a or []:
                conforms(e, "pci-assignable-list", "pci-assignable-list")

        pl = h.json("pci-list", "--json", "j1")
        conforms(pl, "pci-list", "pci-list")
        for e in (pl or {}).get("devices", []):
            conforms(e, "pci-list device", "pci-list device")
        check(pl and [e["bdf"] for e in pl["devices"]] == ["0000:04:00.0"],
              "pci-list devices: %r" % pl)

        hs = h.json("host", "status", "--json")
        conforms(hs, "host status", "host status")
        for d in (hs or {}).get("daemons", []):
            conforms(d, "host status daemon", "host status daemon")
        check(hs and hs["running"] is True and
              [d["name"] for d in hs["daemons"]] ==
              ["xpt-xenstored", "xpt-hypervisor", "xpt-pciback"] and
              all(d["state"] == "running" and d["pid"] > 0 for d in hs["daemons"]),
              "host status: %r" % hs)

        gs = h.json("guest-status", "--json", "j1")
        conforms(gs, "guest-status", "guest-status")
        for d in (gs or {}).get("devices", []):
            conforms(d, "guest-status device", "guest-status device")
        check(gs and gs["domid"] == domid and gs["type"] == "pv" and
              gs["stubdom"] is None and len(gs["devices"]) == 1 and
              gs["devices"][0]["host"] == "0000:04:00.0" and
              gs["devices"][0]["vendor"] == 0x8086 and
              gs["devices"][0]["device"] == 0x1533 and
              len(gs["devices"][0]["counts"]) == gs["devices"][0]["vectors"],
              "guest-status: %r" % gs)

        # a stopped host: the same schema, exit status 1, the error on stderr
        h.run("host", "stop")
        hs = h.json("host", "status", "--json", rc=1)
        conforms(hs, "host status", "host status (stopped)")
        check(hs and hs["running"] is False and
              all(d["state"] == "stopped" and d["pid"] is None for d in hs["daemons"]),
              "host status of a stopped host: %r" % hs)
    finally:
        h.stop()

    # the manual documents every key
    man = open(MAN).read()
    sect = man.split(".SH JSON OUTPUT", 1)
    if check(len(sect) == 2, "docs/xpt.1 has no JSON OUTPUT section"):
        text = re.split(r"\n\.SH ", sect[1], maxsplit=1)[0].replace("\\", "")
        for schema in SCHEMAS:
            for k in list(SCHEMAS[schema]) + list(OPTIONAL.get(schema, {})):
                check(re.search(r"\b%s\b" % re.escape(k), text),
                      "docs/xpt.1 JSON OUTPUT: no %s (%s)" % (k, schema))

    print("%d failure(s)" % len(failures) if failures else "all passed")
    return 1 if failures else 0


sys.exit(main())
