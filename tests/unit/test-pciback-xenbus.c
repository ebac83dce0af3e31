// SPDX-License-Identifier: MIT
/*
 * xpt-pciback: the xenbus state machine (docs/protocol.md §5.2) against a
 * real xpt-xenstored (argv[1]) started in a temporary run directory, with
 * the hypervisor faked in-process.  The test plays libxl 4.17 (backend writes)
 * and pcifront (frontend writes) and runs the daemon's loop until the
 * expected node appears, with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenstore.h>

#include "fakehv.h"
#include "pciback.h"

#define BE(d) "/local/domain/0/backend/pci/" #d "/0"
#define FE(d) "/local/domain/" #d "/device/pci/0"
#define DEV_A HV_SBDF(0, 3, 0, 0)
#define DEV_B HV_SBDF(0, 4, 0, 0)
#define DEV_C HV_SBDF(0, 5, 0, 0)

static const char *xsd_bin;
static char rundir[] = "/tmp/xpt-pciback-test-XXXXXX";
static pid_t xsd_pid = -1;
static struct xs_handle *ts;		/* the "toolstack" and "guest" */
static struct pciback pb;
static struct xs_handle *pbxs;

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int start_xenstored(void **state)
{
	char buf[64], path[256];
	struct pollfd pfd;
	int p[2];
	ssize_t n;

	assert_non_null(mkdtemp(rundir));
	assert_int_equal(pipe(p), 0);
	xsd_pid = fork();
	assert_true(xsd_pid >= 0);
	if (xsd_pid == 0) {
		dup2(p[1], 3);
		execl(xsd_bin, "xpt-xenstored", "--rundir", rundir,
		      "--ready-fd", "3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	close(p[0]);
	snprintf(path, sizeof(path), "%s/socket", rundir);
	setenv("XENSTORED_PATH", path, 1);
	ts = xs_open(0);
	assert_non_null(ts);
	return 0;
}

static int stop_xenstored(void **state)
{
	char cmd[300];

	xs_close(ts);
	kill(xsd_pid, SIGTERM);
	waitpid(xsd_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rundir);
	return system(cmd) == 0 ? 0 : -1;
}

static void w(const char *path, const char *val)
{
	assert_true(xs_write(ts, XBT_NULL, path, val, strlen(val)));
}

static char *rd(const char *path)
{
	unsigned int len;

	return xs_read(ts, XBT_NULL, path, &len);
}

static bool node_is(const char *path, const char *val)
{
	char *s = rd(path);
	bool eq = s && strcmp(s, val) == 0;

	free(s);
	return eq;
}

/* Run the daemon's loop until path reads val (5 s deadline). */
static bool run_until(const char *path, const char *val)
{
	long end = now_ms() + 5000;

	while (now_ms() < end) {
		if (node_is(path, val))
			return true;
		pciback_loop_once(&pb, 20, NULL);
	}
	return node_is(path, val);
}

/* Run until every watch event queued before now has been handled. */
static void sync_watches(void)
{
	static const char *sentinel = "/local/domain/0/backend/pci/sync";
	long end = now_ms() + 5000;

	pb.last_watch[0] = '\0';
	w(sentinel, "1");
	while (now_ms() < end && strcmp(pb.last_watch, sentinel) != 0)
		pciback_loop_once(&pb, 20, NULL);
	assert_string_equal(pb.last_watch, sentinel);
}

static void assert_node(const char *path, const char *val)
{
	char *s = rd(path);

	if (!s || strcmp(s, val) != 0)
		fail_msg("%s: expected '%s', got '%s'", path, val,
			 s ? s : "(missing)");
	free(s);
}

static void assert_node_prefix(const char *path, const char *prefix)
{
	char *s = rd(path);

	if (!s || strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("%s: expected '%s...', got '%s'", path, prefix,
			 s ? s : "(missing)");
	free(s);
}

static void seize(uint32_t sbdf)
{
	char msg[200];

	assert_int_equal(pciback_seize(&pb, sbdf, msg, sizeof(msg)), 0);
}

static int setup_profile(unsigned int profile)
{
	struct fakehv_dev *d;

	fakehv_reset();
	xs_rm(ts, XBT_NULL, "/local/domain/0/backend/pci");
	xs_rm(ts, XBT_NULL, "/local/domain/0/error");
	for (int i = 5; i <= 7; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/local/domain/%d", i);
		xs_rm(ts, XBT_NULL, p);
	}
	pbxs = xs_open(0);
	assert_non_null(pbxs);
	assert_int_equal(pciback_init(&pb, pbxs, NULL, profile), 0);
	d = fakehv_add(DEV_A, 0x8086, 0x10d3, 0x020000, true, 4, 1);
	fakehv_set_bar(d, 0, 0xfe000000, 0x20000, 0);
	d = fakehv_add(DEV_B, 0x1b36, 0x0010, 0x010802, true, 16, 1);
	fakehv_set_bar(d, 0, 0xfd000000, 0x4000, HV_BAR_64);
	fakehv_add(DEV_C, 0x1234, 0x1111, 0x030000, false, 0, 0);
	seize(DEV_A);
	seize(DEV_B);
	sync_watches();
	return 0;
}

static int setup(void **state)
{
	return setup_profile(0);
}

static int setup_historic(void **state)
{
	return setup_profile(PB_HISTORIC);
}

static int teardown(void **state)
{
	pciback_fini(&pb);
	xs_close(pbxs);
	return 0;
}

/* libxl 4.17's libxl__device_pci_add_xenstore for one device: the first
 * also creates both directories, all in one transaction. */
static void libxl_add(unsigned int domid, int idx, const char *bdf,
		      bool hotplug)
{
	char be[64], fe[64], k[32], p[128], v[128];
	xs_transaction_t t;

again:
	t = xs_transaction_start(ts);
	assert_true(t != XBT_NULL);
	snprintf(be, sizeof(be), "/local/domain/0/backend/pci/%u/0", domid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/pci/0", domid);
#define TW(dir, key, ...) do { \
		snprintf(p, sizeof(p), "%s/%s", dir, key); \
		snprintf(v, sizeof(v), __VA_ARGS__); \
		assert_true(xs_write(ts, t, p, v, strlen(v))); \
	} while (0)
	if (idx == 0) {
		TW(fe, "backend", "%s", be);
		TW(fe, "backend-id", "0");
		TW(fe, "state", "1");
		TW(be, "frontend", "%s", fe);
		TW(be, "frontend-id", "%u", domid);
		TW(be, "online", "1");
		TW(be, "state", "1");
		TW(be, "domain", "guest%u", domid);
	}
	snprintf(k, sizeof(k), "key-%d", idx);
	TW(be, k, "%s", bdf);
	snprintf(k, sizeof(k), "dev-%d", idx);
	TW(be, k, "%s", bdf);
	snprintf(k, sizeof(k), "opts-%d", idx);
	TW(be, k, "msitranslate=0,power_mgmt=0,permissive=0,"
	   "rdm_policy=strict");
	snprintf(k, sizeof(k), "state-%d", idx);
	TW(be, k, "1");
	TW(be, "num_devs", "%d", idx + 1);
	if (hotplug)
		TW(be, "state", "7");
#undef TW
	if (!xs_transaction_end(ts, t, false)) {
		assert_int_equal(errno, EAGAIN);
		goto again;
	}
}

/* pcifront: page granted, port allocated, keys in one transaction, 3. */
static struct xen_pci_sharedinfo *frontend_connect(unsigned int domid,
						   const char *gref,
						   const char *port,
						   const char *magic)
{
	char fe[64], p[128];
	struct xen_pci_sharedinfo *sh;
	xs_transaction_t t;
	int fd = memfd_create("page", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(sh != MAP_FAILED);
	fakehv_grant(domid, 9, fd);		/* gref 9 is ours */
	fakehv_unbound_port(domid, 3);		/* port 3 is ours */
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/pci/0", domid);
	t = xs_transaction_start(ts);
	snprintf(p, sizeof(p), "%s/pci-op-ref", fe);
	xs_write(ts, t, p, gref, strlen(gref));
	snprintf(p, sizeof(p), "%s/event-channel", fe);
	xs_write(ts, t, p, port, strlen(port));
	if (magic) {
		snprintf(p, sizeof(p), "%s/magic", fe);
		xs_write(ts, t, p, magic, strlen(magic));
	}
	assert_true(xs_transaction_end(ts, t, false));
	snprintf(p, sizeof(p), "%s/state", fe);
	w(p, "3");
	return sh;
}

/* Cold-plug, then the guest connects: Initialised -> Connected. */
static void test_coldplug_and_connect(void **state)
{
	libxl_add(5, 0, "0000:03:00.0", false);
	assert_true(run_until(BE(5) "/state", "3"));
	libxl_add(5, 1, "0000:04:00.0", false);
	assert_true(run_until(BE(5) "/state-1", "3"));
	assert_node(BE(5) "/state-0", "3");
	assert_node(BE(5) "/vdev-0", "0000:00:00.00");
	assert_node(BE(5) "/vdev-1", "0000:00:01.00");
	assert_node(BE(5) "/root_num", "1");
	assert_node(BE(5) "/root-0", "0000:00");
	assert_ptr_equal(pciback_dev_find(&pb, DEV_B)->be,
			 pciback_backend_find(&pb, 5));

	frontend_connect(5, "9", "3", "7");
	assert_true(run_until(BE(5) "/state", "4"));
	assert_true(fakehv_bound(5, 3) >= 0);
	assert_int_equal(fakehv.mapped_grants, 1);
	w(FE(5) "/state", "4");
	sync_watches();
	assert_node(BE(5) "/state", "4");
}

/* docs/protocol.md §5.3: libxl 4.17 writes one transaction per device;
 * the backend is Initialised after the first.  The current profile
 * re-scans. */
static void test_coldplug_per_device(void **state)
{
	libxl_add(5, 0, "0000:03:00.0", false);
	assert_true(run_until(BE(5) "/state", "3"));
	assert_node(BE(5) "/state-0", "3");
	libxl_add(5, 1, "0000:04:00.0", false);
	assert_true(run_until(BE(5) "/state-1", "3"));
	assert_node(BE(5) "/vdev-1", "0000:00:01.00");
	assert_node(BE(5) "/state", "3");	/* no switch to 8 */
}

/* ... and the pre-5.13 profile does not: the guest gets one device. */
static void test_coldplug_per_device_historic(void **state)
{
	char *s;

	libxl_add(5, 0, "0000:03:00.0", false);
	assert_true(run_until(BE(5) "/state", "3"));
	libxl_add(5, 1, "0000:04:00.0", false);
	sync_watches();
	assert_node(BE(5) "/state-1", "1");
	s = rd(BE(5) "/vdev-1");
	assert_null(s);
	assert_null(pciback_dev_find(&pb, DEV_B)->be);
	/* with one transaction for both, the historic profile exports both */
	xs_rm(ts, XBT_NULL, BE(6));
	{
		xs_transaction_t t = xs_transaction_start(ts);
		const char *k[][2] = {
			{ BE(6) "/frontend", FE(6) }, { BE(6) "/frontend-id", "6" },
			{ BE(6) "/online", "1" }, { BE(6) "/state", "1" },
			{ FE(6) "/state", "1" }, { FE(6) "/backend", BE(6) },
			{ BE(6) "/dev-0", "0000:05:00.0" },
			{ BE(6) "/state-0", "1" },
			{ BE(6) "/dev-1", "0000:04:00.0" },
			{ BE(6) "/state-1", "1" }, { BE(6) "/num_devs", "2" },
		};

		seize(DEV_C);
		pciback_put(&pb, pciback_dev_find(&pb, DEV_A));
		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
			xs_write(ts, t, k[i][0], k[i][1], strlen(k[i][1]));
		assert_true(xs_transaction_end(ts, t, false));
	}
	assert_true(run_until(BE(6) "/state", "3"));
	assert_node(BE(6) "/state-0", "3");
	assert_node(BE(6) "/state-1", "3");
	assert_node(BE(6) "/vdev-1", "0000:00:01.00");
}

/* pci_op through the granted page and the bound event channel. */
static void test_attach_and_serve(void **state)
{
	struct xen_pci_sharedinfo *sh;
	long end;
	int j;
	uint64_t one = 1;

	libxl_add(5, 0, "0000:03:00.0", false);
	sh = frontend_connect(5, "9", "3", "7");
	assert_true(run_until(BE(5) "/state", "4"));
	j = fakehv_bound(5, 3);
	assert_true(j >= 0);
	memset(&sh->op, 0, sizeof(sh->op));
	sh->op.cmd = XEN_PCI_OP_conf_read;
	sh->op.size = 4;
	__atomic_fetch_or(&sh->flags, XEN_PCIF_active, __ATOMIC_SEQ_CST);
	assert_int_equal(write(fakehv.bound[j].fd, &one, sizeof(one)),
			 sizeof(one));
	end = now_ms() + 5000;
	while (now_ms() < end &&
	       (__atomic_load_n(&sh->flags, __ATOMIC_SEQ_CST) &
		XEN_PCIF_active))
		pciback_loop_once(&pb, 20, NULL);
	assert_int_equal(sh->flags & XEN_PCIF_active, 0);
	assert_int_equal(sh->op.err, 0);
	assert_int_equal(sh->op.value, 0x10d38086);
	assert_int_equal(fakehv.bound[j].sent, 1);
	munmap(sh, 4096);
}

static void test_bad_frontend_nodes(void **state)
{
	/* guest 5: wrong magic; guest 6: non-numeric event channel;
	 * guest 7: a grant it does not own; all fatal for that guest only */
	seize(DEV_C);
	libxl_add(5, 0, "0000:03:00.0", false);
	libxl_add(6, 0, "0000:04:00.0", false);
	libxl_add(7, 0, "0000:05:00.0", false);
	munmap(frontend_connect(5, "9", "3", "6"), 4096);
	munmap(frontend_connect(6, "9", "x3", "7"), 4096);
	munmap(frontend_connect(7, "1234", "3", "7"), 4096);
	assert_true(run_until(BE(5) "/state", "5"));
	assert_true(run_until(BE(6) "/state", "5"));
	assert_true(run_until(BE(7) "/state", "5"));
	assert_node(PB_ERROR_ROOT "/5/0/error",
		    "14 version mismatch (6/7) with pcifront - halting "
		    "xpt-pciback");
	assert_node_prefix(PB_ERROR_ROOT "/6/0/error",
			   "22 Error reading configuration from frontend");
	assert_node_prefix(PB_ERROR_ROOT "/7/0/error",
			   "22 Error mapping other domain page");
	assert_int_equal(fakehv.mapped_grants, 0);
	/* the frontend closes; the backend follows; devices stay exported
	 * until the toolstack removes the backend */
	w(FE(5) "/state", "6");
	assert_true(run_until(BE(5) "/state", "6"));
	/* a later, well-behaved guest is served */
	xs_rm(ts, XBT_NULL, BE(6));
	xs_rm(ts, XBT_NULL, "/local/domain/6");
	sync_watches();
	assert_null(pciback_backend_find(&pb, 6));
	assert_null(pciback_dev_find(&pb, DEV_B)->be);
	fakehv_reset();
	{
		struct fakehv_dev *d = fakehv_add(DEV_B, 0x1b36, 0x0010,
						  0x010802, true, 16, 1);

		(void)d;
	}
	libxl_add(6, 0, "0000:04:00.0", false);
	munmap(frontend_connect(6, "9", "3", "7"), 4096);
	assert_true(run_until(BE(6) "/state", "4"));
}

/* A page granted read-only cannot carry replies: fatal, not a crash. */
static void test_readonly_grant(void **state)
{
	int fd = memfd_create("page", MFD_CLOEXEC);

	assert_int_equal(ftruncate(fd, 4096), 0);
	fakehv_grant_readonly(5, 11, fd);
	libxl_add(5, 0, "0000:03:00.0", false);
	munmap(frontend_connect(5, "11", "3", "7"), 4096);
	assert_true(run_until(BE(5) "/state", "5"));
	assert_node_prefix(PB_ERROR_ROOT "/5/0/error",
			   "13 Error mapping other domain page");
	assert_int_equal(fakehv.mapped_grants, 0);
}

static void test_missing_magic_and_num_devs(void **state)
{
	libxl_add(5, 0, "0000:03:00.0", false);
	munmap(frontend_connect(5, "9", "3", NULL), 4096);
	assert_true(run_until(BE(5) "/state", "5"));
	assert_node(PB_ERROR_ROOT "/5/0/error",
		    "14 version mismatch ((null)/7) with pcifront - halting "
		    "xpt-pciback");

	/* a backend without num_devs (libxl never does this) */
	{
		xs_transaction_t t = xs_transaction_start(ts);

		xs_write(ts, t, BE(6) "/frontend", FE(6), strlen(FE(6)));
		xs_write(ts, t, BE(6) "/frontend-id", "6", 1);
		xs_write(ts, t, BE(6) "/dev-0", "0000:04:00.0", 12);
		xs_write(ts, t, BE(6) "/state", "1", 1);
		xs_write(ts, t, FE(6) "/state", "1", 1);
		assert_true(xs_transaction_end(ts, t, false));
	}
	assert_true(run_until(BE(6) "/state", "5"));
	assert_node(PB_ERROR_ROOT "/6/0/error",
		    "2 Error reading number of devices");
	/* a device that is not seized */
	libxl_add(7, 0, "0000:05:00.0", false);
	assert_true(run_until(BE(7) "/state", "5"));
	assert_node(PB_ERROR_ROOT "/7/0/error", "22 Couldn't locate PCI "
		    "device (0000:05:00.0)! perhaps already in-use?");
}

/* Hot-add and hot-remove through Reconfiguring (docs/protocol.md §4.2
 * and §4.3). */
static void test_hotplug(void **state)
{
	struct fakehv_dev *b = fakehv_find(DEV_B);
	int resets;

	libxl_add(5, 0, "0000:03:00.0", false);
	munmap(frontend_connect(5, "9", "3", "7"), 4096);
	assert_true(run_until(BE(5) "/state", "4"));
	w(FE(5) "/state", "4");
	sync_watches();

	libxl_add(5, 1, "0000:04:00.0", true);	/* + state=7 */
	sync_watches();
	assert_node(BE(5) "/state-1", "1");	/* waits for the frontend */
	w(FE(5) "/state", "7");
	assert_true(run_until(BE(5) "/state", "8"));
	assert_node(BE(5) "/state-1", "3");
	assert_node(BE(5) "/vdev-1", "0000:00:01.00");
	w(FE(5) "/state", "4");
	assert_true(run_until(BE(5) "/state", "4"));

	/* hot-remove dev-1: T{state-1=5, state=7} */
	resets = b->resets;
	{
		xs_transaction_t t = xs_transaction_start(ts);

		xs_write(ts, t, BE(5) "/state-1", "5", 1);
		xs_write(ts, t, BE(5) "/state", "7", 1);
		assert_true(xs_transaction_end(ts, t, false));
	}
	w(FE(5) "/state", "7");
	assert_true(run_until(BE(5) "/state", "8"));
	assert_null(pciback_dev_find(&pb, DEV_B)->be);
	assert_int_equal(b->resets, resets + 1);
	w(FE(5) "/state", "4");
	assert_true(run_until(BE(5) "/state", "4"));
	assert_non_null(pciback_dev_find(&pb, DEV_A)->be);
}

/* Teardown: the frontend goes away (or the backend directory does):
 * every device is released with a reset, the page and port let go. */
static void test_teardown(void **state)
{
	struct fakehv_dev *a = fakehv_find(DEV_A);
	char reply[512];
	int resets = a->resets;

	libxl_add(5, 0, "0000:03:00.0", false);
	munmap(frontend_connect(5, "9", "3", "7"), 4096);
	assert_true(run_until(BE(5) "/state", "4"));
	pciback_ctl_request(&pb, "release 0000:03:00.0", reply,
			    sizeof(reply));
	assert_string_equal(reply, "error EBUSY 0000:03:00.0 is exported to "
			    "domain 5\n");
	pciback_ctl_request(&pb, "list", reply, sizeof(reply));
	assert_string_equal(reply, "0000:03:00.0 exported-to=5\n"
			    "0000:04:00.0 exported-to=-\nok 2\n");
	/* a list the reply cannot hold is refused whole, never cut short
	 * (a client would wait for its final line) */
	pciback_ctl_request(&pb, "list", reply, 56);
	assert_string_equal(reply, "error E2BIG 2 devices: more than 56 "
			    "bytes\n");
	xs_rm(ts, XBT_NULL, FE(5));	/* frontend state reads Unknown */
	assert_true(run_until(BE(5) "/state", "6"));
	sync_watches();
	assert_null(pciback_backend_find(&pb, 5));
	assert_null(pciback_dev_find(&pb, DEV_A)->be);
	assert_int_equal(a->resets, resets + 1);
	assert_int_equal(fakehv.mapped_grants, 0);
	assert_int_equal(fakehv_bound(5, 3), -1);

	/* the backend directory removed while Initialised */
	libxl_add(6, 0, "0000:03:00.0", false);
	assert_true(run_until(BE(6) "/state", "3"));
	xs_rm(ts, XBT_NULL, BE(6));
	sync_watches();
	assert_null(pciback_backend_find(&pb, 6));
	assert_null(pciback_dev_find(&pb, DEV_A)->be);
	assert_null(rd(BE(6) "/state"));	/* not recreated */
	pciback_ctl_request(&pb, "release 0000:03:00.0", reply,
			    sizeof(reply));
	assert_string_equal(reply, "ok\n");
}

static void test_control_requests(void **state)
{
	char reply[512];

	pciback_ctl_request(&pb, "seize 05:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "ok 0000:05:00.0 has no reset method\n");
	pciback_ctl_request(&pb, "seize 0000:05:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "error EEXIST 0000:05:00.0 is already "
			    "seized\n");
	pciback_ctl_request(&pb, "seize 0000:09:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "error ENODEV no device 0000:09:00.0 on "
			    "the host: No such device\n");
	pciback_ctl_request(&pb, "reset 0000:05:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "error ENOTTY 0000:05:00.0 has no reset "
			    "method\n");
	pciback_ctl_request(&pb, "reset 0000:03:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "ok\n");
	pciback_ctl_request(&pb, "permissive 0000:03:00.0", reply,
			    sizeof(reply));
	assert_string_equal(reply, "ok\n");
	assert_true(pciback_dev_find(&pb, DEV_A)->permissive);
	pciback_ctl_request(&pb, "frobnicate 0000:03:00.0", reply,
			    sizeof(reply));
	assert_string_equal(reply, "error EINVAL unknown request; expected "
			    "seize, release, reset or permissive BDF, or "
			    "list\n");
	pciback_ctl_request(&pb, "seize 0000:03:00.9", reply, sizeof(reply));
	assert_string_equal(reply, "error EINVAL '0000:03:00.9' is not a PCI "
			    "address (DDDD:BB:SS.F)\n");
	pciback_ctl_request(&pb, "", reply, sizeof(reply));
	assert_string_equal(reply, "error EINVAL empty request\n");
	pciback_ctl_request(&pb, "release 0000:04:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "ok\n");
	assert_int_equal(fakehv_find(DEV_B)->prepared, 0);
	pciback_ctl_request(&pb, "release 0000:04:00.0", reply, sizeof(reply));
	assert_string_equal(reply, "error ENODEV 0000:04:00.0 is not seized "
			    "by pciback\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_coldplug_and_connect,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_coldplug_per_device,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_coldplug_per_device_historic, setup_historic,
			teardown),
		cmocka_unit_test_setup_teardown(test_attach_and_serve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_frontend_nodes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readonly_grant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_magic_and_num_devs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hotplug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_requests, setup,
						teardown),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT-XENSTORED\n", argv[0]);
		return 2;
	}
	xsd_bin = argv[1];
	return cmocka_run_group_tests(tests, start_xenstored, stop_xenstored);
}
