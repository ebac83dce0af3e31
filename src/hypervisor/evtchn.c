// SPDX-License-Identifier: MIT
/*
 * Event channels: a port table per domain, Xen's states (free, unbound,
 * interdomain, pirq, virq) and an eventfd per allocated port.  The eventfd
 * exists from allocation, so a notification sent before the owner fetched
 * the fd is counted, never lost; the owner receives a duplicate of it
 * (SCM_RIGHTS), and a closed port's eventfd simply stops firing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

/* Room for more ports: twice as many, free (d->ports may move). */
static int ports_grow(struct hyp_domain *d)
{
	uint32_t n = d->nports ? d->nports * 2 : 8, i;
	struct hyp_port *ports;

	if (d->nports >= HYP_NR_PORTS)
		return -ENOSPC;
	if (n > HYP_NR_PORTS)
		n = HYP_NR_PORTS;
	ports = realloc(d->ports, n * sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (i = d->nports; i < n; i++)
		ports[i] = (struct hyp_port){ .efd = -1, .pirq = -1 };
	d->ports = ports;
	d->nports = n;
	return 0;
}

/* The lowest free port, as Xen's get_free_port.  It may move d->ports:
 * a pointer into them is stale after it. */
static int port_alloc(struct hyp_domain *d, uint32_t *ret_port)
{
	uint32_t p;
	int efd, r;

	for (p = 1; p < d->nports; p++)
		if (d->ports[p].state == PORT_FREE)
			break;
	if (p >= d->nports) {
		r = ports_grow(d);
		if (r < 0)
			return r;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	if (d->ports[p].efd >= 0)
		close(d->ports[p].efd);
	d->ports[p] = (struct hyp_port){ .efd = efd, .pirq = -1 };
	*ret_port = p;
	return 0;
}

static struct hyp_port *port_get(struct hyp_domain *d, uint32_t port)
{
	if (port == 0 || port >= d->nports ||
	    d->ports[port].state == PORT_FREE)
		return NULL;
	return &d->ports[port];
}

/* The other end of p (domain domid's port): rd's remote_port if it is
 * still linked back, else NULL (rd may be a new domain with that id). */
static struct hyp_port *peer_get(struct hyp_domain *rd,
				 const struct hyp_port *p, uint32_t domid,
				 uint32_t port)
{
	struct hyp_port *rp;

	if (!rd)
		return NULL;
	rp = port_get(rd, p->remote_port);
	if (!rp || rp->state != PORT_INTERDOMAIN ||
	    rp->remote_domid != domid || rp->remote_port != port)
		return NULL;
	return rp;
}

void hyp_evtchn_notify(struct hyp_domain *d, uint32_t port)
{
	uint64_t one = 1;

	if (port == 0 || port >= d->nports || d->ports[port].efd < 0)
		return;
	/* A saturated counter (EAGAIN) is still pending: nothing lost. */
	if (write(d->ports[port].efd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("domain %u port %u: eventfd write: %m", d->domid,
			 port);
}

int hyp_evtchn_alloc_unbound(struct hyp *h, uint32_t domid,
			     uint32_t remote_domid, uint32_t *ret_port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	uint32_t port;
	int r;

	if (!d)
		return -ESRCH;
	if (remote_domid == HV_DOMID_SELF)
		remote_domid = domid;
	if (!hyp_domain_get(h, remote_domid))
		return -ESRCH;
	r = port_alloc(d, &port);
	if (r < 0)
		return r;
	d->ports[port].state = PORT_UNBOUND;
	d->ports[port].remote_domid = remote_domid;
	log_debug("domain %u port %u: unbound for domain %u", domid, port,
		  remote_domid);
	*ret_port = port;
	return 0;
}

int hyp_evtchn_bind_interdomain(struct hyp *h, uint32_t domid,
				uint32_t remote_domid, uint32_t remote_port,
				uint32_t *ret_port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid), *rd;
	struct hyp_port *rp;
	uint32_t port;
	int r;

	if (!d)
		return -ESRCH;
	if (remote_domid == HV_DOMID_SELF)
		remote_domid = domid;
	rd = hyp_domain_get(h, remote_domid);
	if (!rd)
		return -ESRCH;
	rp = port_get(rd, remote_port);
	/* Only a port the remote allocated unbound for us (Xen: -EINVAL). */
	if (!rp || rp->state != PORT_UNBOUND || rp->remote_domid != domid)
		return -EINVAL;
	r = port_alloc(d, &port);
	if (r < 0)
		return r;
	rp = &rd->ports[remote_port];	/* moved if rd is d */
	d->ports[port].state = PORT_INTERDOMAIN;
	d->ports[port].remote_domid = remote_domid;
	d->ports[port].remote_port = remote_port;
	rp->state = PORT_INTERDOMAIN;
	rp->remote_port = port;
	/* Xen notifies the local port after binding. */
	hyp_evtchn_notify(d, port);
	log_debug("domain %u port %u <-> domain %u port %u", domid, port,
		  remote_domid, remote_port);
	*ret_port = port;
	return 0;
}

int hyp_evtchn_bind_pirq(struct hyp *h, uint32_t domid, int pirq,
			 uint32_t *ret_port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	uint32_t port;
	int r;

	if (!d)
		return -ESRCH;
	if (!hyp_pirq_used(d, pirq))
		return -EINVAL;	/* Xen: pirq_guest_bind finds no irq */
	if (d->pirqs[pirq].port)
		return -EEXIST;
	if (d->pirqs[pirq].pt.bound)
		return -EBUSY;	/* bound to the guest by its device model */
	r = port_alloc(d, &port);
	if (r < 0)
		return r;
	d->ports[port].state = PORT_PIRQ;
	d->ports[port].pirq = pirq;
	d->pirqs[pirq].port = port;
	hyp_irq_guest_bind(h, d, pirq);
	log_debug("domain %u port %u: bound to pirq %d", domid, port, pirq);
	*ret_port = port;
	return 0;
}

int hyp_evtchn_alloc_virq(struct hyp *h, uint32_t domid, uint32_t *ret_port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	uint32_t port;
	int r;

	if (!d)
		return -ESRCH;
	r = port_alloc(d, &port);
	if (r < 0)
		return r;
	d->ports[port].state = PORT_VIRQ;
	*ret_port = port;
	return 0;
}

int hyp_evtchn_fd(struct hyp *h, uint32_t domid, uint32_t port, int *ret_fd)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct hyp_port *p;

	if (!d)
		return -ESRCH;
	p = port_get(d, port);
	if (!p)
		return -EINVAL;
	*ret_fd = p->efd;	/* borrowed: the caller duplicates it */
	return 0;
}

int hyp_evtchn_send(struct hyp *h, uint32_t domid, uint32_t port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid), *rd;
	struct hyp_port *p;

	if (!d)
		return -ESRCH;
	p = port_get(d, port);
	if (!p)
		return -EINVAL;
	switch (p->state) {
	case PORT_INTERDOMAIN:
		rd = hyp_domain_get(h, p->remote_domid);
		if (peer_get(rd, p, domid, port))
			hyp_evtchn_notify(rd, p->remote_port);
		return 0;
	case PORT_UNBOUND:
		return 0;	/* Xen: silently dropped */
	default:
		return -EINVAL;
	}
}

/* Close one port; its interdomain peer becomes unbound (for us again). */
static void port_close(struct hyp *h, struct hyp_domain *d, uint32_t port)
{
	struct hyp_port *p = &d->ports[port], *rp;

	switch (p->state) {
	case PORT_INTERDOMAIN:
		rp = peer_get(hyp_domain_get(h, p->remote_domid), p,
			      d->domid, port);
		if (rp) {
			rp->state = PORT_UNBOUND;
			rp->remote_port = 0;
		}
		break;
	case PORT_PIRQ:
		if (p->pirq >= 0) {
			hyp_irq_guest_unbind(h, d, p->pirq);
			d->pirqs[p->pirq].port = 0;
		}
		break;
	default:
		break;
	}
	if (p->efd >= 0)
		close(p->efd);
	*p = (struct hyp_port){ .efd = -1, .pirq = -1 };
}

int hyp_evtchn_close(struct hyp *h, uint32_t domid, uint32_t port)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);

	if (!d)
		return -ESRCH;
	if (!port_get(d, port))
		return -EINVAL;
	port_close(h, d, port);
	log_debug("domain %u port %u: closed", domid, port);
	return 0;
}

void hyp_evtchn_destroy(struct hyp *h, struct hyp_domain *d)
{
	uint32_t p;

	for (p = 1; p < d->nports; p++)
		if (d->ports[p].state != PORT_FREE)
			port_close(h, d, p);
}
