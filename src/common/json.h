/* SPDX-License-Identifier: MIT */
/* JSON values (yajl trees) written back as text, with bounded nesting. */
#ifndef XPT_JSON_H
#define XPT_JSON_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Write v into g; -EPROTO when nested deeper than 32 (a value from a
 * less-trusted peer must not exhaust the stack). */
int json_gen_value(yajl_gen g, yajl_val v);

#endif
