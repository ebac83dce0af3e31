// SPDX-License-Identifier: MIT
/* Transactions: ids, isolation, conflicts, events at commit, errors. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct xsd *x;
static struct conn *c0, *c1;

static int setup(void **state)
{
	x = h_new();
	c0 = h_dom0(x);
	c1 = h_dom0(x);
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

/* Ids count from 1 per connection; a freed id is not reused at once. */
static void test_ids(void **state)
{
	uint32_t a, b, c, d;

	assert_int_equal(h_tstart(c0, &a), 0);
	assert_int_equal(a, 1);
	assert_int_equal(h_tstart(c0, &b), 0);
	assert_int_equal(b, 2);
	assert_int_equal(h_tstart(c1, &c), 0);
	assert_int_equal(c, 1);				/* per connection */
	assert_int_equal(h_tend(c0, a, false), 0);
	assert_int_equal(h_tstart(c0, &d), 0);
	assert_int_equal(d, 3);
	/* c1's transaction 1 is not c0's */
	assert_int_equal(h_tend(c1, 1, true), 0);
	assert_int_equal(h_tend(c1, 1, true), -ENOENT);
	assert_int_equal(h_tend(c0, 2, true), 0);
	assert_int_equal(h_tend(c0, 3, true), 0);
	assert_int_equal(c0->ntxns, 0);
}

static void test_reply_format(void **state)
{
	struct h_msg m;

	assert_int_equal(h_call(c0, XS_TRANSACTION_START, 0, "", 1, &m), 0);
	assert_int_equal(m.len, 2);
	assert_memory_equal(m.data, "1\0", 2);
	/* replies echo the transaction id */
	assert_int_equal(h_callv(c0, XS_READ, 1, &m, "/", NULL), 0);
	assert_int_equal(m.tx_id, 1);
}

/* test-xenstore "ta err". */
static void test_isolation_ta_err(void **state)
{
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/x", "a"), 0);
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_string_equal(h_read(c0, t, "/x"), "a");
	assert_int_equal(h_write(c0, 0, "/x", "b"), 0);
	assert_string_equal(h_read(c0, t, "/x"), "a");
	assert_int_equal(h_write(c0, t, "/x", "c"), 0);
	assert_string_equal(h_read(c0, t, "/x"), "c");
	assert_string_equal(h_read(c0, 0, "/x"), "b");
	assert_int_equal(h_tend(c0, t, true), -EAGAIN);
	assert_string_equal(h_read(c0, 0, "/x"), "b");
	assert_int_equal(c0->ntxns, 0);
	assert_int_equal(h_tend(c0, t, true), -ENOENT);
}

/* test-xenstore "ta rmw": commit applies, abort does not. */
static void test_rmw(void **state)
{
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/x", "a"), 0);
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_string_equal(h_read(c0, t, "/x"), "a");
	assert_int_equal(h_write(c0, t, "/x", "b"), 0);
	assert_string_equal(h_read(c0, t, "/x"), "b");
	assert_string_equal(h_read(c0, 0, "/x"), "a");
	assert_int_equal(h_tend(c0, t, false), 0);
	assert_string_equal(h_read(c0, 0, "/x"), "a");

	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_write(c0, t, "/x", "b"), 0);
	assert_int_equal(h_write(c0, t, "/new/deep", "n"), 0);
	assert_int_equal(h_rm(c0, t, "/tool"), 0);
	assert_string_equal(h_read(c0, 0, "/new/deep"), "!ENOENT");
	assert_string_equal(h_dir(c0, t, "/"), "x,new");
	assert_string_equal(h_dir(c0, 0, "/"), "tool,x");
	assert_int_equal(h_tend(c0, t, true), 0);
	assert_string_equal(h_read(c0, 0, "/x"), "b");
	assert_string_equal(h_read(c0, 0, "/new/deep"), "n");
	assert_string_equal(h_read(c0, 0, "/tool/xenstored"), "!ENOENT");
	assert_string_equal(h_dir(c0, 0, "/"), "x,new");
	h_check_tree(x);
}

/* Two transactions creating siblings under one parent conflict. */
static void test_sibling_conflict(void **state)
{
	uint32_t t0, t1;

	assert_int_equal(h_write(c0, 0, "/p", ""), 0);
	assert_int_equal(h_tstart(c0, &t0), 0);
	assert_int_equal(h_tstart(c1, &t1), 0);
	assert_int_equal(h_write(c0, t0, "/p/a", "1"), 0);
	assert_int_equal(h_write(c1, t1, "/p/b", "2"), 0);
	assert_int_equal(h_tend(c0, t0, true), 0);
	assert_int_equal(h_tend(c1, t1, true), -EAGAIN);
	assert_string_equal(h_dir(c0, 0, "/p"), "a");
	assert_string_equal(h_read(c0, 0, "/p/b"), "!ENOENT");
	h_check_tree(x);
}

/* A DIRECTORY inside conflicts with a child added outside. */
static void test_directory_conflict(void **state)
{
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/p/a", ""), 0);
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_string_equal(h_dir(c0, t, "/p"), "a");
	assert_int_equal(h_write(c1, 0, "/p/b", ""), 0);
	assert_string_equal(h_dir(c0, t, "/p"), "a");
	assert_int_equal(h_write(c0, t, "/other", "x"), 0);
	assert_int_equal(h_tend(c0, t, true), -EAGAIN);
	assert_string_equal(h_read(c0, 0, "/other"), "!ENOENT");
}

/* A failed read records "missing": a later creation conflicts. */
static void test_missing_read_conflict(void **state)
{
	uint32_t t;

	assert_int_equal(h_tstart(c0, &t), 0);
	assert_string_equal(h_read(c0, t, "/later"), "!ENOENT");
	assert_int_equal(h_write(c1, 0, "/later", "x"), 0);
	assert_int_equal(h_tend(c0, t, true), -EAGAIN);
}

/* Unrelated changes outside do not conflict; empty ones never do. */
static void test_no_conflict(void **state)
{
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/a/x", ""), 0);
	assert_int_equal(h_write(c0, 0, "/b/y", ""), 0);
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_write(c0, t, "/a/x", "1"), 0);
	assert_int_equal(h_write(c1, 0, "/b/y", "2"), 0);
	assert_int_equal(h_tend(c0, t, true), 0);
	assert_string_equal(h_read(c0, 0, "/a/x"), "1");
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_write(c1, 0, "/b/y", "3"), 0);
	assert_int_equal(h_tend(c0, t, true), 0);
}

/* Watches fire at commit only; not on abort or conflict. */
static void test_watches_at_commit(void **state)
{
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/w", "0"), 0);
	assert_int_equal(h_watch(c1, "/w", "t"), 0);
	h_drain(c1);

	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_write(c0, t, "/w", "1"), 0);
	assert_int_equal(h_write(c0, t, "/w/sub", "1"), 0);
	h_no_event(c1);
	assert_int_equal(h_tend(c0, t, false), 0);
	h_no_event(c1);

	assert_int_equal(h_tstart(c0, &t), 0);
	assert_string_equal(h_read(c0, t, "/w"), "0");
	assert_int_equal(h_write(c0, t, "/w", "1"), 0);
	assert_int_equal(h_write(c0, 0, "/w", "2"), 0);
	assert_string_equal(h_event(c1), "/w t");
	assert_int_equal(h_tend(c0, t, true), -EAGAIN);
	h_no_event(c1);

	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_write(c0, t, "/w", "3"), 0);
	assert_int_equal(h_write(c0, t, "/w/sub/x", "3"), 0);
	h_no_event(c1);
	assert_int_equal(h_tend(c0, t, true), 0);
	/* one event per modified node, in the order first touched */
	assert_string_equal(h_event(c1), "/w t");
	assert_string_equal(h_event(c1), "/w/sub/x t");
	h_no_event(c1);
}

static void test_errors(void **state)
{
	uint32_t t;
	struct h_msg m;

	assert_int_equal(h_tstart(c0, &t), 0);
	/* nested start */
	assert_int_equal(h_call(c0, XS_TRANSACTION_START, t, "", 1, &m),
			 -EBUSY);
	/* unknown id, for any request */
	assert_int_equal(h_callv(c0, XS_READ, 99, &m, "/", NULL), -ENOENT);
	assert_int_equal(h_write(c0, 99, "/z", "1"), -ENOENT);
	assert_string_equal(h_read(c0, 0, "/z"), "!ENOENT");
	/* END: tx 0, bad arguments */
	assert_int_equal(h_tend(c0, 0, true), -ENOENT);
	assert_int_equal(h_okv(c0, XS_TRANSACTION_END, t, "X", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_TRANSACTION_END, t, "TT", NULL),
			 -EINVAL);
	assert_int_equal(h_call(c0, XS_TRANSACTION_END, t, "T", 1, &m),
			 -EINVAL);
	assert_int_equal(h_call(c0, XS_TRANSACTION_END, t, "", 0, &m),
			 -EINVAL);
	/* still open after the bad ENDs */
	assert_int_equal(h_write(c0, t, "/f", "1"), 0);
	assert_int_equal(h_tend(c0, t, false), 0);
	assert_string_equal(h_read(c0, 0, "/f"), "!ENOENT");
	assert_int_equal(h_tend(c0, t, false), -ENOENT);
}

/* Transaction requests from an unprivileged domain, relative paths. */
static void test_domain_txn(void **state)
{
	struct conn *c5 = h_dom(x, 5);
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/local/domain/5", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(h_tstart(c5, &t), 0);
	assert_int_equal(h_write(c5, t, "data/a", "1"), 0);
	assert_int_equal(h_write(c5, t, "data/b", "2"), 0);
	assert_string_equal(h_read(c5, t, "data/a"), "1");
	assert_int_equal(h_write(c5, t, "/forbidden", "x"), -EACCES);
	assert_int_equal(domain_find(x, 5)->nnodes, 1);
	assert_int_equal(h_tend(c5, t, true), 0);
	assert_int_equal(domain_find(x, 5)->nnodes, 4);
	assert_string_equal(h_perms(c0, 0, "/local/domain/5/data/b"), "n5");
	h_check_tree(x);
	conn_free(c5);
}

/* Removal and permission changes inside a transaction. */
static void test_rm_setperms_in_txn(void **state)
{
	struct conn *c5 = h_dom(x, 5);
	uint32_t t;

	assert_int_equal(h_write(c0, 0, "/r/a/b", "1"), 0);
	assert_int_equal(h_write(c0, 0, "/s", "1"), 0);
	assert_int_equal(h_watch(c0, "/r/a/b", "exact"), 0);
	h_drain(c0);
	assert_int_equal(h_tstart(c0, &t), 0);
	assert_int_equal(h_rm(c0, t, "/r/a"), 0);
	assert_int_equal(h_setperms(c0, t, "/s", "n5"), 0);
	assert_string_equal(h_read(c0, t, "/r/a/b"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/r/a/b"), "1");
	assert_string_equal(h_perms(c0, 0, "/s"), "n0");
	assert_int_equal(domain_find(x, 5)->nnodes, 0);
	h_no_event(c0);
	assert_int_equal(h_tend(c0, t, true), 0);
	assert_string_equal(h_event(c0), "/r/a/b exact");
	h_no_event(c0);
	assert_string_equal(h_read(c0, 0, "/r/a"), "!ENOENT");
	assert_string_equal(h_dir(c0, 0, "/r"), "");
	assert_string_equal(h_perms(c0, 0, "/s"), "n5");
	assert_int_equal(domain_find(x, 5)->nnodes, 1);
	h_check_tree(x);
	conn_free(c5);
}

/* Closing a connection drops its transactions without effect. */
static void test_close_aborts(void **state)
{
	struct conn *o = h_dom0(x);
	uint32_t t;

	assert_int_equal(h_tstart(o, &t), 0);
	assert_int_equal(h_write(o, t, "/gone", "1"), 0);
	conn_free(o);
	assert_string_equal(h_read(c0, 0, "/gone"), "!ENOENT");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ids),
		T(test_reply_format),
		T(test_isolation_ta_err),
		T(test_rmw),
		T(test_sibling_conflict),
		T(test_directory_conflict),
		T(test_missing_read_conflict),
		T(test_no_conflict),
		T(test_watches_at_commit),
		T(test_errors),
		T(test_domain_txn),
		T(test_rm_setperms_in_txn),
		T(test_close_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
