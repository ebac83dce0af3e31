#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Differential test of two xenstore daemons over the raw wire protocol.

Runs the same seeded random sequence of requests against daemon A and
daemon B (typically Debian's C xenstored 4.17 and xpt-xenstored) and compares
every message each connection receives: replies (type, req_id, tx_id,
payload), watch events and connection closure, in arrival order.

Design.  Each logical connection exists twice, once per daemon: two dom0
connections on DIR/socket ("d0", "d0b") and one per introduced domain on
DIR/domain/<domid> ("dom1".."dom4").  A step is one request on one
connection; afterwards every open connection gets a sync request
(GET_DOMAIN_PATH with a reserved req_id) and everything that arrives up to
its reply belongs to the step.  Both daemons answer a connection in order and
queue a watch event before the reply that caused it, so the collected lists
are deterministic and event timing cannot cause a false difference.

Worked example (seed 7, step 42, "d0 WRITE /a/b"): both daemons get
{type 11, req_id 42, tx 0, "/a/b\\0v"}; d0 collects [WATCH_EVENT "/a\\0t1",
WRITE "OK"], dom1 collects [WATCH_EVENT "/a/b\\0t2", sync reply]; any
difference is reported with both lists and the last steps that led to it.

The next request is chosen from the seed and a model of the state built from
A's replies (introduced domains, open transactions, registered watches), so a
seed replays identically.  Each seed starts from a reset tree: released test
domains, removed test nodes, default permissions on / and the special nodes.

Normalisations (see docs/xenstored-differences.md): the generation count
that starts a DIRECTORY_PART reply.
"""

import argparse
import os
import random
import socket
import struct
import sys
import time

# Message types (xen/io/xs_wire.h).
CONTROL, DIRECTORY, READ, GET_PERMS, WATCH, UNWATCH = 0, 1, 2, 3, 4, 5
TRANSACTION_START, TRANSACTION_END, INTRODUCE, RELEASE = 6, 7, 8, 9
GET_DOMAIN_PATH, WRITE, MKDIR, RM, SET_PERMS, WATCH_EVENT = 10, 11, 12, 13, 14, 15
ERROR, IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET = 16, 17, 18, 19
RESET_WATCHES, DIRECTORY_PART = 21, 22
TYPE_NAMES = {
    0: "CONTROL", 1: "DIRECTORY", 2: "READ", 3: "GET_PERMS", 4: "WATCH",
    5: "UNWATCH", 6: "TRANSACTION_START", 7: "TRANSACTION_END",
    8: "INTRODUCE", 9: "RELEASE", 10: "GET_DOMAIN_PATH", 11: "WRITE",
    12: "MKDIR", 13: "RM", 14: "SET_PERMS", 15: "WATCH_EVENT", 16: "ERROR",
    17: "IS_DOMAIN_INTRODUCED", 18: "RESUME", 19: "SET_TARGET",
    20: "RESTRICT", 21: "RESET_WATCHES", 22: "DIRECTORY_PART",
}

HDR = struct.Struct("<4I")
SYNC_REQ_ID = 0x7E000000   # req_ids of sync requests: SYNC_REQ_ID + n
TIMEOUT = 5.0              # seconds to wait for any one message
DOMIDS = (1, 2, 3, 4)      # domains the test may introduce
NAMES = ("a", "b", "c")    # node names: a small space so operations collide
TOKENS = ("t1", "t2")


def c_atoi(s):
    """The domid C xenstored 4.17 reads from s (atoi, as unsigned int)."""
    s = s.lstrip(" \t\n\v\f\r")
    sign = 1
    if s[:1] in ("-", "+"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if not ch.isdigit():
            break
        digits += ch
    return (sign * int(digits or "0")) & 0xFFFFFFFF


def tname(t):
    return TYPE_NAMES.get(t, str(t))


def show(payload, limit=120):
    """Readable rendering of a payload: nuls as |, long runs shortened."""
    s = payload.decode("latin-1")
    out = []
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        if j - i > 8:
            out.append("%s*%d" % (s[i] if s[i] != "\0" else "|", j - i))
        else:
            out.extend("|" if c == "\0" else (c if 32 <= ord(c) < 127
                                              else "\\x%02x" % ord(c))
                       for c in s[i:j])
        i = j
    r = "".join(out)
    return r if len(r) <= limit else r[:limit] + "...(%d bytes)" % len(payload)


def render(msg):
    if msg == "EOF":
        return "<closed>"
    if msg == "TIMEOUT":
        return "<no answer within %gs>" % TIMEOUT
    t, rid, tx, payload = msg
    rid_s = "sync" if rid >= SYNC_REQ_ID else str(rid)
    return "%s(req %s, tx %d) %r" % (tname(t), rid_s, tx, show(payload))


class Conn:
    """One socket to one daemon, with message framing."""

    def __init__(self, path):
        self.path = path
        self.buf = b""
        self.closed = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        try:
            self.sock.connect(path)
        except OSError:
            self.close()  # reported as "<closed>" by the first receive

    def send(self, data):
        if self.closed:
            return
        try:
            self.sock.sendall(data)
        except OSError:
            pass  # the peer closed: the next receive reports EOF

    def recv_msg(self):
        """Next message as (type, req_id, tx_id, payload), or EOF/TIMEOUT."""
        if self.closed:
            return "EOF"
        try:
            while True:
                if len(self.buf) >= 16:
                    t, rid, tx, n = HDR.unpack_from(self.buf)
                    if len(self.buf) >= 16 + n:
                        payload = self.buf[16:16 + n]
                        self.buf = self.buf[16 + n:]
                        return (t, rid, tx, payload)
                data = self.sock.recv(65536)
                if not data:
                    self.close()
                    return "EOF"
                self.buf += data
        except socket.timeout:
            self.close()
            return "TIMEOUT"
        except OSError:
            self.close()
            return "EOF"

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()


class Mismatch(Exception):
    pass


class DaemonDied(Exception):
    pass


def normalise(msg, conn, req_tx):
    """Blank out what may legitimately differ between daemons."""
    if isinstance(msg, str):
        return msg
    t, rid, tx, payload = msg
    if rid < SYNC_REQ_ID and tx == req_tx:
        # The echo of the request's tx_id, which is per daemon (see below).
        tx = "echo"
    if t == TRANSACTION_START and conn.startswith("dom"):
        # A domain's ring outlives the test's socket connections: C keeps
        # counting transaction ids across them, xpt starts each at 1.
        if payload[:-1].isdigit() and payload[-1:] == b"\0":
            payload = b"<id>\0"
    if t == DIRECTORY_PART:
        # A per-node generation count: its value is an implementation detail.
        nul = payload.find(b"\0")
        if nul > 0 and payload[:nul].isdigit():
            payload = b"<gen>" + payload[nul:]
    return (t, rid, tx, payload)


def msg_bytes(t, rid, tx, payload):
    return HDR.pack(t, rid, tx, len(payload)) + payload


class Side:
    """The state of one daemon under test: its directory and connections."""

    def __init__(self, label, sockdir):
        self.label = label
        self.dir = sockdir
        self.conns = {}

    def connect(self, name, domid=None):
        path = (os.path.join(self.dir, "socket") if domid is None
                else os.path.join(self.dir, "domain", str(domid)))
        old = self.conns.get(name)
        if old:
            old.close()
        self.conns[name] = Conn(path)

    def close_all(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}


class Model:
    """What the generator knows, kept from daemon A's replies."""

    def __init__(self):
        self.introduced = set()
        self.dead = set()         # domains whose connection broke for good
        self.txs = {}             # conn -> list of (A's id, B's id)
        self.watches = {}         # conn -> list of (path, token)
        self.targets = {}         # domid -> set of domids it targets

    def targeted(self, d):
        """Is d the SET_TARGET target of another introduced domain?"""
        return any(d in ts for a, ts in self.targets.items()
                   if a != d and a in self.introduced)

    def reaches(self, a, b):
        """Does a (transitively) target b?"""
        seen, todo = set(), [a]
        while todo:
            x = todo.pop()
            if x == b:
                return True
            if x not in seen:
                seen.add(x)
                todo.extend(self.targets.get(x, ()))
        return False

    def release_order(self):
        """Introduced domains, each after every domain that targets it."""
        left, order = set(self.introduced), []
        while left:
            free = sorted(d for d in left
                          if not any(d in self.targets.get(a, ())
                                     for a in left if a != d))
            if not free:
                free = sorted(left)  # a cycle: cannot happen (generator)
            order.append(free[0])
            left.discard(free[0])
        return order


class Runner:
    def __init__(self, a_dir, b_dir, trace=False, history=12):
        self.sides = (Side("A", a_dir), Side("B", b_dir))
        self.trace = trace
        self.history_len = history
        self.sync_n = 0
        self.model = None

    # -- low level ---------------------------------------------------------

    def conn_names(self):
        # Same names on both sides (kept so by open/close below).
        return sorted(self.sides[0].conns)

    def exchange(self, conn, t, payload, rid, tx=(0, 0), raw=None):
        """Send one request on `conn` to both daemons and collect, per
        connection, everything up to the reply and the sync replies."""
        got = []
        for side, txid in zip(self.sides, tx):
            c = side.conns[conn]
            data = raw if raw is not None else msg_bytes(t, rid, txid, payload)
            c.send(data)
            msgs = []
            while True:
                m = c.recv_msg()
                msgs.append(m)
                if isinstance(m, str) or (m[0] != WATCH_EVENT and m[1] == rid):
                    break
            got.append({conn: msgs})
        self.sync(got)
        return got

    def sync(self, got):
        """Flush events: a GET_DOMAIN_PATH on every open connection, sent to
        all first, then each read up to its reply."""
        self.sync_n = (self.sync_n + 1) & 0xFFFF
        rid = SYNC_REQ_ID + self.sync_n
        req = msg_bytes(GET_DOMAIN_PATH, rid, 0, b"0\0")
        for side in self.sides:
            for c in side.conns.values():
                c.send(req)
        for side, g in zip(self.sides, got):
            for name, c in side.conns.items():
                msgs = g.setdefault(name, [])
                if c.closed and msgs and msgs[-1] == "EOF":
                    continue
                while True:
                    m = c.recv_msg()
                    msgs.append(m)
                    if isinstance(m, str) or (m[0] != WATCH_EVENT and
                                              m[1] == rid):
                        break

    def compare(self, got, ctx, req_tx=(0, 0), unordered=False):
        a, b = got
        names = sorted(set(a) | set(b))
        for n in names:
            la = [normalise(m, n, req_tx[0]) for m in a.get(n, [])]
            lb = [normalise(m, n, req_tx[1]) for m in b.get(n, [])]
            if unordered and la and lb:
                # Only the order of the reply and its events may differ.
                la = sorted(la[:-1], key=repr) + la[-1:]
                lb = sorted(lb[:-1], key=repr) + lb[-1:]
            if la != lb:
                raise Mismatch((n, a.get(n, []), b.get(n, []), ctx))

    # -- one seed ----------------------------------------------------------

    def reset(self):
        """Bring both daemons to the same starting tree (not compared)."""
        for side in self.sides:
            side.close_all()
            side.connect("admin")
            c = side.conns["admin"]
            rid = 1
            # Nodes first: C xenstored 4.17 can crash (use after free) when
            # RELEASE walks the tree for a domain's leftover nodes.
            reqs = [(SET_PERMS, b"/\0n0\0")]
            reqs += [(RM, ("/%s\0" % n).encode()) for n in NAMES]
            reqs += [(RM, b"/local\0")]
            # Targets before the domains they target: see the SET_TARGET
            # note in Generator.op_domain.
            order = (self.model.release_order() if self.model else [])
            order += [d for d in DOMIDS if d not in order]
            reqs += [(RELEASE, ("%d\0" % d).encode()) for d in order]
            reqs += [(WRITE, b"/\0"),
                     (SET_PERMS, b"/\0n0\0"),
                     (SET_PERMS, b"@introduceDomain\0n0\0"),
                     (SET_PERMS, b"@releaseDomain\0n0\0")]
            for t, p in reqs:
                c.send(msg_bytes(t, rid, 0, p))
                while True:
                    m = c.recv_msg()
                    if isinstance(m, str):
                        raise DaemonDied("%s: daemon %s closed the admin "
                                         "connection while resetting the "
                                         "tree (request %s %r)"
                                         % (side.label, side.dir, tname(t),
                                            p))
                    if m[0] != WATCH_EVENT and m[1] == rid:
                        break
                rid += 1
            c.close()
            del side.conns["admin"]
            left = [d for d in DOMIDS if os.path.exists(
                os.path.join(side.dir, "domain", str(d)))]
            if left:
                raise DaemonDied("%s: domain socket(s) %s still there after "
                                 "RELEASE while resetting the tree"
                                 % (side.label, left))

    def run_seed(self, seed, nops):
        rng = random.Random(seed)
        self.reset()  # uses the previous seed's model (release order)
        model = Model()
        self.model = model
        self.history = []
        for side in self.sides:
            side.connect("d0")
            side.connect("d0b")
        model.txs = {"d0": [], "d0b": []}
        model.watches = {"d0": [], "d0b": []}
        gen = Generator(rng, model)
        # The toolstack's part of a domain's birth, then random steps.
        steps = []
        for d in (1, 2, 3):
            steps += gen.intro_steps(d)
        i = 0
        while i < nops:
            if steps:
                op = steps.pop(0)
            else:
                op = gen.next_op()
            self.do_op(seed, i, op)
            i += 1
        for side in self.sides:
            side.close_all()

    def do_op(self, seed, index, op):
        m = self.model
        conn = op["conn"]
        rid = index + 1
        if self.trace:
            print("seed %d op %d: %s" % (seed, index, describe(op)))
        self.history.append((index, op))
        del self.history[:-self.history_len]
        kind = op["kind"]
        ctx = (seed, index, op)

        if kind == "reconnect":
            # Close and reopen: a new connection, nothing inherited.
            for side in self.sides:
                side.conns[conn].close()
                side.connect(conn, op.get("domid"))
            m.txs[conn] = []
            m.watches[conn] = []
            got = [{}, {}]
            self.sync(got)
            self.compare(got, ctx)
            self.forget_closed(got)
            return
        if kind == "connect":
            for side in self.sides:
                side.connect(conn, op["domid"])
            m.txs[conn] = []
            m.watches[conn] = []
            got = [{}, {}]
            self.sync(got)
            self.compare(got, ctx)
            self.forget_closed(got)
            return

        txa = op.get("tx", 0)
        txb = txa
        if op.get("tx_slot") is not None:
            txa, txb = m.txs[conn][op["tx_slot"]]
        raw = None
        if kind == "oversize":
            raw = HDR.pack(READ, rid, 0, 4097) + b"x" * 64
        got = self.exchange(conn, op["type"], op.get("payload", b""), rid,
                            (txa, txb), raw)
        # C xenstored 4.17 may destroy a released domain (firing the
        # watches of its removed nodes) only after queueing the reply: the
        # connection is freed when the main loop drops its last reference.
        self.compare(got, ctx, (txa, txb), op["type"] == RELEASE)
        self.learn(op, got)

    def forget_closed(self, got):
        """Connections daemon A closed (B agreed, or compare() objected)."""
        m = self.model
        for name, msgs in got[0].items():
            if "EOF" not in msgs and "TIMEOUT" not in msgs:
                continue
            for side in self.sides:
                c = side.conns.pop(name, None)
                if c:
                    c.close()
            m.txs.pop(name, None)
            m.watches.pop(name, None)
            if name.startswith("dom") and int(name[3:]) in m.introduced:
                # Not by RELEASE: the daemon gave up on the domain, which
                # stays introduced but unusable (C xenstored) until released.
                m.dead.add(int(name[3:]))
            elif name in ("d0", "d0b"):
                for side in self.sides:
                    side.connect(name)
                    if side.conns[name].closed:
                        raise DaemonDied("%s: nothing answers on %s/socket "
                                         "any more (daemon died?)"
                                         % (side.label, side.dir))
                m.txs[name] = []
                m.watches[name] = []

    def learn(self, op, got):
        """Update the model from daemon A's answer."""
        m = self.model
        conn = op["conn"]
        msgs = got[0][conn]
        reply = next((x for x in msgs if not isinstance(x, str)
                      and x[0] != WATCH_EVENT), None)
        ok = reply is not None and reply[0] != ERROR
        t = op.get("type")
        self.forget_closed(got)
        if conn not in m.txs:
            return
        if not ok:
            if t == TRANSACTION_END and op.get("tx_slot") is not None:
                # A failed commit (EAGAIN...) still ends the transaction,
                # unless the request itself was malformed.
                if reply is not None and reply[3] != b"EINVAL\0":
                    m.txs[conn].pop(op["tx_slot"])
            return
        if t == TRANSACTION_START:
            ida = int(reply[3].rstrip(b"\0"))
            rb = next(x for x in got[1][conn] if not isinstance(x, str)
                      and x[0] != WATCH_EVENT)
            idb = int(rb[3].rstrip(b"\0"))
            m.txs[conn].append((ida, idb))
        elif t == TRANSACTION_END and op.get("tx_slot") is not None:
            m.txs[conn].pop(op["tx_slot"])
        elif t in (WATCH, UNWATCH):
            parts = op["payload"].decode("latin-1").split("\0")
            w = tuple(parts[:2]) if len(parts) >= 2 else None
            if t == WATCH:
                m.watches[conn].append(w)
            elif w in m.watches[conn]:
                m.watches[conn].remove(w)
        elif t == RESET_WATCHES:
            m.watches[conn] = []
            m.txs[conn] = []
        elif t == INTRODUCE:
            d = op["domid"]
            if d in m.introduced:
                # Re-introduction resets the domain's connection state.
                name = "dom%d" % d
                if name in m.txs:
                    m.txs[name] = []
                    m.watches[name] = []
            m.introduced.add(d)
        elif t == SET_TARGET:
            a, b = (c_atoi(x) for x in
                    op["payload"].decode("latin-1").split("\0")[:2])
            m.targets.setdefault(a, set()).add(b)
        elif t == RELEASE:
            d = op["domid"]
            m.targets.pop(d, None)
            m.introduced.discard(d)
            m.dead.discard(d)
            name = "dom%d" % d
            for side in self.sides:
                c = side.conns.pop(name, None)
                if c:
                    c.close()
            m.txs.pop(name, None)
            m.watches.pop(name, None)


class Generator:
    """Random, but valid often enough to get deep into the state space."""

    def __init__(self, rng, model):
        self.r = rng
        self.m = model

    # -- building blocks -----------------------------------------------------

    def rel(self, lo=1, hi=3):
        return "/".join(self.r.choice(NAMES)
                        for _ in range(self.r.randint(lo, hi)))

    def path(self, modify=False):
        r = self.r.random()
        if r < 0.30:
            return "/" + self.rel()
        if r < 0.62:
            d = self.r.choice((0, 1, 1, 2, 2, 3, 4))
            if self.r.random() < 0.15:
                return "/local/domain/%d" % d
            return "/local/domain/%d/%s" % (d, self.rel(1, 2))
        if r < 0.82:
            return self.rel()
        if r < 0.90:
            if modify:
                return self.r.choice(("/", "/local", "/local/domain"))
            return self.r.choice(("/", "/local", "/local/domain", "/tool",
                                  "/tool/xenstored", "tool"))
        return self.r.choice((
            "", "a/", "/a/", "//a", "/a//b", "/a.b", "/a:b", "@x",
            "/a b", "@introduceDomain", "/" + "x" * 2100,
            "a/" + "b" * 2050, "/local/domain/1/" + "y" * 2040,
        ))

    def value(self):
        r = self.r.random()
        if r < 0.85:
            return self.r.choice((b"", b"v", b"val", b"0123456789abcdef",
                                  b"a\0b", b"\xff\xfe"))
        return b"x" * self.r.choice((1000, 2000, 2020, 2032, 2040, 2048,
                                     2100, 4000, 4090))

    def domid_str(self):
        r = self.r.random()
        if r < 0.85:
            return str(self.r.choice((0, 1, 2, 3, 4, 5)))
        return self.r.choice(("", "x", "-1", "65536", "0x1", "01", "1 "))

    def perms(self):
        r = self.r.random()
        if r < 0.08:
            return self.r.choice((b"", b"x1\0", b"n\0", b"r-1\0", b"n0x1\0",
                                  b"n0", b"r1\0\0"))
        n = self.r.choice((1, 1, 2, 2, 3, 4, 5, 6))
        out = []
        for _ in range(n):
            out.append("%s%d" % (self.r.choice("nrwb"),
                                 self.r.choice((0, 1, 1, 2, 2, 3, 4))))
        return ("\0".join(out) + "\0").encode()

    def conns(self):
        return sorted(self.m.txs)

    def pick_conn(self):
        names = self.conns()
        doms = [n for n in names if n.startswith("dom")]
        # Favour the unprivileged domains: that is where semantics bite.
        if doms and self.r.random() < 0.55:
            return self.r.choice(doms)
        return self.r.choice(names)

    def tx_fields(self, conn, op):
        txs = self.m.txs.get(conn, [])
        r = self.r.random()
        if txs and r < 0.45:
            op["tx_slot"] = self.r.randrange(len(txs))
        elif r < 0.48:
            op["tx"] = self.r.choice((77, 0xFFFFFFFF))
        return op

    # -- operations --------------------------------------------------------

    def intro_steps(self, d):
        home = ("/local/domain/%d\0" % d).encode()
        return [
            {"kind": "req", "conn": "d0", "type": INTRODUCE, "domid": d,
             "payload": ("%d\0%d\0%d\0" % (d, 1000 + d, d + 10)).encode()},
            {"kind": "req", "conn": "d0", "type": MKDIR, "payload": home},
            {"kind": "req", "conn": "d0", "type": SET_PERMS,
             "payload": home + ("n%d\0r0\0" % d).encode()},
            {"kind": "connect", "conn": "dom%d" % d, "domid": d},
        ]

    def next_op(self):
        # A newly introduced domain gets its connection first.
        for d in sorted(self.m.introduced - self.m.dead):
            if "dom%d" % d not in self.m.txs:
                return {"kind": "connect", "conn": "dom%d" % d, "domid": d}
        r = self.r.random()
        conn = self.pick_conn()
        for limit, make in self.TABLE:
            if r < limit:
                return make(self, conn)
            r -= limit
        return self.op_read(conn)

    def simple(self, conn, t, payload, tx=True):
        op = {"kind": "req", "conn": conn, "type": t, "payload": payload}
        return self.tx_fields(conn, op) if tx else op

    def op_read(self, conn):
        return self.simple(conn, READ, (self.path() + "\0").encode())

    def op_write(self, conn):
        return self.simple(conn, WRITE, (self.path(True) + "\0").encode()
                           + self.value())

    def op_mkdir(self, conn):
        return self.simple(conn, MKDIR, (self.path(True) + "\0").encode())

    def op_rm(self, conn):
        return self.simple(conn, RM, (self.path(True) + "\0").encode())

    def op_directory(self, conn):
        return self.simple(conn, DIRECTORY, (self.path() + "\0").encode())

    def op_directory_part(self, conn):
        off = self.r.choice(("0", "0", "2", "4", "100", "x"))
        return self.simple(conn, DIRECTORY_PART,
                           (self.path() + "\0" + off + "\0").encode())

    def op_get_perms(self, conn):
        p = self.path() if self.r.random() < 0.8 else self.r.choice(
            ("@introduceDomain", "@releaseDomain", "@other"))
        return self.simple(conn, GET_PERMS, (p + "\0").encode())

    def op_set_perms(self, conn):
        # C xenstored 4.17 answers a refused SET_PERMS on an @ path with a
        # stale errno (or asserts): only dom0 sets the two real ones.
        if conn.startswith("d0") and self.r.random() < 0.15:
            p = self.r.choice(("@introduceDomain", "@releaseDomain"))
        else:
            p = self.path(True)
            while p.startswith("@"):
                p = self.path(True)
        perms = self.perms()
        if p == "/" and perms[1:2].isdigit():
            # C xenstored 4.17 deletes the root node when its owner domain
            # is released, and cannot recover: keep / owned by dom0.
            perms = perms[:1] + b"0" + perms[2:]
        return self.simple(conn, SET_PERMS, (p + "\0").encode() + perms)

    def op_watch(self, conn):
        r = self.r.random()
        if r < 0.15:
            p = self.r.choice(("@introduceDomain", "@releaseDomain", "@x"))
        else:
            p = self.path()
        w = (p, self.r.choice(TOKENS))
        op = self.simple(conn, WATCH, ("%s\0%s\0" % w).encode(), tx=False)
        op["watch"] = w
        if self.r.random() < 0.05:
            op["tx"] = 5  # ignored for WATCH
        return op

    def op_unwatch(self, conn):
        ws = self.m.watches.get(conn, [])
        if ws and self.r.random() < 0.75:
            w = self.r.choice(ws)
        else:
            w = (self.path(), self.r.choice(TOKENS))
        op = self.simple(conn, UNWATCH, ("%s\0%s\0" % w).encode(), tx=False)
        op["watch"] = w
        return op

    def op_tx_start(self, conn):
        op = self.simple(conn, TRANSACTION_START, b"\0", tx=False)
        txs = self.m.txs.get(conn, [])
        if txs and self.r.random() < 0.1:
            op["tx_slot"] = self.r.randrange(len(txs))  # nested: EBUSY
        return op

    def op_tx_end(self, conn):
        txs = self.m.txs.get(conn, [])
        arg = self.r.choice((b"T\0", b"T\0", b"T\0", b"F\0", b"X\0", b"T"))
        op = {"kind": "req", "conn": conn, "type": TRANSACTION_END,
              "payload": arg}
        if txs and self.r.random() < 0.9:
            op["tx_slot"] = self.r.randrange(len(txs))
        else:
            op["tx"] = self.r.choice((0, 77))
        return op

    def op_domain(self, conn):
        # Privileged domain management, mostly from dom0.
        if self.r.random() < 0.7:
            conn = self.r.choice(("d0", "d0b"))
        r = self.r.random()
        d = self.r.choice(DOMIDS)
        if r < 0.35:
            if d in self.m.introduced and self.r.random() < 0.7:
                t, p = GET_DOMAIN_PATH, "%d\0" % d
            else:
                port = self.r.choice((d + 10, d + 10, d + 10, 0))
                t, p = INTRODUCE, "%d\0%d\0%d\0" % (d, 1000 + d, port)
        elif r < 0.50:
            t, p = RELEASE, self.domid_str() + "\0"
            if c_atoi(p[:-1]) in DOMIDS and self.r.random() < 0.5:
                # Keep domains around for most of the run.
                t, p = IS_DOMAIN_INTRODUCED, p
        elif r < 0.65:
            t, p = IS_DOMAIN_INTRODUCED, self.domid_str() + "\0"
        elif r < 0.80:
            t, p = SET_TARGET, "%s\0%s\0" % (self.domid_str(),
                                              self.domid_str())
        elif r < 0.88:
            t, p = RESUME, self.domid_str() + "\0"
        else:
            t, p = GET_DOMAIN_PATH, self.domid_str() + "\0"
        op = {"kind": "req", "conn": conn, "type": t, "payload": p.encode()}
        m = self.m
        priv = conn.startswith("d0")
        if t in (INTRODUCE, RELEASE):
            op["domid"] = c_atoi(p.split("\0")[0])
            if t == INTRODUCE and op["domid"] in m.dead:
                op["type"], op["payload"] = IS_DOMAIN_INTRODUCED, (
                    "%d\0" % op["domid"]).encode()
            # C xenstored 4.17 keeps a SET_TARGET reference to the target's
            # connection that RELEASE does not drop: releasing a target
            # before the domain targeting it is a use after free.
            if t == RELEASE and priv and m.targeted(op["domid"]):
                op["type"] = IS_DOMAIN_INTRODUCED
        elif t == SET_TARGET and priv:
            a, b = (c_atoi(x) for x in p.split("\0")[:2])
            if (a in m.introduced and b in m.introduced and
                    (a == b or m.reaches(b, a))):
                # A cycle could never be released safely (see above).
                op["type"], op["payload"] = GET_DOMAIN_PATH, b"%d\0" % a
            elif a == 0 or (a in m.introduced and m.targets.get(a)):
                # One target per domain: a second SET_TARGET leaves C a
                # reference that RELEASE never drops, so the domain would
                # outlive its RELEASE.
                op["type"], op["payload"] = GET_DOMAIN_PATH, b"%d\0" % a
        return op

    def op_reset_watches(self, conn):
        return self.simple(conn, RESET_WATCHES, b"", tx=False)

    def op_reconnect(self, conn):
        op = {"kind": "reconnect", "conn": conn}
        if conn.startswith("dom"):
            op["domid"] = int(conn[3:])
        return op

    def op_bad(self, conn):
        r = self.r.random()
        if r < 0.3:
            t = self.r.choice((20, 23, 24, 25, 26, 27, 99, WATCH_EVENT, ERROR,
                               0xFFFF))
            return self.simple(conn, t, b"x\0", tx=False)
        if r < 0.9:
            # Malformed payloads for well-known types.  Not for READ, MKDIR,
            # RM, DIRECTORY and GET_PERMS: C xenstored 4.17 answers those
            # with a stale errno, or asserts when errno happens to be 0
            # (docs/xenstored-differences.md).
            t = self.r.choice((WRITE, WATCH, UNWATCH, GET_DOMAIN_PATH,
                               DIRECTORY_PART, SET_PERMS, TRANSACTION_START,
                               IS_DOMAIN_INTRODUCED))
            p = self.r.choice((b"", b"\0", b"/a", b"/a\0\0", b"/a\0b\0c\0",
                               b"a\0b", b"\0/a\0"))
            return self.simple(conn, t, p)
        if self.r.random() < 0.5 and not conn.startswith("dom"):
            return {"kind": "oversize", "conn": conn, "type": READ}
        return self.op_read(conn)

    TABLE = [
        (0.13, op_read), (0.14, op_write), (0.05, op_mkdir), (0.07, op_rm),
        (0.06, op_directory), (0.03, op_directory_part),
        (0.05, op_get_perms), (0.06, op_set_perms), (0.07, op_watch),
        (0.03, op_unwatch), (0.07, op_tx_start), (0.07, op_tx_end),
        (0.06, op_domain), (0.01, op_reset_watches), (0.02, op_reconnect),
        (0.03, op_bad),
    ]


def describe(op):
    kind = op["kind"]
    if kind in ("connect", "reconnect"):
        return "%s %s" % (op["conn"], kind)
    if kind == "oversize":
        return "%s <header with len 4097>" % op["conn"]
    tx = ""
    if op.get("tx_slot") is not None:
        tx = " [tx slot %d]" % op["tx_slot"]
    elif op.get("tx"):
        tx = " [tx_id %d]" % op["tx"]
    return "%s %s %r%s" % (op["conn"], tname(op["type"]),
                           show(op.get("payload", b"")), tx)


def parse_seeds(spec):
    seeds = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def report(runner, mm, args):
    conn, la, lb, (seed, index, op) = mm
    w = sys.stdout.write
    w("MISMATCH seed %d, op %d: %s\n" % (seed, index, describe(op)))
    w("  on connection %s:\n" % conn)
    w("    A (%s):\n" % args.a_socket_dir)
    for m in la:
        w("      %s\n" % render(m))
    w("    B (%s):\n" % args.b_socket_dir)
    for m in lb:
        w("      %s\n" % render(m))
    w("  preceding ops:\n")
    for i, o in runner.history[:-1]:
        w("    %4d %s\n" % (i, describe(o)))
    w("  repro: %s --a-socket-dir %s --b-socket-dir %s --seeds %d --ops %d"
      " --trace\n" % (sys.argv[0], args.a_socket_dir, args.b_socket_dir,
                      seed, index + 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a-socket-dir", required=True,
                    help="run directory of daemon A (DIR/socket, "
                    "DIR/domain/<domid>)")
    ap.add_argument("--b-socket-dir", required=True,
                    help="run directory of daemon B")
    ap.add_argument("--seeds", default="1-50", help="e.g. 1-200 or 3,7,9")
    ap.add_argument("--ops", type=int, default=300,
                    help="operations per seed (default 300)")
    ap.add_argument("--budget", type=float, default=0,
                    help="stop starting new seeds after this many seconds")
    ap.add_argument("--trace", action="store_true",
                    help="print every operation")
    ap.add_argument("--expect-mismatch", action="store_true",
                    help="succeed only if some seed differs (self-check)")
    ap.add_argument("--max-reports", type=int, default=5,
                    help="print at most this many mismatch reports "
                    "(default 5)")
    args = ap.parse_args()

    runner = Runner(args.a_socket_dir, args.b_socket_dir, args.trace)
    passed = failed = 0
    start = time.monotonic()
    printed = 0
    for seed in parse_seeds(args.seeds):
        if args.budget and time.monotonic() - start > args.budget:
            print("diff: time budget of %gs used up before seed %d"
                  % (args.budget, seed))
            break
        try:
            runner.run_seed(seed, args.ops)
            passed += 1
        except Mismatch as e:
            failed += 1
            if printed < args.max_reports:
                report(runner, e.args[0], args)
            printed += 1
        except DaemonDied as e:
            failed += 1
            print("DAEMON DIED in seed %d: %s" % (seed, e))
            print("  last ops:")
            for i, o in runner.history:
                print("    %4d %s" % (i, describe(o)))
            break
        finally:
            for side in runner.sides:
                side.close_all()
    print("diff: %d passed, %d failed" % (passed, failed))
    if args.expect_mismatch:
        return 0 if failed else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
