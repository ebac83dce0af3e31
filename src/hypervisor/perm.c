// SPDX-License-Identifier: MIT
/*
 * Resource permissions per domain (Xen's iomem_caps, ioport_caps,
 * irq_caps): range sets (ranges.c), 64-bit throughout so machine frame
 * numbers above 2^32 (addresses above 16 TiB) are exact.  Limits as Xen
 * checks them: frames below 2^40 (paddr_bits 52), ports below 65536,
 * pirqs below the domain's nr_pirqs.
 */
#include <errno.h>

#include "hypervisor.h"
#include "log.h"

#define IOMEM_FRAME_LIMIT (1ull << 40)
#define IOPORT_LIMIT 0x10000ull

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
	pthread_mutex_lock(&d->perm_lock);
	r = allow ? hyp_ranges_add(&d->perm[kind], first, first + nr - 1,
				     0) :
		    hyp_ranges_remove(&d->perm[kind], first,
					 first + nr - 1, 0);
	pthread_mutex_unlock(&d->perm_lock);
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

	return d && hyp_domain_perm_has(d, kind, first, nr);
}

bool hyp_domain_perm_has(struct hyp_domain *d, enum hyp_perm_kind kind,
			 uint64_t first, uint64_t nr)
{
	bool has;

	if (nr == 0 || first + nr - 1 < first)
		return false;
	pthread_mutex_lock(&d->perm_lock);
	has = hyp_ranges_cover(&d->perm[kind], first, first + nr - 1);
	pthread_mutex_unlock(&d->perm_lock);
	return has;
}

void hyp_perm_clear(struct hyp_domain *d)
{
	unsigned int k;

	pthread_mutex_lock(&d->perm_lock);
	for (k = 0; k < 3; k++)
		hyp_ranges_free(&d->perm[k]);
	pthread_mutex_unlock(&d->perm_lock);
}
