// SPDX-License-Identifier: MIT
/*
 * The run directories and processes of the tests that start daemons:
 * start, wait for, stop, and the first failure of a case.  See
 * harness.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

bool e2e_fail(struct e2e_run *run, const char *fmt, ...)
{
	va_list ap;

	if (!run->why[0]) {
		va_start(ap, fmt);
		vsnprintf(run->why, sizeof(run->why), fmt, ap);
		va_end(ap);
	}
	return false;
}

int64_t e2e_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A free slot: the next, or once all were used one whose process was
 * reaped. */
static struct e2e_proc *proc_slot(struct e2e_run *run)
{
	unsigned int i;

	if (run->nproc < E2E_MAX_PROCS)
		return &run->proc[run->nproc++];
	for (i = 0; i < E2E_MAX_PROCS; i++)
		if (run->proc[i].pid <= 0 && run->proc[i].pidfd < 0)
			return &run->proc[i];
	return NULL;
}

/* argv[0] as NAME with DIR/NAME.log as its stdout and stderr (NAME cut
 * to fit p->name), in envp, or this environment if NULL. */
struct e2e_proc *e2e_spawn_env(struct e2e_run *run, const char *name,
			       const char *const argv[], char *const envp[])
{
	struct e2e_proc *p = proc_slot(run);
	char log[256];
	int fd;

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pidfd = -1;
	snprintf(log, sizeof(log), "%s/%s.log", run->dir, p->name);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
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
	if (p->pid < 0) {
		p->pid = 0;
		return NULL;
	}
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	return p;
}

struct e2e_proc *e2e_spawn(struct e2e_run *run, const char *name,
			   const char *const argv[])
{
	return e2e_spawn_env(run, name, argv, NULL);
}

/*
 * p's exit code once it has exited, waiting up to ms for that; -1 while
 * it runs on, -2 if a signal ended it, -3 if it was reaped before.  Its
 * pidfd is closed when it is reaped.
 */
int e2e_proc_reap(struct e2e_proc *p, int ms)
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

/* Has p exited (reaped), waiting up to ms for it? */
bool e2e_proc_exited(struct e2e_proc *p, int ms)
{
	return e2e_proc_reap(p, ms) != -1;
}

/* p run to its end, within WAIT_MS: its exit code, or -1 if a signal
 * ended it or it runs on (e2e_run_stop ends it then). */
int e2e_proc_wait(struct e2e_proc *p)
{
	int rc = e2e_proc_reap(p, WAIT_MS);

	return rc >= 0 ? rc : -1;
}

/* sig, then SIGKILL if p has not exited within 5 s; its pidfd closed. */
void e2e_proc_stop(struct e2e_proc *p, int sig)
{
	if (p->pid > 0) {
		kill(p->pid, sig);
		if (!e2e_proc_exited(p, 5000)) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			p->pid = 0;
		}
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/* The nearest directory of path that exists. */
static void nearest_dir(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (access(dir, F_OK) == 0)
			break;
	}
}

/*
 * path appears, within WAIT_MS, while p (if any) lives.  Watched with
 * inotify on its nearest existing directory: when a directory on the way
 * appears, the watch moves down to it, so a file in a directory not yet
 * made is seen without polling.  A directory made between the look for
 * the nearest one and the watch on it sends no event: so the look is
 * taken again once the watch is there, and the watch moves if it finds
 * another.
 */
bool e2e_wait_file(struct e2e_run *run, const char *path, struct e2e_proc *p)
{
	int64_t deadline = e2e_now_ms() + WAIT_MS;
	char dir[256], again[256], buf[4096];
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	bool ok = false;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ifd, .events = POLLIN },
			{ .fd = p ? p->pidfd : -1, .events = POLLIN },
		};
		int64_t left;

		nearest_dir(path, dir, sizeof(dir));
		inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO);
		if (access(path, F_OK) == 0) {
			ok = true;
			break;
		}
		left = deadline - e2e_now_ms();
		if (left <= 0 || (p && e2e_proc_exited(p, 0)))
			break;
		nearest_dir(path, again, sizeof(again));
		if (strcmp(again, dir))
			continue;
		poll(pfd, 2, (int)left);
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	close(ifd);
	if (!ok)
		e2e_fail(run, "%s did not appear%s", path,
			 p && p->pid == 0 ? " (its process died)" : "");
	return ok;
}

/* A daemon is up when it has written DIR/pidfile. */
bool e2e_start_daemon(struct e2e_run *run, const char *name,
		      const char *const argv[], const char *pidfile)
{
	struct e2e_proc *p = e2e_spawn(run, name, argv);
	char path[256];

	if (!p)
		return e2e_fail(run, "cannot start %s", argv[0]);
	snprintf(path, sizeof(path), "%s/%s", run->dir, pidfile);
	return e2e_wait_file(run, path, p);
}

/* A fresh $TMPDIR/xpt-NAME.XXXXXX with xpt-xenstored serving in it: ready
 * when it writes to its --ready-fd. */
bool e2e_run_start(struct e2e_run *run, const char *name,
		   const char *xenstored)
{
	const char *argv[6];
	char fdarg[16], ready[16];
	struct e2e_proc *p;
	int pfd[2], n;

	memset(run, 0, sizeof(*run));
	snprintf(run->dir, sizeof(run->dir), "%s/xpt-%s.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	if (!mkdtemp(run->dir))
		return e2e_fail(run, "mkdtemp: %s", strerror(errno));
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return e2e_fail(run, "pipe: %s", strerror(errno));
	/* the ready fd must survive exec: clear CLOEXEC on a dup */
	n = fcntl(pfd[1], F_DUPFD, 3);
	close(pfd[1]);
	snprintf(fdarg, sizeof(fdarg), "%d", n);
	argv[0] = xenstored;
	argv[1] = "--rundir";
	argv[2] = run->dir;
	argv[3] = "--ready-fd";
	argv[4] = fdarg;
	argv[5] = NULL;
	p = e2e_spawn(run, "xenstored", argv);
	close(n);
	n = p ? (int)read(pfd[0], ready, sizeof(ready)) : -1;
	close(pfd[0]);
	if (n <= 0)
		return e2e_fail(run, "xpt-xenstored did not start");
	return true;
}

/* xpt-hypervisor with the host file: up when its pid file is there. */
bool e2e_start_hypervisor(struct e2e_run *run, const char *bin,
			  const char *hostfile, bool verbose)
{
	const char *argv[] = { bin, "--rundir", run->dir, "--host", hostfile,
			       verbose ? "-v" : NULL, NULL };

	return e2e_start_daemon(run, "hypervisor", argv, "hv/hypervisor.pid");
}

/* Every process of the run, the last started first (xenstored last). */
void e2e_run_stop(struct e2e_run *run)
{
	unsigned int i;

	for (i = run->nproc; i-- > 0;)
		e2e_proc_stop(&run->proc[i], SIGTERM);
}

/* The run directory removed, or kept and named. */
void e2e_run_remove(struct e2e_run *run, bool keep)
{
	char cmd[200];

	if (keep) {
		fprintf(stderr, "  run directory kept: %s\n", run->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", run->dir);
}
