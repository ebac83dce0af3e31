// SPDX-License-Identifier: MIT
/* Small xenstore helpers over libxenstore: 0/-errno, formatted writes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

char *xpt_xs_read(struct xpt_ctx *c, xs_transaction_t t, const char *path)
{
	unsigned int len;

	return xs_read(c->xs, t, path, &len);
}

/* -ENOENT missing, -EINVAL not a decimal integer. */
int xpt_xs_read_int(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		    int *ret)
{
	char *s = xpt_xs_read(c, t, path), *end;
	long v;

	if (!s)
		return errno == EAGAIN ? -EAGAIN : -ENOENT;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < INT32_MIN || v > INT32_MAX) {
		free(s);
		return -EINVAL;
	}
	free(s);
	*ret = (int)v;
	return 0;
}

int xpt_xs_write(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		 const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return xs_write(c->xs, t, path, val, strlen(val)) ? 0 : -errno;
}

int xpt_xs_rm(struct xpt_ctx *c, xs_transaction_t t, const char *path)
{
	if (xs_rm(c->xs, t, path) || errno == ENOENT)
		return 0;
	return -errno;
}

bool xpt_xs_exists(struct xpt_ctx *c, xs_transaction_t t, const char *path)
{
	unsigned int n;
	char **d = xs_directory(c->xs, t, path, &n);

	if (!d)
		return false;
	free(d);
	return true;
}
