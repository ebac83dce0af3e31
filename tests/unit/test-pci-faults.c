// SPDX-License-Identifier: MIT
/*
 * Every platform call and every xenstore call of an operation fails in
 * turn (SQLite's method), and a kill -9 at each of them is recovered
 * from, on the in-memory host of fakeplatform.c with a real
 * xpt-xenstored.  fakexs.c counts libxenstore's calls in the fake's
 * countdown (the executable is linked with --wrap=xs_read,...).
 *
 * The countdown: a round creates a guest with two devices, attaches a
 * third, tries to attach a fourth that a second guest holds ("steal",
 * refused at every call), detaches the first, reboots it and destroys
 * it, for a PV guest and a PVH one (no backend: vPCI gets its devices at
 * the assign); the second guest must be untouched throughout.  For
 * N = 1, 2, ... the Nth call of the round fails (EIO); each operation
 * must then either succeed, leaving every layer in agreement (the
 * hypervisor's owner, BAR permissions, pirq, pciback's binding, the
 * /libxl/pci marker, the backend entries, the persisted configuration;
 * no device in two domains), or fail with a message and leave every layer
 * as it found it.  A detach that took the device out of the backend
 * before the failure, and a destroy, may leave devices reserved to the
 * domain, and must say so; run again they finish.  A destroy that leaves
 * xenstore nodes must name `xpt destroy <domid>`, which removes them.
 * After each round nothing is left: no domain, no node, no introduced
 * domain in the store, no configuration or lock file.  A commit that the
 * N-th call fails is tried a second time failing with EAGAIN (a
 * conflict), which must be retried: every operation then succeeds.
 *
 * The kill sweep: for each operation and each N, a child process runs
 * the operation and _exit(137)s at its Nth call as if killed -9 (first
 * copying the fake host, which lives in its memory, to a MAP_SHARED page
 * the parent takes back; xenstore, the lock files and the configuration
 * files are shared anyway).  The parent then runs the same operation
 * again and the opposite one (attach <-> detach, create -> destroy,
 * reboot -> destroy, destroy -> destroy again); a re-run that fails must
 * name the command that finishes it, and after the opposite one every
 * layer agrees and nothing is left of what was undone.  A second guest,
 * created before the sweep with its own device, must be untouched.
 *
 * Figures (printed by the test, which is where they stay true as libxpt
 * changes; README "Faults"), platform + xenstore calls of a round
 * without a fault:
 *
 *	        PV guest      PVH guest
 *	create  22 +  85      21 +  55
 *	attach  16 +  85      12 +  12
 *	steal    6 +  30       5 +   8    (refused)
 *	detach  22 + 114      15 +  18
 *	reboot  49 + 140      46 +  94
 *	destroy 27 +  56      25 +  40
 *	all    142 + 510     124 + 227    (20 and 14 commits, also EAGAIN)
 *
 * and kill points (the calls of each operation, the guest and a second
 * one on the host): PV create 107, attach 101, detach 118, reboot 189,
 * destroy 83 (598); PVH 76, 24, 32, 140, 65 (337).  The countdown and the
 * kill sweep are two meson tests (unit-pci-faults, unit-pci-kills) of
 * this executable, run side by side.  FAULTS_ONLY=N runs round N alone,
 * KILL_ONLY="OP N" one kill point, FAULTS_VERBOSE=1 says what each
 * operation answered, FAKE_BACKTRACE=1 where the failing call is made.
 *
 * HVM guests are not in this round: their devices go to a device model
 * (xpt-dm), which asks the hypervisor (xpt-hypervisor's control socket)
 * at device_add who owns the device, and the fake host lives in this
 * process's memory, out of its reach.  Their countdown runs on the
 * modelled host instead (toolstack-hvm-faults, tests/toolstack/faults.c):
 * xpt-faulty, xpt itself with its libxenstore calls, platform ops and
 * QMP commands counted the way fakexs.c counts here.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakeplatform.h"

/* Built with -DFAULTS_SURVEY, every failure is printed and the run goes
 * on: a survey of all of them at once, when many fail. */
#ifdef FAULTS_SURVEY
#undef fail_msg
#define fail_msg(...) \
	(fprintf(stderr, "SURVEY: " __VA_ARGS__), fputc('\n', stderr))
#endif

static const char *xenstored;
static unsigned int kill_n;	/* the kill sweep's point, for messages */
static const char *kill_op = "";	/* and its operation */

/* OP_STEAL: an attach of the other guest's device, always refused (the
 * countdown's only; the kill sweep leaves it out) */
enum op { OP_CREATE, OP_ATTACH, OP_DETACH, OP_REBOOT, OP_DESTROY, OP_STEAL,
	  NOPS };

static const char *const op_names[NOPS] = {
	"create", "attach", "detach", "reboot", "destroy", "steal",
};

/* Calls made by each operation of a round without a fault. */
struct counts {
	unsigned int pf[NOPS], xs[NOPS];
};

struct snap {
	struct fake_dev dev[FAKE_NDEV];
	int marker[FAKE_NDEV];		/* its domid, -1 none */
	int be[FAKE_NDEV];		/* the domain whose backend lists it */
	int nbe[FAKE_NDEV];		/* backends listing it */
	bool dom[FAKE_NDOM];
};

static void ctx_clear(struct xpt_ctx *c)
{
	c->err[0] = '\0';
	c->warnings[0] = '\0';
	c->exit_code = 0;
}

/* What every layer says of each device; the test's own xenstore reads
 * are not counted. */
static void snap_take(struct xpt_ctx *c, struct snap *s)
{
	struct xpt_be *b = malloc(sizeof(*b));
	char m[16], path[64], **doms, err[sizeof(c->err)];
	unsigned int nd = 0, j;
	int i;

	assert_non_null(b);
	fake.quiet = true;
	memcpy(err, c->err, sizeof(err));
	memset(s, 0, sizeof(*s));
	memcpy(s->dev, fake.dev, sizeof(s->dev));
	for (i = 0; i < FAKE_NDEV; i++) {
		xpt_marker_bdf(fake.dev[i].sbdf, m, sizeof(m));
		snprintf(path, sizeof(path), "/libxl/pci/%s/domid", m);
		if (xpt_xs_read_int(c, XBT_NULL, path, &s->marker[i]) < 0)
			s->marker[i] = -1;
		s->be[i] = -1;
	}
	for (j = 0; j < FAKE_NDOM; j++)
		s->dom[j] = fake.dom[j].used;
	doms = xs_directory(c->xs, XBT_NULL, "/local/domain/0/backend/pci",
			    &nd);
	for (j = 0; doms && j < nd; j++) {
		unsigned int domid = (unsigned int)strtoul(doms[j], NULL, 10);

		if (xpt_be_read(c, XBT_NULL, domid, b) < 0 || !b->exists)
			continue;
		for (i = 0; i < FAKE_NDEV; i++)
			if (xpt_be_find(b, fake.dev[i].sbdf)) {
				s->be[i] = (int)domid;
				s->nbe[i]++;
			}
	}
	free(doms);
	free(b);
	memcpy(c->err, err, sizeof(err));
	fake.quiet = false;
}

static void snap_equal(const struct snap *a, const struct snap *b,
		       const char *op, unsigned int n)
{
	int i;

	for (i = 0; i < FAKE_NDEV; i++) {
		if (a->dev[i].owner != b->dev[i].owner ||
		    a->dev[i].bound != b->dev[i].bound ||
		    memcmp(a->dev[i].perms, b->dev[i].perms,
			   sizeof(a->dev[i].perms)) ||
		    memcmp(a->dev[i].pirq, b->dev[i].pirq,
			   sizeof(a->dev[i].pirq)) ||
		    a->marker[i] != b->marker[i] || a->be[i] != b->be[i] ||
		    a->nbe[i] != b->nbe[i])
			fail_msg("%s failed at call %u and changed device %d: "
				 "owner %d->%d bound %d->%d marker %d->%d "
				 "backend %d->%d", op, n, i, a->dev[i].owner,
				 b->dev[i].owner, a->dev[i].bound,
				 b->dev[i].bound, a->marker[i], b->marker[i],
				 a->be[i], b->be[i]);
	}
	if (memcmp(a->dom, b->dom, sizeof(a->dom)))
		fail_msg("%s failed at call %u and left a domain behind", op,
			 n);
}

static bool is_domu(int owner)
{
	return owner > 0 && owner != (int)XPT_DOMID_IO;
}

/* The cross-layer invariant, once an operation has finished: each
 * device is some domain's in every layer or in none (quarantined, bound
 * to pciback, no grant, no pirq), in at most one backend, and each
 * domain's recorded configuration lists exactly the devices it holds.
 * When the operation said devices stay reserved for a domain (and which
 * command finishes them), a device may also be half-released: its
 * marker still the domain's, in no backend. */
static void layers_agree(struct xpt_ctx *c, const char *when)
{
	bool reserved = strstr(c->err, "reserved for") &&
			strstr(c->err, "`xpt ");

	struct xpt_domcfg *d = malloc(sizeof(*d));
	char err[sizeof(c->err)];
	struct snap s;
	int i, j;

	assert_non_null(d);
	memcpy(err, c->err, sizeof(err));
	snap_take(c, &s);
	fake.quiet = true;
	for (i = 0; i < FAKE_NDEV; i++) {
		int o = s.dev[i].owner, slot = is_domu(o) ? fake_slot(o) : -1;
		bool pv = is_domu(o) && !xpt_domain_type_is(c, (unsigned int)o,
							    "pvh");

		if (reserved && s.dev[i].bound && s.nbe[i] <= 1 &&
		    (o == (int)XPT_DOMID_IO || o == s.marker[i] ||
		     o == s.be[i]) &&
		    (s.marker[i] < 0 || s.be[i] < 0 ||
		     s.marker[i] == s.be[i]))
			continue;	/* half-released, one domain's, said */
		if (s.nbe[i] > 1 || !s.dev[i].bound ||
		    (is_domu(o) && (slot < 0 || s.marker[i] != o ||
				    s.be[i] != (pv ? o : -1) ||
				    s.dev[i].perms[slot] !=
				    (1u | 1u << XPT_BAR_ROM) ||
				    !s.dev[i].pirq[slot])) ||
		    (!is_domu(o) && (o != (int)XPT_DOMID_IO ||
				     s.marker[i] >= 0 || s.be[i] >= 0)))
			fail_msg("%s (call %u, %s, failed): the layers "
				 "disagree on device %d: owner %d marker %d "
				 "backend %d (in %d) bound %d", when,
				 fake.fail_at ? fake.fail_at : kill_n,
				 fake.failed ? fake.failed_call :
				 "none", i, o, s.marker[i], s.be[i], s.nbe[i],
				 s.dev[i].bound);
		if (reserved && slot < 0 && is_domu(s.marker[i]))
			slot = fake_slot((unsigned int)s.marker[i]);
		for (j = 0; j < FAKE_NDOM; j++)
			if (j != slot && (s.dev[i].perms[j] ||
					  s.dev[i].pirq[j]))
				fail_msg("%s (call %u, %s): device %d keeps a "
					 "grant or pirq of a domain that does "
					 "not own it (slot %d)", when,
					 fake.fail_at, fake.failed ?
					 fake.failed_call : "none", i, j);
	}
	for (j = 0; j < FAKE_NDOM; j++) {
		size_t k;

		if (!fake.dom[j].used ||
		    xpt_domcfg_load(c, fake.dom[j].domid, d) < 0)
			continue;
		for (i = 0; i < FAKE_NDEV; i++) {
			bool held = s.dev[i].owner == (int)fake.dom[j].domid,
			     listed = false;

			for (k = 0; k < d->cfg.npci; k++)
				listed |= d->cfg.pci[k].sbdf == fake.dev[i].sbdf;
			if (held != listed)
				fail_msg("%s: domain %u %s device %d, but its "
					 "configuration %s it", when,
					 fake.dom[j].domid, held ? "holds" :
					 "does not hold", i, listed ? "lists" :
					 "does not list");
		}
	}
	free(d);
	memcpy(c->err, err, sizeof(err));
	fake.quiet = false;
}

/* What a domain leaves when it goes, and whether any of it is left. */
static bool domain_left(struct xpt_ctx *c, unsigned int domid, char *what,
			size_t len)
{
	static const char *const nodes[] = {	/* + domid */
		"/local/domain/", "/libxl/", "/local/domain/0/backend/pci/",
		"/local/domain/0/error/backend/pci/",
	};
	char path[PATH_MAX];
	size_t i;
	bool left = false;

	fake.quiet = true;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]) && !left; i++) {
		snprintf(path, sizeof(path), "%s%u", nodes[i], domid);
		if (xpt_xs_exists(c, XBT_NULL, path)) {
			snprintf(what, len, "xenstore node %s", path);
			left = true;
		}
	}
	if (!left && xs_is_domain_introduced(c->xs, domid)) {
		snprintf(what, len, "domain %u still introduced to xenstore",
			 domid);
		left = true;
	}
	if (!left && fake_dom(domid)) {
		snprintf(what, len, "domain %u in the hypervisor", domid);
		left = true;
	}
	if (!left) {
		snprintf(path, sizeof(path), "%s/xpt/domains/%u.json",
			 fake_rundir(), domid);
		if (access(path, F_OK) == 0) {
			snprintf(what, len, "%s", path);
			left = true;
		}
	}
	if (!left) {
		snprintf(path, sizeof(path), "%s/xpt/lock/%u", fake_rundir(),
			 domid);
		if (access(path, F_OK) == 0) {
			snprintf(what, len, "lock file %s", path);
			left = true;
		}
	}
	fake.quiet = false;
	return left;
}

/* /vm holds one entry per live domain. */
static unsigned int vm_entries(struct xpt_ctx *c)
{
	unsigned int n = 0;
	char **d;

	fake.quiet = true;
	d = xs_directory(c->xs, XBT_NULL, "/vm", &n);
	free(d);
	fake.quiet = false;
	return d ? n : 0;
}

/* Nothing of the domains in [first, end): destroyed (or never made),
 * nothing of them left anywhere; with retry, a second `xpt destroy` of a
 * domain whose destroy named that command first. */
static void nothing_left(struct xpt_ctx *c, unsigned int first,
			 unsigned int end, const char *said, unsigned int n)
{
	char what[PATH_MAX + 32], cmd[32];
	unsigned int id;

	for (id = first; id < end; id++) {
		if (!domain_left(c, id, what, sizeof(what)))
			continue;
		snprintf(cmd, sizeof(cmd), "xpt destroy %u`", id);
		if (!strstr(said, cmd))
			fail_msg("%scall %u: %s is left, and no message named "
				 "`xpt destroy %u` (they said: %s)", kill_op, n,
				 what, id, said);
		ctx_clear(c);
		fake.fail_at = 0;
		if (xpt_domain_destroy(c, id) < 0 ||
		    domain_left(c, id, what, sizeof(what)))
			fail_msg("%scall %u: `xpt destroy %u` again: %s; %s is "
				 "left", kill_op, n, id, xpt_ctx_error(c), what);
	}
}

/* Nothing of any domain: devices quarantined, bound, no grants, no
 * markers, no backends, no domains. */
static void all_clean(struct xpt_ctx *c, unsigned int n)
{
	struct snap s;
	int i, j;

	snap_take(c, &s);
	for (i = 0; i < FAKE_NDEV; i++) {
		if (s.dev[i].owner != (int)XPT_DOMID_IO || !s.dev[i].bound ||
		    s.marker[i] >= 0 || s.be[i] >= 0)
			fail_msg("round %u: device %d left: owner %d bound %d "
				 "marker %d backend %d", n, i, s.dev[i].owner,
				 s.dev[i].bound, s.marker[i], s.be[i]);
		for (j = 0; j < FAKE_NDOM; j++)
			if (s.dev[i].perms[j] || s.dev[i].pirq[j])
				fail_msg("round %u: device %d keeps a grant or "
					 "pirq", n, i);
	}
	for (j = 0; j < FAKE_NDOM; j++)
		if (s.dom[j])
			fail_msg("round %u: a domain is left", n);
	if (vm_entries(c))
		fail_msg("round %u: a /vm entry is left", n);
}

static struct xpt_pci spec_of(uint32_t sbdf)
{
	struct xpt_pci p;

	xpt_pci_spec_init(&p);
	p.sbdf = sbdf;
	p.has_bdf = true;
	p.func_mask = (uint8_t)(1u << XPT_PCI_FN(sbdf));
	return p;
}

/* cfg: a guest of type with the first two devices (its name still to
 * set). */
static void cfg_init(struct xpt_cfg *cfg, const char *type)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_mb = 64;
	cfg->pci[0] = spec_of(fake.dev[0].sbdf);
	cfg->pci[1] = spec_of(fake.dev[1].sbdf);
	cfg->npci = 2;
	snprintf(cfg->type, sizeof(cfg->type), "%s", type);
}

/* A fresh in-memory host, every device assignable, and cfg a guest
 * (its name still to set) with the first two of them. */
static void fresh_host(struct xpt_ctx *c, struct xpt_cfg *cfg)
{
	int i;

	assert_non_null(c);
	assert_non_null(cfg);
	fake_reset();
	assert_int_equal(xpt_connect(c), 0);
	/* what a failed round left in the store does not fail the next */
	assert_int_equal(xpt_xs_rm(c, XBT_NULL, "/libxl/pci"), 0);
	assert_int_equal(xpt_xs_rm(c, XBT_NULL,
				   "/local/domain/0/backend/pci"), 0);
	assert_int_equal(xpt_xs_rm(c, XBT_NULL, "/vm"), 0);
	for (i = 0; i < FAKE_NDEV; i++)
		assert_int_equal(xpt_assignable_add(c, fake.dev[i].sbdf,
						    NULL), 0);
	cfg_init(cfg, "pv");
}

/* A failed operation says what failed, on which object. */
static void failed_clearly(struct xpt_ctx *c, const char *op, unsigned int n)
{
	const char *e = xpt_ctx_error(c);

	if (strlen(e) < 16 || (!strstr(e, "domain") && !strstr(e, "0000:")))
		fail_msg("%s failed at call %u (%s) without saying what: "
			 "\"%s\"", op, n, fake.failed_call, e);
}

/* What each operation said, for nothing_left(). */
static void said_add(char *said, size_t len, struct xpt_ctx *c)
{
	size_t used = strlen(said);

	snprintf(said + used, len - used, "%s\n%s\n", xpt_ctx_error(c),
		 xpt_ctx_warnings(c));
}

struct guest {
	char name[64];
	unsigned int domid;
};

/* Second guest B: its device, its nodes, its configuration, as before. */
struct bview {
	struct fake_dev dev;
	struct fake_dom dom;
	int marker, be;
	char *cfg;
};

static void bview_take(struct xpt_ctx *c, const struct guest *b,
		       struct bview *v)
{
	struct snap s;
	char path[PATH_MAX];
	FILE *f;
	long len;

	snap_take(c, &s);
	v->dev = s.dev[3];
	v->dom = *fake_dom(b->domid);
	v->marker = s.marker[3];
	v->be = s.be[3];
	snprintf(path, sizeof(path), "%s/xpt/domains/%u.json", fake_rundir(),
		 b->domid);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	v->cfg = calloc(1, (size_t)len + 1);
	assert_non_null(v->cfg);
	assert_int_equal(fread(v->cfg, 1, (size_t)len, f), (size_t)len);
	fclose(f);
}

static void b_untouched(struct xpt_ctx *c, const struct guest *b,
			const struct bview *was, const char *op,
			unsigned int n)
{
	struct bview now;

	if (!fake_dom(b->domid))
		fail_msg("%s at call %u: the other guest is gone", op, n);
	bview_take(c, b, &now);
	if (memcmp(&now.dev, &was->dev, sizeof(now.dev)) ||
	    memcmp(&now.dom, &was->dom, sizeof(now.dom)) ||
	    now.marker != was->marker || now.be != was->be ||
	    strcmp(now.cfg, was->cfg))
		fail_msg("%s at call %u: the other guest (domain %u) changed: "
			 "owner %d marker %d backend %d", op, n, b->domid,
			 now.dev.owner, now.marker, now.be);
	free(now.cfg);
}

struct round {
	unsigned int fail_at;
	int fail_errno;		/* 0: EIO */
	const char *type;
	int result[NOPS];	/* each operation's, 1 not run */
	struct counts calls;
	bool hit;
	const char *call;	/* the call that failed */
	enum op in;		/* in which operation */
};

/* Run one operation of a round, counting its calls. */
#define ROUND_OP(rd, o, expr) do {					\
	unsigned int pf0 = fake.pf_calls, xs0 = fake.xs_calls;		\
	bool hit0 = fake.failed;					\
									\
	ctx_clear(c);							\
	fake.quiet = false;						\
	r = (expr);							\
	fake.quiet = true;						\
	(rd)->result[o] = r;						\
	(rd)->calls.pf[o] = fake.pf_calls - pf0;			\
	(rd)->calls.xs[o] = fake.xs_calls - xs0;			\
	if (fake.failed && !hit0)					\
		(rd)->in = (o);						\
	said_add(said, sizeof(said), c);				\
	if (getenv("FAULTS_VERBOSE"))					\
		fprintf(stderr, "call %u %s: %s %d %s / %s\n", rd->fail_at,	\
			fake.failed ? fake.failed_call : "-", op_names[o],	\
			r, xpt_ctx_error(c), xpt_ctx_warnings(c));	\
} while (0)

/* One round with call rd->fail_at failing. */
static void round_run(struct round *rd)
{
	bool pvh = !strcmp(rd->type, "pvh");
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct snap before, after;
	struct guest b = { .domid = 0 };
	struct bview bv;
	struct xpt_pci p;
	unsigned int domid = 0, newid = 0, first, n = rd->fail_at, i;
	static char said[16384];
	int r;

	for (i = 0; i < NOPS; i++)
		rd->result[i] = 1;
	said[0] = '\0';
	fresh_host(c, cfg);
	/* the other guest, with device 3: untouched by every operation */
	cfg->pci[0] = spec_of(fake.dev[3].sbdf);
	cfg->npci = 1;
	snprintf(cfg->type, sizeof(cfg->type), "%s", rd->type);
	snprintf(cfg->name, sizeof(cfg->name), "o%s%u%c", rd->type, n,
		 rd->fail_errno ? 'a' : 'e');
	assert_int_equal(xpt_domain_create(c, cfg, true, &b.domid), 0);
	bview_take(c, &b, &bv);
	cfg_init(cfg, rd->type);
	first = fake.next_domid;
	snprintf(cfg->name, sizeof(cfg->name), "g%s%u%c", rd->type, n,
		 rd->fail_errno ? 'a' : 'e');
	snprintf(cfg->type, sizeof(cfg->type), "%s", rd->type);
	fake.quiet = true;
	fake.calls = fake.pf_calls = fake.xs_calls = 0;
	fake.fail_at = n;
	fake.fail_errno = rd->fail_errno;

	snap_take(c, &before);
	ROUND_OP(rd, OP_CREATE, xpt_domain_create(c, cfg, true, &domid));
	if (r < 0) {
		failed_clearly(c, "create", n);
		snap_take(c, &after);
		snap_equal(&before, &after, "create", n);
		goto out;
	}
	layers_agree(c, "create");
	b_untouched(c, &b, &bv, "create", n);

	snap_take(c, &before);
	p = spec_of(fake.dev[2].sbdf);
	ROUND_OP(rd, OP_ATTACH, xpt_pci_attach(c, domid, &p));
	if (r < 0) {
		failed_clearly(c, "attach", n);
		snap_take(c, &after);
		snap_equal(&before, &after, "attach", n);
	}
	layers_agree(c, "attach");
	b_untouched(c, &b, &bv, "attach", n);

	/* the other guest's device: refused whichever call fails */
	snap_take(c, &before);
	p = spec_of(fake.dev[3].sbdf);
	ROUND_OP(rd, OP_STEAL, xpt_pci_attach(c, domid, &p));
	if (r >= 0)
		fail_msg("call %u: the other guest's device was attached", n);
	failed_clearly(c, "attach of the other guest's device", n);
	snap_take(c, &after);
	snap_equal(&before, &after, "attach of the other guest's device", n);
	b_untouched(c, &b, &bv, "steal", n);

	snap_take(c, &before);
	p = spec_of(fake.dev[0].sbdf);
	ROUND_OP(rd, OP_DETACH, xpt_pci_detach(c, domid, &p, false));
	if (r < 0) {
		failed_clearly(c, "detach", n);
		snap_take(c, &after);
		if (strstr(xpt_ctx_error(c), "reserved for the domain")) {
			/* out of the backend, still the domain's: said so,
			 * and the retry the message names finishes it */
			if (after.marker[0] != (int)domid || after.be[0] >= 0)
				fail_msg("detach failed at call %u (%s) and "
					 "left device 0 at marker %d backend "
					 "%d", n, fake.failed_call,
					 after.marker[0], after.be[0]);
			ctx_clear(c);
			if (xpt_pci_detach(c, domid, &p, true) < 0)
				fail_msg("detach failed at call %u (%s) and "
					 "did not converge: %s", n,
					 fake.failed_call, xpt_ctx_error(c));
		} else {
			snap_equal(&before, &after, "detach", n);
		}
	}
	layers_agree(c, "detach");
	b_untouched(c, &b, &bv, "detach", n);

	/* the same devices after as before: the configuration agrees
	 * with the layers (checked above), and a reboot builds from it */
	snap_take(c, &before);
	ROUND_OP(rd, OP_REBOOT, xpt_domain_reboot(c, domid, &newid));
	if (r == 0) {
		snap_take(c, &after);
		for (i = 0; i < FAKE_NDEV; i++)
			if (is_domu(before.dev[i].owner) !=
			    is_domu(after.dev[i].owner))
				fail_msg("reboot at call %u: device %u %s", n,
					 i, is_domu(before.dev[i].owner) ?
					 "lost" : "gained");
		domid = newid;
	}
	layers_agree(c, "reboot");
	b_untouched(c, &b, &bv, "reboot", n);
	if (r < 0) {
		/* the old domain, or a new one that kept its name */
		failed_clearly(c, "reboot", n);
		ctx_clear(c);
		if (xpt_domain_resolve(c, cfg->name, &newid) == 0)
			domid = newid;
	}
	if (pvh && r == 0 && !n)
		for (i = 0; i < 3; i++)
			if (i && fake.dev[i].owner != (int)domid)
				fail_msg("PVH reboot: device %u not the "
					 "domain's", i);

	ROUND_OP(rd, OP_DESTROY, xpt_domain_destroy(c, domid));
	if (getenv("FAULTS_VERBOSE"))
		fprintf(stderr, "destroy at %u: %d %s / %s\n", n, r,
			r < 0 ? xpt_ctx_error(c) : "", xpt_ctx_warnings(c));
	if (r < 0 && r != -ESRCH) {
		/* a teardown that failed says what it left, and a second
		 * destroy finishes it */
		failed_clearly(c, "destroy", n);
		ctx_clear(c);
		r = xpt_domain_destroy(c, domid);
		if (r < 0 && r != -ESRCH)
			fail_msg("destroy failed at call %u (%s): %s; again: "
				 "%s", n, fake.failed_call, said,
				 xpt_ctx_error(c));
	}
out:
	fake.fail_at = 0;
	nothing_left(c, first, fake.next_domid, said, n);
	b_untouched(c, &b, &bv, "destroy", n);
	ctx_clear(c);
	fake.quiet = true;
	if (xpt_domain_destroy(c, b.domid) < 0)
		fail_msg("call %u: the other guest: destroy: %s", n,
			 xpt_ctx_error(c));
	free(bv.cfg);
	all_clean(c, n);
	if (n && n <= fake.calls && !fake.failed)
		fail_msg("call %u was never made to fail", n);
	rd->hit = fake.failed;
	rd->call = fake.failed_call;
	xpt_ctx_close(c);
	free(cfg);
}

static void every_call_fails(const char *type)
{
	struct round base = { .type = type }, rd;
	unsigned int n, i, pf = 0, xs = 0, again = 0;
	const char *only = getenv("FAULTS_ONLY");	/* one round: N */

	if (only) {
		rd = (struct round){ .fail_at = (unsigned int)strtoul(only,
								     NULL, 10),
				     .type = type };
		round_run(&rd);
		return;
	}
	round_run(&base);
	for (i = 0; i < NOPS; i++) {
		if (base.result[i] != 0 && i != OP_STEAL)
			fail_msg("%s guest: %s failed with no fault", type,
				 op_names[i]);
		pf += base.calls.pf[i];
		xs += base.calls.xs[i];
	}
	assert_true(pf > 20 && xs > 100);
	for (n = 1;; n++) {
		rd = (struct round){ .fail_at = n, .type = type };
		round_run(&rd);
		if (!rd.hit)
			break;
		if (strcmp(rd.call, "xs_transaction_end"))
			continue;
		/* a commit that conflicts is retried, not reported */
		rd = (struct round){ .fail_at = n, .type = type,
				     .fail_errno = EAGAIN };
		round_run(&rd);
		if (!rd.hit || strcmp(rd.call, "xs_transaction_end"))
			fail_msg("%s guest: call %u was a commit once, then "
				 "%s", type, n, rd.hit ? rd.call : "none");
		for (i = 0; i < NOPS; i++)
			if (rd.result[i] != 0 && i != OP_STEAL)
				fail_msg("%s guest: a conflict at the commit "
					 "of call %u failed %s", type, n,
					 op_names[i]);
		again++;
	}
	print_message("%s guest: %u calls, %u platform and %u xenstore, each "
		      "made to fail in turn (EIO); %u commits also with EAGAIN"
		      "\n", type, n - 1, pf, xs, again);
	for (i = 0; i < NOPS; i++)
		print_message("  %-8s %3u platform, %3u xenstore\n",
			      op_names[i], base.calls.pf[i], base.calls.xs[i]);
	if (n - 1 != pf + xs)
		fail_msg("%s guest: %u calls counted, the round without a "
			 "fault made %u", type, n - 1, pf + xs);
}

static void test_every_call_fails(void **state)
{
	(void)state;
	every_call_fails("pv");
}

/* The same for a PVH guest: no backend, its devices given to its vPCI
 * by the assign alone, taken back by the deassign. */
static void test_every_call_fails_pvh(void **state)
{
	(void)state;
	every_call_fails("pvh");
}

/*
 * The kill sweep.
 */
static struct fake_host *shared;	/* MAP_SHARED: the child's fake */

static void killed_now(void)
{
	memcpy(shared, &fake, sizeof(fake));
	_exit(137);
}

/* Run op on g (create: a guest of type named g->name, paused, with
 * devices 0 and 1; attach and detach: device dev); a create and a
 * reboot set g->domid. */
static int op_do(struct xpt_ctx *c, enum op op, const char *type,
		 struct guest *g, int dev)
{
	struct xpt_cfg *cfg;
	struct xpt_pci p;
	unsigned int id = 0;
	int r;

	switch (op) {
	case OP_CREATE:
		cfg = calloc(1, sizeof(*cfg));
		if (!cfg)
			return -ENOMEM;
		cfg_init(cfg, type);
		snprintf(cfg->name, sizeof(cfg->name), "%s", g->name);
		r = xpt_domain_create(c, cfg, true, &id);
		free(cfg);
		break;
	case OP_ATTACH:
		p = spec_of(fake.dev[dev].sbdf);
		return xpt_pci_attach(c, g->domid, &p);
	case OP_DETACH:
		p = spec_of(fake.dev[dev].sbdf);
		return xpt_pci_detach(c, g->domid, &p, false);
	case OP_REBOOT:
		r = xpt_domain_reboot(c, g->domid, &id);
		break;
	default:
		return xpt_domain_destroy(c, g->domid);
	}
	if (r == 0)
		g->domid = id;
	return r;
}

/* A child runs op and dies at its call n as kill -9 would have it; the
 * fake host comes back.  false: the operation finished before call n. */
static bool run_killed(enum op op, const char *type, struct guest *g,
		       unsigned int n)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct xpt_ctx *c = fake_ctx();

		fake.quiet = true;
		if (!c || xpt_connect(c) < 0)
			_exit(2);
		fake.calls = 0;
		fake.fail_at = n;
		fake.at_fault = killed_now;
		fake.quiet = false;
		op_do(c, op, type, g, op == OP_ATTACH ? 2 : 0);
		fake.quiet = true;
		memcpy(shared, &fake, sizeof(fake));
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	memcpy(&fake, shared, sizeof(fake));
	fake.at_fault = NULL;
	fake.fail_at = 0;
	fake.quiet = false;
	fake.failed = true;	/* where it died, for the messages */
	kill_n = n;
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 137 &&
				   WEXITSTATUS(status) != 0))
		fail_msg("%s killed at call %u: the child ended with status "
			 "0x%x", op_names[op], n, status);
	return WEXITSTATUS(status) == 137;
}

/* A re-run that fails says why in a way that needs nothing (the work
 * was done) or names the command that finishes it. */
static void rerun_said(struct xpt_ctx *c, enum op op, int r, unsigned int n)
{
	static const int done[NOPS] = {
		[OP_CREATE] = -EEXIST, [OP_ATTACH] = -EEXIST,
		[OP_DETACH] = -ENOENT, [OP_REBOOT] = -ESRCH,
		[OP_DESTROY] = -ESRCH,
	};
	const char *e = xpt_ctx_error(c);

	if (r == 0 || r == done[op] || strstr(e, "`xpt "))
		return;
	fail_msg("%s killed at call %u, run again: \"%s\" (%d) names no "
		 "command that finishes it", op_names[op], n, e, r);
}

/* The guest named g->name, if there is one. */
static void guest_find(struct xpt_ctx *c, struct guest *g, bool *ret_found)
{
	unsigned int id;

	ctx_clear(c);
	*ret_found = xpt_domain_resolve(c, g->name, &id) == 0;
	if (*ret_found)
		g->domid = id;
	ctx_clear(c);
}

static void held_by(const struct guest *g, int dev, bool held,
		    const char *op, unsigned int n)
{
	if ((fake.dev[dev].owner == (int)g->domid) != held)
		fail_msg("%s killed at call %u, run again and undone: device "
			 "%d is %sthe guest's (owner %d)", op, n, dev,
			 held ? "not " : "", fake.dev[dev].owner);
}

/* Kill op at call n, run it again, then the opposite; check. */
static void kill_point(struct xpt_ctx *c, enum op op, const char *type,
		       const struct guest *b, const struct bview *bv,
		       unsigned int n, bool *ret_more)
{
	static const enum op opposite[NOPS] = {
		[OP_CREATE] = OP_DESTROY, [OP_ATTACH] = OP_DETACH,
		[OP_DETACH] = OP_ATTACH, [OP_REBOOT] = OP_DESTROY,
		[OP_DESTROY] = OP_DESTROY,
	};
	const char *name = op_names[op];
	unsigned int first = fake.next_domid;
	int dev = op == OP_ATTACH ? 2 : 0;	/* attached, detached */
	struct guest g = { .domid = 0 };
	char said[4096] = "";
	bool found = true;
	int r;

	snprintf(g.name, sizeof(g.name), "k%s%s%u", type, name, n);
	kill_op = name;
	if (op != OP_CREATE) {
		ctx_clear(c);
		if (op_do(c, OP_CREATE, type, &g, 0) < 0)
			fail_msg("%s at %u: making the guest: %s", name, n,
				 xpt_ctx_error(c));
	}
	*ret_more = run_killed(op, type, &g, n);
	if (op == OP_CREATE || op == OP_REBOOT)
		guest_find(c, &g, &found);

	/* the same again */
	ctx_clear(c);
	r = found || op == OP_CREATE ? op_do(c, op, type, &g, dev) : -ESRCH;
	if (getenv("FAULTS_VERBOSE"))
		fprintf(stderr, "%s killed at %u (%s), domain %u found %d; "
			"again: %d %s / %s\n", name, n, fake.failed_call,
			g.domid, found, r, c->err, c->warnings);
	rerun_said(c, op, r, n);
	said_add(said, sizeof(said), c);
	/* a create or reboot cut short leaves a domain half-built (as
	 * xl's does), which the destroy below removes */
	if (r == 0 || (op != OP_CREATE && op != OP_REBOOT))
		layers_agree(c, name);
	if (op == OP_CREATE || op == OP_REBOOT)
		guest_find(c, &g, &found);

	/* and the opposite */
	ctx_clear(c);
	r = found ? op_do(c, opposite[op], type, &g, dev) : -ESRCH;
	if (getenv("FAULTS_VERBOSE"))
		fprintf(stderr, "then %s of domain %u (found %d): %d %s / %s\n",
			op_names[opposite[op]], g.domid, found, r, c->err,
			c->warnings);
	said_add(said, sizeof(said), c);
	if (r < 0 && !(opposite[op] == OP_DESTROY && r == -ESRCH))
		fail_msg("%s killed at call %u, run again, then %s: %s", name,
			 n, op_names[opposite[op]], xpt_ctx_error(c));
	if (op == OP_DESTROY && found && r != -ESRCH)
		fail_msg("destroy killed at call %u, run again: a third "
			 "destroy still found domain %u", n, g.domid);
	layers_agree(c, op_names[opposite[op]]);
	b_untouched(c, b, bv, name, n);
	if (op == OP_ATTACH || op == OP_DETACH) {
		held_by(&g, 0, true, name, n);
		held_by(&g, 1, true, name, n);
		held_by(&g, 2, false, name, n);
		ctx_clear(c);
		if (xpt_domain_destroy(c, g.domid) < 0)
			fail_msg("%s killed at call %u: destroy: %s", name, n,
				 xpt_ctx_error(c));
		said_add(said, sizeof(said), c);
	}
	nothing_left(c, first, fake.next_domid, said, n);
	layers_agree(c, "the end");
	if (vm_entries(c) != 1)
		fail_msg("%s killed at call %u: %u /vm entries, 1 guest", name,
			 n, vm_entries(c));
}

static void kill_sweep(const char *type)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct guest b = { .domid = 0 };
	struct bview bv;
	unsigned int points[NOPS] = { 0 }, n, i, total = 0;
	bool more = true;

	fresh_host(c, cfg);
	cfg->pci[0] = spec_of(fake.dev[3].sbdf);
	cfg->npci = 1;
	snprintf(cfg->type, sizeof(cfg->type), "%s", type);
	snprintf(cfg->name, sizeof(cfg->name), "other");
	assert_int_equal(xpt_domain_create(c, cfg, true, &b.domid), 0);
	layers_agree(c, "the other guest");
	bview_take(c, &b, &bv);
	for (i = 0; i < OP_STEAL; i++) {
		const char *only = getenv("KILL_ONLY");	/* "OP N" */

		if (only) {
			if (strncmp(only, op_names[i], strlen(op_names[i])))
				continue;
			n = (unsigned int)strtoul(strchr(only, ' ') + 1, NULL,
						  10);
			kill_point(c, (enum op)i, type, &b, &bv, n, &more);
			points[i] = 0;
			continue;
		}
		for (n = 1, more = true; more; n++)
			kill_point(c, (enum op)i, type, &b, &bv, n, &more);
		points[i] = n - 2;
		total += points[i];
	}
	print_message("%s guest: killed at %u points: create %u, attach %u, "
		      "detach %u, reboot %u, destroy %u\n", type, total,
		      points[OP_CREATE], points[OP_ATTACH], points[OP_DETACH],
		      points[OP_REBOOT], points[OP_DESTROY]);
	ctx_clear(c);
	assert_int_equal(xpt_domain_destroy(c, b.domid), 0);
	all_clean(c, 0);
	free(bv.cfg);
	xpt_ctx_close(c);
	free(cfg);
}

static void test_kill_sweep(void **state)
{
	(void)state;
	kill_sweep("pv");
}

static void test_kill_sweep_pvh(void **state)
{
	(void)state;
	kill_sweep("pvh");
}

/* A guest whose frontend says Connected, running or paused by its
 * administrator: destroy stops it first and never lets it run again (a
 * paused guest stays paused; its kernel may be what was wrong), and no
 * device leaves it while it runs.  Before, destroy unpaused a paused
 * guest to ask it to let go, and paused a running one and then waited a
 * second for the answer it could not give. */
static void destroy_connected(bool paused)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	unsigned int domid = 0;
	char path[96];

	fresh_host(c, cfg);
	snprintf(cfg->name, sizeof(cfg->name), "conn%d", paused);
	assert_int_equal(xpt_domain_create(c, cfg, false, &domid), 0);
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state",
		 domid);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "4"), 0);
	if (paused)
		assert_int_equal(xpt_domain_pause(c, domid), 0);
	fake.unpauses = 0;
	fake.ran_deassigned = 0;
	assert_int_equal(xpt_domain_destroy(c, domid), 0);
	if (fake.unpauses)
		fail_msg("destroy unpaused the %s guest", paused ? "paused" :
			 "running");
	if (fake.ran_deassigned)
		fail_msg("destroy took %u devices from the guest while it ran",
			 fake.ran_deassigned);
	all_clean(c, 0);
	xpt_ctx_close(c);
	free(cfg);
}

static void test_destroy_paused_guest(void **state)
{
	(void)state;
	destroy_connected(true);
}

/* C xenstored releases a dying domain itself: destroy then sends no
 * RELEASE of its own, which would only be answered ENOENT (a failed
 * request in every trace of a destroy on Xen); a domain the store still
 * has is released, once.  Before, RELEASE was sent either way. */
static void test_destroy_released_domain(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	unsigned int domid = 0;
	int gone;

	(void)state;
	fresh_host(c, cfg);
	for (gone = 1; gone >= 0; gone--) {
		snprintf(cfg->name, sizeof(cfg->name), "rel%d", gone);
		assert_int_equal(xpt_domain_create(c, cfg, false, &domid), 0);
		if (gone)	/* as C xenstored does at the domain's death */
			assert_true(xs_release_domain(c->xs, domid));
		fake.releases = 0;
		assert_int_equal(xpt_domain_destroy(c, domid), 0);
		if (fake.releases != (gone ? 0u : 1u))
			fail_msg("destroy of a domain the store %s sent %u "
				 "RELEASE", gone ? "had released" : "still had",
				 fake.releases);
		assert_false(xs_is_domain_introduced(c->xs, domid));
	}
	all_clean(c, 0);
	xpt_ctx_close(c);
	free(cfg);
}

/* `xpt list` warns of store records of a domain the hypervisor does not
 * have, and of none it has: the check searches the hypervisor's list for
 * every store entry (its node, backend, device markers). */
static void test_list_orphans(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct xpt_domain_info *info = NULL;
	unsigned int domid[3], i;
	char path[96], want[64];
	size_t n = 0;

	(void)state;
	fresh_host(c, cfg);
	cfg->npci = 0;
	for (i = 0; i < 3; i++) {
		snprintf(cfg->name, sizeof(cfg->name), "orph%u", i);
		assert_int_equal(xpt_domain_create(c, cfg, false, &domid[i]),
				 0);
	}
	assert_int_equal(xpt_xs_write(c, XBT_NULL,
				      "/local/domain/0/backend/pci/7/0/num_devs",
				      "0"), 0);
	assert_int_equal(xpt_xs_write(c, XBT_NULL,
				      "/libxl/pci/0000-00-1f-0/domid", "6"), 0);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/"
			 "num_devs", domid[i]);
		assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "0"), 0);
	}
	ctx_clear(c);
	assert_int_equal(xpt_domain_list(c, &info, &n), 0);
	assert_int_equal(n, 4);		/* dom0 and ours */
	for (i = 6; i <= 7; i++) {
		snprintf(want, sizeof(want), "domain %u is recorded", i);
		if (!strstr(xpt_ctx_warnings(c), want))
			fail_msg("no warning '%s' in: %s", want,
				 xpt_ctx_warnings(c));
	}
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "domain %u is recorded", domid[i]);
		if (strstr(xpt_ctx_warnings(c), want))
			fail_msg("domain %u runs, yet: %s", domid[i],
				 xpt_ctx_warnings(c));
		if (strstr(xpt_ctx_warnings(c), "has no records"))
			fail_msg("a domain lost its records: %s",
				 xpt_ctx_warnings(c));
	}
	free(info);
	info = NULL;
	/* the store forgot domain 1 (xenstored restarted): named by its
	 * own record */
	snprintf(path, sizeof(path), "/local/domain/%u", domid[1]);
	assert_int_equal(xpt_xs_rm(c, XBT_NULL, path), 0);
	ctx_clear(c);
	assert_int_equal(xpt_domain_list(c, &info, &n), 0);
	snprintf(want, sizeof(want), "domain %u (orph1) has no records in "
		 "the store", domid[1]);
	if (!strstr(xpt_ctx_warnings(c), want))
		fail_msg("no warning '%s' in: %s", want, xpt_ctx_warnings(c));
	for (i = 0; i < 3; i++)
		assert_int_equal(xpt_domain_destroy(c, domid[i]), 0);
	assert_int_equal(xpt_xs_rm(c, XBT_NULL,
				   "/local/domain/0/backend/pci/7"), 0);
	assert_int_equal(xpt_xs_rm(c, XBT_NULL, "/libxl/pci/0000-00-1f-0"), 0);
	free(info);
	xpt_ctx_close(c);
	free(cfg);
}

static void test_destroy_running_guest(void **state)
{
	(void)state;
	destroy_connected(false);
}

/* A guest gets every resource of its devices, the expansion ROM with the
 * BARs (libxl's 7 resource lines; a driver reading its option ROM faults
 * without it), and loses them all at destroy.  Before, the ROM was not
 * granted. */
static void test_rom_granted(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	unsigned int domid = 0;
	int s;

	(void)state;
	fresh_host(c, cfg);
	snprintf(cfg->name, sizeof(cfg->name), "rom");
	assert_int_equal(xpt_domain_create(c, cfg, false, &domid), 0);
	s = fake_slot(domid);
	assert_true(s >= 0);
	assert_int_equal(fake.dev[0].perms[s], 1u | 1u << XPT_BAR_ROM);
	assert_int_equal(fake.dev[1].perms[s], 1u | 1u << XPT_BAR_ROM);
	assert_int_equal(fake.dev[2].perms[s], 0);
	assert_int_equal(xpt_domain_destroy(c, domid), 0);
	all_clean(c, 0);
	xpt_ctx_close(c);
	free(cfg);
}

/* pci-assignable-remove without -r keeps the driver the device came from
 * (/libxl/pci/<bdf>/driver_path), as libxl does, so a later remove -r
 * can still give it back; the name goes.  Before, the whole directory
 * went, and the original driver was forgotten. */
static void test_remove_keeps_driver_path(void **state)
{
	struct xpt_ctx *c = fake_ctx();
	struct xpt_cfg *cfg = calloc(1, sizeof(*cfg));
	struct xpt_pci spec = spec_of(fake.dev[0].sbdf);
	char m[16], dir[64], path[96], *v;

	(void)state;
	fresh_host(c, cfg);
	xpt_marker_bdf(fake.dev[0].sbdf, m, sizeof(m));
	snprintf(dir, sizeof(dir), "/libxl/pci/%s", m);
	snprintf(path, sizeof(path), "%s/driver_path", dir);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path,
				      "/sys/bus/pci/drivers/igb"), 0);
	snprintf(path, sizeof(path), "%s/name", dir);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "nic"), 0);

	if (xpt_assignable_remove(c, &spec, false) < 0)
		fail_msg("%s", c->err);
	assert_false(fake.dev[0].bound);
	assert_false(xpt_xs_exists(c, XBT_NULL, path));
	snprintf(path, sizeof(path), "%s/driver_path", dir);
	v = xpt_xs_read(c, XBT_NULL, path);
	assert_non_null(v);
	assert_string_equal(v, "/sys/bus/pci/drivers/igb");
	free(v);

	/* nothing else left: the directory goes with the name */
	spec = spec_of(fake.dev[1].sbdf);
	xpt_marker_bdf(fake.dev[1].sbdf, m, sizeof(m));
	snprintf(path, sizeof(path), "/libxl/pci/%s/name", m);
	assert_int_equal(xpt_xs_write(c, XBT_NULL, path, "disk"), 0);
	assert_int_equal(xpt_assignable_remove(c, &spec, false), 0);
	snprintf(path, sizeof(path), "/libxl/pci/%s", m);
	assert_false(xpt_xs_exists(c, XBT_NULL, path));
	xpt_ctx_close(c);
	free(cfg);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	return fake_start_xenstored(xenstored);
}

static int teardown(void **state)
{
	(void)state;
	fake_stop_xenstored();
	munmap(shared, sizeof(*shared));
	return 0;
}

/* usage: XPT-XENSTORED [faults|kills]: the countdown and the small
 * cases, or the kill sweep (two meson tests, run side by side). */
int main(int argc, char **argv)
{
	const struct CMUnitTest faults[] = {
		cmocka_unit_test(test_every_call_fails),
		cmocka_unit_test(test_every_call_fails_pvh),
		cmocka_unit_test(test_destroy_paused_guest),
		cmocka_unit_test(test_destroy_released_domain),
		cmocka_unit_test(test_list_orphans),
		cmocka_unit_test(test_destroy_running_guest),
		cmocka_unit_test(test_rom_granted),
		cmocka_unit_test(test_remove_keeps_driver_path),
	};
	const struct CMUnitTest kills[] = {
		cmocka_unit_test(test_kill_sweep),
		cmocka_unit_test(test_kill_sweep_pvh),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XPT-XENSTORED [faults|kills]\n",
			argv[0]);
		return 2;
	}
	xenstored = argv[1];
	if (argc > 2 && !strcmp(argv[2], "kills"))
		return cmocka_run_group_tests_name("kills", kills, setup,
						   teardown);
	return cmocka_run_group_tests_name("faults", faults, setup, teardown);
}
