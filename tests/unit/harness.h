/* SPDX-License-Identifier: MIT */
/*
 * Unit-test harness: the store runs in-process, connections have no fd, and
 * requests are raw protocol bytes fed through conn_feed().  Replies and
 * watch events are taken off the connection's output queue.
 *
 * Conventions: helpers returning int give 0 or a negative errno decoded
 * from an XS_ERROR reply; helpers returning strings give the value, or
 * "!ENAME" for an error reply, so one assert_string_equal checks both.
 * Every call asserts that exactly one reply came back, echoing req_id and
 * tx_id, and of the request's type or XS_ERROR.
 */
#ifndef XPT_UNIT_HARNESS_H
#define XPT_UNIT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xenstored.h"

struct h_msg {
	uint32_t type, req_id, tx_id, len;
	bool event;
	char data[XENSTORE_PAYLOAD_MAX + 1];	/* always nul-terminated */
};

/* Store lifetime. */
struct xsd *h_new(void);			/* default quotas */
struct xsd *h_new_cfg(const struct xsd_config *cfg);
void h_free(struct xsd *x);			/* checks the tree, frees */

/* Connections: privileged dom0, or domain `domid` (introduced if needed). */
struct conn *h_dom0(struct xsd *x);
struct conn *h_dom(struct xsd *x, unsigned int domid);
void h_introduce(struct xsd *x, unsigned int domid);

/* Raw protocol. */
void h_send(struct conn *c, uint32_t type, uint32_t tx, const void *p,
	    uint32_t len);
bool h_pop(struct conn *c, struct h_msg *m);	/* next queued message */
int h_errno_of(const struct h_msg *m);		/* 0 unless XS_ERROR */
/* Send, take the one reply (events stay queued); 0 or -errno. */
int h_call(struct conn *c, uint32_t type, uint32_t tx, const void *p,
	   uint32_t len, struct h_msg *ret);
/* Same, payload = the NULL-terminated strings, each with its nul. */
int h_callv(struct conn *c, uint32_t type, uint32_t tx, struct h_msg *ret,
	    ...);
int h_callv_ap(struct conn *c, uint32_t type, uint32_t tx,
	       struct h_msg *ret, va_list ap);
/* A call whose reply must be "OK\0" when it succeeds. */
int h_okv(struct conn *c, uint32_t type, uint32_t tx, ...);

/* Operations. */
int h_write(struct conn *c, uint32_t tx, const char *path, const char *val);
int h_writen(struct conn *c, uint32_t tx, const char *path, const void *val,
	     uint32_t len);
int h_mkdir(struct conn *c, uint32_t tx, const char *path);
int h_rm(struct conn *c, uint32_t tx, const char *path);
int h_watch(struct conn *c, const char *path, const char *token);
int h_unwatch(struct conn *c, const char *path, const char *token);
/* SET_PERMS with perms "n0,r5" (comma-separated entries). */
int h_setperms(struct conn *c, uint32_t tx, const char *path,
	       const char *perms);
int h_tstart(struct conn *c, uint32_t *ret_id);
int h_tend(struct conn *c, uint32_t tx, bool commit);

/* String results (a small ring of static buffers; "!ENAME" on error). */
const char *h_read(struct conn *c, uint32_t tx, const char *path);
const char *h_dir(struct conn *c, uint32_t tx, const char *path);  /* a,b */
const char *h_perms(struct conn *c, uint32_t tx, const char *path); /* n0,r5 */

/* Events: "path token" of the first queued event (removed), or NULL. */
const char *h_event(struct conn *c);
void h_no_event(struct conn *c);		/* asserts none queued */
void h_drain(struct conn *c);			/* drops queued events */
unsigned int h_event_count(struct conn *c);

/* Invariants of the whole store (children/parents/node counts). */
void h_check_tree(struct xsd *x);
int h_tree_problems(struct xsd *x, char *why, size_t len);
unsigned int h_count_owned(struct xsd *x, unsigned int domid);

const char *h_errname(int err);

#endif
