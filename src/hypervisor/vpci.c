// SPDX-License-Identifier: MIT
/*
 * vPCI for PVH domains: the hypervisor traps a guest's config-space
 * accesses to its assigned devices and maps their memory BARs into the
 * guest's p2m itself (no device model).  The model follows Xen 4.19's
 * xen/drivers/vpci (header.c, vpci.c) as docs/protocol.md ("vPCI")
 * describes it, in two profiles:
 *
 *   fixed     Xen 4.19's locking, plus the two gaps it leaves closed:
 *             a physical removal clears every vCPU's pending reference
 *             to the device (under each domain's write lock), and a
 *             pending op carries the generation of the vpci it was made
 *             for, so a reset (deassign + assign) in between drops it.
 *   historic  before 4.19: no per-domain pci_lock, a pending op is
 *             taken at face value, removal frees the vpci (and on
 *             physical removal the pdev) under the vCPU's feet.
 *
 * A write that flips PCI_COMMAND.MEMORY does not map anything itself:
 * modify_bars() fills each BAR's range set with the guest frames to
 * change and defers the work to the writing vCPU, which runs it in
 * slices (process_pending) before it answers the guest, dropping the
 * domain's pci_lock between slices.  Everybody else may run in between.
 *
 * Worked example (fixed): vCPU 1 of domain 5 writes COMMAND = MEMORY on
 * its NIC (BAR0 1 MiB = 256 pages at gfn 0x380000000, slice 64).
 *   vCPU 1: write_lock(d5) -> cmd_write: guest_cmd = 2, bars_mapped is
 *           false -> modify_bars: BAR0.mem = [0x380000000, +255], the
 *           MSI-X pages (BAR2's) are never added; pending = {NIC, 2,
 *           gen 7}; unlock.
 *   vCPU 1: read_lock(d5), 64 pages into the p2m, unlock   (slice 1)
 *   epoll:  XEN_DOMCTL_deassign_device: write_lock(d5), the NIC's vpci
 *           (gen 7) freed and its frames purged from d5's p2m, owner
 *           DOMID_IO; unlock
 *   vCPU 1: read_lock(d5): pdev->vpci == NULL -> the op is dropped; the
 *           guest's write returns.  Nothing of the NIC is left mapped,
 *           and quarantine's state was never touched.
 * In the historic profile the same schedule with a physical removal
 * instead of the deassign has vCPU 1 read the freed pdev: Xen's use-
 * after-free of the 2021 thread, which an ASan build reports.
 *
 * Locks (hypervisor.h has the order): d->pci_lock guards d->vslot[],
 * every p->vpci of d's devices and each vCPU's pending op; vpci->lock a
 * vpci's registers; p->hw_lock the device's config space and MMIO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor.h"
#include "log.h"
#include "vpci.h"

#if defined(__SANITIZE_ADDRESS__)
#define HYP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HYP_ASAN 1
#endif
#endif

#define PFN(a) ((a) >> 12)
#define PAGE_OFF(a) ((a) & 0xfffu)

/* PCI_COMMAND bits (Linux's pci_regs.h names) */
#define CMD_SPECIAL 0x0008
#define CMD_INVALIDATE 0x0010
#define CMD_VGA_PALETTE 0x0020
#define CMD_PARITY 0x0040
#define CMD_WAIT 0x0080
#define CMD_SERR 0x0100
#define CMD_FAST_BACK 0x0200
#define CMD_RSVDP_MASK 0xf800

#define ADD(field, n) \
	__atomic_fetch_add(&h->vpci->stats.field, (n), __ATOMIC_RELAXED)

static bool fixed(const struct hyp *h)
{
	return h->vpci->profile == HYP_VPCI_FIXED;
}

/* The historic profile has no per-domain lock: these do nothing. */
static void pci_rlock(struct hyp *h, struct hyp_domain *d)
{
	if (fixed(h))
		pthread_rwlock_rdlock(&d->pci_lock);
}

static void pci_wlock(struct hyp *h, struct hyp_domain *d)
{
	if (fixed(h))
		pthread_rwlock_wrlock(&d->pci_lock);
}

static void pci_unlock(struct hyp *h, struct hyp_domain *d)
{
	if (fixed(h))
		pthread_rwlock_unlock(&d->pci_lock);
}

static uint32_t owner_of(const struct hyp_pcidev *p)
{
	return __atomic_load_n(&p->info.owner, __ATOMIC_ACQUIRE);
}

static uint32_t size_mask(unsigned int size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* State ------------------------------------------------------------------ */

int hyp_vpci_init(struct hyp *h)
{
	h->vpci = calloc(1, sizeof(*h->vpci));
	if (!h->vpci)
		return -ENOMEM;
	h->vpci->profile = HYP_VPCI_FIXED;
	h->vpci->slice = VPCI_DEFAULT_SLICE;
#ifndef NDEBUG
	h->vpci->check_each_op = true;
#endif
	pthread_mutex_init(&h->vpci->qlock, NULL);
	return 0;
}

void hyp_vpci_set_checks(struct hyp *h, bool on)
{
	h->vpci->check_each_op = on;
}

void hyp_vpci_fini(struct hyp *h)
{
	unsigned int i;

	if (!h->vpci)
		return;
	for (i = 0; i < h->vpci->qn; i++)
		free(h->vpci->quarantine[i]);
	pthread_mutex_destroy(&h->vpci->qlock);
	free(h->vpci);
	h->vpci = NULL;
}

int hyp_vpci_parse_profile(const char *s, enum hyp_vpci_profile *ret)
{
	if (!strcmp(s, "fixed"))
		*ret = HYP_VPCI_FIXED;
	else if (!strcmp(s, "historic"))
		*ret = HYP_VPCI_HISTORIC;
	else
		return -EINVAL;
	return 0;
}

const char *hyp_vpci_profile_name(enum hyp_vpci_profile p)
{
	return p == HYP_VPCI_HISTORIC ? "historic" : "fixed";
}

int hyp_vpci_set_profile(struct hyp *h, enum hyp_vpci_profile p)
{
	if (h->vpci->npvh)
		return -EBUSY;
	h->vpci->profile = p;
	return 0;
}

void hyp_vpci_set_slice(struct hyp *h, unsigned int pages)
{
	__atomic_store_n(&h->vpci->slice, pages ? pages : VPCI_DEFAULT_SLICE,
			 __ATOMIC_RELAXED);
}

void hyp_vpci_set_hook(struct hyp *h, hyp_vpci_hook_fn *fn, void *arg)
{
	h->vpci->hook = fn;
	h->vpci->hook_arg = arg;
}

void hyp_vpci_hook(struct hyp *h, enum hyp_vpci_point pt, uint32_t domid,
		   uint32_t vcpu, uint32_t sbdf)
{
	if (h->vpci->hook)
		h->vpci->hook(h->vpci->hook_arg, pt, domid, vcpu, sbdf);
}

void hyp_vpci_get_stats(struct hyp *h, struct hyp_vpci_stats *ret)
{
	const uint64_t *src = (const uint64_t *)&h->vpci->stats;
	uint64_t *dst = (uint64_t *)ret;
	size_t i;

	for (i = 0; i < sizeof(*ret) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/*
 * A freed pdev or vpci: in ASan builds really freed (a later use is the
 * report); otherwise poisoned and kept for a while, magic HYP_OBJ_DEAD,
 * so a later use is seen by the code that checks the magic first.
 */
static void quarantine(struct hyp *h, void *obj, size_t size,
		       uint32_t *magic)
{
#ifdef HYP_ASAN
	(void)h;
	(void)size;
	(void)magic;
	free(obj);
#else
	struct hyp_vpci_state *s = h->vpci;

	memset(obj, 0xdb, size);
	*magic = HYP_OBJ_DEAD;
	pthread_mutex_lock(&s->qlock);
	if (s->qn < 64) {
		s->quarantine[s->qn++] = obj;
	} else {
		free(s->quarantine[s->qhead]);
		s->quarantine[s->qhead] = obj;
		s->qhead = (s->qhead + 1) % 64;
	}
	pthread_mutex_unlock(&s->qlock);
#endif
}

void hyp_vpci_free_pdev(struct hyp *h, struct hyp_pcidev *p)
{
	free(p->msix_tab);
	free(p->msix_map);
	p->msix_tab = NULL;
	p->msix_map = NULL;
	pthread_mutex_destroy(&p->hw_lock);
	quarantine(h, p, sizeof(*p), &p->magic);
}

/* A use of something a pending op points at: false if it was freed. */
static bool alive(struct hyp *h, const uint32_t *magic, uint32_t want,
		  struct hyp_vcpu *v, const char *what)
{
	if (*magic == want)
		return true;
	ADD(freed_touched, 1);
	log_err("use-after-free: vCPU %u of domain %u dereferenced a freed "
		"%s (profile %s: a removal freed it under a pending map)",
		v->id, v->d->domid, what, hyp_vpci_profile_name(h->vpci->profile));
	return false;
}

/* The register list --------------------------------------------------------- */

int hyp_vpci_add_register(struct vpci *vpci, vpci_read_fn *read,
			  vpci_write_fn *write, unsigned int offset,
			  unsigned int size, void *priv, uint32_t ro_mask,
			  uint32_t rw1c_mask, uint32_t rsvdp_mask,
			  uint32_t rsvdz_mask)
{
	uint32_t all = ro_mask | rw1c_mask | rsvdp_mask | rsvdz_mask;
	struct vpci_register *r;
	size_t i;

	if ((size != 1 && size != 2 && size != 4) ||
	    offset >= HYP_CONF_SIZE || offset % size || (!read && !write))
		return -EINVAL;
	if ((ro_mask & rw1c_mask) || (ro_mask & rsvdp_mask) ||
	    (ro_mask & rsvdz_mask) || (rw1c_mask & rsvdp_mask) ||
	    (rw1c_mask & rsvdz_mask) || (rsvdp_mask & rsvdz_mask) ||
	    (all & ~size_mask(size)))
		return -EINVAL;
	for (i = 0; i < vpci->nregs && vpci->regs[i].offset < offset; i++)
		;
	if (i > 0 && vpci->regs[i - 1].offset + vpci->regs[i - 1].size >
		     offset)
		return -EEXIST;
	if (i < vpci->nregs && offset + size > vpci->regs[i].offset)
		return -EEXIST;
	r = realloc(vpci->regs, (vpci->nregs + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	vpci->regs = r;
	memmove(&r[i + 1], &r[i], (vpci->nregs - i) * sizeof(*r));
	r[i] = (struct vpci_register){
		.read = read, .write = write, .offset = offset, .size = size,
		.priv = priv, .ro_mask = ro_mask, .rw1c_mask = rw1c_mask,
		.rsvdp_mask = rsvdp_mask, .rsvdz_mask = rsvdz_mask,
	};
	vpci->nregs++;
	return 0;
}

/* Registers wholly inside [start, start + size); -ERANGE (nothing
 * removed) if one straddles the edge. */
int hyp_vpci_remove_registers(struct vpci *vpci, unsigned int start,
			      unsigned int size)
{
	unsigned int end = start + size;
	size_t i, j;

	for (i = 0; i < vpci->nregs; i++) {
		const struct vpci_register *r = &vpci->regs[i];

		if (r->offset < end && r->offset + r->size > start &&
		    (r->offset < start || r->offset + r->size > end))
			return -ERANGE;
	}
	for (i = j = 0; i < vpci->nregs; i++) {
		const struct vpci_register *r = &vpci->regs[i];

		if (r->offset >= start && r->offset + r->size <= end)
			continue;
		vpci->regs[j++] = *r;
	}
	vpci->nregs = j;
	return 0;
}

uint32_t hyp_vpci_read_regs(struct vpci_ctx *c, struct hyp_pcidev *p,
			    unsigned int reg, unsigned int size)
{
	struct vpci *vpci = p->vpci;
	uint32_t out = size_mask(size);		/* gaps: all-ones (domU) */
	unsigned int b;
	size_t i;

	for (i = 0; i < vpci->nregs; i++) {
		const struct vpci_register *r = &vpci->regs[i];
		uint32_t v;

		if (r->offset >= reg + size)
			break;
		if (r->offset + r->size <= reg)
			continue;
		v = r->read ? r->read(c, p, r) : 0xffffffffu;
		v &= ~(r->rsvdp_mask | r->rsvdz_mask);
		for (b = 0; b < size; b++) {
			unsigned int at = reg + b;

			if (at < r->offset || at >= r->offset + r->size)
				continue;
			out &= ~(0xffu << (8 * b));
			out |= ((v >> (8 * (at - r->offset))) & 0xff) << (8 * b);
		}
	}
	return out;
}

void hyp_vpci_write_regs(struct vpci_ctx *c, struct hyp_pcidev *p,
			 unsigned int reg, unsigned int size, uint32_t val)
{
	struct vpci *vpci = p->vpci;
	unsigned int b;
	size_t i;

	for (i = 0; i < vpci->nregs; i++) {
		const struct vpci_register *r = &vpci->regs[i];
		uint32_t wmask = 0, wval = 0, cur, keep, v;

		if (r->offset >= reg + size)
			break;
		if (r->offset + r->size <= reg || !r->write)
			continue;
		for (b = 0; b < r->size; b++) {
			unsigned int at = r->offset + b;

			if (at < reg || at >= reg + size)
				continue;
			wmask |= 0xffu << (8 * b);
			wval |= ((val >> (8 * (at - reg))) & 0xff) << (8 * b);
		}
		keep = r->ro_mask | r->rsvdp_mask;
		if (wmask == size_mask(r->size) && !(keep | r->rsvdz_mask |
						     r->rw1c_mask)) {
			r->write(c, p, r, wval);
			continue;
		}
		/* Read-modify-write: a 1 in an rw1c bit not written must
		 * not clear it; preserved bits keep their value. */
		cur = r->read ? r->read(c, p, r) & ~r->rw1c_mask : 0;
		v = (cur & ~wmask) | (wval & wmask);
		v &= ~r->rsvdz_mask;
		v = (v & ~keep) | (cur & keep);
		r->write(c, p, r, v & size_mask(r->size));
	}
}

struct vpci *hyp_vpci_alloc(struct hyp *h)
{
	struct vpci *vpci = calloc(1, sizeof(*vpci));

	if (!vpci)
		return NULL;
	vpci->magic = VPCI_ALIVE;
	pthread_mutex_init(&vpci->lock, NULL);
	vpci->op_vcpu = -1;
	vpci->gen = __atomic_add_fetch(&h->vpci->next_gen, 1,
				       __ATOMIC_RELAXED);
	ADD(live_vpci, 1);
	return vpci;
}

void hyp_vpci_free(struct hyp *h, struct vpci *vpci)
{
	unsigned int i;

	if (!vpci)
		return;
	for (i = 0; i < VPCI_NR_BARS; i++)
		hyp_ranges_free(&vpci->bars[i].mem);
	free(vpci->regs);
	pthread_mutex_destroy(&vpci->lock);
	__atomic_fetch_sub(&h->vpci->stats.live_vpci, 1, __ATOMIC_RELAXED);
	quarantine(h, vpci, sizeof(*vpci), &vpci->magic);
}

/* The p2m ----------------------------------------------------------------- */

static int p2m_reserve(struct hyp_p2m *m, size_t n)
{
	struct hyp_p2m_ent *e;
	size_t cap;

	if (n <= m->cap)
		return 0;
	cap = m->cap ? m->cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	e = realloc(m->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	m->e = e;
	m->cap = cap;
	return 0;
}

/* [gfn, gfn + nr) out of the p2m; m->lock held. */
static int p2m_remove(struct hyp_p2m *m, uint64_t gfn, uint64_t nr)
{
	uint64_t last = gfn + nr - 1;
	size_t i;
	int r;

	for (i = 0; i < m->n; i++) {
		struct hyp_p2m_ent *x = &m->e[i];
		uint64_t xl = x->gfn + x->nr - 1;

		if (xl < gfn || x->gfn > last)
			continue;
		if (x->gfn < gfn && xl > last) {	/* split in two */
			r = p2m_reserve(m, m->n + 1);
			if (r < 0)
				return r;
			x = &m->e[i];
			memmove(&m->e[i + 2], &m->e[i + 1],
				(m->n - i - 1) * sizeof(*x));
			m->e[i + 1] = (struct hyp_p2m_ent){
				.gfn = last + 1,
				.mfn = x->mfn + (last + 1 - x->gfn),
				.nr = xl - last };
			x->nr = gfn - x->gfn;
			m->n++;
			return 0;
		}
		if (x->gfn < gfn) {			/* keep the head */
			x->nr = gfn - x->gfn;
		} else if (xl > last) {			/* keep the tail */
			x->mfn += last + 1 - x->gfn;
			x->nr = xl - last;
			x->gfn = last + 1;
		} else {				/* all of it */
			memmove(x, x + 1, (m->n - i - 1) * sizeof(*x));
			m->n--;
			i--;
		}
	}
	return 0;
}

int hyp_p2m_map(struct hyp_p2m *m, uint64_t gfn, uint64_t mfn, uint64_t nr)
{
	size_t i;
	int r;

	pthread_mutex_lock(&m->lock);
	r = p2m_reserve(m, m->n + 2);
	if (r == 0)
		r = p2m_remove(m, gfn, nr);
	if (r < 0)
		goto out;
	for (i = 0; i < m->n && m->e[i].gfn < gfn; i++)
		;
	/* Contiguous with the one before: grow it. */
	if (i > 0 && m->e[i - 1].gfn + m->e[i - 1].nr == gfn &&
	    m->e[i - 1].mfn + m->e[i - 1].nr == mfn) {
		m->e[i - 1].nr += nr;
		goto out;
	}
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(m->e[0]));
	m->e[i] = (struct hyp_p2m_ent){ .gfn = gfn, .mfn = mfn, .nr = nr };
	m->n++;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int hyp_p2m_unmap(struct hyp_p2m *m, uint64_t gfn, uint64_t nr)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = p2m_remove(m, gfn, nr);
	pthread_mutex_unlock(&m->lock);
	return r;
}

bool hyp_p2m_lookup(struct hyp_p2m *m, uint64_t gfn, uint64_t *ret_mfn)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (gfn >= m->e[i].gfn && gfn < m->e[i].gfn + m->e[i].nr) {
			*ret_mfn = m->e[i].mfn + (gfn - m->e[i].gfn);
			found = true;
			break;
		}
	pthread_mutex_unlock(&m->lock);
	return found;
}

/* Every guest frame that maps into host frames [mfn, mfn + nr). */
static void p2m_purge_mfns(struct hyp_p2m *m, uint64_t mfn, uint64_t nr)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++) {
		struct hyp_p2m_ent x = m->e[i];
		uint64_t lo = x.mfn > mfn ? x.mfn : mfn;
		uint64_t hi = x.mfn + x.nr < mfn + nr ? x.mfn + x.nr : mfn + nr;

		if (lo >= hi)
			continue;
		if (p2m_remove(m, x.gfn + (lo - x.mfn), hi - lo) < 0)
			break;	/* a split without memory: leave it */
		i = (size_t)-1;	/* the array changed: from the start */
	}
	pthread_mutex_unlock(&m->lock);
}

void hyp_p2m_free(struct hyp_p2m *m)
{
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}

/* Registers of a domU's device ------------------------------------------------ */

static uint32_t hw_read(struct vpci_ctx *c, struct hyp_pcidev *p,
			const struct vpci_register *r)
{
	return hyp_pci_hw_read(p, r->offset, r->size);
}

/* Status: the capability list is hidden (no capability is emulated). */
static uint32_t status_read(struct vpci_ctx *c, struct hyp_pcidev *p,
			    const struct vpci_register *r)
{
	return hyp_pci_hw_read(p, r->offset, r->size) & ~PCI_STATUS_CAP_LIST;
}

static uint32_t read_zero(struct vpci_ctx *c, struct hyp_pcidev *p,
			  const struct vpci_register *r)
{
	return 0;
}

static uint32_t cmd_read(struct vpci_ctx *c, struct hyp_pcidev *p,
			 const struct vpci_register *r)
{
	return p->vpci->guest_cmd;
}

static int modify_bars(struct vpci_ctx *c, struct hyp_pcidev *p,
		       uint16_t cmd);

static void drain(struct vpci_ctx *c, struct hyp_pcidev *q);

/*
 * A domU's COMMAND write.  Fixed profile: an op another vCPU still has in
 * flight on this device is finished first (drained, under this write
 * lock), so the comparison with bars_mapped is against the truth and the
 * last write decides.  Historic: compared with a bars_mapped that is
 * stale while the other op runs (race R5 in docs/protocol.md 14.4: a raw
 * hardware write, then the other vCPU's completion contradicts it).
 */
static void cmd_write(struct vpci_ctx *c, struct hyp_pcidev *p,
		      const struct vpci_register *r, uint32_t val)
{
	struct vpci *vpci = p->vpci;
	bool map = val & PCI_CMD_MEM;

	vpci->guest_cmd = (uint16_t)val;	/* at once, even if refused */
	if (fixed(c->h) && vpci->op_vcpu >= 0)
		drain(c, p);
	if (vpci->bars_mapped != map) {
		modify_bars(c, p, (uint16_t)val);
		return;
	}
	hyp_pci_cmd_write(p, (uint16_t)val);
}

static uint32_t bar_read(struct vpci_ctx *c, struct hyp_pcidev *p,
			 const struct vpci_register *r)
{
	const struct vpci_bar *bar = r->priv;

	if (bar->type == VPCI_BAR_MEM64_HI)
		return (uint32_t)(bar[-1].guest_addr >> 32);
	return (uint32_t)bar->guest_addr |
	       (bar->type == VPCI_BAR_MEM64_LO ? 0x4u : 0) |
	       (bar->prefetchable ? 0x8u : 0);
}

/* A domU moves its view of a BAR; dropped while the BAR is mapped. */
static void bar_write(struct vpci_ctx *c, struct hyp_pcidev *p,
		      const struct vpci_register *r, uint32_t val)
{
	struct vpci_bar *bar = r->priv, *lo = bar;
	char bdf[16];

	if (bar->type == VPCI_BAR_MEM64_HI)
		lo = bar - 1;
	if (lo->enabled) {
		if (val != bar_read(c, p, r)) {
			hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
			log_debug("%s: BAR write %#x ignored: memory decoding "
				  "is on", bdf, val);
		}
		return;
	}
	if (bar->type == VPCI_BAR_MEM64_HI)
		lo->guest_addr = (lo->guest_addr & 0xffffffffu) |
				 (uint64_t)val << 32;
	else
		lo->guest_addr = (lo->guest_addr & ~0xffffffffull) |
				 (val & ~0xfu);
	lo->guest_addr &= ~(lo->size - 1);
}

static int init_header(struct hyp *h, struct hyp_pcidev *p, struct vpci *vpci)
{
	/* A domU's COMMAND: these bits are reserved-preserved. */
	const uint32_t cmd_rsvdp = CMD_RSVDP_MASK | PCI_CMD_IO | CMD_PARITY |
				   CMD_WAIT | CMD_SERR | CMD_FAST_BACK;
	const uint16_t cmd_clear = CMD_VGA_PALETTE | CMD_INVALIDATE |
				   CMD_SPECIAL | PCI_CMD_MASTER | PCI_CMD_MEM |
				   PCI_CMD_IO;
	uint16_t cmd = (uint16_t)hyp_pci_hw_read(p, PCI_CMD, 2);
	unsigned int i;
	int r;

	if ((hyp_pci_hw_read(p, 0x0e, 1) & 0x7f) != 0)
		return -EOPNOTSUPP;	/* bridges: not for a domU */
#define REG(rd, wr, off, sz, priv, ro, rsvdp) \
	if ((r = hyp_vpci_add_register(vpci, rd, wr, off, sz, priv, ro, 0, \
				       rsvdp, 0)) < 0) \
		return r
	REG(hw_read, NULL, 0x00, 4, NULL, 0, 0);	/* vendor, device */
	REG(cmd_read, cmd_write, PCI_CMD, 2, NULL, 0, cmd_rsvdp);
	REG(status_read, NULL, PCI_STATUS, 2, NULL, 0, 0);
	REG(hw_read, NULL, 0x08, 4, NULL, 0, 0);	/* revision, class */
	REG(hw_read, NULL, 0x0c, 4, NULL, 0, 0);	/* header type */
	REG(hw_read, NULL, 0x2c, 4, NULL, 0, 0);	/* subsystem */
	REG(read_zero, NULL, PCI_ROM, 4, NULL, 0, 0);	/* ROM: hwdom only */
	REG(read_zero, NULL, PCI_CAP_PTR, 1, NULL, 0, 0);
	REG(hw_read, NULL, PCI_INT_LINE, 2, NULL, 0, 0);
	for (i = 0; i < 6; i++) {
		const struct hv_pci_bar *hb = &p->info.bar[i];
		struct vpci_bar *bar = &vpci->bars[i];

		if (i > 0 && vpci->bars[i - 1].type == VPCI_BAR_MEM64_LO) {
			bar->type = VPCI_BAR_MEM64_HI;
			REG(bar_read, bar_write, PCI_BAR0 + 4 * i, 4, bar, 0, 0);
			continue;
		}
		if (!hb->size) {
			bar->type = VPCI_BAR_EMPTY;
		} else if (hb->flags & HV_BAR_IO) {
			bar->type = VPCI_BAR_IO;	/* no port I/O on PVH */
		} else {
			bar->type = hb->flags & HV_BAR_64 ? VPCI_BAR_MEM64_LO :
							    VPCI_BAR_MEM32;
			bar->prefetchable = hb->flags & HV_BAR_PREFETCH;
			bar->addr = bar->guest_addr = hb->addr;
			bar->size = hb->size;
			REG(bar_read, bar_write, PCI_BAR0 + 4 * i, 4, bar, 0, 0);
			continue;
		}
		REG(read_zero, NULL, PCI_BAR0 + 4 * i, 4, NULL, 0, 0);
	}
#undef REG
	vpci->bars[6].type = VPCI_BAR_EMPTY;	/* ROM: not modelled */
	vpci->guest_cmd = cmd & ~cmd_clear;
	hyp_pci_cmd_write(p, cmd & ~PCI_CMD_MEM);
	(void)h;
	return 0;
}

/* modify_bars and the deferred work ------------------------------------------ */

static void purge_sets(struct vpci *vpci)
{
	unsigned int i;

	for (i = 0; i < VPCI_NR_BARS; i++)
		hyp_ranges_free(&vpci->bars[i].mem);
}

static bool bar_mappable(const struct vpci_bar *bar)
{
	return bar->type == VPCI_BAR_MEM32 || bar->type == VPCI_BAR_MEM64_LO ||
	       bar->type == VPCI_BAR_ROM;
}

static int sets_remove(struct vpci *vpci, uint64_t first, uint64_t last)
{
	unsigned int i;
	int r;

	for (i = 0; i < VPCI_NR_BARS; i++)
		if (vpci->bars[i].mem.n &&
		    (r = hyp_ranges_remove(&vpci->bars[i].mem, first, last,
					   0)) < 0)
			return r;
	return 0;
}

/* The guest frames of p's MSI-X table (0) or PBA (1): false if none. */
static bool msix_frames(const struct hyp_pcidev *p, const struct vpci *vpci,
			unsigned int which, uint64_t *first, uint64_t *last)
{
	unsigned int bir = which ? p->msix_pba_bar : p->msix_table_bar;
	uint64_t off = which ? p->msix_pba_off : p->msix_table_off;
	uint64_t len = which ? ((p->info.msix_entries + 63u) / 64u) * 8u :
			       (uint64_t)p->info.msix_entries * MSIX_ENTRY_SIZE;
	const struct vpci_bar *bar;

	if (!p->info.has_msix || bir >= 6)
		return false;
	bar = &vpci->bars[bir];
	if (!bar_mappable(bar))
		return false;
	*first = PFN(bar->guest_addr + off);
	*last = PFN(bar->guest_addr + off + len - 1);
	return true;
}

/* Do BARs of p and q share a guest page? */
static bool share_pages(const struct vpci *a, const struct vpci *b)
{
	unsigned int i, j;

	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			const struct vpci_bar *x = &a->bars[i], *y = &b->bars[j];

			if (bar_mappable(x) && bar_mappable(y) &&
			    PFN(x->guest_addr) <= PFN(y->guest_addr + y->size - 1) &&
			    PFN(y->guest_addr) <= PFN(x->guest_addr + x->size - 1))
				return true;
		}
	return false;
}

/* Fixed profile, pci_lock held for write: the ops in flight on c->d's
 * other devices that share a page with p are finished now, so that what
 * follows judges those pages by an `enabled` that no longer changes. */
static void drain_sharers(struct vpci_ctx *c, struct hyp_pcidev *p)
{
	unsigned int s;

	for (s = 0; s < HYP_VPCI_SLOTS; s++) {
		struct hyp_pcidev *q = c->d->vslot[s];

		if (q && q != p && q->vpci && q->vpci->op_vcpu >= 0 &&
		    share_pages(p->vpci, q->vpci))
			drain(c, q);
	}
}

/*
 * The guest frames of every BAR that is to change state go into that
 * BAR's set, less the MSI-X table and PBA pages and less every page an
 * enabled BAR of another device of the domain uses; the writing vCPU
 * does the work.  Fixed profile: an op in flight on another device that
 * shares a page is drained first, or both ops would judge the page by
 * an `enabled` about to change (two unmaps would each leave it to the
 * other).  pci_lock held for write.
 */
static int modify_bars(struct vpci_ctx *c, struct hyp_pcidev *p,
		       uint16_t cmd)
{
	struct vpci *vpci = p->vpci;
	struct hyp *h = c->h;
	bool map = cmd & PCI_CMD_MEM;
	uint64_t first, last;
	unsigned int i, j, s;
	char bdf[16];
	int r = 0;

	hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
	for (i = 0; i < 6; i++) {
		struct vpci_bar *bar = &vpci->bars[i];

		if (!bar_mappable(bar) || bar->enabled == map)
			continue;
		if (PAGE_OFF(bar->guest_addr) != PAGE_OFF(bar->addr)) {
			log_warn("%s: BAR%u at guest %#llx and host %#llx have "
				 "different page offsets: not mapped", bdf, i,
				 (unsigned long long)bar->guest_addr,
				 (unsigned long long)bar->addr);
			r = -EINVAL;
			goto fail;
		}
		first = PFN(bar->guest_addr);
		last = PFN(bar->guest_addr + bar->size - 1);
		r = hyp_ranges_add(&bar->mem, first, last, 0);
		if (r < 0)
			goto fail;
		for (j = 0; j < i; j++)
			if (vpci->bars[j].mem.n &&
			    (r = hyp_ranges_remove(&vpci->bars[j].mem, first,
						   last, 0)) < 0)
				goto fail;
	}
	for (i = 0; i < 2; i++)
		if (msix_frames(p, vpci, i, &first, &last) &&
		    (r = sets_remove(vpci, first, last)) < 0)
			goto fail;
	if (fixed(h))
		drain_sharers(c, p);
	for (s = 0; s < HYP_VPCI_SLOTS; s++) {
		struct hyp_pcidev *q = c->d->vslot[s];

		if (!q || q == p || !q->vpci)
			continue;
		for (i = 0; i < 6; i++) {
			const struct vpci_bar *qb = &q->vpci->bars[i];

			if (!bar_mappable(qb) || !qb->enabled)
				continue;
			r = sets_remove(vpci, PFN(qb->guest_addr),
					PFN(qb->guest_addr + qb->size - 1));
			if (r < 0)
				goto fail;
		}
	}
	/* defer_map: the writing vCPU does it before it returns. */
	if (c->v) {
		c->v->pending = (struct vpci_vcpu){
			.pdev = p, .cmd = cmd, .gen = vpci->gen };
		vpci->op_vcpu = (int)c->v->id;
		c->deferred = true;
		ADD(ops_deferred, 1);
	}
	return 0;
fail:
	purge_sets(vpci);
	return r;
}

/* Decoding follows the p2m: only now does the hardware see MEMORY. */
static void modify_decoding(struct hyp_pcidev *p, uint16_t cmd)
{
	struct vpci *vpci = p->vpci;
	bool map = cmd & PCI_CMD_MEM;
	unsigned int i;

	for (i = 0; i < 6; i++)
		if (bar_mappable(&vpci->bars[i]))
			vpci->bars[i].enabled = map;
	hyp_pci_cmd_write(p, cmd);
	vpci->bars_mapped = map;
}

static int map_range(struct hyp *h, struct hyp_domain *d,
		     const struct vpci_bar *bar, uint64_t first,
		     uint64_t last, bool map)
{
	uint64_t mfn = PFN(bar->addr) + (first - PFN(bar->guest_addr));
	uint64_t nr = last - first + 1;
	int r;

	if (!hyp_domain_perm_has(d, HYP_PERM_IOMEM, mfn, nr))
		return -EPERM;
	r = map ? hyp_p2m_map(&d->p2m, first, mfn, nr) :
		  hyp_p2m_unmap(&d->p2m, first, nr);
	if (r == 0)
		ADD(pages_mapped, map ? nr : 0), ADD(pages_unmapped, map ? 0 : nr);
	return r;
}

static void domain_crash(struct hyp *h, struct hyp_domain *d)
{
	__atomic_store_n(&d->crashed, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->vpci->crash_pending, 1, __ATOMIC_RELEASE);
	ADD(crashes, 1);
	hyp_vcpu_kick(h);
}

/* One slice of v's pending op with the lock held: 1 more to do, 0 done,
 * -errno the p2m refused. */
static int consume(struct hyp *h, struct hyp_domain *d, struct vpci *vpci,
		   bool map, uint64_t budget)
{
	unsigned int i;
	int r;

	for (i = 0; i < VPCI_NR_BARS; i++) {
		struct vpci_bar *bar = &vpci->bars[i];

		while (bar->mem.n) {
			uint64_t first = bar->mem.r[0].first;
			uint64_t last = bar->mem.r[0].last;

			if (budget == 0)
				return 1;
			if (last - first >= budget)
				last = first + budget - 1;
			r = map_range(h, d, bar, first, last, map);
			if (r == 0)
				r = hyp_ranges_remove(&bar->mem, first, last, 0);
			if (r < 0)
				return r;
			budget -= last - first + 1;
		}
	}
	return 0;
}

/* v's op on p is over (r: 0 done, -errno failed); the caller holds
 * pci_lock (and, unless it holds it for write, p->vpci->lock). */
static void complete(struct hyp *h, struct hyp_domain *d, struct hyp_vcpu *v,
		     struct hyp_pcidev *p, int r)
{
	struct vpci *vpci = p->vpci;
	uint16_t cmd = v->pending.cmd;
	char bdf[16];

	if (r < 0) {
		modify_decoding(p, cmd & ~PCI_CMD_MEM);
		purge_sets(vpci);
	} else {
		modify_decoding(p, cmd);
	}
	if (vpci->op_vcpu == (int)v->id)
		vpci->op_vcpu = -1;
	v->pending.pdev = NULL;
	if (r < 0) {
		hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
		log_err("domain %u: %s: %s BARs failed (%s): memory decoding "
			"off, domain crashed", d->domid, bdf,
			cmd & PCI_CMD_MEM ? "mapping" : "unmapping",
			strerror(-r));
		domain_crash(h, d);
	} else {
		ADD(ops_done, 1);
	}
}

static bool finish(struct hyp *h, struct hyp_domain *d, struct hyp_vcpu *v,
		   struct hyp_pcidev *p, int r)
{
	struct vpci *vpci = p->vpci;

	pthread_mutex_lock(&vpci->lock);
	complete(h, d, v, p, r);
	pthread_mutex_unlock(&vpci->lock);
	pci_unlock(h, d);
	return false;
}

/* Fixed profile, pci_lock held for write: the op another vCPU has in
 * flight on q is finished here and now (no other vpci lock holder can
 * exist); that vCPU finds nothing left and answers its guest. */
static void drain(struct vpci_ctx *c, struct hyp_pcidev *q)
{
	struct vpci *vpci = q->vpci;
	struct hyp *h = c->h;
	struct hyp_vcpu *o;

	if ((uint32_t)vpci->op_vcpu >= c->d->vcpus ||
	    c->d->vcpu[vpci->op_vcpu].pending.pdev != q) {
		purge_sets(vpci);	/* its vCPU dropped it already */
		vpci->op_vcpu = -1;
		return;
	}
	o = &c->d->vcpu[vpci->op_vcpu];
	complete(h, c->d, o, q, consume(h, c->d, vpci,
					 o->pending.cmd & PCI_CMD_MEM,
					 UINT64_MAX));
	ADD(ops_drained, 1);
}

static bool drop(struct hyp *h, struct hyp_domain *d, struct hyp_vcpu *v,
		 const char *why)
{
	log_debug("domain %u vCPU %u: pending BAR map/unmap dropped: %s",
		  d->domid, v->id, why);
	v->pending.pdev = NULL;
	ADD(ops_dropped, 1);
	pci_unlock(h, d);
	return false;
}

/*
 * vpci_process_pending: one slice.  Fixed: under the read lock, the op
 * is revalidated first (vpci gone, owner changed or a new vpci since:
 * dropped, the device untouched).  Historic: taken at face value.
 */
bool hyp_vpci_process_pending(struct hyp *h, struct hyp_domain *d,
			      struct hyp_vcpu *v)
{
	struct hyp_pcidev *p;
	struct vpci *vpci;
	int r;

	pci_rlock(h, d);
	p = v->pending.pdev;
	if (!p) {
		pci_unlock(h, d);
		return false;
	}
	if (!alive(h, &p->magic, HYP_PDEV_ALIVE, v, "pdev"))
		return drop(h, d, v, "the device was freed");
	/* The owner first: p->vpci is guarded by its owner's pci_lock, which
	 * is ours only while we own it (Xen reads pdev->vpci first, under
	 * the lock of a domain that may no longer own the device). */
	if (fixed(h) && owner_of(p) != d->domid)
		return drop(h, d, v, "the device changed owner");
	vpci = p->vpci;
	if (!fixed(h) && !vpci) {
		ADD(null_vpci, 1);
		log_err("domain %u vCPU %u: pending op on a device whose vpci "
			"was freed (Xen 4.17 dereferences NULL here)",
			d->domid, v->id);
		return drop(h, d, v, "pdev->vpci is NULL");
	}
	if (!fixed(h) && !alive(h, &vpci->magic, VPCI_ALIVE, v, "vpci"))
		return drop(h, d, v, "the vpci was freed");
	if (fixed(h)) {
		if (!vpci)
			return drop(h, d, v, "vPCI detached");
		if (vpci->gen != v->pending.gen)
			return drop(h, d, v, "the device was reset");
	}
	r = consume(h, d, vpci, v->pending.cmd & PCI_CMD_MEM,
		    __atomic_load_n(&h->vpci->slice, __ATOMIC_RELAXED));
	if (r > 0) {
		ADD(slices, 1);
		pci_unlock(h, d);
		return true;
	}
	return finish(h, d, v, p, r);
}

/* The guest's accesses ---------------------------------------------------------- */

static bool access_ok(uint32_t reg, uint32_t size, uint32_t limit)
{
	return (size == 1 || size == 2 || size == 4) && reg < limit &&
	       reg % size == 0;
}

/* A domU's virtual SBDF to its device (d->vslot: pci_lock held). */
static struct hyp_pcidev *translate(struct hyp_domain *d, uint32_t gsbdf)
{
	struct hyp_pcidev *p;

	if (HV_SBDF_SEG(gsbdf) || HV_SBDF_BUS(gsbdf) || HV_SBDF_FN(gsbdf))
		return NULL;
	p = d->vslot[HV_SBDF_DEV(gsbdf)];
	return p && p->vpci ? p : NULL;
}

int hyp_vpci_conf_access(struct hyp *h, struct hyp_domain *d,
			 struct hyp_vcpu *v, bool write, uint32_t gsbdf,
			 uint32_t reg, uint32_t size, uint32_t *value)
{
	struct vpci_ctx c = { .h = h, .d = d, .v = v };
	struct hyp_pcidev *p;

	if (!access_ok(reg, size, HYP_CONF_SIZE) || gsbdf > 0xffffffu)
		return -EINVAL;
	if (write)
		pci_wlock(h, d);
	else
		pci_rlock(h, d);
	if (!write)
		hyp_vpci_hook(h, HYP_VP_READ_LOCKED, d->domid, v ? v->id : 0,
			      gsbdf);
	p = translate(d, gsbdf);
	if (!p) {
		if (!write)
			*value = size_mask(size);
		pci_unlock(h, d);
		return 0;
	}
	pthread_mutex_lock(&p->vpci->lock);
	if (write)
		hyp_vpci_write_regs(&c, p, reg, size, *value);
	else
		*value = hyp_vpci_read_regs(&c, p, reg, size);
	pthread_mutex_unlock(&p->vpci->lock);
	pci_unlock(h, d);
	if (c.deferred)
		hyp_vpci_hook(h, HYP_VP_DEFERRED, d->domid, v->id, gsbdf);
	return 0;
}

/* A guest's memory access: through the p2m to a device's BAR. */
int hyp_vpci_mmio_access(struct hyp *h, struct hyp_domain *d, bool write,
			 uint64_t gaddr, uint32_t size, uint64_t *value)
{
	uint64_t all = size == 8 ? UINT64_MAX : size_mask(size);
	uint64_t mfn, haddr;
	unsigned int i, b;
	int r = 0;

	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    gaddr % size)
		return -EINVAL;
	if (!hyp_p2m_lookup(&d->p2m, PFN(gaddr), &mfn)) {
		if (!write)
			*value = all;		/* a hole */
		return 0;
	}
	haddr = mfn << 12 | PAGE_OFF(gaddr);
	if (!write)
		*value = all;
	pthread_rwlock_rdlock(&h->pci_list_lock);
	for (i = 0; i < h->npci + h->nunplugged; i++) {
		struct hyp_pcidev *p = i < h->npci ? h->pci[i] :
				       h->unplugged[i - h->npci];

		for (b = 0; b < 6; b++) {
			const struct hv_pci_bar *hb = &p->info.bar[b];

			if (!hb->size || hb->flags & HV_BAR_IO ||
			    haddr < hb->addr || haddr - hb->addr >= hb->size)
				continue;
			r = hyp_pci_mmio(p, b, haddr - hb->addr, size, write,
					 value);
			goto out;
		}
	}
out:
	pthread_rwlock_unlock(&h->pci_list_lock);
	return r;
}

/* Lifecycle ------------------------------------------------------------------------ */

/* vpci_assign_device: p now belongs to d (PVH); pcidevs_lock held. */
int hyp_vpci_assign(struct hyp *h, struct hyp_domain *d,
		    struct hyp_pcidev *p)
{
	struct vpci *vpci;
	unsigned int s;
	char bdf[16];
	int r;

	if (!(d->flags & HV_DOMF_PVH))
		return 0;
	hv_format_bdf(p->info.sbdf, bdf, sizeof(bdf));
	if (HV_SBDF_FN(p->info.sbdf) != 0) {
		log_warn("%s: vPCI gives a domU function 0 only: not assigned "
			 "to domain %u", bdf, d->domid);
		return -EOPNOTSUPP;
	}
	vpci = hyp_vpci_alloc(h);
	if (!vpci)
		return -ENOMEM;
	pci_wlock(h, d);
	for (s = 0; s < HYP_VPCI_SLOTS && d->vslot[s]; s++)
		;
	if (s == HYP_VPCI_SLOTS) {
		r = -ENOSPC;
		goto fail;
	}
	vpci->guest_sbdf = HV_SBDF(0, 0, s, 0);
	r = init_header(h, p, vpci);
	if (r < 0)
		goto fail;
	p->vpci = vpci;
	d->vslot[s] = p;
	pci_unlock(h, d);
	log_info("%s: vPCI for domain %u at 0000:00:%02x.0", bdf, d->domid,
		 s);
	return 0;
fail:
	pci_unlock(h, d);
	log_warn("%s: vPCI for domain %u: %s", bdf, d->domid, strerror(-r));
	hyp_vpci_free(h, vpci);
	return r;
}

/* Every host frame of p's BARs out of d's p2m, but those an enabled BAR
 * of another device of d shares (pci_lock held for write).  An op in
 * flight on such a device is drained first: a map decided while p was
 * on left the shared pages out of its set, and is not yet `enabled`. */
static void purge_device(struct hyp *h, struct hyp_domain *d,
			 struct hyp_pcidev *p)
{
	struct vpci_ctx c = { .h = h, .d = d };
	struct hyp_ranges keep = { 0 };
	unsigned int i, s;
	size_t k;

	drain_sharers(&c, p);
	for (i = 0; i < 6; i++) {
		const struct vpci_bar *b = &p->vpci->bars[i];

		if (bar_mappable(b))
			hyp_ranges_add(&keep, PFN(b->addr),
				       PFN(b->addr + b->size - 1), 0);
	}
	for (s = 0; s < HYP_VPCI_SLOTS; s++) {
		struct hyp_pcidev *q = d->vslot[s];

		for (i = 0; q && q != p && q->vpci && i < 6; i++) {
			const struct vpci_bar *b = &q->vpci->bars[i];

			if (bar_mappable(b) && b->enabled)
				hyp_ranges_remove(&keep, PFN(b->addr),
						  PFN(b->addr + b->size - 1), 0);
		}
	}
	for (k = 0; k < keep.n; k++)
		p2m_purge_mfns(&d->p2m, keep.r[k].first,
			       keep.r[k].last - keep.r[k].first + 1);
	hyp_ranges_free(&keep);
}

/* pci_lock held for write (or none, historic). */
static void detach(struct hyp *h, struct hyp_domain *d, struct hyp_pcidev *p)
{
	struct vpci *vpci = p->vpci;
	unsigned int s;

	if (!vpci)
		return;
	for (s = 0; s < HYP_VPCI_SLOTS; s++)
		if (d->vslot[s] == p)
			d->vslot[s] = NULL;
	/* Fixed: nothing of the device stays in the guest's p2m, whatever a
	 * dropped op left half done (Xen leaves it to the dying guest),
	 * except host pages another enabled BAR of the domain uses. */
	if (fixed(h))
		purge_device(h, d, p);
	pthread_mutex_lock(&vpci->lock);
	p->vpci = NULL;
	pthread_mutex_unlock(&vpci->lock);
	hyp_vpci_free(h, vpci);
}

void hyp_vpci_deassign(struct hyp *h, struct hyp_domain *d,
		       struct hyp_pcidev *p)
{
	if (!p->vpci)
		return;
	pci_wlock(h, d);
	detach(h, d, p);
	pci_unlock(h, d);
}

/* vpci_reset_device: deassign + assign under one write lock, after the
 * hardware reset (pcidevs_lock held). */
void hyp_vpci_reset(struct hyp *h, struct hyp_pcidev *p)
{
	struct hyp_domain *d = hyp_domain_get(h, p->info.owner);
	struct vpci *vpci;
	unsigned int s;
	uint32_t gsbdf;

	if (!p->vpci || !d)
		return;
	vpci = hyp_vpci_alloc(h);
	pci_wlock(h, d);
	gsbdf = p->vpci->guest_sbdf;
	detach(h, d, p);
	s = HV_SBDF_DEV(gsbdf);
	if (vpci) {
		vpci->guest_sbdf = gsbdf;
		if (init_header(h, p, vpci) == 0) {
			p->vpci = vpci;
			d->vslot[s] = p;
			vpci = NULL;
		}
	}
	pci_unlock(h, d);
	if (vpci) {
		log_warn("domain %u: vPCI of a reset device not restored",
			 d->domid);
		hyp_vpci_free(h, vpci);
	}
}

void hyp_vpci_hw_foreign(struct hyp_pcidev *p)
{
	p->vpci->hw_foreign = true;
}

/* p goes away: the fixed profile clears every vCPU's reference to it,
 * each domain under its own write lock.  pcidevs_lock held. */
void hyp_vpci_forget(struct hyp *h, struct hyp_pcidev *p)
{
	uint32_t i, n;

	if (!fixed(h))
		return;
	for (i = 0; i < h->dom_end; i++) {
		struct hyp_domain *d = h->dom[i];

		if (!d || !d->vcpu)
			continue;
		pci_wlock(h, d);
		for (n = 0; n < d->vcpus; n++)
			if (d->vcpu[n].pending.pdev == p) {
				d->vcpu[n].pending.pdev = NULL;
				ADD(ops_cancelled, 1);
			}
		pci_unlock(h, d);
	}
}

int hyp_vpci_info(struct hyp *h, uint32_t domid, uint32_t sbdf,
		  struct hv_vpci_info *ret)
{
	struct hyp_domain *d = hyp_domain_get(h, domid);
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	unsigned int i;
	int r = -ENODEV;

	if (!d)
		return -ESRCH;
	if (!p || !(d->flags & HV_DOMF_PVH))
		return -ENODEV;
	memset(ret, 0, sizeof(*ret));
	pci_rlock(h, d);
	if (owner_of(p) == domid && p->vpci) {
		pthread_mutex_lock(&p->vpci->lock);
		ret->domid = domid;
		ret->sbdf = sbdf;
		ret->guest_sbdf = p->vpci->guest_sbdf;
		ret->guest_cmd = p->vpci->guest_cmd;
		ret->bars_mapped = p->vpci->bars_mapped;
		ret->pending = p->vpci->op_vcpu >= 0;
		for (i = 0; i < 6; i++)
			ret->bar_gaddr[i] = p->vpci->bars[i].guest_addr;
		pthread_mutex_unlock(&p->vpci->lock);
		r = 0;
	}
	pci_unlock(h, d);
	return r;
}

/* Invariants ------------------------------------------------------------------------ */

#define VIOLATION(...) do { snprintf(err, errlen, __VA_ARGS__); \
			    return -EUCLEAN; } while (0)

static bool mapped_to(struct hyp_p2m *m, uint64_t gfn, uint64_t mfn)
{
	uint64_t got;

	return hyp_p2m_lookup(m, gfn, &got) && got == mfn;
}

/* Is gfn inside an enabled BAR of a device of d other than p? */
static bool used_elsewhere(struct hyp_domain *d, struct hyp_pcidev *p,
			   unsigned int bar_no, uint64_t gfn)
{
	unsigned int s, i;

	for (s = 0; s < HYP_VPCI_SLOTS; s++) {
		struct hyp_pcidev *q = d->vslot[s];

		if (!q || !q->vpci)
			continue;
		for (i = 0; i < 6; i++) {
			const struct vpci_bar *b = &q->vpci->bars[i];

			if ((q == p && i == bar_no) || !bar_mappable(b) ||
			    !b->enabled)
				continue;
			if (gfn >= PFN(b->guest_addr) &&
			    gfn <= PFN(b->guest_addr + b->size - 1))
				return true;
		}
	}
	return false;
}

static int check_device(struct hyp *h, struct hyp_domain *d,
			struct hyp_pcidev *p, unsigned int slot, char *err,
			size_t errlen)
{
	struct vpci *vpci = p->vpci;
	uint64_t gfn, first[2], last[2], mfn;
	bool has[2];
	unsigned int i, k;
	size_t j;
	uint16_t hw;

	if (!vpci)
		VIOLATION("domain %u slot %u: device without vpci", d->domid,
			  slot);
	if (vpci->magic != VPCI_ALIVE || p->magic != HYP_PDEV_ALIVE)
		VIOLATION("domain %u slot %u: freed object in use", d->domid,
			  slot);
	if (owner_of(p) != d->domid)
		VIOLATION("domain %u slot %u: owned by %u", d->domid, slot,
			  owner_of(p));
	if (vpci->guest_sbdf != HV_SBDF(0, 0, slot, 0))
		VIOLATION("domain %u slot %u: guest SBDF %#x", d->domid, slot,
			  vpci->guest_sbdf);
	for (j = 0; j < vpci->nregs; j++) {		/* sorted, disjoint */
		const struct vpci_register *r = &vpci->regs[j];

		if (j && vpci->regs[j - 1].offset + vpci->regs[j - 1].size >
			 r->offset)
			VIOLATION("slot %u: handlers overlap at %#x", slot,
				  r->offset);
		if ((r->ro_mask & r->rw1c_mask) || (r->ro_mask & r->rsvdp_mask) ||
		    (r->rsvdp_mask & r->rsvdz_mask))
			VIOLATION("slot %u: masks of %#x intersect", slot,
				  r->offset);
	}
	if (vpci->op_vcpu >= 0) {
		if ((uint32_t)vpci->op_vcpu >= d->vcpus ||
		    d->vcpu[vpci->op_vcpu].pending.pdev != p)
			VIOLATION("domain %u slot %u: op of vCPU %d lost",
				  d->domid, slot, vpci->op_vcpu);
		return 0;	/* in flight: the p2m is half way */
	}
	for (i = 0; i < 6; i++)
		if (vpci->bars[i].mem.n)
			VIOLATION("domain %u slot %u: BAR%u has frames pending "
				  "with no op", d->domid, slot, i);
	hw = (uint16_t)hyp_pci_hw_read(p, PCI_CMD, 2);		/* decoding */
	if (!vpci->hw_foreign && !!(hw & PCI_CMD_MEM) != vpci->bars_mapped)
		VIOLATION("domain %u slot %u: hardware MEMORY %u, bars_mapped "
			  "%u", d->domid, slot, !!(hw & PCI_CMD_MEM),
			  vpci->bars_mapped);
	for (k = 0; k < 2; k++)		/* the same for every page below */
		has[k] = msix_frames(p, vpci, k, &first[k], &last[k]);
	for (i = 0; i < 6; i++) {				/* the p2m */
		const struct vpci_bar *b = &vpci->bars[i];
		bool hole;

		if (!bar_mappable(b))
			continue;
		for (gfn = PFN(b->guest_addr);
		     gfn <= PFN(b->guest_addr + b->size - 1); gfn++) {
			mfn = PFN(b->addr) + (gfn - PFN(b->guest_addr));
			hole = false;
			for (k = 0; k < 2; k++)
				if (has[k] && gfn >= first[k] &&
				    gfn <= last[k])
					hole = true;
			if (hole) {
				if (hyp_p2m_lookup(&d->p2m, gfn, &mfn))
					VIOLATION("domain %u slot %u: MSI-X page "
						  "%#llx mapped", d->domid,
						  slot,
						  (unsigned long long)gfn);
				continue;
			}
			if (b->enabled && !mapped_to(&d->p2m, gfn, mfn) &&
			    !used_elsewhere(d, p, i, gfn))
				VIOLATION("domain %u slot %u: BAR%u enabled but "
					  "gfn %#llx not mapped", d->domid,
					  slot, i, (unsigned long long)gfn);
			if (!b->enabled && mapped_to(&d->p2m, gfn, mfn) &&
			    !used_elsewhere(d, p, i, gfn))
				VIOLATION("domain %u slot %u: BAR%u disabled "
					  "but gfn %#llx mapped", d->domid,
					  slot, i, (unsigned long long)gfn);
		}
	}
	return 0;
}

static int check_domain(struct hyp *h, struct hyp_domain *d, char *err,
			size_t errlen)
{
	unsigned int s, i, n;
	int r;

	for (s = 0; s < HYP_VPCI_SLOTS; s++)		/* slots */
		if (d->vslot[s] && (r = check_device(h, d, d->vslot[s], s,
						      err, errlen)) < 0)
			return r;
	for (n = 0; n < d->vcpus; n++) {		/* pending ops */
		struct hyp_pcidev *p = d->vcpu[n].pending.pdev;
		bool live = false;

		if (!p)
			continue;
		for (i = 0; i < h->npci; i++)
			live |= h->pci[i] == p;
		if (!live)
			VIOLATION("domain %u vCPU %u: pending op on a device "
				  "that is gone", d->domid, n);
	}
	for (i = 0; i < h->npci; i++) {
		struct hyp_pcidev *p = h->pci[i];

		if (p->vpci && owner_of(p) == d->domid &&
		    d->vslot[HV_SBDF_DEV(p->vpci->guest_sbdf)] != p)
			VIOLATION("domain %u: %#x has vpci but no slot",
				  d->domid, p->info.sbdf);
	}
	return 0;
}

int hyp_vpci_check(struct hyp *h, char *err, size_t errlen)
{
	uint32_t i;
	int r = 0;

	pthread_mutex_lock(&h->pcidevs_lock);
	for (i = 0; i < h->npci; i++) {
		struct hyp_pcidev *p = h->pci[i];
		struct hyp_domain *d = hyp_domain_get(h, p->info.owner);

		if (p->vpci && (!d || !d->vcpu)) {
			snprintf(err, errlen, "%#x: vpci without a PVH owner",
				 p->info.sbdf);
			r = -EUCLEAN;
			goto out;
		}
	}
	for (i = 0; i < h->dom_end && r == 0; i++) {
		struct hyp_domain *d = h->dom[i];

		if (!d || !d->vcpu || __atomic_load_n(&d->crashed,
						      __ATOMIC_ACQUIRE))
			continue;
		pci_wlock(h, d);
		r = check_domain(h, d, err, errlen);
		pci_unlock(h, d);
	}
out:
	pthread_mutex_unlock(&h->pcidevs_lock);
	return r;
}
