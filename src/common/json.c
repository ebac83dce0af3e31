// SPDX-License-Identifier: MIT
/* JSON values (yajl trees) written back as text, with bounded nesting. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static int gen(yajl_gen g, yajl_val v, int depth)
{
	size_t i;
	int r = 0;

	if (depth > 32)
		return -EPROTO;
	if (YAJL_IS_STRING(v)) {
		const char *t = YAJL_GET_STRING(v);

		yajl_gen_string(g, (const unsigned char *)t, strlen(t));
	} else if (YAJL_IS_NUMBER(v)) {
		const char *t = YAJL_GET_NUMBER(v);

		yajl_gen_number(g, t, strlen(t));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (i = 0; r == 0 && i < YAJL_GET_OBJECT(v)->len; i++) {
			const char *k = YAJL_GET_OBJECT(v)->keys[i];

			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			r = gen(g, YAJL_GET_OBJECT(v)->values[i], depth + 1);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (i = 0; r == 0 && i < YAJL_GET_ARRAY(v)->len; i++)
			r = gen(g, YAJL_GET_ARRAY(v)->values[i], depth + 1);
		yajl_gen_array_close(g);
	} else {
		yajl_gen_null(g);
	}
	return r;
}

int json_gen_value(yajl_gen g, yajl_val v)
{
	return gen(g, v, 0);
}

/* The deepest nesting of arrays and objects in text, outside strings;
 * stops counting past max.  strcspn takes the bytes between two that
 * matter: a megabyte reply costs a pass of the C library's, not a loop
 * turn per byte. */
static int depth_of(const char *text, int max)
{
	const char *p = text;
	int depth = 0, deepest = 0;

	for (; deepest <= max; p++) {
		p += strcspn(p, "\"[]{}");
		if (!*p)
			break;
		if (*p == '[' || *p == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if (*p == ']' || *p == '}') {
			if (depth > 0)
				depth--;
		} else {	/* a string: to its closing quote */
			for (p++;; p += 2) {
				p += strcspn(p, "\"\\");
				if (*p != '\\')
					break;
				if (!p[1])	/* a backslash, then the end */
					return deepest;
			}
			if (!*p)
				break;
		}
	}
	return deepest;
}

yajl_val json_parse(const char *text, char *err, size_t errlen)
{
	if (depth_of(text, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
		if (err && errlen)
			snprintf(err, errlen, "nested deeper than %d levels",
				 JSON_MAX_DEPTH);
		return NULL;
	}
	return yajl_tree_parse(text, err, errlen);
}
