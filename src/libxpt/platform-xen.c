// SPDX-License-Identifier: MIT
/*
 * A real Xen dom0 behind the platform table: libxenctrl for the
 * hypervisor, sysfs for Linux's xen-pciback, libxl for the domain build,
 * and the host's own xenstore (c->xs, whichever xenstored runs).
 *
 * Where each fact comes from, and why:
 *
 *   host PCI        /sys/bus/pci/devices/<bdf>/{vendor,device,class,
 *                   resource,irq,config,reset,reset_method,physfn}
 *   INTx line       `irq` is the GSI in a PV dom0 (libxl maps it with
 *                   xc_physdev_map_pirq, pirq = GSI); the pin is config
 *                   byte 0x3d
 *   pciback         /sys/bus/pci/drivers/pciback/<bdf> links; seize is
 *                   libxl's: unbind from the old driver, new_slot (when
 *                   `slots` lacks it), bind; the old driver is kept in
 *                   /libxl/pci/<bdf>/driver_path, as xl keeps it, so
 *                   `xl pci-assignable-remove -r` and ours both rebind it
 *   exported to     pciback keeps no sysfs record of the domain it serves
 *                   a device to.  Its own writes say it: a device is
 *                   exported to D when pciback's xenbus device for D is
 *                   live (/sys/bus/xen-backend/devices/pci-D-0) and,
 *                   under /local/domain/0/backend/pci/D/0, dev-N names
 *                   the device and pciback has written vdev-N (it does
 *                   so on export, Linux drivers/xen/xen-pciback/xenbus.c)
 *                   with state-N Initialised or Closing.  A directory a
 *                   toolstack left behind (xl's reboot leaves one at
 *                   state 6) has no live xenbus device, so does not count.
 *                   The other way round, a live xenbus device whose
 *                   directory is gone is pciback still tearing D down
 *                   (releasing its devices: MSI-X off, reset, config
 *                   restored); until it has unregistered, every pciback
 *                   device no live directory lists counts as exported to
 *                   D, so nobody deassigns or destroys under it.
 *   IOMMU owner     Xen has no query for it.  xc_test_assign_device says
 *                   "dom0 or dom_io" (0) or "a domain" (-EINVAL); a device
 *                   bound to pciback is taken as quarantined (dom_io),
 *                   since xl and xpt both quarantine on assignable-add and
 *                   Xen quarantines on deassign; a domain's id comes from
 *                   the /libxl/pci/<bdf>/domid marker or the backend
 *                   listing it; otherwise -1 (cannot tell).
 *   domains         xc_domain_getinfolist; names are xenstore's
 *   domain build    libxl_domain_create_new, paused, with no PCI devices
 *                   (xpt cold-plugs them in one transaction, then boots
 *                   it with an unpause); destroy is libxl's, so xl's
 *                   bookkeeping (userdata, domid history) stays right.
 *                   Why libxl and not libxenguest: docs/dependencies.md.
 *
 * Every path under /sys is rooted at $XPT_SYSFS when set (unit tests use
 * a fake tree).  libxl's and libxenctrl's own log lines are kept (the last
 * error is quoted in a failure) and never reach stderr; $XPT_XEN_LOG names
 * a file that gets all of them.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xentoollog.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xen/io/xenbus.h>

#include "libxpt.h"

#define PCIBACK "bus/pci/drivers/pciback"
#define BE_PCI "/local/domain/0/backend/pci"
#define IORESOURCE_IO 0x100		/* Linux's resource flag */
#define PCI_INTERRUPT_PIN 0x3d

/* libxl's and libxenctrl's log: the last warning or error, and all of it
 * to $XPT_XEN_LOG. */
struct xen_log {
	xentoollog_logger xtl;		/* first: libxl calls through it */
	char last[512];
	FILE *file;
};

struct xen_pf {
	struct xen_log log;
	xc_interface *xch;
	libxl_ctx *xl;			/* on the first domain build/destroy */
};

static void log_vmessage(xentoollog_logger *l, xentoollog_level level,
			 int errnoval, const char *context, const char *format,
			 va_list al) __attribute__((format(printf, 5, 0)));
static void log_vmessage(xentoollog_logger *l, xentoollog_level level,
			 int errnoval, const char *context, const char *format,
			 va_list al)
{
	struct xen_log *log = (struct xen_log *)l;
	char line[sizeof(log->last)];
	size_t n;

	vsnprintf(line, sizeof(line), format, al);
	n = strlen(line);
	if (errnoval >= 0 && n < sizeof(line) - 4)
		snprintf(line + n, sizeof(line) - n, ": %s",
			 strerror(errnoval));
	if (log->file)
		fprintf(log->file, "%s: %s: %s\n", context ? context : "xen",
			xtl_level_to_string(level), line);
	if (level >= XTL_WARN)
		memcpy(log->last, line, sizeof(log->last));
}

static void log_progress(xentoollog_logger *l, const char *context,
			 const char *doing_what, int percent,
			 unsigned long done, unsigned long total)
{
	(void)l; (void)context; (void)doing_what; (void)percent; (void)done;
	(void)total;
}

static void log_destroy(xentoollog_logger *l)
{
	(void)l;
}

/* -errno of a failed libxenctrl call (they return -1 and set errno). */
static int xc_err(void)
{
	return errno > 0 ? -errno : -EIO;
}

static struct xen_pf *pf(struct xpt_ctx *c)
{
	return c->pfdata;
}

static xc_interface *xch(struct xpt_ctx *c)
{
	return c->pfdata ? pf(c)->xch : NULL;
}

static int x_open(struct xpt_ctx *c)
{
	struct xen_pf *x;
	const char *logpath = getenv("XPT_XEN_LOG");

	if (c->pfdata)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->log.xtl.vmessage = log_vmessage;
	x->log.xtl.progress = log_progress;
	x->log.xtl.destroy = log_destroy;
	if (logpath && *logpath && (x->log.file = fopen(logpath, "ae")))
		setvbuf(x->log.file, NULL, _IOLBF, 0);	/* kept if we die */
	x->xch = xc_interface_open(&x->log.xtl, &x->log.xtl, 0);
	if (!x->xch) {
		int r = xc_err();

		if (x->log.file)
			fclose(x->log.file);
		free(x);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "cannot open the Xen "
				"hypervisor interface (/dev/xen/privcmd): %s; "
				"xpt --platform=xen runs as root in a Xen "
				"dom0", strerror(-r));
	}
	c->pfdata = x;
	return 0;
}

static void x_close(struct xpt_ctx *c)
{
	struct xen_pf *x = pf(c);

	if (!x)
		return;
	if (x->xl)
		libxl_ctx_free(x->xl);
	if (x->xch)
		xc_interface_close(x->xch);
	if (x->log.file)
		fclose(x->log.file);
	free(x);
	c->pfdata = NULL;
}

/* ---- sysfs ---- */

static const char *sysfs_root(void)
{
	const char *root = getenv("XPT_SYSFS");

	return root && *root ? root : "/sys";
}

static int sys_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sys_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xpt_vpath(buf, len, sysfs_root(), fmt, ap);
	va_end(ap);
	return r;
}

static int dev_path(char *buf, size_t len, uint32_t sbdf, const char *attr)
{
	char bdf[16];

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	return sys_path(buf, len, "bus/pci/devices/%s%s%s", bdf,
			attr ? "/" : "", attr ? attr : "");
}

/* A small attribute, without its trailing newline. */
static int sys_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* One write, as `echo VALUE > path`: the driver core's answer (ENODEV
 * from a bind that did not probe, ...) is the result. */
static int sys_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int sys_read_ull(const char *path, unsigned long long *ret)
{
	char buf[64], *end;
	unsigned long long v;
	int r = sys_read(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "0000:03:00.0", exactly (sysfs's names, libxl's dev-N). */
static int parse_bdf(const char *s, uint32_t *ret)
{
	unsigned int seg, bus, dev, fn;
	int n = -1;

	if (strlen(s) != 12 ||
	    sscanf(s, "%4x:%2x:%2x.%1x%n", &seg, &bus, &dev, &fn, &n) != 4 ||
	    n != 12 || dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret = XPT_PCI_SBDF(seg, bus, dev, fn);
	return 0;
}

/* The driver a device is bound to ("" none), by its link's last part. */
static int dev_driver(uint32_t sbdf, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX], *base;
	ssize_t n;
	int r = dev_path(path, sizeof(path), sbdf, "driver");

	if (r < 0)
		return r;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		buf[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static bool dev_exists(uint32_t sbdf)
{
	char path[PATH_MAX];

	return dev_path(path, sizeof(path), sbdf, NULL) == 0 &&
	       access(path, F_OK) == 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The BDF-named entries of a sysfs directory, ascending. */
static int bdf_dir(const char *dir, uint32_t *ret, size_t max, size_t *ret_n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	uint32_t sbdf;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max)
		if (parse_bdf(e->d_name, &sbdf) == 0)
			ret[n++] = sbdf;
	closedir(d);
	qsort(ret, n, sizeof(*ret), cmp_u32);
	*ret_n = n;
	return 0;
}

/* ---- who holds a device, by the backends in xenstore ---- */

static bool be_live(unsigned int domid)
{
	char path[PATH_MAX];

	return sys_path(path, sizeof(path),
			"bus/xen-backend/devices/pci-%u-0", domid) == 0 &&
	       access(path, F_OK) == 0;
}

/* For each of sbdfs[n], the domain whose backend lists it (ret[i]; -1
 * none); with exported, only one pciback has exported it to (see the
 * head comment).  One pass over the backends, whatever n. */
static void be_holders(struct xpt_ctx *c, const uint32_t *sbdfs, size_t n,
		       bool exported, int *ret)
{
	char **doms = NULL, path[128], *v;
	unsigned int ndoms = 0, i;
	size_t k, left = n;
	int num, j, st;
	uint32_t s;

	for (k = 0; k < n; k++)
		ret[k] = -1;
	if (!c->xs || !n)
		return;
	doms = xs_directory(c->xs, XBT_NULL, BE_PCI, &ndoms);
	for (i = 0; doms && i < ndoms && left; i++) {
		char *end;
		unsigned long domid = strtoul(doms[i], &end, 10);

		if (*end || end == doms[i] || domid >= XPT_DOMID_FIRST_RESERVED)
			continue;
		if (exported && !be_live((unsigned int)domid))
			continue;
		snprintf(path, sizeof(path), BE_PCI "/%lu/0/num_devs", domid);
		if (xpt_xs_read_int(c, XBT_NULL, path, &num) < 0)
			continue;
		for (j = 0; j < num && j < XPT_BE_MAX && left; j++) {
			snprintf(path, sizeof(path), BE_PCI "/%lu/0/dev-%d",
				 domid, j);
			v = xpt_xs_read(c, XBT_NULL, path);
			k = n;
			if (v && parse_bdf(v, &s) == 0)
				for (k = 0; k < n; k++)
					if (sbdfs[k] == s && ret[k] < 0)
						break;
			free(v);
			if (k == n)
				continue;
			if (exported) {
				snprintf(path, sizeof(path),
					 BE_PCI "/%lu/0/vdev-%d", domid, j);
				if (!xpt_xs_exists(c, XBT_NULL, path))
					continue;
				snprintf(path, sizeof(path),
					 BE_PCI "/%lu/0/state-%d", domid, j);
				if (xpt_xs_read_int(c, XBT_NULL, path, &st) < 0 ||
				    (st != XenbusStateInitialised &&
				     st != XenbusStateClosing))
					continue;
			}
			ret[k] = (int)domid;
			left--;
		}
	}
	free(doms);
}

static int be_holder(struct xpt_ctx *c, uint32_t sbdf, bool exported)
{
	int domid;

	be_holders(c, &sbdf, 1, exported, &domid);
	return domid;
}

static void info_node(uint32_t sbdf, const char *key, char *buf, size_t len)
{
	char m[16];

	xpt_marker_bdf(sbdf, m, sizeof(m));
	snprintf(buf, len, "/libxl/pci/%s/%s", m, key);
}

static int owner_of(struct xpt_ctx *c, uint32_t sbdf, bool pb_bound)
{
	char path[96];
	int domid;

	if (!xch(c))
		return -1;
	if (xc_test_assign_device(xch(c), DOMID_INVALID, sbdf) == 0)
		return pb_bound ? (int)XPT_DOMID_IO : 0;
	if (errno != EINVAL)
		return -1;	/* no IOMMU: Xen tracks no owner */
	info_node(sbdf, "domid", path, sizeof(path));
	if (c->xs && xpt_xs_read_int(c, XBT_NULL, path, &domid) == 0 &&
	    domid > 0 && domid < (int)XPT_DOMID_FIRST_RESERVED)
		return domid;
	return be_holder(c, sbdf, false);
}

/* ---- host PCI ---- */

static int x_pci_list(struct xpt_ctx *c, uint32_t *ret, size_t max,
		      size_t *ret_n)
{
	char dir[PATH_MAX];
	int r = sys_path(dir, sizeof(dir), "bus/pci/devices");

	(void)c;
	return r < 0 ? r : bdf_dir(dir, ret, max, ret_n);
}

/* Linux's reset_method lists what `reset` tries, first first. */
static enum xpt_reset reset_kind(uint32_t sbdf)
{
	char path[PATH_MAX], buf[128];

	if (dev_path(path, sizeof(path), sbdf, "reset") < 0 ||
	    access(path, F_OK) < 0)
		return XPT_RESET_NONE;
	if (dev_path(path, sizeof(path), sbdf, "reset_method") < 0 ||
	    sys_read(path, buf, sizeof(buf)) < 0)
		return XPT_RESET_BUS;	/* unknown: assume the widest */
	buf[strcspn(buf, " ")] = '\0';
	if (!strcmp(buf, "pm"))
		return XPT_RESET_PM;
	if (!strcmp(buf, "bus") || !strcmp(buf, "cxl_bus"))
		return XPT_RESET_BUS;
	return XPT_RESET_FLR;	/* flr, af_flr, acpi, device_specific */
}

static int read_bars(uint32_t sbdf, struct xpt_pbar *bar)
{
	char path[PATH_MAX], line[128];
	unsigned long long start, end, flags;
	FILE *f;
	int i, r = dev_path(path, sizeof(path), sbdf, "resource");

	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (i = 0; i < XPT_NBARS && fgets(line, sizeof(line), f); i++) {
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
		    !start || end < start)
			continue;
		bar[i].addr = start;
		bar[i].size = end - start + 1;
		bar[i].io = flags & IORESOURCE_IO;
	}
	fclose(f);
	return 0;
}

/* The INTx line: its GSI (`irq`; 0 none) and pin (config byte 0x3d; the
 * first 64 bytes are world-readable).  A pin with no line routed to it has
 * nothing to map. */
static void read_intx(uint32_t sbdf, uint8_t *ret_pin, uint32_t *ret_gsi)
{
	char path[PATH_MAX];
	unsigned long long v;
	unsigned char pin = 0;
	uint32_t gsi = 0;
	int fd;

	if (dev_path(path, sizeof(path), sbdf, "irq") == 0 &&
	    sys_read_ull(path, &v) == 0 && v > 0 && v < 0xff)
		gsi = (uint32_t)v;
	if (dev_path(path, sizeof(path), sbdf, "config") == 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (pread(fd, &pin, 1, PCI_INTERRUPT_PIN) != 1)
			pin = gsi ? 1 : 0;
		close(fd);
	} else {
		pin = gsi ? 1 : 0;
	}
	*ret_pin = gsi && pin <= 4 ? pin : 0;
	*ret_gsi = gsi;
}

static int x_pci_info(struct xpt_ctx *c, uint32_t sbdf, struct xpt_pdev *ret)
{
	struct xpt_pdev d;
	unsigned long long v;
	char path[PATH_MAX], target[PATH_MAX], drv[64], *base;
	ssize_t n;
	int r;

	if (!dev_exists(sbdf))
		return -ENODEV;
	memset(&d, 0, sizeof(d));
	d.sbdf = sbdf;
	d.pf_sbdf = UINT32_MAX;
	if ((r = dev_path(path, sizeof(path), sbdf, "vendor")) < 0 ||
	    (r = sys_read_ull(path, &v)) < 0)
		return r;
	d.vendor = (uint16_t)v;
	if ((r = dev_path(path, sizeof(path), sbdf, "device")) < 0 ||
	    (r = sys_read_ull(path, &v)) < 0)
		return r;
	d.device = (uint16_t)v;
	if ((r = dev_path(path, sizeof(path), sbdf, "class")) < 0 ||
	    (r = sys_read_ull(path, &v)) < 0)
		return r;
	d.class = (uint32_t)v;
	read_intx(sbdf, &d.intx_pin, &d.gsi);
	d.reset = reset_kind(sbdf);
	if (dev_path(path, sizeof(path), sbdf, "physfn") == 0 &&
	    (n = readlink(path, target, sizeof(target) - 1)) > 0) {
		target[n] = '\0';
		base = strrchr(target, '/');
		if (parse_bdf(base ? base + 1 : target, &d.pf_sbdf) < 0)
			d.pf_sbdf = UINT32_MAX;
	}
	r = read_bars(sbdf, d.bar);
	if (r < 0)
		return r;
	r = dev_driver(sbdf, drv, sizeof(drv));
	d.owner = owner_of(c, sbdf, r == 0 && !strcmp(drv, "pciback"));
	if (r == 0)
		snprintf(d.driver, sizeof(d.driver), "%.*s",
			 (int)sizeof(d.driver) - 1, drv);
	*ret = d;
	return 0;
}

/* ---- pciback ---- */

/* A domain whose pciback xenbus device is live while its backend
 * directory is gone (pciback tearing it down), or -1. */
static int be_dying(struct xpt_ctx *c)
{
	char dir[PATH_MAX], path[96];
	struct dirent *e;
	unsigned int domid;
	int found = -1;
	DIR *d;

	if (!c->xs || sys_path(dir, sizeof(dir), "bus/xen-backend/devices"))
		return -1;
	d = opendir(dir);
	while (d && found < 0 && (e = readdir(d))) {
		char tail;

		if (sscanf(e->d_name, "pci-%u-0%c", &domid, &tail) != 1 ||
		    domid >= XPT_DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), BE_PCI "/%u/0", domid);
		if (!xpt_xs_exists(c, XBT_NULL, path))
			found = (int)domid;
	}
	if (d)
		closedir(d);
	return found;
}

static int x_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		     size_t *ret_n)
{
	int dying = -2;		/* not looked yet */
	uint32_t *sbdfs = calloc(max ? max : 1, sizeof(*sbdfs));
	int *holders = NULL;
	char dir[PATH_MAX];
	size_t n = 0, i;
	int r;

	if (!sbdfs)
		return -ENOMEM;
	r = sys_path(dir, sizeof(dir), PCIBACK);
	if (r == 0)
		r = bdf_dir(dir, sbdfs, max, &n);
	if (r == -ENOENT)
		r = -ENODEV;	/* xen-pciback is not loaded */
	if (r == 0 && !(holders = calloc(n ? n : 1, sizeof(*holders))))
		r = -ENOMEM;
	if (r == 0)
		be_holders(c, sbdfs, n, true, holders);
	for (i = 0; r == 0 && i < n; i++) {
		ret[i].sbdf = sbdfs[i];
		ret[i].domid = holders[i];
		if (ret[i].domid < 0 && dying == -2)
			dying = be_dying(c);
		if (ret[i].domid < 0)
			ret[i].domid = dying;
	}
	if (r == 0)
		*ret_n = n;
	free(holders);
	free(sbdfs);
	return r;
}

static int pb_attr_write(uint32_t sbdf, const char *attr)
{
	char path[PATH_MAX], bdf[16];
	int r = sys_path(path, sizeof(path), PCIBACK "/%s", attr);

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	return r < 0 ? r : sys_write(path, bdf);
}

/* pciback/slots lists sbdf (writing new_slot twice lists it twice). */
static int pb_has_slot(uint32_t sbdf)
{
	char path[PATH_MAX], line[64];
	uint32_t s;
	FILE *f;
	int r = sys_path(path, sizeof(path), PCIBACK "/slots"), found = 0;

	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int seg, bus, dev, fn;

		if (sscanf(line, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) == 4 &&
		    dev <= 0x1f && fn <= 7) {
			s = XPT_PCI_SBDF(seg, bus, dev, fn);
			found = s == sbdf;
		}
	}
	fclose(f);
	return found;
}

static int x_pb_seize(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	char bdf[16], drv[64], path[PATH_MAX + 16], real[PATH_MAX], node[96];
	bool unbound = false, slot_added = false, path_written = false;
	int r;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	if (!dev_exists(sbdf)) {
		snprintf(msg, len, "no such PCI device");
		return -ENODEV;
	}
	if (sys_path(path, sizeof(path), PCIBACK) == 0 &&
	    access(path, F_OK) < 0) {
		snprintf(msg, len, "xen-pciback is not loaded (modprobe "
			 "xen-pciback)");
		return -ENODEV;
	}
	r = dev_driver(sbdf, drv, sizeof(drv));
	if (r < 0) {
		snprintf(msg, len, "cannot read its driver: %s", strerror(-r));
		return r;
	}
	if (!strcmp(drv, "pciback"))
		return -EEXIST;
	info_node(sbdf, "driver_path", node, sizeof(node));
	if (drv[0]) {
		if (dev_path(path, sizeof(path), sbdf, "driver") < 0 ||
		    !realpath(path, real)) {
			r = -errno;
			snprintf(msg, len, "cannot resolve its driver %s: %s",
				 drv, strerror(-r));
			return r;
		}
		/* remembered before the unbind, so a failure after it
		 * still knows where the device came from */
		r = xpt_xs_write(c, XBT_NULL, node, "%s", real);
		if (r < 0) {
			snprintf(msg, len, "cannot record its driver %s in "
				 "xenstore: %s", real, strerror(-r));
			return r;
		}
		path_written = true;
		snprintf(path, sizeof(path), "%s/unbind", real);
		r = sys_write(path, bdf);
		if (r < 0) {
			snprintf(msg, len, "cannot unbind it from %s: %s", drv,
				 strerror(-r));
			goto fail;
		}
		unbound = true;
	}
	/* unbound: a driver_path recorded by an earlier seize stays */
	r = pb_has_slot(sbdf);
	if (r == 0) {
		r = pb_attr_write(sbdf, "new_slot");
		slot_added = r == 0;
	}
	if (r < 0) {
		snprintf(msg, len, "pciback's new_slot: %s", strerror(-r));
		goto fail;
	}
	r = pb_attr_write(sbdf, "bind");
	if (r < 0) {
		snprintf(msg, len, "pciback refused to bind it: %s (see dmesg)",
			 strerror(-r));
		goto fail;
	}
	return 0;
fail:
	if (slot_added)
		pb_attr_write(sbdf, "remove_slot");
	if (unbound) {
		snprintf(path, sizeof(path), "%s/bind", real);
		if (sys_write(path, bdf) < 0)
			xpt_warn(c, "%s: could not be given back to %s", bdf,
				 real);
	}
	if (path_written)
		xpt_xs_rm(c, XBT_NULL, node);
	return r;
}

static int x_pb_release(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			char *msg, size_t len)
{
	char bdf[16], drv[64], path[PATH_MAX + 16], node[96], *orig = NULL;
	int r;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	if (!dev_exists(sbdf)) {
		snprintf(msg, len, "no such PCI device");
		return -ENODEV;
	}
	r = dev_driver(sbdf, drv, sizeof(drv));
	if (r == 0 && strcmp(drv, "pciback")) {
		snprintf(msg, len, "not bound to pciback%s%s", drv[0] ?
			 " but to " : "", drv);
		return -ENODEV;
	}
	r = pb_attr_write(sbdf, "unbind");
	if (r < 0) {
		snprintf(msg, len, "pciback refused to unbind it: %s",
			 strerror(-r));
		return r;
	}
	if (pb_has_slot(sbdf) > 0 && pb_attr_write(sbdf, "remove_slot") < 0)
		xpt_warn(c, "%s: pciback keeps it in its slots: it will "
			 "take the device again on a rescan", bdf);
	/* an override to pciback would keep every other driver away */
	if (dev_path(path, sizeof(path), sbdf, "driver_override") == 0 &&
	    sys_read(path, drv, sizeof(drv)) == 0 && !strcmp(drv, "pciback"))
		sys_write(path, "\n");
	info_node(sbdf, "driver_path", node, sizeof(node));
	orig = c->xs ? xpt_xs_read(c, XBT_NULL, node) : NULL;
	if (rebind && orig) {
		snprintf(path, sizeof(path), "%s/bind", orig);
		r = sys_write(path, bdf);
		if (r < 0) {
			/* out of pciback all the same: say so, keep the path */
			xpt_warn(c, "%s: released, but its driver %s did not "
				 "take it back: %s", bdf, orig, strerror(-r));
			free(orig);
			return 0;
		}
		xpt_xs_rm(c, XBT_NULL, node);
	} else if (rebind) {
		xpt_warn(c, "%s: released; no original driver is recorded, "
			 "so it stays without one", bdf);
	}
	free(orig);
	return 0;
}

static int x_pb_reset(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	char path[PATH_MAX];
	int r;

	(void)c;
	/* pciback's do_flr exists only in some vendors' kernels (libxl
	 * tries it first) */
	if (sys_path(path, sizeof(path), PCIBACK "/do_flr") == 0 &&
	    access(path, F_OK) == 0) {
		r = pb_attr_write(sbdf, "do_flr");
		if (r == 0)
			return 0;
	}
	r = dev_path(path, sizeof(path), sbdf, "reset");
	if (r == 0 && access(path, F_OK) < 0) {
		snprintf(msg, len, "the kernel has no reset method for it");
		return -ENOTTY;
	}
	if (r == 0)
		r = sys_write(path, "1");
	if (r < 0)
		snprintf(msg, len, "reset failed: %s", strerror(-r));
	return r;
}

static int x_pb_permissive(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			   size_t len)
{
	int r = pb_attr_write(sbdf, "permissive");

	(void)c;
	if (r < 0)
		snprintf(msg, len, "pciback's permissive: %s", strerror(-r));
	return r;
}

/* ---- the hypervisor ---- */

#define XCH_OR_FAIL(c) \
	do { if (!xch(c)) return -ENXIO; } while (0)

static int x_test_assign(struct xpt_ctx *c, uint32_t sbdf)
{
	XCH_OR_FAIL(c);
	return xc_test_assign_device(xch(c), DOMID_INVALID, sbdf) < 0 ?
	       xc_err() : 0;
}

static int x_assign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	/* DOMID_IO holds no mappings: relaxed RDM, as libxl quarantines;
	 * a domain strict, libxl's default rdm_policy */
	uint32_t flag = domid == XPT_DOMID_IO ? XEN_DOMCTL_DEV_RDM_RELAXED : 0;

	XCH_OR_FAIL(c);
	return xc_assign_device(xch(c), domid, sbdf, flag) < 0 ? xc_err() : 0;
}

static int x_deassign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	int r;

	XCH_OR_FAIL(c);
	r = xc_deassign_device(xch(c), domid, sbdf) < 0 ? xc_err() : 0;
	/* Out of quarantine is where a device dom0 owns already is: one
	 * pciback took at boot (xen-pciback.hide) was never quarantined,
	 * and owner_of() cannot tell it from one that was. */
	if (r == -ENODEV && domid == XPT_DOMID_IO && dev_exists(sbdf) &&
	    xc_test_assign_device(xch(c), DOMID_INVALID, sbdf) == 0)
		r = 0;
	return r;
}

static int x_iomem_permission(struct xpt_ctx *c, unsigned int domid,
			      uint64_t first_frame, uint64_t nr_frames,
			      bool allow)
{
	XCH_OR_FAIL(c);
	return xc_domain_iomem_permission(xch(c), domid,
					  (unsigned long)first_frame,
					  (unsigned long)nr_frames, allow) < 0 ?
	       xc_err() : 0;
}

static int x_ioport_permission(struct xpt_ctx *c, unsigned int domid,
			       uint32_t first, uint32_t nr, bool allow)
{
	XCH_OR_FAIL(c);
	return xc_domain_ioport_permission(xch(c), domid, first, nr, allow) <
	       0 ? xc_err() : 0;
}

static int x_irq_permission(struct xpt_ctx *c, unsigned int domid, int pirq,
			    bool allow)
{
	XCH_OR_FAIL(c);
	if (pirq < 0)
		return -EINVAL;
	return xc_domain_irq_permission(xch(c), domid, (uint32_t)pirq,
					allow) < 0 ? xc_err() : 0;
}

/* pirq = GSI, as libxl maps it: mapping the same GSI again for the same
 * domain answers with the mapping it has. */
static int x_map_pirq(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		      int *ret_pirq)
{
	uint8_t pin;
	uint32_t gsi;
	int pirq;

	XCH_OR_FAIL(c);
	if (!dev_exists(sbdf))
		return -ENODEV;
	read_intx(sbdf, &pin, &gsi);
	if (!pin)
		return -ENOENT;
	pirq = (int)gsi;
	if (xc_physdev_map_pirq(xch(c), domid, (int)gsi, &pirq) < 0)
		return xc_err();
	*ret_pirq = pirq;
	return 0;
}

static int x_unmap_pirq(struct xpt_ctx *c, unsigned int domid, int pirq)
{
	XCH_OR_FAIL(c);
	return xc_physdev_unmap_pirq(xch(c), domid, pirq) < 0 ? xc_err() : 0;
}

/* ---- domains ---- */

static void pdom_of(const xc_domaininfo_t *i, struct xpt_pdom *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->domid = i->domain;
	if (i->flags & XEN_DOMINF_dying)
		ret->state = XPT_DOM_DYING;
	else if (i->flags & XEN_DOMINF_shutdown)
		ret->state = XPT_DOM_SHUTDOWN;
	else if (i->flags & XEN_DOMINF_paused)
		ret->state = XPT_DOM_PAUSED;
	else
		ret->state = XPT_DOM_RUNNING;
	/* what xl list shows: its pages now, in MiB, and its vCPUs */
	ret->memory_mb = (uint64_t)i->tot_pages * 4096 >> 20;
	ret->vcpus = i->max_vcpu_id + 1;
	/* Xen has no names: xenstore's /local/domain/<id>/name is it */
}

static int getinfo(struct xpt_ctx *c, unsigned int domid, xc_domaininfo_t *ret)
{
	int n;

	XCH_OR_FAIL(c);
	n = xc_domain_getinfolist(xch(c), domid, 1, ret);
	if (n < 0)
		return xc_err();
	return n == 1 && ret->domain == domid ? 0 : -ESRCH;
}

static int x_dom_info(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_pdom *ret)
{
	xc_domaininfo_t i;
	int r = getinfo(c, domid, &i);

	if (r == 0)
		pdom_of(&i, ret);
	return r;
}

static int x_dom_list(struct xpt_ctx *c, unsigned int first,
		      struct xpt_pdom *ret, size_t max, size_t *ret_n)
{
	xc_domaininfo_t *info;
	unsigned int want = max > 1024 ? 1024 : (unsigned int)max;
	int n, i;

	XCH_OR_FAIL(c);
	if (first >= XPT_DOMID_FIRST_RESERVED || !want) {
		*ret_n = 0;
		return 0;
	}
	info = calloc(want, sizeof(*info));
	if (!info)
		return -ENOMEM;
	n = xc_domain_getinfolist(xch(c), first, want, info);
	if (n < 0) {
		n = xc_err();
		free(info);
		return n;
	}
	for (i = 0; i < n; i++)
		pdom_of(&info[i], &ret[i]);
	free(info);
	*ret_n = (size_t)n;
	return 0;
}

/* Its kernel runs: it has run (cpu time) and has neither shut down nor
 * crashed.  A domain built but never unpaused has used no cpu time. */
static int x_dom_kernel(struct xpt_ctx *c, unsigned int domid)
{
	xc_domaininfo_t i;
	int r = getinfo(c, domid, &i);

	if (r < 0)
		return r;
	if (domid == 0)
		return 1;
	return !(i.flags & (XEN_DOMINF_dying | XEN_DOMINF_shutdown)) &&
	       i.cpu_time > 0;
}

/* Stop answering now: its vcpus stop; the destroy that follows ends it. */
static void x_dom_kill_kernel(struct xpt_ctx *c, unsigned int domid)
{
	if (xch(c))
		xc_domain_pause(xch(c), domid);
}

static int x_dom_pause(struct xpt_ctx *c, unsigned int domid)
{
	XCH_OR_FAIL(c);
	return xc_domain_pause(xch(c), domid) < 0 ? xc_err() : 0;
}

static int x_dom_unpause(struct xpt_ctx *c, unsigned int domid)
{
	XCH_OR_FAIL(c);
	return xc_domain_unpause(xch(c), domid) < 0 ? xc_err() : 0;
}

/* A PV kernel starts at its first unpause (libxl built it). */
static int x_dom_boot(struct xpt_ctx *c, unsigned int domid)
{
	int r = x_dom_unpause(c, domid);

	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: unpause: %s",
				domid, strerror(-r));
	return 0;
}

static libxl_ctx *xl_ctx(struct xpt_ctx *c)
{
	struct xen_pf *x = pf(c);

	if (!x)
		return NULL;
	if (!x->xl && libxl_ctx_alloc(&x->xl, LIBXL_VERSION, 0,
				      &x->log.xtl) != 0) {
		xpt_fail(c, XPT_EXIT_FAIL, -EIO, "cannot start libxl: %s",
			 x->log.last[0] ? x->log.last : "no reason given");
		x->xl = NULL;
	}
	return x->xl;
}

/*
 * xl.cfg's keys that xpt parses, as xl maps them onto libxl's config:
 * name, uuid, type (pv, hvm), memory (max and target), vcpus (all
 * online), kernel, ramdisk, extra (the command line), and passthrough
 * (an IOMMU context) and e820_host (xpt_cfg_e820_host: a PV guest with
 * passthrough gets the host's memory map, also before its first device,
 * where xl sets it only for pci=[...]).  No devices: the caller
 * cold-plugs PCI, libxl adds the console.
 */
/* An HVM guest's device model, as xl sets it from xl.cfg: QEMU upstream
 * (qemu-xen) in dom0, started by libxl while it builds the domain (no
 * -S: the domain's vCPUs stay paused until xpt unpauses them, after its
 * PCI devices are added over QMP); serial "pty" (xenconsoled logs it),
 * vga "none" and no graphics unless the configuration asks. */
static int hvm_build_info(const struct xpt_cfg *cfg,
			  libxl_domain_build_info *bi)
{
	const char *vga = cfg->vga[0] ? cfg->vga : "none";

	bi->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
	bi->u.hvm.vga.kind = !strcmp(vga, "stdvga") ?
			     LIBXL_VGA_INTERFACE_TYPE_STD :
			     !strcmp(vga, "cirrus") ?
			     LIBXL_VGA_INTERFACE_TYPE_CIRRUS :
			     LIBXL_VGA_INTERFACE_TYPE_NONE;
	if (!strcmp(vga, "none")) {
		libxl_defbool_set(&bi->u.hvm.nographic, true);
		libxl_defbool_set(&bi->u.hvm.vnc.enable, false);
	}
	bi->u.hvm.serial = strdup(cfg->serial[0] ? cfg->serial : "pty");
	if (!bi->u.hvm.serial)
		return -ENOMEM;
	if (!cfg->stubdomain)
		return 0;
	/* libxl builds the stub domain with the guest and waits for its
	 * device model (its own defaults for what is not given: Debian's
	 * /usr/lib/xen/boot/qemu-stubdom-linux-*, 128 MiB); the devices
	 * are xpt's (stubdom.c) */
	libxl_defbool_set(&bi->device_model_stubdomain, true);
	bi->stubdomain_memkb = cfg->stubdomain_memory_mb * 1024;
	if ((cfg->stubdomain_kernel[0] && !(bi->stubdomain_kernel =
	     strdup(cfg->stubdomain_kernel))) ||
	    (cfg->stubdomain_ramdisk[0] && !(bi->stubdomain_ramdisk =
	     strdup(cfg->stubdomain_ramdisk))) ||
	    (cfg->stubdomain_cmdline[0] && !(bi->stubdomain_cmdline =
	     strdup(cfg->stubdomain_cmdline))))
		return -ENOMEM;
	return 0;
}

static int x_dom_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			const char *uuid, bool passthrough,
			unsigned int *ret_domid)
{
	bool hvm = !strcmp(cfg->type, "hvm");
	libxl_ctx *xl = xl_ctx(c);
	libxl_domain_config dc;
	libxl_domain_create_info *ci = &dc.c_info;
	libxl_domain_build_info *bi = &dc.b_info;
	uint64_t mb = cfg->memory_mb ? cfg->memory_mb : 128;
	unsigned int vcpus = cfg->vcpus ? cfg->vcpus : 1, i;
	uint32_t domid = INVALID_DOMID;
	int r = 0;

	if (!xl)
		return -EIO;
	if (cfg->type[0] && strcmp(cfg->type, "pv") && !hvm)
		return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "%s: type=\"%s\" "
				"is not supported: xpt builds PV and HVM guests",
				cfg->name, cfg->type);
	if (!cfg->kernel[0] && !hvm)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%s: no kernel= in "
				"its configuration: a PV guest on Xen needs one",
				cfg->name);
	libxl_domain_config_init(&dc);
	ci->type = hvm ? LIBXL_DOMAIN_TYPE_HVM : LIBXL_DOMAIN_TYPE_PV;
	ci->name = strdup(cfg->name);
	ci->passthrough = passthrough ? LIBXL_PASSTHROUGH_ENABLED :
			  LIBXL_PASSTHROUGH_DISABLED;
	if (uuid && libxl_uuid_from_string(&ci->uuid, uuid) != 0) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -EINVAL, "%s: bad uuid %s",
			     cfg->name, uuid);
		goto out;
	}
	libxl_domain_build_info_init_type(bi, hvm ? LIBXL_DOMAIN_TYPE_HVM :
					  LIBXL_DOMAIN_TYPE_PV);
	if (hvm && hvm_build_info(cfg, bi) < 0) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "%s: out of memory",
			     cfg->name);
		goto out;
	}
	bi->max_memkb = bi->target_memkb = mb * 1024;
	bi->max_vcpus = (int)vcpus;
	if (libxl_cpu_bitmap_alloc(xl, &bi->avail_vcpus, (int)vcpus) != 0) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "%s: out of memory",
			     cfg->name);
		goto out;
	}
	libxl_bitmap_set_none(&bi->avail_vcpus);
	for (i = 0; i < vcpus; i++)
		libxl_bitmap_set(&bi->avail_vcpus, (int)i);
	if (cfg->kernel[0])
		bi->kernel = strdup(cfg->kernel);
	if (cfg->ramdisk[0])
		bi->ramdisk = strdup(cfg->ramdisk);
	if (cfg->extra[0])
		bi->cmdline = strdup(cfg->extra);
	if (!hvm)
		libxl_defbool_set(&bi->u.pv.e820_host,
				  xpt_cfg_e820_host(cfg, passthrough));
	if (!ci->name || (cfg->kernel[0] && !bi->kernel) || (cfg->ramdisk[0] && !bi->ramdisk) ||
	    (cfg->extra[0] && !bi->cmdline)) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "%s: out of memory",
			     cfg->name);
		goto out;
	}
	pf(c)->log.last[0] = '\0';
	if (libxl_domain_create_new(xl, &dc, &domid, NULL, NULL) != 0) {
		/* libxl destroys what it half built */
		r = xpt_fail(c, XPT_EXIT_FAIL, -EIO, "%s: libxl could not "
			     "build the domain: %s", cfg->name,
			     pf(c)->log.last[0] ? pf(c)->log.last :
			     "no reason given (XPT_XEN_LOG=FILE keeps libxl's "
			     "log)");
		goto out;
	}
	*ret_domid = domid;
out:
	libxl_domain_config_dispose(&dc);
	return r;
}

/* The backend directories libxl made for domid (its console) that its
 * destroy could not find because /libxl/<domid> had gone first.  The PCI
 * backend is the protocol's own, left alone. */
static void sweep_backends(struct xpt_ctx *c, unsigned int domid)
{
	char **kinds, path[128];
	unsigned int n = 0, i;

	kinds = xs_directory(c->xs, XBT_NULL, "/local/domain/0/backend", &n);
	for (i = 0; kinds && i < n; i++) {
		if (!strcmp(kinds[i], "pci"))
			continue;
		snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u",
			 kinds[i], domid);
		if (xpt_xs_exists(c, XBT_NULL, path))
			xpt_xs_rm(c, XBT_NULL, path);
	}
	free(kinds);
	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", domid);
	if (xpt_xs_exists(c, XBT_NULL, path))
		xpt_xs_rm(c, XBT_NULL, path);
}

/* Xen ends a destroyed domain in two steps: the hypercall kills it, and
 * its last resources (its pirqs among them: an MSI-X device's vectors)
 * go when the last reference drops, after the hypercall has returned.
 * Until then the domain is listed as dying, and a device it had, given
 * to a new domain at once (`xpt reboot`), may not get its MSI-X vectors
 * (seen in the lab: the rebooted guest's virtio-blk fell back to INTx,
 * once in three runs).  Wait, bounded, until it is gone; a domain
 * something else still holds stays a zombie, as xl leaves it. */
static void wait_gone(struct xpt_ctx *c, unsigned int domid, int base_ms)
{
	int ms = xpt_wait_ms(c, base_ms);
	int64_t deadline = xpt_now_ms() + ms;
	struct xpt_progress p;
	xc_domaininfo_t i;

	xpt_progress_begin(c, &p, ms, "domain %u to be gone "
			   "(Xen frees a destroyed domain's last resources)",
			   domid);
	while (getinfo(c, domid, &i) == 0 && xpt_now_ms() < deadline)
		poll(NULL, 0, xpt_progress_poll_ms(&p, 10));
	xpt_progress_end(&p, 0);
}

static int x_dom_destroy(struct xpt_ctx *c, unsigned int domid)
{
	xc_domaininfo_t i;
	libxl_ctx *xl;
	int r = getinfo(c, domid, &i);

	if (r < 0) {
		if (r == -ESRCH)
			sweep_backends(c, domid);
		return r;
	}
	xl = xl_ctx(c);
	if (!xl)
		return -EIO;
	pf(c)->log.last[0] = '\0';
	if (libxl_domain_destroy(xl, domid, NULL) != 0) {
		r = getinfo(c, domid, &i) == -ESRCH ? 0 : -EIO;
		if (r < 0)
			xpt_warn(c, "domain %u: libxl: %s", domid,
				 pf(c)->log.last[0] ? pf(c)->log.last :
				 "destroy failed");
	}
	sweep_backends(c, domid);
	if (r == 0)
		wait_gone(c, domid, 1000);
	return r;
}

/* ---- what xpt doctor reads ---- */

/* `xl info`'s virt_caps: libxl sets both hvm_directio and pv_directio
 * from XEN_SYSCTL_PHYSCAP_directio, which Xen sets when its IOMMU is on. */
static int x_host_caps(struct xpt_ctx *c, bool *ret_directio)
{
	xc_physinfo_t info = { 0 };

	if (!xch(c))
		return -ENOTCONN;
	if (xc_physinfo(xch(c), &info) < 0)
		return xc_err();
	*ret_directio = info.capabilities & XEN_SYSCTL_PHYSCAP_directio;
	return 0;
}

/* `xl dmesg`: the whole ring, not cleared. */
static int x_console_read(struct xpt_ctx *c, char *buf, size_t len)
{
	unsigned int n = len > 1 ? (unsigned int)(len - 1) : 0;

	if (!xch(c))
		return -ENOTCONN;
	if (xc_readconsolering(xch(c), buf, &n, 0, 0, NULL) < 0)
		return xc_err();
	buf[n < len ? n : len - 1] = '\0';
	return 0;
}

/* Linux's xen-pciback registers as driver "pciback"; its parameters
 * are /sys/module/xen_pciback/parameters/{permissive,passthrough,hide}
 * (drivers/xen/xen-pciback/{conf_space.c,xenbus.c,pci_stub.c}). */
static int x_pb_module(struct xpt_ctx *c, struct xpt_pb_module *ret)
{
	static const struct {
		const char *name;
		size_t off, len;
	} params[] = {
		{ "permissive", offsetof(struct xpt_pb_module, permissive),
		  sizeof(ret->permissive) },
		{ "passthrough", offsetof(struct xpt_pb_module, passthrough),
		  sizeof(ret->passthrough) },
		{ "hide", offsetof(struct xpt_pb_module, hide),
		  sizeof(ret->hide) },
	};
	char path[PATH_MAX];
	size_t i;
	int r;

	(void)c;
	memset(ret, 0, sizeof(*ret));
	if ((r = sys_path(path, sizeof(path), "bus/pci/drivers/pciback")) < 0)
		return r;
	snprintf(ret->where, sizeof(ret->where), "%.150s", path);
	ret->loaded = access(path, F_OK) == 0;
	ret->has_params = true;
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (sys_path(path, sizeof(path), "module/xen_pciback/"
			     "parameters/%s", params[i].name) < 0 ||
		    sys_read(path, (char *)ret + params[i].off,
			     params[i].len) < 0)
			ret->has_params = false;
	}
	return 0;
}

/* The config file: 256 bytes (4 KiB with extended space) for root, the
 * first 64 for anyone else. */
static int x_pci_config(struct xpt_ctx *c, uint32_t sbdf, uint8_t *buf,
			size_t len, size_t *ret_n)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	(void)c;
	if ((r = dev_path(path, sizeof(path), sbdf, "config")) < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		*ret_n = (size_t)n;
	return r;
}

const struct xpt_platform xpt_platform_xen = {
	.name = "xen",
	.dm_qmp_dir = "/var/run/xen",
	/* vPCI serves only a PVH dom0 in 4.17 (domU support is Arm's, from
	 * 4.19); libxl__arch_passthrough_mode_setdefault refuses it too */
	.pvh_pci_refused = "Xen 4.17 has no vPCI for domU guests, so an "
		"x86 PVH guest cannot have PCI devices (libxl: \"passthrough "
		"not yet supported for x86 PVH guests\"); use type = \"hvm\" "
		"or \"pv\" for a guest with passthrough",
	.open = x_open,
	.close = x_close,
	.dom_create = x_dom_create,
	.dom_boot = x_dom_boot,
	.dom_pause = x_dom_pause,
	.dom_unpause = x_dom_unpause,
	.dom_destroy = x_dom_destroy,
	.dom_info = x_dom_info,
	.dom_list = x_dom_list,
	.dom_kernel = x_dom_kernel,
	.dom_kill_kernel = x_dom_kill_kernel,
	.pci_list = x_pci_list,
	.pci_info = x_pci_info,
	.pb_list = x_pb_list,
	.pb_seize = x_pb_seize,
	.pb_release = x_pb_release,
	.pb_reset = x_pb_reset,
	.host_caps = x_host_caps,
	.console_read = x_console_read,
	.pb_module = x_pb_module,
	.pci_config = x_pci_config,
	.pb_permissive = x_pb_permissive,
	.test_assign = x_test_assign,
	.assign = x_assign,
	.deassign = x_deassign,
	.iomem_permission = x_iomem_permission,
	.ioport_permission = x_ioport_permission,
	.irq_permission = x_irq_permission,
	.map_pirq = x_map_pirq,
	.unmap_pirq = x_unmap_pirq,
};
