// SPDX-License-Identifier: MIT
/*
 * Who holds a PCI function, layer by layer, established before an
 * operation changes anything (DESIGN.md rule 3): the hypervisor's IOMMU
 * owner, the domain pciback exports it to, the /libxl/pci/<bdf>/domid
 * marker, and every backend directory that lists it.  An operation may
 * undo, reset or deassign only what this survey says is its domain's,
 * and an attach refuses, before its first side effect, anything pciback
 * would refuse (a bridge, a device it still exports) because pciback's
 * refusal closes the guest's whole backend.
 *
 * Example: 03:00.0 attached to domain 3, re-attached to domain 3 by a
 * second `xpt pci-attach 3 3:0.0`: the survey reads hv=3, pciback=3,
 * marker=3, backend 3 state 3 -> "already attached", nothing touched.
 * After a `kill -9` of an attach at attach.before-txn the survey reads
 * hv=3, pciback -, marker=3, no backend: the leftover of an interrupted
 * operation of domain 3 (its lock is ours), torn down before attaching.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "libxpt.h"

/* The marker's domid, -1 none; *err the store's failure to say. */
static int marker_read(struct xpt_ctx *c, uint32_t sbdf, int *err)
{
	char m[16], path[96];
	int v, r;

	xpt_marker_bdf(sbdf, m, sizeof(m));
	snprintf(path, sizeof(path), "/libxl/pci/%s/domid", m);
	r = xpt_xs_read_int(c, XBT_NULL, path, &v);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		*err = r;
	if (r < 0 || v < 0)
		return -1;
	return v;
}

int xpt_hold_survey(struct xpt_ctx *c, unsigned int domid,
		    const uint32_t *sbdfs, size_t n, struct xpt_hold *ret)
{
	struct xpt_pb_dev *pb = calloc(XPT_PB_MAX, sizeof(*pb));
	struct xpt_be *b = malloc(sizeof(*b));
	unsigned int nd = 0, i;
	char **doms = NULL;
	size_t npb = 0, j, k;
	int r = -ENOMEM, pbr, xs_err = 0;

	if (!pb || !b)
		goto out;
	/* pciback silent: every other layer is still surveyed, and the
	 * caller decides whether pciback's view was needed */
	pbr = c->pf->pb_list(c, pb, XPT_PB_MAX, &npb);
	if (pbr < 0)
		npb = 0;
	for (j = 0; j < n; j++) {
		struct xpt_hold *h = &ret[j];

		memset(h, 0, sizeof(*h));
		h->sbdf = sbdfs[j];
		h->hv_err = c->pf->pci_info(c, sbdfs[j], &h->info);
		h->hv = h->hv_err == 0 ? h->info.owner : -1;
		h->bridge = h->hv >= 0 && (h->info.class >> 8) == 0x0604;
		h->pb_domid = -1;
		for (k = 0; k < npb; k++)
			if (pb[k].sbdf == sbdfs[j]) {
				h->pb_bound = true;
				h->pb_domid = pb[k].domid;
			}
		h->marker = marker_read(c, sbdfs[j], &h->xs_err);
		h->be_domid = -1;
		h->be_state = -1;
	}
	/* a backend the store does not let us read may list any of the
	 * devices: each says so (xs_err) rather than that nobody has it */
	doms = xs_directory(c->xs, XBT_NULL, "/local/domain/0/backend/pci",
			    &nd);
	if (!doms && errno != ENOENT)
		xs_err = errno ? -errno : -EIO;
	for (i = 0; doms && i < nd; i++) {
		char *end;
		long d = strtol(doms[i], &end, 10);

		struct xpt_pdom info;

		if (*end || d < 0 || d >= XPT_DOMID_FIRST_RESERVED)
			continue;
		r = xpt_be_read_ids(c, XBT_NULL, (unsigned int)d, b);
		if (r < 0) {
			xs_err = r;
			continue;
		}
		/* the directory of a domain that is gone holds nothing: no
		 * pciback serves it (xl 4.17 leaves one, state 6, when it
		 * destroys a paused guest) */
		if ((unsigned int)d != domid &&
		    c->pf->dom_info(c, (unsigned int)d, &info) == -ESRCH) {
			for (j = 0; j < n && !xpt_be_find(b, sbdfs[j]); j++)
				;
			if (j < n)
				xpt_warn(c, "/local/domain/0/backend/pci/%ld is "
					 "left over from domain %ld, which no "
					 "longer exists: `xpt destroy %ld` "
					 "removes it", d, d, d);
			c->err[0] = '\0';
			continue;
		}
		for (j = 0; j < n; j++) {
			const struct xpt_be_entry *e = xpt_be_find(b, sbdfs[j]);

			if (!e)
				continue;
			if (ret[j].be_count++ == 0 ||
			    (unsigned int)d == domid) {
				ret[j].be_domid = (int)d;
				ret[j].be_state = e->state;
			}
		}
	}
	for (j = 0; xs_err && j < n; j++)
		if (!ret[j].xs_err)
			ret[j].xs_err = xs_err;
	r = pbr;
out:
	free(doms);
	free(pb);
	free(b);
	return r;
}

bool xpt_hold_is(const struct xpt_hold *h, unsigned int domid)
{
	return h->hv == (int)domid || h->marker == (int)domid ||
	       h->pb_domid == (int)domid || h->be_domid == (int)domid;
}

/* The domain other than domid that holds the device in some layer, or
 * -1.  The quarantine and dom0 hold nothing. */
int xpt_hold_other(const struct xpt_hold *h, unsigned int domid,
		   const char **ret_layer)
{
	const char *layer = NULL;
	int other = -1;

	if (h->hv > 0 && h->hv != (int)domid && h->hv != (int)XPT_DOMID_IO) {
		other = h->hv;
		layer = "the hypervisor assigns it to";
	} else if (h->marker >= 0 && h->marker != (int)domid) {
		other = h->marker;
		layer = "it is reserved (/libxl/pci marker) for";
	} else if (h->pb_domid >= 0 && h->pb_domid != (int)domid) {
		other = h->pb_domid;
		layer = "xpt-pciback still exports it to";
	} else if (h->be_domid >= 0 && h->be_domid != (int)domid) {
		other = h->be_domid;
		layer = "it is listed in the PCI backend of";
	} else if (h->be_count > 1) {
		other = (int)XPT_DOMID_FIRST_RESERVED;
		layer = "it is listed in the PCI backends of several domains, "
			"among them";
	}
	if (ret_layer)
		*ret_layer = layer;
	return other;
}

/* Per-device lock ($XPT_RUNDIR/xpt/lock/pci-SSSS-BB-DD-F): an attach or
 * create holds the locks of the devices it takes from its survey to its
 * end, so `pci-assignable-remove` cannot pull a device from pciback
 * between the check and the backend write.  Taken in ascending BDF order
 * after the domain's lock; never held while waiting for another
 * domain's lock. */
int xpt_lock_devices(struct xpt_ctx *c, const uint32_t *sbdfs, size_t n,
		     int *ret_fds)
{
	uint32_t *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	char dir[PATH_MAX], path[PATH_MAX], m[16], bdf[16], what[32];
	size_t i, j;
	int r = 0;

	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ret_fds[i] = -1;
	memcpy(sorted, sbdfs, n * sizeof(*sorted));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			uint32_t t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	if (xpt_path(c, dir, sizeof(dir), "xpt/lock") < 0) {
		free(sorted);
		return -ENAMETOOLONG;
	}
	r = xpt_mkdirs(dir);
	for (i = 0; i < n && r == 0; i++) {
		int fd;

		if (i && sorted[i] == sorted[i - 1])
			continue;
		xpt_marker_bdf(sorted[i], m, sizeof(m));
		if (xpt_path(c, path, sizeof(path), "xpt/lock/pci-%s", m) < 0) {
			r = -ENAMETOOLONG;
			break;
		}
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			r = -errno;
			break;
		}
		ret_fds[i] = fd;
		xpt_format_bdf(sorted[i], bdf, sizeof(bdf));
		snprintf(what, sizeof(what), "device %s", bdf);
		r = xpt_flock_wait(c, what, fd,
				   xpt_scale_ms(c, XPT_LOCK_WAIT_MS));
	}
	free(sorted);
	if (r < 0) {
		xpt_unlock_devices(ret_fds, n);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "cannot lock %s: %s%s",
				path, strerror(-r), r == -ETIMEDOUT ?
				" (another xpt operation holds the device)" :
				"");
	}
	return 0;
}

void xpt_unlock_devices(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}
