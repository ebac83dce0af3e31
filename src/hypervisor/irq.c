// SPDX-License-Identifier: MIT
/*
 * PIRQs and MSI/MSI-X state, as Xen 4.17 keeps them
 * (docs/protocol.md §11; Xen's xen/arch/x86/msi.c).
 *
 * Per device: used_entries = mapped MSI-X vectors + 1 if prepared;
 * host_maskall (set by the hypervisor when it must mask a vector but the
 * device does not decode memory, so the table cannot be written);
 * guest_maskall (what the owner last wrote to MASKALL).  The hardware
 * MASKALL bit is host_maskall || guest_maskall whenever the hypervisor
 * writes Message Control.  Assignment clears both flags, and is refused
 * while the hardware bit is still set (iommu.c).
 *
 * Worked example (xen-devel "xen: xen-pciback: Reset MSI-X state when
 * exposing a device", Dec 2018): a guest's vector is mapped and bound; its
 * domain is destroyed after the device stopped decoding memory; closing
 * the port and unmapping the pirq cannot write the table, so host_maskall
 * and MASKALL are set; the next assignment fails with -EBUSY until a
 * reset clears MASKALL in config space.
 *
 * map_pirq also does what dom0 Linux's MSI core does around the hypercall
 * (the model has no dom0 kernel): it sets MSI/MSI-X Enable and clears the
 * function mask (guest_maskall) after mapping, and the last explicit unmap
 * clears Enable again.  Vectors start masked in the table and are unmasked
 * when an event channel binds the pirq (Xen's irq startup), masked again
 * at unbind.
 *
 * HVM pass-through (XEN_DOMCTL_bind_pt_irq / unbind_pt_irq): the device
 * model binds a pirq mapped for the guest to the guest's virtual MSI
 * vector or INTx line instead of an event channel (one or the other:
 * -EBUSY).  An interrupt raised on it then counts as delivered to the
 * guest.  The hypervisor never keeps a binding of a device that left the
 * domain: unmapping the pirq, deassigning the device and destroying the
 * domain unbind what the device model left (Xen 4.17 does it at unmap
 * and at domain death, arch_pci_clean_pirqs; the model does it at
 * deassign as well).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hypervisor.h"
#include "log.h"

static uint16_t msix_ctl(const struct hyp_pcidev *p)
{
	return (uint16_t)hyp_conf_get(p, p->msix_pos + 2u, 2);
}

static void msix_ctl_put(struct hyp_pcidev *p, uint16_t v)
{
	hyp_conf_put(p, p->msix_pos + 2u, 2, v);
}

/* Write Message Control as Xen does: MASKALL = host || guest. */
static void msix_ctl_sync(struct hyp_pcidev *p, uint16_t ctl)
{
	if (p->host_maskall || p->guest_maskall)
		ctl |= MSIX_FLAGS_MASKALL;
	else
		ctl &= ~MSIX_FLAGS_MASKALL;
	msix_ctl_put(p, ctl);
}

/* pci_msi_conf_write_intercept for a Message Control write by the owner. */
void hyp_msix_conf_write(struct hyp_pcidev *p, uint16_t *value)
{
	p->guest_maskall = *value & MSIX_FLAGS_MASKALL;
	if (p->host_maskall)
		*value |= MSIX_FLAGS_MASKALL;
}

static struct hyp_pcidev *pirq_dev(struct hyp *h, const struct hyp_pirq *pi)
{
	return pi->type == HV_IRQ_INTX ? NULL : hyp_pci_get(h, pi->sbdf);
}

/* msi_set_mask_bit for an MSI-X vector. */
static void msix_mask(struct hyp_pcidev *p, uint32_t entry, bool mask)
{
	char bdf[16];

	if (hyp_pci_mem_decoded(p)) {
		if (mask)
			p->msix_tab[entry].ctrl |= MSIX_ENTRY_CTRL_MASKBIT;
		else
			p->msix_tab[entry].ctrl &= ~MSIX_ENTRY_CTRL_MASKBIT;
		return;
	}
	if (!mask)
		return;
	hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
	log_warn("%s: cannot mask MSI-X entry %u (memory decoding off): "
		 "masking the whole function (host_maskall)", bdf, entry);
	p->host_maskall = true;
	msix_ctl_sync(p, msix_ctl(p));
}

void hyp_irq_guest_bind(struct hyp *h, struct hyp_domain *d, int pirq)
{
	struct hyp_pirq *pi = &d->pirqs[pirq];
	struct hyp_pcidev *p = pirq_dev(h, pi);

	if (p && pi->type == HV_IRQ_MSIX)
		msix_mask(p, pi->entry, false);
}

void hyp_irq_guest_unbind(struct hyp *h, struct hyp_domain *d, int pirq)
{
	struct hyp_pirq *pi = &d->pirqs[pirq];
	struct hyp_pcidev *p = pirq_dev(h, pi);

	if (p && pi->type == HV_IRQ_MSIX)
		msix_mask(p, pi->entry, true);
}

bool hyp_pirq_used(const struct hyp_domain *d, int q)
{
	return d->pirqs && q >= 0 && (uint32_t)q < HYP_NR_PIRQS &&
	       d->pirqs[q].in_use;
}

static int pirq_alloc(struct hyp_domain *d, uint32_t type, uint32_t gsi,
		      int want)
{
	int q;

	if (want >= 0)
		return (uint32_t)want < HYP_NR_PIRQS && !d->pirqs[want].in_use ?
		       want : -EBUSY;
	if (type == HV_IRQ_INTX) {
		if (gsi < HYP_PIRQ_GSI_MAX && !d->pirqs[gsi].in_use)
			return (int)gsi;
		for (q = 16; q < (int)HYP_PIRQ_GSI_MAX; q++)
			if (!d->pirqs[q].in_use)
				return q;
		return -ENOSPC;
	}
	/* MSI pirqs from the top down, as Xen's get_free_pirq does. */
	for (q = HYP_NR_PIRQS - 1; q >= (int)HYP_PIRQ_GSI_MAX; q--)
		if (!d->pirqs[q].in_use)
			return q;
	return -ENOSPC;
}

static int map_vector(struct hyp *h, struct hyp_domain *d,
		      struct hyp_pcidev *p, uint32_t type, uint32_t entry,
		      int want, int *ret_pirq)
{
	struct hyp_vecmap *vm;
	uint16_t ctl;
	int q;

	if (p->info.owner != d->domid)
		return -ENODEV;
	if (type == HV_IRQ_MSI) {
		if (!p->msi_vectors)
			return -ENODEV;
		if (entry >= p->msi_vectors)
			return -EINVAL;
		vm = &p->msi_map[entry];
	} else {
		if (!p->info.has_msix)
			return -ENODEV;
		if (entry >= p->info.msix_entries)
			return -EINVAL;
		/* msix_capability_init: the table must be reachable. */
		if (!hyp_pci_mem_decoded(p))
			return -ENXIO;
		vm = &p->msix_map[entry];
	}
	if (vm->pirq >= 0) {
		if (vm->domid != d->domid || (want >= 0 && want != vm->pirq))
			return -EBUSY;
		*ret_pirq = vm->pirq;	/* remapping the same pair: fine */
		return 0;
	}
	q = pirq_alloc(d, type, 0, want);
	if (q < 0)
		return q;
	d->pirqs[q] = (struct hyp_pirq){
		.in_use = true, .type = (uint8_t)type, .sbdf = p->info.sbdf,
		.entry = entry,
	};
	vm->domid = d->domid;
	vm->pirq = q;
	if (type == HV_IRQ_MSI) {
		unsigned int n = 0;

		while ((1u << n) <= entry)
			n++;
		ctl = (uint16_t)hyp_conf_get(p, p->msi_pos + 2u, 2);
		if ((unsigned int)((ctl & MSI_FLAGS_QSIZE) >> 4) < n)
			ctl = (uint16_t)((ctl & ~MSI_FLAGS_QSIZE) | n << 4);
		hyp_conf_put(p, p->msi_pos + 2u, 2, ctl | MSI_FLAGS_ENABLE);
	} else {
		if (p->used_entries == 0)
			p->host_maskall = false;	/* first user */
		p->used_entries++;
		p->msix_tab[entry].addr_lo = 0xfee00000u;
		p->msix_tab[entry].addr_hi = 0;
		p->msix_tab[entry].data = (uint32_t)q;
		p->msix_tab[entry].ctrl |= MSIX_ENTRY_CTRL_MASKBIT;
		/* dom0's MSI core: Enable, then clear the function mask. */
		p->guest_maskall = false;
		msix_ctl_sync(p, msix_ctl(p) | MSIX_FLAGS_ENABLE);
	}
	*ret_pirq = q;
	return 0;
}

int hyp_map_pirq(struct hyp *h, uint32_t domid, uint32_t type, uint32_t sbdf,
		 uint32_t entry, int pirq_in, int *ret_pirq)
{
	struct hyp_domain *d;
	struct hyp_pcidev *p;
	char bdf[16];
	int q, r, i;

	if (domid == HV_DOMID_SELF)
		domid = 0;
	d = hyp_domain_get(h, domid);
	if (!d)
		return -ESRCH;
	if (pirq_in < -1 || pirq_in >= (int)HYP_NR_PIRQS)
		return -EINVAL;
	p = hyp_pci_get(h, sbdf);
	if (!p)
		return -ENODEV;
	/* Most domains never map one: the table comes with the first. */
	if (!d->pirqs) {
		d->pirqs = calloc(HYP_NR_PIRQS, sizeof(*d->pirqs));
		if (!d->pirqs)
			return -ENOMEM;
	}
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	switch (type) {
	case HV_IRQ_INTX:
		if (!p->info.intx_pin)
			return -EINVAL;	/* no INTx, no GSI */
		for (i = 0; i < (int)HYP_NR_PIRQS; i++)
			if (d->pirqs[i].in_use &&
			    d->pirqs[i].type == HV_IRQ_INTX &&
			    d->pirqs[i].gsi == p->info.gsi) {
				if (pirq_in >= 0 && pirq_in != i)
					return -EBUSY;
				*ret_pirq = i;
				return 0;
			}
		q = pirq_alloc(d, type, p->info.gsi, pirq_in);
		if (q < 0)
			return q;
		d->pirqs[q] = (struct hyp_pirq){
			.in_use = true, .type = HV_IRQ_INTX, .sbdf = sbdf,
			.gsi = p->info.gsi,
		};
		break;
	case HV_IRQ_MSI:
	case HV_IRQ_MSIX:
		r = map_vector(h, d, p, type, entry, pirq_in, &q);
		if (r < 0)
			return r;
		break;
	default:
		return -EINVAL;
	}
	/* map_domain_pirq grants the domain access to the pirq. */
	hyp_perm_set(h, HYP_PERM_IRQ, domid, (uint64_t)q, 1, true);
	log_info("%s: %s entry %u -> domain %u pirq %d", bdf,
		 type == HV_IRQ_INTX ? "INTx" : type == HV_IRQ_MSI ? "MSI" :
		 "MSI-X", entry, domid, q);
	*ret_pirq = q;
	return 0;
}

static bool msix_any_mapped(const struct hyp_pcidev *p)
{
	return p->used_entries > (p->prepared ? 1u : 0u);
}

/* pt_irq_destroy_bind, the forced kind: the device model did not. */
static void pt_unbind(struct hyp *h, struct hyp_domain *d, int q,
		      const char *why)
{
	struct hyp_pirq *pi = &d->pirqs[q];

	log_warn("domain %u: pirq %d %s while bound to the guest: unbinding",
		 d->domid, q, why);
	pi->pt = (struct hyp_dpci){ 0 };
	if (!pi->port)
		hyp_irq_guest_unbind(h, d, q);
}

/*
 * unmap_domain_pirq: force-unbind a bound event channel, disable the
 * vector (__pci_disable_msix), drop the irq permission.  explicit: the
 * owner's own unmap (dom0's MSI core clears Enable with the last vector);
 * not explicit: the hypervisor cleaning up a dead domain.
 */
static void unmap_one(struct hyp *h, struct hyp_domain *d, int q,
		      bool explicit)
{
	struct hyp_pirq *pi = &d->pirqs[q];
	struct hyp_pcidev *p = pirq_dev(h, pi);
	uint16_t ctl;
	bool maskall;

	if (pi->pt.bound)
		pt_unbind(h, d, q, "unmapped");
	if (pi->port) {
		log_warn("domain %u: forcing unbind of pirq %d (port %u)",
			 d->domid, q, pi->port);
		hyp_irq_guest_unbind(h, d, q);
		d->ports[pi->port].pirq = -1;
		pi->port = 0;
	}
	if (p && pi->type == HV_IRQ_MSIX && p->msix_map[pi->entry].pirq == q &&
	    p->msix_map[pi->entry].domid == d->domid) {
		ctl = msix_ctl(p);
		maskall = p->host_maskall;
		if (hyp_pci_mem_decoded(p)) {
			p->msix_tab[pi->entry].ctrl |= MSIX_ENTRY_CTRL_MASKBIT;
		} else if (!(ctl & MSIX_FLAGS_MASKALL)) {
			log_warn("cannot disable pirq %d: masking MSI-X of "
				 "%04x:%02x:%02x.%x (memory decoding off)", q,
				 HV_SBDF_SEG(pi->sbdf), HV_SBDF_BUS(pi->sbdf),
				 HV_SBDF_DEV(pi->sbdf), HV_SBDF_FN(pi->sbdf));
			maskall = true;
		}
		p->host_maskall = maskall;
		p->msix_map[pi->entry].pirq = -1;
		if (p->used_entries)
			p->used_entries--;
		if (explicit && !msix_any_mapped(p))
			ctl &= ~MSIX_FLAGS_ENABLE;
		msix_ctl_sync(p, ctl);
	} else if (p && pi->type == HV_IRQ_MSI &&
		   p->msi_map[pi->entry].pirq == q &&
		   p->msi_map[pi->entry].domid == d->domid) {
		unsigned int i, left = 0;

		p->msi_map[pi->entry].pirq = -1;
		for (i = 0; i < p->msi_vectors; i++)
			left += p->msi_map[i].pirq >= 0;
		if (explicit && !left)
			hyp_conf_put(p, p->msi_pos + 2u, 2,
				     hyp_conf_get(p, p->msi_pos + 2u, 2) &
				     ~MSI_FLAGS_ENABLE);
	}
	*pi = (struct hyp_pirq){ 0 };
	hyp_perm_set(h, HYP_PERM_IRQ, d->domid, (uint64_t)q, 1, false);
}

int hyp_unmap_pirq(struct hyp *h, uint32_t domid, int pirq)
{
	struct hyp_domain *d;

	if (domid == HV_DOMID_SELF)
		domid = 0;
	d = hyp_domain_get(h, domid);
	if (!d)
		return -ESRCH;
	if (!hyp_pirq_used(d, pirq))
		return -EINVAL;
	unmap_one(h, d, pirq, true);
	log_info("domain %u: pirq %d unmapped", domid, pirq);
	return 0;
}

/* free_domain_pirqs: whatever the dead domain left mapped. */
void hyp_irq_destroy(struct hyp *h, struct hyp_domain *d)
{
	uint32_t q;

	for (q = 0; d->pirqs && q < HYP_NR_PIRQS; q++)
		if (d->pirqs[q].in_use)
			unmap_one(h, d, (int)q, false);
}

static int msix_dev(struct hyp *h, uint32_t sbdf, struct hyp_pcidev **ret)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	if (!p || !p->info.has_msix)
		return -ENODEV;
	*ret = p;
	return 0;
}

int hyp_prepare_msix(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p;
	int r = msix_dev(h, sbdf, &p);

	if (r < 0)
		return r;
	if (p->used_entries != 0)
		return -EBUSY;
	if (!hyp_pci_mem_decoded(p))
		return -ENXIO;
	p->host_maskall = false;	/* msix_capability_init, first user */
	p->used_entries = 1;
	p->prepared = true;
	msix_ctl_sync(p, msix_ctl(p));
	return 0;
}

int hyp_release_msix(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p;
	int r = msix_dev(h, sbdf, &p);

	if (r < 0)
		return r;
	if (p->used_entries != 1 || !p->prepared)
		return -EBUSY;
	p->used_entries = 0;
	p->prepared = false;
	return 0;
}

int hyp_msix_state(struct hyp *h, uint32_t sbdf, struct hv_msix_state *ret)
{
	struct hyp_pcidev *p;
	uint16_t ctl;
	int r = msix_dev(h, sbdf, &p);

	if (r < 0)
		return r;
	ctl = msix_ctl(p);
	*ret = (struct hv_msix_state){
		.sbdf = sbdf,
		.used_entries = p->used_entries,
		.prepared = p->prepared,
		.host_maskall = p->host_maskall,
		.guest_maskall = p->guest_maskall,
		.hw_maskall = !!(ctl & MSIX_FLAGS_MASKALL),
		.hw_enable = !!(ctl & MSIX_FLAGS_ENABLE),
	};
	return 0;
}

/* The guest pirq of a (un)bind: -EINVAL for a PV guest, -EPERM when the
 * pirq is not mapped or the caller may not use it, -ESRCH without an
 * IOMMU context, in Xen's order. */
static int pt_pirq(struct hyp *h, uint32_t caller, const struct hv_pt_irq *b,
		   struct hyp_domain **ret_d, struct hyp_pirq **ret)
{
	struct hyp_domain *d = hyp_domain_get(h, b->domid);
	uint32_t q = b->machine_irq;

	if (!d)
		return -ESRCH;
	if (!(d->flags & HV_DOMF_HVM))
		return -EINVAL;
	if (q >= HYP_NR_PIRQS || !hyp_pirq_used(d, (int)q))
		return -EPERM;
	if (caller != 0 && !hyp_perm_has(h, HYP_PERM_IRQ, caller, q, 1))
		return -EPERM;
	if (!(d->flags & HV_DOMF_PASSTHROUGH))
		return -ESRCH;
	*ret_d = d;
	*ret = &d->pirqs[q];
	return 0;
}

int hyp_bind_pt_irq(struct hyp *h, uint32_t caller, const struct hv_pt_irq *b)
{
	struct hyp_domain *d;
	struct hyp_pirq *pi;
	bool first;
	int r = pt_pirq(h, caller, b, &d, &pi);

	if (r < 0)
		return r;
	switch (b->irq_type) {
	case HV_PT_IRQ_MSI:
		if (pi->type == HV_IRQ_INTX)
			return -EINVAL;
		break;
	case HV_PT_IRQ_PCI:
		if (pi->type != HV_IRQ_INTX || b->device > 31 || b->intx > 3)
			return -EINVAL;
		break;
	default:
		return -EINVAL;		/* ISA, SPI: not modelled */
	}
	if (pi->port)
		return -EBUSY;		/* bound to an event channel */
	if (pi->pt.bound && pi->pt.type != b->irq_type)
		return -EBUSY;
	first = !pi->pt.bound;
	/* A rebind updates the binding in place (new gvec, gflags). */
	pi->pt = (struct hyp_dpci){
		.bound = true, .type = (uint8_t)b->irq_type,
		.bus = b->bus, .device = b->device, .intx = b->intx,
		.gvec = b->gvec, .gflags = b->gflags, .gtable = b->gtable,
		.fired = pi->pt.fired,
	};
	if (first)
		hyp_irq_guest_bind(h, d, (int)b->machine_irq);
	log_info("domain %u: pirq %u bound to guest %s %u", d->domid,
		 b->machine_irq, b->irq_type == HV_PT_IRQ_MSI ? "vector" :
		 "INTx of device", b->irq_type == HV_PT_IRQ_MSI ?
		 (unsigned int)b->gvec : (unsigned int)b->device);
	return 0;
}

int hyp_unbind_pt_irq(struct hyp *h, uint32_t caller,
		      const struct hv_pt_irq *b)
{
	struct hyp_domain *d;
	struct hyp_pirq *pi;
	int r = pt_pirq(h, caller, b, &d, &pi);

	if (r < 0)
		return r;
	if (!pi->pt.bound || pi->pt.type != b->irq_type)
		return -EINVAL;
	pi->pt = (struct hyp_dpci){ 0 };
	hyp_irq_guest_unbind(h, d, (int)b->machine_irq);
	log_info("domain %u: pirq %u unbound from the guest", d->domid,
		 b->machine_irq);
	return 0;
}

int hyp_pt_irq_info(struct hyp *h, uint32_t domid, uint32_t pirq,
		    struct hv_pt_irq *ret)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	static const struct hyp_dpci none;
	const struct hyp_dpci *pt;

	if (!d)
		return -ESRCH;
	if (pirq >= HYP_NR_PIRQS)
		return -EINVAL;
	pt = d->pirqs ? &d->pirqs[pirq].pt : &none;
	*ret = (struct hv_pt_irq){
		.domid = domid, .machine_irq = pirq, .irq_type = pt->type,
		.bus = pt->bus, .device = pt->device, .intx = pt->intx,
		.gvec = pt->gvec, .gflags = pt->gflags, .gtable = pt->gtable,
		.bound = pt->bound, .fired = pt->fired,
	};
	return 0;
}

void hyp_irq_pt_release_device(struct hyp *h, struct hyp_domain *d,
			       uint32_t sbdf)
{
	uint32_t q;

	for (q = 0; d->pirqs && q < HYP_NR_PIRQS; q++)
		if (d->pirqs[q].in_use && d->pirqs[q].pt.bound &&
		    d->pirqs[q].sbdf == sbdf)
			pt_unbind(h, d, (int)q, "of a device leaving the domain");
}
