// SPDX-License-Identifier: MIT
/*
 * Assignable devices (libxl's, docs/protocol.md §8.8): bound to pciback
 * and quarantined (owned by DOMID_IO in the IOMMU); named in
 * /libxl/pci/<bdf>/name.  A device under an assignment marker
 * (/libxl/pci/<bdf>/domid) is in use, not assignable.  Every step that
 * fails undoes the ones before it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

static void node(uint32_t sbdf, const char *key, char *buf, size_t len)
{
	char m[16];

	xpt_marker_bdf(sbdf, m, sizeof(m));
	snprintf(buf, len, "/libxl/pci/%s%s%s", m, key ? "/" : "",
		 key ? key : "");
}

/* The device is no longer assignable: its name goes; the driver it came
 * from (driver_path, the platform's, kept where it was not rebound) stays
 * for a later `pci-assignable-remove -r`, as libxl keeps it.  The
 * directory goes once nothing is left in it. */
static void forget_name(struct xpt_ctx *c, uint32_t sbdf)
{
	char path[96], **ents;
	unsigned int n = 0;

	node(sbdf, "name", path, sizeof(path));
	xpt_xs_rm(c, XBT_NULL, path);
	node(sbdf, NULL, path, sizeof(path));
	ents = xs_directory(c->xs, XBT_NULL, path, &n);
	if (ents && n == 0)
		xpt_xs_rm(c, XBT_NULL, path);
	free(ents);
}

int xpt_assignable_seize(struct xpt_ctx *c, uint32_t sbdf, const char *name)
{
	struct xpt_pdev info;
	char bdf[16], reply[256], path[96];
	const char *p;
	bool seized_now = false;
	uint32_t other;
	int r = xpt_connect(c);

	if (r < 0)
		return r;
	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	if (name) {
		for (p = name; *p && isgraph((unsigned char)*p); p++)
			;
		if (!*name || *p || strlen(name) > 64)
			return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "name '%s': "
					"1 to 64 printable characters without "
					"spaces", name);
		if (xpt_dev_name_to_bdf(c, name, &other) == 0 && other != sbdf)
			return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "the name "
					"'%s' is already used by another "
					"device", name);
		c->err[0] = '\0';
		c->exit_code = 0;
	}
	r = c->pf->pci_info(c, sbdf, &info);
	if (r < 0)
		return xpt_fail(c, r == -ENODEV ? XPT_EXIT_NOTFOUND :
				XPT_EXIT_FAIL, r, "%s: %s", bdf, r == -ENODEV ?
				"no such PCI device on this host" :
				strerror(-r));
	if (info.owner != 0 && info.owner != (int)XPT_DOMID_IO)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s is assigned to "
				"domain %d; detach it first", bdf, info.owner);
	r = c->pf->pb_seize(c, sbdf, reply, sizeof(reply));
	if (r == 0)
		seized_now = true;
	else if (r != -EEXIST)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: pciback cannot "
				"seize it: %s", bdf, reply);
	if (info.owner != (int)XPT_DOMID_IO) {
		r = c->pf->assign(c, XPT_DOMID_IO, sbdf);
		if (r < 0) {
			if (seized_now)
				c->pf->pb_release(c, sbdf, true, reply,
						  sizeof(reply));
			return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot "
					"quarantine it: %s", bdf, strerror(-r));
		}
	}
	if (name) {
		node(sbdf, "name", path, sizeof(path));
		r = xpt_xs_write(c, XBT_NULL, path, "%s", name);
		if (r < 0)
			xpt_warn(c, "%s: cannot record its name: %s", bdf,
				 strerror(-r));
	}
	return 0;
}

int xpt_assignable_add(struct xpt_ctx *c, uint32_t sbdf, const char *name)
{
	int r = xpt_connect(c), fd = -1;

	if (r == 0)
		r = xpt_lock_devices(c, &sbdf, 1, &fd);
	if (r == 0)
		r = xpt_assignable_seize(c, sbdf, name);
	xpt_unlock_devices(&fd, 1);
	return r;
}

static int remove_locked(struct xpt_ctx *c, uint32_t sbdf, bool rebind);

/* Under the device's lock: an attach between its checks and its
 * backend write never loses the device to pciback's release. */
int xpt_assignable_remove(struct xpt_ctx *c, const struct xpt_pci *spec,
			  bool rebind)
{
	uint32_t sbdf = spec->sbdf;
	int r = xpt_connect(c), fd = -1;

	if (r < 0)
		return r;
	if (!spec->has_bdf) {
		r = xpt_dev_name_to_bdf(c, spec->name, &sbdf);
		if (r < 0)
			return r;
	}
	r = xpt_lock_devices(c, &sbdf, 1, &fd);
	if (r == 0)
		r = remove_locked(c, sbdf, rebind);
	xpt_unlock_devices(&fd, 1);
	return r;
}

static int remove_locked(struct xpt_ctx *c, uint32_t sbdf, bool rebind)
{
	struct xpt_hold h;
	struct xpt_pdev info;
	char bdf[16], reply[256];
	const char *layer;
	int r, owner;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	r = xpt_hold_survey(c, 0, &sbdf, 1, &h);
	if (r < 0)
		return r;
	if (h.xs_err)
		return xpt_fail(c, XPT_EXIT_FAIL, h.xs_err, "%s: xenstore "
				"cannot show who holds it: %s; nothing was "
				"changed, try again", bdf, strerror(-h.xs_err));
	owner = xpt_hold_other(&h, 0, &layer);
	if (owner >= 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s is in use: %s "
				"domain %d; detach it first (`xpt pci-detach "
				"%d %s`)", bdf, layer, owner == (int)XPT_DOMID_FIRST_RESERVED ?
				h.be_domid : owner, owner == (int)XPT_DOMID_FIRST_RESERVED ?
				h.be_domid : owner, bdf);
	r = c->pf->pci_info(c, sbdf, &info);
	if (r < 0)
		return xpt_fail(c, r == -ENODEV ? XPT_EXIT_NOTFOUND :
				XPT_EXIT_FAIL, r, "%s: %s", bdf, r == -ENODEV ?
				"no such PCI device on this host" :
				strerror(-r));
	if (info.owner != 0 && info.owner != (int)XPT_DOMID_IO)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s is owned by "
				"domain %d: detach it first", bdf, info.owner);
	if (info.owner == (int)XPT_DOMID_IO) {
		r = c->pf->deassign(c, XPT_DOMID_IO, sbdf);
		if (r < 0)
			return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot take "
					"it out of quarantine: %s", bdf,
					strerror(-r));
	}
	r = c->pf->pb_release(c, sbdf, rebind, reply, sizeof(reply));
	if (r < 0) {
		if (info.owner == (int)XPT_DOMID_IO)
			c->pf->assign(c, XPT_DOMID_IO, sbdf);
		return xpt_fail(c, r == -ENODEV ? XPT_EXIT_NOTFOUND :
				XPT_EXIT_FAIL, r, "%s: %s", bdf, r == -ENODEV ?
				"not assignable (not bound to pciback)" :
				reply);
	}
	forget_name(c, sbdf);
	return 0;
}

int xpt_assignable_list(struct xpt_ctx *c, struct xpt_assignable *ret,
			size_t max, size_t *ret_n)
{
	struct xpt_pb_dev *pb = NULL;
	char path[96], *v;
	size_t n = 0, i;
	int r = xpt_connect(c);

	if (r < 0)
		return r;
	pb = calloc(XPT_PB_MAX, sizeof(*pb));
	r = pb ? c->pf->pb_list(c, pb, XPT_PB_MAX, &n) : -ENOMEM;
	if (r < 0) {
		free(pb);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "listing pciback's devices: "
				"%s (is xen-pciback there? on the modelled "
				"host: `xpt host status`)",
				strerror(-r));
	}
	for (i = 0; i < n && i < max; i++) {
		ret[i].sbdf = pb[i].sbdf;
		node(pb[i].sbdf, "name", path, sizeof(path));
		v = xpt_xs_read(c, XBT_NULL, path);
		snprintf(ret[i].name, sizeof(ret[i].name), "%s", v ? v : "");
		free(v);
		node(pb[i].sbdf, "domid", path, sizeof(path));
		if (xpt_xs_read_int(c, XBT_NULL, path, &ret[i].domid) < 0)
			ret[i].domid = pb[i].domid;
	}
	free(pb);
	*ret_n = i;
	return 0;
}
