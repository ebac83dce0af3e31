// SPDX-License-Identifier: MIT
/*
 * Client of xpt-pciback's control socket ($XPT_RUNDIR/pciback/control,
 * xpt-pciback(8)): one request line; the reply is one line "ok [text]" or
 * "error ERRNAME message", preceded by data lines for `list`.  Bounded by
 * a deadline; the reply's error name becomes the errno.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libxpt.h"
#include "model.h"

#define PB_WAIT_MS 15000

static const struct {
	const char *name;
	int err;
} errnames[] = {
	{ "EINVAL", EINVAL }, { "ENODEV", ENODEV }, { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST }, { "ENOTTY", ENOTTY }, { "ENOENT", ENOENT },
	{ "ENOMEM", ENOMEM }, { "EIO", EIO }, { "EPERM", EPERM },
	{ "ESRCH", ESRCH }, { "ENOSPC", ENOSPC }, { "EOPNOTSUPP", EOPNOTSUPP },
};

static int errname(const char *s)
{
	size_t i, n = strcspn(s, " \n");

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (strlen(errnames[i].name) == n &&
		    !strncmp(errnames[i].name, s, n))
			return errnames[i].err;
	return EIO;
}

/* The whole reply in reply (data lines included); returns 0 for "ok",
 * -errno for "error ..." (the message stays in reply).  A reply that does
 * not fit in len is -EMSGSIZE, with reply saying so, and no timeout: the
 * connection is closed, so the rest of it is never taken for the answer
 * to a later request. */
int xpt_pb_request(struct xpt_ctx *c, const char *req, char *reply,
		   size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int wait = xpt_wait_ms(c, PB_WAIT_MS);
	int64_t deadline = xpt_now_ms() + wait;
	struct xpt_progress p;
	char *last;
	size_t n = 0;
	int fd, r;

	reply[0] = '\0';
	r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pciback/control",
		     c->rundir);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    dprintf(fd, "%s\n", req) < 0) {
		r = -errno;
		close(fd);
		snprintf(reply, len, "cannot reach xpt-pciback at %s: %s",
			 sa.sun_path, strerror(-r));
		return r;
	}
	/* the final line starts with "ok" or "error" */
	xpt_progress_begin(c, &p, wait, "xpt-pciback "
			   "to answer '%s'", req);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - xpt_now_ms();
		ssize_t got;

		if (n >= 1 && reply[n - 1] == '\n') {
			reply[n - 1] = '\0';
			last = strrchr(reply, '\n');
			last = last ? last + 1 : reply;
			reply[n - 1] = '\n';
			if (!strncmp(last, "ok", 2) || !strncmp(last, "error", 5))
				break;
		}
		if (n + 1 >= len) {
			/* the rest is not read: closing the connection is
			 * what keeps the next request in step (one request
			 * a connection) */
			close(fd);
			xpt_progress_end(&p, -EMSGSIZE);
			snprintf(reply, len, "xpt-pciback's reply to '%s' is "
				 "longer than %zu bytes", req, len - 1);
			return -EMSGSIZE;
		}
		if (left <= 0) {
			close(fd);
			xpt_progress_end(&p, -ETIMEDOUT);
			snprintf(reply, len, "xpt-pciback did not answer '%s'",
				 req);
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, xpt_progress_poll_ms(&p, left)) <= 0)
			continue;
		got = read(fd, reply + n, len - 1 - n);
		if (got <= 0) {
			close(fd);
			xpt_progress_end(&p, -EIO);
			snprintf(reply, len, "xpt-pciback closed the "
				 "connection on '%s'", req);
			return -EIO;
		}
		n += (size_t)got;
		reply[n] = '\0';
	}
	xpt_progress_end(&p, 0);
	close(fd);
	reply[n - 1] = '\0';
	last = strrchr(reply, '\n');
	last = last ? last + 1 : reply;
	if (!strncmp(last, "ok", 2))
		return 0;
	{
		char *name = last + 6, *msg = name + strcspn(name, " ");

		r = errname(name);
		if (*msg)
			msg++;
		memmove(reply, msg, strlen(msg) + 1);
	}
	return -r;
}

int xpt_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		size_t *ret_n)
{
	/* one line per device, "0000:00:00.0 exported-to=32752", and ok */
	size_t len = 64 + (size_t)XPT_PB_MAX * 48, n = 0;
	char *reply = malloc(len), *line, *save = NULL, bdf[32], to[16];
	int r = reply ? xpt_pb_request(c, "list", reply, len) : -ENOMEM;

	if (r < 0) {
		free(reply);
		return r;
	}
	for (line = strtok_r(reply, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		uint32_t sbdf;

		if (sscanf(line, "%31s exported-to=%15s", bdf, to) != 2 ||
		    hv_parse_bdf(bdf, &sbdf) < 0)
			continue;
		ret[n].sbdf = sbdf;
		ret[n].domid = strcmp(to, "-") ? (int)strtol(to, NULL, 10) : -1;
		n++;
	}
	free(reply);
	*ret_n = n;
	return 0;
}
