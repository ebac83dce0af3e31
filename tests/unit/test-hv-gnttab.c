// SPDX-License-Identifier: MIT
/* Grant tables: grant, map (only the grantee), read-only, unmap, end. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv-harness.h"

static void test_rules_inprocess(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t a, b, c, g, g2;
	void *page;
	bool ro;
	int mfd, fd;

	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &a), 0);
	assert_int_equal(hyp_domain_create(h, 0, "b", 0, 1, &b), 0);
	assert_int_equal(hyp_domain_create(h, 0, "c", 0, 1, &c), 0);
	assert_int_equal(hv_page_alloc(&mfd, &page), 0);
	assert_int_equal(hyp_gnttab_grant(h, a, b, mfd, false, &g), 0);
	assert_int_equal(g, HYP_GREF_FIRST);
	assert_int_equal(hyp_gnttab_grant(h, a, 99, mfd, false, &g2), -ESRCH);
	assert_int_equal(hyp_gnttab_grant(h, a, b, -1, false, &g2), -EINVAL);
	/* Only the grantee maps it. */
	assert_int_equal(hyp_gnttab_map(h, c, a, g, &fd, &ro), -EPERM);
	assert_int_equal(hyp_gnttab_map(h, b, a, g + 1, &fd, &ro), -ENOENT);
	assert_int_equal(hyp_gnttab_map(h, b, a, 0xffffffffu, &fd, &ro),
			 -ENOENT);
	assert_int_equal(hyp_gnttab_map(h, b, 99, g, &fd, &ro), -ESRCH);
	assert_int_equal(hyp_gnttab_map(h, b, a, g, &fd, &ro), 0);
	assert_false(ro);
	close(fd);
	/* End refused while mapped; only the granter ends its grant. */
	assert_int_equal(hyp_gnttab_end(h, a, g), -EBUSY);
	assert_int_equal(hyp_gnttab_end(h, b, g), -ENOENT);
	assert_int_equal(hyp_gnttab_unmap(h, c, a, g), -EPERM);
	assert_int_equal(hyp_gnttab_unmap(h, b, a, g), 0);
	assert_int_equal(hyp_gnttab_unmap(h, b, a, g), -EINVAL);
	assert_int_equal(hyp_gnttab_end(h, a, g), 0);
	assert_int_equal(hyp_gnttab_end(h, a, g), -ENOENT);
	assert_int_equal(hyp_gnttab_map(h, b, a, g, &fd, &ro), -ENOENT);
	/* The grantee dying drops its mappings: the granter can end. */
	assert_int_equal(hyp_gnttab_grant(h, a, b, mfd, false, &g), 0);
	assert_int_equal(hyp_gnttab_map(h, b, a, g, &fd, &ro), 0);
	close(fd);
	assert_int_equal(hyp_domain_destroy(h, b), 0);
	assert_int_equal(hyp_gnttab_end(h, a, g), 0);
	/* The granter dying revokes its grants. */
	assert_int_equal(hyp_gnttab_grant(h, a, c, mfd, false, &g), 0);
	assert_int_equal(hyp_domain_destroy(h, a), 0);
	assert_int_equal(hyp_gnttab_map(h, c, a, g, &fd, &ro), -ESRCH);
	close(mfd);
	munmap(page, HV_PAGE_SIZE);
	hyp_free(h);
}

static void test_pages_through_sockets(void **state)
{
	struct hvh t;
	struct hv_client *fe, *other;
	unsigned int d, d2;
	uint32_t g, gro;
	char *page, *map, *romap;
	void *p;
	int mfd, fd, rofd;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "fe", 0, 1, &d), 0);
	assert_int_equal(hv_domain_create(t.ctl, 0, "x", 0, 1, &d2), 0);
	fe = hvh_open_domain(&t, d);
	other = hvh_open_domain(&t, d2);
	assert_int_equal(hv_page_alloc(&mfd, &p), 0);
	page = p;
	strcpy(page, "hello from the frontend");
	assert_int_equal(hv_grant_page(fe, 0, mfd, 0, &g), 0);
	assert_int_equal(hv_grant_page(fe, 0, mfd, 1, &gro), 0);
	/* Grant without a page: refused. */
	assert_int_equal(hv_call(fe, HV_OP_GNTTAB_GRANT,
				 &(struct hv_grant){ .remote_domid = 0 },
				 sizeof(struct hv_grant), -1, NULL, 0, NULL),
			 -EINVAL);
	/* dom0 maps and writes; the frontend sees it (same memory). */
	assert_int_equal(hv_map_grant(t.ctl, d, g, &fd, &p), 0);
	map = p;
	assert_string_equal(map, "hello from the frontend");
	strcpy(map, "reply from dom0");
	assert_string_equal(page, "reply from dom0");
	/* Read-only grant: readable, and the kernel refuses PROT_WRITE. */
	assert_int_equal(hv_map_grant(t.ctl, d, gro, &rofd, &p), 0);
	romap = p;
	assert_string_equal(romap, "reply from dom0");
	assert_true(mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, rofd, 0) == MAP_FAILED);
	/* Another guest: not its grant. */
	assert_int_equal(hv_map_grant(other, d, g, &fd, &p), -EPERM);
	assert_int_equal(hv_end_grant(other, g), -ENOENT);
	assert_int_equal(hv_unmap_grant(other, d, g), -EPERM);
	/* End while mapped. */
	assert_int_equal(hv_end_grant(fe, g), -EBUSY);
	assert_int_equal(hv_unmap_grant(t.ctl, d, g), 0);
	assert_int_equal(hv_end_grant(fe, g), 0);
	assert_int_equal(hv_unmap_grant(t.ctl, d, gro), 0);
	assert_int_equal(hv_end_grant(fe, gro), 0);
	munmap(map, HV_PAGE_SIZE);
	munmap(romap, HV_PAGE_SIZE);
	munmap(page, HV_PAGE_SIZE);
	close(fd);
	close(rofd);
	close(mfd);
	hv_close(fe);
	hv_close(other);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_inprocess),
		cmocka_unit_test(test_pages_through_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
