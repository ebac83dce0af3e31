/* SPDX-License-Identifier: MIT */
/*
 * Numbered fault points (SQLite's method).  With XPT_FAULT_INJECTION, a test
 * arms "fail the Nth allocation" (fault_arm) and then drives the code; every
 * xmalloc-family call counts.  Release builds compile the checks out.
 */
#ifndef XPT_FAULT_H
#define XPT_FAULT_H

#include <stdbool.h>
#include <stddef.h>

void fault_arm(long nth);	/* 0 disarms */
long fault_count(void);		/* allocations seen since arming */
bool fault_fire(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

#endif
