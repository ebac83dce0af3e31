// SPDX-License-Identifier: MIT
/*
 * Who owns a device, after a toolstack operation that fails or is cut
 * short: reproductions of what an independent review broke in xpt (issue
 * 9, sections 1-3).  Each case drives xpt as a user would and then asks
 * every layer at once (inv_check and layers_get in the harness): the
 * backend entries, the guest's own view, the /libxl/pci markers, the
 * hypervisor's IOMMU owner and pciback's exporting domain.  A failed
 * operation must leave every other device, and every other guest, exactly
 * as they were.
 *
 * Worked example (case reattach-same): g1 runs with 03:00.0.
 * `xpt pci-attach g1 03:00.0` fails ("already attached", right), but its
 * cleanup deassigns 03:00.0 from g1: the IOMMU says DOMID_IO while the
 * backend, the marker and the guest still say g1, and the device's
 * interrupts no longer reach g1.  The case asserts rc != 0, then
 * dev_owned(g1, 03:00.0) over all layers, an interrupt counted by g1, and
 * inv_check.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness.h"
#include "toolstack.h"

#define ATTACH(e, ms, dom, spec) TS(e, ms, "pci-attach", dom, spec)
#define DETACH(e, ms, dom, spec) TS(e, ms, "pci-detach", dom, spec)

static bool seize(struct env *e, const uint32_t *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!assignable(e, d[i]))
			return false;
	return true;
}

/* a guest with its devices, all layers checked, interrupts flowing */
static bool guest_with(struct env *e, const char *name, const char *pci,
		       const uint32_t *d, unsigned int n, unsigned int *domid)
{
	unsigned int i;

	if (!create(e, name, pci, domid) || !wait_guest_devs(e, *domid, n, 5000))
		return false;
	for (i = 0; i < n; i++)
		if (!dev_owned(e, *domid, d[i]) || !irq_counted(e, *domid, d[i]))
			return false;
	return true;
}

/* the devices are still domid's and still interrupt it */
static bool intact(struct env *e, unsigned int domid, const uint32_t *d,
		   unsigned int n, const char *after)
{
	unsigned int i;
	char save[sizeof(e->run.why)];

	for (i = 0; i < n; i++) {
		if (dev_owned(e, domid, d[i]) && irq_counted(e, domid, d[i]))
			continue;
		memcpy(save, e->run.why, sizeof(save));
		snprintf(e->run.why, sizeof(e->run.why),
			 "after %.100s: %.600s", after, save);
		return false;
	}
	return true;
}

/* an error line of the output (not a warning) names what */
static bool error_names(const char *out, const char *what)
{
	const char *l = out, *end;

	for (; *l; l = *end ? end + 1 : end) {
		end = strchr(l, '|');
		if (!end)
			end = l + strlen(l);
		if (strncmp(l, "xpt: warning:", 13) &&
		    strncmp(l, "xpt: waiting for ", 17) &&
		    strncmp(l, "xpt: still waiting for ", 23) &&
		    memmem(l, (size_t)(end - l), what, strlen(what)))
			return true;
	}
	return false;
}

/* 1. pci-attach of a device already attached to the same guest: the
 *    failure's cleanup must not touch it */
static bool reattach_same(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0'", d, 2, &g1))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	CHECK(e, rc != 0, "pci-attach of an attached device: rc 0: %s", e->out);
	return intact(e, g1, d, 2, "a refused re-attach of 03:00.0") &&
	       inv_check(e, "after a refused re-attach");
}

static bool reattach_spelling(struct env *e)
{
	static const char *const spellings[] = { "3:0.0", "0000:03:00.0",
						 "03:00.0,permissive=1" };
	uint32_t d[] = { DEV_A };
	unsigned int g1, i;
	char after[64];
	int rc;

	if (!seize(e, d, 1) || !guest_with(e, "g1", "'0000:03:00.0'", d, 1, &g1))
		return false;
	for (i = 0; i < 3; i++) {
		rc = ATTACH(e, 30000, "g1", spellings[i]);
		CHECK(e, rc != 0, "pci-attach %s of the attached 0000:03:00.0: "
		      "rc 0: %s", spellings[i], e->out);
		snprintf(after, sizeof(after), "pci-attach g1 %s", spellings[i]);
		if (!intact(e, g1, d, 1, after))
			return false;
	}
	return inv_check(e, "after re-attaches spelled otherwise");
}

static bool reattach_wildcard(struct env *e)
{
	uint32_t d[] = { DEV_MF0, DEV_MF1, DEV_A };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 3) ||
	    !guest_with(e, "g1", "'08:00.0@5', '03:00.0'", (uint32_t[]){ DEV_MF0,
			DEV_A }, 2, &g1))
		return false;
	rc = ATTACH(e, 30000, "g1", "08:00.*@5");
	if (rc == 0)	/* adding the missing function is fine too */
		return intact(e, g1, d, 3, "pci-attach g1 08:00.*@5") &&
		       inv_check(e, "after 08:00.*@5 with 08:00.0 attached");
	return intact(e, g1, (uint32_t[]){ DEV_MF0, DEV_A }, 2,
		      "a refused pci-attach g1 08:00.*@5") &&
	       dev_free(e, DEV_MF1) &&
	       inv_check(e, "after a refused 08:00.*@5");
}

struct devidx { unsigned int domid; uint32_t sbdf; };

static bool in_backend(struct env *e, void *arg)
{
	struct devidx *w = arg;

	return be_find(e, w->domid, w->sbdf) >= 0;
}

static bool has_marker(struct env *e, void *arg)
{
	struct devidx *w = arg;
	unsigned int m;

	return marker(e, w->sbdf, &m) && m == w->domid &&
	       owner(e, w->sbdf) == w->domid;
}

/* start `pci-attach dom spec` paused at point, kill -9 it once pred */
static bool attach_killed(struct env *e, const char *dom, const char *spec,
			  const char *point, bool (*pred)(struct env *, void *),
			  struct devidx *w)
{
	char delay[80];
	struct e2e_proc *p;

	snprintf(delay, sizeof(delay), "%s=20000", point);
	p = ts_spawn(e, delay, (const char *const[]){ "pci-attach", dom, spec,
						       NULL });
	if (!p)
		return false;
	if (!wait_until(e, pred, w, 15000, NULL)) {
		ts_wait(e, p, 0, false);
		return fail(e, "pci-attach never reached %s: %s", point, e->out);
	}
	kill(p->pid, SIGKILL);
	ts_wait(e, p, 5000, false);
	return true;
}

/* 1. (and 8) re-running an attach that was killed after its xenstore
 *    transaction: the device is the guest's on every layer; the re-run
 *    must not take it away */
static bool reattach_killed(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct devidx w;
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'04:00.0'", d + 1, 1, &g1))
		return false;
	w = (struct devidx){ g1, DEV_A };
	if (!attach_killed(e, "g1", "03:00.0", "attach.before-wait",
			   in_backend, &w) || !wait_guest_devs(e, g1, 2, 5000))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	(void)rc;	/* "already attached" or converging: both fine */
	return intact(e, g1, d, 2, "re-running an attach killed at "
		      "attach.before-wait") &&
	       inv_check(e, "after the re-run of a killed attach");
}

/* 8. kill -9 at the first delay point, then the same attach again: it
 *    converges, or names the command that does */
static bool killed_rerun(struct env *e)
{
	uint32_t d[] = { DEV_A };
	struct devidx w;
	unsigned int g1;
	char cmd[200];
	int rc;

	if (!seize(e, d, 1) || !create(e, "g1", "", &g1))
		return false;
	w = (struct devidx){ g1, DEV_A };
	if (!attach_killed(e, "g1", "03:00.0", "attach.before-txn", has_marker,
			   &w))
		return false;
	rc = ATTACH(e, 30000, "g1", "03:00.0");
	if (rc != 0) {
		CHECK(e, named_command(e->out, cmd, sizeof(cmd)), "the re-run "
		      "of an attach killed at attach.before-txn: rc %d and no "
		      "command to finish it: %s", rc, e->out);
		rc = run_named(e, cmd);
		CHECK(e, rc == 0, "`%s`, as the re-run said: rc %d: %s", cmd,
		      rc, e->out);
		rc = ATTACH(e, 30000, "g1", "03:00.0");
		CHECK(e, rc == 0, "pci-attach after `%s`: rc %d: %s", cmd, rc,
		      e->out);
	}
	return wait_guest_devs(e, g1, 1, 5000) && intact(e, g1, d, 1,
		"the re-run of a killed attach") &&
	       inv_check(e, "after the re-run of an attach killed early");
}

/* 1. the same for an HVM guest, whose device has no backend entry: the
 *    re-attach is refused and the device left alone.  Before, its marker
 *    and IOMMU owner without a backend entry looked like the leftovers of
 *    an interrupted attach: rc 0, the device reset twice under the
 *    guest's driver, and removed from and added to its device model
 *    again ("still had 0000:03:00.0 from a forced detach") */
static bool reattach_same_hvm(struct env *e)
{
	uint32_t d[] = { DEV_A };
	struct e2e_qstatus s;
	struct layers l;
	char reply[16384];
	unsigned int h1;
	int rc, before;

	if (!seize(e, d, 1) || !create_hvm(e, "h1", "'03:00.0'", &h1))
		return false;
	before = pb_resets(e, DEV_A);
	rc = ATTACH(e, 30000, "h1", "03:00.0");
	CHECK(e, rc != 0 && error_names(e->out, "already attached"),
	      "pci-attach of a device HVM dom%u has: rc %d: %s", h1, rc,
	      e->out);
	CHECK(e, pb_resets(e, DEV_A) == before, "%s was reset %d time(s) by "
	      "a refused re-attach to HVM dom%u", bdf(DEV_A),
	      pb_resets(e, DEV_A) - before, h1);
	layers_get(e, DEV_A, &l);
	CHECK(e, l.marker == (int)h1 && l.owner == h1 && !l.nbe && l.pb == -1,
	      "%s should still be HVM dom%u's: %s", bdf(DEV_A), h1,
	      layers_str(&l));
	if (!dm_qmp(e, h1, "query-pci", reply, sizeof(reply)))
		return false;
	CHECK(e, dm_has(reply, DEV_A), "%s left dom%u's device model after a "
	      "refused re-attach", bdf(DEV_A), h1);
	CHECK(e, e2e_guest_status(&e->run, h1, &s) && s.n == 1, "HVM dom%u's "
	      "guest does not see its device after a refused re-attach", h1);
	return true;
}

/* 2. create with a device of another running guest fails, and leaves
 *    that guest's device alone */
static bool create_others(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	const char *cfg;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	cfg = cfg_file(e, "g2", "'03:00.0'");
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc != 0, "create g2 with g1's 03:00.0: rc 0: %s", e->out);
	if (!intact(e, g1, d, 1, "create g2 with g1's device"))
		return false;
	/* a free device first, then g1's */
	cfg = cfg_file(e, "g3", "'04:00.0', '03:00.0'");
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc != 0, "create g3 with 04:00.0 and g1's 03:00.0: rc 0: %s",
	      e->out);
	return intact(e, g1, d, 1, "create g3 with a free device and g1's") &&
	       dev_free(e, DEV_B) && inv_check(e, "after two refused creates");
}

/* 2. pci-attach of another running guest's device leaves it alone */
static bool attach_others(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1, g2;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1) ||
	    !guest_with(e, "g2", "'04:00.0'", d + 1, 1, &g2))
		return false;
	rc = ATTACH(e, 30000, "g2", "03:00.0");
	CHECK(e, rc != 0, "pci-attach g2 of g1's 03:00.0: rc 0: %s", e->out);
	return intact(e, g1, d, 1, "pci-attach g2 03:00.0 (g1's)") &&
	       intact(e, g2, d + 1, 1, "pci-attach g2 03:00.0 (g1's)") &&
	       inv_check(e, "after a refused attach of another guest's device");
}

/* 3. destroy copes with any backend content: a garbage dev-N, a hole,
 *    and an entry beyond num_devs naming another guest's device */
static bool destroy_corrupt(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1, g2;
	char path[128];
	int rc;

	if (!seize(e, d, 3) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1) ||
	    !guest_with(e, "g2", "'04:00.0', '05:00.0'", d + 1, 2, &g2))
		return false;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/dev-1",
		 g2);
	if (!xs_put(e, path, "zz:zz.z"))
		return false;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/dev-4",
		 g2);
	if (!xs_put(e, path, bdf(DEV_A)))
		return false;
	rc = TS(e, 30000, "destroy", "g2");
	CHECK(e, rc == 0 || rc == 1, "destroy of g2 with a corrupted backend: "
	      "rc %d: %s", rc, e->out);
	return intact(e, g1, d, 1, "destroy of g2 whose backend holds "
		      "garbage and g1's 03:00.0 beyond num_devs") &&
	       dev_free(e, DEV_B) && dev_free(e, DEV_C) &&
	       inv_check(e, "after destroy with a corrupted backend");
}

/* write a stale dev-N naming another guest's device into dom's backend */
static bool stale_entry(struct env *e, unsigned int domid, uint32_t sbdf)
{
	char path[128];
	int num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", domid);

	CHECK(e, num >= 0, "dom%u has no backend", domid);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/dev-%d",
		 domid, num);
	if (!xs_put(e, path, bdf(sbdf)))
		return false;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/num_devs",
		 domid);
	snprintf(path + 100, 12, "%d", num + 1);
	return xs_put(e, path, path + 100);
}

/* 3. destroy of a guest whose backend names another guest's device */
static bool destroy_stale(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1, g2;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1) ||
	    !guest_with(e, "g2", "'04:00.0'", d + 1, 1, &g2) ||
	    !stale_entry(e, g2, DEV_A))
		return false;
	rc = TS(e, 30000, "destroy", "g2");
	CHECK(e, rc == 0 || rc == 1, "destroy g2: rc %d: %s", rc, e->out);
	return intact(e, g1, d, 1, "destroy of g2 whose backend names g1's "
		      "03:00.0") && dev_free(e, DEV_B) &&
	       inv_check(e, "after destroy with a stale entry");
}

/* 3. a backend directory of a domain that no longer exists, naming a
 *    device (xl 4.17 leaves one, state 6, when it destroys a paused
 *    guest): it holds nothing; attach takes the device and names the
 *    leftover, and `destroy` of the gone domain's id removes it */
static bool attach_gone_backend(struct env *e)
{
	static const char *const kv[][2] = {
		{ "frontend-id", "900" }, { "state", "6" },
		{ "num_devs", "1" }, { "dev-0", "0000:03:00.0" },
		{ "state-0", "1" }, { "vdev-0", "0000:00:00.0" },
	};
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g2;
	char path[128];
	size_t i;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g2", "'04:00.0'", d + 1, 1, &g2))
		return false;
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		snprintf(path, sizeof(path),
			 "/local/domain/0/backend/pci/900/0/%s", kv[i][0]);
		if (!xs_put(e, path, kv[i][1]))
			return false;
	}
	rc = ATTACH(e, 30000, "g2", "03:00.0");
	CHECK(e, rc == 0, "pci-attach g2 03:00.0, listed only by the backend "
	      "of gone domain 900: rc %d: %s", rc, e->out);
	CHECK(e, strstr(e->out, "backend/pci/900") &&
	      strstr(e->out, "xpt destroy 900"), "the attach names the "
	      "leftover and what removes it: %s", e->out);
	rc = TS(e, 30000, "destroy", "900");
	CHECK(e, rc == 0, "destroy 900 (only its backend left): rc %d: %s", rc,
	      e->out);
	CHECK(e, xs_int(e, "/local/domain/0/backend/pci/900/0/num_devs") < 0,
	      "backend/pci/900 still there after `xpt destroy 900`");
	return intact(e, g2, d, 2, "pci-attach past a gone domain's backend, "
		      "then destroy 900") &&
	       inv_check(e, "after a gone domain's backend was removed");
}

/* 3. pci-detach -f of a device named by a stale entry of this guest but
 *    owned by another */
static bool detach_stale(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1, g2;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1) ||
	    !guest_with(e, "g2", "'04:00.0'", d + 1, 1, &g2) ||
	    !stale_entry(e, g2, DEV_A))
		return false;
	rc = TS(e, 30000, "pci-detach", "-f", "g2", "03:00.0");
	(void)rc;	/* removing the stale entry, or refusing: both fine */
	return intact(e, g1, d, 1, "pci-detach -f g2 03:00.0 (a stale entry "
		      "of g2, g1's device)") &&
	       intact(e, g2, d + 1, 1, "pci-detach -f g2 03:00.0");
}

/* a detach that did not finish: g1's guest stopped, pci-detach -f */
static bool half_detached(struct env *e, unsigned int g1, uint32_t sbdf,
			  pid_t *ret_g)
{
	char spec[16];
	pid_t g = guest_pid(e, g1);
	int rc;

	CHECK(e, g > 1, "no guest pid");
	kill(g, SIGSTOP);
	snprintf(spec, sizeof(spec), "%s", bdf(sbdf));
	rc = TS(e, 30000, "pci-detach", "-f", "g1", spec);
	*ret_g = g;
	(void)rc;
	return true;
}

/* 4. attach of a device pciback still exports to another guest */
static bool attach_still_exported(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1, g2;
	struct layers l;
	pid_t g = 0;
	int rc;
	bool ok;

	if (!seize(e, d, 3) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0'", d, 2, &g1) ||
	    !guest_with(e, "g2", "'05:00.0'", d + 2, 1, &g2) ||
	    !half_detached(e, g1, DEV_B, &g))
		return false;
	layers_get(e, DEV_B, &l);
	if (l.pb != (int)g1) {
		kill(g, SIGCONT);
		return fail(e, "setup: pciback no longer exports 04:00.0 to "
			    "g1 after the unfinished detach: %s", layers_str(&l));
	}
	rc = ATTACH(e, 30000, "g2", "04:00.0");
	ok = intact(e, g2, d + 2, 1, "pci-attach g2 04:00.0 (pciback still "
		    "exports it to g1)");
	if (ok && rc == 0)
		ok = dev_owned(e, g2, DEV_B);
	kill(g, SIGCONT);
	return ok;
}

/* the process waits in poll(2) (x86-64 syscall 7): for pciback's answer */
static bool in_poll(struct env *e, void *arg)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", *(int *)arg);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return !strncmp(buf, "7 ", 2);
}

struct ownerarg { uint32_t sbdf, want; };

static bool owner_is(struct env *e, void *arg)
{
	struct ownerarg *o = arg;

	return owner(e, o->sbdf) == o->want;
}

/* 4. pci-attach racing pci-assignable-remove of the same device, in the
 *    losing order: pciback stopped, the attach asks it whether 03:00.0 is
 *    seized, the remove checks the marker (none yet), takes the device out
 *    of quarantine and asks pciback to release it; pciback then answers
 *    the attach ("seized") and releases the device under it.  A
 *    toolstack that serialises the two is fine: then only the outcome is
 *    checked. */
static bool attach_vs_remove(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	struct ownerarg o = { DEV_A, 0 };
	pid_t pb = daemon_pid(e, "pciback");
	struct e2e_proc *a, *r;
	unsigned int g1;
	struct layers l;
	int ra, rr, pid;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'04:00.0'", d + 1, 1, &g1))
		return false;
	CHECK(e, pb > 1, "no pciback pid");
	kill(pb, SIGSTOP);
	a = ts_spawn(e, NULL, (const char *const[]){ "pci-attach", "g1",
						      "03:00.0", NULL });
	pid = a ? a->pid : 0;
	if (!a || !wait_until(e, in_poll, &pid, 10000, NULL)) {
		kill(pb, SIGCONT);
		return fail(e, "setup: pci-attach never waited for pciback");
	}
	r = ts_spawn(e, NULL, (const char *const[]){ "pci-assignable-remove",
						      "03:00.0", NULL });
	if (!r) {
		kill(pb, SIGCONT);
		return false;
	}
	/* a toolstack that serialises the two (a device lock) never gets
	 * there: the bound is the remove's chance to interleave */
	wait_until(e, owner_is, &o, 1500, NULL);
	kill(pb, SIGCONT);
	ra = ts_wait(e, a, 40000, false);
	rr = ts_wait(e, r, 40000, false);
	CHECK(e, !(ra == 0 && rr == 0), "pci-attach and pci-assignable-remove "
	      "of 03:00.0 both succeeded");
	if (!intact(e, g1, d + 1, 1, "pci-attach g1 03:00.0 racing "
		    "pci-assignable-remove 03:00.0"))
		return false;
	layers_get(e, DEV_A, &l);
	if (ra == 0 && !dev_owned(e, g1, DEV_A))
		return false;
	if (rr == 0)
		CHECK(e, !l.nbe && !l.nseen && l.marker < 0 && l.owner == 0 &&
		      l.pb == -2, "pci-assignable-remove succeeded (attach rc "
		      "%d), yet 03:00.0 is %s", ra, layers_str(&l));
	return inv_check(e, "after pci-attach racing pci-assignable-remove");
}

/* 5. a bridge (pciback refuses it) attached to a guest with devices */
static bool bridge_with_devices(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_BR };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 3) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0'", d, 2, &g1))
		return false;
	rc = ATTACH(e, 30000, "g1", "09:00.0");
	CHECK(e, rc != 0, "pci-attach of a bridge: rc 0: %s", e->out);
	CHECK(e, !xs_exists(e, "/local/domain/0/error/backend/pci/%u/0/error",
			    g1), "the bridge reached pciback, which closed "
	      "g1's backend (state %d): it must be refused before anything "
	      "is written", be_state(e, g1));
	return intact(e, g1, d, 2, "a refused bridge attach") &&
	       dev_free(e, DEV_BR) && inv_check(e, "after a bridge attach");
}

static bool error_written(struct env *e, void *arg)
{
	return xs_exists(e, "/local/domain/0/error/backend/pci/%u/0/error",
			 *(unsigned int *)arg);
}

/* 5. pci-list and list say loudly when a backend failed */
static bool list_failed_backend(struct env *e)
{
	uint32_t d[] = { DEV_A };
	unsigned int g1;
	char path[128], *err, *msg;
	int rc;

	if (!seize(e, d, 1) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	/* a device pciback does not hold, hot-added by hand: pciback fails
	 * the backend (error node, Closing) */
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/dev-1",
		 g1);
	if (!xs_put(e, path, "0000:06:00.0"))
		return false;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state-1",
		 g1);
	xs_put(e, path, "1");
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/num_devs",
		 g1);
	xs_put(e, path, "2");
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 g1);
	xs_put(e, path, "7");
	wait_until(e, error_written, &g1, 5000, NULL);
	err = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error", g1);
	CHECK(e, err, "setup: pciback wrote no error node (backend %d)",
	      be_state(e, g1));
	msg = strchr(err, ' ') ? strchr(err, ' ') + 1 : err;
	rc = TS(e, 10000, "pci-list", "g1");
	if (!strstr(e->out, msg)) {
		fail(e, "pci-list of a failed backend (state %d, error \"%s\"): "
		     "rc %d, neither says so: %s", be_state(e, g1), msg, rc,
		     e->out);
		free(err);
		return false;
	}
	rc = TS(e, 10000, "list");
	if (!strstr(e->out, msg) && !strstr(e->out, "Clos")) {
		fail(e, "list with g1's backend failed (\"%s\"): rc %d, does "
		     "not say so: %s", msg, rc, e->out);
		free(err);
		return false;
	}
	free(err);
	return true;
}

static bool be_closed(struct env *e, void *arg)
{
	return be_state(e, *(unsigned int *)arg) == 6;
}

/* 5. pci-list and list say loudly when a backend is Closed (the guest
 *    closed its frontend; no error node) */
static bool list_closed_backend(struct env *e)
{
	uint32_t d[] = { DEV_A };
	unsigned int g1;
	char path[128];
	pid_t g;
	int rc;

	if (!seize(e, d, 1) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	g = guest_pid(e, g1);
	CHECK(e, g > 1, "no guest pid");
	/* the guest's kernel stops; its frontend says Closed */
	kill(g, SIGSTOP);
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state", g1);
	if (!xs_put(e, path, "6") ||
	    !wait_until(e, be_closed, &g1, 5000, "the backend to close")) {
		kill(g, SIGCONT);
		return false;
	}
	rc = TS(e, 10000, "pci-list", "g1");
	if (!strstr(e->out, "Closed") && !strstr(e->out, "closed")) {
		kill(g, SIGCONT);
		return fail(e, "pci-list of a Closed backend (state %d): rc %d, "
			    "does not say so: %s", be_state(e, g1), rc, e->out);
	}
	rc = TS(e, 10000, "list");
	kill(g, SIGCONT);
	CHECK(e, strstr(e->out, "Closed") || strstr(e->out, "closed"), "list "
	      "with g1's backend Closed: rc %d, does not say so: %s", rc,
	      e->out);
	return true;
}

/* 6. a pre-5.13 pciback, create -p, devices attached before the first
 *    unpause: the guest sees exactly the configured devices */
static bool historic_paused_attach(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1, i;
	const char *cfg;
	struct e2e_qstatus s;
	int rc;

	if (!seize(e, d, 3))
		return false;
	cfg = cfg_file(e, "g1", "");
	rc = TS(e, 10000, "create", "-p", cfg);
	CHECK(e, rc == 0, "create -p: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &g1))
		return false;
	for (i = 0; i < 3; i++) {
		rc = ATTACH(e, 30000, "g1", bdf(d[i]));
		CHECK(e, rc == 0, "pci-attach %s to the paused g1: rc %d: %s",
		      bdf(d[i]), rc, e->out);
	}
	rc = TS(e, 30000, "unpause", "g1");
	CHECK(e, rc == 0, "unpause: rc %d: %s", rc, e->out);
	if (!guest_wait_started(e, g1))
		return false;
	wait_guest_devs(e, g1, 3, 5000);
	e->run.why[0] = '\0';
	CHECK(e, e2e_guest_status(&e->run, g1, &s), "g1's guest");
	for (i = 0; i < 3; i++) {
		struct layers l;

		layers_get(e, d[i], &l);
		CHECK(e, qhas(&s, d[i]), "the guest sees %u of the 3 devices "
		      "attached before the first unpause, not %s", s.n,
		      layers_str(&l));
	}
	return inv_check(e, "after create -p, three attaches, unpause");
}

/* 6. the same with a detach before the first unpause: 0 only if pciback
 *    let go, and the guest never sees the detached device */
static bool historic_paused_detach(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1, i;
	const char *cfg;
	struct e2e_qstatus s;
	struct layers l;
	int rc;

	if (!seize(e, d, 3))
		return false;
	cfg = cfg_file(e, "g1", "'03:00.0', '04:00.0', '05:00.0'");
	rc = TS(e, 10000, "create", "-p", cfg);
	CHECK(e, rc == 0, "create -p: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &g1))
		return false;
	rc = DETACH(e, 30000, "g1", "04:00.0");
	layers_get(e, DEV_B, &l);
	CHECK(e, rc != 0 || l.pb == -1, "pci-detach of the paused g1 returned "
	      "0, but pciback still exports 04:00.0: %s", layers_str(&l));
	rc = TS(e, 30000, "unpause", "g1");
	CHECK(e, rc == 0, "unpause: rc %d: %s", rc, e->out);
	if (!guest_wait_started(e, g1))
		return false;
	wait_guest_devs(e, g1, 2, 5000);
	e->run.why[0] = '\0';
	CHECK(e, e2e_guest_status(&e->run, g1, &s), "g1's guest");
	for (i = 0; i < 3; i++)
		CHECK(e, qhas(&s, d[i]) == (d[i] != DEV_B), "the guest %s %s "
		      "(it sees %u devices; wanted 03:00.0 and 05:00.0)",
		      qhas(&s, d[i]) ? "sees" : "does not see", bdf(d[i]), s.n);
	return inv_check(e, "after create -p, a detach, unpause");
}

/* 7. pci-detach -f of one of several devices of a dead guest */
static bool detach_dead_one(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1;
	char cmd[200];
	pid_t g;
	int rc;

	if (!seize(e, d, 3) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0', '05:00.0'", d, 3, &g1))
		return false;
	g = guest_pid(e, g1);
	CHECK(e, g > 1, "no guest pid");
	kill(g, SIGKILL);
	rc = TS(e, 30000, "pci-detach", "-f", "g1", "04:00.0");
	if (rc == 0)
		return dev_free(e, DEV_B) || fail(e, "pci-detach -f returned 0 "
						  "but: %s (backend state %d)",
						  e->run.why, be_state(e, g1));
	CHECK(e, named_command(e->out, cmd, sizeof(cmd)), "pci-detach -f: rc "
	      "%d without saying how to finish: %s", rc, e->out);
	return true;
}

/* 9. destroy with pciback not answering: bounded, and no false success */
static bool destroy_pciback_stopped(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C, DEV_D };
	unsigned int g1;
	pid_t pb = daemon_pid(e, "pciback");
	int64_t t0, ms;
	char cmd[200];
	int rc;

	if (!seize(e, d, 4) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0', '05:00.0', '06:00.0'",
			d, 4, &g1))
		return false;
	CHECK(e, pb > 1, "no pciback pid");
	kill(pb, SIGSTOP);
	t0 = e2e_now_ms();
	rc = TS(e, 120000, "destroy", "g1");
	ms = e2e_now_ms() - t0;
	kill(pb, SIGCONT);
	CHECK(e, ms < 8000, "destroy with pciback stopped took %.1f s for 4 "
	      "devices (rc %d): %s", (double)ms / 1000, rc, e->out);
	CHECK(e, rc != 0, "destroy returned 0 in %.1f s though pciback never "
	      "released or reset a device: %s", (double)ms / 1000, e->out);
	CHECK(e, strstr(e->out, "03:00.0") && named_command(e->out, cmd,
							    sizeof(cmd)),
	      "destroy failed (rc %d) without naming what was left and the "
	      "command that finishes it: %s", rc, e->out);
	rc = run_named(e, cmd);
	CHECK(e, rc == 0, "`%s`, as destroy said: rc %d: %s", cmd, rc, e->out);
	return inv_check(e, "after destroy with pciback stopped, and the "
			 "command it named");
}

/* 10. name= at attach survives reboot (bug 12 for name-N) */
static bool name_reboot(struct env *e)
{
	uint32_t d[] = { DEV_B };
	unsigned int g1, g2;
	char *v;
	int rc, i;

	if (!seize(e, d, 1) || !xs_put(e, "/libxl/pci/0000-04-00-0/name", "nic")
	    || !create(e, "g1", "", &g1))
		return false;
	rc = ATTACH(e, 30000, "g1", "name=nic");
	CHECK(e, rc == 0, "pci-attach name=nic: rc %d: %s", rc, e->out);
	i = be_find(e, g1, DEV_B);
	v = i >= 0 ? xs_get(e, "/local/domain/0/backend/pci/%u/0/name-%d",
			    g1, i) : NULL;
	CHECK(e, v && !strcmp(v, "nic"), "name-%d after attach: %s", i,
	      v ? v : "(none)");
	free(v);
	rc = TS(e, 60000, "reboot", "g1");
	CHECK(e, rc == 0, "reboot: rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "g1", &g2) || !guest_wait_started(e, g2) ||
	    !wait_guest_devs(e, g2, 1, 5000))
		return false;
	i = be_find(e, g2, DEV_B);
	v = i >= 0 ? xs_get(e, "/local/domain/0/backend/pci/%u/0/name-%d",
			    g2, i) : NULL;
	if (!v || strcmp(v, "nic")) {
		fail(e, "after reboot name-%d is %s, wanted nic (the name "
		     "given at attach is lost)", i, v ? v : "missing");
		free(v);
		return false;
	}
	free(v);
	return inv_check(e, "after reboot");
}

/* 10. pci-attach to dom0 is refused and writes nothing */
static bool attach_dom0(struct env *e)
{
	uint32_t d[] = { DEV_A };
	int rc;

	int64_t t0;

	if (!seize(e, d, 1))
		return false;
	t0 = e2e_now_ms();
	rc = ATTACH(e, 30000, "0", "03:00.0");
	CHECK(e, rc != 0, "pci-attach 0 03:00.0 (dom0): rc 0: %s", e->out);
	CHECK(e, e2e_now_ms() - t0 < 3000, "pci-attach 0 03:00.0 was not "
	      "refused: it failed (rc %d) only after %.1f s of waiting for a "
	      "backend: %s", rc, (double)(e2e_now_ms() - t0) / 1000, e->out);
	CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/0"), "pci-attach "
	      "to dom0 wrote /local/domain/0/backend/pci/0");
	return dev_free(e, DEV_A) && inv_check(e, "after pci-attach 0");
}

/* 11. destroy when the hypervisor refuses a deassign: non-zero, and
 *     says what was left */
static bool destroy_hv_refuses(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0'", d, 2, &g1) ||
	    !hv_refuse(e, HV_OP_DEASSIGN))
		return false;
	rc = TS(e, 30000, "destroy", "g1");
	CHECK(e, rc != 0, "destroy returned 0 though the hypervisor refused "
	      "to deassign (03:00.0 owner %#x, 04:00.0 owner %#x): %s",
	      owner(e, DEV_A), owner(e, DEV_B), e->out);
	CHECK(e, error_names(e->out, "03:00.0") ||
	      error_names(e->out, "04:00.0"), "destroy failed (rc %d) without "
	      "an error naming the device left: %s", rc, e->out);
	return true;
}

/* 11. the same for pci-detach */
static bool detach_hv_refuses(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2) ||
	    !guest_with(e, "g1", "'03:00.0', '04:00.0'", d, 2, &g1) ||
	    !hv_refuse(e, HV_OP_DEASSIGN))
		return false;
	rc = DETACH(e, 30000, "g1", "04:00.0");
	CHECK(e, rc != 0, "pci-detach returned 0 though the hypervisor refused "
	      "to deassign (04:00.0 owner %#x): %s", owner(e, DEV_B), e->out);
	CHECK(e, error_names(e->out, "04:00.0"), "pci-detach failed (rc %d) "
	      "without an error naming the device: %s", rc, e->out);
	return intact(e, g1, d, 1, "a detach the hypervisor refused");
}

/* 11. a failed attach whose undo the hypervisor refuses must not say
 *     "undone" */
static bool attach_undo_hv_refuses(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	char path[128];
	pid_t g;
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	g = guest_pid(e, g1);
	CHECK(e, g > 1, "no guest pid");
	/* a reconfiguration that never finishes: the attach fails (bug 14) */
	kill(g, SIGSTOP);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 g1);
	if (!xs_put(e, path, "7") || !hv_refuse(e, HV_OP_DEASSIGN)) {
		kill(g, SIGCONT);
		return false;
	}
	rc = ATTACH(e, 40000, "g1", "04:00.0");
	kill(g, SIGCONT);
	CHECK(e, rc != 0, "pci-attach while the backend never reconnects: rc 0: "
	      "%s", e->out);
	CHECK(e, owner(e, DEV_B) == g1, "setup: the refusing hypervisor "
	      "deassigned 04:00.0 (owner %#x)", owner(e, DEV_B));
	CHECK(e, !strstr(e->out, "undone") &&
	      !strstr(e->out, "nothing was attached") &&
	      error_names(e->out, "04:00.0"), "pci-attach failed and its undo "
	      "was refused (04:00.0 still assigned to dom%u), yet its error "
	      "does not say so: %s", g1, e->out);
	return true;
}

/* run the toolstack with args, kill -9 it while it sleeps at point */
static bool kill_at(struct env *e, const char *point, const char *const args[])
{
	char delay[80];
	struct e2e_proc *p;
	int pid;

	snprintf(delay, sizeof(delay), "%s=30000", point);
	p = ts_spawn(e, delay, args);
	if (!p)
		return false;
	pid = p->pid;
	if (!wait_until(e, at_delay, &pid, 15000, NULL)) {
		ts_wait(e, p, 0, false);
		return fail(e, "%s %s never reached %s: %s", args[0], args[1],
			    point, e->out);
	}
	kill(p->pid, SIGKILL);
	ts_wait(e, p, 5000, false);
	return true;
}

/* the same attach again: it succeeds, or fails because the device is
 * attached (on every layer), or names the command that finishes, which
 * is run, and then the attach again must succeed */
static bool rerun(struct env *e, const char *const args[], const char *what,
		  unsigned int domid, uint32_t sbdf, unsigned int ndevs)
{
	char cmd[200], save[sizeof(e->run.why)];
	int rc = ts_run(e, NULL, 40000, args);
	bool done;

	if (rc == 0)
		return true;
	/* "already attached", and it is, on every layer: converged */
	memcpy(save, e->run.why, sizeof(save));
	done = wait_guest_devs(e, domid, ndevs, 5000) &&
	       dev_owned(e, domid, sbdf);
	memcpy(e->run.why, save, sizeof(save));
	if (done)
		return true;
	CHECK(e, named_command(e->out, cmd, sizeof(cmd)), "%s: the re-run "
	      "fails (rc %d) without naming the command that finishes: %s",
	      what, rc, e->out);
	rc = run_named(e, cmd);
	CHECK(e, rc == 0, "%s: `%s`, as the re-run said: rc %d: %s", what, cmd,
	      rc, e->out);
	rc = ts_run(e, NULL, 40000, args);
	CHECK(e, rc == 0, "%s: the re-run after `%s`: rc %d: %s", what, cmd, rc,
	      e->out);
	return true;
}

/* 1, 8. pci-attach and pci-detach killed (-9) at every delay point, then
 *    run again: they converge, every layer agrees, the other device is
 *    never touched */
static bool killed_anywhere(struct env *e)
{
	static const char *const apoints[] = {
		"attach.before-txn", "attach.in-txn", "attach.before-wait",
	};
	static const char *const dpoints[] = {
		"detach.in-txn", "detach.before-compact",
	};
	const char *const attach[] = { "pci-attach", "g1", "04:00.0", NULL };
	const char *const detach[] = { "pci-detach", "g1", "04:00.0", NULL };
	uint32_t d[] = { DEV_A, DEV_B };
	char what[96];
	unsigned int g1, i;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	for (i = 0; i < 3; i++) {
		snprintf(what, sizeof(what), "pci-attach killed at %s",
			 apoints[i]);
		if (!kill_at(e, apoints[i], attach) || !rerun(e, attach, what, g1, DEV_B, 2) ||
		    !wait_guest_devs(e, g1, 2, 5000) ||
		    !intact(e, g1, d, 2, what) || !inv_check(e, what))
			return false;
		if (ts_run(e, NULL, 40000, detach) != 0)
			return fail(e, "after %s: pci-detach: %s", what, e->out);
		if (!dev_free(e, DEV_B) || !intact(e, g1, d, 1, what))
			return false;
	}
	for (i = 0; i < 2; i++) {
		if (ts_run(e, NULL, 40000, attach) != 0)
			return fail(e, "pci-attach: %s", e->out);
		snprintf(what, sizeof(what), "pci-detach killed at %s",
			 dpoints[i]);
		if (!kill_at(e, dpoints[i], detach))
			return false;
		if (ts_run(e, NULL, 40000, detach) != 0 &&
		    !dev_free(e, DEV_B))
			return fail(e, "%s: the re-run fails and 04:00.0 is "
				    "not free: %s", what, e->out);
		if (!dev_free(e, DEV_B) || !intact(e, g1, d, 1, what) ||
		    !inv_check(e, what))
			return false;
	}
	return true;
}

/* create killed while cold-plugging, destroy killed before it
 *    deassigned: destroy converges, nothing is left, the other guest's
 *    device is never touched */
static bool killed_create_destroy(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_C };
	const char *const destroy[] = { "destroy", "g2", NULL };
	unsigned int g1, g2;
	const char *cfg;
	char cfgpath[256];
	int rc;

	if (!seize(e, d, 2) || !guest_with(e, "g1", "'03:00.0'", d, 1, &g1))
		return false;
	cfg = cfg_file(e, "g2", "'05:00.0'");
	snprintf(cfgpath, sizeof(cfgpath), "%s", cfg);
	if (!kill_at(e, "coldplug.in-txn", (const char *const[]){
		"create", cfgpath, NULL }))
		return false;
	/* what the kill left is a domain to destroy (or nothing) */
	rc = ts_run(e, NULL, 40000, destroy);
	CHECK(e, rc == 0 || rc == 3, "destroy of a create killed while "
	      "cold-plugging: rc %d: %s", rc, e->out);
	if (!dev_free(e, DEV_C) || !intact(e, g1, d, 1, "create killed, "
					   "then destroy") ||
	    !inv_check(e, "after a killed create and destroy"))
		return false;
	if (!guest_with(e, "g2", "'05:00.0'", d + 1, 1, &g2))
		return false;
	if (!kill_at(e, "destroy.before-deassign", destroy))
		return false;
	rc = ts_run(e, NULL, 40000, destroy);
	CHECK(e, rc == 0 || (rc == 3 && (dev_free(e, DEV_C) ||
					 fail(e, "destroy killed before it "
					      "deassigned; the re-run says "
					      "there is no domain: %s",
					      e->run.why))),
	      "destroy again after a killed destroy: rc %d: %s", rc, e->out);
	return dev_free(e, DEV_C) && intact(e, g1, d, 1, "destroy killed, "
					    "then again") &&
	       inv_check(e, "after a killed destroy and destroy again");
}

/* 12. a guest that answers a hot-add slowly (its rescan after
 *    Reconfigured takes 12 s, as Linux 6.12's took 3-4 s under TCG and
 *    past 10 s on a loaded lab host): the attach waits for it, says so,
 *    and succeeds; before, it gave up at 10 s and undid the attach.
 *    Then again with the attach's first look at the backend 1 s late
 *    (attach.before-wait), when pciback is already at Reconfigured: no
 *    state moves while the guest rescans, and still the attach waits.
 *    Before, that order (seen in the ASan build) failed at 10 s. */
static bool slow_guest(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 3))
		return false;
	e->slow = true;
	rc = guest_with(e, "g1", "'03:00.0'", d, 1, &g1);
	e->slow = false;
	if (!rc)
		return false;
	rc = ATTACH(e, 60000, "g1", "04:00.0");
	CHECK(e, rc == 0, "pci-attach to a guest that rescans in 12 s: rc "
	      "%d: %s", rc, e->out);
	CHECK(e, strstr(e->out, "slow to take the change") != NULL, "pci-attach "
	      "did not say that it waits longer for the slow guest: %s",
	      e->out);
	if (!wait_guest_devs(e, g1, 2, 5000) ||
	    !intact(e, g1, d, 2, "a slow guest's hot-add"))
		return false;
	rc = ts_run(e, "attach.before-wait=1000", 60000,
		    (const char *const[]){ "pci-attach", "g1", "05:00.0",
					   NULL });
	CHECK(e, rc == 0, "pci-attach to a guest that rescans in 12 s, "
	      "first look at the backend 1 s late: rc %d: %s", rc, e->out);
	return wait_guest_devs(e, g1, 3, 5000) &&
	       intact(e, g1, d, 3, "a slow guest's hot-adds") &&
	       inv_check(e, "after a slow guest's hot-adds");
}

/* 12. the guest's frontend closes while a hot-add waits for it (the
 *    guest shuts down, or pcifront is unloaded): the attach fails naming
 *    the frontend, and undoes itself; before, it said "the backend is
 *    closing", blaming dom0's pciback for what the guest did */
static bool frontend_closes(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	const char *const attach[] = { "pci-attach", "g1", "04:00.0", NULL };
	char path[96];
	struct e2e_proc *p;
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2))
		return false;
	e->slow = true;
	rc = guest_with(e, "g1", "'03:00.0'", d, 1, &g1);
	e->slow = false;
	if (!rc)
		return false;
	p = ts_spawn(e, NULL, attach);
	CHECK(e, p != NULL, "cannot start pci-attach");
	/* pciback has the device (8), the guest takes 12 s to rescan */
	if (!wait_states(e, g1, 7 /* Reconfiguring */,
			 8 /* Reconfigured */, 8000)) {
		ts_wait(e, p, 0, false);
		return false;
	}
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state",
		 g1);
	CHECK(e, xs_put(e, path, "5"), "cannot set the frontend Closing");
	rc = ts_wait(e, p, 20000, false);
	CHECK(e, rc != 0 && rc != -1, "pci-attach while the frontend "
	      "closes: rc %d: %s", rc, e->out);
	CHECK(e, strstr(e->out, "frontend is closing") != NULL,
	      "pci-attach did not name the closing frontend: %s", e->out);
	CHECK(e, strstr(e->out, "backend is closing") == NULL,
	      "pci-attach blamed the backend: %s", e->out);
	CHECK(e, be_find(e, g1, DEV_B) < 0 && !marker(e, DEV_B, NULL),
	      "04:00.0 left in g1's backend or marked after the failed "
	      "attach");
	/* pciback lets go of what a closed backend exported only when the
	 * backend goes: at destroy */
	return TS(e, 40000, "destroy", "g1") == 0 && dev_free(e, DEV_A) &&
	       dev_free(e, DEV_B) &&
	       inv_check(e, "after an attach whose frontend closed");
}

/* 12. a guest whose first connect is slow (its pcifront scans the roots
 *    12 s after pciback's Connected, as the lab's Linux 6.1 guest did
 *    with a virtio-blk probe on a loaded host): the first attach creates
 *    the backend and returns at pciback's Connected; a second attach
 *    right after waits for the frontend (at 3, not moving) and succeeds.
 *    Before, it gave up at 10 s ("frontend did not connect") and undid
 *    itself, though the guest connected 2 s later. */
static bool slow_connect(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1;
	int rc;

	if (!seize(e, d, 2))
		return false;
	e->slow_connect = true;
	rc = create(e, "g1", "", &g1);
	e->slow_connect = false;
	if (!rc)
		return false;
	rc = ATTACH(e, 60000, "g1", "03:00.0");
	CHECK(e, rc == 0, "first pci-attach: rc %d: %s", rc, e->out);
	rc = ATTACH(e, 60000, "g1", "04:00.0");
	CHECK(e, rc == 0, "pci-attach while the guest's first connect is "
	      "slow: rc %d: %s", rc, e->out);
	return wait_guest_devs(e, g1, 2, 5000) &&
	       intact(e, g1, d, 2, "attaches to a guest slow to connect") &&
	       inv_check(e, "after attaches to a guest slow to connect");
}

/* 12. a guest slower than the attach waits (its rescan after
 *    Reconfigured takes 40 s): pciback has exported the device and the
 *    guest may be probing it, so the attach fails but leaves the device
 *    attached on every layer, says so, and the guest takes it later.
 *    Before, the attach undid itself: BARs revoked and the device
 *    deassigned under the guest's driver (in the lab a Linux guest oopsed
 *    in virtio's probe, writing to a BAR no longer granted). */
static bool slower_than_wait(struct env *e)
{
	uint32_t d[] = { DEV_A, DEV_B };
	unsigned int g1, who = 0;
	int rc;

	if (!seize(e, d, 2))
		return false;
	e->very_slow = true;
	rc = guest_with(e, "g1", "'03:00.0'", d, 1, &g1);
	e->very_slow = false;
	if (!rc)
		return false;
	rc = ATTACH(e, 60000, "g1", "04:00.0");
	CHECK(e, rc == 1, "pci-attach to a guest that rescans in 40 s: rc "
	      "%d, wanted 1: %s", rc, e->out);
	CHECK(e, strstr(e->out, "stays attached") != NULL, "pci-attach did "
	      "not say that the device stays attached: %s", e->out);
	CHECK(e, be_find(e, g1, DEV_B) >= 0 && marker(e, DEV_B, &who) &&
	      who == g1 && owner(e, DEV_B) == g1, "04:00.0 taken from the "
	      "guest after a slow attach (backend index %d, marker %u, "
	      "owner %#x)", be_find(e, g1, DEV_B), who, owner(e, DEV_B));
	return wait_guest_devs(e, g1, 2, 25000) &&
	       intact(e, g1, d, 2, "a guest slower than the attach waits") &&
	       inv_check(e, "after a guest slower than the attach waits");
}

const struct ocase ocases[] = {
	{ "reattach-same", "1: re-attach of an attached device", reattach_same, false },
	{ "reattach-spelling", "1: re-attach spelled 3:0.0 / 0000:03:00.0", reattach_spelling, false },
	{ "reattach-wildcard", "1: BB:DD.* with one function attached", reattach_wildcard, false },
	{ "reattach-killed", "1: re-run of an attach killed at attach.before-wait", reattach_killed, false },
	{ "reattach-same-hvm", "1: re-attach of a device an HVM guest has", reattach_same_hvm, false },
	{ "create-others", "2: create with another running guest's device", create_others, false },
	{ "attach-others", "2: pci-attach of another running guest's device", attach_others, false },
	{ "destroy-corrupt", "3: destroy with garbage and an entry beyond num_devs", destroy_corrupt, false },
	{ "destroy-stale", "3: destroy with a stale entry naming another guest's device", destroy_stale, false },
	{ "attach-gone-backend", "3: pci-attach past the backend directory of a gone domain", attach_gone_backend, false },
	{ "detach-stale", "3: pci-detach -f of a stale entry naming another guest's device", detach_stale, false },
	{ "attach-still-exported", "4: attach of a device pciback still exports elsewhere", attach_still_exported, false },
	{ "attach-vs-remove", "4: pci-attach racing pci-assignable-remove", attach_vs_remove, false },
	{ "bridge-with-devices", "5: bridge attach to a guest with devices (bug 24+)", bridge_with_devices, false },
	{ "list-failed-backend", "5: pci-list/list show a failed backend", list_failed_backend, false },
	{ "list-closed-backend", "5: pci-list/list show a Closed backend", list_closed_backend, false },
	{ "historic-paused-attach", "6: --historic, create -p, attaches before unpause (bug 1+)", historic_paused_attach, true },
	{ "historic-paused-detach", "6: --historic, create -p, a detach before unpause", historic_paused_detach, true },
	{ "detach-dead-one", "7: pci-detach -f of one of several devices of a dead guest (bug 11+)", detach_dead_one, false },
	{ "killed-rerun", "8: re-run of an attach killed at attach.before-txn", killed_rerun, false },
	{ "killed-anywhere", "1, 8: attach and detach killed at every delay point, run again", killed_anywhere, false },
	{ "killed-create-destroy", "8: create and destroy killed at their delay points", killed_create_destroy, false },
	{ "destroy-pciback-stopped", "9: destroy, 4 devices, pciback stopped", destroy_pciback_stopped, false },
	{ "name-reboot", "10: name= at attach across reboot (bug 12+)", name_reboot, false },
	{ "attach-dom0", "10: pci-attach to dom0", attach_dom0, false },
	{ "destroy-hv-refuses", "11: destroy when the hypervisor refuses a deassign", destroy_hv_refuses, false },
	{ "detach-hv-refuses", "11: pci-detach when the hypervisor refuses a deassign", detach_hv_refuses, false },
	{ "attach-undo-hv-refuses", "11: a failed attach whose undo the hypervisor refuses", attach_undo_hv_refuses, false },
	{ "slow-guest", "12: hot-add to a guest that rescans in 12 s", slow_guest, false },
	{ "slow-connect", "12: pci-attach while the guest's first connect takes 12 s", slow_connect, false },
	{ "slower-than-wait", "12: pci-attach to a guest that rescans in 40 s", slower_than_wait, false },
	{ "frontend-closes", "12: the frontend closes while a hot-add waits", frontend_closes, false },
};
const unsigned int nocases = sizeof(ocases) / sizeof(ocases[0]);
