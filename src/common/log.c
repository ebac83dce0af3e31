// SPDX-License-Identifier: MIT
/* Logging to stderr with the process name; fatal() for start-up failures. */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int log_level = LOG_LVL_WARN;
static const char *log_progname = "xpt";

void log_init(const char *progname, int level)
{
	log_progname = progname;
	log_level = level;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "%s: %s: ", log_progname, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
