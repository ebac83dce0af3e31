#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compare the xenstore trees of two lab runs, step by step.

    lab/compare-trees.py RUN_A RUN_B [SCENARIO...]

RUN_A and RUN_B are lab run directories (lab.sh run --out DIR), typically
one with C xenstored (LAB_STORE=c) and one with xpt-xenstored
(LAB_STORE=xpt).  For every scenario in both, every whole-tree dump
(xenstore/NN-<step>.full, `xenstore-ls -fp /` after that step) of one run
is compared with the dump of the same step of the other: nodes present in
one only, values and permissions that differ, and the order of children.

Values that differ between any two boots are normalised first: UUIDs, times,
event-channel ports, grant references, frame numbers and the like (the list
is VOLATILE below); see docs/lab-store-differences.md for what remains and
why.  Exit status 0 when no step differs, 1 otherwise, 2 on bad usage.
"""
import os
import re
import sys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")
LINE = re.compile(r'^(/\S*) = "(.*)"\s+\((.*)\)$')
# Leaf names whose values are per-boot numbers, not semantics.
VOLATILE = {"ring-ref", "event-channel", "port", "mfn", "ring_ref",
            "start_time", "limit", "pirq", "irq", "pid", "dm-version",
            "vnc-port", "unique-id"}
TIME = re.compile(r"^[0-9]{9,}\.[0-9]+$")


def norm_path(p):
    return UUID.sub("<uuid>", p)


def norm_value(path, v):
    v = UUID.sub("<uuid>", v)
    leaf = path.rsplit("/", 1)[-1]
    if leaf in VOLATILE or TIME.match(v):
        return "<volatile>"
    return v


def load(fn):
    """path -> (value, perms) and the paths in the dump's order."""
    nodes, order = {}, []
    with open(fn, errors="replace") as f:
        for ln in f:
            m = LINE.match(ln.rstrip("\n"))
            if not m:
                continue
            p = norm_path(m.group(1))
            nodes[p] = (norm_value(p, m.group(2)), m.group(3))
            order.append(p)
    return nodes, order


def children_order(order):
    """parent -> its children in the order the dump lists them."""
    kids = {}
    for p in order:
        parent = p.rsplit("/", 1)[0] or "/"
        kids.setdefault(parent, []).append(p)
    return kids


def compare(fa, fb):
    a, oa = load(fa)
    b, ob = load(fb)
    diffs = []
    for p in sorted(set(a) - set(b)):
        diffs.append("only in A: %s = %r (%s)" % (p, a[p][0], a[p][1]))
    for p in sorted(set(b) - set(a)):
        diffs.append("only in B: %s = %r (%s)" % (p, b[p][0], b[p][1]))
    for p in sorted(set(a) & set(b)):
        if a[p][0] != b[p][0]:
            diffs.append("value   %s: A %r, B %r" % (p, a[p][0], b[p][0]))
        if a[p][1] != b[p][1]:
            diffs.append("perms   %s: A (%s), B (%s)" % (p, a[p][1],
                                                         b[p][1]))
    ka, kb = children_order(oa), children_order(ob)
    for parent in sorted(set(ka) & set(kb)):
        common = set(ka[parent]) & set(kb[parent])
        la = [p for p in ka[parent] if p in common]
        lb = [p for p in kb[parent] if p in common]
        if la != lb:
            diffs.append("order   %s: A %s, B %s" % (
                parent, [x.rsplit("/", 1)[-1] for x in la],
                [x.rsplit("/", 1)[-1] for x in lb]))
    return len(a), diffs


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    ra, rb = argv[1], argv[2]
    scen = argv[3:] or sorted(
        d for d in os.listdir(ra)
        if os.path.isdir(os.path.join(ra, d, "xenstore")) and
        os.path.isdir(os.path.join(rb, d, "xenstore")))
    if not scen:
        print("compare-trees: no scenario with xenstore dumps in both runs",
              file=sys.stderr)
        return 2
    print("A = %s\nB = %s" % (ra, rb))
    bad = 0
    for s in scen:
        da, db = (os.path.join(r, s, "xenstore") for r in (ra, rb))
        fa = sorted(f for f in os.listdir(da) if f.endswith(".full"))
        fb = set(f for f in os.listdir(db) if f.endswith(".full"))
        if not fa:
            print("%s: no whole-tree dumps in A" % s)
            bad += 1
            continue
        for f in fa:
            if f not in fb:
                print("%s %s: missing in B" % (s, f))
                bad += 1
                continue
            n, diffs = compare(os.path.join(da, f), os.path.join(db, f))
            print("%s %s: %d nodes, %s" % (s, f[:-5], n,
                                           "same" if not diffs else
                                           "%d differences" % len(diffs)))
            for d in diffs:
                print("    " + d)
            bad += bool(diffs)
        for f in sorted(fb - set(fa)):
            print("%s %s: missing in A" % (s, f))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
