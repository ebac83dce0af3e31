// SPDX-License-Identifier: MIT
/*
 * kill -9 of xpt at every delay point of every operation (issue 14): for
 * each operation (create of a PV and of an HVM guest, pci-attach,
 * pci-detach (of a PV and of an HVM guest), reboot, destroy) a first run with XPT_DELAY_LOG lists the
 * points it passes; then, for each of them, the operation is started
 * with a long pause there, killed (SIGKILL) once it sleeps at that
 * point, run again, and then the opposite operation is run (attach <->
 * detach, create <-> destroy, reboot -> destroy).  After the re-run and
 * after the opposite operation every layer must agree (backend entries,
 * the guest's own view, the /libxl/pci markers, the IOMMU owner,
 * pciback's exporting domain: dev_owned/dev_free and inv_check), no
 * domain, xenstore directory, guest kernel or device model may be left
 * over, and a second guest must keep its own device throughout, its
 * interrupts still counted.
 *
 * A re-run may succeed, or fail because the operation's result is
 * already there on every layer; otherwise it must name, in backquotes,
 * the command that finishes (`xpt destroy 5`), which is run, and then
 * the operation again must succeed.
 *
 * Every `xpt_delay_point(c, "NAME")` in the libxpt sources (SRCDIR) must
 * be reached by one of the operations: a point no operation reaches
 * fails the test, named, so a new point is covered, or noticed, without
 * editing this file.
 *
 * Worked example, attach at prepare.assigned: g0 runs with 03:00.0; g1
 * runs without devices.  `xpt pci-attach g1 04:00.0` with
 * XPT_DELAY=prepare.assigned=60000 marks 04:00.0 for g1 and assigns it
 * in the IOMMU, then sleeps; it is killed there.  The re-run finds g1's
 * own leftovers (marker, owner), clears them and attaches; g1 sees the
 * device on every layer.  `xpt pci-detach g1 04:00.0` then leaves it
 * assignable on every layer, and g0's 03:00.0 still interrupts g0.
 *
 * XPT_KILLPOINTS_QUICK=1 (the ASan build): every third point of each
 * operation, starting at a different one per operation, and all of them
 * still discovered and checked for coverage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "harness.h"
#include "toolstack.h"

#define MAX_POINTS 64
#define KILL_PAUSE_MS 60000

/* what g1 is between cases */
enum g1state { G1_ABSENT, G1_BARE, G1_WITH };

static const char *const state_names[] = {
	[G1_ABSENT] = "no g1", [G1_BARE] = "g1 without 04:00.0",
	[G1_WITH] = "g1 with 04:00.0",
};

struct kop {
	const char *name;
	bool hvm;		/* g1 is an HVM guest */
	bool paused;		/* g1 is created paused (-p) and never runs;
				 * it holds 05:00.0 throughout, so its
				 * backend exists and is rebuilt, not
				 * reconfigured */
	enum g1state before, after;	/* the operation's */
	const char *verb;	/* its xpt verb; "create" takes g1's cfg */
	const char *opposite;	/* likewise */
	enum g1state after_opposite;
	bool stub;		/* g1's device model runs in a stub domain,
				 * g1-dm, which gets the device first */
};

static const struct kop kops[] = {
	{ "create-pv", false, false, G1_ABSENT, G1_WITH, "create", "destroy", G1_ABSENT, false },
	{ "create-hvm", true, false, G1_ABSENT, G1_WITH, "create", "destroy", G1_ABSENT, false },
	{ "attach", false, false, G1_BARE, G1_WITH, "pci-attach", "pci-detach", G1_BARE, false },
	{ "detach", false, false, G1_WITH, G1_BARE, "pci-detach", "pci-attach", G1_WITH, false },
	{ "attach-paused", false, true, G1_BARE, G1_WITH, "pci-attach", "pci-detach", G1_BARE, false },
	{ "detach-paused", false, true, G1_WITH, G1_BARE, "pci-detach", "pci-attach", G1_WITH, false },
	{ "reboot", false, false, G1_WITH, G1_WITH, "reboot", "destroy", G1_ABSENT, false },
	{ "detach-hvm", true, false, G1_WITH, G1_BARE, "pci-detach", "pci-attach", G1_WITH, false },
	{ "reboot-hvm", true, false, G1_WITH, G1_WITH, "reboot", "destroy", G1_ABSENT, false },
	{ "destroy", false, false, G1_WITH, G1_ABSENT, "destroy", "create", G1_WITH, false },
	{ "destroy-hvm", true, false, G1_WITH, G1_ABSENT, "destroy", "create", G1_WITH, false },
	{ "create-stub", true, false, G1_ABSENT, G1_WITH, "create", "destroy", G1_ABSENT, true },
	{ "destroy-stub", true, false, G1_WITH, G1_ABSENT, "destroy", "create", G1_WITH, true },
};
#define NKOPS (sizeof(kops) / sizeof(kops[0]))

struct kst {
	const struct kop *op;
	enum g1state state;
	unsigned int g0;
	pid_t g0pid;
	char cfg[2][256];	/* g1's: [0] with 04:00.0, [1] without */
	char log[256];		/* XPT_DELAY_LOG of this op's runs */
};

struct points {
	char name[MAX_POINTS][48];
	unsigned int n;
};

static void points_add(struct points *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->name[i], name))
			return;
	if (p->n < MAX_POINTS && strlen(name) < sizeof(p->name[0]))
		snprintf(p->name[p->n++], sizeof(p->name[0]), "%s", name);
}

static bool points_has(const struct points *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->name[i], name))
			return true;
	return false;
}

/* every xpt_delay_point(c, "NAME") of the libxpt sources */
static bool points_in_source(const char *srcdir, struct points *ret)
{
	static const char call[] = "xpt_delay_point(c, \"";
	char path[4096], line[512], *p, *q;
	struct dirent *d;
	DIR *dir = opendir(srcdir);
	FILE *f;

	memset(ret, 0, sizeof(*ret));
	if (!dir)
		return false;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name);

		if (l < 3 || strcmp(d->d_name + l - 2, ".c"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", srcdir, d->d_name);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			p = strstr(line, call);
			if (!p || !(q = strchr(p + sizeof(call) - 1, '"')))
				continue;
			*q = '\0';
			points_add(ret, p + sizeof(call) - 1);
		}
		if (f)
			fclose(f);
	}
	closedir(dir);
	return ret->n > 0;
}

/* the points a run logged, in order; the last one in *ret_last */
static void points_logged(const char *log, struct points *ret,
			  char *last, size_t lastlen)
{
	char line[128];
	FILE *f = fopen(log, "re");

	memset(ret, 0, sizeof(*ret));
	if (last)
		last[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		points_add(ret, line);
		if (last)
			snprintf(last, lastlen, "%.47s", line);
	}
	if (f)
		fclose(f);
}

static bool count_grew(struct env *e, void *arg)
{
	unsigned long long *before = arg;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, (unsigned int)before[1], &s) &&
	     s.n == 1 && s.d[0].count > before[0];
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* an HVM guest with its one device counts the device's interrupt */
static bool hvm_irq_counted(struct env *e, unsigned int domid, uint32_t sbdf)
{
	unsigned long long arg[2] = { 0, domid };
	struct e2e_qstatus s;
	uint32_t type;
	int r, delivered = 0;

	CHECK(e, e2e_guest_status(&e->run, domid, &s) && s.n == 1,
	      "HVM dom%u's guest does not answer, or does not see 1 device",
	      domid);
	type = !strcmp(s.d[0].irq, "msix") ? HV_IRQ_MSIX :
	       !strcmp(s.d[0].irq, "msi") ? HV_IRQ_MSI : HV_IRQ_INTX;
	arg[0] = s.d[0].count;
	r = hv_pci_raise_irq(e->hv, sbdf, type, 0, &delivered);
	CHECK(e, r == 0 && delivered, "%s raised an interrupt (%s): %s; not "
	      "delivered to HVM dom%u", bdf(sbdf), s.d[0].irq,
	      r ? strerror(-r) : "ok", domid);
	return wait_until(e, count_grew, arg, 2000, NULL) ||
	       fail(e, "HVM dom%u did not count the interrupt of %s", domid,
		    bdf(sbdf));
}

/* a paused guest's, never started: in its backend, marked, owned in the
 * IOMMU; pciback exports it to nobody else; no guest sees it */
static bool paused_owned(struct env *e, unsigned int domid, uint32_t sbdf)
{
	struct layers l;

	layers_get(e, sbdf, &l);
	CHECK(e, l.nbe == 1 && l.be_dom[0] == domid && l.marker == (int)domid
	      && l.owner == domid && (l.pb == (int)domid || l.pb == -1) &&
	      !l.nseen, "%s should be paused dom%u's on every layer: %s",
	      bdf(sbdf), domid, layers_str(&l));
	return true;
}

/* an HVM guest's: owner, marker, its device model, its guest; in no
 * backend and exported to nobody, or (stub) in its stub domain's backend
 * alone and exported to it */
static bool hvm_owned(struct env *e, unsigned int domid, uint32_t sbdf,
		      bool stub)
{
	unsigned int s = stub ? stub_domain_of(e, domid) : 0;
	char reply[16384];
	struct layers l;

	CHECK(e, !stub || s, "HVM dom%u has no stub domain", domid);
	layers_get(e, sbdf, &l);
	CHECK(e, l.nbe == (s ? 1u : 0u) && (!s || (l.be_dom[0] == s &&
	      l.pb == (int)s)) && (s || l.pb == -1) && l.marker == (int)domid
	      && l.owner == domid, "%s should be HVM dom%u's (through its "
	      "device model%s) on every layer: %s", bdf(sbdf), domid,
	      s ? " in its stub domain" : "", layers_str(&l));
	if (!dm_qmp(e, domid, "query-pci", reply, sizeof(reply)))
		return false;
	CHECK(e, dm_has(reply, sbdf), "%s is not in dom%u's device model "
	      "(query-pci: %.300s)", bdf(sbdf), domid, reply);
	return guest_sees(e, domid, 1) && hvm_irq_counted(e, domid, sbdf);
}

/* Nothing but dom0, g0 and (unless absent) g1 on any layer
 * (only_domains); g1's domid in *ret_g1 when present. */
static bool no_leftovers(struct env *e, const struct kst *k,
			 unsigned int *ret_g1)
{
	unsigned int g1 = 0, want[3], nwant = 1;

	want[0] = k->g0;
	if (k->state != G1_ABSENT) {
		CHECK(e, dom_by_name(e, "g1", &g1), "g1 (%s) is gone",
		      state_names[k->state]);
		want[nwant++] = g1;
		if (k->op->stub) {
			CHECK(e, stub_domain_of(e, g1), "g1 (dom%u) has no stub "
			      "domain", g1);
			want[nwant++] = stub_domain_of(e, g1);
		}
	}
	if (!only_domains(e, want, nwant))
		return false;
	if (ret_g1)
		*ret_g1 = g1;
	return true;
}

/* g0 still holds 03:00.0 on every layer, the same guest serves it and
 * counts its interrupts */
static bool g0_intact(struct env *e, const struct kst *k)
{
	CHECK(e, guest_pid(e, k->g0) == k->g0pid, "g0's guest kernel changed "
	      "(pid %d, was %d)", (int)guest_pid(e, k->g0), (int)k->g0pid);
	return dev_owned(e, k->g0, DEV_A) && irq_counted(e, k->g0, DEV_A);
}

/* xpt's own record of g1 (what a reboot builds again): listing 04:00.0
 * exactly when g1 has it */
static bool record_check(struct env *e, const struct kst *k, unsigned int g1)
{
	int has = record_lists(e, g1, "04:00.0");

	if (has < 0)
		return false;
	CHECK(e, has == (k->state == G1_WITH), "g1's record %s 04:00.0, "
	      "which g1 %s: a reboot would %s it (%s/xpt/domains/%u.json)",
	      k->state == G1_WITH ? "lacks" : "lists",
	      k->state == G1_WITH ? "has" : "does not have",
	      k->state == G1_WITH ? "lose" : "attach", e->run.dir, g1);
	return true;
}

/* every layer agrees that g1 is in k->state */
static bool state_check(struct env *e, const struct kst *k, const char *when)
{
	char save[sizeof(e->run.why)];
	unsigned int g1 = 0;
	bool ok;

	ok = no_leftovers(e, k, &g1);
	/* g1's kernel runs, or never ran (before anything waits for what
	 * it sees) */
	if (ok && k->state != G1_ABSENT) {
		char s = guest_proc_state(e, g1);

		if (k->op->paused)
			ok = !s || fail(e, "g1, created paused, has a guest "
					"kernel");
		else
			ok = (s && s != 'T' && s != 't') ||
			     fail(e, "g1's guest kernel does not run (%s)",
				  s ? "stopped" : "no process");
	}
	ok = ok && g0_intact(e, k) &&
	     (k->state == G1_ABSENT || record_check(e, k, g1));
	if (ok && k->state == G1_ABSENT)
		ok = dev_free(e, DEV_B) && dev_free(e, DEV_C);
	if (ok && k->op->paused && k->state != G1_ABSENT)
		ok = paused_owned(e, g1, DEV_C) &&
		     (k->state == G1_WITH ? paused_owned(e, g1, DEV_B) :
		      dev_free(e, DEV_B));
	else if (ok && k->state == G1_BARE)
		ok = guest_sees(e, g1, 0) && dev_free(e, DEV_B) &&
		     dev_free(e, DEV_C);
	else if (ok && k->state == G1_WITH && k->op->hvm)
		ok = hvm_owned(e, g1, DEV_B, k->op->stub) &&
		     dev_free(e, DEV_C);
	else if (ok && k->state == G1_WITH)
		ok = wait_guest_devs(e, g1, 1, 5000) && dev_owned(e, g1, DEV_B) &&
		     irq_counted(e, g1, DEV_B) && dev_free(e, DEV_C);
	/* an HVM guest's device has no backend: inv_check is for PV */
	if (ok && !(k->state == G1_WITH && k->op->hvm))
		ok = inv_check(e, when);
	if (ok)
		return true;
	memcpy(save, e->run.why, sizeof(save));
	snprintf(e->run.why, sizeof(e->run.why), "%s (%s): %.600s", when,
		 state_names[k->state], save);
	return false;
}

/* g1 (PV, running, with 04:00.0) takes a hot-plug of 05:00.0 and gives it
 * back, 04:00.0 untouched (not reset, still interrupting g1): xpt treats
 * g1 as the running guest it is; a record that says otherwise has the
 * backend rebuilt under the guest's pcifront, and 04:00.0 reset under
 * its driver */
static bool takes_hotplug(struct env *e, unsigned int g1)
{
	int before = pb_resets(e, DEV_B),
	    rc = TS(e, 40000, "pci-attach", "g1", "05:00.0");

	CHECK(e, rc == 0, "pci-attach g1 05:00.0 (a hot-plug, to see that g1 "
	      "still takes one): rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, g1, 2, 5000) || !dev_owned(e, g1, DEV_C) ||
	    !dev_owned(e, g1, DEV_B) || !irq_counted(e, g1, DEV_B))
		return false;
	rc = TS(e, 40000, "pci-detach", "g1", "05:00.0");
	CHECK(e, rc == 0, "pci-detach g1 05:00.0: rc %d: %s", rc, e->out);
	CHECK(e, pb_resets(e, DEV_B) == before, "%s, g1's, was reset %d time(s) "
	      "by a hot-plug and hot-unplug of 05:00.0 (its backend rebuilt "
	      "under the running guest?)", bdf(DEV_B), pb_resets(e, DEV_B) -
	      before);
	return wait_guest_devs(e, g1, 1, 5000) && dev_free(e, DEV_C) &&
	       dev_owned(e, g1, DEV_B) && irq_counted(e, g1, DEV_B);
}

/* args of verb for g1 */
static void verb_args(const struct kst *k, const char *verb,
		      const char *args[5])
{
	unsigned int n = 0;

	args[n++] = verb;
	if (!strcmp(verb, "create")) {
		if (k->op->paused)
			args[n++] = "-p";
		args[n++] = k->cfg[0];
	} else {
		args[n++] = "g1";
		if (!strncmp(verb, "pci-", 4))
			args[n++] = "04:00.0";
	}
	args[n] = NULL;
}

/* from the current state to want, by plain operations */
static bool reach(struct env *e, struct kst *k, enum g1state want)
{
	const char *args[5];
	int rc;

	while (k->state != want) {
		if (k->state == G1_ABSENT) {
			verb_args(k, "create", args);
			args[k->op->paused ? 2 : 1] = k->cfg[want == G1_WITH ?
							   0 : 1];
		} else if (want == G1_ABSENT) {
			verb_args(k, "destroy", args);
		} else {
			verb_args(k, want == G1_WITH ? "pci-attach" :
				  "pci-detach", args);
		}
		rc = ts_run(e, NULL, 40000, args);
		CHECK(e, rc == 0, "setting up %s from %s: xpt %s: rc %d: %s",
		      state_names[want], state_names[k->state], args[0], rc,
		      e->out);
		k->state = want;	/* each of these goes there at once */
		if (!strcmp(args[0], "create") && !k->op->paused) {
			unsigned int g1;

			if (!dom_by_name(e, "g1", &g1) ||
			    !guest_wait_started(e, g1))
				return false;
		}
	}
	return true;
}

static bool g1_cfgs(struct env *e, struct kst *k)
{
	const char *p;
	int i;

	for (i = 0; i < 2; i++) {
		const char *pci = k->op->paused ? (i ? "'05:00.0'" :
				  "'05:00.0', '04:00.0'") :
				  i ? "" : "'04:00.0'";

		p = k->op->hvm ?
			cfg_write(e, i ? "g1-bare" : "g1", "# an HVM guest of "
				  "the kill test\nname = \"g1\"\ntype = \"hvm\"\n"
				  "memory = 128\nvcpus = 1\npassthrough = "
				  "\"enabled\"\n%spci = [ %s ]\n", k->op->stub ?
				  "device_model_stubdomain_override = 1\n" : "",
				  pci) :
			cfg_write(e, i ? "g1-bare" : "g1", "# a PV guest of "
				  "the kill test\nname = \"g1\"\ntype = \"pv\"\n"
				  "memory = 256\nvcpus = 1\npassthrough = "
				  "\"enabled\"\npci = [ %s ]\n", pci);
		CHECK(e, p, "cannot write g1's configuration");
		snprintf(k->cfg[i], sizeof(k->cfg[i]), "%s", p);
	}
	return true;
}

/* the host, g0 with 03:00.0, 04:00.0 assignable, g1 as the op wants it */
static bool setup(struct env *e, struct kst *k)
{
	const char *cfg;
	int rc;

	if (!assignable(e, DEV_A) || !assignable(e, DEV_B) ||
	    !assignable(e, DEV_C) || !g1_cfgs(e, k))
		return false;
	cfg = cfg_file(e, "g0", "'03:00.0'");
	CHECK(e, cfg, "cannot write g0.cfg");
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc == 0, "create g0: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g0", &k->g0) || !guest_wait_started(e, k->g0) ||
	    !wait_guest_devs(e, k->g0, 1, 5000))
		return false;
	k->g0pid = guest_pid(e, k->g0);
	k->state = G1_ABSENT;
	snprintf(k->log, sizeof(k->log), "%s/delay-points.log", e->run.dir);
	return reach(e, k, k->op->before) && state_check(e, k, "set-up");
}

/* start the op paused at point, kill -9 it there */
static bool kill_at(struct env *e, struct kst *k, const char *point)
{
	const char *args[5];
	char delay[96], last[64];
	struct points seen;
	struct e2e_proc *p;
	int pid;

	verb_args(k, k->op->verb, args);
	snprintf(delay, sizeof(delay), "%s=%d", point, KILL_PAUSE_MS);
	unlink(k->log);
	e->delay_log = k->log;
	p = ts_spawn(e, delay, args);
	e->delay_log = NULL;
	if (!p)
		return false;
	pid = p->pid;
	if (!wait_until(e, at_delay, &pid, 20000, NULL)) {
		ts_wait(e, p, 0, false);
		return fail(e, "xpt %s never paused at %s: %s", args[0], point,
			    e->out);
	}
	points_logged(k->log, &seen, last, sizeof(last));
	if (strcmp(last, point)) {
		ts_wait(e, p, 0, false);
		return fail(e, "xpt %s paused after %s, not at %s", args[0],
			    last, point);
	}
	kill(p->pid, SIGKILL);
	ts_wait(e, p, 5000, false);
	return true;
}

/* the state the operation should have left, without failing the case */
static bool quietly(struct env *e, struct kst *k, enum g1state s)
{
	char save[sizeof(e->run.why)];
	enum g1state was = k->state;
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	k->state = s;
	ok = state_check(e, k, "probe");
	k->state = was;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* the first command the output names in backquotes that acts: not
 * one that only shows (`xpt list`, `xpt pci-list 3`) */
static bool acting_command(const char *out, char *cmd, size_t len)
{
	static const char *const shows[] = {
		"xpt list", "xpt pci-list", "xpt pci-assignable-list",
		"xpt guest-status", "xpt host status",
	};
	const char *p = out;
	size_t i;

	while (named_command(p, cmd, len)) {
		bool show = false;

		for (i = 0; i < sizeof(shows) / sizeof(shows[0]); i++)
			show |= !strncmp(cmd, shows[i], strlen(shows[i]));
		if (!show)
			return true;
		p = strstr(p, "`xpt ") + 1;
		p = strchr(p, '`') + 1;
	}
	return false;
}

/* the first error line of the output, for the table */
static void first_error(const char *out, char *buf, size_t len)
{
	const char *l = out, *end;

	for (; *l; l = *end ? end + 1 : end) {
		end = strchr(l, '|');
		if (!end)
			end = l + strlen(l);
		/* not a warning, nor a long wait's progress */
		if (strncmp(l, "xpt: warning:", 13) &&
		    strncmp(l, "xpt: waiting for ", 17) &&
		    strncmp(l, "xpt: still waiting for ", 23)) {
			snprintf(buf, len, "%.*s", (int)(end - l), l);
			return;
		}
	}
	snprintf(buf, len, "%.*s", (int)len - 1, out);
}

/*
 * The same operation again: it succeeds; or it fails and what it would
 * have done is done on every layer; or it names the command that
 * finishes, which is run, and then it succeeds.  result: for the table.
 */
static bool rerun(struct env *e, struct kst *k, const char *point,
		  char *result, size_t len)
{
	const char *args[5];
	char cmd[200], err[200];
	int rc;

	verb_args(k, k->op->verb, args);
	rc = ts_run(e, NULL, 40000, args);
	if (rc == 0) {
		snprintf(result, len, "ok");
		k->state = k->op->after;
		return true;
	}
	first_error(e->out, err, sizeof(err));
	if (quietly(e, k, k->op->after)) {
		snprintf(result, len, "rc %d, already done: %.120s", rc, err);
		k->state = k->op->after;
		return true;
	}
	CHECK(e, acting_command(e->out, cmd, sizeof(cmd)), "xpt %s killed at "
	      "%s: the re-run fails (rc %d) without naming the command that "
	      "finishes: %s", args[0], point, rc, e->out);
	rc = run_named(e, cmd);
	CHECK(e, rc == 0, "xpt %s killed at %s: `%s`, as the re-run said: rc "
	      "%d: %s", args[0], point, cmd, rc, e->out);
	rc = ts_run(e, NULL, 40000, args);
	CHECK(e, rc == 0 || quietly(e, k, k->op->after), "xpt %s killed at "
	      "%s: the re-run after `%s`: rc %d: %s", args[0], point, cmd, rc,
	      e->out);
	snprintf(result, len, "named `%s`, then %s", cmd, rc ? "done" : "ok");
	k->state = k->op->after;
	return true;
}

/* one case: kill at point, re-run, check, the opposite, check */
static bool one_point(struct env *e, struct kst *k, const char *point,
		      char *result, size_t len)
{
	const char *args[5];
	char when[128];
	unsigned int g1;
	int rc;

	snprintf(result, len, "-");
	if (!reach(e, k, k->op->before) || !kill_at(e, k, point))
		return false;
	if (!rerun(e, k, point, result, len))
		return false;
	if (k->state != G1_ABSENT && (!dom_by_name(e, "g1", &g1) ||
	    (!k->op->paused && !guest_wait_started(e, g1))))
		return false;
	snprintf(when, sizeof(when), "after xpt %s killed at %s and run "
		 "again", k->op->verb, point);
	if (!state_check(e, k, when) || (k->state == G1_WITH &&
	    !k->op->hvm && !k->op->paused && !takes_hotplug(e, g1)))
		return false;
	verb_args(k, k->op->opposite, args);
	rc = ts_run(e, NULL, 40000, args);
	CHECK(e, rc == 0, "after xpt %s killed at %s and run again: xpt %s: rc "
	      "%d: %s", k->op->verb, point, args[0], rc, e->out);
	k->state = k->op->after_opposite;
	if (k->state != G1_ABSENT && (!dom_by_name(e, "g1", &g1) ||
	    (!k->op->paused && !guest_wait_started(e, g1))))
		return false;
	snprintf(when, sizeof(when), "after xpt %s killed at %s, run again, "
		 "and xpt %s", k->op->verb, point, args[0]);
	return state_check(e, k, when);
}

/* the points the op passes, from one run of it with the log on */
static bool discover(struct env *e, struct kst *k, struct points *ret)
{
	const char *args[5];
	int rc;

	verb_args(k, k->op->verb, args);
	unlink(k->log);
	e->delay_log = k->log;
	rc = ts_run(e, NULL, 40000, args);
	e->delay_log = NULL;
	CHECK(e, rc == 0, "xpt %s (to list its delay points): rc %d: %s",
	      args[0], rc, e->out);
	points_logged(k->log, ret, NULL, 0);
	k->state = k->op->after;
	return state_check(e, k, "after a plain run");
}

struct tally {
	unsigned int cases, failed;
	FILE *md;
};

static bool run_op(const struct ts *xpt, const struct kop *op,
		   struct points *reached, struct tally *t)
{
	struct env e;
	struct kst k = { .op = op };
	struct points pts;
	bool quick = getenv("XPT_KILLPOINTS_QUICK") != NULL, live, ok = true;
	unsigned int i;
	int64_t t0 = e2e_now_ms();

	live = env_start(&e, xpt, false) && setup(&e, &k) &&
	       discover(&e, &k, &pts);
	if (!live) {
		printf("killpoints %s: cannot list its points: %s\n", op->name,
		       e.run.why);
		env_stop(&e, true);
		t->failed++;
		return false;
	}
	for (i = 0; i < pts.n; i++)
		points_add(reached, pts.name[i]);
	for (i = 0; i < pts.n; i++) {
		char result[256];
		int64_t c0 = e2e_now_ms();
		bool good;

		if (quick && (i + (unsigned int)(op - kops)) % 3)
			continue;
		if (!live) {	/* a fresh host after a failed case */
			memset(&k, 0, sizeof(k));
			k.op = op;
			live = env_start(&e, xpt, false) && setup(&e, &k);
			if (!live) {
				printf("killpoints %s: cannot set up again: "
				       "%s\n", op->name, e.run.why);
				env_stop(&e, true);
				t->failed++;
				return false;
			}
		}
		good = one_point(&e, &k, pts.name[i], result, sizeof(result));
		t->cases++;
		printf("| %s | %s | %s | %s | %.1f |\n", op->name, pts.name[i],
		       result, good ? "yes" : "NO",
		       (double)(e2e_now_ms() - c0) / 1000.0);
		if (t->md)
			fprintf(t->md, "| %s | %s | %s | %s |\n", op->name,
				pts.name[i], result, good ? "yes" : "NO");
		if (!good) {
			printf("    %s\n", e.run.why);
			t->failed++;
			ok = false;
			env_stop(&e, true);
			live = false;
		}
		fflush(stdout);
	}
	if (live)
		env_stop(&e, false);
	printf("killpoints %s: %u points [%.1fs]\n", op->name, pts.n,
	       (double)(e2e_now_ms() - t0) / 1000.0);
	return ok;
}

void killpoints_run(const struct ts *xpt, const char *srcdir, int nops,
		    char **ops, unsigned int *passed, unsigned int *failed)
{
	struct points all, reached = { .n = 0 };
	struct tally t = { 0 };
	char path[4096];
	unsigned int i, missed = 0;
	int a;

	if (!points_in_source(srcdir, &all)) {
		printf("killpoints: no xpt_delay_point in %s\n", srcdir);
		(*failed)++;
		return;
	}
	snprintf(path, sizeof(path), "%s/killpoints.md", bins.outdir);
	t.md = fopen(path, "we");
	printf("| operation | killed at | re-run | converged | s |\n"
	       "|---|---|---|---|---|\n");
	if (t.md)
		fprintf(t.md, "| operation | killed at | re-run | converged |\n"
			"|---|---|---|---|\n");
	for (i = 0; i < NKOPS; i++) {
		bool want = nops == 0;

		for (a = 0; a < nops; a++)
			want |= !strcmp(ops[a], kops[i].name);
		if (want)
			run_op(xpt, &kops[i], &reached, &t);
	}
	for (i = 0; i < all.n && !nops; i++) {
		if (points_has(&reached, all.name[i]))
			continue;
		printf("killpoints: delay point %s (in %s) is reached by no "
		       "operation of this test: add one that reaches it\n",
		       all.name[i], srcdir);
		missed++;
	}
	if (t.md)
		fclose(t.md);
	printf("killpoints: %u points in the source, %u reached, %u cases, "
	       "%u failed%s\n", all.n, reached.n, t.cases, t.failed,
	       getenv("XPT_KILLPOINTS_QUICK") ? " (quick: every third point)" :
	       "");
	if (t.failed || missed)
		(*failed)++;
	else
		(*passed)++;
}
