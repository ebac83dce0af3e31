// SPDX-License-Identifier: MIT
/* Path rules: validity, canonical form, parents, watch matching. */
#include <string.h>

#include "harness.h"

static struct xsd *x;

static int setup(void **state)
{
	x = h_new();
	return 0;
}

static int teardown(void **state)
{
	h_free(x);
	return 0;
}

static void test_valid_chars(void **state)
{
	assert_true(path_is_valid(x, "/"));
	assert_true(path_is_valid(x, "/a"));
	assert_true(path_is_valid(x, "/local/domain/0/backend/pci/1/0"));
	assert_true(path_is_valid(x, "/AZaz09-_@"));
	assert_true(path_is_valid(x, "/@x/y"));
	assert_false(path_is_valid(x, "/a.b"));		/* no '.' */
	assert_false(path_is_valid(x, "/0000:03:00"));	/* no ':' */
	assert_false(path_is_valid(x, "/a b"));
	assert_false(path_is_valid(x, "/a\tb"));
	assert_false(path_is_valid(x, "/a*"));
	assert_false(path_is_valid(x, "/\xc3\xa9"));
	assert_false(path_is_valid(x, "/a\\b"));
}

static void test_valid_shape(void **state)
{
	assert_false(path_is_valid(x, ""));
	assert_false(path_is_valid(x, "a"));
	assert_false(path_is_valid(x, "a/b"));
	assert_false(path_is_valid(x, "@introduceDomain"));
	assert_false(path_is_valid(x, "/a/"));
	assert_false(path_is_valid(x, "//"));
	assert_false(path_is_valid(x, "//a"));
	assert_false(path_is_valid(x, "/a//b"));
	assert_false(path_is_valid(x, "/a/b//"));
}

static char *mkpath(char *buf, const char *prefix, size_t total)
{
	size_t l = strlen(prefix);

	memcpy(buf, prefix, l);
	memset(buf + l, 'x', total - l);
	buf[total] = '\0';
	return buf;
}

/* 4.17: strlen(path) > local_off + path-max is invalid, where local_off
 * is the length of a leading "/local/domain/<N>/" (N: up to 5 digits). */
static void test_path_max(void **state)
{
	char buf[XSD_PATH_BUF];
	const char *pre = "/local/domain/12345/";
	size_t pl = strlen(pre);

	assert_true(path_is_valid(x, mkpath(buf, "/", 2048)));
	assert_false(path_is_valid(x, mkpath(buf, "/", 2049)));
	assert_true(path_is_valid(x, mkpath(buf, pre, pl + 2048)));
	assert_false(path_is_valid(x, mkpath(buf, pre, pl + 2049)));
	/* six digits: no prefix stripped */
	assert_false(path_is_valid(x, mkpath(buf, "/local/domain/123456/",
					     pl + 2048)));
	assert_true(path_is_valid(x, mkpath(buf, "/local/domain/123456/",
					    2048)));
	/* no slash after the domid: no prefix stripped */
	assert_false(path_is_valid(x, mkpath(buf, "/local/domain/5", 2049)));
}

static void test_path_max_config(void **state)
{
	struct xsd_config cfg;
	struct xsd *y;
	char buf[XSD_PATH_BUF];

	xsd_default_config(&cfg);
	cfg.quota.path_max = 10;
	y = h_new_cfg(&cfg);
	assert_true(path_is_valid(y, mkpath(buf, "/", 10)));
	assert_false(path_is_valid(y, mkpath(buf, "/", 11)));
	assert_true(path_is_valid(y, mkpath(buf, "/local/domain/7/", 26)));
	assert_false(path_is_valid(y, mkpath(buf, "/local/domain/7/", 27)));
	h_free(y);

	cfg.quota.path_max = 0;		/* disabled */
	y = h_new_cfg(&cfg);
	assert_true(path_is_valid(y, mkpath(buf, "/", 4000)));
	h_free(y);
}

/* A too-long path over the wire is EINVAL, for dom0 too (4.17). */
static void test_path_max_wire(void **state)
{
	struct conn *c = h_dom0(x);
	char buf[XSD_PATH_BUF];

	assert_int_equal(h_write(c, 0, mkpath(buf, "/", 2049), "v"), -EINVAL);
	assert_int_equal(h_write(c, 0, mkpath(buf, "/", 2048), "v"), 0);
	assert_string_equal(h_read(c, 0, buf), "v");
	conn_free(c);
}

static void test_canonical(void **state)
{
	struct conn *c0 = h_dom0(x), *c5 = h_dom(x, 5);
	char out[XSD_PATH_BUF];

	assert_int_equal(path_canonical(c0, "/a/b", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(path_canonical(c0, "a/b", out, sizeof(out)), 0);
	assert_string_equal(out, "/local/domain/0/a/b");
	assert_int_equal(path_canonical(c5, "device/pci", out, sizeof(out)), 0);
	assert_string_equal(out, "/local/domain/5/device/pci");
	assert_int_equal(path_canonical(c5, "@releaseDomain", out,
					sizeof(out)), 0);
	assert_string_equal(out, "@releaseDomain");
	/* relative "" gives a trailing slash: invalid later */
	assert_int_equal(path_canonical(c5, "", out, sizeof(out)), 0);
	assert_string_equal(out, "/local/domain/5/");
	assert_false(path_is_valid(x, out));
	assert_int_equal(path_canonical(c5, "abcdef", out, 10), -EINVAL);
	conn_free(c0);
	conn_free(c5);
}

/* Relative paths over the wire resolve against the connection's domain. */
static void test_relative_wire(void **state)
{
	struct conn *c0 = h_dom0(x), *c5 = h_dom(x, 5);

	assert_int_equal(h_write(c0, 0, "/local/domain/5", ""), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(h_write(c5, 0, "data/x", "1"), 0);
	assert_string_equal(h_read(c0, 0, "/local/domain/5/data/x"), "1");
	assert_int_equal(h_write(c0, 0, "rel", "0"), 0);
	assert_string_equal(h_read(c0, 0, "/local/domain/0/rel"), "0");
	assert_string_equal(h_read(c5, 0, "data/x"), "1");
	assert_string_equal(h_read(c5, 0, ""), "!EINVAL");
	assert_string_equal(h_read(c5, 0, "data/"), "!EINVAL");
	conn_free(c0);
	conn_free(c5);
}

static void test_parent_len(void **state)
{
	assert_int_equal(path_parent_len("/a/b/c", 6), 4);
	assert_int_equal(path_parent_len("/a/b", 4), 2);
	assert_int_equal(path_parent_len("/a", 2), 1);
	assert_int_equal(path_parent_len("/", 1), 1);
	assert_int_equal(path_parent_len("/abc/defg", 9), 4);
	/* works on a prefix of a longer string */
	assert_int_equal(path_parent_len("/a/b/c", 4), 2);
}

static void test_is_child(void **state)
{
	assert_true(path_is_child("/a", "/a"));
	assert_true(path_is_child("/a/b", "/a"));
	assert_true(path_is_child("/a/b/c", "/a"));
	assert_true(path_is_child("/a", "/"));
	assert_true(path_is_child("/", "/"));
	assert_false(path_is_child("/ab", "/a"));
	assert_false(path_is_child("/a", "/a/b"));
	assert_false(path_is_child("/b", "/a"));
	assert_false(path_is_child("/", "/a"));
}

static void test_hash(void **state)
{
	assert_int_equal(path_hash("/a/b", 2), path_hash("/a", 2));
	assert_int_not_equal(path_hash("/a", 2), path_hash("/b", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_chars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_max_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_max_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
