/* SPDX-License-Identifier: MIT */
/*
 * xpt-xenstored: the map of the daemon.  One struct (struct xsd) holds all
 * state; every module takes it explicitly so unit tests and the fuzz target
 * can run the store in-process.  Semantics follow Xen 4.17's C xenstored
 * (see docs/xenstored-differences.md for the deliberate differences).
 */
#ifndef XPT_XENSTORED_H
#define XPT_XENSTORED_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <xen/io/xs_wire.h>

#define XSD_NOGEN UINT64_MAX		/* generation of a missing node */
#define XSD_DOMID_SELF 0x7FF0u
#define XSD_PATH_BUF 4200		/* a canonical path always fits */
/* 4.17's record header (u64 generation, three u32, padded): the node-size
 * quota charges it with 8 bytes per permission, the value and the children. */
#define XSD_NODE_HDR 24u
#define XSD_HDR_LEN ((uint32_t)sizeof(struct xsd_sockmsg))

/* Permission bits (the xs_permissions ABI of xenstore_lib.h). */
enum {
	PERM_NONE = 0x00,
	PERM_READ = 0x01,
	PERM_WRITE = 0x02,
	PERM_OWNER = 0x08,
	PERM_IGNORE = 0x10,	/* entry names a domain that no longer owns it */
};

struct perm {
	uint32_t id;
	uint32_t perms;
};

struct perms {
	unsigned int num;
	struct perm *p;		/* p[0] is the owner and the default */
};

/* A node: a value, a permission list and children in insertion order. */
struct node {
	struct node *hnext;	/* hash chain */
	uint32_t hash;
	uint32_t pathlen;
	char *path;
	uint64_t gen;
	struct perms perms;
	uint32_t datalen;
	uint32_t childlen;	/* bytes of nul-terminated child names */
	char *data;
	char *children;
};

/* Path -> node hash table (the whole store, or a transaction's view). */
struct ntab {
	struct node **b;
	size_t nbuckets;
	size_t count;
};

struct conn;
struct domain;
struct ring;
struct txn;
struct watch;
struct xsd;

/* Quotas: 0 disables a check.  Defaults are C xenstored 4.17's. */
struct xsd_quota {
	unsigned int nodes;		/* nodes owned per domain */
	unsigned int node_size;		/* bytes per node record */
	unsigned int watches;		/* per domain */
	unsigned int transactions;	/* open per connection */
	unsigned int permissions;	/* entries per node */
	unsigned int path_max;		/* path length below /local/domain/N */
	unsigned int txn_nodes;		/* nodes accessed per transaction */
	unsigned int outstanding;	/* unsent replies before reading stops */
	unsigned int memory;		/* bytes per domain: output, txn copies */
	unsigned int event_timeout;	/* seconds an event may wait unsent */
	unsigned int memory_soft;	/* a warning above this */
	unsigned int connections;	/* per domain (xpt: sockets, not rings) */
};

/* A quota's name for -Q/-q and xenstore-control (quota.c). */
struct quota_def {
	const char *name;
	size_t off;			/* in struct xsd_quota */
	const char *descr;
	bool soft;			/* quota-soft, -q */
};

struct xsd_config {
	const char *rundir;
	const char *pidfile;
	const char *access_log;
	int ready_fd;
	bool daemonize;
	int verbose;
	enum { XSD_XEN_AUTO, XSD_XEN_OFF, XSD_XEN_ON } xen;
	struct xsd_quota quota;
};

/* A domain: dom0 always exists; others from XS_INTRODUCE to XS_RELEASE. */
/* Buckets of the domain index (xsd->dom_hash); a power of 2. */
#define XSD_DOM_HASH 1024u

struct domain {
	int io_kind;		/* first: epoll tag of its listening socket */
	struct domain *next;
	struct domain *hnext;	/* in xsd->dom_hash[domid % XSD_DOM_HASH] */
	unsigned int domid;
	uint64_t gen;		/* store generation when it came to exist */
	bool introduced;
	bool shutdown;
	unsigned int target;	/* SET_TARGET, or UINT32_MAX */
	int nnodes;		/* nodes owned */
	int check_owned;	/* xsd_check's own count of them */
	unsigned int nwatches;
	/* What its connections hold, all counted against its quotas. */
	struct conn *conns;	/* live connections (conn->dnext) */
	unsigned int nconns;
	unsigned int ntxns;	/* open transactions */
	unsigned int nout;	/* queued replies and events */
	size_t out_bytes;	/* their bytes */
	size_t txn_bytes;	/* transactions' copies of nodes */
	bool stalled;		/* its connections stopped reading on these */
	bool soft_reported;	/* above the soft memory quota, said so */
	int listen_fd;		/* DIR/domain/<domid>, -1 for dom0 */
	char *sockpath;
	struct ring *ring;	/* with a hypervisor: its shared page */
	char path[32];		/* /local/domain/<domid> */
};

struct outmsg {
	struct outmsg *next;
	struct outmsg *enext;	/* chain of conn->ev_index */
	uint32_t len;		/* header + payload */
	uint32_t ehash;		/* of an indexed event's payload */
	bool event;
	bool indexed;		/* in conn->ev_index */
	uint64_t queued_ms;
	char buf[];		/* struct xsd_sockmsg then payload */
};

#define XSD_RBUF 8192
/*
 * A request's payload up to this size is assembled inside the connection;
 * a larger one (up to XENSTORE_PAYLOAD_MAX) in a buffer of its own size,
 * freed once answered.  Most requests are a path and a short value, and
 * a host has a connection per client: a buffer of the largest payload
 * and one of XSD_RBUF in each made an idle connection 12 KB.
 */
#define XSD_IN_INLINE 256

struct conn {
	int io_kind;			/* first: epoll tag */
	struct conn *next, *prev;	/* all connections */
	struct conn *dnext, *dprev;	/* the domain's connections */
	struct xsd *xsd;
	int fd;				/* -1 for in-memory connections */
	unsigned int id;		/* domid the connection acts as */
	struct domain *dom;
	bool readonly;
	bool closing;
	bool dead;			/* closed, waiting to be freed */
	bool stalled;			/* reading paused: too much unsent output */
	bool on_dirty;
	struct conn *dirty_next;
	struct conn *dead_next;		/* on xsd->dead while dead */
	struct ring *ring;		/* a domain's ring (fd is -1), or NULL */
	uint64_t seq;			/* creation order, orders watch events */
	uint32_t events_armed;		/* epoll events currently registered */

	/* input: header then payload, assembled across reads */
	struct xsd_sockmsg hdr;
	uint32_t in_used;		/* bytes of header+payload received */
	/* the payload, always nul-terminated: in_inline or, for a larger
	 * one, its own allocation; NULL while a payload that found no
	 * memory is skipped (its request is answered ENOMEM) */
	char *in;
	char in_inline[XSD_IN_INLINE];

	/* bytes read from the socket that the connection could not take
	 * yet (XSD_RBUF, NULL when there are none: io.c reads into
	 * xsd->rbuf) */
	uint32_t rlen, roff;
	char *rbuf;

	/* output queue; dom->nout and dom->out_bytes count it too */
	struct outmsg *out_head, *out_tail;
	uint32_t out_off;		/* bytes of out_head already written */
	size_t out_bytes;
	unsigned int out_count;

	struct watch *watches;		/* this connection's, in creation order */
	struct watch *watches_tail;
	struct txn *txns;
	uint32_t next_txid;
	unsigned int ntxns;
	uint64_t stamp;			/* event permission cache */
	bool stamp_ok;
	/* queued events by payload, to drop duplicates in O(1) */
	struct outmsg **ev_index;
	uint32_t ev_nbuckets, ev_count;
};

/* A watch: indexed by path in xsd->watch_index, listed per connection. */
struct watch {
	struct watch *hnext;		/* index chain */
	uint32_t hash;
	struct watch *cnext;		/* connection list */
	struct conn *conn;
	uint64_t seq;
	bool relative;			/* report paths relative to the domain */
	char *path;			/* canonical */
	char *token;
};

struct windex {
	struct watch **b;
	size_t nbuckets;
	size_t count;
};

/*
 * A hypervisor under the store (xen.c): domains talk over shared pages
 * and event channels instead of DIR/domain/<domid>.  NULL without one.
 */
struct xsd_hv {
	/* Every XS_INTRODUCE of a domain other than dom0: map its page and
	 * bind its event channel the first time, rebind and reset after. */
	int (*introduce)(struct xsd *xsd, struct domain *d, unsigned int port);
	/* The domain is gone from the store: unbind and unmap. */
	void (*release)(struct xsd *xsd, struct domain *d);
	/* Its fd (io_hv_add) is readable. */
	void (*event)(struct xsd *xsd);
	/* Does the hypervisor have this domain (alive, not dying)? */
	bool (*exists)(struct xsd *xsd, unsigned int domid);
};

/*
 * ring.c: a domain's connection over its page, xs_wire.h's struct
 * xenstore_domain_interface.  No Xen library: whoever maps the page says
 * how to kick the peer (notify), so tests drive a plain buffer.
 */
struct ring {
	struct xenstore_domain_interface *intf;
	struct xsd *xsd;
	struct domain *dom;
	struct conn *conn;		/* NULL while the domain is ignored */
	void (*notify)(struct ring *r);
	uint32_t error;			/* XENSTORE_ERROR_*, once ignored */
};

/* Kinds of log line a peer can cause (peerlog.c rate-limits each). */
enum peerlog_kind {
	PEERLOG_PROTOCOL,	/* a header announcing too much */
	PEERLOG_EVENT_DROP,	/* a watch event dropped */
	PEERLOG_NOT_READING,	/* a client dropped for not reading */
	PEERLOG_NOMEM,		/* out of memory serving a peer */
	PEERLOG_RING,		/* a ring ignored */
	PEERLOG_ACCEPT,		/* connections refused or not accepted */
	PEERLOG_QUOTA,		/* a domain past a memory quota */
	PEERLOG_KINDS
};

struct peerlog {
	uint64_t window_ms;		/* start of the current window */
	unsigned int lines;		/* logged in it */
	unsigned long suppressed;	/* not logged since the last line */
};

struct xsd {
	struct xsd_config cfg;
	struct ntab nodes;
	uint64_t gen;			/* global generation counter */
	uint64_t seq;			/* creation counter for conns, watches */
	struct domain *domains;
	/* domain_find by id without walking every domain: a permission
	 * check, a quota and each request from a domain look one up */
	struct domain *dom_hash[XSD_DOM_HASH];
	struct domain *dom0;
	struct perms special_intro;	/* @introduceDomain */
	struct perms special_release;	/* @releaseDomain */
	struct conn *conns;		/* list head */
	struct conn *dirty, *dirty_tail;	/* connections with new output */
	/* closed, not yet freed: io_reap frees these without walking the
	 * thousands of live connections a host with many domains has */
	struct conn *dead;
	struct windex watches;
	uint64_t stamp;

	/* I/O (io.c); unused by in-memory users */
	int io_tag_sock, io_tag_ro, io_tag_sig;	/* epoll tags */
	int sig_fd;
	uint64_t last_scan_ms;
	unsigned long fd_limit;		/* RLIMIT_NOFILE */
	unsigned long fd_reserve;	/* the last fds: dom0's sockets only */
	uint64_t accept_resume_ms;	/* listeners paused until (0: not) */
	int epfd;
	int sock_fd, ro_fd;
	char *rbuf;			/* XSD_RBUF: every socket reads here */
	FILE *access_log;
	char *sockpath, *ro_sockpath, *domdir;
	bool stop;

	struct peerlog peerlog[PEERLOG_KINDS];

	/* the hypervisor transport, when there is one */
	const struct xsd_hv *hv;
	void *hv_state;
	int io_tag_hv;
};

/* path.c */
bool path_is_valid(const struct xsd *xsd, const char *path);
int path_canonical(const struct conn *c, const char *in, char *out,
		   size_t outlen);
size_t path_parent_len(const char *path, size_t len);
void path_parent(const char *path, char *out);
uint32_t path_hash(const char *path, size_t len);
bool path_is_child(const char *child, const char *parent);

/* tree.c */
int ntab_init(struct ntab *t, size_t nbuckets);
void ntab_free(struct ntab *t);
struct node *ntab_get(const struct ntab *t, const char *path, size_t len,
		      uint32_t hash);
int ntab_put(struct ntab *t, struct node *n);
struct node *ntab_take(struct ntab *t, const char *path, size_t len,
		       uint32_t hash);
struct node *node_new(const char *path, size_t len);
struct node *node_copy(const struct node *n);
void node_free(struct node *n);
int node_set_data(struct node *n, const void *data, uint32_t len);
int node_set_perms(struct node *n, const struct perms *p);
int node_add_child(struct node *n, const char *name);
int node_del_child(struct node *n, const char *name);
uint32_t node_size(const struct node *n);
const char *node_basename(const struct node *n);
int tree_init(struct xsd *xsd);

/* perms.c */
unsigned int perms_for_conn(const struct conn *c, const struct perms *p);
int perms_parse(const char *strings, unsigned int num, struct perms *ret);
int perms_format(const struct perms *p, char *buf, size_t len,
		 uint32_t *ret_len);
int perms_dup(struct perms *dst, const struct perms *src);
void perms_adjust(struct xsd *xsd, struct node *n);

/* peerlog.c */
void peerlog_msg(struct xsd *xsd, enum peerlog_kind kind, int level,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* quota.c */
const struct quota_def *quota_find(const char *name, bool soft);
unsigned int *quota_ref(struct xsd_quota *q, const struct quota_def *def);
int quota_parse(const char *s, unsigned int *ret);
int quota_show(const struct xsd_quota *q, bool soft, char *buf, size_t len,
	       uint32_t *ret_len);
int quota_report(struct xsd *xsd, unsigned int domid, char *buf, size_t len,
		 uint32_t *ret_len);

/* domain.c */
struct domain *domain_find(const struct xsd *xsd, unsigned int domid);
struct domain *domain_alloc(struct xsd *xsd, unsigned int domid);
bool domain_exists(const struct xsd *xsd, unsigned int domid);
bool domain_known(struct xsd *xsd, unsigned int domid);
void domain_forget(struct xsd *xsd, struct domain *d);
bool domid_unprivileged(unsigned int domid);
bool conn_unprivileged(const struct conn *c);
void domain_count_node(struct xsd *xsd, unsigned int owner, int delta);
int domain_introduce(struct xsd *xsd, unsigned int domid, struct conn *by);
int domain_introduce_port(struct xsd *xsd, unsigned int domid,
			  unsigned int port, struct conn *by);
int domain_release(struct xsd *xsd, unsigned int domid);
void domain_free_all(struct xsd *xsd);

/* watch.c */
int watch_add(struct conn *c, const char *path, const char *token,
	      bool relative);
int watch_remove(struct conn *c, const char *path, const char *token);
void watch_remove_all(struct conn *c);
void watch_fire(struct xsd *xsd, const char *path, const struct node *node,
		bool exact, const struct perms *oldperms);
void watch_fire_special(struct xsd *xsd, const char *name);
void windex_free(struct windex *w);

/* txn.c: a transaction sees the store through its own copies of every
 * node it touched (struct tnode); commit checks their generations. */
struct tnode {
	struct tnode *hnext;
	struct tnode *anext;		/* accessed order */
	uint32_t hash;
	uint32_t pathlen;
	char *path;
	uint64_t gen;			/* global generation at first access */
	struct node *node;		/* the transaction's version; NULL: absent */
	struct perms oldperms;		/* at first access, for the event filter */
	bool modified;
	bool fire;
	bool exact;
	size_t charged;			/* bytes charged to the domain */
};

struct txn {
	struct txn *next;
	struct conn *conn;
	uint32_t id;
	struct tnode **b;
	size_t nbuckets;
	size_t nnodes;
	struct tnode *acc_head, *acc_tail;
	bool failed;
	bool node_created;
	struct { unsigned int domid; int delta; } *doms;
	unsigned int ndoms;
	size_t charged;			/* all its tnodes' bytes */
};

struct txn *txn_find(struct conn *c, uint32_t id);
int txn_start(struct conn *c, uint32_t *ret_id);
int txn_end(struct conn *c, struct txn *t, bool commit);
void txn_abort_all(struct conn *c);
int txn_access(struct xsd *xsd, struct txn *t, const char *path, size_t len,
	       struct tnode **ret);
struct tnode *txn_tnode(struct txn *t, const char *path, size_t len);
void txn_count_node(struct txn *t, unsigned int domid, int delta);
int txn_charge(struct txn *t, struct tnode *tn);

/* The view a request has of the store: global, or a transaction's. */
struct op {
	struct xsd *xsd;
	struct conn *conn;
	struct txn *txn;
};

int op_lookup(struct op *op, const char *path, struct node **ret);
int op_modified(struct op *op, struct node *n);
int op_insert(struct op *op, struct node *n);
int op_remove(struct op *op, struct node *n);
void op_fire(struct op *op, const char *path, const struct node *n,
	     bool exact, const struct perms *oldperms);
void op_count_node(struct op *op, unsigned int owner, int delta);
void op_node_created(struct op *op);
void op_fail(struct op *op);
int op_size_check(struct op *op, uint32_t size);
int op_get_node(struct op *op, const char *arg, unsigned int perm,
		char *path, size_t pathlen, struct node **ret);
int store_create(struct op *op, const char *path, const void *data,
		 uint32_t len, struct node **ret);
int store_rm(struct op *op, const char *path);

/* wire.c */
void wire_process(struct conn *c);
const char *wire_type_name(uint32_t type);

/* conn.c */
struct conn *conn_new(struct xsd *xsd, int fd, struct domain *dom,
		      bool readonly);
void conn_close(struct conn *c);
void conn_free(struct conn *c);
int conn_feed(struct conn *c, const void *buf, size_t len, size_t *used);
int conn_reply(struct conn *c, uint32_t type, const void *data,
	       uint32_t len);
int conn_reply_error(struct conn *c, int err);
void conn_send_event(struct conn *c, const char *path, const char *token);
void conn_mark_dirty(struct conn *c);
bool conn_may_read(const struct conn *c);
void conn_drop_output(struct conn *c);
void conn_output_done(struct conn *c, size_t n);
void conn_unqueue(struct conn *c, struct outmsg *prev, struct outmsg *m);
void conn_charge_txn(struct conn *c, long bytes);
size_t conn_domain_memory(const struct domain *d);
const char *conn_implicit_path(const struct conn *c);
uint64_t xsd_now_ms(void);

/* io.c */
int io_listen(struct xsd *xsd);
int io_domain_listen(struct xsd *xsd, struct domain *d);
void io_domain_unlisten(struct xsd *xsd, struct domain *d);
int io_run(struct xsd *xsd);
void io_shutdown(struct xsd *xsd);
void io_flush(struct conn *c);
void io_update_events(struct conn *c);
int io_hv_add(struct xsd *xsd, int fd);
void io_access_log(struct conn *c, const char *dir, const struct xsd_sockmsg *h,
		   const char *payload);
void io_access_log_connect(struct conn *c);
void io_access_log_close(struct conn *c);

/* ring.c */
int ring_init(struct ring *r, struct xsd *xsd, struct domain *d, void *page,
	      void (*notify)(struct ring *r));
void ring_close(struct ring *r);
void ring_reset(struct ring *r);
void ring_event(struct ring *r);
void ring_flush(struct ring *r);

/* xen.c (only where Xen's libraries are): the Xen transport */
bool xen_present(void);
int xen_open(struct xsd *xsd);
void xen_close(struct xsd *xsd);

/* xsd lifetime (tree.c) */
void xsd_default_config(struct xsd_config *cfg);
struct xsd *xsd_new(const struct xsd_config *cfg);
void xsd_free(struct xsd *xsd);
int xsd_check(struct xsd *xsd);

#endif
