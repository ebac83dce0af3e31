// SPDX-License-Identifier: MIT
/* The permission model: owner, default letter, entries, targets, secrecy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct xsd *x;
static struct conn *c0, *c5, *c6;

static int setup(void **state)
{
	x = h_new();
	c0 = h_dom0(x);
	c5 = h_dom(x, 5);
	c6 = h_dom(x, 6);
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

/* Entry 0: the owner gets everything, everyone else its letter. */
static void test_owner_and_default(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "r5"), 0);
	assert_string_equal(h_read(c5, 0, "/a"), "v");	/* owner */
	assert_int_equal(h_write(c5, 0, "/a", "w"), 0);
	assert_string_equal(h_read(c6, 0, "/a"), "w");	/* default r */
	assert_int_equal(h_write(c6, 0, "/a", "x"), -EACCES);

	assert_int_equal(h_setperms(c0, 0, "/a", "w0"), 0);
	assert_string_equal(h_read(c6, 0, "/a"), "!EACCES");
	assert_int_equal(h_write(c6, 0, "/a", "y"), 0);	/* default w */
	assert_string_equal(h_read(c0, 0, "/a"), "y");

	assert_int_equal(h_setperms(c0, 0, "/a", "n0"), 0);
	assert_string_equal(h_read(c6, 0, "/a"), "!EACCES");
	assert_int_equal(h_write(c6, 0, "/a", "z"), -EACCES);

	assert_int_equal(h_setperms(c0, 0, "/a", "b0"), 0);
	assert_int_equal(h_write(c6, 0, "/a", "z"), 0);
	assert_string_equal(h_read(c6, 0, "/a"), "z");
}

/* The first entry naming the caller decides; later ones do not count. */
static void test_first_entry_wins(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "b0,r5,b5"), 0);
	assert_string_equal(h_read(c5, 0, "/a"), "v");
	assert_int_equal(h_write(c5, 0, "/a", "x"), -EACCES);
	assert_int_equal(h_setperms(c0, 0, "/a", "b0,n5,b5"), 0);
	assert_string_equal(h_read(c5, 0, "/a"), "!EACCES");
	assert_int_equal(h_write(c5, 0, "/a", "x"), -EACCES);
	assert_string_equal(h_read(c6, 0, "/a"), "v");	/* default b */
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,w5,r5"), 0);
	assert_int_equal(h_write(c5, 0, "/a", "x"), 0);
	assert_string_equal(h_read(c5, 0, "/a"), "!EACCES");
	/* an entry that only names the owner again is never consulted */
	assert_int_equal(h_setperms(c0, 0, "/a", "n5,n5"), 0);
	assert_string_equal(h_read(c5, 0, "/a"), "x");
}

static void test_privileged_bypass(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n5"), 0);
	assert_string_equal(h_read(c0, 0, "/a"), "v");
	assert_int_equal(h_write(c0, 0, "/a", "w"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n6"), 0);	/* owner change */
	assert_string_equal(h_perms(c0, 0, "/a"), "n6");
	assert_int_equal(h_rm(c0, 0, "/a"), 0);
}

/*
 * A missing or refused node gives ENOENT only when the nearest existing
 * ancestor grants the access asked for; otherwise EACCES.
 */
static void test_enoent_vs_eacces(void **state)
{
	assert_int_equal(h_write(c0, 0, "/open/x", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/open", "r0"), 0);
	assert_int_equal(h_setperms(c0, 0, "/open/x", "n0"), 0);
	assert_int_equal(h_write(c0, 0, "/closed/y", "v"), 0);
	/* /closed is n0 (inherited) */

	assert_string_equal(h_read(c5, 0, "/open/missing"), "!ENOENT");
	assert_string_equal(h_read(c5, 0, "/open/missing/deeper"), "!ENOENT");
	assert_string_equal(h_read(c5, 0, "/open/x"), "!EACCES");
	assert_string_equal(h_read(c5, 0, "/closed/missing"), "!EACCES");
	assert_string_equal(h_read(c5, 0, "/closed/y"), "!EACCES");
	assert_string_equal(h_read(c5, 0, "/closed"), "!EACCES");
	/* "/" is n0: a top-level missing node is secret too */
	assert_string_equal(h_read(c5, 0, "/missing"), "!EACCES");
	assert_string_equal(h_dir(c5, 0, "/closed/missing"), "!EACCES");
	assert_string_equal(h_dir(c5, 0, "/open/missing"), "!ENOENT");
	/* for writes the ancestor must grant WRITE: r0 is not enough */
	assert_int_equal(h_rm(c5, 0, "/open/missing/deeper"), -EACCES);
	assert_int_equal(h_write(c5, 0, "/open/new", "v"), -EACCES);
	/* dom0 sees the truth */
	assert_string_equal(h_read(c0, 0, "/closed/missing"), "!ENOENT");
}

static void test_set_perms_owner_only(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n5,b6"), 0);
	/* 6 may write but is not the owner */
	assert_int_equal(h_write(c6, 0, "/a", "w"), 0);
	assert_int_equal(h_setperms(c6, 0, "/a", "n5,b6"), -EACCES);
	/* the owner may change the entries, not the owner */
	assert_int_equal(h_setperms(c5, 0, "/a", "n5,r6"), 0);
	assert_string_equal(h_perms(c5, 0, "/a"), "n5,r6");
	assert_int_equal(h_setperms(c5, 0, "/a", "n6"), -EPERM);
	assert_int_equal(h_setperms(c5, 0, "/a", "n0"), -EPERM);
	assert_string_equal(h_perms(c0, 0, "/a"), "n5,r6");
	/* a missing node */
	assert_int_equal(h_setperms(c0, 0, "/nope", "n0"), -ENOENT);
	/* malformed */
	assert_int_equal(h_okv(c0, XS_SET_PERMS, 0, "/a", NULL), -EINVAL);
	assert_int_equal(h_setperms(c0, 0, "/a", "x0"), -EINVAL);
	assert_int_equal(h_setperms(c0, 0, "/a", "r"), -EINVAL);
	assert_int_equal(h_setperms(c0, 0, "/a", "r5z"), -EINVAL);
	assert_int_equal(h_setperms(c0, 0, "/a", "r5,"), -EINVAL);
	assert_string_equal(h_perms(c0, 0, "/a"), "n5,r6");
	assert_int_equal(domain_find(x, 5)->nnodes, 1);
	assert_int_equal(domain_find(x, 6)->nnodes, 0);
}

/* Owner changes move the node between the domains' node counts. */
static void test_set_perms_counts(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(x->dom0->nnodes, 4);
	assert_int_equal(h_setperms(c0, 0, "/a", "n5"), 0);
	assert_int_equal(x->dom0->nnodes, 3);
	assert_int_equal(domain_find(x, 5)->nnodes, 1);
	assert_int_equal(h_setperms(c0, 0, "/a", "n6"), 0);
	assert_int_equal(domain_find(x, 5)->nnodes, 0);
	assert_int_equal(domain_find(x, 6)->nnodes, 1);
	h_check_tree(x);
}

/* SET_TARGET: the device model gets its target's rights. */
static void test_set_target(void **state)
{
	assert_int_equal(h_write(c0, 0, "/t/own", "v"), 0);
	assert_int_equal(h_write(c0, 0, "/t/entry", "w"), 0);
	assert_int_equal(h_setperms(c0, 0, "/t/own", "n5"), 0);
	assert_int_equal(h_setperms(c0, 0, "/t/entry", "n0,r5"), 0);
	assert_string_equal(h_read(c6, 0, "/t/own"), "!EACCES");
	assert_string_equal(h_read(c6, 0, "/t/entry"), "!EACCES");

	assert_int_equal(h_okv(c6, XS_SET_TARGET, 0, "6", "5", NULL), -EACCES);
	assert_int_equal(h_okv(c0, XS_SET_TARGET, 0, "6", "9", NULL), -ENOENT);
	assert_int_equal(h_okv(c0, XS_SET_TARGET, 0, "9", "5", NULL), -ENOENT);
	assert_int_equal(h_okv(c0, XS_SET_TARGET, 0, "6", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_SET_TARGET, 0, "6", "5", NULL), 0);

	assert_string_equal(h_read(c6, 0, "/t/own"), "v");
	assert_int_equal(h_write(c6, 0, "/t/own", "v2"), 0);
	assert_int_equal(h_setperms(c6, 0, "/t/own", "n5,r0"), 0);
	assert_string_equal(h_read(c6, 0, "/t/entry"), "w");
	assert_int_equal(h_write(c6, 0, "/t/entry", "x"), -EACCES);
	/* a node created by the device model is its own */
	assert_int_equal(h_write(c0, 0, "/t/dm", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/t/dm", "n5"), 0);
	assert_int_equal(h_write(c6, 0, "/t/dm/new", "n"), 0);
	assert_string_equal(h_perms(c0, 0, "/t/dm/new"), "n6");
	/* the target gets nothing from the device model */
	assert_int_equal(h_setperms(c0, 0, "/t/own", "n6"), 0);
	assert_string_equal(h_read(c5, 0, "/t/own"), "!EACCES");
	h_check_tree(x);
}

/*
 * The target relation dies with the target: a new domain that reuses the
 * domid is not the old device model's target.
 */
static void test_set_target_released(void **state)
{
	struct conn *c7;

	assert_int_equal(h_okv(c0, XS_SET_TARGET, 0, "6", "5", NULL), 0);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "5", NULL), 0);
	c7 = h_dom(x, 5);
	assert_int_equal(h_write(c0, 0, "/local/domain/5", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(h_write(c7, 0, "/local/domain/5/secret", "s"), 0);
	assert_string_equal(h_read(c6, 0, "/local/domain/5/secret"),
			    "!EACCES");
	assert_int_equal(h_write(c6, 0, "/local/domain/5/secret", "x"),
			 -EACCES);
	assert_string_equal(h_read(c7, 0, "/local/domain/5/secret"), "s");
	h_check_tree(x);
}

/* strtol base 0 in, "%i" out: 0x10 -> 16, 010 -> 8. */
static void test_perms_parse_format(void **state)
{
	struct perms p;
	char buf[128];
	uint32_t len;

	assert_int_equal(perms_parse("n0\0r0x10\0b010\0w7\0", 4, &p), 0);
	assert_int_equal(p.num, 4);
	assert_int_equal(p.p[0].id, 0);
	assert_int_equal(p.p[0].perms, PERM_NONE);
	assert_int_equal(p.p[1].id, 16);
	assert_int_equal(p.p[1].perms, PERM_READ);
	assert_int_equal(p.p[2].id, 8);
	assert_int_equal(p.p[2].perms, PERM_READ | PERM_WRITE);
	assert_int_equal(p.p[3].perms, PERM_WRITE);
	assert_int_equal(perms_format(&p, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 13);
	assert_memory_equal(buf, "n0\0r16\0b8\0w7\0", 13);
	/* the IGNORE flag is not shown */
	p.p[1].perms |= PERM_IGNORE;
	assert_int_equal(perms_format(&p, buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "n0\0r16\0b8\0w7\0", 13);
	free(p.p);

	assert_int_equal(perms_parse("r-1\0", 1, &p), 0);
	assert_int_equal(p.p[0].id, UINT32_MAX);
	assert_int_equal(perms_format(&p, buf, sizeof(buf), &len), 0);
	assert_string_equal(buf, "r-1");
	free(p.p);

	assert_int_equal(perms_parse("q1\0", 1, &p), -EINVAL);
	assert_int_equal(perms_parse("r\0", 1, &p), -EINVAL);
	assert_int_equal(perms_parse("r1x\0", 1, &p), -EINVAL);
	assert_int_equal(perms_parse("r 1\0", 1, &p), 0);	/* strtol */
	assert_int_equal(p.p[0].id, 1);
	free(p.p);
}

static void test_perms_wire_round_trip(void **state)
{
	h_introduce(x, 16);
	h_introduce(x, 8);
	assert_int_equal(h_write(c0, 0, "/a", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r0x10,b010"), 0);
	assert_string_equal(h_perms(c0, 0, "/a"), "n0,r16,b8");
	assert_int_equal(h_setperms(c0, 0, "/a", "w0x5,r6"), 0);
	assert_string_equal(h_perms(c0, 0, "/a"), "w5,r6");
}

/* Entries naming domains that do not exist are kept, but never match. */
static void test_nonexistent_domain_entries(void **state)
{
	struct conn *c9;

	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r9"), 0);
	assert_string_equal(h_perms(c0, 0, "/a"), "n0,r9");
	/* an owner that does not exist: ENOENT */
	assert_int_equal(h_setperms(c0, 0, "/a", "n9"), -ENOENT);
	assert_string_equal(h_perms(c0, 0, "/a"), "n0,r9");
	c9 = h_dom(x, 9);
	assert_string_equal(h_read(c9, 0, "/a"), "!EACCES");
	/* set again now that 9 exists: it counts */
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r9"), 0);
	assert_string_equal(h_read(c9, 0, "/a"), "v");
}

/*
 * A reused domid does not inherit the rights of the domain it replaces:
 * an entry counts only if its domain existed when the node was written.
 * With something written in between, the new domain is younger.
 */
static void test_reused_domid(void **state)
{
	struct conn *c9 = h_dom(x, 9);

	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r9"), 0);
	assert_string_equal(h_read(c9, 0, "/a"), "v");
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "9", NULL), 0);
	assert_true(c9->dead);
	conn_free(c9);
	assert_int_equal(h_write(c0, 0, "/other", ""), 0);
	c9 = h_dom(x, 9);
	assert_string_equal(h_read(c9, 0, "/a"), "!EACCES");
	assert_string_equal(h_perms(c0, 0, "/a"), "n0,r9");
}

/*
 * The same with nothing written between the SET_PERMS and the
 * re-introduction: Debian's 4.17 xenstored lets the new domain 9 read the
 * node then (checked against it through tests/peers/cxenstored), and so
 * must we.
 */
static void test_reused_domid_same_generation(void **state)
{
	struct conn *c9 = h_dom(x, 9);

	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r9"), 0);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "9", NULL), 0);
	conn_free(c9);
	c9 = h_dom(x, 9);
	assert_string_equal(h_read(c9, 0, "/a"), "v");
}

/* Release removes every node the domain owns, with its subtree. */
static void test_release_removes_nodes(void **state)
{
	assert_int_equal(h_write(c0, 0, "/local/domain/5/a", "1"), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5/a", "n5"), 0);
	assert_int_equal(h_write(c5, 0, "/local/domain/5/b/c", "2"), 0);
	assert_int_equal(h_write(c0, 0, "/local/domain/5/d", "3"), 0);
	assert_string_equal(h_perms(c0, 0, "/local/domain/5/d"), "n5");
	assert_int_equal(h_write(c0, 0, "/vm/x", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/vm/x", "n5,r6"), 0);
	assert_int_equal(h_write(c0, 0, "/vm/x/dom0", "0"), 0);
	assert_int_equal(h_setperms(c0, 0, "/vm/x/dom0", "n0"), 0);
	assert_int_equal(h_write(c0, 0, "/keep", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/keep", "n0,r5"), 0);
	assert_int_equal(domain_find(x, 5)->nnodes, 6);

	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "5", NULL), 0);
	assert_true(c5->dead);
	assert_null(domain_find(x, 5));
	assert_string_equal(h_read(c0, 0, "/local/domain/5"), "!ENOENT");
	assert_string_equal(h_dir(c0, 0, "/local/domain"), "");
	assert_string_equal(h_read(c0, 0, "/vm/x"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/vm/x/dom0"), "!ENOENT");
	assert_string_equal(h_dir(c0, 0, "/vm"), "");
	assert_string_equal(h_read(c0, 0, "/keep"), "");
	h_check_tree(x);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "5", NULL), -ENOENT);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "0", NULL), -EINVAL);
}

/*
 * Domains whose ids share a bucket of the store's domain index (ids
 * XSD_DOM_HASH apart): each keeps its own rights, and releasing one
 * leaves the others found, in whatever order they were introduced.
 */
static void test_domains_sharing_a_bucket(void **state)
{
	const unsigned int id[3] = { 7, 7 + XSD_DOM_HASH, 7 + 2 * XSD_DOM_HASH };
	struct conn *c[3];
	char path[32], perms[32];
	int i;

	for (i = 0; i < 3; i++) {
		c[i] = h_dom(x, id[i]);
		snprintf(path, sizeof(path), "/n%d", i);
		snprintf(perms, sizeof(perms), "n0,r%u", id[i]);
		assert_int_equal(h_write(c0, 0, path, "v"), 0);
		assert_int_equal(h_setperms(c0, 0, path, perms), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_ptr_equal(domain_find(x, id[i]), c[i]->dom);
		assert_string_equal(h_read(c[i], 0, i ? "/n0" : "/n1"),
				    "!EACCES");
	}
	snprintf(path, sizeof(path), "%u", id[1]);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, path, NULL), 0);
	conn_free(c[1]);
	assert_null(domain_find(x, id[1]));
	assert_false(domain_exists(x, id[1]));
	assert_string_equal(h_read(c[0], 0, "/n0"), "v");
	assert_string_equal(h_read(c[2], 0, "/n2"), "v");
	assert_ptr_equal(domain_find(x, id[0]), c[0]->dom);
	assert_ptr_equal(domain_find(x, id[2]), c[2]->dom);
	assert_null(domain_find(x, 7 + 3 * XSD_DOM_HASH));
	c[1] = h_dom(x, id[1]);
	assert_ptr_equal(domain_find(x, id[1]), c[1]->dom);
	assert_string_equal(h_read(c[1], 0, "/n0"), "!EACCES");
}

/* Privileged-only types: EACCES, before the transaction id is looked at. */
static void test_privileged_types(void **state)
{
	assert_int_equal(h_okv(c5, XS_INTRODUCE, 0, "7", "0", "1", NULL),
			 -EACCES);
	assert_int_equal(h_okv(c5, XS_RELEASE, 0, "6", NULL), -EACCES);
	assert_int_equal(h_okv(c5, XS_RESUME, 0, "6", NULL), -EACCES);
	assert_int_equal(h_callv(c5, XS_IS_DOMAIN_INTRODUCED, 0, NULL, "6",
				 NULL), -EACCES);
	assert_int_equal(h_callv(c5, XS_CONTROL, 0, NULL, "check", NULL),
			 -EACCES);
	assert_int_equal(h_okv(c5, XS_SET_TARGET, 77, "6", "5", NULL),
			 -EACCES);
	assert_int_equal(h_okv(c5, XS_WRITE, 77, "/a", NULL), -ENOENT);
	assert_true(domain_exists(x, 6));
}

static void test_readonly_conn(void **state)
{
	struct conn *ro = conn_new(x, -1, x->dom0, true);

	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_string_equal(h_read(ro, 0, "/a"), "v");
	assert_int_equal(h_write(ro, 0, "/a", "w"), -EROFS);
	assert_int_equal(h_mkdir(ro, 0, "/b"), -EROFS);
	assert_int_equal(h_rm(ro, 0, "/a"), -EROFS);
	assert_int_equal(h_setperms(ro, 0, "/a", "r0"), -EROFS);
	assert_int_equal(h_okv(ro, XS_INTRODUCE, 0, "7", "0", "1", NULL),
			 -EROFS);
	assert_int_equal(h_watch(ro, "/a", "t"), 0);
	assert_string_equal(h_event(ro), "/a t");
	assert_string_equal(h_read(c0, 0, "/a"), "v");
	conn_free(ro);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_owner_and_default),
		T(test_first_entry_wins),
		T(test_privileged_bypass),
		T(test_enoent_vs_eacces),
		T(test_set_perms_owner_only),
		T(test_set_perms_counts),
		T(test_set_target),
		T(test_set_target_released),
		T(test_perms_parse_format),
		T(test_perms_wire_round_trip),
		T(test_nonexistent_domain_entries),
		T(test_reused_domid),
		T(test_reused_domid_same_generation),
		T(test_release_removes_nodes),
		T(test_domains_sharing_a_bucket),
		T(test_privileged_types),
		T(test_readonly_conn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
