/* SPDX-License-Identifier: MIT */
/*
 * --stubdom: the init of a Linux device-model stub domain.  The stub is an
 * ordinary PV guest (pcifront gives it the passed-through devices, no
 * driver binds them); at boot its init reads, as the stub domain itself,
 *
 *   /local/domain/<S>/target                  the HVM guest G it serves
 *   /local/domain/<G>/vm                      G's vm path (S reads it as
 *                                             G's device model: SET_TARGET)
 *   <vm>/image/dm-argv/001, 002, ...          one device-model argument
 *                                             per key, from 001
 *
 * and starts the device model with those arguments plus its own QMP
 * monitor, as Xen's docs/misc/stubdom.txt describes.  On the modelled host
 * the stub's QMP-over-vchan and dom0's vchan-socket-proxy are one socket,
 * DIR/qmp-libxl-<G>, the path a dom0 device model uses:
 *
 *   DM <dm-argv...> -chardev socket,id=libxl-cmd,path=DIR/qmp-libxl-G,
 *      server=on,wait=off -mon chardev=libxl-cmd,mode=control
 *      --rundir DIR --dm-domid S --stubdom-front DIR/guest/S
 *
 * The toolstack writes the arguments, but they are input from outside the
 * stub: anything but a known, harmless option (a second monitor, another
 * run directory, -S that would never let the device model announce
 * itself) is refused with a log line, and then no device model starts, so
 * the toolstack's bounded wait for device-model/<G>/state fails cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "guest.h"
#include "log.h"
#include "parse.h"

#define STOP_WAIT_MS 3000	/* SIGTERM, then SIGKILL */

/* Options the toolstack may put in dm-argv: those without an argument,
 * and those with one.  Everything else is the stub's own business
 * (the monitor, the run directory, where the device model runs) or
 * unknown to the device model. */
static const char *const flag_opts[] = {
	"-nodefaults", "-no-shutdown", "-nographic", "-no-user-config",
};
static const char *const arg_opts[] = {
	"-xen-domid", "-machine", "-M", "-display", "-name", "-m", "-smp",
};

static bool in_list(const char *a, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(a, list[i]))
			return true;
	return false;
}

/* An argument from xenstore: printable, no empty string. */
static bool arg_clean(const char *a)
{
	const unsigned char *p = (const unsigned char *)a;

	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int stubdom_check_argv(const char *const *argv, unsigned int argc,
		       unsigned int target, char *err, size_t errlen)
{
	unsigned long v;
	bool have_domid = false;
	unsigned int i;

	/* options and their values alike */
	for (i = 0; i < argc; i++) {
		if (!arg_clean(argv[i])) {
			snprintf(err, errlen, "argument %03u is empty or has "
				 "control characters", i + 1);
			return -EINVAL;
		}
		if (strlen(argv[i]) > STUBDOM_MAX_ARG_LEN) {
			snprintf(err, errlen, "argument %03u is longer than %d "
				 "bytes", i + 1, STUBDOM_MAX_ARG_LEN);
			return -EINVAL;
		}
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (in_list(a, flag_opts, sizeof(flag_opts) /
			    sizeof(flag_opts[0])))
			continue;
		if (!strcmp(a, "-S")) {
			snprintf(err, errlen, "argument %03u '-S': a stub "
				 "domain's device model starts running (the "
				 "toolstack waits for its state node)", i + 1);
			return -EINVAL;
		}
		if (!in_list(a, arg_opts, sizeof(arg_opts) /
			     sizeof(arg_opts[0]))) {
			snprintf(err, errlen, "argument %03u '%.40s' is not "
				 "allowed (the stub sets its own monitor and "
				 "run directory)", i + 1, a);
			return -EPERM;
		}
		if (i + 1 == argc) {
			snprintf(err, errlen, "argument %03u '%s' needs a "
				 "value", i + 1, a);
			return -EINVAL;
		}
		if (!strcmp(a, "-xen-domid")) {
			if (parse_ulong(argv[i + 1], 0x7fef, &v) < 0 ||
			    v != target) {
				snprintf(err, errlen, "-xen-domid '%.20s' is "
					 "not this stub's target %u",
					 argv[i + 1], target);
				return -EINVAL;
			}
			have_domid = true;
		}
		i++;
	}
	if (!have_domid) {
		snprintf(err, errlen, "no -xen-domid %u", target);
		return -EINVAL;
	}
	return 0;
}

static char *sd_read(struct guest *g, const char *path)
{
	unsigned int len;
	char *v = xs_read(g->xs, XBT_NULL, path, &len);

	if (v && strlen(v) != len) {	/* an embedded NUL: garbage */
		free(v);
		errno = EINVAL;
		return NULL;
	}
	return v;
}

static int sd_refuse(struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int sd_refuse(struct guest *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->dm.why, sizeof(g->dm.why), fmt, ap);
	va_end(ap);
	g->dm.state = SD_REFUSED;
	log_err("stubdom: not starting the device model: %s", g->dm.why);
	return -EINVAL;
}

static int sd_read_target(struct guest *g)
{
	char path[64], *v;
	unsigned long t;
	int r;

	snprintf(path, sizeof(path), "/local/domain/%u/target", g->domid);
	v = sd_read(g, path);
	if (!v)
		return sd_refuse(g, "cannot read %s: %s (the toolstack writes "
				 "it before it boots the stub)", path,
				 strerror(errno));
	r = parse_ulong(v, 0x7fef, &t);
	if (r < 0 || t == 0 || t == g->domid) {
		r = sd_refuse(g, "%s is '%.20s', not a guest domid", path, v);
		free(v);
		return r;
	}
	free(v);
	g->dm.target = (unsigned int)t;
	return 0;
}

/* G's vm path: "/vm/<something>", one component, nothing to escape. */
static int sd_read_vm(struct guest *g, char *vm, size_t len)
{
	char path[64], *v;
	int r = 0;

	snprintf(path, sizeof(path), "/local/domain/%u/vm", g->dm.target);
	v = sd_read(g, path);
	if (!v)
		return sd_refuse(g, "cannot read %s: %s (is this stub domain "
				 "the device model of domain %u?)", path,
				 strerror(errno), g->dm.target);
	if (strncmp(v, "/vm/", 4) || !v[4] || strchr(v + 4, '/') ||
	    strlen(v) >= len)
		r = sd_refuse(g, "%s is '%.60s', not a /vm/<uuid> path", path,
			      v);
	else
		snprintf(vm, len, "%s", v);
	free(v);
	return r;
}

int stubdom_check_keys(const char *const *names, unsigned int n,
		       char *err, size_t errlen)
{
	bool seen[STUBDOM_MAX_ARGS + 1] = { false };
	unsigned long k;
	unsigned int i;

	if (n == 0 || n > STUBDOM_MAX_ARGS) {
		snprintf(err, errlen, "has %u arguments (1..%d)", n,
			 STUBDOM_MAX_ARGS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) != 3 ||
		    parse_ulong(names[i], STUBDOM_MAX_ARGS, &k) < 0 ||
		    k == 0 || k > n || seen[k]) {
			snprintf(err, errlen, "/%.7s: keys must be "
				 "001..%03u, each once", names[i], n);
			return -EINVAL;
		}
		seen[k] = true;	/* xenstore lists a name once; a caller may not */
	}
	return 0;
}

/* Keys 001..N, nothing else: returns N. */
static int sd_count_args(struct guest *g, const char *dir)
{
	char err[80];
	unsigned int n;
	char **names = xs_directory(g->xs, XBT_NULL, dir, &n);
	int r;

	if (!names)
		return sd_refuse(g, "cannot list %s: %s", dir,
				 strerror(errno));
	r = stubdom_check_keys((const char *const *)names, n, err,
			       sizeof(err));
	free(names);
	if (r < 0)	/* "DIR has 70 arguments", "DIR/004: keys must be" */
		return sd_refuse(g, "%s%s%s", dir, err[0] == '/' ? "" : " ",
				 err);
	return (int)n;
}

static int sd_read_argv(struct guest *g, const char *vm)
{
	char dir[300], path[320], err[160];
	int n, i, r;

	snprintf(dir, sizeof(dir), "%s/image/dm-argv", vm);
	n = sd_count_args(g, dir);
	if (n < 0)
		return n;
	/* argc counts what is read, so stubdom_stop frees it on a refusal */
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%03d", dir, i + 1);
		g->dm.argv[i] = sd_read(g, path);
		if (!g->dm.argv[i])
			return sd_refuse(g, "cannot read %s: %s", path,
					 strerror(errno));
		g->dm.argc = (unsigned int)i + 1;
	}
	r = stubdom_check_argv((const char *const *)g->dm.argv, g->dm.argc,
			       g->dm.target, err, sizeof(err));
	if (r < 0)
		return sd_refuse(g, "%s: %s", dir, err);
	return 0;
}

/* The device model's log: DIR/log/dm-<G>.log, where the toolstack points
 * a user when it does not start; else the stub's own stderr. */
static int sd_log_fd(struct guest *g)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/log", g->rundir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/log/dm-%u.log", g->rundir,
		 g->dm.target);
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void sd_exec(struct guest *g, char *const *argv, pid_t parent,
		    int logfd)
{
	sigset_t none;

	/* The device model lives in the stub domain: it goes with it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (logfd >= 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
	}
	/* the stub's own connections (libxenstore's is not close-on-exec)
	 * are not the device model's */
	closefrom(3);
	execv(g->dm_binary, argv);
	fprintf(stderr, "xpt-guest: stubdom: cannot run %s: %s\n",
		g->dm_binary, strerror(errno));
	_exit(127);
}

static int sd_spawn(struct guest *g)
{
	char qmp[4200], chardev[4300], dom[16], front[4200];
	char *argv[STUBDOM_MAX_ARGS + 16];
	unsigned int i, n = 0;
	pid_t parent = getpid();
	int logfd;

	snprintf(qmp, sizeof(qmp), "%s/qmp-libxl-%u", g->rundir, g->dm.target);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,"
		 "server=on,wait=off", qmp);
	snprintf(dom, sizeof(dom), "%u", g->domid);
	snprintf(front, sizeof(front), "%s", g->sock_path);
	argv[n++] = (char *)g->dm_binary;
	for (i = 0; i < g->dm.argc; i++)
		argv[n++] = g->dm.argv[i];
	argv[n++] = "-chardev";
	argv[n++] = chardev;
	argv[n++] = "-mon";
	argv[n++] = "chardev=libxl-cmd,mode=control";
	argv[n++] = "--rundir";
	argv[n++] = (char *)g->rundir;
	argv[n++] = "--dm-domid";
	argv[n++] = dom;
	argv[n++] = "--stubdom-front";
	argv[n++] = front;
	argv[n] = NULL;
	logfd = sd_log_fd(g);
	g->dm.pid = fork();
	if (g->dm.pid == 0)
		sd_exec(g, argv, parent, logfd);
	if (logfd >= 0)
		close(logfd);
	if (g->dm.pid < 0) {
		g->dm.pid = -1;
		return sd_refuse(g, "fork: %s", strerror(errno));
	}
	g->dm.pidfd = (int)syscall(SYS_pidfd_open, g->dm.pid, 0);
	g->dm.state = SD_RUNNING;
	log_info("stubdom: device model of domain %u started (pid %d): %s, "
		 "QMP %s", g->dm.target, (int)g->dm.pid, g->dm_binary, qmp);
	return 0;
}

int stubdom_start(struct guest *g)
{
	char vm[256];
	int r;

	g->dm.pid = -1;
	g->dm.pidfd = -1;
	r = sd_read_target(g);
	if (r == 0)
		r = sd_read_vm(g, vm, sizeof(vm));
	if (r == 0)
		r = sd_read_argv(g, vm);
	if (r == 0)
		r = sd_spawn(g);
	return r;
}

void stubdom_reap(struct guest *g)
{
	int status;

	if (g->dm.pid <= 0 || waitpid(g->dm.pid, &status, WNOHANG) !=
	    g->dm.pid)
		return;
	g->dm.state = SD_EXITED;
	g->dm.status = status;
	g->dm.pid = -1;
	if (g->dm.pidfd >= 0)
		close(g->dm.pidfd);
	g->dm.pidfd = -1;
	log_warn("stubdom: the device model of domain %u %s %d (its log: "
		 "%s/log/dm-%u.log)", g->dm.target, WIFEXITED(status) ?
		 "exited with status" : "was killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		 g->rundir, g->dm.target);
}

void stubdom_stop(struct guest *g)
{
	struct pollfd pfd = { .fd = g->dm.pidfd, .events = POLLIN };
	unsigned int i;

	if (g->dm.pid > 0) {
		kill(g->dm.pid, SIGTERM);
		if (pfd.fd < 0 || poll(&pfd, 1, STOP_WAIT_MS) <= 0) {
			log_warn("stubdom: the device model (pid %d) did not "
				 "stop within %d ms: killing it",
				 (int)g->dm.pid, STOP_WAIT_MS);
			kill(g->dm.pid, SIGKILL);
		}
		waitpid(g->dm.pid, NULL, 0);
		g->dm.pid = -1;
	}
	if (g->dm.pidfd >= 0)
		close(g->dm.pidfd);
	g->dm.pidfd = -1;
	for (i = 0; i < g->dm.argc; i++)
		free(g->dm.argv[i]);
	g->dm.argc = 0;
}

int stubdom_format_status(const struct guest *g, char *buf, size_t len)
{
	int r;

	switch (g->dm.state) {
	case SD_RUNNING:
		r = snprintf(buf, len, " stubdom target=%u dm=running "
			     "dm-pid=%d", g->dm.target, (int)g->dm.pid);
		break;
	case SD_EXITED:
		r = snprintf(buf, len, " stubdom target=%u dm=exited "
			     "dm-status=%d", g->dm.target,
			     WIFEXITED(g->dm.status) ?
			     WEXITSTATUS(g->dm.status) :
			     128 + WTERMSIG(g->dm.status));
		break;
	case SD_REFUSED:
		r = snprintf(buf, len, " stubdom target=%u dm=refused",
			     g->dm.target);
		break;
	default:
		r = snprintf(buf, len, " stubdom dm=none");
	}
	return r < 0 || (size_t)r >= len ? -ENOSPC : 0;
}
