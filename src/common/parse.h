/* SPDX-License-Identifier: MIT */
/* Numbers from command lines and peers: whole strings, bounded. */
#ifndef XPT_PARSE_H
#define XPT_PARSE_H

/* A decimal in 0..max, the whole of s (no sign, no junk): 0, or -EINVAL;
 * *ret written only on success. */
int parse_ulong(const char *s, unsigned long max, unsigned long *ret);

#endif
