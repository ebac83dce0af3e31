// SPDX-License-Identifier: MIT
/*
 * The Xen transport: xpt-xenstored as the store of a real Xen host, with
 * Xen's libraries (libxenevtchn, libxengnttab, libxenctrl).
 *
 * dom0's page and event channel come from its kernel, /proc/xen/xsd_kva
 * and /proc/xen/xsd_port (xenfs), as for C xenstored; a guest's page is the
 * grant GNTTAB_RESERVED_XENSTORE its builder set up, and its event channel
 * the port XS_INTRODUCE names (the gfn argument is not needed).  All ports
 * share one evtchn fd in the epoll set.  VIRQ_DOM_EXC says "some domain
 * changed state": we then ask for the info of every introduced domain and
 * release the dying or vanished ones (their nodes go, @releaseDomain fires);
 * a domain's first shutdown or crash fires @releaseDomain once, re-armed by
 * XS_RESUME, which is how xl notices a guest's reboot or poweroff.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xen/grant_table.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

#define XEN_KVA "/proc/xen/xsd_kva"
#define XEN_PORT "/proc/xen/xsd_port"

/* One domain on a ring; the ring comes first (notify gets the ring). */
struct xdom {
	struct ring ring;
	struct xdom *next;
	struct xen *xen;
	unsigned int domid;
	evtchn_port_t local;	/* our end of its event channel */
	bool bound;
	void *page;
	bool granted;		/* page from the grant table, else xsd_kva */
};

struct xen {
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	xc_interface *xch;
	evtchn_port_t virq;
	bool virq_bound;
	struct xdom *doms;
};

bool xen_present(void)
{
	return access(XEN_KVA, R_OK | W_OK) == 0;
}

static void xen_notify(struct ring *r)
{
	struct xdom *x = (struct xdom *)r;

	if (x->bound && xenevtchn_notify(x->xen->xce, x->local) < 0)
		peerlog_msg(r->xsd, PEERLOG_RING, LOG_LVL_WARN,
			    "domain %u: cannot notify event channel %u: %m",
			    x->domid, x->local);
}

static struct xdom *xen_find(struct xen *xen, unsigned int domid)
{
	struct xdom *x;

	for (x = xen->doms; x; x = x->next)
		if (x->domid == domid)
			return x;
	return NULL;
}

static int xen_bind(struct xdom *x, unsigned int port)
{
	xenevtchn_port_or_error_t p;

	if (x->bound) {
		xenevtchn_unbind(x->xen->xce, x->local);
		x->bound = false;
	}
	p = xenevtchn_bind_interdomain(x->xen->xce, x->domid, port);
	if (p < 0) {
		log_err("domain %u: cannot bind its event channel %u: %m",
			x->domid, port);
		return -EIO;
	}
	x->local = p;
	x->bound = true;
	return 0;
}

static void xen_free_dom(struct xen *xen, struct xdom *x)
{
	struct xdom **pp;

	for (pp = &xen->doms; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	ring_close(&x->ring);
	if (x->bound)
		xenevtchn_unbind(xen->xce, x->local);
	if (x->page && x->granted)
		xengnttab_unmap(xen->xgt, x->page, 1);
	else if (x->page)
		munmap(x->page, getpagesize());
	free(x);
}

static struct xdom *xen_new_dom(struct xen *xen, unsigned int domid)
{
	struct xdom *x = xcalloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->xen = xen;
	x->domid = domid;
	x->next = xen->doms;
	xen->doms = x;
	return x;
}

static int xen_introduce(struct xsd *xsd, struct domain *d, unsigned int port)
{
	struct xen *xen = xsd->hv_state;
	struct xdom *x = xen_find(xen, d->domid);
	int r;

	if (x) {
		/* Again: the toolstack says the ring starts afresh. */
		r = xen_bind(x, port);
		if (r < 0)
			return r;
		ring_reset(&x->ring);
		return 0;
	}
	x = xen_new_dom(xen, d->domid);
	if (!x)
		return -ENOMEM;
	x->page = xengnttab_map_grant_ref(xen->xgt, d->domid,
					  GNTTAB_RESERVED_XENSTORE,
					  PROT_READ | PROT_WRITE);
	if (!x->page) {
		log_err("domain %u: cannot map its xenstore page (grant %d): "
			"%m", d->domid, GNTTAB_RESERVED_XENSTORE);
		xen_free_dom(xen, x);
		return -EIO;
	}
	x->granted = true;
	r = xen_bind(x, port);
	if (r == 0)
		r = ring_init(&x->ring, xsd, d, x->page, xen_notify);
	if (r < 0) {
		xen_free_dom(xen, x);
		d->ring = NULL;
		return r;
	}
	ring_reset(&x->ring);
	log_info("domain %u: ring mapped, event channel %u (local %u)",
		 d->domid, port, x->local);
	return 0;
}

static void xen_release(struct xsd *xsd, struct domain *d)
{
	struct xen *xen = xsd->hv_state;
	struct xdom *x = xen_find(xen, d->domid);

	if (x && d->domid != 0)
		xen_free_dom(xen, x);
}

/*
 * VIRQ_DOM_EXC: release every introduced domain that is dying or gone;
 * fire @releaseDomain once for domains newly shut down.  Restarts the walk
 * after each release, which changes the list.
 */
static void xen_check_domains(struct xsd *xsd)
{
	struct xen *xen = xsd->hv_state;
	xc_domaininfo_t info;
	struct domain *d;
	bool notify = false, again = true;
	int n;

	while (again) {
		again = false;
		for (d = xsd->domains; d; d = d->next) {
			if (d->domid == 0)
				continue;
			n = xc_domain_getinfolist(xen->xch, d->domid, 1, &info);
			if (n < 0) {
				log_warn("domain %u: cannot get its info: %m",
					 d->domid);
				continue;
			}
			if (n == 1 && info.domain == d->domid &&
			    !(info.flags & XEN_DOMINF_dying)) {
				if ((info.flags & XEN_DOMINF_shutdown) &&
				    !d->shutdown) {
					d->shutdown = true;
					notify = true;
					log_info("domain %u shut down",
						 d->domid);
				}
				continue;
			}
			if (!d->introduced) {
				domain_forget(xsd, d);
				again = true;
				break;
			}
			log_info("domain %u is %s", d->domid,
				 n == 1 && info.domain == d->domid ?
				 "dying" : "gone");
			domain_release(xsd, d->domid);	/* fires the watch */
			again = true;
			break;
		}
	}
	if (notify)
		watch_fire_special(xsd, "@releaseDomain");
}

static bool xen_exists(struct xsd *xsd, unsigned int domid)
{
	struct xen *xen = xsd->hv_state;
	xc_domaininfo_t info;

	return xc_domain_getinfolist(xen->xch, domid, 1, &info) == 1 &&
	       info.domain == domid && !(info.flags & XEN_DOMINF_dying);
}

static void xen_event(struct xsd *xsd)
{
	struct xen *xen = xsd->hv_state;
	xenevtchn_port_or_error_t port;
	struct xdom *x;

	/* The fd is non-blocking: take every pending port. */
	while ((port = xenevtchn_pending(xen->xce)) >= 0) {
		if (xenevtchn_unmask(xen->xce, port) < 0)
			log_warn("cannot unmask event channel %d: %m", port);
		if (xen->virq_bound && (evtchn_port_t)port == xen->virq) {
			xen_check_domains(xsd);
			continue;
		}
		for (x = xen->doms; x; x = x->next)
			if (x->bound && x->local == (evtchn_port_t)port)
				break;
		if (x)
			ring_event(&x->ring);
	}
}

static const struct xsd_hv xen_hv = {
	.introduce = xen_introduce,
	.release = xen_release,
	.event = xen_event,
	.exists = xen_exists,
};

static int xen_read_port(unsigned int *ret)
{
	char buf[32], *end;
	unsigned long v;
	ssize_t n;
	int fd;

	fd = open(XEN_PORT, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || v == 0 || v > 0xffffffffUL)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* dom0's own ring: the page its kernel shares through xenfs. */
static int xen_dom0(struct xsd *xsd, struct xen *xen)
{
	struct xdom *x;
	unsigned int port = 0;
	int fd, r;

	r = xen_read_port(&port);
	if (r < 0) {
		log_err("cannot read %s: %s", XEN_PORT, strerror(-r));
		return r;
	}
	x = xen_new_dom(xen, 0);
	if (!x)
		return -ENOMEM;
	fd = open(XEN_KVA, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		x->page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		if (x->page == MAP_FAILED)
			x->page = NULL;
		close(fd);
	}
	if (!x->page) {
		log_err("cannot map %s: %m", XEN_KVA);
		xen_free_dom(xen, x);
		return -EIO;
	}
	r = xen_bind(x, port);
	if (r == 0)
		r = ring_init(&x->ring, xsd, xsd->dom0, x->page, xen_notify);
	if (r < 0) {
		xen_free_dom(xen, x);
		xsd->dom0->ring = NULL;
		return r;
	}
	/* No reset: dom0's kernel may have written before we started. */
	log_info("dom0: ring %s, event channel %u (local %u)", XEN_KVA, port,
		 x->local);
	return 0;
}

/*
 * Take over as the host's store.  Needs io_listen() first (the epoll set).
 * On failure nothing stays bound or mapped.
 */
int xen_open(struct xsd *xsd)
{
	struct xen *xen = xcalloc(1, sizeof(*xen));
	xenevtchn_port_or_error_t p;
	int fd, fl, r = -EIO;

	if (!xen)
		return -ENOMEM;
	xsd->hv_state = xen;
	xen->xce = xenevtchn_open(NULL, 0);
	xen->xgt = xengnttab_open(NULL, 0);
	xen->xch = xc_interface_open(NULL, NULL, 0);
	if (!xen->xce || !xen->xgt || !xen->xch) {
		log_err("cannot open %s: %m", !xen->xce ? "event channels" :
			!xen->xgt ? "the grant table" : "libxenctrl");
		goto out;
	}
	fd = xenevtchn_fd(xen->xce);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_err("evtchn fd: %m");
		goto out;
	}
	p = xenevtchn_bind_virq(xen->xce, VIRQ_DOM_EXC);
	if (p < 0) {
		log_err("cannot bind VIRQ_DOM_EXC: %m (is another xenstored "
			"running?)");
		goto out;
	}
	xen->virq = p;
	xen->virq_bound = true;
	r = xen_dom0(xsd, xen);
	if (r < 0)
		goto out;
	if (io_hv_add(xsd, fd) < 0) {
		log_err("epoll_ctl: %m");
		r = -EIO;
		goto out;
	}
	xsd->hv = &xen_hv;
	/* dom0's kernel probes its xenbus devices on our first kick. */
	xen_notify(&xen->doms->ring);
	ring_event(&xen->doms->ring);
	return 0;
out:
	xen_close(xsd);
	return r;
}

void xen_close(struct xsd *xsd)
{
	struct xen *xen = xsd->hv_state;

	if (!xen)
		return;
	while (xen->doms)
		xen_free_dom(xen, xen->doms);
	if (xen->virq_bound)
		xenevtchn_unbind(xen->xce, xen->virq);
	if (xen->xch)
		xc_interface_close(xen->xch);
	if (xen->xgt)
		xengnttab_close(xen->xgt);
	if (xen->xce)
		xenevtchn_close(xen->xce);
	free(xen);
	xsd->hv_state = NULL;
	xsd->hv = NULL;
}
