// SPDX-License-Identifier: MIT
/*
 * A QMP client (QEMU Machine Protocol: JSON objects, one per line, over
 * a Unix socket), as the toolstack speaks it to a device model:
 *
 *   S: {"QMP": {"version": {...}, "capabilities": [...]}}     greeting
 *   C: {"execute": "qmp_capabilities", "id": 1}
 *   S: {"return": {}, "id": 1}
 *   C: {"execute": "device_del", "arguments": {"id": "pt0"}, "id": 2}
 *   S: {"event": "DEVICE_DELETED", "data": {"device": "pt0", ...}, ...}
 *   S: {"return": {}, "id": 2}
 *
 * Replies are matched by id; events that arrive meanwhile are queued, so
 * a later wait for DEVICE_DELETED sees one that came before its reply.
 * Every read is bounded by the caller's timeout; anything that is not a
 * JSON object, nested deeper than JSON_MAX_DEPTH, a reply with another
 * id, or a line over XPT_QMP_MAX_LINE ends the session with -EPROTO (the
 * caller closes it).  One session per socket: the caller holds the
 * domain's lock (QEMU serves one client per monitor socket, and two users
 * must never interleave).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "json.h"
#include "libxpt.h"

#define XPT_QMP_MAX_LINE (1u << 20)
#define XPT_QMP_MAX_EVENTS 64

struct xpt_qmp {
	int fd;
	unsigned int next_id;
	char *buf;		/* received: buf[start, len) not yet parsed */
	size_t start, len, cap;
	size_t scanned;		/* buf[start, start + scanned): no newline */
	char *events[XPT_QMP_MAX_EVENTS];	/* queued event lines */
	size_t nevents;
	size_t queued;		/* events ever queued */
	struct xpt_ctx *c;	/* hears the progress of a long wait */
	char who[96];
	struct xpt_progress *p;	/* the wait under way, NULL none */
};

/* How long to poll: until the deadline, or the next progress report. */
static int poll_ms(struct xpt_qmp *q, int64_t left)
{
	return q->p ? xpt_progress_poll_ms(q->p, left) : (int)left;
}

/* Take the empty lines ("\n" or "\r\n") off the front of the buffer:
 * they say nothing, so a megabyte of them costs one pass over it, with
 * no copy and no clock read per line. */
static void skip_empty_lines(struct xpt_qmp *q)
{
	static const char newlines[64] = { [0 ... 63] = '\n' };

	while (q->start < q->len) {
		const char *s = q->buf + q->start;
		size_t left = q->len - q->start;

		if (s[0] == '\n')	/* a block at a time where it can */
			q->start += left >= sizeof(newlines) &&
				    !memcmp(s, newlines, sizeof(newlines)) ?
				    sizeof(newlines) : 1;
		else if (s[0] == '\r' && left > 1 && s[1] == '\n')
			q->start += 2;
		else
			break;
		q->scanned = 0;
	}
	if (q->start == q->len)
		q->start = q->len = 0;
}

/* Split off one non-empty line (without its terminator) from the buffer,
 * reading more until the deadline; *ret malloc'ed.  The deadline holds even
 * while lines keep coming (a stream of events or empty lines: what is
 * buffered is at most twice the line limit, so the work between two
 * clock reads is bounded), and a line is taken off by moving `start`, so
 * a megabyte of short lines costs a megabyte of work, not a megabyte per
 * line. */
static int read_line(struct xpt_qmp *q, int64_t deadline, char **ret)
{
	for (;;) {
		char *s, *nl;
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int64_t left = deadline - xpt_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		skip_empty_lines(q);
		s = q->buf ? q->buf + q->start : NULL;
		/* Not again over what was searched before: a line that
		 * comes in small pieces would cost its length per piece. */
		nl = q->len > q->start + q->scanned ?
		     memchr(s + q->scanned, '\n',
			    q->len - q->start - q->scanned) : NULL;
		if (nl) {
			size_t l = (size_t)(nl - s);

			if (s[l - 1] == '\r')	/* l > 0: skipped if empty */
				l--;
			q->start += (size_t)(nl - s) + 1;
			q->scanned = 0;
			if (q->start == q->len)
				q->start = q->len = 0;
			*ret = strndup(s, l);
			return *ret ? 0 : -ENOMEM;
		}
		/* no whole line: its start goes to the front */
		q->scanned = q->len - q->start;
		if (q->start) {
			memmove(q->buf, s, q->len - q->start);
			q->len -= q->start;
			q->start = 0;
		}
		if (q->len >= XPT_QMP_MAX_LINE)
			return -EPROTO;
		if (q->cap - q->len < 4096) {
			size_t cap = q->cap ? q->cap * 2 : 8192;
			char *b = realloc(q->buf, cap);

			if (!b)
				return -ENOMEM;
			q->buf = b;
			q->cap = cap;
		}
		n = poll(&pfd, 1, poll_ms(q, left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			q->len += (size_t)n;
	}
}

static int write_all(struct xpt_qmp *q, const char *s, size_t n,
		     int64_t deadline)
{
	while (n) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
		int64_t left = deadline - xpt_now_ms();
		ssize_t w;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, poll_ms(q, left)) <= 0)
			continue;
		w = send(q->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/* QMP error classes, as QEMU names them, to errnos. */
static int class_errno(const char *class)
{
	static const struct { const char *name; int err; } map[] = {
		{ "CommandNotFound", EOPNOTSUPP },
		{ "DeviceNotFound", ENODEV },
		{ "DeviceNotActive", ENODEV },
		{ "KVMMissingCap", EOPNOTSUPP },
		{ "GenericError", EIO },
	};
	size_t i;

	for (i = 0; class && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(class, map[i].name))
			return map[i].err;
	return EIO;
}

static const char *str_at(yajl_val v, const char *a, const char *b)
{
	const char *path[3] = { a, b, NULL };
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);

	return s ? YAJL_GET_STRING(s) : NULL;
}

/* One message; an event is queued and 0 returned with *ret NULL. */
static int read_message(struct xpt_qmp *q, int64_t deadline, yajl_val *ret)
{
	char *line = NULL, err[128];
	const char *ev[] = { "event", NULL };
	yajl_val v;
	int r;

	*ret = NULL;
	r = read_line(q, deadline, &line);
	if (r < 0)
		return r;
	if (!*line) {	/* it started with a NUL */
		free(line);
		return 0;
	}
	v = json_parse(line, err, sizeof(err));
	if (!v || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		free(line);
		return -EPROTO;
	}
	if (yajl_tree_get(v, ev, yajl_t_string)) {
		yajl_tree_free(v);
		if (q->nevents == XPT_QMP_MAX_EVENTS) {	/* oldest goes */
			free(q->events[0]);
			memmove(q->events, q->events + 1,
				(XPT_QMP_MAX_EVENTS - 1) * sizeof(char *));
			q->nevents--;
		}
		q->events[q->nevents++] = line;
		q->queued++;
		return 0;
	}
	free(line);
	*ret = v;
	return 0;
}

void xpt_qmp_close(struct xpt_qmp *q)
{
	size_t i;

	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	for (i = 0; i < q->nevents; i++)
		free(q->events[i]);
	free(q->buf);
	free(q);
}

int xpt_qmp_exec(struct xpt_qmp *q, const char *cmd, const char *args_json,
		 int timeout_ms, char **ret_json, char *err, size_t errlen)
{
	int64_t deadline = xpt_now_ms() + timeout_ms;
	const char *idp[] = { "id", NULL }, *retp[] = { "return", NULL };
	unsigned int id = ++q->next_id;
	struct xpt_progress p;
	char *req;
	yajl_val v = NULL, idv, rv;
	int r, n;

	if (err && errlen)
		err[0] = '\0';
	n = asprintf(&req, "{\"execute\": \"%s\"%s%s, \"id\": %u}\r\n", cmd,
		     args_json ? ", \"arguments\": " : "",
		     args_json ? args_json : "", id);
	if (n < 0)
		return -ENOMEM;
	xpt_progress_begin(q->c, &p, timeout_ms, "%s to answer %s", q->who,
			   cmd);
	q->p = &p;
	r = write_all(q, req, (size_t)n, deadline);
	free(req);
	while (r == 0) {
		r = read_message(q, deadline, &v);
		if (r < 0 || !v)
			continue;
		idv = yajl_tree_get(v, idp, yajl_t_number);
		if (!idv || !YAJL_IS_INTEGER(idv) ||
		    YAJL_GET_INTEGER(idv) != (long long)id) {
			r = -EPROTO;	/* a reply to nothing we asked */
			break;
		}
		rv = yajl_tree_get(v, retp, yajl_t_any);
		if (rv) {
			if (ret_json) {
				const unsigned char *buf;
				size_t len;
				yajl_gen g = yajl_gen_alloc(NULL);

				if (!g) {
					r = -ENOMEM;
					break;
				}
				r = json_gen_value(g, rv);
				if (r == 0 && yajl_gen_get_buf(g, &buf, &len) ==
				    yajl_gen_status_ok)
					*ret_json = strndup((const char *)buf,
							    len);
				yajl_gen_free(g);
				if (r == 0 && !*ret_json)
					r = -ENOMEM;
			}
			break;
		}
		r = -class_errno(str_at(v, "error", "class"));
		if (err && errlen)
			snprintf(err, errlen, "%s: %s",
				 str_at(v, "error", "class") ?: "error",
				 str_at(v, "error", "desc") ?: "(no text)");
		break;
	}
	q->p = NULL;
	xpt_progress_end(&p, r);
	yajl_tree_free(v);
	return r;
}

int xpt_qmp_open(struct xpt_ctx *c, const char *who, const char *path,
		 int timeout_ms, struct xpt_qmp **ret, char *err,
		 size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = xpt_now_ms() + timeout_ms;
	struct xpt_qmp *q = calloc(1, sizeof(*q));
	const char *greet[] = { "QMP", NULL };
	struct xpt_progress p;
	yajl_val v = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!q)
		return -ENOMEM;
	q->fd = -1;
	q->c = c;
	snprintf(q->who, sizeof(q->who), "%s", who ? who : path);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(sa.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa,
				 sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	/* the greeting comes first, unasked */
	xpt_progress_begin(c, &p, timeout_ms, "%s to greet on QMP", q->who);
	q->p = &p;
	do
		r = read_message(q, deadline, &v);
	while (r == 0 && !v);
	q->p = NULL;
	xpt_progress_end(&p, r);
	if (r == 0 && !yajl_tree_get(v, greet, yajl_t_object))
		r = -EPROTO;
	yajl_tree_free(v);
	if (r == 0)
		r = xpt_qmp_exec(q, "qmp_capabilities", NULL,
				 (int)(deadline - xpt_now_ms()), NULL, err,
				 errlen);
	if (r < 0)
		goto fail;
	*ret = q;
	return 0;
fail:
	if (err && errlen && !err[0])
		snprintf(err, errlen, "%s", r == -EPROTO ? "not a QMP server "
			 "(no greeting, or not JSON)" : strerror(-r));
	xpt_qmp_close(q);
	return r;
}

/* The event's line matches: "event" is name, and data.device is device
 * when one is given. */
static bool event_is(const char *line, const char *name, const char *device)
{
	char err[64];
	yajl_val v = json_parse(line, err, sizeof(err));
	const char *e = v ? str_at(v, "event", NULL) : NULL;
	const char *d = v ? str_at(v, "data", "device") : NULL;
	bool yes = e && !strcmp(e, name) &&
		   (!device || (d && !strcmp(d, device)));

	yajl_tree_free(v);
	return yes;
}

/* Takes the queued event i off the queue if it is the one waited for. */
static bool take_event(struct xpt_qmp *q, size_t i, const char *name,
		       const char *device)
{
	if (!event_is(q->events[i], name, device))
		return false;
	free(q->events[i]);
	memmove(q->events + i, q->events + i + 1,
		(q->nevents - i - 1) * sizeof(char *));
	q->nevents--;
	return true;
}

int xpt_qmp_wait_event(struct xpt_qmp *q, const char *name,
		       const char *device, int timeout_ms)
{
	int64_t deadline = xpt_now_ms() + timeout_ms;
	struct xpt_progress p;
	yajl_val v;
	size_t i;
	int r;

	xpt_progress_begin(q->c, &p, timeout_ms, "%s to send %s%s%s", q->who,
			   name, device ? " for " : "", device ? device : "");
	q->p = &p;
	/* Those queued before: each looked at once.  Then each new one as
	 * it comes, not the whole queue again: a device model that streams
	 * other events costs one parse per event, not one per queued event. */
	for (i = 0; i < q->nevents; i++)
		if (take_event(q, i, name, device)) {
			r = 0;
			goto out;
		}
	for (;;) {
		size_t queued = q->queued;

		r = read_message(q, deadline, &v);
		if (r < 0)
			goto out;
		if (v) {	/* a reply nobody waits for */
			yajl_tree_free(v);
			r = -EPROTO;
			goto out;
		}
		if (q->queued != queued &&
		    take_event(q, q->nevents - 1, name, device)) {
			r = 0;
			goto out;
		}
	}
out:
	q->p = NULL;
	xpt_progress_end(&p, r);
	return r;
}
