// SPDX-License-Identifier: MIT
/* Event channels: port states, send/receive across two domain connections. */
#include <errno.h>
#include <unistd.h>

#include "hv-harness.h"

static void test_states_inprocess(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t a, b, pa, pb, p2, x;
	int fa, fb;

	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &a), 0);
	assert_int_equal(hyp_domain_create(h, 0, "b", 0, 1, &b), 0);
	assert_int_equal(hyp_evtchn_alloc_unbound(h, a, b, &pa), 0);
	assert_int_equal(pa, 1);	/* port 0 is never used */
	assert_int_equal(h->dom[a]->ports[pa].state, PORT_UNBOUND);
	/* Only the domain it was allocated for can bind it. */
	assert_int_equal(hyp_evtchn_bind_interdomain(h, 0, a, pa, &x),
			 -EINVAL);
	assert_int_equal(hyp_evtchn_bind_interdomain(h, b, a, 77, &x),
			 -EINVAL);
	assert_int_equal(hyp_evtchn_bind_interdomain(h, b, 99, pa, &x),
			 -ESRCH);
	assert_int_equal(hyp_evtchn_alloc_unbound(h, a, 99, &x), -ESRCH);
	assert_int_equal(hyp_evtchn_bind_interdomain(h, b, a, pa, &pb), 0);
	/* Binding notifies the new local port (Xen does, to lose nothing). */
	assert_int_equal(hyp_evtchn_fd(h, b, pb, &fb), 0);
	assert_int_equal(hvh_pending(fb), 1);
	/* Bound: no second binding. */
	assert_int_equal(hyp_evtchn_bind_interdomain(h, b, a, pa, &x),
			 -EINVAL);
	/* Notifications sent before the fd was fetched are not lost. */
	assert_int_equal(hyp_evtchn_send(h, b, pb), 0);
	assert_int_equal(hyp_evtchn_send(h, b, pb), 0);
	assert_int_equal(hyp_evtchn_fd(h, a, pa, &fa), 0);
	assert_int_equal(hvh_pending(fa), 2);
	assert_int_equal(hyp_evtchn_send(h, a, pa), 0);
	assert_int_equal(hvh_pending(fb), 1);
	/* Invalid ports. */
	assert_int_equal(hyp_evtchn_send(h, a, 0), -EINVAL);
	assert_int_equal(hyp_evtchn_send(h, a, HYP_NR_PORTS), -EINVAL);
	assert_int_equal(hyp_evtchn_send(h, a, 5), -EINVAL);
	assert_int_equal(hyp_evtchn_close(h, a, 5), -EINVAL);
	assert_int_equal(hyp_evtchn_fd(h, a, 0xffffffffu, &fa), -EINVAL);
	/* Close a: b's port becomes unbound (for a); sending is harmless. */
	assert_int_equal(hyp_evtchn_close(h, a, pa), 0);
	assert_int_equal(h->dom[b]->ports[pb].state, PORT_UNBOUND);
	assert_int_equal(h->dom[b]->ports[pb].remote_domid, a);
	assert_int_equal(hyp_evtchn_send(h, b, pb), 0);
	/* a can bind to it again. */
	assert_int_equal(hyp_evtchn_bind_interdomain(h, a, b, pb, &p2), 0);
	assert_int_equal(hyp_evtchn_fd(h, a, p2, &fa), 0);
	assert_int_equal(hvh_pending(fa), 1);
	assert_int_equal(hyp_evtchn_send(h, b, pb), 0);
	assert_int_equal(hvh_pending(fa), 1);
	/* Destroying b closes its ports: a's becomes unbound. */
	assert_int_equal(hyp_domain_destroy(h, b), 0);
	assert_int_equal(h->dom[a]->ports[p2].state, PORT_UNBOUND);
	assert_int_equal(hyp_evtchn_send(h, a, p2), 0);
	/* Loopback within one domain, via DOMID_SELF. */
	assert_int_equal(hyp_evtchn_alloc_unbound(h, a, HV_DOMID_SELF, &x), 0);
	assert_int_equal(hyp_evtchn_bind_interdomain(h, a, HV_DOMID_SELF, x,
						     &p2), 0);
	assert_int_equal(hyp_evtchn_send(h, a, p2), 0);
	assert_int_equal(hyp_evtchn_fd(h, a, x, &fa), 0);
	assert_int_equal(hvh_pending(fa), 1);
	/* bind_pirq: only pirqs mapped for the caller. */
	assert_int_equal(hyp_evtchn_bind_pirq(h, a, 20, &x), -EINVAL);
	assert_int_equal(hyp_evtchn_bind_pirq(h, a, -1, &x), -EINVAL);
	assert_int_equal(hyp_evtchn_bind_pirq(h, a, 1 << 20, &x), -EINVAL);
	hyp_free(h);
}

static void test_port_exhaustion(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t a, p, i;

	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &a), 0);
	for (i = 1; i < HYP_NR_PORTS; i++)
		assert_int_equal(hyp_evtchn_alloc_unbound(h, a, 0, &p), 0);
	assert_int_equal(hyp_evtchn_alloc_unbound(h, a, 0, &p), -ENOSPC);
	assert_int_equal(hyp_evtchn_close(h, a, 17), 0);
	assert_int_equal(hyp_evtchn_alloc_unbound(h, a, 0, &p), 0);
	assert_int_equal(p, 17);
	hyp_free(h);
}

/* A domain's port table grows as ports are taken: a loopback binding
 * that grows it still links both ends (the table moved under the
 * unbound end found before). */
static void test_loopback_grows_the_table(void **state)
{
	struct hyp *h = hvh_model("");
	uint32_t a, p, last = 0, bound, i;
	int fd;

	assert_int_equal(hyp_domain_create(h, 0, "a", 0, 1, &a), 0);
	for (i = 0; i < 7; i++) {
		assert_int_equal(hyp_evtchn_alloc_unbound(h, a, HV_DOMID_SELF,
							  &p), 0);
		last = p;
	}
	assert_int_equal(last, 7);
	assert_int_equal(h->dom[a]->nports, 8);	/* full: the next grows it */
	assert_int_equal(hyp_evtchn_bind_interdomain(h, a, HV_DOMID_SELF,
						     last, &bound), 0);
	assert_int_equal(bound, 8);
	assert_true(h->dom[a]->nports > 8);
	assert_int_equal(h->dom[a]->ports[last].state, PORT_INTERDOMAIN);
	assert_int_equal(h->dom[a]->ports[last].remote_port, bound);
	assert_int_equal(h->dom[a]->ports[bound].remote_port, last);
	assert_int_equal(hyp_evtchn_send(h, a, bound), 0);
	assert_int_equal(hyp_evtchn_fd(h, a, last, &fd), 0);
	assert_int_equal(hvh_pending(fd), 1);
	hyp_free(h);
}

/* Frontend/backend: a guest allocates for dom0, dom0 binds, both talk. */
static void test_two_connections(void **state)
{
	struct hvh t;
	struct hv_client *g1, *g2;
	unsigned int d1, d2, gp, bp, x;
	int gfd, bfd, i;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "g1", 0, 1, &d1), 0);
	assert_int_equal(hv_domain_create(t.ctl, 0, "g2", 0, 1, &d2), 0);
	g1 = hvh_open_domain(&t, d1);
	g2 = hvh_open_domain(&t, d2);
	assert_int_equal(hv_evtchn_alloc_unbound(g1, 0, &gp), 0);
	/* Another guest may not bind the port meant for dom0. */
	assert_int_equal(hv_evtchn_bind_interdomain(g2, d1, gp, &x), -EINVAL);
	assert_int_equal(hv_evtchn_bind_interdomain(t.ctl, d1, gp, &bp), 0);
	assert_int_equal(hv_evtchn_fd(g1, gp, &gfd), 0);
	assert_int_equal(hv_evtchn_fd(t.ctl, bp, &bfd), 0);
	assert_int_equal(hvh_wait(bfd, 2000), 1);	/* bind notification */
	for (i = 0; i < 5; i++) {
		assert_int_equal(hv_evtchn_send(g1, gp), 0);
		assert_int_equal(hvh_wait(bfd, 2000), 1);
		assert_int_equal(hv_evtchn_send(t.ctl, bp), 0);
		assert_int_equal(hvh_wait(gfd, 2000), 1);
	}
	/* g2 cannot send, close or fetch g1's port: its own table is empty. */
	assert_int_equal(hv_evtchn_send(g2, gp), -EINVAL);
	assert_int_equal(hv_evtchn_close(g2, gp), -EINVAL);
	assert_int_equal(hv_evtchn_fd(g2, gp, &i), -EINVAL);
	/* The guest goes away mid-conversation: dom0 sends into the void. */
	hv_close(g1);
	assert_int_equal(hv_domain_destroy(t.ctl, d1), 0);
	assert_int_equal(hv_evtchn_send(t.ctl, bp), 0);
	assert_int_equal(hvh_pending(gfd), 0);
	assert_int_equal(hv_evtchn_close(t.ctl, bp), 0);
	assert_int_equal(hv_evtchn_send(t.ctl, bp), -EINVAL);
	close(gfd);
	close(bfd);
	hv_close(g2);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_inprocess),
		cmocka_unit_test(test_port_exhaustion),
		cmocka_unit_test(test_loopback_grows_the_table),
		cmocka_unit_test(test_two_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
