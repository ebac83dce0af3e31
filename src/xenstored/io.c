// SPDX-License-Identifier: MIT
/*
 * Sockets and the event loop.  One epoll set holds the listening sockets
 * (privileged, read-only, one per introduced domain), every client and a
 * signalfd; each wake-up costs O(ready fds), never O(connections).  Replies
 * are written at the end of each batch of events (one writev per client).
 *
 * File descriptors are finite.  The last fd_reserve of them are for dom0:
 * a domain's connection that gets one is closed at once, so guests can
 * never keep dom0 out.  When accept() fails for want of fds (EMFILE) the
 * listener stays readable; rather than spin on it, every listener is
 * paused until a connection closes or IO_ACCEPT_PAUSE_MS pass, and the
 * clients wait in the listen backlog.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

enum { IO_CONN = 1, IO_LISTEN, IO_LISTEN_RO, IO_LISTEN_DOM, IO_SIGNAL, IO_HV };

#define IO_ACCEPT_PAUSE_MS 200

static char *io_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

static int io_epoll_add(struct xsd *xsd, int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(xsd->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int io_listen_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int io_listen(struct xsd *xsd)
{
	const char *dir = xsd->cfg.rundir;
	struct rlimit rl;
	sigset_t mask;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fatal("cannot create run directory %s: %m", dir);
	xsd->fd_limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		xsd->fd_limit = rl.rlim_cur;
	xsd->fd_reserve = xsd->fd_limit / 8 > 16 ? xsd->fd_limit / 8 : 16;
	xsd->sockpath = io_path(dir, "socket");
	xsd->ro_sockpath = io_path(dir, "socket_ro");
	xsd->domdir = io_path(dir, "domain");
	xsd->rbuf = malloc(XSD_RBUF);
	if (!xsd->sockpath || !xsd->ro_sockpath || !xsd->domdir || !xsd->rbuf)
		fatal("out of memory");
	if (mkdir(xsd->domdir, 0755) < 0 && errno != EEXIST)
		fatal("cannot create %s: %m", xsd->domdir);
	xsd->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (xsd->epfd < 0)
		fatal("epoll_create1: %m");

	xsd->sock_fd = io_listen_path(xsd->sockpath);
	if (xsd->sock_fd < 0)
		fatal("cannot listen on %s: %s (is another xenstored using "
		      "this run directory?)", xsd->sockpath,
		      strerror(-xsd->sock_fd));
	xsd->ro_fd = io_listen_path(xsd->ro_sockpath);
	if (xsd->ro_fd < 0)
		fatal("cannot listen on %s: %s", xsd->ro_sockpath,
		      strerror(-xsd->ro_fd));
	xsd->io_tag_sock = IO_LISTEN;
	xsd->io_tag_ro = IO_LISTEN_RO;
	xsd->io_tag_sig = IO_SIGNAL;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fatal("signalfd: %m");
	xsd->sig_fd = fd;

	if (io_epoll_add(xsd, xsd->sock_fd, EPOLLIN, &xsd->io_tag_sock) < 0 ||
	    io_epoll_add(xsd, xsd->ro_fd, EPOLLIN, &xsd->io_tag_ro) < 0 ||
	    io_epoll_add(xsd, fd, EPOLLIN, &xsd->io_tag_sig) < 0)
		fatal("epoll_ctl: %m");
	return 0;
}

/* DIR/domain/<domid>: exists before XS_INTRODUCE is answered. */
int io_domain_listen(struct xsd *xsd, struct domain *d)
{
	char name[16];
	int fd;

	if (xsd->epfd < 0)
		return 0;	/* in-memory store: no sockets */
	snprintf(name, sizeof(name), "%u", d->domid);
	free(d->sockpath);
	d->sockpath = io_path(xsd->domdir, name);
	if (!d->sockpath)
		return -ENOMEM;
	fd = io_listen_path(d->sockpath);
	if (fd < 0) {
		log_err("cannot listen on %s: %s", d->sockpath, strerror(-fd));
		return fd == -ENOMEM ? -ENOMEM : -EIO;
	}
	d->io_kind = IO_LISTEN_DOM;
	if (io_epoll_add(xsd, fd, EPOLLIN, d) < 0) {
		close(fd);
		unlink(d->sockpath);
		return -EIO;
	}
	d->listen_fd = fd;
	return 0;
}

void io_domain_unlisten(struct xsd *xsd, struct domain *d)
{
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		d->listen_fd = -1;
	}
	if (d->sockpath) {
		unlink(d->sockpath);
		free(d->sockpath);
		d->sockpath = NULL;
	}
}

/* The hypervisor transport's fd (event channels): xsd->hv->event. */
int io_hv_add(struct xsd *xsd, int fd)
{
	xsd->io_tag_hv = IO_HV;
	return io_epoll_add(xsd, fd, EPOLLIN, &xsd->io_tag_hv);
}

void io_update_events(struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->fd < 0)
		return;
	if (conn_may_read(c) && c->rlen < XSD_RBUF)
		want |= EPOLLIN;
	if (c->out_head)
		want |= EPOLLOUT;
	if (want == c->events_armed)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(c->xsd->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events_armed = want;
}

/* Every listening socket on (EPOLLIN) or off. */
static void io_listeners_arm(struct xsd *xsd, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };
	struct domain *d;

	ev.data.ptr = &xsd->io_tag_sock;
	epoll_ctl(xsd->epfd, EPOLL_CTL_MOD, xsd->sock_fd, &ev);
	ev.data.ptr = &xsd->io_tag_ro;
	epoll_ctl(xsd->epfd, EPOLL_CTL_MOD, xsd->ro_fd, &ev);
	for (d = xsd->domains; d; d = d->next)
		if (d->listen_fd >= 0) {
			ev.data.ptr = d;
			epoll_ctl(xsd->epfd, EPOLL_CTL_MOD, d->listen_fd, &ev);
		}
}

static void io_accept_pause(struct xsd *xsd)
{
	peerlog_msg(xsd, PEERLOG_ACCEPT, LOG_LVL_WARN,
		    "cannot accept a connection: %m (%lu fds); not "
		    "accepting until a connection closes", xsd->fd_limit);
	io_listeners_arm(xsd, false);
	xsd->accept_resume_ms = xsd_now_ms() + IO_ACCEPT_PAUSE_MS;
}

static void io_accept_resume(struct xsd *xsd)
{
	io_listeners_arm(xsd, true);
	xsd->accept_resume_ms = 0;
}

static void io_accept(struct xsd *xsd, int lfd, struct domain *d,
		      bool readonly)
{
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				io_accept_pause(xsd);
			else if (errno != EAGAIN && errno != EINTR &&
				 errno != ECONNABORTED)
				peerlog_msg(xsd, PEERLOG_ACCEPT, LOG_LVL_WARN,
					    "accept: %m");
			return;
		}
		/* fds are given lowest first: all below fd are in use. */
		if (domid_unprivileged(d->domid) &&
		    (unsigned long)fd + xsd->fd_reserve >= xsd->fd_limit) {
			peerlog_msg(xsd, PEERLOG_ACCEPT, LOG_LVL_WARN,
				    "refusing a connection of domain %u: the "
				    "last %lu of %lu fds are dom0's",
				    d->domid, xsd->fd_reserve, xsd->fd_limit);
			close(fd);
			continue;
		}
		if (domid_unprivileged(d->domid) &&
		    xsd->cfg.quota.connections &&
		    d->nconns >= xsd->cfg.quota.connections) {
			/* Closed at once: the client sees EOF, not a hang. */
			peerlog_msg(xsd, PEERLOG_ACCEPT, LOG_LVL_WARN,
				    "domain %u already has %u connections "
				    "(quota connections): refusing another",
				    d->domid, d->nconns);
			close(fd);
			continue;
		}
		c = conn_new(xsd, fd, d, readonly);
		if (!c) {
			close(fd);
			continue;
		}
		c->io_kind = IO_CONN;
		if (io_epoll_add(xsd, fd, EPOLLIN, c) < 0) {
			conn_free(c);
			continue;
		}
		c->events_armed = EPOLLIN;
		if (xsd->access_log)
			io_access_log_connect(c);
		log_debug("new connection %" PRIu64 " as domain %u",
			  c->seq, d->domid);
	}
}

/* Process what is held in c->rbuf, as far as the connection may go on. */
static void io_consume(struct conn *c)
{
	size_t used;
	int r;

	if (c->roff == c->rlen || c->closing)
		return;
	r = conn_feed(c, c->rbuf + c->roff, c->rlen - c->roff, &used);
	c->roff += used;
	if (c->roff == c->rlen) {
		/* nothing held: an idle connection keeps no buffer */
		free(c->rbuf);
		c->rbuf = NULL;
		c->roff = c->rlen = 0;
	}
	if (r < 0)
		c->closing = true;
	if (used || r < 0)
		conn_mark_dirty(c);
}

/*
 * n bytes read into xsd->rbuf: process them, and hold what the connection
 * may not take yet (it stalled) in a buffer of its own until it may.
 */
static void io_feed(struct conn *c, size_t n)
{
	size_t used;
	int r;

	r = conn_feed(c, c->xsd->rbuf, n, &used);
	if (used || r < 0)
		conn_mark_dirty(c);
	if (r < 0) {
		c->closing = true;
		return;
	}
	if (used == n || c->closing)
		return;
	c->rbuf = xmalloc(XSD_RBUF);
	if (!c->rbuf) {
		peerlog_msg(c->xsd, PEERLOG_NOMEM, LOG_LVL_ERR,
			    "out of memory holding input of a connection of "
			    "domain %u; dropping it", c->id);
		c->closing = true;
		conn_drop_output(c);
		conn_mark_dirty(c);
		return;
	}
	memcpy(c->rbuf, c->xsd->rbuf + used, n - used);
	c->roff = 0;
	c->rlen = n - used;
}

/* The socket is readable, or hung up (hup: EPOLLHUP or EPOLLERR). */
static void io_read(struct conn *c, bool hup)
{
	ssize_t n;

	if (c->dead || c->closing)
		return;
	if (!conn_may_read(c)) {
		/*
		 * It waits, maybe for another connection of its domain to
		 * read: stop polling its input (level-triggered, it would
		 * wake us at once), and if the peer is gone, so is it.
		 */
		if (hup) {
			c->closing = true;
			conn_drop_output(c);
			conn_mark_dirty(c);
		} else {
			io_update_events(c);
		}
		return;
	}
	if (c->rbuf && c->roff) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	/* Held bytes come first: read behind them. */
	if (c->rbuf)
		n = read(c->fd, c->rbuf + c->rlen, XSD_RBUF - c->rlen);
	else
		n = read(c->fd, c->xsd->rbuf, XSD_RBUF);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		c->closing = true;
		conn_drop_output(c);
		conn_mark_dirty(c);
		return;
	}
	if (n < 0)
		return;
	if (!c->rbuf) {
		io_feed(c, n);
		return;
	}
	c->rlen += n;
	io_consume(c);
}

void io_flush(struct conn *c)
{
	struct iovec iov[64];
	struct outmsg *m;
	bool blocked = false;
	ssize_t n;
	int cnt;

	if (c->ring) {
		ring_flush(c->ring);
		return;
	}
	while (c->fd >= 0 && c->out_head) {
		cnt = 0;
		for (m = c->out_head; m && cnt < 64; m = m->next, cnt++) {
			iov[cnt].iov_base = m->buf + (cnt ? 0 : c->out_off);
			iov[cnt].iov_len = m->len - (cnt ? 0 : c->out_off);
		}
		n = writev(c->fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				blocked = true;
				break;
			}
			c->closing = true;
			conn_drop_output(c);
			break;
		}
		conn_output_done(c, n);
	}
	/*
	 * A connection being closed gets what its socket takes now, and no
	 * more: a peer that does not read must not keep it (and its queue)
	 * alive.
	 */
	if (c->closing && (!c->out_head || c->fd < 0 || blocked)) {
		conn_close(c);
		return;
	}
	/* Requests read while it (or its domain) could not go on. */
	if (conn_may_read(c))
		io_consume(c);
	io_update_events(c);
}

/* Events a domain has not started to read within the timeout are dropped. */
static void io_expire_events(struct xsd *xsd, uint64_t now)
{
	unsigned int tmo = xsd->cfg.quota.event_timeout;
	struct outmsg *prev, *m;
	struct conn *c;

	if (!tmo)
		return;
	for (c = xsd->conns; c; c = c->next) {
		if (!c->out_head || !conn_unprivileged(c) || c->dead)
			continue;
		/* The head may be partly written: it stays. */
		for (prev = c->out_head; (m = prev->next); ) {
			if (m->event && now - m->queued_ms > tmo * 1000ull) {
				conn_unqueue(c, prev, m);
				free(m);
				log_debug("expired a stale event of domain %u",
					  c->id);
				continue;
			}
			prev = m;
		}
	}
}

/* Write out in the order output was queued: watchers' events first. */
static void io_flush_dirty(struct xsd *xsd)
{
	struct conn *c;

	while ((c = xsd->dirty)) {
		xsd->dirty = c->dirty_next;
		if (!xsd->dirty)
			xsd->dirty_tail = NULL;
		c->on_dirty = false;
		if (!c->dead)
			io_flush(c);
	}
}

static void io_reap(struct xsd *xsd)
{
	struct conn *c;

	while ((c = xsd->dead)) {
		xsd->dead = c->dead_next;
		conn_free(c);
	}
}

int io_run(struct xsd *xsd)
{
	struct epoll_event evs[64];
	int n, i;

	while (!xsd->stop) {
		int tmo = 1000;

		if (xsd->accept_resume_ms) {
			uint64_t now = xsd_now_ms();

			if (now >= xsd->accept_resume_ms)
				io_accept_resume(xsd);
			else if (xsd->accept_resume_ms - now < 1000)
				tmo = xsd->accept_resume_ms - now;
		}
		n = epoll_wait(xsd->epfd, evs, 64, tmo);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait: %m");
		}
		for (i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;
			struct conn *c = evs[i].data.ptr;
			struct domain *d = evs[i].data.ptr;
			struct signalfd_siginfo si;

			switch (kind) {
			case IO_LISTEN:
				io_accept(xsd, xsd->sock_fd, xsd->dom0, false);
				break;
			case IO_LISTEN_RO:
				io_accept(xsd, xsd->ro_fd, xsd->dom0, true);
				break;
			case IO_LISTEN_DOM:
				if (d->listen_fd >= 0)
					io_accept(xsd, d->listen_fd, d, false);
				break;
			case IO_HV:
				xsd->hv->event(xsd);
				io_flush_dirty(xsd);
				break;
			case IO_SIGNAL:
				while (read(xsd->sig_fd, &si, sizeof(si)) > 0)
					xsd->stop = true;
				break;
			case IO_CONN:
				if (c->dead)
					break;
				if (evs[i].events & EPOLLOUT)
					io_flush(c);
				if (evs[i].events & (EPOLLIN | EPOLLHUP |
						     EPOLLERR))
					io_read(c, evs[i].events &
						   (EPOLLHUP | EPOLLERR));
				/* Reply now, not after the whole batch. */
				io_flush_dirty(xsd);
				break;
			}
		}
		io_flush_dirty(xsd);
		/* Free closed connections only between batches. */
		if (xsd->dead) {
			io_reap(xsd);
			/* fds were freed: try the backlog again */
			if (xsd->accept_resume_ms)
				io_accept_resume(xsd);
		}
		if (n == 0 || xsd_now_ms() - xsd->last_scan_ms >= 1000) {
			xsd->last_scan_ms = xsd_now_ms();
			io_expire_events(xsd, xsd->last_scan_ms);
		}
	}
	return 0;
}

void io_shutdown(struct xsd *xsd)
{
	struct domain *d;

	for (d = xsd->domains; d; d = d->next)
		io_domain_unlisten(xsd, d);
	if (xsd->sockpath)
		unlink(xsd->sockpath);
	if (xsd->ro_sockpath)
		unlink(xsd->ro_sockpath);
	if (xsd->domdir)
		rmdir(xsd->domdir);
}

/* The client's command name, as /proc/PID/comm has it: letters, digits
 * and "-_.+" kept, anything else (spaces, '=', control bytes) as '?', so
 * the record stays one field that xpt trace can name a party by. */
static void io_peer_comm(pid_t pid, char *out, size_t outlen)
{
	char path[32], buf[32];
	ssize_t n;
	size_t i, j = 0;
	int fd;

	snprintf(out, outlen, "?");
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (i = 0; n > 0 && i < (size_t)n && j + 1 < outlen; i++) {
		unsigned char ch = buf[i];

		if (ch == '\n')
			break;
		out[j++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || strchr("-_.+", ch) ?
			   ch : '?';
	}
	if (j)
		out[j] = 0;
}

static void io_access_log_stamp(FILE *f, const struct conn *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "%lld.%06ld conn=%" PRIu64 " dom=%u ",
		(long long)ts.tv_sec, ts.tv_nsec / 1000, c->seq, c->id);
}

/*
 * A connection starts: who it is, so that xpt trace names the parties
 * exactly.  A socket client by its pid and command name (SO_PEERCRED),
 * a domain's ring as "ring".
 */
void io_access_log_connect(struct conn *c)
{
	FILE *f = c->xsd->access_log;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char comm[32];

	io_access_log_stamp(f, c);
	if (c->fd < 0) {
		fputs("CONNECT ring\n", f);
	} else if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred,
			      &len) == 0 && cred.pid > 0) {
		io_peer_comm(cred.pid, comm, sizeof(comm));
		fprintf(f, "CONNECT pid=%ld comm=%s\n", (long)cred.pid, comm);
	} else {
		fputs("CONNECT pid=0 comm=?\n", f);
	}
	fflush(f);
}

/* The connection goes (closed by either side). */
void io_access_log_close(struct conn *c)
{
	FILE *f = c->xsd->access_log;

	io_access_log_stamp(f, c);
	fputs("CLOSE\n", f);
	fflush(f);
}

void io_access_log(struct conn *c, const char *dir, const struct xsd_sockmsg *h,
		   const char *payload)
{
	FILE *f = c->xsd->access_log;
	uint32_t i;

	io_access_log_stamp(f, c);
	fprintf(f, "%s %s req=%u tx=%u len=%u ", dir,
		wire_type_name(h->type), h->req_id, h->tx_id, h->len);
	for (i = 0; i < h->len && i < 256; i++) {
		unsigned char ch = payload[i];

		if (!ch)
			fputs("\\0", f);
		else if (ch < 32 || ch > 126 || ch == '\\')
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputs(h->len > 256 ? "...\n" : "\n", f);
	fflush(f);
}
