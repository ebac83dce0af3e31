// SPDX-License-Identifier: MIT
/*
 * PV domains: create (hypervisor domain, paused; xenstore nodes with
 * libxl's permissions; XS_INTRODUCE; cold-plug under the domain lock;
 * unpause and boot the guest kernel only after), destroy (always
 * completes: devices torn down with bounded waits, nodes, markers, guest
 * process, hypervisor domain, XS_RELEASE), pause, unpause, reboot (destroy
 * + create from the persisted configuration: exactly the devices attached
 * at that moment), list, and name resolution.
 *
 * The hypervisor's list is read page by page, whatever the number of
 * domains.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"

#define MAX_DEVS 64

/* Every domain the hypervisor has, in id order; *ret malloc'ed. */
static int dom_list(struct xpt_ctx *c, struct hv_domain_info **ret,
		    size_t *ret_n)
{
	int r = hv_domain_list(c->hv, ret, ret_n);

	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "hypervisor: listing the "
				"domains: %s", strerror(-r));
	return 0;
}

static char *dom_name(struct xpt_ctx *c, unsigned int domid)
{
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	return xpt_xs_read(c, XBT_NULL, path);
}

/* The name a domain goes by: its xenstore name; else "Domain-0" for
 * dom0, else the name given to the hypervisor (a domain whose toolstack
 * has not written xenstore yet).  NULL only when out of memory. */
static char *known_name(struct xpt_ctx *c, const struct hv_domain_info *info)
{
	char *name = dom_name(c, info->domid);

	if (name)
		return name;
	return strndup(info->domid == 0 ? "Domain-0" : info->name,
		       sizeof(info->name) - 1);
}

int xpt_domain_resolve(struct xpt_ctx *c, const char *dom,
		       unsigned int *ret_domid)
{
	struct hv_domain_info info, *list = NULL;
	const char *p;
	char *end, *name;
	unsigned long v;
	size_t i, n = 0;
	int r = xpt_connect(c), found = -1;

	if (r < 0)
		return r;
	for (p = dom; *p && isdigit((unsigned char)*p); p++)
		;
	if (*dom && !*p) {
		errno = 0;
		v = strtoul(dom, &end, 10);
		if (errno || v >= 0x7ff0 ||
		    hv_domain_getinfo(c->hv, (unsigned int)v, &info) < 0)
			return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "domain "
					"%s does not exist (see `xpt list`)",
					dom);
		*ret_domid = (unsigned int)v;
		return 0;
	}
	r = dom_list(c, &list, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		name = known_name(c, &list[i]);
		if (name && !strcmp(name, dom)) {
			if (found >= 0) {
				r = xpt_fail(c, XPT_EXIT_FAIL, -ENOTUNIQ,
					     "domains %d and %u are both named "
					     "'%s': use the domain id", found,
					     list[i].domid, dom);
				free(name);
				goto out;
			}
			found = (int)list[i].domid;
		}
		free(name);
	}
	if (found < 0)
		r = xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "no domain is named "
			     "'%s' (see `xpt list`)", dom);
	else
		*ret_domid = (unsigned int)found;
out:
	free(list);
	return r;
}

static void make_uuid(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 36) {
		snprintf(buf, len, "00000000-0000-4000-8000-%012lx",
			 (unsigned long)getpid() ^ (unsigned long)xpt_now_ms());
		return;
	}
	buf[36] = '\0';
}

/* libxl__domain_make, kept small: the domain's directory owned by dom0
 * and readable by the guest, the guest's writable subdirectories, its
 * /vm/<uuid> and /libxl/<domid>; one transaction. */
static int domain_nodes(struct xpt_ctx *c, unsigned int domid,
			const struct xpt_domcfg *d)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE },
					{ domid, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { domid, XS_PERM_NONE } };
	struct xs_permissions none[1] = { { 0, XS_PERM_NONE } };
	static const char *const rodirs[] = { "device", "control", "memory" };
	static const char *const rwdirs[] = {
		"data", "drivers", "feature", "attr", "error", "control/shutdown",
	};
	char dom[64], vm[96], p[160];
	xs_transaction_t t;
	size_t i;

	snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
	snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);
	for (;;) {
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL)
			return -errno;
		xpt_xs_rm(c, t, dom);
		xs_mkdir(c->xs, t, dom);
		xs_set_permissions(c->xs, t, dom, ro, 2);
		xpt_xs_rm(c, t, vm);
		xs_mkdir(c->xs, t, vm);
		xs_set_permissions(c->xs, t, vm, ro, 2);
		for (i = 0; i < sizeof(rodirs) / sizeof(rodirs[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dom, rodirs[i]);
			xs_mkdir(c->xs, t, p);
			xs_set_permissions(c->xs, t, p, ro, 2);
		}
		for (i = 0; i < sizeof(rwdirs) / sizeof(rwdirs[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dom, rwdirs[i]);
			xs_mkdir(c->xs, t, p);
			xs_set_permissions(c->xs, t, p, rw, 1);
		}
		snprintf(p, sizeof(p), "%s/name", dom);
		xpt_xs_write(c, t, p, "%s", d->cfg.name);
		snprintf(p, sizeof(p), "%s/domid", dom);
		xpt_xs_write(c, t, p, "%u", domid);
		snprintf(p, sizeof(p), "%s/vm", dom);
		xpt_xs_write(c, t, p, "%s", vm);
		snprintf(p, sizeof(p), "%s/memory/target", dom);
		xpt_xs_write(c, t, p, "%llu",
			     (unsigned long long)d->cfg.memory_mb * 1024);
		snprintf(p, sizeof(p), "%s/memory/static-max", dom);
		xpt_xs_write(c, t, p, "%llu",
			     (unsigned long long)d->cfg.memory_mb * 1024);
		snprintf(p, sizeof(p), "%s/name", vm);
		xpt_xs_write(c, t, p, "%s", d->cfg.name);
		snprintf(p, sizeof(p), "%s/uuid", vm);
		xpt_xs_write(c, t, p, "%s", d->uuid);
		snprintf(p, sizeof(p), "/libxl/%u", domid);
		xpt_xs_rm(c, t, p);
		xs_mkdir(c->xs, t, p);
		xs_set_permissions(c->xs, t, p, none, 1);
		snprintf(p, sizeof(p), "/libxl/%u/type", domid);
		xpt_xs_write(c, t, p, "pv");
		if (xs_transaction_end(c->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
}

/* Everything of a domain goes, whatever state it is in.  Caller holds
 * the lock (or the domain is ours alone, during create). */
static void destroy_locked(struct xpt_ctx *c, unsigned int domid)
{
	static struct xpt_domcfg d;
	char saved[sizeof(c->err)], path[160], fe[128], *vm;
	int saved_code = c->exit_code, fes = -1, r;
	bool has_cfg, fe_alive;

	memcpy(saved, c->err, sizeof(saved));
	c->err[0] = '\0';
	has_cfg = xpt_domcfg_load(c, domid, &d) == 0;
	c->err[0] = '\0';
	hv_domain_pause(c->hv, domid);
	xpt_be_paths(domid, NULL, 0, fe, sizeof(fe));
	snprintf(path, sizeof(path), "%s/state", fe);
	if (xpt_xs_read_int(c, XBT_NULL, path, &fes) < 0)
		fes = -1;
	fe_alive = has_cfg && xpt_guest_alive(c, domid, d.guest_pid) &&
		   fes == 4;
	if (has_cfg && fe_alive)
		kill(d.guest_pid, SIGCONT);	/* let it answer */
	xpt_pci_destroy_all(c, domid, fe_alive, has_cfg ? d.guest_pid : -1);
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	vm = xpt_xs_read(c, XBT_NULL, path);
	if (vm && !strncmp(vm, "/vm/", 4))
		xpt_xs_rm(c, XBT_NULL, vm);
	free(vm);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xpt_xs_rm(c, XBT_NULL, path);
	snprintf(path, sizeof(path), "/libxl/%u", domid);
	xpt_xs_rm(c, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/0/error/backend/pci/%u",
		 domid);
	xpt_xs_rm(c, XBT_NULL, path);
	r = hv_domain_destroy(c->hv, domid);
	if (r < 0 && r != -ESRCH)
		xpt_warn(c, "domain %u: hypervisor destroy: %s", domid,
			 strerror(-r));
	xs_release_domain(c->xs, domid);
	xpt_domcfg_remove(c, domid);
	if (xpt_path(c, path, sizeof(path), "xpt/lock/%u", domid) == 0)
		unlink(path);
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = saved_code;
}

static int start_guest_locked(struct xpt_ctx *c, struct xpt_domcfg *d)
{
	int r = hv_domain_unpause(c->hv, d->domid), pid;

	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: unpause: %s",
				d->domid, strerror(-r));
	r = xpt_guest_start(c, d->domid, &pid);
	if (r < 0)
		return r;
	d->started = true;
	d->guest_pid = pid;
	return xpt_domcfg_save(c, d);
}

static bool name_taken(struct xpt_ctx *c, const char *name)
{
	unsigned int domid;
	bool taken = xpt_domain_resolve(c, name, &domid) == 0;

	c->err[0] = '\0';
	c->exit_code = 0;
	return taken;
}

struct connarg { unsigned int domid; int state; };

/*
 * After create: the backend exported the devices and connected to the
 * guest's frontend (4), or failed (5/6).  The guest's own drivers are not
 * waited for: a kernel may load pcifront late, or never (libxl does not
 * wait at all).
 */
static int be_connected(struct xpt_ctx *c, void *arg)
{
	struct connarg *a = arg;
	char path[96];

	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 a->domid);
	if (xpt_xs_read_int(c, XBT_NULL, path, &a->state) < 0)
		return 0;
	if (a->state == 5 || a->state == 6)
		return -EPIPE;
	return a->state == 4;
}

int xpt_domain_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
		      bool paused, unsigned int *ret_domid)
{
	static struct xpt_domcfg d;
	static struct xpt_dev devs[MAX_DEVS];
	size_t ndev = 0, i, n;
	uint32_t flags = 0;
	unsigned int domid;
	int r, lock = -1;
	bool pt;

	r = xpt_connect(c);
	if (r < 0)
		return r;
	if (!cfg->name[0])
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "the configuration "
				"has no name = \"...\"");
	if (cfg->type[0] && strcmp(cfg->type, "pv"))
		return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "%s: type=\"%s\" "
				"is not supported yet: xpt runs PV guests "
				"(type=\"pv\")", cfg->name, cfg->type);
	if (!strcmp(cfg->passthrough, "disabled") && cfg->npci)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%s: passthrough="
				"\"disabled\" but pci=[...] lists %zu device(s)",
				cfg->name, cfg->npci);
	if (name_taken(c, cfg->name))
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "a domain named "
				"'%s' already exists (see `xpt list`)",
				cfg->name);
	memset(&d, 0, sizeof(d));
	d.cfg = *cfg;
	d.cfg.npci = 0;
	d.guest_pid = -1;
	for (i = 0; i < cfg->npci; i++) {
		r = xpt_dev_expand(c, &cfg->pci[i], devs + ndev,
				   MAX_DEVS - ndev, &n);
		if (r < 0)
			return r;
		ndev += n;
	}
	for (i = 0; i < ndev; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (devs[j].sbdf == devs[i].sbdf) {
				char bdf[16];

				xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
				return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL,
						"%s: %s is listed twice in "
						"pci=[...]", cfg->name, bdf);
			}
		d.cfg.pci[d.cfg.npci] = devs[i].spec;
		d.cfg.pci[d.cfg.npci].name[0] = '\0';
		snprintf(d.cfg.pci_text[d.cfg.npci], sizeof(d.cfg.pci_text[0]),
			 "%s", "");
		d.cfg.npci++;
	}
	pt = ndev || !strcmp(cfg->passthrough, "enabled") ||
	     !strcmp(cfg->passthrough, "sync_pt") ||
	     !strcmp(cfg->passthrough, "share_pt");
	if (pt)
		flags |= HV_DOMF_PASSTHROUGH;
	r = hv_domain_create(c->hv, flags, cfg->name,
			     (cfg->memory_mb ? cfg->memory_mb : 128) * 1024,
			     cfg->vcpus ? cfg->vcpus : 1, &domid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: the hypervisor "
				"cannot create the domain: %s", cfg->name,
				strerror(-r));
	d.domid = domid;
	make_uuid(d.uuid, sizeof(d.uuid));
	r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		goto fail;
	r = domain_nodes(c, domid, &d);
	if (r < 0) {
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u (%s): writing its "
			     "xenstore nodes: %s", domid, cfg->name,
			     strerror(-r));
		goto fail;
	}
	if (!xs_introduce_domain(c->xs, domid, 0, 1)) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -errno, "domain %u (%s): "
			     "XS_INTRODUCE: %s", domid, cfg->name,
			     strerror(errno));
		goto fail;
	}
	r = xpt_domcfg_save(c, &d);
	if (r < 0)
		goto fail;
	r = xpt_dev_prepare(c, domid, devs, ndev);
	if (r < 0)
		goto fail;
	r = xpt_pci_coldplug(c, domid, cfg->name, devs, ndev);
	if (r < 0) {
		xpt_dev_release(c, domid, devs, ndev);
		goto fail;
	}
	xpt_dev_permissive(c, domid, devs, ndev);
	if (!paused) {
		r = start_guest_locked(c, &d);
		if (r < 0)
			goto fail;
		if (ndev) {
			struct connarg a = { domid, -1 };
			char be[128], fe[128], err[256];
			const char *paths[2] = { be, fe };

			xpt_be_paths(domid, be, sizeof(be), fe, sizeof(fe));
			r = xpt_wait(c, paths, 2, XPT_WAIT_MS, 0, be_connected,
				     &a);
			if (r == -ETIMEDOUT && a.state != 5 && a.state != 6) {
				/* Not an error: the guest has not connected
				 * its PCI frontend (yet). */
				fprintf(stderr, "xpt: warning: domain %u (%s): "
					"the guest has not connected to its PCI "
					"devices yet (backend state %d); they "
					"appear when its pcifront starts\n",
					domid, cfg->name, a.state);
				r = 0;
			}
			if (r < 0) {
				if (xpt_be_error_node(c, domid, err,
						      sizeof(err)) < 0)
					snprintf(err, sizeof(err), "%s",
						 r == -ETIMEDOUT ? "timed out"
						 : "backend closing");
				r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u "
					     "(%s): the guest did not connect "
					     "to its PCI devices: %s (backend "
					     "state %d); the domain was "
					     "destroyed; see %s/log/", domid,
					     cfg->name, err, a.state,
					     c->rundir);
				goto fail;
			}
		}
	}
	xpt_unlock(lock);
	*ret_domid = domid;
	return 0;
fail:
	destroy_locked(c, domid);
	xpt_unlock(lock);
	return r;
}

int xpt_domain_destroy(struct xpt_ctx *c, unsigned int domid)
{
	struct hv_domain_info info;
	int r, lock = -1;

	r = xpt_connect(c);
	if (r < 0)
		return r;
	if (domid == 0)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "domain 0 cannot "
				"be destroyed");
	r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		return r;
	if (hv_domain_getinfo(c->hv, domid, &info) == -ESRCH) {
		/* leftovers of a half-destroyed domain are still cleaned */
		struct xpt_domcfg *d = malloc(sizeof(*d));
		char path[64];
		bool known;

		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		known = (d && xpt_domcfg_load(c, domid, d) == 0) ||
			xpt_xs_exists(c, XBT_NULL, path);
		free(d);
		c->err[0] = '\0';
		if (!known) {
			xpt_unlock(lock);
			return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "domain "
					"%u does not exist (see `xpt list`)",
					domid);
		}
	}
	destroy_locked(c, domid);
	xpt_unlock(lock);
	return 0;
}

int xpt_domain_pause(struct xpt_ctx *c, unsigned int domid)
{
	static struct xpt_domcfg d;
	int r = xpt_connect(c), lock = -1;

	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		return r;
	r = hv_domain_pause(c->hv, domid);
	if (r < 0) {
		xpt_unlock(lock);
		return xpt_fail(c, r == -ESRCH ? XPT_EXIT_NOTFOUND :
				XPT_EXIT_FAIL, r, "domain %u: pause: %s", domid,
				strerror(-r));
	}
	if (xpt_domcfg_load(c, domid, &d) == 0 &&
	    xpt_guest_alive(c, domid, d.guest_pid))
		kill(d.guest_pid, SIGSTOP);	/* its vcpus stop */
	c->err[0] = '\0';
	xpt_unlock(lock);
	return 0;
}

int xpt_domain_unpause(struct xpt_ctx *c, unsigned int domid)
{
	static struct xpt_domcfg d;
	int r = xpt_connect(c), lock = -1;

	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		return r;
	if (xpt_domcfg_load(c, domid, &d) == 0 && !d.started) {
		r = start_guest_locked(c, &d);	/* first boot */
	} else {
		c->err[0] = '\0';
		r = hv_domain_unpause(c->hv, domid);
		if (r < 0)
			r = xpt_fail(c, r == -ESRCH ? XPT_EXIT_NOTFOUND :
				     XPT_EXIT_FAIL, r, "domain %u: unpause: "
				     "%s", domid, r == -EINVAL ? "it is not "
				     "paused" : strerror(-r));
		else if (d.domid == domid && xpt_guest_alive(c, domid,
							      d.guest_pid))
			kill(d.guest_pid, SIGCONT);
	}
	xpt_unlock(lock);
	return r;
}

int xpt_domain_reboot(struct xpt_ctx *c, unsigned int domid,
		      unsigned int *ret_domid)
{
	static struct xpt_domcfg d;
	struct xpt_cfg *cfg;
	int r = xpt_connect(c), lock = -1;

	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		return r;
	r = xpt_domcfg_load(c, domid, &d);
	if (r < 0) {
		xpt_unlock(lock);
		if (r == -ENOENT)
			return xpt_fail(c, XPT_EXIT_NOTFOUND, r, "domain %u: no "
					"configuration recorded (not created "
					"by xpt, or gone): cannot reboot it",
					domid);
		return r;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		xpt_unlock(lock);
		return -ENOMEM;
	}
	*cfg = d.cfg;
	destroy_locked(c, domid);
	xpt_unlock(lock);
	r = xpt_domain_create(c, cfg, false, ret_domid);
	free(cfg);
	return r;
}

int xpt_domain_list(struct xpt_ctx *c, struct xpt_domain_info **ret,
		    size_t *ret_n)
{
	static const char *const states[] = {
		[HV_DOM_PAUSED] = "paused", [HV_DOM_RUNNING] = "running",
		[HV_DOM_SHUTDOWN] = "shutdown", [HV_DOM_DYING] = "dying",
	};
	struct hv_domain_info *list = NULL;
	struct xpt_domain_info *out = NULL;
	struct xpt_domcfg *d = NULL;
	size_t i, n = 0;
	char *name;
	int r = xpt_connect(c);

	if (r == 0)
		r = dom_list(c, &list, &n);
	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	d = malloc(sizeof(*d));
	if (!out || !d) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "listing %zu domains: "
			     "out of memory", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct xpt_domain_info *o = &out[i];

		o->domid = list[i].domid;
		name = known_name(c, &list[i]);
		snprintf(o->name, sizeof(o->name), "%s", name ? name : "");
		free(name);
		o->guest_pid = -1;
		if (o->domid && xpt_domcfg_load(c, o->domid, d) == 0) {
			o->memory_mb = d->cfg.memory_mb;
			o->vcpus = d->cfg.vcpus ? d->cfg.vcpus : 1;
			o->ndevs = (unsigned int)d->cfg.npci;
			o->guest_pid = d->guest_pid;
			o->guest_alive = xpt_guest_alive(c, o->domid,
							 d->guest_pid);
		}
		c->err[0] = '\0';
		snprintf(o->state, sizeof(o->state), "%s",
			 list[i].state < 4 ? states[list[i].state] : "?");
	}
	*ret = out;
	*ret_n = n;
	out = NULL;
out:
	free(out);
	free(d);
	free(list);
	return r;
}
