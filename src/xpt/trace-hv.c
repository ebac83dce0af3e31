// SPDX-License-Identifier: MIT
/*
 * xpt trace: the modelled hypervisor's event log (xpt-hypervisor
 * --event-log, the LOG.hv next to an access log) merged into a trace by
 * time.  A line is "SEC.USEC dom=D EVENT key=value..." (xpt-hypervisor(8));
 * it becomes a TK_HV event from the hypervisor's lane to the lane of
 * domain D (its pcifront, else its stub domain's, else the store's), with
 * the EVENT as path and the fields as value.  Both logs are stamped by
 * CLOCK_REALTIME on one host, so times compare; at equal times the
 * store's event comes first.  The lines are the hypervisor's, so a line
 * that is not a record is counted in skipped, never an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define HV_LINE_MAX 1024
#define HV_MAX_EVENTS 1000000

/* "SEC.USEC dom=D EVENT rest": false if the line is not one. */
static bool parse_line(const char *line, double *t, int *dom, char *ev,
		       size_t evlen, char *rest, size_t restlen)
{
	unsigned long long sec;
	unsigned long usec, d;
	const char *p = line, *w;
	char *end;
	size_t n, k;

	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	sec = strtoull(p, &end, 10);
	if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	p = end + 1;
	usec = strtoul(p, &end, 10);
	if (errno || end - p != 6 || *end != ' ' || usec > 999999 ||
	    sec > TRACE_SEC_MAX)
		return false;
	p = end + 1;
	if (strncmp(p, "dom=", 4) || p[4] < '0' || p[4] > '9')
		return false;
	d = strtoul(p + 4, &end, 10);
	if (errno || *end != ' ' || d > 65535)
		return false;
	p = end + 1;
	for (w = p; (*w >= 'a' && *w <= 'z') || *w == '_'; w++)
		;
	n = (size_t)(w - p);
	if (!n || n >= evlen || (*w && *w != ' '))
		return false;
	memcpy(ev, p, n);
	ev[n] = 0;
	p = *w ? w + 1 : w;
	for (k = 0; *p && k + 1 < restlen; p++)
		rest[k++] = *p > ' ' && *p < 0x7f ? *p :
			    *p == ' ' ? ' ' : '?';
	rest[k] = 0;
	*t = (double)sec + (double)usec / 1e6;
	*dom = (int)d;
	return true;
}

/* By time, then line: the log is written in order, but need not be. */
static int hv_cmp(const void *a, const void *b)
{
	const struct trace_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Domain D's lane: its pcifront, else its stub domain's device model,
 * else the store (0). */
static int dom_lane(const struct trace *t, int dom)
{
	unsigned i;

	for (i = 1; i < t->nlanes; i++)
		if (t->lanes[i].party == TP_PCIFRONT && t->lanes[i].domid == dom)
			return (int)i;
	for (i = 1; i < t->nlanes; i++)
		if (t->lanes[i].party == TP_STUBDOM && t->lanes[i].domid == dom)
			return (int)i;
	return 0;
}

/* The hypervisor's lane, added in party order (lanes after it move up
 * one, and the events' references with them). */
static int hv_lane(struct trace *t)
{
	struct trace_lane *n;
	unsigned i, at;

	for (i = 1; i < t->nlanes; i++)
		if (t->lanes[i].party == TP_HYPERVISOR)
			return (int)i;
	for (at = 1; at < t->nlanes; at++)
		if (t->lanes[at].party > TP_HYPERVISOR)
			break;
	n = realloc(t->lanes, (t->nlanes + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->lanes = n;
	memmove(&n[at + 1], &n[at], (t->nlanes - at) * sizeof(*n));
	memset(&n[at], 0, sizeof(*n));
	n[at].party = TP_HYPERVISOR;
	n[at].domid = -1;
	snprintf(n[at].name, sizeof(n[at].name), "hypervisor");
	t->nlanes++;
	for (i = 0; i < t->nevents; i++) {
		if (t->events[i].from >= (int)at)
			t->events[i].from++;
		if (t->events[i].to >= (int)at)
			t->events[i].to++;
	}
	return (int)at;
}

int trace_merge_hv(struct trace *t, FILE *f, const char *source,
		   char *err, size_t errlen)
{
	struct trace_event *hv = NULL, *all = NULL;
	char *line = NULL, ev[64], rest[sizeof(hv->value)];
	unsigned nhv = 0, cap = 0, i, k, n, lineno = 0;
	double t0 = t->t0;
	int lane, ret = -ENOMEM, dom;
	bool have_t0 = t->records > 0;

	t->hv_source = source;
	line = malloc(HV_LINE_MAX);
	if (!line)
		goto out;
	while (fgets(line, HV_LINE_MAX, f)) {
		size_t len = strlen(line);
		double when;

		lineno++;
		t->hv_lines++;
		if (len && line[len - 1] == '\n') {
			line[--len] = 0;
		} else if (!feof(f)) {	/* too long: not a record */
			int ch;

			while ((ch = getc(f)) != EOF && ch != '\n')
				;
			t->skipped++;
			continue;
		}
		if (!parse_line(line, &when, &dom, ev, sizeof(ev), rest,
				sizeof(rest))) {
			t->skipped++;
			continue;
		}
		t->hv_records++;
		if (t->filter_domid >= 0 && !trace_concerns(t, dom))
			continue;
		if (nhv == HV_MAX_EVENTS)
			continue;
		if (nhv == cap) {
			void *p;

			cap = cap ? cap * 2 : 256;
			p = realloc(hv, cap * sizeof(*hv));
			if (!p)
				goto out;
			hv = p;
		}
		memset(&hv[nhv], 0, sizeof(hv[nhv]));
		hv[nhv].t = when;
		hv[nhv].line = lineno;
		hv[nhv].kind = TK_HV;
		hv[nhv].domid = dom;
		hv[nhv].dev = hv[nhv].state_from = hv[nhv].state_to = -1;
		snprintf(hv[nhv].path, sizeof(hv[nhv].path), "%s", ev);
		snprintf(hv[nhv].value, sizeof(hv[nhv].value), "%s", rest);
		nhv++;
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", source);
		goto out;
	}
	ret = 0;
	if (!nhv)
		goto out;
	ret = -ENOMEM;
	qsort(hv, nhv, sizeof(*hv), hv_cmp);
	/* a hypervisor event before the store's first record moves t0 */
	if (!have_t0 || hv[0].t < t0) {
		double shift = have_t0 ? t0 - hv[0].t : 0;

		for (i = 0; i < t->nevents; i++)
			t->events[i].t += shift;
		t0 = t->t0 = hv[0].t;
	}
	lane = hv_lane(t);
	if (lane < 0)
		goto out;
	all = malloc((t->nevents + nhv) * sizeof(*all));
	if (!all)
		goto out;
	for (k = 0; k < nhv; k++) {
		hv[k].t -= t0;
		if (hv[k].t < 0)
			hv[k].t = 0;
		hv[k].from = lane;
		hv[k].to = dom_lane(t, hv[k].domid);
	}
	for (i = 0, k = 0, n = 0; i < t->nevents || k < nhv; n++)
		if (k == nhv || (i < t->nevents && t->events[i].t <= hv[k].t))
			all[n] = t->events[i++];
		else
			all[n] = hv[k++];
	free(t->events);
	t->events = all;
	t->nevents = n;
	all = NULL;
	ret = 0;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", source);
	free(line);
	free(hv);
	free(all);
	return ret;
}
