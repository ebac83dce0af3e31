/* SPDX-License-Identifier: MIT */
/*
 * xpt trace --html: the timeline as one self-contained page (inline CSS and
 * SVG, no network, no fonts, no scripts needed to see it), a sequence
 * diagram with a lane per party.
 *
 * Every string of a trace comes from a log that guests write into (values,
 * paths, watch tokens), so every one goes through html_strn(), which escapes
 * it for HTML text and for attribute values alike and shows control bytes
 * and broken UTF-8 as \xNN.
 *
 * DOM contract (tests/trace/browser.py checks it in a real browser; tools
 * may rely on it):
 *
 *   <svg id="timeline">
 *     <g class="lane" data-party="P" data-domid="N" data-name="NAME">
 *         one per lane, in the struct's lane order; P is store, toolstack,
 *         pciback, pcifront, dm, stubdom, hypervisor or other; N is -1 when
 *         unknown.  Holds the header (<rect class="head">, <text>), the
 *         lane's vertical <line> and a <title>.  Opened as PAGE#lane=N,
 *         the page dims (class "dim") every arrow that does not touch lane
 *         N, as a click on its header does: the one optional script.
 *     <g class="arrow" data-kind="K" data-from="F" data-to="T" data-line="L"
 *        data-tx="X" [data-failed="1"] [data-absent="1"] [data-aborted="1"]>
 *         one per drawn event, in log order; K is write, mkdir, rm,
 *         set-perms, read, directory, watch, unwatch, watch-event, tx-start,
 *         tx-commit, tx-abort, introduce, release, control, hv or other; F
 *         and T are lane indexes (the store is 0), L the log's line, X the
 *         transaction (0 outside one); data-failed on every error reply,
 *         data-absent too on a removal of a node not there (ENOENT, drawn
 *         apart and not red: trace_absent_rm).  Holds a <line> (a <path>
 *         when both ends are one lane), a <text> label and a <title> with
 *         the full path and value.
 *     <g class="state" data-lane="N" data-dev="D" data-from="S" data-to="S">
 *         a xenbus state change on the writer's lane, right after its
 *         arrow; D is the device index (-1: the whole bus), S the xenbus
 *         states as numbers (-1 unknown).
 *     <g class="txspan" data-lane="N" data-tx="X" [data-aborted="1"]>
 *         a transaction's span, bracketed beside its party's lane.
 *     <g class="gap">   a pause of TRACE_HTML_GAP_S or more before the next
 *         arrow (a dotted line and its length).
 *   <p id="cap">        only when events were left out (more than
 *                       TRACE_HTML_MAX_EVENTS).
 *   <table id="summary"> a row per device: its state sequences.
 *   <dl id="meta">      the source and counts: <dd id="nevents">,
 *                       "nfailed", "naborted", "nskipped".
 *
 * Layout, worked: lanes sorted dom0's tools (toolstack, device model,
 * hypervisor, others) left of the store, the backend and the guests' side
 * (pciback, stub domains, pcifront) right of it, LANE_W pixels apart after
 * a gutter with the log's line numbers.  Event i is a row ROW_H high; a
 * state write takes STATE_H more for its box.  So a toolstack write of
 * backend/pci/5/0/state = 1 at log line 12 is an arrow from the toolstack's
 * lane to the store's at the row's bottom, labelled "write
 * d0:backend/pci/5/0/state = 1 · +0.004 s", and below it, on the toolstack's
 * lane, a box "Initialising" in the colour of that state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "trace.h"

#define GUTTER 70		/* line numbers */
#define LANE_W 230
#define HEAD_H 46		/* a lane's header */
#define TOP 10
#define ROW_H 30
#define STATE_H 26
#define GAP_H 20		/* a pause in the log (TRACE_HTML_GAP_S) */
#define MARK_EVERY 40		/* rows between the lanes' names repeated */
#define PATH_SHOWN 44		/* characters of a path in a label */
#define VALUE_SHOWN 40

struct party_look {
	const char *colour;	/* the lane's header */
	int rank;		/* left to right: dom0's tools, the store, the
				 * backend and the guests' side */
};

static const struct party_look parties[] = {
	[TP_STORE] = { "#3c4a5e", 35 },
	[TP_TOOLSTACK] = { "#1f5fbf", 0 },
	[TP_PCIBACK] = { "#1e7a46", 40 },
	[TP_PCIFRONT] = { "#a86a00", 60 },
	[TP_DM] = { "#6a3fc0", 10 },
	[TP_STUBDOM] = { "#b0306e", 50 },
	[TP_HYPERVISOR] = { "#0f7f86", 20 },
	[TP_OTHER] = { "#6b6f76", 30 },
};

/* The fill of a xenbus state's box: XenbusStateUnknown (0) to
 * XenbusStateReconfigured (8), as trace_state_name() names them. */
static const char *const state_fills[] = {
	"#d5d8dc", "#fff3b0", "#ffe27a", "#ffd0a0", "#9fe3b0",
	"#f9b98c", "#c8ccd2", "#a9d2f5", "#7fb8ee",
};

/* A transaction: its party's lane, id, and the rows it spans. */
struct txspan {
	int lane;
	unsigned tx;
	bool aborted;
	int domid;		/* the first domain its paths concern */
	double y0, y1;		/* drawn rows; y1 < 0 while none */
	int col;		/* bracket column beside the lane */
};

/* A device's side as the summary shows it: the committed states in turn. */
struct devside {
	int domid, dev;
	bool front;
	unsigned n;
	int states[24];
	bool more;		/* states beyond the array */
};

struct html {
	FILE *out;
	const struct trace *t;
	unsigned ndrawn;	/* events drawn: at most TRACE_HTML_MAX_EVENTS */
	int *col;		/* lane -> column */
	struct txspan *tx;
	unsigned ntx, captx;
	int *ev_tx;		/* event -> its txspan, -1 none */
	double *row_y;		/* drawn event -> its arrow's y */
	double height;
	struct devside *dev;
	unsigned ndev, capdev;
	unsigned nfailed, naborted_tx;
	unsigned nabsent;	/* removals of nodes not there, apart */
	char nonce[33];		/* our script's; empty: no script */
};

/* The DOM's kind: trace_kind_name()'s, hyphenated ("watch-event"). */
static void put_kind(FILE *out, enum trace_kind k)
{
	const char *s;

	for (s = trace_kind_name(k); *s; s++)
		fputc(*s == '_' ? '-' : *s, out);
}

static const struct party_look *party_of(enum trace_party p)
{
	return (unsigned)p <= TP_OTHER ? &parties[p] : &parties[TP_OTHER];
}

static const char *state_name(int s)
{
	const char *name = trace_state_name(s);

	return name ? name : "?";
}

static const char *state_fill(int s)
{
	return s >= 0 && s <= 8 ? state_fills[s] : "#ffffff";
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if broken. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three- and four-byte forms, surrogates, beyond U+10FFFF. */
	if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) ||
			 (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) ||
			 (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return len;
}

/*
 * Write n bytes of s for HTML text or a quoted attribute: markup
 * characters as entities, control bytes and broken UTF-8 as a visible
 * \xNN, at most max characters (then an ellipsis; 0: no limit).
 */
static void html_strn(FILE *out, const char *str, size_t n, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, shown = 0, len;

	while (i < n && s[i]) {
		if (max && shown == max) {
			fputs("\u2026", out);
			return;
		}
		shown++;
		switch (s[i]) {
		case '&': fputs("&amp;", out); i++; continue;
		case '<': fputs("&lt;", out); i++; continue;
		case '>': fputs("&gt;", out); i++; continue;
		case '"': fputs("&quot;", out); i++; continue;
		case '\'': fputs("&#39;", out); i++; continue;
		default: break;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(out, "\\x%02x", s[i]);
			i++;
			continue;
		}
		len = utf8_len(s + i, n - i);
		/* C1 controls (U+0080..U+009F) are controls too. */
		if (len == 0 || (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			fprintf(out, "\\x%02x", s[i]);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, out);
		i += len;
	}
}

static void html_str(FILE *out, const char *s)
{
	html_strn(out, s, strlen(s), 0);
}

/*
 * A path as a label shows it: "/local/domain/5/device/pci/0/state" as
 * "d5:device/pci/0/state", and a long one by its end ("…" then the last
 * PATH_SHOWN - 1 characters from a '/').
 */
static void html_path(FILE *out, const char *path)
{
	const char *p = path, *rest;
	char *end;
	unsigned long d;
	size_t n;

	if (strncmp(p, "/local/domain/", 14) == 0 && p[14] >= '0' && p[14] <= '9') {
		errno = 0;
		d = strtoul(p + 14, &end, 10);
		if (errno == 0 && (*end == '/' || *end == '\0') && d < 0x10000) {
			/* "d5:" alone would say less than the path. */
			if (*end && end[1]) {
				fprintf(out, "d%lu:", d);
				p = end + 1;
			}
		}
	}
	n = strlen(p);
	if (n > PATH_SHOWN) {
		rest = p + n - (PATH_SHOWN - 1);
		while (*rest && *rest != '/' && rest < p + n - 8)
			rest++;
		/* Never start inside a UTF-8 sequence. */
		while ((*(const unsigned char *)rest & 0xc0) == 0x80)
			rest++;
		fputs("\u2026", out);
		p = rest;
		n = strlen(p);
	}
	html_strn(out, p, n, 0);
}

static int lane_x(const struct html *h, int lane)
{
	return GUTTER + h->col[lane] * LANE_W + LANE_W / 2;
}

/* The lane of the party an event belongs to: the end that is not the store. */
static int party_lane(const struct trace_event *e)
{
	return e->from != 0 ? e->from : e->to;
}

static int columns_assign(struct html *h)
{
	const struct trace *t = h->t;
	unsigned i, j, c = 0;
	int best;

	h->col = calloc(t->nlanes, sizeof(*h->col));
	if (!h->col)
		return -ENOMEM;
	for (i = 0; i < t->nlanes; i++)
		h->col[i] = -1;
	/* Lanes are few: pick the leftmost remaining each time. */
	for (c = 0; c < t->nlanes; c++) {
		best = -1;
		for (j = 0; j < t->nlanes; j++) {
			if (h->col[j] >= 0)
				continue;
			if (best < 0 || party_of(t->lanes[j].party)->rank <
					party_of(t->lanes[best].party)->rank)
				best = (int)j;
		}
		h->col[best] = (int)c;
	}
	return 0;
}

static struct devside *devside_get(struct html *h, int domid, int dev, bool front)
{
	struct devside *d;
	unsigned i;

	for (i = 0; i < h->ndev; i++) {
		d = &h->dev[i];
		if (d->domid == domid && d->dev == dev && d->front == front)
			return d;
	}
	if (h->ndev == h->capdev) {
		unsigned cap = h->capdev ? h->capdev * 2 : 4;

		d = realloc(h->dev, cap * sizeof(*d));
		if (!d)
			return NULL;
		h->dev = d;
		h->capdev = cap;
	}
	d = &h->dev[h->ndev++];
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->dev = dev;
	d->front = front;
	return d;
}

static int devside_cmp(const void *a, const void *b)
{
	const struct devside *x = a, *y = b;

	if (x->domid != y->domid)
		return x->domid < y->domid ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (int)x->front - (int)y->front;
}

/*
 * One pass over every event (drawn or not): transactions and the lanes they
 * belong to, the devices' committed state sequences, the counts.
 */
static int trace_scan(struct html *h)
{
	const struct trace *t = h->t;
	const struct trace_event *e;
	struct txspan *s;
	struct devside *d;
	int *open = NULL;	/* indexes of the spans still open */
	unsigned i, j, nopen = 0, capopen = 0;
	int k;

	h->ev_tx = calloc(t->nevents, sizeof(*h->ev_tx));
	if (!h->ev_tx)
		return -ENOMEM;
	for (i = 0; i < t->nevents; i++) {
		e = &t->events[i];
		h->ev_tx[i] = -1;
		if (trace_absent_rm(e))
			h->nabsent++;
		else if (e->failed)
			h->nfailed++;
		if (e->tx != 0) {
			/* Open transactions are few (a store limits them per
			 * connection); an id closes at its end and may be
			 * used again. */
			k = -1;
			for (j = 0; j < nopen; j++) {
				if (h->tx[open[j]].tx == e->tx &&
				    h->tx[open[j]].lane == party_lane(e)) {
					k = open[j];
					break;
				}
			}
			if (k < 0) {
				if (nopen == capopen) {
					int *o = realloc(open, (capopen ? capopen * 2 : 8) *
							 sizeof(*o));
					if (!o)
						goto nomem;
					open = o;
					capopen = capopen ? capopen * 2 : 8;
				}
				if (h->ntx == h->captx) {
					unsigned cap = h->captx ? h->captx * 2 : 8;

					s = realloc(h->tx, cap * sizeof(*s));
					if (!s)
						goto nomem;
					h->tx = s;
					h->captx = cap;
				}
				k = (int)h->ntx++;
				j = nopen;
				open[nopen++] = k;
				s = &h->tx[k];
				memset(s, 0, sizeof(*s));
				s->lane = party_lane(e);
				s->tx = e->tx;
				s->domid = -1;
				s->y1 = -1;
			}
			s = &h->tx[k];
			h->ev_tx[i] = k;
			if (e->aborted && !s->aborted) {
				s->aborted = true;
				h->naborted_tx++;
			}
			if (s->domid < 0)
				s->domid = e->domid;
			if (e->kind == TK_TX_COMMIT || e->kind == TK_TX_ABORT)
				open[j] = open[--nopen];
		}
		if (e->state_to < 0 || e->failed || e->aborted)
			continue;
		d = devside_get(h, e->domid, e->dev, strstr(e->path, "/backend/") == NULL);
		if (!d)
			goto nomem;
		if (d->n > 0 && d->states[d->n - 1] == e->state_to)
			continue;
		if (d->n < sizeof(d->states) / sizeof(d->states[0]))
			d->states[d->n++] = e->state_to;
		else
			d->more = true;
	}
	free(open);
	if (h->ndev > 1)
		qsort(h->dev, h->ndev, sizeof(*h->dev), devside_cmp);
	return 0;
nomem:
	free(open);
	return -ENOMEM;
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:16px;color:#1b1f24;background:#fff}\n"
	"h1{font-size:20px;margin:0 0 8px}\n"
	"dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0 0 12px}\n"
	"dl.meta dt{font-weight:bold}dl.meta dd{margin:0}\n"
	"#cap{background:#fff4d6;border:1px solid #e0b400;padding:6px 10px}\n"
	"table{border-collapse:collapse;margin:8px 0 16px}\n"
	"th,td{border:1px solid #c8ccd2;padding:3px 8px;text-align:left;vertical-align:top}\n"
	"th{background:#eef0f3}\n"
	".legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 12px;align-items:center}\n"
	".legend svg{vertical-align:middle}\n"
	".sw{display:inline-block;width:14px;height:14px;border:1px solid #777;vertical-align:middle;margin-right:4px}\n"
	"#timeline{display:block;font-family:monospace;font-size:11px}\n"
	"#timeline .head text{fill:#fff}\n"
	".lane text.name{font:bold 12px sans-serif;fill:#fff}\n"
	".lane text.dom{font:11px sans-serif;fill:#fff}\n"
	/* A white halo keeps a label legible across the lanes it crosses. */
	".arrow text{fill:#1b1f24;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
	".arrow[data-failed] text{fill:#d00000;font-weight:bold}\n"
	".arrow[data-absent] text{fill:#7d6a52;font-weight:normal}\n"
	".arrow[data-aborted] text{fill:#8a8f96}\n"
	".arrow:hover text,.arrow.hl text{font-weight:bold}\n"
	".arrow:hover line,.arrow:hover path{stroke-width:3}\n"
	".state text{font:11px sans-serif;fill:#1b1f24}\n"
	".txspan text{font:10px sans-serif}\n"
	".gutter{fill:#8a8f96}\n"
	".lane text.mark{font:10px sans-serif;opacity:.7}\n"
	".gap text{font:11px sans-serif;fill:#8a8f96}\n"
	".dim{opacity:.15}\n";

/* Arrow colours by kind; a failed request is red, an aborted one grey. */
#define RED "#d00000"
#define ABSENT "#a3927c"	/* a removal of a node not there */
#define GREY "#9aa0a8"

static const char *kind_colour(enum trace_kind k)
{
	switch (k) {
	case TK_WRITE: case TK_MKDIR: case TK_RM: case TK_SET_PERMS:
		return "#1b1f24";
	case TK_READ: case TK_DIRECTORY:
		return "#7d8590";
	case TK_WATCH: case TK_UNWATCH:
		return "#2d5f9a";
	case TK_WATCH_EVENT:
		return "#2f8fdf";
	case TK_TX_START: case TK_TX_COMMIT: case TK_TX_ABORT:
		return "#7b4fc9";
	case TK_INTRODUCE: case TK_RELEASE: case TK_CONTROL:
		return "#b85c00";
	case TK_HV:
		return "#0f7f86";
	default:
		return "#4d5560";
	}
}

/* One arrowhead marker per colour: their ids are the colour's digits. */
static const char *const marker_colours[] = {
	"#1b1f24", "#7d8590", "#2d5f9a", "#2f8fdf", "#7b4fc9", "#b85c00",
	"#0f7f86", "#4d5560", RED, GREY, ABSENT,
};

static void write_header(struct html *h)
{
	const struct trace *t = h->t;
	FILE *out = h->out;
	unsigned i;
	char when[64] = "";
	time_t secs = (time_t)t->t0;
	struct tm tm;

	if (t->t0 > 0 && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	/* Defence in depth: should a value ever slip through unescaped, the
	 * browser runs no script but ours, which carries a fresh nonce, and
	 * loads nothing. */
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src ", out);
	if (h->nonce[0])
		fprintf(out, "'nonce-%s'", h->nonce);
	else
		fputs("'none'", out);
	fputs("\">\n<title>xpt trace: ", out);
	html_str(out, t->source ? t->source : "(unnamed)");
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
	fputs("<h1>xpt trace: ", out);
	html_str(out, t->source ? t->source : "(unnamed)");
	fputs("</h1>\n<dl class=\"meta\" id=\"meta\">\n<dt>source</dt><dd>", out);
	html_str(out, t->source ? t->source : "(unnamed)");
	fputs("</dd>\n<dt>format</dt><dd>", out);
	html_str(out, t->format ? t->format : "unknown");
	fputs("</dd>\n<dt>domain</dt><dd>", out);
	if (t->filter_domid >= 0) {
		fprintf(out, "%d", t->filter_domid);
		if (t->filter_name[0]) {
			fputs(" (", out);
			html_strn(out, t->filter_name, strnlen(t->filter_name,
							      sizeof(t->filter_name)), 0);
			fputc(')', out);
		}
		for (i = 0; i < t->nearlier; i++)
			fprintf(out, "%s%d", i ? ", " : " and earlier ",
				t->earlier[i]);
		fputs(": the events that concern it only", out);
	} else {
		fputs("all", out);
	}
	if (!t->all_paths)
		fputs("; the PCI protocol's paths only", out);
	if (!t->reads)
		fputs("; no reads", out);
	fputs("</dd>\n", out);
	if (when[0])
		fprintf(out, "<dt>first line</dt><dd>%s</dd>\n", when);
	if (t->lines)
		fprintf(out, "<dt>log</dt><dd>%u lines, %u records, %u of the daemon's "
			"own messages</dd>\n", t->lines, t->records, t->ignored);
	fprintf(out, "<dt>lanes</dt><dd>%u</dd>\n"
		"<dt>events</dt><dd id=\"nevents\">%u (%u drawn)</dd>\n"
		"<dt>failed requests</dt><dd id=\"nfailed\">%u",
		t->nlanes, t->nevents, h->ndrawn, h->nfailed);
	if (h->nabsent)
		fprintf(out, " (and %u removals of nodes not there, ENOENT: "
			"toolstacks start clean so, not counted)", h->nabsent);
	fprintf(out, "</dd>\n<dt>aborted transactions</dt><dd id=\"naborted\">%u</dd>\n"
		"<dt>skipped lines</dt><dd id=\"nskipped\">%u%s</dd>\n</dl>\n",
		h->naborted_tx, t->skipped, t->skipped ? " (not log records)" : "");
	if (h->ndrawn < t->nevents) {
		fprintf(out, "<p id=\"cap\">Only the first %u events are drawn; "
			"%u later events are left out (they are in the summary). ",
			h->ndrawn, t->nevents - h->ndrawn);
		if (t->filter_domid < 0)
			fputs("Narrow the trace to one domain with "
			      "<code>xpt trace --domain ID --html</code>.</p>\n", out);
		else
			fputs("Cut the log to the time you are after, or read the "
			      "rest with <code>xpt trace</code>'s text view.</p>\n", out);
	}
}

static void write_legend(struct html *h)
{
	static const struct { const char *colour, *what; bool dashed; } items[] = {
		{ "#1b1f24", "write, mkdir, rm, set-perms", false },
		{ "#7d8590", "read, directory", false },
		{ "#2d5f9a", "watch, unwatch", false },
		{ "#2f8fdf", "watch event (store to party)", false },
		{ "#7b4fc9", "transaction start and end", false },
		{ "#b85c00", "introduce, release, control", false },
		{ "#0f7f86", "hypervisor event", false },
		{ RED, "failed request (\u2717, the error)", false },
		{ ABSENT, "removal of a node not there (ENOENT)", true },
		{ GREY, "in an aborted transaction", true },
	};
	FILE *out = h->out;
	size_t i;

	fputs("<div class=\"legend\" id=\"legend\">\n", out);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		fprintf(out, "<span><svg width=\"34\" height=\"10\"><line x1=\"1\" y1=\"5\" "
			"x2=\"33\" y2=\"5\" stroke=\"%s\" stroke-width=\"2\"%s/></svg> %s</span>\n",
			items[i].colour, items[i].dashed ? " stroke-dasharray=\"5 3\"" : "",
			items[i].what);
	fputs("<span>xenbus states:", out);
	for (i = 0; i < 9; i++)
		fprintf(out, " <span class=\"sw\" style=\"background:%s\"></span>%d %s",
			state_fills[i], (int)i, state_name((int)i));
	fputs("</span>\n</div>\n", out);
}

static void write_states(FILE *out, const struct devside *d)
{
	unsigned i;

	if (!d) {
		fputs("<td>\u2014</td>", out);
		return;
	}
	fputs("<td>", out);
	for (i = 0; i < d->n; i++)
		fprintf(out, "%s<span class=\"sw\" style=\"background:%s\"></span>%s",
			i ? " \u2192 " : "", state_fill(d->states[i]),
			state_name(d->states[i]));
	if (d->more)
		fputs(" \u2192 \u2026", out);
	fputs("</td>", out);
}

static void write_summary(struct html *h)
{
	const struct trace *t = h->t;
	FILE *out = h->out;
	const struct devside *back, *front;
	unsigned i, j, k, nf = 0, na = 0, nrows = 0;

	fputs("<h2>Devices</h2>\n<table id=\"summary\">\n<tr><th>domain</th><th>device</th>"
	      "<th>backend states</th><th>frontend states</th>"
	      "<th>failed requests</th><th>aborted transactions</th></tr>\n", out);
	if (h->ndev == 0)
		fputs("<tr><td colspan=\"6\">no xenbus state changes in this trace</td></tr>\n", out);
	for (i = 0; i < h->ndev; i = j) {
		bool first = i == 0 || h->dev[i - 1].domid != h->dev[i].domid;

		back = front = NULL;
		for (j = i; j < h->ndev && h->dev[j].domid == h->dev[i].domid &&
			    h->dev[j].dev == h->dev[i].dev; j++) {
			if (h->dev[j].front)
				front = &h->dev[j];
			else
				back = &h->dev[j];
		}
		fprintf(out, "<tr class=\"dev\" data-domid=\"%d\" data-dev=\"%d\">",
			h->dev[i].domid, h->dev[i].dev);
		/* The domain and its counts once, over its devices' rows: a
		 * request names a path, not a device. */
		if (first) {
			nf = na = nrows = 0;
			for (k = i; k < h->ndev && h->dev[k].domid == h->dev[i].domid; k++)
				nrows += k == i || h->dev[k].dev != h->dev[k - 1].dev;
			for (k = 0; k < t->nevents; k++)
				nf += t->events[k].failed && !trace_absent_rm(&t->events[k]) &&
				      t->events[k].domid == h->dev[i].domid;
			for (k = 0; k < h->ntx; k++)
				na += h->tx[k].aborted && h->tx[k].domid == h->dev[i].domid;
			fprintf(out, "<td rowspan=\"%u\">%d</td>", nrows, h->dev[i].domid);
		}
		fputs("<td>", out);
		if (h->dev[i].dev < 0)
			fputs("bus", out);
		else
			fprintf(out, "%d", h->dev[i].dev);
		fputs("</td>", out);
		write_states(out, back);
		write_states(out, front);
		if (first)
			fprintf(out, "<td rowspan=\"%u\" class=\"nfailed\">%u</td>"
				"<td rowspan=\"%u\" class=\"naborted\">%u</td>", nrows, nf, nrows, na);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void write_marker_defs(FILE *out)
{
	size_t i;

	fputs("<defs>\n", out);
	for (i = 0; i < sizeof(marker_colours) / sizeof(marker_colours[0]); i++)
		fprintf(out, "<marker id=\"ah%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
			"markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" "
			"orient=\"auto-start-reverse\">"
			"<path d=\"M0,0L10,5L0,10z\" fill=\"%s\"/></marker>\n",
			marker_colours[i] + 1, marker_colours[i]);
	fputs("</defs>\n", out);
}

static void write_label(FILE *out, const struct trace_event *e)
{
	bool absent = trace_absent_rm(e);

	if (e->failed && !absent)
		fputs("\u2717 ", out);
	put_kind(out, e->kind);
	if (e->path[0]) {
		fputc(' ', out);
		html_path(out, e->path);
	}
	if (absent) {
		fputs(": not there (ENOENT)", out);
	} else if (e->value[0]) {
		fputs(e->failed ? ": " : e->kind == TK_WATCH_EVENT ||
		      e->kind == TK_WATCH || e->kind == TK_UNWATCH ? " token " : " = ", out);
		html_strn(out, e->value, strlen(e->value), VALUE_SHOWN);
	}
	if (e->tx)
		fprintf(out, " \u00b7 tx %u", e->tx);
	fprintf(out, " \u00b7 +%.3f s", e->t);
}

/* The width of escaped label text in the timeline's monospace 11px: an
 * entity or a UTF-8 sequence is one character. */
static int label_width(const char *s)
{
	int n = 0;

	for (; *s; s++) {
		if (*s == '&') {
			while (s[1] && *s != ';')
				s++;
		} else if ((*(const unsigned char *)s & 0xc0) == 0x80) {
			continue;
		}
		n++;
	}
	return n * 7;
}

static void write_arrow(struct html *h, unsigned i, double y)
{
	const struct trace *t = h->t;
	const struct trace_event *e = &t->events[i];
	FILE *out = h->out;
	bool absent = trace_absent_rm(e), failed = e->failed && !absent;
	const char *colour = absent ? ABSENT : failed ? RED : e->aborted ? GREY :
			     kind_colour(e->kind);
	const char *dash = e->aborted ? " stroke-dasharray=\"6 4\"" :
			   absent ? " stroke-dasharray=\"2 3\"" : "";
	int x1 = lane_x(h, e->from), x2 = lane_x(h, e->to);
	int lx = x1 == x2 ? x1 + 30 : (x1 + x2) / 2;
	const char *anchor = x1 == x2 ? "start" : "middle";
	char *text = NULL;
	size_t len = 0;
	FILE *label;

	fputs("<g class=\"arrow\" data-kind=\"", out);
	put_kind(out, e->kind);
	fprintf(out, "\" data-from=\"%d\" data-to=\"%d\" "
		"data-line=\"%u\" data-tx=\"%u\"%s%s%s>",
		e->from, e->to, e->line, e->tx,
		e->failed ? " data-failed=\"1\"" : "", absent ? " data-absent=\"1\"" : "",
		e->aborted ? " data-aborted=\"1\"" : "");
	fputs("<title>", out);
	fprintf(out, "line %u, +%.6f s: %s", e->line, e->t,
		absent ? "(not there) " : e->failed ? "FAILED " : "");
	put_kind(out, e->kind);
	fputc(' ', out);
	html_str(out, e->path);
	if (e->value[0]) {
		fputs(e->failed ? " error " : " value ", out);
		html_str(out, e->value);
		if (e->truncated)
			fputs(" (the log cut it)", out);
	}
	if (e->tx)
		fprintf(out, " (transaction %u%s)", e->tx, e->aborted ? ", aborted" : "");
	fputs("</title>", out);
	if (x1 == x2)
		fprintf(out, "<path d=\"M%d,%.0f h24 v10 h-22\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"%s\"%s marker-end=\"url(#ah%s)\"/>",
			x1, y - 6, colour, failed ? "2.5" : "1.5", dash, colour + 1);
	else
		fprintf(out, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" stroke=\"%s\" "
			"stroke-width=\"%s\"%s marker-end=\"url(#ah%s)\"/>",
			x1 + (x2 > x1 ? 3 : -3), y, x2 + (x2 > x1 ? -3 : 3), y, colour,
			failed ? "2.5" : "1.5", dash, colour + 1);
	/* Centred over its arrow, but never out of the picture's left edge
	 * (nor over the line numbers). */
	label = open_memstream(&text, &len);
	if (label) {
		write_label(label, e);
		if (fclose(label) != 0) {
			free(text);
			text = NULL;
		}
	}
	if (x1 != x2 && text && lx - label_width(text) / 2 < GUTTER) {
		lx = GUTTER;
		anchor = "start";
	}
	fprintf(out, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"%s\">", lx, y - 5, anchor);
	if (text)
		fputs(text, out);
	else
		write_label(out, e);
	free(text);
	fputs("</text></g>\n", out);
	fprintf(out, "<text class=\"gutter\" x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%u</text>\n",
		GUTTER - 10, y + 4, e->line);
}

static void write_state(struct html *h, const struct trace_event *e, double y)
{
	FILE *out = h->out;
	int x = lane_x(h, e->from);
	const char *name = state_name(e->state_to);
	int w = 96;

	fprintf(out, "<g class=\"state\" data-lane=\"%d\" data-dev=\"%d\" data-from=\"%d\" "
		"data-to=\"%d\"%s><title>", e->from, e->dev, e->state_from, e->state_to,
		e->aborted || e->failed ? " opacity=\"0.45\"" : "");
	html_str(out, e->path);
	fprintf(out, ": %s (%d) to %s (%d)%s</title>", state_name(e->state_from),
		e->state_from, name, e->state_to,
		e->failed ? ", the write failed" : e->aborted ? ", in an aborted transaction" : "");
	fprintf(out, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" rx=\"4\" "
		"fill=\"%s\" stroke=\"#555\"%s/>", x - w / 2, y, w, STATE_H - 6,
		state_fill(e->state_to), e->aborted ? " stroke-dasharray=\"4 3\"" : "");
	fprintf(out, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"middle\">", x, y + 14);
	if (e->dev >= 0)
		fprintf(out, "%d: ", e->dev);
	fprintf(out, "%s</text></g>\n", name);
}

static void write_lanes(struct html *h, double bottom)
{
	const struct trace *t = h->t;
	FILE *out = h->out;
	const struct trace_lane *l;
	const struct party_look *p;
	unsigned i;
	int x;

	for (i = 0; i < t->nlanes; i++) {
		l = &t->lanes[i];
		p = party_of(l->party);
		x = lane_x(h, (int)i);
		fprintf(out, "<g class=\"lane\" data-party=\"%s\" data-domid=\"%d\" data-name=\"",
			trace_party_name(l->party), l->domid);
		html_strn(out, l->name, strnlen(l->name, sizeof(l->name)), 0);
		fprintf(out, "\" data-lane=\"%u\"><title>", i);
		html_strn(out, l->name, strnlen(l->name, sizeof(l->name)), 0);
		fprintf(out, " (%s", trace_party_name(l->party));
		if (l->domid >= 0)
			fprintf(out, ", domain %d", l->domid);
		fputs("): click to keep only its arrows</title>", out);
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.0f\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-opacity=\"0.35\"/>",
			x, TOP + HEAD_H, x, bottom, p->colour);
		fprintf(out, "<rect class=\"head\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			"rx=\"5\" fill=\"%s\"/>", x - (LANE_W - 30) / 2, TOP, LANE_W - 30, HEAD_H,
			p->colour);
		/* The names again down a long diagram, the headers being far. */
		for (unsigned r = MARK_EVERY; r < h->ndrawn; r += MARK_EVERY) {
			fprintf(out, "<text class=\"mark\" x=\"%d\" y=\"%.0f\" fill=\"%s\">",
				x + 4, h->row_y[r] - ROW_H + 13, p->colour);
			html_strn(out, l->name, strnlen(l->name, sizeof(l->name)), 26);
			fputs("</text>", out);
		}
		fprintf(out, "<text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", x,
			TOP + 19);
		html_strn(out, l->name, strnlen(l->name, sizeof(l->name)), 26);
		fprintf(out, "</text><text class=\"dom\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
			x, TOP + 36);
		if (l->domid >= 0)
			fprintf(out, "%s \u00b7 domain %d", trace_party_name(l->party), l->domid);
		else
			fprintf(out, "%s", trace_party_name(l->party));
		fputs("</text></g>\n", out);
	}
}

/* Brackets beside the party's lane, in columns so that spans never cross. */
static void write_txspans(struct html *h)
{
	FILE *out = h->out;
	struct txspan *s;
	unsigned i, j;
	int x, c;

	for (i = 0; i < h->ntx; i++) {
		s = &h->tx[i];
		if (s->y1 < 0)
			continue;
		for (c = 0; c < 4; c++) {
			for (j = 0; j < i; j++)
				if (h->tx[j].y1 >= 0 && h->tx[j].lane == s->lane &&
				    h->tx[j].col == c && h->tx[j].y1 >= s->y0 - 12 &&
				    h->tx[j].y0 <= s->y1 + 12)
					break;
			if (j == i)
				break;
		}
		s->col = c;
		x = lane_x(h, s->lane) - 10 - 7 * c;
		fprintf(out, "<g class=\"txspan\" data-lane=\"%d\" data-tx=\"%u\"%s>"
			"<path d=\"M%d,%.0f h-5 V%.0f h5\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"1.5\"%s/>",
			s->lane, s->tx, s->aborted ? " data-aborted=\"1\"" : "",
			x, s->y0 - 16, s->y1 + 4, s->aborted ? GREY : "#7b4fc9",
			s->aborted ? " stroke-dasharray=\"4 3\"" : "");
		fprintf(out, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\" fill=\"%s\">"
			"tx %u%s</text></g>\n", x - 7, s->y0 - 8, s->aborted ? "#6b6f76" : "#7b4fc9",
			s->tx, s->aborted ? " aborted" : "");
	}
}

/*
 * Every drawn event's row: ROW_H each, STATE_H more after a state box,
 * GAP_H more before a pause of TRACE_HTML_GAP_S or longer; and the transactions'
 * spans over them.
 */
static int rows_place(struct html *h)
{
	const struct trace_event *e;
	double y = TOP + HEAD_H + 8;
	unsigned i;
	int k;

	h->row_y = calloc(h->ndrawn ? h->ndrawn : 1, sizeof(*h->row_y));
	if (!h->row_y)
		return -ENOMEM;
	for (i = 0; i < h->ndrawn; i++) {
		e = &h->t->events[i];
		if (i > 0 && e->t - e[-1].t >= TRACE_HTML_GAP_S)
			y += GAP_H;
		y += ROW_H;
		h->row_y[i] = y;
		k = h->ev_tx[i];
		if (k >= 0) {
			if (h->tx[k].y1 < 0)
				h->tx[k].y0 = y;
			h->tx[k].y1 = y;
		}
		if (e->state_to >= 0)
			y += STATE_H;
	}
	h->height = y + 20;
	return 0;
}

static void write_gap(struct html *h, unsigned i)
{
	const struct trace_event *e = &h->t->events[i];
	int x0 = GUTTER, x1 = GUTTER + (int)h->t->nlanes * LANE_W;
	double y = h->row_y[i] - ROW_H - GAP_H / 2 + 6;

	fprintf(h->out, "<g class=\"gap\"><line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" "
		"stroke=\"#c8ccd2\" stroke-dasharray=\"2 4\"/><text x=\"%d\" y=\"%.0f\">"
		"%.3f s later</text></g>\n", x0, y, x1, y, x0 + 4, y - 3, e->t - e[-1].t);
}

static void write_timeline(struct html *h)
{
	const struct trace *t = h->t;
	FILE *out = h->out;
	const struct trace_event *e;
	unsigned i, width = GUTTER + t->nlanes * LANE_W + 40;

	fprintf(out, "<h2>Timeline</h2>\n<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%u\" height=\"%.0f\" viewBox=\"0 0 %u %.0f\" role=\"img\" "
		"aria-label=\"a sequence diagram of %u events between %u parties\">\n",
		width, h->height, width, h->height, h->ndrawn, t->nlanes);
	write_marker_defs(out);
	fprintf(out, "<text class=\"gutter\" x=\"%d\" y=\"%d\" text-anchor=\"end\">line</text>\n",
		GUTTER - 10, TOP + HEAD_H + 4);
	write_lanes(h, h->height - 10);
	write_txspans(h);
	for (i = 0; i < h->ndrawn; i++) {
		e = &t->events[i];
		if (i > 0 && e->t - e[-1].t >= TRACE_HTML_GAP_S)
			write_gap(h, i);
		write_arrow(h, i, h->row_y[i]);
		if (e->state_to >= 0)
			write_state(h, e, h->row_y[i] + 4);
	}
	fputs("</svg>\n", out);
}

/*
 * Optional: click a lane's header to keep only its arrows in view; the
 * address then ends in #lane=N, which opens the page so filtered.
 */
static const char script[] =
	"(function(){var on=null;\n"
	"function show(n){on=n;\n"
	" document.querySelectorAll('#timeline .arrow').forEach(function(a){\n"
	"  var keep=on===null||a.getAttribute('data-from')===on||a.getAttribute('data-to')===on;\n"
	"  a.classList.toggle('dim',!keep);});\n"
	" try{history.replaceState(null,'',on===null?location.pathname:'#lane='+on);}catch(e){}}\n"
	"document.querySelectorAll('#timeline .lane').forEach(function(l){\n"
	" l.style.cursor='pointer';\n"
	" l.addEventListener('click',function(){var n=l.getAttribute('data-lane');\n"
	"  show(on===n?null:n);});});\n"
	"var m=/^#lane=([0-9]+)$/.exec(location.hash);if(m)show(m[1]);})();\n"
	"</script>\n";

int trace_write_html(FILE *out, const struct trace *t)
{
	struct html h = { .out = out, .t = t };
	unsigned char rnd[16];
	unsigned i;
	int r;

	if (t->nlanes == 0)
		return -EINVAL;
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].from < 0 || (unsigned)t->events[i].from >= t->nlanes ||
		    t->events[i].to < 0 || (unsigned)t->events[i].to >= t->nlanes)
			return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) == (ssize_t)sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(h.nonce + 2 * i, 3, "%02x", rnd[i]);
	h.ndrawn = t->nevents < TRACE_HTML_MAX_EVENTS ? t->nevents : TRACE_HTML_MAX_EVENTS;
	r = columns_assign(&h);
	if (r < 0)
		goto out;
	r = trace_scan(&h);
	if (r < 0)
		goto out;
	r = rows_place(&h);
	if (r < 0)
		goto out;
	write_header(&h);
	write_legend(&h);
	write_summary(&h);
	write_timeline(&h);
	if (h.nonce[0])
		fprintf(out, "<script nonce=\"%s\">\n%s", h.nonce, script);
	fputs("</body>\n</html>\n", out);
	r = fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
out:
	free(h.col);
	free(h.ev_tx);
	free(h.row_y);
	free(h.tx);
	free(h.dev);
	return r;
}
