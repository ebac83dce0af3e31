// SPDX-License-Identifier: MIT
/*
 * PCI passthrough to an HVM guest: the device reaches the guest through
 * its device model, driven over QMP, not through pciback (docs/protocol.md
 * §4, HVM notes).  The host side (marker, reset, IOMMU, permissions) is
 * dev.c's, as for PV; here:
 *
 *   add:    device_add {driver: xen-pci-passthrough, id: pci-pt-BB_DD.F,
 *           hostaddr: SSSS:BB:DD.F[, addr: S.0]} (libxl's id and keys),
 *           before the guest's first cont for a cold-plug
 *   remove: device_del {id}, then DEVICE_DELETED awaited (bounded: the
 *           guest acknowledges the unplug), then the host side; a device
 *           model that is gone or hangs does not stop a forced removal
 *   list:   the domain's devices by their markers, their guest slots from
 *           query-pci when the device model answers
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "libxpt.h"

bool xpt_domain_is_hvm(struct xpt_ctx *c, unsigned int domid)
{
	return xpt_domain_type_is(c, domid, "hvm");
}

/* libxl's QMP id of a passed-through device */
static void qdev_id(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "pci-pt-%02x_%02x.%01x", XPT_PCI_BUS(sbdf),
		 XPT_PCI_DEV(sbdf), XPT_PCI_FN(sbdf));
}

static int del_one(struct xpt_ctx *c, unsigned int domid, struct xpt_qmp *q,
		   uint32_t sbdf, int base_ms)
{
	char id[32], args[64], err[256];
	int r;

	qdev_id(sbdf, id, sizeof(id));
	snprintf(args, sizeof(args), "{\"id\": \"%s\"}", id);
	r = xpt_qmp_exec(q, "device_del", args, xpt_wait_ms(c, base_ms),
			 NULL, err, sizeof(err));
	if (r == -ENODEV)
		return 0;	/* the device model does not have it */
	if (r == 0)
		r = xpt_qmp_wait_event(q, "DEVICE_DELETED", id,
				       xpt_wait_ms(c, base_ms));
	if (r < 0)
		xpt_warn(c, "domain %u: device model: device_del %s: %s", domid,
			 id, err[0] ? err : strerror(-r));
	return r;
}

/* A device model in a stub domain may be asked for a device its domain's
 * pcifront has not published yet ("Could not open .../config"): libxl
 * retries 10 times a second apart there (0f4fd6b6d8), and so do we; a
 * dom0 device model sees the host's devices, its refusal is final. */
#define STUB_ADD_TRIES 10
#define STUB_ADD_PAUSE_MS 1000
/* A stub domain's QEMU realises a passed-through device through pcifront,
 * every config access a round trip to dom0's pciback: in the lab (Xen
 * 4.17 under TCG, loaded) device_add answered after more than libxl's
 * 10 s, and both toolstacks gave up on a device_add that was under way.
 * Its answer is waited for longer; every wait stays bounded. */
#define STUB_ADD_WAIT_MS 30000

static int device_add(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_qmp *q, const char *args, char *err,
		      size_t errlen)
{
	bool stub = xpt_stubdom_of(c, domid) >= 0;
	int tries = stub ? STUB_ADD_TRIES : 1, r;
	struct xpt_progress p;

	/* the retries' pauses: each device_add tells its own wait */
	xpt_progress_begin(stub ? c : NULL, &p, STUB_ADD_TRIES *
			   STUB_ADD_PAUSE_MS, "domain %u's stub domain to "
			   "publish the device to its device model "
			   "(device_add retried)", domid);
	for (;;) {
		int64_t until;

		r = xpt_qmp_exec(q, "device_add", args,
				 xpt_wait_ms(c, stub ? STUB_ADD_WAIT_MS :
					     XPT_WAIT_MS), NULL, err, errlen);
		if (r != -EIO || --tries == 0 || strstr(err, "Duplicate "
							"device ID") ||
		    xpt_bound_ms(c, STUB_ADD_PAUSE_MS) < STUB_ADD_PAUSE_MS)
			break;
		xpt_trace(c, "domain %u: device_add refused (%s): again in "
			  "%d ms", domid, err, STUB_ADD_PAUSE_MS);
		until = xpt_now_ms() + STUB_ADD_PAUSE_MS;
		while (xpt_now_ms() < until)
			poll(NULL, 0, xpt_progress_poll_ms(&p, until -
							   xpt_now_ms()));
	}
	xpt_progress_end(&p, r);
	return r;
}

int xpt_hvm_pci_add(struct xpt_ctx *c, unsigned int domid, struct xpt_qmp *q,
		    const struct xpt_dev *devs, size_t n)
{
	char id[32], bdf[16], args[256], addr[32], err[256];
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		qdev_id(devs[i].sbdf, id, sizeof(id));
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		addr[0] = '\0';
		if (devs[i].vdevfn >= 0)
			snprintf(addr, sizeof(addr), ", \"addr\": \"%x.%x\"",
				 (unsigned int)devs[i].vdevfn >> 3,
				 (unsigned int)devs[i].vdevfn & 7);
		snprintf(args, sizeof(args), "{\"driver\": "
			 "\"xen-pci-passthrough\", \"id\": \"%s\", "
			 "\"hostaddr\": \"%s\"%s%s}", id, bdf, addr,
			 devs[i].spec.permissive ? ", \"permissive\": true" :
			 "");
		r = device_add(c, domid, q, args, err, sizeof(err));
		if (r == -EIO && strstr(err, "Duplicate device ID")) {
			/* a forced detach went on while the device model
			 * hung: it still lists the device, which the host
			 * side has since taken back (we hold it now) */
			xpt_warn(c, "domain %u: its device model still had %s "
				 "from a forced detach: removed first", domid,
				 bdf);
			r = del_one(c, domid, q, devs[i].sbdf, XPT_WAIT_MS);
			if (r == 0)
				r = xpt_qmp_exec(q, "device_add", args,
						 xpt_wait_ms(c, XPT_WAIT_MS),
						 NULL, err, sizeof(err));
		}
		if (r < 0)
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device "
				     "model refused %s: %s", domid, bdf, err[0] ?
				     err : strerror(-r));
	}
	if (r < 0)	/* those added before: out of the device model */
		while (i-- > 1)
			del_one(c, domid, q, devs[i - 1].sbdf, XPT_FORCE_WAIT_MS);
	return r;
}

int xpt_hvm_pci_remove(struct xpt_ctx *c, unsigned int domid,
		       const uint32_t *sbdfs, size_t n, bool force)
{
	struct xpt_qmp *q = NULL;
	size_t i;
	int r;

	r = xpt_dm_connect(c, domid, &q);
	if (r < 0 && !force) {
		char bdf[16];

		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device "
				"model does not answer, so the guest cannot be "
				"asked to release %s; force it with `xpt "
				"pci-detach -f %u %s`", domid, bdf, domid, bdf);
	}
	if (r < 0) {	/* forced: the host side goes on without it */
		c->err[0] = '\0';
		c->exit_code = 0;
		xpt_warn(c, "domain %u: its device model does not answer: the "
			 "device is taken from the guest without it", domid);
		return 0;
	}
	xpt_delay_point(c, "detach.before-device-del");
	for (i = 0, r = 0; i < n; i++) {
		int e = del_one(c, domid, q, sbdfs[i], force ?
				XPT_FORCE_WAIT_MS : XPT_WAIT_MS);

		if (e < 0 && !r)
			r = e;
	}
	xpt_qmp_close(q);
	if (r < 0 && !force) {
		char bdf[16];

		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
		/* the session ended under us: the device model, not the
		 * guest, is what failed */
		if (r == -ECONNRESET || r == -EPIPE || r == -EPROTO)
			return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its "
					"device model went away while asked to "
					"release %s (%s), so the guest cannot "
					"be asked; force it with `xpt "
					"pci-detach -f %u %s`", domid, bdf,
					strerror(-r), domid, bdf);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: the guest did "
				"not release %s (no DEVICE_DELETED): force it "
				"with `xpt pci-detach -f %u %s`", domid, bdf,
				domid, bdf);
	}
	return 0;
}

bool xpt_hvm_pci_has(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	struct xpt_qmp *q = NULL;
	char id[40], *pci = NULL, err[128];
	bool has;

	if (xpt_dm_connect(c, domid, &q) < 0) {
		c->err[0] = '\0';
		c->exit_code = 0;
		return false;
	}
	xpt_qmp_exec(q, "query-pci", NULL, xpt_wait_ms(c, 5000), &pci, err,
		     sizeof(err));
	xpt_qmp_close(q);
	id[0] = '"';
	qdev_id(sbdf, id + 1, sizeof(id) - 2);
	strcat(id, "\"");
	has = pci && strstr(pci, id);
	free(pci);
	return has;
}

/* With a stub domain, each device's state is its entry's in the stub
 * domain's backend (3: pciback exported it); one it lacks is named. */
static void stub_states(struct xpt_ctx *c, unsigned int domid,
			struct xpt_be *ret)
{
	struct xpt_be *sb;
	int stub = xpt_stubdom_of(c, domid);
	size_t i;

	if (stub < 0 || !(sb = malloc(sizeof(*sb))))
		return;
	if (xpt_be_read(c, XBT_NULL, (unsigned int)stub, sb) < 0)
		sb->exists = false;
	c->err[0] = '\0';
	for (i = 0; i < ret->n; i++) {
		const struct xpt_be_entry *e = sb->exists ?
			xpt_be_find(sb, ret->e[i].sbdf) : NULL;

		if (e) {
			ret->e[i].state = e->state;
			snprintf(ret->e[i].opts, sizeof(ret->e[i].opts), "%s",
				 e->opts);
		} else if (ret->nwarn < sizeof(ret->warn) /
			   sizeof(ret->warn[0])) {
			snprintf(ret->warn[ret->nwarn++], sizeof(ret->warn[0]),
				 "%s is not in the backend of stub domain %d "
				 "(its device model cannot reach it)",
				 ret->e[i].dev, stub);
		}
	}
	free(sb);
}

/* The backend-less listing: one entry per device reserved for the
 * domain, its guest slot from the device model's query-pci. */
int xpt_hvm_pci_list(struct xpt_ctx *c, unsigned int domid, struct xpt_be *ret)
{
	struct xpt_qmp *q = NULL;
	char id[32], *pci = NULL, err[128];
	uint32_t sbdfs[XPT_BE_MAX];
	size_t nmarked = 0, i;
	unsigned int dev;

	memset(ret, 0, sizeof(*ret));
	ret->num_devs = ret->state = ret->fe_state = -1;
	if (xpt_dm_connect(c, domid, &q) == 0) {
		xpt_qmp_exec(q, "query-pci", NULL, xpt_wait_ms(c, 5000), &pci,
			     err, sizeof(err));
		xpt_qmp_close(q);
	} else {
		c->err[0] = '\0';
		c->exit_code = 0;
		snprintf(ret->warn[ret->nwarn++], sizeof(ret->warn[0]),
			 "its device model does not answer: guest slots "
			 "unknown");
	}
	if (xpt_dev_marked(c, domid, sbdfs, XPT_BE_MAX, &nmarked) < 0)
		nmarked = 0;
	for (i = 0; i < nmarked; i++) {
		struct xpt_be_entry *e = &ret->e[ret->n];
		const char *p;

		memset(e, 0, sizeof(*e));
		e->index = (int)ret->n;
		e->has_dev = e->valid = true;
		e->sbdf = sbdfs[i];
		xpt_format_bdf(e->sbdf, e->dev, sizeof(e->dev));
		e->state = -1;
		e->vdevfn = -1;
		qdev_id(e->sbdf, id, sizeof(id));
		/* "slot": S, "function": F, ... "qdev_id": "<id>" */
		p = pci ? strstr(pci, id) : NULL;
		if (p) {
			const char *s = p;

			while (s > pci && strncmp(s, "\"slot\":", 7))
				s--;
			if (s > pci && sscanf(s, "\"slot\":%u", &dev) == 1)
				snprintf(e->vdev, sizeof(e->vdev),
					 "0000:00:%02x.0", dev);
		}
		ret->n++;
	}
	free(pci);
	stub_states(c, domid, ret);
	ret->exists = ret->n > 0;
	ret->num_devs = (int)ret->n;
	ret->state = XenbusStateConnected;
	return 0;
}
