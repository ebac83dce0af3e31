// SPDX-License-Identifier: MIT
/*
 * End-to-end: the modelled host.  Each case starts xpt-xenstored,
 * xpt-hypervisor (host file tests/e2e/host.txt), xpt-pciback and guests
 * (xpt-guest) in a fresh run directory, plays dom0's toolstack itself
 * (domain create, XS_INTRODUCE, permissions, assignment) and writes the
 * PCI xenstore nodes with the libxl 4.17 peer fixture
 * (tests/peers/libxl417), then asks the guests what they see on their
 * query sockets.  Waits are event-driven (xenstore watches, inotify,
 * pidfds) and bounded; nothing sleeps.
 *
 * The domain cases (6 on) run the xpt CLI ($XPT_E2E_XPT, which meson
 * sets) on the same host, as a user would, and check its output and exit
 * codes.
 *
 * usage: e2e XENSTORED HYPERVISOR PCIBACK GUEST FIXTURE HOSTFILE [CASE...]
 * Prints one line per case and "e2e: N passed, N failed".  Set
 * XPT_E2E_KEEP=1 to keep run directories, XPT_E2E_VERBOSE=1 for -v logs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/pciif.h>

#include "hvclient.h"
#include "../lib/harness.h"

/* the devices of host.txt */
#define A HV_SBDF(0, 3, 0, 0)	/* MSI-X 8, FLR */
#define B HV_SBDF(0, 4, 0, 0)	/* MSI-X 5, FLR */
#define C HV_SBDF(0, 5, 0, 0)	/* MSI-X 16, no reset */
#define D HV_SBDF(0, 6, 0, 0)	/* MSI only */

static const char *bin_xenstored, *bin_hv, *bin_pciback, *bin_guest,
	*bin_fixture, *hostfile, *bin_xpt;

struct env {
	struct e2e_run run;	/* the run directory and its processes */
	struct xs_handle *xs;
	struct hv_client *hv;
};

static char *bdf(uint32_t sbdf)
{
	static char buf[4][16];
	static unsigned int i;

	i = (i + 1) % 4;
	hv_format_bdf(sbdf, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* processes */

/* host: the host file's text, or NULL for tests/e2e/host.txt */
static bool env_start_host(struct env *e, bool historic, const char *host)
{
	const char *argv[12];
	char path[256];
	int n = 0;
	bool verbose = getenv("XPT_E2E_VERBOSE") != NULL;

	memset(e, 0, sizeof(*e));
	if (!e2e_run_start(&e->run, "e2e", bin_xenstored))
		return false;

	snprintf(path, sizeof(path), "%s/host.txt", e->run.dir);
	if (host) {
		FILE *f = fopen(path, "we");

		CHECK(e, f && fputs(host, f) >= 0 && fclose(f) == 0,
		      "%s: cannot write", path);
	}
	if (!e2e_start_hypervisor(&e->run, bin_hv, host ? path : hostfile,
				  verbose))
		return false;
	argv[n++] = bin_pciback;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	if (historic)
		argv[n++] = "--historic";
	if (verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	if (!e2e_start_daemon(&e->run, "pciback", argv, "pciback/pciback.pid"))
		return false;

	snprintf(path, sizeof(path), "%s/socket", e->run.dir);
	setenv("XENSTORED_PATH", path, 1);
	e->xs = xs_open(0);
	if (!e->xs)
		return fail(e, "xs_open: %s", strerror(errno));
	n = hv_open(e->run.dir, &e->hv);
	if (n < 0)
		return fail(e, "hv_open: %s", strerror(-n));
	return true;
}

static bool env_start(struct env *e, bool historic)
{
	return env_start_host(e, historic, NULL);
}

/* Guest kernels xpt started (detached, not in e->run.proc): their pid files. */
static void kill_xpt_guests(struct env *e)
{
	char path[512], buf[32];
	struct dirent *de;
	unsigned int i;
	DIR *d;
	long pid;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/guest", e->run.dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (!strstr(de->d_name, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/guest/%s", e->run.dir,
			 de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
		for (i = 0; i < e->run.nproc && e->run.proc[i].pid != pid; i++)
			;
		if (pid > 1 && i == e->run.nproc)
			kill((pid_t)pid, SIGKILL);
	}
	if (d)
		closedir(d);
}

static void env_stop(struct env *e, bool failed)
{
	char cmd[300];
	unsigned int i;

	if (e->xs)
		xs_close(e->xs);
	if (e->hv)
		hv_close(e->hv);
	kill_xpt_guests(e);
	/* guests and fixtures first, xenstored last */
	e2e_run_stop(&e->run);
	for (i = 0; failed && i < e->run.nproc; i++) {
		snprintf(cmd, sizeof(cmd), "echo '--- %s log:'; tail -n 25 "
			 "%s/%s.log", e->run.proc[i].name, e->run.dir,
			 e->run.proc[i].name);
		if (system(cmd) != 0)
			break;
	}
	e2e_run_remove(&e->run, getenv("XPT_E2E_KEEP") != NULL);
}

/* xenstore as dom0 */

static char *xs_get(struct env *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *xs_get(struct env *e, const char *fmt, ...)
{
	char path[256];
	unsigned int len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(e->xs, XBT_NULL, path, &len);
}

static int be_state(struct env *e, unsigned int domid)
{
	char *v = xs_get(e, "/local/domain/0/backend/pci/%u/0/state", domid);
	int s = v ? atoi(v) : -1;

	free(v);
	return s;
}

static int fe_state(struct env *e, unsigned int domid)
{
	char *v = xs_get(e, "/local/domain/%u/device/pci/0/state", domid);
	int s = v ? atoi(v) : -1;

	free(v);
	return s;
}

/* Re-evaluate pred whenever anything under /local/domain changes, and
 * at least every 50 ms, until the deadline. */
static bool wait_until(struct env *e, bool (*pred)(struct env *, void *),
		       void *arg, const char *what)
{
	int64_t deadline = e2e_now_ms() + WAIT_MS;
	bool ok = false;
	char **w;

	if (!xs_watch(e->xs, "/local/domain", "wait"))
		return fail(e, "watch: %s", strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(e->xs), .events = POLLIN };
		int64_t left;

		while ((w = xs_check_watch(e->xs)))
			free(w);
		if (pred(e, arg)) {
			ok = true;
			break;
		}
		left = deadline - e2e_now_ms();
		if (left <= 0)
			break;
		/* re-ask at least every 50 ms: a guest's reaction to the
		 * last write need not produce another one */
		poll(&pfd, 1, left < 50 ? (int)left : 50);
	}
	xs_unwatch(e->xs, "/local/domain", "wait");
	if (!ok)
		fail(e, "timed out waiting for %s", what);
	return ok;
}

struct states { unsigned int domid; int fe, be; };

static bool states_are(struct env *e, void *arg)
{
	struct states *s = arg;

	return (s->fe < 0 || fe_state(e, s->domid) == s->fe) &&
	       (s->be < 0 || be_state(e, s->domid) == s->be);
}

static bool wait_states(struct env *e, unsigned int domid, int fe, int be)
{
	struct states s = { domid, fe, be };
	char what[96];

	snprintf(what, sizeof(what), "dom%u frontend %d backend %d", domid,
		 fe, be);
	if (wait_until(e, states_are, &s, what))
		return true;
	e->run.why[0] = '\0';
	return fail(e, "timed out waiting for %s (now frontend %d backend %d)",
		    what + 0, fe_state(e, domid), be_state(e, domid));
}

/* the pciback control socket */

/* Seize and quarantine, as `xl pci-assignable-add` does. */
static bool assignable(struct env *e, uint32_t sbdf)
{
	int r;

	if (!e2e_pciback_ok(&e->run, "seize %s", bdf(sbdf)))
		return false;
	r = hv_assign_device(e->hv, HV_DOMID_IO, sbdf);
	CHECK(e, r == 0, "quarantine %s: %s", bdf(sbdf), strerror(-r));
	return true;
}

/* the toolstack's domain */

static bool domain_create(struct env *e, unsigned int *ret_domid)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { 0, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { 0, XS_PERM_NONE } };
	static const char *const rwdirs[] = { "data", "error", "control" };
	unsigned int domid, i;
	char path[128];
	int r;

	r = hv_domain_create(e->hv, HV_DOMF_PASSTHROUGH, "e2e", 262144, 1,
			     &domid);
	CHECK(e, r == 0, "domain create: %s", strerror(-r));
	CHECK(e, xs_introduce_domain(e->xs, domid, 0, 1),
	      "introduce dom%u: %s", domid, strerror(errno));
	ro[1].id = domid;
	rw[0].id = domid;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	CHECK(e, xs_mkdir(e->xs, XBT_NULL, path) &&
	      xs_set_permissions(e->xs, XBT_NULL, path, ro, 2), "mkdir %s", path);
	snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
	xs_mkdir(e->xs, XBT_NULL, path);
	xs_set_permissions(e->xs, XBT_NULL, path, ro, 2);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/%s", domid,
			 rwdirs[i]);
		xs_mkdir(e->xs, XBT_NULL, path);
		xs_set_permissions(e->xs, XBT_NULL, path, rw, 1);
	}
	*ret_domid = domid;
	return true;
}

/* libxl's pci_add_dm_done for a PV guest: permissions, INTx pirq, then
 * the IOMMU.  Returns the assignment's error. */
static int domain_assign(struct env *e, unsigned int domid, uint32_t sbdf)
{
	struct hv_pci_dev info;
	unsigned int i;
	int r, pirq;

	r = hv_pci_info(e->hv, sbdf, &info);
	if (r < 0)
		return r;
	for (i = 0; i < 6; i++) {
		if (!info.bar[i].size)
			continue;
		if (info.bar[i].flags & HV_BAR_IO)
			r = hv_ioport_permission(e->hv, domid, info.bar[i].addr,
						 info.bar[i].size, 1);
		else
			r = hv_iomem_permission(e->hv, domid,
						info.bar[i].addr >> 12,
						(info.bar[i].size + 4095) >> 12, 1);
		if (r < 0)
			return r;
	}
	if (info.intx_pin) {
		r = hv_map_pirq(e->hv, domid, HV_IRQ_INTX, sbdf, 0, &pirq);
		if (r == 0)
			r = hv_irq_permission(e->hv, domid, pirq, 1);
		if (r < 0)
			return r;
	}
	return hv_assign_device(e->hv, domid, sbdf);
}

static bool run_fixture(struct env *e, const char *mode, unsigned int domid,
			uint32_t d1, uint32_t d2)
{
	char dom[16], b1[16], b2[16];
	const char *argv[10];
	struct e2e_proc *p;
	int n = 0;

	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(b1, sizeof(b1), "%s", bdf(d1));
	snprintf(b2, sizeof(b2), "%s", bdf(d2));
	argv[n++] = bin_fixture;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	argv[n++] = mode;
	argv[n++] = dom;
	argv[n++] = b1;
	if (d2 != UINT32_MAX)
		argv[n++] = b2;
	argv[n] = NULL;
	p = e2e_spawn(&e->run, "fixture", argv);
	CHECK(e, p, "cannot start the fixture");
	CHECK(e, e2e_proc_wait(p) == 0,
	      "fixture %s dom%u %s failed (see fixture.log)", mode, domid, b1);
	return true;
}

static bool guest_start(struct env *e, unsigned int domid, bool hold)
{
	char dom[16], path[256], name[32];
	const char *argv[10];
	struct e2e_proc *p;
	int n = 0;

	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(name, sizeof(name), "guest%u", domid);
	argv[n++] = bin_guest;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	argv[n++] = "--domid";
	argv[n++] = dom;
	argv[n++] = "-v";
	if (hold)
		argv[n++] = "--hold-backend";
	argv[n] = NULL;
	p = e2e_spawn(&e->run, name, argv);
	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, domid);
	CHECK(e, p, "cannot start xpt-guest");
	return e2e_wait_file(&e->run, path, p);
}

static struct e2e_proc *find_proc(struct env *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->run.nproc; i++)
		if (e->run.proc[i].pid > 0 &&
		    !strcmp(e->run.proc[i].name, name))
			return &e->run.proc[i];
	return NULL;
}

/* the guest's query socket */

static const struct e2e_qdev *qfind(const struct e2e_qstatus *s,
				     const char *host)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].host, host))
			return &s->d[i];
	return NULL;
}

struct ndev { unsigned int domid, n; };

static bool guest_has_n(struct env *e, void *arg)
{
	struct ndev *w = arg;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, w->domid, &s) && s.n == w->n &&
	     s.fe == 4 && fe_state(e, w->domid) == 4 &&
	     be_state(e, w->domid) == 4;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

static bool guest_gone(struct env *e, void *arg)
{
	unsigned int domid = *(unsigned int *)arg;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, domid, &s) && s.n == 0 && s.fe == 0;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

/* Connected on both sides with n devices seen by the guest. */
static bool wait_guest_devs(struct env *e, unsigned int domid, unsigned int n)
{
	struct ndev w = { domid, n };
	struct e2e_qstatus s;
	char what[64];

	snprintf(what, sizeof(what), "dom%u to see %u device(s)", domid, n);
	if (wait_until(e, guest_has_n, &w, what))
		return true;
	e2e_guest_status(&e->run, domid, &s);
	e->run.why[0] = '\0';
	return fail(e, "dom%u sees %u device(s), wanted %u (frontend %d, "
		    "backend %d)", domid, s.n, n, fe_state(e, domid),
		    be_state(e, domid));
}

static void parse_counts(const char *s, unsigned long long *c, unsigned int n)
{
	unsigned int i;
	char *end;

	for (i = 0; i < n; i++) {
		c[i] = strtoull(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
	}
}

/* Raise MSI-X entry i i+1 times; the guest must count exactly that on
 * vector i, on top of what it counted before. */
static bool check_irqs(struct env *e, unsigned int domid, uint32_t sbdf,
		       unsigned int nvec)
{
	unsigned long long before[16] = { 0 }, after[16] = { 0 };
	struct e2e_qstatus s;
	const struct e2e_qdev *d;
	unsigned int i, j;
	int r, delivered;

	CHECK(e, e2e_guest_status(&e->run, domid, &s), "status");
	d = qfind(&s, bdf(sbdf));
	CHECK(e, d, "dom%u does not see %s", domid, bdf(sbdf));
	CHECK(e, !strcmp(d->irq, "msix") && !strcmp(d->driver, "bound") &&
	      d->vectors == nvec,
	      "dom%u %s: driver=%s irq=%s vectors=%u, wanted bound msix %u",
	      domid, bdf(sbdf), d->driver, d->irq, d->vectors, nvec);
	parse_counts(d->counts, before, nvec);
	for (i = 0; i < nvec; i++)
		for (j = 0; j <= i; j++) {
			r = hv_pci_raise_irq(e->hv, sbdf, HV_IRQ_MSIX, i,
					     &delivered);
			CHECK(e, r == 0 && delivered, "raise %s entry %u: %s, "
			      "delivered %d", bdf(sbdf), i, strerror(-r),
			      delivered);
		}
	CHECK(e, e2e_guest_status(&e->run, domid, &s), "status");
	d = qfind(&s, bdf(sbdf));
	CHECK(e, d, "dom%u lost %s", domid, bdf(sbdf));
	parse_counts(d->counts, after, nvec);
	for (i = 0; i < nvec; i++)
		CHECK(e, after[i] == before[i] + i + 1, "dom%u %s vector %u: "
		      "%llu interrupts counted, wanted %llu", domid, bdf(sbdf),
		      i, after[i], before[i] + i + 1);
	return true;
}

/* A guest for one device: create, assign, cold-plug, unpause, boot. */
static bool boot_guest(struct env *e, const char *mode, uint32_t d1,
		       uint32_t d2, bool hold, unsigned int *ret_domid)
{
	unsigned int domid;
	int r;

	if (!domain_create(e, &domid))
		return false;
	r = domain_assign(e, domid, d1);
	CHECK(e, r == 0, "assign %s to dom%u: %s", bdf(d1), domid, strerror(-r));
	if (d2 != UINT32_MAX) {
		r = domain_assign(e, domid, d2);
		CHECK(e, r == 0, "assign %s to dom%u: %s", bdf(d2), domid,
		      strerror(-r));
	}
	if (!run_fixture(e, mode, domid, d1, d2))
		return false;
	r = hv_domain_unpause(e->hv, domid);
	CHECK(e, r == 0, "unpause dom%u: %s", domid, strerror(-r));
	if (!guest_start(e, domid, hold))
		return false;
	*ret_domid = domid;
	return true;
}

/* 1. libxl 4.17's per-device cold-plug against the current backend */
static bool case_coldplug(struct env *e)
{
	unsigned int domid;
	struct e2e_qstatus s;
	const struct e2e_qdev *a, *b;
	char reply[256];

	if (!env_start(e, false) || !assignable(e, A) || !assignable(e, B) ||
	    !boot_guest(e, "coldplug-perdevice", A, B, false, &domid) ||
	    !wait_guest_devs(e, domid, 2) ||
	    !e2e_guest_status(&e->run, domid, &s))
		return false;
	a = qfind(&s, bdf(A));
	b = qfind(&s, bdf(B));
	CHECK(e, a && b, "guest does not see both host devices");
	CHECK(e, a->vendor == 0x8086 && a->device == 0x1572 &&
	      a->class == 0x020000 && b->device == 0x1533,
	      "identity: %04x:%04x class %06x", a->vendor, a->device, a->class);
	if (!check_irqs(e, domid, A, 4) || !check_irqs(e, domid, B, 4))
		return false;
	/* nvme's probe: enable, disable, enable again */
	if (!e2e_guest_query(&e->run, domid, "reprobe", reply, sizeof(reply)))
		return false;
	return check_irqs(e, domid, A, 4);
}

/* 2. the historic backend: per-device writes lose the second device
 *    (docs/protocol.md §13 item 1), one transaction does not */
static bool case_historic(struct env *e)
{
	unsigned int domid;
	struct e2e_qstatus s;
	char reply[256];

	if (!env_start(e, true) || !assignable(e, A) || !assignable(e, B) ||
	    !boot_guest(e, "coldplug-perdevice", A, B, false, &domid) ||
	    !wait_guest_devs(e, domid, 1) ||
	    !e2e_guest_status(&e->run, domid, &s))
		return false;
	CHECK(e, qfind(&s, bdf(A)) && !qfind(&s, bdf(B)),
	      "historic per-device: wanted only %s", bdf(A));
	/* Linux 6.1's refusal of a second MSI-X enable: INTx */
	if (!e2e_guest_query(&e->run, domid, "reprobe", reply, sizeof(reply)) ||
	    !e2e_guest_status(&e->run, domid, &s))
		return false;
	CHECK(e, s.n == 1 && !strcmp(s.d[0].irq, "intx") && s.d[0].vectors == 1,
	      "historic reprobe: irq=%s, wanted intx", s.n ? s.d[0].irq : "?");
	{
		unsigned long long before = s.d[0].count;
		int r, delivered;

		r = hv_pci_raise_irq(e->hv, A, HV_IRQ_INTX, 0, &delivered);
		CHECK(e, r == 0 && delivered, "raise INTx: %s, delivered %d",
		      strerror(-r), delivered);
		CHECK(e, e2e_guest_status(&e->run, domid, &s) && s.n == 1 &&
		      s.d[0].count == before + 1, "INTx not counted");
	}
	env_stop(e, false);

	if (!env_start(e, true) || !assignable(e, A) || !assignable(e, B) ||
	    !boot_guest(e, "coldplug-onetxn", A, B, false, &domid) ||
	    !wait_guest_devs(e, domid, 2))
		return false;
	return check_irqs(e, domid, B, 4);
}

/* 3. hot-add, hot-remove, and the missed-Connected case */
static bool case_hotplug(struct env *e)
{
	unsigned int domid, dom2;
	struct e2e_qstatus s;

	if (!env_start(e, false) || !assignable(e, A) || !assignable(e, B) ||
	    !assignable(e, C) || !assignable(e, D) ||
	    !boot_guest(e, "coldplug-onetxn", A, UINT32_MAX, false, &domid) ||
	    !wait_guest_devs(e, domid, 1))
		return false;
	CHECK(e, domain_assign(e, domid, B) == 0, "assign %s", bdf(B));
	if (!run_fixture(e, "hotadd", domid, B, UINT32_MAX) ||
	    !wait_guest_devs(e, domid, 2) || !check_irqs(e, domid, B, 4))
		return false;
	if (!run_fixture(e, "hotremove", domid, A, UINT32_MAX) ||
	    !wait_guest_devs(e, domid, 1) ||
	    !e2e_guest_status(&e->run, domid, &s))
		return false;
	CHECK(e, qfind(&s, bdf(B)) && !qfind(&s, bdf(A)),
	      "after hot-remove of %s the guest sees %s", bdf(A), s.d[0].host);
	if (!check_irqs(e, domid, B, 4))
		return false;

	/* missed Connected: the guest publishes (3), pciback connects (4),
	 * the toolstack hot-adds (7) before the guest looked at 4 */
	if (!boot_guest(e, "coldplug-onetxn", C, UINT32_MAX, true, &dom2) ||
	    !wait_states(e, dom2, 3, 4))
		return false;
	CHECK(e, domain_assign(e, dom2, D) == 0, "assign %s", bdf(D));
	if (!run_fixture(e, "hotadd", dom2, D, UINT32_MAX) ||
	    !wait_states(e, dom2, 3, 7))
		return false;
	{
		char reply[64];

		if (!e2e_guest_query(&e->run, dom2, "resume", reply,
				     sizeof(reply)))
			return false;
	}
	if (!wait_guest_devs(e, dom2, 2) ||
	    !e2e_guest_status(&e->run, dom2, &s))
		return false;
	CHECK(e, qfind(&s, bdf(C)) && qfind(&s, bdf(D)),
	      "missed Connected: the guest lacks a device");
	if (!check_irqs(e, dom2, C, 4))
		return false;

	/* removing the last device removes both directories (libxl's
	 * device_destroy): the guest lets go of everything */
	if (!run_fixture(e, "hotremove", dom2, D, UINT32_MAX) ||
	    !wait_guest_devs(e, dom2, 1) ||
	    !run_fixture(e, "hotremove", dom2, C, UINT32_MAX))
		return false;
	return wait_until(e, guest_gone, &dom2, "the guest to drop its frontend");
}

/* 4. MSI-X after re-assignment: the mask-all bit left set refuses the
 *    next assignment until a reset */
static bool case_reassign(struct env *e)
{
	unsigned int dom1, dom2;
	struct hv_msix_state ms;
	uint32_t cmd;
	int r;

	if (!env_start(e, false) || !assignable(e, A) ||
	    !boot_guest(e, "coldplug-onetxn", A, UINT32_MAX, false, &dom1) ||
	    !wait_guest_devs(e, dom1, 1) || !check_irqs(e, dom1, A, 4))
		return false;
	/* the device stops decoding memory, then the domain dies */
	r = hv_pci_conf_read(e->hv, A, 4, 2, &cmd);
	if (r == 0)
		r = hv_pci_conf_write(e->hv, A, 4, 2, cmd & ~2u);
	CHECK(e, r == 0, "memory decoding off: %s", strerror(-r));
	{
		char name[32];
		struct e2e_proc *g1;

		snprintf(name, sizeof(name), "guest%u", dom1);
		g1 = find_proc(e, name);
		if (g1)
			e2e_proc_stop(g1, SIGKILL);
	}
	r = hv_domain_destroy(e->hv, dom1);
	CHECK(e, r == 0, "destroy dom%u: %s", dom1, strerror(-r));
	r = hv_msix_state(e->hv, A, &ms);
	CHECK(e, r == 0 && ms.hw_maskall, "after destroy: hw_maskall %d (%s)",
	      ms.hw_maskall, strerror(-r));

	if (!domain_create(e, &dom2))
		return false;
	r = domain_assign(e, dom2, A);
	CHECK(e, r == -EBUSY, "assign without reset: %s, wanted EBUSY",
	      r ? strerror(-r) : "success");
	/* the toolstack's cleanup of dom1: backend gone, pciback releases */
	{
		char path[96];

		snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u",
			 dom1);
		xs_rm(e->xs, XBT_NULL, path);
		snprintf(path, sizeof(path), "/local/domain/%u", dom1);
		xs_rm(e->xs, XBT_NULL, path);
	}
	xs_release_domain(e->xs, dom1);
	if (!e2e_pciback_ok(&e->run, "reset %s", bdf(A)))
		return false;
	r = hv_msix_state(e->hv, A, &ms);
	CHECK(e, r == 0 && !ms.hw_maskall, "after reset: hw_maskall still set");
	r = domain_assign(e, dom2, A);
	CHECK(e, r == 0, "assign after reset: %s", strerror(-r));
	if (!run_fixture(e, "coldplug-onetxn", dom2, A, UINT32_MAX))
		return false;
	r = hv_domain_unpause(e->hv, dom2);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	return guest_start(e, dom2, false) && wait_guest_devs(e, dom2, 1) &&
	       check_irqs(e, dom2, A, 4);
}

/* a guest played by the test, to send what xpt-guest never would */
struct bad {
	struct xs_handle *xs;
	struct hv_client *hv;
	unsigned int domid;
	int page_fd, port_fd;
	struct xen_pci_sharedinfo *sh;
	uint32_t gref;
	unsigned int port;
};

static bool bad_open(struct env *e, struct bad *g, unsigned int domid)
{
	char path[256];
	void *map;
	int r;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	snprintf(path, sizeof(path), "%s/domain/%u", e->run.dir, domid);
	setenv("XENSTORED_PATH", path, 1);
	g->xs = xs_open(0);
	CHECK(e, g->xs, "xs_open as dom%u", domid);
	r = hv_open_domain(e->run.dir, domid, &g->hv);
	CHECK(e, r == 0, "hv as dom%u: %s", domid, strerror(-r));
	r = hv_page_alloc(&g->page_fd, &map);
	CHECK(e, r == 0, "page: %s", strerror(-r));
	g->sh = map;
	r = hv_grant_page(g->hv, 0, g->page_fd, 0, &g->gref);
	CHECK(e, r == 0, "grant: %s", strerror(-r));
	r = hv_evtchn_alloc_unbound(g->hv, 0, &g->port);
	if (r == 0)
		r = hv_evtchn_fd(g->hv, g->port, &g->port_fd);
	CHECK(e, r == 0, "evtchn: %s", strerror(-r));
	return true;
}

static void bad_close(struct bad *g)
{
	if (g->xs)
		xs_close(g->xs);
	if (g->hv)
		hv_close(g->hv);
	if (g->page_fd > 0)
		close(g->page_fd);
	if (g->port_fd > 0)
		close(g->port_fd);
}

static bool bad_publish(struct env *e, struct bad *g, const char *ref,
			const char *port, const char *magic)
{
	char dir[96], path[160];
	xs_transaction_t t;

	snprintf(dir, sizeof(dir), "/local/domain/%u/device/pci/0", g->domid);
	do {
		t = xs_transaction_start(g->xs);
		snprintf(path, sizeof(path), "%s/pci-op-ref", dir);
		xs_write(g->xs, t, path, ref, strlen(ref));
		snprintf(path, sizeof(path), "%s/event-channel", dir);
		xs_write(g->xs, t, path, port, strlen(port));
		snprintf(path, sizeof(path), "%s/magic", dir);
		xs_write(g->xs, t, path, magic, strlen(magic));
	} while (!xs_transaction_end(g->xs, t, false) && errno == EAGAIN);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(e, xs_write(g->xs, XBT_NULL, path, "3", 1),
	      "dom%u: write state: %s", g->domid, strerror(errno));
	return true;
}

/* one pci_op; returns op->err, or 1 when the backend did not answer */
static int bad_op(struct bad *g, uint32_t cmd, uint32_t bus, uint32_t devfn,
		  int offset, int size, uint32_t value, uint32_t *ret_value)
{
	struct xen_pci_op op = {
		.cmd = cmd, .bus = bus, .devfn = devfn, .offset = offset,
		.size = size, .value = value,
	};
	int64_t deadline = e2e_now_ms() + 3000;
	uint64_t n;

	memcpy(&g->sh->op, &op, sizeof(op));
	__atomic_fetch_or(&g->sh->flags, XEN_PCIF_active, __ATOMIC_SEQ_CST);
	hv_evtchn_send(g->hv, g->port);
	while (__atomic_load_n(&g->sh->flags, __ATOMIC_ACQUIRE) &
	       XEN_PCIF_active) {
		struct pollfd pfd = { .fd = g->port_fd, .events = POLLIN };
		int64_t left = deadline - e2e_now_ms();

		if (left <= 0)
			return 1;
		if (poll(&pfd, 1, (int)left) > 0)
			hv_evtchn_ack(g->port_fd, &n);
	}
	if (ret_value)
		*ret_value = g->sh->op.value;
	return g->sh->op.err;
}

static bool error_node(struct env *e, void *arg)
{
	unsigned int domid = *(unsigned int *)arg;
	char *v = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error",
			 domid);
	bool ok = v != NULL && be_state(e, domid) == 5;

	free(v);
	return ok;
}

/* the good guest still works: devices, interrupts */
static bool good_guest_ok(struct env *e, unsigned int domid)
{
	struct e2e_qstatus s;
	const struct e2e_qdev *d;
	unsigned long long before;
	int r, delivered;

	CHECK(e, e2e_guest_status(&e->run, domid, &s) && s.n == 1 && s.fe == 4,
	      "the good guest lost its device");
	d = qfind(&s, bdf(A));
	CHECK(e, d && !strcmp(d->irq, "msix"), "the good guest's MSI-X");
	before = d->count;
	r = hv_pci_raise_irq(e->hv, A, HV_IRQ_MSIX, 0, &delivered);
	CHECK(e, r == 0 && delivered, "raise: %s", strerror(-r));
	CHECK(e, e2e_guest_status(&e->run, domid, &s) &&
	      (d = qfind(&s, bdf(A))) && d->count == before + 1,
	      "the good guest's interrupt not counted");
	return true;
}

/* 5. bad input from guests; the daemons keep serving the good one */
static bool case_badinput(struct env *e)
{
	unsigned int good, d2, d3, d4, domid;
	struct bad g2 = { .page_fd = -1 }, g3 = { .page_fd = -1 },
		   g4 = { .page_fd = -1 };
	char ref[16], port[16];
	uint32_t val = 0;
	bool ok = false;
	int err;

	if (!env_start(e, false) || !assignable(e, A) || !assignable(e, B) ||
	    !assignable(e, C) || !assignable(e, D) ||
	    !boot_guest(e, "coldplug-onetxn", A, UINT32_MAX, false, &good) ||
	    !wait_guest_devs(e, good, 1) || !check_irqs(e, good, A, 4))
		return false;

	/* dom2: a connected guest sending bogus pci_ops */
	if (!domain_create(e, &d2) || domain_assign(e, d2, B) != 0 ||
	    !run_fixture(e, "coldplug-onetxn", d2, B, UINT32_MAX) ||
	    hv_domain_unpause(e->hv, d2) != 0 || !bad_open(e, &g2, d2))
		goto out;
	snprintf(ref, sizeof(ref), "%u", g2.gref);
	snprintf(port, sizeof(port), "%u", g2.port);
	if (!bad_publish(e, &g2, ref, port, "7") || !wait_states(e, d2, 3, 4))
		goto out;
	err = bad_op(&g2, XEN_PCI_OP_conf_read, 0, 0, 0, 4, 0, &val);
	if (err || val != 0x15338086) {
		fail(e, "dom2's own device: err %d value %#x", err, val);
		goto out;
	}
	{
		static const struct {
			const char *what;
			uint32_t cmd, bus, devfn;
			int offset, size, want;
		} ops[] = {
			{ "unknown command", 99, 0, 0, 0, 4, XEN_PCI_ERR_not_implemented },
			{ "offset 4096", 0, 0, 0, 4096, 4, XEN_PCI_ERR_invalid_offset },
			{ "negative offset", 0, 0, 0, -4, 4, XEN_PCI_ERR_invalid_offset },
			{ "unaligned", 0, 0, 0, 2, 4, XEN_PCI_ERR_invalid_offset },
			{ "size 3", 0, 0, 0, 0, 3, XEN_PCI_ERR_invalid_offset },
			{ "a slot it does not own", 0, 0, 5 << 3, 0, 4, XEN_PCI_ERR_dev_not_found },
			{ "the good guest's host device", 0, 3, 0, 0, 4, XEN_PCI_ERR_dev_not_found },
			{ "write, not its device", 1, 3, 0, 4, 2, XEN_PCI_ERR_dev_not_found },
		};
		size_t i;

		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			err = bad_op(&g2, ops[i].cmd, ops[i].bus, ops[i].devfn,
				     ops[i].offset, ops[i].size, 0, NULL);
			if (err != ops[i].want) {
				fail(e, "pci_op %s: err %d, wanted %d",
				     ops[i].what, err, ops[i].want);
				goto out;
			}
		}
		err = bad_op(&g2, XEN_PCI_OP_enable_msix, 0, 0, 0, 0, 129, NULL);
		if (err == 0 || err == 1) {
			fail(e, "enable_msix with 129 vectors: err %d", err);
			goto out;
		}
	}
	err = bad_op(&g2, XEN_PCI_OP_conf_read, 0, 0, 0, 4, 0, &val);
	if (err || val != 0x15338086 || be_state(e, d2) != 4) {
		fail(e, "dom2 after bogus ops: err %d, backend %d", err,
		     be_state(e, d2));
		goto out;
	}

	/* dom3: garbage in its frontend nodes */
	if (!domain_create(e, &d3) || domain_assign(e, d3, C) != 0 ||
	    !run_fixture(e, "coldplug-onetxn", d3, C, UINT32_MAX) ||
	    hv_domain_unpause(e->hv, d3) != 0 || !bad_open(e, &g3, d3))
		goto out;
	snprintf(ref, sizeof(ref), "%u", g3.gref);
	domid = d3;
	if (!bad_publish(e, &g3, ref, "banana", "8") ||
	    !wait_until(e, error_node, &domid, "dom3's backend to fail"))
		goto out;

	/* dom4: a grant reference that is not a grant to dom0 (it granted
	 * that page to the good guest) */
	if (!domain_create(e, &d4) || domain_assign(e, d4, D) != 0 ||
	    !run_fixture(e, "coldplug-onetxn", d4, D, UINT32_MAX) ||
	    hv_domain_unpause(e->hv, d4) != 0 || !bad_open(e, &g4, d4))
		goto out;
	{
		uint32_t other;

		if (hv_grant_page(g4.hv, good, g4.page_fd, 0, &other) < 0) {
			fail(e, "dom4 cannot grant to dom%u", good);
			goto out;
		}
		snprintf(ref, sizeof(ref), "%u", other);
	}
	snprintf(port, sizeof(port), "%u", g4.port);
	domid = d4;
	if (!bad_publish(e, &g4, ref, port, "7") ||
	    !wait_until(e, error_node, &domid, "dom4's backend to fail"))
		goto out;

	/* nothing else changed */
	err = bad_op(&g2, XEN_PCI_OP_conf_read, 0, 0, 0, 4, 0, &val);
	if (err || val != 0x15338086) {
		fail(e, "dom2 after the others: err %d", err);
		goto out;
	}
	{
		char reply[512];

		ok = good_guest_ok(e, good) &&
		     e2e_pciback(&e->run, "list", reply, sizeof(reply));
		if (ok && !strstr(reply, "exported-to="))
			ok = fail(e, "pciback list: %s", reply);
	}
out:
	bad_close(&g2);
	bad_close(&g3);
	bad_close(&g4);
	return ok;
}

/* the xpt CLI */

struct run {
	pid_t pid;
	int fd;			/* its stdout and stderr */
	char out[65536];	/* list --json of 71 domains */
	size_t n;
};

/* xpt -R DIR args...: started, not waited for. */
static bool xpt_start(struct env *e, struct run *r, const char *const args[])
{
	const char *argv[16];
	int p[2], n = 0;

	CHECK(e, bin_xpt, "XPT_E2E_XPT is not set: the path of the xpt "
	      "binary (meson sets it)");
	argv[n++] = bin_xpt;
	argv[n++] = "-R";
	argv[n++] = e->run.dir;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	CHECK(e, pipe2(p, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	r->pid = fork();
	if (r->pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	r->fd = p[0];
	CHECK(e, r->pid > 0, "fork: %s", strerror(errno));
	return true;
}

/* Its output (until EOF) and exit code; -1 if it ran past WAIT_MS. */
static int xpt_finish(struct run *r)
{
	int64_t deadline = e2e_now_ms() + WAIT_MS;
	int st = 0;
	ssize_t got;

	for (;;) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		int64_t left = deadline - e2e_now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		got = read(r->fd, r->out + r->n, sizeof(r->out) - 1 - r->n);
		if (got <= 0)
			break;
		r->n += (size_t)got;
		if (r->n == sizeof(r->out) - 1)
			break;
	}
	r->out[r->n] = '\0';
	close(r->fd);
	if (e2e_now_ms() >= deadline)
		kill(r->pid, SIGKILL);
	if (waitpid(r->pid, &st, 0) != r->pid || !WIFEXITED(st))
		return -1;
	return e2e_now_ms() >= deadline ? -1 : WEXITSTATUS(st);
}

#define XPT(e, r, ...) xpt_run(e, r, (const char *const[]){ __VA_ARGS__, NULL })

static int xpt_run(struct env *e, struct run *r, const char *const args[])
{
	return xpt_start(e, r, args) ? xpt_finish(r) : -1;
}

static unsigned int count_of(const char *hay, const char *needle)
{
	unsigned int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static bool write_cfg(struct env *e, const char *name, const char *text,
		      char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", e->run.dir, name);
	f = fopen(path, "we");
	CHECK(e, f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	CHECK(e, fclose(f) == 0, "%s: %s", path, strerror(errno));
	return true;
}

/* 6. more domains than one page of the hypervisor's list (64): every one
 *    listed, resolved by name and unique */
static bool case_many_domains(struct env *e)
{
	static struct run r;
	enum { N = 70 };
	char cfg[256], name[32], want[64];
	unsigned int i;
	int rc;

	if (!env_start(e, false) ||
	    !write_cfg(e, "many.cfg", "memory = 64\n", cfg, sizeof(cfg)))
		return false;
	for (i = 1; i <= N; i++) {
		snprintf(name, sizeof(name), "name=\"d%u\"", i);
		rc = XPT(e, &r, "create", "-p", cfg, name);
		CHECK(e, rc == 0, "create d%u: rc %d: %s", i, rc, r.out);
	}
	rc = XPT(e, &r, "list", "--json");
	CHECK(e, rc == 0, "list: rc %d: %s", rc, r.out);
	CHECK(e, count_of(r.out, "\"domid\"") == N + 1,
	      "list --json shows %u domains, not %u", count_of(r.out, "\"domid\""),
	      N + 1);
	for (i = 1; i <= N; i++) {
		snprintf(want, sizeof(want), "\"name\": \"d%u\"", i);
		CHECK(e, strstr(r.out, want), "list lacks d%u", i);
	}
	rc = XPT(e, &r, "list");
	CHECK(e, rc == 0 && count_of(r.out, " paused ") == N,
	      "list: rc %d, %u paused", rc, count_of(r.out, " paused "));
	/* names past the first page resolve to their own domain */
	rc = XPT(e, &r, "pci-list", "d70");
	CHECK(e, rc == 0 && strstr(r.out, "domain 70 has no PCI devices"),
	      "pci-list d70: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"d66\"");
	CHECK(e, rc == 1 && strstr(r.out, "a domain named 'd66' already "
				   "exists (domain 66"),
	      "a second d66: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "destroy", "d69");
	CHECK(e, rc == 0, "destroy d69: rc %d: %s", rc, r.out);
	{
		struct hv_domain_info info;

		CHECK(e, hv_domain_getinfo(e->hv, 69, &info) == -ESRCH &&
		      hv_domain_getinfo(e->hv, 70, &info) == 0 &&
		      hv_domain_getinfo(e->hv, 68, &info) == 0,
		      "destroy d69 did not destroy exactly domain 69");
	}
	rc = XPT(e, &r, "destroy", "d69");
	CHECK(e, rc == 3 && strstr(r.out, "no domain is named 'd69'"),
	      "destroy d69 again: rc %d: %s", rc, r.out);
	return true;
}

/* 7. concurrent creates of one name: exactly one succeeds */
static bool case_same_name(struct env *e)
{
	static struct run r[8];
	struct hv_domain_info *all = NULL;
	char cfg[256], id[16];
	unsigned int i, ok = 0, named = 0, domid = 0;
	size_t n = 0;
	int rc;

	if (!env_start(e, false) ||
	    !write_cfg(e, "same.cfg", "name = \"same\"\nmemory = 64\n", cfg,
		       sizeof(cfg)))
		return false;
	/* the window between the name check and the name in xenstore */
	setenv("XPT_DELAY", "create.after-name-check=200", 1);
	for (i = 0; i < 8; i++)
		if (!xpt_start(e, &r[i], (const char *const[]){ "create", "-p",
							      cfg, NULL }))
			break;
	unsetenv("XPT_DELAY");
	CHECK(e, i == 8, "could not start 8 creates");
	for (i = 0; i < 8; i++) {
		rc = xpt_finish(&r[i]);
		if (rc == 0) {
			ok++;
			continue;
		}
		CHECK(e, rc == 1 && strstr(r[i].out, "a domain named 'same' "
					   "already exists"),
		      "create %u: rc %d: %s", i, rc, r[i].out);
	}
	rc = hv_domain_list(e->hv, &all, &n);
	CHECK(e, rc == 0, "domain list: %s", strerror(-rc));
	for (i = 0; i < n; i++)
		named += !strcmp(all[i].name, "same");
	free(all);
	CHECK(e, ok == 1 && named == 1, "%u of 8 concurrent creates of 'same' "
	      "succeeded, %u domains have that name", ok, named);
	/* a name held by the xenstore leftovers of a domain the hypervisor
	 * no longer has: refused, until destroy removes them */
	rc = XPT(e, &r[0], "create", "-p", cfg, "name=\"lo\"");
	CHECK(e, rc == 0 && sscanf(r[0].out, "created domain lo id %u",
				   &domid) == 1, "create lo: rc %d: %s", rc,
	      r[0].out);
	CHECK(e, hv_domain_destroy(e->hv, domid) == 0, "hv destroy");
	rc = XPT(e, &r[0], "create", "-p", cfg, "name=\"lo\"");
	CHECK(e, rc == 1 && strstr(r[0].out, "still held by the xenstore "
				   "nodes of domain"),
	      "create lo over leftovers: rc %d: %s", rc, r[0].out);
	snprintf(id, sizeof(id), "%u", domid);
	rc = XPT(e, &r[0], "destroy", id);
	CHECK(e, rc == 0, "destroy the leftovers: rc %d: %s", rc, r[0].out);
	rc = XPT(e, &r[0], "create", "-p", cfg, "name=\"lo\"");
	CHECK(e, rc == 0, "create lo again: rc %d: %s", rc, r[0].out);
	return true;
}

static bool pid_gone(int pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool gone;

	if (fd < 0)
		return errno == ESRCH;
	gone = poll(&pfd, 1, WAIT_MS) == 1;
	close(fd);
	return gone;
}

/* 8. a guest whose kernel died is listed as crashed; names: UTF-8 yes,
 *    digits and '/' no; a config error names its file once */
static bool case_domain_messages(struct env *e)
{
	static struct run r;
	char cfg[256], bad[256], path[512], buf[32], *line;
	unsigned int domid = 0;
	long pid;
	FILE *f;
	int rc;

	if (!env_start(e, false) ||
	    !write_cfg(e, "k.cfg", "name = \"k1\"\nmemory = 64\n", cfg,
		       sizeof(cfg)) ||
	    !write_cfg(e, "bad.cfg", "name = \"x\"\nmemory = abc\n", bad,
		       sizeof(bad)))
		return false;
	rc = XPT(e, &r, "create", cfg);
	CHECK(e, rc == 0 && sscanf(r.out, "created domain k1 id %u", &domid) == 1,
	      "create k1: rc %d: %s", rc, r.out);
	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, domid);
	f = fopen(path, "re");
	CHECK(e, f && fgets(buf, sizeof(buf), f), "%s: cannot read", path);
	fclose(f);
	pid = strtol(buf, NULL, 10);
	CHECK(e, pid > 1 && kill((pid_t)pid, SIGKILL) == 0 && pid_gone((int)pid),
	      "cannot kill the guest kernel %ld", pid);
	rc = XPT(e, &r, "list");
	line = strstr(r.out, "k1 ");
	CHECK(e, rc == 0 && line && strstr(line, " crashed ") &&
	      strstr(line, " crashed ") < strchr(line, '\n'),
	      "list after the kernel died: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "list", "--json");
	CHECK(e, rc == 0 && strstr(r.out, "\"state\": \"crashed\""),
	      "list --json: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "destroy", "k1");
	CHECK(e, rc == 0, "destroy k1: rc %d: %s", rc, r.out);

	rc = XPT(e, &r, "create", "-p", cfg, "name=\"42\"");
	CHECK(e, rc == 2 && strstr(r.out, "\"42\" is all digits"),
	      "name 42: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"a/b\"");
	CHECK(e, rc == 2 && strstr(r.out, "character 2 is '/'"),
	      "name a/b: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"caf\xc3\xa9-\xe6\x97\xa5\"");
	CHECK(e, rc == 0 && sscanf(r.out, "created domain %*s id %u",
				   &domid) == 1,
	      "UTF-8 name: rc %d: %s", rc, r.out);
	/* the guest owns its writable directories (libxl__domain_make) */
	snprintf(path, sizeof(path), "/local/domain/%u/data", domid);
	{
		unsigned int np = 0;
		struct xs_permissions *p = xs_get_permissions(e->xs, XBT_NULL,
							      path, &np);
		bool owned = p && np >= 1 && p[0].id == domid;

		CHECK(e, owned, "%s is owned by domain %d, not %u", path,
		      p && np ? (int)p[0].id : -1, domid);
		free(p);
	}
	rc = XPT(e, &r, "pause", "caf\xc3\xa9-\xe6\x97\xa5");
	CHECK(e, rc == 0, "pause by UTF-8 name: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", bad);
	CHECK(e, rc == 2 && count_of(r.out, bad) == 1 &&
	      strstr(r.out, "line 2: memory"),
	      "bad config: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "memory=abc");
	CHECK(e, rc == 2 && count_of(r.out, "'memory=abc'") == 1,
	      "bad argument: rc %d: %s", rc, r.out);
	return true;
}

/* 9. a host with more devices than the hypervisor's list page and than
 *    xpt once surveyed (256 in pciback, 128 listed): every one is listed
 *    assignable, and the last ones go to a guest and come back */
static bool case_many_devices(struct env *e)
{
	enum { N = 300 };
	static char host[N * 80];
	static struct run r;
	char cfg[256], spec[96], last[2][16];
	unsigned int i, domid = 0;
	size_t off = 0;
	int rc;

	for (i = 0; i < N; i++)
		off += (size_t)snprintf(host + off, sizeof(host) - off,
					"%02x:%02x.0 8086:1533 class=020000 "
					"bar0=16K,mem64 msi=1 reset=flr\n",
					0x20 + i / 32, i % 32);
	if (!env_start_host(e, false, host) ||
	    !write_cfg(e, "many.cfg", "name = \"m\"\nmemory = 64\n", cfg,
		       sizeof(cfg)))
		return false;
	for (i = 0; i < N - 2; i++)
		if (!e2e_pciback_ok(&e->run, "seize %s",
				    bdf(HV_SBDF(0, 0x20 + i / 32, i % 32, 0))))
			return false;
	for (i = 0; i < 2; i++) {
		uint32_t s = HV_SBDF(0, 0x20 + (N - 2 + i) / 32,
				     (N - 2 + i) % 32, 0);

		snprintf(last[i], sizeof(last[i]), "%s", bdf(s));
		rc = XPT(e, &r, "pci-assignable-add", last[i]);
		CHECK(e, rc == 0, "pci-assignable-add %s: rc %d: %s", last[i],
		      rc, r.out);
	}
	rc = XPT(e, &r, "pci-assignable-list");
	CHECK(e, rc == 0 && count_of(r.out, "\n") == N &&
	      strstr(r.out, last[1]),
	      "pci-assignable-list: rc %d, %u of %u devices", rc,
	      count_of(r.out, "\n"), N);
	snprintf(spec, sizeof(spec), "pci=[\"%s\",\"%s\"]", last[0],
		 last[1]);
	rc = XPT(e, &r, "create", "-p", cfg, spec);
	CHECK(e, rc == 0 && sscanf(r.out, "created domain m id %u",
				   &domid) == 1,
	      "create with %s and %s: rc %d: %s", last[0], last[1], rc, r.out);
	rc = XPT(e, &r, "pci-list", "m");
	CHECK(e, rc == 0 && strstr(r.out, last[0]) && strstr(r.out, last[1]),
	      "pci-list m: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "destroy", "m");
	CHECK(e, rc == 0, "destroy m: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "pci-assignable-list");
	CHECK(e, rc == 0 && count_of(r.out, "\n") == N &&
	      !strstr(r.out, "assigned to"),
	      "after destroy: rc %d, %u devices: %s", rc,
	      count_of(r.out, "\n"), strstr(r.out, "assigned to"));
	return true;
}

static bool xs_put(struct env *e, const char *path, const char *v)
{
	return xs_write(e->xs, XBT_NULL, path, v, strlen(v));
}

/* 10. names resolve through /xpt/names, a hint checked on use: a stale
 *     or wrong entry, or none (another toolstack's domain), falls back
 *     to the scan, which still refuses a name two domains share */
static bool case_name_index(struct env *e)
{
	static struct run r;
	char cfg[256], want[64], id[16], path[64], *v;
	unsigned int ix = 0, iy = 0, u = 0;
	int rc;

	if (!env_start(e, false) ||
	    !write_cfg(e, "ix.cfg", "name = \"ix\"\nmemory = 64\n", cfg,
		       sizeof(cfg)))
		return false;
	rc = XPT(e, &r, "create", "-p", cfg);
	CHECK(e, rc == 0 && sscanf(r.out, "created domain ix id %u", &ix) == 1,
	      "create ix: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"iy\"");
	CHECK(e, rc == 0 && sscanf(r.out, "created domain iy id %u", &iy) == 1,
	      "create iy: rc %d: %s", rc, r.out);
	v = xs_get(e, "%s", "/xpt/names/ix");
	snprintf(id, sizeof(id), "%u", ix);
	CHECK(e, v && !strcmp(v, id), "/xpt/names/ix is %s, not %u",
	      v ? v : "missing", ix);
	free(v);
	{
		unsigned int np = 0;
		struct xs_permissions *p = xs_get_permissions(
			e->xs, XBT_NULL, "/xpt/names/ix", &np);
		bool dom0 = p && np == 1 && p[0].id == 0 &&
			    p[0].perms == XS_PERM_NONE;

		free(p);
		CHECK(e, dom0, "/xpt/names/ix is not dom0's alone");
	}
	snprintf(want, sizeof(want), "domain %u has no PCI devices", ix);
	rc = XPT(e, &r, "pci-list", "ix");
	CHECK(e, rc == 0 && strstr(r.out, want), "pci-list ix: rc %d: %s",
	      rc, r.out);
	/* an entry naming no domain, and one naming another domain */
	CHECK(e, xs_put(e, "/xpt/names/ix", "30000"), "write the index");
	rc = XPT(e, &r, "pci-list", "ix");
	CHECK(e, rc == 0 && strstr(r.out, want),
	      "pci-list ix, entry naming no domain: rc %d: %s", rc, r.out);
	snprintf(id, sizeof(id), "%u", iy);
	CHECK(e, xs_put(e, "/xpt/names/ix", id), "write the index");
	rc = XPT(e, &r, "pci-list", "ix");
	CHECK(e, rc == 0 && strstr(r.out, want),
	      "pci-list ix, entry naming iy: rc %d: %s", rc, r.out);
	/* names no index holds, as another toolstack writes them: found by
	 * the scan, and two domains of one name refused */
	snprintf(path, sizeof(path), "/local/domain/%u/name", iy);
	CHECK(e, xs_put(e, path, "other"), "rename iy");
	snprintf(want, sizeof(want), "domain %u has no PCI devices", iy);
	rc = XPT(e, &r, "pci-list", "other");
	CHECK(e, rc == 0 && strstr(r.out, want), "pci-list other: rc %d: %s",
	      rc, r.out);
	snprintf(path, sizeof(path), "/local/domain/%u/name", ix);
	CHECK(e, xs_put(e, path, "other"), "rename ix");
	rc = XPT(e, &r, "pci-list", "other");
	CHECK(e, rc == 1 && strstr(r.out, "are both named 'other'"),
	      "pci-list of a name two domains share: rc %d: %s", rc, r.out);
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"other\"");
	CHECK(e, rc == 1 && strstr(r.out, "already exists"),
	      "create over another toolstack's name: rc %d: %s", rc, r.out);
	/* a name outside xenstore's path characters has a key too, and
	 * destroy takes its entry away */
	rc = XPT(e, &r, "create", "-p", cfg, "name=\"web.1 \xc3\xa9\"");
	CHECK(e, rc == 0 && sscanf(r.out, "created domain %*s %*s id %u",
				   &u) == 1,
	      "create 'web.1 \xc3\xa9': rc %d: %s", rc, r.out);
	v = xs_get(e, "%s", "/xpt/names/web@2e1@20@c3@a9");
	snprintf(id, sizeof(id), "%u", u);
	CHECK(e, v && !strcmp(v, id), "the entry of 'web.1 \xc3\xa9' is %s",
	      v ? v : "missing");
	free(v);
	rc = XPT(e, &r, "destroy", "web.1 \xc3\xa9");
	CHECK(e, rc == 0, "destroy 'web.1 \xc3\xa9': rc %d: %s", rc, r.out);
	v = xs_get(e, "%s", "/xpt/names/web@2e1@20@c3@a9");
	CHECK(e, !v, "destroy left the entry (%s)", v);
	return true;
}

static const struct {
	const char *name;
	bool (*run)(struct env *e);
} cases[] = {
	{ "cold-plug of two devices, libxl 4.17 per-device writes", case_coldplug },
	{ "historic backend: one device per-device, two in one transaction", case_historic },
	{ "hot-add, hot-remove, missed Connected", case_hotplug },
	{ "MSI-X after re-assignment: EBUSY until reset", case_reassign },
	{ "bad input from guests", case_badinput },
	{ "xpt: more domains than a page of the domain list", case_many_domains },
	{ "xpt: concurrent creates of one name", case_same_name },
	{ "xpt: crashed kernel listed, names and messages", case_domain_messages },
	{ "xpt: 300 devices, more than a list page", case_many_devices },
	{ "xpt: the name index, stale entries and other toolstacks' names", case_name_index },
};

int main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0, i;
	int a;

	if (argc < 7) {
		fprintf(stderr, "usage: %s XENSTORED HYPERVISOR PCIBACK GUEST "
			"FIXTURE HOSTFILE [CASE...]\n", argv[0]);
		return 2;
	}
	bin_xenstored = argv[1];
	bin_hv = argv[2];
	bin_pciback = argv[3];
	bin_guest = argv[4];
	bin_fixture = argv[5];
	hostfile = argv[6];
	bin_xpt = getenv("XPT_E2E_XPT");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env e;
		bool ok, want = argc == 7;

		for (a = 7; a < argc; a++)
			want |= (unsigned int)atoi(argv[a]) == i + 1;
		if (!want)
			continue;
		ok = cases[i].run(&e);
		printf("e2e %u (%s): %s%s%s\n", i + 1, cases[i].name,
		       ok ? "ok" : "FAILED: ", ok ? "" : e.run.why, "");
		fflush(stdout);
		env_stop(&e, !ok);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("e2e: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
