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
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct bins bins;

bool fail(struct env *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->why[0]) {
		va_start(ap, fmt);
		vsnprintf(e->why, sizeof(e->why), fmt, ap);
		va_end(ap);
	}
	return false;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *bdf(uint32_t sbdf)
{
	static char buf[8][16];
	static unsigned int i;

	i = (i + 1) % 8;
	hv_format_bdf(sbdf, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* processes */

static struct proc *spawn(struct env *e, const char *name,
			  const char *const argv[], char *const envp[])
{
	struct proc *p;
	int fd;

	if (e->nproc == MAX_PROCS) {
		/* reuse a finished slot */
		unsigned int i;

		for (i = 0; i < MAX_PROCS && e->proc[i].pid > 0; i++)
			;
		if (i == MAX_PROCS)
			return NULL;
		p = &e->proc[i];
	} else {
		p = &e->proc[e->nproc++];
	}
	snprintf(p->out, sizeof(p->out), "%s/%s.log", e->dir, name);
	fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	p->pid = fork();
	if (p->pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (envp)
			execve(argv[0], (char *const *)argv, envp);
		else
			execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	if (p->pid < 0)
		return NULL;
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static int proc_reap(struct proc *p, int ms)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	int status;

	if (p->pid <= 0)
		return -3;
	if (p->pidfd >= 0 && ms > 0)
		poll(&pfd, 1, ms);
	if (waitpid(p->pid, &status, WNOHANG) != p->pid)
		return -1;
	p->pid = 0;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static void proc_stop(struct proc *p, int sig)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, sig);
	if (proc_reap(p, 5000) == -1) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/* wait for a file to appear while its creator (if given) lives */
static bool wait_file(struct env *e, const char *path, struct proc *p, int ms)
{
	int64_t deadline = now_ms() + ms;
	char dir[256], buf[4096], *slash;
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	bool ok = false;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ifd, .events = POLLIN },
			{ .fd = p ? p->pidfd : -1, .events = POLLIN },
		};
		int64_t left;

		snprintf(dir, sizeof(dir), "%s", path);
		while ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			if (access(dir, F_OK) == 0)
				break;
		}
		inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO);
		if (access(path, F_OK) == 0) {
			ok = true;
			break;
		}
		left = deadline - now_ms();
		if (left <= 0 || (p && p->pid > 0 && proc_reap(p, 0) != -1))
			break;
		/* re-look at least every 100 ms: a parent directory may
		 * appear between the scan and the watch */
		poll(pfd, 2, left < 100 ? (int)left : 100);
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	close(ifd);
	if (!ok)
		fail(e, "%s did not appear", path);
	return ok;
}

bool env_start(struct env *e, const struct ts *ts, bool historic)
{
	const char *argv[12];
	char path[256], fdarg[16], ready[16];
	int pfd[2], n = 0;
	struct proc *p;

	memset(e, 0, sizeof(*e));
	e->ts = ts;
	snprintf(e->dir, sizeof(e->dir), "%s/xpt-ts.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(e->dir))
		return fail(e, "mkdtemp: %s", strerror(errno));
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail(e, "pipe: %s", strerror(errno));
	/* the ready fd must survive exec */
	fcntl(pfd[1], F_SETFD, 0);
	snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
	argv[n++] = bins.xenstored;
	argv[n++] = "--rundir";
	argv[n++] = e->dir;
	argv[n++] = "--ready-fd";
	argv[n++] = fdarg;
	argv[n] = NULL;
	p = spawn(e, "xenstored", argv, NULL);
	close(pfd[1]);
	n = p ? (int)read(pfd[0], ready, sizeof(ready)) : -1;
	close(pfd[0]);
	if (n <= 0)
		return fail(e, "xpt-xenstored did not start");

	n = 0;
	argv[n++] = bins.hv;
	argv[n++] = "--rundir";
	argv[n++] = e->dir;
	argv[n++] = "--host";
	argv[n++] = bins.hostfile;
	argv[n++] = "-vv";	/* permission changes, for bug 19 */
	argv[n] = NULL;
	p = spawn(e, "hypervisor", argv, NULL);
	snprintf(path, sizeof(path), "%s/hv/hypervisor.pid", e->dir);
	if (!p || !wait_file(e, path, p, WAIT_MS))
		return fail(e, "xpt-hypervisor did not start");

	n = 0;
	argv[n++] = bins.pciback;
	argv[n++] = "--rundir";
	argv[n++] = e->dir;
	if (historic)
		argv[n++] = "--historic";
	argv[n++] = "-v";
	argv[n] = NULL;
	p = spawn(e, "pciback", argv, NULL);
	snprintf(path, sizeof(path), "%s/pciback/pciback.pid", e->dir);
	if (!p || !wait_file(e, path, p, WAIT_MS))
		return fail(e, "xpt-pciback did not start");

	snprintf(path, sizeof(path), "%s/socket", e->dir);
	setenv("XENSTORED_PATH", path, 1);
	e->xs = xs_open(0);
	if (!e->xs)
		return fail(e, "xs_open: %s", strerror(errno));
	n = hv_open(e->dir, &e->hv);
	if (n < 0)
		return fail(e, "hv_open: %s", strerror(-n));
	/* $XPT_LIBEXEC for the toolstack: the daemons, and a guest kernel
	 * that is either plain or holds the backend's states until told
	 * (a guest slow to act on them) */
	{
		static const char *const sub[2] = { "libexec", "libexec-hold" };
		const char *names[3] = { "xpt-xenstored", "xpt-hypervisor",
					 "xpt-pciback" };
		const char *paths[3] = { bins.xenstored, bins.hv, bins.pciback };
		char abs[4096];
		int k, i;
		FILE *f;

		for (k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/%s", e->dir, sub[k]);
			mkdir(path, 0755);
			for (i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "%s/%s/%s", e->dir,
					 sub[k], names[i]);
				if (!realpath(paths[i], abs) ||
				    symlink(abs, path) < 0)
					return fail(e, "%s: %s", path,
						    strerror(errno));
			}
			snprintf(path, sizeof(path), "%s/%s/xpt-guest", e->dir,
				 sub[k]);
			f = fopen(path, "we");
			if (!f || !realpath(bins.guest, abs))
				return fail(e, "%s: %s", path, strerror(errno));
			fprintf(f, "#!/bin/sh\nexec '%s' \"$@\"%s\n", abs,
				k ? " --hold-backend -v" : " -v");
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

	snprintf(path, sizeof(path), "%s/guest", e->dir);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name);
		long pid = 0;
		FILE *f;

		if (l < 5 || strcmp(d->d_name + l - 4, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/guest/%s", e->dir, d->d_name);
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

void env_stop(struct env *e, bool failed)
{
	char cmd[400];
	int i;

	if (e->xs)
		xs_close(e->xs);
	if (e->hv)
		hv_close(e->hv);
	e->xs = NULL;
	e->hv = NULL;
	if (!e->dir[0])
		return;
	/* toolstack runs still going, then guests, then the daemons */
	for (i = (int)e->nproc - 1; i >= 3; i--)
		proc_stop(&e->proc[i], SIGKILL);
	kill_guests(e);
	for (i = e->nproc < 3 ? (int)e->nproc - 1 : 2; i >= 0; i--)
		proc_stop(&e->proc[i], SIGTERM);
	if (failed && getenv("XPT_TS_VERBOSE")) {
		snprintf(cmd, sizeof(cmd), "for f in %s/*.log; do echo \"--- $f\"; "
			 "tail -n 30 \"$f\"; done", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not show logs\n");
	}
	if (getenv("XPT_TS_KEEP")) {
		fprintf(stderr, "kept %s\n", e->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", e->dir);
}

/* the toolstack under test */

struct proc *ts_spawn(struct env *e, const char *delay, const char *const args[])
{
	static char envbuf[9][4200];
	char *envp[16];
	const char *argv[16];
	char name[32];
	int n = 0, i;
	struct proc *p;

	snprintf(envbuf[0], sizeof(envbuf[0]), "XPT_RUNDIR=%s", e->dir);
	snprintf(envbuf[1], sizeof(envbuf[1]), "XPT_GUEST=%s/%s/xpt-guest",
		 e->dir, e->hold ? "libexec-hold" : "libexec");
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
	snprintf(envbuf[7], sizeof(envbuf[7]), "XPT_LIBEXEC=%s/%s", e->dir,
		 e->hold ? "libexec-hold" : "libexec");
	for (i = 0; i < 8; i++)
		envp[i] = envbuf[i];
	envp[i] = NULL;
	argv[n++] = e->ts->path;
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(name, sizeof(name), "ts-%u-%s", ++e->nrun, args[0]);
	p = spawn(e, name, argv, envp);
	if (!p)
		fail(e, "cannot start %s", e->ts->path);
	return p;
}

static void read_out(struct env *e, struct proc *p)
{
	int fd = open(p->out, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, e->out, sizeof(e->out) - 1) : 0;

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

int ts_wait(struct env *e, struct proc *p, int ms, bool keep)
{
	int rc;

	if (!p)
		return -3;
	rc = proc_reap(p, ms);
	if (rc == -1 && !keep) {
		kill(p->pid, SIGKILL);
		rc = proc_reap(p, 5000);
		rc = -1;
	}
	if (rc != -1 || !keep)
		read_out(e, p);
	return rc;
}

int ts_run(struct env *e, const char *delay, int ms, const char *const args[])
{
	struct proc *p = ts_spawn(e, delay, args);
	int64_t end = now_ms() + ms;
	int rc;

	if (!p)
		return -3;
	/* poll() may wake early (EINTR); keep the deadline */
	do
		rc = ts_wait(e, p, (int)(end - now_ms()), true);
	while (rc == -1 && now_ms() < end);
	if (rc == -1)
		rc = ts_wait(e, p, 0, false);
	return rc;
}

const char *cfg_file(struct env *e, const char *name, const char *pci)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.cfg", e->dir, name);
	f = fopen(path, "we");
	if (!f)
		return NULL;
	fprintf(f, "# a PV guest of the toolstack tests\nname = \"%s\"\n"
		"type = \"pv\"\nmemory = 256\nvcpus = 1\n"
		"passthrough = \"enabled\"\npci = [ %s ]\n", name, pci);
	fclose(f);
	return path;
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

	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->dir, domid);
	return wait_file(e, path, NULL, WAIT_MS) ||
	       fail(e, "the guest of dom%u did not start", domid);
}

pid_t guest_pid(struct env *e, unsigned int domid)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->dir, domid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
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

/* pciback */

bool pciback_req(struct env *e, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + WAIT_MS;
	size_t n = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pciback/control", e->dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(e, "pciback control: %s", strerror(errno));
	}
	reply[0] = '\0';
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;
		char *last;

		if (n >= len - 1 || left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		r = read(fd, reply + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		reply[n] = '\0';
		last = reply + n - 1;
		while (last > reply && last[-1] != '\n')
			last--;
		if (reply[n - 1] == '\n' && (last = reply + n - 1) &&
		    (strstr(reply, "ok") || strstr(reply, "error"))) {
			/* the last line starts with ok or error */
			char *l = reply + n - 1;

			while (l > reply && l[-1] != '\n')
				l--;
			if (!strncmp(l, "ok", 2) || !strncmp(l, "error", 5))
				break;
		}
	}
	close(fd);
	return true;
}

bool assignable(struct env *e, uint32_t sbdf)
{
	char req[64], reply[512];
	int r;

	snprintf(req, sizeof(req), "seize %s", bdf(sbdf));
	if (!pciback_req(e, req, reply, sizeof(reply)))
		return false;
	CHECK(e, !strncmp(reply, "ok", 2), "pciback %s: %s", req, reply);
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
	int64_t deadline = now_ms() + ms;
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
		left = deadline - now_ms();
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

bool guest_query(struct env *e, unsigned int domid, const char *req,
		 char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + WAIT_MS;
	size_t n = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/guest/%u", e->dir, domid);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(e, "guest %u query: %s", domid, strerror(errno));
	}
	reply[0] = '\0';
	while (n < len - 1 && !(n >= 4 && !strcmp(reply + n - 4, "end\n") &&
				(n == 4 || reply[n - 5] == '\n'))) {
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
	      "guest %u: no complete reply to %s", domid, req);
	return true;
}

bool guest_status(struct env *e, unsigned int domid, struct qstatus *s)
{
	char reply[8192], *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!guest_query(e, domid, "status", reply, sizeof(reply)))
		return false;
	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct qdev *d = &s->d[s->n];

		if (sscanf(line, "state frontend=%d backend=%d", &s->fe,
			   &s->be) == 2)
			continue;
		if (strncmp(line, "dev ", 4) || s->n == 16)
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

bool qhas(const struct qstatus *s, uint32_t sbdf)
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
	struct qstatus s;
	char save[sizeof(e->why)];
	bool ok;

	memcpy(save, e->why, sizeof(save));
	ok = guest_status(e, w->domid, &s) && s.n == w->n && s.fe == 4 &&
	     fe_state(e, w->domid) == 4 && be_state(e, w->domid) == 4;
	memcpy(e->why, save, sizeof(save));
	return ok;
}

bool wait_guest_devs(struct env *e, unsigned int domid, unsigned int n, int ms)
{
	struct ndev w = { domid, n };
	struct qstatus s;

	if (wait_until(e, guest_has_n, &w, ms, NULL))
		return true;
	memset(&s, 0, sizeof(s));
	guest_status(e, domid, &s);
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

	snprintf(path, sizeof(path), "%s/%s", e->dir, file);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}
