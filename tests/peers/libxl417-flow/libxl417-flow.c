/* SPDX-License-Identifier: MIT */
/*
 * A peer toolstack with libxl 4.17's PCI flow and its flaws, behind the
 * same command line as `xpt` for the verbs the toolstack tests use:
 *
 *   libxl417-flow create [-p] CONFIG [KEY=VALUE...]
 *   libxl417-flow destroy DOMAIN | reboot DOMAIN
 *   libxl417-flow pci-attach DOMAIN SPEC | pci-detach [-f] DOMAIN SPEC
 *   libxl417-flow pci-list DOMAIN
 *
 * It follows libxl 4.17's tools/libs/light/libxl_pci.c step by step, so the
 * tests in tests/toolstack/ can show each historic bug on it:
 *   - num_devs is read outside the transaction that writes index N, and a
 *     missing num_devs makes the transaction rm + mkdir both directories
 *     (concurrent first attach / append lose devices);
 *   - cold-plug writes one transaction per device (as in the lab), paced: it
 *     waits (bounded) for the backend to leave InitWait before the next
 *     device, so an old pciback always sees the first device alone and
 *     the interleaving is the observed one every time.  Real 4.17 does
 *     not wait; it races pciback (LIBXL417_FLOW=unpaced below);
 *   - hot-add waits for Connected before (outside the transaction), never
 *     after; detach finds the index outside its transactions;
 *   - a forced detach whose backend does not reach 4 leaves the nodes;
 *     destroy waits (10 s each) on a dead frontend;
 *   - `BB:DD.*` adds only the highest function (4.13+), but writes the
 *     marker of function 0;
 *   - detach revokes memory BARs with a 32-bit start (pre-XSA-476);
 *   - permissive is skipped when the device has no legacy IRQ (Arm, pci_add_dm_done);
 *   - a failed add removes the marker but not the IOMMU assignment or the
 *     permissions;
 *   - HVM (a domain whose /libxl/<domid>/type is "hvm", created by xpt with
 *     its device model; this peer starts none): the device goes to the
 *     device model by QMP device_add on $XPT_RUNDIR/qmp-libxl-<domid>, and
 *     a pciback backend entry is written as well, with state=7 from the
 *     second device on, which nobody answers: there is no pcifront in an
 *     HVM guest (docs/protocol.md section 4.5); detach sends device_del and
 *     waits for DEVICE_DELETED for libxl's 10 s QMP bound;
 *   - HVM with its device model in a stub domain S (the guest's
 *     /local/domain/<domid>/image/device-model-domid, S's target naming the
 *     guest back): libxl__device_pci_add gives the device to S first, as a
 *     PV hot-plug (permissions and PIRQ for S, no IOMMU assignment, an
 *     entry in S's own backend with `starting` forced false, also at
 *     create), waits up to 60 s for S's backend to be Connected, then
 *     sends device_add to the device model in S, retried up to 10 times
 *     1 s apart (0f4fd6b6d8: S may not see the device yet), and assigns
 *     the device to the guest; no backend for the guest (83aa53f110).
 *     pci-list and the configuration a reboot retrieves read the guest's
 *     own backend only, so such a guest lists nothing and a reboot drops
 *     its devices; pci-detach fails ("unable to remove device", rc -3)
 *     because do_pci_remove looks the device up in that empty list, as
 *     the lab showed with xl 4.17 (docs/protocol.md section 4.6);
 *   - create/reboot/destroy of an HVM guest (type = "hvm"): the domains
 *     and the device model (in a stub domain or not) are built and torn
 *     down by $LIBXL417_XPT (xpt): `xpt create -p CONFIG ... pci=[]`,
 *     then this peer cold-plugs the devices as libxl does once the device
 *     model started (domcreate_devmodel_started), then `xpt unpause`.
 *     Destroy runs libxl's destroy_all on the guest's list first, then
 *     `xpt destroy`.
 * Older behaviour, by the commit that fixed it, with env LIBXL417_FLOW set
 * to a comma list: pre-73ee2795aa (hot-add waits for a backend that does
 * not exist), pre-70628d024da4 (cold-plug waits for the unstarted guest),
 * pre-0fdb48ffe7 (the first hot-added device is missing from the saved
 * config), pre-c19434d928 (reboot keeps only the first device),
 * pre-c9cccbdff8 (an HVM detach whose device_del times out fails even
 * when forced, and leaves the device assigned to the guest),
 * pre-0f4fd6b6d8 (a failed device_add to a stub domain's device model is
 * not retried), pre-18f93842ac (a stub domain's pass takes the guest's
 * `starting`: at create its devices go in by the cold-plug path into the
 * running stub domain's backend, after the first without waiting for
 * Connected and without Reconfiguring, which a connected pciback
 * ignores; also pre-0f4fd6b6d8, which is later),
 * pre-6dd94cf1b1 and pre-4.6 (a stub domain's start, below),
 * num-devs-last (Jan Beulich's experiment of March 2021: num_devs written
 * after the devices), unpaced (cold-plug without the pace: libxl 4.17 as
 * it is, racing pciback's setup).  LIBXL417_WAIT_MS replaces
 * libxl__wait_for_backend's 10 s.  XPT_DELAY="point=ms,..." delays at the
 * points xpt names.
 *
 *
 * The stub-domain start of the 2015 thread ("libxl: Wait for QEMU startup
 * in stubdomain", RFC 7/7): with pre-6dd94cf1b1 or pre-4.6 this peer
 * builds an HVM guest with device_model_stubdomain_override = 1 itself,
 * as libxl__spawn_stub_dm does (G HVM and paused, S PV; S's target and
 * set_target in the hypervisor and xenstore, G's
 * image/device-model-domid, the device model's arguments under G's /vm
 * path readable by S only, /local/domain/S/device-model/G owned by S and
 * readable by G; S unpaused and its kernel booted), then:
 *   pre-6dd94cf1b1  waits for the device model's state under dom0's home,
 *                   /local/domain/0/device-model/G/state, as E. Shelton's
 *                   RFC did; the device model in S writes under its own
 *                   home, so the create times out after libxl's 30 s
 *                   (LIBXL417_WAIT_MS if set) and destroys both domains;
 *   pre-4.6         does not wait at all: the devices are cold-plugged
 *                   and G unpaused at once, its vCPUs possibly running
 *                   before the device model enabled its ioreq server.
 *
 * The guest kernel is $XPT_GUEST, started when the domain is unpaused (a
 * stub domain's as `--stubdom --dm-binary $XPT_LIBEXEC/xpt-dm`, an HVM
 * guest's with --hvm).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hvclient.h"

#define MAX_PCI 32
#define FUNC_ALL 0xffu

enum {
	V_PRE_73EE = 1 << 0,
	V_PRE_70628 = 1 << 1,
	V_PRE_0FDB = 1 << 2,
	V_PRE_C1943 = 1 << 3,
	V_NUMDEVS_LAST = 1 << 4,
	V_UNPACED = 1 << 5,
	V_PRE_C9CC = 1 << 6,
	V_PRE_0F4F = 1 << 7,
	V_PRE_18F9 = 1 << 8,
	V_PRE_6DD9 = 1 << 9,
	V_PRE_46 = 1 << 10,
};

#define STUB_WAIT_MS 60000	/* LIBXL_DEVICE_MODEL_START_TIMEOUT */
#define STUB_START_MS 30000	/* LIBXL_STUBDOM_START_TIMEOUT */
#define QMP_ADD_RETRIES 10	/* 0f4fd6b6d8, 1 s apart */

struct spec {
	unsigned int seg, bus, dev, fn;
	unsigned int func_mask;	/* 1 << fn, or FUNC_ALL */
	int vslot;		/* -1: none */
	int permissive, msitranslate, power_mgmt, seize;
	int rdm;		/* 0 strict, 1 relaxed */
	char name[65];
	bool has_bdf;
};

struct cfg {
	char name[65];
	unsigned long memory, vcpus;
	char passthrough[16];
	unsigned int npci;
	char pci[MAX_PCI][128];
	char type[8];
	unsigned int nextra;	/* other keys, kept for xpt (HVM builds) */
	char extra[16][256];
};

struct flow {
	const char *rundir;
	struct xs_handle *xs;
	struct hv_client *hv;
	int wait_ms;
	unsigned int variant;
	bool hvm;		/* the domain of pci-attach/-detach is HVM */
	unsigned int stub;	/* its stub domain, 0 none */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("libxl417-flow: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	fputs("libxl417-flow: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* XPT_DELAY="point=ms[,point=ms...]": an injected delay, not a settle. */
static void delay_at(const char *point)
{
	const char *d = getenv("XPT_DELAY"), *p;
	size_t l = strlen(point);

	for (p = d; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, point, l) && p[l] == '=') {
			long ms = strtol(p + l + 1, NULL, 10);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

			if (ms > 0)
				nanosleep(&ts, NULL);
			return;
		}
	}
}

/* spec grammar as libxlu_pci.c (4.15+) parses it */

static int hexval(const char *s, unsigned int max, unsigned int *ret)
{
	char *end;
	unsigned long v;

	if (!isxdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 16);
	if (*end || v > max)
		return -1;
	*ret = (unsigned int)v;
	return 0;
}

static int parse_bdf(const char *s, struct spec *p)
{
	char buf[64], *parts[3], *dot, *c;
	unsigned int n = 0, i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dot = strchr(buf, '.');
	if (!dot)
		return -1;
	*dot++ = '\0';
	parts[n++] = buf;
	for (c = buf; *c; c++)
		if (*c == ':') {
			if (n == 3)
				return -1;
			*c = '\0';
			parts[n++] = c + 1;
		}
	if (n < 2)
		return -1;
	i = 0;
	p->seg = 0;
	if (n == 3 && hexval(parts[i++], 0xffff, &p->seg) < 0)
		return -1;
	if (hexval(parts[i++], 0xff, &p->bus) < 0 ||
	    hexval(parts[i], 0x1f, &p->dev) < 0)
		return -1;
	if (!strcmp(dot, "*")) {
		p->fn = 0;
		p->func_mask = FUNC_ALL;
	} else {
		if (hexval(dot, 7, &p->fn) < 0)
			return -1;
		p->func_mask = 1u << p->fn;
	}
	p->has_bdf = true;
	return 0;
}

static int parse_spec(const char *s, struct spec *p)
{
	char buf[256], *tok, *save = NULL;
	bool first = true, name = false;
	unsigned int v;

	memset(p, 0, sizeof(*p));
	p->vslot = -1;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), first = false) {
		char *eq = strchr(tok, '='), *at;

		if (!eq) {
			if (!first || p->has_bdf)
				return -1;
			at = strchr(tok, '@');
			if (at) {
				*at++ = '\0';
				if (hexval(at, 0x1f, &v) < 0)
					return -1;
				p->vslot = (int)v;
			}
			if (parse_bdf(tok, p) < 0)
				return -1;
			continue;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "bdf")) {
			if (p->has_bdf || parse_bdf(eq, p) < 0)
				return -1;
		} else if (!strcmp(tok, "vslot")) {
			if (hexval(eq, 0x1f, &v) < 0)
				return -1;
			p->vslot = (int)v;
		} else if (!strcmp(tok, "permissive")) {
			p->permissive = (int)strtol(eq, NULL, 10);
		} else if (!strcmp(tok, "msitranslate")) {
			p->msitranslate = (int)strtol(eq, NULL, 10);
		} else if (!strcmp(tok, "power_mgmt")) {
			p->power_mgmt = (int)strtol(eq, NULL, 10);
		} else if (!strcmp(tok, "seize")) {
			p->seize = (int)strtol(eq, NULL, 10);
		} else if (!strcmp(tok, "rdm_policy")) {
			if (!strcmp(eq, "strict"))
				p->rdm = 0;
			else if (!strcmp(eq, "relaxed"))
				p->rdm = 1;
			else
				return -1;
		} else if (!strcmp(tok, "name")) {
			if (strlen(eq) > 64)
				return -1;
			strcpy(p->name, eq);
			name = true;
		} else {
			return -1;
		}
	}
	return p->has_bdf ^ name ? 0 : -1;
}

static void fmt_bdf(const struct spec *p, unsigned int fn, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%01x", p->seg, p->bus, p->dev, fn);
}

static uint32_t sbdf_of(const struct spec *p, unsigned int fn)
{
	return HV_SBDF(p->seg, p->bus, p->dev, fn);
}

static void fmt_opts(const struct spec *p, char *buf, size_t len)
{
	snprintf(buf, len, "msitranslate=%d,power_mgmt=%d,permissive=%d,"
		 "rdm_policy=%s", p->msitranslate, p->power_mgmt,
		 p->permissive, p->rdm ? "relaxed" : "strict");
}

/* canonical text for the saved config */
static void fmt_spec(const struct spec *p, char *buf, size_t len)
{
	char bdf[32];

	if (p->func_mask == FUNC_ALL)
		snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.*", p->seg, p->bus,
			 p->dev);
	else
		fmt_bdf(p, p->fn, bdf, sizeof(bdf));
	snprintf(buf, len, "%s", bdf);
	if (p->vslot >= 0)
		snprintf(buf + strlen(buf), len - strlen(buf), "@%02x",
			 p->vslot);
	snprintf(buf + strlen(buf), len - strlen(buf),
		 ",permissive=%d,msitranslate=%d,power_mgmt=%d,rdm_policy=%s",
		 p->permissive, p->msitranslate, p->power_mgmt,
		 p->rdm ? "relaxed" : "strict");
}

/* xl.cfg subset */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static char *unquote(char *s)
{
	size_t l;

	s = trim(s);
	l = strlen(s);
	if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0]) {
		s[l - 1] = '\0';
		s++;
	}
	return s;
}

static int cfg_apply(struct cfg *c, char *kv)
{
	char *eq = strchr(kv, '='), *key, *val;

	if (!eq)
		return -1;
	*eq = '\0';
	key = trim(kv);
	val = trim(eq + 1);
	if (!strcmp(key, "name")) {
		snprintf(c->name, sizeof(c->name), "%s", unquote(val));
	} else if (!strcmp(key, "memory")) {
		c->memory = strtoul(unquote(val), NULL, 10);
	} else if (!strcmp(key, "vcpus")) {
		c->vcpus = strtoul(unquote(val), NULL, 10);
	} else if (!strcmp(key, "passthrough")) {
		snprintf(c->passthrough, sizeof(c->passthrough), "%s",
			 unquote(val));
	} else if (!strcmp(key, "pci")) {
		char *s = val, *q, *end;

		c->npci = 0;
		if (*s != '[')
			return -1;
		for (s++; (q = strpbrk(s, "'\"")); s = end + 1) {
			end = strchr(q + 1, *q);
			if (!end || c->npci == MAX_PCI)
				return -1;
			*end = '\0';
			snprintf(c->pci[c->npci++], sizeof(c->pci[0]), "%s",
				 q + 1);
		}
	} else if (!strcmp(key, "type")) {
		snprintf(c->type, sizeof(c->type), "%s", unquote(val));
	} else {
		/* kept as written, the last one of a key wins */
		size_t kl = strlen(key);
		unsigned int i;

		for (i = 0; i < c->nextra; i++)
			if (!strncmp(c->extra[i], key, kl) &&
			    c->extra[i][kl] == ' ')
				break;
		if (i == c->nextra && c->nextra < 16)
			c->nextra++;
		if (i < c->nextra)
			snprintf(c->extra[i], sizeof(c->extra[0]), "%s = %s",
				 key, val);
	}
	return 0;
}

static int cfg_read(const char *path, struct cfg *c)
{
	char line[4096];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *h = strchr(line, '#');

		if (h)
			*h = '\0';
		if (*trim(line) && cfg_apply(c, line) < 0) {
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

static void cfg_path(struct flow *fl, unsigned int domid, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/libxl417-flow/%u.cfg", fl->rundir, domid);
}

/* the configuration as xl.cfg text, at path (written whole, renamed) */
static int cfg_write_path(const char *path, const struct cfg *c)
{
	char tmp[4200];
	unsigned int i;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "name = \"%s\"\n", c->name);
	if (c->memory)
		fprintf(f, "memory = %lu\n", c->memory);
	if (c->vcpus)
		fprintf(f, "vcpus = %lu\n", c->vcpus);
	if (c->passthrough[0])
		fprintf(f, "passthrough = \"%s\"\n", c->passthrough);
	if (c->type[0])
		fprintf(f, "type = \"%s\"\n", c->type);
	for (i = 0; i < c->nextra; i++)
		fprintf(f, "%s\n", c->extra[i]);
	fprintf(f, "pci = [");
	for (i = 0; i < c->npci; i++)
		fprintf(f, "%s'%s'", i ? ", " : "", c->pci[i]);
	fprintf(f, "]\n");
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -errno;
	return 0;
}

static int cfg_write(struct flow *fl, unsigned int domid, const struct cfg *c)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/libxl417-flow", fl->rundir);
	mkdir(path, 0755);
	cfg_path(fl, domid, path, sizeof(path));
	return cfg_write_path(path, c);
}

/* libxl__lock_domain_userdata */
static int userdata_lock(struct flow *fl, unsigned int domid)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/libxl417-flow", fl->rundir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/libxl417-flow/%u.lock", fl->rundir,
		 domid);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

/* xenstore helpers */

static char *xread(struct flow *fl, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static char *xread(struct flow *fl, xs_transaction_t t, const char *fmt, ...)
{
	char path[512];
	unsigned int len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(fl->xs, t, path, &len);
}

static void xwrite(struct flow *fl, xs_transaction_t t, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void xwrite(struct flow *fl, xs_transaction_t t, const char *path,
		   const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	/* libxl__xs_writev's result is ignored, as libxl_pci.c does */
	xs_write(fl->xs, t, path, val, strlen(val));
}

static int read_int(struct flow *fl, xs_transaction_t t, const char *path,
		    int *ret)
{
	char *s = xread(fl, t, "%s", path), *end;
	long v;

	if (!s)
		return -ENOENT;
	v = strtol(s, &end, 10);
	if (!*s || *end) {
		free(s);
		return -EINVAL;
	}
	free(s);
	*ret = (int)v;
	return 0;
}

static void be_path(unsigned int domid, char *buf, size_t len)
{
	snprintf(buf, len, "/local/domain/0/backend/pci/%u/0", domid);
}

static void fe_path(unsigned int domid, char *buf, size_t len)
{
	snprintf(buf, len, "/local/domain/%u/device/pci/0", domid);
}

static bool commit(struct flow *fl, xs_transaction_t t)
{
	/* non-EAGAIN failures are ignored, as libxl does */
	return xs_transaction_end(fl->xs, t, false) || errno != EAGAIN;
}

static xs_transaction_t txn_start(struct flow *fl)
{
	xs_transaction_t t = xs_transaction_start(fl->xs);

	if (t == XBT_NULL)
		die("xs_transaction_start: %s", strerror(errno));
	return t;
}

/* libxl__wait_for_backend: the state node must exist, then reach want.
 * Event-driven (a watch) instead of libxl's 100 ms polls; same bound.
 * (device_pci_add_stubdom_wait is libxl__ev_devstate_wait, with
 * LIBXL_DEVICE_MODEL_START_TIMEOUT: the same wait, ms long.) */
static int wait_backend_ms(struct flow *fl, unsigned int domid, int want,
			   int ms)
{
	int64_t deadline = now_ms() + ms;
	char be[128], path[160];
	int st, r = -ETIMEDOUT;
	char **w;

	be_path(domid, be, sizeof(be));
	snprintf(path, sizeof(path), "%s/state", be);
	if (read_int(fl, XBT_NULL, path, &st) == -ENOENT) {
		err("Backend %s does not exist", be);
		return -ENOENT;
	}
	xs_watch(fl->xs, path, "wait");
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(fl->xs), .events = POLLIN };
		int64_t left;

		if (read_int(fl, XBT_NULL, path, &st) == 0 && st == want) {
			r = 0;
			break;
		}
		left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0)
			while ((w = xs_check_watch(fl->xs)))
				free(w);
	}
	xs_unwatch(fl->xs, path, "wait");
	if (r < 0)
		err("Backend %s not ready (state %d)", be, st);
	return r;
}

static int wait_for_backend(struct flow *fl, unsigned int domid, int want)
{
	return wait_backend_ms(fl, domid, want, fl->wait_ms);
}

/* the domain is PV for the PCI flow: a PV guest, or the stub domain of
 * the HVM guest under way (libxl__domain_type of the domid at hand) */
static bool dom_pv(const struct flow *fl, unsigned int domid)
{
	return !fl->hvm || (fl->stub && domid == fl->stub);
}

/* wait (bounded) until the backend left InitWait: the cold-plug pace */
static void wait_setup(struct flow *fl, unsigned int domid)
{
	int64_t deadline = now_ms() + fl->wait_ms;
	char path[160];
	int st;
	char **w;

	be_path(domid, path, sizeof(path));
	strcat(path, "/state");
	xs_watch(fl->xs, path, "pace");
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(fl->xs), .events = POLLIN };
		int64_t left = deadline - now_ms();

		if ((read_int(fl, XBT_NULL, path, &st) == 0 && st >= 3) ||
		    left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0)
			while ((w = xs_check_watch(fl->xs)))
				free(w);
	}
	xs_unwatch(fl->xs, path, "pace");
}

/* pciback's control socket (sysfs bind/unbind/do_flr/permissive) */
static int pciback(struct flow *fl, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + 10000;
	size_t n = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pciback/control",
		 fl->rundir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	reply[0] = '\0';
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;
		char *last;

		if (n >= len - 1 || left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		r = read(fd, reply + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		reply[n] = '\0';
		/* done at a line starting with ok / error */
		last = n >= 2 ? reply + n - 2 : reply;
		while (last > reply && last[-1] != '\n')
			last--;
		if (reply[n - 1] == '\n' && (!strncmp(last, "ok", 2) ||
					     !strncmp(last, "error", 5)))
			break;
	}
	close(fd);
	return strstr(reply, "error") == reply ? -EIO : 0;
}

/*
 * QMP, as libxl__ev_qmp speaks it to QEMU, reduced to what the PCI flow
 * sends: connect to the device model's socket, read the greeting, send
 * qmp_capabilities, then one command with an id and wait for the reply
 * with that id.  Events that arrive meanwhile are kept (a device model
 * may send DEVICE_DELETED before its reply to device_del).  Everything,
 * the connect included, is bounded by one deadline: libxl arms its
 * LIBXL_QMP_CMD_TIMEOUT (10 s) timer before it connects.
 */
#define QMP_TIMEOUT_MS 10000

struct qmp {
	int fd;
	int64_t deadline;
	unsigned int id;
	size_t len;
	char buf[65536];	/* bytes read, not yet a line */
	char events[4096];	/* the event lines seen, '\n' separated */
};

/* one line, without its "\r\n"; -ETIMEDOUT at the deadline */
static int qmp_line(struct qmp *q, char *line, size_t len)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int64_t left;
		ssize_t r;

		if (nl) {
			size_t l = (size_t)(nl - q->buf), k = l;

			if (k && q->buf[k - 1] == '\r')
				k--;
			snprintf(line, len, "%.*s", (int)k, q->buf);
			q->len -= l + 1;
			memmove(q->buf, nl + 1, q->len);
			return 0;
		}
		if (q->len == sizeof(q->buf))
			return -EMSGSIZE;
		left = q->deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		q->len += (size_t)r;
	}
}

static bool qmp_is_event(const char *line)
{
	return strstr(line, "\"event\"") && !strstr(line, "\"return\"") &&
	       !strstr(line, "\"error\"");
}

/* an event line in q->events names event and contains what */
static bool qmp_event_seen(const struct qmp *q, const char *event,
			   const char *what)
{
	const char *l;

	for (l = q->events; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 :
					      l + strlen(l)) {
		const char *end = strchr(l, '\n'), *e = strstr(l, event),
			   *w = strstr(l, what);

		if (e && w && (!end || (e < end && w < end)))
			return true;
	}
	return false;
}

/* send EXECUTE (ARGS a JSON object or NULL) and wait for its reply; the
 * reply line in reply, an error's "desc" in reply too */
static int qmp_exec(struct qmp *q, const char *execute, const char *args,
		    char *reply, size_t len)
{
	char req[1024], line[65536], idtag[2][32];
	int n, r;

	n = snprintf(req, sizeof(req), "{\"execute\": \"%s\"%s%s, \"id\": %u}"
		     "\r\n", execute, args ? ", \"arguments\": " : "",
		     args ? args : "", ++q->id);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -E2BIG;
	if (write(q->fd, req, (size_t)n) != n)
		return -EPIPE;
	snprintf(idtag[0], sizeof(idtag[0]), "\"id\": %u", q->id);
	snprintf(idtag[1], sizeof(idtag[1]), "\"id\":%u", q->id);
	for (;;) {
		r = qmp_line(q, line, sizeof(line));
		if (r < 0)
			return r;
		if (qmp_is_event(line)) {
			size_t l = strlen(q->events);

			snprintf(q->events + l, sizeof(q->events) - l, "%s\n",
				 line);
			continue;
		}
		if (strstr(line, idtag[0]) || strstr(line, idtag[1]))
			break;
	}
	if (strstr(line, "\"error\"")) {
		const char *d = strstr(line, "\"desc\"");
		const char *v = d ? strchr(d + 6, '"') : NULL;
		const char *end = v ? strchr(v + 1, '"') : NULL;

		snprintf(reply, len, "%.*s", end ? (int)(end - v - 1) : 0,
			 end ? v + 1 : "");
		return -EIO;
	}
	snprintf(reply, len, "%s", line);
	return 0;
}

/* connect, greeting, qmp_capabilities: the device model of domid */
static int qmp_open(struct flow *fl, unsigned int domid, int64_t deadline,
		    struct qmp *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[4096];
	int r;

	memset(q, 0, sizeof(*q));
	q->deadline = deadline;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-%u",
		 fl->rundir, domid);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -errno;
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(q->fd);
		q->fd = -1;
		return r;
	}
	r = qmp_line(q, line, sizeof(line));
	if (r == 0 && !strstr(line, "\"QMP\""))
		r = -EPROTO;
	if (r == 0)
		r = qmp_exec(q, "qmp_capabilities", NULL, line, sizeof(line));
	if (r < 0) {
		close(q->fd);
		q->fd = -1;
	}
	return r;
}

static void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/* libxl's QMP id of a passed-through device (PCI_PT_QDEV_ID) */
static void qdev_id(const struct spec *p, unsigned int fn, char *buf,
		    size_t len)
{
	snprintf(buf, len, "pci-pt-%02x_%02x.%01x", p->bus, p->dev, fn);
}

/* pci_add_qmp_device_add + pci_add_qmp_query_pci_cb: device_add, then
 * the guest slot the device model chose (ret_vslot) from query-pci */
static int qmp_device_add(struct flow *fl, unsigned int domid,
			  const struct spec *p, unsigned int fn, int *ret_vslot)
{
	char id[32], bdf[32], args[256], reply[65536];
	const char *at, *s;
	struct qmp q;
	unsigned int slot;
	int r, tries;

	qdev_id(p, fn, id, sizeof(id));
	fmt_bdf(p, fn, bdf, sizeof(bdf));
	snprintf(args, sizeof(args), "{\"driver\": \"xen-pci-passthrough\", "
		 "\"id\": \"%s\", \"hostaddr\": \"%s\"", id, bdf);
	if (p->vslot >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 ", \"addr\": \"%x.%x\"", (unsigned int)p->vslot, fn);
	if (p->permissive)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 ", \"permissive\": true");
	snprintf(args + strlen(args), sizeof(args) - strlen(args), "}");
	for (tries = 0;; tries++) {
		struct timespec second = { 1, 0 };

		r = qmp_open(fl, domid, now_ms() + QMP_TIMEOUT_MS, &q);
		if (r == 0)
			r = qmp_exec(&q, "device_add", args, reply,
				     sizeof(reply));
		/* 0f4fd6b6d8: with a stub domain an error (the device
		 * model cannot open the device yet) is tried again, on a
		 * 1 s timer, up to 10 times, each with its own QMP bound */
		if (r != -EIO || !fl->stub || (fl->variant & V_PRE_0F4F) ||
		    tries == QMP_ADD_RETRIES)
			break;
		qmp_close(&q);
		err("QMP device_add of %s to dom%u: %s; Retrying PCI add %d",
		    id, domid, reply, tries + 1);
		nanosleep(&second, NULL);
	}
	if (r == 0)
		r = qmp_exec(&q, "query-pci", NULL, reply, sizeof(reply));
	qmp_close(&q);
	if (r < 0) {
		err("QMP device_add of %s to dom%u: %s", id, domid,
		    r == -EIO ? reply : strerror(-r));
		return r;
	}
	/* ... "slot": S, ... "qdev_id": "<id>" */
	at = strstr(reply, id);
	for (s = at; s && s > reply && strncmp(s, "\"slot\"", 6); s--)
		;
	if (!at || !s || sscanf(s, "\"slot\": %u", &slot) != 1) {
		err("PCI device %s not found in query-pci of dom%u", id, domid);
		return -ENODEV;
	}
	*ret_vslot = (int)slot;
	return 0;
}

/* pci_remove_qmp_device_del: device_del, then wait until the device
 * model says the device is gone, all within LIBXL_QMP_CMD_TIMEOUT.
 * (libxl polls query-pci once a second for that; DEVICE_DELETED is the
 * same answer, sooner.) */
static int qmp_device_del(struct flow *fl, unsigned int domid,
			  const struct spec *p, unsigned int fn)
{
	char id[32], args[64], want[64], line[2048], reply[4096];
	struct qmp q;
	int r;

	qdev_id(p, fn, id, sizeof(id));
	snprintf(args, sizeof(args), "{\"id\": \"%s\"}", id);
	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	r = qmp_open(fl, domid, now_ms() + QMP_TIMEOUT_MS, &q);
	if (r == 0)
		r = qmp_exec(&q, "device_del", args, reply, sizeof(reply));
	while (r == 0 && !qmp_event_seen(&q, "\"DEVICE_DELETED\"", want)) {
		r = qmp_line(&q, line, sizeof(line));
		if (r == 0 && qmp_is_event(line))
			snprintf(q.events, sizeof(q.events), "%s\n", line);
	}
	qmp_close(&q);
	if (r == -EIO)
		err("QMP device_del of %s on dom%u: %s", id, domid, reply);
	else if (r < 0)
		err("timed out waiting for DM to remove %s from dom%u: %s", id,
		    domid, strerror(-r));
	return r;
}

/* bound to pciback (libxl: the directory entry under pciback/) */
static bool pciback_has(struct flow *fl, const char *bdf)
{
	static char list[16384];
	static bool have;
	char needle[40];

	if (!have && pciback(fl, "list", list, sizeof(list)) < 0)
		return false;
	have = true;
	snprintf(needle, sizeof(needle), "%s exported-to=", bdf);
	return strstr(list, needle) != NULL;
}

static void marker_path(const char *bdf, char *buf, size_t len)
{
	char b[32];
	size_t i;

	snprintf(b, sizeof(b), "%s", bdf);
	for (i = 0; b[i]; i++)
		if (b[i] == ':' || b[i] == '.')
			b[i] = '-';
	snprintf(buf, len, "/libxl/pci/%s/domid", b);
}

/* libxl_device_pci_assignable_list membership */
static bool assignable(struct flow *fl, const char *bdf)
{
	char path[128], *v;

	if (!pciback_has(fl, bdf))
		return false;
	marker_path(bdf, path, sizeof(path));
	v = xread(fl, XBT_NULL, "%s", path);
	free(v);
	return v == NULL;
}

/* libxl__create_pci_backend, in the caller's transaction */
static void create_backend(struct flow *fl, xs_transaction_t t,
			   unsigned int domid)
{
	struct xs_permissions fe_perms[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions be_perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	char be[128], fe[128], p[192], *name;

	be_path(domid, be, sizeof(be));
	fe_path(domid, fe, sizeof(fe));
	name = xread(fl, t, "/local/domain/%u/name", domid);
	xs_rm(fl->xs, t, fe);
	xs_rm(fl->xs, t, be);
	xs_mkdir(fl->xs, t, fe);
	xs_set_permissions(fl->xs, t, fe, fe_perms, 2);
	xs_mkdir(fl->xs, t, be);
	xs_set_permissions(fl->xs, t, be, be_perms, 2);
	snprintf(p, sizeof(p), "%s/backend", fe);
	xwrite(fl, t, p, "%s", be);
	snprintf(p, sizeof(p), "%s/backend-id", fe);
	xwrite(fl, t, p, "0");
	snprintf(p, sizeof(p), "%s/state", fe);
	xwrite(fl, t, p, "1");
	snprintf(p, sizeof(p), "%s/frontend", be);
	xwrite(fl, t, p, "%s", fe);
	snprintf(p, sizeof(p), "%s/frontend-id", be);
	xwrite(fl, t, p, "%u", domid);
	snprintf(p, sizeof(p), "%s/online", be);
	xwrite(fl, t, p, "1");
	snprintf(p, sizeof(p), "%s/state", be);
	xwrite(fl, t, p, "1");
	snprintf(p, sizeof(p), "%s/domain", be);
	xwrite(fl, t, p, "%s", name ? name : "");
	free(name);
}

static void be_key(unsigned int domid, const char *key, int n, char *buf,
		   size_t len)
{
	if (n < 0)
		snprintf(buf, len, "/local/domain/0/backend/pci/%u/0/%s",
			 domid, key);
	else
		snprintf(buf, len, "/local/domain/0/backend/pci/%u/0/%s-%d",
			 domid, key, n);
}

static void save_device(struct flow *fl, unsigned int domid,
			const struct spec *p)
{
	char path[4096];
	struct cfg c = { 0 };

	cfg_path(fl, domid, path, sizeof(path));
	if (cfg_read(path, &c) < 0 || c.npci == MAX_PCI)
		return;
	fmt_spec(p, c.pci[c.npci++], sizeof(c.pci[0]));
	cfg_write(fl, domid, &c);
}

/* libxl__device_pci_add_xenstore, flaws included */
static int add_xenstore(struct flow *fl, unsigned int domid,
			const struct spec *p, unsigned int fn, bool starting)
{
	char path[192], bdf[32], opts[128];
	xs_transaction_t t;
	int num = 0, lock = -1;
	bool have_num;

	be_key(domid, "num_devs", -1, path, sizeof(path));
	have_num = read_int(fl, XBT_NULL, path, &num) == 0;	/* TOCTOU */
	if (!have_num)
		num = 0;
	/* the wait is for a PV domain only: an HVM guest has no pcifront */
	if (dom_pv(fl, domid) && !starting && (have_num || (fl->variant & V_PRE_73EE)) &&
	    wait_for_backend(fl, domid, 4) < 0)
		return -EIO;
	if (starting && have_num && (fl->variant & V_PRE_70628) &&
	    wait_for_backend(fl, domid, 4) < 0)
		return -EIO;
	delay_at(starting ? "coldplug.in-txn" : "attach.before-txn");
	fmt_bdf(p, fn, bdf, sizeof(bdf));
	fmt_opts(p, opts, sizeof(opts));
	/* a stub domain's configuration is not the user's: not saved */
	if (!starting && !(fl->stub && domid == fl->stub)) {
		lock = userdata_lock(fl, domid);
		if (!(have_num == false && (fl->variant & V_PRE_0FDB))) {
			struct spec one = *p;

			one.fn = fn;
			one.func_mask = p->func_mask == FUNC_ALL ? FUNC_ALL :
				1u << fn;
			save_device(fl, domid, &one);
		}
	}
	do {
		t = txn_start(fl);
		if (!have_num)
			create_backend(fl, t, domid);
		if (!starting)
			delay_at("attach.in-txn");
		be_key(domid, "key", num, path, sizeof(path));
		xwrite(fl, t, path, "%s", bdf);
		be_key(domid, "dev", num, path, sizeof(path));
		xwrite(fl, t, path, "%s", bdf);
		if (p->vslot >= 0 && (p->vslot << 3 | (int)fn)) {
			be_key(domid, "vdevfn", num, path, sizeof(path));
			xwrite(fl, t, path, "%x", p->vslot << 3 | (int)fn);
		}
		if (p->name[0]) {
			be_key(domid, "name", num, path, sizeof(path));
			xwrite(fl, t, path, "%s", p->name);
		}
		be_key(domid, "opts", num, path, sizeof(path));
		xwrite(fl, t, path, "%s", opts);
		be_key(domid, "state", num, path, sizeof(path));
		xwrite(fl, t, path, "1");
		if (!(fl->variant & V_NUMDEVS_LAST)) {
			be_key(domid, "num_devs", -1, path, sizeof(path));
			xwrite(fl, t, path, "%d", num + 1);
		}
		if (num && !starting) {
			be_key(domid, "state", -1, path, sizeof(path));
			xwrite(fl, t, path, "7");
		}
	} while (!commit(fl, t));
	if (fl->variant & V_NUMDEVS_LAST) {
		/* the backend's watch runs between the two writes, as Jan
		 * Beulich observed */
		if (!have_num)
			wait_setup(fl, domid);
		be_key(domid, "num_devs", -1, path, sizeof(path));
		xwrite(fl, XBT_NULL, path, "%d", num + 1);
	}
	if (lock >= 0)
		close(lock);
	return 0;
}

/* pci_add_dm_done; for an HVM guest pci_add_qmp_device_add before it */
static int add_dm_done(struct flow *fl, unsigned int domid,
		       const struct spec *p, unsigned int fn, bool starting)
{
	struct hv_pci_dev info;
	struct spec dm = *p;
	char bdf[32], req[64], reply[256];
	unsigned int i;
	int r, pirq;

	fmt_bdf(p, fn, bdf, sizeof(bdf));
	r = hv_pci_info(fl->hv, sbdf_of(p, fn), &info);
	if (r < 0) {
		err("%s: %s", bdf, strerror(-r));
		return r;
	}
	for (i = 0; i < 6; i++) {
		if (!info.bar[i].size)
			continue;
		if (info.bar[i].flags & HV_BAR_IO)
			r = hv_ioport_permission(fl->hv, domid, info.bar[i].addr,
						 info.bar[i].size, 1);
		else
			r = hv_iomem_permission(fl->hv, domid,
						info.bar[i].addr >> 12,
						(info.bar[i].size + 4095) >> 12,
						1);
		if (r < 0) {
			err("%s: permission for bar%u: %s", bdf, i,
			    strerror(-r));
			return r;
		}
	}
	if (!info.intx_pin) {
		/* no /sys/.../irq (no legacy IRQ): libxl jumps to
		 * out_no_irq, past the permissive step */
		err("Couldn't open /sys/bus/pci/devices/%s/irq", bdf);
		goto out_no_irq;
	}
	r = hv_map_pirq(fl->hv, domid, HV_IRQ_INTX, sbdf_of(p, fn), 0, &pirq);
	if (r == 0)
		r = hv_irq_permission(fl->hv, domid, pirq, 1);
	if (r < 0) {
		err("%s: irq: %s", bdf, strerror(-r));
		return r;
	}
	if (p->permissive) {
		snprintf(req, sizeof(req), "permissive %s", bdf);
		if (pciback(fl, req, reply, sizeof(reply)) < 0)
			err("Setting permissive for device %s: %s", bdf, reply);
	}
out_no_irq:
	if (fl->stub && domid == fl->stub) {
		/* a stub domain is not assigned the device: its guest is;
		 * its entry goes in by hot-plug, also at create (starting
		 * forced false; before 18f93842ac passed through) */
		if (!(fl->variant & V_PRE_18F9))
			starting = false;
		return add_xenstore(fl, domid, &dm, fn, starting);
	}
	r = hv_assign_device(fl->hv, domid, sbdf_of(p, fn));
	if (r < 0 && r != -ENOSYS) {
		err("xc_assign_device failed for %s: %s", bdf, strerror(-r));
		return r;
	}
	if (!dom_pv(fl, domid)) {
		/* libxl asks QEMU before it assigns; xpt-dm, as the
		 * modelled hypervisor, takes only a device already
		 * assigned to its guest, so the QMP step comes here.  A
		 * refusal leaves the assignment (the flaw of bug 14). */
		r = qmp_device_add(fl, domid, p, fn, &dm.vslot);
		if (r < 0)
			return r;
	}
	/* the guest of a stub domain gets no backend (83aa53f110) */
	if (fl->stub)
		return 0;
	/* HVM too: libxl__device_pci_add_xenstore writes the backend entry
	 * and, from the second device on, state=7 (Reconfiguring), which
	 * nobody answers in an HVM guest (docs/protocol.md section 4.5) */
	return add_xenstore(fl, domid, &dm, fn, starting);
}

static int resolve_name(struct flow *fl, struct spec *p)
{
	char **ents;
	unsigned int n, i;
	int r = -ENOENT;

	if (p->has_bdf)
		return 0;
	ents = xs_directory(fl->xs, XBT_NULL, "/libxl/pci", &n);
	for (i = 0; ents && i < n; i++) {
		char *v = xread(fl, XBT_NULL, "/libxl/pci/%s/name", ents[i]);
		struct spec q;
		char b[32];
		size_t k;

		if (v && !strcmp(v, p->name)) {
			snprintf(b, sizeof(b), "%s", ents[i]);
			/* DDDD-BB-DD-F */
			for (k = 0; b[k]; k++)
				if (b[k] == '-')
					b[k] = k == 10 ? '.' : ':';
			if (parse_bdf(b, &q) == 0) {
				p->seg = q.seg;
				p->bus = q.bus;
				p->dev = q.dev;
				p->fn = q.fn;
				p->func_mask = 1u << q.fn;
				p->has_bdf = true;
				r = 0;
			}
		}
		free(v);
	}
	free(ents);
	if (r < 0)
		err("no assignable device named %s", p->name);
	return r;
}

/* libxl__device_pci_add */
static int pci_add(struct flow *fl, unsigned int domid, struct spec *p,
		   bool starting)
{
	char bdf[32], path[128], req[64], reply[256];
	int r, fn;

	if (resolve_name(fl, p) < 0)
		return -ENOENT;
	fmt_bdf(p, p->fn, bdf, sizeof(bdf));
	if (p->func_mask == FUNC_ALL) {
		for (fn = 7; fn >= 0; fn--) {
			char b[32];

			fmt_bdf(p, (unsigned int)fn, b, sizeof(b));
			if (pciback_has(fl, b))
				break;
		}
		if (fn < 0 || !assignable(fl, bdf)) {
			err("PCI device %s is not assignable", bdf);
			return -EINVAL;
		}
	} else if (!assignable(fl, bdf)) {
		err("PCI device %s is not assignable", bdf);
		return -EINVAL;
	}
	marker_path(bdf, path, sizeof(path));
	xwrite(fl, XBT_NULL, path, "%u", domid);
	snprintf(req, sizeof(req), "reset %s", bdf);
	if (pciback(fl, req, reply, sizeof(reply)) < 0)
		err("reset %s: %s", bdf, reply);	/* only logged */
	if (fl->stub) {
		/* do_pci_add(stubdomid), then device_pci_add_stubdom_wait:
		 * S's backend Connected within 60 s */
		r = add_dm_done(fl, fl->stub, p, p->fn, starting);
		if (r == 0)
			r = wait_backend_ms(fl, fl->stub, 4, STUB_WAIT_MS);
		if (r < 0)
			goto out;
	}
	if (p->func_mask == FUNC_ALL) {
		if (p->vslot < 0) {
			err("Must specify a v-slot for multi-function devices");
			r = -EINVAL;
			goto out;
		}
		/* device_pci_add_stubdom_done since 11db56f9a6 (4.13): the
		 * loop returns after the first (highest) function */
		for (fn = 7; fn >= 0; fn--) {
			char b[32];

			fmt_bdf(p, (unsigned int)fn, b, sizeof(b));
			if (pciback_has(fl, b))
				break;
		}
		r = add_dm_done(fl, domid, p, (unsigned int)fn, starting);
	} else {
		r = add_dm_done(fl, domid, p, p->fn, starting);
	}
out:
	if (r < 0)
		xs_rm(fl->xs, XBT_NULL, path);	/* device_pci_add_done */
	return r;
}

/* libxl_device_pci_list: libxl__device_pci_from_xs_be sscanfs dev-N */
static int pci_list(struct flow *fl, unsigned int domid, struct spec *out,
		    int max)
{
	char path[160], *v;
	int num, i;

	be_key(domid, "num_devs", -1, path, sizeof(path));
	if (read_int(fl, XBT_NULL, path, &num) < 0)
		return 0;
	for (i = 0; i < num && i < max; i++) {
		be_key(domid, "dev", i, path, sizeof(path));
		v = xread(fl, XBT_NULL, "%s", path);
		if (!v) {
			/* sscanf(NULL, ...): xl dies here (lab, 4.17.7) */
			fprintf(stderr, "Segmentation fault (dev-%d missing "
				"under backend/pci/%u/0)\n", i, domid);
			_exit(139);
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].vslot = -1;
		if (sscanf(v, "%x:%x:%x.%x", &out[i].seg, &out[i].bus,
			   &out[i].dev, &out[i].fn) != 4)
			memset(&out[i], 0, sizeof(out[i]));
		out[i].func_mask = 1u << (out[i].fn & 7);
		out[i].has_bdf = true;
		free(v);
		be_key(domid, "vdevfn", i, path, sizeof(path));
		v = xread(fl, XBT_NULL, "%s", path);
		if (v)
			out[i].vslot = (int)(strtoul(v, NULL, 16) >> 3);
		free(v);
		be_key(domid, "opts", i, path, sizeof(path));
		v = xread(fl, XBT_NULL, "%s", path);
		if (v) {
			char *s;

			if ((s = strstr(v, "permissive=")))
				out[i].permissive = s[11] == '1';
			if ((s = strstr(v, "msitranslate=")))
				out[i].msitranslate = s[13] == '1';
			if ((s = strstr(v, "power_mgmt=")))
				out[i].power_mgmt = s[11] == '1';
			out[i].rdm = strstr(v, "relaxed") != NULL;
		}
		free(v);
		be_key(domid, "name", i, path, sizeof(path));
		v = xread(fl, XBT_NULL, "%s", path);
		if (v)
			snprintf(out[i].name, sizeof(out[i].name), "%s", v);
		free(v);
	}
	return i;
}

static void move_key(struct flow *fl, xs_transaction_t t, unsigned int domid,
		     const char *key, int from, bool always)
{
	char src[160], dst[160], *v;

	be_key(domid, key, from, src, sizeof(src));
	be_key(domid, key, from - 1, dst, sizeof(dst));
	v = xread(fl, t, "%s", src);
	if (v || always) {
		xwrite(fl, t, dst, "%s", v ? v : "");
		xs_rm(fl->xs, t, src);
	}
	free(v);
}

/* libxl__device_pci_remove_xenstore */
static int remove_xenstore(struct flow *fl, unsigned int domid,
			   const struct spec *p, unsigned int fn)
{
	static const char *const keys[] = {
		"state", "key", "dev", "vdev", "opts", "vdevfn", "name",
	};
	char path[160], *v;
	xs_transaction_t t;
	int num, i, j;
	size_t k;

	be_key(domid, "num_devs", -1, path, sizeof(path));
	if (read_int(fl, XBT_NULL, path, &num) < 0)
		return -ENOENT;
	if (dom_pv(fl, domid) && wait_for_backend(fl, domid, 4) < 0)
		return -EIO;
	for (i = 0; i < num; i++) {
		unsigned int d[4];

		be_key(domid, "dev", i, path, sizeof(path));
		v = xread(fl, XBT_NULL, "%s", path);
		if (v && sscanf(v, "%x:%x:%x.%x", &d[0], &d[1], &d[2], &d[3]) == 4 &&
		    d[0] == p->seg && d[1] == p->bus && d[2] == p->dev &&
		    d[3] == fn) {
			free(v);
			break;
		}
		free(v);
	}
	if (i == num) {
		err("Couldn't find the device on xenstore");
		return -ENOENT;
	}
	delay_at("detach.in-txn");
	do {
		t = txn_start(fl);
		be_key(domid, "state", i, path, sizeof(path));
		xwrite(fl, t, path, "5");
		be_key(domid, "state", -1, path, sizeof(path));
		xwrite(fl, t, path, "7");
	} while (!commit(fl, t));
	if (dom_pv(fl, domid) && wait_for_backend(fl, domid, 4) < 0)
		return -EIO;
	delay_at("detach.before-compact");
	do {
		t = txn_start(fl);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			be_key(domid, keys[k], i, path, sizeof(path));
			xs_rm(fl->xs, t, path);
		}
		be_key(domid, "num_devs", -1, path, sizeof(path));
		xwrite(fl, t, path, "%d", num - 1);
		for (j = i + 1; j < num; j++) {
			move_key(fl, t, domid, "state", j, true);
			move_key(fl, t, domid, "dev", j, true);
			move_key(fl, t, domid, "key", j, true);
			move_key(fl, t, domid, "vdev", j, false);
			move_key(fl, t, domid, "opts", j, false);
			move_key(fl, t, domid, "vdevfn", j, false);
			move_key(fl, t, domid, "name", j, false);
		}
	} while (!commit(fl, t));
	if (num == 1) {
		char be[128], fe[128];

		/* libxl__device_destroy */
		be_path(domid, be, sizeof(be));
		fe_path(domid, fe, sizeof(fe));
		snprintf(path, sizeof(path), "/libxl/%u/device/pci/0", domid);
		do {
			t = txn_start(fl);
			xs_rm(fl->xs, t, fe);
			xs_rm(fl->xs, t, be);
			xs_rm(fl->xs, t, path);
		} while (!commit(fl, t));
	}
	return 0;
}

/* do_pci_remove + pci_remove_detached (4.17); an HVM guest's device
 * leaves its device model first (pci_remove_qmp_device_del), and when
 * that times out only a forced detach goes on, since c9cccbdff8 */
static int do_pci_remove(struct flow *fl, unsigned int domid,
			 const struct spec *p, unsigned int fn, bool force)
{
	struct spec list[64];
	struct hv_pci_dev info;
	char bdf[32], path[128], req[64], reply[256];
	int n, i;
	unsigned int b;

	fmt_bdf(p, fn, bdf, sizeof(bdf));
	n = pci_list(fl, domid, list, 64);
	if (n == 0) {
		/* no list at all (a stub domain's guest has no backend):
		 * ERROR_FAIL, and device_addrm_aocomplete says so (lab,
		 * xl 4.17 with a Linux stub domain) */
		err("PCI device %s: no PCI devices listed for dom%u", bdf,
		    domid);
		err("unable to remove device (rc -3)");
		return -EIO;
	}
	for (i = 0; i < n; i++)
		if (list[i].seg == p->seg && list[i].bus == p->bus &&
		    list[i].dev == p->dev && list[i].fn == fn)
			break;
	if (i == n) {
		err("PCI device %s is not attached to domain %u", bdf, domid);
		return -ENOENT;
	}
	if (!dom_pv(fl, domid) && qmp_device_del(fl, domid, p, fn) < 0) {
		if (!force || (fl->variant & V_PRE_C9CC))
			return -ETIMEDOUT;	/* still the guest's */
		err("the device model did not remove %s: forced, "
		    "continuing", bdf);
	}
	/* the permissions are revoked for a PV guest only (4.17) */
	if (dom_pv(fl, domid) && hv_pci_info(fl->hv, sbdf_of(p, fn), &info) == 0) {
		for (b = 0; b < 6; b++) {
			uint32_t start32;

			if (!info.bar[b].size)
				continue;
			if (info.bar[b].flags & HV_BAR_IO) {
				hv_ioport_permission(fl->hv, domid,
						     info.bar[b].addr,
						     info.bar[b].size, 0);
				continue;
			}
			/* the remove path parsed the resource file with
			 * 32-bit fields until XSA-476 */
			start32 = (uint32_t)info.bar[b].addr;
			hv_iomem_permission(fl->hv, domid, start32 >> 12,
					    (info.bar[b].size + 4095) >> 12, 0);
		}
		if (info.intx_pin && info.gsi) {
			hv_unmap_pirq(fl->hv, domid, (int)info.gsi);
			hv_irq_permission(fl->hv, domid, (int)info.gsi, 0);
		}
	}
	if (fn == 0) {
		snprintf(req, sizeof(req), "reset %s", bdf);
		pciback(fl, req, reply, sizeof(reply));
	}
	if (hv_deassign_device(fl->hv, domid, sbdf_of(p, fn)) < 0)
		err("xc_deassign_device failed for %s", bdf);
	/* pci_remove_done ignores the result */
	remove_xenstore(fl, domid, p, fn);
	marker_path(bdf, path, sizeof(path));
	xs_rm(fl->xs, XBT_NULL, path);
	return 0;
}

/* libxl__device_pci_remove_common: FUNC_ALL visits every bound function */
static int pci_remove(struct flow *fl, unsigned int domid, struct spec *p,
		      bool force)
{
	int fn, r = 0, done = 0;

	if (resolve_name(fl, p) < 0)
		return -ENOENT;
	if (p->func_mask != FUNC_ALL)
		return do_pci_remove(fl, domid, p, p->fn, force);
	for (fn = 7; fn >= 0; fn--) {
		char b[32];

		fmt_bdf(p, (unsigned int)fn, b, sizeof(b));
		if (!pciback_has(fl, b))
			continue;
		if (do_pci_remove(fl, domid, p, (unsigned int)fn, force) < 0)
			r = -EIO;
		done++;
	}
	return done ? r : -ENOENT;
}

/* domains */

static int domain_find(struct flow *fl, const char *arg, unsigned int *ret)
{
	char **ents, *end;
	unsigned int n, i;
	unsigned long v = strtoul(arg, &end, 10);
	int r = -ENOENT;

	if (*arg && !*end) {
		char *name = xread(fl, XBT_NULL, "/local/domain/%lu/name", v);

		free(name);
		if (!name)
			return -ENOENT;
		*ret = (unsigned int)v;
		return 0;
	}
	ents = xs_directory(fl->xs, XBT_NULL, "/local/domain", &n);
	for (i = 0; ents && i < n; i++) {
		char *name = xread(fl, XBT_NULL, "/local/domain/%s/name",
				   ents[i]);

		if (name && !strcmp(name, arg) && strcmp(ents[i], "0")) {
			*ret = (unsigned int)strtoul(ents[i], NULL, 10);
			r = 0;
		}
		free(name);
	}
	free(ents);
	return r;
}

static unsigned int domain_arg(struct flow *fl, const char *arg)
{
	unsigned int domid;

	if (domain_find(fl, arg, &domid) < 0) {
		fprintf(stderr, "libxl417-flow: domain %s does not exist\n", arg);
		exit(3);
	}
	return domid;
}

/* libxl__domain_type: HVM by the type xpt (or libxl) recorded */
static bool domain_hvm(struct flow *fl, unsigned int domid)
{
	char *v = xread(fl, XBT_NULL, "/libxl/%u/type", domid);
	bool hvm = v && !strcmp(v, "hvm");

	free(v);
	return hvm;
}

/* libxl_get_stubdom_id: the guest's image/device-model-domid, 0 none */
static unsigned int stub_of(struct flow *fl, unsigned int domid)
{
	char *v = xread(fl, XBT_NULL, "/local/domain/%u/image/"
			"device-model-domid", domid), *end;
	unsigned long s = v ? strtoul(v, &end, 10) : 0;

	if (v && (!*v || *end))
		s = 0;
	free(v);
	return (unsigned int)s;
}

/* the domain's kind, for the PCI flow of the verb at hand */
static void flow_domain(struct flow *fl, unsigned int domid)
{
	fl->hvm = domain_hvm(fl, domid);
	fl->stub = fl->hvm ? stub_of(fl, domid) : 0;
}

/* run $LIBXL417_XPT with args (NULL-terminated): the exit code, or a
 * negative errno.  Its output goes where ours goes, on stderr. */
static int xpt_run(struct flow *fl, const char *const args[])
{
	const char *xpt = getenv("LIBXL417_XPT");
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	if (!xpt || !*xpt) {
		err("an HVM domain is built by xpt: set LIBXL417_XPT");
		return -ENOSYS;
	}
	argv[n++] = xpt;
	argv[n++] = "-R";
	argv[n++] = fl->rundir;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(2, 1);
		execv(xpt, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

/* The domain's kernel, $XPT_GUEST --rundir DIR --domid N [extra]: an
 * HVM guest's with --hvm, a stub domain's with --stubdom --dm-binary
 * (its init starts the device model). */
static void guest_start_as(struct flow *fl, unsigned int domid,
			   const char *kind)
{
	const char *bin = getenv("XPT_GUEST"), *lx = getenv("XPT_LIBEXEC");
	char dom[16], log[4096], dm[4096], extra[4200] = "";
	pid_t pid;

	if (!bin)
		return;
	if (kind && !strcmp(kind, "hvm"))
		snprintf(extra, sizeof(extra), " --hvm");
	else if (kind && !strcmp(kind, "stubdom")) {
		snprintf(dm, sizeof(dm), "%s/xpt-dm", lx ? lx : ".");
		snprintf(extra, sizeof(extra), " --stubdom --dm-binary '%s'",
			 dm);
	}
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(log, sizeof(log), "%s/guest-%u.log", fl->rundir, domid);
	pid = fork();
	if (pid == 0) {
		char cmd[4400];
		int fd;

		setsid();
		if (fork() != 0)
			_exit(0);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		snprintf(cmd, sizeof(cmd), "exec \"$0\" --rundir \"$1\" "
			 "--domid \"$2\"%s", extra);
		execl("/bin/sh", "sh", "-c", cmd, bin, fl->rundir, dom,
		      (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void guest_start(struct flow *fl, unsigned int domid)
{
	guest_start_as(fl, domid, NULL);
}

static void guest_kill(struct flow *fl, unsigned int domid)
{
	char path[4096];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest/%u.pid", fl->rundir, domid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &pid) == 1 && pid > 1)
			kill((pid_t)pid, SIGTERM);
		fclose(f);
	}
}

/*
 * An HVM guest: xpt builds the domains and starts the device model (in
 * its stub domain, if the configuration asks for one), the guest paused;
 * then libxl's domcreate_devmodel_started -> libxl__add_pcis, one
 * libxl__device_pci_add(starting) per device; then the unpause.
 */
static int domain_build_hvm(struct flow *fl, const struct cfg *c, bool paused,
			    unsigned int *ret_domid)
{
	struct cfg *b = calloc(1, sizeof(*b));
	char path[4096], dom[16];
	unsigned int domid, i;
	int r;

	if (!b)
		return -ENOMEM;
	*b = *c;
	b->npci = 0;
	snprintf(path, sizeof(path), "%s/libxl417-flow", fl->rundir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/libxl417-flow/build-%s.cfg",
		 fl->rundir, c->name);
	r = cfg_write_path(path, b);
	free(b);
	if (r < 0)
		return r;
	r = xpt_run(fl, (const char *const[]){ "create", "-p", path, NULL });
	unlink(path);
	if (r != 0) {
		err("xpt could not build HVM domain %s (%d)", c->name, r);
		return -EIO;
	}
	if (domain_find(fl, c->name, &domid) < 0)
		return -ENOENT;
	*ret_domid = domid;
	cfg_write(fl, domid, c);
	flow_domain(fl, domid);
	for (i = 0; i < c->npci; i++) {
		struct spec p;

		if (parse_spec(c->pci[i], &p) < 0) {
			err("bad pci spec '%s'", c->pci[i]);
			return -EINVAL;
		}
		if (pci_add(fl, domid, &p, true) < 0) {
			err("unable to add pci device %s", c->pci[i]);
			return -EIO;
		}
	}
	if (paused)
		return 0;
	snprintf(dom, sizeof(dom), "%u", domid);
	r = xpt_run(fl, (const char *const[]){ "unpause", dom, NULL });
	return r == 0 ? 0 : -EIO;
}

/* libxl__domain_make, small: the domain's home (dom0's, readable by it),
 * its writable subdirectories, /vm/<uuid>, /libxl/<domid>/type */
static int domain_make(struct flow *fl, const char *name, uint32_t flags,
		       unsigned long mem_mb, unsigned int *ret_domid)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { 0, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { 0, XS_PERM_NONE } };
	struct xs_permissions none[1] = { { 0, XS_PERM_NONE } };
	static const char *const rodirs[] = { "device", "control", "memory" };
	static const char *const rwdirs[] = {
		"data", "drivers", "feature", "attr", "error", "control/shutdown",
	};
	const char *type = flags & HV_DOMF_HVM ? "hvm" : "pv";
	char path[192], uuid[40];
	unsigned int domid, i;
	xs_transaction_t t;
	int r;

	r = hv_domain_create(fl->hv, flags, name, mem_mb * 1024, 1, &domid);
	if (r < 0) {
		err("domain create %s: %s", name, strerror(-r));
		return r;
	}
	if (!xs_introduce_domain(fl->xs, domid, 0, 1))
		die("introduce dom%u: %s", domid, strerror(errno));
	snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-%012x",
		 (unsigned int)getpid(), domid);
	ro[1].id = domid;
	rw[0].id = domid;
	do {
		t = txn_start(fl);
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		xs_mkdir(fl->xs, t, path);
		xs_set_permissions(fl->xs, t, path, ro, 2);
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "/local/domain/%u/%s",
				 domid, rodirs[i]);
			xs_mkdir(fl->xs, t, path);
			xs_set_permissions(fl->xs, t, path, ro, 2);
		}
		for (i = 0; i < 6; i++) {
			snprintf(path, sizeof(path), "/local/domain/%u/%s",
				 domid, rwdirs[i]);
			xs_mkdir(fl->xs, t, path);
			xs_set_permissions(fl->xs, t, path, rw, 1);
		}
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		xwrite(fl, t, path, "%s", name);
		snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
		xwrite(fl, t, path, "%u", domid);
		snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
		xwrite(fl, t, path, "/vm/%s", uuid);
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_mkdir(fl->xs, t, path);
		xs_set_permissions(fl->xs, t, path, ro, 2);
		snprintf(path, sizeof(path), "/vm/%s/name", uuid);
		xwrite(fl, t, path, "%s", name);
		snprintf(path, sizeof(path), "/vm/%s/uuid", uuid);
		xwrite(fl, t, path, "%s", uuid);
		snprintf(path, sizeof(path), "/libxl/%u", domid);
		xs_mkdir(fl->xs, t, path);
		xs_set_permissions(fl->xs, t, path, none, 1);
		snprintf(path, sizeof(path), "/libxl/%u/type", domid);
		xwrite(fl, t, path, "%s", type);
	} while (!commit(fl, t));
	*ret_domid = domid;
	return 0;
}

/* libxl__spawn_stub_dm, step 3: the chain between G and S */
static void stub_chain(struct flow *fl, unsigned int g, unsigned int s)
{
	struct xs_permissions argv_perms[2] = { { 0, XS_PERM_NONE },
						{ s, XS_PERM_READ } };
	struct xs_permissions dm_perms[2] = { { s, XS_PERM_NONE },
					      { g, XS_PERM_READ } };
	static const char *const args[] = {
		"-xen-domid", NULL, "-nodefaults", "-no-shutdown", "-machine",
		"xenfv",
	};
	char path[192], *vm = xread(fl, XBT_NULL, "/local/domain/%u/vm", g);
	xs_transaction_t t;
	unsigned int i;

	if (!vm)
		die("dom%u has no vm path", g);
	do {
		t = txn_start(fl);
		snprintf(path, sizeof(path), "/local/domain/%u/image/"
			 "device-model-domid", g);
		xwrite(fl, t, path, "%u", s);
		snprintf(path, sizeof(path), "/local/domain/%u/target", s);
		xwrite(fl, t, path, "%u", g);
		snprintf(path, sizeof(path), "/libxl/%u/dm-version", g);
		xwrite(fl, t, path, "qemu_xen");
		snprintf(path, sizeof(path), "%s/image/dm-argv", vm);
		xs_mkdir(fl->xs, t, path);
		xs_set_permissions(fl->xs, t, path, argv_perms, 2);
		for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
			snprintf(path, sizeof(path), "%s/image/dm-argv/%03u",
				 vm, i + 1);
			if (args[i])
				xwrite(fl, t, path, "%s", args[i]);
			else
				xwrite(fl, t, path, "%u", g);
			xs_set_permissions(fl->xs, t, path, argv_perms, 2);
		}
		snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u",
			 s, g);
		xs_mkdir(fl->xs, t, path);
		xs_set_permissions(fl->xs, t, path, dm_perms, 2);
	} while (!commit(fl, t));
	free(vm);
	if (hv_set_target(fl->hv, s, g) < 0)
		die("xc_domain_set_target(%u, %u) failed", s, g);
	if (!xs_set_target(fl->xs, s, g))
		die("xs_set_target(%u, %u): %s", s, g, strerror(errno));
}

/* a domain this peer built: its kernel, the domain, its nodes */
static void domain_remove(struct flow *fl, unsigned int domid)
{
	char path[128], *vm;

	guest_kill(fl, domid);
	hv_domain_destroy(fl->hv, domid);
	xs_release_domain(fl->xs, domid);
	vm = xread(fl, XBT_NULL, "/local/domain/%u/vm", domid);
	if (vm)
		xs_rm(fl->xs, XBT_NULL, vm);
	free(vm);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
	snprintf(path, sizeof(path), "/libxl/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
}

/* libxl__xswait for "running" on path, bounded */
static int wait_running(struct flow *fl, const char *path, int ms)
{
	int64_t deadline = now_ms() + ms;
	int r = -ETIMEDOUT;
	char **w;

	xs_watch(fl->xs, path, "dmstate");
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(fl->xs), .events = POLLIN };
		char *v = xread(fl, XBT_NULL, "%s", path);
		int64_t left = deadline - now_ms();

		if (v && !strcmp(v, "running")) {
			free(v);
			r = 0;
			break;
		}
		free(v);
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0)
			while ((w = xs_check_watch(fl->xs)))
				free(w);
	}
	xs_unwatch(fl->xs, path, "dmstate");
	return r;
}

/*
 * An HVM guest with its device model in a stub domain, built by this
 * peer as libxl__spawn_stub_dm does (the startup variants only; see the
 * head comment): G, S, the chain, S's kernel; the wait of the variant;
 * then the devices and G's unpause.
 */
static int domain_build_stub(struct flow *fl, const struct cfg *c,
			     bool paused, unsigned int *ret_domid)
{
	char sname[80], path[160];
	unsigned int g, s, i;
	uint32_t flags = HV_DOMF_HVM;
	int r;

	if (c->npci || !strcmp(c->passthrough, "enabled"))
		flags |= HV_DOMF_PASSTHROUGH;
	r = domain_make(fl, c->name, flags, c->memory ? c->memory : 128, &g);
	if (r < 0)
		return r;
	snprintf(sname, sizeof(sname), "%.60s-dm", c->name);
	r = domain_make(fl, sname, 0, 128, &s);
	if (r < 0) {
		domain_remove(fl, g);
		return r;
	}
	stub_chain(fl, g, s);
	cfg_write(fl, g, c);
	r = hv_domain_unpause(fl->hv, s);
	if (r < 0) {
		err("unpause stub dom%u: %s", s, strerror(-r));
		goto fail;
	}
	guest_start_as(fl, s, "stubdom");
	if (fl->variant & V_PRE_6DD9) {
		/* E. Shelton's RFC: the state path hard-coded to dom0 */
		int ms = getenv("LIBXL417_WAIT_MS") ? fl->wait_ms :
			 STUB_START_MS;

		snprintf(path, sizeof(path), "/local/domain/0/device-model/%u/"
			 "state", g);
		r = wait_running(fl, path, ms);
		if (r < 0) {
			err("Stubdom %u for %u startup timed out (%s not "
			    "\"running\" within %d ms)", s, g, path, ms);
			goto fail;
		}
	}
	/* pre-4.6: no wait at all */
	fl->hvm = true;
	fl->stub = s;
	for (i = 0; i < c->npci; i++) {
		struct spec p;

		if (parse_spec(c->pci[i], &p) < 0) {
			err("bad pci spec '%s'", c->pci[i]);
			r = -EINVAL;
			goto fail;
		}
		if (pci_add(fl, g, &p, true) < 0) {
			err("unable to add pci device %s", c->pci[i]);
			r = -EIO;
			goto fail;
		}
	}
	*ret_domid = g;
	if (paused)
		return 0;
	r = hv_domain_unpause(fl->hv, g);
	if (r < 0) {
		err("unpause dom%u: %s", g, strerror(-r));
		goto fail;
	}
	guest_start_as(fl, g, "hvm");
	return 0;
fail:
	/* libxl: creation fails, the guest is destroyed, the stub with it */
	domain_remove(fl, s);
	domain_remove(fl, g);
	cfg_path(fl, g, path, sizeof(path));
	unlink(path);
	return r < 0 ? r : -EIO;
}

/* device_model_stubdomain_override = 1 in the configuration */
static bool cfg_stubdom(const struct cfg *c)
{
	unsigned int i;

	for (i = 0; i < c->nextra; i++)
		if (!strncmp(c->extra[i], "device_model_stubdomain_override ",
			     33) && strstr(c->extra[i] + 33, "1"))
			return true;
	return false;
}

static int domain_build(struct flow *fl, const struct cfg *c, bool paused,
			unsigned int *ret_domid)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { 0, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { 0, XS_PERM_NONE } };
	static const char *const rwdirs[] = { "data", "error", "control" };
	char path[128];
	unsigned int domid, i;
	uint32_t flags = 0;
	int r;

	if (!strcmp(c->type, "hvm") && cfg_stubdom(c) &&
	    (fl->variant & (V_PRE_6DD9 | V_PRE_46)))
		return domain_build_stub(fl, c, paused, ret_domid);
	if (!strcmp(c->type, "hvm"))
		return domain_build_hvm(fl, c, paused, ret_domid);
	if (c->npci || !strcmp(c->passthrough, "enabled"))
		flags |= HV_DOMF_PASSTHROUGH;
	if (!strcmp(c->passthrough, "disabled"))
		flags &= ~(uint32_t)HV_DOMF_PASSTHROUGH;
	r = hv_domain_create(fl->hv, flags, c->name,
			     (c->memory ? c->memory : 256) * 1024,
			     c->vcpus ? (uint32_t)c->vcpus : 1, &domid);
	if (r < 0) {
		err("domain create: %s", strerror(-r));
		return r;
	}
	if (!xs_introduce_domain(fl->xs, domid, 0, 1))
		die("introduce dom%u: %s", domid, strerror(errno));
	ro[1].id = domid;
	rw[0].id = domid;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_mkdir(fl->xs, XBT_NULL, path);
	xs_set_permissions(fl->xs, XBT_NULL, path, ro, 2);
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	xwrite(fl, XBT_NULL, path, "%s", c->name);
	snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
	xs_mkdir(fl->xs, XBT_NULL, path);
	xs_set_permissions(fl->xs, XBT_NULL, path, ro, 2);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/%s", domid,
			 rwdirs[i]);
		xs_mkdir(fl->xs, XBT_NULL, path);
		xs_set_permissions(fl->xs, XBT_NULL, path, rw, 1);
	}
	cfg_write(fl, domid, c);
	/* libxl__add_pcis: one libxl__device_pci_add(starting) per device */
	for (i = 0; i < c->npci; i++) {
		struct spec p;

		if (parse_spec(c->pci[i], &p) < 0) {
			err("bad pci spec '%s'", c->pci[i]);
			return -EINVAL;
		}
		if (pci_add(fl, domid, &p, true) < 0) {
			err("unable to add pci device %s", c->pci[i]);
			return -EIO;
		}
		if (i + 1 < c->npci && !(fl->variant & V_UNPACED))
			wait_setup(fl, domid);
	}
	if (!paused) {
		r = hv_domain_unpause(fl->hv, domid);
		if (r < 0)
			return r;
		guest_start(fl, domid);
	}
	*ret_domid = domid;
	return 0;
}

/* libxl__destroy_domid: destroy_all PCI (forced), then the domain */
static void domain_destroy(struct flow *fl, unsigned int domid)
{
	struct spec list[64];
	char path[4096];
	int n, i;

	n = pci_list(fl, domid, list, 64);
	for (i = 0; i < n; i++)
		do_pci_remove(fl, domid, &list[i], list[i].fn, true);
	if (fl->hvm) {
		/* the domains and the device model are xpt's to end */
		snprintf(path, sizeof(path), "%u", domid);
		if (xpt_run(fl, (const char *const[]){ "destroy", path,
						       NULL }) != 0)
			err("xpt could not destroy dom%u", domid);
		cfg_path(fl, domid, path, sizeof(path));
		unlink(path);
		return;
	}
	guest_kill(fl, domid);
	hv_domain_destroy(fl->hv, domid);
	xs_release_domain(fl->xs, domid);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
	snprintf(path, sizeof(path), "/libxl/%u", domid);
	xs_rm(fl->xs, XBT_NULL, path);
	cfg_path(fl, domid, path, sizeof(path));
	unlink(path);
}

/* libxl_retrieve_domain_configuration: xenstore is primary for devices,
 * JSON entries missing there are dropped */
static int domain_retrieve(struct flow *fl, unsigned int domid, struct cfg *c)
{
	struct spec list[64];
	struct cfg saved = { 0 };
	char path[4096];
	unsigned int j, out = 0;
	int n, i;

	cfg_path(fl, domid, path, sizeof(path));
	if (cfg_read(path, &saved) < 0)
		return -ENOENT;
	*c = saved;
	n = pci_list(fl, domid, list, 64);
	if ((fl->variant & V_PRE_C1943) && n > 1)
		n = 1;
	for (j = 0; j < saved.npci; j++) {
		struct spec s;

		if (parse_spec(saved.pci[j], &s) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (list[i].seg == s.seg && list[i].bus == s.bus &&
			    list[i].dev == s.dev &&
			    (list[i].fn == s.fn || s.func_mask == FUNC_ALL))
				break;
		if (i == n) {
			err("Device present in JSON but not in xenstore, "
			    "ignored");
			continue;
		}
		snprintf(c->pci[out++], sizeof(c->pci[0]), "%s", saved.pci[j]);
	}
	c->npci = out;
	return 0;
}

static const char usage[] =
"Usage: libxl417-flow COMMAND ...   (env XPT_RUNDIR, XPT_GUEST, XPT_DELAY,\n"
"                                    LIBXL417_FLOW, LIBXL417_WAIT_MS,\n"
"                                    LIBXL417_XPT)\n"
"  create [-p] CONFIG [KEY=VALUE...]   destroy DOMAIN   reboot DOMAIN\n"
"  pci-attach DOMAIN SPEC   pci-detach [-f] DOMAIN SPEC   pci-list DOMAIN\n"
"libxl 4.17's PCI flow with its historic flaws, for the toolstack tests.\n";

/* Every command ends through exit(): close the handles there (no leaks
 * for LeakSanitizer to report in the sanitizer build). */
static struct flow *flow_opened;

static void flow_close(void)
{
	if (!flow_opened)
		return;
	if (flow_opened->xs)
		xs_close(flow_opened->xs);
	hv_close(flow_opened->hv);
	flow_opened = NULL;
}

static void flow_open(struct flow *fl)
{
	const char *v = getenv("LIBXL417_FLOW"), *w = getenv("LIBXL417_WAIT_MS");
	char sock[4096];
	int r;

	fl->rundir = getenv("XPT_RUNDIR") ? getenv("XPT_RUNDIR") : "/run/xpt";
	fl->wait_ms = w ? atoi(w) : 10000;
	if (v && strstr(v, "pre-73ee2795aa"))
		fl->variant |= V_PRE_73EE;
	if (v && strstr(v, "pre-70628d024da4"))
		fl->variant |= V_PRE_70628;
	if (v && strstr(v, "pre-0fdb48ffe7"))
		fl->variant |= V_PRE_0FDB;
	if (v && strstr(v, "pre-c19434d928"))
		fl->variant |= V_PRE_C1943;
	if (v && strstr(v, "num-devs-last"))
		fl->variant |= V_NUMDEVS_LAST;
	if (v && strstr(v, "unpaced"))
		fl->variant |= V_UNPACED;
	if (v && strstr(v, "pre-c9cccbdff8"))
		fl->variant |= V_PRE_C9CC;
	if (v && strstr(v, "pre-0f4fd6b6d8"))
		fl->variant |= V_PRE_0F4F;
	if (v && strstr(v, "pre-18f93842ac"))
		fl->variant |= V_PRE_18F9 | V_PRE_0F4F;	/* older */
	if (v && strstr(v, "pre-6dd94cf1b1"))
		fl->variant |= V_PRE_6DD9;
	if (v && strstr(v, "pre-4.6"))
		fl->variant |= V_PRE_46;
	snprintf(sock, sizeof(sock), "%s/socket", fl->rundir);
	setenv("XENSTORED_PATH", sock, 1);
	flow_opened = fl;
	atexit(flow_close);
	fl->xs = xs_open(0);
	if (!fl->xs)
		die("cannot reach xenstored at %s: %s", sock, strerror(errno));
	r = hv_open(fl->rundir, &fl->hv);
	if (r < 0)
		die("cannot reach the hypervisor under %s/hv: %s", fl->rundir,
		    strerror(-r));
}

int main(int argc, char **argv)
{
	static struct flow fl;	/* outlives main(): closed at exit */
	const char *cmd;
	struct spec p;
	unsigned int domid;
	int i;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "create")) {
		struct cfg c = { 0 };
		bool paused = false;

		i = 2;
		if (i < argc && !strcmp(argv[i], "-p")) {
			paused = true;
			i++;
		}
		if (i >= argc) {
			fputs(usage, stderr);
			return 2;
		}
		if (cfg_read(argv[i], &c) < 0) {
			fprintf(stderr, "libxl417-flow: cannot parse %s\n", argv[i]);
			return 2;
		}
		for (i++; i < argc; i++)
			if (cfg_apply(&c, argv[i]) < 0) {
				fprintf(stderr, "libxl417-flow: bad %s\n", argv[i]);
				return 2;
			}
		for (i = 0; i < (int)c.npci; i++)
			if (parse_spec(c.pci[i], &p) < 0) {
				fprintf(stderr, "libxl417-flow: bad pci spec "
					"'%s'\n", c.pci[i]);
				return 2;
			}
		flow_open(&fl);
		if (domain_find(&fl, c.name, &domid) == 0)
			die("domain %s already exists", c.name);
		if (domain_build(&fl, &c, paused, &domid) < 0)
			die("unable to create domain %s", c.name);
		return 0;
	}
	if ((!strcmp(cmd, "destroy") || !strcmp(cmd, "reboot") ||
	     !strcmp(cmd, "pci-list")) && argc == 3) {
		flow_open(&fl);
		domid = domain_arg(&fl, argv[2]);
		flow_domain(&fl, domid);
		if (!strcmp(cmd, "destroy")) {
			domain_destroy(&fl, domid);
		} else if (!strcmp(cmd, "reboot")) {
			struct cfg c;

			if (domain_retrieve(&fl, domid, &c) < 0)
				die("no saved configuration for dom%u", domid);
			domain_destroy(&fl, domid);
			if (domain_build(&fl, &c, false, &domid) < 0)
				die("reboot of %s failed", c.name);
		} else {
			struct spec list[64];
			int n = pci_list(&fl, domid, list, 64);

			printf("Vdev Device\n");
			for (i = 0; i < n; i++)
				printf("%02x.%01x %04x:%02x:%02x.%01x\n",
				       list[i].vslot < 0 ? 0 : list[i].vslot,
				       list[i].fn, list[i].seg, list[i].bus,
				       list[i].dev, list[i].fn);
		}
		return 0;
	}
	if (!strcmp(cmd, "pci-attach") && argc == 4) {
		if (parse_spec(argv[3], &p) < 0) {
			fprintf(stderr, "libxl417-flow: bad pci spec '%s'\n",
				argv[3]);
			return 2;
		}
		flow_open(&fl);
		domid = domain_arg(&fl, argv[2]);
		flow_domain(&fl, domid);
		if (pci_add(&fl, domid, &p, false) < 0)
			die("libxl__device_pci_add failed for PCI device %s "
			    "on dom%u", argv[3], domid);
		return 0;
	}
	if (!strcmp(cmd, "pci-detach") && (argc == 4 || argc == 5)) {
		bool force = argc == 5;

		if (force && strcmp(argv[2], "-f")) {
			fputs(usage, stderr);
			return 2;
		}
		if (parse_spec(argv[argc - 1], &p) < 0) {
			fprintf(stderr, "libxl417-flow: bad pci spec '%s'\n",
				argv[argc - 1]);
			return 2;
		}
		flow_open(&fl);
		domid = domain_arg(&fl, argv[argc - 2]);
		flow_domain(&fl, domid);
		if (pci_remove(&fl, domid, &p, force) < 0)
			die("pci-detach %s from dom%u failed", argv[argc - 1],
			    domid);
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}
