// SPDX-License-Identifier: MIT
/*
 * Client side of the hypercall protocol: framing, fd passing, wrappers.
 *
 * Every call is bounded (hv_set_timeout, default HV_CALL_TIMEOUT_MS): a
 * hypervisor that stops answering costs the caller that long, then
 * -ETIMEDOUT.  The connection is closed at once, so a late reply can never
 * be taken for the answer to a later request; the next call dials again
 * (the control and domain sockets keep no per-connection state worth
 * losing) and says HELLO before its request.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hvclient.h"

struct hv_client {
	int fd;			/* -1: broken, dialled again by the next call */
	uint32_t seq;
	unsigned int domid;
	int timeout_ms;
	char path[108];		/* sun_path */
	pthread_mutex_t lock;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until fd has `events` or the deadline passes: 0, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;	/* POLLHUP/POLLERR: the I/O says which */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int hv_send(int fd, const void *buf, size_t len, int pass_fd,
		   int64_t deadline)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int r;

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&u.c), &pass_fd, sizeof(int));
	}
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return (size_t)n == len ? 0 : -EIO;
}

static ssize_t hv_recv(int fd, void *buf, size_t len, int *ret_fd,
		       int64_t deadline)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.b, .msg_controllen = sizeof(u.b),
	};
	struct cmsghdr *c;
	ssize_t n;
	int r;

	*ret_fd = -1;
	for (;;) {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	return n;
}

/* One request and its reply on fd; *ret_fd as hv_call's *fd_out. */
static int exchange(int fd, uint32_t seq, uint32_t op, const void *req,
		    uint32_t reqlen, int fd_in, void *rep, uint32_t replen,
		    int *ret_fd, int64_t deadline)
{
	char buf[HV_MSG_MAX];
	struct hv_msg m = { .op = op, .seq = seq, .len = reqlen };
	ssize_t n;
	int r;

	*ret_fd = -1;
	memcpy(buf, &m, sizeof(m));
	if (reqlen)
		memcpy(buf + sizeof(m), req, reqlen);
	r = hv_send(fd, buf, sizeof(m) + reqlen, fd_in, deadline);
	if (r < 0)
		return r;
	n = hv_recv(fd, buf, sizeof(buf), ret_fd, deadline);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(m))
		return n == 0 ? -ECONNRESET : -EPROTO;
	memcpy(&m, buf, sizeof(m));
	if (m.op != op || m.seq != seq || m.len != (size_t)n - sizeof(m))
		return -EPROTO;
	if (m.ret > 0 || m.ret < -4095)
		return -EPROTO;
	if (m.ret == 0 && rep) {
		memset(rep, 0, replen);
		memcpy(rep, buf + sizeof(m), m.len < replen ? m.len : replen);
	}
	return m.ret;
}

/* Errors after which the stream cannot be trusted to pair requests with
 * replies: the connection goes. */
static bool conn_broken(int r)
{
	return r == -ETIMEDOUT || r == -EPROTO || r == -ECONNRESET ||
	       r == -EPIPE || r == -ENOTCONN || r == -EIO;
}

/* Connect (bounded by SO_SNDTIMEO, which Unix sockets apply to connect)
 * and say HELLO.  Caller holds h->lock or owns h alone. */
static int dial(struct hv_client *h, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hv_hello hello = { .version = HV_PROTO_VERSION };
	int64_t left = deadline - mono_ms();
	struct timeval tv;
	int fd, r, rfd;

	if (left <= 0)
		return -ETIMEDOUT;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	memcpy(sa.sun_path, h->path, sizeof(h->path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT :
		    -errno;
		close(fd);
		return r;
	}
	r = exchange(fd, ++h->seq, HV_OP_HELLO, &hello, sizeof(hello), -1,
		     &hello, sizeof(hello), &rfd, deadline);
	if (rfd >= 0)
		close(rfd);
	if (r == 0 && h->fd == -2)
		h->domid = hello.domid;		/* first connection */
	else if (r == 0 && hello.domid != h->domid)
		r = -EPROTO;		/* someone else answers there now */
	if (r < 0) {
		close(fd);
		return r;
	}
	h->fd = fd;
	return 0;
}

static int hv_connect(const char *path, struct hv_client **ret)
{
	struct hv_client *h;
	int r;

	if (strlen(path) >= sizeof(h->path))
		return -ENAMETOOLONG;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -2;		/* never connected */
	h->timeout_ms = HV_CALL_TIMEOUT_MS;
	memcpy(h->path, path, strlen(path) + 1);
	pthread_mutex_init(&h->lock, NULL);
	r = dial(h, mono_ms() + h->timeout_ms);
	if (r < 0) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

int hv_open(const char *rundir, struct hv_client **ret)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/hv/control", rundir);
	return hv_connect(path, ret);
}

int hv_open_domain(const char *rundir, unsigned int domid,
		   struct hv_client **ret)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/hv/domain/%u", rundir, domid);
	return hv_connect(path, ret);
}

void hv_close(struct hv_client *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

unsigned int hv_self(const struct hv_client *h)
{
	return h->domid;
}

void hv_set_timeout(struct hv_client *h, int ms)
{
	pthread_mutex_lock(&h->lock);
	h->timeout_ms = ms > 0 ? ms : HV_CALL_TIMEOUT_MS;
	pthread_mutex_unlock(&h->lock);
}

int hv_call(struct hv_client *h, uint32_t op, const void *req,
	    uint32_t reqlen, int fd_in, void *rep, uint32_t replen,
	    int *fd_out)
{
	int64_t deadline;
	int fd = -1, r = 0;

	if (fd_out)
		*fd_out = -1;
	if (reqlen > HV_MSG_MAX - sizeof(struct hv_msg))
		return -E2BIG;
	pthread_mutex_lock(&h->lock);
	deadline = mono_ms() + h->timeout_ms;
	if (h->fd < 0)
		r = dial(h, deadline);
	if (r == 0)
		r = exchange(h->fd, ++h->seq, op, req, reqlen, fd_in, rep,
			     replen, &fd, deadline);
	if (conn_broken(r) && h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	pthread_mutex_unlock(&h->lock);
	if (fd >= 0) {
		if (fd_out && r == 0)
			*fd_out = fd;
		else
			close(fd);
	}
	return r;
}

#define CALL(op, req) hv_call(h, op, &(req), sizeof(req), -1, &(req), \
			      sizeof(req), NULL)

int hv_domain_create(struct hv_client *h, uint32_t flags, const char *name,
		     uint64_t memory_kb, uint32_t vcpus,
		     unsigned int *ret_domid)
{
	struct hv_domain_create c = {
		.flags = flags, .memory_kb = memory_kb, .vcpus = vcpus,
	};
	int r;

	snprintf(c.name, sizeof(c.name), "%s", name ? name : "");
	r = CALL(HV_OP_DOMAIN_CREATE, c);
	if (r == 0)
		*ret_domid = c.domid;
	return r;
}

static int hv_domid_op(struct hv_client *h, uint32_t op, unsigned int domid)
{
	struct hv_domid d = { .domid = domid };

	return CALL(op, d);
}

int hv_domain_unpause(struct hv_client *h, unsigned int domid)
{
	return hv_domid_op(h, HV_OP_DOMAIN_UNPAUSE, domid);
}

int hv_domain_pause(struct hv_client *h, unsigned int domid)
{
	return hv_domid_op(h, HV_OP_DOMAIN_PAUSE, domid);
}

int hv_domain_destroy(struct hv_client *h, unsigned int domid)
{
	return hv_domid_op(h, HV_OP_DOMAIN_DESTROY, domid);
}

int hv_domain_shutdown(struct hv_client *h, unsigned int domid,
		       uint32_t reason)
{
	struct hv_domain_shutdown s = { .domid = domid, .reason = reason };

	return CALL(HV_OP_DOMAIN_SHUTDOWN, s);
}

int hv_domain_getinfo(struct hv_client *h, unsigned int domid,
		      struct hv_domain_info *ret)
{
	struct hv_domid d = { .domid = domid };

	return hv_call(h, HV_OP_DOMAIN_GETINFO, &d, sizeof(d), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_domain_list_page(struct hv_client *h, unsigned int first_domid,
			unsigned int max, struct hv_domain_list *ret)
{
	struct hv_domain_list_req q = { .first_domid = first_domid,
					.max = max };
	int r = hv_call(h, HV_OP_DOMAIN_LIST, &q, sizeof(q), -1, ret,
			sizeof(*ret), NULL);

	if (r == 0 && ret->count > HV_DOMAIN_LIST_PAGE)
		r = -EPROTO;
	return r;
}

int hv_domain_list(struct hv_client *h, struct hv_domain_info **ret,
		   size_t *ret_n)
{
	struct hv_domain_list *page = malloc(sizeof(*page));
	struct hv_domain_info *all = NULL, *grown;
	unsigned int first = 0;
	size_t n = 0;
	int r;

	if (!page)
		return -ENOMEM;
	for (;;) {
		r = hv_domain_list_page(h, first, 0, page);
		if (r < 0)
			goto out;
		grown = realloc(all, (n + page->count + 1) * sizeof(*all));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		all = grown;
		memcpy(all + n, page->d, page->count * sizeof(*all));
		n += page->count;
		if (page->next_domid == 0)
			break;
		/* Ids only grow from page to page: the walk ends. */
		if (page->next_domid <= first || (page->count &&
		    page->next_domid <= page->d[page->count - 1].domid) ||
		    page->next_domid >= HV_DOMID_SELF) {
			r = -EPROTO;
			goto out;
		}
		first = page->next_domid;
	}
	*ret = all;
	*ret_n = n;
	all = NULL;
out:
	free(all);
	free(page);
	return r;
}

int hv_bind_virq_dom_exc(struct hv_client *h, unsigned int *ret_port,
			 int *ret_fd)
{
	struct hv_evtchn e = { 0 };
	int r = hv_call(h, HV_OP_BIND_VIRQ_DOM_EXC, &e, sizeof(e), -1, &e,
			sizeof(e), ret_fd);

	if (r == 0)
		*ret_port = e.port;
	return r;
}

int hv_evtchn_alloc_unbound(struct hv_client *h, unsigned int remote_domid,
			    unsigned int *ret_port)
{
	struct hv_evtchn e = { .remote_domid = remote_domid };
	int r = CALL(HV_OP_EVTCHN_ALLOC_UNBOUND, e);

	if (r == 0)
		*ret_port = e.port;
	return r;
}

int hv_evtchn_bind_interdomain(struct hv_client *h, unsigned int remote_domid,
			       unsigned int remote_port,
			       unsigned int *ret_port)
{
	struct hv_evtchn e = {
		.remote_domid = remote_domid, .remote_port = remote_port,
	};
	int r = CALL(HV_OP_EVTCHN_BIND_INTERDOMAIN, e);

	if (r == 0)
		*ret_port = e.port;
	return r;
}

int hv_evtchn_bind_pirq(struct hv_client *h, int pirq,
			unsigned int *ret_port)
{
	struct hv_evtchn e = { .pirq = (uint32_t)pirq };
	int r = CALL(HV_OP_EVTCHN_BIND_PIRQ, e);

	if (r == 0)
		*ret_port = e.port;
	return r;
}

int hv_evtchn_fd(struct hv_client *h, unsigned int port, int *ret_fd)
{
	struct hv_evtchn e = { .port = port };

	return hv_call(h, HV_OP_EVTCHN_FD, &e, sizeof(e), -1, &e, sizeof(e),
		       ret_fd);
}

int hv_evtchn_send(struct hv_client *h, unsigned int port)
{
	struct hv_evtchn e = { .port = port };

	return CALL(HV_OP_EVTCHN_SEND, e);
}

int hv_evtchn_close(struct hv_client *h, unsigned int port)
{
	struct hv_evtchn e = { .port = port };

	return CALL(HV_OP_EVTCHN_CLOSE, e);
}

int hv_evtchn_ack(int fd, uint64_t *ret_count)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n < 0)
		return errno == EAGAIN ? (*ret_count = 0, 0) : -errno;
	if (n != sizeof(v))
		return -EIO;
	*ret_count = v;
	return 0;
}

int hv_page_alloc(int *ret_fd, void **ret_map)
{
	void *p;
	int fd = memfd_create("xpt-page", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, HV_PAGE_SIZE) < 0) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	*ret_fd = fd;
	*ret_map = p;
	return 0;
}

int hv_grant_page(struct hv_client *h, unsigned int remote_domid, int memfd,
		  int readonly, uint32_t *ret_gref)
{
	struct hv_grant g = { .remote_domid = remote_domid,
			      .readonly = (uint32_t)!!readonly };
	int r = hv_call(h, HV_OP_GNTTAB_GRANT, &g, sizeof(g), memfd, &g,
			sizeof(g), NULL);

	if (r == 0)
		*ret_gref = g.gref;
	return r;
}

int hv_map_grant(struct hv_client *h, unsigned int granter, uint32_t gref,
		 int *ret_fd, void **ret_map)
{
	struct hv_grant g = { .remote_domid = granter, .gref = gref };
	void *p;
	int fd, r;

	r = hv_call(h, HV_OP_GNTTAB_MAP, &g, sizeof(g), -1, &g, sizeof(g),
		    &fd);
	if (r < 0)
		return r;
	if (fd < 0)
		return -EPROTO;
	p = mmap(NULL, HV_PAGE_SIZE, PROT_READ | (g.readonly ? 0 : PROT_WRITE),
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_map = p;
	return 0;
}

int hv_unmap_grant(struct hv_client *h, unsigned int granter, uint32_t gref)
{
	struct hv_grant g = { .remote_domid = granter, .gref = gref };

	return CALL(HV_OP_GNTTAB_UNMAP, g);
}

int hv_end_grant(struct hv_client *h, uint32_t gref)
{
	struct hv_grant g = { .gref = gref };

	return CALL(HV_OP_GNTTAB_END, g);
}

int hv_pci_list_page(struct hv_client *h, uint32_t first_sbdf,
		     unsigned int max, struct hv_pci_list *ret)
{
	struct hv_pci_list_req q = { .first_sbdf = first_sbdf, .max = max };
	int r = hv_call(h, HV_OP_PCI_LIST, &q, sizeof(q), -1, ret,
			sizeof(*ret), NULL);

	if (r == 0 && ret->count > HV_PCI_LIST_PAGE)
		r = -EPROTO;
	return r;
}

int hv_pci_list(struct hv_client *h, uint32_t **ret, size_t *ret_n)
{
	struct hv_pci_list *page = malloc(sizeof(*page));
	uint32_t *all = NULL, *grown, first = 0;
	size_t n = 0;
	int r;

	if (!page)
		return -ENOMEM;
	for (;;) {
		r = hv_pci_list_page(h, first, 0, page);
		if (r < 0)
			goto out;
		grown = realloc(all, (n + page->count + 1) * sizeof(*all));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		all = grown;
		memcpy(all + n, page->sbdf, page->count * sizeof(*all));
		n += page->count;
		if (page->next_sbdf == 0)
			break;
		/* SBDFs only grow from page to page: the walk ends. */
		if (page->next_sbdf <= first || (page->count &&
		    page->next_sbdf <= page->sbdf[page->count - 1])) {
			r = -EPROTO;
			goto out;
		}
		first = page->next_sbdf;
	}
	*ret = all;
	*ret_n = n;
	all = NULL;
out:
	free(all);
	free(page);
	return r;
}

int hv_physinfo(struct hv_client *h, uint32_t *ret_caps)
{
	struct hv_physinfo p;
	int r = hv_call(h, HV_OP_PHYSINFO, NULL, 0, -1, &p, sizeof(p), NULL);

	if (r == 0)
		*ret_caps = p.capabilities;
	return r;
}

int hv_readconsole(struct hv_client *h, char *buf, size_t len)
{
	struct hv_console *con = malloc(sizeof(*con));
	size_t n;
	int r;

	if (!con)
		return -ENOMEM;
	r = hv_call(h, HV_OP_READCONSOLE, NULL, 0, -1, con, sizeof(*con),
		    NULL);
	if (r == 0 && len) {
		n = con->len < sizeof(con->text) ? con->len : sizeof(con->text);
		n = n < len - 1 ? n : len - 1;
		memcpy(buf, con->text, n);
		buf[n] = '\0';
	}
	free(con);
	return r;
}

int hv_pci_info(struct hv_client *h, uint32_t sbdf, struct hv_pci_dev *ret)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return hv_call(h, HV_OP_PCI_INFO, &s, sizeof(s), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_pci_conf_read(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		     uint32_t size, uint32_t *ret_value)
{
	struct hv_pci_conf c = { .sbdf = sbdf, .offset = offset, .size = size };
	int r = CALL(HV_OP_PCI_CONF_READ, c);

	if (r == 0)
		*ret_value = c.value;
	return r;
}

int hv_pci_conf_write(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		      uint32_t size, uint32_t value)
{
	struct hv_pci_conf c = { .sbdf = sbdf, .offset = offset, .size = size,
				 .value = value };

	return CALL(HV_OP_PCI_CONF_WRITE, c);
}

int hv_pci_reset(struct hv_client *h, uint32_t sbdf)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return CALL(HV_OP_PCI_RESET, s);
}

int hv_pci_raise_irq(struct hv_client *h, uint32_t sbdf, uint32_t type,
		     uint32_t entry, int *ret_delivered)
{
	struct hv_pci_irq i = { .sbdf = sbdf, .type = type, .entry = entry };
	int r = CALL(HV_OP_PCI_RAISE_IRQ, i);

	if (r == 0 && ret_delivered)
		*ret_delivered = (int)i.delivered;
	return r;
}

static int hv_assign_op(struct hv_client *h, uint32_t op, unsigned int domid,
			uint32_t sbdf)
{
	struct hv_assign a = { .domid = domid, .sbdf = sbdf };

	return CALL(op, a);
}

int hv_test_assign_device(struct hv_client *h, uint32_t sbdf)
{
	return hv_assign_op(h, HV_OP_TEST_ASSIGN, 0, sbdf);
}

int hv_assign_device(struct hv_client *h, unsigned int domid, uint32_t sbdf)
{
	return hv_assign_op(h, HV_OP_ASSIGN, domid, sbdf);
}

int hv_deassign_device(struct hv_client *h, unsigned int domid,
		       uint32_t sbdf)
{
	return hv_assign_op(h, HV_OP_DEASSIGN, domid, sbdf);
}

static int hv_perm_op(struct hv_client *h, uint32_t op, unsigned int domid,
		      uint64_t first, uint64_t nr, int allow)
{
	struct hv_perm p = { .domid = domid, .allow = (uint32_t)!!allow,
			     .first = first, .nr = nr };

	return CALL(op, p);
}

int hv_iomem_permission(struct hv_client *h, unsigned int domid,
			uint64_t first_frame, uint64_t nr, int allow)
{
	return hv_perm_op(h, HV_OP_IOMEM_PERMISSION, domid, first_frame, nr,
			  allow);
}

int hv_ioport_permission(struct hv_client *h, unsigned int domid,
			 uint64_t first, uint64_t nr, int allow)
{
	return hv_perm_op(h, HV_OP_IOPORT_PERMISSION, domid, first, nr, allow);
}

int hv_irq_permission(struct hv_client *h, unsigned int domid, int pirq,
		      int allow)
{
	return hv_perm_op(h, HV_OP_IRQ_PERMISSION, domid, (uint64_t)pirq, 1,
			  allow);
}

int hv_map_pirq(struct hv_client *h, unsigned int domid, uint32_t type,
		uint32_t sbdf, uint32_t entry, int *ret_pirq)
{
	struct hv_map_pirq m = { .domid = domid, .type = type, .sbdf = sbdf,
				 .entry = entry, .pirq = -1 };
	int r = CALL(HV_OP_MAP_PIRQ, m);

	if (r == 0)
		*ret_pirq = m.pirq;
	return r;
}

int hv_unmap_pirq(struct hv_client *h, unsigned int domid, int pirq)
{
	struct hv_map_pirq m = { .domid = domid, .pirq = pirq };

	return CALL(HV_OP_UNMAP_PIRQ, m);
}

int hv_prepare_msix(struct hv_client *h, uint32_t sbdf)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return CALL(HV_OP_PREPARE_MSIX, s);
}

int hv_release_msix(struct hv_client *h, uint32_t sbdf)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return CALL(HV_OP_RELEASE_MSIX, s);
}

int hv_msix_state(struct hv_client *h, uint32_t sbdf,
		  struct hv_msix_state *ret)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return hv_call(h, HV_OP_MSIX_STATE, &s, sizeof(s), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_set_target(struct hv_client *h, unsigned int domid,
		  unsigned int target)
{
	struct hv_set_target t = { .domid = domid, .target = target };

	return CALL(HV_OP_SET_TARGET, t);
}

int hv_ioreq_server_create(struct hv_client *h, unsigned int domid,
			   unsigned int bufioreq, unsigned int *ret_id)
{
	struct hv_ioreq_server s = { .domid = domid, .bufioreq = bufioreq };
	int r = CALL(HV_OP_IOREQ_SERVER_CREATE, s);

	if (r == 0)
		*ret_id = s.id;
	return r;
}

int hv_ioreq_server_get_info(struct hv_client *h, unsigned int domid,
			     unsigned int id, struct hv_ioreq_server *ret,
			     int *ret_fd)
{
	struct hv_ioreq_server s = { .domid = domid, .id = id };
	int fd, r;

	r = hv_call(h, HV_OP_IOREQ_SERVER_GET_INFO, &s, sizeof(s), -1, ret,
		    sizeof(*ret), &fd);
	if (r == 0 && fd < 0)
		r = -EPROTO;
	if (r == 0 && ret_fd)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	return r;
}

static int hv_ioreq_range_op(struct hv_client *h, uint32_t op,
			     unsigned int domid, unsigned int id,
			     uint32_t type, uint64_t start, uint64_t end)
{
	struct hv_ioreq_range rg = { .domid = domid, .id = id, .type = type,
				     .start = start, .end = end };

	return CALL(op, rg);
}

int hv_ioreq_map_range(struct hv_client *h, unsigned int domid,
		       unsigned int id, uint32_t type, uint64_t start,
		       uint64_t end)
{
	return hv_ioreq_range_op(h, HV_OP_IOREQ_MAP_RANGE, domid, id, type,
				 start, end);
}

int hv_ioreq_unmap_range(struct hv_client *h, unsigned int domid,
			 unsigned int id, uint32_t type, uint64_t start,
			 uint64_t end)
{
	return hv_ioreq_range_op(h, HV_OP_IOREQ_UNMAP_RANGE, domid, id, type,
				 start, end);
}

int hv_ioreq_server_set_state(struct hv_client *h, unsigned int domid,
			      unsigned int id, int enabled)
{
	struct hv_ioreq_server s = { .domid = domid, .id = id,
				     .enabled = (uint32_t)!!enabled };

	return CALL(HV_OP_IOREQ_SERVER_SET_STATE, s);
}

int hv_ioreq_server_destroy(struct hv_client *h, unsigned int domid,
			    unsigned int id)
{
	struct hv_ioreq_server s = { .domid = domid, .id = id };

	return CALL(HV_OP_IOREQ_SERVER_DESTROY, s);
}

int hv_ioreq_fetch(struct hv_client *h, unsigned int domid, unsigned int id,
		   struct hv_ioreq *ret)
{
	struct hv_ioreq q = { .domid = domid, .id = id };

	return hv_call(h, HV_OP_IOREQ_FETCH, &q, sizeof(q), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_ioreq_complete(struct hv_client *h, unsigned int domid,
		      unsigned int id, unsigned int vcpu, uint64_t data)
{
	struct hv_ioreq q = { .domid = domid, .id = id, .vcpu = vcpu,
			      .data = data };

	return CALL(HV_OP_IOREQ_COMPLETE, q);
}

int hv_hvm_io(struct hv_client *h, struct hv_hvm_io *io)
{
	struct hv_hvm_io rep;
	int r = hv_call(h, HV_OP_HVM_IO, io, sizeof(*io), -1, &rep,
			sizeof(rep), NULL);

	if (r == 0)
		io->data = rep.data;
	return r;
}

int hv_hvm_port_read(struct hv_client *h, unsigned int vcpu, uint16_t port,
		     uint32_t size, uint32_t *ret_value)
{
	struct hv_hvm_io io = { .vcpu = vcpu, .type = HV_IOREQ_TYPE_PIO,
				.addr = port, .size = size,
				.dir = HV_IOREQ_READ };
	int r = hv_hvm_io(h, &io);

	if (r == 0)
		*ret_value = (uint32_t)io.data;
	return r;
}

int hv_hvm_port_write(struct hv_client *h, unsigned int vcpu, uint16_t port,
		      uint32_t size, uint32_t value)
{
	struct hv_hvm_io io = { .vcpu = vcpu, .type = HV_IOREQ_TYPE_PIO,
				.addr = port, .size = size,
				.dir = HV_IOREQ_WRITE, .data = value };

	return hv_hvm_io(h, &io);
}

/* CF8 for an access: enable, bus, devfn, dword register (bits 11:8 of
 * the register in CF8 bits 27:24, the extended form). */
static int cf8_select(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		      uint32_t reg, uint32_t size)
{
	uint32_t cf8;

	if (HV_SBDF_SEG(sbdf) || reg >= 4096 ||
	    (size != 1 && size != 2 && size != 4) || (reg & 3) + size > 4)
		return -EINVAL;
	cf8 = HV_CF8_ENABLE | (sbdf & 0xffff) << 8 | (reg & 0xfc) |
	      (reg & 0xf00) << 16;
	return hv_hvm_port_write(h, vcpu, 0xcf8, 4, cf8);
}

int hv_hvm_config_read(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		       uint32_t reg, uint32_t size, uint32_t *ret_value)
{
	int r = cf8_select(h, vcpu, sbdf, reg, size);

	if (r < 0)
		return r;
	return hv_hvm_port_read(h, vcpu, (uint16_t)(0xcfc + (reg & 3)), size,
				ret_value);
}

int hv_hvm_config_write(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
			uint32_t reg, uint32_t size, uint32_t value)
{
	int r = cf8_select(h, vcpu, sbdf, reg, size);

	if (r < 0)
		return r;
	return hv_hvm_port_write(h, vcpu, (uint16_t)(0xcfc + (reg & 3)), size,
				 value);
}

int hv_hvm_vector_fd(struct hv_client *h, unsigned int vector, int *ret_fd)
{
	struct hv_hvm_vector v = { .vector = vector };

	return hv_call(h, HV_OP_HVM_VECTOR_FD, &v, sizeof(v), -1, &v, sizeof(v),
		       ret_fd);
}

int hv_hvm_isa_irq_fd(struct hv_client *h, unsigned int irq, int *ret_fd)
{
	struct hv_isa_irq q = { .irq = (uint8_t)(irq > 0xff ? 0xff : irq) };

	return hv_call(h, HV_OP_HVM_ISA_IRQ_FD, &q, sizeof(q), -1, &q,
		       sizeof(q), ret_fd);
}

int hv_set_isa_irq_level(struct hv_client *h, unsigned int domid,
			 unsigned int irq, unsigned int level)
{
	struct hv_isa_irq q = {
		.domid = domid, .irq = (uint8_t)(irq > 0xff ? 0xff : irq),
		.level = (uint8_t)(level > 0xff ? 0xff : level),
	};

	return CALL(HV_OP_SET_ISA_IRQ_LEVEL, q);
}

int hv_bind_pt_irq(struct hv_client *h, const struct hv_pt_irq *b)
{
	struct hv_pt_irq q = *b;

	return CALL(HV_OP_BIND_PT_IRQ, q);
}

int hv_unbind_pt_irq(struct hv_client *h, const struct hv_pt_irq *b)
{
	struct hv_pt_irq q = *b;

	return CALL(HV_OP_UNBIND_PT_IRQ, q);
}

int hv_pt_irq_info(struct hv_client *h, unsigned int domid, int pirq,
		   struct hv_pt_irq *ret)
{
	struct hv_pt_irq q = { .domid = domid, .machine_irq = (uint32_t)pirq };

	return hv_call(h, HV_OP_PT_IRQ_INFO, &q, sizeof(q), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_vpci_conf_read(struct hv_client *h, uint32_t vcpu, uint32_t gsbdf,
		      uint32_t reg, uint32_t size, uint32_t *ret_value)
{
	struct hv_vpci_conf c = { .vcpu = vcpu, .sbdf = gsbdf, .reg = reg,
				  .size = size };
	int r = CALL(HV_OP_VPCI_CONF_READ, c);

	if (r == 0)
		*ret_value = c.value;
	return r;
}

int hv_vpci_conf_write(struct hv_client *h, uint32_t vcpu, uint32_t gsbdf,
		       uint32_t reg, uint32_t size, uint32_t value)
{
	struct hv_vpci_conf c = { .vcpu = vcpu, .sbdf = gsbdf, .reg = reg,
				  .size = size, .value = value };

	return CALL(HV_OP_VPCI_CONF_WRITE, c);
}

int hv_vpci_mmio_read(struct hv_client *h, uint32_t vcpu, uint64_t gaddr,
		      uint32_t size, uint64_t *ret_value)
{
	struct hv_vpci_mmio m = { .vcpu = vcpu, .size = size, .gaddr = gaddr };
	int r = CALL(HV_OP_VPCI_MMIO_READ, m);

	if (r == 0)
		*ret_value = m.value;
	return r;
}

int hv_vpci_mmio_write(struct hv_client *h, uint32_t vcpu, uint64_t gaddr,
		       uint32_t size, uint64_t value)
{
	struct hv_vpci_mmio m = { .vcpu = vcpu, .size = size, .gaddr = gaddr,
				  .value = value };

	return CALL(HV_OP_VPCI_MMIO_WRITE, m);
}

int hv_pci_device_remove(struct hv_client *h, uint32_t sbdf)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return CALL(HV_OP_PCI_DEVICE_REMOVE, s);
}

int hv_pci_device_add(struct hv_client *h, uint32_t sbdf)
{
	struct hv_pci_sbdf s = { .sbdf = sbdf };

	return CALL(HV_OP_PCI_DEVICE_ADD, s);
}

int hv_vpci_info(struct hv_client *h, unsigned int domid, uint32_t sbdf,
		 struct hv_vpci_info *ret)
{
	struct hv_vpci_info q = { .domid = domid, .sbdf = sbdf };

	return hv_call(h, HV_OP_VPCI_INFO, &q, sizeof(q), -1, ret,
		       sizeof(*ret), NULL);
}

int hv_parse_bdf(const char *s, uint32_t *ret_sbdf)
{
	unsigned int seg = 0, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bus, &dev, &fn, &n) == 4 &&
	    !s[n]) {
		/* full form */
	} else if (seg = 0, n = 0,
		   sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 && !s[n]) {
		/* bus:dev.fn */
	} else {
		return -EINVAL;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret_sbdf = HV_SBDF(seg, bus, dev, fn);
	return 0;
}

void hv_format_bdf(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", HV_SBDF_SEG(sbdf),
		 HV_SBDF_BUS(sbdf), HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));
}
