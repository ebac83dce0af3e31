// SPDX-License-Identifier: MIT
/*
 * xpt trace: the timeline as text for a terminal.  A header naming the
 * lanes, one line per event, then a summary: every state node's sequence
 * of states, the failed requests and the aborted transactions.
 *
 *   +0.058244  pciback (xpt-pciback) -> store  write  /local/domain/0/
 *              backend/pci/1/0/state = 2 InitWait (was 1 Initialising)  [tx 1]
 *
 * (one line each; cut here to fit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static const char *lane(const struct trace *t, int i)
{
	return i >= 0 && (unsigned)i < t->nlanes ? t->lanes[i].name : "?";
}

static void state_str(char *out, size_t outlen, int s)
{
	const char *n = trace_state_name(s);

	if (n)
		snprintf(out, outlen, "%d %s", s, n);
	else
		snprintf(out, outlen, "?");
}

static void write_event(FILE *out, const struct trace *t,
			const struct trace_event *e)
{
	char arrow[160], from[32], to[32];

	snprintf(arrow, sizeof(arrow), "%s -> %s", lane(t, e->from),
		 lane(t, e->to));
	fprintf(out, "%+11.6f  %-34s %-11s", e->t, arrow,
		trace_kind_name(e->kind));
	if (e->path[0])
		fprintf(out, " %s", e->path);
	if (e->is_state && e->failed && e->state_to < 0) {
		/* the value was no state; the error is said below */
	} else if (e->is_state) {
		state_str(from, sizeof(from), e->state_from);
		state_str(to, sizeof(to), e->state_to);
		if (e->state_to < 0)
			fprintf(out, " = \"%s\" (not a state)", e->value);
		else
			fprintf(out, " = %s (was %s)", to, from);
	} else if (e->kind == TK_WATCH || e->kind == TK_UNWATCH ||
		   e->kind == TK_WATCH_EVENT) {
		if (e->value[0] && !e->failed)
			fprintf(out, " token %s", e->value);
	} else if (e->kind == TK_HV) {
		if (e->value[0])
			fprintf(out, " %s", e->value);
	} else if (e->kind == TK_TX_START && e->value[0]) {
		fprintf(out, " -> %s", e->value);
	} else if (e->value[0] && !e->failed) {
		fprintf(out, " = \"%s\"", e->value);
	}
	if (e->truncated)
		fputs(" (cut)", out);
	if (e->tx)
		fprintf(out, "  [tx %u]", e->tx);
	if (trace_absent_rm(e))
		fputs("  ENOENT (not there)", out);
	else if (e->failed)
		fprintf(out, "  FAILED %s", e->value[0] ? e->value : "");
	if (e->aborted)
		fputs("  aborted", out);
	fputc('\n', out);
}

/* Each state node, in the order first written: its states as the log
 * shows them, and "removed" if it then goes. */
static void write_states(FILE *out, const struct trace *t)
{
	size_t n = t->nevents ? t->nevents : 1;
	bool *done = calloc(n, sizeof(*done)), removed;
	int *states = calloc(n, sizeof(*states));
	unsigned i, k, ns, nodes = 0;

	if (!done || !states)
		goto out;
	fputs("device states (node: states in order; aborted and failed "
	      "writes left out):\n", out);
	for (i = 0; i < t->nevents; i++) {
		const struct trace_event *e = &t->events[i];
		const char *side;

		if (!e->is_state || done[i])
			continue;
		side = strstr(e->path, "/backend/") ? "backend" : "frontend";
		fprintf(out, "  %s %s", side, e->path);
		if (e->dev >= 0) {
			const char *bdf = trace_device_of(t, e->path);

			fprintf(out, " (device %d%s%s)", e->dev, bdf ? ", " : "",
				bdf ? bdf : "");
		}
		fputs(":", out);
		ns = trace_node_states(t, i, done, states, &removed);
		for (k = 0; k < ns; k++) {
			const char *name = trace_state_name(states[k]);

			fprintf(out, " %s", name ? name : "?");
		}
		if (removed)
			fputs(" (removed)", out);
		fputc('\n', out);
		nodes++;
	}
	if (!nodes)
		fputs("  none\n", out);
out:
	free(states);
	free(done);
}

int trace_write_text(FILE *out, const struct trace *t)
{
	unsigned i, n, absent;

	fprintf(out, "%s (%s): %u events", t->source, t->format, t->nevents);
	if (t->filter_domid >= 0)
		fprintf(out, " of domain %d%s%s%s", t->filter_domid,
			t->filter_name[0] ? " (" : "", t->filter_name,
			t->filter_name[0] ? ")" : "");
	for (i = 0; i < t->nearlier; i++)
		fprintf(out, "%s%d", i ? ", " : " and earlier ", t->earlier[i]);
	for (i = 0; i < t->nstubdoms; i++)
		fprintf(out, "%s%d", i ? ", " : " and its stub domain ",
			t->stubdoms[i]);
	fprintf(out, ", %s%s; %u lines, %u skipped\n",
		t->all_paths ? "every path" : "PCI protocol paths",
		t->reads ? " with reads" : "", t->lines, t->skipped);
	if (t->hv_source)
		fprintf(out, "hypervisor events from %s: %u lines\n",
			t->hv_source, t->hv_lines);
	fputs("lanes:", out);
	for (i = 0; i < t->nlanes; i++)
		fprintf(out, "%s %u %s", i ? "," : "", i, t->lanes[i].name);
	fputs("\n\n", out);
	for (i = 0; i < t->nevents; i++)
		write_event(out, t, &t->events[i]);
	fputs("\n", out);
	write_states(out, t);
	fputs("failed requests:", out);
	for (i = 0, n = 0, absent = 0; i < t->nevents; i++) {
		const struct trace_event *e = &t->events[i];

		absent += trace_absent_rm(e);
		if (!e->failed || trace_absent_rm(e))
			continue;
		fprintf(out, "\n  line %u: %s %s%s%s: %s", e->line,
			lane(t, e->from), trace_kind_name(e->kind),
			e->path[0] ? " " : "", e->path, e->value);
		n++;
	}
	fputs(n ? "\n" : " none\n", out);
	if (absent)
		fprintf(out, "removals of nodes not there (ENOENT, not counted "
			"as failed): %u\n", absent);
	fputs("aborted transactions:", out);
	for (i = 0, n = 0; i < t->nevents; i++) {
		const struct trace_event *e = &t->events[i];

		if ((e->kind != TK_TX_COMMIT && e->kind != TK_TX_ABORT) ||
		    !e->aborted)
			continue;
		fprintf(out, "\n  line %u: %s tx %u %s", e->line,
			lane(t, e->from), e->tx,
			e->kind == TK_TX_ABORT ? "given up (TRANSACTION_END F)" :
			"commit failed");
		if (e->kind == TK_TX_COMMIT && e->value[0])
			fprintf(out, " %s", e->value);
		n++;
	}
	fputs(n ? "\n" : " none\n", out);
	return ferror(out) ? -EIO : 0;
}
