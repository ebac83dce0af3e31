// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the persisted domain configuration
 * (src/libxpt/config.c): the input is the text of
 * $XPT_RUNDIR/xpt/domains/<domid>.json, as a damaged disk, an old
 * version or a hand edit may leave it.  Besides no crash, UB or leak:
 * an input is refused with a message, or the configuration it gives can
 * be written out again (xpt_domcfg_to_json), that text parses to the
 * same configuration, and writing that one out gives the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-domcfg: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

static void check_same(const struct xpt_domcfg *a, const struct xpt_domcfg *b)
{
	const struct xpt_cfg *x = &a->cfg, *y = &b->cfg;

	CHECK(a->domid == b->domid);
	CHECK(!strcmp(a->uuid, b->uuid));
	CHECK(a->started == b->started);
	CHECK(!strcmp(x->name, y->name));
	CHECK(!strcmp(x->type, y->type));
	CHECK(x->memory_mb == y->memory_mb);
	CHECK(x->vcpus == y->vcpus);
	CHECK(!strcmp(x->passthrough, y->passthrough));
	CHECK(!strcmp(x->kernel, y->kernel));
	CHECK(!strcmp(x->ramdisk, y->ramdisk));
	CHECK(!strcmp(x->extra, y->extra));
	CHECK(!strcmp(x->serial, y->serial));
	CHECK(!strcmp(x->vga, y->vga));
	CHECK(!strcmp(x->dm_version, y->dm_version));
	CHECK(x->stubdomain == y->stubdomain);
	CHECK(!strcmp(x->stubdomain_kernel, y->stubdomain_kernel));
	CHECK(!strcmp(x->stubdomain_ramdisk, y->stubdomain_ramdisk));
	CHECK(!strcmp(x->stubdomain_cmdline, y->stubdomain_cmdline));
	CHECK(x->stubdomain_memory_mb == y->stubdomain_memory_mb);
	CHECK(x->e820_host == y->e820_host);
	CHECK(x->npci == y->npci);
	for (size_t i = 0; i < x->npci; i++)
		CHECK(xpt_pci_spec_equal(&x->pci[i], &y->pci[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xpt_domcfg d, back;
	char err[512] = "", *text, *out = NULL, *again = NULL;

	if (size > 1 << 20)	/* what xpt_domcfg_load reads at most */
		return 0;
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	if (xpt_domcfg_from_json(text, &d, err, sizeof(err)) < 0) {
		CHECK(err[0]);
		free(text);
		return 0;
	}
	free(text);
	CHECK(xpt_domcfg_to_json(&d, &out) == 0);
	err[0] = '\0';
	if (xpt_domcfg_from_json(out, &back, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-domcfg: written text refused: %s\n%s\n",
			err, out);
		abort();
	}
	check_same(&d, &back);
	CHECK(xpt_domcfg_to_json(&back, &again) == 0);
	CHECK(!strcmp(out, again));
	free(out);
	free(again);
	return 0;
}
