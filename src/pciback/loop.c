// SPDX-License-Identifier: MIT
/*
 * The daemon's single-threaded event loop: xenstore watch events (through
 * xs_fileno), the control socket, and the event channel of every connected
 * frontend.  Tests call pciback_loop_once() directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "log.h"
#include "pciback.h"

int pciback_epoll_add(struct pciback *pb, int fd, struct pb_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	if (epoll_ctl(pb->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void pciback_epoll_del(struct pciback *pb, int fd)
{
	epoll_ctl(pb->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int pciback_init(struct pciback *pb, struct xs_handle *xs,
		 struct hv_client *hv, unsigned int profile)
{
	int r;

	memset(pb, 0, sizeof(*pb));
	pb->xs = xs;
	pb->hv = hv;
	pb->profile = profile;
	pb->ctlfd = -1;
	pb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (pb->epfd < 0)
		return -errno;
	pb->xsfd = xs_fileno(xs);
	if (pb->xsfd < 0) {
		r = -errno;
		goto out;
	}
	pb->xs_src = (struct pb_src){ PB_SRC_XS, NULL };
	r = pciback_epoll_add(pb, pb->xsfd, &pb->xs_src);
	if (r < 0)
		goto out;
	if (!xs_watch(xs, PB_BACKEND_ROOT, "be")) {
		r = -errno;
		goto out;
	}
	return 0;
out:
	close(pb->epfd);
	pb->epfd = -1;
	return r;
}

void pciback_fini(struct pciback *pb)
{
	pciback_ctl_close_all(pb);
	pciback_backend_free_all(pb);
	for (size_t i = 0; i < pb->ndevs; i++)
		free(pb->devs[i]);
	free(pb->devs);
	pb->devs = NULL;
	pb->ndevs = 0;
	if (pb->epfd >= 0)
		close(pb->epfd);
	pb->epfd = -1;
}

static void xs_lost(struct pciback *pb);

static int drain_watches(struct pciback *pb)
{
	char **w;

	while ((w = xs_check_watch(pb->xs))) {
		pciback_xenbus_watch(pb, w[XS_WATCH_PATH], w[XS_WATCH_TOKEN]);
		free(w);
	}
	if (errno != EAGAIN)
		xs_lost(pb);
	return 0;
}

/* The store is gone (killed, crashed): keep serving the guests' pci_op
 * rings and the control socket, leave the backends as they are, and
 * reconnect when a store is back (pciback_xs_check). */
static void xs_lost(struct pciback *pb)
{
	if (pb->xs_lost)
		return;
	pb->xs_lost = true;
	pciback_epoll_del(pb, pb->xsfd);
	log_err("xenstore connection lost (xenstored died?): backends stay "
		"as they are; reconnecting once a second");
}

static int xs_reconnect(struct pciback *pb)
{
	struct xs_handle *xs = xs_open(0), *old = pb->xs;
	int fd, r;

	if (!xs)
		return -errno;
	if (!xs_watch(xs, PB_BACKEND_ROOT, "be") || (fd = xs_fileno(xs)) < 0) {
		r = -errno;
		xs_close(xs);
		return r;
	}
	pb->xs = xs;
	pb->xsfd = fd;
	r = pciback_epoll_add(pb, fd, &pb->xs_src);
	if (r < 0) {
		pb->xs = old;
		xs_close(xs);
		return r;
	}
	xs_close(old);
	pb->xs_lost = false;
	/* the watches fire once at once: a backend or frontend missing
	 * from this store is released as a removed one is */
	for (size_t i = 0; i < pb->nbes; i++) {
		struct pb_backend *be = pb->bes[i];

		if (be->fe_watched &&
		    !xs_watch(xs, be->festatepath, be->fetoken))
			log_err("domain %u: cannot watch %s again: %m",
				be->domid, be->festatepath);
	}
	log_info("xenstore is back: connected again, %zu backends to check",
		 pb->nbes);
	return 0;
}

void pciback_xs_check(struct pciback *pb)
{
	struct timespec ts;
	int64_t now;
	unsigned int n;
	char **ents;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - pb->xs_checked_ms < 1000)
		return;
	pb->xs_checked_ms = now;
	if (pb->xs_lost) {
		xs_reconnect(pb);
		return;
	}
	/* libxenstore's reader thread closes a dead connection without a
	 * word to xs_fileno: a request finds out */
	ents = xs_directory(pb->xs, XBT_NULL, PB_BACKEND_ROOT, &n);
	if (!ents && errno != ENOENT && errno != EACCES)
		xs_lost(pb);
	free(ents);
}

/* Wait up to timeout_ms for one batch of events and handle it.  Watch
 * events go last: they may free a backend whose event channel is in the
 * same batch. */
int pciback_loop_once(struct pciback *pb, int timeout_ms, bool *ret_stop)
{
	struct epoll_event evs[16];
	bool xs = false;
	int n;

	n = epoll_wait(pb->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct pb_src *src = evs[i].data.ptr;

		switch (src->type) {
		case PB_SRC_XS:
			xs = true;
			break;
		case PB_SRC_CTL_LISTEN:
			pciback_ctl_accept(pb);
			break;
		case PB_SRC_CTL_CONN:
			pciback_ctl_input(pb, src->obj);
			break;
		case PB_SRC_EVTCHN:
			pciback_op_service(pb, src->obj);
			break;
		case PB_SRC_SIGNAL:
			if (ret_stop)
				*ret_stop = true;
			break;
		}
	}
	if (xs)
		return drain_watches(pb);
	return 0;
}
