// SPDX-License-Identifier: MIT
/*
 * xpt-xenstored: a xenstore daemon speaking Xen's wire protocol over Unix
 * sockets and, on a Xen host, over the domains' rings (xen.c).  Command
 * line, start-up, readiness and shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "xenstored.h"

static const char usage_text[] =
"Usage: xpt-xenstored [OPTION]...\n"
"A xenstore daemon speaking Xen's wire protocol (xen/io/xs_wire.h) on Unix\n"
"sockets, with the semantics of Xen 4.17's C xenstored.\n"
"\n"
"  -R, --rundir DIR         run directory (default: $XPT_RUNDIR, else\n"
"                           /run/xpt); sockets DIR/socket, DIR/socket_ro and,\n"
"                           per introduced domain, DIR/domain/<domid>\n"
"  -F, --pid-file FILE      pid file, written once ready (default DIR/xenstored.pid)\n"
"      --ready-fd N         write \"READY=1\" to fd N once ready, then close it\n"
"  -T, --access-log FILE    log every request and reply to FILE\n"
"  -Q, --quota NAME=VALUE   set a quota for unprivileged domains (0 = no limit):\n"
"                           nodes (1000), node-size (2048), watches (128),\n"
"                           transactions (10), permissions (5), path-max (2048),\n"
"                           transaction-nodes (1024), outstanding (20),\n"
"                           memory (2621440), watch-event-timeout (20 s)\n"
"  -E, --entry-nb N         same as --quota nodes=N\n"
"  -S, --entry-size N       same as --quota node-size=N\n"
"  -W, --watch-nb N         same as --quota watches=N\n"
"  -t, --transaction N      same as --quota transactions=N\n"
"  -M, --path-max N         same as --quota path-max=N\n"
"  -A, --perm-nb N          same as --quota permissions=N\n"
"  -q, --quota-soft memory=N  log a warning when a domain uses more than N\n"
"                           bytes (2097152)\n"
"  -w, --timeout watch-event=SEC  same as --quota watch-event-timeout=SEC\n"
"  -X, --xen                serve the Xen host this runs on: dom0's ring\n"
"                           (/proc/xen/xsd_kva, xsd_port) and the guests'\n"
"                           rings; fail if that is not possible\n"
"      --no-xen             sockets only, even on a Xen host\n"
"                           (default: --xen when /proc/xen/xsd_kva exists and\n"
"                           this build has Xen's libraries, else sockets only)\n"
"  -D, --daemon             detach from the terminal once ready\n"
"  -N, --no-fork            stay in the foreground (the default)\n"
"  -v, --verbose            more log output (repeat for debug)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Clients find the store with XENSTORED_PATH=DIR/socket (libxenstore, the\n"
"xenstore-* tools, pyxs).  SIGTERM or SIGINT stops the daemon and removes\n"
"its sockets and pid file.  See xpt-xenstored(8).\n";

static int parse_uint(const char *s, unsigned int *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 0xffffffffUL || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

/* -Q NAME=VALUE, -q NAME=VALUE and the short forms: quota.c's names. */
static void set_quota(struct xsd_quota *q, const char *name, const char *val,
		      bool soft)
{
	const struct quota_def *def = quota_find(name, soft);
	unsigned int v;

	if (!def)
		fatal("unknown %squota '%s' (see --help for the list)",
		      soft ? "soft " : "", name);
	if (quota_parse(val, &v) < 0)
		fatal("quota %s: '%s' is not a number up to 2147483647", name,
		      val);
	*quota_ref(q, def) = v;
}

/* "NAME=VALUE" of -Q and -q. */
static void set_quota_arg(struct xsd_quota *q, char *arg, bool soft)
{
	char *eq = strchr(arg, '=');

	if (!eq)
		fatal("%s wants NAME=VALUE, got '%s'",
		      soft ? "--quota-soft" : "--quota", arg);
	*eq = '\0';
	set_quota(q, arg, eq + 1, soft);
}

static void parse_args(int argc, char **argv, struct xsd_config *cfg)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "pid-file", required_argument, NULL, 'F' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "access-log", required_argument, NULL, 'T' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "entry-nb", required_argument, NULL, 'E' },
		{ "entry-size", required_argument, NULL, 'S' },
		{ "watch-nb", required_argument, NULL, 'W' },
		{ "transaction", required_argument, NULL, 't' },
		{ "path-max", required_argument, NULL, 'M' },
		{ "perm-nb", required_argument, NULL, 'A' },
		{ "quota-soft", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "xen", no_argument, NULL, 'X' },
		{ "no-xen", no_argument, NULL, 'x' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "no-fork", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int v;
	int o;

	while ((o = getopt_long(argc, argv, "R:F:T:Q:q:w:E:S:W:t:M:A:XDNvhV",
				opts,
				NULL)) != -1) {
		switch (o) {
		case 'R': cfg->rundir = optarg; break;
		case 'F': cfg->pidfile = optarg; break;
		case 'T': cfg->access_log = optarg; break;
		case 'r':
			if (parse_uint(optarg, &v) < 0 || v > 1024)
				fatal("--ready-fd: '%s' is not a file "
				      "descriptor", optarg);
			cfg->ready_fd = v;
			break;
		case 'Q': set_quota_arg(&cfg->quota, optarg, false); break;
		case 'q': set_quota_arg(&cfg->quota, optarg, true); break;
		case 'w':
			/* C's -w watch-event=SEC: our watch-event-timeout */
			if (strncmp(optarg, "watch-event=", 12) != 0)
				fatal("--timeout: only watch-event=SECONDS "
				      "is known, got '%s'", optarg);
			set_quota(&cfg->quota, "watch-event-timeout",
				  optarg + 12, false);
			break;
		case 'E': set_quota(&cfg->quota, "nodes", optarg, false); break;
		case 'S': set_quota(&cfg->quota, "node-size", optarg, false); break;
		case 'W': set_quota(&cfg->quota, "watches", optarg, false); break;
		case 't':
			set_quota(&cfg->quota, "transactions", optarg, false);
			break;
		case 'M': set_quota(&cfg->quota, "path-max", optarg, false); break;
		case 'A':
			set_quota(&cfg->quota, "permissions", optarg, false);
			break;
		case 'X': cfg->xen = XSD_XEN_ON; break;
		case 'x': cfg->xen = XSD_XEN_OFF; break;
		case 'D': cfg->daemonize = true; break;
		case 'N': cfg->daemonize = false; break;
		case 'v': cfg->verbose++; break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			puts("xpt-xenstored " XPT_VERSION);
			exit(0);
		default:
			fputs("Try 'xpt-xenstored --help'.\n", stderr);
			exit(2);
		}
	}
	if (optind < argc)
		fatal("unexpected argument '%s' (try --help)", argv[optind]);
	if (!cfg->rundir)
		cfg->rundir = getenv("XPT_RUNDIR");
	if (!cfg->rundir || !*cfg->rundir)
		cfg->rundir = "/run/xpt";
}

static void write_pidfile(const char *path)
{
	char tmp[4096], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("cannot write pid file %s: %m", tmp);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, n) != n || close(fd) < 0 || rename(tmp, path) < 0)
		fatal("cannot write pid file %s: %m", path);
}

static void notify_systemd(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	       offsetof(struct sockaddr_un, sun_path) + strlen(path));
	close(fd);
}

/* --xen, --no-xen or, by default, Xen when this is a Xen host's dom0. */
static void start_xen(struct xsd *xsd)
{
	int mode = xsd->cfg.xen;

	if (mode == XSD_XEN_OFF)
		return;
#ifdef XPT_HAVE_XEN
	int r;

	if (mode == XSD_XEN_AUTO && !xen_present())
		return;
	r = xen_open(xsd);
	if (r == 0) {
		log_info("serving the Xen host: dom0's ring and the guests'");
		return;
	}
	if (mode == XSD_XEN_ON)
		fatal("--xen: cannot take over as the host's store (%s); "
		      "is another xenstored running?", strerror(-r));
	log_warn("this looks like a Xen host, but taking over its store "
		 "failed (%s): serving the sockets only", strerror(-r));
#else
	if (mode == XSD_XEN_ON)
		fatal("--xen: this xpt-xenstored was built without Xen's "
		      "libraries (libxenevtchn, libxengnttab, libxenctrl)");
#endif
}

int main(int argc, char **argv)
{
	struct xsd_config cfg;
	char pidbuf[4096];
	struct xsd *xsd;
	int pipefd[2] = { -1, -1 };

	xsd_default_config(&cfg);
	parse_args(argc, argv, &cfg);
	log_init("xpt-xenstored", LOG_LVL_WARN + cfg.verbose);
	if (!cfg.pidfile) {
		snprintf(pidbuf, sizeof(pidbuf), "%s/xenstored.pid", cfg.rundir);
		cfg.pidfile = pidbuf;
	}

	if (cfg.daemonize) {
		pid_t pid;
		char c;

		if (pipe2(pipefd, O_CLOEXEC) < 0)
			fatal("pipe: %m");
		pid = fork();
		if (pid < 0)
			fatal("fork: %m");
		if (pid > 0) {
			close(pipefd[1]);
			/* The parent returns once the child is ready. */
			exit(read(pipefd[0], &c, 1) == 1 ? 0 : 1);
		}
		close(pipefd[0]);
		setsid();
	}

	xsd = xsd_new(&cfg);
	if (!xsd)
		fatal("out of memory");
	if (cfg.access_log) {
		xsd->access_log = fopen(cfg.access_log, "ae");
		if (!xsd->access_log)
			fatal("cannot open access log %s: %m", cfg.access_log);
	}
	io_listen(xsd);
	start_xen(xsd);
	write_pidfile(cfg.pidfile);
	if (cfg.ready_fd >= 0) {
		if (write(cfg.ready_fd, "READY=1\n", 8) != 8)
			log_warn("--ready-fd %d: %m", cfg.ready_fd);
		close(cfg.ready_fd);
	}
	notify_systemd();
	if (pipefd[1] >= 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (write(pipefd[1], "R", 1) != 1)
			log_warn("cannot signal readiness to the parent");
		close(pipefd[1]);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			close(devnull);
		}
	}
	log_info("ready on %s", xsd->sockpath);

	io_run(xsd);

#ifdef XPT_HAVE_XEN
	xen_close(xsd);
#endif
	io_shutdown(xsd);
	unlink(cfg.pidfile);
	if (xsd->access_log)
		fclose(xsd->access_log);
	xsd_free(xsd);
	return 0;
}
