// SPDX-License-Identifier: MIT
/*
 * xpt-dm as an emulator: the guest's ioreq server, in QEMU's order.  It
 * is created at start-up, before any `cont`, each passed-through function
 * claims its guest SBDF (bus 0, its slot) as a PCI range, and the server
 * is enabled only while the VM runs (QEMU's vm-state handler): a guest
 * vCPU that runs before `cont` finds no enabled server and reads all ones,
 * the "no device" the toolstack's order (cont, then unpause) prevents.
 *
 * The server also claims the ports of the ACPI PCI hotplug controller
 * (acpi.c).  Requests arrive on the server's eventfd; each is fetched, answered by
 * emu.c and completed at once, so a guest never waits on a QMP client
 * and a QMP client never waits on a guest.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

uint32_t ioreq_guest_sbdf(const struct dm_dev *dev)
{
	return HV_SBDF(0, 0, (uint32_t)dev->slot, 0);
}

int ioreq_start(struct dm *d)
{
	struct hv_ioreq_server info;
	unsigned int id;
	int r;

	if ((r = dm_hv_open(d)) < 0)
		return r;
	r = hv_ioreq_server_create(d->hv, d->domid, 0, &id);
	if (r < 0)
		return r;
	r = hv_ioreq_server_get_info(d->hv, d->domid, id, &info, &d->ioreq_fd);
	if (r < 0) {
		hv_ioreq_server_destroy(d->hv, d->domid, id);
		d->ioreq_fd = -1;
		return r;
	}
	d->ioreq_id = id;
	d->have_server = true;
	r = acpi_start(d);
	if (r < 0)
		log_warn("domain %u: claiming the ACPI hotplug ports: %s (the "
			 "guest sees no hotplug)", d->domid, strerror(-r));
	log_info("domain %u: ioreq server %u created (disabled until the VM "
		 "runs)", d->domid, id);
	return 0;
}

void ioreq_stop(struct dm *d)
{
	if (!d->have_server)
		return;
	hv_ioreq_server_destroy(d->hv, d->domid, d->ioreq_id);
	if (d->ioreq_fd >= 0)
		close(d->ioreq_fd);
	d->ioreq_fd = -1;
	d->have_server = false;
}

void ioreq_set_enabled(struct dm *d, bool on)
{
	int r;

	if (!d->have_server || d->server_enabled == on)
		return;
	r = hv_ioreq_server_set_state(d->hv, d->domid, d->ioreq_id, on);
	if (r < 0) {
		log_warn("domain %u: cannot %s ioreq server %u: %s", d->domid,
			 on ? "enable" : "disable", d->ioreq_id, strerror(-r));
		return;
	}
	d->server_enabled = on;
	log_info("domain %u: ioreq server %u %s", d->domid, d->ioreq_id,
		 on ? "enabled" : "disabled");
}

int ioreq_map_dev(struct dm *d, struct dm_dev *dev)
{
	uint32_t s = ioreq_guest_sbdf(dev);
	int r;

	if (!d->have_server)
		return 0;	/* no server: QMP only, nothing visible */
	r = hv_ioreq_map_range(d->hv, d->domid, d->ioreq_id, HV_IO_RANGE_PCI,
			       s, s);
	if (r == 0)
		dev->mapped = true;
	return r;
}

void ioreq_unmap_dev(struct dm *d, struct dm_dev *dev)
{
	uint32_t s = ioreq_guest_sbdf(dev);
	int r;

	ioreq_map_mmio(d, dev, 0, 0);
	if (!dev->mapped)
		return;
	r = hv_ioreq_unmap_range(d->hv, d->domid, d->ioreq_id,
				 HV_IO_RANGE_PCI, s, s);
	if (r < 0)
		log_warn("domain %u: unmapping 00:%02x.0 of %s: %s", d->domid,
			 dev->slot, dev->id, strerror(-r));
	dev->mapped = false;
}

int ioreq_map_mmio(struct dm *d, struct dm_dev *dev, uint64_t start,
		   uint64_t end)
{
	struct dm_emu *e = &dev->emu;
	int r;

	if (!d->have_server || start == e->mmio_start)
		return 0;
	if (e->mmio_start) {
		r = hv_ioreq_unmap_range(d->hv, d->domid, d->ioreq_id,
					 HV_IO_RANGE_MEMORY, e->mmio_start,
					 e->mmio_start + e->msix_n *
					 16ull - 1);
		if (r < 0)
			log_warn("domain %u: unmapping the MSI-X table of %s: "
				 "%s", d->domid, dev->id, strerror(-r));
		e->mmio_start = 0;
	}
	if (!start)
		return 0;
	r = hv_ioreq_map_range(d->hv, d->domid, d->ioreq_id,
			       HV_IO_RANGE_MEMORY, start, end);
	if (r < 0) {
		log_warn("domain %u: mapping the MSI-X table of %s at %#llx: "
			 "%s", d->domid, dev->id, (unsigned long long)start,
			 strerror(-r));
		return r;
	}
	e->mmio_start = start;
	return 0;
}

/* The function a PCI_CONFIG request names, or the device whose MSI-X
 * table an MMIO request falls in. */
static struct dm_dev *dev_of(struct dm *d, const struct hv_ioreq *q)
{
	size_t i;

	for (i = 0; i < d->ndev; i++) {
		struct dm_dev *dev = &d->dev[i];
		struct dm_emu *e = &dev->emu;

		if (q->type == HV_IOREQ_TYPE_PCI_CONFIG &&
		    (q->addr >> 32) == ioreq_guest_sbdf(dev))
			return dev;
		if (q->type == HV_IOREQ_TYPE_COPY && e->mmio_start &&
		    q->addr >= e->mmio_start &&
		    q->addr + q->size <= e->mmio_start + e->msix_n * 16ull)
			return dev;
	}
	return NULL;
}

static uint64_t handle(struct dm *d, const struct hv_ioreq *q)
{
	struct dm_dev *dev = dev_of(d, q);
	uint32_t reg = (uint32_t)q->addr & 0xfff;
	bool rd = q->dir == HV_IOREQ_READ;

	if (!dev)	/* unmapped meanwhile: as the null handler */
		return rd ? ~0ull : 0;
	if (q->type == HV_IOREQ_TYPE_PCI_CONFIG) {
		if (rd)
			return emu_conf_read(d, dev, reg, q->size);
		emu_conf_write(d, dev, reg, q->size, (uint32_t)q->data);
		return 0;
	}
	if (rd)
		return emu_mmio_read(d, dev, q->addr, q->size);
	emu_mmio_write(d, dev, q->addr, q->size, q->data);
	return 0;
}

void ioreq_serve(struct dm *d)
{
	struct hv_ioreq q;
	uint64_t n;
	int r;

	if (d->ioreq_fd >= 0)
		hv_evtchn_ack(d->ioreq_fd, &n);
	while (d->have_server &&
	       (r = hv_ioreq_fetch(d->hv, d->domid, d->ioreq_id, &q)) == 0) {
		uint64_t v = 0;

		if (q.type == HV_IOREQ_TYPE_PCI_CONFIG ||
		    q.type == HV_IOREQ_TYPE_COPY)
			v = handle(d, &q);
		else if (q.type == HV_IOREQ_TYPE_PIO &&
			 acpi_port_claimed(q.addr, q.size))
			v = acpi_port_io(d, q.addr, q.size,
					 q.dir == HV_IOREQ_READ, q.data);
		else if (q.dir == HV_IOREQ_READ)
			v = ~0ull;	/* other ports: nothing emulated */
		log_debug("ioreq vcpu %u type %u %s %#llx size %u: %#llx",
			  q.vcpu, q.type, q.dir == HV_IOREQ_READ ? "read" :
			  "write", (unsigned long long)q.addr, q.size,
			  (unsigned long long)(q.dir == HV_IOREQ_READ ? v :
					       q.data));
		r = hv_ioreq_complete(d->hv, d->domid, d->ioreq_id, q.vcpu, v);
		if (r < 0)
			log_warn("domain %u: completing vcpu %u's request: %s",
				 d->domid, q.vcpu, strerror(-r));
	}
}
