// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-pciback's xenbus state machine
 * (src/pciback/xenbus.c) driven by a hostile frontend: domain 7 writes
 * its frontend directory (state, pci-op-ref, event-channel, magic, and
 * any other key with any value) in any order, while the toolstack
 * hot-adds, hot-removes, destroys and re-creates its backend as libxl
 * does, and watch events are delivered at once or held back and
 * delivered together.  The store is the in-memory one of fakexs.c, the
 * hypervisor the unit tests' fake (tests/unit/fakehv.c).
 *
 * Host: 03:00.0 (A) and 04:00.0 (B) seized for domain 7, 05:00.0 (C)
 * seized and exported to domain 8, whose frontend is connected and well
 * behaved, and 06:00.0 (D) not seized.  Domain 7 grants page 11
 * (writable) and 13 (read-only) and offers event-channel port 5; domain 8
 * grants 11 and 12 and offers ports 5 and 6.  Each granted page holds a
 * marker byte naming its granter and grant at its end.
 *
 * Input: one byte of set-up (bit 0: the historic profile, bit 1: the
 * passthrough topology), then operations of one byte (low 4 bits: which;
 * bit 7: hold the watch events back) and one argument byte:
 *   0  frontend state := one of 0..9, -1, "", junk
 *   1  frontend pci-op-ref := a grant of 7, of 8, of nobody, or junk
 *   2  frontend event-channel := 7's port, 8's, nobody's, or junk
 *   3  frontend magic := "7", another version, or junk
 *   4  the frontend removes one of its keys, or its whole directory
 *   5  the frontend writes a key of its choice: [len] bytes follow
 *   6  the toolstack hot-adds B (or, by the argument, C, which is
 *      domain 8's, or D, not seized) at the next index, announcing it
 *      with Reconfiguring or not
 *   7  the toolstack hot-removes an index (state-N = 5, Reconfiguring)
 *   8  the toolstack destroys domain 7's backend and frontend
 *   9  the toolstack re-creates them as at start, with A
 *
 * Besides no crash, UB or leak, whenever the events are delivered:
 *  - domain 8 is untouched: its backend Connected with its page and
 *    port, C exported to it, no error node for it;
 *  - no device is exported to domain 7 but those its toolstack listed
 *    (A, B): never C, never D; every exported device's backend is live;
 *  - a backend directory the toolstack removed stays removed;
 *  - every backend is domain 7's or 8's, one each, in a xenbus state;
 *    a mapped page is its own domain's (the marker), a bound port its
 *    own domain's, and pciback holds exactly the mappings and ports the
 *    hypervisor counts;
 *  - the events die down: a bounded number of them per delivery.
 * At the end the toolstack destroys domain 7's backend: nothing of 7 is
 * left (no backend, no export, no mapping, no port), A and B stay seized,
 * and domain 8 is still connected.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fakehv.h"
#include "fakexs.h"
#include "log.h"
#include "pciback.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-xenbus: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)
#define CHECKER __attribute__((no_sanitize("coverage")))

#define SBDF_A HV_SBDF(0, 3, 0, 0)
#define SBDF_B HV_SBDF(0, 4, 0, 0)
#define SBDF_C HV_SBDF(0, 5, 0, 0)
#define SBDF_D HV_SBDF(0, 6, 0, 0)
#define GUEST 7
#define OTHER 8
#define BE(d) "/local/domain/0/backend/pci/" #d "/0"
#define FE(d) "/local/domain/" #d "/device/pci/0"
#define MAX_EVENTS_PER_DELIVERY 2000

static const char *const state_vals[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "-1", "", "3x",
	"4294967299",
};
static const char *const gref_vals[] = {
	"11", "12", "13", "14", "0", "-1", "4294967295", "4294967307", " 11",
	"11x", "",
};
static const char *const port_vals[] = {
	"5", "6", "7", "0", "-5", "4294967301", "x", "",
};
static const char *const magic_vals[] = { "7", "6", "", "7 ", "77" };
static const char *const fe_keys[] = {
	"state", "pci-op-ref", "event-channel", "magic", "dev-0", "vdev-0",
	"state-0", "num_devs", "root-0", "backend", "backend-id", "online",
	"frontend",
};
static const char *const bdfs[] = {
	"0000:04:00.0", "0000:05:00.0", "0000:06:00.0", "0000:03:00.0",
};

struct fuzz {
	struct pciback pb;
	const uint8_t *data;
	size_t size;
	unsigned int listed;	/* devices domain 7's toolstack named: bits */
	int num7;		/* domain 7's num_devs as the toolstack wrote */
	bool up7;		/* domain 7's backend exists */
};

static uint8_t take(struct fuzz *f)
{
	uint8_t b;

	if (!f->size)
		return 0;
	b = f->data[0];
	f->data++;
	f->size--;
	return b;
}

static void fe_write(const char *key, const char *val)
{
	char p[256];

	snprintf(p, sizeof(p), FE(7) "/%s", key);
	fakexs_write(p, val);
}

static void be_printf(unsigned int domid, const char *key, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
static void be_printf(unsigned int domid, const char *key, const char *fmt,
		      ...)
{
	char p[256], v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "/local/domain/0/backend/pci/%u/0/%s", domid,
		 key);
	fakexs_write(p, v);
}

/* libxl__create_pci_backend with one device, the state node last. */
static void create(unsigned int domid, const char *bdf)
{
	char p[128], v[64];

	snprintf(p, sizeof(p), "/local/domain/%u/device/pci/0", domid);
	be_printf(domid, "frontend", "%s", p);
	be_printf(domid, "frontend-id", "%u", domid);
	be_printf(domid, "online", "1");
	be_printf(domid, "dev-0", "%s", bdf);
	be_printf(domid, "state-0", "1");
	be_printf(domid, "num_devs", "1");
	be_printf(domid, "state", "1");
	snprintf(p, sizeof(p), "/local/domain/%u/device/pci/0/backend-id",
		 domid);
	fakexs_write(p, "0");
	snprintf(p, sizeof(p), "/local/domain/%u/device/pci/0/backend",
		 domid);
	snprintf(v, sizeof(v), "/local/domain/0/backend/pci/%u/0", domid);
	fakexs_write(p, v);
	snprintf(p, sizeof(p), "/local/domain/%u/device/pci/0/state", domid);
	fakexs_write(p, "1");
}

static void deliver(struct fuzz *f)
{
	char path[512], token[128];
	size_t n = 0, held = fakexs_pending();

	/* those held back, and a bounded number caused by handling them */
	while (fakexs_next_event(path, sizeof(path), token, sizeof(token))) {
		pciback_xenbus_watch(&f->pb, path, token);
		CHECK(++n < held + MAX_EVENTS_PER_DELIVERY);
	}
}

static int grant(unsigned int domid, uint32_t gref, bool ro)
{
	int fd = memfd_create("fuzz-xenbus-page", MFD_CLOEXEC);
	uint8_t marker = (uint8_t)(domid << 4 | gref);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, HV_PAGE_SIZE) == 0);
	CHECK(pwrite(fd, &marker, 1, HV_PAGE_SIZE - 1) == 1);
	if (ro)
		fakehv_grant_readonly(domid, gref, fd);
	else
		fakehv_grant(domid, gref, fd);
	return fd;
}

static struct pb_backend *be_of(struct fuzz *f, unsigned int domid)
{
	return pciback_backend_find(&f->pb, domid);
}

CHECKER static bool is_be(struct fuzz *f, const struct pb_backend *be)
{
	for (size_t i = 0; i < f->pb.nbes; i++)
		if (f->pb.bes[i] == be)
			return true;
	return false;
}

CHECKER static void check_other(struct fuzz *f)
{
	struct pb_backend *be = be_of(f, OTHER);
	unsigned int len;
	char *s;

	CHECK(be && be->state == XenbusStateConnected && be->mapped &&
	      be->bound);
	CHECK(pciback_dev_find(&f->pb, SBDF_C)->be == be);
	s = xs_read(NULL, XBT_NULL, BE(8) "/state", &len);
	CHECK(s && strcmp(s, "4") == 0);
	free(s);
	CHECK(!fakexs_exists(PB_ERROR_ROOT "/8"));
}

CHECKER static void check(struct fuzz *f)
{
	int mapped = 0, bound = 0, used = 0;

	check_other(f);
	for (size_t i = 0; i < f->pb.nbes; i++) {
		const struct pb_backend *be = f->pb.bes[i];

		CHECK(be->domid == GUEST || be->domid == OTHER);
		for (size_t j = 0; j < i; j++)
			CHECK(f->pb.bes[j]->domid != be->domid);
		CHECK((unsigned int)be->state <= XenbusStateReconfigured);
		CHECK(be->mapped == (be->sh != NULL));
		if (be->mapped) {
			mapped++;
			CHECK(((const uint8_t *)be->sh)[HV_PAGE_SIZE - 1] ==
			      (uint8_t)(be->domid << 4 | be->gref));
		}
		if (be->bound) {
			int k;

			bound++;
			for (k = 0; k < 16; k++)
				if (fakehv.bound[k].used &&
				    fakehv.bound[k].port == be->port)
					break;
			CHECK(k < 16);
			CHECK(fakehv.bound[k].remote_domid == be->domid);
		}
	}
	/* pciback never re-creates a backend directory the toolstack
	 * removed (a write there would) */
	CHECK(f->up7 || !fakexs_exists(BE(7)));
	for (int k = 0; k < 16; k++)
		used += fakehv.bound[k].used;
	CHECK(mapped == fakehv.mapped_grants);
	CHECK(bound == used);
	CHECK(f->pb.ndevs == 3);
	for (size_t i = 0; i < f->pb.ndevs; i++) {
		const struct pb_dev *d = f->pb.devs[i];

		if (!d->be)
			continue;
		CHECK(is_be(f, d->be));
		if (d->be->domid != GUEST)
			continue;
		CHECK(d->sbdf == SBDF_A || d->sbdf == SBDF_B);
		CHECK(f->listed & (1u << (d->sbdf == SBDF_B)));
	}
}

static void destroy7(struct fuzz *f)
{
	xs_rm(NULL, XBT_NULL, BE(7));
	xs_rm(NULL, XBT_NULL, "/local/domain/7");
	f->up7 = false;
	f->num7 = 0;
}

static void create7(struct fuzz *f)
{
	create(GUEST, "0000:03:00.0");
	f->listed |= 1;
	f->num7 = 1;
	f->up7 = true;
}

static void one_op(struct fuzz *f, uint8_t op)
{
	uint8_t arg = take(f);
	char key[32], val[64];
	size_t n;

	switch (op & 0x0f) {
	case 0:
		fe_write("state", state_vals[arg % 14]);
		break;
	case 1:
		fe_write("pci-op-ref", gref_vals[arg % 11]);
		break;
	case 2:
		fe_write("event-channel", port_vals[arg % 8]);
		break;
	case 3:
		fe_write("magic", magic_vals[arg % 5]);
		break;
	case 4:
		if (arg % 14 == 13) {
			xs_rm(NULL, XBT_NULL, FE(7));
		} else {
			snprintf(val, sizeof(val), FE(7) "/%s",
				 fe_keys[arg % 13]);
			xs_rm(NULL, XBT_NULL, val);
		}
		break;
	case 5:
		n = take(f) % sizeof(val);
		if (n > f->size)
			n = f->size;
		snprintf(key, sizeof(key), FE(7) "/%s", fe_keys[arg % 13]);
		fakexs_write_bytes(key, f->data, n);
		f->data += n;
		f->size -= n;
		break;
	case 6:
		if (!f->up7 || f->num7 >= 8)
			break;
		snprintf(key, sizeof(key), "dev-%d", f->num7);
		be_printf(GUEST, key, "%s", bdfs[arg % 3]);
		if (arg % 3 == 0)
			f->listed |= 2;
		snprintf(key, sizeof(key), "state-%d", f->num7);
		be_printf(GUEST, key, "1");
		be_printf(GUEST, "num_devs", "%d", ++f->num7);
		if (arg & 0x10)
			be_printf(GUEST, "state", "7");
		break;
	case 7:
		if (!f->up7 || !f->num7)
			break;
		snprintf(key, sizeof(key), "state-%d", arg % f->num7);
		be_printf(GUEST, key, "5");
		be_printf(GUEST, "state", "7");
		break;
	case 8:
		destroy7(f);
		break;
	case 9:
		if (!f->up7)
			create7(f);
		break;
	default:
		break;
	}
	if (!(op & 0x80) || fakexs_pending() > FAKEXS_MAX_EVENTS / 2) {
		deliver(f);
		check(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz f;
	struct pb_backend *be;
	char msg[200];

	if (size < 1 || size > 4096)
		return 0;
	log_level = -1;
	memset(&f, 0, sizeof(f));
	fakehv_reset();
	f.pb.xs = fakexs_reset();
	f.pb.ctlfd = -1;
	f.pb.epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(f.pb.epfd >= 0);
	f.pb.profile = data[0] & 1 ? PB_HISTORIC : 0;
	f.pb.passthrough_topology = data[0] & 2;
	CHECK(xs_watch(f.pb.xs, PB_BACKEND_ROOT, "be"));
	fakehv_add(SBDF_A, 0x8086, 0x10d3, 0x020000, true, 4, 1);
	fakehv_add(SBDF_B, 0x1b36, 0x0010, 0x010802, true, 16, 1);
	fakehv_add(SBDF_C, 0x1234, 0x1111, 0x030000, true, 0, 1);
	fakehv_add(SBDF_D, 0x1234, 0x2222, 0x030000, false, 0, 0);
	CHECK(pciback_seize(&f.pb, SBDF_A, msg, sizeof(msg)) == 0);
	CHECK(pciback_seize(&f.pb, SBDF_B, msg, sizeof(msg)) == 0);
	CHECK(pciback_seize(&f.pb, SBDF_C, msg, sizeof(msg)) == 0);
	grant(GUEST, 11, false);
	grant(GUEST, 13, true);
	grant(OTHER, 11, false);
	grant(OTHER, 12, false);
	fakehv_unbound_port(GUEST, 5);
	fakehv_unbound_port(OTHER, 5);
	fakehv_unbound_port(OTHER, 6);

	/* domain 8: connected, as pcifront does it */
	create(OTHER, "0000:05:00.0");
	deliver(&f);
	be = be_of(&f, OTHER);
	CHECK(be && be->state == XenbusStateInitialised);
	fakexs_write(FE(8) "/pci-op-ref", "11");
	fakexs_write(FE(8) "/event-channel", "5");
	fakexs_write(FE(8) "/magic", "7");
	fakexs_write(FE(8) "/state", "3");
	deliver(&f);
	fakexs_write(FE(8) "/state", "4");
	deliver(&f);
	/* domain 7: its backend created, its frontend the input */
	create7(&f);
	deliver(&f);
	check(&f);

	f.data = data + 1;
	f.size = size - 1;
	while (f.size)
		one_op(&f, take(&f));
	deliver(&f);
	check(&f);

	/* the toolstack destroys domain 7: nothing of it is left */
	destroy7(&f);
	deliver(&f);
	check(&f);
	CHECK(!be_of(&f, GUEST));
	CHECK(!pciback_dev_find(&f.pb, SBDF_A)->be);
	CHECK(!pciback_dev_find(&f.pb, SBDF_B)->be);
	CHECK(fakehv.mapped_grants == 1);

	pciback_fini(&f.pb);
	fakexs_clear();
	fakehv_reset();
	return 0;
}
