// SPDX-License-Identifier: MIT
/* xpt-pciback: the guest-visible topology (docs/protocol.md §5.4) and BDF
 * parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fakehv.h"
#include "pciback.h"

static struct pciback pb;
static struct pb_backend be5 = { .domid = 5 }, be6 = { .domid = 6 };

static int setup(void **state)
{
	fakehv_reset();
	memset(&pb, 0, sizeof(pb));
	pb.epfd = pb.ctlfd = -1;
	return 0;
}

static int teardown(void **state)
{
	pciback_fini(&pb);
	return 0;
}

static struct pb_dev *seized(uint32_t sbdf, uint32_t class)
{
	char msg[200];

	fakehv_add(sbdf, 0x8086, 0x10d3, class, true, 4, 1);
	assert_int_equal(pciback_seize(&pb, sbdf, msg, sizeof(msg)), 0);
	return pciback_dev_find(&pb, sbdf);
}

static uint32_t export_ok(struct pb_backend *be, struct pb_dev *d)
{
	char msg[200];

	assert_int_equal(pciback_export(&pb, be, d, msg, sizeof(msg)), 0);
	return d->vsbdf;
}

static void test_parse_bdf(void **state)
{
	uint32_t s;

	assert_int_equal(pciback_parse_bdf("0000:03:00.1", true, &s), 0);
	assert_int_equal(s, HV_SBDF(0, 3, 0, 1));
	/* dev-N is scanned with %x:%x:%x.%x, vdev-N has %02x functions */
	assert_int_equal(pciback_parse_bdf("1:a:1f.7", true, &s), 0);
	assert_int_equal(s, HV_SBDF(1, 0xa, 0x1f, 7));
	assert_int_equal(pciback_parse_bdf("0000:00:02.00", true, &s), 0);
	assert_int_equal(s, HV_SBDF(0, 0, 2, 0));
	assert_int_equal(pciback_parse_bdf("03:00.0", false, &s), 0);
	assert_int_equal(s, HV_SBDF(0, 3, 0, 0));
	assert_int_equal(pciback_parse_bdf("03:00.0", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("0000:03:20.0", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("0000:03:00.8", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("0000:100:00.0", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("0000:03:00.0x", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("0000:03.00:0", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("", true, &s), -EINVAL);
	assert_int_equal(pciback_parse_bdf("zz:03:00.0", true, &s), -EINVAL);
}

/* Functions of one host slot share a virtual slot; others take the first
 * free slot keeping their function; a VF gets its own slot as function 0. */
static void test_vpci_placement(void **state)
{
	struct pb_dev *a0 = seized(HV_SBDF(0, 3, 0, 0), 0x020000);
	struct pb_dev *a1 = seized(HV_SBDF(0, 3, 0, 1), 0x020000);
	struct pb_dev *b = seized(HV_SBDF(0, 5, 0, 2), 0x010802);
	struct pb_dev *vf;
	struct fakehv_dev *f;
	char msg[200];

	f = fakehv_add(HV_SBDF(0, 4, 0x10, 2), 0x8086, 0x10ed, 0x020000,
		       false, 3, 1);
	f->info.pf_sbdf = HV_SBDF(0, 4, 0, 0);
	assert_int_equal(pciback_seize(&pb, f->info.sbdf, msg, sizeof(msg)),
			 0);
	vf = pciback_dev_find(&pb, f->info.sbdf);

	assert_int_equal(export_ok(&be5, a0), HV_SBDF(0, 0, 0, 0));
	assert_int_equal(export_ok(&be5, b), HV_SBDF(0, 0, 1, 2));
	assert_int_equal(export_ok(&be5, vf), HV_SBDF(0, 0, 2, 0));
	assert_int_equal(export_ok(&be5, a1), HV_SBDF(0, 0, 0, 1));
	assert_ptr_equal(pciback_lookup_vdev(&pb, &be5, HV_SBDF(0, 0, 2, 0)),
			 vf);
	/* another guest's bus is its own */
	assert_null(pciback_lookup_vdev(&pb, &be6, HV_SBDF(0, 0, 2, 0)));
	/* a device is exported once */
	assert_int_equal(pciback_export(&pb, &be6, a0, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "perhaps already in-use"));
	/* after a put, the slot is free again */
	pciback_put(&pb, b);
	assert_null(b->be);
	{
		struct pb_dev *c = seized(HV_SBDF(0, 6, 0, 0), 0x030000);

		assert_int_equal(export_ok(&be5, c), HV_SBDF(0, 0, 1, 0));
	}
}

static void test_vpci_full_and_bridges(void **state)
{
	struct pb_dev *d;
	char msg[200];

	for (unsigned int i = 0; i < 32; i++) {
		d = seized(HV_SBDF(0, 0x10 + i, 0, 0), 0x020000);
		assert_int_equal(export_ok(&be5, d), HV_SBDF(0, 0, i, 0));
	}
	d = seized(HV_SBDF(0, 0x40, 0, 0), 0x020000);
	assert_int_equal(pciback_export(&pb, &be5, d, msg, sizeof(msg)),
			 -ENOMEM);
	assert_string_equal(msg, "No more space on root virtual PCI bus");
	/* a function of an exported slot still fits */
	d = seized(HV_SBDF(0, 0x10, 0, 3), 0x020000);
	assert_int_equal(export_ok(&be5, d), HV_SBDF(0, 0, 0, 3));

	d = seized(HV_SBDF(0, 0x41, 0, 0), 0x060400);
	assert_int_equal(pciback_export(&pb, &be6, d, msg, sizeof(msg)),
			 -EPERM);
	assert_non_null(strstr(msg, "Can't export bridges"));
}

static void test_passthrough_topology(void **state)
{
	struct pb_dev *d = seized(HV_SBDF(2, 0x81, 3, 4), 0x020000);

	pb.passthrough_topology = true;
	assert_int_equal(export_ok(&be5, d), HV_SBDF(2, 0x81, 3, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bdf),
		cmocka_unit_test_setup_teardown(test_vpci_placement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpci_full_and_bridges,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_passthrough_topology,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
