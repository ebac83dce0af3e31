// SPDX-License-Identifier: MIT
/*
 * The vCPUs of a PVH domain are threads: a guest's config-space or MMIO
 * access is posted to its vCPU (one at a time), runs there, and the vCPU
 * finishes any BAR map/unmap the access started (hyp_vpci_process_pending,
 * slice by slice, locks dropped in between) before it "returns to the
 * guest", i.e. answers.  Answers for a socket (tag != 0) go to h->done
 * and the epoll thread is woken through h->done_efd; it never waits for
 * a vCPU except when a domain dies (hyp_vcpus_stop joins the threads,
 * which stop at the next slice boundary).
 *
 * The threads outlive their vCPUs: a stopped vCPU's thread is parked and
 * the next vCPU started, of any domain or model, runs on it.  Domains
 * come and go (a guest's reboot is one); a thread, its stack and the
 * sanitizers' state of it are made once, not per domain.  At most
 * VCPU_PARKED_MAX wait; more exit.  A fork ends the parked ones first
 * (parked_atfork): the child would have none of them, and a process
 * that forks with threads is one ThreadSanitizer refuses to follow.
 *
 * A vCPU never touches h->dom[]: a crash it causes is flagged
 * (d->crashed) and carried out by hyp_vcpu_service on the epoll thread.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"
#include "vpci.h"

#define VCPU_PARKED_MAX 16u

struct vcpu_thread {
	pthread_t thread;
	pthread_mutex_t lock;		/* v, done, exit */
	pthread_cond_t cond;
	struct hyp_vcpu *v;		/* to run; NULL: none yet */
	bool done;			/* vcpu_main(v) returned */
	bool exit;			/* not parked: end */
	struct vcpu_thread *next;	/* parked */
};

static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vcpu_thread *parked;
static unsigned int nparked;
static pthread_once_t parked_once = PTHREAD_ONCE_INIT;

static void thread_end(struct vcpu_thread *t)
{
	pthread_mutex_lock(&t->lock);
	t->exit = true;
	pthread_mutex_unlock(&t->lock);
	pthread_cond_broadcast(&t->cond);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t);
}

/* Before a fork: no parked thread is left (the lock is held until the
 * fork is done, so none is parked meanwhile). */
static void parked_prepare(void)
{
	struct vcpu_thread *t;

	pthread_mutex_lock(&parked_lock);
	while ((t = parked)) {
		parked = t->next;
		thread_end(t);
	}
	nparked = 0;
}

static void parked_parent(void)
{
	pthread_mutex_unlock(&parked_lock);
}

static void parked_child(void)
{
	pthread_mutex_init(&parked_lock, NULL);
}

static void parked_atfork(void)
{
	pthread_atfork(parked_prepare, parked_parent, parked_child);
}

void hyp_vcpu_kick(struct hyp *h)
{
	uint64_t one = 1;

	if (h->done_efd >= 0 && write(h->done_efd, &one, sizeof(one)) < 0)
		log_debug("vcpu: eventfd: %m");	/* full: a wake-up pends */
}

static bool stopping(struct hyp_vcpu *v)
{
	return __atomic_load_n(&v->stop, __ATOMIC_ACQUIRE);
}

/* The access, then the deferred work, as Xen's vCPU does before it
 * re-enters the guest. */
static void vcpu_run(struct hyp_vcpu *v, struct hyp_vreq *io)
{
	struct hyp *h = v->h;
	struct hyp_domain *d = v->d;
	uint32_t val = (uint32_t)io->value;

	switch (io->op) {
	case HV_OP_VPCI_CONF_READ:
	case HV_OP_VPCI_CONF_WRITE:
		io->ret = hyp_vpci_conf_access(h, d, v,
					       io->op == HV_OP_VPCI_CONF_WRITE,
					       io->sbdf, io->reg, io->size,
					       &val);
		if (io->ret == 0 && io->op == HV_OP_VPCI_CONF_READ)
			io->value = val;
		break;
	case HV_OP_VPCI_MMIO_READ:
	case HV_OP_VPCI_MMIO_WRITE:
		io->ret = hyp_vpci_mmio_access(h, d,
					       io->op == HV_OP_VPCI_MMIO_WRITE,
					       io->gaddr, io->size, &io->value);
		break;
	default:
		io->ret = -ENOSYS;
		break;
	}
	while (hyp_vpci_process_pending(h, d, v)) {
		/* Xen raises SCHEDULE_SOFTIRQ here: others run first. */
		sched_yield();
		hyp_vpci_hook(h, HYP_VP_SLICE, d->domid, v->id, io->sbdf);
		if (stopping(v)) {
			io->ret = -ESHUTDOWN;
			break;
		}
	}
}

/* Answer io (v->lock held). */
static void answer(struct hyp_vcpu *v, const struct hyp_vreq *io)
{
	struct hyp *h = v->h;
	struct hyp_vcpu_done *done;

	if (!v->tag) {
		v->io = *io;
		v->state = VCPU_ANSWERED;
		pthread_cond_broadcast(&v->cond);
		return;
	}
	v->state = VCPU_IDLE;
	done = calloc(1, sizeof(*done));
	if (!done) {
		/* The guest's connection waits on; its timeout ends it. */
		log_warn("domain %u vCPU %u: out of memory: answer lost",
			 v->d->domid, v->id);
		return;
	}
	done->tag = v->tag;
	done->seq = v->seq;
	done->io = *io;
	pthread_mutex_lock(&h->done_lock);
	done->next = h->done;		/* pushed at the head, taken at */
	h->done = done;			/* the tail: in order */
	pthread_mutex_unlock(&h->done_lock);
	hyp_vcpu_kick(h);
}

static void *vcpu_main(void *arg)
{
	struct hyp_vcpu *v = arg;
	struct hyp_vreq io;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (!stopping(v) && v->state != VCPU_QUEUED)
			pthread_cond_wait(&v->cond, &v->lock);
		if (stopping(v))
			break;
		v->state = VCPU_BUSY;
		io = v->io;
		pthread_mutex_unlock(&v->lock);
		vcpu_run(v, &io);
		hyp_vpci_hook(v->h, HYP_VP_DONE, v->d->domid, v->id, io.sbdf);
		pthread_mutex_lock(&v->lock);
		answer(v, &io);
	}
	if (v->state == VCPU_QUEUED) {
		io = v->io;
		io.ret = -ESHUTDOWN;
		answer(v, &io);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* One vCPU after another, until told to exit. */
static void *thread_main(void *arg)
{
	struct vcpu_thread *t = arg;
	struct hyp_vcpu *v;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->v && !t->exit)
			pthread_cond_wait(&t->cond, &t->lock);
		if (!t->v)
			break;
		v = t->v;
		pthread_mutex_unlock(&t->lock);
		vcpu_main(v);
		pthread_mutex_lock(&t->lock);
		t->v = NULL;
		t->done = true;
		/* After the unlock, not before: the stopper would wake only to
		 * wait for the lock.  t lives on (it is this thread's). */
		pthread_mutex_unlock(&t->lock);
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* A thread to run v: a parked one, else a new one. */
static int thread_start(struct hyp_vcpu *v)
{
	struct vcpu_thread *t;
	int r;

	pthread_mutex_lock(&parked_lock);
	t = parked;
	if (t) {
		parked = t->next;
		nparked--;
	}
	pthread_mutex_unlock(&parked_lock);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return ENOMEM;
		pthread_mutex_init(&t->lock, NULL);
		pthread_cond_init(&t->cond, NULL);
		r = pthread_create(&t->thread, NULL, thread_main, t);
		if (r) {
			pthread_mutex_destroy(&t->lock);
			pthread_cond_destroy(&t->cond);
			free(t);
			return r;
		}
	}
	pthread_mutex_lock(&t->lock);
	t->v = v;
	t->done = false;
	pthread_mutex_unlock(&t->lock);
	pthread_cond_broadcast(&t->cond);
	v->thread = t;
	return 0;
}

/* Wait until v's thread is done with it (as a join would), then park
 * the thread, or end it when enough are parked. */
static void thread_stop(struct hyp_vcpu *v)
{
	struct vcpu_thread *t = v->thread;
	bool park;

	pthread_mutex_lock(&t->lock);
	while (!t->done)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	v->thread = NULL;
	pthread_once(&parked_once, parked_atfork);
	pthread_mutex_lock(&parked_lock);
	park = nparked < VCPU_PARKED_MAX;
	if (park) {
		t->next = parked;
		parked = t;
		nparked++;
	}
	pthread_mutex_unlock(&parked_lock);
	if (!park)
		thread_end(t);
}

int hyp_vcpus_start(struct hyp *h, struct hyp_domain *d)
{
	uint32_t i;
	int r;

	d->vcpu = calloc(d->vcpus, sizeof(*d->vcpu));
	if (!d->vcpu)
		return -ENOMEM;
	h->vpci->npvh++;
	for (i = 0; i < d->vcpus; i++) {
		struct hyp_vcpu *v = &d->vcpu[i];

		v->h = h;
		v->d = d;
		v->id = i;
		pthread_mutex_init(&v->lock, NULL);
		pthread_cond_init(&v->cond, NULL);
		r = thread_start(v);
		if (r) {
			log_err("domain %u: vCPU %u thread: %s", d->domid, i,
				strerror(r));
			pthread_mutex_destroy(&v->lock);
			pthread_cond_destroy(&v->cond);
			hyp_vcpus_stop(h, d);
			return -r;
		}
		v->started = true;
	}
	return 0;
}

/* Stop and join every vCPU thread (no lock of ours held: a vCPU may be
 * waiting for one), then free them. */
void hyp_vcpus_stop(struct hyp *h, struct hyp_domain *d)
{
	uint32_t i;

	if (!d->vcpu)
		return;
	for (i = 0; i < d->vcpus && d->vcpu[i].started; i++) {
		struct hyp_vcpu *v = &d->vcpu[i];

		pthread_mutex_lock(&v->lock);
		__atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
	}
	hyp_vpci_hook(h, HYP_VP_VCPUS_STOPPING, d->domid, 0, 0);
	for (i = 0; i < d->vcpus && d->vcpu[i].started; i++) {
		thread_stop(&d->vcpu[i]);
		pthread_mutex_destroy(&d->vcpu[i].lock);
		pthread_cond_destroy(&d->vcpu[i].cond);
		d->vcpu[i].started = false;
	}
	h->vpci->npvh--;
	free(d->vcpu);
	d->vcpu = NULL;
}

static int vcpu_get(struct hyp *h, uint32_t domid, uint32_t vcpu,
		    struct hyp_vcpu **ret)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);

	if (!d)
		return -ESRCH;
	if (!d->vcpu)
		return -EOPNOTSUPP;	/* not PVH */
	if (vcpu >= d->vcpus)
		return -EINVAL;
	*ret = &d->vcpu[vcpu];
	return 0;
}

int hyp_vcpu_post(struct hyp *h, uint32_t domid, const struct hyp_vreq *io,
		  uint64_t tag, uint32_t seq)
{
	struct hyp_vcpu *v;
	int r = vcpu_get(h, domid, io->vcpu, &v);

	if (r < 0)
		return r;
	if (__atomic_load_n(&v->d->crashed, __ATOMIC_ACQUIRE) ||
	    v->d->state == HV_DOM_DYING)
		return -ESHUTDOWN;
	pthread_mutex_lock(&v->lock);
	if (v->state != VCPU_IDLE) {
		r = -EBUSY;
	} else {
		v->io = *io;
		v->io.ret = 0;
		v->tag = tag;
		v->seq = seq;
		v->state = VCPU_QUEUED;
		pthread_cond_broadcast(&v->cond);
	}
	pthread_mutex_unlock(&v->lock);
	return r;
}

int hyp_vcpu_wait(struct hyp *h, uint32_t domid, uint32_t vcpu,
		  struct hyp_vreq *ret)
{
	struct hyp_vcpu *v;
	int r = vcpu_get(h, domid, vcpu, &v);

	if (r < 0)
		return r;
	pthread_mutex_lock(&v->lock);
	if (v->tag || v->state == VCPU_IDLE) {
		r = -EINVAL;		/* nothing posted to wait for */
	} else {
		while (v->state != VCPU_ANSWERED)
			pthread_cond_wait(&v->cond, &v->lock);
		*ret = v->io;
		v->state = VCPU_IDLE;
	}
	pthread_mutex_unlock(&v->lock);
	hyp_vcpu_service(h);
	return r;
}

int hyp_vcpu_call(struct hyp *h, uint32_t domid, struct hyp_vreq *io)
{
	int r = hyp_vcpu_post(h, domid, io, 0, 0);

	if (r == 0)
		r = hyp_vcpu_wait(h, domid, io->vcpu, io);
	return r < 0 ? r : io->ret;
}

bool hyp_vcpu_take_done(struct hyp *h, struct hyp_vcpu_done *ret)
{
	struct hyp_vcpu_done **pp, *last;

	pthread_mutex_lock(&h->done_lock);
	for (pp = &h->done; *pp && (*pp)->next; pp = &(*pp)->next)
		;
	last = *pp;
	if (last)
		*pp = NULL;
	pthread_mutex_unlock(&h->done_lock);
	if (!last)
		return false;
	*ret = *last;
	ret->next = NULL;
	free(last);
	return true;
}

void hyp_vcpu_service(struct hyp *h)
{
	uint32_t i;

	if (!__atomic_exchange_n(&h->vpci->crash_pending, 0, __ATOMIC_ACQ_REL))
		return;
	for (i = 1; i < h->dom_end; i++) {
		struct hyp_domain *d = h->dom[i];

		if (d && __atomic_load_n(&d->crashed, __ATOMIC_ACQUIRE) == 1) {
			__atomic_store_n(&d->crashed, 2, __ATOMIC_RELEASE);
			hyp_domain_shutdown(h, i, HV_SHUTDOWN_CRASH);
		}
	}
}

static int call(struct hyp *h, uint32_t domid, struct hyp_vreq *io)
{
	return hyp_vcpu_call(h, domid, io);
}

int hyp_vpci_conf_read(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint32_t gsbdf, uint32_t reg, uint32_t size,
		       uint32_t *ret_value)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_CONF_READ, .vcpu = vcpu,
				  .sbdf = gsbdf, .reg = reg, .size = size };
	int r = call(h, domid, &io);

	if (r == 0)
		*ret_value = (uint32_t)io.value;
	return r;
}

int hyp_vpci_conf_write(struct hyp *h, uint32_t domid, uint32_t vcpu,
			uint32_t gsbdf, uint32_t reg, uint32_t size,
			uint32_t value)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_CONF_WRITE, .vcpu = vcpu,
				  .sbdf = gsbdf, .reg = reg, .size = size,
				  .value = value };

	return call(h, domid, &io);
}

int hyp_vpci_mmio_read(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint64_t gaddr, uint32_t size, uint64_t *ret_value)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_MMIO_READ, .vcpu = vcpu,
				  .gaddr = gaddr, .size = size };
	int r = call(h, domid, &io);

	if (r == 0)
		*ret_value = io.value;
	return r;
}

int hyp_vpci_mmio_write(struct hyp *h, uint32_t domid, uint32_t vcpu,
			uint64_t gaddr, uint32_t size, uint64_t value)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_MMIO_WRITE, .vcpu = vcpu,
				  .gaddr = gaddr, .size = size, .value = value };

	return call(h, domid, &io);
}
