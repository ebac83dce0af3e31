// SPDX-License-Identifier: MIT
/*
 * The seeded race: per seed a fresh host with two guests, g1 without
 * devices and g2 with one; then, all at once as separate processes, first
 * attaches to g1, appends to g2 and a detach of g2's device beside them,
 * each process with delays at the named points (XPT_DELAY) drawn from the
 * seed.  Afterwards:
 *   - every operation that returned 0 took effect, every failed one left
 *     nothing;
 *   - the all-layers invariant (inv_check, harness.h), once every guest
 *     is quiet: backend entries consistent, each guest sees exactly its
 *     backend's devices, and the hypervisor's owner, the /libxl/pci
 *     marker and pciback's exporting domain agree with the backend for
 *     every device; nothing owned twice, nothing leaked.
 * Worked example of what it catches (libxl 4.17): both first attaches
 * read num_devs absent, both create the backend; the second rm's the
 * first's dev-0: num_devs=1, the lost device stays assigned and marked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack.h"

#define NPOOL 6
#define MAXOPS 6

static const char *const points[] = {
	"attach.before-txn", "attach.in-txn", "attach.before-wait",
	"detach.in-txn", "detach.before-compact", "coldplug.in-txn",
	"destroy.before-deassign",
};

struct rng { uint64_t s; };

static uint32_t rnd(struct rng *r, uint32_t n)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 2685821657736338717ull) >> 33) % n;
}

struct op {
	bool attach;
	const char *dom;	/* "g1" / "g2" */
	uint32_t dev;
	char delay[160];
	struct e2e_proc *p;
	int rc;
};

static void make_delay(struct rng *r, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		if (rnd(r, 2))
			off += (size_t)snprintf(buf + off, len - off, "%s%s=%u",
						off ? "," : "", points[i],
						rnd(r, 200));
}

/* ownership, markers, lost devices: need no quiet guest */
static bool check_devices(struct env *e, const unsigned int dom[2],
			  uint32_t *pool, unsigned int npool,
			  const struct op *ops, unsigned int nops,
			  uint32_t g2_initial)
{
	unsigned int k, i, m;

	for (i = 0; i < npool; i++) {
		int in0 = be_find(e, dom[0], pool[i]) >= 0,
		    in1 = be_find(e, dom[1], pool[i]) >= 0;
		bool want_in = pool[i] == g2_initial;
		unsigned int want_dom = dom[1];
		uint32_t own = owner(e, pool[i]);
		bool mk = marker(e, pool[i], &m);

		for (k = 0; k < nops; k++) {
			if (ops[k].dev != pool[i] || ops[k].rc != 0)
				continue;
			want_in = ops[k].attach;
			want_dom = !strcmp(ops[k].dom, "g1") ? dom[0] : dom[1];
		}
		CHECK(e, !(in0 && in1), "%s in two domains' backends",
		      bdf(pool[i]));
		if (want_in)
			CHECK(e, (want_dom == dom[0] ? in0 : in1),
			      "%s lost: its operation returned 0, it is not in "
			      "dom%u's backend (owner %#x, marker %s)",
			      bdf(pool[i]), want_dom, own, mk ? "set" : "none");
		else
			CHECK(e, !in0 && !in1, "%s in a backend though its "
			      "detach returned 0 / its attach failed",
			      bdf(pool[i]));
		if (in0 || in1) {
			unsigned int d = in0 ? dom[0] : dom[1];

			CHECK(e, own == d, "%s in dom%u's backend, owned by "
			      "%#x", bdf(pool[i]), d, own);
			CHECK(e, mk && m == d, "%s in dom%u's backend, marker "
			      "%s", bdf(pool[i]), d, mk ? "elsewhere" : "missing");
		} else {
			CHECK(e, own == HV_DOMID_IO, "%s leaked: in no "
			      "backend, still assigned to dom%u", bdf(pool[i]),
			      own);
			CHECK(e, !mk, "%s leaked: in no backend, stale marker "
			      "for dom%u", bdf(pool[i]), m);
		}
	}
	return true;
}

/* the invariants; false (e->run.why says which) on a violation: what each
 * operation's exit status promises, then every layer agrees */
static bool check(struct env *e, const unsigned int dom[2], uint32_t *pool,
		  unsigned int npool, const struct op *ops, unsigned int nops,
		  uint32_t g2_initial)
{
	return inv_check(e, "after the race") &&
	       check_devices(e, dom, pool, npool, ops, nops, g2_initial);
}

/* one seed; returns false on a harness failure, *violation on a broken
 * invariant */
static bool race_seed(const struct ts *ts, unsigned int seed, bool *violation,
		      char *why, size_t len)
{
	uint32_t pool[NPOOL] = { DEV_K(0), DEV_K(1), DEV_K(2), DEV_K(3),
				 DEV_K(4), DEV_K(5) };
	struct rng r = { 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 17 | seed) };
	struct op ops[MAXOPS];
	unsigned int dom[2], nops = 0, i, n1, n2;
	uint32_t g2_initial = pool[0];
	char spec[64];
	struct env e;
	bool ok = false;

	*violation = false;
	rnd(&r, 2);
	if (!env_start(&e, ts, getenv("XPT_TS_HISTORIC") != NULL))
		goto out;
	e.peer_wait_ms = 1500;
	for (i = 0; i < NPOOL; i++)
		if (!assignable(&e, pool[i]))
			goto out;
	snprintf(spec, sizeof(spec), "'%s'", bdf(g2_initial));
	if (!create(&e, "g1", "", &dom[0]) || !create(&e, "g2", spec, &dom[1]) ||
	    !wait_guest_devs(&e, dom[1], 1, 5000))
		goto out;
	/* g1: 2-3 first attaches; g2: 1-2 appends and the detach */
	n1 = 2 + rnd(&r, 2);
	n2 = 1 + rnd(&r, 2);
	for (i = 0; i < n1; i++)
		ops[nops++] = (struct op){ true, "g1", pool[1 + i], "", NULL, 0 };
	for (i = 0; i < n2 && 1 + n1 + i < NPOOL; i++)
		ops[nops++] = (struct op){ true, "g2", pool[1 + n1 + i], "",
					   NULL, 0 };
	ops[nops++] = (struct op){ false, "g2", g2_initial, "", NULL, 0 };
	for (i = 0; i < nops; i++)
		make_delay(&r, ops[i].delay, sizeof(ops[i].delay));
	for (i = 0; i < nops; i++) {
		char b[16];

		snprintf(b, sizeof(b), "%s", bdf(ops[i].dev));
		ops[i].p = ts_spawn(&e, ops[i].delay, (const char *const[]){
			ops[i].attach ? "pci-attach" : "pci-detach", ops[i].dom,
			b, NULL });
	}
	for (i = 0; i < nops; i++)
		ops[i].rc = ts_wait(&e, ops[i].p, 30000, false);
	for (i = 0; i < nops; i++)
		if (ops[i].rc < 0) {
			fail(&e, "%s %s %s: %s", ops[i].attach ? "pci-attach" :
			     "pci-detach", ops[i].dom, bdf(ops[i].dev),
			     ops[i].rc == -1 ? "hung" : "crashed");
			*violation = true;
			ok = true;
			goto out;
		}
	ok = true;
	*violation = !check(&e, dom, pool, NPOOL, ops, nops, g2_initial);
out:
	snprintf(why, len, "%s", e.run.why);
	env_stop(&e, false);
	return ok;
}

/*
 * The mixed race: the operations the classic one never mixes.  Per seed,
 * g1 without devices and g2 with P0 and P1; then at once, each with
 * seeded delays:
 *   - pci-attach g1 P2;
 *   - pci-attach g2 P0: a re-attach of an attached device (must fail or
 *     converge, never take P0 from g2);
 *   - create g3 with P3, and (odd seeds) pci-attach g1 P3 beside it: one
 *     device targeted by two operations;
 *   - pci-assignable-remove P4 beside pci-attach g1 P4 (the peer has no
 *     pci-assignable-remove: it runs only the attach);
 *   - pci-detach g2 P1, or destroy g2 (seed bit), and sometimes both;
 *   - (seed bit) pci-attach g2 P5, which may meet the destroy.
 * Afterwards each exit status must hold (an attach that returned 0 took
 * effect unless its domain was destroyed, at most one of two operations
 * on one device won, a successful remove left the device to dom0, a
 * successful destroy left nothing) and inv_check must pass.
 */
enum mkind { M_ATTACH, M_DETACH, M_CREATE, M_DESTROY, M_REMOVE };

struct mop {
	enum mkind kind;
	const char *dom;
	uint32_t dev;
	char delay[160];
	struct e2e_proc *p;
	int rc;
	bool skipped;
};

static const char *const mkind_name[] = {
	"pci-attach", "pci-detach", "create", "destroy", "pci-assignable-remove",
};

static const char *mop_str(const struct mop *m)
{
	static char buf[4][80];
	static unsigned int k;
	char *b = buf[k = (k + 1) % 4];

	snprintf(b, 80, "%s%s%s%s%s (rc %d)", mkind_name[m->kind],
		 m->dom ? " " : "", m->dom ? m->dom : "",
		 m->kind == M_DESTROY ? "" : " ",
		 m->kind == M_DESTROY ? "" : bdf(m->dev), m->rc);
	return b;
}

static bool dom_named(struct env *e, const char *name, unsigned int *domid)
{
	char save[sizeof(e->run.why)];
	bool r;

	memcpy(save, e->run.why, sizeof(save));
	r = dom_by_name(e, name, domid);
	memcpy(e->run.why, save, sizeof(save));
	return r;
}

static bool mixed_check(struct env *e, const struct mop *m, unsigned int n)
{
	unsigned int i, j, domid;
	bool g2_gone = false;

	for (i = 0; i < n; i++)
		if (m[i].kind == M_DESTROY && m[i].rc == 0)
			g2_gone = true;
	if (!inv_check(e, "after the mixed race"))
		return false;
	for (i = 0; i < n; i++) {
		const struct mop *o = &m[i];
		bool in;

		if (o->skipped)
			continue;
		switch (o->kind) {
		case M_ATTACH:
			if (!strcmp(o->dom, "g2") && g2_gone)
				break;
			in = dom_named(e, o->dom, &domid) &&
			     be_find(e, domid, o->dev) >= 0;
			/* the re-attach of g2's P0: P0 stays g2's */
			if (o->dev == DEV_K(0))
				CHECK(e, in, "%s: %s is no longer g2's",
				      mop_str(o), bdf(o->dev));
			else if (o->rc == 0) {
				bool detached = false;

				for (j = 0; j < n; j++)
					detached |= m[j].kind == M_DETACH &&
						    m[j].rc == 0 &&
						    m[j].dev == o->dev;
				CHECK(e, in || detached, "%s returned 0, %s is "
				      "not in %s's backend", mop_str(o),
				      bdf(o->dev), o->dom);
			} else
				CHECK(e, !in, "%s failed, yet %s is in %s's "
				      "backend", mop_str(o), bdf(o->dev), o->dom);
			break;
		case M_CREATE:
			if (o->rc == 0)
				CHECK(e, dom_named(e, o->dom, &domid) &&
				      be_find(e, domid, o->dev) >= 0, "%s "
				      "returned 0: no %s with %s", mop_str(o),
				      o->dom, bdf(o->dev));
			else
				CHECK(e, !dom_named(e, o->dom, &domid), "%s "
				      "failed, yet a domain %s exists",
				      mop_str(o), o->dom);
			break;
		case M_DESTROY:
			if (o->rc == 0)
				CHECK(e, !dom_named(e, o->dom, &domid),
				      "%s returned 0, %s still exists",
				      mop_str(o), o->dom);
			break;
		case M_DETACH:
			if (o->rc == 0 && !g2_gone)
				CHECK(e, !dom_named(e, o->dom, &domid) ||
				      be_find(e, domid, o->dev) < 0, "%s "
				      "returned 0, %s is still in %s's backend",
				      mop_str(o), bdf(o->dev), o->dom);
			break;
		case M_REMOVE:
			if (o->rc == 0) {
				struct layers l;

				layers_get(e, o->dev, &l);
				CHECK(e, !l.nbe && l.owner == 0 && l.pb == -2,
				      "%s returned 0, yet %s", mop_str(o),
				      layers_str(&l));
			}
			break;
		}
		/* two operations taking one device: one wins */
		for (j = i + 1; j < n; j++)
			CHECK(e, !(o->rc == 0 && m[j].rc == 0 && !m[j].skipped &&
				   o->dev == m[j].dev &&
				   (o->kind == M_CREATE || o->kind == M_ATTACH ||
				    o->kind == M_REMOVE) &&
				   (m[j].kind == M_CREATE ||
				    m[j].kind == M_ATTACH ||
				    m[j].kind == M_REMOVE) &&
				   o->dev != DEV_K(0)), "%s and %s both "
			      "succeeded", mop_str(o), mop_str(&m[j]));
	}
	return true;
}

static bool mixed_seed(const struct ts *ts, unsigned int seed,
		       bool *violation, char *why, size_t len)
{
	uint32_t pool[NPOOL] = { DEV_K(0), DEV_K(1), DEV_K(2), DEV_K(3),
				 DEV_K(4), DEV_K(5) };
	struct rng r = { 0x51ed270b9e3779b9ull ^ ((uint64_t)seed << 21 | seed) };
	struct mop m[10];
	unsigned int dom[2], n = 0, i, bits;
	char spec[64], cfg3[256];
	struct env e;
	bool ok = false;

	*violation = false;
	rnd(&r, 2);
	if (!env_start(&e, ts, getenv("XPT_TS_HISTORIC") != NULL))
		goto out;
	e.peer_wait_ms = 1500;
	for (i = 0; i < NPOOL; i++)
		if (!assignable(&e, pool[i]))
			goto out;
	snprintf(spec, sizeof(spec), "'%s', '%s'", bdf(pool[0]), bdf(pool[1]));
	if (!create(&e, "g1", "", &dom[0]) || !create(&e, "g2", spec, &dom[1]) ||
	    !wait_guest_devs(&e, dom[1], 2, 5000))
		goto out;
	snprintf(spec, sizeof(spec), "'%s'", bdf(pool[3]));
	snprintf(cfg3, sizeof(cfg3), "%s", cfg_file(&e, "g3", spec));
	bits = rnd(&r, 16);
	m[n++] = (struct mop){ .kind = M_ATTACH, .dom = "g1",
			       .dev = pool[2] };
	m[n++] = (struct mop){ .kind = M_ATTACH, .dom = "g2",
			       .dev = pool[0] };
	m[n++] = (struct mop){ .kind = M_CREATE, .dom = "g3",
			       .dev = pool[3] };
	if (seed & 1)
		m[n++] = (struct mop){ .kind = M_ATTACH, .dom = "g1",
				       .dev = pool[3] };
	m[n++] = (struct mop){ .kind = M_REMOVE, .dev = pool[4],
			       .skipped = ts->peer };
	m[n++] = (struct mop){ .kind = M_ATTACH, .dom = "g1",
			       .dev = pool[4] };
	if (bits & 1 || !(bits & 2))
		m[n++] = (struct mop){ .kind = M_DETACH, .dom = "g2",
				       .dev = pool[1] };
	if (bits & 2)
		m[n++] = (struct mop){ .kind = M_DESTROY, .dom = "g2",
				       .dev = 0 };
	if (bits & 4)
		m[n++] = (struct mop){ .kind = M_ATTACH, .dom = "g2",
				       .dev = pool[5] };
	for (i = 0; i < n; i++)
		make_delay(&r, m[i].delay, sizeof(m[i].delay));
	for (i = 0; i < n; i++) {
		char b[16];

		if (m[i].skipped)
			continue;
		snprintf(b, sizeof(b), "%s", bdf(m[i].dev));
		switch (m[i].kind) {
		case M_CREATE:
			m[i].p = ts_spawn(&e, m[i].delay, (const char *const[]){
				"create", cfg3, NULL });
			break;
		case M_DESTROY:
			m[i].p = ts_spawn(&e, m[i].delay, (const char *const[]){
				"destroy", m[i].dom, NULL });
			break;
		case M_REMOVE:
			m[i].p = ts_spawn(&e, m[i].delay, (const char *const[]){
				"pci-assignable-remove", b, NULL });
			break;
		default:
			m[i].p = ts_spawn(&e, m[i].delay, (const char *const[]){
				mkind_name[m[i].kind], m[i].dom, b, NULL });
		}
	}
	for (i = 0; i < n; i++)
		m[i].rc = m[i].skipped ? 1 : ts_wait(&e, m[i].p, 40000, false);
	ok = true;
	for (i = 0; i < n; i++)
		if (m[i].rc < 0) {
			fail(&e, "%s: %s", mop_str(&m[i]), m[i].rc == -1 ?
			     "hung" : "crashed");
			*violation = true;
			goto out;
		}
	*violation = !mixed_check(&e, m, n);
out:
	snprintf(why, len, "%s", e.run.why);
	env_stop(&e, false);
	return ok;
}

bool race_run(const struct ts *ts, bool mixed, unsigned int first_seed,
	      int budget_ms, unsigned int *ret_seeds,
	      unsigned int *ret_violations, char *first_violation, size_t len)
{
	int64_t end = e2e_now_ms() + budget_ms;
	const char *fixed = getenv("XPT_TS_SEEDS");
	unsigned int seeds = 0, viol = 0, seed = first_seed,
		     max = fixed ? (unsigned int)strtoul(fixed, NULL, 10) : 1000;
	bool ok = true;

	first_violation[0] = '\0';
	while (seeds < max && (fixed || e2e_now_ms() < end)) {
		char why[768];
		bool v;

		if (!(mixed ? mixed_seed : race_seed)(ts, seed, &v, why,
						      sizeof(why))) {
			snprintf(first_violation, len, "seed %u: harness: %s",
				 seed, why);
			ok = false;
			break;
		}
		if (v) {
			if (!viol)
				snprintf(first_violation, len, "seed %u: %s",
					 seed, why);
			viol++;
			if (getenv("XPT_TS_VERBOSE"))
				fprintf(stderr, "seed %u: %s\n", seed, why);
		}
		seeds++;
		seed++;
	}
	*ret_seeds = seeds;
	*ret_violations = viol;
	return ok;
}
