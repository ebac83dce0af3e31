// SPDX-License-Identifier: MIT
/*
 * Resource permissions per domain (Xen's iomem_caps, ioport_caps,
 * irq_caps): sets of inclusive ranges, 64-bit throughout so machine frame
 * numbers above 2^32 (addresses above 16 TiB) are exact.  Ranges never
 * reach the top of uint64_t (limits below), so last + 1 cannot wrap.  Limits as Xen checks them: frames below 2^40 (paddr_bits 52),
 * ports below 65536, pirqs below the domain's nr_pirqs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor.h"
#include "log.h"

#define IOMEM_FRAME_LIMIT (1ull << 40)
#define IOPORT_LIMIT 0x10000ull

static int ranges_add(struct hyp_ranges *s, uint64_t first, uint64_t last)
{
	struct hyp_range *r;
	size_t i, j;

	/* Merge every range that overlaps or touches [first, last]. */
	for (i = 0; i < s->n;) {
		struct hyp_range *x = &s->r[i];

		if (x->last + 1 >= first && x->first <= last + 1) {
			if (x->first < first)
				first = x->first;
			if (x->last > last)
				last = x->last;
			memmove(x, x + 1, (s->n - i - 1) * sizeof(*x));
			s->n--;
		} else {
			i++;
		}
	}
	r = realloc(s->r, (s->n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->r = r;
	for (j = 0; j < s->n && s->r[j].first < first; j++)
		;
	memmove(&s->r[j + 1], &s->r[j], (s->n - j) * sizeof(*r));
	s->r[j] = (struct hyp_range){ first, last };
	s->n++;
	return 0;
}

static int ranges_remove(struct hyp_ranges *s, uint64_t first, uint64_t last)
{
	size_t i;

	for (i = 0; i < s->n;) {
		struct hyp_range *x = &s->r[i];

		if (x->last < first || x->first > last) {
			i++;
			continue;
		}
		if (x->first < first && x->last > last) {
			/* Split in two. */
			uint64_t tail_last = x->last;

			x->last = first - 1;
			return ranges_add(s, last + 1, tail_last);
		}
		if (x->first < first) {
			x->last = first - 1;
			i++;
		} else if (x->last > last) {
			x->first = last + 1;
			i++;
		} else {
			memmove(x, x + 1, (s->n - i - 1) * sizeof(*x));
			s->n--;
		}
	}
	return 0;
}

static bool ranges_cover(const struct hyp_ranges *s, uint64_t first,
			 uint64_t last)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].first <= first && s->r[i].last >= last)
			return true;
	return false;
}

static int perm_check(enum hyp_perm_kind kind, uint64_t first, uint64_t nr)
{
	uint64_t limit = kind == HYP_PERM_IOMEM ? IOMEM_FRAME_LIMIT :
			 kind == HYP_PERM_IOPORT ? IOPORT_LIMIT : HYP_NR_PIRQS;

	if (nr == 0 || first >= limit || nr > limit - first)
		return -EINVAL;
	return 0;
}

int hyp_perm_set(struct hyp *h, enum hyp_perm_kind kind, uint32_t domid,
		 uint64_t first, uint64_t nr, bool allow)
{
	static const char *const names[] = { "iomem", "ioport", "irq" };
	struct hyp_domain *d = hyp_domain_get(h, domid);
	int r;

	if (!d)
		return -ESRCH;
	r = perm_check(kind, first, nr);
	if (r < 0)
		return r;
	r = allow ? ranges_add(&d->perm[kind], first, first + nr - 1) :
		    ranges_remove(&d->perm[kind], first, first + nr - 1);
	if (r == 0)
		log_debug("domain %u: %s %#llx+%#llx %s", domid, names[kind],
			  (unsigned long long)first, (unsigned long long)nr,
			  allow ? "allowed" : "revoked");
	return r;
}

bool hyp_perm_has(struct hyp *h, enum hyp_perm_kind kind, uint32_t domid,
		  uint64_t first, uint64_t nr)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);

	if (!d || nr == 0 || first + nr - 1 < first)
		return false;
	return ranges_cover(&d->perm[kind], first, first + nr - 1);
}

void hyp_perm_clear(struct hyp_domain *d)
{
	unsigned int k;

	for (k = 0; k < 3; k++) {
		free(d->perm[k].r);
		d->perm[k] = (struct hyp_ranges){ 0 };
	}
}
