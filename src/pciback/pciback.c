// SPDX-License-Identifier: MIT
/*
 * xpt-pciback: Linux xen-pciback's role in dom0, as a process.  Command
 * line, start-up (hypervisor, xenstore, control socket), readiness and
 * shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenstore.h>

#include "log.h"
#include "pciback.h"

static const char usage_text[] =
"Usage: xpt-pciback [OPTION]...\n"
"The PCI backend of dom0 (Linux xen-pciback's role): seizes host devices,\n"
"exports them to PV guests over xenstore (backend/pci/<domid>/0), serves\n"
"their pcifront's config-space and MSI/MSI-X requests (xen/io/pciif.h).\n"
"\n"
"  -R, --rundir DIR         run directory (default: $XPT_RUNDIR, else\n"
"                           /run/xpt); xenstore at DIR/socket, hypervisor at\n"
"                           DIR/hv/control, control socket\n"
"                           DIR/pciback/control, pid file\n"
"                           DIR/pciback/pciback.pid (written once ready)\n"
"  -s, --seize BDF          seize a device at start-up (repeatable; like\n"
"                           xen-pciback.hide=)\n"
"      --historic           behave like Linux before 5.13: ignore backend\n"
"                           writes while Initialised (per-device cold-plug\n"
"                           exports only the first device), and refuse a\n"
"                           second MSI-X enable with -EALREADY (6.1)\n"
"      --passthrough-topology\n"
"                           guests see host addresses (xen-pciback\n"
"                           passthrough=1) instead of the virtual bus 0000:00\n"
"  -v, --verbose            more log output (repeat for debug)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Control socket requests (one line each): seize BDF, release BDF, reset BDF,\n"
"permissive BDF, list.  SIGTERM or SIGINT stops the daemon and removes its\n"
"socket and pid file.  See xpt-pciback(8).\n";

struct cfg {
	const char *rundir;
	unsigned int profile;
	bool passthrough;
	int verbose;
	const char **seize;
	int nseize;
};

static void parse_args(int argc, char **argv, struct cfg *cfg)
{
	enum { OPT_HISTORIC = 256, OPT_PASSTHROUGH };
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "seize", required_argument, NULL, 's' },
		{ "historic", no_argument, NULL, OPT_HISTORIC },
		{ "passthrough-topology", no_argument, NULL, OPT_PASSTHROUGH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cfg->seize = calloc((size_t)argc, sizeof(*cfg->seize));
	if (!cfg->seize)
		fatal("out of memory");
	while ((c = getopt_long(argc, argv, "R:s:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'R': cfg->rundir = optarg; break;
		case 's': cfg->seize[cfg->nseize++] = optarg; break;
		case OPT_HISTORIC: cfg->profile |= PB_HISTORIC; break;
		case OPT_PASSTHROUGH: cfg->passthrough = true; break;
		case 'v': cfg->verbose++; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("xpt-pciback %s\n", XPT_VERSION); exit(0);
		default:
			fputs(usage_text, stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xpt-pciback: unexpected argument '%s'\n",
			argv[optind]);
		fputs(usage_text, stderr);
		exit(2);
	}
	if (!cfg->rundir)
		cfg->rundir = getenv("XPT_RUNDIR");
	if (!cfg->rundir || !cfg->rundir[0])
		cfg->rundir = "/run/xpt";
}

static void write_pidfile(const char *path)
{
	char tmp[4400], buf[32];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		fatal("cannot write pid file %s: %m", tmp);
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fputs(buf, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		fatal("cannot write pid file %s: %m", path);
}

int main(int argc, char **argv)
{
	struct cfg cfg = { 0 };
	struct pciback pb;
	struct pb_src sig_src = { PB_SRC_SIGNAL, NULL };
	struct hv_client *hv = NULL;
	struct xs_handle *xs;
	char dir[4096], path[4200], pidfile[4200];
	sigset_t mask;
	bool stop = false;
	int sigfd, r;

	parse_args(argc, argv, &cfg);
	log_init("xpt-pciback", LOG_LVL_INFO + (cfg.verbose > 0));

	/* Before any thread (libxenstore's reader) exists. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0)
		fatal("signalfd: %m");

	snprintf(dir, sizeof(dir), "%s/pciback", cfg.rundir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fatal("cannot create %s: %m", dir);
	r = hv_open(cfg.rundir, &hv);
	if (r < 0)
		fatal("cannot reach the hypervisor at %s/hv/control: %s; "
		      "start xpt-hypervisor first", cfg.rundir, strerror(-r));
	snprintf(path, sizeof(path), "%s/socket", cfg.rundir);
	setenv("XENSTORED_PATH", path, 1);
	xs = xs_open(0);
	if (!xs)
		fatal("cannot reach xenstore at %s: %m; start xpt-xenstored "
		      "first", path);
	r = pciback_init(&pb, xs, hv, cfg.profile);
	if (r < 0)
		fatal("cannot watch %s: %s", PB_BACKEND_ROOT, strerror(-r));
	pb.passthrough_topology = cfg.passthrough;
	snprintf(path, sizeof(path), "%s/control", dir);
	r = pciback_ctl_listen(&pb, path);
	if (r < 0)
		fatal("cannot listen on %s: %s", path, strerror(-r));
	if (pciback_epoll_add(&pb, sigfd, &sig_src) < 0)
		fatal("epoll: %m");
	for (int i = 0; i < cfg.nseize; i++) {
		char reply[512];

		snprintf(path, sizeof(path), "seize %s", cfg.seize[i]);
		if (pciback_ctl_request(&pb, path, reply, sizeof(reply)) < 0)
			fatal("--seize %s: %s", cfg.seize[i], reply);
	}
	snprintf(pidfile, sizeof(pidfile), "%s/pciback.pid", dir);
	write_pidfile(pidfile);
	log_info("ready: control %s, profile %s, %s topology", pb.ctlpath,
		 cfg.profile ? "historic" : "current",
		 cfg.passthrough ? "passthrough" : "vpci");

	while (!stop) {
		r = pciback_loop_once(&pb, 1000, &stop);
		if (r < 0)
			break;
		pciback_xs_check(&pb);
	}
	log_info("stopping");
	pciback_fini(&pb);
	xs_close(pb.xs);	/* a new one, after xenstored came back */
	hv_close(hv);
	close(sigfd);
	unlink(pidfile);
	free(cfg.seize);
	return r < 0 ? 1 : 0;
}
