// SPDX-License-Identifier: MIT
/* xpt-pciback: config-space virtualisation (docs/protocol.md §5.5). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fakehv.h"
#include "pciback.h"

#define SBDF HV_SBDF(0, 3, 0, 0)

static struct pciback pb;
static struct pb_backend be = { .domid = 7 };
static struct pb_dev *dev;
static struct fakehv_dev *hw;

static int setup(void **state)
{
	char msg[200];

	fakehv_reset();
	memset(&pb, 0, sizeof(pb));
	pb.epfd = pb.ctlfd = -1;
	hw = fakehv_add(SBDF, 0x1af4, 0x1042, 0x010000, true, 8, 1);
	fakehv_set_bar(hw, 0, 0xfe000000, 0x4000, 0);
	fakehv_set_bar(hw, 1, 0xc000, 0x40, HV_BAR_IO);
	fakehv_set_bar(hw, 2, 0x3800000000ull, 0x200000,
		       HV_BAR_64 | HV_BAR_PREFETCH);
	assert_int_equal(pciback_seize(&pb, SBDF, msg, sizeof(msg)), 0);
	dev = pciback_dev_find(&pb, SBDF);
	assert_int_equal(pciback_export(&pb, &be, dev, msg, sizeof(msg)), 0);
	return 0;
}

static int teardown(void **state)
{
	pciback_fini(&pb);
	return 0;
}

static uint32_t rd(int off, int size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(pciback_conf_read(&pb, dev, off, size, &v), 0);
	return v;
}

static void test_seize_state(void **state)
{
	/* reset on seize, header restored, device quiesced, MSI-X prepared */
	assert_int_equal(hw->resets, 1);
	assert_int_equal(hw->prepared, 1);
	assert_int_equal(fakehv_cfg16(SBDF, 0x10), 0x0000);
	assert_int_equal(fakehv_cfg16(SBDF, 0x12), 0xfe00);
	assert_int_equal(fakehv_cfg16(SBDF, 4), 0);
	assert_int_equal(dev->msi_cap, FAKEHV_MSI_CAP);
	assert_int_equal(dev->msix_cap, FAKEHV_MSIX_CAP);
}

static void test_ids_and_intline(void **state)
{
	assert_int_equal(rd(0, 4), 0x10421af4);
	assert_int_equal(rd(2, 2), 0x1042);
	assert_int_equal(pciback_conf_write(&pb, dev, 0, 4, 0x12345678), 0);
	assert_int_equal(rd(0, 4), 0x10421af4);
	assert_int_equal(rd(0x3c, 1), hw->info.gsi);
	assert_int_equal(pciback_conf_write(&pb, dev, 0x3c, 1, 0x55), 0);
	assert_int_equal(rd(0x3c, 1), hw->info.gsi);
	/* class passes through */
	assert_int_equal(rd(8, 4) >> 8, 0x010000);
}

static void test_bar_sizing(void **state)
{
	/* 32-bit memory BAR, 16 KiB */
	assert_int_equal(rd(0x10, 4), 0xfe000000);
	assert_int_equal(pciback_conf_write(&pb, dev, 0x10, 4, 0xffffffff), 0);
	assert_int_equal(rd(0x10, 4), 0xffffc000);
	assert_int_equal(fakehv_cfg16(SBDF, 0x12), 0xfe00);	/* untouched */
	assert_int_equal(pciback_conf_write(&pb, dev, 0x10, 4, 0xfe000000), 0);
	assert_int_equal(rd(0x10, 4), 0xfe000000);
	/* other values are ignored: dom0 owns the address */
	assert_int_equal(pciback_conf_write(&pb, dev, 0x10, 4, 0x12340000), 0);
	assert_int_equal(rd(0x10, 4), 0xfe000000);
	/* I/O BAR, 64 ports */
	assert_int_equal(rd(0x14, 4), 0xc001);
	pciback_conf_write(&pb, dev, 0x14, 4, 0xffffffff);
	assert_int_equal(rd(0x14, 4), 0xffffffc1);
	pciback_conf_write(&pb, dev, 0x14, 4, 0xc001);
	/* 64-bit prefetchable BAR, 2 MiB above 4 GiB: both halves */
	assert_int_equal(rd(0x18, 4), 0x0000000c);
	assert_int_equal(rd(0x1c, 4), 0x38);
	pciback_conf_write(&pb, dev, 0x18, 4, 0xffffffff);
	pciback_conf_write(&pb, dev, 0x1c, 4, 0xffffffff);
	assert_int_equal(rd(0x18, 4), 0xffe0000c);
	assert_int_equal(rd(0x1c, 4), 0xffffffff);
	pciback_conf_write(&pb, dev, 0x18, 4, 0x0000000c);
	pciback_conf_write(&pb, dev, 0x1c, 4, 0x38);
	assert_int_equal(rd(0x1c, 4), 0x38);
	/* an unused BAR sizes to 0 */
	pciback_conf_write(&pb, dev, 0x20, 4, 0xffffffff);
	assert_int_equal(rd(0x20, 4), 0);
	/* ROM: sizing value ~ENABLE; the model knows no ROM: reads 0 */
	pciback_conf_write(&pb, dev, 0x30, 4, 0xfffffffe);
	assert_int_equal(rd(0x30, 4), 0);
}

static void test_command(void **state)
{
	/* memory enable goes through "pci_enable_device" */
	assert_int_equal(pciback_conf_write(&pb, dev, 4, 2, 0x0006), 0);
	assert_int_equal(fakehv_cfg16(SBDF, 4), 0x0007);   /* IO|MEM|MASTER */
	assert_int_equal(rd(4, 2), 0x0006);	/* the guest's view */
	/* non-GUEST bits (SERR, INTx disable) stay virtual */
	assert_int_equal(pciback_conf_write(&pb, dev, 4, 2, 0x0506), 0);
	assert_int_equal(fakehv_cfg16(SBDF, 4), 0x0007);
	assert_int_equal(rd(4, 2), 0x0506);
	/* GUEST bits need permissive; SPECIAL (0x8) here */
	pciback_conf_write(&pb, dev, 4, 2, 0x000e);
	assert_int_equal(fakehv_cfg16(SBDF, 4) & 0x8, 0);
	dev->permissive = true;
	pciback_conf_write(&pb, dev, 4, 2, 0x000e);
	assert_int_equal(fakehv_cfg16(SBDF, 4) & 0x8, 0x8);
	/* disable */
	pciback_conf_write(&pb, dev, 4, 2, 0);
	assert_int_equal(fakehv_cfg16(SBDF, 4), 0);
	/* a 4-byte write covering command and status */
	assert_int_equal(pciback_conf_write(&pb, dev, 4, 4, 0xffff0002), 0);
	assert_int_equal(fakehv_cfg16(SBDF, 4) & 0x2, 0x2);
	assert_int_equal(fakehv_cfg16(SBDF, 6), 0x0010);	/* status kept */
}

static void test_msi_flags_refused(void **state)
{
	uint32_t v = rd(FAKEHV_MSIX_CAP + 2, 2);

	/* enable bits: through pci_op only */
	assert_int_equal(pciback_conf_write(&pb, dev, FAKEHV_MSIX_CAP + 2, 2,
					    v | 0x8000),
			 XEN_PCI_ERR_access_denied);
	assert_int_equal(fakehv_cfg16(SBDF, FAKEHV_MSIX_CAP + 2), v);
	assert_int_equal(pciback_conf_write(&pb, dev, FAKEHV_MSI_CAP + 2, 2,
					    0x0081),
			 XEN_PCI_ERR_access_denied);
	assert_int_equal(pciback_conf_write(&pb, dev, FAKEHV_MSI_CAP + 2, 2,
					    rd(FAKEHV_MSI_CAP + 2, 2)), 0);
	/* capability IDs and next pointers are read-only */
	pciback_conf_write(&pb, dev, FAKEHV_MSI_CAP, 2, 0);
	assert_int_equal(rd(FAKEHV_MSI_CAP, 1), 0x05);
	/* permissive lets the flags through */
	dev->permissive = true;
	assert_int_equal(pciback_conf_write(&pb, dev, FAKEHV_MSI_CAP + 2, 2,
					    0x0081), 0);
	assert_int_equal(fakehv_cfg16(SBDF, FAKEHV_MSI_CAP + 2), 0x0081);
}

static void test_uncovered_writes(void **state)
{
	/* MSI address: not a field: dropped unless permissive */
	assert_int_equal(pciback_conf_write(&pb, dev, FAKEHV_MSI_CAP + 4, 4,
					    0xfee00000), 0);
	assert_int_equal(rd(FAKEHV_MSI_CAP + 4, 4), 0);
	assert_int_equal(pciback_conf_write(&pb, dev, 0x200, 4, 0xaa), 0);
	assert_int_equal(rd(0x200, 4), 0);
	dev->permissive = true;
	assert_int_equal(pciback_conf_write(&pb, dev, 0x200, 4, 0xaa), 0);
	assert_int_equal(rd(0x200, 4), 0xaa);
	/* cache line size is writable pass-through */
	dev->permissive = false;
	pciback_conf_write(&pb, dev, 0x0c, 1, 0x10);
	assert_int_equal(rd(0x0c, 1), 0x10);
}

static void test_invalid_access(void **state)
{
	uint32_t v;

	assert_int_equal(pciback_conf_read(&pb, dev, 1, 2, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, 2, 4, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, 0, 3, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, 0, 8, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, 4096, 4, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, -4, 4, &v),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_write(&pb, dev, 0x7fffffff, 1, 0),
			 XEN_PCI_ERR_invalid_offset);
	assert_int_equal(pciback_conf_read(&pb, dev, 4092, 4, &v), 0);
}

static void test_put_restores(void **state)
{
	dev->permissive = true;
	pciback_conf_write(&pb, dev, 4, 2, 0x0006);
	pciback_conf_write(&pb, dev, 0x10, 4, 0xffffffff);
	pciback_put(&pb, dev);
	assert_int_equal(hw->resets, 2);
	assert_int_equal(fakehv_cfg16(SBDF, 4), 0);
	assert_int_equal(fakehv_cfg16(SBDF, 0x12), 0xfe00);
	assert_false(dev->permissive);
	assert_null(dev->be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seize_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_intline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_flags_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uncovered_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalid_access, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_put_restores, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
