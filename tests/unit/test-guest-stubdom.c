// SPDX-License-Identifier: MIT
/*
 * A stub domain's init: which dm-argv it accepts from the toolstack
 * before it starts the device model (stubdom_check_keys for the key
 * names, stubdom_check_argv for the values).  Reading them
 * from xenstore as the stub, and the start itself, are in tests/e2e/stubdom.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "guest.h"
#include "parse.h"

#define N(a) (unsigned int)(sizeof(a) / sizeof((a)[0]))

static int check(const char *const *argv, unsigned int argc, char *err)
{
	return stubdom_check_argv(argv, argc, 5, err, 160);
}

static void test_accepted(void **state)
{
	static const char *const libxl[] = {
		"-xen-domid", "5", "-nodefaults", "-no-shutdown",
		"-machine", "xenfv", "-name", "hvm-guest", "-display", "none",
		"-no-user-config", "-nographic", "-m", "1024", "-smp", "2",
	};
	char err[160] = "";

	(void)state;
	assert_int_equal(check(libxl, N(libxl), err), 0);
}

static void test_refused(void **state)
{
	static const char *const chardev[] = {
		"-xen-domid", "5", "-chardev", "socket,id=x,path=/tmp/evil",
	};
	static const char *const rundir[] = {
		"-xen-domid", "5", "--rundir", "/tmp/other",
	};
	static const char *const dmdomid[] = {
		"-xen-domid", "5", "--dm-domid", "0",
	};
	static const char *const paused[] = { "-xen-domid", "5", "-S" };
	static const char *const other[] = { "-xen-domid", "6" };
	static const char *const nodomid[] = { "-nodefaults" };
	static const char *const junk[] = { "-xen-domid", "5x" };
	static const char *const novalue[] = { "-xen-domid", "5", "-name" };
	static const char *const ctl[] = { "-xen-domid", "5", "-name", "a\nb" };
	static const char *const empty[] = { "-xen-domid", "5", "" };
	char err[160];

	(void)state;
	assert_int_equal(check(chardev, N(chardev), err), -EPERM);
	assert_non_null(strstr(err, "003 '-chardev' is not allowed"));
	assert_int_equal(check(rundir, N(rundir), err), -EPERM);
	assert_int_equal(check(dmdomid, N(dmdomid), err), -EPERM);
	assert_int_equal(check(paused, N(paused), err), -EINVAL);
	assert_non_null(strstr(err, "'-S'"));
	assert_int_equal(check(other, N(other), err), -EINVAL);
	assert_non_null(strstr(err, "not this stub's target 5"));
	assert_int_equal(check(nodomid, N(nodomid), err), -EINVAL);
	assert_int_equal(check(junk, N(junk), err), -EINVAL);
	assert_int_equal(check(novalue, N(novalue), err), -EINVAL);
	assert_int_equal(check(ctl, N(ctl), err), -EINVAL);
	assert_int_equal(check(empty, N(empty), err), -EINVAL);
	assert_int_equal(check(NULL, 0, err), -EINVAL);
}

/* An argument's length counts for option values too. */
static void test_long_value(void **state)
{
	static char name[STUBDOM_MAX_ARG_LEN + 2];
	const char *const argv[] = { "-xen-domid", "5", "-name", name };
	char err[160];

	(void)state;
	memset(name, 'x', STUBDOM_MAX_ARG_LEN);
	assert_int_equal(check(argv, N(argv), err), 0);
	name[STUBDOM_MAX_ARG_LEN] = 'x';
	assert_int_equal(check(argv, N(argv), err), -EINVAL);
	assert_non_null(strstr(err, "004 is longer than 255"));
}

static int keys(const char *const *names, unsigned int n)
{
	char err[80];

	return stubdom_check_keys(names, n, err, sizeof(err));
}

static void test_keys(void **state)
{
	static const char *const good[] = { "002", "001", "003" };
	static const char *const gap[] = { "001", "003" };
	static const char *const twice[] = { "001", "001" };
	static const char *const zero[] = { "000", "001" };
	static const char *const short_[] = { "1" };
	static const char *const sign[] = { "+01" };
	/* found by fuzz-stubdom: strtoul skips a leading \f or \t, and
	 * parse_ulong took these as 1 */
	static const char *const formfeed[] = { "\f01" };
	static const char *const tab[] = { "\t01" };
	const char *many[STUBDOM_MAX_ARGS + 1];
	unsigned long v;

	(void)state;
	assert_int_equal(keys(good, N(good)), 0);
	assert_int_equal(keys(gap, N(gap)), -EINVAL);
	assert_int_equal(keys(twice, N(twice)), -EINVAL);
	assert_int_equal(keys(zero, N(zero)), -EINVAL);
	assert_int_equal(keys(short_, N(short_)), -EINVAL);
	assert_int_equal(keys(sign, N(sign)), -EINVAL);
	assert_int_equal(keys(formfeed, N(formfeed)), -EINVAL);
	assert_int_equal(keys(tab, N(tab)), -EINVAL);
	assert_int_equal(keys(NULL, 0), -EINVAL);
	memset(many, 0, sizeof(many));
	assert_int_equal(keys(many, STUBDOM_MAX_ARGS + 1), -EINVAL);
	/* the same for every number parse_ulong reads: a target, a domid */
	assert_int_equal(parse_ulong("\t5", 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("\n5", 100, &v), -EINVAL);
	assert_int_equal(parse_ulong(" 5", 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("", 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("05", 100, &v), 0);
	assert_int_equal(v, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
