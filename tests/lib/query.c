// SPDX-License-Identifier: MIT
/*
 * The tests' questions on a daemon's socket: one request line, then a
 * reply read until it is complete or WAIT_MS have passed.  A guest's
 * query socket, DIR/guest/DOMID, ends its reply with a line "end";
 * pciback's control socket, DIR/pciback/control, with a line "ok ..." or
 * "error ...", the only line but for `list`, which sends one per device
 * first.  See harness.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* A guest's reply is complete at a line "end", not at a line ending in
 * it. */
static bool end_line(const char *reply, size_t n)
{
	return n >= 4 && !strcmp(reply + n - 4, "end\n") &&
	       (n == 4 || reply[n - 5] == '\n');
}

/* pciback's reply is complete at a line "ok ..." or "error ...". */
static bool ok_or_error_line(const char *reply, size_t n)
{
	const char *last;

	if (!n || reply[n - 1] != '\n')
		return false;
	for (last = reply + n - 1; last > reply && last[-1] != '\n'; last--)
		;
	return !strncmp(last, "ok", 2) || !strncmp(last, "error", 5);
}

/* req to the socket at path; what came back in reply, nul-terminated,
 * complete or not, and its length.  -1 with errno: it could not be
 * asked. */
static ssize_t ask(const char *path, const char *req, char *reply, size_t len,
	       bool (*done)(const char *reply, size_t n))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = e2e_now_ms() + WAIT_MS;
	size_t n = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	reply[0] = '\0';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		errno = err;
		return -1;
	}
	while (n < len - 1 && !done(reply, n)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - e2e_now_ms();
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
	return (ssize_t)n;
}

/* A complete reply, its "end" line included. */
bool e2e_guest_query(struct e2e_run *run, unsigned int domid,
		     const char *req, char *reply, size_t len)
{
	char path[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/guest/%u", run->dir, domid);
	n = ask(path, req, reply, len, end_line);
	if (n < 0)
		return e2e_fail(run, "guest %u query: %s", domid,
				strerror(errno));
	if (!end_line(reply, (size_t)n))
		return e2e_fail(run, "guest %u: no complete reply to %s: '%s'",
				domid, req, reply);
	return true;
}

/* Its reply (for `list`, the devices' lines and then "ok N"), or what
 * came of it: the caller judges it. */
bool e2e_pciback(struct e2e_run *run, const char *req, char *reply,
		 size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/pciback/control", run->dir);
	if (ask(path, req, reply, len, ok_or_error_line) < 0)
		return e2e_fail(run, "pciback control: %s", strerror(errno));
	return true;
}

/* pciback's reply to the request fmt begins "ok". */
bool e2e_pciback_ok(struct e2e_run *run, const char *fmt, ...)
{
	char req[128], reply[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	if (!e2e_pciback(run, req, reply, sizeof(reply)))
		return false;
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok", 2))
		return e2e_fail(run, "pciback '%s': %s", req, reply);
	return true;
}

/* "dev BDF host=BDF vendor=0x.. device=0x.. class=0x.. driver=.. irq=..
 * vectors=N count=N [counts=N,N,...]" */
bool e2e_qdev_parse(const char *line, struct e2e_qdev *d)
{
	memset(d, 0, sizeof(*d));
	return sscanf(line, "dev %15s host=%15s vendor=0x%x device=0x%x "
		      "class=0x%x driver=%7s irq=%7s vectors=%u count=%llu "
		      "counts=%79s", d->bdf, d->host, &d->vendor, &d->device,
		      &d->class, d->driver, d->irq, &d->vectors, &d->count,
		      d->counts) >= 9;
}

/* "status": "state frontend=N backend=N", then a dev line per device. */
bool e2e_guest_status(struct e2e_run *run, unsigned int domid,
		      struct e2e_qstatus *s)
{
	char reply[8192], *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!e2e_guest_query(run, domid, "status", reply, sizeof(reply)))
		return false;
	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "state frontend=%d backend=%d", &s->fe,
			   &s->be) == 2)
			continue;
		if (strncmp(line, "dev ", 4) || s->n == 16)
			continue;
		if (e2e_qdev_parse(line, &s->d[s->n]))
			s->n++;
	}
	return true;
}
