// SPDX-License-Identifier: MIT
/*
 * kill -9 of one daemon of the modelled host in the middle of an xpt
 * operation, then the recovery a user would run (issue 14, faults item 3).
 *
 * Every case runs on a host with a bystander guest, g2, holding 04:00.0,
 * and the operation's guest (g1, PV, with 03:00.0, or h1, HVM, with
 * 06:00.0 through its device model).  The operation is held at a delay
 * point (XPT_DELAY; the xpt process is then asleep in poll(NULL, 0, ms),
 * which /proc/PID/syscall shows), the daemon is killed with SIGKILL and
 * the operation goes on.  It must end within its bound (OP_BOUND_MS after
 * the hold; measured and printed), not be killed by a
 * signal, leave every other host daemon and g2's guest kernel running,
 * and either fail with a message that names the dead party or,
 * where the daemon's death does not matter (a guest killed during its own
 * destroy), succeed.  Then, per daemon, the recovery:
 *
 *   daemon      restart                 recovery, then every layer clean
 *   store       `xpt host start`        `xpt list` names the domains
 *                                       that lost their store state;
 *                                       `xpt destroy ID` of each cleans
 *                                       them from the hypervisor
 *   hypervisor  `xpt host start` (also  `xpt list` names the domains the
 *               pciback, and the old    store still has; `xpt destroy
 *               guests go)              ID` of each removes the leftovers
 *   pciback     `xpt host start`        `xpt list` names the devices
 *                                       the guests lost; g2 gets its
 *                                       own back by `pci-detach -f` and
 *                                       `pci-attach`, and `xpt destroy`
 *                                       of g1 gives g1's back
 *   guest       -                       `xpt list` shows g1 crashed;
 *                                       `xpt destroy g1`; g2 untouched
 *   device      -                       another attach to h1 says its
 *   model                               device model is gone; `xpt
 *                                       destroy h1`; g2 untouched
 *
 * and inv_check over all layers, then a create that uses the op's device
 * again (the host is usable).  A dead store, hypervisor or pciback is
 * named even when the op succeeds (xpt names a dead host daemon after
 * any command); a guest or device model that died need not be, when the
 * op did not need it any more.
 *
 * Worked example (case pciback-attach): `xpt pci-attach g1 05:00.0` is
 * held at attach.before-txn (before its backend write), pciback is
 * killed; the attach waits for a backend nobody serves and must fail
 * within 10 s naming xpt-pciback.  `xpt host status` says pciback is
 * dead, `xpt host start` restarts it alone, `xpt list` says g2 lost
 * 04:00.0, `pci-detach -f` and `pci-attach` give it back to g2, `xpt
 * destroy` of g1 gives 03:00.0 and 05:00.0 back, and every layer agrees
 * (g2's guest sees 04:00.0 again).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "toolstack.h"

enum who { STORE, HV, PCIBACK, GUEST, DM };
enum op { CREATE, ATTACH, DETACH, REBOOT, DESTROY };

static const char *const who_names[] = {
	"xenstored", "hypervisor", "pciback", "guest", "device model",
};
static const char *const op_names[] = {
	"create", "pci-attach", "pci-detach", "reboot", "destroy",
};

struct dspec {
	enum who who;
	enum op op;
	const char *point;	/* the delay point the op is held at */
	const char *says;	/* the op's message names the dead party */
	bool may_pass;		/* the op may also succeed */
	const char *norecover;	/* the recovery does not work yet: why
				 * (printed; the case checks the op only) */
	bool hvm;		/* the op's guest is h1 (always for DM) */
};

/* the bound of every op here, after its hold: a backend wait notices a
 * dead pciback or guest kernel within 0.5 s (it used to wait out its 10
 * s, XPT_WAIT_MS), every other party's death fails the next request at
 * once; the rest is a margin for a loaded machine */
#define OP_BOUND_MS 6000
#define HOLD_MS 1000

static int64_t worst_ms;

static bool wait_held(struct env *e, struct e2e_proc *p, const char *point)
{
	int64_t deadline = e2e_now_ms() + 20000;
	int pid = p->pid;

	while (e2e_now_ms() < deadline) {
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

		if (at_delay(e, &pid))
			return true;
		if (poll(&pfd, 1, 5) > 0) {
			ts_wait(e, p, 0, false);
			return fail(e, "the op ended before %s: %s", point,
				    e->out);
		}
	}
	return fail(e, "the op never reached %s", point);
}

static bool kill_wait(struct env *e, pid_t pid, const char *what)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	bool ok;

	CHECK(e, pid > 1 && pidfd >= 0, "no %s process (pid %d)", what,
	      (int)pid);
	kill(pid, SIGKILL);
	ok = poll(&pfd, 1, 5000) > 0;
	close(pidfd);
	return ok || fail(e, "%s (pid %d) did not die on SIGKILL", what,
			  (int)pid);
}

/* A daemon the harness started (its child) still runs: not exited, not
 * a zombie waiting to be reaped. */
static bool child_runs(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (pid <= 0 || waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return false;
	return si.si_pid != pid;
}

/* No daemon dies from another's death: the other host daemons and the
 * bystander's guest kernel still run. */
static bool others_run(struct env *e, const struct dspec *s, unsigned int g2)
{
	static const char *const names[] = { "xenstored", "hypervisor",
					     "pciback" };
	unsigned int i;

	for (i = 0; i < 3; i++)
		CHECK(e, (enum who)i == s->who ||
		      child_runs(daemon_pid(e, names[i])), "%s died with the "
		      "%s", names[i], who_names[s->who]);
	CHECK(e, guest_proc_state(e, g2) != 0, "g2's guest kernel died with "
	      "the %s", who_names[s->who]);
	return true;
}

/* the harness's own connections, after a store or hypervisor restart */
static bool reconnect(struct env *e)
{
	int r;

	if (e->xs)
		xs_close(e->xs);
	e->xs = xs_open(0);
	CHECK(e, e->xs, "xs_open after the restart: %s", strerror(errno));
	if (e->hv)
		hv_close(e->hv);
	e->hv = NULL;
	r = hv_open(e->run.dir, &e->hv);
	CHECK(e, r == 0, "hv_open after the restart: %s", strerror(-r));
	return true;
}

/* pciback exports nothing (it released what the new store lacks) */
static bool pb_exports_none(struct env *e, void *arg)
{
	char reply[16384];
	const char *p;

	(void)arg;
	if (!e2e_pciback(&e->run, "list", reply, sizeof(reply)))
		return false;
	for (p = reply; (p = strstr(p, "exported-to=")); p++)
		if (p[12] >= '0' && p[12] <= '9')
			return false;
	return true;
}

/* a device model of this run still runs (its command line names the
 * run directory) */
static bool dms_left(struct env *e)
{
	struct dirent *de;
	bool found = false;
	DIR *dp = opendir("/proc");

	while (dp && !found && (de = readdir(dp)))
		found = de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
			dm_ours(e, (pid_t)atoi(de->d_name));
	if (dp)
		closedir(dp);
	return found;
}

static bool destroy_ok(struct env *e, const char *dom)
{
	int rc = TS(e, 15000, "destroy", dom);

	CHECK(e, rc == 0, "recovery: xpt destroy %s: rc %d: %s", dom, rc,
	      e->out);
	return true;
}

static bool run(struct env *e, const struct dspec *s)
{
	const bool hvm = s->who == DM || s->hvm;
	const char *dom = hvm ? "h1" : "g1";
	const uint32_t dev = hvm ? DEV_D : DEV_A;
	unsigned int g2, g1 = 0;
	char cfgpath[256], ids[2][16], spec[32];
	const char *args[4] = { op_names[s->op], dom, NULL, NULL };
	struct e2e_proc *p;
	char delay[64], named[48];
	unsigned long listed[4];
	unsigned int nlisted = 0, i;
	const char *p2;
	pid_t victim;
	int64_t t0, took;
	int rc;

	if (!assignable(e, DEV_A) || !assignable(e, DEV_B) ||
	    !assignable(e, DEV_C) || !assignable(e, DEV_D) ||
	    !create(e, "g2", "'04:00.0'", &g2))
		return false;
	snprintf(spec, sizeof(spec), "'%s'", bdf(dev));
	if (hvm) {
		/* its configuration, for create and the recovery */
		if (s->op != CREATE && !create_hvm(e, dom, spec, &g1))
			return false;
		snprintf(cfgpath, sizeof(cfgpath), "%s/%s.cfg", e->run.dir, dom);
		if (s->op == CREATE && !cfg_write(e, dom, "name = \"%s\"\n"
						  "type = \"hvm\"\nmemory = 128\n"
						  "passthrough = \"enabled\"\n"
						  "pci = [ %s ]\n", dom, spec))
			return fail(e, "cannot write %s.cfg", dom);
	} else {
		const char *c = cfg_file(e, dom, spec);

		CHECK(e, c, "cannot write %s.cfg", dom);
		snprintf(cfgpath, sizeof(cfgpath), "%s", c);
		if (s->op != CREATE && !create(e, dom, spec, &g1))
			return false;
	}
	if (s->op == CREATE)
		args[1] = cfgpath;
	else if (s->op == ATTACH)
		args[2] = bdf(DEV_C);
	else if (s->op == DETACH)
		args[2] = bdf(dev);

	snprintf(delay, sizeof(delay), "%s=%d", s->point, HOLD_MS);
	p = ts_spawn(e, delay, args);
	if (!p || !wait_held(e, p, s->point))
		return false;
	/* the domain the op is building (a reboot's new one, for its
	 * device model) */
	if (((s->op == CREATE && s->who != STORE && s->who != HV) ||
	     (s->op == REBOOT && s->who == DM)) && !dom_by_name(e, dom, &g1))
		return false;
	switch (s->who) {
	case STORE: victim = daemon_pid(e, "xenstored"); break;
	case HV: victim = daemon_pid(e, "hypervisor"); break;
	case PCIBACK: victim = daemon_pid(e, "pciback"); break;
	case GUEST: victim = guest_pid(e, g1); break;
	default: victim = dm_pid(e, g1); break;
	}
	if (!kill_wait(e, victim, who_names[s->who]))
		return false;
	t0 = e2e_now_ms();
	rc = ts_wait(e, p, OP_BOUND_MS + HOLD_MS, false);
	took = e2e_now_ms() - t0;
	if (took > worst_ms)
		worst_ms = took;
	printf("    %s %s, %s killed at %s: rc %d after %.1f s: %s\n",
	       op_names[s->op], dom, who_names[s->who], s->point, rc,
	       (double)took / 1000.0, e->out);
	CHECK(e, rc != -1, "the op did not end within %d s of the kill",
	      (OP_BOUND_MS + HOLD_MS) / 1000);
	CHECK(e, rc != -2, "xpt was killed by a signal: %s", e->out);
	CHECK(e, rc != 0 || s->may_pass, "the op succeeded: %s", e->out);
	if (!others_run(e, s, g2))
		return false;
	/* a dead host daemon is named even after a success */
	CHECK(e, (rc == 0 && (s->who == GUEST || s->who == DM)) ||
	      strstr(e->out, s->says), "the op's message does not name the "
	      "dead %s (\"%s\"): %s", who_names[s->who], s->says, e->out);

	if (s->norecover) {
		printf("    recovery not checked (known defect): %s\n",
		       s->norecover);
		return true;
	}

	/* recovery */
	if (s->who == STORE || s->who == HV || s->who == PCIBACK) {
		rc = TS(e, 5000, "host", "status");
		CHECK(e, rc != 0 && strstr(e->out, "dead"), "host status should "
		      "name the dead daemon: rc %d: %s", rc, e->out);
		rc = TS(e, 20000, "host", "start", "--host", bins.hostfile);
		CHECK(e, rc == 0 && strstr(e->out, "restarted"), "host start "
		      "should restart the dead daemon: rc %d: %s", rc, e->out);
		if ((s->who == STORE || s->who == HV) && !reconnect(e))
			return false;
	}
	snprintf(ids[0], sizeof(ids[0]), "%u", g1);
	snprintf(ids[1], sizeof(ids[1]), "%u", g2);
	if (s->who == STORE || s->who == HV) {
		rc = TS(e, 10000, "list");
		CHECK(e, strstr(e->out, "xpt destroy"), "xpt list should say "
		      "which domains lost their %s state and how to clean "
		      "them: rc %d: %s", s->who == STORE ? "store" :
		      "hypervisor", rc, e->out);
		/* every domain it names, as a user would; g2 among them */
		snprintf(named, sizeof(named), "`xpt destroy %u`", g2);
		CHECK(e, strstr(e->out, named), "xpt list should name domain "
		      "%u (g2): %s", g2, e->out);
		for (p2 = e->out; (p2 = strstr(p2, "`xpt destroy ")); p2++)
			if (nlisted < 4)
				listed[nlisted++] = strtoul(p2 + 13, NULL, 10);
		for (i = 0; i < nlisted; i++) {
			snprintf(ids[0], sizeof(ids[0]), "%lu", listed[i]);
			if (!destroy_ok(e, ids[0]))
				return false;
		}
		/* pciback notices the new store within 2 s and releases the
		 * backends it no longer has */
		if (s->who == STORE && !wait_until(e, pb_exports_none, NULL,
						   5000, "pciback to release "
						   "the backends the restarted "
						   "store lost"))
			return false;
	} else if (s->who == PCIBACK) {
		/* the restarted pciback holds nothing: xpt list says which
		 * devices the guests lost and how to give them back */
		rc = TS(e, 10000, "list");
		snprintf(named, sizeof(named), "`xpt pci-attach %u %s`", g2,
			 bdf(DEV_B));
		CHECK(e, strstr(e->out, named), "xpt list should say that "
		      "g2 lost %s and how to attach it again: rc %d: %s",
		      bdf(DEV_B), rc, e->out);
		rc = TS(e, 15000, "pci-detach", "-f", ids[1], bdf(DEV_B));
		CHECK(e, rc == 0, "recovery: pci-detach -f g2 %s: rc %d: %s",
		      bdf(DEV_B), rc, e->out);
		rc = TS(e, 15000, "pci-attach", ids[1], bdf(DEV_B));
		CHECK(e, rc == 0, "recovery: pci-attach g2 %s: rc %d: %s",
		      bdf(DEV_B), rc, e->out);
		/* by id: a destroy cut short left the domain's record, and
		 * its message says `xpt destroy ID` again */
		if (!destroy_ok(e, ids[0]))
			return false;
	} else {
		rc = TS(e, 10000, "list");
		/* a guest that died: its domain is crashed (a reboot or
		 * destroy went on without it) */
		CHECK(e, s->who != GUEST || s->op == REBOOT ||
		      s->op == DESTROY || strstr(e->out, "crashed"),
		      "xpt list should show %s crashed: %s", dom, e->out);
		if (rc == 0 && strstr(e->out, dom)) {
			/* a device model that died: another attach says so */
			if (s->who == DM) {
				rc = TS(e, 15000, "pci-attach", dom,
					bdf(DEV_C));
				CHECK(e, rc != 0 && strstr(e->out, "device "
							   "model"),
				      "pci-attach to %s without its device "
				      "model: rc %d: %s", dom, rc, e->out);
			}
			if (!destroy_ok(e, dom))
				return false;
		}
	}
	CHECK(e, !dms_left(e), "a device model of this run is still running "
	      "after the recovery");
	if (!inv_check(e, "after the recovery"))
		return false;
	/* the host is usable: the op's device goes to a new PV guest (made
	 * assignable again: a restarted hypervisor or pciback forgot) */
	rc = TS(e, 10000, "pci-assignable-add", bdf(dev));
	CHECK(e, rc == 0, "pci-assignable-add %s after the recovery: rc %d: "
	      "%s", bdf(dev), rc, e->out);
	rc = TS(e, 30000, "create", cfg_file(e, "g3", spec));
	CHECK(e, rc == 0, "create after the recovery: rc %d: %s", rc, e->out);
	return inv_check(e, "after a create on the recovered host");
}

/* stop what `xpt host start` restarted (the harness knows only its own) */
static bool run_case(struct env *e, const struct dspec *s)
{
	bool ok = run(e, s);

	if (s->who == STORE || s->who == HV || s->who == PCIBACK) {
		char why[sizeof(e->run.why)];

		memcpy(why, e->run.why, sizeof(why));
		TS(e, 20000, "host", "stop");
		memcpy(e->run.why, why, sizeof(why));
	}
	return ok;
}

#define DCASE(fn, ...)							\
	static bool fn(struct env *e)					\
	{								\
		static const struct dspec s = { __VA_ARGS__ };		\
		return run_case(e, &s);					\
	}

DCASE(store_create, STORE, CREATE, "coldplug.in-txn", "xenstored", false, NULL, false)
DCASE(store_attach, STORE, ATTACH, "attach.before-wait", "xenstored", false,
      NULL, false)
DCASE(store_detach, STORE, DETACH, "detach.before-compact", "xenstored", false,
      NULL, false)
DCASE(store_reboot, STORE, REBOOT, "coldplug.in-txn", "xenstored", false, NULL, false)
/* destroy always completes: what it could not remove it names */
/* an HVM guest's device model is found without the store's record; its
 * attach needs the store no more after the delay point */
DCASE(store_attach_hvm, STORE, ATTACH, "attach.before-txn", "xenstored",
      true, NULL, true)
DCASE(store_destroy, STORE, DESTROY, "destroy.before-deassign", "xenstored",
      true, NULL, false)
DCASE(hv_create, HV, CREATE, "coldplug.in-txn", "hypervisor", false, NULL, false)
/* the hypervisor's part of an attach (the assignment) is done before its
 * first delay point: the attach may succeed */
DCASE(hv_attach, HV, ATTACH, "attach.before-txn", "hypervisor", true, NULL, false)
DCASE(hv_detach, HV, DETACH, "detach.before-compact", "hypervisor", false,
      NULL, false)
DCASE(hv_reboot, HV, REBOOT, "coldplug.in-txn", "hypervisor", false, NULL, false)
DCASE(hv_destroy, HV, DESTROY, "destroy.before-deassign", "hypervisor", false,
      NULL, false)
DCASE(hv_destroy_hvm, HV, DESTROY, "destroy.paused", "hypervisor", false,
      NULL, true)
/* a create does not wait for the backend: it may succeed, and the guest
 * is left without its device (pci-list says so) */
DCASE(pb_create, PCIBACK, CREATE, "coldplug.in-txn", "pciback", true, NULL, false)
DCASE(pb_attach, PCIBACK, ATTACH, "attach.before-txn", "pciback", false, NULL, false)
DCASE(pb_detach, PCIBACK, DETACH, "detach.before-compact", "pciback", false,
      NULL, false)
DCASE(pb_reboot, PCIBACK, REBOOT, "destroy.before-deassign", "pciback", false,
      NULL, false)
DCASE(pb_destroy, PCIBACK, DESTROY, "destroy.before-deassign", "pciback",
      false, NULL, false)
DCASE(guest_attach, GUEST, ATTACH, "attach.before-txn", "guest", false, NULL, false)
DCASE(guest_detach, GUEST, DETACH, "detach.before-compact", "guest", true,
      NULL, false)
/* a destroy, and the destroy half of a reboot, stop the guest anyway */
DCASE(guest_reboot, GUEST, REBOOT, "destroy.before-deassign", "guest", true,
      NULL, false)
DCASE(guest_destroy, GUEST, DESTROY, "destroy.before-deassign", "guest", true,
      NULL, false)
DCASE(dm_create, DM, CREATE, "dm.spawned", "device model", false, NULL, false)
DCASE(dm_attach, DM, ATTACH, "attach.before-txn", "device model", false, NULL, false)
DCASE(dm_reboot, DM, REBOOT, "dm.spawned", "device model", false, NULL, false)
/* held after the QMP session is open, before device_del: the detach
 * fails within its bound naming the device model, which is gone */
DCASE(dm_detach, DM, DETACH, "detach.before-device-del",
      "its device model went away",
      false, NULL, false)
/* destroy stops the device model first anyway */
DCASE(dm_destroy, DM, DESTROY, "destroy.paused", "device model", true, NULL, false)

/* `xpt host stop` stops the device models with the guest kernels */
static bool host_stop_hvm(struct env *e)
{
	unsigned int h1;
	int rc;

	if (!assignable(e, DEV_D) || !create_hvm(e, "h1", "'06:00.0'", &h1))
		return false;
	CHECK(e, dms_left(e), "no device model runs for h1");
	rc = TS(e, 20000, "host", "stop");
	CHECK(e, rc == 0, "host stop: rc %d: %s", rc, e->out);
	CHECK(e, !dms_left(e), "xpt host stop left h1's device model running");
	return true;
}

/* After a hypervisor restart the new hypervisor counts domain ids from the
 * start again, while the store still holds the old domains' records.  A
 * guest created before the user ran the `xpt destroy` that `xpt list`
 * names must not take over what an old domain of the same id left: its
 * device markers, backend and record.  The old g2's 04:00.0 stays marked
 * for the old id and in no new guest's view until the old id is
 * destroyed. */
static bool hv_restart_create_first(struct env *e)
{
	unsigned int g2, g3 = 0, m = 0;
	const char *p2;
	char id[16];
	int rc;

	if (!assignable(e, DEV_A) || !assignable(e, DEV_B) ||
	    !create(e, "g2", "'04:00.0'", &g2))
		return false;
	if (!kill_wait(e, daemon_pid(e, "hypervisor"), "hypervisor"))
		return false;
	rc = TS(e, 20000, "host", "start", "--host", bins.hostfile);
	CHECK(e, rc == 0 && strstr(e->out, "restarted"), "host start should "
	      "restart the hypervisor: rc %d: %s", rc, e->out);
	if (!reconnect(e))
		return false;
	rc = TS(e, 30000, "create", cfg_file(e, "g3", ""));
	printf("    create g3 before the old domain %u is destroyed: rc %d: "
	       "%s\n", g2, rc, e->out);
	if (rc == 0) {
		CHECK(e, dom_by_name(e, "g3", &g3), "g3 was created but has no "
		      "domain id");
		CHECK(e, g3 != g2, "g3 took domain id %u, which the old g2's "
		      "records still name", g2);
	} else {
		snprintf(id, sizeof(id), "`xpt destroy %u`", g2);
		CHECK(e, strstr(e->out, id), "create refused without naming "
		      "the clean-up %s: %s", id, e->out);
	}
	CHECK(e, marker(e, DEV_B, &m) && m == g2, "04:00.0 should still be "
	      "marked for the old domain %u (it is %u)", g2, m);
	/* the clean-up `xpt list` names, then the host creates again */
	rc = TS(e, 10000, "list");
	for (p2 = e->out; (p2 = strstr(p2, "`xpt destroy ")); p2++) {
		snprintf(id, sizeof(id), "%lu", strtoul(p2 + 13, NULL, 10));
		if (strtoul(id, NULL, 10) != g3 && !destroy_ok(e, id))
			return false;
	}
	if (g3 && !destroy_ok(e, "g3"))
		return false;
	if (!inv_check(e, "after the clean-up"))
		return false;
	rc = TS(e, 30000, "create", cfg_file(e, "g4", ""));
	CHECK(e, rc == 0, "create after the clean-up: rc %d: %s", rc, e->out);
	TS(e, 20000, "host", "stop");
	return true;
}

struct busyarg { unsigned int domid; char log[48]; };

static bool busy_stopped(struct env *e, void *arg)
{
	struct busyarg *a = arg;

	return guest_proc_state(e, a->domid) == 'T' &&
	       proc_state(daemon_pid(e, "pciback")) == 'T';
}

/* both took the event and found the store gone (or the guest died) */
static bool busy_saw_loss(struct env *e, void *arg)
{
	struct busyarg *a = arg;

	return (file_count(e, a->log, "lost the xenstore connection") > 0 ||
		guest_proc_state(e, a->domid) == 0) &&
	       file_count(e, "pciback.log", "xenstore connection lost") > 0;
}

/*
 * The store dies while the guest kernel and pciback have xenstore work in
 * hand: both are stopped (SIGSTOP), g2's frontend state is written again
 * with the same value (an event for each), the store is killed, and they
 * go on: each takes the event and finds the connection gone (libxenstore
 * closed it on the EOF behind the event).  The guest must run on with its
 * device and its interrupts, as a kernel whose xenstored died does, and
 * pciback keep exporting it, until the recovery destroys g2 as any domain
 * the new store lost.  The guest used to exit on the lost connection (or,
 * when it read the store before the library had seen the EOF, take the
 * failed reads for a removed frontend and drop its device), and pciback
 * took its failed read of the frontend's state for Unknown and released
 * the backend; store-create met the first by chance, when the store was
 * killed while g2's guest was still connecting.
 */
static bool store_guest_busy(struct env *e)
{
	struct busyarg a;
	struct e2e_qstatus q;
	char path[96], id[40], reply[16384];
	unsigned int g2;
	pid_t gp, pb;
	int rc;

	if (!assignable(e, DEV_B) || !create(e, "g2", "'04:00.0'", &g2) ||
	    !wait_guest_devs(e, g2, 1, 10000))
		return false;
	a.domid = g2;
	snprintf(a.log, sizeof(a.log), "log/guest-%u.log", g2);
	gp = guest_pid(e, g2);
	pb = daemon_pid(e, "pciback");
	CHECK(e, gp > 1 && pb > 1 && kill(gp, SIGSTOP) == 0 &&
	      kill(pb, SIGSTOP) == 0, "cannot stop g2's guest (pid %d) and "
	      "pciback (pid %d)", (int)gp, (int)pb);
	if (!wait_until(e, busy_stopped, &a, 5000, "the guest and pciback "
			"to stop"))
		return false;
	/* the store sends the watchers' events before the writer's reply:
	 * once this write returns, the events wait in their sockets */
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state", g2);
	CHECK(e, xs_put(e, path, "4"), "cannot write %s", path);
	if (!kill_wait(e, daemon_pid(e, "xenstored"), "xenstored"))
		return false;
	CHECK(e, kill(gp, SIGCONT) == 0 && kill(pb, SIGCONT) == 0,
	      "cannot resume g2's guest and pciback");
	if (!wait_until(e, busy_saw_loss, &a, 10000, "g2's guest and pciback "
			"to take the event and find the store gone"))
		return false;
	CHECK(e, guest_proc_state(e, g2) != 0, "g2's guest kernel died with "
	      "the xenstored");
	CHECK(e, e2e_guest_status(&e->run, g2, &q) && qhas(&q, DEV_B),
	      "g2's guest no longer sees %s after the store died", bdf(DEV_B));
	snprintf(id, sizeof(id), "%s exported-to=%u", bdf(DEV_B), g2);
	CHECK(e, e2e_pciback(&e->run, "list", reply, sizeof(reply)) &&
	      strstr(reply, id), "pciback no longer exports %s to g2 after "
	      "the store died: %s", bdf(DEV_B), reply);
	if (!irq_counted(e, g2, DEV_B))
		return false;

	/* recovery: g2 is one of the domains the new store lost */
	rc = TS(e, 20000, "host", "start", "--host", bins.hostfile);
	CHECK(e, rc == 0 && strstr(e->out, "restarted"), "host start should "
	      "restart the store: rc %d: %s", rc, e->out);
	if (!reconnect(e))
		return false;
	rc = TS(e, 10000, "list");
	snprintf(id, sizeof(id), "`xpt destroy %u`", g2);
	CHECK(e, strstr(e->out, id), "xpt list should name domain %u (g2): "
	      "rc %d: %s", g2, rc, e->out);
	snprintf(id, sizeof(id), "%u", g2);
	if (!destroy_ok(e, id) ||
	    !wait_until(e, pb_exports_none, NULL, 5000, "pciback to release "
			"the backend the restarted store lost"))
		return false;
	return inv_check(e, "after the recovery");
}

static bool store_guest_busy_case(struct env *e)
{
	bool ok = store_guest_busy(e);
	char why[sizeof(e->run.why)];

	memcpy(why, e->run.why, sizeof(why));
	TS(e, 20000, "host", "stop");
	memcpy(e->run.why, why, sizeof(why));
	return ok;
}

const struct ocase daemon_cases[] = {
	{ "store-create", "xenstored killed in create", store_create, false },
	{ "store-attach", "xenstored killed in pci-attach", store_attach, false },
	{ "store-detach", "xenstored killed in pci-detach", store_detach, false },
	{ "store-reboot", "xenstored killed in reboot", store_reboot, false },
	{ "store-attach-hvm", "xenstored killed in pci-attach to an HVM guest", store_attach_hvm, false },
	{ "store-destroy", "xenstored killed in destroy", store_destroy, false },
	{ "store-guest-busy", "xenstored killed while a guest takes a watch event", store_guest_busy_case, false },
	{ "hv-create", "xpt-hypervisor killed in create", hv_create, false },
	{ "hv-attach", "xpt-hypervisor killed in pci-attach", hv_attach, false },
	{ "hv-detach", "xpt-hypervisor killed in pci-detach", hv_detach, false },
	{ "hv-reboot", "xpt-hypervisor killed in reboot", hv_reboot, false },
	{ "hv-destroy", "xpt-hypervisor killed in destroy", hv_destroy, false },
	{ "hv-destroy-hvm", "xpt-hypervisor killed in destroy of an HVM guest", hv_destroy_hvm, false },
	{ "hv-restart-create-first", "a create before the clean-up after a hypervisor restart", hv_restart_create_first, false },
	{ "pciback-create", "xpt-pciback killed in create", pb_create, false },
	{ "pciback-attach", "xpt-pciback killed in pci-attach", pb_attach, false },
	{ "pciback-detach", "xpt-pciback killed in pci-detach", pb_detach, false },
	{ "pciback-reboot", "xpt-pciback killed in reboot", pb_reboot, false },
	{ "pciback-destroy", "xpt-pciback killed in destroy", pb_destroy, false },
	{ "guest-attach", "the guest killed in pci-attach", guest_attach, false },
	{ "guest-detach", "the guest killed in pci-detach", guest_detach, false },
	{ "guest-reboot", "the guest killed in reboot", guest_reboot, false },
	{ "guest-destroy", "the guest killed in destroy", guest_destroy, false },
	{ "dm-create", "the device model killed in create", dm_create, false },
	{ "dm-attach", "the device model killed in pci-attach", dm_attach, false },
	{ "dm-reboot", "the device model killed in reboot", dm_reboot, false },
	{ "dm-detach", "the device model killed in pci-detach", dm_detach, false },
	{ "dm-destroy", "the device model killed in destroy", dm_destroy, false },
	{ "host-stop-hvm", "host stop with an HVM guest running", host_stop_hvm, false },
};
const unsigned int ndaemon_cases = sizeof(daemon_cases) / sizeof(daemon_cases[0]);

int64_t daemons_worst_ms(void)
{
	return worst_ms;
}
