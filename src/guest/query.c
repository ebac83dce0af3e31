/* SPDX-License-Identifier: MIT */
/*
 * The query socket DIR/guest/<domid>: what the guest itself sees, for tests
 * and users, independent of the toolstack's records.  One request line,
 * reply lines, then `end`:
 *
 *   status          state frontend=<n> backend=<n>
 *                   dev <guest-bdf> host=<bdf|?> vendor=0x.. device=0x..
 *                       class=0x...... driver=<bound|failed|none>
 *                       irq=<msix|msi|intx|none> vectors=<n> count=<total>
 *                       counts=<c0,c1,...>
 *   reprobe         every bound driver re-allocates its vectors; an HVM
 *                   guest first scans bus 0 again (its only hotplug)
 *   resume          act on backend states (after --hold-backend)
 *   shutdown <poweroff|reboot|suspend|crash>
 *
 * Errors: `error <ERRNAME> <message>`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"

int query_open(struct guest *g)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[3800];
	unsigned int i;
	int fd, r;

	for (i = 0; i < GUEST_MAX_CLIENTS; i++)
		g->client[i].fd = -1;
	snprintf(dir, sizeof(dir), "%s/guest", g->rundir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = snprintf(g->sock_path, sizeof(g->sock_path), "%s/%u", dir,
		     g->domid);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(g->pid_path, sizeof(g->pid_path), "%s/%u.pid", dir, g->domid);
	strcpy(sa.sun_path, g->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(g->sock_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	g->listen_fd = fd;
	return 0;
}

void query_close(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_CLIENTS; i++)
		if (g->client[i].fd >= 0) {
			close(g->client[i].fd);
			g->client[i].fd = -1;
		}
	if (g->listen_fd >= 0) {
		close(g->listen_fd);
		unlink(g->sock_path);
	}
	g->listen_fd = -1;
}

void query_accept(struct guest *g)
{
	struct timeval tv = { .tv_sec = 1 };
	unsigned int i;
	int fd;

	fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < GUEST_MAX_CLIENTS && g->client[i].fd >= 0; i++)
		;
	if (i == GUEST_MAX_CLIENTS) {
		close(fd);
		return;
	}
	/* a client that stops reading must not stop the guest */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	g->client[i].fd = fd;
	g->client[i].len = 0;
}

static void query_put(struct qclient *c, const char *s)
{
	size_t len = strlen(s);

	if (c->fd >= 0 && send(c->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(c->fd);
		c->fd = -1;
	}
}

int query_format_dev(const struct gdev *d, char *buf, size_t len)
{
	char counts[GUEST_MAX_VEC * 24] = "";
	unsigned long long total = 0;
	size_t n = 0;
	unsigned int i;
	int r;

	for (i = 0; i < d->nvec; i++) {
		total += d->count[i];
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, "%s%llu",
				      i ? "," : "",
				      (unsigned long long)d->count[i]);
	}
	r = snprintf(buf, len, "dev %04x:%02x:%02x.%x host=%s vendor=0x%04x "
		     "device=0x%04x class=0x%06x driver=%s irq=%s vectors=%u "
		     "count=%llu counts=%s\n",
		     HV_SBDF_SEG(d->sbdf), HV_SBDF_BUS(d->sbdf),
		     HV_SBDF_DEV(d->sbdf), HV_SBDF_FN(d->sbdf), d->host,
		     d->vendor, d->device, d->class, driver_state_name(d->drv),
		     driver_irq_name(d->irq), d->nvec, total, counts);
	return r < 0 || (size_t)r >= len ? -ENOSPC : 0;
}

static void query_status(struct guest *g, struct qclient *c)
{
	char line[512];
	unsigned int i;

	snprintf(line, sizeof(line), "state frontend=%d backend=%d%s\n",
		 pcifront_frontend_state(g), g->backend_state,
		 g->hvm ? " hvm" : "");
	query_put(c, line);
	for (i = 0; i < GUEST_MAX_DEVS; i++) {
		if (!g->dev[i].used)
			continue;
		driver_poll_irqs(&g->dev[i]);
		if (query_format_dev(&g->dev[i], line, sizeof(line)) == 0)
			query_put(c, line);
	}
}

static const char *query_errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "EIO";
}

static const struct {
	const char *name;
	uint32_t reason;
} query_reasons[] = {
	{ "poweroff", HV_SHUTDOWN_POWEROFF },
	{ "reboot", HV_SHUTDOWN_REBOOT },
	{ "suspend", HV_SHUTDOWN_SUSPEND },
	{ "crash", HV_SHUTDOWN_CRASH },
};

static void query_shutdown(struct guest *g, struct qclient *c,
			   const char *arg)
{
	char line[128];
	unsigned int i;
	int r;

	for (i = 0; i < sizeof(query_reasons) / sizeof(query_reasons[0]); i++)
		if (!strcmp(arg, query_reasons[i].name))
			break;
	if (i == sizeof(query_reasons) / sizeof(query_reasons[0])) {
		query_put(c, "error EINVAL shutdown reason must be poweroff, "
			  "reboot, suspend or crash\n");
		return;
	}
	r = hv_domain_shutdown(g->hv, HV_DOMID_SELF, query_reasons[i].reason);
	if (r < 0) {
		snprintf(line, sizeof(line), "error %s shutdown: %s\n",
			 query_errname(-r),
			 strerror(-r));
		query_put(c, line);
		return;
	}
	log_info("guest: shut down (%s)", arg);
	query_put(c, "ok\n");
	g->quit = true;
}

static void query_request(struct guest *g, struct qclient *c, char *line)
{
	unsigned int i;

	if (!strcmp(line, "status")) {
		query_status(g, c);
	} else if (!strcmp(line, "reprobe")) {
		if (g->hvm)
			hvm_scan(g);
		for (i = 0; i < GUEST_MAX_DEVS; i++)
			if (g->dev[i].used)
				driver_reprobe(g, &g->dev[i]);
		query_put(c, "ok\n");
	} else if (!strcmp(line, "resume") && !g->hvm) {
		g->hold = false;
		pcifront_step(g);
		query_put(c, "ok\n");
	} else if (!strncmp(line, "shutdown ", 9)) {
		query_shutdown(g, c, line + 9);
	} else {
		query_put(c, "error EINVAL unknown request (status, reprobe, "
			  "resume, shutdown REASON)\n");
	}
	query_put(c, "end\n");
}

void query_input(struct guest *g, struct qclient *c)
{
	ssize_t n;
	char *nl;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while (c->fd >= 0 && (nl = strchr(c->buf, '\n'))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		query_request(g, c, c->buf);
		memmove(c->buf, c->buf + used, c->len - used + 1);
		c->len -= used;
	}
	if (c->fd >= 0 && c->len == sizeof(c->buf) - 1) {
		query_put(c, "error E2BIG request line too long\nend\n");
		close(c->fd);
		c->fd = -1;
	}
}
