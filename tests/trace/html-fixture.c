/* SPDX-License-Identifier: MIT */
/*
 * A struct trace built by hand for tests/trace/browser.py: every party,
 * every kind of event, a failed request, transactions that commit, fail
 * with EAGAIN and abort, xenbus state changes on both sides, and values a
 * hostile guest writes.  Writes the page (trace_write_html) and what its
 * DOM must show, as JSON, from the struct itself.
 *
 * usage: trace-html-fixture PAGE.html EXPECT.json [big [N]]
 *   big: 6000 events (or N), more than a page draws (its cap).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

enum { L_STORE, L_XPT, L_PCIBACK, L_FRONT, L_DM, L_STUB, L_HV, L_OTHER, NLANES };

static struct trace_lane lanes[NLANES] = {
	[L_STORE] = { TP_STORE, 0, "xpt-xenstored" },
	[L_XPT] = { TP_TOOLSTACK, 0, "toolstack (xpt)" },
	[L_PCIBACK] = { TP_PCIBACK, 0, "pciback" },
	[L_FRONT] = { TP_PCIFRONT, 5, "pcifront d5" },
	[L_DM] = { TP_DM, 0, "xpt-dm d7" },
	[L_STUB] = { TP_STUBDOM, 8, "stubdom d8" },
	[L_HV] = { TP_HYPERVISOR, -1, "hypervisor" },
	/* A client names itself: the lane's name is as untrusted as a value. */
	[L_OTHER] = { TP_OTHER, 5, "other \"><script>document.title='pwned'</script>" },
};

#define BE "/local/domain/0/backend/pci/5/0"
#define FE "/local/domain/5/device/pci/0"

#define SCRIPT_VALUE "<script>document.title='pwned'</script>"
#define IMG_VALUE "\"><img src=x onerror=\"document.title='pwned'\">"

static const struct {
	int from, to;
	enum trace_kind kind;
	unsigned tx;
	int domid;
	bool failed, aborted;
	const char *path, *value;
	int dev, state_from, state_to;
} script[] = {
	{ L_XPT, L_STORE, TK_INTRODUCE, 0, 5, 0, 0, "", "5 mfn 0x1234 port 3", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_TX_START, 1, -1, 0, 0, "", "", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_MKDIR, 1, 5, 0, 0, BE, "", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_WRITE, 1, 5, 0, 0, BE "/state", "1", -1, -1, 1 },
	{ L_XPT, L_STORE, TK_WRITE, 1, 5, 0, 0, FE "/state", "1", -1, -1, 1 },
	{ L_XPT, L_STORE, TK_SET_PERMS, 1, 5, 0, 0, FE, "n5 r0", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_TX_COMMIT, 1, -1, 0, 0, "", "", -1, -1, -1 },
	{ L_STORE, L_PCIBACK, TK_WATCH_EVENT, 0, 5, 0, 0, BE "/state", "be:5", -1, -1, -1 },
	{ L_PCIBACK, L_STORE, TK_READ, 0, 5, 0, 0, BE "/num_devs", "1", -1, -1, -1 },
	{ L_PCIBACK, L_STORE, TK_DIRECTORY, 0, 5, 0, 0, BE, "", -1, -1, -1 },
	{ L_PCIBACK, L_STORE, TK_WRITE, 0, 5, 0, 0, BE "/state", "2", -1, 1, 2 },
	{ L_STORE, L_FRONT, TK_WATCH_EVENT, 0, 5, 0, 0, BE "/state", "fe", -1, -1, -1 },
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 0, 0, FE "/state", "3", -1, 1, 3 },
	{ L_PCIBACK, L_STORE, TK_WRITE, 0, 5, 0, 0, BE "/state-0", "4", 0, 1, 4 },
	{ L_PCIBACK, L_STORE, TK_WRITE, 0, 5, 0, 0, BE "/state", "4", -1, 2, 4 },
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 0, 0, FE "/state", "4", -1, 3, 4 },
	{ L_XPT, L_STORE, TK_WATCH, 0, 5, 0, 0, BE "/state", "xpt-wait", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_UNWATCH, 0, 5, 0, 0, BE "/state", "xpt-wait", -1, -1, -1 },
	{ L_HV, L_XPT, TK_HV, 0, 5, 0, 0, "", "assign 0000:03:00.0 to d5", -1, -1, -1 },
	{ L_HV, L_HV, TK_HV, 0, 5, 0, 0, "", "iommu context for 03:00.0", -1, -1, -1 },
	{ L_DM, L_STORE, TK_WRITE, 0, 7, 0, 0, "/local/domain/0/device-model/7/state",
	  "running", -1, -1, -1 },
	{ L_STUB, L_STORE, TK_WRITE, 0, 8, 0, 0, "/local/domain/8/device/pci/0/state", "4",
	  -1, 3, 4 },
	/* A removal of a node not there, as toolstacks start clean: apart. */
	{ L_XPT, L_STORE, TK_RM, 0, 5, 1, 0, BE "/vdev-1", "ENOENT", -1, -1, -1 },
	/* A failed request: the frontend may not write the backend. */
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 1, 0, BE "/state", "EACCES", -1, -1, -1 },
	/* A transaction whose commit fails with EAGAIN... */
	{ L_XPT, L_STORE, TK_TX_START, 2, -1, 0, 1, "", "", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_WRITE, 2, 5, 0, 1, BE "/state", "7", -1, 4, 7 },
	{ L_XPT, L_STORE, TK_WRITE, 2, 5, 0, 1, BE "/num_devs", "2", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_TX_COMMIT, 2, 5, 1, 1, "", "EAGAIN", -1, -1, -1 },
	/* ...and one its client aborts. */
	{ L_XPT, L_STORE, TK_TX_START, 3, -1, 0, 1, "", "", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_RM, 3, 5, 0, 1, BE "/vdev-0", "", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_TX_ABORT, 3, 5, 0, 1, "", "", -1, -1, -1 },
	/* What a guest writes, hostile. */
	{ L_OTHER, L_STORE, TK_WRITE, 0, 5, 0, 0, "/local/domain/5/data/x", SCRIPT_VALUE,
	  -1, -1, -1 },
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 0, 0, FE "/vdev-0", IMG_VALUE, -1, -1, -1 },
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 0, 0, FE "/<svg onload=\"document.title='pwned'\">",
	  "a\001b\033[31mc\177d\302\205e \377", -1, -1, -1 },
	{ L_OTHER, L_STORE, TK_OTHER, 0, 5, 0, 0, "/local/domain/5", "GET_DOMAIN_PATH", -1, -1, -1 },
	{ L_XPT, L_STORE, TK_CONTROL, 0, -1, 0, 0, "", "log on", -1, -1, -1 },
	{ L_FRONT, L_STORE, TK_WRITE, 0, 5, 0, 0, FE "/state", "6", -1, 4, 6 },
	{ L_PCIBACK, L_STORE, TK_WRITE, 0, 5, 0, 0, BE "/state", "6", -1, 4, 6 },
	{ L_XPT, L_STORE, TK_RELEASE, 0, 5, 0, 0, "", "5", -1, -1, -1 },
};

#define NSCRIPT (sizeof(script) / sizeof(script[0]))

static const char *const kinds[] = {
	"write", "mkdir", "rm", "set-perms", "read", "directory", "watch", "unwatch",
	"watch-event", "tx-start", "tx-commit", "tx-abort", "introduce", "release",
	"control", "hv", "other",
};

static const char *const party_names[] = {
	"store", "toolstack", "pciback", "pcifront", "dm", "stubdom", "hypervisor", "other",
};

/* A JSON string, everything but letters and digits as \u escapes. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == ' ')
			fputc(c, f);
		else if (c < 0x80)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);	/* the fixture's lane names are ASCII */
	}
	fputc('"', f);
}

static void write_expect(FILE *f, const struct trace *t, unsigned drawn)
{
	unsigned count[TK_OTHER + 1] = { 0 };
	unsigned i;
	int n;

	fprintf(f, "{\"nevents\": %u, \"drawn\": %u,\n \"lanes\": [", t->nevents, drawn);
	for (i = 0; i < t->nlanes; i++) {
		fprintf(f, "%s{\"party\": \"%s\", \"domid\": %d, \"name\": ", i ? ", " : "",
			party_names[t->lanes[i].party], t->lanes[i].domid);
		json_str(f, t->lanes[i].name);
		fputc('}', f);
	}
	fputs("],\n \"arrows\": [", f);
	for (i = 0; i < drawn; i++) {
		const struct trace_event *e = &t->events[i];
		count[e->kind]++;
		fprintf(f, "%s\n  {\"kind\": \"%s\", \"from\": %d, \"to\": %d, \"line\": %u, "
			"\"tx\": %u, \"failed\": %s, \"absent\": %s, \"aborted\": %s}",
			i ? "," : "", kinds[e->kind], e->from, e->to, e->line, e->tx,
			e->failed ? "true" : "false",
			/* Spelt out here, not trace_absent_rm: the test's own
			 * statement of what is drawn apart. */
			e->failed && e->kind == TK_RM && !strcmp(e->value, "ENOENT") ?
			"true" : "false", e->aborted ? "true" : "false");
	}
	fputs("],\n \"states\": [", f);
	for (i = 0, n = 0; i < drawn; i++) {
		const struct trace_event *e = &t->events[i];
		if (e->state_to < 0)
			continue;
		fprintf(f, "%s\n  {\"lane\": %d, \"dev\": %d, \"from\": %d, \"to\": %d}",
			n++ ? "," : "", e->from, e->dev, e->state_from, e->state_to);
	}
	for (i = 1, n = 0; i < drawn; i++)
		n += t->events[i].t - t->events[i - 1].t >= TRACE_HTML_GAP_S;
	fprintf(f, "],\n \"gaps\": %d,\n \"kinds\": {", n);
	for (i = 0; i <= TK_OTHER; i++)
		fprintf(f, "%s\"%s\": %u", i ? ", " : "", kinds[i], count[i]);
	fputs("}}\n", f);
}

int main(int argc, char **argv)
{
	struct trace t = {
		.source = "fixture <b>bold</b>.log", .format = "xpt-xenstored",
		.filter_domid = -1, .nlanes = NLANES, .lanes = lanes, .t0 = 1764967000.5,
		.skipped = 2,
	};
	bool big = argc >= 4 && strcmp(argv[3], "big") == 0;
	FILE *page = NULL, *expect = NULL;
	unsigned long n = big ? 6000 : NSCRIPT;
	unsigned i, k;
	char *end;
	int r = 1;

	if (argc < 3 || argc > 5 || (argc >= 4 && !big)) {
		fprintf(stderr, "usage: trace-html-fixture PAGE.html EXPECT.json [big [N]]\n");
		return 2;
	}
	if (argc == 5) {
		errno = 0;
		n = strtoul(argv[4], &end, 10);
		if (errno || *end || n == 0 || n > 10000000) {
			fprintf(stderr, "trace-html-fixture: N is 1 to 10000000, not '%s'\n",
				argv[4]);
			return 2;
		}
	}
	t.events = calloc(n, sizeof(*t.events));
	if (!t.events)
		return 1;
	for (i = 0; i < n; i++) {
		struct trace_event *e = &t.events[i];
		k = i % NSCRIPT;
		/* A pause in each round, and between rounds. */
		e->t = 0.0015 * i + 1.6 * (i / NSCRIPT) + (k >= 18 ? 0.8 : 0);
		e->line = 3 + 2 * i;
		e->from = script[k].from;
		e->to = script[k].to;
		e->kind = script[k].kind;
		/* Repeats of the script get transactions of their own. */
		e->tx = script[k].tx ? script[k].tx + 3 * (i / NSCRIPT) : 0;
		e->domid = script[k].domid;
		e->failed = script[k].failed;
		e->aborted = script[k].aborted;
		snprintf(e->path, sizeof(e->path), "%s", script[k].path);
		snprintf(e->value, sizeof(e->value), "%s", script[k].value);
		e->dev = script[k].dev;
		e->state_from = script[k].state_from;
		e->state_to = script[k].state_to;
		e->is_state = script[k].state_to >= 0;
	}
	t.nevents = (unsigned)n;
	page = fopen(argv[1], "w");
	expect = fopen(argv[2], "w");
	if (!page || !expect) {
		fprintf(stderr, "trace-html-fixture: %s: %s\n", page ? argv[2] : argv[1],
			strerror(errno));
		goto out;
	}
	r = trace_write_html(page, &t);
	if (r < 0) {
		fprintf(stderr, "trace-html-fixture: trace_write_html: %s\n", strerror(-r));
		r = 1;
		goto out;
	}
	write_expect(expect, &t, n < TRACE_HTML_MAX_EVENTS ? n : TRACE_HTML_MAX_EVENTS);
	r = ferror(expect) ? 1 : 0;
out:
	if (page && fclose(page) != 0)
		r = 1;
	if (expect && fclose(expect) != 0)
		r = 1;
	free(t.events);
	return r;
}
