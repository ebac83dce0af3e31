// SPDX-License-Identifier: MIT
/*
 * xpt trace --json: the timeline for tools.  The schema (xpt(1), "xpt
 * trace") is stable: fields are added, never renamed.
 *
 *   { "source": "access.log", "format": "xpt-xenstored",
 *     "domain": 5 | null, "domain_name": "web01" | null,
 *     "stub_domains": [ 6 ],
 *     "reads": false, "all_paths": false,
 *     "lines": 812, "records": 790, "skipped": 0, "ignored": 0,
 *     "t0": 1796505598.880602,
 *     "lanes": [ { "index": 0, "party": "store", "domid": null,
 *                  "name": "store" }, ... ],
 *     "events": [ { "t": 0.0042, "line": 17, "from": 1, "to": 0,
 *                   "kind": "write", "path": "...", "value": "1",
 *                   "tx": 1, "domid": 5, "failed": false,
 *                   "aborted": false, "truncated": false,
 *                   "state": { "dev": -1, "from": null, "to": 1,
 *                              "from_name": null,
 *                              "to_name": "Initialising" } }, ... ] }
 *
 * "state" is there only for a write of a xenbus state node; "error" (the
 * errno name) only for a failed request.  After the events, "nodes": each
 * state node with its states in order, the text view's summary:
 *
 *     "nodes": [ { "path": ".../backend/pci/5/0/state-1",
 *                  "side": "backend", "dev": 1,
 *                  "device": "0000:04:00.0", "states": [ 1, 3, 5 ],
 *                  "removed": true }, ... ]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "trace.h"

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void gen_int_or_null(yajl_gen g, long long v)
{
	if (v < 0)
		yajl_gen_null(g);
	else
		yajl_gen_integer(g, v);
}

static void gen_str_or_null(yajl_gen g, const char *s)
{
	if (s && s[0])
		GS(g, s);
	else
		yajl_gen_null(g);
}

static void gen_event(yajl_gen g, const struct trace_event *e)
{
	yajl_gen_map_open(g);
	GS(g, "t"); yajl_gen_double(g, e->t);
	GS(g, "line"); yajl_gen_integer(g, e->line);
	GS(g, "from"); yajl_gen_integer(g, e->from);
	GS(g, "to"); yajl_gen_integer(g, e->to);
	GS(g, "kind"); GS(g, trace_kind_name(e->kind));
	GS(g, "path"); GS(g, e->path);
	GS(g, "value"); GS(g, e->failed ? "" : e->value);
	GS(g, "tx"); yajl_gen_integer(g, e->tx);
	GS(g, "domid"); gen_int_or_null(g, e->domid);
	GS(g, "failed"); yajl_gen_bool(g, e->failed);
	if (e->failed) {
		GS(g, "error"); GS(g, e->value);
	}
	GS(g, "aborted"); yajl_gen_bool(g, e->aborted);
	GS(g, "truncated"); yajl_gen_bool(g, e->truncated);
	if (e->is_state) {
		GS(g, "state");
		yajl_gen_map_open(g);
		GS(g, "dev"); yajl_gen_integer(g, e->dev);
		GS(g, "from"); gen_int_or_null(g, e->state_from);
		GS(g, "to"); gen_int_or_null(g, e->state_to);
		GS(g, "from_name"); gen_str_or_null(g, trace_state_name(e->state_from));
		GS(g, "to_name"); gen_str_or_null(g, trace_state_name(e->state_to));
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/*
 * "nodes": each state node once, in the order first written, with the
 * states that took effect in order (aborted and failed writes left out),
 * as the text view's summary.
 */
static int gen_nodes(yajl_gen g, const struct trace *t)
{
	size_t n = t->nevents ? t->nevents : 1;
	bool *done = calloc(n, sizeof(*done)), removed;
	int *states = calloc(n, sizeof(*states));
	unsigned i, k, ns;
	int r = 0;

	if (!done || !states) {
		r = -ENOMEM;
		goto out;
	}
	yajl_gen_array_open(g);
	for (i = 0; i < t->nevents; i++) {
		const struct trace_event *e = &t->events[i];

		if (!e->is_state || done[i])
			continue;
		yajl_gen_map_open(g);
		GS(g, "path"); GS(g, e->path);
		GS(g, "side");
		GS(g, strstr(e->path, "/backend/") ? "backend" : "frontend");
		GS(g, "dev"); yajl_gen_integer(g, e->dev);
		GS(g, "device"); gen_str_or_null(g, e->dev >= 0 ?
					 trace_device_of(t, e->path) : NULL);
		GS(g, "states");
		yajl_gen_array_open(g);
		ns = trace_node_states(t, i, done, states, &removed);
		for (k = 0; k < ns; k++)
			gen_int_or_null(g, states[k]);
		yajl_gen_array_close(g);
		GS(g, "removed"); yajl_gen_bool(g, removed);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
out:
	free(states);
	free(done);
	return r;
}

int trace_write_json(FILE *out, const struct trace *t)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	unsigned i;
	int r = 0;

	if (!g)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	/* every string is printable ASCII already; yajl checks anyway */
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	yajl_gen_map_open(g);
	GS(g, "source"); GS(g, t->source ? t->source : "");
	GS(g, "format"); GS(g, t->format ? t->format : "unknown");
	GS(g, "domain"); gen_int_or_null(g, t->filter_domid);
	GS(g, "domain_name"); gen_str_or_null(g, t->filter_name);
	GS(g, "earlier_domains");
	yajl_gen_array_open(g);
	for (i = 0; i < t->nearlier; i++)
		yajl_gen_integer(g, t->earlier[i]);
	yajl_gen_array_close(g);
	GS(g, "stub_domains");
	yajl_gen_array_open(g);
	for (i = 0; i < t->nstubdoms; i++)
		yajl_gen_integer(g, t->stubdoms[i]);
	yajl_gen_array_close(g);
	GS(g, "hv_log"); gen_str_or_null(g, t->hv_source);
	GS(g, "reads"); yajl_gen_bool(g, t->reads);
	GS(g, "all_paths"); yajl_gen_bool(g, t->all_paths);
	GS(g, "lines"); yajl_gen_integer(g, t->lines);
	GS(g, "records"); yajl_gen_integer(g, t->records);
	GS(g, "skipped"); yajl_gen_integer(g, t->skipped);
	GS(g, "ignored"); yajl_gen_integer(g, t->ignored);
	GS(g, "t0"); yajl_gen_double(g, t->t0);
	GS(g, "lanes");
	yajl_gen_array_open(g);
	for (i = 0; i < t->nlanes; i++) {
		yajl_gen_map_open(g);
		GS(g, "index"); yajl_gen_integer(g, i);
		GS(g, "party"); GS(g, trace_party_name(t->lanes[i].party));
		GS(g, "domid"); gen_int_or_null(g, t->lanes[i].domid);
		GS(g, "name"); GS(g, t->lanes[i].name);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	GS(g, "events");
	yajl_gen_array_open(g);
	for (i = 0; i < t->nevents; i++)
		gen_event(g, &t->events[i]);
	yajl_gen_array_close(g);
	GS(g, "nodes");
	if (gen_nodes(g, t) < 0)
		r = -ENOMEM;
	else if (yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		r = -EINVAL;
	else if (fwrite(buf, 1, len, out) != len || ferror(out))
		r = -EIO;
	yajl_gen_free(g);
	return r;
}
