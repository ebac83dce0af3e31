/* SPDX-License-Identifier: MIT */
/*
 * A peer fixture that writes the PV PCI backend/frontend xenstore nodes the
 * way libxl 4.17 does (docs/protocol.md §3, §3.3, §4.1-§4.3, §8.5), as dom0,
 * so the backend and frontend models can be tested against an old
 * toolstack's exact write pattern:
 *
 *   coldplug-perdevice DOMID BDF...  one transaction per device; the first
 *       one rm+mkdir+chmods both dirs (state 1), then key-N dev-N opts-N
 *       state-N=1 num_devs=N+1 (libxl 4.17's per-device cold-plug)
 *   coldplug-onetxn DOMID BDF...     the same, all devices in one transaction
 *   hotadd DOMID BDF                 wait backend 4, then key/dev/opts/
 *       state-N=1, num_devs+1 and state=7 in one transaction
 *   hotremove DOMID BDF              wait 4, state-N=5 + state=7, wait 4,
 *       remove the *-N keys, compact, num_devs-1 (the last device: remove
 *       both directories, as libxl__device_destroy does)
 *
 * Waits are bounded (10 s like libxl__wait_for_backend) but event-driven
 * (a watch on the backend's state node).
 *
 * Per-device cold-plug paces itself by default: after the first device it
 * waits until the backend left InitWait (state >= 3) before writing the
 * next, which is the interleaving Jan Beulich observed every time ("the
 * watch event getting processed when num_devs still reported 1") and which
 * makes the only-first-device bug deterministic (docs/protocol.md §13
 * item 1).  --no-pace writes back to back.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#define WAIT_MS 10000

struct fx {
	struct xs_handle *xs;
	unsigned int domid;
	const char *name;
	bool pace;
	char be[128], fe[128];
};

static void fx_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fx_die(const char *fmt, ...)
{
	va_list ap;

	fputs("libxl417-pci: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fx_parse_bdf(const char *s, unsigned int b[4])
{
	int n = 0;

	b[0] = 0;
	if (sscanf(s, "%x:%x:%x.%x%n", &b[0], &b[1], &b[2], &b[3], &n) == 4 &&
	    !s[n])
		return 0;
	n = 0;
	b[0] = 0;
	if (sscanf(s, "%x:%x.%x%n", &b[1], &b[2], &b[3], &n) == 3 && !s[n])
		return 0;
	return -1;
}

static void fx_write(struct fx *f, xs_transaction_t t, const char *dir,
		     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fx_write(struct fx *f, xs_transaction_t t, const char *dir,
		     const char *key, const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	/* libxl__xs_writev's result is ignored by libxl too; the commit
	 * reports what matters */
	xs_write(f->xs, t, path, val, strlen(val));
}

static char *fx_read(struct fx *f, xs_transaction_t t, const char *key)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", f->be, key);
	return xs_read(f->xs, t, path, &len);
}

static int fx_read_int(struct fx *f, const char *key, int *ret)
{
	char *s = fx_read(f, XBT_NULL, key), *end;
	long v;

	if (!s)
		return -1;
	v = strtol(s, &end, 10);
	if (!*s || *end) {
		free(s);
		return -1;
	}
	free(s);
	*ret = (int)v;
	return 0;
}

/* libxl__create_pci_backend, inside the caller's transaction
 * (docs/protocol.md §3.3). */
static void fx_create_backend(struct fx *f, xs_transaction_t t)
{
	struct xs_permissions fe_perms[2] = {
		{ .id = f->domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions be_perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = f->domid, .perms = XS_PERM_READ },
	};

	xs_rm(f->xs, t, f->fe);
	xs_rm(f->xs, t, f->be);
	xs_mkdir(f->xs, t, f->fe);
	xs_set_permissions(f->xs, t, f->fe, fe_perms, 2);
	xs_mkdir(f->xs, t, f->be);
	xs_set_permissions(f->xs, t, f->be, be_perms, 2);
	fx_write(f, t, f->fe, "backend", "%s", f->be);
	fx_write(f, t, f->fe, "backend-id", "%d", 0);
	fx_write(f, t, f->fe, "state", "%d", 1);
	fx_write(f, t, f->be, "frontend", "%s", f->fe);
	fx_write(f, t, f->be, "frontend-id", "%u", f->domid);
	fx_write(f, t, f->be, "online", "%d", 1);
	fx_write(f, t, f->be, "state", "%d", 1);
	fx_write(f, t, f->be, "domain", "%s", f->name);
}

/* The per-device keys of index n. */
static void fx_write_dev(struct fx *f, xs_transaction_t t, int n,
			 const unsigned int b[4])
{
	char key[32];

	snprintf(key, sizeof(key), "key-%d", n);
	fx_write(f, t, f->be, key, "%04x:%02x:%02x.%01x", b[0], b[1], b[2], b[3]);
	snprintf(key, sizeof(key), "dev-%d", n);
	fx_write(f, t, f->be, key, "%04x:%02x:%02x.%01x", b[0], b[1], b[2], b[3]);
	snprintf(key, sizeof(key), "opts-%d", n);
	fx_write(f, t, f->be, key, "msitranslate=0,power_mgmt=0,permissive=0,"
		 "rdm_policy=strict");
	snprintf(key, sizeof(key), "state-%d", n);
	fx_write(f, t, f->be, key, "%d", 1);
}

static bool fx_commit(struct fx *f, xs_transaction_t t)
{
	if (xs_transaction_end(f->xs, t, false))
		return true;
	if (errno != EAGAIN)
		fx_die("transaction commit: %s", strerror(errno));
	return false;
}

static xs_transaction_t fx_start(struct fx *f)
{
	xs_transaction_t t = xs_transaction_start(f->xs);

	if (t == XBT_NULL)
		fx_die("transaction start: %s", strerror(errno));
	return t;
}

/* Wait (watch-driven, bounded) until the backend state satisfies ok(). */
static int fx_wait_state(struct fx *f, bool (*ok)(int), const char *what)
{
	int64_t deadline = fx_now_ms() + WAIT_MS;
	char path[256];
	int st = -1, r = -1;
	char **w;

	snprintf(path, sizeof(path), "%s/state", f->be);
	if (!xs_watch(f->xs, path, "fxwait"))
		fx_die("watch %s: %s", path, strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(f->xs), .events = POLLIN };
		int64_t left;

		if (fx_read_int(f, "state", &st) < 0) {
			fprintf(stderr, "libxl417-pci: Backend %s does not exist\n",
				f->be);
			break;
		}
		if (ok(st)) {
			r = 0;
			break;
		}
		left = deadline - fx_now_ms();
		if (left <= 0) {
			fprintf(stderr, "libxl417-pci: Backend %s not ready "
				"(state %d, waiting for %s)\n", f->be, st, what);
			break;
		}
		if (poll(&pfd, 1, (int)left) > 0)
			while ((w = xs_check_watch(f->xs)))
				free(w);
	}
	xs_unwatch(f->xs, path, "fxwait");
	return r;
}

static bool fx_is_connected(int st)
{
	return st == 4;
}

static bool fx_left_initwait(int st)
{
	return st >= 3;
}

static void fx_coldplug(struct fx *f, bool onetxn, int nbdf, char **bdfs)
{
	unsigned int b[4];
	int i, num;

	if (onetxn) {
		xs_transaction_t t;

		do {
			t = fx_start(f);
			fx_create_backend(f, t);
			for (i = 0; i < nbdf; i++) {
				if (fx_parse_bdf(bdfs[i], b) < 0)
					fx_die("bad BDF %s", bdfs[i]);
				fx_write_dev(f, t, i, b);
			}
			fx_write(f, t, f->be, "num_devs", "%d", nbdf);
		} while (!fx_commit(f, t));
		return;
	}
	for (i = 0; i < nbdf; i++) {
		xs_transaction_t t;

		if (fx_parse_bdf(bdfs[i], b) < 0)
			fx_die("bad BDF %s", bdfs[i]);
		/* libxl reads num_devs outside the transaction
		 * (docs/protocol.md §8.5) */
		if (fx_read_int(f, "num_devs", &num) < 0)
			num = 0;
		do {
			t = fx_start(f);
			if (num == 0)
				fx_create_backend(f, t);
			fx_write_dev(f, t, num, b);
			fx_write(f, t, f->be, "num_devs", "%d", num + 1);
		} while (!fx_commit(f, t));
		if (f->pace && i + 1 < nbdf &&
		    fx_wait_state(f, fx_left_initwait, "Initialised") < 0)
			fx_die("backend did not set itself up");
	}
}

static void fx_hotadd(struct fx *f, const char *bdf)
{
	xs_transaction_t t;
	unsigned int b[4];
	int num;

	if (fx_parse_bdf(bdf, b) < 0)
		fx_die("bad BDF %s", bdf);
	if (fx_read_int(f, "num_devs", &num) < 0)
		num = 0;
	if (num && fx_wait_state(f, fx_is_connected, "Connected") < 0)
		fx_die("hot-add %s: backend not ready", bdf);
	do {
		t = fx_start(f);
		if (num == 0)
			fx_create_backend(f, t);
		fx_write_dev(f, t, num, b);
		fx_write(f, t, f->be, "num_devs", "%d", num + 1);
		if (num)
			fx_write(f, t, f->be, "state", "%d", 7);
	} while (!fx_commit(f, t));
}

static void fx_move(struct fx *f, xs_transaction_t t, const char *key,
		    int from, bool always)
{
	char src[64], dst[256], *v;

	snprintf(src, sizeof(src), "%s-%d", key, from);
	snprintf(dst, sizeof(dst), "%s-%d", key, from - 1);
	v = fx_read(f, t, src);
	if (v || always) {
		fx_write(f, t, f->be, dst, "%s", v ? v : "");
		snprintf(dst, sizeof(dst), "%s/%s", f->be, src);
		xs_rm(f->xs, t, dst);
	}
	free(v);
}

static void fx_hotremove(struct fx *f, const char *bdf)
{
	static const char *const keys[] = {
		"state", "key", "dev", "vdev", "opts", "vdevfn", "name",
	};
	unsigned int b[4], d[4];
	xs_transaction_t t;
	char key[32], path[256], *v;
	int num, i, j;
	size_t k;

	if (fx_parse_bdf(bdf, b) < 0)
		fx_die("bad BDF %s", bdf);
	if (fx_read_int(f, "num_devs", &num) < 0)
		fx_die("hot-remove %s: no num_devs under %s", bdf, f->be);
	if (fx_wait_state(f, fx_is_connected, "Connected") < 0)
		fx_die("hot-remove %s: backend not ready", bdf);
	for (i = 0; i < num; i++) {
		snprintf(key, sizeof(key), "dev-%d", i);
		v = fx_read(f, XBT_NULL, key);
		if (v && fx_parse_bdf(v, d) == 0 && !memcmp(b, d, sizeof(b))) {
			free(v);
			break;
		}
		free(v);
	}
	if (i == num)
		fx_die("hot-remove %s: not attached", bdf);
	do {
		t = fx_start(f);
		snprintf(key, sizeof(key), "state-%d", i);
		fx_write(f, t, f->be, key, "%d", 5);
		fx_write(f, t, f->be, "state", "%d", 7);
	} while (!fx_commit(f, t));
	if (fx_wait_state(f, fx_is_connected, "Connected") < 0)
		fx_die("hot-remove %s: backend did not reconfigure", bdf);
	do {
		t = fx_start(f);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			snprintf(path, sizeof(path), "%s/%s-%d", f->be,
				 keys[k], i);
			xs_rm(f->xs, t, path);
		}
		fx_write(f, t, f->be, "num_devs", "%d", num - 1);
		for (j = i + 1; j < num; j++) {
			fx_move(f, t, "state", j, true);
			fx_move(f, t, "dev", j, true);
			fx_move(f, t, "key", j, true);
			fx_move(f, t, "vdev", j, false);
			fx_move(f, t, "opts", j, false);
			fx_move(f, t, "vdevfn", j, false);
			fx_move(f, t, "name", j, false);
		}
	} while (!fx_commit(f, t));
	if (num == 1) {
		/* libxl__device_destroy */
		do {
			t = fx_start(f);
			xs_rm(f->xs, t, f->fe);
			xs_rm(f->xs, t, f->be);
		} while (!fx_commit(f, t));
	}
}

static const char usage[] =
"Usage: libxl417-pci [--rundir DIR] [--name NAME] [--no-pace] MODE DOMID BDF...\n"
"Write PCI backend/frontend xenstore nodes as libxl 4.17 does, as dom0\n"
"(XENSTORED_PATH, or DIR/socket).  MODE: coldplug-perdevice, coldplug-onetxn,\n"
"hotadd (one BDF), hotremove (one BDF).\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "name", required_argument, NULL, 'n' },
		{ "no-pace", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fx f = { .pace = true };
	char namebuf[32], sock[4096];
	const char *mode;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "R:n:Ph", opts, NULL)) != -1) {
		switch (o) {
		case 'R':
			snprintf(sock, sizeof(sock), "%s/socket", optarg);
			setenv("XENSTORED_PATH", sock, 1);
			break;
		case 'n': f.name = optarg; break;
		case 'P': f.pace = false; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (argc - optind < 3) {
		fputs(usage, stderr);
		return 2;
	}
	mode = argv[optind];
	f.domid = (unsigned int)strtoul(argv[optind + 1], &end, 10);
	if (*end || f.domid == 0 || f.domid >= 0x7ff0)
		fx_die("bad domid %s", argv[optind + 1]);
	if (!f.name) {
		snprintf(namebuf, sizeof(namebuf), "guest%u", f.domid);
		f.name = namebuf;
	}
	snprintf(f.be, sizeof(f.be), "/local/domain/0/backend/pci/%u/0", f.domid);
	snprintf(f.fe, sizeof(f.fe), "/local/domain/%u/device/pci/0", f.domid);
	f.xs = xs_open(0);
	if (!f.xs)
		fx_die("xs_open: %s", strerror(errno));
	argv += optind + 2;
	argc -= optind + 2;
	if (!strcmp(mode, "coldplug-perdevice"))
		fx_coldplug(&f, false, argc, argv);
	else if (!strcmp(mode, "coldplug-onetxn"))
		fx_coldplug(&f, true, argc, argv);
	else if (!strcmp(mode, "hotadd") && argc == 1)
		fx_hotadd(&f, argv[0]);
	else if (!strcmp(mode, "hotremove") && argc == 1)
		fx_hotremove(&f, argv[0]);
	else
		fx_die("unknown mode or wrong number of BDFs: %s", mode);
	xs_close(f.xs);
	return 0;
}
