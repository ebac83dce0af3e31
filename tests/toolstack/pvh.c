// SPDX-License-Identifier: MIT
/*
 * PVH guests with PCI devices on the modelled host (e2e-pvh): the xpt
 * CLI as a user runs it, a PVH guest kernel (xpt-guest --pvh, started by
 * xpt) finding its devices on its own bus 0 through the hypervisor's
 * vPCI.  No backend, no pcifront, no device model: the toolstack does
 * the host side and the assign attaches vPCI (docs/protocol.md §4.7).
 *
 * Every step asks every layer at once (pvh_held, pvh_free, guest_has):
 * the hypervisor's IOMMU owner; its vPCI state for the device
 * (hv_vpci_info: the guest's slot, the guest's COMMAND, BARs mapped, no
 * map pending); the /libxl/pci marker; no PCI backend directory for the
 * domain and no pciback export of the device (pciback holds it, exported
 * to nobody); and the guest's own view on its query socket: the device's
 * vendor and device ids at the slot vPCI gave it, bound by its driver,
 * and a register read through its BAR (inside a BAR vPCI mapped; at the
 * start of a BAR, the device's ID register, vendor | device << 16).  A slot the guest lost reads all-ones from the guest itself.
 *
 * Worked example (lifecycle): p1 is created with 03:00.0 and 04:00.0;
 * vPCI puts them at 0000:00:00.0 and 0000:00:01.0 (in assign order), the
 * guest reads 8086:1572 and 8086:1533 there, places their BARs at
 * 0xe0000000 up and turns decoding on, and reads each one's ID register
 * at the start of its BAR0 (0x15728086, 0x15338086: vPCI mapped it where
 * the guest placed it).  05:00.0 is hot-attached:
 * the guest's next scan finds it.  pci-detach 03:00.0: the deassign takes
 * it off the guest's bus, whose slot reads 0xffffffff, and it is
 * assignable again.  reboot: p1 comes back with 04:00.0 and 05:00.0 on
 * every layer; destroy gives both back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness.h"
#include "toolstack.h"

#define GUEST_MS 10000		/* the guest's scan: every 200 ms */

/* NAME.cfg: a PVH guest with these devices ("'spec', 'spec'" or "") */
static const char *pvh_cfg(struct env *e, const char *name, const char *pci)
{
	return cfg_write(e, name, "# a PVH guest of e2e-pvh\nname = \"%s\"\n"
			 "type = \"pvh\"\nmemory = 128\nvcpus = 1\n"
			 "passthrough = \"enabled\"\npci = [ %s ]\n", name, pci);
}

static bool pvh_create(struct env *e, const char *name, const char *pci,
		       unsigned int *ret_domid)
{
	const char *cfg = pvh_cfg(e, name, pci);
	int rc;

	CHECK(e, cfg, "cannot write %s.cfg", name);
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc == 0, "xpt create %s (type pvh, pci=[%s]): rc %d: %s",
	      name, pci, rc, e->out);
	return dom_by_name(e, name, ret_domid) &&
	       guest_wait_started(e, *ret_domid);
}

static bool no_backend(struct env *e, unsigned int domid, const char *when)
{
	CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u", domid) &&
	      !xs_exists(e, "/local/domain/%u/device/pci", domid),
	      "%s: PVH dom%u has a PCI backend or frontend directory", when,
	      domid);
	return true;
}

/* domid holds sbdf on every layer but the guest's (guest_has) */
static bool pvh_held(struct env *e, unsigned int domid, uint32_t sbdf,
		     const char *when, struct hv_vpci_info *ret)
{
	struct hv_vpci_info v;
	struct layers l;
	int r;

	layers_get(e, sbdf, &l);
	CHECK(e, l.owner == domid && l.marker == (int)domid && !l.nbe &&
	      l.pb == -1, "%s: %s should be PVH dom%u's (IOMMU, marker), in "
	      "no backend and exported by pciback to nobody: %s", when,
	      bdf(sbdf), domid, layers_str(&l));
	r = hv_vpci_info(e->hv, domid, sbdf, &v);
	CHECK(e, r == 0, "%s: %s: no vPCI state in dom%u: %s", when,
	      bdf(sbdf), domid, strerror(-r));
	CHECK(e, v.domid == domid && v.sbdf == sbdf &&
	      !HV_SBDF_SEG(v.guest_sbdf) && !HV_SBDF_BUS(v.guest_sbdf) &&
	      !HV_SBDF_FN(v.guest_sbdf), "%s: %s: vPCI of dom%u says domid "
	      "%u, host %s, guest slot %s", when, bdf(sbdf), domid, v.domid,
	      bdf(v.sbdf), bdf(v.guest_sbdf));
	if (ret)
		*ret = v;
	return no_backend(e, domid, when);
}

/* nobody holds sbdf: quarantined, bound to pciback, exported to nobody,
 * no marker, no vPCI state left in domid (the last holder) */
static bool pvh_free(struct env *e, unsigned int domid, uint32_t sbdf,
		     const char *when)
{
	struct hv_vpci_info v;
	struct layers l;
	int r;

	layers_get(e, sbdf, &l);
	CHECK(e, l.owner == HV_DOMID_IO && l.marker < 0 && !l.nbe &&
	      l.pb == -1, "%s: %s should be assignable again (quarantined, "
	      "no marker, in no backend, seized by pciback, exported to "
	      "nobody): %s", when, bdf(sbdf), layers_str(&l));
	r = hv_vpci_info(e->hv, domid, sbdf, &v);
	CHECK(e, r < 0, "%s: %s: dom%u keeps vPCI state (guest slot %s)",
	      when, bdf(sbdf), domid, bdf(v.guest_sbdf));
	return true;
}

/* The guest's dev line for its slot gsbdf, from its status; "" none. */
static bool guest_line(struct env *e, unsigned int domid, uint32_t gsbdf,
		       char *line, size_t len)
{
	char reply[8192], want[32], *p, *end;

	line[0] = '\0';
	if (!e2e_guest_query(&e->run, domid, "status", reply, sizeof(reply)))
		return false;
	snprintf(want, sizeof(want), "dev %s ", bdf(gsbdf));
	p = strstr(reply, want);
	if (!p)
		return true;
	end = strchr(p, '\n');
	snprintf(line, len, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
	return true;
}

struct seen {
	unsigned int domid;
	uint32_t gsbdf;
	char want[64];		/* vendor=0x.. device=0x.. */
	char line[512];
};

static bool sees(struct env *e, void *arg)
{
	struct seen *s = arg;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = guest_line(e, s->domid, s->gsbdf, s->line, sizeof(s->line)) &&
	     strstr(s->line, s->want) && strstr(s->line, " driver=bound ") &&
	     strstr(s->line, " mmio=");
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

static bool gone(struct env *e, void *arg)
{
	struct seen *s = arg;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = guest_line(e, s->domid, s->gsbdf, s->line, sizeof(s->line)) &&
	     !s->line[0];
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* The guest sees sbdf at the slot vPCI gave it: its ids, its driver
 * bound, and a register read through a BAR that vPCI mapped where the
 * guest placed it (at a BAR's start: the ID register, and then *ret_id);
 * vPCI shows the guest's decoding on, the map done. */
static bool guest_has_id(struct env *e, unsigned int domid, uint32_t sbdf,
			 const char *when, bool *ret_id)
{
	struct hv_vpci_info v;
	struct hv_pci_dev info;
	struct seen s = { .domid = domid };
	unsigned long long addr = 0;
	unsigned int val = 0, i;
	const char *m;
	bool inside = false, id = false;

	if (!pvh_held(e, domid, sbdf, when, &v))
		return false;
	CHECK(e, hv_pci_info(e->hv, sbdf, &info) == 0, "%s: no host device "
	      "%s", when, bdf(sbdf));
	s.gsbdf = v.guest_sbdf;
	snprintf(s.want, sizeof(s.want), " vendor=0x%04x device=0x%04x ",
		 info.vendor, info.device);
	if (!wait_until(e, sees, &s, GUEST_MS, NULL))
		return fail(e, "%s: dom%u's guest does not show %s at %s (%s) "
			    "with its driver and a BAR read: \"%s\"", when,
			    domid, bdf(sbdf), bdf(v.guest_sbdf), s.want + 1,
			    s.line);
	m = strstr(s.line, " mmio=");
	CHECK(e, m && sscanf(m, " mmio=0x%llx:0x%x", &addr, &val) == 2 &&
	      val != 0xffffffffu, "%s: %s: the guest's read through its BAR "
	      "found nothing mapped: %s", when, bdf(sbdf), s.line);
	CHECK(e, hv_vpci_info(e->hv, domid, sbdf, &v) == 0 && v.bars_mapped &&
	      !v.pending && (v.guest_cmd & 0x2), "%s: %s: vPCI says bars_mapped "
	      "%u pending %u guest COMMAND %#x after the guest enabled it",
	      when, bdf(sbdf), v.bars_mapped, v.pending, v.guest_cmd);
	for (i = 0; i < 6; i++) {
		if (!info.bar[i].size || !v.bar_gaddr[i] ||
		    addr < v.bar_gaddr[i] ||
		    addr >= v.bar_gaddr[i] + info.bar[i].size)
			continue;
		inside = true;
		id |= addr == v.bar_gaddr[i];
	}
	CHECK(e, inside, "%s: %s: the guest read %#llx, in none of the BARs "
	      "vPCI mapped for it", when, bdf(sbdf), addr);
	CHECK(e, !id || val == (info.vendor | (uint32_t)info.device << 16),
	      "%s: %s: the guest read %#x at the start of its BAR, not the "
	      "device's ID register %#x", when, bdf(sbdf), val,
	      info.vendor | (uint32_t)info.device << 16);
	if (ret_id)
		*ret_id = id;
	return true;
}

static bool guest_has(struct env *e, unsigned int domid, uint32_t sbdf,
		      const char *when)
{
	return guest_has_id(e, domid, sbdf, when, NULL);
}

/* The guest no longer has the slot, and reads all-ones there itself. */
static bool guest_lost(struct env *e, unsigned int domid, uint32_t gsbdf,
		       const char *when)
{
	struct seen s = { .domid = domid, .gsbdf = gsbdf };
	char req[64], reply[256];

	if (!wait_until(e, gone, &s, GUEST_MS, NULL))
		return fail(e, "%s: dom%u's guest still shows slot %s: %s", when,
			    domid, bdf(gsbdf), s.line);
	snprintf(req, sizeof(req), "conf-read %s 0 4", bdf(gsbdf));
	CHECK(e, e2e_guest_query(&e->run, domid, req, reply, sizeof(reply)) &&
	      !strcmp(reply, "value 0xffffffff\nend\n"), "%s: dom%u's slot %s "
	      "should read all-ones in the guest: %s", when, domid,
	      bdf(gsbdf), reply);
	return true;
}

static bool seize(struct env *e, const uint32_t *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!assignable(e, d[i]))
			return false;
	return true;
}

/* cold-plug 2, hot-attach a third, pci-list, detach, reboot, destroy */
static bool lifecycle(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	struct hv_vpci_info va, vb, vc;
	unsigned int p1, p1b;
	uint32_t ga;
	int rc;
	bool ida = false, idb = false;

	if (!seize(e, d, 3) ||
	    !pvh_create(e, "p1", "'03:00.0', '04:00.0'", &p1) ||
	    !guest_has_id(e, p1, DEV_A, "create", &ida) ||
	    !guest_has_id(e, p1, DEV_B, "create", &idb) ||
	    !pvh_free(e, p1, DEV_C, "create"))
		return false;
	/* their MSI-X tables are in BAR3: BAR0 starts with the ID */
	CHECK(e, ida && idb, "create: the guest did not read the ID register "
	      "of 03:00.0 (%d) or 04:00.0 (%d) through BAR0", ida, idb);
	hv_vpci_info(e->hv, p1, DEV_A, &va);
	hv_vpci_info(e->hv, p1, DEV_B, &vb);
	CHECK(e, va.guest_sbdf != vb.guest_sbdf, "two devices in one guest "
	      "slot %s", bdf(va.guest_sbdf));

	rc = TS(e, 30000, "pci-attach", "p1", "05:00.0");
	CHECK(e, rc == 0, "pci-attach p1 05:00.0: rc %d: %s", rc, e->out);
	if (!guest_has(e, p1, DEV_C, "hot-attach") ||
	    !guest_has(e, p1, DEV_A, "hot-attach") ||
	    !guest_has(e, p1, DEV_B, "hot-attach"))
		return false;
	hv_vpci_info(e->hv, p1, DEV_C, &vc);

	rc = TS(e, 30000, "pci-list", "p1");
	CHECK(e, rc == 0 && strstr(e->out, "0000:03:00.0") &&
	      strstr(e->out, "0000:04:00.0") && strstr(e->out, "0000:05:00.0") &&
	      strstr(e->out, bdf(va.guest_sbdf)) &&
	      strstr(e->out, bdf(vb.guest_sbdf)) &&
	      strstr(e->out, bdf(vc.guest_sbdf)), "pci-list p1 should show "
	      "the three devices at their guest slots %s %s %s: rc %d: %s",
	      bdf(va.guest_sbdf), bdf(vb.guest_sbdf), bdf(vc.guest_sbdf), rc,
	      e->out);

	ga = va.guest_sbdf;
	rc = TS(e, 30000, "pci-detach", "p1", "03:00.0");
	CHECK(e, rc == 0, "pci-detach p1 03:00.0: rc %d: %s", rc, e->out);
	if (!pvh_free(e, p1, DEV_A, "detach") ||
	    !guest_lost(e, p1, ga, "detach") ||
	    !guest_has(e, p1, DEV_B, "detach") ||
	    !guest_has(e, p1, DEV_C, "detach"))
		return false;
	rc = TS(e, 30000, "pci-assignable-list");
	CHECK(e, rc == 0 && strstr(e->out, "0000:03:00.0"), "03:00.0 is not "
	      "assignable after its detach: %s", e->out);

	rc = TS(e, 60000, "reboot", "p1");
	CHECK(e, rc == 0, "reboot p1: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "p1", &p1b) || !guest_wait_started(e, p1b))
		return false;
	CHECK(e, p1b != p1, "reboot kept domain id %u", p1);
	if (!guest_has(e, p1b, DEV_B, "reboot") ||
	    !guest_has(e, p1b, DEV_C, "reboot") ||
	    !pvh_free(e, p1b, DEV_A, "reboot"))
		return false;
	CHECK(e, hv_domain_getinfo(e->hv, p1, &(struct hv_domain_info){ 0 })
	      < 0 && hv_vpci_info(e->hv, p1, DEV_B,
				  &(struct hv_vpci_info){ 0 }) < 0,
	      "reboot: the old dom%u is still there, or its vPCI", p1);

	rc = TS(e, 30000, "destroy", "p1");
	CHECK(e, rc == 0, "destroy p1: rc %d: %s", rc, e->out);
	return pvh_free(e, p1b, DEV_A, "destroy") &&
	       pvh_free(e, p1b, DEV_B, "destroy") &&
	       pvh_free(e, p1b, DEV_C, "destroy") && no_backend(e, p1b,
								 "destroy");
}

/* A device a PV guest holds: the PVH guest's attach is refused, naming
 * the holder, and nothing of either guest changes. */
static bool other_owner(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int v1, p2;
	struct layers before, after;
	int rc;

	if (!seize(e, d, 2) || !create(e, "v1", "'04:00.0'", &v1) ||
	    !wait_guest_devs(e, v1, 1, 5000) ||
	    !pvh_create(e, "p2", "'03:00.0'", &p2) ||
	    !guest_has(e, p2, DEV_A, "create"))
		return false;
	layers_get(e, DEV_B, &before);
	CHECK(e, before.owner == v1 && before.marker == (int)v1 &&
	      before.nbe == 1 && before.pb == (int)v1 && before.nseen == 1,
	      "04:00.0 should be PV dom%u's on every layer: %s", v1,
	      layers_str(&before));
	rc = TS(e, 30000, "pci-attach", "p2", "04:00.0");
	CHECK(e, rc != 0 && strstr(e->out, "domain") &&
	      strstr(e->out, "04:00.0"), "pci-attach of PV dom%u's 04:00.0 to "
	      "PVH p2 should be refused naming it: rc %d: %s", v1, rc, e->out);
	layers_get(e, DEV_B, &after);
	CHECK(e, !memcmp(&before, &after, sizeof(before)), "the refused "
	      "attach changed 04:00.0: before %s, after %s",
	      layers_str(&before), layers_str(&after));
	CHECK(e, hv_vpci_info(e->hv, p2, DEV_B, &(struct hv_vpci_info){ 0 })
	      < 0, "p2's vPCI has 04:00.0 after a refused attach");
	/* and the other way round: the PVH guest's device for the PV one */
	rc = TS(e, 30000, "pci-attach", "v1", "03:00.0");
	CHECK(e, rc != 0, "pci-attach of PVH p2's 03:00.0 to v1 succeeded: "
	      "%s", e->out);
	if (!guest_has(e, p2, DEV_A, "refused attaches") ||
	    !wait_guest_devs(e, v1, 1, 5000))
		return false;
	layers_get(e, DEV_B, &after);
	CHECK(e, !memcmp(&before, &after, sizeof(before)), "the refused "
	      "attaches changed 04:00.0: before %s, after %s",
	      layers_str(&before), layers_str(&after));
	return true;
}

/* vPCI gives a domU function 0 only: another function of a multi-
 * function device is refused before anything is done. */
static bool other_function(struct env *e)
{
	uint32_t d[] = { DEV_MF0, DEV_MF1 };
	struct layers l;
	unsigned int p3;
	int rc;

	if (!seize(e, d, 2) || !pvh_create(e, "p3", "", &p3))
		return false;
	rc = TS(e, 30000, "pci-attach", "p3", "08:00.1");
	CHECK(e, rc == 2 && strstr(e->out, "function 0 of each device only"),
	      "pci-attach p3 08:00.1: rc %d (want 2, usage): %s", rc, e->out);
	layers_get(e, DEV_MF1, &l);
	CHECK(e, l.owner == HV_DOMID_IO && l.marker < 0 && l.pb == -1,
	      "the refused 08:00.1 changed: %s", layers_str(&l));
	rc = TS(e, 30000, "pci-attach", "p3", "08:00.0");
	CHECK(e, rc == 0, "pci-attach p3 08:00.0: rc %d: %s", rc, e->out);
	return guest_has(e, p3, DEV_MF0, "function 0");
}

struct held { unsigned int domid; uint32_t sbdf; };

static bool assigned(struct env *e, void *arg)
{
	struct held *h = arg;
	unsigned int m;

	return marker(e, h->sbdf, &m) && m == h->domid &&
	       owner(e, h->sbdf) == h->domid;
}

/* A PVH guest destroyed while a device is mid-attach (assigned, its vPCI
 * attached, the attach not finished): the destroy waits for the attach's
 * lock, then gives back everything; and one whose attach was killed
 * there leaves what destroy gives back too. */
static bool destroy_mid_attach(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct held h;
	struct e2e_proc *a, *k;
	unsigned int p4;
	int rc;

	if (!seize(e, d, 2) || !pvh_create(e, "p4", "'03:00.0'", &p4) ||
	    !guest_has(e, p4, DEV_A, "create"))
		return false;
	h = (struct held){ p4, DEV_B };
	a = ts_spawn(e, "attach.before-txn=3000", (const char *const[]){
		     "pci-attach", "p4", "04:00.0", NULL });
	if (!a)
		return false;
	if (!wait_until(e, assigned, &h, 15000, NULL)) {
		ts_wait(e, a, 0, false);
		return fail(e, "pci-attach p4 04:00.0 never assigned it: %s",
			    e->out);
	}
	CHECK(e, hv_vpci_info(e->hv, p4, DEV_B, &(struct hv_vpci_info){ 0 })
	      == 0, "mid-attach: 04:00.0 not on p4's vPCI bus");
	rc = TS(e, 30000, "destroy", "p4");
	CHECK(e, rc == 0, "destroy p4 mid-attach: rc %d: %s", rc, e->out);
	ts_wait(e, a, 10000, false);
	if (!pvh_free(e, p4, DEV_A, "destroy mid-attach") ||
	    !pvh_free(e, p4, DEV_B, "destroy mid-attach"))
		return false;

	/* the attach killed mid-way: its leftovers are the domain's */
	if (!pvh_create(e, "p5", "", &p4))
		return false;
	h = (struct held){ p4, DEV_A };
	k = ts_spawn(e, "attach.before-txn=20000", (const char *const[]){
		     "pci-attach", "p5", "03:00.0", NULL });
	if (!k)
		return false;
	if (!wait_until(e, assigned, &h, 15000, NULL)) {
		ts_wait(e, k, 0, false);
		return fail(e, "pci-attach p5 03:00.0 never assigned it: %s",
			    e->out);
	}
	kill(k->pid, SIGKILL);
	ts_wait(e, k, 5000, false);
	rc = TS(e, 30000, "destroy", "p5");
	CHECK(e, rc == 0, "destroy p5 after a killed attach: rc %d: %s", rc,
	      e->out);
	return pvh_free(e, p4, DEV_A, "destroy after a killed attach");
}

/* Created paused: the devices are on the guest's vPCI bus before its
 * first instruction (decoding off, nothing mapped: nobody enabled it);
 * the first unpause boots the guest, which finds them. */
static bool paused_create(struct env *e)
{
	uint32_t d[] = { DEV_B, DEV_C };
	struct hv_vpci_info v;
	const char *cfg;
	unsigned int p6, i;
	int rc;

	if (!seize(e, d, 2) ||
	    !(cfg = pvh_cfg(e, "p6", "'04:00.0', '05:00.0'")))
		return fail(e, "p6.cfg: %s", strerror(errno));
	rc = TS(e, 30000, "create", "-p", cfg);
	CHECK(e, rc == 0, "xpt create -p p6: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "p6", &p6))
		return false;
	CHECK(e, !guest_pid(e, p6), "p6's guest runs before its unpause");
	for (i = 0; i < 2; i++) {
		if (!pvh_held(e, p6, d[i], "create -p", &v))
			return false;
		CHECK(e, !v.bars_mapped && !(v.guest_cmd & 0x2), "create -p: "
		      "%s mapped before the guest ran (COMMAND %#x)",
		      bdf(d[i]), v.guest_cmd);
	}
	rc = TS(e, 30000, "unpause", "p6");
	CHECK(e, rc == 0, "xpt unpause p6: rc %d: %s", rc, e->out);
	if (!guest_wait_started(e, p6) ||
	    !guest_has(e, p6, DEV_B, "first unpause") ||
	    !guest_has(e, p6, DEV_C, "first unpause"))
		return false;
	rc = TS(e, 30000, "destroy", "p6");
	CHECK(e, rc == 0, "destroy p6: rc %d: %s", rc, e->out);
	return pvh_free(e, p6, DEV_B, "destroy") &&
	       pvh_free(e, p6, DEV_C, "destroy");
}

/* The hypervisor refuses the assign (xpt's attach has reserved, reset
 * and granted by then): the attach fails naming the device and undoes
 * exactly that; the device never reached the guest's vPCI and the
 * guest's other device is untouched.  Then a detach the hypervisor
 * refuses to deassign: the device stays the domain's (still on its bus,
 * the guest keeps it), said so, and destroy releases what it can. */
static bool hv_refuses(struct env *e, uint32_t op)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int p7;
	int rc;

	if (!seize(e, d, 2) || !pvh_create(e, "p7", "'03:00.0'", &p7) ||
	    !guest_has(e, p7, DEV_A, "create") || !hv_refuse(e, op))
		return false;
	if (op == HV_OP_ASSIGN) {
		rc = TS(e, 30000, "pci-attach", "p7", "04:00.0");
		CHECK(e, rc != 0 && strstr(e->out, "0000:04:00.0") &&
		      strstr(e->out, "undone"), "pci-attach with the assign "
		      "refused: rc %d: %s", rc, e->out);
		return pvh_free(e, p7, DEV_B, "refused assign") &&
		       guest_has(e, p7, DEV_A, "refused assign");
	}
	rc = TS(e, 30000, "pci-detach", "p7", "03:00.0");
	CHECK(e, rc != 0 && strstr(e->out, "0000:03:00.0") &&
	      strstr(e->out, "reserved"), "pci-detach with the deassign "
	      "refused: rc %d: %s", rc, e->out);
	return guest_has(e, p7, DEV_A, "refused deassign");
}

static bool assign_refused(struct env *e)
{
	return hv_refuses(e, HV_OP_ASSIGN);
}

static bool deassign_refused(struct env *e)
{
	return hv_refuses(e, HV_OP_DEASSIGN);
}

const struct ocase pvh_cases[] = {
	{ "lifecycle", "cold-plug 2, hot-attach, pci-list, detach, reboot, "
	  "destroy", lifecycle, false },
	{ "paused-create", "create -p: on vPCI before the first instruction, "
	  "found at the first unpause", paused_create, false },
	{ "other-owner", "attach of a PV guest's device refused, nothing of "
	  "it changes", other_owner, false },
	{ "other-function", "function 1 of a multi-function device refused "
	  "(vPCI: function 0 only)", other_function, false },
	{ "assign-refused", "the hypervisor refuses the assign: the attach "
	  "undone exactly", assign_refused, false },
	{ "deassign-refused", "the hypervisor refuses the deassign: the "
	  "device stays the guest's, said so", deassign_refused, false },
	{ "destroy-mid-attach", "destroy while an attach is under way, and "
	  "after one was killed", destroy_mid_attach, false },
};
const unsigned int npvh_cases = sizeof(pvh_cases) / sizeof(pvh_cases[0]);
