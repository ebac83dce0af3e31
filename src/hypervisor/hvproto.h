/* SPDX-License-Identifier: MIT */
/*
 * The hypercall protocol between xpt-hypervisor and its clients: one
 * request, one reply, over SOCK_SEQPACKET Unix sockets; pages (memfds) and
 * event-channel notification fds (eventfds) travel with SCM_RIGHTS.
 *
 * Sockets (under $XPT_RUNDIR/hv/):
 *   control         privileged: dom0's toolstack and backends
 *   domain/<domid>  created with the domain; a connection there acts as
 *                   that domain and can only act as itself
 *
 * Every message is struct hv_msg followed by `len` bytes of the op's
 * payload struct.  A reply echoes op and seq, sets ret (0 or -errno) and
 * carries the op's reply payload (often the same struct, filled in).  Ops
 * are named after Xen's (domctl, physdev, evtchn, gnttab, sysctl, dm_op).
 *
 * Device-model ops (ioreq servers, pass-through IRQs) start their payload
 * with the target domain's id; they are open to the control socket and
 * to the domain set as the target's device model (SET_TARGET, a stub
 * domain), as Xen's XSM_DM_PRIV checks are.  HVM_IO is the one request
 * whose reply may come later: a guest access an emulator claimed is
 * answered when the emulator completes it (the vCPU is blocked meanwhile).
 */
#ifndef XPT_HVPROTO_H
#define XPT_HVPROTO_H

#include <stdint.h>

#define HV_PROTO_VERSION 1
#define HV_MSG_MAX 8192
#define HV_PAGE_SIZE 4096
#define HV_DOMID_IO 0x7FF1u		/* quarantine owner (Xen's dom_io) */
#define HV_DOMID_SELF 0x7FF0u
#define HV_MAX_VEC 128			/* SH_INFO_MAX_VEC */

enum hv_op {
	/* version / identity */
	HV_OP_HELLO = 1,		/* -> hv_hello: who am I */

	/* domains (privileged) */
	HV_OP_DOMAIN_CREATE = 10,	/* hv_domain_create -> domid; paused */
	HV_OP_DOMAIN_UNPAUSE,		/* hv_domid */
	HV_OP_DOMAIN_PAUSE,		/* hv_domid */
	HV_OP_DOMAIN_SHUTDOWN,		/* hv_domain_shutdown (a domain may
					 * shut itself down: domid SELF) */
	HV_OP_DOMAIN_DESTROY,		/* hv_domid */
	HV_OP_DOMAIN_GETINFO,		/* hv_domid -> hv_domain_info */
	HV_OP_DOMAIN_LIST,		/* hv_domain_list_req -> hv_domain_list
					 * (one page) */
	HV_OP_BIND_VIRQ_DOM_EXC,	/* -> hv_evtchn + fd: domain state changed */

	/* event channels (any domain, acting as itself) */
	HV_OP_EVTCHN_ALLOC_UNBOUND = 30, /* hv_evtchn {remote_domid} -> port */
	HV_OP_EVTCHN_BIND_INTERDOMAIN,	/* hv_evtchn {remote_domid,
					 * remote_port} -> port */
	HV_OP_EVTCHN_BIND_PIRQ,		/* hv_evtchn {pirq} -> port */
	HV_OP_EVTCHN_FD,		/* hv_evtchn {port} -> fd (eventfd;
					 * readable when the port fired) */
	HV_OP_EVTCHN_SEND,		/* hv_evtchn {port} */
	HV_OP_EVTCHN_CLOSE,		/* hv_evtchn {port} */

	/* grant tables */
	HV_OP_GNTTAB_GRANT = 40,	/* hv_grant {remote_domid, readonly}
					 * + fd (memfd page) -> gref */
	HV_OP_GNTTAB_MAP,		/* hv_grant {remote_domid = granter,
					 * gref} -> fd (memfd page) */
	HV_OP_GNTTAB_UNMAP,		/* hv_grant {remote_domid, gref} */
	HV_OP_GNTTAB_END,		/* hv_grant {gref}: revoke own grant */

	/* host PCI devices */
	HV_OP_PCI_LIST = 60,		/* hv_pci_list_req -> hv_pci_list
					 * (one page) */
	HV_OP_PCI_INFO,			/* hv_pci_sbdf -> hv_pci_dev */
	HV_OP_PCI_CONF_READ,		/* hv_pci_conf -> value (privileged) */
	HV_OP_PCI_CONF_WRITE,		/* hv_pci_conf (privileged) */
	HV_OP_PCI_RESET,		/* hv_pci_sbdf: the reset method;
					 * -ENOTTY if the device has none */
	HV_OP_PCI_RAISE_IRQ,		/* hv_pci_irq: test hook, the device
					 * signals INTx / MSI / MSI-X entry */
	HV_OP_PCI_BAR_WRITE,		/* hv_pci_mmio: the device's own MMIO
					 * (e.g. the MSI-X table), privileged */
	HV_OP_PCI_BAR_READ,		/* hv_pci_mmio -> value, privileged */

	/* IOMMU (privileged) */
	HV_OP_TEST_ASSIGN = 80,		/* hv_assign: -EINVAL if owned by a
					 * domU or unknown, -EBUSY ... */
	HV_OP_ASSIGN,			/* hv_assign; -EBUSY if MSI-X MASKALL
					 * still set (not reset) or owned
					 * elsewhere; -EOPNOTSUPP if the domain
					 * was created without passthrough */
	HV_OP_DEASSIGN,			/* hv_assign: back to quarantine */

	/* permissions (privileged) */
	HV_OP_IOMEM_PERMISSION = 90,	/* hv_perm {domid, first(64-bit frame), nr, allow} */
	HV_OP_IOPORT_PERMISSION,	/* hv_perm */
	HV_OP_IRQ_PERMISSION,		/* hv_perm {first = pirq} */

	/* physdev */
	HV_OP_MAP_PIRQ = 100,		/* hv_map_pirq -> pirq */
	HV_OP_UNMAP_PIRQ,		/* hv_map_pirq {domid, pirq} */
	HV_OP_PREPARE_MSIX,		/* hv_pci_sbdf */
	HV_OP_RELEASE_MSIX,		/* hv_pci_sbdf */
	HV_OP_MSIX_STATE,		/* hv_pci_sbdf -> hv_msix_state (tests) */

	/* stub domains (privileged) */
	HV_OP_SET_TARGET = 110,		/* hv_set_target: XEN_DOMCTL_set_target,
					 * domid becomes target's device model */

	/* ioreq servers: XEN_DMOP_* 1..6 and the emulator's side of the
	 * ioreq page (device model: control socket or the target's DM) */
	HV_OP_IOREQ_SERVER_CREATE = 120, /* hv_ioreq_server {domid, bufioreq}
					 * -> id */
	HV_OP_IOREQ_SERVER_GET_INFO,	/* hv_ioreq_server {domid, id} ->
					 * hv_ioreq_server + fd (eventfd:
					 * readable when a request is ready) */
	HV_OP_IOREQ_MAP_RANGE,		/* hv_ioreq_range */
	HV_OP_IOREQ_UNMAP_RANGE,	/* hv_ioreq_range */
	HV_OP_IOREQ_SERVER_SET_STATE,	/* hv_ioreq_server {domid, id, enabled} */
	HV_OP_IOREQ_SERVER_DESTROY,	/* hv_ioreq_server {domid, id} */
	HV_OP_IOREQ_FETCH,		/* hv_ioreq {domid, id} -> the oldest
					 * vCPU's READY request, now INPROCESS;
					 * -EAGAIN: none */
	HV_OP_IOREQ_COMPLETE,		/* hv_ioreq {domid, id, vcpu, data}:
					 * IORESP_READY, the vCPU resumes */
	HV_OP_SET_ISA_IRQ_LEVEL,	/* hv_isa_irq {domid, irq, level}:
					 * XEN_DMOP_set_isa_irq_level (9) */

	/* HVM guest I/O (a domain, acting as itself) */
	HV_OP_HVM_IO = 130,		/* hv_hvm_io -> hv_hvm_io {data}: port
					 * or MMIO access of one vCPU; the reply
					 * waits while an emulator handles it */
	HV_OP_HVM_VECTOR_FD,		/* hv_hvm_vector -> fd: an eventfd
					 * counting the guest's own vector's
					 * interrupts (its local APIC) */
	HV_OP_HVM_ISA_IRQ_FD,		/* hv_isa_irq {irq} -> fd: an eventfd
					 * counting the rising edges of the
					 * guest's ISA IRQ line */

	/* pass-through IRQs (device model) */
	HV_OP_BIND_PT_IRQ = 140,	/* hv_pt_irq: XEN_DOMCTL_bind_pt_irq */
	HV_OP_UNBIND_PT_IRQ,		/* hv_pt_irq: XEN_DOMCTL_unbind_pt_irq */
	HV_OP_PT_IRQ_INFO,		/* hv_pt_irq {domid, machine_irq} ->
					 * hv_pt_irq (tests) */

	/* vPCI of a PVH domain (docs/protocol.md, "vPCI").  The CONF and
	 * MMIO ops come from the PVH domain itself, on its own domain
	 * socket: one access of one of its vCPUs, executed on that vCPU's
	 * thread in the hypervisor and answered once the vCPU would
	 * return to the guest (a BAR map/unmap it started is complete).
	 * -EINVAL for a bad vcpu, size, alignment or register; -EBUSY if
	 * the vCPU has an access in flight; -ESHUTDOWN once the domain
	 * crashed. */
	HV_OP_VPCI_CONF_READ = 150,	/* hv_vpci_conf {vcpu, sbdf (virtual,
					 * 0000:00:dd.0), reg, size} -> value;
					 * no device there: all-ones */
	HV_OP_VPCI_CONF_WRITE,		/* hv_vpci_conf */
	HV_OP_VPCI_MMIO_READ,		/* hv_vpci_mmio {vcpu, gaddr, size}
					 * -> value; through the domain's p2m,
					 * unmapped: all-ones */
	HV_OP_VPCI_MMIO_WRITE,		/* hv_vpci_mmio; unmapped: dropped */
	HV_OP_PCI_DEVICE_REMOVE,	/* hv_pci_sbdf (privileged):
					 * PHYSDEVOP_pci_device_remove */
	HV_OP_PCI_DEVICE_ADD,		/* hv_pci_sbdf (privileged): a device
					 * removed before is back (rescan) */
	HV_OP_VPCI_INFO,		/* hv_vpci_info {domid, sbdf (host)} ->
					 * hv_vpci_info (privileged) */

	/* the host itself (privileged) */
	HV_OP_PHYSINFO = 170,		/* -> hv_physinfo: XEN_SYSCTL_physinfo */
	HV_OP_READCONSOLE,		/* -> hv_console: the boot messages
					 * (XEN_SYSCTL_readconsole) */
};

/* XEN_SYSCTL_PHYSCAP_*: directio is `xl info`'s hvm_directio and
 * pv_directio, set when Xen's IOMMU is enabled. */
#define HV_PHYSCAP_HVM (1u << 0)
#define HV_PHYSCAP_PV (1u << 1)
#define HV_PHYSCAP_DIRECTIO (1u << 2)

struct hv_physinfo {
	uint32_t capabilities;	/* HV_PHYSCAP_* */
};

/* The console ring as `xl dmesg` prints it, lines "(XEN) ...". */
struct hv_console {
	uint32_t len;		/* bytes of text, no NUL */
	char text[4096];
};

struct hv_msg {
	uint32_t op;
	uint32_t seq;
	int32_t ret;		/* reply: 0 or -errno */
	uint32_t len;		/* payload bytes that follow */
};

struct hv_hello {
	uint32_t version;	/* HV_PROTO_VERSION */
	uint32_t domid;		/* reply: the caller's domain */
	uint32_t privileged;	/* reply */
};

struct hv_domid {
	uint32_t domid;
};

enum hv_domain_flags {
	HV_DOMF_HVM = 1u << 0,
	HV_DOMF_PASSTHROUGH = 1u << 1,	/* IOMMU context: devices may be assigned */
	HV_DOMF_PVH = 1u << 2,		/* PVH: no device model, no ioreq;
					 * assigned devices get vPCI; one
					 * thread per vCPU; never with HVM */
};

struct hv_domain_create {
	uint32_t flags;		/* hv_domain_flags */
	uint32_t domid;		/* reply */
	uint64_t memory_kb;
	uint32_t vcpus;
	char name[64];
};

enum hv_shutdown_reason {
	HV_SHUTDOWN_POWEROFF = 0,
	HV_SHUTDOWN_REBOOT = 1,
	HV_SHUTDOWN_SUSPEND = 2,
	HV_SHUTDOWN_CRASH = 3,
};

struct hv_domain_shutdown {
	uint32_t domid;		/* HV_DOMID_SELF from the domain itself */
	uint32_t reason;
};

enum hv_domain_state {
	HV_DOM_PAUSED = 0,
	HV_DOM_RUNNING = 1,
	HV_DOM_SHUTDOWN = 2,
	HV_DOM_DYING = 3,
};

struct hv_domain_info {
	uint32_t domid;
	uint32_t flags;
	uint32_t state;		/* hv_domain_state */
	uint32_t shutdown_reason;
	char name[64];
};

/*
 * DOMAIN_LIST pages through the domains as Xen's getdomaininfolist does:
 * those with an id >= first_domid, in id order, at most max of them (0 or
 * more than a page: a page).  next_domid is where the next page starts, 0
 * when there are no more domains.  An empty request lists the first page.
 * The reply carries only the count entries filled in.
 */
#define HV_DOMAIN_LIST_PAGE 64

struct hv_domain_list_req {
	uint32_t first_domid;
	uint32_t max;
};

struct hv_domain_list {
	uint32_t count;
	uint32_t next_domid;
	struct hv_domain_info d[HV_DOMAIN_LIST_PAGE];
};

struct hv_evtchn {
	uint32_t port;		/* local port (in, or reply) */
	uint32_t remote_domid;
	uint32_t remote_port;
	uint32_t pirq;
};

struct hv_grant {
	uint32_t remote_domid;	/* GRANT: the grantee; MAP: the granter */
	uint32_t gref;		/* reply of GRANT; in for MAP/UNMAP/END */
	uint32_t readonly;
};

struct hv_pci_sbdf {
	uint32_t sbdf;		/* seg << 16 | bus << 8 | devfn */
};

#define HV_SBDF(seg, bus, dev, fn) \
	((uint32_t)(seg) << 16 | (uint32_t)(bus) << 8 | (uint32_t)(dev) << 3 | (fn))
#define HV_SBDF_SEG(s) ((s) >> 16)
#define HV_SBDF_BUS(s) (((s) >> 8) & 0xff)
#define HV_SBDF_DEV(s) (((s) >> 3) & 0x1f)
#define HV_SBDF_FN(s) ((s) & 7)

enum hv_irq_type {
	HV_IRQ_INTX = 0,
	HV_IRQ_MSI = 1,
	HV_IRQ_MSIX = 2,
};

struct hv_pci_bar {
	uint64_t addr;		/* host physical address; 0 if unused */
	uint64_t size;
	uint32_t flags;		/* HV_BAR_* */
	uint32_t pad;
};

enum {
	HV_BAR_IO = 1u << 0,
	HV_BAR_64 = 1u << 1,
	HV_BAR_PREFETCH = 1u << 2,
};

struct hv_pci_dev {
	uint32_t sbdf;
	uint16_t vendor, device;
	uint32_t class;		/* base << 16 | sub << 8 | prog-if */
	uint32_t owner;		/* 0 = dom0 (hardware domain), HV_DOMID_IO,
				 * or a domU */
	uint8_t intx_pin;	/* 0 none, 1..4 = INTA..INTD */
	uint8_t has_msi;
	uint8_t has_msix;
	uint8_t reset;		/* 0 none, 1 FLR, 2 PM, 3 bus */
	uint16_t msix_entries;	/* table size */
	uint16_t num_vfs;	/* SR-IOV VFs (on the PF) */
	uint32_t pf_sbdf;	/* for a VF: its PF; else UINT32_MAX */
	uint32_t gsi;		/* INTx line */
	struct hv_pci_bar bar[6];
	char driver[32];	/* dom0's driver for it (host file driver=),
				 * "" none; pciback's seizure not counted */
};

/*
 * PCI_LIST pages through the host's devices as DOMAIN_LIST pages through
 * the domains: those with an SBDF >= first_sbdf, in SBDF order, at most
 * max of them (0 or more than a page: a page).  next_sbdf is where the
 * next page starts, 0 when there are no more devices (a next page never
 * starts at 0000:00:00.0).  An empty request lists the first page.  The
 * reply carries only the count entries filled in.
 */
#define HV_PCI_LIST_PAGE 256

struct hv_pci_list_req {
	uint32_t first_sbdf;
	uint32_t max;
};

struct hv_pci_list {
	uint32_t count;
	uint32_t next_sbdf;
	uint32_t sbdf[HV_PCI_LIST_PAGE];
};

struct hv_pci_conf {
	uint32_t sbdf;
	uint32_t offset;	/* 0 .. 4095 */
	uint32_t size;		/* 1, 2, 4 */
	uint32_t value;
};

/* BAR_WRITE / BAR_READ: an access to a memory BAR of the device (the
 * MSI-X table and PBA are modelled; other offsets read 0, writes are
 * dropped). */
struct hv_pci_mmio {
	uint32_t sbdf;
	uint32_t bar;		/* 0..5 */
	uint64_t offset;	/* within the BAR */
	uint32_t size;		/* 4 or 8 */
	uint32_t pad;
	uint64_t value;
};

struct hv_pci_irq {
	uint32_t sbdf;
	uint32_t type;		/* hv_irq_type */
	uint32_t entry;		/* MSI-X table entry / MSI vector */
	uint32_t delivered;	/* reply: 1 if an event channel fired */
};

struct hv_assign {
	uint32_t domid;
	uint32_t sbdf;
};

struct hv_perm {
	uint32_t domid;
	uint32_t allow;
	uint64_t first;		/* frame number, port, or pirq */
	uint64_t nr;
};

struct hv_map_pirq {
	uint32_t domid;		/* the domain the pirq is mapped for */
	uint32_t type;		/* hv_irq_type */
	uint32_t sbdf;
	uint32_t entry;		/* MSI-X entry / MSI vector index */
	int32_t pirq;		/* in: -1 = allocate; reply: the pirq */
};

struct hv_msix_state {
	uint32_t sbdf;
	uint32_t used_entries;
	uint8_t prepared;
	uint8_t host_maskall;
	uint8_t guest_maskall;
	uint8_t hw_maskall;	/* Message Control MASKALL in config space */
	uint8_t hw_enable;
	uint8_t pad[3];
};

struct hv_set_target {
	uint32_t domid;		/* the stub domain */
	uint32_t target;	/* the HVM guest it is the device model of */
};

/* ioreq servers (Xen's public/hvm/dm_op.h, hvm_op.h, ioreq.h). */
#define HV_IOREQ_MAX_SERVERS 8		/* MAX_NR_IOREQ_SERVERS */
#define HV_IOREQ_MAX_RANGES 256		/* MAX_NR_IO_RANGES, per server, type */
#define HV_IOREQ_BUFIOREQ_ATOMIC 2	/* HVM_IOREQSRV_BUFIOREQ_ATOMIC: max */

enum hv_io_range_type {			/* XEN_DMOP_IO_RANGE_* */
	HV_IO_RANGE_PORT = 0,
	HV_IO_RANGE_MEMORY = 1,
	HV_IO_RANGE_PCI = 2,		/* start, end: HV_SBDF, the encoding
					 * of XEN_DMOP_PCI_SBDF */
	HV_IO_RANGE_TYPES = 3,
};

struct hv_ioreq_server {
	uint32_t domid;		/* the target HVM domain */
	uint32_t id;		/* CREATE: reply; others: in */
	uint32_t bufioreq;	/* CREATE: 0..2, validated, not modelled */
	uint32_t enabled;	/* SET_STATE: in; GET_INFO: reply */
	uint32_t emulator;	/* GET_INFO reply: the creating domain */
	uint32_t nr_ranges[HV_IO_RANGE_TYPES];	/* GET_INFO reply */
};

struct hv_ioreq_range {
	uint32_t domid;
	uint32_t id;
	uint32_t type;		/* hv_io_range_type */
	uint32_t pad;
	uint64_t start, end;	/* inclusive */
};

enum hv_ioreq_type {			/* IOREQ_TYPE_* */
	HV_IOREQ_TYPE_PIO = 0,
	HV_IOREQ_TYPE_COPY = 1,		/* MMIO */
	HV_IOREQ_TYPE_PCI_CONFIG = 2,	/* addr = sbdf << 32 | register */
};

enum hv_ioreq_dir { HV_IOREQ_WRITE = 0, HV_IOREQ_READ = 1 };

enum hv_ioreq_state {			/* STATE_IOREQ_*, STATE_IORESP_* */
	HV_IOREQ_STATE_NONE = 0,
	HV_IOREQ_STATE_READY = 1,
	HV_IOREQ_STATE_INPROCESS = 2,
	HV_IOREQ_STATE_IORESP_READY = 3,
};

/* One request as the emulator sees it (ioreq_t, the fields that matter). */
struct hv_ioreq {
	uint32_t domid;
	uint32_t id;		/* the server */
	uint32_t vcpu;
	uint8_t state;		/* hv_ioreq_state */
	uint8_t type;		/* hv_ioreq_type */
	uint8_t dir;		/* hv_ioreq_dir */
	uint8_t pad;
	uint64_t addr;
	uint64_t data;		/* write: the value; COMPLETE of a read: in */
	uint32_t size;		/* bytes: 1, 2, 4 (8 for MMIO) */
	uint32_t pad2;
};

/* A guest vCPU's port (PIO) or MMIO (COPY) access.  Ports 0xcfc-0xcff
 * with CF8's enable bit set are PCI config accesses (routed by SBDF);
 * a dword write to 0xcf8 latches CF8 (and is forwarded like any port). */
struct hv_hvm_io {
	uint32_t vcpu;
	uint32_t type;		/* HV_IOREQ_TYPE_PIO or _COPY */
	uint64_t addr;		/* port or guest physical address */
	uint32_t size;		/* PIO 1, 2, 4; COPY 1, 2, 4, 8 */
	uint32_t dir;		/* hv_ioreq_dir */
	uint64_t data;		/* write: in; read: reply */
};

#define HV_CF8_ENABLE 0x80000000u

/* An HVM guest's vector: what a pass-through MSI bound with gvec raises
 * (the model has no vLAPIC; the eventfd counts deliveries). */
struct hv_hvm_vector {
	uint32_t vector;	/* 0..255 */
	uint32_t pad;
};

/* An HVM guest's ISA IRQ line (0..15), as a device model drives it
 * (QEMU's SCI: line 9, level = the ACPI status & enable bits).  The model
 * has no vPIC/vIOAPIC: the guest's eventfd counts each 0 -> 1 edge, and a
 * guest handler runs until the cause is gone, as a level-triggered
 * handler does. */
#define HV_ISA_IRQS 16
struct hv_isa_irq {
	uint32_t domid;		/* SET_ISA_IRQ_LEVEL: the HVM guest */
	uint8_t irq;		/* 0..15, else -EINVAL */
	uint8_t level;		/* 0 or 1, else -EINVAL */
	uint16_t pad;
};

/* bind_pt_irq: a machine pirq of an assigned device to the guest's
 * virtual interrupt (Xen's struct xen_domctl_bind_pt_irq). */
enum hv_pt_irq_type {			/* PT_IRQ_TYPE_* */
	HV_PT_IRQ_PCI = 0,		/* INTx: bus, device, intx */
	HV_PT_IRQ_ISA = 1,		/* not modelled: -EINVAL */
	HV_PT_IRQ_MSI = 2,		/* MSI and MSI-X: gvec, gflags, gtable */
};

struct hv_pt_irq {
	uint32_t domid;		/* the HVM guest */
	uint32_t machine_irq;	/* the pirq mapped for the guest */
	uint32_t irq_type;	/* hv_pt_irq_type */
	uint8_t bus, device, intx;	/* PCI: guest bus, device, INTA=0.. */
	uint8_t gvec;		/* MSI: guest vector */
	uint32_t gflags;	/* MSI: XEN_DOMCTL_VMSI_X86_* */
	uint32_t pad;
	uint64_t gtable;	/* MSI-X: guest table address, else 0 */
	/* PT_IRQ_INFO reply */
	uint32_t bound;
	uint32_t fired;		/* interrupts delivered through the binding */
};

/* A PVH guest's config-space access (HV_OP_VPCI_CONF_*): reg 0..4095,
 * size 1, 2 or 4, naturally aligned. */
struct hv_vpci_conf {
	uint32_t vcpu;
	uint32_t sbdf;		/* the guest's virtual SBDF */
	uint32_t reg;
	uint32_t size;
	uint32_t value;		/* write: in; read: reply */
};

/* A PVH guest's memory access (HV_OP_VPCI_MMIO_*): size 1, 2, 4 or 8,
 * naturally aligned. */
struct hv_vpci_mmio {
	uint32_t vcpu;
	uint32_t size;
	uint64_t gaddr;		/* guest physical address */
	uint64_t value;		/* write: in; read: reply */
};

/* HV_OP_VPCI_INFO: what vPCI holds for a device of a PVH domain;
 * -ENODEV if it has none there. */
struct hv_vpci_info {
	uint32_t domid;
	uint32_t sbdf;		/* host */
	uint32_t guest_sbdf;
	uint32_t guest_cmd;	/* the guest's view of PCI_COMMAND */
	uint32_t bars_mapped;	/* memory decoding as vPCI set it */
	uint32_t pending;	/* a BAR map/unmap is in flight */
	uint64_t bar_gaddr[6];	/* guest addresses of the BARs */
};

#endif
