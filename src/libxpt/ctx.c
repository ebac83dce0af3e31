// SPDX-License-Identifier: MIT
/*
 * The toolstack context: run directory, connections (xenstore as dom0,
 * the hypervisor's control socket), the error of the last operation, and
 * the named delay points race tests arm with XPT_DELAY.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libxpt.h"

int64_t xpt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int xpt_bound_ms(const struct xpt_ctx *c, int ms)
{
	int64_t left;

	if (!c->deadline)
		return ms;
	left = c->deadline - xpt_now_ms();
	if (left < 0)
		left = 0;
	return left < ms ? (int)left : ms;
}

int xpt_scale_ms(const struct xpt_ctx *c, int base_ms)
{
	int64_t ms = (int64_t)base_ms * c->wait_permille / 1000;

	return ms < 1 ? 1 : ms > INT_MAX ? INT_MAX : (int)ms;
}

int xpt_wait_ms(const struct xpt_ctx *c, int base_ms)
{
	return xpt_bound_ms(c, xpt_scale_ms(c, base_ms));
}

/* XPT_DELAY="point=ms[,point=ms...]"; malformed items are ignored with a
 * warning, so a typo never changes what an operation does. */
static void delay_parse(struct xpt_ctx *c, const char *spec)
{
	char buf[512], *item, *save = NULL, *eq, *end;
	long ms;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq || c->ndelay == XPT_MAX_DELAYS) {
			xpt_warn(c, "XPT_DELAY item '%s' ignored (want "
				 "point=ms)", item);
			continue;
		}
		*eq = '\0';
		errno = 0;
		ms = strtol(eq + 1, &end, 10);
		if (errno || *end || ms < 0 || ms > 600000) {
			xpt_warn(c, "XPT_DELAY %s: '%s' is not a number of "
				 "milliseconds", item, eq + 1);
			continue;
		}
		snprintf(c->delay[c->ndelay].point,
			 sizeof(c->delay[c->ndelay].point), "%s", item);
		c->delay[c->ndelay++].ms = (int)ms;
	}
}

int xpt_ctx_open(const char *rundir, struct xpt_ctx **ret)
{
	struct xpt_ctx *c = calloc(1, sizeof(*c));
	const char *s;

	if (!c)
		return -ENOMEM;
	if (!rundir)
		rundir = getenv("XPT_RUNDIR");
	if (!rundir || !*rundir)
		rundir = "/run/xpt";
	if (strlen(rundir) >= sizeof(c->rundir)) {
		free(c);
		return -ENAMETOOLONG;
	}
	snprintf(c->rundir, sizeof(c->rundir), "%s", rundir);
	c->t0 = xpt_now_ms();
	c->wait_permille = 1000;
	s = getenv("XPT_DELAY");
	if (s && *s)
		delay_parse(c, s);
	s = getenv("XPT_DELAY_LOG");
	if (s && *s)
		snprintf(c->delay_log, sizeof(c->delay_log), "%s", s);
	s = getenv("XPT_SEED");
	if (s && *s) {
		c->seed = (unsigned int)strtoul(s, NULL, 0);
		c->seeded = true;
	}
	*ret = c;
	return 0;
}

void xpt_ctx_close(struct xpt_ctx *c)
{
	if (!c)
		return;
	xpt_trace(c, "closing");
	if (c->xs)
		xs_close(c->xs);
	if (c->pf)
		c->pf->close(c);
	xpt_trace(c, "closed");
	free(c);
}

const char *xpt_ctx_rundir(const struct xpt_ctx *c)
{
	return c->rundir;
}

const char *xpt_ctx_error(const struct xpt_ctx *c)
{
	return c->err[0] ? c->err : "unknown error";
}

int xpt_ctx_exit_code(const struct xpt_ctx *c)
{
	return c->exit_code ? c->exit_code : XPT_EXIT_FAIL;
}

const char *xpt_ctx_warnings(const struct xpt_ctx *c)
{
	return c->warnings;
}

/* Record the first failure of an operation; later ones (from undo paths)
 * become warnings so the root cause stays the message. */
int xpt_fail(struct xpt_ctx *c, int code, int r, const char *fmt, ...)
{
	char msg[sizeof(c->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err[0]) {
		xpt_warn(c, "%s", msg);
	} else {
		memcpy(c->err, msg, sizeof(c->err));
		c->exit_code = code;
	}
	return r < 0 ? r : -EIO;
}

static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t used = strlen(buf);

	if (used + 3 >= size)
		return;
	if (used) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	vsnprintf(buf + used, size - used, fmt, ap);
}

void xpt_fail_append(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(buf, size, fmt, ap);
	va_end(ap);
}

void xpt_fail_more(struct xpt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

void xpt_warn(struct xpt_ctx *c, const char *fmt, ...)
{
	size_t used = strlen(c->warnings);
	va_list ap;

	if (used + 2 >= sizeof(c->warnings))
		return;
	va_start(ap, fmt);
	vsnprintf(c->warnings + used, sizeof(c->warnings) - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(c->warnings);
	c->warnings[used] = '\n';
	c->warnings[used + 1] = '\0';
}

int xpt_ctx_set_platform(struct xpt_ctx *c, const char *name)
{
	const struct xpt_platform *pf;
	int r = xpt_platform_select(name, &pf);

	if (!name || !*name)
		name = getenv("XPT_PLATFORM");
	if (!name || !*name)
		name = "xen";	/* the automatic choice of a Xen dom0 */

	if (r == -EOPNOTSUPP)
		return xpt_fail(c, XPT_EXIT_USAGE, r, "platform '%s': this xpt "
				"was built without Xen's libraries (install "
				"libxen-dev and rebuild)", name);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_USAGE, r, "platform '%s': unknown "
				"(model or xen)", name);
	if (c->pf && (c->pf_inner ? c->pf_inner : c->pf) != pf)
		c->pf->close(c);
	c->pf = pf;
	c->pf_inner = NULL;
	if (c->verbose)
		xpt_trace_platform(c, pf);
	return 0;
}

int xpt_ctx_set_wait_factor(struct xpt_ctx *c, const char *factor)
{
	const char *from = factor ? "--wait-factor" : "XPT_WAIT_FACTOR";
	char *end;
	double f;

	if (!factor)
		factor = getenv("XPT_WAIT_FACTOR");
	if (!factor || !*factor)
		return 0;
	errno = 0;
	f = strtod(factor, &end);
	if (errno || end == factor || *end || !(f >= 0.1 && f <= 100))
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%s '%s': not a "
				"number from 0.1 to 100 (it multiplies every "
				"bound on xpt's waits for backends, guests, "
				"device models and daemons; see WAITS in "
				"xpt(1))", from, factor);
	c->wait_permille = (unsigned int)(f * 1000 + 0.5);
	return 0;
}

void xpt_ctx_set_verbose(struct xpt_ctx *c, bool verbose)
{
	c->verbose = verbose;
	if (verbose && c->pf && !c->pf_inner)
		xpt_trace_platform(c, c->pf);
}

const char *xpt_ctx_platform(struct xpt_ctx *c)
{
	if (!c->pf && xpt_ctx_set_platform(c, NULL) < 0)
		return "?";
	return c->pf->name;
}

/* The platform's connection first (the model's tells xenstore where its
 * socket is), then xenstore: the host's, whichever xenstored runs. */
int xpt_connect(struct xpt_ctx *c)
{
	int r;

	if (!c->pf) {
		r = xpt_ctx_set_platform(c, NULL);
		if (r < 0)
			return r;
	}
	r = c->pf->open(c);
	if (r < 0)
		return c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "cannot "
						"reach the %s host: %s",
						c->pf->name, strerror(-r));
	if (!c->xs) {
		c->xs = xs_open(0);
		if (!c->xs)
			return xpt_fail(c, XPT_EXIT_FAIL, -errno,
					"cannot connect to xenstore: %s; is "
					"xenstored running?", strerror(errno));
	}
	return 0;
}

/* A deliberate pause for race tests: with XPT_SEED, a seeded fraction of
 * the configured time so many seeds explore many interleavings. */
/* XPT_DELAY_LOG=FILE: every point passed is appended to FILE, one name
 * a line, before any pause there, so a test learns which points an
 * operation reaches (and a killed run's log ends at the point it died). */
static void delay_log(struct xpt_ctx *c, const char *point)
{
	char line[64];
	int fd, n;

	fd = open(c->delay_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", point);
	if (n > 0 && write(fd, line, (size_t)n) != n)
		xpt_trace(c, "XPT_DELAY_LOG %s: short write", c->delay_log);
	close(fd);
}

void xpt_delay_point(struct xpt_ctx *c, const char *point)
{
	unsigned int i, h = 5381;
	int ms;
	const char *p;

	if (c->delay_log[0])
		delay_log(c, point);
	for (i = 0; i < c->ndelay; i++) {
		if (strcmp(c->delay[i].point, point))
			continue;
		ms = c->delay[i].ms;
		if (c->seeded && ms > 0) {
			for (p = point; *p; p++)
				h = h * 33 + (unsigned char)*p;
			h ^= c->seed * 2654435761u;
			h ^= h >> 15;
			h *= 2246822519u;
			h ^= h >> 13;
			ms = (int)(h % (unsigned int)(ms + 1));
		}
		if (ms > 0)
			poll(NULL, 0, ms);
	}
}

int xpt_vpath(char *buf, size_t len, const char *root, const char *fmt,
	      va_list ap)
{
	size_t n = (size_t)snprintf(buf, len, "%s/", root);
	int r;

	if (n >= len)
		return -ENAMETOOLONG;
	r = vsnprintf(buf + n, len - n, fmt, ap);
	return r < 0 || (size_t)r >= len - n ? -ENAMETOOLONG : 0;
}

int xpt_path(struct xpt_ctx *c, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xpt_vpath(buf, len, c->rundir, fmt, ap);
	va_end(ap);
	return r;
}

int xpt_mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void xpt_format_bdf(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", XPT_PCI_SEG(sbdf),
		 XPT_PCI_BUS(sbdf), XPT_PCI_DEV(sbdf), XPT_PCI_FN(sbdf));
}

/* ':' and '.' are not allowed in xenstore names: libxl's
 * /libxl/pci/DDDD-BB-DD-F. */
void xpt_marker_bdf(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x-%02x-%02x-%x", XPT_PCI_SEG(sbdf),
		 XPT_PCI_BUS(sbdf), XPT_PCI_DEV(sbdf), XPT_PCI_FN(sbdf));
}
