// SPDX-License-Identifier: MIT
/*
 * The sysfs half of the xen platform (src/libxpt/platform-xen.c) against
 * a fake /sys in a temporary directory ($XPT_SYSFS): host PCI functions
 * (ids, BARs, INTx, reset method, SR-IOV parent), pciback's devices and
 * the domain each is exported to (xenstore backends of a real
 * xpt-xenstored, argv[1], plus the live xenbus device), seize and release
 * as libxl does them (unbind, new_slot, bind; the original driver kept in
 * /libxl/pci/<bdf>/driver_path and bound again), reset and permissive.
 * No hypervisor: its ops must say so, not crash.
 *
 * The fake tree has no kernel behind it: a write lands in a plain file,
 * which the test reads back; where the kernel would move a device to
 * another driver, the test moves the `driver` link itself.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakeplatform.h"
#include "libxpt.h"

static const char *xenstored;
static char root[64];
static const struct xpt_platform *X = &xpt_platform_xen;

#define E1000 XPT_PCI_SBDF(0, 0, 5, 0)
#define EDU XPT_PCI_SBDF(0, 0, 6, 0)
#define PF XPT_PCI_SBDF(0, 0, 7, 0)
#define VF XPT_PCI_SBDF(0, 0, 7, 1)

static void mkdirs(const char *path)
{
	assert_int_equal(xpt_mkdirs(path), 0);
}

/* root/rel holds text (its directory made first). */
static void put(const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
	char path[PATH_MAX], *slash;
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void link_to(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static void rm_rel(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(remove(path), 0);
}

/* What the code wrote into root/rel. */
static const char *got(const char *rel)
{
	static char buf[256];
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#define DEV "bus/pci/devices/"
#define PB "bus/pci/drivers/pciback/"

static void config_pin(const char *bdf, unsigned char pin)
{
	char rel[128], cfg[64] = { 0 };
	FILE *f;
	char path[PATH_MAX];

	snprintf(rel, sizeof(rel), DEV "%s/config", bdf);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	cfg[0x3d] = (char)pin;
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

static void fake_tree(void)
{
	static const char zero[] =
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

	/* e1000: a memory BAR, an I/O BAR, INTA on GSI 21, FLR, bound to
	 * its own driver */
	put(DEV "0000:00:05.0/vendor", "0x8086\n");
	put(DEV "0000:00:05.0/device", "0x100e\n");
	put(DEV "0000:00:05.0/class", "0x020000\n");
	put(DEV "0000:00:05.0/irq", "21\n");
	put(DEV "0000:00:05.0/resource",
	    "0x00000000febc0000 0x00000000febdffff 0x0000000000040200\n%s"
	    "0x000000000000c000 0x000000000000c03f 0x0000000000040101\n"
	    "%s%s%s"
	    "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n",
	    zero, zero, zero, zero);
	put(DEV "0000:00:05.0/reset", "%s", "");
	put(DEV "0000:00:05.0/reset_method", "flr bus\n");
	put(DEV "0000:00:05.0/driver_override", "(null)\n");
	config_pin("0000:00:05.0", 1);
	put("bus/pci/drivers/e1000/bind", "%s", "");
	put("bus/pci/drivers/e1000/unbind", "%s", "");
	link_to("../../drivers/e1000", DEV "0000:00:05.0/driver");

	/* edu: one 64-bit BAR above 4 GiB, no INTx, no reset, in pciback */
	put(DEV "0000:00:06.0/vendor", "0x1234\n");
	put(DEV "0000:00:06.0/device", "0x11e8\n");
	put(DEV "0000:00:06.0/class", "0x00ff00\n");
	put(DEV "0000:00:06.0/irq", "0\n");
	put(DEV "0000:00:06.0/resource",
	    "0x0000000800000000 0x00000008000fffff 0x000000000014220c\n%s%s",
	    zero, zero);
	config_pin("0000:00:06.0", 0);
	link_to("../../drivers/pciback", DEV "0000:00:06.0/driver");

	/* an SR-IOV PF (bus reset) and its VF (PM reset), no driver */
	put(DEV "0000:00:07.0/vendor", "0x8086\n");
	put(DEV "0000:00:07.0/device", "0x10c9\n");
	put(DEV "0000:00:07.0/class", "0x020000\n");
	put(DEV "0000:00:07.0/resource", "%s", zero);
	put(DEV "0000:00:07.0/reset", "%s", "");
	put(DEV "0000:00:07.0/reset_method", "bus\n");
	put(DEV "0000:00:07.1/vendor", "0x8086\n");
	put(DEV "0000:00:07.1/device", "0x10ca\n");
	put(DEV "0000:00:07.1/class", "0x020000\n");
	put(DEV "0000:00:07.1/resource", "%s", zero);
	put(DEV "0000:00:07.1/reset", "%s", "");
	put(DEV "0000:00:07.1/reset_method", "pm\n");
	link_to("../0000:00:07.0", DEV "0000:00:07.1/physfn");
	put(DEV "not-a-bdf/vendor", "0x0\n");

	put(PB "slots", "0000:00:06.0\n");
	put(PB "new_slot", "%s", "");
	put(PB "remove_slot", "%s", "");
	put(PB "bind", "%s", "");
	put(PB "unbind", "%s", "");
	put(PB "permissive", "%s", "");
	link_to("../../devices/0000:00:06.0", PB "0000:00:06.0");
	/* pciback's xenbus device serving domain 3 */
	put("bus/xen-backend/devices/pci-3-0/devtype", "pci\n");
}

static struct xpt_ctx *ctx_xs(void)
{
	struct xpt_ctx *c;
	char path[128];

	assert_int_equal(xpt_ctx_open(fake_rundir(), &c), 0);
	snprintf(path, sizeof(path), "%s/socket", fake_rundir());
	setenv("XENSTORED_PATH", path, 1);
	c->xs = xs_open(0);
	assert_non_null(c->xs);
	return c;
}

static void w(struct xpt_ctx *c, const char *path, const char *val)
{
	assert_true(xs_write(c->xs, XBT_NULL, path, val, strlen(val)));
}

static void test_pci_list(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	uint32_t s[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(X->pci_list(c, s, 8, &n), 0);
	assert_int_equal(n, 4);		/* not-a-bdf is skipped */
	assert_int_equal(s[0], E1000);
	assert_int_equal(s[1], EDU);
	assert_int_equal(s[2], PF);
	assert_int_equal(s[3], VF);
	assert_int_equal(X->pci_list(c, s, 2, &n), 0);
	assert_int_equal(n, 2);
	xpt_ctx_close(c);
}

static void test_pci_info(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_pdev d;

	(void)state;
	assert_int_equal(X->pci_info(c, E1000, &d), 0);
	assert_int_equal(d.sbdf, E1000);
	assert_int_equal(d.vendor, 0x8086);
	assert_int_equal(d.device, 0x100e);
	assert_int_equal(d.class, 0x020000);
	assert_int_equal(d.intx_pin, 1);
	assert_int_equal(d.gsi, 21);
	assert_int_equal(d.reset, XPT_RESET_FLR);
	assert_int_equal(d.pf_sbdf, UINT32_MAX);
	assert_int_equal(d.owner, -1);	/* no hypervisor to ask */
	assert_int_equal(d.bar[0].addr, 0xfebc0000);
	assert_int_equal(d.bar[0].size, 0x20000);
	assert_false(d.bar[0].io);
	assert_int_equal(d.bar[1].size, 0);
	assert_int_equal(d.bar[2].addr, 0xc000);
	assert_int_equal(d.bar[2].size, 0x40);
	assert_true(d.bar[2].io);
	assert_int_equal(d.bar[5].size, 0);
	assert_int_equal(d.bar[XPT_BAR_ROM].addr, 0xfeb80000);	/* the ROM */
	assert_int_equal(d.bar[XPT_BAR_ROM].size, 0x40000);
	assert_false(d.bar[XPT_BAR_ROM].io);

	assert_int_equal(X->pci_info(c, EDU, &d), 0);
	assert_int_equal(d.intx_pin, 0);
	assert_int_equal(d.gsi, 0);
	assert_int_equal(d.reset, XPT_RESET_NONE);
	assert_true(d.bar[0].addr == 0x800000000ull);	/* 64 bits kept */
	assert_int_equal(d.bar[0].size, 0x100000);

	assert_int_equal(X->pci_info(c, PF, &d), 0);
	assert_int_equal(d.reset, XPT_RESET_BUS);
	assert_int_equal(X->pci_info(c, VF, &d), 0);
	assert_int_equal(d.reset, XPT_RESET_PM);
	assert_int_equal(d.pf_sbdf, PF);

	assert_int_equal(X->pci_info(c, XPT_PCI_SBDF(0, 0, 9, 0), &d),
			 -ENODEV);
	xpt_ctx_close(c);
}

#define BE3 "/local/domain/0/backend/pci/3/0"
#define BE4 "/local/domain/0/backend/pci/4/0"

static int pb_domid(struct xpt_ctx *c, uint32_t sbdf)
{
	struct xpt_pb_dev pb[8];
	size_t n = 0, i;

	assert_int_equal(X->pb_list(c, pb, 8, &n), 0);
	for (i = 0; i < n; i++)
		if (pb[i].sbdf == sbdf)
			return pb[i].domid;
	fail_msg("device not in pciback's list");
	return -2;
}

static void test_pb_list(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_pb_dev pb[8];
	size_t n = 0;

	(void)state;
	/* pciback's xenbus device for 3 is live, its directory gone:
	 * pciback is still tearing domain 3 down, the device counts as
	 * exported to it until that ends */
	assert_int_equal(X->pb_list(c, pb, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pb[0].sbdf, EDU);
	assert_int_equal(pb[0].domid, 3);

	/* exported: listed, vdev-N written by pciback, state-N 3 */
	w(c, BE3 "/num_devs", "1");
	w(c, BE3 "/dev-0", "0000:00:06.0");
	w(c, BE3 "/state-0", "1");
	assert_int_equal(pb_domid(c, EDU), -1);		/* asked, not done */
	w(c, BE3 "/vdev-0", "0000:00:00.00");
	w(c, BE3 "/state-0", "3");
	assert_int_equal(pb_domid(c, EDU), 3);
	w(c, BE3 "/state-0", "5");		/* detach asked: still held */
	assert_int_equal(pb_domid(c, EDU), 3);

	/* a directory left behind, no live xenbus device: not exported */
	assert_true(xs_rm(c->xs, XBT_NULL, "/local/domain/0/backend/pci/3"));
	w(c, BE4 "/num_devs", "1");
	w(c, BE4 "/dev-0", "0000:00:06.0");
	w(c, BE4 "/vdev-0", "0000:00:00.00");
	w(c, BE4 "/state-0", "3");
	w(c, BE4 "/state", "6");
	assert_int_equal(pb_domid(c, EDU), 3);	/* 3 still tearing down */
	rm_rel("bus/xen-backend/devices/pci-3-0/devtype");
	rm_rel("bus/xen-backend/devices/pci-3-0");
	assert_int_equal(pb_domid(c, EDU), -1);
	put("bus/xen-backend/devices/pci-3-0/devtype", "pci\n");
	assert_true(xs_rm(c->xs, XBT_NULL, "/local/domain/0/backend/pci"));
	xpt_ctx_close(c);
}

static void test_seize(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	char msg[256], *v, want[PATH_MAX], drv[PATH_MAX];

	(void)state;
	/* bound to e1000: unbind there, new slot, bind; e1000 remembered */
	assert_int_equal(X->pb_seize(c, E1000, msg, sizeof(msg)), 0);
	assert_string_equal(got("bus/pci/drivers/e1000/unbind"),
			    "0000:00:05.0");
	assert_string_equal(got(PB "new_slot"), "0000:00:05.0");
	assert_string_equal(got(PB "bind"), "0000:00:05.0");
	snprintf(drv, sizeof(drv), "%s/bus/pci/drivers/e1000", root);
	assert_non_null(realpath(drv, want));
	v = xpt_xs_read(c, XBT_NULL, "/libxl/pci/0000-00-05-0/driver_path");
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);

	/* the kernel moved it: a second seize finds it in pciback */
	link_to("../../drivers/pciback", DEV "0000:00:05.0/driver");
	assert_int_equal(X->pb_seize(c, E1000, msg, sizeof(msg)), -EEXIST);

	/* no driver, slot already listed: no second slot, no driver_path */
	put(PB "slots", "0000:00:06.0\n0000:00:07.0\n");
	put(PB "new_slot", "%s", "");
	assert_int_equal(X->pb_seize(c, PF, msg, sizeof(msg)), 0);
	assert_string_equal(got(PB "new_slot"), "");
	assert_string_equal(got(PB "bind"), "0000:00:07.0");
	assert_false(xpt_xs_exists(c, XBT_NULL,
				   "/libxl/pci/0000-00-07-0/driver_path"));

	assert_int_equal(X->pb_seize(c, XPT_PCI_SBDF(0, 0, 9, 0), msg,
				     sizeof(msg)), -ENODEV);
	assert_non_null(strstr(msg, "no such PCI device"));
	xpt_ctx_close(c);
}

static void test_release(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	char msg[256], drv[PATH_MAX], real[PATH_MAX];

	(void)state;
	/* as test_seize left it: in pciback, e1000 recorded */
	snprintf(drv, sizeof(drv), "%s/bus/pci/drivers/e1000", root);
	assert_non_null(realpath(drv, real));
	w(c, "/libxl/pci/0000-00-05-0/driver_path", real);
	link_to("../../drivers/pciback", DEV "0000:00:05.0/driver");
	put(PB "slots", "0000:00:05.0\n0000:00:06.0\n");
	put(DEV "0000:00:05.0/driver_override", "pciback\n");
	put("bus/pci/drivers/e1000/bind", "%s", "");

	assert_int_equal(X->pb_release(c, E1000, true, msg, sizeof(msg)), 0);
	assert_string_equal(got(PB "unbind"), "0000:00:05.0");
	assert_string_equal(got(PB "remove_slot"), "0000:00:05.0");
	assert_string_equal(got(DEV "0000:00:05.0/driver_override"), "\n");
	assert_string_equal(got("bus/pci/drivers/e1000/bind"),
			    "0000:00:05.0");
	assert_false(xpt_xs_exists(c, XBT_NULL,
				   "/libxl/pci/0000-00-05-0/driver_path"));

	/* rebind asked, nothing recorded: released, with a warning */
	put(PB "remove_slot", "%s", "");
	c->warnings[0] = '\0';
	assert_int_equal(X->pb_release(c, EDU, true, msg, sizeof(msg)), 0);
	assert_string_equal(got(PB "unbind"), "0000:00:06.0");
	assert_string_equal(got(PB "remove_slot"), "0000:00:06.0");
	assert_non_null(strstr(c->warnings, "no original driver"));

	/* not in pciback: refused, with the driver named */
	link_to("../../drivers/e1000", DEV "0000:00:05.0/driver");
	assert_int_equal(X->pb_release(c, E1000, false, msg, sizeof(msg)),
			 -ENODEV);
	assert_non_null(strstr(msg, "not bound to pciback but to e1000"));
	xpt_ctx_close(c);
}

static void test_reset_permissive(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	char msg[256];

	(void)state;
	assert_int_equal(X->pb_reset(c, E1000, msg, sizeof(msg)), 0);
	assert_string_equal(got(DEV "0000:00:05.0/reset"), "1");
	assert_int_equal(X->pb_reset(c, EDU, msg, sizeof(msg)), -ENOTTY);
	assert_non_null(strstr(msg, "no reset method"));
	assert_int_equal(X->pb_permissive(c, EDU, msg, sizeof(msg)), 0);
	assert_string_equal(got(PB "permissive"), "0000:00:06.0");
	xpt_ctx_close(c);
}

/* Without the hypervisor interface (not opened, or not Xen), its ops
 * fail cleanly. */
static void test_no_hypervisor(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_pdom d[4];
	size_t n;
	int pirq;

	(void)state;
	assert_int_equal(X->test_assign(c, E1000), -ENXIO);
	assert_int_equal(X->assign(c, 1, E1000), -ENXIO);
	assert_int_equal(X->map_pirq(c, 1, E1000, &pirq), -ENXIO);
	assert_int_equal(X->dom_list(c, 0, d, 4, &n), -ENXIO);
	assert_int_equal(X->dom_info(c, 0, d), -ENXIO);
	xpt_ctx_close(c);
}

/* What a refused operation must not have touched: pciback's sysfs
 * files, the device's marker and the domain's lock. */
struct untouched {
	char pb[4][256];
	bool marker, lock;
};

static void untouched_take(struct xpt_ctx *c, struct untouched *u)
{
	static const char *const files[4] = {
		PB "bind", PB "unbind", PB "new_slot", PB "remove_slot",
	};
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 4; i++)
		snprintf(u->pb[i], sizeof(u->pb[i]), "%s", got(files[i]));
	u->marker = xpt_xs_exists(c, XBT_NULL, "/libxl/pci/0000-00-06-0");
	snprintf(path, sizeof(path), "%s/xpt/lock/7", fake_rundir());
	u->lock = access(path, F_OK) == 0;
}

/* ... and the context is ready for the next operation */
static void untouched_check(struct xpt_ctx *c, const struct untouched *u)
{
	struct untouched now;
	int i;

	untouched_take(c, &now);
	for (i = 0; i < 4; i++)
		assert_string_equal(now.pb[i], u->pb[i]);
	assert_int_equal(now.marker, u->marker);
	assert_int_equal(now.lock, u->lock);
	assert_null(c->pfdata);		/* the hypervisor was not opened */
	c->err[0] = '\0';
	c->exit_code = 0;
}

/* Xen 4.17 has no vPCI for domU guests: a PVH guest with PCI devices is
 * refused, naming the reason and what to use instead, before anything
 * is done (the hypervisor interface not even opened); a PVH guest
 * without passthrough, and an attach to a PV domain, are not. */
static void test_pvh_pci_refused(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct untouched before;
	char err[256], **ents;
	unsigned int ndom = 0, n = 0, domid = 0;
	struct xpt_pci p;

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(xpt_ctx_set_platform(c, "xen"), 0);
	ents = xs_directory(c->xs, XBT_NULL, "/local/domain", &ndom);
	free(ents);
	untouched_take(c, &before);

	assert_int_equal(xpt_cfg_parse_string("name = \"p1\"\ntype = "
					      "\"pvh\"\nkernel = \"/k\"\n"
					      "pci = [ \"00:06.0\" ]\n", cfg,
					      err, sizeof(err)), 0);
	assert_int_equal(xpt_domain_create(c, cfg, true, &domid),
			 -EOPNOTSUPP);
	assert_int_equal(xpt_ctx_exit_code(c), XPT_EXIT_FAIL);
	assert_non_null(strstr(xpt_ctx_error(c), "p1: type = \"pvh\" with "
			       "pci = [...] on this xen host: Xen 4.17 has no "
			       "vPCI for domU guests"));
	assert_non_null(strstr(xpt_ctx_error(c), "\"passthrough not yet "
			       "supported for x86 PVH guests\""));
	assert_non_null(strstr(xpt_ctx_error(c), "use type = \"hvm\" or "
			       "\"pv\""));
	untouched_check(c, &before);

	/* passthrough without devices: the same */
	assert_int_equal(xpt_cfg_parse_string("name = \"p2\"\ntype = "
					      "\"pvh\"\nkernel = \"/k\"\n"
					      "passthrough = \"enabled\"\n",
					      cfg, err, sizeof(err)), 0);
	assert_int_equal(xpt_domain_create(c, cfg, true, &domid),
			 -EOPNOTSUPP);
	assert_non_null(strstr(xpt_ctx_error(c), "p2: type = \"pvh\" with "
			       "passthrough = \"enabled\""));
	untouched_check(c, &before);
	ents = xs_directory(c->xs, XBT_NULL, "/local/domain", &n);
	free(ents);
	assert_int_equal(n, ndom);	/* no domain's nodes were written */

	/* an attach to a PVH domain (libxl's /libxl/<id>/type) */
	w(c, "/libxl/7/type", "pvh");
	assert_int_equal(xpt_pci_spec_parse("00:06.0", &p, err, sizeof(err)), 0);
	assert_int_equal(xpt_pci_attach(c, 7, &p), -EOPNOTSUPP);
	assert_non_null(strstr(xpt_ctx_error(c), "domain 7 is a PVH guest: "
			       "no PCI device can be attached to it on this "
			       "xen host: Xen 4.17 has no vPCI for domU "
			       "guests"));
	untouched_check(c, &before);

	/* not for a PV domain, nor a PVH one without passthrough: they go
	 * on to the hypervisor (which this test has not) */
	w(c, "/libxl/7/type", "pv");
	assert_true(xpt_pci_attach(c, 7, &p) < 0);
	assert_non_null(strstr(xpt_ctx_error(c), "hypervisor"));
	assert_null(strstr(xpt_ctx_error(c), "PVH"));
	c->err[0] = '\0';
	assert_int_equal(xpt_cfg_parse_string("name = \"p3\"\ntype = "
					      "\"pvh\"\nkernel = \"/k\"\n",
					      cfg, err, sizeof(err)), 0);
	assert_true(xpt_domain_create(c, cfg, true, &domid) < 0);
	assert_non_null(strstr(xpt_ctx_error(c), "hypervisor"));
	assert_null(strstr(xpt_ctx_error(c), "vPCI"));
	assert_true(xs_rm(c->xs, XBT_NULL, "/libxl/7"));
	xpt_ctx_close(c);
	free(cfg);
}

/* 256 bytes of config space for bdf: INTA, and a capability list of
 * MSI-X (5 entries) at 0x40 and MSI (4 vectors) at 0x50. */
static void config_caps(const char *bdf)
{
	unsigned char cfg[256] = { 0 };
	char path[PATH_MAX];
	FILE *f;

	cfg[0] = 0x86; cfg[1] = 0x80;		/* vendor 8086 */
	cfg[6] = 0x10;				/* status: capability list */
	cfg[0x34] = 0x40;
	cfg[0x3d] = 1;
	cfg[0x40] = 0x11; cfg[0x41] = 0x50;	/* MSI-X, table size 5 */
	cfg[0x42] = 4;
	cfg[0x50] = 0x05; cfg[0x51] = 0x00;	/* MSI, MMC 2: 4 vectors */
	cfg[0x52] = 2 << 1;
	snprintf(path, sizeof(path), "%s/" DEV "%s/config", root, bdf);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

static const char *got_path(const char *bdf)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" DEV "%s/config", root, bdf);
	return path;
}

static const struct xpt_check *row(const struct xpt_check *v, size_t n,
				   const char *check, const char *object)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].check, check) && !strcmp(v[i].object, object))
			return &v[i];
	fail_msg("no %s row for %s", check, object);
	return NULL;
}

/* xpt doctor on the xen platform: the sysfs facts (pciback and its
 * module parameters, config space, reset files, drivers) read from the
 * fake /sys; no Xen here, so the hypervisor's own checks fail or skip. */
static void test_doctor(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_pb_module m;
	struct xpt_check *v;
	const struct xpt_check *k;
	struct xpt_pci specs[3];
	char err[128], empty[PATH_MAX];
	uint8_t conf[256];
	bool directio;
	size_t n;

	(void)state;
	assert_int_equal(xpt_ctx_set_platform(c, "xen"), 0);
	/* the module's parameters, as Linux 6.1 shows them */
	assert_int_equal(X->pb_module(c, &m), 0);
	assert_true(m.loaded);
	assert_false(m.has_params);
	put("module/xen_pciback/parameters/permissive", "N\n");
	put("module/xen_pciback/parameters/passthrough", "N\n");
	put("module/xen_pciback/parameters/hide", "(null)\n");
	assert_int_equal(X->pb_module(c, &m), 0);
	assert_true(m.loaded && m.has_params);
	assert_string_equal(m.permissive, "N");
	assert_string_equal(m.passthrough, "N");
	assert_string_equal(m.hide, "(null)");
	put("module/xen_pciback/parameters/passthrough", "Y\n");
	put("module/xen_pciback/parameters/hide", "(0000:00:06.0)\n");
	/* pciback not loaded: no driver directory */
	snprintf(empty, sizeof(empty), "%s/empty", root);
	mkdirs(empty);
	setenv("XPT_SYSFS", empty, 1);
	assert_int_equal(X->pb_module(c, &m), 0);
	assert_false(m.loaded);
	setenv("XPT_SYSFS", root, 1);

	/* config space: as root (256 bytes) and as anyone else (64, whose
	 * capability pointer leads past them) */
	config_caps("0000:00:05.0");
	config_caps("0000:00:06.0");
	assert_int_equal(truncate(got_path("0000:00:06.0"), 64), 0);
	assert_int_equal(X->pci_config(c, E1000, conf, sizeof(conf), &n), 0);
	assert_int_equal(n, 256);
	assert_int_equal(conf[0x40], 0x11);
	assert_int_equal(X->pci_config(c, EDU, conf, sizeof(conf), &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(X->pci_config(c, XPT_PCI_SBDF(0, 0, 9, 0), conf,
					sizeof(conf), &n), -ENOENT);
	/* no hypervisor: its facts say so */
	assert_int_equal(X->host_caps(c, &directio), -ENOTCONN);
	assert_int_equal(X->console_read(c, (char *)conf, sizeof(conf)),
			 -ENOTCONN);

	assert_int_equal(xpt_pci_spec_parse("00:05.0", &specs[0], err,
					    sizeof(err)), 0);
	assert_int_equal(xpt_pci_spec_parse("00:06.0", &specs[1], err,
					    sizeof(err)), 0);
	assert_int_equal(xpt_pci_spec_parse("00:07.0", &specs[2], err,
					    sizeof(err)), 0);
	assert_int_equal(xpt_doctor_run(c, specs, 3, &v, &n), 0);
	k = row(v, n, "hypervisor", "Xen");
	assert_int_equal(k->status, XPT_CHECK_FAIL);
	assert_non_null(strstr(k->fix, "root"));
	assert_int_equal(row(v, n, "store", "xenstore")->status,
			 XPT_CHECK_PASS);
	assert_int_equal(row(v, n, "iommu", "Xen")->status, XPT_CHECK_SKIP);
	assert_int_equal(row(v, n, "intremap", "Xen")->status, XPT_CHECK_SKIP);
	k = row(v, n, "pciback", "xen-pciback");
	assert_int_equal(k->status, XPT_CHECK_PASS);
	assert_non_null(strstr(k->detail, "permissive=N (guests write only"));
	assert_non_null(strstr(k->detail, "passthrough=Y (guests see the "
			       "host's PCI topology)"));
	assert_non_null(strstr(k->detail, "hide=(0000:00:06.0)"));
	assert_int_equal(row(v, n, "leftovers", "domains")->status,
			 XPT_CHECK_SKIP);
	/* the e1000: FLR, MSI-X, but bound to its dom0 driver */
	assert_int_equal(row(v, n, "reset", "0000:00:05.0")->status,
			 XPT_CHECK_PASS);
	k = row(v, n, "msi", "0000:00:05.0");
	assert_int_equal(k->status, XPT_CHECK_PASS);
	assert_string_equal(k->detail, "MSI (4 vectors) and MSI-X (5 entries)");
	k = row(v, n, "driver", "0000:00:05.0");
	assert_int_equal(k->status, XPT_CHECK_FAIL);
	assert_non_null(strstr(k->detail, "e1000"));
	assert_string_equal(k->fix, "`xpt pci-assignable-add 0000:00:05.0` "
			    "(unbinds it from dom0's driver; `xpt "
			    "pci-assignable-remove -r` gives it back)");
	/* edu: no reset file, config space cut at 64 bytes, in pciback */
	k = row(v, n, "reset", "0000:00:06.0");
	assert_int_equal(k->status, XPT_CHECK_FAIL);
	assert_non_null(strstr(k->detail, "no `reset` file"));
	assert_int_equal(row(v, n, "msi", "0000:00:06.0")->status,
			 XPT_CHECK_SKIP);
	assert_int_equal(row(v, n, "driver", "0000:00:06.0")->status,
			 XPT_CHECK_PASS);
	/* the PF: its bus reset hits every function on bus 0, the e1000
	 * dom0 uses too; its VF shares the slot as well */
	k = row(v, n, "group", "0000:00:07.0");
	assert_int_equal(k->status, XPT_CHECK_FAIL);
	assert_non_null(strstr(k->detail, "0000:00:05.0 (bus reset), "
			       "0000:00:06.0 (bus reset), 0000:00:07.1 (same "
			       "slot, bus reset)"));
	assert_non_null(strstr(k->fix, "`xpt pci-assignable-add "
			       "0000:00:05.0` and `xpt pci-assignable-add "
			       "0000:00:07.1`"));
	free(v);

	/* Linux's defaults: both bools N, hide unset; then permissive on */
	put("module/xen_pciback/parameters/passthrough", "N\n");
	put("module/xen_pciback/parameters/hide", "(null)\n");
	put("module/xen_pciback/parameters/permissive", "Y\n");
	assert_int_equal(xpt_doctor_run(c, specs, 1, &v, &n), 0);
	k = row(v, n, "pciback", "xen-pciback");
	assert_int_equal(k->status, XPT_CHECK_WARN);
	assert_non_null(strstr(k->detail, "passthrough=N (guests see their "
			       "devices on a virtual bus 0)"));
	assert_non_null(strstr(k->detail, "hide=(none)"));
	assert_non_null(strstr(k->fix, "echo N > /sys/module/xen_pciback/"
			       "parameters/permissive"));
	free(v);
	xpt_ctx_close(c);
}

/* The fake /sys, and an xpt-xenstored (fakeplatform.c's fixture). */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/xpt-unit-sysfs.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("XPT_SYSFS", root, 1);
	fake_tree();
	return fake_start_xenstored(xenstored);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	fake_stop_xenstored();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_list),
		cmocka_unit_test(test_pci_info),
		cmocka_unit_test(test_pb_list),
		cmocka_unit_test(test_seize),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_reset_permissive),
		cmocka_unit_test(test_no_hypervisor),
		cmocka_unit_test(test_pvh_pci_refused),
		cmocka_unit_test(test_doctor),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT-XENSTORED\n", argv[0]);
		return 2;
	}
	xenstored = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
