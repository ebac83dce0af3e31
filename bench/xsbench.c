// SPDX-License-Identifier: MIT
/*
 * xsbench: a xenstore benchmark that speaks the protocol through libxenstore,
 * against several daemons in one run, alternating rounds between them so
 * that background load hits all alike.
 *
 * Every figure is the median over rounds of a per-round figure; rounds are
 * preceded by an untimed warm-up; clocks are CLOCK_MONOTONIC.  Results go to
 * stdout as lines
 *     RESULT <workload> <server> <value|FAIL> <unit>
 * which bench/run.sh turns into a table; progress and errors go to stderr.
 *
 * Workloads (see bench/README.md):
 *   ops       test-xenstore's operations, ns per call
 *   mixed     C clients (threads, one handle each) doing 70% read, 20% write,
 *             10% directory for a fixed time: total ops/s
 *   conflict  N clients doing read-modify-write transactions on one node,
 *             retrying on EAGAIN: commits/s and retries per commit
 *   fanout    W watchers on a subtree, one writer: ns from the start of the
 *             write until every watcher holds its event
 *   idle      xs_read latency with K idle connections open
 *   wait      no benchmark: wait until every server answers (for run.sh)
 *
 * Node names end in "-N" where N is the value size, which is what the floor
 * (bench/floor.c) uses to size its READ replies.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#define MAX_SERVERS 8
#define MAX_LIST 8
#define BASE "/bench/xsbench"
#define TX_RETRIES 100

struct server {
	const char *name;
	const char *sock;
	bool floor;             /* answers without a store: verify nothing */
	bool failed;            /* in the current workload item */
	double vals[64];        /* per-round figures of the current item */
	int nvals;
};

struct opts {
	int rounds;
	int iters;
	double seconds;
	int clients;
	int tx_clients[MAX_LIST];
	int n_tx_clients;
	int watchers[MAX_LIST];
	int n_watchers;
	int idle[MAX_LIST];
	int n_idle;
	double wait_seconds;
	const char *only_ops;   /* comma-separated subset of op_table */
};

static struct server servers[MAX_SERVERS];
static int nservers;
static struct opts opt = {
	.rounds = 7,
	.iters = 2000,
	.seconds = 2.0,
	.clients = 64,
	.tx_clients = { 8 },
	.n_tx_clients = 1,
	.watchers = { 1, 32 },
	.n_watchers = 2,
	.idle = { 1, 100, 1000 },
	.n_idle = 3,
	.wait_seconds = 10.0,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void __attribute__((format(printf, 3, 4)))
fail(struct server *s, const char *item, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (s->failed)
		return;
	s->failed = true;
	fprintf(stderr, "xsbench: %s on %s failed: ", item, s->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s)\n", saved ? strerror(saved) : "no errno");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void item_begin(void)
{
	for (int i = 0; i < nservers; i++) {
		servers[i].failed = false;
		servers[i].nvals = 0;
	}
}

static void item_add(struct server *s, double v)
{
	if ((size_t)s->nvals < sizeof(s->vals) / sizeof(s->vals[0]))
		s->vals[s->nvals++] = v;
}

/* Print one RESULT line per server: the median of its round figures. */
static void item_report(const char *item, const char *unit)
{
	for (int i = 0; i < nservers; i++) {
		struct server *s = &servers[i];

		if (s->failed || !s->nvals)
			printf("RESULT %s %s FAIL %s\n", item, s->name, unit);
		else
			printf("RESULT %s %s %.1f %s\n", item, s->name,
			       median(s->vals, s->nvals), unit);
	}
	fflush(stdout);
}

/* Round r visits the servers starting from r % nservers. */
static struct server *round_server(int r, int k)
{
	return &servers[(r + k) % nservers];
}

static struct xs_handle *open_handle(const struct server *s)
{
	/* libxenstore reads XENSTORED_PATH at every xs_open(); only the main
	 * thread opens handles. */
	setenv("XENSTORED_PATH", s->sock, 1);
	return xs_open(0);
}

static bool write_str(struct xs_handle *h, xs_transaction_t t,
		      const char *path, const char *val, size_t len)
{
	return xs_write(h, t, path, val, (unsigned int)len);
}

static bool read_ok(struct xs_handle *h, xs_transaction_t t,
		    const char *path)
{
	unsigned int len;
	char *v = xs_read(h, t, path, &len);

	free(v);
	return v != NULL;
}

/* ---------------------------------------------------------------- ops -- */

struct op {
	const char *name;
	bool (*prep)(struct xs_handle *h);      /* untimed, may be NULL */
	bool (*run)(struct xs_handle *h);
};

static char buf2000[2000];

static bool op_read1(struct xs_handle *h)
{
	return read_ok(h, XBT_NULL, BASE "/ops/v-1");
}

static bool op_read2000(struct xs_handle *h)
{
	return read_ok(h, XBT_NULL, BASE "/ops/v-2000");
}

static bool op_write1(struct xs_handle *h)
{
	return write_str(h, XBT_NULL, BASE "/ops/w-1", "a", 1);
}

static bool op_write2000(struct xs_handle *h)
{
	return write_str(h, XBT_NULL, BASE "/ops/w-2000", buf2000,
			 sizeof(buf2000));
}

static bool op_dir10(struct xs_handle *h)
{
	unsigned int num;
	char **d = xs_directory(h, XBT_NULL, BASE "/ops/dir", &num);

	free(d);
	if (d && num != 10) {
		errno = 0;
		return false;
	}
	return d != NULL;
}

static bool prep_rm(struct xs_handle *h)
{
	return write_str(h, XBT_NULL, BASE "/ops/rm-1", "a", 1);
}

static bool op_rm(struct xs_handle *h)
{
	return xs_rm(h, XBT_NULL, BASE "/ops/rm-1");
}

/* Runs body() in a transaction, retrying on EAGAIN like test-xenstore. */
static bool in_transaction(struct xs_handle *h,
			   bool (*body)(struct xs_handle *, xs_transaction_t))
{
	for (int i = 0; i < TX_RETRIES; i++) {
		xs_transaction_t t = xs_transaction_start(h);

		if (t == XBT_NULL)
			return false;
		if (body && !body(h, t)) {
			int e = errno;

			xs_transaction_end(h, t, true);
			errno = e;
			return false;
		}
		if (xs_transaction_end(h, t, false))
			return true;
		if (errno != EAGAIN)
			return false;
	}
	errno = EAGAIN;
	return false;
}

static bool op_ta_empty(struct xs_handle *h)
{
	return in_transaction(h, NULL);
}

static bool rmw_body(struct xs_handle *h, xs_transaction_t t)
{
	return read_ok(h, t, BASE "/ops/ta-1") &&
	       write_str(h, t, BASE "/ops/ta-1", "b", 1) &&
	       read_ok(h, t, BASE "/ops/ta-1") &&
	       read_ok(h, XBT_NULL, BASE "/ops/ta-1");
}

static bool op_ta_rmw(struct xs_handle *h)
{
	return in_transaction(h, rmw_body);
}

static const struct op op_table[] = {
	{ "read-1", NULL, op_read1 },
	{ "read-2000", NULL, op_read2000 },
	{ "write-1", NULL, op_write1 },
	{ "write-2000", NULL, op_write2000 },
	{ "dir-10", NULL, op_dir10 },
	{ "rm-node", prep_rm, op_rm },
	{ "ta-empty", NULL, op_ta_empty },
	{ "ta-rmw", NULL, op_ta_rmw },
};

static bool op_selected(const char *name)
{
	const char *p = opt.only_ops;
	size_t n = strlen(name);

	if (!p)
		return true;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == opt.only_ops || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static bool setup_ops(struct xs_handle *h)
{
	char path[128];

	xs_rm(h, XBT_NULL, BASE "/ops");
	if (!write_str(h, XBT_NULL, BASE "/ops/v-1", "a", 1) ||
	    !write_str(h, XBT_NULL, BASE "/ops/v-2000", buf2000,
		       sizeof(buf2000)) ||
	    !write_str(h, XBT_NULL, BASE "/ops/ta-1", "a", 1))
		return false;
	for (char c = 'a'; c <= 'j'; c++) {
		snprintf(path, sizeof(path), BASE "/ops/dir/%c", c);
		if (!write_str(h, XBT_NULL, path, "", 0))
			return false;
	}
	return true;
}

/* Mean ns per call over n calls, or a negative value on failure. */
static double time_op(struct xs_handle *h, const struct op *op, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		uint64_t t0;

		if (op->prep && !op->prep(h))
			return -1;
		t0 = now_ns();
		if (!op->run(h))
			return -1;
		sum += now_ns() - t0;
	}
	return (double)sum / n;
}

static void bench_ops(void)
{
	struct xs_handle *h[MAX_SERVERS] = { NULL };

	item_begin();
	for (int i = 0; i < nservers; i++) {
		h[i] = open_handle(&servers[i]);
		if (!h[i] || !setup_ops(h[i])) {
			fail(&servers[i], "ops", "set-up");
			if (h[i])
				xs_close(h[i]);
			h[i] = NULL;
		}
	}
	for (size_t o = 0; o < sizeof(op_table) / sizeof(op_table[0]); o++) {
		const struct op *op = &op_table[o];
		char item[64];

		if (!op_selected(op->name))
			continue;
		snprintf(item, sizeof(item), "%s", op->name);
		item_begin();
		for (int i = 0; i < nservers; i++) {
			if (!h[i])
				servers[i].failed = true;
			else if (time_op(h[i], op, opt.iters / 4 + 50) < 0)
				fail(&servers[i], item, "warm-up");
		}
		for (int r = 0; r < opt.rounds; r++) {
			for (int k = 0; k < nservers; k++) {
				struct server *s = round_server(r, k);
				int i = (int)(s - servers);
				double v;

				if (s->failed)
					continue;
				v = time_op(h[i], op, opt.iters);
				if (v < 0)
					fail(s, item, "round %d", r);
				else
					item_add(s, v);
			}
		}
		item_report(item, "ns");
	}
	for (int i = 0; i < nservers; i++) {
		if (h[i]) {
			xs_rm(h[i], XBT_NULL, BASE "/ops");
			xs_close(h[i]);
		}
	}
}

/* ------------------------------------------------- threaded clients -- */

struct client {
	pthread_t thread;
	struct xs_handle *h;
	int idx;
	bool floor;
	uint32_t rng;
	uint64_t ops;           /* mixed: calls; conflict: commits */
	uint64_t retries;
	uint64_t errors;
	int first_errno;
	const char *first_what;
};

struct crowd {
	struct client *cl;
	int n;
	pthread_barrier_t start;
	atomic_bool stop;
};

static uint32_t rng_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void client_error(struct client *c, const char *what)
{
	if (!c->errors++) {
		c->first_errno = errno;
		c->first_what = what;
	}
}

static struct crowd *crowd_current;

static void *mixed_main(void *arg)
{
	struct client *c = arg;
	struct crowd *cr = crowd_current;
	char path[128], dir[96], val[16];

	snprintf(dir, sizeof(dir), BASE "/mix/c%d", c->idx);
	memset(val, 'v', sizeof(val));
	pthread_barrier_wait(&cr->start);
	while (!atomic_load_explicit(&cr->stop, memory_order_relaxed)) {
		uint32_t x = rng_next(&c->rng) % 100;
		unsigned int num;

		snprintf(path, sizeof(path), "%s/k%u-16", dir,
			 rng_next(&c->rng) % 10);
		if (x < 70) {
			if (!read_ok(c->h, XBT_NULL, path))
				client_error(c, "read");
		} else if (x < 90) {
			if (!write_str(c->h, XBT_NULL, path, val,
				       sizeof(val)))
				client_error(c, "write");
		} else {
			char **d = xs_directory(c->h, XBT_NULL, dir, &num);

			if (!d)
				client_error(c, "directory");
			free(d);
		}
		c->ops++;
	}
	return NULL;
}

static void *conflict_main(void *arg)
{
	struct client *c = arg;
	struct crowd *cr = crowd_current;
	const char *path = BASE "/conflict/counter-4";

	pthread_barrier_wait(&cr->start);
	while (!atomic_load_explicit(&cr->stop, memory_order_relaxed)) {
		xs_transaction_t t = xs_transaction_start(c->h);
		unsigned int len;
		char *v, nv[32];
		unsigned long n;

		if (t == XBT_NULL) {
			client_error(c, "transaction start");
			continue;
		}
		v = xs_read(c->h, t, path, &len);
		if (!v) {
			client_error(c, "read");
			xs_transaction_end(c->h, t, true);
			continue;
		}
		n = strtoul(v, NULL, 10);
		free(v);
		snprintf(nv, sizeof(nv), "%lu", n + 1);
		if (!write_str(c->h, t, path, nv, strlen(nv))) {
			client_error(c, "write");
			xs_transaction_end(c->h, t, true);
			continue;
		}
		if (xs_transaction_end(c->h, t, false))
			c->ops++;
		else if (errno == EAGAIN)
			c->retries++;
		else
			client_error(c, "commit");
	}
	return NULL;
}

/*
 * One round on one server: n clients each with its own handle run fn for
 * `seconds`.  Returns the elapsed ns (0 on set-up failure) and leaves the
 * counters in cr->cl.
 */
static uint64_t crowd_run(struct crowd *cr, struct server *s, int n,
			  void *(*fn)(void *), const char *item)
{
	uint64_t t0 = 0, t1;
	int started = 0;

	memset(cr->cl, 0, sizeof(*cr->cl) * (size_t)n);
	cr->n = n;
	atomic_store(&cr->stop, false);
	for (int i = 0; i < n; i++) {
		cr->cl[i].idx = i;
		cr->cl[i].floor = s->floor;
		cr->cl[i].rng = 0x9e3779b9u * (uint32_t)(i + 1);
		cr->cl[i].h = open_handle(s);
		if (!cr->cl[i].h) {
			fail(s, item, "xs_open of client %d", i);
			goto out;
		}
	}
	crowd_current = cr;
	pthread_barrier_init(&cr->start, NULL, (unsigned int)n + 1);
	for (started = 0; started < n; started++) {
		if (pthread_create(&cr->cl[started].thread, NULL, fn,
				   &cr->cl[started])) {
			/* cannot recover the barrier: give up loudly */
			fprintf(stderr, "xsbench: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&cr->start);
	t0 = now_ns();
	sleep_ns((uint64_t)(opt.seconds * 1e9));
	atomic_store(&cr->stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(cr->cl[i].thread, NULL);
	t1 = now_ns();
	pthread_barrier_destroy(&cr->start);
	for (int i = 0; i < n; i++) {
		if (cr->cl[i].errors) {
			errno = cr->cl[i].first_errno;
			fail(s, item, "client %d: %s (%" PRIu64 " errors)", i,
			     cr->cl[i].first_what, cr->cl[i].errors);
			break;
		}
	}
out:
	for (int i = 0; i < n; i++) {
		if (cr->cl[i].h)
			xs_close(cr->cl[i].h);
		cr->cl[i].h = NULL;
	}
	return t0 ? t1 - t0 : 0;
}

static bool setup_mixed(struct xs_handle *h, int n)
{
	char path[128];

	xs_rm(h, XBT_NULL, BASE "/mix");
	for (int c = 0; c < n; c++) {
		for (int k = 0; k < 10; k++) {
			snprintf(path, sizeof(path), BASE "/mix/c%d/k%d-16",
				 c, k);
			if (!write_str(h, XBT_NULL, path, "0123456789abcdef",
				       16))
				return false;
		}
	}
	return true;
}

static void bench_mixed(void)
{
	struct crowd cr = { .cl = calloc((size_t)opt.clients,
					 sizeof(struct client)) };
	char item[64];

	if (!cr.cl)
		exit(1);
	snprintf(item, sizeof(item), "mixed-%d", opt.clients);
	item_begin();
	for (int i = 0; i < nservers; i++) {
		struct xs_handle *h = open_handle(&servers[i]);

		if (!h || !setup_mixed(h, opt.clients))
			fail(&servers[i], item, "set-up");
		if (h)
			xs_close(h);
	}
	/* r = -1 is the warm-up round */
	for (int r = -1; r < opt.rounds; r++) {
		for (int k = 0; k < nservers; k++) {
			struct server *s = round_server(r + 1, k);
			uint64_t ops = 0, dt;

			if (s->failed)
				continue;
			dt = crowd_run(&cr, s, opt.clients, mixed_main, item);
			if (!dt || s->failed)
				continue;
			for (int i = 0; i < opt.clients; i++)
				ops += cr.cl[i].ops;
			if (r >= 0)
				item_add(s, (double)ops * 1e9 / (double)dt);
		}
	}
	item_report(item, "ops/s");
	for (int i = 0; i < nservers; i++) {
		struct xs_handle *h = open_handle(&servers[i]);

		if (h) {
			xs_rm(h, XBT_NULL, BASE "/mix");
			xs_close(h);
		}
	}
	free(cr.cl);
}

static bool read_counter(struct xs_handle *h, unsigned long *ret)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, BASE "/conflict/counter-4", &len);

	if (!v)
		return false;
	*ret = strtoul(v, NULL, 10);
	free(v);
	return true;
}

static void bench_conflict(int n)
{
	struct crowd cr = { .cl = calloc((size_t)n, sizeof(struct client)) };
	double retries[MAX_SERVERS][64];
	int nretries[MAX_SERVERS] = { 0 };
	char item[64];

	if (!cr.cl)
		exit(1);
	snprintf(item, sizeof(item), "conflict-%d", n);
	item_begin();
	for (int i = 0; i < nservers; i++) {
		struct xs_handle *h = open_handle(&servers[i]);

		if (!h || !write_str(h, XBT_NULL, BASE "/conflict/counter-4",
				     "0", 1))
			fail(&servers[i], item, "set-up");
		if (h)
			xs_close(h);
	}
	for (int r = -1; r < opt.rounds; r++) {
		for (int k = 0; k < nservers; k++) {
			struct server *s = round_server(r + 1, k);
			int si = (int)(s - servers);
			struct xs_handle *h = NULL;
			uint64_t commits = 0, retry = 0, dt;
			unsigned long before = 0, after = 0;

			if (s->failed)
				continue;
			if (!s->floor) {
				h = open_handle(s);
				if (!h || !read_counter(h, &before)) {
					fail(s, item, "read counter");
					if (h)
						xs_close(h);
					continue;
				}
			}
			dt = crowd_run(&cr, s, n, conflict_main, item);
			for (int i = 0; i < n; i++) {
				commits += cr.cl[i].ops;
				retry += cr.cl[i].retries;
			}
			if (h) {
				if (!read_counter(h, &after))
					fail(s, item, "read counter");
				else if (after - before != commits) {
					errno = 0;
					fail(s, item, "lost updates: counter "
					     "went %lu -> %lu, %" PRIu64
					     " commits", before, after,
					     commits);
				}
				xs_close(h);
			}
			if (!dt || s->failed || r < 0)
				continue;
			item_add(s, (double)commits * 1e9 / (double)dt);
			if (nretries[si] < 64)
				retries[si][nretries[si]++] =
					commits ? (double)retry /
						  (double)commits : 0;
		}
	}
	item_report(item, "commits/s");
	snprintf(item, sizeof(item), "conflict-%d-retries", n);
	for (int i = 0; i < nservers; i++) {
		struct server *s = &servers[i];

		if (s->failed || !nretries[i])
			printf("RESULT %s %s FAIL retries/commit\n", item,
			       s->name);
		else
			printf("RESULT %s %s %.3f retries/commit\n", item,
			       s->name, median(retries[i], nretries[i]));
	}
	fflush(stdout);
	for (int i = 0; i < nservers; i++) {
		struct xs_handle *h = open_handle(&servers[i]);

		if (h) {
			xs_rm(h, XBT_NULL, BASE "/conflict");
			xs_close(h);
		}
	}
	free(cr.cl);
}

/* ------------------------------------------------------------- fanout -- */

/* Collect `want` watch events from the handles registered in epfd. */
static bool collect_events(int epfd, int want, uint64_t deadline)
{
	int got = 0;

	while (got < want) {
		struct epoll_event evs[64];
		uint64_t now = now_ns();
		int n;

		if (now >= deadline) {
			errno = ETIMEDOUT;
			return false;
		}
		n = epoll_wait(epfd, evs, 64,
			       (int)((deadline - now) / 1000000u) + 1);
		if (n < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < n; i++) {
			struct xs_handle *h = evs[i].data.ptr;
			char **vec;

			while ((vec = xs_check_watch(h)) != NULL) {
				free(vec);
				got++;
			}
			if (errno != EAGAIN)
				return false;
		}
	}
	return true;
}

/* One round: mean ns per write until all w watchers have their event. */
static double fanout_round(struct server *s, int w, int writes,
			   const char *item)
{
	struct xs_handle **hs = calloc((size_t)w, sizeof(*hs));
	struct xs_handle *writer = NULL;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	uint64_t sum = 0;
	double ret = -1;
	char val[8] = "abcdefgh";

	if (!hs || epfd < 0)
		goto out;
	writer = open_handle(s);
	if (!writer) {
		fail(s, item, "xs_open");
		goto out;
	}
	for (int i = 0; i < w; i++) {
		char token[32];
		struct epoll_event ev = { .events = EPOLLIN };

		snprintf(token, sizeof(token), "w%d", i);
		hs[i] = open_handle(s);
		if (!hs[i] || !xs_watch(hs[i], BASE "/watch", token)) {
			fail(s, item, "watch %d", i);
			goto out;
		}
		ev.data.ptr = hs[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, xs_fileno(hs[i]), &ev) < 0) {
			fail(s, item, "epoll_ctl");
			goto out;
		}
	}
	/* the initial events */
	if (!collect_events(epfd, w, now_ns() + 10 * 1000000000ull)) {
		fail(s, item, "initial watch events");
		goto out;
	}
	for (int i = 0; i < writes; i++) {
		uint64_t t0 = now_ns();

		val[0] = (char)('a' + i % 26);
		if (!write_str(writer, XBT_NULL, BASE "/watch/node-8", val,
			       sizeof(val))) {
			fail(s, item, "write");
			goto out;
		}
		if (!collect_events(epfd, w, t0 + 10 * 1000000000ull)) {
			fail(s, item, "events of write %d", i);
			goto out;
		}
		sum += now_ns() - t0;
	}
	ret = (double)sum / writes;
out:
	for (int i = 0; hs && i < w; i++)
		if (hs[i])
			xs_close(hs[i]);
	if (writer)
		xs_close(writer);
	if (epfd >= 0)
		close(epfd);
	free(hs);
	return ret;
}

static void bench_fanout(int w)
{
	char item[64];
	int writes = opt.iters / 10 > 10 ? opt.iters / 10 : 10;

	snprintf(item, sizeof(item), "watch-fanout-%d", w);
	item_begin();
	for (int i = 0; i < nservers; i++) {
		struct xs_handle *h = open_handle(&servers[i]);

		if (!h || !write_str(h, XBT_NULL, BASE "/watch/node-8", "", 0))
			fail(&servers[i], item, "set-up");
		if (h)
			xs_close(h);
	}
	for (int r = -1; r < opt.rounds; r++) {
		for (int k = 0; k < nservers; k++) {
			struct server *s = round_server(r + 1, k);
			double v;

			if (s->failed)
				continue;
			v = fanout_round(s, w, r < 0 ? writes / 4 + 1 : writes,
					 item);
			if (v >= 0 && r >= 0)
				item_add(s, v);
		}
	}
	item_report(item, "ns");
}

/* --------------------------------------------------------------- idle -- */

/* A raw connection that has done one round trip, then stays idle. */
static int idle_open(const struct server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool idle_ping_send(int fd)
{
	struct {
		struct xsd_sockmsg h;
		char body[2];
	} m = { { .type = XS_READ, .req_id = 1, .len = 2 }, "/" };

	return send(fd, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m);
}

static bool idle_ping_recv(int fd)
{
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX];
	size_t got = 0;

	while (got < sizeof(h)) {
		ssize_t n = recv(fd, (char *)&h + got, sizeof(h) - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	if (h.len > sizeof(body))
		return false;
	for (got = 0; got < h.len;) {
		ssize_t n = recv(fd, body + got, h.len - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static void bench_idle(int k)
{
	struct xs_handle *h[MAX_SERVERS] = { NULL };
	int *fds = malloc(sizeof(int) * (size_t)k * (size_t)nservers);
	const struct op read1 = { "read-1", NULL, op_read1 };
	char item[64];

	if (!fds)
		exit(1);
	for (int i = 0; i < k * nservers; i++)
		fds[i] = -1;
	snprintf(item, sizeof(item), "idle-%d-read-1", k);
	item_begin();
	for (int i = 0; i < nservers; i++) {
		struct server *s = &servers[i];
		int *f = fds + i * k;

		h[i] = open_handle(s);
		if (!h[i] || !write_str(h[i], XBT_NULL, BASE "/ops/v-1", "a",
					1)) {
			fail(s, item, "set-up");
			continue;
		}
		/* send all pings first so a small listen backlog drains */
		for (int j = 0; j < k; j++) {
			f[j] = idle_open(s);
			if (f[j] < 0 || !idle_ping_send(f[j])) {
				fail(s, item, "idle connection %d", j);
				break;
			}
		}
		for (int j = 0; j < k && !s->failed; j++)
			if (!idle_ping_recv(f[j]))
				fail(s, item, "idle connection %d reply", j);
	}
	for (int i = 0; i < nservers; i++)
		if (!servers[i].failed && time_op(h[i], &read1,
						  opt.iters / 4 + 50) < 0)
			fail(&servers[i], item, "warm-up");
	for (int r = 0; r < opt.rounds; r++) {
		for (int j = 0; j < nservers; j++) {
			struct server *s = round_server(r, j);
			double v;

			if (s->failed)
				continue;
			v = time_op(h[s - servers], &read1, opt.iters);
			if (v < 0)
				fail(s, item, "round %d", r);
			else
				item_add(s, v);
		}
	}
	item_report(item, "ns");
	for (int i = 0; i < k * nservers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < nservers; i++) {
		if (h[i]) {
			xs_rm(h[i], XBT_NULL, BASE "/ops");
			xs_close(h[i]);
		}
	}
	free(fds);
}

/* --------------------------------------------------------------- wait -- */

static int wait_ready(void)
{
	int rc = 0;

	for (int i = 0; i < nservers; i++) {
		struct server *s = &servers[i];
		uint64_t deadline = now_ns() +
				    (uint64_t)(opt.wait_seconds * 1e9);

		for (;;) {
			int fd = idle_open(s);

			if (fd >= 0) {
				bool ok = idle_ping_send(fd) &&
					  idle_ping_recv(fd);

				close(fd);
				if (ok)
					break;
			}
			if (now_ns() > deadline) {
				fprintf(stderr, "xsbench: %s does not answer "
					"on %s\n", s->name, s->sock);
				rc = 1;
				break;
			}
			sleep_ns(10 * 1000000u);  /* poll with a deadline */
		}
	}
	return rc;
}

/* ---------------------------------------------------------------- main -- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: xsbench [options] -s NAME=SOCKET [-s ...] WORKLOAD...\n"
"  WORKLOAD: ops mixed conflict fanout idle all wait\n"
"  -s NAME=SOCKET   a xenstored to measure (repeat; rounds alternate)\n"
"  -F NAME=SOCKET   the floor (bench/floor): nothing is verified on it\n"
"  -r N             timed rounds per figure (default %d)\n"
"  -i N             calls per round for ops/idle (default %d); fanout does\n"
"                   N/10 writes per round\n"
"  -d SECONDS       duration of a mixed/conflict round (default %.1f)\n"
"  -c N             clients of the mixed workload (default %d)\n"
"  -n N[,N...]      clients of the conflict workload (default 8)\n"
"  -w N[,N...]      watchers of the fanout workload (default 1,32)\n"
"  -k N[,N...]      idle connections (default 1,100,1000)\n"
"  -o OP[,OP...]    ops: run only these (read-1 read-2000 write-1 write-2000\n"
"                   dir-10 rm-node ta-empty ta-rmw)\n"
"  -t SECONDS       wait: how long to wait for each server (default 10)\n"
"Prints 'RESULT workload server value unit'; value is a median over rounds.\n",
		opt.rounds, opt.iters, opt.seconds, opt.clients);
}

static bool parse_int(const char *s, int min, int max, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = (int)v;
	return true;
}

static bool parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0))
		return false;
	*ret = v;
	return true;
}

static bool parse_list(const char *s, int max, int *list, int *n)
{
	char tmp[128], *save = NULL, *tok;

	snprintf(tmp, sizeof(tmp), "%s", s);
	*n = 0;
	for (tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_LIST || !parse_int(tok, 1, max, &list[*n]))
			return false;
		(*n)++;
	}
	return *n > 0;
}

static bool add_server(char *arg, bool is_floor)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || nservers >= MAX_SERVERS)
		return false;
	*eq = '\0';
	servers[nservers].name = arg;
	servers[nservers].sock = eq + 1;
	servers[nservers].floor = is_floor;
	nservers++;
	return true;
}

static void raise_nofile(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < (rlim_t)need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
			      rl.rlim_max > (rlim_t)need ? (rlim_t)need
							 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 ||
		    rl.rlim_cur < (rlim_t)need)
			fprintf(stderr, "xsbench: RLIMIT_NOFILE is %llu, "
				"below the %d needed\n",
				(unsigned long long)rl.rlim_cur, need);
	}
}

int main(int argc, char **argv)
{
	int c, max_idle = 0;

	while ((c = getopt(argc, argv, "s:F:r:i:d:c:n:w:k:t:o:h")) != -1) {
		bool ok = true;

		switch (c) {
		case 's': ok = add_server(optarg, false); break;
		case 'F': ok = add_server(optarg, true); break;
		case 'r': ok = parse_int(optarg, 1, 63, &opt.rounds); break;
		case 'i': ok = parse_int(optarg, 1, 100000000, &opt.iters);
			  break;
		case 'd': ok = parse_double(optarg, &opt.seconds); break;
		case 'c': ok = parse_int(optarg, 1, 4096, &opt.clients);
			  break;
		case 'n': ok = parse_list(optarg, 4096, opt.tx_clients,
					  &opt.n_tx_clients); break;
		case 'w': ok = parse_list(optarg, 4096, opt.watchers,
					  &opt.n_watchers); break;
		case 'k': ok = parse_list(optarg, 100000, opt.idle,
					  &opt.n_idle); break;
		case 't': ok = parse_double(optarg, &opt.wait_seconds); break;
		case 'o': opt.only_ops = optarg; break;
		case 'h': usage(stdout); return 0;
		default: ok = false; break;
		}
		if (!ok) {
			usage(stderr);
			return 2;
		}
	}
	if (!nservers || optind >= argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(buf2000, 'b', sizeof(buf2000));
	for (int i = 0; i < opt.n_idle; i++)
		if (opt.idle[i] > max_idle)
			max_idle = opt.idle[i];
	{
		/* idle sockets, mixed handles, or watchers (socket + pipe) */
		int need = max_idle * nservers, max_w = 0;

		for (int i = 0; i < opt.n_watchers; i++)
			if (opt.watchers[i] > max_w)
				max_w = opt.watchers[i];
		if (need < opt.clients)
			need = opt.clients;
		if (need < 3 * max_w)
			need = 3 * max_w;
		raise_nofile(need + 256);
	}

	for (int a = optind; a < argc; a++) {
		const char *w = argv[a];
		bool all = !strcmp(w, "all");

		if (!strcmp(w, "wait")) {
			if (wait_ready())
				return 1;
			continue;
		}
		if (all || !strcmp(w, "ops"))
			bench_ops();
		if (all || !strcmp(w, "mixed"))
			bench_mixed();
		if (all || !strcmp(w, "conflict"))
			for (int i = 0; i < opt.n_tx_clients; i++)
				bench_conflict(opt.tx_clients[i]);
		if (all || !strcmp(w, "fanout"))
			for (int i = 0; i < opt.n_watchers; i++)
				bench_fanout(opt.watchers[i]);
		if (all || !strcmp(w, "idle"))
			for (int i = 0; i < opt.n_idle; i++)
				bench_idle(opt.idle[i]);
		if (!all && strcmp(w, "ops") && strcmp(w, "mixed") &&
		    strcmp(w, "conflict") && strcmp(w, "fanout") &&
		    strcmp(w, "idle")) {
			fprintf(stderr, "xsbench: unknown workload %s\n", w);
			usage(stderr);
			return 2;
		}
	}
	return 0;
}
