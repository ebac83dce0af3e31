// SPDX-License-Identifier: MIT
/*
 * The permission model.  Entry 0 names the owner and gives the default
 * access for every domain without an entry of its own; the first other
 * entry naming the caller (or the caller's SET_TARGET target) decides.
 * Privileged callers, owners and owners' device models get everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "xenstored.h"

#define PERM_ALL (PERM_READ | PERM_WRITE | PERM_OWNER)

unsigned int perms_for_conn(const struct conn *c, const struct perms *p)
{
	unsigned int target = c->dom ? c->dom->target : UINT32_MAX;
	unsigned int i;

	if (!conn_unprivileged(c) || p->p[0].id == c->id ||
	    (target != UINT32_MAX && p->p[0].id == target))
		return PERM_ALL;
	for (i = 1; i < p->num; i++)
		if (!(p->p[i].perms & PERM_IGNORE) &&
		    (p->p[i].id == c->id ||
		     (target != UINT32_MAX && p->p[i].id == target)))
			return p->p[i].perms & PERM_ALL;
	return p->p[0].perms & PERM_ALL;
}

/*
 * Parse `num` nul-terminated entries like "r5", "b0x10", "n0": a letter
 * and a number in C notation (strtol base 0), as C xenstored does.
 */
int perms_parse(const char *s, unsigned int num, struct perms *ret)
{
	struct perm *p = xcalloc(num, sizeof(*p));
	unsigned int i;
	char *end;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < num; i++) {
		switch (*s) {
		case 'r': p[i].perms = PERM_READ; break;
		case 'w': p[i].perms = PERM_WRITE; break;
		case 'b': p[i].perms = PERM_READ | PERM_WRITE; break;
		case 'n': p[i].perms = PERM_NONE; break;
		default:
			free(p);
			return -EINVAL;
		}
		s++;
		p[i].id = (uint32_t)strtol(s, &end, 0);
		if (*end || !*s) {
			free(p);
			return -EINVAL;
		}
		s = end + 1;
	}
	ret->num = num;
	ret->p = p;
	return 0;
}

int perms_format(const struct perms *p, char *buf, size_t len,
		 uint32_t *ret_len)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	size_t used = 0;
	unsigned int i;
	int n;

	for (i = 0; i < p->num; i++) {
		n = snprintf(buf + used, len - used, "%c%i",
			     letter[p->p[i].perms & (PERM_READ | PERM_WRITE)],
			     (int)p->p[i].id);
		if (n < 0 || (size_t)n + 1 >= len - used)
			return -E2BIG;
		used += n + 1;
	}
	*ret_len = used;
	return 0;
}

int perms_dup(struct perms *dst, const struct perms *src)
{
	dst->num = 0;
	dst->p = NULL;
	if (!src->num)
		return 0;
	dst->p = xmalloc(src->num * sizeof(*src->p));
	if (!dst->p)
		return -ENOMEM;
	memcpy(dst->p, src->p, src->num * sizeof(*src->p));
	dst->num = src->num;
	return 0;
}

/*
 * An entry naming a domain that did not exist when the node was last
 * written (or exists no longer) is ignored, so a new domain reusing a domid
 * never inherits the old one's rights.
 */
void perms_adjust(struct xsd *xsd, struct node *n)
{
	unsigned int i;
	struct domain *d;

	for (i = 1; i < n->perms.num; i++) {
		if (n->perms.p[i].perms & PERM_IGNORE)
			continue;
		d = domain_find(xsd, n->perms.p[i].id);
		if (!d || d->gen > n->gen)
			n->perms.p[i].perms |= PERM_IGNORE;
	}
}
