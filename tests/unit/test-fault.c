// SPDX-License-Identifier: MIT
/*
 * Allocation fault injection (SQLite's method): for N = 1, 2, ... make the
 * Nth allocation fail while a fixed request sequence runs, until a run
 * completes without reaching allocation N.  After every run: each request
 * got exactly one reply (an error is fine; silence only if the connection
 * is being dropped), the tree is consistent (children exist, parents list
 * them, per-domain node counts match ownership), and the store still
 * works.  Under ASan this also finds leaks and use-after-free on the error
 * paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "harness.h"

#define MAX_RUNS 20000

struct step {
	int who;		/* 0: dom0, 5: domain 5 */
	uint32_t type;
	bool in_txn;
	const char *a, *b, *c;
	int expect;		/* result of the fault-free run */
};

/* a/... paths are relative: domain 5's resolve below /local/domain/5 */
static const struct step steps[] = {
	{ 0, XS_MKDIR, false, "/local/domain/5", NULL, NULL, 0 },
	{ 0, XS_SET_PERMS, false, "/local/domain/5", "n5", "r6", 0 },
	{ 5, XS_WRITE, false, "a/b/c", "v", NULL, 0 },
	{ 0, XS_WRITE, false, "/local/domain/5/a/z", "dom0", NULL, 0 },
	{ 5, XS_WATCH, false, "a", "t5", NULL, 0 },
	{ 0, XS_WATCH, false, "/local/domain/5", "t0", NULL, 0 },
	{ 0, XS_WATCH, false, "@releaseDomain", "rel", NULL, 0 },
	{ 5, XS_TRANSACTION_START, false, NULL, NULL, NULL, 0 },
	{ 5, XS_READ, true, "a/b/c", NULL, NULL, 0 },
	{ 5, XS_WRITE, true, "a/b/d", "x", NULL, 0 },
	{ 5, XS_WRITE, true, "a/e/f/g", "y", NULL, 0 },
	{ 5, XS_SET_PERMS, true, "a/e", "n5", "b0", 0 },
	{ 5, XS_RM, true, "a/z", NULL, NULL, 0 },
	{ 5, XS_DIRECTORY, true, "a", NULL, NULL, 0 },
	{ 5, XS_TRANSACTION_END, true, "T", NULL, NULL, 0 },
	{ 0, XS_GET_PERMS, false, "/local/domain/5/a/e", NULL, NULL, 0 },
	{ 0, XS_INTRODUCE, false, "7", "0", "1", 0 },
	{ 0, XS_SET_PERMS, false, "/local/domain/5/a/e", "n7", NULL, 0 },
	{ 0, XS_WRITE, false, "/seven/x/y", "7", NULL, 0 },
	{ 0, XS_SET_PERMS, false, "/seven/x", "n7", "r5", 0 },
	{ 0, XS_RELEASE, false, "7", NULL, NULL, 0 },
	{ 5, XS_RM, false, "a/b", NULL, NULL, 0 },
	{ 5, XS_UNWATCH, false, "a", "t5", NULL, 0 },
	{ 0, XS_DIRECTORY_PART, false, "/local/domain/5/a", "0", NULL, 0 },
	{ 0, XS_RM, false, "/seven", NULL, NULL, 0 },
	{ 0, XS_RESET_WATCHES, false, "", NULL, NULL, 0 },
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

struct run {
	int results[NSTEPS];
	bool dropped;
};

static void run_sequence(struct xsd *x, struct conn *c0, struct conn *c5,
			 struct run *run)
{
	uint32_t tx = 0;
	size_t i;

	for (i = 0; i < NSTEPS; i++) {
		const struct step *s = &steps[i];
		struct conn *c = s->who ? c5 : c0;
		struct h_msg m;
		int r;

		if (c->closing || c->dead) {
			run->dropped = true;
			run->results[i] = -ENOTCONN;
			continue;
		}
		r = h_callv(c, s->type, s->in_txn ? tx : 0, &m, s->a, s->b,
			    s->c, NULL);
		if (r == 0 && s->type == XS_TRANSACTION_START)
			tx = (uint32_t)strtoul(m.data, NULL, 10);
		run->results[i] = r;
		h_drain(c0);
		h_drain(c5);
	}
}

static void check_usable(struct xsd *x)
{
	struct conn *c = h_dom0(x);

	assert_int_equal(h_write(c, 0, "/after/fault", "ok"), 0);
	assert_string_equal(h_read(c, 0, "/after/fault"), "ok");
	assert_int_equal(h_rm(c, 0, "/after"), 0);
	h_check_tree(x);
	conn_free(c);
}

static void test_fault_loop(void **state)
{
	unsigned int nerr[NSTEPS] = { 0 };
	long n, seen = 0;
	size_t i;

	for (n = 1; n <= MAX_RUNS; n++) {
		struct run run = { .dropped = false };
		struct xsd *x;
		struct conn *c0, *c5;
		char why[512];

		fault_arm(0);
		x = h_new();
		c0 = h_dom0(x);
		c5 = h_dom(x, 5);

		fault_arm(n);
		run_sequence(x, c0, c5, &run);
		seen = fault_count();
		fault_arm(0);

		if (h_tree_problems(x, why, sizeof(why)))
			fail_msg("fault at allocation %ld: store inconsistent: "
				 "%s", n, why);
		check_usable(x);
		for (i = 0; i < NSTEPS; i++)
			if (run.results[i] != steps[i].expect)
				nerr[i]++;
		xsd_free(x);

		if (seen < n) {
			/* allocation n never happened: a clean run */
			assert_false(run.dropped);
			for (i = 0; i < NSTEPS; i++)
				if (run.results[i] != steps[i].expect)
					fail_msg("fault-free run: step %zu "
						 "(type %u) gave %s", i,
						 steps[i].type,
						 h_errname(-run.results[i]));
			break;
		}
	}
	assert_true(n <= MAX_RUNS);
	assert_true(n > 50);	/* the sequence does allocate */
	print_message("fault loop: %ld runs, %ld allocations\n", n, seen);
}

/* Faults while a domain creates nodes near its quota keep counts exact. */
static void test_fault_quota_counts(void **state)
{
	long n;

	for (n = 1; n <= MAX_RUNS; n++) {
		struct xsd_config cfg;
		struct xsd *x;
		struct conn *c0, *c5;
		char p[64];
		long seen;
		int i;

		fault_arm(0);
		xsd_default_config(&cfg);
		cfg.quota.nodes = 6;
		x = h_new_cfg(&cfg);
		c0 = h_dom0(x);
		c5 = h_dom(x, 5);
		assert_int_equal(h_mkdir(c0, 0, "/local/domain/5"), 0);
		assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);

		fault_arm(n);
		for (i = 0; i < 4 && !c5->closing; i++) {
			snprintf(p, sizeof(p), "/local/domain/5/d%d/e/f", i);
			(void)h_write(c5, 0, p, "v");
		}
		seen = fault_count();
		fault_arm(0);
		h_check_tree(x);
		assert_true(domain_find(x, 5)->nnodes <= 6);
		xsd_free(x);
		if (seen < n)
			break;
	}
	assert_true(n <= MAX_RUNS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_loop),
		cmocka_unit_test(test_fault_quota_counts),
	};

#ifndef XPT_FAULT_INJECTION
	return 77;	/* fault points compiled out */
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
