// SPDX-License-Identifier: MIT
/*
 * HVM guests: ioreq servers and the routing of guest I/O to them, as Xen
 * 4.17 does it (xen/common/ioreq.c, xen/arch/x86/hvm/ioreq.c; numbers and
 * names from public/hvm/dm_op.h and ioreq.h).
 *
 * An emulator (dom0's device model over the control socket, or a stub
 * domain set as the guest's device model) creates up to 8 servers per
 * guest, claims port, MMIO and PCI (SBDF) ranges for each, at most 256 per
 * type, and enables them.  Only the creating domain may operate a server
 * (-EPERM).  A guest vCPU's access is routed thus:
 *
 *   1. A dword write to port 0xcf8 latches CF8 (hvm_access_cf8), and goes
 *      on like any port access.
 *   2. Type and address (arch_ioreq_server_get_type_addr): ports
 *      0xcfc-0xcff while CF8's enable bit is set are PCI, address
 *      sbdf << 32 | register (CF8 bits 27:24 give register bits 11:8, the
 *      AMD extended form, honoured here for every guest); other ports are
 *      PORT, MMIO is MEMORY.
 *   3. Selection (ioreq_server_select): enabled servers only, from the
 *      highest id down; PORT and MEMORY need the whole access inside one
 *      range, PCI the SBDF in the server's PCI set.
 *   4. Nobody claims it: reads return all ones of the access size, writes
 *      are dropped, at once.  A server that claims it gets the request in
 *      the vCPU's slot (NONE -> READY) and its eventfd fires; the vCPU is
 *      blocked until the emulator fetches (READY -> INPROCESS) and
 *      completes it (-> IORESP_READY); the guest then collects the answer
 *      (-> NONE).
 *
 * Worked example: the DM maps 00:03.0 and enables
 * server 0; vCPU0 reads the vendor ID through 0xcf8/0xcfc; the request
 * waits in vCPU0's slot.  The DM disables server 0: a new read by vCPU1
 * gets 0xffff, but vCPU0's request is still there and the DM's answer
 * still reaches vCPU0.  Had the DM destroyed the server, or died instead,
 * vCPU0 would stay blocked (its slot names the server's serial, which no
 * new server ever gets) until the guest is destroyed.  Closing the
 * emulator's connection changes nothing; a dead stub domain's servers
 * keep their ranges but have no emulator any more.
 *
 * Only a running domain's vCPUs run: an access issued while the domain
 * is paused or shut down is held and routed when it is unpaused, and an
 * answer is handed back only while it runs.  So a guest process started
 * with its (paused) domain waits on its first access until the toolstack
 * unpauses it, and then sees the servers enabled by then.
 *
 * An access while the guest has no enabled server at all means a vCPU
 * ran before its device model was ready (the stub-domain interlock that
 * libxl lacked before Xen 4.6: the guest's firmware probed PCI and read
 * all ones).  It is completed as any unclaimed access is, and counted;
 * the first of each domain is logged ("... before its device model
 * enabled an ioreq server"), the count at debug level after that, so a
 * test can tell that the toolstack let the guest run too early.  Those
 * after every server went (the device model stopped or died) are
 * counted and logged apart ("... with no ioreq server enabled any
 * more").
 *
 * A vCPU with a request outstanding is blocked: another access on it is
 * -EBUSY.  A guest that stopped waiting (its call timed out) finds, on
 * its next access, an answer that arrived meanwhile and drops it, as the
 * vCPU would have resumed with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fault.h"
#include "hypervisor.h"
#include "log.h"

int hyp_hvm_new(struct hyp_domain *d)
{
	unsigned int i;

	d->hvm = xcalloc(1, sizeof(*d->hvm));
	if (!d->hvm)
		return -ENOMEM;
	for (i = 0; i < 256; i++)
		d->hvm->vec_fd[i] = -1;
	for (i = 0; i < HV_ISA_IRQS; i++)
		d->hvm->isa_fd[i] = -1;
	return 0;
}

/*
 * The guest's side of a pass-through MSI: Xen injects the bound gvec
 * into the guest's local APIC.  The model has no vLAPIC; a guest process
 * asks for an eventfd per vector it programmed and counts what fires.
 */
int hyp_hvm_vector_fd(struct hyp *h, uint32_t domid, uint32_t vector,
		      int *ret_fd)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	int fd;

	if (!d)
		return -ESRCH;
	if (!d->hvm)
		return -EOPNOTSUPP;
	if (vector > 255)
		return -EINVAL;
	if (d->hvm->vec_fd[vector] < 0) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			return -errno;
		d->hvm->vec_fd[vector] = fd;
	}
	*ret_fd = d->hvm->vec_fd[vector];
	return 0;
}

void hyp_hvm_vector_raise(struct hyp_domain *d, uint8_t vector)
{
	uint64_t one = 1;

	if (d->hvm && d->hvm->vec_fd[vector] >= 0 &&
	    write(d->hvm->vec_fd[vector], &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("domain %u vector %u: eventfd: %m", d->domid, vector);
}

/* The target domain: exists (-ESRCH) and is HVM (Xen's dm_op: -EINVAL). */
static int hvm_get(struct hyp *h, uint32_t domid, struct hyp_domain **ret)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);

	if (!d)
		return -ESRCH;
	if (!d->hvm)
		return -EINVAL;
	*ret = d;
	return 0;
}

/*
 * A device model's ISA interrupt (QEMU drives its SCI, line 9, this way:
 * xendevicemodel_set_isa_irq_level).  Xen asserts or deasserts the line
 * at the guest's vPIC and vIOAPIC; the model counts each rising edge on
 * the line's eventfd, which the guest asked for.  A line held high
 * raises nothing more: the guest's handler keeps going until the cause
 * is cleared, as for a level-triggered interrupt.
 */
int hyp_set_isa_irq_level(struct hyp *h, uint32_t domid, uint32_t irq,
			  uint32_t level)
{
	struct hyp_domain *d;
	uint16_t bit;
	uint64_t one = 1;
	int r = hvm_get(h, domid, &d);

	if (r < 0)
		return r;
	if (irq >= HV_ISA_IRQS || level > 1)
		return -EINVAL;
	bit = (uint16_t)(1u << irq);
	if (!level) {
		d->hvm->isa_level &= (uint16_t)~bit;
		return 0;
	}
	if (d->hvm->isa_level & bit)
		return 0;
	d->hvm->isa_level |= bit;
	if (d->hvm->isa_fd[irq] >= 0 &&
	    write(d->hvm->isa_fd[irq], &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("domain %u ISA IRQ %u: eventfd: %m", domid, irq);
	return 0;
}

int hyp_hvm_isa_irq_fd(struct hyp *h, uint32_t domid, uint32_t irq,
		       int *ret_fd)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	int fd;

	if (!d)
		return -ESRCH;
	if (!d->hvm)
		return -EOPNOTSUPP;
	if (irq >= HV_ISA_IRQS)
		return -EINVAL;
	if (d->hvm->isa_fd[irq] < 0) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			return -errno;
		d->hvm->isa_fd[irq] = fd;
	}
	*ret_fd = d->hvm->isa_fd[irq];
	return 0;
}

/* get_ioreq_server, then the emulator check, in Xen's order. */
static int server_get(struct hyp *h, uint32_t domid, uint32_t emulator,
		      uint32_t id, struct hyp_domain **ret_d,
		      struct hyp_ioreq_server **ret)
{
	struct hyp_domain *d;
	int r = hvm_get(h, domid, &d);

	if (r < 0)
		return r;
	if (id >= HV_IOREQ_MAX_SERVERS || !d->hvm->srv[id])
		return -ENOENT;
	if (d->hvm->srv[id]->emulator != emulator)
		return -EPERM;
	*ret_d = d;
	*ret = d->hvm->srv[id];
	return 0;
}

int hyp_ioreq_server_create(struct hyp *h, uint32_t domid, uint32_t emulator,
			    uint32_t bufioreq, uint32_t *ret_id)
{
	struct hyp_ioreq_server *s;
	struct hyp_domain *d;
	uint32_t id;
	int r = hvm_get(h, domid, &d);

	if (r < 0)
		return r;
	if (bufioreq > HV_IOREQ_BUFIOREQ_ATOMIC)
		return -EINVAL;
	for (id = 0; id < HV_IOREQ_MAX_SERVERS; id++)
		if (!d->hvm->srv[id])
			break;
	if (id == HV_IOREQ_MAX_SERVERS)
		return -ENOSPC;
	s = xcalloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		r = -errno;
		free(s);
		return r;
	}
	s->id = id;
	s->serial = ++h->ioreq_serial;
	s->emulator = emulator;
	s->bufioreq = (uint8_t)bufioreq;
	d->hvm->srv[id] = s;
	log_info("domain %u: ioreq server %u created by domain %u", domid, id,
		 emulator);
	*ret_id = id;
	return 0;
}

int hyp_ioreq_server_info(struct hyp *h, uint32_t domid, uint32_t emulator,
			  uint32_t id, struct hv_ioreq_server *ret,
			  int *ret_fd)
{
	struct hyp_ioreq_server *s;
	struct hyp_domain *d;
	unsigned int t;
	int r = server_get(h, domid, emulator, id, &d, &s);

	if (r < 0)
		return r;
	*ret = (struct hv_ioreq_server){
		.domid = domid, .id = id, .bufioreq = s->bufioreq,
		.enabled = s->enabled, .emulator = s->emulator,
	};
	for (t = 0; t < HV_IO_RANGE_TYPES; t++)
		ret->nr_ranges[t] = (uint32_t)s->range[t].n;
	*ret_fd = s->efd;	/* borrowed: the caller duplicates it */
	return 0;
}

int hyp_ioreq_range(struct hyp *h, uint32_t domid, uint32_t emulator,
		    const struct hv_ioreq_range *rg, bool map)
{
	struct hyp_ioreq_server *s;
	struct hyp_domain *d;
	struct hyp_ranges *set;
	int r;

	if (rg->type >= HV_IO_RANGE_TYPES || rg->start > rg->end)
		return -EINVAL;
	r = server_get(h, domid, emulator, rg->id, &d, &s);
	if (r < 0)
		return r;
	set = &s->range[rg->type];
	if (map) {
		if (hyp_ranges_overlap(set, rg->start, rg->end))
			return -EEXIST;
		r = hyp_ranges_add(set, rg->start, rg->end,
				   HV_IOREQ_MAX_RANGES);
	} else {
		if (!hyp_ranges_cover(set, rg->start, rg->end))
			return -ENOENT;
		r = hyp_ranges_remove(set, rg->start, rg->end,
				      HV_IOREQ_MAX_RANGES);
	}
	if (r == 0)
		log_debug("domain %u: ioreq server %u: %s type %u %#llx-%#llx",
			  domid, rg->id, map ? "map" : "unmap", rg->type,
			  (unsigned long long)rg->start,
			  (unsigned long long)rg->end);
	return r;
}

/* Xen pauses the target around this; one thread makes it atomic here. */
int hyp_ioreq_server_set_state(struct hyp *h, uint32_t domid,
			       uint32_t emulator, uint32_t id, bool enabled)
{
	struct hyp_ioreq_server *s;
	struct hyp_domain *d;
	int r = server_get(h, domid, emulator, id, &d, &s);

	if (r < 0)
		return r;
	if (enabled)
		d->hvm->dm_ready = true;
	if (s->enabled != enabled)
		log_info("domain %u: ioreq server %u %s", domid, id,
			 enabled ? "enabled" : "disabled");
	s->enabled = enabled;
	return 0;
}

static void server_free(struct hyp_ioreq_server *s)
{
	unsigned int t;

	for (t = 0; t < HV_IO_RANGE_TYPES; t++)
		hyp_ranges_free(&s->range[t]);
	close(s->efd);
	free(s);
}

int hyp_ioreq_server_destroy(struct hyp *h, uint32_t domid,
			     uint32_t emulator, uint32_t id)
{
	struct hyp_ioreq_server *s;
	struct hyp_domain *d;
	int r = server_get(h, domid, emulator, id, &d, &s);

	if (r < 0)
		return r;
	d->hvm->srv[id] = NULL;
	server_free(s);
	log_info("domain %u: ioreq server %u destroyed", domid, id);
	return 0;
}

int hyp_ioreq_fetch(struct hyp *h, uint32_t domid, uint32_t emulator,
		    uint32_t id, struct hv_ioreq *ret)
{
	struct hyp_ioreq_server *s;
	struct hyp_vcpu_io *v;
	struct hyp_domain *d;
	uint32_t i;
	int r = server_get(h, domid, emulator, id, &d, &s);

	if (r < 0)
		return r;
	/* A disabled server still answers what it was sent. */
	for (i = 0; i < HYP_HVM_VCPUS; i++) {
		v = &d->hvm->vio[i];
		if (v->state == HV_IOREQ_STATE_READY && v->serial == s->serial) {
			v->state = HV_IOREQ_STATE_INPROCESS;
			v->req.state = v->state;
			*ret = v->req;
			return 0;
		}
	}
	return -EAGAIN;
}

static uint64_t size_mask(uint32_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

int hyp_ioreq_complete(struct hyp *h, uint32_t domid, uint32_t emulator,
		       uint32_t id, uint32_t vcpu, uint64_t data)
{
	struct hyp_ioreq_server *s;
	struct hyp_vcpu_io *v;
	struct hyp_domain *d;
	int r = server_get(h, domid, emulator, id, &d, &s);

	if (r < 0)
		return r;
	if (vcpu >= HYP_HVM_VCPUS)
		return -EINVAL;
	v = &d->hvm->vio[vcpu];
	/* Xen crashes the guest on a bogus state; the model refuses it. */
	if (v->state != HV_IOREQ_STATE_INPROCESS || v->serial != s->serial)
		return -EINVAL;
	if (v->req.dir == HV_IOREQ_READ)
		v->req.data = data & size_mask(v->req.size);
	v->state = HV_IOREQ_STATE_IORESP_READY;
	v->req.state = v->state;
	return 0;
}

static int io_check(const struct hyp_domain *d, const struct hv_hvm_io *io)
{
	uint32_t nvcpus = d->vcpus ? d->vcpus : 1;

	if (io->vcpu >= nvcpus || io->vcpu >= HYP_HVM_VCPUS)
		return -EINVAL;
	if (io->dir > HV_IOREQ_READ)
		return -EINVAL;
	switch (io->type) {
	case HV_IOREQ_TYPE_PIO:
		if (io->size != 1 && io->size != 2 && io->size != 4)
			return -EINVAL;
		if (io->addr > 0x10000u - io->size)
			return -EINVAL;
		return 0;
	case HV_IOREQ_TYPE_COPY:
		if (io->size != 1 && io->size != 2 && io->size != 4 &&
		    io->size != 8)
			return -EINVAL;
		if (io->addr > UINT64_MAX - (io->size - 1))
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static bool any_enabled(const struct hyp_hvm *hv)
{
	uint32_t i;

	for (i = 0; i < HV_IOREQ_MAX_SERVERS; i++)
		if (hv->srv[i] && hv->srv[i]->enabled)
			return true;
	return false;
}

/* An access with no server enabled: before the first (a vCPU ran before
 * its device model, see the head comment) or after the last went. */
static void note_no_server(struct hyp_domain *d, const struct hv_hvm_io *io,
			   uint32_t type, uint64_t addr)
{
	static const char *const kinds[] = {
		[HV_IO_RANGE_PORT] = "port", [HV_IO_RANGE_MEMORY] = "MMIO",
		[HV_IO_RANGE_PCI] = "PCI config",
	};
	uint64_t *n = d->hvm->dm_ready ? &d->hvm->io_no_server :
		      &d->hvm->io_early;
	const char *when = d->hvm->dm_ready ? "with no ioreq server enabled "
			   "any more" : "before its device model enabled an "
			   "ioreq server";

	if ((*n)++ == 0)
		log_warn("domain %u: vcpu %u: %s %s %#llx %s (%s)", d->domid,
			 io->vcpu, kinds[type], io->dir == HV_IOREQ_READ ?
			 "read" : "write", (unsigned long long)addr, when,
			 io->dir == HV_IOREQ_READ ? "all ones" : "dropped");
	else
		log_debug("domain %u: %llu accesses %s", d->domid,
			  (unsigned long long)*n, when);
}

static struct hyp_ioreq_server *select_server(struct hyp_hvm *hv,
					      uint32_t type, uint64_t addr,
					      uint32_t size)
{
	struct hyp_ioreq_server *s;
	uint32_t i;

	for (i = HV_IOREQ_MAX_SERVERS; i-- > 0;) {
		s = hv->srv[i];
		if (!s || !s->enabled)
			continue;
		if (type == HV_IO_RANGE_PCI ?
		    hyp_ranges_cover(&s->range[type], addr >> 32, addr >> 32) :
		    hyp_ranges_cover(&s->range[type], addr,
				     addr + (size - 1)))
			return s;
	}
	return NULL;
}

/* The vCPU executes the access: 0 (done, io->data) or -EINPROGRESS. */
static int route(struct hyp_domain *d, struct hyp_vcpu_io *v,
		 struct hv_hvm_io *io)
{
	struct hyp_ioreq_server *s;
	uint32_t type = HV_IO_RANGE_MEMORY, cf8;
	uint64_t addr = io->addr;

	cf8 = d->hvm->cf8;
	if (io->type == HV_IOREQ_TYPE_PIO) {
		if (io->dir == HV_IOREQ_WRITE && io->addr == 0xcf8 &&
		    io->size == 4)
			d->hvm->cf8 = (uint32_t)io->data;
		type = HV_IO_RANGE_PORT;
		if ((io->addr & ~3ull) == 0xcfc && (cf8 & HV_CF8_ENABLE)) {
			type = HV_IO_RANGE_PCI;
			addr = (uint64_t)((cf8 >> 8) & 0xffff) << 32 |
			       (cf8 & 0xfc) | (io->addr & 3) |
			       (cf8 & 0x0f000000u) >> 16;
		}
	}
	s = select_server(d->hvm, type, addr, io->size);
	if (!s && !any_enabled(d->hvm))
		note_no_server(d, io, type, addr);
	if (!s) {
		if (io->dir == HV_IOREQ_READ)
			io->data = size_mask(io->size);
		return 0;
	}
	v->serial = s->serial;
	v->state = HV_IOREQ_STATE_READY;
	v->req = (struct hv_ioreq){
		.domid = d->domid, .id = s->id, .vcpu = io->vcpu,
		.state = HV_IOREQ_STATE_READY,
		.type = (uint8_t)(type == HV_IO_RANGE_PCI ?
				  HV_IOREQ_TYPE_PCI_CONFIG : io->type),
		.dir = (uint8_t)io->dir, .addr = addr,
		.data = io->dir == HV_IOREQ_WRITE ? io->data : 0,
		.size = io->size,
	};
	/* The server's eventfd: a saturated counter is still pending. */
	if (write(s->efd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0 &&
	    errno != EAGAIN)
		log_warn("domain %u: ioreq server %u: eventfd: %m", d->domid,
			 s->id);
	return -EINPROGRESS;
}

static bool running(const struct hyp_domain *d)
{
	return d->state == HV_DOM_RUNNING;
}

int hyp_hvm_io(struct hyp *h, uint32_t domid, struct hv_hvm_io *io)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct hyp_vcpu_io *v;
	int r;

	if (!d)
		return -ESRCH;
	if (!d->hvm)
		return -EOPNOTSUPP;	/* a PV domain has no emulated I/O */
	r = io_check(d, io);
	if (r < 0)
		return r;
	v = &d->hvm->vio[io->vcpu];
	if (v->state != HV_IOREQ_STATE_NONE &&
	    v->state != HV_IOREQ_STATE_IORESP_READY)
		return -EBUSY;		/* the vCPU is blocked */
	if (v->state == HV_IOREQ_STATE_IORESP_READY) {
		log_debug("domain %u vcpu %u: answer nobody waited for: "
			  "dropped", domid, io->vcpu);
		v->state = HV_IOREQ_STATE_NONE;
	}
	if (io->dir == HV_IOREQ_WRITE)
		io->data &= size_mask(io->size);
	if (!running(d)) {
		v->held = *io;
		v->state = HYP_VIO_HELD;
		return -EINPROGRESS;
	}
	return route(d, v, io);
}

void hyp_hvm_resume(struct hyp_domain *d)
{
	struct hyp_vcpu_io *v;
	uint32_t i;

	if (!d->hvm)
		return;
	for (i = 0; i < HYP_HVM_VCPUS && running(d); i++) {
		v = &d->hvm->vio[i];
		if (v->state != HYP_VIO_HELD)
			continue;
		v->state = HV_IOREQ_STATE_NONE;
		if (route(d, v, &v->held) == 0) {
			/* Done at once: the answer waits to be collected. */
			v->req = (struct hv_ioreq){
				.domid = d->domid, .vcpu = i,
				.state = HV_IOREQ_STATE_IORESP_READY,
				.type = (uint8_t)v->held.type,
				.dir = (uint8_t)v->held.dir,
				.addr = v->held.addr, .data = v->held.data,
				.size = v->held.size,
			};
			v->state = HV_IOREQ_STATE_IORESP_READY;
		}
	}
}

int hyp_hvm_io_collect(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint64_t *ret_data)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct hyp_vcpu_io *v;

	if (!d)
		return -ESRCH;
	if (!d->hvm || vcpu >= HYP_HVM_VCPUS)
		return -EINVAL;
	v = &d->hvm->vio[vcpu];
	if (!running(d) && v->state == HV_IOREQ_STATE_IORESP_READY)
		return -EINPROGRESS;	/* the vCPU resumes when it runs */
	switch (v->state) {
	case HV_IOREQ_STATE_IORESP_READY:
		*ret_data = v->req.data;
		v->state = HV_IOREQ_STATE_NONE;
		return 0;
	case HV_IOREQ_STATE_NONE:
		return -ENOENT;
	default:
		return -EINPROGRESS;
	}
}

/* ioreq_server_destroy_all, at domain death: blocked vCPUs go with it. */
void hyp_ioreq_destroy_all(struct hyp_domain *d)
{
	uint32_t i;

	if (!d->hvm)
		return;
	for (i = 0; i < HV_IOREQ_MAX_SERVERS; i++)
		if (d->hvm->srv[i])
			server_free(d->hvm->srv[i]);
	for (i = 0; i < 256; i++)
		if (d->hvm->vec_fd[i] >= 0)
			close(d->hvm->vec_fd[i]);
	for (i = 0; i < HV_ISA_IRQS; i++)
		if (d->hvm->isa_fd[i] >= 0)
			close(d->hvm->isa_fd[i]);
	free(d->hvm);
	d->hvm = NULL;
}

/* A dead emulator domain: its servers stay, claiming I/O nobody answers;
 * nobody may operate them (a later domain with the same id neither). */
void hyp_ioreq_emulator_gone(struct hyp *h, uint32_t domid)
{
	struct hyp_ioreq_server *s;
	uint32_t i, k;

	for (i = 0; i < h->dom_end; i++) {
		if (!h->dom[i] || !h->dom[i]->hvm)
			continue;
		for (k = 0; k < HV_IOREQ_MAX_SERVERS; k++) {
			s = h->dom[i]->hvm->srv[k];
			if (!s || s->emulator != domid)
				continue;
			log_warn("domain %u: ioreq server %u: emulator domain "
				 "%u is gone; the I/O it claimed stays blocked",
				 i, k, domid);
			s->emulator = HYP_NO_DOMID;
		}
	}
}
