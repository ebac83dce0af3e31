// SPDX-License-Identifier: MIT
/*
 * xpt doctor: is this host ready for PCI passthrough, and if not, why
 * and what fixes it.  Read only: it asks the platform (model or xen) and
 * the store, and changes nothing in either.
 *
 * Host checks, in order: the hypervisor answers; the store answers (and
 * which daemon it is); Xen's IOMMU is on (physinfo's directio, `xl
 * info`'s hvm_directio/pv_directio, and the console's "I/O
 * virtualisation" line); interrupt remapping (the console's "Interrupt
 * remapping" line); the dom0 backend driver is loaded, and what its
 * parameters mean; leftovers of domains that are gone (what `xpt list`
 * warns about).  Then per device (those named, else every device pciback
 * holds): its reset method; the functions it must go with (one slot, one
 * bus reset, one RMRR); MSI/MSI-X from its capability list; the dom0
 * driver it is bound to.
 *
 * What Xen prints, and where (Xen 4.17 and 4.20 print the same):
 *   iommu_setup(), xen/drivers/passthrough/iommu.c:
 *     "I/O virtualisation enabled" | "I/O virtualisation disabled"
 *     " - Dom0 mode: ..."                      (only when enabled)
 *     "Interrupt remapping enabled" | "... disabled" (only when enabled)
 *   acpi_parse_dmar() / acpi_parse_dev_scope(), vtd/dmar.c, VTDPREFIX
 *   "[VT-D]" (the endpoint lines only with iommu=verbose):
 *     "[VT-D]found ACPI_DMAR_RMRR:" then "[VT-D] endpoint: 0000:00:14.0"
 * each line behind "(XEN) " and, with console_timestamps, "[  1.23] ".
 * Worked example: a ring holding
 *     (XEN) [VT-D]found ACPI_DMAR_RMRR:
 *     (XEN) [VT-D] endpoint: 0000:00:14.0
 *     (XEN) [VT-D] endpoint: 0000:00:1a.0
 *     (XEN) [VT-D]found ACPI_DMAR_ATSR:
 *     (XEN) I/O virtualisation enabled
 *     (XEN) Interrupt remapping disabled
 * gives iommu 1, intremap 0, and 00:14.0 and 00:1a.0 in RMRR 0: each
 * must go to the same guest as the other.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"

#define CONSOLE_MAX (64 * 1024)
#define DOCTOR_ROWS 64		/* first allocation; it doubles */

/* ---- parsers (unit-tested on captured text) ---- */

/* "[    1.234567] " or "[2026-12-05 21:00:00.123] ": console_timestamps */
static bool timestamp(const char *s, const char **ret_after)
{
	size_t n = strspn(s + 1, " 0123456789.:-");

	if (s[0] != '[' || s[1 + n] != ']' || s[2 + n] != ' ' ||
	    !strpbrk(s, "0123456789") || strpbrk(s, "0123456789") > s + 1 + n)
		return false;
	*ret_after = s + 3 + n;
	return true;
}

/* The text of a console line after "(XEN) " and a timestamp; NULL when
 * the line is not Xen's own (a guest's "(d1) ..."). */
static const char *xen_line(const char *line)
{
	if (strncmp(line, "(XEN) ", 6))
		return NULL;
	line += 6;
	timestamp(line, &line);
	return line;
}

void xpt_console_parse(const char *text, struct xpt_console_facts *ret)
{
	const char *s = text, *nl, *l;
	char line[256];
	int rmrr = -1, nrmrr = 0;
	unsigned int seg, bus, dev, fn;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	ret->iommu = ret->intremap = -1;
	while (s && *s) {
		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		snprintf(line, sizeof(line), "%.*s", (int)len, s);
		s = nl ? nl + 1 : NULL;
		line[strcspn(line, "\r")] = '\0';
		if (!(l = xen_line(line)))
			continue;
		if (!strcmp(l, "I/O virtualisation enabled"))
			ret->iommu = 1;
		else if (!strcmp(l, "I/O virtualisation disabled"))
			ret->iommu = 0;
		else if (!strcmp(l, "Interrupt remapping enabled"))
			ret->intremap = 1;
		else if (!strcmp(l, "Interrupt remapping disabled"))
			ret->intremap = 0;
		else if (!strcmp(l, "[VT-D]found ACPI_DMAR_RMRR:"))
			rmrr = nrmrr++;
		else if (!strncmp(l, "[VT-D]found ACPI_DMAR_", 22))
			rmrr = -1;
		else if (rmrr >= 0 &&
			 sscanf(l, "[VT-D] endpoint: %4x:%2x:%2x.%1x", &seg,
				&bus, &dev, &fn) == 4 && dev < 32 && fn < 8 &&
			 ret->nrmrr < XPT_RMRR_MAX) {
			ret->rmrr[ret->nrmrr].sbdf = XPT_PCI_SBDF(seg, bus,
								  dev, fn);
			ret->rmrr[ret->nrmrr].rmrr = (unsigned int)rmrr;
			ret->nrmrr++;
		}
	}
}

static unsigned int rd16(const uint8_t *b, size_t off)
{
	return b[off] | (unsigned int)b[off + 1] << 8;
}

int xpt_pci_caps_parse(const uint8_t *conf, size_t len,
		       struct xpt_pci_caps *ret)
{
	unsigned int pos, id, hops;

	memset(ret, 0, sizeof(*ret));
	if (len < 64)
		return -EINVAL;
	if (rd16(conf, 0) == 0xffff)
		return -ENODEV;			/* nothing answers */
	if (!(rd16(conf, 6) & 0x10))
		return 0;			/* no capability list */
	pos = conf[0x34] & 0xfc;
	for (hops = 0; pos && hops < 48; hops++) {
		if (pos < 0x40 || pos + 12 > len)
			return pos + 12 > len && pos >= 0x40 ? -ERANGE :
			       -EINVAL;
		id = conf[pos];
		if (id == 0x05) {		/* MSI: Multiple Message Capable */
			ret->msi = true;
			ret->msi_vectors = 1u << ((rd16(conf, pos + 2) >> 1) &
						  7);
		} else if (id == 0x11) {	/* MSI-X: table size - 1 */
			ret->msix = true;
			ret->msix_entries = (rd16(conf, pos + 2) & 0x7ff) + 1;
		} else if (id == 0x10) {	/* PCIe: DevCap bit 28 FLR */
			ret->pcie = true;
			ret->flr = (rd16(conf, pos + 6) >> 12) & 1;
		}
		pos = conf[pos + 1] & 0xfc;
	}
	return hops >= 48 ? -ELOOP : 0;
}

/* ---- the checks ---- */

struct doc {
	struct xpt_ctx *c;
	bool model;
	struct xpt_check *v;
	size_t n, max;
	bool oom;
	bool hv_ok, xs_ok;
	struct xpt_pb_dev *pb;		/* pciback's devices */
	size_t npb;
	bool pb_ok;
	struct xpt_console_facts con;
	bool con_ok;
	uint32_t *all;			/* the host's functions */
	size_t nall;
};

static struct xpt_check *add(struct doc *d, const char *check,
			     enum xpt_check_status st, const char *object)
{
	struct xpt_check *k;

	if (d->n == d->max) {
		k = realloc(d->v, 2 * d->max * sizeof(*k));
		if (!k) {
			d->oom = true;	/* xpt_doctor_run fails: no row lost */
			return NULL;
		}
		d->v = k;
		d->max *= 2;
	}
	k = &d->v[d->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->check, sizeof(k->check), "%s", check);
	snprintf(k->object, sizeof(k->object), "%s", object);
	k->status = st;
	return k;
}

static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

#define DETAIL(k, ...) do { if (k) say((k)->detail, sizeof((k)->detail), \
				       __VA_ARGS__); } while (0)
#define FIX(k, ...) do { if (k) say((k)->fix, sizeof((k)->fix), \
				    __VA_ARGS__); } while (0)

/* How to bring back a daemon of the modelled host. */
static const char *restart_fix = "`xpt host start` restarts the daemons "
				 "that died (`xpt host status` shows them)";

static void check_hypervisor(struct doc *d)
{
	struct xpt_check *k;
	int r;

	d->c->err[0] = '\0';
	r = d->c->pf->open(d->c);
	if (r == 0) {
		struct xpt_pdom dom0;

		r = d->c->pf->dom_info(d->c, 0, &dom0);
		if (r < 0)
			xpt_fail(d->c, XPT_EXIT_FAIL, r, "it does not answer "
				 "a domain query: %s", strerror(-r));
	}
	d->hv_ok = r == 0;
	k = add(d, "hypervisor", r == 0 ? XPT_CHECK_PASS : XPT_CHECK_FAIL,
		d->model ? "xpt-hypervisor" : "Xen");
	if (r == 0 && d->model)
		DETAIL(k, "answers at %s/hv/control", d->c->rundir);
	else if (r == 0)
		DETAIL(k, "answers through libxenctrl (privcmd)");
	else
		DETAIL(k, "unreachable: %s", d->c->err[0] ? d->c->err :
		       strerror(-r));
	if (r < 0)
		FIX(k, "%s", d->model ? restart_fix : "run xpt as root in "
		    "Xen's control domain (dom0), with /dev/xen/privcmd "
		    "(`modprobe xen-privcmd`)");
	d->c->err[0] = '\0';
}

/* The store's daemon: its pid file's process, by name.  Debian's
 * /etc/init.d/xen writes /run/xenstore.pid; upstream's launch-xenstore
 * /run/xenstored.pid. */
static void store_daemon(struct doc *d, char *buf, size_t len)
{
	static const char *const xen_pidfiles[] = {
		"/run/xenstore.pid", "/run/xenstored.pid",
	};
	char path[PATH_MAX], comm[64] = "";
	FILE *f = NULL;
	long pid = -1;
	size_t i;

	if (d->model && xpt_path(d->c, path, sizeof(path),
				 "xenstored.pid") == 0)
		f = fopen(path, "re");
	for (i = 0; !d->model && !f && i < 2; i++)
		f = fopen(xen_pidfiles[i], "re");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = pid > 0 ? fopen(path, "re") : NULL;
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	if (comm[0])
		snprintf(buf, len, "%s, pid %ld", comm, pid);
	else
		snprintf(buf, len, "%s", d->model ? "xpt-xenstored" :
			 "xenstored");
}

static void check_store(struct doc *d)
{
	const char *path;
	struct xpt_check *k;
	char who[96], sock[PATH_MAX], *v = NULL;
	int err = 0;

	/* the model's store, never the machine's own */
	if (d->model && xpt_path(d->c, sock, sizeof(sock), "socket") == 0)
		setenv("XENSTORED_PATH", sock, 1);
	path = getenv("XENSTORED_PATH");

	store_daemon(d, who, sizeof(who));
	errno = 0;
	if (!d->c->xs)
		d->c->xs = xs_open(0);
	if (!d->c->xs)
		err = errno ? errno : EIO;
	else if (!(v = xs_read(d->c->xs, XBT_NULL, "/local/domain/0/name",
			       NULL)) && errno != ENOENT)
		err = errno ? errno : EIO;
	free(v);
	d->xs_ok = !err;
	k = add(d, "store", err ? XPT_CHECK_FAIL : XPT_CHECK_PASS,
		"xenstore");
	if (!err) {
		DETAIL(k, "%s answers at %s", who, path && *path ? path :
		       "libxenstore's default socket");
		return;
	}
	DETAIL(k, "%s does not answer at %s: %s", who, path && *path ? path :
	       "libxenstore's default socket", strerror(err));
	FIX(k, "%s", d->model ? restart_fix : "start the store: "
	    "`/etc/init.d/xen start` (Debian's xen-utils-common; upstream's "
	    "units: `systemctl start xenstored`)");
	if (d->c->xs)
		xs_close(d->c->xs);
	d->c->xs = NULL;
}

static void read_console(struct doc *d)
{
	char *buf = malloc(CONSOLE_MAX);

	d->con_ok = buf && d->hv_ok && d->c->pf->console_read &&
		    d->c->pf->console_read(d->c, buf, CONSOLE_MAX) == 0;
	if (d->con_ok)
		xpt_console_parse(buf, &d->con);
	else
		xpt_console_parse("", &d->con);
	free(buf);
}

static void check_iommu(struct doc *d)
{
	struct xpt_check *k;
	bool directio = false;
	int r = -EOPNOTSUPP;

	if (!d->hv_ok) {
		k = add(d, "iommu", XPT_CHECK_SKIP, "Xen");
		DETAIL(k, "the hypervisor does not answer");
		FIX(k, "see the hypervisor check above");
		return;
	}
	if (d->c->pf->host_caps)
		r = d->c->pf->host_caps(d->c, &directio);
	if (r == 0 && directio && d->con.iommu != 0) {
		k = add(d, "iommu", XPT_CHECK_PASS, "Xen");
		DETAIL(k, "IOMMU enabled (physinfo: hvm_directio, "
		       "pv_directio%s)", d->con.iommu == 1 ? "; console: \"I/O "
		       "virtualisation enabled\"" : "");
		return;
	}
	if (r < 0 && d->con.iommu < 0) {
		k = add(d, "iommu", XPT_CHECK_WARN, "Xen");
		DETAIL(k, "cannot tell: physinfo failed (%s) and the console "
		       "ring has no \"I/O virtualisation\" line", strerror(-r));
		FIX(k, "`xl info | grep virt_caps` should list hvm_directio; "
		    "`xl dmesg | grep 'I/O virtualisation'`");
		return;
	}
	k = add(d, "iommu", XPT_CHECK_FAIL, "Xen");
	DETAIL(k, "IOMMU disabled (%s%s): no device can be assigned to a "
	       "guest, and a device's DMA would reach all of memory",
	       r == 0 && !directio ? "physinfo has no directio" : "",
	       d->con.iommu == 0 ? (r == 0 && !directio ? "; console: \"I/O "
	       "virtualisation disabled\"" : "console: \"I/O virtualisation "
	       "disabled\"") : "");
	if (d->model)
		FIX(k, "remove `iommu=off` from the host file's `xen` line "
		    "(xpt-host(5)), then `xpt host stop` and `xpt host start "
		    "--host FILE`");
	else
		FIX(k, "enable VT-d (Intel) or AMD-Vi (AMD) in the firmware "
		    "and boot Xen with `iommu=1` (no `iommu=0`/`iommu=off`); "
		    "`xl dmesg | grep -i -e iommu -e vt-d -e amd-vi` says why "
		    "it stayed off");
}

static void check_intremap(struct doc *d)
{
	struct xpt_check *k;

	if (!d->hv_ok || !d->con_ok || d->con.iommu == 0) {
		k = add(d, "intremap", XPT_CHECK_SKIP, "Xen");
		DETAIL(k, "%s", !d->hv_ok ? "the hypervisor does not answer" :
		       !d->con_ok ? "the hypervisor's console cannot be read" :
		       "needs the IOMMU (see the iommu check)");
		FIX(k, "%s", !d->hv_ok ? "see the hypervisor check above" :
		    !d->con_ok ? "`xl dmesg | grep 'Interrupt remapping'`" :
		    "enable the IOMMU first");
		return;
	}
	if (d->con.intremap == 1) {
		k = add(d, "intremap", XPT_CHECK_PASS, "Xen");
		DETAIL(k, "interrupt remapping enabled (console: \"Interrupt "
		       "remapping enabled\")");
		return;
	}
	if (d->con.intremap < 0) {
		k = add(d, "intremap", XPT_CHECK_WARN, "Xen");
		DETAIL(k, "the console ring no longer holds Xen's boot "
		       "messages (no \"Interrupt remapping\" line)");
		FIX(k, "boot Xen with a larger ring, `conring_size=1M`, and "
		    "look again; or `xl dmesg | grep -i remapping` right "
		    "after boot");
		return;
	}
	k = add(d, "intremap", XPT_CHECK_FAIL, "Xen");
	DETAIL(k, "interrupt remapping disabled (console: \"Interrupt "
	       "remapping disabled\"): a device given to a guest can send "
	       "any interrupt (MSI) it likes to the host");
	if (d->model)
		FIX(k, "remove `intremap=off` from the host file's `xen` line "
		    "(xpt-host(5)), then `xpt host stop` and `xpt host start "
		    "--host FILE`");
	else
		FIX(k, "enable interrupt remapping in the firmware (VT-d/"
		    "AMD-Vi with x2APIC) and boot Xen without "
		    "`iommu=no-intremap`");
}

static bool param_on(const char *v)
{
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}

static void check_pciback(struct doc *d)
{
	struct xpt_pb_module m;
	struct xpt_check *k;
	bool permissive;
	int r = -EOPNOTSUPP;

	if (d->c->pf->pb_module)
		r = d->c->pf->pb_module(d->c, &m);
	if (r < 0) {
		k = add(d, "pciback", XPT_CHECK_SKIP, "pciback");
		DETAIL(k, "cannot tell: %s", strerror(-r));
		FIX(k, "`ls /sys/bus/pci/drivers/pciback`");
		return;
	}
	if (!m.loaded) {
		k = add(d, "pciback", XPT_CHECK_FAIL, d->model ? "xpt-pciback" :
			"xen-pciback");
		DETAIL(k, "not loaded (%s): no device can be made assignable "
		       "or given to a PV guest", m.where);
		FIX(k, "%s", d->model ? restart_fix : "`modprobe xen-pciback` "
		    "(and to seize devices at boot, dom0's kernel command line "
		    "`xen-pciback.hide=(BDF)(BDF)`)");
		return;
	}
	/* Linux shows a bool parameter as Y or N, an unset charp as
	 * (null): permissive and passthrough are bools, hide a charp
	 * (drivers/xen/xen-pciback/conf_space.c, xenbus.c, pci_stub.c) */
	permissive = m.has_params && param_on(m.permissive);
	k = add(d, "pciback", permissive ? XPT_CHECK_WARN : XPT_CHECK_PASS,
		d->model ? "xpt-pciback" : "xen-pciback");
	if (!m.has_params)
		DETAIL(k, "loaded (%s); no module parameters (permissive is "
		       "per device: pci=[...,permissive=1])", m.where);
	else
		DETAIL(k, "loaded (%s): permissive=%s (%s), passthrough=%s "
		       "(%s), hide=%s (%s)", m.where, m.permissive,
		       permissive ? "guests may write any config register "
		       "of every device they get" : "guests write only the "
		       "registers pciback emulates; pci=[...,permissive=1] "
		       "per device", m.passthrough, param_on(m.passthrough) ?
		       "guests see the host's PCI topology" : "guests see "
		       "their devices on a virtual bus 0",
		       m.hide[0] && strcmp(m.hide, "(null)") ? m.hide : "(none)",
		       "devices seized at boot");
	if (permissive)
		FIX(k, "`echo N > /sys/module/xen_pciback/parameters/"
		    "permissive`, and give permissive=1 only to the device "
		    "that needs it in pci=[...]");
}

/* The backticked commands of a text, " then "-joined. */
static void commands_of(const char *text, char *buf, size_t len)
{
	const char *a = text, *b;
	size_t used = 0;

	buf[0] = '\0';
	while ((a = strchr(a, '`')) && (b = strchr(a + 1, '`'))) {
		snprintf(buf + used, len - used, "%s%.*s", used ? " then " :
			 "", (int)(b - a + 1), a);
		used = strlen(buf);
		a = b + 1;
	}
}

/* What `xpt list` warns about: store records, backends and markers of
 * domains the hypervisor does not have, devices pciback lost. */
static void check_leftovers(struct doc *d)
{
	struct xpt_domain_info *list = NULL;
	struct xpt_check *k;
	const char *w, *nl;
	char line[512], obj[32];
	unsigned int id;
	size_t n, found = 0;
	int r;

	if (!d->hv_ok || !d->xs_ok) {
		k = add(d, "leftovers", XPT_CHECK_SKIP, "domains");
		DETAIL(k, "needs the hypervisor and the store");
		FIX(k, "see the %s check%s above", !d->hv_ok && !d->xs_ok ?
		    "hypervisor and store" : !d->hv_ok ? "hypervisor" :
		    "store", !d->hv_ok && !d->xs_ok ? "s" : "");
		return;
	}
	d->c->warnings[0] = '\0';
	r = xpt_domain_list(d->c, &list, &n);
	free(list);
	if (r < 0) {
		k = add(d, "leftovers", XPT_CHECK_SKIP, "domains");
		DETAIL(k, "cannot list the domains: %s", d->c->err);
		FIX(k, "`xpt list`");
		d->c->err[0] = '\0';
		return;
	}
	for (w = d->c->warnings; *w; w = nl ? nl + 1 : w + strlen(w)) {
		nl = strchr(w, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl ? nl - w :
			 (long)strlen(w)), w);
		if (!line[0])
			continue;
		if (sscanf(line, "domain %u", &id) == 1)
			snprintf(obj, sizeof(obj), "domain %u", id);
		else
			snprintf(obj, sizeof(obj), "domains");
		k = add(d, "leftovers", XPT_CHECK_FAIL, obj);
		DETAIL(k, "%s", line);
		if (k)
			commands_of(line, k->fix, sizeof(k->fix));
		found++;
		if (!nl)
			break;
	}
	d->c->warnings[0] = '\0';
	if (!found) {
		k = add(d, "leftovers", XPT_CHECK_PASS, "domains");
		DETAIL(k, "no records, backends or device markers of domains "
		       "that are gone, and pciback holds every device a "
		       "backend lists");
	}
}

/* ---- per device ---- */

static bool pb_holds(const struct doc *d, uint32_t sbdf, int *ret_domid)
{
	size_t i;

	for (i = 0; i < d->npb; i++)
		if (d->pb[i].sbdf == sbdf) {
			if (ret_domid)
				*ret_domid = d->pb[i].domid;
			return true;
		}
	return false;
}

static const char *reset_name(enum xpt_reset r)
{
	static const char *const names[] = {
		[XPT_RESET_NONE] = "none", [XPT_RESET_FLR] = "flr",
		[XPT_RESET_PM] = "pm", [XPT_RESET_BUS] = "bus",
	};

	return r <= XPT_RESET_BUS ? names[r] : "?";
}

static void check_reset(struct doc *d, const struct xpt_pdev *p,
			const char *bdf)
{
	struct xpt_check *k;

	if (p->reset != XPT_RESET_NONE) {
		k = add(d, "reset", XPT_CHECK_PASS, bdf);
		DETAIL(k, "reset method %s%s", reset_name(p->reset),
		       p->reset == XPT_RESET_BUS ? " (a secondary bus reset: "
		       "it resets the other functions below the bridge too; "
		       "see the group check)" : "");
		return;
	}
	k = add(d, "reset", XPT_CHECK_FAIL, bdf);
	DETAIL(k, "no reset method (%s): what one guest left in the device "
	       "(DMA addresses, keys, buffers, a hung engine) reaches the "
	       "next guest and dom0, and pciback cannot quiesce it at detach",
	       d->model ? "host file reset=none" :
	       "no `reset` file in sysfs");
	FIX(k, "give %s to one guest only and reboot the host before it goes "
	    "to another, or use a device with FLR (`lspci -vv -s %s | grep "
	    "FLReset`)%s", bdf, bdf, d->model ? "; on the model: "
	    "reset=flr in the host file" : "");
}

/* Functions that go with p: its slot's other functions, those a bus
 * reset of it also resets, and those sharing an RMRR with it. */
static void check_group(struct doc *d, const struct xpt_pdev *p,
			const char *bdf)
{
	char peers[384] = "", dom0[256] = "", b[16], why[64];
	struct xpt_check *k;
	bool rmrr_self = false, any = false;
	size_t i, j, lp = 0, ld = 0;

	for (i = 0; i < d->con.nrmrr; i++)
		if (d->con.rmrr[i].sbdf == p->sbdf)
			rmrr_self = true;
	for (i = 0; i < d->nall; i++) {
		uint32_t s = d->all[i];
		bool slot, bus, rmrr = false;

		if (s == p->sbdf)
			continue;
		slot = (s >> 3) == (p->sbdf >> 3);
		/* a secondary bus reset hits every function on the bus,
		 * whatever their own reset methods */
		bus = p->reset == XPT_RESET_BUS && (s >> 8) == (p->sbdf >> 8);
		for (j = 0; j < d->con.nrmrr; j++)
			if (d->con.rmrr[j].sbdf == s)
				for (size_t m = 0; m < d->con.nrmrr; m++)
					if (d->con.rmrr[m].sbdf == p->sbdf &&
					    d->con.rmrr[m].rmrr ==
					    d->con.rmrr[j].rmrr)
						rmrr = true;
		if (!slot && !bus && !rmrr)
			continue;
		any = true;
		xpt_format_bdf(s, b, sizeof(b));
		snprintf(why, sizeof(why), "%s%s%s", slot ? "same slot" : "",
			 bus ? (slot ? ", bus reset" : "bus reset") : "",
			 rmrr ? (slot || bus ? ", RMRR" : "RMRR") : "");
		snprintf(peers + lp, sizeof(peers) - lp, "%s%s (%s)",
			 lp ? ", " : "", b, why);
		lp = strlen(peers);
		if (!pb_holds(d, s, NULL) && (bus || rmrr)) {
			snprintf(dom0 + ld, sizeof(dom0) - ld, "%s`xpt "
				 "pci-assignable-add %s`", ld ? " and " : "",
				 b);
			ld = strlen(dom0);
		}
	}
	if (!any) {
		k = add(d, "group", rmrr_self ? XPT_CHECK_WARN : XPT_CHECK_PASS,
			bdf);
		DETAIL(k, "no other function shares its slot, its reset or "
		       "an RMRR%s", rmrr_self ? "; it has an RMRR (memory the "
		       "firmware reserved for its DMA)" : "");
		if (rmrr_self)
			FIX(k, "an HVM guest that gets it needs "
			    "rdm=\"strategy=host,policy=strict\" in its xl.cfg");
		return;
	}
	k = add(d, "group", dom0[0] ? XPT_CHECK_FAIL : XPT_CHECK_WARN, bdf);
	DETAIL(k, "goes with %s%s", peers, dom0[0] ? ": resetting it also "
	       "resets a function dom0 still uses" : ": give them to the same "
	       "guest");
	if (dom0[0])
		FIX(k, "%s, then pass them all to one guest (pci=['%02x:%02x.*'] "
		    "for one slot)", dom0, XPT_PCI_BUS(p->sbdf),
		    XPT_PCI_DEV(p->sbdf));
	else
		FIX(k, "pass them all to one guest, e.g. pci=['%02x:%02x.*'] "
		    "for one slot%s", XPT_PCI_BUS(p->sbdf), XPT_PCI_DEV(p->sbdf),
		    rmrr_self ? "; with an RMRR, an HVM guest needs "
		    "rdm=\"strategy=host,policy=strict\"" : "");
}

static void check_msi(struct doc *d, const struct xpt_pdev *p,
		      const char *bdf)
{
	uint8_t conf[256];
	struct xpt_pci_caps caps;
	struct xpt_check *k;
	size_t n = 0;
	int r = -EOPNOTSUPP;

	memset(conf, 0xff, sizeof(conf));
	if (d->c->pf->pci_config)
		r = d->c->pf->pci_config(d->c, p->sbdf, conf, sizeof(conf), &n);
	if (r == 0)
		r = xpt_pci_caps_parse(conf, n, &caps);
	if (r < 0) {
		k = add(d, "msi", XPT_CHECK_SKIP, bdf);
		DETAIL(k, "its configuration space cannot be read%s: %s",
		       n && n < 256 ? " past the first 64 bytes" : "",
		       strerror(-r));
		FIX(k, "run `xpt doctor` as root (sysfs shows the capability "
		    "list to root only)");
		return;
	}
	if (caps.msi || caps.msix) {
		k = add(d, "msi", XPT_CHECK_PASS, bdf);
		if (caps.msi && caps.msix)
			DETAIL(k, "MSI (%u vector%s) and MSI-X (%u entries)",
			       caps.msi_vectors, caps.msi_vectors > 1 ? "s" : "",
			       caps.msix_entries);
		else if (caps.msi)
			DETAIL(k, "MSI (%u vector%s)", caps.msi_vectors,
			       caps.msi_vectors > 1 ? "s" : "");
		else
			DETAIL(k, "MSI-X (%u entr%s)", caps.msix_entries,
			       caps.msix_entries > 1 ? "ies" : "y");
		return;
	}
	k = add(d, "msi", XPT_CHECK_WARN, bdf);
	DETAIL(k, "neither MSI nor MSI-X in its capability list: the guest "
	       "gets its INTx line%s, shared with whatever else is on it",
	       p->intx_pin ? "" : " (and it has none)");
	FIX(k, "nothing to do for a PV guest; prefer a device with MSI-X "
	    "where interrupt rates matter");
}

static void check_driver(struct doc *d, const struct xpt_pdev *p,
			 const char *bdf)
{
	struct xpt_check *k;
	int domid = -1;

	if (pb_holds(d, p->sbdf, &domid)) {
		k = add(d, "driver", XPT_CHECK_PASS, bdf);
		if (domid >= 0 && domid < (int)XPT_DOMID_FIRST_RESERVED)
			DETAIL(k, "bound to pciback, given to domain %d",
			       domid);
		else
			DETAIL(k, "bound to pciback: assignable");
		return;
	}
	k = add(d, "driver", XPT_CHECK_FAIL, bdf);
	if (p->driver[0] && strcmp(p->driver, "pciback"))
		DETAIL(k, "bound to dom0's driver %s, not pciback: it cannot be "
		       "given to a guest while dom0 uses it", p->driver);
	else if (!d->pb_ok)
		DETAIL(k, "pciback does not answer, so it holds nothing");
	else
		DETAIL(k, "not bound to pciback (no driver): not assignable");
	FIX(k, "`xpt pci-assignable-add %s`%s", bdf, p->driver[0] &&
	    strcmp(p->driver, "pciback") ? " (unbinds it from dom0's driver; "
	    "`xpt pci-assignable-remove -r` gives it back)" : "");
}

static void check_device(struct doc *d, uint32_t sbdf)
{
	struct xpt_pdev p;
	struct xpt_check *k;
	char bdf[16];
	int r;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	r = d->c->pf->pci_info(d->c, sbdf, &p);
	if (r < 0) {
		k = add(d, "device", XPT_CHECK_FAIL, bdf);
		DETAIL(k, "%s", r == -ENODEV || r == -ENOENT ? "no such PCI "
		       "function on this host" : strerror(-r));
		FIX(k, "`xpt pci-assignable-list -a` lists the assignable "
		    "devices; `lspci -D` every function");
		d->c->err[0] = '\0';
		return;
	}
	check_reset(d, &p, bdf);
	check_group(d, &p, bdf);
	check_msi(d, &p, bdf);
	check_driver(d, &p, bdf);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The functions to look at: those named (BB:DD.* is every function of
 * the slot), else every device pciback holds. */
static int devices(struct doc *d, const struct xpt_pci *specs, size_t n,
		   uint32_t **ret, size_t *ret_n)
{
	uint32_t *out = calloc(XPT_PCI_MAX, sizeof(*out)), sbdf;
	size_t no = 0, i, j;

	if (!out)
		return -ENOMEM;
	if (!n)
		for (i = 0; i < d->npb && no < XPT_PCI_MAX; i++)
			out[no++] = d->pb[i].sbdf;
	for (i = 0; i < n; i++) {
		if (!specs[i].has_bdf) {
			if (xpt_dev_name_to_bdf(d->c, specs[i].name, &sbdf) < 0) {
				struct xpt_check *k = add(d, "device",
							  XPT_CHECK_FAIL,
							  specs[i].name);

				DETAIL(k, "no assignable device has the name "
				       "%s", specs[i].name);
				FIX(k, "`xpt pci-assignable-list` shows the "
				    "names; `xpt pci-assignable-add -n %s "
				    "BDF` gives one", specs[i].name);
				d->c->err[0] = '\0';
				continue;
			}
			out[no++] = sbdf;
		} else if (specs[i].func_mask == XPT_FUNC_ALL) {
			size_t before = no;

			for (j = 0; j < d->nall && no < XPT_PCI_MAX; j++)
				if ((d->all[j] >> 3) == (specs[i].sbdf >> 3))
					out[no++] = d->all[j];
			if (no == before)
				out[no++] = specs[i].sbdf;	/* reported */
		} else {
			out[no++] = specs[i].sbdf;
		}
		if (no >= XPT_PCI_MAX)
			break;
	}
	qsort(out, no, sizeof(*out), cmp_u32);
	for (i = j = 0; i < no; i++)
		if (!j || out[j - 1] != out[i])
			out[j++] = out[i];
	*ret = out;
	*ret_n = j;
	return 0;
}

const char *xpt_check_status_name(enum xpt_check_status s)
{
	static const char *const names[] = {
		[XPT_CHECK_PASS] = "PASS", [XPT_CHECK_WARN] = "WARN",
		[XPT_CHECK_FAIL] = "FAIL", [XPT_CHECK_SKIP] = "SKIP",
	};

	return s <= XPT_CHECK_SKIP ? names[s] : "?";
}

int xpt_doctor_run(struct xpt_ctx *c, const struct xpt_pci *specs,
		   size_t nspecs, struct xpt_check **ret, size_t *ret_n)
{
	struct doc d = { .c = c };
	uint32_t *devs = NULL;
	size_t ndevs = 0, i;
	int r;

	if (!c->pf && (r = xpt_ctx_set_platform(c, NULL)) < 0)
		return r;
	d.model = !strcmp(c->pf->name, "model");
	d.max = DOCTOR_ROWS;
	d.v = calloc(d.max, sizeof(*d.v));
	d.pb = calloc(XPT_PB_MAX, sizeof(*d.pb));
	d.all = calloc(XPT_PCI_MAX, sizeof(*d.all));
	if (!d.v || !d.pb || !d.all) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "doctor: out of memory");
		goto out;
	}
	check_hypervisor(&d);
	check_store(&d);
	read_console(&d);
	check_iommu(&d);
	check_intremap(&d);
	check_pciback(&d);
	check_leftovers(&d);
	d.pb_ok = c->pf->pb_list(c, d.pb, XPT_PB_MAX, &d.npb) == 0;
	if (!d.pb_ok)
		d.npb = 0;
	if (!d.hv_ok && d.model) {
		struct xpt_check *k = add(&d, "device", XPT_CHECK_SKIP,
					  "devices");

		DETAIL(k, "the modelled host's devices are the hypervisor's, "
		       "which does not answer");
		FIX(k, "see the hypervisor check above");
	} else {
		if (c->pf->pci_list(c, d.all, XPT_PCI_MAX, &d.nall) < 0)
			d.nall = 0;
		r = devices(&d, specs, nspecs, &devs, &ndevs);
		if (r < 0) {
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "doctor: out of "
				     "memory");
			goto out;
		}
		for (i = 0; i < ndevs; i++)
			check_device(&d, devs[i]);
		if (!ndevs && !nspecs) {
			struct xpt_check *k = add(&d, "device", XPT_CHECK_SKIP,
						  "devices");

			DETAIL(k, "pciback holds no device; name one to check "
			       "it (`xpt doctor BDF`)");
			FIX(k, "`xpt pci-assignable-add BDF` makes one "
			    "assignable");
		}
	}
	c->err[0] = '\0';
	if (d.oom) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "doctor: out of memory "
			     "after %zu checks", d.n);
		goto out;
	}
	*ret = d.v;
	*ret_n = d.n;
	d.v = NULL;
	r = 0;
out:
	free(devs);
	free(d.v);
	free(d.pb);
	free(d.all);
	return r;
}
