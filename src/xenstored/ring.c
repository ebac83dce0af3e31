// SPDX-License-Identifier: MIT
/*
 * A domain's connection over its shared page (xs_wire.h): the guest
 * produces requests into req[] and we consume them; we produce replies and
 * watch events into rsp[] and the guest consumes them.
 *
 * The indexes run freely modulo 2^32 and are masked into the 1024-byte
 * arrays, so "prod - cons" is the number of unread bytes even across the
 * wrap of the 32-bit counter.  Example: req_cons = 0xfffffff0, req_prod =
 * 0x00000010 is 32 bytes, the first 16 at req[1008..1023] and the next 16
 * at req[0..15]; a message longer than the ring (a 4096-byte write) arrives
 * in several fills, each acknowledged by moving req_cons and a notify.
 *
 * Reader: read prod once, barrier, copy the bytes, full barrier, publish
 * cons, notify.  Writer: read cons once, barrier, copy, write barrier,
 * publish prod, notify.  Each index is read once into a local, so a guest
 * changing it meanwhile cannot make us copy outside the ring.
 *
 * The page is the guest's to scribble on.  prod - cons > 1024 on either ring
 * (RINGIDX) or a header announcing more than 4096 bytes (PROTO) makes the
 * domain "ignored", as C xenstored does: the error field is set, its
 * connection closed (watches, transactions, buffers), and its events are no
 * longer read until XS_INTRODUCE resets the page or the domain goes away.
 * A torn message (part of a header, then nothing) simply waits: the bytes
 * are consumed into the connection and nothing runs until the next notify.
 */
#include <string.h>

#include "log.h"
#include "xenstored.h"

#define RING_LOAD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define RING_STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define ring_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define ring_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define ring_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static int ring_attach(struct ring *r)
{
	struct conn *c = conn_new(r->xsd, -1, r->dom, false);

	if (!c)
		return -ENOMEM;
	c->ring = r;
	r->conn = c;
	if (r->xsd->access_log)
		io_access_log_connect(c);
	return 0;
}

int ring_init(struct ring *r, struct xsd *xsd, struct domain *d, void *page,
	      void (*notify)(struct ring *r))
{
	r->intf = page;
	r->xsd = xsd;
	r->dom = d;
	r->conn = NULL;
	r->notify = notify;
	r->error = XENSTORE_ERROR_NONE;
	d->ring = r;
	return ring_attach(r);
}

/* The domain leaves the store: its connection goes, the page stays. */
void ring_close(struct ring *r)
{
	if (r->conn)
		conn_close(r->conn);	/* clears r->conn */
	if (r->dom && r->dom->ring == r)
		r->dom->ring = NULL;
	r->dom = NULL;
}

static void ring_ignore(struct ring *r, uint32_t err, const char *why)
{
	peerlog_msg(r->xsd, PEERLOG_RING, LOG_LVL_WARN,
		    "domain %u: %s; ignoring its ring until it is introduced "
		    "again or released", r->dom->domid, why);
	r->error = err;
	ring_mb();
	RING_STORE(r->intf->error, err);
	if (r->conn)
		conn_close(r->conn);
	r->notify(r);
}

/* XS_INTRODUCE of a known domain: a clean connection on a clean page. */
void ring_reset(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;

	if (r->conn) {
		watch_remove_all(r->conn);
		txn_abort_all(r->conn);
		conn_drop_output(r->conn);
		r->conn->in_used = 0;
		r->conn->closing = false;
	} else if (ring_attach(r) < 0) {
		peerlog_msg(r->xsd, PEERLOG_NOMEM, LOG_LVL_ERR,
			    "domain %u: out of memory resetting its ring",
			    r->dom->domid);
		return;
	}
	RING_STORE(i->req_cons, 0);
	RING_STORE(i->req_prod, 0);
	RING_STORE(i->rsp_cons, 0);
	RING_STORE(i->rsp_prod, 0);
	RING_STORE(i->error, XENSTORE_ERROR_NONE);
	RING_STORE(i->connection, XENSTORE_CONNECTED);
	r->error = XENSTORE_ERROR_NONE;
	ring_mb();
}

/* Requests: feed what the guest produced to the connection. */
static void ring_input(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;
	struct conn *c = r->conn;
	uint32_t cons, prod, start, off, n;
	size_t used;
	int rc;

	cons = RING_LOAD(i->req_cons);
	prod = RING_LOAD(i->req_prod);
	ring_rmb();
	if (prod - cons > XENSTORE_RING_SIZE) {
		ring_ignore(r, XENSTORE_ERROR_RINGIDX,
			    "request ring indexes are corrupt");
		return;
	}
	start = cons;
	while (cons != prod && !c->closing && conn_may_read(c)) {
		off = MASK_XENSTORE_IDX(cons);
		n = prod - cons;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		rc = conn_feed(c, i->req + off, n, &used);
		cons += used;
		if (rc < 0) {
			ring_ignore(r, XENSTORE_ERROR_PROTO,
				    "oversized request");
			return;
		}
		if (used < n)
			break;	/* stalled: the rest waits in the ring */
	}
	if (cons == start)
		return;
	ring_mb();
	RING_STORE(i->req_cons, cons);
	r->notify(r);
}

/* Replies and events: as much of the output queue as the ring takes. */
void ring_flush(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;
	struct conn *c = r->conn;
	uint32_t cons, prod, space, off, n;
	struct outmsg *m;
	bool wrote = false;

	if (!c)
		return;
	while ((m = c->out_head)) {
		cons = RING_LOAD(i->rsp_cons);
		prod = RING_LOAD(i->rsp_prod);
		ring_mb();
		if (prod - cons > XENSTORE_RING_SIZE) {
			ring_ignore(r, XENSTORE_ERROR_RINGIDX,
				    "reply ring indexes are corrupt");
			return;
		}
		space = XENSTORE_RING_SIZE - (prod - cons);
		if (!space)
			break;	/* the guest notifies once it has read */
		off = MASK_XENSTORE_IDX(prod);
		n = m->len - c->out_off;
		if (n > space)
			n = space;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		memcpy(i->rsp + off, m->buf + c->out_off, n);
		ring_wmb();
		RING_STORE(i->rsp_prod, prod + n);
		conn_output_done(c, n);
		wrote = true;
	}
	if (wrote)
		r->notify(r);
	if (c->closing) {
		ring_ignore(r, XENSTORE_ERROR_COMM, "connection failed");
		return;
	}
	/* Requests left in the ring while it (or its domain) could not
	 * go on. */
	if (conn_may_read(c))
		ring_input(r);
}

/*
 * The guest notified: it produced requests or made room for replies.  A
 * RECONNECT request (a guest that saw the RECONNECTION feature elsewhere)
 * gets a fresh connection.
 */
void ring_event(struct ring *r)
{
	if (!r->conn)
		return;		/* ignored */
	if (RING_LOAD(r->intf->connection) == XENSTORE_RECONNECT) {
		ring_reset(r);
		r->notify(r);
		return;
	}
	ring_flush(r);
	if (r->conn)
		ring_input(r);
	if (r->conn)
		ring_flush(r);
}
