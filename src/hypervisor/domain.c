// SPDX-License-Identifier: MIT
/*
 * Domains: the model's life cycle (create paused, unpause, pause, shutdown,
 * destroy), domid allocation and VIRQ_DOM_EXC.  Dom0 exists from the start
 * and is the hardware domain; domUs get ids from 1 upward, a live id is
 * never handed out twice (Xen allocates round-robin the same way).
 *
 * Destruction follows Xen's domain_kill order: ioreq servers go (vCPUs
 * blocked on them with them), event channels are closed
 * (which unbinds PIRQs and masks their vectors), devices are deassigned,
 * then the remaining PIRQs are unmapped (free_domain_pirqs: with memory
 * decoding off this leaves the MSI-X function mask set,
 * docs/protocol.md §11), grants are revoked and permissions dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

static const char *const state_names[] = {
	[HV_DOM_PAUSED] = "paused",
	[HV_DOM_RUNNING] = "running",
	[HV_DOM_SHUTDOWN] = "shutdown",
	[HV_DOM_DYING] = "dying",
};

const char *hyp_domain_state_name(uint32_t state)
{
	return state < 4 ? state_names[state] : "?";
}

static struct hyp_domain *domain_alloc(uint32_t domid)
{
	struct hyp_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->target = HYP_NO_DOMID;
	d->listen_fd = -1;
	pthread_mutex_init(&d->perm_lock, NULL);
	pthread_rwlock_init(&d->pci_lock, NULL);
	pthread_mutex_init(&d->p2m.lock, NULL);
	return d;
}

static void domain_free(struct hyp *h, struct hyp_domain *d);

int hyp_new(struct hyp **ret)
{
	struct hyp *h = calloc(1, sizeof(*h));
	struct hyp_domain *d0;

	if (!h)
		return -ENOMEM;
	h->epfd = h->sigfd = h->control_fd = h->evlog_fd = -1;
	h->quarantine = true;
	h->iommu = h->intremap = true;
	h->next_domid = 1;
	pthread_mutex_init(&h->pcidevs_lock, NULL);
	pthread_rwlock_init(&h->pci_list_lock, NULL);
	pthread_mutex_init(&h->done_lock, NULL);
	h->done_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d0 = domain_alloc(0);
	if (d0 && hyp_dom_set(h, 0, d0) < 0) {
		domain_free(h, d0);
		d0 = NULL;
	}
	if (h->done_efd < 0 || !d0 || hyp_vpci_init(h) < 0) {
		hyp_free(h);
		return -ENOMEM;
	}
	d0->state = HV_DOM_RUNNING;
	d0->flags = HV_DOMF_PASSTHROUGH;
	snprintf(d0->name, sizeof(d0->name), "Domain-0");
	*ret = h;
	return 0;
}

static void domain_free(struct hyp *h, struct hyp_domain *d)
{
	unsigned int i;

	hyp_vcpus_stop(h, d);
	hyp_p2m_free(&d->p2m);
	pthread_mutex_destroy(&d->p2m.lock);
	pthread_rwlock_destroy(&d->pci_lock);
	for (i = 0; i < d->nports; i++)
		if (d->ports[i].efd >= 0)
			close(d->ports[i].efd);
	free(d->ports);
	for (i = 0; i < d->ngrants; i++)
		if (d->grants[i].memfd >= 0)
			close(d->grants[i].memfd);
	free(d->grants);
	hyp_perm_clear(d);
	pthread_mutex_destroy(&d->perm_lock);
	hyp_ioreq_destroy_all(d);
	free(d->pirqs);
	free(d->sock_path);
	free(d);
}

void hyp_free(struct hyp *h)
{
	unsigned int i;

	struct hyp_vcpu_done done;

	if (!h)
		return;
	hyp_unlisten(h);
	/* vCPU threads first: they may use any device. */
	for (i = 0; i < h->dom_end; i++)
		if (h->dom[i])
			hyp_vcpus_stop(h, h->dom[i]);
	for (i = 0; i < h->npci; i++) {
		if (h->pci[i]->vpci)
			hyp_vpci_free(h, h->pci[i]->vpci);
		hyp_pci_free(h->pci[i]);
	}
	for (i = 0; i < h->nunplugged; i++) {
		pthread_mutex_destroy(&h->unplugged[i]->hw_lock);
		free(h->unplugged[i]);
	}
	for (i = 0; i < h->dom_end; i++)
		if (h->dom[i])
			domain_free(h, h->dom[i]);
	while (h->vpci && hyp_vcpu_take_done(h, &done))
		;
	hyp_vpci_fini(h);
	if (h->done_efd >= 0)
		close(h->done_efd);
	pthread_mutex_destroy(&h->done_lock);
	pthread_rwlock_destroy(&h->pci_list_lock);
	pthread_mutex_destroy(&h->pcidevs_lock);
	hyp_evlog_close(h);
	free(h->dom);
	free(h->pci);
	free(h->unplugged);
	free(h->rundir);
	free(h);
}

/* Room in dom[] for domid (< HYP_DOMID_MAX): twice as much, or more. */
static int dom_grow(struct hyp *h, uint32_t domid)
{
	uint32_t n = h->dom_size ? h->dom_size : 16;
	struct hyp_domain **dom;

	while (n <= domid)
		n *= 2;
	if (n > HYP_DOMID_MAX)
		n = HYP_DOMID_MAX;
	dom = realloc(h->dom, n * sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	memset(dom + h->dom_size, 0, (n - h->dom_size) * sizeof(*dom));
	h->dom = dom;
	h->dom_size = n;
	return 0;
}

int hyp_dom_set(struct hyp *h, uint32_t domid, struct hyp_domain *d)
{
	if (domid >= h->dom_size) {
		if (!d)
			return 0;	/* none there */
		if (dom_grow(h, domid) < 0)
			return -ENOMEM;
	}
	h->dom[domid] = d;
	if (d && domid >= h->dom_end)
		h->dom_end = domid + 1;
	while (h->dom_end && !h->dom[h->dom_end - 1])
		h->dom_end--;
	return 0;
}

struct hyp_domain *hyp_domain_get(struct hyp *h, uint32_t domid)
{
	return domid < h->dom_end ? h->dom[domid] : NULL;
}

/* VIRQ_DOM_EXC: every VIRQ port of dom0 fires. */
static void domain_changed(struct hyp *h, struct hyp_domain *d,
			   const char *what)
{
	struct hyp_domain *d0 = h->dom[0];
	unsigned int p;

	log_info("domain %u (%s): %s, now %s", d->domid, d->name, what,
		 hyp_domain_state_name(d->state));
	for (p = 1; p < d0->nports; p++)
		if (d0->ports[p].state == PORT_VIRQ)
			hyp_evtchn_notify(d0, p);
}

int hyp_domain_create(struct hyp *h, uint32_t flags, const char *name,
		      uint64_t memory_kb, uint32_t vcpus,
		      uint32_t *ret_domid)
{
	struct hyp_domain *d;
	uint32_t domid = h->next_domid, tries;
	int r;

	if (flags & ~(uint32_t)(HV_DOMF_HVM | HV_DOMF_PASSTHROUGH |
				HV_DOMF_PVH) ||
	    (flags & HV_DOMF_HVM && flags & HV_DOMF_PVH))
		return -EINVAL;
	if (flags & HV_DOMF_PVH && vcpus > HYP_PVH_VCPUS)
		return -EINVAL;
	for (tries = 0; tries < HYP_DOMID_MAX; tries++) {
		if (domid == 0 || domid >= HYP_DOMID_MAX)
			domid = 1;
		if (!hyp_domain_get(h, domid))
			break;
		domid++;
	}
	if (hyp_domain_get(h, domid) || domid == 0)
		return -ENOSPC;
	d = domain_alloc(domid);
	if (!d)
		return -ENOMEM;
	if (flags & HV_DOMF_HVM && hyp_hvm_new(d) < 0) {
		domain_free(h, d);
		return -ENOMEM;
	}
	d->flags = flags;
	d->state = HV_DOM_PAUSED;
	d->pause_count = 1;
	d->memory_kb = memory_kb;
	d->vcpus = vcpus;
	if (flags & HV_DOMF_PVH) {
		if (d->vcpus == 0)
			d->vcpus = 1;
		r = hyp_vcpus_start(h, d);
		if (r < 0) {
			domain_free(h, d);
			return r;
		}
	}
	snprintf(d->name, sizeof(d->name), "%.*s", (int)sizeof(d->name) - 1,
		 name ? name : "");
	r = hyp_dom_set(h, domid, d);
	if (r < 0) {
		domain_free(h, d);
		return r;
	}
	r = hyp_domain_socket_open(h, d);
	if (r < 0) {
		hyp_dom_set(h, domid, NULL);
		domain_free(h, d);
		return r;
	}
	h->next_domid = domid + 1;
	domain_changed(h, d, "created");
	*ret_domid = domid;
	return 0;
}

/* A domU that exists; dom0 and reserved ids are not controllable. */
static int domu_get(struct hyp *h, uint32_t domid, struct hyp_domain **ret)
{
	struct hyp_domain *d;

	if (domid == 0)
		return -EINVAL;
	d = hyp_domain_get(h, domid);
	if (!d)
		return -ESRCH;
	*ret = d;
	return 0;
}

int hyp_domain_pause(struct hyp *h, uint32_t domid)
{
	struct hyp_domain *d;
	int r = domu_get(h, domid, &d);

	if (r < 0)
		return r;
	d->pause_count++;
	if (d->state == HV_DOM_RUNNING) {
		d->state = HV_DOM_PAUSED;
		domain_changed(h, d, "paused");
	}
	return 0;
}

int hyp_domain_unpause(struct hyp *h, uint32_t domid)
{
	struct hyp_domain *d;
	int r = domu_get(h, domid, &d);

	if (r < 0)
		return r;
	if (d->pause_count == 0)
		return -EINVAL;	/* Xen: not paused by the controller */
	d->pause_count--;
	if (d->pause_count == 0 && d->state == HV_DOM_PAUSED) {
		d->state = HV_DOM_RUNNING;
		domain_changed(h, d, "unpaused");
		hyp_hvm_resume(d);
	}
	return 0;
}

int hyp_domain_shutdown(struct hyp *h, uint32_t domid, uint32_t reason)
{
	struct hyp_domain *d;
	int r = domu_get(h, domid, &d);

	if (r < 0)
		return r;
	if (reason > HV_SHUTDOWN_CRASH)
		return -EINVAL;
	if (d->state == HV_DOM_SHUTDOWN)
		return 0;	/* the first reason stands, as in Xen */
	d->state = HV_DOM_SHUTDOWN;
	d->shutdown_reason = reason;
	domain_changed(h, d, "shut down");
	return 0;
}

int hyp_domain_destroy(struct hyp *h, uint32_t domid)
{
	struct hyp_domain *d;
	uint32_t i;
	int r = domu_get(h, domid, &d);

	if (r < 0)
		return r;
	d->state = HV_DOM_DYING;
	/* Its vCPUs stop first (at a slice boundary; a pending map/unmap
	 * never runs), as Xen's domain_kill pauses them. */
	hyp_vpci_hook(h, HYP_VP_TOOLSTACK, domid, 0, 0);
	hyp_vcpus_stop(h, d);
	hyp_domain_socket_close(h, d);
	hyp_ioreq_destroy_all(d);
	hyp_evtchn_destroy(h, d);
	hyp_iommu_release_devices(h, d);
	hyp_irq_destroy(h, d);
	hyp_gnttab_destroy(h, d);
	hyp_dom_set(h, domid, NULL);
	hyp_ioreq_emulator_gone(h, domid);
	for (i = 0; i < h->dom_end; i++)
		if (h->dom[i] && h->dom[i]->target == domid)
			h->dom[i]->target = HYP_NO_DOMID;
	domain_changed(h, d, "destroyed");
	domain_free(h, d);
	return 0;
}

int hyp_domain_getinfo(struct hyp *h, uint32_t domid,
		       struct hv_domain_info *ret)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);

	if (!d)
		return -ESRCH;
	memset(ret, 0, sizeof(*ret));
	ret->domid = d->domid;
	ret->flags = d->flags;
	ret->state = d->state;
	ret->shutdown_reason = d->shutdown_reason;
	memcpy(ret->name, d->name, sizeof(ret->name));
	return 0;
}

int hyp_domain_list(struct hyp *h, uint32_t first_domid, uint32_t max,
		    struct hv_domain_list *ret)
{
	uint32_t i;

	if (max == 0 || max > HV_DOMAIN_LIST_PAGE)
		max = HV_DOMAIN_LIST_PAGE;
	memset(ret, 0, sizeof(*ret));
	for (i = first_domid; i < h->dom_end; i++) {
		if (!h->dom[i])
			continue;
		if (ret->count == max) {
			ret->next_domid = i;
			break;
		}
		hyp_domain_getinfo(h, i, &ret->d[ret->count++]);
	}
	return 0;
}

int hyp_bind_virq_dom_exc(struct hyp *h, uint32_t *ret_port)
{
	return hyp_evtchn_alloc_virq(h, 0, ret_port);
}

/*
 * XEN_DOMCTL_set_target: domid (a stub domain) becomes target's device
 * model and may use the device-model ops on it.  Either going ends it.
 */
int hyp_domain_set_target(struct hyp *h, uint32_t domid, uint32_t target)
{
	struct hyp_domain *d, *t;
	int r = domu_get(h, domid, &d);

	if (r < 0)
		return r;
	r = domu_get(h, target, &t);
	if (r < 0)
		return r;
	if (d == t)
		return -EINVAL;
	d->target = target;
	log_info("domain %u: device model of domain %u", domid, target);
	return 0;
}

bool hyp_domain_is_dm(struct hyp *h, uint32_t caller, uint32_t target)
{
	struct hyp_domain *d = hyp_domain_get(h, caller);

	return caller == 0 || (d && target != HYP_NO_DOMID &&
			       d->target == target);
}
