#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xpt-dm's QMP monitor, side by side with Debian's QEMU.

The same request sequence goes to `qemu-system-x86_64 -machine none -S`
and to `xpt-dm -S`; the replies and events must match after removing
what differs by nature (timestamps, the version greeting, the wording of
a JSON parser's error).  Then what only xpt-dm has: the device-model
state node written at `cont`, one monitor client at a time, hostile
clients (garbage, a line without end, a hang-up mid-request) answered or
dropped while the daemon serves the next client.

usage: qmp.py XPT-DM XPT-XENSTORED
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE = 10.0

SEQUENCE = [
    '{"execute":"query-status","id":1}',
    '{"execute":"qmp_capabilities","id":2}',
    '{"execute":"qmp_capabilities","id":3}',
    '{"execute":"nope","id":4}',
    '{nonsense}',
    '{"execute":"device_del","arguments":{"id":"pt0"},"id":5}',
    '{"execute":"device_add","arguments":{"id":"pt0"},"id":6}',
    '{"execute":"device_add","arguments":{"driver":"e1000-nope","id":"x"},"id":7}',
    '{"execute":"query-status","id":8}',
    '{"execute":"cont","id":9}',
    '{"execute":"query-status","id":"s"}',
    '{"execute":"stop","id":11}',
    '{"execute":"query-status","id":[1,{"a":null}]}',
    '[1]',
    '{"id":12}',
    '{"execute":"query-status","arguments":{"x":1},"id":13}',
    '{"execute":"cont","arguments":[],"id":15}',
    '{"execute":5,"id":16}',
    '{"execute":"device_del","id":17}',
    '{"execute":"quit","id":14}',
]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def wait_socket(path, proc):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("exited with %d before listening" % proc.returncode)
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            select.select([], [], [], 0.02)   # the socket file is not there yet
    raise RuntimeError("no QMP socket at %s" % path)


def read_lines(s, want_id=None, timeout=2.0):
    """Messages until a reply (want_id) or a quiet timeout; one request
    is in flight at a time, so nothing follows the reply."""
    out, buf = [], b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line.decode())
            out.append(msg)
            if "event" not in msg and (want_id is None or "return" in msg or "error" in msg):
                return out
    return out


def normalise(msg):
    msg = dict(msg)
    if "timestamp" in msg:
        msg["timestamp"] = "T"
    if "QMP" in msg:
        msg["QMP"] = {"capabilities": msg["QMP"]["capabilities"]}
    err = msg.get("error")
    if err and err["desc"].startswith("JSON parse error"):
        msg["error"] = {"class": err["class"], "desc": "JSON parse error"}
    return msg


def run_sequence(s):
    transcript = [[normalise(m) for m in read_lines(s)]]
    for req in SEQUENCE:
        s.sendall(req.encode() + b"\r\n")
        transcript.append([normalise(m) for m in read_lines(s, want_id=True)])
    return transcript


def start_xenstored(xsd, rundir):
    r, w = os.pipe()
    p = subprocess.Popen([xsd, "--rundir", rundir, "--ready-fd", str(w)],
                         pass_fds=(w,), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(w)
    select.select([r], [], [], DEADLINE)
    os.read(r, 16)
    os.close(r)
    return p


def xs_read(rundir, path):
    env = dict(os.environ, XENSTORED_PATH=os.path.join(rundir, "socket"))
    p = subprocess.run(["xenstore-read", path], env=env, capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def start_dm(dm, rundir, sock, paused=True, domid=5):
    args = [dm, "-xen-domid", str(domid), "-chardev",
            "socket,id=libxl-cmd,path=%s,server=on,wait=off" % sock,
            "-mon", "chardev=libxl-cmd,mode=control", "-nodefaults",
            "-no-shutdown", "-machine", "xenfv", "--rundir", rundir]
    if paused:
        args.append("-S")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main():
    dm, xsd = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xpt-dm-qmp.")
    procs = []
    try:
        xs = start_xenstored(xsd, tmp)
        procs.append(xs)

        # 1. the same sequence against QEMU and xpt-dm
        qemu = shutil.which(os.environ.get("XPT_TEST_QEMU", "qemu-system-x86_64"))
        ours_sock = os.path.join(tmp, "qmp-libxl-5")
        p = start_dm(dm, tmp, ours_sock)
        procs.append(p)
        ours = run_sequence(wait_socket(ours_sock, p))
        if qemu:
            qsock = os.path.join(tmp, "qemu.sock")
            q = subprocess.Popen([qemu, "-machine", "none", "-nodefaults", "-display", "none",
                                  "-S", "-qmp", "unix:%s,server=on,wait=off" % qsock],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(q)
            theirs = run_sequence(wait_socket(qsock, q))
            for i, (a, b) in enumerate(zip(theirs, ours)):
                req = SEQUENCE[i - 1] if i else "(greeting)"
                check(a == b, "%s: QEMU %s, xpt-dm %s" % (req, a, b))
            print("compared %d exchanges with %s" % (len(SEQUENCE) + 1, qemu))
        elif os.environ.get("XPT_CI"):
            check(False, "no QEMU to compare with (qemu-system-x86)")
        else:
            print("SKIP comparison: no QEMU")
        p.wait(timeout=DEADLINE)
        check(p.returncode == 0, "xpt-dm exits 0 on quit")

        # 2. readiness: the state node appears at cont, not before
        statepath = "/local/domain/0/device-model/6/state"
        p = start_dm(dm, tmp, ours_sock, domid=6)
        procs.append(p)
        s = wait_socket(ours_sock, p)
        read_lines(s)
        s.sendall(b'{"execute":"qmp_capabilities"}\r\n')
        read_lines(s, want_id=True)
        check(xs_read(tmp, statepath) is None, "state written before cont")
        s.sendall(b'{"execute":"cont"}\r\n')
        read_lines(s, want_id=True)
        check(xs_read(tmp, statepath) == "running", "state not 'running' after cont")

        # 3. one client at a time: a second waits until the first leaves
        s2 = socket.socket(socket.AF_UNIX)
        s2.connect(ours_sock)
        check(read_lines(s2, timeout=0.3) == [], "a second client was served at once")
        s.close()
        greet = read_lines(s2)
        check(greet and "QMP" in greet[0], "the second client got no greeting after the first left")

        # 4. hostile clients: a hang-up mid-request, a line without end;
        # the next client is served
        s2.sendall(b'{"execute":"qmp_capa')
        s2.close()
        s3 = wait_socket(ours_sock, p)
        read_lines(s3)
        s3.sendall(b"x" * (128 * 1024))
        select.select([s3], [], [], 2.0)
        try:
            check(s3.recv(4096) == b"", "an endless line did not drop its client")
        except ConnectionResetError:
            pass
        s3.close()
        s4 = wait_socket(ours_sock, p)
        read_lines(s4)
        s4.sendall(b'{"execute":"qmp_capabilities"}\r\n')
        replies = read_lines(s4, want_id=True)
        s4.sendall(b'{"execute":"query-status","id":7}\r\n')
        replies += read_lines(s4, want_id=True)
        check(any(m.get("id") == 7 and m.get("return", {}).get("running") for m in replies),
              "the daemon does not serve the next client: %s" % replies)
        # 5. passthrough needs the hypervisor's assignment: refused clearly
        s4.sendall(b'{"execute":"device_add","arguments":{"driver":"xen-pci-passthrough",'
                   b'"id":"pt0","hostaddr":"0000:03:00.0"},"id":8}\r\n')
        r = read_lines(s4, want_id=True)
        check(r and r[-1].get("error", {}).get("class") == "GenericError",
              "device_add without an assigned device: %s" % r)
        s4.sendall(b'{"execute":"device_add","arguments":{"driver":"xen-pci-passthrough",'
                   b'"id":"0bad","hostaddr":"0000:03:00.0"},"id":9}\r\n')
        r = read_lines(s4, want_id=True)
        check(r and "identifier" in r[-1].get("error", {}).get("desc", ""),
              "a bad id: %s" % r)
        check(p.poll() is None, "xpt-dm died")
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
            pr.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("dm-qmp: %s" % ("%d failures" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
