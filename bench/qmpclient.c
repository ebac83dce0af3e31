// SPDX-License-Identifier: MIT
/*
 * What libxpt's QMP client (src/libxpt/qmp.c) costs to read a reply that
 * comes after a megabyte of other bytes, as a hostile or broken device
 * model may send them.  One session on a Unix socket, the device model a
 * thread in this process; each figure is one `query-pci` whose reply the
 * device model sends after:
 *
 *   nothing       the reference: a round trip
 *   1 MiB line    the reply itself padded to a megabyte with spaces (one
 *                 line under the 1 MiB limit, read and parsed)
 *   1 MiB "\n"    a megabyte of empty lines, then the reply
 *   1 MiB "\r\n"  the same as half a million CRLF lines
 *
 * Milliseconds per call (median over rounds), and each as a ratio to the
 * megabyte line: empty lines should cost no more than the same bytes in
 * one line.  Then a wait for DEVICE_DELETED (after a device_del), the
 * event sent at once or after 10,000 other events (RTC_CHANGE): the
 * client queues events it was not asked for, and each should be looked
 * at once.  No assertions: a benchmark prints (bench/README.md).
 *
 * usage: qmpclient [ROUNDS]   (default 15)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "libxpt.h"

#define MIB (1u << 20)
#define MAXROUNDS 101
#define TIMEOUT_MS 10000
#define NOTHERS 10000		/* other events before DEVICE_DELETED */

enum prefix { P_NONE, P_LONG_LINE, P_LF, P_CRLF, NPREFIX };

static const char *const names[NPREFIX] = {
	"nothing", "1 MiB line", "1 MiB \"\\n\"", "1 MiB \"\\r\\n\"",
};

static char dir[] = "/tmp/xpt-bench-qmp-XXXXXX", path[96];
static char *blob;		/* the bytes sent before a reply */
static volatile enum prefix mode;
static volatile int others;	/* events before the next DEVICE_DELETED */

static void die(const char *what)
{
	fprintf(stderr, "bench-qmpclient: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			die("send");
		s += w;
		n -= (size_t)w;
	}
}

/* The id of a request line (its last "id"). */
static long id_of(const char *line)
{
	const char *p = NULL, *q = line;

	while ((q = strstr(q, "\"id\": ")))
		p = q++;
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static void reply(int fd, long id)
{
	static const char head[] = "{\"return\": [{\"bus\": 0, "
				   "\"devices\": []}]";
	char tail[64];
	size_t n = (size_t)snprintf(tail, sizeof(tail), ", \"id\": %ld}\r\n",
				    id);

	switch (mode) {
	case P_LONG_LINE:	/* head, spaces, tail: one megabyte line */
		memcpy(blob, head, sizeof(head) - 1);
		memset(blob + sizeof(head) - 1, ' ',
		       MIB - 64 - (sizeof(head) - 1));
		send_all(fd, blob, MIB - 64);
		send_all(fd, tail, n);
		return;
	case P_LF:
		memset(blob, '\n', MIB);
		send_all(fd, blob, MIB);
		break;
	case P_CRLF:
		for (size_t i = 0; i < MIB; i += 2)
			memcpy(blob + i, "\r\n", 2);
		send_all(fd, blob, MIB);
		break;
	default:
		break;
	}
	send_all(fd, head, sizeof(head) - 1);
	send_all(fd, tail, n);
}

/* {"return": {}}: qmp_capabilities' reply, and device_del's */
static void empty_reply(int fd, long id)
{
	char out[64];
	int n = snprintf(out, sizeof(out), "{\"return\": {}, \"id\": %ld}\r\n",
			 id);

	send_all(fd, out, (size_t)n);
}

/* device_del's reply, then `others` other events, then DEVICE_DELETED. */
static void device_del(int fd, long id)
{
	static const char other[] = "{\"event\": \"RTC_CHANGE\", \"data\": "
		"{\"offset\": 0}, \"timestamp\": {\"seconds\": 1, "
		"\"microseconds\": 2}}\r\n";
	static const char deleted[] = "{\"event\": \"DEVICE_DELETED\", "
		"\"data\": {\"device\": \"pt0\", \"path\": "
		"\"/machine/peripheral/pt0\"}, \"timestamp\": {\"seconds\": 1, "
		"\"microseconds\": 3}}\r\n";
	size_t n = 0;

	empty_reply(fd, id);
	for (int i = 0; i < others; i++) {
		if (n + sizeof(other) > MIB) {
			send_all(fd, blob, n);
			n = 0;
		}
		memcpy(blob + n, other, sizeof(other) - 1);
		n += sizeof(other) - 1;
	}
	send_all(fd, blob, n);
	send_all(fd, deleted, sizeof(deleted) - 1);
}

/* The device model: greets, then answers every request line. */
static void *serve(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	static const char greeting[] = "{\"QMP\": {\"version\": {\"qemu\": "
		"{\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": "
		"\"\"}, \"capabilities\": []}}\r\n";
	char line[4096];
	size_t n = 0;

	if (fd < 0)
		die("accept");
	send_all(fd, greeting, sizeof(greeting) - 1);
	for (;;) {
		ssize_t got = read(fd, line + n, sizeof(line) - 1 - n);
		char *nl;

		if (got <= 0)
			break;
		n += (size_t)got;
		line[n] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (strstr(line, "qmp_capabilities"))
				empty_reply(fd, id_of(line));
			else if (strstr(line, "device_del"))
				device_del(fd, id_of(line));
			else
				reply(fd, id_of(line));
			n -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, n + 1);
		}
	}
	close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 15, lfd, r;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double t[NPREFIX][MAXROUNDS], med[NPREFIX], w[2][MAXROUNDS];
	struct xpt_qmp *q = NULL;
	char err[256];
	pthread_t th;

	if (rounds < 1 || rounds > MAXROUNDS) {
		fprintf(stderr, "usage: qmpclient [ROUNDS 1-%d]\n", MAXROUNDS);
		return 2;
	}
	if (!(blob = malloc(MIB)) || !mkdtemp(dir))
		die("set-up");
	snprintf(path, sizeof(path), "%s/qmp", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 1) || pthread_create(&th, NULL, serve, &lfd))
		die("socket");
	r = xpt_qmp_open(NULL, NULL, path, TIMEOUT_MS, &q, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench-qmpclient: %s\n", err);
		return 1;
	}
	for (int i = 0; i < rounds; i++)
		for (int p = 0; p < NPREFIX; p++) {
			char *json = NULL;
			double t0 = now();

			mode = (enum prefix)p;
			r = xpt_qmp_exec(q, "query-pci", NULL, TIMEOUT_MS,
					 &json, err, sizeof(err));
			t[p][i] = now() - t0;
			free(json);
			if (r < 0) {
				fprintf(stderr, "bench-qmpclient: %s: %s\n",
					names[p], err);
				return 1;
			}
		}
	for (int i = 0; i < rounds; i++)
		for (int k = 0; k < 2; k++) {
			double t0;

			others = k ? NOTHERS : 0;
			r = xpt_qmp_exec(q, "device_del", "{\"id\": \"pt0\"}",
					 TIMEOUT_MS, NULL, err, sizeof(err));
			t0 = now();
			if (r == 0)
				r = xpt_qmp_wait_event(q, "DEVICE_DELETED",
						       "pt0", TIMEOUT_MS);
			w[k][i] = now() - t0;
			if (r < 0) {
				fprintf(stderr, "bench-qmpclient: device_del "
					"and its event: %s\n", strerror(-r));
				return 1;
			}
		}
	xpt_qmp_close(q);
	pthread_join(th, NULL);
	close(lfd);
	unlink(path);
	rmdir(dir);

	printf("QMP client: a query-pci reply after ...   (median of %d)\n",
	       rounds);
	for (int p = 0; p < NPREFIX; p++) {
		qsort(t[p], (size_t)rounds, sizeof(double), cmp);
		med[p] = t[p][rounds / 2];
	}
	for (int p = 0; p < NPREFIX; p++) {
		printf("  %-16s %9.3f ms", names[p], med[p] * 1e3);
		if (p != P_NONE)
			printf("   %5.2fx the 1 MiB line", med[p] / med[P_LONG_LINE]);
		printf("\n");
	}
	for (int k = 0; k < 2; k++)
		qsort(w[k], (size_t)rounds, sizeof(double), cmp);
	printf("QMP client: a wait for DEVICE_DELETED after ...   (median of "
	       "%d)\n", rounds);
	printf("  %-16s %9.3f ms\n", "nothing", w[0][rounds / 2] * 1e3);
	printf("  %-16s %9.3f ms   %5.2f us per other event\n", "10000 others",
	       w[1][rounds / 2] * 1e3,
	       (w[1][rounds / 2] - w[0][rounds / 2]) * 1e6 / NOTHERS);
	return 0;
}
