// SPDX-License-Identifier: MIT
/*
 * xpt trace: the command.  Reads a store's log (the file given, else the
 * modelled host's access log recorded at `xpt host start --access-log`)
 * and writes the timeline as text, JSON or an HTML page, with the
 * modelled hypervisor's events merged in when LOG.hv (xpt-hypervisor
 * --event-log, which `xpt host start --access-log LOG` writes) or
 * --hv-log FILE is there.  It reads files only: no host need run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpt/xpt.h"
#include "trace.h"

static int trace_usage_err(const char *what, const char *arg)
{
	fprintf(stderr, "xpt: trace: %s%s%s\nusage: xpt trace %s\n", what,
		arg ? " " : "", arg ? arg : "", TRACE_USAGE);
	return XPT_EXIT_USAGE;
}

/* RUNDIR/access-log names the log of the host started there. */
static int recorded_log(struct xpt_ctx *c, char *out, size_t outlen)
{
	char rec[4096];
	FILE *f;
	size_t n;

	snprintf(rec, sizeof(rec), "%s/access-log", xpt_ctx_rundir(c));
	f = fopen(rec, "re");
	if (!f)
		return -errno;
	if (!fgets(out, (int)outlen, f)) {
		fclose(f);
		return -ENOENT;
	}
	fclose(f);
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = 0;
	return n ? 0 : -ENOENT;
}

/* The hypervisor's events: hv_log given (it must be there), else LOG.hv
 * when it is there. */
static int merge_hv(struct trace *t, const char *log, const char *hv_log,
		    char *buf, size_t buflen, char *err, size_t errlen)
{
	FILE *f;
	int r;

	if (!hv_log) {
		if (!strcmp(log, "-") || (size_t)snprintf(buf, buflen, "%s.hv",
							  log) >= buflen)
			return 0;
		hv_log = buf;
	}
	f = fopen(hv_log, "re");
	if (!f) {
		if (hv_log == buf && errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "cannot open %.400s: %s", hv_log,
			 strerror(-r));
		return r;
	}
	r = trace_merge_hv(t, f, hv_log, err, errlen);
	fclose(f);
	return r;
}

/* D, or a name to find in the log. */
static void parse_domain(const char *arg, struct trace_opts *o)
{
	char *end;
	unsigned long d;

	errno = 0;
	d = strtoul(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !*end && !errno && d <= 65535) {
		o->domid = (int)d;
		o->domain_name = NULL;
	} else {
		o->domid = -1;
		o->domain_name = arg;
	}
}

int trace_cmd(struct xpt_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "reads", no_argument, NULL, 'r' },
		{ "all-paths", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", no_argument, NULL, 'H' },
		{ "output", required_argument, NULL, 'o' },
		{ "hv-log", required_argument, NULL, 'v' },
		{ "no-hv-log", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct trace_opts o = { .domid = -1 };
	struct trace t = { 0 };
	const char *out_path = NULL, *log, *hv_log = NULL;
	char recorded[4096], hv_path[4096], err[512];
	bool no_hv = false;
	enum { TEXT, JSON, HTML } fmt = TEXT;
	FILE *out = stdout;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:rajHo:", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': parse_domain(optarg, &o); break;
		case 'r': o.reads = true; break;
		case 'a': o.all_paths = true; break;
		case 'j': fmt = JSON; break;
		case 'H': fmt = HTML; break;
		case 'o': out_path = optarg; break;
		case 'v': hv_log = optarg; no_hv = false; break;
		case 'n': no_hv = true; hv_log = NULL; break;
		default: return trace_usage_err("bad option", NULL);
		}
	}
	if (argc - optind > 1)
		return trace_usage_err("one log at most, not also",
				       argv[optind + 1]);
	if (optind < argc) {
		log = argv[optind];
	} else {
		r = recorded_log(c, recorded, sizeof(recorded));
		if (r < 0) {
			fprintf(stderr, "xpt: trace: no log given, and the host "
				"in %s was not started with an access log: give "
				"a log (xpt-xenstored -T FILE, or C xenstored's "
				"-T FILE), or start the host with `xpt host "
				"start --access-log FILE`\n", xpt_ctx_rundir(c));
			return XPT_EXIT_USAGE;
		}
		log = recorded;
	}
	if (!strcmp(log, "-"))	/* zcat old.log.gz | xpt trace - */
		r = trace_parse(stdin, "(standard input)", &o, &t, err,
				sizeof(err));
	else
		r = trace_read(log, &o, &t, err, sizeof(err));
	if (r == 0 && !no_hv) {
		r = merge_hv(&t, log, hv_log, hv_path, sizeof(hv_path), err,
			     sizeof(err));
		if (r < 0)
			trace_free(&t);
	}
	if (r < 0) {
		fprintf(stderr, "xpt: trace: %s\n", err);
		return r == -ENOENT ? XPT_EXIT_NOTFOUND : XPT_EXIT_FAIL;
	}
	if (out_path) {
		out = fopen(out_path, "we");
		if (!out) {
			fprintf(stderr, "xpt: trace: cannot write %s: %s\n",
				out_path, strerror(errno));
			trace_free(&t);
			return XPT_EXIT_FAIL;
		}
	}
	errno = 0;
	r = fmt == JSON ? trace_write_json(out, &t) :
	    fmt == HTML ? trace_write_html(out, &t) :
	    trace_write_text(out, &t);
	if (out != stdout && fclose(out) && r == 0)
		r = -errno;
	else if (out == stdout && fflush(out) && r == 0)
		r = -errno;
	trace_free(&t);
	if (r < 0 && !out_path && errno == EPIPE)
		return XPT_EXIT_FAIL;	/* a reader that stopped (| head) */
	if (r < 0) {
		fprintf(stderr, "xpt: trace: cannot write %s: %s\n",
			out_path ? out_path : "the output", strerror(-r));
		return XPT_EXIT_FAIL;
	}
	return XPT_EXIT_OK;
}
