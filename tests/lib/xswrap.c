// SPDX-License-Identifier: MIT
/* libxenstore's calls through a fault countdown: see xswrap.h. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

#include "xswrap.h"

#define XS_REAL(ret, name, ...) \
	ret __real_##name(__VA_ARGS__); ret __wrap_##name(__VA_ARGS__)

XS_REAL(struct xs_handle *, xs_open, unsigned long flags);
XS_REAL(void *, xs_read, struct xs_handle *h, xs_transaction_t t,
	const char *path, unsigned int *len);
XS_REAL(bool, xs_write, struct xs_handle *h, xs_transaction_t t,
	const char *path, const void *data, unsigned int len);
XS_REAL(bool, xs_mkdir, struct xs_handle *h, xs_transaction_t t,
	const char *path);
XS_REAL(bool, xs_rm, struct xs_handle *h, xs_transaction_t t,
	const char *path);
XS_REAL(char **, xs_directory, struct xs_handle *h, xs_transaction_t t,
	const char *path, unsigned int *num);
XS_REAL(struct xs_permissions *, xs_get_permissions, struct xs_handle *h,
	xs_transaction_t t, const char *path, unsigned int *num);
XS_REAL(bool, xs_set_permissions, struct xs_handle *h, xs_transaction_t t,
	const char *path, struct xs_permissions *perms,
	unsigned int num_perms);
XS_REAL(bool, xs_watch, struct xs_handle *h, const char *path,
	const char *token);
XS_REAL(bool, xs_unwatch, struct xs_handle *h, const char *path,
	const char *token);
XS_REAL(char **, xs_check_watch, struct xs_handle *h);
XS_REAL(xs_transaction_t, xs_transaction_start, struct xs_handle *h);
XS_REAL(bool, xs_transaction_end, struct xs_handle *h, xs_transaction_t t,
	bool abort);
XS_REAL(bool, xs_introduce_domain, struct xs_handle *h, unsigned int domid,
	unsigned long mfn, unsigned int eventchn);
XS_REAL(bool, xs_release_domain, struct xs_handle *h, unsigned int domid);
XS_REAL(bool, xs_is_domain_introduced, struct xs_handle *h,
	unsigned int domid);
XS_REAL(bool, xs_set_target, struct xs_handle *h, unsigned int domid,
	unsigned int target);

/* The call what is the one to fail: errno set, true. */
static bool fails(const char *what)
{
	if (!xswrap_fails(what))
		return false;
	errno = EIO;
	return true;
}

struct xs_handle *__wrap_xs_open(unsigned long flags)
{
	return fails("xs_open") ? NULL : __real_xs_open(flags);
}

void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t,
		     const char *path, unsigned int *len)
{
	return fails("xs_read") ? NULL : __real_xs_read(h, t, path, len);
}

bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t,
		     const char *path, const void *data, unsigned int len)
{
	return !fails("xs_write") && __real_xs_write(h, t, path, data, len);
}

bool __wrap_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
		     const char *path)
{
	return !fails("xs_mkdir") && __real_xs_mkdir(h, t, path);
}

bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return !fails("xs_rm") && __real_xs_rm(h, t, path);
}

char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t,
			   const char *path, unsigned int *num)
{
	return fails("xs_directory") ? NULL :
	       __real_xs_directory(h, t, path, num);
}

struct xs_permissions *__wrap_xs_get_permissions(struct xs_handle *h,
						 xs_transaction_t t,
						 const char *path,
						 unsigned int *num)
{
	return fails("xs_get_permissions") ? NULL :
	       __real_xs_get_permissions(h, t, path, num);
}

bool __wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			       const char *path, struct xs_permissions *perms,
			       unsigned int num_perms)
{
	return !fails("xs_set_permissions") &&
	       __real_xs_set_permissions(h, t, path, perms, num_perms);
}

bool __wrap_xs_watch(struct xs_handle *h, const char *path,
		     const char *token)
{
	return !fails("xs_watch") && __real_xs_watch(h, path, token);
}

bool __wrap_xs_unwatch(struct xs_handle *h, const char *path,
		       const char *token)
{
	return !fails("xs_unwatch") && __real_xs_unwatch(h, path, token);
}

char **__wrap_xs_check_watch(struct xs_handle *h)
{
	return fails("xs_check_watch") ? NULL : __real_xs_check_watch(h);
}

xs_transaction_t __wrap_xs_transaction_start(struct xs_handle *h)
{
	return fails("xs_transaction_start") ? XBT_NULL :
	       __real_xs_transaction_start(h);
}

bool __wrap_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
			       bool abort)
{
	int e = xswrap_end_fails(abort);

	if (!e)
		return __real_xs_transaction_end(h, t, abort);
	__real_xs_transaction_end(h, t, true);
	errno = e;
	return false;
}

bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
				unsigned long mfn, unsigned int eventchn)
{
	return !fails("xs_introduce_domain") &&
	       __real_xs_introduce_domain(h, domid, mfn, eventchn);
}

bool __wrap_xs_release_domain(struct xs_handle *h, unsigned int domid)
{
	return !fails("xs_release_domain") &&
	       __real_xs_release_domain(h, domid);
}

bool __wrap_xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	return !fails("xs_is_domain_introduced") &&
	       __real_xs_is_domain_introduced(h, domid);
}

bool __wrap_xs_set_target(struct xs_handle *h, unsigned int domid,
			  unsigned int target)
{
	return !fails("xs_set_target") &&
	       __real_xs_set_target(h, domid, target);
}
