// SPDX-License-Identifier: MIT
/*
 * pcifront's state machine: the decision table on its own, then the whole
 * frontend against a real xpt-xenstored (argv[1]) with this test playing
 * dom0's toolstack and backend by writing xenstore directly, and a fake
 * pci_op backend (guest-fakes.c) answering config reads.  Covers probe
 * (keys in one transaction, state 3), connect, hot-remove (7), hot-add
 * (8), the missed-Connected case, backend closing, the frontend directory
 * vanishing or being recreated, and garbage in the backend's keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "guest-fakes.h"
#include "guest.h"
#include "hvclient.h"

#define DOMID 5
#define FE "/local/domain/5/device/pci/0"
#define BE "/local/domain/0/backend/pci/5/0"

static const char *xenstored;
static char rundir[64];
static pid_t xsd_pid = -1;
static struct xs_handle *dom0;
static struct guest g;

/* the decision table */

static void test_next(void **state)
{
	/* Initialised */
	assert_int_equal(pcifront_next(PF_INITIALISED, 1), PFA_NONE);
	assert_int_equal(pcifront_next(PF_INITIALISED, 2), PFA_NONE);
	assert_int_equal(pcifront_next(PF_INITIALISED, 3), PFA_NONE);
	assert_int_equal(pcifront_next(PF_INITIALISED, 4), PFA_CONNECT);
	assert_int_equal(pcifront_next(PF_INITIALISED, 7), PFA_CONNECT_DETACH);
	assert_int_equal(pcifront_next(PF_INITIALISED, 5), PFA_DISCONNECT);
	assert_int_equal(pcifront_next(PF_INITIALISED, 6), PFA_DISCONNECT);
	assert_int_equal(pcifront_next(PF_INITIALISED, 8), PFA_NONE);
	/* Connected */
	assert_int_equal(pcifront_next(PF_CONNECTED, 4), PFA_NONE);
	assert_int_equal(pcifront_next(PF_CONNECTED, 7), PFA_DETACH);
	assert_int_equal(pcifront_next(PF_CONNECTED, 8), PFA_NONE);
	assert_int_equal(pcifront_next(PF_CONNECTED, 5), PFA_DISCONNECT);
	/* Reconfiguring */
	assert_int_equal(pcifront_next(PF_RECONFIGURING, 7), PFA_NONE);
	assert_int_equal(pcifront_next(PF_RECONFIGURING, 8), PFA_ATTACH);
	assert_int_equal(pcifront_next(PF_RECONFIGURING, 6), PFA_DISCONNECT);
	/* Closing after a fatal error, Closed, Absent */
	assert_int_equal(pcifront_next(PF_CLOSING, 4), PFA_NONE);
	assert_int_equal(pcifront_next(PF_CLOSING, 6), PFA_DISCONNECT);
	assert_int_equal(pcifront_next(PF_CLOSED, 6), PFA_NONE);
	assert_int_equal(pcifront_next(PF_CLOSED, 4), PFA_NONE);
	assert_int_equal(pcifront_next(PF_ABSENT, 4), PFA_NONE);
	/* garbage */
	assert_int_equal(pcifront_next(PF_CONNECTED, 0), PFA_NONE);
	assert_int_equal(pcifront_next(PF_CONNECTED, 99), PFA_NONE);
	assert_int_equal(pcifront_next(PF_INITIALISED, -1), PFA_NONE);
}

/* against xpt-xenstored */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 2, 3)))
wr(const char *path, const char *fmt, ...)
{
	char val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	assert_true(xs_write(dom0, XBT_NULL, path, val, strlen(val)));
}

static char *rd(const char *path)
{
	unsigned int len;

	return xs_read(dom0, XBT_NULL, path, &len);
}

static void assert_node(const char *path, const char *want)
{
	char *v = rd(path);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* Deliver watch events to the guest until it reaches a phase. */
static void step_until(enum pcifront_phase want)
{
	int64_t deadline = now_ms() + 5000;
	char **w;

	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(g.xs), .events = POLLIN };
		int64_t left;

		while ((w = xs_check_watch(g.xs)))
			free(w);
		pcifront_step(&g);
		if (g.phase == want)
			return;
		left = deadline - now_ms();
		if (left <= 0)
			fail_msg("phase %s, wanted %s",
				 pcifront_phase_name(g.phase),
				 pcifront_phase_name(want));
		poll(&pfd, 1, (int)left);
	}
}

static unsigned int ndevs(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		n += g.dev[i].used;
	return n;
}

static struct gdev *dev_at(uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g.dev[i].used && g.dev[i].sbdf == sbdf)
			return &g.dev[i];
	return NULL;
}

/* libxl__create_pci_backend in one transaction, as the toolstack does */
static void create_dirs(void)
{
	struct xs_permissions fe[2] = { { DOMID, XS_PERM_NONE },
					{ 0, XS_PERM_READ } };
	struct xs_permissions be[2] = { { 0, XS_PERM_NONE },
					{ DOMID, XS_PERM_READ } };
	xs_transaction_t t;

	do {
		t = xs_transaction_start(dom0);
		xs_rm(dom0, t, FE);
		xs_rm(dom0, t, BE);
		xs_mkdir(dom0, t, FE);
		xs_set_permissions(dom0, t, FE, fe, 2);
		xs_mkdir(dom0, t, BE);
		xs_set_permissions(dom0, t, BE, be, 2);
		xs_write(dom0, t, FE "/backend", BE, strlen(BE));
		xs_write(dom0, t, FE "/backend-id", "0", 1);
		xs_write(dom0, t, FE "/state", "1", 1);
		xs_write(dom0, t, BE "/frontend", FE, strlen(FE));
		xs_write(dom0, t, BE "/state", "1", 1);
	} while (!xs_transaction_end(dom0, t, false) && errno == EAGAIN);
}

/* the backend's part of an export: what pciback writes */
static void export_two(void)
{
	wr(BE "/num_devs", "2");
	wr(BE "/dev-0", "0000:03:00.0");
	wr(BE "/vdev-0", "0000:00:00.00");
	wr(BE "/state-0", "3");
	wr(BE "/dev-1", "0000:04:00.0");
	wr(BE "/vdev-1", "0000:00:01.00");
	wr(BE "/state-1", "3");
	wr(BE "/root_num", "1");
	wr(BE "/root-0", "0000:00");
}

static int start_xenstored(void **state)
{
	char sock[256], ready[16], fdarg[16];
	struct xs_permissions home = { DOMID, XS_PERM_NONE };
	int pfd[2];
	ssize_t n;

	snprintf(rundir, sizeof(rundir), "/tmp/xpt-ut-pcifront.XXXXXX");
	assert_non_null(mkdtemp(rundir));
	assert_int_equal(pipe(pfd), 0);
	xsd_pid = fork();
	if (xsd_pid == 0) {
		close(pfd[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
		execl(xenstored, xenstored, "--rundir", rundir, "--ready-fd",
		      fdarg, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], ready, sizeof(ready));	/* EOF if it died */
	close(pfd[0]);
	assert_true(n > 0);
	snprintf(sock, sizeof(sock), "%s/socket", rundir);
	setenv("XENSTORED_PATH", sock, 1);
	dom0 = xs_open(0);
	assert_non_null(dom0);
	assert_true(xs_introduce_domain(dom0, DOMID, 0, 1));
	assert_true(xs_mkdir(dom0, XBT_NULL, "/local/domain/5"));
	assert_true(xs_set_permissions(dom0, XBT_NULL, "/local/domain/5",
				       &home, 1));
	snprintf(sock, sizeof(sock), "%s/domain/%d", rundir, DOMID);
	setenv("XENSTORED_PATH", sock, 1);
	fake_reset();
	memset(&g, 0, sizeof(g));
	g.domid = DOMID;
	g.listen_fd = -1;
	g.xs = xs_open(0);
	assert_non_null(g.xs);
	pcifront_init(&g);
	assert_int_equal(pcifront_watch(&g), 0);
	return 0;
}

static int stop_xenstored(void **state)
{
	char cmd[128];

	pcifront_teardown(&g);
	if (g.xs)
		xs_close(g.xs);
	if (dom0)
		xs_close(dom0);
	if (xsd_pid > 0) {
		kill(xsd_pid, SIGTERM);
		waitpid(xsd_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rundir);
	if (system(cmd) != 0)
		return -1;
	fake_reset();
	return 0;
}

static void test_lifecycle(void **state)
{
	char *v;

	/* the guest runs before the toolstack wrote anything */
	pcifront_step(&g);
	assert_int_equal(g.phase, PF_ABSENT);

	fake_add(HV_SBDF(0, 0, 0, 0), 0x8086, 0x10fb, 0x020000, 64, true, 1, 16);
	fake_add(HV_SBDF(0, 0, 1, 0), 0x1b36, 0x0010, 0x010802, 16, false, 1, 17);
	create_dirs();
	step_until(PF_INITIALISED);
	assert_node(FE "/state", "3");
	assert_node(FE "/pci-op-ref", "42");
	assert_node(FE "/magic", "7");
	v = rd(FE "/event-channel");
	assert_non_null(v);
	assert_int_equal(strtoul(v, NULL, 10), g.port);
	free(v);

	/* the backend exports two devices and connects */
	export_two();
	wr(BE "/state", "4");
	step_until(PF_CONNECTED);
	assert_node(FE "/state", "4");
	assert_int_equal(ndevs(), 2);
	assert_string_equal(dev_at(HV_SBDF(0, 0, 0, 0))->host, "0000:03:00.0");
	assert_string_equal(dev_at(HV_SBDF(0, 0, 1, 0))->host, "0000:04:00.0");
	assert_int_equal(dev_at(HV_SBDF(0, 0, 0, 0))->irq, IRQ_MSIX);
	assert_int_equal(dev_at(HV_SBDF(0, 0, 0, 0))->class, 0x020000);

	/* hot-remove: state-1 = 5 and state = 7 in one transaction */
	{
		xs_transaction_t t = xs_transaction_start(dom0);

		xs_write(dom0, t, BE "/state-1", "5", 1);
		xs_write(dom0, t, BE "/state", "7", 1);
		assert_true(xs_transaction_end(dom0, t, false));
	}
	step_until(PF_RECONFIGURING);
	assert_node(FE "/state", "7");
	assert_int_equal(ndevs(), 1);
	assert_null(dev_at(HV_SBDF(0, 0, 1, 0)));
	fake.dev[1].present = false;

	/* the backend reconfigured and a new device is there: rescan */
	fake_add(HV_SBDF(0, 0, 2, 0), 0x10ee, 0x9038, 0x058000, 0, true, 1, 18);
	wr(BE "/state", "8");
	step_until(PF_CONNECTED);
	assert_int_equal(ndevs(), 2);
	assert_int_equal(dev_at(HV_SBDF(0, 0, 2, 0))->irq, IRQ_MSI);
	assert_string_equal(dev_at(HV_SBDF(0, 0, 2, 0))->host, "?");

	/* the backend closes */
	wr(BE "/state", "5");
	step_until(PF_CLOSED);
	assert_node(FE "/state", "6");
	assert_int_equal(ndevs(), 0);

	/* the toolstack removes both directories */
	assert_true(xs_rm(dom0, XBT_NULL, FE));
	assert_true(xs_rm(dom0, XBT_NULL, BE));
	step_until(PF_ABSENT);
	assert_false(g.granted);
}

/* The backend went 3 -> 4 -> 7 before the frontend looked. */
static void test_missed_connected(void **state)
{
	fake_add(HV_SBDF(0, 0, 0, 0), 0x8086, 0x10fb, 0x020000, 64, true, 1, 16);
	create_dirs();
	step_until(PF_INITIALISED);
	export_two();
	fake_add(HV_SBDF(0, 0, 1, 0), 0x1b36, 0x0010, 0x010802, 16, false, 1, 17);
	wr(BE "/state", "4");
	wr(BE "/state", "7");
	step_until(PF_RECONFIGURING);
	assert_node(FE "/state", "7");
	assert_int_equal(ndevs(), 0);		/* scanned at 8, as Linux */
	wr(BE "/state", "8");
	step_until(PF_CONNECTED);
	assert_node(FE "/state", "4");
	assert_int_equal(ndevs(), 2);
}

/* The toolstack recreates the frontend dir behind a connected guest. */
static void test_recreated(void **state)
{
	fake_add(HV_SBDF(0, 0, 0, 0), 1, 2, 3, 4, false, 1, 16);
	create_dirs();
	step_until(PF_INITIALISED);
	export_two();
	wr(BE "/state", "4");
	step_until(PF_CONNECTED);
	assert_int_equal(ndevs(), 1);
	create_dirs();		/* rm + mkdir in one transaction: state 1 */
	step_until(PF_INITIALISED);
	assert_int_equal(ndevs(), 0);
	assert_node(FE "/state", "3");
	assert_node(FE "/magic", "7");
}

/* A grant whose end is refused because the backend still maps the page
 * (-EBUSY) is ended once it is unmapped, not forgotten: before, each such
 * release lost a ref, and the model's 10,000 attach/detach cycles ran the
 * guest out of grant refs after 3,000-5,000 cycles (bench/scale.sh). */
static void test_grant_busy_at_release(void **state)
{
	unsigned int round, i, held;

	fake_add(HV_SBDF(0, 0, 0, 0), 1, 2, 3, 4, false, 1, 16);
	create_dirs();
	step_until(PF_INITIALISED);
	for (round = 0; round < 40; round++) {
		char *ref = rd(FE "/pci-op-ref");

		assert_non_null(ref);
		i = (unsigned int)strtoul(ref, NULL, 10) - FAKE_GREF0;
		free(ref);
		assert_true(i < sizeof(fake.gnt) / sizeof(fake.gnt[0]) &&
			    fake.gnt[i].used);
		/* the backend maps this op page: ending it is refused */
		fake.gnt[i].busy = true;
		create_dirs();	/* a new frontend: release, then probe */
		step_until(PF_INITIALISED);
		for (i = 0; i < sizeof(fake.gnt) / sizeof(fake.gnt[0]); i++)
			fake.gnt[i].busy = false;	/* unmapped since */
	}
	for (i = 0, held = 0; i < sizeof(fake.gnt) / sizeof(fake.gnt[0]); i++)
		held += fake.gnt[i].used;
	assert_in_range(held, 1, 2);
}

static void expect_fatal(const char *key, const char *garbage, int be_state)
{
	char *v;

	fake_add(HV_SBDF(0, 0, 0, 0), 1, 2, 3, 4, false, 1, 16);
	create_dirs();
	step_until(PF_INITIALISED);
	export_two();
	wr(BE "/state", "4");
	step_until(PF_CONNECTED);
	wr(key, "%s", garbage);
	wr(BE "/state", "%d", be_state);
	if (be_state == 8) {
		wr(BE "/state", "7");
		step_until(PF_RECONFIGURING);
		wr(BE "/state", "8");
	}
	step_until(PF_CLOSING);
	assert_node(FE "/state", "5");
	v = rd("/local/domain/5/error/device/pci/0/error");
	assert_non_null(v);
	assert_true(!strncmp(v, "22 ", 3));
	free(v);
	wr(BE "/state", "6");
	step_until(PF_CLOSED);
	assert_int_equal(ndevs(), 0);
}

static void test_bad_root_num(void **state)
{
	expect_fatal(BE "/root_num", "banana", 8);
}

static void test_too_many_roots(void **state)
{
	expect_fatal(BE "/root_num", "100000", 8);
}

static void test_bad_root(void **state)
{
	expect_fatal(BE "/root-0", "0000:zz", 8);
}

static void test_bad_num_devs(void **state)
{
	expect_fatal(BE "/num_devs", "-1", 7);
}

/* Garbage that is not fatal: state and vdev values, nonsense roots. */
static void test_harmless_garbage(void **state)
{
	fake_add(HV_SBDF(0, 0, 0, 0), 1, 2, 3, 4, false, 1, 16);
	create_dirs();
	step_until(PF_INITIALISED);
	wr(BE "/state", "four");
	step_until(PF_INITIALISED);
	export_two();
	wr(BE "/state", "4");
	step_until(PF_CONNECTED);
	wr(BE "/state-0", "5");
	wr(BE "/vdev-0", "not a bdf");
	wr(BE "/state-1", "5");
	wr(BE "/vdev-1", "0000:00:1f.07");	/* not ours */
	wr(BE "/state", "7");
	step_until(PF_RECONFIGURING);
	assert_int_equal(ndevs(), 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest table[] = {
		cmocka_unit_test(test_next),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_missed_connected, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_recreated, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_grant_busy_at_release, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_bad_root_num, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_too_many_roots, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_bad_root, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_bad_num_devs, start_xenstored, stop_xenstored),
		cmocka_unit_test_setup_teardown(test_harmless_garbage, start_xenstored, stop_xenstored),
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests_name("pcifront-table", table, NULL, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT_XENSTORED\n", argv[0]);
		return r ? r : 77;
	}
	xenstored = argv[1];
	return r | cmocka_run_group_tests_name("pcifront-xenstore", live, NULL, NULL);
}
