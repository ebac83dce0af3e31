#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The man pages against the binaries' own --help, table-driven, so a
command, option or variable added to a binary without its page fails here:

  xpt.1  every command of `xpt --help` has an entry in COMMANDS whose tag
         names it with each option of its usage (host: each subcommand);
         every global option is in OPTIONS; every XPT_* variable the
         sources of xpt and libxpt read is in ENVIRONMENT; every exit code
         is in EXIT STATUS.
  *.8    every option of the daemon's --help is in its page, and every
         option the page's OPTIONS section lists is in --help.
  xpt.cfg.5      every key the configuration parser (src/libxpt/xlcfg.c)
                 knows is in KEYS, and every key KEYS names is known.
  xpt-pci-spec.5 every option of a PCI spec (pcispec.c's OPTION_NAMES).

usage: manpages.py XPT SRCDIR NAME=BINARY...   (page SRCDIR/docs/NAME.8)
"""
import glob
import os
import re
import subprocess
import sys

failures = []
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][-A-Za-z0-9]*)")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def plain(text):
    """roff to words: font escapes and \\- gone."""
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r"\\f\(..", "", text)
    text = text.replace("\\-", "-").replace("\\(em", "-").replace("\\ ", " ")
    return text.replace("\\&", "")


def sections(man):
    """{NAME: text} of the .SH sections"""
    out = {}
    for part in re.split(r"^\.SH ", man, flags=re.M)[1:]:
        head, _, body = part.partition("\n")
        out[head.strip().strip('"')] = body
    return out


def tags(section):
    """the tag line of each .TP entry"""
    lines = section.split("\n")
    return [lines[i + 1] for i, l in enumerate(lines[:-1]) if l.startswith(".TP")]


def help_of(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True,
                       timeout=30)
    return r.stdout + r.stderr


def help_options(text):
    opts = set()
    for line in text.split("\n"):
        s = line.strip()
        if line[:1].isspace() and s.startswith("-"):
            opts.update(OPT.findall(s))
    return opts


def check_xpt(xpt, src):
    man = plain(open(os.path.join(src, "docs", "xpt.1")).read())
    sec = sections(man)
    h = help_of(xpt)
    head, _, rest = h.partition("\nCommands:\n")
    cmdtext = rest.split("\n\n")[0]

    for o in help_options(head):
        check(o in OPT.findall(sec.get("OPTIONS", "")),
              "xpt.1 OPTIONS: no %s (xpt --help has it)" % o)
    cmd_tags = [OPT.sub(lambda m: " %s " % m.group(1), t)
                for t in tags(sec.get("COMMANDS", ""))]
    ncmds = 0
    for line in cmdtext.split("\n"):
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if not m:
            continue
        cmd, usage = m.groups()
        ncmds += 1
        words = lambda t: set(re.findall(r"[-\w]+", t))
        mine = [t for t in cmd_tags if cmd in words(t)]
        if not check(mine, "xpt.1 COMMANDS: no entry for %s" % cmd):
            continue
        alts = usage.split(" | ")
        for alt in alts:
            sub = alt.split()[0] if len(alts) > 1 else None
            entry = [t for t in mine if not sub or sub in words(t)]
            check(entry, "xpt.1 COMMANDS: no entry for %s %s" % (cmd, sub))
            for o in set(OPT.findall(alt)):
                check(any(o in OPT.findall(t) for t in entry),
                      "xpt.1 COMMANDS: %s%s's entry lacks %s (its usage "
                      "has it)" % (cmd, " " + sub if sub else "", o))
    check(ncmds >= 10, "xpt --help lists %d commands" % ncmds)

    env = set()
    for f in glob.glob(os.path.join(src, "src", "libxpt", "*.c")) + \
            glob.glob(os.path.join(src, "src", "xpt", "*.c")):
        env.update(re.findall(r'getenv\("(XPT_[A-Z_]+)"\)', open(f).read()))
    check(len(env) >= 5, "only %d XPT_* variables found in the sources" % len(env))
    for v in sorted(env):
        check(re.search(r"\b%s\b" % v, sec.get("ENVIRONMENT", "")),
              "xpt.1 ENVIRONMENT: no %s (the sources read it)" % v)

    codes = re.search(r"Exit codes: (.*)", h)
    if check(codes, "xpt --help: no exit codes"):
        for n in re.findall(r"(\d+) ", codes.group(1)):
            check(re.search(r"\b%s\b" % n, sec.get("EXIT STATUS", "")),
                  "xpt.1 EXIT STATUS: no %s" % n)


def check_daemon(name, binary, src):
    page = os.path.join(src, "docs", name + ".8")
    man = plain(open(page).read())
    in_man = set(OPT.findall(man))
    h = help_of(binary)
    hopts = help_options(h)
    check(len(hopts) >= 3, "%s --help: only %s" % (name, sorted(hopts)))
    for o in sorted(hopts):
        check(o in in_man, "%s.8: no %s (%s --help has it)" % (name, o, name))
    in_help = set(OPT.findall(h))
    for t in tags(sections(man).get("OPTIONS", "")):
        for o in OPT.findall(t):
            check(o in in_help, "%s.8 OPTIONS: %s is not in %s --help" %
                  (name, o, name))


def tag_keys(tag):
    """the keys a KEYS tag names: its words outside quotes"""
    body = tag.split(None, 1)[1] if " " in tag else ""
    outside = body.split('"')[0::2]
    return {w for part in outside for w in part.split()
            if re.match(r"^[a-z][a-z0-9_]*$", w)}


def check_formats(src):
    cfg = plain(open(os.path.join(src, "docs", "xpt.cfg.5")).read())
    keys_sec = sections(cfg).get("KEYS", "")
    parser = open(os.path.join(src, "src", "libxpt", "xlcfg.c")).read()
    known = set(re.findall(r'strcmp\(key, "([a-z0-9_]+)"\)', parser))
    check(len(known) >= 10, "xlcfg.c: only %d keys found" % len(known))
    for k in sorted(known):
        check(re.search(r"\b%s\b" % k, keys_sec),
              "xpt.cfg.5 KEYS: no %s (xlcfg.c reads it)" % k)
    for t in tags(keys_sec):
        for k in sorted(tag_keys(t)):
            check(k in known, "xpt.cfg.5 KEYS: %s is no key xlcfg.c knows" % k)
    spec = plain(open(os.path.join(src, "docs", "xpt-pci-spec.5")).read())
    m = re.search(r'#define OPTION_NAMES "([^"]*)"',
                  open(os.path.join(src, "src", "libxpt", "pcispec.c")).read())
    if check(m, "pcispec.c: no OPTION_NAMES"):
        for o in m.group(1).split(", "):
            check(re.search(r"\b%s\b" % o, spec),
                  "xpt-pci-spec.5: no %s (pcispec.c parses it)" % o)


def main():
    xpt, src = sys.argv[1:3]
    check_xpt(xpt, src)
    check_formats(src)
    pages = {os.path.basename(p)[:-2] for p in glob.glob(os.path.join(src, "docs", "*.8"))}
    given = dict(a.split("=", 1) for a in sys.argv[3:])
    check(pages == set(given), "the daemons' pages %s, binaries given %s" %
          (sorted(pages), sorted(given)))
    for name, binary in sorted(given.items()):
        check_daemon(name, binary, src)
    print("%d failure(s)" % len(failures) if failures else "all passed")
    return 1 if failures else 0


sys.exit(main())
