// SPDX-License-Identifier: MIT
/* Watches: registration, matching, permission filter, special events. */
#include <string.h>

#include "harness.h"

static struct xsd *x;
static struct conn *c0, *c5;

static int setup(void **state)
{
	x = h_new();
	c0 = h_dom0(x);
	c5 = h_dom(x, 5);
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

/* OK first, then the initial event; even for a missing path. */
static void test_initial_event(void **state)
{
	struct h_msg m;

	h_send(c0, XS_WATCH, 0, "/nope\0tok\0", 10);
	assert_true(h_pop(c0, &m));
	assert_false(m.event);
	assert_int_equal(m.type, XS_WATCH);
	assert_string_equal(m.data, "OK");
	assert_true(h_pop(c0, &m));
	assert_true(m.event);
	assert_int_equal(m.type, XS_WATCH_EVENT);
	assert_int_equal(m.len, 10);
	assert_memory_equal(m.data, "/nope\0tok\0", 10);
	assert_false(h_pop(c0, &m));
	/* tx_id is ignored for WATCH */
	assert_int_equal(h_okv(c0, XS_WATCH, 42, "/other", "t", NULL), 0);
	assert_string_equal(h_event(c0), "/other t");
}

/* The writer's own event is queued before the OK of its WRITE. */
static void test_event_before_reply(void **state)
{
	struct h_msg m;

	assert_int_equal(h_watch(c0, "/a", "t"), 0);
	h_drain(c0);
	h_send(c0, XS_WRITE, 0, "/a\0v", 4);
	assert_true(h_pop(c0, &m));
	assert_true(m.event);
	assert_memory_equal(m.data, "/a\0t\0", 5);
	assert_true(h_pop(c0, &m));
	assert_false(m.event);
	assert_string_equal(m.data, "OK");
}

static void test_subtree_matching(void **state)
{
	assert_int_equal(h_watch(c0, "/a", "ta"), 0);
	assert_int_equal(h_watch(c0, "/", "root"), 0);
	h_drain(c0);
	assert_int_equal(h_write(c0, 0, "/a/b/c", "1"), 0);
	/* one event for the written path, none for implicit parents */
	assert_string_equal(h_event(c0), "/a/b/c ta");
	assert_string_equal(h_event(c0), "/a/b/c root");
	h_no_event(c0);
	assert_int_equal(h_write(c0, 0, "/ab", "1"), 0);
	assert_string_equal(h_event(c0), "/ab root");
	h_no_event(c0);
	assert_int_equal(h_write(c0, 0, "/a", "2"), 0);
	assert_string_equal(h_event(c0), "/a ta");
	assert_string_equal(h_event(c0), "/a root");
	h_no_event(c0);
	/* MKDIR of an existing node fires nothing; a new one fires */
	assert_int_equal(h_mkdir(c0, 0, "/a"), 0);
	h_no_event(c0);
	assert_int_equal(h_mkdir(c0, 0, "/a/new"), 0);
	assert_string_equal(h_event(c0), "/a/new ta");
	assert_string_equal(h_event(c0), "/a/new root");
	/* failed writes fire nothing */
	assert_int_equal(h_write(c0, 0, "/a/", "x"), -EINVAL);
	h_no_event(c0);
	/* same path, two tokens: two watches */
	assert_int_equal(h_watch(c0, "/a", "tb"), 0);
	h_drain(c0);
	assert_int_equal(h_write(c0, 0, "/a", "3"), 0);
	assert_string_equal(h_event(c0), "/a ta");
	assert_string_equal(h_event(c0), "/a root");
	assert_string_equal(h_event(c0), "/a tb");
	h_no_event(c0);
}

/* RM: nodes below the root fire exact watches only, the root fires all. */
static void test_rm_events(void **state)
{
	assert_int_equal(h_write(c0, 0, "/r/a/b", "1"), 0);
	assert_int_equal(h_write(c0, 0, "/r/a/c", "1"), 0);
	assert_int_equal(h_watch(c0, "/r", "r"), 0);
	assert_int_equal(h_watch(c0, "/r/a/b", "b"), 0);
	assert_int_equal(h_watch(c0, "/r/a/x", "x"), 0);	/* never existed */
	assert_int_equal(h_watch(c0, "/r/a", "a"), 0);
	assert_int_equal(h_watch(c0, "/r/a/b/deeper", "d"), 0);
	h_drain(c0);
	assert_int_equal(h_rm(c0, 0, "/r/a"), 0);
	assert_string_equal(h_event(c0), "/r/a/b b");
	assert_string_equal(h_event(c0), "/r/a r");
	assert_string_equal(h_event(c0), "/r/a a");
	h_no_event(c0);
	/* removing a missing node fires nothing */
	assert_int_equal(h_rm(c0, 0, "/r/a"), 0);
	h_no_event(c0);
}

/* A relative watch reports paths relative to the domain. */
static void test_relative_watch(void **state)
{
	assert_int_equal(h_write(c0, 0, "/local/domain/5", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(h_watch(c5, "device", "rel"), 0);
	assert_string_equal(h_event(c5), "device rel");
	assert_int_equal(h_watch(c5, "/local/domain/5/device", "abs"), 0);
	assert_string_equal(h_event(c5), "/local/domain/5/device abs");
	assert_int_equal(h_write(c0, 0, "/local/domain/5/device/pci/0", "x"),
			 0);
	assert_string_equal(h_event(c5), "device/pci/0 rel");
	assert_string_equal(h_event(c5), "/local/domain/5/device/pci/0 abs");
	h_no_event(c5);
	/* UNWATCH takes the relative form too */
	assert_int_equal(h_unwatch(c5, "device", "rel"), 0);
	assert_int_equal(h_unwatch(c5, "device", "rel"), -ENOENT);
	assert_int_equal(h_unwatch(c5, "/local/domain/5/device", "abs"), 0);
	assert_int_equal(domain_find(x, 5)->nwatches, 0);
}

static void test_eexist_enoent(void **state)
{
	assert_int_equal(h_watch(c0, "/a", "t"), 0);
	assert_int_equal(h_watch(c0, "/a", "t"), -EEXIST);
	/* the canonical path decides: "a" is /local/domain/0/a, not /a */
	assert_int_equal(h_watch(c0, "/local/domain/0/a", "t"), 0);
	assert_int_equal(h_watch(c0, "a", "t"), -EEXIST);
	h_drain(c0);
	assert_int_equal(h_unwatch(c0, "/a", "other"), -ENOENT);
	assert_int_equal(h_unwatch(c0, "/b", "t"), -ENOENT);
	assert_int_equal(h_unwatch(c0, "/a", "t"), 0);
	assert_int_equal(h_unwatch(c0, "/a", "t"), -ENOENT);
	/* another connection's watch is not ours */
	{
		struct conn *o = h_dom0(x);

		assert_int_equal(h_watch(o, "/a", "t"), 0);
		assert_int_equal(h_unwatch(c0, "/a", "t"), -ENOENT);
		conn_free(o);
	}
	/* malformed */
	assert_int_equal(h_okv(c0, XS_WATCH, 0, "/a", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_WATCH, 0, "/a/", "t", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_WATCH, 0, "/a", "t", "x", NULL), -EINVAL);
	assert_int_equal(h_okv(c0, XS_UNWATCH, 0, "/a", NULL), -EINVAL);
	h_no_event(c0);
}

/* Events go only to connections that may read the node or its parent. */
static void test_event_permissions(void **state)
{
	struct conn *c6 = h_dom(x, 6);

	assert_int_equal(h_write(c0, 0, "/p/secret", "s"), 0);
	assert_int_equal(h_write(c0, 0, "/p/shared", "s"), 0);
	assert_int_equal(h_write(c0, 0, "/q/child", "s"), 0);
	assert_int_equal(h_setperms(c0, 0, "/p/shared", "n0,r5"), 0);
	assert_int_equal(h_setperms(c0, 0, "/q", "n0,r5"), 0);
	assert_int_equal(h_watch(c5, "/", "w5"), 0);
	assert_int_equal(h_watch(c6, "/", "w6"), 0);
	h_drain(c5);
	h_drain(c6);

	assert_int_equal(h_write(c0, 0, "/p/secret", "x"), 0);
	h_no_event(c5);
	h_no_event(c6);
	assert_int_equal(h_write(c0, 0, "/p/shared", "x"), 0);
	assert_string_equal(h_event(c5), "/p/shared w5");
	h_no_event(c6);
	/* /q/child is n0 but its parent is readable by 5 */
	assert_int_equal(h_write(c0, 0, "/q/child", "x"), 0);
	assert_string_equal(h_event(c5), "/q/child w5");
	h_no_event(c6);
	/* RM: the permissions before the removal count */
	assert_int_equal(h_rm(c0, 0, "/p/shared"), 0);
	assert_string_equal(h_event(c5), "/p/shared w5");
	h_no_event(c6);
	conn_free(c6);
}

/* SET_PERMS: a watcher that loses access still gets that event. */
static void test_set_perms_old_perms(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r5"), 0);
	assert_int_equal(h_watch(c5, "/a", "t"), 0);
	h_drain(c5);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0"), 0);
	assert_string_equal(h_event(c5), "/a t");
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,b0"), 0);
	h_no_event(c5);
	assert_int_equal(h_setperms(c0, 0, "/a", "n0,r5"), 0);	/* gains */
	assert_string_equal(h_event(c5), "/a t");
}

static void test_special_watches(void **state)
{
	struct conn *c6;

	assert_int_equal(h_watch(c0, "@introduceDomain", "i"), 0);
	assert_int_equal(h_watch(c0, "@releaseDomain", "r"), 0);
	assert_int_equal(h_watch(c5, "@introduceDomain", "i5"), 0);
	assert_int_equal(h_watch(c5, "@releaseDomain", "r5"), 0);
	assert_string_equal(h_event(c0), "@introduceDomain i");
	assert_string_equal(h_event(c0), "@releaseDomain r");
	assert_string_equal(h_event(c5), "@introduceDomain i5");
	assert_string_equal(h_event(c5), "@releaseDomain r5");

	assert_int_equal(h_okv(c0, XS_INTRODUCE, 0, "6", "0", "1", NULL), 0);
	assert_string_equal(h_event(c0), "@introduceDomain i");
	h_no_event(c0);
	h_no_event(c5);		/* default n0: domains see nothing */
	/* re-introducing a known domain fires nothing */
	assert_int_equal(h_okv(c0, XS_INTRODUCE, 0, "6", "0", "1", NULL), 0);
	h_no_event(c0);
	assert_int_equal(h_okv(c0, XS_INTRODUCE, 0, "7", "0", "0", NULL),
			 -EINVAL);

	/* SET_PERMS on the special nodes lets a domain see them */
	assert_int_equal(h_setperms(c0, 0, "@releaseDomain", "n0,r5"), 0);
	assert_int_equal(h_setperms(c5, 0, "@releaseDomain", "n5"), -EACCES);
	c6 = conn_new(x, -1, domain_find(x, 6), false);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "6", NULL), 0);
	assert_string_equal(h_event(c0), "@releaseDomain r");
	assert_string_equal(h_event(c5), "@releaseDomain r5");
	h_no_event(c0);
	h_no_event(c5);
	assert_true(c6->dead);
	conn_free(c6);

	assert_int_equal(h_callv(c0, XS_IS_DOMAIN_INTRODUCED, 0, NULL, "6",
				 NULL), 0);
}

static void test_is_introduced(void **state)
{
	struct h_msg m;

	assert_int_equal(h_callv(c0, XS_IS_DOMAIN_INTRODUCED, 0, &m, "5",
				 NULL), 0);
	assert_int_equal(m.len, 2);
	assert_string_equal(m.data, "T");
	assert_int_equal(h_callv(c0, XS_IS_DOMAIN_INTRODUCED, 0, &m, "6",
				 NULL), 0);
	assert_string_equal(m.data, "F");
	assert_int_equal(h_callv(c0, XS_IS_DOMAIN_INTRODUCED, 0, &m, "32752",
				 NULL), 0);	/* DOMID_SELF */
	assert_string_equal(m.data, "T");
}

/* An identical event still queued is not queued again (not for @). */
static void test_duplicate_suppression(void **state)
{
	assert_int_equal(h_watch(c0, "/a", "t"), 0);
	h_drain(c0);
	assert_int_equal(h_write(c0, 0, "/a", "1"), 0);
	assert_int_equal(h_write(c0, 0, "/a", "2"), 0);
	assert_int_equal(h_write(c0, 0, "/a/b", "2"), 0);
	assert_int_equal(h_write(c0, 0, "/a", "3"), 0);
	assert_string_equal(h_event(c0), "/a t");
	assert_string_equal(h_event(c0), "/a/b t");
	h_no_event(c0);
	assert_int_equal(h_write(c0, 0, "/a", "4"), 0);	/* sent: again */
	assert_string_equal(h_event(c0), "/a t");

	assert_int_equal(h_watch(c0, "@introduceDomain", "i"), 0);
	h_drain(c0);
	h_introduce(x, 7);
	h_introduce(x, 8);
	assert_string_equal(h_event(c0), "@introduceDomain i");
	assert_string_equal(h_event(c0), "@introduceDomain i");
	h_no_event(c0);
}

/* Per connection, events go out in the order its watches were set. */
static void test_event_order(void **state)
{
	struct conn *o = h_dom0(x);

	assert_int_equal(h_watch(c0, "/", "1"), 0);
	assert_int_equal(h_watch(c0, "/a/b", "2"), 0);
	assert_int_equal(h_watch(o, "/a/b", "o1"), 0);
	assert_int_equal(h_watch(c0, "/a", "3"), 0);
	assert_int_equal(h_watch(o, "/", "o2"), 0);
	assert_int_equal(h_watch(c0, "/a/b/c", "4"), 0);
	h_drain(c0);
	h_drain(o);
	assert_int_equal(h_write(c0, 0, "/a/b/c", "v"), 0);
	assert_string_equal(h_event(c0), "/a/b/c 1");
	assert_string_equal(h_event(c0), "/a/b/c 2");
	assert_string_equal(h_event(c0), "/a/b/c 3");
	assert_string_equal(h_event(c0), "/a/b/c 4");
	h_no_event(c0);
	assert_string_equal(h_event(o), "/a/b/c o1");
	assert_string_equal(h_event(o), "/a/b/c o2");
	h_no_event(o);
	conn_free(o);
}

/* RESET_WATCHES drops every watch and transaction of the caller. */
static void test_reset_watches(void **state)
{
	uint32_t id;

	assert_int_equal(h_watch(c5, "/a", "t"), 0);
	assert_int_equal(h_watch(c5, "/b", "t"), 0);
	assert_int_equal(h_tstart(c5, &id), 0);
	h_drain(c5);
	assert_int_equal(domain_find(x, 5)->nwatches, 2);
	assert_int_equal(h_okv(c5, XS_RESET_WATCHES, 0, "", NULL), 0);
	assert_int_equal(domain_find(x, 5)->nwatches, 0);
	assert_int_equal(h_unwatch(c5, "/a", "t"), -ENOENT);
	assert_int_equal(h_tend(c5, id, true), -ENOENT);
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	h_no_event(c5);
}

/* A closed connection's watches are gone. */
static void test_conn_free_drops_watches(void **state)
{
	struct conn *o = h_dom(x, 5);

	assert_int_equal(h_watch(o, "/a", "t"), 0);
	assert_int_equal(domain_find(x, 5)->nwatches, 1);
	conn_free(o);
	assert_int_equal(domain_find(x, 5)->nwatches, 0);
	assert_int_equal(x->watches.count, 0);
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_initial_event),
		T(test_event_before_reply),
		T(test_subtree_matching),
		T(test_rm_events),
		T(test_relative_watch),
		T(test_eexist_enoent),
		T(test_event_permissions),
		T(test_set_perms_old_perms),
		T(test_special_watches),
		T(test_is_introduced),
		T(test_duplicate_suppression),
		T(test_event_order),
		T(test_reset_watches),
		T(test_conn_free_drops_watches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
