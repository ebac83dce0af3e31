// SPDX-License-Identifier: MIT
/*
 * Every libxenstore call libxpt makes, counted in fakeplatform.c's
 * countdown with the platform calls: the executable is linked with
 * -Wl,--wrap=xs_read,... (tests/unit/meson.build), so libxpt's calls (and
 * the fake's own xs_introduce_domain) come here, and __real_xs_* is
 * libxenstore's.  The call the countdown picks fails as a store that
 * answered with an error does: nothing done, errno EIO (fake.fail_errno
 * may make a commit fail with EAGAIN instead, a conflict: the transaction
 * is aborted, as xenstored does).  A transaction end that fails still
 * ends the transaction in the store, whose per-connection quota would
 * otherwise fill up.
 *
 * Not counted: xs_fileno (an accessor of the connection, no request; a
 * failure would only turn an event-driven wait into its timeout) and
 * xs_close (cannot fail).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

#include "fakeplatform.h"

struct xs_handle *__real_xs_open(unsigned long flags);
void *__real_xs_read(struct xs_handle *h, xs_transaction_t t,
		     const char *path, unsigned int *len);
bool __real_xs_write(struct xs_handle *h, xs_transaction_t t,
		     const char *path, const void *data, unsigned int len);
bool __real_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
		     const char *path);
bool __real_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);
char **__real_xs_directory(struct xs_handle *h, xs_transaction_t t,
			   const char *path, unsigned int *num);
struct xs_permissions *__real_xs_get_permissions(struct xs_handle *h,
						 xs_transaction_t t,
						 const char *path,
						 unsigned int *num);
bool __real_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			       const char *path, struct xs_permissions *perms,
			       unsigned int num_perms);
bool __real_xs_watch(struct xs_handle *h, const char *path,
		     const char *token);
bool __real_xs_unwatch(struct xs_handle *h, const char *path,
		       const char *token);
char **__real_xs_check_watch(struct xs_handle *h);
xs_transaction_t __real_xs_transaction_start(struct xs_handle *h);
bool __real_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
			       bool abort);
bool __real_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
				unsigned long mfn, unsigned int eventchn);
bool __real_xs_release_domain(struct xs_handle *h, unsigned int domid);
bool __real_xs_is_domain_introduced(struct xs_handle *h, unsigned int domid);
bool __real_xs_set_target(struct xs_handle *h, unsigned int domid,
			  unsigned int target);

struct xs_handle *__wrap_xs_open(unsigned long flags);
void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t,
		     const char *path, unsigned int *len);
bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t,
		     const char *path, const void *data, unsigned int len);
bool __wrap_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
		     const char *path);
bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);
char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t,
			   const char *path, unsigned int *num);
struct xs_permissions *__wrap_xs_get_permissions(struct xs_handle *h,
						 xs_transaction_t t,
						 const char *path,
						 unsigned int *num);
bool __wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			       const char *path, struct xs_permissions *perms,
			       unsigned int num_perms);
bool __wrap_xs_watch(struct xs_handle *h, const char *path,
		     const char *token);
bool __wrap_xs_unwatch(struct xs_handle *h, const char *path,
		       const char *token);
char **__wrap_xs_check_watch(struct xs_handle *h);
xs_transaction_t __wrap_xs_transaction_start(struct xs_handle *h);
bool __wrap_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
			       bool abort);
bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
				unsigned long mfn, unsigned int eventchn);
bool __wrap_xs_release_domain(struct xs_handle *h, unsigned int domid);
bool __wrap_xs_is_domain_introduced(struct xs_handle *h, unsigned int domid);
bool __wrap_xs_set_target(struct xs_handle *h, unsigned int domid,
			  unsigned int target);

/* The call what is the one to fail: errno set, true. */
static bool xs_fails(const char *what)
{
	if (!fake_fault(what, true))
		return false;
	errno = EIO;
	return true;
}

struct xs_handle *__wrap_xs_open(unsigned long flags)
{
	return xs_fails("xs_open") ? NULL : __real_xs_open(flags);
}

void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t,
		     const char *path, unsigned int *len)
{
	return xs_fails("xs_read") ? NULL : __real_xs_read(h, t, path, len);
}

bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t,
		     const char *path, const void *data, unsigned int len)
{
	return !xs_fails("xs_write") && __real_xs_write(h, t, path, data, len);
}

bool __wrap_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
		     const char *path)
{
	return !xs_fails("xs_mkdir") && __real_xs_mkdir(h, t, path);
}

bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return !xs_fails("xs_rm") && __real_xs_rm(h, t, path);
}

char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t,
			   const char *path, unsigned int *num)
{
	return xs_fails("xs_directory") ? NULL :
	       __real_xs_directory(h, t, path, num);
}

struct xs_permissions *__wrap_xs_get_permissions(struct xs_handle *h,
						 xs_transaction_t t,
						 const char *path,
						 unsigned int *num)
{
	return xs_fails("xs_get_permissions") ? NULL :
	       __real_xs_get_permissions(h, t, path, num);
}

bool __wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			       const char *path, struct xs_permissions *perms,
			       unsigned int num_perms)
{
	return !xs_fails("xs_set_permissions") &&
	       __real_xs_set_permissions(h, t, path, perms, num_perms);
}

bool __wrap_xs_watch(struct xs_handle *h, const char *path,
		     const char *token)
{
	return !xs_fails("xs_watch") && __real_xs_watch(h, path, token);
}

bool __wrap_xs_unwatch(struct xs_handle *h, const char *path,
		       const char *token)
{
	return !xs_fails("xs_unwatch") && __real_xs_unwatch(h, path, token);
}

char **__wrap_xs_check_watch(struct xs_handle *h)
{
	return xs_fails("xs_check_watch") ? NULL : __real_xs_check_watch(h);
}

xs_transaction_t __wrap_xs_transaction_start(struct xs_handle *h)
{
	return xs_fails("xs_transaction_start") ? XBT_NULL :
	       __real_xs_transaction_start(h);
}

bool __wrap_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
			       bool abort)
{
	int e = fake.fail_errno;

	if (!fake_fault(abort ? "xs_transaction_end(abort)" :
			"xs_transaction_end", true))
		return __real_xs_transaction_end(h, t, abort);
	__real_xs_transaction_end(h, t, true);
	errno = !abort && e ? e : EIO;
	return false;
}

bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
				unsigned long mfn, unsigned int eventchn)
{
	return !xs_fails("xs_introduce_domain") &&
	       __real_xs_introduce_domain(h, domid, mfn, eventchn);
}

bool __wrap_xs_release_domain(struct xs_handle *h, unsigned int domid)
{
	if (xs_fails("xs_release_domain"))
		return false;
	fake.releases++;
	return __real_xs_release_domain(h, domid);
}

bool __wrap_xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	return !xs_fails("xs_is_domain_introduced") &&
	       __real_xs_is_domain_introduced(h, domid);
}

bool __wrap_xs_set_target(struct xs_handle *h, unsigned int domid,
			  unsigned int target)
{
	return !xs_fails("xs_set_target") &&
	       __real_xs_set_target(h, domid, target);
}
