// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over xpt-dm's QMP monitor (src/dm/qmp.c): the input
 * is what a QMP client sends.  Besides no crash, UB or leak: every line
 * the monitor writes back is one JSON object, and while the client has
 * not asked to quit, every non-empty request line gets exactly one reply
 * (events aside).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "dm.h"
#include "log.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-qmp: %s:%d: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

/* The checks' own code is not what is being fuzzed: no coverage
 * feedback (and its cost) for it. */
#define CHECKER __attribute__((no_sanitize("coverage")))

/*
 * The check's own JSON parsing, every line of every input: yajl's parser
 * with an arena for its memory instead of the tree parser's malloc per
 * node (under ASan that was a third of the target's time).  Stricter
 * than yajl_tree_parse: no comments.
 */
static _Alignas(max_align_t) unsigned char arena[1 << 20];
static size_t arena_used;

struct chunk {
	size_t size;
	max_align_t data[];
};

CHECKER static void *arena_malloc(void *ctx, size_t size)
{
	struct chunk *c;
	size_t need = sizeof(*c) + (size + sizeof(max_align_t) - 1) /
		      sizeof(max_align_t) * sizeof(max_align_t);

	(void)ctx;
	if (need > sizeof(arena) - arena_used) {
		/* a line deeper than the arena: the C library's */
		c = malloc(sizeof(*c) + size);
		CHECK(c);
	} else {
		c = (struct chunk *)(arena + arena_used);
		arena_used += need;
	}
	c->size = size;
	return c->data;
}

CHECKER static bool in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	       (const unsigned char *)p < arena + sizeof(arena);
}

CHECKER static void arena_free(void *ctx, void *p)
{
	(void)ctx;
	if (p && !in_arena(p))
		free((struct chunk *)p - 1);
}

CHECKER static void *arena_realloc(void *ctx, void *p, size_t size)
{
	struct chunk *old = p ? (struct chunk *)p - 1 : NULL;
	void *n = arena_malloc(ctx, size);

	if (old) {
		memcpy(n, p, old->size < size ? old->size : size);
		arena_free(ctx, p);
	}
	return n;
}

static yajl_alloc_funcs arena_funcs = {
	arena_malloc, arena_realloc, arena_free, NULL
};

struct shape {
	int depth;
	bool object;		/* the first value opened an object */
	bool first;
};

CHECKER static int top_value(struct shape *s, bool map)
{
	if (s->first)
		s->object = map;
	s->first = false;
	return 1;
}

CHECKER static int on_null(void *ctx)
{
	return top_value(ctx, false);
}

CHECKER static int on_bool(void *ctx, int b)
{
	(void)b;
	return top_value(ctx, false);
}

CHECKER static int on_number(void *ctx, const char *n, size_t len)
{
	(void)n, (void)len;
	return top_value(ctx, false);
}

CHECKER static int on_string(void *ctx, const unsigned char *str,
			     size_t len)
{
	(void)str, (void)len;
	return top_value(ctx, false);
}

CHECKER static int on_map_key(void *ctx, const unsigned char *key,
			      size_t len)
{
	(void)ctx, (void)key, (void)len;
	return 1;
}

CHECKER static int on_open(void *ctx, bool map)
{
	struct shape *s = ctx;

	s->depth++;
	return top_value(s, map);
}

CHECKER static int on_start_map(void *ctx)
{
	return on_open(ctx, true);
}

CHECKER static int on_start_array(void *ctx)
{
	return on_open(ctx, false);
}

CHECKER static int on_close(void *ctx)
{
	((struct shape *)ctx)->depth--;
	return 1;
}

static const yajl_callbacks shape_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_close,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_close,
};

/* Is the line one JSON object, and nothing after it? */
CHECKER static bool json_object(const char *line, size_t len)
{
	struct shape s = { .first = true };
	yajl_handle h;
	bool ok;

	arena_used = 0;
	h = yajl_alloc(&shape_callbacks, &arena_funcs, &s);
	CHECK(h);
	ok = yajl_parse(h, (const unsigned char *)line, len) ==
	     yajl_status_ok &&
	     yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok && s.object && s.depth == 0;
}

/* Replies and events written to the client: each a JSON object. */
CHECKER static size_t drain(int fd, size_t *ret_events)
{
	static char buf[1 << 20];
	size_t n = 0, replies = 0;
	ssize_t got;
	char *line, *nl;

	while ((got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = '\0';
	for (line = buf; (nl = strstr(line, "\r\n")); line = nl + 2) {
		*nl = '\0';
		CHECK(json_object(line, (size_t)(nl - line)));
		if (strstr(line, "\"event\": \""))
			(*ret_events)++;
		else
			replies++;
	}
	CHECK(*line == '\0');
	return replies;
}

/* The monitor's connection, kept from one input to the next while the
 * monitor keeps it open: drain() has read everything it wrote, and the
 * client never writes on it, so it starts each input empty both ways.
 * A fresh socketpair per input cost more than most inputs' own work. */
static int sv[2] = { -1, -1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* static: 55 KB of device slots, cleared below */
	static struct dm d;
	/* One input buffer for every input, as the daemon has one per
	 * client: a fresh 64 KiB allocation per input went through ASan's
	 * quarantine to new pages each time (page faults and their
	 * clearing were most of the time).  Its redzone still catches a
	 * write past DM_MAX_LINE + 1. */
	static char *in;
	size_t i, lines = 0, events = 0, replies;
	bool quit_seen;

	if (size > DM_MAX_LINE)
		return 0;
	log_level = -1;
	if (!in)
		CHECK(in = malloc(DM_MAX_LINE + 1));
	if (sv[0] < 0)
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				 sv) == 0);
	memset(&d, 0, sizeof(d));
	d.listen_fd = -1;
	d.client_fd = sv[0];
	d.in = in;
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
	if (d.client_fd < 0) {
		/* the monitor hung up: a new connection for the next */
		close(sv[1]);
		sv[0] = sv[1] = -1;
	}
	return 0;
}
