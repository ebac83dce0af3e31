// SPDX-License-Identifier: MIT
/*
 * xpt doctor's parsers (src/libxpt/doctor.c) on captured text: Xen's
 * console ring as `xl dmesg` prints it (IOMMU, interrupt remapping and
 * VT-d RMRR lines, with and without console timestamps, guests' lines
 * mixed in, a ring that has wrapped past the boot messages) and PCI
 * configuration space (capability lists: MSI, MSI-X, PCIe FLR; broken,
 * looping and cut-short lists).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "libxpt.h"

/* Xen 4.17 on an Intel host, as the lab's and users' `xl dmesg` show. */
static const char vtd_417[] =
	"(XEN) Xen version 4.17.5-pre (Debian 4.17.5+23-ga4e5191dc0-1) "
	"(pkg-xen-devel@lists.alioth.debian.org) (x86_64-linux-gnu-gcc "
	"(Debian 12.2.0-14) 12.2.0) debug=n Wed Nov 13 2024\n"
	"(XEN) [VT-D]found ACPI_DMAR_DRHD:\n"
	"(XEN) [VT-D]  dmaru->address = fed90000\n"
	"(XEN) [VT-D]found ACPI_DMAR_RMRR:\n"
	"(XEN) [VT-D] endpoint: 0000:00:14.0\n"
	"(XEN) [VT-D] endpoint: 0000:00:1a.0\n"
	"(XEN) [VT-D]found ACPI_DMAR_RMRR:\n"
	"(XEN) [VT-D] endpoint: 0000:00:02.0\n"
	"(XEN) [VT-D]found ACPI_DMAR_ATSR:\n"
	"(XEN) [VT-D] endpoint: 0000:00:1f.0\n"
	"(XEN) Intel VT-d iommu 0 supported page sizes: 4kB, 2MB, 1GB\n"
	"(XEN) Intel VT-d Snoop Control enabled.\n"
	"(XEN) Intel VT-d Interrupt Remapping enabled.\n"
	"(XEN) I/O virtualisation enabled\n"
	"(XEN)  - Dom0 mode: Relaxed\n"
	"(XEN) Interrupt remapping enabled\n"
	"(XEN) Enabled directed EOI with ioapic_ack_old on!\n";

static void test_console_vtd(void **state)
{
	struct xpt_console_facts f;

	(void)state;
	xpt_console_parse(vtd_417, &f);
	assert_int_equal(f.iommu, 1);
	assert_int_equal(f.intremap, 1);
	/* two RMRRs; the ATSR's endpoint is none of theirs */
	assert_int_equal(f.nrmrr, 3);
	assert_int_equal(f.rmrr[0].sbdf, XPT_PCI_SBDF(0, 0, 0x14, 0));
	assert_int_equal(f.rmrr[1].sbdf, XPT_PCI_SBDF(0, 0, 0x1a, 0));
	assert_int_equal(f.rmrr[0].rmrr, f.rmrr[1].rmrr);
	assert_int_equal(f.rmrr[2].sbdf, XPT_PCI_SBDF(0, 0, 2, 0));
	assert_int_not_equal(f.rmrr[2].rmrr, f.rmrr[0].rmrr);
}

/* console_timestamps=boot (4.20: "[    0.123456]"), =datems, CRLF as a
 * serial capture has them, and remapping off (iommu=no-intremap) */
static void test_console_timestamps(void **state)
{
	struct xpt_console_facts f;

	(void)state;
	xpt_console_parse("(XEN) [    0.412345] I/O virtualisation enabled\r\n"
			  "(XEN) [    0.412400]  - Dom0 mode: Relaxed\r\n"
			  "(XEN) [    0.412500] Interrupt remapping disabled\r\n",
			  &f);
	assert_int_equal(f.iommu, 1);
	assert_int_equal(f.intremap, 0);
	xpt_console_parse("(XEN) [2026-12-05 21:00:00.123] I/O virtualisation "
			  "enabled\n(XEN) [2026-12-05 21:00:00.124] Interrupt "
			  "remapping enabled\n", &f);
	assert_int_equal(f.iommu, 1);
	assert_int_equal(f.intremap, 1);
}

/* iommu=0: only the first line, no remapping line at all */
static void test_console_disabled(void **state)
{
	struct xpt_console_facts f;

	(void)state;
	xpt_console_parse("(XEN) I/O virtualisation disabled\n"
			  "(XEN) ENABLING IO-APIC IRQs\n", &f);
	assert_int_equal(f.iommu, 0);
	assert_int_equal(f.intremap, -1);
	assert_int_equal(f.nrmrr, 0);
}

/* what a guest prints does not count; a ring that wrapped has nothing */
static void test_console_not_xen(void **state)
{
	struct xpt_console_facts f;

	(void)state;
	xpt_console_parse("(d1) I/O virtualisation enabled\n"
			  "(d1) Interrupt remapping enabled\n"
			  "I/O virtualisation enabled\n"
			  "(XEN) I/O virtualisation enabledX\n"
			  "(XEN) [VT-D] endpoint: 0000:00:14.0\n", &f);
	assert_int_equal(f.iommu, -1);
	assert_int_equal(f.intremap, -1);
	assert_int_equal(f.nrmrr, 0);	/* an endpoint outside an RMRR */
	xpt_console_parse("", &f);
	assert_int_equal(f.iommu, -1);
	/* a line longer than the parser's buffer, without a newline */
	{
		char big[1000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		xpt_console_parse(big, &f);
		assert_int_equal(f.iommu, -1);
	}
}

static void cap(uint8_t *c, unsigned int pos, unsigned int id,
		unsigned int next, unsigned int ctrl)
{
	c[pos] = (uint8_t)id;
	c[pos + 1] = (uint8_t)next;
	c[pos + 2] = (uint8_t)ctrl;
	c[pos + 3] = (uint8_t)(ctrl >> 8);
}

static void test_caps(void **state)
{
	uint8_t c[256];
	struct xpt_pci_caps k;

	(void)state;
	memset(c, 0, sizeof(c));
	c[0] = 0x86; c[1] = 0x80;
	assert_int_equal(xpt_pci_caps_parse(c, sizeof(c), &k), 0);
	assert_false(k.msi || k.msix || k.pcie);	/* no list */
	c[6] = 0x10;
	c[0x34] = 0x40;
	cap(c, 0x40, 0x01, 0x50, 0);			/* PM */
	cap(c, 0x50, 0x05, 0x70, 5 << 1);		/* MSI, 32 vectors */
	cap(c, 0x70, 0x11, 0x80, 0x20);			/* MSI-X, 33 */
	cap(c, 0x80, 0x10, 0x00, 0x0002);		/* PCIe */
	c[0x86] = 0x00; c[0x87] = 0x10;			/* DevCap FLR */
	assert_int_equal(xpt_pci_caps_parse(c, sizeof(c), &k), 0);
	assert_true(k.msi && k.msix && k.pcie && k.flr);
	assert_int_equal(k.msi_vectors, 32);
	assert_int_equal(k.msix_entries, 33);
	/* cut at 64 bytes (sysfs to a user that is not root) */
	assert_int_equal(xpt_pci_caps_parse(c, 64, &k), -ERANGE);
	assert_int_equal(xpt_pci_caps_parse(c, 32, &k), -EINVAL);
	/* a list that loops */
	c[0x81] = 0x40;
	assert_int_equal(xpt_pci_caps_parse(c, sizeof(c), &k), -ELOOP);
	/* a pointer into the header */
	c[0x81] = 0x00;
	c[0x34] = 0x20;
	assert_int_equal(xpt_pci_caps_parse(c, sizeof(c), &k), -EINVAL);
	/* nothing answers */
	memset(c, 0xff, sizeof(c));
	assert_int_equal(xpt_pci_caps_parse(c, sizeof(c), &k), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_vtd),
		cmocka_unit_test(test_console_timestamps),
		cmocka_unit_test(test_console_disabled),
		cmocka_unit_test(test_console_not_xen),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
