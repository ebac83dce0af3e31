// SPDX-License-Identifier: MIT
/*
 * The toolstack tests' harness (harness.h): start the modelled host, run
 * the toolstack under test with a deadline, read what xenstore, the
 * hypervisor and the guests say.  Processes started by a toolstack (its
 * guests) are found by their pid files and stopped with the host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct bins bins;

const char *bdf(uint32_t sbdf)
{
	static char buf[8][16];
	static unsigned int i;

	i = (i + 1) % 8;
	hv_format_bdf(sbdf, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* The guest kernels a create can start, each in its own $XPT_LIBEXEC
 * directory: plain; one that holds the backend's states until told and
 * has a pcifront before Linux 6.1 (env.hold); one whose rescan after a
 * hot-add takes 12 s (env.slow); one whose first connect takes 12 s
 * (env.slow_connect); one whose rescan takes 40 s (env.very_slow); one
 * whose pcifront shows a new device (to a stub domain's device model)
 * 2.5 s after it found it (env.stub_lag); one whose stub domain starts
 * its device model 2 s after it booted (env.slow_dm). */
static const struct {
	const char *dir, *args;
} kernels[] = {
	{ "libexec", " -v" },
	{ "libexec-hold", " --hold-backend --no-missed-connected -v" },
	{ "libexec-slow", " --rescan-delay-ms 12000 -v" },
	{ "libexec-slowconnect", " --connect-delay-ms 12000 -v" },
	{ "libexec-veryslow", " --rescan-delay-ms 40000 -v" },
	{ "libexec-stublag", " --sysfs-delay-ms 2500 -v" },
	{ "libexec-slowdm", " --dm-delay-ms 2000 -v" },
	{ "libexec-hostile", NULL },	/* + DIR/hostile-args (env.hostile) */
};
#define NKERNELS (sizeof(kernels) / sizeof(kernels[0]))

bool env_start(struct env *e, const struct ts *ts, bool historic)
{
	const char *argv[8];
	char path[256];
	int n = 0;

	memset(e, 0, sizeof(*e));
	e->ts = ts;
	if (!e2e_run_start(&e->run, "ts", bins.xenstored))
		return false;
	argv[n++] = bins.hv;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	argv[n++] = "--host";
	argv[n++] = bins.hostfile;
	argv[n++] = "-vv";	/* permission changes, for bug 19 */
	argv[n] = NULL;
	if (!e2e_start_daemon(&e->run, "hypervisor", argv, "hv/hypervisor.pid"))
		return false;

	n = 0;
	argv[n++] = bins.pciback;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	if (historic)
		argv[n++] = "--historic";
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
	/* $XPT_LIBEXEC for the toolstack: the daemons, the device model of
	 * HVM guests, and a guest kernel: one directory per kernels[] */
	{
		const char *names[4] = { "xpt-xenstored", "xpt-hypervisor",
					 "xpt-pciback", "xpt-dm" };
		const char *paths[4] = { bins.xenstored, bins.hv, bins.pciback,
					 bins.dm };
		char abs[4096];
		size_t k;
		FILE *f;
		int i;

		for (k = 0; k < NKERNELS; k++) {
			snprintf(path, sizeof(path), "%s/%s", e->run.dir,
				 kernels[k].dir);
			mkdir(path, 0755);
			for (i = 0; i < 4; i++) {
				snprintf(path, sizeof(path), "%s/%s/%s",
					 e->run.dir, kernels[k].dir, names[i]);
				if (!realpath(paths[i], abs) ||
				    symlink(abs, path) < 0)
					return fail(e, "%s: %s", path,
						    strerror(errno));
			}
			snprintf(path, sizeof(path), "%s/%s/xpt-guest",
				 e->run.dir, kernels[k].dir);
			f = fopen(path, "we");
			if (!f || !realpath(bins.guest, abs))
				return fail(e, "%s: %s", path, strerror(errno));
			if (kernels[k].args)
				fprintf(f, "#!/bin/sh\nexec '%s' \"$@\"%s\n",
					abs, kernels[k].args);
			else
				fprintf(f, "#!/bin/sh\nexec '%s' \"$@\" $(cat "
					"'%s/hostile-args' 2>/dev/null) -v\n",
					abs, e->run.dir);
			fclose(f);
			chmod(path, 0755);
		}
	}
	return true;
}

static void kill_guests(struct env *e)
{
	char path[512];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/guest", e->run.dir);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name);
		long pid = 0;
		FILE *f;

		if (l < 5 || strcmp(d->d_name + l - 4, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/guest/%s", e->run.dir,
			 d->d_name);
		f = fopen(path, "re");
		if (f && fscanf(f, "%ld", &pid) == 1 && pid > 1) {
			int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);

			kill((pid_t)pid, SIGCONT);
			kill((pid_t)pid, SIGTERM);
			if (pidfd >= 0) {
				struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

				if (poll(&pfd, 1, 3000) <= 0)
					kill((pid_t)pid, SIGKILL);
				close(pidfd);
			}
		}
		if (f)
			fclose(f);
	}
	closedir(dir);
}

/* the pid is a device model of this run: its command line names the run
 * directory (a pid left in xenstore may have been recycled) */
bool dm_ours(struct env *e, pid_t pid)
{
	char path[64], cmd[4096];
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	for (i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[n > 0 ? n : 0] = '\0';
	return strstr(cmd, "xpt-dm") && strstr(cmd, e->run.dir);
}

/* the device models xpt started (detached, not our children), by the pids
 * they are recorded under; a stopped one is continued first */
static void kill_dms(struct env *e)
{
	unsigned int n, i;
	char **ents = xs_directory(e->xs, XBT_NULL, "/local/domain", &n);

	for (i = 0; ents && i < n; i++) {
		unsigned long dom = strtoul(ents[i], NULL, 10);
		pid_t pid = dom ? dm_pid(e, (unsigned int)dom) : 0;
		int pidfd = pid > 1 && dm_ours(e, pid) ?
			    (int)syscall(SYS_pidfd_open, pid, 0) : -1;
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

		if (pidfd < 0)
			continue;
		kill(pid, SIGCONT);
		kill(pid, SIGTERM);
		if (poll(&pfd, 1, 3000) <= 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	free(ents);
}

void env_stop(struct env *e, bool failed)
{
	char cmd[400];
	int i;

	if (e->xs)
		kill_dms(e);
	if (e->xs)
		xs_close(e->xs);
	if (e->hv)
		hv_close(e->hv);
	e->xs = NULL;
	e->hv = NULL;
	if (!e->run.dir[0])
		return;
	/* toolstack runs still going, then guests, then the daemons */
	for (i = (int)e->run.nproc - 1; i >= 3; i--)
		e2e_proc_stop(&e->run.proc[i], SIGKILL);
	kill_guests(e);
	for (i = e->run.nproc < 3 ? (int)e->run.nproc - 1 : 2; i >= 0; i--)
		e2e_proc_stop(&e->run.proc[i], SIGTERM);
	if (failed && getenv("XPT_TS_VERBOSE")) {
		snprintf(cmd, sizeof(cmd), "for f in %s/*.log; do echo \"--- $f\"; "
			 "tail -n 30 \"$f\"; done", e->run.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not show logs\n");
	}
	e2e_run_remove(&e->run, getenv("XPT_TS_KEEP") != NULL);
}

/* the toolstack under test */

/* The guest kernel the next create starts (see env_start). */
static const char *libexec_of(const struct env *e)
{
	return kernels[e->hold ? 1 : e->slow ? 2 : e->slow_connect ? 3 :
		       e->very_slow ? 4 : e->stub_lag ? 5 : e->slow_dm ? 6 :
		       e->hostile ? 7 : 0].dir;
}

struct e2e_proc *ts_spawn(struct env *e, const char *delay,
			  const char *const args[])
{
	static char envbuf[10][4200];
	char *envp[16];
	const char *argv[16];
	char name[32];
	int n = 0, i;
	struct e2e_proc *p;

	snprintf(envbuf[0], sizeof(envbuf[0]), "XPT_RUNDIR=%s", e->run.dir);
	snprintf(envbuf[1], sizeof(envbuf[1]), "XPT_GUEST=%s/%s/xpt-guest",
		 e->run.dir, libexec_of(e));
	snprintf(envbuf[2], sizeof(envbuf[2]), "XPT_DELAY=%s",
		 delay ? delay : "");
	snprintf(envbuf[3], sizeof(envbuf[3]), "LIBXL417_FLOW=%s",
		 e->ts->peer && e->variant ? e->variant : "");
	snprintf(envbuf[4], sizeof(envbuf[4]), "LIBXL417_WAIT_MS=%d",
		 e->peer_wait_ms ? e->peer_wait_ms : 10000);
	snprintf(envbuf[5], sizeof(envbuf[5]), "PATH=%s",
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	snprintf(envbuf[6], sizeof(envbuf[6]), "TMPDIR=%s",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(envbuf[7], sizeof(envbuf[7]), "XPT_LIBEXEC=%s/%s", e->run.dir,
		 libexec_of(e));
	/* the peer has xpt build HVM domains and their device models */
	snprintf(envbuf[8], sizeof(envbuf[8]), "LIBXL417_XPT=%s",
		 bins.xpt ? bins.xpt : "");
	snprintf(envbuf[9], sizeof(envbuf[9]), "XPT_DELAY_LOG=%s",
		 e->delay_log ? e->delay_log : "");
	for (i = 0; i < 10; i++)
		envp[i] = envbuf[i];
	for (n = 0; n < 4 && e->extra_env[n]; n++)
		envp[i++] = (char *)e->extra_env[n];
	envp[i] = NULL;
	n = 0;
	argv[n++] = e->ts->path;
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(name, sizeof(name), "ts-%u-%s", ++e->nrun, args[0]);
	p = e2e_spawn_env(&e->run, name, argv, envp);
	if (!p)
		fail(e, "cannot start %s", e->ts->path);
	return p;
}

static void read_out(struct env *e, struct e2e_proc *p)
{
	char log[256];
	ssize_t n;
	int fd;

	snprintf(log, sizeof(log), "%s/%s.log", e->run.dir, p->name);
	fd = open(log, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, e->out, sizeof(e->out) - 1) : 0;
	e->out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	/* one line for messages */
	for (n = 0; e->out[n]; n++)
		if (e->out[n] == '\n' && e->out[n + 1])
			e->out[n] = '|';
	if (n && e->out[n - 1] == '\n')
		e->out[n - 1] = '\0';
}

int ts_wait(struct env *e, struct e2e_proc *p, int ms, bool keep)
{
	int rc;

	if (!p)
		return -3;
	rc = e2e_proc_reap(p, ms);
	if (rc == -1 && !keep) {
		kill(p->pid, SIGKILL);
		rc = e2e_proc_reap(p, 5000);
		rc = -1;
	}
	if (rc != -1 || !keep)
		read_out(e, p);
	return rc;
}

int ts_run(struct env *e, const char *delay, int ms, const char *const args[])
{
	struct e2e_proc *p = ts_spawn(e, delay, args);
	int64_t end = e2e_now_ms() + ms;
	int rc;

	if (!p)
		return -3;
	/* poll() may wake early (EINTR); keep the deadline */
	do
		rc = ts_wait(e, p, (int)(end - e2e_now_ms()), true);
	while (rc == -1 && e2e_now_ms() < end);
	if (rc == -1)
		rc = ts_wait(e, p, 0, false);
	return rc;
}

/* poll(NULL, 0, ms) is what xpt_delay_point sleeps in */
bool at_delay(struct env *e, void *arg)
{
	char path[64], buf[256];
	unsigned long nr, a0, a1;
	ssize_t n;
	int fd;

	(void)e;
	snprintf(path, sizeof(path), "/proc/%d/syscall", *(int *)arg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* asleep in poll() or ppoll() with no fds: nothing else in libxpt
	 * sleeps so */
	if (sscanf(buf, "%lu %lx %lx", &nr, &a0, &a1) != 3)
		return false;
	return (nr == SYS_poll || nr == SYS_ppoll) && a0 == 0 && a1 == 0;
}

int file_count(struct env *e, const char *file, const char *needle)
{
	char path[256], line[1024];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->run.dir, file);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

int pb_resets(struct env *e, uint32_t sbdf)
{
	char needle[40];

	snprintf(needle, sizeof(needle), "%s: reset", bdf(sbdf));
	return file_count(e, "pciback.log", needle);
}

bool named_command(const char *out, char *cmd, size_t len)
{
	const char *p = strstr(out, "`xpt "), *q;

	if (!p || !(q = strchr(p + 1, '`')))
		return false;
	snprintf(cmd, len, "%.*s", (int)(q - p - 1), p + 1);
	return true;
}

int run_named(struct env *e, const char *cmd)
{
	char buf[256], *args[12], *save = NULL, *t;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", cmd);
	t = strtok_r(buf, " ", &save);	/* "xpt" */
	while ((t = strtok_r(NULL, " ", &save)) && n < 11)
		args[n++] = t;
	args[n] = NULL;
	if (!n)
		return -3;
	return ts_run(e, NULL, 30000, (const char *const *)args);
}

const char *cfg_write(struct env *e, const char *name, const char *fmt, ...)
{
	static char path[256];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.cfg", e->run.dir, name);
	f = fopen(path, "we");
	if (!f)
		return NULL;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

const char *cfg_file(struct env *e, const char *name, const char *pci)
{
	return cfg_write(e, name, "# a PV guest of the toolstack tests\n"
			 "name = \"%s\"\ntype = \"pv\"\nmemory = 256\n"
			 "vcpus = 1\npassthrough = \"enabled\"\npci = [ %s ]\n",
			 name, pci);
}

bool dom_by_name(struct env *e, const char *name, unsigned int *ret_domid)
{
	char **ents, *v;
	unsigned int n, i;
	bool found = false;

	ents = xs_directory(e->xs, XBT_NULL, "/local/domain", &n);
	for (i = 0; ents && i < n && !found; i++) {
		if (!strcmp(ents[i], "0"))
			continue;
		v = xs_get(e, "/local/domain/%s/name", ents[i]);
		if (v && !strcmp(v, name)) {
			*ret_domid = (unsigned int)strtoul(ents[i], NULL, 10);
			found = true;
		}
		free(v);
	}
	free(ents);
	return found ? true : fail(e, "no domain named %s in xenstore", name);
}

bool guest_wait_started(struct env *e, unsigned int domid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, domid);
	return e2e_wait_file(&e->run, path, NULL) ||
	       fail(e, "the guest of dom%u did not start", domid);
}

pid_t guest_pid(struct env *e, unsigned int domid)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, domid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

bool create_hvm(struct env *e, const char *name, const char *pci,
		unsigned int *ret_domid)
{
	const struct ts *under_test = e->ts;
	struct ts xpt = { "xpt", bins.xpt, false };
	char path[256];
	FILE *f;
	int rc;

	CHECK(e, bins.xpt, "an HVM guest needs xpt (to create it with its "
	      "device model), which is not built");
	snprintf(path, sizeof(path), "%s/%s.cfg", e->run.dir, name);
	f = fopen(path, "we");
	CHECK(e, f, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "# an HVM guest of the toolstack tests\nname = \"%s\"\n"
		"type = \"hvm\"\nmemory = 128\nvcpus = 1\n"
		"passthrough = \"enabled\"\npci = [ %s ]\n", name, pci);
	fclose(f);
	e->ts = &xpt;
	rc = TS(e, 30000, "create", path);
	e->ts = under_test;
	CHECK(e, rc == 0, "xpt create %s (type hvm, pci=[%s]): rc %d: %s", name,
	      pci, rc, e->out);
	return dom_by_name(e, name, ret_domid) &&
	       guest_wait_started(e, *ret_domid);
}

bool create(struct env *e, const char *name, const char *pci,
	    unsigned int *ret_domid)
{
	const char *cfg = cfg_file(e, name, pci);
	int rc;

	CHECK(e, cfg, "cannot write %s.cfg", name);
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc == 0, "%s create %s (pci=[%s]): rc %d: %s", e->ts->name,
	      name, pci, rc, e->out);
	return dom_by_name(e, name, ret_domid) &&
	       guest_wait_started(e, *ret_domid);
}

/* device models */

pid_t dm_pid(struct env *e, unsigned int domid)
{
	int pid = xs_int(e, "/local/domain/%u/image/device-model-pid", domid);

	return pid > 1 ? (pid_t)pid : 0;
}

/* greeting, qmp_capabilities, the command; events are passed over */
bool dm_qmp(struct env *e, unsigned int domid, const char *execute,
	    char *reply, size_t len)
{
	struct e2e_qmp q = { .fd = -1 };
	char path[256], cmd[128];
	bool ok;

	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->run.dir, domid);
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"}", execute);
	ok = e2e_qmp_connect(&e->run, &q, path) &&
	     e2e_qmp_send(&e->run, &q, cmd, reply, len);
	if (q.fd >= 0)
		close(q.fd);
	CHECK(e, ok, "dom%u's device model does not answer %s", domid,
	      execute);
	CHECK(e, !strstr(reply, "\"error\""), "dom%u's device model: %s: %s",
	      domid, execute, reply);
	return true;
}

bool dm_has(const char *reply, uint32_t sbdf)
{
	char id[40];

	snprintf(id, sizeof(id), "\"pci-pt-%02x_%02x.%01x\"", HV_SBDF_BUS(sbdf),
		 HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));
	return strstr(reply, id) != NULL;
}

/* pciback */

bool assignable(struct env *e, uint32_t sbdf)
{
	int r;

	if (!e2e_pciback_ok(&e->run, "seize %s", bdf(sbdf)))
		return false;
	r = hv_assign_device(e->hv, HV_DOMID_IO, sbdf);
	CHECK(e, r == 0, "quarantine %s: %s", bdf(sbdf), strerror(-r));
	return true;
}

/* xenstore */

static char * __attribute__((format(printf, 2, 0)))
xs_vget(struct env *e, const char *fmt, va_list ap)
{
	char path[512];
	unsigned int len;

	vsnprintf(path, sizeof(path), fmt, ap);
	return xs_read(e->xs, XBT_NULL, path, &len);
}

char *xs_get(struct env *e, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = xs_vget(e, fmt, ap);
	va_end(ap);
	return v;
}

bool xs_exists(struct env *e, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = xs_vget(e, fmt, ap);
	va_end(ap);
	free(v);
	return v != NULL;
}

int xs_int(struct env *e, const char *fmt, ...)
{
	va_list ap;
	char *v, *end;
	long n;

	va_start(ap, fmt);
	v = xs_vget(e, fmt, ap);
	va_end(ap);
	if (!v)
		return -1;
	n = strtol(v, &end, 10);
	if (!*v || *end)
		n = -2;
	free(v);
	return (int)n;
}

bool xs_put(struct env *e, const char *path, const char *val)
{
	return xs_write(e->xs, XBT_NULL, path, val, strlen(val)) ||
	       fail(e, "write %s: %s", path, strerror(errno));
}

int be_state(struct env *e, unsigned int domid)
{
	return xs_int(e, "/local/domain/0/backend/pci/%u/0/state", domid);
}

int fe_state(struct env *e, unsigned int domid)
{
	return xs_int(e, "/local/domain/%u/device/pci/0/state", domid);
}

bool marker(struct env *e, uint32_t sbdf, unsigned int *ret_domid)
{
	char *v = xs_get(e, "/libxl/pci/%04x-%02x-%02x-%01x/domid",
			 HV_SBDF_SEG(sbdf), HV_SBDF_BUS(sbdf),
			 HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));

	if (v && ret_domid)
		*ret_domid = (unsigned int)strtoul(v, NULL, 10);
	free(v);
	return v != NULL;
}

int be_find(struct env *e, unsigned int domid, uint32_t sbdf)
{
	int i, num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			    domid);

	for (i = 0; i < num; i++) {
		char *v = xs_get(e, "/local/domain/0/backend/pci/%u/0/dev-%d",
				 domid, i);
		uint32_t s;
		bool hit = v && hv_parse_bdf(v, &s) == 0 && s == sbdf;

		free(v);
		if (hit)
			return i;
	}
	return -1;
}

bool wait_until(struct env *e, bool (*pred)(struct env *, void *), void *arg,
		int ms, const char *what)
{
	int64_t deadline = e2e_now_ms() + ms;
	bool ok = false;
	char **w;

	xs_watch(e->xs, "/local/domain", "wait");
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
		/* a guest's reaction need not write xenstore: re-ask at
		 * least every 50 ms */
		poll(&pfd, 1, left < 50 ? (int)left : 50);
	}
	xs_unwatch(e->xs, "/local/domain", "wait");
	if (!ok && what)
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

bool wait_states(struct env *e, unsigned int domid, int fe, int be, int ms)
{
	struct states s = { domid, fe, be };

	if (wait_until(e, states_are, &s, ms, NULL))
		return true;
	return fail(e, "dom%u: frontend %d backend %d, waited for %d/%d",
		    domid, fe_state(e, domid), be_state(e, domid), fe, be);
}

/* guests */

bool qhas(const struct e2e_qstatus *s, uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].host, bdf(sbdf)))
			return true;
	return false;
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

bool wait_guest_devs(struct env *e, unsigned int domid, unsigned int n, int ms)
{
	struct ndev w = { domid, n };
	struct e2e_qstatus s;

	if (wait_until(e, guest_has_n, &w, ms, NULL))
		return true;
	memset(&s, 0, sizeof(s));
	e2e_guest_status(&e->run, domid, &s);
	return fail(e, "dom%u's guest sees %u device(s), wanted %u (frontend "
		    "%d, backend %d, num_devs %d)", domid, s.n, n,
		    fe_state(e, domid), be_state(e, domid),
		    xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
			   domid));
}

uint32_t owner(struct env *e, uint32_t sbdf)
{
	struct hv_pci_dev info;

	if (hv_pci_info(e->hv, sbdf, &info) < 0)
		return UINT32_MAX;
	return info.owner;
}

bool file_has(struct env *e, const char *file, const char *needle)
{
	char path[256], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->run.dir, file);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

int record_lists(struct env *e, unsigned int domid, const char *bdf)
{
	char file[64], path[320];

	snprintf(file, sizeof(file), "xpt/domains/%u.json", domid);
	snprintf(path, sizeof(path), "%s/%s", e->run.dir, file);
	if (access(path, R_OK) != 0) {
		fail(e, "dom%u has no record %s", domid, path);
		return -1;
	}
	return file_has(e, file, bdf);
}

/* the all-layers invariant (harness.h) */

char guest_proc_state(struct env *e, unsigned int domid)
{
	return proc_state(guest_pid(e, domid));
}

char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	return p[2] == 'Z' || p[2] == 'X' ? 0 : p[2];
}

pid_t daemon_pid(struct env *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->run.nproc && i < 3; i++)
		if (!strcmp(e->run.proc[i].name, name))
			return e->run.proc[i].pid;
	return 0;
}

static bool guest_live(struct env *e, unsigned int domid)
{
	char s = guest_proc_state(e, domid);

	return s && s != 'T' && s != 't';
}

#define INV_MAXDOM 16

struct invdom {
	unsigned int domid;
	bool exists, has_be, live, q_ok;
	int be, fe, num;
	struct e2e_qstatus q;
};

struct quietarg { unsigned int domid; };

static bool guest_quiet(struct env *e, void *arg)
{
	struct quietarg *a = arg;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	int num;
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", a->domid);
	if (!xs_exists(e, "/local/domain/0/backend/pci/%u/0", a->domid))
		ok = e2e_guest_status(&e->run, a->domid, &s) && s.n == 0;
	else
		ok = be_state(e, a->domid) == 4 && fe_state(e, a->domid) == 4 &&
		     e2e_guest_status(&e->run, a->domid, &s) && s.fe == 4 &&
		     (int)s.n == num;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

static void add_dom(struct invdom *d, unsigned int *nd, unsigned int domid)
{
	unsigned int i;

	if (domid == HV_DOMID_IO)
		return;
	for (i = 0; i < *nd; i++)
		if (d[i].domid == domid)
			return;
	if (*nd < INV_MAXDOM)
		d[(*nd)++] = (struct invdom){ .domid = domid };
}

static void add_dirs(struct env *e, struct invdom *d, unsigned int *nd,
		     const char *dir, bool skip0)
{
	unsigned int n, i;
	char **ents = xs_directory(e->xs, XBT_NULL, dir, &n);

	for (i = 0; ents && i < n; i++) {
		char *end;
		unsigned long v = strtoul(ents[i], &end, 10);

		if (!*end && (v || !skip0))
			add_dom(d, nd, (unsigned int)v);
	}
	free(ents);
}

static int pb_exported(const char *list, uint32_t sbdf)
{
	char needle[40];
	const char *p;

	snprintf(needle, sizeof(needle), "%s exported-to=", bdf(sbdf));
	p = strstr(list, needle);
	if (!p)
		return -2;
	p += strlen(needle);
	return *p == '-' ? -1 : (int)strtoul(p, NULL, 10);
}

bool layers_get(struct env *e, uint32_t sbdf, struct layers *l)
{
	char reply[16384];
	unsigned int d[INV_MAXDOM], nd = 0, n, i;
	char **ents = xs_directory(e->xs, XBT_NULL,
				   "/local/domain/0/backend/pci", &n);

	memset(l, 0, sizeof(*l));
	l->sbdf = sbdf;
	l->be_devstate = -1;
	for (i = 0; ents && i < n && nd < INV_MAXDOM; i++)
		d[nd++] = (unsigned int)strtoul(ents[i], NULL, 10);
	free(ents);
	for (i = 0; i < nd; i++) {
		int idx = be_find(e, d[i], sbdf);

		if (idx < 0 || l->nbe == 4)
			continue;
		if (!l->nbe)
			l->be_devstate = xs_int(e, "/local/domain/0/backend/pci/"
						"%u/0/state-%d", d[i], idx);
		l->be_dom[l->nbe++] = d[i];
	}
	ents = xs_directory(e->xs, XBT_NULL, "/local/domain", &n);
	for (i = 0; ents && i < n; i++) {
		unsigned int dom = (unsigned int)strtoul(ents[i], NULL, 10);
		struct e2e_qstatus q;
		char save[sizeof(e->run.why)];

		if (!dom || !guest_live(e, dom) || l->nseen == 4)
			continue;
		memcpy(save, e->run.why, sizeof(save));
		if (e2e_guest_status(&e->run, dom, &q) && qhas(&q, sbdf))
			l->seen_by[l->nseen++] = dom;
		memcpy(e->run.why, save, sizeof(save));
	}
	free(ents);
	if (!marker(e, sbdf, (unsigned int *)&l->marker))
		l->marker = -1;
	l->owner = owner(e, sbdf);
	l->pb = e2e_pciback(&e->run, "list", reply, sizeof(reply)) ?
		pb_exported(reply, sbdf) : -3;
	return true;
}

const char *layers_str(const struct layers *l)
{
	static char buf[4][256];
	static unsigned int k;
	char *b = buf[k = (k + 1) % 4];
	size_t off = 0;
	unsigned int i;

	off += (size_t)snprintf(b + off, 256 - off, "%s [backend", bdf(l->sbdf));
	if (!l->nbe)
		off += (size_t)snprintf(b + off, 256 - off, " -");
	for (i = 0; i < l->nbe; i++)
		off += (size_t)snprintf(b + off, 256 - off, " dom%u", l->be_dom[i]);
	if (l->nbe)
		off += (size_t)snprintf(b + off, 256 - off, " (state-N %d)",
					l->be_devstate);
	off += (size_t)snprintf(b + off, 256 - off, ", guest");
	if (!l->nseen)
		off += (size_t)snprintf(b + off, 256 - off, " -");
	for (i = 0; i < l->nseen; i++)
		off += (size_t)snprintf(b + off, 256 - off, " dom%u",
					l->seen_by[i]);
	off += (size_t)snprintf(b + off, 256 - off, ", marker ");
	off += (size_t)(l->marker < 0 ?
		snprintf(b + off, 256 - off, "-") :
		snprintf(b + off, 256 - off, "%d", l->marker));
	off += (size_t)(l->owner == HV_DOMID_IO ?
		snprintf(b + off, 256 - off, ", iommu DOMID_IO") :
		snprintf(b + off, 256 - off, ", iommu dom%u", l->owner));
	if (l->pb >= 0)
		snprintf(b + off, 256 - off, ", pciback dom%d]", l->pb);
	else
		snprintf(b + off, 256 - off, ", pciback %s]", l->pb == -1 ?
			 "-" : l->pb == -2 ? "not seized" : "no answer");
	return b;
}

static void __attribute__((format(printf, 3, 4)))
viol(char *msg, size_t len, const char *fmt, ...)
{
	size_t off = strlen(msg);
	va_list ap;

	if (off + 8 >= len)
		return;
	if (off)
		off += (size_t)snprintf(msg + off, len - off, "; ");
	va_start(ap, fmt);
	vsnprintf(msg + off, len - off, fmt, ap);
	va_end(ap);
}

bool inv_check(struct env *e, const char *when)
{
	struct hv_domain_list *hl = calloc(1, sizeof(*hl));
	struct invdom d[INV_MAXDOM];
	uint32_t *pl = NULL;
	size_t npl = 0;
	char msg[700] = "", pbl[16384] = "";
	unsigned int nd = 0, i, k;
	bool pb_ok;
	int j;

	if (hl && hv_call(e->hv, HV_OP_DOMAIN_LIST, NULL, 0, -1, hl,
			  sizeof(*hl), NULL) >= 0)
		for (i = 0; i < hl->count && i < 64; i++)
			if (hl->d[i].domid)
				add_dom(d, &nd, hl->d[i].domid);
	free(hl);
	add_dirs(e, d, &nd, "/local/domain", true);
	add_dirs(e, d, &nd, "/local/domain/0/backend/pci", false);
	for (i = 0; i < nd; i++) {
		struct invdom *x = &d[i];
		struct hv_domain_info info;

		x->exists = hv_domain_getinfo(e->hv, x->domid, &info) == 0 &&
			    info.state != HV_DOM_DYING;
		x->has_be = xs_exists(e, "/local/domain/0/backend/pci/%u/0",
				      x->domid);
		x->live = x->domid && x->exists && guest_live(e, x->domid);
		if (x->live) {
			struct quietarg q = { x->domid };

			wait_until(e, guest_quiet, &q, 3000, NULL);
		}
	}
	for (i = 0; i < nd; i++) {
		struct invdom *x = &d[i];
		char *err;

		x->be = be_state(e, x->domid);
		x->fe = fe_state(e, x->domid);
		x->num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
				x->domid);
		if (x->live) {
			char save[sizeof(e->run.why)];

			memcpy(save, e->run.why, sizeof(save));
			x->q_ok = e2e_guest_status(&e->run, x->domid, &x->q);
			memcpy(e->run.why, save, sizeof(save));
			if (!x->q_ok)
				viol(msg, sizeof(msg), "dom%u's guest does not "
				     "answer", x->domid);
		}
		if (!x->has_be)
			continue;
		if (!x->exists)
			viol(msg, sizeof(msg), "a backend is left for dom%u, "
			     "which does not exist", x->domid);
		err = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error",
			     x->domid);
		if (err)
			viol(msg, sizeof(msg), "dom%u's backend has an error "
			     "node: %s", x->domid, err);
		free(err);
		if (x->be == 5 || x->be == 6 || x->be < 1 || x->be > 8)
			viol(msg, sizeof(msg), "dom%u's backend is at state %d",
			     x->domid, x->be);
		else if (x->live && (x->be != 4 || x->fe != 4))
			viol(msg, sizeof(msg), "dom%u never settles: backend "
			     "%d, frontend %d", x->domid, x->be, x->fe);
		if (x->num < 0)
			viol(msg, sizeof(msg), "dom%u's backend: num_devs %s",
			     x->domid, x->num == -1 ? "missing" : "garbage");
		for (j = 0; j < x->num && j < 64; j++) {
			char *v = xs_get(e, "/local/domain/0/backend/pci/%u/0/"
					 "dev-%d", x->domid, j);
			uint32_t s;

			if (!v || hv_parse_bdf(v, &s) < 0)
				viol(msg, sizeof(msg), "dom%u: dev-%d %s under "
				     "num_devs=%d", x->domid, j, v ? "garbage" :
				     "missing", x->num);
			free(v);
		}
		for (j = x->num < 0 ? 0 : x->num; j < (x->num < 0 ? 0 : x->num) + 8; j++)
			if (xs_exists(e, "/local/domain/0/backend/pci/%u/0/dev-%d",
				      x->domid, j))
				viol(msg, sizeof(msg), "dom%u: dev-%d beyond "
				     "num_devs=%d", x->domid, j, x->num);
		if (x->live && x->q_ok && x->num >= 0 && (int)x->q.n != x->num)
			viol(msg, sizeof(msg), "dom%u's guest sees %u devices, "
			     "num_devs=%d", x->domid, x->q.n, x->num);
	}
	for (i = 0; i < nd; i++)
		if (d[i].live && d[i].q_ok && !d[i].has_be && d[i].q.n)
			viol(msg, sizeof(msg), "dom%u's guest sees %u devices "
			     "without a backend", d[i].domid, d[i].q.n);
	pb_ok = e2e_pciback(&e->run, "list", pbl, sizeof(pbl)) &&
		strstr(pbl, "ok");
	if (!pb_ok)
		viol(msg, sizeof(msg), "pciback does not answer `list`");
	if (hv_pci_list(e->hv, &pl, &npl) < 0)
		npl = 0;
	for (k = 0; k < npl; k++) {
		struct layers l;
		const char *why = NULL;
		struct invdom *bd = NULL;
		unsigned int dom;

		memset(&l, 0, sizeof(l));
		l.sbdf = pl[k];
		l.be_devstate = -1;
		for (i = 0; i < nd; i++) {
			int idx;

			if (!d[i].has_be || (idx = be_find(e, d[i].domid,
							   l.sbdf)) < 0)
				continue;
			if (!l.nbe) {
				bd = &d[i];
				l.be_devstate = xs_int(e, "/local/domain/0/"
						       "backend/pci/%u/0/"
						       "state-%d", d[i].domid,
						       idx);
			}
			if (l.nbe < 4)
				l.be_dom[l.nbe++] = d[i].domid;
		}
		for (i = 0; i < nd; i++)
			if (d[i].live && d[i].q_ok && qhas(&d[i].q, l.sbdf) &&
			    l.nseen < 4)
				l.seen_by[l.nseen++] = d[i].domid;
		if (!marker(e, l.sbdf, &dom))
			l.marker = -1;
		else
			l.marker = (int)dom;
		l.owner = owner(e, l.sbdf);
		l.pb = pb_ok ? pb_exported(pbl, l.sbdf) : -3;
		if (l.nbe > 1)
			why = "in two backends";
		else if (l.nseen > 1)
			why = "seen by two guests";
		else if (l.nbe == 1) {
			dom = l.be_dom[0];
			if (l.marker != (int)dom)
				why = "its marker is not the backend's domain";
			else if (l.owner != dom)
				why = "the IOMMU owner is not the backend's "
				      "domain";
			else if (bd->be == 4 && l.be_devstate == 3 &&
				 l.pb != (int)dom)
				why = "pciback does not export it to the "
				      "backend's domain";
			else if (l.pb >= 0 && l.pb != (int)dom)
				why = "pciback exports it to another domain";
			else if (bd->live && bd->q_ok && !l.nseen)
				why = "the guest does not see it";
			else if (l.nseen && l.seen_by[0] != dom)
				why = "another guest sees it";
		} else {
			if (l.nseen)
				why = "seen by a guest, in no backend";
			else if (l.marker >= 0)
				why = "in no backend, but marked";
			else if (l.pb >= 0)
				why = "in no backend, but exported by pciback";
			else if (l.pb == -1 && l.owner != HV_DOMID_IO)
				why = "assignable (pciback holds it) but not "
				      "quarantined";
			else if (l.pb == -2 && l.owner != 0 &&
				 l.owner != HV_DOMID_IO)
				why = "in no backend, owned by a domain";
		}
		if (why)
			viol(msg, sizeof(msg), "%s: %s", layers_str(&l), why);
	}
	free(pl);
	if (msg[0])
		return fail(e, "%s: layers disagree: %s", when, msg);
	return true;
}

/* the refusing hypervisor (hv_refuse) */

static void proxy_loop(int lfd, const struct sockaddr_un *real, uint32_t op)
{
	struct pollfd pfd[64];
	int peer[64], n = 1, i;
	char buf[HV_MSG_MAX];

	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN && n + 2 <= 64) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC),
			    s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

			if (c >= 0 && s >= 0 &&
			    connect(s, (const struct sockaddr *)real,
				    sizeof(*real)) == 0) {
				pfd[n] = (struct pollfd){ .fd = c, .events = POLLIN };
				peer[n++] = s;
				pfd[n] = (struct pollfd){ .fd = s, .events = POLLIN };
				peer[n++] = c;
			} else {
				if (c >= 0)
					close(c);
				if (s >= 0)
					close(s);
			}
		}
		for (i = 1; i < n; i++) {
			union {
				struct cmsghdr c;
				char b[CMSG_SPACE(sizeof(int))];
			} u;
			struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = u.b,
					     .msg_controllen = sizeof(u.b) };
			struct hv_msg m;
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recvmsg(pfd[i].fd, &mh, 0);
			if (r <= 0) {
				/* close the pair */
				int j = (i % 2) ? i + 1 : i - 1, lo = i < j ? i : j;

				close(pfd[lo].fd);
				close(pfd[lo + 1].fd);
				memmove(&pfd[lo], &pfd[lo + 2],
					(size_t)(n - lo - 2) * sizeof(pfd[0]));
				memmove(&peer[lo], &peer[lo + 2],
					(size_t)(n - lo - 2) * sizeof(peer[0]));
				n -= 2;
				break;
			}
			/* odd slots are the toolstack's side: its requests */
			if (i % 2 == 1 && (size_t)r >= sizeof(m) +
			    sizeof(struct hv_assign)) {
				struct hv_assign a;

				memcpy(&m, buf, sizeof(m));
				memcpy(&a, buf + sizeof(m), sizeof(a));
				if (m.op != op)
					a.domid = 0;
				if (a.domid != HV_DOMID_IO && a.domid != 0) {
					m.ret = -EIO;
					m.len = 0;
					send(pfd[i].fd, &m, sizeof(m), MSG_NOSIGNAL);
					continue;
				}
			}
			iov.iov_len = (size_t)r;
			mh.msg_iovlen = 1;
			if (!mh.msg_controllen || !CMSG_FIRSTHDR(&mh))
				mh.msg_control = NULL, mh.msg_controllen = 0;
			sendmsg(peer[i], &mh, MSG_NOSIGNAL);
			if (mh.msg_control) {
				int fd;

				memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(fd));
				close(fd);
			}
		}
	}
}

bool hv_refuse(struct env *e, uint32_t op)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX },
			   real = { .sun_family = AF_UNIX };
	struct e2e_proc *p;
	int lfd;

	CHECK(e, e->run.nproc < E2E_MAX_PROCS, "no process slot for the proxy");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/hv/control",
		 e->run.dir);
	snprintf(real.sun_path, sizeof(real.sun_path), "%.80s/hv/control.real",
		 e->run.dir);
	CHECK(e, rename(sa.sun_path, real.sun_path) == 0, "rename %s: %s",
	      sa.sun_path, strerror(errno));
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(e, lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0
	      && listen(lfd, 16) == 0, "proxy %s: %s", sa.sun_path,
	      strerror(errno));
	p = &e->run.proc[e->run.nproc++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "hvproxy");
	p->pid = fork();
	if (p->pid == 0) {
		proxy_loop(lfd, &real, op);
		_exit(0);
	}
	close(lfd);
	p->pidfd = p->pid > 0 ? (int)syscall(SYS_pidfd_open, p->pid, 0) : -1;
	return p->pid > 0 || fail(e, "fork: %s", strerror(errno));
}

struct irqarg { unsigned int domid; uint32_t sbdf; unsigned long long before; };

static const struct e2e_qdev *qfind_host(const struct e2e_qstatus *s,
					  uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].host, bdf(sbdf)))
			return &s->d[i];
	return NULL;
}

static bool irq_grew(struct env *e, void *arg)
{
	struct irqarg *a = arg;
	struct e2e_qstatus s;
	const struct e2e_qdev *d;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, a->domid, &s) &&
	     (d = qfind_host(&s, a->sbdf)) && d->count > a->before;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

bool irq_counted(struct env *e, unsigned int domid, uint32_t sbdf)
{
	struct e2e_qstatus s;
	const struct e2e_qdev *d;
	struct irqarg a = { domid, sbdf, 0 };
	uint32_t type;
	int r, delivered = 0;

	CHECK(e, e2e_guest_status(&e->run, domid, &s),
	      "dom%u's guest does not answer", domid);
	d = qfind_host(&s, sbdf);
	CHECK(e, d, "dom%u's guest does not see %s", domid, bdf(sbdf));
	type = !strcmp(d->irq, "msix") ? HV_IRQ_MSIX :
	       !strcmp(d->irq, "msi") ? HV_IRQ_MSI : HV_IRQ_INTX;
	a.before = d->count;
	r = hv_pci_raise_irq(e->hv, sbdf, type, 0, &delivered);
	CHECK(e, r == 0 && delivered, "%s raised an interrupt (%s): %s; not "
	      "delivered to dom%u (its interrupts were stopped: reset or "
	      "deassigned?)", bdf(sbdf), d->irq, r ? strerror(-r) : "ok",
	      domid);
	return wait_until(e, irq_grew, &a, 2000, NULL) ||
	       fail(e, "dom%u did not count the interrupt of %s", domid,
		    bdf(sbdf));
}

/* every layer says domid has it (a stopped or gone guest is not asked) */
bool dev_owned(struct env *e, unsigned int domid, uint32_t sbdf)
{
	struct layers l;
	char s;

	layers_get(e, sbdf, &l);
	s = guest_proc_state(e, domid);
	CHECK(e, l.nbe == 1 && l.be_dom[0] == domid && l.marker == (int)domid
	      && l.owner == domid && l.pb == (int)domid &&
	      (s == 'T' || s == 0 || (l.nseen == 1 && l.seen_by[0] == domid)),
	      "%s should be dom%u's on every layer: %s", bdf(sbdf), domid,
	      layers_str(&l));
	return true;
}

struct ndevs { unsigned int domid, n; };

/* the guest answers, and sees n devices: an HVM guest on its bus (it
 * cannot know their host addresses), a PV one through pcifront */
static bool guest_sees_n(struct env *e, void *arg)
{
	struct ndevs *w = arg;
	struct e2e_qstatus s;
	char save[sizeof(e->run.why)];
	bool ok;

	memcpy(save, e->run.why, sizeof(save));
	ok = e2e_guest_status(&e->run, w->domid, &s) && s.n == w->n;
	memcpy(e->run.why, save, sizeof(save));
	return ok;
}

bool guest_sees(struct env *e, unsigned int domid, unsigned int n)
{
	struct ndevs w = { domid, n };
	struct e2e_qstatus s = { .n = 99 };

	if (wait_until(e, guest_sees_n, &w, 10000, NULL))
		return true;
	e2e_guest_status(&e->run, domid, &s);
	return fail(e, "dom%u's guest sees %u device(s), wanted %u", domid,
		    s.n, n);
}

bool dev_free(struct env *e, uint32_t sbdf)
{
	struct layers l;

	layers_get(e, sbdf, &l);
	CHECK(e, !l.nbe && !l.nseen && l.marker < 0 && l.owner == HV_DOMID_IO
	      && l.pb == -1, "%s should be assignable (in no backend, seen by "
	      "no guest, no marker, quarantined, exported to nobody): %s",
	      bdf(sbdf), layers_str(&l));
	return true;
}

/* the domain ids the hypervisor has, the ids under a xenstore dir */
static unsigned int hv_domains(struct env *e, unsigned int *ids,
			       unsigned int max)
{
	struct hv_domain_list *hl = calloc(1, sizeof(*hl));
	unsigned int n = 0, i;

	if (hl && hv_call(e->hv, HV_OP_DOMAIN_LIST, NULL, 0, -1, hl,
			  sizeof(*hl), NULL) >= 0)
		for (i = 0; i < hl->count && i < 64 && n < max; i++)
			if (hl->d[i].domid)
				ids[n++] = hl->d[i].domid;
	free(hl);
	return n;
}

static bool in(const unsigned int *ids, unsigned int n, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* the guest kernels and device models of this run directory, by the
 * domain they serve (their --domid / -xen-domid) */
static unsigned int run_procs(struct env *e, unsigned int *doms,
			      const char **kinds, unsigned int max)
{
	char path[300], cmd[4096];
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir = opendir("/proc");

	while (dir && (d = readdir(dir)) && n < max) {
		const char *kind = NULL, *arg = NULL;
		ssize_t len, i;
		int fd;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		cmd[len] = '\0';
		/* argv[0], then "--domid N" or "-xen-domid N" */
		if (strstr(cmd, "xpt-guest"))
			kind = "guest kernel";
		else if (strstr(cmd, "xpt-dm"))
			kind = "device model";
		for (i = 0; kind && i < len; i += (ssize_t)strlen(cmd + i) + 1) {
			if (!strcmp(cmd + i, "--rundir") && i + 9 < len &&
			    strcmp(cmd + i + 9, e->run.dir))
				kind = NULL;	/* another run's */
			else if (!strcmp(cmd + i, "--domid") ||
				 !strcmp(cmd + i, "-xen-domid"))
				arg = cmd + i + strlen(cmd + i) + 1;
		}
		if (!kind || !arg || arg >= cmd + len)
			continue;
		doms[n] = (unsigned int)strtoul(arg, NULL, 10);
		kinds[n++] = kind;
	}
	if (dir)
		closedir(dir);
	return n;
}

struct procwant { const unsigned int *want; unsigned int nwant, dom;
		  const char *kind; };

/* no guest kernel or device model of this run serves a domain not in
 * want (the one that does in dom, kind) */
static bool procs_only(struct env *e, void *arg)
{
	struct procwant *w = arg;
	unsigned int procs[32], n, i;
	const char *kinds[32];

	n = run_procs(e, procs, kinds, 32);
	for (i = 0; i < n; i++)
		if (!in(w->want, w->nwant, procs[i])) {
			w->dom = procs[i];
			w->kind = kinds[i];
			return false;
		}
	return true;
}

bool only_domains(struct env *e, const unsigned int *want, unsigned int nwant)
{
	static const char *const dirs[] = {
		"/local/domain", "/libxl", "/local/domain/0/backend/pci",
	};
	unsigned int ids[64], n, i, j;
	struct procwant pw;
	char **ents;

	n = hv_domains(e, ids, 64);
	for (i = 0; i < n; i++)
		CHECK(e, in(want, nwant, ids[i]), "the hypervisor still has "
		      "dom%u (only dom0 and %u domain(s) of the test should "
		      "be left, the first dom%u)", ids[i], nwant,
		      nwant ? want[0] : 0);
	for (i = 0; i < nwant; i++)
		CHECK(e, in(ids, n, want[i]), "the hypervisor lost dom%u",
		      want[i]);
	for (j = 0; j < sizeof(dirs) / sizeof(dirs[0]); j++) {
		ents = xs_directory(e->xs, XBT_NULL, dirs[j], &n);
		for (i = 0; ents && i < n; i++) {
			char *end;
			unsigned long v = strtoul(ents[i], &end, 10);

			if (*end || v == 0 || in(want, nwant, (unsigned int)v))
				continue;
			fail(e, "%s/%s is left over (the domain is gone)",
			     dirs[j], ents[i]);
			free(ents);
			return false;
		}
		free(ents);
	}
	/* a stub domain's device model, its kernel's child, may take a
	 * moment to go after its kernel */
	pw = (struct procwant){ want, nwant, 0, NULL };
	CHECK(e, wait_until(e, procs_only, &pw, 3000, NULL), "a %s of dom%u "
	      "is left running (3 s after)", pw.kind, pw.dom);
	return true;
}

unsigned int stub_domain_of(struct env *e, unsigned int domid)
{
	int s = xs_int(e, "/local/domain/%u/image/device-model-domid", domid);

	return s > 0 && xs_int(e, "/local/domain/%d/target", s) == (int)domid ?
	       (unsigned int)s : 0;
}
