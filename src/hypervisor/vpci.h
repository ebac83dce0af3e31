/* SPDX-License-Identifier: MIT */
/*
 * vPCI's structures (vpci.c) and the vCPU (vcpu.c): what Xen keeps in
 * struct vpci, struct vpci_vcpu and the register handler list, as
 * docs/protocol.md ("vPCI") describes them.  Unit tests include this to
 * drive the handler list directly.
 */
#ifndef XPT_VPCI_H
#define XPT_VPCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor.h"

#define VPCI_NR_BARS 7			/* 6 + the expansion ROM */
#define VPCI_ALIVE 0x76706369u		/* "vpci" */
#define VPCI_DEFAULT_SLICE 64u		/* pages per slice */

enum vpci_bar_type {
	VPCI_BAR_EMPTY,
	VPCI_BAR_IO,
	VPCI_BAR_MEM32,
	VPCI_BAR_MEM64_LO,
	VPCI_BAR_MEM64_HI,
	VPCI_BAR_ROM,
};

struct vpci_bar {
	uint64_t addr;			/* host */
	uint64_t guest_addr;
	uint64_t size;
	uint8_t type;			/* enum vpci_bar_type */
	bool prefetchable;
	bool enabled;			/* in the owner's p2m */
	struct hyp_ranges mem;		/* guest frames to map/unmap */
};

/* What a handler runs in: Xen's `current`, made explicit. */
struct vpci_ctx {
	struct hyp *h;
	struct hyp_domain *d;
	struct hyp_vcpu *v;		/* NULL: not a vCPU (assign, tests) */
	bool deferred;			/* a write deferred a map/unmap */
};

struct vpci_register;
typedef uint32_t vpci_read_fn(struct vpci_ctx *c, struct hyp_pcidev *p,
			      const struct vpci_register *r);
typedef void vpci_write_fn(struct vpci_ctx *c, struct hyp_pcidev *p,
			   const struct vpci_register *r, uint32_t val);

struct vpci_register {
	vpci_read_fn *read;		/* NULL: reads all-ones */
	vpci_write_fn *write;		/* NULL: writes ignored */
	unsigned int offset, size;
	void *priv;
	uint32_t ro_mask, rw1c_mask, rsvdp_mask, rsvdz_mask;
};

struct vpci {
	uint32_t magic;			/* VPCI_ALIVE */
	pthread_mutex_t lock;		/* the registers' state */
	struct vpci_register *regs;	/* sorted by offset, disjoint */
	size_t nregs;
	struct vpci_bar bars[VPCI_NR_BARS];
	uint16_t guest_cmd;		/* the domU's PCI_COMMAND */
	bool rom_enabled;
	bool bars_mapped;		/* decoding as vPCI set it */
	uint32_t guest_sbdf;
	uint64_t gen;			/* unique per vpci ever allocated */
	int op_vcpu;			/* vCPU whose map/unmap of this device
					 * is in flight, -1 none (lock) */
	bool hw_foreign;		/* dom0 wrote COMMAND or reset the
					 * function behind vPCI's back (epoll
					 * thread): decoding may differ */
};

/* One pending map/unmap per vCPU (Xen's struct vpci_vcpu); read and
 * written under the vCPU's domain's pci_lock, by that vCPU in any mode,
 * by anyone else for write. */
struct vpci_vcpu {
	struct hyp_pcidev *pdev;	/* NULL: nothing pending */
	uint16_t cmd;
	bool rom_only;
	uint64_t gen;			/* pdev->vpci->gen when deferred */
};

enum hyp_vcpu_state { VCPU_IDLE, VCPU_QUEUED, VCPU_BUSY, VCPU_ANSWERED };

struct hyp_vcpu {
	struct hyp *h;
	struct hyp_domain *d;
	uint32_t id;
	struct vcpu_thread *thread;	/* vcpu.c: running it */
	bool started;
	pthread_mutex_t lock;		/* state, io, tag, seq */
	pthread_cond_t cond;
	uint8_t state;			/* enum hyp_vcpu_state */
	int stop;			/* atomic */
	uint64_t tag;
	uint32_t seq;
	struct hyp_vreq io;
	struct vpci_vcpu pending;
};

struct hyp_vpci_state {
	enum hyp_vpci_profile profile;
	unsigned int slice;		/* atomic */
	hyp_vpci_hook_fn *hook;
	void *hook_arg;
	struct hyp_vpci_stats stats;	/* atomic counters */
	uint64_t next_gen;		/* atomic */
	unsigned int npvh;		/* PVH domains (epoll thread) */
	bool check_each_op;		/* io.c: hyp_vpci_check after each */
	int crash_pending;		/* atomic: hyp_vcpu_service has work */
	pthread_mutex_t qlock;		/* the quarantine of freed objects */
	void *quarantine[64];
	unsigned int qn, qhead;
};

/* The handler list (Xen's vpci_add_register rules; tests drive it). */
int hyp_vpci_add_register(struct vpci *vpci, vpci_read_fn *read,
			  vpci_write_fn *write, unsigned int offset,
			  unsigned int size, void *priv, uint32_t ro_mask,
			  uint32_t rw1c_mask, uint32_t rsvdp_mask,
			  uint32_t rsvdz_mask);
int hyp_vpci_remove_registers(struct vpci *vpci, unsigned int start,
			      unsigned int size);
/* Dispatch over the list: gaps read all-ones, are not written. */
uint32_t hyp_vpci_read_regs(struct vpci_ctx *c, struct hyp_pcidev *p,
			    unsigned int reg, unsigned int size);
void hyp_vpci_write_regs(struct vpci_ctx *c, struct hyp_pcidev *p,
			 unsigned int reg, unsigned int size, uint32_t val);
struct vpci *hyp_vpci_alloc(struct hyp *h);
void hyp_vpci_free(struct hyp *h, struct vpci *vpci);

/* The p2m (vpci.c) */
int hyp_p2m_map(struct hyp_p2m *m, uint64_t gfn, uint64_t mfn, uint64_t nr);
int hyp_p2m_unmap(struct hyp_p2m *m, uint64_t gfn, uint64_t nr);
bool hyp_p2m_lookup(struct hyp_p2m *m, uint64_t gfn, uint64_t *ret_mfn);

#endif
