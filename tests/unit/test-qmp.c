// SPDX-License-Identifier: MIT
/*
 * libxpt's QMP client (src/libxpt/qmp.c) against a scripted server in a
 * child process (events before replies, error classes, a server that
 * never greets, garbage, a wrong id, nesting, a server that dies) and
 * against Debian's real QEMU (`-machine none -S`), so the client is
 * checked on QEMU's own greeting, replies and error classes.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libxpt.h"

static char dir[64], sock[96];
static pid_t server = -1;

enum script {
	S_NORMAL,	/* greet; capabilities; device_del: event, then reply */
	S_SILENT,	/* never greets */
	S_GARBAGE,	/* greets with something that is not JSON */
	S_WRONG_ID,	/* answers capabilities with another id */
	S_DEEP,		/* query-pci returns a value nested 100 deep */
	S_DIES,		/* greets, then closes on the first command */
	S_FLOOD,	/* never greets: a 600 KB line the client reads
			 * as empty (it starts with a NUL), then empty
			 * lines without end (found by fuzz-qmpclient: the
			 * client took one line at a time, moving the rest
			 * of its now large buffer each time, and checked
			 * its deadline only when no line was left: it
			 * did not return) */
	S_VERY_DEEP,	/* query-pci returns 400000 levels, in one line
			 * under the 1 MiB limit (found by fuzz-qmpclient:
			 * yajl_tree_free overflowed the stack) */
	S_PIECES,	/* empty lines, then the greeting, in pieces that
			 * split "\r\n" between reads, the last piece 64
			 * "\n" and the greeting; otherwise normal */
	S_EVENTS,	/* device_del: the reply, then 100 other events
			 * (the 11th a DEVICE_DELETED for pt1), then pt0's: more
			 * than the client queues */
};

/* n times c, in pieces. */
static void say_many(int fd, char c, size_t n)
{
	char buf[4096];

	memset(buf, c, sizeof(buf));
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		if (write(fd, buf, k) != (ssize_t)k)
			_exit(1);
		n -= k;
	}
}

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		_exit(1);
}

/* The id of a request line (its last "id", after the arguments). */
static long id_of(const char *line)
{
	const char *p = NULL, *q = line;

	while ((q = strstr(q, "\"id\": ")))
		p = q++;
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static void serve(int lfd, enum script s)
{
	char line[4096], out[8192];
	size_t n = 0;
	int fd = accept(lfd, NULL, NULL), i;
	ssize_t got;

	if (fd < 0)
		_exit(1);
	if (s == S_SILENT) {
		pause();
		_exit(0);
	}
	if (s == S_FLOOD) {
		int sz = 4 << 20;

		/* a megabyte per read of the client's where allowed (root) */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz,
			       sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		say_many(fd, '\0', 1);
		say_many(fd, 'x', 600000);
		for (;;)
			say_many(fd, '\n', 1 << 20);
	}
	if (s == S_PIECES) {
		say(fd, "\r");
		usleep(20000);
		say(fd, "\n\n\r");
		usleep(20000);
		say(fd, "\n\r\n");
		usleep(20000);
	}
	/* S_PIECES: 64 empty lines, one block, in the same write */
	memset(out, '\n', 64);
	out[s == S_PIECES ? 64 : 0] = '\0';
	strcat(out, s == S_GARBAGE ? "{QMP: nonsense\r\n" :
	       "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, "
	       "\"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
	       "\"capabilities\": [\"oob\"]}}\r");
	say(fd, out);
	if (s == S_PIECES)
		usleep(20000);
	say(fd, "\n");
	for (;;) {
		char *nl;

		got = read(fd, line + n, sizeof(line) - 1 - n);
		if (got <= 0)
			_exit(0);
		n += (size_t)got;
		line[n] = '\0';
		while ((nl = strchr(line, '\n'))) {
			long id;

			*nl = '\0';
			id = id_of(line);
			if (s == S_DIES && strstr(line, "device_del"))
				_exit(0);
			if (s == S_EVENTS && strstr(line, "device_del")) {
				snprintf(out, sizeof(out), "{\"return\": {}, "
					 "\"id\": %ld}\r\n", id);
				say(fd, out);
				for (i = 0; i < 100; i++)
					say(fd, i == 10 ?
					    "{\"event\": \"DEVICE_DELETED\", "
					    "\"data\": {\"device\": \"pt1\"}}\r\n" :
					    "{\"event\": \"RTC_CHANGE\", "
					    "\"data\": {\"offset\": 0}}\r\n");
				snprintf(out, sizeof(out), "{\"event\": "
					 "\"DEVICE_DELETED\", \"data\": "
					 "{\"device\": \"pt0\"}}\r\n");
			} else if (strstr(line, "qmp_capabilities"))
				snprintf(out, sizeof(out), "{\"return\": {}, "
					 "\"id\": %ld}\r\n", s == S_WRONG_ID ?
					 id + 98 : id);
			else if (strstr(line, "device_del"))
				snprintf(out, sizeof(out), "{\"timestamp\": "
					 "{\"seconds\": 1, \"microseconds\": 2}, "
					 "\"event\": \"DEVICE_DELETED\", "
					 "\"data\": {\"device\": \"pt0\", "
					 "\"path\": \"/machine/peripheral/pt0\"}}"
					 "\r\n{\"return\": {}, \"id\": %ld}\r\n",
					 id);
			else if (strstr(line, "query-pci") &&
				 s == S_VERY_DEEP) {
				say(fd, "{\"return\": ");
				say_many(fd, '[', 400000);
				say_many(fd, ']', 400000);
				snprintf(out, sizeof(out), ", \"id\": %ld}\r\n",
					 id);
			} else if (strstr(line, "query-pci") && s == S_DEEP) {
				size_t o = (size_t)snprintf(out, sizeof(out),
							    "{\"return\": ");

				for (i = 0; i < 100; i++)
					o += (size_t)snprintf(out + o,
						sizeof(out) - o, "[");
				for (i = 0; i < 100; i++)
					o += (size_t)snprintf(out + o,
						sizeof(out) - o, "]");
				snprintf(out + o, sizeof(out) - o,
					 ", \"id\": %ld}\r\n", id);
			} else if (strstr(line, "query-pci"))
				snprintf(out, sizeof(out), "{\"return\": [{\"bus\":"
					 " 0, \"devices\": []}], \"id\": %ld}\r\n",
					 id);
			else
				snprintf(out, sizeof(out), "{\"id\": %ld, "
					 "\"error\": {\"class\": \"CommandNotFound"
					 "\", \"desc\": \"The command nope has "
					 "not been found\"}}\r\n", id);
			say(fd, out);
			n -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, n + 1);
		}
	}
}

static void start(enum script s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(lfd >= 0);
	unlink(sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	server = fork();
	assert_true(server >= 0);
	if (server == 0)
		serve(lfd, s);
	close(lfd);
}

static void stop(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	server = -1;
}

static void test_event_before_reply(void **state)
{
	struct xpt_qmp *q = NULL;
	char err[256], *ret = NULL;

	(void)state;
	start(S_NORMAL);
	assert_int_equal(xpt_qmp_open(NULL, NULL, sock, 2000, &q, err, sizeof(err)), 0);
	assert_int_equal(xpt_qmp_exec(q, "device_del", "{\"id\": \"pt0\"}",
				      2000, NULL, err, sizeof(err)), 0);
	/* the event came before the reply: it waits in the queue */
	assert_int_equal(xpt_qmp_wait_event(q, "DEVICE_DELETED", "pt0", 500),
			 0);
	/* and is consumed: a second wait times out, bounded */
	assert_int_equal(xpt_qmp_wait_event(q, "DEVICE_DELETED", "pt0", 100),
			 -ETIMEDOUT);
	assert_int_equal(xpt_qmp_exec(q, "query-pci", NULL, 2000, &ret, err,
				      sizeof(err)), 0);
	assert_non_null(strstr(ret, "\"devices\":[]"));
	free(ret);
	assert_int_equal(xpt_qmp_exec(q, "nope", NULL, 2000, NULL, err,
				      sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "CommandNotFound: The command nope"));
	xpt_qmp_close(q);
	stop();
}

/* More events than the client queues, then the one waited for: found,
 * and those still queued are found after. */
static void test_event_flood(void **state)
{
	struct xpt_qmp *q = NULL;
	char err[256];

	(void)state;
	start(S_EVENTS);
	assert_int_equal(xpt_qmp_open(NULL, NULL, sock, 2000, &q, err,
				      sizeof(err)), 0);
	assert_int_equal(xpt_qmp_exec(q, "device_del", "{\"id\": \"pt0\"}",
				      2000, NULL, err, sizeof(err)), 0);
	assert_int_equal(xpt_qmp_wait_event(q, "DEVICE_DELETED", "pt0", 1000),
			 0);
	/* pt1's went out of the queue with the oldest; the newest stay */
	assert_int_equal(xpt_qmp_wait_event(q, "DEVICE_DELETED", "pt1", 100),
			 -ETIMEDOUT);
	assert_int_equal(xpt_qmp_wait_event(q, "RTC_CHANGE", NULL, 100), 0);
	xpt_qmp_close(q);
	stop();
}

static void test_broken_servers(void **state)
{
	static const struct { enum script s; int open, exec; } cases[] = {
		{ S_SILENT, -ETIMEDOUT, 0 },
		{ S_GARBAGE, -EPROTO, 0 },
		{ S_WRONG_ID, -EPROTO, 0 },
		{ S_DEEP, 0, -EPROTO },
		{ S_DIES, 0, -ECONNRESET },
		{ S_FLOOD, -ETIMEDOUT, 0 },
		{ S_VERY_DEEP, 0, -EPROTO },
		{ S_PIECES, 0, 0 },
	};
	struct xpt_qmp *q;
	char err[256], *ret;
	size_t i;
	int64_t t0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start(cases[i].s);
		q = NULL;
		t0 = xpt_now_ms();
		assert_int_equal(xpt_qmp_open(NULL, NULL, sock, 300, &q, err, sizeof(err)),
				 cases[i].open);
		/* the 300 ms deadline, and slack for a loaded machine (the
		 * flood took seconds before, 300 ms now) */
		assert_true(xpt_now_ms() - t0 < 1000);
		if (cases[i].open == 0) {
			ret = NULL;
			assert_int_equal(xpt_qmp_exec(q, cases[i].s == S_DEEP ||
						      cases[i].s ==
						      S_VERY_DEEP ?
						      "query-pci" :
						      "device_del",
						      "{\"id\": \"pt0\"}", 1000,
						      &ret, err, sizeof(err)),
					 cases[i].exec);
			if (cases[i].exec)
				assert_null(ret);
			else
				assert_non_null(ret);
			free(ret);
			xpt_qmp_close(q);
		} else {
			assert_null(q);
			assert_true(err[0]);
		}
		stop();
	}
}

/* Debian's QEMU: its greeting, status before and after cont, and the
 * error classes of an unknown command and an unknown device. */
static void test_real_qemu(void **state)
{
	const char *qemu = getenv("XPT_TEST_QEMU");
	struct xpt_qmp *q = NULL;
	char arg[160], err[256], *ret = NULL;
	pid_t pid;

	(void)state;
	if (!qemu)
		qemu = "qemu-system-x86_64";
	snprintf(arg, sizeof(arg), "unix:%s,server=on,wait=off", sock);
	unlink(sock);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execlp(qemu, qemu, "-machine", "none", "-nodefaults",
		       "-display", "none", "-S", "-qmp", arg, (char *)NULL);
		_exit(127);
	}
	if (xpt_wait_file(NULL, "", sock, pid, 10000) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (getenv("XPT_CI"))
			fail_msg("%s did not start (is qemu-system-x86 "
				 "installed?)", qemu);
		skip();
	}
	assert_int_equal(xpt_qmp_open(NULL, NULL, sock, 5000, &q, err, sizeof(err)), 0);
	assert_int_equal(xpt_qmp_exec(q, "query-status", NULL, 5000, &ret,
				      err, sizeof(err)), 0);
	assert_non_null(strstr(ret, "\"running\":false"));
	assert_non_null(strstr(ret, "\"status\":\"prelaunch\""));
	free(ret);
	assert_int_equal(xpt_qmp_exec(q, "cont", NULL, 5000, NULL, err,
				      sizeof(err)), 0);
	assert_int_equal(xpt_qmp_exec(q, "query-status", NULL, 5000, &ret,
				      err, sizeof(err)), 0);
	assert_non_null(strstr(ret, "\"running\":true"));
	free(ret);
	assert_int_equal(xpt_qmp_exec(q, "no-such-command", NULL, 5000, NULL,
				      err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "CommandNotFound"));
	assert_int_equal(xpt_qmp_exec(q, "device_del", "{\"id\": \"pt0\"}",
				      5000, NULL, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "DeviceNotFound"));
	xpt_qmp_exec(q, "quit", NULL, 5000, NULL, err, sizeof(err));
	xpt_qmp_close(q);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xpt-unit-qmp.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/qmp", dir);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop();
	unlink(sock);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_before_reply),
		cmocka_unit_test(test_event_flood),
		cmocka_unit_test(test_broken_servers),
		cmocka_unit_test(test_real_qemu),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
