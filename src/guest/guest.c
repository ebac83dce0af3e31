/* SPDX-License-Identifier: MIT */
/*
 * xpt-guest: a PV guest kernel for PCI passthrough tests (or an HVM or
 * PVH one).  It talks to
 * xenstore and the hypervisor only through its own domain's sockets, so it
 * can do exactly what a guest can, and answers "what do you see?" on its
 * query socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xenstore.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"
#include "parse.h"

static const char usage[] =
"Usage: xpt-guest --rundir DIR --domid N [OPTION]...\n"
"A PV guest kernel with pcifront: finds its passed-through PCI devices over\n"
"xenstore and the pci_op page, enables MSI-X/MSI/INTx and counts interrupts.\n"
"With --hvm, an HVM guest: PCI config I/O on bus 0, answered by its device\n"
"model.  With --pvh, a PVH guest: bus 0 through the hypervisor's vPCI.\n"
"\n"
"  -R, --rundir DIR            run directory: xenstore via DIR/domain/N, the\n"
"                              hypervisor via DIR/hv/domain/N; query socket\n"
"                              DIR/guest/N, pid file DIR/guest/N.pid\n"
"  -d, --domid N               the domain this guest runs as\n"
"  -t, --pciop-timeout-ms MS   how long a pci_op may take (default 2000)\n"
"  -H, --hold-backend          publish the frontend but act on backend states\n"
"                              only after a `resume` query (a slow guest)\n"
"      --rescan-delay-ms MS    answer the backend's Reconfigured (8) only MS\n"
"                              later (a slow rescan, as Linux 6.12's under\n"
"                              emulation)\n"
"      --connect-delay-ms MS   connect (scan the roots after the backend's\n"
"                              Connected) only MS later: a guest whose first\n"
"                              scan is slow (a device probe under load)\n"
"      --sysfs-delay-ms MS     a device pcifront found shows by its host\n"
"                              address (pci-dev, conf-read, conf-write: a\n"
"                              stub domain's sysfs, which its device model\n"
"                              opens) only MS later, as Linux's pcifront adds\n"
"                              it to sysfs some time after Connected\n"
"      --no-missed-connected   pcifront before Linux 6.1: a backend already\n"
"                              Reconfiguring when the guest looks for the\n"
"                              first time (it missed Connected) is ignored\n"
"      --hvm                   an HVM guest: no xenstore, no pcifront; scan\n"
"                              bus 0 through ports 0xcf8/0xcfc at start and at\n"
"                              `reprobe`, hot-plug through ACPI (the SCI)\n"
"      --pvh                   a PVH guest: no xenstore, no pcifront, no device\n"
"                              model; bus 0 through the hypervisor's vPCI\n"
"                              (config space, BARs by guest-physical MMIO),\n"
"                              scanned at start, every 200 ms and at `reprobe`\n"
"      --stubdom               a device-model stub domain: a PV guest whose\n"
"                              pcifront devices no driver binds; at start it\n"
"                              reads /local/domain/N/target (G), G's vm path\n"
"                              and <vm>/image/dm-argv/001.. and runs the\n"
"                              device model with them and its QMP monitor on\n"
"                              DIR/qmp-libxl-G (log DIR/log/dm-G.log)\n"
"      --dm-binary PATH        the device model --stubdom runs (xpt-dm)\n"
"      --dm-delay-ms MS        --stubdom: start the device model only MS\n"
"                              after boot (a stub domain that boots slowly)\n"
"  test-only, a hostile frontend (xpt-guest(8), HOSTILE FRONTEND):\n"
"      --front-ref VALUE       publish pci-op-ref = VALUE instead of the ref\n"
"      --front-event-channel VALUE  publish event-channel = VALUE\n"
"      --front-magic VALUE     publish magic = VALUE\n"
"      --grant-to DOMID        grant the shared page to DOMID, not the backend\n"
"      --no-frontend           pcifront does nothing (the test writes the\n"
"                              frontend's nodes as this domain)\n"
"  -v, --verbose               more log output (repeat for debug)\n"
"  -h, --help                  show this help and exit\n"
"  -V, --version               show the version and exit\n"
"\n"
"Query socket requests: status, reprobe, resume, shutdown REASON, and for\n"
"a PV guest its own view of a device by host address (what a stub domain's\n"
"device model reads in sysfs): pci-dev BDF, conf-read BDF REG SIZE,\n"
"conf-write BDF REG SIZE VALUE; a PVH guest has conf-read and conf-write\n"
"at its own addresses (0000:00:dd.0).  Test-only: pci-op CMD DOMAIN BUS\n"
"DEVFN OFFSET SIZE VALUE NENT COUNT, end-grant.\n"
"SIGTERM stops the guest (and a stub domain's device model) and removes\n"
"its socket and pid file.\n"
"See xpt-guest(8).\n";

static void guest_parse_args(struct guest *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "domid", required_argument, NULL, 'd' },
		{ "pciop-timeout-ms", required_argument, NULL, 't' },
		{ "hold-backend", no_argument, NULL, 'H' },
		{ "hvm", no_argument, NULL, 'M' },
		{ "pvh", no_argument, NULL, 'P' },
		{ "no-missed-connected", no_argument, NULL, 'N' },
		{ "rescan-delay-ms", required_argument, NULL, 'D' },
		{ "connect-delay-ms", required_argument, NULL, 'C' },
		{ "sysfs-delay-ms", required_argument, NULL, 'Y' },
		{ "stubdom", no_argument, NULL, 'S' },
		{ "dm-binary", required_argument, NULL, 'B' },
		{ "dm-delay-ms", required_argument, NULL, 'L' },
		{ "front-ref", required_argument, NULL, 'F' },
		{ "front-event-channel", required_argument, NULL, 'E' },
		{ "front-magic", required_argument, NULL, 'G' },
		{ "grant-to", required_argument, NULL, 'T' },
		{ "no-frontend", no_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int level = LOG_LVL_WARN, o;
	bool have_domid = false;
	unsigned long v;

	g->pciop_timeout_ms = 2000;
	g->grant_to = -1;
	while ((o = getopt_long(argc, argv, "R:d:t:HvhV", opts, NULL)) != -1) {
		switch (o) {
		case 'R':
			g->rundir = optarg;
			break;
		case 'd':
			if (parse_ulong(optarg, 0x7fef, &v) < 0 || v == 0)
				fatal("--domid: not a guest domid: %s", optarg);
			g->domid = (unsigned int)v;
			have_domid = true;
			break;
		case 't':
			if (parse_ulong(optarg, 600000, &v) < 0 || v == 0)
				fatal("--pciop-timeout-ms: 1..600000: %s",
				      optarg);
			g->pciop_timeout_ms = (int)v;
			break;
		case 'H':
			g->hold = true;
			break;
		case 'M':
			g->hvm = true;
			break;
		case 'P':
			g->pvh = true;
			break;
		case 'N':
			g->no_missed_connected = true;
			break;
		case 'D':
			if (parse_ulong(optarg, 600000, &v) < 0)
				fatal("--rescan-delay-ms: 0..600000: %s",
				      optarg);
			g->rescan_delay_ms = (int)v;
			break;
		case 'C':
			if (parse_ulong(optarg, 600000, &v) < 0)
				fatal("--connect-delay-ms: 0..600000: %s",
				      optarg);
			g->connect_delay_ms = (int)v;
			break;
		case 'Y':
			if (parse_ulong(optarg, 600000, &v) < 0)
				fatal("--sysfs-delay-ms: 0..600000: %s",
				      optarg);
			g->sysfs_delay_ms = (int)v;
			break;
		case 'S':
			g->stubdom = true;
			break;
		case 'B':
			g->dm_binary = optarg;
			break;
		case 'L':
			if (parse_ulong(optarg, 600000, &v) < 0)
				fatal("--dm-delay-ms: 0..600000: %s", optarg);
			g->dm_delay_ms = (int)v;
			break;
		case 'F':
			g->front_ref = optarg;
			break;
		case 'E':
			g->front_port = optarg;
			break;
		case 'G':
			g->front_magic = optarg;
			break;
		case 'O':
			g->no_frontend = true;
			break;
		case 'T':
			if (parse_ulong(optarg, 0x7fef, &v) < 0)
				fatal("--grant-to: a domid: %s", optarg);
			g->grant_to = (int)v;
			break;
		case 'v':
			level++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("xpt-guest %s\n", XPT_VERSION);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind != argc || !g->rundir || !have_domid) {
		fputs(usage, stderr);
		exit(2);
	}
	if (g->hvm && g->pvh)
		fatal("--hvm and --pvh: a guest is one or the other");
	if (g->stubdom && (g->hvm || g->pvh || !g->dm_binary))
		fatal("--stubdom needs --dm-binary PATH and is a PV guest "
		      "(not --hvm)");
	if (g->dm_binary && !g->stubdom)
		fatal("--dm-binary is for --stubdom only");
	log_init("xpt-guest", level);
}

static void guest_write_pidfile(const struct guest *g)
{
	char tmp[4200], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", g->pid_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("cannot write pid file %s: %m", tmp);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
	    rename(tmp, g->pid_path) < 0)
		fatal("cannot write pid file %s: %m", g->pid_path);
}

static int guest_open(struct guest *g)
{
	char path[4096];
	int r;

	if (g->hvm || g->pvh)
		goto hv;	/* no PV drivers: no xenstore */
	snprintf(path, sizeof(path), "%s/domain/%u", g->rundir, g->domid);
	setenv("XENSTORED_PATH", path, 1);
	g->xs = xs_open(0);
	if (!g->xs) {
		log_err("cannot open xenstore as dom%u at %s: %m (was the "
			"domain introduced?)", g->domid, path);
		return -errno;
	}
hv:
	r = hv_open_domain(g->rundir, g->domid, &g->hv);
	if (r < 0) {
		log_err("cannot open the hypervisor as dom%u under %s/hv: %s",
			g->domid, g->rundir, strerror(-r));
		return r;
	}
	if (hv_self(g->hv) != g->domid) {
		log_err("the hypervisor says we are dom%u, not dom%u",
			hv_self(g->hv), g->domid);
		return -EPERM;
	}
	return 0;
}

/*
 * Take the watch events queued: false once the connection is gone
 * (xenstored died: libxenstore closed it at the EOF, or at the first
 * request that failed) and none is left.
 */
static bool guest_xs_events(struct guest *g, bool *ret_any)
{
	char **w;

	*ret_any = false;
	while ((w = xs_check_watch(g->xs))) {
		free(w);
		*ret_any = true;
	}
	return errno == EAGAIN;
}

/*
 * pcifront looks at xenstore after the events queued are taken, and
 * again while its own requests bring more (a few rounds; what is left
 * keeps the watch pipe readable for the next poll).  A kernel whose
 * xenstored died neither stops nor lets go of its devices: the guest
 * runs on without xenstore, its devices and their pci_op ring as they
 * are, until its domain is destroyed.  The dead connection is polled
 * no more.
 */
static void guest_xs_step(struct guest *g)
{
	bool any;
	int i;

	for (i = 0; i < 4; i++) {
		if (!guest_xs_events(g, &any)) {
			log_err("lost the xenstore connection (xenstored "
				"died?): running on without it, devices as "
				"they are");
			g->xs_lost = true;
			g->rescan_due = 0;
			return;
		}
		if (i > 0 && !any)
			return;
		pcifront_step(g);
	}
}

enum { PFD_SIG, PFD_XS, PFD_LISTEN, PFD_PORT, PFD_SCI, PFD_DM, PFD_FIXED };
#define PFD_MAX (PFD_FIXED + GUEST_MAX_CLIENTS + GUEST_MAX_DEVS * GUEST_MAX_VEC)

static void guest_loop(struct guest *g, int sigfd)
{
	struct pollfd pfd[PFD_MAX];
	struct qclient *who[PFD_MAX];
	unsigned int i, j, n;
	uint64_t cnt;
	int poll_ms;

	while (!g->quit) {
		memset(who, 0, sizeof(who));
		pfd[PFD_SIG] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[PFD_XS] = (struct pollfd){ .fd = g->xs && !g->xs_lost ?
					       xs_fileno(g->xs) : -1,
					       .events = POLLIN };
		pfd[PFD_LISTEN] = (struct pollfd){ .fd = g->listen_fd,
						   .events = POLLIN };
		/* stray notifications on the op port, outside a request */
		pfd[PFD_PORT] = (struct pollfd){ .fd = g->port_fd,
						 .events = POLLIN };
		pfd[PFD_SCI] = (struct pollfd){ .fd = g->sci_fd,
						.events = POLLIN };
		pfd[PFD_DM] = (struct pollfd){ .fd = g->dm.pidfd,
					       .events = POLLIN };
		n = PFD_FIXED;
		for (i = 0; i < GUEST_MAX_CLIENTS; i++)
			if (g->client[i].fd >= 0) {
				who[n] = &g->client[i];
				pfd[n++] = (struct pollfd){
					.fd = g->client[i].fd, .events = POLLIN };
			}
		for (i = 0; i < GUEST_MAX_DEVS; i++)
			for (j = 0; g->dev[i].used && j < g->dev[i].nvec; j++)
				if (g->dev[i].fd[j] >= 0)
					pfd[n++] = (struct pollfd){
						.fd = g->dev[i].fd[j],
						.events = POLLIN };
		poll_ms = -1;
		if (g->rescan_due) {	/* a delayed rescan: wake for it */
			int64_t left = g->rescan_due - guest_now_ms();

			poll_ms = left < 0 ? 0 : (int)left;
		}
		if (g->pvh_scan_due) {	/* a PVH guest's next rescan */
			int64_t left = g->pvh_scan_due - guest_now_ms();

			if (left < 0)
				left = 0;
			if (poll_ms < 0 || left < poll_ms)
				poll_ms = (int)left;
		}
		if (g->dm_due) {	/* the slow stub's device model */
			int64_t left = g->dm_due - guest_now_ms();

			if (left < 0)
				left = 0;
			if (poll_ms < 0 || left < poll_ms)
				poll_ms = (int)left;
		}
		if (poll(pfd, n, poll_ms) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %m");
		}
		if (pfd[PFD_SIG].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("guest: signal %u, stopping",
					 si.ssi_signo);
			break;
		}
		if (pfd[PFD_PORT].fd >= 0 && pfd[PFD_PORT].revents)
			hv_evtchn_ack(g->port_fd, &cnt);
		if (pfd[PFD_SCI].fd >= 0 && pfd[PFD_SCI].revents)
			hvm_acpi_sci(g);
		if (pfd[PFD_DM].fd >= 0 && pfd[PFD_DM].revents)
			stubdom_reap(g);
		for (i = 0; i < GUEST_MAX_DEVS; i++)
			if (g->dev[i].used)
				driver_poll_irqs(&g->dev[i]);
		if ((pfd[PFD_XS].fd >= 0 && pfd[PFD_XS].revents) ||
		    (g->rescan_due && guest_now_ms() >= g->rescan_due))
			guest_xs_step(g);
		if (g->pvh_scan_due && guest_now_ms() >= g->pvh_scan_due) {
			hvm_scan(g);
			pvh_schedule_rescan(g);
		}
		if (g->dm_due && guest_now_ms() >= g->dm_due) {
			g->dm_due = 0;
			stubdom_start(g);
		}
		if (pfd[PFD_LISTEN].revents)
			query_accept(g);
		for (i = PFD_FIXED; i < n; i++)
			if (who[i] && who[i]->fd == pfd[i].fd &&
			    pfd[i].revents)
				query_input(g, who[i]);
	}
}

int main(int argc, char **argv)
{
	struct guest g = { .listen_fd = -1, .sci_fd = -1,
			   .dm = { .pid = -1, .pidfd = -1 } };
	sigset_t mask;
	int sigfd, r;

	guest_parse_args(&g, argc, argv);
	pcifront_init(&g);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0)
		fatal("signalfd: %m");
	signal(SIGPIPE, SIG_IGN);
	if (guest_open(&g) < 0)
		return 1;
	r = query_open(&g);
	if (r < 0)
		fatal("cannot create the query socket under %s/guest: %s",
		      g.rundir, strerror(-r));
	if (g.pvh) {
		/* the kernel's scan of its vPCI bus, then again and again:
		 * no hot-plug event reaches a PVH guest */
		hvm_scan(&g);
		pvh_schedule_rescan(&g);
	} else if (g.hvm) {
		/* firmware's scan: a device model not yet running answers
		 * nothing, and the guest sees no device; then the kernel's
		 * ACPI, which takes hotplug events from here on */
		hvm_scan(&g);
		hvm_acpi_init(&g);
	} else {
		r = pcifront_watch(&g);
		if (r < 0)
			fatal("cannot watch %s: %s", g.fe_path, strerror(-r));
	}
	/* a refusal is logged; the stub stays up without a device model,
	 * as a Linux stub domain whose init failed does */
	if (g.stubdom && g.dm_delay_ms) {
		g.dm_due = guest_now_ms() + g.dm_delay_ms;
		log_info("stubdom: the device model starts in %d ms "
			 "(--dm-delay-ms)", g.dm_delay_ms);
	} else if (g.stubdom) {
		stubdom_start(&g);
	}
	guest_write_pidfile(&g);
	log_info("guest: dom%u running%s, query socket %s", g.domid,
		 g.hvm ? " (HVM)" : g.pvh ? " (PVH)" : g.stubdom ?
		 " (stub domain)" : "",
		 g.sock_path);
	guest_loop(&g, sigfd);

	/* A guest that stops does not say goodbye on xenstore: its domain
	 * is going away.  Only local resources are released. */
	g.dead_backend = true;
	if (g.stubdom)
		stubdom_stop(&g);
	query_close(&g);
	unlink(g.pid_path);
	if (g.hvm || g.pvh)
		hvm_teardown(&g);
	else
		pcifront_teardown(&g);
	hv_close(g.hv);
	if (g.xs)
		xs_close(g.xs);
	close(sigfd);
	return 0;
}
