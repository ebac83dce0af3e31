// SPDX-License-Identifier: MIT
/*
 * Transactions: optimistic, per node, as C xenstored since 4.9.
 *
 * The first time a transaction touches a path it records the node's global
 * generation (XSD_NOGEN if the node is missing) and takes a private copy;
 * later reads and writes use the copy.  Commit fails with EAGAIN if any
 * recorded generation differs from the global one, otherwise it writes the
 * modified copies back, in the order they were first touched, and fires the
 * queued watches.
 *
 * Worked example ("ta err" of test-xenstore):
 *   T1 reads /x (gen 5, value a)    -> T1 records {/x, gen 5, copy "a"}
 *   dom0 writes /x = b              -> global /x gets gen 6
 *   T1 reads /x                     -> "a" (its copy)
 *   T1 writes /x = c                -> its copy becomes "c"
 *   T1 commits                      -> 5 != 6: EAGAIN; /x stays "b"
 * Creating or deleting a node also changes its parent's child list, which
 * the transaction copied too: two transactions adding siblings conflict.
 *
 * The copies are charged to the domain's memory quota, as C charges them:
 * every node touched, even one only looked at for an EACCES answer, costs
 * its record.  An unprivileged domain past its quota gets ENOMEM for the
 * access and the transaction fails.
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "xenstored.h"

struct txn *txn_find(struct conn *c, uint32_t id)
{
	struct txn *t;

	for (t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

int txn_start(struct conn *c, uint32_t *ret_id)
{
	struct txn *t = xcalloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->b = xcalloc(16, sizeof(*t->b));
	if (!t->b) {
		free(t);
		return -ENOMEM;
	}
	t->nbuckets = 16;
	t->conn = c;
	c->xsd->gen++;
	/* Ids are per connection, counting up, skipping ids in use and 0. */
	do {
		t->id = c->next_txid++;
	} while (t->id == 0 || txn_find(c, t->id));
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	c->dom->ntxns++;
	*ret_id = t->id;
	return 0;
}

static void txn_free(struct txn *t)
{
	struct tnode *tn, *next;

	conn_charge_txn(t->conn, -(long)t->charged);
	for (tn = t->acc_head; tn; tn = next) {
		next = tn->anext;
		node_free(tn->node);
		free(tn->oldperms.p);
		free(tn->path);
		free(tn);
	}
	free(t->b);
	free(t->doms);
	free(t);
}

static void txn_unlink(struct conn *c, struct txn *t)
{
	struct txn **pp;

	for (pp = &c->txns; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			c->ntxns--;
			c->dom->ntxns--;
			return;
		}
}

struct tnode *txn_tnode(struct txn *t, const char *path, size_t len)
{
	uint32_t h = path_hash(path, len);
	struct tnode *tn;

	for (tn = t->b[h & (t->nbuckets - 1)]; tn; tn = tn->hnext)
		if (tn->hash == h && tn->pathlen == len &&
		    memcmp(tn->path, path, len) == 0)
			return tn;
	return NULL;
}

static void txn_grow(struct txn *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct tnode **b = calloc(nb, sizeof(*b));
	struct tnode *tn, *next;

	if (!b)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (tn = t->b[i]; tn; tn = next) {
			next = tn->hnext;
			tn->hnext = b[tn->hash & (nb - 1)];
			b[tn->hash & (nb - 1)] = tn;
		}
	free(t->b);
	t->b = b;
	t->nbuckets = nb;
}

/* What a transaction's record of a node holds. */
static size_t tnode_bytes(const struct tnode *tn)
{
	const struct node *n = tn->node;
	size_t b = sizeof(*tn) + tn->pathlen + 1 +
		   tn->oldperms.num * sizeof(struct perm);

	if (n)
		b += sizeof(*n) + n->pathlen + 1 +
		     n->perms.num * sizeof(struct perm) + n->datalen +
		     n->childlen;
	return b;
}

/*
 * Charge tn's current size to the domain.  Past an unprivileged domain's
 * memory quota: -ENOMEM and the transaction fails (the charge stays
 * until it ends, and so does the memory).
 */
int txn_charge(struct txn *t, struct tnode *tn)
{
	unsigned int q = t->conn->xsd->cfg.quota.memory;
	size_t now = tnode_bytes(tn);

	conn_charge_txn(t->conn, (long)now - (long)tn->charged);
	t->charged += now - tn->charged;
	tn->charged = now;
	if (q && conn_unprivileged(t->conn) && t->conn->dom &&
	    conn_domain_memory(t->conn->dom) > q) {
		t->failed = true;
		return -ENOMEM;
	}
	return 0;
}

/* The transaction's record of path, made (with a copy) on first access. */
int txn_access(struct xsd *xsd, struct txn *t, const char *path, size_t len,
	       struct tnode **ret)
{
	unsigned int q = xsd->cfg.quota.txn_nodes;
	struct tnode *tn = txn_tnode(t, path, len);
	struct node *g;

	if (tn) {
		*ret = tn;
		return 0;
	}
	if (q && t->nnodes >= q && conn_unprivileged(t->conn)) {
		t->failed = true;
		return -ENOSPC;
	}
	tn = xcalloc(1, sizeof(*tn));
	if (!tn || !(tn->path = xstrndup(path, len))) {
		free(tn);
		t->failed = true;
		return -ENOMEM;
	}
	tn->pathlen = len;
	tn->hash = path_hash(path, len);
	g = ntab_get(&xsd->nodes, path, len, tn->hash);
	tn->gen = g ? g->gen : XSD_NOGEN;
	if (g) {
		perms_adjust(xsd, g);
		tn->node = node_copy(g);
		if (!tn->node || perms_dup(&tn->oldperms, &g->perms) < 0) {
			node_free(tn->node);
			free(tn->path);
			free(tn);
			t->failed = true;
			return -ENOMEM;
		}
	}
	/* Over the quota: the copy is not made. */
	if (txn_charge(t, tn) < 0) {
		conn_charge_txn(t->conn, -(long)tn->charged);
		t->charged -= tn->charged;
		node_free(tn->node);
		free(tn->oldperms.p);
		free(tn->path);
		free(tn);
		return -ENOMEM;
	}
	if (t->nnodes >= t->nbuckets)
		txn_grow(t);
	tn->hnext = t->b[tn->hash & (t->nbuckets - 1)];
	t->b[tn->hash & (t->nbuckets - 1)] = tn;
	if (t->acc_tail)
		t->acc_tail->anext = tn;
	else
		t->acc_head = tn;
	t->acc_tail = tn;
	t->nnodes++;
	*ret = tn;
	return 0;
}

void txn_count_node(struct txn *t, unsigned int domid, int delta)
{
	unsigned int i;
	void *p;

	for (i = 0; i < t->ndoms; i++)
		if (t->doms[i].domid == domid) {
			t->doms[i].delta += delta;
			return;
		}
	p = xrealloc(t->doms, (t->ndoms + 1) * sizeof(*t->doms));
	if (!p) {
		t->failed = true;
		return;
	}
	t->doms = p;
	t->doms[t->ndoms].domid = domid;
	t->doms[t->ndoms].delta = delta;
	t->ndoms++;
}

/*
 * Node counts at commit, as C checks them, for every domain whose count the
 * transaction changed: a domain that no longer exists fails the commit
 * (ENOMEM, C's answer), and an unprivileged committer that created nodes
 * must keep every unprivileged domain below the nodes quota.
 */
static int txn_check_domains(struct xsd *xsd, struct txn *t)
{
	unsigned int i, q = xsd->cfg.quota.nodes;
	bool chk = t->node_created && conn_unprivileged(t->conn) && q;
	struct domain *d;
	int cnt;

	for (i = 0; i < t->ndoms; i++) {
		d = domain_find(xsd, t->doms[i].domid);
		if (!d) {
			cnt = -1;
		} else {
			cnt = d->nnodes + t->doms[i].delta;
			if (cnt < 0 || !domid_unprivileged(d->domid))
				cnt = 0;
		}
		if (chk && cnt >= (int)q)
			return -ENOSPC;
		if (cnt < 0)
			return -ENOMEM;
	}
	return 0;
}

static int txn_commit(struct xsd *xsd, struct txn *t)
{
	struct tnode *tn;
	struct node *g;
	unsigned int i;
	int r;

	if (t->failed)
		return -ENOMEM;
	r = txn_check_domains(xsd, t);
	if (r < 0)
		return r;
	for (tn = t->acc_head; tn; tn = tn->anext) {
		g = ntab_get(&xsd->nodes, tn->path, tn->pathlen, tn->hash);
		if ((g ? g->gen : XSD_NOGEN) != tn->gen)
			return -EAGAIN;
	}
	for (tn = t->acc_head; tn; tn = tn->anext) {
		if (!tn->modified)
			continue;
		g = ntab_take(&xsd->nodes, tn->path, tn->pathlen, tn->hash);
		node_free(g);
		if (tn->node) {
			tn->node->gen = ++xsd->gen;
			tn->node->hnext = NULL;
			if (ntab_put(&xsd->nodes, tn->node) == 0)
				tn->node = NULL;
		}
		if (tn->fire)
			watch_fire(xsd, tn->path, NULL, tn->exact,
				   tn->oldperms.num ? &tn->oldperms : NULL);
	}
	for (i = 0; i < t->ndoms; i++)
		domain_count_node(xsd, t->doms[i].domid, t->doms[i].delta);
	return 0;
}

/* Ends the transaction whatever the outcome; EAGAIN means "retry". */
int txn_end(struct conn *c, struct txn *t, bool commit)
{
	int r = 0;

	txn_unlink(c, t);
	if (commit)
		r = txn_commit(c->xsd, t);
	txn_free(t);
	return r;
}

void txn_abort_all(struct conn *c)
{
	while (c->txns)
		txn_end(c, c->txns, false);
}
