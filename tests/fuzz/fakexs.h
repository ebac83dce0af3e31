/* SPDX-License-Identifier: MIT */
/*
 * An in-memory xenstore for the fuzz targets, linked in place of
 * libxenstore's client calls (xs_read, xs_write, xs_directory, xs_rm,
 * xs_watch, transactions): one flat table of nodes, parents created on
 * write as xenstored does, and watch events queued in-process so a target
 * decides when a daemon sees them.  Transactions apply at once and always
 * commit; permissions are not modelled (a target writes only where the
 * party it plays may).  Tens of thousands of inputs a second, where a
 * real xpt-xenstored over a socket would give a few hundred.
 */
#ifndef XPT_FAKEXS_H
#define XPT_FAKEXS_H

#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

#define FAKEXS_MAX_NODES 512
#define FAKEXS_MAX_EVENTS 4096

/* Empty the store, the watches and the queued events; the handle to pass
 * as struct xs_handle *. */
struct xs_handle *fakexs_reset(void);
/* Remove everything, closing nothing: for the end of an input. */
void fakexs_clear(void);
/* Pop the oldest queued watch event: false when none is queued. */
bool fakexs_next_event(char *path, size_t plen, char *token, size_t tlen);
size_t fakexs_pending(void);
/* Shorthands for the targets' own writes (events fire as for anyone's). */
void fakexs_write(const char *path, const char *val);
void fakexs_write_bytes(const char *path, const void *val, size_t len);
bool fakexs_exists(const char *path);

#endif
