/* SPDX-License-Identifier: MIT */
/*
 * libxpt's map: the context struct and the internal functions, grouped by
 * file.  Public API: include/xpt/xpt.h.
 */
#ifndef XPT_LIBXPT_H
#define XPT_LIBXPT_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>

#include "platform.h"
#include "xpt/spec.h"
#include "xpt/model.h"
#include "xpt/xpt.h"

#define XPT_WAIT_MS 10000		/* backend waits (libxl: 10 s) */
#define XPT_FORCE_WAIT_MS 2000		/* forced detach / destroy */
#define XPT_SLOW_GUEST_MS 20000		/* more, for a guest that answers */
#define XPT_START_WAIT_MS 10000		/* daemons and guests starting */
#define XPT_LOCK_WAIT_MS 60000
#define XPT_DESTROY_MS 4000		/* the whole of a destroy's waits */
#define XPT_MAX_DELAYS 16

struct xpt_delay {
	char point[48];
	int ms;
};

struct xpt_ctx {
	char rundir[PATH_MAX - 64];
	struct xs_handle *xs;
	const struct xpt_platform *pf;		/* the host: model or xen */
	void *pfdata;				/* the platform's own state */
	char err[1024];
	int exit_code;
	char warnings[2048];
	unsigned int seq;			/* watch tokens */
	struct xpt_delay delay[XPT_MAX_DELAYS];
	unsigned int ndelay;
	unsigned int seed;
	bool seeded;
	char delay_log[256];			/* XPT_DELAY_LOG, "" none */
	int64_t deadline;			/* ms (xpt_now_ms), 0 none */
	unsigned int wait_permille;		/* xpt --wait-factor, x1000 */
	bool verbose;				/* xpt -v: trace.c */
	int64_t t0;				/* ms, the context's start */
	const struct xpt_platform *pf_inner;	/* traced: the real one */
	struct xpt_platform pf_trace;
	xpt_progress_fn progress;		/* NULL: nobody listens */
	void *progress_arg;
};

/* doctor.c: its parsers, on captured text */
#define XPT_RMRR_MAX 64
struct xpt_console_facts {
	int iommu;		/* "I/O virtualisation enabled" 1, "disabled"
				 * 0, not in the ring -1 */
	int intremap;		/* "Interrupt remapping enabled|disabled" */
	size_t nrmrr;		/* VT-d RMRR endpoints (iommu=verbose) */
	struct {
		uint32_t sbdf;
		unsigned int rmrr;	/* which RMRR, in the order found */
	} rmrr[XPT_RMRR_MAX];
};
void xpt_console_parse(const char *text, struct xpt_console_facts *ret);
struct xpt_pci_caps {
	bool msi, msix, pcie, flr;
	unsigned int msi_vectors, msix_entries;
};
/* The capability list of len bytes of configuration space (>= 64):
 * -ERANGE when it points past them, -EINVAL/-ELOOP when broken. */
int xpt_pci_caps_parse(const uint8_t *conf, size_t len,
		       struct xpt_pci_caps *ret);

/* ctx.c */
int xpt_fail(struct xpt_ctx *c, int code, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void xpt_warn(struct xpt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* More of the same failure: "; text" appended to the error. */
void xpt_fail_more(struct xpt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same for a failure being put together in buf (nothing when full) */
void xpt_fail_append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xpt_connect(struct xpt_ctx *c);	/* xenstore + hypervisor */
void xpt_delay_point(struct xpt_ctx *c, const char *point);
int64_t xpt_now_ms(void);
/* ms bounded by the operation's deadline (destroy bounds all its waits) */
int xpt_bound_ms(const struct xpt_ctx *c, int ms);
/* A bound on waiting for another party (a backend, guest, device model,
 * stub domain, daemon or another xpt): the base ms times the wait factor
 * (xpt --wait-factor, $XPT_WAIT_FACTOR), then bounded by the deadline.
 * Every such constant goes through it where it is used, once. */
int xpt_wait_ms(const struct xpt_ctx *c, int base_ms);
int xpt_scale_ms(const struct xpt_ctx *c, int base_ms);	/* no deadline */
/* A bound in whole seconds for a message, rounded up as the progress
 * reports round it ("at most N s"), so 0.1 x 5000 ms reads 1 s, not 0 */
static inline int xpt_secs(int ms)
{
	return (ms + 999) / 1000;
}
int xpt_path(struct xpt_ctx *c, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* root/fmt...: 0, or -ENAMETOOLONG when it does not fit */
int xpt_vpath(char *buf, size_t len, const char *root, const char *fmt,
	      va_list ap) __attribute__((format(printf, 4, 0)));
int xpt_mkdirs(const char *path);
void xpt_format_bdf(uint32_t sbdf, char *buf, size_t len);	/* 0000:03:00.0 */
void xpt_marker_bdf(uint32_t sbdf, char *buf, size_t len);	/* 0000-03-00-0 */

/* trace.c: with verbose, every platform call and the operation's steps
 * on stderr, timed */
void xpt_trace(struct xpt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xpt_trace_platform(struct xpt_ctx *c, const struct xpt_platform *pf);

/* lock.c: per-domain and host-wide flocks, bounded; host first */
int xpt_lock_domain(struct xpt_ctx *c, unsigned int domid, int *ret_fd);
int xpt_lock_host(struct xpt_ctx *c, int *ret_fd);
void xpt_unlock(int fd);
/* flock(LOCK_EX) bounded by timeout_ms: 0, -ETIMEDOUT or -errno; what
 * names the lock for the progress reports */
int xpt_flock_wait(struct xpt_ctx *c, const char *what, int fd,
		   int timeout_ms);

/* progress.c: a wait's progress, told to the context's listener */
#define XPT_PROGRESS_FIRST_MS 1000
#define XPT_PROGRESS_EVERY_MS 5000
struct xpt_progress {
	struct xpt_ctx *c;	/* NULL: nobody listens, or ended */
	char what[224];
	int bound_ms;
	int64_t start, next;	/* ms: the wait's start, the next report */
	bool told;
};
/* what: the object and the event, "domain 3's device model to be ready" */
void xpt_progress_begin(struct xpt_ctx *c, struct xpt_progress *p,
			int bound_ms, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Tells a report that is due; returns ms, at most ms, to sleep before
 * calling again. */
int xpt_progress_poll_ms(struct xpt_progress *p, int64_t ms);
void xpt_progress_end(struct xpt_progress *p, int result);
/* A note on a wait under way, to the listener (NOTE): nothing when nobody
 * listens, as with xpt -q. */
void xpt_progress_note(struct xpt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* wait.c: bounded event-driven waits on xenstore */
/* pred returns 1 done, 0 not yet, <0 failed (its error is the result).
 * what: what is waited for, for the progress reports. */
typedef int (*xpt_pred_fn)(struct xpt_ctx *c, void *arg);
int xpt_wait(struct xpt_ctx *c, const char *what, const char *const *paths,
	     size_t npaths, int timeout_ms, int recheck_ms, xpt_pred_fn pred,
	     void *arg);
/* Wait for a file to appear while process pid lives (inotify, pidfd);
 * c (may be NULL) hears the progress, what names the party. */
int xpt_wait_file(struct xpt_ctx *c, const char *what, const char *path,
		  int pid, int timeout_ms);

/* xs.c: small xenstore helpers */
char *xpt_xs_read(struct xpt_ctx *c, xs_transaction_t t, const char *path);
int xpt_xs_read_int(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		    int *ret);
int xpt_xs_read_text(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		     char *buf, size_t len);
int xpt_xs_write(struct xpt_ctx *c, xs_transaction_t t, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int xpt_xs_rm(struct xpt_ctx *c, xs_transaction_t t, const char *path);
bool xpt_xs_exists(struct xpt_ctx *c, xs_transaction_t t, const char *path);
/* Bounded transactions with checked writes (the loop is in xs.c). */
#define XPT_TXN_TRIES 64
struct xpt_txn {
	xs_transaction_t t;
	unsigned int tries;	/* conflicts so far */
	int err;		/* the first failed write inside, or 0 */
};
#define XPT_TXN_INIT { XBT_NULL, 0, 0 }
int xpt_txn_begin(struct xpt_ctx *c, struct xpt_txn *tx);
int xpt_txn_end(struct xpt_ctx *c, struct xpt_txn *tx);
void xpt_txn_abort(struct xpt_ctx *c, struct xpt_txn *tx);
void xpt_txn_write(struct xpt_ctx *c, struct xpt_txn *tx, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void xpt_txn_rm(struct xpt_ctx *c, struct xpt_txn *tx, const char *path);
void xpt_txn_mkdir(struct xpt_ctx *c, struct xpt_txn *tx, const char *path,
		   const struct xs_permissions *perms, unsigned int nperms);

/* pciback's devices: at most this many are surveyed (every function
 * of the modelled host's HYP_PCI_MAX) */
#define XPT_PB_MAX XPT_ASSIGNABLE_MAX
/* host PCI functions: at most this many are listed (the modelled
 * host's HYP_PCI_MAX) */
#define XPT_PCI_MAX 4096

/* backend.c */
void xpt_be_paths(unsigned int domid, char *be, size_t belen, char *fe,
		  size_t felen);
int xpt_be_read(struct xpt_ctx *c, xs_transaction_t t, unsigned int domid,
		struct xpt_be *ret);
int xpt_be_read_ids(struct xpt_ctx *c, xs_transaction_t t,
		    unsigned int domid, struct xpt_be *ret);
const struct xpt_be_entry *xpt_be_find(const struct xpt_be *b, uint32_t sbdf);
/* The toolstack's writes. */
struct xpt_dev;
void xpt_be_create_dirs(struct xpt_ctx *c, struct xpt_txn *tx,
			unsigned int domid, const char *name);
void xpt_be_write_entry(struct xpt_ctx *c, struct xpt_txn *tx,
			unsigned int domid, int n,
			const struct xpt_be_entry *e);
void xpt_be_entry_of(const struct xpt_dev *d, struct xpt_be_entry *ret);
void xpt_be_write_dev(struct xpt_ctx *c, struct xpt_txn *tx,
		      unsigned int domid, int n, const struct xpt_dev *d);
/* Remove the entries of sbdfs and compact (docs/protocol.md §4.3); the
 * last removes both directories.  Returns how many entries remain. */
int xpt_be_remove_compact(struct xpt_ctx *c, struct xpt_txn *tx,
			  unsigned int domid, const struct xpt_be *b,
			  const uint32_t *sbdfs, size_t n);
int xpt_be_error_node(struct xpt_ctx *c, unsigned int domid, char *buf,
		      size_t len);

/* assignable.c: bind to pciback and quarantine; caller holds the
 * device's lock */
int xpt_assignable_seize(struct xpt_ctx *c, uint32_t sbdf, const char *name);

/* owner.c: who holds each device, before anything is changed */
struct xpt_hold {
	uint32_t sbdf;
	int hv;			/* IOMMU owner: a domid, XPT_DOMID_IO; -1 unknown */
	int hv_err;		/* why unknown: -ENODEV no such device, ... */
	bool bridge;		/* a PCI-to-PCI bridge: pciback refuses it */
	bool pb_bound;		/* bound to pciback (assignable) */
	int pb_domid;		/* the domain pciback exports it to, -1 none */
	int marker;		/* /libxl/pci/<bdf>/domid, -1 none */
	int be_domid;		/* a backend listing it (the surveyed domain's
				 * first), -1 none */
	int be_state;		/* its state-N there */
	int be_count;		/* backends listing it */
	int xs_err;		/* the store failed to show its marker or a
				 * backend (-EIO): who holds it is unknown */
	struct xpt_pdev info;	/* the host's description (hv_err == 0) */
};
int xpt_hold_survey(struct xpt_ctx *c, unsigned int domid,
		    const uint32_t *sbdfs, size_t n, struct xpt_hold *ret);
/* domid holds it in some layer */
bool xpt_hold_is(const struct xpt_hold *h, unsigned int domid);
/* another domain holding it (and in which layer, as words), or -1 */
int xpt_hold_other(const struct xpt_hold *h, unsigned int domid,
		   const char **ret_layer);
int xpt_lock_devices(struct xpt_ctx *c, const uint32_t *sbdfs, size_t n,
		     int *ret_fds);
void xpt_unlock_devices(int *fds, size_t n);

/* config.c: the persisted domain configuration (JSON) */
struct xpt_domcfg {
	unsigned int domid;
	char uuid[40];
	struct xpt_cfg cfg;		/* pci[] one entry per function */
	bool started;		/* its kernel was booted once */
};
int xpt_domcfg_load(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_domcfg *ret);
int xpt_domcfg_save(struct xpt_ctx *c, const struct xpt_domcfg *d);
void xpt_domcfg_remove(struct xpt_ctx *c, unsigned int domid);
/* a reboot under way, by the domain's name (DIR/xpt/reboot/NAME.json) */
int xpt_domcfg_pending_save(struct xpt_ctx *c, const struct xpt_domcfg *d);
int xpt_domcfg_pending_load(struct xpt_ctx *c, const char *name,
			    struct xpt_domcfg *ret);
void xpt_domcfg_pending_remove(struct xpt_ctx *c, const char *name);
int xpt_domcfg_to_json(const struct xpt_domcfg *d, char **ret);
int xpt_domcfg_from_json(const char *text, struct xpt_domcfg *ret,
			 char *err, size_t errlen);

/* dev.c: one function being passed through: what was done, for undo */
struct xpt_dev {
	struct xpt_pci spec;	/* this function only: func_mask = 1 << fn */
	uint32_t sbdf;
	int vdevfn;		/* -1 none */
	struct xpt_pdev info;
	/* what this operation did (so release undoes exactly that) */
	bool marker, perms, pirq, assigned;
	bool seized;		/* seize=1 bound it to pciback */
	bool reset;		/* a reset is owed: the domain reserved it */
	int pirq_nr;
	int reset_err;		/* last reset's failure, 0 none */
	const char *stuck;	/* release: why it stays reserved, NULL */
};
/* Expand a spec (name=, BB:DD.*) into functions, highest first and
 * function 0 last. */
int xpt_dev_expand(struct xpt_ctx *c, const struct xpt_pci *spec,
		   struct xpt_dev *ret, size_t max, size_t *ret_n);
int xpt_dev_prepare(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_dev *devs, size_t n);
/* Undo exactly what the flags record: permissions, pirq, IOMMU,
 * reset, marker, seize.  Returns how many devices stay reserved because
 * their deassign or reset failed, described in left. */
int xpt_dev_release(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_dev *devs, size_t n, char *left,
		    size_t leftlen);
/* Devices leaving domid: release what the domain holds of each, leave
 * alone what another domain holds.  Returns as xpt_dev_release. */
/* Undo a failed operation's devices and say in the error whether that
 * worked ("the attach was undone") or what stays reserved. */
void xpt_dev_undo(struct xpt_ctx *c, unsigned int domid,
		  struct xpt_dev *devs, size_t n, const char *what);
int xpt_dev_teardown(struct xpt_ctx *c, unsigned int domid,
		     const uint32_t *sbdfs, size_t n, char *left,
		     size_t leftlen);
void xpt_dev_permissive(struct xpt_ctx *c, unsigned int domid,
			const struct xpt_dev *devs, size_t n);
int xpt_dev_name_to_bdf(struct xpt_ctx *c, const char *name,
			uint32_t *ret_sbdf);
/* The devices whose /libxl/pci marker names domid, up to max (in the
 * order xenstore lists them). */
int xpt_dev_marked(struct xpt_ctx *c, unsigned int domid, uint32_t *ret,
		   size_t max, size_t *ret_n);
int xpt_dev_stub_grant(struct xpt_ctx *c, unsigned int stub,
		       const struct xpt_dev *devs, size_t n);
void xpt_dev_stub_revoke(struct xpt_ctx *c, unsigned int stub,
			 const uint32_t *sbdfs, size_t n);

/* pci.c */
int xpt_pci_coldplug(struct xpt_ctx *c, unsigned int domid, const char *name,
		     const struct xpt_dev *devs, size_t n);
int xpt_pci_destroy_all(struct xpt_ctx *c, unsigned int domid,
			char *left, size_t leftlen);
/* A stub domain's own backend: its guest's devices as a running PV
 * domain's hot-plug, waited for; given back as pci-detach does; all of it
 * at destroy (its kernel stopped first). */
int xpt_pci_pv_add(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_dev *devs, size_t n);
int xpt_pci_pv_remove(struct xpt_ctx *c, unsigned int domid,
		      const uint32_t *sbdfs, size_t n, bool force);
void xpt_pci_pv_remove_all(struct xpt_ctx *c, unsigned int domid);

/* domain.c: the domain's own xenstore nodes, for a platform whose domain
 * build does not write them (libxl__domain_make's, kept small) */
int xpt_domain_nodes(struct xpt_ctx *c, unsigned int domid,
		     const struct xpt_cfg *cfg, const char *uuid);
/* The name index's entry for name (domain.c's head comment), in tx. */
#define XPT_NAME_INDEX_PATH 256
void xpt_name_index_write(struct xpt_ctx *c, struct xpt_txn *tx,
			  const char *name, unsigned int domid);
void xpt_make_uuid(char *buf, size_t len);

/* platform.c: every domain, in id order (*ret malloc'ed) */
int xpt_dom_list_all(struct xpt_ctx *c, struct xpt_pdom **ret, size_t *ret_n);

/* qmp.c: a QMP client (a device model's monitor socket), every wait
 * bounded; a QMP error returns its class as an errno (CommandNotFound
 * -EOPNOTSUPP, DeviceNotFound -ENODEV, else -EIO) and "Class: desc" in
 * err; a session that breaks the protocol returns -EPROTO: close it. */
struct xpt_qmp;
/* c (NULL: nobody) hears the progress of this session's waits, its
 * greeting's included; who names the party ("domain 3's device model"). */
int xpt_qmp_open(struct xpt_ctx *c, const char *who, const char *path,
		 int timeout_ms, struct xpt_qmp **ret, char *err,
		 size_t errlen);
void xpt_qmp_close(struct xpt_qmp *q);
/* args_json: a JSON object's text, or NULL; *ret_json (if not NULL) the
 * "return" value as JSON text, malloc'ed. */
int xpt_qmp_exec(struct xpt_qmp *q, const char *cmd, const char *args_json,
		 int timeout_ms, char **ret_json, char *err, size_t errlen);
/* An event by name (and data.device), one already queued included. */
int xpt_qmp_wait_event(struct xpt_qmp *q, const char *name,
		       const char *device, int timeout_ms);

/* dm.c: an HVM guest's device model: started paused and ready (QMP
 * "prelaunch") within timeout_ms, or killed with its nodes, never left
 * half-started; *ret the QMP session, held by the caller (under the
 * domain's lock) */
#define XPT_DM_START_MS 10000
int xpt_dm_qmp_path(struct xpt_ctx *c, unsigned int domid, char *buf,
		    size_t len);
int xpt_dm_start(struct xpt_ctx *c, unsigned int domid, const char *binary,
		 int timeout_ms, struct xpt_qmp **ret);
int xpt_dm_connect(struct xpt_ctx *c, unsigned int domid,
		   struct xpt_qmp **ret);
void xpt_dm_kill(struct xpt_ctx *c, unsigned int domid);
/* xpt's record says HVM and a device model of ours still runs for the
 * domain (found by the QMP socket its command line names, when the store
 * no longer records its pid) */
bool xpt_dm_lingers(struct xpt_ctx *c, unsigned int domid);
/* stop that device model, the store not asked (a host stopping, or a
 * hypervisor restarted) */
void xpt_dm_stop_found(struct xpt_ctx *c, unsigned int domid);

/* A domain's xenstore traces: its /vm path, /local/domain/<id>, /libxl/<id>
 * and pciback's error node, then the store's release of it (after the
 * hypervisor destroyed it).  A node that stays is a warning. */
void xpt_domain_forget(struct xpt_ctx *c, unsigned int domid);
/* /libxl/<domid>/type ("pv", "hvm", "pvh"; "" none), or the store's
 * error as the context's; whether it says type (false when unread). */
int xpt_domain_type(struct xpt_ctx *c, unsigned int domid, char *buf,
		    size_t len);
bool xpt_domain_type_is(struct xpt_ctx *c, unsigned int domid,
			const char *type);

/* hvm.c: PCI passthrough to an HVM guest through its device model */
bool xpt_domain_is_hvm(struct xpt_ctx *c, unsigned int domid);
int xpt_hvm_pci_add(struct xpt_ctx *c, unsigned int domid, struct xpt_qmp *q,
		    const struct xpt_dev *devs, size_t n);
int xpt_hvm_pci_remove(struct xpt_ctx *c, unsigned int domid,
		       const uint32_t *sbdfs, size_t n, bool force);
int xpt_hvm_pci_list(struct xpt_ctx *c, unsigned int domid, struct xpt_be *ret);
/* the device model lists sbdf (query-pci); false when it does not answer */
bool xpt_hvm_pci_has(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf);

/* pvh.c: PCI passthrough to a PVH guest (vPCI).  refuse_cfg: a create
 * of a PVH guest with devices (or passthrough) on a host without vPCI for
 * domU guests; refuse_attach: an attach to a PVH domain there.  Both
 * before anything else, the hypervisor not touched. */
bool xpt_domain_is_pvh(struct xpt_ctx *c, unsigned int domid);
int xpt_pvh_refuse_cfg(struct xpt_ctx *c, const struct xpt_cfg *cfg);
int xpt_pvh_refuse_attach(struct xpt_ctx *c, unsigned int domid);
/* What vPCI cannot give a PVH guest (another function than 0 of a
 * multi-function device), refused before any side effect. */
int xpt_pvh_check_devs(struct xpt_ctx *c, const char *who,
		       const struct xpt_dev *devs, size_t n);
/* pci-list of a PVH guest: its devices by their markers, each with its
 * guest slot on the vPCI bus. */
int xpt_pvh_pci_list(struct xpt_ctx *c, unsigned int domid,
		     struct xpt_be *ret);

/* stubdom.c: an HVM guest's device model in a stub domain.  of: the
 * guest's stub domain, -1 none (G's image/device-model-domid and the
 * stub's target must agree); build: the stub domain, paused, its nodes
 * and set_target (no-op where dom_create built it); start: it runs and
 * its device model is ready, *ret its QMP session; pci_add: the devices
 * to the stub domain and its device model (plain xpt_hvm_pci_add without
 * one); pci_remove: the stub domain's part of a detach, after the device
 * model's; destroy: the stub domain and what it held. */
int xpt_stubdom_of(struct xpt_ctx *c, unsigned int domid);
/* The guest whose stub domain stub is, -1 none; refuse: fails (usage)
 * naming the guest to `what` instead, 0 for any other domain. */
int xpt_stubdom_target(struct xpt_ctx *c, unsigned int stub);
int xpt_stubdom_refuse(struct xpt_ctx *c, unsigned int domid,
		       const char *what);
int xpt_stubdom_build(struct xpt_ctx *c, const struct xpt_cfg *cfg,
		      unsigned int guest);
int xpt_stubdom_start(struct xpt_ctx *c, unsigned int guest,
		      struct xpt_qmp **ret);
int xpt_stubdom_pci_add(struct xpt_ctx *c, unsigned int guest,
			struct xpt_qmp *q, struct xpt_dev *devs, size_t n);
int xpt_stubdom_pci_remove(struct xpt_ctx *c, unsigned int guest,
			   const uint32_t *sbdfs, size_t n, bool force);
/* 0, or <0 when the hypervisor did not destroy the stub domain (its id
 * in *ret_stub, -1 when the guest has none) */
int xpt_stubdom_destroy(struct xpt_ctx *c, unsigned int guest, int *ret_stub);

/* spawn.c: detached daemons */
int xpt_find_binary(const char *name, char *buf, size_t len);
int xpt_spawn_detached(const char *const argv[], const char *logpath,
		       int *ret_pid);
bool xpt_pid_alive(int pid, const char *must_contain);
/* The process exists and is not a zombie (its command line may be
 * empty for a moment while it execs). */
bool xpt_pid_running(int pid);
/* SIGTERM, a bounded wait, then SIGKILL; c (may be NULL) hears the
 * progress of the wait, name names the process ("xpt-pciback",
 * "domain 3's guest kernel"). */
int xpt_pid_stop(struct xpt_ctx *c, const char *name, int pid,
		 int timeout_ms);

#endif
