// SPDX-License-Identifier: MIT
/*
 * The toolstack's locks (flock in $XPT_RUNDIR/xpt/lock/) across xpt
 * processes: <domid> serialises PCI operations and configuration updates
 * of one domain; "host" serialises what must be unique host-wide (a new
 * domain's name, from the check until it is in xenstore).  Lock order:
 * host before a domain.  Waiting is bounded by an interval timer; a lock file
 * replaced under us (destroy unlinks a domain's) is detected by comparing
 * inodes, and retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "libxpt.h"

static void on_alarm(int sig)
{
	(void)sig;
}

/* The lock is taken in slices between progress reports: an interval
 * timer (SIGALRM, no SA_RESTART) breaks flock with EINTR when the next
 * report is due, and again every 200 ms should a signal come before flock
 * sleeps. */
int xpt_flock_wait(struct xpt_ctx *c, const char *what, int fd,
		   int timeout_ms)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	int64_t deadline = xpt_now_ms() + timeout_ms;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct xpt_progress p;
	int r;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	xpt_progress_begin(c, &p, timeout_ms, "the lock of %s, which "
			   "another xpt holds", what);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	for (;;) {
		int64_t left = deadline - xpt_now_ms();
		int ms = xpt_progress_poll_ms(&p, left);
		struct itimerval t = {
			.it_value = { ms / 1000, (ms % 1000) * 1000 },
			.it_interval = { 0, 200000 },
		};

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (ms <= 0)
			t.it_value.tv_usec = 1000;
		setitimer(ITIMER_REAL, &t, NULL);
		r = flock(fd, LOCK_EX) == 0 ? 0 : -errno;
		setitimer(ITIMER_REAL, &off, NULL);
		if (r != -EINTR)
			break;
	}
	sigaction(SIGALRM, &old, NULL);
	xpt_progress_end(&p, r);
	return r;
}

/* Open and flock path (what: "domain 3", "the host") in the lock
 * directory; a file replaced under us is opened again. */
static int lock_file(struct xpt_ctx *c, const char *name, const char *what,
		     int *ret_fd)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat a, b;
	int fd, r, tries;

	if (xpt_path(c, dir, sizeof(dir), "xpt/lock") < 0 ||
	    xpt_path(c, path, sizeof(path), "xpt/lock/%s", name) < 0)
		return -ENAMETOOLONG;
	r = xpt_mkdirs(dir);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "cannot create %s: %s",
				dir, strerror(-r));
	for (tries = 0; tries < 16; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return xpt_fail(c, XPT_EXIT_FAIL, -errno,
					"cannot open the lock of %s (%s): %s",
					what, path, strerror(errno));
		r = xpt_flock_wait(c, what, fd,
				   xpt_scale_ms(c, XPT_LOCK_WAIT_MS));
		if (r < 0) {
			close(fd);
			return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot take "
					"its lock %s: %s%s", what, path,
					strerror(-r), r == -ETIMEDOUT ?
					" (another xpt holds it; see `ps`)" :
					"");
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);	/* unlinked by a destroy meanwhile */
	}
	return xpt_fail(c, XPT_EXIT_FAIL, -EAGAIN,
			"%s: its lock file %s keeps being replaced", what, path);
}

int xpt_lock_domain(struct xpt_ctx *c, unsigned int domid, int *ret_fd)
{
	char name[16], what[32];

	snprintf(name, sizeof(name), "%u", domid);
	snprintf(what, sizeof(what), "domain %u", domid);
	return lock_file(c, name, what, ret_fd);
}

int xpt_lock_host(struct xpt_ctx *c, int *ret_fd)
{
	return lock_file(c, "host", "the host", ret_fd);
}

void xpt_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
