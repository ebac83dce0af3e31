// SPDX-License-Identifier: MIT
/*
 * The benchmark floor: a xenstore peer with no store that answers every
 * request at once with a minimal valid reply of the request's type, so that
 * a benchmark run against it measures what the client calls cost by
 * themselves (libxenstore, the socket, the scheduler).
 *
 * Replies:
 *   READ               a value of N bytes if the path's last component ends
 *                      in "-N" (e.g. ".../v-2000"), else one byte "1";
 *   DIRECTORY          ten names "a" .. "j";
 *   DIRECTORY_PART     "0\0a\0..j\0\0";
 *   TRANSACTION_START  "1\0";  GET_PERMS "n0\0";  IS_DOMAIN_INTRODUCED "T\0";
 *   GET_DOMAIN_PATH    "/local/domain/<domid>\0";
 *   WATCH              "OK\0" followed by the initial event;
 *   WATCH_EVENT, ERROR, unknown types: ERROR "ENOSYS\0";
 *   everything else    "OK\0".
 * The only state beyond the connections is a flat list of watches, so the
 * fan-out workload has a floor too: a WRITE, MKDIR or RM fires every watch
 * whose path is the node or one of its ancestors, and the events are queued
 * before the reply, as C xenstored does.  Single-threaded, epoll,
 * non-blocking sockets.
 *
 * Usage: floor --rundir DIR [--ready-fd N]
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define HDR_LEN ((size_t)sizeof(struct xsd_sockmsg))
#define MAX_MSG (HDR_LEN + XENSTORE_PAYLOAD_MAX)

struct watch {
	struct watch *next;
	struct conn *conn;
	char *path;
	char *token;
};

struct conn {
	int fd;
	bool want_out;          /* EPOLLOUT armed */
	size_t in_len;
	char in[MAX_MSG];
	char *out;              /* pending output, out_off .. out_len */
	size_t out_off, out_len, out_cap;
};

struct floor_state {
	int epfd;
	int lfd;
	struct watch *watches;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int out_append(struct conn *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 8192;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static int queue_msg(struct conn *c, uint32_t type, uint32_t req_id,
		     uint32_t tx_id, const void *body, size_t len)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = (uint32_t)len,
	};
	int rc = out_append(c, &h, sizeof(h));

	return rc ? rc : out_append(c, body, len);
}

static void set_events(struct floor_state *st, struct conn *c, bool want_out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	if (epoll_ctl(st->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

/* Write what is pending; returns -1 if the connection broke. */
static int flush_out(struct floor_state *st, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_events(st, c, true);
				return 0;
			}
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	set_events(st, c, false);
	return 0;
}

static void drop_conn(struct floor_state *st, struct conn *c)
{
	struct watch **pw = &st->watches;

	while (*pw) {
		struct watch *w = *pw;

		if (w->conn == c) {
			*pw = w->next;
			free(w->path);
			free(w->token);
			free(w);
		} else {
			pw = &w->next;
		}
	}
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Is watch path @w the node @node or one of its ancestors? */
static bool watch_matches(const char *w, const char *node)
{
	size_t lw = strlen(w);

	if (strncmp(w, node, lw) != 0)
		return false;
	return node[lw] == '\0' || node[lw] == '/' ||
	       (lw > 0 && w[lw - 1] == '/');
}

static void fire_watches(struct floor_state *st, const char *node)
{
	for (struct watch *w = st->watches; w; w = w->next) {
		size_t lp, lt;
		char buf[XENSTORE_PAYLOAD_MAX];

		if (!watch_matches(w->path, node))
			continue;
		lp = strlen(node) + 1;
		lt = strlen(w->token) + 1;
		if (lp + lt > sizeof(buf))
			continue;
		memcpy(buf, node, lp);
		memcpy(buf + lp, w->token, lt);
		queue_msg(w->conn, XS_WATCH_EVENT, 0, 0, buf, lp + lt);
	}
}

/* Number of nul-terminated strings at the start of the payload. */
static int split_args(char *body, size_t len, const char *argv[], int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		char *nul = memchr(body + i, '\0', len - i);

		if (!nul)
			break;
		argv[n++] = body + i;
		i = (size_t)(nul - body) + 1;
	}
	return n;
}

static size_t read_value_len(const char *path)
{
	const char *last = strrchr(path, '/');
	const char *dash = strrchr(last ? last : path, '-');
	char *end;
	unsigned long n;

	if (!dash || dash[1] < '0' || dash[1] > '9')
		return 1;
	errno = 0;
	n = strtoul(dash + 1, &end, 10);
	if (errno || *end || n > XENSTORE_PAYLOAD_MAX)
		return 1;
	return n;
}

static void handle_msg(struct floor_state *st, struct conn *c,
		       const struct xsd_sockmsg *h, char *body)
{
	static const char ok[] = "OK";
	static const char names[] = "a\0b\0c\0d\0e\0f\0g\0h\0i\0j";
	static const char names_part[] = "0\0a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0";
	static char value[XENSTORE_PAYLOAD_MAX];
	const char *argv[3] = { NULL, NULL, NULL };
	int argc = split_args(body, h->len, argv, 3);
	char buf[XENSTORE_PAYLOAD_MAX];
	uint32_t type = h->type;
	int n;

	switch (type) {
	case XS_READ:
		if (!value[0])
			memset(value, 'x', sizeof(value));
		queue_msg(c, type, h->req_id, h->tx_id, value,
			  argc ? read_value_len(argv[0]) : 1);
		break;
	case XS_DIRECTORY:
		queue_msg(c, type, h->req_id, h->tx_id, names, sizeof(names));
		break;
	case XS_DIRECTORY_PART:
		queue_msg(c, type, h->req_id, h->tx_id, names_part,
			  sizeof(names_part));
		break;
	case XS_TRANSACTION_START:
		queue_msg(c, type, h->req_id, h->tx_id, "1", 2);
		break;
	case XS_GET_PERMS:
		queue_msg(c, type, h->req_id, h->tx_id, "n0", 3);
		break;
	case XS_IS_DOMAIN_INTRODUCED:
		queue_msg(c, type, h->req_id, h->tx_id, "T", 2);
		break;
	case XS_GET_DOMAIN_PATH:
		n = snprintf(buf, sizeof(buf), "/local/domain/%s",
			     argc ? argv[0] : "0");
		queue_msg(c, type, h->req_id, h->tx_id, buf, (size_t)n + 1);
		break;
	case XS_WATCH:
		queue_msg(c, type, h->req_id, h->tx_id, ok, sizeof(ok));
		if (argc >= 2) {
			struct watch *w = calloc(1, sizeof(*w));

			if (!w || !(w->path = strdup(argv[0])) ||
			    !(w->token = strdup(argv[1])))
				die("out of memory");
			w->conn = c;
			w->next = st->watches;
			st->watches = w;
			n = snprintf(buf, sizeof(buf), "%s%c%s", argv[0], 0,
				     argv[1]);
			queue_msg(c, XS_WATCH_EVENT, 0, 0, buf, (size_t)n + 1);
		}
		break;
	case XS_UNWATCH:
	case XS_RESET_WATCHES:
		for (struct watch **pw = &st->watches; *pw;) {
			struct watch *w = *pw;

			if (w->conn == c && (type == XS_RESET_WATCHES ||
			    (argc >= 2 && !strcmp(w->path, argv[0]) &&
			     !strcmp(w->token, argv[1])))) {
				*pw = w->next;
				free(w->path);
				free(w->token);
				free(w);
			} else {
				pw = &w->next;
			}
		}
		queue_msg(c, type, h->req_id, h->tx_id, ok, sizeof(ok));
		break;
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
		if (argc >= 1)
			fire_watches(st, argv[0]);
		queue_msg(c, type, h->req_id, h->tx_id, ok, sizeof(ok));
		break;
	case XS_WATCH_EVENT:
	case XS_ERROR:
		queue_msg(c, XS_ERROR, h->req_id, h->tx_id, "ENOSYS", 7);
		break;
	default:
		if (type < XS_TYPE_COUNT)
			queue_msg(c, type, h->req_id, h->tx_id, ok, sizeof(ok));
		else
			queue_msg(c, XS_ERROR, h->req_id, h->tx_id, "ENOSYS",
				  7);
		break;
	}
}

/* Read and answer everything available; returns -1 to drop the connection. */
static int handle_input(struct floor_state *st, struct conn *c)
{
	for (;;) {
		size_t room = sizeof(c->in) - c->in_len;
		ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);

		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->in_len += (size_t)n;
		for (;;) {
			struct xsd_sockmsg h;
			size_t total;

			if (c->in_len < HDR_LEN)
				break;
			memcpy(&h, c->in, HDR_LEN);
			if (h.len > XENSTORE_PAYLOAD_MAX)
				return -1;
			total = HDR_LEN + h.len;
			if (c->in_len < total)
				break;
			handle_msg(st, c, &h, c->in + HDR_LEN);
			memmove(c->in, c->in + total, c->in_len - total);
			c->in_len -= total;
		}
		/* A short read drained the socket: save the recv() that would
		 * return EAGAIN; epoll is level-triggered and will call again. */
		if ((size_t)n < room)
			return 0;
	}
}

static void flush_all(struct floor_state *st, struct conn *except)
{
	/* Events for other connections were queued by fire_watches(). */
	for (struct watch *w = st->watches; w; w = w->next) {
		struct conn *c = w->conn;

		if (c != except && c->out_len > c->out_off && !c->want_out)
			flush_out(st, c);  /* a failure shows up as EPOLLHUP */
	}
}

static void accept_all(struct floor_state *st)
{
	for (;;) {
		int fd = accept4(st->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				fprintf(stderr, "floor: accept: %s\n",
					strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			die("out of memory");
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: floor --rundir DIR [--ready-fd N]\n"
		"  Answers every xenstore request on DIR/socket at once with "
		"a minimal reply.\n");
}

int main(int argc, char **argv)
{
	struct floor_state st = { .epfd = -1, .lfd = -1 };
	const char *rundir = NULL;
	int ready_fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct sigaction sig = { .sa_handler = on_signal };
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rundir") && i + 1 < argc) {
			rundir = argv[++i];
		} else if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 0 || v > INT_MAX) {
				usage(stderr);
				return 2;
			}
			ready_fd = (int)v;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!rundir) {
		usage(stderr);
		return 2;
	}
	if (mkdir(rundir, 0755) < 0 && errno != EEXIST)
		die(rundir);
	n = snprintf(st.sock_path, sizeof(st.sock_path), "%s/socket", rundir);
	if (n < 0 || (size_t)n >= sizeof(st.sock_path)) {
		fprintf(stderr, "floor: %s/socket: path too long\n", rundir);
		return 1;
	}
	memcpy(sa.sun_path, st.sock_path, sizeof(sa.sun_path));

	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);

	st.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st.lfd < 0)
		die("socket");
	unlink(st.sock_path);
	if (bind(st.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(st.sock_path);
	if (listen(st.lfd, 4096) < 0)
		die("listen");
	st.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st.epfd < 0)
		die("epoll_create1");
	ev.data.ptr = NULL;     /* NULL marks the listening socket */
	if (epoll_ctl(st.epfd, EPOLL_CTL_ADD, st.lfd, &ev) < 0)
		die("epoll_ctl");
	if (ready_fd >= 0) {
		if (write(ready_fd, "READY=1\n", 8) != 8)
			die("ready-fd");
		close(ready_fd);
	}

	while (!stop_requested) {
		struct epoll_event evs[64];

		n = epoll_wait(st.epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				accept_all(&st);
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				if (flush_out(&st, c) < 0) {
					drop_conn(&st, c);
					continue;
				}
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (handle_input(&st, c) < 0) {
					drop_conn(&st, c);
					continue;
				}
				flush_all(&st, c);
				if (!c->want_out && flush_out(&st, c) < 0)
					drop_conn(&st, c);
			}
		}
	}
	unlink(st.sock_path);
	return 0;
}
