// SPDX-License-Identifier: MIT
/*
 * An HVM guest's device model in a stub domain (xl.cfg
 * device_model_stubdomain_override = 1; docs/protocol.md §10, the chain
 * libxl__spawn_stub_dm follows):
 *
 *   build   the stub domain S of guest G: PV, paused, named "<G>-dm", one
 *           vCPU, stubdomain_memory (128 MiB); /local/domain/S/target = G
 *           and the hypervisor's and xenstore's set_target; G's
 *           image/device-model-domid = S; the device model's arguments as
 *           /vm/<G's uuid>/image/dm-argv/001... (S may read them, G
 *           not); /local/domain/S/device-model/G, S's, G may read it
 *   start   S unpaused; ready when /local/domain/S/device-model/G/state
 *           is "running" (any other value is not readiness), within 30 s
 *           (libxl's LIBXL_STUBDOM_START_TIMEOUT); a stub kernel that
 *           stops fails the start at once
 *   QMP     DIR/qmp-libxl-G as for a dom0 device model (on a Xen host the
 *           socket of the vchan proxy libxl starts)
 *   PCI     G's host side (the IOMMU owner is G: the guest does the DMA);
 *           the resources granted to S as well (its device model maps them
 *           for G); S's own pciback backend, a hot-plug also while G is
 *           created, waited for until Connected; then device_add in S,
 *           retried: S may not see the device yet (upstream 0f4fd6b6d8)
 *   guest   unpaused only after all of that
 *
 * The stub domain is less trusted than dom0: what it writes is read only
 * where the protocol says (its state node), and the toolstack names S from
 * its own records checked both ways (G's device-model-domid, S's target),
 * never from a path S could write.  On the xen platform libxl builds S with
 * G (dom_create) and destroys it with G; from "start" on the path is the
 * same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

#define STUBDOM_START_MS 30000	/* libxl: LIBXL_STUBDOM_START_TIMEOUT */
#define STUBDOM_MEMORY_MB 128	/* libxl: LIBXL_LINUX_STUBDOM_MEM */

/* domid's stub domain in *ret_stub, -1 none; <0 when the store failed a
 * read (then whether there is one is not known). */
static int stub_lookup(struct xpt_ctx *c, unsigned int domid, int *ret_stub)
{
	char path[96];
	int stub, target, r;

	*ret_stub = -1;
	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-domid",
		 domid);
	r = xpt_xs_read_int(c, XBT_NULL, path, &stub);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	if (r < 0 || stub <= 0 || stub >= (int)XPT_DOMID_FIRST_RESERVED ||
	    stub == (int)domid)
		return 0;
	snprintf(path, sizeof(path), "/local/domain/%d/target", stub);
	r = xpt_xs_read_int(c, XBT_NULL, path, &target);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	if (r == 0 && target == (int)domid)
		*ret_stub = stub;
	return 0;
}

int xpt_stubdom_of(struct xpt_ctx *c, unsigned int domid)
{
	int stub;

	return stub_lookup(c, domid, &stub) < 0 ? -1 : stub;
}

int xpt_stubdom_target(struct xpt_ctx *c, unsigned int stub)
{
	char path[96];
	int guest;

	snprintf(path, sizeof(path), "/local/domain/%u/target", stub);
	if (xpt_xs_read_int(c, XBT_NULL, path, &guest) < 0 || guest <= 0 ||
	    xpt_stubdom_of(c, (unsigned int)guest) != (int)stub)
		return -1;
	return guest;
}

int xpt_stubdom_refuse(struct xpt_ctx *c, unsigned int domid,
		       const char *what)
{
	int guest = xpt_stubdom_target(c, domid);

	if (guest < 0)
		return 0;
	return xpt_fail(c, XPT_EXIT_USAGE, -EPERM, "domain %u is the stub "
			"domain of domain %d (its device model runs there): "
			"%s domain %d instead", domid, guest, what, guest);
}

/* The device model's command line, one key each, as libxl writes it for
 * a Linux stub domain (its init adds the QMP options). */
static void write_dm_argv(struct xpt_ctx *c, struct xpt_txn *tx,
			  const char *vm, unsigned int guest,
			  unsigned int stub)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE },
					{ stub, XS_PERM_READ } };
	char dom[16], path[160];
	const char *argv[] = {
		"-xen-domid", dom, "-nodefaults", "-no-shutdown", "-machine",
		"xenfv",
	};
	size_t i;

	snprintf(dom, sizeof(dom), "%u", guest);
	snprintf(path, sizeof(path), "%s/image/dm-argv", vm);
	xpt_txn_mkdir(c, tx, path, ro, 2);
	for (i = 0; i < sizeof(argv) / sizeof(argv[0]); i++) {
		snprintf(path, sizeof(path), "%s/image/dm-argv/%03zu", vm, i + 1);
		xpt_txn_mkdir(c, tx, path, ro, 2);
		xpt_txn_write(c, tx, path, "%s", argv[i]);
	}
}

static int write_chain(struct xpt_ctx *c, unsigned int guest,
		       unsigned int stub)
{
	struct xs_permissions tro[2] = { { 0, XS_PERM_NONE },
					 { stub, XS_PERM_READ } };
	struct xs_permissions dmdir[2] = { { stub, XS_PERM_NONE },
					   { guest, XS_PERM_READ } };
	struct xpt_txn tx = XPT_TXN_INIT;
	char path[160], *vm;
	int r;

	snprintf(path, sizeof(path), "/local/domain/%u/vm", guest);
	vm = xpt_xs_read(c, XBT_NULL, path);
	if (!vm || strncmp(vm, "/vm/", 4)) {
		free(vm);
		return -ENOENT;
	}
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "/local/domain/%u/target", stub);
		xpt_txn_mkdir(c, &tx, path, tro, 2);
		xpt_txn_write(c, &tx, path, "%u", guest);
		snprintf(path, sizeof(path), "/local/domain/%u/image/"
			 "device-model-domid", guest);
		xpt_txn_write(c, &tx, path, "%u", stub);
		snprintf(path, sizeof(path), "/libxl/%u/dm-version", guest);
		xpt_txn_write(c, &tx, path, "%s", "qemu_xen");
		write_dm_argv(c, &tx, vm, guest, stub);
		snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u",
			 stub, guest);
		xpt_txn_mkdir(c, &tx, path, dmdir, 2);
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	free(vm);
	return r;
}

static int stub_remove(struct xpt_ctx *c, unsigned int stub);

int xpt_stubdom_build(struct xpt_ctx *c, const struct xpt_cfg *cfg,
		      unsigned int guest)
{
	struct xpt_cfg *s;
	char uuid[40];
	unsigned int stub = 0;
	int r;

	if (!c->pf->set_target)		/* dom_create built it */
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%.60s-dm", cfg->name);
	snprintf(s->type, sizeof(s->type), "%s", "pv");
	s->memory_mb = cfg->stubdomain_memory_mb ? cfg->stubdomain_memory_mb :
		       STUBDOM_MEMORY_MB;
	s->vcpus = 1;
	xpt_make_uuid(uuid, sizeof(uuid));
	r = c->pf->dom_create(c, s, uuid, false, &stub);
	if (r < 0) {
		r = c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot "
					    "create its stub domain: %s",
					    cfg->name, strerror(-r));
		goto out;
	}
	r = write_chain(c, guest, stub);
	if (r == 0)
		r = c->pf->set_target(c, stub, guest);
	if (r == 0 && !xs_set_target(c->xs, stub, guest))
		r = errno ? -errno : -EIO;
	if (r < 0) {
		r = c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: "
					    "making domain %u its stub domain: "
					    "%s", guest, stub, strerror(-r));
		if (stub_remove(c, stub) < 0)
			xpt_fail_more(c, "(its stub domain %u is left: run "
				      "`xpt destroy %u`)", stub, stub);
	}
out:
	free(s);
	return r;
}

struct readyarg {
	unsigned int guest, stub;
	char path[96];
	char last[32];		/* the state's last value, for the message */
	bool died;
};

static int ready_pred(struct xpt_ctx *c, void *arg)
{
	struct readyarg *a = arg;

	/* The stub domain wrote it, and it goes to the user's terminal in
	 * the error: cut, its control characters shown as '?'.  Only
	 * "running" itself reads as "running" so. */
	xpt_xs_read_text(c, XBT_NULL, a->path, a->last, sizeof(a->last));
	if (!strcmp(a->last, "running"))
		return 1;
	if (c->pf->dom_kernel(c, a->stub) == 0) {
		a->died = true;
		return -ECHILD;
	}
	return 0;
}

int xpt_stubdom_start(struct xpt_ctx *c, unsigned int guest,
		      struct xpt_qmp **ret)
{
	struct readyarg a = { .guest = guest };
	const char *paths[1] = { a.path };
	int stub = xpt_stubdom_of(c, guest), r;
	char err[256], what[96], *st = NULL;

	if (stub < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -ESRCH, "domain %u: its stub "
				"domain is not recorded (image/"
				"device-model-domid and the stub's target "
				"disagree or are missing)", guest);
	a.stub = (unsigned int)stub;
	if (c->pf->set_target) {	/* ours to start; libxl started its */
		r = c->pf->dom_boot(c, a.stub);
		if (r < 0 && c->err[0])
			xpt_fail_more(c, "(domain %d is the stub domain of "
				      "domain %u)", stub, guest);
		if (r < 0)
			return c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r,
						       "domain %u: its stub "
						       "domain %d: boot: %s",
						       guest, stub,
						       strerror(-r));
	}
	snprintf(a.path, sizeof(a.path), "/local/domain/%d/device-model/%u/"
		 "state", stub, guest);
	xpt_delay_point(c, "stubdom.before-ready");
	snprintf(what, sizeof(what), "stub domain %d to start domain %u's "
		 "device model", stub, guest);
	r = xpt_wait(c, what, paths, 1, xpt_wait_ms(c, STUBDOM_START_MS), 200,
		     ready_pred, &a);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its stub "
				"domain %d %s (%s is %s%s%s); see its log "
				"(`xpt guest-status %d`)", guest, stub,
				a.died ? "stopped before its device model was "
				"ready" : "did not start its device model in "
				"time", a.path, a.last[0] ? "\"" : "not there",
				a.last, a.last[0] ? "\"" : "", stub);
	r = xpt_dm_connect(c, guest, ret);
	if (r < 0)
		return r;
	/* a stub domain's device model runs (no -S); its guest's vCPUs
	 * stay paused in the hypervisor until the guest is started */
	r = xpt_qmp_exec(*ret, "query-status", NULL, xpt_wait_ms(c, 5000),
			 &st, err, sizeof(err));
	if (r == 0 && !strstr(st, "\"status\":\"running\""))
		r = -EPROTO;
	if (r < 0) {
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: the device model in "
			 "stub domain %d is not running (QMP query-status: "
			 "%.100s)", guest, stub, st ? st : err[0] ? err :
			 strerror(-r));
		xpt_qmp_close(*ret);
		*ret = NULL;
	}
	free(st);
	return r;
}

/* The stub domain lets go of what its device model did not take.  The
 * forced removal clears the error it meets on the way (it goes on
 * regardless), which must not take the reason of the failure with it. */
static void pv_undo(struct xpt_ctx *c, unsigned int stub,
		    const uint32_t *sbdfs, size_t n)
{
	char saved[sizeof(c->err)];
	int code = c->exit_code;

	memcpy(saved, c->err, sizeof(saved));
	xpt_pci_pv_remove(c, stub, sbdfs, n, true);
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = code;
}

/* QEMU in a stub domain writes the device's config space through pcifront,
 * and pciback lets through only the registers it emulates unless the device
 * is permissive: Xen's stub-domain documentation asks for permissive=1.
 * Without it the device may come up half set up in the guest (no MSI-X, no
 * driver), with nothing failing here; so say it. */
static void permissive_warn(struct xpt_ctx *c, unsigned int guest, int stub,
			    uint32_t sbdf)
{
	char bdf[16];

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	xpt_warn(c, "domain %u: %s has no permissive=1, but its device model "
		 "runs in stub domain %d, whose config-space writes pciback "
		 "filters: the device may not work in the guest; give it as "
		 "\"%s,permissive=1\"", guest, bdf, stub, bdf);
}

int xpt_stubdom_pci_add(struct xpt_ctx *c, unsigned int guest,
			struct xpt_qmp *q, struct xpt_dev *devs, size_t n)
{
	int stub = xpt_stubdom_of(c, guest), r;
	uint32_t *sbdfs;
	size_t i;

	if (stub < 0)
		return xpt_hvm_pci_add(c, guest, q, devs, n);
	sbdfs = calloc(n ? n : 1, sizeof(*sbdfs));
	if (!sbdfs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		sbdfs[i] = devs[i].sbdf;
		if (!devs[i].spec.permissive)
			permissive_warn(c, guest, stub, devs[i].sbdf);
	}
	r = xpt_dev_stub_grant(c, (unsigned int)stub, devs, n);
	if (r == 0) {
		xpt_dev_permissive(c, (unsigned int)stub, devs, n);
		r = xpt_pci_pv_add(c, (unsigned int)stub, devs, n);
		if (r < 0)
			xpt_fail_more(c, "(domain %d is the stub domain of "
				      "domain %u)", stub, guest);
	}
	xpt_delay_point(c, "stubdom.before-device-add");
	if (r == 0) {
		r = xpt_hvm_pci_add(c, guest, q, devs, n);
		if (r < 0)
			pv_undo(c, (unsigned int)stub, sbdfs, n);
	}
	if (r < 0)
		xpt_dev_stub_revoke(c, (unsigned int)stub, sbdfs, n);
	free(sbdfs);
	return r;
}

int xpt_stubdom_pci_remove(struct xpt_ctx *c, unsigned int guest,
			   const uint32_t *sbdfs, size_t n, bool force)
{
	int stub = xpt_stubdom_of(c, guest), r;

	if (stub < 0)
		return 0;
	r = xpt_pci_pv_remove(c, (unsigned int)stub, sbdfs, n, force);
	if (r < 0 && !force) {
		xpt_fail_more(c, "(domain %d is the stub domain of domain %u)",
			      stub, guest);
		return r;
	}
	if (r < 0) {	/* forced: the host side goes on */
		xpt_warn(c, "domain %u: its stub domain %d: %s", guest, stub,
			 c->err);
		c->err[0] = '\0';
		c->exit_code = 0;
	}
	xpt_dev_stub_revoke(c, (unsigned int)stub, sbdfs, n);
	return 0;
}

/* The stub domain and its nodes (its guest's image/device-model-domid
 * goes with the guest's home).  One the hypervisor did not destroy
 * keeps its nodes: its name is how `xpt destroy` finds it again. */
static int stub_remove(struct xpt_ctx *c, unsigned int stub)
{
	int r = c->pf->dom_destroy(c, stub);

	if (r < 0 && r != -ESRCH)
		return r;
	xpt_domain_forget(c, stub);
	return 0;
}

int xpt_stubdom_destroy(struct xpt_ctx *c, unsigned int guest, int *ret_stub)
{
	int stub = -1, r;

	/* a read the store failed is not "no stub domain": that one would
	 * run on with its guest gone, and nothing would find it again
	 * through the guest; asked once more, then said */
	r = stub_lookup(c, guest, &stub);
	if (r < 0)
		r = stub_lookup(c, guest, &stub);
	if (r < 0)
		xpt_warn(c, "domain %u: whether its device model runs in a stub "
			 "domain could not be read: %s; if `xpt list` still "
			 "shows a domain named after it with -dm, destroy that "
			 "one too", guest, strerror(-r));
	*ret_stub = stub;
	if (stub < 0)
		return 0;
	xpt_trace(c, "domain %u: destroying its stub domain %d", guest, stub);
	xpt_pci_pv_remove_all(c, (unsigned int)stub);
	if (!c->pf->set_target)	/* libxl's: its destroy of G takes it */
		return 0;
	return stub_remove(c, (unsigned int)stub);
}
