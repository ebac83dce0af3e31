// SPDX-License-Identifier: MIT
/*
 * Grant tables: a granter hands a memfd page to the hypervisor for one
 * grantee; only that grantee can map it (receiving the memfd, or for a
 * read-only grant a read-only descriptor of it, so that a writable
 * mapping fails in the kernel, not by convention); the granter cannot end
 * the grant while it is mapped (-EBUSY).  References start at 8 as Xen's
 * first eight are reserved for the toolstack.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

/* Room for more grants: twice as many, unused (d->grants may move). */
static int grants_grow(struct hyp_domain *d)
{
	uint32_t n = d->ngrants ? d->ngrants * 2 : 2 * HYP_GREF_FIRST, i;
	struct hyp_grant *grants;

	if (d->ngrants >= HYP_NR_GRANTS)
		return -ENOSPC;
	if (n > HYP_NR_GRANTS)
		n = HYP_NR_GRANTS;
	grants = realloc(d->grants, n * sizeof(*grants));
	if (!grants)
		return -ENOMEM;
	for (i = d->ngrants; i < n; i++)
		grants[i] = (struct hyp_grant){ .memfd = -1 };
	d->grants = grants;
	d->ngrants = n;
	return 0;
}

int hyp_gnttab_grant(struct hyp *h, uint32_t domid, uint32_t grantee,
		     int memfd, bool readonly, uint32_t *ret_gref)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct stat st;
	uint32_t g;
	int fd, r;

	if (!d)
		return -ESRCH;
	if (grantee == HV_DOMID_SELF)
		grantee = domid;
	if (!hyp_domain_get(h, grantee))
		return -ESRCH;
	if (memfd < 0 || fstat(memfd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < HV_PAGE_SIZE)
		return -EINVAL;	/* not a page */
	for (g = HYP_GREF_FIRST; g < d->ngrants; g++)
		if (!d->grants[g].in_use)
			break;
	if (g >= d->ngrants) {
		r = grants_grow(d);
		if (r < 0)
			return r;
	}
	fd = fcntl(memfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	if (d->grants[g].memfd >= 0)
		close(d->grants[g].memfd);
	d->grants[g] = (struct hyp_grant){
		.in_use = true, .readonly = readonly, .grantee = grantee,
		.memfd = fd,
	};
	log_debug("domain %u gref %u: granted to domain %u%s", domid, g,
		  grantee, readonly ? " (read-only)" : "");
	*ret_gref = g;
	return 0;
}

static int grant_lookup(struct hyp *h, uint32_t granter, uint32_t gref,
			struct hyp_grant **ret)
{
	struct hyp_domain *gd = hyp_domain_get(h, granter);

	if (!gd)
		return -ESRCH;
	if (gref >= gd->ngrants || !gd->grants[gref].in_use)
		return -ENOENT;
	*ret = &gd->grants[gref];
	return 0;
}

/* A read-only descriptor of the same memfd: a new open file description. */
static int reopen_readonly(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int hyp_gnttab_map(struct hyp *h, uint32_t domid, uint32_t granter,
		   uint32_t gref, int *ret_fd, bool *ret_readonly)
{
	struct hyp_grant *g;
	int r, fd;

	if (granter == HV_DOMID_SELF)
		granter = domid;
	r = grant_lookup(h, granter, gref, &g);
	if (r < 0)
		return r;
	if (g->grantee != domid)
		return -EPERM;
	if (g->readonly) {
		fd = reopen_readonly(g->memfd);
		if (fd < 0)
			return fd;
	} else {
		fd = fcntl(g->memfd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
	}
	g->maps++;
	log_debug("domain %u: mapped gref %u of domain %u (%u maps)", domid,
		  gref, granter, g->maps);
	*ret_readonly = g->readonly;
	*ret_fd = fd;		/* owned by the caller */
	return 0;
}

int hyp_gnttab_unmap(struct hyp *h, uint32_t domid, uint32_t granter,
		     uint32_t gref)
{
	struct hyp_grant *g;
	int r;

	if (granter == HV_DOMID_SELF)
		granter = domid;
	r = grant_lookup(h, granter, gref, &g);
	if (r < 0)
		return r;
	if (g->grantee != domid)
		return -EPERM;
	if (!g->maps)
		return -EINVAL;
	g->maps--;
	return 0;
}

int hyp_gnttab_end(struct hyp *h, uint32_t domid, uint32_t gref)
{
	struct hyp_grant *g;
	int r = grant_lookup(h, domid, gref, &g);

	if (r < 0)
		return r;
	if (g->maps)
		return -EBUSY;
	close(g->memfd);
	*g = (struct hyp_grant){ .memfd = -1 };
	log_debug("domain %u gref %u: ended", domid, gref);
	return 0;
}

/*
 * The domain's own grants are revoked (mappers keep their pages, as with a
 * dying Xen domain whose pages stay until unmapped); its mappings of other
 * domains' grants are dropped so those grants can be ended.
 */
void hyp_gnttab_destroy(struct hyp *h, struct hyp_domain *d)
{
	uint32_t i, g;

	for (g = 0; g < d->ngrants; g++) {
		if (d->grants[g].memfd >= 0)
			close(d->grants[g].memfd);
		d->grants[g] = (struct hyp_grant){ .memfd = -1 };
	}
	for (i = 0; i < h->dom_end; i++) {
		struct hyp_domain *o = h->dom[i];

		if (!o || o == d)
			continue;
		for (g = 0; g < o->ngrants; g++)
			if (o->grants[g].in_use &&
			    o->grants[g].grantee == d->domid)
				o->grants[g].maps = 0;
	}
}
