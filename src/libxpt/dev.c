// SPDX-License-Identifier: MIT
/*
 * The host side of passing one PCI function to a domain (libxl's
 * pci_add_dm_done, docs/protocol.md §8.4, corrected): the assignment marker
 * /libxl/pci/<bdf>/domid claimed in a transaction (so two toolstacks can
 * never both take a device), reset, IOMMU test-assign, iomem/ioport
 * permissions with 64-bit frame numbers, the INTx pirq and its permission,
 * then the assignment.  Every step is recorded in struct xpt_dev so that
 * xpt_dev_release() undoes exactly what was done, in reverse, and is also
 * the teardown of detach and destroy.
 *
 * Reset rule (docs/protocol.md §12 item 15): for a device reset through
 * its bus (the GPU and its audio function), a multi-function set resets
 * function 0 only, and a function is never reset while another function
 * of the slot is assigned to some domain; FLR and PM resets are per
 * function (SR-IOV VFs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

static int marker_path(uint32_t sbdf, const char *key, char *buf, size_t len)
{
	char m[16];

	xpt_marker_bdf(sbdf, m, sizeof(m));
	snprintf(buf, len, "/libxl/pci/%s%s%s", m, key ? "/" : "",
		 key ? key : "");
	return 0;
}

/* -1 when the device has no marker (or one that is not a domid) */
static int marker_owner(struct xpt_ctx *c, xs_transaction_t t, uint32_t sbdf)
{
	char path[96];
	int v;

	marker_path(sbdf, "domid", path, sizeof(path));
	if (xpt_xs_read_int(c, t, path, &v) < 0 || v < 0)
		return -1;
	return v;
}

/* As marker_owner, but a store that fails the read is an error
 * (-EIO), not "no marker": what claims and drops markers decides on it. */
static int marker_read(struct xpt_ctx *c, xs_transaction_t t, uint32_t sbdf,
		       int *ret_owner)
{
	char path[96];
	int v, r;

	marker_path(sbdf, "domid", path, sizeof(path));
	r = xpt_xs_read_int(c, t, path, &v);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	*ret_owner = r < 0 || v < 0 ? -1 : v;
	return 0;
}

static int marker_claim(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	struct xpt_txn tx = XPT_TXN_INIT;
	char path[96], bdf[16];
	int owner, r;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	marker_path(sbdf, "domid", path, sizeof(path));
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		r = marker_read(c, tx.t, sbdf, &owner);
		if (r < 0) {
			xpt_txn_abort(c, &tx);
			break;
		}
		if (owner >= 0) {
			xpt_txn_abort(c, &tx);
			if (owner == (int)domid)
				return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST,
						"%s is already attached to "
						"domain %u", bdf, domid);
			return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s is not "
					"assignable: it is assigned to domain "
					"%d; detach it there first (`xpt "
					"pci-detach %d %s`)", bdf, owner, owner,
					bdf);
		}
		xpt_txn_write(c, &tx, path, "%u", domid);
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot reserve it "
				"for domain %u (%s): %s", bdf, domid, path,
				strerror(-r));
	return 0;
}

static int marker_drop(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	struct xpt_txn tx = XPT_TXN_INIT;
	char path[96];
	int r, owner;

	marker_path(sbdf, "domid", path, sizeof(path));
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		r = marker_read(c, tx.t, sbdf, &owner);
		if (r < 0) {
			xpt_txn_abort(c, &tx);
			break;
		}
		if (owner == (int)domid)
			xpt_txn_rm(c, &tx, path);
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	return r;
}

int xpt_dev_name_to_bdf(struct xpt_ctx *c, const char *name,
			uint32_t *ret_sbdf)
{
	unsigned int n, i, seg, bus, dev, fn;
	char path[128], *v, **ents = xs_directory(c->xs, XBT_NULL,
						   "/libxl/pci", &n);

	for (i = 0; ents && i < n; i++) {
		snprintf(path, sizeof(path), "/libxl/pci/%s/name", ents[i]);
		v = xpt_xs_read(c, XBT_NULL, path);
		if (v && !strcmp(v, name) &&
		    sscanf(ents[i], "%x-%x-%x-%x", &seg, &bus, &dev, &fn) == 4) {
			free(v);
			free(ents);
			*ret_sbdf = XPT_PCI_SBDF(seg, bus, dev, fn);
			return 0;
		}
		free(v);
	}
	free(ents);
	return xpt_fail(c, XPT_EXIT_NOTFOUND, -ENOENT, "no assignable device "
			"is named '%s' (see `xpt pci-assignable-list`; name "
			"one with `xpt pci-assignable-add -n %s BDF`)", name,
			name);
}

int xpt_dev_marked(struct xpt_ctx *c, unsigned int domid, uint32_t *ret,
		   size_t max, size_t *ret_n)
{
	unsigned int ne = 0, i, seg, bus, dev, fn;
	char **ents = xs_directory(c->xs, XBT_NULL, "/libxl/pci", &ne);
	size_t n = 0;

	if (!ents && errno != ENOENT)
		return errno ? -errno : -EIO;
	for (i = 0; ents && i < ne && n < max; i++) {
		uint32_t sbdf;
		int owner, r;

		if (sscanf(ents[i], "%x-%x-%x-%x", &seg, &bus, &dev, &fn) != 4)
			continue;
		sbdf = XPT_PCI_SBDF(seg, bus, dev, fn);
		r = marker_read(c, XBT_NULL, sbdf, &owner);
		if (r < 0) {
			free(ents);
			return r;
		}
		if (owner == (int)domid)
			ret[n++] = sbdf;
	}
	free(ents);
	*ret_n = n;
	return 0;
}

int xpt_dev_expand(struct xpt_ctx *c, const struct xpt_pci *spec,
		   struct xpt_dev *ret, size_t max, size_t *ret_n)
{
	uint32_t sbdf = spec->sbdf, *list;
	char bdf[16];
	size_t n = 0, nlist = 0;
	int r, fn;

	if (!spec->has_bdf) {
		r = xpt_dev_name_to_bdf(c, spec->name, &sbdf);
		if (r < 0)
			return r;
	}
	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	if (spec->func_mask == XPT_FUNC_ALL) {
		if (spec->vslot < 0)
			return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%.*s.*: "
					"must specify a v-slot for multi-"
					"function devices (e.g. %.*s.*@5)",
					(int)strlen(bdf) - 2, bdf,
					(int)strlen(bdf) - 2, bdf);
		list = calloc(XPT_PCI_MAX, sizeof(*list));
		r = list ? c->pf->pci_list(c, list, XPT_PCI_MAX, &nlist) :
			   -ENOMEM;
		if (r < 0) {
			free(list);
			return xpt_fail(c, XPT_EXIT_FAIL, r, "listing the host's "
					"PCI devices: %s", strerror(-r));
		}
		for (fn = 7; fn >= 0; fn--) {
			uint32_t s = (sbdf & ~7u) | (uint32_t)fn;
			size_t i;

			for (i = 0; i < nlist; i++)
				if (list[i] == s && n < max)
					ret[n++].sbdf = s;
		}
		free(list);
		if (n == 0)
			return xpt_fail(c, XPT_EXIT_NOTFOUND, -ENODEV, "no "
					"function of %.*s.* exists on this host",
					(int)strlen(bdf) - 2, bdf);
	} else {
		ret[n++].sbdf = sbdf;
	}
	for (size_t i = 0; i < n; i++) {
		struct xpt_dev *d = &ret[i];
		uint32_t s = d->sbdf;

		memset(d, 0, sizeof(*d));
		d->sbdf = s;
		d->spec = *spec;
		d->spec.sbdf = s;
		d->spec.has_bdf = true;
		d->spec.func_mask = (uint8_t)(1u << XPT_PCI_FN(s));
		d->vdevfn = spec->vslot >= 0 ?
			    (int)((unsigned int)spec->vslot << 3 | XPT_PCI_FN(s)) :
			    -1;
		d->pirq_nr = -1;
		r = c->pf->pci_info(c, s, &d->info);
		if (r < 0) {
			xpt_format_bdf(s, bdf, sizeof(bdf));
			return xpt_fail(c, r == -ENODEV ? XPT_EXIT_NOTFOUND :
					XPT_EXIT_FAIL, r, "%s: %s", bdf,
					r == -ENODEV ? "no such PCI device on "
					"this host (see `xpt pci-assignable-"
					"list`)" : strerror(-r));
		}
	}
	*ret_n = n;
	return 0;
}

static bool in_set(uint32_t sbdf, const struct xpt_dev *devs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (devs[i].sbdf == sbdf)
			return true;
	return false;
}

/* Another function of sbdf's slot, outside the set, assigned somewhere. */
static bool slot_busy(struct xpt_ctx *c, uint32_t sbdf,
		      const struct xpt_dev *devs, size_t n)
{
	uint32_t fn, s;

	for (fn = 0; fn < 8; fn++) {
		s = (sbdf & ~7u) | fn;
		if (s != sbdf && !in_set(s, devs, n) &&
		    marker_owner(c, XBT_NULL, s) >= 0)
			return true;
	}
	return false;
}

/* Reset the devices whose reset this operation owes (d->reset: it
 * reserved them); d->reset_err records a reset that did not happen. */
static void reset_set(struct xpt_ctx *c, struct xpt_dev *devs, size_t n,
		      bool teardown)
{
	char reply[256], bdf[16];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		struct xpt_dev *d = &devs[i];
		/* a bus reset hits every function of the slot; FLR and PM
		 * resets are per function (SR-IOV VFs) */
		bool bus = d->info.reset == XPT_RESET_BUS;

		d->reset_err = 0;
		if (!d->reset)
			continue;
		if (bus && XPT_PCI_FN(d->sbdf) != 0 &&
		    in_set(d->sbdf & ~7u, devs, n))
			continue;	/* function 0 resets the slot */
		xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
		if (bus && slot_busy(c, d->sbdf, devs, n)) {
			xpt_warn(c, "%s: not reset: another function of the "
				 "same device is assigned to a domain", bdf);
			continue;
		}
		r = c->pf->pb_reset(c, d->sbdf, reply, sizeof(reply));
		/* pciback lost it (restarted, as a module reload would): seize
		 * it again so it goes back to assignable, reset */
		if (r == -ENODEV && teardown &&
		    c->pf->pb_seize(c, d->sbdf, reply, sizeof(reply)) == 0) {
			struct xpt_pdev info;

			xpt_warn(c, "%s: pciback no longer held it (restarted?):"
				 " seized it again", bdf);
			r = c->pf->pb_reset(c, d->sbdf, reply, sizeof(reply));
			/* a restarted hypervisor gave it back to dom0 */
			if (c->pf->pci_info(c, d->sbdf, &info) == 0 &&
			    info.owner == 0 &&
			    c->pf->assign(c, XPT_DOMID_IO, d->sbdf) < 0)
				xpt_warn(c, "%s: cannot quarantine it: `xpt "
					 "pci-assignable-add %s`", bdf, bdf);
		}
		if (r == -ENOTTY) {
			xpt_warn(c, "%s has no reset method: it %s without a "
				 "reset", bdf, teardown ? "was released" :
				 "is assigned");
		} else if (r < 0) {
			xpt_warn(c, "%s: reset failed: %s", bdf, reply);
			d->reset_err = r;
		}
	}
}

/* The INTx pirq is the GSI's: keep it while another device of the
 * domain uses the same line. */
static bool gsi_shared(struct xpt_ctx *c, unsigned int domid, uint32_t gsi,
		       const struct xpt_dev *devs, size_t n)
{
	unsigned int ne, i, seg, bus, dev, fn;
	char **ents = xs_directory(c->xs, XBT_NULL, "/libxl/pci", &ne);
	struct xpt_pdev info;
	bool shared = false;

	for (i = 0; ents && i < ne && !shared; i++) {
		uint32_t s;

		if (sscanf(ents[i], "%x-%x-%x-%x", &seg, &bus, &dev, &fn) != 4)
			continue;
		s = XPT_PCI_SBDF(seg, bus, dev, fn);
		if (in_set(s, devs, n) ||
		    marker_owner(c, XBT_NULL, s) != (int)domid)
			continue;
		shared = c->pf->pci_info(c, s, &info) == 0 && info.intx_pin &&
			 info.gsi == gsi;
	}
	free(ents);
	return shared;
}

static int perms_set(struct xpt_ctx *c, unsigned int domid,
		     const struct xpt_pdev *info, int allow)
{
	unsigned int i;
	int r, first = 0;

	for (i = 0; i < XPT_NBARS; i++) {
		const struct xpt_pbar *b = &info->bar[i];

		if (!b->size || !b->addr)
			continue;
		if (b->io)
			r = c->pf->ioport_permission(c, domid,
						     (uint32_t)b->addr,
						     (uint32_t)b->size, allow);
		else	/* 64-bit frame numbers (XSA-476) */
			r = c->pf->iomem_permission(c, domid, b->addr >> 12,
						(b->addr + b->size - 1) / 4096 -
						b->addr / 4096 + 1, allow);
		if (r < 0 && !first)
			first = r;
		if (r < 0 && allow)
			return r;
	}
	return first;
}

static int prepare_one(struct xpt_ctx *c, unsigned int domid,
		       struct xpt_dev *d)
{
	char bdf[16];
	int r;

	xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
	r = c->pf->test_assign(c, d->sbdf);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s cannot be assigned "
				"to domain %u: %s", bdf, domid, r == -EINVAL ?
				"it is already assigned to another domain" :
				strerror(-r));
	r = perms_set(c, domid, &d->info, 1);
	d->perms = true;
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: cannot grant "
				"the BARs of %s: %s", domid, bdf, strerror(-r));
	if (d->info.intx_pin) {
		r = c->pf->map_pirq(c, domid, d->sbdf, &d->pirq_nr);
		if (r == 0) {
			d->pirq = true;
			r = c->pf->irq_permission(c, domid, d->pirq_nr, 1);
		}
		if (r < 0)
			return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: "
					"cannot map the INTx line of %s: %s",
					domid, bdf, strerror(-r));
	}
	r = c->pf->assign(c, domid, d->sbdf);
	if (r == -EOPNOTSUPP)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u was created "
				"without passthrough, so %s cannot be "
				"assigned: set passthrough=\"enabled\" (or a "
				"pci=[...] list) in its configuration and "
				"re-create it", domid, bdf);
	if (r == -EBUSY)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s cannot be assigned "
				"to domain %u: busy (owned by another domain, "
				"or not reset since its last user: try `xpt "
				"pci-assignable-remove %s` and "
				"`pci-assignable-add %s`)", bdf, domid, bdf,
				bdf);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s cannot be assigned "
				"to domain %u: %s", bdf, domid, strerror(-r));
	d->assigned = true;
	return 0;
}

/* Give back what seize=1 took in this operation: out of quarantine,
 * out of pciback. */
static void unseize(struct xpt_ctx *c, struct xpt_dev *d)
{
	char reply[256], bdf[16];

	xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
	c->pf->deassign(c, XPT_DOMID_IO, d->sbdf);
	if (c->pf->pb_release(c, d->sbdf, true, reply, sizeof(reply)) < 0)
		xpt_warn(c, "%s: seized for this attach, but could not be "
			 "given back: %s", bdf, reply);
	d->seized = false;
}

/* Refuse, before any side effect, what is not this domain's to take or
 * what pciback would refuse; mark this domain's own leftovers. */
static int prepare_check(struct xpt_ctx *c, unsigned int domid,
			 struct xpt_dev *d, const struct xpt_hold *h,
			 bool *ret_leftover)
{
	const char *layer;
	char bdf[16];
	int other;

	xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
	*ret_leftover = false;
	if (h->xs_err)
		return xpt_fail(c, XPT_EXIT_FAIL, h->xs_err, "domain %u: "
				"xenstore cannot show who holds %s: %s; nothing "
				"was changed, try again", domid, bdf,
				strerror(-h->xs_err));
	if (h->bridge)
		return xpt_fail(c, XPT_EXIT_FAIL, -EINVAL, "%s is a PCI bridge: "
				"pciback does not pass bridges through (it "
				"would close domain %u's PCI backend); attach "
				"the devices behind it instead", bdf, domid);
	other = xpt_hold_other(h, domid, &layer);
	if (other >= 0 && other != (int)XPT_DOMID_FIRST_RESERVED)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s cannot be "
				"attached to domain %u: %s domain %d; detach it "
				"there first (`xpt pci-detach -f %d %s`)", bdf,
				domid, layer, other, other, bdf);
	if (other >= 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s cannot be "
				"attached to domain %u: %s %d; see `xpt "
				"pci-list` of each domain", bdf, domid, layer,
				h->be_domid);
	if (h->be_domid == (int)domid) {
		if (h->be_state == 5 || h->be_state == 6)
			return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s is being "
					"detached from domain %u (state-N %d); "
					"finish that with `xpt pci-detach -f "
					"%u %s`", bdf, domid, h->be_state,
					domid, bdf);
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s is already "
				"attached to domain %u (see `xpt pci-list "
				"%u`)", bdf, domid, domid);
	}
	if (h->pb_domid == (int)domid)
		return xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "xpt-pciback still "
				"exports %s to domain %u (a detach did not "
				"finish); finish it with `xpt pci-detach -f %u "
				"%s`", bdf, domid, domid, bdf);
	if (!h->pb_bound && !d->spec.seize)
		return xpt_fail(c, XPT_EXIT_FAIL, -EPERM, "%s is not "
				"assignable (not bound to pciback): make it "
				"assignable with `xpt pci-assignable-add %s`, "
				"or add seize=1 to the spec", bdf, bdf);
	/* Reserved for or owned by this domain, but in no backend and not
	 * exported: an operation of this domain was interrupted (we hold
	 * its lock, so none is running). */
	*ret_leftover = h->marker == (int)domid || h->hv == (int)domid;
	return 0;
}

/* What a domain holds of a device, as release flags, from the survey:
 * only layers that name this domain are undone. */
static int flags_from_hold(struct xpt_ctx *c, unsigned int domid,
			   struct xpt_dev *d, const struct xpt_hold *h)
{
	int r;

	d->assigned = h->hv == (int)domid;
	d->marker = h->marker == (int)domid;
	d->reset = d->assigned || d->marker;
	d->perms = d->reset;
	d->pirq = false;
	d->pirq_nr = -1;
	if (!d->perms || !d->info.intx_pin)
		return 0;
	r = c->pf->map_pirq(c, domid, d->sbdf, &d->pirq_nr);
	if (r == -ESRCH)
		return 0;	/* the domain is gone, and its pirqs with it */
	if (r < 0)
		return r;
	d->pirq = true;	/* the existing mapping */
	return 0;
}

int xpt_dev_prepare(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_dev *devs, size_t n)
{
	struct xpt_hold *h = calloc(n ? n : 1, sizeof(*h));
	uint32_t *sbdfs = calloc(n ? n : 1, sizeof(*sbdfs));
	bool *leftover = calloc(n ? n : 1, sizeof(*leftover));
	char left[512];
	size_t i;
	int r = -ENOMEM;

	if (!h || !sbdfs || !leftover)
		goto out;
	for (i = 0; i < n; i++)
		sbdfs[i] = devs[i].sbdf;
	r = xpt_hold_survey(c, domid, sbdfs, n, h);
	if (r < 0) {
		char bdf[16];

		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
		r = c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: "
					     "cannot establish who holds %s%s: "
					     "%s; nothing was changed, try "
					     "again", domid, bdf, n > 1 ?
					     " and the other devices" : "",
					     strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = prepare_check(c, domid, &devs[i], &h[i], &leftover[i]);
		if (r < 0)
			goto out;
	}
	/* side effects from here on, each recorded in devs[] */
	for (i = 0; i < n; i++) {
		struct xpt_dev old = devs[i];
		char bdf[16];

		if (!leftover[i])
			continue;
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		xpt_warn(c, "%s: finishing an interrupted operation of domain "
			 "%u first", bdf, domid);
		r = flags_from_hold(c, domid, &old, &h[i]);
		if (r < 0) {
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "%s: the leftovers of "
				     "an interrupted operation of domain %u: "
				     "its interrupt cannot be looked up: %s; "
				     "retry, or destroy the domain", bdf, domid,
				     strerror(-r));
			goto out;
		}
		if (xpt_dev_release(c, domid, &old, 1, left, sizeof(left))) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -EBUSY, "%s: the "
				     "leftovers of an interrupted operation "
				     "of domain %u could not be cleared: %s; "
				     "retry, or destroy the domain", bdf,
				     domid, left);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (!h[i].pb_bound) {	/* seize=1 */
			r = xpt_assignable_seize(c, devs[i].sbdf, NULL);
			if (r < 0)
				goto fail;
			devs[i].seized = true;
		}
		r = marker_claim(c, domid, devs[i].sbdf);
		if (r < 0)
			goto fail;
		devs[i].marker = devs[i].reset = true;
	}
	xpt_delay_point(c, "prepare.marked");
	reset_set(c, devs, n, false);
	for (i = 0; i < n; i++) {
		r = prepare_one(c, domid, &devs[i]);
		if (r < 0)
			goto fail;
		xpt_delay_point(c, "prepare.assigned");
	}
	r = 0;
	goto out;
fail:
	xpt_dev_undo(c, domid, devs, n, "attach");
out:
	free(h);
	free(sbdfs);
	free(leftover);
	return r;
}

/* Undo exactly what the flags record, in reverse; a device whose
 * deassign or reset did not happen keeps its marker, so it stays
 * reserved for domid and a retry (or `xpt destroy`) finishes it.
 * Returns how many devices were left so, described in left. */
int xpt_dev_release(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_dev *devs, size_t n, char *left,
		    size_t leftlen)
{
	char bdf[16];
	size_t i, used = 0;
	int r, nleft = 0;
	bool any = false;

	if (leftlen)
		left[0] = '\0';
	for (i = n; i-- > 0;) {
		struct xpt_dev *d = &devs[i];

		d->stuck = NULL;
		xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
		if (d->assigned) {
			r = c->pf->deassign(c, domid, d->sbdf);
			if (r < 0 && r != -ENODEV && r != -ESRCH) {
				xpt_warn(c, "%s: deassign from domain %u: %s",
					 bdf, domid, strerror(-r));
				d->stuck = "the hypervisor did not deassign it";
			} else {
				d->assigned = false;
			}
		}
		/* a guest that keeps a BAR or the interrupt of a device it
		 * no longer owns can still reach it: not taken back is
		 * stuck, and the retry that finds the marker revokes again */
		if (d->pirq) {
			r = c->pf->irq_permission(c, domid, d->pirq_nr, 0);
			if (r == 0 && !gsi_shared(c, domid, d->info.gsi, devs,
						  n))
				r = c->pf->unmap_pirq(c, domid, d->pirq_nr);
			if (r < 0 && r != -ESRCH) {
				xpt_warn(c, "%s: domain %u keeps its interrupt "
					 "(pirq %d): %s", bdf, domid,
					 d->pirq_nr, strerror(-r));
				if (!d->stuck)
					d->stuck = "its interrupt was not "
						   "taken back";
			} else {
				d->pirq = false;
			}
		}
		if (d->perms) {
			r = perms_set(c, domid, &d->info, 0);
			if (r < 0 && r != -ESRCH) {
				xpt_warn(c, "%s: domain %u keeps access to its "
					 "BARs: %s", bdf, domid, strerror(-r));
				if (!d->stuck)
					d->stuck = "its BARs were not revoked";
			} else {
				d->perms = false;
			}
		}
		any |= d->reset && !d->stuck;
	}
	xpt_delay_point(c, "release.deassigned");
	for (i = 0; i < n; i++)
		if (devs[i].stuck)
			devs[i].reset = false;
	if (any)
		reset_set(c, devs, n, true);
	xpt_delay_point(c, "release.reset");
	for (i = 0; i < n; i++) {
		struct xpt_dev *d = &devs[i];

		if (!d->stuck && d->reset_err)
			d->stuck = d->reset_err == -ETIMEDOUT ? "not reset: "
				   "xpt-pciback did not answer" : "not reset";
		d->reset = false;
		/* a marker that stays reserves the device: said so, and
		 * the retry that finds it removes it */
		if (!d->stuck && d->marker && marker_drop(c, domid, d->sbdf) < 0)
			d->stuck = "its /libxl/pci marker could not be removed";
		if (d->stuck) {
			nleft++;
			xpt_format_bdf(d->sbdf, bdf, sizeof(bdf));
			if (used < leftlen)
				used += (size_t)snprintf(left + used,
							 leftlen - used,
							 "%s%s (%s)", used ?
							 ", " : "", bdf,
							 d->stuck);
			continue;	/* stays reserved */
		}
		d->marker = false;
		if (d->seized)
			unseize(c, d);
	}
	return nleft;
}

void xpt_dev_undo(struct xpt_ctx *c, unsigned int domid,
		  struct xpt_dev *devs, size_t n, const char *what)
{
	char left[512], bdf[16];
	size_t i;

	if (xpt_dev_release(c, domid, devs, n, left, sizeof(left)) == 0) {
		xpt_fail_more(c, "the %s was undone", what);
		return;
	}
	for (i = 0; i < n && !devs[i].stuck; i++)
		;
	xpt_format_bdf(i < n ? devs[i].sbdf : devs[0].sbdf, bdf, sizeof(bdf));
	xpt_fail_more(c, "the %s stopped half-way and not all of it could "
		      "be taken back: %s, still reserved for domain %u: release "
		      "with `xpt pci-detach -f %u %s` or destroy the domain",
		      what, left, domid, domid, bdf);
}

/* The host side of devices leaving domid (detach, destroy): what the
 * survey says is the domain's is released; a device another domain holds
 * (a stale or forged backend entry) is left alone. */
int xpt_dev_teardown(struct xpt_ctx *c, unsigned int domid,
		     const uint32_t *sbdfs, size_t n, char *left,
		     size_t leftlen)
{
	struct xpt_dev *devs = calloc(n ? n : 1, sizeof(*devs));
	struct xpt_hold *h = calloc(n ? n : 1, sizeof(*h));
	char unknown[512] = "";
	size_t i, m = 0, used = 0;
	int r = -ENOMEM, nunknown = 0;

	if (leftlen)
		left[0] = '\0';
	if (!devs || !h)
		goto out;
	r = xpt_hold_survey(c, domid, sbdfs, n, h);
	if (r < 0) {	/* pciback silent: the other layers still answer */
		for (i = 0; i < n; i++)
			h[i].pb_domid = -1;
		c->err[0] = '\0';
	}
	for (i = 0; i < n; i++) {
		struct xpt_dev *d = &devs[m];
		const char *layer;
		char bdf[16];
		int other = xpt_hold_other(&h[i], domid, &layer);

		xpt_format_bdf(sbdfs[i], bdf, sizeof(bdf));
		if (other >= 0 && other != (int)XPT_DOMID_FIRST_RESERVED &&
		    h[i].hv != (int)domid && h[i].marker != (int)domid) {
			xpt_warn(c, "%s: left alone: %s domain %d, not %u",
				 bdf, layer, other, domid);
			continue;
		}
		memset(d, 0, sizeof(*d));
		d->sbdf = sbdfs[i];
		r = h[i].hv_err;
		if (r == 0)
			d->info = h[i].info;
		if (r == -ENODEV)
			continue;	/* not a host device: nothing to undo */
		if (r == 0)
			r = h[i].xs_err;
		if (r == 0)
			r = flags_from_hold(c, domid, d, &h[i]);
		if (r < 0) {
			/* who owns it, or its interrupt, is unknown: it
			 * stays as it is, reserved, and is reported */
			nunknown++;
			if (used < sizeof(unknown))
				used += (size_t)snprintf(unknown + used,
					sizeof(unknown) - used, "%s%s (who "
					"holds it is unknown: %s)",
					used ? ", " : "", bdf, strerror(-r));
			continue;
		}
		m++;
	}
	r = xpt_dev_release(c, domid, devs, m, left, leftlen);
	if (nunknown && leftlen) {
		char *all = malloc(leftlen);

		if (all) {
			snprintf(all, leftlen, "%s%s%s", unknown, left[0] ?
				 ", " : "", left);
			memcpy(left, all, leftlen);
			free(all);
		}
	}
	r += nunknown;
out:
	free(devs);
	free(h);
	return r;
}

void xpt_dev_permissive(struct xpt_ctx *c, unsigned int domid,
			const struct xpt_dev *devs, size_t n)
{
	char reply[256], bdf[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!devs[i].spec.permissive)
			continue;
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		if (c->pf->pb_permissive(c, devs[i].sbdf, reply,
					 sizeof(reply)) < 0)
			xpt_warn(c, "domain %u: %s: permissive not applied: %s",
				 domid, bdf, reply);
	}
}

/* What a stub domain gets of its guest's devices (libxl's pci_add_dm_done
 * for the stub domain): the resources, which its device model maps for
 * the guest, and the INTx line's pirq; no IOMMU assignment (the guest
 * owns the device).  All or nothing. */
int xpt_dev_stub_grant(struct xpt_ctx *c, unsigned int stub,
		       const struct xpt_dev *devs, size_t n)
{
	uint32_t *done = calloc(n ? n : 1, sizeof(*done));
	size_t i;
	int r = done ? 0 : -ENOMEM;

	for (i = 0; r == 0 && i < n; i++) {
		char bdf[16];
		int pirq;

		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		done[i] = devs[i].sbdf;
		r = perms_set(c, stub, &devs[i].info, 1);
		if (r == 0 && devs[i].info.intx_pin) {
			r = c->pf->map_pirq(c, stub, devs[i].sbdf, &pirq);
			if (r == 0)
				r = c->pf->irq_permission(c, stub, pirq, 1);
		}
		if (r < 0) {
			xpt_fail(c, XPT_EXIT_FAIL, r, "stub domain %u: cannot "
				 "grant it the resources of %s: %s", stub, bdf,
				 strerror(-r));
			xpt_dev_stub_revoke(c, stub, done, i + 1);
		}
	}
	free(done);
	return r;
}

void xpt_dev_stub_revoke(struct xpt_ctx *c, unsigned int stub,
			 const uint32_t *sbdfs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct xpt_pdev info;
		int pirq;

		if (c->pf->pci_info(c, sbdfs[i], &info) < 0)
			continue;
		if (info.intx_pin &&
		    c->pf->map_pirq(c, stub, sbdfs[i], &pirq) == 0) {
			c->pf->irq_permission(c, stub, pirq, 0);
			c->pf->unmap_pirq(c, stub, pirq);
		}
		perms_set(c, stub, &info, 0);
	}
}
