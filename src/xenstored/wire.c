// SPDX-License-Identifier: MIT
/*
 * The wire protocol: one handler per message type of xen/io/xs_wire.h.
 * wire_process() does what every request shares (unknown types, privilege,
 * read-only sockets, transaction lookup, error replies); handlers parse
 * their payload, act, and reply on success or return a negative errno.
 * Payload rules are C xenstored 4.17's: single-argument requests need
 * exactly one nul, at the end; domids are read like atoi().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "xenstored.h"

#define F_PRIV 0x1	/* privileged callers only */
#define F_NOTID 0x2	/* transaction id ignored */
#define F_MODIFY 0x4	/* refused on the read-only socket */

struct req {
	const char *buf;	/* payload, nul-terminated one past len */
	uint32_t len;
};

typedef int (*handler_fn)(struct op *op, const struct req *rq);

/* Number of nul-terminated strings in the payload. */
static unsigned int req_count_strings(const struct req *rq)
{
	unsigned int n = 0;
	uint32_t i;

	for (i = 0; i < rq->len; i++)
		if (!rq->buf[i])
			n++;
	return n;
}

/* The single argument, or NULL unless the payload is "arg\0" exactly. */
static const char *req_onearg(const struct req *rq)
{
	if (!rq->len || strlen(rq->buf) + 1 != rq->len)
		return NULL;
	return rq->buf;
}

/* The i-th string (the caller checked the count). */
static const char *req_arg(const struct req *rq, unsigned int i)
{
	const char *p = rq->buf;

	while (i--)
		p += strlen(p) + 1;
	return p;
}

/* atoi() without its undefined overflow: what 4.17 parsed domids with. */
static unsigned int parse_domid(const char *s)
{
	long long v = 0;
	bool neg = false;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9' && v < (1LL << 40))
		v = v * 10 + (*s++ - '0');
	return (unsigned int)(neg ? -v : v);
}

static int do_read(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	struct node *n;
	int r = op_get_node(op, req_onearg(rq), PERM_READ, path, sizeof(path),
			    &n);

	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_READ, n->data, n->datalen);
}

static int do_directory(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	struct node *n;
	int r = op_get_node(op, req_onearg(rq), PERM_READ, path, sizeof(path),
			    &n);

	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_DIRECTORY, n->children, n->childlen);
}

/*
 * "path\0offset\0" -> "gen\0" + the whole child names from offset that fit,
 * plus an empty name when the list ends there.
 */
static int do_directory_part(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF], out[XENSTORE_PAYLOAD_MAX + 32];
	uint32_t off, len = 0, genlen, maxlen, clen;
	struct node *n;
	const char *child;
	int r;

	if (req_count_strings(rq) != 2)
		return -EINVAL;
	r = op_get_node(op, rq->buf, PERM_READ, path, sizeof(path), &n);
	if (r < 0)
		return r;
	off = parse_domid(req_arg(rq, 1));
	genlen = snprintf(out, sizeof(out), "%" PRIu64, n->gen) + 1;
	if (off >= n->childlen) {
		out[genlen] = '\0';
		return conn_reply(op->conn, XS_DIRECTORY_PART, out, genlen + 1);
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	child = n->children + off;
	while (len + (clen = strlen(child)) < maxlen) {
		len += clen + 1;
		child += clen + 1;
		if (off + len == n->childlen)
			break;
	}
	memcpy(out + genlen, n->children + off, len);
	if (off + len == n->childlen)
		out[genlen + len++] = '\0';
	return conn_reply(op->conn, XS_DIRECTORY_PART, out, genlen + len);
}

static int do_write(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	const char *value;
	uint32_t vlen;
	struct node *n;
	int r;

	if (req_count_strings(rq) < 1)
		return -EINVAL;
	value = rq->buf + strlen(rq->buf) + 1;
	vlen = rq->len - (value - rq->buf);
	r = op_get_node(op, rq->buf, PERM_WRITE, path, sizeof(path), &n);
	if (r == -ENOENT) {
		r = store_create(op, path, value, vlen, &n);
		if (r < 0)
			return r;
	} else if (r < 0) {
		return r;
	} else {
		r = op_size_check(op, XSD_NODE_HDR + 8 * n->perms.num + vlen +
					  n->childlen);
		if (r < 0)
			return r;
		r = node_set_data(n, value, vlen);
		if (r < 0)
			return r;
		op_modified(op, n);
	}
	op_fire(op, path, n, false, NULL);
	return conn_reply(op->conn, XS_WRITE, "OK", 3);
}

static int do_mkdir(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	struct node *n;
	int r = op_get_node(op, req_onearg(rq), PERM_WRITE, path, sizeof(path),
			    &n);

	if (r == -ENOENT) {
		r = store_create(op, path, NULL, 0, &n);
		if (r < 0)
			return r;
		op_fire(op, path, n, false, NULL);
	} else if (r < 0) {
		return r;
	}
	return conn_reply(op->conn, XS_MKDIR, "OK", 3);
}

static int do_rm(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF], ppath[XSD_PATH_BUF];
	struct node *n;
	int r = op_get_node(op, req_onearg(rq), PERM_WRITE, path, sizeof(path),
			    &n);

	if (r == -ENOENT) {
		/* Already gone is fine, if the parent is there. */
		path_parent(path, ppath);
		r = op_lookup(op, ppath, &n);
		if (r == 0)
			return conn_reply(op->conn, XS_RM, "OK", 3);
		return r == -ENOMEM || r == -ENOSPC ? r : -ENOENT;
	}
	if (r < 0)
		return r;
	if (strcmp(path, "/") == 0)
		return -EINVAL;
	r = store_rm(op, path);
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_RM, "OK", 3);
}

static int do_get_perms(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF], out[XENSTORE_PAYLOAD_MAX * 4];
	struct node *n;
	uint32_t len;
	int r = op_get_node(op, req_onearg(rq), PERM_READ, path, sizeof(path),
			    &n);

	if (r < 0)
		return r;
	if (perms_format(&n->perms, out, sizeof(out), &len) < 0)
		return -E2BIG;
	return conn_reply(op->conn, XS_GET_PERMS, out, len);
}

static int set_perms_special(struct op *op, const char *name,
			     struct perms *p)
{
	struct perms *sp;

	if (strcmp(name, "@introduceDomain") == 0)
		sp = &op->xsd->special_intro;
	else if (strcmp(name, "@releaseDomain") == 0)
		sp = &op->xsd->special_release;
	else
		return -EINVAL;
	if ((perms_for_conn(op->conn, sp) & (PERM_WRITE | PERM_OWNER)) !=
	    (PERM_WRITE | PERM_OWNER))
		return -EACCES;
	free(sp->p);
	*sp = *p;
	p->p = NULL;
	return 0;
}

static int do_set_perms(struct op *op, const struct req *rq)
{
	unsigned int num = req_count_strings(rq), i, q;
	char path[XSD_PATH_BUF];
	struct perms p = { 0 }, old = { 0 };
	struct node *n;
	uint32_t size;
	int r;

	if (num < 2)
		return -EINVAL;
	num--;
	q = op->xsd->cfg.quota.permissions;
	if (conn_unprivileged(op->conn) && q && num > q)
		return -ENOSPC;
	r = perms_parse(req_arg(rq, 1), num, &p);
	if (r < 0)
		return r;
	/* Entries for domains that do not exist are kept but ignored. */
	for (i = 0; i < p.num; i++)
		if (!domain_known(op->xsd, p.p[i].id))
			p.p[i].perms |= PERM_IGNORE;
	if (p.p[0].perms & PERM_IGNORE) {
		r = -ENOENT;
		goto out;
	}
	if (rq->buf[0] == '@') {
		r = set_perms_special(op, rq->buf, &p);
		if (r == 0)
			r = conn_reply(op->conn, XS_SET_PERMS, "OK", 3);
		goto out;
	}
	r = op_get_node(op, rq->buf, PERM_WRITE | PERM_OWNER, path,
			sizeof(path), &n);
	if (r < 0)
		goto out;
	if (conn_unprivileged(op->conn) && p.p[0].id != n->perms.p[0].id) {
		r = -EPERM;
		goto out;
	}
	size = XSD_NODE_HDR + 8 * p.num + n->datalen + n->childlen;
	r = op_size_check(op, size);
	if (r < 0)
		goto out;
	old = n->perms;
	n->perms = p;
	p.p = NULL;
	op_count_node(op, old.p[0].id, -1);
	op_count_node(op, n->perms.p[0].id, 1);
	op_modified(op, n);
	op_fire(op, path, n, false, &old);
	r = conn_reply(op->conn, XS_SET_PERMS, "OK", 3);
out:
	free(p.p);
	free(old.p);
	return r;
}

static int do_watch(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	const char *wpath, *token;
	bool relative = false;
	int r;

	if (req_count_strings(rq) != 2)
		return -EINVAL;
	wpath = rq->buf;
	token = req_arg(rq, 1);
	if (wpath[0] == '@') {
		if (strlen(wpath) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		snprintf(path, sizeof(path), "%s", wpath);
	} else {
		relative = wpath[0] != '/';
		if (path_canonical(op->conn, wpath, path, sizeof(path)) < 0 ||
		    !path_is_valid(op->xsd, path))
			return -EINVAL;
	}
	r = watch_add(op->conn, path, token, relative);
	if (r < 0)
		return r;
	r = conn_reply(op->conn, XS_WATCH, "OK", 3);
	/* The initial event, after the reply: clients rely on it. */
	conn_send_event(op->conn, relative ? wpath : path, token);
	return r;
}

static int do_unwatch(struct op *op, const struct req *rq)
{
	char path[XSD_PATH_BUF];
	int r;

	if (req_count_strings(rq) != 2)
		return -EINVAL;
	if (path_canonical(op->conn, rq->buf, path, sizeof(path)) < 0)
		return -ENOENT;
	r = watch_remove(op->conn, path, req_arg(rq, 1));
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_UNWATCH, "OK", 3);
}

static int do_txn_start(struct op *op, const struct req *rq)
{
	unsigned int q = op->xsd->cfg.quota.transactions;
	char id[16];
	uint32_t tid;
	int r;

	if (op->txn)
		return -EBUSY;
	/* 4.17's boundary: quota + 1 open transactions, per domain. */
	if (conn_unprivileged(op->conn) && q && op->conn->dom->ntxns > q)
		return -ENOSPC;
	r = txn_start(op->conn, &tid);
	if (r < 0)
		return r;
	snprintf(id, sizeof(id), "%u", tid);
	return conn_reply(op->conn, XS_TRANSACTION_START, id, strlen(id) + 1);
}

static int do_txn_end(struct op *op, const struct req *rq)
{
	const char *arg = req_onearg(rq);
	int r;

	if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -EINVAL;
	if (!op->txn)
		return -ENOENT;
	r = txn_end(op->conn, op->txn, arg[0] == 'T');
	op->txn = NULL;
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_TRANSACTION_END, "OK", 3);
}

static int do_introduce(struct op *op, const struct req *rq)
{
	unsigned int domid, port;
	int r;

	if (req_count_strings(rq) < 3)
		return -EINVAL;
	domid = parse_domid(rq->buf);
	port = parse_domid(req_arg(rq, 2));
	if (port == 0)
		return -EINVAL;
	if (domid >= XSD_DOMID_SELF)
		return -EINVAL;
	r = domain_introduce_port(op->xsd, domid, port, op->conn);
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_INTRODUCE, "OK", 3);
}

/* The introduced domain named by a one-argument request. */
static int req_domain(struct op *op, const struct req *rq,
		      struct domain **ret)
{
	const char *arg = req_onearg(rq);
	unsigned int domid;

	if (!arg)
		return -EINVAL;
	domid = parse_domid(arg);
	if (!domid)
		return -EINVAL;
	*ret = domain_find(op->xsd, domid);
	if (!*ret || !(*ret)->introduced)
		return -ENOENT;
	return 0;
}

static int do_release(struct op *op, const struct req *rq)
{
	struct domain *d;
	int r = req_domain(op, rq, &d);

	if (r == 0)
		r = domain_release(op->xsd, d->domid);
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_RELEASE, "OK", 3);
}

static int do_resume(struct op *op, const struct req *rq)
{
	struct domain *d;
	int r = req_domain(op, rq, &d);

	if (r < 0)
		return r;
	d->shutdown = false;
	return conn_reply(op->conn, XS_RESUME, "OK", 3);
}

static int do_get_domain_path(struct op *op, const struct req *rq)
{
	const char *arg = req_onearg(rq);
	char path[32];

	if (!arg)
		return -EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", parse_domid(arg));
	return conn_reply(op->conn, XS_GET_DOMAIN_PATH, path,
			  strlen(path) + 1);
}

static int do_is_introduced(struct op *op, const struct req *rq)
{
	const char *arg = req_onearg(rq);
	unsigned int domid;
	bool yes;

	if (!arg)
		return -EINVAL;
	domid = parse_domid(arg);
	yes = domid == XSD_DOMID_SELF || domain_exists(op->xsd, domid);
	return conn_reply(op->conn, XS_IS_DOMAIN_INTRODUCED, yes ? "T" : "F",
			  2);
}

static int do_set_target(struct op *op, const struct req *rq)
{
	unsigned int domid, tdomid;
	struct domain *d;

	if (req_count_strings(rq) < 2)
		return -EINVAL;
	domid = parse_domid(rq->buf);
	tdomid = parse_domid(req_arg(rq, 1));
	d = domain_find(op->xsd, domid);
	if (!d || !d->introduced || !domain_exists(op->xsd, tdomid))
		return -ENOENT;
	d->target = tdomid;
	return conn_reply(op->conn, XS_SET_TARGET, "OK", 3);
}

static int do_reset_watches(struct op *op, const struct req *rq)
{
	watch_remove_all(op->conn);
	txn_abort_all(op->conn);
	op->txn = NULL;
	return conn_reply(op->conn, XS_RESET_WATCHES, "OK", 3);
}

/*
 * "quota", "quota set NAME VALUE", "quota DOMID", "quota-soft",
 * "quota-soft set memory VALUE": C xenstored 4.17's commands.  Values are
 * at least 1, as in 4.17; numbers that do not fit an int are refused.
 */
static int control_quota(struct op *op, const struct req *rq, bool soft)
{
	unsigned int nargs = req_count_strings(rq) - 1, v;
	char out[XENSTORE_PAYLOAD_MAX];
	const struct quota_def *def;
	uint32_t len;
	int r;

	if (nargs == 0)
		r = quota_show(&op->xsd->cfg.quota, soft, out, sizeof(out),
			       &len);
	else if (strcmp(req_arg(rq, 1), "set") == 0) {
		if (nargs != 3)
			return -EINVAL;
		def = quota_find(req_arg(rq, 2), soft);
		if (!def || quota_parse(req_arg(rq, 3), &v) < 0 || v < 1)
			return -EINVAL;
		*quota_ref(&op->xsd->cfg.quota, def) = v;
		log_info("control: quota%s %s set to %u", soft ? "-soft" : "",
			 def->name, v);
		return conn_reply(op->conn, XS_CONTROL, "OK", 3);
	} else {
		if (soft || nargs != 1 || quota_parse(req_arg(rq, 1), &v) < 0)
			return -EINVAL;
		r = quota_report(op->xsd, v, out, sizeof(out), &len);
	}
	if (r < 0)
		return r;
	return conn_reply(op->conn, XS_CONTROL, out, len);
}

/* xenstore-control: a small set of C xenstored's commands. */
static int do_control(struct op *op, const struct req *rq)
{
	static const char help[] =
		"check\t\n"
		"print\t<string>\n"
		"quota\t[set <name> <val>|<domid>]\n"
		"quota-soft\t[set <name> <val>]\n"
		"help\t\n";

	if (req_count_strings(rq) < 1)
		return -EINVAL;
	if (strcmp(rq->buf, "help") == 0)
		return conn_reply(op->conn, XS_CONTROL, help, sizeof(help));
	if (strcmp(rq->buf, "check") == 0) {
		if (xsd_check(op->xsd) < 0)
			return conn_reply(op->conn, XS_CONTROL,
					  "store inconsistent", 19);
		return conn_reply(op->conn, XS_CONTROL, "OK", 3);
	}
	if (strcmp(rq->buf, "print") == 0 && req_count_strings(rq) >= 2) {
		log_info("control: %s", req_arg(rq, 1));
		return conn_reply(op->conn, XS_CONTROL, "OK", 3);
	}
	if (strcmp(rq->buf, "quota") == 0)
		return control_quota(op, rq, false);
	if (strcmp(rq->buf, "quota-soft") == 0)
		return control_quota(op, rq, true);
	return -EINVAL;
}

static const struct {
	const char *name;
	handler_fn fn;
	unsigned int flags;
} wire_funcs[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { "CONTROL", do_control, F_PRIV },
	[XS_DIRECTORY] = { "DIRECTORY", do_directory, 0 },
	[XS_READ] = { "READ", do_read, 0 },
	[XS_GET_PERMS] = { "GET_PERMS", do_get_perms, 0 },
	[XS_WATCH] = { "WATCH", do_watch, F_NOTID },
	[XS_UNWATCH] = { "UNWATCH", do_unwatch, F_NOTID },
	[XS_TRANSACTION_START] = { "TRANSACTION_START", do_txn_start, 0 },
	[XS_TRANSACTION_END] = { "TRANSACTION_END", do_txn_end, 0 },
	[XS_INTRODUCE] = { "INTRODUCE", do_introduce, F_PRIV | F_MODIFY },
	[XS_RELEASE] = { "RELEASE", do_release, F_PRIV | F_MODIFY },
	[XS_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", do_get_domain_path, 0 },
	[XS_WRITE] = { "WRITE", do_write, F_MODIFY },
	[XS_MKDIR] = { "MKDIR", do_mkdir, F_MODIFY },
	[XS_RM] = { "RM", do_rm, F_MODIFY },
	[XS_SET_PERMS] = { "SET_PERMS", do_set_perms, F_MODIFY },
	[XS_WATCH_EVENT] = { "WATCH_EVENT", NULL, 0 },
	[XS_ERROR] = { "ERROR", NULL, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED", do_is_introduced,
				      F_PRIV },
	[XS_RESUME] = { "RESUME", do_resume, F_PRIV | F_MODIFY },
	[XS_SET_TARGET] = { "SET_TARGET", do_set_target, F_PRIV | F_MODIFY },
	[XS_RESET_WATCHES] = { "RESET_WATCHES", do_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { "DIRECTORY_PART", do_directory_part, 0 },
};

const char *wire_type_name(uint32_t type)
{
	if (type < XS_TYPE_COUNT && wire_funcs[type].name)
		return wire_funcs[type].name;
	return "UNKNOWN";
}

/* Handle the complete request in c->hdr / c->in: exactly one reply. */
void wire_process(struct conn *c)
{
	uint32_t type = c->hdr.type;
	struct req rq = { .buf = c->in, .len = c->hdr.len };
	struct op op = { .xsd = c->xsd, .conn = c, .txn = NULL };
	unsigned int flags;
	int r;

	if (c->xsd->access_log)
		io_access_log(c, "IN ", &c->hdr, c->in);
	if (type >= XS_TYPE_COUNT || !wire_funcs[type].fn) {
		conn_reply_error(c, ENOSYS);
		return;
	}
	flags = wire_funcs[type].flags;
	if ((flags & F_PRIV) && conn_unprivileged(c)) {
		conn_reply_error(c, EACCES);
		return;
	}
	if ((flags & F_MODIFY) && c->readonly) {
		conn_reply_error(c, EROFS);
		return;
	}
	if (!(flags & F_NOTID) && c->hdr.tx_id) {
		op.txn = txn_find(c, c->hdr.tx_id);
		if (!op.txn) {
			conn_reply_error(c, ENOENT);
			return;
		}
	}
	r = wire_funcs[type].fn(&op, &rq);
	if (r < 0 && !c->closing)
		conn_reply_error(c, -r);
}
