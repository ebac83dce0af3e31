// SPDX-License-Identifier: MIT
/*
 * The guest-visible topology (docs/protocol.md §5.4) and the root buses
 * published for pcifront.
 *
 * vpci (the default): one root bus 0000:00.  A function joins the slot of
 * an exported function of the same host device (domain, bus, slot) and
 * keeps its function number; anything else takes the first free slot of
 * 0..31, keeping its function number, except a VF, which always gets a
 * slot of its own as function 0.  Bridges are refused.
 * Example: host 03:00.0, 03:00.1 and VF 04:10.2 -> 00:00.0, 00:00.1, 00:01.0.
 *
 * passthrough (--passthrough-topology): the guest sees host addresses,
 * and every exported (domain, bus) is published as a root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "log.h"
#include "pciback.h"

static bool is_vf(const struct pb_dev *dev)
{
	return dev->info.pf_sbdf != UINT32_MAX;
}

static bool is_bridge(const struct pb_dev *dev)
{
	return (dev->info.class >> 8) == 0x0604;
}

static int vpci_place(struct pciback *pb, struct pb_backend *be,
		      struct pb_dev *dev, uint32_t *ret_vsbdf)
{
	struct pb_dev *slots[PB_MAX_SLOTS][8] = { { NULL } };
	unsigned int fn = HV_SBDF_FN(dev->sbdf);

	for (size_t i = 0; i < pb->ndevs; i++) {
		struct pb_dev *d = pb->devs[i];

		if (d->be == be)
			slots[HV_SBDF_DEV(d->vsbdf)][HV_SBDF_FN(d->vsbdf)] = d;
	}
	if (!is_vf(dev)) {
		for (unsigned int s = 0; s < PB_MAX_SLOTS; s++)
			for (unsigned int f = 0; f < 8; f++) {
				struct pb_dev *d = slots[s][f];

				if (!d || is_vf(d) ||
				    (d->sbdf & ~7u) != (dev->sbdf & ~7u))
					continue;
				if (slots[s][fn])
					return -EEXIST;
				*ret_vsbdf = HV_SBDF(0, 0, s, fn);
				return 0;
			}
	}
	for (unsigned int s = 0; s < PB_MAX_SLOTS; s++) {
		unsigned int f;

		for (f = 0; f < 8 && !slots[s][f]; f++)
			;
		if (f < 8)
			continue;
		*ret_vsbdf = HV_SBDF(0, 0, s, is_vf(dev) ? 0 : fn);
		return 0;
	}
	return -ENOMEM;
}

int pciback_export(struct pciback *pb, struct pb_backend *be,
		   struct pb_dev *dev, char *msg, size_t len)
{
	char bdf[16], vbdf[16];
	uint32_t vsbdf = dev->sbdf;
	int r;

	pciback_format_bdf(dev->sbdf, bdf, sizeof(bdf));
	if (dev->be) {
		snprintf(msg, len, "Couldn't locate PCI device (%s)! "
			 "perhaps already in-use?", bdf);
		return -EINVAL;
	}
	if (!pb->passthrough_topology) {
		if (is_bridge(dev)) {
			snprintf(msg, len, "Can't export bridges on the "
				 "virtual PCI bus (%s)", bdf);
			return -EPERM;
		}
		r = vpci_place(pb, be, dev, &vsbdf);
		if (r == -ENOMEM)
			snprintf(msg, len, "No more space on root virtual "
				 "PCI bus");
		else if (r < 0)
			snprintf(msg, len, "%s: its virtual function number "
				 "is taken", bdf);
		if (r < 0)
			return r;
	}
	dev->be = be;
	dev->vsbdf = vsbdf;
	dev->msi_on = dev->msix_on = false;
	dev->msix_nvec = 0;
	pciback_conf_export(pb, dev);
	pciback_format_bdf(vsbdf, vbdf, sizeof(vbdf));
	log_info("%s: exported to domain %u as %s", bdf, be->domid, vbdf);
	return 0;
}

struct pb_dev *pciback_lookup_vdev(struct pciback *pb, struct pb_backend *be,
				   uint32_t vsbdf)
{
	for (size_t i = 0; i < pb->ndevs; i++)
		if (pb->devs[i]->be == be && pb->devs[i]->vsbdf == vsbdf)
			return pb->devs[i];
	return NULL;
}

static int publish_root(struct pciback *pb, struct pb_backend *be,
			unsigned int seg, unsigned int bus)
{
	char key[PB_KEYPATH_MAX], val[16], *s;
	int num = 0, r;

	r = pciback_xs_read_int(pb, be->path, "root_num", &num);
	if (r == -ENOENT)
		num = 0;
	else if (r < 0)
		return r;
	for (int i = 0; i < num; i++) {
		unsigned int dseg, dbus;
		char path[PB_KEYPATH_MAX];
		unsigned int l;

		snprintf(path, sizeof(path), "%s/root-%d", be->path, i);
		s = xs_read(pb->xs, XBT_NULL, path, &l);
		if (!s)
			continue;
		r = sscanf(s, "%x:%x", &dseg, &dbus);
		free(s);
		if (r == 2 && dseg == seg && dbus == bus)
			return 0;	/* already published */
	}
	snprintf(key, sizeof(key), "root-%d", num);
	snprintf(val, sizeof(val), "%04x:%02x", seg, bus);
	r = pciback_be_write(pb, be, key, val);
	if (r < 0)
		return r;
	snprintf(val, sizeof(val), "%d", num + 1);
	r = pciback_be_write(pb, be, "root_num", val);
	if (r < 0)
		return r;
	log_info("domain %u: published root %04x:%02x", be->domid, seg, bus);
	return 0;
}

int pciback_publish_roots(struct pciback *pb, struct pb_backend *be)
{
	int r;

	if (!pb->passthrough_topology)
		return publish_root(pb, be, 0, 0);
	for (size_t i = 0; i < pb->ndevs; i++) {
		struct pb_dev *d = pb->devs[i];

		if (d->be != be)
			continue;
		r = publish_root(pb, be, HV_SBDF_SEG(d->vsbdf),
				 HV_SBDF_BUS(d->vsbdf));
		if (r < 0)
			return r;
	}
	return 0;
}
