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
 *                   or PVH guest first scans bus 0 again
 *
 * A PVH guest's dev lines add what its driver read through the device's
 * BAR, once it read it (guest-physical address and value):
 * ` mmio=0x<addr>:0x<value>`; its `state` line ends in ` pvh`.
 *   resume          act on backend states (after --hold-backend)
 *   shutdown <poweroff|reboot|suspend|crash>
 *
 * A PV guest's own view of one device, by its host address (BDF as
 * 0000:03:00.0 or 03:00.0): what a stub domain's device model reads and
 * writes in the stub's sysfs, answered by pci_op through pciback, which
 * filters as for any guest (writes to uncovered registers reach the
 * device only when it is permissive):
 *
 *   pci-dev BDF                     dev <guest-bdf> host=<bdf> ...
 *   conf-read BDF REG SIZE          value 0x<v>
 *   conf-write BDF REG SIZE VALUE   ok
 *
 * A PVH guest has conf-read and conf-write by its own (virtual) address
 * instead, 0000:00:dd.0, any slot: what its config accesses through vPCI
 * return (an empty slot reads all-ones).
 *
 * (REG, VALUE: decimal or 0x hex; SIZE 1, 2 or 4.)  A device the guest
 * does not have: `error ENODEV`; pciback's refusal: `error EIO pci_op:
 * XEN_PCI_ERR_<name>`.  A stub domain's `status` line adds
 * `stubdom target=<G> dm=running dm-pid=<pid>` (or dm=exited
 * dm-status=<n>, dm=refused).
 *
 * Test-only, a hostile guest (xpt-guest(8), HOSTILE FRONTEND): any pci_op
 * as given, COUNT times, answered with the last reply's err and value and
 * how many were answered, and an attempt to end the grant of the shared
 * page while the backend maps it:
 *
 *   pci-op CMD DOMAIN BUS DEVFN OFFSET SIZE VALUE NENT COUNT
 *                                   op err=<n> value=0x<v> sent=<n> ms=<n>
 *   end-grant                       ok, or the hypervisor's refusal
 *
 * Errors: `error <ERRNAME> <message>`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	char counts[GUEST_MAX_VEC * 24] = "", mmio[48] = "";
	unsigned long long total = 0;
	size_t n = 0;
	unsigned int i;
	int r;

	if (d->mmio_read)
		snprintf(mmio, sizeof(mmio), " mmio=0x%llx:0x%x",
			 (unsigned long long)d->mmio_addr, d->mmio_value);
	for (i = 0; i < d->nvec; i++) {
		total += d->count[i];
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, "%s%llu",
				      i ? "," : "",
				      (unsigned long long)d->count[i]);
	}
	r = snprintf(buf, len, "dev %04x:%02x:%02x.%x host=%s vendor=0x%04x "
		     "device=0x%04x class=0x%06x driver=%s irq=%s vectors=%u "
		     "count=%llu counts=%s%s\n",
		     HV_SBDF_SEG(d->sbdf), HV_SBDF_BUS(d->sbdf),
		     HV_SBDF_DEV(d->sbdf), HV_SBDF_FN(d->sbdf), d->host,
		     d->vendor, d->device, d->class, driver_state_name(d->drv),
		     driver_irq_name(d->irq), d->nvec, total, counts, mmio);
	return r < 0 || (size_t)r >= len ? -ENOSPC : 0;
}

static void query_status(struct guest *g, struct qclient *c)
{
	char line[512], sd[96] = "";
	unsigned int i;

	if (g->stubdom)
		stubdom_format_status(g, sd, sizeof(sd));
	snprintf(line, sizeof(line), "state frontend=%d backend=%d%s%s\n",
		 pcifront_frontend_state(g), g->backend_state,
		 g->hvm ? " hvm" : g->pvh ? " pvh" : "", sd);
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

static void query_shutdown(struct guest *g, struct qclient *c,
			   const struct query_req *q)
{
	char line[128];
	int r;

	r = hv_domain_shutdown(g->hv, HV_DOMID_SELF, q->reason);
	if (r < 0) {
		snprintf(line, sizeof(line), "error %s shutdown: %s\n",
			 query_errname(-r),
			 strerror(-r));
		query_put(c, line);
		return;
	}
	log_info("guest: shut down (%s)", q->reason_name);
	query_put(c, "ok\n");
	g->quit = true;
}

static const char *const pci_errnames[] = {
	"success", "dev_not_found", "invalid_offset", "access_denied",
	"not_implemented", "op_failed",
};

/* pciop's result: a XEN_PCI_ERR_* from the backend, or a negative errno */
static void query_pci_error(struct qclient *c, const char *what, int r)
{
	char line[160];

	if (r >= XEN_PCI_ERR_op_failed && r < 0)
		snprintf(line, sizeof(line), "error EIO %s: pci_op: "
			 "XEN_PCI_ERR_%s\n", what, pci_errnames[-r]);
	else
		snprintf(line, sizeof(line), "error %s %s: %s\n",
			 query_errname(-r), what, strerror(-r));
	query_put(c, line);
}

static void query_put_value(struct qclient *c, uint32_t v)
{
	char line[32];

	snprintf(line, sizeof(line), "value 0x%x\n", v);
	query_put(c, line);
}

/* The device whose host address is bdf, as the backend's dev-N says;
 * not before --sysfs-delay-ms passed since pcifront found it. */
static struct gdev *query_dev_by_host(struct guest *g, const char *bdf)
{
	uint32_t want, have;
	unsigned int i;

	if (hv_parse_bdf(bdf, &want) < 0)
		return NULL;
	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g->dev[i].used && hv_parse_bdf(g->dev[i].host, &have) == 0 &&
		    have == want && guest_now_ms() >= g->dev[i].sysfs_ms)
			return &g->dev[i];
	return NULL;
}

/* The answer to conf-read / conf-write: r from the access. */
static void query_conf_reply(struct qclient *c, const struct query_req *q,
			     int r)
{
	if (r != 0)
		query_pci_error(c, q->op == Q_CONF_READ ? "conf-read" :
				"conf-write", r);
	else if (q->op == Q_CONF_READ)
		query_put_value(c, q->value);
	else
		query_put(c, "ok\n");
}

/* A PVH guest's config access at its own address: any slot of its bus
 * 0, a device there or not. */
static void query_pvh_conf(struct guest *g, struct qclient *c,
			   struct query_req *q)
{
	char line[96];
	uint32_t sbdf;
	int r;

	if (hv_parse_bdf(q->bdf, &sbdf) < 0 || HV_SBDF_SEG(sbdf) ||
	    HV_SBDF_BUS(sbdf) || HV_SBDF_FN(sbdf)) {
		snprintf(line, sizeof(line), "error EINVAL %.20s: not a slot "
			 "of this guest's bus 0 (0000:00:dd.0)\n", q->bdf);
		query_put(c, line);
		return;
	}
	r = q->op == Q_CONF_READ ?
	    pvh_conf_read(g, sbdf, (int)q->reg, (int)q->size, &q->value) :
	    pvh_conf_write(g, sbdf, (int)q->reg, (int)q->size, q->value);
	query_conf_reply(c, q, r);
}

/* "pci-dev BDF", "conf-read BDF REG SIZE", "conf-write BDF REG SIZE V" */
static void query_pci(struct guest *g, struct qclient *c,
		      struct query_req *q)
{
	char line[512];
	struct gdev *d;
	int r;

	if (g->pvh && q->op != Q_PCI_DEV) {
		query_pvh_conf(g, c, q);
		return;
	}

	d = query_dev_by_host(g, q->bdf);
	if (!d) {
		snprintf(line, sizeof(line), "error ENODEV %.20s: no such "
			 "device in this guest\n", q->bdf);
		query_put(c, line);
		return;
	}
	if (q->op == Q_PCI_DEV) {
		if (query_format_dev(d, line, sizeof(line)) == 0)
			query_put(c, line);
		return;
	}
	r = q->op == Q_CONF_READ ?
	    pciop_conf_read(g, d->sbdf, (int)q->reg, (int)q->size, &q->value) :
	    pciop_conf_write(g, d->sbdf, (int)q->reg, (int)q->size, q->value);
	query_conf_reply(c, q, r);
}

/* The request lines: the whole line, or a first word and its arguments
 * (nwords of them, split at spaces; shutdown's is the rest of the line).
 * A PV guest's own view of a device has no HVM counterpart. */
static const struct {
	const char *name;
	enum query_op op;
	unsigned int nwords;
	bool pv_only;
} query_ops[] = {
	{ "status", Q_STATUS, 0, false },
	{ "reprobe", Q_REPROBE, 0, false },
	{ "resume", Q_RESUME, 0, true },
	{ "shutdown ", Q_SHUTDOWN, 1, false },
	{ "pci-dev ", Q_PCI_DEV, 1, true },
	{ "conf-read ", Q_CONF_READ, 3, true },
	{ "conf-write ", Q_CONF_WRITE, 4, true },
	{ "pci-op ", Q_PCI_OP, 9, true },
	{ "end-grant", Q_END_GRANT, 0, true },
};

static const struct {
	const char *name;
	uint32_t reason;
} query_reasons[] = {
	{ "poweroff", HV_SHUTDOWN_POWEROFF },
	{ "reboot", HV_SHUTDOWN_REBOOT },
	{ "suspend", HV_SHUTDOWN_SUSPEND },
	{ "crash", HV_SHUTDOWN_CRASH },
};

/* A decimal or 0x hex in 0..max, the whole word: nothing strtoul would
 * also take (a sign, blanks, a second 0x, octal for a leading 0). */
static int query_number(const char *s, unsigned long max, uint32_t *ret)
{
	const char *digits = "0123456789";
	unsigned long v;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		digits = "0123456789abcdefABCDEF";
	}
	if (!*s || s[strspn(s, digits)])
		return -EINVAL;
	errno = 0;
	v = strtoul(s, NULL, base);
	if (errno || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* BDF [REG SIZE [VALUE]]: exactly nwords words. */
static int query_pci_parse(char *args, unsigned int nwords,
			   struct query_req *q)
{
	char *w[5], *save = NULL;
	unsigned int n = 0;

	for (w[n] = strtok_r(args, " ", &save); w[n] && n < 4;
	     w[++n] = strtok_r(NULL, " ", &save))
		;
	if (n != nwords || w[n])
		return -EINVAL;
	q->bdf = w[0];
	if (n >= 3 && (query_number(w[1], 4095, &q->reg) < 0 ||
		       query_number(w[2], 4, &q->size) < 0 ||
		       (q->size != 1 && q->size != 2 && q->size != 4)))
		return -EINVAL;
	if (n == 4 && query_number(w[3], 0xffffffffu, &q->value) < 0)
		return -EINVAL;
	return 0;
}

/* CMD DOMAIN BUS DEVFN OFFSET SIZE VALUE NENT COUNT, every field as
 * the wire has it (OFFSET and SIZE are signed there: 0xffffffff is -1) */
static int query_raw_parse(char *args, struct query_req *q)
{
	uint32_t v[9];
	char *w, *save = NULL;
	unsigned int n = 0;

	for (w = strtok_r(args, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (n == 9 || query_number(w, 0xffffffffu, &v[n]) < 0)
			return -EINVAL;
		n++;
	}
	if (n != 9 || v[7] > SH_INFO_MAX_VEC || v[8] == 0 || v[8] > 1000000)
		return -EINVAL;
	memset(&q->raw, 0, sizeof(q->raw));
	q->raw.cmd = v[0];
	q->raw.domain = v[1];
	q->raw.bus = v[2];
	q->raw.devfn = v[3];
	q->raw.offset = (int32_t)v[4];
	q->raw.size = (int32_t)v[5];
	q->raw.value = v[6];
	q->nent = v[7];
	q->count = v[8];
	return 0;
}

int query_parse(char *line, bool pv, struct query_req *ret_req, char *err,
		size_t errlen)
{
	struct query_req q = { 0 };
	unsigned int i, n = sizeof(query_ops) / sizeof(query_ops[0]);
	size_t len = 0;
	char *args;

	for (i = 0; i < n; i++) {
		len = strlen(query_ops[i].name);
		if ((pv || !query_ops[i].pv_only) &&
		    (query_ops[i].nwords ? !strncmp(line, query_ops[i].name,
						    len) :
		     !strcmp(line, query_ops[i].name)))
			break;
	}
	if (i == n) {
		snprintf(err, errlen, "unknown request (status, reprobe, "
			 "resume, shutdown REASON, pci-dev, conf-read, "
			 "conf-write, pci-op, end-grant)");
		return -EINVAL;
	}
	q.op = query_ops[i].op;
	args = line + len;
	if (q.op == Q_SHUTDOWN) {
		n = sizeof(query_reasons) / sizeof(query_reasons[0]);
		for (i = 0; i < n && strcmp(args, query_reasons[i].name); i++)
			;
		if (i == n) {
			snprintf(err, errlen, "shutdown reason must be "
				 "poweroff, reboot, suspend or crash");
			return -EINVAL;
		}
		q.reason = query_reasons[i].reason;
		q.reason_name = query_reasons[i].name;
	} else if (q.op == Q_PCI_OP) {
		if (query_raw_parse(args, &q) < 0) {
			snprintf(err, errlen, "usage: pci-op CMD DOMAIN BUS "
				 "DEVFN OFFSET SIZE VALUE NENT(0..%d) "
				 "COUNT(1..1000000)", SH_INFO_MAX_VEC);
			return -EINVAL;
		}
	} else if (query_ops[i].nwords &&
		   query_pci_parse(args, query_ops[i].nwords, &q) < 0) {
		snprintf(err, errlen, "usage: pci-dev BDF, conf-read BDF REG "
			 "SIZE, conf-write BDF REG SIZE VALUE");
		return -EINVAL;
	}
	*ret_req = q;
	return 0;
}

/* pci-op: the op as given, count times (a flood); stops at the first
 * op the backend does not answer */
static void query_raw_op(struct guest *g, struct qclient *c,
			 const struct query_req *q)
{
	struct xen_pci_op op;
	int64_t t0 = guest_now_ms();
	char line[160];
	uint32_t sent;
	unsigned int i;
	int r = 0;

	for (sent = 0; sent < q->count; sent++) {
		op = q->raw;
		for (i = 0; i < q->nent; i++)
			op.msix_entries[i].entry = (uint16_t)i;
		r = pciop_call(g, &op);
		if (r < 0)
			break;
	}
	if (r < 0) {
		snprintf(line, sizeof(line), "error %s pci-op: %s after %u "
			 "answered\n", query_errname(-r), strerror(-r), sent);
		query_put(c, line);
		return;
	}
	snprintf(line, sizeof(line), "op err=%d value=0x%x sent=%u ms=%lld\n",
		 op.err, op.value, sent, (long long)(guest_now_ms() - t0));
	query_put(c, line);
}

/* end-grant: end the shared page's grant now, the backend mapping it */
static void query_end_grant(struct guest *g, struct qclient *c)
{
	char line[128];
	int r;

	if (!g->granted) {
		query_put(c, "error ENOENT end-grant: no grant\n");
		return;
	}
	r = hv_end_grant(g->hv, g->gref);
	if (r < 0) {
		snprintf(line, sizeof(line), "error %s end-grant %u: %s\n",
			 query_errname(-r), g->gref, strerror(-r));
		query_put(c, line);
		return;
	}
	g->granted = false;
	query_put(c, "ok\n");
}

static void query_request(struct guest *g, struct qclient *c, char *line)
{
	struct query_req q;
	char err[160], reply[200];
	unsigned int i;

	/* a PVH guest has conf-read and conf-write (at its own
	 * addresses), not pcifront's resume and pci-dev */
	if (query_parse(line, !g->hvm, &q, err, sizeof(err)) < 0 ||
	    (g->pvh && (q.op == Q_RESUME || q.op == Q_PCI_DEV) &&
	     snprintf(err, sizeof(err), "not for a PVH guest (it has no "
		      "pcifront): status, reprobe, shutdown REASON, "
		      "conf-read, conf-write") > 0)) {
		snprintf(reply, sizeof(reply), "error EINVAL %s\n", err);
		query_put(c, reply);
		query_put(c, "end\n");
		return;
	}
	switch (q.op) {
	case Q_STATUS:
		query_status(g, c);
		break;
	case Q_REPROBE:
		if (g->hvm || g->pvh)
			hvm_scan(g);
		for (i = 0; i < GUEST_MAX_DEVS; i++)
			if (g->dev[i].used)
				driver_reprobe(g, &g->dev[i]);
		query_put(c, "ok\n");
		break;
	case Q_RESUME:
		g->hold = false;
		pcifront_step(g);
		query_put(c, "ok\n");
		break;
	case Q_SHUTDOWN:
		query_shutdown(g, c, &q);
		break;
	case Q_PCI_DEV:
	case Q_CONF_READ:
	case Q_CONF_WRITE:
		query_pci(g, c, &q);
		break;
	case Q_PCI_OP:
		query_raw_op(g, c, &q);
		break;
	case Q_END_GRANT:
		query_end_grant(g, c);
		break;
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
