/* SPDX-License-Identifier: MIT */
/*
 * libxpt: the toolstack (libxl's role) for the xpt modelled host.  One
 * context per process; every operation returns 0 or a negative errno and,
 * on failure, leaves a message naming the domain, the device and what to do
 * in xpt_ctx_error(), plus the exit code class a CLI should use.
 */
#ifndef XPT_XPT_H
#define XPT_XPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xpt/spec.h"

/* Exit codes of the xpt(1) CLI; xpt_ctx_exit_code() maps failures. */
enum xpt_exit {
	XPT_EXIT_OK = 0,
	XPT_EXIT_FAIL = 1,	/* the operation failed */
	XPT_EXIT_USAGE = 2,	/* usage or parse error */
	XPT_EXIT_NOTFOUND = 3,	/* no such domain or device */
};

struct xpt_ctx;

/* rundir NULL: $XPT_RUNDIR, else /run/xpt.  Connections to xenstore and
 * the hypervisor are made on first use. */
int xpt_ctx_open(const char *rundir, struct xpt_ctx **ret);
void xpt_ctx_close(struct xpt_ctx *c);
const char *xpt_ctx_rundir(const struct xpt_ctx *c);
/* The host to drive: "model" or "xen"; NULL: $XPT_PLATFORM, else xen in
 * a Xen control domain, else model.  Exit code 2 when unknown or not
 * built in. */
int xpt_ctx_set_platform(struct xpt_ctx *c, const char *name);
const char *xpt_ctx_platform(struct xpt_ctx *c);
/* Multiply every bound on waiting for another party (backends, guests,
 * device models, stub domains, daemons, another xpt's lock) by factor,
 * a decimal from 0.1 to 100, for a loaded or emulated host; NULL:
 * $XPT_WAIT_FACTOR, else 1.  Exit code 2 when malformed or out of range. */
int xpt_ctx_set_wait_factor(struct xpt_ctx *c, const char *factor);
/* Trace every hypervisor, pciback and domain call and each step of an
 * operation, timed, on stderr (xpt -v). */
void xpt_ctx_set_verbose(struct xpt_ctx *c, bool verbose);
const char *xpt_ctx_error(const struct xpt_ctx *c);
int xpt_ctx_exit_code(const struct xpt_ctx *c);
/* Warnings collected by the last operation (one per line), or "". */
const char *xpt_ctx_warnings(const struct xpt_ctx *c);

/* A bounded wait that lasts (a backend's or frontend's state, pciback,
 * a guest kernel, a device model, a stub domain, a domain's death, a lock
 * another xpt holds): START once it has lasted 1 s, STILL every 5 s of
 * it after, END when it ends (only if START was told).  A wait that ends
 * within its first second is never told.  NOTE: what a wait decided on
 * its way, in what ("domain 3: the guest is slow to take the change ...:
 * waiting up to 20 s more"); it is no error (errors are the operation's
 * own), so a listener that is quiet may drop it. */
enum xpt_progress_kind {
	XPT_PROGRESS_START,
	XPT_PROGRESS_STILL,
	XPT_PROGRESS_END,
	XPT_PROGRESS_NOTE,
};
struct xpt_progress_report {
	enum xpt_progress_kind kind;
	const char *what;	/* "domain 3's PCI backend to be Connected" */
	int bound_ms;		/* the wait's bound */
	int64_t elapsed_ms;	/* since the wait began */
	int result;		/* END: 0, or the wait's -errno */
};
typedef void (*xpt_progress_fn)(void *arg,
				const struct xpt_progress_report *r);
/* NULL: nobody listens (the default). */
void xpt_ctx_set_progress(struct xpt_ctx *c, xpt_progress_fn fn, void *arg);

/* domain.c */
struct xpt_domain_info {
	unsigned int domid;
	char name[65];
	char state[16];		/* running, paused, shutdown, dying; crashed:
				 * its kernel was started and is gone */
	uint64_t memory_mb;
	unsigned int vcpus;
	unsigned int ndevs;	/* devices in the persisted configuration */
	bool kernel_alive;	/* its guest kernel runs (dom0: true) */
	char pci_backend[16];	/* "" fine, "closing", "closed" */
	char pci_error[160];	/* pciback's error node, "" none */
};
/* "3" or a name -> domid; -ESRCH (exit 3) when there is none,
 * -ENOTUNIQ when two domains have the name. */
int xpt_domain_resolve(struct xpt_ctx *c, const char *dom,
		       unsigned int *ret_domid);
int xpt_domain_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
		      bool paused, unsigned int *ret_domid);
int xpt_domain_destroy(struct xpt_ctx *c, unsigned int domid);
int xpt_domain_pause(struct xpt_ctx *c, unsigned int domid);
int xpt_domain_unpause(struct xpt_ctx *c, unsigned int domid);
int xpt_domain_reboot(struct xpt_ctx *c, unsigned int domid,
		      unsigned int *ret_domid);
/* A reboot of the domain named name that was cut short after its old
 * domain went: finish it (the domain made again from its record) or give
 * it up; either way what the old domain left is removed.  -ENOENT, with
 * no error set, when no such reboot is pending. */
int xpt_domain_reboot_pending(struct xpt_ctx *c, const char *name,
			      bool finish, unsigned int *ret_domid);
/* Every domain, in id order (dom0 first); *ret is malloc'ed (free it). */
int xpt_domain_list(struct xpt_ctx *c, struct xpt_domain_info **ret,
		    size_t *ret_n);

/* pci.c: passthrough to a PV guest */
int xpt_pci_attach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec);
int xpt_pci_detach(struct xpt_ctx *c, unsigned int domid,
		   const struct xpt_pci *spec, bool force);

/* backend.c: what the backend directory holds, whatever state it is in */
#define XPT_BE_MAX 256
struct xpt_be_entry {
	int index;
	bool has_dev, valid;	/* valid: dev-N parses as a BDF */
	uint32_t sbdf;
	char dev[32];		/* raw dev-N */
	int state;		/* state-N, -1 missing or garbage */
	char vdev[32];		/* vdev-N (written by the backend), "" */
	int vdevfn;		/* vdevfn-N, -1 missing */
	char opts[128], name[65];
	bool beyond;		/* index >= num_devs */
};
struct xpt_be {
	bool exists;
	int num_devs;		/* -1 missing or garbage */
	int state, fe_state;	/* -1 missing */
	size_t n;		/* entries, by index */
	struct xpt_be_entry e[XPT_BE_MAX];
	size_t nwarn;
	char warn[16][160];
};
int xpt_pci_list(struct xpt_ctx *c, unsigned int domid, struct xpt_be *ret);

/* assignable.c */
struct xpt_assignable {
	uint32_t sbdf;
	char name[65];
	int domid;		/* -1: free; else the domain it is assigned to */
};
/* room enough for every device pciback may hold */
#define XPT_ASSIGNABLE_MAX 4096
int xpt_assignable_add(struct xpt_ctx *c, uint32_t sbdf, const char *name);
int xpt_assignable_remove(struct xpt_ctx *c, const struct xpt_pci *spec,
			  bool rebind);
int xpt_assignable_list(struct xpt_ctx *c, struct xpt_assignable *ret,
			size_t max, size_t *ret_n);

/* doctor.c: is the host ready for passthrough (xpt doctor).  One check
 * per row; read only. */
enum xpt_check_status {
	XPT_CHECK_PASS,
	XPT_CHECK_WARN,
	XPT_CHECK_FAIL,
	XPT_CHECK_SKIP,		/* could not be checked (detail says why) */
};
struct xpt_check {
	char check[16];		/* hypervisor, store, iommu, intremap,
				 * pciback, leftovers, device, reset, group,
				 * msi, driver */
	char object[64];	/* what: "Xen", "xenstore", "0000:03:00.0",
				 * "domain 7", ... */
	enum xpt_check_status status;
	char detail[512];	/* what was found; why it matters */
	char fix[512];		/* not PASS: the command or boot option */
};
const char *xpt_check_status_name(enum xpt_check_status s); /* "PASS" */
/* specs: BDFs, BB:DD.* or name=NAME; none: every device pciback holds.
 * *ret is malloc'ed (free it). */
int xpt_doctor_run(struct xpt_ctx *c, const struct xpt_pci *specs,
		   size_t nspecs, struct xpt_check **ret, size_t *ret_n);

#endif
