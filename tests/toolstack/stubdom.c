// SPDX-License-Identifier: MIT
/*
 * The historic bugs of HVM guests whose device model runs in a stub
 * domain (docs/historic-bugs.md: 5, 17, 23, the startup of the stub's
 * device model 25 and 26, and 2 and 6 of the PV flow through a stub
 * domain's backend), run by toolstack.c's
 * `stubdom` mode like the others: each FAILS against the libxl 4.17 peer
 * (in the variant from before the fix where 4.17 has it) and PASSES
 * against xpt.  The guest G and its stub domain S are made by the
 * toolstack under test (the peer has xpt build the domains and start
 * the stub's kernel, then cold-plugs as libxl does); S's kernel is
 * xpt-guest --stubdom, whose device model xpt-dm opens a device only once
 * S's pcifront has it.
 *
 * A device of G is checked on every layer: an entry in S's own backend,
 * exported by pciback (state-N 3) to S and to nobody else; no backend for
 * G; marked for G (/libxl/pci), assigned to G in the IOMMU; in S's
 * pcifront (its query socket's pci-dev, what the device model reads in
 * sysfs); in the device model's query-pci; and the guest G counts it in
 * its own scan.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "toolstack.h"

/* the failure recorded, with what was going on in front */
static bool during(struct env *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool during(struct env *e, const char *fmt, ...)
{
	char what[512], why[sizeof(e->run.why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, sizeof(why), "%s", e->run.why);
	e->run.why[0] = '\0';
	return fail(e, "%s: %s", what, why);
}

static bool seize(struct env *e, const uint32_t *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!assignable(e, d[i]))
			return false;
	return true;
}

static const char *stub_cfg(struct env *e, const char *name, const char *pci)
{
	return cfg_write(e, name, "# an HVM guest whose device model runs in "
			 "a stub domain\nname = \"%s\"\ntype = \"hvm\"\n"
			 "memory = 128\nvcpus = 1\n"
			 "device_model_stubdomain_override = 1\n"
			 "passthrough = \"enabled\"\npci = [ %s ]\n", name, pci);
}

/* the stub domain of G: its device-model-domid, whose target is G */
static bool stub_of(struct env *e, unsigned int g, unsigned int *ret_s)
{
	int s = xs_int(e, "/local/domain/%u/image/device-model-domid", g);

	CHECK(e, s > 0, "dom%u has no image/device-model-domid: no stub domain",
	      g);
	CHECK(e, xs_int(e, "/local/domain/%d/target", s) == (int)g,
	      "dom%d, dom%u's device model domain, does not target it", s, g);
	*ret_s = (unsigned int)s;
	return true;
}

static bool found(struct env *e, const char *name, unsigned int *ret_g,
		  unsigned int *ret_s)
{
	return dom_by_name(e, name, ret_g) && stub_of(e, *ret_g, ret_s) &&
	       guest_wait_started(e, *ret_g) && guest_wait_started(e, *ret_s);
}

static bool create_stub(struct env *e, const char *name, const char *pci,
			unsigned int *ret_g, unsigned int *ret_s)
{
	const char *cfg = stub_cfg(e, name, pci);
	int rc;

	CHECK(e, cfg, "cannot write %s.cfg", name);
	rc = TS(e, 120000, "create", cfg);
	CHECK(e, rc == 0, "%s create %s (stub domain, pci=[%s]): rc %d: %s",
	      e->ts->name, name, pci, rc, e->out);
	return found(e, name, ret_g, ret_s);
}

/* S's pcifront has the device, as the device model sees it in sysfs */
static bool front_has(struct env *e, unsigned int s, uint32_t sbdf)
{
	char req[40], reply[1024], save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	snprintf(req, sizeof(req), "pci-dev %s", bdf(sbdf));
	ok = e2e_guest_query(&e->run, s, req, reply, sizeof(reply)) &&
	     !strncmp(reply, "dev ", 4);
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

struct exported { unsigned int s; uint32_t sbdf; };

static bool is_exported(struct env *e, void *arg)
{
	struct exported *x = arg;
	int i = be_find(e, x->s, x->sbdf);

	return i >= 0 && xs_int(e, "/local/domain/0/backend/pci/%u/0/state-%d",
				x->s, i) == 3 && be_state(e, x->s) == 4 &&
	       front_has(e, x->s, x->sbdf);
}

/* sbdf is G's through S, on every layer */
static bool stub_has(struct env *e, unsigned int g, unsigned int s,
		     uint32_t sbdf)
{
	struct exported x = { s, sbdf };
	char reply[16384];
	struct layers l;
	int i = be_find(e, s, sbdf);

	CHECK(e, i >= 0, "%s is not in stub domain dom%u's backend (num_devs "
	      "%d)", bdf(sbdf), s,
	      xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", s));
	if (!wait_until(e, is_exported, &x, 5000, NULL))
		return fail(e, "%s never reached stub domain dom%u: state-%d "
			    "%d, its backend at %d, its pcifront %s it",
			    bdf(sbdf), s, i, xs_int(e, "/local/domain/0/"
			    "backend/pci/%u/0/state-%d", s, i), be_state(e, s),
			    front_has(e, s, sbdf) ? "has" : "lacks");
	CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u", g),
	      "HVM dom%u has a pciback backend of its own (state %d, "
	      "num_devs %d): its devices go through its stub domain", g,
	      be_state(e, g),
	      xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", g));
	layers_get(e, sbdf, &l);
	CHECK(e, l.nbe == 1 && l.be_dom[0] == s && l.pb == (int)s &&
	      l.marker == (int)g && l.owner == g, "%s, given to dom%u through "
	      "stub dom%u: %s", bdf(sbdf), g, s, layers_str(&l));
	if (!dm_qmp(e, g, "query-pci", reply, sizeof(reply)))
		return false;
	CHECK(e, dm_has(reply, sbdf), "%s is not in dom%u's device model "
	      "(query-pci: %s)", bdf(sbdf), g, reply);
	return true;
}

/* sbdf released by G and S on every layer */
static bool stub_released(struct env *e, unsigned int g, unsigned int s,
			  uint32_t sbdf)
{
	char reply[16384];
	struct layers l;

	layers_get(e, sbdf, &l);
	CHECK(e, !l.nbe && l.marker < 0 && l.owner == HV_DOMID_IO &&
	      l.pb == -1, "%s not released by dom%u and its stub dom%u: %s",
	      bdf(sbdf), g, s, layers_str(&l));
	CHECK(e, !front_has(e, s, sbdf), "stub domain dom%u's pcifront still "
	      "has %s", s, bdf(sbdf));
	if (!dm_qmp(e, g, "query-pci", reply, sizeof(reply)))
		return false;
	CHECK(e, !dm_has(reply, sbdf), "%s is still in dom%u's device model "
	      "(query-pci: %s)", bdf(sbdf), g, reply);
	return true;
}

struct firstdev {
	unsigned int dom;	/* the backend that got dev-0 first */
	int state;		/* that domain's state then */
};

static bool dev0_written(struct env *e, void *arg)
{
	struct firstdev *w = arg;
	struct hv_domain_info info;
	unsigned int n, i;
	char **ents = xs_directory(e->xs, XBT_NULL,
				   "/local/domain/0/backend/pci", &n);

	for (i = 0; ents && i < n && !w->dom; i++) {
		unsigned int d = (unsigned int)strtoul(ents[i], NULL, 10);

		if (!xs_exists(e, "/local/domain/0/backend/pci/%u/0/dev-0", d))
			continue;
		w->dom = d;
		w->state = hv_domain_getinfo(e->hv, d, &info) == 0 ?
			   (int)info.state : -1;
	}
	free(ents);
	return w->dom != 0;
}

/* 5. a stub domain's cold-plug goes through the hot-plug path: into its
 *    own backend while it runs, each device announced (Reconfiguring),
 *    none in a backend of the guest's */
static bool bug5(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct firstdev w = { 0, -1 };
	const char *cfg;
	unsigned int g, s, i;
	struct e2e_proc *p;
	int rc;

	if (!seize(e, d, 2))
		return false;
	cfg = stub_cfg(e, "h5", "'03:00.0', '04:00.0'");
	CHECK(e, cfg, "cannot write h5.cfg");
	p = ts_spawn(e, NULL, (const char *const[]){ "create", cfg, NULL });
	CHECK(e, p, "cannot start create");
	wait_until(e, dev0_written, &w, 60000, NULL);
	rc = ts_wait(e, p, 120000, false);
	if (!dom_by_name(e, "h5", &g) || !stub_of(e, g, &s))
		return during(e, "create h5: rc %d: %s", rc, e->out);
	CHECK(e, w.dom, "no backend got a device during create (rc %d: %s)",
	      rc, e->out);
	CHECK(e, w.dom == s, "the first device went to dom%u's backend, not "
	      "to stub domain dom%u's (rc %d: %s)", w.dom, s, rc, e->out);
	CHECK(e, w.state == HV_DOM_RUNNING, "dev-0 was written to stub domain "
	      "dom%u's backend while it was not running (state %d): the "
	      "cold-plug path, not the hot-plug one", s, w.state);
	for (i = 0; i < 2; i++)
		if (!stub_has(e, g, s, d[i]))
			return during(e, "after create (rc %d: %s)", rc,
				      e->out);
	CHECK(e, rc == 0, "create h5 with a stub domain: rc %d: %s", rc,
	      e->out);
	return guest_wait_started(e, g) && guest_sees(e, g, 2);
}

/* 17. device_add retried while the stub domain's pcifront has not shown
 *     the device yet (its sysfs entry comes after Connected) */
static bool bug17(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g, s;
	int64_t t0;
	int rc;

	unsigned int h;
	struct layers l;

	e->stub_lag = true;
	if (!seize(e, d, 3) || !create_stub(e, "h17", "", &g, &s))
		return false;
	t0 = e2e_now_ms();
	rc = TS(e, 60000, "pci-attach", "h17", "03:00.0");
	CHECK(e, rc == 0, "pci-attach to a guest whose stub domain shows the "
	      "device to its device model late: rc %d after %.1f s: %s", rc,
	      (double)(e2e_now_ms() - t0) / 1000, e->out);
	if (!stub_has(e, g, s, DEV_A) || !guest_sees(e, g, 1))
		return false;
	/* without a stub domain a refused device_add is final: no retry
	 * (the slot is taken), and nothing is left behind */
	if (!create_hvm(e, "h17n", "", &h))
		return false;
	rc = TS(e, 30000, "pci-attach", "h17n", "04:00.0@5");
	CHECK(e, rc == 0, "pci-attach 04:00.0@5 to HVM dom%u: rc %d: %s", h,
	      rc, e->out);
	t0 = e2e_now_ms();
	rc = TS(e, 30000, "pci-attach", "h17n", "05:00.0@5");
	CHECK(e, rc != 0, "pci-attach of a second device at slot 5 returned "
	      "0: %s", e->out);
	CHECK(e, e2e_now_ms() - t0 < 3000, "a device_add refused by a device "
	      "model in dom0 was retried: pci-attach took %.1f s (rc %d)",
	      (double)(e2e_now_ms() - t0) / 1000, rc);
	layers_get(e, DEV_C, &l);
	CHECK(e, !l.nbe && l.marker < 0 && l.owner == HV_DOMID_IO &&
	      l.pb == -1, "the refused %s was left behind: %s", bdf(DEV_C),
	      layers_str(&l));
	return true;
}

/* 23, the guest's list: pci-list names the devices its stub domain
 *     holds for it */
static bool bug23_list(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g, s, i;
	int rc;

	if (!seize(e, d, 2) ||
	    !create_stub(e, "h23", "'03:00.0', '04:00.0'", &g, &s))
		return false;
	for (i = 0; i < 2; i++)
		if (!stub_has(e, g, s, d[i]))
			return false;
	if (!guest_sees(e, g, 2))
		return false;
	rc = TS(e, 10000, "pci-list", "h23");
	CHECK(e, rc == 0, "pci-list h23: rc %d: %s", rc, e->out);
	for (i = 0; i < 2; i++)
		CHECK(e, strstr(e->out, bdf(d[i])), "pci-list of the "
		      "stub-domain guest does not list %s: '%s'", bdf(d[i]),
		      e->out);
	return true;
}

/* 23, detach: the device leaves the device model, the stub domain and
 *     the guest's host side; the other stays */
static bool bug23_detach(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g, s;
	int rc;

	if (!seize(e, d, 2) ||
	    !create_stub(e, "h23", "'03:00.0', '04:00.0'", &g, &s) ||
	    !stub_has(e, g, s, DEV_A) || !stub_has(e, g, s, DEV_B) ||
	    !guest_sees(e, g, 2))
		return false;
	rc = TS(e, 30000, "pci-detach", "h23", "04:00.0");
	CHECK(e, rc == 0, "pci-detach 04:00.0 from the stub-domain guest: "
	      "rc %d: %s", rc, e->out);
	if (!stub_released(e, g, s, DEV_B) || !stub_has(e, g, s, DEV_A) ||
	    !guest_sees(e, g, 1))
		return false;
	rc = TS(e, 30000, "pci-detach", "h23", "03:00.0");
	CHECK(e, rc == 0, "pci-detach 03:00.0: rc %d: %s", rc, e->out);
	return stub_released(e, g, s, DEV_A) && guest_sees(e, g, 0);
}

/* 23, reboot: the configuration retrieved for the new domain keeps the
 *     devices, which the new guest gets through its new stub domain */
static bool bug23_reboot(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g, s, g2, s2, i;
	int rc;

	if (!seize(e, d, 2) ||
	    !create_stub(e, "h23", "'03:00.0', '04:00.0'", &g, &s) ||
	    !stub_has(e, g, s, DEV_A) || !stub_has(e, g, s, DEV_B))
		return false;
	rc = TS(e, 120000, "reboot", "h23");
	CHECK(e, rc == 0, "reboot of the stub-domain guest: rc %d: %s", rc,
	      e->out);
	if (!found(e, "h23", &g2, &s2))
		return during(e, "after the reboot");
	CHECK(e, g2 != g, "reboot kept dom%u", g);
	for (i = 0; i < 2; i++)
		if (!stub_has(e, g2, s2, d[i]))
			return during(e, "after the reboot (dom%u, stub "
				      "dom%u)", g2, s2);
	return guest_sees(e, g2, 2);
}

/* 2, through a stub domain: the stub's pass is a PV hot-plug at create,
 *    into a backend that does not exist yet (Jason Andryuk's report of
 *    Aug 2021, "libxl: Fix stubdom PCI passthrough") */
static bool bug2_stub(struct env *e)
{
	unsigned int g, s;

	if (!seize(e, (uint32_t[]){ DEV_A }, 1) ||
	    !create_stub(e, "h2s", "'03:00.0'", &g, &s))
		return false;
	return stub_has(e, g, s, DEV_A) && guest_sees(e, g, 1);
}

/* Two attaches at once to a stub-domain guest (with one device first
 * when append): both devices must reach the guest through its stub. */
static bool concurrent_stub(struct env *e, const char *name, bool append)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	static const char *const spec[] = { "04:00.0", "05:00.0" };
	const char *what = append ? "appends" : "first attaches";
	struct e2e_proc *p[2];
	unsigned int g, s, i;
	char out[2][512];
	int rc[2];

	if (!seize(e, d, 3) || !create_stub(e, name, append ? "'03:00.0'" :
					     "", &g, &s))
		return false;
	if (append && !stub_has(e, g, s, DEV_A))
		return false;
	for (i = 0; i < 2; i++) {
		p[i] = ts_spawn(e, "attach.before-txn=300,attach.in-txn=50",
				(const char *const[]){ "pci-attach", name,
						       spec[i], NULL });
		CHECK(e, p[i], "cannot start pci-attach %s", spec[i]);
	}
	/* a peer's loser may wait for the stub's backend for libxl's 60 s */
	for (i = 0; i < 2; i++) {
		rc[i] = ts_wait(e, p[i], 90000, false);
		snprintf(out[i], sizeof(out[i]), "%.500s", e->out);
	}
	for (i = 0; i < 2; i++)
		CHECK(e, rc[i] == 0, "of two concurrent %s to the stub-domain "
		      "guest, pci-attach %s: rc %d: %s (the other: rc %d); stub "
		      "dom%u's backend: num_devs %d, state %d", what, spec[i],
		      rc[i], out[i], rc[1 - i], s, xs_int(e, "/local/domain/0/"
		      "backend/pci/%u/0/num_devs", s), be_state(e, s));
	for (i = append ? 0 : 1; i < 3; i++)
		if (!stub_has(e, g, s, d[i]))
			return during(e, "after two concurrent %s (rc %d, %d)",
				      what, rc[0], rc[1]);
	return guest_sees(e, g, append ? 3 : 2);
}

/* 6, through a stub domain: two first attaches at once to a guest whose
 *    stub has no backend yet */
static bool bug6_stub(struct env *e)
{
	return concurrent_stub(e, "h6s", false);
}

/* 7, through a stub domain: two appends at once to S's backend */
static bool bug7_stub(struct env *e)
{
	return concurrent_stub(e, "h7s", true);
}

struct dmrun {
	const char *name;	/* the guest's */
	unsigned int g, s;	/* found while the create runs, 0 */
	bool running;		/* S's device model wrote "running" */
};

static bool dm_running(struct env *e, void *arg)
{
	struct dmrun *w = arg;
	char save[sizeof(e->run.why)], *v;

	memcpy(save, e->run.why, sizeof(save));
	if (!w->g || !w->s) {
		char stub[80];

		snprintf(stub, sizeof(stub), "%s-dm", w->name);
		if (!dom_by_name(e, w->name, &w->g) ||
		    !dom_by_name(e, stub, &w->s))
			w->g = w->s = 0;
	}
	memcpy(e->run.why, save, sizeof(save));
	if (!w->g || !w->s)
		return false;
	v = xs_get(e, "/local/domain/%u/device-model/%u/state", w->s, w->g);
	w->running = v && !strcmp(v, "running");
	free(v);
	return w->running;
}

/* 25. the device model's state is read under the stub domain's home, not
 *     dom0's (6dd94cf1b1, Xen 4.6; E. Shelton's RFC of Feb 2015 waited
 *     on /local/domain/0/device-model/G/state) */
static bool bug25(struct env *e)
{
	struct dmrun w = { "h25", 0, 0, false };
	unsigned int g, s;
	const char *cfg;
	struct e2e_proc *p;
	int64_t t0;
	int rc;

	cfg = stub_cfg(e, "h25", "");
	CHECK(e, cfg, "cannot write h25.cfg");
	t0 = e2e_now_ms();
	p = ts_spawn(e, NULL, (const char *const[]){ "create", cfg, NULL });
	CHECK(e, p, "cannot start create");
	wait_until(e, dm_running, &w, 30000, NULL);
	rc = ts_wait(e, p, 120000, false);
	CHECK(e, rc == 0, "create h25 (stub domain, no devices): rc %d after "
	      "%.1f s although the device model in stub dom%u %s \"running\" "
	      "under its own home (/local/domain/%u/device-model/%u/state): "
	      "%s", rc, (double)(e2e_now_ms() - t0) / 1000, w.s, w.running ?
	      "had written" : "never wrote", w.s, w.g, e->out);
	if (!found(e, "h25", &g, &s))
		return false;
	if (!dm_running(e, &w) || w.g != g || w.s != s)
		return fail(e, "the device model of dom%u is not \"running\" "
			    "under its stub domain dom%u's home", g, s);
	CHECK(e, !xs_exists(e, "/local/domain/0/device-model/%u", g),
	      "dom%u has a device-model node under dom0's home too", g);
	return true;
}

/* the first access of dom g the hypervisor completed with no ioreq
 * server enabled (xpt-hypervisor(8)) */
static bool ran_early(struct env *e, unsigned int g)
{
	char needle[96];

	snprintf(needle, sizeof(needle), "domain %u: vcpu ", g);
	return file_has(e, "hypervisor.log", needle) &&
	       file_has(e, "hypervisor.log", "before its device model enabled "
			"an ioreq server");
}

/* 26. the guest runs only after its stub domain's device model is ready
 *     (no vCPU before its ioreq server is enabled; libxl had no
 *     interlock before Xen 4.6: Xen's dd748d128d papered over it, W.
 *     Liu's 6dd94cf1b1/1fc3aeb3aa fixed it) */
static bool bug26(struct env *e)
{
	struct dmrun w = { "h26", 0, 0, false };
	unsigned int g, s;
	bool sees;
	int rc;

	e->slow_dm = true;	/* the stub starts its device model 2 s late */
	if (!seize(e, (uint32_t[]){ DEV_A }, 1) ||
	    !create_stub(e, "h26", "", &g, &s))
		return false;
	CHECK(e, wait_until(e, dm_running, &w, 10000, NULL), "the device "
	      "model in stub dom%u never wrote \"running\"", s);
	/* what the guest lost: its ACPI set-up (GPE enable) went nowhere,
	 * so a device hot-added later never raises its SCI */
	rc = TS(e, 60000, "pci-attach", "h26", "03:00.0");
	CHECK(e, rc == 0, "pci-attach 03:00.0 to the stub-domain guest: rc "
	      "%d: %s", rc, e->out);
	if (!stub_has(e, g, s, DEV_A))
		return false;
	sees = guest_sees(e, g, 1);
	if (!sees)	/* reported below, with what caused it */
		e->run.why[0] = '\0';
	CHECK(e, !ran_early(e, g), "HVM dom%u's vCPUs ran before its device "
	      "model (in stub dom%u) enabled an ioreq server: the hypervisor "
	      "completed its I/O with all ones or dropped it (hypervisor.log)"
	      "; the device hot-added later %s", g, s, sees ? "still reached "
	      "the guest" : "never reached the guest (its ACPI GPE enable "
	      "was dropped: no SCI)");
	return sees;
}

const struct bug stub_bugs[] = {
	{ 5, "stub domain cold-plug through the hot-plug path", bug5, false,
	  "pre-18f93842ac", 0, false,
	  "never reached stub domain" },
	{ 17, "device_add retried while the stub's pcifront lags", bug17,
	  false, "pre-0f4fd6b6d8", 0, false,
	  "shows the device to its device model late" },
	{ 23, "HVM+stub: pci-list", bug23_list, false, NULL, 0, false,
	  "does not list" },
	{ 23, "HVM+stub: pci-detach", bug23_detach, false, NULL, 0, false,
	  "unable to remove device" },
	{ 23, "HVM+stub: reboot keeps the devices", bug23_reboot, false,
	  NULL, 0, false,
	  "after the reboot" },
	{ 25, "stub device model's state read under dom0's home", bug25,
	  false, "pre-6dd94cf1b1", 3000, false,
	  "startup timed out" },
	{ 26, "HVM+stub guest unpaused before its device model", bug26,
	  false, "pre-4.6", 0, false,
	  "ran before its device model" },
	{ 2, "stub domain's pass waits for a backend that does not exist",
	  bug2_stub, false, "pre-73ee2795aa", 3000, false,
	  "does not exist" },
	{ 6, "concurrent first attach through a stub domain", bug6_stub,
	  false, NULL, 0, false,
	  "concurrent first attaches" },
	{ 7, "concurrent append through a stub domain", bug7_stub,
	  false, NULL, 0, false,
	  "concurrent appends" },
};
const unsigned int nstub_bugs = sizeof(stub_bugs) / sizeof(stub_bugs[0]);
