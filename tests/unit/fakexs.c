// SPDX-License-Identifier: MIT
/*
 * Every libxenstore call libxpt makes, counted in fakeplatform.c's
 * countdown with the platform calls: tests/lib/xswrap.c routes libxpt's
 * calls (and the fake's own xs_introduce_domain) here first.  The call
 * the countdown picks fails as a store that answered with an error does:
 * nothing done, errno EIO (fake.fail_errno may make a commit fail with
 * EAGAIN instead, a conflict: the transaction is aborted, as xenstored
 * does).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fakeplatform.h"
#include "xswrap.h"

bool xswrap_fails(const char *what)
{
	if (fake_fault(what, true))
		return true;
	if (!strcmp(what, "xs_release_domain"))
		fake.releases++;	/* sent to the store */
	return false;
}

int xswrap_end_fails(bool abort)
{
	if (!fake_fault(abort ? "xs_transaction_end(abort)" :
			"xs_transaction_end", true))
		return 0;
	return !abort && fake.fail_errno ? fake.fail_errno : EIO;
}
