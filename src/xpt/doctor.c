// SPDX-License-Identifier: MIT
/*
 * xpt doctor: libxpt's readiness checks (xpt_doctor_run) as one line per
 * check, a "fix:" line under each that did not pass, or as JSON.
 *
 * JSON (stable; a new key may be added, none renamed):
 *   {"platform": "model", "result": "fail",
 *    "counts": {"pass": 9, "warn": 0, "fail": 1, "skip": 0},
 *    "checks": [{"check": "reset", "object": "0000:05:00.0",
 *                "status": "fail", "detail": "...", "fix": "..."}, ...]}
 * "fix" is null on a passed check.  Exit code 0 when nothing failed
 * (warnings and skips included), 1 when a check failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "doctor.h"
#include "xpt/spec.h"
#include "xpt/xpt.h"

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static const char *lower(enum xpt_check_status s)
{
	static const char *const names[] = {
		[XPT_CHECK_PASS] = "pass", [XPT_CHECK_WARN] = "warn",
		[XPT_CHECK_FAIL] = "fail", [XPT_CHECK_SKIP] = "skip",
	};

	return s <= XPT_CHECK_SKIP ? names[s] : "?";
}

static void print_json(struct xpt_ctx *c, const struct xpt_check *v,
		       size_t n, const size_t counts[4])
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t i, len;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "platform"); GS(g, xpt_ctx_platform(c));
	GS(g, "result"); GS(g, counts[XPT_CHECK_FAIL] ? "fail" : "ok");
	GS(g, "counts");
	yajl_gen_map_open(g);
	for (i = 0; i < 4; i++) {
		GS(g, lower((enum xpt_check_status)i));
		yajl_gen_integer(g, (long long)counts[i]);
	}
	yajl_gen_map_close(g);
	GS(g, "checks");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		GS(g, "check"); GS(g, v[i].check);
		GS(g, "object"); GS(g, v[i].object);
		GS(g, "status"); GS(g, lower(v[i].status));
		GS(g, "detail"); GS(g, v[i].detail);
		GS(g, "fix");
		if (v[i].status == XPT_CHECK_PASS || !v[i].fix[0])
			yajl_gen_null(g);
		else
			GS(g, v[i].fix);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		printf("%.*s\n", (int)len, buf);
	yajl_gen_free(g);
}

int xpt_doctor_cmd(struct xpt_ctx *c, int argc, char **argv,
		   const char *usage)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	struct xpt_check *v = NULL;
	struct xpt_pci *specs = NULL;
	size_t n = 0, nspecs = 0, counts[4] = { 0 }, i;
	bool json = false;
	char err[256];
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j') {
			fprintf(stderr, "xpt: bad option\nusage: xpt doctor "
				"%s\n", usage);
			return XPT_EXIT_USAGE;
		}
		json = true;
	}
	specs = calloc((size_t)(argc - optind) + 1, sizeof(*specs));
	if (!specs) {
		fprintf(stderr, "xpt: out of memory\n");
		return XPT_EXIT_FAIL;
	}
	for (; optind < argc; optind++) {
		if (xpt_pci_spec_parse(argv[optind], &specs[nspecs], err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "xpt: PCI spec %s\nusage: xpt doctor "
				"%s\n", err, usage);
			free(specs);
			return XPT_EXIT_USAGE;
		}
		nspecs++;
	}
	r = xpt_doctor_run(c, specs, nspecs, &v, &n);
	free(specs);
	if (r < 0) {
		fprintf(stderr, "xpt: %s\n", xpt_ctx_error(c));
		return xpt_ctx_exit_code(c);
	}
	for (i = 0; i < n; i++)
		counts[v[i].status <= XPT_CHECK_SKIP ? v[i].status :
		       XPT_CHECK_FAIL]++;
	if (json) {
		print_json(c, v, n, counts);
	} else {
		for (i = 0; i < n; i++) {
			printf("%s %-10s %s: %s\n",
			       xpt_check_status_name(v[i].status), v[i].check,
			       v[i].object, v[i].detail);
			if (v[i].status != XPT_CHECK_PASS && v[i].fix[0])
				printf("     fix: %s\n", v[i].fix);
		}
		printf("doctor: %zu passed, %zu warned, %zu failed, %zu "
		       "skipped (%s host)\n", counts[XPT_CHECK_PASS],
		       counts[XPT_CHECK_WARN], counts[XPT_CHECK_FAIL],
		       counts[XPT_CHECK_SKIP], xpt_ctx_platform(c));
	}
	free(v);
	return counts[XPT_CHECK_FAIL] ? XPT_EXIT_FAIL : XPT_EXIT_OK;
}
