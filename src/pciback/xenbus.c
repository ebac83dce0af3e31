// SPDX-License-Identifier: MIT
/*
 * The xenbus backend of one guest, backend/pci/<domid>/0, as an explicit
 * state machine: pciback_step() takes an event and acts on the backend's
 * own state by the table of docs/protocol.md §5.2 (Linux's
 * drivers/xen/xen-pciback/xenbus.c); every switch of the `state` node is
 * logged by switch_state().
 *
 *   event                own state  action
 *   probe (state 1 dir)  -          -> 2, then as a backend write
 *   backend write        2          setup: export every dev-N, vdev-N,
 *                                   state-N=3, roots, -> 3, try attach
 *   backend write        3          re-scan state-N 1/5, stay at 3
 *                                   (ignored by the historic profile)
 *   frontend 3           -          attach (backend and frontend both 3):
 *                                   map pci-op-ref, bind event-channel,
 *                                   magic must be "7" -> 4
 *   frontend 7           -          if the backend node reads 7: process
 *                                   state-N 1/5 -> 8
 *   frontend 4           -          -> 4
 *   frontend 5 / 6       -          disconnect -> 5 / 6 (6 with online=0:
 *                                   unregister)
 *   frontend 0, or the backend directory removed: unregister, releasing
 *                                   every device with a reset
 *
 * Everything is re-read from xenstore inside the handler and the state
 * node re-checked first ("reconfigure once"): the watch fires for every
 * write, our own included.  A backend write at 3 re-scans only what the
 * written node names: state-N, dev-N or vdev-N that device, state and
 * num_devs (and the directory itself) every device, and any other node
 * (root-N, root_num, frontend, online, ...) nothing, for no step reads
 * it.  Each device's own write is an event of its own, so the scans add
 * up to what a whole re-scan at every event found, at the cost of what
 * changed rather than of the number of devices.  Errors are xenbus_dev_fatal()'s: an error node
 * "<errno> <message>" under /local/domain/0/error/backend/pci/<domid>/0
 * and Closing, for that guest only.
 *
 * Worked example, libxl 4.17's per-device cold-plug of two devices:
 *   T{dirs, dev-0, state-0=1, num_devs=1}  probe -> 2, setup -> 3
 *   T{dev-1, state-1=1, num_devs=2}        backend write at 3: re-scan
 *                                          exports dev-1 (state-1=3)
 *   pcifront: T{pci-op-ref, event-channel, magic}, state 3 -> attach -> 4
 * The historic (pre-5.13) profile ignores the second write: dev-1 stays
 * at state-1=1 and the guest sees one device (xen-devel thread "libxl /
 * xen-pciback interaction", Mar 2021: docs/protocol.md §10 item 2).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenstore.h>

#include "log.h"
#include "pciback.h"
#include "xenbus-state.h"

const char *pciback_state_name(int state)
{
	const char *name = xenbus_state_name(state);

	return name ? name : "invalid";
}

/* dir/key, as snprintf("%s/%s") writes it (cut to fit): a path is built
 * for every xenstore access, and snprintf cost more than the access. */
static const char *path_join(char *buf, size_t len, const char *dir,
			     const char *key)
{
	size_t d = strlen(dir), k = strlen(key);

	if (d > len - 1)
		d = len - 1;
	memcpy(buf, dir, d);
	if (d < len - 1)
		buf[d++] = '/';
	if (k > len - 1 - d)
		k = len - 1 - d;
	memcpy(buf + d, key, k);
	buf[d + k] = '\0';
	return buf;
}

static int parse_int(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* dir/key as a decimal int: -ENOENT if missing, -EINVAL if garbage. */
int pciback_xs_read_int(struct pciback *pb, const char *dir,
			const char *key, int *ret_value)
{
	char path[PB_KEYPATH_MAX], *s;
	unsigned int len;
	long v;
	int r;

	path_join(path, sizeof(path), dir, key);
	s = xs_read(pb->xs, XBT_NULL, path, &len);
	if (!s)
		return errno == ENOENT ? -ENOENT : -errno;
	r = parse_int(s, -0x7fffffffL, 0x7fffffffL, &v);
	free(s);
	if (r == 0)
		*ret_value = (int)v;
	return r;
}

static int xs_read_uint(struct pciback *pb, const char *dir, const char *key,
			unsigned int *ret_value)
{
	char path[PB_KEYPATH_MAX], *s;
	unsigned int len;
	long v;
	int r;

	path_join(path, sizeof(path), dir, key);
	s = xs_read(pb->xs, XBT_NULL, path, &len);
	if (!s)
		return errno == ENOENT ? -ENOENT : -errno;
	r = s[0] == '-' ? -EINVAL : parse_int(s, 0, 0xffffffffL, &v);
	free(s);
	if (r == 0)
		*ret_value = (unsigned int)v;
	return r;
}

/* xenbus_read_driver_state: the node as xenbus_gather(..., "%d") reads
 * it, Unknown when missing or when no number starts it.  Like Linux, a
 * number with junk after it ("4 ", "4abc") is that number, and a number
 * that is no state (-1, 9) is returned as is: pciback_step ignores it,
 * where Unknown would unregister the backend.  A read the store did not
 * answer (it died while an event was handled) is -1 too: a dead store is
 * no frontend gone, and the backend stays as it is.  path: the state
 * node's own. */
static int read_state(struct pciback *pb, const char *path)
{
	unsigned int len;
	char *s;
	int v;

	s = xs_read(pb->xs, XBT_NULL, path, &len);
	if (!s)
		return errno == ENOENT || errno == EACCES ?
		       XenbusStateUnknown : -1;
	if (sscanf(s, "%d", &v) != 1)
		v = XenbusStateUnknown;
	free(s);
	return v;
}

static int xs_printf(struct pciback *pb, const char *dir, const char *key,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int xs_printf(struct pciback *pb, const char *dir, const char *key,
		     const char *fmt, ...)
{
	char path[PB_KEYPATH_MAX], val[256];
	va_list ap;

	path_join(path, sizeof(path), dir, key);
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (!xs_write(pb->xs, XBT_NULL, path, val, strlen(val)))
		return -errno;
	return 0;
}

/* A key of the backend (vdev-N, state-N, root-N), written only while the
 * backend exists, in one transaction with that check: a backend the
 * toolstack removed while we set it up (a destroy right after a create)
 * is not recreated by a late write, left for a domain that is gone.
 * 0 also when the backend is gone. */
int pciback_be_write(struct pciback *pb, struct pb_backend *be,
		     const char *key, const char *val)
{
	char path[PB_KEYPATH_MAX], *cur;
	xs_transaction_t t;
	unsigned int len;
	int e;

	path_join(path, sizeof(path), be->path, key);
	for (;;) {
		t = xs_transaction_start(pb->xs);
		if (t == XBT_NULL)
			return -errno;
		cur = xs_read(pb->xs, t, be->path, &len);
		if (!cur) {
			xs_transaction_end(pb->xs, t, true);
			log_info("domain %u: backend gone, %s not written",
				 be->domid, key);
			return 0;
		}
		free(cur);
		if (!xs_write(pb->xs, t, path, val, strlen(val))) {
			e = errno;
			xs_transaction_end(pb->xs, t, true);
			return -e;
		}
		if (xs_transaction_end(pb->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
}

/* xenbus_switch_state: written only while the state node exists, so a
 * removed backend directory is never recreated. */
static void switch_state(struct pciback *pb, struct pb_backend *be,
			 enum xenbus_state s)
{
	const char *path = be->statepath;
	char val[8], *cur;
	xs_transaction_t t;
	unsigned int len;
	int old = be->state;

	if (be->state == s)
		return;
	snprintf(val, sizeof(val), "%d", s);
	for (;;) {
		t = xs_transaction_start(pb->xs);
		if (t == XBT_NULL) {
			log_err("domain %u: transaction: %m", be->domid);
			return;
		}
		cur = xs_read(pb->xs, t, path, &len);
		if (!cur) {
			xs_transaction_end(pb->xs, t, true);
			log_info("domain %u: backend gone, state stays %s",
				 be->domid, pciback_state_name(old));
			be->state = s;
			return;
		}
		free(cur);
		if (!xs_write(pb->xs, t, path, val, strlen(val))) {
			log_err("domain %u: writing %s: %m", be->domid, path);
			xs_transaction_end(pb->xs, t, true);
			return;
		}
		if (xs_transaction_end(pb->xs, t, false))
			break;
		if (errno != EAGAIN) {
			log_err("domain %u: switching state: %m", be->domid);
			return;
		}
	}
	be->state = s;
	log_info("domain %u: backend state %d (%s) -> %d (%s)", be->domid,
		 old, pciback_state_name(old), s, pciback_state_name(s));
}

/* xenbus_dev_fatal: error node, log, Closing. */
static void dev_fatal(struct pciback *pb, struct pb_backend *be, int err,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void dev_fatal(struct pciback *pb, struct pb_backend *be, int err,
		      const char *fmt, ...)
{
	char msg[200], dir[PB_KEYPATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("domain %u: %s (%s)", be->domid, msg, strerror(-err));
	snprintf(dir, sizeof(dir), "%s/%u/0", PB_ERROR_ROOT, be->domid);
	if (xs_printf(pb, dir, "error", "%d %s", -err, msg) < 0)
		log_err("domain %u: cannot write the error node: %m",
			be->domid);
	switch_state(pb, be, XenbusStateClosing);
}

struct pb_backend *pciback_backend_find(struct pciback *pb,
					unsigned int domid)
{
	for (size_t i = 0; i < pb->nbes; i++)
		if (pb->bes[i]->domid == domid)
			return pb->bes[i];
	return NULL;
}

static int read_bdf(struct pciback *pb, struct pb_backend *be,
		    const char *key, uint32_t *ret_sbdf)
{
	char path[PB_KEYPATH_MAX], *s;
	unsigned int len;
	int r;

	path_join(path, sizeof(path), be->path, key);
	s = xs_read(pb->xs, XBT_NULL, path, &len);
	if (!s) {
		r = -errno;
		dev_fatal(pb, be, r, "Error reading configuration %s", key);
		return r;
	}
	r = pciback_parse_bdf(s, true, ret_sbdf);
	if (r < 0)
		dev_fatal(pb, be, r, "Error parsing pci device configuration "
			  "%s '%.32s'", key, s);
	free(s);
	return r;
}

/* export dev-i and write vdev-i (xen_pcibk_export_device + publish). */
static int export_index(struct pciback *pb, struct pb_backend *be, int i)
{
	char key[32], msg[160], val[32];
	struct pb_dev *dev;
	uint32_t sbdf;
	int r;

	snprintf(key, sizeof(key), "dev-%d", i);
	r = read_bdf(pb, be, key, &sbdf);
	if (r < 0)
		return r;
	dev = pciback_dev_find(pb, sbdf);
	if (!dev) {
		char bdf[16];

		pciback_format_bdf(sbdf, bdf, sizeof(bdf));
		dev_fatal(pb, be, -EINVAL, "Couldn't locate PCI device (%s)! "
			  "perhaps already in-use?", bdf);
		return -EINVAL;
	}
	r = pciback_export(pb, be, dev, msg, sizeof(msg));
	if (r < 0) {
		dev_fatal(pb, be, r, "%s", msg);
		return r;
	}
	snprintf(key, sizeof(key), "vdev-%d", i);
	/* "PV protocol uses %02x" for the function: keep it. */
	snprintf(val, sizeof(val), "%04x:%02x:%02x.%02x",
		 HV_SBDF_SEG(dev->vsbdf), HV_SBDF_BUS(dev->vsbdf),
		 HV_SBDF_DEV(dev->vsbdf), HV_SBDF_FN(dev->vsbdf));
	r = pciback_be_write(pb, be, key, val);
	if (r < 0)
		dev_fatal(pb, be, r, "Error writing %s", key);
	return r;
}

static int set_substate(struct pciback *pb, struct pb_backend *be, int i,
			enum xenbus_state s)
{
	char key[32], val[16];
	int r;

	snprintf(key, sizeof(key), "state-%d", i);
	snprintf(val, sizeof(val), "%d", s);
	r = pciback_be_write(pb, be, key, val);
	if (r < 0)
		dev_fatal(pb, be, r, "Error switching substate of dev-%d", i);
	return r;
}

static void disconnect(struct pciback *pb, struct pb_backend *be)
{
	if (be->bound) {
		pciback_epoll_del(pb, be->evfd);
		close(be->evfd);
		be->evfd = -1;
		hv_evtchn_close(pb->hv, be->port);
		be->bound = false;
	}
	if (be->mapped) {
		munmap(be->sh, HV_PAGE_SIZE);
		close(be->page_fd);
		be->page_fd = -1;
		be->sh = NULL;
		hv_unmap_grant(pb->hv, be->domid, be->gref);
		be->mapped = false;
		log_info("domain %u: disconnected", be->domid);
	}
}

/* xen_pcibk_attach: both ends Initialised, the frontend's page and event
 * channel published. */
static void attach(struct pciback *pb, struct pb_backend *be)
{
	unsigned int gref, remote_port, len;
	char path[PB_KEYPATH_MAX], *magic;
	void *map;
	int r;

	if (read_state(pb, be->statepath) != XenbusStateInitialised ||
	    read_state(pb, be->festatepath) != XenbusStateInitialised ||
	    be->mapped)
		return;
	if ((r = xs_read_uint(pb, be->fepath, "pci-op-ref", &gref)) < 0 ||
	    (r = xs_read_uint(pb, be->fepath, "event-channel",
			      &remote_port)) < 0) {
		dev_fatal(pb, be, r, "Error reading configuration from "
			  "frontend");
		return;
	}
	path_join(path, sizeof(path), be->fepath, "magic");
	magic = xs_read(pb->xs, XBT_NULL, path, &len);
	if (!magic || strcmp(magic, XEN_PCI_MAGIC) != 0) {
		dev_fatal(pb, be, -EFAULT, "version mismatch (%.16s/%s) with "
			  "pcifront - halting xpt-pciback",
			  magic ? magic : "(null)", XEN_PCI_MAGIC);
		free(magic);
		return;
	}
	free(magic);
	r = hv_map_grant(pb->hv, be->domid, gref, &be->page_fd, &map);
	/* We write replies into the page: a read-only grant cannot be
	 * mapped writable (as Xen refuses GNTMAP_host_map of one). */
	if (r == 0 && mprotect(map, HV_PAGE_SIZE, PROT_READ | PROT_WRITE)) {
		r = -EACCES;
		munmap(map, HV_PAGE_SIZE);
		close(be->page_fd);
		be->page_fd = -1;
		hv_unmap_grant(pb->hv, be->domid, gref);
	}
	if (r < 0) {
		dev_fatal(pb, be, r, "Error mapping other domain page in ours "
			  "(grant %u)", gref);
		return;
	}
	be->sh = map;
	be->gref = gref;
	be->mapped = true;
	r = hv_evtchn_bind_interdomain(pb->hv, be->domid, remote_port,
				       &be->port);
	if (r == 0) {
		r = hv_evtchn_fd(pb->hv, be->port, &be->evfd);
		if (r < 0)
			hv_evtchn_close(pb->hv, be->port);
	}
	if (r == 0) {
		be->bound = true;
		r = pciback_epoll_add(pb, be->evfd, &be->src);
	}
	if (r < 0) {
		disconnect(pb, be);
		dev_fatal(pb, be, r, "Error binding event channel %u to IRQ",
			  remote_port);
		return;
	}
	log_info("domain %u: connected (grant %u, port %u -> %u)", be->domid,
		 gref, remote_port, be->port);
	switch_state(pb, be, XenbusStateConnected);
}

/* xen_pcibk_setup_backend: own state InitWait. */
static void setup_backend(struct pciback *pb, struct pb_backend *be)
{
	int num, r;

	if (read_state(pb, be->statepath) != XenbusStateInitWait)
		return;
	r = pciback_xs_read_int(pb, be->path, "num_devs", &num);
	if (r < 0 || num < 0) {
		dev_fatal(pb, be, r < 0 ? r : -EINVAL,
			  "Error reading number of devices");
		return;
	}
	for (int i = 0; i < num; i++) {
		if (export_index(pb, be, i) < 0 ||
		    set_substate(pb, be, i, XenbusStateInitialised) < 0)
			return;
	}
	r = pciback_publish_roots(pb, be);
	if (r < 0) {
		dev_fatal(pb, be, r, "Error while publish PCI root buses for "
			  "frontend");
		return;
	}
	switch_state(pb, be, XenbusStateInitialised);
	attach(pb, be);
}

/* Device i of a reconfigure: state-N 1 exports it, 5 releases it.  < 0
 * when the backend failed (dev_fatal) and the scan must stop. */
static int reconfigure_index(struct pciback *pb, struct pb_backend *be,
			     int i, enum xenbus_state expect)
{
	char key[32];
	uint32_t vsbdf;
	struct pb_dev *dev;
	int sub, r;

	snprintf(key, sizeof(key), "state-%d", i);
	if (pciback_xs_read_int(pb, be->path, key, &sub) < 0)
		sub = XenbusStateUnknown;
	switch (sub) {
	case XenbusStateInitialising:
		log_info("domain %u: attaching dev-%d (%s)", be->domid, i,
			 pciback_state_name(expect));
		if ((r = export_index(pb, be, i)) < 0)
			return r;
		r = pciback_publish_roots(pb, be);
		if (r < 0) {
			dev_fatal(pb, be, r, "Error while publish PCI root "
				  "buses for frontend");
			return r;
		}
		return set_substate(pb, be, i, XenbusStateInitialised);
	case XenbusStateClosing:
		snprintf(key, sizeof(key), "vdev-%d", i);
		if ((r = read_bdf(pb, be, key, &vsbdf)) < 0)
			return r;
		dev = pciback_lookup_vdev(pb, be, vsbdf);
		if (!dev) {
			log_debug("domain %u: %s already removed", be->domid,
				  key);
			return 0;
		}
		log_info("domain %u: detaching dev-%d", be->domid, i);
		pciback_put(pb, dev);
		return 0;
	default:
		return 0;
	}
}

/* xen_pcibk_reconfigure: Initialised (re-scan after a backend write) or
 * Reconfiguring (hot-add/remove announced by the toolstack).  idx: the
 * one device the write named, or PB_ALL_DEVS. */
static void reconfigure(struct pciback *pb, struct pb_backend *be,
			enum xenbus_state expect, int idx)
{
	int num, r;

	if (read_state(pb, be->statepath) != (int)expect)
		return;
	r = pciback_xs_read_int(pb, be->path, "num_devs", &num);
	if (r < 0 || num < 0) {
		dev_fatal(pb, be, r < 0 ? r : -EINVAL,
			  "Error reading number of devices");
		return;
	}
	if (idx != PB_ALL_DEVS) {
		if (idx < num && reconfigure_index(pb, be, idx, expect) < 0)
			return;
	} else {
		for (int i = 0; i < num; i++)
			if (reconfigure_index(pb, be, i, expect) < 0)
				return;
	}
	if (expect == XenbusStateReconfiguring)
		switch_state(pb, be, XenbusStateReconfigured);
}

static void fe_unwatch(struct pciback *pb, struct pb_backend *be)
{
	if (!be->fe_watched)
		return;
	xs_unwatch(pb->xs, be->festatepath, be->fetoken);
	be->fe_watched = false;
}

/* Unregister: the xenbus device goes away; every device is released. */
static void unregister(struct pciback *pb, struct pb_backend *be,
		       bool dir_exists)
{
	size_t i;

	disconnect(pb, be);
	for (i = 0; i < pb->ndevs; i++)
		if (pb->devs[i]->be == be)
			pciback_put(pb, pb->devs[i]);
	if (dir_exists)
		switch_state(pb, be, XenbusStateClosed);
	fe_unwatch(pb, be);
	for (i = 0; i < pb->nbes && pb->bes[i] != be; i++)
		;
	memmove(&pb->bes[i], &pb->bes[i + 1],
		(pb->nbes - i - 1) * sizeof(*pb->bes));
	pb->nbes--;
	log_info("domain %u: backend unregistered", be->domid);
	free(be);
}

void pciback_step(struct pciback *pb, struct pb_backend *be,
		  enum pb_event ev, int arg)
{
	int fe_state = arg, online;

	switch (ev) {
	case PB_EV_PROBE:
		switch_state(pb, be, XenbusStateInitWait);
		pciback_step(pb, be, PB_EV_BACKEND, PB_ALL_DEVS);
		break;
	case PB_EV_BACKEND:
		if (be->state == XenbusStateInitWait) {
			setup_backend(pb, be);
		} else if (be->state == XenbusStateInitialised &&
			   arg != PB_NO_DEV) {
			if (pb->profile & PB_HIST_NO_INIT_RESCAN)
				log_debug("domain %u: historic profile: "
					  "backend write while Initialised "
					  "ignored", be->domid);
			else
				reconfigure(pb, be, XenbusStateInitialised,
					    arg);
		}
		break;
	case PB_EV_FRONTEND:
		log_debug("domain %u: frontend state %d (%s), own %d",
			  be->domid, fe_state, pciback_state_name(fe_state),
			  be->state);
		switch (fe_state) {
		case XenbusStateInitialised:
			attach(pb, be);
			break;
		case XenbusStateReconfiguring:
			reconfigure(pb, be, XenbusStateReconfiguring,
				    PB_ALL_DEVS);
			break;
		case XenbusStateConnected:
			switch_state(pb, be, XenbusStateConnected);
			break;
		case XenbusStateClosing:
			disconnect(pb, be);
			switch_state(pb, be, XenbusStateClosing);
			break;
		case XenbusStateClosed:
			disconnect(pb, be);
			switch_state(pb, be, XenbusStateClosed);
			if (pciback_xs_read_int(pb, be->path, "online",
						&online) == 0 && online)
				break;
			unregister(pb, be, true);
			break;
		case XenbusStateUnknown:
			unregister(pb, be, true);
			break;
		default:
			break;
		}
		break;
	case PB_EV_GONE:
		unregister(pb, be, false);
		break;
	}
}

/* Only a store that answers ENOENT or EACCES says a node is gone; one
 * that does not answer (it died) takes nothing away. */
static bool node_exists(struct pciback *pb, const char *path)
{
	unsigned int len;
	char *s = xs_read(pb->xs, XBT_NULL, path, &len);

	if (s) {
		free(s);
		return true;
	}
	return errno != ENOENT && errno != EACCES;
}

/* A new backend directory: the xenbus core probes it only while its state
 * is Initialising and the other end's details are readable. */
static void probe(struct pciback *pb, unsigned int domid)
{
	char path[PB_PATH_MAX], p[PB_KEYPATH_MAX];
	struct pb_backend *be, **bes;
	char *fe = NULL;
	unsigned int len;
	int feid, r;

	snprintf(path, sizeof(path), "%s/%u/0", PB_BACKEND_ROOT, domid);
	path_join(p, sizeof(p), path, "state");
	if (read_state(pb, p) != XenbusStateInitialising)
		return;
	be = calloc(1, sizeof(*be));
	bes = realloc(pb->bes, (pb->nbes + 1) * sizeof(*bes));
	if (!be || !bes) {
		free(be);
		if (bes)
			pb->bes = bes;
		log_err("domain %u: out of memory", domid);
		return;
	}
	pb->bes = bes;
	be->domid = domid;
	be->gen = ++pb->gen;
	be->state = XenbusStateInitialising;
	be->page_fd = be->evfd = -1;
	be->src = (struct pb_src){ PB_SRC_EVTCHN, be };
	memcpy(be->path, path, sizeof(be->path));
	memcpy(be->statepath, p, sizeof(be->statepath));
	path_join(p, sizeof(p), path, "frontend");
	fe = xs_read(pb->xs, XBT_NULL, p, &len);
	r = pciback_xs_read_int(pb, path, "frontend-id", &feid);
	if (!fe || !fe[0] || strlen(fe) >= sizeof(be->fepath) || r < 0 ||
	    feid != (int)domid) {
		/* The toolstack's fault, not the guest's: report it. */
		pb->bes[pb->nbes++] = be;
		dev_fatal(pb, be, r < 0 ? r : -EINVAL, "reading other end "
			  "details from %s", path);
		pb->nbes--;
		free(be);
		free(fe);
		return;
	}
	snprintf(be->fepath, sizeof(be->fepath), "%s", fe);
	free(fe);
	path_join(be->festatepath, sizeof(be->festatepath), be->fepath,
		  "state");
	snprintf(be->fetoken, sizeof(be->fetoken), "fe:%u:%u", domid,
		 be->gen);
	if (xs_watch(pb->xs, be->festatepath, be->fetoken))
		be->fe_watched = true;
	else
		log_err("domain %u: cannot watch %s: %m", domid,
			be->festatepath);
	pb->bes[pb->nbes++] = be;
	log_info("domain %u: probing backend %s (frontend %s)", domid, path,
		 be->fepath);
	pciback_step(pb, be, PB_EV_PROBE, 0);
}

/* The device a write to the backend's node key (its path below the
 * backend directory, NULL for the directory itself) concerns: what
 * reconfigure() reads, and under the name it reads it by ("state-01" is
 * not device 1's). */
static int key_index(const char *key)
{
	static const char *const per_dev[] = { "state-", "dev-", "vdev-" };
	size_t n, k;
	long v;

	if (!key)
		return PB_ALL_DEVS;
	n = strcspn(key, "/");
	if ((n == 5 && strncmp(key, "state", 5) == 0) ||
	    (n == 8 && strncmp(key, "num_devs", 8) == 0))
		return PB_ALL_DEVS;
	for (size_t i = 0; i < sizeof(per_dev) / sizeof(per_dev[0]); i++) {
		k = strlen(per_dev[i]);
		if (n <= k || strncmp(key, per_dev[i], k) != 0)
			continue;
		if (n - k > 10 || (key[k] == '0' && n - k > 1))
			return PB_NO_DEV;
		v = 0;
		for (size_t j = k; j < n; j++) {
			if (key[j] < '0' || key[j] > '9')
				return PB_NO_DEV;
			v = v * 10 + (key[j] - '0');
		}
		return v <= INT_MAX ? (int)v : PB_NO_DEV;
	}
	return PB_NO_DEV;
}

/* A watch event for backend/pci/<domid>/0/key (key NULL: the directory
 * itself, or the whole backend on a re-scan). */
static void domid_changed(struct pciback *pb, unsigned int domid,
			  const char *key)
{
	struct pb_backend *be = pciback_backend_find(pb, domid);
	char path[PB_PATH_MAX];

	if (be && !node_exists(pb, be->path)) {
		pciback_step(pb, be, PB_EV_GONE, 0);
	} else if (be) {
		pciback_step(pb, be, PB_EV_BACKEND, key_index(key));
	} else {
		snprintf(path, sizeof(path), "%s/%u/0", PB_BACKEND_ROOT,
			 domid);
		if (node_exists(pb, path))
			probe(pb, domid);
	}
}

static void rescan_all(struct pciback *pb)
{
	unsigned int n = 0;
	char **ents = xs_directory(pb->xs, XBT_NULL, PB_BACKEND_ROOT, &n);
	long v;

	for (unsigned int i = 0; i < n; i++)
		if (parse_int(ents[i], 0, 0x7fef, &v) == 0)
			domid_changed(pb, (unsigned int)v, NULL);
	free(ents);
	/* backends whose whole directory went away */
	for (size_t i = 0; i < pb->nbes; i++) {
		if (!node_exists(pb, pb->bes[i]->path)) {
			pciback_step(pb, pb->bes[i], PB_EV_GONE, 0);
			i--;
		}
	}
}

void pciback_xenbus_watch(struct pciback *pb, const char *path,
			  const char *token)
{
	size_t rootlen = strlen(PB_BACKEND_ROOT), n = strlen(path);

	if (n > sizeof(pb->last_watch) - 1)
		n = sizeof(pb->last_watch) - 1;
	memcpy(pb->last_watch, path, n);
	pb->last_watch[n] = '\0';
	pb->watch_events++;
	if (strcmp(token, "be") == 0) {
		char id[16];
		const char *p, *slash;
		size_t idlen;
		long v;

		if (strncmp(path, PB_BACKEND_ROOT, rootlen) != 0 ||
		    path[rootlen] != '/') {
			rescan_all(pb);
			return;
		}
		p = path + rootlen + 1;
		slash = strchr(p, '/');
		idlen = slash ? (size_t)(slash - p) : strlen(p);
		if (idlen >= sizeof(id))
			return;
		memcpy(id, p, idlen);
		id[idlen] = '\0';
		if (parse_int(id, 0, 0x7fef, &v) < 0)
			return;
		/* only devid 0: one PCI device per guest */
		if (slash && strncmp(slash, "/0", 2) != 0)
			return;
		if (slash && slash[2] != '\0' && slash[2] != '/')
			return;
		domid_changed(pb, (unsigned int)v,
			      slash && slash[2] == '/' ? slash + 3 : NULL);
	} else if (strncmp(token, "fe:", 3) == 0) {
		unsigned int domid, gen;
		struct pb_backend *be;

		if (sscanf(token, "fe:%u:%u", &domid, &gen) != 2)
			return;
		be = pciback_backend_find(pb, domid);
		if (!be || be->gen != gen)
			return;		/* stale: an old backend's watch */
		pciback_step(pb, be, PB_EV_FRONTEND,
			     read_state(pb, be->festatepath));
	}
}

void pciback_backend_free_all(struct pciback *pb)
{
	while (pb->nbes) {
		struct pb_backend *be = pb->bes[pb->nbes - 1];

		disconnect(pb, be);
		for (size_t i = 0; i < pb->ndevs; i++)
			if (pb->devs[i]->be == be)
				pb->devs[i]->be = NULL;
		fe_unwatch(pb, be);
		pb->nbes--;
		free(be);
	}
	free(pb->bes);
	pb->bes = NULL;
}
