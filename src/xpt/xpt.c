// SPDX-License-Identifier: MIT
/*
 * xpt: the command-line toolstack (xl's role) on libxpt.  One table of
 * commands {name, handler, usage, summary}; each handler parses its own
 * options and returns an exit code: 0 ok, 1 failed, 2 usage or parse
 * error, 3 no such domain or device.
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli.h"
#include "doctor.h"
#include "xpt/spec.h"
#include "xpt/model.h"
#include "xpt/xpt.h"
#include "trace.h"

struct cmd {
	const char *name;
	int (*run)(struct xpt_ctx *c, int argc, char **argv);
	const char *usage, *summary;
};

static const struct cmd *cur;	/* the command being run, for usage() */

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xpt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: xpt %s %s\n", cur->name, cur->usage);
	return XPT_EXIT_USAGE;
}

static void print_warning_lines(const struct xpt_ctx *c)
{
	const char *w = xpt_ctx_warnings(c), *nl;

	while (*w) {
		nl = strchr(w, '\n');
		fprintf(stderr, "xpt: warning: %.*s\n",
			(int)(nl ? nl - w : (long)strlen(w)), w);
		if (!nl)
			break;
		w = nl + 1;
	}
}

/* A daemon of the modelled host that died is the likely cause of a
 * failure or a warning: name it, and the way back. */
static void print_dead(const struct xpt_ctx *c)
{
	char dead[128];
	int n = xpt_host_dead(c, dead, sizeof(dead));

	if (n)
		fprintf(stderr, "xpt: %s %s not running (killed or crashed): "
			"`xpt host status` shows the host, `xpt host start` "
			"restarts %s\n", dead, n > 1 ? "are" : "is",
			n > 1 ? "them" : "it");
}

/* The operation's warnings, then a dead daemon: it worked, but what
 * comes next (a guest's backend, the next command) needs that daemon. */
static void print_warnings(const struct xpt_ctx *c)
{
	print_warning_lines(c);
	if (!cur || strcmp(cur->name, "host"))
		print_dead(c);
}

static int failed(const struct xpt_ctx *c)
{
	print_warning_lines(c);
	fprintf(stderr, "xpt: %s\n", xpt_ctx_error(c));
	if (!cur || strcmp(cur->name, "host"))
		print_dead(c);
	return xpt_ctx_exit_code(c);
}

static int done(const struct xpt_ctx *c, int r)
{
	if (r < 0)
		return failed(c);
	print_warnings(c);
	return XPT_EXIT_OK;
}

/* Per-command options: -h/--help everywhere, plus the command's own.
 * Returns the option char, -1 at the end, or '?' (usage error printed). */
static bool want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

static int show_help(void)
{
	printf("usage: xpt %s %s\n%s\n", cur->name, cur->usage, cur->summary);
	return XPT_EXIT_OK;
}

static int parse_spec(const char *text, struct xpt_pci *ret)
{
	char err[256];

	if (xpt_pci_spec_parse(text, ret, err, sizeof(err)) < 0) {
		fprintf(stderr, "xpt: PCI spec %s\n", err);
		return XPT_EXIT_USAGE;
	}
	return 0;
}

static int resolve(struct xpt_ctx *c, const char *dom, unsigned int *domid)
{
	return xpt_domain_resolve(c, dom, domid) < 0 ? failed(c) : 0;
}

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void json_print(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		printf("%.*s\n", (int)len, buf);
	yajl_gen_free(g);
}

/* host */

static int parse_bdf_arg(const char *text, uint32_t *ret);
static int host_raise_irq(struct xpt_ctx *c, int argc, char **argv);

static int cmd_host(struct xpt_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "historic", no_argument, NULL, 'O' },
		{ "access-log", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct xpt_host_opts o = { 0 };
	bool json = false;
	int opt, r;

	if (argc < 2)
		return usage_err("host: start, stop or status?");
	if (!strcmp(argv[1], "raise-irq"))
		return host_raise_irq(c, argc, argv);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "H:OT:vj", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'H': o.hostfile = optarg; break;
		case 'O': o.historic = true; break;
		case 'T': o.access_log = optarg; break;
		case 'v': o.verbose = true; break;
		default: return usage_err("bad option");
		}
	}
	if (optind != argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	if (json && strcmp(argv[1], "status"))
		return usage_err("--json goes with status");
	if (!strcmp(argv[1], "start")) {
		r = xpt_host_start(c, &o);
		if (r == 0 && o.ret_restarted[0])
			printf("restarted %s in %s (the other daemons were "
			       "running)\n", o.ret_restarted,
			       xpt_ctx_rundir(c));
		else if (r == 0)
			printf("host started in %s\n", xpt_ctx_rundir(c));
		return done(c, r);
	}
	if (o.hostfile || o.historic || o.access_log)
		return usage_err("--host, --historic and --access-log go with "
				 "start");
	if (!strcmp(argv[1], "stop")) {
		r = xpt_host_stop(c);
		return done(c, r);
	}
	if (!strcmp(argv[1], "status") && json) {
		struct xpt_host_daemon d[XPT_HOST_DAEMONS];

		r = xpt_host_survey(c, d);
		if (r != -EOPNOTSUPP)
			cli_host_status_json(stdout, c, d, r == 0);
		return done(c, r);
	}
	if (!strcmp(argv[1], "status"))
		return done(c, xpt_host_status(c, stdout));
	return usage_err("host: '%s' is not start, stop or status", argv[1]);
}

/* xpt host raise-irq BDF [ENTRY]: the device signals (test hook) */
static int host_raise_irq(struct xpt_ctx *c, int argc, char **argv)
{
	unsigned long entry = 0;
	uint32_t sbdf;
	char *end;
	int r, delivered = 0;

	if (argc < 3 || argc > 4)
		return usage_err("raise-irq BDF [ENTRY]");
	r = parse_bdf_arg(argv[2], &sbdf);
	if (r)
		return r;
	if (argc == 4) {
		errno = 0;
		entry = strtoul(argv[3], &end, 0);
		if (errno || *end || entry > 2047)
			return usage_err("'%s' is not an interrupt entry",
					 argv[3]);
	}
	if (xpt_host_raise_irq(c, sbdf, (unsigned int)entry, &delivered) < 0)
		return failed(c);
	printf("%s\n", delivered ? "delivered" : "not delivered (nobody "
	       "listens on that interrupt)");
	return 0;
}

/* domains */

static int cmd_create(struct xpt_ctx *c, int argc, char **argv)
{
	static struct xpt_cfg cfg;
	bool paused = false;
	char err[768];
	unsigned int domid;
	size_t i;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+p")) != -1) {
		if (opt != 'p')
			return usage_err("bad option");
		paused = true;
	}
	if (optind >= argc)
		return usage_err("no configuration file");
	/* The parser's messages name the file (or the argument) already. */
	if (xpt_cfg_parse_file(argv[optind], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xpt: %s\n", err);
		return XPT_EXIT_USAGE;
	}
	for (optind++; optind < argc; optind++)
		if (xpt_cfg_apply_arg(&cfg, argv[optind], err, sizeof(err)) < 0) {
			fprintf(stderr, "xpt: %s\n", err);
			return XPT_EXIT_USAGE;
		}
	for (i = 0; i < cfg.nwarnings && i < XPT_CFG_MAX_WARNINGS; i++)
		fprintf(stderr, "xpt: warning: %s\n", cfg.warnings[i]);
	r = xpt_domain_create(c, &cfg, paused, &domid);
	if (r < 0)
		return failed(c);
	print_warnings(c);
	printf("created domain %s id %u%s\n", cfg.name, domid,
	       paused ? " (paused)" : "");
	return 0;
}

static int one_domain(struct xpt_ctx *c, int argc, char **argv,
		      unsigned int *domid)
{
	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return usage_err("bad option");
	if (argc - optind != 1)
		return usage_err("one DOMAIN (name or id) expected");
	return resolve(c, argv[optind], domid);
}

/* A domain id is taken as it is: the leftovers of a domain the
 * hypervisor no longer knows are still destroyed. */
/* NAME is no domain's, but a reboot of NAME was cut short: finish it
 * (reboot) or give it up (destroy).  -ENOENT: no such reboot. */
static int pending(struct xpt_ctx *c, int argc, char **argv, bool finish)
{
	unsigned int domid, newid;
	int r;

	if (argc != 2 || xpt_domain_resolve(c, argv[1], &domid) != -ESRCH)
		return -ENOENT;
	r = xpt_domain_reboot_pending(c, argv[1], finish, &newid);
	if (r == -ENOENT || !finish)
		return r == -ENOENT ? r : done(c, r);
	if (r < 0)
		return failed(c);
	print_warnings(c);
	printf("rebooted %s, whose reboot had been cut short: new id %u\n",
	       argv[1], newid);
	return 0;
}

static int cmd_destroy(struct xpt_ctx *c, int argc, char **argv)
{
	unsigned int domid;
	char *end;
	unsigned long v;
	int r;

	if (argc == 2 && argv[1][0] >= '0' && argv[1][0] <= '9') {
		errno = 0;
		v = strtoul(argv[1], &end, 10);
		if (!errno && !*end && v < 0x7ff0)
			return done(c, xpt_domain_destroy(c, (unsigned int)v));
	}
	r = pending(c, argc, argv, false);
	if (r != -ENOENT)
		return r;
	r = one_domain(c, argc, argv, &domid);
	return r ? r : done(c, xpt_domain_destroy(c, domid));
}

static int cmd_pause(struct xpt_ctx *c, int argc, char **argv)
{
	unsigned int domid;
	int r = one_domain(c, argc, argv, &domid);

	return r ? r : done(c, xpt_domain_pause(c, domid));
}

static int cmd_unpause(struct xpt_ctx *c, int argc, char **argv)
{
	unsigned int domid;
	int r = one_domain(c, argc, argv, &domid);

	return r ? r : done(c, xpt_domain_unpause(c, domid));
}

static int cmd_reboot(struct xpt_ctx *c, int argc, char **argv)
{
	unsigned int domid, newid;
	int r = pending(c, argc, argv, true);

	if (r != -ENOENT)
		return r;
	r = one_domain(c, argc, argv, &domid);
	if (r)
		return r;
	if (xpt_domain_reboot(c, domid, &newid) < 0)
		return failed(c);
	print_warnings(c);
	printf("rebooted domain %u: new id %u\n", domid, newid);
	return 0;
}

static int cmd_list(struct xpt_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	struct xpt_domain_info *d;
	bool json = false;
	size_t n, i;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return usage_err("bad option");
		json = true;
	}
	if (optind != argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	if (xpt_domain_list(c, &d, &n) < 0)
		return failed(c);
	if (json) {
		yajl_gen g = yajl_gen_alloc(NULL);

		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_array_open(g);
		for (i = 0; i < n; i++) {
			yajl_gen_map_open(g);
			GS(g, "domid"); yajl_gen_integer(g, d[i].domid);
			GS(g, "name"); GS(g, d[i].name);
			GS(g, "state"); GS(g, d[i].state);
			GS(g, "memory"); yajl_gen_integer(g, (long long)d[i].memory_mb);
			GS(g, "vcpus"); yajl_gen_integer(g, d[i].vcpus);
			GS(g, "pci_devices"); yajl_gen_integer(g, d[i].ndevs);
			GS(g, "pci_backend");
			GS(g, d[i].pci_backend[0] ? d[i].pci_backend : "ok");
			GS(g, "pci_error");
			if (d[i].pci_error[0])
				GS(g, d[i].pci_error);
			else
				yajl_gen_null(g);
			GS(g, "kernel");
			yajl_gen_bool(g, d[i].kernel_alive);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		json_print(g);
	} else {
		printf("%-20s %5s %6s %5s %-8s %4s\n", "Name", "ID", "Mem",
		       "VCPUs", "State", "PCI");
		for (i = 0; i < n; i++)
			printf("%-20s %5u %6llu %5u %-8s %4u%s\n", d[i].name,
			       d[i].domid, (unsigned long long)d[i].memory_mb,
			       d[i].vcpus, d[i].state, d[i].ndevs,
			       d[i].pci_backend[0] || d[i].pci_error[0] ?
			       " !" : "");
	}
	/* loudly: the guest lost its devices whatever the count says */
	for (i = 0; i < n; i++)
		if (d[i].pci_backend[0] || d[i].pci_error[0])
			fprintf(stderr, "xpt: warning: domain %u (%s): its PCI "
				"backend is %s%s%s%s: the guest has lost its "
				"PCI devices; see `xpt pci-list %u`\n",
				d[i].domid, d[i].name, d[i].pci_backend[0] ?
				d[i].pci_backend : "failing",
				d[i].pci_error[0] ? " (pciback: \"" : "",
				d[i].pci_error, d[i].pci_error[0] ? "\")" : "",
				d[i].domid);
	free(d);
	return done(c, 0);	/* what a restarted daemon left behind */
}

/* The arguments of a command that shows one domain: [--json] DOMAIN
 * (a name or an id).  0, or the exit code. */
static int json_domain_args(struct xpt_ctx *c, int argc, char **argv,
			    bool *json, unsigned int *domid)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	int opt;

	*json = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+j", opts, NULL)) != -1) {
		if (opt != 'j')
			return usage_err("bad option");
		*json = true;
	}
	if (argc - optind != 1)
		return usage_err("one DOMAIN (name or id) expected");
	return resolve(c, argv[optind], domid);
}

static int cmd_guest_status(struct xpt_ctx *c, int argc, char **argv)
{
	char *buf = NULL;
	unsigned int domid;
	bool json;
	int r;

	r = json_domain_args(c, argc, argv, &json, &domid);
	if (r)
		return r;
	buf = malloc(65536);
	if (!buf) {
		fprintf(stderr, "xpt: out of memory\n");
		return XPT_EXIT_FAIL;
	}
	if (xpt_guest_query(c, domid, "status", buf, 65536) < 0) {
		free(buf);
		return failed(c);
	}
	if (json)
		r = cli_guest_status_json(stdout, stderr, domid, buf);
	else
		cli_guest_status_text(stdout, buf);
	free(buf);
	return r;
}

/* PCI */

static int parse_bdf_arg(const char *text, uint32_t *ret)
{
	struct xpt_pci p;
	int r = parse_spec(text, &p);

	if (r)
		return r;
	if (!p.has_bdf || p.func_mask == XPT_FUNC_ALL) {
		fprintf(stderr, "xpt: '%s': one PCI function (BDF) expected\n",
			text);
		return XPT_EXIT_USAGE;
	}
	*ret = p.sbdf;
	return 0;
}

static int cmd_assignable_add(struct xpt_ctx *c, int argc, char **argv)
{
	const char *name = NULL;
	uint32_t sbdf;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+n:")) != -1) {
		if (opt != 'n')
			return usage_err("bad option");
		name = optarg;
	}
	if (argc - optind != 1)
		return usage_err("one BDF expected");
	r = parse_bdf_arg(argv[optind], &sbdf);
	return r ? r : done(c, xpt_assignable_add(c, sbdf, name));
}

static int cmd_assignable_remove(struct xpt_ctx *c, int argc, char **argv)
{
	struct xpt_pci p;
	bool rebind = false;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+r")) != -1) {
		if (opt != 'r')
			return usage_err("bad option");
		rebind = true;
	}
	if (argc - optind != 1)
		return usage_err("one BDF or name=NAME expected");
	r = parse_spec(argv[optind], &p);
	if (r)
		return r;
	if (p.has_bdf && p.func_mask == XPT_FUNC_ALL)
		return usage_err("one function, not '%s'", argv[optind]);
	return done(c, xpt_assignable_remove(c, &p, rebind));
}

static int cmd_assignable_list(struct xpt_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	struct xpt_assignable *a = NULL;
	char bdf[16];
	bool json = false, all = false;
	size_t n, i;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jna", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'n': break;	/* names are always shown */
		case 'a': all = true; break;
		default: return usage_err("bad option");
		}
	}
	if (optind != argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	a = calloc(XPT_ASSIGNABLE_MAX, sizeof(*a));
	if (!a) {
		fprintf(stderr, "xpt: out of memory\n");
		return XPT_EXIT_FAIL;
	}
	if (xpt_assignable_list(c, a, XPT_ASSIGNABLE_MAX, &n) < 0) {
		free(a);
		return failed(c);
	}
	if (json) {
		yajl_gen g = yajl_gen_alloc(NULL);

		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_array_open(g);
		for (i = 0; i < n; i++) {
			if (a[i].domid >= 0 && !all)
				continue;
			snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x",
				 XPT_PCI_SEG(a[i].sbdf), XPT_PCI_BUS(a[i].sbdf),
				 XPT_PCI_DEV(a[i].sbdf), XPT_PCI_FN(a[i].sbdf));
			yajl_gen_map_open(g);
			GS(g, "bdf"); GS(g, bdf);
			GS(g, "name");
			if (a[i].name[0])
				GS(g, a[i].name);
			else
				yajl_gen_null(g);
			GS(g, "domid");
			if (a[i].domid >= 0)
				yajl_gen_integer(g, a[i].domid);
			else
				yajl_gen_null(g);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		json_print(g);
		free(a);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (a[i].domid >= 0 && !all)
			continue;
		printf("%04x:%02x:%02x.%x", XPT_PCI_SEG(a[i].sbdf),
		       XPT_PCI_BUS(a[i].sbdf), XPT_PCI_DEV(a[i].sbdf),
		       XPT_PCI_FN(a[i].sbdf));
		if (a[i].name[0])
			printf(" %s", a[i].name);
		if (a[i].domid >= 0)
			printf(" (assigned to domain %d)", a[i].domid);
		printf("\n");
	}
	free(a);
	return 0;
}

static int cmd_pci_attach(struct xpt_ctx *c, int argc, char **argv)
{
	struct xpt_pci p;
	unsigned int domid;
	int r;

	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return usage_err("bad option");
	if (argc - optind != 2)
		return usage_err("DOMAIN and SPEC expected");
	r = parse_spec(argv[optind + 1], &p);
	if (r == 0)
		r = resolve(c, argv[optind], &domid);
	return r ? r : done(c, xpt_pci_attach(c, domid, &p));
}

static int cmd_pci_detach(struct xpt_ctx *c, int argc, char **argv)
{
	struct xpt_pci p;
	unsigned int domid;
	bool force = false;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+f")) != -1) {
		if (opt != 'f')
			return usage_err("bad option");
		force = true;
	}
	if (argc - optind != 2)
		return usage_err("DOMAIN and SPEC expected");
	r = parse_spec(argv[optind + 1], &p);
	if (r == 0)
		r = resolve(c, argv[optind], &domid);
	return r ? r : done(c, xpt_pci_detach(c, domid, &p, force));
}

static void list_json(unsigned int domid, const struct xpt_be *b)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	size_t i;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "domid"); yajl_gen_integer(g, domid);
	GS(g, "backend"); yajl_gen_bool(g, b->exists);
	GS(g, "backend_state");
	b->state >= 0 ? yajl_gen_integer(g, b->state) : yajl_gen_null(g);
	GS(g, "frontend_state");
	b->fe_state >= 0 ? yajl_gen_integer(g, b->fe_state) : yajl_gen_null(g);
	GS(g, "num_devs");
	b->num_devs >= 0 ? yajl_gen_integer(g, b->num_devs) : yajl_gen_null(g);
	GS(g, "devices");
	yajl_gen_array_open(g);
	for (i = 0; i < b->n; i++) {
		const struct xpt_be_entry *e = &b->e[i];

		yajl_gen_map_open(g);
		GS(g, "index"); yajl_gen_integer(g, e->index);
		GS(g, "bdf");
		e->valid ? GS(g, e->dev) : yajl_gen_null(g);
		if (!e->valid && e->has_dev) {
			GS(g, "raw_dev"); GS(g, e->dev);
		}
		GS(g, "vdev");
		e->vdev[0] ? GS(g, e->vdev) : yajl_gen_null(g);
		GS(g, "vdevfn");
		e->vdevfn >= 0 ? yajl_gen_integer(g, e->vdevfn) : yajl_gen_null(g);
		GS(g, "state");
		e->state >= 0 ? yajl_gen_integer(g, e->state) : yajl_gen_null(g);
		GS(g, "opts"); GS(g, e->opts);
		GS(g, "name");
		e->name[0] ? GS(g, e->name) : yajl_gen_null(g);
		GS(g, "beyond_num_devs"); yajl_gen_bool(g, e->beyond);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	GS(g, "warnings");
	yajl_gen_array_open(g);
	for (i = 0; i < b->nwarn; i++)
		GS(g, b->warn[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	json_print(g);
}

static int cmd_pci_list(struct xpt_ctx *c, int argc, char **argv)
{
	static struct xpt_be b;
	unsigned int domid;
	bool json;
	size_t i;
	int r;

	r = json_domain_args(c, argc, argv, &json, &domid);
	if (r)
		return r;
	if (xpt_pci_list(c, domid, &b) < 0)
		return failed(c);
	for (i = 0; i < b.nwarn; i++)
		fprintf(stderr, "xpt: warning: domain %u: %s\n", domid,
			b.warn[i]);
	if (json) {
		list_json(domid, &b);
		return 0;
	}
	if (!b.exists) {
		printf("domain %u has no PCI devices\n", domid);
		return 0;
	}
	printf("%-3s %-13s %-14s %-5s %s\n", "Idx", "Device", "Guest-vdev",
	       "State", "Options");
	for (i = 0; i < b.n; i++) {
		const struct xpt_be_entry *e = &b.e[i];
		char st[8];

		snprintf(st, sizeof(st), "%d", e->state);
		printf("%-3d %-13s %-14s %-5s %s%s%s%s\n", e->index,
		       e->valid ? e->dev : e->has_dev ? "(garbage)" :
		       "(missing)", e->vdev[0] ? e->vdev : "-",
		       e->state >= 0 ? st : "?", e->opts,
		       e->name[0] ? " name=" : "", e->name,
		       e->beyond ? "  [beyond num_devs]" : "");
	}
	return 0;
}

static int cmd_help(struct xpt_ctx *c, int argc, char **argv);

static int cmd_doctor(struct xpt_ctx *c, int argc, char **argv)
{
	return xpt_doctor_cmd(c, argc, argv, cur->usage);
}

static const struct cmd cmds[] = {
	{ "host", cmd_host, "start [--host FILE] [--historic] [--access-log FILE] [-v] | stop | status [--json] | raise-irq BDF [ENTRY]",
	  "Start, stop or show the modelled host (xenstored, hypervisor, "
	  "pciback) in $XPT_RUNDIR; raise-irq makes a device signal an "
	  "interrupt (a test hook)." },
	{ "create", cmd_create, "[-p] CONFIG [KEY=VALUE...]",
	  "Create a PV domain from an xl.cfg-style file, cold-plugging its "
	  "pci=[...] devices; -p leaves it paused." },
	{ "destroy", cmd_destroy, "DOMAIN",
	  "Destroy a domain: detach every device, reset it, remove all "
	  "state." },
	{ "list", cmd_list, "[--json]", "List domains." },
	{ "pause", cmd_pause, "DOMAIN", "Pause a domain." },
	{ "unpause", cmd_unpause, "DOMAIN",
	  "Unpause a domain (boots it if it was created with -p)." },
	{ "reboot", cmd_reboot, "DOMAIN",
	  "Destroy and re-create a domain with the devices attached now." },
	{ "pci-assignable-add", cmd_assignable_add, "[-n NAME] BDF",
	  "Make a device assignable: bind it to pciback and quarantine it." },
	{ "pci-assignable-remove", cmd_assignable_remove, "[-r] BDF|name=NAME",
	  "Give an assignable device back to dom0." },
	{ "pci-assignable-list", cmd_assignable_list, "[--json] [-a] [-n]",
	  "List assignable devices (-a: also those assigned to domains; -n, "
	  "as xl's: names are always shown)." },
	{ "pci-attach", cmd_pci_attach, "DOMAIN SPEC",
	  "Hot-plug a device (SPEC: [DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE...], "
	  "BB:DD.*@VSLOT, or name=NAME)." },
	{ "pci-detach", cmd_pci_detach, "[-f] DOMAIN SPEC",
	  "Hot-unplug a device; -f completes even if the guest does not "
	  "answer." },
	{ "pci-list", cmd_pci_list, "[--json] DOMAIN",
	  "List a domain's PCI devices as its backend records them." },
	{ "guest-status", cmd_guest_status, "[--json] DOMAIN",
	  "Show what the guest itself sees: devices, drivers, interrupts." },
	{ "trace", trace_cmd, TRACE_USAGE,
	  "The timeline of a domain's PCI protocol (or all domains') from a "
	  "store's log: parties, writes, watch events, transactions, xenbus "
	  "states; text, --json or --html." },
	{ "doctor", cmd_doctor, "[--json] [BDF|BB:DD.*|name=NAME...]",
	  "Check the host's readiness for passthrough (IOMMU, interrupt "
	  "remapping, pciback, the store, leftovers; each device's reset, "
	  "group, MSI/MSI-X and driver) and name the fix for each failure; "
	  "exit 1 if a check failed." },
	{ "help", cmd_help, "[COMMAND]", "Show help." },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: xpt [-v] [-q] [-R DIR] [-P PLATFORM] [-W F] COMMAND "
		"[ARGS...]\n"
		"The xpt toolstack: PCI passthrough to PV and HVM guests, on a Xen "
		"host or the modelled one.\n\n"
		"  -R, --rundir DIR  run directory (default $XPT_RUNDIR, "
		"else /run/xpt)\n"
		"  -P, --platform P  model or xen (default $XPT_PLATFORM, else "
		"xen in a\n"
		"                    Xen control domain, else model)\n"
		"  -v, --verbose     trace each hypervisor, pciback and domain "
		"call\n"
		"                    and each wait, timed, on stderr\n"
		"  -q, --quiet       say nothing of long waits (by default a "
		"wait that\n"
		"                    lasts says on stderr what it waits for)\n"
		"  -W, --wait-factor F\n"
		"                    wait F times as long (0.1 to 100) for "
		"backends,\n"
		"                    guests, device models, stub domains and "
		"daemons\n"
		"                    on a slow host (default $XPT_WAIT_FACTOR, "
		"else 1)\n"
		"  -h, --help        this help;  xpt COMMAND --help: a "
		"command's usage\n"
		"  -V, --version     the version\n\nCommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-22s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(f, "\nExit codes: 0 ok, 1 failed, 2 usage or parse error, "
		"3 no such domain or device.\nSee xpt(1) and xpt.cfg(5).\n");
}

static int cmd_help(struct xpt_ctx *c, int argc, char **argv)
{
	size_t i;

	(void)c;
	if (argc < 2) {
		main_usage(stdout);
		return 0;
	}
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, argv[1])) {
			cur = &cmds[i];
			return show_help();
		}
	return usage_err("no command '%s'", argv[1]);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XPT_HAS_ASAN 1
#endif
#endif
#ifndef XPT_HAS_ASAN
#define XPT_HAS_ASAN 0
#endif

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "platform", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "wait-factor", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = NULL, *platform = NULL, *factor = NULL;
	bool verbose = false, quiet = false;
	struct xpt_ctx *c;
	size_t i;
	int opt, r;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt_long(argc, argv, "+R:P:W:hVvq", opts, NULL)) != -1) {
		switch (opt) {
		case 'v': verbose = true; break;
		case 'q': quiet = true; break;
		case 'R': rundir = optarg; break;
		case 'P': platform = optarg; break;
		case 'W': factor = optarg; break;
		case 'h': main_usage(stdout); return 0;
		case 'V': printf("xpt %s\n", XPT_VERSION); return 0;
		default: main_usage(stderr); return XPT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		main_usage(stderr);
		return XPT_EXIT_USAGE;
	}
	for (i = 0; i < NCMDS && strcmp(cmds[i].name, argv[optind]); i++)
		;
	if (i == NCMDS) {
		fprintf(stderr, "xpt: '%s' is not a command; see `xpt --help`\n",
			argv[optind]);
		return XPT_EXIT_USAGE;
	}
	cur = &cmds[i];
	argc -= optind;
	argv += optind;
	if (cur->run != cmd_help && want_help(argc, argv))
		return show_help();
	r = xpt_ctx_open(rundir, &c);
	if (r < 0) {
		fprintf(stderr, "xpt: run directory: %s\n", strerror(-r));
		return XPT_EXIT_FAIL;
	}
	xpt_ctx_set_verbose(c, verbose);
	if (!quiet)
		xpt_ctx_set_progress(c, cli_progress, stderr);
	if (xpt_ctx_set_wait_factor(c, factor) < 0 ||
	    xpt_ctx_set_platform(c, platform) < 0)
		r = failed(c);
	else
		r = cur->run(c, argc, argv);
#if defined(__SANITIZE_ADDRESS__) || XPT_HAS_ASAN
	xpt_ctx_close(c);	/* so LeakSanitizer sees the context go */
	return r;
#else
	/* The kernel closes the connections (xenstored drops a closed
	 * connection's watches); xs_close would cancel libxenstore's reader
	 * thread, and pthread_cancel loads libgcc_s to unwind it: 40-50 ms
	 * of every command on a Xen dom0 under emulation. */
	fflush(NULL);
	_exit(r);
#endif
}
