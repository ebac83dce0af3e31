// SPDX-License-Identifier: MIT
/*
 * Log lines a peer can cause, rate-limited.  A guest that makes the daemon
 * drop a million events must not write a million lines: each kind of
 * message gets PEERLOG_BURST lines per PEERLOG_WINDOW_MS, for all peers
 * together, and the first line of the next window says how many were
 * left out.  So the log grows by at most a few KiB a minute whatever the
 * peers do.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "xenstored.h"

#define PEERLOG_BURST 10
#define PEERLOG_WINDOW_MS 10000

void peerlog_msg(struct xsd *xsd, enum peerlog_kind kind, int level,
		 const char *fmt, ...)
{
	struct peerlog *pl = &xsd->peerlog[kind];
	uint64_t now;
	char line[512];
	va_list ap;

	if (level > log_level)
		return;
	now = xsd_now_ms();
	if (now - pl->window_ms >= PEERLOG_WINDOW_MS) {
		pl->window_ms = now;
		pl->lines = 0;
	}
	if (pl->lines >= PEERLOG_BURST) {
		pl->suppressed++;
		return;
	}
	pl->lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (pl->suppressed) {
		log_msg(level, "%s (%lu similar messages before this one "
			"were not logged)", line, pl->suppressed);
		pl->suppressed = 0;
	} else {
		log_msg(level, "%s", line);
	}
}
