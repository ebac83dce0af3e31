// SPDX-License-Identifier: MIT
/*
 * An HVM guest's device model starting (src/libxpt/dm.c), with the real
 * xpt-dm and with device models that misbehave (fake-dm.py): ready only
 * on QMP "prelaunch"; one that dies, exits 0, never greets, speaks
 * garbage, already runs or only writes a wrong state node fails the
 * start (at once when it dies, at the bound otherwise) and leaves no
 * process, no socket and no node behind; a slow greeting is waited for.
 * The failure paths of the device-model startup protocol
 * (docs/protocol.md §10).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakeplatform.h"

static const char *xenstored, *xpt_dm, *fake_dm;

struct dmcase {
	const char *mode;	/* $XPT_FAKE_DM, NULL: the real xpt-dm */
	int want;		/* xpt_dm_start's result */
	int max_ms;		/* it must return within this */
};

/* Nothing of the device model is left: its pid node, its state dir,
 * its socket, its process. */
static void nothing_left(struct xpt_ctx *c, unsigned int domid, int pid)
{
	char path[256];

	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", domid);
	assert_false(xpt_xs_exists(c, XBT_NULL, path));
	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid",
		 domid);
	assert_null(xpt_xs_read(c, XBT_NULL, path));
	assert_int_equal(xpt_dm_qmp_path(c, domid, path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	if (pid > 0)
		assert_false(xpt_pid_alive(pid, path));
}

static void run_case(const struct dmcase *k, unsigned int domid)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_qmp *q = NULL;
	char path[96];
	int64_t t0;
	int r, pid = -1;

	assert_non_null(c);
	assert_int_equal(xpt_connect(c), 0);
	if (k->mode)
		setenv("XPT_FAKE_DM", k->mode, 1);
	t0 = xpt_now_ms();
	r = xpt_dm_start(c, domid, k->mode ? fake_dm : xpt_dm, 2500, &q);
	if (r != k->want)
		fail_msg("%s: start %d, wanted %d: %s", k->mode ? k->mode :
			 "xpt-dm", r, k->want, xpt_ctx_error(c));
	if (xpt_now_ms() - t0 > k->max_ms)
		fail_msg("%s: took %lld ms, bound %d", k->mode ? k->mode :
			 "xpt-dm", (long long)(xpt_now_ms() - t0), k->max_ms);
	if (r == 0) {
		char *ret = NULL, err[128];

		assert_non_null(q);
		/* ready means paused: the guest has not run */
		assert_int_equal(xpt_qmp_exec(q, "query-status", NULL, 2000,
					      &ret, err, sizeof(err)), 0);
		assert_non_null(strstr(ret, "prelaunch"));
		free(ret);
		snprintf(path, sizeof(path),
			 "/local/domain/%u/image/device-model-pid", domid);
		assert_int_equal(xpt_xs_read_int(c, XBT_NULL, path, &pid), 0);
		xpt_qmp_close(q);
		xpt_dm_kill(c, domid);
	} else {
		assert_null(q);
		assert_non_null(strstr(xpt_ctx_error(c), "device model"));
	}
	nothing_left(c, domid, pid);
	unsetenv("XPT_FAKE_DM");
	xpt_ctx_close(c);
}

static void test_dm_startup(void **state)
{
	static const struct dmcase cases[] = {
		{ NULL, 0, 2000 },			/* xpt-dm: ready */
		{ "slow-greet", 0, 2500 },		/* waited for */
		{ "exit3", -ECHILD, 1500 },		/* at once */
		{ "exit0", -ECHILD, 1500 },
		{ "running", -EBUSY, 1500 },		/* not paused */
		{ "garbage", -EPROTO, 2000 },
		{ "silent", -ETIMEDOUT, 4000 },		/* bounded */
		{ "paused-node", -ETIMEDOUT, 4000 },	/* ignored */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], 40 + (unsigned int)i);
}

/* The platform cannot start one: a clear refusal, nothing started. */
static void test_dm_no_platform(void **state)
{
	struct xpt_platform pf = fake_platform;
	struct xpt_ctx *c = fake_ctx();
	struct xpt_qmp *q = NULL;

	(void)state;
	pf.dm_spawn = NULL;
	c->pf = &pf;
	assert_int_equal(xpt_connect(c), 0);
	assert_int_equal(xpt_dm_start(c, 60, xpt_dm, 1000, &q), -EOPNOTSUPP);
	assert_non_null(strstr(xpt_ctx_error(c), "cannot start on the fake "
				"platform"));
	nothing_left(c, 60, -1);
	xpt_ctx_close(c);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	fake_reset();
	return fake_start_xenstored(xenstored);
}

static int teardown(void **state)
{
	(void)state;
	fake_stop_xenstored();
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dm_startup),
		cmocka_unit_test(test_dm_no_platform),
	};

	if (argc < 4) {
		fprintf(stderr, "usage: %s XPT-XENSTORED XPT-DM FAKE-DM\n",
			argv[0]);
		return 2;
	}
	xenstored = argv[1];
	xpt_dm = argv[2];
	fake_dm = argv[3];
	return cmocka_run_group_tests(tests, setup, teardown);
}
