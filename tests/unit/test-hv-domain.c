// SPDX-License-Identifier: MIT
/* Domains: life cycle, domid allocation, VIRQ_DOM_EXC, per-domain sockets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hv-harness.h"

static void test_lifecycle_inprocess(void **state)
{
	struct hyp *h = hvh_model(hvh_host);
	struct hv_domain_info info;
	struct hv_domain_list list;
	uint32_t a, b, c;

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PASSTHROUGH, "a", 1024,
					   1, &a), 0);
	assert_int_equal(a, 1);
	assert_int_equal(hyp_domain_create(h, 0, "b", 1024, 1, &b), 0);
	assert_int_equal(b, 2);
	assert_int_equal(hyp_domain_getinfo(h, a, &info), 0);
	assert_int_equal(info.state, HV_DOM_PAUSED);
	assert_string_equal(info.name, "a");
	assert_int_equal(info.flags, HV_DOMF_PASSTHROUGH);
	assert_int_equal(hyp_domain_unpause(h, a), 0);
	assert_int_equal(hyp_domain_getinfo(h, a, &info), 0);
	assert_int_equal(info.state, HV_DOM_RUNNING);
	/* Xen: unpausing a domain the controller did not pause: -EINVAL */
	assert_int_equal(hyp_domain_unpause(h, a), -EINVAL);
	assert_int_equal(hyp_domain_pause(h, a), 0);
	assert_int_equal(hyp_domain_getinfo(h, a, &info), 0);
	assert_int_equal(info.state, HV_DOM_PAUSED);
	assert_int_equal(hyp_domain_unpause(h, a), 0);
	assert_int_equal(hyp_domain_shutdown(h, a, HV_SHUTDOWN_REBOOT), 0);
	assert_int_equal(hyp_domain_shutdown(h, a, HV_SHUTDOWN_CRASH), 0);
	assert_int_equal(hyp_domain_getinfo(h, a, &info), 0);
	assert_int_equal(info.state, HV_DOM_SHUTDOWN);
	assert_int_equal(info.shutdown_reason, HV_SHUTDOWN_REBOOT);
	assert_int_equal(hyp_domain_shutdown(h, a, 99), -EINVAL);
	assert_int_equal(hyp_domain_shutdown(h, b, 99), -EINVAL);
	assert_int_equal(hyp_domain_list(h, &list), 0);
	assert_int_equal(list.count, 3);
	assert_int_equal(list.d[0].domid, 0);
	assert_int_equal(list.d[0].state, HV_DOM_RUNNING);

	/* Destroy; the id is not reused while ids above are free. */
	assert_int_equal(hyp_domain_destroy(h, a), 0);
	assert_int_equal(hyp_domain_getinfo(h, a, &info), -ESRCH);
	assert_int_equal(hyp_domain_destroy(h, a), -ESRCH);
	assert_int_equal(hyp_domain_create(h, 0, "c", 0, 1, &c), 0);
	assert_int_equal(c, 3);
	/* dom0 and reserved ids are not controllable */
	assert_int_equal(hyp_domain_destroy(h, 0), -EINVAL);
	assert_int_equal(hyp_domain_pause(h, 0), -EINVAL);
	assert_int_equal(hyp_domain_destroy(h, HV_DOMID_IO), -ESRCH);
	assert_int_equal(hyp_domain_create(h, 1u << 7, "bad", 0, 1, &c),
			 -EINVAL);
	hyp_free(h);
}

static void test_domid_wrap_skips_live(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t a, b;

	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &a), 0);
	h->next_domid = HYP_DOMID_MAX - 1;
	assert_int_equal(hyp_domain_create(h, 0, "top", 0, 1, &b), 0);
	assert_int_equal(b, HYP_DOMID_MAX - 1);
	/* Wraps to 1, which is live: 2 is next. */
	assert_int_equal(hyp_domain_create(h, 0, "b", 0, 1, &b), 0);
	assert_int_equal(b, 2);
	hyp_free(h);
}

static void test_virq_dom_exc_inprocess(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t port, d;
	int fd;

	assert_int_equal(hyp_bind_virq_dom_exc(h, &port), 0);
	assert_int_equal(hyp_evtchn_fd(h, 0, port, &fd), 0);
	assert_int_equal(hvh_pending(fd), 0);
	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &d), 0);
	assert_int_equal(hvh_pending(fd), 1);
	assert_int_equal(hyp_domain_unpause(h, d), 0);
	assert_int_equal(hyp_domain_shutdown(h, d, HV_SHUTDOWN_POWEROFF), 0);
	assert_int_equal(hyp_domain_destroy(h, d), 0);
	assert_int_equal(hvh_pending(fd), 3);
	hyp_free(h);
}

static void test_sockets(void **state)
{
	struct hvh t;
	struct hv_client *g, *g2;
	struct hv_domain_info info;
	unsigned int d, d2, port;
	char path[128];
	int vfd, fd;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_bind_virq_dom_exc(t.ctl, &port, &vfd), 0);
	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "guest",
					  262144, 2, &d), 0);
	assert_int_equal(hvh_wait(vfd, 2000), 1);
	snprintf(path, sizeof(path), "%s/hv/domain/%u", t.rundir, d);
	assert_int_equal(access(path, F_OK), 0);

	g = hvh_open_domain(&t, d);
	/* A domain acts as itself only. */
	assert_int_equal(hv_domain_create(g, 0, "x", 0, 1, &d2), -EPERM);
	assert_int_equal(hv_domain_destroy(g, d), -EPERM);
	assert_int_equal(hv_domain_unpause(g, d), -EPERM);
	assert_int_equal(hv_domain_getinfo(g, d, &info), -EPERM);
	assert_int_equal(hv_domain_shutdown(g, 0, HV_SHUTDOWN_POWEROFF),
			 -EPERM);
	assert_int_equal(hv_bind_virq_dom_exc(g, &port, &fd), -EPERM);
	assert_int_equal(fd, -1);

	assert_int_equal(hv_domain_create(t.ctl, 0, "other", 0, 1, &d2), 0);
	assert_int_equal(hvh_wait(vfd, 2000), 1);
	assert_int_equal(hv_domain_shutdown(g, d2, HV_SHUTDOWN_POWEROFF),
			 -EPERM);
	g2 = hvh_open_domain(&t, d2);

	assert_int_equal(hv_domain_unpause(t.ctl, d), 0);
	assert_int_equal(hvh_wait(vfd, 2000), 1);
	/* The guest shuts itself down. */
	assert_int_equal(hv_domain_shutdown(g, HV_DOMID_SELF,
					    HV_SHUTDOWN_REBOOT), 0);
	assert_int_equal(hvh_wait(vfd, 2000), 1);
	assert_int_equal(hv_domain_getinfo(t.ctl, d, &info), 0);
	assert_int_equal(info.state, HV_DOM_SHUTDOWN);
	assert_int_equal(info.shutdown_reason, HV_SHUTDOWN_REBOOT);
	assert_int_equal(info.flags, HV_DOMF_PASSTHROUGH);

	/* Destroy: socket gone, its connections closed, the other serves. */
	assert_int_equal(hv_domain_destroy(t.ctl, d), 0);
	assert_int_equal(hvh_wait(vfd, 2000), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_not_equal(hv_evtchn_alloc_unbound(g, 0, &port), 0);
	assert_int_equal(hv_evtchn_alloc_unbound(g2, 0, &port), 0);
	assert_int_equal(hv_domain_getinfo(t.ctl, d, &info), -ESRCH);
	hv_close(g);
	hv_close(g2);
	close(vfd);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle_inprocess),
		cmocka_unit_test(test_domid_wrap_skips_live),
		cmocka_unit_test(test_virq_dom_exc_inprocess),
		cmocka_unit_test(test_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
