// SPDX-License-Identifier: MIT
/*
 * One test per historic bug of docs/historic-bugs.md that applies to the
 * guests xpt runs: the PV ones (1-4, 6-15, 18-21, 24) and those of an HVM
 * guest without a stub domain (16, 22; the guest created by xpt with its
 * device model xpt-dm, the devices attached by the toolstack under
 * test).  Each takes the toolstack under test (struct env's ts) and asserts
 * what xenstore, the hypervisor and the guest must show; the runner
 * (toolstack.c) requires a failure against the libxl 4.17 peer and a pass
 * against xpt.  Where the 4.17 flow already carries the fix, the test runs
 * the peer in the variant from before that fix (struct bug.variant), as
 * the table in docs/historic-bugs.md says.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness.h"
#include "toolstack.h"

#define ATTACH(e, ms, dom, spec) TS(e, ms, "pci-attach", dom, spec)
#define DETACH(e, ms, dom, spec) TS(e, ms, "pci-detach", dom, spec)

static bool seize_all(struct env *e, const uint32_t *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!assignable(e, d[i]))
			return false;
	return true;
}

/* a device handed back: not in any backend, no marker, quarantined */
static bool released(struct env *e, unsigned int domid, uint32_t sbdf)
{
	unsigned int m;

	CHECK(e, be_find(e, domid, sbdf) < 0, "%s still in dom%u's backend",
	      bdf(sbdf), domid);
	CHECK(e, !marker(e, sbdf, &m), "stale /libxl/pci marker for %s "
	      "(domid %u): the device is no longer assignable", bdf(sbdf), m);
	CHECK(e, owner(e, sbdf) == HV_DOMID_IO, "%s still assigned to dom%u "
	      "in the IOMMU", bdf(sbdf), owner(e, sbdf));
	return true;
}

static bool be_gone(struct env *e, unsigned int domid)
{
	CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u/0", domid),
	      "backend/pci/%u/0 still present (state %d, num_devs %d)", domid,
	      be_state(e, domid),
	      xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", domid));
	CHECK(e, !xs_exists(e, "/local/domain/%u/device/pci/0", domid),
	      "frontend device/pci/0 of dom%u still present", domid);
	CHECK(e, !xs_exists(e, "/libxl/%u/device/pci/0", domid),
	      "/libxl/%u/device/pci/0 still present", domid);
	return true;
}

/* 1. only the first cold-plugged device exported, by a pre-5.13 pciback */
static bool bug1(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int domid, i;

	if (!seize_all(e, d, 3) ||
	    !create(e, "g1", "'03:00.0', '04:00.0', '05:00.0'", &domid))
		return false;
	if (!wait_guest_devs(e, domid, 3, 5000))
		return false;
	for (i = 0; i < 3; i++)
		CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/state-%u",
				domid, i) == 3, "state-%u is not 3", i);
	return true;
}

/* 2. hot-add to a running domain without a backend yet */
static bool bug2(struct env *e)
{
	uint32_t d[] = { DEV_A };
	unsigned int domid;
	int rc;

	if (!seize_all(e, d, 1) || !create(e, "g1", "", &domid))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "first pci-attach to a running domain: rc %d: %s",
	      rc, e->out);
	CHECK(e, xs_exists(e, "/local/domain/0/backend/pci/%u/0", domid) &&
	      xs_exists(e, "/local/domain/%u/device/pci/0", domid),
	      "backend or frontend not created");
	return wait_guest_devs(e, domid, 1, 5000);
}

struct devidx { unsigned int domid; int idx; };

static bool dev_written(struct env *e, void *arg)
{
	struct devidx *w = arg;

	return xs_exists(e, "/local/domain/0/backend/pci/%u/0/dev-%d",
			 w->domid, w->idx);
}

/* 3. hot-add: announce Reconfiguring atomically with the entry, wait for
 *    Connected before writing and again after */
static bool bug3(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	struct devidx w;
	unsigned int domid;
	struct e2e_proc *p;
	pid_t g;
	int rc;
	char path[128];

	if (!seize_all(e, d, 3) || !create(e, "g1", "'03:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	g = guest_pid(e, domid);
	CHECK(e, g > 1, "no guest pid");
	/* a slow guest: the reconfiguration cannot finish while stopped */
	kill(g, SIGSTOP);
	p = ts_spawn(e, NULL, (const char *const[]){ "pci-attach", "g1",
						      "04:00.0", NULL });
	w = (struct devidx){ domid, 1 };
	if (!wait_until(e, dev_written, &w, 10000, "dev-1 to be written")) {
		kill(g, SIGCONT);
		return fail(e, "dev-1 never written: %s", (ts_wait(e, p, 0, false), e->out));
	}
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			domid) == 2 &&
	      be_state(e, domid) == 7, "dev-1 written without num_devs=2 "
	      "and state=7 in the same transaction");
	rc = ts_wait(e, p, 1000, true);
	if (rc != -1) {
		kill(g, SIGCONT);
		return fail(e, "pci-attach returned (rc %d) while the backend "
			    "was still Reconfiguring (state %d): no wait for "
			    "Connected after the add", rc, be_state(e, domid));
	}
	kill(g, SIGCONT);
	rc = ts_wait(e, p, 20000, false);
	CHECK(e, rc == 0, "pci-attach: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 2, 5000))
		return false;

	/* a reconfiguration in flight (state 7, guest stopped): the next
	 * attach must wait instead of writing */
	kill(g, SIGSTOP);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 domid);
	if (!xs_put(e, path, "7")) {
		kill(g, SIGCONT);
		return false;
	}
	p = ts_spawn(e, NULL, (const char *const[]){ "pci-attach", "g1",
						      "05:00.0", NULL });
	w = (struct devidx){ domid, 2 };
	if (wait_until(e, dev_written, &w, 1000, NULL)) {
		kill(g, SIGCONT);
		ts_wait(e, p, 0, false);
		return fail(e, "dev-2 written while the backend was at 7");
	}
	kill(g, SIGCONT);
	rc = ts_wait(e, p, 20000, false);
	CHECK(e, rc == 0, "pci-attach after the reconfiguration: rc %d: %s",
	      rc, e->out);
	return wait_guest_devs(e, domid, 3, 5000);
}

/* 4. cold-plug into a paused domain does not wait for the guest */
static bool bug4(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct hv_domain_info info;
	unsigned int domid;
	const char *cfg;
	int rc, st;

	if (!seize_all(e, d, 2))
		return false;
	cfg = cfg_file(e, "g1", "'03:00.0', '04:00.0'");
	rc = TS(e, 5000, "create", "-p", cfg);
	CHECK(e, rc != -1, "create -p with two devices did not return within "
	      "5 s: it waits for Connected from a guest that cannot run");
	CHECK(e, rc == 0, "create -p: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &domid))
		return false;
	CHECK(e, hv_domain_getinfo(e->hv, domid, &info) == 0 &&
	      info.state == HV_DOM_PAUSED, "the domain is not paused");
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			domid) == 2 && be_find(e, domid, DEV_A) >= 0 &&
	      be_find(e, domid, DEV_B) >= 0, "not both devices in the backend");
	st = be_state(e, domid);
	CHECK(e, st >= 1 && st <= 3, "backend state %d at cold-plug (7 would "
	      "announce a reconfiguration nobody answers)", st);
	return true;
}

static bool wait_all(struct env *e, struct e2e_proc **p, unsigned int n,
		     const char *what)
{
	unsigned int i;
	int rc;
	bool ok = true;

	for (i = 0; i < n; i++) {
		rc = ts_wait(e, p[i], 30000, false);
		if (rc != 0 && ok)
			ok = fail(e, "%s #%u: rc %d: %s", what, i + 1, rc,
				  e->out);
	}
	return ok;
}

static struct e2e_proc *attach_bg(struct env *e, const char *delay,
				  const char *d, const char *spec)
{
	return ts_spawn(e, delay, (const char *const[]){ "pci-attach", d, spec,
							  NULL });
}

/* 6. three first attaches at once */
static bool bug6(struct env *e)
{
	static const char delay[] = "attach.before-txn=300,attach.in-txn=50";
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int domid, i;
	struct e2e_proc *p[3];

	if (!seize_all(e, d, 3) || !create(e, "g1", "", &domid))
		return false;
	p[0] = attach_bg(e, delay, "g1", "03:00.0");
	p[1] = attach_bg(e, delay, "g1", "04:00.0");
	p[2] = attach_bg(e, delay, "g1", "05:00.0");
	if (!wait_all(e, p, 3, "concurrent pci-attach"))
		return false;
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			domid) == 3, "num_devs=%d after three successful first "
	      "attaches", xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
				 domid));
	for (i = 0; i < 3; i++)
		CHECK(e, be_find(e, domid, d[i]) >= 0, "%s lost from the "
		      "backend (still assigned to dom%u)", bdf(d[i]),
		      owner(e, d[i]));
	return wait_guest_devs(e, domid, 3, 5000);
}

/* 7. two appends at once */
static bool bug7(struct env *e)
{
	static const char delay[] = "attach.before-txn=300,attach.in-txn=50";
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int domid, i;
	struct e2e_proc *p[2];

	if (!seize_all(e, d, 3) || !create(e, "g1", "'03:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	p[0] = attach_bg(e, delay, "g1", "04:00.0");
	p[1] = attach_bg(e, delay, "g1", "05:00.0");
	if (!wait_all(e, p, 2, "concurrent pci-attach"))
		return false;
	for (i = 0; i < 3; i++)
		CHECK(e, be_find(e, domid, d[i]) >= 0, "%s lost from the "
		      "backend (num_devs=%d)", bdf(d[i]),
		      xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			     domid));
	return wait_guest_devs(e, domid, 3, 5000);
}

/* 8. missed Connected: a hot-add while the guest has published its
 * frontend (3) but not yet seen pciback's Connected (4).  A toolstack
 * that announces Reconfiguring (7) then relies on the guest's "missed
 * Connected" handling (Linux 6.1 on; the lab's 6.12 guest stayed at 3
 * anyway): a guest without it (here --no-missed-connected) ignores the 7
 * and the backend stays at 7 for good.  The toolstack must wait until
 * both ends are Connected before it reconfigures, and then until the
 * backend is Connected again. */
static bool bug8(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int domid;
	char reply[64];
	struct e2e_proc *p;
	int rc, i;

	if (!seize_all(e, d, 2))
		return false;
	e->hold = true;
	if (!create(e, "g1", "'03:00.0'", &domid))
		return false;
	e->hold = false;
	/* the guest published (3), pciback connected (4), the guest has
	 * not looked at 4 yet */
	if (!wait_states(e, domid, 3, 4, 5000))
		return false;
	p = attach_bg(e, NULL, "g1", "04:00.0");
	for (i = 0; i < 15; i++) {	/* 1.5 s: the guest still at 3 */
		if (be_state(e, domid) == 7) {
			ts_wait(e, p, 0, false);
			return fail(e, "the hot-add announced 7 while the "
				    "guest's frontend was at 3 (it had not "
				    "seen Connected)");
		}
		usleep(100000);
	}
	rc = ts_wait(e, p, 0, true);
	if (rc != -1)
		return fail(e, "pci-attach returned (rc %d) while the guest's "
			    "frontend had not connected: %s", rc, e->out);
	if (!e2e_guest_query(&e->run, domid, "resume", reply, sizeof(reply)))
		return false;
	rc = ts_wait(e, p, 20000, false);
	CHECK(e, rc == 0, "pci-attach: rc %d: %s", rc, e->out);
	CHECK(e, be_state(e, domid) == 4, "pci-attach returned with the "
	      "backend at %d", be_state(e, domid));
	return wait_guest_devs(e, domid, 2, 5000);
}

/* 9. num_devs missing is fatal to pciback: never produce that state */
static bool bug9(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int domid;
	int rc;
	char *err;

	if (!seize_all(e, d, 3))
		return false;
	if (!create(e, "g1", "'03:00.0', '04:00.0'", &domid))
		return false;
	err = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error", domid);
	if (err) {
		fail(e, "pciback failed the backend: %s", err);
		free(err);
		return false;
	}
	if (!wait_guest_devs(e, domid, 2, 5000))
		return false;
	rc = ATTACH(e, 30000, "g1", "05:00.0");
	CHECK(e, rc == 0, "pci-attach: rc %d: %s", rc, e->out);
	return wait_guest_devs(e, domid, 3, 5000);
}

static bool keys_of(struct env *e, unsigned int domid, int i, uint32_t sbdf,
		    const char *opt)
{
	static const char *const keys[] = { "dev", "key", "state", "vdev",
					    "opts" };
	char *v;
	size_t k;

	for (k = 0; k < 5; k++)
		CHECK(e, xs_exists(e, "/local/domain/0/backend/pci/%u/0/%s-%d",
				   domid, keys[k], i), "%s-%d missing after "
		      "compaction", keys[k], i);
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/dev-%d", domid, i);
	CHECK(e, v && !strcmp(v, bdf(sbdf)), "dev-%d=%s, wanted %s", i,
	      v ? v : "(none)", bdf(sbdf));
	free(v);
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/key-%d", domid, i);
	CHECK(e, v && !strcmp(v, bdf(sbdf)), "key-%d=%s, wanted %s", i,
	      v ? v : "(none)", bdf(sbdf));
	free(v);
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/opts-%d", domid, i);
	CHECK(e, v && (!opt || strstr(v, opt)), "opts-%d=%s, wanted %s", i,
	      v ? v : "(none)", opt);
	free(v);
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/state-%d",
			domid, i) == 3, "state-%d is not 3", i);
	return true;
}

static bool no_index(struct env *e, unsigned int domid, int i)
{
	static const char *const keys[] = { "dev", "key", "state", "vdev",
					    "opts", "vdevfn", "name" };
	size_t k;

	for (k = 0; k < 7; k++)
		CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u/0/%s-%d",
				    domid, keys[k], i), "%s-%d left behind "
		      "beyond num_devs", keys[k], i);
	return true;
}

/* 10. detach compaction, and two detaches at once */
static bool bug10(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C, DEV_D };
	unsigned int domid;
	struct e2e_proc *p[2];
	struct e2e_qstatus s;
	int rc;

	if (!seize_all(e, d, 4) ||
	    !create(e, "g1", "'03:00.0', '04:00.0,permissive=1', "
		    "'05:00.0,msitranslate=1'", &domid) ||
	    !wait_guest_devs(e, domid, 3, 5000))
		return false;
	rc = DETACH(e, 30000, "g1", "04:00.0");
	CHECK(e, rc == 0, "pci-detach 04:00.0: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 2, 5000))
		return false;
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			domid) == 2, "num_devs is not 2");
	if (!keys_of(e, domid, 1, DEV_C, "msitranslate=1") ||
	    !keys_of(e, domid, 0, DEV_A, NULL) || !no_index(e, domid, 2) ||
	    !released(e, domid, DEV_B))
		return false;
	rc = ATTACH(e, 30000, "g1", "06:00.0");
	CHECK(e, rc == 0, "pci-attach 06:00.0: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 3, 5000))
		return false;
	/* detach index 0 and index 1 at once */
	p[0] = ts_spawn(e, "detach.in-txn=300", (const char *const[]){
		"pci-detach", "g1", "03:00.0", NULL });
	p[1] = ts_spawn(e, "detach.in-txn=300", (const char *const[]){
		"pci-detach", "g1", "05:00.0", NULL });
	if (!wait_all(e, p, 2, "concurrent pci-detach"))
		return false;
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			domid) == 1, "num_devs=%d after two of three detached",
	      xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", domid));
	if (!keys_of(e, domid, 0, DEV_D, NULL) || !no_index(e, domid, 1) ||
	    !no_index(e, domid, 2) || !released(e, domid, DEV_A) ||
	    !released(e, domid, DEV_C) || !wait_guest_devs(e, domid, 1, 5000))
		return false;
	CHECK(e, e2e_guest_status(&e->run, domid, &s) && qhas(&s, DEV_D),
	      "the guest lost %s", bdf(DEV_D));
	return true;
}

/* 11. detaching the last device removes everything, even with a dead
 *     frontend (forced); and one of two, the guest dead, is released */
static bool bug11(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct layers l;
	unsigned int domid;
	pid_t g;
	int rc;

	if (!seize_all(e, d, 2) || !create(e, "g1", "'03:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	rc = DETACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "pci-detach: rc %d: %s", rc, e->out);
	if (!be_gone(e, domid) || !released(e, domid, DEV_A))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "pci-attach again: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 1, 5000))
		return false;
	g = guest_pid(e, domid);
	CHECK(e, g > 1, "no guest pid");
	kill(g, SIGSTOP);	/* the frontend stops answering */
	rc = TS(e, 30000, "pci-detach", "-f", "g1", "03:00.0");
	kill(g, SIGCONT);
	CHECK(e, rc == 0 || rc == 1, "pci-detach -f: rc %d: %s", rc, e->out);
	if (!be_gone(e, domid) || !released(e, domid, DEV_A))
		return false;
	/* a device that is not the last, the guest dead: the one detached
	 * is released by pciback too, the other stays */
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "pci-attach 03:00.0 again: rc %d: %s", rc, e->out);
	rc = ATTACH(e, 30000, "g1", "04:00.0");
	CHECK(e, rc == 0, "pci-attach 04:00.0: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 2, 5000))
		return false;
	kill(g, SIGKILL);
	rc = TS(e, 30000, "pci-detach", "-f", "g1", "04:00.0");
	CHECK(e, rc == 0 || rc == 1, "pci-detach -f of one of two, guest "
	      "dead: rc %d: %s", rc, e->out);
	layers_get(e, DEV_B, &l);
	CHECK(e, rc != 0 || l.pb == -1, "pci-detach -f of one of two devices "
	      "of a dead guest returned 0, pciback keeps it: %s",
	      layers_str(&l));
	CHECK(e, be_find(e, domid, DEV_A) >= 0, "03:00.0 left the backend "
	      "with 04:00.0");
	return rc != 0 || released(e, domid, DEV_B);
}

static bool opts_has(struct env *e, unsigned int domid, uint32_t sbdf,
		     const char *what)
{
	int i = be_find(e, domid, sbdf);
	char *v;

	CHECK(e, i >= 0, "%s missing after reboot", bdf(sbdf));
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/opts-%d", domid, i);
	CHECK(e, v && strstr(v, what), "%s: opts %s, wanted %s", bdf(sbdf),
	      v ? v : "(none)", what);
	free(v);
	return true;
}

/* 12. reboot keeps every device, its options and the name it was
 *     attached by */
static bool bug12(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C, DEV_D };
	unsigned int domid, dom2;
	char *v;
	int rc, i;

	/* `xl pci-assignable-add -n nic 06:00.0` */
	if (!seize_all(e, d, 4) ||
	    !xs_put(e, "/libxl/pci/0000-06-00-0/name", "nic") ||
	    !create(e, "g1", "'03:00.0,permissive=1', "
		    "'04:00.0@3,rdm_policy=relaxed', '05:00.0,msitranslate=1'",
		    &domid) || !wait_guest_devs(e, domid, 3, 5000))
		return false;
	/* a device attached by name: name-N is kept across the reboot */
	rc = TS(e, 30000, "pci-attach", "g1", "name=nic");
	CHECK(e, rc == 0, "pci-attach name=nic: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 4, 5000))
		return false;
	rc = TS(e, 60000, "reboot", "g1");
	CHECK(e, rc == 0, "reboot: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &dom2) || !guest_wait_started(e, dom2) ||
	    !wait_guest_devs(e, dom2, 4, 5000))
		return false;
	if (!opts_has(e, dom2, DEV_A, "permissive=1") ||
	    !opts_has(e, dom2, DEV_B, "rdm_policy=relaxed") ||
	    !opts_has(e, dom2, DEV_C, "msitranslate=1"))
		return false;
	i = be_find(e, dom2, DEV_B);
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/vdevfn-%d", dom2, i);
	CHECK(e, v && strtoul(v, NULL, 16) == 0x18, "vdevfn of %s: %s, "
	      "wanted 18 (@3)", bdf(DEV_B), v ? v : "(none)");
	free(v);
	i = be_find(e, dom2, DEV_D);
	v = i >= 0 ? xs_get(e, "/local/domain/0/backend/pci/%u/0/name-%d",
			    dom2, i) : NULL;
	CHECK(e, v && !strcmp(v, "nic"), "%s attached as name=nic: name-%d "
	      "%s after the reboot", bdf(DEV_D), i, v ? v : "missing");
	free(v);
	return true;
}

/* 13. a hot-attached first device is in the saved configuration */
static bool bug13(struct env *e)
{
	uint32_t d[] = { DEV_A };
	unsigned int domid, dom2;
	int rc;

	if (!seize_all(e, d, 1) || !create(e, "g1", "", &domid))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "pci-attach: rc %d: %s", rc, e->out);
	if (!wait_guest_devs(e, domid, 1, 5000))
		return false;
	rc = TS(e, 60000, "reboot", "g1");
	CHECK(e, rc == 0, "reboot: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &dom2) || !guest_wait_started(e, dom2))
		return false;
	CHECK(e, be_find(e, dom2, DEV_A) >= 0, "the device attached with "
	      "pci-attach did not survive the reboot (not in the saved "
	      "configuration)");
	return wait_guest_devs(e, dom2, 1, 5000);
}

/* 14. a failed attach leaves nothing behind */
static bool bug14(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int domid;
	char path[128];
	pid_t g;
	int rc;

	if (!seize_all(e, d, 2) || !create(e, "g1", "'03:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	/* a reconfiguration that never finishes: the attach must fail */
	g = guest_pid(e, domid);
	CHECK(e, g > 1, "no guest pid");
	kill(g, SIGSTOP);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 domid);
	if (!xs_put(e, path, "7")) {
		kill(g, SIGCONT);
		return false;
	}
	rc = ATTACH(e, 40000, "g1", "04:00.0");
	kill(g, SIGCONT);
	CHECK(e, rc == 1, "pci-attach while the backend never reconnects: "
	      "rc %d, wanted 1: %s", rc, e->out);
	return released(e, domid, DEV_B);
}

/* 15. destroy with a dead frontend: quick, and everything released */
static bool bug15(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct hv_domain_info info;
	unsigned int domid;
	char path[128];
	int64_t t0;
	pid_t g;
	int rc;

	if (!seize_all(e, d, 2) ||
	    !create(e, "g1", "'03:00.0', '04:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 2, 5000))
		return false;
	g = guest_pid(e, domid);
	CHECK(e, g > 1, "no guest pid");
	kill(g, SIGSTOP);	/* dead; stays a process for teardown */
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state",
		 domid);
	if (!xs_put(e, path, "6"))
		return false;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 domid);
	if (!xs_put(e, path, "6"))
		return false;
	t0 = e2e_now_ms();
	rc = TS(e, 3000, "destroy", "g1");
	CHECK(e, rc != -1, "destroy with a dead frontend took more than 3 s "
	      "(libxl waits 10 s per device)");
	CHECK(e, rc == 0, "destroy: rc %d: %s", rc, e->out);
	CHECK(e, hv_domain_getinfo(e->hv, domid, &info) < 0 ||
	      info.state == HV_DOM_DYING, "the domain still exists");
	(void)t0;
	return be_gone(e, domid) && released(e, domid, DEV_A) &&
	       released(e, domid, DEV_B);
}

/* the lines of a log in the run directory that contain needle */
/* a device given to an HVM guest: assigned to it in the IOMMU, marked for
 * it, and (in_dm) in its device model's own view (query-pci) */
static bool hvm_owned(struct env *e, unsigned int domid, uint32_t sbdf,
		      bool in_dm)
{
	char reply[16384];
	unsigned int m;

	CHECK(e, owner(e, sbdf) == domid, "%s: IOMMU owner dom%u, not the HVM "
	      "guest dom%u", bdf(sbdf), owner(e, sbdf), domid);
	CHECK(e, marker(e, sbdf, &m) && m == domid, "%s: no /libxl/pci marker "
	      "for dom%u", bdf(sbdf), domid);
	if (!in_dm || !dm_qmp(e, domid, "query-pci", reply, sizeof(reply)))
		return !in_dm;
	CHECK(e, dm_has(reply, sbdf), "%s is not in dom%u's device model "
	      "(query-pci: %s)", bdf(sbdf), domid, reply);
	return true;
}

/* a device an HVM guest gave back: in no backend, unmarked, quarantined,
 * held by pciback and exported to nobody, and (dm_live) not in the
 * device model */
static bool hvm_released(struct env *e, unsigned int domid, uint32_t sbdf,
			 bool dm_live)
{
	char reply[16384];
	struct layers l;

	layers_get(e, sbdf, &l);
	CHECK(e, !l.nbe && l.marker < 0 && l.owner == HV_DOMID_IO && l.pb == -1,
	      "%s not released by HVM dom%u: %s", bdf(sbdf), domid,
	      layers_str(&l));
	if (!dm_live || !dm_qmp(e, domid, "query-pci", reply, sizeof(reply)))
		return !dm_live;
	CHECK(e, !dm_has(reply, sbdf), "%s is still in dom%u's device model "
	      "(query-pci: %s)", bdf(sbdf), domid, reply);
	return true;
}

/* 16, with the device model stopped: the normal detach fails, bounded,
 * leaving the device the guest's; the forced one releases it */
static bool bug16_hung(struct env *e, unsigned int domid)
{
	struct layers l;
	int64_t t0 = e2e_now_ms();
	int rc, resets;

	rc = DETACH(e, 30000, "h1", "03:00.0");
	CHECK(e, rc != -1, "pci-detach with a hung device model did not return "
	      "within 30 s");
	CHECK(e, rc != 0, "pci-detach returned 0 though the device model never "
	      "took the device out (%.1f s)",
	      (double)(e2e_now_ms() - t0) / 1000);
	if (!hvm_owned(e, domid, DEV_A, false))
		return fail(e, "after a failed pci-detach: %s", e->run.why);
	resets = file_count(e, "pciback.log", "0000:03:00.0: reset");
	t0 = e2e_now_ms();
	rc = TS(e, 30000, "pci-detach", "-f", "h1", "03:00.0");
	if (rc != 0) {
		layers_get(e, DEV_A, &l);
		return fail(e, "forced detach with a hung device model failed "
			    "(rc %d after %.1f s), the device stays the "
			    "guest's: %s: %s", rc,
			    (double)(e2e_now_ms() - t0) / 1000, layers_str(&l),
			    e->out);
	}
	if (!hvm_released(e, domid, DEV_A, false))
		return false;
	CHECK(e, file_count(e, "pciback.log", "0000:03:00.0: reset") > resets,
	      "%s was not reset by the forced detach", bdf(DEV_A));
	return true;
}

/* 16. forced HVM detach on a QMP timeout */
static bool bug16(struct env *e)
{
	uint32_t d[] = { DEV_A };
	unsigned int domid, dom2;
	pid_t dm;
	bool ok;
	int rc;

	if (!seize_all(e, d, 1) || !create_hvm(e, "h1", "", &domid))
		return false;
	rc = ATTACH(e, 30000, "h1", "03:00.0");
	CHECK(e, rc == 0, "pci-attach to HVM dom%u: rc %d: %s", domid, rc,
	      e->out);
	if (!hvm_owned(e, domid, DEV_A, true))
		return false;
	dm = dm_pid(e, domid);
	CHECK(e, dm > 1, "HVM dom%u has no device model pid", domid);
	kill(dm, SIGSTOP);	/* hung: device_del never completes */
	ok = bug16_hung(e, domid);
	kill(dm, SIGCONT);
	if (!ok)
		return false;
	/* assignable again: a PV guest gets it and sees it */
	return create(e, "g2", "'03:00.0'", &dom2) &&
	       wait_guest_devs(e, dom2, 1, 5000);
}

static bool not_reconfiguring(struct env *e, void *arg)
{
	return be_state(e, *(unsigned int *)arg) != 7;
}

/* 22. HVM hot-add leaves the backend at 7 */
static bool bug22(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int domid, i;
	struct layers l;
	int rc;

	if (!seize_all(e, d, 2) || !create_hvm(e, "h1", "", &domid))
		return false;
	for (i = 0; i < 2; i++) {
		rc = ATTACH(e, 30000, "h1", bdf(d[i]));
		CHECK(e, rc == 0, "pci-attach %s to HVM dom%u: rc %d: %s",
		      bdf(d[i]), domid, rc, e->out);
		if (!hvm_owned(e, domid, d[i], true))
			return false;
	}
	/* an HVM guest has no pcifront: nobody answers Reconfiguring */
	CHECK(e, wait_until(e, not_reconfiguring, &domid, 3000, NULL),
	      "HVM dom%u's backend stuck at 7 (Reconfiguring) 3 s after the "
	      "second hot-add (num_devs %d, frontend %d): nobody answers it",
	      domid, xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			    domid), fe_state(e, domid));
	CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u/0", domid) &&
	      !xs_exists(e, "/local/domain/%u/device/pci/0", domid),
	      "HVM dom%u has a pciback backend (state %d) or frontend "
	      "directory: its devices go through the device model", domid,
	      be_state(e, domid));
	for (i = 0; i < 2; i++) {
		layers_get(e, d[i], &l);
		CHECK(e, l.pb == -1, "pciback exports %s though the HVM guest "
		      "has it through its device model: %s", bdf(d[i]),
		      layers_str(&l));
	}
	/* and back through device_del, the other device untouched */
	rc = DETACH(e, 30000, "h1", "04:00.0");
	CHECK(e, rc == 0, "pci-detach 04:00.0 from HVM dom%u: rc %d: %s",
	      domid, rc, e->out);
	if (!hvm_released(e, domid, DEV_B, true) ||
	    !hvm_owned(e, domid, DEV_A, true))
		return false;
	rc = DETACH(e, 30000, "h1", "03:00.0");
	CHECK(e, rc == 0, "pci-detach 03:00.0 from HVM dom%u: rc %d: %s",
	      domid, rc, e->out);
	return hvm_released(e, domid, DEV_A, true);
}

/* 18. BB:DD.* attaches every function, function 0 last */
static bool bug18(struct env *e)
{
	uint32_t d[] = { DEV_MF0, DEV_MF1 };
	unsigned int domid;
	struct e2e_qstatus s;
	int rc, i0, i1;

	if (!seize_all(e, d, 2) || !create(e, "g1", "", &domid))
		return false;
	rc = ATTACH(e, 30000, "g1", "08:00.*@5");
	CHECK(e, rc == 0, "pci-attach 08:00.*@5: rc %d: %s", rc, e->out);
	i0 = be_find(e, domid, DEV_MF0);
	i1 = be_find(e, domid, DEV_MF1);
	CHECK(e, i0 >= 0 && i1 >= 0, "not every function attached: "
	      "08:00.0 %s, 08:00.1 %s", i0 >= 0 ? "yes" : "no",
	      i1 >= 0 ? "yes" : "no");
	CHECK(e, i0 > i1, "function 0 is not the last one attached");
	if (!wait_guest_devs(e, domid, 2, 5000) ||
	    !e2e_guest_status(&e->run, domid, &s))
		return false;
	CHECK(e, qhas(&s, DEV_MF0) && qhas(&s, DEV_MF1), "the guest lacks a "
	      "function");
	rc = DETACH(e, 30000, "g1", "08:00.*");
	CHECK(e, rc == 0, "pci-detach 08:00.*: rc %d: %s", rc, e->out);
	return released(e, domid, DEV_MF0) && released(e, domid, DEV_MF1);
}

/* 19. detach revokes the full 64-bit frame numbers */
static bool bug19(struct env *e)
{
	uint32_t d[] = { DEV_A };
	struct hv_pci_dev info;
	unsigned int domid, b;
	char line[128];
	int rc;

	if (!seize_all(e, d, 1) || !create(e, "g1", "'03:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	CHECK(e, hv_pci_info(e->hv, DEV_A, &info) == 0, "pci info");
	rc = DETACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc == 0, "pci-detach: rc %d: %s", rc, e->out);
	for (b = 0; b < 6; b++) {
		uint64_t frame = info.bar[b].addr >> 12,
			 nr = (info.bar[b].size + 4095) >> 12;

		if (!info.bar[b].size || (info.bar[b].flags & HV_BAR_IO))
			continue;
		snprintf(line, sizeof(line), "domain %u: iomem %#llx+%#llx "
			 "revoked", domid, (unsigned long long)frame,
			 (unsigned long long)nr);
		CHECK(e, file_has(e, "hypervisor.log", line), "bar%u at "
		      "%#llx: iomem frames %#llx+%#llx not revoked on detach "
		      "(the guest keeps access)", b,
		      (unsigned long long)info.bar[b].addr,
		      (unsigned long long)frame, (unsigned long long)nr);
	}
	return released(e, domid, DEV_A);
}

/* 20. permissive applied, also for a device without a legacy IRQ */
static bool bug20(struct env *e)
{
	uint32_t d[] = { DEV_E };
	unsigned int domid;
	char *v;

	if (!seize_all(e, d, 1) ||
	    !create(e, "g1", "'07:00.0,permissive=1'", &domid) ||
	    !wait_guest_devs(e, domid, 1, 5000))
		return false;
	v = xs_get(e, "/local/domain/0/backend/pci/%u/0/opts-0", domid);
	CHECK(e, v && strstr(v, "permissive=1"), "opts-0: %s", v ? v : "(none)");
	free(v);
	CHECK(e, file_has(e, "pciback.log", "0000:07:00.0: permissive"),
	      "pciback was never told that 07:00.0 is permissive");
	return true;
}

/* 21. the spec grammar */
static bool bug21(struct env *e)
{
	static const struct { const char *spec; int rc; } cases[] = {
		{ "bdf=03:00.0,name=x", 2 },
		{ "03:00.0@20", 2 },
		{ "3:0.8", 2 },
		{ "0000:03:00.*@8,rdm_policy=relaxed", 0 },
		{ "name=gpu", 0 },
	};
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int domid;
	size_t i;
	int rc;

	if (!seize_all(e, d, 2) || !create(e, "g1", "", &domid))
		return false;
	/* `xl pci-assignable-add -n gpu 04:00.0` */
	if (!xs_put(e, "/libxl/pci/0000-04-00-0/name", "gpu"))
		return false;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = ATTACH(e, 30000, "g1", cases[i].spec);
		CHECK(e, rc == cases[i].rc, "pci-attach '%s': rc %d, wanted "
		      "%d: %s", cases[i].spec, rc, cases[i].rc, e->out);
	}
	CHECK(e, be_find(e, domid, DEV_A) >= 0 && be_find(e, domid, DEV_B) >= 0,
	      "03:00.* or name=gpu not attached");
	return wait_guest_devs(e, domid, 2, 5000);
}

static bool error_written(struct env *e, void *arg)
{
	return xs_exists(e, "/local/domain/0/error/backend/pci/%u/0/error",
			 *(unsigned int *)arg);
}

/* 24. a backend failure is reported with the backend's message; a
 * toolstack that knows what pciback refuses (a bridge) refuses it before
 * writing anything, and the guest keeps the device it has. */
static bool bug24(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_BR };
	unsigned int domid;
	char *err, *msg;
	int rc;

	if (!seize_all(e, d, 3) ||
	    !create(e, "g1", "'03:00.0', '04:00.0'", &domid) ||
	    !wait_guest_devs(e, domid, 2, 5000))
		return false;
	rc = ATTACH(e, 30000, "g1", "09:00.0");
	/* a toolstack that does not wait returns before pciback failed */
	wait_until(e, error_written, &domid, 5000, NULL);
	err = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error", domid);
	/* refused before anything was written: the guest keeps both */
	if (!err && rc != 0 && strstr(e->out, "bridge") &&
	    be_find(e, domid, DEV_BR) < 0)
		return wait_guest_devs(e, domid, 2, 5000) &&
		       inv_check(e, "after a refused bridge attach");
	if (!err)
		return fail(e, "pciback wrote no error node (rc %d: %s)", rc,
			    e->out);
	msg = strchr(err, ' ') ? strchr(err, ' ') + 1 : err;
	if (rc == 0) {
		fail(e, "pci-attach returned 0 though the backend failed: %s",
		     msg);
		free(err);
		return false;
	}
	if (!strstr(e->out, msg)) {
		fail(e, "pci-attach failed (rc %d) without the backend's "
		     "message '%s': %s", rc, msg, e->out);
		free(err);
		return false;
	}
	free(err);
	return true;
}

const struct bug bugs[] = {
	{ 1, "only the first cold-plugged device exported", bug1, true, NULL, 0, false,
	  "sees 1 device(s), wanted 3" },
	{ 2, "hot-add waits for a backend that does not exist", bug2, false,
	  "pre-73ee2795aa", 0, false,
	  "does not exist" },
	{ 3, "hot-add: wait for Connected before and after, 7 atomically",
	  bug3, false, NULL, 0, false,
	  "while the backend was still Reconfiguring" },
	{ 4, "cold-plug waits for an unstarted guest", bug4, false,
	  "pre-70628d024da4", 0, false,
	  "did not return within 5 s" },
	{ 6, "concurrent first attach", bug6, false, NULL, 3000, false,
	  /* num_devs=1 as a rule (each attach built the backend for its
	   * own device); 2 seen on a loaded host: either is the bug */
	  "after three successful first attaches" },
	{ 7, "concurrent append", bug7, false, NULL, 3000, false,
	  "lost from the backend" },
	{ 8, "missed Connected", bug8, false, NULL, 0, false,
	  "while the guest's frontend was at 3" },
	{ 9, "num_devs missing is fatal to pciback", bug9, true,
	  "num-devs-last", 0, false,
	  "Error reading number of devices" },
	{ 10, "detach compaction (and two detaches at once)", bug10, false,
	  NULL, 3000, false,
	  /* 2 as a rule (the second detach's stale index); 3 seen on a
	   * loaded host: either is the bug */
	  "after two of three detached" },
	{ 11, "detaching the last device removes everything", bug11, false,
	  NULL, 3000, false,
	  "backend/pci/1/0 still present" },
	{ 12, "reboot keeps all devices and options", bug12, false,
	  "pre-c19434d928", 0, false,
	  "sees 1 device(s), wanted 4" },
	{ 13, "a pci-attached device is in the saved config", bug13, false,
	  "pre-0fdb48ffe7", 0, false,
	  "did not survive the reboot" },
	{ 14, "a failed attach leaves nothing behind", bug14, false, NULL,
	  3000, false,
	  "still assigned to dom1 in the IOMMU" },
	{ 15, "destroy with a dead frontend", bug15, false, NULL, 0, false,
	  "took more than 3 s" },
	{ 16, "forced HVM detach on a QMP timeout", bug16, false,
	  "pre-c9cccbdff8", 0, false,
	  "forced detach with a hung device model failed" },
	{ 18, "multi-function attach adds every function", bug18, false,
	  NULL, 0, false,
	  "08:00.0 no, 08:00.1 yes" },
	{ 19, "64-bit BAR revocation (XSA-476)", bug19, false, NULL, 0, false,
	  "not revoked on detach" },
	{ 20, "permissive applied without a legacy IRQ", bug20, false, NULL,
	  0, false,
	  "never told that 07:00.0 is permissive" },
	{ 21, "spec parser", bug21, false, NULL, 0, true,
	  NULL },
	{ 22, "HVM hot-add leaves the backend at 7", bug22, false, NULL, 0,
	  false,
	  "stuck at 7 (Reconfiguring)" },
	{ 24, "backend error surfaced", bug24, false, NULL, 0, false,
	  "returned 0 though the backend failed" },
};
const unsigned int nbugs = sizeof(bugs) / sizeof(bugs[0]);
