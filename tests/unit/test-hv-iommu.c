// SPDX-License-Identifier: MIT
/* IOMMU ownership with Xen's errors; iomem/ioport/irq permissions. */
#include <errno.h>

#include "hv-harness.h"

static void test_assign_errors(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_pci_dev d;
	uint32_t pv, pt, pt2;

	assert_int_equal(hyp_domain_create(h, 0, "nopt", 0, 1, &pv), 0);
	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "pt", 0, 1,
					   &pt), 0);
	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH |
					   HV_DOMF_HVM, "pt2", 0, 1, &pt2), 0);
	/* Devices start with dom0. */
	assert_int_equal(hyp_pci_info(h, HVH_NIC, &d), 0);
	assert_int_equal(d.owner, 0);
	/* Unknown device. */
	assert_int_equal(hyp_test_assign(h, 0x4242), -EINVAL);
	assert_int_equal(hyp_assign(h, pt, 0x4242), -ENODEV);
	/* No IOMMU context: "Operation not supported". */
	assert_int_equal(hyp_assign(h, pv, HVH_NIC), -EOPNOTSUPP);
	assert_int_equal(hyp_assign(h, 99, HVH_NIC), -ESRCH);
	/* Owned by a domU: test -EINVAL, assign -EBUSY (B-R7). */
	assert_int_equal(hyp_test_assign(h, HVH_NIC), 0);
	assert_int_equal(hyp_assign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_test_assign(h, HVH_NIC), -EINVAL);
	assert_int_equal(hyp_assign(h, pt2, HVH_NIC), -EBUSY);
	assert_int_equal(hyp_assign(h, pt, HVH_NIC), -EBUSY);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, pt);
	/* Deassign: only by the owner; Xen 4.17 default: to quarantine. */
	assert_int_equal(hyp_deassign(h, pt2, HVH_NIC), -ENODEV);
	assert_int_equal(hyp_deassign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, HV_DOMID_IO);
	assert_int_equal(hyp_test_assign(h, HVH_NIC), 0);
	/* From quarantine to a guest, and out of quarantine to dom0. */
	assert_int_equal(hyp_assign(h, pt2, HVH_NIC), 0);
	assert_int_equal(hyp_deassign(h, pt2, HVH_NIC), 0);
	assert_int_equal(hyp_deassign(h, HV_DOMID_IO, HVH_NIC), 0);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, 0);
	/* xl pci-assignable-add: quarantine explicitly. */
	assert_int_equal(hyp_assign(h, HV_DOMID_IO, HVH_GPU), 0);
	assert_int_equal(hyp_pci_get(h, HVH_GPU)->info.owner, HV_DOMID_IO);
	/* Destroy releases the domain's devices. */
	assert_int_equal(hyp_assign(h, pt, HVH_GPU), 0);
	assert_int_equal(hyp_domain_destroy(h, pt), 0);
	assert_int_equal(hyp_pci_get(h, HVH_GPU)->info.owner, HV_DOMID_IO);
	hyp_free(h);
}

static void test_no_quarantine(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	uint32_t pt;

	h->quarantine = false;
	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "pt", 0, 1,
					   &pt), 0);
	assert_int_equal(hyp_assign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_deassign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, 0);
	/* A device explicitly quarantined once goes back there. */
	assert_int_equal(hyp_assign(h, HV_DOMID_IO, HVH_NIC), 0);
	assert_int_equal(hyp_assign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_deassign(h, pt, HVH_NIC), 0);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, HV_DOMID_IO);
	hyp_free(h);
}

static void test_permissions(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	const uint64_t hi = 0x380000000ull;	/* frame above 2^32 */
	uint32_t d;

	assert_int_equal(hyp_domain_create(h, 0, "d", 0, 1, &d), 0);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, hi, 256, true), 0);
	assert_true(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi, 256));
	assert_true(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi + 10, 1));
	/* Not truncated to 32 bits. */
	assert_false(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi & 0xffffffff, 1));
	assert_false(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi + 255, 2));
	/* Revoke the middle: split in two. */
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, hi + 100, 10,
				      false), 0);
	assert_true(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi, 100));
	assert_false(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi + 105, 1));
	assert_true(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi + 110, 146));
	/* Re-grant merges. */
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, hi + 100, 10,
				      true), 0);
	assert_true(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi, 256));
	assert_int_equal(h->dom[d]->perm[HYP_PERM_IOMEM].n, 1);
	/* Limits. */
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, 1ull << 40, 1,
				      true), -EINVAL);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, 5, 0, true),
			 -EINVAL);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, UINT64_MAX, 2,
				      true), -EINVAL);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOPORT, d, 0xc000, 0x100,
				      true), 0);
	assert_true(hyp_perm_has(h, HYP_PERM_IOPORT, d, 0xc080, 0x80));
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOPORT, d, 0xffff, 2, true),
			 -EINVAL);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IRQ, d, 40, 1, true), 0);
	assert_true(hyp_perm_has(h, HYP_PERM_IRQ, d, 40, 1));
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IRQ, d, HYP_NR_PIRQS, 1,
				      true), -EINVAL);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IRQ, 77, 40, 1, true),
			 -ESRCH);
	/* Destroy drops them; a new domain starts with none. */
	assert_int_equal(hyp_domain_destroy(h, d), 0);
	assert_int_equal(hyp_domain_create(h, 0, "e", 0, 1, &d), 0);
	assert_false(hyp_perm_has(h, HYP_PERM_IOMEM, d, hi, 1));
	hyp_free(h);
}

static void test_through_socket(void **state)
{
	struct hvh t;
	struct hv_client *g;
	unsigned int pv, pt;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "pv", 0, 1, &pv), 0);
	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "pt", 0,
					  1, &pt), 0);
	assert_int_equal(hv_assign_device(t.ctl, pv, HVH_GPU), -EOPNOTSUPP);
	assert_int_equal(hv_test_assign_device(t.ctl, 0x4242), -EINVAL);
	assert_int_equal(hv_assign_device(t.ctl, pt, HVH_GPU), 0);
	assert_int_equal(hv_iomem_permission(t.ctl, pt, 0x380000000ull, 16, 1),
			 0);
	assert_int_equal(hv_ioport_permission(t.ctl, pt, 0xc000, 128, 1), 0);
	assert_int_equal(hv_irq_permission(t.ctl, pt, 17, 1), 0);
	g = hvh_open_domain(&t, pt);
	assert_int_equal(hv_assign_device(g, pt, HVH_NIC), -EPERM);
	assert_int_equal(hv_deassign_device(g, pt, HVH_GPU), -EPERM);
	assert_int_equal(hv_test_assign_device(g, HVH_NIC), -EPERM);
	assert_int_equal(hv_iomem_permission(g, pt, 0, 1ull << 30, 1), -EPERM);
	assert_int_equal(hv_deassign_device(t.ctl, pt, HVH_GPU), 0);
	hv_close(g);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_errors),
		cmocka_unit_test(test_no_quarantine),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_through_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
