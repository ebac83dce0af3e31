// SPDX-License-Identifier: MIT
/*
 * What a bounded wait waits for, told to whoever listens
 * (xpt_ctx_set_progress) once the wait has lasted a second, then every
 * few seconds, and once more at its end; a wait that ends within the
 * first second is never told, so the common, quick case is silent.
 *
 * A wait loop sleeps at most until the next report is due:
 *
 *	xpt_progress_begin(c, &p, timeout_ms, "domain %u's ...", domid);
 *	while (!done && left > 0)
 *		poll(&pfd, 1, xpt_progress_poll_ms(&p, left));
 *	xpt_progress_end(&p, r);
 *
 * For a 10 s wait that ends after 7.5 s the listener hears START at 1 s
 * ("at most 10 s"), STILL at 5 s, and END at 7.5 s.
 */
#include <stdarg.h>
#include <stdio.h>

#include "libxpt.h"

void xpt_ctx_set_progress(struct xpt_ctx *c, xpt_progress_fn fn, void *arg)
{
	c->progress = fn;
	c->progress_arg = arg;
}

void xpt_progress_begin(struct xpt_ctx *c, struct xpt_progress *p,
			int bound_ms, const char *fmt, ...)
{
	va_list ap;

	*p = (struct xpt_progress){ .c = c && c->progress ? c : NULL,
				    .bound_ms = bound_ms };
	if (!p->c)
		return;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
	p->start = xpt_now_ms();
	p->next = p->start + XPT_PROGRESS_FIRST_MS;
}

static void tell(struct xpt_progress *p, enum xpt_progress_kind kind,
		 int64_t now, int result)
{
	struct xpt_progress_report r = {
		.kind = kind, .what = p->what, .bound_ms = p->bound_ms,
		.elapsed_ms = now - p->start, .result = result,
	};

	p->c->progress(p->c->progress_arg, &r);
}

int xpt_progress_poll_ms(struct xpt_progress *p, int64_t ms)
{
	int64_t now, due;

	if (ms > INT_MAX)
		ms = INT_MAX;
	if (ms < 0)
		ms = 0;
	if (!p->c)
		return (int)ms;
	now = xpt_now_ms();
	if (now >= p->next) {
		tell(p, p->told ? XPT_PROGRESS_STILL : XPT_PROGRESS_START, now,
		     0);
		p->told = true;
		/* then at 5 s, 10 s, ... of the wait */
		while (p->next <= now)
			p->next = p->next - p->start < XPT_PROGRESS_EVERY_MS ?
				  p->start + XPT_PROGRESS_EVERY_MS :
				  p->next + XPT_PROGRESS_EVERY_MS;
	}
	due = p->next - now;
	return (int)(due < ms ? due : ms);
}

void xpt_progress_end(struct xpt_progress *p, int result)
{
	if (p->c && p->told)
		tell(p, XPT_PROGRESS_END, xpt_now_ms(), result);
	p->c = NULL;
}

void xpt_progress_note(struct xpt_ctx *c, const char *fmt, ...)
{
	struct xpt_progress_report r = { .kind = XPT_PROGRESS_NOTE };
	char what[256];
	va_list ap;

	if (!c || !c->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r.what = what;
	c->progress(c->progress_arg, &r);
}
