// SPDX-License-Identifier: MIT
/*
 * Quotas, with C xenstored 4.17's boundaries (checked against Debian's
 * 4.17 binary through tests/peers/cxenstored): they apply to unprivileged
 * domains only, 0 disables a check, struct xsd_config.quota sets them.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct xsd *x;
static struct conn *c0, *c5;

static void start(const struct xsd_config *cfg)
{
	if (cfg)
		x = h_new_cfg(cfg);
	else
		x = h_new();
	c0 = h_dom0(x);
	c5 = h_dom(x, 5);
	assert_int_equal(h_mkdir(c0, 0, "/local/domain/5"), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
}

static int setup(void **state)
{
	start(NULL);
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

static void restart(unsigned int nodes, unsigned int watches,
		    unsigned int txns, unsigned int txn_nodes)
{
	struct xsd_config cfg;

	h_free(x);
	xsd_default_config(&cfg);
	cfg.quota.nodes = nodes;
	cfg.quota.watches = watches;
	cfg.quota.transactions = txns;
	cfg.quota.txn_nodes = txn_nodes;
	start(&cfg);
}

static int nnodes(unsigned int domid)
{
	return domain_find(x, domid)->nnodes;
}

/* 4.17 refuses a new node once the domain owns `nodes`: it may own 1000. */
static void test_nodes_default(void **state)
{
	char p[64];
	int i;

	assert_int_equal(nnodes(5), 1);
	for (i = 0; nnodes(5) < 1000; i++) {
		if (i % 25 == 0) {
			snprintf(p, sizeof(p), "/local/domain/5/d%d", i / 25);
			assert_int_equal(h_mkdir(c5, 0, p), 0);
			continue;
		}
		snprintf(p, sizeof(p), "/local/domain/5/d%d/%d", i / 25, i);
		assert_int_equal(h_write(c5, 0, p, ""), 0);
	}
	assert_int_equal(nnodes(5), 1000);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/d0/new", ""),
			 -ENOSPC);
	assert_int_equal(h_mkdir(c5, 0, "/local/domain/5/new"), -ENOSPC);
	assert_string_equal(h_read(c0, 0, "/local/domain/5/new"), "!ENOENT");
	/* existing nodes can still be written, removal frees quota */
	assert_int_equal(h_write(c5, 0, "/local/domain/5/d0/1", "x"), 0);
	assert_int_equal(h_rm(c5, 0, "/local/domain/5/d0/1"), 0);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/d0/new", ""), 0);
	assert_int_equal(nnodes(5), 1000);
	h_check_tree(x);
}

/* Implicit parents count too; a refused write leaves nothing behind. */
static void test_nodes_small(void **state)
{
	char p[64];
	int i;

	restart(10, 128, 10, 1024);
	for (i = 1; i <= 6; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c5, 0, p, ""), 0);
	}
	assert_int_equal(nnodes(5), 7);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/x/y/z/w", ""),
			 -ENOSPC);
	assert_int_equal(nnodes(5), 7);
	assert_string_equal(h_read(c0, 0, "/local/domain/5/x"), "!ENOENT");
	assert_int_equal(h_write(c5, 0, "/local/domain/5/x/y/z", ""), 0);
	assert_int_equal(nnodes(5), 10);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/x/y/z/w", ""),
			 -ENOSPC);
	/* dom0 is not limited, even below the domain's nodes ... */
	for (i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "/dom0/n%d", i);
		assert_int_equal(h_write(c0, 0, p, ""), 0);
	}
	/* ... and nodes dom0 creates there count for their owner, 5 */
	assert_int_equal(h_write(c0, 0, "/local/domain/5/by0", ""), 0);
	assert_int_equal(nnodes(5), 11);
	h_check_tree(x);
}

static void test_nodes_disabled(void **state)
{
	char p[64];
	int i;

	restart(0, 128, 10, 1024);
	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c5, 0, p, ""), 0);
	}
	assert_int_equal(nnodes(5), 51);
}

/* Nodes created in a transaction count at commit. */
static void test_nodes_txn(void **state)
{
	uint32_t t;

	restart(4, 128, 10, 1024);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/a", ""), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/b", ""), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/c", ""), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/d", ""), 0);
	assert_int_equal(h_tend(c5, t, true), -ENOSPC);
	assert_int_equal(nnodes(5), 1);
	assert_string_equal(h_read(c0, 0, "/local/domain/5/a"), "!ENOENT");
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/a", ""), 0);
	assert_int_equal(h_write(c5, t, "/local/domain/5/b", ""), 0);
	assert_int_equal(h_tend(c5, t, true), 0);
	assert_int_equal(nnodes(5), 3);
	h_check_tree(x);
}

/* A record over the node-size quota is refused; dom0 is not limited. */
static void test_node_size(void **state)
{
	char big[4000];

	memset(big, 'x', sizeof(big));
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 2000), 0);
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 2100),
			 -ENOSPC);
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/w", big, 2100),
			 -ENOSPC);
	assert_string_equal(h_read(c0, 0, "/local/domain/5/w"), "!ENOENT");
	assert_int_equal(h_writen(c0, 0, "/local/domain/5/v", big, 4000), 0);
	/* the domain may not rewrite it at that size, but may shrink it */
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 3000),
			 -ENOSPC);
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 10), 0);
	h_check_tree(x);
}

/*
 * 4.17 charges sizeof(struct xs_tdb_record_hdr)
 * = 24 bytes (u64 + 3 x u32, padded to 8), not 16, so with one permission
 * a value of 2016 bytes already gives 24 + 8 + 2016 = 2048 >= 2048: ENOSPC.
 * Debian's 4.17 xenstored: 2015 OK, 2016 ENOSPC.
 */
static void test_node_size_boundary(void **state)
{
	char big[2100];

	memset(big, 'x', sizeof(big));
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 2015), 0);
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 2016),
			 -ENOSPC);
	assert_int_equal(h_writen(c5, 0, "/local/domain/5/v", big, 2023),
			 -ENOSPC);
}

/*
 * The same 24-byte header for a parent's child
 * list: Debian's 4.17 xenstored lets domain 5 write n1 .. n424 under its
 * home (child list 2012 bytes) and refuses n425 with ENOSPC.
 */
static void test_node_size_parent_boundary(void **state)
{
	char p[64];
	int i;

	for (i = 1; i <= 424; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c5, 0, p, ""), 0);
	}
	assert_int_equal(h_write(c5, 0, "/local/domain/5/n425", ""), -ENOSPC);
	h_check_tree(x);
}

/* 4.17: 129 watches are fine, the 130th is E2BIG (checked "> quota"). */
static void test_watches(void **state)
{
	struct conn *other;
	char p[32];
	int i;

	for (i = 1; i <= 129; i++) {
		snprintf(p, sizeof(p), "/w%d", i);
		assert_int_equal(h_watch(c5, p, "t"), 0);
		assert_non_null(h_event(c5));
	}
	assert_int_equal(h_watch(c5, "/w130", "t"), -E2BIG);
	/* the quota is per domain, not per connection */
	other = h_dom(x, 5);
	assert_int_equal(h_watch(other, "/w130", "t"), -E2BIG);
	assert_int_equal(h_unwatch(c5, "/w1", "t"), 0);
	assert_int_equal(h_watch(other, "/w130", "t"), 0);
	h_drain(other);
	conn_free(other);
	/* dom0 is not limited */
	for (i = 1; i <= 200; i++) {
		snprintf(p, sizeof(p), "/w%d", i);
		assert_int_equal(h_watch(c0, p, "t"), 0);
	}
}

static void test_watches_config(void **state)
{
	restart(1000, 2, 10, 1024);
	assert_int_equal(h_watch(c5, "/a", "t"), 0);
	assert_int_equal(h_watch(c5, "/b", "t"), 0);
	assert_int_equal(h_watch(c5, "/c", "t"), 0);
	assert_int_equal(h_watch(c5, "/d", "t"), -E2BIG);
	h_drain(c5);
	restart(1000, 0, 10, 1024);
	assert_int_equal(h_watch(c5, "/a", "t"), 0);
	assert_int_equal(h_watch(c5, "/b", "t"), 0);
	assert_int_equal(h_watch(c5, "/c", "t"), 0);
	assert_int_equal(h_watch(c5, "/d", "t"), 0);
	h_drain(c5);
}

/*
 * 4.17: 11 open transactions on a domain's one ring, the 12th is ENOSPC.
 * Per domain, whatever the number of its connections.
 */
static void test_transactions(void **state)
{
	struct conn *other = h_dom(x, 5);
	uint32_t t;
	int i;

	for (i = 1; i <= 6; i++)
		assert_int_equal(h_tstart(c5, &t), 0);
	for (i = 1; i <= 5; i++)
		assert_int_equal(h_tstart(other, &t), 0);
	assert_int_equal(h_tstart(c5, &t), -ENOSPC);
	assert_int_equal(h_tstart(other, &t), -ENOSPC);
	assert_int_equal(domain_find(x, 5)->ntxns, 11);
	assert_int_equal(h_tend(c5, 3, false), 0);
	assert_int_equal(h_tstart(other, &t), 0);
	assert_int_equal(h_tstart(c5, &t), -ENOSPC);
	/* a closed connection's transactions are gone */
	conn_free(other);
	assert_int_equal(domain_find(x, 5)->ntxns, 5);
	for (i = 1; i <= 6; i++)
		assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_tstart(c5, &t), -ENOSPC);
	/* dom0 is not limited */
	for (i = 1; i <= 30; i++)
		assert_int_equal(h_tstart(c0, &t), 0);
}

/*
 * Outstanding messages count per domain: one connection holding 20
 * unread replies stops the domain's other connections too, until it reads.
 */
static void test_outstanding_per_domain(void **state)
{
	struct conn *other = h_dom(x, 5);
	struct h_msg m;
	int i;

	assert_int_equal(h_write(c0, 0, "/local/domain/5/v", "x"), 0);
	for (i = 0; i < 20; i++)
		h_send(c5, XS_READ, 0, "/local/domain/5/v", 18);
	assert_int_equal(domain_find(x, 5)->nout, 20);
	assert_false(conn_may_read(other));
	assert_false(conn_may_read(c5));
	assert_true(conn_may_read(c0));
	other->on_dirty = false;	/* not served by io.c here */
	assert_true(h_pop(c5, &m));
	assert_true(conn_may_read(other));
	assert_true(other->on_dirty);	/* woken */
	h_drain(c5);
	while (h_pop(c5, &m))
		;
	assert_int_equal(domain_find(x, 5)->nout, 0);
	conn_free(other);
}

/* The memory quota holds for the domain's events on all its connections. */
static void test_memory_per_domain(void **state)
{
	struct xsd_config cfg;
	struct conn *other;
	char p[64];
	unsigned int n;
	int i;

	h_free(x);
	xsd_default_config(&cfg);
	cfg.quota.memory = 1000;
	start(&cfg);
	other = h_dom(x, 5);
	assert_int_equal(domain_find(x, 5)->nconns, 2);
	assert_int_equal(h_watch(c5, "/local/domain/5", "t"), 0);
	assert_int_equal(h_watch(other, "/local/domain/5", "u"), 0);
	h_drain(c5);
	h_drain(other);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c0, 0, p, ""), 0);
	}
	n = h_event_count(c5) + h_event_count(other);
	/* 16-byte header, ~22-byte payload: 26 fit in 1000 bytes */
	assert_true(n >= 20 && n <= 27);
	assert_true(domain_find(x, 5)->out_bytes <= 1000);
	h_drain(c5);
	h_drain(other);
	assert_int_equal(domain_find(x, 5)->out_bytes, 0);
	conn_free(other);
	assert_int_equal(domain_find(x, 5)->nconns, 1);
}

/*
 * A transaction's copies of nodes are charged to the domain's memory, even
 * for reads answered EACCES; past the quota: ENOMEM, the transaction fails.
 */
static void test_memory_txn_copies(void **state)
{
	static char big[2001];
	struct xsd_config cfg;
	struct domain *d;
	char p[64];
	uint32_t t;
	int i, r = 0;

	h_free(x);
	xsd_default_config(&cfg);
	cfg.quota.memory = 40000;
	start(&cfg);
	d = domain_find(x, 5);
	memset(big, 'b', 2000);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/big/%d", i);
		assert_int_equal(h_write(c0, 0, p, big), 0);
	}
	assert_int_equal(h_tstart(c5, &t), 0);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/big/%d", i);
		r = h_call(c5, XS_READ, t, p, strlen(p) + 1, NULL);
		if (r != -EACCES)
			break;
	}
	assert_int_equal(r, -ENOMEM);
	assert_true(i >= 10 && i < 20);		/* ~2.1 KB a copy */
	assert_true(d->txn_bytes <= 40000);
	assert_int_equal(h_tend(c5, t, true), -ENOMEM);
	assert_int_equal(d->txn_bytes, 0);

	/* writes grow the copies: charged too */
	assert_int_equal(h_tstart(c5, &t), 0);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/w%d", i);
		r = h_writen(c5, t, p, big, 1500);
		if (r < 0)
			break;
	}
	assert_true(d->txn_bytes > 0);
	assert_int_equal(h_tend(c5, t, true), -ENOMEM);
	assert_int_equal(d->txn_bytes, 0);
	assert_string_equal(h_read(c5, 0, "/local/domain/5/w0"), "!ENOENT");

	/* dom0 is not limited */
	assert_int_equal(h_tstart(c0, &t), 0);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/big/%d", i);
		assert_string_equal(h_read(c0, t, p), big);
	}
	assert_int_equal(h_tend(c0, t, true), 0);
}

/* xsd_check (xenstore-control check, the fuzzer) sums the usage up. */
static void test_usage_check(void **state)
{
	struct domain *d = domain_find(x, 5);
	struct conn *other = h_dom(x, 5);
	uint32_t t;

	assert_int_equal(h_watch(other, "/local/domain/5", "t"), 0);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_string_equal(h_read(c5, t, "/local/domain/5"), "");
	assert_int_equal(xsd_check(x), 0);
	d->nout++;
	assert_int_equal(xsd_check(x), -EIO);
	d->nout--;
	d->txn_bytes++;
	assert_int_equal(xsd_check(x), -EIO);
	d->txn_bytes--;
	d->nconns++;
	assert_int_equal(xsd_check(x), -EIO);
	d->nconns--;
	assert_int_equal(xsd_check(x), 0);
	conn_free(other);
	assert_int_equal(xsd_check(x), 0);
	assert_int_equal(h_tend(c5, t, false), 0);
}

static void test_transactions_config(void **state)
{
	uint32_t t;

	restart(1000, 128, 1, 1024);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_tstart(c5, &t), -ENOSPC);
}

/* 5 permission entries are fine for a domain, 6 are ENOSPC. */
static void test_permissions(void **state)
{
	assert_int_equal(h_setperms(c5, 0, "/local/domain/5",
				    "n5,r0,r0,r0,r0"), 0);
	assert_int_equal(h_setperms(c5, 0, "/local/domain/5",
				    "n5,r0,r0,r0,r0,r0"), -ENOSPC);
	assert_string_equal(h_perms(c5, 0, "/local/domain/5"),
			    "n5,r0,r0,r0,r0");
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5",
				    "n5,r0,r0,r0,r0,r0,r0,r0,r0,r0"), 0);
}

/* Too many nodes touched in one transaction: ENOSPC, then END T ENOMEM. */
static void test_transaction_nodes(void **state)
{
	char p[64];
	uint32_t t;
	int i;

	restart(1000, 128, 10, 5);
	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c0, 0, p, "v"), 0);
	}
	assert_int_equal(h_tstart(c5, &t), 0);
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_string_equal(h_read(c5, t, p), "v");
	}
	assert_string_equal(h_read(c5, t, "/local/domain/5/n0"), "v");
	assert_string_equal(h_read(c5, t, "/local/domain/5/n5"), "!ENOSPC");
	assert_int_equal(h_tend(c5, t, true), -ENOMEM);
	/* dom0 is not limited */
	assert_int_equal(h_tstart(c0, &t), 0);
	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/n%d", i);
		assert_int_equal(h_write(c0, t, p, "w"), 0);
	}
	assert_int_equal(h_tend(c0, t, true), 0);
}

static void test_control_quota(void **state)
{
	struct h_msg m;

	restart(7, 3, 2, 9);
	assert_int_equal(h_callv(c0, XS_CONTROL, 0, &m, "quota", NULL), 0);
	assert_non_null(strstr(m.data, "Quota settings:\n"));
	assert_non_null(strstr(m.data, "\nnodes            :        7 "));
	assert_non_null(strstr(m.data, "\nwatches          :        3 "));
	assert_non_null(strstr(m.data, "\ntransactions     :        2 "));
	assert_non_null(strstr(m.data, "\ntransaction-nodes:        9 "));
	assert_int_equal(m.len, strlen(m.data) + 1);
	/* unprivileged callers may not */
	assert_int_equal(h_callv(c5, XS_CONTROL, 0, &m, "quota", NULL),
			 -EACCES);
}

/* "quota set NAME VALUE" changes the quota the daemon applies. */
static void test_control_quota_set(void **state)
{
	struct h_msg m;

	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota", "set", "watches",
			       "2", NULL), 0);
	assert_int_equal(h_callv(c0, XS_CONTROL, 0, &m, "quota", NULL), 0);
	assert_non_null(strstr(m.data, "\nwatches          :        2 "));
	assert_int_equal(h_watch(c5, "/local/domain/5/a", "t"), 0);
	assert_int_equal(h_watch(c5, "/local/domain/5/b", "t"), 0);
	assert_int_equal(h_watch(c5, "/local/domain/5/c", "t"), 0);
	assert_int_equal(h_watch(c5, "/local/domain/5/d", "t"), -E2BIG);
	h_drain(c5);

	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota", "set", "nodes",
			       "3", NULL), 0);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/n1", ""), 0);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/n2", ""), 0);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/n3", ""), -ENOSPC);

	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota-soft", "set",
			       "memory", "1000", NULL), 0);
	assert_int_equal(h_callv(c0, XS_CONTROL, 0, &m, "quota-soft", NULL),
			 0);
	assert_non_null(strstr(m.data, "\nmemory           :     1000 "));
	assert_int_equal(x->cfg.quota.memory_soft, 1000);
}

/* 4.17 refuses values below 1; xpt also numbers that do not fit an int. */
static void test_control_quota_bad(void **state)
{
	static const char *const bad[][4] = {
		{ "set", "nodes", "0", NULL },
		{ "set", "nodes", "-5", NULL },
		{ "set", "nodes", "10000000000000", NULL },
		{ "set", "nodes", "4294967297", NULL },
		{ "set", "nodes", "2147483648", NULL },
		{ "set", "nodes", "12x", NULL },
		{ "set", "nodes", "", NULL },
		{ "set", "bogus", "5", NULL },
		{ "set", "nodes", NULL, NULL },
		{ "set", "nodes", "5", "6" },
		{ "10000000000005", NULL, NULL, NULL },
		{ "4294967301", NULL, NULL, NULL },
		{ "5", "6", NULL, NULL },
		{ "five", NULL, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota", bad[i][0],
				       bad[i][1], bad[i][2], bad[i][3], NULL),
				 -EINVAL);
	assert_int_equal(x->cfg.quota.nodes, 1000);
	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota-soft", "set",
			       "nodes", "5", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota-soft", "5", NULL),
			 -EINVAL);
	assert_int_equal(h_okv(c0, XS_CONTROL, 0, "quota", "99", NULL),
			 -ENOENT);
}

/* "quota DOMID": what the domain uses. */
static void test_control_quota_domain(void **state)
{
	struct h_msg m;
	uint32_t t;

	assert_int_equal(h_write(c5, 0, "/local/domain/5/a", ""), 0);
	assert_int_equal(h_watch(c5, "/local/domain/5/a", "t"), 0);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_callv(c0, XS_CONTROL, 0, &m, "quota", "5", NULL),
			 0);
	assert_non_null(strstr(m.data, "Domain 5:\n"));
	assert_non_null(strstr(m.data, "\nnodes           :        2\n"));
	assert_non_null(strstr(m.data, "\nwatches         :        1\n"));
	assert_non_null(strstr(m.data, "\ntransactions    :        1\n"));
	assert_non_null(strstr(m.data, "\nmemory          : "));
	assert_int_equal(h_tend(c5, t, false), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_nodes_default),
		T(test_nodes_small),
		T(test_nodes_disabled),
		T(test_nodes_txn),
		T(test_node_size),
		T(test_node_size_boundary),
		T(test_node_size_parent_boundary),
		T(test_watches),
		T(test_watches_config),
		T(test_transactions),
		T(test_transactions_config),
		T(test_outstanding_per_domain),
		T(test_memory_per_domain),
		T(test_memory_txn_copies),
		T(test_usage_check),
		T(test_permissions),
		T(test_transaction_nodes),
		T(test_control_quota),
		T(test_control_quota_set),
		T(test_control_quota_bad),
		T(test_control_quota_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
