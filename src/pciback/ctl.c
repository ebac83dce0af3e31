// SPDX-License-Identifier: MIT
/*
 * The control socket, $rundir/pciback/control (what sysfs bind/unbind,
 * do_flr and `permissive` are for Linux's pciback): one request line, one
 * reply line `ok [text]` or `error <ERRNAME> <message>`; `list` sends one
 * line per seized device before its `ok <count>`.
 *
 *   seize BDF       bind to pciback: reset, save state, prepare_msix
 *   release BDF     unbind: reset, restore, release_msix (EBUSY if exported)
 *   reset BDF       reset the device, keeping its current header
 *   permissive BDF  let the guest write uncovered config space (until the
 *                   device is released by that guest)
 *   list            `BDF exported-to=<domid|->` per device, then `ok N`
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "pciback.h"

/* A reply's room: a few lines, and one line per device for `list`. */
#define PB_REPLY_MAX 16384
#define PB_LIST_LINE_MAX 48	/* "0000:00:00.0 exported-to=32752\n" */

static int reply_err(char *reply, size_t len, int err, const char *msg)
{
	const char *name = strerrorname_np(-err);

	snprintf(reply, len, "error %s %s\n", name ? name : "EIO",
		 msg[0] ? msg : strerror(-err));
	return err;
}

int pciback_ctl_request(struct pciback *pb, const char *line, char *reply,
			size_t len)
{
	char cmd[16], arg[64], extra[2], msg[200] = "";
	struct pb_dev *dev;
	uint32_t sbdf;
	int n, r;

	n = sscanf(line, "%15s %63s %1s", cmd, arg, extra);
	if (n < 1)
		return reply_err(reply, len, -EINVAL, "empty request");
	if (strcmp(cmd, "list") == 0) {
		size_t off = 0;

		if (n != 1)
			return reply_err(reply, len, -EINVAL,
					 "usage: list");
		for (size_t i = 0; i < pb->ndevs; i++) {
			char bdf[16], to[16] = "-";

			dev = pb->devs[i];
			pciback_format_bdf(dev->sbdf, bdf, sizeof(bdf));
			if (dev->be)
				snprintf(to, sizeof(to), "%u", dev->be->domid);
			n = snprintf(reply + off, len - off,
				     "%s exported-to=%s\n", bdf, to);
			if (n < 0 || (size_t)n >= len - off)
				goto too_long;
			off += (size_t)n;
		}
		n = snprintf(reply + off, len - off, "ok %zu\n", pb->ndevs);
		if (n < 0 || (size_t)n >= len - off)
			goto too_long;
		return 0;
too_long:
		snprintf(msg, sizeof(msg), "%zu devices: more than %zu bytes",
			 pb->ndevs, len);
		return reply_err(reply, len, -E2BIG, msg);
	}
	if (n != 2 || (strcmp(cmd, "seize") && strcmp(cmd, "release") &&
		       strcmp(cmd, "reset") && strcmp(cmd, "permissive"))) {
		snprintf(msg, sizeof(msg), "unknown request; expected seize, "
			 "release, reset or permissive BDF, or list");
		return reply_err(reply, len, -EINVAL, msg);
	}
	if (pciback_parse_bdf(arg, false, &sbdf) < 0) {
		snprintf(msg, sizeof(msg), "'%s' is not a PCI address "
			 "(DDDD:BB:SS.F)", arg);
		return reply_err(reply, len, -EINVAL, msg);
	}
	if (strcmp(cmd, "seize") == 0) {
		r = pciback_seize(pb, sbdf, msg, sizeof(msg));
	} else if (strcmp(cmd, "release") == 0) {
		r = pciback_release(pb, sbdf, msg, sizeof(msg));
	} else {
		dev = pciback_dev_find(pb, sbdf);
		if (!dev) {
			snprintf(msg, sizeof(msg), "%s is not seized by "
				 "pciback", arg);
			return reply_err(reply, len, -ENODEV, msg);
		}
		if (strcmp(cmd, "reset") == 0) {
			r = pciback_reset(pb, dev, false, msg, sizeof(msg));
		} else {
			dev->permissive = true;
			log_warn("%s: permissive: the guest may write any "
				 "config space field", arg);
			r = 0;
		}
	}
	if (r < 0)
		return reply_err(reply, len, r, msg);
	snprintf(reply, len, "ok%s%s\n", msg[0] ? " " : "", msg);
	return 0;
}

int pciback_ctl_listen(struct pciback *pb, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path) ||
	    strlen(path) >= sizeof(pb->ctlpath))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	pb->ctlfd = fd;
	strcpy(pb->ctlpath, path);
	pb->ctl_src = (struct pb_src){ PB_SRC_CTL_LISTEN, NULL };
	r = pciback_epoll_add(pb, fd, &pb->ctl_src);
	if (r < 0) {
		close(fd);
		pb->ctlfd = -1;
		unlink(path);
	}
	return r;
}

static void conn_close(struct pciback *pb, struct pb_ctl_conn *c)
{
	size_t i;

	pciback_epoll_del(pb, c->fd);
	close(c->fd);
	for (i = 0; i < pb->nconns && pb->conns[i] != c; i++)
		;
	if (i < pb->nconns) {
		memmove(&pb->conns[i], &pb->conns[i + 1],
			(pb->nconns - i - 1) * sizeof(*pb->conns));
		pb->nconns--;
	}
	free(c);
}

void pciback_ctl_accept(struct pciback *pb)
{
	struct timeval tv = { .tv_sec = 2 };
	struct pb_ctl_conn *c, **conns;
	int fd;

	fd = accept4(pb->ctlfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Replies are small; a client that does not read them is dropped. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	conns = realloc(pb->conns, (pb->nconns + 1) * sizeof(*conns));
	if (!c || !conns) {
		if (conns)
			pb->conns = conns;
		free(c);
		close(fd);
		return;
	}
	pb->conns = conns;
	c->fd = fd;
	c->src = (struct pb_src){ PB_SRC_CTL_CONN, c };
	if (pciback_epoll_add(pb, fd, &c->src) < 0) {
		close(fd);
		free(c);
		return;
	}
	pb->conns[pb->nconns++] = c;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void pciback_ctl_input(struct pciback *pb, struct pb_ctl_conn *c)
{
	char *reply, *nl;
	size_t cap;
	ssize_t n;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(pb, c);
		return;
	}
	c->len += (size_t)n;
	cap = PB_REPLY_MAX + pb->ndevs * PB_LIST_LINE_MAX;
	reply = malloc(cap);
	if (!reply) {
		conn_close(pb, c);
		return;
	}
	while ((nl = memchr(c->buf, '\n', c->len))) {
		bool bad = memchr(c->buf, '\0', (size_t)(nl - c->buf));

		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		if (bad) {
			reply_err(reply, cap, -EINVAL, "NUL in request");
		} else {
			log_debug("control: %s", c->buf);
			pciback_ctl_request(pb, c->buf, reply, cap);
		}
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len);
		if (send_all(c->fd, reply, strlen(reply)) < 0) {
			free(reply);
			conn_close(pb, c);
			return;
		}
	}
	if (c->len == sizeof(c->buf)) {
		reply_err(reply, cap, -EINVAL, "request too long");
		send_all(c->fd, reply, strlen(reply));
		free(reply);
		conn_close(pb, c);
		return;
	}
	free(reply);
}

void pciback_ctl_close_all(struct pciback *pb)
{
	while (pb->nconns)
		conn_close(pb, pb->conns[pb->nconns - 1]);
	free(pb->conns);
	pb->conns = NULL;
	if (pb->ctlfd >= 0) {
		pciback_epoll_del(pb, pb->ctlfd);
		close(pb->ctlfd);
		unlink(pb->ctlpath);
		pb->ctlfd = -1;
	}
}
