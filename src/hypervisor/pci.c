// SPDX-License-Identifier: MIT
/*
 * Host PCI devices: a real 4 KiB config space per device, built from its
 * description, with hardware write semantics (a write mask per byte, so a
 * BAR written with ~0 reads back its size mask), the MSI-X table behind a
 * memory BAR, resets per the device's method, and interrupts raised on
 * request and delivered to the event channel bound to the mapped PIRQ.
 *
 * Layout of a built config space (type 0 header):
 *   0x40 PM (always)  0x50 MSI (64-bit, multiple message)  0x70 MSI-X
 *   0x80 PCI Express (v2 endpoint; FLR in DevCap if reset=flr)
 *   0x100 SR-IOV extended capability on a PF
 * Capabilities that a device lacks are left out of the chain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor.h"
#include "log.h"

#define PM_POS 0x40
#define MSI_POS 0x50
#define MSIX_POS 0x70
#define EXP_POS 0x80
#define SRIOV_POS 0x100

uint32_t hyp_conf_get(const struct hyp_pcidev *p, unsigned int off,
		      unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < size && off + i < HYP_CONF_SIZE; i++)
		v |= (uint32_t)p->conf[off + i] << (8 * i);
	return v;
}

void hyp_conf_put(struct hyp_pcidev *p, unsigned int off, unsigned int size,
		  uint32_t v)
{
	unsigned int i;

	for (i = 0; i < size && off + i < HYP_CONF_SIZE; i++)
		p->conf[off + i] = (uint8_t)(v >> (8 * i));
}

static void wmask_put(struct hyp_pcidev *p, unsigned int off,
		      unsigned int size, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < size && off + i < HYP_CONF_SIZE; i++)
		p->wmask[off + i] = (uint8_t)(v >> (8 * i));
}

static bool decoded(const struct hyp_pcidev *p)	/* hw_lock held */
{
	return hyp_conf_get(p, PCI_CMD, 2) & PCI_CMD_MEM;
}

bool hyp_pci_mem_decoded(struct hyp_pcidev *p)
{
	bool on;

	pthread_mutex_lock(&p->hw_lock);
	on = decoded(p);
	pthread_mutex_unlock(&p->hw_lock);
	return on;
}

uint32_t hyp_pci_hw_read(struct hyp_pcidev *p, unsigned int off,
			 unsigned int size)
{
	uint32_t v;

	pthread_mutex_lock(&p->hw_lock);
	v = hyp_conf_get(p, off, size);
	pthread_mutex_unlock(&p->hw_lock);
	return v;
}

void hyp_pci_cmd_write(struct hyp_pcidev *p, uint16_t cmd)
{
	uint16_t m;

	pthread_mutex_lock(&p->hw_lock);
	m = (uint16_t)(p->wmask[PCI_CMD] | p->wmask[PCI_CMD + 1] << 8);
	hyp_conf_put(p, PCI_CMD, 2,
		     (hyp_conf_get(p, PCI_CMD, 2) & ~m) | (cmd & m));
	pthread_mutex_unlock(&p->hw_lock);
}

struct hyp_pcidev *hyp_pci_get(struct hyp *h, uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < h->npci; i++)
		if (h->pci[i]->info.sbdf == sbdf)
			return h->pci[i];
	return NULL;
}

static unsigned int ilog2u(unsigned int v)
{
	unsigned int l = 0;

	while (v > 1) {
		v >>= 1;
		l++;
	}
	return l;
}

static void build_bars(struct hyp_pcidev *p)
{
	unsigned int i;

	for (i = 0; i < 6; i++) {
		const struct hv_pci_bar *b = &p->info.bar[i];
		unsigned int off = PCI_BAR0 + 4 * i;
		uint32_t mask, flags;

		p->bar_mask[i] = 0;
		if (!b->size)
			continue;
		if (b->flags & HV_BAR_IO) {
			mask = ~(uint32_t)(b->size - 1) & ~3u;
			flags = 1;
		} else {
			mask = ~(uint32_t)(b->size - 1) & ~0xfu;
			flags = (b->flags & HV_BAR_64 ? 4 : 0) |
				(b->flags & HV_BAR_PREFETCH ? 8 : 0);
		}
		p->bar_mask[i] = mask;
		hyp_conf_put(p, off, 4, ((uint32_t)b->addr & mask) | flags);
		wmask_put(p, off, 4, mask);
		if (b->flags & HV_BAR_64 && i < 5) {
			mask = ~(uint32_t)((b->size - 1) >> 32);
			p->bar_mask[i + 1] = mask;
			hyp_conf_put(p, off + 4, 4, (uint32_t)(b->addr >> 32));
			wmask_put(p, off + 4, 4, mask);
			i++;
		}
	}
}

static void build_caps(struct hyp_pcidev *p)
{
	uint8_t chain[4], n = 0, i;

	p->pm_pos = PM_POS;
	chain[n++] = PM_POS;
	hyp_conf_put(p, PM_POS, 1, PCI_CAP_ID_PM);
	hyp_conf_put(p, PM_POS + 2, 2, 0x0003);	/* PM 1.2 */
	wmask_put(p, PM_POS + 4, 2, 0x0003);		/* PMCSR power state */

	if (p->msi_vectors) {
		p->msi_pos = MSI_POS;
		chain[n++] = MSI_POS;
		hyp_conf_put(p, MSI_POS, 1, PCI_CAP_ID_MSI);
		hyp_conf_put(p, MSI_POS + 2, 2, MSI_FLAGS_64BIT |
			     ilog2u(p->msi_vectors) << 1);
		wmask_put(p, MSI_POS + 2, 2, MSI_FLAGS_ENABLE | MSI_FLAGS_QSIZE);
		wmask_put(p, MSI_POS + 4, 4, 0xfffffffc);
		wmask_put(p, MSI_POS + 8, 4, 0xffffffff);
		wmask_put(p, MSI_POS + 12, 2, 0xffff);
	}
	if (p->info.has_msix) {
		p->msix_pos = MSIX_POS;
		chain[n++] = MSIX_POS;
		hyp_conf_put(p, MSIX_POS, 1, PCI_CAP_ID_MSIX);
		hyp_conf_put(p, MSIX_POS + 2, 2, p->info.msix_entries - 1u);
		wmask_put(p, MSIX_POS + 2, 2,
			  MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL);
		hyp_conf_put(p, MSIX_POS + 4, 4,
			     p->msix_table_off | p->msix_table_bar);
		hyp_conf_put(p, MSIX_POS + 8, 4,
			     p->msix_pba_off | p->msix_pba_bar);
	}
	if (p->pcie) {
		p->pcie_pos = EXP_POS;
		chain[n++] = EXP_POS;
		hyp_conf_put(p, EXP_POS, 1, PCI_CAP_ID_EXP);
		hyp_conf_put(p, EXP_POS + 2, 2, 0x0002);	/* v2 endpoint */
		hyp_conf_put(p, EXP_POS + 4, 4,
			     p->info.reset == HYP_RESET_FLR ? EXP_DEVCAP_FLR : 0);
		hyp_conf_put(p, EXP_POS + 8, 2, 0x2810);	/* defaults */
		wmask_put(p, EXP_POS + 8, 2, 0xffff);
	}
	for (i = 0; i < n; i++)
		hyp_conf_put(p, chain[i] + 1u, 1, i + 1 < n ? chain[i + 1] : 0);
	hyp_conf_put(p, PCI_CAP_PTR, 1, chain[0]);
	hyp_conf_put(p, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);

	if (p->pcie && p->info.num_vfs) {
		p->sriov_pos = SRIOV_POS;
		hyp_conf_put(p, SRIOV_POS, 4, PCI_EXT_CAP_ID_SRIOV | 1u << 16);
		/* VFs exist from the start: VF Enable and VF MSE are set. */
		hyp_conf_put(p, SRIOV_POS + 0x08, 2, 0x0009);
		wmask_put(p, SRIOV_POS + 0x08, 2, 0x001f);
		hyp_conf_put(p, SRIOV_POS + 0x0c, 2, p->info.num_vfs);
		hyp_conf_put(p, SRIOV_POS + 0x0e, 2, p->info.num_vfs);
		hyp_conf_put(p, SRIOV_POS + 0x10, 2, p->info.num_vfs);
		hyp_conf_put(p, SRIOV_POS + 0x14, 2, p->vf_offset);
		hyp_conf_put(p, SRIOV_POS + 0x16, 2, p->vf_stride);
		hyp_conf_put(p, SRIOV_POS + 0x1a, 2, p->vf_device);
		hyp_conf_put(p, SRIOV_POS + 0x1c, 4, 0x553);
		hyp_conf_put(p, SRIOV_POS + 0x20, 4, 0x1);
		wmask_put(p, SRIOV_POS + 0x20, 4, 0xffffffff);
	}
}

/* The power-on state of the device, from its description. */
void hyp_pci_build_conf(struct hyp_pcidev *p)
{
	const struct hv_pci_dev *d = &p->info;
	unsigned int i;
	uint8_t hdr = p->conf[0x0e] & 0x80;	/* multi-function, kept */

	memset(p->conf, 0, sizeof(p->conf));
	memset(p->wmask, 0, sizeof(p->wmask));
	memset(p->mmio_scratch, 0, sizeof(p->mmio_scratch));
	hyp_conf_put(p, 0x00, 2, d->vendor);
	hyp_conf_put(p, 0x02, 2, d->device);
	wmask_put(p, PCI_CMD, 2, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER |
		  0x0040 | 0x0100 | PCI_CMD_INTX_DISABLE);
	hyp_conf_put(p, 0x09, 1, d->class & 0xff);
	hyp_conf_put(p, 0x0a, 2, d->class >> 8);
	wmask_put(p, 0x0c, 2, 0xffff);		/* cache line, latency */
	hyp_conf_put(p, 0x0e, 1, hdr);
	build_bars(p);
	hyp_conf_put(p, 0x2c, 2, d->vendor);	/* subsystem: same ids */
	hyp_conf_put(p, 0x2e, 2, d->device);
	hyp_conf_put(p, PCI_INT_LINE, 1, d->intx_pin ? d->gsi & 0xff : 0xff);
	wmask_put(p, PCI_INT_LINE, 1, 0xff);
	hyp_conf_put(p, PCI_INT_PIN, 1, d->intx_pin);
	build_caps(p);
	for (i = 0; i < d->msix_entries && p->msix_tab; i++)
		p->msix_tab[i] = (struct hyp_msix_entry){
			.ctrl = MSIX_ENTRY_CTRL_MASKBIT };
}

void hyp_pci_free(struct hyp_pcidev *p)
{
	if (!p)
		return;
	free(p->msix_tab);
	free(p->msix_map);
	pthread_mutex_destroy(&p->hw_lock);
	free(p);
}

/* Room for one more in *list (pci[] or unplugged[], of *size; n in use):
 * twice as much.  pci_list_lock held for writing: vCPUs read them. */
static int list_grow(struct hyp_pcidev ***list, unsigned int *size,
		     unsigned int n)
{
	unsigned int want = *size ? *size * 2 : 16;
	struct hyp_pcidev **l;

	if (n < *size)
		return 0;
	if (want > HYP_PCI_MAX)
		want = HYP_PCI_MAX;
	l = realloc(*list, want * sizeof(*l));
	if (!l)
		return -ENOMEM;
	*list = l;
	*size = want;
	return 0;
}

int hyp_pci_add(struct hyp *h, const struct hyp_pcidev *desc,
		char *err, size_t errlen)
{
	struct hyp_pcidev *p;
	char bdf[16];
	unsigned int i;
	int r;

	hv_format_bdf(desc->info.sbdf, bdf, sizeof(bdf));
	if (hyp_pci_get(h, desc->info.sbdf)) {
		snprintf(err, errlen, "device %s is described twice", bdf);
		return -EEXIST;
	}
	if (h->npci >= HYP_PCI_MAX) {
		snprintf(err, errlen, "device %s: the modelled host holds "
			 "at most %u PCI functions (HYP_PCI_MAX); describe "
			 "fewer", bdf, HYP_PCI_MAX);
		return -ENOSPC;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = *desc;
	p->magic = HYP_PDEV_ALIVE;
	pthread_mutex_init(&p->hw_lock, NULL);
	p->vpci = NULL;
	p->msix_tab = NULL;
	p->msix_map = NULL;
	if (p->info.has_msix) {
		p->msix_tab = calloc(p->info.msix_entries, sizeof(*p->msix_tab));
		p->msix_map = calloc(p->info.msix_entries, sizeof(*p->msix_map));
		if (!p->msix_tab || !p->msix_map) {
			hyp_pci_free(p);
			return -ENOMEM;
		}
		for (i = 0; i < p->info.msix_entries; i++)
			p->msix_map[i].pirq = -1;
	}
	for (i = 0; i < 32; i++)
		p->msi_map[i].pirq = -1;
	p->info.owner = 0;
	memset(p->conf, 0, sizeof(p->conf));
	hyp_pci_build_conf(p);
	pthread_rwlock_wrlock(&h->pci_list_lock);
	r = list_grow(&h->pci, &h->pci_size, h->npci);
	if (r == 0)
		h->pci[h->npci++] = p;
	pthread_rwlock_unlock(&h->pci_list_lock);
	if (r < 0) {
		hyp_pci_free(p);
		return r;
	}
	/* Function 0 of a slot with several functions: multi-function. */
	for (i = 0; i < h->npci; i++) {
		struct hyp_pcidev *q = h->pci[i];

		if (HV_SBDF_FN(q->info.sbdf) == 0 && q != p &&
		    (q->info.sbdf & ~7u) == (p->info.sbdf & ~7u))
			q->conf[0x0e] |= 0x80;
		if (HV_SBDF_FN(p->info.sbdf) == 0 && q != p &&
		    (q->info.sbdf & ~7u) == (p->info.sbdf & ~7u))
			p->conf[0x0e] |= 0x80;
	}
	return 0;
}

/*
 * PHYSDEVOP_pci_device_remove: Xen forgets the device (dom0 removed it,
 * e.g. before a hot-unplug).  vPCI goes first, under its owner's write
 * lock; then no vCPU may still point at it (the fixed profile's answer to
 * Xen's open question; the historic profile leaves them and frees the
 * pdev all the same).  A PF whose VFs are still there is busy.  The
 * hardware itself stays as it was (h->unplugged): it still answers at its
 * BARs, as the lab's Xen 4.20 showed (tests/data/vpci-oracle.txt,
 * read_after_remove), and PCI_DEVICE_ADD (a rescan) finds it as it is.
 */
int hyp_pci_device_remove(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p, *keep;
	struct hyp_domain *d;
	unsigned int i;
	char bdf[16];
	int r = 0;

	hyp_vpci_hook(h, HYP_VP_TOOLSTACK, 0, 0, sbdf);
	pthread_mutex_lock(&h->pcidevs_lock);
	p = hyp_pci_get(h, sbdf);
	if (!p) {
		r = -ENODEV;
		goto out;
	}
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	for (i = 0; i < h->npci; i++)
		if (h->pci[i]->info.pf_sbdf == sbdf) {
			log_warn("%s: not removed: its VFs are still there "
				 "(remove them first)", bdf);
			r = -EBUSY;
			goto out;
		}
	keep = malloc(sizeof(*keep));
	pthread_rwlock_wrlock(&h->pci_list_lock);
	r = keep && h->nunplugged < HYP_PCI_MAX ?
	    list_grow(&h->unplugged, &h->unplugged_size, h->nunplugged) :
	    -ENOMEM;
	pthread_rwlock_unlock(&h->pci_list_lock);
	if (r < 0) {
		free(keep);
		goto out;
	}
	d = hyp_domain_get(h, p->info.owner);
	if (d && p->vpci)
		hyp_vpci_deassign(h, d, p);
	hyp_vpci_forget(h, p);
	pthread_rwlock_wrlock(&h->pci_list_lock);
	for (i = 0; i < h->npci && h->pci[i] != p; i++)
		;
	memmove(&h->pci[i], &h->pci[i + 1],
		(h->npci - i - 1) * sizeof(h->pci[0]));
	h->npci--;
	pthread_rwlock_unlock(&h->pci_list_lock);
	*keep = *p;
	keep->msix_tab = NULL;
	keep->msix_map = NULL;
	keep->vpci = NULL;
	pthread_mutex_init(&keep->hw_lock, NULL);
	pthread_rwlock_wrlock(&h->pci_list_lock);
	h->unplugged[h->nunplugged++] = keep;
	pthread_rwlock_unlock(&h->pci_list_lock);
	log_info("%s: removed from the host (was owned by domain %u)", bdf,
		 p->info.owner);
	hyp_vpci_free_pdev(h, p);
out:
	pthread_mutex_unlock(&h->pcidevs_lock);
	return r;
}

/* PHYSDEVOP_pci_device_add after a rescan: a removed device is back, as
 * the hardware is (no reset), owned by dom0.  Present already: nothing
 * to do. */
int hyp_pci_device_add(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p;
	char err[128];
	unsigned int i;
	int r = -ENODEV;

	pthread_mutex_lock(&h->pcidevs_lock);
	if (hyp_pci_get(h, sbdf)) {
		r = 0;
		goto out;
	}
	for (i = 0; i < h->nunplugged; i++) {
		struct hyp_pcidev *keep = h->unplugged[i];

		if (keep->info.sbdf != sbdf)
			continue;
		r = hyp_pci_add(h, keep, err, sizeof(err));
		if (r < 0) {
			log_warn("%s", err);
			break;
		}
		/* Not reset: the hardware's state is what it was. */
		p = hyp_pci_get(h, sbdf);
		pthread_mutex_lock(&p->hw_lock);
		memcpy(p->conf, keep->conf, sizeof(p->conf));
		memcpy(p->mmio_scratch, keep->mmio_scratch,
		       sizeof(p->mmio_scratch));
		pthread_mutex_unlock(&p->hw_lock);
		pthread_rwlock_wrlock(&h->pci_list_lock);
		h->unplugged[i] = h->unplugged[--h->nunplugged];
		pthread_rwlock_unlock(&h->pci_list_lock);
		pthread_mutex_destroy(&keep->hw_lock);
		free(keep);
		hv_format_bdf(sbdf, err, sizeof(err));
		log_info("%s: added to the host again", err);
		break;
	}
out:
	pthread_mutex_unlock(&h->pcidevs_lock);
	return r;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* h->pci[] is in the order devices came; a page is in SBDF order, so a
 * walk resumes where it stopped whatever is added or removed meanwhile. */
int hyp_pci_list(struct hyp *h, uint32_t first_sbdf, uint32_t max,
		 struct hv_pci_list *ret)
{
	uint32_t *from = malloc((h->npci + 1) * sizeof(*from));
	unsigned int i, n = 0;

	if (!from)
		return -ENOMEM;
	if (max == 0 || max > HV_PCI_LIST_PAGE)
		max = HV_PCI_LIST_PAGE;
	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < h->npci; i++)
		if (h->pci[i]->info.sbdf >= first_sbdf)
			from[n++] = h->pci[i]->info.sbdf;
	qsort(from, n, sizeof(*from), cmp_u32);
	for (i = 0; i < n && i < max; i++)
		ret->sbdf[ret->count++] = from[i];
	if (n > max)
		ret->next_sbdf = from[max];
	free(from);
	return 0;
}

int hyp_pci_info(struct hyp *h, uint32_t sbdf, struct hv_pci_dev *ret)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	if (!p)
		return -ENODEV;
	*ret = p->info;
	return 0;
}

static int conf_access_check(const struct hyp_pcidev *p, uint32_t offset,
			     uint32_t size)
{
	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if (offset >= HYP_CONF_SIZE || offset % size)
		return -EINVAL;
	return 0;
}

int hyp_pci_conf_read(struct hyp *h, uint32_t sbdf, uint32_t offset,
		      uint32_t size, uint32_t *ret_value)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	int r;

	if (!p)
		return -ENODEV;
	r = conf_access_check(p, offset, size);
	if (r < 0)
		return r;
	if (offset >= 0x100 && !p->pcie)	/* no extended space: ~0 */
		*ret_value = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	else
		*ret_value = hyp_pci_hw_read(p, offset, size);
	return 0;
}

/* hw_lock held */
static void reset_one(struct hyp_pcidev *p, const char *how)
{
	char bdf[16];

	hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
	hyp_pci_build_conf(p);
	log_info("%s: reset (%s): Command, MSI/MSI-X enable and mask-all "
		 "cleared", bdf, how);
}

/* hw_lock held */
static int conf_write(struct hyp_pcidev *p, uint32_t offset, uint32_t size,
		      uint32_t value)
{
	uint32_t old_pmcsr = 0, i;

	if (offset >= 0x100 && !p->pcie)
		return 0;	/* master abort: dropped */
	if (p->msix_pos && offset < p->msix_pos + 4u &&
	    offset + size > p->msix_pos + 2u) {
		uint16_t v = (uint16_t)value;

		/* Xen intercepts only whole Message Control writes. */
		if (offset != p->msix_pos + 2u || size != 2)
			return -EACCES;
		hyp_msix_conf_write(p, &v);
		value = v;
	}
	old_pmcsr = hyp_conf_get(p, p->pm_pos + 4u, 2);
	for (i = 0; i < size; i++) {
		uint8_t m = p->wmask[offset + i], b = (uint8_t)(value >> (8 * i));

		p->conf[offset + i] = (p->conf[offset + i] & ~m) | (b & m);
	}
	/* Side effects of writes that are resets. */
	if (p->pcie_pos && offset <= p->pcie_pos + 9u &&
	    offset + size > p->pcie_pos + 9u &&
	    (hyp_conf_get(p, p->pcie_pos + 8u, 2) & EXP_DEVCTL_BCR_FLR)) {
		if (p->info.reset == HYP_RESET_FLR)
			reset_one(p, "flr by DevCtl");
		else
			hyp_conf_put(p, p->pcie_pos + 8u, 2,
				     hyp_conf_get(p, p->pcie_pos + 8u, 2) &
				     ~EXP_DEVCTL_BCR_FLR);
	}
	if ((old_pmcsr & 3) == 3 &&
	    (hyp_conf_get(p, p->pm_pos + 4u, 2) & 3) == 0 &&
	    p->info.reset == HYP_RESET_PM)
		reset_one(p, "pm D3hot->D0");
	return 0;
}

int hyp_pci_conf_write(struct hyp *h, uint32_t sbdf, uint32_t offset,
		       uint32_t size, uint32_t value)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	int r;

	if (!p)
		return -ENODEV;
	r = conf_access_check(p, offset, size);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->hw_lock);
	r = conf_write(p, offset, size, value);
	pthread_mutex_unlock(&p->hw_lock);
	/* dom0 wrote under vPCI: its decoding state may differ now */
	if (p->vpci && offset < PCI_CMD + 2 && offset + size > PCI_CMD)
		hyp_vpci_hw_foreign(p);
	else if (p->vpci && p->pcie_pos && offset <= p->pcie_pos + 9u &&
		 offset + size > p->pcie_pos + 9u)
		hyp_vpci_hw_foreign(p);		/* maybe an FLR */
	else if (p->vpci && p->pm_pos && offset <= p->pm_pos + 5u &&
		 offset + size > p->pm_pos + 4u)
		hyp_vpci_hw_foreign(p);		/* maybe a PM reset */
	return r;
}

/* The hardware reset, then vPCI's view of it (vpci_reset_device, as
 * Xen 4.20's PHYSDEVOP_pci_device_reset that Linux issues after one). */
static void reset_dev(struct hyp *h, struct hyp_pcidev *p, const char *how)
{
	hyp_vpci_hook(h, HYP_VP_TOOLSTACK, p->info.owner, 0, p->info.sbdf);
	pthread_mutex_lock(&p->hw_lock);
	reset_one(p, how);
	pthread_mutex_unlock(&p->hw_lock);
	hyp_vpci_reset(h, p);
}

int hyp_pci_reset(struct hyp *h, uint32_t sbdf)
{
	static const char *const names[] = { "none", "flr", "pm", "bus" };
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	char bdf[16];
	unsigned int i;

	if (!p)
		return -ENODEV;
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	if (p->info.reset == HYP_RESET_NONE) {
		log_warn("%s: no reset method (reset=none): device state "
			 "unchanged", bdf);
		return -ENOTTY;
	}
	pthread_mutex_lock(&h->pcidevs_lock);
	if (p->info.reset != HYP_RESET_BUS) {
		reset_dev(h, p, names[p->info.reset]);
	} else {
		/* A secondary bus reset resets every function on that bus. */
		for (i = 0; i < h->npci; i++)
			if ((h->pci[i]->info.sbdf >> 8) == (sbdf >> 8))
				reset_dev(h, h->pci[i], "bus");
	}
	pthread_mutex_unlock(&h->pcidevs_lock);
	return 0;
}

static bool deliver(struct hyp *h, uint32_t domid, int pirq)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct hyp_pirq *pi;

	if (!d || !hyp_pirq_used(d, pirq))
		return false;
	pi = &d->pirqs[pirq];
	if (pi->pt.bound) {
		pi->pt.fired++;		/* to the guest's vector or line */
		if (pi->pt.type == HV_PT_IRQ_MSI)
			hyp_hvm_vector_raise(d, pi->pt.gvec);
		return true;
	}
	if (!pi->in_use || !pi->port ||
	    d->ports[pi->port].state != PORT_PIRQ)
		return false;
	hyp_evtchn_notify(d, pi->port);
	return true;
}

int hyp_pci_raise_irq(struct hyp *h, uint32_t sbdf, uint32_t type,
		      uint32_t entry, uint32_t *ret_delivered)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	uint32_t ctl, cmd, i, delivered = 0;

	if (!p)
		return -ENODEV;
	cmd = hyp_pci_hw_read(p, PCI_CMD, 2);
	switch (type) {
	case HV_IRQ_MSIX:
		if (!p->info.has_msix)
			return -ENODEV;
		if (entry >= p->info.msix_entries)
			return -EINVAL;
		ctl = hyp_conf_get(p, p->msix_pos + 2u, 2);
		if ((ctl & MSIX_FLAGS_ENABLE) && !(ctl & MSIX_FLAGS_MASKALL) &&
		    !(p->msix_tab[entry].ctrl & MSIX_ENTRY_CTRL_MASKBIT))
			delivered = deliver(h, p->msix_map[entry].domid,
					    p->msix_map[entry].pirq);
		break;
	case HV_IRQ_MSI:
		if (!p->msi_vectors)
			return -ENODEV;
		if (entry >= p->msi_vectors)
			return -EINVAL;
		ctl = hyp_conf_get(p, p->msi_pos + 2u, 2);
		if ((ctl & MSI_FLAGS_ENABLE) &&
		    entry < 1u << ((ctl & MSI_FLAGS_QSIZE) >> 4))
			delivered = deliver(h, p->msi_map[entry].domid,
					    p->msi_map[entry].pirq);
		break;
	case HV_IRQ_INTX:
		if (!p->info.intx_pin)
			return -ENODEV;
		if (cmd & PCI_CMD_INTX_DISABLE)
			break;
		if (p->msi_pos && hyp_conf_get(p, p->msi_pos + 2u, 2) &
		    MSI_FLAGS_ENABLE)
			break;
		if (p->msix_pos && hyp_conf_get(p, p->msix_pos + 2u, 2) &
		    MSIX_FLAGS_ENABLE)
			break;
		/* A level-triggered line: every domain that mapped the GSI. */
		for (i = 0; i < h->dom_end; i++) {
			struct hyp_domain *d = h->dom[i];
			uint32_t q;

			if (!d || !d->pirqs)
				continue;
			for (q = 0; q < HYP_PIRQ_GSI_MAX; q++)
				if (d->pirqs[q].in_use &&
				    d->pirqs[q].type == HV_IRQ_INTX &&
				    d->pirqs[q].gsi == p->info.gsi &&
				    deliver(h, i, (int)q))
					delivered = 1;
		}
		break;
	default:
		return -EINVAL;
	}
	*ret_delivered = delivered;
	return 0;
}

/* Where an MMIO access lands: the MSI-X table, the PBA or elsewhere. */
static int mmio_check(struct hyp *h, uint32_t sbdf, uint32_t bar,
		      uint64_t offset, uint32_t size, struct hyp_pcidev **ret)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	if (!p)
		return -ENODEV;
	if (bar >= 6 || !p->info.bar[bar].size ||
	    p->info.bar[bar].flags & HV_BAR_IO)
		return -EINVAL;
	if ((size != 4 && size != 8) || offset % size ||
	    offset >= p->info.bar[bar].size ||
	    size > p->info.bar[bar].size - offset)
		return -EINVAL;
	*ret = p;
	return 0;
}

static bool in_table(const struct hyp_pcidev *p, uint32_t bar, uint64_t off)
{
	return p->info.has_msix && p->msix_tab && bar == p->msix_table_bar &&
	       off >= p->msix_table_off &&
	       off < p->msix_table_off +
		     (uint64_t)p->info.msix_entries * MSIX_ENTRY_SIZE;
}

static uint32_t *table_word(struct hyp_pcidev *p, uint64_t off)
{
	uint64_t rel = off - p->msix_table_off;
	struct hyp_msix_entry *e = &p->msix_tab[rel / MSIX_ENTRY_SIZE];
	uint32_t *words[4] = { &e->addr_lo, &e->addr_hi, &e->data, &e->ctrl };

	return words[(rel % MSIX_ENTRY_SIZE) / 4];
}

/* One dword of a memory BAR as the device answers it (hw_lock held):
 * the MSI-X table, the PBA (zero), and elsewhere an identification
 * register at offset 0 (vendor | device << 16) and a scratch register
 * at offset 4 that keeps what is written; the rest reads zero. */
static uint32_t mmio_dword(struct hyp_pcidev *p, unsigned int bar,
			   uint64_t off)
{
	if (in_table(p, bar, off))
		return *table_word(p, off);
	if (p->info.has_msix && bar == p->msix_pba_bar &&
	    off >= p->msix_pba_off &&
	    off < p->msix_pba_off + ((p->info.msix_entries + 63u) / 64u) * 8u)
		return 0;
	if (off == 0)
		return p->has_mmio_id ? p->mmio_id :
		       p->info.vendor | (uint32_t)p->info.device << 16;
	if (off == 4)
		return p->mmio_scratch[bar];
	return 0;
}

static void mmio_dword_put(struct hyp_pcidev *p, unsigned int bar,
			   uint64_t off, uint32_t v)
{
	if (in_table(p, bar, off))
		*table_word(p, off) = v;
	else if (off == 4 && !(p->info.has_msix && bar == p->msix_pba_bar &&
			       off >= p->msix_pba_off))
		p->mmio_scratch[bar] = v;
}

int hyp_pci_mmio(struct hyp_pcidev *p, unsigned int bar, uint64_t offset,
		 uint32_t size, bool write, uint64_t *value)
{
	uint64_t q = offset & ~7ull, v, m;
	unsigned int shift = (unsigned int)(offset - q) * 8;

	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    offset % size)
		return -EINVAL;
	m = size == 8 ? UINT64_MAX : ((1ull << (8 * size)) - 1);
	pthread_mutex_lock(&p->hw_lock);
	if (!decoded(p)) {
		if (!write)
			*value = m;	/* nobody answers */
		goto out;
	}
	v = mmio_dword(p, bar, q) | (uint64_t)mmio_dword(p, bar, q + 4) << 32;
	if (!write) {
		*value = (v >> shift) & m;
		goto out;
	}
	/* Registers take whole dwords; a narrower write merges. */
	v = (v & ~(m << shift)) | ((*value & m) << shift);
	if (shift < 32)
		mmio_dword_put(p, bar, q, (uint32_t)v);
	if (shift + 8 * size > 32)
		mmio_dword_put(p, bar, q + 4, (uint32_t)(v >> 32));
out:
	pthread_mutex_unlock(&p->hw_lock);
	return 0;
}

int hyp_pci_bar_read(struct hyp *h, uint32_t sbdf, uint32_t bar,
		     uint64_t offset, uint32_t size, uint64_t *ret_value)
{
	struct hyp_pcidev *p;
	int r = mmio_check(h, sbdf, bar, offset, size, &p);

	if (r < 0)
		return r;
	return hyp_pci_mmio(p, bar, offset, size, false, ret_value);
}

int hyp_pci_bar_write(struct hyp *h, uint32_t sbdf, uint32_t bar,
		      uint64_t offset, uint32_t size, uint64_t value)
{
	struct hyp_pcidev *p;
	bool table;
	int r = mmio_check(h, sbdf, bar, offset, size, &p);

	if (r < 0)
		return r;
	pthread_mutex_lock(&p->hw_lock);
	table = decoded(p) && in_table(p, bar, offset) && p->used_entries;
	pthread_mutex_unlock(&p->hw_lock);
	if (table)
		return -EPERM;	/* Xen: table pages in mmio_ro_ranges */
	return hyp_pci_mmio(p, bar, offset, size, true, &value);
}
