// SPDX-License-Identifier: MIT
/*
 * Every libxenstore call libxpt makes, through a fault countdown: an
 * executable linked with xswrap.c and tests/lib/meson.build's
 * xswrap_link_args (-Wl,--wrap=xs_read,...) has its calls come to
 * xswrap.c, which asks its user's xswrap_fails() first and otherwise
 * calls libxenstore's (__real_xs_*).  A call picked to fail does nothing
 * and fails as a store that answered with an error does (errno EIO).
 *
 * Not wrapped: xs_fileno (an accessor of the connection, no request; a
 * failure would only turn an event-driven wait into its timeout) and
 * xs_close (cannot fail).
 *
 * Users: tests/unit/fakexs.c (fakeplatform.c's countdown) and
 * tests/toolstack/faultxpt.c (xpt-faulty).
 */
#ifndef XPT_TESTS_XSWRAP_H
#define XPT_TESTS_XSWRAP_H

#include <stdbool.h>

/* The user's: count the call named what ("xs_read", ...); true to fail
 * it. */
bool xswrap_fails(const char *what);

/* The user's, for xs_transaction_end: 0 to end the transaction as asked,
 * else the errno the call fails with (EIO; EAGAIN for a commit that
 * conflicts).  A failed end still ends the transaction in the store, as
 * an abort: a conflict aborts it, as xenstored does, and the store's
 * per-connection quota of transactions would otherwise fill up. */
int xswrap_end_fails(bool abort);

#endif
