/* SPDX-License-Identifier: MIT */
/* PCI spec strings as xl-pci-configuration(5) writes them: parse and canonical text.
 *
 * A spec is comma-separated tokens: an optional positional BDF first,
 * "[DDDD:]BB:DD.F[@VSLOT]" (F may be '*' for all functions), then KEY=VALUE
 * options.  Exactly one of a BDF (positional or bdf=) and name= must be
 * present, as in xl.  Example:
 *
 *   "0000:03:00.*@8,rdm_policy=relaxed"
 *     -> sbdf 0x00000300, func_mask 0xff, vslot 8, rdm_policy relaxed
 *     -> canonical "0000:03:00.*@08,rdm_policy=relaxed"
 *
 * What xl-pci-configuration(5) and xl.cfg(5) allow is accepted: an empty
 * value means the default ("permissive=" takes pci_permissive), rdm_policy
 * in any case, numbers with any number of leading zeros, booleans as
 * xl.cfg(5) BOOLEANs.  What xl (tools/libs/util/libxlu_pci.c) would
 * silently read as something else is refused, with a message naming what
 * is allowed: xl reads booleans with atoi(3), so "permissive=yes" and
 * "permissive=0x1" mean 0 there; it ignores what follows a number in
 * "bdf=03:00.0@5" and "vslot=5z", and truncates numbers past 32 bits; a
 * key given twice (or "@" and vslot= together) lets the last one win.
 * docs/xpt-pci-spec.5 lists every difference.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "xpt/spec.h"

#define OPTION_NAMES "bdf, vslot, permissive, msitranslate, power_mgmt, rdm_policy, seize, name"

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A token of the spec: not NUL-terminated, so messages print it with %.*s. */
struct tok {
	const char *s;
	size_t len;
};

/* Hex number filling [s, s+len) exactly: -EINVAL if it is not one,
 * -ERANGE past 32 bits (more than 8 digits after the leading zeros). */
static int parse_hex(const char *s, size_t len, unsigned long *ret)
{
	unsigned long v = 0;
	size_t i, lead = 0;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
	while (lead < len && s[lead] == '0')
		lead++;
	if (len - lead > 8)
		return -ERANGE;
	for (i = lead; i < len; i++) {
		int c = (unsigned char)s[i];
		v = v << 4 | (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

/* "[DDDD:]BB:DD.F" or "[DDDD:]BB:DD.*"; t names the token in messages. */
static int parse_bdf(struct tok t, const char *s, size_t len, struct xpt_pci *p,
		     char *err, size_t errlen)
{
	static const char *const part[] = { "domain", "bus", "device", "function" };
	static const unsigned long max[] = { 0xffff, 0xff, 0x1f, 7 };
	const char *f[4], *dot;
	size_t flen[4], colons = 0, i;
	unsigned long v[4] = { 0, 0, 0, 0 };
	const char *end = s + len;
	bool all = false;
	int first, r;

	for (i = 0; i < len; i++)
		if (s[i] == ':')
			colons++;
	dot = memchr(s, '.', len);
	if (colons < 1 || colons > 2 || !dot)
		return fail(err, errlen, "\"%.*s\": not a PCI address (expected [DDDD:]BB:DD.F, "
			    "hex, F 0-7 or *)", (int)t.len, t.s);

	/* Split into domain (optional), bus, device, function. */
	first = colons == 2 ? 0 : 1;
	f[first] = s;
	for (i = (size_t)first; i < 3; i++) {
		const char *sep = i < 2 ? memchr(f[i], ':', (size_t)(end - f[i])) : dot;
		if (!sep || sep > dot)
			return fail(err, errlen, "\"%.*s\": not a PCI address (expected "
				    "[DDDD:]BB:DD.F)", (int)t.len, t.s);
		flen[i] = (size_t)(sep - f[i]);
		f[i + 1] = sep + 1;
	}
	flen[3] = (size_t)(end - f[3]);
	if (flen[3] == 1 && f[3][0] == '*')
		all = true;

	for (i = (size_t)first; i < 4; i++) {
		if (i == 3 && all)
			break;
		r = parse_hex(f[i], flen[i], &v[i]);
		if (r == -ERANGE)
			return fail(err, errlen, "\"%.*s\": %s \"%.*s\" is too long (0-%s%lx)",
				    (int)t.len, t.s, part[i], (int)flen[i], f[i],
				    i == 3 ? "" : "0x", max[i]);
		if (r < 0)
			return fail(err, errlen, "\"%.*s\": %s \"%.*s\" is not a hex number%s",
				    (int)t.len, t.s, part[i], (int)flen[i], f[i],
				    i == 3 ? " (0-7 or *)" : "");
		if (v[i] > max[i])
			return fail(err, errlen, "\"%.*s\": %s %s%lx out of range (0-%s%lx)",
				    (int)t.len, t.s, part[i], i == 3 ? "" : "0x", v[i],
				    i == 3 ? "" : "0x", max[i]);
	}
	p->sbdf = XPT_PCI_SBDF(v[0], v[1], v[2], all ? 0 : v[3]);
	p->func_mask = all ? XPT_FUNC_ALL : (uint8_t)(1u << v[3]);
	p->has_bdf = true;
	return 0;
}

/* VSLOT: hex (optional 0x), 0..0x1f.  t is the whole token, for messages. */
static int parse_vslot(struct tok t, const char *s, size_t len, int *ret,
		       char *err, size_t errlen)
{
	unsigned long v;
	int r;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	r = parse_hex(s, len, &v);
	if (r == -ERANGE)
		return fail(err, errlen, "\"%.*s\": vslot is too long (0-0x1f)",
			    (int)t.len, t.s);
	if (r < 0)
		return fail(err, errlen, "\"%.*s\": vslot is not a hex number (0-0x1f)",
			    (int)t.len, t.s);
	if (v > 0x1f)
		return fail(err, errlen, "\"%.*s\": vslot 0x%lx out of range (0-0x1f)",
			    (int)t.len, t.s, v);
	*ret = (int)v;
	return 0;
}

/*
 * A BOOLEAN of xl.cfg(5): a NUMBER, 0 off and any other value on, in
 * decimal or, after a leading 0, octal ("010" is on in both readings).
 * Refused where xl's atoi(3) would read something else: hexadecimal,
 * which xl.cfg(5) allows but atoi reads as 0; words ("yes" is 0 too);
 * signs; values past 32 bits, which atoi truncates (4294967296 is 0).
 */
static int parse_flag(struct tok t, const char *v, size_t vlen, bool *ret,
		      char *err, size_t errlen)
{
	bool octal = vlen > 1 && v[0] == '0';
	unsigned long long x = 0;
	size_t i;

	if (octal && (v[1] == 'x' || v[1] == 'X'))
		return fail(err, errlen, "\"%.*s\": expected 0 or 1, not hexadecimal "
			    "(xl reads it as 0)", (int)t.len, t.s);
	for (i = 0; i < vlen; i++) {
		if (!isdigit((unsigned char)v[i]))
			return fail(err, errlen, "\"%.*s\": expected 0 or 1 (a number: 0 is "
				    "off, any other on)", (int)t.len, t.s);
		if (octal && v[i] > '7')
			return fail(err, errlen, "\"%.*s\": not a number (after a leading 0, "
				    "octal digits 0-7)", (int)t.len, t.s);
		x = x * (octal ? 8 : 10) + (unsigned long long)(v[i] - '0');
		if (x > 0xffffffffull)
			return fail(err, errlen, "\"%.*s\": number too long (at most 32 bits; "
				    "expected 0 or 1)", (int)t.len, t.s);
	}
	*ret = x != 0;
	return 0;
}

enum opt { OPT_BDF, OPT_VSLOT, OPT_PERMISSIVE, OPT_MSITRANSLATE, OPT_POWER_MGMT,
	   OPT_RDM_POLICY, OPT_SEIZE, OPT_NAME, OPT_COUNT };

static const char *const opt_names[OPT_COUNT] = {
	[OPT_BDF] = "bdf", [OPT_VSLOT] = "vslot", [OPT_PERMISSIVE] = "permissive",
	[OPT_MSITRANSLATE] = "msitranslate", [OPT_POWER_MGMT] = "power_mgmt",
	[OPT_RDM_POLICY] = "rdm_policy", [OPT_SEIZE] = "seize", [OPT_NAME] = "name",
};

static int parse_option(struct tok t, struct xpt_pci *p, bool seen[OPT_COUNT],
			char *err, size_t errlen)
{
	const char *eq = memchr(t.s, '=', t.len);
	const char *v;
	size_t klen, vlen, i;
	int o = -1;

	if (!eq)
		return fail(err, errlen, "\"%.*s\": expected KEY=VALUE (the BDF can only come "
			    "first)", (int)t.len, t.s);
	klen = (size_t)(eq - t.s);
	v = eq + 1;
	vlen = t.len - klen - 1;
	for (i = 0; i < OPT_COUNT; i++)
		if (strlen(opt_names[i]) == klen && !memcmp(opt_names[i], t.s, klen))
			o = (int)i;
	if (o < 0)
		return fail(err, errlen, "\"%.*s\": unknown option (expected one of "
			    OPTION_NAMES ")", (int)t.len, t.s);
	if (seen[o])
		return fail(err, errlen, "\"%.*s\": %s given twice", (int)t.len, t.s,
			    o == OPT_BDF ? "the BDF is" : o == OPT_VSLOT ? "the vslot is"
			    : "option");
	seen[o] = true;
	/* xl-pci-configuration(5): "Default values apply if the parameter is
	 * not specified, or if it is specified with an empty value"; *p holds
	 * the defaults still, as no key comes twice. */
	if (vlen == 0)
		return 0;

	switch ((enum opt)o) {
	case OPT_BDF:
		if (memchr(v, '@', vlen))
			return fail(err, errlen, "\"%.*s\": bdf= takes no @VSLOT (use "
				    "vslot=)", (int)t.len, t.s);
		return parse_bdf(t, v, vlen, p, err, errlen);
	case OPT_VSLOT:
		return parse_vslot(t, v, vlen, &p->vslot, err, errlen);
	case OPT_PERMISSIVE:
		return parse_flag(t, v, vlen, &p->permissive, err, errlen);
	case OPT_MSITRANSLATE:
		return parse_flag(t, v, vlen, &p->msitranslate, err, errlen);
	case OPT_POWER_MGMT:
		return parse_flag(t, v, vlen, &p->power_mgmt, err, errlen);
	case OPT_SEIZE:
		return parse_flag(t, v, vlen, &p->seize, err, errlen);
	case OPT_RDM_POLICY:
		/* Any case, as libxl's enum parsing; not its "invalid". */
		if (vlen == 6 && !strncasecmp(v, "strict", 6))
			p->rdm_policy = XPT_RDM_STRICT;
		else if (vlen == 7 && !strncasecmp(v, "relaxed", 7))
			p->rdm_policy = XPT_RDM_RELAXED;
		else
			return fail(err, errlen, "\"%.*s\": expected strict or relaxed",
				    (int)t.len, t.s);
		return 0;
	case OPT_NAME:
		if (vlen >= sizeof(p->name))
			return fail(err, errlen, "\"%.*s\": name is too long (at most %zu "
				    "characters)", (int)t.len, t.s, sizeof(p->name) - 1);
		for (i = 0; i < vlen; i++)
			if (!isgraph((unsigned char)v[i]))
				return fail(err, errlen, "\"%.*s\": name must be printable, "
					    "without spaces", (int)t.len, t.s);
		memcpy(p->name, v, vlen);
		p->name[vlen] = '\0';
		return 0;
	case OPT_COUNT:
		break;
	}
	return fail(err, errlen, "\"%.*s\": unknown option", (int)t.len, t.s);
}

void xpt_pci_spec_init(struct xpt_pci *p)
{
	memset(p, 0, sizeof(*p));
	p->vslot = -1;
	p->rdm_policy = XPT_RDM_STRICT;
}

int xpt_pci_spec_parse(const char *spec, struct xpt_pci *ret, char *err, size_t errlen)
{
	return xpt_pci_spec_parse_defaults(spec, NULL, ret, err, errlen);
}

int xpt_pci_spec_parse_defaults(const char *spec, const struct xpt_pci *defaults,
				struct xpt_pci *ret, char *err, size_t errlen)
{
	bool seen[OPT_COUNT] = { false };
	struct xpt_pci p;
	const char *s = spec;
	bool first = true;
	int r;

	xpt_pci_spec_init(&p);
	if (defaults) {
		p.permissive = defaults->permissive;
		p.msitranslate = defaults->msitranslate;
		p.power_mgmt = defaults->power_mgmt;
		p.seize = defaults->seize;
		p.rdm_policy = defaults->rdm_policy;
	}
	if (!spec || !*spec)
		return fail(err, errlen, "\"\": empty (expected [DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE...] "
			    "or name=NAME)");

	for (;;) {
		const char *comma = strchr(s, ',');
		struct tok t = { s, comma ? (size_t)(comma - s) : strlen(s) };

		/* The grammar ends every element with ',': one trailing comma is fine. */
		if (t.len == 0 && !comma && !first)
			break;
		if (t.len == 0)
			return fail(err, errlen, "\"%s\": empty option at offset %zu", spec,
				    (size_t)(s - spec));
		if (first && !memchr(t.s, '=', t.len)) {
			const char *at = memchr(t.s, '@', t.len);
			size_t blen = at ? (size_t)(at - t.s) : t.len;

			r = parse_bdf(t, t.s, blen, &p, err, errlen);
			if (r < 0)
				return r;
			seen[OPT_BDF] = true;
			if (at) {
				struct tok vt = { at, t.len - blen };
				r = parse_vslot(vt, at + 1, vt.len - 1, &p.vslot, err, errlen);
				if (r < 0)
					return r;
				seen[OPT_VSLOT] = true;
			}
		} else {
			r = parse_option(t, &p, seen, err, errlen);
			if (r < 0)
				return r;
		}
		first = false;
		if (!comma)
			break;
		s = comma + 1;
	}

	if (p.has_bdf && p.name[0])
		return fail(err, errlen, "\"%s\": give either a BDF or name=NAME, not both", spec);
	if (!p.has_bdf && !p.name[0])
		return fail(err, errlen, "\"%s\": no device (expected a BDF [DDDD:]BB:DD.F or "
			    "name=NAME)", spec);
	*ret = p;
	return 0;
}

int xpt_pci_spec_format(const struct xpt_pci *p, char *buf, size_t len)
{
	size_t nlen = strnlen(p->name, sizeof(p->name));
	char tmp[XPT_PCI_SPEC_MAX];
	size_t n = 0, i;

	if ((p->vslot < -1 || p->vslot > 0x1f) ||
	    (p->rdm_policy != XPT_RDM_STRICT && p->rdm_policy != XPT_RDM_RELAXED) ||
	    nlen == sizeof(p->name))
		return -EINVAL;
	for (i = 0; i < nlen; i++)
		if (!isgraph((unsigned char)p->name[i]) || p->name[i] == ',')
			return -EINVAL;
	if (p->has_bdf) {
		if (p->func_mask == XPT_FUNC_ALL) {
			if (XPT_PCI_FN(p->sbdf))
				return -EINVAL;
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%04x:%02x:%02x.*",
					      XPT_PCI_SEG(p->sbdf), XPT_PCI_BUS(p->sbdf),
					      XPT_PCI_DEV(p->sbdf));
		} else {
			if (p->func_mask != 1u << XPT_PCI_FN(p->sbdf))
				return -EINVAL;
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%04x:%02x:%02x.%x",
					      XPT_PCI_SEG(p->sbdf), XPT_PCI_BUS(p->sbdf),
					      XPT_PCI_DEV(p->sbdf), XPT_PCI_FN(p->sbdf));
		}
		if (p->vslot >= 0)
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "@%02x", p->vslot);
	} else {
		/* Only name=: sbdf/func_mask carry nothing a spec could express. */
		if (nlen == 0 || p->sbdf != 0 || p->func_mask != 0)
			return -EINVAL;
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "name=%s", p->name);
		if (p->vslot >= 0)
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",vslot=%02x", p->vslot);
	}
	if (p->permissive)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",permissive=1");
	if (p->msitranslate)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",msitranslate=1");
	if (p->power_mgmt)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",power_mgmt=1");
	if (p->seize)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",seize=1");
	if (p->rdm_policy == XPT_RDM_RELAXED)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, ",rdm_policy=relaxed");
	if (n + 1 > len)
		return -ENOSPC;
	memcpy(buf, tmp, n + 1);
	return 0;
}

bool xpt_pci_spec_equal(const struct xpt_pci *a, const struct xpt_pci *b)
{
	return a->sbdf == b->sbdf && a->func_mask == b->func_mask && a->vslot == b->vslot &&
	       strncmp(a->name, b->name, sizeof(a->name)) == 0 &&
	       a->permissive == b->permissive && a->msitranslate == b->msitranslate &&
	       a->power_mgmt == b->power_mgmt && a->seize == b->seize &&
	       a->rdm_policy == b->rdm_policy && a->has_bdf == b->has_bdf;
}
