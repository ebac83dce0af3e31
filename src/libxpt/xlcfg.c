/* SPDX-License-Identifier: MIT */
/* The xl.cfg(5) subset xpt reads: a lexer, a one-setting-at-a-time parser, and the keys.
 *
 * A file is settings separated by newlines or ';':
 *
 *   name = "vm1"            # strings in "..." or '...', with C escapes
 *   memory = 0x200; vcpus = 2
 *   pci = [ '03:00.0@5,permissive=1',
 *           "name=gpu", ]   # lists may span lines; a trailing comma is fine
 *   pci_permissive = 1      # xl's per-device default, wherever it appears
 *
 * Each setting is applied as soon as it is parsed, except what xl resolves
 * after reading the whole file: the pci entries are kept as text and parsed
 * at the end with the pci_* defaults, and type= beats builder= whatever the
 * order.  Everything goes into a private copy; the caller's struct is written
 * only when all of it parsed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xpt/spec.h"

#define CFG_MAX_FILE (1u << 20)
#define CFG_MAX_LIST 4096

enum tok_kind { T_EOF, T_NEWLINE, T_SEMI, T_EQ, T_PLUSEQ, T_LBRACK, T_RBRACK, T_COMMA,
		T_IDENT, T_STRING, T_NUMBER };

struct lexer {
	const char *p;
	unsigned line;
	/* The current token; text is NUL-terminated (strings dequoted). */
	enum tok_kind kind;
	unsigned tok_line;
	char *text;
	size_t cap;
};

struct atom {
	char *text;
	bool quoted;
	unsigned line;
};

/* A value: one atom, or a list of them. */
struct value {
	bool is_list;
	struct atom *atoms;
	size_t n;
	unsigned line;
};

struct ctx {
	struct xpt_cfg cfg;
	unsigned pci_line[XPT_CFG_MAX_PCI];  /* 0: came from a command-line argument */
	char builder[8];
	bool type_set, in_arg;
	/* Lines that set each key, for the "set again" warning. */
	unsigned name_line, type_line, memory_line, vcpus_line, pci_set_line;
	char *err;
	size_t errlen;
};

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

/* "line N: " or nothing, for messages about a command-line argument. */
static const char *where(const struct ctx *c, unsigned line, char *buf, size_t len)
{
	if (c->in_arg || line == 0)
		return "";
	snprintf(buf, len, "line %u: ", line);
	return buf;
}

__attribute__((format(printf, 3, 4)))
static int cfail(struct ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[512], w[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c->err, c->errlen, "%s%s", where(c, line, w, sizeof(w)), msg);
}

__attribute__((format(printf, 3, 4)))
static void cwarn(struct ctx *c, unsigned line, const char *fmt, ...)
{
	size_t i = c->cfg.nwarnings++, n;
	char *dst = c->cfg.warnings[i < XPT_CFG_MAX_WARNINGS ? i : 0], w[32];
	const char *prefix = where(c, line, w, sizeof(w));
	va_list ap;

	if (i >= XPT_CFG_MAX_WARNINGS)
		return;
	n = strlen(prefix);
	memset(dst, 0, sizeof(c->cfg.warnings[i]));
	memcpy(dst, prefix, n);
	va_start(ap, fmt);
	vsnprintf(dst + n, sizeof(c->cfg.warnings[i]) - n, fmt, ap);
	va_end(ap);
}

/* ---- domain names ---- */

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), 0 if it is not one; *ret_cp the code
 * point. */
static size_t utf8_seq(const unsigned char *s, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t n, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/*
 * What a domain name may be: any UTF-8 text but control characters (C0,
 * DEL, C1) and '/' (it names xenstore nodes and files); not all digits,
 * because xpt, like xl, reads a DOMAIN argument of digits as a domain id
 * and such a domain could never be named.  On error, why says what is
 * wrong without echoing the bad bytes.
 */
static int name_check(const char *name, bool digits_ok, char *why, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	bool digits = true;
	size_t n, i;		/* i: the character's position, from 1 */
	uint32_t cp;

	for (i = 1; *p; p += n, i++) {
		n = utf8_seq(p, &cp);
		if (n == 0)
			return fail(why, len, "character %zu (byte 0x%02x) is not "
				    "valid UTF-8", i, *p);
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return fail(why, len, "character %zu is a control character "
				    "(U+%04X); a name may hold any printable UTF-8 but "
				    "'/'", i, (unsigned)cp);
		if (cp == '/')
			return fail(why, len, "character %zu is '/' (a name is part "
				    "of xenstore paths); choose another name", i);
		digits &= cp >= '0' && cp <= '9';
	}
	if (*name && digits && !digits_ok)
		return fail(why, len, "\"%s\" is all digits: xpt (like xl) reads a "
			    "number as a domain id, so the domain could not be "
			    "addressed by name; add a letter, e.g. \"vm%s\"", name,
			    name);
	return 0;
}

/* ---- lexer ---- */

static int lex_put(struct lexer *lx, size_t *n, char ch)
{
	if (*n + 1 >= lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 64;
		char *t = realloc(lx->text, cap);
		if (!t)
			return -ENOMEM;
		lx->text = t;
		lx->cap = cap;
	}
	lx->text[(*n)++] = ch;
	lx->text[*n] = '\0';
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* One escape after a backslash: \a \b \f \n \r \t \v \\ \" \', \xHH, \OOO (octal). */
static int lex_escape(struct lexer *lx, struct ctx *c, int *ret)
{
	static const char from[] = "abfnrtv\\\"'", to[] = "\a\b\f\n\r\t\v\\\"'";
	const char *hit;
	int ch = (unsigned char)*lx->p, v = 0, i;

	if (ch && (hit = strchr(from, ch))) {
		lx->p++;
		*ret = to[hit - from];
		return 0;
	}
	if (ch == 'x') {
		int h1 = hexval((unsigned char)lx->p[1]), h2 = h1 < 0 ? -1 : hexval((unsigned char)lx->p[2]);
		if (h1 < 0 || h2 < 0 || (h1 | h2) == 0)
			return cfail(c, lx->line, "bad escape \"\\%.3s\" in string (\\xHH, "
				     "two hex digits, not \\x00)", lx->p);
		lx->p += 3;
		*ret = h1 << 4 | h2;
		return 0;
	}
	if (ch >= '0' && ch <= '7') {
		for (i = 0; i < 3 && lx->p[i] >= '0' && lx->p[i] <= '7'; i++)
			v = v * 8 + (lx->p[i] - '0');
		if (v == 0 || v > 0xff)
			return cfail(c, lx->line, "bad escape \"\\%.*s\" in string (octal "
				     "\\1-\\377)", i, lx->p);
		lx->p += i;
		*ret = v;
		return 0;
	}
	if (!ch || ch == '\n')
		return cfail(c, lx->line, "unterminated string");
	return cfail(c, lx->line, "bad escape \"\\%c\" in string (expected one of "
		     "\\n \\t \\r \\a \\b \\f \\v \\\\ \\\" \\' \\xHH \\OOO)",
		     isprint(ch) ? ch : '?');
}

static int lex_string(struct lexer *lx, struct ctx *c)
{
	char quote = *lx->p++;
	size_t n = 0;
	int r, ch;

	if (lex_put(lx, &n, '\0') < 0)   /* an empty string still has a buffer */
		return -ENOMEM;
	n = 0;
	for (;;) {
		ch = (unsigned char)*lx->p;
		if (ch == '\0' || ch == '\n')
			return cfail(c, lx->tok_line, "unterminated string (missing %c)", quote);
		lx->p++;
		if (ch == quote)
			break;
		if (ch == '\\') {
			r = lex_escape(lx, c, &ch);
			if (r < 0)
				return r;
		}
		if (lex_put(lx, &n, (char)ch) < 0)
			return -ENOMEM;
	}
	lx->kind = T_STRING;
	return 0;
}

static int lex_next(struct lexer *lx, struct ctx *c)
{
	size_t n = 0;
	int ch;

	for (;;) {
		ch = (unsigned char)*lx->p;
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			lx->p++;
		} else if (ch == '#') {
			while (*lx->p && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
	lx->tok_line = lx->line;
	if (lex_put(lx, &n, '\0') < 0)
		return -ENOMEM;
	n = 0;
	switch (ch) {
	case '\0': lx->kind = T_EOF; return 0;
	case '\n': lx->p++; lx->line++; lx->kind = T_NEWLINE; return 0;
	case ';': lx->p++; lx->kind = T_SEMI; return 0;
	case '=': lx->p++; lx->kind = T_EQ; return 0;
	case '[': lx->p++; lx->kind = T_LBRACK; return 0;
	case ']': lx->p++; lx->kind = T_RBRACK; return 0;
	case ',': lx->p++; lx->kind = T_COMMA; return 0;
	case '"': case '\'': return lex_string(lx, c);
	case '+':
		if (lx->p[1] == '=') {
			lx->p += 2;
			lx->kind = T_PLUSEQ;
			return 0;
		}
		break;
	default:
		break;
	}
	if (isalpha(ch) || ch == '_' || isdigit(ch)) {
		lx->kind = isdigit(ch) ? T_NUMBER : T_IDENT;
		while (isalnum((unsigned char)*lx->p) || *lx->p == '_' ||
		       (lx->kind == T_NUMBER && *lx->p == '.'))
			if (lex_put(lx, &n, *lx->p++) < 0)
				return -ENOMEM;
		return 0;
	}
	if (isgraph(ch))
		return cfail(c, lx->tok_line, "unexpected '%c'", ch);
	return cfail(c, lx->tok_line, "unexpected byte 0x%02x", ch);
}

static const char *tok_desc(const struct lexer *lx, char *buf, size_t len)
{
	switch (lx->kind) {
	case T_EOF: return "end of input";
	case T_NEWLINE: return "end of line";
	case T_SEMI: return "';'";
	case T_EQ: return "'='";
	case T_PLUSEQ: return "'+='";
	case T_LBRACK: return "'['";
	case T_RBRACK: return "']'";
	case T_COMMA: return "','";
	case T_STRING: snprintf(buf, len, "string \"%.40s\"", lx->text); return buf;
	case T_IDENT: case T_NUMBER: snprintf(buf, len, "\"%.40s\"", lx->text); return buf;
	}
	return "?";
}

/* ---- values ---- */

static void value_free(struct value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->atoms[i].text);
	free(v->atoms);
	memset(v, 0, sizeof(*v));
}

static int value_push(struct value *v, const struct lexer *lx)
{
	struct atom *a;

	if (v->n >= CFG_MAX_LIST)
		return -E2BIG;
	a = realloc(v->atoms, (v->n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	v->atoms = a;
	a[v->n].text = strdup(lx->text);
	if (!a[v->n].text)
		return -ENOMEM;
	a[v->n].quoted = lx->kind == T_STRING;
	a[v->n].line = lx->tok_line;
	v->n++;
	return 0;
}

static bool is_atom(enum tok_kind k)
{
	return k == T_STRING || k == T_NUMBER;
}

/* value = atom | '[' { atom ',' } [ atom ] ']'  (newlines free inside the list) */
static int parse_value(struct lexer *lx, struct ctx *c, const char *key, struct value *v)
{
	char d[64];
	int r;

	v->line = lx->tok_line;
	if (is_atom(lx->kind))
		return value_push(v, lx);
	if (lx->kind != T_LBRACK) {
		if (lx->kind == T_IDENT)
			return cfail(c, lx->tok_line, "%s: bare word \"%s\" (quote strings: "
				     "%s = \"%s\")", key, lx->text, key, lx->text);
		return cfail(c, lx->tok_line, "%s: expected a value (\"string\", number or "
			     "[list]), got %s", key, tok_desc(lx, d, sizeof(d)));
	}
	v->is_list = true;
	for (;;) {
		do {
			r = lex_next(lx, c);
			if (r < 0)
				return r;
		} while (lx->kind == T_NEWLINE);
		if (lx->kind == T_RBRACK)
			return 0;
		if (lx->kind == T_LBRACK)
			return cfail(c, lx->tok_line, "%s: nested lists are not supported", key);
		if (!is_atom(lx->kind))
			return cfail(c, lx->tok_line, "%s: expected a list item or ']', got %s%s",
				     key, tok_desc(lx, d, sizeof(d)),
				     lx->kind == T_EOF ? " (missing ']')" : "");
		r = value_push(v, lx);
		if (r == -E2BIG)
			return cfail(c, lx->tok_line, "%s: more than %u list items", key,
				     CFG_MAX_LIST);
		if (r < 0)
			return r;
		do {
			r = lex_next(lx, c);
			if (r < 0)
				return r;
		} while (lx->kind == T_NEWLINE);
		if (lx->kind == T_RBRACK)
			return 0;
		if (lx->kind != T_COMMA)
			return cfail(c, lx->tok_line, "%s: expected ',' or ']' after list item, "
				     "got %s%s", key, tok_desc(lx, d, sizeof(d)),
				     lx->kind == T_EOF ? " (missing ']')" : "");
	}
}

/* ---- keys ---- */

static int get_atom(struct ctx *c, const char *key, const struct value *v, const char **ret)
{
	if (v->is_list)
		return cfail(c, v->line, "%s: expected a single value, got a list", key);
	*ret = v->atoms[0].text;
	return 0;
}

static int get_string(struct ctx *c, const char *key, const struct value *v,
		      char *dst, size_t size)
{
	const char *s = NULL;
	int r = get_atom(c, key, v, &s);

	if (r < 0)
		return r;
	if (strlen(s) >= size)
		return cfail(c, v->line, "%s: \"%.40s...\" is too long (at most %zu characters)",
			     key, s, size - 1);
	memset(dst, 0, size);
	memcpy(dst, s, strlen(s));
	return 0;
}

/* Decimal or 0x hex, the whole atom, quoted or not (xl reads both). */
static int get_uint(struct ctx *c, const char *key, const struct value *v,
		    uint64_t min, uint64_t max, uint64_t *ret)
{
	const char *s = NULL, *p;
	uint64_t n = 0;
	unsigned base = 10;
	int r = get_atom(c, key, v, &s);

	if (r < 0)
		return r;
	p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		goto bad;
	for (; *p; p++) {
		int d = base == 16 ? hexval((unsigned char)*p) : isdigit((unsigned char)*p) ? *p - '0' : -1;
		if (d < 0)
			goto bad;
		if (n > (UINT64_MAX - (uint64_t)d) / base)
			return cfail(c, v->line, "%s: \"%s\" is too large (at most %llu)", key, s,
				     (unsigned long long)max);
		n = n * base + (uint64_t)d;
	}
	if (n < min || n > max)
		return cfail(c, v->line, "%s: %s out of range (%llu-%llu)", key, s,
			     (unsigned long long)min, (unsigned long long)max);
	*ret = n;
	return 0;
bad:
	return cfail(c, v->line, "%s: \"%.40s\" is not a number (decimal or 0x hex)", key, s);
}

static int set_flag(struct ctx *c, const char *key, const struct value *v, bool *dst)
{
	uint64_t n;
	int r = get_uint(c, key, v, 0, 1, &n);

	if (r == 0)
		*dst = n == 1;
	return r;
}

static void note_again(struct ctx *c, const char *key, unsigned *seen, unsigned line)
{
	if (*seen && !c->in_arg)
		cwarn(c, line, "%s set again, replacing line %u", key, *seen);
	*seen = line ? line : 1;
}

static int set_pci(struct ctx *c, const struct value *v, bool append)
{
	struct xpt_cfg *cfg = &c->cfg;
	size_t i;

	if (!v->is_list)
		return cfail(c, v->line, "pci: expected a list, e.g. pci = [ \"%.40s\" ]",
			     v->atoms[0].text);
	if (!append)
		cfg->npci = 0;
	for (i = 0; i < v->n; i++) {
		const char *s = v->atoms[i].text;
		size_t k = cfg->npci;

		if (k >= XPT_CFG_MAX_PCI)
			return cfail(c, v->atoms[i].line, "pci: more than %zu devices",
				     XPT_CFG_MAX_PCI);
		if (strlen(s) >= sizeof(cfg->pci_text[k]))
			return cfail(c, v->atoms[i].line, "pci[%zu] \"%.40s...\": too long (at "
				     "most %zu characters)", k, s, sizeof(cfg->pci_text[k]) - 1);
		memset(cfg->pci_text[k], 0, sizeof(cfg->pci_text[k]));
		memcpy(cfg->pci_text[k], s, strlen(s));
		c->pci_line[k] = c->in_arg ? 0 : v->atoms[i].line;
		cfg->npci++;
	}
	return 0;
}

static int apply(struct ctx *c, const char *key, bool append, const struct value *v)
{
	struct xpt_cfg *cfg = &c->cfg;
	uint64_t n;
	int r;

	if (append && strcmp(key, "pci") != 0) {
		if (!strcmp(key, "name") || !strcmp(key, "type") || !strcmp(key, "builder") ||
		    !strcmp(key, "memory") || !strcmp(key, "vcpus") ||
		    !strcmp(key, "passthrough") || !strncmp(key, "pci_", 4) ||
		    !strcmp(key, "kernel") || !strcmp(key, "ramdisk") || !strcmp(key, "extra") ||
		    !strcmp(key, "device_model_stubdomain_override") ||
		    !strncmp(key, "stubdomain_", 11))
			return cfail(c, v->line, "%s: '+=' only appends to lists (use '=')", key);
	}
	if (!strcmp(key, "name")) {
		note_again(c, key, &c->name_line, v->line);
		r = get_string(c, key, v, cfg->name, sizeof(cfg->name));
		if (r == 0) {
			char why[256];

			/* name = 42 is valid syntax; create refuses it. */
			if (name_check(cfg->name, true, why, sizeof(why)) < 0)
				return cfail(c, v->line, "name: %s", why);
		}
		return r;
	}
	if (!strcmp(key, "type") || !strcmp(key, "builder")) {
		bool is_type = key[0] == 't';
		const char *s = NULL;
		char *dst = is_type ? cfg->type : c->builder;

		r = get_atom(c, key, v, &s);
		if (r < 0)
			return r;
		if (is_type && strcmp(s, "pv") && strcmp(s, "hvm") && strcmp(s, "pvh"))
			return cfail(c, v->line, "type: \"%.40s\" is not a domain type (expected "
				     "pv, hvm or pvh)", s);
		if (!is_type && strcmp(s, "generic") && strcmp(s, "hvm"))
			return cfail(c, v->line, "builder: \"%.40s\" unknown (expected generic or "
				     "hvm; better: type = \"pv\"|\"hvm\"|\"pvh\")", s);
		if (is_type) {
			note_again(c, key, &c->type_line, v->line);
			c->type_set = true;
		}
		memset(dst, 0, sizeof(cfg->type));
		strcpy(dst, s);
		return 0;
	}
	if (!strcmp(key, "memory")) {
		note_again(c, key, &c->memory_line, v->line);
		r = get_uint(c, key, v, 1, UINT64_MAX >> 20, &n);
		if (r == 0)
			cfg->memory_mb = n;
		return r;
	}
	if (!strcmp(key, "vcpus")) {
		note_again(c, key, &c->vcpus_line, v->line);
		r = get_uint(c, key, v, 1, 4096, &n);
		if (r == 0)
			cfg->vcpus = (unsigned)n;
		return r;
	}
	if (!strcmp(key, "passthrough")) {
		static const char *const ok[] = { "default", "disabled", "enabled", "sync_pt",
						  "share_pt" };
		const char *s = NULL;
		size_t i;

		r = get_atom(c, key, v, &s);
		if (r < 0)
			return r;
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (!strcmp(s, ok[i]))
				break;
		if (i == sizeof(ok) / sizeof(ok[0]))
			return cfail(c, v->line, "passthrough: \"%.40s\" unknown (expected default, "
				     "disabled, enabled, sync_pt or share_pt)", s);
		return get_string(c, key, v, cfg->passthrough, sizeof(cfg->passthrough));
	}
	if (!strcmp(key, "pci")) {
		if (!append)
			note_again(c, key, &c->pci_set_line, v->line);
		return set_pci(c, v, append);
	}
	if (!strcmp(key, "pci_permissive"))
		return set_flag(c, key, v, &cfg->pci_permissive);
	if (!strcmp(key, "pci_msitranslate"))
		return set_flag(c, key, v, &cfg->pci_msitranslate);
	if (!strcmp(key, "pci_power_mgmt"))
		return set_flag(c, key, v, &cfg->pci_power_mgmt);
	if (!strcmp(key, "pci_seize"))
		return set_flag(c, key, v, &cfg->pci_seize);
	if (!strcmp(key, "e820_host")) {
		bool on;

		r = set_flag(c, key, v, &on);
		if (r == 0)
			cfg->e820_host = on ? XPT_E820_ON : XPT_E820_OFF;
		return r;
	}
	if (!strcmp(key, "kernel"))
		return get_string(c, key, v, cfg->kernel, sizeof(cfg->kernel));
	if (!strcmp(key, "ramdisk"))
		return get_string(c, key, v, cfg->ramdisk, sizeof(cfg->ramdisk));
	if (!strcmp(key, "extra"))
		return get_string(c, key, v, cfg->extra, sizeof(cfg->extra));
	if (!strcmp(key, "serial"))
		return get_string(c, key, v, cfg->serial, sizeof(cfg->serial));
	if (!strcmp(key, "vga")) {
		const char *s = NULL;

		r = get_atom(c, key, v, &s);
		if (r < 0)
			return r;
		if (strcmp(s, "none") && strcmp(s, "stdvga") && strcmp(s, "cirrus"))
			return cfail(c, v->line, "vga: \"%.40s\" unknown (expected none, stdvga "
				     "or cirrus)", s);
		return get_string(c, key, v, cfg->vga, sizeof(cfg->vga));
	}
	if (!strcmp(key, "nographic")) {
		bool on;

		r = set_flag(c, key, v, &on);
		if (r == 0 && on && !cfg->vga[0])
			strcpy(cfg->vga, "none");
		return r;
	}
	if (!strcmp(key, "device_model_version")) {
		const char *s = NULL;

		r = get_atom(c, key, v, &s);
		if (r < 0)
			return r;
		if (strcmp(s, "qemu-xen"))
			return cfail(c, v->line, "device_model_version: \"%.40s\" is not "
				     "supported (xpt drives qemu-xen, QEMU upstream)", s);
		return get_string(c, key, v, cfg->dm_version, sizeof(cfg->dm_version));
	}
	if (!strcmp(key, "device_model_stubdomain_override"))
		return set_flag(c, key, v, &cfg->stubdomain);
	if (!strcmp(key, "stubdomain_kernel"))
		return get_string(c, key, v, cfg->stubdomain_kernel,
				  sizeof(cfg->stubdomain_kernel));
	if (!strcmp(key, "stubdomain_ramdisk"))
		return get_string(c, key, v, cfg->stubdomain_ramdisk,
				  sizeof(cfg->stubdomain_ramdisk));
	if (!strcmp(key, "stubdomain_cmdline"))
		return get_string(c, key, v, cfg->stubdomain_cmdline,
				  sizeof(cfg->stubdomain_cmdline));
	if (!strcmp(key, "stubdomain_memory")) {
		r = get_uint(c, key, v, 1, UINT64_MAX >> 20, &n);
		if (r == 0)
			cfg->stubdomain_memory_mb = n;
		return r;
	}
	cwarn(c, v->line, "key \"%.60s\" ignored (not used by xpt)", key);
	return 0;
}

/* file = { [ IDENT ('='|'+=') value ] (NEWLINE | ';') } EOF */
static int parse_text(struct ctx *c, const char *text)
{
	struct lexer lx = { .p = text, .line = 1 };
	struct value v = { 0 };
	char key[64], d[64];
	bool append;
	unsigned key_line;
	int r;

	for (;;) {
		r = lex_next(&lx, c);
		if (r < 0)
			goto out;
		if (lx.kind == T_EOF)
			break;
		if (lx.kind == T_NEWLINE || lx.kind == T_SEMI)
			continue;
		if (lx.kind != T_IDENT) {
			r = cfail(c, lx.tok_line, "expected a setting KEY = VALUE, got %s",
				  tok_desc(&lx, d, sizeof(d)));
			goto out;
		}
		if (strlen(lx.text) >= sizeof(key)) {
			r = cfail(c, lx.tok_line, "key \"%.40s...\" is too long", lx.text);
			goto out;
		}
		strcpy(key, lx.text);
		key_line = lx.tok_line;
		r = lex_next(&lx, c);
		if (r < 0)
			goto out;
		if (lx.kind != T_EQ && lx.kind != T_PLUSEQ) {
			r = cfail(c, key_line, "expected '=' after \"%s\", got %s", key,
				  tok_desc(&lx, d, sizeof(d)));
			goto out;
		}
		append = lx.kind == T_PLUSEQ;
		r = lex_next(&lx, c);
		if (r < 0)
			goto out;
		r = parse_value(&lx, c, key, &v);
		if (r == -ENOMEM)
			goto out;
		if (r < 0)
			goto out;
		r = apply(c, key, append, &v);
		value_free(&v);
		if (r < 0)
			goto out;
		r = lex_next(&lx, c);
		if (r < 0)
			goto out;
		if (lx.kind == T_EOF)
			break;
		if (lx.kind != T_NEWLINE && lx.kind != T_SEMI) {
			r = cfail(c, lx.tok_line, "expected end of line or ';' after the value of "
				  "\"%s\", got %s", key, tok_desc(&lx, d, sizeof(d)));
			goto out;
		}
	}
	r = 0;
out:
	if (r == -ENOMEM)
		fail(c->err, c->errlen, "out of memory");
	value_free(&v);
	free(lx.text);
	return r;
}

/* What xl decides once the whole file is read. */
static int finish(struct ctx *c)
{
	struct xpt_cfg *cfg = &c->cfg;
	struct xpt_pci defaults;
	char perr[256];
	size_t i;

	if (!c->type_set && c->builder[0]) {
		memset(cfg->type, 0, sizeof(cfg->type));
		strcpy(cfg->type, strcmp(c->builder, "hvm") ? "pv" : "hvm");
	}
	xpt_pci_spec_init(&defaults);
	defaults.permissive = cfg->pci_permissive;
	defaults.msitranslate = cfg->pci_msitranslate;
	defaults.power_mgmt = cfg->pci_power_mgmt;
	defaults.seize = cfg->pci_seize;
	for (i = 0; i < cfg->npci; i++) {
		if (xpt_pci_spec_parse_defaults(cfg->pci_text[i], &defaults, &cfg->pci[i], perr,
						sizeof(perr)) < 0)
			return cfail(c, c->pci_line[i], "pci[%zu]: %s", i, perr);
	}
	for (; i < XPT_CFG_MAX_PCI; i++)
		memset(&cfg->pci[i], 0, sizeof(cfg->pci[i]));
	return 0;
}

static void cfg_defaults(struct xpt_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->type, "pv");
	cfg->vcpus = 1;
}

int xpt_cfg_parse_string(const char *text, struct xpt_cfg *ret, char *err, size_t errlen)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return fail(err, errlen, "out of memory");
	cfg_defaults(&c->cfg);
	c->err = err;
	c->errlen = errlen;
	r = parse_text(c, text);
	if (r == 0)
		r = finish(c);
	if (r == 0)
		memcpy(ret, &c->cfg, sizeof(*ret));
	free(c);
	return r;
}

int xpt_cfg_parse_file(const char *path, struct xpt_cfg *ret, char *err, size_t errlen)
{
	char *text = NULL, msg[512];
	struct stat st;
	size_t n = 0;
	ssize_t got;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fail(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		fail(err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CFG_MAX_FILE) {
		r = fail(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 CFG_MAX_FILE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = fail(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (n < (size_t)st.st_size) {
		got = read(fd, text + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			fail(err, errlen, "%s: %s", path, strerror(-r));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		size_t off = strlen(text), line = 1;
		for (size_t i = 0; i < off; i++)
			line += text[i] == '\n';
		r = fail(err, errlen, "%s: line %zu: NUL byte (not a text file?)", path, line);
		goto out;
	}
	r = xpt_cfg_parse_string(text, ret, msg, sizeof(msg));
	if (r < 0)
		fail(err, errlen, "%s: %s", path, msg);
out:
	free(text);
	close(fd);
	return r;
}

int xpt_cfg_apply_arg(struct xpt_cfg *cfg, const char *kv, char *err, size_t errlen)
{
	struct ctx *c;
	char msg[512];
	int r;

	if (!strchr(kv, '='))
		return fail(err, errlen, "'%s': expected KEY=VALUE, e.g. 'pci=[\"03:00.0\"]'", kv);
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(err, errlen, "out of memory");
	memcpy(&c->cfg, cfg, sizeof(*cfg));
	c->in_arg = true;
	c->err = msg;
	c->errlen = sizeof(msg);
	/* A builder= argument applies unless the argument also says type=. */
	r = parse_text(c, kv);
	if (r == 0)
		r = finish(c);
	if (r == 0)
		memcpy(cfg, &c->cfg, sizeof(*cfg));
	else
		fail(err, errlen, "'%s': %s", kv, msg);
	free(c);
	return r;
}

int xpt_cfg_check(const struct xpt_cfg *cfg, char *err, size_t errlen)
{
	char why[256];

	if (!cfg->name[0])
		return fail(err, errlen, "no domain name: add name = \"NAME\" to the config");
	if (memchr(cfg->name, '\0', sizeof(cfg->name)) == NULL)
		return fail(err, errlen, "name: longer than %zu bytes", sizeof(cfg->name) - 1);
	if (name_check(cfg->name, false, why, sizeof(why)) < 0)
		return fail(err, errlen, "name: %s", why);
	if (cfg->stubdomain && strcmp(cfg->type, "hvm"))
		return fail(err, errlen, "device_model_stubdomain_override = 1: "
			    "only an HVM guest has a device model (type = \"hvm\")");
	return 0;
}

bool xpt_cfg_e820_host(const struct xpt_cfg *cfg, bool passthrough)
{
	if (!strcmp(cfg->type, "hvm"))
		return false;
	if (cfg->e820_host != XPT_E820_DEFAULT)
		return cfg->e820_host == XPT_E820_ON;
	return passthrough;
}

bool xpt_cfg_equal(const struct xpt_cfg *a, const struct xpt_cfg *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || strcmp(a->type, b->type) ||
	    a->memory_mb != b->memory_mb || a->vcpus != b->vcpus ||
	    strcmp(a->passthrough, b->passthrough) || strcmp(a->kernel, b->kernel) ||
	    strcmp(a->ramdisk, b->ramdisk) || strcmp(a->extra, b->extra) ||
	    strcmp(a->serial, b->serial) || strcmp(a->vga, b->vga) ||
	    strcmp(a->dm_version, b->dm_version) ||
	    a->pci_permissive != b->pci_permissive || a->pci_msitranslate != b->pci_msitranslate ||
	    a->pci_power_mgmt != b->pci_power_mgmt || a->pci_seize != b->pci_seize ||
	    a->e820_host != b->e820_host || a->stubdomain != b->stubdomain ||
	    strcmp(a->stubdomain_kernel, b->stubdomain_kernel) ||
	    strcmp(a->stubdomain_ramdisk, b->stubdomain_ramdisk) ||
	    strcmp(a->stubdomain_cmdline, b->stubdomain_cmdline) ||
	    a->stubdomain_memory_mb != b->stubdomain_memory_mb || a->npci != b->npci)
		return false;
	for (i = 0; i < a->npci && i < XPT_CFG_MAX_PCI; i++)
		if (strcmp(a->pci_text[i], b->pci_text[i]) ||
		    !xpt_pci_spec_equal(&a->pci[i], &b->pci[i]))
			return false;
	return true;
}

/* ---- canonical text ---- */

struct out {
	char *buf;
	size_t len, n;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->n, o->len - o->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= o->len - o->n) {
		o->full = true;
		o->buf[o->n] = '\0';
		return;
	}
	o->n += (size_t)k;
}

static void out_quoted(struct out *o, const char *s)
{
	out_printf(o, "\"");
	for (; *s && !o->full; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			out_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			out_printf(o, "\\x%02x", ch);
		else
			out_printf(o, "%c", ch);
	}
	out_printf(o, "\"");
}

/* KEY = "value" on its own line; nothing for an empty value. */
static void out_setting(struct out *o, const char *key, const char *value)
{
	if (!value[0])
		return;
	out_printf(o, "%s = ", key);
	out_quoted(o, value);
	out_printf(o, "\n");
}

int xpt_cfg_format(const struct xpt_cfg *cfg, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	size_t i;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (cfg->npci > XPT_CFG_MAX_PCI)
		return -EINVAL;
	if (cfg->name[0]) {
		out_printf(&o, "name = ");
		out_quoted(&o, cfg->name);
		out_printf(&o, "\n");
	}
	out_printf(&o, "type = ");
	out_quoted(&o, cfg->type);
	out_printf(&o, "\n");
	if (cfg->memory_mb)
		out_printf(&o, "memory = %llu\n", (unsigned long long)cfg->memory_mb);
	out_printf(&o, "vcpus = %u\n", cfg->vcpus);
	out_setting(&o, "passthrough", cfg->passthrough);
	out_setting(&o, "kernel", cfg->kernel);
	out_setting(&o, "ramdisk", cfg->ramdisk);
	out_setting(&o, "extra", cfg->extra);
	out_setting(&o, "serial", cfg->serial);
	out_setting(&o, "vga", cfg->vga);
	out_setting(&o, "device_model_version", cfg->dm_version);
	if (cfg->pci_permissive)
		out_printf(&o, "pci_permissive = 1\n");
	if (cfg->pci_msitranslate)
		out_printf(&o, "pci_msitranslate = 1\n");
	if (cfg->pci_power_mgmt)
		out_printf(&o, "pci_power_mgmt = 1\n");
	if (cfg->pci_seize)
		out_printf(&o, "pci_seize = 1\n");
	if (cfg->e820_host != XPT_E820_DEFAULT)
		out_printf(&o, "e820_host = %d\n", cfg->e820_host == XPT_E820_ON);
	if (cfg->stubdomain)
		out_printf(&o, "device_model_stubdomain_override = 1\n");
	out_setting(&o, "stubdomain_kernel", cfg->stubdomain_kernel);
	out_setting(&o, "stubdomain_ramdisk", cfg->stubdomain_ramdisk);
	out_setting(&o, "stubdomain_cmdline", cfg->stubdomain_cmdline);
	if (cfg->stubdomain_memory_mb)
		out_printf(&o, "stubdomain_memory = %llu\n",
			   (unsigned long long)cfg->stubdomain_memory_mb);
	if (cfg->npci) {
		out_printf(&o, "pci = [\n");
		for (i = 0; i < cfg->npci; i++) {
			out_printf(&o, "    ");
			out_quoted(&o, cfg->pci_text[i]);
			out_printf(&o, ",\n");
		}
		out_printf(&o, "]\n");
	}
	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}
