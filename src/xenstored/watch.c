// SPDX-License-Identifier: MIT
/*
 * Watches, indexed by path so an event costs O(depth of the path + matching
 * watches), never O(connections) or O(all watches).
 *
 * An event on path E concerns a watch on W when E == W, or W is "/", or W
 * is a proper prefix of E ending at a '/'.  So firing E = /a/b/c looks up
 * the index at /a/b/c, /a/b, /a and / (only E itself for "exact" events,
 * which RM sends for nodes below the removed one).  A connection gets an
 * event only if it may read the node, or its parent, or (after SET_PERMS or
 * a commit) could read it under the old permissions.  Per connection, events
 * go out in the order the watches were set, as C xenstored does.
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "xenstored.h"

static int windex_init(struct windex *w)
{
	w->b = xcalloc(256, sizeof(*w->b));
	if (!w->b)
		return -ENOMEM;
	w->nbuckets = 256;
	return 0;
}

void windex_free(struct windex *w)
{
	free(w->b);
	w->b = NULL;
	w->nbuckets = w->count = 0;
}

static void windex_grow(struct windex *w)
{
	size_t nb = w->nbuckets * 2, i;
	struct watch **b = calloc(nb, sizeof(*b));
	struct watch *x, *next, **tail;

	if (!b)
		return;
	/* Keep chain order (watch creation order) while rehashing. */
	for (i = 0; i < w->nbuckets; i++)
		for (x = w->b[i]; x; x = next) {
			next = x->hnext;
			x->hnext = NULL;
			for (tail = &b[x->hash & (nb - 1)]; *tail;
			     tail = &(*tail)->hnext)
				;
			*tail = x;
		}
	free(w->b);
	w->b = b;
	w->nbuckets = nb;
}

static struct watch *windex_chain(const struct windex *w, uint32_t hash)
{
	return w->nbuckets ? w->b[hash & (w->nbuckets - 1)] : NULL;
}

static struct watch *watch_find(struct conn *c, const char *path,
				const char *token)
{
	uint32_t h = path_hash(path, strlen(path));
	struct watch *x;

	for (x = windex_chain(&c->xsd->watches, h); x; x = x->hnext)
		if (x->conn == c && x->hash == h && strcmp(x->path, path) == 0 &&
		    strcmp(x->token, token) == 0)
			return x;
	return NULL;
}

int watch_add(struct conn *c, const char *path, const char *token,
	      bool relative)
{
	struct windex *w = &c->xsd->watches;
	struct watch *x, **tail;
	unsigned int q = c->xsd->cfg.quota.watches;

	if (watch_find(c, path, token))
		return -EEXIST;
	/* 4.17 allows quota + 1 and answers E2BIG beyond. */
	if (conn_unprivileged(c) && q && c->dom->nwatches > q)
		return -E2BIG;
	if (!w->nbuckets && windex_init(w) < 0)
		return -ENOMEM;
	x = xcalloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->path = xstrndup(path, strlen(path));
	x->token = xstrndup(token, strlen(token));
	if (!x->path || !x->token) {
		free(x->path);
		free(x->token);
		free(x);
		return -ENOMEM;
	}
	x->conn = c;
	x->relative = relative;
	x->seq = ++c->xsd->seq;
	x->hash = path_hash(path, strlen(path));
	if (w->count >= w->nbuckets * 2)
		windex_grow(w);
	for (tail = &w->b[x->hash & (w->nbuckets - 1)]; *tail;
	     tail = &(*tail)->hnext)
		;
	*tail = x;
	w->count++;
	if (c->watches_tail)
		c->watches_tail->cnext = x;
	else
		c->watches = x;
	c->watches_tail = x;
	c->dom->nwatches++;
	return 0;
}

static void watch_unlink(struct conn *c, struct watch *x)
{
	struct windex *w = &c->xsd->watches;
	struct watch **pp, *prev = NULL;

	for (pp = &w->b[x->hash & (w->nbuckets - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == x) {
			*pp = x->hnext;
			break;
		}
	w->count--;
	for (pp = &c->watches; *pp; prev = *pp, pp = &(*pp)->cnext)
		if (*pp == x) {
			*pp = x->cnext;
			if (c->watches_tail == x)
				c->watches_tail = prev;
			break;
		}
	c->dom->nwatches--;
	free(x->path);
	free(x->token);
	free(x);
}

int watch_remove(struct conn *c, const char *path, const char *token)
{
	struct watch *x = watch_find(c, path, token);

	if (!x)
		return -ENOENT;
	watch_unlink(c, x);
	return 0;
}

void watch_remove_all(struct conn *c)
{
	while (c->watches)
		watch_unlink(c, c->watches);
}

/* The path a watch reports: relative watches see relative paths. */
static const char *watch_event_path(const struct watch *x, const char *path)
{
	const char *base;
	size_t len;

	if (!x->relative)
		return path;
	base = conn_implicit_path(x->conn);
	len = strlen(base);
	if (strncmp(path, base, len) != 0)
		return path;
	path += len;
	return *path == '/' ? path + 1 : path;
}

static bool watch_permitted(struct xsd *xsd, struct conn *c, const char *path,
			    const struct node *node,
			    const struct perms *oldperms)
{
	size_t plen;
	struct node *parent;

	if (oldperms && (perms_for_conn(c, oldperms) & PERM_READ))
		return true;
	if (!node) {
		node = ntab_get(&xsd->nodes, path, strlen(path),
				path_hash(path, strlen(path)));
		if (!node)
			return false;
	}
	if (perms_for_conn(c, &node->perms) & PERM_READ)
		return true;
	/* The parent's path is a prefix of path: look it up in place. */
	plen = path_parent_len(path, strlen(path));
	parent = ntab_get(&xsd->nodes, path, plen, path_hash(path, plen));
	return parent && (perms_for_conn(c, &parent->perms) & PERM_READ);
}

static int watch_cmp(const void *a, const void *b)
{
	const struct watch *x = *(struct watch * const *)a;
	const struct watch *y = *(struct watch * const *)b;

	if (x->conn->seq != y->conn->seq)
		return x->conn->seq < y->conn->seq ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct perms *special_perms(struct xsd *xsd, const char *name)
{
	if (strcmp(name, "@introduceDomain") == 0)
		return &xsd->special_intro;
	if (strcmp(name, "@releaseDomain") == 0)
		return &xsd->special_release;
	return NULL;
}

static bool conn_may_see(struct xsd *xsd, struct conn *c, const char *path,
			 const struct node *node, const struct perms *oldperms)
{
	const struct perms *sp;

	if (c->stamp == xsd->stamp)
		return c->stamp_ok;
	c->stamp = xsd->stamp;
	if (path[0] == '@') {
		sp = special_perms(xsd, path);
		c->stamp_ok = sp && (perms_for_conn(c, sp) & PERM_READ);
	} else {
		c->stamp_ok = watch_permitted(xsd, c, path, node, oldperms);
	}
	return c->stamp_ok;
}

static void watch_collect(struct xsd *xsd, const char *path, size_t len,
			  const char *event, const struct node *node,
			  const struct perms *oldperms, struct watch ***v,
			  size_t *n, size_t *cap)
{
	uint32_t h = path_hash(path, len);
	struct watch *x, **nv;

	for (x = windex_chain(&xsd->watches, h); x; x = x->hnext) {
		if (x->hash != h || strlen(x->path) != len ||
		    memcmp(x->path, path, len) != 0 || x->conn->dead)
			continue;
		if (!conn_may_see(xsd, x->conn, event, node, oldperms))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			nv = realloc(*v, *cap * sizeof(**v));
			if (!nv)
				return;	/* events are best effort, as in C */
			*v = nv;
		}
		(*v)[(*n)++] = x;
	}
}

void watch_fire(struct xsd *xsd, const char *path, const struct node *node,
		bool exact, const struct perms *oldperms)
{
	struct watch **v = NULL;
	size_t n = 0, cap = 0, len = strlen(path), i;

	if (!xsd->watches.count)
		return;
	xsd->stamp++;
	watch_collect(xsd, path, len, path, node, oldperms, &v, &n, &cap);
	if (!exact && path[0] == '/') {
		while (len > 1) {
			len = path_parent_len(path, len);
			watch_collect(xsd, path, len, path, node, oldperms,
				      &v, &n, &cap);
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), watch_cmp);
	for (i = 0; i < n; i++)
		conn_send_event(v[i]->conn, watch_event_path(v[i], path),
				v[i]->token);
	free(v);
}

void watch_fire_special(struct xsd *xsd, const char *name)
{
	watch_fire(xsd, name, NULL, true, NULL);
}
