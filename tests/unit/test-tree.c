// SPDX-License-Identifier: MIT
/* The node tree: creation, children, removal, values, directory listing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "harness.h"

static struct xsd *x;
static struct conn *c0;

static int setup(void **state)
{
	x = h_new();
	c0 = h_dom0(x);
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

static void test_initial_tree(void **state)
{
	assert_string_equal(h_dir(c0, 0, "/"), "tool");
	assert_string_equal(h_dir(c0, 0, "/tool"), "xenstored");
	assert_string_equal(h_dir(c0, 0, "/tool/xenstored"), "");
	assert_string_equal(h_perms(c0, 0, "/"), "n0");
	assert_string_equal(h_perms(c0, 0, "/tool/xenstored"), "n0");
	assert_string_equal(h_read(c0, 0, "/"), "");
	assert_string_equal(h_read(c0, 0, "/nope"), "!ENOENT");
	h_check_tree(x);
}

static void test_implicit_parents(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a/b/c", "v"), 0);
	assert_string_equal(h_read(c0, 0, "/a/b/c"), "v");
	assert_string_equal(h_read(c0, 0, "/a/b"), "");
	assert_string_equal(h_read(c0, 0, "/a"), "");
	assert_string_equal(h_dir(c0, 0, "/"), "tool,a");
	assert_string_equal(h_dir(c0, 0, "/a"), "b");
	assert_string_equal(h_dir(c0, 0, "/a/b"), "c");
	assert_string_equal(h_perms(c0, 0, "/a/b"), "n0");
	h_check_tree(x);
}

/* New nodes copy the nearest existing ancestor's permissions. */
static void test_implicit_perms_inherited(void **state)
{
	assert_int_equal(h_write(c0, 0, "/p", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/p", "r0,b5,w7"), 0);
	assert_int_equal(h_write(c0, 0, "/p/q/r", "x"), 0);
	assert_string_equal(h_perms(c0, 0, "/p/q"), "r0,b5,w7");
	assert_string_equal(h_perms(c0, 0, "/p/q/r"), "r0,b5,w7");
}

/* An unprivileged creator owns every node it creates, parents included. */
static void test_implicit_parents_owned_by_creator(void **state)
{
	struct conn *c5 = h_dom(x, 5);

	assert_int_equal(h_write(c0, 0, "/p", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/p", "n0,b5"), 0);
	assert_int_equal(h_write(c5, 0, "/p/q/r", "x"), 0);
	assert_string_equal(h_perms(c0, 0, "/p"), "n0,b5");
	assert_string_equal(h_perms(c0, 0, "/p/q"), "n5,b5");
	assert_string_equal(h_perms(c0, 0, "/p/q/r"), "n5,b5");
	assert_int_equal(domain_find(x, 5)->nnodes, 2);
	/* and dom0 creating below a domain's node keeps that owner */
	assert_int_equal(h_write(c0, 0, "/p/q/s/t", "y"), 0);
	assert_string_equal(h_perms(c0, 0, "/p/q/s/t"), "n5,b5");
	assert_int_equal(domain_find(x, 5)->nnodes, 4);
	h_check_tree(x);
	conn_free(c5);
}

/* Writing needs WRITE on the nearest existing ancestor. */
static void test_create_needs_ancestor_write(void **state)
{
	struct conn *c5 = h_dom(x, 5);

	assert_int_equal(h_write(c0, 0, "/ro", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/ro", "r0"), 0);
	assert_int_equal(h_write(c5, 0, "/ro/a/b", "x"), -EACCES);
	assert_string_equal(h_read(c0, 0, "/ro/a"), "!ENOENT");
	assert_int_equal(h_mkdir(c5, 0, "/ro/a"), -EACCES);
	h_check_tree(x);
	conn_free(c5);
}

static void test_children_order(void **state)
{
	assert_int_equal(h_write(c0, 0, "/o/c", ""), 0);
	assert_int_equal(h_write(c0, 0, "/o/a", ""), 0);
	assert_int_equal(h_write(c0, 0, "/o/b", ""), 0);
	assert_int_equal(h_write(c0, 0, "/o/a", "again"), 0);	/* no dup */
	assert_string_equal(h_dir(c0, 0, "/o"), "c,a,b");
	assert_int_equal(h_rm(c0, 0, "/o/a"), 0);
	assert_string_equal(h_dir(c0, 0, "/o"), "c,b");
	assert_int_equal(h_write(c0, 0, "/o/a", ""), 0);
	assert_string_equal(h_dir(c0, 0, "/o"), "c,b,a");
	assert_int_equal(h_rm(c0, 0, "/o/c"), 0);
	assert_string_equal(h_dir(c0, 0, "/o"), "b,a");
	assert_int_equal(h_rm(c0, 0, "/o/a"), 0);
	assert_string_equal(h_dir(c0, 0, "/o"), "b");
	assert_int_equal(h_rm(c0, 0, "/o/b"), 0);
	assert_string_equal(h_dir(c0, 0, "/o"), "");
	h_check_tree(x);
}

static void test_rm_recursive(void **state)
{
	assert_int_equal(h_write(c0, 0, "/r/a/b", "1"), 0);
	assert_int_equal(h_write(c0, 0, "/r/c", "2"), 0);
	assert_int_equal(h_write(c0, 0, "/rr", "3"), 0);
	assert_int_equal(h_rm(c0, 0, "/r"), 0);
	assert_string_equal(h_read(c0, 0, "/r"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/r/a"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/r/a/b"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/r/c"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/rr"), "3");
	assert_string_equal(h_dir(c0, 0, "/"), "tool,rr");
	h_check_tree(x);
}

static void test_rm_missing(void **state)
{
	assert_int_equal(h_rm(c0, 0, "/nope"), 0);		/* parent "/" */
	assert_int_equal(h_write(c0, 0, "/a", ""), 0);
	assert_int_equal(h_rm(c0, 0, "/a/nope"), 0);
	assert_int_equal(h_rm(c0, 0, "/nope/x"), -ENOENT);
	assert_int_equal(h_rm(c0, 0, "/nope/x/y"), -ENOENT);
	assert_int_equal(h_rm(c0, 0, "/"), -EINVAL);
	assert_int_equal(h_rm(c0, 0, "/a/"), -EINVAL);
	assert_string_equal(h_dir(c0, 0, "/"), "tool,a");
	h_check_tree(x);
}

/* RM does not look at the children's permissions, nor who owns them. */
static void test_rm_ignores_child_perms(void **state)
{
	struct conn *c5 = h_dom(x, 5);

	assert_int_equal(h_write(c0, 0, "/d/x/y", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/d", "n5"), 0);
	assert_int_equal(h_setperms(c0, 0, "/d/x/y", "n0"), 0);
	assert_int_equal(domain_find(x, 5)->nnodes, 1);
	assert_int_equal(h_rm(c5, 0, "/d"), 0);
	assert_string_equal(h_read(c0, 0, "/d/x/y"), "!ENOENT");
	assert_int_equal(domain_find(x, 5)->nnodes, 0);
	/* without WRITE on the node itself: EACCES */
	assert_int_equal(h_write(c0, 0, "/e", "v"), 0);
	assert_int_equal(h_setperms(c0, 0, "/e", "n0,r5"), 0);
	assert_int_equal(h_rm(c5, 0, "/e"), -EACCES);
	h_check_tree(x);
	conn_free(c5);
}

static void test_mkdir(void **state)
{
	assert_int_equal(h_write(c0, 0, "/m", "val"), 0);
	assert_int_equal(h_mkdir(c0, 0, "/m"), 0);
	assert_string_equal(h_read(c0, 0, "/m"), "val");
	assert_int_equal(h_mkdir(c0, 0, "/m2/x"), 0);
	assert_int_equal(h_mkdir(c0, 0, "/m2/x"), 0);
	assert_string_equal(h_read(c0, 0, "/m2/x"), "");
	assert_string_equal(h_dir(c0, 0, "/m2"), "x");
	assert_int_equal(h_mkdir(c0, 0, "/m3/"), -EINVAL);
	h_check_tree(x);
}

static void test_binary_values(void **state)
{
	static const char v[] = { 'a', 0, 'b', 0, (char)0xff, 0 };
	struct h_msg m;

	assert_int_equal(h_writen(c0, 0, "/bin", v, sizeof(v)), 0);
	assert_int_equal(h_callv(c0, XS_READ, 0, &m, "/bin", NULL), 0);
	assert_int_equal(m.type, XS_READ);
	assert_int_equal(m.len, sizeof(v));
	assert_memory_equal(m.data, v, sizeof(v));
	/* empty value: len 0 */
	assert_int_equal(h_writen(c0, 0, "/empty", "", 0), 0);
	assert_int_equal(h_callv(c0, XS_READ, 0, &m, "/empty", NULL), 0);
	assert_int_equal(m.len, 0);
	/* a value of 4000 bytes round-trips */
	{
		char big[4000];

		memset(big, 'q', sizeof(big));
		assert_int_equal(h_writen(c0, 0, "/big", big, sizeof(big)), 0);
		assert_int_equal(h_callv(c0, XS_READ, 0, &m, "/big", NULL), 0);
		assert_int_equal(m.len, sizeof(big));
		assert_memory_equal(m.data, big, sizeof(big));
	}
}

/* One-argument requests need exactly one nul, at the end. */
static void test_onearg(void **state)
{
	assert_int_equal(h_write(c0, 0, "/a", "v"), 0);
	assert_int_equal(h_call(c0, XS_READ, 0, "/a", 2, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_READ, 0, "/a\0\0", 4, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_READ, 0, "/a\0x\0", 5, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_READ, 0, "", 0, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_DIRECTORY, 0, "/a", 2, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_RM, 0, "/a\0\0", 4, NULL), -EINVAL);
	assert_int_equal(h_call(c0, XS_MKDIR, 0, "/b", 2, NULL), -EINVAL);
	/* WRITE needs a nul after the path */
	assert_int_equal(h_call(c0, XS_WRITE, 0, "/b", 2, NULL), -EINVAL);
	assert_string_equal(h_read(c0, 0, "/b"), "!ENOENT");
	assert_string_equal(h_read(c0, 0, "/a"), "v");
}

static void test_unknown_types(void **state)
{
	assert_int_equal(h_call(c0, XS_TYPE_COUNT, 0, "", 1, NULL), -ENOSYS);
	assert_int_equal(h_call(c0, 20, 0, "", 1, NULL), -ENOSYS);
	assert_int_equal(h_call(c0, 0xffff, 0, "", 1, NULL), -ENOSYS);
	assert_int_equal(h_call(c0, XS_WATCH_EVENT, 0, "/a\0t\0", 5, NULL),
			 -ENOSYS);
	assert_int_equal(h_call(c0, XS_ERROR, 0, "EINVAL", 7, NULL), -ENOSYS);
}

/* A header announcing more than 4096 bytes drops the connection. */
static void test_oversize_header(void **state)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 4097 };
	size_t used;

	assert_int_equal(conn_feed(c0, &h, sizeof(h), &used), -EPROTO);
	assert_null(c0->out_head);
}

/* XS_WRITE of path "/big" and len bytes of value, fed in pieces of step. */
static void feed_write(struct conn *c, const char *val, uint32_t len,
		       size_t step)
{
	static char buf[XSD_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {
		.type = XS_WRITE, .req_id = 9, .len = 5 + len,
	};
	size_t off, n, used;

	memcpy(buf, &h, XSD_HDR_LEN);
	memcpy(buf + XSD_HDR_LEN, "/big", 5);
	memcpy(buf + XSD_HDR_LEN + 5, val, len);
	for (off = 0; off < XSD_HDR_LEN + h.len; off += n) {
		n = XSD_HDR_LEN + h.len - off < step ?
		    XSD_HDR_LEN + h.len - off : step;
		assert_int_equal(conn_feed(c, buf + off, n, &used), 0);
		assert_int_equal(used, n);
	}
}

/*
 * A payload past XSD_IN_INLINE bytes is assembled in a buffer of its own,
 * however its bytes arrive; without memory for that buffer the request is
 * answered ENOMEM, and the connection goes on in step with its stream.
 */
static void test_large_payload(void **state)
{
	static const uint32_t sizes[] = {
		1, XSD_IN_INLINE - 7, XSD_IN_INLINE - 6, XSD_IN_INLINE - 5,
		XSD_IN_INLINE, 3000, XENSTORE_PAYLOAD_MAX - 5,
	};
	static const size_t steps[] = { 1, 7, XSD_HDR_LEN + 1, 4096 };
	static char val[XENSTORE_PAYLOAD_MAX + 1], big[3000];
	struct outmsg *out;
	size_t i, j, k;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			for (k = 0; k < sizes[i]; k++)
				val[k] = 'a' + (i * 7 + j + k) % 26;
			val[sizes[i]] = '\0';
			feed_write(c0, val, sizes[i], steps[j]);
			assert_non_null(c0->out_head);
			assert_null(c0->out_head->next);
			assert_int_equal(((struct xsd_sockmsg *)
					  c0->out_head->buf)->type, XS_WRITE);
			conn_drop_output(c0);
			assert_true(c0->in == c0->in_inline);
			assert_string_equal(h_read(c0, 0, "/big"), val);
		}

	/* The large payload's buffer is the first allocation after its
	 * header: without it, the request is answered ENOMEM. */
	memset(big, 'z', sizeof(big));
	fault_arm(1);
	feed_write(c0, big, sizeof(big), 100);
	fault_arm(0);
	out = c0->out_head;
	assert_non_null(out);
	assert_null(out->next);
	assert_int_equal(((struct xsd_sockmsg *)out->buf)->type, XS_ERROR);
	assert_memory_equal(out->buf + XSD_HDR_LEN, "ENOMEM", 7);
	conn_drop_output(c0);
	assert_false(c0->closing);
	assert_true(c0->in == c0->in_inline);
	assert_string_equal(h_read(c0, 0, "/big"), val);
}

#define NCHILD 2000

/* Reassemble a long child list from DIRECTORY_PART chunks. */
static void test_directory_part(void **state)
{
	static char all[NCHILD * 16];
	char path[64], arg[32];
	size_t total = 0, expect_len = 0, off = 0;
	struct h_msg m;
	struct node *n;
	char gen[32];
	int i, chunks = 0;

	for (i = 0; i < NCHILD; i++) {
		snprintf(path, sizeof(path), "/big/child-%04d", i);
		assert_int_equal(h_write(c0, 0, path, ""), 0);
		expect_len += strlen("child-0000") + 1;
	}
	n = ntab_get(&x->nodes, "/big", 4, path_hash("/big", 4));
	assert_non_null(n);
	snprintf(gen, sizeof(gen), "%" PRIu64, n->gen);
	assert_int_equal(h_callv(c0, XS_DIRECTORY, 0, &m, "/big", NULL),
			 -E2BIG);

	for (;;) {
		size_t glen, plen;

		snprintf(arg, sizeof(arg), "%zu", off);
		assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/big",
					 arg, NULL), 0);
		chunks++;
		assert_true(m.len <= XENSTORE_PAYLOAD_MAX);
		assert_string_equal(m.data, gen);
		glen = strlen(m.data) + 1;
		plen = m.len - glen;
		assert_true(plen >= 1);
		assert_int_equal(m.data[m.len - 1], '\0');
		if (plen >= 1 && m.data[m.len - 1] == '\0' &&
		    (plen == 1 || m.data[m.len - 2] == '\0')) {
			/* terminator: an empty name at the end */
			memcpy(all + total, m.data + glen, plen - 1);
			total += plen - 1;
			break;
		}
		/* whole names only */
		memcpy(all + total, m.data + glen, plen);
		total += plen;
		off += plen;
		assert_true(chunks < 100);
	}
	assert_true(chunks > 1);
	assert_int_equal(total, expect_len);
	for (i = 0, off = 0; i < NCHILD; i++) {
		snprintf(path, sizeof(path), "child-%04d", i);
		assert_string_equal(all + off, path);
		off += strlen(path) + 1;
	}

	/* past the end: "gen\0\0" */
	snprintf(arg, sizeof(arg), "%zu", expect_len);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/big", arg,
				 NULL), 0);
	assert_int_equal(m.len, strlen(gen) + 2);
	assert_string_equal(m.data, gen);
	assert_int_equal(m.data[m.len - 1], '\0');

	/* the generation moves when the child list changes */
	assert_int_equal(h_write(c0, 0, "/big/extra", ""), 0);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/big", "0",
				 NULL), 0);
	assert_string_not_equal(m.data, gen);
	h_check_tree(x);
}

static void test_directory_part_small(void **state)
{
	struct h_msg m;

	assert_int_equal(h_write(c0, 0, "/s/a", ""), 0);
	assert_int_equal(h_write(c0, 0, "/s/bb", ""), 0);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/s", "0",
				 NULL), 0);
	{
		size_t gl = strlen(m.data) + 1;

		assert_int_equal(m.len, gl + 6);
		assert_memory_equal(m.data + gl, "a\0bb\0\0", 6);
	}
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/s", "2",
				 NULL), 0);
	{
		size_t gl = strlen(m.data) + 1;

		assert_int_equal(m.len, gl + 4);
		assert_memory_equal(m.data + gl, "bb\0\0", 4);
	}
	/* a leaf */
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/s/a", "0",
				 NULL), 0);
	assert_int_equal(m.len, strlen(m.data) + 2);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/s", NULL),
			 -EINVAL);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/s", "0", "x",
				 NULL), -EINVAL);
	assert_int_equal(h_callv(c0, XS_DIRECTORY_PART, 0, &m, "/nope", "0",
				 NULL), -ENOENT);
}

/* A DIRECTORY reply over 4096 bytes is E2BIG, at 4096 it is fine. */
static void test_directory_e2big(void **state)
{
	char path[64];
	struct h_msg m;
	int i;

	/* 512 names of 7 chars + nul = 4096 bytes exactly */
	for (i = 0; i < 512; i++) {
		snprintf(path, sizeof(path), "/e/n%06d", i);
		assert_int_equal(h_write(c0, 0, path, ""), 0);
	}
	assert_int_equal(h_callv(c0, XS_DIRECTORY, 0, &m, "/e", NULL), 0);
	assert_int_equal(m.len, 4096);
	assert_int_equal(h_write(c0, 0, "/e/z", ""), 0);
	assert_int_equal(h_callv(c0, XS_DIRECTORY, 0, &m, "/e", NULL), -E2BIG);
}

static void test_get_domain_path(void **state)
{
	struct h_msg m;

	assert_int_equal(h_callv(c0, XS_GET_DOMAIN_PATH, 0, &m, "7", NULL), 0);
	assert_int_equal(m.len, sizeof("/local/domain/7"));
	assert_string_equal(m.data, "/local/domain/7");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_initial_tree),
		T(test_implicit_parents),
		T(test_implicit_perms_inherited),
		T(test_implicit_parents_owned_by_creator),
		T(test_create_needs_ancestor_write),
		T(test_children_order),
		T(test_rm_recursive),
		T(test_rm_missing),
		T(test_rm_ignores_child_perms),
		T(test_mkdir),
		T(test_binary_values),
		T(test_onearg),
		T(test_unknown_types),
		T(test_oversize_header),
		T(test_large_payload),
		T(test_directory_part),
		T(test_directory_part_small),
		T(test_directory_e2big),
		T(test_get_domain_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
