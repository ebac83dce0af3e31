// SPDX-License-Identifier: MIT
/* The host file: the example parses; errors name the line and the fix;
 * --from-sysfs reads a (fake or real) sysfs tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv-harness.h"

static const char *example_path;

static void test_example(void **state)
{
	struct hyp *h;
	struct hv_pci_dev d;
	char err[512] = "";
	int i;

	assert_int_equal(hyp_new(&h), 0);
	if (hyp_host_load(h, example_path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	/* NIC PF + 4 VFs, GPU + audio, NVMe, the reset=none device */
	assert_int_equal(h->npci, 9);
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 3, 0, 0), &d), 0);
	assert_int_equal(d.vendor, 0x8086);
	assert_int_equal(d.num_vfs, 4);
	assert_int_equal(d.has_msix, 1);
	assert_int_equal(d.msix_entries, 129);
	assert_int_equal(d.reset, HYP_RESET_FLR);
	assert_int_equal(d.pf_sbdf, UINT32_MAX);
	assert_true(d.bar[0].flags & HV_BAR_64);
	assert_true(d.bar[0].addr >> 12 > 0xffffffffull);	/* frame > 2^32 */
	for (i = 0; i < 4; i++) {
		assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 3, 2, i), &d), 0);
		assert_int_equal(d.device, 0x154c);
		assert_int_equal(d.pf_sbdf, HV_SBDF(0, 3, 0, 0));
		assert_int_equal(d.intx_pin, 0);
		assert_int_equal(d.reset, HYP_RESET_FLR);
	}
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 2, 0, 1), &d), 0);
	assert_int_equal(d.class, 0x040300);
	assert_int_equal(d.has_msi, 1);
	assert_int_equal(d.reset, HYP_RESET_BUS);
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 4, 0, 0), &d), 0);
	assert_int_equal(d.msix_entries, 33);
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 5, 0, 0), &d), 0);
	assert_int_equal(d.reset, HYP_RESET_NONE);
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 9, 0, 0), &d), -ENODEV);
	hyp_free(h);
}

/* Each bad line: the error names "test:LINE:" and contains a hint. */
static void expect_error(const char *text, unsigned int line,
			 const char *needle)
{
	struct hyp *h;
	char err[512] = "", want[32];

	assert_int_equal(hyp_new(&h), 0);
	assert_int_equal(hyp_host_parse(h, text, "test", err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "test:%u: ", line);
	if (strncmp(err, want, strlen(want)) || !strstr(err, needle))
		fail_msg("expected '%s...%s', got '%s'", want, needle, err);
	hyp_free(h);
}

static void test_errors(void **state)
{
	const char *ok = "# comment\n\n01:00.0 1234:0001 class=ff0000\n";

	expect_error("# c\n\nzz:00.0 1234:0001 class=0\n", 3,
		     "not a PCI address");
	expect_error("01:00.0 12345:1 class=0\n", 1, "VENDOR:DEVICE");
	expect_error("01:00.0\n", 1, "VENDOR:DEVICE");
	expect_error("01:00.0 1234:0001\n", 1, "class is missing");
	expect_error("01:00.0 1234:0001 class=zz\n", 1, "class='zz'");
	expect_error("01:00.0 1234:0001 class=0 colour=red\n", 1,
		     "unknown key 'colour'");
	expect_error("01:00.0 1234:0001 class=0 bar0=3K\n", 1,
		     "not a power of two");
	expect_error("01:00.0 1234:0001 class=0 bar0=4K,mem64 bar1=4K\n", 1,
		     "upper half");
	expect_error("01:00.0 1234:0001 class=0 bar5=4K,mem64\n", 1,
		     "bar5 cannot be 64-bit");
	expect_error("01:00.0 1234:0001 class=0 bar0=4K,shiny\n", 1,
		     "unknown attribute 'shiny'");
	expect_error("01:00.0 1234:0001 class=0 bar0=4K bar0=4K\n", 1,
		     "described twice");
	expect_error("01:00.0 1234:0001 class=0 bar0=4G\n", 1, "add ,mem64");
	expect_error("01:00.0 1234:0001 class=0 bar0=512,io\n", 1,
		     "io bar size");
	expect_error("01:00.0 1234:0001 class=0 bar0=8K,at=0x1234\n", 1,
		     "not aligned");
	expect_error("01:00.0 1234:0001 class=0 msix=8\n", 1,
		     "needs a memory bar");
	expect_error("01:00.0 1234:0001 class=0 bar0=4K msix=512\n", 1,
		     "does not fit in bar0");
	expect_error("01:00.0 1234:0001 class=0 bar0=4K msix=3000\n", 1,
		     "1..2048");
	expect_error("01:00.0 1234:0001 class=0 bar0=16K msix=8 "
		     "msix-table=0 msix-pba=0x40\n", 1, "overlap");
	expect_error("01:00.0 1234:0001 class=0 bar0=32,io bar1=4K msix=8 "
		     "msix-bar=0\n", 1, "not a memory bar");
	expect_error("01:00.0 1234:0001 class=0 msi=3\n", 1, "1, 2, 4");
	expect_error("01:00.0 1234:0001 class=0 intx=e\n", 1, "a, b, c, d");
	expect_error("01:00.0 1234:0001 class=0 gsi=20\n", 1, "add intx=a");
	expect_error("01:00.0 1234:0001 class=0 reset=reboot\n", 1,
		     "flr, pm, bus or none");
	expect_error("01:00.0 1234:0001 class=0 pcie=no vfs=2\n", 1,
		     "PCI Express");
	expect_error("01:00.0 1234:0001 class=0 class\n", 1, "needs a value");
	expect_error("01:00.0 1234:0001 class=0\n01:00.0 1234:0002 class=0\n",
		     2, "described twice");
	/* A VF colliding with a described function. */
	expect_error("01:00.1 1234:0002 class=0\n"
		     "01:00.0 1234:0001 class=0 bar0=4K vfs=2\n", 2,
		     "described twice");
	/* Continued lines: the error names the first physical line. */
	expect_error("# x\n01:00.0 1234:0001 \\\n  class=0 \\\n  bogus=1\n", 2,
		     "unknown key 'bogus'");
	expect_error("01:00.0 1234:0001 \\\n class=0\n02:00.0 1:2\n", 3,
		     "class is missing");
	expect_error("ff:1f.7 1234:0001 class=0 bar0=4K vfs=2\n", 1,
		     "beyond bus ff");
	{
		struct hyp *h = hvh_model(ok);

		assert_int_equal(h->npci, 1);
		hyp_free(h);
	}
}

/* The `xen` line (what the modelled Xen booted with) and driver=. */
static void test_xen_line(void **state)
{
	struct hyp *h;
	char con[512];

	(void)state;
	expect_error("xen iommu=maybe\n", 1, "write iommu=on or iommu=off");
	expect_error("xen intremap\n", 1, "write intremap=on or intremap=off");
	expect_error("xen quarantine=off\n", 1, "unknown key 'quarantine'");
	expect_error("01:00.0 1234:0001 class=0 driver=E1000!\n", 1,
		     "a Linux driver name");
	h = hvh_model("01:00.0 1234:0001 class=0\n");
	assert_true(h->iommu && h->intremap);
	assert_string_equal(h->pci[0]->info.driver, "");
	assert_true(hyp_console_read(h, con, sizeof(con)) > 0);
	assert_non_null(strstr(con, "(XEN) I/O virtualisation enabled\n"));
	assert_non_null(strstr(con, "(XEN) Interrupt remapping enabled\n"));
	hyp_free(h);
	h = hvh_model("xen intremap=off\n"
		      "01:00.0 1234:0001 class=0 driver=e1000e\n");
	assert_true(h->iommu && !h->intremap);
	assert_string_equal(h->pci[0]->info.driver, "e1000e");
	assert_true(hyp_console_read(h, con, sizeof(con)) > 0);
	assert_non_null(strstr(con, "(XEN) Interrupt remapping disabled\n"));
	hyp_free(h);
	/* RMRRs, as Xen prints them with iommu=verbose; a console too
	 * small keeps its end from a line's start, as a wrapped ring */
	expect_error("01:00.0 1234:0001 class=0 rmrr=0\n", 1, "1..255");
	h = hvh_model("01:00.0 1234:0001 class=0 rmrr=2\n"
		      "02:00.0 1234:0001 class=0 rmrr=1\n"
		      "03:00.0 1234:0001 class=0 rmrr=2\n");
	assert_true(hyp_console_read(h, con, sizeof(con)) > 0);
	assert_non_null(strstr(con, "(XEN) [VT-D]found ACPI_DMAR_RMRR:\n"
			       "(XEN) [VT-D] endpoint: 0000:02:00.0\n"
			       "(XEN) [VT-D]found ACPI_DMAR_RMRR:\n"
			       "(XEN) [VT-D] endpoint: 0000:01:00.0\n"
			       "(XEN) [VT-D] endpoint: 0000:03:00.0\n"));
	assert_int_equal(hyp_console_read(h, con, 90), 86);
	assert_string_equal(con, "(XEN)  - Dom0 mode: Relaxed\n"
			    "(XEN) Interrupt remapping enabled\n"
			    "(XEN) Brought up 2 CPUs\n");
	hyp_free(h);
	/* no IOMMU: Xen prints no remapping line, and assigns nothing */
	h = hvh_model("xen iommu=off intremap=on\n01:00.0 1234:0001 "
		      "class=0\n");
	assert_false(h->iommu);
	assert_true(hyp_console_read(h, con, sizeof(con)) > 0);
	assert_non_null(strstr(con, "(XEN) I/O virtualisation disabled\n"));
	assert_null(strstr(con, "remapping"));
	assert_int_equal(hyp_test_assign(h, h->pci[0]->info.sbdf),
			 -EOPNOTSUPP);
	assert_int_equal(hyp_assign(h, HV_DOMID_IO, h->pci[0]->info.sbdf),
			 -EOPNOTSUPP);
	assert_int_equal(hyp_deassign(h, HV_DOMID_IO, h->pci[0]->info.sbdf),
			 -EOPNOTSUPP);
	hyp_free(h);
}

static void test_missing_file(void **state)
{
	struct hyp *h;
	char err[512] = "";

	assert_int_equal(hyp_new(&h), 0);
	assert_int_equal(hyp_host_load(h, "/nonexistent/host", err,
				       sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/host"));
	hyp_free(h);
}

static void put(const char *dir, const char *name, const void *data,
		size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_sysfs_fake(void **state)
{
	char root[] = "/tmp/xpt-hv-sysfs.XXXXXX", dir[256], cmd[300];
	uint8_t cfg[256] = { 0 };
	const char *res =
		"0x0000380000000000 0x00003800000fffff 0x000000000014220c\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000380000100000 0x0000380000103fff 0x000000000014220c\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
	struct hv_pci_dev d;
	struct hyp *h;
	char err[512] = "";

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/0000:07:00.0", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "vendor", "0x8086\n", 7);
	put(dir, "device", "0x10fb\n", 7);
	put(dir, "class", "0x020000\n", 9);
	put(dir, "resource", res, strlen(res));
	put(dir, "irq", "42\n", 3);
	put(dir, "reset_method", "flr bus\n", 8);
	cfg[0x06] = 0x10;		/* capability list */
	cfg[0x34] = 0x50;
	cfg[0x3d] = 1;			/* INTA */
	cfg[0x50] = PCI_CAP_ID_MSIX;
	cfg[0x51] = 0x70;
	cfg[0x52] = 63;			/* 64 entries */
	cfg[0x54] = 2;			/* table in BAR2 at 0 */
	cfg[0x58] = 2;
	cfg[0x59] = 0x20;		/* PBA BAR2 at 0x2000 */
	cfg[0x70] = PCI_CAP_ID_EXP;
	cfg[0x71] = 0x00;
	put(dir, "config", cfg, sizeof(cfg));
	/* A bridge: skipped. */
	snprintf(dir, sizeof(dir), "%s/0000:00:1c.0", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	memset(cfg, 0, sizeof(cfg));
	cfg[0x0e] = 1;
	put(dir, "config", cfg, 64);

	assert_int_equal(hyp_new(&h), 0);
	if (hyp_host_from_sysfs(h, root, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(h->npci, 1);
	assert_int_equal(hyp_pci_info(h, HV_SBDF(0, 7, 0, 0), &d), 0);
	assert_int_equal(d.vendor, 0x8086);
	assert_int_equal(d.device, 0x10fb);
	assert_int_equal(d.class, 0x020000);
	assert_int_equal(d.gsi, 42);
	assert_int_equal(d.intx_pin, 1);
	assert_int_equal(d.has_msix, 1);
	assert_int_equal(d.msix_entries, 64);
	assert_int_equal(d.reset, HYP_RESET_FLR);
	assert_int_equal(d.bar[0].size, 0x100000);
	assert_int_equal(d.bar[0].flags, HV_BAR_64 | HV_BAR_PREFETCH);
	assert_int_equal(d.bar[0].addr, 0x380000000000ull);
	assert_int_equal(d.bar[4].flags, HV_BAR_IO);
	assert_int_equal(d.bar[4].size, 32);
	hyp_free(h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* This machine: whatever it has, reading it must work and build. */
static void test_sysfs_real(void **state)
{
	struct hyp *h;
	char err[512] = "";

	if (access("/sys/bus/pci/devices", R_OK) < 0)
		skip();
	assert_int_equal(hyp_new(&h), 0);
	if (hyp_host_from_sysfs(h, "/sys/bus/pci/devices", err,
				sizeof(err)) < 0)
		fail_msg("%s", err);
	hyp_free(h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_xen_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_sysfs_fake),
		cmocka_unit_test(test_sysfs_real),
	};

	example_path = argc > 1 ? argv[1] : "examples/host";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
