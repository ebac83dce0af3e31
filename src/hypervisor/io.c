// SPDX-License-Identifier: MIT
/*
 * Sockets, the event loop and message dispatch.  One epoll set holds the
 * control socket, one listening socket per domain, every connection and a
 * signalfd; each SOCK_SEQPACKET message is one request (hvproto.h), checked
 * for length before any copy, answered with one reply.  The dispatch table
 * says which ops need privilege (the control socket), which are device-
 * model ops (privilege, or being the target's device model) and which
 * take a descriptor; a connection on hv/domain/<domid> always acts as
 * <domid>.  An HVM guest's access that an emulator claimed is answered
 * later: its connection waits (not read meanwhile) until the emulator
 * completes the request; after every request served, waiting connections
 * collect what is ready.  A PVH guest's vPCI access runs on its vCPU's
 * thread (vcpu.c): the connection waits the same way, and the answer
 * comes back through done_efd, on this thread.
 * Nothing a peer sends ends the daemon: a malformed request gets an error
 * reply, a broken connection is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"
#include "vpci.h"

struct hyp_conn {
	struct hyp_conn *next;
	int fd;
	uint32_t domid;
	bool privileged;
	bool listening;
	bool dead;
	char *wait;		/* HVM_IO reply held for the emulator, or NULL */
	size_t waitlen;
	uint64_t id;		/* unique over the daemon's life */
	bool vcpu_wait;		/* a vCPU thread has its request */
};

/* One request being served. */
struct hyp_req {
	struct hyp *h;
	uint32_t caller;
	bool privileged;
	const void *in;		/* the op's request struct, zero-padded */
	int fd_in;
	void *out;		/* reply payload */
	size_t outlen;
	int fd_out;		/* sent with the reply, then closed */
	bool deferred;		/* the reply waits for an emulator */
	uint64_t conn;		/* the connection's id; 0: in-process */
	uint32_t op, seq;
	bool vcpu;		/* the reply comes from a vCPU thread */
};

/* OP_DM: the payload starts with the target domid; the caller must be
 * privileged or the target's device model (Xen's XSM_DM_PRIV). */
enum { OP_PRIV = 1u << 0, OP_FD = 1u << 1, OP_DM = 1u << 2 };

typedef int op_fn(struct hyp_req *r);

/* Handlers: unpack, call the model, pack.  Short by design. */

static int op_hello(struct hyp_req *r)
{
	const struct hv_hello *in = r->in;
	struct hv_hello *out = r->out;

	if (in->version != HV_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	out->version = HV_PROTO_VERSION;
	out->domid = r->caller;
	out->privileged = r->privileged;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_domain_create(struct hyp_req *r)
{
	const struct hv_domain_create *in = r->in;
	struct hv_domain_create *out = r->out;
	char name[sizeof(in->name) + 1];
	uint32_t domid;
	int ret;

	memcpy(name, in->name, sizeof(in->name));
	name[sizeof(in->name)] = '\0';
	ret = hyp_domain_create(r->h, in->flags, name, in->memory_kb,
				in->vcpus, &domid);
	if (ret < 0)
		return ret;
	*out = *in;
	out->domid = domid;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_domain_unpause(struct hyp_req *r)
{
	return hyp_domain_unpause(r->h,
				  ((const struct hv_domid *)r->in)->domid);
}

static int op_domain_pause(struct hyp_req *r)
{
	return hyp_domain_pause(r->h, ((const struct hv_domid *)r->in)->domid);
}

static int op_domain_shutdown(struct hyp_req *r)
{
	const struct hv_domain_shutdown *in = r->in;
	uint32_t domid = in->domid;

	if (domid == HV_DOMID_SELF)
		domid = r->caller;
	else if (!r->privileged && domid != r->caller)
		return -EPERM;
	return hyp_domain_shutdown(r->h, domid, in->reason);
}

static int op_domain_destroy(struct hyp_req *r)
{
	return hyp_domain_destroy(r->h,
				  ((const struct hv_domid *)r->in)->domid);
}

static int op_domain_getinfo(struct hyp_req *r)
{
	uint32_t domid = ((const struct hv_domid *)r->in)->domid;

	if (domid == HV_DOMID_SELF)
		domid = r->caller;
	r->outlen = sizeof(struct hv_domain_info);
	return hyp_domain_getinfo(r->h, domid, r->out);
}

static int op_domain_list(struct hyp_req *r)
{
	const struct hv_domain_list_req *in = r->in;
	struct hv_domain_list *out = r->out;
	int ret = hyp_domain_list(r->h, in->first_domid, in->max, out);

	r->outlen = offsetof(struct hv_domain_list, d) +
		    out->count * sizeof(out->d[0]);
	return ret;
}

static int op_bind_virq(struct hyp_req *r)
{
	struct hv_evtchn *out = r->out;
	uint32_t port;
	int ret, fd;

	ret = hyp_bind_virq_dom_exc(r->h, &port);
	if (ret < 0)
		return ret;
	ret = hyp_evtchn_fd(r->h, 0, port, &fd);
	if (ret < 0)
		return ret;
	r->fd_out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	memset(out, 0, sizeof(*out));
	out->port = port;
	r->outlen = sizeof(*out);
	return r->fd_out < 0 ? -errno : 0;
}

static int evtchn_reply(struct hyp_req *r, uint32_t port, int ret)
{
	struct hv_evtchn *out = r->out;

	if (ret < 0)
		return ret;
	*out = *(const struct hv_evtchn *)r->in;
	out->port = port;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_evtchn_alloc_unbound(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;
	uint32_t port = 0;
	int ret = hyp_evtchn_alloc_unbound(r->h, r->caller, in->remote_domid,
					   &port);

	return evtchn_reply(r, port, ret);
}

static int op_evtchn_bind_interdomain(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;
	uint32_t port = 0;
	int ret = hyp_evtchn_bind_interdomain(r->h, r->caller,
					      in->remote_domid,
					      in->remote_port, &port);

	return evtchn_reply(r, port, ret);
}

static int op_evtchn_bind_pirq(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;
	uint32_t port = 0;
	int ret;

	if (in->pirq > INT32_MAX)
		return -EINVAL;
	ret = hyp_evtchn_bind_pirq(r->h, r->caller, (int)in->pirq, &port);
	return evtchn_reply(r, port, ret);
}

static int op_evtchn_fd(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;
	int fd, ret = hyp_evtchn_fd(r->h, r->caller, in->port, &fd);

	if (ret < 0)
		return ret;
	r->fd_out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd_out < 0)
		return -errno;
	return evtchn_reply(r, in->port, 0);
}

static int op_evtchn_send(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;

	return evtchn_reply(r, in->port,
			    hyp_evtchn_send(r->h, r->caller, in->port));
}

static int op_evtchn_close(struct hyp_req *r)
{
	const struct hv_evtchn *in = r->in;

	return evtchn_reply(r, in->port,
			    hyp_evtchn_close(r->h, r->caller, in->port));
}

static int op_gnttab_grant(struct hyp_req *r)
{
	const struct hv_grant *in = r->in;
	struct hv_grant *out = r->out;
	uint32_t gref;
	int ret;

	if (r->fd_in < 0)
		return -EINVAL;
	ret = hyp_gnttab_grant(r->h, r->caller, in->remote_domid, r->fd_in,
			       in->readonly != 0, &gref);
	if (ret < 0)
		return ret;
	*out = *in;
	out->gref = gref;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_gnttab_map(struct hyp_req *r)
{
	const struct hv_grant *in = r->in;
	struct hv_grant *out = r->out;
	bool ro;
	int ret = hyp_gnttab_map(r->h, r->caller, in->remote_domid, in->gref,
				 &r->fd_out, &ro);

	if (ret < 0)
		return ret;
	*out = *in;
	out->readonly = ro;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_gnttab_unmap(struct hyp_req *r)
{
	const struct hv_grant *in = r->in;

	return hyp_gnttab_unmap(r->h, r->caller, in->remote_domid, in->gref);
}

static int op_gnttab_end(struct hyp_req *r)
{
	return hyp_gnttab_end(r->h, r->caller,
			      ((const struct hv_grant *)r->in)->gref);
}

static int op_pci_list(struct hyp_req *r)
{
	const struct hv_pci_list_req *in = r->in;
	struct hv_pci_list *out = r->out;
	int ret = hyp_pci_list(r->h, in->first_sbdf, in->max, out);

	r->outlen = offsetof(struct hv_pci_list, sbdf) +
		    out->count * sizeof(out->sbdf[0]);
	return ret;
}

static int op_pci_info(struct hyp_req *r)
{
	r->outlen = sizeof(struct hv_pci_dev);
	return hyp_pci_info(r->h, ((const struct hv_pci_sbdf *)r->in)->sbdf,
			    r->out);
}

static int op_pci_conf_read(struct hyp_req *r)
{
	const struct hv_pci_conf *in = r->in;
	struct hv_pci_conf *out = r->out;
	uint32_t v;
	int ret = hyp_pci_conf_read(r->h, in->sbdf, in->offset, in->size, &v);

	if (ret < 0)
		return ret;
	*out = *in;
	out->value = v;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_pci_conf_write(struct hyp_req *r)
{
	const struct hv_pci_conf *in = r->in;

	return hyp_pci_conf_write(r->h, in->sbdf, in->offset, in->size,
				  in->value);
}

static int op_pci_reset(struct hyp_req *r)
{
	return hyp_pci_reset(r->h, ((const struct hv_pci_sbdf *)r->in)->sbdf);
}

static int op_pci_raise_irq(struct hyp_req *r)
{
	const struct hv_pci_irq *in = r->in;
	struct hv_pci_irq *out = r->out;
	uint32_t delivered;
	int ret = hyp_pci_raise_irq(r->h, in->sbdf, in->type, in->entry,
				    &delivered);

	if (ret < 0)
		return ret;
	*out = *in;
	out->delivered = delivered;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_pci_bar_write(struct hyp_req *r)
{
	const struct hv_pci_mmio *in = r->in;

	return hyp_pci_bar_write(r->h, in->sbdf, in->bar, in->offset, in->size,
				 in->value);
}

static int op_pci_bar_read(struct hyp_req *r)
{
	const struct hv_pci_mmio *in = r->in;
	struct hv_pci_mmio *out = r->out;
	uint64_t v;
	int ret = hyp_pci_bar_read(r->h, in->sbdf, in->bar, in->offset,
				   in->size, &v);

	if (ret < 0)
		return ret;
	*out = *in;
	out->value = v;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_test_assign(struct hyp_req *r)
{
	return hyp_test_assign(r->h, ((const struct hv_assign *)r->in)->sbdf);
}

static int op_assign(struct hyp_req *r)
{
	const struct hv_assign *in = r->in;

	return hyp_assign(r->h, in->domid, in->sbdf);
}

static int op_deassign(struct hyp_req *r)
{
	const struct hv_assign *in = r->in;

	return hyp_deassign(r->h, in->domid, in->sbdf);
}

static int perm_op(struct hyp_req *r, enum hyp_perm_kind kind)
{
	const struct hv_perm *in = r->in;

	return hyp_perm_set(r->h, kind, in->domid, in->first, in->nr,
			    in->allow != 0);
}

static int op_iomem_permission(struct hyp_req *r)
{
	return perm_op(r, HYP_PERM_IOMEM);
}

static int op_ioport_permission(struct hyp_req *r)
{
	return perm_op(r, HYP_PERM_IOPORT);
}

static int op_irq_permission(struct hyp_req *r)
{
	return perm_op(r, HYP_PERM_IRQ);
}

/*
 * A device model that is not dom0 (a stub domain, OP_DM checked it is
 * the target's) maps interrupts only of a device assigned to its target,
 * and may then bind and unmap what it mapped: Xen grants the calling
 * device model access to the pirq, as a stub domain's QEMU needs for
 * bind_pt_irq.
 */
static int op_map_pirq(struct hyp_req *r)
{
	const struct hv_map_pirq *in = r->in;
	struct hv_map_pirq *out = r->out;
	struct hyp_pcidev *p;
	int pirq, ret;

	if (!r->privileged) {
		p = hyp_pci_get(r->h, in->sbdf);
		if (!p || p->info.owner != in->domid)
			return -ENODEV;
	}
	ret = hyp_map_pirq(r->h, in->domid, in->type, in->sbdf, in->entry,
			   in->pirq < 0 ? -1 : in->pirq, &pirq);
	if (ret < 0)
		return ret;
	if (!r->privileged)
		hyp_perm_set(r->h, HYP_PERM_IRQ, r->caller, (uint64_t)pirq, 1,
			     true);
	*out = *in;
	out->pirq = pirq;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_unmap_pirq(struct hyp_req *r)
{
	const struct hv_map_pirq *in = r->in;
	int ret = hyp_unmap_pirq(r->h, in->domid, in->pirq);

	if (ret == 0 && !r->privileged)
		hyp_perm_set(r->h, HYP_PERM_IRQ, r->caller, (uint64_t)in->pirq,
			     1, false);
	return ret;
}

static int op_prepare_msix(struct hyp_req *r)
{
	return hyp_prepare_msix(r->h,
				((const struct hv_pci_sbdf *)r->in)->sbdf);
}

static int op_release_msix(struct hyp_req *r)
{
	return hyp_release_msix(r->h,
				((const struct hv_pci_sbdf *)r->in)->sbdf);
}

static int op_msix_state(struct hyp_req *r)
{
	r->outlen = sizeof(struct hv_msix_state);
	return hyp_msix_state(r->h, ((const struct hv_pci_sbdf *)r->in)->sbdf,
			      r->out);
}

static int op_set_target(struct hyp_req *r)
{
	const struct hv_set_target *in = r->in;

	return hyp_domain_set_target(r->h, in->domid, in->target);
}

static int op_ioreq_server_create(struct hyp_req *r)
{
	const struct hv_ioreq_server *in = r->in;
	struct hv_ioreq_server *out = r->out;
	uint32_t id;
	int ret = hyp_ioreq_server_create(r->h, in->domid, r->caller,
					  in->bufioreq, &id);

	if (ret < 0)
		return ret;
	*out = *in;
	out->id = id;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_ioreq_server_get_info(struct hyp_req *r)
{
	const struct hv_ioreq_server *in = r->in;
	int fd, ret = hyp_ioreq_server_info(r->h, in->domid, r->caller, in->id,
					    r->out, &fd);

	if (ret < 0)
		return ret;
	r->fd_out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	r->outlen = sizeof(struct hv_ioreq_server);
	return r->fd_out < 0 ? -errno : 0;
}

static int op_ioreq_map_range(struct hyp_req *r)
{
	return hyp_ioreq_range(r->h, ((const struct hv_ioreq_range *)r->in)->domid,
			       r->caller, r->in, true);
}

static int op_ioreq_unmap_range(struct hyp_req *r)
{
	return hyp_ioreq_range(r->h, ((const struct hv_ioreq_range *)r->in)->domid,
			       r->caller, r->in, false);
}

static int op_ioreq_server_set_state(struct hyp_req *r)
{
	const struct hv_ioreq_server *in = r->in;

	return hyp_ioreq_server_set_state(r->h, in->domid, r->caller, in->id,
					  in->enabled != 0);
}

static int op_ioreq_server_destroy(struct hyp_req *r)
{
	const struct hv_ioreq_server *in = r->in;

	return hyp_ioreq_server_destroy(r->h, in->domid, r->caller, in->id);
}

static int op_ioreq_fetch(struct hyp_req *r)
{
	const struct hv_ioreq *in = r->in;

	r->outlen = sizeof(struct hv_ioreq);
	return hyp_ioreq_fetch(r->h, in->domid, r->caller, in->id, r->out);
}

static int op_ioreq_complete(struct hyp_req *r)
{
	const struct hv_ioreq *in = r->in;

	return hyp_ioreq_complete(r->h, in->domid, r->caller, in->id,
				  in->vcpu, in->data);
}

/* Answered now, or (HYP_DEFERRED) when the emulator completes it. */
static int op_hvm_io(struct hyp_req *r)
{
	struct hv_hvm_io *out = r->out;
	int ret;

	*out = *(const struct hv_hvm_io *)r->in;
	ret = hyp_hvm_io(r->h, r->caller, out);
	if (ret < 0 && ret != -EINPROGRESS)
		return ret;
	r->deferred = ret == -EINPROGRESS;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_hvm_vector_fd(struct hyp_req *r)
{
	const struct hv_hvm_vector *in = r->in;
	int fd, ret = hyp_hvm_vector_fd(r->h, r->caller, in->vector, &fd);

	if (ret < 0)
		return ret;
	r->fd_out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return r->fd_out < 0 ? -errno : 0;
}

static int op_set_isa_irq_level(struct hyp_req *r)
{
	const struct hv_isa_irq *in = r->in;

	return hyp_set_isa_irq_level(r->h, in->domid, in->irq, in->level);
}

static int op_hvm_isa_irq_fd(struct hyp_req *r)
{
	const struct hv_isa_irq *in = r->in;
	int fd, ret = hyp_hvm_isa_irq_fd(r->h, r->caller, in->irq, &fd);

	if (ret < 0)
		return ret;
	r->fd_out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return r->fd_out < 0 ? -errno : 0;
}

static int op_bind_pt_irq(struct hyp_req *r)
{
	return hyp_bind_pt_irq(r->h, r->caller, r->in);
}

static int op_unbind_pt_irq(struct hyp_req *r)
{
	return hyp_unbind_pt_irq(r->h, r->caller, r->in);
}

static int op_pt_irq_info(struct hyp_req *r)
{
	const struct hv_pt_irq *in = r->in;

	r->outlen = sizeof(struct hv_pt_irq);
	return hyp_pt_irq_info(r->h, in->domid, in->machine_irq, r->out);
}

/* A PVH domain's own vCPU access: checked here (bad input changes
 * nothing), run on the vCPU's thread.  In-process (no connection) the
 * caller waits for it. */
static int vcpu_op(struct hyp_req *r, struct hyp_vreq *io)
{
	struct hyp_domain *d = hyp_domain_get(r->h, r->caller);
	int ret;

	if (!d || !(d->flags & HV_DOMF_PVH))
		return -EOPNOTSUPP;
	if (io->vcpu >= d->vcpus)
		return -EINVAL;
	if (io->op == HV_OP_VPCI_CONF_READ || io->op == HV_OP_VPCI_CONF_WRITE) {
		if ((io->size != 1 && io->size != 2 && io->size != 4) ||
		    io->reg >= HYP_CONF_SIZE || io->reg % io->size)
			return -EINVAL;
	} else if ((io->size != 1 && io->size != 2 && io->size != 4 &&
		    io->size != 8) || io->gaddr % io->size) {
		return -EINVAL;
	}
	if (r->conn) {
		ret = hyp_vcpu_post(r->h, r->caller, io, r->conn, r->seq);
		r->vcpu = ret == 0;
		return ret;
	}
	return hyp_vcpu_call(r->h, r->caller, io);
}

static int op_vpci_conf(struct hyp_req *r)
{
	const struct hv_vpci_conf *in = r->in;
	struct hv_vpci_conf *out = r->out;
	struct hyp_vreq io = { .op = r->op, .vcpu = in->vcpu,
				  .sbdf = in->sbdf, .reg = in->reg,
				  .size = in->size, .value = in->value };
	int ret = vcpu_op(r, &io);

	if (ret < 0 || r->vcpu)
		return ret;
	*out = *in;
	out->value = (uint32_t)io.value;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_vpci_mmio(struct hyp_req *r)
{
	const struct hv_vpci_mmio *in = r->in;
	struct hv_vpci_mmio *out = r->out;
	struct hyp_vreq io = { .op = r->op, .vcpu = in->vcpu,
				  .gaddr = in->gaddr, .size = in->size,
				  .value = in->value };
	int ret = vcpu_op(r, &io);

	if (ret < 0 || r->vcpu)
		return ret;
	*out = *in;
	out->value = io.value;
	r->outlen = sizeof(*out);
	return 0;
}

static int op_pci_device_remove(struct hyp_req *r)
{
	return hyp_pci_device_remove(r->h,
				     ((const struct hv_pci_sbdf *)r->in)->sbdf);
}

static int op_pci_device_add(struct hyp_req *r)
{
	return hyp_pci_device_add(r->h,
				  ((const struct hv_pci_sbdf *)r->in)->sbdf);
}

static int op_vpci_info(struct hyp_req *r)
{
	const struct hv_vpci_info *in = r->in;

	r->outlen = sizeof(struct hv_vpci_info);
	return hyp_vpci_info(r->h, in->domid, in->sbdf, r->out);
}

static int op_physinfo(struct hyp_req *r)
{
	struct hv_physinfo *out = r->out;

	out->capabilities = HV_PHYSCAP_HVM | HV_PHYSCAP_PV |
			    (r->h->iommu ? HV_PHYSCAP_DIRECTIO : 0);
	r->outlen = sizeof(*out);
	return 0;
}

static int op_readconsole(struct hyp_req *r)
{
	struct hv_console *out = r->out;
	int n = hyp_console_read(r->h, out->text, sizeof(out->text));

	if (n < 0)
		return n;
	out->len = (uint32_t)n;
	r->outlen = offsetof(struct hv_console, text) + (size_t)n;
	return 0;
}

static const struct hyp_op {
	uint32_t op;
	const char *name;
	op_fn *fn;
	size_t req;		/* minimum payload */
	unsigned int flags;
} ops[] = {
	{ HV_OP_HELLO, "hello", op_hello, sizeof(struct hv_hello), 0 },
	{ HV_OP_DOMAIN_CREATE, "domain_create", op_domain_create,
	  sizeof(struct hv_domain_create), OP_PRIV },
	{ HV_OP_DOMAIN_UNPAUSE, "domain_unpause", op_domain_unpause,
	  sizeof(struct hv_domid), OP_PRIV },
	{ HV_OP_DOMAIN_PAUSE, "domain_pause", op_domain_pause,
	  sizeof(struct hv_domid), OP_PRIV },
	{ HV_OP_DOMAIN_SHUTDOWN, "domain_shutdown", op_domain_shutdown,
	  sizeof(struct hv_domain_shutdown), 0 },
	{ HV_OP_DOMAIN_DESTROY, "domain_destroy", op_domain_destroy,
	  sizeof(struct hv_domid), OP_PRIV },
	{ HV_OP_DOMAIN_GETINFO, "domain_getinfo", op_domain_getinfo,
	  sizeof(struct hv_domid), OP_PRIV },
	{ HV_OP_DOMAIN_LIST, "domain_list", op_domain_list, 0, OP_PRIV },
	{ HV_OP_BIND_VIRQ_DOM_EXC, "bind_virq_dom_exc", op_bind_virq, 0,
	  OP_PRIV },
	{ HV_OP_EVTCHN_ALLOC_UNBOUND, "evtchn_alloc_unbound",
	  op_evtchn_alloc_unbound, sizeof(struct hv_evtchn), 0 },
	{ HV_OP_EVTCHN_BIND_INTERDOMAIN, "evtchn_bind_interdomain",
	  op_evtchn_bind_interdomain, sizeof(struct hv_evtchn), 0 },
	{ HV_OP_EVTCHN_BIND_PIRQ, "evtchn_bind_pirq", op_evtchn_bind_pirq,
	  sizeof(struct hv_evtchn), 0 },
	{ HV_OP_EVTCHN_FD, "evtchn_fd", op_evtchn_fd,
	  sizeof(struct hv_evtchn), 0 },
	{ HV_OP_EVTCHN_SEND, "evtchn_send", op_evtchn_send,
	  sizeof(struct hv_evtchn), 0 },
	{ HV_OP_EVTCHN_CLOSE, "evtchn_close", op_evtchn_close,
	  sizeof(struct hv_evtchn), 0 },
	{ HV_OP_GNTTAB_GRANT, "gnttab_grant", op_gnttab_grant,
	  sizeof(struct hv_grant), OP_FD },
	{ HV_OP_GNTTAB_MAP, "gnttab_map", op_gnttab_map,
	  sizeof(struct hv_grant), 0 },
	{ HV_OP_GNTTAB_UNMAP, "gnttab_unmap", op_gnttab_unmap,
	  sizeof(struct hv_grant), 0 },
	{ HV_OP_GNTTAB_END, "gnttab_end", op_gnttab_end,
	  sizeof(struct hv_grant), 0 },
	{ HV_OP_PCI_LIST, "pci_list", op_pci_list, 0, 0 },
	{ HV_OP_PCI_INFO, "pci_info", op_pci_info,
	  sizeof(struct hv_pci_sbdf), 0 },
	{ HV_OP_PCI_CONF_READ, "pci_conf_read", op_pci_conf_read,
	  sizeof(struct hv_pci_conf), OP_PRIV },
	{ HV_OP_PCI_CONF_WRITE, "pci_conf_write", op_pci_conf_write,
	  sizeof(struct hv_pci_conf), OP_PRIV },
	{ HV_OP_PCI_RESET, "pci_reset", op_pci_reset,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_PCI_RAISE_IRQ, "pci_raise_irq", op_pci_raise_irq,
	  sizeof(struct hv_pci_irq), OP_PRIV },
	{ HV_OP_PCI_BAR_WRITE, "pci_bar_write", op_pci_bar_write,
	  sizeof(struct hv_pci_mmio), OP_PRIV },
	{ HV_OP_PCI_BAR_READ, "pci_bar_read", op_pci_bar_read,
	  sizeof(struct hv_pci_mmio), OP_PRIV },
	{ HV_OP_TEST_ASSIGN, "test_assign", op_test_assign,
	  sizeof(struct hv_assign), OP_PRIV },
	{ HV_OP_ASSIGN, "assign", op_assign, sizeof(struct hv_assign),
	  OP_PRIV },
	{ HV_OP_DEASSIGN, "deassign", op_deassign, sizeof(struct hv_assign),
	  OP_PRIV },
	{ HV_OP_IOMEM_PERMISSION, "iomem_permission", op_iomem_permission,
	  sizeof(struct hv_perm), OP_PRIV },
	{ HV_OP_IOPORT_PERMISSION, "ioport_permission", op_ioport_permission,
	  sizeof(struct hv_perm), OP_PRIV },
	{ HV_OP_IRQ_PERMISSION, "irq_permission", op_irq_permission,
	  sizeof(struct hv_perm), OP_PRIV },
	{ HV_OP_MAP_PIRQ, "map_pirq", op_map_pirq, sizeof(struct hv_map_pirq),
	  OP_DM },
	{ HV_OP_UNMAP_PIRQ, "unmap_pirq", op_unmap_pirq,
	  sizeof(struct hv_map_pirq), OP_DM },
	{ HV_OP_PREPARE_MSIX, "prepare_msix", op_prepare_msix,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_RELEASE_MSIX, "release_msix", op_release_msix,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_MSIX_STATE, "msix_state", op_msix_state,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_SET_TARGET, "set_target", op_set_target,
	  sizeof(struct hv_set_target), OP_PRIV },
	{ HV_OP_IOREQ_SERVER_CREATE, "ioreq_server_create",
	  op_ioreq_server_create, sizeof(struct hv_ioreq_server), OP_DM },
	{ HV_OP_IOREQ_SERVER_GET_INFO, "ioreq_server_get_info",
	  op_ioreq_server_get_info, sizeof(struct hv_ioreq_server), OP_DM },
	{ HV_OP_IOREQ_MAP_RANGE, "ioreq_map_range", op_ioreq_map_range,
	  sizeof(struct hv_ioreq_range), OP_DM },
	{ HV_OP_IOREQ_UNMAP_RANGE, "ioreq_unmap_range", op_ioreq_unmap_range,
	  sizeof(struct hv_ioreq_range), OP_DM },
	{ HV_OP_IOREQ_SERVER_SET_STATE, "ioreq_server_set_state",
	  op_ioreq_server_set_state, sizeof(struct hv_ioreq_server), OP_DM },
	{ HV_OP_IOREQ_SERVER_DESTROY, "ioreq_server_destroy",
	  op_ioreq_server_destroy, sizeof(struct hv_ioreq_server), OP_DM },
	{ HV_OP_IOREQ_FETCH, "ioreq_fetch", op_ioreq_fetch,
	  sizeof(struct hv_ioreq), OP_DM },
	{ HV_OP_IOREQ_COMPLETE, "ioreq_complete", op_ioreq_complete,
	  sizeof(struct hv_ioreq), OP_DM },
	{ HV_OP_SET_ISA_IRQ_LEVEL, "set_isa_irq_level", op_set_isa_irq_level,
	  sizeof(struct hv_isa_irq), OP_DM },
	{ HV_OP_HVM_IO, "hvm_io", op_hvm_io, sizeof(struct hv_hvm_io), 0 },
	{ HV_OP_HVM_VECTOR_FD, "hvm_vector_fd", op_hvm_vector_fd,
	  sizeof(struct hv_hvm_vector), 0 },
	{ HV_OP_HVM_ISA_IRQ_FD, "hvm_isa_irq_fd", op_hvm_isa_irq_fd,
	  sizeof(struct hv_isa_irq), 0 },
	{ HV_OP_BIND_PT_IRQ, "bind_pt_irq", op_bind_pt_irq,
	  sizeof(struct hv_pt_irq), OP_DM },
	{ HV_OP_UNBIND_PT_IRQ, "unbind_pt_irq", op_unbind_pt_irq,
	  sizeof(struct hv_pt_irq), OP_DM },
	{ HV_OP_PT_IRQ_INFO, "pt_irq_info", op_pt_irq_info,
	  sizeof(struct hv_pt_irq), OP_DM },
	{ HV_OP_VPCI_CONF_READ, "vpci_conf_read", op_vpci_conf,
	  sizeof(struct hv_vpci_conf), 0 },
	{ HV_OP_VPCI_CONF_WRITE, "vpci_conf_write", op_vpci_conf,
	  sizeof(struct hv_vpci_conf), 0 },
	{ HV_OP_VPCI_MMIO_READ, "vpci_mmio_read", op_vpci_mmio,
	  sizeof(struct hv_vpci_mmio), 0 },
	{ HV_OP_VPCI_MMIO_WRITE, "vpci_mmio_write", op_vpci_mmio,
	  sizeof(struct hv_vpci_mmio), 0 },
	{ HV_OP_PCI_DEVICE_REMOVE, "pci_device_remove", op_pci_device_remove,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_PCI_DEVICE_ADD, "pci_device_add", op_pci_device_add,
	  sizeof(struct hv_pci_sbdf), OP_PRIV },
	{ HV_OP_VPCI_INFO, "vpci_info", op_vpci_info,
	  sizeof(struct hv_vpci_info), OP_PRIV },
	{ HV_OP_PHYSINFO, "physinfo", op_physinfo, 0, OP_PRIV },
	{ HV_OP_READCONSOLE, "readconsole", op_readconsole, 0, OP_PRIV },
};

static const struct hyp_op *op_find(uint32_t op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return &ops[i];
	return NULL;
}

/* In debug builds the vPCI invariants are checked after every op while
 * PVH domains exist (fixed profile); a violation is logged and counted
 * (struct hyp_vpci_stats: the tests read the count). */
static void vpci_check(struct hyp *h, const char *what)
{
#ifndef NDEBUG
	char err[256];

	if (!h->vpci->check_each_op || !h->vpci->npvh ||
	    h->vpci->profile != HYP_VPCI_FIXED)
		return;
	if (hyp_vpci_check(h, err, sizeof(err)) < 0) {
		__atomic_fetch_add(&h->vpci->stats.violations, 1,
				   __ATOMIC_RELAXED);
		log_err("vPCI invariant violated after %s: %s", what, err);
	}
#else
	(void)h;
	(void)what;
#endif
}

#define HYP_DEFERRED_VCPU 2	/* dispatch: a vCPU thread answers */

static int dispatch(struct hyp *h, uint64_t conn, uint32_t caller,
		    bool privileged, const void *msg, size_t len, int fd_in,
		    void *reply, size_t *ret_replen, int *ret_fd);

int hyp_dispatch(struct hyp *h, uint32_t caller, bool privileged,
		 const void *msg, size_t len, int fd_in,
		 void *reply, size_t *ret_replen, int *ret_fd)
{
	return dispatch(h, 0, caller, privileged, msg, len, fd_in, reply,
			ret_replen, ret_fd);
}

/*
 * One request -> one reply (always written to reply/ret_replen).  fd_in is
 * consumed; *ret_fd (owned by the caller) is sent with the reply or -1.
 * HYP_DEFERRED: the reply is not to be sent yet; it is the template of
 * the HVM_IO answer, to be completed by hyp_hvm_io_collect.
 * HYP_DEFERRED_VCPU: a vCPU thread has the request (conn != 0 only).
 */
static int dispatch(struct hyp *h, uint64_t conn, uint32_t caller,
		    bool privileged, const void *msg, size_t len, int fd_in,
		    void *reply, size_t *ret_replen, int *ret_fd)
{
	union {
		char b[HV_MSG_MAX];
		uint64_t align;
	} in, out;
	struct hv_msg m = { 0 }, rm;
	const struct hyp_op *op = NULL;
	struct hyp_req r = {
		.h = h, .caller = caller, .privileged = privileged,
		.in = in.b, .fd_in = fd_in, .out = out.b, .fd_out = -1,
		.conn = conn,
	};
	uint32_t before;
	int ret;

	*ret_fd = -1;
	memset(in.b, 0, sizeof(in.b));
	if (len < sizeof(m)) {
		memcpy(&m, msg, len);
		ret = -EINVAL;
		goto reply;
	}
	memcpy(&m, msg, sizeof(m));
	if (m.len != len - sizeof(m) || len > HV_MSG_MAX) {
		ret = -EINVAL;
		goto reply;
	}
	op = op_find(m.op);
	if (!op) {
		ret = -ENOSYS;
		goto reply;
	}
	if (m.len < op->req) {
		ret = -EINVAL;
		goto reply;
	}
	if (op->flags & OP_PRIV && !privileged) {
		ret = -EPERM;
		goto reply;
	}
	memcpy(in.b, (const char *)msg + sizeof(m), m.len);
	if (op->flags & OP_DM && !privileged &&
	    !hyp_domain_is_dm(h, caller, *(const uint32_t *)in.b)) {
		ret = -EPERM;
		goto reply;
	}
	if (!(op->flags & OP_FD) && fd_in >= 0) {
		close(fd_in);
		r.fd_in = fd_in = -1;
	}
	r.op = m.op;
	r.seq = m.seq;
	before = hyp_evlog_before(h, m.op, in.b);
	ret = op->fn(&r);
	if (ret == 0)
		hyp_evlog_op(h, caller, m.op, in.b, out.b, before);
	if (!r.vcpu)
		vpci_check(h, op->name);
reply:
	if (ret < 0) {
		log_debug("domain %u: %s (op %u): %s", caller,
			  op ? op->name : "?", m.op, strerror(-ret));
		r.outlen = 0;
		if (r.fd_out >= 0)
			close(r.fd_out);
		r.fd_out = -1;
	}
	if (fd_in >= 0)
		close(fd_in);
	rm = (struct hv_msg){ .op = m.op, .seq = m.seq, .ret = ret,
			      .len = (uint32_t)r.outlen };
	memcpy(reply, &rm, sizeof(rm));
	memcpy((char *)reply + sizeof(rm), out.b, r.outlen);
	*ret_replen = sizeof(rm) + r.outlen;
	*ret_fd = r.fd_out;
	if (ret == 0 && r.vcpu)
		return HYP_DEFERRED_VCPU;
	return ret == 0 && r.deferred ? HYP_DEFERRED : ret;
}

/* Sockets ----------------------------------------------------------------- */

static int epoll_add(struct hyp *h, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static struct hyp_conn *conn_new(struct hyp *h, int fd, uint32_t domid,
				 bool privileged, bool listening)
{
	struct hyp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->id = ++h->conn_serial;
	c->domid = domid;
	c->privileged = privileged;
	c->listening = listening;
	if (epoll_add(h, fd, c) < 0) {
		free(c);
		return NULL;
	}
	c->next = h->conns;
	h->conns = c;
	return c;
}

static void conn_kill(struct hyp *h, struct hyp_conn *c)
{
	if (c->dead)
		return;
	close(c->fd);		/* also leaves the epoll set */
	c->fd = -1;
	c->dead = true;
	h->ndead++;
}

/* Free the dead connections.  Walks the list only when one died: with a
 * thousand guests connected, a walk after every request cost more than
 * the request (bench/README.md, "Listing"). */
static void conns_sweep(struct hyp *h)
{
	struct hyp_conn **pp = &h->conns, *c;

	while (h->ndead && (c = *pp)) {
		if (c->dead) {
			*pp = c->next;
			if (c->wait)
				h->nwait--;
			free(c->wait);
			free(c);
			h->ndead--;
		} else {
			pp = &c->next;
		}
	}
}

static int listen_on(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int hyp_domain_socket_open(struct hyp *h, struct hyp_domain *d)
{
	char path[4096];
	int fd, r;

	if (!h->rundir)
		return 0;
	snprintf(path, sizeof(path), "%s/hv/domain/%u", h->rundir, d->domid);
	r = listen_on(path, &fd);
	if (r < 0) {
		log_err("%s: cannot listen: %s", path, strerror(-r));
		return r;
	}
	d->sock_path = strdup(path);
	if (!d->sock_path || !conn_new(h, fd, d->domid, false, true)) {
		close(fd);
		unlink(path);
		free(d->sock_path);
		d->sock_path = NULL;
		return -ENOMEM;
	}
	d->listen_fd = fd;
	return 0;
}

/* The domain is going: its socket and every connection through it. */
void hyp_domain_socket_close(struct hyp *h, struct hyp_domain *d)
{
	struct hyp_conn *c;

	for (c = h->conns; c; c = c->next)
		if (!c->privileged && c->domid == d->domid)
			conn_kill(h, c);
	if (d->sock_path)
		unlink(d->sock_path);
	free(d->sock_path);
	d->sock_path = NULL;
	d->listen_fd = -1;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hyp_listen(struct hyp *h, const char *rundir)
{
	char path[4096];
	sigset_t mask;
	int r;

	h->rundir = strdup(rundir);
	if (!h->rundir)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/hv", rundir);
	if ((r = mkdir_p(rundir)) < 0 || (r = mkdir_p(path)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/hv/domain", rundir);
	if ((r = mkdir_p(path)) < 0)
		return r;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	h->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (h->sigfd < 0)
		return -errno;
	if ((r = epoll_add(h, h->sigfd, NULL)) < 0 ||
	    (r = epoll_add(h, h->done_efd, &h->done_efd)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/hv/control", rundir);
	r = listen_on(path, &h->control_fd);
	if (r < 0)
		return r;
	h->control_path = strdup(path);
	if (!h->control_path || !conn_new(h, h->control_fd, 0, true, true))
		return -ENOMEM;
	return 0;
}

static void conn_accept(struct hyp *h, struct hyp_conn *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %m");
		return;
	}
	if (!conn_new(h, fd, l->domid, l->privileged, false)) {
		log_warn("out of memory: connection refused");
		close(fd);
	}
}

#define MAX_FDS 4

/* Stop (or resume) reading a connection; hang-ups are still reported. */
static void conn_listen(struct hyp *h, struct hyp_conn *c, bool in)
{
	struct epoll_event ev = { .events = in ? EPOLLIN : 0, .data.ptr = c };

	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		log_warn("domain %u: epoll: %m: connection closed", c->domid);
		conn_kill(h, c);
	}
}

/* Hold the HVM_IO reply until the emulator answers (conns_collect). */
static void conn_wait(struct hyp *h, struct hyp_conn *c, const char *reply,
		      size_t len)
{
	c->wait = malloc(len);
	if (!c->wait) {
		/* The vCPU's request stands; the guest sees a lost reply. */
		log_warn("domain %u: out of memory: connection closed",
			 c->domid);
		conn_kill(h, c);
		return;
	}
	memcpy(c->wait, reply, len);
	c->waitlen = len;
	h->nwait++;
	conn_listen(h, c, false);
}

/* Send what the emulators answered to the guests waiting for it. */
static void conns_collect(struct hyp *h)
{
	struct hv_hvm_io io;
	struct hv_msg m;
	struct hyp_conn *c;
	uint64_t data;
	int r;

	/* h->nwait: only a connection holding a reply is of interest */
	for (c = h->nwait ? h->conns : NULL; c; c = c->next) {
		if (!c->wait || c->dead)
			continue;
		memcpy(&m, c->wait, sizeof(m));
		memcpy(&io, c->wait + sizeof(m), sizeof(io));
		r = hyp_hvm_io_collect(h, c->domid, io.vcpu, &data);
		if (r == -EINPROGRESS)
			continue;
		if (r == 0) {
			io.data = data;
			memcpy(c->wait + sizeof(m), &io, sizeof(io));
		} else {
			m.ret = r;
			m.len = 0;
			memcpy(c->wait, &m, sizeof(m));
			c->waitlen = sizeof(m);
		}
		if (send(c->fd, c->wait, c->waitlen,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			log_debug("domain %u: reply lost (%m): connection "
				  "closed", c->domid);
			conn_kill(h, c);
			continue;
		}
		free(c->wait);
		c->wait = NULL;
		h->nwait--;
		conn_listen(h, c, true);
	}
}

/*
 * The descriptors of a message recvmsg returned: the first goes with the
 * request, every other one is closed here.  Returns the first or -1.
 * Called only after a recvmsg that succeeded: a failed one (a peer's
 * reset) leaves the control buffer as it was, and a number found there
 * may name another client's socket by now.
 */
static int take_fds(struct msghdr *mh)
{
	struct cmsghdr *cm;
	size_t i, nfds;
	int fd_in = -1, fd;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (fd_in < 0)
				fd_in = fd;
			else
				close(fd);	/* one descriptor per request */
		}
	}
	return fd_in;
}

static void conn_serve(struct hyp *h, struct hyp_conn *c)
{
	static union {
		char b[HV_MSG_MAX];
		uint64_t align;
	} in, out;
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = in.b, .iov_len = sizeof(in.b) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.b, .msg_controllen = sizeof(u.b),
	};
	struct iovec oiov = { .iov_base = out.b };
	struct msghdr omh = { .msg_iov = &oiov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int fd_in, fd_out = -1, ret;
	size_t replen, len;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	/* A message shorter than a header must not reuse the last one's. */
	memset(in.b, 0, sizeof(struct hv_msg));
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_debug("domain %u: %m: connection closed", c->domid);
		conn_kill(h, c);
		return;
	}
	fd_in = take_fds(&mh);
	if (n == 0) {
		if (fd_in >= 0)
			close(fd_in);
		conn_kill(h, c);
		return;
	}
	len = (size_t)n;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		/* Longer than any request, or more descriptors than a request
		 * takes (the kernel dropped the rest): dispatch says -EINVAL. */
		if (fd_in >= 0)
			close(fd_in);
		fd_in = -1;
		len = sizeof(in.b) + 1;
	}
	ret = dispatch(h, c->id, c->domid, c->privileged, in.b, len, fd_in,
		       out.b, &replen, &fd_out);
	if (ret == HYP_DEFERRED) {
		conn_wait(h, c, out.b, replen);
		return;
	}
	if (ret == HYP_DEFERRED_VCPU) {
		c->vcpu_wait = true;
		conn_listen(h, c, false);
		return;
	}
	oiov.iov_len = replen;
	if (fd_out >= 0) {
		memset(&u, 0, sizeof(u));
		omh.msg_control = u.b;
		omh.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&omh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd_out, sizeof(int));
	}
	if (!c->dead &&
	    sendmsg(c->fd, &omh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		log_debug("domain %u: reply lost (%m): connection closed",
			  c->domid);
		conn_kill(h, c);
	}
	if (fd_out >= 0)
		close(fd_out);
}

/* The vCPU threads' answers, to the connections waiting for them. */
static void vcpu_answers(struct hyp *h)
{
	struct hyp_vcpu_done done;
	union {
		char b[sizeof(struct hv_msg) + sizeof(struct hv_vpci_mmio)];
		uint64_t align;
	} buf;
	struct hv_msg m;
	struct hyp_conn *c;
	uint64_t n;
	size_t len;

	if (read(h->done_efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("vcpu eventfd: %m");
	hyp_vcpu_service(h);
	while (hyp_vcpu_take_done(h, &done)) {
		const struct hyp_vreq *io = &done.io;

		vpci_check(h, "a vCPU's access");
		for (c = h->conns; c && c->id != done.tag; c = c->next)
			;
		if (!c || c->dead || !c->vcpu_wait)
			continue;	/* the guest went meanwhile */
		m = (struct hv_msg){ .op = io->op, .seq = done.seq,
				     .ret = io->ret };
		if (io->ret == 0 && (io->op == HV_OP_VPCI_CONF_READ ||
				     io->op == HV_OP_VPCI_CONF_WRITE)) {
			struct hv_vpci_conf o = {
				.vcpu = io->vcpu, .sbdf = io->sbdf,
				.reg = io->reg, .size = io->size,
				.value = (uint32_t)io->value };

			m.len = sizeof(o);
			memcpy(buf.b + sizeof(m), &o, sizeof(o));
		} else if (io->ret == 0) {
			struct hv_vpci_mmio o = {
				.vcpu = io->vcpu, .size = io->size,
				.gaddr = io->gaddr, .value = io->value };

			m.len = sizeof(o);
			memcpy(buf.b + sizeof(m), &o, sizeof(o));
		}
		memcpy(buf.b, &m, sizeof(m));
		len = sizeof(m) + m.len;
		c->vcpu_wait = false;
		if (send(c->fd, buf.b, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			log_debug("domain %u: reply lost (%m): connection "
				  "closed", c->domid);
			conn_kill(h, c);
			continue;
		}
		conn_listen(h, c, true);
	}
}

int hyp_run(struct hyp *h)
{
	struct epoll_event evs[32];
	int n, i;

	while (!h->stop) {
		n = epoll_wait(h->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !h->stop; i++) {
			struct hyp_conn *c = evs[i].data.ptr;

			if (evs[i].data.ptr == &h->done_efd) {
				vcpu_answers(h);
				continue;
			}
			if (!c) {
				struct signalfd_siginfo si;

				if (read(h->sigfd, &si, sizeof(si)) > 0) {
					log_info("signal %u: stopping",
						 si.ssi_signo);
					h->stop = true;
				}
				continue;
			}
			if (c->dead)
				continue;
			if (c->listening)
				conn_accept(h, c);
			else if (evs[i].events & EPOLLIN)
				conn_serve(h, c);
			else
				conn_kill(h, c);	/* hang-up, error */
			/* Before any other request: an answer collected
			 * later could be dropped by the vCPU's next access
			 * on another connection. */
			conns_collect(h);
		}
		conns_sweep(h);
	}
	return 0;
}

void hyp_unlisten(struct hyp *h)
{
	struct hyp_conn *c;
	uint32_t i;

	for (c = h->conns; c; c = c->next)
		conn_kill(h, c);
	conns_sweep(h);
	for (i = 0; i < h->dom_end; i++)
		if (h->dom[i] && h->dom[i]->sock_path) {
			unlink(h->dom[i]->sock_path);
			free(h->dom[i]->sock_path);
			h->dom[i]->sock_path = NULL;
		}
	if (h->control_path) {
		unlink(h->control_path);
		free(h->control_path);
		h->control_path = NULL;
	}
	h->control_fd = -1;
	if (h->sigfd >= 0)
		close(h->sigfd);
	if (h->epfd >= 0)
		close(h->epfd);
	h->sigfd = h->epfd = -1;
}
