// SPDX-License-Identifier: MIT
/*
 * The guest kernel of a PV domain: an xpt-guest process (xpt-guest(8)),
 * started once the domain is unpaused (the process running *is* the
 * domain running), ready when DIR/guest/<domid>.pid appears; and its query
 * socket DIR/guest/<domid>, which reports what the guest itself sees.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libxpt.h"
#include "model.h"

#define QUERY_WAIT_MS 5000

int xpt_guest_start(struct xpt_ctx *c, unsigned int domid,
		    enum xpt_guest_kind kind)
{
	bool hvm = kind == XPT_GUEST_HVM;
	char bin[PATH_MAX], log[PATH_MAX], pidpath[PATH_MAX], dom[16];
	char what[96];
	char dm[PATH_MAX], target[64];
	const char *argv[12];
	int n = 0, r, pid;

	if (xpt_find_binary("xpt-guest", bin, sizeof(bin)) < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -ENOENT, "cannot find "
				"xpt-guest (the guest kernel) next to xpt, in "
				"$XPT_LIBEXEC or in $PATH");
	xpt_path(c, log, sizeof(log), "log");
	xpt_mkdirs(log);
	xpt_path(c, log, sizeof(log), "log/guest-%u.log", domid);
	xpt_path(c, pidpath, sizeof(pidpath), "guest/%u.pid", domid);
	unlink(pidpath);
	snprintf(dom, sizeof(dom), "%u", domid);
	argv[n++] = bin;
	argv[n++] = "--rundir";
	argv[n++] = c->rundir;
	argv[n++] = "--domid";
	argv[n++] = dom;
	if (hvm)
		argv[n++] = "--hvm";	/* PCI by config I/O, no pcifront */
	if (kind == XPT_GUEST_PVH)
		argv[n++] = "--pvh";	/* PCI through vPCI, no pcifront */
	/* a stub domain's kernel starts its target's device model */
	snprintf(target, sizeof(target), "/local/domain/%u/target", domid);
	if (kind == XPT_GUEST_PV && xpt_xs_exists(c, XBT_NULL, target)) {
		if (xpt_find_binary("xpt-dm", dm, sizeof(dm)) < 0)
			return xpt_fail(c, XPT_EXIT_FAIL, -ENOENT, "cannot find "
					"xpt-dm (the device model) next to xpt, "
					"in $XPT_LIBEXEC or in $PATH");
		argv[n++] = "--stubdom";
		argv[n++] = "--dm-binary";
		argv[n++] = dm;
	}
	if (getenv("XPT_GUEST_VERBOSE"))
		argv[n++] = "-v";
	argv[n] = NULL;
	r = xpt_spawn_detached(argv, log, &pid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: cannot start "
				"its guest kernel: %s", domid, strerror(-r));
	snprintf(what, sizeof(what), "domain %u's guest kernel (pid %d) to "
		 "boot", domid, pid);
	r = xpt_wait_file(c, what, pidpath, pid,
			  xpt_wait_ms(c, XPT_START_WAIT_MS));
	if (r < 0) {
		if (xpt_pid_alive(pid, c->rundir))
			xpt_pid_stop(c, "the guest kernel", pid,
				     xpt_wait_ms(c, 2000));
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: the guest "
				"kernel %s; see %s", domid, r == -ECHILD ?
				"exited while booting" : "did not boot in time",
				log);
	}
	return 0;
}

/* The kernel's pid from its pid file, if that process is still the
 * domain's kernel of this host (a recycled pid is not); else -1. */
static int guest_pid(struct xpt_ctx *c, unsigned int domid)
{
	char path[PATH_MAX], mark[32];
	long pid = -1;
	FILE *f;

	if (xpt_path(c, path, sizeof(path), "guest/%u.pid", domid) < 0 ||
	    !(f = fopen(path, "re")))
		return -1;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT32_MAX)
		pid = -1;
	fclose(f);
	snprintf(mark, sizeof(mark), "--domid %u ", domid);
	if (pid < 0 || !xpt_pid_alive((int)pid, c->rundir) ||
	    !xpt_pid_alive((int)pid, mark))
		return -1;
	return (int)pid;
}

bool xpt_guest_alive(struct xpt_ctx *c, unsigned int domid)
{
	return guest_pid(c, domid) > 0;
}

void xpt_guest_signal(struct xpt_ctx *c, unsigned int domid, int sig)
{
	int pid = guest_pid(c, domid);

	if (pid > 0)
		kill(pid, sig);
}

void xpt_guest_kill(struct xpt_ctx *c, unsigned int domid)
{
	int pid = guest_pid(c, domid);
	char name[48];

	if (pid < 0)
		return;
	kill(pid, SIGCONT);	/* a paused domain's process is stopped */
	kill(pid, SIGKILL);
	snprintf(name, sizeof(name), "domain %u's guest kernel", domid);
	xpt_pid_stop(c, name, pid, xpt_wait_ms(c, 2000));
}

int xpt_guest_query(struct xpt_ctx *c, unsigned int domid, const char *req,
		    char *buf, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int wait = xpt_wait_ms(c, QUERY_WAIT_MS);
	int64_t deadline = xpt_now_ms() + wait;
	struct xpt_progress p;
	size_t n = 0;
	int fd, r;

	buf[0] = '\0';
	if (strcmp(xpt_ctx_platform(c), "model"))
		return xpt_fail(c, XPT_EXIT_USAGE, -EOPNOTSUPP, "guest-status "
				"asks a modelled guest; on the %s platform ask "
				"the guest itself (lspci in the guest)",
				xpt_ctx_platform(c));
	r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/guest/%u",
		     c->rundir, domid);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: no guest "
				"kernel answers on %s (%s): is the domain "
				"paused or not started? (`xpt list`, `xpt "
				"unpause %u`)", domid, sa.sun_path,
				strerror(-r), domid);
	}
	if (dprintf(fd, "%s\n", req) < 0) {
		r = -errno;
		close(fd);
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: query: %s",
				domid, strerror(-r));
	}
	xpt_progress_begin(c, &p, wait, "domain %u's guest kernel "
			   "to answer '%s'", domid, req);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - xpt_now_ms();
		ssize_t got;

		if ((n >= 4 && !strcmp(buf + n - 4, "end\n") &&
		     (n == 4 || buf[n - 5] == '\n')) ||
		    (!strncmp(buf, "error", 5) && n && buf[n - 1] == '\n'))
			break;
		if (n + 1 >= len || left <= 0) {
			close(fd);
			xpt_progress_end(&p, -ETIMEDOUT);
			return xpt_fail(c, XPT_EXIT_FAIL, -ETIMEDOUT, "domain "
					"%u: the guest did not answer '%s' "
					"within %d s", domid, req,
					xpt_secs(wait));
		}
		if (poll(&pfd, 1, xpt_progress_poll_ms(&p, left)) <= 0)
			continue;
		got = read(fd, buf + n, len - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = '\0';
	}
	xpt_progress_end(&p, 0);
	close(fd);
	if (!strncmp(buf, "error", 5))
		return xpt_fail(c, XPT_EXIT_FAIL, -EIO, "domain %u: the guest "
				"answered: %.200s", domid, buf);
	if (n >= 4 && !strcmp(buf + n - 4, "end\n"))
		buf[n - 4] = '\0';
	return 0;
}
