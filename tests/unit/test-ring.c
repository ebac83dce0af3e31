// SPDX-License-Identifier: MIT
/*
 * The ring transport (ring.c) over plain shared pages: the test plays the
 * guest's side of xs_wire.h (produce requests, consume replies, notify by
 * calling ring_event) while other connections keep using the store.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A guest: its page and the daemon's ring over it. */
struct guest {
	struct ring ring;		/* first: notify gets the ring */
	struct xenstore_domain_interface *intf;
	unsigned int notified;		/* daemon -> guest kicks */
	uint32_t req_id;
};

static struct xsd *x;
static struct conn *c0;
static struct guest g1, g2;

static void g_notify(struct ring *r)
{
	((struct guest *)r)->notified++;
}

static void g_init(struct guest *g, struct domain *d)
{
	memset(g, 0, sizeof(*g));
	g->intf = aligned_alloc(4096, 4096);
	assert_non_null(g->intf);
	memset(g->intf, 0, 4096);
	assert_int_equal(ring_init(&g->ring, x, d, g->intf, g_notify), 0);
	ring_reset(&g->ring);
}

static int setup(void **state)
{
	x = h_new();
	c0 = h_dom0(x);
	h_introduce(x, 1);
	h_introduce(x, 2);
	/* what the toolstack writes before a guest starts */
	assert_int_equal(h_mkdir(c0, 0, "/local/domain/1"), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/1", "n1"), 0);
	assert_int_equal(h_mkdir(c0, 0, "/local/domain/2"), 0);
	assert_int_equal(h_setperms(c0, 0, "/local/domain/2", "n2"), 0);
	g_init(&g1, domain_find(x, 1));
	g_init(&g2, domain_find(x, 2));
	return 0;
}

static int teardown(void **state)
{
	ring_close(&g1.ring);
	ring_close(&g2.ring);
	h_free(x);
	free(g1.intf);
	free(g2.intf);
	return 0;
}

/* Guest side: as many bytes as fit into req[]. */
static size_t g_put(struct guest *g, const char *p, size_t len)
{
	struct xenstore_domain_interface *i = g->intf;
	size_t done = 0;

	while (done < len) {
		uint32_t prod = i->req_prod, space, off, n;

		space = XENSTORE_RING_SIZE - (prod - i->req_cons);
		if (!space)
			break;
		off = MASK_XENSTORE_IDX(prod);
		n = len - done;
		if (n > space)
			n = space;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		memcpy(i->req + off, p + done, n);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		i->req_prod = prod + n;
		done += n;
	}
	return done;
}

/* Guest side: up to len bytes out of rsp[]. */
static size_t g_get(struct guest *g, char *p, size_t len)
{
	struct xenstore_domain_interface *i = g->intf;
	size_t done = 0;

	while (done < len && i->rsp_cons != i->rsp_prod) {
		uint32_t cons = i->rsp_cons, off, n;

		off = MASK_XENSTORE_IDX(cons);
		n = i->rsp_prod - cons;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		if (n > len - done)
			n = len - done;
		memcpy(p + done, i->rsp + off, n);
		i->rsp_cons = cons + n;
		done += n;
	}
	return done;
}

/*
 * One request and its reply, however many ring fills either takes: put,
 * kick, take what came back, until the whole reply is in.  Watch events
 * before the reply are skipped.
 */
static int g_call(struct guest *g, uint32_t type, const void *p,
		  uint32_t len, struct h_msg *ret)
{
	char buf[XSD_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { .type = type, .req_id = ++g->req_id,
				 .len = len };
	size_t sent = 0, got = 0, total = XSD_HDR_LEN + len;
	struct xsd_sockmsg rh;
	int rounds = 0;

	memcpy(buf, &h, XSD_HDR_LEN);
	memcpy(buf + XSD_HDR_LEN, p, len);
	for (;;) {
		assert_true(++rounds < 100);
		sent += g_put(g, buf + sent, total - sent);
		ring_event(&g->ring);
		if (!g->ring.conn)
			return -ENOTCONN;
		if (got < XSD_HDR_LEN)
			got += g_get(g, (char *)&rh + got, XSD_HDR_LEN - got);
		if (got >= XSD_HDR_LEN) {
			assert_true(rh.len <= XENSTORE_PAYLOAD_MAX);
			got += g_get(g, ret->data + got - XSD_HDR_LEN,
				     XSD_HDR_LEN + rh.len - got);
			if (got == XSD_HDR_LEN + rh.len) {
				if (rh.type == XS_WATCH_EVENT) {
					got = 0;
					continue;
				}
				break;
			}
		}
	}
	assert_int_equal(sent, total);
	assert_int_equal(rh.req_id, g->req_id);
	ret->type = rh.type;
	ret->req_id = rh.req_id;
	ret->tx_id = rh.tx_id;
	ret->len = rh.len;
	ret->data[rh.len] = '\0';
	return h_errno_of(ret);
}

static int g_write(struct guest *g, const char *path, const char *val,
		   size_t vlen)
{
	static char buf[XENSTORE_PAYLOAD_MAX];
	static struct h_msg m;
	size_t plen = strlen(path) + 1;

	assert_true(plen + vlen <= sizeof(buf));
	memcpy(buf, path, plen);
	memcpy(buf + plen, val, vlen);
	return g_call(g, XS_WRITE, buf, plen + vlen, &m);
}

static const char *g_read(struct guest *g, const char *path)
{
	static struct h_msg m;
	int r = g_call(g, XS_READ, path, strlen(path) + 1, &m);

	if (r < 0)
		return h_errname(-r);
	return m.data;
}

/* dom0 and the other guest are unaffected by whatever g1 did. */
static void others_work(void)
{
	assert_int_equal(h_write(c0, 0, "/others", "fine"), 0);
	assert_string_equal(h_read(c0, 0, "/others"), "fine");
	assert_int_equal(g_write(&g2, "data/ok", "yes", 3), 0);
	assert_string_equal(g_read(&g2, "data/ok"), "yes");
}

static void test_normal(void **state)
{
	unsigned int before = g1.notified;

	assert_int_equal(g_write(&g1, "data/x", "hello", 5), 0);
	assert_string_equal(g_read(&g1, "data/x"), "hello");
	assert_string_equal(h_read(c0, 0, "/local/domain/1/data/x"), "hello");
	assert_true(g1.notified > before);
	assert_int_equal(g1.intf->error, XENSTORE_ERROR_NONE);
	others_work();
}

/* Indexes near 2^32 and messages straddling the end of both arrays. */
static void test_wrap(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	char val[300];
	int n;

	i->req_cons = i->req_prod = 0xfffffe00u;
	i->rsp_cons = i->rsp_prod = 0xfffffe10u;
	memset(val, 'w', sizeof(val));
	for (n = 0; n < 20; n++) {
		val[0] = 'a' + n;
		assert_int_equal(g_write(&g1, "data/w", val, sizeof(val)), 0);
		assert_int_equal(strlen(g_read(&g1, "data/w")), sizeof(val));
		assert_int_equal(g_read(&g1, "data/w")[0], 'a' + n);
	}
	assert_true(i->req_prod < 0x10000u);	/* the counters wrapped */
	assert_true(i->rsp_prod < 0x10000u);
	assert_int_equal(i->error, XENSTORE_ERROR_NONE);
	others_work();
}

/* A 4096-byte request and a reply of ~4 KiB, each over several fills. */
static void test_big_payload(void **state)
{
	static char val[XENSTORE_PAYLOAD_MAX];
	const char *path = "data/big";
	size_t vlen = XENSTORE_PAYLOAD_MAX - strlen(path) - 1;
	struct guest g0;
	const char *got;

	/* dom0's ring: no node-size quota for the privileged domain. */
	g_init(&g0, x->dom0);
	memset(val, 'b', vlen);
	val[vlen - 1] = 'e';
	assert_int_equal(g_write(&g0, path, val, vlen), 0);
	got = g_read(&g0, path);
	assert_int_equal(strlen(got), vlen);
	assert_memory_equal(got, val, vlen);
	/* dom0's socket-style connection sees the same node */
	assert_int_equal(strlen(h_read(c0, 0, "/local/domain/0/data/big")),
			 vlen);
	ring_close(&g0.ring);
	free(g0.intf);
}

static void test_corrupt_prod(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	unsigned int watches = x->watches.count;

	assert_int_equal(g_write(&g1, "data/before", "1", 1), 0);
	assert_int_equal(g_call(&g1, XS_WATCH, "data\0tok\0", 9,
				&(struct h_msg){ 0 }), 0);
	assert_int_equal(x->watches.count, watches + 1);
	i->req_prod = i->req_cons + XENSTORE_RING_SIZE + 1;
	ring_event(&g1.ring);
	assert_int_equal(i->error, XENSTORE_ERROR_RINGIDX);
	assert_null(g1.ring.conn);
	assert_int_equal(x->watches.count, watches);	/* its watch went */
	/* Ignored: further kicks do nothing, even with sane indexes. */
	i->req_prod = i->req_cons;
	ring_event(&g1.ring);
	assert_null(g1.ring.conn);
	others_work();
	/* the domain and its nodes stay until released */
	assert_true(domain_exists(x, 1));
	assert_string_equal(h_read(c0, 0, "/local/domain/1/data/before"),
			    "1");
	/* XS_INTRODUCE again: a fresh ring that works */
	assert_int_equal(h_okv(c0, XS_INTRODUCE, 0, "1", "0", "7", NULL), 0);
	ring_reset(&g1.ring);	/* what xen.c does on a re-introduce */
	assert_int_equal(i->error, XENSTORE_ERROR_NONE);
	assert_string_equal(g_read(&g1, "data/before"), "1");
}

static void test_corrupt_rsp(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 9, .len = 2 };
	char buf[XSD_HDR_LEN + 2];

	i->rsp_cons = i->rsp_prod + 5000;
	memcpy(buf, &h, XSD_HDR_LEN);
	memcpy(buf + XSD_HDR_LEN, "/", 2);
	g_put(&g1, buf, sizeof(buf));
	ring_event(&g1.ring);
	assert_int_equal(i->error, XENSTORE_ERROR_RINGIDX);
	assert_null(g1.ring.conn);
	others_work();
}

static void test_oversize(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1,
				 .len = XENSTORE_PAYLOAD_MAX + 1 };

	assert_int_equal(g_put(&g1, (char *)&h, XSD_HDR_LEN), XSD_HDR_LEN);
	ring_event(&g1.ring);
	assert_int_equal(i->error, XENSTORE_ERROR_PROTO);
	assert_null(g1.ring.conn);
	assert_int_equal(i->rsp_prod, i->rsp_cons);	/* no reply */
	others_work();
}

/* Half a header, then silence: nothing runs, nothing spins, no error. */
static void test_torn(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 77, .len = 9 };
	char buf[XSD_HDR_LEN + 9];
	struct xsd_sockmsg rh;
	struct h_msg m;
	unsigned int kicks;
	int n;

	memcpy(buf, &h, XSD_HDR_LEN);
	memcpy(buf + XSD_HDR_LEN, "data/tor", 9);
	g_put(&g1, buf, 7);
	ring_event(&g1.ring);
	assert_int_equal(i->req_cons, i->req_prod);	/* taken in */
	assert_int_equal(i->rsp_prod, i->rsp_cons);	/* no reply yet */
	assert_int_equal(i->error, XENSTORE_ERROR_NONE);
	kicks = g1.notified;
	for (n = 0; n < 5; n++)		/* spurious kicks: no work, no kick */
		ring_event(&g1.ring);
	assert_int_equal(g1.notified, kicks);
	assert_int_equal(i->rsp_prod, i->rsp_cons);
	others_work();
	/* the rest arrives: the request completes (ENOENT: no data/tor) */
	g_put(&g1, buf + 7, sizeof(buf) - 7);
	ring_event(&g1.ring);
	assert_int_equal(g_get(&g1, (char *)&rh, XSD_HDR_LEN), XSD_HDR_LEN);
	assert_int_equal(rh.req_id, 77);
	assert_int_equal(rh.type, XS_ERROR);
	assert_int_equal(g_get(&g1, m.data, rh.len), rh.len);
	assert_string_equal(m.data, "ENOENT");
	assert_int_equal(i->error, XENSTORE_ERROR_NONE);
}

/* A guest that never reads its replies only stalls itself. */
static void test_full_rsp(void **state)
{
	struct xenstore_domain_interface *i = g1.intf;
	struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };
	char buf[XSD_HDR_LEN + 2];
	int n;

	assert_int_equal(g_write(&g1, "data/v", "v", 1), 0);
	memcpy(buf + XSD_HDR_LEN, "/", 2);
	for (n = 0; n < 200; n++) {
		h.req_id = 1000 + n;
		memcpy(buf, &h, XSD_HDR_LEN);
		if (g_put(&g1, buf, sizeof(buf)) < sizeof(buf))
			break;
		ring_event(&g1.ring);
	}
	assert_int_equal(i->rsp_prod - i->rsp_cons, XENSTORE_RING_SIZE);
	assert_int_equal(i->error, XENSTORE_ERROR_NONE);
	others_work();
	i->rsp_cons = i->rsp_prod;	/* drop what came; drains the rest */
	ring_event(&g1.ring);
	assert_non_null(g1.ring.conn);
}

/* XS_RELEASE of a ring domain: its nodes and connection go. */
static void test_release(void **state)
{
	assert_int_equal(g_write(&g1, "data/r", "1", 1), 0);
	assert_int_equal(h_watch(c0, "@releaseDomain", "rel"), 0);
	h_drain(c0);
	assert_int_equal(h_okv(c0, XS_RELEASE, 0, "1", NULL), 0);
	assert_string_equal(h_event(c0), "@releaseDomain rel");
	assert_null(g1.ring.conn);
	assert_string_equal(h_read(c0, 0, "/local/domain/1/data/r"),
			    "!ENOENT");
	others_work();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_normal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_payload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_prod, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_rsp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_rsp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_release, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
