#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Debian's python3-pyxs (0.4.2) against xpt-xenstored.

Run through with-daemon.sh, which starts a private daemon and exports
XENSTORED_PATH.  TAP-like output; exit status 1 if a check failed, 77 (skip)
if pyxs is not installed.
"""

import copy
import errno
import os
import queue
import sys
import threading

try:
    import pyxs
    from pyxs.exceptions import PyXSError
except ImportError:
    print("1..0 # SKIP python3-pyxs is not installed for", sys.executable)
    sys.exit(77)

SOCK = os.environ.get("XENSTORED_PATH")
B = b"/interop-pyxs"
TIMEOUT = 10.0

n = 0
failed = 0


def check(cond, name, detail=None):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name), flush=True)
    if not cond and detail is not None:
        print("#   %s" % (detail,), flush=True)


def err_of(fn, *args):
    """errno of the PyXSError fn(*args) raises, or None if it succeeds."""
    try:
        fn(*args)
    except PyXSError as e:
        return e.args[0]
    return None


class Events:
    """Feeds Monitor.wait() into a queue so the test can wait with a timeout."""

    def __init__(self, monitor):
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, args=(monitor,), daemon=True)
        self.t.start()

    def _run(self, monitor):
        for ev in monitor.wait():
            self.q.put(ev)

    def get(self):
        try:
            return self.q.get(timeout=TIMEOUT)
        except queue.Empty:
            return None


def main():
    if not SOCK:
        print("pyxs_test: XENSTORED_PATH is not set (run via with-daemon.sh)", file=sys.stderr)
        return 2
    with pyxs.Client(unix_socket_path=SOCK) as c, pyxs.Client(unix_socket_path=SOCK) as c2:
        try:
            c.delete(B)
        except PyXSError:
            pass
        # read / write / mkdir / rm / ls
        c.write(B + b"/a", b"alpha")
        check(c.read(B + b"/a") == b"alpha", "write + read")
        c[B + b"/b"] = b"beta"
        check(c[B + b"/b"] == b"beta", "__setitem__ / __getitem__")
        c.write(B + b"/empty", b"")
        check(c.read(B + b"/empty") == b"", "empty value")
        check(c.read(B + b"/missing", b"dflt") == b"dflt", "read default for a missing node")
        check(err_of(c.read, B + b"/missing") == errno.ENOENT, "read missing: ENOENT")
        c.mkdir(B + b"/d/e")
        check(c.exists(B + b"/d/e"), "mkdir with parents")
        check(c.read(B + b"/d") == b"", "implicit parent empty")
        c.mkdir(B + b"/a")
        check(c.read(B + b"/a") == b"alpha", "mkdir keeps an existing value")
        check(c.list(B) == [b"a", b"b", b"empty", b"d"], "ls in insertion order",
              c.list(B))
        check(c.list(B + b"/a") == [], "ls of a leaf")
        c.delete(B + b"/d")
        check(not c.exists(B + b"/d/e") and not c.exists(B + b"/d"), "rm subtree")
        c.delete(B + b"/never")
        check(True, "rm of a missing node with an existing parent")
        check(err_of(c.delete, B + b"/never/x") == errno.ENOENT, "rm with missing parent: ENOENT")
        del c[B + b"/empty"]
        check(c.list(B) == [b"a", b"b"], "__delitem__", c.list(B))
        check(c.get_domain_path(3) == b"/local/domain/3", "get_domain_path")
        walked = [p for p, _v, _ch in c.walk(B)]
        check(walked == [B, B + b"/a", B + b"/b"], "walk", walked)

        # perms
        check(c.get_perms(B + b"/a") == [b"n0"], "get_perms default", c.get_perms(B + b"/a"))
        c.set_perms(B + b"/a", [b"n0", b"r5", b"b6"])
        check(c.get_perms(B + b"/a") == [b"n0", b"r5", b"b6"], "set_perms round trip",
              c.get_perms(B + b"/a"))
        c.write(B + b"/a/child", b"c")
        check(c.get_perms(B + b"/a/child") == [b"n0", b"r5", b"b6"], "child inherits perms")
        check(err_of(c.set_perms, B + b"/nope", [b"n0"]) == errno.ENOENT,
              "set_perms of a missing node: ENOENT")

        # transaction: commit, isolation, abort, conflict
        c.transaction()
        c.write(B + b"/tx", b"1")
        check(c.read(B + b"/tx") == b"1", "transaction sees its write")
        check(c2.read(B + b"/tx", b"none") == b"none", "others do not see it")
        check(c.commit() is True, "commit")
        check(c2.read(B + b"/tx") == b"1", "committed")
        c.transaction()
        c.write(B + b"/tx", b"2")
        c.rollback()
        check(c2.read(B + b"/tx") == b"1", "rollback")
        c.transaction()
        c.read(B + b"/tx")
        c2.write(B + b"/tx", b"outside")
        c.write(B + b"/tx", b"inside")
        check(c.commit() is False, "conflicting commit returns False (EAGAIN)")
        check(c2.read(B + b"/tx") == b"outside", "outside write kept")
        # two transactions multiplexed on one connection (shared router)
        c.write(B + b"/ta", b"0")
        c.write(B + b"/tb", b"0")
        ca, cb = copy.copy(c), copy.copy(c)
        ta, tb = ca.transaction(), cb.transaction()
        check(ta != tb and ta and tb, "two transactions on one connection", (ta, tb))
        ca.write(B + b"/ta", b"a")
        cb.write(B + b"/tb", b"b")
        check(ca.commit() and cb.commit(), "both commit (disjoint existing nodes)")
        check(c.read(B + b"/ta") == b"a" and c.read(B + b"/tb") == b"b", "both visible")
        # creating siblings in two transactions conflicts on the parent's
        # child list (C xenstored semantics)
        ta, tb = ca.transaction(), cb.transaction()
        ca.write(B + b"/newa", b"a")
        cb.write(B + b"/newb", b"b")
        ra, rb = ca.commit(), cb.commit()
        check(ra is True and rb is False, "sibling creation: first commits, second EAGAIN",
              (ra, rb))

        # watches through the Monitor API
        # Each Events thread starts only after watch() has returned: pyxs'
        # Monitor.wait() spins forever on an event whose watch it has not
        # recorded yet, and the initial event may beat the WATCH reply's
        # return to this thread.
        with c.monitor() as m:
            m.watch(B + b"/w", b"tok")
            ev = Events(m)
            e = ev.get()
            check(e == (B + b"/w", b"tok"), "initial event", e)
            c2.write(B + b"/w/x", b"1")
            e = ev.get()
            check(e == (B + b"/w/x", b"tok"), "event for a write below", e)
            c2.set_perms(B + b"/w/x", [b"n0", b"r1"])
            e = ev.get()
            check(e == (B + b"/w/x", b"tok"), "event for set_perms", e)
            c2.delete(B + b"/w")
            e = ev.get()
            check(e == (B + b"/w", b"tok"), "event for rm", e)
            c2.transaction()
            c2.write(B + b"/w/t", b"t")
            check(ev.q.empty(), "no event before commit")
            c2.commit()
            e = ev.get()
            check(e == (B + b"/w/t", b"tok"), "event at commit", e)
            with c.monitor() as m2:
                m2.watch(B + b"/other", b"tok2")
                ev2 = Events(m2)
                e = ev2.get()
                check(e == (B + b"/other", b"tok2"), "second watch initial event", e)
                check(err_of(m2.watch, B + b"/other", b"tok2") == errno.EEXIST,
                      "duplicate watch: EEXIST")
                m2.unwatch(B + b"/other", b"tok2")
                check(m2.watched == set(), "unwatch", m2.watched)
            c2.write(B + b"/w/y", b"y")
            e = ev.get()
            check(e == (B + b"/w/y", b"tok"), "remaining watch still fires", e)
        # watch @introduceDomain through a monitor (initial event only)
        with c.monitor() as m:
            m.watch(b"@introduceDomain", b"intro")
            ev = Events(m)
            e = ev.get()
            check(e == (b"@introduceDomain", b"intro"), "@introduceDomain initial event", e)

        # many requests in flight at once from several threads (pyxs routes
        # replies by req_id)
        results = []

        def worker(k):
            cc = copy.copy(c)
            for i in range(50):
                cc.write(B + b"/thr/%d" % k, b"%d" % i)
                results.append(cc.read(B + b"/thr/%d" % k) == b"%d" % i)

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        check(len(results) == 400 and all(results), "8 threads pipelining on one socket",
              "%d results, %d bad" % (len(results), results.count(False)))

        c.delete(B)
        check(not c.exists(B), "cleanup")
    print("1..%d" % n)
    if failed:
        print("# pyxs: %d of %d failed" % (failed, n))
        return 1
    print("# pyxs: all %d passed" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
