// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over xpt trace's reading of a store's log
 * (src/xpt/trace-parse.c): a log's lines come partly from guests.  The
 * first byte picks the options (domain filter, reads, every path, and
 * whether the same bytes are merged again as a hypervisor's event log,
 * trace-hv.c), the rest is the log.  Besides no crash, UB or leak: every line is counted
 * once (a record, skipped or ignored), every event's lanes exist, every
 * string a writer shows is printable ASCII, a state is -1 or 0..8, and
 * the text, JSON and HTML writers succeed, the JSON parsing back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "trace.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-tracelog: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

static void check_printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	CHECK(n < max);
	for (; *s; s++)
		CHECK(*s >= 32 && *s <= 126);
}

static void check_json(const struct trace *t)
{
	char *buf = NULL, err[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	yajl_val v;

	CHECK(f);
	CHECK(trace_write_json(f, t) == 0);
	CHECK(fclose(f) == 0);
	v = yajl_tree_parse(buf, err, sizeof(err));
	CHECK(v && YAJL_IS_OBJECT(v));
	yajl_tree_free(v);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "web01", "<b>", "" };
	struct trace_opts o = { .domid = -1 };
	struct trace t;
	char err[512] = "", empty[1] = "";
	FILE *f, *null;
	unsigned i;
	int r;

	if (size < 1)
		return 0;
	o.reads = data[0] & 1;
	o.all_paths = data[0] & 2;
	if (data[0] & 4)
		o.domid = (data[0] >> 4) & 7;
	else if (data[0] & 8)
		o.domain_name = names[(data[0] >> 4) % 3];
	/* fmemopen wants a size of 1 at least: an empty log is one byte
	 * read before the parser starts */
	f = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") :
		       fmemopen(empty, sizeof(empty), "r");
	CHECK(f);
	if (size == 1)
		fgetc(f);
	r = trace_parse(f, "fuzz.log", &o, &t, err, sizeof(err));
	if (r < 0) {
		/* only a name the log does not have */
		CHECK(o.domain_name && err[0]);
		fclose(f);
		return 0;
	}
	if (data[0] & 0x80) {
		rewind(f);
		if (size == 1)
			fgetc(f);
		CHECK(trace_merge_hv(&t, f, "fuzz.log.hv", err,
				     sizeof(err)) == 0);
	}
	fclose(f);
	CHECK(t.records + t.hv_records + t.skipped + t.ignored ==
	      t.lines + t.hv_lines);
	CHECK(t.nlanes >= 1 && t.lanes[0].party == TP_STORE);
	for (i = 0; i < t.nlanes; i++)
		check_printable(t.lanes[i].name, sizeof(t.lanes[i].name));
	for (i = 0; i < t.nevents; i++) {
		const struct trace_event *e = &t.events[i];

		CHECK(e->from >= 0 && (unsigned)e->from < t.nlanes);
		CHECK(e->to >= 0 && (unsigned)e->to < t.nlanes);
		CHECK(e->from == 0 || e->to == 0 ||
		      (e->kind == TK_HV &&
		       t.lanes[e->from].party == TP_HYPERVISOR));
		CHECK(e->line >= 1 &&
		      e->line <= (e->kind == TK_HV ? t.hv_lines : t.lines));
		CHECK(i == 0 || e->t >= t.events[i - 1].t ||
		      (e->kind != TK_HV && t.events[i - 1].kind != TK_HV));
		CHECK(e->t >= 0);
		check_printable(e->path, sizeof(e->path));
		check_printable(e->value, sizeof(e->value));
		CHECK(e->state_to >= -1 && e->state_to <= 8);
		CHECK(e->state_from >= -1 && e->state_from <= 8);
		CHECK(!e->is_state || e->kind == TK_WRITE);
		if (t.filter_domid >= 0 && e->kind != TK_TX_START &&
		    e->kind != TK_TX_COMMIT && e->kind != TK_TX_ABORT) {
			unsigned k;
			bool stub = false;

			for (k = 0; k < t.nstubdoms; k++)
				stub |= e->domid == t.stubdoms[k];
			for (k = 0; k < t.nearlier; k++)
				stub |= e->domid == t.earlier[k];
			CHECK(e->domid == t.filter_domid || stub);
		}
		if (!o.reads)
			CHECK(e->kind != TK_READ && e->kind != TK_DIRECTORY);
	}
	check_printable(t.filter_name, sizeof(t.filter_name));
	null = fopen("/dev/null", "we");
	CHECK(null);
	CHECK(trace_write_text(null, &t) == 0);
	CHECK(trace_write_html(null, &t) == 0);
	fclose(null);
	check_json(&t);
	trace_free(&t);
	return 0;
}
