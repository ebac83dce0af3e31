// SPDX-License-Identifier: MIT
/* Unit-test harness: raw requests in, replies and events out, invariants. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "log.h"

static uint32_t h_req_id = 100;

struct xsd *h_new_cfg(const struct xsd_config *cfg)
{
	struct xsd *x;

	log_level = LOG_LVL_ERR - 1;	/* tests provoke errors on purpose */
	x = xsd_new(cfg);
	assert_non_null(x);
	return x;
}

struct xsd *h_new(void)
{
	struct xsd_config cfg;

	xsd_default_config(&cfg);
	return h_new_cfg(&cfg);
}

void h_free(struct xsd *x)
{
	h_check_tree(x);
	xsd_free(x);
}

struct conn *h_dom0(struct xsd *x)
{
	struct conn *c = conn_new(x, -1, x->dom0, false);

	assert_non_null(c);
	return c;
}

void h_introduce(struct xsd *x, unsigned int domid)
{
	if (!domain_exists(x, domid))
		assert_int_equal(domain_introduce(x, domid, NULL), 0);
}

struct conn *h_dom(struct xsd *x, unsigned int domid)
{
	struct conn *c;

	h_introduce(x, domid);
	c = conn_new(x, -1, domain_find(x, domid), false);
	assert_non_null(c);
	return c;
}

void h_send(struct conn *c, uint32_t type, uint32_t tx, const void *p,
	    uint32_t len)
{
	char buf[XSD_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {
		.type = type, .req_id = ++h_req_id, .tx_id = tx, .len = len,
	};
	size_t used = 0;

	assert_true(len <= XENSTORE_PAYLOAD_MAX);
	memcpy(buf, &h, XSD_HDR_LEN);
	if (len)
		memcpy(buf + XSD_HDR_LEN, p, len);
	assert_int_equal(conn_feed(c, buf, XSD_HDR_LEN + len, &used), 0);
	if (used != XSD_HDR_LEN + len)
		fail_msg("connection stopped reading (%u unsent messages, "
			 "closing %d): drain events in the test",
			 c->out_count, c->closing);
}

static void h_unlink(struct conn *c, struct outmsg *prev, struct outmsg *m)
{
	conn_unqueue(c, prev, m);
}

static void h_copy(struct h_msg *ret, const struct outmsg *m)
{
	struct xsd_sockmsg h;

	assert_true(m->len >= XSD_HDR_LEN);
	memcpy(&h, m->buf, XSD_HDR_LEN);
	assert_int_equal(h.len, m->len - XSD_HDR_LEN);
	assert_true(h.len <= XENSTORE_PAYLOAD_MAX);
	ret->type = h.type;
	ret->req_id = h.req_id;
	ret->tx_id = h.tx_id;
	ret->len = h.len;
	ret->event = m->event;
	memcpy(ret->data, m->buf + XSD_HDR_LEN, h.len);
	ret->data[h.len] = '\0';
}

bool h_pop(struct conn *c, struct h_msg *ret)
{
	struct outmsg *m = c->out_head;

	if (!m)
		return false;
	h_unlink(c, NULL, m);
	h_copy(ret, m);
	free(m);
	return true;
}

const char *h_errname(int err)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "E?";
}

int h_errno_of(const struct h_msg *m)
{
	size_t i;

	if (m->type != XS_ERROR)
		return 0;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (m->len == strlen(xsd_errors[i].errstring) + 1 &&
		    strcmp(m->data, xsd_errors[i].errstring) == 0)
			return -xsd_errors[i].errnum;
	fail_msg("malformed XS_ERROR payload \"%s\" (len %u)", m->data,
		 m->len);
	return -EINVAL;
}

int h_call(struct conn *c, uint32_t type, uint32_t tx, const void *p,
	   uint32_t len, struct h_msg *ret)
{
	static struct h_msg scratch;
	struct outmsg *m, *prev = NULL, *found = NULL, *fprev = NULL;
	unsigned int replies = 0;

	if (!ret)
		ret = &scratch;
	h_send(c, type, tx, p, len);
	for (m = c->out_head; m; prev = m, m = m->next)
		if (!m->event) {
			if (!found) {
				found = m;
				fprev = prev;
			}
			replies++;
		}
	if (!found) {
		if (c->closing)
			return -ENOTCONN;	/* dropped, not silent */
		fail_msg("no reply to request type %u", type);
	}
	if (replies != 1)
		fail_msg("%u replies to one request of type %u", replies,
			 type);
	h_unlink(c, fprev, found);
	h_copy(ret, found);
	free(found);
	assert_int_equal(ret->req_id, h_req_id);
	assert_int_equal(ret->tx_id, tx);
	if (ret->type != XS_ERROR && ret->type != type)
		fail_msg("reply type %u to request type %u", ret->type, type);
	return h_errno_of(ret);
}

int h_callv_ap(struct conn *c, uint32_t type, uint32_t tx,
	       struct h_msg *ret, va_list ap)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	const char *s;
	size_t len = 0, l;

	while ((s = va_arg(ap, const char *))) {
		l = strlen(s) + 1;
		assert_true(len + l <= sizeof(buf));
		memcpy(buf + len, s, l);
		len += l;
	}
	return h_call(c, type, tx, buf, len, ret);
}

int h_callv(struct conn *c, uint32_t type, uint32_t tx, struct h_msg *ret,
	    ...)
{
	va_list ap;
	int r;

	va_start(ap, ret);
	r = h_callv_ap(c, type, tx, ret, ap);
	va_end(ap);
	return r;
}

static int h_expect_ok(int r, const struct h_msg *m)
{
	if (r == 0) {
		assert_int_equal(m->len, 3);
		assert_memory_equal(m->data, "OK", 3);
	}
	return r;
}

int h_okv(struct conn *c, uint32_t type, uint32_t tx, ...)
{
	struct h_msg m;
	va_list ap;
	int r;

	va_start(ap, tx);
	r = h_callv_ap(c, type, tx, &m, ap);
	va_end(ap);
	return h_expect_ok(r, &m);
}

int h_writen(struct conn *c, uint32_t tx, const char *path, const void *val,
	     uint32_t len)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t plen = strlen(path) + 1;
	struct h_msg m;

	assert_true(plen + len <= sizeof(buf));
	memcpy(buf, path, plen);
	if (len)
		memcpy(buf + plen, val, len);
	return h_expect_ok(h_call(c, XS_WRITE, tx, buf, plen + len, &m), &m);
}

int h_write(struct conn *c, uint32_t tx, const char *path, const char *val)
{
	return h_writen(c, tx, path, val, strlen(val));
}

int h_mkdir(struct conn *c, uint32_t tx, const char *path)
{
	return h_okv(c, XS_MKDIR, tx, path, NULL);
}

int h_rm(struct conn *c, uint32_t tx, const char *path)
{
	return h_okv(c, XS_RM, tx, path, NULL);
}

int h_watch(struct conn *c, const char *path, const char *token)
{
	return h_okv(c, XS_WATCH, 0, path, token, NULL);
}

int h_unwatch(struct conn *c, const char *path, const char *token)
{
	return h_okv(c, XS_UNWATCH, 0, path, token, NULL);
}

int h_setperms(struct conn *c, uint32_t tx, const char *path,
	       const char *perms)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = strlen(path) + 1, i;
	struct h_msg m;

	memcpy(buf, path, len);
	for (i = 0; perms[i]; i++)
		buf[len++] = perms[i] == ',' ? '\0' : perms[i];
	buf[len++] = '\0';
	return h_expect_ok(h_call(c, XS_SET_PERMS, tx, buf, len, &m), &m);
}

int h_tstart(struct conn *c, uint32_t *ret_id)
{
	struct h_msg m;
	char *end;
	unsigned long id;
	int r = h_call(c, XS_TRANSACTION_START, 0, "", 1, &m);

	if (r < 0)
		return r;
	assert_true(m.len >= 2);
	assert_int_equal(m.data[m.len - 1], '\0');
	assert_int_equal(strlen(m.data) + 1, m.len);
	assert_true(m.data[0] != '0');		/* no leading zeros, no 0 */
	id = strtoul(m.data, &end, 10);
	assert_true(*end == '\0');
	*ret_id = (uint32_t)id;
	return 0;
}

int h_tend(struct conn *c, uint32_t tx, bool commit)
{
	return h_okv(c, XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL);
}

static char *h_strbuf(void)
{
	static char ring[8][XENSTORE_PAYLOAD_MAX * 2 + 16];
	static unsigned int i;

	return ring[i++ % 8];
}

static const char *h_errstr(int r)
{
	char *s = h_strbuf();

	snprintf(s, 64, "!%s", h_errname(-r));
	return s;
}

const char *h_read(struct conn *c, uint32_t tx, const char *path)
{
	struct h_msg m;
	char *s;
	int r = h_callv(c, XS_READ, tx, &m, path, NULL);

	if (r < 0)
		return h_errstr(r);
	s = h_strbuf();
	memcpy(s, m.data, m.len + 1);
	return s;
}

/* Nul-separated names -> "a,b,c"; asserts every name is terminated. */
static const char *h_join(const char *d, uint32_t len, char sep)
{
	char *s = h_strbuf();
	uint32_t i;

	if (len)
		assert_int_equal(d[len - 1], '\0');
	for (i = 0; i < len; i++)
		s[i] = d[i] ? d[i] : sep;
	s[len ? len - 1 : 0] = '\0';
	return s;
}

const char *h_dir(struct conn *c, uint32_t tx, const char *path)
{
	struct h_msg m;
	int r = h_callv(c, XS_DIRECTORY, tx, &m, path, NULL);

	if (r < 0)
		return h_errstr(r);
	return h_join(m.data, m.len, ',');
}

const char *h_perms(struct conn *c, uint32_t tx, const char *path)
{
	struct h_msg m;
	int r = h_callv(c, XS_GET_PERMS, tx, &m, path, NULL);

	if (r < 0)
		return h_errstr(r);
	assert_true(m.len > 0);
	return h_join(m.data, m.len, ',');
}

const char *h_event(struct conn *c)
{
	struct outmsg *m, *prev = NULL;
	struct h_msg e;
	char *s;

	for (m = c->out_head; m && !m->event; prev = m, m = m->next)
		;
	if (!m)
		return NULL;
	h_unlink(c, prev, m);
	h_copy(&e, m);
	free(m);
	assert_int_equal(e.type, XS_WATCH_EVENT);
	assert_int_equal(e.req_id, 0);
	assert_int_equal(e.tx_id, 0);
	/* Exactly two strings: path and token. */
	assert_true(e.len >= 2);
	assert_int_equal(e.data[e.len - 1], '\0');
	assert_int_equal(strlen(e.data) + 1 + strlen(e.data + strlen(e.data) + 1)
			 + 1, e.len);
	s = h_strbuf();
	snprintf(s, XENSTORE_PAYLOAD_MAX * 2, "%s %s", e.data,
		 e.data + strlen(e.data) + 1);
	return s;
}

void h_no_event(struct conn *c)
{
	const char *e = h_event(c);

	if (e)
		fail_msg("unexpected watch event \"%s\"", e);
}

void h_drain(struct conn *c)
{
	while (h_event(c))
		;
}

unsigned int h_event_count(struct conn *c)
{
	struct outmsg *m;
	unsigned int n = 0;

	for (m = c->out_head; m; m = m->next)
		n += m->event;
	return n;
}

static struct node *h_node(struct xsd *x, const char *path, size_t len)
{
	return ntab_get(&x->nodes, path, len, path_hash(path, len));
}

unsigned int h_count_owned(struct xsd *x, unsigned int domid)
{
	struct node *n;
	unsigned int cnt = 0;
	size_t i;

	for (i = 0; i < x->nodes.nbuckets; i++)
		for (n = x->nodes.b[i]; n; n = n->hnext)
			if (n->perms.p[0].id == domid)
				cnt++;
	return cnt;
}

/*
 * Every node: sane record, listed by its parent, each child exists and is
 * listed once; every known domain's node count matches what it owns.
 * Returns the number of problems; the first is described in why.
 */
int h_tree_problems(struct xsd *x, char *why, size_t wlen)
{
	char cpath[XSD_PATH_BUF];
	struct node *n, *p;
	struct domain *d;
	size_t i, count = 0;
	uint32_t off, l;
	int bad = 0;

#define H_BAD(...) do { if (!bad++) snprintf(why, wlen, __VA_ARGS__); } while (0)
	if (!h_node(x, "/", 1))
		H_BAD("no root node");
	for (i = 0; i < x->nodes.nbuckets; i++)
		for (n = x->nodes.b[i]; n; n = n->hnext) {
			count++;
			if (n->pathlen != strlen(n->path) ||
			    n->hash != path_hash(n->path, n->pathlen) ||
			    (n->hash & (x->nodes.nbuckets - 1)) != i)
				H_BAD("%s: bad path/hash record", n->path);
			if (n->perms.num < 1 || !n->perms.p)
				H_BAD("%s: no permissions", n->path);
			if (n->childlen && n->children[n->childlen - 1])
				H_BAD("%s: child list not terminated",
				      n->path);
			if (n->gen == XSD_NOGEN)
				H_BAD("%s: live node without generation",
				      n->path);
			/* children exist, no duplicates */
			for (off = 0; off < n->childlen; off += l + 1) {
				const char *name = n->children + off;
				uint32_t o2;

				l = strlen(name);
				if (!l)
					H_BAD("%s: empty child name", n->path);
				snprintf(cpath, sizeof(cpath), "%s/%s",
					 n->pathlen == 1 ? "" : n->path, name);
				if (!h_node(x, cpath, strlen(cpath)))
					H_BAD("%s lists child %s, which does "
					      "not exist", n->path, cpath);
				for (o2 = off + l + 1; o2 < n->childlen;
				     o2 += strlen(n->children + o2) + 1)
					if (!strcmp(n->children + o2, name))
						H_BAD("%s lists %s twice",
						      n->path, name);
			}
			if (n->pathlen == 1)
				continue;
			/* parent exists and lists it */
			{
				size_t pl = path_parent_len(n->path,
							    n->pathlen);
				const char *base = n->path + pl +
						   (pl > 1 ? 1 : 0);
				bool listed = false;

				p = h_node(x, n->path, pl);
				if (!p) {
					H_BAD("%s: parent missing", n->path);
					continue;
				}
				for (off = 0; off < p->childlen;
				     off += strlen(p->children + off) + 1)
					if (!strcmp(p->children + off, base))
						listed = true;
				if (!listed)
					H_BAD("%s: not listed by its parent",
					      n->path);
			}
		}
	if (count != x->nodes.count)
		H_BAD("table count %zu, %zu nodes found", x->nodes.count,
		      count);
	for (d = x->domains; d; d = d->next) {
		unsigned int owned = h_count_owned(x, d->domid);

		if (d->nnodes != (int)owned)
			H_BAD("domain %u: node count %d, owns %u", d->domid,
			      d->nnodes, owned);
	}
#undef H_BAD
	return bad;
}

void h_check_tree(struct xsd *x)
{
	char why[512] = "";
	int bad = h_tree_problems(x, why, sizeof(why));

	if (bad)
		fail_msg("store inconsistent (%d problems): %s", bad, why);
	if (xsd_check(x) < 0)
		fail_msg("xsd_check: the store or a domain's usage counts "
			 "are inconsistent");
}
