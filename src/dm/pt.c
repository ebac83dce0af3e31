// SPDX-License-Identifier: MIT
/*
 * xen-pci-passthrough devices of xpt-dm: device_add takes a host device
 * the toolstack has already assigned to the guest (the hypervisor's
 * owner must be the guest: QEMU cannot pass through what the IOMMU does
 * not give it) and, in a stub domain, exported to the stub (hostdev.c),
 * device_del gives it back, query-pci lists them.
 *
 * Each device gets its guest slot at device_add (addr=, else the first
 * free from 4) and claims it in the guest's ioreq server (ioreq.c); emu.c
 * answers its config space.  As in QEMU, device_add and device_del go
 * through the guest's ACPI PCI hotplug (acpi.c): device_add tells the
 * guest a device came (it rescans the slot); device_del only asks the
 * guest to let go, and the device goes when the guest ejects its slot:
 * then what its MSI/MSI-X enabled is unbound and unmapped, the slot
 * released and DEVICE_DELETED emitted.  A guest that never ejects keeps
 * the device; the toolstack's forced detach goes on without it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.', '_'. */
static bool id_ok(const char *id)
{
	const char *p;

	if (!isalpha((unsigned char)id[0]) || strlen(id) >= 64)
		return false;
	for (p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._", *p))
			return false;
	return true;
}

/* "S.F" or "S" in hex, as libxl writes addr= */
static int parse_addr(const char *s, int *ret_slot)
{
	char *end;
	unsigned long slot = strtoul(s, &end, 16), fn = 0;

	if (end == s || slot > 0x1f)
		return -EINVAL;
	if (*end == '.') {
		s = end + 1;
		fn = strtoul(s, &end, 16);
		if (end == s || fn > 7)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*ret_slot = (int)slot;
	return 0;
}

/* A guest slot: the one asked for, else the first free from 4 (QEMU's
 * xenfv machine has its own devices below); fixed for the device's life. */
static int slot_pick(const struct dm *d)
{
	size_t i;
	int s;

	for (s = 4; s < 32; s++) {
		bool used = false;

		for (i = 0; i < d->ndev; i++)
			used |= d->dev[i].slot == s;
		if (!used)
			return s;
	}
	return -1;
}

int pt_add(struct dm *d, const char *id, const char *hostaddr,
	   const char *addr, bool permissive, char *err, size_t errlen)
{
	struct hv_pci_dev info;
	struct dm_dev *dev;
	uint32_t sbdf;
	size_t i;
	int r, slot = -1;

	if (*id && !id_ok(id)) {
		snprintf(err, errlen, "Parameter 'id' expects an identifier");
		return -EINVAL;
	}
	for (i = 0; *id && i < d->ndev; i++)
		if (!strcmp(d->dev[i].id, id)) {
			snprintf(err, errlen, "Duplicate device ID '%s'", id);
			return -EEXIST;
		}
	if (!hostaddr) {
		snprintf(err, errlen, "Parameter 'hostaddr' is missing");
		return -EINVAL;
	}
	if (hv_parse_bdf(hostaddr, &sbdf) < 0) {
		snprintf(err, errlen, "Property 'xen-pci-passthrough.hostaddr' "
			 "doesn't take value '%.64s'", hostaddr);
		return -EINVAL;
	}
	if (addr && parse_addr(addr, &slot) < 0) {
		snprintf(err, errlen, "Property 'xen-pci-passthrough.addr' "
			 "doesn't take value '%.32s'", addr);
		return -EINVAL;
	}
	for (i = 0; slot >= 0 && i < d->ndev; i++)
		if (d->dev[i].slot == slot) {
			snprintf(err, errlen, "PCI: slot %d function 0 not "
				 "available for xen-pci-passthrough, in use by "
				 "%s", slot, d->dev[i].id);
			return -EBUSY;
		}
	if (d->ndev == DM_MAX_DEVS || (slot < 0 &&
					(slot = slot_pick(d)) < 0)) {
		snprintf(err, errlen, "PCI: no slot/function available for "
			 "xen-pci-passthrough, all 32 slots or functions are in "
			 "use");
		return -ENOSPC;
	}
	/* xen_pt's realize opens the device's sysfs config first: in a
	 * stub domain that is there only once its pcifront has the device,
	 * which is why the toolstack retries */
	if (hostdev_visible(d, sbdf) < 0) {
		snprintf(err, errlen, "xen_pt: Could not open '/sys/bus/pci/"
			 "devices/%04x:%02x:%02x.%x/config': No such file or "
			 "directory", HV_SBDF_SEG(sbdf), HV_SBDF_BUS(sbdf),
			 HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));
		return -ENOENT;
	}
	if ((r = dm_hv_open(d)) < 0) {
		snprintf(err, errlen, "xen_pt: cannot reach the hypervisor: "
			 "%s", strerror(-r));
		return r;
	}
	r = hv_pci_info(d->hv, sbdf, &info);
	if (r < 0 || info.owner != d->domid) {
		snprintf(err, errlen, "xen_pt: %s is %s", hostaddr, r < 0 ?
			 "not a host PCI device" : "not assigned to this "
			 "domain");
		return r < 0 ? r : -EPERM;
	}
	dev = &d->dev[d->ndev];
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->id, sizeof(dev->id), "%s", id);
	dev->host_sbdf = sbdf;
	dev->slot = slot;
	dev->permissive = permissive;
	r = emu_init(d, dev);
	if (r == 0)
		r = ioreq_map_dev(d, dev);
	if (r < 0) {
		snprintf(err, errlen, "xen_pt: %s: cannot claim guest slot %d: "
			 "%s", hostaddr, slot, strerror(-r));
		return r;
	}
	d->ndev++;
	if (dev->mapped)
		emu_bind_intx(d, dev);
	log_info("domain %u: %s passed through as %s at 00:%02x.0%s",
		 d->domid, hostaddr, *id ? id : "(no id)", slot,
		 dev->mapped ? "" : " (no ioreq server: not guest-visible)");
	/* QEMU: every device_add after machine creation is a hot-plug,
	 * prelaunch included */
	acpi_plug(d, slot);
	return 0;
}

int pt_del(struct dm *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->ndev; i++) {
		struct dm_dev *dev = &d->dev[i];

		if (strcmp(dev->id, id) || !*id)
			continue;
		if (dev->unplug_requested)
			return -EBUSY;
		dev->unplug_requested = true;
		log_info("domain %u: %s: unplug requested from the guest "
			 "(slot %d)", d->domid, id, dev->slot);
		acpi_unplug_request(d, dev->slot);
		return 0;
	}
	return -ENODEV;
}

void pt_remove(struct dm *d, struct dm_dev *dev)
{
	char id[sizeof(dev->id)], data[256];
	size_t i = (size_t)(dev - d->dev);

	memcpy(id, dev->id, sizeof(id));
	emu_release(d, dev);
	ioreq_unmap_dev(d, dev);
	log_info("domain %u: %s removed", d->domid, *id ? id : "(no id)");
	memmove(dev, dev + 1, (d->ndev - i - 1) * sizeof(d->dev[0]));
	d->ndev--;
	/* ids are identifiers (pt_add checks): no escaping needed; a
	 * device without one is reported by its path only, as QEMU does */
	if (*id)
		snprintf(data, sizeof(data), "{\"device\": \"%s\", \"path\": "
			 "\"/machine/peripheral/%s\"}", id, id);
	else
		snprintf(data, sizeof(data), "{\"path\": "
			 "\"/machine/peripheral-anon/device[%zu]\"}", i);
	qmp_event(d, "DEVICE_DELETED", data);
}

char *pt_query_json(struct dm *d)
{
	size_t i, cap = 256 + d->ndev * 320, n;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	n = (size_t)snprintf(out, cap, "[{\"bus\": 0, \"devices\": [");
	for (i = 0; i < d->ndev; i++) {
		struct hv_pci_dev info = { 0 };

		if (d->hv)
			hv_pci_info(d->hv, d->dev[i].host_sbdf, &info);
		n += (size_t)snprintf(out + n, cap - n, "%s{\"bus\": 0, "
				      "\"slot\": %d, \"function\": 0, "
				      "\"class_info\": {\"class\": %u}, "
				      "\"id\": {\"device\": %u, \"vendor\": "
				      "%u}, \"qdev_id\": \"%s\", "
				      "\"regions\": []}", i ? ", " : "",
				      d->dev[i].slot, info.class >> 8,
				      info.device, info.vendor,
				      d->dev[i].id);
	}
	snprintf(out + n, cap - n, "]}]");
	return out;
}
