// SPDX-License-Identifier: MIT
/*
 * libxpt in-process: the persisted configuration's JSON round trip, and
 * the backend directory logic (reading whatever is there, detach
 * compaction, removal of the last device) against a real xpt-xenstored
 * started by the fixture in fakeplatform.c (argv[1]); xpt -v's wrapped
 * platform table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fakeplatform.h"
#include "libxpt.h"
#include "model.h"

static const char *xenstored;

static struct xpt_ctx *ctx_xs(void)
{
	struct xpt_ctx *c;
	char path[128];

	assert_int_equal(xpt_ctx_open(fake_rundir(), &c), 0);
	snprintf(path, sizeof(path), "%s/socket", fake_rundir());
	setenv("XENSTORED_PATH", path, 1);
	c->xs = xs_open(0);
	assert_non_null(c->xs);
	return c;
}

static void w(struct xpt_ctx *c, const char *path, const char *val)
{
	assert_true(xs_write(c->xs, XBT_NULL, path, val, strlen(val)));
}

static char *r(struct xpt_ctx *c, const char *path)
{
	return xpt_xs_read(c, XBT_NULL, path);
}

#define BE "/local/domain/0/backend/pci/7/0"

static void test_json_roundtrip(void **state)
{
	static struct xpt_domcfg d, back;
	char err[128], *text = NULL;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.domid = 12;
	snprintf(d.uuid, sizeof(d.uuid), "%s",
		 "4b0da73e-672a-44d1-b65d-4f574631a7d3");
	snprintf(d.cfg.name, sizeof(d.cfg.name), "web \"quoted\"");
	snprintf(d.cfg.type, sizeof(d.cfg.type), "pv");
	d.cfg.memory_mb = 2048;
	d.cfg.vcpus = 4;
	snprintf(d.cfg.kernel, sizeof(d.cfg.kernel), "/boot/vmlinuz");
	snprintf(d.cfg.ramdisk, sizeof(d.cfg.ramdisk), "/boot/initrd");
	snprintf(d.cfg.extra, sizeof(d.cfg.extra), "console=hvc0 \"q\"");
	d.started = true;
	d.cfg.e820_host = XPT_E820_OFF;
	assert_int_equal(xpt_pci_spec_parse("0000:03:02.1@05,permissive=1,"
					    "rdm_policy=relaxed", &d.cfg.pci[0],
					    err, sizeof(err)), 0);
	assert_int_equal(xpt_pci_spec_parse("04:00.0", &d.cfg.pci[1], err,
					    sizeof(err)), 0);
	d.cfg.npci = 2;
	assert_int_equal(xpt_domcfg_to_json(&d, &text), 0);
	assert_int_equal(xpt_domcfg_from_json(text, &back, err, sizeof(err)),
			 0);
	free(text);
	assert_int_equal(back.domid, 12);
	assert_string_equal(back.cfg.name, d.cfg.name);
	assert_string_equal(back.uuid, d.uuid);
	assert_int_equal(back.cfg.memory_mb, 2048);
	assert_int_equal(back.cfg.vcpus, 4);
	assert_string_equal(back.cfg.kernel, "/boot/vmlinuz");
	assert_string_equal(back.cfg.ramdisk, "/boot/initrd");	/* reboot on Xen */
	assert_string_equal(back.cfg.extra, "console=hvc0 \"q\"");
	assert_true(back.started);
	assert_int_equal(back.cfg.e820_host, XPT_E820_OFF);
	assert_false(back.cfg.stubdomain);
	assert_int_equal(back.cfg.npci, 2);
	assert_true(xpt_pci_spec_equal(&back.cfg.pci[0], &d.cfg.pci[0]));
	assert_true(xpt_pci_spec_equal(&back.cfg.pci[1], &d.cfg.pci[1]));
	/* an HVM guest with a stub domain is rebooted with one */
	snprintf(d.cfg.type, sizeof(d.cfg.type), "hvm");
	d.cfg.stubdomain = true;
	d.cfg.stubdomain_memory_mb = 64;
	d.cfg.e820_host = XPT_E820_DEFAULT;
	snprintf(d.cfg.stubdomain_cmdline, sizeof(d.cfg.stubdomain_cmdline),
		 "console=hvc0");
	assert_int_equal(xpt_domcfg_to_json(&d, &text), 0);
	assert_int_equal(xpt_domcfg_from_json(text, &back, err, sizeof(err)),
			 0);
	free(text);
	assert_true(back.cfg.stubdomain);
	assert_int_equal(back.cfg.stubdomain_memory_mb, 64);
	assert_string_equal(back.cfg.stubdomain_cmdline, "console=hvc0");
	assert_int_equal(back.cfg.e820_host, XPT_E820_DEFAULT);
	/* damaged files are rejected with a reason, never half-read */
	assert_int_equal(xpt_domcfg_from_json("{\"domid\":1}", &back, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name"));
	assert_int_equal(xpt_domcfg_from_json("{\"domid\":1,\"name\":\"x\","
					      "\"pci\":[\"3:0.8\"]}", &back,
					      err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pci[0]"));
	assert_int_equal(xpt_domcfg_from_json("not json", &back, err,
					      sizeof(err)), -EINVAL);
	/* found by fuzz-domcfg: an empty type loaded as "" was written back
	 * as "pv", so the file read again differed from what was loaded */
	assert_int_equal(xpt_domcfg_from_json("{\"domid\":1,\"name\":\"x\","
					      "\"type\":\"\"}", &back, err,
					      sizeof(err)), 0);
	assert_string_equal(back.cfg.type, "pv");
	/* and a string longer than its field was cut, possibly inside a
	 * UTF-8 character: the text written back was not JSON any more */
	assert_int_equal(xpt_domcfg_from_json("{\"domid\":1,\"name\":\"x\","
					      "\"uuid\":\"\u00e9\u00e9\u00e9\u00e9"
					      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
					      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
					      "\u00e9\u00e9\u00e9\u00e9\"}", &back,
					      err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "uuid"));
	assert_int_equal(xpt_domcfg_from_json("{\"domid\":1,\"name\":\"x\","
					      "\"type\":\"hvm-long\"}", &back,
					      err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "type"));
}

static void put_dev(struct xpt_ctx *c, int i, const char *bdf, const char *vdev)
{
	char p[128];

	snprintf(p, sizeof(p), BE "/dev-%d", i);
	w(c, p, bdf);
	snprintf(p, sizeof(p), BE "/key-%d", i);
	w(c, p, bdf);
	snprintf(p, sizeof(p), BE "/state-%d", i);
	w(c, p, "3");
	snprintf(p, sizeof(p), BE "/vdev-%d", i);
	w(c, p, vdev);
	snprintf(p, sizeof(p), BE "/opts-%d", i);
	w(c, p, "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict");
}

static void test_compaction(void **state)
{
	static struct xpt_be b;
	struct xpt_ctx *c = ctx_xs();
	struct xpt_txn tx = XPT_TXN_INIT;	/* outside a transaction */
	uint32_t mid = XPT_PCI_SBDF(0, 3, 2, 1);
	char *v;

	(void)state;
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/backend/pci/7");
	put_dev(c, 0, "0000:03:02.0", "0000:00:00.00");
	put_dev(c, 1, "0000:03:02.1", "0000:00:01.00");
	put_dev(c, 2, "0000:04:00.0", "0000:00:02.00");
	w(c, BE "/name-2", "nvme");
	w(c, BE "/num_devs", "3");
	w(c, BE "/state", "4");
	w(c, BE "/root-0", "0000:00");
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	assert_true(b.exists);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.nwarn, 0);
	assert_int_equal(xpt_be_remove_compact(c, &tx, 7, &b, &mid, 1), 2);
	assert_int_equal(tx.err, 0);
	/* index 2 moved to 1 with every key it had; index 2 gone */
	v = r(c, BE "/dev-1");
	assert_string_equal(v, "0000:04:00.0");
	free(v);
	v = r(c, BE "/vdev-1");
	assert_string_equal(v, "0000:00:02.00");
	free(v);
	v = r(c, BE "/name-1");
	assert_string_equal(v, "nvme");
	free(v);
	assert_null(r(c, BE "/dev-2"));
	assert_null(r(c, BE "/name-2"));
	v = r(c, BE "/num_devs");
	assert_string_equal(v, "2");
	free(v);
	v = r(c, BE "/root-0");	/* the backend's keys are never touched */
	assert_string_equal(v, "0000:00");
	free(v);
	/* the last devices: both directories go */
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	{
		uint32_t all[2] = { XPT_PCI_SBDF(0, 3, 2, 0),
				    XPT_PCI_SBDF(0, 4, 0, 0) };

		assert_int_equal(xpt_be_remove_compact(c, &tx, 7, &b, all, 2),
				 0);
		assert_int_equal(tx.err, 0);
	}
	assert_false(xpt_xs_exists(c, XBT_NULL, BE));
	xpt_ctx_close(c);
}

/* A write that fails inside a transaction is never committed past:
 * the transaction aborts with that write's error, and nothing of it
 * lands. */
static void test_txn_failed_write(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_txn tx = XPT_TXN_INIT;
	int r;

	(void)state;
	xpt_xs_rm(c, XBT_NULL, "/test/txn");
	do {
		assert_int_equal(xpt_txn_begin(c, &tx), 0);
		xpt_txn_write(c, &tx, "/test/txn/a", "1");
		xpt_txn_write(c, &tx, "/test/txn/bad//path", "2");
		xpt_txn_write(c, &tx, "/test/txn/c", "3");
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	assert_int_equal(r, -EINVAL);
	assert_false(xpt_xs_exists(c, XBT_NULL, "/test/txn"));
	xpt_ctx_close(c);
}

/* A transaction that conflicts every time gives up after XPT_TXN_TRIES
 * with -EAGAIN instead of spinning. */
static void test_txn_bounded(void **state)
{
	struct xpt_ctx *c = ctx_xs(), *other = ctx_xs();
	struct xpt_txn tx = XPT_TXN_INIT;
	unsigned int tries = 0;
	char *v;
	int r;

	(void)state;
	w(c, "/test/txn-hot", "0");
	do {
		assert_int_equal(xpt_txn_begin(c, &tx), 0);
		v = xpt_xs_read(c, tx.t, "/test/txn-hot");
		free(v);
		xpt_txn_write(c, &tx, "/test/txn-hot", "%u", tries);
		/* another writer wins every time */
		assert_int_equal(xpt_xs_write(other, XBT_NULL,
					      "/test/txn-hot", "x%u", tries), 0);
		tries++;
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(tries, XPT_TXN_TRIES);
	xpt_ctx_close(other);
	xpt_ctx_close(c);
}

static void test_garbage(void **state)
{
	static struct xpt_be b;
	struct xpt_ctx *c = ctx_xs();

	(void)state;
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/backend/pci/7");
	put_dev(c, 0, "0000:03:02.0", "0000:00:00.00");
	put_dev(c, 2, "0000:03:02.2", "0000:00:02.00");	/* hole at 1 */
	w(c, BE "/dev-5", "banana");			/* garbage, beyond */
	w(c, BE "/state-9999999", "1");			/* absurd index */
	w(c, BE "/junk", "x");
	w(c, BE "/num_devs", "3");
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.e[0].index, 0);
	assert_true(b.e[0].valid);
	assert_int_equal(b.e[1].index, 2);
	assert_int_equal(b.e[2].index, 5);
	assert_false(b.e[2].valid);
	assert_true(b.e[2].beyond);
	assert_true(b.nwarn >= 4);	/* hole, junk, garbage, beyond, index */
	assert_non_null(xpt_be_find(&b, XPT_PCI_SBDF(0, 3, 2, 2)));
	assert_null(xpt_be_find(&b, XPT_PCI_SBDF(0, 3, 2, 1)));
	w(c, BE "/num_devs", "many");
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	assert_int_equal(b.num_devs, -1);
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/backend/pci/7");
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	assert_false(b.exists);
	xpt_ctx_close(c);
}

/* No control character: true when s has none. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* What a driver domain's pciback or a guest wrote reaches the user's
 * terminal (`xpt pci-list`, its warnings, the error of a failed attach)
 * with its control characters shown as '?': before, an escape sequence in
 * vdev-N, or a frontend's `magic` quoted in pciback's error node, went
 * out as it was (found by fuzz-nodes). */
static void test_control_characters(void **state)
{
	static struct xpt_be b;
	struct xpt_ctx *c = ctx_xs();
	char err[128];

	(void)state;
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/backend/pci/7");
	put_dev(c, 0, "0000:03:02.0", "0000:00:00.00");
	w(c, BE "/vdev-0", "\033]0;owned\007");
	w(c, BE "/opts-0", "msitranslate=0\n\033[2J");
	w(c, BE "/name-0", "nic\177");
	w(c, BE "/dev-1", "0000:03:02.1\033[1A");
	w(c, BE "/num_devs", "2");
	w(c, "/local/domain/0/error/backend/pci/7/0/error",
	  "-14 version mismatch (\033[2J/7) with pcifront");
	assert_int_equal(xpt_be_read(c, XBT_NULL, 7, &b), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.e[0].vdev, "?]0;owned?");
	assert_string_equal(b.e[0].opts, "msitranslate=0??[2J");
	assert_string_equal(b.e[0].name, "nic?");
	assert_string_equal(b.e[1].dev, "0000:03:02.1?[1A");
	assert_false(b.e[1].valid);
	for (size_t i = 0; i < b.nwarn; i++)
		assert_true(printable(b.warn[i]));
	assert_int_equal(xpt_be_error_node(c, 7, err, sizeof(err)), 0);
	assert_string_equal(err, "-14 version mismatch (?[2J/7) with pcifront");
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/backend/pci/7");
	xpt_xs_rm(c, XBT_NULL, "/local/domain/0/error/backend/pci/7");
	xpt_ctx_close(c);
}

/* A stub domain is less trusted than dom0: the state its device model
 * wrote reaches the user's terminal, in the error of a start that failed,
 * cut and with its control characters shown as '?'.  Before, it went out
 * raw (an escape sequence could rewrite the terminal's title). */
static void test_stubdom_state_shown_safely(void **state)
{
	struct xpt_ctx *c = ctx_xs();
	struct xpt_qmp *q = NULL;

	(void)state;
	c->pf = &fake_platform;	/* domain 8 has no kernel: it died */
	w(c, "/local/domain/7/image/device-model-domid", "8");
	w(c, "/local/domain/8/target", "7");
	w(c, "/local/domain/8/device-model/7/state",
	  "\033]0;pwned\007starting, and then a very long tail of text");
	assert_true(xpt_stubdom_start(c, 7, &q) < 0);
	assert_null(q);
	assert_true(printable(c->err));
	assert_non_null(strstr(c->err, "stopped before its device model"));
	assert_non_null(strstr(c->err, "is \"?]0;pwned?starting, and then a \");"));
	xpt_xs_rm(c, XBT_NULL, "/local/domain/7");
	xpt_xs_rm(c, XBT_NULL, "/local/domain/8");
	c->pf = NULL;
	xpt_ctx_close(c);
}

/* A fake xpt-pciback control socket in dir that answers each of n
 * connections with reply; the child's pid. */
static pid_t pb_serve(const char *dir, const char *reply, int n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pciback/control", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, n), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10);	/* a failed test does not come back for it */
		while (n-- > 0) {
			int cfd = accept(fd, NULL, NULL);
			char req[64];

			if (cfd < 0 || read(cfd, req, sizeof(req)) <= 0 ||
			    write(cfd, reply, strlen(reply)) < 0)
				_exit(1);
			close(cfd);
		}
		_exit(0);
	}
	close(fd);
	return pid;
}

/* A reply longer than the caller's buffer is said to be so (EMSGSIZE),
 * at once, and the next request on a new connection reads its own reply
 * whole.  Before, it was -ETIMEDOUT, "xpt-pciback did not answer", for
 * a daemon that had answered. */
static void test_pb_reply_too_long(void **state)
{
	char dir[] = "/tmp/xpt-pbctl.XXXXXX", path[64], reply[64], big[1024];
	char text[1024] = "";
	struct xpt_ctx *c;
	pid_t pid;
	int i, status;

	(void)state;
	for (i = 0; i < 12; i++)
		strcat(text, "0000:03:00.0 exported-to=-\n");
	strcat(text, "ok\n");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pciback", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	pid = pb_serve(dir, text, 2);
	assert_int_equal(xpt_ctx_open(dir, &c), 0);
	assert_int_equal(xpt_pb_request(c, "list", reply, sizeof(reply)),
			 -EMSGSIZE);
	assert_non_null(strstr(reply, "longer than 63 bytes"));
	assert_int_equal(xpt_pb_request(c, "list", big, sizeof(big)), 0);
	assert_int_equal(strlen(big), strlen(text) - 1);
	xpt_ctx_close(c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s/pciback/control", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pciback", dir);
	rmdir(path);
	rmdir(dir);
}

static int start_xenstored(void **state)
{
	(void)state;
	return fake_start_xenstored(xenstored);
}

static int stop_xenstored(void **state)
{
	(void)state;
	fake_stop_xenstored();
	return 0;
}

/* xpt -v wraps the platform table: what the platform has (an op, a
 * NULL that means "the platform does it itself", its words) stays as it
 * is.  Before, set_target was dropped, and a stub domain created with -v
 * on the model was taken for one its platform had built. */
static void test_trace_keeps_table(void **state)
{
	const struct xpt_platform *pfs[] = {
		&xpt_platform_model, &fake_platform,
#ifdef XPT_HAVE_XEN
		&xpt_platform_xen,
#endif
	};
	struct xpt_ctx *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pfs) / sizeof(pfs[0]); i++) {
		const struct xpt_platform *p = pfs[i];

		assert_int_equal(xpt_ctx_open(fake_rundir(), &c), 0);
		xpt_trace_platform(c, p);
		assert_ptr_equal(c->pf_inner, p);
		assert_string_equal(c->pf->name, p->name);
		assert_int_equal(!c->pf->dm_spawn, !p->dm_spawn);
		assert_int_equal(!c->pf->set_target, !p->set_target);
		assert_int_equal(!c->pf->vpci_slot, !p->vpci_slot);
		assert_ptr_equal(c->pf->dm_qmp_dir, p->dm_qmp_dir);
		assert_ptr_equal(c->pf->pvh_pci_refused, p->pvh_pci_refused);
		c->pf = NULL;	/* nothing was opened */
		c->pf_inner = NULL;
		xpt_ctx_close(c);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_txn_failed_write),
		cmocka_unit_test(test_txn_bounded),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_trace_keeps_table),
		cmocka_unit_test(test_pb_reply_too_long),
		cmocka_unit_test(test_stubdom_state_shown_safely),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT-XENSTORED\n", argv[0]);
		return 2;
	}
	xenstored = argv[1];
	return cmocka_run_group_tests(tests, start_xenstored, stop_xenstored);
}
