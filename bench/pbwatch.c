// SPDX-License-Identifier: MIT
/*
 * What xpt-pciback's xenbus state machine (src/pciback/xenbus.c) costs per
 * watch event, for a guest with 8 devices whose backend is Initialised (the
 * window between the toolstack's writes and pcifront's connect, where
 * every backend write may mean a device to export).  pciback runs
 * in-process on a real xpt-xenstored (argv[1], started in a temporary run
 * directory) with the hypervisor faked (tests/unit/fakehv.c), as
 * unit-pciback-xenbus does; every xenstore access is a round trip.
 *
 *   cold-plug   libxl 4.17's per-device cold-plug of 8 devices: the
 *               backend with dev-0, then one transaction per further
 *               device, until state-7 reads 3; the events pciback
 *               handled and the time it took
 *   other-node  a write of a node no step reads (opts-3): microseconds
 *               pciback spends per event
 *   state-node  a write of state-3 with the value it has: microseconds
 *               per event
 *
 * Medians over rounds.  No assertions: a benchmark prints
 * (bench/README.md).
 *
 * usage: pbwatch XPT-XENSTORED [ROUNDS]   (default 7)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "clock.h"
#include "fakehv.h"
#include "log.h"
#include "pciback.h"

#define NDEVS 8
#define BATCH 100
#define MAXROUNDS 31
#define BE "/local/domain/0/backend/pci/7/0"
#define FE "/local/domain/7/device/pci/0"
#define SENTINEL "/local/domain/0/backend/pci/sync"

static char rundir[] = "/tmp/xpt-pbwatch-XXXXXX";
static pid_t xsd_pid = -1;
static struct xs_handle *ts;
static struct pciback pb;

static void die(const char *what)
{
	fprintf(stderr, "pbwatch: %s: %s\n", what, strerror(errno));
	if (xsd_pid > 0)
		kill(xsd_pid, SIGTERM);
	exit(1);
}

static void start_xenstored(const char *bin)
{
	char buf[64], path[256];
	struct pollfd pfd;
	int p[2];

	if (!mkdtemp(rundir) || pipe(p))
		die("run directory");
	xsd_pid = fork();
	if (xsd_pid < 0)
		die("fork");
	if (xsd_pid == 0) {
		dup2(p[1], 3);
		execl(bin, "xpt-xenstored", "--rundir", rundir, "--ready-fd",
		      "3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1 || read(p[0], buf, sizeof(buf)) <= 0) {
		errno = ETIMEDOUT;
		die("xpt-xenstored not ready");
	}
	close(p[0]);
	snprintf(path, sizeof(path), "%s/socket", rundir);
	setenv("XENSTORED_PATH", path, 1);
	if (!(ts = xs_open(0)))
		die("xs_open");
}

static void w(xs_transaction_t t, const char *path, const char *val)
{
	if (!xs_write(ts, t, path, val, strlen(val)))
		die(path);
}

static bool node_is(const char *path, const char *val)
{
	unsigned int len;
	char *s = xs_read(ts, XBT_NULL, path, &len);
	bool eq = s && strcmp(s, val) == 0;

	free(s);
	return eq;
}

/* Run pciback until it has handled every event queued before now. */
static void sync_watches(void)
{
	double end = now() + 10;

	pb.last_watch[0] = '\0';
	w(XBT_NULL, SENTINEL, "1");
	while (strcmp(pb.last_watch, SENTINEL) != 0) {
		if (now() > end) {
			errno = ETIMEDOUT;
			die("pciback did not see the sentinel");
		}
		pciback_loop_once(&pb, 20, NULL);
	}
}

static void run_until(const char *path, const char *val)
{
	double end = now() + 10;

	while (!node_is(path, val)) {
		if (now() > end) {
			errno = ETIMEDOUT;
			die(path);
		}
		pciback_loop_once(&pb, 20, NULL);
	}
}

static void commit(xs_transaction_t t)
{
	if (!xs_transaction_end(ts, t, false))
		die("transaction");
}

/* libxl 4.17's per-device cold-plug (docs/protocol.md §10 item 2) */
static void cold_plug(void)
{
	char p[128], v[32];
	xs_transaction_t t = xs_transaction_start(ts);

	w(t, BE "/frontend", FE);
	w(t, BE "/frontend-id", "7");
	w(t, BE "/online", "1");
	w(t, BE "/dev-0", "0000:10:00.0");
	w(t, BE "/state-0", "1");
	w(t, BE "/num_devs", "1");
	w(t, BE "/state", "1");
	w(t, FE "/backend", BE);
	w(t, FE "/backend-id", "0");
	w(t, FE "/state", "1");
	commit(t);
	for (int i = 1; i < NDEVS; i++) {
		t = xs_transaction_start(ts);
		snprintf(p, sizeof(p), BE "/dev-%d", i);
		snprintf(v, sizeof(v), "0000:%02x:00.0", 0x10 + i);
		w(t, p, v);
		snprintf(p, sizeof(p), BE "/state-%d", i);
		w(t, p, "1");
		snprintf(v, sizeof(v), "%d", i + 1);
		w(t, BE "/num_devs", v);
		commit(t);
	}
	snprintf(p, sizeof(p), BE "/state-%d", NDEVS - 1);
	run_until(p, "3");
}

static void destroy(void)
{
	xs_rm(ts, XBT_NULL, BE);
	xs_rm(ts, XBT_NULL, "/local/domain/7");
	sync_watches();
	if (pb.nbes) {
		errno = EBUSY;
		die("the backend outlived its directory");
	}
}

/* Microseconds pciback spends per event of BATCH writes of path. */
static double per_event(const char *path, const char *val)
{
	double t0;

	for (int i = 0; i < BATCH; i++)
		w(XBT_NULL, path, val);
	t0 = now();
	sync_watches();
	return (now() - t0) * 1e6 / (BATCH + 1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double plug[MAXROUNDS], events[MAXROUNDS], other[MAXROUNDS],
	       state[MAXROUNDS], t0;
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 7;
	char msg[200], cmd[300];
	unsigned long n0;

	if (argc < 2) {
		fprintf(stderr, "usage: pbwatch XPT-XENSTORED [ROUNDS]\n");
		return 2;
	}
	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = 7;
	log_level = -1;
	start_xenstored(argv[1]);
	fakehv_reset();
	if (pciback_init(&pb, xs_open(0), NULL, 0) < 0)
		die("pciback_init");
	for (int i = 0; i < NDEVS; i++) {
		uint32_t sbdf = HV_SBDF(0, 0x10 + i, 0, 0);

		fakehv_add(sbdf, 0x8086, 0x10d3, 0x020000, true, 4, 1);
		if (pciback_seize(&pb, sbdf, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "pbwatch: seize: %s\n", msg);
			return 1;
		}
	}
	sync_watches();
	for (int r = 0; r < rounds; r++) {
		n0 = pb.watch_events;
		t0 = now();
		cold_plug();
		sync_watches();
		plug[r] = (now() - t0) * 1e3;
		events[r] = (double)(pb.watch_events - n0);
		other[r] = per_event(BE "/opts-3", "msitranslate=1");
		state[r] = per_event(BE "/state-3", "3");
		destroy();
	}
	printf("# pciback per watch event, a guest with %d devices, backend "
	       "Initialised; medians of %d rounds\n", NDEVS, rounds);
	printf("%-12s %10s %10s\n", "workload", "figure", "unit");
	printf("%-12s %10.2f %10s\n", "cold-plug", median(plug, rounds), "ms");
	printf("%-12s %10.0f %10s\n", "  events", median(events, rounds),
	       "events");
	printf("%-12s %10.1f %10s\n", "other-node", median(other, rounds),
	       "us/event");
	printf("%-12s %10.1f %10s\n", "state-node", median(state, rounds),
	       "us/event");
	pciback_fini(&pb);
	xs_close(ts);
	kill(xsd_pid, SIGTERM);
	waitpid(xsd_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rundir);
	return system(cmd) == 0 ? 0 : 1;
}
