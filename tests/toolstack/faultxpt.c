// SPDX-License-Identifier: MIT
/*
 * xpt-faulty: the xpt executable (the same sources as src/xpt on the
 * same libxpt) with a countdown over every call libxpt makes across its
 * three boundaries: libxenstore, the platform table and a device
 * model's QMP monitor.  tests/toolstack/meson.build links it with
 * -Wl,--wrap= for each libxenstore call (tests/lib/xswrap.c, which asks
 * xswrap_fails() here), for xpt_platform_select (the
 * chosen platform is put behind a table whose every op counts) and for
 * xpt_qmp_open, xpt_qmp_exec and xpt_qmp_wait_event, so nothing in
 * libxpt knows of the countdown (the production xpt has none of it).
 * The sibling of tests/unit/fakexs.c and fakeplatform.c, for the
 * modelled host, where an HVM guest's device model is real.
 *
 *   XPT_FAULT_NTH=N     the Nth counted call fails, as a peer that
 *                       answered with an error: nothing done, EIO (-EIO
 *                       from a platform op; a QMP command answered
 *                       GenericError; a QMP event that never came)
 *   XPT_FAULT_COMMIT=K  the Kth transaction commit fails with EAGAIN
 *                       instead (a conflict), which libxpt must retry
 *                       (by its own count: which call N a commit is
 *                       varies with the waits between runs)
 *   XPT_FAULT_COUNT=F   one line per counted call appended to F, its
 *                       kind and name ("xs xs_read", "pf assign",
 *                       "qmp device_add"), " FAILED" on the one that
 *                       failed: the count and kinds of a clean run, and
 *                       whether a faulty run reached N
 *
 * Not counted: xs_fileno and xs_close (an accessor and a close, no
 * request), the platform's open, close and dom_kill_kernel (void, or
 * the connection itself) and doctor's reads (no operation makes them),
 * and QMP's qmp_capabilities, which xpt_qmp_open sends itself (its
 * failure is the open's).  A failed transaction end still ends the
 * transaction in the store (aborted), as fakexs.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"
#include "xswrap.h"

static unsigned long calls;

/* Count a call of kind ("xs", "pf", "qmp") named what; true when it is
 * the one to fail. */
static bool fault(const char *kind, const char *what)
{
	static unsigned long nth;
	static int log = -2;
	const char *s;
	bool hit;

	if (log == -2) {
		s = getenv("XPT_FAULT_NTH");
		nth = s ? strtoul(s, NULL, 10) : 0;
		s = getenv("XPT_FAULT_COUNT");
		log = s && *s ? open(s, O_WRONLY | O_CREAT | O_APPEND |
				     O_CLOEXEC, 0644) : -1;
	}
	hit = ++calls == nth;
	if (log >= 0)
		dprintf(log, "%s %s%s\n", kind, what, hit ? " FAILED" : "");
	return hit;
}

/* libxenstore: tests/lib/xswrap.c asks these */

bool xswrap_fails(const char *what)
{
	return fault("xs", what);
}

int xswrap_end_fails(bool abort)
{
	static unsigned long commits;
	const char *k = getenv("XPT_FAULT_COMMIT");
	bool conflict = !abort && k && ++commits == strtoul(k, NULL, 10);

	bool hit = fault("xs", abort ? "xs_transaction_end(abort)" :
			 conflict ? "xs_transaction_end EAGAIN" :
			 "xs_transaction_end");

	if (!hit && !conflict)
		return 0;
	return conflict ? EAGAIN : EIO;
}

/* QMP: a command answered with GenericError (QEMU's answer to a
 * device_add it refuses), an open that finds no monitor, an event that
 * never comes (the wait's bound passed) */

int __real_xpt_qmp_open(struct xpt_ctx *c, const char *who, const char *path,
			int timeout_ms, struct xpt_qmp **ret, char *err,
			size_t errlen);
int __wrap_xpt_qmp_open(struct xpt_ctx *c, const char *who, const char *path,
			int timeout_ms, struct xpt_qmp **ret, char *err,
			size_t errlen);
int __real_xpt_qmp_exec(struct xpt_qmp *q, const char *cmd,
			const char *args_json, int timeout_ms, char **ret_json,
			char *err, size_t errlen);
int __wrap_xpt_qmp_exec(struct xpt_qmp *q, const char *cmd,
			const char *args_json, int timeout_ms, char **ret_json,
			char *err, size_t errlen);
int __real_xpt_qmp_wait_event(struct xpt_qmp *q, const char *name,
			      const char *device, int timeout_ms);
int __wrap_xpt_qmp_wait_event(struct xpt_qmp *q, const char *name,
			      const char *device, int timeout_ms);

int __wrap_xpt_qmp_open(struct xpt_ctx *c, const char *who, const char *path,
			int timeout_ms, struct xpt_qmp **ret, char *err,
			size_t errlen)
{
	if (!fault("qmp", "open"))
		return __real_xpt_qmp_open(c, who, path, timeout_ms, ret, err,
					   errlen);
	if (err && errlen)
		snprintf(err, errlen, "%s", strerror(EIO));
	return -EIO;
}

int __wrap_xpt_qmp_exec(struct xpt_qmp *q, const char *cmd,
			const char *args_json, int timeout_ms, char **ret_json,
			char *err, size_t errlen)
{
	if (!fault("qmp", cmd))
		return __real_xpt_qmp_exec(q, cmd, args_json, timeout_ms,
					   ret_json, err, errlen);
	if (err && errlen)
		snprintf(err, errlen, "GenericError: %s failed (injected "
			 "fault)", cmd);
	return -EIO;
}

int __wrap_xpt_qmp_wait_event(struct xpt_qmp *q, const char *name,
			      const char *device, int timeout_ms)
{
	char what[96];

	snprintf(what, sizeof(what), "event %s", name);
	return fault("qmp", what) ? -ETIMEDOUT :
	       __real_xpt_qmp_wait_event(q, name, device, timeout_ms);
}

/* The platform: the chosen one behind a table of counting ops. */

static const struct xpt_platform *in;
static struct xpt_platform counted;

#define PF(name) if (fault("pf", #name)) return -EIO

static int c_dom_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			const char *uuid, bool passthrough,
			unsigned int *ret_domid)
{
	PF(dom_create);
	return in->dom_create(c, cfg, uuid, passthrough, ret_domid);
}

static int c_dom_boot(struct xpt_ctx *c, unsigned int domid)
{
	PF(dom_boot);
	return in->dom_boot(c, domid);
}

static int c_dom_pause(struct xpt_ctx *c, unsigned int domid)
{
	PF(dom_pause);
	return in->dom_pause(c, domid);
}

static int c_dom_unpause(struct xpt_ctx *c, unsigned int domid)
{
	PF(dom_unpause);
	return in->dom_unpause(c, domid);
}

static int c_dom_destroy(struct xpt_ctx *c, unsigned int domid)
{
	PF(dom_destroy);
	return in->dom_destroy(c, domid);
}

static int c_dom_info(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_pdom *ret)
{
	PF(dom_info);
	return in->dom_info(c, domid, ret);
}

static int c_dom_list(struct xpt_ctx *c, unsigned int first,
		      struct xpt_pdom *ret, size_t max, size_t *ret_n)
{
	PF(dom_list);
	return in->dom_list(c, first, ret, max, ret_n);
}

static int c_dom_kernel(struct xpt_ctx *c, unsigned int domid)
{
	PF(dom_kernel);
	return in->dom_kernel(c, domid);
}

static int c_dm_spawn(struct xpt_ctx *c, unsigned int domid,
		      const char *binary, const char *qmp_path, int *ret_pid)
{
	PF(dm_spawn);
	return in->dm_spawn(c, domid, binary, qmp_path, ret_pid);
}

static int c_set_target(struct xpt_ctx *c, unsigned int domid,
			unsigned int target)
{
	PF(set_target);
	return in->set_target(c, domid, target);
}

static int c_pci_list(struct xpt_ctx *c, uint32_t *ret, size_t max,
		      size_t *ret_n)
{
	PF(pci_list);
	return in->pci_list(c, ret, max, ret_n);
}

static int c_pci_info(struct xpt_ctx *c, uint32_t sbdf, struct xpt_pdev *ret)
{
	PF(pci_info);
	return in->pci_info(c, sbdf, ret);
}

static int c_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		     size_t *ret_n)
{
	PF(pb_list);
	return in->pb_list(c, ret, max, ret_n);
}

/* an op with a message: what the user would read */
#define PF_MSG(name) \
	if (fault("pf", #name)) { \
		if (msg && len) \
			snprintf(msg, len, #name " failed: %s", \
				 strerror(EIO)); \
		return -EIO; \
	}

static int c_pb_seize(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	PF_MSG(pb_seize);
	return in->pb_seize(c, sbdf, msg, len);
}

static int c_pb_release(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			char *msg, size_t len)
{
	PF_MSG(pb_release);
	return in->pb_release(c, sbdf, rebind, msg, len);
}

static int c_pb_reset(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	PF_MSG(pb_reset);
	return in->pb_reset(c, sbdf, msg, len);
}

static int c_pb_permissive(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			   size_t len)
{
	PF_MSG(pb_permissive);
	return in->pb_permissive(c, sbdf, msg, len);
}

static int c_test_assign(struct xpt_ctx *c, uint32_t sbdf)
{
	PF(test_assign);
	return in->test_assign(c, sbdf);
}

static int c_assign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	PF(assign);
	return in->assign(c, domid, sbdf);
}

static int c_deassign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	PF(deassign);
	return in->deassign(c, domid, sbdf);
}

static int c_iomem_permission(struct xpt_ctx *c, unsigned int domid,
			      uint64_t first_frame, uint64_t nr_frames,
			      bool allow)
{
	PF(iomem_permission);
	return in->iomem_permission(c, domid, first_frame, nr_frames, allow);
}

static int c_ioport_permission(struct xpt_ctx *c, unsigned int domid,
			       uint32_t first, uint32_t nr, bool allow)
{
	PF(ioport_permission);
	return in->ioport_permission(c, domid, first, nr, allow);
}

static int c_irq_permission(struct xpt_ctx *c, unsigned int domid, int pirq,
			    bool allow)
{
	PF(irq_permission);
	return in->irq_permission(c, domid, pirq, allow);
}

static int c_map_pirq(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		      int *ret_pirq)
{
	PF(map_pirq);
	return in->map_pirq(c, domid, sbdf, ret_pirq);
}

static int c_unmap_pirq(struct xpt_ctx *c, unsigned int domid, int pirq)
{
	PF(unmap_pirq);
	return in->unmap_pirq(c, domid, pirq);
}

static int c_vpci_slot(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		       uint32_t *ret_gsbdf)
{
	PF(vpci_slot);
	return in->vpci_slot(c, domid, sbdf, ret_gsbdf);
}

int __real_xpt_platform_select(const char *name,
			       const struct xpt_platform **ret);
int __wrap_xpt_platform_select(const char *name,
			       const struct xpt_platform **ret);

int __wrap_xpt_platform_select(const char *name,
			       const struct xpt_platform **ret)
{
	const struct xpt_platform *pf;
	int r = __real_xpt_platform_select(name, &pf);

	if (r < 0)
		return r;
	in = pf;
	counted = *pf;		/* name, open, close, doctor's reads */
	counted.dom_create = c_dom_create;
	counted.dom_boot = c_dom_boot;
	counted.dom_pause = c_dom_pause;
	counted.dom_unpause = c_dom_unpause;
	counted.dom_destroy = c_dom_destroy;
	counted.dom_info = c_dom_info;
	counted.dom_list = c_dom_list;
	counted.dom_kernel = c_dom_kernel;
	counted.dm_spawn = pf->dm_spawn ? c_dm_spawn : NULL;
	counted.set_target = pf->set_target ? c_set_target : NULL;
	counted.pci_list = c_pci_list;
	counted.pci_info = c_pci_info;
	counted.pb_list = c_pb_list;
	counted.pb_seize = c_pb_seize;
	counted.pb_release = c_pb_release;
	counted.pb_reset = c_pb_reset;
	counted.pb_permissive = c_pb_permissive;
	counted.test_assign = c_test_assign;
	counted.assign = c_assign;
	counted.deassign = c_deassign;
	counted.iomem_permission = c_iomem_permission;
	counted.ioport_permission = c_ioport_permission;
	counted.irq_permission = c_irq_permission;
	counted.map_pirq = c_map_pirq;
	counted.unmap_pirq = c_unmap_pirq;
	counted.vpci_slot = pf->vpci_slot ? c_vpci_slot : NULL;
	*ret = &counted;
	return 0;
}
