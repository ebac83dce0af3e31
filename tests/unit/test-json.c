// SPDX-License-Identifier: MIT
/*
 * json_parse's nesting bound (src/common/json.c): arrays and objects
 * count, brackets inside strings do not, whatever the escapes before
 * them; a string left open or a backslash at the very end ends the count
 * without reading past the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

#define DEEPER "nested deeper than"

static char text[16384];

/* pre, then n times open, then the n closers, then post */
static const char *nest(const char *pre, int n, char open, const char *post)
{
	size_t len = 0;

	assert_true(n >= 0 && strlen(pre) + strlen(post) + 2 * (size_t)n <
		    sizeof(text));
	len += (size_t)snprintf(text, sizeof(text), "%s", pre);
	for (int i = 0; i < n; i++)
		text[len++] = open;
	for (int i = 0; i < n; i++)
		text[len++] = open == '[' ? ']' : '}';
	snprintf(text + len, sizeof(text) - len, "%s", post);
	return text;
}

/* json_parse's verdict: 1 parsed, 0 refused for depth, -1 other error */
static int verdict(const char *t)
{
	char err[128] = "";
	yajl_val v = json_parse(t, err, sizeof(err));

	if (v) {
		yajl_tree_free(v);
		return 1;
	}
	return strncmp(err, DEEPER, strlen(DEEPER)) ? -1 : 0;
}

static void test_arrays(void **state)
{
	(void)state;
	assert_int_equal(verdict(nest("", JSON_MAX_DEPTH, '[', "")), 1);
	assert_int_equal(verdict(nest("", JSON_MAX_DEPTH + 1, '[', "")), 0);
	assert_int_equal(verdict(nest("", 4000, '[', "")), 0);
}

/* {"a":{"a":...1...}}, n levels */
static const char *objects(int n)
{
	size_t len = 0;

	assert_true(n >= 0 && (size_t)n * 6 + 2 < sizeof(text));
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"{\"a\":");
	text[len++] = '1';
	for (int i = 0; i < n; i++)
		text[len++] = '}';
	text[len] = '\0';
	return text;
}

static void test_objects(void **state)
{
	(void)state;
	assert_int_equal(verdict(objects(JSON_MAX_DEPTH)), 1);
	assert_int_equal(verdict(objects(JSON_MAX_DEPTH + 1)), 0);
}

/* Brackets in strings do not count, past escaped quotes too. */
static void test_strings(void **state)
{
	(void)state;
	/* ["[[[...]]]"] */
	assert_int_equal(verdict(nest("[\"", 100, '[', "\"]")), 1);
	/* ["\"[[[...]]]"]: the escaped quote does not end the string */
	assert_int_equal(verdict(nest("[\"\\\"", 100, '[', "\"]")), 1);
	/* ["\\\"{{{...}}}"] */
	assert_int_equal(verdict(nest("[\"\\\\\\\"", 100, '{', "\"]")), 1);
	/* ["\"", [[[...]]]]: the string ends at its unescaped quote, and
	 * what follows counts (65 levels with the outer array) */
	assert_int_equal(verdict(nest("[\"\\\"\", ", JSON_MAX_DEPTH, '[', "]")),
			 0);
	/* ["\\", [[[...]]]]: an escaped backslash, then the end quote */
	assert_int_equal(verdict(nest("[\"\\\\\", ", JSON_MAX_DEPTH, '[', "]")),
			 0);
	assert_int_equal(verdict(nest("[\"\\\\\", ", JSON_MAX_DEPTH - 1, '[',
				      "]")), 1);
}

/* Closers without openers do not lower the count below zero; an open
 * string or a final backslash ends it: yajl's own error then. */
static void test_ragged(void **state)
{
	(void)state;
	assert_int_equal(verdict(nest("]]]}}}", JSON_MAX_DEPTH + 1, '[', "")),
			 0);
	assert_int_equal(verdict(nest("[\"", 10, '[', "")), -1);
	assert_int_equal(verdict("[\"abc\\"), -1);
	assert_int_equal(verdict("[\"\\"), -1);
	assert_int_equal(verdict("\""), -1);
	assert_int_equal(verdict(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_ragged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
