/* SPDX-License-Identifier: MIT */
/* JSON values (yajl trees) written back as text, with bounded nesting. */
#ifndef XPT_JSON_H
#define XPT_JSON_H

#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Write v into g; -EPROTO when nested deeper than 32 (a value from a
 * less-trusted peer must not exhaust the stack). */
int json_gen_value(yajl_gen g, yajl_val v);

/* yajl_tree_parse, but text nested deeper than JSON_MAX_DEPTH is refused
 * (NULL, err says so) before yajl builds the tree: yajl_tree_free
 * recurses once per level, and a megabyte of '[' from a peer overflows
 * the stack. */
#define JSON_MAX_DEPTH 64
yajl_val json_parse(const char *text, char *err, size_t errlen);

#endif
