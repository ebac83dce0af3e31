// SPDX-License-Identifier: MIT
/*
 * Domains: life cycle, domid allocation, VIRQ_DOM_EXC, per-domain sockets,
 * the paged domain list; and hvclient's bound on a call (a fake hypervisor
 * that stops answering).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
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
	assert_int_equal(hyp_domain_list(h, 0, 0, &list), 0);
	assert_int_equal(list.count, 3);
	assert_int_equal(list.next_domid, 0);
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

/* The loops over the domains stop at dom_end, one past the highest live
 * id: it grows with a create (to the top id, too) and shrinks when the
 * highest goes, and every live domain stays listed and found. */
static void test_dom_end_follows_the_highest(void **state)
{
	static struct hv_domain_list page;
	struct hyp *h = hvh_model("");
	uint32_t d, i;

	for (i = 1; i <= 5; i++)
		assert_int_equal(hyp_domain_create(h, 0, "d", 0, 1, &d), 0);
	assert_int_equal(h->dom_end, 6);
	assert_int_equal(hyp_domain_destroy(h, 5), 0);
	assert_int_equal(hyp_domain_destroy(h, 3), 0);
	assert_int_equal(h->dom_end, 5);
	assert_int_equal(hyp_domain_destroy(h, 4), 0);
	assert_int_equal(h->dom_end, 3);
	assert_int_equal(hyp_domain_list(h, 0, 0, &page), 0);
	assert_int_equal(page.count, 3);
	assert_int_equal(page.d[2].domid, 2);
	h->next_domid = HYP_DOMID_MAX - 1;
	assert_int_equal(hyp_domain_create(h, 0, "top", 0, 1, &d), 0);
	assert_int_equal(h->dom_end, HYP_DOMID_MAX);
	assert_int_equal(hyp_domain_list(h, 3, 0, &page), 0);
	assert_int_equal(page.count, 1);
	assert_int_equal(page.d[0].domid, HYP_DOMID_MAX - 1);
	assert_non_null(hyp_domain_get(h, HYP_DOMID_MAX - 1));
	assert_int_equal(hyp_domain_destroy(h, HYP_DOMID_MAX - 1), 0);
	assert_int_equal(h->dom_end, 3);
	assert_non_null(hyp_domain_get(h, 2));
	hyp_free(h);
}

/* More domains than a page: every one is listed once, in id order, with
 * holes; a short max pages early; a start past the last is empty. */
static void test_list_pages(void **state)
{
	static struct hv_domain_list page;
	struct hyp *h = hvh_model("");
	uint32_t d, i, first, seen;
	char name[16];

	for (i = 1; i <= 200; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(hyp_domain_create(h, 0, name, 0, 1, &d), 0);
		assert_int_equal(d, i);
	}
	for (i = 10; i <= 200; i += 10)
		assert_int_equal(hyp_domain_destroy(h, i), 0);
	for (first = 0, seen = 0;; first = page.next_domid) {
		assert_int_equal(hyp_domain_list(h, first, 0, &page), 0);
		assert_true(page.count <= HV_DOMAIN_LIST_PAGE);
		for (i = 0; i < page.count; i++, seen++) {
			/* ids 0..200 without the multiples of 10 */
			d = seen ? (seen - 1) + (seen - 1) / 9 + 1 : 0;
			assert_int_equal(page.d[i].domid, d);
			if (d)
				assert_int_equal(atoi(page.d[i].name + 1), d);
		}
		if (!page.next_domid)
			break;
		assert_int_equal(page.count, HV_DOMAIN_LIST_PAGE);
	}
	assert_int_equal(seen, 201 - 20);
	assert_int_equal(hyp_domain_list(h, 5, 2, &page), 0);
	assert_int_equal(page.count, 2);
	assert_int_equal(page.d[0].domid, 5);
	assert_int_equal(page.d[1].domid, 6);
	assert_int_equal(page.next_domid, 7);
	assert_int_equal(hyp_domain_list(h, 199, 1000, &page), 0);
	assert_int_equal(page.count, 1);
	assert_int_equal(page.next_domid, 0);
	assert_int_equal(hyp_domain_list(h, 0x7fff, 0, &page), 0);
	assert_int_equal(page.count, 0);
	hyp_free(h);
}

/* The same over the control socket, with hvclient's walk. */
static void test_list_sockets(void **state)
{
	struct hv_domain_info *all = NULL;
	struct hv_domain_list page;
	struct hvh t;
	unsigned int d, i;
	size_t n;

	hvh_start(&t, "");
	for (i = 1; i <= 150; i++)
		assert_int_equal(hv_domain_create(t.ctl, 0, "x", 0, 1, &d), 0);
	assert_int_equal(hv_domain_destroy(t.ctl, 64), 0);
	assert_int_equal(hv_domain_list(t.ctl, &all, &n), 0);
	assert_int_equal(n, 150);
	for (i = 0; i < n; i++)
		assert_int_equal(all[i].domid, i < 64 ? i : i + 1);
	free(all);
	/* An old client's empty request: the first page. */
	assert_int_equal(hv_call(t.ctl, HV_OP_DOMAIN_LIST, NULL, 0, -1, &page,
				 sizeof(page), NULL), 0);
	assert_int_equal(page.count, HV_DOMAIN_LIST_PAGE);
	assert_int_equal(page.next_domid, HV_DOMAIN_LIST_PAGE + 1);
	assert_int_equal(hv_domain_list_page(t.ctl, 140, 0, &page), 0);
	assert_int_equal(page.count, 11);
	assert_int_equal(page.next_domid, 0);
	hvh_stop(&t);
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

/*
 * A fake hypervisor on hv/control: the first connection is greeted, then
 * never answered (its requests are read and dropped, as by a hung daemon);
 * later connections answer every request with -ESRCH.
 */
struct mute {
	char dir[64];
	int lfd;
	int conns;		/* accepted so far */
	pthread_t thread;
};

static int mute_reply(int fd, const struct hv_msg *m, int32_t ret,
		      const void *payload, uint32_t len)
{
	char buf[HV_MSG_MAX];
	struct hv_msg r = { .op = m->op, .seq = m->seq, .ret = ret,
			    .len = len };

	memcpy(buf, &r, sizeof(r));
	if (len)
		memcpy(buf + sizeof(r), payload, len);
	return send(fd, buf, sizeof(r) + len, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static void *mute_serve(void *arg)
{
	struct mute *s = arg;
	char buf[HV_MSG_MAX];
	struct hv_msg m;
	int fd;
	ssize_t n;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		int conn = __atomic_add_fetch(&s->conns, 1,
					      __ATOMIC_SEQ_CST);

		while ((n = recv(fd, buf, sizeof(buf), 0)) >=
		       (ssize_t)sizeof(m)) {
			memcpy(&m, buf, sizeof(m));
			if (m.op == HV_OP_HELLO) {
				struct hv_hello h = { HV_PROTO_VERSION, 0, 1 };

				mute_reply(fd, &m, 0, &h, sizeof(h));
			} else if (conn > 1) {
				mute_reply(fd, &m, -ESRCH, NULL, 0);
			}
		}
		close(fd);	/* the client hung up */
	}
	return NULL;
}

static void mute_start(struct mute *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/xpt-hv-mute.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv", s->dir);
	assert_int_equal(mkdir(sa.sun_path, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv/control", s->dir);
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, mute_serve, s), 0);
}

static void mute_stop(struct mute *s)
{
	char cmd[128];

	shutdown(s->lfd, SHUT_RDWR);	/* accept() returns */
	pthread_join(s->thread, NULL);
	close(s->lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static int conns(struct mute *s)
{
	return __atomic_load_n(&s->conns, __ATOMIC_SEQ_CST);
}

static int64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A hypervisor that stops answering costs a call its bound, not forever;
 * the next call runs on a fresh connection and gets its own answer. */
static void test_call_deadline(void **state)
{
	struct hv_domain_info info;
	struct hv_client *h = NULL;
	struct timespec t0;
	struct mute s;
	int64_t ms;

	mute_start(&s);
	assert_int_equal(hv_open(s.dir, &h), 0);
	hv_set_timeout(h, 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hv_domain_getinfo(h, 1, &info), -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 290);
	assert_true(ms < 5000);
	/* Reconnected: the second connection answers. */
	assert_int_equal(hv_domain_getinfo(h, 1, &info), -ESRCH);
	assert_int_equal(conns(&s), 2);
	assert_int_equal(hv_domain_pause(h, 1), -ESRCH);
	assert_int_equal(conns(&s), 2);
	hv_close(h);
	mute_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle_inprocess),
		cmocka_unit_test(test_domid_wrap_skips_live),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_dom_end_follows_the_highest),
		cmocka_unit_test(test_list_sockets),
		cmocka_unit_test(test_virq_dom_exc_inprocess),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_call_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
