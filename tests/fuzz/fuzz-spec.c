// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the two text parsers of libxpt: PCI spec strings and
 * the xl.cfg subset (as a file and as a command-line KEY=VALUE argument).
 * Besides no crash, UB or leak: every input that parses must come back the
 * same from its canonical text, and every error must say something.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpt/spec.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-spec: %s:%d: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

static void check_spec(const char *text)
{
	char err[256] = "", buf[XPT_PCI_SPEC_MAX], buf2[XPT_PCI_SPEC_MAX];
	struct xpt_pci p, q;

	if (xpt_pci_spec_parse(text, &p, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(xpt_pci_spec_format(&p, buf, sizeof(buf)) == 0);
	CHECK(xpt_pci_spec_parse(buf, &q, err, sizeof(err)) == 0);
	CHECK(xpt_pci_spec_equal(&p, &q));
	CHECK(xpt_pci_spec_format(&q, buf2, sizeof(buf2)) == 0);
	CHECK(strcmp(buf, buf2) == 0);
}

static void check_cfg(const struct xpt_cfg *a)
{
	static struct xpt_cfg b;
	static char buf[1 << 17];
	char err[512] = "", spec[XPT_PCI_SPEC_MAX];
	struct xpt_pci q;
	size_t i;

	CHECK(a->npci <= XPT_CFG_MAX_PCI);
	for (i = 0; i < a->npci; i++) {
		/* Canonical text spells out every non-default, pci_* defaults included. */
		CHECK(xpt_pci_spec_format(&a->pci[i], spec, sizeof(spec)) == 0);
		CHECK(xpt_pci_spec_parse(spec, &q, err, sizeof(err)) == 0);
		CHECK(xpt_pci_spec_equal(&a->pci[i], &q));
	}
	CHECK(xpt_cfg_format(a, buf, sizeof(buf)) == 0);
	if (xpt_cfg_parse_string(buf, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-spec: canonical text does not parse: %s\n%s", err, buf);
		abort();
	}
	CHECK(xpt_cfg_equal(a, &b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xpt_cfg cfg, base;
	char err[512] = "";
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	check_spec(text);

	if (xpt_cfg_parse_string(text, &cfg, err, sizeof(err)) == 0) {
		check_cfg(&cfg);
	} else {
		CHECK(err[0] != '\0');
	}

	/* The same bytes as an argument over a fixed config. */
	if (xpt_cfg_parse_string("name = \"base\"\npci = [ \"03:00.0\", \"name=gpu\" ]\n",
				 &base, err, sizeof(err)) != 0)
		abort();
	memcpy(&cfg, &base, sizeof(cfg));
	err[0] = '\0';
	if (xpt_cfg_apply_arg(&cfg, text, err, sizeof(err)) == 0) {
		check_cfg(&cfg);
	} else {
		CHECK(err[0] != '\0');
		CHECK(memcmp(&cfg, &base, sizeof(cfg)) == 0);
	}
	free(text);
	return 0;
}
