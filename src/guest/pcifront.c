/* SPDX-License-Identifier: MIT */
/*
 * pcifront: the frontend half of the PCI split driver, as Linux's
 * xen-pcifront does it (docs/protocol.md §6; Linux's
 * drivers/pci/xen-pcifront.c).
 *
 * The guest may run before the toolstack wrote anything, so everything is
 * driven by two watches: the frontend directory (device/pci/0 appearing,
 * vanishing, or being recreated) and the backend's `state` node.  On every
 * event pcifront_step() re-reads both and acts; watch events can coalesce,
 * so each step looks at the current values only, never at the event.
 *
 *   ABSENT --frontend dir with backend/backend-id--> probe: grant the
 *          op page to the backend, alloc an unbound port for it, publish
 *          pci-op-ref/event-channel/magic in ONE transaction, state 3
 *   INITIALISED(3) --be 4--> scan root-K buses --> CONNECTED(4)
 *   INITIALISED(3) --be 7--> "missed Connected": the backend went 3->4->7
 *          before we looked; connect without scanning, --> RECONFIGURING(7)
 *          (the scan happens at 8, as Linux ≥ 6.1 does)
 *   CONNECTED(4) --be 7--> remove devices whose state-N is 5 (by vdev-N)
 *          --> RECONFIGURING(7)
 *   RECONFIGURING(7) --be 8--> rescan every root --> CONNECTED(4)
 *   any --be 5/6--> drop devices --> CLOSED(6)
 *   bad backend data (root_num, root-K, num_devs) --> error node, CLOSING(5)
 *
 * Worked example, two-device cold-plug: the toolstack writes both dirs
 * (state 1) while the guest waits in ABSENT; the frontend-dir watch fires,
 * the guest probes and writes 3; pciback attaches and writes 4; the
 * backend-state watch fires, step() reads 4 in INITIALISED -> CONNECT:
 * root_num=1, root-0=0000:00, config reads at 00.0 and 01.0 answer with
 * vendor IDs, two drivers probe, state 4.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"
#include "xenbus-state.h"

#define PCI_VENDOR_ID 0x00
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define MAX_NUM_DEVS 256	/* num_devs beyond this is bad input */

static const char *xb_name(int s)
{
	const char *name = xenbus_state_name(s);

	return name ? name : "?";
}

int64_t guest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pcifront_phase_name(enum pcifront_phase phase)
{
	return phase == PF_ABSENT ? "Absent" : xb_name((int)phase);
}

enum pcifront_action pcifront_next(enum pcifront_phase phase,
				   int backend_state)
{
	switch (phase) {
	case PF_INITIALISED:
		if (backend_state == XenbusStateConnected)
			return PFA_CONNECT;
		if (backend_state == XenbusStateReconfiguring)
			return PFA_CONNECT_DETACH;
		break;
	case PF_CONNECTED:
		if (backend_state == XenbusStateReconfiguring)
			return PFA_DETACH;
		break;
	case PF_RECONFIGURING:
		if (backend_state == XenbusStateReconfigured)
			return PFA_ATTACH;
		break;
	case PF_CLOSING:
		break;
	case PF_ABSENT:
	case PF_CLOSED:
		return PFA_NONE;
	}
	if (backend_state == XenbusStateClosing ||
	    backend_state == XenbusStateClosed)
		return PFA_DISCONNECT;
	return PFA_NONE;
}

void pcifront_init(struct guest *g)
{
	unsigned int i;

	g->phase = PF_ABSENT;
	snprintf(g->fe_path, sizeof(g->fe_path),
		 "/local/domain/%u/device/pci/0", g->domid);
	g->page_fd = -1;
	g->port_fd = -1;
	g->sh = NULL;
	for (i = 0; i < GUEST_MAX_DEVS; i++) {
		g->dev[i].used = false;
		driver_init_dev(&g->dev[i]);
	}
}

int pcifront_watch(struct guest *g)
{
	return xs_watch(g->xs, g->fe_path, "fe") ? 0 : -errno;
}

/* xenstore helpers: values are peer input, parsed strictly */

/*
 * A read that failed because the store did not answer (the connection is
 * gone: xenstored died), not because the node is absent or not ours to
 * read.  Nothing is decided on it: a frontend whose store died is not a
 * removed one, and keeps its devices.
 */
static bool pf_no_answer(int err)
{
	return err != ENOENT && err != EACCES;
}

static char *pf_read(struct guest *g, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(g->xs, XBT_NULL, path, &len);
}

static int pf_read_uint(struct guest *g, const char *dir, const char *key,
			unsigned long max, unsigned int *ret)
{
	char *s = pf_read(g, dir, key), *end;
	unsigned long v;
	int r = 0;

	if (!s)
		return pf_no_answer(errno) ? -EIO : -ENOENT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || s[0] == '-')
		r = -EINVAL;
	else
		*ret = (unsigned int)v;
	free(s);
	return r;
}

/* xenbus_read_driver_state: anything unreadable is Unknown (-1); -EIO
 * when the store did not answer. */
static int pf_read_state(struct guest *g, const char *dir)
{
	unsigned int v;
	int r = pf_read_uint(g, dir, "state", 8, &v);

	return r == 0 ? (int)v : r == -EIO ? -EIO : -1;
}

/* Switch our own state, without recreating a node the toolstack removed. */
static int pf_switch(struct guest *g, int state)
{
	char path[256], val[8];
	int tries;

	snprintf(path, sizeof(path), "%s/state", g->fe_path);
	snprintf(val, sizeof(val), "%d", state);
	for (tries = 0; tries < 100; tries++) {
		xs_transaction_t t = xs_transaction_start(g->xs);
		unsigned int len;
		char *cur;

		if (t == XBT_NULL)
			return -errno;
		cur = xs_read(g->xs, t, path, &len);
		if (!cur) {
			xs_transaction_end(g->xs, t, true);
			return -ENOENT;
		}
		free(cur);
		if (!xs_write(g->xs, t, path, val, strlen(val))) {
			int r = -errno;

			xs_transaction_end(g->xs, t, true);
			return r;
		}
		if (xs_transaction_end(g->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

static void pf_set_phase(struct guest *g, enum pcifront_phase to,
			 const char *why)
{
	if (g->phase != to)
		log_info("pcifront: %s -> %s (%s, backend %s)",
			 pcifront_phase_name(g->phase),
			 pcifront_phase_name(to), why,
			 xb_name(g->backend_state));
	g->phase = to;
}

/* xenbus_dev_fatal: an error node for the toolstack, and Closing. */
static void pf_fatal(struct guest *g, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pf_fatal(struct guest *g, int err, const char *fmt, ...)
{
	char msg[200], val[240], path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("pcifront: %s: %s", msg, strerror(err < 0 ? -err : err));
	snprintf(path, sizeof(path), "/local/domain/%u/error/device/pci/0/error",
		 g->domid);
	snprintf(val, sizeof(val), "%d %s", err < 0 ? -err : err, msg);
	if (!xs_write(g->xs, XBT_NULL, path, val, strlen(val)))
		log_debug("pcifront: writing %s: %s", path, strerror(errno));
	pf_switch(g, XenbusStateClosing);
	pf_set_phase(g, PF_CLOSING, "fatal error");
}

/* devices */

static struct gdev *pf_find(struct guest *g, uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g->dev[i].used && g->dev[i].sbdf == sbdf)
			return &g->dev[i];
	return NULL;
}

static void pf_remove(struct guest *g, struct gdev *d)
{
	driver_remove(g, d);
	d->used = false;
	log_info("pcifront: removed %04x:%02x:%02x.%u",
		 HV_SBDF_SEG(d->sbdf), HV_SBDF_BUS(d->sbdf),
		 HV_SBDF_DEV(d->sbdf), HV_SBDF_FN(d->sbdf));
}

static void pf_remove_all(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g->dev[i].used)
			pf_remove(g, &g->dev[i]);
}

/* vdev-N / dev-N of index i; -ENOENT when absent, -EINVAL when garbage. */
static int pf_read_bdf(struct guest *g, const char *key, unsigned int i,
		       uint32_t *ret)
{
	char name[32], *s;
	unsigned int seg, bus, dev, fn;
	int n = 0, r = -EINVAL;

	snprintf(name, sizeof(name), "%s-%u", key, i);
	s = pf_read(g, g->be_path, name);
	if (!s)
		return -ENOENT;
	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bus, &dev, &fn, &n) == 4 &&
	    !s[n] && seg <= 0xffff && bus <= 0xff && dev <= 0x1f && fn <= 7) {
		*ret = HV_SBDF(seg, bus, dev, fn);
		r = 0;
	}
	free(s);
	return r;
}

/* The host address of a guest-visible device, from the vdev-N/dev-N pairs
 * a guest may read: the guest's own view, not the toolstack's records. */
static void pf_host_identity(struct guest *g, struct gdev *d)
{
	unsigned int i, num;
	uint32_t v, h;

	snprintf(d->host, sizeof(d->host), "?");
	if (pf_read_uint(g, g->be_path, "num_devs", MAX_NUM_DEVS, &num) < 0)
		return;
	for (i = 0; i < num; i++)
		if (pf_read_bdf(g, "vdev", i, &v) == 0 && v == d->sbdf &&
		    pf_read_bdf(g, "dev", i, &h) == 0) {
			hv_format_bdf(h, d->host, sizeof(d->host));
			return;
		}
}

/* 0 = present (new or known), -ENODEV = nothing there, other = error */
static int pf_probe_fn(struct guest *g, uint32_t sbdf, uint32_t *ret_hdr)
{
	uint32_t id, cls = 0, hdr = 0;
	struct gdev *d;
	unsigned int i;
	int r;

	r = pciop_conf_read(g, sbdf, PCI_VENDOR_ID, 4, &id);
	if (r == -ETIMEDOUT || r == -ENOTCONN)
		return r;
	if (r < 0 || (id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return -ENODEV;
	if (pciop_conf_read(g, sbdf, PCI_HEADER_TYPE, 1, &hdr) < 0)
		hdr = 0;
	*ret_hdr = hdr;
	if (pf_find(g, sbdf))
		return 0;
	for (i = 0; i < GUEST_MAX_DEVS && g->dev[i].used; i++)
		;
	if (i == GUEST_MAX_DEVS) {
		log_warn("pcifront: more than %d devices, ignoring the rest",
			 GUEST_MAX_DEVS);
		return -ENOSPC;
	}
	pciop_conf_read(g, sbdf, PCI_CLASS_REVISION, 4, &cls);
	d = &g->dev[i];
	driver_init_dev(d);
	d->used = true;
	d->sbdf = sbdf;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class = cls >> 8;
	pf_host_identity(g, d);
	d->sysfs_ms = guest_now_ms() + g->sysfs_delay_ms;
	log_info("pcifront: found %04x:%02x:%02x.%u [%04x:%04x] class %06x "
		 "host %s", HV_SBDF_SEG(sbdf), HV_SBDF_BUS(sbdf),
		 HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf), d->vendor, d->device,
		 d->class, d->host);
	driver_probe(g, d);
	return 0;
}

/* Every slot of a root bus, every function of a multi-function device. */
static int pf_scan_root(struct guest *g, unsigned int seg, unsigned int bus)
{
	unsigned int slot, fn;
	uint32_t hdr;
	int r;

	for (slot = 0; slot < 32; slot++) {
		r = pf_probe_fn(g, HV_SBDF(seg, bus, slot, 0), &hdr);
		if (r == -ETIMEDOUT || r == -ENOTCONN)
			return r;
		if (r < 0 || !(hdr & 0x80))
			continue;
		for (fn = 1; fn < 8; fn++) {
			r = pf_probe_fn(g, HV_SBDF(seg, bus, slot, fn), &hdr);
			if (r == -ETIMEDOUT || r == -ENOTCONN)
				return r;
		}
	}
	return 0;
}

/* root_num / root-K from the backend; no root_num means 0000:00. */
static int pf_scan_roots(struct guest *g)
{
	unsigned int num, i, seg, bus;
	char name[32], *s;
	int n, r;

	r = pf_read_uint(g, g->be_path, "root_num", GUEST_MAX_ROOTS, &num);
	if (r == -EIO)
		return r;
	if (r == -ENOENT) {
		log_info("pcifront: no PCI roots found, trying 0000:00");
		return pf_scan_root(g, 0, 0);
	}
	if (r < 0) {
		pf_fatal(g, r, "Error reading number of PCI roots");
		return r;
	}
	for (i = 0; i < num; i++) {
		snprintf(name, sizeof(name), "root-%u", i);
		s = pf_read(g, g->be_path, name);
		n = 0;
		r = s && sscanf(s, "%x:%x%n", &seg, &bus, &n) == 2 && !s[n] &&
		    seg <= 0xffff && bus <= 0xff ? 0 : -EINVAL;
		free(s);
		if (r < 0) {
			pf_fatal(g, r, "Error reading PCI root %u", i);
			return r;
		}
		r = pf_scan_root(g, seg, bus);
		if (r < 0) {
			pf_fatal(g, r, "Error scanning PCI root %04x:%02x",
				 seg, bus);
			return r;
		}
	}
	return 0;
}

/* Remove the devices the backend marked state-N = 5 (Closing). */
static int pf_detach(struct guest *g)
{
	unsigned int num, i, st;
	char name[32];
	struct gdev *d;
	uint32_t v;
	int r;

	r = pf_read_uint(g, g->be_path, "num_devs", MAX_NUM_DEVS, &num);
	if (r == -EIO)
		return r;
	if (r < 0) {
		pf_fatal(g, r, "Error reading number of PCI devices");
		return r;
	}
	for (i = 0; i < num; i++) {
		snprintf(name, sizeof(name), "state-%u", i);
		if (pf_read_uint(g, g->be_path, name, 8, &st) < 0 ||
		    st != XenbusStateClosing)
			continue;
		if (pf_read_bdf(g, "vdev", i, &v) < 0) {
			log_warn("pcifront: detach: no usable vdev-%u", i);
			continue;
		}
		d = pf_find(g, v);
		if (!d) {
			log_info("pcifront: detach: vdev-%u is not a device "
				 "of ours", i);
			continue;
		}
		pf_remove(g, d);
	}
	return 0;
}

/* probe: the op page, the port, the keys, state 3 */

/* End the grants the backend held at release; those it still maps stay. */
static void pf_end_stale(struct guest *g)
{
	unsigned int i, n = 0;

	for (i = 0; i < g->nstale; i++) {
		int r = hv_end_grant(g->hv, g->stale_gref[i]);

		if (r == -EBUSY)
			g->stale_gref[n++] = g->stale_gref[i];
		else if (r < 0)
			log_debug("pcifront: ending grant %u: %s",
				  g->stale_gref[i], strerror(-r));
	}
	g->nstale = n;
}

static void pf_release(struct guest *g)
{
	if (g->port_fd >= 0)
		close(g->port_fd);
	g->port_fd = -1;
	if (g->port_open)
		hv_evtchn_close(g->hv, g->port);
	g->port_open = false;
	pf_end_stale(g);
	if (g->granted) {
		int r = hv_end_grant(g->hv, g->gref);

		if (r == -EBUSY && g->nstale < sizeof(g->stale_gref) /
				     sizeof(g->stale_gref[0]))
			g->stale_gref[g->nstale++] = g->gref;
		else if (r < 0)
			log_warn("pcifront: ending grant %u: %s; the ref is "
				 "lost", g->gref, strerror(-r));
	}
	g->granted = false;
	if (g->sh)
		munmap(g->sh, HV_PAGE_SIZE);
	g->sh = NULL;
	if (g->page_fd >= 0)
		close(g->page_fd);
	g->page_fd = -1;
}

/* val, or what a hostile frontend writes instead (--front-*) */
static bool pf_write_node(struct guest *g, xs_transaction_t t,
			  const char *path, const char *hostile,
			  const char *val)
{
	if (hostile)
		log_warn("pcifront: hostile: %s = \"%s\" instead of \"%s\"",
			 path, hostile, val);
	val = hostile ? hostile : val;
	return xs_write(g->xs, t, path, val, strlen(val));
}

static int pf_publish(struct guest *g)
{
	char path[256], val[16];
	int tries;

	for (tries = 0; tries < 100; tries++) {
		xs_transaction_t t = xs_transaction_start(g->xs);
		bool ok;

		if (t == XBT_NULL)
			return -errno;
		snprintf(path, sizeof(path), "%s/pci-op-ref", g->fe_path);
		snprintf(val, sizeof(val), "%u", g->gref);
		ok = pf_write_node(g, t, path, g->front_ref, val);
		snprintf(path, sizeof(path), "%s/event-channel", g->fe_path);
		snprintf(val, sizeof(val), "%u", g->port);
		ok = ok && pf_write_node(g, t, path, g->front_port, val);
		snprintf(path, sizeof(path), "%s/magic", g->fe_path);
		ok = ok && pf_write_node(g, t, path, g->front_magic,
					 XEN_PCI_MAGIC);
		if (!ok) {
			int r = -errno;

			xs_transaction_end(g->xs, t, true);
			return r;
		}
		if (xs_transaction_end(g->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

static int pf_probe(struct guest *g)
{
	char *be = NULL, path[256];
	unsigned int be_domid;
	void *map;
	int r;

	be = pf_read(g, g->fe_path, "backend");
	r = pf_read_uint(g, g->fe_path, "backend-id", 0x7fef, &be_domid);
	if (!be || r < 0 || be[0] != '/' || strlen(be) >= sizeof(g->be_path)) {
		log_debug("pcifront: frontend dir not complete yet");
		r = -EAGAIN;
		goto out;
	}
	snprintf(g->be_path, sizeof(g->be_path), "%s", be);
	g->be_domid = be_domid;
	pf_end_stale(g);
	r = hv_page_alloc(&g->page_fd, &map);
	if (r < 0)
		goto fail;
	g->sh = map;
	memset(g->sh, 0, HV_PAGE_SIZE);
	r = hv_grant_page(g->hv, g->grant_to >= 0 ? (unsigned int)g->grant_to :
			  g->be_domid, g->page_fd, 0, &g->gref);
	if (r < 0)
		goto fail;
	g->granted = true;
	r = hv_evtchn_alloc_unbound(g->hv, g->be_domid, &g->port);
	if (r < 0)
		goto fail;
	g->port_open = true;
	r = hv_evtchn_fd(g->hv, g->port, &g->port_fd);
	if (r < 0)
		goto fail;
	fcntl(g->port_fd, F_SETFL, fcntl(g->port_fd, F_GETFL) | O_NONBLOCK);
	r = pf_publish(g);
	if (r < 0)
		goto fail;
	if (!g->be_watched) {
		snprintf(path, sizeof(path), "%s/state", g->be_path);
		if (!xs_watch(g->xs, path, "be")) {
			r = -errno;
			goto fail;
		}
		g->be_watched = true;
	}
	r = pf_switch(g, XenbusStateInitialised);
	if (r < 0)
		goto fail;
	g->dead_backend = false;
	log_info("pcifront: backend %s (dom%u), pci-op-ref %u, event-channel %u",
		 g->be_path, g->be_domid, g->gref, g->port);
	pf_set_phase(g, PF_INITIALISED, "published");
	goto out;
fail:
	log_err("pcifront: setting up the frontend %s: %s", g->fe_path,
		strerror(-r));
	pf_release(g);
out:
	free(be);
	return r;
}

void pcifront_teardown(struct guest *g)
{
	char path[256];

	g->dead_backend = true;
	pf_remove_all(g);
	pf_release(g);
	if (g->be_watched) {
		snprintf(path, sizeof(path), "%s/state", g->be_path);
		xs_unwatch(g->xs, path, "be");
		g->be_watched = false;
	}
	g->backend_state = 0;
	pf_set_phase(g, PF_ABSENT, "frontend device gone");
}

int pcifront_frontend_state(const struct guest *g)
{
	return (int)g->phase;
}

/* One decision; true when something changed and another look is due. */
static bool pf_step_once(struct guest *g)
{
	enum pcifront_phase from = g->phase;
	char *ref;
	int fe, r;

	fe = pf_read_state(g, g->fe_path);
	if (fe == -EIO)
		return false;
	if (g->phase == PF_ABSENT)
		return fe >= 0 && pf_probe(g) == 0;
	ref = pf_read(g, g->fe_path, "pci-op-ref");
	if (!ref && pf_no_answer(errno))
		return false;
	free(ref);
	if (fe < 0 || fe == XenbusStateInitialising || !ref) {
		/* removed, or removed and recreated by the toolstack */
		pcifront_teardown(g);
		return true;
	}
	if (g->hold)
		return false;
	r = pf_read_state(g, g->be_path);
	if (r == -EIO)
		return false;
	g->backend_state = r < 0 ? XenbusStateUnknown : r;
	switch (pcifront_next(g->phase, g->backend_state)) {
	case PFA_NONE:
		break;
	case PFA_CONNECT:
		if (g->connect_delay_ms && !g->rescan_due) {
			g->rescan_due = guest_now_ms() + g->connect_delay_ms;
			log_info("pcifront: connecting in %d ms "
				 "(--connect-delay-ms)", g->connect_delay_ms);
			break;
		}
		if (g->rescan_due && guest_now_ms() < g->rescan_due)
			break;
		g->rescan_due = 0;
		if (pf_scan_roots(g) < 0)
			break;
		r = pf_switch(g, XenbusStateConnected);
		if (r == 0)
			pf_set_phase(g, PF_CONNECTED, "roots scanned");
		break;
	case PFA_CONNECT_DETACH:
		if (g->no_missed_connected) {
			/* before Linux 6.1: not Connected, so nothing to
			 * detach; the backend waits at 7 for good */
			log_info("pcifront: backend Reconfiguring before we "
				 "connected: ignored (--no-missed-connected)");
			break;
		}
		/* Missed Connected: the backend is already reconfiguring.
		 * Connect now; the roots are scanned when it reaches 8. */
		log_info("pcifront: handling a skipped Connected");
		r = pf_switch(g, XenbusStateReconfiguring);
		if (r == 0)
			pf_set_phase(g, PF_RECONFIGURING, "missed Connected");
		break;
	case PFA_DETACH:
		if (pf_detach(g) < 0)
			break;
		r = pf_switch(g, XenbusStateReconfiguring);
		if (r == 0)
			pf_set_phase(g, PF_RECONFIGURING, "devices detached");
		break;
	case PFA_ATTACH:
		if (g->rescan_delay_ms && !g->rescan_due) {
			g->rescan_due = guest_now_ms() + g->rescan_delay_ms;
			log_info("pcifront: rescan in %d ms (--rescan-delay-ms)",
				 g->rescan_delay_ms);
			break;
		}
		if (g->rescan_due && guest_now_ms() < g->rescan_due)
			break;
		g->rescan_due = 0;
		if (pf_scan_roots(g) < 0)
			break;
		r = pf_switch(g, XenbusStateConnected);
		if (r == 0)
			pf_set_phase(g, PF_CONNECTED, "roots rescanned");
		break;
	case PFA_DISCONNECT:
		g->dead_backend = true;
		pf_remove_all(g);
		pf_switch(g, XenbusStateClosed);
		pf_set_phase(g, PF_CLOSED, "backend closing");
		break;
	}
	return g->phase != from;
}

void pcifront_step(struct guest *g)
{
	int i;

	if (g->no_frontend)
		return;	/* the test plays this frontend (--no-frontend) */
	for (i = 0; i < 16 && pf_step_once(g); i++)
		;
}
