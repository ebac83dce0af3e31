// SPDX-License-Identifier: MIT
/*
 * Connections: assembling requests from bytes, queueing replies and watch
 * events, and the limits that keep one client from stalling the others.
 *
 * A connection whose unsent output passes XSD_STALL_BYTES is not read until
 * the output drains: a client that never reads its replies only blocks
 * itself.  An unprivileged domain is counted as a whole, as C xenstored
 * counts its one ring: the messages and bytes queued on all its
 * connections, and its transactions' copies of nodes, against its
 * outstanding and memory quotas.  Past either, none of its connections is
 * read until output drains; watch events to it are dropped beyond its
 * memory quota or after the event timeout.  A privileged client that lets
 * XSD_DROP_BYTES of events pile up is disconnected.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

#define XSD_STALL_BYTES (256u * 1024)
#define XSD_DROP_BYTES (64u * 1024 * 1024)
#define XSD_TRIM_BYTES (1024u * 1024)

uint64_t xsd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct conn *conn_new(struct xsd *xsd, int fd, struct domain *dom,
		      bool readonly)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->xsd = xsd;
	c->fd = fd;
	c->dom = dom;
	c->id = dom->domid;
	c->readonly = readonly;
	c->next_txid = 1;
	c->in = c->in_inline;
	c->seq = ++xsd->seq;
	c->stamp = 0;
	c->next = xsd->conns;
	if (xsd->conns)
		xsd->conns->prev = c;
	xsd->conns = c;
	c->dnext = dom->conns;
	if (dom->conns)
		dom->conns->dprev = c;
	dom->conns = c;
	dom->nconns++;
	return c;
}

/*
 * The header of a request is in: where its payload goes.  Without memory
 * for a large one the payload is skipped and the request answered ENOMEM:
 * the client stays served and its stream in step.
 */
static void conn_in_start(struct conn *c)
{
	if (c->hdr.len < XSD_IN_INLINE) {
		c->in = c->in_inline;
		return;
	}
	c->in = xmalloc(c->hdr.len + 1);
	if (!c->in)
		peerlog_msg(c->xsd, PEERLOG_NOMEM, LOG_LVL_ERR,
			    "out of memory for a %u-byte request of domain "
			    "%u; answering ENOMEM", c->hdr.len, c->id);
}

/* The request is answered (or the connection goes): free its payload. */
static void conn_in_done(struct conn *c)
{
	if (c->in != c->in_inline)
		free(c->in);
	c->in = c->in_inline;
}

size_t conn_domain_memory(const struct domain *d)
{
	return d->out_bytes + d->txn_bytes;
}

/* May an unprivileged domain's connections be read? */
static bool domain_may_read(const struct xsd *xsd, const struct domain *d)
{
	const struct xsd_quota *q = &xsd->cfg.quota;

	if (q->outstanding && d->nout >= q->outstanding)
		return false;
	return !q->memory || d->out_bytes < q->memory;
}

/*
 * What the domain holds changed: say when it passes its soft memory
 * quota, and once it went down, wake the connections that stopped
 * reading on the domain's account.
 */
static void domain_usage_changed(struct xsd *xsd, struct domain *d,
				 bool down)
{
	unsigned int soft = xsd->cfg.quota.memory_soft;
	size_t mem = conn_domain_memory(d);
	struct conn *c;

	if (!domid_unprivileged(d->domid))
		return;
	if (soft && mem > soft && !d->soft_reported) {
		d->soft_reported = true;
		peerlog_msg(xsd, PEERLOG_QUOTA, LOG_LVL_WARN,
			    "domain %u holds %zu bytes, above its soft memory "
			    "quota (%u)", d->domid, mem, soft);
	} else if (d->soft_reported && mem <= soft) {
		d->soft_reported = false;
		peerlog_msg(xsd, PEERLOG_QUOTA, LOG_LVL_INFO,
			    "domain %u is below its soft memory quota again",
			    d->domid);
	}
	if (down && d->stalled && domain_may_read(xsd, d)) {
		d->stalled = false;
		for (c = d->conns; c; c = c->dnext)
			conn_mark_dirty(c);
	}
}

/* Queued output changed by bytes and msgs (negative: sent or dropped). */
static void conn_account(struct conn *c, long bytes, int msgs)
{
	struct domain *d = c->dom;

	c->out_bytes += bytes;
	c->out_count += msgs;
	if (!d)
		return;
	d->out_bytes += bytes;
	d->nout += msgs;
	domain_usage_changed(c->xsd, d, bytes < 0);
}

/* A transaction of c copied (bytes > 0) or freed node copies. */
void conn_charge_txn(struct conn *c, long bytes)
{
	struct domain *d = c->dom;

	if (!d)
		return;
	d->txn_bytes += bytes;
	domain_usage_changed(c->xsd, d, bytes < 0);
}

/*
 * The index of queued watch events (not @ ones) by payload: C looks for a
 * duplicate by walking the whole queue, which costs a domain that lets
 * 40000 events pile up a 40000-step walk for every new one.
 */
static struct outmsg **conn_ev_chain(const struct conn *c, uint32_t hash)
{
	return &c->ev_index[hash & (c->ev_nbuckets - 1)];
}

static struct outmsg *conn_ev_find(const struct conn *c,
				   const struct outmsg *m, uint32_t hash)
{
	struct outmsg *q;

	if (!c->ev_nbuckets)
		return NULL;
	for (q = *conn_ev_chain(c, hash); q; q = q->enext)
		if (q->ehash == hash && q->len == m->len &&
		    memcmp(q->buf + XSD_HDR_LEN, m->buf + XSD_HDR_LEN,
			   m->len - XSD_HDR_LEN) == 0)
			return q;
	return NULL;
}

/* Index m (best effort: without memory, duplicates are merely sent). */
static void conn_ev_add(struct conn *c, struct outmsg *m, uint32_t hash)
{
	uint32_t nb = c->ev_nbuckets ? c->ev_nbuckets * 2 : 64, i;
	struct outmsg **b, *q, *next;

	if (c->ev_count >= c->ev_nbuckets) {
		b = xcalloc(nb, sizeof(*b));
		if (!b && !c->ev_nbuckets)
			return;
		if (b) {
			for (i = 0; i < c->ev_nbuckets; i++)
				for (q = c->ev_index[i]; q; q = next) {
					next = q->enext;
					q->enext = b[q->ehash & (nb - 1)];
					b[q->ehash & (nb - 1)] = q;
				}
			free(c->ev_index);
			c->ev_index = b;
			c->ev_nbuckets = nb;
		}
	}
	m->ehash = hash;
	m->enext = *conn_ev_chain(c, hash);
	*conn_ev_chain(c, hash) = m;
	m->indexed = true;
	c->ev_count++;
}

static void conn_ev_del(struct conn *c, struct outmsg *m)
{
	struct outmsg **pp;

	for (pp = conn_ev_chain(c, m->ehash); *pp; pp = &(*pp)->enext)
		if (*pp == m) {
			*pp = m->enext;
			m->indexed = false;
			c->ev_count--;
			return;
		}
}

/* Take m (after prev, or the head) off the queue; the caller frees it. */
void conn_unqueue(struct conn *c, struct outmsg *prev, struct outmsg *m)
{
	if (m->indexed)
		conn_ev_del(c, m);
	if (prev)
		prev->next = m->next;
	else
		c->out_head = m->next;
	if (c->out_tail == m)
		c->out_tail = prev;
	conn_account(c, -(long)m->len, -1);
}

const char *conn_implicit_path(const struct conn *c)
{
	return c->dom ? c->dom->path : "/local/domain/0";
}

void conn_drop_output(struct conn *c)
{
	size_t held = c->out_bytes;
	struct outmsg *m;

	c->out_off = 0;
	while ((m = c->out_head)) {
		conn_unqueue(c, NULL, m);
		free(m);
	}
	/* Megabytes of small messages leave the heap in holes: give them
	 * back, or the daemon keeps the peak of one bad client for good. */
	if (held >= XSD_TRIM_BYTES)
		malloc_trim(0);
}

/* n more bytes of the output queue have been sent. */
void conn_output_done(struct conn *c, size_t n)
{
	struct outmsg *m;

	while (n > 0 && (m = c->out_head)) {
		size_t left = m->len - c->out_off;

		if (n < left) {
			c->out_off += n;
			break;
		}
		n -= left;
		c->out_off = 0;
		conn_unqueue(c, NULL, m);
		free(m);
	}
}

/* Tear down what the connection holds; the memory goes in conn_free. */
void conn_close(struct conn *c)
{
	struct domain *d = c->dom;

	if (c->dead)
		return;
	c->dead = true;
	c->dead_next = c->xsd->dead;
	c->xsd->dead = c;
	if (c->xsd->access_log)
		io_access_log_close(c);
	watch_remove_all(c);
	txn_abort_all(c);
	conn_drop_output(c);
	if (c->fd >= 0) {
		close(c->fd);	/* also removes it from epoll */
		c->fd = -1;
	}
	if (c->ring) {
		if (c->ring->conn == c)
			c->ring->conn = NULL;
		c->ring = NULL;
	}
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		d->conns = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	d->nconns--;
	c->dom = NULL;
}

void conn_free(struct conn *c)
{
	struct xsd *xsd = c->xsd;
	struct conn **pp;

	conn_close(c);
	for (pp = &xsd->dead; *pp; pp = &(*pp)->dead_next)
		if (*pp == c) {
			*pp = c->dead_next;
			break;
		}
	if (c->prev)
		c->prev->next = c->next;
	else
		xsd->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->on_dirty) {
		struct conn *prev = NULL;

		for (pp = &xsd->dirty; *pp; prev = *pp, pp = &(*pp)->dirty_next)
			if (*pp == c) {
				*pp = c->dirty_next;
				if (xsd->dirty_tail == c)
					xsd->dirty_tail = prev;
				break;
			}
	}
	conn_in_done(c);
	free(c->rbuf);
	free(c->ev_index);
	free(c);
}

void conn_mark_dirty(struct conn *c)
{
	if (c->on_dirty)
		return;
	c->on_dirty = true;
	c->dirty_next = NULL;
	if (c->xsd->dirty_tail)
		c->xsd->dirty_tail->dirty_next = c;
	else
		c->xsd->dirty = c;
	c->xsd->dirty_tail = c;
}

bool conn_may_read(const struct conn *c)
{
	if (c->dead || c->out_bytes > XSD_STALL_BYTES)
		return false;
	if (!conn_unprivileged(c) || !c->dom ||
	    domain_may_read(c->xsd, c->dom))
		return true;
	c->dom->stalled = true;
	return false;
}

static struct outmsg *conn_msg(uint32_t type, uint32_t req_id,
			       uint32_t tx_id, const void *a, uint32_t alen,
			       const void *b, uint32_t blen)
{
	struct outmsg *m = xmalloc(sizeof(*m) + XSD_HDR_LEN + alen + blen);
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = alen + blen,
	};

	if (!m)
		return NULL;
	m->next = NULL;
	m->enext = NULL;
	m->len = XSD_HDR_LEN + alen + blen;
	m->event = false;
	m->indexed = false;
	memcpy(m->buf, &h, XSD_HDR_LEN);
	if (alen)
		memcpy(m->buf + XSD_HDR_LEN, a, alen);
	if (blen)
		memcpy(m->buf + XSD_HDR_LEN + alen, b, blen);
	return m;
}

static void conn_queue(struct conn *c, struct outmsg *m)
{
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	conn_account(c, m->len, 1);
	conn_mark_dirty(c);
}

/* Reply to the request being processed, echoing its req_id and tx_id. */
int conn_reply(struct conn *c, uint32_t type, const void *data, uint32_t len)
{
	struct outmsg *m;

	if (len > XENSTORE_PAYLOAD_MAX)
		return conn_reply_error(c, E2BIG);
	if (c->xsd->access_log)
		io_access_log(c, "OUT", &(struct xsd_sockmsg){
			.type = type, .req_id = c->hdr.req_id,
			.tx_id = c->hdr.tx_id, .len = len }, data);
	m = conn_msg(type, c->hdr.req_id, c->hdr.tx_id, data, len, NULL, 0);
	if (!m) {
		/* Never leave a request unanswered: drop the client instead. */
		peerlog_msg(c->xsd, PEERLOG_NOMEM, LOG_LVL_ERR,
			    "out of memory replying to connection of "
			    "domain %u", c->id);
		c->closing = true;
		return -ENOMEM;
	}
	conn_queue(c, m);
	return 0;
}

int conn_reply_error(struct conn *c, int err)
{
	size_t i, n = sizeof(xsd_errors) / sizeof(xsd_errors[0]);
	const char *name = "EINVAL";

	for (i = 0; i < n; i++)
		if (xsd_errors[i].errnum == err) {
			name = xsd_errors[i].errstring;
			break;
		}
	return conn_reply(c, XS_ERROR, name, strlen(name) + 1);
}

void conn_send_event(struct conn *c, const char *path, const char *token)
{
	uint32_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
	uint32_t len = plen + tlen, hash = 0;
	struct outmsg *m;

	if (c->dead || c->closing || len > XENSTORE_PAYLOAD_MAX)
		return;
	m = conn_msg(XS_WATCH_EVENT, 0, 0, path, plen, token, tlen);
	if (!m)
		return;
	m->event = true;
	/* An identical event still unsent is enough (not for @ events). */
	if (path[0] != '@') {
		hash = path_hash(m->buf + XSD_HDR_LEN, len);
		if (conn_ev_find(c, m, hash)) {
			free(m);
			return;
		}
	}
	if (conn_unprivileged(c) && c->dom && c->xsd->cfg.quota.memory &&
	    conn_domain_memory(c->dom) + m->len > c->xsd->cfg.quota.memory) {
		peerlog_msg(c->xsd, PEERLOG_EVENT_DROP, LOG_LVL_WARN,
			    "domain %u: memory quota reached, watch event %s "
			    "dropped", c->id, path);
		free(m);
		return;
	}
	if (c->out_bytes + m->len > XSD_DROP_BYTES) {
		peerlog_msg(c->xsd, PEERLOG_NOT_READING, LOG_LVL_WARN,
			    "connection of domain %u does not read its "
			    "events; disconnecting it", c->id);
		free(m);
		/* Its queue goes now: io_flush closes it. */
		conn_drop_output(c);
		c->closing = true;
		conn_mark_dirty(c);
		return;
	}
	m->queued_ms = conn_unprivileged(c) ? xsd_now_ms() : 0;
	if (c->xsd->access_log)
		io_access_log(c, "OUT", &(struct xsd_sockmsg){
			.type = XS_WATCH_EVENT, .len = len },
			m->buf + XSD_HDR_LEN);
	conn_queue(c, m);
	if (path[0] != '@')
		conn_ev_add(c, m, hash);
}

/*
 * Consume bytes of the client's stream; each complete request is processed
 * at once.  Stops early (with *used < len) when the connection may not
 * read more for now.  A header announcing more than 4096 bytes is a
 * protocol violation: -EPROTO, and the caller drops the connection.
 */
int conn_feed(struct conn *c, const void *buf, size_t len, size_t *used)
{
	const char *p = buf;
	size_t off = 0, take;

	while (off < len && !c->closing && conn_may_read(c)) {
		if (c->in_used < XSD_HDR_LEN) {
			take = XSD_HDR_LEN - c->in_used;
			if (take > len - off)
				take = len - off;
			memcpy((char *)&c->hdr + c->in_used, p + off, take);
			c->in_used += take;
			off += take;
			if (c->in_used < XSD_HDR_LEN)
				break;
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
				peerlog_msg(c->xsd, PEERLOG_PROTOCOL,
					    LOG_LVL_WARN, "connection of domain "
					    "%u sent a %u-byte payload; "
					    "dropping it", c->id, c->hdr.len);
				*used = off;
				return -EPROTO;
			}
			conn_in_start(c);
		} else {
			take = XSD_HDR_LEN + c->hdr.len - c->in_used;
			if (take > len - off)
				take = len - off;
			if (c->in)
				memcpy(c->in + (c->in_used - XSD_HDR_LEN),
				       p + off, take);
			c->in_used += take;
			off += take;
		}
		if (c->in_used == XSD_HDR_LEN + c->hdr.len) {
			if (c->in) {
				c->in[c->hdr.len] = '\0';
				wire_process(c);
			} else {
				conn_reply_error(c, ENOMEM);
			}
			conn_in_done(c);
			c->in_used = 0;
		}
	}
	*used = off;
	return 0;
}
