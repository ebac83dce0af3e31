// SPDX-License-Identifier: MIT
/* Config space: header, capability list, BAR sizing, resets, MSI-X table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv-harness.h"

static uint32_t rd(struct hyp *h, uint32_t sbdf, uint32_t off, uint32_t sz)
{
	uint32_t v = 0;

	assert_int_equal(hyp_pci_conf_read(h, sbdf, off, sz, &v), 0);
	return v;
}

static void wr(struct hyp *h, uint32_t sbdf, uint32_t off, uint32_t sz,
	       uint32_t v)
{
	assert_int_equal(hyp_pci_conf_write(h, sbdf, off, sz, v), 0);
}

/* Walk the list as a driver would: ids in order, no loops. */
static void test_capability_walk(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	uint8_t want_nic[] = { PCI_CAP_ID_PM, PCI_CAP_ID_MSIX, PCI_CAP_ID_EXP };
	uint8_t want_gpu[] = { PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_EXP };
	uint8_t want_old[] = { PCI_CAP_ID_PM, PCI_CAP_ID_MSIX };
	struct { uint32_t sbdf; uint8_t *ids; unsigned int n; } cases[] = {
		{ HVH_NIC, want_nic, 3 },
		{ HVH_GPU, want_gpu, 3 },
		{ HVH_NORESET, want_old, 2 },
	};
	unsigned int c, n, pos;

	for (c = 0; c < 3; c++) {
		uint32_t s = cases[c].sbdf;

		assert_true(rd(h, s, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
		for (n = 0, pos = rd(h, s, PCI_CAP_PTR, 1); pos;
		     pos = rd(h, s, pos + 1, 1), n++) {
			assert_true(pos >= 0x40 && pos < 0x100 && !(pos & 3));
			assert_true(n < cases[c].n);
			assert_int_equal(rd(h, s, pos, 1), cases[c].ids[n]);
		}
		assert_int_equal(n, cases[c].n);
	}
	/* MSI-X: table size, BIR and offsets; MSI: 64-bit, 4 vectors. */
	assert_int_equal(rd(h, HVH_NIC, 0x72, 2), 7);
	assert_int_equal(rd(h, HVH_NIC, 0x74, 4), 2);		/* BAR2 @0 */
	assert_int_equal(rd(h, HVH_NIC, 0x78, 4), 0x1000 | 2);	/* PBA */
	assert_int_equal(rd(h, HVH_GPU, 0x52, 2),
			 MSI_FLAGS_64BIT | 2 << 1);
	/* FLR advertised only with reset=flr. */
	assert_true(rd(h, HVH_NIC, 0x84, 4) & EXP_DEVCAP_FLR);
	assert_false(rd(h, HVH_GPU, 0x84, 4) & EXP_DEVCAP_FLR);
	/* SR-IOV extended capability on the PF. */
	assert_int_equal(rd(h, HVH_NIC, 0x100, 2), PCI_EXT_CAP_ID_SRIOV);
	assert_int_equal(rd(h, HVH_NIC, 0x10e, 2), 2);		/* TotalVFs */
	assert_int_equal(rd(h, HVH_NIC, 0x114, 2), 1);		/* offset */
	assert_int_equal(rd(h, HVH_NIC, 0x11a, 2), 0x1572);	/* VF id */
	/* Header: ids, class, multi-function on the GPU's function 0. */
	assert_int_equal(rd(h, HVH_GPU, 0, 4), 0x1eb810de);
	assert_int_equal(rd(h, HVH_GPU, 0x08, 4) >> 8, 0x030000);
	assert_int_equal(rd(h, HVH_GPU, 0x0e, 1), 0x80);
	assert_int_equal(rd(h, HV_SBDF(0, 2, 0, 1), 0x0e, 1), 0);
	assert_int_equal(rd(h, HVH_NIC, 0x0e, 1), 0x80);	/* has VFs */
	assert_int_equal(rd(h, HVH_GPU, PCI_INT_PIN, 1), 1);
	assert_int_equal(rd(h, HV_SBDF(0, 2, 0, 1), PCI_INT_PIN, 1), 2);
	/* Conventional PCI: no extended space. */
	assert_int_equal(rd(h, HVH_NORESET, 0x100, 4), 0xffffffffu);
	hyp_free(h);
}

static void test_bar_sizing(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hyp_pcidev *g = hyp_pci_get(h, HVH_GPU);
	uint32_t orig0 = rd(h, HVH_GPU, 0x10, 4);
	uint32_t lo = rd(h, HVH_GPU, 0x14, 4), hi = rd(h, HVH_GPU, 0x18, 4);

	/* 32-bit 16M memory BAR. */
	assert_int_equal(orig0, (uint32_t)g->info.bar[0].addr);
	wr(h, HVH_GPU, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(h, HVH_GPU, 0x10, 4), 0xff000000);
	wr(h, HVH_GPU, 0x10, 4, orig0);
	assert_int_equal(rd(h, HVH_GPU, 0x10, 4), orig0);
	/* 64-bit prefetchable 256M BAR: flags in the low dword. */
	assert_int_equal(lo & 0xf, 0xc);
	assert_int_equal(((uint64_t)hi << 32 | (lo & ~0xfu)),
			 g->info.bar[1].addr);
	wr(h, HVH_GPU, 0x14, 4, 0xffffffff);
	wr(h, HVH_GPU, 0x18, 4, 0xffffffff);
	assert_int_equal(rd(h, HVH_GPU, 0x14, 4), 0xf000000c);
	assert_int_equal(rd(h, HVH_GPU, 0x18, 4), 0xffffffff);
	wr(h, HVH_GPU, 0x14, 4, lo);
	wr(h, HVH_GPU, 0x18, 4, hi);
	/* 128-byte io BAR5. */
	wr(h, HVH_GPU, 0x24, 4, 0xffffffff);
	assert_int_equal(rd(h, HVH_GPU, 0x24, 4), 0xffffff81);
	/* Unimplemented BAR and ROM stay zero. */
	wr(h, HVH_GPU, 0x20, 4, 0xffffffff);
	assert_int_equal(rd(h, HVH_GPU, 0x20, 4), 0);
	wr(h, HVH_GPU, PCI_ROM, 4, 0xffffffff);
	assert_int_equal(rd(h, HVH_GPU, PCI_ROM, 4), 0);
	/* Read-only: ids, class, pin, capability pointer. */
	wr(h, HVH_GPU, 0, 4, 0);
	wr(h, HVH_GPU, 0x08, 4, 0);
	wr(h, HVH_GPU, PCI_INT_PIN, 1, 4);
	wr(h, HVH_GPU, PCI_CAP_PTR, 1, 0);
	assert_int_equal(rd(h, HVH_GPU, 0, 4), 0x1eb810de);
	assert_int_equal(rd(h, HVH_GPU, 0x08, 4) >> 8, 0x030000);
	assert_int_equal(rd(h, HVH_GPU, PCI_INT_PIN, 1), 1);
	assert_int_equal(rd(h, HVH_GPU, PCI_CAP_PTR, 1), 0x40);
	/* Command: writable bits only. */
	wr(h, HVH_GPU, PCI_CMD, 2, 0xffff);
	assert_int_equal(rd(h, HVH_GPU, PCI_CMD, 2), 0x0547);
	/* Bad accesses. */
	uint32_t v;
	assert_int_equal(hyp_pci_conf_read(h, HVH_GPU, 4096, 1, &v), -EINVAL);
	assert_int_equal(hyp_pci_conf_read(h, HVH_GPU, 2, 4, &v), -EINVAL);
	assert_int_equal(hyp_pci_conf_read(h, HVH_GPU, 0, 3, &v), -EINVAL);
	assert_int_equal(hyp_pci_conf_write(h, HVH_GPU, 0xfff, 2, 0), -EINVAL);
	assert_int_equal(hyp_pci_conf_read(h, 0x1234, 0, 4, &v), -ENODEV);
	hyp_free(h);
}

/* PCI_LIST pages in SBDF order, whatever order the host file has, and a
 * walk resumes at next_sbdf; a device removed or added between pages
 * neither repeats nor hides the others. */
static void test_list_pages(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	const uint32_t want[] = {
		HVH_GPU, HV_SBDF(0, 2, 0, 1), HVH_NIC, HVH_VF0,
		HV_SBDF(0, 3, 0, 2), HVH_NORESET,
	};
	struct hv_pci_list page;
	uint32_t first = 0, got[8];
	unsigned int n = 0, pages = 0, i;

	(void)state;
	do {
		assert_int_equal(hyp_pci_list(h, first, 4, &page), 0);
		assert_true(page.count <= 4);
		for (i = 0; i < page.count; i++)
			got[n++] = page.sbdf[i];
		first = page.next_sbdf;
		pages++;
	} while (first && pages < 8);
	assert_int_equal(pages, 2);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	/* max 0 or beyond a page: a full page */
	assert_int_equal(hyp_pci_list(h, 0, 0, &page), 0);
	assert_int_equal(page.count, 6);
	assert_int_equal(page.next_sbdf, 0);
	assert_int_equal(hyp_pci_list(h, 0, HV_PCI_LIST_PAGE + 1, &page), 0);
	assert_int_equal(page.count, 6);
	/* from the middle, with the next device gone meanwhile */
	assert_int_equal(hyp_pci_list(h, 0, 2, &page), 0);
	assert_int_equal(page.next_sbdf, HVH_NIC);
	assert_int_equal(hyp_pci_device_remove(h, HVH_NORESET), 0);
	assert_int_equal(hyp_pci_list(h, page.next_sbdf, 2, &page), 0);
	assert_int_equal(page.count, 2);
	assert_int_equal(page.sbdf[0], HVH_NIC);
	assert_int_equal(page.next_sbdf, HV_SBDF(0, 3, 0, 2));
	assert_int_equal(hyp_pci_list(h, page.next_sbdf, 2, &page), 0);
	assert_int_equal(page.count, 1);
	assert_int_equal(page.next_sbdf, 0);
	/* past the last device: an empty page */
	assert_int_equal(hyp_pci_list(h, HV_SBDF(0, 0xff, 0, 0), 0, &page), 0);
	assert_int_equal(page.count, 0);
	hyp_free(h);
}

/* HYP_PCI_MAX functions fit (more than a PCI_LIST page, more than one
 * bus); one more is refused with the bound named, not dropped. */
static void test_list_many(void **state)
{
	size_t len = (HYP_PCI_MAX + 1) * 64;
	char *host = malloc(len), err[256] = "";
	struct hv_pci_list page;
	struct hyp *h;
	uint32_t first = 0, last = 0;
	unsigned int i, n = 0;
	size_t off = 0;

	(void)state;
	assert_non_null(host);
	for (i = 0; i < HYP_PCI_MAX; i++)
		off += (size_t)snprintf(host + off, len - off,
					"%02x:%02x.%u 8086:1533 class=020000 "
					"bar0=16K\n", 0x10 + i / 256,
					(i / 8) % 32, i % 8);
	h = hvh_model(host);
	assert_int_equal(h->npci, HYP_PCI_MAX);
	do {
		assert_int_equal(hyp_pci_list(h, first, 0, &page), 0);
		for (i = 0; i < page.count; i++, n++) {
			assert_true(n == 0 || page.sbdf[i] > last);
			last = page.sbdf[i];
		}
		first = page.next_sbdf;
	} while (first);
	assert_int_equal(n, HYP_PCI_MAX);
	snprintf(host, len, "ff:00.0 8086:1533 class=020000 bar0=16K\n");
	assert_int_equal(hyp_host_parse(h, host, "more", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "at most 4096 PCI functions"));
	hyp_free(h);
	free(host);
}

static void test_resets(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_pci_list list;
	uint32_t audio = HV_SBDF(0, 2, 0, 1);

	assert_int_equal(hyp_pci_list(h, 0, 0, &list), 0);
	assert_int_equal(list.count, 6);	/* NIC, 2 VFs, GPU, audio, old */
	/* FLR: Command, MSI-X enable/mask-all back to power-on. */
	wr(h, HVH_NIC, PCI_CMD, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	wr(h, HVH_NIC, 0x72, 2, MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL);
	assert_int_equal(hyp_pci_reset(h, HVH_NIC), 0);
	assert_int_equal(rd(h, HVH_NIC, PCI_CMD, 2), 0);
	assert_int_equal(rd(h, HVH_NIC, 0x72, 2), 7);
	/* FLR through DevCtl Initiate FLR. */
	wr(h, HVH_NIC, PCI_CMD, 2, PCI_CMD_MEM);
	wr(h, HVH_NIC, 0x88, 2, EXP_DEVCTL_BCR_FLR | 0x2810);
	assert_int_equal(rd(h, HVH_NIC, PCI_CMD, 2), 0);
	assert_int_equal(rd(h, HVH_NIC, 0x88, 2) & EXP_DEVCTL_BCR_FLR, 0);
	/* Bus reset: both functions of the GPU. */
	wr(h, HVH_GPU, PCI_CMD, 2, PCI_CMD_MEM);
	wr(h, audio, PCI_CMD, 2, PCI_CMD_MEM);
	wr(h, audio, 0x52, 2, MSI_FLAGS_ENABLE);
	assert_int_equal(hyp_pci_reset(h, audio), 0);
	assert_int_equal(rd(h, HVH_GPU, PCI_CMD, 2), 0);
	assert_int_equal(rd(h, audio, PCI_CMD, 2), 0);
	assert_int_equal(rd(h, audio, 0x52, 2) & MSI_FLAGS_ENABLE, 0);
	assert_int_equal(rd(h, HVH_GPU, 0x0e, 1), 0x80);	/* kept */
	/* reset=none: -ENOTTY, state unchanged. */
	wr(h, HVH_NORESET, PCI_CMD, 2, PCI_CMD_MEM);
	wr(h, HVH_NORESET, 0x72, 2, MSIX_FLAGS_MASKALL);
	assert_int_equal(hyp_pci_reset(h, HVH_NORESET), -ENOTTY);
	assert_int_equal(rd(h, HVH_NORESET, PCI_CMD, 2), PCI_CMD_MEM);
	assert_int_equal(rd(h, HVH_NORESET, 0x72, 2), MSIX_FLAGS_MASKALL | 3);
	assert_int_equal(hyp_pci_reset(h, 0x4242), -ENODEV);
	hyp_free(h);
}

static void test_msix_table_mmio(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	uint64_t v;

	/* Not decoding memory: reads ~0, writes vanish. */
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 12, 4, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	wr(h, HVH_NIC, PCI_CMD, 2, PCI_CMD_MEM);
	/* Entries start masked. */
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 12, 4, &v), 0);
	assert_int_equal(v, MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(hyp_pci_bar_write(h, HVH_NIC, 2, 16, 8,
					   0x00000000fee01000ull), 0);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 16, 8, &v), 0);
	assert_int_equal(v, 0xfee01000ull);
	assert_int_equal(hyp_pci_bar_write(h, HVH_NIC, 2, 28, 4, 0), 0);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 28, 4, &v), 0);
	assert_int_equal(v, 0);
	/* Bad accesses. */
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 2, 4, &v), -EINVAL);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 16384, 4, &v),
			 -EINVAL);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 1, 0, 4, &v), -EINVAL);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 6, 0, 4, &v), -EINVAL);
	assert_int_equal(hyp_pci_bar_read(h, HVH_NIC, 2, 0, 2, &v), -EINVAL);
	assert_int_equal(hyp_pci_bar_read(h, HVH_GPU, 5, 0, 4, &v), -EINVAL);
	hyp_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capability_walk),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_list_many),
		cmocka_unit_test(test_msix_table_mmio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
