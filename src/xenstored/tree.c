// SPDX-License-Identifier: MIT
/*
 * The node store: a hash table from absolute path to node, the node record
 * itself (value, permissions, children in insertion order) and the daemon's
 * lifetime (xsd_new / xsd_free).
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

int ntab_init(struct ntab *t, size_t nbuckets)
{
	t->b = xcalloc(nbuckets, sizeof(*t->b));
	if (!t->b)
		return -ENOMEM;
	t->nbuckets = nbuckets;
	t->count = 0;
	return 0;
}

void ntab_free(struct ntab *t)
{
	size_t i;
	struct node *n, *next;

	for (i = 0; i < t->nbuckets; i++)
		for (n = t->b[i]; n; n = next) {
			next = n->hnext;
			node_free(n);
		}
	free(t->b);
	t->b = NULL;
	t->nbuckets = t->count = 0;
}

struct node *ntab_get(const struct ntab *t, const char *path, size_t len,
		      uint32_t hash)
{
	struct node *n;

	if (!t->nbuckets)
		return NULL;
	for (n = t->b[hash & (t->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == hash && n->pathlen == len &&
		    memcmp(n->path, path, len) == 0)
			return n;
	return NULL;
}

static void ntab_grow(struct ntab *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct node **b = calloc(nb, sizeof(*b));
	struct node *n, *next;

	if (!b)
		return;		/* keep the longer chains; still correct */
	for (i = 0; i < t->nbuckets; i++)
		for (n = t->b[i]; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(t->b);
	t->b = b;
	t->nbuckets = nb;
}

/* Insert n; the caller made sure no node of that path is in the table. */
int ntab_put(struct ntab *t, struct node *n)
{
	size_t i;

	if (!t->nbuckets && ntab_init(t, 16) < 0)
		return -ENOMEM;
	if (t->count >= t->nbuckets)
		ntab_grow(t);
	i = n->hash & (t->nbuckets - 1);
	n->hnext = t->b[i];
	t->b[i] = n;
	t->count++;
	return 0;
}

struct node *ntab_take(struct ntab *t, const char *path, size_t len,
		       uint32_t hash)
{
	struct node **pp, *n;

	if (!t->nbuckets)
		return NULL;
	for (pp = &t->b[hash & (t->nbuckets - 1)]; (n = *pp); pp = &n->hnext)
		if (n->hash == hash && n->pathlen == len &&
		    memcmp(n->path, path, len) == 0) {
			*pp = n->hnext;
			n->hnext = NULL;
			t->count--;
			return n;
		}
	return NULL;
}

struct node *node_new(const char *path, size_t len)
{
	struct node *n = xcalloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = xstrndup(path, len);
	if (!n->path) {
		free(n);
		return NULL;
	}
	n->pathlen = len;
	n->hash = path_hash(path, len);
	n->gen = XSD_NOGEN;
	return n;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	free(n->path);
	free(n->perms.p);
	free(n->data);
	free(n->children);
	free(n);
}

static int buf_dup(char **dst, const char *src, uint32_t len)
{
	*dst = NULL;
	if (!len)
		return 0;
	*dst = xmalloc(len);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	return 0;
}

struct node *node_copy(const struct node *n)
{
	struct node *c = node_new(n->path, n->pathlen);

	if (!c)
		return NULL;
	c->gen = n->gen;
	c->datalen = n->datalen;
	c->childlen = n->childlen;
	if (perms_dup(&c->perms, &n->perms) < 0 ||
	    buf_dup(&c->data, n->data, n->datalen) < 0 ||
	    buf_dup(&c->children, n->children, n->childlen) < 0) {
		node_free(c);
		return NULL;
	}
	return c;
}

int node_set_data(struct node *n, const void *data, uint32_t len)
{
	char *d = NULL;

	if (len) {
		d = xmalloc(len);
		if (!d)
			return -ENOMEM;
		memcpy(d, data, len);
	}
	free(n->data);
	n->data = d;
	n->datalen = len;
	return 0;
}

int node_set_perms(struct node *n, const struct perms *p)
{
	struct perms np;

	if (perms_dup(&np, p) < 0)
		return -ENOMEM;
	free(n->perms.p);
	n->perms = np;
	return 0;
}

int node_add_child(struct node *n, const char *name)
{
	size_t len = strlen(name) + 1;
	char *c = xrealloc(n->children, n->childlen + len);

	if (!c)
		return -ENOMEM;
	memcpy(c + n->childlen, name, len);
	n->children = c;
	n->childlen += len;
	return 0;
}

/* Remove a child name, keeping the order of the others. */
int node_del_child(struct node *n, const char *name)
{
	uint32_t off = 0, len;

	while (off < n->childlen) {
		len = strlen(n->children + off) + 1;
		if (strcmp(n->children + off, name) == 0) {
			memmove(n->children + off, n->children + off + len,
				n->childlen - off - len);
			n->childlen -= len;
			return 0;
		}
		off += len;
	}
	return -ENOENT;
}

/* The record size C xenstored 4.17 charges against the node-size quota. */
uint32_t node_size(const struct node *n)
{
	return XSD_NODE_HDR + 8 * n->perms.num + n->datalen + n->childlen;
}

const char *node_basename(const struct node *n)
{
	return strrchr(n->path, '/') + 1;
}

static int tree_add(struct xsd *xsd, const char *path, const char *child)
{
	struct perm owner = { .id = 0, .perms = PERM_NONE };
	struct perms p = { .num = 1, .p = &owner };
	struct node *n = node_new(path, strlen(path));

	if (!n)
		return -ENOMEM;
	if (node_set_perms(n, &p) < 0 ||
	    (child && node_add_child(n, child) < 0)) {
		node_free(n);
		return -ENOMEM;
	}
	n->gen = 0;
	if (ntab_put(&xsd->nodes, n) < 0) {
		node_free(n);
		return -ENOMEM;
	}
	domain_count_node(xsd, 0, 1);
	return 0;
}

/* The tree a fresh C xenstored starts with. */
int tree_init(struct xsd *xsd)
{
	if (tree_add(xsd, "/", "tool") < 0 ||
	    tree_add(xsd, "/tool", "xenstored") < 0 ||
	    tree_add(xsd, "/tool/xenstored", NULL) < 0)
		return -ENOMEM;
	return 0;
}

void xsd_default_config(struct xsd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ready_fd = -1;
	cfg->quota.nodes = 1000;
	cfg->quota.node_size = 2048;
	cfg->quota.watches = 128;
	cfg->quota.transactions = 10;
	cfg->quota.permissions = 5;
	cfg->quota.path_max = XENSTORE_REL_PATH_MAX;
	cfg->quota.txn_nodes = 1024;
	cfg->quota.outstanding = 20;
	cfg->quota.memory = 2621440;
	cfg->quota.memory_soft = 2097152;
	cfg->quota.connections = 16;
	cfg->quota.event_timeout = 20;
}

static int special_init(struct perms *p)
{
	p->p = xcalloc(1, sizeof(*p->p));
	if (!p->p)
		return -ENOMEM;
	p->num = 1;		/* n0: dom0 owns it, nobody else reads */
	return 0;
}

struct xsd *xsd_new(const struct xsd_config *cfg)
{
	struct xsd *xsd = xcalloc(1, sizeof(*xsd));

	if (!xsd)
		return NULL;
	xsd->cfg = *cfg;
	xsd->epfd = xsd->sock_fd = xsd->ro_fd = -1;
	xsd->dom0 = domain_alloc(xsd, 0);
	/* Small: ntab_put doubles it as the store grows, and a walk of the
	 * table (xsd_check, xsd_free) costs its buckets, not its nodes. */
	if (!xsd->dom0 || ntab_init(&xsd->nodes, 64) < 0 ||
	    special_init(&xsd->special_intro) < 0 ||
	    special_init(&xsd->special_release) < 0 ||
	    tree_init(xsd) < 0) {
		xsd_free(xsd);
		return NULL;
	}
	xsd->dom0->introduced = true;
	return xsd;
}

void xsd_free(struct xsd *xsd)
{
	if (!xsd)
		return;
	while (xsd->conns)
		conn_free(xsd->conns);
	windex_free(&xsd->watches);
	ntab_free(&xsd->nodes);
	domain_free_all(xsd);
	free(xsd->special_intro.p);
	free(xsd->special_release.p);
	free(xsd->sockpath);
	free(xsd->ro_sockpath);
	free(xsd->domdir);
	free(xsd->rbuf);
	free(xsd);
}

/* A domain's counts are the sums over its connections. */
static int xsd_check_usage(const struct domain *d)
{
	unsigned int nconns = 0, ntxns = 0, nout = 0;
	size_t out_bytes = 0, txn_bytes = 0;
	const struct conn *c;
	const struct txn *tx;

	for (c = d->conns; c; c = c->dnext) {
		if (c->dead || c->dom != d)
			return -EIO;
		nconns++;
		ntxns += c->ntxns;
		nout += c->out_count;
		out_bytes += c->out_bytes;
		for (tx = c->txns; tx; tx = tx->next)
			txn_bytes += tx->charged;
	}
	if (nconns != d->nconns || ntxns != d->ntxns || nout != d->nout ||
	    out_bytes != d->out_bytes || txn_bytes != d->txn_bytes)
		return -EIO;
	return 0;
}

/*
 * Consistency of the whole store (xenstore-control check, tests, fuzzing):
 * every child listed exists, every node but "/" is listed by its parent,
 * each domain's node count is the number of nodes it owns and its usage
 * the sum over its connections.
 */
int xsd_check(struct xsd *xsd)
{
	struct ntab *t = &xsd->nodes;
	struct domain *d;
	struct node *n, *p;
	char path[XSD_PATH_BUF];
	uint32_t off;
	size_t i, plen, listed = 0;

	if (!ntab_get(t, "/", 1, path_hash("/", 1)))
		return -EIO;
	for (d = xsd->domains; d; d = d->next)
		d->check_owned = 0;
	for (i = 0; i < t->nbuckets; i++)
		for (n = t->b[i]; n; n = n->hnext) {
			if (!n->perms.num)
				return -EIO;
			/* one pass, whatever the number of domains */
			d = domain_find(xsd, n->perms.p[0].id);
			if (d)
				d->check_owned++;
			for (off = 0; off < n->childlen;
			     off += strlen(n->children + off) + 1) {
				snprintf(path, sizeof(path), "%s/%s",
					 n->pathlen > 1 ? n->path : "",
					 n->children + off);
				if (!ntab_get(t, path, strlen(path),
					      path_hash(path, strlen(path))))
					return -EIO;
				listed++;
			}
			if (n->pathlen == 1)
				continue;
			plen = path_parent_len(n->path, n->pathlen);
			p = ntab_get(t, n->path, plen,
				     path_hash(n->path, plen));
			if (!p)
				return -EIO;
		}
	if (listed != t->count - 1)
		return -EIO;	/* a node not listed, or listed twice */
	for (d = xsd->domains; d; d = d->next)
		if (d->check_owned != d->nnodes || xsd_check_usage(d) < 0)
			return -EIO;
	return 0;
}
