// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for libxpt's QMP client (src/libxpt/qmp.c), the other
 * direction from fuzz-qmp: the input is what a hostile device model
 * sends the toolstack on its monitor socket (greeting, replies, events,
 * garbage, huge lines), written by a thread in this process while the
 * client opens a session and runs device_add, a wait for DEVICE_DELETED
 * and query-pci as libxpt does.
 *
 * Input: one byte of mode, then the script.  The device model, after its
 * script: 'H' keeps the socket open, so every call that waits runs into
 * its deadline; 'C' closes it at once (the client's next request may then
 * fail with EPIPE before it reads what was sent, as the timing falls);
 * anything else shuts its side for writing and reads the client's
 * requests until the client hangs up, so that the client reads every
 * line of the script, whatever the timing, and then the end.  In the
 * script
 * 0xff N C stands for (N + 1) * 4096 bytes C, so that lines up to and
 * past the client's 1 MiB limit are reached.
 *
 * Besides no crash, UB or leak: every call returns 0 or one of the
 * errors a session can end with, a failed open says why, and none takes
 * longer than its timeout (plus scheduling slack); unless the device
 * model holds the socket, no call times out.  A result is JSON, no longer
 * than the script, and comes from a reply line the script had.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "libxpt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-qmpclient: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

#define SCRIPT_MAX (3u << 20)
#define OPEN_MS 5000		/* the device model closes: never reached */
#define HOLD_MS 1		/* it holds the socket open: always reached */
#define SLACK_MS 2000		/* a loaded machine, ASan */

struct server {
	int listen_fd;
	char *script;
	size_t len;
	enum { END_EOF, END_HOLD = 'H', END_CLOSE = 'C' } end;	/* mode */
};

static char dir[64], path[128];
static int listen_fd = -1;
/* One device-model thread for the whole run, handed each input: with a
 * thread per input the process grew by about 180 bytes per input under
 * ASan (its record of every thread), and ASan has a thread limit. */
static sem_t go, done;

static void cleanup(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	unlink(path);
	rmdir(dir);
}

static void listen_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fuzz-qmpclient.XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(listen_fd >= 0);
	CHECK(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(listen_fd, 4) == 0);
	atexit(cleanup);
}

/* The device model: its script, then the end of it (EOF, or the socket
 * closed), or silence until the client hangs up. */
static void serve(struct server *s)
{
	char sink[4096];
	size_t off = 0;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	CHECK(fd >= 0);
	while (off < s->len) {
		ssize_t n = send(fd, s->script + off, s->len - off,
				 MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* the client gave up and closed */
		off += (size_t)n;
	}
	if (s->end == END_EOF && off == s->len)
		shutdown(fd, SHUT_WR);
	if (s->end != END_CLOSE || off < s->len)
		while (read(fd, sink, sizeof(sink)) > 0)
			;	/* requests, until the client closes */
	close(fd);
}

static void *device_model(void *arg)
{
	for (;;) {
		while (sem_wait(&go) < 0)
			;	/* EINTR */
		serve(arg);
		sem_post(&done);
	}
	return NULL;
}

static size_t expand(const uint8_t *data, size_t size, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < size && n < SCRIPT_MAX - (1u << 20); i++) {
		if (data[i] == 0xff && i + 2 < size) {
			size_t k = ((size_t)data[i + 1] + 1) * 4096;

			memset(out + n, data[i + 2], k);
			n += k;
			i += 2;
			continue;
		}
		out[n++] = (char)data[i];
	}
	return n;
}

/* The errors a session ends with, or a QMP error reply's class. */
static bool known_error(int r)
{
	return r == -EPROTO || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -EPIPE || r == -EIO || r == -EOPNOTSUPP ||
	       r == -ENODEV;
}

static bool session_over(int r)
{
	return r == -EPROTO || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -EPIPE;
}

static void check_call(int r, int64_t start, int timeout_ms, bool hold)
{
	int64_t took = xpt_now_ms() - start;

	CHECK(r == 0 || known_error(r));
	CHECK(took <= timeout_ms + SLACK_MS);
	if (!hold)
		CHECK(r != -ETIMEDOUT);
}

/* A result: JSON, and no longer than what the device model sent. */
static void check_result(const char *json, const struct server *s)
{
	char err[64];
	yajl_val v;

	CHECK(json);
	CHECK(strlen(json) <= s->len);
	v = yajl_tree_parse(json, err, sizeof(err));
	CHECK(v);
	yajl_tree_free(v);
	CHECK(memmem(s->script, s->len, "\"return\"", 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *script;
	static struct server s;
	struct xpt_qmp *q = NULL;
	char err[256], *json = NULL;
	int64_t start;
	int timeout, r;
	bool hold;

	if (size < 1)
		return 0;
	if (listen_fd < 0) {
		pthread_t th;

		listen_once();
		CHECK(script = malloc(SCRIPT_MAX));
		CHECK(sem_init(&go, 0, 0) == 0 && sem_init(&done, 0, 0) == 0);
		CHECK(pthread_create(&th, NULL, device_model, &s) == 0);
		CHECK(pthread_detach(th) == 0);
	}
	s = (struct server){ .listen_fd = listen_fd, .script = script,
			     .end = data[0] == END_HOLD || data[0] == END_CLOSE ?
				    data[0] : END_EOF };
	s.len = expand(data + 1, size - 1, script);
	hold = s.end == END_HOLD;
	timeout = hold ? HOLD_MS : OPEN_MS;
	sem_post(&go);

	err[0] = '\0';
	start = xpt_now_ms();
	r = xpt_qmp_open(NULL, NULL, path, timeout, &q, err, sizeof(err));
	check_call(r, start, timeout, hold);
	if (r < 0) {
		CHECK(err[0]);
		CHECK(!q);
		goto out;
	}
	CHECK(q);
	CHECK(memmem(script, s.len, "\"QMP\"", 5));

	start = xpt_now_ms();
	r = xpt_qmp_exec(q, "device_add", "{\"driver\": "
			 "\"xen-pci-passthrough\", \"id\": \"pt0\", "
			 "\"hostaddr\": \"0000:03:00.0\"}", timeout, &json,
			 err, sizeof(err));
	check_call(r, start, timeout, hold);
	if (r == 0)
		check_result(json, &s);
	free(json);
	json = NULL;
	if (session_over(r))
		goto out;

	start = xpt_now_ms();
	r = xpt_qmp_wait_event(q, "DEVICE_DELETED", "pt0", timeout);
	check_call(r, start, timeout, hold);
	if (r == 0)
		CHECK(memmem(script, s.len, "DEVICE_DELETED", 14));
	if (session_over(r))
		goto out;

	start = xpt_now_ms();
	r = xpt_qmp_exec(q, "query-pci", NULL, timeout, &json, err,
			 sizeof(err));
	check_call(r, start, timeout, hold);
	if (r == 0)
		check_result(json, &s);
	free(json);
out:
	xpt_qmp_close(q);
	while (sem_wait(&done) < 0)
		;	/* EINTR */
	return 0;
}
