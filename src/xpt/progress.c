// SPDX-License-Identifier: MIT
/*
 * What a long wait waits for, on standard error: libxpt tells a wait
 * that has lasted a second (START), every five seconds after (STILL) and
 * its end (END); nothing of a wait that ended sooner.  A terminal gets
 * one line rewritten in place and erased when the wait succeeds; a file
 * or a pipe gets a plain line per START and STILL, so a log reads:
 *
 *   xpt: waiting for the lock of domain 3, which another xpt holds (at most 60 s)
 *   xpt: still waiting for the lock of domain 3, which another xpt holds: 5 s so far (at most 60 s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static long secs(int64_t ms)
{
	return (long)((ms + 999) / 1000);
}

void cli_progress(void *arg, const struct xpt_progress_report *r)
{
	FILE *f = arg;
	const char *term = getenv("TERM");
	/* a terminal that can erase a line (not TERM=dumb, as Emacs' shell
	 * buffers set it) */
	bool tty = isatty(fileno(f)) && term && *term && strcmp(term, "dumb");

	switch (r->kind) {
	case XPT_PROGRESS_START:
		fprintf(f, "xpt: waiting for %s (at most %ld s)%s", r->what,
			secs(r->bound_ms), tty ? "" : "\n");
		break;
	case XPT_PROGRESS_STILL:
		fprintf(f, "%sxpt: still waiting for %s: %ld s so far (at most "
			"%ld s)%s", tty ? "\r\033[K" : "", r->what,
			(long)(r->elapsed_ms / 1000), secs(r->bound_ms),
			tty ? "" : "\n");
		break;
	case XPT_PROGRESS_END:
		/* a wait that failed stays on screen above its error */
		if (tty)
			fputs(r->result ? "\n" : "\r\033[K", f);
		break;
	case XPT_PROGRESS_NOTE:
		fprintf(f, "xpt: %s\n", r->what);
		break;
	}
	fflush(f);
}
