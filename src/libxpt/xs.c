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

/* -ENOENT missing (or hidden from us), -EINVAL not a decimal integer,
 * else the store's error (-EIO, -EAGAIN): not the node's absence. */
int xpt_xs_read_int(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		    int *ret)
{
	char *s = xpt_xs_read(c, t, path), *end;
	long v;

	if (!s)
		return errno == ENOENT || errno == EACCES || !errno ? -ENOENT :
		       -errno;
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

/* A node's value as text for the user's terminal: cut to len - 1 bytes
 * (or at a NUL inside it), control characters (C0 and DEL) shown as '?',
 * so that what a guest or a driver domain wrote cannot steer the terminal
 * xpt prints it on.  -ENOENT, and "", when the node is missing. */
int xpt_xs_read_text(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		     char *buf, size_t len)
{
	char *v = xpt_xs_read(c, t, path), *p;

	if (len)
		buf[0] = '\0';
	if (!v)	/* as xpt_xs_read_int: a failed read is not a missing node */
		return errno == ENOENT || errno == EACCES || !errno ? -ENOENT :
		       -errno;
	snprintf(buf, len, "%s", v);
	free(v);
	for (p = buf; len && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
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

/*
 * Transactions: one helper for every loop, so that each retries a
 * conflict a bounded number of times and never commits after a write
 * inside it failed.  The pattern:
 *
 *	struct xpt_txn tx = XPT_TXN_INIT;
 *	do {
 *		if ((r = xpt_txn_begin(c, &tx)) < 0)
 *			break;
 *		... reads with tx.t, writes with xpt_txn_write(c, &tx, ...);
 *		    on a decision not to write: xpt_txn_abort(c, &tx); break;
 *	} while ((r = xpt_txn_end(c, &tx)) == 1);
 */
int xpt_txn_begin(struct xpt_ctx *c, struct xpt_txn *tx)
{
	tx->err = 0;
	tx->t = xs_transaction_start(c->xs);
	if (tx->t == XBT_NULL)
		return errno ? -errno : -EIO;
	return 0;
}

void xpt_txn_abort(struct xpt_ctx *c, struct xpt_txn *tx)
{
	if (tx->t != XBT_NULL)
		xs_transaction_end(c->xs, tx->t, true);
	tx->t = XBT_NULL;
}

/* 0 committed; 1 conflict, begin again; <0 failed: the first failed
 * write inside (nothing was committed), the commit's error, or -EAGAIN
 * after XPT_TXN_TRIES conflicts in a row. */
int xpt_txn_end(struct xpt_ctx *c, struct xpt_txn *tx)
{
	bool ok;
	int r;

	if (tx->err) {
		xpt_txn_abort(c, tx);
		return tx->err;
	}
	ok = xs_transaction_end(c->xs, tx->t, false);
	r = ok ? 0 : errno ? -errno : -EIO;
	tx->t = XBT_NULL;
	if (r != -EAGAIN)
		return r;
	return ++tx->tries < XPT_TXN_TRIES ? 1 : -EAGAIN;
}

static void txn_note(struct xpt_txn *tx, int r)
{
	if (r < 0 && !tx->err)
		tx->err = r;
}

void xpt_txn_write(struct xpt_ctx *c, struct xpt_txn *tx, const char *path,
		   const char *fmt, ...)
{
	char val[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val)) {
		txn_note(tx, -ENAMETOOLONG);
		return;
	}
	if (!xs_write(c->xs, tx->t, path, val, (unsigned int)n))
		txn_note(tx, errno ? -errno : -EIO);
}

void xpt_txn_rm(struct xpt_ctx *c, struct xpt_txn *tx, const char *path)
{
	txn_note(tx, xpt_xs_rm(c, tx->t, path));
}

void xpt_txn_mkdir(struct xpt_ctx *c, struct xpt_txn *tx, const char *path,
		   const struct xs_permissions *perms, unsigned int nperms)
{
	if (!xs_mkdir(c->xs, tx->t, path))
		txn_note(tx, errno ? -errno : -EIO);
	else if (perms && !xs_set_permissions(c->xs, tx->t, path,
					       (struct xs_permissions *)perms,
					       nperms))
		txn_note(tx, errno ? -errno : -EIO);
}
