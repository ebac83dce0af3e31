// SPDX-License-Identifier: MIT
/*
 * The pci_op service (docs/protocol.md §5.6): the frontend's request in the
 * granted xen_pci_sharedinfo page is copied once, looked up by its
 * guest-visible address among this guest's devices only, served, and
 * answered (err, value, MSI-X vectors) before _XEN_PCIF_active is cleared
 * and the frontend notified.
 *
 * MSI and MSI-X vectors are PIRQs mapped for the guest domain; disabling
 * unmaps them, so a driver may enable, disable and enable again (nvme does
 * at probe).  The historic profile keeps Linux 6.1's observed refusal:
 * after a disable the device still counts as MSI-X enabled (-EALREADY).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pciback.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_FLAGS_MASKALL 0x4000

static void set_flags(struct pciback *pb, struct pb_dev *dev, unsigned int cap,
		      uint32_t set, uint32_t clear)
{
	uint32_t v;

	if (pciback_hw_read(pb, dev, cap + 2, 2, &v) == 0)
		pciback_hw_write(pb, dev, cap + 2, 2, (v | set) & ~clear);
}

static int intx_pirq(const struct pb_dev *dev)
{
	return dev->info.intx_pin ? (int)dev->info.gsi : 0;
}

static void unmap_msix(struct pciback *pb, struct pb_dev *dev)
{
	unsigned int domid = dev->be ? dev->be->domid : 0;

	for (unsigned int i = 0; i < dev->msix_nvec; i++) {
		int r = hv_unmap_pirq(pb->hv, domid, dev->msix_pirq[i]);

		if (r < 0)
			log_warn("domain %u: unmap pirq %d: %s", domid,
				 dev->msix_pirq[i], strerror(-r));
	}
	dev->msix_nvec = 0;
}

static int enable_msi(struct pciback *pb, struct pb_dev *dev,
		      struct xen_pci_op *op)
{
	int pirq, r;

	op->value = 0;
	if (dev->msi_on)
		return -EALREADY;
	if (dev->msix_on)
		return -ENXIO;
	if (!dev->msi_cap)
		return -EINVAL;
	r = hv_map_pirq(pb->hv, dev->be->domid, HV_IRQ_MSI, dev->sbdf, 0,
			&pirq);
	if (r < 0)
		return r;
	set_flags(pb, dev, dev->msi_cap, PCI_MSI_FLAGS_ENABLE, 0);
	dev->msi_on = true;
	dev->msi_pirq = pirq;
	op->value = pirq;
	return 0;
}

static int disable_msi(struct pciback *pb, struct pb_dev *dev,
		       struct xen_pci_op *op)
{
	if (dev->msi_on) {
		int r = hv_unmap_pirq(pb->hv, dev->be->domid, dev->msi_pirq);

		if (r < 0)
			log_warn("domain %u: unmap pirq %d: %s",
				 dev->be->domid, dev->msi_pirq, strerror(-r));
		set_flags(pb, dev, dev->msi_cap, 0, PCI_MSI_FLAGS_ENABLE);
		dev->msi_on = false;
	}
	op->value = intx_pirq(dev);
	return 0;
}

static int enable_msix(struct pciback *pb, struct pb_dev *dev,
		       struct xen_pci_op *op)
{
	unsigned int nvec = op->value;
	uint32_t cmd = 0;
	int pirq, r;

	if (nvec == 0 || nvec > SH_INFO_MAX_VEC)
		return -EINVAL;
	if (dev->msix_on)
		return -EALREADY;
	/* XSA-157: the table is only reachable with memory decoding on. */
	if (pciback_hw_read(pb, dev, PCI_COMMAND, 2, &cmd) < 0)
		return -EIO;
	if (dev->msi_on || !(cmd & PCI_COMMAND_MEMORY))
		return -ENXIO;
	if (!dev->msix_cap)
		return -EINVAL;
	for (unsigned int i = 0; i < nvec; i++) {
		if (op->msix_entries[i].entry >= dev->info.msix_entries)
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (op->msix_entries[j].entry ==
			    op->msix_entries[i].entry)
				return -EINVAL;
	}
	set_flags(pb, dev, dev->msix_cap,
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	dev->msix_nvec = 0;
	for (unsigned int i = 0; i < nvec; i++) {
		r = hv_map_pirq(pb->hv, dev->be->domid, HV_IRQ_MSIX, dev->sbdf,
				op->msix_entries[i].entry, &pirq);
		if (r == 0 && (pirq <= 0 || pirq > 0xffff)) {
			hv_unmap_pirq(pb->hv, dev->be->domid, pirq);
			r = -ERANGE;
		}
		if (r < 0) {
			unmap_msix(pb, dev);
			set_flags(pb, dev, dev->msix_cap, 0,
				  PCI_MSIX_FLAGS_ENABLE |
				  PCI_MSIX_FLAGS_MASKALL);
			return r;
		}
		dev->msix_pirq[dev->msix_nvec++] = pirq;
	}
	set_flags(pb, dev, dev->msix_cap, PCI_MSIX_FLAGS_ENABLE,
		  PCI_MSIX_FLAGS_MASKALL);
	for (unsigned int i = 0; i < nvec; i++)
		op->msix_entries[i].vector = dev->msix_pirq[i];
	dev->msix_on = true;
	op->value = 0;
	return 0;
}

static int disable_msix(struct pciback *pb, struct pb_dev *dev,
			struct xen_pci_op *op)
{
	if (dev->msix_on) {
		unmap_msix(pb, dev);
		set_flags(pb, dev, dev->msix_cap, 0, PCI_MSIX_FLAGS_ENABLE);
		if (!(pb->profile & PB_HIST_MSIX_STUCK))
			dev->msix_on = false;
	}
	op->value = intx_pirq(dev);
	return 0;
}

void pciback_irq_teardown(struct pciback *pb, struct pb_dev *dev)
{
	if (dev->msi_on && dev->be) {
		hv_unmap_pirq(pb->hv, dev->be->domid, dev->msi_pirq);
		set_flags(pb, dev, dev->msi_cap, 0, PCI_MSI_FLAGS_ENABLE);
	}
	if (dev->msix_nvec) {
		unmap_msix(pb, dev);
		set_flags(pb, dev, dev->msix_cap, 0, PCI_MSIX_FLAGS_ENABLE);
	}
	dev->msi_on = dev->msix_on = false;
}

static const char *op_names[] = {
	"conf_read", "conf_write", "enable_msi", "disable_msi",
	"enable_msix", "disable_msix",
};

void pciback_op_do(struct pciback *pb, struct pb_backend *be,
		   struct xen_pci_op *op)
{
	struct pb_dev *dev = NULL;
	uint32_t v;

	if (op->domain <= 0xffff && op->bus <= 0xff && op->devfn <= 0xff)
		dev = pciback_lookup_vdev(pb, be, op->domain << 16 |
					  op->bus << 8 | op->devfn);
	if (!dev) {
		log_debug("domain %u: %s on %04x:%02x:%02x.%u: no such device",
			  be->domid, op->cmd < 6 ? op_names[op->cmd] : "op",
			  op->domain, op->bus, op->devfn >> 3, op->devfn & 7);
		op->err = XEN_PCI_ERR_dev_not_found;
		return;
	}
	switch (op->cmd) {
	case XEN_PCI_OP_conf_read:
		op->err = pciback_conf_read(pb, dev, op->offset, op->size, &v);
		if (op->err == 0)
			op->value = v;
		break;
	case XEN_PCI_OP_conf_write:
		op->err = pciback_conf_write(pb, dev, op->offset, op->size,
					     op->value);
		break;
	case XEN_PCI_OP_enable_msi:
		op->err = enable_msi(pb, dev, op);
		break;
	case XEN_PCI_OP_disable_msi:
		op->err = disable_msi(pb, dev, op);
		break;
	case XEN_PCI_OP_enable_msix:
		op->err = enable_msix(pb, dev, op);
		break;
	case XEN_PCI_OP_disable_msix:
		op->err = disable_msix(pb, dev, op);
		break;
	default:
		op->err = XEN_PCI_ERR_not_implemented;
		break;
	}
	if (op->cmd >= XEN_PCI_OP_enable_msi && op->cmd < 6)
		log_info("domain %u: %s on %04x:%02x:%02x.%u: %d",
			 be->domid, op_names[op->cmd], op->domain, op->bus,
			 op->devfn >> 3, op->devfn & 7, op->err);
}

/* The frontend's event channel fired. */
void pciback_op_service(struct pciback *pb, struct pb_backend *be)
{
	struct xen_pci_sharedinfo *sh = be->sh;
	struct xen_pci_op op;
	uint64_t n;

	hv_evtchn_ack(be->evfd, &n);
	if (!sh || !(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) &
		     XEN_PCIF_active))
		return;
	/* One copy: the guest may change the page under us. */
	memcpy(&op, (const void *)&sh->op, sizeof(op));
	pciback_op_do(pb, be, &op);
	be->ops++;
	sh->op.err = op.err;
	sh->op.value = op.value;
	if (op.cmd == XEN_PCI_OP_enable_msix && op.err == 0)
		memcpy(sh->op.msix_entries, op.msix_entries,
		       sizeof(op.msix_entries));
	__atomic_fetch_and(&sh->flags, ~(uint32_t)XEN_PCIF_active,
			   __ATOMIC_RELEASE);
	hv_evtchn_send(pb->hv, be->port);
}
