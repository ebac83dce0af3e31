// SPDX-License-Identifier: MIT
/*
 * Bad input from a domain socket: garbage, truncated and oversized
 * messages, unknown ops, stray descriptors (and more than fit), other
 * domains' ports and grants, privileged ops, a peer that leaves
 * mid-request or resets its connection, random messages.  Every request
 * gets an error reply; the daemon stays up and keeps serving the other
 * clients.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hv-harness.h"

static int raw_connect(const char *rundir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv/%s", rundir, name);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const void *buf, size_t len, const int *fds,
		     int nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(&u.c), fds, sizeof(int) * (size_t)nfds);
	}
	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* The reply header; asserts one arrives within 5 s and has no fd. */
static struct hv_msg raw_reply(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[HV_MSG_MAX];
	struct hv_msg m;
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n >= (ssize_t)sizeof(m));
	memcpy(&m, buf, sizeof(m));
	assert_int_equal(m.len, (size_t)n - sizeof(m));
	return m;
}

/* Send header(op, seq, len) + payload; return the reply's ret. */
static int raw_call(int fd, uint32_t op, uint32_t seq, const void *payload,
		    uint32_t plen, uint32_t claimed_len)
{
	char buf[HV_MSG_MAX + 64];
	struct hv_msg m = { .op = op, .seq = seq, .len = claimed_len }, r;

	memcpy(buf, &m, sizeof(m));
	if (plen)
		memcpy(buf + sizeof(m), payload, plen);
	raw_send(fd, buf, sizeof(m) + plen, NULL, 0);
	r = raw_reply(fd);
	assert_int_equal(r.op, op);
	assert_int_equal(r.seq, seq);
	return r.ret;
}

static void test_garbage(void **state)
{
	struct hvh t;
	unsigned int d, x;
	char big[HV_MSG_MAX + 32] = { 0 };
	struct hv_evtchn e = { 0 };
	struct hv_msg r;
	int fd, i;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "evil", 0, 1, &d), 0);
	fd = raw_connect(t.rundir, "domain/1");

	/* Shorter than a header: -EINVAL. */
	raw_send(fd, "xyz", 3, NULL, 0);
	r = raw_reply(fd);
	assert_int_equal(r.ret, -EINVAL);
	/* len disagrees with the datagram. */
	assert_int_equal(raw_call(fd, HV_OP_EVTCHN_SEND, 1, &e, sizeof(e), 99),
			 -EINVAL);
	assert_int_equal(raw_call(fd, HV_OP_EVTCHN_SEND, 2, &e, sizeof(e), 0),
			 -EINVAL);
	/* Payload shorter than the op's struct. */
	assert_int_equal(raw_call(fd, HV_OP_EVTCHN_SEND, 3, &e, 2, 2),
			 -EINVAL);
	assert_int_equal(raw_call(fd, HV_OP_GNTTAB_MAP, 4, NULL, 0, 0),
			 -EINVAL);
	/* Unknown ops. */
	assert_int_equal(raw_call(fd, 0, 5, NULL, 0, 0), -ENOSYS);
	assert_int_equal(raw_call(fd, 9999, 6, NULL, 0, 0), -ENOSYS);
	assert_int_equal(raw_call(fd, 0xffffffffu, 7, NULL, 0, 0), -ENOSYS);
	/* Wrong protocol version. */
	assert_int_equal(raw_call(fd, HV_OP_HELLO, 8,
				  &(struct hv_hello){ .version = 2 },
				  sizeof(struct hv_hello),
				  sizeof(struct hv_hello)), -EPROTONOSUPPORT);
	/* Oversized datagram: truncated by the kernel, refused. */
	memcpy(big, &(struct hv_msg){ .op = HV_OP_EVTCHN_SEND, .seq = 9,
				      .len = sizeof(big) - 16 }, 16);
	raw_send(fd, big, sizeof(big), NULL, 0);
	r = raw_reply(fd);
	assert_int_equal(r.ret, -EINVAL);
	/* Descriptors where none belong, several at once: closed, served. */
	{
		int fds[3] = { fd, fd, fd };
		char buf[64];
		struct hv_msg m = { .op = HV_OP_EVTCHN_ALLOC_UNBOUND, .seq = 10,
				    .len = sizeof(e) };

		memcpy(buf, &m, sizeof(m));
		memcpy(buf + sizeof(m), &e, sizeof(e));
		raw_send(fd, buf, sizeof(m) + sizeof(e), fds, 3);
		r = raw_reply(fd);
		assert_int_equal(r.ret, 0);
	}
	/* Out-of-range ports, grant refs, pirqs. */
	for (i = 0; i < 4; i++) {
		uint32_t bad[] = { 0, 1023, 1024, 0xffffffffu };

		assert_int_equal(hv_evtchn_send(t.ctl, bad[i]), -EINVAL);
		assert_int_equal(hv_end_grant(t.ctl, bad[i]), -ENOENT);
		assert_int_equal(hv_unmap_grant(t.ctl, d, bad[i]), -ENOENT);
	}
	e = (struct hv_evtchn){ .pirq = 0x80000000u };
	assert_int_equal(raw_call(fd, HV_OP_EVTCHN_BIND_PIRQ, 11, &e,
				  sizeof(e), sizeof(e)), -EINVAL);
	close(fd);
	/* Still serving, and still right. */
	assert_int_equal(hv_evtchn_alloc_unbound(t.ctl, d, &x), 0);
	hvh_stop(&t);
}

static void test_privileged_ops_refused(void **state)
{
	static const uint32_t priv[] = {
		HV_OP_DOMAIN_CREATE, HV_OP_DOMAIN_UNPAUSE, HV_OP_DOMAIN_PAUSE,
		HV_OP_DOMAIN_DESTROY, HV_OP_DOMAIN_GETINFO, HV_OP_DOMAIN_LIST,
		HV_OP_BIND_VIRQ_DOM_EXC, HV_OP_PCI_CONF_READ,
		HV_OP_PCI_CONF_WRITE, HV_OP_PCI_RESET, HV_OP_PCI_RAISE_IRQ,
		HV_OP_PCI_BAR_WRITE, HV_OP_PCI_BAR_READ, HV_OP_TEST_ASSIGN,
		HV_OP_ASSIGN, HV_OP_DEASSIGN, HV_OP_IOMEM_PERMISSION,
		HV_OP_IOPORT_PERMISSION, HV_OP_IRQ_PERMISSION, HV_OP_MAP_PIRQ,
		HV_OP_UNMAP_PIRQ, HV_OP_PREPARE_MSIX, HV_OP_RELEASE_MSIX,
		HV_OP_MSIX_STATE,
	};
	char payload[512] = { 0 };
	struct hv_domain_info info;
	struct hvh t;
	struct hv_client *g;
	unsigned int d, i;
	uint32_t cmd;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "g", 0,
					  1, &d), 0);
	g = hvh_open_domain(&t, d);
	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (hv_call(g, priv[i], payload, sizeof(payload), -1, NULL, 0,
			    NULL) != -EPERM)
			fail_msg("op %u from a domain was not refused", priv[i]);
	/* Nothing changed. */
	assert_int_equal(hv_domain_getinfo(t.ctl, d, &info), 0);
	assert_int_equal(info.state, HV_DOM_PAUSED);
	assert_int_equal(hv_pci_conf_read(t.ctl, HVH_NIC, PCI_CMD, 2, &cmd), 0);
	assert_int_equal(cmd, 0);
	/* What a domain may do. */
	{
		uint32_t *list = NULL;
		size_t n = 0;

		assert_int_equal(hv_pci_list(g, &list, &n), 0);
		assert_int_equal(n, 6);
		free(list);
	}
	hv_close(g);
	hvh_stop(&t);
}

static void test_other_domains_resources(void **state)
{
	struct hvh t;
	struct hv_client *a, *b;
	unsigned int da, db, pa, x;
	uint32_t g;
	void *page;
	int mfd, fd, pfd[2];

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "a", 0, 1, &da), 0);
	assert_int_equal(hv_domain_create(t.ctl, 0, "b", 0, 1, &db), 0);
	a = hvh_open_domain(&t, da);
	b = hvh_open_domain(&t, db);
	assert_int_equal(hv_evtchn_alloc_unbound(a, 0, &pa), 0);
	assert_int_equal(hv_page_alloc(&mfd, &page), 0);
	assert_int_equal(hv_grant_page(a, 0, mfd, 0, &g), 0);
	/* b: a's port meant for dom0, a's grant for dom0. */
	assert_int_equal(hv_evtchn_bind_interdomain(b, da, pa, &x), -EINVAL);
	assert_int_equal(hv_map_grant(b, da, g, &fd, &page), -EPERM);
	assert_int_equal(hv_map_grant(b, da, g + 1, &fd, &page), -ENOENT);
	assert_int_equal(hv_end_grant(b, g), -ENOENT);
	/* b shuts down a: no. */
	assert_int_equal(hv_domain_shutdown(b, da, 0), -EPERM);
	/* Grants of things that are not pages. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(hv_grant_page(b, 0, pfd[0], 0, &g), -EINVAL);
	{
		int small = memfd_create("small", MFD_CLOEXEC);

		assert_true(small >= 0);
		assert_int_equal(hv_grant_page(b, 0, small, 0, &g), -EINVAL);
		close(small);
	}
	assert_int_equal(hv_grant_page(b, 4242, mfd, 0, &g), -ESRCH);
	close(pfd[0]);
	close(pfd[1]);
	close(mfd);
	hv_close(a);
	hv_close(b);
	hvh_stop(&t);
}

static void test_peer_leaves_mid_request(void **state)
{
	struct hvh t;
	struct hv_msg m = { .op = HV_OP_DOMAIN_LIST, .seq = 1 };
	unsigned int d, x;
	int i, fd;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "a", 0, 1, &d), 0);
	for (i = 0; i < 50; i++) {
		fd = raw_connect(t.rundir, i & 1 ? "control" : "domain/1");
		raw_send(fd, &m, sizeof(m), NULL, 0);
		close(fd);	/* before the reply */
	}
	/* A connection that is accepted and closed at once. */
	fd = raw_connect(t.rundir, "domain/1");
	close(fd);
	assert_int_equal(hv_evtchn_alloc_unbound(t.ctl, d, &x), 0);
	hvh_stop(&t);
}

/* Random messages (fixed seed) on a domain socket and on the control
 * socket: every one gets a reply; the daemon survives. */
static void test_random_messages(void **state)
{
	static const uint32_t opnums[] = {
		1, 10, 11, 12, 13, 14, 15, 16, 17, 30, 31, 32, 33, 34, 35, 40,
		41, 42, 43, 60, 61, 62, 63, 64, 65, 66, 67, 80, 81, 82, 90, 91,
		92, 100, 101, 102, 103, 104, 7, 999,
	};
	struct hvh t;
	char buf[256];
	unsigned int d, x, i, j;
	int dfd, cfd;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, HV_DOMF_PASSTHROUGH, "a", 0,
					  1, &d), 0);
	dfd = raw_connect(t.rundir, "domain/1");
	cfd = raw_connect(t.rundir, "control");
	srandom(4);
	for (i = 0; i < 3000; i++) {
		struct hv_msg m, r;
		uint32_t plen = (uint32_t)(random() % 96);
		int fd = i % 3 == 0 ? cfd : dfd;

		m.op = opnums[random() % (sizeof(opnums) / sizeof(opnums[0]))];
		if (fd == cfd && (m.op == HV_OP_DOMAIN_DESTROY ||
				  m.op == HV_OP_DOMAIN_CREATE))
			m.op = HV_OP_DOMAIN_GETINFO;	/* keep domain 1 */
		m.seq = i;
		m.ret = 0;
		m.len = random() % 8 ? plen : (uint32_t)random();
		memcpy(buf, &m, sizeof(m));
		for (j = 0; j < plen; j++)
			buf[sizeof(m) + j] = (char)(random() % 4 ? random() %
						   8 : random());
		raw_send(fd, buf, sizeof(m) + plen, NULL, 0);
		r = raw_reply(fd);
		assert_int_equal(r.seq, i);
		/* A descriptor may come back (evtchn fd, grant map): drop. */
	}
	close(dfd);
	close(cfd);
	assert_true(hvh_alive(&t));
	assert_int_equal(hv_evtchn_alloc_unbound(t.ctl, d, &x), 0);
	hvh_stop(&t);
}

/*
 * A peer that resets its connection (closes it with a reply unread: the
 * daemon's recvmsg fails with ECONNRESET) must cost only that connection.
 * Its previous request carried a descriptor, whose number the daemon gave
 * to the next connection it accepted; a reset that looked at the control
 * buffer of the failed recvmsg found that stale number there and closed
 * the other client's socket.
 */
static void test_reset_after_descriptor(void **state)
{
	struct hv_hello hello = { .version = HV_PROTO_VERSION };
	struct hv_msg m = { .op = HV_OP_HELLO, .seq = 1, .len = sizeof(hello) };
	struct hv_domain_info info;
	struct pollfd pfd;
	struct hvh t;
	char buf[64];
	unsigned int d;
	int a, b, p[2], i;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "a", 0, 1, &d), 0);
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), &hello, sizeof(hello));
	for (i = 0; i < 8; i++) {
		a = raw_connect(t.rundir, "control");
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		raw_send(a, buf, sizeof(m) + sizeof(hello), &p[0], 1);
		close(p[0]);
		close(p[1]);
		/* The reply is there; leave it unread. */
		pfd = (struct pollfd){ .fd = a, .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		b = raw_connect(t.rundir, i & 1 ? "control" : "domain/1");
		assert_int_equal(raw_call(b, HV_OP_HELLO, 2, &hello,
					  sizeof(hello), sizeof(hello)), 0);
		close(a);
		/* A round trip on a third connection: the daemon has seen the
		 * reset, which was queued first (b may still be queued from
		 * its last request and so come before it). */
		assert_int_equal(hv_domain_getinfo(t.ctl, d, &info), 0);
		assert_int_equal(raw_call(b, HV_OP_HELLO, 3, &hello,
					  sizeof(hello), sizeof(hello)), 0);
		close(b);
	}
	assert_true(hvh_alive(&t));
	hvh_stop(&t);
}

/* Open descriptors of the daemon. */
static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * More descriptors than a request takes: the kernel keeps what fits the
 * daemon's control buffer, drops the rest and says MSG_CTRUNC; the request
 * is refused like a truncated one, and the descriptors it did get are
 * closed.  A few stray ones are closed and the request served.
 */
static void test_too_many_descriptors(void **state)
{
	struct hv_hello hello = { .version = HV_PROTO_VERSION };
	struct hv_msg m = { .op = HV_OP_HELLO, .seq = 1, .len = sizeof(hello) };
	struct hv_domain_info info;
	struct hvh t;
	char buf[64];
	int fd, fds[8], p[2], before, i;
	unsigned int d;

	hvh_start(&t, hvh_host);
	assert_int_equal(hv_domain_create(t.ctl, 0, "a", 0, 1, &d), 0);
	fd = raw_connect(t.rundir, "domain/1");
	assert_int_equal(raw_call(fd, HV_OP_HELLO, 1, &hello, sizeof(hello),
				  sizeof(hello)), 0);
	before = fd_count(t.pid);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	for (i = 0; i < 8; i++)
		fds[i] = p[i & 1];
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), &hello, sizeof(hello));
	raw_send(fd, buf, sizeof(m) + sizeof(hello), fds, 8);
	assert_int_equal(raw_reply(fd).ret, -EINVAL);
	m.seq = 2;
	memcpy(buf, &m, sizeof(m));
	raw_send(fd, buf, sizeof(m) + sizeof(hello), fds, 2);
	assert_int_equal(raw_reply(fd).ret, 0);
	/* Short of a header, with descriptors. */
	raw_send(fd, "xy", 2, fds, 8);
	assert_int_equal(raw_reply(fd).ret, -EINVAL);
	close(p[0]);
	close(p[1]);
	assert_int_equal(fd_count(t.pid), before);
	assert_int_equal(hv_domain_getinfo(t.ctl, d, &info), 0);
	close(fd);
	hvh_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_privileged_ops_refused),
		cmocka_unit_test(test_other_domains_resources),
		cmocka_unit_test(test_peer_leaves_mid_request),
		cmocka_unit_test(test_random_messages),
		cmocka_unit_test(test_reset_after_descriptor),
		cmocka_unit_test(test_too_many_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
