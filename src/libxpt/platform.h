/* SPDX-License-Identifier: MIT */
/*
 * The host libxpt drives, as one ops table (the shape of the store's
 * struct xsd_hv): the modelled host (platform-model.c: xpt-hypervisor,
 * xpt-pciback's control socket, xpt-guest processes) or a real Xen dom0
 * (platform-xen.c: libxenctrl, sysfs pciback, libxl for the domain
 * build).  The protocol files (pci.c, dev.c, owner.c, domain.c,
 * assignable.c) call only this table; the types that cross it are the
 * neutral ones below.  xenstore is not behind the table: both hosts speak
 * it through libxenstore (c->xs).
 *
 * Every op returns 0 or a negative errno; ops that can fail for a reason
 * the user must see fill msg (when given) with words naming the object;
 * none writes to stderr.  Waits inside an op are bounded, by
 * xpt_bound_ms(c, ...) when the op can block on a peer.
 */
#ifndef XPT_PLATFORM_H
#define XPT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpt/spec.h"

struct xpt_ctx;

#define XPT_DOMID_IO 0x7FF1u		/* quarantine owner (Xen's dom_io) */
#define XPT_DOMID_FIRST_RESERVED 0x7FF0u

enum xpt_dom_state {
	XPT_DOM_PAUSED,
	XPT_DOM_RUNNING,
	XPT_DOM_SHUTDOWN,
	XPT_DOM_DYING,
};

struct xpt_pdom {
	unsigned int domid;
	enum xpt_dom_state state;
	char name[64];		/* the platform's own name, "" none */
	uint64_t memory_mb;	/* what it has now; 0 the platform cannot say */
	unsigned int vcpus;	/* 0 the platform cannot say */
};

enum xpt_reset {
	XPT_RESET_NONE,
	XPT_RESET_FLR,
	XPT_RESET_PM,
	XPT_RESET_BUS,		/* hits every function of the slot */
};

struct xpt_pbar {
	uint64_t addr, size;	/* size 0: no BAR */
	bool io;		/* an I/O port range, else memory */
};

/* A function's resources: BAR0-5, then the expansion ROM, all granted to
 * the guest that gets the device (libxl's 7 resource lines). */
#define XPT_BAR_ROM 6
#define XPT_NBARS 7

/* One host PCI function. */
struct xpt_pdev {
	uint32_t sbdf;
	uint16_t vendor, device;
	uint32_t class;		/* base << 16 | sub << 8 | prog-if */
	int owner;		/* IOMMU owner: 0 dom0, XPT_DOMID_IO, a domU;
				 * -1 the platform cannot tell */
	uint8_t intx_pin;	/* 0 none, 1..4 INTA..INTD */
	uint32_t gsi;		/* its INTx line */
	enum xpt_reset reset;
	uint32_t pf_sbdf;	/* an SR-IOV VF's PF, else UINT32_MAX */
	struct xpt_pbar bar[XPT_NBARS];
	char driver[32];	/* dom0's driver bound to it, "" none (on the
				 * model: the host file's, pciback not
				 * counted) */
};

/* The dom0 backend driver as a whole (xpt doctor). */
struct xpt_pb_module {
	bool loaded;
	bool has_params;	/* the three below were read */
	char permissive[8];	/* "Y"/"N" (Linux module parameters) */
	char passthrough[8];	/* "0"/"1" */
	char hide[256];		/* "(BDF)(BDF)...", "" */
	char where[160];	/* what was looked at */
};

/* A device bound to pciback, and the domain it exports it to (-1 none). */
struct xpt_pb_dev {
	uint32_t sbdf;
	int domid;
};

struct xpt_platform {
	const char *name;		/* "model", "xen" */

	/* Connect to the hypervisor side (first use); close it. */
	int (*open)(struct xpt_ctx *c);
	void (*close)(struct xpt_ctx *c);

	/* Domains.  create: paused, with an IOMMU context when passthrough
	 * is set, no PCI devices (the caller cold-plugs them), its xenstore
	 * nodes written (/local/domain/<id> with name, /vm/<uuid>,
	 * /libxl/<id>; the model through xpt_domain_nodes(), libxl by its
	 * own build) and introduced to xenstore; boot: its first unpause
	 * (the guest kernel starts); kernel: 1 its kernel runs, 0 it died
	 * or never started; kill_kernel: what destroy does to a guest that
	 * must stop answering now. */
	int (*dom_create)(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			  const char *uuid, bool passthrough,
			  unsigned int *ret_domid);
	int (*dom_boot)(struct xpt_ctx *c, unsigned int domid);
	int (*dom_pause)(struct xpt_ctx *c, unsigned int domid);
	int (*dom_unpause)(struct xpt_ctx *c, unsigned int domid);
	int (*dom_destroy)(struct xpt_ctx *c, unsigned int domid);
	int (*dom_info)(struct xpt_ctx *c, unsigned int domid,
			struct xpt_pdom *ret);
	/* Up to max domains with domid >= first, ascending. */
	int (*dom_list)(struct xpt_ctx *c, unsigned int first,
			struct xpt_pdom *ret, size_t max, size_t *ret_n);
	int (*dom_kernel)(struct xpt_ctx *c, unsigned int domid);
	void (*dom_kill_kernel)(struct xpt_ctx *c, unsigned int domid);

	/* HVM: start the guest's device model paused (QEMU's -S), serving
	 * QMP on qmp_path; binary NULL is the platform's own (the model's
	 * xpt-dm).  NULL where dom_create starts it itself (xen: libxl
	 * starts QEMU as it builds the domain); then dm_qmp_dir is where it
	 * serves QMP (qmp-libxl-<domid>), its pid is in
	 * /local/domain/<domid>/image/device-model-pid, and its xenstore
	 * nodes are the platform's to remove at dom_destroy. */
	int (*dm_spawn)(struct xpt_ctx *c, unsigned int domid,
			const char *binary, const char *qmp_path,
			int *ret_pid);
	const char *dm_qmp_dir;
	/* Why a PVH guest cannot have PCI devices on this host, as words
	 * naming the host's limit and what to use instead; NULL where it
	 * can (the hypervisor gives the guest vPCI when a device is
	 * assigned to it: the model). */
	const char *pvh_pci_refused;
	/* Stub domains: domid becomes target's device model (Xen's
	 * XEN_DOMCTL_set_target), for the stub domain libxpt builds
	 * (stubdom.c).  NULL where dom_create builds the stub domain itself
	 * (xen: libxl, for device_model_stubdomain_override) and dom_destroy
	 * of the guest destroys it; its id is then in the guest's
	 * image/device-model-domid once dom_create returns. */
	int (*set_target)(struct xpt_ctx *c, unsigned int domid,
			  unsigned int target);

	/* Host PCI and the dom0 backend driver.  seize: bind to pciback
	 * (remembering the original driver); release: unbind from
	 * pciback, and with rebind give it back to its original driver. */
	int (*pci_list)(struct xpt_ctx *c, uint32_t *ret, size_t max,
			size_t *ret_n);
	int (*pci_info)(struct xpt_ctx *c, uint32_t sbdf,
			struct xpt_pdev *ret);
	int (*pb_list)(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		       size_t *ret_n);
	int (*pb_seize)(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			size_t len);
	int (*pb_release)(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			  char *msg, size_t len);
	int (*pb_reset)(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			size_t len);
	int (*pb_permissive)(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			     size_t len);

	/* The hypervisor: IOMMU assignment and resource permissions. */
	int (*test_assign)(struct xpt_ctx *c, uint32_t sbdf);
	int (*assign)(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf);
	int (*deassign)(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf);
	int (*iomem_permission)(struct xpt_ctx *c, unsigned int domid,
				uint64_t first_frame, uint64_t nr_frames,
				bool allow);
	int (*ioport_permission)(struct xpt_ctx *c, unsigned int domid,
				 uint32_t first, uint32_t nr, bool allow);
	int (*irq_permission)(struct xpt_ctx *c, unsigned int domid,
			      int pirq, bool allow);
	/* The pirq of the device's INTx line (its GSI), mapped for domid:
	 * an existing mapping is returned as it is. */
	int (*map_pirq)(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
			int *ret_pirq);
	int (*unmap_pirq)(struct xpt_ctx *c, unsigned int domid, int pirq);
	/* vPCI: the virtual SBDF (0000:00:dd.0) at which domid, a PVH
	 * guest, sees sbdf; -ENODEV when it has none there.  NULL where
	 * there is no vPCI for domU guests. */
	int (*vpci_slot)(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
			 uint32_t *ret_gsbdf);

	/* What `xpt doctor` reads (doctor.c); none has a side effect.
	 * host_caps: XEN_SYSCTL_physinfo's directio (`xl info`'s
	 * hvm_directio/pv_directio: the IOMMU is on); console_read: the
	 * hypervisor's console ring (`xl dmesg`), NUL-terminated;
	 * pb_module: the backend driver is loaded, and its parameters;
	 * pci_config: up to len bytes of the device's configuration space
	 * from offset 0 (*ret_n: how many could be read). */
	int (*host_caps)(struct xpt_ctx *c, bool *ret_directio);
	int (*console_read)(struct xpt_ctx *c, char *buf, size_t len);
	int (*pb_module)(struct xpt_ctx *c, struct xpt_pb_module *ret);
	int (*pci_config)(struct xpt_ctx *c, uint32_t sbdf, uint8_t *buf,
			  size_t len, size_t *ret_n);
};

extern const struct xpt_platform xpt_platform_model;
#ifdef XPT_HAVE_XEN
extern const struct xpt_platform xpt_platform_xen;
#endif

/* The platform chosen: --platform / $XPT_PLATFORM ("model", "xen"), else
 * xen in a Xen control domain (/proc/xen/capabilities says control_d)
 * when built with it, else model. */
int xpt_platform_select(const char *name, const struct xpt_platform **ret);

#endif
