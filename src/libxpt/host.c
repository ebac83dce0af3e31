// SPDX-License-Identifier: MIT
/*
 * `xpt host start|stop|status`: the modelled host's daemons in the run
 * directory, in dependency order (xenstored, hypervisor, pciback), each
 * ready when its pid file appears (bounded wait; a daemon that dies while
 * starting fails the start at once and the others are stopped again).
 * Logs go to $XPT_RUNDIR/log/<daemon>.log.
 *
 * On a host that is partly up (a daemon died) start restarts only the
 * dead ones, as a service manager would, and leaves the others running;
 * a restarted hypervisor has no domains, so the guest kernels and the
 * pciback of the old one go with it (a host reboot), while the store
 * keeps its nodes for `xpt destroy` to clean.  The daemons it had to
 * start are named in opts->ret_restarted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"
#include "model.h"

#ifndef XPT_EXAMPLES_DIR
#define XPT_EXAMPLES_DIR "/usr/share/xpt/examples"
#endif

static const struct daemon {
	const char *bin, *pidfile, *log;
} daemons[] = {
	{ "xpt-xenstored", "xenstored.pid", "xenstored" },
	{ "xpt-hypervisor", "hv/hypervisor.pid", "hypervisor" },
	{ "xpt-pciback", "pciback/pciback.pid", "pciback" },
};
#define NDAEMONS (sizeof(daemons) / sizeof(daemons[0]))

static int read_pidfile(struct xpt_ctx *c, const struct daemon *d)
{
	char path[PATH_MAX], buf[32];
	FILE *f;
	long pid = -1;

	if (xpt_path(c, path, sizeof(path), "%s", d->pidfile) < 0)
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		pid = strtol(buf, NULL, 10);
	fclose(f);
	return pid > 0 && pid < 0x7fffffff ? (int)pid : -1;
}

static bool daemon_alive(struct xpt_ctx *c, const struct daemon *d, int *pid)
{
	*pid = read_pidfile(c, d);
	return xpt_pid_alive(*pid, c->rundir);
}

static void stop_guests(struct xpt_ctx *c)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *dp;

	if (xpt_path(c, dir, sizeof(dir), "xpt/domains") < 0 ||
	    !(dp = opendir(dir)))
		return;
	while ((de = readdir(dp))) {
		static struct xpt_domcfg d;
		char *end;
		unsigned long domid = strtoul(de->d_name, &end, 10);

		if (strcmp(end, ".json") || xpt_domcfg_load(c, (unsigned int)domid,
							    &d) < 0)
			continue;
		xpt_guest_kill(c, (unsigned int)domid);
		xpt_dm_stop_found(c, (unsigned int)domid);
		xpt_domcfg_remove(c, (unsigned int)domid);
	}
	closedir(dp);
	c->err[0] = '\0';	/* damaged configs do not fail a stop */
}

/* The modelled host's daemons are ours to start; a Xen host's are not. */
static int model_only(struct xpt_ctx *c)
{
	const char *pf = xpt_ctx_platform(c);

	if (strcmp(pf, "model"))
		return xpt_fail(c, XPT_EXIT_USAGE, -EOPNOTSUPP, "`xpt host` "
				"and `guest-status` control the modelled host; "
				"this is the %s platform (use --platform model "
				"for a modelled host)", pf);
	return 0;
}

int xpt_host_stop(struct xpt_ctx *c)
{
	char path[PATH_MAX];
	int stop_ms = xpt_wait_ms(c, 5000), i, pid;
	bool any = false;

	if (model_only(c) < 0)
		return -EOPNOTSUPP;
	if (c->xs) {
		xs_close(c->xs);
		c->xs = NULL;
	}
	if (c->pf)
		c->pf->close(c);
	stop_guests(c);
	for (i = (int)NDAEMONS - 1; i >= 0; i--) {
		if (!daemon_alive(c, &daemons[i], &pid))
			continue;
		any = true;
		if (xpt_pid_stop(c, daemons[i].bin, pid, stop_ms) ==
		    -ETIMEDOUT)
			xpt_warn(c, "%s (pid %d) did not stop on SIGTERM "
				 "within %d s: killed", daemons[i].bin, pid,
				 xpt_secs(stop_ms));
	}
	if (xpt_path(c, path, sizeof(path), "xpt/lock") == 0) {
		DIR *dp = opendir(path);
		struct dirent *de;

		while (dp && (de = readdir(dp))) {
			char f[PATH_MAX + 300];

			if (de->d_name[0] == '.')
				continue;
			snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
			unlink(f);
		}
		if (dp)
			closedir(dp);
	}
	if (!any)
		xpt_warn(c, "no host daemon was running in %s", c->rundir);
	return 0;
}

/* Kill the guest kernels and device models whose domains died with the
 * hypervisor; their records stay for `xpt destroy`. */
static void kill_orphans(struct xpt_ctx *c)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *dp;

	if (xpt_path(c, dir, sizeof(dir), "guest") < 0 || !(dp = opendir(dir)))
		return;
	while ((de = readdir(dp))) {
		char *end;
		unsigned long domid = strtoul(de->d_name, &end, 10);

		if (end != de->d_name && !strcmp(end, ".pid")) {
			xpt_guest_kill(c, (unsigned int)domid);
			xpt_dm_stop_found(c, (unsigned int)domid);
		}
	}
	closedir(dp);
}

/*
 * The store's access log, by absolute path, in RUNDIR/access-log: `xpt
 * trace` reads it when given no file.  A store started without one
 * leaves no record, so an old log is not taken for this run's.
 */
static int record_access_log(struct xpt_ctx *c, const char *log)
{
	char rec[4096], cwd[2048];
	FILE *f;
	int r = 0;

	if (xpt_path(c, rec, sizeof(rec), "access-log") < 0)
		return -ENAMETOOLONG;
	if (!log) {
		unlink(rec);
		return 0;
	}
	if (log[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -errno;
	f = fopen(rec, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s%s%s\n", log[0] == '/' ? "" : cwd,
		log[0] == '/' ? "" : "/", log);
	if (fclose(f))
		r = -errno;
	return r;
}

int xpt_host_start(struct xpt_ctx *c, struct xpt_host_opts *o)
{
	char bin[PATH_MAX], log[PATH_MAX], pidpath[PATH_MAX], host[PATH_MAX];
	char hvlog[PATH_MAX], what[96];
	const char *hostfile = o ? o->hostfile : NULL;
	const char *argv[12];
	bool up[NDAEMONS], partial = false;
	size_t i, nup = 0;
	int start_ms = xpt_wait_ms(c, XPT_START_WAIT_MS), n, r, pid;

	if (model_only(c) < 0)
		return -EOPNOTSUPP;
	if (!hostfile)
		hostfile = getenv("XPT_HOST");
	if (!hostfile || !*hostfile)
		hostfile = XPT_EXAMPLES_DIR "/host";
	if (!realpath(hostfile, host))
		return xpt_fail(c, XPT_EXIT_NOTFOUND, -ENOENT, "host file %s: "
				"%s (give one with --host FILE or $XPT_HOST)",
				hostfile, strerror(errno));
	for (i = 0; i < NDAEMONS; i++)
		nup += up[i] = daemon_alive(c, &daemons[i], &pid);
	if (nup == NDAEMONS)
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s already runs "
				"in %s, and the other daemons too: `xpt host "
				"stop` first, or use another XPT_RUNDIR",
				daemons[0].bin, c->rundir);
	partial = nup > 0;
	/* pciback's devices and the guests belong to the hypervisor */
	if (partial && !up[1]) {
		if (up[2] && daemon_alive(c, &daemons[2], &pid))
			xpt_pid_stop(c, daemons[2].bin, pid,
				     xpt_wait_ms(c, 3000));
		up[2] = false;
		kill_orphans(c);
	}
	if (o)
		o->ret_restarted[0] = '\0';
	if (xpt_path(c, log, sizeof(log), "log") < 0)
		return -ENAMETOOLONG;
	r = xpt_mkdirs(log);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "cannot create %s: %s",
				log, strerror(-r));
	for (i = 0; i < NDAEMONS; i++) {
		const struct daemon *d = &daemons[i];

		if (up[i])
			continue;
		if (xpt_find_binary(d->bin, bin, sizeof(bin)) < 0) {
			r = xpt_fail(c, XPT_EXIT_FAIL, -ENOENT, "cannot find "
				     "%s next to xpt, in $XPT_LIBEXEC or in "
				     "$PATH: build it (`make build`) or set "
				     "XPT_LIBEXEC", d->bin);
			goto fail;
		}
		xpt_path(c, pidpath, sizeof(pidpath), "%s", d->pidfile);
		unlink(pidpath);	/* stale, from a crash */
		xpt_path(c, log, sizeof(log), "log/%s.log", d->log);
		n = 0;
		argv[n++] = bin;
		argv[n++] = "--rundir";
		argv[n++] = c->rundir;
		if (i == 1) {
			argv[n++] = "--host";
			argv[n++] = host;
		}
		/* the hypervisor's events next to the store's, for `xpt
		 * trace` to find and merge */
		if (i == 1 && o && o->access_log) {
			if ((size_t)snprintf(hvlog, sizeof(hvlog), "%s.hv",
					     o->access_log) >= sizeof(hvlog)) {
				r = xpt_fail(c, XPT_EXIT_USAGE, -ENAMETOOLONG,
					     "access log name too long: %s",
					     o->access_log);
				goto fail;
			}
			argv[n++] = "--event-log";
			argv[n++] = hvlog;
		}
		if (i == 2 && o && o->historic)
			argv[n++] = "--historic";
		if (i == 0 && o && o->access_log) {
			argv[n++] = "--access-log";
			argv[n++] = o->access_log;
		}
		if (i == 0) {
			r = record_access_log(c, o ? o->access_log : NULL);
			if (r < 0) {
				r = xpt_fail(c, XPT_EXIT_FAIL, r, "cannot "
					     "record the access log's path in "
					     "%s/access-log: %s", c->rundir,
					     strerror(-r));
				goto fail;
			}
		}
		if (o && o->verbose)
			argv[n++] = "-v";
		argv[n] = NULL;
		r = xpt_spawn_detached(argv, log, &pid);
		if (r < 0) {
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "cannot start %s: %s",
				     d->bin, strerror(-r));
			goto fail;
		}
		snprintf(what, sizeof(what), "%s (pid %d) to be ready",
			 d->bin, pid);
		r = xpt_wait_file(c, what, pidpath, pid, start_ms);
		if (r < 0) {
			r = xpt_fail(c, XPT_EXIT_FAIL, r, "%s %s (no %s after "
				     "%d s); see %s", d->bin, r == -ECHILD ?
				     "exited while starting" : "did not become "
				     "ready", pidpath, xpt_secs(start_ms),
				     log);
			if (r != -ECHILD && xpt_pid_alive(pid, c->rundir))
				xpt_pid_stop(c, d->bin, pid,
					     xpt_wait_ms(c, 2000));
			goto fail;
		}
		if (o && partial) {
			size_t l = strlen(o->ret_restarted);

			snprintf(o->ret_restarted + l,
				 sizeof(o->ret_restarted) - l, "%s%s",
				 l ? ", " : "", d->bin);
		}
	}
	return 0;
fail:
	/* a partial restart leaves what ran before running */
	for (; i > 0; i--)
		if (!up[i - 1] && daemon_alive(c, &daemons[i - 1], &pid))
			xpt_pid_stop(c, daemons[i - 1].bin, pid,
				     xpt_wait_ms(c, 3000));
	return r;
}

int xpt_host_dead(const struct xpt_ctx *c, char *buf, size_t len)
{
	size_t i, l = 0;
	int pid, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NDAEMONS; i++) {
		pid = read_pidfile((struct xpt_ctx *)c, &daemons[i]);
		if (pid <= 0 || xpt_pid_alive(pid, c->rundir))
			continue;
		snprintf(buf + l, len - l, "%s%s", n ? ", " : "",
			 daemons[i].bin);
		l += strlen(buf + l);
		n++;
	}
	return n;
}

_Static_assert(NDAEMONS == XPT_HOST_DAEMONS, "xpt_host_daemon's count");

int xpt_host_survey(struct xpt_ctx *c,
		    struct xpt_host_daemon ret[XPT_HOST_DAEMONS])
{
	char dead[96] = "";
	size_t i;
	int pid, up = 0;

	if (model_only(c) < 0)
		return -EOPNOTSUPP;
	for (i = 0; i < NDAEMONS; i++) {
		bool alive = daemon_alive(c, &daemons[i], &pid);

		ret[i].name = daemons[i].bin;
		ret[i].state = alive ? "running" : pid > 0 ? "dead" :
			       "stopped";
		ret[i].pid = alive || pid > 0 ? pid : -1;
		up += alive;
		if (!alive && pid > 0) {
			size_t l = strlen(dead);

			snprintf(dead + l, sizeof(dead) - l, "%s%s",
				 l ? ", " : "", daemons[i].bin);
		}
	}
	if (up == (int)NDAEMONS)
		return 0;
	if (up && dead[0])
		return xpt_fail(c, XPT_EXIT_FAIL, -ESRCH, "the host is partly "
				"running in %s: %s died; `xpt host start` "
				"restarts %s", c->rundir, dead,
				strchr(dead, ',') ? "them" : "it");
	return xpt_fail(c, XPT_EXIT_FAIL, -ESRCH, "the host is %s in %s%s",
			up ? "partly running" : "not running", c->rundir,
			up ? ": `xpt host start` starts the rest" :
			": start it with `xpt host start`");
}

int xpt_host_status(struct xpt_ctx *c, FILE *out)
{
	struct xpt_host_daemon d[XPT_HOST_DAEMONS];
	int r = xpt_host_survey(c, d);
	size_t i;

	if (r == -EOPNOTSUPP)
		return r;
	fprintf(out, "run directory %s\n", c->rundir);
	for (i = 0; i < XPT_HOST_DAEMONS; i++) {
		fprintf(out, "%-15s %s", d[i].name, d[i].state);
		if (!strcmp(d[i].state, "running"))
			fprintf(out, "  pid %d", d[i].pid);
		else if (d[i].pid > 0)
			fprintf(out, "  (pid %d exited without stopping)",
				d[i].pid);
		fprintf(out, "\n");
	}
	return r;
}

int xpt_host_raise_irq(struct xpt_ctx *c, uint32_t sbdf, unsigned int entry,
		       int *ret_delivered)
{
	static const uint32_t types[] = { HV_IRQ_MSIX, HV_IRQ_MSI, HV_IRQ_INTX };
	struct hv_msix_state ms;
	char bdf[16];
	int r = model_only(c), delivered = 0;
	size_t i;

	if (r == 0)
		r = xpt_connect(c);
	if (r < 0)
		return r;
	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	/* the kind the device has enabled: MSI-X if any entry is in use */
	i = hv_msix_state(xpt_model_hv(c), sbdf, &ms) == 0 && ms.hw_enable ? 0 : 1;
	for (; i < 3; i++) {
		r = hv_pci_raise_irq(xpt_model_hv(c), sbdf, types[i], entry, &delivered);
		if (r == 0 && delivered)
			break;
	}
	if (r < 0)
		return xpt_fail(c, r == -ENODEV ? XPT_EXIT_NOTFOUND :
				XPT_EXIT_FAIL, r, "%s: raise interrupt: %s", bdf,
				strerror(-r));
	*ret_delivered = delivered;
	return 0;
}
