// SPDX-License-Identifier: MIT
/*
 * End-to-end, HVM: xpt-xenstored, xpt-hypervisor (tests/e2e/host.txt),
 * the device model xpt-dm and an HVM guest (xpt-guest --hvm) in a fresh
 * run directory.  The test plays libxl: it creates the HVM domain,
 * assigns the device, starts xpt-dm -S, sends device_add and cont over
 * QMP, unpauses the domain, and asks the guest what it sees.
 *
 *   msix      the guest finds the device by config I/O (vendor, device,
 *             class), its driver enables MSI-X, interrupts raised on the
 *             device are counted by the guest; device_del is a request:
 *             the guest, told by its SCI, lets the device go and ejects
 *             the slot, and only then come DEVICE_DELETED and the unbound
 *             and unmapped pirqs
 *   conf      the config space as xen_pt shows it, read and written by
 *             the test as the guest's vCPU: BAR sizing and addresses stay
 *             in the guest's view, Command passes only the bits xen_pt
 *             lets through, Interrupt Line is emulated, no ROM, MSI-X
 *             Message Control is the guest's
 *   stall     a QMP client that stops mid-line, and one waiting behind
 *             it, do not stop the guest's config I/O; quit destroys the
 *             server and the guest then sees nothing
 *   early     libxl before Xen 4.6 (the stub-domain interlock bug): a
 *             guest running before its device model's `cont` sees no
 *             device (all ones), one started after sees it; a device
 *             added after `cont` (hot-plug, MSI only) appears in the
 *             guest without a reprobe (the SCI, acpiphp's slot rescan)
 *   hung      device_del to a stopped guest (SIGSTOP): no DEVICE_DELETED,
 *             the device stays in query-pci, a second device_del is
 *             refused as QEMU refuses it; the guest, continued, ejects
 *   eject     the guest's own writes to the hotplug ports: an empty slot,
 *             a zero eject, wrong sizes, read-only registers, GPE garbage
 *             change nothing and the device model stays; an eject nobody
 *             asked for unplugs that slot only, as QEMU does
 *
 * usage: e2e-hvm-guest XENSTORED HYPERVISOR DM GUEST HOSTFILE [CASE...]
 * Waits are bounded and event driven (ready fd, inotify, QMP replies);
 * nothing sleeps.  XPT_E2E_KEEP=1 keeps the run directory.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvclient.h"
#include "../lib/harness.h"

#define QUIET_MS 1500		/* how long "no DEVICE_DELETED" is watched */

#define A HV_SBDF(0, 3, 0, 0)	/* 8086:1572, MSI-X 8 */
#define D HV_SBDF(0, 6, 0, 0)	/* 10ee:9038, MSI only */

static const char *bin_xenstored, *bin_hv, *bin_dm, *bin_guest, *hostfile;

struct env {
	struct e2e_run run;	/* the run directory and its processes */
	struct hv_client *hv;
	struct e2e_qmp qmp;	/* to the device model */
};

static bool env_start(struct env *e)
{
	int n;

	memset(e, 0, sizeof(*e));
	e->qmp.fd = -1;
	if (!e2e_run_start(&e->run, "hvm", bin_xenstored))
		return false;
	if (!e2e_start_hypervisor(&e->run, bin_hv, hostfile, true))
		return false;
	n = hv_open(e->run.dir, &e->hv);
	CHECK(e, n == 0, "hv_open: %s", strerror(-n));
	return true;
}

static void env_stop(struct env *e, bool failed)
{
	if (e->qmp.fd >= 0)
		close(e->qmp.fd);
	e2e_run_stop(&e->run);
	if (e->hv)
		hv_close(e->hv);
	e2e_run_remove(&e->run, failed || getenv("XPT_E2E_KEEP"));
}

/* An HVM guest as libxl creates it: paused, with an IOMMU context, and
 * the device assigned before the device model is asked for it. */
static bool hvm_domain(struct env *e, uint32_t sbdf, unsigned int *ret)
{
	int r = hv_domain_create(e->hv, HV_DOMF_HVM | HV_DOMF_PASSTHROUGH,
				 "hvm", 1 << 20, 1, ret);

	CHECK(e, r == 0, "domain_create: %s", strerror(-r));
	r = hv_assign_device(e->hv, *ret, sbdf);
	CHECK(e, r == 0, "assign: %s", strerror(-r));
	return true;
}

/* QMP */

/* DEVICE_DELETED of id, within ms. */
static bool deleted_within(struct env *e, const char *id, int ms)
{
	char want[100], line[1024];

	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	if (!e2e_qmp_read(&e->run, &e->qmp, "DEVICE_DELETED", line,
			  sizeof(line), ms, false))
		return false;
	CHECK(e, strstr(line, want), "DEVICE_DELETED of another device: %s",
	      line);
	return true;
}

/* No DEVICE_DELETED for QUIET_MS. */
static bool no_deleted(struct env *e)
{
	char line[1024];

	CHECK(e, !e2e_qmp_read(&e->run, &e->qmp, "DEVICE_DELETED", line,
			       sizeof(line), QUIET_MS, true),
	      "DEVICE_DELETED although the guest did not eject: %s", line);
	return true;
}

/* One command; its reply must be a return. */
static bool qmp(struct env *e, const char *cmd, char *reply, size_t len)
{
	if (!e2e_qmp_send(&e->run, &e->qmp, cmd, reply, len))
		return false;
	CHECK(e, strstr(reply, "\"return\""), "QMP %s: %s", cmd, reply);
	return true;
}

static bool dm_start(struct env *e, unsigned int domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dom[16], chardev[300], path[sizeof(sa.sun_path)];
	const char *argv[16];
	struct e2e_proc *p;
	int n = 0;

	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->run.dir, domid);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,"
		 "server=on,wait=off", path);
	argv[n++] = bin_dm;
	argv[n++] = "-xen-domid";
	argv[n++] = dom;
	argv[n++] = "-chardev";
	argv[n++] = chardev;
	argv[n++] = "-mon";
	argv[n++] = "chardev=libxl-cmd,mode=control";
	argv[n++] = "-S";
	argv[n++] = "-nodefaults";
	argv[n++] = "-machine";
	argv[n++] = "xenfv";
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	argv[n++] = "-v";
	argv[n] = NULL;
	p = e2e_spawn(&e->run, "dm", argv);
	CHECK(e, p, "cannot start xpt-dm");
	return e2e_wait_file(&e->run, path, p) &&
	       e2e_qmp_connect(&e->run, &e->qmp, path);
}

static bool device_add(struct env *e, const char *id, uint32_t sbdf)
{
	char cmd[300], reply[1024], host[16];

	hv_format_bdf(sbdf, host, sizeof(host));
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"device_add\", "
		 "\"arguments\": {\"driver\": \"xen-pci-passthrough\", "
		 "\"id\": \"%s\", \"hostaddr\": \"%s\"}}", id, host);
	return qmp(e, cmd, reply, sizeof(reply));
}

static bool device_del(struct env *e, const char *id)
{
	char cmd[200], reply[1024];

	snprintf(cmd, sizeof(cmd), "{\"execute\": \"device_del\", "
		 "\"arguments\": {\"id\": \"%s\"}}", id);
	if (!qmp(e, cmd, reply, sizeof(reply)))
		return false;
	return true;
}

/* Is id in the device model's query-pci? */
static bool in_dm(struct env *e, const char *id, bool *ret)
{
	char reply[4096], want[100];

	if (!qmp(e, "{\"execute\": \"query-pci\"}", reply, sizeof(reply)))
		return false;
	snprintf(want, sizeof(want), "\"%s\"", id);	/* only ids are */
	*ret = strstr(reply, want) != NULL;
	return true;
}

/* the guest */

struct qstatus {
	unsigned int n;
	bool hvm;
	struct e2e_qdev d[8];
};

static bool guest_start(struct env *e, unsigned int domid,
			struct e2e_proc **ret)
{
	char dom[16], path[256];
	const char *argv[10];
	struct e2e_proc *p;

	snprintf(dom, sizeof(dom), "%u", domid);
	argv[0] = bin_guest;
	argv[1] = "--rundir";
	argv[2] = e->run.dir;
	argv[3] = "--domid";
	argv[4] = dom;
	argv[5] = "--hvm";
	argv[6] = "-vv";
	argv[7] = NULL;
	p = e2e_spawn(&e->run, "guest", argv);
	CHECK(e, p, "cannot start xpt-guest --hvm");
	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, domid);
	*ret = p;
	/* the pid file follows the boot-time scan */
	return e2e_wait_file(&e->run, path, p);
}

static bool guest_status(struct env *e, unsigned int domid, struct qstatus *s)
{
	char reply[8192], *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!e2e_guest_query(&e->run, domid, "status", reply, sizeof(reply)))
		return false;
	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "state ", 6)) {
			s->hvm = strstr(line, " hvm") != NULL;
			continue;
		}
		if (strncmp(line, "dev ", 4) || s->n == 8)
			continue;
		if (e2e_qdev_parse(line, &s->d[s->n]))
			s->n++;
	}
	return true;
}

static bool reprobe(struct env *e, unsigned int domid)
{
	char reply[256];

	if (!e2e_guest_query(&e->run, domid, "reprobe", reply, sizeof(reply)))
		return false;
	CHECK(e, !strcmp(reply, "ok\nend\n"), "reprobe: %s", reply);
	return true;
}

/* The guest, told by its SCI, comes to see n devices (no reprobe): its
 * status is asked again until then, bounded. */
static bool guest_sees(struct env *e, unsigned int domid, unsigned int n,
		       struct qstatus *s)
{
	int64_t deadline = e2e_now_ms() + WAIT_MS;

	for (;;) {
		if (!guest_status(e, domid, s))
			return false;
		if (s->n == n)
			return true;
		CHECK(e, e2e_now_ms() < deadline, "the guest sees %u devices, "
		      "not %u, after %d ms", s->n, n, WAIT_MS);
		poll(NULL, 0, 20);
	}
}

static const struct e2e_qdev *qfind(const struct qstatus *s,
				    unsigned int vendor)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->d[i].vendor == vendor)
			return &s->d[i];
	return NULL;
}

/* Raise every vector the guest enabled; each is counted once. */
static bool raise_all(struct env *e, uint32_t sbdf, uint32_t type,
		      unsigned int n)
{
	unsigned int i;
	int r, delivered;

	for (i = 0; i < n; i++) {
		r = hv_pci_raise_irq(e->hv, sbdf, type, i, &delivered);
		CHECK(e, r == 0 && delivered == 1, "raise entry %u: %s, "
		      "delivered %d", i, strerror(-r), delivered);
	}
	return true;
}

/* cases */

static bool case_msix(struct env *e)
{
	struct hv_msix_state ms;
	struct hv_pt_irq pt;
	int intx;
	const struct e2e_qdev *q;
	struct qstatus s;
	struct e2e_proc *g;
	unsigned int dom;
	char line[4096];
	int r, delivered;

	if (!hvm_domain(e, A, &dom) || !dm_start(e, dom) ||
	    !device_add(e, "pci-pt-03_00.0", A) ||
	    !qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)))
		return false;
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	if (!guest_start(e, dom, &g) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.hvm && s.n == 1, "the guest sees %u devices, not 1", s.n);
	q = &s.d[0];
	CHECK(e, q->vendor == 0x8086 && q->device == 0x1572 &&
	      q->class == 0x020000, "the guest sees %04x:%04x class %06x",
	      q->vendor, q->device, q->class);
	CHECK(e, !strcmp(q->bdf, "0000:00:04.0"), "guest address %s, not "
	      "00:04.0 (query-pci's slot)", q->bdf);
	CHECK(e, !strcmp(q->driver, "bound") && !strcmp(q->irq, "msix") &&
	      q->vectors == 4, "driver %s irq %s vectors %u", q->driver,
	      q->irq, q->vectors);
	if (!raise_all(e, A, HV_IRQ_MSIX, 4) || !raise_all(e, A, HV_IRQ_MSIX,
							    2) ||
	    !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 1 && s.d[0].count == 6 &&
	      !strcmp(s.d[0].counts, "2,2,1,1"), "counts %s (total %llu), "
	      "want 2,2,1,1", s.d[0].counts, s.d[0].count);
	/* INTx: bound to the guest's line at device_add, as xen_pt does
	 * (mapping the GSI again returns the same pirq) */
	r = hv_map_pirq(e->hv, dom, HV_IRQ_INTX, A, 0, &intx);
	CHECK(e, r == 0, "INTx pirq: %s", strerror(-r));
	r = hv_pt_irq_info(e->hv, dom, intx, &pt);
	CHECK(e, r == 0 && pt.bound && pt.irq_type == HV_PT_IRQ_PCI &&
	      pt.device == 4 && pt.intx == 0, "INTx pirq %d: bound %u type "
	      "%u device %u intx %u", intx, pt.bound, pt.irq_type, pt.device,
	      pt.intx);
	/* an entry the guest did not enable is not delivered */
	r = hv_pci_raise_irq(e->hv, A, HV_IRQ_MSIX, 5, &delivered);
	CHECK(e, r == 0 && delivered == 0, "entry 5 delivered");

	/* reprobe: the driver frees and re-allocates its vectors (as
	 * Linux's nvme does); the device model unbinds, then binds anew */
	if (!reprobe(e, dom) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 1 && !strcmp(s.d[0].irq, "msix") &&
	      s.d[0].vectors == 4 && s.d[0].count == 0, "after reprobe: irq "
	      "%s vectors %u count %llu", s.d[0].irq, s.d[0].vectors,
	      s.d[0].count);
	if (!raise_all(e, A, HV_IRQ_MSIX, 4) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, !strcmp(s.d[0].counts, "1,1,1,1"), "after reprobe counts "
	      "%s", s.d[0].counts);

	/* device_del: the guest lets go and ejects; DEVICE_DELETED only
	 * then, when the guest no longer has the device */
	if (!device_del(e, "pci-pt-03_00.0") ||
	    !deleted_within(e, "pci-pt-03_00.0", WAIT_MS) ||
	    !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 0, "at DEVICE_DELETED the guest still sees %u "
	      "devices", s.n);
	r = hv_msix_state(e->hv, A, &ms);
	CHECK(e, r == 0 && ms.used_entries == 0, "after device_del %u MSI-X "
	      "vectors are still mapped", ms.used_entries);
	r = hv_pci_raise_irq(e->hv, A, HV_IRQ_MSIX, 0, &delivered);
	CHECK(e, r == 0 && delivered == 0, "delivered after device_del");
	r = hv_pt_irq_info(e->hv, dom, intx, &pt);
	CHECK(e, r == 0 && !pt.bound, "INTx still bound after device_del");
	return true;
}

static uint32_t host_conf(struct env *e, uint32_t sbdf, uint32_t reg,
			  uint32_t size)
{
	uint32_t v = 0xdeadbeef;

	hv_pci_conf_read(e->hv, sbdf, reg, size, &v);
	return v;
}

static bool case_conf(struct env *e)
{
	uint32_t g0 = HV_SBDF(0, 0, 4, 0), v, host_bar0, host_line, host_cmd;
	struct hv_client *vcpu = NULL;
	unsigned int dom;
	char line[4096];
	int r;

	if (!hvm_domain(e, A, &dom) || !dm_start(e, dom) ||
	    !device_add(e, "pci-pt-03_00.0", A) ||
	    !qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)))
		return false;
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	r = hv_open_domain(e->run.dir, dom, &vcpu);
	CHECK(e, r == 0, "open as the guest: %s", strerror(-r));
	host_bar0 = host_conf(e, A, 0x10, 4);
	host_line = host_conf(e, A, 0x3c, 1);

#define GR(reg, size) (hv_hvm_config_read(vcpu, 0, g0, reg, size, &v) == 0 \
		       ? v : 0xdeadbeef)
#define GW(reg, size, val) hv_hvm_config_write(vcpu, 0, g0, reg, size, val)
	/* BAR0: 8M, 64-bit, prefetchable; sizing is the guest's alone */
	GW(0x10, 4, 0xffffffff);
	GW(0x14, 4, 0xffffffff);
	v = GR(0x10, 4);
	if (v != 0xff80000c || GR(0x14, 4) != 0xffffffff) {
		hv_close(vcpu);
		return fail(e, "BAR0 sized as %#x:%#x, want 0xffffffff:"
			    "0xff80000c", GR(0x14, 4), v);
	}
	GW(0x10, 4, 0xe0000000);
	GW(0x14, 4, 0);
	v = GR(0x10, 4);
	if (v != 0xe000000c || host_conf(e, A, 0x10, 4) != host_bar0) {
		hv_close(vcpu);
		return fail(e, "BAR0 reads %#x (want 0xe000000c), host BAR0 "
			    "%#x (was %#x)", v, host_conf(e, A, 0x10, 4),
			    host_bar0);
	}
	/* Command: only xen_pt's bits reach the device */
	GW(0x04, 2, 0xffff);
	host_cmd = host_conf(e, A, 0x04, 2);
	/* Interrupt Line: emulated; ROM: none; MSI-X: the guest's bits */
	GW(0x3c, 1, 0x0b);
	if (host_cmd & ~0x547u || !(host_cmd & 0x2) || GR(0x3c, 1) != 0x0b ||
	    host_conf(e, A, 0x3c, 1) != host_line || GR(0x30, 4) != 0) {
		hv_close(vcpu);
		return fail(e, "host Command %#x, guest line %#x (host %#x, "
			    "was %#x), ROM %#x", host_cmd, GR(0x3c, 1),
			    host_conf(e, A, 0x3c, 1), host_line, GR(0x30, 4));
	}
	/* vendor/device as the host's; a function the DM did not claim
	 * reads all ones */
	if (GR(0x00, 4) != 0x15728086 ||
	    hv_hvm_config_read(vcpu, 0, HV_SBDF(0, 0, 5, 0), 0, 4, &v) != 0 ||
	    v != 0xffffffff) {
		hv_close(vcpu);
		return fail(e, "ids %#x, slot 5 reads %#x", GR(0x00, 4), v);
	}
#undef GR
#undef GW
	hv_close(vcpu);
	return true;
}

static bool case_early(struct env *e)
{
	struct qstatus s;
	struct e2e_proc *g;
	unsigned int dom;
	char line[4096];
	int r;

	if (!hvm_domain(e, A, &dom))
		return false;
	r = hv_assign_device(e->hv, dom, D);
	CHECK(e, r == 0, "assign D: %s", strerror(-r));
	if (!dm_start(e, dom) || !device_add(e, "pci-pt-03_00.0", A))
		return false;
	/* the pre-4.6 toolstack: the guest runs before `cont` */
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	if (!guest_start(e, dom, &g) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 0, "a guest running before cont sees %u devices",
	      s.n);
	e2e_proc_stop(g, SIGTERM);
	if (!qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)) ||
	    !guest_start(e, dom, &g) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 1 && qfind(&s, 0x8086), "a guest started after "
	      "cont sees %u devices", s.n);

	/* hot-plug: the guest's SCI, acpiphp rescans the slot; MSI */
	if (!device_add(e, "pci-pt-06_00.0", D) || !guest_sees(e, dom, 2, &s))
		return false;
	CHECK(e, s.n == 2 && qfind(&s, 0x10ee), "after hot-plug the guest "
	      "sees %u devices", s.n);
	CHECK(e, !strcmp(qfind(&s, 0x10ee)->irq, "msi") &&
	      qfind(&s, 0x10ee)->class == 0x058000, "hot-plugged: irq %s",
	      qfind(&s, 0x10ee)->irq);
	if (!raise_all(e, D, HV_IRQ_MSI, 1) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, qfind(&s, 0x10ee)->count == 1, "MSI count %llu",
	      qfind(&s, 0x10ee)->count);

	/* stop: the server is disabled, a new scan sees nothing */
	if (!qmp(e, "{\"execute\": \"stop\"}", line, sizeof(line)) ||
	    !reprobe(e, dom) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 0, "after stop the guest sees %u devices", s.n);
	return true;
}

static bool case_stall(struct env *e)
{
	static const char half[] = "{\"execute\": \"query-";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qstatus s;
	struct e2e_proc *g;
	unsigned int dom;
	char line[4096];
	int r, second;

	if (!hvm_domain(e, A, &dom) || !dm_start(e, dom) ||
	    !device_add(e, "pci-pt-03_00.0", A) ||
	    !qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)))
		return false;
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	/* half a request; a second client waits in the backlog */
	CHECK(e, write(e->qmp.fd, half, strlen(half)) == (ssize_t)strlen(half),
	      "QMP write: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-%u",
		 e->run.dir, dom);
	second = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(e, second >= 0 && connect(second, (struct sockaddr *)&sa,
					sizeof(sa)) == 0,
	      "second QMP client: %s", strerror(errno));
	if (!guest_start(e, dom, &g) || !guest_status(e, dom, &s) ||
	    !reprobe(e, dom) || !guest_status(e, dom, &s)) {
		close(second);
		return false;
	}
	close(second);
	CHECK(e, s.n == 1 && !strcmp(s.d[0].irq, "msix"), "with a stalled "
	      "QMP client the guest sees %u devices", s.n);
	/* the first client finishes its line and is answered */
	if (!qmp(e, "status\"}", line, sizeof(line)))
		return false;
	CHECK(e, strstr(line, "\"running\""), "query-status: %s", line);
	/* quit: the server goes, the guest's next scan finds nothing */
	if (!qmp(e, "{\"execute\": \"quit\"}", line, sizeof(line)) ||
	    !reprobe(e, dom) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, s.n == 0, "after quit the guest sees %u devices", s.n);
	return true;
}

/* A guest that does not run (SIGSTOP: paused, hung) never ejects. */
static bool case_hung(struct env *e)
{
	static const char del[] = "{\"execute\": \"device_del\", "
		"\"arguments\": {\"id\": \"pci-pt-03_00.0\"}}\n";
	struct qstatus s;
	struct e2e_proc *g;
	unsigned int dom;
	char line[4096];
	bool there;
	int r;

	if (!hvm_domain(e, A, &dom) || !dm_start(e, dom) ||
	    !device_add(e, "pci-pt-03_00.0", A) ||
	    !qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)))
		return false;
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	if (!guest_start(e, dom, &g) || !guest_sees(e, dom, 1, &s))
		return false;
	CHECK(e, kill(g->pid, SIGSTOP) == 0, "SIGSTOP: %s", strerror(errno));
	if (!device_del(e, "pci-pt-03_00.0") || !no_deleted(e) ||
	    !in_dm(e, "pci-pt-03_00.0", &there))
		return false;
	CHECK(e, there, "query-pci lost the device the guest did not eject");
	/* QEMU: a second device_del while the first is pending */
	CHECK(e, write(e->qmp.fd, del, sizeof(del) - 1) == sizeof(del) - 1,
	      "QMP write: %s", strerror(errno));
	if (!e2e_qmp_read(&e->run, &e->qmp, NULL, line, sizeof(line), WAIT_MS,
			  false))
		return false;
	CHECK(e, strstr(line, "\"error\"") && strstr(line, "already in the "
						       "process of unplug"),
	      "second device_del: %s", line);
	/* continued, the guest takes the pending SCI and ejects */
	CHECK(e, kill(g->pid, SIGCONT) == 0, "SIGCONT: %s", strerror(errno));
	if (!deleted_within(e, "pci-pt-03_00.0", WAIT_MS) ||
	    !in_dm(e, "pci-pt-03_00.0", &there) || !guest_status(e, dom, &s))
		return false;
	CHECK(e, !there && s.n == 0, "after the eject: in query-pci %d, the "
	      "guest sees %u", there, s.n);
	return true;
}

/* The test is the guest's vCPU, writing what a guest may write. */
static bool case_eject(struct env *e)
{
	struct hv_client *vcpu = NULL;
	unsigned int dom;
	char line[4096];
	bool a, d;
	uint32_t up = 0, down = 0, feat = 0, odd = 0, rmv = 0;
	int r;

	if (!hvm_domain(e, A, &dom))
		return false;
	r = hv_assign_device(e->hv, dom, D);
	CHECK(e, r == 0, "assign D: %s", strerror(-r));
	if (!dm_start(e, dom) || !device_add(e, "pci-pt-03_00.0", A) ||
	    !device_add(e, "pci-pt-06_00.0", D) ||
	    !qmp(e, "{\"execute\": \"cont\"}", line, sizeof(line)))
		return false;
	r = hv_domain_unpause(e->hv, dom);
	CHECK(e, r == 0, "unpause: %s", strerror(-r));
	r = hv_open_domain(e->run.dir, dom, &vcpu);
	CHECK(e, r == 0, "open as the guest: %s", strerror(-r));
#define PW(port, size, val) hv_hvm_port_write(vcpu, 0, port, size, val)
#define PR(port, size, v) hv_hvm_port_read(vcpu, 0, port, size, v)
	PW(0xae08, 4, 1u << 10);	/* an empty slot */
	PW(0xae08, 4, 0);		/* no slot */
	PW(0xae08, 1, 0x10);		/* slot 4, but not a dword */
	PW(0xae08, 2, 0x10);
	PW(0xae0a, 4, 0x10);		/* not aligned */
	PW(0xae00, 4, 0);		/* read-only registers */
	PW(0xae04, 4, 0xffffffff);
	PW(0xae0c, 4, 0);
	PW(0xafe0, 4, 0xffffffff);	/* GPE: all cleared, all enabled */
	PW(0xafe3, 4, 0xffffffff);	/* straddles the block's end */
	PW(0xafe2, 2, 0);
	PR(0xae00, 4, &up);
	PR(0xae04, 4, &down);
	PR(0xae08, 4, &feat);
	PR(0xae0c, 4, &rmv);
	PR(0xae00, 2, &odd);
	if (!no_deleted(e) || !in_dm(e, "pci-pt-03_00.0", &a) ||
	    !in_dm(e, "pci-pt-06_00.0", &d)) {
		hv_close(vcpu);
		return false;
	}
	if (!a || !d || up != 0x30 || down || feat || rmv != 0xfffffffe ||
	    odd != 0xffff) {
		hv_close(vcpu);
		return fail(e, "after bad writes: devices %d %d, up %#x down "
			    "%#x features %#x removable %#x, a word read %#x",
			    a, d, up, down, feat, rmv, odd);
	}
	/* an eject nobody asked for: QEMU unplugs the lowest slot written,
	 * only that one */
	PW(0xae08, 4, 0x30);
	PR(0xae00, 4, &up);
	hv_close(vcpu);
#undef PW
#undef PR
	if (!deleted_within(e, "pci-pt-03_00.0", WAIT_MS) ||
	    !in_dm(e, "pci-pt-03_00.0", &a) ||
	    !in_dm(e, "pci-pt-06_00.0", &d) ||
	    !qmp(e, "{\"execute\": \"query-status\"}", line, sizeof(line)))
		return false;
	CHECK(e, !a && d && up == 0x20, "after the guest's eject of slot 4: "
	      "devices %d %d, up %#x", a, d, up);
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(struct env *e);
} cases[] = {
	{ "msix", case_msix },
	{ "conf", case_conf },
	{ "stall", case_stall },
	{ "early", case_early },
	{ "hung", case_hung },
	{ "eject", case_eject },
};

int main(int argc, char **argv)
{
	unsigned int i, pass = 0, failed = 0;
	int k;

	if (argc < 6) {
		fprintf(stderr, "usage: e2e-hvm-guest XENSTORED HYPERVISOR DM GUEST "
			"HOSTFILE [CASE...]\n");
		return 2;
	}
	bin_xenstored = argv[1];
	bin_hv = argv[2];
	bin_dm = argv[3];
	bin_guest = argv[4];
	hostfile = argv[5];
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env e;
		bool ok, want = argc == 6;

		for (k = 6; k < argc; k++)
			want |= !strcmp(argv[k], cases[i].name);
		if (!want)
			continue;
		ok = env_start(&e) && cases[i].fn(&e);
		printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", cases[i].name,
		       ok ? "" : ": ", ok ? "" : e.run.why);
		fflush(stdout);
		env_stop(&e, !ok);
		ok ? pass++ : failed++;
	}
	printf("e2e-hvm-guest: %u passed, %u failed\n", pass, failed);
	return failed ? 1 : 0;
}
