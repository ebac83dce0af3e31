// SPDX-License-Identifier: MIT
/*
 * The device model of an HVM guest (QEMU's role), started as libxl
 * starts QEMU and trusted as little:
 *
 *   rm + mkdir /local/domain/0/device-model/<domid>
 *   spawn it paused (-S), its QMP socket DIR/qmp-libxl-<domid>, its pid
 *     in /local/domain/<domid>/image/device-model-pid
 *   ready = QMP query-status says "prelaunch" (with -S the state node is
 *     never the signal: QEMU writes "running" only at cont), bounded;
 *     "running" already means the guest ran before its devices were
 *     there: refused; a DM that exits fails the start at once, not at
 *     the deadline; a socket that does not speak QMP fails it too
 *
 * On any failure the DM is killed and its nodes removed: no orphan.  The
 * guest itself is unpaused only after `cont` (xpt_dm_cont), so its first
 * config-space read finds the device model's ioreq server enabled
 * (docs/protocol.md §10, the stub-domain startup thread).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"

int xpt_dm_qmp_path(struct xpt_ctx *c, unsigned int domid, char *buf,
		    size_t len)
{
	if (c->pf && c->pf->dm_qmp_dir)
		return snprintf(buf, len, "%s/qmp-libxl-%u", c->pf->dm_qmp_dir,
				domid) < (int)len ? 0 : -ENAMETOOLONG;
	return xpt_path(c, buf, len, "qmp-libxl-%u", domid);
}

static int dm_pid(struct xpt_ctx *c, unsigned int domid)
{
	char path[96];
	int pid;

	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid",
		 domid);
	if (xpt_xs_read_int(c, XBT_NULL, path, &pid) < 0 || pid <= 0)
		return -1;
	return pid;
}

/* The process is still this domain's device model (a recycled pid is
 * not): its command line names the domain's QMP socket. */
static bool dm_alive(struct xpt_ctx *c, unsigned int domid, int pid)
{
	char qmp[PATH_MAX];

	return xpt_dm_qmp_path(c, domid, qmp, sizeof(qmp)) == 0 &&
	       xpt_pid_alive(pid, qmp);
}

/* The device model of a domain whose store records went (xenstored was
 * restarted): the process whose command line names the domain's QMP
 * socket; -1 none.  Ours only: a platform's device model has its own. */
static int dm_find(struct xpt_ctx *c, unsigned int domid)
{
	char qmp[PATH_MAX], needle[PATH_MAX + 8];
	struct dirent *de;
	int pid = -1;
	DIR *dp;

	if ((c->pf && c->pf->dm_qmp_dir) ||
	    xpt_dm_qmp_path(c, domid, qmp, sizeof(qmp)) ||
	    !(dp = opendir("/proc")))
		return -1;
	/* path=...,: not the socket of a domain whose id starts the same */
	snprintf(needle, sizeof(needle), "path=%s,", qmp);
	while (pid < 0 && (de = readdir(dp))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (!*end && v > 1 && v < INT_MAX && xpt_pid_alive((int)v, needle))
			pid = (int)v;
	}
	closedir(dp);
	return pid;
}

void xpt_dm_stop_found(struct xpt_ctx *c, unsigned int domid)
{
	int pid = dm_find(c, domid);
	char name[48];

	snprintf(name, sizeof(name), "domain %u's device model", domid);
	if (pid > 0)
		xpt_pid_stop(c, name, pid, xpt_wait_ms(c, 2000));
}

bool xpt_dm_lingers(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	bool hvm = d && xpt_domcfg_load(c, domid, d) == 0 &&
		   !strcmp(d->cfg.type, "hvm");

	free(d);
	c->err[0] = '\0';
	return hvm && dm_find(c, domid) > 0;
}

void xpt_dm_kill(struct xpt_ctx *c, unsigned int domid)
{
	char path[96], qmp[PATH_MAX], name[48];
	int pid = dm_pid(c, domid);

	if (pid <= 0)
		pid = dm_find(c, domid);

	snprintf(name, sizeof(name), "domain %u's device model", domid);
	if (pid > 0 && dm_alive(c, domid, pid))
		xpt_pid_stop(c, name, pid, xpt_wait_ms(c, 2000));
	if (c->pf->dm_qmp_dir)
		return;		/* the platform's nodes: its destroy reads them */
	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", domid);
	xpt_xs_rm(c, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid",
		 domid);
	xpt_xs_rm(c, XBT_NULL, path);
	if (xpt_dm_qmp_path(c, domid, qmp, sizeof(qmp)) == 0)
		unlink(qmp);
}

struct readyarg {
	unsigned int domid;
	bool adopted;		/* the platform started it (libxl) */
	int pid;
	char qmp[PATH_MAX];
	struct xpt_qmp *q;
	int64_t deadline;
	char why[320];
};

/* 1 ready, 0 not yet, <0 failed (why says how) */
static int ready_pred(struct xpt_ctx *c, void *arg)
{
	struct readyarg *a = arg;
	char err[256], who[64], *ret = NULL;
	int r;

	if (!xpt_pid_running(a->pid)) {
		snprintf(a->why, sizeof(a->why), "the device model exited "
			 "while starting");
		return -ECHILD;
	}
	if (!a->q) {
		int64_t left = a->deadline - xpt_now_ms();

		if (access(a->qmp, F_OK) < 0)
			return 0;	/* not listening yet */
		/* connected, its greeting is waited for to the end: QEMU
		 * serves one client, a second try would queue behind */
		snprintf(who, sizeof(who), "domain %u's device model (pid "
			 "%d)", a->domid, a->pid);
		r = xpt_qmp_open(c, who, a->qmp, left > 0 ? (int)left : 1,
				 &a->q, err, sizeof(err));
		if (r == -ECONNREFUSED || r == -ENOENT)
			return 0;	/* not listening yet */
		if (r < 0 && !xpt_pid_running(a->pid)) {
			snprintf(a->why, sizeof(a->why), "the device model "
				 "exited while starting");
			return -ECHILD;
		}
		if (r < 0) {
			snprintf(a->why, sizeof(a->why), "its QMP socket: %s",
				 r == -ETIMEDOUT ? "no QMP greeting" : err);
			return r;
		}
	}
	r = xpt_qmp_exec(a->q, "query-status", NULL, xpt_wait_ms(c, 2000),
			 &ret, err, sizeof(err));
	if (r < 0) {
		snprintf(a->why, sizeof(a->why), "QMP query-status: %s", err[0] ?
			 err : strerror(-r));
		return r;
	}
	if (strstr(ret, "\"status\":\"prelaunch\"")) {
		free(ret);
		return 1;
	}
	/* libxl starts QEMU without -S: it runs, the domain's vCPUs stay
	 * paused in the hypervisor until the toolstack unpauses them */
	if (a->adopted && strstr(ret, "\"status\":\"running\"")) {
		free(ret);
		return 1;
	}
	if (strstr(ret, "\"running\":true")) {
		snprintf(a->why, sizeof(a->why), "it is already running the "
			 "guest (not started paused): its devices would come "
			 "after the guest looked for them");
		free(ret);
		return -EBUSY;
	}
	free(ret);
	return 0;	/* another status: keep waiting, bounded */
}

/* Why the wait for the device model ended, r its result: what
 * ready_pred found, or the wait's own failure (a watch the store
 * refused), which ready_pred never saw. */
static const char *not_ready(struct readyarg *a, int r)
{
	char why[sizeof(a->why)];

	if (a->why[0]) {
		snprintf(why, sizeof(why), "%s", a->why);
		snprintf(a->why, sizeof(a->why), "failed: %.300s", why);
	} else if (r == -ETIMEDOUT) {
		snprintf(a->why, sizeof(a->why), "was not ready in time");
	} else {
		snprintf(a->why, sizeof(a->why), "could not be waited for: %s",
			 strerror(-r));
	}
	return a->why;
}

/* The device model the platform started with the domain (libxl's QEMU):
 * its pid from xenstore, ready when its QMP answers query-status; on a
 * failure it is left to the platform's destroy, which owns it. */
static int dm_adopt(struct xpt_ctx *c, unsigned int domid,
		    struct readyarg *a, int timeout_ms)
{
	char dir[96], what[96];
	const char *paths[1] = { dir };
	int r;

	a->domid = domid;
	a->adopted = true;
	a->pid = dm_pid(c, domid);
	if (a->pid <= 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -ESRCH, "domain %u: the %s "
				"platform started no device model (no "
				"/local/domain/%u/image/device-model-pid)",
				domid, c->pf->name, domid);
	r = xpt_dm_qmp_path(c, domid, a->qmp, sizeof(a->qmp));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "/local/domain/0/device-model/%u", domid);
	a->deadline = xpt_now_ms() + timeout_ms;
	snprintf(what, sizeof(what), "domain %u's device model (pid %d) to "
		 "answer on QMP", domid, a->pid);
	r = xpt_wait(c, what, paths, 1, timeout_ms, 20, ready_pred, a);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device "
				"model (pid %d, QMP %s) %s", domid, a->pid,
				a->qmp, not_ready(a, r));
	return 0;
}

int xpt_dm_start(struct xpt_ctx *c, unsigned int domid, const char *binary,
		 int timeout_ms, struct xpt_qmp **ret)
{
	struct readyarg *a = calloc(1, sizeof(*a));
	char dir[96], path[96], what[96];
	const char *paths[1] = { dir };
	int r;

	if (!a)
		return -ENOMEM;
	if (!c->pf->dm_spawn && c->pf->dm_qmp_dir) {
		r = dm_adopt(c, domid, a, timeout_ms);
		if (r == 0) {
			*ret = a->q;
			a->q = NULL;
		}
		xpt_qmp_close(a->q);
		goto out;
	}
	if (!c->pf->dm_spawn) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "domain %u: HVM "
			     "guests need a device model, which xpt cannot "
			     "start on the %s platform", domid, c->pf->name);
		goto out;
	}
	a->domid = domid;
	r = xpt_dm_qmp_path(c, domid, a->qmp, sizeof(a->qmp));
	if (r < 0)
		goto out;
	unlink(a->qmp);
	snprintf(dir, sizeof(dir), "/local/domain/0/device-model/%u", domid);
	xpt_xs_rm(c, XBT_NULL, dir);
	r = xpt_xs_write(c, XBT_NULL, dir, "%s", "");
	if (r == 0)
		r = c->pf->dm_spawn(c, domid, binary, a->qmp, &a->pid);
	if (r < 0) {
		r = c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: "
					    "cannot start its device model: %s",
					    domid, strerror(-r));
		goto fail;
	}
	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid",
		 domid);
	xpt_xs_write(c, XBT_NULL, path, "%d", a->pid);
	xpt_delay_point(c, "dm.spawned");
	a->deadline = xpt_now_ms() + timeout_ms;
	snprintf(what, sizeof(what), "domain %u's device model (pid %d) to "
		 "be ready", domid, a->pid);
	r = xpt_wait(c, what, paths, 1, timeout_ms, 20, ready_pred, a);
	if (r < 0) {
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device model %s; "
			 "see %s/log/dm-%u.log", domid, not_ready(a, r),
			 c->rundir, domid);
		goto fail;
	}
	*ret = a->q;
	a->q = NULL;
	goto out;
fail:
	xpt_qmp_close(a->q);
	a->q = NULL;
	xpt_dm_kill(c, domid);
out:
	free(a);
	return r;
}

int xpt_dm_connect(struct xpt_ctx *c, unsigned int domid,
		   struct xpt_qmp **ret)
{
	char qmp[PATH_MAX], err[256] = "", who[48];
	int r = xpt_dm_qmp_path(c, domid, qmp, sizeof(qmp));

	snprintf(who, sizeof(who), "domain %u's device model", domid);
	if (r == 0)
		r = xpt_qmp_open(c, who, qmp, xpt_wait_ms(c, 5000), ret, err,
				 sizeof(err));
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device "
				"model does not answer on %s: %s", domid, qmp,
				err[0] ? err : strerror(-r));
	return 0;
}
