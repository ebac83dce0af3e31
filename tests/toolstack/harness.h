/* SPDX-License-Identifier: MIT */
/*
 * The toolstack tests' harness: a modelled host in a fresh run directory
 * (xpt-xenstored, xpt-hypervisor, xpt-pciback; the guests are started by
 * the toolstack under test as $XPT_GUEST), and helpers that drive "the
 * toolstack under test" (xpt or the libxl 4.17 peer) by its executable and
 * look at xenstore, the hypervisor and the guests.  Waits are event-driven
 * (watches, inotify, pidfds) and bounded.  The run directory, processes,
 * fail()/CHECK() and the guest, pciback and QMP clients are the e2e
 * tests' (tests/lib/harness.h): struct env holds its struct e2e_run.
 */
#ifndef XPT_TOOLSTACK_HARNESS_H
#define XPT_TOOLSTACK_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xenstore.h>

#include "hvclient.h"
#include "../lib/harness.h"

/* the devices of tests/toolstack/host.txt */
#define DEV_A HV_SBDF(0, 3, 0, 0)	/* MSI-X, 64-bit BARs above 4 GiB */
#define DEV_B HV_SBDF(0, 4, 0, 0)
#define DEV_C HV_SBDF(0, 5, 0, 0)
#define DEV_D HV_SBDF(0, 6, 0, 0)
#define DEV_E HV_SBDF(0, 7, 0, 0)	/* no legacy IRQ */
#define DEV_MF0 HV_SBDF(0, 8, 0, 0)	/* multi-function 08:00.0/.1 */
#define DEV_MF1 HV_SBDF(0, 8, 0, 1)
#define DEV_BR HV_SBDF(0, 9, 0, 0)	/* a PCI bridge: pciback refuses it */
#define DEV_K(i) HV_SBDF(0, 0x0a + (i), 0, 0)	/* 0a..0f: the race pool */

struct bins {
	const char *xenstored, *hv, *pciback, *guest, *dm, *hostfile, *outdir;
	const char *xpt;	/* NULL: not built */
};
extern struct bins bins;

/* the toolstack under test */
struct ts {
	const char *name;	/* "xpt" / "libxl-4.17 peer" */
	const char *path;
	bool peer;
};

struct env {
	struct e2e_run run;	/* proc[0..2]: xenstored, hypervisor,
				 * pciback; then toolstack runs */
	const struct ts *ts;
	unsigned int nrun;
	struct xs_handle *xs;
	struct hv_client *hv;
	bool hold;		/* next create: guest with --hold-backend
				 * --no-missed-connected (a slow guest
				 * with a pre-6.1 pcifront) */
	bool slow;		/* next create: guest with --rescan-delay-ms
				 * 12000 (a slow rescan after Reconfigured) */
	bool slow_connect;	/* next create: guest with --connect-delay-ms
				 * 12000 (a slow first scan) */
	bool very_slow;		/* next create: guest with --rescan-delay-ms
				 * 40000 (slower than the attach waits) */
	bool stub_lag;		/* next create: kernels with --sysfs-delay-ms
				 * 2500 (a stub domain whose pcifront shows a
				 * new device to its device model late) */
	bool slow_dm;		/* next create: kernels with --dm-delay-ms
				 * 2000 (a stub domain that starts its device
				 * model late, as a slow stub boots) */
	bool hostile;		/* next create: the guest kernel gets the
				 * words of DIR/hostile-args too (its
				 * test-only options: xpt-guest(8)) */
	const char *delay_log;	/* XPT_DELAY_LOG for the toolstack runs */
	const char *extra_env[5];	/* more NAME=value for them, up to
					 * 4, NULL-terminated */
	const char *variant;	/* LIBXL417_FLOW for the peer */
	int peer_wait_ms;	/* LIBXL417_WAIT_MS for the peer, 0 = 10 s */
	char out[4096];		/* output of the last toolstack run */
};

const char *bdf(uint32_t sbdf);

bool env_start(struct env *e, const struct ts *ts, bool historic);
void env_stop(struct env *e, bool failed);

/* the toolstack: args after the executable, NULL-terminated */
struct e2e_proc *ts_spawn(struct env *e, const char *delay,
			  const char *const args[]);
/* exit code, -1 if still running at the deadline (then it is killed
 * unless keep), -2 killed by a signal; output in e->out */
int ts_wait(struct env *e, struct e2e_proc *p, int ms, bool keep);
int ts_run(struct env *e, const char *delay, int ms, const char *const args[]);
#define TS(e, ms, ...) ts_run(e, NULL, ms, (const char *const[]){ __VA_ARGS__, NULL })
/* the toolstack process sleeps at an XPT_DELAY point (arg: its pid) */
bool at_delay(struct env *e, void *arg);
/* pid is a device model of this run: its command line names the run
 * directory (a pid left in xenstore may have been recycled) */
bool dm_ours(struct env *e, pid_t pid);
/* the lines of the run directory's file that contain needle */
int file_count(struct env *e, const char *file, const char *needle);
/* the resets pciback did of sbdf so far (pciback.log) */
int pb_resets(struct env *e, uint32_t sbdf);
/* a command the output names in backquotes, `xpt ...`, into cmd */
bool named_command(const char *out, char *cmd, size_t len);
/* run "xpt a b c" (such a named command) with the toolstack under test */
int run_named(struct env *e, const char *cmd);

/* NAME.cfg in the run directory with the formatted text; its path
 * (static), NULL if not written */
const char *cfg_write(struct env *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* write a PV guest's NAME.cfg; pci: "'spec', 'spec'" or "" */
const char *cfg_file(struct env *e, const char *name, const char *pci);
/* create NAME with these devices, wait for the guest process */
bool create(struct env *e, const char *name, const char *pci,
	    unsigned int *ret_domid);
bool dom_by_name(struct env *e, const char *name, unsigned int *ret_domid);
/* an HVM guest NAME with these devices, created by xpt whichever
 * toolstack is under test (the peer attaches to it: it starts no device
 * model), its device model xpt-dm; waits for the guest process */
bool create_hvm(struct env *e, const char *name, const char *pci,
		unsigned int *ret_domid);
bool guest_wait_started(struct env *e, unsigned int domid);
pid_t guest_pid(struct env *e, unsigned int domid);

/* seize + quarantine, as `xl pci-assignable-add` does */
bool assignable(struct env *e, uint32_t sbdf);

/* xenstore as dom0 */
char *xs_get(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool xs_exists(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int xs_int(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool xs_put(struct env *e, const char *path, const char *val);
int be_state(struct env *e, unsigned int domid);
int fe_state(struct env *e, unsigned int domid);
bool marker(struct env *e, uint32_t sbdf, unsigned int *ret_domid);
int be_find(struct env *e, unsigned int domid, uint32_t sbdf); /* index or -1 */

bool wait_until(struct env *e, bool (*pred)(struct env *, void *), void *arg,
		int ms, const char *what);
bool wait_states(struct env *e, unsigned int domid, int fe, int be, int ms);

/* the guest's query socket: e2e_guest_query, e2e_guest_status */
bool qhas(const struct e2e_qstatus *s, uint32_t sbdf);
/* Connected on both sides, the guest sees n devices */
bool wait_guest_devs(struct env *e, unsigned int domid, unsigned int n, int ms);

/* an HVM guest's device model: its pid (0 none), and one QMP command on
 * its socket (greeting, qmp_capabilities, the command; the reply line) */
pid_t dm_pid(struct env *e, unsigned int domid);
bool dm_qmp(struct env *e, unsigned int domid, const char *execute,
	    char *reply, size_t len);
/* the device model's query-pci lists sbdf (by libxl's id pci-pt-BB_DD.F) */
bool dm_has(const char *reply, uint32_t sbdf);

/* hypervisor */
uint32_t owner(struct env *e, uint32_t sbdf);
bool file_has(struct env *e, const char *file, const char *needle);
/* xpt's record of domid (xpt/domains/<domid>.json, what a reboot builds
 * again) names bdf: 1, 0; -1, failing the case, when there is none */
int record_lists(struct env *e, unsigned int domid, const char *bdf);


/*
 * The all-layers invariant (inv_check): for every host device and every
 * domain, once each running guest is quiet,
 *   - each backend directory is healthy: its domain exists, no error node,
 *     not Closing/Closed, num_devs = the dev-N keys 0..num_devs-1 with
 *     nothing beyond and no device twice;
 *   - a device in dom D's backend is marked for D (/libxl/pci), owned by
 *     D in the IOMMU, exported to D by pciback (once the backend is
 *     Connected) and seen by D's guest (if it runs);
 *   - a device in no backend is seen by no guest, has no marker, is
 *     exported to nobody and is quarantined (DOMID_IO) if pciback holds
 *     it, else dom0's;
 *   - nothing is in two backends or seen by two guests, and a running
 *     guest sees exactly its backend's devices.
 * A guest that is stopped (SIGSTOP) or gone is not asked.  On a
 * violation e->why lists every device row that breaks it.
 */
struct layers {
	uint32_t sbdf;
	unsigned int nbe, be_dom[4];	/* backends listing it */
	int be_devstate;		/* its state-N in the first one */
	unsigned int nseen, seen_by[4];	/* guests that see it */
	int marker;			/* /libxl/pci/../domid, -1 none */
	uint32_t owner;			/* IOMMU */
	int pb;				/* pciback: exported-to domid, -1 '-',
					 * -2 not seized */
};
bool layers_get(struct env *e, uint32_t sbdf, struct layers *l);
const char *layers_str(const struct layers *l);	/* one row, for messages */
bool inv_check(struct env *e, const char *when);
/* the guest process: 'R'unning/'S'leeping, 'T' stopped, 0 gone */
char guest_proc_state(struct env *e, unsigned int domid);
/* the same of any process */
char proc_state(pid_t pid);
/* the pid of a daemon of the host: "pciback", "hypervisor", "xenstored" */
pid_t daemon_pid(struct env *e, const char *name);

/* the device is dom's on every layer (a PV guest's: its backend, the
 * marker, the IOMMU, pciback's export, the guest's view unless it is
 * stopped or gone) */
bool dev_owned(struct env *e, unsigned int domid, uint32_t sbdf);
/* assignable: in no backend, seen by no guest, no marker, quarantined,
 * exported to nobody */
bool dev_free(struct env *e, uint32_t sbdf);
/* the guest answers and sees n devices (within 10 s): an HVM guest on
 * its bus, a PV one through pcifront */
bool guest_sees(struct env *e, unsigned int domid, unsigned int n);
/* nothing but dom0 and want[] on any layer: the hypervisor's domains
 * (each of want[] there too), /local/domain, /libxl, pciback's backend
 * directories, the guest kernels and device models of this run */
bool only_domains(struct env *e, const unsigned int *want,
		  unsigned int nwant);

/* an HVM guest's stub domain (its device-model-domid, which targets
 * it), 0 none */
unsigned int stub_domain_of(struct env *e, unsigned int domid);

/* a hypervisor that refuses one operation: a proxy in front of
 * $dir/hv/control (new connections only; the harness's own, pciback's and
 * the guests' are not affected) that answers op (e.g. HV_OP_DEASSIGN) for
 * a domU with -EIO and forwards everything else */
bool hv_refuse(struct env *e, uint32_t op);
/* the guest counts an interrupt raised by the device (its MSI-X entry 0,
 * MSI or INTx, whichever its driver uses) */
bool irq_counted(struct env *e, unsigned int domid, uint32_t sbdf);

#endif
