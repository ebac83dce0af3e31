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
 * servers, routing of guest port and MMIO accesses).
 */
#ifndef XPT_HYPERVISOR_H
#define XPT_HYPERVISOR_H

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
#define HYP_PCI_MAX 128u		/* hv_pci_list */
#define HYP_CONF_SIZE 4096u
#define HYP_HVM_VCPUS 128u		/* vCPUs with an ioreq slot */
#define HYP_NO_DOMID 0xFFFFFFFFu	/* no target; a dead emulator */

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

struct hyp_domain {
	uint32_t domid;
	uint32_t flags;		/* hv_domain_flags */
	uint32_t state;		/* hv_domain_state */
	uint32_t shutdown_reason;
	uint32_t pause_count;
	uint64_t memory_kb;
	uint32_t vcpus;
	char name[64];
	struct hyp_port ports[HYP_NR_PORTS];
	struct hyp_grant grants[HYP_NR_GRANTS];
	struct hyp_pirq pirqs[HYP_NR_PIRQS];
	struct hyp_ranges perm[3];	/* enum hyp_perm_kind */
	uint32_t target;	/* set_target: device model of; HYP_NO_DOMID */
	struct hyp_hvm *hvm;	/* HV_DOMF_HVM only */
	int listen_fd;		/* hv/domain/<domid>, -1 in-process */
	char *sock_path;
};

/* Who an MSI / MSI-X vector of a device is mapped for. */
struct hyp_vecmap {
	uint32_t domid;
	int pirq;		/* -1: not mapped */
};

struct hyp_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct hyp_pcidev {
	struct hv_pci_dev info;		/* description; info.owner is live */
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
	bool stop;
	bool quarantine;		/* iommu=quarantine (Xen 4.17: on) */
	uint32_t next_domid;
	uint32_t ioreq_serial;		/* last server serial handed out */
	struct hyp_domain *dom[HYP_DOMID_MAX];
	struct hyp_pcidev *pci[HYP_PCI_MAX];
	unsigned int npci;
};

/* hypervisor.c / lifecycle (domain.c) */
int hyp_new(struct hyp **ret);
void hyp_free(struct hyp *h);

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
int hyp_pci_list(struct hyp *h, struct hv_pci_list *ret);
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
bool hyp_pci_mem_decoded(const struct hyp_pcidev *p);
void hyp_pci_free(struct hyp_pcidev *p);

/* iommu.c */
int hyp_test_assign(struct hyp *h, uint32_t sbdf);
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

#endif
