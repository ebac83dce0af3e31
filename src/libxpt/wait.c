// SPDX-License-Identifier: MIT
/*
 * Bounded, event-driven waits.  xpt_wait() watches xenstore paths and
 * re-evaluates a predicate on every event (the watch also fires once when
 * registered, so the first evaluation sees the current state); recheck_ms
 * adds a periodic re-evaluation for conditions that are not xenstore
 * writes (a process answering on a socket).  xpt_wait_file() waits for a
 * pid file with inotify while its process lives.  Both tell their
 * progress (progress.c) when they last.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libxpt.h"

int xpt_wait(struct xpt_ctx *c, const char *what, const char *const *paths,
	     size_t npaths, int timeout_ms, int recheck_ms, xpt_pred_fn pred,
	     void *arg)
{
	int64_t start = xpt_now_ms();
	int bound = xpt_bound_ms(c, timeout_ms);
	int64_t deadline = start + bound;
	struct xpt_progress p;
	char token[32];
	size_t i, nw = 0;
	char **ev;
	int r;

	xpt_progress_begin(c, &p, bound, "%s", what);
	snprintf(token, sizeof(token), "xpt-wait-%u", ++c->seq);
	for (i = 0; i < npaths; i++) {
		if (!xs_watch(c->xs, paths[i], token)) {
			r = -errno;
			goto out;
		}
		nw++;
	}
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(c->xs), .events = POLLIN };
		int64_t left;
		int ms;

		while ((ev = xs_check_watch(c->xs)))
			free(ev);
		r = pred(c, arg);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			break;
		}
		left = deadline - xpt_now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		ms = (int)left;
		if (recheck_ms > 0 && ms > recheck_ms)
			ms = recheck_ms;
		if (poll(&pfd, 1, xpt_progress_poll_ms(&p, ms)) < 0 &&
		    errno != EINTR) {
			r = -errno;
			break;
		}
	}
out:
	xpt_progress_end(&p, r);
	xpt_trace(c, "wait on %s%s: %s after %lld ms", npaths ? paths[0] : "",
		  npaths > 1 ? " (and more)" : "", r == 0 ? "done" :
		  strerror(-r), (long long)(xpt_now_ms() - start));
	for (i = 0; i < nw; i++)
		xs_unwatch(c->xs, paths[i], token);
	while ((ev = xs_check_watch(c->xs)))
		free(ev);
	return r;
}

int xpt_wait_file(struct xpt_ctx *c, const char *what, const char *path,
		  int pid, int timeout_ms)
{
	int64_t deadline = xpt_now_ms() + timeout_ms;
	char dir[PATH_MAX], buf[4096], *slash;
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	struct xpt_progress p;
	int r = -ETIMEDOUT;

	if (ifd < 0) {
		r = -errno;
		if (pidfd >= 0)
			close(pidfd);
		return r;
	}
	xpt_progress_begin(c, &p, timeout_ms, "%s", what);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ifd, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		int64_t left;

		/* watch the nearest existing ancestor: the directory of the
		 * pid file may not exist yet */
		snprintf(dir, sizeof(dir), "%s", path);
		while ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			if (access(dir, F_OK) == 0)
				break;
		}
		inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO);
		if (access(path, F_OK) == 0) {
			r = 0;
			break;
		}
		if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
			r = -ECHILD;
			break;
		}
		left = deadline - xpt_now_ms();
		if (left <= 0)
			break;
		if (poll(pfd, 2, xpt_progress_poll_ms(&p, left)) > 0 &&
		    (pfd[1].revents & POLLIN)) {
			r = access(path, F_OK) == 0 ? 0 : -ECHILD;
			break;
		}
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	xpt_progress_end(&p, r);
	close(ifd);
	if (pidfd >= 0)
		close(pidfd);
	return r;
}
