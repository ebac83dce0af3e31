/* SPDX-License-Identifier: MIT */
/*
 * xsshim.c: LD_PRELOAD shim that runs Debian's unmodified Xen 4.17 C
 * xenstored on a host without a hypervisor, serving dom0 on its Unix socket
 * and every introduced domain on a Unix socket of its own.
 *
 * Design.  xenstored talks to Xen through three small libraries; this shim
 * replaces the calls it makes:
 *
 *   libxenctrl    xc_interface_open/close, xc_domain_getinfo(list): dom0
 *                 and every currently introduced domain exist and run.
 *   libxengnttab  xengnttab_map_grant_ref() hands out a private zeroed page
 *                 that stands for the guest's ring (struct
 *                 xenstore_domain_interface) and starts a "bridge" for the
 *                 domain; xengnttab_unmap() stops it.
 *   libxenevtchn  one handle whose fd is an eventfd.  Bridges write to it to
 *                 raise "the guest notified us"; xenevtchn_pending() returns
 *                 the port of the bridge that did.  xenevtchn_notify() on a
 *                 domain's port wakes that domain's bridge.
 *
 * and two files of the dom0 kernel: /proc/xen/xsd_kva (dom0's own ring page,
 * never used here: dom0 comes in over the socket) and /proc/xen/xsd_port.
 *
 * A bridge is a thread playing the guest's kernel.  It listens on
 * $XSSHIM_DIR/domain/<domid> (created inside the map call, so the file exists
 * before xenstored sends the OK of XS_INTRODUCE) and serves one client at a
 * time: whole requests read from the client are copied into the req ring,
 * replies and watch events read from the rsp ring are written back.  To
 * xenstored the client therefore *is* that unprivileged domain.
 *
 * Ring discipline (xen/io/xs_wire.h): indexes run freely modulo 2^32; a
 * writer fills data, fences, then bumps prod; a reader reads prod, fences,
 * copies, fences, then bumps cons.  Every index move is followed by a
 * notification to the other side, as a real guest does.
 *
 * Worked example, a READ from dom1:
 *   client --"READ /x"--> bridge 1 --req ring, eventfd--> xenstored
 *   xenstored --rsp ring, xenevtchn_notify(port of dom1)--> bridge 1 --> client
 *
 * Connection state.  The page starts with connection = XENSTORE_RECONNECT
 * and the bridge does not touch the ring until xenstored has reset the ring
 * indexes (in do_introduce), set XENSTORE_CONNECTED and notified us: this is
 * the guest reconnection protocol, and it is what makes a re-INTRODUCE of a
 * live domain safe (the shim sets RECONNECT again when xenstored re-binds the
 * event channel, just before xenstored zeroes the indexes).
 *
 * A client that disconnects must not leave watches or transactions behind
 * for the next client, as it would with a real guest, whose ring outlives
 * any process.  On EOF the bridge sends xenstored an XS_RESET_WATCHES of its
 * own (which drops the domain's watches and transactions) and discards
 * everything up to its reply before it accepts the next client.  If
 * xenstored gives up on the domain (interface->error set, e.g. a header with
 * len > 4096), the bridge closes the client and refuses further clients,
 * which is what a socket client of xenstored sees in the same case.
 *
 * Environment:
 *   XSSHIM_DIR    directory for the per-domain sockets (DIR/domain/<domid>);
 *                 required
 *   XSSHIM_DEBUG  if set, log intercepted calls to stderr
 *
 * Written for this project from the interfaces in Debian's libxen-dev headers
 * and the documented behaviour of xenstored; no Xen code is copied.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xen/io/xs_wire.h>

#define PAGE_SIZE_XS 4096
#define HDR_SIZE ((size_t)sizeof(struct xsd_sockmsg))
#define MSG_MAX (HDR_SIZE + XENSTORE_PAYLOAD_MAX)
/* Our own XS_RESET_WATCHES after a client left carries this req_id. */
#define MARKER_REQ_ID 0x78737368u /* "xssh" */
/* Stop draining the rsp ring while this much is unsent to a slow client. */
#define OUT_HIGH_WATER (1u << 20)
#define MAX_DOMID 0x7FF0 /* DOMID_FIRST_RESERVED */

/* ------------------------------------------------------------------ */
/* Logging and small helpers                                           */

static void shim_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void shim_log(const char *fmt, ...)
{
	static int enabled = -1;
	va_list ap;

	if (enabled < 0)
		enabled = getenv("XSSHIM_DEBUG") != NULL;
	if (!enabled)
		return;
	va_start(ap, fmt);
	fputs("xsshim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void full_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static uint32_t idx_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void idx_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void eventfd_raise(int fd)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: raised enough. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		shim_log("eventfd write: %s", strerror(errno));
}

static void eventfd_clear(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		shim_log("eventfd read: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Bridges: one per introduced domain                                  */

enum bridge_state {
	B_IDLE,     /* no client; ready to accept one */
	B_SERVING,  /* relaying for a client */
	B_DRAINING, /* client gone; waiting for our RESET_WATCHES reply */
	B_DEAD,     /* xenstored ignores this domain: refuse clients */
};

struct bridge {
	struct bridge *next;
	unsigned int domid;
	struct xenstore_domain_interface *intf;
	pthread_t thread;
	pthread_mutex_t lock;	/* ring access and the fields below */
	int port;		/* local event channel port, 0 if unbound */
	bool bound_once;	/* a later bind is a re-INTRODUCE */
	bool stop;
	enum bridge_state state;
	int wake_fd;		/* eventfd: notified by xenstored, or stop */
	int listen_fd;
	int client_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	/* Client -> ring: whole requests, pushed as ring space allows. */
	unsigned char in[2 * MSG_MAX];
	size_t in_len;		/* bytes buffered */
	size_t in_pushed;	/* bytes of the first message already in the ring */
	bool marker_queued;	/* in[] holds our RESET_WATCHES */
	bool oversized;		/* pushed a header xenstored must refuse */

	/* Ring -> client: the message being assembled, then the output. */
	unsigned char msg[MSG_MAX];
	size_t msg_len;
	unsigned char *out;
	size_t out_len, out_cap;
};

/* Everything the xenstored thread and the bridges share. */
static struct {
	pthread_mutex_t lock;	/* the bridge list and the port counter */
	struct bridge *bridges;
	int xce_fd;		/* the evtchn eventfd xenstored polls, or -1 */
	int next_port;
	int pending_port;	/* last port raised by a bridge */
	struct xenevtchn_handle *xce;
} shim = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.xce_fd = -1,
	.next_port = 1,
};

static void notify_xenstored(struct bridge *b)
{
	__atomic_store_n(&shim.pending_port, b->port, __ATOMIC_RELAXED);
	if (shim.xce_fd >= 0)
		eventfd_raise(shim.xce_fd);
}

/* Must hold shim.lock. */
static struct bridge *bridge_by_domid(unsigned int domid)
{
	struct bridge *b;

	for (b = shim.bridges; b; b = b->next)
		if (b->domid == domid)
			return b;
	return NULL;
}

/* Must hold shim.lock. */
static struct bridge *bridge_by_port(int port)
{
	struct bridge *b;

	for (b = shim.bridges; b; b = b->next)
		if (b->port == port && port != 0)
			return b;
	return NULL;
}

/* Copy up to n bytes into the req ring; returns the number copied. */
static size_t ring_put(struct bridge *b, const unsigned char *p, size_t n)
{
	struct xenstore_domain_interface *intf = b->intf;
	uint32_t cons = idx_load(&intf->req_cons);
	uint32_t prod = intf->req_prod; /* only we write it */
	size_t space, done = 0;

	full_fence();
	if (prod - cons > XENSTORE_RING_SIZE)
		return 0; /* xenstored flags RINGIDX itself */
	space = XENSTORE_RING_SIZE - (prod - cons);
	if (n > space)
		n = space;
	while (done < n) {
		size_t off = MASK_XENSTORE_IDX(prod + done);
		size_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(intf->req + off, p + done, chunk);
		done += chunk;
	}
	full_fence();
	idx_store(&intf->req_prod, prod + (uint32_t)n);
	return n;
}

/* Copy up to n bytes out of the rsp ring; returns the number copied. */
static size_t ring_get(struct bridge *b, unsigned char *p, size_t n)
{
	struct xenstore_domain_interface *intf = b->intf;
	uint32_t cons = intf->rsp_cons; /* only we write it */
	uint32_t prod = idx_load(&intf->rsp_prod);
	size_t avail, done = 0;

	full_fence();
	if (prod - cons > XENSTORE_RING_SIZE)
		return 0;
	avail = prod - cons;
	if (n > avail)
		n = avail;
	while (done < n) {
		size_t off = MASK_XENSTORE_IDX(cons + done);
		size_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(p + done, intf->rsp + off, chunk);
		done += chunk;
	}
	full_fence();
	idx_store(&intf->rsp_cons, cons + (uint32_t)n);
	return n;
}

/* Length of the first complete request in b->in, or 0 if incomplete. */
static size_t first_request_len(const struct bridge *b)
{
	struct xsd_sockmsg hdr;

	if (b->in_len < HDR_SIZE)
		return 0;
	memcpy(&hdr, b->in, HDR_SIZE);
	/*
	 * An oversized header is passed on alone: xenstored rejects the domain
	 * on seeing it (error PROTO) and will not read the body anyway.
	 */
	if (hdr.len > XENSTORE_PAYLOAD_MAX)
		return HDR_SIZE;
	if (b->in_len < HDR_SIZE + hdr.len)
		return 0;
	return HDR_SIZE + hdr.len;
}

static void out_append(struct bridge *b, const unsigned char *p, size_t n)
{
	if (b->out_len + n > b->out_cap) {
		size_t cap = b->out_cap ? b->out_cap : 8192;
		unsigned char *np;

		while (cap < b->out_len + n)
			cap *= 2;
		np = realloc(b->out, cap);
		if (!np) {
			shim_log("dom%u: out of memory, dropping %zu bytes",
				 b->domid, n);
			return;
		}
		b->out = np;
		b->out_cap = cap;
	}
	memcpy(b->out + b->out_len, p, n);
	b->out_len += n;
}

static void close_client(struct bridge *b)
{
	if (b->client_fd >= 0) {
		close(b->client_fd);
		b->client_fd = -1;
	}
	b->out_len = 0;
}

/* The client went away: make xenstored forget its watches/transactions. */
static void start_draining(struct bridge *b)
{
	struct xsd_sockmsg marker = {
		.type = XS_RESET_WATCHES,
		.req_id = MARKER_REQ_ID,
		.tx_id = 0,
		.len = 0,
	};
	size_t keep = b->in_pushed ? first_request_len(b) : 0;

	shim_log("dom%u: client left, resetting its watches", b->domid);
	close_client(b);
	/* Finish a request xenstored has partly read; drop the unsent rest. */
	b->in_len = keep;
	memcpy(b->in + b->in_len, &marker, HDR_SIZE);
	b->in_len += HDR_SIZE;
	b->marker_queued = true;
	b->state = B_DRAINING;
}

/* Bytes still missing of the message being assembled from the rsp ring. */
static size_t msg_need(const struct bridge *b)
{
	struct xsd_sockmsg hdr;

	if (b->msg_len < HDR_SIZE)
		return HDR_SIZE - b->msg_len;
	memcpy(&hdr, b->msg, HDR_SIZE);
	/* xenstored never sends more; the cap keeps us inside msg[]. */
	if (hdr.len > XENSTORE_PAYLOAD_MAX)
		hdr.len = XENSTORE_PAYLOAD_MAX;
	return HDR_SIZE + hdr.len - b->msg_len;
}

/* A whole message arrived from xenstored. */
static void deliver_message(struct bridge *b)
{
	struct xsd_sockmsg hdr;

	memcpy(&hdr, b->msg, HDR_SIZE);
	if (b->state == B_SERVING) {
		out_append(b, b->msg, b->msg_len);
	} else if (b->state == B_DRAINING && hdr.req_id == MARKER_REQ_ID &&
		   (hdr.type == XS_RESET_WATCHES || hdr.type == XS_ERROR)) {
		b->state = B_IDLE;
		b->marker_queued = false;
		shim_log("dom%u: reset done, accepting clients", b->domid);
	}
	b->msg_len = 0;
}

/* Move data between the client buffers and the ring.  Holds b->lock. */
static void pump_ring(struct bridge *b)
{
	bool moved = false;

	if (__atomic_load_n(&b->intf->connection, __ATOMIC_ACQUIRE) !=
	    XENSTORE_CONNECTED)
		return;
	if (b->intf->error != XENSTORE_ERROR_NONE) {
		if (b->state != B_DEAD) {
			shim_log("dom%u: xenstored set error %u, refusing "
				 "clients", b->domid, b->intf->error);
			close_client(b);
			b->in_len = b->in_pushed = 0;
			b->state = B_DEAD;
		}
		b->oversized = false;
		return;
	}

	for (;;) {
		size_t len = first_request_len(b), n;

		if (!len)
			break;
		n = ring_put(b, b->in + b->in_pushed, len - b->in_pushed);
		if (!n)
			break;
		moved = true;
		b->in_pushed += n;
		if (b->in_pushed < len)
			break;
		if (len == HDR_SIZE) {
			struct xsd_sockmsg hdr;

			memcpy(&hdr, b->in, HDR_SIZE);
			b->oversized = hdr.len > XENSTORE_PAYLOAD_MAX;
		}
		memmove(b->in, b->in + len, b->in_len - len);
		b->in_len -= len;
		b->in_pushed = 0;
	}

	while (b->out_len < OUT_HIGH_WATER) {
		size_t n = ring_get(b, b->msg + b->msg_len, msg_need(b));

		if (!n)
			break;
		moved = true;
		b->msg_len += n;
		if (b->msg_len >= HDR_SIZE && !msg_need(b))
			deliver_message(b);
	}

	if (moved)
		notify_xenstored(b);
}

static void accept_client(struct bridge *b)
{
	int fd = accept4(b->listen_fd, NULL, NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (b->state == B_DEAD) {
		close(fd);
		return;
	}
	b->client_fd = fd;
	b->in_len = b->in_pushed = 0;
	b->msg_len = 0;
	b->out_len = 0;
	b->state = B_SERVING;
	shim_log("dom%u: client connected", b->domid);
}

static void read_client(struct bridge *b)
{
	ssize_t n = read(b->client_fd, b->in + b->in_len,
			 sizeof(b->in) - b->in_len);

	if (n > 0)
		b->in_len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		start_draining(b);
	}
}

static void write_client(struct bridge *b)
{
	ssize_t n = send(b->client_fd, b->out, b->out_len, MSG_NOSIGNAL);

	if (n > 0) {
		memmove(b->out, b->out + n, b->out_len - (size_t)n);
		b->out_len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		start_draining(b);
	}
}

static void *bridge_main(void *arg)
{
	struct bridge *b = arg;

	for (;;) {
		struct pollfd pfd[3];
		int nfd = 0, wake_i, listen_i = -1, client_i = -1, timeout;

		pthread_mutex_lock(&b->lock);
		if (b->stop) {
			pthread_mutex_unlock(&b->lock);
			break;
		}
		pump_ring(b);
		wake_i = nfd;
		pfd[nfd++] = (struct pollfd){ .fd = b->wake_fd,
					      .events = POLLIN };
		if (b->state == B_IDLE || b->state == B_DEAD) {
			listen_i = nfd;
			pfd[nfd++] = (struct pollfd){ .fd = b->listen_fd,
						      .events = POLLIN };
		}
		if (b->state == B_SERVING) {
			short ev = 0;

			if (b->in_len < sizeof(b->in) && !first_request_len(b))
				ev |= POLLIN;
			if (b->out_len)
				ev |= POLLOUT;
			client_i = nfd;
			pfd[nfd++] = (struct pollfd){ .fd = b->client_fd,
						      .events = ev };
		}
		/*
		 * xenstored sets interface->error without notifying us; after a
		 * header it must refuse, look again every few milliseconds.
		 */
		timeout = b->oversized ? 5 : -1;
		pthread_mutex_unlock(&b->lock);

		if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			shim_log("dom%u: poll: %s", b->domid, strerror(errno));
			break;
		}

		pthread_mutex_lock(&b->lock);
		if (pfd[wake_i].revents)
			eventfd_clear(b->wake_fd);
		if (listen_i >= 0 && pfd[listen_i].revents & POLLIN)
			accept_client(b);
		if (client_i >= 0 && b->state == B_SERVING) {
			short re = pfd[client_i].revents;

			if (re & POLLOUT)
				write_client(b);
			if (b->state == B_SERVING && b->in_len < sizeof(b->in) &&
			    re & (POLLIN | POLLHUP | POLLERR))
				read_client(b);
		}
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 16) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void bridge_free(struct bridge *b)
{
	if (b->listen_fd >= 0) {
		close(b->listen_fd);
		unlink(b->path);
	}
	if (b->client_fd >= 0)
		close(b->client_fd);
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	if (b->intf)
		munmap(b->intf, PAGE_SIZE_XS);
	pthread_mutex_destroy(&b->lock);
	free(b->out);
	free(b);
}

/* Create the ring page, the socket and the thread for one domain. */
static struct bridge *bridge_new(unsigned int domid)
{
	const char *dir = getenv("XSSHIM_DIR");
	struct bridge *b;
	sigset_t all, old;
	char sub[sizeof(b->path)];
	void *page;
	int rc;

	if (!dir || !*dir) {
		shim_log("XSSHIM_DIR is not set; cannot serve dom%u", domid);
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->domid = domid;
	b->wake_fd = b->listen_fd = b->client_fd = -1;
	pthread_mutex_init(&b->lock, NULL);

	page = mmap(NULL, PAGE_SIZE_XS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		goto fail;
	b->intf = page;
	/* Stay off the ring until xenstored has reset it and says so. */
	b->intf->connection = XENSTORE_RECONNECT;

	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0)
		goto fail;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/domain", dir) >=
	    sizeof(sub) ||
	    (size_t)snprintf(b->path, sizeof(b->path), "%s/domain/%u", dir,
			     domid) >= sizeof(b->path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		goto fail;
	b->listen_fd = listen_on(b->path);
	if (b->listen_fd < 0)
		goto fail;

	/* xenstored's signals are for its own thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&b->thread, NULL, bridge_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		errno = rc;
		goto fail;
	}
	shim_log("dom%u: listening on %s", domid, b->path);
	return b;

fail:
	rc = errno;
	shim_log("dom%u: cannot create bridge: %s", domid, strerror(rc));
	bridge_free(b);
	errno = rc;
	return NULL;
}

static void bridge_stop(struct bridge *b)
{
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_mutex_unlock(&b->lock);
	eventfd_raise(b->wake_fd);
	pthread_join(b->thread, NULL);
	shim_log("dom%u: bridge stopped", b->domid);
	bridge_free(b);
}

/* ------------------------------------------------------------------ */
/* libc: the two dom0 kernel files xenstored opens                     */

static int memfd_with(const char *name, const void *data, size_t len,
		      size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    (len && pwrite(fd, data, len, 0) != (ssize_t)len)) {
		close(fd);
		return -1;
	}
	return fd;
}

int open(const char *path, int flags, ...)
{
	static int (*real_open)(const char *, int, ...);
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!strcmp(path, "/proc/xen/xsd_kva")) {
		/* dom0's ring; dom0 uses the socket, so it stays empty. */
		shim_log("open %s -> zeroed page", path);
		return memfd_with("xsd_kva", NULL, 0, PAGE_SIZE_XS);
	}
	if (!strcmp(path, "/proc/xen/xsd_port")) {
		shim_log("open %s -> \"1\"", path);
		return memfd_with("xsd_port", "1", 1, 1);
	}
	if (!real_open)
		real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT,
								    "open");
	return real_open(path, flags, mode);
}

/* ------------------------------------------------------------------ */
/* libxenctrl                                                          */

static struct { int unused; } fake_xc;

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	shim_log("xc_interface_open");
	return (xc_interface *)&fake_xc;
}

int xc_interface_close(xc_interface *xch)
{
	return 0;
}

/*
 * dom0 always exists; any other domain exactly while it is introduced
 * (has a bridge): xenstored would otherwise forget it.
 * Returns the next existing domid >= from, or MAX_DOMID.
 */
static uint32_t next_domain(uint32_t from)
{
	uint32_t best = MAX_DOMID;
	struct bridge *b;

	if (from == 0)
		return 0;
	pthread_mutex_lock(&shim.lock);
	for (b = shim.bridges; b; b = b->next)
		if (b->domid >= from && b->domid < best)
			best = b->domid;
	pthread_mutex_unlock(&shim.lock);
	return best;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
		      unsigned int max_doms, xc_dominfo_t *info)
{
	unsigned int n = 0;
	uint32_t d = first_domid;

	while (n < max_doms && (d = next_domain(d)) < MAX_DOMID) {
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domid = d;
		info[n].running = 1;
		info[n].nr_online_vcpus = 1;
		n++;
		d++;
	}
	shim_log("xc_domain_getinfo(%u, %u) -> %u", first_domid, max_doms, n);
	return (int)n;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
			  unsigned int max_domains, xc_domaininfo_t *info)
{
	unsigned int n = 0;
	uint32_t d = first_domain;

	while (n < max_domains && (d = next_domain(d)) < MAX_DOMID) {
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domain = (domid_t)d;
		info[n].flags = XEN_DOMINF_running;
		info[n].nr_online_vcpus = 1;
		n++;
		d++;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* libxengnttab                                                        */

struct xengntdev_handle {
	int unused;
};
static struct xengntdev_handle fake_gnttab;

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned open_flags)
{
	return &fake_gnttab;
}

int xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

/* XS_INTRODUCE maps the guest's ring: make the domain exist and listen. */
void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
			      uint32_t ref, int prot)
{
	struct bridge *b;

	shim_log("xengnttab_map_grant_ref(dom%u, ref %u)", domid, ref);
	if (domid == 0 || domid >= MAX_DOMID) {
		errno = ESRCH;
		return NULL;
	}
	pthread_mutex_lock(&shim.lock);
	b = bridge_by_domid(domid);
	if (b) {
		/* xenstored maps a domain once; a second map is a bug. */
		pthread_mutex_unlock(&shim.lock);
		errno = EBUSY;
		return NULL;
	}
	b = bridge_new(domid);
	if (b) {
		b->next = shim.bridges;
		shim.bridges = b;
	}
	pthread_mutex_unlock(&shim.lock);
	return b ? b->intf : NULL;
}

/* The domain is gone (XS_RELEASE): close its socket and forget it. */
int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
		    uint32_t count)
{
	struct bridge **pp, *b = NULL;

	pthread_mutex_lock(&shim.lock);
	for (pp = &shim.bridges; *pp; pp = &(*pp)->next) {
		if ((void *)(*pp)->intf == start_address) {
			b = *pp;
			*pp = b->next;
			break;
		}
	}
	pthread_mutex_unlock(&shim.lock);
	shim_log("xengnttab_unmap(%p) -> dom%d", start_address,
		 b ? (int)b->domid : -1);
	if (b) {
		bridge_stop(b);
		return 0;
	}
	return munmap(start_address, (size_t)count * PAGE_SIZE_XS);
}

/* ------------------------------------------------------------------ */
/* libxenevtchn                                                        */

struct xenevtchn_handle {
	int fd;
};

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned open_flags)
{
	struct xenevtchn_handle *h = calloc(1, sizeof(*h));
	int cloexec = (open_flags & XENEVTCHN_NO_CLOEXEC) ? 0 : EFD_CLOEXEC;

	if (!h)
		return NULL;
	h->fd = eventfd(0, EFD_NONBLOCK | cloexec);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	shim.xce_fd = h->fd;
	shim.xce = h;
	shim_log("xenevtchn_open -> fd %d", h->fd);
	return h;
}

/* Live update hands the fd over; keep using it as our eventfd. */
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned open_flags)
{
	struct xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = fd;
	shim.xce_fd = fd;
	shim.xce = h;
	return h;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	if (shim.xce == xce) {
		shim.xce_fd = -1;
		shim.xce = NULL;
	}
	close(xce->fd);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct bridge *b;

	pthread_mutex_lock(&shim.lock);
	b = bridge_by_port((int)port);
	if (b)
		eventfd_raise(b->wake_fd);
	pthread_mutex_unlock(&shim.lock);
	return 0;
}

static int alloc_port(void)
{
	int p;

	pthread_mutex_lock(&shim.lock);
	p = shim.next_port++;
	pthread_mutex_unlock(&shim.lock);
	return p;
}

xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	return alloc_port();
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
			   evtchn_port_t remote_port)
{
	struct bridge *b;
	int port;

	pthread_mutex_lock(&shim.lock);
	port = shim.next_port++;
	b = bridge_by_domid(domid);
	if (b) {
		pthread_mutex_lock(&b->lock);
		b->port = port;
		if (b->bound_once) {
			/*
			 * A re-INTRODUCE: xenstored is about to zero the ring
			 * indexes.  Keep off the ring until it says CONNECTED,
			 * and forget half-moved messages, which it drops too.
			 */
			b->intf->connection = XENSTORE_RECONNECT;
			full_fence();
			b->msg_len = 0;
			if (b->in_pushed) {
				size_t len = first_request_len(b);

				memmove(b->in, b->in + len, b->in_len - len);
				b->in_len -= len;
				b->in_pushed = 0;
			}
			if (b->state == B_DRAINING)
				b->state = B_IDLE;
		}
		b->bound_once = true;
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&shim.lock);
	shim_log("xenevtchn_bind_interdomain(dom%u, remote %u) -> %d", domid,
		 remote_port, port);
	return port;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	/* VIRQ_DOM_EXC: no domain ever dies on its own here, so never fires. */
	return alloc_port();
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct bridge *b;

	pthread_mutex_lock(&shim.lock);
	b = bridge_by_port((int)port);
	if (b) {
		pthread_mutex_lock(&b->lock);
		b->port = 0;
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&shim.lock);
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	/*
	 * xenstored only asks after poll() saw the fd readable, and treats -1
	 * as fatal; it scans every domain ring anyway, so the port returned
	 * only needs to be a plausible one.
	 */
	eventfd_clear(xce->fd);
	return __atomic_load_n(&shim.pending_port, __ATOMIC_RELAXED);
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	return 0;
}
