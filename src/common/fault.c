// SPDX-License-Identifier: MIT
/* Allocation wrappers with an optional "fail the Nth call" fault point. */
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static long fault_nth;
static long fault_seen;

void fault_arm(long nth)
{
	fault_nth = nth;
	fault_seen = 0;
}

long fault_count(void)
{
	return fault_seen;
}

bool fault_fire(void)
{
#ifdef XPT_FAULT_INJECTION
	if (fault_nth > 0 && ++fault_seen == fault_nth)
		return true;
#endif
	return false;
}

void *xmalloc(size_t n)
{
	return fault_fire() ? NULL : malloc(n ? n : 1);
}

void *xcalloc(size_t n, size_t size)
{
	return fault_fire() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *xrealloc(void *p, size_t n)
{
	return fault_fire() ? NULL : realloc(p, n ? n : 1);
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}
