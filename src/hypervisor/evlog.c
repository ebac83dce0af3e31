// SPDX-License-Identifier: MIT
/*
 * xpt-hypervisor --event-log FILE: one line per change of state that a
 * reader of the PCI-passthrough protocol cares about, timestamped as
 * xpt-xenstored's access log is (CLOCK_REALTIME, SEC.USEC) so that
 * `xpt trace` merges the two by time.  A line is
 *
 *	SEC.USEC dom=D EVENT key=value...
 *
 * D is the domain the change is about (the guest a device is assigned
 * to, a pirq is mapped for, an ioreq server serves, whose grant is
 * mapped); values are numbers,
 * BDFs (SSSS:BB:DD.F) or a domain's name made printable, so a line is
 * short, one word per field.  Only operations that succeeded are
 * recorded (a failed one changed nothing).  The format is in
 * xpt-hypervisor(8); one write(2) per line, to an O_APPEND file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

int hyp_evlog_open(struct hyp *h, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (h->evlog_fd >= 0)
		close(h->evlog_fd);
	h->evlog_fd = fd;
	return 0;
}

void hyp_evlog_close(struct hyp *h)
{
	if (h->evlog_fd >= 0)
		close(h->evlog_fd);
	h->evlog_fd = -1;
}

static void record(struct hyp *h, uint32_t domid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void record(struct hyp *h, uint32_t domid, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;
	int n, k;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%lld.%06ld dom=%u ",
		     (long long)ts.tv_sec, ts.tv_nsec / 1000, domid);
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n += k;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(h->evlog_fd, line, (size_t)n) != n)
		log_debug("event log: %s", strerror(errno));
}

#define BDF_FMT "%04x:%02x:%02x.%u"
#define BDF_ARGS(s) ((s) >> 16) & 0xffffu, ((s) >> 8) & 0xffu, \
	((s) >> 3) & 0x1fu, (s) & 7u

static const char *irq_type_name(uint32_t type)
{
	switch (type) {
	case HV_IRQ_INTX: return "intx";
	case HV_IRQ_MSI: return "msi";
	case HV_IRQ_MSIX: return "msix";
	}
	return "other";
}

#define NO_DOMID 0x7FF4u	/* Xen's DOMID_INVALID: no such device */

static uint32_t owner_of(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	return p ? p->info.owner : NO_DOMID;
}

uint32_t hyp_evlog_before(struct hyp *h, uint32_t op, const void *in)
{
	const struct hv_assign *a = in;

	if (h->evlog_fd < 0 || (op != HV_OP_ASSIGN && op != HV_OP_DEASSIGN))
		return NO_DOMID;
	return owner_of(h, a->sbdf);
}

void hyp_evlog_op(struct hyp *h, uint32_t caller, uint32_t op,
		  const void *in, const void *out, uint32_t before)
{
	if (h->evlog_fd < 0)
		return;
	switch (op) {
	case HV_OP_DOMAIN_CREATE: {
		const struct hv_domain_create *c = out;
		char name[sizeof(c->name)];
		size_t i;

		for (i = 0; i + 1 < sizeof(name) && c->name[i]; i++)
			name[i] = c->name[i] > ' ' && c->name[i] < 0x7f ?
				  c->name[i] : '?';
		name[i] = 0;
		record(h, c->domid, "create name=%s flags=0x%x",
		       i ? name : "-", c->flags);
		break;
	}
	case HV_OP_DOMAIN_PAUSE:
	case HV_OP_DOMAIN_UNPAUSE:
	case HV_OP_DOMAIN_DESTROY: {
		const struct hv_domid *d = in;

		record(h, d->domid, "%s", op == HV_OP_DOMAIN_PAUSE ? "pause" :
		       op == HV_OP_DOMAIN_UNPAUSE ? "unpause" : "destroy");
		break;
	}
	case HV_OP_DOMAIN_SHUTDOWN: {
		const struct hv_domain_shutdown *s = in;

		record(h, s->domid == HV_DOMID_SELF ? caller : s->domid,
		       "shutdown reason=%u", s->reason);
		break;
	}
	case HV_OP_ASSIGN:
	case HV_OP_DEASSIGN: {
		const struct hv_assign *a = in;

		record(h, a->domid, "%s bdf=" BDF_FMT " from=%u to=%u",
		       op == HV_OP_ASSIGN ? "assign" : "deassign",
		       BDF_ARGS(a->sbdf), before, owner_of(h, a->sbdf));
		break;
	}
	case HV_OP_MAP_PIRQ: {
		const struct hv_map_pirq *m = out;

		record(h, m->domid, "map_pirq bdf=" BDF_FMT " type=%s "
		       "entry=%u pirq=%d", BDF_ARGS(m->sbdf),
		       irq_type_name(m->type), m->entry, m->pirq);
		break;
	}
	case HV_OP_UNMAP_PIRQ: {
		const struct hv_map_pirq *m = in;

		record(h, m->domid, "unmap_pirq pirq=%d", m->pirq);
		break;
	}
	case HV_OP_PREPARE_MSIX:
	case HV_OP_RELEASE_MSIX: {
		const struct hv_pci_sbdf *s = in;

		record(h, owner_of(h, s->sbdf), "%s bdf=" BDF_FMT,
		       op == HV_OP_PREPARE_MSIX ? "prepare_msix" :
		       "release_msix", BDF_ARGS(s->sbdf));
		break;
	}
	case HV_OP_BIND_PT_IRQ:
	case HV_OP_UNBIND_PT_IRQ: {
		const struct hv_pt_irq *p = in;

		record(h, p->domid, "%s pirq=%u type=%u",
		       op == HV_OP_BIND_PT_IRQ ? "bind_pt_irq" : "unbind_pt_irq",
		       p->machine_irq, p->irq_type);
		break;
	}
	case HV_OP_EVTCHN_BIND_INTERDOMAIN: {
		const struct hv_evtchn *e = out;

		record(h, caller, "evtchn_bind port=%u remote=%u "
		       "remote_port=%u", e->port, e->remote_domid,
		       e->remote_port);
		break;
	}
	case HV_OP_EVTCHN_BIND_PIRQ: {
		const struct hv_evtchn *e = out;

		record(h, caller, "evtchn_bind_pirq port=%u pirq=%u", e->port,
		       e->pirq);
		break;
	}
	case HV_OP_EVTCHN_CLOSE: {
		const struct hv_evtchn *e = in;

		record(h, caller, "evtchn_close port=%u", e->port);
		break;
	}
	case HV_OP_GNTTAB_MAP:
	case HV_OP_GNTTAB_UNMAP: {
		const struct hv_grant *g = in;

		record(h, g->remote_domid, "%s ref=%u by=%u",
		       op == HV_OP_GNTTAB_MAP ? "grant_map" : "grant_unmap",
		       g->gref, caller);
		break;
	}
	case HV_OP_IOREQ_SERVER_CREATE:
	case HV_OP_IOREQ_SERVER_DESTROY: {
		const struct hv_ioreq_server *s =
			op == HV_OP_IOREQ_SERVER_CREATE ? out : in;

		record(h, s->domid, "%s id=%u emulator=%u",
		       op == HV_OP_IOREQ_SERVER_CREATE ? "ioreq_server_create" :
		       "ioreq_server_destroy", s->id, caller);
		break;
	}
	case HV_OP_IOREQ_MAP_RANGE:
	case HV_OP_IOREQ_UNMAP_RANGE: {
		const struct hv_ioreq_range *g = in;
		uint32_t s = (uint32_t)g->start;

		if (g->type != HV_IO_RANGE_PCI)
			break;
		record(h, g->domid, "%s id=%u bdf=" BDF_FMT,
		       op == HV_OP_IOREQ_MAP_RANGE ? "ioreq_pci_add" :
		       "ioreq_pci_remove", g->id, BDF_ARGS(s));
		break;
	}
	case HV_OP_PCI_DEVICE_ADD:
	case HV_OP_PCI_DEVICE_REMOVE: {
		const struct hv_pci_sbdf *s = in;

		record(h, 0, "%s bdf=" BDF_FMT,
		       op == HV_OP_PCI_DEVICE_ADD ? "pci_device_add" :
		       "pci_device_remove", BDF_ARGS(s->sbdf));
		break;
	}
	}
}
