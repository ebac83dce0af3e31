// SPDX-License-Identifier: MIT
/*
 * xpt-dm: the device model of one HVM guest, QEMU's role, started with
 * the arguments libxl gives QEMU (the subset that matters here):
 *
 *   xpt-dm -xen-domid 5 -chardev socket,id=libxl-cmd,path=P,server=on,
 *          wait=off -mon chardev=libxl-cmd,mode=control -S -nodefaults
 *          -no-shutdown -machine xenfv
 *
 * It serves QMP on P, one client at a time as QEMU's socket chardev
 * does, and announces readiness as QEMU does: when the VM starts running
 * (at once without -S, at `cont` with it) it writes
 * /local/domain/<dm-domid>/device-model/<domid>/state = running.  No
 * peer input ends it: a bad client is answered or dropped.
 *
 * With --dm-domid S (not 0) it runs in stub domain S, started by the
 * stub's init (xpt-guest --stubdom): it is S to xenstore (DIR/domain/S)
 * and to the hypervisor (DIR/hv/domain/S), where S's target gives it
 * the device-model ops on its guest, and it reaches host devices only
 * through S's pcifront (hostdev.c).
 *
 * It also emulates what the guest sees of its passed-through devices:
 * an ioreq server created at start-up and enabled while the VM runs
 * (ioreq.c), config space and MSI/MSI-X (emu.c).  QMP and guest
 * requests share one poll loop and neither waits on the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"
#include "parse.h"

static const char usage[] =
"Usage: xpt-dm -xen-domid N -chardev socket,id=ID,path=PATH,server=on,wait=off\n"
"              -mon chardev=ID,mode=control [OPTION]...\n"
"The device model of an HVM guest on the xpt modelled host (QEMU's role):\n"
"a QMP monitor on PATH and xen-pci-passthrough devices, emulated for the\n"
"guest through an ioreq server (config space, MSI, MSI-X).\n"
"\n"
"  -xen-domid N            the guest this device model serves\n"
"  -chardev socket,...     the QMP socket (server=on,wait=off)\n"
"  -mon chardev=ID,mode=control   make that chardev the QMP monitor\n"
"  -S                      start paused: running (and the xenstore state)\n"
"                          only after QMP `cont`\n"
"  -nodefaults, -no-shutdown, -machine M, -nographic, -display none,\n"
"  -name N, -m M, -smp N   accepted as QEMU takes them\n"
"  --rundir DIR            the modelled host's run directory (xenstore at\n"
"                          DIR/socket, the hypervisor at DIR/hv); default\n"
"                          $XPT_RUNDIR\n"
"  --dm-domid N            the domain the device model runs in (default 0);\n"
"                          not 0: a stub domain's device model, connected\n"
"                          as N (xenstore DIR/domain/N, hypervisor\n"
"                          DIR/hv/domain/N), host devices through N's\n"
"                          pcifront\n"
"  --stubdom-front PATH    the stub domain's kernel to ask for its devices'\n"
"                          sysfs and config space (default DIR/guest/N)\n"
"  -v, --verbose           more log output\n"
"  -h, --help              this help;  -V, --version  the version\n"
"See xpt-dm(8).\n";

static int parse_domid(const char *s, unsigned int *ret)
{
	unsigned long v;
	int r = parse_ulong(s, 0x7fef, &v);

	if (r == 0)
		*ret = (unsigned int)v;
	return r;
}

/* "key=value" from a comma list; NULL when absent. */
static const char *opt_value(const char *list, const char *key, char *buf,
			     size_t len)
{
	size_t kl = strlen(key);
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)(n - kl - 1), p + kl + 1);
			return buf;
		}
		p = comma ? comma + 1 : NULL;
	}
	return NULL;
}

static _Noreturn void bad_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static _Noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xpt-dm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'xpt-dm --help'.\n");
	exit(2);
}

static void parse_args(struct dm *d, int argc, char **argv)
{
	char chardev_id[64] = "", mon_id[64] = "", v[256], path[256] = "";
	const char *rundir = getenv("XPT_RUNDIR"), *front = NULL;
	bool have_domid = false;
	int i, verbose = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] :
						 NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("xpt-dm %s\n", XPT_VERSION);
			exit(0);
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose++;
		} else if (!strcmp(a, "-S")) {
			d->start_paused = true;
		} else if (!strcmp(a, "-nodefaults") ||
			   !strcmp(a, "-no-shutdown") ||
			   !strcmp(a, "-nographic") ||
			   !strcmp(a, "-no-user-config")) {
			continue;
		} else if (!next) {
			bad_usage("option '%s' needs an argument", a);
		} else if (!strcmp(a, "-xen-domid")) {
			if (parse_domid(next, &d->domid) < 0)
				bad_usage("-xen-domid '%s': not a domain id",
					  next);
			have_domid = true;
			i++;
		} else if (!strcmp(a, "--dm-domid")) {
			if (parse_domid(next, &d->dm_domid) < 0)
				bad_usage("--dm-domid '%s': not a domain id",
					  next);
			i++;
		} else if (!strcmp(a, "--rundir")) {
			rundir = next;
			i++;
		} else if (!strcmp(a, "--stubdom-front")) {
			front = next;
			i++;
		} else if (!strcmp(a, "-chardev")) {
			if (strncmp(next, "socket,", 7) ||
			    !opt_value(next, "id", chardev_id,
				       sizeof(chardev_id)) ||
			    !opt_value(next, "path", path, sizeof(path)))
				bad_usage("-chardev '%s': want socket,id=ID,"
					  "path=PATH,server=on,wait=off", next);
			if (!opt_value(next, "server", v, sizeof(v)) ||
			    strcmp(v, "on"))
				bad_usage("-chardev '%s': only server=on is "
					  "served", next);
			i++;
		} else if (!strcmp(a, "-mon")) {
			if (!opt_value(next, "chardev", mon_id,
				       sizeof(mon_id)) ||
			    !opt_value(next, "mode", v, sizeof(v)) ||
			    strcmp(v, "control"))
				bad_usage("-mon '%s': want chardev=ID,"
					  "mode=control", next);
			i++;
		} else if (!strcmp(a, "-machine") || !strcmp(a, "-M") ||
			   !strcmp(a, "-display") || !strcmp(a, "-name") ||
			   !strcmp(a, "-m") || !strcmp(a, "-smp")) {
			i++;
		} else {
			bad_usage("unknown option '%s'", a);
		}
	}
	if (!have_domid)
		bad_usage("%s", "-xen-domid N is required");
	if (!path[0] || strcmp(chardev_id, mon_id))
		bad_usage("%s", "a -chardev socket and a -mon on it are "
			  "required (the QMP socket)");
	if (strlen(path) >= sizeof(d->qmp_path))
		bad_usage("QMP socket path '%s' is too long", path);
	memcpy(d->qmp_path, path, strlen(path) + 1);	/* fits: checked */
	snprintf(d->rundir, sizeof(d->rundir), "%s", rundir ? rundir :
		 "/run/xpt");
	if (front && !d->dm_domid)
		bad_usage("%s", "--stubdom-front is for a device model in a "
			  "stub domain (--dm-domid N, not 0)");
	if (d->dm_domid && !front) {
		if (snprintf(v, sizeof(v), "%.200s/guest/%u", d->rundir,
			     d->dm_domid) >= (int)sizeof(d->front_path))
			bad_usage("%s", "--rundir is too long for the stub "
				  "domain's socket");
		front = v;
	}
	if (front && strlen(front) >= sizeof(d->front_path))
		bad_usage("the stub domain's socket '%s' is too long", front);
	if (front)
		memcpy(d->front_path, front, strlen(front) + 1);
	if (d->dm_domid == d->domid && d->dm_domid)
		bad_usage("%s", "--dm-domid must be another domain than "
			  "-xen-domid");
	log_init("xpt-dm", LOG_LVL_INFO + verbose);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void client_close(struct dm *d)
{
	if (d->client_fd >= 0)
		close(d->client_fd);
	d->client_fd = -1;
	d->in_len = 0;
	d->negotiated = false;
}

static void client_read(struct dm *d)
{
	ssize_t n;

	if (d->in_len >= DM_MAX_LINE) {
		client_close(d);
		return;
	}
	n = read(d->client_fd, d->in + d->in_len, DM_MAX_LINE - d->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(d);
		return;
	}
	d->in_len += (size_t)n;
	if (qmp_input(d) < 0)
		client_close(d);
}

int main(int argc, char **argv)
{
	struct dm d = { .listen_fd = -1, .client_fd = -1, .ioreq_fd = -1,
			.front_fd = -1 };
	char xspath[300];
	sigset_t mask;
	int sfd, r;

	signal(SIGPIPE, SIG_IGN);
	parse_args(&d, argc, argv);
	d.in = malloc(DM_MAX_LINE + 1);
	if (!d.in)
		fatal("out of memory");
	/* a stub domain's device model is that domain to xenstore, as a
	 * guest's kernel is */
	if (d.dm_domid) {
		snprintf(xspath, sizeof(xspath), "%s/domain/%u", d.rundir,
			 d.dm_domid);
		setenv("XENSTORED_PATH", xspath, 1);
	} else {
		snprintf(xspath, sizeof(xspath), "%s/socket", d.rundir);
		if (!getenv("XENSTORED_PATH") && access(xspath, F_OK) == 0)
			setenv("XENSTORED_PATH", xspath, 1);
	}
	d.xs = xs_open(0);
	if (!d.xs)
		log_warn("no xenstore (%s%s%s): the device-model state is not "
			 "written", d.dm_domid ? xspath : "", d.dm_domid ?
			 ": " : "", strerror(errno));
	/* QEMU's machine init: the server exists before the monitor
	 * answers, enabled only when the VM runs. */
	r = ioreq_start(&d);
	if (r < 0)
		log_warn("domain %u: no ioreq server (%s): passed-through "
			 "devices are not guest-visible", d.domid, strerror(-r));
	d.listen_fd = listen_on(d.qmp_path);
	if (d.listen_fd < 0)
		fatal("cannot listen on %s: %s", d.qmp_path,
		      strerror(-d.listen_fd));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		fatal("signalfd: %s", strerror(errno));
	log_info("domain %u: QMP on %s%s", d.domid, d.qmp_path,
		 d.start_paused ? ", paused (-S)" : "");
	if (d.dm_domid)
		log_info("domain %u: running in stub domain %u, host devices "
			 "through %s", d.domid, d.dm_domid, d.front_path);
	if (d.start_paused)
		d.status = DM_PRELAUNCH;
	else
		dm_set_status(&d, DM_RUNNING);
	while (!d.quit) {
		struct pollfd p[4] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = d.client_fd < 0 ? d.listen_fd : -1,
			  .events = POLLIN },
			{ .fd = d.client_fd, .events = POLLIN },
			{ .fd = d.ioreq_fd, .events = POLLIN },
		};

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (p[0].revents)
			break;
		if (p[3].revents & POLLIN)
			ioreq_serve(&d);
		if (p[1].revents & POLLIN) {
			/* one monitor client at a time, as QEMU's socket
			 * chardev: the next waits in the backlog */
			d.client_fd = accept4(d.listen_fd, NULL, NULL,
					      SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (d.client_fd >= 0)
				qmp_greet(&d);
		}
		if (d.client_fd >= 0 && (p[2].revents & (POLLIN | POLLHUP |
							 POLLERR)))
			client_read(&d);
	}
	log_info("domain %u: device model exits", d.domid);
	ioreq_stop(&d);
	client_close(&d);
	hostdev_close(&d);
	close(d.listen_fd);
	unlink(d.qmp_path);
	if (d.hv)
		hv_close(d.hv);
	if (d.xs)
		xs_close(d.xs);
	free(d.in);
	return 0;
}
