#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The lab driver: boots Xen + dom0 under QEMU and runs scenarios over the
serial console, unattended.

Each scenario boots a fresh QEMU (its own process group, tracked by pid),
types commands into dom0's shell and records, for every command, its exit
status, its output and its timing.  A command is sent as

    echo @@S""7@@; CMD; echo @@R""7@@ rc=$?

so that the tty's echo of the line (which shows the quotes) never matches
the sentinels, and the output is exactly what lies between "@@S7@@" and
"@@R7@@ rc=N".  Xen's console input ring holds 128 bytes: input goes out in
16-byte chunks 30 ms apart.

Per scenario, OUT/<scenario>/ receives result.json (every step), serial.log
(the whole console), qemu.stderr, xenstore/NN-label.txt (the PCI backend and
frontend subtrees at each step) and the guests' console logs.  On failure the
driver prints the step, what was expected, what it got and the console lines
around it, then kills its QEMU.  OUT/summary.json and a table close the run.
"""
import argparse
import base64
import ctypes
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import traceback
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import mkcpio  # noqa: E402
import scenarios  # noqa: E402

ROUND = re.compile(r"^r[0-9]+: ")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
FATAL = re.compile(rb"Panic on CPU [0-9]+|Kernel panic - not syncing[^\r\n]*|"
                   rb"DOM0-FAILED: [^\r\n]*|"
                   # a PVH dom0's triple fault, or a crash: Xen reboots
                   rb"Hardware Dom0 (?:shutdown|crashed)[^\r\n]*")
KERNEL_LINE = re.compile(r"^\[\s*[0-9]+\.[0-9]+\] ")

XEN_CMDLINE = ("console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M "
               "dom0_max_vcpus=1 loglvl=all guest_loglvl=all noreboot "
               "iommu=1,verbose")
DOM0_CMDLINE = "console=hvc0 earlyprintk=xen rdinit=/init loglevel=4"
# The L1 CPU Xen runs on.  HVM guests need hardware virtualisation: TCG
# emulates AMD SVM with nested paging (Debian's Xen has no shadow paging,
# so HVM needs NPT); it does not emulate VMX.  Only the HVM scenarios
# (scenarios_hvm.py, functions with .hvm set) get it, so that the PV
# scenarios run on the machine their figures were measured on.
CPU_PV = "qemu64"
CPU_HVM = "qemu64,+svm,+npt"
# HVM scenarios print guests' debug output at info level, not all:
# hvmloader and SeaBIOS write a hundred lines to Xen's debug port while an
# HVM guest starts, which Xen prints at debug level as "(dN) ...", in the
# middle of the shell's output lines the driver parses.
XEN_CMDLINE_HVM = XEN_CMDLINE.replace("guest_loglvl=all", "guest_loglvl=info")
# A PVH dom0 (scenarios with .pvh_dom0 set; Xen's vPCI handles dom0's own
# devices): the SVM machine, an IOMMU with 48-bit addresses (with the
# default 39 every device fails "setup ... for d0 failed (-12)" and dom0
# hangs), the virtio-blk modern-only behind the IOMMU, dom0=pvh, and two
# vCPUs for dom0 so that two of its config accesses can race in Xen.
XEN_CMDLINE_PVH = XEN_CMDLINE.replace(
    "dom0_max_vcpus=1", "dom0_max_vcpus=2") + " dom0=pvh"

# Set while QEMU is being stopped: a second Ctrl-C must not cut that short.
# dom0's store trace log (the store's -T), one per boot of a scenario
TRACE_LOG = "/var/log/xen/xenstored-trace.log"
STOPPING = [False]


class Abort(Exception):
    """A signal asked the driver to stop."""


class RoundOver(Exception):
    """The round cannot go on (its guest was not created); its failures
    are recorded and the next round gets a fresh host."""


class StepFailed(Exception):
    def __init__(self, step, expected, got, excerpt="", shell_alive=True):
        super().__init__(step)
        self.step = step
        self.expected = expected
        self.got = got
        self.excerpt = excerpt
        self.shell_alive = shell_alive


def _die_with_parent():
    """In QEMU's child before exec: SIGKILL it when the driver dies, even by
    SIGKILL, which no handler of the driver can catch."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Qemu:
    """One QEMU in its own session, serial console on stdin/stdout."""

    def __init__(self, argv, rundir, logname="serial.log"):
        self.log = open(os.path.join(rundir, logname), "wb")
        err = open(os.path.join(rundir, "qemu.stderr"), "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=err,
                                     start_new_session=True, close_fds=True,
                                     preexec_fn=_die_with_parent)
        err.close()
        with open(os.path.join(rundir, "qemu.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        self.buf = bytearray()
        self.eof = False
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            self.log.write(data)
            self.log.flush()
            with self.cond:
                self.buf += data
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def now(self):
        return time.monotonic() - self.t0

    def mark(self):
        with self.cond:
            return len(self.buf)

    def send(self, text):
        data = text.encode()
        try:
            for i in range(0, len(data), 16):
                self.proc.stdin.write(data[i:i + 16])
                self.proc.stdin.flush()
                time.sleep(0.03)
        except (BrokenPipeError, OSError):
            pass

    def wait(self, regex, start, deadline):
        """The first match of regex at or after offset start.  Returns None
        at the deadline or when QEMU is gone; a Xen or Linux panic, or a
        failed dom0 init, returns the fatal line's match instead (the caller
        tells them apart by .re)."""
        with self.cond:
            while True:
                m = regex.search(self.buf, start)
                if m:
                    return m
                f = FATAL.search(self.buf, start)
                if f:
                    return f
                if self.eof:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 1.0))

    def text(self, start, end=None):
        with self.cond:
            raw = bytes(self.buf[start:end])
        return ANSI.sub(b"", raw).decode("utf-8", "replace").replace("\r", "")

    def tail(self, start=0, lines=40):
        return "\n".join(self.text(start).splitlines()[-lines:])

    def kill(self):
        """Stop this QEMU and everything in its process group."""
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.proc.wait()
        self.reader.join(5)
        self.log.close()


class Lab:
    """One booted lab: a QEMU plus the record of every step."""

    RoundOver = RoundOver  # for the scenarios (driver.py runs as __main__)

    def __init__(self, opts, rundir, column, hvm=False, pvh_dom0=False):
        self.opts = opts
        self.rundir = rundir
        self.hvm = hvm
        self.pvh_dom0 = pvh_dom0
        self.cpu = CPU_HVM if hvm or pvh_dom0 else CPU_PV
        self.xen_cmdline = XEN_CMDLINE_PVH if pvh_dom0 else \
            XEN_CMDLINE_HVM if hvm else XEN_CMDLINE
        self.xen = column.xen
        self.img = column.img
        self.toolstack = column.toolstack
        self.tool_cmd = column.tool_cmd
        self.xpt_cmd = column.xpt_cmd
        self.initrd = None
        self.steps = []
        self.seq = 0
        self.dumps = 0
        self.boots = 0
        self.qemu = None
        self.facts = {}
        # While a round runs (see rounds()), a broken expectation is
        # recorded in it instead of ending the scenario.
        self.round = None
        self.round_results = []

    # -- boot --------------------------------------------------------------
    def qemu_argv(self):
        img = self.img
        disk = os.path.join(self.rundir, "vblk.img")
        with open(disk, "wb") as f:
            f.write(b"xpt-lab\n" * 512)
            f.truncate(4 << 20)
        for p in (img, self.initrd, disk):
            if "," in p:
                raise SystemExit("lab: path %s has a comma; QEMU's -initrd "
                                 "and -drive cannot take it" % p)
        return [self.opts.qemu, "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none",
                "-machine", "q35,accel=tcg", "-cpu", self.cpu,
                "-m", "3072", "-smp", "2", "-serial", "stdio",
                "-device", "intel-iommu,intremap=off" +
                (",aw-bits=48" if self.pvh_dom0 else ""),
                "-device", "e1000,addr=05.0,mac=52:54:00:12:34:56",
                "-device", "edu,addr=06.0",
                "-drive", "file=%s,if=none,id=vb0,format=raw" % disk,
                # Modern-only, DMA through the emulated IOMMU (as real
                # hardware's); see README.md, "The machine".
                "-device", "virtio-blk-pci,drive=vb0,addr=07.0" +
                ("" if self.opts.virtio_bypass and not self.pvh_dom0 else
                 ",disable-legacy=on,iommu_platform=on"),
                "-device", "edu,addr=08.0,multifunction=on",
                "-device", "pci-testdev,addr=08.1",
                "-kernel", os.path.join(img, "xen"),
                "-append", self.xen_cmdline,
                "-initrd", "%s %s,%s" % (os.path.join(img, "vmlinuz"),
                                         DOM0_CMDLINE, self.initrd)]

    def boot(self):
        argv = self.qemu_argv()
        with open(os.path.join(self.rundir, "qemu.argv"), "w") as f:
            f.write(" ".join(argv) + "\n")
        self.boots += 1
        self.seq = 0
        self.qemu = Qemu(argv, self.rundir, "serial.log" if self.boots == 1
                         else "serial-%d.log" % self.boots)
        t = self.opts.boot_timeout
        step = {"step": self.named("boot: Xen and dom0 up (DOM0-READY)"),
                "cmd": "qemu",
                "t": 0.0}
        if self.round is not None:
            step["round"] = self.round["round"]
        m = self.qemu.wait(re.compile(rb"DOM0-READY"), 0,
                           time.monotonic() + t)
        step["seconds"] = round(self.qemu.now(), 1)
        if m is None or m.re is FATAL:
            step["ok"] = False
            self.steps.append(step)
            got = m.group(0).decode(errors="replace") if m else (
                "QEMU exited" if self.qemu.eof else "no DOM0-READY in %ds" % t)
            raise StepFailed(step, "DOM0-READY on the console within %ds" % t,
                             got, self.qemu.tail(), shell_alive=False)
        step["ok"] = True
        self.steps.append(step)
        # The shell starts right after DOM0-READY; the first command also
        # proves that input reaches it.
        self.sh("true", name="dom0 shell answers", timeout=60)
        self.facts.setdefault("dom0_ready_s", step["seconds"])

    def restart(self, why):
        """A fresh host for the next round: the last one was left in a state
        the next round must not inherit (why)."""
        self.facts.setdefault("host_restarts", []).append(
            {"before_round": (self.round or {}).get("round"), "why": why})
        self.fetch_trace()
        self.qemu.kill()
        self.qemu = None
        self.boot()

    # -- the toolstack -----------------------------------------------------
    def tool(self, args, name, timeout=120, expect_rc=0, op=None):
        """Run the toolstack under test (xl or xpt) with args.  In a round
        the command runs under busybox timeout, so that a hung toolstack
        becomes a failed round (rc 143) rather than a dead shell."""
        cmd = "%s %s" % (self.tool_cmd, args)
        if self.round is not None:
            cmd = "timeout %d %s" % (timeout, cmd)
            timeout += 30
        step = self.sh(cmd, name=name, timeout=timeout, expect_rc=expect_rc)
        if op:
            step["op"] = op
        return step

    # -- commands ----------------------------------------------------------
    def sh(self, cmd, name=None, timeout=60, expect_rc=0, record=True):
        """Run cmd in dom0's shell; returns the step dict.  Fails the
        scenario when rc differs from expect_rc (None: any rc)."""
        self.seq += 1
        n = self.seq
        q = self.qemu
        start = q.mark()
        t = q.now()
        step = {"step": self.named(name or cmd), "cmd": cmd, "t": round(t, 1)}
        if self.round is not None:
            step["round"] = self.round["round"]
        q.send('echo @@S""%d@@; %s; echo @@R""%d@@ rc=$?\n' % (n, cmd, n))
        deadline = time.monotonic() + timeout
        m1 = q.wait(re.compile(rb"@@S%d@@\r*\n" % n), start, deadline)
        m2 = None
        if m1 is not None and m1.re is not FATAL:
            m2 = q.wait(re.compile(rb"@@R%d@@ rc=([0-9]+)" % n), m1.end(),
                        deadline)
        step["seconds"] = round(q.now() - t, 2)
        fatal = None
        for m in (m1, m2):
            if m is not None and m.re is FATAL:
                fatal = m
        if m2 is None or fatal is not None:
            step["ok"] = False
            step["rc"] = None
            self.steps.append(step)
            got = (fatal.group(0).decode(errors="replace") if fatal else
                   "QEMU exited" if q.eof else
                   "no end sentinel after %ds" % timeout)
            raise StepFailed(step, "command to finish within %ds" % timeout,
                             got, q.tail(start), shell_alive=False)
        lines = q.text(m1.end(), m2.start()).splitlines()
        step["rc"] = int(m2.group(1))
        step["out"] = "\n".join(ln for ln in lines if not (
            ln.startswith("(XEN)") or KERNEL_LINE.match(ln)))
        other = [ln for ln in lines if ln.startswith("(XEN)") or
                 KERNEL_LINE.match(ln)]
        if other:
            step["console"] = other
        step["ok"] = expect_rc is None or step["rc"] == expect_rc
        if record:
            self.steps.append(step)
        if not step["ok"]:
            self.fail(step, "exit status %d" % expect_rc,
                      "exit status %d, output:\n%s" % (step["rc"], step["out"]),
                      q.tail(start))
        return step

    def named(self, name):
        """A step's name; in a round, prefixed with it ("r2: ...")."""
        if self.round is None:
            return name
        return "r%d: %s" % (self.round["round"], name)

    def fail(self, step, expected, got, excerpt=""):
        """A broken expectation at step: ends the scenario, or, in a round,
        is recorded in it and the round goes on."""
        step["ok"] = False
        step["expected"] = expected
        if self.round is None:
            raise StepFailed(step, expected, got, excerpt)
        step["got"] = got
        self.round["failures"].append({"step": ROUND.sub("", step["step"]),
                                       "expected": expected, "got": got})

    def check(self, step, ok, expected, got):
        """Fail the scenario (or the round) at step unless ok.  Returns ok."""
        if not ok:
            self.fail(step, expected, got, self.qemu.tail(lines=25))
        return ok

    def rounds(self, n, body, until=None):
        """body(lab, i) for rounds i = 1..n; each round's broken
        expectations are recorded in self.round_results.  body returns True when
        it left the host clean; otherwise the next round gets a fresh
        host.  until: a function; once it returns true after a round, no
        more rounds (a time budget)."""
        for i in range(1, n + 1):
            self.round = {"round": i, "failures": [], "t": round(
                self.qemu.now(), 1)}
            t0 = time.monotonic()
            try:
                try:
                    clean = body(self, i)
                except RoundOver:
                    clean = False
                if not clean and i < n:
                    self.restart("round %d left the host unclean" % i)
            finally:
                r = self.round
                self.round = None
                r["seconds"] = round(time.monotonic() - t0, 1)
                r["ok"] = not r["failures"]
                self.round_results.append(r)
            if until is not None and until():
                break

    # -- guests ------------------------------------------------------------
    def guest_state(self, name):
        out = self.sh("lab-gstate %s" % name, timeout=60, record=False)["out"]
        return scenarios.parse_gstate(out), out

    def guest_wait(self, name, what, pred, timeout=None):
        """Poll guest NAME's reports until pred(state) holds."""
        timeout = timeout or self.opts.guest_timeout
        t = self.qemu.now()
        deadline = time.monotonic() + timeout
        polls = 0
        while True:
            state, raw = self.guest_state(name)
            polls += 1
            if pred(state):
                step = {"step": self.named("guest %s: %s" % (name, what)),
                        "cmd": "lab-gstate %s" % name, "rc": 0, "out": raw,
                        "t": round(t, 1), "polls": polls,
                        "seconds": round(self.qemu.now() - t, 2), "ok": True}
                if self.round is not None:
                    step["round"] = self.round["round"]
                self.steps.append(step)
                return state
            if time.monotonic() > deadline:
                step = {"step": self.named("guest %s: %s" % (name, what)),
                        "cmd": "lab-gstate %s" % name, "out": raw,
                        "t": round(t, 1), "polls": polls,
                        "seconds": round(self.qemu.now() - t, 2),
                        "ok": False, "expected": what}
                if self.round is not None:
                    step["round"] = self.round["round"]
                self.steps.append(step)
                log = self.sh("tail -n 25 /var/log/xen/console/guest-%s.log"
                              % name, record=False, expect_rc=None)["out"]
                self.fail(step, what + " (within %ds)" % timeout,
                          "last report:\n" + raw,
                          "guest-%s.log (tail):\n%s" % (name, log))
                return state
            time.sleep(2)

    def xsdump(self, label, *names):
        """Save the PCI backend/frontend xenstore subtrees to xenstore/."""
        self.dumps += 1
        step = self.sh("lab-xsdump %s" % " ".join(names),
                       name="xenstore dump: %s" % label, timeout=60)
        d = os.path.join(self.rundir, "xenstore")
        os.makedirs(d, exist_ok=True)
        fn = "%02d-%s.txt" % (self.dumps, re.sub(r"[^A-Za-z0-9.-]+", "-",
                                                 label).strip("-"))
        with open(os.path.join(d, fn), "w") as f:
            f.write(step["out"] + "\n")
        # The whole tree too, for lab/compare-trees.py (not a step: the
        # scenario's record stays the same).
        full = self.sh("xenstore-ls -fp / | cat", timeout=60, record=False,
                       expect_rc=None)
        with open(os.path.join(d, fn[:-4] + ".full"), "w") as f:
            f.write(full["out"] + "\n")
        return step["out"]

    def fetch_trace(self):
        """Bring the store's trace log of this boot (TRACE_LOG) back to
        RUNDIR/trace/boot-N.log, gzip and base64 over the console; best
        effort: a log that does not come back whole is noted in the facts,
        never a failed scenario."""
        if not self.opts.trace or self.qemu is None:
            return
        d = os.path.join(self.rundir, "trace")
        os.makedirs(d, exist_ok=True)
        dest = os.path.join(d, "boot-%d.log" % self.boots)
        try:
            out = self.sh("[ -f %s ] && gzip -c %s | base64" % (
                TRACE_LOG, TRACE_LOG), record=False, timeout=300,
                expect_rc=None)["out"]
            data = gzip.decompress(base64.b64decode(
                "".join(ln.strip() for ln in out.splitlines()
                        if re.fullmatch(r"[A-Za-z0-9+/=]+", ln.strip()))))
        except (StepFailed, ValueError, OSError, EOFError) as e:
            self.facts.setdefault("trace_missing", []).append(
                "boot %d: %s" % (self.boots, str(e)[:200]))
            return
        with open(dest, "wb") as f:
            f.write(data)
        self.facts.setdefault("trace_logs", []).append(
            {"boot": self.boots, "file": os.path.relpath(dest, self.rundir),
             "bytes": len(data)})

    def collect(self):
        """Best-effort diagnostics after the scenario: guest logs and dmesg."""
        self.fetch_trace()
        d = os.path.join(self.rundir, "dom0")
        os.makedirs(d, exist_ok=True)
        # dmesg and xl dmesg lines look like the console's own (Xen's
        # "(XEN) ...", the kernel's): prefixed, they are kept in the output
        for what, cmd in (("dmesg.txt", "dmesg | tail -n 150 | sed 's/^/| /'"),
                          ("xl-list.txt", "xl list"),
                          ("%s-list.txt" % self.toolstack,
                           "%s list" % self.tool_cmd),
                          ("xl-dmesg.txt",
                           "xl dmesg | tail -n 80 | sed 's/^/| /'"),
                          ("guest-logs.txt",
                           "for f in /var/log/xen/console/*.log "
                           "/var/log/xen/*.log; do [ -f $f ] || continue; "
                           "echo \"==> $f\"; tail -n 80 $f; done"),
                          # the boots' kernel messages, which the tails
                          # above have scrolled past
                          ("guest-boots.txt",
                           "for f in /var/log/xen/console/*.log "
                           "/var/log/xen/qemu-dm-*.log; do [ -f $f ] || "
                           "continue; echo \"==> $f\"; grep -v "
                           "'^DOMU-' $f | head -n 600; done")):
            try:
                out = self.sh(cmd, record=False, timeout=60,
                              expect_rc=None)["out"]
            except StepFailed:
                return
            with open(os.path.join(d, what), "w") as f:
                f.write(out + "\n")
        self.doctor(d)

    def doctor(self, d):
        """`xpt doctor --json` in dom0 after the scenario, whichever
        toolstack ran it: the host's readiness and what the scenario left
        behind (leftover markers, backends), into dom0/xpt-doctor.json and
        the result's facts.  Best effort, and last: a doctor that hangs
        costs only itself."""
        if not self.xpt_cmd:
            return
        try:
            step = self.sh("%s doctor --json" % self.xpt_cmd, record=False,
                           timeout=60, expect_rc=None)
        except StepFailed as e:
            self.facts["doctor"] = {"error": str(e.got)[:200]}
            return
        with open(os.path.join(d, "xpt-doctor.json"), "w") as f:
            f.write(step["out"] + "\n")
        try:
            r = json.loads(step["out"])
            self.facts["doctor"] = {
                "result": r["result"], "counts": r["counts"],
                "not_passed": ["%s %s %s: %s" % (c["status"].upper(),
                                                 c["check"], c["object"],
                                                 c["detail"][:160])
                               for c in r["checks"]
                               if c["status"] != "pass"]}
        except (ValueError, KeyError, TypeError) as e:
            self.facts["doctor"] = {"error": "rc %s, not its JSON (%s)"
                                    % (step["rc"], e)}

    def stop(self):
        if self.qemu is not None:
            self.qemu.kill()
        try:
            os.unlink(os.path.join(self.rundir, "vblk.img"))
        except FileNotFoundError:
            pass


class Column:
    """One column of the results: a Xen version (its image) and a
    toolstack (xl, or the project's xpt)."""

    def __init__(self, img, toolstack, opts):
        self.img = img
        self.xen = image_version(img)
        self.toolstack = toolstack
        self.tool_cmd = "xl"
        self.files = list(opts.dom0_file)
        # xpt goes into every column's dom0 when given (the speed scenario
        # runs both toolstacks on one host); the column's scenarios use
        # tool_cmd only
        self.xpt_cmd = None
        if opts.xpt:
            # -q: dom0's shell is the serial console, a terminal, where
            # xpt's progress of long waits (slow under TCG) would be
            # rewritten lines in the steps' recorded output
            self.xpt_cmd = " ".join(["xpt", "-q"] + opts.xpt_arg)
            bins = dict(v.split("=", 1) for v in opts.xpt_for)
            self.files.append("%s:/usr/local/bin/xpt" %
                              bins.get(self.xen, opts.xpt))
        if toolstack == "xpt":
            self.tool_cmd = self.xpt_cmd
        self.label = "%s %s" % (self.xen, toolstack)
        self.dirname = "%s-%s" % (self.xen, toolstack)


def image_version(img):
    """The Xen version an image was assembled for (its versions file)."""
    try:
        with open(os.path.join(img, "versions")) as f:
            for ln in f:
                w = ln.split()
                if len(w) == 2 and w[0] == "xen":
                    return w[1]
    except FileNotFoundError:
        pass
    return "4.17"


def build_initrd(opts, column, rundir, hvm=False, stubdom=False, extra=()):
    """dom0's initramfs: the assembled one, then for an HVM scenario the
    assembled HVM part (dom0-hvm.cpio.gz: the device model and what it
    needs), for a stub-domain scenario also dom0-stubdom.cpio.gz (the stub
    domain's initramfs, xen-pciback's passthrough=1), then an overlay cpio
    when the caller adds files (the xpt binary, --dom0-file) or picks
    another xenstored; extra: more SRC:/DEST files (a scenario's
    helpers)."""
    base = os.path.join(column.img, "dom0.cpio.gz")
    parts = [base]
    for want, f, what in ((hvm, "dom0-hvm.cpio.gz", "the HVM device model"),
                          (stubdom, "dom0-stubdom.cpio.gz",
                           "the Linux stub domain")):
        if not want:
            continue
        h = os.path.join(column.img, f)
        if not os.path.exists(h):
            raise StepFailed({"step": "boot: Xen and dom0 up (DOM0-READY)",
                              "cmd": "assemble"},
                             "%s in Xen %s's images (img/%s)" %
                             (what, column.xen, f),
                             "none: assemble.sh did not build it (no "
                             "qemu-system-xen known to apt?)",
                             shell_alive=False)
        parts.append(h)
    files = list(column.files) + list(extra)
    xenstored = opts.xenstored
    if not xenstored and opts.trace:
        # Debian's C xenstored, as dom0-init starts it, with its trace log
        # (every request and reply, connection created and destroyed):
        # Lab.fetch_trace() brings it back, `xpt trace` draws it.
        xenstored = ("xenstored --pid-file=/run/xenstored.pid -T %s"
                     % TRACE_LOG)
    if not files and not xenstored:
        if len(parts) == 1:
            return base
        out = os.path.join(rundir, "dom0.cpio.gz")
        with open(out, "wb") as o:
            for p in parts:
                with open(p, "rb") as i:
                    shutil.copyfileobj(i, o)
        return out
    tree = os.path.join(rundir, "overlay")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, "etc", "lab"))
    # Libraries dom0 has, by name (Debian 12 keeps them in /lib, Debian 13
    # in /usr/lib; the image copies them all to /lib).
    have = set()
    manifest = os.path.join(column.img, "dom0.files")
    if os.path.exists(manifest):
        with open(manifest) as f:
            have = {os.path.basename(ln.strip()) for ln in f
                    if "x86_64-linux-gnu/" in ln}
    for spec in files:
        src, sep, dest = spec.partition(":")
        if not sep or not dest.startswith("/"):
            raise SystemExit("lab: --dom0-file wants SRC:/ABS/DEST, got %r"
                             % spec)
        _overlay_add(tree, src, dest)
        for lib in _elf_libs(src):
            d = "/lib/x86_64-linux-gnu/" + os.path.basename(lib)
            if os.path.basename(lib) not in have and \
                    not os.path.exists(tree + d):
                _overlay_add(tree, lib, d)
    if xenstored:
        with open(os.path.join(tree, "etc", "lab", "dom0.conf"), "w") as f:
            f.write("XENSTORED=%s\n" % _shquote(xenstored))
    extra = os.path.join(rundir, "overlay.cpio.gz")
    mkcpio.pack(tree, extra)
    out = os.path.join(rundir, "dom0.cpio.gz")
    with open(out, "wb") as o:
        for p in parts + [extra]:
            with open(p, "rb") as i:
                shutil.copyfileobj(i, o)
    return out


def _shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def _overlay_add(tree, src, dest):
    dst = os.path.join(tree, dest.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy(src, dst)


def _elf_libs(path):
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return []
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    return re.findall(r"=> (/\S+)", r.stdout)


def verdict(name, toolstack, lab, failure):
    """PASS, FAIL, or for a scenario where upstream xl is known to break
    (scenarios.SCENARIOS[name][3]): XFAIL when xl broke in at least one
    round, as expected, and XPASS, a failed expectation, when it did not."""
    if failure is not None:
        return "FAIL"
    bad = sum(1 for r in lab.round_results if not r["ok"])
    if toolstack in scenarios.xfail(name):
        return "XFAIL" if bad else "XPASS"
    return "FAIL" if bad else "PASS"


def round_counts(lab):
    """How many rounds passed, and in how many rounds each check broke."""
    by = {}
    for r in lab.round_results:
        for step in {f["step"] for f in r["failures"]}:
            by[step] = by.get(step, 0) + 1
    ok = sum(1 for r in lab.round_results if r["ok"])
    return {"rounds": len(lab.round_results), "passed": ok,
            "failed": len(lab.round_results) - ok, "broken_checks": by}


def helper_files(opts, func):
    """SRC:/usr/local/bin/NAME for each of the scenario's dom0_helpers
    (static binaries lab.sh builds and names with --helper NAME=PATH)."""
    have = dict(h.split("=", 1) for h in opts.helper)
    out = []
    for h in getattr(func, "dom0_helpers", ()):
        src = have.get(h)
        if not src or not os.access(src, os.X_OK):
            raise StepFailed({"step": "boot: Xen and dom0 up (DOM0-READY)",
                              "cmd": "lab.sh: cc -static lab/%s.c" % h},
                             "the dom0 helper %s, built by lab.sh "
                             "(--helper %s=PATH)" % (h, h),
                             "none (no C compiler with a static libc? "
                             "see %s)" % (src or "lab.sh's output"),
                             shell_alive=False)
        out.append("%s:/usr/local/bin/%s" % (src, h))
    return out


def render_traces(opts, rundir, facts):
    """Each boot's store trace log drawn by the host's `xpt trace`: the
    PCI protocol of every domain as a page (trace/boot-N.html) and as text
    (trace/boot-N.txt).  Best effort: what could not be drawn is noted in
    the facts."""
    logs = facts.get("trace_logs") or []
    if not logs:
        return
    if not (opts.trace_xpt and os.access(opts.trace_xpt, os.X_OK)):
        facts["trace_pages"] = "not drawn: no host xpt (--trace-xpt)"
        return
    pages = []
    for t in logs:
        log = os.path.join(rundir, t["file"])
        base = log[:-len(".log")]
        for fmt, ext in (("--html", ".html"), ("--text", ".txt")):
            argv = [opts.trace_xpt, "trace", "-o", base + ext, log]
            if fmt != "--text":
                argv.insert(2, fmt)
            try:
                p = subprocess.run(argv, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=120)
                ok, why = p.returncode == 0, p.stdout.decode(
                    errors="replace")[-300:]
            except (OSError, subprocess.TimeoutExpired) as e:
                ok, why = False, str(e)
            if ok:
                pages.append(os.path.relpath(base + ext, rundir))
            else:
                facts.setdefault("trace_not_drawn", []).append(
                    "%s %s: %s" % (t["file"], fmt, why.strip()))
    facts["trace_pages"] = pages


def run_scenario(opts, name, column, outdir):
    rundir = os.path.join(outdir, name)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    func, desc = scenarios.SCENARIOS[name][:2]
    hvm = bool(getattr(func, "hvm", False))
    stubdom = bool(getattr(func, "stubdom", False))
    pvh = bool(getattr(func, "pvh_dom0", False))
    lab = Lab(opts, rundir, column, hvm=hvm, pvh_dom0=pvh)
    result = {"scenario": name, "description": desc, "xen": column.xen,
              "toolstack": column.toolstack, "tool_cmd": column.tool_cmd,
              "result": "FAIL"}
    if pvh:
        result["dom0"] = "pvh"
    # A scenario for some Xen versions only (.needs_xen): SKIP elsewhere,
    # with the reason; never a PASS.
    need = getattr(func, "needs_xen", None)
    if need and column.xen not in need:
        result.update(result="SKIP", seconds=0.0, facts={}, steps=[],
                      skip="needs Xen %s (%s); this run is Xen %s" % (
                          " or ".join(need), getattr(func, "needs_why", ""),
                          column.xen))
        with open(os.path.join(rundir, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
        print("lab: SKIP %s: %s" % (name, result["skip"]), file=sys.stderr)
        return result
    if hvm:
        result["guest_type"] = "hvm"
        result["cpu"] = lab.cpu
    xf = scenarios.xfail(name).get(column.toolstack)
    if xf:
        result["expect"] = "fails as upstream: " + xf
    t0 = time.monotonic()
    failure = None
    try:
        try:
            lab.initrd = build_initrd(opts, column, rundir, hvm, stubdom,
                                      helper_files(opts, func))
            lab.boot()
            func(lab)
        except Exception as e:  # noqa: BLE001 -- a lab bug fails the scenario
            if isinstance(e, Abort):
                raise
            if not isinstance(e, StepFailed):
                last = lab.steps[-1] if lab.steps else {"step": "start"}
                e = StepFailed(last, "the scenario to run to its end",
                               "the lab's scenario code failed after this "
                               "step:\n" + traceback.format_exc(),
                               shell_alive=lab.qemu is not None)
            failure = e
            result["failure"] = {"step": e.step.get("step"),
                                 "cmd": e.step.get("cmd"),
                                 "expected": e.expected, "got": e.got,
                                 "console": e.excerpt}
        if (hvm or pvh) and lab.qemu is not None:
            # HVM guests that crashed (the toolstack may have restarted
            # them without the scenario noticing): Xen's console says so.
            tf = sorted(set(re.findall(
                r"\(XEN\) (d[0-9]+v[0-9]+ Triple fault[^\r\n]*)",
                lab.qemu.text(0))))
            if tf:
                lab.facts["hvm_triple_faults"] = tf
        result["result"] = verdict(name, column.toolstack, lab, failure)
        if lab.qemu and (failure is None or failure.shell_alive):
            lab.collect()
    except Abort:
        result["result"] = "ABORTED"
    finally:
        STOPPING[0] = True
        lab.stop()
        STOPPING[0] = False
    result["seconds"] = round(time.monotonic() - t0, 1)
    if lab.round_results:
        result["counts"] = round_counts(lab)
        result["rounds"] = lab.round_results
    render_traces(opts, rundir, lab.facts)
    result["facts"] = lab.facts
    result["steps"] = lab.steps
    with open(os.path.join(rundir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    if failure is not None:
        print("lab: FAIL %s at step %r" % (name, failure.step.get("step")),
              file=sys.stderr)
        if failure.step.get("cmd"):
            print("  command:  %s" % failure.step["cmd"], file=sys.stderr)
        print("  expected: %s" % failure.expected, file=sys.stderr)
        print("  got:      %s" % failure.got.replace("\n", "\n            "),
              file=sys.stderr)
        if failure.excerpt:
            print("  relevant console lines:", file=sys.stderr)
            for ln in failure.excerpt.splitlines():
                print("    | " + ln, file=sys.stderr)
        print("  details:  %s/result.json, serial.log" % rundir,
              file=sys.stderr)
    elif result["result"] in ("FAIL", "XPASS"):
        c = result["counts"]
        print("lab: %s %s: %d of %d rounds broke %s" % (
            result["result"], name, c["failed"], c["rounds"],
            "(expected: %s)" % xf if xf else "; broken checks: %s" %
            ", ".join("%s (%d)" % kv for kv in c["broken_checks"].items())),
            file=sys.stderr)
    return result


# -- the table ---------------------------------------------------------------

QUIET = ("xenstore dump: ", "dom0 shell answers")


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _steps(result):
    """result's steps by name (the round prefix dropped): [ok...], [s...]."""
    out = {}
    for st in result.get("steps", []):
        n = ROUND.sub("", st["step"])
        if n.startswith(QUIET):
            continue
        ok, secs = out.setdefault(n, ([], []))
        ok.append(bool(st.get("ok")))
        secs.append(st.get("seconds") or 0.0)
    return out


def _cell_scenario(r):
    if r is None:
        return "-"
    if r["result"] == "SKIP":
        return "SKIP"
    c = r.get("counts")
    if c and r["result"] in ("PASS", "FAIL", "XFAIL", "XPASS"):
        return "%s %d/%d %.0f" % (r["result"], c["failed"] if r["result"] in
                                  ("XFAIL", "FAIL") else c["passed"],
                                  c["rounds"], r["seconds"])
    return "%s %.1f" % (r["result"], r["seconds"])


def _cell_step(v):
    if v is None:
        return "-"
    ok, secs = v
    if len(ok) == 1:
        return "%s %.2f" % ("ok" if ok[0] else "FAIL", secs[0])
    return "%d/%d %.2f" % (sum(ok), len(ok), _median(secs))


def table(columns, results, names, steps=True):
    """One table: a row per scenario (result, rounds that passed or, for
    FAIL and XFAIL, broke, seconds) and under it a row per step (ok or
    FAIL and seconds; over rounds: ok/total and the median), a column per
    Xen version and toolstack."""
    w = 50
    cw = max(16, max(len(c.label) for c in columns) + 2)
    lines = []
    hdr = "%-*s" % (w, "scenario / step")
    for c in columns:
        hdr += " %-*s" % (cw, c.label)
    lines.append(hdr.rstrip())
    for n in names:
        row = "%-*s" % (w, n)
        for c in columns:
            row += " %-*s" % (cw, _cell_scenario(results.get((n, c.label))))
        lines.append(row.rstrip())
        if not steps:
            continue
        per = [_steps(results[(n, c.label)]) if (n, c.label) in results
               else {} for c in columns]
        order = []
        for p in per:
            for k in p:
                if k not in order:
                    order.append(k)
        for k in order:
            label = "  " + (k if len(k) <= w - 2 else k[:w - 5] + "...")
            row = "%-*s" % (w, label)
            for p in per:
                row += " %-*s" % (cw, _cell_step(p.get(k)))
            lines.append(row.rstrip())
    return "\n".join(lines)


OPS = (("create-2", "create, 2 devices"), ("create-0", "create, no device"),
       ("attach", "pci-attach"), ("detach", "pci-detach"),
       ("destroy-live", "destroy, live frontend"),
       ("destroy-dead", "destroy, dead frontend"),
       # HVM guests (scenarios_hvm.py): device model in dom0
       ("hvm-create-2", "HVM create, 2 devices"),
       ("hvm-create-0", "HVM create, no device"),
       ("hvm-create-1", "HVM create, 1 device"),
       ("hvm-attach", "HVM pci-attach"), ("hvm-detach", "HVM pci-detach"),
       ("hvm-destroy-live", "HVM destroy, guest running"),
       ("hvm-destroy-hung-dm", "HVM destroy, device model stopped"),
       # HVM guests with a Linux stub domain (scenarios_stubdom.py)
       ("stubdom-create-2", "stub-domain create, 2 devices"),
       ("stubdom-create-1", "stub-domain create, 1 device"),
       ("stubdom-create-0", "stub-domain create, no device"),
       ("stubdom-attach", "stub-domain pci-attach"),
       ("stubdom-detach", "stub-domain pci-detach"),
       ("stubdom-reboot", "stub-domain reboot"),
       ("stubdom-destroy", "stub-domain destroy"))


def op_table(columns, results):
    """Median seconds per toolstack operation (steps tagged op=...)."""
    w = 36
    cw = max(16, max(len(c.label) for c in columns) + 2)
    lines = ["%-*s" % (w, "operation: median s (n)") +
             "".join(" %-*s" % (cw, c.label) for c in columns).rstrip()]
    any_op = False
    for op, label in OPS:
        row = "%-*s" % (w, label)
        for c in columns:
            # Race rounds time their commands under contention: only the
            # dead-frontend destroy (and the HVM hung-device-model
            # destroy) is measured there.  The stub-domain rounds race
            # nothing (they hold what xl is expected to fail).
            xs = [st["seconds"] for (n, lab), r in results.items()
                  if lab == c.label for st in r.get("steps", [])
                  if st.get("op") == op and st.get("rc") == 0 and
                  ("round" not in st or op.startswith("stubdom-") or
                   op in ("destroy-dead", "hvm-destroy-hung-dm"))]
            any_op = any_op or bool(xs)
            row += " %-*s" % (cw, "%.2f (%d)" % (_median(xs), len(xs))
                              if xs else "-")
        lines.append(row.rstrip())
    return "\n".join(lines) if any_op else ""


def doctor_table(columns, results, names):
    """What `xpt doctor` found in dom0 after each scenario (Lab.doctor):
    a row per scenario, a column per Xen version and toolstack ("ok",
    "warn N", "FAIL N", "-" not run); then every check that did not pass,
    by scenario and column."""
    def cell(d):
        if not d:
            return "-"
        if "error" in d:
            return "error"
        n = d.get("counts", {})
        if n.get("fail"):
            return "FAIL %d" % n["fail"]
        if n.get("warn"):
            return "warn %d" % n["warn"]
        return "ok"

    docs = {k: r.get("facts", {}).get("doctor") for k, r in results.items()}
    if not any(docs.values()):
        return ""
    w = 50
    cw = max(16, max(len(c.label) for c in columns) + 2)
    hdr = "%-*s" % (w, "xpt doctor after the scenario")
    for c in columns:
        hdr += " %-*s" % (cw, c.label)
    lines = [hdr.rstrip()]
    for n in names:
        row = "%-*s" % (w, n)
        for c in columns:
            row += " %-*s" % (cw, cell(docs.get((n, c.label))))
        lines.append(row.rstrip())
    for n in names:
        for c in columns:
            d = docs.get((n, c.label)) or {}
            for line in d.get("not_passed", []) + (
                    [d["error"]] if "error" in d else []):
                lines.append("  %s [%s]: %s" % (n, c.label, line))
    return "\n".join(lines)


def speed_table(columns, results):
    """The speed scenario's figures: per operation, xl's and xpt's median
    seconds (timed in dom0) on one host, and xpt/xl."""
    lines = []
    for (name, ops), c in ((t, c) for t in scenarios.SPEED_TABLES
                           for c in columns):
        r = results.get((name, c.label))
        sp = (r or {}).get("facts", {}).get("speed")
        if not sp:
            continue
        lines.append("%s on %s, one host, timed in dom0: median s (n)"
                     % (name, c.xen))
        lines.append("%-36s %-12s %-12s %s" % ("operation", "xl", "xpt",
                                                "xpt/xl"))
        for op, label in ops:
            xl = sp.get(op, {}).get("xl", [])
            xp = sp.get(op, {}).get("xpt", [])
            cell = lambda xs: "%.2f (%d)" % (_median(xs), len(xs)) \
                if xs else "-"
            ratio = "%.2f" % (_median(xp) / _median(xl)) \
                if xl and xp and _median(xl) > 0 else "-"
            lines.append("%-36s %-12s %-12s %s" % (label, cell(xl),
                                                    cell(xp), ratio))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--img", required=True, action="append",
                    help="assembled image dir (one per Xen version)")
    ap.add_argument("--out", required=True, help="run output dir")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--toolstack", default="xl",
                    help="xl, xpt, or both (xl,xpt)")
    ap.add_argument("--xpt", help="the xpt binary (for --toolstack xpt)")
    ap.add_argument("--xpt-for", action="append", default=[],
                    metavar="VERSION=BIN", help="the xpt binary for the "
                    "images of one Xen version (built against its "
                    "libraries; lab/build-xpt.sh)")
    ap.add_argument("--xpt-arg", action="append", default=[],
                    help="an argument xpt gets before its command")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of each race scenario")
    ap.add_argument("--virtio-bypass", action="store_true",
                    help="the virtio-blk as before: transitional, its DMA "
                    "bypassing the emulated IOMMU (for comparison)")
    ap.add_argument("--probe", metavar="FILE",
                    help="for the probe scenario: commands to run in dom0, "
                    "one per line")
    ap.add_argument("--boot-timeout", type=int, default=300)
    ap.add_argument("--guest-timeout", type=int, default=240)
    ap.add_argument("--dom0-file", action="append", default=[],
                    metavar="SRC:DEST", help="add a file to dom0")
    ap.add_argument("--xenstored", help="dom0's xenstored command line")
    ap.add_argument("--no-trace", dest="trace", action="store_false",
                    help="no store trace log (C xenstored -T) per scenario")
    ap.add_argument("--trace-xpt", metavar="BIN",
                    help="the host's xpt that draws each scenario's trace "
                    "(xpt trace: RUNDIR/trace/*.html and *.txt)")
    ap.add_argument("--helper", action="append", default=[],
                    metavar="NAME=PATH", help="a static dom0 helper a "
                    "scenario asks for (.dom0_helpers); lab.sh builds them")
    ap.add_argument("--list", action="store_true", help="list scenarios")
    ap.add_argument("scenario", nargs="*")
    opts = ap.parse_args()
    if opts.list:
        for n, s in scenarios.SCENARIOS.items():
            xf = scenarios.xfail(n)
            print("%-24s %s%s%s" % (n, s[1], "" if s[2] else
                                    " (not in 'all')",
                                    " [xl fails as upstream]" if xf else ""))
        return 0
    names = opts.scenario or [n for n, s in scenarios.SCENARIOS.items()
                              if s[2]]
    for n in names:
        if n not in scenarios.SCENARIOS:
            print("lab: unknown scenario %r (try --list)" % n,
                  file=sys.stderr)
            return 2
    tss = {"both": ["xl", "xpt"]}.get(opts.toolstack,
                                       opts.toolstack.split(","))
    for ts in tss:
        if ts not in ("xl", "xpt"):
            print("lab: unknown toolstack %r (xl, xpt or both)" % ts,
                  file=sys.stderr)
            return 2
    if "xpt" in tss and not (opts.xpt and os.access(opts.xpt, os.X_OK)):
        print("lab: --toolstack xpt needs --xpt BINARY (got %r)" % opts.xpt,
              file=sys.stderr)
        return 2
    columns = [Column(img, ts, opts) for img in opts.img for ts in tss]
    os.makedirs(opts.out, exist_ok=True)

    def on_signal(signum, frame):
        if not STOPPING[0]:
            raise Abort()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    # One column: OUT/<scenario>/.  Several: OUT/<xen>-<toolstack>/<scenario>/,
    # each column directory a run of its own (compare-trees.py takes two).
    def coldir(c):
        return opts.out if len(columns) == 1 else \
            os.path.join(opts.out, c.dirname)

    results = {}
    aborted = False
    try:
        for n in names:
            for c in columns:
                tag = n if len(columns) == 1 else "%s [%s]" % (n, c.label)
                print("lab: %s ..." % tag, file=sys.stderr, flush=True)
                r = run_scenario(opts, n, c, coldir(c))
                results[(n, c.label)] = r
                print("lab: %s %s (%.0fs)" % (tag, r["result"], r["seconds"]),
                      file=sys.stderr, flush=True)
                if r["result"] == "ABORTED":
                    aborted = True
                    break
            if aborted:
                break
    except Abort:
        aborted = True

    def summary_of(r):
        d = {"scenario": r["scenario"], "xen": r["xen"],
             "toolstack": r["toolstack"], "result": r["result"],
             "seconds": r["seconds"]}
        if "counts" in r:
            d["counts"] = r["counts"]
        if "skip" in r:
            d["skip"] = r["skip"]
        return d
    every = [summary_of(r) for r in results.values()]
    with open(os.path.join(opts.out, "summary.json"), "w") as f:
        json.dump(every, f, indent=1)
    if len(columns) > 1:
        for c in columns:
            if os.path.isdir(coldir(c)):
                with open(os.path.join(coldir(c), "summary.json"), "w") as f:
                    json.dump([summary_of(r) for (n, lab), r in
                               results.items() if lab == c.label], f,
                              indent=1)
    ran = [n for n in names if any((n, c.label) in results for c in columns)]
    print(table(columns, results, ran))
    ops = op_table(columns, results)
    if ops:
        print()
        print(ops)
    sp = speed_table(columns, results)
    if sp:
        print()
        print(sp)
    dt = doctor_table(columns, results, ran)
    if dt:
        print()
        print(dt)
    if aborted:
        return 130
    # SKIP (a scenario for another Xen version) is neither a pass nor a
    # failure; a run of SKIPs only exits 77.
    ran_any = [r for r in results.values() if r["result"] != "SKIP"]
    if results and not ran_any:
        return 77
    return 0 if ran_any and all(r["result"] in ("PASS", "XFAIL")
                                for r in ran_any) else 1


if __name__ == "__main__":
    sys.exit(main())
