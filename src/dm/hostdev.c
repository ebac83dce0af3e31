// SPDX-License-Identifier: MIT
/*
 * The host devices as the device model reaches them, which depends on
 * where it runs.  In dom0 (QEMU in dom0) it reads and writes their config
 * space directly (the privileged hypervisor ops stand for dom0's sysfs).
 * In a stub domain (--dm-domid S) it has no such privilege: QEMU there
 * opens /sys/bus/pci/devices/<BDF>/config of the stub's own kernel, whose
 * pcifront forwards every access to pciback as for any PV guest.  Here
 * that kernel is S's xpt-guest, asked on its query socket (DIR/guest/S):
 *
 *   pci-dev BDF                     is the device in the stub (sysfs)?
 *   conf-read BDF REG SIZE          value 0x...
 *   conf-write BDF REG SIZE VALUE   ok
 *
 * so pciback filters the device model's writes as a guest's: registers
 * no field covers reach the device only when it is permissive, which is
 * why a Linux stub domain needs permissive passthrough.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

#define FRONT_TIMEOUT_S 5	/* longer than the stub's pci_op timeout */

int dm_hv_open(struct dm *d)
{
	int r;

	if (d->hv)
		return 0;
	r = d->dm_domid ? hv_open_domain(d->rundir, d->dm_domid, &d->hv) :
	    hv_open(d->rundir, &d->hv);
	if (r < 0)
		d->hv = NULL;
	return r;
}

static void front_close(struct dm *d)
{
	if (d->front_fd >= 0)
		close(d->front_fd);
	d->front_fd = -1;
}

static int front_connect(struct dm *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = FRONT_TIMEOUT_S };
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->front_path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	d->front_fd = fd;
	return 0;
}

/* Read reply lines up to "end"; the first one, without its newline, in
 * reply (-EPROTO when it does not fit: a value cut short is another
 * value).  The stub answers one request at a time, in order. */
static int front_reply(struct dm *d, char *reply, size_t len)
{
	char buf[1024];
	size_t n = 0;
	ssize_t got;

	for (;;) {
		buf[n] = '\0';
		if (!strncmp(buf, "end\n", 4) || strstr(buf, "\nend\n"))
			break;
		if (n == sizeof(buf) - 1)
			return -E2BIG;
		got = read(d->front_fd, buf + n, sizeof(buf) - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 && errno == EAGAIN ? -ETIMEDOUT :
			       got < 0 ? -errno : -ECONNRESET;
		n += (size_t)got;
	}
	n = strcspn(buf, "\n");
	if (n >= len)
		return -EPROTO;
	memcpy(reply, buf, n);
	reply[n] = '\0';
	return 0;
}

/* One request to the stub's kernel; a connection it dropped is made
 * again once. */
static int front_call(struct dm *d, const char *req, char *reply,
		      size_t len)
{
	size_t rl = strlen(req);
	int attempt, r = -ENOTCONN;

	for (attempt = 0; attempt < 2; attempt++) {
		if (d->front_fd < 0 && (r = front_connect(d)) < 0)
			break;
		if (send(d->front_fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl)
			r = errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
		else if ((r = front_reply(d, reply, len)) == 0)
			break;
		front_close(d);
		if (r == -ETIMEDOUT)
			break;	/* a stuck stub: do not wait twice */
	}
	/* once per outage: a guest's config scan would repeat it */
	if (r < 0 && !d->front_failing)
		log_warn("domain %u: the stub domain's kernel at %s: %s (its "
			 "devices read all ones meanwhile)", d->domid,
			 d->front_path, strerror(-r));
	else if (r == 0 && d->front_failing)
		log_info("domain %u: the stub domain's kernel answers again",
			 d->domid);
	d->front_failing = r < 0;
	return r;
}

int hostdev_visible(struct dm *d, uint32_t sbdf)
{
	char req[64], reply[256], bdf[16];

	if (!d->front_path[0])
		return 0;	/* dom0 sees every host device */
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	snprintf(req, sizeof(req), "pci-dev %s\n", bdf);
	if (front_call(d, req, reply, sizeof(reply)) < 0)
		return -ENOENT;
	return strncmp(reply, "dev ", 4) ? -ENOENT : 0;
}

int hostdev_parse_value(const char *reply, uint32_t size,
			uint32_t *ret_value)
{
	const char *s = reply + 6, *digits = "0123456789";
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	unsigned long v;
	int base = 10;

	if (strncmp(reply, "value ", 6))
		return -EIO;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		digits = "0123456789abcdefABCDEF";
	}
	/* digits only: strtoul would also take blanks, a sign or nothing */
	if (!*s || s[strspn(s, digits)])
		return -EIO;
	errno = 0;
	v = strtoul(s, NULL, base);
	if (errno || v > mask)	/* wider than the access: not sysfs's */
		return -EIO;
	*ret_value = (uint32_t)v;
	return 0;
}

int hostdev_conf_read(struct dm *d, uint32_t sbdf, uint32_t reg,
		      uint32_t size, uint32_t *ret_value)
{
	char req[80], reply[256], bdf[16];
	int r;

	if (!d->front_path[0])
		return hv_pci_conf_read(d->hv, sbdf, reg, size, ret_value);
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	snprintf(req, sizeof(req), "conf-read %s %#x %u\n", bdf, reg, size);
	r = front_call(d, req, reply, sizeof(reply));
	if (r < 0)
		return r;
	return hostdev_parse_value(reply, size, ret_value);
}

int hostdev_conf_write(struct dm *d, uint32_t sbdf, uint32_t reg,
		       uint32_t size, uint32_t value)
{
	char req[96], reply[256], bdf[16];
	int r;

	if (!d->front_path[0])
		return hv_pci_conf_write(d->hv, sbdf, reg, size, value);
	hv_format_bdf(sbdf, bdf, sizeof(bdf));
	snprintf(req, sizeof(req), "conf-write %s %#x %u %#x\n", bdf, reg,
		 size, value);
	r = front_call(d, req, reply, sizeof(reply));
	if (r < 0)
		return r;
	if (strcmp(reply, "ok")) {
		log_debug("domain %u: conf-write %s %#x/%u: %s", d->domid,
			  bdf, reg, size, reply);
		return -EACCES;
	}
	return 0;
}

void hostdev_close(struct dm *d)
{
	if (d->front_path[0])
		front_close(d);
}
