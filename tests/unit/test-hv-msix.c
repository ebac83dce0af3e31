// SPDX-License-Identifier: MIT
/*
 * PIRQs and MSI/MSI-X state: map + raise delivers to the bound port,
 * Xen's prepare/release rules, the Message Control intercept, and the
 * reassignment case of docs/protocol.md §11 (mask-all left set by a dying
 * domain blocks the next assignment until a reset; afterwards interrupts
 * reach the second guest).
 */
#include <errno.h>
#include <unistd.h>

#include "hv-harness.h"

static uint16_t msix_ctl(struct hyp *h, uint32_t sbdf)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);

	return (uint16_t)hyp_conf_get(p, p->msix_pos + 2u, 2);
}

static void mem_on(struct hyp *h, uint32_t sbdf)
{
	uint32_t cmd;

	assert_int_equal(hyp_pci_conf_read(h, sbdf, PCI_CMD, 2, &cmd), 0);
	assert_int_equal(hyp_pci_conf_write(h, sbdf, PCI_CMD, 2,
					    cmd | PCI_CMD_MEM), 0);
}

static void test_map_raise_inprocess(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_msix_state st;
	uint32_t d, port, dl;
	int pirq, pirq2, fd;

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "g", 0, 1,
					   &d), 0);
	/* Not owned by d: -ENODEV. */
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 0, -1,
				      &pirq), -ENODEV);
	assert_int_equal(hyp_assign(h, d, HVH_NIC), 0);
	/* Memory decoding off: -ENXIO, nothing changed. */
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 0, -1,
				      &pirq), -ENXIO);
	assert_int_equal(msix_ctl(h, HVH_NIC) & 0xc000, 0);
	mem_on(h, HVH_NIC);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 8, -1,
				      &pirq), -EINVAL);	/* table has 8 */
	assert_int_equal(hyp_map_pirq(h, 77, HV_IRQ_MSIX, HVH_NIC, 0, -1,
				      &pirq), -ESRCH);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, 0x12345, 0, -1,
				      &pirq), -ENODEV);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSI, HVH_NIC, 0, -1,
				      &pirq), -ENODEV);	/* no MSI cap */
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 3, -1,
				      &pirq), 0);
	assert_true(pirq >= (int)HYP_PIRQ_GSI_MAX);
	assert_true(hyp_perm_has(h, HYP_PERM_IRQ, d, (uint64_t)pirq, 1));
	/* Mapping the same pair again: the same pirq. */
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 3, -1,
				      &pirq2), 0);
	assert_int_equal(pirq2, pirq);
	assert_int_equal(msix_ctl(h, HVH_NIC) & 0xc000, MSIX_FLAGS_ENABLE);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.used_entries, 1);
	assert_int_equal(st.hw_enable, 1);
	/* Mapped but not bound: nothing delivered. */
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(hyp_evtchn_bind_pirq(h, d, pirq, &port), 0);
	assert_int_equal(hyp_evtchn_bind_pirq(h, d, pirq, &port), -EEXIST);
	assert_int_equal(hyp_evtchn_fd(h, d, port, &fd), 0);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(hvh_pending(fd), 2);
	/* Another entry: not mapped, nothing. */
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 2, &dl), 0);
	assert_int_equal(dl, 0);
	/* dom0 sets MASKALL: masked, no delivery; guest_maskall tracked. */
	assert_int_equal(hyp_pci_conf_write(h, HVH_NIC, 0x72, 2,
					    MSIX_FLAGS_ENABLE |
					    MSIX_FLAGS_MASKALL), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.guest_maskall, 1);
	assert_int_equal(st.hw_maskall, 1);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(hyp_pci_conf_write(h, HVH_NIC, 0x72, 2,
					    MSIX_FLAGS_ENABLE), 0);
	/* Only whole Message Control writes pass the intercept. */
	assert_int_equal(hyp_pci_conf_write(h, HVH_NIC, 0x70, 4, 0), -EACCES);
	assert_int_equal(hyp_pci_conf_write(h, HVH_NIC, 0x73, 1, 0), -EACCES);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(dl, 1);
	/* Unmap force-unbinds; the port stays until closed. */
	assert_int_equal(hyp_unmap_pirq(h, d, pirq), 0);
	assert_int_equal(hyp_unmap_pirq(h, d, pirq), -EINVAL);
	assert_false(hyp_perm_has(h, HYP_PERM_IRQ, d, (uint64_t)pirq, 1));
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 3, &dl), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(msix_ctl(h, HVH_NIC) & MSIX_FLAGS_ENABLE, 0);
	assert_int_equal(hyp_evtchn_close(h, d, port), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.used_entries, 0);
	hyp_free(h);
}

static void test_msi_and_intx(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hyp_pcidev *gpu = hyp_pci_get(h, HVH_GPU);
	uint32_t d, p0, p1, pi, dl, ctl;
	int q0, q1, qi, f0, f1, fi;

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "g", 0, 1,
					   &d), 0);
	/* INTx: the GSI pirq may be mapped before assignment (libxl does). */
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_INTX, HVH_GPU, 0, -1, &qi),
			 0);
	assert_int_equal(qi, (int)gpu->info.gsi);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_INTX, HVH_VF0, 0, -1, &qi),
			 -EINVAL);	/* VFs have no INTx */
	assert_int_equal(hyp_evtchn_bind_pirq(h, d, (int)gpu->info.gsi, &pi),
			 0);
	assert_int_equal(hyp_evtchn_fd(h, d, pi, &fi), 0);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_INTX, 0, &dl), 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hvh_pending(fi), 1);
	/* INTx disabled in Command: nothing. */
	assert_int_equal(hyp_pci_conf_write(h, HVH_GPU, PCI_CMD, 2,
					    PCI_CMD_INTX_DISABLE), 0);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_INTX, 0, &dl), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(hyp_pci_conf_write(h, HVH_GPU, PCI_CMD, 2, 0), 0);

	assert_int_equal(hyp_assign(h, d, HVH_GPU), 0);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSI, HVH_GPU, 0, -1, &q0), 0);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSI, HVH_GPU, 1, -1, &q1), 0);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSI, HVH_GPU, 4, -1, &q1),
			 -EINVAL);
	assert_int_not_equal(q0, q1);
	ctl = hyp_conf_get(gpu, gpu->msi_pos + 2u, 2);
	assert_true(ctl & MSI_FLAGS_ENABLE);
	assert_int_equal((ctl & MSI_FLAGS_QSIZE) >> 4, 1);	/* 2 vectors */
	assert_int_equal(hyp_evtchn_bind_pirq(h, d, q0, &p0), 0);
	assert_int_equal(hyp_evtchn_bind_pirq(h, d, q1, &p1), 0);
	assert_int_equal(hyp_evtchn_fd(h, d, p0, &f0), 0);
	assert_int_equal(hyp_evtchn_fd(h, d, p1, &f1), 0);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_MSI, 1, &dl), 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hvh_pending(f1), 1);
	assert_int_equal(hvh_pending(f0), 0);
	/* With MSI on, INTx is not signalled. */
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_INTX, 0, &dl), 0);
	assert_int_equal(dl, 0);
	/* Bad requests. */
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_MSIX, 0, &dl),
			 -ENODEV);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, 7, 0, &dl), -EINVAL);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_GPU, HV_IRQ_MSI, 9, &dl),
			 -EINVAL);
	/* Destroy: everything unmapped, the device leaves to quarantine. */
	assert_int_equal(hyp_domain_destroy(h, d), 0);
	assert_int_equal(gpu->info.owner, HV_DOMID_IO);
	assert_int_equal(gpu->msi_map[0].pirq, -1);
	assert_int_equal(gpu->msi_map[1].pirq, -1);
	hyp_free(h);
}

static void test_prepare_release(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_msix_state st;
	uint32_t d;
	int q;

	assert_int_equal(hyp_prepare_msix(h, HVH_GPU), -ENODEV);  /* no MSI-X */
	assert_int_equal(hyp_prepare_msix(h, 0x999), -ENODEV);
	assert_int_equal(hyp_release_msix(h, HVH_NIC), -EBUSY);  /* B-R3 */
	assert_int_equal(hyp_prepare_msix(h, HVH_NIC), -ENXIO);  /* not decoded */
	mem_on(h, HVH_NIC);
	assert_int_equal(hyp_prepare_msix(h, HVH_NIC), 0);
	assert_int_equal(hyp_prepare_msix(h, HVH_NIC), -EBUSY);  /* B-R3 */
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.used_entries, 1);
	assert_int_equal(st.prepared, 1);
	/* The table is read-only for dom0 while used (mmio_ro_ranges). */
	assert_int_equal(hyp_pci_bar_write(h, HVH_NIC, 2, 0, 4, 0), -EPERM);
	/* B-R2: release with a live vector. */
	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "g", 0, 1,
					   &d), 0);
	assert_int_equal(hyp_assign(h, d, HVH_NIC), 0);
	assert_int_equal(hyp_map_pirq(h, d, HV_IRQ_MSIX, HVH_NIC, 0, -1, &q), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.used_entries, 2);
	assert_int_equal(hyp_release_msix(h, HVH_NIC), -EBUSY);
	assert_int_equal(hyp_unmap_pirq(h, d, q), 0);
	assert_int_equal(hyp_release_msix(h, HVH_NIC), 0);
	assert_int_equal(hyp_release_msix(h, HVH_NIC), -EBUSY);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.used_entries, 0);
	assert_int_equal(st.prepared, 0);
	assert_int_equal(hyp_msix_state(h, HVH_GPU, &st), -ENODEV);
	hyp_free(h);
}

/* The reassignment case (docs/protocol.md §11), in-process: the state at
 * every step. */
static void test_seed003_inprocess(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_msix_state st;
	uint32_t d1, d2, port, dl;
	int q, fd;

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "g1", 0, 1,
					   &d1), 0);
	assert_int_equal(hyp_assign(h, d1, HVH_NIC), 0);
	mem_on(h, HVH_NIC);
	assert_int_equal(hyp_map_pirq(h, d1, HV_IRQ_MSIX, HVH_NIC, 0, -1, &q),
			 0);
	assert_int_equal(hyp_evtchn_bind_pirq(h, d1, q, &port), 0);
	/* The guest's device stops decoding memory (e.g. a driver's
	 * pci_disable_device, or an FLR with no state restore). */
	assert_int_equal(hyp_pci_conf_write(h, HVH_NIC, PCI_CMD, 2, 0), 0);
	assert_int_equal(hyp_domain_destroy(h, d1), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.host_maskall, 1);
	assert_int_equal(st.hw_maskall, 1);
	assert_int_equal(st.used_entries, 0);
	assert_int_equal(hyp_pci_get(h, HVH_NIC)->info.owner, HV_DOMID_IO);

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "g2", 0, 1,
					   &d2), 0);
	assert_int_equal(hyp_test_assign(h, HVH_NIC), 0);
	assert_int_equal(hyp_assign(h, d2, HVH_NIC), -EBUSY);
	assert_int_equal(hyp_pci_reset(h, HVH_NIC), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.hw_maskall, 0);
	assert_int_equal(st.host_maskall, 1);	/* Xen's flag: until assign */
	assert_int_equal(hyp_assign(h, d2, HVH_NIC), 0);
	assert_int_equal(hyp_msix_state(h, HVH_NIC, &st), 0);
	assert_int_equal(st.host_maskall, 0);
	assert_int_equal(st.guest_maskall, 0);
	mem_on(h, HVH_NIC);
	assert_int_equal(hyp_map_pirq(h, d2, HV_IRQ_MSIX, HVH_NIC, 0, -1, &q),
			 0);
	assert_int_equal(hyp_evtchn_bind_pirq(h, d2, q, &port), 0);
	assert_int_equal(hyp_evtchn_fd(h, d2, port, &fd), 0);
	assert_int_equal(hyp_pci_raise_irq(h, HVH_NIC, HV_IRQ_MSIX, 0, &dl), 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hvh_pending(fd), 1);
	hyp_free(h);
}

/* The reassignment case through the sockets, as pciback and two guests
 * would see it. */
static void test_seed003_sockets(void **state)
{
	struct hvh t;
	struct hv_client *g1, *g2;
	struct hv_msix_state st;
	unsigned int d1, d2, port;
	uint32_t cmd;
	int q, fd, dl, i;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "g1", 0,
					  1, &d1), 0);
	g1 = hvh_open_domain(&t, d1);
	assert_int_equal(hv_test_assign_device(t.ctl, HVH_NIC), 0);
	assert_int_equal(hv_assign_device(t.ctl, d1, HVH_NIC), 0);
	assert_int_equal(hv_test_assign_device(t.ctl, HVH_NIC), -EINVAL);
	assert_int_equal(hv_pci_conf_read(t.ctl, HVH_NIC, PCI_CMD, 2, &cmd), 0);
	assert_int_equal(hv_pci_conf_write(t.ctl, HVH_NIC, PCI_CMD, 2,
					   cmd | PCI_CMD_MEM | PCI_CMD_MASTER),
			 0);
	/* pciback's enable_msix for the guest: 4 vectors. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(hv_map_pirq(t.ctl, d1, HV_IRQ_MSIX, HVH_NIC,
					     (uint32_t)i, &q), 0);
		if (i == 2) {
			assert_int_equal(hv_evtchn_bind_pirq(g1, q, &port), 0);
			assert_int_equal(hv_evtchn_fd(g1, port, &fd), 0);
		}
	}
	assert_int_equal(hv_pci_raise_irq(t.ctl, HVH_NIC, HV_IRQ_MSIX, 2, &dl),
			 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hvh_wait(fd, 2000), 1);
	close(fd);
	/* Decoding off, then the guest dies without any cleanup. */
	assert_int_equal(hv_pci_conf_write(t.ctl, HVH_NIC, PCI_CMD, 2, 0), 0);
	hv_close(g1);
	assert_int_equal(hv_domain_destroy(t.ctl, d1), 0);
	assert_int_equal(hv_msix_state(t.ctl, HVH_NIC, &st), 0);
	assert_int_equal(st.hw_maskall, 1);

	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "g2", 0,
					  1, &d2), 0);
	assert_int_equal(hv_assign_device(t.ctl, d2, HVH_NIC), -EBUSY);
	assert_int_equal(hv_pci_reset(t.ctl, HVH_NIC), 0);
	assert_int_equal(hv_assign_device(t.ctl, d2, HVH_NIC), 0);
	assert_int_equal(hv_pci_conf_write(t.ctl, HVH_NIC, PCI_CMD, 2,
					   PCI_CMD_MEM | PCI_CMD_MASTER), 0);
	g2 = hvh_open_domain(&t, d2);
	assert_int_equal(hv_map_pirq(t.ctl, d2, HV_IRQ_MSIX, HVH_NIC, 0, &q), 0);
	assert_int_equal(hv_evtchn_bind_pirq(g2, q, &port), 0);
	assert_int_equal(hv_evtchn_fd(g2, port, &fd), 0);
	assert_int_equal(hv_pci_raise_irq(t.ctl, HVH_NIC, HV_IRQ_MSIX, 0, &dl),
			 0);
	assert_int_equal(dl, 1);
	assert_int_equal(hvh_wait(fd, 2000), 1);
	/* The guest cannot unmap or bind other pirqs: privileged / unmapped */
	assert_int_equal(hv_unmap_pirq(g2, d2, q), -EPERM);
	assert_int_equal(hv_evtchn_bind_pirq(g2, q + 1 < 1024 ? q + 1 : 1,
					     &port), -EINVAL);
	assert_int_equal(hv_unmap_pirq(t.ctl, d2, q), 0);
	assert_int_equal(hv_pci_raise_irq(t.ctl, HVH_NIC, HV_IRQ_MSIX, 0, &dl),
			 0);
	assert_int_equal(dl, 0);
	close(fd);
	hv_close(g2);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_raise_inprocess),
		cmocka_unit_test(test_msi_and_intx),
		cmocka_unit_test(test_prepare_release),
		cmocka_unit_test(test_seed003_inprocess),
		cmocka_unit_test(test_seed003_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
