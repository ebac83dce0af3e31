// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-pciback's pci_op service (src/pciback/op.c,
 * confspace.c): the input is what a hostile pcifront writes into the
 * shared page it granted, a request at a time, against the daemon's own
 * code and the fake hypervisor of the unit tests (tests/unit/fakehv.c).
 *
 * Input: one byte of set-up (bit 0: device A permissive, bit 1: device B
 * permissive, bit 2: the historic profile, bit 3: the passthrough
 * topology), then records [u8 n][n bytes], each written over the start of
 * the page (its flags, then struct xen_pci_op) before the frontend's event
 * channel fires.  Domain 7 has host 03:00.0 (A: MSI, 16 MSI-X entries, a
 * 64-bit memory BAR and an I/O BAR) and 03:00.1 (B: MSI only, no reset
 * method); domain 8 has 04:00.0 (C).
 *
 * Besides no crash, UB or leak, after every request:
 *  - a request without _XEN_PCIF_active changes nothing and is not
 *    answered; one with it is answered exactly once: the flag cleared, the
 *    frontend notified, err a XEN_PCI_ERR_* (a negative errno for the MSI
 *    ops) matching the request, the request's own fields left alone;
 *  - a refused request (err != 0) changes nothing: no config-space byte of
 *    any device, no pciback device state, no PIRQ, not the page's vectors;
 *  - an accepted one changes only what the config-space filter lets the
 *    guest change: cache line size, BIST start, the command register's
 *    decode and bus-master bits (decode only for the BAR types the device
 *    has) and, when permissive, the XSA-120 command bits and fields no
 *    virtual field covers; never IDs, BARs, the ROM, the interrupt line or
 *    capability headers; MSI / MSI-X enable bits only through the MSI
 *    ops; domain 8's device never;
 *  - the PIRQs mapped are exactly those pciback holds for domain 7, and a
 *    device's MSI and MSI-X enable bits (not permissive) say whether it
 *    holds them; MSI-X vectors answered are those PIRQs, for the entries
 *    asked.
 * At the end the guest lets go of its devices (pciback_put): no PIRQ is
 * left, and a device that was not permissive is back to its config space
 * at export, but for BIST's start bit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakehv.h"
#include "log.h"
#include "pciback.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-pciop: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

/* The checks' own loops are not what is being fuzzed: no coverage
 * feedback (and its cost) for them. */
#define CHECKER __attribute__((no_sanitize("coverage")))

#define SBDF_A HV_SBDF(0, 3, 0, 0)
#define SBDF_B HV_SBDF(0, 3, 0, 1)
#define SBDF_C HV_SBDF(0, 4, 0, 0)
#define GUEST 7
#define OTHER 8

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_GUEST (0x4 | 0x8 | 0x10 | 0x20 | 0x80 | 0x200)

struct fuzz {
	struct pciback pb;
	struct pb_backend be, other;
	struct xen_pci_sharedinfo *sh;
	struct pb_dev *dev[3];		/* A, B, C */
	struct fakehv_dev *hw[3];
	uint32_t want[3];		/* decode bits the device's BARs need */
	int bound;			/* fakehv.bound[] of the guest's port */
};

static void add(struct fuzz *f, int i, uint32_t sbdf, bool msi,
		unsigned int msix, uint8_t reset, struct pb_backend *be)
{
	char msg[200];

	f->hw[i] = fakehv_add(sbdf, 0x8086, 0x10d3 + i, 0x020000, msi, msix,
			      reset);
	fakehv_set_bar(f->hw[i], 0, 0xfe000000 + 0x100000 * i, 0x4000,
		       i == 0 ? HV_BAR_64 : 0);
	if (i == 0)
		fakehv_set_bar(f->hw[i], 2, 0xe000, 0x100, HV_BAR_IO);
	f->want[i] = PCI_COMMAND_MEMORY | (i == 0 ? PCI_COMMAND_IO : 0);
	CHECK(pciback_seize(&f->pb, sbdf, msg, sizeof(msg)) == 0);
	f->dev[i] = pciback_dev_find(&f->pb, sbdf);
	CHECK(pciback_export(&f->pb, be, f->dev[i], msg, sizeof(msg)) == 0);
}

/* The device domain 7 names by (domain, bus, devfn), found without
 * pciback's lookup. */
CHECKER static int target(const struct fuzz *f, const struct xen_pci_op *op)
{
	uint32_t bus = f->pb.passthrough_topology ? 3 : 0;

	if (op->domain != 0 || op->bus != bus)
		return -1;
	if (op->devfn == 0)
		return 0;
	if (op->devfn == 1)
		return 1;
	return -1;
}

CHECKER static bool bad_access(const struct xen_pci_op *op)
{
	return (op->size != 1 && op->size != 2 && op->size != 4) ||
	       op->offset < 0 || op->offset >= 4096 ||
	       op->offset % op->size;
}

/* The bits of config byte `off` the guest's request may change. */
CHECKER static uint8_t may_change(const struct fuzz *f, int i, uint32_t cmd,
			  unsigned int off)
{
	const struct pb_dev *d = f->dev[i];

	switch (cmd) {
	case XEN_PCI_OP_conf_write:
		break;
	case XEN_PCI_OP_enable_msi:
	case XEN_PCI_OP_disable_msi:
		return d->msi_cap && off == d->msi_cap + 2u ? 0x01 : 0;
	case XEN_PCI_OP_enable_msix:
	case XEN_PCI_OP_disable_msix:
		return d->msix_cap && off == d->msix_cap + 3u ? 0xc0 : 0;
	default:
		return 0;
	}
	if (off == 0x04)
		return (uint8_t)(f->want[i] | PCI_COMMAND_MASTER |
				 (d->permissive ? PCI_COMMAND_GUEST : 0));
	if (off == 0x05)
		return d->permissive ? PCI_COMMAND_GUEST >> 8 : 0;
	if (off == 0x0c)
		return 0xff;
	if (off == 0x0f)
		return 0x40;
	if (!d->permissive)
		return 0;
	/* IDs, latency timer, BARs, ROM, interrupt line and pin */
	if (off < 0x04 || off == 0x0d || (off >= 0x10 && off < 0x28) ||
	    (off >= 0x30 && off < 0x34) || off == 0x3c || off == 0x3d)
		return 0;
	for (unsigned int k = 0; k < d->nfields; k++) {
		const struct pb_field *fl = &d->fields[k];

		if (off < fl->off || off >= fl->off + fl->size)
			continue;
		if (fl->kind == PB_F_RO)
			return 0;	/* capability headers */
	}
	return 0xff;
}

CHECKER static uint16_t cfg16(const uint8_t *cfg, unsigned int off)
{
	return (uint16_t)(cfg[off] | cfg[off + 1] << 8);
}

/* PIRQs: exactly those pciback holds for the guest. */
CHECKER static void check_pirqs(const struct fuzz *f)
{
	unsigned int held = 0, used = 0;

	for (int i = 0; i < 2; i++) {
		const struct pb_dev *d = f->dev[i];

		held += d->msi_on + d->msix_nvec;
		if (!d->permissive) {
			CHECK(!!(cfg16(f->hw[i]->cfg, d->msi_cap + 2) & 1) ==
			      d->msi_on);
			if (d->msix_cap)
				CHECK(!!(cfg16(f->hw[i]->cfg, d->msix_cap +
					       2) & 0x8000) ==
				      (d->msix_nvec > 0));
		}
	}
	CHECK(f->dev[2]->msix_nvec == 0 && !f->dev[2]->msi_on);
	for (int k = 0; k < fakehv.npirqs; k++) {
		const struct fakehv_pirq *p = &fakehv.pirqs[k];
		const struct pb_dev *d;
		bool found = false;

		if (!p->used)
			continue;
		used++;
		CHECK(p->domid == GUEST);
		CHECK(p->sbdf == SBDF_A || p->sbdf == SBDF_B);
		d = f->dev[p->sbdf == SBDF_A ? 0 : 1];
		if (p->type == HV_IRQ_MSI)
			found = d->msi_on && d->msi_pirq == p->pirq;
		for (unsigned int v = 0; v < d->msix_nvec; v++)
			found |= p->type == HV_IRQ_MSIX &&
				 d->msix_pirq[v] == p->pirq;
		CHECK(found);
	}
	CHECK(used == held);
}

/*
 * The config spaces and PIRQ table as they were before the request.
 * Copying and comparing 3 x 4 KiB and 12 KB per request was most of the
 * target's time, and most requests change neither: a copy is kept while
 * the fake hypervisor's counts of writes to it (the only way pciback can
 * change either) stay the same, and an unchanged count after the request
 * means nothing changed; otherwise every byte is compared as before.
 */
static struct {
	bool valid;		/* cleared per input */
	uint8_t cfg[3][4096];
	unsigned int cfg_writes[3];
	struct fakehv_pirq pirqs[FAKEHV_MAX_PIRQS];
	int npirqs;
	unsigned int pirq_changes;
} snap;

CHECKER static void snap_take(const struct fuzz *f)
{
	for (int i = 0; i < 3; i++) {
		if (snap.valid && snap.cfg_writes[i] == f->hw[i]->cfg_writes)
			continue;
		memcpy(snap.cfg[i], f->hw[i]->cfg, sizeof(snap.cfg[i]));
		snap.cfg_writes[i] = f->hw[i]->cfg_writes;
	}
	if (!snap.valid || snap.pirq_changes != fakehv.pirq_changes) {
		memcpy(snap.pirqs, fakehv.pirqs, sizeof(snap.pirqs));
		snap.npirqs = fakehv.npirqs;
		snap.pirq_changes = fakehv.pirq_changes;
	}
	snap.valid = true;
}

/* Device i's config space as it was before the request? */
CHECKER static bool cfg_same(const struct fuzz *f, int i)
{
	return snap.cfg_writes[i] == f->hw[i]->cfg_writes ||
	       !memcmp(snap.cfg[i], f->hw[i]->cfg, sizeof(snap.cfg[i]));
}

CHECKER static bool pirqs_same(void)
{
	int n = snap.npirqs > fakehv.npirqs ? snap.npirqs : fakehv.npirqs;

	return snap.pirq_changes == fakehv.pirq_changes ||
	       !memcmp(snap.pirqs, fakehv.pirqs, sizeof(snap.pirqs[0]) * n);
}

CHECKER static void one_op(struct fuzz *f)
{
	static struct xen_pci_sharedinfo pre;
	static struct pb_dev dev[3];
	const uint8_t (*cfg)[4096] = snap.cfg;
	const struct xen_pci_op *op = &f->sh->op;
	int sent = fakehv.bound[f->bound].sent, t, i;
	bool active;

	memcpy(&pre, f->sh, sizeof(pre));
	for (i = 0; i < 3; i++)
		memcpy(&dev[i], f->dev[i], sizeof(dev[i]));
	snap_take(f);
	active = pre.flags & XEN_PCIF_active;

	pciback_op_service(&f->pb, &f->be);

	if (!active) {
		CHECK(!memcmp(&pre, f->sh, sizeof(pre)));
		CHECK(fakehv.bound[f->bound].sent == sent);
		for (i = 0; i < 3; i++)
			CHECK(cfg_same(f, i));
		return;
	}
	/* answered once, the request left as it was */
	CHECK(f->sh->flags == (pre.flags & ~(uint32_t)XEN_PCIF_active));
	CHECK(fakehv.bound[f->bound].sent == sent + 1);
	CHECK(op->cmd == pre.op.cmd && op->domain == pre.op.domain &&
	      op->bus == pre.op.bus && op->devfn == pre.op.devfn &&
	      op->offset == pre.op.offset && op->size == pre.op.size &&
	      op->info == pre.op.info);
	CHECK(!memcmp(&f->sh->aer_op, &pre.aer_op, sizeof(pre.aer_op)));
	if (op->cmd != XEN_PCI_OP_enable_msix || op->err)
		CHECK(!memcmp(op->msix_entries, pre.op.msix_entries,
			      sizeof(pre.op.msix_entries)));

	t = target(f, &pre.op);
	if (t < 0) {
		CHECK(op->err == XEN_PCI_ERR_dev_not_found);
	} else {
		switch (pre.op.cmd) {
		case XEN_PCI_OP_conf_read:
		case XEN_PCI_OP_conf_write:
			if (bad_access(&pre.op))
				CHECK(op->err == XEN_PCI_ERR_invalid_offset);
			else
				CHECK(op->err == 0 ||
				      op->err == XEN_PCI_ERR_op_failed ||
				      (pre.op.cmd == XEN_PCI_OP_conf_write &&
				       op->err ==
				       XEN_PCI_ERR_access_denied));
			break;
		case XEN_PCI_OP_enable_msi:
		case XEN_PCI_OP_enable_msix:
			CHECK(op->err <= 0 && op->err >= -4095);
			break;
		case XEN_PCI_OP_disable_msi:
		case XEN_PCI_OP_disable_msix:
			CHECK(op->err == 0);
			break;
		default:
			CHECK(op->err == XEN_PCI_ERR_not_implemented);
		}
	}
	if (op->err == 0 && pre.op.cmd == XEN_PCI_OP_conf_read &&
	    pre.op.size < 4)
		CHECK(op->value < 1u << (8 * pre.op.size));
	if (op->err == 0 && pre.op.cmd == XEN_PCI_OP_conf_read &&
	    pre.op.offset == 0 && pre.op.size == 4)
		CHECK(op->value == (f->hw[t]->info.vendor |
				    (uint32_t)f->hw[t]->info.device << 16));

	/* domain 8's device: never touched */
	CHECK(cfg_same(f, 2));
	CHECK(!memcmp(&dev[2], f->dev[2], sizeof(dev[2])));
	if (op->err) {
		/* refused: nothing changed */
		for (i = 0; i < 2; i++) {
			CHECK(cfg_same(f, i));
			CHECK(!memcmp(&dev[i], f->dev[i], sizeof(dev[i])));
		}
		CHECK(pirqs_same());
	} else {
		/* accepted: only what the filter allows, on its device */
		for (i = 0; i < 2; i++) {
			if (cfg_same(f, i))
				continue;
			for (unsigned int off = 0; off < 4096; off++) {
				uint8_t diff = cfg[i][off] ^ f->hw[i]->cfg[off];

				if (!diff)
					continue;
				CHECK(i == t);
				CHECK(!(diff & ~may_change(f, i, pre.op.cmd,
							   off)));
			}
		}
		if (t >= 0 && pre.op.cmd == XEN_PCI_OP_conf_write) {
			uint8_t on = f->hw[t]->cfg[4] & ~cfg[t][4];

			CHECK(!(on & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY) &
				~f->want[t]));
		}
	}
	if (op->err == 0 && pre.op.cmd == XEN_PCI_OP_enable_msix) {
		const struct pb_dev *d = f->dev[t];

		CHECK(d->msix_nvec == pre.op.value);
		for (unsigned int v = 0; v < d->msix_nvec; v++) {
			CHECK(op->msix_entries[v].vector == d->msix_pirq[v]);
			CHECK(op->msix_entries[v].entry ==
			      pre.op.msix_entries[v].entry);
			CHECK(pre.op.msix_entries[v].entry <
			      f->hw[t]->info.msix_entries);
		}
		for (unsigned int v = d->msix_nvec; v < SH_INFO_MAX_VEC; v++)
			CHECK(!memcmp(&op->msix_entries[v],
				      &pre.op.msix_entries[v],
				      sizeof(op->msix_entries[v])));
	}
	check_pirqs(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
CHECKER int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz f;
	static uint8_t at_export[2][4096];
	/* the frontend's page, one for every input (a fresh aligned
	 * allocation per input cost more than short inputs' requests) */
	static struct xen_pci_sharedinfo *sh;
	unsigned int port = 0;
	int evfd = -1;

	if (size < 1 || size > 64 * 1024)
		return 0;
	log_level = -1;
	fakehv_reset();
	snap.valid = false;
	memset(&f, 0, sizeof(f));
	f.pb.epfd = f.pb.ctlfd = -1;
	f.pb.profile = data[0] & 4 ? PB_HISTORIC : 0;
	f.pb.passthrough_topology = data[0] & 8;
	f.be.domid = GUEST;
	f.other.domid = OTHER;
	add(&f, 0, SBDF_A, true, 16, 1, &f.be);
	add(&f, 1, SBDF_B, true, 0, 0, &f.be);
	add(&f, 2, SBDF_C, true, 8, 1, &f.other);
	f.dev[0]->permissive = data[0] & 1;
	f.dev[1]->permissive = data[0] & 2;
	memcpy(at_export[0], f.hw[0]->cfg, 4096);
	memcpy(at_export[1], f.hw[1]->cfg, 4096);

	/* the frontend's page and event channel, connected */
	if (!sh)
		CHECK(sh = aligned_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE));
	f.sh = sh;
	memset(f.sh, 0, HV_PAGE_SIZE);
	f.be.sh = f.sh;
	fakehv_unbound_port(GUEST, 5);
	CHECK(hv_evtchn_bind_interdomain(NULL, GUEST, 5, &port) == 0);
	CHECK(hv_evtchn_fd(NULL, port, &evfd) == 0);
	f.be.port = port;
	f.be.evfd = evfd;
	f.bound = fakehv_bound(GUEST, 5);
	CHECK(f.bound >= 0);

	data++;
	size--;
	while (size) {
		size_t n = data[0];

		data++;
		size--;
		if (n > size)
			n = size;
		if (n > sizeof(*f.sh))
			n = sizeof(*f.sh);
		memcpy(f.sh, data, n);
		one_op(&f);
		data += n;
		size -= n;
	}

	/* the guest lets go: nothing of it left */
	for (int i = 0; i < 2; i++) {
		bool permissive = f.dev[i]->permissive;

		pciback_put(&f.pb, f.dev[i]);
		if (permissive)
			continue;
		/* every byte as at export but BIST's start bit (0x0f) */
		CHECK(!memcmp(at_export[i], f.hw[i]->cfg, 0x0f));
		CHECK(!((at_export[i][0x0f] ^ f.hw[i]->cfg[0x0f]) & ~0x40));
		CHECK(!memcmp(at_export[i] + 0x10, f.hw[i]->cfg + 0x10,
			      4096 - 0x10));
	}
	for (int k = 0; k < fakehv.npirqs; k++)
		CHECK(!fakehv.pirqs[k].used);
	f.be.sh = NULL;
	close(evfd);
	hv_evtchn_close(NULL, port);
	pciback_fini(&f.pb);
	return 0;
}
