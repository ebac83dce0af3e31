// SPDX-License-Identifier: MIT
/*
 * The guest's configuration space of a passed-through function, with
 * the registers QEMU's xen_pt emulates rather than passes through:
 *
 *   BARs, ROM      the guest's own view (it places them; sizing reads the
 *                  size mask); the host BARs are never written
 *   Command        IO, Memory, Bus Master, Parity, SERR and INTx Disable
 *                  reach the device, the rest is dropped
 *   Interrupt Line emulated (the guest's routing, not the host's GSI)
 *   MSI            Enable, Multiple Message Enable, address and data are
 *                  emulated; Enable maps the device's MSI pirq for the
 *                  guest and binds it to the vector in the data
 *   MSI-X          Enable and Function Mask emulated; the table is
 *                  emulated too, through the guest's MMIO at its BAR
 *                  address: an entry unmasked while MSI-X is on maps that
 *                  entry's pirq and binds it (bind_pt_irq, gvec = data's
 *                  low byte); disabling unbinds and unmaps every vector
 *
 *   INTx           the device's GSI is mapped for the guest and bound to
 *                  its INTx line (bus 0, the slot, the pin) at device_add
 *
 * Everything else is read from the device.  Writes to other registers
 * reach the device only with permissive=on, as xen_pt inhibits them.
 *
 * Worked example (the modelled guest's driver): the guest writes an
 * entry's address 0xfee00000 and data 0x30 at BAR3 + table offset, sets
 * Enable in Message Control (xpt-dm: no vector unmasked yet, nothing
 * mapped), clears the entry's mask bit: xpt-dm maps pirq P for entry 0
 * (hv_map_pirq, which turns on the device's MSI-X as dom0's MSI core
 * does) and binds P to vector 0x30; an interrupt raised on the device's
 * entry 0 now reaches the guest's vector 0x30.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

/* Command bits xen_pt lets through to the device. */
#define CMD_PASS (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
		  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
		  PCI_COMMAND_INTX_DISABLE)

/* XEN_DOMCTL_VMSI_X86_* of bind_pt_irq's gflags */
#define GFLAGS_DEST_ID 0xffu
#define GFLAGS_RH 0x100u
#define GFLAGS_DM 0x200u
#define GFLAGS_DELIV_SHIFT 12
#define GFLAGS_TRIG 0x8000u
#define GFLAGS_UNMASKED 0x10000u

static uint32_t host_read(struct dm *d, struct dm_dev *dev, uint32_t reg,
			  uint32_t size)
{
	uint32_t v;

	if (hostdev_conf_read(d, dev->host_sbdf, reg, size, &v) < 0)
		return size == 4 ? ~0u : (1u << (size * 8)) - 1;
	return v;
}

static void host_write(struct dm *d, struct dm_dev *dev, uint32_t reg,
		       uint32_t size, uint32_t v)
{
	int r = hostdev_conf_write(d, dev->host_sbdf, reg, size, v);

	if (r < 0)
		log_warn("domain %u: %s: config write %#x/%u: %s", d->domid,
			 dev->id, reg, size, strerror(-r));
}

int emu_init(struct dm *d, struct dm_dev *dev)
{
	struct dm_emu *e = &dev->emu;
	struct hv_pci_dev info;
	uint32_t pos, v;
	unsigned int i, n;
	int r;

	memset(e, 0, sizeof(*e));
	e->msi.pirq = -1;
	e->intx_pirq = -1;
	for (i = 0; i < DM_MSIX_MAX; i++) {
		e->msix[i].pirq = -1;
		e->msix[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	r = hv_pci_info(d->hv, dev->host_sbdf, &info);
	if (r < 0)
		return r;
	for (i = 0; i < 6; i++) {
		const struct hv_pci_bar *b = &info.bar[i];
		uint64_t m = ~(b->size - 1);

		if (!b->size)
			continue;
		if (b->flags & HV_BAR_IO) {
			e->bar_mask[i] = (uint32_t)m & ~3u;
			e->bar_flags[i] = PCI_BASE_ADDRESS_SPACE_IO;
			continue;
		}
		e->bar_mask[i] = (uint32_t)m & ~0xfu;
		if (b->flags & HV_BAR_PREFETCH)
			e->bar_flags[i] |= PCI_BASE_ADDRESS_MEM_PREFETCH;
		if ((b->flags & HV_BAR_64) && i < 5) {
			e->bar_flags[i] |= PCI_BASE_ADDRESS_MEM_TYPE_64;
			e->bar_mask[++i] = (uint32_t)(m >> 32);
		}
	}
	e->int_line = (uint8_t)host_read(d, dev, PCI_INTERRUPT_LINE, 1);
	if (!(host_read(d, dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = host_read(d, dev, PCI_CAPABILITY_LIST, 1);
	for (n = 0; n < 48 && pos >= 0x40 && pos < 0x100; n++) {
		pos &= ~3u;
		v = host_read(d, dev, pos, 2);
		if ((v & 0xff) == PCI_CAP_ID_MSI && !e->msi_pos) {
			e->msi_pos = (uint8_t)pos;
			e->msi_64 = host_read(d, dev, pos + PCI_MSI_FLAGS, 2) &
				    PCI_MSI_FLAGS_64BIT;
		} else if ((v & 0xff) == PCI_CAP_ID_MSIX && !e->msix_pos) {
			uint32_t ctl = host_read(d, dev, pos + PCI_MSIX_FLAGS, 2);
			uint32_t t = host_read(d, dev, pos + PCI_MSIX_TABLE, 4);

			e->msix_pos = (uint8_t)pos;
			e->msix_n = (uint16_t)((ctl & PCI_MSIX_FLAGS_QSIZE) + 1);
			if (e->msix_n > DM_MSIX_MAX)
				e->msix_n = DM_MSIX_MAX;
			e->msix_bir = (uint8_t)(t & PCI_MSIX_TABLE_BIR);
			e->msix_off = t & PCI_MSIX_TABLE_OFFSET;
		}
		pos = (v >> 8) & 0xff;
	}
	return 0;
}

static uint32_t gflags(const struct dm_vec *v, bool msix)
{
	uint32_t f = (v->addr_lo >> 12) & GFLAGS_DEST_ID;

	if (v->addr_lo & 0x8)
		f |= GFLAGS_RH;
	if (v->addr_lo & 0x4)
		f |= GFLAGS_DM;
	f |= ((v->data >> 8) & 7u) << GFLAGS_DELIV_SHIFT;
	if (v->data & 0x8000)
		f |= GFLAGS_TRIG;
	if (msix && !(v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
		f |= GFLAGS_UNMASKED;
	return f;
}

static uint64_t table_addr(const struct dm_emu *e)
{
	uint64_t base = e->bar[e->msix_bir] & e->bar_mask[e->msix_bir];

	if ((e->bar_flags[e->msix_bir] & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
	    e->msix_bir < 5)
		base |= (uint64_t)(e->bar[e->msix_bir + 1] &
				   e->bar_mask[e->msix_bir + 1]) << 32;
	return base ? base + e->msix_off : 0;
}

/* Map the vector's pirq (once) and bind it to the guest's vector; a
 * second call updates the binding in place, as Xen allows. */
static void vec_setup(struct dm *d, struct dm_dev *dev, struct dm_vec *v,
		      bool msix, unsigned int entry)
{
	struct hv_pt_irq b = {
		.domid = d->domid, .irq_type = HV_PT_IRQ_MSI,
		.gvec = (uint8_t)v->data, .gflags = gflags(v, msix),
		.gtable = msix ? table_addr(&dev->emu) : 0,
	};
	int r;

	if (v->pirq < 0) {
		r = hv_map_pirq(d->hv, d->domid, msix ? HV_IRQ_MSIX :
				HV_IRQ_MSI, dev->host_sbdf, entry, &v->pirq);
		if (r < 0) {
			v->pirq = -1;
			log_warn("domain %u: %s: mapping %s entry %u: %s",
				 d->domid, dev->id, msix ? "MSI-X" : "MSI",
				 entry, strerror(-r));
			return;
		}
	}
	b.machine_irq = (uint32_t)v->pirq;
	r = hv_bind_pt_irq(d->hv, &b);
	if (r < 0) {
		log_warn("domain %u: %s: binding pirq %d to vector %#x: %s",
			 d->domid, dev->id, v->pirq, b.gvec, strerror(-r));
		return;
	}
	if (!v->bound)
		log_info("domain %u: %s: %s entry %u: pirq %d bound to "
			 "vector %#x", d->domid, dev->id, msix ? "MSI-X" :
			 "MSI", entry, v->pirq, b.gvec);
	v->bound = true;
}

/* Xen's order: unbind_pt_irq, then unmap_pirq. */
static void vec_release(struct dm *d, struct dm_dev *dev, struct dm_vec *v)
{
	struct hv_pt_irq b = {
		.domid = d->domid, .irq_type = HV_PT_IRQ_MSI,
		.machine_irq = (uint32_t)v->pirq,
	};
	int r;

	if (v->bound && (r = hv_unbind_pt_irq(d->hv, &b)) < 0)
		log_warn("domain %u: %s: unbinding pirq %d: %s", d->domid,
			 dev->id, v->pirq, strerror(-r));
	if (v->pirq >= 0 && (r = hv_unmap_pirq(d->hv, d->domid, v->pirq)) < 0)
		log_warn("domain %u: %s: unmapping pirq %d: %s", d->domid,
			 dev->id, v->pirq, strerror(-r));
	else if (v->pirq >= 0)
		log_info("domain %u: %s: pirq %d unbound and unmapped",
			 d->domid, dev->id, v->pirq);
	v->bound = false;
	v->pirq = -1;
}

static bool msix_live(const struct dm_emu *e)
{
	return (e->msix_ctl & PCI_MSIX_FLAGS_ENABLE) &&
	       !(e->msix_ctl & PCI_MSIX_FLAGS_MASKALL);
}

/* The table follows the guest's BAR while it decodes memory. */
static void msix_remap(struct dm *d, struct dm_dev *dev)
{
	struct dm_emu *e = &dev->emu;
	uint64_t t = table_addr(e);

	if (!e->msix_pos)
		return;
	if (!(e->cmd & PCI_COMMAND_MEMORY) || !t ||
	    (e->bar[e->msix_bir] & e->bar_mask[e->msix_bir]) ==
	    e->bar_mask[e->msix_bir])	/* being sized */
		t = 0;
	ioreq_map_mmio(d, dev, t, t ? t + e->msix_n * 16ull - 1 : 0);
}

static void msix_update(struct dm *d, struct dm_dev *dev)
{
	struct dm_emu *e = &dev->emu;
	unsigned int i;

	for (i = 0; i < e->msix_n; i++) {
		struct dm_vec *v = &e->msix[i];

		if (!(e->msix_ctl & PCI_MSIX_FLAGS_ENABLE))
			vec_release(d, dev, v);
		else if (msix_live(e) &&
			 !(v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			vec_setup(d, dev, v, true, i);
	}
}

static void msi_update(struct dm *d, struct dm_dev *dev, uint16_t ctl)
{
	struct dm_emu *e = &dev->emu;
	bool was = e->msi_ctl & PCI_MSI_FLAGS_ENABLE;

	e->msi_ctl = ctl & (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	if ((ctl & PCI_MSI_FLAGS_ENABLE) && !was)
		vec_setup(d, dev, &e->msi, false, 0);
	else if (!(ctl & PCI_MSI_FLAGS_ENABLE) && was)
		vec_release(d, dev, &e->msi);
}

/* Is the dword at dw (aligned) one that xpt-dm emulates? */
static bool emulated(const struct dm_emu *e, uint32_t dw)
{
	if (dw >= PCI_BASE_ADDRESS_0 && dw <= PCI_BASE_ADDRESS_5)
		return true;
	if (dw == PCI_ROM_ADDRESS || dw == PCI_INTERRUPT_LINE ||
	    dw == PCI_COMMAND)
		return true;
	if (e->msi_pos && dw >= e->msi_pos &&
	    dw < e->msi_pos + (e->msi_64 ? 0x10u : 0xcu))
		return true;
	return e->msix_pos && dw == e->msix_pos;
}

static uint32_t dword_read(struct dm *d, struct dm_dev *dev, uint32_t dw)
{
	struct dm_emu *e = &dev->emu;
	uint32_t real = host_read(d, dev, dw, 4), ctl;

	if (dw >= PCI_BASE_ADDRESS_0 && dw <= PCI_BASE_ADDRESS_5) {
		unsigned int i = (dw - PCI_BASE_ADDRESS_0) / 4;

		return (e->bar[i] & e->bar_mask[i]) | e->bar_flags[i];
	}
	if (dw == PCI_ROM_ADDRESS)
		return 0;	/* no ROM is passed through */
	if (dw == PCI_INTERRUPT_LINE)
		return (real & ~0xffu) | e->int_line;
	if (e->msi_pos && dw == e->msi_pos) {
		ctl = (real >> 16) & ~(uint32_t)(PCI_MSI_FLAGS_ENABLE |
						 PCI_MSI_FLAGS_QSIZE);
		return (real & 0xffff) | (ctl | e->msi_ctl) << 16;
	}
	if (e->msi_pos && dw == e->msi_pos + 4u)
		return e->msi.addr_lo;
	if (e->msi_pos && dw == e->msi_pos + 8u)
		return e->msi_64 ? e->msi.addr_hi : e->msi.data;
	if (e->msi_pos && e->msi_64 && dw == e->msi_pos + 12u)
		return e->msi.data;
	if (e->msix_pos && dw == e->msix_pos) {
		ctl = (real >> 16) & PCI_MSIX_FLAGS_QSIZE;
		return (real & 0xffff) | (ctl | e->msix_ctl) << 16;
	}
	return real;	/* Command and Status read back from the device */
}

uint32_t emu_conf_read(struct dm *d, struct dm_dev *dev, uint32_t reg,
		       uint32_t size)
{
	uint32_t v = dword_read(d, dev, reg & ~3u) >> ((reg & 3) * 8);

	return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

void emu_conf_write(struct dm *d, struct dm_dev *dev, uint32_t reg,
		    uint32_t size, uint32_t val)
{
	struct dm_emu *e = &dev->emu;
	uint32_t dw = reg & ~3u, shift = (reg & 3) * 8, mask, nv, old;

	if (size != 1 && size != 2 && size != 4)
		return;
	if (!emulated(e, dw)) {
		if (dev->permissive)
			host_write(d, dev, reg, size, val);
		else
			log_debug("domain %u: %s: write to %#x inhibited (not "
				  "permissive)", d->domid, dev->id, reg);
		return;
	}
	mask = (size == 4 ? ~0u : (1u << (size * 8)) - 1) << shift;
	old = dword_read(d, dev, dw);
	nv = (old & ~mask) | ((val << shift) & mask);
	if (dw == PCI_COMMAND) {
		if (mask & 0xffff) {
			uint32_t real = host_read(d, dev, PCI_COMMAND, 2);

			e->cmd = (uint16_t)nv;
			host_write(d, dev, PCI_COMMAND, 2,
				   (real & ~(uint32_t)CMD_PASS) |
				   (nv & CMD_PASS));
			msix_remap(d, dev);
		}
		return;		/* Status: nothing the guest may clear */
	}
	if (dw >= PCI_BASE_ADDRESS_0 && dw <= PCI_BASE_ADDRESS_5) {
		e->bar[(dw - PCI_BASE_ADDRESS_0) / 4] = nv;
		msix_remap(d, dev);
		return;
	}
	if (dw == PCI_INTERRUPT_LINE) {
		e->int_line = (uint8_t)nv;
		return;
	}
	if (dw == PCI_ROM_ADDRESS)
		return;		/* no ROM */
	if (e->msix_pos && dw == e->msix_pos) {
		e->msix_ctl = (uint16_t)(nv >> 16) & (PCI_MSIX_FLAGS_ENABLE |
						      PCI_MSIX_FLAGS_MASKALL);
		msix_update(d, dev);
		return;
	}
	if (e->msi_pos && dw == e->msi_pos) {
		msi_update(d, dev, (uint16_t)(nv >> 16));
		return;
	}
	if (e->msi_pos && dw == e->msi_pos + 4u)
		e->msi.addr_lo = nv & ~3u;
	else if (e->msi_pos && e->msi_64 && dw == e->msi_pos + 8u)
		e->msi.addr_hi = nv;
	else if (e->msi_pos)
		e->msi.data = nv & 0xffff;
	if (e->msi.bound)	/* a live vector moved: rebind in place */
		vec_setup(d, dev, &e->msi, false, 0);
}

static uint32_t *entry_field(struct dm_emu *e, uint64_t off)
{
	struct dm_vec *v = &e->msix[off / 16];

	switch (off % 16) {
	case PCI_MSIX_ENTRY_LOWER_ADDR: return &v->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR: return &v->addr_hi;
	case PCI_MSIX_ENTRY_DATA: return &v->data;
	default: return &v->ctrl;
	}
}

uint64_t emu_mmio_read(struct dm *d, struct dm_dev *dev, uint64_t addr,
		       uint32_t size)
{
	struct dm_emu *e = &dev->emu;
	uint64_t off = addr - e->mmio_start;

	(void)d;
	if (size == 8 && off % 8 == 0)
		return *entry_field(e, off) |
		       (uint64_t)*entry_field(e, off + 4) << 32;
	if (size != 4 || off % 4)
		return ~0ull;	/* the table takes aligned dwords, qwords */
	return *entry_field(e, off);
}

static void entry_write(struct dm *d, struct dm_dev *dev, uint64_t off,
			uint32_t val)
{
	struct dm_emu *e = &dev->emu;
	unsigned int i = (unsigned int)(off / 16);
	struct dm_vec *v = &e->msix[i];

	if (off % 16 == PCI_MSIX_ENTRY_VECTOR_CTRL)
		val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	*entry_field(e, off) = val;
	if (v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT)
		return;		/* masked: the binding waits for the unmask */
	if (msix_live(e) || v->bound)
		vec_setup(d, dev, v, true, i);
}

void emu_mmio_write(struct dm *d, struct dm_dev *dev, uint64_t addr,
		    uint32_t size, uint64_t val)
{
	uint64_t off = addr - dev->emu.mmio_start;

	if (size == 8 && off % 8 == 0) {
		entry_write(d, dev, off, (uint32_t)val);
		entry_write(d, dev, off + 4, (uint32_t)(val >> 32));
	} else if (size == 4 && off % 4 == 0) {
		entry_write(d, dev, off, (uint32_t)val);
	}
}

static struct hv_pt_irq intx_binding(struct dm *d, struct dm_dev *dev,
				     uint32_t pin)
{
	return (struct hv_pt_irq){
		.domid = d->domid, .irq_type = HV_PT_IRQ_PCI,
		.machine_irq = (uint32_t)dev->emu.intx_pirq, .bus = 0,
		.device = (uint8_t)dev->slot, .intx = (uint8_t)(pin - 1),
	};
}

void emu_bind_intx(struct dm *d, struct dm_dev *dev)
{
	uint32_t pin = host_read(d, dev, PCI_INTERRUPT_PIN, 1);
	struct hv_pt_irq b;
	int r, pirq;

	if (pin < 1 || pin > 4)
		return;
	r = hv_map_pirq(d->hv, d->domid, HV_IRQ_INTX, dev->host_sbdf, 0,
			&pirq);
	if (r < 0) {
		log_warn("domain %u: %s: mapping INTx: %s (no INTx)", d->domid,
			 dev->id, strerror(-r));
		return;
	}
	dev->emu.intx_pirq = pirq;
	b = intx_binding(d, dev, pin);
	r = hv_bind_pt_irq(d->hv, &b);
	if (r < 0) {
		log_warn("domain %u: %s: binding pirq %d to INT%c: %s (no "
			 "INTx)", d->domid, dev->id, pirq, 'A' + b.intx,
			 strerror(-r));
		dev->emu.intx_pirq = -1;
		return;
	}
	log_info("domain %u: %s: pirq %d bound to 00:%02x INT%c", d->domid,
		 dev->id, pirq, dev->slot, 'A' + b.intx);
}

/* Another device of this guest on the same GSI keeps the pirq. */
static bool intx_shared(const struct dm *d, const struct dm_dev *dev)
{
	size_t i;

	for (i = 0; i < d->ndev; i++)
		if (&d->dev[i] != dev &&
		    d->dev[i].emu.intx_pirq == dev->emu.intx_pirq)
			return true;
	return false;
}

void emu_release(struct dm *d, struct dm_dev *dev)
{
	struct dm_emu *e = &dev->emu;
	struct hv_pt_irq b;
	unsigned int i;
	int r;

	for (i = 0; i < e->msix_n; i++)
		vec_release(d, dev, &e->msix[i]);
	vec_release(d, dev, &e->msi);
	if (e->intx_pirq < 0 || intx_shared(d, dev)) {
		e->intx_pirq = -1;	/* the other device keeps the line */
		return;
	}
	b = intx_binding(d, dev, host_read(d, dev, PCI_INTERRUPT_PIN, 1));
	r = hv_unbind_pt_irq(d->hv, &b);
	if (r < 0)
		log_warn("domain %u: %s: unbinding INTx pirq %d: %s", d->domid,
			 dev->id, e->intx_pirq, strerror(-r));
	if ((r = hv_unmap_pirq(d->hv, d->domid, e->intx_pirq)) < 0)
		log_debug("domain %u: %s: unmapping INTx pirq %d: %s",
			  d->domid, dev->id, e->intx_pirq, strerror(-r));
	e->intx_pirq = -1;
}
