// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt doctor's parsers (src/libxpt/doctor.c): Xen's
 * console ring as `xl dmesg` gives it (xpt_console_parse) and a device's
 * configuration space (xpt_pci_caps_parse), both read from a host that
 * may be broken: a wrapped ring, a device answering garbage.
 *
 * Input: the first byte picks the parser (even: the console, the rest as
 * text; odd: the rest as configuration space, its length as given).
 * Besides no crash, UB or leak: the console's facts are -1, 0 or 1 and at
 * most XPT_RMRR_MAX endpoints, each a valid function with an RMRR index
 * below the number of RMRR headers seen; a capability walk ends (no
 * loop) with MSI vectors a power of two up to 32 and MSI-X entries
 * 1..2048, and never reads past the bytes given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxpt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-doctor: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

static void console(const uint8_t *data, size_t size)
{
	struct xpt_console_facts f;
	char *text = malloc(size + 1);
	size_t i;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	xpt_console_parse(text, &f);
	CHECK(f.iommu >= -1 && f.iommu <= 1);
	CHECK(f.intremap >= -1 && f.intremap <= 1);
	CHECK(f.nrmrr <= XPT_RMRR_MAX);
	for (i = 0; i < f.nrmrr; i++) {
		CHECK(XPT_PCI_SEG(f.rmrr[i].sbdf) <= 0xffff);
		CHECK(strstr(text, "found ACPI_DMAR_RMRR:") != NULL);
		CHECK(f.rmrr[i].rmrr < size);
	}
	free(text);
}

static void caps(const uint8_t *data, size_t size)
{
	/* its own allocation, so ASan sees a read past the end */
	uint8_t *conf = malloc(size ? size : 1);
	struct xpt_pci_caps k;
	int r;

	if (!conf)
		return;
	memcpy(conf, data, size);
	r = xpt_pci_caps_parse(conf, size, &k);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE || r == -ELOOP ||
	      r == -ENODEV);
	if (size < 64)
		CHECK(r == -EINVAL);
	if (r == 0 && k.msi)
		CHECK(k.msi_vectors >= 1 && k.msi_vectors <= 128 &&
		      !(k.msi_vectors & (k.msi_vectors - 1)));
	if (r == 0 && k.msix)
		CHECK(k.msix_entries >= 1 && k.msix_entries <= 2048);
	if (r == 0)
		CHECK(!k.flr || k.pcie);
	free(conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		caps(data + 1, size - 1);
	else
		console(data + 1, size - 1);
	return 0;
}
