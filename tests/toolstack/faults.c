// SPDX-License-Identifier: MIT
/*
 * Every call of an HVM guest's operations fails in turn, on the modelled
 * host (issue 14; SQLite's countdown): the sibling of the in-memory
 * countdown of PV and PVH guests (tests/unit/test-pci-faults.c), here
 * where the device model (xpt-dm) is real and asks the real hypervisor.
 * The toolstack is xpt-faulty (faultxpt.c): xpt itself, with every
 * libxenstore call, every platform op and every QMP command to the
 * device model counted, and the XPT_FAULT_NTH-th failing.
 *
 * g0, a PV guest with 03:00.0, runs throughout.  g1 is an HVM guest; the
 * operations: create with 04:00.0 and 05:00.0, pci-attach of 06:00.0,
 * pci-attach of g0's 03:00.0 ("steal": refused, whichever call fails),
 * pci-detach of 04:00.0, reboot, destroy.  For each, a clean run counts
 * its calls; then for N = 1 .. count the host is brought to the
 * operation's "before" state and the operation runs with call N
 * failing.  Then:
 *   - it succeeded: every layer agrees with the "after" state;
 *   - it failed: exit code 1-3 (not a timeout, not a signal), a message
 *     naming the object (g1, its domain id, or a device), and every
 *     layer as before, row for row (layers_get of 03:00.0 .. 06:00.0,
 *     the device model's query-pci, what the guest sees); or it names,
 *     in backquotes, the command that finishes (`xpt destroy 7`), which
 *     is run, and then every layer agrees with the before or the after
 *     state; a reboot may also leave no g1 at all if it said so.
 * "Every layer agrees" with a state: the hypervisor has dom0, g0 and g1
 * (when present) and nothing else, nor has xenstore, pciback or the
 * process table (only_domains); g0's guest kernel is the same process,
 * 03:00.0 is g0's on every layer and interrupts it; each of g1's devices
 * is marked for g1, owned by it in the IOMMU, in no backend, exported to
 * nobody, in its device model's query-pci, seen by its guest and counts
 * an interrupt; each of the others is assignable on every layer; xpt's
 * record of g1 lists exactly g1's devices; with no g1, inv_check holds.
 * A transaction commit is also failed with EAGAIN (XPT_FAULT_EAGAIN),
 * which xpt must retry: the operation then succeeds (steal: is refused).
 *
 * Worked example, detach with its "qmp device_del" call failing: xpt
 * asked the device model to remove 04:00.0 and was answered
 * GenericError; it must give up with 04:00.0 still g1's on every layer
 * (still in query-pci, still marked, still owned, still interrupting
 * g1), say so naming domain 2 or 0000:04:00.0, and g0's 03:00.0 must
 * still interrupt g0.  Had the host side been released already, the
 * message would have to name `xpt pci-detach -f 2 04:00.0`, and after
 * it 04:00.0 must be assignable on every layer.
 *
 * The same for create and destroy of an HVM guest whose device model
 * runs in a stub domain (g1-dm, which gets the devices through its own
 * pciback backend first): there each device is in the stub domain's
 * backend alone, exported to it, and marked for and owned by g1, and
 * the stub domain is one of the domains expected.  Its create's 264
 * calls make it slow: by default every 4th N of that one, all the
 * others' (destroy's every one: a failed destroy of the stub domain,
 * call 29, was found only there).
 *
 * XPT_FAULTS_STRIDE=k (the ASan build's: 5): every k-th N of every
 * operation, from an offset that differs per operation; =1 all of them.  XPT_FAULTS_ONLY=N runs call N alone ("commit": the EAGAIN
 * cases), XPT_FAULTS_VERBOSE=1 prints every case.  Figures: calls per
 * operation by kind, cases and time (README "Faults").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "toolstack.h"

#define ABSENT (-1)
#define HAS_B 1u
#define HAS_C 2u
#define HAS_D 4u
#define OP_MS 40000

/* g1's possible devices: host address, and the ids its guest sees */
static const struct {
	uint32_t sbdf;
	const char *bdf;
	unsigned int vendor, device;
} g1dev[3] = {
	{ DEV_B, "04:00.0", 0x8086, 0x1533 },
	{ DEV_C, "05:00.0", 0x1b36, 0x0010 },
	{ DEV_D, "06:00.0", 0x10ee, 0x9038 },
};

struct fop {
	const char *name;
	int before, after;	/* g1's devices (HAS_*), or ABSENT */
	const char *args[4];	/* of xpt; "CFG" is g1's configuration */
	bool refused;		/* fails at every N */
	bool may_reserve;	/* a failure may leave what it names */
	bool stub;		/* g1's device model runs in a stub domain,
				 * g1-dm, whose backend has g1's devices */
	unsigned int stride;	/* by default every stride-th call (the
				 * stub domain's: a slow build, many calls) */
};

static const struct fop fops[] = {
	{ "create", ABSENT, HAS_B | HAS_C, { "create", "CFG" }, false, false,
	  false, 1 },
	{ "attach", HAS_B | HAS_C, HAS_B | HAS_C | HAS_D,
	  { "pci-attach", "g1", "06:00.0" }, false, false, false, 1 },
	{ "steal", HAS_B | HAS_C, HAS_B | HAS_C,
	  { "pci-attach", "g1", "03:00.0" }, true, false, false, 1 },
	{ "detach", HAS_B | HAS_C, HAS_C, { "pci-detach", "g1", "04:00.0" },
	  false, true, false, 1 },
	{ "reboot", HAS_B | HAS_C, HAS_B | HAS_C, { "reboot", "g1" },
	  false, true, false, 1 },
	{ "destroy", HAS_B | HAS_C, ABSENT, { "destroy", "g1" }, false, true,
	  false, 1 },
	{ "create-stub", ABSENT, HAS_B | HAS_C, { "create", "CFG" }, false,
	  false, true, 4 },
	{ "destroy-stub", HAS_B | HAS_C, ABSENT, { "destroy", "g1" }, false,
	  true, true, 1 },
};
#define NFOPS (sizeof(fops) / sizeof(fops[0]))

struct fst {
	const struct fop *op;
	int state;		/* g1's, as last checked */
	unsigned int g0;
	pid_t g0pid;
	char cfg[256];
	char count[256];	/* XPT_FAULT_COUNT's file */
	char env_nth[32], env_count[300];
};

/* the calls a run made (lines of the count file): how many, of which
 * kind, and the one that failed */
struct calls {
	unsigned int n, xs, pf, qmp, commits;
	char failed[64];	/* "" none */
	bool conflict;		/* the EAGAIN commit was made */
};

static void calls_read(const char *path, struct calls *ret)
{
	char line[128];
	FILE *f = fopen(path, "re");

	memset(ret, 0, sizeof(*ret));
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ret->n++;
		ret->xs += !strncmp(line, "xs ", 3);
		ret->pf += !strncmp(line, "pf ", 3);
		ret->qmp += !strncmp(line, "qmp ", 4);
		if (!strncmp(line, "xs xs_transaction_end", 21) &&
		    !strstr(line, "(abort)"))
			ret->commits++;
		if (strstr(line, " EAGAIN"))
			ret->conflict = true;
		if (strstr(line, " FAILED"))
			snprintf(ret->failed, sizeof(ret->failed), "%.*s",
				 (int)(strlen(line) - 7), line);
	}
	if (f)
		fclose(f);
}

static unsigned int ndevs(int state)
{
	return state == ABSENT ? 0 : (unsigned int)__builtin_popcount(state);
}

static void state_str(int state, char *buf, size_t len)
{
	unsigned int i;
	size_t l;

	if (state == ABSENT) {
		snprintf(buf, len, "no g1");
		return;
	}
	snprintf(buf, len, "g1 with");
	for (i = 0; i < 3; i++)
		if (state & (1 << i)) {
			l = strlen(buf);
			snprintf(buf + l, len - l, " %s", g1dev[i].bdf);
		}
	if (!state)
		snprintf(buf + strlen(buf), len - strlen(buf), " nothing");
}

struct irqwait { unsigned int domid, vendor, device;
		 unsigned long long before; };

static const struct e2e_qdev *qfind_id(const struct e2e_qstatus *s,
				       unsigned int vendor,
				       unsigned int device)
{
	unsigned int i;

	for (i = 0; i < s->n && i < 16; i++)
		if (s->d[i].vendor == vendor && s->d[i].device == device)
			return &s->d[i];
	return NULL;
}

static bool irq_grew(struct env *e, void *arg)
{
	struct irqwait *w = arg;
	const struct e2e_qdev *d;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, w->domid, &s) &&
	     (d = qfind_id(&s, w->vendor, w->device)) && d->count > w->before;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* g1's device i is g1's on every layer of an HVM guest, and its guest
 * (by the device's ids: it cannot know the host address) counts its
 * interrupt */
static bool hvm_dev_owned(struct env *e, unsigned int g1, unsigned int stub,
			  unsigned int i, const char *qpci)
{
	struct irqwait w = { g1, g1dev[i].vendor, g1dev[i].device, 0 };
	const struct e2e_qdev *d;
	struct e2e_qstatus s;
	struct layers l;
	uint32_t type;
	int r, delivered = 0;

	layers_get(e, g1dev[i].sbdf, &l);
	CHECK(e, stub || (!l.nbe && l.pb == -1 && l.marker == (int)g1 &&
	      l.owner == g1), "%s should be HVM dom%u's (marked, owned, in no "
	      "backend, exported to nobody): %s", g1dev[i].bdf, g1,
	      layers_str(&l));
	CHECK(e, !stub || (l.nbe == 1 && l.be_dom[0] == stub &&
	      l.pb == (int)stub && l.marker == (int)g1 && l.owner == g1),
	      "%s should be HVM dom%u's through its stub domain %u (marked "
	      "and owned for dom%u, in the stub's backend alone, exported to "
	      "it): %s", g1dev[i].bdf, g1, stub, g1, layers_str(&l));
	CHECK(e, dm_has(qpci, g1dev[i].sbdf), "%s is not in dom%u's device "
	      "model (query-pci: %.300s)", g1dev[i].bdf, g1, qpci);
	CHECK(e, e2e_guest_status(&e->run, g1, &s) &&
	      (d = qfind_id(&s, w.vendor, w.device)), "HVM dom%u's guest does "
	      "not see %s (%04x:%04x)", g1, g1dev[i].bdf, w.vendor, w.device);
	type = !strcmp(d->irq, "msix") ? HV_IRQ_MSIX :
	       !strcmp(d->irq, "msi") ? HV_IRQ_MSI : HV_IRQ_INTX;
	w.before = d->count;
	r = hv_pci_raise_irq(e->hv, g1dev[i].sbdf, type, 0, &delivered);
	CHECK(e, r == 0 && delivered, "%s raised an interrupt (%s): %s; not "
	      "delivered to HVM dom%u", g1dev[i].bdf, d->irq,
	      r ? strerror(-r) : "ok", g1);
	return wait_until(e, irq_grew, &w, 2000, NULL) ||
	       fail(e, "HVM dom%u did not count the interrupt of %s", g1,
		    g1dev[i].bdf);
}

/* xpt's record of g1 lists exactly its devices (what a reboot builds) */
static bool record_has(struct env *e, unsigned int g1, int state)
{
	unsigned int i;
	int has;

	for (i = 0; i < 3; i++) {
		has = record_lists(e, g1, g1dev[i].bdf);
		if (has < 0)
			return false;
		CHECK(e, has == !!(state & (1 << i)), "g1's record %s %s, "
		      "which g1 %s (%s/xpt/domains/%u.json)",
		      state & (1 << i) ? "lacks" : "lists", g1dev[i].bdf,
		      state & (1 << i) ? "has" : "does not have", e->run.dir,
		      g1);
	}
	return true;
}

/* g1's domid, 0 when there is no g1 (without failing the case) */
static unsigned int g1_domid(struct env *e)
{
	char save[sizeof(e->run.why)];
	unsigned int g1 = 0;

	memcpy(save, e->run.why, sizeof(save));
	if (!dom_by_name(e, "g1", &g1))
		g1 = 0;
	memcpy(e->run.why, save, sizeof(save));
	return g1;
}

/* every layer agrees that g1 is in state */
static bool state_is(struct env *e, struct fst *k, int state)
{
	unsigned int want[3] = { k->g0, 0, 0 }, g1 = g1_domid(e), i, stub = 0;
	char qpci[16384];
	bool present = g1 != 0;
	char s;

	CHECK(e, present == (state != ABSENT), "g1 is %s",
	      present ? "there" : "gone");
	want[1] = g1;
	if (present && k->op->stub) {
		stub = stub_domain_of(e, g1);
		CHECK(e, stub, "g1 (dom%u) has no stub domain", g1);
		want[2] = stub;
	}
	if (!only_domains(e, want, present ? 2 + !!stub : 1))
		return false;
	CHECK(e, guest_pid(e, k->g0) == k->g0pid, "g0's guest kernel changed "
	      "(pid %d, was %d)", (int)guest_pid(e, k->g0), (int)k->g0pid);
	if (!dev_owned(e, k->g0, DEV_A) || !irq_counted(e, k->g0, DEV_A))
		return false;
	for (i = 0; i < 3; i++)
		if ((state == ABSENT || !(state & (1 << i))) &&
		    !dev_free(e, g1dev[i].sbdf))
			return false;
	if (state == ABSENT)
		return inv_check(e, "no g1");
	s = guest_proc_state(e, g1);
	CHECK(e, s && s != 'T' && s != 't', "g1's guest kernel does not run "
	      "(%s)", s ? "stopped" : "no process");
	/* the device model first: a guest that sees too few waits */
	if (!dm_qmp(e, g1, "query-pci", qpci, sizeof(qpci)))
		return false;
	for (i = 0; i < 3; i++) {
		if (!(state & (1 << i))) {
			CHECK(e, !dm_has(qpci, g1dev[i].sbdf), "%s is still in "
			      "dom%u's device model (query-pci: %.300s)",
			      g1dev[i].bdf, g1, qpci);
			continue;
		}
		CHECK(e, dm_has(qpci, g1dev[i].sbdf), "%s is not in dom%u's "
		      "device model (query-pci: %.300s)", g1dev[i].bdf, g1,
		      qpci);
	}
	if (!guest_sees(e, g1, ndevs(state)))
		return false;
	for (i = 0; i < 3; i++)
		if ((state & (1 << i)) && !hvm_dev_owned(e, g1, stub, i,
							 qpci))
			return false;
	return record_has(e, g1, state);
}

static bool quietly_is(struct env *e, struct fst *k, int state)
{
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = state_is(e, k, state);
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* why the layers do not say state, without failing the case */
static const char *why_not(struct env *e, struct fst *k, int state)
{
	static char why[sizeof(e->run.why)];
	char save[sizeof(e->run.why)];

	memcpy(save, e->run.why, sizeof(save));
	e->run.why[0] = '\0';
	if (state_is(e, k, state))
		snprintf(why, sizeof(why), "(it does now)");
	else
		memcpy(why, e->run.why, sizeof(why));
	memcpy(e->run.why, save, sizeof(save));
	return why;
}

/* every row the failure must leave as it found: the layers of each
 * device, the device model's devices, the guest's count */
static void snapshot(struct env *e, char *buf, size_t len)
{
	static const uint32_t all[4] = { DEV_A, DEV_B, DEV_C, DEV_D };
	char save[sizeof(e->run.why)], qpci[16384];
	struct e2e_qstatus s;
	struct layers l;
	unsigned int g1, i;
	size_t used = 0;

	memcpy(save, e->run.why, sizeof(save));
	buf[0] = '\0';
	for (i = 0; i < 4; i++) {
		layers_get(e, all[i], &l);
		used += (size_t)snprintf(buf + used, len - used, "%s; ",
					 layers_str(&l));
		if (used >= len)
			goto out;
	}
	if (!(g1 = g1_domid(e)))
		goto out;
	for (i = 0; i < 3; i++)
		if (dm_qmp(e, g1, "query-pci", qpci, sizeof(qpci)) &&
		    dm_has(qpci, g1dev[i].sbdf))
			used += (size_t)snprintf(buf + used, len - used,
						 "dm has %s; ", g1dev[i].bdf);
	if (used < len && e2e_guest_status(&e->run, g1, &s))
		snprintf(buf + used, len - used, "g1 sees %u", s.n);
out:
	memcpy(e->run.why, save, sizeof(save));
}

static void op_args(const struct fst *k, const char *args[5])
{
	unsigned int i;

	for (i = 0; i < 4 && k->op->args[i]; i++)
		args[i] = strcmp(k->op->args[i], "CFG") ? k->op->args[i] :
			  k->cfg;
	args[i] = NULL;
}

/* from whatever g1 is to state, by plain operations */
static bool reach(struct env *e, struct fst *k, int state)
{
	unsigned int g1, i;
	int rc;

	if (k->state == state)
		return true;
	if (k->state != ABSENT && (state == ABSENT || (k->state & ~state &
	    ~(HAS_B | HAS_C | HAS_D)))) {
		rc = TS(e, OP_MS, "destroy", "g1");
		CHECK(e, rc == 0, "setting up: destroy g1: rc %d: %s", rc,
		      e->out);
		k->state = ABSENT;
	}
	if (k->state == ABSENT && state != ABSENT) {
		rc = TS(e, OP_MS, "create", k->cfg);
		CHECK(e, rc == 0, "setting up: create g1: rc %d: %s", rc,
		      e->out);
		if (!dom_by_name(e, "g1", &g1) || !guest_wait_started(e, g1))
			return false;
		k->state = HAS_B | HAS_C;
	}
	for (i = 0; state != ABSENT && i < 3; i++) {
		unsigned int bit = 1u << i;

		if ((k->state & bit) == (state & bit))
			continue;
		rc = TS(e, OP_MS, state & bit ? "pci-attach" : "pci-detach",
			"g1", g1dev[i].bdf);
		CHECK(e, rc == 0, "setting up: %s g1 %s: rc %d: %s",
		      state & bit ? "pci-attach" : "pci-detach", g1dev[i].bdf,
		      rc, e->out);
		k->state ^= (int)bit;
	}
	return true;
}

/* the failure's text names the object: g1, a domain (the one a create
 * or reboot was building has no name yet), a device, or the party that
 * failed when nothing was started (xenstore, the hypervisor) */
static bool names_object(const char *out)
{
	const char *p;
	unsigned int i;

	if (strstr(out, "g1") || strstr(out, "03:00.0") ||
	    strstr(out, "xenstore") || strstr(out, "hypervisor"))
		return true;
	for (p = out; (p = strstr(p, "domain ")); p++)
		if (p[7] >= '0' && p[7] <= '9')
			return true;
	for (i = 0; i < 3; i++)
		if (strstr(out, g1dev[i].bdf))
			return true;
	return false;
}

/* run the op with call n failing, or (n 0) its commit-th commit
 * failing with EAGAIN; result: for the table */
static bool one_case(struct env *e, struct fst *k, unsigned int n,
		     unsigned int commit, char *result, size_t len)
{
	const struct fop *op = k->op;
	const char *args[5];
	char before[2048], after[2048], cmd[200], want[64];
	struct calls c;
	int rc;

	snprintf(result, len, "-");
	if (!reach(e, k, op->before) || !state_is(e, k, op->before))
		return false;
	snapshot(e, before, sizeof(before));
	op_args(k, args);
	if (n)
		snprintf(k->env_nth, sizeof(k->env_nth), "XPT_FAULT_NTH=%u", n);
	else
		snprintf(k->env_nth, sizeof(k->env_nth), "XPT_FAULT_COMMIT=%u",
			 commit);
	e->extra_env[0] = k->env_nth;
	e->extra_env[1] = k->env_count;
	unlink(k->count);
	rc = ts_run(e, NULL, OP_MS, args);
	memset(e->extra_env, 0, sizeof(e->extra_env));
	calls_read(k->count, &c);
	k->state = -2;		/* unknown until checked */
	if (!n) {
		snprintf(c.failed, sizeof(c.failed), "commit %u with EAGAIN",
			 commit);
		CHECK(e, c.conflict, "xpt %s made no commit %u (it made %u)",
		      op->name, commit, c.commits);
	}
	if (rc == 0) {
		CHECK(e, !op->refused, "call %u (%s) failing: xpt %s %s %s "
		      "succeeded: %s", n, c.failed, args[0], args[1],
		      args[2] ? args[2] : "", e->out);
		snprintf(result, len, "ok%s", c.failed[0] ? "" :
			 " (not reached)");
		k->state = op->after;
		state_str(op->after, want, sizeof(want));
		if (quietly_is(e, k, op->after))
			return true;
		/* done, with a warning of what is left (xenstore nodes a
		 * destroy could not remove) and the command that removes
		 * it */
		CHECK(e, strstr(e->out, "xpt: warning: ") &&
		      named_command(e->out, cmd, sizeof(cmd)), "call %u (%s) "
		      "failing, xpt %s succeeded, but not every layer says %s, "
		      "and it warned of nothing left: %.500s (%s)", n, c.failed,
		      op->name, want, why_not(e, k, op->after), e->out);
		rc = run_named(e, cmd);
		CHECK(e, rc == 0, "call %u (%s) failing: `%s`, as xpt %s warned: "
		      "rc %d: %s; the layers: %s", n, c.failed, cmd, op->name,
		      rc, e->out, why_not(e, k, op->after));
		snprintf(result + strlen(result), len - strlen(result),
			 "; warned `%s`", cmd);
		CHECK(e, quietly_is(e, k, op->after), "call %u (%s) failing, "
		      "xpt %s succeeded and warned, but after `%s` not every "
		      "layer says %s: %.500s", n, c.failed, op->name, cmd, want,
		      why_not(e, k, op->after));
		return true;
	}
	CHECK(e, n || op->refused, "%s (a conflict): xpt %s did not retry: "
	      "rc %d: %s", c.failed, op->name, rc, e->out);
	CHECK(e, rc > 0 && rc < 100, "call %u (%s) failing: xpt %s %s (rc "
	      "%d): %s", n, c.failed, op->name, rc == -1 ? "timed out" :
	      "was killed", rc, e->out);
	CHECK(e, strstr(e->out, "xpt: ") && names_object(e->out),
	      "call %u (%s) failing: xpt %s failed (rc %d) without a message "
	      "naming g1, a domain, a device or the party that failed: "
	      "'%s'", n, c.failed,
	      op->name, rc, e->out);
	CHECK(e, !strstr(e->out, ": ;") && !strstr(e->out, ": |"),
	      "call %u (%s) failing: xpt %s failed with an empty reason: "
	      "'%s'", n, c.failed, op->name, e->out);
	snprintf(result, len, "rc %d: %.100s", rc, e->out);
	if (quietly_is(e, k, op->before)) {
		snapshot(e, after, sizeof(after));
		CHECK(e, !strcmp(before, after), "call %u (%s) failing: xpt %s "
		      "failed and changed a layer: before %s; after %s", n,
		      c.failed, op->name, before, after);
		k->state = op->before;
		return true;
	}
	CHECK(e, op->may_reserve && named_command(e->out, cmd, sizeof(cmd)),
	      "call %u (%s) failing: xpt %s failed (rc %d: %s) and left a "
	      "layer changed without naming the command that finishes: %.400s",
	      n, c.failed, op->name, rc, e->out, why_not(e, k, op->before));
	rc = run_named(e, cmd);
	CHECK(e, rc == 0, "call %u (%s) failing: `%s`, as xpt %s said: rc "
	      "%d: %s; the layers: %s", n, c.failed, cmd, op->name, rc,
	      e->out, why_not(e, k, op->after));
	snprintf(result + strlen(result), len - strlen(result), "; `%s`",
		 cmd);
	if (quietly_is(e, k, op->after))
		k->state = op->after;
	else if (quietly_is(e, k, op->before))
		k->state = op->before;
	else if (!strcmp(op->name, "reboot") && quietly_is(e, k, ABSENT))
		k->state = ABSENT;
	else {
		state_str(op->after, want, sizeof(want));
		return fail(e, "call %u (%s) failing: xpt %s failed, and after "
			    "`%s` as it said not every layer says %s, nor as "
			    "before: %.500s", n, c.failed, op->name, cmd, want,
			    why_not(e, k, op->after));
	}
	return true;
}

struct tally {
	unsigned int cases, failed, calls;
	int64_t ms;
};

static bool env_up(struct env *e, const struct ts *xpt, struct fst *k)
{
	const char *cfg;
	int rc;

	k->state = ABSENT;
	if (!env_start(e, xpt, false))
		return false;
	snprintf(k->count, sizeof(k->count), "%s/fault-calls.log", e->run.dir);
	snprintf(k->env_count, sizeof(k->env_count), "XPT_FAULT_COUNT=%s",
		 k->count);
	if (!assignable(e, DEV_A) || !assignable(e, DEV_B) ||
	    !assignable(e, DEV_C) || !assignable(e, DEV_D))
		return false;
	cfg = cfg_write(e, "g1", "# the HVM guest of the fault sweep\n"
			"name = \"g1\"\ntype = \"hvm\"\nmemory = 128\n"
			"vcpus = 1\npassthrough = \"enabled\"\n%s"
			"pci = [ '04:00.0', '05:00.0' ]\n", k->op->stub ?
			"device_model_stubdomain_override = 1\n" : "");
	CHECK(e, cfg, "cannot write g1's configuration");
	snprintf(k->cfg, sizeof(k->cfg), "%s", cfg);
	cfg = cfg_file(e, "g0", "'03:00.0'");
	CHECK(e, cfg, "cannot write g0.cfg");
	rc = TS(e, OP_MS, "create", cfg);
	CHECK(e, rc == 0, "create g0: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g0", &k->g0) || !guest_wait_started(e, k->g0) ||
	    !wait_guest_devs(e, k->g0, 1, 5000))
		return false;
	k->g0pid = guest_pid(e, k->g0);
	return reach(e, k, k->op->before) && state_is(e, k, k->op->before);
}

/* the clean run: its calls; then every (stride-th) one failing */
static bool run_op(const struct ts *xpt, const struct fop *op,
		   unsigned int stride, unsigned int offset, struct tally *t)
{
	struct fst k = { .op = op };
	struct calls clean;
	struct env e;
	const char *args[5];
	int64_t t0 = e2e_now_ms();
	unsigned int n, commit, cases = 0, bad = 0;
	bool live, ok = true;
	int rc;

	live = env_up(&e, xpt, &k);
	if (live) {
		op_args(&k, args);
		e.extra_env[0] = k.env_count;
		unlink(k.count);
		rc = ts_run(&e, NULL, OP_MS, args);
		e.extra_env[0] = NULL;
		calls_read(k.count, &clean);
		live = (rc == 0) != op->refused ||
		       fail(&e, "xpt %s without a fault: rc %d: %s", op->name,
			    rc, e.out);
		k.state = op->refused ? op->before : op->after;
		live = live && state_is(&e, &k, k.state);
	}
	if (!live) {
		printf("faults %s: the clean run: %s\n", op->name, e.run.why);
		env_stop(&e, true);
		t->failed++;
		return false;
	}
	/* call n failing, for every stride-th n; then each commit with
	 * EAGAIN (there are few) */
	n = 1 + offset % stride;
	commit = 0;
	while (n <= clean.n || commit < clean.commits) {
		const char *only = getenv("XPT_FAULTS_ONLY");
		char result[256];
		int64_t c0 = e2e_now_ms();
		unsigned int cn = n <= clean.n ? n : 0;
		bool good;

		if (!cn)
			commit++;
		else
			n += stride;
		if (only && (cn ? strtoul(only, NULL, 10) != cn :
			     strcmp(only, "commit")))
			continue;
		if (!live) {	/* a fresh host after a failed case */
			memset(&k, 0, sizeof(k));
			k.op = op;
			live = env_up(&e, xpt, &k);
			if (!live) {
				printf("faults %s: cannot set up again: %s\n",
				       op->name, e.run.why);
				env_stop(&e, true);
				t->failed++;
				return false;
			}
		}
		good = one_case(&e, &k, cn, commit, result, sizeof(result));
		cases++;
		if (getenv("XPT_FAULTS_VERBOSE") || !good) {
			if (cn)
				printf("| %s | call %u |", op->name, cn);
			else
				printf("| %s | commit %u EAGAIN |", op->name,
				       commit);
			printf(" %s | %s | %.1f |\n", result,
			       good ? "yes" : "NO",
			       (double)(e2e_now_ms() - c0) / 1000.0);
		}
		if (!good) {
			printf("    %s\n", e.run.why);
			bad++;
			ok = false;
			env_stop(&e, true);
			live = false;
		}
		fflush(stdout);
	}
	if (live)
		env_stop(&e, false);
	printf("faults %s: %u calls (%u xenstore, %u platform, %u QMP; %u "
	       "commits), %u cases (of every %u call%s), %u failed [%.1fs]\n",
	       op->name, clean.n, clean.xs, clean.pf, clean.qmp, clean.commits,
	       cases, stride, stride == 1 ? "" : "s", bad, (double)(e2e_now_ms() - t0) / 1000.0);
	fflush(stdout);
	t->cases += cases;
	t->failed += bad;
	t->calls += clean.n;
	return ok;
}

void faults_run(const struct ts *xpt, int nops, char **ops,
		unsigned int *passed, unsigned int *failed)
{
	const char *s = getenv("XPT_FAULTS_STRIDE");
	unsigned int stride = s && *s ? (unsigned int)strtoul(s, NULL, 10) : 0;
	struct tally t = { 0 };
	int64_t t0 = e2e_now_ms();
	unsigned int i;
	int a;

	for (i = 0; i < NFOPS; i++) {
		bool want = nops == 0;

		for (a = 0; a < nops; a++)
			want |= !strcmp(ops[a], fops[i].name);
		if (want)
			run_op(xpt, &fops[i], stride ? stride : fops[i].stride,
			       i, &t);
	}
	printf("faults: %u calls in all, %u cases%s, %u failed [%.1fs]\n",
	       t.calls, t.cases, stride != 1 ? " (of some operations every "
	       "k-th call; XPT_FAULTS_STRIDE=1 runs all)" : "", t.failed,
	       (double)(e2e_now_ms() - t0) / 1000.0);
	if (t.failed)
		(*failed)++;
	else
		(*passed)++;
}
