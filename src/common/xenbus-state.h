/* SPDX-License-Identifier: MIT */
/* The names of xenbus states, as <xen/io/xenbus.h> spells them. */
#ifndef XPT_XENBUS_STATE_H
#define XPT_XENBUS_STATE_H

/* "Unknown" (0) .. "Reconfigured" (8); NULL for any other number, which
 * each caller words for its reader ("invalid", "missing", "?"). */
const char *xenbus_state_name(int state);

#endif
