// SPDX-License-Identifier: MIT
/*
 * PV PCI passthrough through xenstore (docs/protocol.md §4, corrected as
 * docs/protocol.md §12 asks).  Under the domain's lock:
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
 * An HVM guest's devices go through its device model instead (hvm.c,
 * stubdom.c); a PVH guest's reach it through the hypervisor's vPCI
 * (pvh.c), so for it the host side (dev.c) is the whole attach and
 * detach.
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

#include <xen/io/xenbus.h>

#include "libxpt.h"
#include "xenbus-state.h"

#define MAX_FN 8

/* a state the toolstack could not read is reported as -1 */
static const char *state_name(int s)
{
	const char *name = xenbus_state_name(s);

	return name ? name : "missing";
}

static bool be_closed(int state)
{
	return state == XenbusStateClosing || state == XenbusStateClosed;
}

struct waitarg {
	unsigned int domid;
	const uint32_t *sbdfs;	/* devices that must be exported (state-N 3) */
	size_t n;
	bool fe;		/* the frontend must be Connected too */
	int last_state;
	int last_fe;
	int first_state;	/* -2 before the first look */
	int first_fe;
	bool moved;		/* either end changed state meanwhile */
	int64_t next_look;	/* the next look at who is still there */
};

/* A wait for the backend ends early, not at its bound, when the party
 * it waits for is gone: */
#define WAIT_PCIBACK_GONE (-ENOTCONN)	/* pciback does not answer */
#define WAIT_GUEST_GONE (-EOWNERDEAD)	/* the guest kernel is not running */
#define WAIT_LOOK_MS 500

static bool pciback_answers(struct xpt_ctx *c);

static void fe_state_path(unsigned int domid, char *buf, size_t len)
{
	char fe[128];

	xpt_be_paths(domid, NULL, 0, fe, sizeof(fe));
	snprintf(buf, len, "%s/state", fe);
}

/* The guest's frontend state, -1 when it has none. */
static int fe_state(struct xpt_ctx *c, xs_transaction_t t, unsigned int domid)
{
	char path[160];
	int st;

	fe_state_path(domid, path, sizeof(path));
	return xpt_xs_read_int(c, t, path, &st) < 0 ? -1 : st;
}

/* Ready for a reconfiguration (state 7): both ends Connected.  A
 * Reconfiguring backend that reaches a frontend which has not connected
 * yet is answered only by Linux's "missed Connected" handling (6.1 on,
 * and not always there: the lab's 6.12 guest stayed at 3); an older
 * pcifront ignores it and the backend stays at 7 for good. */
static bool ends_connected(const struct xpt_be *b, int fes)
{
	return b->state == XenbusStateConnected &&
	       (fes < 0 || fes == XenbusStateConnected);
}

static int connected_pred(struct xpt_ctx *c, void *arg)
{
	struct waitarg *w = arg;
	struct xpt_be *b;
	char path[96];
	size_t i;
	int r = 0, st = -1;

	/* every WAIT_LOOK_MS from the second on (a wait that ends at
	 * once costs nothing): are pciback and the guest still there? */
	if (xpt_now_ms() >= w->next_look) {
		if (w->next_look && !pciback_answers(c))
			return WAIT_PCIBACK_GONE;
		if (w->next_look && c->pf->dom_kernel(c, w->domid) == 0)
			return WAIT_GUEST_GONE;
		w->next_look = xpt_now_ms() + WAIT_LOOK_MS;
	}
	/* the state alone first: each of pciback's writes wakes the wait,
	 * and only a state that can end it is worth reading the entries */
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 w->domid);
	if (xpt_xs_read_int(c, XBT_NULL, path, &st) < 0)
		st = -1;	/* no backend, or garbage: read below */
	if (w->first_state == -2)
		w->first_state = st;
	w->moved |= st != w->first_state;
	if (st >= 0 && st != XenbusStateConnected && !be_closed(st)) {
		w->last_state = st;
		return 0;
	}
	if (st == XenbusStateConnected && w->fe) {
		w->last_fe = fe_state(c, XBT_NULL, w->domid);
		if (w->first_fe == -2)
			w->first_fe = w->last_fe;
		w->moved |= w->last_fe != w->first_fe;
		if (be_closed(w->last_fe)) {
			w->last_state = st;
			return -EPIPE;
		}
		if (w->last_fe >= 0 && w->last_fe != XenbusStateConnected) {
			w->last_state = st;
			return 0;
		}
	}
	if (st == XenbusStateConnected && !w->n) {
		w->last_state = st;	/* no entry to look at */
		return 1;
	}
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (xpt_be_read_ids(c, XBT_NULL, w->domid, b) < 0 || !b->exists) {
		free(b);
		w->last_state = -1;
		return -ENOENT;
	}
	w->last_state = b->state;
	if (be_closed(b->state)) {
		r = -EPIPE;
	} else if (b->state == XenbusStateConnected) {
		r = 1;
		for (i = 0; i < w->n; i++) {
			const struct xpt_be_entry *e = xpt_be_find(b, w->sbdfs[i]);

			if (!e || e->state != XenbusStateInitialised)
				r = 0;
		}
	}
	free(b);
	return r;
}

/* Wait (bounded, watch-driven) for the backend to be Connected with the
 * given devices exported, and with fe for the frontend to be Connected
 * too (ret_fe: its last state).  base_ms is a default bound, scaled
 * here (xpt_wait_ms). */
static int wait_connected(struct xpt_ctx *c, unsigned int domid,
			  const uint32_t *sbdfs, size_t n, bool fe,
			  int base_ms, int *ret_state, int *ret_fe)
{
	int slow_ms = xpt_scale_ms(c, XPT_SLOW_GUEST_MS);
	char be[128], errdir[96], fep[160], what[160], bdf[16];
	const char *paths[3] = { be, errdir, fep };
	struct waitarg w = { domid, sbdfs, n, fe, -1, -1, -2, -2, false, 0 };
	int r;

	if (n == 1)
		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
	if (n)
		snprintf(what, sizeof(what), "domain %u's PCI backend "
			 "(pciback) to export %s%s", domid, n == 1 ? bdf :
			 "its new devices", fe ? " and the guest to connect" :
			 "");
	else
		snprintf(what, sizeof(what), "domain %u's PCI backend "
			 "(pciback)%s to be Connected", domid,
			 fe ? " and the guest's frontend" : "");

	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	fe_state_path(domid, fep, sizeof(fep));
	snprintf(errdir, sizeof(errdir), "/local/domain/0/error/backend/pci/%u",
		 domid);
	r = xpt_wait(c, what, paths, fe ? 3 : 2, xpt_wait_ms(c, base_ms),
		     WAIT_LOOK_MS, connected_pred, &w);
	/* Work under way that no state change shows: a frontend at
	 * Initialised facing a Connected backend is scanning its roots (a
	 * device probe can take long on a loaded host); a backend at
	 * Reconfigured waits for the guest's rescan, whichever state the
	 * first look found (pciback may have moved from 7 to 8 before it). */
	if ((fe && w.last_state == XenbusStateConnected &&
	     w.last_fe == XenbusStateInitialised) ||
	    w.last_state == XenbusStateReconfigured)
		w.moved = true;
	if (r == -ETIMEDOUT && w.moved && base_ms == XPT_WAIT_MS &&
	    xpt_bound_ms(c, slow_ms) == slow_ms) {
		/* a guest that answers, slowly (Linux 6.12's pcifront
		 * took 3-4 s to rescan under TCG, more under load): more
		 * time; one that never moved fails now */
		xpt_progress_note(c, "domain %u: the guest is slow to take "
				  "the change (backend state %d %s): waiting "
				  "up to %d s more", domid, w.last_state,
				  state_name(w.last_state),
				  xpt_secs(slow_ms));
		snprintf(what, sizeof(what), "domain %u's guest to take the "
			 "change (its PCI backend is at %s)", domid,
			 state_name(w.last_state));
		r = xpt_wait(c, what, paths, fe ? 3 : 2, slow_ms,
			     WAIT_LOOK_MS, connected_pred, &w);
	}
	if (ret_state)
		*ret_state = w.last_state;
	if (ret_fe)
		*ret_fe = w.last_fe;
	return r;
}

struct relarg {
	unsigned int domid;
	const uint32_t *sbdfs;	/* NULL: every device */
	size_t n;
	uint32_t held;		/* one device pciback still exports */
	bool silent;		/* pciback did not answer */
};

/* pciback exports none of the devices (or none at all) to the domain */
static int released_pred(struct xpt_ctx *c, void *arg)
{
	struct relarg *a = arg;
	struct xpt_pb_dev *pb = calloc(XPT_PB_MAX, sizeof(*pb));
	size_t n = 0, i, j;
	int r = 1;

	if (!pb)
		return -ENOMEM;
	if (c->pf->pb_list(c, pb, XPT_PB_MAX, &n) < 0) {
		a->silent = true;
		free(pb);
		return -ETIMEDOUT;
	}
	c->err[0] = '\0';
	for (i = 0; i < n && r; i++) {
		if (pb[i].domid != (int)a->domid)
			continue;
		for (j = 0; a->sbdfs && j < a->n; j++)
			if (a->sbdfs[j] == pb[i].sbdf)
				break;
		if (!a->sbdfs || j < a->n) {
			a->held = pb[i].sbdf;
			r = 0;
		}
	}
	free(pb);
	return r;
}

/* Wait, bounded (base_ms, scaled here), until pciback exports none of
 * sbdfs (all if NULL) to domid.  pciback's view changes on its own
 * xenstore writes (state-N, its state), so the backend is watched, with a
 * periodic re-check for a backend that is already gone. */
static int wait_released(struct xpt_ctx *c, unsigned int domid,
			 const uint32_t *sbdfs, size_t n, int base_ms,
			 struct relarg *ret)
{
	char be[128], what[128], bdf[16];
	const char *paths[1] = { be };

	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	*ret = (struct relarg){ domid, sbdfs, n, 0, false };
	if (sbdfs && n == 1)
		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
	if (sbdfs && n == 1)
		snprintf(what, sizeof(what), "pciback to let go of %s "
			 "(domain %u's)", bdf, domid);
	else
		snprintf(what, sizeof(what), "pciback to let go of the "
			 "devices of domain %u", domid);
	return xpt_wait(c, what, paths, 1, xpt_wait_ms(c, base_ms), 20,
			released_pred, ret);
}

/* Is pciback there to blame?  Its control socket answers `list`. */
static bool pciback_answers(struct xpt_ctx *c)
{
	struct xpt_pb_dev *pb = calloc(XPT_PB_MAX, sizeof(*pb));
	size_t n;
	char saved[sizeof(c->err)];
	int code = c->exit_code;
	bool ok;

	if (!pb)
		return false;
	memcpy(saved, c->err, sizeof(saved));
	c->err[0] = '\0';
	ok = c->pf->pb_list(c, pb, XPT_PB_MAX, &n) == 0;
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = code;
	free(pb);
	return ok;
}

/* The failure of a backend wait, in words, with pciback's error node;
 * who did not answer: the guest, or pciback itself. */
static int wait_failed(struct xpt_ctx *c, unsigned int domid, int r,
		       int state, int fe, const char *what, const char *hint)
{
	char err[256];

	if (r == -ETIMEDOUT && state == XenbusStateConnected && fe >= 0 &&
	    fe != XenbusStateConnected)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: the "
				"guest's PCI frontend did not connect (frontend "
				"state %d %s, backend Connected); a backend "
				"reconfigured before that is lost on a guest "
				"without Linux 6.1's missed-Connected handling%s",
				domid, what, fe, state_name(fe), hint);

	if (r == -EPIPE && be_closed(fe = fe_state(c, XBT_NULL, domid)))
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: the "
				"guest's PCI frontend is closing (frontend state "
				"%d %s, backend %d %s): is the guest shutting down "
				"or unloading pcifront?%s", domid, what, fe,
				state_name(fe), state, state_name(state), hint);
	if (xpt_be_error_node(c, domid, err, sizeof(err)) == 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: the PCI "
				"backend reports \"%s\" (backend state %d %s)%s",
				domid, what, err, state, state_name(state),
				hint);
	if (r == WAIT_GUEST_GONE)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: its guest "
				"kernel is not running (it died or was killed; "
				"backend state %d %s): `xpt list` shows it "
				"crashed, `xpt destroy %u` cleans up%s", domid,
				what, state, state_name(state), domid, hint);
	if ((r == -ETIMEDOUT || r == WAIT_PCIBACK_GONE) && !pciback_answers(c))
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: "
				"xpt-pciback does not answer (backend state %d "
				"%s); check it with `xpt host status`%s",
				domid, what, state, state_name(state), hint);
	return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s: %s (backend "
			"state %d %s)%s", domid, what, r == -ETIMEDOUT ?
			"the guest did not answer in time" : r == -ENOENT ?
			"the backend vanished" : "the backend is closing",
			state, state_name(state), hint);
}

struct domstate {
	bool has_cfg, started;
	bool kernel;		/* its guest kernel runs */
	bool fe_alive;		/* and its PCI frontend is not closed (or
				 * not there yet: it appears with the backend) */
	struct xpt_domcfg cfg;
	char name[72];
};

static void domstate_get(struct xpt_ctx *c, unsigned int domid,
			 struct domstate *s)
{
	struct xpt_pdom info;
	char path[160], *v;
	int fes;

	memset(s, 0, sizeof(*s));
	s->has_cfg = xpt_domcfg_load(c, domid, &s->cfg) == 0;
	c->err[0] = '\0';
	s->kernel = c->pf->dom_kernel(c, domid) != 0;
	/* a running kernel was started, whatever the record says (a create
	 * cut short between the boot and its record): its backend is
	 * reconfigured, not rebuilt under its pcifront; the record is put
	 * right at its next save */
	if (s->has_cfg)
		s->started = s->cfg.started = s->cfg.started || s->kernel;
	else	/* a domain of another toolstack: running means started */
		s->started = c->pf->dom_info(c, domid, &info) == 0 &&
			     info.state == XPT_DOM_RUNNING;
	fes = fe_state(c, XBT_NULL, domid);
	s->fe_alive = s->kernel && !be_closed(fes) &&
		      (fes == -1 || (fes >= XenbusStateInitialising &&
				     fes <= XenbusStateReconfigured));
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	v = xpt_xs_read(c, XBT_NULL, path);
	snprintf(s->name, sizeof(s->name), "%s", v ? v : "");
	free(v);
}

static int domain_check(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_pdom info;
	int r;

	if (domid == 0)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "domain 0 owns the "
				"host's devices: passthrough is to a guest "
				"domain (see `xpt list`)");
	r = c->pf->dom_info(c, domid, &info);
	if (r == -ESRCH)
		return xpt_fail(c, XPT_EXIT_NOTFOUND, r, "domain %u does not "
				"exist (see `xpt list`)", domid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: the %s host "
				"cannot tell its state: %s", domid,
				c->pf->name, strerror(-r));
	if (info.state == XPT_DOM_DYING)
		return xpt_fail(c, XPT_EXIT_FAIL, -EINVAL, "domain %u is "
				"being destroyed", domid);
	/* its devices are its guest's, given to it by xpt alone */
	return xpt_stubdom_refuse(c, domid, "pass devices to");
}

/* Both directories with the entries, num_devs last, in one transaction:
 * even a pre-5.13 pciback sees every device. */
static int write_backend(struct xpt_ctx *c, unsigned int domid,
			 const char *name, const struct xpt_be_entry *e,
			 size_t n)
{
	struct xpt_txn tx = XPT_TXN_INIT;
	char be[128], path[160];
	size_t i;
	int r;

	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	snprintf(path, sizeof(path), "%s/num_devs", be);
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		xpt_be_create_dirs(c, &tx, domid, name);
		for (i = 0; i < n; i++)
			xpt_be_write_entry(c, &tx, domid, (int)i, &e[i]);
		xpt_txn_write(c, &tx, path, "%zu", n);
		xpt_delay_point(c, "coldplug.in-txn");
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: writing its "
				"PCI backend %s: %s", domid, be, strerror(-r));
	return 0;
}

int xpt_pci_coldplug(struct xpt_ctx *c, unsigned int domid, const char *name,
		     const struct xpt_dev *devs, size_t n)
{
	struct xpt_be_entry *e;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		xpt_be_entry_of(&devs[i], &e[i]);
	r = write_backend(c, domid, name, e, n);
	free(e);
	return r;
}

/* Remove both directories in one transaction: pciback releases every
 * device of the domain (reset) and forgets the backend. */
static int remove_backend(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_txn tx = XPT_TXN_INIT;
	char path[128], fe[128];
	int r;

	xpt_be_paths(domid, NULL, 0, fe, sizeof(fe));
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u",
			 domid);
		xpt_txn_rm(c, &tx, path);
		xpt_txn_rm(c, &tx, fe);
		snprintf(path, sizeof(path), "/libxl/%u/device/pci/0", domid);
		xpt_txn_rm(c, &tx, path);
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	return r;
}

/*
 * A backend no frontend is connected to (the domain never ran, or its
 * kernel died) is rebuilt rather than reconfigured: removed, pciback's
 * release of every device awaited, then written again with the new set
 * in one transaction.  A pciback of any version then exports exactly the
 * set (a pre-5.13 one ignores entries added after it set up, and
 * state-N=5 without a frontend).  On failure the old set is written back.
 */
static int rebuild_backend(struct xpt_ctx *c, unsigned int domid,
			   const char *name, const struct xpt_be *old,
			   const struct xpt_dev *add, size_t nadd,
			   const uint32_t *drop, size_t ndrop)
{
	struct xpt_be_entry *e = calloc(old->n + nadd + 1, sizeof(*e));
	struct relarg rel;
	size_t i, j, n = 0;
	char bdf[16];
	int r;

	if (!e)
		return -ENOMEM;
	for (i = 0; i < old->n; i++) {
		bool gone = false;

		if (!old->e[i].valid)
			continue;
		for (j = 0; j < ndrop; j++)
			gone |= old->e[i].sbdf == drop[j];
		if (!gone)
			e[n++] = old->e[i];
	}
	for (i = 0; i < nadd; i++)
		xpt_be_entry_of(&add[i], &e[n++]);
	r = remove_backend(c, domid);
	if (r < 0) {
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: removing its PCI "
			     "backend: %s", domid, strerror(-r));
		goto out;
	}
	xpt_delay_point(c, "rebuild.removed");
	r = wait_released(c, domid, NULL, 0, XPT_WAIT_MS, &rel);
	if (r < 0) {
		xpt_format_bdf(rel.held, bdf, sizeof(bdf));
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s", domid,
			     rel.silent ? "xpt-pciback does not answer; check "
			     "it with `xpt host status`" : "xpt-pciback did "
			     "not release the devices of the removed "
			     "backend in time");
		goto restore;
	}
	r = n ? write_backend(c, domid, name, e, n) : 0;
	if (r == 0)
		goto out;
restore:
	/* the previous set, so nothing else changes */
	for (i = 0, n = 0; i < old->n; i++)
		if (old->e[i].valid)
			e[n++] = old->e[i];
	if (n && write_backend(c, domid, name, e, n) < 0)
		xpt_fail_more(c, "its PCI backend could not be written back "
			      "either, so the guest will find none of its "
			      "devices: detach them with `xpt pci-detach -f "
			      "%u ...` or destroy the domain", domid);
out:
	free(e);
	return r;
}

/*
 * A rebuild cut short between the removal of the backend and its rewrite
 * leaves devices that the domain holds (marker, IOMMU owner) and its
 * record lists, in no backend: the domain would boot without them while
 * they stay reserved for it.  The next rebuild or cold-plug of the
 * domain's backend (the re-run of the attach or detach, or any other)
 * puts them back.  skip: the devices the operation adds or removes.
 */
static size_t orphans(struct xpt_ctx *c, unsigned int domid,
		      const struct domstate *s, const struct xpt_be *b,
		      const uint32_t *skip, size_t nskip, struct xpt_dev *ret,
		      size_t max)
{
	struct xpt_dev f[MAX_FN];
	struct xpt_hold h;
	size_t j, i, k, m, n = 0;
	char bdf[16];

	for (j = 0; s->has_cfg && j < s->cfg.cfg.npci; j++) {
		if (xpt_dev_expand(c, &s->cfg.cfg.pci[j], f, MAX_FN, &m) < 0) {
			c->err[0] = '\0';	/* gone: not ours to put back */
			c->exit_code = 0;
			continue;
		}
		for (i = 0; i < m && n < max; i++) {
			for (k = 0; k < nskip && skip[k] != f[i].sbdf; k++)
				;
			if (k < nskip || (b->exists && xpt_be_find(b, f[i].sbdf)) ||
			    xpt_hold_survey(c, domid, &f[i].sbdf, 1, &h) < 0 ||
			    h.marker != (int)domid || h.hv != (int)domid ||
			    h.be_domid >= 0)
				continue;
			xpt_format_bdf(f[i].sbdf, bdf, sizeof(bdf));
			xpt_warn(c, "domain %u: %s is held for it but was in "
				 "no backend (a rebuild of its backend was cut "
				 "short): put back", domid, bdf);
			ret[n++] = f[i];
		}
	}
	c->err[0] = '\0';
	return n;
}

/* A domain nobody answers for (never started, or its frontend is gone):
 * its backend written again with add, without drop, and with what a cut
 * short rebuild lost. */
static int rebuild_idle(struct xpt_ctx *c, unsigned int domid,
			const struct domstate *s, struct xpt_be *b,
			const struct xpt_dev *add, size_t nadd,
			const uint32_t *drop, size_t ndrop)
{
	struct xpt_dev *all = calloc(nadd + XPT_CFG_MAX_PCI, sizeof(*all));
	uint32_t *skip = calloc(nadd + ndrop + 1, sizeof(*skip));
	size_t n, i;
	int r = -ENOMEM;

	if (!all || !skip)
		goto out;
	r = xpt_be_read(c, XBT_NULL, domid, b);
	if (r < 0) {
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading its PCI "
			 "backend: %s", domid, strerror(-r));
		goto out;
	}
	for (i = 0; i < nadd; i++)
		skip[i] = add[i].sbdf;
	for (i = 0; i < ndrop; i++)
		skip[nadd + i] = drop[i];
	if (nadd)	/* a detach adds nothing: add is NULL */
		memcpy(all, add, nadd * sizeof(*all));
	n = nadd + orphans(c, domid, s, b, skip, nadd + ndrop, all + nadd,
			   XPT_CFG_MAX_PCI);
	if (b->exists)
		r = rebuild_backend(c, domid, s->name, b, all, n, drop, ndrop);
	else
		r = xpt_pci_coldplug(c, domid, s->name, all, n);
out:
	free(all);
	free(skip);
	return r;
}

/* The attach transaction loop of a running guest; every decision from
 * inside the transaction. */
static int attach_xenstore(struct xpt_ctx *c, unsigned int domid,
			   const char *name, const struct xpt_dev *devs,
			   size_t n)
{
	struct xpt_be *b = malloc(sizeof(*b));
	struct xpt_txn tx = XPT_TXN_INIT;
	char be[128], path[160], bdf[16];
	int r = 0, base, state, fes, waits = 0;
	bool created;
	size_t i;

	if (!b)
		return -ENOMEM;
	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	for (;;) {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		r = xpt_be_read_ids(c, tx.t, domid, b);
		xpt_delay_point(c, "attach.in-txn");
		if (r < 0) {
			xpt_txn_abort(c, &tx);
			break;
		}
		created = false;
		fes = fe_state(c, tx.t, domid);
		if (!b->exists || (b->num_devs < 0 && b->n == 0)) {
			/* first device: both directories, no wait, no 7 */
			xpt_be_create_dirs(c, &tx, domid, name);
			base = 0;
			created = true;
		} else if (b->num_devs < 0) {
			xpt_txn_abort(c, &tx);
			r = xpt_fail(c, XPT_EXIT_FAIL, -EIO, "domain %u: the "
				     "PCI backend %s is damaged (%s); detach "
				     "its devices with `xpt pci-detach -f` or "
				     "destroy the domain", domid, be,
				     b->nwarn ? b->warn[0] : "no num_devs");
			goto out;
		} else if (!ends_connected(b, fes)) {
			xpt_txn_abort(c, &tx);
			if (waits++ == 4) {
				r = -EAGAIN;
				goto fail;
			}
			r = wait_connected(c, domid, NULL, 0, true,
					   XPT_WAIT_MS, &state, &fes);
			if (r < 0) {
				r = wait_failed(c, domid, r, state, fes, "the "
						"PCI backend is not Connected",
						"; is the guest running? (`xpt "
						"guest-status`)");
				goto out;
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
				xpt_txn_abort(c, &tx);
				xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
				r = xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s is "
					     "already in the PCI backend of "
					     "domain %u", bdf, domid);
				goto out;
			}
		}
		for (i = 0; i < n; i++)
			xpt_be_write_dev(c, &tx, domid, base + (int)i, &devs[i]);
		snprintf(path, sizeof(path), "%s/num_devs", be);
		xpt_txn_write(c, &tx, path, "%d", base + (int)n);
		if (!created) {
			snprintf(path, sizeof(path), "%s/state", be);
			xpt_txn_write(c, &tx, path, "%d",
				      XenbusStateReconfiguring);
		}
		r = xpt_txn_end(c, &tx);
		if (r != 1)
			break;
	}
fail:
	if (r < 0)
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: writing the PCI "
			     "backend: %s", domid, r == -EAGAIN ? "it keeps "
			     "changing; try again" : strerror(-r));
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
	struct xpt_txn tx = XPT_TXN_INIT;
	int r;

	if (!b)
		return -ENOMEM;
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		r = xpt_be_read_ids(c, tx.t, domid, b);
		if (r < 0) {
			xpt_txn_abort(c, &tx);
			break;
		}
		if (b->exists)
			xpt_be_remove_compact(c, &tx, domid, b, sbdfs, n);
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	free(b);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: removing PCI "
				"backend entries: %s", domid, strerror(-r));
	return 0;
}

static void cfg_add(struct xpt_domcfg *d, const struct xpt_dev *devs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < d->cfg.npci; j++)
			if (d->cfg.pci[j].has_bdf &&
			    d->cfg.pci[j].sbdf == devs[i].sbdf)
				break;
		if (j == XPT_CFG_MAX_PCI)
			continue;
		d->cfg.pci[j] = devs[i].spec;
		if (devs[i].spec.name[0]) {
			/* kept as name=, as given: a reboot resolves it */
			d->cfg.pci[j].has_bdf = false;
			d->cfg.pci[j].sbdf = 0;
			d->cfg.pci[j].func_mask = 0;
		}
		if (j == d->cfg.npci)
			d->cfg.npci++;
	}
}

static void cfg_del(struct xpt_ctx *c, struct xpt_domcfg *d,
		    const uint32_t *sbdfs, size_t n)
{
	size_t i, j, k = 0;

	for (j = 0; j < d->cfg.npci; j++) {
		const struct xpt_pci *p = &d->cfg.pci[j];
		uint32_t sbdf = p->sbdf;
		bool gone = false;

		if (!p->has_bdf && xpt_dev_name_to_bdf(c, p->name, &sbdf) < 0) {
			c->err[0] = '\0';
			c->exit_code = 0;
		}
		for (i = 0; i < n; i++)
			gone |= sbdf == sbdfs[i] &&
				p->func_mask != XPT_FUNC_ALL;
		if (!gone)
			d->cfg.pci[k++] = d->cfg.pci[j];
	}
	d->cfg.npci = k;
}

static bool cfg_has(struct xpt_ctx *c, const struct xpt_domcfg *d,
		    uint32_t sbdf)
{
	uint32_t s;
	size_t j;

	for (j = 0; j < d->cfg.npci; j++) {
		s = d->cfg.pci[j].sbdf;
		if (!d->cfg.pci[j].has_bdf &&
		    xpt_dev_name_to_bdf(c, d->cfg.pci[j].name, &s) < 0) {
			c->err[0] = '\0';
			continue;
		}
		if (s == sbdf)
			return true;
	}
	return false;
}

/* Save the record, keeping the operation's own error as the message. */
static void record_save(struct xpt_ctx *c, const struct xpt_domcfg *d)
{
	char saved[sizeof(c->err)];
	int code = c->exit_code;

	memcpy(saved, c->err, sizeof(saved));
	if (xpt_domcfg_save(c, d) < 0)
		xpt_warn(c, "domain %u: its configuration could not be "
			 "recorded: %s", d->domid, c->err);
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = code;
}

/* An attach refused as "already attached" (every layer but xpt's own
 * record says so: an attach was cut short before it recorded the
 * device): the record is put right, so that a reboot keeps the device. */
static void record_attached(struct xpt_ctx *c, unsigned int domid,
			    struct xpt_domcfg *d, const struct xpt_dev *devs,
			    size_t n)
{
	struct xpt_hold h;
	char bdf[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (cfg_has(c, d, devs[i].sbdf) ||
		    xpt_hold_survey(c, domid, &devs[i].sbdf, 1, &h) < 0 ||
		    h.be_domid != (int)domid || h.marker != (int)domid ||
		    h.hv != (int)domid)
			continue;
		cfg_add(d, &devs[i], 1);
		record_save(c, d);
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		xpt_warn(c, "domain %u: %s was attached but missing from its "
			 "recorded configuration (an attach was cut short): "
			 "recorded now", domid, bdf);
	}
}

/* An HVM guest's device has no backend entry: that it is attached is its
 * marker and IOMMU owner together with its device model's listing.  Such
 * a device is refused as already attached; without this check it looked
 * like the leftover of an interrupted attach and was released (reset
 * under the guest's driver) and added again. */
static int hvm_attached(struct xpt_ctx *c, unsigned int domid,
			const struct xpt_dev *devs, size_t n)
{
	struct xpt_hold h;
	char bdf[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (xpt_hold_survey(c, domid, &devs[i].sbdf, 1, &h) < 0) {
			c->err[0] = '\0';	/* prepare says what is wrong */
			c->exit_code = 0;
			continue;
		}
		if (h.marker != (int)domid || h.hv != (int)domid ||
		    !xpt_hvm_pci_has(c, domid, devs[i].sbdf))
			continue;
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s is already "
				"attached to domain %u (see `xpt pci-list %u`)",
				bdf, domid, domid);
	}
	return 0;
}

int xpt_pci_attach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec)
{
	struct xpt_dev devs[MAX_FN];
	struct domstate *s = calloc(1, sizeof(*s));
	struct xpt_be *b = malloc(sizeof(*b));
	uint32_t sbdfs[MAX_FN];
	int devlock[MAX_FN];
	size_t n = 0, i;
	int r, lock = -1, state;
	bool hvm = false, pvh = false, pv, slow = false;
	char type[16];

	for (i = 0; i < MAX_FN; i++)
		devlock[i] = -1;
	if (!s || !b) {
		r = -ENOMEM;
		goto out;
	}
	r = xpt_pvh_refuse_attach(c, domid);
	if (r == 0)
		r = xpt_connect(c);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_dev_expand(c, spec, devs, MAX_FN, &n);
	for (i = 0; r == 0 && i < n; i++)
		sbdfs[i] = devs[i].sbdf;
	if (r == 0)
		r = xpt_lock_devices(c, sbdfs, n, devlock);
	if (r < 0)
		goto out;
	xpt_trace(c, "domain %u: attach of %zu functions, locks held", domid,
		  n);
	domstate_get(c, domid, s);
	r = xpt_be_read_ids(c, XBT_NULL, domid, b);	/* in full: rebuild */
	if (r < 0) {
		/* not "no backend": a cold-plug would write over it */
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading its PCI "
			     "backend: %s; nothing was changed, try again",
			     domid, strerror(-r));
		goto out;
	}
	xpt_trace(c, "domain %u: domain and backend read", domid);
	r = xpt_domain_type(c, domid, type, sizeof(type));
	if (r < 0)
		goto out;
	hvm = !strcmp(type, "hvm");
	pvh = !strcmp(type, "pvh");
	pv = !hvm && !pvh;
	if (hvm) {
		r = hvm_attached(c, domid, devs, n);
		if (r < 0)
			goto out;
	}
	if (pvh) {	/* vPCI: function 0 only, said before the hint below */
		char who[32];

		snprintf(who, sizeof(who), "domain %u", domid);
		r = xpt_pvh_check_devs(c, who, devs, n);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		uint32_t f0 = devs[i].sbdf & ~7u;
		char bdf[16];
		size_t j;
		bool have0 = false;

		if (!XPT_PCI_FN(devs[i].sbdf) || devs[i].info.pf_sbdf !=
		    UINT32_MAX)
			continue;	/* function 0, or an SR-IOV VF */
		for (j = 0; j < n; j++)
			have0 |= devs[j].sbdf == f0;
		have0 |= b->exists && xpt_be_find(b, f0) != NULL;
		xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
		if (!have0)
			xpt_warn(c, "%s is function %u of a device whose "
				 "function 0 the guest does not have: a guest "
				 "scans a slot only from function 0, so it "
				 "will not see it (attach BB:DD.*@VSLOT)", bdf,
				 XPT_PCI_FN(devs[i].sbdf));
	}
	if (pv && b->exists && be_closed(b->state)) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -EPIPE, "domain %u: its PCI "
			     "backend is %s, so the guest has no PCI devices; "
			     "detach them with `xpt pci-detach -f` (see `xpt "
			     "pci-list %u`) or reboot the domain", domid,
			     state_name(b->state), domid);
		goto out;
	}
	r = xpt_dev_prepare(c, domid, devs, n);
	if (r == -EEXIST && s->has_cfg)
		record_attached(c, domid, &s->cfg, devs, n);
	if (r < 0)
		goto out;
	xpt_trace(c, "domain %u: host side prepared", domid);
	xpt_delay_point(c, "attach.before-txn");
	if (hvm) {
		struct xpt_qmp *q = NULL;

		r = xpt_dm_connect(c, domid, &q);
		if (r == 0)
			r = xpt_stubdom_pci_add(c, domid, q, devs, n);
		xpt_qmp_close(q);
	} else if (pvh) {
		/* the assign gave the guest's vPCI the devices: its next
		 * scan of bus 0 finds them */
	} else if (s->started && s->fe_alive)
		r = attach_xenstore(c, domid, s->name, devs, n);
	else
		r = rebuild_idle(c, domid, s, b, devs, n, NULL, 0);
	if (r < 0) {
		xpt_dev_undo(c, domid, devs, n, "attach");
		goto out;
	}
	if (pv)
		xpt_dev_permissive(c, domid, devs, n);
	xpt_trace(c, "domain %u: backend written", domid);
	if (pv && s->started && s->fe_alive) {
		xpt_delay_point(c, "attach.before-wait");
		r = wait_connected(c, domid, sbdfs, n, false, XPT_WAIT_MS,
				   &state, NULL);
		if (r == -ETIMEDOUT && state == XenbusStateReconfigured) {
			/* pciback exported it and the guest may be probing
			 * it: taking it away now pulls the device from under
			 * the guest's driver (a Linux guest oopsed so in the
			 * lab, writing to a BAR no longer granted).  It stays
			 * attached on every layer; the guest may still take
			 * it, pci-detach takes it back. */
			slow = true;
			r = 0;
		} else if (r < 0) {
			wait_failed(c, domid, r, state, -1, "the guest did not "
				    "take the device", "");
			remove_xenstore(c, domid, sbdfs, n);
			xpt_dev_undo(c, domid, devs, n, "attach");
			goto out;
		}
	} else if (pv && s->started && !s->kernel) {
		xpt_warn(c, "domain %u: its guest kernel is not running: the "
			 "devices appear when it boots", domid);
	}
	xpt_delay_point(c, "attach.before-save");
	if (s->has_cfg) {
		cfg_add(&s->cfg, devs, n);
		r = xpt_domcfg_save(c, &s->cfg);
		xpt_trace(c, "domain %u: configuration saved", domid);
	} else {
		xpt_warn(c, "domain %u was not created by xpt: its "
			 "configuration is not recorded", domid);
	}
	if (r == 0 && slow) {
		char bdf[16];

		xpt_format_bdf(devs[0].sbdf, bdf, sizeof(bdf));
		r = xpt_fail(c, XPT_EXIT_FAIL, -ETIMEDOUT, "domain %u: the "
			     "guest has not finished taking %s%s in time "
			     "(pciback exported it; the backend is still at 8 "
			     "Reconfigured): it stays attached, and the guest "
			     "may still take it (`xpt pci-list %u`); `xpt "
			     "pci-detach %u %s` takes it back", domid, bdf,
			     n > 1 ? " and its other functions" : "", domid,
			     domid, bdf);
	}
out:
	xpt_unlock_devices(devlock, n);
	xpt_unlock(lock);
	free(s);
	free(b);
	return r;
}

/* The functions a detach spec names: BB:DD.* is every function of the
 * slot that this domain holds in some layer (backend, marker, pciback,
 * the hypervisor). */
static int detach_targets(struct xpt_ctx *c, unsigned int domid,
			  const struct xpt_pci *spec, uint32_t *ret,
			  bool *ret_held, size_t *ret_n)
{
	struct xpt_hold h[8];
	uint32_t sbdf = spec->sbdf, cand[8];
	size_t n = 0, nc = 0, i;
	char bdf[16];
	int fn, r;

	if (!spec->has_bdf) {
		r = xpt_dev_name_to_bdf(c, spec->name, &sbdf);
		if (r < 0)
			return r;
	}
	for (fn = 7; fn >= 0; fn--) {
		uint32_t s = (sbdf & ~7u) | (uint32_t)fn;

		if (spec->func_mask == XPT_FUNC_ALL || s == sbdf)
			cand[nc++] = s;
	}
	r = xpt_hold_survey(c, domid, cand, nc, h);
	if (r < 0) {	/* pciback silent: the other layers still answer */
		c->err[0] = '\0';
		c->exit_code = 0;
	}
	for (i = 0; i < nc; i++) {
		if (h[i].xs_err) {
			xpt_format_bdf(cand[i], bdf, sizeof(bdf));
			return xpt_fail(c, XPT_EXIT_FAIL, h[i].xs_err, "domain "
					"%u: xenstore cannot show who holds %s: "
					"%s; nothing was changed, try again",
					domid, bdf, strerror(-h[i].xs_err));
		}
		/* held: the domain has it in a layer beyond the backend
		 * entry; an entry alone may be stale (pciback never exported
		 * it, or it names another domain's device) */
		bool held = h[i].hv == (int)domid || h[i].marker == (int)domid ||
			    (r == 0 && h[i].pb_domid == (int)domid);

		if (held || h[i].be_domid == (int)domid) {
			ret_held[n] = held;
			ret[n++] = cand[i];
		}
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

/* state-N=5 (+ state=7) for the targets, in one transaction, once the
 * backend is Connected.  Returns 1 if it was written, 0 if there was
 * nothing to mark. */
static int detach_mark(struct xpt_ctx *c, unsigned int domid,
		       const uint32_t *sbdfs, size_t n, bool force)
{
	struct xpt_be *b = malloc(sizeof(*b));
	struct xpt_txn tx = XPT_TXN_INIT;
	char be[128], path[160];
	int r = 0, waits = 0, state, fes, marked;
	size_t i;

	if (!b)
		return -ENOMEM;
	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	for (;;) {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		r = xpt_be_read_ids(c, tx.t, domid, b);
		if (r < 0 || !b->exists) {
			xpt_txn_abort(c, &tx);
			break;
		}
		fes = fe_state(c, tx.t, domid);
		if (!ends_connected(b, fes)) {
			xpt_txn_abort(c, &tx);
			if (waits++ == 4) {
				r = -EAGAIN;
				break;
			}
			r = wait_connected(c, domid, NULL, 0, true, force ?
					   XPT_FORCE_WAIT_MS : XPT_WAIT_MS,
					   &state, &fes);
			if (r < 0)
				return wait_failed(c, domid, r, state, fes,
						   "cannot detach", force ? "" :
						   "; force it with `xpt "
						   "pci-detach -f`");
			continue;
		}
		marked = 0;
		for (i = 0; i < n; i++) {
			const struct xpt_be_entry *e = xpt_be_find(b, sbdfs[i]);

			if (!e)
				continue;
			snprintf(path, sizeof(path), "%s/state-%d", be,
				 e->index);
			xpt_txn_write(c, &tx, path, "%d", XenbusStateClosing);
			marked++;
		}
		if (!marked) {
			xpt_txn_abort(c, &tx);
			break;
		}
		snprintf(path, sizeof(path), "%s/state", be);
		xpt_txn_write(c, &tx, path, "%d", XenbusStateReconfiguring);
		xpt_delay_point(c, "detach.in-txn");
		r = xpt_txn_end(c, &tx);
		if (r == 0)
			r = 1;
		else if (r == 1)
			continue;
		break;
	}
	free(b);
	if (r < 0 && !c->err[0])
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: marking the "
				"devices for removal: %s", domid,
				strerror(-r));
	return r;
}

/* The PV part of a detach: the guest lets go through Reconfiguring (or
 * the backend is rebuilt without the devices when nobody answers), then
 * pciback releases them.  ours: what the domain holds of sbdfs. */
static int pv_release(struct xpt_ctx *c, unsigned int domid,
		      const struct domstate *s, struct xpt_be *b,
		      const uint32_t *ours, size_t nours,
		      const uint32_t *sbdfs, size_t n, bool force)
{
	struct relarg rel;
	char bdf[16];
	int r = 0, state;

	if (b->exists && s->started && s->fe_alive &&
	    !be_closed(b->state) && nours) {
		/* a connected guest lets go through Reconfiguring */
		r = detach_mark(c, domid, ours, nours, force);
		if (r == 1) {
			r = wait_connected(c, domid, NULL, 0, false, force ?
					   XPT_FORCE_WAIT_MS : XPT_WAIT_MS,
					   &state, NULL);
			if (r < 0 && !force) {
				wait_failed(c, domid, r, state, -1, "the device "
					    "was not released", "; it is "
					    "marked for removal (state-N=5): "
					    "finish with `xpt pci-detach -f`");
				return r;
			}
		}
		if (r < 0 && !force)
			return r;
		c->err[0] = '\0';
		c->exit_code = 0;
		xpt_delay_point(c, "detach.before-compact");
		r = remove_xenstore(c, domid, sbdfs, n);
	} else if (b->exists && s->started && s->fe_alive &&
		   !be_closed(b->state)) {
		r = remove_xenstore(c, domid, sbdfs, n);	/* stale only */
	} else if (b->exists || !s->started || !s->fe_alive) {
		/* nobody on the other end: rebuild without the devices */
		xpt_delay_point(c, "detach.before-compact");
		r = rebuild_idle(c, domid, s, b, NULL, 0, sbdfs, n);
	}
	if (r < 0)
		return r;
	/* 0 only once pciback let go */
	r = wait_released(c, domid, ours, nours, force ? XPT_FORCE_WAIT_MS :
			  XPT_WAIT_MS, &rel);
	if (r < 0 && b->exists && !be_closed(b->state) && force &&
	    !s->fe_alive) {
		/* entries gone but still exported: pciback answers only a
		 * backend rebuild for a dead frontend */
		if (xpt_be_read(c, XBT_NULL, domid, b) == 0 && b->exists &&
		    rebuild_backend(c, domid, s->name, b, NULL, 0, sbdfs,
				    n) == 0)
			r = wait_released(c, domid, ours, nours,
					  XPT_FORCE_WAIT_MS, &rel);
	}
	if (r < 0) {
		uint32_t named = nours ? ours[0] : sbdfs[0];
		bool held = !rel.silent && r == -ETIMEDOUT;
		char why[96];

		/* not pciback's doing when the store failed the wait */
		snprintf(why, sizeof(why), "xenstore failed the wait for "
			 "xpt-pciback to release (%s):", strerror(-r));
		xpt_format_bdf(held ? rel.held : named, bdf, sizeof(bdf));
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: %s %s; it is out "
			     "of the guest's backend but stays reserved for the "
			     "domain: retry `xpt pci-detach -f %u %s`, or "
			     "destroy the domain", domid, rel.silent ?
			     "xpt-pciback does not answer (`xpt host status`), "
			     "so it may still hold" : held ? "xpt-pciback still "
			     "exports" : why, bdf, domid, bdf);
		return r;
	}
	return 0;
}

/*
 * The stub domain of an HVM guest (stubdom.c) takes the guest's devices
 * as a running PV domain does: in its own pciback backend, as a hot-plug
 * also while the guest is created (upstream's 18f93842ac: the stub domain
 * runs by then), waited for until Connected.
 */
int xpt_pci_pv_add(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_dev *devs, size_t n)
{
	struct domstate *s = calloc(1, sizeof(*s));
	uint32_t *sbdfs = calloc(n ? n : 1, sizeof(*sbdfs));
	size_t i;
	int r, state;

	if (!s || !sbdfs) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		sbdfs[i] = devs[i].sbdf;
	domstate_get(c, domid, s);
	if (!s->kernel || !s->fe_alive) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -EPIPE, "domain %u: %s", domid,
			     !s->kernel ? "its kernel is not running" :
			     "its PCI frontend is closed");
		goto out;
	}
	r = attach_xenstore(c, domid, s->name, devs, n);
	if (r < 0)
		goto out;
	xpt_delay_point(c, "stubdom.before-wait");
	r = wait_connected(c, domid, sbdfs, n, false, XPT_WAIT_MS, &state,
			   NULL);
	if (r < 0) {
		wait_failed(c, domid, r, state, -1, "it did not take the "
			    "device", "");
		remove_xenstore(c, domid, sbdfs, n);
	}
out:
	free(s);
	free(sbdfs);
	return r;
}

/* The stub domain lets go of sbdfs as pci-detach has a PV guest let go. */
int xpt_pci_pv_remove(struct xpt_ctx *c, unsigned int domid,
		      const uint32_t *sbdfs, size_t n, bool force)
{
	struct domstate *s = calloc(1, sizeof(*s));
	struct xpt_be *b = malloc(sizeof(*b));
	int r = -ENOMEM;

	if (s && b)
		r = xpt_be_read_ids(c, XBT_NULL, domid, b);
	if (r == 0) {
		domstate_get(c, domid, s);
		r = pv_release(c, domid, s, b, sbdfs, n, sbdfs, n, force);
	} else if (r != -ENOMEM) {
		r = xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading its PCI "
			     "backend: %s", domid, strerror(-r));
	}
	free(s);
	free(b);
	return r;
}

/* Destroy's part for a stub domain: its kernel stops, its backend goes
 * and pciback releases every device (bounded); the host side is its
 * guest's. */
void xpt_pci_pv_remove_all(struct xpt_ctx *c, unsigned int domid)
{
	struct relarg rel;

	c->pf->dom_kill_kernel(c, domid);
	remove_backend(c, domid);
	wait_released(c, domid, NULL, 0, XPT_DESTROY_MS, &rel);
	c->err[0] = '\0';
}

/* A detach refused as "not attached" while xpt's record still lists the
 * device (a detach was cut short before it recorded the removal): the
 * record is put right, so that a reboot does not attach it again. */
static void record_detached(struct xpt_ctx *c, unsigned int domid,
			    const struct xpt_pci *spec)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	char saved[sizeof(c->err)], bdf[16];
	int code = c->exit_code;
	uint32_t sbdf = spec->sbdf;

	memcpy(saved, c->err, sizeof(saved));
	if (d && xpt_domcfg_load(c, domid, d) == 0 && spec->has_bdf &&
	    spec->func_mask != XPT_FUNC_ALL && cfg_has(c, d, sbdf)) {
		cfg_del(c, d, &sbdf, 1);
		record_save(c, d);
		xpt_format_bdf(sbdf, bdf, sizeof(bdf));
		xpt_warn(c, "domain %u: %s was detached but still in its "
			 "recorded configuration (a detach was cut short): "
			 "removed from it now", domid, bdf);
	}
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = code;
	free(d);
}

int xpt_pci_detach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec, bool force)
{
	struct xpt_be *b = malloc(sizeof(*b));
	struct domstate *s = calloc(1, sizeof(*s));
	uint32_t sbdfs[MAX_FN], ours[MAX_FN];
	bool held[MAX_FN];
	char bdf[16], left[512], type[16];
	size_t n = 0, nours = 0, i;
	int r, lock = -1;

	if (!b || !s) {
		r = -ENOMEM;
		goto out;
	}
	r = xpt_connect(c);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0 &&	/* the entries in full only if rebuilt below */
	    (r = xpt_be_read_ids(c, XBT_NULL, domid, b)) < 0)
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: reading its PCI "
			 "backend: %s; nothing was changed, try again", domid,
			 strerror(-r));
	if (r == 0)
		r = detach_targets(c, domid, spec, sbdfs, held, &n);
	if (r == -ENOENT)
		record_detached(c, domid, spec);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (held[i]) {
			ours[nours++] = sbdfs[i];
			continue;
		}
		/* pciback is not asked to let go of what it never gave the
		 * guest: it would fail to find the entry's vdev and close
		 * the whole backend */
		xpt_format_bdf(sbdfs[i], bdf, sizeof(bdf));
		xpt_warn(c, "domain %u: %s is only a stale entry of its PCI "
			 "backend (the domain does not hold it): the entry is "
			 "removed, the device left as it is", domid, bdf);
	}
	domstate_get(c, domid, s);
	r = xpt_domain_type(c, domid, type, sizeof(type));
	if (r < 0)
		goto out;
	if (!strcmp(type, "hvm")) {
		/* through the device model; then the host side below */
		r = xpt_hvm_pci_remove(c, domid, ours, nours, force);
		if (r == 0)	/* then out of its stub domain, if any */
			r = xpt_stubdom_pci_remove(c, domid, ours, nours,
						   force);
		if (r < 0)
			goto out;
		goto teardown;
	}
	if (!strcmp(type, "pvh"))
		goto teardown;	/* the deassign takes it off its vPCI bus */
	r = pv_release(c, domid, s, b, ours, nours, sbdfs, n, force);
	if (r < 0) {
		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
		if (!c->err[0])
			xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: detaching "
				 "%s: its PCI backend: %s; retry `xpt "
				 "pci-detach %u %s`", domid, bdf, strerror(-r),
				 domid, bdf);
		goto out;
	}
	xpt_delay_point(c, "detach.released");
teardown:
	if (xpt_dev_teardown(c, domid, sbdfs, n, left, sizeof(left))) {
		/* the command whole, so that it can be run as it stands */
		xpt_format_bdf(sbdfs[0], bdf, sizeof(bdf));
		r = xpt_fail(c, XPT_EXIT_FAIL, -EIO, "domain %u: detached, but "
			     "not released: %s; these stay reserved for the "
			     "domain: retry `xpt pci-detach -f %u %s`, or "
			     "destroy the domain", domid, left, domid, bdf);
		goto out;
	}
	xpt_delay_point(c, "detach.before-save");
	r = 0;
	if (s->has_cfg) {
		cfg_del(c, &s->cfg, sbdfs, n);
		r = xpt_domcfg_save(c, &s->cfg);
	}
out:
	xpt_unlock(lock);
	free(b);
	free(s);
	return r;
}

/* Destroy's part (caller holds the lock), all of it within one deadline
 * (XPT_DESTROY_MS) whatever the number of devices, the guest paused:
 * remove both directories, wait for pciback to release, then
 * the host side of every device the domain holds: in the backend, under
 * a marker, or owned in the IOMMU.  Returns 0, or -EBUSY with what was
 * left (it stays reserved for the domain; `xpt destroy` again finishes
 * it) in left. */
int xpt_pci_destroy_all(struct xpt_ctx *c, unsigned int domid, char *left,
			size_t leftlen)
{
	struct xpt_be *b = malloc(sizeof(*b));
	uint32_t *sbdfs = calloc(XPT_BE_MAX, sizeof(*sbdfs));
	uint32_t *list = calloc(XPT_PCI_MAX, sizeof(*list));
	struct relarg rel;
	unsigned int ne;
	size_t n = 0, j, nlist = 0, nmarked = 0;
	int64_t saved_deadline = c->deadline;
	const char *miss = NULL;	/* where we could not look */
	int r = -ENOMEM, e, miss_r = 0, pass;

	if (leftlen)
		left[0] = '\0';
	if (!b || !sbdfs || !list)
		goto out;
	c->deadline = xpt_now_ms() + xpt_scale_ms(c, XPT_DESTROY_MS);
	/* A look that failed (the store or the hypervisor answered an
	 * error) is made once more before what it would have seen is
	 * reported left: after a passing error, all of it was released
	 * after all, and the `xpt destroy` we would name finds nothing
	 * and says the domain does not exist (an HVM guest, which has no
	 * backend, at any failed look). */
	for (pass = 0; pass < 2 && (!pass || miss); pass++) {
		miss = NULL;
		if ((e = xpt_be_read_ids(c, XBT_NULL, domid, b)) < 0) {
			b->exists = false;
			miss = "its PCI backend could not be read";
			miss_r = e;
		}
		for (j = 0; j < b->n; j++)
			if (b->e[j].valid && n < XPT_BE_MAX)
				sbdfs[n++] = b->e[j].sbdf;
		if (!pass) {
			c->pf->dom_kill_kernel(c, domid);
			xpt_delay_point(c, "destroy.kernel-killed");
		}
		/* both directories in one transaction: pciback releases
		 * all */
		xpt_trace(c, "domain %u: removing the PCI backend (%zu "
			  "devices)", domid, n);
		if ((e = remove_backend(c, domid)) < 0) {
			miss = "its PCI backend could not be removed";
			miss_r = e;
		}
		if (!pass)
			xpt_delay_point(c, "destroy.backend-removed");
		if (b->exists)
			wait_released(c, domid, NULL, 0, XPT_DESTROY_MS, &rel);
		c->err[0] = '\0';
		/* markers and IOMMU ownership catch what the backend
		 * lost */
		if ((e = xpt_dev_marked(c, domid, sbdfs + n, XPT_BE_MAX - n,
					&nmarked)) == 0) {
			n += nmarked;
		} else {
			miss = "its /libxl/pci markers could not be read";
			miss_r = e;
		}
		if ((e = c->pf->pci_list(c, list, XPT_PCI_MAX, &nlist)) < 0) {
			miss = "the host's PCI devices could not be listed";
			miss_r = e;
			continue;
		}
		for (j = 0; j < nlist; j++) {
			struct xpt_pdev info;

			if (c->pf->pci_info(c, list[j], &info) == 0 &&
			    info.owner == (int)domid && n < XPT_BE_MAX)
				sbdfs[n++] = list[j];
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
	xpt_trace(c, "domain %u: releasing %u devices", domid, ne);
	xpt_delay_point(c, "destroy.before-deassign");
	r = xpt_dev_teardown(c, domid, sbdfs, ne, left, leftlen) ? -EBUSY : 0;
	if (miss) {
		/* some of it may be left where we could not look */
		size_t used = strlen(left);

		snprintf(left + used, leftlen - used, "%s%s (%s)", used ?
			 "; " : "", miss, strerror(-miss_r));
		r = miss_r;
	}
out:
	c->deadline = saved_deadline;
	free(b);
	free(sbdfs);
	free(list);
	return r;
}

int xpt_pci_list(struct xpt_ctx *c, unsigned int domid, struct xpt_be *ret)
{
	char err[256];
	int r = xpt_connect(c);

	if (r == 0)
		r = domain_check(c, domid);
	if (r == 0 && xpt_domain_is_hvm(c, domid))
		return xpt_hvm_pci_list(c, domid, ret);
	if (r == 0 && xpt_domain_is_pvh(c, domid))
		return xpt_pvh_pci_list(c, domid, ret);
	if (r == 0)
		r = xpt_be_read(c, XBT_NULL, domid, ret);
	if (r < 0)
		return c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "domain "
						"%u: reading its PCI backend: "
						"%s", domid, strerror(-r));
	if (ret->exists && be_closed(ret->state) &&
	    ret->nwarn < sizeof(ret->warn) / sizeof(ret->warn[0]))
		snprintf(ret->warn[ret->nwarn++], sizeof(ret->warn[0]),
			 "the PCI backend is %s: the guest has none of these "
			 "devices; detach them with `xpt pci-detach -f` or "
			 "reboot the domain", state_name(ret->state));
	if (ret->exists && xpt_be_error_node(c, domid, err, sizeof(err)) == 0 &&
	    ret->nwarn < sizeof(ret->warn) / sizeof(ret->warn[0]))
		snprintf(ret->warn[ret->nwarn++], sizeof(ret->warn[0]),
			 "pciback reports: %.100s", err);
	return 0;
}
