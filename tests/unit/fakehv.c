// SPDX-License-Identifier: MIT
/* The fake hypervisor of fakehv.h: hvclient's functions, in-process. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fakehv.h"

struct fakehv fakehv;

void fakehv_reset(void)
{
	for (int i = 0; i < fakehv.ngrants; i++)
		close(fakehv.grants[i].fd);
	for (int i = 0; i < 16; i++)
		if (fakehv.bound[i].used)
			close(fakehv.bound[i].fd);
	memset(fakehv.devs, 0, sizeof(fakehv.devs[0]) * fakehv.ndevs);
	memset(fakehv.pirqs, 0, sizeof(fakehv.pirqs[0]) * fakehv.npirqs);
	memset((char *)&fakehv + offsetof(struct fakehv, ndevs), 0,
	       offsetof(struct fakehv, pirqs) -
	       offsetof(struct fakehv, ndevs));
	memset((char *)&fakehv + offsetof(struct fakehv, npirqs), 0,
	       sizeof(fakehv) - offsetof(struct fakehv, npirqs));
	fakehv.next_pirq = 100;
	fakehv.next_port = 20;
}

static void put16(uint8_t *c, unsigned int off, uint16_t v)
{
	c[off] = v & 0xff;
	c[off + 1] = v >> 8;
}

static void put32(uint8_t *c, unsigned int off, uint32_t v)
{
	put16(c, off, v & 0xffff);
	put16(c, off + 2, v >> 16);
}

struct fakehv_dev *fakehv_add(uint32_t sbdf, uint16_t vendor, uint16_t device,
			      uint32_t class, bool msi, unsigned int msix_entries,
			      uint8_t reset_method)
{
	struct fakehv_dev *d = &fakehv.devs[fakehv.ndevs++];
	uint8_t *c = d->cfg;
	uint8_t last = 0x40;

	memset(d, 0, sizeof(*d));
	d->info.sbdf = sbdf;
	d->info.vendor = vendor;
	d->info.device = device;
	d->info.class = class;
	d->info.owner = HV_DOMID_IO;
	d->info.intx_pin = 1;
	d->info.gsi = 16 + fakehv.ndevs;
	d->info.has_msi = msi;
	d->info.has_msix = msix_entries > 0;
	d->info.msix_entries = msix_entries;
	d->info.reset = reset_method;
	d->info.pf_sbdf = UINT32_MAX;
	put16(c, 0, vendor);
	put16(c, 2, device);
	put16(c, 6, 0x10);			/* capability list */
	put32(c, 8, class << 8 | 1);		/* revision 1 */
	c[0x0e] = (class >> 8) == 0x0604 ? 1 : 0;
	c[0x34] = 0x40;
	c[0x3c] = d->info.gsi;
	c[0x3d] = 1;
	c[0x40] = 0x01;				/* PM */
	put16(c, 0x42, 0x0003);
	if (msi) {
		c[last + 1] = FAKEHV_MSI_CAP;
		c[FAKEHV_MSI_CAP] = 0x05;
		put16(c, FAKEHV_MSI_CAP + 2, 0x0080);	/* 64-bit */
		last = FAKEHV_MSI_CAP;
	}
	if (msix_entries) {
		c[last + 1] = FAKEHV_MSIX_CAP;
		c[FAKEHV_MSIX_CAP] = 0x11;
		put16(c, FAKEHV_MSIX_CAP + 2, msix_entries - 1);
		put32(c, FAKEHV_MSIX_CAP + 4, 0);	/* table in BAR0 */
		put32(c, FAKEHV_MSIX_CAP + 8, 0x800);	/* PBA */
	}
	return d;
}

void fakehv_set_bar(struct fakehv_dev *d, int i, uint64_t addr, uint64_t size,
		    uint32_t flags)
{
	uint32_t low = (uint32_t)addr;

	d->info.bar[i] = (struct hv_pci_bar){ .addr = addr, .size = size,
					      .flags = flags };
	if (flags & HV_BAR_IO)
		low |= 1;
	else
		low |= ((flags & HV_BAR_64) ? 0x4 : 0) |
		       ((flags & HV_BAR_PREFETCH) ? 0x8 : 0);
	put32(d->cfg, 0x10 + 4 * i, low);
	if (flags & HV_BAR_64)
		put32(d->cfg, 0x14 + 4 * i, (uint32_t)(addr >> 32));
}

struct fakehv_dev *fakehv_find(uint32_t sbdf)
{
	for (int i = 0; i < fakehv.ndevs; i++)
		if (fakehv.devs[i].info.sbdf == sbdf)
			return &fakehv.devs[i];
	return NULL;
}

uint16_t fakehv_cfg16(uint32_t sbdf, unsigned int off)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	return d->cfg[off] | d->cfg[off + 1] << 8;
}

int fakehv_count_pirqs(unsigned int domid)
{
	int n = 0;

	for (int i = 0; i < fakehv.npirqs; i++)
		n += fakehv.pirqs[i].used && fakehv.pirqs[i].domid == domid;
	return n;
}

void fakehv_grant(unsigned int domid, uint32_t gref, int fd)
{
	fakehv.grants[fakehv.ngrants].domid = domid;
	fakehv.grants[fakehv.ngrants].gref = gref;
	fakehv.grants[fakehv.ngrants++].fd = fd;
}

void fakehv_grant_readonly(unsigned int domid, uint32_t gref, int fd)
{
	fakehv_grant(domid, gref, fd);
	fakehv.grants[fakehv.ngrants - 1].ro = true;
}

void fakehv_unbound_port(unsigned int domid, unsigned int port)
{
	fakehv.unbound[fakehv.nunbound].domid = domid;
	fakehv.unbound[fakehv.nunbound++].port = port;
}

int fakehv_bound(unsigned int domid, unsigned int remote_port)
{
	for (int i = 0; i < 16; i++)
		if (fakehv.bound[i].used &&
		    fakehv.bound[i].remote_domid == domid &&
		    fakehv.bound[i].remote_port == remote_port)
			return i;
	return -1;
}

/* hvclient.h */

int hv_pci_info(struct hv_client *h, uint32_t sbdf, struct hv_pci_dev *ret)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	if (!d)
		return -ENODEV;
	*ret = d->info;
	return 0;
}

int hv_pci_conf_read(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		     uint32_t size, uint32_t *ret_value)
{
	struct fakehv_dev *d = fakehv_find(sbdf);
	uint32_t v = 0;

	if (!d)
		return -ENODEV;
	if (offset + size > 4096 || (size != 1 && size != 2 && size != 4))
		return -EINVAL;
	for (uint32_t i = 0; i < size; i++)
		v |= (uint32_t)d->cfg[offset + i] << (8 * i);
	*ret_value = v;
	return 0;
}

int hv_pci_conf_write(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		      uint32_t size, uint32_t value)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	if (!d)
		return -ENODEV;
	if (offset + size > 4096 || (size != 1 && size != 2 && size != 4))
		return -EINVAL;
	d->cfg_writes++;
	for (uint32_t i = 0; i < size; i++) {
		if (offset + i < 4 || (offset + i >= 8 && offset + i < 0x0c))
			continue;	/* IDs, class: read-only */
		d->cfg[offset + i] = value >> (8 * i);
	}
	return 0;
}

int hv_pci_reset(struct hv_client *h, uint32_t sbdf)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	if (!d)
		return -ENODEV;
	if (!d->info.reset)
		return -ENOTTY;
	d->resets++;
	d->cfg_writes++;
	/* what a function reset clears */
	put16(d->cfg, 4, 0);
	memset(d->cfg + 0x10, 0, 0x18);
	if (d->info.has_msi)
		put16(d->cfg, FAKEHV_MSI_CAP + 2, 0x0080);
	if (d->info.has_msix)
		put16(d->cfg, FAKEHV_MSIX_CAP + 2, d->info.msix_entries - 1);
	return 0;
}

int hv_prepare_msix(struct hv_client *h, uint32_t sbdf)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	if (!d)
		return -ENODEV;
	if (d->prepared)
		return -EBUSY;
	d->prepared++;
	return 0;
}

int hv_release_msix(struct hv_client *h, uint32_t sbdf)
{
	struct fakehv_dev *d = fakehv_find(sbdf);

	if (!d)
		return -ENODEV;
	if (d->prepared != 1)
		return -EBUSY;
	d->prepared--;
	return 0;
}

int hv_map_pirq(struct hv_client *h, unsigned int domid, uint32_t type,
		uint32_t sbdf, uint32_t entry, int *ret_pirq)
{
	if (!fakehv_find(sbdf))
		return -ENODEV;
	for (int i = 0; i < FAKEHV_MAX_PIRQS; i++) {
		struct fakehv_pirq *p = &fakehv.pirqs[i];

		if (p->used)
			continue;
		*p = (struct fakehv_pirq){ true, domid, fakehv.next_pirq++,
					   type, sbdf, entry };
		if (i >= fakehv.npirqs)
			fakehv.npirqs = i + 1;
		fakehv.pirq_changes++;
		*ret_pirq = p->pirq;
		return 0;
	}
	return -ENOSPC;
}

int hv_unmap_pirq(struct hv_client *h, unsigned int domid, int pirq)
{
	for (int i = 0; i < fakehv.npirqs; i++) {
		struct fakehv_pirq *p = &fakehv.pirqs[i];

		if (p->used && p->domid == domid && p->pirq == pirq) {
			p->used = false;
			fakehv.pirq_changes++;
			return 0;
		}
	}
	return -EINVAL;
}

int hv_map_grant(struct hv_client *h, unsigned int granter, uint32_t gref,
		 int *ret_fd, void **ret_map)
{
	for (int i = 0; i < fakehv.ngrants; i++) {
		void *p;
		int fd;

		if (fakehv.grants[i].domid != granter ||
		    fakehv.grants[i].gref != gref)
			continue;
		if (fakehv.grants[i].ro) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/self/fd/%d",
				 fakehv.grants[i].fd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		} else {
			fd = dup(fakehv.grants[i].fd);
		}
		if (fd < 0)
			return -errno;
		p = mmap(NULL, HV_PAGE_SIZE, PROT_READ |
			 (fakehv.grants[i].ro ? 0 : PROT_WRITE),
			 MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			return -errno;
		}
		fakehv.mapped_grants++;
		*ret_fd = fd;
		*ret_map = p;
		return 0;
	}
	return -EINVAL;
}

int hv_unmap_grant(struct hv_client *h, unsigned int granter, uint32_t gref)
{
	fakehv.mapped_grants--;
	return 0;
}

int hv_evtchn_bind_interdomain(struct hv_client *h, unsigned int remote_domid,
			       unsigned int remote_port,
			       unsigned int *ret_port)
{
	for (int i = 0; i < fakehv.nunbound; i++) {
		if (fakehv.unbound[i].domid != remote_domid ||
		    fakehv.unbound[i].port != remote_port)
			continue;
		for (int j = 0; j < 16; j++) {
			if (fakehv.bound[j].used)
				continue;
			fakehv.bound[j].used = true;
			fakehv.bound[j].port = fakehv.next_port++;
			fakehv.bound[j].remote_domid = remote_domid;
			fakehv.bound[j].remote_port = remote_port;
			fakehv.bound[j].fd = eventfd(0, EFD_CLOEXEC |
						     EFD_NONBLOCK);
			fakehv.bound[j].sent = 0;
			*ret_port = fakehv.bound[j].port;
			return 0;
		}
		return -ENOSPC;
	}
	return -EINVAL;
}

static int find_port(unsigned int port)
{
	for (int j = 0; j < 16; j++)
		if (fakehv.bound[j].used && fakehv.bound[j].port == port)
			return j;
	return -1;
}

int hv_evtchn_fd(struct hv_client *h, unsigned int port, int *ret_fd)
{
	int j = find_port(port);

	if (j < 0)
		return -EINVAL;
	*ret_fd = dup(fakehv.bound[j].fd);
	return *ret_fd < 0 ? -errno : 0;
}

int hv_evtchn_send(struct hv_client *h, unsigned int port)
{
	int j = find_port(port);

	if (j < 0)
		return -EINVAL;
	fakehv.bound[j].sent++;
	return 0;
}

int hv_evtchn_close(struct hv_client *h, unsigned int port)
{
	int j = find_port(port);

	if (j < 0)
		return -EINVAL;
	close(fakehv.bound[j].fd);
	fakehv.bound[j].used = false;
	return 0;
}

int hv_evtchn_ack(int fd, uint64_t *ret_count)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n < 0)
		return errno == EAGAIN ? (*ret_count = 0, 0) : -errno;
	*ret_count = v;
	return 0;
}
