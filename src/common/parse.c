// SPDX-License-Identifier: MIT
/* Numbers from command lines and peers: whole strings, bounded. */
#include <errno.h>
#include <stdlib.h>

#include "parse.h"

int parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	/* a digit first: strtoul would also skip blanks ("\f5", "\t5") and
	 * take a sign */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}
