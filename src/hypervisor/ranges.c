// SPDX-License-Identifier: MIT
/*
 * Sets of inclusive [first, last] ranges, as Xen's rangesets keep them:
 * sorted, never overlapping, touching ranges merged.  Used for resource
 * permissions (perm.c) and for the I/O ranges of ioreq servers (ioreq.c).
 * Safe up to UINT64_MAX (an emulator may claim the top of the MMIO
 * space).  An optional limit on the number of ranges is checked before
 * anything changes, as rangeset_limit makes Xen fail an add with -ENOMEM.
 * A failed allocation (fault.h counts them) changes nothing either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "hypervisor.h"

/* x and [first, last] overlap or touch. */
static bool touches(const struct hyp_range *x, uint64_t first, uint64_t last)
{
	return (x->last == UINT64_MAX || x->last + 1 >= first) &&
	       (last == UINT64_MAX || x->first <= last + 1);
}

int hyp_ranges_add(struct hyp_ranges *s, uint64_t first, uint64_t last,
		   size_t limit)
{
	struct hyp_range *r;
	size_t i, j, merged = 0;

	if (first > last)
		return -EINVAL;
	for (i = 0; i < s->n; i++)
		merged += touches(&s->r[i], first, last);
	if (limit && s->n - merged + 1 > limit)
		return -ENOMEM;
	r = xrealloc(s->r, (s->n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->r = r;
	/* Merge every range that overlaps or touches [first, last]. */
	for (i = 0; i < s->n;) {
		struct hyp_range *x = &s->r[i];

		if (touches(x, first, last)) {
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
	for (j = 0; j < s->n && s->r[j].first < first; j++)
		;
	memmove(&s->r[j + 1], &s->r[j], (s->n - j) * sizeof(*r));
	s->r[j] = (struct hyp_range){ first, last };
	s->n++;
	return 0;
}

int hyp_ranges_remove(struct hyp_ranges *s, uint64_t first, uint64_t last,
		      size_t limit)
{
	size_t i;

	if (first > last)
		return -EINVAL;
	for (i = 0; i < s->n;) {
		struct hyp_range *x = &s->r[i];

		if (x->last < first || x->first > last) {
			i++;
			continue;
		}
		if (x->first < first && x->last > last) {
			/* Split in two: one range more, allocated first. */
			struct hyp_range *r;

			if (limit && s->n + 1 > limit)
				return -ENOMEM;
			r = xrealloc(s->r, (s->n + 1) * sizeof(*r));
			if (!r)
				return -ENOMEM;
			s->r = r;
			x = &r[i];
			memmove(x + 2, x + 1, (s->n - i - 1) * sizeof(*x));
			x[1] = (struct hyp_range){ last + 1, x->last };
			x->last = first - 1;
			s->n++;
			return 0;
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

bool hyp_ranges_cover(const struct hyp_ranges *s, uint64_t first,
		      uint64_t last)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].first <= first && s->r[i].last >= last)
			return true;
	return false;
}

bool hyp_ranges_overlap(const struct hyp_ranges *s, uint64_t first,
			uint64_t last)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].first <= last && s->r[i].last >= first)
			return true;
	return false;
}

void hyp_ranges_free(struct hyp_ranges *s)
{
	free(s->r);
	*s = (struct hyp_ranges){ 0 };
}
