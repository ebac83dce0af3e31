// SPDX-License-Identifier: MIT
/*
 * xpt-dm in a stub domain reading its host devices' config space through
 * the stub's query socket (src/dm/hostdev.c): the replies it takes and
 * the ones it refuses, each over a socketpair standing for the socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

#define SBDF HV_SBDF(0, 3, 0, 0)

/* conf-read of size bytes answered with reply: its result and value. */
static int conf_read(const char *reply, uint32_t size, uint32_t *ret)
{
	struct dm d = { .domid = 7, .front_fd = -1 };
	char req[128];
	ssize_t n;
	int sv[2], r;

	snprintf(d.front_path, sizeof(d.front_path), "/nonexistent/front");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], reply, strlen(reply)),
			 (ssize_t)strlen(reply));
	shutdown(sv[1], SHUT_WR);
	d.front_fd = sv[0];
	r = hostdev_conf_read(&d, SBDF, 0x40, size, ret);
	n = read(sv[1], req, sizeof(req) - 1);
	assert_true(n > 0);
	req[n] = '\0';
	assert_string_equal(req, size == 1 ? "conf-read 0000:03:00.0 0x40 1\n" :
			    size == 2 ? "conf-read 0000:03:00.0 0x40 2\n" :
			    "conf-read 0000:03:00.0 0x40 4\n");
	hostdev_close(&d);
	close(sv[1]);
	return r;
}

static void test_value(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(conf_read("value 0x15728086\nend\n", 4, &v), 0);
	assert_int_equal(v, 0x15728086);
	assert_int_equal(conf_read("value 0xff\nend\n", 1, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(conf_read("value 12\nend\n", 2, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(conf_read("error EIO conf-read: pci_op: "
				   "XEN_PCI_ERR_invalid_offset\nend\n", 4, &v),
			 -EIO);
	/* no "end": the stub went away (and is not there to reconnect) */
	assert_true(conf_read("value 0x1\n", 4, &v) < 0);
}

/* Replies a stub's kernel never sends for a sysfs read: refused, not
 * taken as some value. */
static void test_bad_value(void **state)
{
	char longline[400];
	uint32_t v = 0x5a5a;

	(void)state;
	assert_int_equal(conf_read("value \nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value 0x\nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value 0x100\nend\n", 1, &v), -EIO);
	assert_int_equal(conf_read("value 0x10000\nend\n", 2, &v), -EIO);
	assert_int_equal(conf_read("value 0x100000000\nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value  5\nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value +5\nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value -0\nend\n", 4, &v), -EIO);
	assert_int_equal(conf_read("value 0x0x5\nend\n", 4, &v), -EIO);
	/* a first line longer than the device model keeps: cut short,
	 * "value 0x000...01" would read as 0 */
	snprintf(longline, sizeof(longline), "value 0x%0300d\nend\n", 1);
	assert_true(conf_read(longline, 4, &v) < 0);
	assert_int_equal(v, 0x5a5a);
	/* decimal, not octal */
	assert_int_equal(conf_read("value 010\nend\n", 1, &v), 0);
	assert_int_equal(v, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_bad_value),
	};

	log_level = -1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
