// SPDX-License-Identifier: MIT
/* The in-memory xenstore of the fuzz targets (see fakexs.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakexs.h"

/* The store is not what is fuzzed: no coverage feedback for it, and no
 * libFuzzer interception of its string compares (they were a fifth of
 * the time and pollute the value profile); hence its own loops below. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), \
			     apply_to = function)

#define PATH_MAX_LEN 3072
/* find()'s hash chains: the targets' stores hold tens of nodes, and
 * every xs_rm clears the table */
#define NBUCKETS 256

struct node {
	uint32_t hash;		/* of path: find() compares it first */
	int next;		/* the next node in its hash chain + 1, or 0 */
	char *path;
	char *val;
	unsigned int len, cap;	/* val holds cap + 1 bytes */
};

struct watch {
	char *path;
	char *token;
};

/* A queued event: path and token in the event itself when they fit (a
 * malloc and a free each cost more than the rest of a write) */
struct event {
	char *path;
	char *token;
	char pbuf[192];
	char tbuf[32];
};

static struct {
	struct node nodes[FAKEXS_MAX_NODES];
	size_t n;
	int bucket[NBUCKETS];			/* first node + 1, or 0 */
	struct watch watches[64];
	size_t nwatches;
	struct event events[FAKEXS_MAX_EVENTS];	/* a ring */
	size_t head, nevents;
	int handle;				/* what xs_handle points at */
} xs;

static bool eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* a begins with the n bytes of b */
static bool prefix(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

/* "/a/b" is at or under "/a"; every path is at or under "/". */
static bool at_or_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (eq(dir, "/"))
		return true;
	return prefix(path, dir, n) &&
	       (path[n] == '\0' || path[n] == '/');
}

static bool valid_path(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n > PATH_MAX_LEN || strstr(p, "//"))
		return false;
	return n == 1 || p[n - 1] != '/';
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct node *find(const char *path)
{
	uint32_t h = hash(path);

	for (int i = xs.bucket[h % NBUCKETS]; i; i = xs.nodes[i - 1].next)
		if (xs.nodes[i - 1].hash == h && eq(xs.nodes[i - 1].path, path))
			return &xs.nodes[i - 1];
	return NULL;
}

/* The chains again, after xs_rm moved nodes in the array. */
static void rehash(void)
{
	memset(xs.bucket, 0, sizeof(xs.bucket));
	for (size_t i = 0; i < xs.n; i++) {
		struct node *nd = &xs.nodes[i];

		nd->next = xs.bucket[nd->hash % NBUCKETS];
		xs.bucket[nd->hash % NBUCKETS] = (int)i + 1;
	}
}

static char *copy_in(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len)
		return xstrdup(s);
	return memcpy(buf, s, n + 1);
}

static void queue_event(const char *path, const char *token)
{
	struct event *e;

	if (xs.nevents == FAKEXS_MAX_EVENTS)
		abort();	/* the target forgot to drain */
	e = &xs.events[(xs.head + xs.nevents++) % FAKEXS_MAX_EVENTS];
	e->path = copy_in(e->pbuf, sizeof(e->pbuf), path);
	e->token = copy_in(e->tbuf, sizeof(e->tbuf), token);
}

static void drop_event(void)
{
	struct event *e = &xs.events[xs.head];

	if (e->path != e->pbuf)
		free(e->path);
	if (e->token != e->tbuf)
		free(e->token);
	xs.head = (xs.head + 1) % FAKEXS_MAX_EVENTS;
	xs.nevents--;
}

/* A queued event per watch at or above path (or, when the subtree at path
 * goes away, below it): the watch's own path when it is below. */
static void fire(const char *path, bool subtree)
{
	for (size_t i = 0; i < xs.nwatches; i++) {
		struct watch *w = &xs.watches[i];

		if (at_or_under(path, w->path))
			queue_event(path, w->token);
		else if (subtree && at_or_under(w->path, path))
			queue_event(w->path, w->token);
	}
}

static void free_events(void)
{
	while (xs.nevents)
		drop_event();
	xs.head = 0;
}

void fakexs_clear(void)
{
	for (size_t i = 0; i < xs.n; i++) {
		free(xs.nodes[i].path);
		free(xs.nodes[i].val);
	}
	xs.n = 0;
	rehash();
	for (size_t i = 0; i < xs.nwatches; i++) {
		free(xs.watches[i].path);
		free(xs.watches[i].token);
	}
	xs.nwatches = 0;
	free_events();
}

struct xs_handle *fakexs_reset(void)
{
	fakexs_clear();
	return (struct xs_handle *)&xs.handle;
}

/* s into buf, cut to fit as snprintf would */
static void copy_out(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (!len)
		return;
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

bool fakexs_next_event(char *path, size_t plen, char *token, size_t tlen)
{
	struct event *e;

	if (!xs.nevents)
		return false;
	e = &xs.events[xs.head];
	copy_out(path, plen, e->path);
	copy_out(token, tlen, e->token);
	drop_event();
	return true;
}

size_t fakexs_pending(void)
{
	return xs.nevents;
}

/* Create path and any missing parent, as xenstored does. */
static int put(const char *path, const void *val, size_t len)
{
	char parent[PATH_MAX_LEN + 1], *slash;
	struct node *nd;

	if (!valid_path(path) || eq(path, "/"))
		return -EINVAL;
	if (len > 4096)
		return -E2BIG;
	if (!(nd = find(path))) {
		memcpy(parent, path, strlen(path) + 1);	/* valid_path */
		slash = strrchr(parent, '/');
		*slash = '\0';
		if (parent[0] && !find(parent)) {
			int r = put(parent, "", 0);

			if (r < 0)
				return r;
		}
		if (xs.n == FAKEXS_MAX_NODES)
			return -ENOSPC;
		nd = &xs.nodes[xs.n];
		nd->path = xstrdup(path);
		nd->hash = hash(path);
		nd->next = xs.bucket[nd->hash % NBUCKETS];
		xs.bucket[nd->hash % NBUCKETS] = (int)++xs.n;
		nd->val = NULL;
		nd->cap = 0;
	}
	/* most writes replace a short value with another */
	if (!nd->val || len > nd->cap) {
		free(nd->val);
		nd->val = xmalloc(len + 1);
		nd->cap = (unsigned int)len;
	}
	memcpy(nd->val, val, len);
	nd->val[len] = '\0';
	nd->len = (unsigned int)len;
	fire(path, false);
	return 0;
}

void fakexs_write_bytes(const char *path, const void *val, size_t len)
{
	put(path, val, len);
}

void fakexs_write(const char *path, const char *val)
{
	put(path, val, strlen(val));
}

bool fakexs_exists(const char *path)
{
	return eq(path, "/") || find(path) != NULL;
}

/* libxenstore's calls, as the code under test makes them */

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	return (struct xs_handle *)&xs.handle;
}

void xs_close(struct xs_handle *h)
{
	(void)h;
}

int xs_fileno(struct xs_handle *h)
{
	(void)h;
	errno = ENOSYS;
	return -1;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	struct node *nd = find(path);
	char *v;

	(void)h;
	(void)t;
	if (!nd) {
		errno = eq(path, "/") ? 0 : ENOENT;
		if (!errno) {
			*len = 0;
			return xstrdup("");
		}
		return NULL;
	}
	v = xmalloc(nd->len + 1);
	memcpy(v, nd->val, nd->len + 1);
	if (len)
		*len = nd->len;
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	int r;

	(void)h;
	(void)t;
	r = put(path, data, len);
	if (r < 0)
		errno = -r;
	return r == 0;
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	(void)h;
	(void)t;
	if (find(path))
		return true;
	return xs_write(h, t, path, "", 0);
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	size_t i, n, kept = 0;

	(void)h;
	(void)t;
	if (eq(path, "/") || !find(path)) {
		errno = ENOENT;
		return false;
	}
	n = strlen(path);
	for (i = 0; i < xs.n; i++) {
		const char *p = xs.nodes[i].path;

		if (prefix(p, path, n) && (p[n] == '\0' || p[n] == '/')) {
			free(xs.nodes[i].path);
			free(xs.nodes[i].val);
			continue;
		}
		xs.nodes[kept++] = xs.nodes[i];
	}
	xs.n = kept;
	rehash();
	fire(path, true);
	return true;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t,
		    const char *path, unsigned int *num)
{
	size_t plen = eq(path, "/") ? 0 : strlen(path), bytes = 0;
	unsigned int n = 0;
	char **ret, *s;

	(void)h;
	(void)t;
	if (!fakexs_exists(path)) {
		errno = ENOENT;
		return NULL;
	}
	/* the children: paths one component below */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			ret = xmalloc((n + 1) * sizeof(*ret) + bytes + 1);
			s = (char *)(ret + n + 1);
			n = 0;
		}
		for (size_t i = 0; i < xs.n; i++) {
			const char *p = xs.nodes[i].path, *name;

			if (!prefix(p, path, plen) || p[plen] != '/')
				continue;
			name = p + plen + 1;
			if (!name[0] || strchr(name, '/'))
				continue;
			if (pass == 0) {
				bytes += strlen(name) + 1;
			} else {
				ret[n] = strcpy(s, name);
				s += strlen(name) + 1;
			}
			n++;
		}
	}
	ret[n] = NULL;
	*num = n;
	return ret;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	struct watch *w;

	(void)h;
	if (xs.nwatches == sizeof(xs.watches) / sizeof(xs.watches[0]) ||
	    !valid_path(path)) {
		errno = xs.nwatches ? ENOSPC : EINVAL;
		return false;
	}
	w = &xs.watches[xs.nwatches++];
	w->path = xstrdup(path);
	w->token = xstrdup(token);
	/* xenstored fires a new watch once at once */
	queue_event(path, token);
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	(void)h;
	for (size_t i = 0; i < xs.nwatches; i++) {
		if (!eq(xs.watches[i].path, path) ||
		    !eq(xs.watches[i].token, token))
			continue;
		free(xs.watches[i].path);
		free(xs.watches[i].token);
		xs.watches[i] = xs.watches[--xs.nwatches];
		return true;
	}
	errno = ENOENT;
	return false;
}

char **xs_check_watch(struct xs_handle *h)
{
	(void)h;
	errno = EAGAIN;
	return NULL;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	(void)h;
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	(void)h;
	(void)t;
	(void)abort;
	return true;
}

#pragma clang attribute pop
