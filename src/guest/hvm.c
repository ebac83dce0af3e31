/* SPDX-License-Identifier: MIT */
/*
 * An HVM guest's PCI, as firmware and a native kernel see it: config
 * space through ports 0xcf8/0xcfc (hv_hvm_config_*), which the hypervisor
 * hands to the ioreq server claiming the function, i.e. the device model.
 * Enumeration reads the vendor ID of bus 0 slots 0..31: 0xffff is no
 * device, which is also what a guest running before its device model
 * enabled its server reads.  BARs are placed as hvmloader does (sized,
 * then given addresses from the PCI hole, aligned to their size).
 *
 * Interrupts: the driver writes its MSI-X entries (address 0xfee00000,
 * data = a vector of its own) through MMIO at the table's BAR address,
 * or MSI address/data in config space, and sets Enable; the device model
 * binds the device's pirqs to those vectors.  What a real guest's local
 * APIC would take, the model counts on an eventfd per vector
 * (hv_hvm_vector_fd).
 *
 * Hot-plug: the device model's ACPI PCI hotplug controller, as Xen's
 * hvmloader DSDT and Linux's acpiphp use it.  The SCI (ISA IRQ 9) fires,
 * the GPE handler reads which slots came up or are to go down: a slot
 * that came up is rescanned; one to go down has its device removed and
 * is then ejected (a port write), which is when the device model lets
 * the device go.  The query socket's `reprobe` still rescans the whole
 * bus, as `echo 1 > /sys/bus/pci/rescan` does. *
 * A PVH guest (pvh.c) enumerates and places BARs the same way, its
 * config accesses answered by the hypervisor's vPCI instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"

#define HVM_MMIO_BASE 0xe0000000ull	/* hvmloader's PCI hole start */
#define HVM_VEC_FIRST 0x30
#define HVM_VEC_LAST 0xef
#define MSI_ADDR 0xfee00000u		/* local APIC 0, physical */

int hvm_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		  uint32_t *ret_value)
{
	if (g->pvh)
		return pvh_conf_read(g, sbdf, offset, size, ret_value);
	return hv_hvm_config_read(g->hv, 0, sbdf, (uint32_t)offset,
				  (uint32_t)size, ret_value);
}

int hvm_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		   uint32_t value)
{
	if (g->pvh)
		return pvh_conf_write(g, sbdf, offset, size, value);
	return hv_hvm_config_write(g->hv, 0, sbdf, (uint32_t)offset,
				   (uint32_t)size, value);
}

static int mmio_write(struct guest *g, uint64_t addr, uint32_t value)
{
	struct hv_hvm_io io = {
		.type = HV_IOREQ_TYPE_COPY, .addr = addr, .size = 4,
		.dir = HV_IOREQ_WRITE, .data = value,
	};

	return hv_hvm_io(g->hv, &io);
}

/* Size each memory BAR and give it an address (I/O BARs stay off). */
static int hvm_place_bars(struct guest *g, struct gdev *d)
{
	unsigned int i;
	int r;

	memset(d->bar, 0, sizeof(d->bar));
	memset(d->bar_size, 0, sizeof(d->bar_size));
	for (i = 0; i < 6; i++) {
		int reg = PCI_BASE_ADDRESS_0 + 4 * (int)i;
		uint32_t lo, hi = 0xffffffffu;
		uint64_t mask, size;
		bool is64;

		r = hvm_conf_write(g, d->sbdf, reg, 4, 0xffffffffu);
		if (r == 0)
			r = hvm_conf_read(g, d->sbdf, reg, 4, &lo);
		if (r < 0)
			return r;
		if (!lo || (lo & PCI_BASE_ADDRESS_SPACE_IO))
			continue;
		is64 = (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		       PCI_BASE_ADDRESS_MEM_TYPE_64 && i < 5;
		if (is64) {
			r = hvm_conf_write(g, d->sbdf, reg + 4, 4, 0xffffffffu);
			if (r == 0)
				r = hvm_conf_read(g, d->sbdf, reg + 4, 4, &hi);
			if (r < 0)
				return r;
		}
		mask = (uint64_t)hi << 32 | (lo & PCI_BASE_ADDRESS_MEM_MASK);
		size = ~mask + 1;
		if (!size)
			continue;
		g->mmio_next = (g->mmio_next + size - 1) & ~(size - 1);
		d->bar[i] = g->mmio_next;
		d->bar_size[i] = size;
		g->mmio_next += size;
		r = hvm_conf_write(g, d->sbdf, reg, 4, (uint32_t)d->bar[i]);
		if (r == 0 && is64)
			r = hvm_conf_write(g, d->sbdf, reg + 4, 4,
					   (uint32_t)(d->bar[i] >> 32));
		if (r < 0)
			return r;
		i += is64;
	}
	return 0;
}

static struct gdev *hvm_find(struct guest *g, uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g->dev[i].used && g->dev[i].sbdf == sbdf)
			return &g->dev[i];
	return NULL;
}

static int hvm_add(struct guest *g, uint32_t sbdf, uint32_t id)
{
	struct gdev *d = NULL;
	uint32_t cls;
	unsigned int i;
	int r;

	for (i = 0; i < GUEST_MAX_DEVS && !d; i++)
		if (!g->dev[i].used)
			d = &g->dev[i];
	if (!d)
		return -ENOSPC;
	r = hvm_conf_read(g, sbdf, PCI_CLASS_REVISION, 4, &cls);
	if (r < 0)
		return r;
	driver_init_dev(d);
	d->used = true;
	d->sbdf = sbdf;
	snprintf(d->host, sizeof(d->host), "?");	/* a guest cannot know */
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class = cls >> 8;
	log_info("%s: 00:%02x.0 %04x:%04x class %06x", g->pvh ? "pvh" :
		 "hvm", HV_SBDF_DEV(sbdf),
		 d->vendor, d->device, d->class);
	r = hvm_place_bars(g, d);
	if (r < 0) {
		d->drv = DRV_FAILED;
		return r;
	}
	r = driver_probe(g, d);
	if (r == 0 && g->pvh)
		pvh_read_reg(g, d);
	return r;
}

static void hvm_drop(struct gdev *d, struct guest *g)
{
	driver_remove(g, d);
	d->used = false;
}

/* One slot of bus 0, as firmware, a bus rescan or acpiphp's bus check
 * looks at it: a new function probed, a vanished one removed. */
static int hvm_scan_slot(struct guest *g, unsigned int slot)
{
	uint32_t sbdf = HV_SBDF(0, 0, slot, 0), id;
	struct gdev *d = hvm_find(g, sbdf);
	int r;

	r = hvm_conf_read(g, sbdf, PCI_VENDOR_ID, 4, &id);
	if (r < 0) {
		log_warn("hvm: config read of 00:%02x.0: %s", slot,
			 strerror(-r));
		return r;
	}
	if ((id & 0xffff) == 0xffff) {
		if (d) {
			log_info("hvm: 00:%02x.0 gone", slot);
			hvm_drop(d, g);
		}
		return 0;
	}
	if (d && d->vendor == (uint16_t)id &&
	    d->device == (uint16_t)(id >> 16))
		return 0;
	if (d)			/* another function in that slot */
		hvm_drop(d, g);
	r = hvm_add(g, sbdf, id);
	if (r < 0)
		log_warn("hvm: 00:%02x.0: %s", slot, strerror(-r));
	return 0;
}

int hvm_scan(struct guest *g)
{
	unsigned int slot;
	int r;

	if (!g->mmio_next)
		g->mmio_next = HVM_MMIO_BASE;
	for (slot = 0; slot < 32; slot++)
		if ((r = hvm_scan_slot(g, slot)) < 0)
			return r;
	return 0;
}

/* Ports of the device model's ACPI hotplug controller (xpt-guest(8)). */
#define GPE0_STS 0xafe0
#define GPE0_EN 0xafe2
#define GPE_PCI_HOTPLUG 0x02		/* the DSDT's \_GPE._E01 */
#define PCIHP_UP 0xae00
#define PCIHP_DOWN 0xae04
#define PCIHP_EJ 0xae08
#define SCI_IRQ 9
#define SCI_ROUNDS 16			/* a handler that never sees the
					 * cause go is a stuck device model */

int hvm_acpi_init(struct guest *g)
{
	uint64_t stale;
	int r;

	r = hv_hvm_isa_irq_fd(g->hv, SCI_IRQ, &g->sci_fd);
	if (r < 0) {
		g->sci_fd = -1;
		log_warn("hvm: no SCI (%s): no PCI hotplug", strerror(-r));
		return r;
	}
	fcntl(g->sci_fd, F_SETFL, fcntl(g->sci_fd, F_GETFL) | O_NONBLOCK);
	hv_evtchn_ack(g->sci_fd, &stale);
	/* ACPICA's GPE block set-up: all status cleared, then the GPEs
	 * with a method enabled (only _E01 here) */
	r = hv_hvm_port_write(g->hv, 0, GPE0_STS, 2, 0xffff);
	if (r == 0)
		r = hv_hvm_port_write(g->hv, 0, GPE0_EN, 2, GPE_PCI_HOTPLUG);
	if (r < 0)
		log_warn("hvm: enabling the hotplug GPE: %s", strerror(-r));
	return r;
}

/* acpiphp's eject: stop and remove what is in the slot, then _EJ0. */
static void hvm_eject(struct guest *g, unsigned int slot)
{
	struct gdev *d = hvm_find(g, HV_SBDF(0, 0, slot, 0));
	int r;

	if (d) {
		log_info("hvm: 00:%02x.0 ejected", slot);
		hvm_drop(d, g);
	}
	r = hv_hvm_port_write(g->hv, 0, PCIHP_EJ, 4, 1u << slot);
	if (r < 0)
		log_warn("hvm: eject of slot %u: %s", slot, strerror(-r));
}

/*
 * The SCI: ACPICA finds GPE 1 set and enabled, clears it (an edge GPE,
 * _E01) and runs _E01, which notifies each slot in "up" (bus check:
 * acpiphp rescans the slot) and in "down" (eject request: acpiphp
 * removes the device, then ejects).  The SCI is level-triggered: the
 * handler goes on while a status bit is set.
 */
void hvm_acpi_sci(struct guest *g)
{
	uint32_t sts, en, up, down;
	unsigned int slot, n;
	uint64_t cnt;

	hv_evtchn_ack(g->sci_fd, &cnt);
	for (n = 0; n < SCI_ROUNDS; n++) {
		if (hv_hvm_port_read(g->hv, 0, GPE0_STS, 1, &sts) < 0 ||
		    hv_hvm_port_read(g->hv, 0, GPE0_EN, 1, &en) < 0)
			return;
		if (!(sts & en & GPE_PCI_HOTPLUG))
			return;
		if (hv_hvm_port_write(g->hv, 0, GPE0_STS, 1,
				      GPE_PCI_HOTPLUG) < 0 ||
		    hv_hvm_port_read(g->hv, 0, PCIHP_UP, 4, &up) < 0 ||
		    hv_hvm_port_read(g->hv, 0, PCIHP_DOWN, 4, &down) < 0)
			return;
		log_debug("hvm: GPE 1: up %#x down %#x", up, down);
		for (slot = 1; slot < 32; slot++) {
			if (up & (1u << slot))
				hvm_scan_slot(g, slot);
			if (down & (1u << slot))
				hvm_eject(g, slot);
		}
	}
	log_warn("hvm: GPE 1 still set after %u rounds", SCI_ROUNDS);
}

void hvm_teardown(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g->dev[i].used)
			hvm_drop(&g->dev[i], g);
	if (g->sci_fd >= 0)
		close(g->sci_fd);
	g->sci_fd = -1;
}

/* A vector of the guest's own and its eventfd, emptied of old counts. */
static int hvm_vector(struct guest *g, struct gdev *d, unsigned int i)
{
	uint64_t stale;
	int r;

	if (g->next_vec < HVM_VEC_FIRST || g->next_vec > HVM_VEC_LAST)
		g->next_vec = HVM_VEC_FIRST;
	d->pirq[i] = (int)g->next_vec++;	/* shown as the vector */
	r = hv_hvm_vector_fd(g->hv, (unsigned int)d->pirq[i], &d->fd[i]);
	if (r < 0) {
		d->fd[i] = -1;
		return r;
	}
	fcntl(d->fd[i], F_SETFL, fcntl(d->fd[i], F_GETFL) | O_NONBLOCK);
	hv_evtchn_ack(d->fd[i], &stale);
	d->count[i] = 0;
	return 0;
}

static void hvm_close_vectors(struct gdev *d)
{
	unsigned int i;

	for (i = 0; i < d->nvec; i++) {
		if (d->fd[i] >= 0)
			close(d->fd[i]);
		d->fd[i] = -1;
		d->pirq[i] = -1;
	}
	d->nvec = 0;
}

int hvm_enable_msix(struct guest *g, struct gdev *d, unsigned int nvec)
{
	int ctl_reg = d->msix_cap + PCI_MSIX_FLAGS;
	uint32_t tab, ctl;
	uint64_t base;
	unsigned int i;
	int r;

	r = hvm_conf_read(g, d->sbdf, d->msix_cap + PCI_MSIX_TABLE, 4, &tab);
	if (r == 0)
		r = hvm_conf_read(g, d->sbdf, ctl_reg, 2, &ctl);
	if (r < 0)
		return r;
	base = d->bar[tab & PCI_MSIX_TABLE_BIR];
	if (!base)
		return -ENXIO;		/* the table's BAR was not placed */
	base += tab & PCI_MSIX_TABLE_OFFSET;
	/* Enable with the function masked, program, then unmask. */
	r = hvm_conf_write(g, d->sbdf, ctl_reg, 2, ctl |
			   PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (i = 0; r == 0 && i < nvec; i++) {
		uint64_t e = base + i * PCI_MSIX_ENTRY_SIZE;

		d->nvec = i + 1;
		r = hvm_vector(g, d, i);
		if (r == 0)
			r = mmio_write(g, e + PCI_MSIX_ENTRY_LOWER_ADDR,
				       MSI_ADDR);
		if (r == 0)
			r = mmio_write(g, e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
		if (r == 0)
			r = mmio_write(g, e + PCI_MSIX_ENTRY_DATA,
				       (uint32_t)d->pirq[i]);
		if (r == 0)
			r = mmio_write(g, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	}
	if (r == 0)
		r = hvm_conf_write(g, d->sbdf, ctl_reg, 2,
				   (ctl | PCI_MSIX_FLAGS_ENABLE) &
				   ~(uint32_t)PCI_MSIX_FLAGS_MASKALL);
	if (r < 0)
		hvm_disable_msix(g, d);
	return r;
}

void hvm_disable_msix(struct guest *g, struct gdev *d)
{
	int ctl_reg = d->msix_cap + PCI_MSIX_FLAGS;
	uint32_t ctl;

	if (hvm_conf_read(g, d->sbdf, ctl_reg, 2, &ctl) == 0)
		hvm_conf_write(g, d->sbdf, ctl_reg, 2, ctl &
			       ~(uint32_t)(PCI_MSIX_FLAGS_ENABLE |
					   PCI_MSIX_FLAGS_MASKALL));
	hvm_close_vectors(d);
}

int hvm_enable_msi(struct guest *g, struct gdev *d)
{
	int pos = d->msi_cap;
	uint32_t ctl;
	int r;

	r = hvm_conf_read(g, d->sbdf, pos + PCI_MSI_FLAGS, 2, &ctl);
	if (r < 0)
		return r;
	d->nvec = 1;
	r = hvm_vector(g, d, 0);
	if (r == 0)
		r = hvm_conf_write(g, d->sbdf, pos + PCI_MSI_ADDRESS_LO, 4,
				   MSI_ADDR);
	if (r == 0 && (ctl & PCI_MSI_FLAGS_64BIT))
		r = hvm_conf_write(g, d->sbdf, pos + PCI_MSI_ADDRESS_HI, 4, 0);
	if (r == 0)
		r = hvm_conf_write(g, d->sbdf, pos + ((ctl &
				   PCI_MSI_FLAGS_64BIT) ? PCI_MSI_DATA_64 :
				   PCI_MSI_DATA_32), 2, (uint32_t)d->pirq[0]);
	if (r == 0)
		r = hvm_conf_write(g, d->sbdf, pos + PCI_MSI_FLAGS, 2,
				   (ctl & ~(uint32_t)PCI_MSI_FLAGS_QSIZE) |
				   PCI_MSI_FLAGS_ENABLE);
	if (r < 0)
		hvm_disable_msi(g, d);
	return r;
}

void hvm_disable_msi(struct guest *g, struct gdev *d)
{
	int reg = d->msi_cap + PCI_MSI_FLAGS;
	uint32_t ctl;

	if (hvm_conf_read(g, d->sbdf, reg, 2, &ctl) == 0)
		hvm_conf_write(g, d->sbdf, reg, 2,
			       ctl & ~(uint32_t)PCI_MSI_FLAGS_ENABLE);
	hvm_close_vectors(d);
}
