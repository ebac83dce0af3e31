// SPDX-License-Identifier: MIT
/*
 * PV PCI passthrough through xenstore (pci-protocol.md §4, corrected as
 * §12 asks).  Under the domain's lock:
 *
 * cold-plug (domain never started): ONE transaction creates both
 *   directories with their permissions and writes every device and
 *   num_devs, so even a pre-5.13 pciback sees all of them.
 * hot-attach: a transaction loop that re-reads everything each try: no
 *   backend -> create it with the devices (no wait: nothing to wait for);
 *   backend not Connected -> abort, wait (bounded, watch-driven), retry;
 *   else append at N = num_devs (past any stray entry) with state=7.
 *   Then wait for Connected with the devices exported, failing early on
 *   Closing/Closed or a backend error node, whose text is reported.
 * detach: state-N=5 + state=7 in one transaction, wait for Connected,
 *   then remove and compact in one transaction (the last device removes
 *   both directories); then the host side (dev.c) and the markers.
 *   With -f, or a dead frontend, the waits are short or skipped and the
 *   teardown always completes.
 *
 * Example, attach 0000:04:00.0 to domain 3 with 03:02.0 and 03:02.1:
 *   T{ read num_devs=2, state=4; dev-2 key-2 opts-2 state-2=1
 *      num_devs=3 state=7 }   -> pcifront 7, pciback exports, 8, 4
 *   wait: state=4 and state-2=3
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

#define MAX_FN 8
#define MAX_TRIES 64

struct waitarg {
	unsigned int domid;
	const uint32_t *sbdfs;	/* devices that must be exported (state-N 3) */
	size_t n;
	int last_state;
};

static int connected_pred(struct xpt_ctx *c, void *arg)
{
	struct waitarg *w = arg;
	struct xpt_be *b = malloc(sizeof(*b));
	char err[256];
	size_t i;
	int r = 0;

	if (!b)
		return -ENOMEM;
	if (xpt_be_read(c, XBT_NULL, w->domid, b) < 0 || !b->exists) {
		free(b);
		w->last_state = -1;
		return -ENOENT;
	}
	w->last_state = b->state;
	if (xpt_be_error_node(c, w->domid, err, sizeof(err)) == 0 &&
	    (b->state == 5 || b->state == 6))
		r = -EPIPE;
	else if (b->state == 5 || b->state == 6)
		r = -EPIPE;
	else if (b->state == 4) {
		r = 1;
		for (i = 0; i < w->n; i++) {
			const struct xpt_be_entry *e = xpt_be_find(b, w->sbdfs[i]);

			if (!e || e->state != 3)
				r = 0;
		}
	}
	free(b);
	return r;
}

/* Wait (bounded, watch-driven) for the backend to be Connected with the
 * given devices exported. */
static int wait_connected(struct xpt_ctx *c, unsigned int domid,
			  const uint32_t *sbdfs, size_t n, int timeout_ms,
			  int *ret_state)
{
	char be[128], errdir[96];
	const char *paths[2] = { be, errdir };
	struct waitarg w = { domid, sbdfs, n, -1 };
	int r;

	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	snprintf(errdir, sizeof(errdir), "/local/domain/0/error/backend/pci/%u",
		 domid);
	r = xpt_wait(c, paths, 2, timeout_ms, 0, connected_pred, &w);
	if (ret_state)
		*ret_state = w.last_state;
	return r;
}

static const char *state_name(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring",
		"Reconfigured",
	};

	return s >= 0 && s <= 8 ? names[s] : "missing";
}

/* The failure of a backend wait, in words, with pciback's error node. */
static int wait_failed(struct xpt_ctx *c, unsigned int domid, int r,
		       int state, const char *what, const char *hint)
{
	char err[256];

	if (xpt_be_error_node(c, domid, err, sizeof(err)) == 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: the PCI "
				"backend reports \"%s\" (backend state %d %s)%s",
				domid, what, err, state, state_name(state),
				hint);
	return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: %s (backend "
			"state %d %s)%s", domid, what, r == -ETIMEDOUT ?
			"timed out" : r == -ENOENT ? "the backend vanished" :
			"the backend is closing", state, state_name(state),
			hint);
}

struct domstate {
	bool has_cfg, started, fe_alive;
	struct xpt_domcfg cfg;
};

static void domstate_get(struct xpt_ctx *c, unsigned int domid,
			 struct domstate *s)
{
	struct hv_domain_info info;
	char fe[128], path[160];
	int fes = -1;

	memset(s, 0, sizeof(*s));
	s->has_cfg = xpt_domcfg_load(c, domid, &s->cfg) == 0;
	c->err[0] = '\0';
	if (s->has_cfg)
		s->started = s->cfg.started;
	else	/* a domain of another toolstack: running means started */
		s->started = hv_domain_getinfo(c->hv, domid, &info) == 0 &&
			     info.state == HV_DOM_RUNNING;
	xpt_be_paths(domid, NULL, 0, fe, sizeof(fe));
	snprintf(path, sizeof(path), "%s/state", fe);
	if (xpt_xs_read_int(c, XBT_NULL, path, &fes) < 0)
		fes = -1;
	s->fe_alive = fes >= 1 && fes <= 8 && fes != 5 && fes != 6 &&
		      (!s->has_cfg || xpt_guest_alive(c, domid,
						       s->cfg.guest_pid));
}

static int domain_check(struct xpt_ctx *c, unsigned int domid)
{
	struct hv_domain_info info;
	int r = hv_domain_getinfo(c->hv, domid, &info);

	if (r == -ESRCH)
		return xpt_fail(c, XPT_EXIT_NOTFOUND, r, "domain %u does not "
				"exist (see `xpt list`)", domid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s", domid,
				strerror(-r));
	if (info.state == HV_DOM_DYING)
		return xpt_fail(c, XPT_EXIT_FAIL, -EINVAL, "domain %u is "
				"being destroyed", domid);
	return 0;
}

int xpt_pci_coldplug(struct xpt_ctx *c, unsigned int domid, const char *name,
		     const struct xpt_dev *devs, size_t n)
{
	char be[128], path[160];
	xs_transaction_t t;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	for (;;) {
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL)
			return xpt_fail(c, XPT_EXIT_FAIL, -errno, "xenstore "
					"transaction: %s", strerror(errno));
		xpt_be_create_dirs(c, t, domid, name);
		r = 0;
		for (i = 0; i < n && r == 0; i++)
			r = xpt_be_write_dev(c, t, domid, (int)i, &devs[i]);
		snprintf(path, sizeof(path), "%s/num_devs", be);
		if (r == 0)
			r = xpt_xs_write(c, t, path, "%zu", n);
		xpt_delay_point(c, "coldplug.in-txn");
		if (r < 0) {
			xs_transaction_end(c->xs, t, true);
			return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: "
					"writing the PCI backend: %s", domid,
					strerror(errno));
		}
		if (xs_transaction_end(c->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return xpt_fail(c, XPT_EXIT_FAIL, -errno, "domain %u: "
					"committing the PCI backend: %s", domid,
					strerror(errno));
	}
}

/* The attach transaction loop; every decision from inside the
 * transaction. */
static int attach_xenstore(struct xpt_ctx *c, unsigned int domid,
			   const char *name, const struct xpt_dev *devs,
			   size_t n, bool started, bool *ret_created)
{
	struct xpt_be *b = malloc(sizeof(*b));
	char be[128], path[160], bdf[16];
	xs_transaction_t t;
	int r = 0, tries, base, state;
	size_t i;

	if (!b)
		return -ENOMEM;
	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	for (tries = 0;; tries++) {
		if (tries == MAX_TRIES) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -EAGAIN, "domain %u: "
				     "the PCI backend keeps changing; try "
				     "again", domid);
			break;
		}
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -errno, "xenstore "
				     "transaction: %s", strerror(errno));
			break;
		}
		r = xpt_be_read(c, t, domid, b);
		xpt_delay_point(c, "attach.in-txn");
		if (r < 0) {
			xs_transaction_end(c->xs, t, true);
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading "
				     "the PCI backend: %s", domid, strerror(-r));
			break;
		}
		*ret_created = false;
		if (!b->exists || (b->num_devs < 0 && b->n == 0)) {
			/* first device: both directories, no wait, no 7 */
			xpt_be_create_dirs(c, t, domid, name);
			base = 0;
			*ret_created = true;
		} else if (b->num_devs < 0) {
			xs_transaction_end(c->xs, t, true);
			r = xpt_fail(c, XPT_EXIT_FAIL, -EIO, "domain %u: the "
				     "PCI backend %s is damaged (%s); detach "
				     "its devices with `xpt pci-detach -f` or "
				     "destroy the domain", domid, be,
				     b->nwarn ? b->warn[0] : "no num_devs");
			break;
		} else if (started && b->state != 4) {
			xs_transaction_end(c->xs, t, true);
			r = wait_connected(c, domid, NULL, 0, XPT_WAIT_MS,
					   &state);
			if (r < 0) {
				r = wait_failed(c, domid, r, state, "the PCI "
						"backend is not Connected, so "
						"nothing was attached", "; is "
						"the guest running? (`xpt "
						"guest-status`)");
				break;
			}
			continue;
		} else {
			base = b->num_devs;
			for (i = 0; i < b->n; i++)
				if (b->e[i].index >= base)
					base = b->e[i].index + 1;
			for (i = 0; i < n; i++) {
				if (!xpt_be_find(b, devs[i].sbdf))
					continue;
				xs_transaction_end(c->xs, t, true);
				xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
				r = xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s is "
					     "already in the PCI backend of "
					     "domain %u", bdf, domid);
				goto out;
			}
		}
		r = 0;
		for (i = 0; i < n && r == 0; i++)
			r = xpt_be_write_dev(c, t, domid, base + (int)i,
					     &devs[i]);
		snprintf(path, sizeof(path), "%s/num_devs", be);
		if (r == 0)
			r = xpt_xs_write(c, t, path, "%d", base + (int)n);
		if (r == 0 && !*ret_created && started) {
			snprintf(path, sizeof(path), "%s/state", be);
			r = xpt_xs_write(c, t, path, "7");
		}
		if (r < 0) {
			xs_transaction_end(c->xs, t, true);
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: writing "
				     "the PCI backend failed", domid);
			break;
		}
		if (xs_transaction_end(c->xs, t, false))
			break;
		if (errno != EAGAIN) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -errno, "domain %u: "
				     "commit: %s", domid, strerror(errno));
			break;
		}
	}
out:
	free(b);
	return r;
}

/* Remove the devices' entries, compacting; the last removes both
 * directories. */
static int remove_xenstore(struct xpt_ctx *c, unsigned int domid,
			   const uint32_t *sbdfs, size_t n)
{
	struct xpt_be *b = malloc(sizeof(*b));
	xs_transaction_t t;
	int r = 0;

	if (!b)
		return -ENOMEM;
	for (;;) {
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL) {
			r = -errno;
			break;
		}
		r = xpt_be_read(c, t, domid, b);
		if (r == 0 && b->exists)
			xpt_be_remove_compact(c, t, domid, b, sbdfs, n);
		if (xs_transaction_end(c->xs, t, false))
			break;
		if (errno != EAGAIN) {
			r = -errno;
			break;
		}
	}
	free(b);
	if (r < 0)
		xpt_warn(c, "domain %u: removing PCI backend entries: %s",
			 domid, strerror(-r));
	return r;
}

static void cfg_add(struct xpt_domcfg *d, const struct xpt_dev *devs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < d->cfg.npci; j++)
			if (d->cfg.pci[j].sbdf == devs[i].sbdf)
				break;
		if (j == XPT_CFG_MAX_PCI)
			continue;
		d->cfg.pci[j] = devs[i].spec;
		d->cfg.pci[j].name[0] = '\0';	/* resolved to the BDF */
		if (j == d->cfg.npci)
			d->cfg.npci++;
	}
}

static void cfg_del(struct xpt_domcfg *d, const uint32_t *sbdfs, size_t n)
{
	size_t i, j, k = 0;

	for (j = 0; j < d->cfg.npci; j++) {
		bool gone = false;

		for (i = 0; i < n; i++)
			gone |= d->cfg.pci[j].sbdf == sbdfs[i] &&
				d->cfg.pci[j].func_mask != XPT_FUNC_ALL;
		if (!gone)
			d->cfg.pci[k++] = d->cfg.pci[j];
	}
	d->cfg.npci = k;
}

int xpt_pci_attach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec)
{
	struct xpt_dev devs[MAX_FN];
	struct domstate *s = calloc(1, sizeof(*s));
	uint32_t sbdfs[MAX_FN];
	size_t n = 0, i;
	int r, lock = -1, state;
	bool created = false;
	char name[72];

	if (!s)
		return -ENOMEM;
	r = xpt_connect(c);
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_dev_expand(c, spec, devs, MAX_FN, &n);
	if (r < 0)
		goto out;
	domstate_get(c, domid, s);
	{
		char p[64], *v;

		snprintf(p, sizeof(p), "/local/domain/%u/name", domid);
		v = xpt_xs_read(c, XBT_NULL, p);
		snprintf(name, sizeof(name), "%s", v ? v : "");
		free(v);
	}
	for (i = 0; i < n; i++) {
		uint32_t f0 = devs[i].sbdf & ~7u;
		struct xpt_be *b = NULL;
		char bdf[16];
		size_t j;
		bool have0 = false;

		if (!XPT_PCI_FN(devs[i].sbdf) || devs[i].info.pf_sbdf !=
		    UINT32_MAX)
			continue;	/* function 0, or an SR-IOV VF */
		for (j = 0; j < n; j++)
			have0 |= devs[j].sbdf == f0;
		b = have0 ? NULL : malloc(sizeof(*b));
		if (b && xpt_be_read(c, XBT_NULL, domid, b) == 0)
			have0 = xpt_be_find(b, f0) != NULL;
		free(b);
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		if (!have0)
			xpt_warn(c, "%s is function %u of a device whose "
				 "function 0 the guest does not have: a guest "
				 "scans a slot only from function 0, so it "
				 "will not see it (attach BB:DD.*@VSLOT)", bdf,
				 XPT_PCI_FN(devs[i].sbdf));
	}
	r = xpt_dev_prepare(c, domid, devs, n);
	if (r < 0)
		goto out;
	xpt_delay_point(c, "attach.before-txn");
	r = attach_xenstore(c, domid, name, devs, n, s->started, &created);
	if (r < 0) {
		xpt_dev_release(c, domid, devs, n);
		goto out;
	}
	xpt_dev_permissive(c, domid, devs, n);
	for (i = 0; i < n; i++)
		sbdfs[i] = devs[i].sbdf;
	if (s->started) {
		xpt_delay_point(c, "attach.before-wait");
		r = wait_connected(c, domid, sbdfs, n, XPT_WAIT_MS, &state);
		if (r < 0) {
			char bdf[16];

			xpt_format_bdf(devs[0].sbdf, bdf, sizeof(bdf));
			wait_failed(c, domid, r, state, "the guest did not "
				    "take the device", "; the attach was "
				    "undone");
			(void)bdf;
			remove_xenstore(c, domid, sbdfs, n);
			xpt_dev_release(c, domid, devs, n);
			goto out;
		}
	}
	if (s->has_cfg) {
		cfg_add(&s->cfg, devs, n);
		r = xpt_domcfg_save(c, &s->cfg);
	} else {
		xpt_warn(c, "domain %u was not created by xpt: its "
			 "configuration is not recorded", domid);
	}
out:
	xpt_unlock(lock);
	free(s);
	return r;
}

/* The functions a detach spec names: BB:DD.* is every function of the
 * slot that the backend or the markers know for this domain. */
static int detach_targets(struct xpt_ctx *c, unsigned int domid,
			  const struct xpt_pci *spec, const struct xpt_be *b,
			  uint32_t *ret, size_t *ret_n)
{
	uint32_t sbdf = spec->sbdf;
	char bdf[16], path[96];
	size_t n = 0;
	int fn, owner;

	if (!spec->has_bdf) {
		int r = xpt_dev_name_to_bdf(c, spec->name, &sbdf);

		if (r < 0)
			return r;
	}
	for (fn = 7; fn >= 0; fn--) {
		uint32_t s = (sbdf & ~7u) | (uint32_t)fn;
		char m[16];

		if (spec->func_mask != XPT_FUNC_ALL && s != sbdf)
			continue;
		xpt_marker_bdf(s, m, sizeof(m));
		snprintf(path, sizeof(path), "/libxl/pci/%s/domid", m);
		if (xpt_xs_read_int(c, XBT_NULL, path, &owner) < 0)
			owner = -1;
		if (xpt_be_find(b, s) || owner == (int)domid)
			ret[n++] = s;
	}
	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	if (n == 0)
		return xpt_fail(c, XPT_EXIT_NOTFOUND, -ENOENT, "%s%s is not "
				"attached to domain %u (see `xpt pci-list %u`)",
				spec->func_mask == XPT_FUNC_ALL ? "no function "
				"of " : "", bdf, domid, domid);
	*ret_n = n;
	return 0;
}

/* state-N=5 (+ state=7 when Connected) for the targets, in one
 * transaction.  Returns 1 if state=7 was written. */
static int detach_mark(struct xpt_ctx *c, unsigned int domid,
		       const uint32_t *sbdfs, size_t n, bool started,
		       bool force, bool fe_alive)
{
	struct xpt_be *b = malloc(sizeof(*b));
	char be[128], path[160];
	xs_transaction_t t;
	int r = 0, tries, state, reconf;
	size_t i;

	if (!b)
		return -ENOMEM;
	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	for (tries = 0;; tries++) {
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL) {
			r = -errno;
			break;
		}
		r = xpt_be_read(c, t, domid, b);
		if (r < 0 || !b->exists) {
			xs_transaction_end(c->xs, t, true);
			r = 0;
			break;
		}
		if (started && b->state != 4 && fe_alive && tries < 4) {
			xs_transaction_end(c->xs, t, true);
			r = wait_connected(c, domid, NULL, 0, force ?
					   XPT_FORCE_WAIT_MS : XPT_WAIT_MS,
					   &state);
			if (r < 0 && !force) {
				r = wait_failed(c, domid, r, state, "cannot "
						"detach", "; force it with `xpt "
						"pci-detach -f`");
				break;
			}
			if (r < 0)
				fe_alive = false;
			continue;
		}
		if (started && b->state != 4 && !force) {
			xs_transaction_end(c->xs, t, true);
			r = wait_failed(c, domid, -EPIPE, b->state, "cannot "
					"detach: the guest's PCI frontend is "
					"not connected", "; force it with "
					"`xpt pci-detach -f`");
			break;
		}
		reconf = started && b->state == 4;
		for (i = 0; i < n; i++) {
			const struct xpt_be_entry *e = xpt_be_find(b, sbdfs[i]);

			if (!e)
				continue;
			snprintf(path, sizeof(path), "%s/state-%d", be, e->index);
			xpt_xs_write(c, t, path, "5");
		}
		if (reconf) {
			snprintf(path, sizeof(path), "%s/state", be);
			xpt_xs_write(c, t, path, "7");
		}
		xpt_delay_point(c, "detach.in-txn");
		if (xs_transaction_end(c->xs, t, false)) {
			r = reconf;
			break;
		}
		if (errno != EAGAIN || tries == MAX_TRIES) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -errno, "domain %u: "
				     "commit: %s", domid, strerror(errno));
			break;
		}
	}
	free(b);
	return r;
}

/* Host side of devices leaving a domain, everything marked as done so
 * that release undoes all of it; tolerant of what is already gone. */
static void teardown(struct xpt_ctx *c, unsigned int domid,
		     const uint32_t *sbdfs, size_t n)
{
	struct xpt_dev devs[XPT_BE_MAX];
	size_t i, m = 0;

	for (i = 0; i < n && m < XPT_BE_MAX; i++) {
		struct xpt_dev *d = &devs[m];

		memset(d, 0, sizeof(*d));
		d->sbdf = sbdfs[i];
		d->pirq_nr = -1;
		if (hv_pci_info(c->hv, d->sbdf, &d->info) < 0)
			continue;	/* not a host device: nothing to undo */
		d->marker = d->perms = d->assigned = true;
		if (d->info.intx_pin &&
		    hv_map_pirq(c->hv, domid, HV_IRQ_INTX, d->sbdf, 0,
				&d->pirq_nr) == 0)
			d->pirq = true;	/* the existing mapping */
		m++;
	}
	xpt_dev_release(c, domid, devs, m);
}

int xpt_pci_detach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec, bool force)
{
	struct xpt_be *b = malloc(sizeof(*b));
	struct domstate *s = calloc(1, sizeof(*s));
	uint32_t sbdfs[MAX_FN];
	size_t n = 0;
	int r, lock = -1, state;

	if (!b || !s) {
		free(b);
		free(s);
		return -ENOMEM;
	}
	r = xpt_connect(c);
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_be_read(c, XBT_NULL, domid, b);
	if (r == 0)
		r = detach_targets(c, domid, spec, b, sbdfs, &n);
	if (r < 0)
		goto out;
	domstate_get(c, domid, s);
	r = detach_mark(c, domid, sbdfs, n, s->started, force, s->fe_alive);
	if (r < 0)
		goto out;
	if (r == 1 && (s->fe_alive || !force)) {
		r = wait_connected(c, domid, NULL, 0, force ?
				   XPT_FORCE_WAIT_MS : XPT_WAIT_MS, &state);
		if (r < 0 && !force) {
			wait_failed(c, domid, r, state, "the guest did not "
				    "release the device", "; it is marked for "
				    "removal (state-N=5): finish with `xpt "
				    "pci-detach -f`");
			goto out;
		}
	}
	xpt_delay_point(c, "detach.before-compact");
	remove_xenstore(c, domid, sbdfs, n);
	teardown(c, domid, sbdfs, n);
	r = 0;
	if (s->has_cfg) {
		cfg_del(&s->cfg, sbdfs, n);
		r = xpt_domcfg_save(c, &s->cfg);
	}
out:
	xpt_unlock(lock);
	free(b);
	free(s);
	return r;
}

/* Destroy's part (caller holds the lock): ask a live guest to let go
 * (bounded), remove both directories, wait (bounded) for pciback to
 * release, then the host side of every device the domain may hold: in the
 * backend, under a marker, or owned in the IOMMU. */
static int released_pred(struct xpt_ctx *c, void *arg)
{
	unsigned int domid = *(unsigned int *)arg;
	struct xpt_pb_dev pb[128];
	size_t n = 0, i;

	if (xpt_pb_list(c, pb, 128, &n) < 0)
		return -EIO;
	for (i = 0; i < n; i++)
		if (pb[i].domid == (int)domid)
			return 0;
	return 1;
}

int xpt_pci_destroy_all(struct xpt_ctx *c, unsigned int domid, bool fe_alive,
			int guest_pid)
{
	struct xpt_be *b = malloc(sizeof(*b));
	uint32_t *sbdfs = calloc(XPT_BE_MAX, sizeof(*sbdfs));
	char be[128], fe[128], path[128], **ents;
	struct hv_pci_list list;
	unsigned int ne, i;
	size_t n = 0, j;
	xs_transaction_t t;

	if (!b || !sbdfs) {
		free(b);
		free(sbdfs);
		return -ENOMEM;
	}
	xpt_be_paths(domid, be, sizeof(be), fe, sizeof(fe));
	if (xpt_be_read(c, XBT_NULL, domid, b) < 0)
		b->exists = false;
	for (j = 0; j < b->n; j++)
		if (b->e[j].valid && n < XPT_BE_MAX)
			sbdfs[n++] = b->e[j].sbdf;
	if (b->exists && fe_alive && b->state == 4 && n) {
		if (detach_mark(c, domid, sbdfs, n, true, true, true) == 1)
			wait_connected(c, domid, NULL, 0, XPT_FORCE_WAIT_MS,
				       NULL);
	}
	xpt_guest_kill(c, domid, guest_pid);
	/* both directories in one transaction: pciback releases all */
	for (;;) {
		t = xs_transaction_start(c->xs);
		if (t == XBT_NULL)
			break;
		snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u",
			 domid);
		xpt_xs_rm(c, t, path);
		xpt_xs_rm(c, t, fe);
		snprintf(path, sizeof(path), "/libxl/%u/device/pci/0", domid);
		xpt_xs_rm(c, t, path);
		if (xs_transaction_end(c->xs, t, false) || errno != EAGAIN)
			break;
	}
	if (b->exists)
		xpt_wait(c, NULL, 0, XPT_FORCE_WAIT_MS, 10, released_pred,
			 &domid);
	c->err[0] = '\0';
	/* markers and IOMMU ownership catch what the backend lost */
	ents = xs_directory(c->xs, XBT_NULL, "/libxl/pci", &ne);
	for (i = 0; ents && i < ne; i++) {
		unsigned int seg, bus, dev, fn;
		int owner;

		snprintf(path, sizeof(path), "/libxl/pci/%s/domid", ents[i]);
		if (sscanf(ents[i], "%x-%x-%x-%x", &seg, &bus, &dev, &fn) == 4 &&
		    xpt_xs_read_int(c, XBT_NULL, path, &owner) == 0 &&
		    owner == (int)domid && n < XPT_BE_MAX)
			sbdfs[n++] = XPT_PCI_SBDF(seg, bus, dev, fn);
	}
	free(ents);
	if (hv_pci_list(c->hv, &list) == 0) {
		for (i = 0; i < list.count && i < 128; i++) {
			struct hv_pci_dev info;

			if (hv_pci_info(c->hv, list.sbdf[i], &info) == 0 &&
			    info.owner == domid && n < XPT_BE_MAX)
				sbdfs[n++] = list.sbdf[i];
		}
	}
	/* dedup */
	for (j = 0, ne = 0; j < n; j++) {
		size_t k;

		for (k = 0; k < ne && sbdfs[k] != sbdfs[j]; k++)
			;
		if (k == ne)
			sbdfs[ne++] = sbdfs[j];
	}
	xpt_delay_point(c, "destroy.before-deassign");
	teardown(c, domid, sbdfs, ne);
	free(b);
	free(sbdfs);
	return 0;
}

int xpt_pci_list(struct xpt_ctx *c, unsigned int domid, struct xpt_be *ret)
{
	int r = xpt_connect(c);

	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_be_read(c, XBT_NULL, domid, ret);
	if (r < 0 && !c->err[0])
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading its "
				"PCI backend: %s", domid, strerror(-r));
	return r;
}
