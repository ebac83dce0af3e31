/* SPDX-License-Identifier: MIT */
/*
 * A PVH guest's PCI (--pvh): no device model and no pcifront.  The
 * hypervisor's vPCI answers its config space on segment 0 bus 0
 * (hv_vpci_conf_*, the guest's own virtual SBDFs 0000:00:dd.0; an empty
 * slot reads all-ones) and maps a device's BARs where the guest placed
 * them once it turns memory decoding on; the guest then reaches the
 * device's registers by guest-physical MMIO (hv_vpci_mmio_*; what is not
 * mapped reads all-ones).  See docs/protocol.md §4.7.
 *
 * Enumeration, BAR placement and the driver are the HVM guest's (hvm.c,
 * driver.c), over these accessors.  A PVH guest gets no hot-plug event
 * (no ACPI hotplug controller without a device model): it rescans bus 0
 * every PVH_RESCAN_MS, and at the query socket's `reprobe`, as a guest
 * polling its bus would.  A device detached meanwhile reads all-ones and
 * is dropped; a new one is probed.
 *
 * The driver proves the mapping with one register read through the BAR
 * (pvh_read_reg: the device's ID register, not all-ones once vPCI mapped
 * the BAR).  Interrupts are not modelled for PVH guests (vPCI's
 * MSI/MSI-X emulation is not part of the model): irq=none.
 */
#include <errno.h>
#include <string.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"

int pvh_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		  uint32_t *ret_value)
{
	return hv_vpci_conf_read(g->hv, 0, sbdf, (uint32_t)offset,
				 (uint32_t)size, ret_value);
}

int pvh_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		   uint32_t value)
{
	return hv_vpci_conf_write(g->hv, 0, sbdf, (uint32_t)offset,
				  (uint32_t)size, value);
}

/* One word through the BAR at guest-physical addr: 0, or <0 (logged). */
static int pvh_mmio_word(struct guest *g, const struct gdev *d, uint64_t addr,
			 uint32_t *ret)
{
	uint64_t v;
	int r = hv_vpci_mmio_read(g->hv, 0, addr, 4, &v);

	if (r < 0) {
		log_warn("pvh: 00:%02x.0: MMIO read at %#llx: %s",
			 HV_SBDF_DEV(d->sbdf), (unsigned long long)addr,
			 strerror(-r));
		return r;
	}
	*ret = (uint32_t)v;
	return 0;
}

/*
 * The driver's register read: the identification register a modelled
 * device has at offset 0 of each memory BAR (vendor | device << 16,
 * docs/protocol.md §14.2), from the first BAR where it answers.  vPCI
 * hides a domU's capability list, so the guest cannot tell where an
 * MSI-X table lies, whose pages vPCI never maps (all-ones): a BAR that
 * starts with one is passed over.  With none left, the last word of the
 * first memory BAR (the device's registers past its table).
 */
void pvh_read_reg(struct guest *g, struct gdev *d)
{
	uint32_t v;
	unsigned int i;

	d->mmio_read = false;
	d->mmio_addr = 0;
	for (i = 0; i < 6; i++) {
		if (!d->bar[i] || pvh_mmio_word(g, d, d->bar[i], &v) < 0)
			continue;
		if (v != 0xffffffffu) {
			d->mmio_addr = d->bar[i];
			break;
		}
	}
	for (i = 0; !d->mmio_addr && i < 6; i++)
		if (d->bar[i] && d->bar_size[i] >= 4 &&
		    pvh_mmio_word(g, d, d->bar[i] + d->bar_size[i] - 4,
				  &v) == 0)
			d->mmio_addr = d->bar[i] + d->bar_size[i] - 4;
	if (!d->mmio_addr)
		return;
	d->mmio_value = v;
	d->mmio_read = true;
	log_info("pvh: 00:%02x.0: MMIO %#llx reads %#x", HV_SBDF_DEV(d->sbdf),
		 (unsigned long long)d->mmio_addr, d->mmio_value);
}

void pvh_schedule_rescan(struct guest *g)
{
	g->pvh_scan_due = guest_now_ms() + PVH_RESCAN_MS;
}
