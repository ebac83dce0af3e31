#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The trace page of `xpt trace --html` in a real browser: Debian's
headless Chromium loads it, and the test checks what the browser made of
it, the rendered DOM (--dump-dom) and a screenshot, against the DOM
contract at the top of src/xpt/trace-html.c.

Python rather than shell: the checks parse HTML, decode a PNG (python3-pil)
and must kill Chromium's whole process group on a deadline.

Pages:
  fixture  a struct trace built by hand (tests/trace/html-fixture.c): every
           party and kind, failures, aborted transactions, state changes on
           both sides, hostile values; its expectations come from the struct.
  cap      the fixture repeated to 6000 events: 5000 drawn, the rest named.
  broken   the fixture page spoilt on purpose (arrows removed; a value
           unescaped; the failed arrows painted black by a stylesheet, which
           only the picture shows): the checks must fail, or they prove
           nothing.
  xpt      (with --xpt) the page `xpt trace --html` makes of a modelled
           host's access log; see tests/trace/meson.build.
  logs     (with --xpt) its pages of the saved logs in tests/data/trace: a
           hostile access log (markup and control bytes in paths, values
           and a domain's name), Debian's C xenstored's trace, and the
           real-Xen lab's trace of three concurrent xl pci-attach.

usage: browser.py FIXTURE [--xpt XPT HOSTFILE DATADIR DAEMON-DIRS...]
Exit 77 (skipped) when Chromium or python3-pil is missing, naming the
package to install.
"""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser

CHROMIUM_TIMEOUT = 120   # a cold start on a loaded machine takes seconds
RED = (0xd0, 0x00, 0x00)


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []
        self.text = ""

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag=None, cls=None):
        return [e for e in self.iter()
                if (tag is None or e.tag == tag)
                and (cls is None or cls in e.attrs.get("class", "").split())]

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


VOID = {"meta", "link", "br", "hr", "img", "input", "area", "base", "col",
        "embed", "source", "track", "wbr"}


class Tree(HTMLParser):
    """The serialised DOM back as a tree (Chromium closes every element)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, attrs, self.cur)
        self.cur.children.append(e)
        if tag not in VOID:
            self.cur = e

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Element(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        e = self.cur
        while e is not self.root and e.tag != tag:
            e = e.parent
        if e is not self.root:
            self.cur = e.parent

    def handle_data(self, data):
        self.cur.text += data


def parse(html):
    t = Tree()
    t.feed(html)
    t.close()
    return t.root


class Chromium:
    def __init__(self, exe, tmp):
        self.exe = exe
        self.tmp = tmp
        self.runs = 0

    def run(self, url, extra):
        """Chromium on url, its own profile, killed with its whole process
        group when done or on the deadline.  Its stdout."""
        self.runs += 1
        profile = os.path.join(self.tmp, "profile-%d" % self.runs)
        cmd = [self.exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--user-data-dir=" + profile, "--no-first-run",
               "--disable-extensions", "--disable-background-networking",
               "--disable-dev-shm-usage", "--force-device-scale-factor=1",
               "--hide-scrollbars"] + extra + [url]
        errf = open(os.path.join(self.tmp, "chromium-%d.err" % self.runs), "w+")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf,
                             start_new_session=True)
        start = time.monotonic()
        try:
            out, _ = p.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            out = None
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        errf.seek(0)
        err = errf.read()
        errf.close()
        took = time.monotonic() - start
        if out is None:
            raise RuntimeError("chromium did not finish %s within %d s; its stderr:\n%s"
                               % (url, CHROMIUM_TIMEOUT, err[-3000:]))
        if p.returncode != 0:
            raise RuntimeError("chromium exited %d on %s; its stderr:\n%s"
                               % (p.returncode, url, err[-3000:]))
        print("  chromium %s: %.1f s" % (" ".join(a for a in extra if a.startswith("--")
                                                    and "window" not in a), took))
        return out.decode("utf-8", "replace")

    def dom(self, path, fragment=""):
        # A virtual-time budget lets the page's scripts, and any that should
        # never have been there, run before the DOM is dumped.
        return self.run("file://" + path + fragment,
                        ["--virtual-time-budget=3000", "--dump-dom"])

    def screenshot(self, path, png, width, height):
        self.run("file://" + path, ["--screenshot=" + png,
                                    "--window-size=%d,%d" % (width, height)])
        if not os.path.exists(png):
            raise RuntimeError("chromium wrote no screenshot " + png)


def hexcolour(s):
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))


class Checks:
    """Collects failures instead of stopping at the first: a broken page
    must be seen to fail for the right reasons."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.n = 0

    def check(self, ok, what):
        self.n += 1
        if not ok:
            self.failures.append(what)
        return ok


def check_dom(c, root, exp, title):
    """The rendered DOM against the expectations (the fixture's struct, or
    xpt trace --json)."""
    titles = root.find_all("title")
    page_title = titles[0].all_text() if titles else ""
    c.check(page_title == title,
            "the page's title is %r, not %r: a script from the log ran?" % (page_title, title))
    svgs = [e for e in root.find_all("svg") if e.attrs.get("id") == "timeline"]
    if not c.check(len(svgs) == 1, "%d <svg id=\"timeline\">, not 1" % len(svgs)):
        return
    svg = svgs[0]

    lanes = svg.find_all("g", "lane")
    c.check(len(lanes) == len(exp["lanes"]),
            "%d lanes drawn, the trace has %d" % (len(lanes), len(exp["lanes"])))
    for i, (g, want) in enumerate(zip(lanes, exp["lanes"])):
        got = (g.attrs.get("data-party"), g.attrs.get("data-domid"), g.attrs.get("data-name"))
        c.check(got == (want["party"], str(want["domid"]), want["name"]),
                "lane %d is %r, not %r" % (i, got, (want["party"], str(want["domid"]),
                                                   want["name"])))
        c.check(any(r.attrs.get("class") == "head" for r in g.find_all("rect")),
                "lane %d has no header" % i)

    arrows = svg.find_all("g", "arrow")
    c.check(len(arrows) == len(exp["arrows"]),
            "%d arrows drawn, %d expected" % (len(arrows), len(exp["arrows"])))
    kinds = {}
    for g in arrows:
        kinds[g.attrs.get("data-kind")] = kinds.get(g.attrs.get("data-kind"), 0) + 1
    want_kinds = {k: n for k, n in exp["kinds"].items() if n}
    c.check(kinds == want_kinds, "arrows per kind %r, expected %r" % (kinds, want_kinds))
    bad = []
    for g, want in zip(arrows, exp["arrows"]):
        got = {"kind": g.attrs.get("data-kind"), "from": g.attrs.get("data-from"),
               "to": g.attrs.get("data-to"), "line": g.attrs.get("data-line"),
               "tx": g.attrs.get("data-tx"), "failed": g.attrs.get("data-failed") == "1",
               "absent": g.attrs.get("data-absent") == "1",
               "aborted": g.attrs.get("data-aborted") == "1"}
        w = {k: (str(v) if not isinstance(v, bool) else v) for k, v in want.items()}
        shapes = g.find_all("line") + g.find_all("path")
        label = "".join(t.all_text() for t in g.find_all("text"))
        if got != w or not shapes or not label.strip():
            bad.append((got, w, len(shapes), label))
            continue
        colour = shapes[0].attrs.get("stroke", "").lower()
        if w["failed"] and not w["absent"] and (colour != "#d00000" or "\u2717" not in label):
            bad.append(("failed arrow not red and marked", colour, label))
        if w["absent"] and (colour == "#d00000" or "not there" not in label):
            bad.append(("a removal of a node not there drawn as a failure", colour, label))
        if w["aborted"] and not shapes[0].attrs.get("stroke-dasharray"):
            bad.append(("aborted arrow not dashed", label))
    c.check(not bad, "arrows unlike the trace's events (first of %d): %r"
            % (len(bad), bad[:1]))
    nfailed = sum(1 for a in exp["arrows"] if a["failed"])
    naborted = sum(1 for a in exp["arrows"] if a["aborted"])
    c.check(len([g for g in arrows if g.attrs.get("data-failed") == "1"]) == nfailed,
            "failed marks differ from the %d failed requests" % nfailed)
    nabsent = sum(1 for a in exp["arrows"] if a.get("absent"))
    c.check(len([g for g in arrows if g.attrs.get("data-absent") == "1"]) == nabsent,
            "absent marks differ from the %d removals of nodes not there" % nabsent)
    c.check(len([g for g in arrows if g.attrs.get("data-aborted") == "1"]) == naborted,
            "aborted marks differ from the %d events of aborted transactions" % naborted)
    aborted_tx = {(a["from"] or a["to"], a["tx"]) for a in exp["arrows"] if a["aborted"]}
    spans = [g for g in svg.find_all("g", "txspan") if g.attrs.get("data-aborted") == "1"]
    c.check(len(spans) == len(aborted_tx), "%d aborted transactions bracketed, expected %d"
            % (len(spans), len(aborted_tx)))

    if "gaps" in exp:
        gaps = svg.find_all("g", "gap")
        c.check(len(gaps) == exp["gaps"], "%d pauses drawn, %d expected" % (len(gaps), exp["gaps"]))

    states = svg.find_all("g", "state")
    got = [{"lane": int(g.attrs.get("data-lane", -9)), "dev": int(g.attrs.get("data-dev", -9)),
            "from": int(g.attrs.get("data-from", -9)), "to": int(g.attrs.get("data-to", -9))}
           for g in states]
    c.check(got == exp["states"], "state boxes %r, expected %r" % (got[:4], exp["states"][:4]))
    names = ["Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing",
             "Closed", "Reconfiguring", "Reconfigured"]
    for g, want in zip(states, exp["states"]):
        text = "".join(t.all_text() for t in g.find_all("text"))
        if not (g.find_all("rect") and 0 <= want["to"] <= 8 and names[want["to"]] in text):
            c.check(False, "state box %r shows %r" % (want, text))
            break
    c.check(len(root.find_all("table")) >= 1 and
            any(t.attrs.get("id") == "summary" for t in root.find_all("table")),
            "no summary table")

    # Self-contained: nothing to fetch (no src or href, no <link>, no url()
    # but the page's own #markers).
    fetch = [(e.tag, a, v) for e in root.iter() for a, v in e.attrs.items()
             if a in ("src", "href", "xlink:href", "srcset", "data", "poster")]
    fetch += [("link", "", "")] * len(root.find_all("link"))
    urls = [u for e in root.iter() for v in list(e.attrs.values()) + [e.text]
            for u in re.findall(r"url\(([^)]*)\)", v or "") if not u.startswith("#")]
    c.check(not fetch and not urls, "the page would fetch %r %r" % (fetch[:3], urls[:3]))

    # Nothing from a value became markup, and only the page's script is there.
    scripts = root.find_all("script")
    c.check(len(scripts) <= 1 and all("pwned" not in s.all_text() for s in scripts),
            "%d <script> elements, one from a value: %r"
            % (len(scripts), [s.all_text()[:60] for s in scripts]))
    c.check(not root.find_all("img"), "an <img> element from a value")
    handlers = [(e.tag, a) for e in root.iter() for a in e.attrs if a.startswith("on")]
    c.check(not handlers, "event handler attributes from a value: %r" % handlers[:3])


def check_hostile(c, root):
    """The fixture's hostile strings are there, as text."""
    text = root.all_text()
    for s in ["<script>document.title='pwned'</script>",
              "\"><img src=x onerror=\"document.title='pwned'\">",
              "a\\x01b\\x1b[31mc\\x7fd\\xc2\\x85e \\xff"]:
        c.check(s in text, "the value %r is not shown as text" % s)
    c.check(any(e.attrs.get("data-name", "").startswith("other \"><script>")
                for e in root.find_all("g", "lane")),
            "the hostile lane name is not kept in data-name")


def bands(mask_rows, minlen):
    """Runs of consecutive qualifying rows: [(top, bottom)]."""
    out, top = [], None
    for y, ok in enumerate(mask_rows):
        if ok and top is None:
            top = y
        if not ok and top is not None:
            if y - top >= minlen:
                out.append((top, y - 1))
            top = None
    if top is not None and len(mask_rows) - top >= minlen:
        out.append((top, len(mask_rows) - 1))
    return out


def check_picture(c, png, root, exp):
    """The screenshot: not blank, each lane's header in its colour where
    the DOM puts it (one offset for all lanes), the failed requests' red
    spanning their two lanes, the state boxes on their writers' lanes."""
    from PIL import Image, ImageChops
    img = Image.open(png).convert("RGB")
    w, h = img.size
    small = img.resize((w // 4, h // 4))
    colours = small.getcolors(maxcolors=1 << 20) or []
    nonwhite = sum(n for n, col in colours if sum(col) < 3 * 245)
    c.check(nonwhite > 0.02 * (w // 4) * (h // 4) and len(colours) > 50,
            "the screenshot is nearly blank (%d non-white of %d, %d colours)"
            % (nonwhite, (w // 4) * (h // 4), len(colours)))

    masks = {}

    def mask(col, tol=10):
        """255 where the picture has colour col (each channel within tol)."""
        if (col, tol) not in masks:
            masks[col, tol] = make_mask(col, tol)
        return masks[col, tol]

    def make_mask(col, tol):
        diff = ImageChops.difference(img, Image.new("RGB", img.size, col))
        r, g, b = (band.point(lambda v: 255 if v <= tol else 0) for band in diff.split())
        return ImageChops.multiply(ImageChops.multiply(r, g), b)

    def row_cover(m):
        """Per row, how many pixels the mask holds."""
        return [v * w / 255.0 for v in m.resize((1, h), Image.BOX).getdata()]

    svg = [e for e in root.find_all("svg") if e.attrs.get("id") == "timeline"]
    if not svg:
        c.check(False, "no timeline to look for in the picture")
        return
    centre = {}   # lane -> (x in the picture, x in the SVG)
    head_top = None
    # Lanes of one party share a colour: their headers are that colour's
    # runs of columns, left to right as the DOM orders them.
    by_fill = {}
    for i, g in enumerate(svg[0].find_all("g", "lane")):
        rect = [r for r in g.find_all("rect") if r.attrs.get("class") == "head"]
        if rect:
            by_fill.setdefault(rect[0].attrs["fill"], []).append((float(rect[0].attrs["x"]),
                                                                  i, rect[0]))
    for fill, lanes in sorted(by_fill.items(), key=lambda kv: min(kv[1])):
        lanes.sort()
        r = lanes[0][2]
        rw, rh = float(r.attrs["width"]), float(r.attrs["height"])
        m = mask(hexcolour(fill))
        # The headers are the first band of rows that are mostly the
        # colour (a name in white takes part of each row it crosses).
        runs = bands([n >= 0.3 * rw for n in row_cover(m)], 20)
        if not c.check(runs, "lane %d's header colour %s is nowhere in the picture"
                       % (lanes[0][1], fill)):
            continue
        top, bottom = runs[0]
        c.check(abs((bottom - top + 1) - rh) <= 4,
                "lane %d's header is %d px high in the picture, %g in the SVG"
                % (lanes[0][1], bottom - top + 1, rh))
        # The columns mostly of the colour, in runs about a header wide
        # (the edges of white text on another header can blend into a
        # near colour, in thin runs).
        bh = bottom - top + 1
        cols = [v * bh / 255.0 >= 0.5 * bh for v in
                m.crop((0, top, w, bottom + 1)).resize((w, 1), Image.BOX).getdata()]
        heads = [(x0, x1 + 1) for x0, x1 in bands(cols, 1) if x1 + 1 - x0 >= 0.8 * rw]
        if not c.check(len(heads) == len(lanes), "%d headers of colour %s in the picture, "
                       "%d lanes in the DOM" % (len(heads), fill, len(lanes))):
            continue
        for (x0, x1), (svg_x, i, r) in zip(heads, lanes):
            c.check(abs((x1 - x0) - rw) <= 4, "lane %d's header is %d px wide in the "
                    "picture, %g in the SVG" % (i, x1 - x0, rw))
            centre[i] = ((x0 + x1 - 1) / 2, svg_x + rw / 2)
        if head_top is None:
            head_top = top
        c.check(abs(top - head_top) <= 2, "lane %d's header at y %d, the first's at %d"
                % (lanes[0][1], top, head_top))
    if len(centre) < 2:
        c.check(False, "fewer than two lane headers found in the picture")
        return
    offsets = [px_x - svg_x for px_x, svg_x in centre.values()]
    c.check(max(offsets) - min(offsets) <= 4,
            "the lane headers are not where the DOM puts them (offsets %r)" % offsets)
    off = sum(offsets) / len(offsets)

    # Where the DOM puts the SVG's origin in the picture.
    heads = [r for g in svg[0].find_all("g", "lane") for r in g.find_all("rect")
             if r.attrs.get("class") == "head"]
    oy = head_top - float(heads[0].attrs["y"])

    def share(col, box, tol=10):
        """The share of the pixels of box (in SVG units) that have colour
        col, or None when the box is not in the picture."""
        x0, y0, x1, y1 = (int(round(v)) for v in (box[0] + off, box[1] + oy,
                                                    box[2] + off, box[3] + oy))
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h or x1 <= x0 or y1 <= y0:
            return None
        return mask(col, tol).crop((x0, y0, x1, y1)).histogram()[255] / \
            float((x1 - x0) * (y1 - y0))

    # Failed requests red along their line, others not; the line's rows
    # +-1 px, its ends (arrowheads, lanes) left out.
    seen = {"failed": 0, "plain": 0}
    for g in svg[0].find_all("g", "arrow"):
        lines = g.find_all("line")
        if not lines:
            continue
        ln = lines[0].attrs
        x1, x2 = sorted((float(ln["x1"]), float(ln["x2"])))
        y = float(ln["y1"])
        if x2 - x1 < 60:
            continue
        f = share(RED, (x1 + 12, y - 1, x2 - 12, y + 2))
        if f is None:
            continue
        if g.attrs.get("data-failed") == "1" and g.attrs.get("data-absent") != "1":
            seen["failed"] += 1
            # A dashed (aborted) line is red over 6 of each 10 px.
            c.check(f >= 0.4 / 3, "the failed arrow of line %s is not red in the picture "
                    "(%.0f%% red)" % (g.attrs.get("data-line"), 100 * f))
        elif seen["plain"] < 20:
            seen["plain"] += 1
            c.check(f < 0.02, "the arrow of line %s, not failed, is red in the picture"
                    % g.attrs.get("data-line"))
    nfailed = sum(1 for a in exp["arrows"] if a["failed"] and not a["absent"])
    c.check(seen["failed"] > 0 or nfailed == 0,
            "none of the %d failed arrows is in the picture" % nfailed)
    c.check(seen["plain"] > 0, "no arrow at all in the picture")

    # State boxes: filled with their state's colour where the DOM puts them.
    nbox = 0
    for g in svg[0].find_all("g", "state"):
        rect = g.find_all("rect")
        if not rect or g.attrs.get("opacity") is not None:
            continue
        r = rect[0].attrs
        x, y, rw, rh = (float(r[k]) for k in ("x", "y", "width", "height"))
        f = share(hexcolour(r["fill"]), (x + 3, y + 3, x + rw - 3, y + rh - 3), 4)
        if f is None:
            continue
        nbox += 1
        c.check(f >= 0.4, "the state box of lane %s (%s) is %.0f%% its colour in the "
                "picture" % (g.attrs.get("data-lane"), r["fill"], 100 * f))
    c.check(nbox > 0 or not exp["states"], "no state box in the picture")
    print("  picture %dx%d: %d lane headers, %d failed and %d other arrows, %d state "
          "boxes checked" % (w, h, len(centre), seen["failed"], seen["plain"], nbox))


def svg_size(root):
    svg = [e for e in root.find_all("svg") if e.attrs.get("id") == "timeline"]
    if not svg:
        return 1600, 1600
    return int(float(svg[0].attrs.get("width", 1600))), int(float(svg[0].attrs.get("height", 1600)))


def run_checks(name, chromium, page, exp, title, picture, hostile, tmp):
    c = Checks(name)
    root = parse(chromium.dom(page))
    check_dom(c, root, exp, title)
    # The picture needs no script: the page as written, before any script
    # ran, holds every lane, arrow and state box the browser's DOM holds.
    raw = parse(open(page, encoding="utf-8", errors="replace").read())
    for cls in ("lane", "arrow", "state", "txspan"):
        n, m = len(raw.find_all("g", cls)), len(root.find_all("g", cls))
        c.check(n == m, "%d %s elements in the page as written, %d after its scripts"
                % (n, cls, m))
    if hostile:
        check_hostile(c, root)
    if picture:
        sw, sh = svg_size(root)
        png = os.path.join(tmp, name + ".png")
        # Wide enough for every lane; the page's whole height up to 8000 px
        # (the checks look at what the picture holds).
        chromium.screenshot(page, png, sw + 60, min(sh + 800, 8000))
        check_picture(c, png, root, exp)
    return c


def report(c):
    for f in c.failures:
        print("  FAIL %s: %s" % (c.name, f))
    print("%s: %d checks, %d failed" % (c.name, c.n, len(c.failures)))


def spoil(page, out, how):
    html = open(page, encoding="utf-8").read()
    if how == "no-arrows":
        html, n = re.subn(r'<g class="arrow".*?</g>\n', "", html, flags=re.S)
        assert n > 0
    elif how == "unred":
        # The DOM stays right; only the picture is wrong (a stylesheet
        # paints the failed arrows black): the screenshot's checks must
        # catch what the DOM's cannot.
        html = html.replace("</style>", "#timeline .arrow[data-failed] line"
                            "{stroke:#1b1f24 !important}\n</style>", 1)
    else:
        # A writer that forgot to escape one value, on a page without the
        # Content-Security-Policy that would stop its script.
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        html = html.replace("= &lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
                            "= <script>document.title='pwned'</script>", 1)
        html = html.replace("value &quot;&gt;&lt;img src=x onerror=&quot;document.title="
                            "&#39;pwned&#39;&quot;&gt;",
                            "value \"><img src=x onerror=\"document.title='pwned'\">", 1)
    with open(out, "w", encoding="utf-8") as f:
        f.write(html)


def xpt_run(xpt, env, *args):
    r = subprocess.run([xpt] + list(args), env=env, capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError("xpt %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                       r.stderr.strip()))
    return r


def modelled_host_page(xpt, hostfile, dirs, tmp):
    """A modelled host with --access-log: a PV guest created with a device,
    a second attached and detached, an HVM guest with its device model,
    both destroyed.  The page `xpt trace --html` makes of the log, and
    the expectations from `xpt trace --json` (same log, same parser: the
    page must draw what the parser found)."""
    run = os.path.join(tmp, "host")
    log = os.path.join(tmp, "access.log")
    env = dict(os.environ, XPT_RUNDIR=run,
               PATH=":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")]))
    env.pop("XPT_LIBEXEC", None)
    xpt_run(xpt, env, "host", "start", "--host", hostfile, "--access-log", log)
    try:
        for bdf in ("03:00.0", "04:00.0", "05:00.0"):
            xpt_run(xpt, env, "pci-assignable-add", bdf)
        for name, typ, dev in (("web01", "pv", "03:00.0"), ("desk", "hvm", "05:00.0")):
            cfg = os.path.join(tmp, name + ".cfg")
            with open(cfg, "w") as f:
                f.write('name = "%s"\ntype = "%s"\nmemory = 128\npci = ["%s"]\n'
                        % (name, typ, dev))
            xpt_run(xpt, env, "create", cfg)
        xpt_run(xpt, env, "pci-attach", "web01", "04:00.0")
        xpt_run(xpt, env, "pci-detach", "web01", "04:00.0")
        xpt_run(xpt, env, "destroy", "web01")
        xpt_run(xpt, env, "destroy", "desk")
    finally:
        subprocess.run([xpt, "host", "stop"], env=env, capture_output=True, timeout=120)
    return log_page(xpt, env, log, os.path.join(tmp, "xpt.html"), [])


def log_page(xpt, env, log, page, opts):
    """The page `xpt trace --html` makes of log, and what its DOM must
    hold from `xpt trace --json` of the same log."""
    xpt_run(xpt, env, "trace", "--html", "-o", page, *(opts + [log]))
    t = json.loads(xpt_run(xpt, env, "trace", "--json", *(opts + [log])).stdout)
    dom = lambda v: -1 if v is None else v  # noqa: E731
    ev = t["events"]
    drawn = ev[:5000]
    exp = {"nevents": len(ev), "drawn": len(drawn),
           "lanes": [{"party": l["party"], "domid": dom(l["domid"]), "name": l["name"]}
                     for l in sorted(t["lanes"], key=lambda l: l["index"])],
           "arrows": [{"kind": e["kind"].replace("_", "-"), "from": e["from"], "to": e["to"],
                       "line": e["line"], "tx": e["tx"], "failed": e["failed"],
                       "absent": e["failed"] and e["kind"] == "rm" and
                       e.get("error") == "ENOENT",
                       "aborted": e["aborted"]} for e in drawn],
           "states": [{"lane": e["from"], "dev": e["state"]["dev"],
                       "from": dom(e["state"]["from"]), "to": e["state"]["to"]}
                      for e in drawn if "state" in e and e["state"]["to"] is not None],
           "gaps": sum(1 for a, b in zip(drawn, drawn[1:]) if b["t"] - a["t"] >= 0.25),
           "kinds": {}}
    for a in exp["arrows"]:
        exp["kinds"][a["kind"]] = exp["kinds"].get(a["kind"], 0) + 1
    return page, exp, "xpt trace: " + log


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    fixture = args[0]
    host = None
    if len(args) > 1:
        if args[1] != "--xpt" or len(args) < 6:
            print(__doc__)
            return 2
        host = args[2], args[3], args[5:]
        data = args[4]
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        skip("Chromium is not installed: apt-get install chromium "
             "(scripts/deps.sh check installs it as root)")
    try:
        import PIL  # noqa: F401
    except ImportError:
        skip("python3-pil is not installed: apt-get install python3-pil "
             "(scripts/deps.sh check installs it as root)")
    tmp = tempfile.mkdtemp(prefix="trace-browser-")
    chromium = Chromium(exe, tmp)
    results = []
    done = False
    try:
        page = os.path.join(tmp, "fixture.html")
        expect = os.path.join(tmp, "fixture.json")
        subprocess.run([fixture, page, expect], check=True, timeout=60)
        exp = json.load(open(expect))
        title = "xpt trace: fixture <b>bold</b>.log"
        results.append(run_checks("fixture", chromium, page, exp, title, True, True, tmp))

        # The optional script: opened as #lane=N, only lane N's arrows
        # stay undimmed (N: pcifront's lane, the fixture's third party).
        c = Checks("lane-filter")
        lane = [i for i, l in enumerate(exp["lanes"]) if l["party"] == "pcifront"][0]
        root = parse(chromium.dom(page, "#lane=%d" % lane))
        arrows = [g for s in root.find_all("svg") if s.attrs.get("id") == "timeline"
                  for g in s.find_all("g", "arrow")]
        dim = ["dim" in g.attrs.get("class", "").split() for g in arrows]
        touch = [lane in (a["from"], a["to"]) for a in exp["arrows"]]
        c.check(len(dim) == len(touch) and any(touch) and
                all(d != t for d, t in zip(dim, touch)),
                "#lane=%d dims %d arrows, %d do not touch the lane"
                % (lane, sum(dim), touch.count(False)))
        results.append(c)

        big = os.path.join(tmp, "cap.html")
        big_expect = os.path.join(tmp, "cap.json")
        subprocess.run([fixture, big, big_expect, "big"], check=True, timeout=60)
        bexp = json.load(open(big_expect))
        c = run_checks("cap", chromium, big, bexp, title, False, False, tmp)
        caps = [e for e in parse(open(big, encoding="utf-8").read()).find_all("p")
                if e.attrs.get("id") == "cap"]
        c.check(caps and "%d later events" % (bexp["nevents"] - bexp["drawn"]) in
                caps[0].all_text() and "--domain" in caps[0].all_text(),
                "the page does not say how many events it left out and how to narrow")
        results.append(c)

        # The checks must be able to fail.
        for how, picture in (("no-arrows", True), ("unescaped", False), ("unred", True)):
            bad = os.path.join(tmp, "broken-%s.html" % how)
            spoil(page, bad, how)
            c = run_checks("broken-" + how, chromium, bad, exp, title, picture, True, tmp)
            print("broken-%s (must fail): %d checks failed:" % (how, len(c.failures)))
            for f in c.failures:
                print("    " + f[:200])
            d = Checks("spoilt-" + how)
            d.check(c.failures, "a page spoilt with %s passed every check" % how)
            results.append(d)

        if host:
            page, exp, title = modelled_host_page(*host, tmp)
            c = run_checks("xpt", chromium, page, exp, title, True, False, tmp)
            parties = {l["party"] for l in exp["lanes"]}
            c.check({"store", "toolstack", "pciback", "pcifront", "dm"} <= parties,
                    "the modelled host's trace lacks a party: %s" % sorted(parties))
            c.check(any(a["failed"] for a in exp["arrows"]) and exp["states"],
                    "the modelled host's trace has no failed request or no state "
                    "change to draw")
            print("xpt: %d lanes, %d arrows, %d state boxes, %d failed (%d not there)"
                  % (len(exp["lanes"]), len(exp["arrows"]), len(exp["states"]),
                     sum(a["failed"] for a in exp["arrows"]),
                     sum(a["absent"] for a in exp["arrows"])))
            results.append(c)

            xpt, env = host[0], dict(os.environ)
            lab = os.path.join(tmp, "lab-concurrent-first-attach.log")
            with gzip.open(os.path.join(data, "lab-concurrent-first-attach.log.gz")) as g, \
                    open(lab, "wb") as f:
                f.write(g.read())
            for name, log, opts, picture in (
                    ("hostile", os.path.join(data, "hostile.log"), [], False),
                    ("hostile-d7", os.path.join(data, "hostile.log"),
                     ["--domain", "7", "--reads", "--all-paths"], False),
                    ("c-xenstored", os.path.join(data, "c-xenstored.log"), [], False),
                    ("c-xenstored-4.19", os.path.join(data, "c-xenstored-4.19.log"), [],
                     False),
                    ("lab", lab, [], True)):
                page, exp, title = log_page(xpt, env, log, os.path.join(tmp, name + ".html"),
                                            opts)
                c = run_checks(name, chromium, page, exp, title, picture, False, tmp)
                c.check(exp["arrows"], "no event in %s to draw" % log)
                if name == "hostile-d7":
                    # The domain's name, from the log, is shown as text.
                    meta = [e for e in parse(open(page, encoding="utf-8").read()).find_all("dl")
                            if e.attrs.get("id") == "meta"]
                    c.check(meta and "<script>alert(1)</script>" in meta[0].all_text(),
                            "the filtered domain's name is not in the header as text")
                print("%s: %d lanes, %d arrows, %d state boxes, %d failed (%d not there), "
                      "%d aborted"
                      % (name, len(exp["lanes"]), len(exp["arrows"]), len(exp["states"]),
                         sum(a["failed"] for a in exp["arrows"]),
                         sum(a["absent"] for a in exp["arrows"]),
                         sum(a["aborted"] for a in exp["arrows"])))
                results.append(c)
        done = True
    finally:
        failed = sum(len(c.failures) for c in results)
        # What failed is kept to look at: the pages, screenshots, Chromium's
        # stderr.
        if os.environ.get("TRACE_BROWSER_KEEP") or failed or not done:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for c in results:
        report(c)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
