// SPDX-License-Identifier: MIT
/*
 * The in-memory host of fakeplatform.h.  Its rules are Xen's where the
 * protocol code depends on them: assign refuses a device another domU
 * owns (-EBUSY), deassign only from its owner, a destroyed domain's
 * devices go to quarantine, a pirq mapping is returned as it is when it
 * exists.  pciback never exports anything here: no backend process runs,
 * so the tests drive domains that have not booted.
 */
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeplatform.h"

struct fake_host fake;

static char rundir[64];
static pid_t xsd_pid = -1;

void fake_reset(void)
{
	unsigned int next = fake.next_domid ? fake.next_domid : 1;
	int i;

	memset(&fake, 0, sizeof(fake));
	fake.next_domid = next;
	for (i = 0; i < FAKE_NDEV; i++) {
		fake.dev[i].sbdf = XPT_PCI_SBDF(0, 3 + i, 0, 0);
		fake.dev[i].owner = 0;
	}
}

struct fake_dev *fake_dev(uint32_t sbdf)
{
	int i;

	for (i = 0; i < FAKE_NDEV; i++)
		if (fake.dev[i].sbdf == sbdf)
			return &fake.dev[i];
	return NULL;
}

/* Where resource bar (0, or the ROM) of a function sits: one MiB each. */
uint64_t fake_bar_addr(uint32_t sbdf, int bar)
{
	return 0xf0000000u + ((uint64_t)XPT_PCI_BUS(sbdf) << 20) +
	       (bar == XPT_BAR_ROM ? 0x80000 : 0);
}

int fake_slot(unsigned int domid)
{
	int i;

	for (i = 0; i < FAKE_NDOM; i++)
		if (fake.dom[i].used && fake.dom[i].domid == domid)
			return i;
	return -1;
}

struct fake_dom *fake_dom(unsigned int domid)
{
	int i = fake_slot(domid);

	return i < 0 ? NULL : &fake.dom[i];
}

bool fake_fault(const char *what, bool xs)
{
	if (fake.quiet)
		return false;
	if (xs)
		fake.xs_calls++;
	else
		fake.pf_calls++;
	if (++fake.calls != fake.fail_at)
		return false;
	fake.failed = true;
	fake.failed_call = what;
	if (getenv("FAKE_BACKTRACE")) {	/* where: addr2line -e TEST */
		void *bt[16];

		fprintf(stderr, "call %u, %s:\n", fake.calls, what);
		backtrace_symbols_fd(bt, backtrace(bt, 16), 2);
	}
	if (fake.at_fault)
		fake.at_fault();
	return true;
}

/* Every op passes here first: the Nth fails. */
#define fault() fake_fault(__func__, false)

static int f_open(struct xpt_ctx *c)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/socket", rundir);
	setenv("XENSTORED_PATH", path, 1);
	return 0;
}

static void f_close(struct xpt_ctx *c)
{
}

static int f_dom_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			const char *uuid, bool passthrough,
			unsigned int *ret_domid)
{
	int i, r;

	if (fault())
		return -EIO;
	for (i = 0; i < FAKE_NDOM && fake.dom[i].used; i++)
		;
	if (i == FAKE_NDOM)
		return -ENOSPC;
	fake.dom[i] = (struct fake_dom){ .used = true,
					 .domid = fake.next_domid++,
					 .state = XPT_DOM_PAUSED };
	snprintf(fake.dom[i].name, sizeof(fake.dom[i].name), "%.63s", cfg->name);
	if (!xs_introduce_domain(c->xs, fake.dom[i].domid, 0, 1)) {
		fake.dom[i].used = false;
		return -EIO;
	}
	r = xpt_domain_nodes(c, fake.dom[i].domid, cfg, uuid);
	if (r < 0) {
		xs_release_domain(c->xs, fake.dom[i].domid);
		fake.dom[i].used = false;
		return r;
	}
	*ret_domid = fake.dom[i].domid;
	return 0;
}

static int f_dom_boot(struct xpt_ctx *c, unsigned int domid)
{
	struct fake_dom *d = fake_dom(domid);

	if (fault())
		return -EIO;
	if (!d)
		return -ESRCH;
	d->state = XPT_DOM_RUNNING;
	d->kernel = true;
	return 0;
}

static int f_dom_set(unsigned int domid, enum xpt_dom_state from,
		     enum xpt_dom_state to)
{
	struct fake_dom *d = fake_dom(domid);

	if (fault())
		return -EIO;
	if (!d)
		return -ESRCH;
	if (d->state != from)
		return -EINVAL;
	d->state = to;
	return 0;
}

static int f_dom_pause(struct xpt_ctx *c, unsigned int domid)
{
	return f_dom_set(domid, XPT_DOM_RUNNING, XPT_DOM_PAUSED);
}

static int f_dom_unpause(struct xpt_ctx *c, unsigned int domid)
{
	int r = f_dom_set(domid, XPT_DOM_PAUSED, XPT_DOM_RUNNING);

	if (r == 0)
		fake.unpauses++;
	return r;
}

/* Xen quarantines a dying domain's devices. */
static int f_dom_destroy(struct xpt_ctx *c, unsigned int domid)
{
	int s = fake_slot(domid), i;

	if (fault())
		return -EIO;
	if (s < 0)
		return -ESRCH;
	for (i = 0; i < FAKE_NDEV; i++) {
		if (fake.dev[i].owner == (int)domid)
			fake.dev[i].owner = (int)XPT_DOMID_IO;
		fake.dev[i].perms[s] = 0;
		fake.dev[i].pirq[s] = false;
	}
	fake.dom[s].used = false;
	return 0;
}

static int dom_fill(unsigned int domid, struct xpt_pdom *ret)
{
	struct fake_dom *d = fake_dom(domid);

	if (domid == 0) {
		*ret = (struct xpt_pdom){ .domid = 0, .state = XPT_DOM_RUNNING,
					  .name = "Domain-0" };
		return 0;
	}
	if (!d)
		return -ESRCH;
	ret->domid = d->domid;
	ret->state = d->state;
	snprintf(ret->name, sizeof(ret->name), "%s", d->name);
	return 0;
}

static int f_dom_info(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_pdom *ret)
{
	return fault() ? -EIO : dom_fill(domid, ret);
}

static int f_dom_list(struct xpt_ctx *c, unsigned int first,
		      struct xpt_pdom *ret, size_t max, size_t *ret_n)
{
	unsigned int id;
	size_t n = 0;

	if (fault())
		return -EIO;
	for (id = first; id < fake.next_domid && n < max; id++) {
		if (id == 0 || fake_dom(id))
			dom_fill(id, &ret[n++]);
	}
	*ret_n = n;
	return 0;
}

static int f_dom_kernel(struct xpt_ctx *c, unsigned int domid)
{
	struct fake_dom *d = fake_dom(domid);

	return d && d->kernel;
}

static void f_dom_kill_kernel(struct xpt_ctx *c, unsigned int domid)
{
	struct fake_dom *d = fake_dom(domid);

	if (d)
		d->kernel = false;
}

/* The model's own spawn: it needs nothing of the hypervisor. */
static int f_dm_spawn(struct xpt_ctx *c, unsigned int domid,
		      const char *binary, const char *qmp_path, int *ret_pid)
{
	if (fault())
		return -EIO;
	return xpt_platform_model.dm_spawn(c, domid, binary, qmp_path,
					   ret_pid);
}

static int f_pci_list(struct xpt_ctx *c, uint32_t *ret, size_t max,
		      size_t *ret_n)
{
	size_t i;

	if (fault())
		return -EIO;
	for (i = 0; i < FAKE_NDEV && i < max; i++)
		ret[i] = fake.dev[i].sbdf;
	*ret_n = i;
	return 0;
}

static int f_pci_info(struct xpt_ctx *c, uint32_t sbdf, struct xpt_pdev *ret)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d)
		return -ENODEV;
	memset(ret, 0, sizeof(*ret));
	ret->sbdf = sbdf;
	ret->vendor = 0x8086;
	ret->device = 0x1533;
	ret->class = 0x020000;
	ret->owner = d->owner;
	ret->intx_pin = 1;
	ret->gsi = 16 + XPT_PCI_BUS(sbdf);
	ret->reset = XPT_RESET_FLR;
	ret->pf_sbdf = UINT32_MAX;
	ret->bar[0].addr = fake_bar_addr(sbdf, 0);
	ret->bar[0].size = 0x20000;
	ret->bar[XPT_BAR_ROM].addr = fake_bar_addr(sbdf, XPT_BAR_ROM);
	ret->bar[XPT_BAR_ROM].size = 0x10000;
	return 0;
}

static int f_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		     size_t *ret_n)
{
	size_t i, n = 0;

	if (fault())
		return -EIO;
	for (i = 0; i < FAKE_NDEV && n < max; i++)
		if (fake.dev[i].bound)
			ret[n++] = (struct xpt_pb_dev){ fake.dev[i].sbdf, -1 };
	*ret_n = n;
	return 0;
}

static int f_pb_seize(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d)
		return -ENODEV;
	if (d->bound)
		return -EEXIST;
	d->bound = true;
	return 0;
}

static int f_pb_release(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			char *msg, size_t len)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d || !d->bound)
		return -ENODEV;
	d->bound = false;
	return 0;
}

static int f_pb_ok(struct xpt_ctx *c, uint32_t sbdf, char *msg, size_t len)
{
	if (fault()) {
		snprintf(msg, len, "injected fault");
		return -EIO;
	}
	return fake_dev(sbdf) ? 0 : -ENODEV;
}

static int f_test_assign(struct xpt_ctx *c, uint32_t sbdf)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d)
		return -ENODEV;
	return d->owner == 0 || d->owner == (int)XPT_DOMID_IO ? 0 : -EBUSY;
}

static int f_assign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d)
		return -ENODEV;
	if (domid != XPT_DOMID_IO && !fake_dom(domid))
		return -ESRCH;
	if (d->owner != 0 && d->owner != (int)XPT_DOMID_IO)
		return -EBUSY;
	d->owner = (int)domid;
	return 0;
}

static int f_deassign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	struct fake_dev *d = fake_dev(sbdf);

	if (fault())
		return -EIO;
	if (!d)
		return -ENODEV;
	if (d->owner != (int)domid)
		return -EINVAL;
	if (fake_dom(domid) && fake_dom(domid)->state == XPT_DOM_RUNNING)
		fake.ran_deassigned++;
	d->owner = domid == XPT_DOMID_IO ? 0 : (int)XPT_DOMID_IO;
	return 0;
}

static int f_iomem_permission(struct xpt_ctx *c, unsigned int domid,
			      uint64_t first, uint64_t nr, bool allow)
{
	int s = fake_slot(domid), i, b;

	if (fault())
		return -EIO;
	if (s < 0)
		return -ESRCH;
	for (i = 0; i < FAKE_NDEV; i++)
		for (b = 0; b < XPT_NBARS; b += XPT_BAR_ROM)
			if (first == fake_bar_addr(fake.dev[i].sbdf, b) >> 12) {
				fake.dev[i].perms[s] &= (uint8_t)~(1u << b);
				fake.dev[i].perms[s] |= (uint8_t)(allow << b);
			}
	return 0;
}

static int f_ioport_permission(struct xpt_ctx *c, unsigned int domid,
			       uint32_t first, uint32_t nr, bool allow)
{
	return fault() ? -EIO : 0;
}

static int f_irq_permission(struct xpt_ctx *c, unsigned int domid, int pirq,
			    bool allow)
{
	if (fault())
		return -EIO;
	return fake_slot(domid) < 0 ? -ESRCH : 0;
}

/* pirq = 100 + device index, per domain */
static int f_map_pirq(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		      int *ret_pirq)
{
	struct fake_dev *d = fake_dev(sbdf);
	int s = fake_slot(domid);

	if (fault())
		return -EIO;
	if (!d || s < 0)
		return !d ? -ENODEV : -ESRCH;
	d->pirq[s] = true;
	*ret_pirq = 100 + (int)(d - fake.dev);
	return 0;
}

static int f_unmap_pirq(struct xpt_ctx *c, unsigned int domid, int pirq)
{
	int s = fake_slot(domid);

	if (fault())
		return -EIO;
	if (s < 0 || pirq < 100 || pirq >= 100 + FAKE_NDEV)
		return -EINVAL;
	fake.dev[pirq - 100].pirq[s] = false;
	return 0;
}

const struct xpt_platform fake_platform = {
	.name = "fake",
	.open = f_open,
	.close = f_close,
	.dom_create = f_dom_create,
	.dom_boot = f_dom_boot,
	.dom_pause = f_dom_pause,
	.dom_unpause = f_dom_unpause,
	.dom_destroy = f_dom_destroy,
	.dom_info = f_dom_info,
	.dom_list = f_dom_list,
	.dom_kernel = f_dom_kernel,
	.dom_kill_kernel = f_dom_kill_kernel,
	.dm_spawn = f_dm_spawn,
	.pci_list = f_pci_list,
	.pci_info = f_pci_info,
	.pb_list = f_pb_list,
	.pb_seize = f_pb_seize,
	.pb_release = f_pb_release,
	.pb_reset = f_pb_ok,
	.pb_permissive = f_pb_ok,
	.test_assign = f_test_assign,
	.assign = f_assign,
	.deassign = f_deassign,
	.iomem_permission = f_iomem_permission,
	.ioport_permission = f_ioport_permission,
	.irq_permission = f_irq_permission,
	.map_pirq = f_map_pirq,
	.unmap_pirq = f_unmap_pirq,
};

int fake_start_xenstored(const char *xenstored)
{
	char fdarg[16], ready[16];
	int pfd[2];

	snprintf(rundir, sizeof(rundir), "/tmp/xpt-unit-fake.XXXXXX");
	if (!mkdtemp(rundir) || pipe(pfd) < 0)
		return -1;
	xsd_pid = fork();
	if (xsd_pid == 0) {
		/* a test that dies (a sanitizer halting it) takes its store
		 * along, which would otherwise hold the test's output open */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
		close(pfd[0]);
		execl(xenstored, xenstored, "--rundir", rundir, "--ready-fd",
		      fdarg, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], ready, sizeof(ready)) <= 0)
		return -1;
	close(pfd[0]);
	return 0;
}

void fake_stop_xenstored(void)
{
	char cmd[128];

	if (xsd_pid > 0) {
		kill(xsd_pid, SIGTERM);
		waitpid(xsd_pid, NULL, 0);
	}
	xsd_pid = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rundir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", rundir);
}

const char *fake_rundir(void)
{
	return rundir;
}

struct xpt_ctx *fake_ctx(void)
{
	struct xpt_ctx *c;

	if (xpt_ctx_open(rundir, &c) < 0)
		return NULL;
	c->pf = &fake_platform;
	return c;
}
