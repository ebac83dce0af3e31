// SPDX-License-Identifier: MIT
/*
 * vPCI races (docs/protocol.md section 14.3): seeded, deterministic
 * schedules of a PVH guest's vCPU threads against the toolstack, and a
 * stress run.  The model's schedule hook (hyp_vpci_set_hook) stops a
 * thread at a named point (a write deferred a map, a slice of it is done,
 * a read holds the lock, the toolstack is about to lock, destroy waits
 * for the vCPUs) until the test lets it go, so every interleaving below
 * happens the same way on every run; the seed picks the slice size, the
 * slice at which the vCPU is stopped, which vCPU and which value.
 *
 * Cases (A-Rn: the race catalogue the docs name): R1 teardown between
 * defer_map and the vCPU's return; R2 deassign during a preempted map,
 * the device then given to another PVH domain; R3 physical removal with
 * a pending op; R4 reset (deassign + assign) under a pending op; R5 two
 * vCPUs toggle one device; R6 iomem permission revoked mid-map (the domU
 * is crashed); R7 BAR write during a pending unmap; R8 two
 * devices sharing a page unmapped from two vCPUs at once; R10 a config
 * read racing deassign; R11 domain destruction with a pending op; R12
 * a device leaves the domain while another's map relies on their shared
 * page.
 * Every one passes in the fixed profile with the invariants intact.  The
 * historic profile (Xen before 4.19) shows what each did there; R3 is the
 * use-after-free of the 2021 xen-devel thread: run in a child, reported
 * by ASan as heap-use-after-free, and by the quarantine of freed objects
 * in other builds.
 *
 * XPT_VPCI_SEEDS=N (schedules, default 8), XPT_VPCI_STRESS_MS (default
 * 2500) and XPT_VPCI_SEED (first seed, default 1) change the run.  A
 * broken invariant in the stress names its seed and prints the seed's last
 * events; XPT_VPCI_STRESS_CHECK=1 checks after every step, not only when
 * the vCPUs are quiet.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv-harness.h"
#include "vpci.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

static const char vhost[] =
	"03:00.0 8086:1572 class=020000 bar0=1M,mem64,prefetch "
	"bar2=16K,mem64 msix=8 msix-bar=2 intx=a reset=flr\n"
	"04:00.0 1234:0a0a class=ff0000 bar0=256,at=0xe0000000 reset=flr\n"
	"05:00.0 1234:0b0b class=ff0000 bar0=256,at=0xe0000100 reset=flr\n"
	"06:00.0 1234:0c0c class=ff0000 bar0=64K,at=0xe1000000 bar1=64,io "
	"reset=flr\n";
#define NIC HV_SBDF(0, 3, 0, 0)
#define DEV_A HV_SBDF(0, 4, 0, 0)
#define DEV_B HV_SBDF(0, 5, 0, 0)
#define DEV_C HV_SBDF(0, 6, 0, 0)
#define G0 HV_SBDF(0, 0, 0, 0)
#define G1 HV_SBDF(0, 0, 1, 0)
#define NIC_ID 0x15728086u
#define WAIT_MS 10000

static unsigned int nseeds = 8, first_seed = 1, stress_ms = 2500;

/* The schedule --------------------------------------------------------- */

/* A gate stops the thread that reaches (pt, domid, vcpu) for the nth
 * time, until released; a notice only records that it was reached. */
struct gate {
	bool armed, notice;
	enum hyp_vpci_point pt;
	uint32_t domid, vcpu;
	unsigned int nth;
	bool reached, released;
};

static struct sched {
	pthread_mutex_t m;
	pthread_cond_t c;
	struct gate g[4];
} S = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0 } } };

static void hook(void *arg, enum hyp_vpci_point pt, uint32_t domid,
		 uint32_t vcpu, uint32_t sbdf)
{
	unsigned int i;

	pthread_mutex_lock(&S.m);
	for (i = 0; i < 4; i++) {
		struct gate *g = &S.g[i];

		if (!g->armed || g->reached || g->pt != pt ||
		    g->domid != domid ||
		    (pt != HYP_VP_TOOLSTACK && g->vcpu != vcpu))
			continue;
		if (--g->nth)
			continue;
		g->reached = true;
		pthread_cond_broadcast(&S.c);
		while (!g->notice && !g->released)
			pthread_cond_wait(&S.c, &S.m);
	}
	pthread_mutex_unlock(&S.m);
}

static struct gate *arm(enum hyp_vpci_point pt, uint32_t domid,
			uint32_t vcpu, unsigned int nth, bool notice)
{
	unsigned int i;

	pthread_mutex_lock(&S.m);
	for (i = 0; i < 4 && S.g[i].armed; i++)
		;
	assert_true(i < 4);
	S.g[i] = (struct gate){ .armed = true, .notice = notice, .pt = pt,
				.domid = domid, .vcpu = vcpu, .nth = nth };
	pthread_mutex_unlock(&S.m);
	return &S.g[i];
}

static void reached(struct gate *g)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&S.m);
	while (!g->reached)
		if (pthread_cond_timedwait(&S.c, &S.m, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&S.m);
			fail_msg("schedule: point %d of domain %u vCPU %u never "
				 "reached", g->pt, g->domid, g->vcpu);
		}
	pthread_mutex_unlock(&S.m);
}

static void release(struct gate *g)
{
	pthread_mutex_lock(&S.m);
	g->released = true;
	pthread_cond_broadcast(&S.c);
	pthread_mutex_unlock(&S.m);
}

static void sched_reset(void)
{
	pthread_mutex_lock(&S.m);
	memset(S.g, 0, sizeof(S.g));
	pthread_mutex_unlock(&S.m);
}

/* A toolstack operation on a thread of its own (it may block on a lock a
 * stopped vCPU holds). */
struct bg {
	pthread_t t;
	struct hyp *h;
	int (*fn)(struct hyp *h, uint32_t a, uint32_t b);
	uint32_t a, b;
	int ret;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;

	b->ret = b->fn(b->h, b->a, b->b);
	return NULL;
}

static void bg_start(struct bg *b, struct hyp *h,
		     int (*fn)(struct hyp *, uint32_t, uint32_t), uint32_t a,
		     uint32_t x)
{
	*b = (struct bg){ .h = h, .fn = fn, .a = a, .b = x };
	assert_int_equal(pthread_create(&b->t, NULL, bg_main, b), 0);
}

static int bg_join(struct bg *b)
{
	assert_int_equal(pthread_join(b->t, NULL), 0);
	return b->ret;
}

static int do_deassign(struct hyp *h, uint32_t d, uint32_t sbdf)
{
	return hyp_deassign(h, d, sbdf);
}

static int do_destroy(struct hyp *h, uint32_t d, uint32_t unused)
{
	return hyp_domain_destroy(h, d);
}

/* The model ----------------------------------------------------------------- */

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static struct hyp *model(enum hyp_vpci_profile prof, unsigned int slice)
{
	struct hyp *h = hvh_model(vhost);

	assert_int_equal(hyp_vpci_set_profile(h, prof), 0);
	hyp_vpci_set_slice(h, slice);
	hyp_vpci_set_hook(h, hook, NULL);
	sched_reset();
	return h;
}

static uint32_t pvh(struct hyp *h, uint32_t vcpus)
{
	uint32_t d;

	assert_int_equal(hyp_domain_create(h, HV_DOMF_PVH |
					   HV_DOMF_PASSTHROUGH, "pvh", 0,
					   vcpus, &d), 0);
	return d;
}

static void give(struct hyp *h, uint32_t d, uint32_t sbdf)
{
	assert_int_equal(hyp_assign(h, d, sbdf), 0);
	hvh_grant_bars(h, d, sbdf);
}

/* Post a config write to vCPU v; hyp_vcpu_wait answers it. */
static void post_write(struct hyp *h, uint32_t d, uint32_t v, uint32_t g,
		       uint32_t reg, uint32_t size, uint32_t val)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_CONF_WRITE, .vcpu = v,
			       .sbdf = g, .reg = reg, .size = size,
			       .value = val };

	assert_int_equal(hyp_vcpu_post(h, d, &io, 0, 0), 0);
}

static void post_read(struct hyp *h, uint32_t d, uint32_t v, uint32_t g,
		      uint32_t reg, uint32_t size)
{
	struct hyp_vreq io = { .op = HV_OP_VPCI_CONF_READ, .vcpu = v,
			       .sbdf = g, .reg = reg, .size = size };

	assert_int_equal(hyp_vcpu_post(h, d, &io, 0, 0), 0);
}

static struct hyp_vreq answer(struct hyp *h, uint32_t d, uint32_t v)
{
	struct hyp_vreq io;

	assert_int_equal(hyp_vcpu_wait(h, d, v, &io), 0);
	return io;
}

static uint64_t mmio(struct hyp *h, uint32_t d, uint64_t gaddr)
{
	uint64_t v = 0;

	assert_int_equal(hyp_vpci_mmio_read(h, d, 0, gaddr, 4, &v), 0);
	return v;
}

static bool p2m_has(struct hyp *h, uint32_t d, uint64_t gaddr)
{
	uint64_t mfn;

	return hyp_p2m_lookup(&hyp_domain_get(h, d)->p2m, gaddr >> 12, &mfn);
}

static struct hyp_vpci_stats stats(struct hyp *h)
{
	struct hyp_vpci_stats st;

	hyp_vpci_get_stats(h, &st);
	return st;
}

static struct hv_vpci_info info(struct hyp *h, uint32_t d, uint32_t sbdf)
{
	struct hv_vpci_info i;

	assert_int_equal(hyp_vpci_info(h, d, sbdf, &i), 0);
	return i;
}

static uint16_t hw_cmd(struct hyp *h, uint32_t sbdf)
{
	uint32_t v;

	assert_int_equal(hyp_pci_conf_read(h, sbdf, PCI_CMD, 2, &v), 0);
	return (uint16_t)v;
}

/* A schedule's parameters from its seed. */
struct run {
	uint32_t seed;
	unsigned int slice;	/* pages per slice: 4 .. 35 */
	unsigned int nth;	/* the slice the vCPU is stopped after: 1..4 */
	uint32_t vcpu;		/* 0..3 */
};

static struct run run_of(uint32_t seed)
{
	uint32_t s = seed * 2654435761u + 1;
	struct run r = { .seed = seed };

	r.slice = 4 + rnd(&s) % 32;
	r.nth = 1 + rnd(&s) % 4;
	r.vcpu = rnd(&s) % 4;
	return r;
}

/* NIC BAR0 (256 pages) alone decides how many slices a map takes;
 * BAR2's two mappable pages come after it. */

/* R1: the device's vPCI is torn down between the write that deferred a
 * map and the vCPU's return to the guest. */
static void r1(enum hyp_vpci_profile prof, uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(prof, R.slice);
	uint32_t d = pvh(h, 4);
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	struct gate *g;
	struct hyp_vpci_stats st;

	give(h, d, NIC);
	g = arm(HYP_VP_DEFERRED, d, R.vcpu, 1, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_int_equal(hyp_deassign(h, d, NIC), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	st = stats(h);
	assert_false(p2m_has(h, d, bar0));
	if (prof == HYP_VPCI_FIXED) {
		assert_int_equal(st.ops_dropped, 1);
		assert_int_equal(st.null_vpci, 0);
		hvh_vpci_invariants(h);
	} else {
		/* Xen 4.17: spin_lock(&pdev->vpci->lock) with vpci NULL */
		assert_int_equal(st.null_vpci, 1);
	}
	hyp_free(h);
}

/* R2: deassign during a preempted map; the device goes to another PVH
 * domain, whose new vpci the stale op must not touch. */
static void r2(enum hyp_vpci_profile prof, uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(prof, R.slice);
	uint32_t d = pvh(h, 4), e = pvh(h, 2);
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	struct hv_vpci_info i;
	struct gate *g;

	give(h, d, NIC);
	hvh_grant_bars(h, e, NIC);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_true(p2m_has(h, d, bar0));	/* the first slices ran */
	assert_int_equal(hyp_deassign(h, d, NIC), 0);
	assert_int_equal(hyp_assign(h, e, NIC), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	i = info(h, e, NIC);
	if (prof == HYP_VPCI_FIXED) {
		assert_int_equal(stats(h).ops_dropped, 1);
		assert_int_equal(i.bars_mapped, 0);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, 0);
		assert_false(p2m_has(h, e, bar0));
		/* nothing of the device stays in the old owner's p2m */
		assert_false(p2m_has(h, d, bar0));
		hvh_vpci_invariants(h);
	} else {
		/* the stale op completed on the new owner's vpci: decoding on
		 * in hardware and in e's vpci, with e's p2m empty */
		assert_int_equal(i.bars_mapped, 1);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, PCI_CMD_MEM);
		assert_false(p2m_has(h, e, bar0));
		assert_true(p2m_has(h, d, bar0));	/* left behind */
	}
	hyp_free(h);
}

/* R3: physical removal while a vCPU has an op pending on the device. */
static void r3(enum hyp_vpci_profile prof, uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(prof, R.slice);
	uint32_t d = pvh(h, 4);
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	struct hyp_vpci_stats st;
	struct gate *g;

	give(h, d, NIC);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_int_equal(hyp_pci_device_remove(h, NIC), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	st = stats(h);
	if (prof == HYP_VPCI_HISTORIC) {
		/* not reached under ASan: the vCPU's read of the freed pdev
		 * is the report */
		fprintf(stderr, "historic: freed objects touched: %llu\n",
			(unsigned long long)st.freed_touched);
		hyp_free(h);
		_exit(st.freed_touched ? 0 : 1);
	}
	assert_int_equal(st.freed_touched, 0);
	assert_true(st.ops_cancelled >= 1);
	assert_false(p2m_has(h, d, bar0));
	assert_int_equal(st.live_vpci, 0);
	hvh_vpci_invariants(h);
	/* back after a rescan, and usable */
	assert_int_equal(hyp_pci_device_add(h, NIC), 0);
	give(h, d, NIC);
	assert_int_equal(hyp_vpci_conf_write(h, d, 0, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_int_equal(mmio(h, d, bar0), NIC_ID);
	hvh_vpci_invariants(h);
	hyp_free(h);
}

/* R4: reset (deassign + assign) while a map or unmap is pending. */
static void r4(enum hyp_vpci_profile prof, uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(prof, R.slice);
	uint32_t d = pvh(h, 4);
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	bool unmap = seed % 2 && prof == HYP_VPCI_FIXED;
	struct hv_vpci_info i;
	struct gate *g;

	give(h, d, NIC);
	if (unmap)
		assert_int_equal(hyp_vpci_conf_write(h, d, 0, G0, PCI_CMD, 2,
						     PCI_CMD_MEM), 0);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, unmap ? 0 : PCI_CMD_MEM);
	reached(g);
	assert_int_equal(hyp_pci_reset(h, NIC), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	i = info(h, d, NIC);
	if (prof == HYP_VPCI_FIXED) {
		assert_int_equal(stats(h).ops_dropped, 1);
		assert_int_equal(i.bars_mapped, 0);
		assert_int_equal(i.guest_cmd, 0);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, 0);
		assert_false(p2m_has(h, d, bar0));
		hvh_vpci_invariants(h);
	} else {
		/* ABA: the stale map completed on the fresh vpci */
		assert_int_equal(i.bars_mapped, 1);
		assert_int_equal(i.guest_cmd, 0);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, PCI_CMD_MEM);
	}
	hyp_free(h);
}

/* R5: vCPU a maps (stopped mid-way), vCPU b writes MEMORY again: off
 * (odd seeds) or on.  The last write must decide. */
static void r5(enum hyp_vpci_profile prof, uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(prof, R.slice);
	uint32_t d = pvh(h, 4), a = R.vcpu, b = (R.vcpu + 1) % 4;
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	uint16_t last = seed % 2 || prof == HYP_VPCI_HISTORIC ? 0 : PCI_CMD_MEM;
	struct gate *g;

	give(h, d, NIC);
	g = arm(HYP_VP_SLICE, d, a, R.nth, false);
	post_write(h, d, a, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_int_equal(hyp_vpci_conf_write(h, d, b, G0, PCI_CMD, 2, last),
			 0);
	release(g);
	assert_int_equal(answer(h, d, a).ret, 0);
	if (prof == HYP_VPCI_FIXED) {
		assert_int_equal(stats(h).ops_drained, 1);
		assert_int_equal(info(h, d, NIC).bars_mapped, !!last);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, last);
		assert_int_equal(mmio(h, d, bar0), last ? NIC_ID : 0xffffffffu);
		hvh_vpci_invariants(h);
	} else {
		/* the raw write of MEMORY=0 first, then a's completion turns
		 * decoding on: the hardware contradicts the last write */
		assert_int_equal(info(h, d, NIC).guest_cmd, 0);
		assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, PCI_CMD_MEM);
	}
	hyp_free(h);
}

/* R6: the iomem permission is revoked while a map is half done (libxl's
 * pci remove): the next slice fails, decoding goes off, the sets are
 * purged and the domU is crashed. */
static void r6(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4);
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	struct hv_domain_info di;
	struct hv_vpci_info i;
	struct gate *g;

	give(h, d, NIC);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, bar0 >> 12, 256,
				      false), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	assert_int_equal(hyp_domain_getinfo(h, d, &di), 0);
	assert_int_equal(di.state, HV_DOM_SHUTDOWN);
	assert_int_equal(di.shutdown_reason, HV_SHUTDOWN_CRASH);
	i = info(h, d, NIC);
	assert_int_equal(i.bars_mapped, 0);
	assert_int_equal(i.pending, 0);
	assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, 0);
	assert_int_equal(stats(h).crashes, 1);
	assert_int_equal(hyp_domain_destroy(h, d), 0);
	hvh_vpci_invariants(h);
	hyp_free(h);
}

/* R7: a BAR write while the unmap that clears MEMORY is in flight is
 * dropped (the BAR is still enabled). */
static void r7(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4), b = (R.vcpu + 1) % 4;
	uint64_t bar0 = hyp_pci_get(h, NIC)->info.bar[0].addr;
	struct gate *g;

	give(h, d, NIC);
	assert_int_equal(hyp_vpci_conf_write(h, d, 0, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, 0);
	reached(g);
	assert_int_equal(hyp_vpci_conf_write(h, d, b, G0, PCI_BAR0 + 4, 4,
					     0x1234), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	assert_int_equal(info(h, d, NIC).bar_gaddr[0], bar0);
	assert_int_equal(hyp_vpci_conf_write(h, d, b, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_int_equal(mmio(h, d, bar0), NIC_ID);
	hvh_vpci_invariants(h);
	hyp_free(h);
}

/* R8: A and B share a page; two vCPUs clear MEMORY on each at once.
 * The page must end unmapped, whichever runs first. */
static void r8(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4), a = R.vcpu, b = (R.vcpu + 1) % 4;
	struct gate *ga, *gb;

	give(h, d, DEV_A);
	give(h, d, DEV_B);
	assert_int_equal(hyp_vpci_conf_write(h, d, 0, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_int_equal(hyp_vpci_conf_write(h, d, 0, G1, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	ga = arm(HYP_VP_DEFERRED, d, a, 1, false);
	gb = arm(HYP_VP_DEFERRED, d, b, 1, false);
	post_write(h, d, a, G0, PCI_CMD, 2, 0);
	reached(ga);
	post_write(h, d, b, G1, PCI_CMD, 2, 0);
	reached(gb);
	release(seed % 2 ? ga : gb);
	release(seed % 2 ? gb : ga);
	assert_int_equal(answer(h, d, a).ret, 0);
	assert_int_equal(answer(h, d, b).ret, 0);
	assert_false(p2m_has(h, d, 0xe0000000u));
	hvh_vpci_invariants(h);
	/* in sequence: A off keeps the page for B */
	assert_int_equal(hyp_vpci_conf_write(h, d, a, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_int_equal(hyp_vpci_conf_write(h, d, b, G1, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_int_equal(hyp_vpci_conf_write(h, d, a, G0, PCI_CMD, 2, 0), 0);
	assert_int_equal(mmio(h, d, 0xe0000100u), 0x0b0b1234u);
	assert_int_equal(hyp_vpci_conf_write(h, d, b, G1, PCI_CMD, 2, 0), 0);
	assert_false(p2m_has(h, d, 0xe0000000u));
	hvh_vpci_invariants(h);
	hyp_free(h);
}

/* R12: A is on, so B's map leaves their shared page to A (B's set is
 * empty); before B's vCPU runs the op, A leaves the domain (seed: a
 * deassign, a reset or a removal).  The page must stay for B: found by
 * test_stress as "BAR0 enabled but gfn 0xe0000 not mapped". */
static int do_r12_leave(struct hyp *h, uint32_t how, uint32_t d)
{
	switch (how) {
	case 0:
		return hyp_deassign(h, d, DEV_A);
	case 1:
		return hyp_pci_reset(h, DEV_A);
	default:
		return hyp_pci_device_remove(h, DEV_A);
	}
}

static void r12(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4);
	struct gate *g;

	give(h, d, DEV_A);
	give(h, d, DEV_B);
	assert_int_equal(hyp_vpci_conf_write(h, d, 0, G0, PCI_CMD, 2,
					     PCI_CMD_MEM), 0);
	assert_true(p2m_has(h, d, 0xe0000000u));
	g = arm(HYP_VP_DEFERRED, d, R.vcpu, 1, false);
	post_write(h, d, R.vcpu, G1, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	assert_true(info(h, d, DEV_B).pending);
	assert_int_equal(do_r12_leave(h, seed % 3, d), 0);
	release(g);
	assert_int_equal(answer(h, d, R.vcpu).ret, 0);
	assert_true(info(h, d, DEV_B).bars_mapped);
	hvh_vpci_invariants(h);
	assert_true(p2m_has(h, d, 0xe0000000u));
	assert_int_equal(mmio(h, d, 0xe0000100u), 0x0b0b1234u);
	hyp_free(h);
}

/* R10: a config read holding the read lock while the toolstack deassigns
 * (odd seeds), or after it did: before or after, never in between. */
static void r10(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4);
	struct gate *g, *t;
	struct bg b;

	give(h, d, NIC);
	if (seed % 2) {
		g = arm(HYP_VP_READ_LOCKED, d, R.vcpu, 1, false);
		t = arm(HYP_VP_TOOLSTACK, d, 0, 1, true);
		post_read(h, d, R.vcpu, G0, 0, 4);
		reached(g);
		bg_start(&b, h, do_deassign, d, NIC);
		reached(t);
		release(g);
		assert_int_equal(answer(h, d, R.vcpu).value, NIC_ID);
		assert_int_equal(bg_join(&b), 0);
	} else {
		assert_int_equal(hyp_deassign(h, d, NIC), 0);
		post_read(h, d, R.vcpu, G0, 0, 4);
		assert_int_equal(answer(h, d, R.vcpu).value, 0xffffffffu);
	}
	post_read(h, d, R.vcpu, G0, 0, 4);
	assert_int_equal(answer(h, d, R.vcpu).value, 0xffffffffu);
	hvh_vpci_invariants(h);
	hyp_free(h);
}

/* R11: the domain is destroyed while a vCPU has a map pending: the vCPU
 * stops at its slice boundary, the op never runs on, nothing leaks. */
static void r11(uint32_t seed)
{
	struct run R = run_of(seed);
	struct hyp *h = model(HYP_VPCI_FIXED, R.slice);
	uint32_t d = pvh(h, 4);
	struct hyp_vpci_stats st;
	struct gate *g, *t;
	struct bg b;

	give(h, d, NIC);
	g = arm(HYP_VP_SLICE, d, R.vcpu, R.nth, false);
	t = arm(HYP_VP_VCPUS_STOPPING, d, 0, 1, true);
	post_write(h, d, R.vcpu, G0, PCI_CMD, 2, PCI_CMD_MEM);
	reached(g);
	bg_start(&b, h, do_destroy, d, 0);
	reached(t);
	release(g);
	assert_int_equal(bg_join(&b), 0);
	st = stats(h);
	assert_int_equal(st.ops_done, 0);
	assert_int_equal(st.live_vpci, 0);
	assert_int_equal(st.freed_touched, 0);
	assert_null(hyp_domain_get(h, d));
	assert_int_equal(hyp_pci_get(h, NIC)->info.owner, HV_DOMID_IO);
	assert_int_equal(hw_cmd(h, NIC) & PCI_CMD_MEM, 0);
	hvh_vpci_invariants(h);
	hyp_free(h);
}

static void each_seed(void (*fn)(enum hyp_vpci_profile, uint32_t),
		      enum hyp_vpci_profile prof)
{
	unsigned int i;

	for (i = 0; i < nseeds; i++)
		fn(prof, first_seed + i);
}

static void test_r1(void **state)
{
	each_seed(r1, HYP_VPCI_FIXED);
	each_seed(r1, HYP_VPCI_HISTORIC);
}

static void test_r2(void **state)
{
	each_seed(r2, HYP_VPCI_FIXED);
	each_seed(r2, HYP_VPCI_HISTORIC);
}

static void test_r3(void **state)
{
	each_seed(r3, HYP_VPCI_FIXED);
}

static void test_r4(void **state)
{
	each_seed(r4, HYP_VPCI_FIXED);
	each_seed(r4, HYP_VPCI_HISTORIC);
}

static void test_r5(void **state)
{
	each_seed(r5, HYP_VPCI_FIXED);
	each_seed(r5, HYP_VPCI_HISTORIC);
}

#define SEEDS(fn) do { unsigned int i_; for (i_ = 0; i_ < nseeds; i_++) \
			fn(first_seed + i_); } while (0)

static void test_r6(void **state)
{
	SEEDS(r6);
}

static void test_r7(void **state)
{
	SEEDS(r7);
}

static void test_r8(void **state)
{
	SEEDS(r8);
}

static void test_r10(void **state)
{
	SEEDS(r10);
}

static void test_r11(void **state)
{
	SEEDS(r11);
}

static void test_r12(void **state)
{
	SEEDS(r12);
}

/*
 * The historic profile's R3 in a child: its stderr must show the use of
 * the freed device (ASan: heap-use-after-free; otherwise the quarantine's
 * "use-after-free" line and exit 0).
 */
static void test_r3_historic_use_after_free(void **state)
{
	char buf[65536], *line;
#ifdef TEST_ASAN
	char *frame;
#endif
	size_t len = 0;
	ssize_t n;
	int p[2], st;
	pid_t pid;

	fflush(NULL);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		alarm(30);
		r3(HYP_VPCI_HISTORIC, first_seed);
		_exit(3);	/* r3 exits itself */
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	       (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
#ifdef TEST_ASAN
	line = strstr(buf, "ERROR: AddressSanitizer: heap-use-after-free");
	if (!line)
		fail_msg("historic R3: no heap-use-after-free from ASan; the "
			 "child said:\n%s", buf);
	frame = strstr(line, "\n    #0 ");
	*strchrnul(line, '\n') = '\0';
	printf("historic profile, R3 (device removed under a pending BAR "
	       "map), as expected: %s\n", line);
	if (frame) {	/* the check of the magic, and who made it */
		char *next = strchrnul(frame + 1, '\n');

		if (*next)
			*strchrnul(next + 1, '\n') = '\0';
		printf("  where:\n%s\n", frame + 1);
	}
	assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#else
	line = strstr(buf, "use-after-free:");
	if (!line || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("historic R3: the freed device was not touched "
			 "(status %#x); the child said:\n%s", st, buf);
	*strchrnul(line, '\n') = '\0';
	printf("historic profile, R3 (device removed under a pending BAR "
	       "map), as expected: %s\n", line);
#endif
}

/* Stress ----------------------------------------------------------------------- */

#define SD 2		/* domains */
#define SV 4		/* vCPUs each */

struct stress {
	struct hyp *h;
	uint32_t s;
	uint32_t dom[SD];
	bool busy[SD][SV];
	uint64_t tag[SD][SV];
	uint64_t next_tag;
	uint64_t posted, answered, toolstack, hits;
	unsigned int seed;		/* XPT_VPCI_SEED=seed to run it again */
};

static const uint32_t devs[] = { NIC, DEV_A, DEV_B, DEV_C };

/* The last events of a seed (the vCPUs' hook points and the stress's own
 * steps), printed when an invariant breaks. */
#define RING 128
static struct ring_ent {
	char what[24];
	uint32_t domid, vcpu, sbdf, value;
} ring[RING];
static unsigned long ring_n;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static bool check_every;		/* XPT_VPCI_STRESS_CHECK=1 */

static void note(const char *what, uint32_t domid, uint32_t vcpu,
		 uint32_t sbdf, uint32_t value)
{
	struct ring_ent *e;

	pthread_mutex_lock(&ring_lock);
	e = &ring[ring_n++ % RING];
	snprintf(e->what, sizeof(e->what), "%s", what);
	e->domid = domid;
	e->vcpu = vcpu;
	e->sbdf = sbdf;
	e->value = value;
	pthread_mutex_unlock(&ring_lock);
}

static void ring_hook(void *arg, enum hyp_vpci_point pt, uint32_t domid,
		      uint32_t vcpu, uint32_t sbdf)
{
	static const char *const name[] = {
		[HYP_VP_DEFERRED] = "vcpu: deferred",
		[HYP_VP_SLICE] = "vcpu: slice",
		[HYP_VP_READ_LOCKED] = "vcpu: read",
		[HYP_VP_DONE] = "vcpu: done",
		[HYP_VP_TOOLSTACK] = "hv: toolstack op",
		[HYP_VP_VCPUS_STOPPING] = "hv: vcpus stopping",
	};

	(void)arg;
	note(name[pt] ? name[pt] : "?", domid, vcpu, sbdf, 0);
}

static void ring_print(void)
{
	unsigned long n, i;

	pthread_mutex_lock(&ring_lock);
	n = ring_n;
	fprintf(stderr, "the last events of the seed:\n");
	for (i = n > RING ? n - RING : 0; i < n; i++) {
		const struct ring_ent *e = &ring[i % RING];

		fprintf(stderr, "  %-22s dom %u vcpu %u %#x %#x\n", e->what,
			e->domid, e->vcpu, e->sbdf, e->value);
	}
	pthread_mutex_unlock(&ring_lock);
}

/* Every BAR of the host, present or not (a removed device comes back at
 * the same addresses). */
static void grant_all(struct hyp *h, uint32_t d)
{
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, 0x380000000ull,
				      0x200, true), 0);
	assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, d, 0xe0000, 0x1010,
				      true), 0);
}

static int slot_of(struct stress *x, uint64_t tag, unsigned int *ret_d,
		   unsigned int *ret_v)
{
	unsigned int i, v;

	for (i = 0; i < SD; i++)
		for (v = 0; v < SV; v++)
			if (x->busy[i][v] && x->tag[i][v] == tag) {
				*ret_d = i;
				*ret_v = v;
				return 0;
			}
	return -1;
}

static void collect(struct stress *x, int wait_ms)
{
	struct hyp_vcpu_done done;
	struct pollfd pfd = { .fd = x->h->done_efd, .events = POLLIN };
	unsigned int d, v;
	uint64_t n;

	if (wait_ms)
		poll(&pfd, 1, wait_ms);
	if (read(x->h->done_efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		fail_msg("done_efd: %s", strerror(errno));
	hyp_vcpu_service(x->h);
	while (hyp_vcpu_take_done(x->h, &done)) {
		const struct hyp_vreq *io = &done.io;

		if (slot_of(x, done.tag, &d, &v) < 0)
			continue;	/* a destroyed domain's */
		x->busy[d][v] = false;
		x->answered++;
		note("answered", x->dom[d], v, io->sbdf, (uint32_t)io->ret);
		if (io->ret == -ESHUTDOWN)
			continue;
		assert_int_equal(io->ret, 0);
		/* never a torn or foreign value */
		if (io->op == HV_OP_VPCI_CONF_READ && io->reg == 0)
			assert_true(io->value == 0xffffffffu ||
				    (io->value & 0xffff) == 0x8086 ||
				    (io->value & 0xffff) == 0x1234);
	}
}

static void stress_check(struct stress *x)
{
	char err[256] = "";

	if (hyp_vpci_check(x->h, err, sizeof(err)) < 0) {
		ring_print();
		fail_msg("vPCI invariant, stress seed %u: %s", x->seed, err);
	}
}

static void quiesce(struct stress *x)
{
	unsigned int d, v, spins = 0;
	bool any;

	do {
		any = false;
		for (d = 0; d < SD; d++)
			for (v = 0; v < SV; v++)
				any |= x->busy[d][v];
		if (any)
			collect(x, 100);
		assert_true(++spins < 1000);
	} while (any);
	stress_check(x);
}

static void s_post(struct stress *x)
{
	unsigned int d = rnd(&x->s) % SD, v = rnd(&x->s) % SV;
	uint32_t g = HV_SBDF(0, 0, rnd(&x->s) % 3, 0);
	struct hyp_vreq io = { .vcpu = v, .sbdf = g, .size = 4 };
	int r;

	if (x->busy[d][v])
		return;
	switch (rnd(&x->s) % 6) {
	case 0:
	case 1:
		io.op = HV_OP_VPCI_CONF_WRITE;
		io.reg = PCI_CMD;
		io.size = 2;
		io.value = rnd(&x->s) % 2 ? PCI_CMD_MEM : 0;
		break;
	case 2:
		io.op = HV_OP_VPCI_CONF_READ;
		io.reg = 0;
		break;
	case 3:
		io.op = HV_OP_VPCI_CONF_READ;
		io.reg = PCI_BAR0;
		break;
	default:
		io.op = rnd(&x->s) % 2 ? HV_OP_VPCI_MMIO_READ :
					 HV_OP_VPCI_MMIO_WRITE;
		io.gaddr = (rnd(&x->s) % 2 ? 0x380000000000ull : 0xe0000000ull) +
			   (rnd(&x->s) % 64) * 4096;
		io.value = rnd(&x->s);
		break;
	}
	r = hyp_vcpu_post(x->h, x->dom[d], &io, ++x->next_tag, 0);
	note(io.op == HV_OP_VPCI_CONF_WRITE ? "post: cmd write" :
	     io.op == HV_OP_VPCI_CONF_READ ? "post: conf read" :
	     io.op == HV_OP_VPCI_MMIO_READ ? "post: mmio read" :
					       "post: mmio write",
	     x->dom[d], v, g, io.op == HV_OP_VPCI_CONF_WRITE ?
	     (uint32_t)io.value : (uint32_t)(io.gaddr >> 12));
	if (r == -ESHUTDOWN)
		return;
	assert_int_equal(r, 0);
	x->busy[d][v] = true;
	x->tag[d][v] = x->next_tag;
	x->posted++;
}

/* Mostly a device with a map/unmap in flight: that is where the races
 * are. */
static uint32_t s_target(struct stress *x)
{
	struct hv_vpci_info i;
	unsigned int k, d;

	for (k = 0; k < 4 && rnd(&x->s) % 8; k++)
		for (d = 0; d < SD; d++)
			if (hyp_vpci_info(x->h, x->dom[d], devs[k], &i) == 0 &&
			    i.pending) {
				x->hits++;
				return devs[k];
			}
	return devs[rnd(&x->s) % 4];
}

static void s_toolstack(struct stress *x)
{
	struct hyp *h = x->h;
	uint32_t sbdf = s_target(x);
	unsigned int d = rnd(&x->s) % SD;
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	unsigned int v;

	x->toolstack++;
	switch (rnd(&x->s) % 6) {
	case 0:		/* assign or deassign */
		if (!p)
			break;
		if (p->info.owner == x->dom[!d])
			d = !d;
		if (p->info.owner == x->dom[d]) {
			note("deassign", x->dom[d], 0, sbdf, 0);
			assert_int_equal(hyp_deassign(h, x->dom[d], sbdf), 0);
		} else if (p->info.owner == 0 ||
			   p->info.owner == HV_DOMID_IO) {
			note("assign", x->dom[d], 0, sbdf, 0);
			(void)hyp_assign(h, x->dom[d], sbdf);
		}
		break;
	case 1:
		if (p) {
			note("reset", p->info.owner, 0, sbdf, 0);
			assert_int_equal(hyp_pci_reset(h, sbdf), 0);
		}
		break;
	case 2:		/* hot-unplug, or back */
		note(p ? "remove" : "add", p ? p->info.owner : 0, 0, sbdf, 0);
		if (p)
			assert_int_equal(hyp_pci_device_remove(h, sbdf), 0);
		else
			assert_int_equal(hyp_pci_device_add(h, sbdf), 0);
		break;
	case 3:		/* the domain dies and a new one comes */
		if (rnd(&x->s) % 4)
			break;
		note("destroy", x->dom[d], 0, 0, 0);
		assert_int_equal(hyp_domain_destroy(h, x->dom[d]), 0);
		for (v = 0; v < SV; v++)
			x->busy[d][v] = false;
		x->dom[d] = pvh(h, SV);
		grant_all(h, x->dom[d]);
		note("created", x->dom[d], 0, 0, 0);
		break;
	default:
		break;
	}
}

static void test_stress(void **state)
{
	struct timespec t0, t1;
	unsigned int seeds = 0, d;
	uint64_t posted = 0, answered = 0, toolstack = 0, hits = 0;
	int64_t ms;
	struct hyp_vpci_stats st, total = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct stress x = { .s = (first_seed + seeds) * 2654435761u | 1,
				    .seed = first_seed + seeds };
		unsigned int step;

		x.h = model(HYP_VPCI_FIXED, 1 + rnd(&x.s) % 16);
		pthread_mutex_lock(&ring_lock);
		ring_n = 0;
		pthread_mutex_unlock(&ring_lock);
		hyp_vpci_set_hook(x.h, ring_hook, NULL);
		for (d = 0; d < SD; d++) {
			x.dom[d] = pvh(x.h, SV);
			grant_all(x.h, x.dom[d]);
		}
		for (step = 0; step < 1500; step++) {
			if (rnd(&x.s) % 4)
				s_post(&x);
			else
				s_toolstack(&x);
			collect(&x, 0);
			if (check_every)
				stress_check(&x);
			if (step % 50 == 49)
				quiesce(&x);
		}
		quiesce(&x);
		for (d = 0; d < SD; d++)
			assert_int_equal(hyp_domain_destroy(x.h, x.dom[d]), 0);
		hyp_vpci_get_stats(x.h, &st);
		assert_int_equal(st.freed_touched, 0);
		assert_int_equal(st.live_vpci, 0);
		assert_int_equal(st.violations, 0);
		total.ops_done += st.ops_done;
		total.ops_dropped += st.ops_dropped;
		total.ops_cancelled += st.ops_cancelled;
		total.ops_drained += st.ops_drained;
		total.slices += st.slices;
		total.pages_mapped += st.pages_mapped;
		posted += x.posted;
		answered += x.answered;
		toolstack += x.toolstack;
		hits += x.hits;
		hyp_free(x.h);
		seeds++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = ((int64_t)t1.tv_sec - t0.tv_sec) * 1000 +
		     ((int64_t)t1.tv_nsec - t0.tv_nsec) / 1000000;
	} while (ms < (int64_t)stress_ms);
	printf("stress (fixed): %u seeds from %u in %lld ms: %llu guest "
	       "accesses posted, %llu answered, %llu toolstack ops (%llu on "
	       "a device with an op in flight); BAR ops "
	       "%llu done, %llu dropped, %llu cancelled, %llu drained; %llu "
	       "slices, %llu pages mapped; no invariant broken, no freed "
	       "object touched\n", seeds, first_seed,
	       (long long)ms, (unsigned long long)posted,
	       (unsigned long long)answered, (unsigned long long)toolstack,
	       (unsigned long long)hits,
	       (unsigned long long)total.ops_done,
	       (unsigned long long)total.ops_dropped,
	       (unsigned long long)total.ops_cancelled,
	       (unsigned long long)total.ops_drained,
	       (unsigned long long)total.slices,
	       (unsigned long long)total.pages_mapped);
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	v = strtoul(s, &end, 10);
	return *end ? dflt : (unsigned int)v;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r1),
		cmocka_unit_test(test_r2),
		cmocka_unit_test(test_r3),
		cmocka_unit_test(test_r3_historic_use_after_free),
		cmocka_unit_test(test_r4),
		cmocka_unit_test(test_r5),
		cmocka_unit_test(test_r6),
		cmocka_unit_test(test_r7),
		cmocka_unit_test(test_r8),
		cmocka_unit_test(test_r10),
		cmocka_unit_test(test_r11),
		cmocka_unit_test(test_r12),
		cmocka_unit_test(test_stress),
	};

	nseeds = env_uint("XPT_VPCI_SEEDS", nseeds);
	first_seed = env_uint("XPT_VPCI_SEED", first_seed);
	stress_ms = env_uint("XPT_VPCI_STRESS_MS", stress_ms);
	check_every = env_uint("XPT_VPCI_STRESS_CHECK", 0);
	printf("vPCI races: seeds %u..%u\n", first_seed,
	       first_seed + nseeds - 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
