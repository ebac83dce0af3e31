/* SPDX-License-Identifier: MIT */
/*
 * xpt-guest: a PV guest kernel reduced to what PCI passthrough needs.
 * pcifront (pcifront.c) finds devices through the backend's root-N keys and
 * config reads over the shared pci_op page (pciop.c); a small driver per
 * device (driver.c) enables MSI-X/MSI/INTx and counts interrupts; the query
 * socket (query.c) tells tests what the guest sees.  With --hvm it is an
 * HVM guest instead (hvm.c): PCI config I/O through 0xcf8/0xcfc, which its
 * device model answers, and MSI/MSI-X programmed as a native driver does.
 * With --pvh a PVH guest (pvh.c): the same bus 0, answered by the
 * hypervisor's vPCI, its BARs reached by guest-physical MMIO.
 */
#ifndef XPT_GUEST_H
#define XPT_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/pciif.h>

struct xs_handle;
struct hv_client;

#define GUEST_MAX_DEVS 64
#define GUEST_MAX_ROOTS 32		/* more root-N keys is bad input */
#define GUEST_MAX_VEC 4			/* vectors a driver asks for */
#define GUEST_MAX_CLIENTS 16

/*
 * The frontend's phases.  Each one except ABSENT is also the xenbus state
 * the frontend has written to its own `state` node.
 */
enum pcifront_phase {
	PF_ABSENT = 0,		/* no frontend device in xenstore (yet) */
	PF_INITIALISED = 3,	/* op page/evtchn published, waiting for 4 */
	PF_CONNECTED = 4,	/* roots scanned, drivers bound */
	PF_CLOSING = 5,		/* fatal error reported, waiting for the end */
	PF_CLOSED = 6,		/* disconnected */
	PF_RECONFIGURING = 7,	/* detached state-N==5 devices, waiting for 8 */
};

/* What the frontend does next, given its phase and the backend's state. */
enum pcifront_action {
	PFA_NONE,
	PFA_CONNECT,		/* scan roots, -> Connected */
	PFA_CONNECT_DETACH,	/* missed Connected: connect, then detach */
	PFA_DETACH,		/* remove state-N==5 devices, -> Reconfiguring */
	PFA_ATTACH,		/* rescan roots, -> Connected */
	PFA_DISCONNECT,		/* drop devices, -> Closed */
};

enum driver_irq { IRQ_NONE, IRQ_INTX, IRQ_MSI, IRQ_MSIX };
enum driver_state { DRV_NONE, DRV_BOUND, DRV_FAILED };

struct gdev {
	bool used;
	uint32_t sbdf;			/* guest-visible address */
	char host[20];			/* host BDF from dev-N, or "?" */
	uint16_t vendor, device;
	uint32_t class;
	enum driver_state drv;
	enum driver_irq irq;
	uint8_t msi_cap, msix_cap;	/* capability offsets, 0 = absent */
	uint16_t msix_size;		/* table size */
	unsigned int nvec;
	int pirq[GUEST_MAX_VEC];
	unsigned int port[GUEST_MAX_VEC];
	int fd[GUEST_MAX_VEC];		/* eventfd per vector, -1 = none */
	uint64_t count[GUEST_MAX_VEC];
	uint64_t bar[6];		/* HVM, PVH: addresses the guest placed */
	uint64_t bar_size[6];		/* and the sizes it found */
	bool mmio_read;			/* PVH: the driver's register read */
	uint64_t mmio_addr;		/* where (guest-physical), 0 none */
	uint32_t mmio_value;		/* what it read */
	int64_t sysfs_ms;		/* shows by host address from then on
					 * (--sysfs-delay-ms) */
};

#define STUBDOM_MAX_ARGS 64		/* dm-argv/001..064 */
#define STUBDOM_MAX_ARG_LEN 255

/* --stubdom: the device model this stub domain runs (stubdom.c). */
struct stubdom_dm {
	enum { SD_NONE, SD_REFUSED, SD_RUNNING, SD_EXITED } state;
	unsigned int target;		/* G, from /local/domain/S/target */
	char *argv[STUBDOM_MAX_ARGS];	/* dm-argv, validated */
	unsigned int argc;
	int pid;			/* -1 none */
	int pidfd;			/* readable when it exits, -1 none */
	int status;			/* its wait status, once exited */
	char why[200];			/* why it was refused */
};

struct qclient {
	int fd;				/* -1 = free slot */
	char buf[256];
	size_t len;
};

struct guest {
	/* parsed options */
	const char *rundir;
	unsigned int domid;
	int pciop_timeout_ms;
	bool hold;			/* --hold-backend: act on backend
					 * states only after `resume` */
	bool hvm;			/* --hvm: config I/O, no pcifront */
	bool pvh;			/* --pvh: vPCI, no pcifront */
	int64_t pvh_scan_due;		/* PVH: the next bus rescan */
	bool no_missed_connected;	/* pcifront before Linux 6.1 */
	int rescan_delay_ms;		/* answer a Reconfigured this late */
	int connect_delay_ms;		/* answer the first Connected this late */
	int sysfs_delay_ms;		/* a found device shows by host address
					 * (the stub's sysfs) this late */
	int64_t rescan_due;		/* when the delayed rescan runs, 0 */
	uint64_t mmio_next;		/* HVM: next free guest MMIO address */
	unsigned int next_vec;		/* HVM: next vector to hand out */
	int sci_fd;			/* HVM: the SCI (ISA IRQ 9), -1 none */
	bool stubdom;			/* --stubdom: a device-model stub
					 * domain; no driver binds devices */
	const char *dm_binary;		/* --dm-binary */
	int dm_delay_ms;		/* --dm-delay-ms: a slow stub boot */
	int64_t dm_due;			/* when the delayed device model
					 * starts, 0 */
	/* test-only: a hostile frontend (xpt-guest(8), HOSTILE FRONTEND) */
	const char *front_ref;		/* --front-ref: pci-op-ref written */
	const char *front_port;		/* --front-event-channel */
	const char *front_magic;	/* --front-magic */
	int grant_to;			/* --grant-to: page granted to, -1 */
	bool no_frontend;		/* --no-frontend: pcifront does nothing */
	struct stubdom_dm dm;

	struct xs_handle *xs;
	bool xs_lost;			/* xenstored died: no more xenstore */
	struct hv_client *hv;

	/* pcifront */
	enum pcifront_phase phase;
	char fe_path[64];		/* /local/domain/N/device/pci/0 */
	char be_path[128];		/* read from fe/backend */
	unsigned int be_domid;
	bool be_watched;
	int backend_state;		/* last read */
	int page_fd;
	struct xen_pci_sharedinfo *sh;
	uint32_t gref;
	bool granted;
	/* refs whose end the hypervisor refused while the backend still
	 * mapped the page (-EBUSY): ended at the next probe or release, as
	 * Linux defers them, instead of lost */
	uint32_t stale_gref[8];
	unsigned int nstale;
	unsigned int port;		/* the pci_op event channel */
	bool port_open;
	int port_fd;			/* its eventfd */
	bool dead_backend;		/* a pci_op timed out during a scan */

	struct gdev dev[GUEST_MAX_DEVS];

	/* query socket */
	int listen_fd;
	char sock_path[4096];
	char pid_path[4096];
	struct qclient client[GUEST_MAX_CLIENTS];
	bool quit;
};

/* pcifront.c */
enum pcifront_action pcifront_next(enum pcifront_phase phase,
				   int backend_state);
const char *pcifront_phase_name(enum pcifront_phase phase);
void pcifront_init(struct guest *g);
int pcifront_watch(struct guest *g);
/* CLOCK_MONOTONIC in ms */
int64_t guest_now_ms(void);
void pcifront_step(struct guest *g);
void pcifront_teardown(struct guest *g);
int pcifront_frontend_state(const struct guest *g);

/* pciop.c */
int pciop_call(struct guest *g, struct xen_pci_op *op);
int pciop_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		    uint32_t *ret_value);
int pciop_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		     uint32_t value);
int pciop_enable_msix(struct guest *g, uint32_t sbdf, unsigned int nvec,
		      int *ret_pirqs);
int pciop_disable_msix(struct guest *g, uint32_t sbdf);
int pciop_enable_msi(struct guest *g, uint32_t sbdf, int *ret_pirq);
int pciop_disable_msi(struct guest *g, uint32_t sbdf, int *ret_intx_pirq);

/* hvm.c: an HVM guest's PCI (bus 0 through its device model); a PVH
 * guest's bus 0 the same way, through vPCI */
int hvm_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		  uint32_t *ret_value);
int hvm_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		   uint32_t value);
/* (Re)enumerate bus 0: new functions probed, vanished ones removed. */
int hvm_scan(struct guest *g);
/* ACPI at boot: the SCI's eventfd, the hotplug GPE enabled. */
int hvm_acpi_init(struct guest *g);
/* The SCI fired: the hotplug GPE's handler and acpiphp's part. */
void hvm_acpi_sci(struct guest *g);
void hvm_teardown(struct guest *g);
/* Program and enable nvec MSI-X entries / MSI; d->fd[] count them. */
int hvm_enable_msix(struct guest *g, struct gdev *d, unsigned int nvec);
void hvm_disable_msix(struct guest *g, struct gdev *d);
int hvm_enable_msi(struct guest *g, struct gdev *d);
void hvm_disable_msi(struct guest *g, struct gdev *d);

/* pvh.c: a PVH guest's PCI (vPCI); bus 0 is enumerated by hvm.c */
#define PVH_RESCAN_MS 200		/* no hot-plug event: rescan this often */
int pvh_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		  uint32_t *ret_value);
int pvh_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		   uint32_t value);
/* The driver's register read through the device's BAR (d->mmio_*). */
void pvh_read_reg(struct guest *g, struct gdev *d);
void pvh_schedule_rescan(struct guest *g);

/* driver.c */
void driver_init_dev(struct gdev *d);
int driver_probe(struct guest *g, struct gdev *d);
void driver_remove(struct guest *g, struct gdev *d);
int driver_reprobe(struct guest *g, struct gdev *d);
void driver_poll_irqs(struct gdev *d);
const char *driver_irq_name(enum driver_irq irq);
const char *driver_state_name(enum driver_state s);

/* stubdom.c: a stub domain's init starting its device model */
/* dm-argv's key names (n of them): 001..n, each once: 0, or -EINVAL
 * with the reason in err, to follow the directory's path ("/004: keys
 * must be ...", "has 70 arguments ..."). */
int stubdom_check_keys(const char *const *names, unsigned int n,
		       char *err, size_t errlen);
/* The toolstack's dm-argv (argc of them) for target: 0, or an error
 * with the reason in err. */
int stubdom_check_argv(const char *const *argv, unsigned int argc,
		       unsigned int target, char *err, size_t errlen);
/* Read target, vm and dm-argv as this domain and start the device
 * model; an error (logged) leaves it not started. */
int stubdom_start(struct guest *g);
/* Its pidfd is readable: collect it. */
void stubdom_reap(struct guest *g);
/* SIGTERM it (SIGKILL after a bound) and wait; frees the arguments. */
void stubdom_stop(struct guest *g);
/* " stubdom target=G dm=running dm-pid=P" and the like */
int stubdom_format_status(const struct guest *g, char *buf, size_t len);

/* query.c */
enum query_op {
	Q_STATUS, Q_REPROBE, Q_RESUME, Q_SHUTDOWN,
	Q_PCI_DEV, Q_CONF_READ, Q_CONF_WRITE, Q_PCI_OP, Q_END_GRANT,
};
/* One request line, parsed. */
struct query_req {
	enum query_op op;
	uint32_t reason;		/* Q_SHUTDOWN: HV_SHUTDOWN_* */
	const char *reason_name;
	char *bdf;			/* Q_PCI_DEV, Q_CONF_*: in the line */
	uint32_t reg, size, value;	/* Q_CONF_*; value: Q_CONF_WRITE */
	struct xen_pci_op raw;		/* Q_PCI_OP: the op as given */
	uint32_t nent, count;		/* Q_PCI_OP: msix_entries filled,
					 * how many times it is sent */
};
/* Parse a request line (its words are cut with NULs in place); pv: a
 * PV guest, which also has resume, pci-dev, conf-read and conf-write.
 * 0, or -EINVAL with the reply's reason in err. */
int query_parse(char *line, bool pv, struct query_req *ret_req, char *err,
		size_t errlen);
int query_open(struct guest *g);
void query_close(struct guest *g);
void query_accept(struct guest *g);
void query_input(struct guest *g, struct qclient *c);
int query_format_dev(const struct gdev *d, char *buf, size_t len);

#endif
