// SPDX-License-Identifier: MIT
/*
 * The ACPI PCI hotplug controller of the xenfv machine's PIIX4 power
 * management function, as QEMU emulates it and Xen's hvmloader DSDT
 * drives it (docs/xpt-dm.8, HOTPLUG):
 *
 *   0xafe0-0xafe1  GPE0 status: bit 1 = a PCI hotplug event; a written 1
 *                  clears a bit
 *   0xafe2-0xafe3  GPE0 enable: written as a whole
 *   0xae00         up: slots with a device plugged since their last eject
 *   0xae04         down: slots whose unplug is requested
 *   0xae08         write: eject the lowest slot set; read: 0 (no features)
 *   0xae0c         removable slots
 *
 * QEMU's legacy PIIX layout (bus 0 only, no bus select): "up" is not
 * cleared when read, as the DSDT's _E01 reads it once per slot.  The SCI
 * (ISA IRQ 9) is high while a GPE status bit is set with its enable bit.
 * An eject unplugs what sits in the slot whether or not its unplug was
 * requested, as QEMU's does: a guest may give a device up (the IOMMU
 * assignment stays the toolstack's to undo); an empty slot, a zero write
 * or any other access changes nothing.
 *
 * Worked example (device_del of pci-pt-04_00.0 in slot 6, a running
 * guest with GPE 1 enabled): device_del sets down bit 6 and GPE status
 * bit 1, the SCI goes high and device_del returns.  The guest's handler
 * clears GPE bit 1 (the SCI goes low), reads down = 0x40, removes its
 * driver from 00:06.0 and writes 0x40 to 0xae08: xpt-dm clears up and
 * down bit 6, releases the device and emits DEVICE_DELETED.  A guest that
 * is stopped never writes the eject: the device and the request stay.
 */
#include <stdio.h>
#include <string.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

#define GPE_PCI_HOTPLUG 0x02	/* GPE0 bit 1: the DSDT's _E01 */
#define SCI_IRQ 9		/* the FADT's SCI_INT */

#define PCIHP_UP 0x0
#define PCIHP_DOWN 0x4
#define PCIHP_EJ 0x8
#define PCIHP_RMV 0xc

static void sci_update(struct dm *d)
{
	struct dm_acpi *a = &d->acpi;
	bool level = (a->gpe_sts[0] & a->gpe_en[0]) ||
		     (a->gpe_sts[1] & a->gpe_en[1]);
	int r;

	if (level == a->sci || !d->hv)
		return;
	r = hv_set_isa_irq_level(d->hv, d->domid, SCI_IRQ, level);
	if (r < 0) {
		log_warn("domain %u: SCI %s: %s", d->domid, level ? "raise" :
			 "lower", strerror(-r));
		return;
	}
	a->sci = level;
}

static void gpe_event(struct dm *d)
{
	d->acpi.gpe_sts[0] |= GPE_PCI_HOTPLUG;
	sci_update(d);
}

void acpi_plug(struct dm *d, int slot)
{
	d->acpi.up |= 1u << slot;
	gpe_event(d);
}

void acpi_unplug_request(struct dm *d, int slot)
{
	d->acpi.down |= 1u << slot;
	gpe_event(d);
}

/* The guest's eject: the lowest slot written, as QEMU takes it. */
static void eject(struct dm *d, uint32_t slots)
{
	int slot;
	size_t i;

	if (!slots)
		return;
	slot = __builtin_ctz(slots);
	d->acpi.up &= ~(1u << slot);
	d->acpi.down &= ~(1u << slot);
	for (i = 0; i < d->ndev; i++)
		if (d->dev[i].slot == slot)
			break;
	if (i == d->ndev) {
		log_info("domain %u: the guest ejected slot %d: empty",
			 d->domid, slot);
		return;
	}
	log_info("domain %u: the guest ejected slot %d (%s)%s", d->domid, slot,
		 d->dev[i].id, d->dev[i].unplug_requested ? "" :
		 ": no unplug was requested");
	pt_remove(d, &d->dev[i]);
}

static uint32_t gpe_read(struct dm *d, uint32_t off)
{
	return off < 2 ? d->acpi.gpe_sts[off] : d->acpi.gpe_en[off - 2];
}

static void gpe_write(struct dm *d, uint32_t off, uint8_t v)
{
	if (off < 2)
		d->acpi.gpe_sts[off] &= (uint8_t)~v;
	else
		d->acpi.gpe_en[off - 2] = v;
}

static uint32_t pcihp_read(struct dm *d, uint32_t off)
{
	switch (off) {
	case PCIHP_UP:
		return d->acpi.up;
	case PCIHP_DOWN:
		return d->acpi.down;
	case PCIHP_RMV:
		return ~1u;	/* all but the host bridge's slot 0 */
	default:
		return 0;	/* eject's feature bits: none */
	}
}

bool acpi_port_claimed(uint64_t port, uint32_t size)
{
	return (port >= ACPI_GPE0_PORT &&
		port + size <= ACPI_GPE0_PORT + ACPI_GPE0_LEN) ||
	       (port >= ACPI_PCIHP_PORT &&
		port + size <= ACPI_PCIHP_PORT + ACPI_PCIHP_LEN);
}

/* A port access of the guest; returns a read's value. */
uint64_t acpi_port_io(struct dm *d, uint64_t port, uint32_t size, bool rd,
		      uint64_t val)
{
	uint32_t off, i, v = 0;

	if (size != 1 && size != 2 && size != 4)
		return rd ? ~0ull : 0;
	if (port >= ACPI_GPE0_PORT && port < ACPI_GPE0_PORT + ACPI_GPE0_LEN) {
		/* byte registers: a wider access is split, as QEMU does */
		off = (uint32_t)(port - ACPI_GPE0_PORT);
		for (i = 0; i < size && off + i < ACPI_GPE0_LEN; i++) {
			if (rd)
				v |= gpe_read(d, off + i) << (8 * i);
			else
				gpe_write(d, off + i, (uint8_t)(val >> (8 * i)));
		}
		if (!rd)
			sci_update(d);
		return v;
	}
	off = (uint32_t)(port - ACPI_PCIHP_PORT);
	if (size != 4 || off % 4) {
		/* QEMU takes aligned dwords only: others do nothing */
		log_debug("domain %u: hotplug port %#llx/%u ignored", d->domid,
			  (unsigned long long)port, size);
		return rd ? ~0ull >> (64 - 8 * size) : 0;
	}
	if (rd)
		return pcihp_read(d, off);
	if (off == PCIHP_EJ)
		eject(d, (uint32_t)val);
	return 0;	/* up, down, removable: read-only */
}

int acpi_start(struct dm *d)
{
	int r = hv_ioreq_map_range(d->hv, d->domid, d->ioreq_id,
				   HV_IO_RANGE_PORT, ACPI_GPE0_PORT,
				   ACPI_GPE0_PORT + ACPI_GPE0_LEN - 1);

	if (r == 0)
		r = hv_ioreq_map_range(d->hv, d->domid, d->ioreq_id,
				       HV_IO_RANGE_PORT, ACPI_PCIHP_PORT,
				       ACPI_PCIHP_PORT + ACPI_PCIHP_LEN - 1);
	return r;
}
