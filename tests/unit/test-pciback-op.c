// SPDX-License-Identifier: MIT
/* xpt-pciback: pci_op dispatch (docs/protocol.md §5.6), MSI/MSI-X and
 * re-allocation. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakehv.h"
#include "pciback.h"

#define SBDF HV_SBDF(0, 3, 0, 0)
#define SBDF2 HV_SBDF(0, 4, 0, 0)

static struct pciback pb;
static struct pb_backend be = { .domid = 7 }, other = { .domid = 8 };
static struct pb_dev *dev;

static void add_dev(uint32_t sbdf, struct pb_backend *b)
{
	struct fakehv_dev *hw;
	char msg[200];

	hw = fakehv_add(sbdf, 0x1b36, 0x0010, 0x010802, true, 16, 1);
	fakehv_set_bar(hw, 0, 0xfe000000 + (sbdf & 0xffff) * 0x10000, 0x4000,
		       HV_BAR_64);
	assert_int_equal(pciback_seize(&pb, sbdf, msg, sizeof(msg)), 0);
	assert_int_equal(pciback_export(&pb, b, pciback_dev_find(&pb, sbdf),
					msg, sizeof(msg)), 0);
}

static int setup_profile(unsigned int profile)
{
	fakehv_reset();
	memset(&pb, 0, sizeof(pb));
	pb.epfd = pb.ctlfd = -1;
	pb.profile = profile;
	add_dev(SBDF, &be);
	add_dev(SBDF2, &other);
	dev = pciback_dev_find(&pb, SBDF);
	return 0;
}

static int setup(void **state)
{
	return setup_profile(0);
}

static int setup_historic(void **state)
{
	return setup_profile(PB_HISTORIC);
}

static int teardown(void **state)
{
	pciback_fini(&pb);
	return 0;
}

static struct xen_pci_op mkop(uint32_t cmd, uint32_t devfn)
{
	struct xen_pci_op op;

	memset(&op, 0, sizeof(op));
	op.cmd = cmd;
	op.devfn = devfn;
	op.err = 99;
	return op;
}

static int do_op(struct xen_pci_op *op)
{
	pciback_op_do(&pb, &be, op);
	return op->err;
}

static void mem_enable(void)
{
	struct xen_pci_op op = mkop(XEN_PCI_OP_conf_write, 0);

	op.offset = 4;
	op.size = 2;
	op.value = 0x0006;
	assert_int_equal(do_op(&op), 0);
}

static int enable_msix(unsigned int nvec, struct xen_pci_op *op)
{
	*op = mkop(XEN_PCI_OP_enable_msix, 0);
	op->value = nvec;
	for (unsigned int i = 0; i < nvec && i < SH_INFO_MAX_VEC; i++)
		op->msix_entries[i].entry = i;
	return do_op(op);
}

static void test_lookup_and_dispatch(void **state)
{
	struct xen_pci_op op = mkop(XEN_PCI_OP_conf_read, 0);

	op.offset = 0;
	op.size = 4;
	assert_int_equal(do_op(&op), 0);
	assert_int_equal(op.value, 0x00101b36);
	/* no device at 00:01.0 on this guest's bus */
	op = mkop(XEN_PCI_OP_conf_read, 1 << 3);
	op.size = 4;
	assert_int_equal(do_op(&op), XEN_PCI_ERR_dev_not_found);
	/* guest 8's device is at 00:00.0 of *its* bus, not of ours */
	{
		struct pb_dev *d2 = pciback_dev_find(&pb, SBDF2);

		assert_int_equal(d2->vsbdf, 0);
		op = mkop(XEN_PCI_OP_conf_write, 0);
		op.offset = 0x0c;
		op.size = 1;
		op.value = 0x20;
		assert_int_equal(do_op(&op), 0);
		assert_int_equal(fakehv_cfg16(SBDF, 0x0c) & 0xff, 0x20);
		assert_int_equal(fakehv_cfg16(SBDF2, 0x0c) & 0xff, 0);
	}
	/* out-of-range address fields */
	op = mkop(XEN_PCI_OP_conf_read, 0);
	op.domain = 0x10000;
	op.size = 4;
	assert_int_equal(do_op(&op), XEN_PCI_ERR_dev_not_found);
	op = mkop(XEN_PCI_OP_conf_read, 0x100);
	op.size = 4;
	assert_int_equal(do_op(&op), XEN_PCI_ERR_dev_not_found);
	/* unknown and AER commands */
	op = mkop(42, 0);
	assert_int_equal(do_op(&op), XEN_PCI_ERR_not_implemented);
	op = mkop(XEN_PCI_OP_aer_detected, 0);
	assert_int_equal(do_op(&op), XEN_PCI_ERR_not_implemented);
	op = mkop(XEN_PCI_OP_enable_multi_msi, 0);
	assert_int_equal(do_op(&op), XEN_PCI_ERR_not_implemented);
	/* offset out of range */
	op = mkop(XEN_PCI_OP_conf_read, 0);
	op.offset = 4096;
	op.size = 4;
	assert_int_equal(do_op(&op), XEN_PCI_ERR_invalid_offset);
	op = mkop(XEN_PCI_OP_conf_write, 0);
	op.offset = 2;
	op.size = 4;
	assert_int_equal(do_op(&op), XEN_PCI_ERR_invalid_offset);
}

static void test_msix_reenable(void **state)
{
	struct xen_pci_op op;
	int first[4];

	/* XSA-157: no MSI-X while memory decoding is off */
	assert_int_equal(enable_msix(4, &op), -ENXIO);
	mem_enable();
	assert_int_equal(enable_msix(4, &op), 0);
	for (int i = 0; i < 4; i++) {
		assert_true(op.msix_entries[i].vector > 0);
		first[i] = op.msix_entries[i].vector;
	}
	assert_int_equal(fakehv_count_pirqs(7), 4);
	assert_int_equal(fakehv_cfg16(SBDF, FAKEHV_MSIX_CAP + 2) & 0xc000,
			 0x8000);
	assert_int_equal(enable_msix(4, &op), -EALREADY);
	/* MSI is refused while MSI-X is on */
	op = mkop(XEN_PCI_OP_enable_msi, 0);
	assert_int_equal(do_op(&op), -ENXIO);

	op = mkop(XEN_PCI_OP_disable_msix, 0);
	assert_int_equal(do_op(&op), 0);
	assert_int_equal(op.value, pciback_dev_find(&pb, SBDF)->info.gsi);
	assert_int_equal(fakehv_count_pirqs(7), 0);
	assert_int_equal(fakehv_cfg16(SBDF, FAKEHV_MSIX_CAP + 2) & 0x8000, 0);

	/* nvme's probe: enable again, with a different vector count */
	assert_int_equal(enable_msix(2, &op), 0);
	assert_int_equal(fakehv_count_pirqs(7), 2);
	assert_true(op.msix_entries[0].vector > 0);
	assert_int_not_equal(op.msix_entries[0].vector, first[0]);
	op = mkop(XEN_PCI_OP_disable_msix, 0);
	assert_int_equal(do_op(&op), 0);
	assert_int_equal(enable_msix(4, &op), 0);
	assert_int_equal(fakehv_count_pirqs(7), 4);
	/* releasing the device tears its vectors down */
	pciback_put(&pb, dev);
	assert_int_equal(fakehv_count_pirqs(7), 0);
}

/* Linux 6.1 as seen in the lab: the second enable is refused and nvme
 * falls back to INTx. */
static void test_msix_reenable_historic(void **state)
{
	struct xen_pci_op op;

	mem_enable();
	assert_int_equal(enable_msix(4, &op), 0);
	op = mkop(XEN_PCI_OP_disable_msix, 0);
	assert_int_equal(do_op(&op), 0);
	assert_int_equal(enable_msix(4, &op), -EALREADY);
	assert_int_equal(fakehv_count_pirqs(7), 0);
}

static void test_msix_bad_requests(void **state)
{
	struct xen_pci_op op;

	mem_enable();
	assert_int_equal(enable_msix(0, &op), -EINVAL);
	assert_int_equal(enable_msix(129, &op), -EINVAL);
	/* entry beyond the table (16 entries) */
	op = mkop(XEN_PCI_OP_enable_msix, 0);
	op.value = 1;
	op.msix_entries[0].entry = 16;
	assert_int_equal(do_op(&op), -EINVAL);
	/* duplicate entries */
	op = mkop(XEN_PCI_OP_enable_msix, 0);
	op.value = 2;
	assert_int_equal(do_op(&op), -EINVAL);
	assert_int_equal(fakehv_count_pirqs(7), 0);
	/* disabling what is not enabled is harmless */
	op = mkop(XEN_PCI_OP_disable_msix, 0);
	assert_int_equal(do_op(&op), 0);
	op = mkop(XEN_PCI_OP_disable_msi, 0);
	assert_int_equal(do_op(&op), 0);
}

static void test_msi(void **state)
{
	struct xen_pci_op op = mkop(XEN_PCI_OP_enable_msi, 0);

	assert_int_equal(do_op(&op), 0);
	assert_true((int)op.value >= 100);
	assert_int_equal(fakehv_count_pirqs(7), 1);
	assert_int_equal(fakehv_cfg16(SBDF, FAKEHV_MSI_CAP + 2) & 1, 1);
	op = mkop(XEN_PCI_OP_enable_msi, 0);
	assert_int_equal(do_op(&op), -EALREADY);
	mem_enable();
	assert_int_equal(enable_msix(1, &op), -ENXIO);
	op = mkop(XEN_PCI_OP_disable_msi, 0);
	assert_int_equal(do_op(&op), 0);
	assert_int_equal(op.value, dev->info.gsi);
	assert_int_equal(fakehv_count_pirqs(7), 0);
	op = mkop(XEN_PCI_OP_enable_msi, 0);
	assert_int_equal(do_op(&op), 0);
}

/* Through the shared page and the event channel, as a frontend does. */
static void test_service_page(void **state)
{
	struct xen_pci_sharedinfo *sh;
	int fd = memfd_create("page", MFD_CLOEXEC);
	int efd[2];
	uint64_t one = 1;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(sh != MAP_FAILED);
	assert_int_equal(pipe(efd), 0);
	be.sh = sh;
	be.evfd = efd[0];
	be.port = 0;

	sh->op = mkop(XEN_PCI_OP_conf_read, 0);
	sh->op.size = 2;
	sh->op.offset = 2;
	/* not active: nothing happens */
	assert_int_equal(write(efd[1], &one, sizeof(one)), sizeof(one));
	pciback_op_service(&pb, &be);
	assert_int_equal(sh->op.err, 99);
	__atomic_fetch_or(&sh->flags, XEN_PCIF_active, __ATOMIC_SEQ_CST);
	assert_int_equal(write(efd[1], &one, sizeof(one)), sizeof(one));
	pciback_op_service(&pb, &be);
	assert_int_equal(sh->op.err, 0);
	assert_int_equal(sh->op.value, 0x0010);
	assert_int_equal(sh->flags & XEN_PCIF_active, 0);
	assert_int_equal(be.ops, 1);

	be.sh = NULL;
	munmap(sh, 4096);
	close(fd);
	close(efd[0]);
	close(efd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_and_dispatch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_reenable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msix_reenable_historic,
						setup_historic, teardown),
		cmocka_unit_test_setup_teardown(test_msix_bad_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_page, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
