// SPDX-License-Identifier: MIT
/*
 * IOMMU ownership of host devices.  A device is owned by exactly one of
 * dom0 (the hardware domain, at boot), DOMID_IO (quarantine) or one domU.
 *
 * Errors as Xen 4.17's iommu_do_pci_domctl: test-assign -EINVAL when the
 * device is unknown or owned by a domU; assign -EOPNOTSUPP when the domain
 * has no IOMMU context (created without passthrough), -ENODEV unknown,
 * -EBUSY owned by a domU, -EBUSY while the MSI-X function mask is still set
 * in hardware (pci_reset_msix_state: "device hasn't been reset properly");
 * on success host_maskall and guest_maskall are cleared.
 *
 * Deassign follows Xen 4.17's default build (CONFIG_IOMMU_QUARANTINE_BASIC,
 * iommu=quarantine): a device leaving a domU goes to DOMID_IO; leaving
 * DOMID_IO it returns to dom0 (what `xl pci-assignable-remove` does).
 * With --no-quarantine (iommu=no-quarantine) it returns to dom0 unless it
 * was explicitly quarantined before.
 *
 * A PVH domain's devices get vPCI (vpci.c) after the IOMMU assignment
 * and lose it before the device moves on, each under h->pcidevs_lock
 * and the domain's pci_lock, as Xen's assign_device/deassign_device.
 * The owner is stored atomically: vCPU threads compare it.
 *
 * With the IOMMU off (host file `xen iommu=off`, Xen booted with
 * iommu=0) every IOMMU domctl fails -EOPNOTSUPP, as iommu_do_domctl's
 * first check in Xen 4.17 and 4.20 (xen/drivers/passthrough/iommu.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor.h"
#include "log.h"

static bool owned_by_domu(const struct hyp_pcidev *p)
{
	return p->info.owner != 0 && p->info.owner != HV_DOMID_IO;
}

int hyp_test_assign(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	if (!h->iommu)
		return -EOPNOTSUPP;
	if (!p || owned_by_domu(p))
		return -EINVAL;	/* "already assigned, or non-existent" */
	return 0;
}

static void set_owner(struct hyp_pcidev *p, uint32_t domid)
{
	__atomic_store_n(&p->info.owner, domid, __ATOMIC_RELEASE);
}

static int assign(struct hyp *h, uint32_t domid, uint32_t sbdf);

int hyp_assign(struct hyp *h, uint32_t domid, uint32_t sbdf)
{
	int r;

	if (!h->iommu)
		return -EOPNOTSUPP;
	hyp_vpci_hook(h, HYP_VP_TOOLSTACK, domid, 0, sbdf);
	pthread_mutex_lock(&h->pcidevs_lock);
	r = assign(h, domid, sbdf);
	pthread_mutex_unlock(&h->pcidevs_lock);
	return r;
}

static int assign(struct hyp *h, uint32_t domid, uint32_t sbdf)
{
	struct hyp_domain *d = NULL;
	struct hyp_pcidev *p;
	uint32_t was;
	char bdf[16];
	int r;

	if (domid != HV_DOMID_IO) {
		d = hyp_domain_get(h, domid);
		if (!d)
			return -ESRCH;
		if (!(d->flags & HV_DOMF_PASSTHROUGH))
			return -EOPNOTSUPP;
		if (d->state == HV_DOM_DYING)
			return -EINVAL;
	}
	p = hyp_pci_get(h, sbdf);
	if (!p)
		return -ENODEV;
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	if (owned_by_domu(p)) {
		log_warn("%s: assign to domain %u refused: owned by domain %u",
			 bdf, domid, p->info.owner);
		return -EBUSY;
	}
	if (p->info.has_msix) {
		if (hyp_conf_get(p, p->msix_pos + 2u, 2) & MSIX_FLAGS_MASKALL) {
			log_warn("%s: MSI-X mask-all still set: device hasn't "
				 "been reset properly (reset it, then assign)",
				 bdf);
			return -EBUSY;
		}
		p->host_maskall = false;
		p->guest_maskall = false;
	}
	if (domid == HV_DOMID_IO)
		p->quarantine = true;
	was = p->info.owner;
	set_owner(p, domid);
	if (d) {
		r = hyp_vpci_assign(h, d, p);
		if (r < 0) {
			set_owner(p, was);
			return r;
		}
	}
	log_info("%s: assigned to domain %u (was %u)", bdf, domid, was);
	return 0;
}

static void deassign(struct hyp *h, struct hyp_pcidev *p)
{
	struct hyp_domain *d = hyp_domain_get(h, p->info.owner);
	uint32_t target = 0;
	char bdf[16];

	if (d && p->info.owner != 0)
		hyp_irq_pt_release_device(h, d, p->info.sbdf);
	if (d && p->vpci)
		hyp_vpci_deassign(h, d, p);
	if ((p->quarantine || h->quarantine) && p->info.owner != HV_DOMID_IO)
		target = HV_DOMID_IO;
	hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
	log_info("%s: deassigned from domain %u to %s", bdf, p->info.owner,
		 target == HV_DOMID_IO ? "quarantine (DOMID_IO)" : "dom0");
	set_owner(p, target);
}

int hyp_deassign(struct hyp *h, uint32_t domid, uint32_t sbdf)
{
	struct hyp_pcidev *p;
	int r = 0;

	if (!h->iommu)
		return -EOPNOTSUPP;
	if (domid != HV_DOMID_IO && !hyp_domain_get(h, domid))
		return -ESRCH;
	hyp_vpci_hook(h, HYP_VP_TOOLSTACK, domid, 0, sbdf);
	pthread_mutex_lock(&h->pcidevs_lock);
	p = hyp_pci_get(h, sbdf);
	if (!p || p->info.owner != domid)
		r = -ENODEV;
	else
		deassign(h, p);
	pthread_mutex_unlock(&h->pcidevs_lock);
	return r;
}

/* pci_release_devices at domain death. */
void hyp_iommu_release_devices(struct hyp *h, struct hyp_domain *d)
{
	unsigned int i;

	pthread_mutex_lock(&h->pcidevs_lock);
	for (i = 0; i < h->npci; i++)
		if (h->pci[i]->info.owner == d->domid)
			deassign(h, h->pci[i]);
	pthread_mutex_unlock(&h->pcidevs_lock);
}

/* The lines Xen prints about its IOMMU at boot, as `xl dmesg` shows
 * them.  acpi_parse_dmar() (xen/drivers/passthrough/vtd/dmar.c) prints
 * "[VT-D]found ACPI_DMAR_RMRR:" per RMRR and, with iommu=verbose, each
 * endpoint in its scope as " endpoint: SBDF" (the model prints them: it
 * is verbose); iommu_setup() (xen/drivers/passthrough/iommu.c, 4.17 and
 * 4.20 alike) prints "I/O virtualisation enabled|disabled" and, only
 * when enabled, the dom0 mode and "Interrupt remapping enabled|
 * disabled".  The text is the ring's end: when it does not fit, its
 * oldest lines go first, as in Xen's console ring. */
int hyp_console_read(struct hyp *h, char *buf, size_t len)
{
	size_t cap = 512 + (size_t)h->npci * 96, n = 0, i;
	char *all = malloc(cap), bdf[16];
	unsigned int id;
	int w;

#define PUT(...) do { w = snprintf(all + n, cap - n, __VA_ARGS__); \
		      if (w > 0) n += (size_t)w < cap - n ? (size_t)w : \
					cap - n - 1; } while (0)
	if (!all || !len)
		return -ENOMEM;
	PUT("(XEN) Xen version 4.17 (xpt-hypervisor, the modelled host)\n");
	for (id = 1; h->iommu && id <= 255; id++) {
		bool found = false;

		for (i = 0; i < h->npci; i++) {
			const struct hv_pci_dev *d = &h->pci[i]->info;

			if (h->pci[i]->rmrr != id)
				continue;
			if (!found)
				PUT("(XEN) [VT-D]found ACPI_DMAR_RMRR:\n");
			found = true;
			snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%u",
				 d->sbdf >> 16, (d->sbdf >> 8) & 0xff,
				 (d->sbdf >> 3) & 0x1f, d->sbdf & 7);
			PUT("(XEN) [VT-D] endpoint: %s\n", bdf);
		}
	}
	PUT("(XEN) I/O virtualisation %sabled\n", h->iommu ? "en" : "dis");
	if (h->iommu)
		PUT("(XEN)  - Dom0 mode: Relaxed\n(XEN) Interrupt remapping "
		    "%sabled\n", h->intremap ? "en" : "dis");
	PUT("(XEN) Brought up 2 CPUs\n");
#undef PUT
	/* the end that fits, from a line's start */
	i = 0;
	if (n >= len) {
		i = n - (len - 1);
		while (i < n && all[i - 1] != '\n')
			i++;
	}
	memcpy(buf, all + i, n - i);
	buf[n - i] = '\0';
	free(all);
	return (int)(n - i);
}
