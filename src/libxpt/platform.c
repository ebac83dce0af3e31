// SPDX-License-Identifier: MIT
/*
 * Choosing the platform, and the helpers every platform's callers share:
 * the whole domain list (the table pages, as Xen's getdomaininfolist).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

/* A Xen control domain: /proc/xen/capabilities says control_d. */
static bool xen_dom0(void)
{
	char buf[128] = "";
	FILE *f = fopen("/proc/xen/capabilities", "re");
	bool yes;

	if (!f)
		return false;
	yes = fgets(buf, sizeof(buf), f) && strstr(buf, "control_d");
	fclose(f);
	return yes;
}

int xpt_platform_select(const char *name, const struct xpt_platform **ret)
{
	if (!name || !*name)
		name = getenv("XPT_PLATFORM");
	if (!name || !*name)
		name = xen_dom0() ? "xen" : "model";
	if (!strcmp(name, "model")) {
		*ret = &xpt_platform_model;
		return 0;
	}
#ifdef XPT_HAVE_XEN
	if (!strcmp(name, "xen")) {
		*ret = &xpt_platform_xen;
		return 0;
	}
#else
	if (!strcmp(name, "xen"))
		return -EOPNOTSUPP;
#endif
	return -EINVAL;
}

static int cmp_pdom(const void *a, const void *b)
{
	unsigned int x = ((const struct xpt_pdom *)a)->domid;
	unsigned int y = ((const struct xpt_pdom *)b)->domid;

	return x < y ? -1 : x > y;
}

int xpt_dom_list_all(struct xpt_ctx *c, struct xpt_pdom **ret, size_t *ret_n)
{
	enum { PAGE = 64 };
	struct xpt_pdom *all = NULL, *grown;
	unsigned int first = 0;
	size_t n = 0, got;
	int r;

	for (;;) {
		grown = realloc(all, (n + PAGE) * sizeof(*all));
		if (!grown) {
			r = -ENOMEM;
			goto fail;
		}
		all = grown;
		r = c->pf->dom_list(c, first, all + n, PAGE, &got);
		if (r < 0)
			goto fail;
		if (got == 0)
			break;
		/* ids only grow: the walk ends */
		if (all[n + got - 1].domid < first) {
			r = -EPROTO;
			goto fail;
		}
		first = all[n + got - 1].domid + 1;
		n += got;
		if (got < PAGE || first >= XPT_DOMID_FIRST_RESERVED)
			break;
	}
	/* in id order whatever the platform's pages were: callers search it */
	qsort(all, n, sizeof(*all), cmp_pdom);
	*ret = all;
	*ret_n = n;
	return 0;
fail:
	free(all);
	return r;
}
