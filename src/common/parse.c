// SPDX-License-Identifier: MIT
/* Numbers from command lines and peers: whole strings, bounded. */
#include <errno.h>
#include <stdlib.h>

#include "parse.h"

int parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || s[0] == '-' || s[0] == '+' ||
	    s[0] == ' ')
		return -EINVAL;
	*ret = v;
	return 0;
}
