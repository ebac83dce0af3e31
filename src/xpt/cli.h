/* SPDX-License-Identifier: MIT */
/*
 * The xpt command line's helpers beside its command table (xpt.c): the
 * progress of long waits on standard error (progress.c) and the JSON of
 * the listings that are not built in xpt.c (listing.c).
 */
#ifndef XPT_CLI_H
#define XPT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "xpt/model.h"
#include "xpt/xpt.h"

/* progress.c: the libxpt progress listener; arg is the FILE (stderr).
 * On a terminal one line, rewritten; otherwise a line per report. */
void cli_progress(void *arg, const struct xpt_progress_report *r);

/* listing.c: `host status --json` and `guest-status --json`.  Each
 * returns the exit code to use. */
int cli_guest_status_json(FILE *out, FILE *err, unsigned int domid,
			  const char *reply);
/* The guest's reply as text, a byte that is not printable ASCII (nor a
 * newline) shown as '?': a guest cannot send the terminal escapes. */
void cli_guest_status_text(FILE *out, const char *reply);
/* all: every daemon runs */
int cli_host_status_json(FILE *out, struct xpt_ctx *c,
			 const struct xpt_host_daemon *d, bool all);

#endif
