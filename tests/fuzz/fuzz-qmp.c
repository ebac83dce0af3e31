// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over xpt-dm's QMP monitor (src/dm/qmp.c): the input
 * is what a QMP client sends.  Besides no crash, UB or leak: every line
 * the monitor writes back is one JSON object, and while the client has
 * not asked to quit, every non-empty request line gets exactly one reply
 * (events aside).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "dm.h"
#include "log.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-qmp: %s:%d: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

/* Replies and events written to the client: each a JSON object. */
static size_t drain(int fd, size_t *ret_events)
{
	static char buf[1 << 20];
	size_t n = 0, replies = 0;
	ssize_t got;
	char *line, *nl;

	while ((got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = '\0';
	for (line = buf; (nl = strstr(line, "\r\n")); line = nl + 2) {
		char err[128];
		yajl_val v;

		*nl = '\0';
		v = yajl_tree_parse(line, err, sizeof(err));
		CHECK(v && YAJL_IS_OBJECT(v));
		if (strstr(line, "\"event\": \""))
			(*ret_events)++;
		else
			replies++;
		yajl_tree_free(v);
	}
	CHECK(*line == '\0');
	return replies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm d = { .listen_fd = -1, .client_fd = -1 };
	size_t i, lines = 0, events = 0, replies;
	int sv[2];
	bool quit_seen;

	if (size > DM_MAX_LINE)
		return 0;
	log_level = -1;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	d.client_fd = sv[0];
	d.in = malloc(DM_MAX_LINE + 1);
	CHECK(d.in);
	d.status = DM_PRELAUNCH;
	snprintf(d.rundir, sizeof(d.rundir), "/nonexistent");
	memcpy(d.in, data, size);
	d.in_len = size;
	qmp_input(&d);
	/* requests handled: non-empty lines up to quit */
	quit_seen = d.quit;
	for (i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		lines++;
	}
	replies = drain(sv[1], &events);
	if (!quit_seen && d.client_fd >= 0)
		CHECK(replies <= lines);
	if (d.client_fd >= 0)
		close(d.client_fd);
	close(sv[1]);
	free(d.in);
	return 0;
}
