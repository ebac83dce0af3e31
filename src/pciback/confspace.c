// SPDX-License-Identifier: MIT
/*
 * Config-space virtualisation for guests (docs/protocol.md §5.5).
 *
 * A device has a table of virtual fields built at seize time from its
 * header and capability list.  A read takes the real register and lets
 * every overlapping field override its bytes.  A write goes to the write
 * handler of every overlapping field (with the field's current value merged
 * with the written bytes); a write that touches no field reaches the
 * hardware only when the device is permissive, and is dropped otherwise.
 *
 * Example: the guest sizes BAR0 (32-bit memory, 16 KiB at 0xfe000000):
 *   write 0x10 = 0xffffffff   -> BAR field enters sizing, no hardware write
 *   read  0x10                -> 0xffffc000 (size mask | dom0's flag bits)
 *   write 0x10 = 0xfe000000   -> the original value: sizing ends
 *   read  0x10                -> 0xfe000000
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pciback.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
/* The bits a permissive guest may set in hardware (XSA-120). */
#define PCI_COMMAND_GUEST (0x4 | 0x8 | 0x10 | 0x20 | 0x80 | 0x200)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE 0x0e
#define PCI_BIST_START 0x40
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_ROM_ADDRESS_ENABLE 0x1

int pciback_hw_read(struct pciback *pb, struct pb_dev *dev, unsigned int off,
		    unsigned int size, uint32_t *ret_value)
{
	return hv_pci_conf_read(pb->hv, dev->sbdf, off, size, ret_value);
}

int pciback_hw_write(struct pciback *pb, struct pb_dev *dev,
		     unsigned int off, unsigned int size, uint32_t value)
{
	int r = hv_pci_conf_write(pb->hv, dev->sbdf, off, size, value);

	if (r < 0)
		log_debug("conf write %x/%u on %x: %d", off, size, dev->sbdf, r);
	return r;
}

static void add_field(struct pb_dev *dev, unsigned int off, unsigned int size,
		      enum pb_field_kind kind, unsigned int idx)
{
	if (dev->nfields == PB_MAX_FIELDS)
		return;
	dev->fields[dev->nfields++] = (struct pb_field){
		.off = off, .size = size, .kind = kind, .idx = idx };
}

void pciback_conf_init(struct pciback *pb, struct pb_dev *dev)
{
	uint32_t htype = 0, status = 0, pos = 0, id;
	unsigned int nbars, guard = 0;

	pciback_hw_read(pb, dev, PCI_HEADER_TYPE, 1, &htype);
	nbars = (htype & 0x7f) == 1 ? 2 : 6;
	dev->nfields = 0;
	add_field(dev, 0x00, 4, PB_F_ID, 0);
	add_field(dev, PCI_COMMAND, 2, PB_F_COMMAND, 0);
	add_field(dev, 0x0c, 1, PB_F_RW, 0);
	add_field(dev, 0x0d, 1, PB_F_RO, 0);
	add_field(dev, 0x0f, 1, PB_F_BIST, 0);
	for (unsigned int i = 0; i < nbars; i++)
		add_field(dev, 0x10 + 4 * i, 4, PB_F_BAR, i);
	add_field(dev, nbars == 2 ? 0x38 : 0x30, 4, PB_F_ROM, 6);
	add_field(dev, 0x3c, 1, PB_F_INTLINE, 0);
	add_field(dev, 0x3d, 1, PB_F_RO, 0);

	pciback_hw_read(pb, dev, PCI_STATUS, 2, &status);
	if (!(status & PCI_STATUS_CAP_LIST))
		return;
	pciback_hw_read(pb, dev, PCI_CAPABILITY_LIST, 1, &pos);
	while ((pos &= ~3u) >= 0x40 && guard++ < 48) {
		if (pciback_hw_read(pb, dev, pos, 1, &id) < 0)
			break;
		add_field(dev, pos, 2, PB_F_RO, 0);	/* ID and next */
		if (id == PCI_CAP_ID_MSI && !dev->msi_cap) {
			dev->msi_cap = pos;
			add_field(dev, pos + 2, 2, PB_F_MSI_FLAGS, 0);
		} else if (id == PCI_CAP_ID_MSIX && !dev->msix_cap) {
			dev->msix_cap = pos;
			add_field(dev, pos + 2, 2, PB_F_MSIX_FLAGS, 0);
		}
		if (pciback_hw_read(pb, dev, pos + 1, 1, &pos) < 0)
			break;
	}
}

/* Fresh virtual state for a new guest: dom0's BAR values and sizes. */
void pciback_conf_export(struct pciback *pb, struct pb_dev *dev)
{
	uint32_t cmd = 0;

	memset(dev->bar, 0, sizeof(dev->bar));
	for (unsigned int f = 0; f < dev->nfields; f++) {
		struct pb_field *fl = &dev->fields[f];
		struct pb_bar *b;
		const struct hv_pci_bar *hb;
		uint64_t mask;

		if (fl->kind == PB_F_ROM) {
			/* The model knows no ROM sizes: sizing reads 0. */
			pciback_hw_read(pb, dev, fl->off, 4, &dev->bar[6].val);
			continue;
		}
		if (fl->kind != PB_F_BAR)
			continue;
		b = &dev->bar[fl->idx];
		hb = &dev->info.bar[fl->idx];
		pciback_hw_read(pb, dev, fl->off, 4, &b->val);
		if (!hb->size)
			continue;	/* unused, or an upper half (below) */
		mask = ~(hb->size - 1);
		if (hb->flags & HV_BAR_IO) {
			b->sizing_val = ((uint32_t)mask & ~0x3u) |
					(b->val & 0x3);
		} else {
			b->sizing_val = ((uint32_t)mask & ~0xfu) |
					(b->val & 0xf);
			if ((hb->flags & HV_BAR_64) && fl->idx < 5)
				dev->bar[fl->idx + 1].sizing_val =
					(uint32_t)(mask >> 32);
		}
	}
	pciback_hw_read(pb, dev, PCI_COMMAND, 2, &cmd);
	dev->vcmd = cmd;
	dev->enabled = cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

static int field_read(struct pciback *pb, struct pb_dev *dev,
		      const struct pb_field *f, uint32_t *ret)
{
	uint32_t v = 0;
	int r;

	switch (f->kind) {
	case PB_F_ID:
		*ret = dev->info.vendor | (uint32_t)dev->info.device << 16;
		return 0;
	case PB_F_BAR:
	case PB_F_ROM: {
		const struct pb_bar *b = &dev->bar[f->kind == PB_F_ROM ? 6 :
						   f->idx];

		*ret = b->sizing ? b->sizing_val : b->val;
		return 0;
	}
	case PB_F_INTLINE:
		*ret = dev->info.intx_pin ? dev->info.gsi & 0xff : 0;
		return 0;
	case PB_F_COMMAND:
		r = pciback_hw_read(pb, dev, f->off, 2, &v);
		if (r < 0)
			return r;
		*ret = (v & PCI_COMMAND_GUEST) |
		       (dev->vcmd & ~PCI_COMMAND_GUEST & 0xffff);
		return 0;
	default:
		return pciback_hw_read(pb, dev, f->off, f->size, ret);
	}
}

static int command_write(struct pciback *pb, struct pb_dev *dev,
			 uint32_t value)
{
	uint32_t hw, old, want = 0;
	int r;

	r = pciback_hw_read(pb, dev, PCI_COMMAND, 2, &hw);
	if (r < 0)
		return r;
	old = hw;
	for (int i = 0; i < 6; i++)
		if (dev->info.bar[i].size)
			want |= (dev->info.bar[i].flags & HV_BAR_IO) ?
				PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	/* Decode enable goes through "pci_enable_device" in dom0. */
	if ((value & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) && !dev->enabled) {
		hw |= want;
		dev->enabled = true;
	} else if (!(value & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) &&
		   dev->enabled) {
		hw &= ~(uint32_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
		dev->enabled = false;
	}
	hw = (hw & ~(uint32_t)PCI_COMMAND_MASTER) | (value & PCI_COMMAND_MASTER);
	if (dev->permissive)
		hw = (hw & ~(uint32_t)PCI_COMMAND_GUEST) |
		     (value & PCI_COMMAND_GUEST);
	dev->vcmd = value & 0xffff;
	if (hw != old)
		return pciback_hw_write(pb, dev, PCI_COMMAND, 2, hw);
	return 0;
}

static int bar_write(struct pb_bar *b, uint32_t value, bool rom)
{
	if (value == 0xffffffffu ||
	    (rom && value == (uint32_t)~PCI_ROM_ADDRESS_ENABLE))
		b->sizing = true;
	else if (value == b->val)
		b->sizing = false;
	/* anything else: ignored, dom0 owns the address */
	return 0;
}

/* 0, a negative errno from the hypervisor, or 1 if the write is refused. */
static int field_write(struct pciback *pb, struct pb_dev *dev,
		       const struct pb_field *f, uint32_t value, uint32_t cur)
{
	switch (f->kind) {
	case PB_F_COMMAND:
		return command_write(pb, dev, value);
	case PB_F_RW:
		return pciback_hw_write(pb, dev, f->off, f->size, value);
	case PB_F_BIST:
		if (((value ^ cur) & ~(uint32_t)PCI_BIST_START) == 0)
			return pciback_hw_write(pb, dev, f->off, 1, value);
		return 0;
	case PB_F_BAR:
		return bar_write(&dev->bar[f->idx], value, false);
	case PB_F_ROM:
		return bar_write(&dev->bar[6], value, true);
	case PB_F_MSI_FLAGS:
	case PB_F_MSIX_FLAGS:
		/* The guest enables MSI/MSI-X through pci_op. */
		if (dev->permissive)
			return pciback_hw_write(pb, dev, f->off, 2, value);
		if (value == cur)
			return 0;
		return 1;	/* refused */
	default:
		return 0;	/* read-only */
	}
}

static int check_access(int offset, int size)
{
	if ((size != 1 && size != 2 && size != 4) || offset < 0 ||
	    offset >= 4096 || offset % size)
		return XEN_PCI_ERR_invalid_offset;
	return 0;
}

static bool overlaps(const struct pb_field *f, int offset, int size)
{
	return offset < f->off + f->size && f->off < offset + size;
}

/* Bytes of `src` (a register at src_off) copied into `dst` (at dst_off)
 * where the two ranges overlap. */
static uint32_t merge(uint32_t dst, int dst_off, int dst_size, uint32_t src,
		      int src_off, int src_size)
{
	int lo = dst_off > src_off ? dst_off : src_off;
	int hi = dst_off + dst_size < src_off + src_size ?
		 dst_off + dst_size : src_off + src_size;

	for (int b = lo; b < hi; b++) {
		uint32_t byte = (src >> (8 * (b - src_off))) & 0xff;
		int sh = 8 * (b - dst_off);

		dst = (dst & ~(0xffu << sh)) | byte << sh;
	}
	return dst;
}

/* Returns 0 or a XEN_PCI_ERR_* code. */
int pciback_conf_read(struct pciback *pb, struct pb_dev *dev, int offset,
		      int size, uint32_t *ret_value)
{
	uint32_t v, fv;
	int r = check_access(offset, size);

	if (r)
		return r;
	if (pciback_hw_read(pb, dev, offset, size, &v) < 0)
		return XEN_PCI_ERR_op_failed;
	for (unsigned int i = 0; i < dev->nfields; i++) {
		const struct pb_field *f = &dev->fields[i];

		if (!overlaps(f, offset, size))
			continue;
		if (field_read(pb, dev, f, &fv) < 0)
			return XEN_PCI_ERR_op_failed;
		v = merge(v, offset, size, fv, f->off, f->size);
	}
	*ret_value = v;
	return 0;
}

int pciback_conf_write(struct pciback *pb, struct pb_dev *dev, int offset,
		       int size, uint32_t value)
{
	bool handled = false;
	uint32_t cur;
	char bdf[16];
	int r = check_access(offset, size);

	if (r)
		return r;
	if (size < 4)
		value &= (1u << (8 * size)) - 1;
	for (unsigned int i = 0; i < dev->nfields; i++) {
		const struct pb_field *f = &dev->fields[i];

		if (!overlaps(f, offset, size))
			continue;
		if (field_read(pb, dev, f, &cur) < 0)
			return XEN_PCI_ERR_op_failed;
		r = field_write(pb, dev, f,
				merge(cur, f->off, f->size, value, offset, size),
				cur);
		if (r > 0)
			return XEN_PCI_ERR_access_denied;
		if (r < 0)
			return XEN_PCI_ERR_op_failed;
		handled = true;
	}
	if (handled)
		return 0;
	if (dev->permissive) {
		if (pciback_hw_write(pb, dev, offset, size, value) < 0)
			return XEN_PCI_ERR_op_failed;
		return 0;
	}
	if (!dev->warned_write) {
		pciback_format_bdf(dev->sbdf, bdf, sizeof(bdf));
		log_warn("%s: domain %u tried to write to a read-only config "
			 "space field at %#x (size %d); dropped (see the "
			 "`permissive` control command)", bdf,
			 dev->be ? dev->be->domid : 0, offset, size);
		dev->warned_write = true;
	}
	return 0;
}
