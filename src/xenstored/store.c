// SPDX-License-Identifier: MIT
/*
 * Store operations as one request sees them.  A request outside a
 * transaction reads and changes the global tree in place; inside one it
 * works on the transaction's copies (txn.c), which commit applies later.
 * The op_* functions hide that difference from the handlers.
 *
 * The generation counter moves exactly where C xenstored's does (every node
 * write or delete, every transaction start, every node a commit writes):
 * permission entries are only honoured for domains that existed when the
 * node was last written, so the order of generations is observable.
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "xenstored.h"

int op_lookup(struct op *op, const char *path, struct node **ret)
{
	size_t len = strlen(path);
	struct tnode *tn;
	struct node *n;
	int r;

	if (!op->txn) {
		n = ntab_get(&op->xsd->nodes, path, len, path_hash(path, len));
		if (!n)
			return -ENOENT;
	} else {
		r = txn_access(op->xsd, op->txn, path, len, &tn);
		if (r < 0)
			return r;
		n = tn->node;
		if (!n)
			return -ENOENT;
	}
	perms_adjust(op->xsd, n);
	*ret = n;
	return 0;
}

/* n (a node this op looked up or inserted) was changed. */
int op_modified(struct op *op, struct node *n)
{
	struct tnode *tn;

	n->gen = ++op->xsd->gen;
	perms_adjust(op->xsd, n);
	if (op->txn) {
		tn = txn_tnode(op->txn, n->path, n->pathlen);
		if (!tn) {
			op->txn->failed = true;
			return -EIO;
		}
		tn->modified = true;
		return txn_charge(op->txn, tn);
	}
	return 0;
}

/* The node-size quota of unprivileged writers; failing it spoils a txn. */
int op_size_check(struct op *op, uint32_t size)
{
	unsigned int q = op->xsd->cfg.quota.node_size;

	if (q && conn_unprivileged(op->conn) && size >= q) {
		op->xsd->gen++;		/* C counts the refused write */
		op_fail(op);
		return -ENOSPC;
	}
	return 0;
}

int op_insert(struct op *op, struct node *n)
{
	struct tnode *tn;
	int r;

	if (!op->txn)
		return ntab_put(&op->xsd->nodes, n);
	r = txn_access(op->xsd, op->txn, n->path, n->pathlen, &tn);
	if (r < 0)
		return r;
	node_free(tn->node);
	tn->node = n;
	tn->modified = true;
	txn_charge(op->txn, tn);	/* over the quota: the txn fails */
	return 0;
}

/* Delete n from the view; n is freed. */
int op_remove(struct op *op, struct node *n)
{
	struct tnode *tn;

	op->xsd->gen++;
	if (!op->txn) {
		ntab_take(&op->xsd->nodes, n->path, n->pathlen, n->hash);
		node_free(n);
		return 0;
	}
	tn = txn_tnode(op->txn, n->path, n->pathlen);
	if (!tn || tn->node != n) {
		op->txn->failed = true;
		return -EIO;
	}
	node_free(n);
	tn->node = NULL;
	tn->modified = true;
	txn_charge(op->txn, tn);
	return 0;
}

/* Watches fire now, or at commit for a transaction (a subtree event wins). */
void op_fire(struct op *op, const char *path, const struct node *n,
	     bool exact, const struct perms *oldperms)
{
	struct tnode *tn;

	if (!op->txn) {
		watch_fire(op->xsd, path, n, exact, oldperms);
		return;
	}
	tn = txn_tnode(op->txn, path, strlen(path));
	if (!tn) {
		op->txn->failed = true;
		return;
	}
	if (!tn->fire) {
		tn->fire = true;
		tn->exact = exact;
	} else if (!exact) {
		tn->exact = false;
	}
}

void op_count_node(struct op *op, unsigned int owner, int delta)
{
	if (op->txn)
		txn_count_node(op->txn, owner, delta);
	else
		domain_count_node(op->xsd, owner, delta);
}

void op_node_created(struct op *op)
{
	if (op->txn)
		op->txn->node_created = true;
}

void op_fail(struct op *op)
{
	if (op->txn)
		op->txn->failed = true;
}

static bool errno_propagates(int r)
{
	return r == -ENOMEM || r == -ENOSPC;
}

/*
 * Look up a request's path argument needing `perm`.  A missing or refused
 * node gives ENOENT only if the nearest existing ancestor would grant the
 * same access, else EACCES: hidden nodes stay secret.
 */
int op_get_node(struct op *op, const char *arg, unsigned int perm,
		char *path, size_t pathlen, struct node **ret)
{
	struct node *n = NULL, *anc = NULL;
	char *p;
	size_t len;
	int r;

	if (!arg || path_canonical(op->conn, arg, path, pathlen) < 0 ||
	    !path_is_valid(op->xsd, path))
		return -EINVAL;
	r = op_lookup(op, path, &n);
	if (r == 0) {
		if ((perms_for_conn(op->conn, &n->perms) & perm) == perm) {
			*ret = n;
			return 0;
		}
		r = -EACCES;
	}
	if (errno_propagates(r))
		return r;

	p = xstrndup(path, strlen(path));
	if (!p)
		return -ENOMEM;
	len = strlen(p);
	do {
		len = path_parent_len(p, len);
		p[len] = '\0';
		anc = NULL;
		int a = op_lookup(op, p, &anc);
		if (a == 0)
			break;
		if (errno_propagates(a)) {
			free(p);
			return a;
		}
	} while (len > 1);
	free(p);
	if (!anc || !(perms_for_conn(op->conn, &anc->perms) & perm))
		return -EACCES;
	return r;
}

/*
 * Create `path` and every missing ancestor.  New nodes copy the permissions
 * of the nearest existing ancestor; an unprivileged creator becomes their
 * owner.  Checked and counted bottom-up, as C xenstored writes them.
 */
int store_create(struct op *op, const char *path, const void *data,
		 uint32_t len, struct node **ret)
{
	struct xsd *xsd = op->xsd;
	struct conn *c = op->conn;
	size_t plen = strlen(path), lens[XSD_PATH_BUF / 2 + 2];
	struct node *parent = NULL, *news[XSD_PATH_BUF / 2 + 2];
	unsigned int k = 0, i, q = xsd->cfg.quota.nodes;
	bool unpriv = conn_unprivileged(c);
	struct perms perms;
	size_t l = plen;
	int r, count;

	/* Walk up to the nearest existing node. */
	lens[k++] = plen;
	for (;;) {
		char tmp[XSD_PATH_BUF];

		l = path_parent_len(path, l);
		memcpy(tmp, path, l);
		tmp[l] = '\0';
		r = op_lookup(op, tmp, &parent);
		if (r == 0)
			break;
		if (r != -ENOENT || l == 1)
			return r;
		lens[k++] = l;
	}
	op_node_created(op);

	lens[k] = l;		/* the existing parent */

	/*
	 * Quotas, bottom-up as C writes: lens[0] is the node itself, lens[k-1]
	 * the topmost new node, lens[k] the existing parent gaining a child.
	 * Each refused write still moved the generation counter; a refusal
	 * after earlier writes spoils a transaction.
	 */
	count = domain_find(xsd, c->id) ? domain_find(xsd, c->id)->nnodes : 0;
	for (i = 0; i <= k; i++) {
		uint32_t size;

		if (i < k && unpriv && q &&
		    count + (op->txn ? 0 : (int)i) >= (int)q) {
			if (i > 0)
				op_fail(op);
			xsd->gen += i;
			return -ENOSPC;
		}
		if (i == 0)
			size = XSD_NODE_HDR + 8 * parent->perms.num + len;
		else if (i < k)
			size = XSD_NODE_HDR + 8 * parent->perms.num + (lens[i - 1] - lens[i]);
		else
			size = node_size(parent) + (lens[k - 1] - lens[k]) +
			       (lens[k] == 1 ? 1 : 0);
		if (unpriv && xsd->cfg.quota.node_size &&
		    size >= xsd->cfg.quota.node_size) {
			xsd->gen += i + 1;
			op_fail(op);
			return -ENOSPC;
		}
	}

	/* Build the new nodes top-down, then give generations bottom-up. */
	if (perms_dup(&perms, &parent->perms) < 0)
		return -ENOMEM;
	if (unpriv)
		perms.p[0].id = c->id;
	for (i = 0; i < k; i++) {
		news[i] = node_new(path, lens[i]);
		if (!news[i] || node_set_perms(news[i], &perms) < 0 ||
		    (i > 0 && node_add_child(news[i],
					     node_basename(news[i - 1])) < 0) ||
		    (i == 0 && node_set_data(news[i], data, len) < 0)) {
			free(perms.p);
			while (i + 1 > 0) {
				node_free(news[i]);
				if (i-- == 0)
					break;
			}
			return -ENOMEM;
		}
	}
	free(perms.p);
	r = node_add_child(parent, node_basename(news[k - 1]));
	if (r < 0) {
		for (i = 0; i < k; i++)
			node_free(news[i]);
		return r;
	}
	for (i = k; i-- > 0;) {
		r = op_insert(op, news[i]);
		if (r < 0) {
			/* Only a transaction's bookkeeping can fail here. */
			op_fail(op);
			while (i + 1 > 0) {
				node_free(news[i]);
				if (i-- == 0)
					break;
			}
			return r;
		}
	}
	for (i = 0; i < k; i++) {
		op_modified(op, news[i]);
		op_count_node(op, news[i]->perms.p[0].id, 1);
	}
	op_modified(op, parent);
	*ret = news[0];
	return 0;
}

/* Post-order removal: descendants fire exact watches, the root subtree ones. */
static int store_rm_walk(struct op *op, struct node *n, struct node *parent,
			 bool root)
{
	char *children = NULL, *child, *cpath;
	uint32_t childlen = n->childlen, off;
	struct node *cn;
	int r;

	if (childlen) {
		children = xmalloc(childlen);
		if (!children)
			return -ENOMEM;
		memcpy(children, n->children, childlen);
	}
	for (off = 0; off < childlen; off += strlen(child) + 1) {
		child = children + off;
		cpath = xmalloc(n->pathlen + strlen(child) + 2);
		if (!cpath) {
			free(children);
			return -ENOMEM;
		}
		if (n->pathlen == 1)
			cpath[0] = '\0';
		else
			memcpy(cpath, n->path, n->pathlen + 1);
		strcat(strcat(cpath, "/"), child);
		r = op_lookup(op, cpath, &cn);
		free(cpath);
		/*
		 * A listed child that is missing: only a transaction whose copy
		 * of n predates another client's changes sees this.  C stops
		 * the walk with EIO, keeping what it already removed.
		 */
		if (r == -ENOENT)
			r = -EIO;
		if (r < 0 || (r = store_rm_walk(op, cn, n, false)) < 0) {
			free(children);
			return r;
		}
	}
	free(children);

	op_fire(op, n->path, n, !root, NULL);
	op_count_node(op, n->perms.p[0].id, -1);
	if (!root) {
		node_del_child(parent, node_basename(n));
		r = op_remove(op, n);
		if (r == 0)
			r = op_modified(op, parent);
		return r;
	}
	return op_remove(op, n);
}

int store_rm(struct op *op, const char *path)
{
	char ppath[XSD_PATH_BUF];
	struct node *parent, *n;
	char *base;
	int r;

	path_parent(path, ppath);
	r = op_lookup(op, ppath, &parent);
	if (r < 0)
		return errno_propagates(r) ? r : -EINVAL;
	r = op_lookup(op, path, &n);
	if (r < 0)
		return r;
	base = xstrndup(node_basename(n), strlen(node_basename(n)));
	if (!base)
		return -ENOMEM;
	r = store_rm_walk(op, n, parent, true);
	/*
	 * A transaction's copy of the parent may predate the node (created
	 * by someone else since): C finds no child entry to remove and
	 * answers EIO, keeping the removals done so far.
	 */
	if (r == 0)
		r = node_del_child(parent, base) < 0 ? -EIO
						     : op_modified(op, parent);
	free(base);
	return r;
}
