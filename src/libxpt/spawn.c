// SPDX-License-Identifier: MIT
/*
 * The modelled host's processes: finding the daemons (next to the xpt
 * binary in the build tree, $XPT_LIBEXEC, or $PATH), starting them
 * detached (own session, output to a log file, not our children), and
 * stopping them with SIGTERM and a bounded wait on a pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libxpt.h"

/* The build-tree directory of each daemon, relative to src/xpt/. */
static const struct {
	const char *name, *dir;
} build_dirs[] = {
	{ "xpt-xenstored", "xenstored" },
	{ "xpt-hypervisor", "hypervisor" },
	{ "xpt-pciback", "pciback" },
	{ "xpt-guest", "guest" },
	{ "xpt-dm", "dm" },
};

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

int xpt_find_binary(const char *name, char *buf, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX], *path, *p, *save = NULL;
	const char *env = getenv("XPT_LIBEXEC");
	ssize_t n;
	size_t i;

	if (env && *env) {
		snprintf(buf, len, "%s/%s", env, name);
		if (executable(buf))
			return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", dirname(exe));
		for (i = 0; i < sizeof(build_dirs) / sizeof(build_dirs[0]); i++) {
			if (strcmp(build_dirs[i].name, name))
				continue;
			snprintf(buf, len, "%s/../%s/%s", dir,
				 build_dirs[i].dir, name);
			if (executable(buf))
				return 0;
		}
		snprintf(buf, len, "%s/%s", dir, name);
		if (executable(buf))
			return 0;
		snprintf(buf, len, "%s/../sbin/%s", dir, name);
		if (executable(buf))
			return 0;
	}
	env = getenv("PATH");
	path = strdup(env ? env : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (p = path ? strtok_r(path, ":", &save) : NULL; p;
	     p = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/%s", p, name);
		if (executable(buf)) {
			free(path);
			return 0;
		}
	}
	free(path);
	return -ENOENT;
}

/* Double fork: the daemon is re-parented away from us, in its own
 * session, stdin from /dev/null, output appended to logpath. */
int xpt_spawn_detached(const char *const argv[], const char *logpath,
		       int *ret_pid)
{
	int pfd[2], status, pid = -1;
	pid_t child;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (child == 0) {
		pid_t gc;
		int fd;

		setsid();
		gc = fork();
		if (gc != 0) {
			int v = (int)gc;

			if (write(pfd[1], &v, sizeof(v)) < 0)
				_exit(1);
			_exit(gc < 0);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "xpt: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	/* The grandchild holds the pipe open until its exec closes it
	 * (O_CLOEXEC): once it is closed, pid runs the daemon, not a copy
	 * of us.  A stop that follows at once (a create that failed just
	 * after the spawn) recognises a daemon by its command line, and
	 * would otherwise pass over one not yet exec'd, which then ran on. */
	while (pid > 0) {
		char byte;
		ssize_t k = read(pfd[0], &byte, 1);

		if (k == 0 || (k < 0 && errno != EINTR))
			break;
	}
	close(pfd[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (pid <= 0)
		return -ECHILD;
	*ret_pid = pid;
	return 0;
}

/* /proc/<pid>/<file>, NUL-terminated; its length, 0 when unreadable. */
static size_t proc_read(int pid, const char *file, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

/* The pid runs and its command line mentions must_contain (our run
 * directory): never signal a recycled pid. */
bool xpt_pid_alive(int pid, const char *must_contain)
{
	char buf[4096];
	size_t n, i;

	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	if (!must_contain)
		return true;
	n = proc_read(pid, "cmdline", buf, sizeof(buf));
	if (n == 0)
		return false;	/* a zombie has an empty command line */
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return strstr(buf, must_contain) != NULL;
}

bool xpt_pid_running(int pid)
{
	char buf[512], *rp;

	if (pid <= 0 || !proc_read(pid, "stat", buf, sizeof(buf)))
		return false;
	/* "pid (comm) S ...": the comm may hold anything, the state follows
	 * the last ')' */
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* The process ends within ms (its pidfd is readable): 1, else 0. */
static int pid_wait(struct xpt_progress *p, struct pollfd *pfd, int ms)
{
	int64_t deadline = xpt_now_ms() + ms, left;
	int n;

	while ((left = deadline - xpt_now_ms()) > 0) {
		n = poll(pfd, 1, xpt_progress_poll_ms(p, left));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 0;
	}
	return 0;
}

/* SIGTERM, wait (pidfd) up to timeout_ms, then SIGKILL. */
int xpt_pid_stop(struct xpt_ctx *c, const char *name, int pid,
		 int timeout_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	struct xpt_progress p;
	int r = 0;

	if (pidfd < 0)
		return errno == ESRCH ? 0 : -errno;
	xpt_progress_begin(c, &p, timeout_ms + 2000, "%s (pid %d) to stop",
			   name, pid);
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		r = -errno;
	} else if (!pid_wait(&p, &pfd, timeout_ms)) {
		kill(pid, SIGKILL);
		pid_wait(&p, &pfd, 2000);
		r = -ETIMEDOUT;
	}
	xpt_progress_end(&p, r);
	close(pidfd);
	return r;
}
