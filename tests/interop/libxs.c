// SPDX-License-Identifier: MIT
/*
 * Debian's libxenstore (xenstore.h) against xpt-xenstored.
 *
 * Run through with-daemon.sh, which starts a private daemon and sets
 * XENSTORED_PATH (the privileged socket) and XPT_RUNDIR.  With XPT_EXTERNAL=1
 * (an already running daemon such as Debian's C xenstored) the checks that
 * need DIR/domain/<id> sockets are skipped.
 *
 * Output is TAP-like; the exit status is 1 if any check failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#define BASE "/interop-libxs"
#define EVENT_TIMEOUT_MS 10000
#define NBIG 2000

static int n_checks;
static int n_failed;

static void check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	n_checks++;
	if (!cond)
		n_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", n_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("#   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static struct xs_handle *open_handle(const char *path)
{
	struct xs_handle *h;

	/* xs_open() reads XENSTORED_PATH at open time */
	if (path)
		setenv("XENSTORED_PATH", path, 1);
	h = xs_open(0);
	if (!h)
		diag("xs_open(%s): %s", path ? path : "$XENSTORED_PATH", strerror(errno));
	return h;
}

static bool write_str(struct xs_handle *h, xs_transaction_t t, const char *path, const char *val)
{
	return xs_write(h, t, path, val, strlen(val));
}

/* Value of path as a malloc'd string, NULL (errno set) if unreadable. */
static char *read_str(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	unsigned int len;

	return xs_read(h, t, path, &len);
}

static bool value_is(struct xs_handle *h, xs_transaction_t t, const char *path, const char *want)
{
	char *v = read_str(h, t, path);
	bool same;

	if (!v) {
		diag("read %s: %s (wanted \"%s\")", path, strerror(errno), want);
		return false;
	}
	same = strcmp(v, want) == 0;
	if (!same)
		diag("read %s: \"%s\", wanted \"%s\"", path, v, want);
	free(v);
	return same;
}

static bool read_fails(struct xs_handle *h, xs_transaction_t t, const char *path, int want_errno)
{
	char *v = read_str(h, t, path);

	if (v) {
		diag("read %s succeeded (\"%s\"), wanted %s", path, v, strerror(want_errno));
		free(v);
		return false;
	}
	if (errno != want_errno) {
		diag("read %s: %s, wanted %s", path, strerror(errno), strerror(want_errno));
		return false;
	}
	return true;
}

/*
 * Next watch event within the timeout, or NULL.  The result is the vector
 * from xs_check_watch (free it).
 */
static char **next_event(struct xs_handle *h, int timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char **vec = xs_check_watch(h);
		struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
		int left;

		if (vec)
			return vec;
		if (errno != EAGAIN) {
			diag("xs_check_watch: %s", strerror(errno));
			return NULL;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
					  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return NULL;
		poll(&pfd, 1, left);
	}
}

static bool expect_event(struct xs_handle *h, const char *path, const char *token)
{
	char **vec = next_event(h, EVENT_TIMEOUT_MS);
	bool same;

	if (!vec) {
		diag("no event (wanted %s %s)", path, token);
		return false;
	}
	same = strcmp(vec[XS_WATCH_PATH], path) == 0 && strcmp(vec[XS_WATCH_TOKEN], token) == 0;
	if (!same)
		diag("event %s %s, wanted %s %s", vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN], path, token);
	free(vec);
	return same;
}

/*
 * Make sure no event for an earlier operation is pending: register a marker
 * watch; its initial event is queued after anything the daemon already sent,
 * so it must be the very next event.
 */
static bool no_event_before_marker(struct xs_handle *h, const char *what)
{
	static int seq;
	char token[32];
	char **vec;
	bool ok;

	snprintf(token, sizeof(token), "marker-%d", ++seq);
	if (!xs_watch(h, BASE "/marker", token)) {
		diag("marker watch: %s", strerror(errno));
		return false;
	}
	vec = next_event(h, EVENT_TIMEOUT_MS);
	ok = vec && strcmp(vec[XS_WATCH_TOKEN], token) == 0;
	if (!ok)
		diag("%s: got event %s %s before the marker", what,
		     vec ? vec[XS_WATCH_PATH] : "(none)", vec ? vec[XS_WATCH_TOKEN] : "");
	free(vec);
	xs_unwatch(h, BASE "/marker", token);
	return ok;
}

static void test_basic(struct xs_handle *h)
{
	unsigned int num;
	char **dir;

	xs_rm(h, XBT_NULL, BASE);
	check(write_str(h, XBT_NULL, BASE "/a", "alpha"), "write");
	check(value_is(h, XBT_NULL, BASE "/a", "alpha"), "read back");
	check(xs_write(h, XBT_NULL, BASE "/bin", "x\0y\n\xff", 5), "write binary value");
	{
		unsigned int len = 0;
		char *v = xs_read(h, XBT_NULL, BASE "/bin", &len);

		check(v && len == 5 && memcmp(v, "x\0y\n\xff", 5) == 0 && v[5] == '\0',
		      "binary value round trip (len %u)", len);
		free(v);
	}
	check(xs_mkdir(h, XBT_NULL, BASE "/dir/sub"), "mkdir with implicit parent");
	check(xs_mkdir(h, XBT_NULL, BASE "/a"), "mkdir of an existing node is OK");
	check(value_is(h, XBT_NULL, BASE "/a", "alpha"), "mkdir left the value alone");
	dir = xs_directory(h, XBT_NULL, BASE, &num);
	check(dir && num == 3 && !strcmp(dir[0], "a") && !strcmp(dir[1], "bin") &&
	      !strcmp(dir[2], "dir"), "directory in insertion order (%u entries)", num);
	free(dir);
	check(xs_rm(h, XBT_NULL, BASE "/dir"), "rm subtree");
	check(read_fails(h, XBT_NULL, BASE "/dir/sub", ENOENT), "removed subtree is gone");
	check(xs_rm(h, XBT_NULL, BASE "/dir"), "rm of a missing node with a parent is OK");
	check(!xs_rm(h, XBT_NULL, BASE "/dir/sub/x") && errno == ENOENT,
	      "rm with a missing parent is ENOENT");
	check(!xs_rm(h, XBT_NULL, "/") && errno == EINVAL, "rm / is EINVAL");
	{
		char *p = xs_get_domain_path(h, 7);

		check(p && !strcmp(p, "/local/domain/7"), "get_domain_path 7: %s", p ? p : "NULL");
		free(p);
	}
}

static void test_transactions(struct xs_handle *h1, struct xs_handle *h2)
{
	xs_transaction_t t, t2;
	int attempts;
	bool done;

	write_str(h1, XBT_NULL, BASE "/tx", "0");

	/* commit */
	t = xs_transaction_start(h1);
	check(t != XBT_NULL, "transaction_start");
	check(write_str(h1, t, BASE "/tx", "1"), "write in transaction");
	check(write_str(h1, t, BASE "/txnew/child", "c"), "create in transaction");
	check(value_is(h1, t, BASE "/tx", "1"), "transaction sees its own write");
	check(value_is(h2, XBT_NULL, BASE "/tx", "0"), "others do not see it before commit");
	check(read_fails(h2, XBT_NULL, BASE "/txnew/child", ENOENT),
	      "others do not see a created node before commit");
	check(xs_transaction_end(h1, t, false), "commit");
	check(value_is(h2, XBT_NULL, BASE "/tx", "1"), "committed write visible");
	check(value_is(h2, XBT_NULL, BASE "/txnew/child", "c"), "committed creation visible");

	/* abort */
	t = xs_transaction_start(h1);
	write_str(h1, t, BASE "/tx", "2");
	xs_rm(h1, t, BASE "/txnew");
	check(xs_transaction_end(h1, t, true), "abort");
	check(value_is(h2, XBT_NULL, BASE "/tx", "1"), "aborted write discarded");
	check(value_is(h2, XBT_NULL, BASE "/txnew/child", "c"), "aborted rm discarded");

	/* a real conflict between two handles */
	t = xs_transaction_start(h1);
	check(value_is(h1, t, BASE "/tx", "1"), "read in transaction");
	check(write_str(h2, XBT_NULL, BASE "/tx", "outside"), "conflicting write outside");
	check(value_is(h1, t, BASE "/tx", "1"), "transaction still sees its snapshot");
	check(write_str(h1, t, BASE "/tx", "inside"), "write in the doomed transaction");
	check(!xs_transaction_end(h1, t, false) && errno == EAGAIN, "commit fails with EAGAIN");
	check(value_is(h2, XBT_NULL, BASE "/tx", "outside"), "outside write survives");

	/* two transactions, both from other handles, same node */
	t = xs_transaction_start(h1);
	t2 = xs_transaction_start(h2);
	value_is(h1, t, BASE "/tx", "outside");
	value_is(h2, t2, BASE "/tx", "outside");
	write_str(h1, t, BASE "/tx", "t1");
	write_str(h2, t2, BASE "/tx", "t2");
	check(xs_transaction_end(h2, t2, false), "first committer wins");
	check(!xs_transaction_end(h1, t, false) && errno == EAGAIN, "second committer gets EAGAIN");
	check(value_is(h1, XBT_NULL, BASE "/tx", "t2"), "winner's value stored");

	/* the usual retry loop, with a conflict injected on the first round */
	write_str(h1, XBT_NULL, BASE "/counter", "10");
	attempts = 0;
	done = false;
	while (!done && attempts < 10) {
		char *v;
		char buf[32];

		attempts++;
		t = xs_transaction_start(h1);
		v = read_str(h1, t, BASE "/counter");
		if (!v)
			break;
		if (attempts == 1)
			write_str(h2, XBT_NULL, BASE "/counter", "20");
		snprintf(buf, sizeof(buf), "%d", atoi(v) + 1);
		free(v);
		write_str(h1, t, BASE "/counter", buf);
		done = xs_transaction_end(h1, t, false);
		if (!done && errno != EAGAIN)
			break;
	}
	check(done && attempts == 2, "retry loop: committed on attempt %d", attempts);
	check(value_is(h2, XBT_NULL, BASE "/counter", "21"), "retry loop result");

	/* unknown transaction id */
	check(read_str(h1, 4242, BASE "/tx") == NULL && errno == ENOENT,
	      "read with a bogus transaction id: ENOENT");
	/* a removed node seen in a transaction */
	t = xs_transaction_start(h1);
	check(xs_rm(h1, t, BASE "/txnew"), "rm in transaction");
	check(read_fails(h1, t, BASE "/txnew/child", ENOENT), "rm'd in transaction: ENOENT inside");
	check(value_is(h2, XBT_NULL, BASE "/txnew/child", "c"), "still there outside");
	check(xs_transaction_end(h1, t, false), "commit rm");
	check(read_fails(h2, XBT_NULL, BASE "/txnew", ENOENT), "rm committed");
}

static void test_watches(struct xs_handle *h1, struct xs_handle *h2)
{
	xs_transaction_t t;
	unsigned int num;
	char **vec;

	xs_rm(h1, XBT_NULL, BASE "/w");
	check(xs_watch(h1, BASE "/w", "tok"), "watch a missing node");
	/* xs_read_watch blocks: the initial event must be there */
	vec = xs_read_watch(h1, &num);
	check(vec && num >= 2 && !strcmp(vec[XS_WATCH_PATH], BASE "/w") &&
	      !strcmp(vec[XS_WATCH_TOKEN], "tok"), "xs_read_watch: initial event");
	free(vec);
	check(!xs_watch(h1, BASE "/w", "tok") && errno == EEXIST, "duplicate watch: EEXIST");
	check(xs_watch(h1, BASE "/w", "tok2"), "same path, second token");
	check(expect_event(h1, BASE "/w", "tok2"), "initial event for the second token");

	write_str(h2, XBT_NULL, BASE "/w/a/b", "1");
	/* both tokens fire, in either order */
	{
		char **a = next_event(h1, EVENT_TIMEOUT_MS);
		char **b = a ? next_event(h1, EVENT_TIMEOUT_MS) : NULL;
		bool ok = a && b && !strcmp(a[XS_WATCH_PATH], BASE "/w/a/b") &&
			  !strcmp(b[XS_WATCH_PATH], BASE "/w/a/b") &&
			  strcmp(a[XS_WATCH_TOKEN], b[XS_WATCH_TOKEN]) != 0;

		check(ok, "subtree write fires both tokens once (%s %s, %s %s)",
		      a ? a[XS_WATCH_PATH] : "-", a ? a[XS_WATCH_TOKEN] : "-",
		      b ? b[XS_WATCH_PATH] : "-", b ? b[XS_WATCH_TOKEN] : "-");
		free(a);
		free(b);
	}
	check(no_event_before_marker(h1, "implicit parents"), "no extra events for implicit parents");
	check(xs_unwatch(h1, BASE "/w", "tok2"), "unwatch the second token");

	write_str(h2, XBT_NULL, BASE "/w", "self");
	check(expect_event(h1, BASE "/w", "tok"), "write to the watched node itself");
	xs_set_permissions(h2, XBT_NULL, BASE "/w/a",
			   (struct xs_permissions[]){ { .id = 0, .perms = XS_PERM_READ } }, 1);
	check(expect_event(h1, BASE "/w/a", "tok"), "set_permissions event");
	check(xs_rm(h2, XBT_NULL, BASE "/w/a"), "rm subtree");
	check(expect_event(h1, BASE "/w/a", "tok"), "rm event for the subtree root");
	check(no_event_before_marker(h1, "rm"), "one event per rm for a subtree watch");

	/* watch on a node below the removed one (exact match fires) */
	write_str(h2, XBT_NULL, BASE "/w/x/y", "1");
	check(expect_event(h1, BASE "/w/x/y", "tok"), "write event");
	check(xs_watch(h1, BASE "/w/x/y", "deep"), "watch a leaf");
	check(expect_event(h1, BASE "/w/x/y", "deep"), "leaf initial event");
	check(xs_rm(h2, XBT_NULL, BASE "/w/x"), "rm the leaf's parent");
	{
		/* the subtree watch sees /w/x, the leaf watch sees /w/x/y */
		char **a = next_event(h1, EVENT_TIMEOUT_MS);
		char **b = a ? next_event(h1, EVENT_TIMEOUT_MS) : NULL;
		bool got_root = false, got_leaf = false;

		for (int i = 0; i < 2; i++) {
			char **e = i ? b : a;

			if (!e)
				continue;
			if (!strcmp(e[XS_WATCH_PATH], BASE "/w/x") && !strcmp(e[XS_WATCH_TOKEN], "tok"))
				got_root = true;
			if (!strcmp(e[XS_WATCH_PATH], BASE "/w/x/y") && !strcmp(e[XS_WATCH_TOKEN], "deep"))
				got_leaf = true;
		}
		check(got_root && got_leaf, "rm fires the subtree root watch and the removed leaf's watch");
		free(a);
		free(b);
	}
	xs_unwatch(h1, BASE "/w/x/y", "deep");

	/* transaction: events only on commit */
	t = xs_transaction_start(h2);
	write_str(h2, t, BASE "/w/t1", "1");
	check(no_event_before_marker(h1, "uncommitted write"), "no event before commit");
	check(xs_transaction_end(h2, t, false), "commit");
	check(expect_event(h1, BASE "/w/t1", "tok"), "event at commit");
	t = xs_transaction_start(h2);
	write_str(h2, t, BASE "/w/t2", "1");
	check(xs_transaction_end(h2, t, true), "abort");
	check(no_event_before_marker(h1, "aborted write"), "no event for an aborted transaction");

	check(xs_unwatch(h1, BASE "/w", "tok"), "unwatch");
	check(!xs_unwatch(h1, BASE "/w", "tok") && errno == ENOENT, "second unwatch: ENOENT");
	write_str(h2, XBT_NULL, BASE "/w/after", "1");
	check(no_event_before_marker(h1, "after unwatch"), "no event after unwatch");

	/* relative watch over the privileged socket (base /local/domain/0) */
	check(xs_watch(h1, "interop-rel", "rel"), "relative watch");
	check(expect_event(h1, "interop-rel", "rel"), "relative initial event path is relative");
	write_str(h2, XBT_NULL, "/local/domain/0/interop-rel/k", "v");
	check(expect_event(h1, "interop-rel/k", "rel"), "relative event path is relative");
	xs_unwatch(h1, "interop-rel", "rel");
	xs_rm(h1, XBT_NULL, "/local/domain/0/interop-rel");
}

static void test_permissions(struct xs_handle *h)
{
	struct xs_permissions set[3] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ },
		{ .id = 7, .perms = XS_PERM_READ | XS_PERM_WRITE },
	};
	struct xs_permissions *got;
	unsigned int num = 0;

	write_str(h, XBT_NULL, BASE "/perm", "p");
	got = xs_get_permissions(h, XBT_NULL, BASE "/perm", &num);
	check(got && num >= 1 && got[0].id == 0 && got[0].perms == XS_PERM_NONE,
	      "default perms n0 (%u entries)", num);
	free(got);
	check(xs_set_permissions(h, XBT_NULL, BASE "/perm", set, 3), "set_permissions n0 r5 b7");
	got = xs_get_permissions(h, XBT_NULL, BASE "/perm", &num);
	check(got && num == 3 && !memcmp(got, set, sizeof(set)), "get_permissions round trip");
	free(got);
	/* a child created later inherits the parent's perms */
	write_str(h, XBT_NULL, BASE "/perm/child", "c");
	got = xs_get_permissions(h, XBT_NULL, BASE "/perm/child", &num);
	check(got && num == 3 && !memcmp(got, set, sizeof(set)), "new child inherits perms");
	free(got);
	check(xs_get_permissions(h, XBT_NULL, BASE "/perm/missing", &num) == NULL && errno == ENOENT,
	      "get_permissions of a missing node: ENOENT");
	{
		char *s;
		struct xs_permissions *sp = xs_get_permissions(h, XBT_NULL, "@releaseDomain", &num);

		/*
		 * Debian's C xenstored 4.17.7 answers EINVAL here (while SET_PERMS
		 * on @releaseDomain works); xenstore.txt allows it.  Accept both.
		 */
		check(sp != NULL || errno == EINVAL, "get_permissions @releaseDomain: %s",
		      sp ? "allowed" : strerror(errno));
		free(sp);
		s = read_str(h, XBT_NULL, "@releaseDomain");
		check(s == NULL && errno == EINVAL, "read @releaseDomain: EINVAL");
		free(s);
	}
}

static void test_domain(struct xs_handle *h, const char *rundir)
{
	char dsock[4096];
	struct xs_handle *d;
	struct stat st;
	struct xs_permissions home[1] = { { .id = 1, .perms = XS_PERM_NONE } };
	struct xs_permissions ro[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 1, .perms = XS_PERM_READ },
	};
	char *p;
	bool ok;

	check(!xs_is_domain_introduced(h, 1), "domain 1 not introduced yet");
	check(xs_watch(h, "@introduceDomain", "intro"), "watch @introduceDomain");
	check(expect_event(h, "@introduceDomain", "intro"), "@introduceDomain initial event");
	check(xs_watch(h, "@releaseDomain", "rel"), "watch @releaseDomain");
	check(expect_event(h, "@releaseDomain", "rel"), "@releaseDomain initial event");
	check(xs_introduce_domain(h, 1, 0, 1), "introduce domain 1");
	check(expect_event(h, "@introduceDomain", "intro"), "@introduceDomain fires");
	check(xs_is_domain_introduced(h, 1), "domain 1 introduced");

	snprintf(dsock, sizeof(dsock), "%s/domain/1", rundir);
	check(stat(dsock, &st) == 0 && S_ISSOCK(st.st_mode), "%s is a socket", dsock);
	d = open_handle(dsock);
	check(d != NULL, "xs_open as domain 1");
	if (!d)
		return;

	check(xs_mkdir(h, XBT_NULL, "/local/domain/1"), "dom0 creates /local/domain/1");
	check(xs_set_permissions(h, XBT_NULL, "/local/domain/1", home, 1), "chown it to dom1");
	write_str(h, XBT_NULL, BASE "/secret", "s");
	write_str(h, XBT_NULL, BASE "/shared", "r");
	check(xs_set_permissions(h, XBT_NULL, BASE "/shared", ro, 2), "shared: n0 r1");

	check(read_fails(d, XBT_NULL, BASE "/secret", EACCES), "dom1 cannot read an n0 node");
	check(value_is(d, XBT_NULL, BASE "/shared", "r"), "dom1 reads an r1 node");
	check(!write_str(d, XBT_NULL, BASE "/shared", "x") && errno == EACCES,
	      "dom1 cannot write an r1 node");
	check(!write_str(d, XBT_NULL, BASE "/newnode", "x") && errno == EACCES,
	      "dom1 cannot create under an n0 node");
	check(read_fails(d, XBT_NULL, BASE "/shared/missing", ENOENT),
	      "missing node under a readable one: ENOENT");
	check(read_fails(d, XBT_NULL, BASE "/secret/missing", EACCES),
	      "missing node under an unreadable one: EACCES");
	check(!xs_introduce_domain(d, 2, 0, 1) && errno == EACCES, "dom1 cannot introduce: EACCES");
	p = xs_get_domain_path(d, 1);
	check(p && !strcmp(p, "/local/domain/1"), "dom1 get_domain_path");
	free(p);

	check(write_str(d, XBT_NULL, "data/x", "42"), "dom1 writes a relative path");
	check(value_is(h, XBT_NULL, "/local/domain/1/data/x", "42"), "dom0 sees it in dom1's home");
	check(value_is(d, XBT_NULL, "/local/domain/1/data/x", "42"), "dom1 reads it absolutely");
	{
		unsigned int num = 0;
		struct xs_permissions *got = xs_get_permissions(h, XBT_NULL, "/local/domain/1/data/x", &num);

		check(got && num == 1 && got[0].id == 1, "dom1 owns what it created");
		free(got);
	}
	check(xs_watch(d, "data", "dt"), "dom1 relative watch");
	check(expect_event(d, "data", "dt"), "dom1 initial event, relative");
	write_str(h, XBT_NULL, "/local/domain/1/data/y", "1");
	check(expect_event(d, "data/y", "dt"), "dom1 event for a dom0 write, relative");
	check(xs_watch(d, BASE "/secret", "sec"), "dom1 may watch an unreadable node");
	check(expect_event(d, BASE "/secret", "sec"), "initial event even for an unreadable node");
	write_str(h, XBT_NULL, BASE "/secret", "s2");
	check(no_event_before_marker(d, "unreadable node"), "no event for an unreadable node");

	{
		xs_transaction_t t = xs_transaction_start(d);

		check(t != XBT_NULL, "dom1 transaction");
		check(write_str(d, t, "data/tx", "t"), "dom1 write in transaction");
		check(xs_transaction_end(d, t, false), "dom1 commit");
		check(value_is(h, XBT_NULL, "/local/domain/1/data/tx", "t"), "dom1 commit visible");
	}

	check(xs_release_domain(h, 1), "release domain 1");
	check(expect_event(h, "@releaseDomain", "rel"), "@releaseDomain fires");
	check(!xs_is_domain_introduced(h, 1), "domain 1 no longer introduced");
	check(read_fails(h, XBT_NULL, "/local/domain/1/data/x", ENOENT),
	      "release removed dom1's nodes");
	{
		/* GET_DOMAIN_PATH is allowed to anyone: it fails only if closed */
		char *v = xs_get_domain_path(d, 1);

		ok = v == NULL;
		free(v);
	}
	check(ok, "dom1's connection is closed after release");
	{
		/*
		 * 4.17 keeps a non-owner entry naming a released domain (marked
		 * ignored, still listed by GET_PERMS); master deletes it.  Either
		 * way a new domain with the same id must not inherit the right.
		 */
		unsigned int num = 0;
		struct xs_permissions *got = xs_get_permissions(h, XBT_NULL, BASE "/shared", &num);
		struct xs_handle *d2;

		diag("perms of a node naming released dom1: %u entries", got ? num : 0);
		free(got);
		check(xs_introduce_domain(h, 1, 0, 1), "introduce domain 1 again");
		check(expect_event(h, "@introduceDomain", "intro"), "@introduceDomain fires again");
		d2 = open_handle(dsock);
		check(d2 && read_fails(d2, XBT_NULL, BASE "/shared", EACCES),
		      "a new dom1 does not inherit the old dom1's r1 entry");
		if (d2)
			xs_close(d2);
		check(xs_release_domain(h, 1), "release domain 1 again");
		check(expect_event(h, "@releaseDomain", "rel"), "@releaseDomain fires again");
	}
	check(stat(dsock, &st) != 0, "release removed %s", dsock);
	xs_close(d);
	xs_unwatch(h, "@introduceDomain", "intro");
	xs_unwatch(h, "@releaseDomain", "rel");
}

static void test_big_directory(struct xs_handle *h)
{
	char path[128];
	char **dir;
	unsigned int num = 0;
	bool in_order = true;
	xs_transaction_t t;

	xs_rm(h, XBT_NULL, BASE "/big");
	t = xs_transaction_start(h);
	for (int i = 0; i < NBIG; i++) {
		snprintf(path, sizeof(path), BASE "/big/entry-%04d", i);
		if (!write_str(h, t, path, "")) {
			diag("write %s: %s", path, strerror(errno));
			break;
		}
	}
	check(xs_transaction_end(h, t, false), "create %d children in one transaction", NBIG);
	dir = xs_directory(h, XBT_NULL, BASE "/big", &num);
	check(dir && num == NBIG, "xs_directory returns all %d children (got %u%s%s)", NBIG, num,
	      dir ? "" : ", errno ", dir ? "" : strerror(errno));
	for (unsigned int i = 0; dir && i < num; i++) {
		snprintf(path, sizeof(path), "entry-%04u", i);
		if (strcmp(dir[i], path)) {
			diag("child %u is %s, wanted %s", i, dir[i], path);
			in_order = false;
			break;
		}
	}
	check(dir && in_order, "children in insertion order");
	free(dir);
	/* the same inside a transaction */
	t = xs_transaction_start(h);
	dir = xs_directory(h, t, BASE "/big", &num);
	check(dir && num == NBIG, "xs_directory in a transaction: %u", num);
	free(dir);
	xs_transaction_end(h, t, true);
	check(xs_rm(h, XBT_NULL, BASE "/big"), "rm the big directory");
}

int main(void)
{
	const char *rundir = getenv("XPT_RUNDIR");
	const char *ext = getenv("XPT_EXTERNAL");
	const char *sock = getenv("XENSTORED_PATH");
	struct xs_handle *h1, *h2;
	char *sockcopy;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!sock) {
		fprintf(stderr, "libxs: XENSTORED_PATH is not set (run via with-daemon.sh)\n");
		return 2;
	}
	sockcopy = strdup(sock);
	h1 = open_handle(NULL);
	h2 = open_handle(NULL);
	if (!h1 || !h2) {
		printf("Bail out! cannot open %s\n", sock);
		return 1;
	}
	test_basic(h1);
	test_transactions(h1, h2);
	test_permissions(h1);
	test_watches(h1, h2);
	test_big_directory(h1);
	if (rundir && !(ext && !strcmp(ext, "1")))
		test_domain(h1, rundir);
	else
		printf("# skipping domain checks (external daemon)\n");
	setenv("XENSTORED_PATH", sockcopy, 1);
	xs_rm(h1, XBT_NULL, BASE);
	xs_close(h2);
	xs_close(h1);
	free(sockcopy);
	printf("1..%d\n", n_checks);
	if (n_failed) {
		printf("# libxs: %d of %d failed\n", n_failed, n_checks);
		return 1;
	}
	printf("# libxs: all %d passed\n", n_checks);
	return 0;
}
