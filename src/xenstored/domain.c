// SPDX-License-Identifier: MIT
/*
 * Domains.  Without a hypervisor a domain exists from XS_INTRODUCE to
 * XS_RELEASE (dom0 always); while it exists, DIR/domain/<domid> is its
 * socket and every connection there acts as that domain.  With one
 * (xsd->hv, xen.c) it talks over its ring instead, and also goes when the
 * hypervisor says it died.  Release removes the domain's nodes the way C
 * xenstored does when a domain dies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

struct domain *domain_find(const struct xsd *xsd, unsigned int domid)
{
	struct domain *d;

	if (domid == 0)
		return xsd->dom0;
	for (d = xsd->dom_hash[domid % XSD_DOM_HASH]; d; d = d->hnext)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct domain *domain_alloc(struct xsd *xsd, unsigned int domid)
{
	struct domain *d = xcalloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->gen = xsd->gen;
	d->target = UINT32_MAX;
	d->listen_fd = -1;
	snprintf(d->path, sizeof(d->path), "/local/domain/%u", domid);
	d->next = xsd->domains;
	xsd->domains = d;
	d->hnext = xsd->dom_hash[domid % XSD_DOM_HASH];
	xsd->dom_hash[domid % XSD_DOM_HASH] = d;
	return d;
}

bool domain_exists(const struct xsd *xsd, unsigned int domid)
{
	struct domain *d = domain_find(xsd, domid);

	return d && d->introduced;
}

/*
 * May a permission name this domain?  An introduced one, or, with a
 * hypervisor, any domain it has: the toolstack gives a new domain rights
 * on its directories before it introduces it (C xenstored's
 * find_or_alloc_existing_domain).  Such a domain gets its struct, and so
 * its generation, now.
 */
bool domain_known(struct xsd *xsd, unsigned int domid)
{
	if (domain_exists(xsd, domid))
		return true;
	if (!xsd->hv || !xsd->hv->exists || !xsd->hv->exists(xsd, domid))
		return false;
	return domain_find(xsd, domid) || domain_alloc(xsd, domid);
}

bool domid_unprivileged(unsigned int domid)
{
	return domid != 0;
}

bool conn_unprivileged(const struct conn *c)
{
	return c && domid_unprivileged(c->id);
}

void domain_count_node(struct xsd *xsd, unsigned int owner, int delta)
{
	struct domain *d = domain_find(xsd, owner);

	if (d)
		d->nnodes += delta;
}

/*
 * The domain's struct goes: a device model that targeted it loses the
 * target, so a new domain reusing the domid is not its target too.
 */
static void domain_unlink(struct xsd *xsd, struct domain *d)
{
	struct domain **pp, *o;

	for (o = xsd->domains; o; o = o->next)
		if (o->target == d->domid)
			o->target = UINT32_MAX;
	for (pp = &xsd->dom_hash[d->domid % XSD_DOM_HASH]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	for (pp = &xsd->domains; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			return;
		}
}

static void domain_reset_conns(struct xsd *xsd, struct domain *d)
{
	struct conn *c;

	for (c = xsd->conns; c; c = c->next)
		if (c->dom == d && !c->dead) {
			/* Queued output stays: a socket cannot lose half a
			 * message the way C xenstored resets a ring. */
			watch_remove_all(c);
			txn_abort_all(c);
		}
}

int domain_introduce(struct xsd *xsd, unsigned int domid, struct conn *by)
{
	return domain_introduce_port(xsd, domid, 0, by);
}

/* port: the domain's event channel (the hypervisor transport's business). */
int domain_introduce_port(struct xsd *xsd, unsigned int domid,
			  unsigned int port, struct conn *by)
{
	struct domain *d = domain_find(xsd, domid);
	int r;

	if (domid == 0)
		return 0;	/* dom0 is always there */
	if (!d) {
		d = domain_alloc(xsd, domid);
		if (!d)
			return -ENOMEM;
	}
	if (d->introduced && xsd->hv) {
		/* Rebind the event channel, reset the ring. */
		r = xsd->hv->introduce(xsd, d, port);
		if (r < 0)
			return r;
	}
	if (!d->introduced) {
		r = xsd->hv ? xsd->hv->introduce(xsd, d, port) :
			io_domain_listen(xsd, d);
		if (r < 0) {
			if (!d->nnodes) {
				domain_unlink(xsd, d);
				free(d);
			}
			return r;
		}
		d->introduced = true;
		log_info("introduced domain %u", domid);
		watch_fire_special(xsd, "@introduceDomain");
	}
	domain_reset_conns(xsd, d);
	return 0;
}

static void perms_drop_domid(struct perms *p, unsigned int domid)
{
	unsigned int cur, new;

	if (p->p[0].id == domid)
		p->p[0].id = 0;
	for (cur = new = 1; cur < p->num; cur++) {
		if (p->p[cur].id == domid)
			continue;
		p->p[new++] = p->p[cur];
	}
	p->num = new;
}

/* One directory of the walk below: its children, copied, and the next. */
struct walk_dir {
	char *children;
	uint32_t len, off;
	size_t pathlen;		/* of the directory's path */
};

/*
 * Does the domain own n?  Then n goes with its subtree, by the same
 * removal (and events) as XS_RM, and the walk does not descend.
 */
static bool domain_take_node(struct xsd *xsd, struct domain *d,
			     struct node *n)
{
	struct op op = { .xsd = xsd, .conn = NULL, .txn = NULL };

	if (n->perms.p[0].id != d->domid)
		return false;
	if (n->pathlen == 1) {
		/* C would delete "/" and never recover: dom0 takes it back. */
		n->perms.p[0].id = 0;
		domain_count_node(xsd, d->domid, -1);
		domain_count_node(xsd, 0, 1);
		n->gen = ++xsd->gen;
		return false;
	}
	if (store_rm(&op, n->path) < 0)
		log_err("could not remove %s of released domain %u", n->path,
			d->domid);
	return true;
}

/*
 * Pre-order walk from "/", in child order, removing every node the domain
 * owns; it stops once the domain owns nothing.  Iterative, with the
 * directories being walked on the heap: a chain of nodes may be as deep
 * as a path is long (2000 levels), far too deep for a recursion.
 */
static void domain_tree_remove(struct xsd *xsd, struct domain *d)
{
	struct walk_dir *stack = NULL, *top, *ns;
	size_t depth = 0, cap = 0, plen, clen;
	char path[XSD_PATH_BUF] = "/";
	const char *child;
	struct node *n;

	n = ntab_get(&xsd->nodes, "/", 1, path_hash("/", 1));
	plen = 1;
	while (n && d->nnodes > 0) {
		/* n (at path) is visited: take it, or descend into it. */
		if (!domain_take_node(xsd, d, n) && n->childlen) {
			if (depth == cap) {
				cap = cap ? cap * 2 : 16;
				ns = xrealloc(stack, cap * sizeof(*stack));
				if (!ns)
					break;
				stack = ns;
			}
			top = &stack[depth];
			top->children = xmalloc(n->childlen);
			if (!top->children)
				break;
			memcpy(top->children, n->children, n->childlen);
			top->len = n->childlen;
			top->off = 0;
			top->pathlen = plen;
			depth++;
		}
		/* The next child of the deepest directory not done. */
		n = NULL;
		while (!n && depth > 0 && d->nnodes > 0) {
			top = &stack[depth - 1];
			if (top->off >= top->len) {
				free(top->children);
				depth--;
				continue;
			}
			child = top->children + top->off;
			clen = strlen(child);
			top->off += clen + 1;
			plen = top->pathlen == 1 ? 0 : top->pathlen;
			if (plen + 1 + clen >= sizeof(path))
				continue;
			path[plen] = '/';
			memcpy(path + plen + 1, child, clen + 1);
			plen += 1 + clen;
			n = ntab_get(&xsd->nodes, path, plen,
				     path_hash(path, plen));
		}
	}
	while (depth > 0)
		free(stack[--depth].children);
	free(stack);
}

int domain_release(struct xsd *xsd, unsigned int domid)
{
	struct domain *d = domain_find(xsd, domid);
	struct conn *c, *next;

	if (domid == 0)
		return -EINVAL;
	if (!d || !d->introduced)
		return -ENOENT;
	if (d->ring)
		ring_close(d->ring);
	if (xsd->hv)
		xsd->hv->release(xsd, d);
	for (c = xsd->conns; c; c = next) {
		next = c->next;
		if (c->dom == d && !c->dead)
			conn_close(c);
	}
	io_domain_unlisten(xsd, d);
	d->introduced = false;
	domain_tree_remove(xsd, d);
	perms_drop_domid(&xsd->special_release, domid);
	perms_drop_domid(&xsd->special_intro, domid);
	watch_fire_special(xsd, "@releaseDomain");
	log_info("released domain %u", domid);
	domain_unlink(xsd, d);
	free(d->sockpath);
	free(d);
	return 0;
}

/* A domain known but never introduced died: its nodes go, silently. */
void domain_forget(struct xsd *xsd, struct domain *d)
{
	if (d->introduced || d->domid == 0)
		return;
	domain_tree_remove(xsd, d);
	log_info("forgot domain %u (never introduced)", d->domid);
	domain_unlink(xsd, d);
	free(d->sockpath);
	free(d);
}

void domain_free_all(struct xsd *xsd)
{
	struct domain *d;

	while ((d = xsd->domains)) {
		xsd->domains = d->next;
		free(d->sockpath);
		free(d);
	}
	memset(xsd->dom_hash, 0, sizeof(xsd->dom_hash));
}
