// SPDX-License-Identifier: MIT
/*
 * The seeded race: per seed a fresh host with two guests, g1 without
 * devices and g2 with one; then, all at once as separate processes, first
 * attaches to g1, appends to g2 and a detach of g2's device beside them,
 * each process with delays at the named points (XPT_DELAY) drawn from the
 * seed.  Afterwards, once every guest is quiet:
 *   - backend consistency: num_devs = the dev-N keys 0..num_devs-1, no
 *     key beyond, no device twice;
 *   - every guest sees exactly its backend's devices;
 *   - every operation that returned 0 took effect, every failed one left
 *     nothing; no device in two domains; the hypervisor owner, the
 *     /libxl/pci marker and the backend agree for every device (nothing
 *     leaked: a device in no backend is quarantined without marker).
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
	struct proc *p;
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

struct quiet { unsigned int domid; };

static bool is_quiet(struct env *e, void *arg)
{
	struct quiet *q = arg;
	struct qstatus s;
	char save[sizeof(e->why)];
	int num;
	bool ok;

	memcpy(save, e->why, sizeof(save));
	num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs", q->domid);
	if (!xs_exists(e, "/local/domain/0/backend/pci/%u/0", q->domid))
		ok = guest_status(e, q->domid, &s) && s.n == 0;
	else
		ok = be_state(e, q->domid) == 4 && fe_state(e, q->domid) == 4 &&
		     guest_status(e, q->domid, &s) && s.fe == 4 &&
		     (int)s.n == num;
	memcpy(e->why, save, sizeof(save));
	return ok;
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

/* the invariants; false (e->why says which) on a violation */
static bool check(struct env *e, const unsigned int dom[2], uint32_t *pool,
		  unsigned int npool, const struct op *ops, unsigned int nops,
		  uint32_t g2_initial)
{
	unsigned int k, i;
	int j;

	bool quiet[2];

	for (k = 0; k < 2; k++) {
		struct quiet q = { dom[k] };

		quiet[k] = wait_until(e, is_quiet, &q, 2500, NULL);
	}
	if (!check_devices(e, dom, pool, npool, ops, nops, g2_initial))
		return false;
	for (k = 0; k < 2; k++) {
		struct qstatus s;
		int num = xs_int(e, "/local/domain/0/backend/pci/%u/0/num_devs",
				 dom[k]);

		CHECK(e, quiet[k], "dom%u never settles: backend %d, frontend "
		      "%d, num_devs %d", dom[k], be_state(e, dom[k]),
		      fe_state(e, dom[k]), num);
		if (num < 0)
			num = 0;
		for (j = 0; j < num; j++) {
			char *v = xs_get(e, "/local/domain/0/backend/pci/%u/0/"
					 "dev-%d", dom[k], j);
			uint32_t sb;

			if (!v || hv_parse_bdf(v, &sb) < 0) {
				free(v);
				return fail(e, "dom%u: dev-%d %s under "
					    "num_devs=%d", dom[k], j,
					    v ? "garbage" : "missing", num);
			}
			free(v);
		}
		for (j = num; j < num + 8; j++)
			CHECK(e, !xs_exists(e, "/local/domain/0/backend/pci/%u/"
					    "0/dev-%d", dom[k], j),
			      "dom%u: dev-%d beyond num_devs=%d", dom[k], j,
			      num);
		CHECK(e, guest_status(e, dom[k], &s), "dom%u's guest", dom[k]);
		CHECK(e, (int)s.n == num, "dom%u: the guest sees %u devices, "
		      "num_devs=%d", dom[k], s.n, num);
		for (i = 0; i < npool; i++) {
			bool in_be = be_find(e, dom[k], pool[i]) >= 0;

			CHECK(e, in_be == qhas(&s, pool[i]), "dom%u: %s %s the "
			      "backend but %s by the guest", dom[k],
			      bdf(pool[i]), in_be ? "in" : "not in",
			      in_be ? "not seen" : "seen");
		}
	}
	return true;
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
	if (!env_start(&e, ts, false))
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
	snprintf(why, len, "%s", e.why);
	env_stop(&e, false);
	return ok;
}

bool race_run(const struct ts *ts, unsigned int first_seed, int budget_ms,
	      unsigned int *ret_seeds, unsigned int *ret_violations,
	      char *first_violation, size_t len)
{
	int64_t end = now_ms() + budget_ms;
	const char *fixed = getenv("XPT_TS_SEEDS");
	unsigned int seeds = 0, viol = 0, seed = first_seed,
		     max = fixed ? (unsigned int)strtoul(fixed, NULL, 10) : 1000;
	bool ok = true;

	first_violation[0] = '\0';
	while (seeds < max && (fixed || now_ms() < end)) {
		char why[768];
		bool v;

		if (!race_seed(ts, seed, &v, why, sizeof(why))) {
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
