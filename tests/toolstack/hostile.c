// SPDX-License-Identifier: MIT
/*
 * The hostile catalogue (toolstack-hostile, issue 14): a guest, a device
 * model or a stub domain that misbehaves on purpose, on the modelled host,
 * next to a victim guest that must stay served.
 *
 * Every row runs on a fresh host: the victim g2 gets 03:00.0 (MSI-X), its
 * interrupts counted, and a snapshot of its frontend and backend nodes; the
 * hostile guest h gets 04:00.0.  Then the row's hostile action, and for
 * every row:
 *   (a) the action is refused or contained the way Linux's xen-pciback or
 *       Xen would (the row names how: the pci_op's error code, the config
 *       write dropped with the hardware unchanged, the node ignored, h's
 *       own backend failed with xenbus_dev_fatal's error node, EACCES);
 *   (b) no daemon died (xenstored, hypervisor, pciback);
 *   (c) g2 is served: a config read through its pcifront answers 8086, an
 *       interrupt raised by its device is counted, its nodes are unchanged
 *       (the flood row also checks this while the flood runs);
 *   (d) the every-layer invariant holds (inv_check; for the rows that
 *       legitimately break h's own backend, once h is destroyed);
 *   (e) `xpt destroy h` completes and 04:00.0 is assignable again.
 *
 * The hostile guest is xpt-guest with its test-only options (DIR/
 * hostile-args, xpt-guest(8) HOSTILE FRONTEND): `pci-op` sends any op
 * COUNT times, `end-grant` ends the shared page's grant, --front-ref /
 * --front-event-channel / --front-magic / --grant-to publish what a
 * hostile pcifront would, --no-frontend leaves the frontend to the test,
 * which then writes h's nodes as h itself (through h's own xenstore
 * socket, with h's permissions).  The stub-domain row writes as the stub
 * domain; the QMP row puts a peer that answers garbage where the device
 * model's QMP socket is.
 *
 * Worked example (row "malformed-op-code"): h sends pci_op cmd 99;
 * pciback answers err -4 (XEN_PCI_ERR_not_implemented), as Linux's
 * xen_pcibk_do_op does for an unknown op; g2 then reads 0x8086 through
 * its pcifront, counts one more MSI-X interrupt of 03:00.0, its nodes are
 * as before; every layer agrees; `xpt destroy h` frees 04:00.0.
 *
 * Prints the catalogue as a table (row, what refused it, victim served),
 * also written as OUTDIR/hostile.md.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/io/pciif.h>
#include <xen/io/xenbus.h>

#include "harness.h"
#include "toolstack.h"

#define VICTIM DEV_A		/* 03:00.0, MSI-X */
#define HOSTILE DEV_B		/* 04:00.0, MSI-X (5 entries in BAR 3) */
#define HBDF "0000:04:00.0"

/* what the row's action found, for the table */
static char refused[1536];

struct hx {
	unsigned int g2, h;
	char *g2_nodes;		/* g2's frontend + backend nodes at start */
	bool h_broken;		/* the row fails h's own backend on purpose */
	bool h_gone;		/* the row destroyed h itself */
};

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t n = strlen(refused);
	va_list ap;

	if (n && n < sizeof(refused) - 3) {
		strcat(refused, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(refused + n, sizeof(refused) - n, fmt, ap);
	va_end(ap);
}

/* every node under path, "path=value\n" each, appended to *buf */
static void nodes_dump(struct env *e, const char *path, char **buf,
		       size_t *len)
{
	unsigned int n, i, vlen;
	char **ents, *v, sub[512];
	FILE *f;

	v = xs_read(e->xs, XBT_NULL, path, &vlen);
	f = open_memstream(buf, len);
	if (!f) {
		free(v);
		return;
	}
	fprintf(f, "%s=%s\n", path, v ? v : "(none)");
	fclose(f);
	free(v);
	ents = xs_directory(e->xs, XBT_NULL, path, &n);
	for (i = 0; ents && i < n; i++) {
		char *more = NULL, *joined;
		size_t mlen = 0;

		snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]);
		nodes_dump(e, sub, &more, &mlen);
		if (more && asprintf(&joined, "%s%s", *buf, more) > 0) {
			free(*buf);
			*buf = joined;
			*len = strlen(joined);
		}
		free(more);
	}
	free(ents);
}

static char *g2_nodes(struct env *e, unsigned int g2)
{
	char *a = NULL, *b = NULL, *all = NULL, path[128];
	size_t la = 0, lb = 0;

	snprintf(path, sizeof(path), "/local/domain/%u/device/pci", g2);
	nodes_dump(e, path, &a, &la);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u", g2);
	nodes_dump(e, path, &b, &lb);
	if (a && b && asprintf(&all, "%s%s", a, b) < 0)
		all = NULL;
	free(a);
	free(b);
	return all;
}

/* (b) */
static bool daemons_alive(struct env *e, const char *when)
{
	unsigned int i;

	for (i = 0; i < 3 && i < e->run.nproc; i++)
		CHECK(e, e->run.proc[i].pid && !e2e_proc_exited(&e->run.proc[i], 0),
		      "%s: %s died (see its log %s/%s.log)", when,
		      e->run.proc[i].name, e->run.dir, e->run.proc[i].name);
	return true;
}

/* g2 reads its device's vendor through pcifront */
static bool g2_reads(struct env *e, struct hx *x, const char *when)
{
	char reply[256];

	CHECK(e, e2e_guest_query(&e->run, x->g2, "conf-read 03:00.0 0 2",
				 reply, sizeof(reply)) &&
	      !strncmp(reply, "value 0x8086\n", 13),
	      "%s: g2 (dom%u) reading 03:00.0's vendor through pcifront got "
	      "\"%.80s\"", when, x->g2, reply);
	return true;
}

/* (c): g2 served, nodes unchanged */
static bool g2_served(struct env *e, struct hx *x, const char *when)
{
	char *now;
	bool same;

	if (!g2_reads(e, x, when) || !irq_counted(e, x->g2, VICTIM))
		return false;
	now = g2_nodes(e, x->g2);
	same = now && x->g2_nodes && !strcmp(now, x->g2_nodes);
	if (!same)
		fail(e, "%s: g2's xenstore nodes changed:\nbefore:\n%.300s\n"
		     "after:\n%.300s", when, x->g2_nodes ? x->g2_nodes : "?",
		     now ? now : "?");
	free(now);
	return same;
}

/* h as its toolstack sees it: create with the hostile kernel's options */
static bool h_create(struct env *e, struct hx *x, const char *args,
		     bool connect)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hostile-args", e->run.dir);
	f = fopen(path, "we");
	CHECK(e, f, "%s: %s", path, strerror(errno));
	fprintf(f, "%s\n", args);
	fclose(f);
	e->hostile = true;
	if (!create(e, "h", "'04:00.0'", &x->h))
		return false;
	e->hostile = false;
	return !connect || wait_guest_devs(e, x->h, 1, 10000);
}

/* (e): destroy h, 04:00.0 assignable again */
static bool h_destroy(struct env *e, struct hx *x, const char *when)
{
	struct layers l;
	int rc;

	rc = TS(e, 20000, "destroy", "h");
	CHECK(e, rc == 0, "%s: xpt destroy h (dom%u): rc %d: %s", when, x->h,
	      rc, e->out);
	layers_get(e, HOSTILE, &l);
	CHECK(e, !l.nbe && !l.nseen && l.marker < 0 &&
	      l.owner == HV_DOMID_IO && l.pb == -1, "%s: after destroying "
	      "h, 04:00.0 should be assignable again: %s", when,
	      layers_str(&l));
	x->h_gone = true;
	return true;
}

static bool setup(struct env *e, struct hx *x, const char *hargs,
		  bool connect)
{
	memset(x, 0, sizeof(*x));
	if (!assignable(e, VICTIM) || !assignable(e, HOSTILE) ||
	    !create(e, "g2", "'03:00.0'", &x->g2) ||
	    !wait_guest_devs(e, x->g2, 1, 10000) ||
	    !irq_counted(e, x->g2, VICTIM))
		return false;
	x->g2_nodes = g2_nodes(e, x->g2);
	CHECK(e, x->g2_nodes, "cannot read g2's nodes");
	return h_create(e, x, hargs, connect);
}

/* xenstore as domain domid, through its own socket */
static struct xs_handle *xs_as(struct env *e, unsigned int domid)
{
	char path[256];
	struct xs_handle *h;

	snprintf(path, sizeof(path), "%s/domain/%u", e->run.dir, domid);
	setenv("XENSTORED_PATH", path, 1);
	h = xs_open(0);
	snprintf(path, sizeof(path), "%s/socket", e->run.dir);
	setenv("XENSTORED_PATH", path, 1);
	if (!h)
		fail(e, "cannot open xenstore as dom%u: %s", domid,
		     strerror(errno));
	return h;
}

/* h's guest asks pciback: "op err=.. value=.. sent=.. ms=.." parsed */
struct opres {
	int err;
	unsigned int value, sent;
	long long ms;
};

static bool h_op(struct env *e, struct hx *x, uint32_t cmd, uint32_t dom,
		 uint32_t bus, uint32_t devfn, uint32_t off, uint32_t size,
		 uint32_t value, uint32_t nent, uint32_t count,
		 struct opres *r)
{
	char req[160], reply[256];

	snprintf(req, sizeof(req), "pci-op %u %u %u %u %u %u %u %u %u", cmd,
		 dom, bus, devfn, off, size, value, nent, count);
	CHECK(e, e2e_guest_query(&e->run, x->h, req, reply, sizeof(reply)),
	      "h's guest does not answer %s", req);
	CHECK(e, sscanf(reply, "op err=%d value=0x%x sent=%u ms=%lld",
			&r->err, &r->value, &r->sent, &r->ms) == 4,
	      "%s: pciback did not answer: \"%.120s\"", req, reply);
	return true;
}

static const char *pci_err(int err)
{
	static const char *const n[] = {
		"0", "XEN_PCI_ERR_dev_not_found", "XEN_PCI_ERR_invalid_offset",
		"XEN_PCI_ERR_access_denied", "XEN_PCI_ERR_not_implemented",
		"XEN_PCI_ERR_op_failed",
	};
	static char buf[4][32];
	static unsigned int i;

	if (err <= 0 && err >= -5)
		return n[-err];
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s", strerror(-err));
	return buf[i];
}

/* One op of h; its err must be want (0: accepted). */
static bool h_op_err(struct env *e, struct hx *x, const char *what,
		     uint32_t cmd, uint32_t dom, uint32_t bus, uint32_t devfn,
		     uint32_t off, uint32_t size, uint32_t value,
		     uint32_t nent, int want)
{
	struct opres r;

	if (!h_op(e, x, cmd, dom, bus, devfn, off, size, value, nent, 1, &r))
		return false;
	CHECK(e, r.err == want, "%s: pciback answered err %d (%s), Linux "
	      "answers %d (%s)", what, r.err, pci_err(r.err), want,
	      pci_err(want));
	note("%s: %s", what, pci_err(r.err));
	return true;
}

/* -------- pci_op -------- */

struct flood {
	struct env *e;
	struct hx *x;
	bool ok;
	struct opres r;
	char why[256];
};

static void *flood_run(void *arg)
{
	struct flood *f = arg;
	char reply[256];

	/* conf_read of its own vendor id, 4000 times */
	f->ok = e2e_guest_query(&f->e->run, f->x->h,
				"pci-op 0 0 0 0 0 2 0 0 4000", reply,
				sizeof(reply)) &&
		sscanf(reply, "op err=%d value=0x%x sent=%u ms=%lld",
		       &f->r.err, &f->r.value, &f->r.sent, &f->r.ms) == 4;
	if (!f->ok)
		snprintf(f->why, sizeof(f->why), "%.200s", reply);
	return NULL;
}

static bool row_flood(struct env *e, struct hx *x)
{
	struct flood f = { .e = e, .x = x };
	pthread_t t;
	int64_t t0 = e2e_now_ms();
	unsigned int during = 0;

	CHECK(e, pthread_create(&t, NULL, flood_run, &f) == 0, "thread");
	/* g2 is served while the flood runs */
	while (e2e_now_ms() - t0 < 600 && g2_reads(e, x, "during the flood"))
		during++;
	pthread_join(t, NULL);
	if (e->run.why[0])
		return false;
	CHECK(e, f.ok, "the flood: h's guest: \"%s\"", f.why);
	CHECK(e, f.r.sent == 4000 && f.r.err == 0 && f.r.value == 0x8086,
	      "the flood: %u of 4000 answered, last err %d value 0x%x",
	      f.r.sent, f.r.err, f.r.value);
	CHECK(e, f.r.ms < 15000, "4000 pci_ops took %lld ms", f.r.ms);
	note("4000 conf_reads answered in %lld ms, one at a time (pcifront's "
	     "single op page: no queue to flood); g2 read %u times meanwhile",
	     f.r.ms, during);
	return during > 0 || fail(e, "g2 never read during the flood");
}

static bool row_bad_opcode(struct env *e, struct hx *x)
{
	return h_op_err(e, x, "op 99", 99, 0, 0, 0, 0, 0, 0, 0,
			XEN_PCI_ERR_not_implemented) &&
	       h_op_err(e, x, "op 0xffffffff", 0xffffffffu, 0, 0, 0, 0, 0, 0,
			0, XEN_PCI_ERR_not_implemented);
}

static bool row_bad_address(struct env *e, struct hx *x)
{
	/* h's device is 0000:00:00.0 in h; 03:00.0 is g2's host address */
	return h_op_err(e, x, "domain 1", 0, 1, 0, 0, 0, 2, 0, 0,
			XEN_PCI_ERR_dev_not_found) &&
	       h_op_err(e, x, "bus 3 (g2's host bus)", 0, 0, 3, 0, 0, 2, 0, 0,
			XEN_PCI_ERR_dev_not_found) &&
	       h_op_err(e, x, "bus 0xffffffff", 0, 0, 0xffffffffu, 0, 0, 2, 0,
			0, XEN_PCI_ERR_dev_not_found) &&
	       h_op_err(e, x, "devfn 00.1", 0, 0, 0, 1, 0, 2, 0, 0,
			XEN_PCI_ERR_dev_not_found) &&
	       h_op_err(e, x, "devfn 0x1000", 0, 0, 0, 0x1000, 0, 2, 0, 0,
			XEN_PCI_ERR_dev_not_found);
}

static bool row_bad_offset(struct env *e, struct hx *x)
{
	return h_op_err(e, x, "offset 4096", 0, 0, 0, 0, 4096, 4, 0, 0,
			XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "offset -1", 0, 0, 0, 0, 0xffffffffu, 1, 0, 0,
			XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "offset 2 size 4 (unaligned)", 0, 0, 0, 0, 2, 4,
			0, 0, XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "size 3", 0, 0, 0, 0, 0, 3, 0, 0,
			XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "size 0", 0, 0, 0, 0, 0, 0, 0, 0,
			XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "size -4", 0, 0, 0, 0, 0, 0xfffffffcu, 0, 0,
			XEN_PCI_ERR_invalid_offset) &&
	       h_op_err(e, x, "write offset 4096", 1, 0, 0, 0, 4096, 4, 0, 0,
			XEN_PCI_ERR_invalid_offset);
}

static bool msix_untouched(struct env *e, uint32_t sbdf, const char *when)
{
	struct hv_msix_state m;
	int r = hv_msix_state(e->hv, sbdf, &m);

	CHECK(e, r == 0 || r == -ENOENT, "%s: MSI-X state of %s: %s", when,
	      bdf(sbdf), strerror(-r));
	return true;
}

static bool row_msix_nvec(struct env *e, struct hx *x)
{
	struct opres r;

	/* h's driver holds MSI-X already: give it back first */
	if (!h_op(e, x, XEN_PCI_OP_disable_msix, 0, 0, 0, 0, 0, 0, 0, 1, &r))
		return false;
	if (!h_op_err(e, x, "enable_msix nvec 129 (> SH_INFO_MAX_VEC)",
		      XEN_PCI_OP_enable_msix, 0, 0, 0, 0, 0, 129, 0, -EINVAL))
		return false;
	/* 04:00.0's table has 5 entries */
	if (!h_op(e, x, XEN_PCI_OP_enable_msix, 0, 0, 0, 0, 0, 8, 8, 1, &r))
		return false;
	CHECK(e, r.err < 0, "enable_msix of 8 entries on a 5-entry table "
	      "was accepted (err %d value %d)", r.err, (int)r.value);
	note("enable_msix 8 entries of 5: err %d (%s)", r.err, pci_err(r.err));
	if (!h_op(e, x, XEN_PCI_OP_enable_msix, 0, 0, 0, 0, 0, 0, 0, 1, &r))
		return false;
	CHECK(e, r.err < 0, "enable_msix of 0 entries was accepted");
	note("enable_msix 0 entries: err %d (%s)", r.err, pci_err(r.err));
	return msix_untouched(e, VICTIM, "after h's enable_msix");
}

/* -------- config space writes (h's pcifront, its own device) -------- */

static uint32_t hw(struct env *e, unsigned int off, unsigned int size)
{
	uint32_t v = 0xdeadbeef;

	hv_pci_conf_read(e->hv, HOSTILE, off, size, &v);
	return v;
}

static bool h_conf(struct env *e, struct hx *x, bool write, unsigned int off,
		   unsigned int size, uint32_t value, uint32_t *ret,
		   char *reply, size_t len)
{
	char req[96];

	if (write)
		snprintf(req, sizeof(req), "conf-write %s %u %u 0x%x", HBDF,
			 off, size, value);
	else
		snprintf(req, sizeof(req), "conf-read %s %u %u", HBDF, off,
			 size);
	CHECK(e, e2e_guest_query(&e->run, x->h, req, reply, len),
	      "h's guest does not answer %s", req);
	if (ret && sscanf(reply, "value 0x%x", ret) != 1)
		return fail(e, "%s: \"%.100s\"", req, reply);
	return true;
}

/* h writes value at off; the hardware's bits in keep must not change */
static bool conf_guarded(struct env *e, struct hx *x, const char *what,
			 unsigned int off, unsigned int size, uint32_t value,
			 uint32_t keep)
{
	uint32_t before = hw(e, off, size), after, seen = 0;
	char reply[256], res[96];

	if (!h_conf(e, x, true, off, size, value, NULL, reply, sizeof(reply)))
		return false;
	after = hw(e, off, size);
	CHECK(e, !((before ^ after) & keep), "%s: h's write of 0x%x at 0x%x "
	      "reached the hardware: 0x%x -> 0x%x", what, value, off, before,
	      after);
	snprintf(res, sizeof(res), "%.90s", !strncmp(reply, "ok", 2) ?
		 "ok" : strstr(reply, "access_denied") ?
		 "XEN_PCI_ERR_access_denied" : reply);
	res[strcspn(res, "\n")] = '\0';
	if (!h_conf(e, x, false, off, size, 0, &seen, reply, sizeof(reply)))
		return false;
	if (before == after)
		note("%s: %s, hardware unchanged (0x%x), h reads 0x%x", what,
		     res, after, seen);
	else
		note("%s: %s, hardware 0x%x -> 0x%x (only bits the guest may "
		     "set), h reads 0x%x", what, res, before, after, seen);
	return true;
}

static bool row_bar(struct env *e, struct hx *x)
{
	return conf_guarded(e, x, "BAR0 = 0x12340000", 0x10, 4, 0x12340000,
			    0xffffffff) &&
	       conf_guarded(e, x, "BAR3 = 0", 0x1c, 4, 0, 0xffffffff) &&
	       conf_guarded(e, x, "BAR0 low half", 0x10, 2, 0xabcd,
			    0xffff);
}

static bool row_rom(struct env *e, struct hx *x)
{
	return conf_guarded(e, x, "ROM = 0xfeb00001 (enable)", 0x30, 4,
			    0xfeb00001, 0xffffffff);
}

/* the offset of capability id in 04:00.0 (by the hardware's list) */
static unsigned int cap_find(struct env *e, unsigned int id)
{
	unsigned int p = hw(e, 0x34, 1) & 0xfc, n;

	for (n = 0; p && n < 48; n++) {
		if ((hw(e, p, 1) & 0xff) == id)
			return p;
		p = hw(e, p + 1, 1) & 0xfc;
	}
	return 0;
}

static bool row_msix_regs(struct env *e, struct hx *x)
{
	unsigned int c = cap_find(e, 0x11);

	CHECK(e, c, "04:00.0 has no MSI-X capability");
	return conf_guarded(e, x, "MSI-X table offset/BIR", c + 4, 4,
			    0x2000, 0xffffffff) &&
	       conf_guarded(e, x, "MSI-X PBA offset/BIR", c + 8, 4, 0x3000,
			    0xffffffff) &&
	       conf_guarded(e, x, "MSI-X control: Function Mask", c + 2, 2,
			    (hw(e, c + 2, 2) ^ 0x4000) & 0xffff, 0xffff) &&
	       msix_untouched(e, VICTIM, "after h's MSI-X writes");
}

static bool row_cap_ptr(struct env *e, struct hx *x)
{
	unsigned int c = hw(e, 0x34, 1) & 0xfc;

	return conf_guarded(e, x, "capability pointer 0x34 = 0x40", 0x34, 1,
			    0x40, 0xff) &&
	       conf_guarded(e, x, "first capability's next = 0xf0", c + 1,
			    1, 0xf0, 0xff) &&
	       conf_guarded(e, x, "Status (Capabilities List bit)", 0x06, 2,
			    0, 0x10);
}

static bool row_command(struct env *e, struct hx *x)
{
	/* Memory and Bus Master are the guest's; Parity (0x40), SERR
	 * (0x100), Fast B2B (0x200), INTx Disable (0x400), Special
	 * Cycles, MWI, VGA snoop are not (not permissive) */
	return conf_guarded(e, x, "Command = 0xffff", 0x04, 2, 0xffff,
			    0xfff8 & ~0x400u) &&
	       conf_guarded(e, x, "Command = 0x0547", 0x04, 2, 0x0547,
			    0x01f0);
}

/* -------- frontend state games and garbage (h's nodes, as h) -------- */

/* h writes its frontend's key (NULL: state) */
static bool h_write(struct env *e, struct hx *x, struct xs_handle *hx,
		    const char *key, const char *val, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/%s",
		 x->h, key);
	CHECK(e, xs_write(hx, XBT_NULL, path, val, (unsigned int)len),
	      "h could not write its own %s: %s", path, strerror(errno));
	return true;
}

struct bstate {
	unsigned int domid;
	int want;
};

static bool be_is(struct env *e, void *arg)
{
	struct bstate *b = arg;

	return be_state(e, b->domid) == b->want;
}

/* pciback handled every write so far: a no-op round trip through it */
static bool pciback_settled(struct env *e)
{
	char reply[256];

	return e2e_pciback(&e->run, "list", reply, sizeof(reply));
}

/* h as a pcifront that plays with its state: --no-frontend, the test
 * publishes a good frontend (a page granted to dom0, an event channel)
 * first if publish */
struct front {
	struct xs_handle *xs;
	struct hv_client *hv;
	int memfd;
	void *map;
	uint32_t gref;
	unsigned int port;
};

static bool front_open(struct env *e, struct hx *x, struct front *f,
		       bool publish)
{
	char v[16];
	int r;

	memset(f, 0, sizeof(*f));
	f->memfd = -1;
	f->xs = xs_as(e, x->h);
	if (!f->xs)
		return false;
	if (!publish)
		return true;
	r = hv_open_domain(e->run.dir, x->h, &f->hv);
	CHECK(e, r == 0, "hypervisor as h: %s", strerror(-r));
	r = hv_page_alloc(&f->memfd, &f->map);
	CHECK(e, r == 0, "page: %s", strerror(-r));
	r = hv_grant_page(f->hv, 0, f->memfd, 0, &f->gref);
	CHECK(e, r == 0, "grant: %s", strerror(-r));
	r = hv_evtchn_alloc_unbound(f->hv, 0, &f->port);
	CHECK(e, r == 0, "event channel: %s", strerror(-r));
	snprintf(v, sizeof(v), "%u", f->gref);
	if (!h_write(e, x, f->xs, "pci-op-ref", v, strlen(v)))
		return false;
	snprintf(v, sizeof(v), "%u", f->port);
	return h_write(e, x, f->xs, "event-channel", v, strlen(v)) &&
	       h_write(e, x, f->xs, "magic", XEN_PCI_MAGIC, 1);
}

static void front_close(struct front *f)
{
	if (f->xs)
		xs_close(f->xs);
	if (f->hv)
		hv_close(f->hv);
	if (f->memfd >= 0)
		close(f->memfd);
}

/* h's kernel stops (SIGSTOP), seen stopped before anyone asks it:
 * from now on the test is h */
static bool stopped(struct env *e, void *arg)
{
	char st = guest_proc_state(e, *(unsigned int *)arg);

	return st == 'T' || st == 't';
}

static bool h_stop(struct env *e, struct hx *x, pid_t *ret_pid)
{
	pid_t p = guest_pid(e, x->h);

	CHECK(e, p > 0 && kill(p, SIGSTOP) == 0, "cannot stop h's guest "
	      "(pid %d): %s", (int)p, strerror(errno));
	if (ret_pid)
		*ret_pid = p;
	return wait_until(e, stopped, &x->h, 5000, "h's guest stopped");
}

static bool row_skip(struct env *e, struct hx *x)
{
	struct front f;
	struct bstate b = { x->h, XenbusStateConnected };
	bool ok;

	ok = front_open(e, x, &f, false) &&
	     wait_states(e, x->h, XenbusStateInitialising,
			 XenbusStateInitialised, 10000) &&
	     h_write(e, x, f.xs, "state", "4", 1) &&
	     wait_until(e, be_is, &b, 5000, "h's backend Connected");
	front_close(&f);
	if (!ok)
		return false;
	CHECK(e, !xs_exists(e, "/local/domain/0/error/backend/pci/%u/0", x->h),
	      "pciback wrote an error for a frontend that skipped Initialised");
	x->h_broken = true;	/* h sees no device: nothing was attached */
	note("frontend 1->4 without Initialised: backend follows to 4 (as "
	     "Linux: frontend Connected -> Connected) with no ring mapped: "
	     "nothing to serve");
	return true;
}

static bool row_flip(struct env *e, struct hx *x)
{
	struct front f;
	unsigned int i;
	bool ok = true;
	pid_t p;

	if (!h_stop(e, x, &p) || !front_open(e, x, &f, false))
		return false;
	for (i = 0; ok && i < 50; i++)
		ok = h_write(e, x, f.xs, "state", i % 2 ? "4" : "1", 1);
	front_close(&f);
	if (!ok || !pciback_settled(e))
		return false;
	CHECK(e, be_state(e, x->h) == XenbusStateConnected, "after 50 "
	      "flips 4<->1, h's backend is at %d", be_state(e, x->h));
	kill(p, SIGCONT);
	CHECK(e, e2e_guest_query(&e->run, x->h, "conf-read " HBDF " 0 2",
				 refused, sizeof(refused)) &&
	      !strncmp(refused, "value 0x8086", 12), "h itself is not served "
	      "after its flips: %s", refused);
	refused[0] = '\0';
	note("50 flips 4<->1: ignored (Initialising is no event for "
	     "pciback, Connected re-confirmed); h still served");
	return true;
}

static bool row_regress(struct env *e, struct hx *x)
{
	struct front f;
	bool ok;

	ok = h_stop(e, x, NULL) && front_open(e, x, &f, false) &&
	     h_write(e, x, f.xs, "state", "1", 1);
	front_close(&f);
	if (!ok || !pciback_settled(e))
		return false;
	CHECK(e, be_state(e, x->h) == XenbusStateConnected, "after the "
	      "frontend regressed to 1, h's backend is at %d",
	      be_state(e, x->h));
	note("Connected -> Initialising: ignored, backend stays 4, h's "
	     "device stays exported");
	x->h_broken = true;	/* h's frontend left at 1 on purpose */
	return true;
}

static bool row_closing(struct env *e, struct hx *x)
{
	struct bstate b = { x->h, XenbusStateClosing };
	struct front f;
	bool ok;

	ok = h_stop(e, x, NULL) && front_open(e, x, &f, false) &&
	     h_write(e, x, f.xs, "state", "5", 1);
	front_close(&f);
	if (!ok || !wait_until(e, be_is, &b, 5000, "h's backend Closing"))
		return false;
	note("Closing and never Closed: pciback disconnects h (ring unmapped, "
	     "MSI-X freed), backend 5; destroy still completes");
	x->h_broken = true;
	return true;
}

/* h's backend unregistered: Closed, 04:00.0 exported to nobody */
static bool h_unregistered(struct env *e, void *arg)
{
	unsigned int h = *(unsigned int *)arg;
	struct layers l;

	layers_get(e, HOSTILE, &l);
	return be_state(e, h) == XenbusStateClosed && l.pb != (int)h;
}

/* h's backend left Connected, or 04:00.0 is no longer exported to h */
static bool h_moved(struct env *e, void *arg)
{
	unsigned int h = *(unsigned int *)arg;
	struct layers l;

	layers_get(e, HOSTILE, &l);
	return be_state(e, h) != XenbusStateConnected || l.pb != (int)h;
}

/* garbage in h's state node.  Linux reads it with xenbus_scanf("%d")
 * (xenbus_read_driver_state): no number is Unknown, and pciback
 * unregisters h's backend ("frontend is gone!"; xenbus core leaves it
 * Closed); a number with junk after it is that number; a number that is
 * no state (-1) falls to the switch's default: ignored. */
static bool row_garbage_state(struct env *e, struct hx *x)
{
	static const struct {
		const char *val;
		size_t len;
		bool unregisters;	/* else ignored: backend stays 4 */
		const char *show;
	} g[] = {
		{ "abc", 3, true, "abc" }, { "", 0, true, "\"\"" },
		{ "\x01\xff\x80", 3, true, "binary" },
		{ "0x4", 3, true, "0x4 (%d reads 0)" },
		{ "-1", 2, false, "-1" }, { "4 ", 2, false, "\"4 \"" },
		{ "4abc", 4, false, "4abc" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct layers l;
		struct front f;
		bool ok;
		int st;

		if (i && !h_create(e, x, "", true))
			return false;
		x->h_gone = false;
		ok = h_stop(e, x, NULL) && front_open(e, x, &f, false) &&
		     h_write(e, x, f.xs, "state", g[i].val, g[i].len);
		front_close(&f);
		if (!ok || !pciback_settled(e))
			return false;
		if (g[i].unregisters && !wait_until(e, h_unregistered, &x->h,
						    5000, NULL)) {
			st = be_state(e, x->h);
			layers_get(e, HOSTILE, &l);
			return fail(e, "state=%s: Linux unregisters h's "
				    "backend; the model's is at %d, 04:00.0: "
				    "%s", g[i].show, st, layers_str(&l));
		}
		/* ignored: nothing changes within 500 ms (pciback takes
		 * a watch event in a few ms) */
		if (!g[i].unregisters && wait_until(e, h_moved, &x->h, 500,
						    NULL)) {
			st = be_state(e, x->h);
			layers_get(e, HOSTILE, &l);
			return fail(e, "state=%s: Linux ignores it (backend "
				    "stays Connected); the model's is at %d, "
				    "04:00.0: %s", g[i].show, st,
				    layers_str(&l));
		}
		note("state=%s: %s", g[i].show, g[i].unregisters ?
		     "Unknown, h's backend unregistered (h only)" :
		     "ignored, backend stays 4");
		if (!g2_served(e, x, "after garbage in h's state") ||
		    !h_destroy(e, x, "garbage state"))
			return false;
	}
	return true;
}

static bool row_garbage_nodes(struct env *e, struct hx *x)
{
	static const char *const keys[] = {
		"pci-op-ref", "event-channel", "magic", "dev-0", "vdev-0",
		"num_devs", "root-0", "root_num", "backend", "backend-id",
	};
	static const char *const vals[] = { "abc", "-1", "", "\xff\x01",
					    "99999999999999999999" };
	struct front f;
	unsigned int i, j;
	bool ok = true;
	pid_t p;

	if (!h_stop(e, x, &p) || !front_open(e, x, &f, false))
		return false;
	for (i = 0; ok && i < sizeof(keys) / sizeof(keys[0]); i++)
		for (j = 0; ok && j < sizeof(vals) / sizeof(vals[0]); j++)
			ok = h_write(e, x, f.xs, keys[i], vals[j],
				     strlen(vals[j]));
	front_close(&f);
	if (!ok || !pciback_settled(e))
		return false;
	CHECK(e, be_state(e, x->h) == XenbusStateConnected, "after garbage "
	      "in h's frontend nodes, h's backend is at %d", be_state(e, x->h));
	kill(p, SIGCONT);
	note("garbage in pci-op-ref, event-channel, magic, backend, "
	     "backend-id and made-up dev-0/vdev-0/num_devs/root-0 after "
	     "Connected: ignored (read at attach only), backend stays 4");
	return true;
}

/* xenbus_dev_fatal done: the error node, then Closing (or Closed once
 * h's pcifront answered it) */
static bool has_error(struct env *e, void *arg)
{
	unsigned int h = *(unsigned int *)arg;
	int st = be_state(e, h);

	return xs_exists(e, "/local/domain/0/error/backend/pci/%u/0/error",
			 h) &&
	       (st == XenbusStateClosing || st == XenbusStateClosed);
}

/* h's pcifront publishes hostile values; pciback must fail h's backend
 * with xenbus_dev_fatal (error node, Closing), h only */
static bool attach_refused(struct env *e, struct hx *x, const char *args,
			   const char *what, const char *want_msg)
{
	char *err;

	if (!h_create(e, x, args, false))
		return false;
	x->h_gone = false;
	if (!wait_until(e, has_error, &x->h, 8000, NULL))
		return fail(e, "%s: pciback did not fail h's backend (error "
			    "node %s, backend at %d, not Closing/Closed)", what,
			    xs_exists(e, "/local/domain/0/error/backend/pci/"
				      "%u/0/error", x->h) ? "written" : "none",
			    be_state(e, x->h));
	err = xs_get(e, "/local/domain/0/error/backend/pci/%u/0/error", x->h);
	CHECK(e, err && strstr(err, want_msg), "%s: pciback's error node "
	      "says \"%s\", expected \"%s\"", what, err ? err : "(none)",
	      want_msg);
	note("%s: \"%s\"", what, err);
	free(err);
	return g2_served(e, x, what) && h_destroy(e, x, what);
}

static bool row_attach_garbage(struct env *e, struct hx *x)
{
	static const struct {
		const char *args, *what, *msg;
	} c[] = {
		{ "--front-ref abc", "pci-op-ref=abc", "Error reading" },
		{ "--front-ref -1", "pci-op-ref=-1", "Error reading" },
		{ "--front-ref 99999999999", "pci-op-ref=2^36",
		  "Error reading" },
		{ "--front-event-channel abc", "event-channel=abc",
		  "Error reading" },
		{ "--front-event-channel 4000", "event-channel=4000 (not h's)",
		  "binding event channel" },
		{ "--front-magic 6", "magic=6", "version mismatch" },
		{ "--front-magic abc", "magic=abc", "version mismatch" },
	};
	unsigned int i;

	if (!h_destroy(e, x, "the first h"))
		return false;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (!attach_refused(e, x, c[i].args, c[i].what, c[i].msg))
			return false;
	return true;
}

static bool row_grant_range(struct env *e, struct hx *x)
{
	return h_destroy(e, x, "the first h") &&
	       attach_refused(e, x, "--front-ref 4294967295",
			      "pci-op-ref 0xffffffff (out of range)",
			      "Error mapping") &&
	       attach_refused(e, x, "--front-ref 1000000",
			      "pci-op-ref 1000000 (beyond the table)",
			      "Error mapping");
}

static bool row_grant_ungranted(struct env *e, struct hx *x)
{
	return h_destroy(e, x, "the first h") &&
	       attach_refused(e, x, "--front-ref 7",
			      "pci-op-ref 7 (never granted by h)",
			      "Error mapping");
}

static bool row_grant_wrong_dom(struct env *e, struct hx *x)
{
	char args[64];

	if (!h_destroy(e, x, "the first h"))
		return false;
	snprintf(args, sizeof(args), "--grant-to %u", x->g2);
	return attach_refused(e, x, args, "page granted to g2, not dom0",
			      "Error mapping");
}

static bool row_grant_revoke(struct env *e, struct hx *x)
{
	char reply[256];
	struct opres r;

	CHECK(e, e2e_guest_query(&e->run, x->h, "end-grant", reply,
				 sizeof(reply)), "h's guest does not answer");
	CHECK(e, !strncmp(reply, "error EBUSY", 11), "h ended the grant of "
	      "the page pciback maps: \"%.100s\" (Xen refuses: the grant is "
	      "in use)", reply);
	if (!h_op(e, x, XEN_PCI_OP_conf_read, 0, 0, 0, 0, 2, 0, 0, 1, &r))
		return false;
	CHECK(e, r.err == 0 && r.value == 0x8086, "h's pci_op after its "
	      "revoke attempt: err %d value 0x%x", r.err, r.value);
	note("end of the mapped grant refused with EBUSY (Xen: in use); "
	     "the ring keeps working");
	return true;
}

/* -------- device model, stub domain -------- */

static bool row_stub_writes(struct env *e, struct hx *x)
{
	const char *cfg;
	unsigned int hvm, stub;
	struct xs_handle *s;
	char path[8][160];
	unsigned int i, n = 0, refusedn = 0;
	int rc;

	if (!h_destroy(e, x, "the first h"))
		return false;
	cfg = cfg_write(e, "hs", "name = \"hs\"\ntype = \"hvm\"\nmemory = 128"
			"\nvcpus = 1\ndevice_model_stubdomain_override = 1\n"
			"pci = [ '04:00.0' ]\n");
	CHECK(e, cfg, "cannot write hs.cfg");
	rc = TS(e, 30000, "create", cfg);
	CHECK(e, rc == 0, "xpt create hs (stub domain): rc %d: %s", rc, e->out);
	if (!dom_by_name(e, "hs", &hvm) || !dom_by_name(e, "hs-dm", &stub))
		return false;
	s = xs_as(e, stub);
	if (!s)
		return false;
	snprintf(path[n++], sizeof(path[0]), "/local/domain/%u/device/pci/0/"
		 "state", x->g2);
	snprintf(path[n++], sizeof(path[0]), "/local/domain/%u/name", x->g2);
	snprintf(path[n++], sizeof(path[0]), "/local/domain/0/backend/pci/%u/"
		 "0/num_devs", x->g2);
	snprintf(path[n++], sizeof(path[0]), "/local/domain/0/backend/pci/%u/"
		 "0/state", stub);
	snprintf(path[n++], sizeof(path[0]), "/libxl/pci/0000-03-00-0/domid");
	snprintf(path[n++], sizeof(path[0]), "/libxl/hostile");
	snprintf(path[n++], sizeof(path[0]), "/local/domain/0/hostile");
	snprintf(path[n++], sizeof(path[0]), "/vm/hostile");
	for (i = 0; i < n; i++) {
		bool w = xs_write(s, XBT_NULL, path[i], "6", 1);
		int err = errno;

		if (w) {
			xs_close(s);
			return fail(e, "the stub domain (dom%u) wrote %s",
				    stub, path[i]);
		}
		CHECK(e, err == EACCES || err == ENOENT, "the stub's write of "
		      "%s: %s (expected EACCES)", path[i], strerror(err));
		refusedn += err == EACCES;
		xs_rm(s, XBT_NULL, path[i]);
	}
	xs_close(s);
	note("stub domain dom%u writing g2's frontend and name, g2's and its "
	     "own backend, /libxl/pci, /libxl, dom0's home, /vm: %u of %u "
	     "EACCES, the rest ENOENT (secrecy)", stub, refusedn, n);
	rc = TS(e, 20000, "destroy", "hs");
	CHECK(e, rc == 0, "xpt destroy hs: rc %d: %s", rc, e->out);
	return true;
}

/* a QMP peer that answers every line with garbage */
struct qmpg {
	int lfd;
	unsigned int lines;
};

static void *qmp_garbage(void *arg)
{
	static const char *const junk[] = {
		"{\"QMP\": {\"version\": 7\n", "\xff\xfe{{{{\n",
		"{\"return\": [1, 2\n", "{\"error\": 42}\n",
		"}{\"return\":{}}\n",
	};
	struct qmpg *q = arg;
	char buf[4096];
	unsigned int k = 0;
	int fd;

	while ((fd = accept4(q->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		ssize_t n;

		if (send(fd, junk[k % 5], strlen(junk[k % 5]),
			 MSG_NOSIGNAL) < 0) {
			close(fd);
			continue;
		}
		k++;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			q->lines++;
			if (send(fd, junk[k % 5], strlen(junk[k % 5]),
				 MSG_NOSIGNAL) < 0)
				break;
			k++;
		}
		close(fd);
	}
	return NULL;
}

static bool row_qmp_garbage(struct env *e, struct hx *x)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmpg q = { .lfd = -1 };
	char path[64];
	unsigned int hvm;
	pthread_t t;
	pid_t dm;
	int rc;
	int64_t t0;

	if (!h_destroy(e, x, "the first h") ||
	    !create_hvm(e, "hq", "", &hvm))
		return false;
	dm = dm_pid(e, hvm);
	CHECK(e, dm > 0, "hq has no device model");
	/* the device model goes; a peer that answers garbage takes its
	 * QMP socket */
	kill(dm, SIGKILL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-%u",
		 e->run.dir, hvm);
	unlink(sa.sun_path);
	q.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(e, q.lfd >= 0 && bind(q.lfd, (struct sockaddr *)&sa,
				    sizeof(sa)) == 0 && listen(q.lfd, 4) == 0,
	      "cannot listen on %s: %s", sa.sun_path, strerror(errno));
	CHECK(e, pthread_create(&t, NULL, qmp_garbage, &q) == 0, "thread");
	t0 = e2e_now_ms();
	rc = TS(e, 30000, "pci-attach", "hq", "04:00.0");
	shutdown(q.lfd, SHUT_RDWR);
	close(q.lfd);
	pthread_join(t, NULL);
	CHECK(e, rc > 0, "xpt pci-attach hq 04:00.0 against a QMP peer "
	      "answering garbage: rc %d (expected a clean failure): %s", rc,
	      e->out);
	snprintf(path, sizeof(path), "domain %u", hvm);
	CHECK(e, strstr(e->out, "04:00.0") || strstr(e->out, "hq") ||
	      strstr(e->out, path), "the error does not name the device or "
	      "the domain: %s", e->out);
	e->out[strcspn(e->out, "\n")] = '\0';
	note("pci-attach refused in %.1f s: \"%.240s\"",
	     (double)(e2e_now_ms() - t0) / 1000.0, e->out);
	rc = TS(e, 20000, "destroy", "hq");
	CHECK(e, rc == 0, "xpt destroy hq: rc %d: %s", rc, e->out);
	{
		struct layers l;

		layers_get(e, HOSTILE, &l);
		CHECK(e, !l.nbe && !l.nseen && l.marker < 0 &&
		      l.owner == HV_DOMID_IO && l.pb == -1, "after the QMP "
		      "row, 04:00.0 should be assignable: %s", layers_str(&l));
	}
	return true;
}

/* -------- the catalogue -------- */

struct hrow {
	const char *name, *title;
	const char *hargs;	/* h's kernel options */
	bool connect;		/* wait for h to see its device */
	bool (*run)(struct env *e, struct hx *x);
};

static const struct hrow rows[] = {
	{ "pciop-flood", "4000 pci_ops from h while g2 reads", "", true,
	  row_flood },
	{ "malformed-op-code", "pci_op with an unknown op code", "", true,
	  row_bad_opcode },
	{ "malformed-address", "pci_op for a domain/bus/devfn h does not have",
	  "", true, row_bad_address },
	{ "malformed-offset", "pci_op with out-of-range offset/size", "", true,
	  row_bad_offset },
	{ "msix-nvec", "enable_msix with nvec > entries", "", true,
	  row_msix_nvec },
	{ "conf-bar", "config writes to BARs", "", true, row_bar },
	{ "conf-rom", "config write to the ROM BAR", "", true, row_rom },
	{ "conf-msix", "config writes to MSI-X table/PBA offsets and control",
	  "", true, row_msix_regs },
	{ "conf-capptr", "config writes to capability list pointers", "",
	  true, row_cap_ptr },
	{ "conf-command", "command register bits pciback filters", "", true,
	  row_command },
	{ "state-skip", "frontend Initialising -> Connected", "--no-frontend",
	  false, row_skip },
	{ "state-flip", "frontend flips 4 <-> 1", "", true, row_flip },
	{ "state-regress", "frontend back to 1 after Connected", "", true,
	  row_regress },
	{ "state-closing", "frontend Closing, never Closed", "", true,
	  row_closing },
	{ "garbage-state", "garbage in the frontend's state", "", true,
	  row_garbage_state },
	{ "garbage-nodes", "garbage in every other frontend node", "", true,
	  row_garbage_nodes },
	{ "garbage-attach", "garbage in pci-op-ref/event-channel/magic at "
	  "attach", "", true, row_attach_garbage },
	{ "grant-range", "pci-op-ref out of range", "", true,
	  row_grant_range },
	{ "grant-ungranted", "pci-op-ref not granted", "", true,
	  row_grant_ungranted },
	{ "grant-revoke", "grant revoked while mapped", "", true,
	  row_grant_revoke },
	{ "grant-wrong-domain", "page granted to another domain", "", true,
	  row_grant_wrong_dom },
	{ "stubdom-writes", "a stub domain writes outside its directory", "",
	  true, row_stub_writes },
	{ "qmp-garbage", "a QMP peer answering garbage", "", true,
	  row_qmp_garbage },
};

static bool row_run(struct env *e, const struct hrow *row, bool *served)
{
	struct hx x;
	bool ok;

	refused[0] = '\0';
	*served = false;
	ok = setup(e, &x, row->hargs, row->connect) && row->run(e, &x) &&
	     daemons_alive(e, row->name);
	if (ok && !x.h_broken && !x.h_gone)
		ok = inv_check(e, row->name);
	if (ok)
		ok = g2_served(e, &x, row->name);
	if (ok && !x.h_gone)
		ok = h_destroy(e, &x, row->name);
	if (ok)
		ok = daemons_alive(e, row->name) && inv_check(e, row->name) &&
		     g2_served(e, &x, "after h was destroyed");
	*served = ok;
	free(x.g2_nodes);
	return ok;
}

void hostile_run(const struct ts *ts, int argc, char **argv, int first,
		 unsigned int *passed, unsigned int *failed)
{
	char path[4096];
	unsigned int i;
	FILE *md;
	int a;

	snprintf(path, sizeof(path), "%s/hostile.md", bins.outdir);
	md = fopen(path, "we");
	if (md)
		fprintf(md, "| row | hostile action | refused/contained by "
			"(model) | victim g2 served |\n|---|---|---|---|\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct env e;
		int64_t t0 = e2e_now_ms();
		bool ok, served, want = argc <= first;

		for (a = first; a < argc; a++)
			want |= !strcmp(argv[a], rows[i].name);
		if (!want)
			continue;
		ok = env_start(&e, ts, false) && row_run(&e, &rows[i], &served);
		printf("toolstack hostile %s (%s): %s [%.1fs]\n    refused: "
		       "%s\n", rows[i].name, rows[i].title, ok ? "PASS" :
		       "FAIL", (double)(e2e_now_ms() - t0) / 1000.0,
		       refused[0] ? refused : "-");
		if (!ok)
			printf("    xpt: %s\n", e.run.why[0] ? e.run.why : "?");
		fflush(stdout);
		if (md)
			fprintf(md, "| %s | %s | %s | %s |\n", rows[i].name,
				rows[i].title, ok ? refused : e.run.why,
				ok ? "yes" : "FAILED");
		env_stop(&e, !ok);
		if (ok)
			(*passed)++;
		else
			(*failed)++;
	}
	if (md)
		fclose(md);
}
