/* SPDX-License-Identifier: MIT */
/*
 * pci_op requests over the shared xen_pci_sharedinfo page: copy the op in,
 * set _XEN_PCIF_active, notify the backend, wait (bounded) on our port's
 * eventfd until the backend clears the bit, copy the answer out.  As Linux's
 * pcifront: one request at a time, and a backend that does not answer within
 * the timeout gets the bit cleared and XEN_PCI_ERR_dev_not_found.
 *
 * Every function returns 0, the backend's error (XEN_PCI_ERR_* or a
 * negative errno it put in op->err or op->value), or -ETIMEDOUT.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"

static void pciop_set_bdf(struct xen_pci_op *op, uint32_t sbdf)
{
	op->domain = HV_SBDF_SEG(sbdf);
	op->bus = HV_SBDF_BUS(sbdf);
	op->devfn = sbdf & 0xff;
}

int pciop_call(struct guest *g, struct xen_pci_op *op)
{
	uint32_t *flags;
	int64_t deadline;
	uint64_t n;
	int r;

	if (!g->sh || g->port_fd < 0 || g->dead_backend)
		return -ENOTCONN;
	flags = &g->sh->flags;
	memcpy(&g->sh->op, op, sizeof(*op));
	__atomic_fetch_or(flags, XEN_PCIF_active, __ATOMIC_SEQ_CST);
	r = hv_evtchn_send(g->hv, g->port);
	if (r < 0) {
		__atomic_fetch_and(flags, ~(uint32_t)XEN_PCIF_active,
				   __ATOMIC_SEQ_CST);
		return r;
	}
	deadline = guest_now_ms() + g->pciop_timeout_ms;
	while (__atomic_load_n(flags, __ATOMIC_ACQUIRE) & XEN_PCIF_active) {
		struct pollfd pfd = { .fd = g->port_fd, .events = POLLIN };
		int64_t left = deadline - guest_now_ms();

		if (left <= 0) {
			log_warn("pcifront: pciback not responding (op %u on "
				 "%04x:%02x:%02x.%u)", op->cmd, op->domain,
				 op->bus, op->devfn >> 3, op->devfn & 7);
			__atomic_fetch_and(flags, ~(uint32_t)XEN_PCIF_active,
					   __ATOMIC_SEQ_CST);
			op->err = XEN_PCI_ERR_dev_not_found;
			return -ETIMEDOUT;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			hv_evtchn_ack(g->port_fd, &n);
	}
	memcpy(op, &g->sh->op, sizeof(*op));
	return 0;
}

int pciop_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		    uint32_t *ret_value)
{
	struct xen_pci_op op = {
		.cmd = XEN_PCI_OP_conf_read, .offset = offset, .size = size,
	};
	int r;

	pciop_set_bdf(&op, sbdf);
	r = pciop_call(g, &op);
	if (r < 0)
		return r;
	if (op.err)
		return op.err;
	*ret_value = op.value;
	return 0;
}

int pciop_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		     uint32_t value)
{
	struct xen_pci_op op = {
		.cmd = XEN_PCI_OP_conf_write, .offset = offset, .size = size,
		.value = value,
	};
	int r;

	pciop_set_bdf(&op, sbdf);
	r = pciop_call(g, &op);
	return r < 0 ? r : op.err;
}

int pciop_enable_msix(struct guest *g, uint32_t sbdf, unsigned int nvec,
		      int *ret_pirqs)
{
	struct xen_pci_op op = {
		.cmd = XEN_PCI_OP_enable_msix, .value = nvec,
	};
	unsigned int i;
	int r;

	if (nvec == 0 || nvec > SH_INFO_MAX_VEC)
		return -EINVAL;
	pciop_set_bdf(&op, sbdf);
	for (i = 0; i < nvec; i++)
		op.msix_entries[i].entry = (uint16_t)i;
	r = pciop_call(g, &op);
	if (r < 0)
		return r;
	if (op.err)
		return op.err;
	/* Linux's backend puts pci_enable_msix_exact()'s result in value:
	 * 0 on success, else the error. */
	if ((int32_t)op.value < 0)
		return (int32_t)op.value;
	for (i = 0; i < nvec; i++) {
		if (op.msix_entries[i].vector == 0)
			return -EINVAL;	/* "a returned vector <= 0" */
		ret_pirqs[i] = op.msix_entries[i].vector;
	}
	return 0;
}

int pciop_disable_msix(struct guest *g, uint32_t sbdf)
{
	struct xen_pci_op op = { .cmd = XEN_PCI_OP_disable_msix };
	int r;

	pciop_set_bdf(&op, sbdf);
	r = pciop_call(g, &op);
	return r < 0 ? r : op.err;
}

int pciop_enable_msi(struct guest *g, uint32_t sbdf, int *ret_pirq)
{
	struct xen_pci_op op = { .cmd = XEN_PCI_OP_enable_msi };
	int r;

	pciop_set_bdf(&op, sbdf);
	r = pciop_call(g, &op);
	if (r < 0)
		return r;
	if (op.err)
		return op.err;
	if ((int32_t)op.value <= 0)
		return -EINVAL;
	*ret_pirq = (int)op.value;
	return 0;
}

int pciop_disable_msi(struct guest *g, uint32_t sbdf, int *ret_intx_pirq)
{
	struct xen_pci_op op = { .cmd = XEN_PCI_OP_disable_msi };
	int r;

	pciop_set_bdf(&op, sbdf);
	r = pciop_call(g, &op);
	if (r < 0)
		return r;
	if (op.err)
		return op.err;
	if (ret_intx_pirq)
		*ret_intx_pirq = (int)op.value;
	return 0;
}
