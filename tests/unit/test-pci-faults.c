// SPDX-License-Identifier: MIT
/*
 * Every platform call of an operation fails in turn (SQLite's method):
 * create with two devices, attach a third, detach the first, destroy, for
 * a PV guest and for a PVH one (no backend: vPCI gets its devices at the
 * assign),
 * on the in-memory host of fakeplatform.c with a real xpt-xenstored.  For
 * call N = 1, 2, ... the Nth call fails; each operation must then either
 * succeed or fail leaving every layer as it found it: the hypervisor's
 * owner, pciback's binding, BAR permissions and pirqs of every device,
 * the /libxl/pci markers and the backend entries.  A detach that took the
 * device out of the backend before the failure, and a destroy, may leave
 * devices reserved to the domain, and must say so; run again they finish.
 * After each round nothing is left of the domain.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakeplatform.h"

static const char *xenstored;

struct snap {
	struct fake_dev dev[FAKE_NDEV];
	int marker[FAKE_NDEV];		/* its domid, -1 none */
	int be[FAKE_NDEV];		/* the domain whose backend lists it */
	bool dom[FAKE_NDOM];
};

static void snap_take(struct xpt_ctx *c, struct snap *s)
{
	struct xpt_be *b = malloc(sizeof(*b));
	char m[16], path[64];
	int i, j;

	assert_non_null(b);
	memset(s, 0, sizeof(*s));
	memcpy(s->dev, fake.dev, sizeof(s->dev));
	for (i = 0; i < FAKE_NDEV; i++) {
		xpt_marker_bdf(fake.dev[i].sbdf, m, sizeof(m));
		snprintf(path, sizeof(path), "/libxl/pci/%s/domid", m);
		if (xpt_xs_read_int(c, XBT_NULL, path, &s->marker[i]) < 0)
			s->marker[i] = -1;
		s->be[i] = -1;
	}
	for (j = 0; j < FAKE_NDOM; j++) {
		s->dom[j] = fake.dom[j].used;
		if (!fake.dom[j].used ||
		    xpt_be_read(c, XBT_NULL, fake.dom[j].domid, b) < 0)
			continue;
		for (i = 0; i < FAKE_NDEV; i++)
			if (xpt_be_find(b, fake.dev[i].sbdf))
				s->be[i] = (int)fake.dom[j].domid;
	}
	free(b);
}

static void snap_equal(const struct snap *a, const struct snap *b,
		       const char *op, unsigned int n)
{
	int i;

	for (i = 0; i < FAKE_NDEV; i++) {
		if (a->dev[i].owner != b->dev[i].owner ||
		    a->dev[i].bound != b->dev[i].bound ||
		    memcmp(a->dev[i].perms, b->dev[i].perms,
			   sizeof(a->dev[i].perms)) ||
		    memcmp(a->dev[i].pirq, b->dev[i].pirq,
			   sizeof(a->dev[i].pirq)) ||
		    a->marker[i] != b->marker[i] || a->be[i] != b->be[i])
			fail_msg("%s failed at call %u and changed device %d: "
				 "owner %d->%d bound %d->%d marker %d->%d "
				 "backend %d->%d", op, n, i, a->dev[i].owner,
				 b->dev[i].owner, a->dev[i].bound,
				 b->dev[i].bound, a->marker[i], b->marker[i],
				 a->be[i], b->be[i]);
	}
	if (memcmp(a->dom, b->dom, sizeof(a->dom)))
		fail_msg("%s failed at call %u and left a domain behind", op,
			 n);
}

/* Nothing of any domain: devices quarantined, bound, no grants, no
 * markers, no backends, no domains. */
static void all_clean(struct xpt_ctx *c, unsigned int n)
{
	struct snap s;
	int i, j;

	snap_take(c, &s);
	for (i = 0; i < FAKE_NDEV; i++) {
		if (s.dev[i].owner != (int)XPT_DOMID_IO || !s.dev[i].bound ||
		    s.marker[i] >= 0 || s.be[i] >= 0)
			fail_msg("round %u: device %d left: owner %d bound %d "
				 "marker %d backend %d", n, i, s.dev[i].owner,
				 s.dev[i].bound, s.marker[i], s.be[i]);
		for (j = 0; j < FAKE_NDOM; j++)
			if (s.dev[i].perms[j] || s.dev[i].pirq[j])
				fail_msg("round %u: device %d keeps a grant or "
					 "pirq", n, i);
	}
	for (j = 0; j < FAKE_NDOM; j++)
		if (s.dom[j])
			fail_msg("round %u: a domain is left", n);
}

static struct xpt_pci spec_of(uint32_t sbdf)
{
	struct xpt_pci p;

	xpt_pci_spec_init(&p);
	p.sbdf = sbdf;
	p.has_bdf = true;
	p.func_mask = (uint8_t)(1u << XPT_PCI_FN(sbdf));
	return p;
}

/* A fresh in-memory host, every device assignable, and cfg a guest
 * (its name still to set) with the first two of them. */
static void fresh_host(struct xpt_ctx *c, struct xpt_cfg *cfg)
{
	int i;

	assert_non_null(c);
	assert_non_null(cfg);
	fake_reset();
	for (i = 0; i < FAKE_NDEV; i++)
		assert_int_equal(xpt_assignable_add(c, fake.dev[i].sbdf,
						    NULL), 0);
	cfg->memory_mb = 64;
	cfg->pci[0] = spec_of(fake.dev[0].sbdf);
	cfg->pci[1] = spec_of(fake.dev[1].sbdf);
	cfg->npci = 2;
}

/* A PVH guest has no backend: each of its devices is the domain's in
 * the IOMMU and by its marker, in no backend. */
static void pvh_holds(struct xpt_ctx *c, unsigned int domid, int dev,
		      bool held, const char *when)
{
	struct snap s;

	snap_take(c, &s);
	if (s.be[dev] >= 0 || (held && (s.dev[dev].owner != (int)domid ||
					s.marker[dev] != (int)domid)) ||
	    (!held && (s.dev[dev].owner != (int)XPT_DOMID_IO ||
		       s.marker[dev] >= 0 || !s.dev[dev].bound)))
		fail_msg("PVH %s: device %d: owner %d marker %d backend %d "
			 "(domain %u, %s)", when, dev, s.dev[dev].owner,
			 s.marker[dev], s.be[dev], domid, held ? "held" :
			 "given back");
}

/* One round with call fail_at failing, the guest of type (pv, pvh);
 * returns the calls made. */
static unsigned int round_run(unsigned int fail_at, const char *type)
{
	bool pvh = !strcmp(type, "pvh");
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct snap before, after;
	struct xpt_pci p;
	unsigned int domid = 0;
	int r;

	fresh_host(c, cfg);
	snprintf(cfg->name, sizeof(cfg->name), "g%s%u", type, fail_at);
	snprintf(cfg->type, sizeof(cfg->type), "%s", type);
	fake.calls = 0;
	fake.fail_at = fail_at;

	snap_take(c, &before);
	r = xpt_domain_create(c, cfg, true, &domid);
	if (r < 0) {
		snap_take(c, &after);
		snap_equal(&before, &after, "create", fail_at);
		goto out;
	}
	if (pvh && !fail_at) {
		pvh_holds(c, domid, 0, true, "create");
		pvh_holds(c, domid, 1, true, "create");
	}
	snap_take(c, &before);
	p = spec_of(fake.dev[2].sbdf);
	if (xpt_pci_attach(c, domid, &p) < 0) {
		snap_take(c, &after);
		snap_equal(&before, &after, "attach", fail_at);
	} else if (pvh) {
		pvh_holds(c, domid, 2, true, "attach");
	}
	snap_take(c, &before);
	p = spec_of(fake.dev[0].sbdf);
	if (xpt_pci_detach(c, domid, &p, false) < 0) {
		snap_take(c, &after);
		if (strstr(xpt_ctx_error(c), "reserved for the domain")) {
			/* out of the backend, still the domain's: said so,
			 * and the retry the message names finishes it */
			if (after.marker[0] != (int)domid || after.be[0] >= 0 ||
			    xpt_pci_detach(c, domid, &p, true) < 0)
				fail_msg("detach failed at call %u (%s) and "
					 "did not converge: %s", fail_at,
					 "stays reserved", xpt_ctx_error(c));
		} else {
			snap_equal(&before, &after, "detach", fail_at);
		}
	} else if (pvh) {
		pvh_holds(c, domid, 0, false, "detach");
	}
	r = xpt_domain_destroy(c, domid);
	if (getenv("FAULTS_VERBOSE"))
		fprintf(stderr, "destroy at %u: %d %s / %s\n", fail_at, r,
			r < 0 ? xpt_ctx_error(c) : "", xpt_ctx_warnings(c));
	if (r < 0) {
		/* a teardown that failed says what it left, and a second
		 * destroy finishes it */
		if (!strstr(xpt_ctx_error(c), "domain") ||
		    xpt_domain_destroy(c, domid) < 0)
			fail_msg("destroy failed at call %u: %s; again: %s",
				 fail_at, xpt_ctx_error(c), xpt_ctx_error(c));
	}
out:
	all_clean(c, fail_at);
	if (fail_at && fail_at <= fake.calls && !fake.failed)
		fail_msg("call %u was never made to fail", fail_at);
	r = (int)fake.calls;
	xpt_ctx_close(c);
	free(cfg);
	return (unsigned int)r;
}

static void every_call_fails(const char *type)
{
	unsigned int total, n;

	total = round_run(0, type);
	assert_true(total > 20);
	for (n = 1; n <= total; n++)
		round_run(n, type);
	print_message("%s guest: %u platform calls, each made to fail in "
		      "turn\n", type, total);
}

static void test_every_call_fails(void **state)
{
	(void)state;
	every_call_fails("pv");
}

/* The same for a PVH guest: no backend, its devices given to its vPCI
 * by the assign alone, taken back by the deassign. */
static void test_every_call_fails_pvh(void **state)
{
	(void)state;
	every_call_fails("pvh");
}

/* A guest whose frontend says Connected, running or paused by its
 * administrator: destroy stops it first and never lets it run again (a
 * paused guest stays paused; its kernel may be what was wrong), and no
 * device leaves it while it runs.  Before, destroy unpaused a paused
 * guest to ask it to let go, and paused a running one and then waited a
 * second for the answer it could not give. */
static void destroy_connected(bool paused)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	unsigned int domid = 0;
	char path[96];

	fresh_host(c, cfg);
	snprintf(cfg->name, sizeof(cfg->name), "conn%d", paused);
	assert_int_equal(xpt_domain_create(c, cfg, false, &domid), 0);
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state",
		 domid);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "4"), 0);
	if (paused)
		assert_int_equal(xpt_domain_pause(c, domid), 0);
	fake.unpauses = 0;
	fake.ran_deassigned = 0;
	assert_int_equal(xpt_domain_destroy(c, domid), 0);
	if (fake.unpauses)
		fail_msg("destroy unpaused the %s guest", paused ? "paused" :
			 "running");
	if (fake.ran_deassigned)
		fail_msg("destroy took %u devices from the guest while it ran",
			 fake.ran_deassigned);
	all_clean(c, 0);
	xpt_ctx_close(c);
	free(cfg);
}

static void test_destroy_paused_guest(void **state)
{
	(void)state;
	destroy_connected(true);
}

static void test_destroy_running_guest(void **state)
{
	(void)state;
	destroy_connected(false);
}

/* A guest gets every resource of its devices, the expansion ROM with the
 * BARs (libxl's 7 resource lines; a driver reading its option ROM faults
 * without it), and loses them all at destroy.  Before, the ROM was not
 * granted. */
static void test_rom_granted(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	unsigned int domid = 0;
	int s;

	(void)state;
	fresh_host(c, cfg);
	snprintf(cfg->name, sizeof(cfg->name), "rom");
	assert_int_equal(xpt_domain_create(c, cfg, false, &domid), 0);
	s = fake_slot(domid);
	assert_true(s >= 0);
	assert_int_equal(fake.dev[0].perms[s], 1u | 1u << XPT_BAR_ROM);
	assert_int_equal(fake.dev[1].perms[s], 1u | 1u << XPT_BAR_ROM);
	assert_int_equal(fake.dev[2].perms[s], 0);
	assert_int_equal(xpt_domain_destroy(c, domid), 0);
	all_clean(c, 0);
	xpt_ctx_close(c);
	free(cfg);
}

/* pci-assignable-remove without -r keeps the driver the device came from
 * (/libxl/pci/<bdf>/driver_path), as libxl does, so a later remove -r
 * can still give it back; the name goes.  Before, the whole directory
 * went, and the original driver was forgotten. */
static void test_remove_keeps_driver_path(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct xpt_pci spec = spec_of(fake.dev[0].sbdf);
	char m[16], dir[64], path[96], *v;

	(void)state;
	fresh_host(c, cfg);
	xpt_marker_bdf(fake.dev[0].sbdf, m, sizeof(m));
	snprintf(dir, sizeof(dir), "/libxl/pci/%s", m);
	snprintf(path, sizeof(path), "%s/driver_path", dir);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path,
				      "/sys/bus/pci/drivers/igb"), 0);
	snprintf(path, sizeof(path), "%s/name", dir);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "nic"), 0);

	if (xpt_assignable_remove(c, &spec, false) < 0)
		fail_msg("%s", c->err);
	assert_false(fake.dev[0].bound);
	assert_false(xpt_xs_exists(c, XBT_NULL, path));
	snprintf(path, sizeof(path), "%s/driver_path", dir);
	v = xpt_xs_read(c, XBT_NULL, path);
	assert_non_null(v);
	assert_string_equal(v, "/sys/bus/pci/drivers/igb");
	free(v);

	/* nothing else left: the directory goes with the name */
	spec = spec_of(fake.dev[1].sbdf);
	xpt_marker_bdf(fake.dev[1].sbdf, m, sizeof(m));
	snprintf(path, sizeof(path), "/libxl/pci/%s/name", m);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "disk"), 0);
	assert_int_equal(xpt_assignable_remove(c, &spec, false), 0);
	snprintf(path, sizeof(path), "/libxl/pci/%s", m);
	assert_false(xpt_xs_exists(c, XBT_NULL, path));
	xpt_ctx_close(c);
	free(cfg);
}

static int setup(void **state)
{
	(void)state;
	return fake_start_xenstored(xenstored);
}

static int teardown(void **state)
{
	(void)state;
	fake_stop_xenstored();
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_call_fails),
		cmocka_unit_test(test_every_call_fails_pvh),
		cmocka_unit_test(test_destroy_paused_guest),
		cmocka_unit_test(test_destroy_running_guest),
		cmocka_unit_test(test_rom_granted),
		cmocka_unit_test(test_remove_keeps_driver_path),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT-XENSTORED\n", argv[0]);
		return 2;
	}
	xenstored = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
