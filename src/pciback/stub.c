// SPDX-License-Identifier: MIT
/*
 * Seized host devices (Linux's pci_stub.c role): seize with reset and a saved
 * header, give back to dom0 reset and restored, "put" a device a guest let
 * go of.  Resets use the device's method through the hypervisor; a device
 * without one is logged and reported, and the operation carries on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pciback.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_FLAGS_MASKALL 0x4000

static const char *reset_names[] = { "none", "FLR", "PM", "bus" };

/* One hex field up to max, followed by sep ('\0' for the end). */
static int hexfield(const char **p, unsigned long max, char sep,
		    unsigned long *ret)
{
	const char *s = *p;
	unsigned long v = 0;
	int n = 0;

	for (; n < 8; s++, n++) {
		if (*s >= '0' && *s <= '9')
			v = v * 16 + (unsigned long)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			v = v * 16 + (unsigned long)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			v = v * 16 + (unsigned long)(*s - 'A' + 10);
		else
			break;
	}
	if (n == 0 || v > max || *s != sep)
		return -EINVAL;
	*p = sep ? s + 1 : s;
	*ret = v;
	return 0;
}

/* "DDDD:BB:SS.F" (dev-N is scanned with %x:%x:%x.%x), or "BB:SS.F" when
 * !need_domain. */
int pciback_parse_bdf(const char *s, bool need_domain, uint32_t *ret_sbdf)
{
	unsigned long seg = 0, bus, slot, fn;
	const char *p = s;
	int colons = 0;

	for (const char *q = s; *q; q++)
		colons += *q == ':';
	if (colons != 2 && (colons != 1 || need_domain))
		return -EINVAL;
	if (colons == 2 && hexfield(&p, 0xffff, ':', &seg) < 0)
		return -EINVAL;
	if (hexfield(&p, 0xff, ':', &bus) < 0 ||
	    hexfield(&p, 0x1f, '.', &slot) < 0 ||
	    hexfield(&p, 7, '\0', &fn) < 0)
		return -EINVAL;
	*ret_sbdf = HV_SBDF(seg, bus, slot, fn);
	return 0;
}

void pciback_format_bdf(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", HV_SBDF_SEG(sbdf),
		 HV_SBDF_BUS(sbdf), HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));
}

struct pb_dev *pciback_dev_find(struct pciback *pb, uint32_t sbdf)
{
	for (size_t i = 0; i < pb->ndevs; i++)
		if (pb->devs[i]->sbdf == sbdf)
			return pb->devs[i];
	return NULL;
}

static int save_header(struct pciback *pb, struct pb_dev *dev, uint32_t *hdr)
{
	for (unsigned int i = 0; i < PB_HDR_DWORDS; i++) {
		int r = pciback_hw_read(pb, dev, i * 4, 4, &hdr[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Write back what a reset clears: cache line, latency, BARs, ROM,
 * interrupt line, and the command register last. */
static void restore_header(struct pciback *pb, struct pb_dev *dev,
			   const uint32_t *hdr)
{
	pciback_hw_write(pb, dev, 0x0c, 1, hdr[3] & 0xff);
	pciback_hw_write(pb, dev, 0x0d, 1, (hdr[3] >> 8) & 0xff);
	for (unsigned int off = 0x10; off <= 0x24; off += 4)
		pciback_hw_write(pb, dev, off, 4, hdr[off / 4]);
	pciback_hw_write(pb, dev, 0x30, 4, hdr[0x30 / 4]);
	pciback_hw_write(pb, dev, 0x3c, 1, hdr[0x3c / 4] & 0xff);
	pciback_hw_write(pb, dev, PCI_COMMAND, 2, hdr[1] & 0xffff);
}

/* Linux's xen_pcibk_reset_device: interrupts off, device off. */
static void quiesce(struct pciback *pb, struct pb_dev *dev)
{
	uint32_t v;

	if (dev->msi_cap &&
	    pciback_hw_read(pb, dev, dev->msi_cap + 2, 2, &v) == 0 &&
	    (v & PCI_MSI_FLAGS_ENABLE))
		pciback_hw_write(pb, dev, dev->msi_cap + 2, 2,
				 v & ~PCI_MSI_FLAGS_ENABLE);
	if (dev->msix_cap &&
	    pciback_hw_read(pb, dev, dev->msix_cap + 2, 2, &v) == 0 &&
	    (v & PCI_MSIX_FLAGS_ENABLE))
		pciback_hw_write(pb, dev, dev->msix_cap + 2, 2,
				 v & ~PCI_MSIX_FLAGS_ENABLE);
	pciback_hw_write(pb, dev, PCI_COMMAND, 2, 0);
}

static int do_reset(struct pciback *pb, struct pb_dev *dev, char *msg,
		    size_t len)
{
	char bdf[16];
	int r;

	pciback_format_bdf(dev->sbdf, bdf, sizeof(bdf));
	r = hv_pci_reset(pb->hv, dev->sbdf);
	if (r == -ENOTTY) {
		dev->no_reset = true;
		log_warn("%s: no FLR, PM reset or bus reset available; "
			 "continuing without a reset", bdf);
		if (msg)
			snprintf(msg, len, "%s has no reset method", bdf);
		return r;
	}
	if (r < 0) {
		log_err("%s: reset failed: %s", bdf, strerror(-r));
		if (msg)
			snprintf(msg, len, "%s reset failed: %s", bdf,
				 strerror(-r));
		return r;
	}
	log_info("%s: reset (%s)", bdf,
		 dev->info.reset < 4 ? reset_names[dev->info.reset] : "?");
	return 0;
}

int pciback_seize(struct pciback *pb, uint32_t sbdf, char *msg, size_t len)
{
	struct pb_dev *dev = NULL, **devs;
	char bdf[16];
	uint32_t cmd, want = 0;
	int r;

	pciback_format_bdf(sbdf, bdf, sizeof(bdf));
	msg[0] = '\0';
	if (pciback_dev_find(pb, sbdf)) {
		snprintf(msg, len, "%s is already seized", bdf);
		return -EEXIST;
	}
	dev = calloc(1, sizeof(*dev));
	devs = realloc(pb->devs, (pb->ndevs + 1) * sizeof(*devs));
	if (!dev || !devs) {
		free(dev);
		if (devs)
			pb->devs = devs;
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	pb->devs = devs;
	dev->sbdf = sbdf;
	r = hv_pci_info(pb->hv, sbdf, &dev->info);
	if (r < 0) {
		snprintf(msg, len, "no device %s on the host: %s", bdf,
			 strerror(-r));
		free(dev);
		return r;
	}
	pciback_conf_init(pb, dev);

	/* pci_enable_device: decode what the BARs need. */
	for (int i = 0; i < 6; i++)
		if (dev->info.bar[i].size)
			want |= (dev->info.bar[i].flags & HV_BAR_IO) ?
				PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	if (pciback_hw_read(pb, dev, PCI_COMMAND, 2, &cmd) == 0)
		pciback_hw_write(pb, dev, PCI_COMMAND, 2, cmd | want);
	if (dev->info.has_msix) {
		r = hv_prepare_msix(pb->hv, sbdf);
		if (r < 0 && r != -ENOSYS)
			log_warn("%s: prepare_msix: %s", bdf, strerror(-r));
		dev->msix_prepared = r == 0;
	}
	r = save_header(pb, dev, dev->saved);
	if (r < 0) {
		snprintf(msg, len, "cannot read the config space of %s: %s",
			 bdf, strerror(-r));
		if (dev->msix_prepared)
			hv_release_msix(pb->hv, sbdf);
		free(dev);
		return r;
	}
	do_reset(pb, dev, msg, len);
	restore_header(pb, dev, dev->saved);
	quiesce(pb, dev);
	pb->devs[pb->ndevs++] = dev;
	log_info("%s: seized (%04x:%04x class %06x)%s", bdf,
		 dev->info.vendor, dev->info.device, dev->info.class,
		 dev->no_reset ? ", without a reset method" : "");
	return 0;
}

int pciback_release(struct pciback *pb, uint32_t sbdf, char *msg,
		    size_t len)
{
	struct pb_dev *dev = pciback_dev_find(pb, sbdf);
	char bdf[16];
	size_t i;
	int r;

	pciback_format_bdf(sbdf, bdf, sizeof(bdf));
	msg[0] = '\0';
	if (!dev) {
		snprintf(msg, len, "%s is not seized by pciback", bdf);
		return -ENODEV;
	}
	if (dev->be) {
		snprintf(msg, len, "%s is exported to domain %u", bdf,
			 dev->be->domid);
		return -EBUSY;
	}
	do_reset(pb, dev, msg, len);
	restore_header(pb, dev, dev->saved);
	if (dev->msix_prepared) {
		r = hv_release_msix(pb->hv, sbdf);
		if (r < 0 && r != -ENOSYS)
			log_warn("%s: release_msix: %s", bdf, strerror(-r));
	}
	quiesce(pb, dev);
	for (i = 0; i < pb->ndevs && pb->devs[i] != dev; i++)
		;
	memmove(&pb->devs[i], &pb->devs[i + 1],
		(pb->ndevs - i - 1) * sizeof(*pb->devs));
	pb->ndevs--;
	free(dev);
	log_info("%s: released to dom0", bdf);
	return 0;
}

/* A reset as through sysfs `reset`: the current header survives it, or the
 * one saved at seize time with restore_saved. */
int pciback_reset(struct pciback *pb, struct pb_dev *dev, bool restore_saved,
		  char *msg, size_t len)
{
	uint32_t hdr[PB_HDR_DWORDS];
	int r;

	msg[0] = '\0';
	if (restore_saved)
		memcpy(hdr, dev->saved, sizeof(hdr));
	else if ((r = save_header(pb, dev, hdr)) < 0)
		return r;
	r = do_reset(pb, dev, msg, len);
	restore_header(pb, dev, hdr);
	return r;
}

/* The guest let go of the device (reconfigure-detach or backend teardown):
 * tear down its interrupts, reset, restore the seize-time state. */
void pciback_put(struct pciback *pb, struct pb_dev *dev)
{
	char bdf[16];
	unsigned int domid = dev->be ? dev->be->domid : 0;

	pciback_format_bdf(dev->sbdf, bdf, sizeof(bdf));
	pciback_irq_teardown(pb, dev);
	do_reset(pb, dev, NULL, 0);
	restore_header(pb, dev, dev->saved);
	quiesce(pb, dev);
	dev->be = NULL;
	dev->vsbdf = 0;
	dev->permissive = false;
	dev->warned_write = false;
	log_info("%s: released by domain %u", bdf, domid);
}
