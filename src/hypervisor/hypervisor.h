/* SPDX-License-Identifier: MIT */
/*
 * xpt-hypervisor: the map.  One struct hyp holds the whole model (domains,
 * event channels, grant tables, PIRQs, host PCI devices and their config
 * spaces, IOMMU ownership); every operation is a hyp_* function returning
 * 0 or -errno, callable in-process (unit tests) or through the sockets
 * (io.c dispatches hvproto.h messages to them).
 *
 * Files: hypervisor.c (main), io.c (sockets, epoll, dispatch table),
 * domain.c (domains, VIRQ_DOM_EXC), evtchn.c, gnttab.c, ranges.c (range
 * sets), perm.c (iomem, ioport, irq permissions), hostfile.c (host file
 * and sysfs), pci.c (config space, BARs, MSI-X table, reset, raised
 * interrupts), iommu.c (assign, quarantine), irq.c (PIRQs, MSI/MSI-X
 * state as Xen keeps it, pass-through IRQ bindings), ioreq.c (HVM: ioreq
 * servers, routing of guest port and MMIO accesses), vpci.c (PVH: vPCI,
 * the config-space traps and deferred BAR mapping into the p2m; its
 * structures in vpci.h), vcpu.c (PVH: one thread per vCPU, the guest's
 * accesses run there).
 *
 * Threads: everything runs on the epoll thread (io.c) except a PVH
 * guest's config and MMIO accesses, which run on that vCPU's thread.
 * What both touch is locked, in this order (never backwards):
 *   h->pcidevs_lock > d->pci_lock (rwlock) > vpci->lock > p->hw_lock
 *   h->pci_list_lock (rwlock) > p->hw_lock;  d->p2m.lock, d->perm_lock
 *   are leaves.
 * The epoll thread is the only writer of h->pci[] and h->dom[]; it
 * reads them unlocked, vCPU threads never read h->dom[] and read
 * h->pci[] under pci_list_lock.  vpci.c's head comment has the rest.
 */
#ifndef XPT_HYPERVISOR_H
#define XPT_HYPERVISOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvclient.h"	/* hvproto.h, hv_parse_bdf, hv_format_bdf */

#define HYP_DOMID_MAX 0x7FF0u		/* DOMID_FIRST_RESERVED */
#define HYP_NR_PORTS 1024u		/* ports 1 .. 1023; 0 is invalid */
#define HYP_NR_GRANTS 1024u
#define HYP_GREF_FIRST 8u		/* GNTTAB_NR_RESERVED_ENTRIES */
#define HYP_NR_PIRQS 1024u
#define HYP_PIRQ_GSI_MAX 256u		/* GSI pirqs below, MSI pirqs above */
#define HYP_PCI_MAX 4096u		/* host PCI functions, max */
#define HYP_CONF_SIZE 4096u
#define HYP_HVM_VCPUS 128u		/* vCPUs with an ioreq slot */
#define HYP_NO_DOMID 0xFFFFFFFFu	/* no target; a dead emulator */
#define HYP_PVH_VCPUS 32u		/* vCPU threads of a PVH domain, max */
#define HYP_VPCI_SLOTS 32u		/* VPCI_MAX_VIRT_DEV */

/* Standard config-space registers and bits used by the model. */
#define PCI_CMD 0x04
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_BAR0 0x10
#define PCI_ROM 0x30
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_EXT_CAP_ID_SRIOV 0x0010
#define MSI_FLAGS_ENABLE 0x0001
#define MSI_FLAGS_QMASK 0x000e		/* multiple message capable */
#define MSI_FLAGS_QSIZE 0x0070		/* multiple message enable */
#define MSI_FLAGS_64BIT 0x0080
#define MSIX_FLAGS_QSIZE 0x07ff
#define MSIX_FLAGS_MASKALL 0x4000
#define MSIX_FLAGS_ENABLE 0x8000
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_CTRL_MASKBIT 1u
#define EXP_DEVCAP_FLR (1u << 28)
#define EXP_DEVCTL_BCR_FLR 0x8000

enum hyp_reset { HYP_RESET_NONE, HYP_RESET_FLR, HYP_RESET_PM, HYP_RESET_BUS };

enum hyp_port_state {
	PORT_FREE,
	PORT_UNBOUND,		/* alloc_unbound: waits for remote_domid */
	PORT_INTERDOMAIN,	/* linked to remote_domid:remote_port */
	PORT_PIRQ,		/* bound to pirq (-1: force-unbound) */
	PORT_VIRQ,		/* VIRQ_DOM_EXC (dom0 only) */
};

struct hyp_port {
	uint8_t state;		/* enum hyp_port_state */
	uint32_t remote_domid;
	uint32_t remote_port;
	int pirq;
	int efd;		/* eventfd, from allocation: nothing lost */
};

struct hyp_grant {
	bool in_use;
	bool readonly;
	uint32_t grantee;
	uint32_t maps;		/* the grantee's current mappings */
	int memfd;
};

/* A pirq bound to the guest's virtual interrupt (Xen's hvm_pirq_dpci). */
struct hyp_dpci {
	bool bound;
	uint8_t type;		/* enum hv_pt_irq_type */
	uint8_t bus, device, intx, gvec;
	uint32_t gflags;
	uint64_t gtable;
	uint32_t fired;
};

struct hyp_pirq {
	bool in_use;
	uint8_t type;		/* enum hv_irq_type */
	uint32_t sbdf;
	uint32_t entry;
	uint32_t gsi;		/* INTx */
	uint32_t port;		/* bound event channel, 0 = none */
	struct hyp_dpci pt;	/* bind_pt_irq (HVM) */
};

/* A set of [first, last] ranges (iomem frames, ioports, pirqs). */
struct hyp_ranges {
	struct hyp_range { uint64_t first, last; } *r;
	size_t n;
};

enum hyp_perm_kind { HYP_PERM_IOMEM, HYP_PERM_IOPORT, HYP_PERM_IRQ };

/* An ioreq server (ioreq.c).  serial is unique over the daemon's life, so
 * a request sent to a destroyed server never matches a new one that got
 * the same id. */
struct hyp_ioreq_server {
	uint32_t id;
	uint32_t serial;
	uint32_t emulator;	/* the creating domain; HYP_NO_DOMID once dead */
	bool enabled;
	uint8_t bufioreq;
	int efd;		/* eventfd: a request is READY */
	struct hyp_ranges range[HV_IO_RANGE_TYPES];
};

/* A vCPU's synchronous ioreq slot.  HYP_VIO_HELD: issued while the
 * domain was not running, routed when it runs again. */
#define HYP_VIO_HELD 0x10
struct hyp_vcpu_io {
	uint8_t state;		/* enum hv_ioreq_state or HYP_VIO_HELD */
	uint32_t serial;	/* the server it was sent to */
	struct hv_ioreq req;
	struct hv_hvm_io held;
};

/* What an HVM domain has beyond a PV one. */
struct hyp_hvm {
	uint32_t cf8;		/* last dword written to port 0xcf8 */
	struct hyp_ioreq_server *srv[HV_IOREQ_MAX_SERVERS];
	struct hyp_vcpu_io vio[HYP_HVM_VCPUS];
	int vec_fd[256];	/* HV_OP_HVM_VECTOR_FD: eventfds, -1 none */
	uint16_t isa_level;	/* ISA IRQ lines asserted, bit per line */
	int isa_fd[HV_ISA_IRQS];	/* HV_OP_HVM_ISA_IRQ_FD, -1 none */
	bool dm_ready;		/* some server of it was ever enabled */
	uint64_t io_early;	/* accesses before any server was enabled */
	uint64_t io_no_server;	/* accesses with none enabled any more */
};

/* A PVH domain's p2m: guest frames mapped to host (device) frames,
 * sorted by gfn, never overlapping.  Memory (RAM) is not modelled: a
 * gfn with no entry is an unpopulated hole. */
struct hyp_p2m {
	pthread_mutex_t lock;
	struct hyp_p2m_ent { uint64_t gfn, mfn, nr; } *e;
	size_t n, cap;
};

struct hyp_vcpu;
struct vpci;

struct hyp_domain {
	uint32_t domid;
	uint32_t flags;		/* hv_domain_flags */
	uint32_t state;		/* hv_domain_state */
	uint32_t shutdown_reason;
	uint32_t pause_count;
	uint64_t memory_kb;
	uint32_t vcpus;
	char name[64];
	/* ports[0 .. nports - 1], grants[0 .. ngrants - 1]: grown (to at
	 * most HYP_NR_PORTS, HYP_NR_GRANTS) when none below the end is free;
	 * one at or past the end is free.  A domain holds what it used at
	 * most at once, not Xen's limits, and the loops over them (its
	 * destruction, VIRQ_DOM_EXC on every domain change) stop there. */
	struct hyp_port *ports;
	uint32_t nports;
	struct hyp_grant *grants;
	uint32_t ngrants;
	/* [HYP_NR_PIRQS] from the first map (hyp_map_pirq); NULL: none
	 * mapped yet (hyp_pirq_used) */
	struct hyp_pirq *pirqs;
	struct hyp_ranges perm[3];	/* enum hyp_perm_kind */
	uint32_t target;	/* set_target: device model of; HYP_NO_DOMID */
	struct hyp_hvm *hvm;	/* HV_DOMF_HVM only */
	int listen_fd;		/* hv/domain/<domid>, -1 in-process */
	char *sock_path;
	pthread_mutex_t perm_lock;	/* perm[]: vCPU threads check iomem */
	/* PVH only (vpci.c, vcpu.c) */
	pthread_rwlock_t pci_lock;	/* vslot[] and every pdev->vpci of
					 * its devices (Xen's d->pci_lock) */
	struct hyp_pcidev *vslot[HYP_VPCI_SLOTS];	/* virtual 00:dd.0 */
	struct hyp_vcpu *vcpu;		/* [vcpus], threads running */
	struct hyp_p2m p2m;
	int crashed;			/* atomic: a vCPU crashed it */
};

/* Who an MSI / MSI-X vector of a device is mapped for. */
struct hyp_vecmap {
	uint32_t domid;
	int pirq;		/* -1: not mapped */
};

struct hyp_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

#define HYP_PDEV_ALIVE 0x70646576u	/* "pdev" */
#define HYP_OBJ_DEAD 0xdeadbeefu	/* freed, quarantined (vpci.c) */

struct hyp_pcidev {
	uint32_t magic;			/* HYP_PDEV_ALIVE */
	struct hv_pci_dev info;		/* description; info.owner is live
					 * (atomic: vCPU threads read it) */
	unsigned int line;		/* host file line (0 = sysfs) */
	bool pcie;
	bool quarantine;		/* assigned to DOMID_IO once */
	uint8_t msi_vectors;		/* 1..32, 0 = no MSI */
	uint8_t pm_pos, msi_pos, msix_pos, pcie_pos;
	uint16_t sriov_pos;
	uint8_t msix_table_bar, msix_pba_bar;
	uint32_t msix_table_off, msix_pba_off;
	uint32_t vf_device;
	uint32_t vf_offset, vf_stride;
	uint8_t conf[HYP_CONF_SIZE];
	uint8_t wmask[HYP_CONF_SIZE];	/* bits dom0 may write */
	uint32_t bar_mask[6];		/* address bits of each BAR dword */
	struct hyp_msix_entry *msix_tab;
	struct hyp_vecmap *msix_map;	/* per table entry */
	struct hyp_vecmap msi_map[32];
	/* Xen's struct arch_msix, the parts that matter. */
	uint32_t used_entries;		/* mapped vectors + 1 if prepared */
	bool prepared;
	bool host_maskall;
	bool guest_maskall;
	/* The hardware: conf[] and the MSI-X table are read and written
	 * under hw_lock once a vCPU thread may see the device. */
	pthread_mutex_t hw_lock;
	uint32_t mmio_scratch[6];	/* BARn offset 4: keeps a write */
	bool has_mmio_id;		/* host file mmio-id= */
	uint32_t mmio_id;		/* BARn offset 0 (default: the IDs) */
	uint8_t rmrr;			/* host file rmrr=N: shares VT-d RMRR N
					 * (1..255) with the others that name
					 * it; 0 none */
	struct vpci *vpci;		/* owner's pci_lock; NULL: none */
};

struct hyp_conn;

struct hyp {
	char *rundir;			/* NULL: in-process, no sockets */
	int epfd;
	int sigfd;
	int control_fd;
	char *control_path;
	char *pid_path;
	struct hyp_conn *conns;
	unsigned int ndead;		/* conns killed, not yet swept */
	unsigned int nwait;		/* conns holding an HVM_IO reply */
	bool stop;
	bool quarantine;		/* iommu=quarantine (Xen 4.17: on) */
	bool iommu;			/* host file `xen iommu=` (Xen's
					 * iommu=): off, nothing is assigned */
	bool intremap;			/* `xen intremap=` (iommu=no-intremap) */
	uint32_t next_domid;
	uint32_t ioreq_serial;		/* last server serial handed out */
	/* dom[0 .. dom_end - 1]: NULL where there is none; loops over the
	 * domains stop at dom_end, one past the highest live domid
	 * (hyp_dom_set keeps it).  Grown with the domids in use, to at
	 * most HYP_DOMID_MAX; dom_size is its room. */
	struct hyp_domain **dom;
	uint32_t dom_end, dom_size;
	/* pci[npci], unplugged[nunplugged]: grown (pci_list_lock held for
	 * writing) to at most HYP_PCI_MAX; pci_size, unplugged_size their
	 * room */
	struct hyp_pcidev **pci;
	unsigned int pci_size;
	unsigned int npci;
	/* What PCI_DEVICE_REMOVE took from Xen's view: the hardware, still
	 * answering at its BARs, for PCI_DEVICE_ADD (pci_list_lock). */
	struct hyp_pcidev **unplugged;
	unsigned int nunplugged, unplugged_size;
	pthread_mutex_t pcidevs_lock;	/* device ownership (Xen's) */
	pthread_rwlock_t pci_list_lock;	/* pci[], npci against vCPUs */
	struct hyp_vpci_state *vpci;	/* vpci.c: profile, hooks, stats */
	struct hyp_vcpu_done *done;	/* vcpu.c: answers for io.c */
	pthread_mutex_t done_lock;
	int done_efd;			/* eventfd: done is not empty */
	uint64_t conn_serial;		/* io.c: last connection id */
	int evlog_fd;			/* evlog.c: --event-log, -1 none */
};

/* hypervisor.c / lifecycle (domain.c) */
int hyp_new(struct hyp **ret);
void hyp_free(struct hyp *h);

/* evlog.c: --event-log; dispatch calls hyp_evlog_before ahead of an op
 * and hyp_evlog_op after one that succeeded */
int hyp_evlog_open(struct hyp *h, const char *path);
void hyp_evlog_close(struct hyp *h);
uint32_t hyp_evlog_before(struct hyp *h, uint32_t op, const void *in);
void hyp_evlog_op(struct hyp *h, uint32_t caller, uint32_t op,
		  const void *in, const void *out, uint32_t before);

/* io.c: sockets under rundir/hv, the epoll loop, message dispatch */
int hyp_listen(struct hyp *h, const char *rundir);
int hyp_run(struct hyp *h);		/* until SIGTERM/SIGINT or h->stop */
void hyp_unlisten(struct hyp *h);
#define HYP_DEFERRED 1	/* hyp_dispatch: reply later (hyp_hvm_io_collect) */
int hyp_dispatch(struct hyp *h, uint32_t caller, bool privileged,
		 const void *msg, size_t len, int fd_in,
		 void *reply, size_t *ret_replen, int *ret_fd);
int hyp_domain_socket_open(struct hyp *h, struct hyp_domain *d);
void hyp_domain_socket_close(struct hyp *h, struct hyp_domain *d);

/* domain.c */
struct hyp_domain *hyp_domain_get(struct hyp *h, uint32_t domid);
/* d at domid (NULL: none); -ENOMEM if dom[] cannot grow to domid */
int hyp_dom_set(struct hyp *h, uint32_t domid, struct hyp_domain *d);
int hyp_domain_create(struct hyp *h, uint32_t flags, const char *name,
		      uint64_t memory_kb, uint32_t vcpus,
		      uint32_t *ret_domid);
int hyp_domain_pause(struct hyp *h, uint32_t domid);
int hyp_domain_unpause(struct hyp *h, uint32_t domid);
int hyp_domain_shutdown(struct hyp *h, uint32_t domid, uint32_t reason);
int hyp_domain_destroy(struct hyp *h, uint32_t domid);
int hyp_domain_getinfo(struct hyp *h, uint32_t domid,
		       struct hv_domain_info *ret);
/* One page of the domains from first_domid on (hvproto.h DOMAIN_LIST). */
int hyp_domain_list(struct hyp *h, uint32_t first_domid, uint32_t max,
		    struct hv_domain_list *ret);
int hyp_bind_virq_dom_exc(struct hyp *h, uint32_t *ret_port);
int hyp_domain_set_target(struct hyp *h, uint32_t domid, uint32_t target);
/* caller may act as target's device model (dom0, or its stub domain) */
bool hyp_domain_is_dm(struct hyp *h, uint32_t caller, uint32_t target);
const char *hyp_domain_state_name(uint32_t state);

/* evtchn.c */
int hyp_evtchn_alloc_unbound(struct hyp *h, uint32_t domid,
			     uint32_t remote_domid, uint32_t *ret_port);
int hyp_evtchn_bind_interdomain(struct hyp *h, uint32_t domid,
				uint32_t remote_domid, uint32_t remote_port,
				uint32_t *ret_port);
int hyp_evtchn_bind_pirq(struct hyp *h, uint32_t domid, int pirq,
			 uint32_t *ret_port);
int hyp_evtchn_alloc_virq(struct hyp *h, uint32_t domid, uint32_t *ret_port);
int hyp_evtchn_fd(struct hyp *h, uint32_t domid, uint32_t port, int *ret_fd);
int hyp_evtchn_send(struct hyp *h, uint32_t domid, uint32_t port);
int hyp_evtchn_close(struct hyp *h, uint32_t domid, uint32_t port);
void hyp_evtchn_notify(struct hyp_domain *d, uint32_t port);
void hyp_evtchn_destroy(struct hyp *h, struct hyp_domain *d);

/* gnttab.c */
int hyp_gnttab_grant(struct hyp *h, uint32_t domid, uint32_t grantee,
		     int memfd, bool readonly, uint32_t *ret_gref);
int hyp_gnttab_map(struct hyp *h, uint32_t domid, uint32_t granter,
		   uint32_t gref, int *ret_fd, bool *ret_readonly);
int hyp_gnttab_unmap(struct hyp *h, uint32_t domid, uint32_t granter,
		     uint32_t gref);
int hyp_gnttab_end(struct hyp *h, uint32_t domid, uint32_t gref);
void hyp_gnttab_destroy(struct hyp *h, struct hyp_domain *d);

/* ranges.c: limit 0 = none; -ENOMEM when an add (or a split) would
 * exceed it, nothing changed */
int hyp_ranges_add(struct hyp_ranges *s, uint64_t first, uint64_t last,
		   size_t limit);
int hyp_ranges_remove(struct hyp_ranges *s, uint64_t first, uint64_t last,
		      size_t limit);
bool hyp_ranges_cover(const struct hyp_ranges *s, uint64_t first,
		      uint64_t last);
bool hyp_ranges_overlap(const struct hyp_ranges *s, uint64_t first,
			uint64_t last);
void hyp_ranges_free(struct hyp_ranges *s);

/* perm.c */
int hyp_perm_set(struct hyp *h, enum hyp_perm_kind kind, uint32_t domid,
		 uint64_t first, uint64_t nr, bool allow);
bool hyp_perm_has(struct hyp *h, enum hyp_perm_kind kind, uint32_t domid,
		  uint64_t first, uint64_t nr);
/* The same for a domain at hand (any thread: d->perm_lock). */
bool hyp_domain_perm_has(struct hyp_domain *d, enum hyp_perm_kind kind,
			 uint64_t first, uint64_t nr);
void hyp_perm_clear(struct hyp_domain *d);

/* hostfile.c */
int hyp_host_parse(struct hyp *h, const char *text, const char *name,
		   char *err, size_t errlen);
int hyp_host_load(struct hyp *h, const char *path, char *err, size_t errlen);
int hyp_host_from_sysfs(struct hyp *h, const char *root, char *err,
			size_t errlen);

/* pci.c */
struct hyp_pcidev *hyp_pci_get(struct hyp *h, uint32_t sbdf);
int hyp_pci_add(struct hyp *h, const struct hyp_pcidev *desc,
		char *err, size_t errlen);
void hyp_pci_build_conf(struct hyp_pcidev *p);
/* One page of the devices from first_sbdf on (hvproto.h PCI_LIST). */
int hyp_pci_list(struct hyp *h, uint32_t first_sbdf, uint32_t max,
		 struct hv_pci_list *ret);
int hyp_pci_info(struct hyp *h, uint32_t sbdf, struct hv_pci_dev *ret);
int hyp_pci_conf_read(struct hyp *h, uint32_t sbdf, uint32_t offset,
		      uint32_t size, uint32_t *ret_value);
int hyp_pci_conf_write(struct hyp *h, uint32_t sbdf, uint32_t offset,
		       uint32_t size, uint32_t value);
int hyp_pci_reset(struct hyp *h, uint32_t sbdf);
int hyp_pci_raise_irq(struct hyp *h, uint32_t sbdf, uint32_t type,
		      uint32_t entry, uint32_t *ret_delivered);
int hyp_pci_bar_read(struct hyp *h, uint32_t sbdf, uint32_t bar,
		     uint64_t offset, uint32_t size, uint64_t *ret_value);
int hyp_pci_bar_write(struct hyp *h, uint32_t sbdf, uint32_t bar,
		      uint64_t offset, uint32_t size, uint64_t value);
uint32_t hyp_conf_get(const struct hyp_pcidev *p, unsigned int off,
		      unsigned int size);
void hyp_conf_put(struct hyp_pcidev *p, unsigned int off, unsigned int size,
		  uint32_t v);
bool hyp_pci_mem_decoded(struct hyp_pcidev *p);
void hyp_pci_free(struct hyp_pcidev *p);
/* The hardware as vPCI reaches it, under p->hw_lock: config space
 * bytes, COMMAND (through its write mask) and memory-BAR accesses
 * (offset within BAR bar; sizes 1, 2, 4, 8; all-ones while memory
 * decoding is off). */
uint32_t hyp_pci_hw_read(struct hyp_pcidev *p, unsigned int off,
			 unsigned int size);
void hyp_pci_cmd_write(struct hyp_pcidev *p, uint16_t cmd);
int hyp_pci_mmio(struct hyp_pcidev *p, unsigned int bar, uint64_t offset,
		 uint32_t size, bool write, uint64_t *value);

/* iommu.c */
int hyp_test_assign(struct hyp *h, uint32_t sbdf);
int hyp_console_read(struct hyp *h, char *buf, size_t len);
int hyp_assign(struct hyp *h, uint32_t domid, uint32_t sbdf);
int hyp_deassign(struct hyp *h, uint32_t domid, uint32_t sbdf);
void hyp_iommu_release_devices(struct hyp *h, struct hyp_domain *d);

/* irq.c */
int hyp_map_pirq(struct hyp *h, uint32_t domid, uint32_t type, uint32_t sbdf,
		 uint32_t entry, int pirq_in, int *ret_pirq);
int hyp_unmap_pirq(struct hyp *h, uint32_t domid, int pirq);
int hyp_prepare_msix(struct hyp *h, uint32_t sbdf);
int hyp_release_msix(struct hyp *h, uint32_t sbdf);
int hyp_msix_state(struct hyp *h, uint32_t sbdf, struct hv_msix_state *ret);
void hyp_msix_conf_write(struct hyp_pcidev *p, uint16_t *value);
void hyp_irq_guest_bind(struct hyp *h, struct hyp_domain *d, int pirq);
void hyp_irq_guest_unbind(struct hyp *h, struct hyp_domain *d, int pirq);
void hyp_irq_destroy(struct hyp *h, struct hyp_domain *d);
int hyp_bind_pt_irq(struct hyp *h, uint32_t caller,
		    const struct hv_pt_irq *b);
int hyp_unbind_pt_irq(struct hyp *h, uint32_t caller,
		      const struct hv_pt_irq *b);
int hyp_pt_irq_info(struct hyp *h, uint32_t domid, uint32_t pirq,
		    struct hv_pt_irq *ret);
/* pirq q of d is mapped (q may be any value) */
bool hyp_pirq_used(const struct hyp_domain *d, int q);
/* A device leaving d takes its pirqs' bindings with it. */
void hyp_irq_pt_release_device(struct hyp *h, struct hyp_domain *d,
			       uint32_t sbdf);

/* ioreq.c: emulator is the calling domain; only the creator operates a
 * server (-EPERM) */
int hyp_ioreq_server_create(struct hyp *h, uint32_t domid, uint32_t emulator,
			    uint32_t bufioreq, uint32_t *ret_id);
int hyp_ioreq_server_info(struct hyp *h, uint32_t domid, uint32_t emulator,
			  uint32_t id, struct hv_ioreq_server *ret,
			  int *ret_fd);
int hyp_ioreq_range(struct hyp *h, uint32_t domid, uint32_t emulator,
		    const struct hv_ioreq_range *rg, bool map);
int hyp_ioreq_server_set_state(struct hyp *h, uint32_t domid,
			       uint32_t emulator, uint32_t id, bool enabled);
int hyp_ioreq_server_destroy(struct hyp *h, uint32_t domid,
			     uint32_t emulator, uint32_t id);
int hyp_ioreq_fetch(struct hyp *h, uint32_t domid, uint32_t emulator,
		    uint32_t id, struct hv_ioreq *ret);
int hyp_ioreq_complete(struct hyp *h, uint32_t domid, uint32_t emulator,
		       uint32_t id, uint32_t vcpu, uint64_t data);
/* 0: done, io->data holds a read's value; -EINPROGRESS: sent to an
 * emulator, collect the answer with hyp_hvm_io_collect. */
int hyp_hvm_io(struct hyp *h, uint32_t domid, struct hv_hvm_io *io);
int hyp_hvm_io_collect(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint64_t *ret_data);
int hyp_hvm_new(struct hyp_domain *d);
/* The guest's vector eventfd (created on first use; not dup'ed). */
int hyp_hvm_vector_fd(struct hyp *h, uint32_t domid, uint32_t vector,
		      int *ret_fd);
/* A pass-through interrupt reached the guest's vector. */
void hyp_hvm_vector_raise(struct hyp_domain *d, uint8_t vector);
/* XEN_DMOP_set_isa_irq_level: a 0 -> 1 edge fires the line's eventfd. */
int hyp_set_isa_irq_level(struct hyp *h, uint32_t domid, uint32_t irq,
			  uint32_t level);
/* The guest's ISA IRQ line as an eventfd (created on first use). */
int hyp_hvm_isa_irq_fd(struct hyp *h, uint32_t domid, uint32_t irq,
		       int *ret_fd);
/* The domain runs again: route what its vCPUs issued meanwhile. */
void hyp_hvm_resume(struct hyp_domain *d);
void hyp_ioreq_destroy_all(struct hyp_domain *d);
void hyp_ioreq_emulator_gone(struct hyp *h, uint32_t domid);

/* vpci.c: vPCI of PVH domains.  Profiles: fixed (Xen 4.19's locking
 * plus the two gaps closed) and historic (before 4.19: no pci_lock,
 * removal leaves other vCPUs' pending ops, the use-after-free). */
enum hyp_vpci_profile { HYP_VPCI_FIXED, HYP_VPCI_HISTORIC };
int hyp_vpci_init(struct hyp *h);
void hyp_vpci_fini(struct hyp *h);
int hyp_vpci_parse_profile(const char *s, enum hyp_vpci_profile *ret);
const char *hyp_vpci_profile_name(enum hyp_vpci_profile p);
/* Before any PVH domain exists (-EBUSY after). */
int hyp_vpci_set_profile(struct hyp *h, enum hyp_vpci_profile p);
/* hyp_vpci_check after every op the daemon serves (default: on in
 * builds without NDEBUG). */
void hyp_vpci_set_checks(struct hyp *h, bool on);
/* Pages mapped per slice of a deferred map/unmap (0: the default 64). */
void hyp_vpci_set_slice(struct hyp *h, unsigned int pages);

/* Where a test may interleave threads: the hook runs on the thread that
 * reached the point, with the locks named here held. */
enum hyp_vpci_point {
	HYP_VP_DEFERRED,	/* vCPU: a write deferred a map/unmap;
				 * no lock held */
	HYP_VP_SLICE,		/* vCPU: a slice is done, more to do; no lock */
	HYP_VP_READ_LOCKED,	/* vCPU: in a config read, pci_lock held */
	HYP_VP_DONE,		/* vCPU: the access is answered; no lock */
	HYP_VP_TOOLSTACK,	/* epoll thread: assign, deassign, reset,
				 * remove, destroy is about to lock */
	HYP_VP_VCPUS_STOPPING,	/* epoll thread: destroy told the vCPUs to
				 * stop and waits for them */
};
typedef void hyp_vpci_hook_fn(void *arg, enum hyp_vpci_point pt,
			      uint32_t domid, uint32_t vcpu, uint32_t sbdf);
void hyp_vpci_set_hook(struct hyp *h, hyp_vpci_hook_fn *fn, void *arg);

/* Counters a test reads (atomically updated). */
struct hyp_vpci_stats {
	uint64_t ops_deferred, ops_done, ops_dropped, ops_cancelled;
	uint64_t ops_drained;	/* finished by a later write (fixed) */
	uint64_t slices, pages_mapped, pages_unmapped, crashes;
	uint64_t freed_touched;	/* a freed pdev/vpci was dereferenced */
	uint64_t null_vpci;	/* historic: pdev->vpci NULL dereferenced */
	uint64_t live_vpci;	/* vpci objects allocated now */
	uint64_t violations;	/* hyp_vpci_check failures (daemon) */
};
void hyp_vpci_get_stats(struct hyp *h, struct hyp_vpci_stats *ret);

/* Lifecycle hooks (iommu.c, pci.c, domain.c); the caller holds
 * h->pcidevs_lock, these take d->pci_lock for write. */
int hyp_vpci_assign(struct hyp *h, struct hyp_domain *d,
		    struct hyp_pcidev *p);
void hyp_vpci_deassign(struct hyp *h, struct hyp_domain *d,
		       struct hyp_pcidev *p);
/* A reset of p: vpci_reset_device (deassign + assign, one write lock). */
void hyp_vpci_reset(struct hyp *h, struct hyp_pcidev *p);
/* dom0 wrote p's COMMAND or reset it directly (epoll thread). */
void hyp_vpci_hw_foreign(struct hyp_pcidev *p);
/* p is about to be freed: no vCPU of any domain may refer to it. */
void hyp_vpci_forget(struct hyp *h, struct hyp_pcidev *p);
/* A pdev or vpci is freed: poisoned and kept for a while (not in ASan
 * builds, where freeing is what makes a later use visible). */
void hyp_vpci_free_pdev(struct hyp *h, struct hyp_pcidev *p);
void hyp_p2m_free(struct hyp_p2m *m);
/* A device's vpci goes with it (hyp_free). */
void hyp_vpci_free(struct hyp *h, struct vpci *vpci);

/* The guest's accesses, run on the vCPU thread (vcpu.c calls them). */
int hyp_vpci_conf_access(struct hyp *h, struct hyp_domain *d,
			 struct hyp_vcpu *v, bool write, uint32_t gsbdf,
			 uint32_t reg, uint32_t size, uint32_t *value);
int hyp_vpci_mmio_access(struct hyp *h, struct hyp_domain *d, bool write,
			 uint64_t gaddr, uint32_t size, uint64_t *value);
/* One slice of the vCPU's pending map/unmap: true while more is left. */
bool hyp_vpci_process_pending(struct hyp *h, struct hyp_domain *d,
			      struct hyp_vcpu *v);
void hyp_vpci_hook(struct hyp *h, enum hyp_vpci_point pt, uint32_t domid,
		   uint32_t vcpu, uint32_t sbdf);

int hyp_vpci_info(struct hyp *h, uint32_t domid, uint32_t sbdf,
		  struct hv_vpci_info *ret);
/* The invariants (docs/protocol.md, "vPCI"): 0, or -EUCLEAN and the
 * first violation in err.  Takes every lock: call it with none held. */
int hyp_vpci_check(struct hyp *h, char *err, size_t errlen);

/* pci.c: physical hot-unplug and re-add */
int hyp_pci_device_remove(struct hyp *h, uint32_t sbdf);
int hyp_pci_device_add(struct hyp *h, uint32_t sbdf);

/* vcpu.c: one thread per vCPU of a PVH domain.  A request is posted to
 * a vCPU (one at a time: -EBUSY) and answered either into h->done (tag
 * != 0: io.c's connection; done_efd fires) or held for hyp_vcpu_wait. */
struct hyp_vreq {
	uint32_t op;		/* HV_OP_VPCI_CONF_READ .. _MMIO_WRITE */
	uint32_t vcpu;
	uint32_t sbdf, reg, size;
	uint64_t gaddr;
	uint64_t value;		/* write: in; read: the answer */
	int ret;		/* the answer's 0 or -errno */
};
struct hyp_vcpu_done {
	struct hyp_vcpu_done *next;
	uint64_t tag;		/* io.c's connection id */
	uint32_t seq;
	struct hyp_vreq io;
};
int hyp_vcpus_start(struct hyp *h, struct hyp_domain *d);
void hyp_vcpus_stop(struct hyp *h, struct hyp_domain *d);
int hyp_vcpu_post(struct hyp *h, uint32_t domid, const struct hyp_vreq *io,
		  uint64_t tag, uint32_t seq);
int hyp_vcpu_wait(struct hyp *h, uint32_t domid, uint32_t vcpu,
		  struct hyp_vreq *ret);
/* post + wait: the access as the guest's vCPU makes it. */
int hyp_vcpu_call(struct hyp *h, uint32_t domid, struct hyp_vreq *io);
/* The oldest answer for io.c (false: none); clears done_efd when empty. */
bool hyp_vcpu_take_done(struct hyp *h, struct hyp_vcpu_done *ret);
/* Wake the epoll thread (done_efd). */
void hyp_vcpu_kick(struct hyp *h);
/* On the epoll thread: what vCPU threads asked for (a domain crash). */
void hyp_vcpu_service(struct hyp *h);
/* In-process wrappers of hyp_vcpu_call (tests, fuzz). */
int hyp_vpci_conf_read(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint32_t gsbdf, uint32_t reg, uint32_t size,
		       uint32_t *ret_value);
int hyp_vpci_conf_write(struct hyp *h, uint32_t domid, uint32_t vcpu,
			uint32_t gsbdf, uint32_t reg, uint32_t size,
			uint32_t value);
int hyp_vpci_mmio_read(struct hyp *h, uint32_t domid, uint32_t vcpu,
		       uint64_t gaddr, uint32_t size, uint64_t *ret_value);
int hyp_vpci_mmio_write(struct hyp *h, uint32_t domid, uint32_t vcpu,
			uint64_t gaddr, uint32_t size, uint64_t value);

#endif
