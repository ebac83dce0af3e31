// SPDX-License-Identifier: MIT
/*
 * PCI passthrough to a PVH guest.  A PVH guest has no device model and
 * no pcifront: it finds its devices on its own bus 0 through the
 * hypervisor's vPCI (docs/protocol.md, "PVH guests"), which attaches a
 * device's vPCI state to the domain when the IOMMU assigns the device
 * to it and detaches it at deassign.  So the toolstack's part is the host
 * side alone (dev.c: marker, reset, permissions, INTx pirq, assign), as
 * for the other guest types, with no backend to write and no device model
 * to ask; a detach, reboot or destroy gives the device back the same way.
 *
 * Only a host whose hypervisor has vPCI for domU guests can do it: the
 * model.  Xen 4.17 has vPCI only for a PVH dom0 (libxl refuses
 * passthrough for an x86 PVH guest); there a PVH guest with devices is
 * refused before anything is done (platform.h, pvh_pci_refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

/* /libxl/<domid>/type: written by xpt's domain build and by libxl's */
bool xpt_domain_is_pvh(struct xpt_ctx *c, unsigned int domid)
{
	char path[64], *v;
	bool pvh;

	snprintf(path, sizeof(path), "/libxl/%u/type", domid);
	v = xpt_xs_read(c, XBT_NULL, path);
	pvh = v && !strcmp(v, "pvh");
	free(v);
	return pvh;
}

int xpt_pvh_refuse_cfg(struct xpt_ctx *c, const struct xpt_cfg *cfg)
{
	const char *why;

	if (strcmp(cfg->type, "pvh") || !strcmp(xpt_ctx_platform(c), "?") ||
	    !(why = c->pf->pvh_pci_refused))
		return 0;
	if (cfg->npci)
		return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "%s: type = "
				"\"pvh\" with pci = [...] on this %s host: %s",
				cfg->name, c->pf->name, why);
	/* "default" is libxl's "only with pci=[...]" */
	if (!strcmp(cfg->passthrough, "enabled") ||
	    !strcmp(cfg->passthrough, "sync_pt") ||
	    !strcmp(cfg->passthrough, "share_pt"))
		return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "%s: type = "
				"\"pvh\" with passthrough = \"%s\" on this %s "
				"host: %s", cfg->name, cfg->passthrough,
				c->pf->name, why);
	return 0;
}

int xpt_pvh_refuse_attach(struct xpt_ctx *c, unsigned int domid)
{
	const char *why;

	if (!strcmp(xpt_ctx_platform(c), "?") ||
	    !(why = c->pf->pvh_pci_refused))
		return 0;
	/* xenstore alone: the hypervisor is not touched for a refusal */
	if (!c->xs && !(c->xs = xs_open(0)))
		return 0;	/* xpt_connect says why */
	if (!xpt_domain_is_pvh(c, domid))
		return 0;
	return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "domain %u is a PVH "
			"guest: no PCI device can be attached to it on this %s "
			"host: %s", domid, c->pf->name, why);
}
