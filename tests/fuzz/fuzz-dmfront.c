// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-dm's side of a stub domain's query socket
 * (src/dm/hostdev.c): the input's first byte picks the request (pci-dev,
 * conf-read or conf-write, and SIZE), the rest is what the stub's kernel
 * answers, read by the device model up to "end".  Besides no crash, UB
 * or leak: a request succeeds only on the reply line it expects ("dev
 * ...", "ok", "value N"), and a value read is no wider than the access.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm.h"
#include "hvclient.h"
#include "log.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-dmfront: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

/* The reply's first line, as the stub sent it. */
static void first_line(const uint8_t *data, size_t size, char *buf,
		       size_t len)
{
	size_t n = 0;

	while (n < size && n < len - 1 && data[n] != '\n')
		n++;
	memcpy(buf, data, n);
	buf[n] = '\0';
}

/* The number the stub sent, all of it. */
static unsigned long whole_value(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return strtoul(s + 2, NULL, 16);
	return strtoul(s, NULL, 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[] = { 1, 2, 4, 4 };
	struct dm d = { .domid = 7, .front_fd = -1 };
	char first[2048], req[256];
	uint32_t sbdf = HV_SBDF(0, 3, 0, 0), v = 0xdeadbeef, sz;
	ssize_t got;
	int sv[2], r, op;

	if (size < 1 || size > 1500)
		return 0;
	log_level = -1;
	op = data[0] % 3;
	sz = sizes[(data[0] >> 2) & 3];
	data++;
	size--;
	/* reconnecting after a failed reply fails: nothing listens there */
	snprintf(d.front_path, sizeof(d.front_path), "/nonexistent/front");
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(write(sv[1], data, size) == (ssize_t)size);
	shutdown(sv[1], SHUT_WR);
	d.front_fd = sv[0];
	if (op == 0)
		r = hostdev_visible(&d, sbdf);
	else if (op == 1)
		r = hostdev_conf_read(&d, sbdf, 0x40, sz, &v);
	else
		r = hostdev_conf_write(&d, sbdf, 0x40, sz, 0x1234 & (sz == 1 ?
				       0xff : 0xffff));
	first_line(data, size, first, sizeof(first));
	if (r == 0) {
		CHECK(memmem(data, size, "\nend\n", 5) ||
		      (size >= 4 && !memcmp(data, "end\n", 4)));
		if (op == 0)
			CHECK(!strncmp(first, "dev ", 4));
		else if (op == 1)
			CHECK(!strncmp(first, "value ", 6) &&
			      (sz == 4 || v < (1u << (sz * 8))) &&
			      v == whole_value(first + 6));
		else
			CHECK(!strcmp(first, "ok"));
	} else {
		CHECK(r < 0);
		CHECK(v == 0xdeadbeef);
	}
	/* one request line was sent */
	got = read(sv[1], req, sizeof(req) - 1);
	CHECK(got > 0);
	req[got] = '\0';
	CHECK(strchr(req, '\n') == req + got - 1);
	hostdev_close(&d);
	close(sv[1]);
	return 0;
}
