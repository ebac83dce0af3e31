// SPDX-License-Identifier: MIT
/*
 * PCI passthrough to a PVH guest.  A PVH guest has no device model and
 * no pcifront: it finds its devices on its own bus 0 through the
 * hypervisor's vPCI (docs/protocol.md §4.7), which attaches a
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

bool xpt_domain_is_pvh(struct xpt_ctx *c, unsigned int domid)
{
	return xpt_domain_type_is(c, domid, "pvh");
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

/* vPCI gives a domU function 0 of each device only, each in its own
 * virtual slot (Xen's assign_virtual_sbdf: -EOPNOTSUPP for another
 * function of a multi-function device; an SR-IOV VF is a device of its
 * own).  Refused here, before anything is done, with what to do. */
int xpt_pvh_check_devs(struct xpt_ctx *c, const char *who,
		       const struct xpt_dev *devs, size_t n)
{
	char bdf[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!XPT_PCI_FN(devs[i].sbdf) ||
		    devs[i].info.pf_sbdf != UINT32_MAX)
			continue;
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		return xpt_fail(c, XPT_EXIT_USAGE, -EOPNOTSUPP, "%s is a PVH "
				"guest: %s is function %u of a multi-function "
				"device, and vPCI gives a PVH guest function 0 "
				"of each device only; pass it to an HVM or PV "
				"guest", who, bdf, XPT_PCI_FN(devs[i].sbdf));
	}
	for (i = 0; i < n; i++)
		if (devs[i].spec.permissive) {
			xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
			xpt_warn(c, "%s: %s: permissive=1 has no effect for a "
				 "PVH guest (vPCI, not pciback, filters its "
				 "config space)", who, bdf);
		}
	return 0;
}

/* The devices reserved for the domain (their markers), each with the
 * guest slot vPCI gave it; one the domain holds but vPCI does not show
 * is named (an operation was interrupted).  The shape of pci-list's
 * backend listing, as xpt_hvm_pci_list's. */
int xpt_pvh_pci_list(struct xpt_ctx *c, unsigned int domid,
		     struct xpt_be *ret)
{
	uint32_t *sbdfs = calloc(XPT_BE_MAX, sizeof(*sbdfs)), gsbdf;
	size_t n = 0, i;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->num_devs = ret->state = ret->fe_state = -1;
	if (!sbdfs)
		return xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "domain %u: out of "
				"memory", domid);
	r = xpt_dev_marked(c, domid, sbdfs, XPT_BE_MAX, &n);
	for (i = 0; r == 0 && i < n; i++) {
		struct xpt_be_entry *e = &ret->e[ret->n++];
		char bdf[16];

		e->index = (int)i;
		e->has_dev = e->valid = true;
		e->sbdf = sbdfs[i];
		xpt_format_bdf(e->sbdf, bdf, sizeof(bdf));
		snprintf(e->dev, sizeof(e->dev), "%s", bdf);
		e->state = -1;
		e->vdevfn = -1;
		if (c->pf->vpci_slot &&
		    c->pf->vpci_slot(c, domid, e->sbdf, &gsbdf) == 0) {
			xpt_format_bdf(gsbdf, e->vdev, sizeof(e->vdev));
			e->vdevfn = (int)(gsbdf & 0xff);
		} else if (ret->nwarn < sizeof(ret->warn) /
			   sizeof(ret->warn[0])) {
			snprintf(ret->warn[ret->nwarn++], sizeof(ret->warn[0]),
				 "%s is reserved for the domain but not on its "
				 "vPCI bus (an interrupted operation?): `xpt "
				 "pci-detach -f %u %s` releases it", bdf,
				 domid, bdf);
		}
	}
	c->err[0] = '\0';	/* a vpci_slot that found nothing */
	c->exit_code = 0;
	free(sbdfs);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading the "
				"device markers: %s", domid, strerror(-r));
	ret->exists = ret->n > 0;
	ret->num_devs = (int)ret->n;
	return 0;
}
