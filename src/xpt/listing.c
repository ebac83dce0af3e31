// SPDX-License-Identifier: MIT
/*
 * `guest-status --json`: the guest's own view (the "status" reply of its
 * query socket, xpt-guest(8)) as the object docs/xpt.1 documents.  The
 * reply comes from a guest, so every line and number is checked; a
 * line that is not understood fails the command naming it, and keys the
 * schema does not know are left out (a newer guest may say more).
 *
 *   state frontend=4 backend=4 hvm
 *   dev 0000:00:05.0 host=? vendor=0x8086 device=0x10d3 class=0x020000
 *       driver=bound irq=msix vectors=3 count=7 counts=5,1,1
 *
 * gives {"domid": 3, "type": "hvm", "frontend_state": 4,
 * "backend_state": 4, "stubdom": null, "devices": [{"bdf":
 * "0000:00:05.0", "host": null, "vendor": 32902, ...}]}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli.h"

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/* The value of key=... among the line's words, or NULL. */
static const char *word(char *const *w, size_t n, const char *key)
{
	size_t i, l = strlen(key);

	for (i = 0; i < n; i++)
		if (!strncmp(w[i], key, l) && w[i][l] == '=')
			return w[i] + l + 1;
	return NULL;
}

static bool num(const char *s, long long *ret)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*ret = strtoll(s, &end, 0);
	return !errno && !*end && *ret >= 0;
}

/* key=NUMBER as an integer; absent or not a number: false */
static bool gen_num(yajl_gen g, char *const *w, size_t n, const char *key,
		    const char *name)
{
	long long v;

	if (!num(word(w, n, key), &v))
		return false;
	GS(g, name);
	yajl_gen_integer(g, v);
	return true;
}

static void gen_str(yajl_gen g, char *const *w, size_t n, const char *key,
		    const char *name)
{
	const char *v = word(w, n, key);

	GS(g, name);
	if (v && strcmp(v, "?"))
		GS(g, v);
	else
		yajl_gen_null(g);
}

static bool gen_counts(yajl_gen g, const char *s)
{
	char buf[1024], *tok, *save = NULL;
	long long v;

	GS(g, "counts");
	yajl_gen_array_open(g);
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!num(tok, &v))
			return false;
		yajl_gen_integer(g, v);
	}
	yajl_gen_array_close(g);
	return true;
}

static bool gen_mmio(yajl_gen g, const char *s)
{
	char buf[64], *colon;
	long long a, v;

	GS(g, "mmio");
	if (!s) {
		yajl_gen_null(g);
		return true;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		return false;
	*colon = '\0';
	if (!num(buf, &a) || !num(colon + 1, &v))
		return false;
	yajl_gen_map_open(g);
	GS(g, "addr"); yajl_gen_integer(g, a);
	GS(g, "value"); yajl_gen_integer(g, v);
	yajl_gen_map_close(g);
	return true;
}

static bool gen_dev(yajl_gen g, char *const *w, size_t n)
{
	bool ok = n >= 2;

	yajl_gen_map_open(g);
	GS(g, "bdf"); GS(g, n >= 2 ? w[1] : "");
	gen_str(g, w, n, "host", "host");
	ok = ok && gen_num(g, w, n, "vendor", "vendor");
	ok = ok && gen_num(g, w, n, "device", "device");
	ok = ok && gen_num(g, w, n, "class", "class");
	gen_str(g, w, n, "driver", "driver");
	gen_str(g, w, n, "irq", "irq");
	ok = ok && gen_num(g, w, n, "vectors", "vectors");
	ok = ok && gen_num(g, w, n, "count", "count");
	ok = ok && gen_counts(g, word(w, n, "counts"));
	ok = ok && gen_mmio(g, word(w, n, "mmio"));
	yajl_gen_map_close(g);
	return ok;
}

static void gen_stubdom(yajl_gen g, char *const *w, size_t n)
{
	long long v;

	GS(g, "stubdom");
	if (!word(w, n, "target")) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_map_open(g);
	GS(g, "target");
	num(word(w, n, "target"), &v) ? yajl_gen_integer(g, v) :
					yajl_gen_null(g);
	gen_str(g, w, n, "dm", "dm");
	GS(g, "dm_pid");
	num(word(w, n, "dm-pid"), &v) ? yajl_gen_integer(g, v) :
					yajl_gen_null(g);
	GS(g, "dm_status");
	num(word(w, n, "dm-status"), &v) ? yajl_gen_integer(g, v) :
					   yajl_gen_null(g);
	yajl_gen_map_close(g);
}

static bool has_word(char *const *w, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(w[i], s))
			return true;
	return false;
}

/* Printable ASCII only: what a guest writes must neither make the JSON
 * invalid (yajl copies bytes as they are) nor reach the terminal raw. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Split line into words in place; at most max. */
static size_t split(char *line, char **w, size_t max)
{
	char *save = NULL, *tok;
	size_t n = 0;

	for (tok = strtok_r(line, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save))
		w[n++] = tok;
	return n;
}

int cli_guest_status_json(FILE *out, FILE *err, unsigned int domid,
			  const char *reply)
{
	char *text = strdup(reply), *line, *save = NULL, *w[32], bad[128];
	yajl_gen g = yajl_gen_alloc(NULL);
	bool state = false, ok = true;
	const unsigned char *buf;
	size_t n, len;

	if (!text || !g) {
		free(text);
		if (g)
			yajl_gen_free(g);
		fprintf(err, "xpt: out of memory\n");
		return XPT_EXIT_FAIL;
	}
	bad[0] = '\0';
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "domid"); yajl_gen_integer(g, domid);
	for (line = strtok_r(text, "\n", &save); line && ok;
	     line = strtok_r(NULL, "\n", &save)) {
		snprintf(bad, sizeof(bad), "%s", line);
		if (!printable(line)) {
			ok = false;
			break;
		}
		n = split(line, w, sizeof(w) / sizeof(w[0]));
		if (n && !strcmp(w[0], "state") && !state) {
			state = true;
			GS(g, "type");
			GS(g, has_word(w, n, "hvm") ? "hvm" :
			      has_word(w, n, "pvh") ? "pvh" : "pv");
			ok = gen_num(g, w, n, "frontend", "frontend_state") &&
			     gen_num(g, w, n, "backend", "backend_state");
			gen_stubdom(g, w, n);
			GS(g, "devices");
			yajl_gen_array_open(g);
		} else if (n && !strcmp(w[0], "dev") && state) {
			ok = gen_dev(g, w, n);
		} else {
			ok = false;
		}
	}
	if (ok && !state) {
		ok = false;
		snprintf(bad, sizeof(bad), "(no state line)");
	}
	if (ok) {
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
		if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
			fprintf(out, "%.*s%s", (int)len, buf,
			len && buf[len - 1] == '\n' ? "" : "\n");
	} else {
		for (n = 0; bad[n]; n++)
			if (bad[n] < 0x20 || bad[n] > 0x7e)
				bad[n] = '?';
		fprintf(err, "xpt: domain %u: the guest's status has a "
			"line xpt does not understand: '%s'; `xpt "
			"guest-status %u` shows it as it is\n", domid, bad,
			domid);
	}
	yajl_gen_free(g);
	free(text);
	return ok ? XPT_EXIT_OK : XPT_EXIT_FAIL;
}

void cli_guest_status_text(FILE *out, const char *reply)
{
	for (; *reply; reply++)
		fputc(*reply == '\n' || (*reply >= 0x20 && *reply <= 0x7e) ?
		      *reply : '?', out);
}

/* `host status --json`: {"rundir": ..., "running": all run, "daemons":
 * [{"name", "state", "pid"}]}; the exit code and error as without. */
int cli_host_status_json(FILE *out, struct xpt_ctx *c,
			 const struct xpt_host_daemon *d, bool all)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t i, len;

	if (!g) {
		fprintf(stderr, "xpt: out of memory\n");
		return XPT_EXIT_FAIL;
	}
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "rundir"); GS(g, xpt_ctx_rundir(c));
	GS(g, "running"); yajl_gen_bool(g, all);
	GS(g, "daemons");
	yajl_gen_array_open(g);
	for (i = 0; i < XPT_HOST_DAEMONS; i++) {
		yajl_gen_map_open(g);
		GS(g, "name"); GS(g, d[i].name);
		GS(g, "state"); GS(g, d[i].state);
		GS(g, "pid");
		d[i].pid > 0 ? yajl_gen_integer(g, d[i].pid) : yajl_gen_null(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		fprintf(out, "%.*s%s", (int)len, buf,
			len && buf[len - 1] == '\n' ? "" : "\n");
	yajl_gen_free(g);
	return XPT_EXIT_OK;
}
