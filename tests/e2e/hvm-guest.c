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
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvclient.h"

#define WAIT_MS 15000
#define QUIET_MS 1500		/* how long "no DEVICE_DELETED" is watched */
#define MAX_PROCS 8

#define A HV_SBDF(0, 3, 0, 0)	/* 8086:1572, MSI-X 8 */
#define D HV_SBDF(0, 6, 0, 0)	/* 10ee:9038, MSI only */

static const char *bin_xenstored, *bin_hv, *bin_dm, *bin_guest, *hostfile;

struct proc {
	pid_t pid;
	int pidfd;
	char name[32];
};

struct env {
	char dir[80];
	struct proc proc[MAX_PROCS];
	unsigned int nproc;
	struct hv_client *hv;
	int qmp;		/* the QMP connection, -1 none */
	char qbuf[16384];
	size_t qlen;
	char why[512];
};

static bool fail(struct env *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool fail(struct env *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->why[0]) {
		va_start(ap, fmt);
		vsnprintf(e->why, sizeof(e->why), fmt, ap);
		va_end(ap);
	}
	return false;
}

#define CHECK(e, cond, ...) \
	do { if (!(cond)) return fail(e, __VA_ARGS__); } while (0)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct proc *spawn(struct env *e, const char *name,
			  const char *const argv[])
{
	struct proc *p = &e->proc[e->nproc];
	char log[256];
	int fd;

	if (e->nproc == MAX_PROCS)
		return NULL;
	snprintf(log, sizeof(log), "%s/%s.log", e->dir, name);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	p->pid = fork();
	if (p->pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	if (p->pid < 0)
		return NULL;
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	snprintf(p->name, sizeof(p->name), "%s", name);
	e->nproc++;
	return p;
}

static void proc_stop(struct proc *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	if (p->pidfd < 0 || poll(&pfd, 1, 5000) <= 0)
		kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

static bool proc_dead(struct proc *p)
{
	if (p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == p->pid)
		p->pid = 0;
	return p->pid <= 0;
}

/* A file appears (inotify on its directory) while p lives. */
static bool wait_file(struct env *e, const char *path, struct proc *p)
{
	int64_t deadline = now_ms() + WAIT_MS;
	char dir[256], buf[4096], *slash;
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	bool ok = false;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ifd, .events = POLLIN },
			{ .fd = p->pidfd, .events = POLLIN },
		};
		int64_t left = deadline - now_ms();
		/* a directory not there yet cannot be watched: its file is
		 * then looked for again shortly, within the same deadline */
		int wd = inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO);

		if (access(path, F_OK) == 0) {
			ok = true;
			break;
		}
		if (left <= 0 || proc_dead(p))
			break;
		poll(pfd, 2, wd < 0 && left > 20 ? 20 : (int)left);
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	close(ifd);
	if (!ok)
		fail(e, "%s did not appear%s", path,
		     p->pid <= 0 ? " (its process died)" : "");
	return ok;
}

static bool env_start(struct env *e)
{
	char path[256], fdarg[16], ready[16];
	const char *argv[10];
	struct proc *p;
	int pfd[2], n;

	memset(e, 0, sizeof(*e));
	e->qmp = -1;
	snprintf(e->dir, sizeof(e->dir), "%s/xpt-hvm.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(e->dir))
		return fail(e, "mkdtemp: %s", strerror(errno));
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail(e, "pipe: %s", strerror(errno));
	/* the ready fd must survive exec: clear CLOEXEC on a dup */
	n = fcntl(pfd[1], F_DUPFD, 3);
	close(pfd[1]);
	snprintf(fdarg, sizeof(fdarg), "%d", n);
	argv[0] = bin_xenstored;
	argv[1] = "--rundir";
	argv[2] = e->dir;
	argv[3] = "--ready-fd";
	argv[4] = fdarg;
	argv[5] = NULL;
	p = spawn(e, "xenstored", argv);
	close(n);
	n = p ? (int)read(pfd[0], ready, sizeof(ready)) : -1;
	close(pfd[0]);
	CHECK(e, n > 0, "xpt-xenstored did not start");

	argv[0] = bin_hv;
	argv[1] = "--rundir";
	argv[2] = e->dir;
	argv[3] = "--host";
	argv[4] = hostfile;
	argv[5] = "-v";
	argv[6] = NULL;
	p = spawn(e, "hypervisor", argv);
	snprintf(path, sizeof(path), "%s/hv/hypervisor.pid", e->dir);
	if (!p || !wait_file(e, path, p))
		return fail(e, "xpt-hypervisor did not start");
	n = hv_open(e->dir, &e->hv);
	CHECK(e, n == 0, "hv_open: %s", strerror(-n));
	return true;
}

static void env_stop(struct env *e, bool failed)
{
	char cmd[200];
	unsigned int i;

	if (e->qmp >= 0)
		close(e->qmp);
	for (i = e->nproc; i-- > 0;)
		proc_stop(&e->proc[i]);
	if (e->hv)
		hv_close(e->hv);
	if (failed || getenv("XPT_E2E_KEEP")) {
		fprintf(stderr, "  run directory kept: %s\n", e->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", e->dir);
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

/* The next line that is not an event; *ret_line points into qbuf. */
/* The next line that is not an event, or the next `event`, within ms;
 * quiet: a timeout returns false without failing the case. */
static bool qmp_line_within(struct env *e, bool want_event,
			    const char *event, char *out, size_t outlen,
			    int ms, bool quiet)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		char *nl = memchr(e->qbuf, '\n', e->qlen);
		struct pollfd pfd = { .fd = e->qmp, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - e->qbuf) + 1;
			bool is_event = strstr(e->qbuf, "\"event\"") &&
					strstr(e->qbuf, "\"event\"") < nl;
			bool match = want_event ? is_event &&
				     strstr(e->qbuf, event) &&
				     strstr(e->qbuf, event) < nl : !is_event;

			snprintf(out, outlen, "%.*s", (int)(l - 1), e->qbuf);
			memmove(e->qbuf, e->qbuf + l, e->qlen - l);
			e->qlen -= l;
			if (match)
				return true;
			continue;
		}
		left = deadline - now_ms();
		if (quiet && (left <= 0 || poll(&pfd, 1, (int)left) != 1))
			return false;
		CHECK(e, left > 0 && poll(&pfd, 1, (int)left) == 1,
		      "QMP: no %s within %d ms", want_event ? event : "reply",
		      ms);
		n = read(e->qmp, e->qbuf + e->qlen, sizeof(e->qbuf) - 1 -
			 e->qlen);
		CHECK(e, n > 0, "QMP: connection lost");
		e->qlen += (size_t)n;
		e->qbuf[e->qlen] = '\0';
	}
}

static bool qmp_line(struct env *e, bool want_event, const char *event,
		     char *out, size_t outlen)
{
	return qmp_line_within(e, want_event, event, out, outlen, WAIT_MS,
			       false);
}

/* DEVICE_DELETED of id, within ms. */
static bool deleted_within(struct env *e, const char *id, int ms)
{
	char want[100], line[1024];

	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	if (!qmp_line_within(e, true, "DEVICE_DELETED", line, sizeof(line),
			     ms, false))
		return false;
	CHECK(e, strstr(line, want), "DEVICE_DELETED of another device: %s",
	      line);
	return true;
}

/* No DEVICE_DELETED for QUIET_MS. */
static bool no_deleted(struct env *e)
{
	char line[1024];

	CHECK(e, !qmp_line_within(e, true, "DEVICE_DELETED", line,
				  sizeof(line), QUIET_MS, true),
	      "DEVICE_DELETED although the guest did not eject: %s", line);
	return true;
}

/* One command; its reply must be a return. */
static bool qmp(struct env *e, const char *cmd, char *reply, size_t len)
{
	size_t l = strlen(cmd);

	CHECK(e, write(e->qmp, cmd, l) == (ssize_t)l &&
	      write(e->qmp, "\n", 1) == 1, "QMP write: %s", strerror(errno));
	if (!qmp_line(e, false, NULL, reply, len))
		return false;
	CHECK(e, strstr(reply, "\"return\""), "QMP %s: %s", cmd, reply);
	return true;
}

static bool dm_start(struct env *e, unsigned int domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dom[16], chardev[300], path[sizeof(sa.sun_path)], line[4096];
	const char *argv[16];
	struct proc *p;
	int n = 0;

	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->dir, domid);
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
	argv[n++] = e->dir;
	argv[n++] = "-v";
	argv[n] = NULL;
	p = spawn(e, "dm", argv);
	CHECK(e, p, "cannot start xpt-dm");
	if (!wait_file(e, path, p))
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	e->qmp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(e, e->qmp >= 0 && connect(e->qmp, (struct sockaddr *)&sa,
					sizeof(sa)) == 0,
	      "QMP connect: %s", strerror(errno));
	if (!qmp_line(e, false, NULL, line, sizeof(line)))	/* greeting */
		return false;
	return qmp(e, "{\"execute\": \"qmp_capabilities\"}", line,
		   sizeof(line));
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

struct qdev {
	char bdf[16], host[16], driver[8], irq[8], counts[80];
	unsigned int vendor, device, class, vectors;
	unsigned long long count;
};

struct qstatus {
	unsigned int n;
	bool hvm;
	struct qdev d[8];
};

static bool guest_start(struct env *e, unsigned int domid, struct proc **ret)
{
	char dom[16], path[256];
	const char *argv[10];
	struct proc *p;

	snprintf(dom, sizeof(dom), "%u", domid);
	argv[0] = bin_guest;
	argv[1] = "--rundir";
	argv[2] = e->dir;
	argv[3] = "--domid";
	argv[4] = dom;
	argv[5] = "--hvm";
	argv[6] = "-vv";
	argv[7] = NULL;
	p = spawn(e, "guest", argv);
	CHECK(e, p, "cannot start xpt-guest --hvm");
	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->dir, domid);
	*ret = p;
	/* the pid file follows the boot-time scan */
	return wait_file(e, path, p);
}

static bool guest_query(struct env *e, unsigned int domid, const char *req,
			char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + WAIT_MS;
	size_t n = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/guest/%u", e->dir,
		 domid);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(e, "guest query: %s", strerror(errno));
	}
	reply[0] = '\0';
	while (n < len - 1 && !(n >= 4 && !strcmp(reply + n - 4, "end\n"))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		r = read(fd, reply + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		reply[n] = '\0';
	}
	close(fd);
	CHECK(e, n >= 4 && !strcmp(reply + n - 4, "end\n"),
	      "guest: no complete reply to %s: '%s'", req, reply);
	return true;
}

static bool guest_status(struct env *e, unsigned int domid, struct qstatus *s)
{
	char reply[8192], *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!guest_query(e, domid, "status", reply, sizeof(reply)))
		return false;
	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct qdev *d = &s->d[s->n];

		if (!strncmp(line, "state ", 6)) {
			s->hvm = strstr(line, " hvm") != NULL;
			continue;
		}
		if (strncmp(line, "dev ", 4) || s->n == 8)
			continue;
		if (sscanf(line, "dev %15s host=%15s vendor=0x%x device=0x%x "
			   "class=0x%x driver=%7s irq=%7s vectors=%u count=%llu "
			   "counts=%79s", d->bdf, d->host, &d->vendor,
			   &d->device, &d->class, d->driver, d->irq,
			   &d->vectors, &d->count, d->counts) >= 9)
			s->n++;
	}
	return true;
}

static bool reprobe(struct env *e, unsigned int domid)
{
	char reply[256];

	if (!guest_query(e, domid, "reprobe", reply, sizeof(reply)))
		return false;
	CHECK(e, !strcmp(reply, "ok\nend\n"), "reprobe: %s", reply);
	return true;
}

/* The guest, told by its SCI, comes to see n devices (no reprobe): its
 * status is asked again until then, bounded. */
static bool guest_sees(struct env *e, unsigned int domid, unsigned int n,
		       struct qstatus *s)
{
	int64_t deadline = now_ms() + WAIT_MS;

	for (;;) {
		if (!guest_status(e, domid, s))
			return false;
		if (s->n == n)
			return true;
		CHECK(e, now_ms() < deadline, "the guest sees %u devices, not "
		      "%u, after %d ms", s->n, n, WAIT_MS);
		poll(NULL, 0, 20);
	}
}

static const struct qdev *qfind(const struct qstatus *s, unsigned int vendor)
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
	const struct qdev *q;
	struct qstatus s;
	struct proc *g;
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
	r = hv_open_domain(e->dir, dom, &vcpu);
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
	struct proc *g;
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
	proc_stop(g);
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
	struct proc *g;
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
	CHECK(e, write(e->qmp, half, strlen(half)) == (ssize_t)strlen(half),
	      "QMP write: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-%u", e->dir,
		 dom);
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
	struct proc *g;
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
	CHECK(e, write(e->qmp, del, sizeof(del) - 1) == sizeof(del) - 1,
	      "QMP write: %s", strerror(errno));
	if (!qmp_line(e, false, NULL, line, sizeof(line)))
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
	r = hv_open_domain(e->dir, dom, &vcpu);
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
		       ok ? "" : ": ", ok ? "" : e.why);
		fflush(stdout);
		env_stop(&e, !ok);
		ok ? pass++ : failed++;
	}
	printf("e2e-hvm-guest: %u passed, %u failed\n", pass, failed);
	return failed ? 1 : 0;
}
