// SPDX-License-Identifier: MIT
/*
 * xpt -v: every call across the platform table, with its arguments, its
 * result and how long it took, and the operation's own steps (xpt_trace),
 * on stderr, timed from the context's start.  A wrapper table in front
 * of the chosen platform (model or xen): the platforms know nothing of
 * it, so what is traced is exactly what the protocol code asked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libxpt.h"

#define IN(c) ((c)->pf_inner)

static void vtrace(struct xpt_ctx *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vtrace(struct xpt_ctx *c, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "xpt: [%6lld ms] %s\n",
		(long long)(xpt_now_ms() - c->t0), line);
}

void xpt_trace(struct xpt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	vtrace(c, fmt, ap);
	va_end(ap);
}

/* "name(args) = r (N ms)", r as an errno name when negative */
static int done(struct xpt_ctx *c, int64_t t, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int done(struct xpt_ctx *c, int64_t t, int r, const char *fmt, ...)
{
	char call[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	if (r < 0)
		xpt_trace(c, "%s %s = %s (%lld ms)", IN(c)->name, call,
			  strerror(-r), (long long)(xpt_now_ms() - t));
	else
		xpt_trace(c, "%s %s = %d (%lld ms)", IN(c)->name, call, r,
			  (long long)(xpt_now_ms() - t));
	return r;
}

static const char *bdf(uint32_t sbdf, char *buf)
{
	xpt_format_bdf(sbdf, buf, 16);
	return buf;
}

static int t_open(struct xpt_ctx *c)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->open(c), "open");
}

static void t_close(struct xpt_ctx *c)
{
	IN(c)->close(c);
}

static int t_dom_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			const char *uuid, bool passthrough,
			unsigned int *ret_domid)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->dom_create(c, cfg, uuid, passthrough, ret_domid);

	return done(c, t, r, "dom_create(%s) -> domain %d", cfg->name,
		    r == 0 ? (int)*ret_domid : -1);
}

#define DOMOP(op)							\
static int t_##op(struct xpt_ctx *c, unsigned int domid)		\
{									\
	int64_t t = xpt_now_ms();					\
									\
	return done(c, t, IN(c)->op(c, domid), #op "(%u)", domid);	\
}
DOMOP(dom_boot)
DOMOP(dom_pause)
DOMOP(dom_unpause)
DOMOP(dom_destroy)
DOMOP(dom_kernel)

static int t_dom_info(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_pdom *ret)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->dom_info(c, domid, ret);

	return done(c, t, r, "dom_info(%u) state %d", domid,
		    r == 0 ? (int)ret->state : -1);
}

static int t_dom_list(struct xpt_ctx *c, unsigned int first,
		      struct xpt_pdom *ret, size_t max, size_t *ret_n)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->dom_list(c, first, ret, max, ret_n);

	return done(c, t, r, "dom_list(from %u) -> %zu", first,
		    r == 0 ? *ret_n : 0);
}

static void t_dom_kill_kernel(struct xpt_ctx *c, unsigned int domid)
{
	int64_t t = xpt_now_ms();

	IN(c)->dom_kill_kernel(c, domid);
	done(c, t, 0, "dom_kill_kernel(%u)", domid);
}

static int t_dm_spawn(struct xpt_ctx *c, unsigned int domid,
		      const char *binary, const char *qmp_path, int *ret_pid)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->dm_spawn(c, domid, binary, qmp_path,
					  ret_pid),
		    "dm_spawn(%u, %s)", domid, binary ? binary : "default");
}

static int t_pci_list(struct xpt_ctx *c, uint32_t *ret, size_t max,
		      size_t *ret_n)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->pci_list(c, ret, max, ret_n);

	return done(c, t, r, "pci_list -> %zu", r == 0 ? *ret_n : 0);
}

static int t_pci_info(struct xpt_ctx *c, uint32_t sbdf, struct xpt_pdev *ret)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->pci_info(c, sbdf, ret);
	char b[16];

	return done(c, t, r, "pci_info(%s) owner %d", bdf(sbdf, b),
		    r == 0 ? ret->owner : -1);
}

static int t_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		     size_t *ret_n)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->pb_list(c, ret, max, ret_n);

	return done(c, t, r, "pb_list -> %zu", r == 0 ? *ret_n : 0);
}

#define PBOP(op)							\
static int t_##op(struct xpt_ctx *c, uint32_t sbdf, char *msg,		\
		  size_t len)						\
{									\
	int64_t t = xpt_now_ms();					\
	char b[16];							\
									\
	return done(c, t, IN(c)->op(c, sbdf, msg, len), #op "(%s)",	\
		    bdf(sbdf, b));					\
}
PBOP(pb_seize)
PBOP(pb_reset)
PBOP(pb_permissive)

static int t_pb_release(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			char *msg, size_t len)
{
	int64_t t = xpt_now_ms();
	char b[16];

	return done(c, t, IN(c)->pb_release(c, sbdf, rebind, msg, len),
		    "pb_release(%s%s)", bdf(sbdf, b), rebind ? ", rebind" : "");
}

static int t_test_assign(struct xpt_ctx *c, uint32_t sbdf)
{
	int64_t t = xpt_now_ms();
	char b[16];

	return done(c, t, IN(c)->test_assign(c, sbdf), "test_assign(%s)",
		    bdf(sbdf, b));
}

#define ASSIGNOP(op)							\
static int t_##op(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)	\
{									\
	int64_t t = xpt_now_ms();					\
	char b[16];							\
									\
	return done(c, t, IN(c)->op(c, domid, sbdf), #op "(%u, %s)",	\
		    domid, bdf(sbdf, b));				\
}
ASSIGNOP(assign)
ASSIGNOP(deassign)

static int t_iomem_permission(struct xpt_ctx *c, unsigned int domid,
			      uint64_t first, uint64_t nr, bool allow)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->iomem_permission(c, domid, first, nr, allow),
		    "iomem_permission(%u, %#llx+%llu, %s)", domid,
		    (unsigned long long)first, (unsigned long long)nr,
		    allow ? "allow" : "deny");
}

static int t_ioport_permission(struct xpt_ctx *c, unsigned int domid,
			       uint32_t first, uint32_t nr, bool allow)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->ioport_permission(c, domid, first, nr,
						   allow),
		    "ioport_permission(%u, %#x+%u, %s)", domid, first, nr,
		    allow ? "allow" : "deny");
}

static int t_irq_permission(struct xpt_ctx *c, unsigned int domid, int pirq,
			    bool allow)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->irq_permission(c, domid, pirq, allow),
		    "irq_permission(%u, pirq %d, %s)", domid, pirq,
		    allow ? "allow" : "deny");
}

static int t_map_pirq(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		      int *ret_pirq)
{
	int64_t t = xpt_now_ms();
	int r = IN(c)->map_pirq(c, domid, sbdf, ret_pirq);
	char b[16];

	return done(c, t, r, "map_pirq(%u, %s) -> pirq %d", domid,
		    bdf(sbdf, b), r == 0 ? *ret_pirq : -1);
}

static int t_unmap_pirq(struct xpt_ctx *c, unsigned int domid, int pirq)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->unmap_pirq(c, domid, pirq),
		    "unmap_pirq(%u, pirq %d)", domid, pirq);
}

static int t_set_target(struct xpt_ctx *c, unsigned int domid,
			unsigned int target)
{
	int64_t t = xpt_now_ms();

	return done(c, t, IN(c)->set_target(c, domid, target),
		    "set_target(%u, target %u)", domid, target);
}

static int t_vpci_slot(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		       uint32_t *ret_gsbdf)
{
	int64_t t = xpt_now_ms();
	char b[16];

	return done(c, t, IN(c)->vpci_slot(c, domid, sbdf, ret_gsbdf),
		    "vpci_slot(%u, %s)", domid, bdf(sbdf, b));
}

void xpt_trace_platform(struct xpt_ctx *c, const struct xpt_platform *pf)
{
	c->pf_inner = pf;
	c->pf_trace = (struct xpt_platform){
		.name = pf->name,
		.open = t_open,
		.close = t_close,
		.dom_create = t_dom_create,
		.dom_boot = t_dom_boot,
		.dom_pause = t_dom_pause,
		.dom_unpause = t_dom_unpause,
		.dom_destroy = t_dom_destroy,
		.dom_info = t_dom_info,
		.dom_list = t_dom_list,
		.dom_kernel = t_dom_kernel,
		.dom_kill_kernel = t_dom_kill_kernel,
		.dm_spawn = pf->dm_spawn ? t_dm_spawn : NULL,
		.dm_qmp_dir = pf->dm_qmp_dir,
		.set_target = pf->set_target ? t_set_target : NULL,
		.pvh_pci_refused = pf->pvh_pci_refused,
		.pci_list = t_pci_list,
		.pci_info = t_pci_info,
		.pb_list = t_pb_list,
		.pb_seize = t_pb_seize,
		.pb_release = t_pb_release,
		.pb_reset = t_pb_reset,
		.pb_permissive = t_pb_permissive,
		.test_assign = t_test_assign,
		.assign = t_assign,
		.deassign = t_deassign,
		.iomem_permission = t_iomem_permission,
		.ioport_permission = t_ioport_permission,
		.irq_permission = t_irq_permission,
		.map_pirq = t_map_pirq,
		.unmap_pirq = t_unmap_pirq,
		.vpci_slot = pf->vpci_slot ? t_vpci_slot : NULL,
		/* doctor's reads go straight through: no side effects */
		.host_caps = pf->host_caps,
		.console_read = pf->console_read,
		.pb_module = pf->pb_module,
		.pci_config = pf->pci_config,
	};
	c->pf = &c->pf_trace;
}
