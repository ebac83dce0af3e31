// SPDX-License-Identifier: MIT
/*
 * `xpt guest-status --json` (src/xpt/listing.c) on guests' replies as
 * xpt-guest(8) gives them (PV, HVM, PVH, a stub domain) and on replies a
 * broken or hostile guest could give: every one of those fails with exit
 * status 1 and prints no JSON, never a crash or a half object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

/* The JSON for reply (malloc'ed), and the exit code. */
static int run(const char *reply, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len), *err = fopen("/dev/null", "we");
	int r;

	assert_non_null(f);
	assert_non_null(err);
	r = cli_guest_status_json(f, err, 7, reply);
	fclose(err);
	fclose(f);
	*ret = buf;
	return r;
}

static void has(const char *json, const char *what)
{
	if (!strstr(json, what))
		fail_msg("'%s' not in %s", what, json);
}

static void pv_guest(void **state)
{
	char *j;

	(void)state;
	assert_int_equal(run("state frontend=4 backend=4\n"
			     "dev 0000:00:00.0 host=0000:04:00.0 vendor=0x8086 "
			     "device=0x1533 class=0x020000 driver=bound "
			     "irq=msix vectors=3 count=7 counts=5,1,1\n", &j), 0);
	has(j, "\"domid\": 7");
	has(j, "\"type\": \"pv\"");
	has(j, "\"frontend_state\": 4");
	has(j, "\"stubdom\": null");
	has(j, "\"host\": \"0000:04:00.0\"");
	has(j, "\"vendor\": 32902");
	has(j, "\"class\": 131072");
	has(j, "\"count\": 7");
	has(j, "\"mmio\": null");
	free(j);
}

static void hvm_pvh_and_stub(void **state)
{
	char *j;

	(void)state;
	assert_int_equal(run("state frontend=0 backend=0 hvm\n"
			     "dev 0000:00:05.0 host=? vendor=0x8086 device=0x10d3 "
			     "class=0x020000 driver=none irq=none vectors=0 "
			     "count=0 counts=\n", &j), 0);
	has(j, "\"type\": \"hvm\"");
	has(j, "\"host\": null");
	has(j, "\"counts\": [");
	free(j);
	assert_int_equal(run("state frontend=0 backend=0 pvh\n"
			     "dev 0000:00:01.0 host=? vendor=0x1af4 device=0x1041 "
			     "class=0x020000 driver=bound irq=none vectors=0 "
			     "count=0 counts= mmio=0xe0000000:0x10411af4\n",
			     &j), 0);
	has(j, "\"type\": \"pvh\"");
	has(j, "\"addr\": 3758096384");
	has(j, "\"value\": 272702196");
	free(j);
	assert_int_equal(run("state frontend=4 backend=4 stubdom target=3 "
			     "dm=running dm-pid=1234\n", &j), 0);
	has(j, "\"target\": 3");
	has(j, "\"dm\": \"running\"");
	has(j, "\"dm_pid\": 1234");
	has(j, "\"dm_status\": null");
	has(j, "\"devices\": [");
	free(j);
}

static void broken_replies(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"dev 0000:00:00.0 vendor=1\n",		/* before the state */
		"state backend=4\n",			/* no frontend */
		"state frontend=x backend=4\n",
		"state frontend=-1 backend=4\n",
		"state frontend=99999999999999999999 backend=4\n",
		"state frontend=4 backend=4\nstate frontend=4 backend=4\n",
		"state frontend=4 backend=4\ndev\n",
		"state frontend=4 backend=4\ndev 0000:00:00.0 vendor=0x8086\n",
		"state frontend=4 backend=4\ndev 0000:00:00.0 host=? "
		"vendor=0x8086 device=1 class=1 driver=none irq=none "
		"vectors=1 count=1 counts=1,x\n",
		"state frontend=4 backend=4\ndev 0000:00:00.0 host=? "
		"vendor=0x8086 device=1 class=1 driver=none irq=none "
		"vectors=1 count=1 counts=1 mmio=0x10\n",
		"state frontend=4 backend=4\nerror EIO nope\n",
		/* bytes that are not printable ASCII (found by fuzz-gstatus:
		 * they made the JSON invalid UTF-8) */
		"state frontend=4 backend=4\ndev 0000:\xd0\xcf\xc5\xcf" "1.0 "
		"host=? vendor=1 device=1 class=1 driver=none irq=none "
		"vectors=0 count=0 counts=\n",
		"state frontend=4 backend=4 \x1b[2J\n",
	};
	size_t i;
	char *j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (run(bad[i], &j) != 1 || j[0])
			fail_msg("reply %zu '%s' gave '%s'", i, bad[i], j);
		free(j);
	}
}

/* Lines longer than any buffer, and more words than a line may have. */
static void oversized(void **state)
{
	size_t n = 200000, i;
	char *big = malloc(n + 64), *j;

	(void)state;
	assert_non_null(big);
	strcpy(big, "state frontend=4 backend=4 ");
	for (i = strlen(big); i < n; i++)
		big[i] = i % 7 ? 'a' : ' ';
	strcpy(big + n, "\n");
	assert_int_equal(run(big, &j), 0);	/* unknown words: left out */
	free(j);
	strcpy(big, "state frontend=4 backend=4\ndev 0000:00:00.0 host=? "
	       "vendor=1 device=1 class=1 driver=none irq=none vectors=1 "
	       "count=1 counts=");
	for (i = strlen(big); i < n; i++)
		big[i] = i % 2 ? '1' : ',';
	strcpy(big + n, "\n");
	assert_int_equal(run(big, &j), 0);
	free(j);
	free(big);
}

/* The text: what a guest sends reaches the terminal printable. */
static void text_is_printable(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	cli_guest_status_text(f, "state frontend=4 backend=4\n"
			      "dev \x1b]0;owned\x07 \xff\tx\n");
	fclose(f);
	assert_string_equal(buf, "state frontend=4 backend=4\n"
			    "dev ?]0;owned? ??x\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_is_printable),
		cmocka_unit_test(pv_guest),
		cmocka_unit_test(hvm_pvh_and_stub),
		cmocka_unit_test(broken_replies),
		cmocka_unit_test(oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
