// SPDX-License-Identifier: MIT
/*
 * A QMP client for the tests, as libxl talks to its device model: a
 * line a command, a line a reply or an event.  Lines are read ahead into
 * struct e2e_qmp, so an event that comes before a reply is not lost to
 * the next read.  See harness.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/*
 * The next line that is not an event (event NULL) or the next `event`,
 * within ms, into out; lines passed over are dropped.  quiet: a timeout
 * returns false without failing the case (a lost connection fails it).
 */
bool e2e_qmp_read(struct e2e_run *run, struct e2e_qmp *q, const char *event,
		  char *out, size_t outlen, int ms, bool quiet)
{
	int64_t deadline = e2e_now_ms() + ms;

	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - q->buf) + 1;
			char *ev = strstr(q->buf, "\"event\"");
			char *name = event ? strstr(q->buf, event) : NULL;
			bool is_event = ev && ev < nl;
			bool match = event ? is_event && name && name < nl :
				     !is_event;

			snprintf(out, outlen, "%.*s", (int)(l - 1), q->buf);
			memmove(q->buf, q->buf + l, q->len - l);
			q->len -= l;
			if (match)
				return true;
			continue;
		}
		left = deadline - e2e_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			return quiet ? false : e2e_fail(run, "QMP: no %s "
				"within %d ms", event ? event : "reply", ms);
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n <= 0)
			return e2e_fail(run, "QMP: connection lost");
		q->len += (size_t)n;
		q->buf[q->len] = '\0';
	}
}

/* One command; its reply, a return or an error, in reply. */
bool e2e_qmp_send(struct e2e_run *run, struct e2e_qmp *q, const char *cmd,
		  char *reply, size_t len)
{
	size_t l = strlen(cmd);

	if (write(q->fd, cmd, l) != (ssize_t)l || write(q->fd, "\n", 1) != 1)
		return e2e_fail(run, "QMP write: %s", strerror(errno));
	return e2e_qmp_read(run, q, NULL, reply, len, WAIT_MS, false);
}

/* Connected to path, past the greeting and qmp_capabilities. */
bool e2e_qmp_connect(struct e2e_run *run, struct e2e_qmp *q,
		     const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[4096];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	q->len = 0;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 ||
	    connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return e2e_fail(run, "QMP connect %s: %s", path,
				strerror(errno));
	if (!e2e_qmp_read(run, q, NULL, line, sizeof(line), WAIT_MS, false))
		return false;
	if (!strstr(line, "\"QMP\""))
		return e2e_fail(run, "QMP greeting: %s", line);
	if (!e2e_qmp_send(run, q, "{\"execute\": \"qmp_capabilities\"}",
			  line, sizeof(line)))
		return false;
	if (!strstr(line, "\"return\""))
		return e2e_fail(run, "qmp_capabilities: %s", line);
	return true;
}
