/* SPDX-License-Identifier: MIT */
/*
 * xpt-pciback: the map of the daemon, the model of Linux's xen-pciback in
 * dom0.  One struct (struct pciback) holds all state and every module takes
 * it explicitly, so unit tests drive the same code in-process (with a fake
 * hypervisor linked in place of hvclient).
 *
 *   stub.c      seized host devices: seize, reset, save/restore, release
 *   export.c    the guest-visible topology (vpci bus 0000:00, or passthrough)
 *   confspace.c config-space virtualisation (docs/protocol.md §5.5)
 *   op.c        the pci_op service on the granted page (docs/protocol.md §5.6)
 *   xenbus.c    the per-backend xenbus state machine (docs/protocol.md §5.2)
 *   ctl.c       the control socket (seize/release/list/reset/permissive)
 *   loop.c      the epoll loop: xenstore watches, event channels, control
 *   pciback.c   main(): command line, start-up, shutdown
 */
#ifndef XPT_PCIBACK_H
#define XPT_PCIBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/pciif.h>
#include <xen/io/xenbus.h>

#include "hvclient.h"

struct xs_handle;

#define PB_BACKEND_ROOT "/local/domain/0/backend/pci"
#define PB_ERROR_ROOT "/local/domain/0/error/backend/pci"
#define PB_PATH_MAX 256
#define PB_KEYPATH_MAX (PB_PATH_MAX + 64)	/* a path under a backend dir */
#define PB_MAX_SLOTS 32
#define PB_HDR_DWORDS 16		/* the saved config header: 64 bytes */
#define PB_CTL_LINE_MAX 512

/* Behaviour profiles; --historic sets all of them. */
enum pb_profile {
	/* pre-5.13 (before c81d3d2460): backend-watch events while
	 * Initialised are ignored, so per-device cold-plug writes after the
	 * first are never exported (xen-devel "libxl / xen-pciback
	 * interaction", Mar 2021; docs/protocol.md §5.3). */
	PB_HIST_NO_INIT_RESCAN = 1u << 0,
	/* Linux 6.1 as observed in the lab: after disable_msix the device
	 * still counts as MSI-X enabled; the next enable gets -EALREADY. */
	PB_HIST_MSIX_STUCK = 1u << 1,
	PB_HISTORIC = PB_HIST_NO_INIT_RESCAN | PB_HIST_MSIX_STUCK,
};

/* What the epoll loop dispatches on (epoll data.ptr points to one). */
enum pb_src_type { PB_SRC_XS, PB_SRC_CTL_LISTEN, PB_SRC_CTL_CONN,
		   PB_SRC_EVTCHN, PB_SRC_SIGNAL };
struct pb_src {
	enum pb_src_type type;
	void *obj;
};

/* Virtual config-space fields of one device (built at seize time). */
enum pb_field_kind {
	PB_F_ID,		/* vendor/device: from the device, read-only */
	PB_F_COMMAND,		/* virtualised */
	PB_F_RO,		/* read pass-through, writes ignored */
	PB_F_RW,		/* read and write pass-through */
	PB_F_BIST,		/* only START may be written */
	PB_F_BAR,		/* emulated BAR (idx 0..5) */
	PB_F_ROM,		/* emulated expansion ROM */
	PB_F_INTLINE,		/* dom0's IRQ, read-only */
	PB_F_MSI_FLAGS,		/* refused unless permissive */
	PB_F_MSIX_FLAGS,	/* refused unless permissive */
};

struct pb_field {
	uint16_t off;
	uint8_t size;
	uint8_t kind;		/* enum pb_field_kind */
	uint8_t idx;		/* BAR index */
};

#define PB_MAX_FIELDS 64

struct pb_bar {
	uint32_t val;		/* dom0's register value */
	uint32_t sizing_val;	/* what a ~0 write makes reads return */
	bool sizing;
};

struct pb_backend;

/* A host device seized by pciback. */
struct pb_dev {
	uint32_t sbdf;
	struct hv_pci_dev info;
	uint32_t saved[PB_HDR_DWORDS];	/* header at seize time */
	bool msix_prepared;
	bool no_reset;			/* the device has no reset method */
	bool permissive;		/* per device, from `permissive BDF` */
	bool warned_write;
	uint8_t msi_cap, msix_cap;	/* capability offsets, 0 = none */

	/* Exported to a guest (NULL if not). */
	struct pb_backend *be;
	uint32_t vsbdf;			/* guest-visible address */

	/* Virtual config state while exported. */
	uint16_t vcmd;
	bool enabled;			/* "pci_enable_device" done */
	struct pb_bar bar[7];		/* BAR0-5, ROM */
	unsigned int nfields;
	struct pb_field fields[PB_MAX_FIELDS];

	/* Interrupts set up through pci_op for the guest. */
	bool msi_on, msix_on;
	int msi_pirq;
	unsigned int msix_nvec;
	int msix_pirq[SH_INFO_MAX_VEC];
};

/* The xenbus backend device of one guest: backend/pci/<domid>/0. */
struct pb_backend {
	unsigned int domid;
	unsigned int gen;		/* distinguishes watch tokens */
	enum xenbus_state state;	/* own state, as last switched */
	char path[PB_PATH_MAX];		/* /local/domain/0/backend/pci/N/0 */
	char fepath[PB_PATH_MAX];	/* from the `frontend` node */
	/* path/state and fepath/state, read at every event: formatted
	 * once, at probe */
	char statepath[PB_KEYPATH_MAX];
	char festatepath[PB_KEYPATH_MAX];
	char fetoken[64];
	bool fe_watched;

	/* Connected: the frontend's page and event channel. */
	struct xen_pci_sharedinfo *sh;
	int page_fd;
	uint32_t gref;
	bool mapped;
	unsigned int port;		/* our end */
	bool bound;
	int evfd;
	struct pb_src src;
	unsigned long ops;		/* pci_ops served */
};

struct pb_ctl_conn {
	struct pb_src src;
	int fd;
	size_t len;
	char buf[PB_CTL_LINE_MAX];
};

struct pciback {
	struct xs_handle *xs;
	struct hv_client *hv;
	unsigned int profile;		/* enum pb_profile */
	bool passthrough_topology;

	struct pb_dev **devs;		/* seized devices */
	size_t ndevs;
	struct pb_backend **bes;	/* one per guest */
	size_t nbes;
	unsigned int gen;

	int epfd;
	int xsfd;
	struct pb_src xs_src;
	bool xs_lost;			/* xenstored went away: reconnecting */
	int64_t xs_checked_ms;		/* the last pciback_xs_check */
	int ctlfd;			/* listening control socket, or -1 */
	struct pb_src ctl_src;
	char ctlpath[PB_PATH_MAX];
	struct pb_ctl_conn **conns;
	size_t nconns;

	/* For tests: the last xenstore watch path handled. */
	char last_watch[PB_PATH_MAX];
	unsigned long watch_events;
};

/* stub.c */
struct pb_dev *pciback_dev_find(struct pciback *pb, uint32_t sbdf);
int pciback_seize(struct pciback *pb, uint32_t sbdf, char *msg, size_t len);
int pciback_release(struct pciback *pb, uint32_t sbdf, char *msg,
		    size_t len);
int pciback_reset(struct pciback *pb, struct pb_dev *dev, bool restore_saved,
		  char *msg, size_t len);
void pciback_put(struct pciback *pb, struct pb_dev *dev);
int pciback_parse_bdf(const char *s, bool need_domain, uint32_t *ret_sbdf);
void pciback_format_bdf(uint32_t sbdf, char *buf, size_t len);

/* export.c */
int pciback_export(struct pciback *pb, struct pb_backend *be,
		   struct pb_dev *dev, char *msg, size_t len);
struct pb_dev *pciback_lookup_vdev(struct pciback *pb, struct pb_backend *be,
				   uint32_t vsbdf);
int pciback_publish_roots(struct pciback *pb, struct pb_backend *be);

/* confspace.c */
void pciback_conf_init(struct pciback *pb, struct pb_dev *dev);
void pciback_conf_export(struct pciback *pb, struct pb_dev *dev);
int pciback_conf_read(struct pciback *pb, struct pb_dev *dev, int offset,
		      int size, uint32_t *ret_value);
int pciback_conf_write(struct pciback *pb, struct pb_dev *dev, int offset,
		       int size, uint32_t value);
int pciback_hw_read(struct pciback *pb, struct pb_dev *dev, unsigned int off,
		    unsigned int size, uint32_t *ret_value);
int pciback_hw_write(struct pciback *pb, struct pb_dev *dev,
		     unsigned int off, unsigned int size, uint32_t value);

/* op.c */
void pciback_op_do(struct pciback *pb, struct pb_backend *be,
		   struct xen_pci_op *op);
void pciback_op_service(struct pciback *pb, struct pb_backend *be);
void pciback_irq_teardown(struct pciback *pb, struct pb_dev *dev);

/* xenbus.c */
enum pb_event {
	PB_EV_PROBE,		/* the backend directory appeared */
	PB_EV_BACKEND,		/* a write under the backend directory;
				 * arg: the device index its node names */
	PB_EV_FRONTEND,		/* the frontend's state changed; arg: it */
	PB_EV_GONE,		/* the backend directory was removed */
};
/* PB_EV_BACKEND's arg besides an index: the backend as a whole (its
 * state, num_devs, the directory itself), or a node no step reads
 * (root-N, root_num, frontend, online, ...) */
#define PB_ALL_DEVS (-1)
#define PB_NO_DEV (-2)
const char *pciback_state_name(int state);
int pciback_be_write(struct pciback *pb, struct pb_backend *be,
		     const char *key, const char *val);
void pciback_xenbus_watch(struct pciback *pb, const char *path,
			  const char *token);
void pciback_step(struct pciback *pb, struct pb_backend *be,
		  enum pb_event ev, int arg);
struct pb_backend *pciback_backend_find(struct pciback *pb,
					unsigned int domid);
void pciback_backend_free_all(struct pciback *pb);
int pciback_xs_read_int(struct pciback *pb, const char *dir,
			const char *key, int *ret_value);

/* ctl.c */
int pciback_ctl_listen(struct pciback *pb, const char *path);
void pciback_ctl_accept(struct pciback *pb);
void pciback_ctl_input(struct pciback *pb, struct pb_ctl_conn *c);
void pciback_ctl_close_all(struct pciback *pb);
int pciback_ctl_request(struct pciback *pb, const char *line, char *reply,
			size_t len);

/* loop.c */
int pciback_init(struct pciback *pb, struct xs_handle *xs,
		 struct hv_client *hv, unsigned int profile);
void pciback_fini(struct pciback *pb);
int pciback_loop_once(struct pciback *pb, int timeout_ms, bool *ret_stop);
/* At most once a second: notice a xenstored that went away (a request
 * fails), and reconnect to the one started again, whose missing backends
 * are then released as removed ones are. */
void pciback_xs_check(struct pciback *pb);
int pciback_epoll_add(struct pciback *pb, int fd, struct pb_src *src);
void pciback_epoll_del(struct pciback *pb, int fd);

#endif
