/* SPDX-License-Identifier: MIT */
/*
 * xpt trace: the PCI protocol of one domain (or all) as a timeline, built
 * from a store's access log (xpt-xenstored -T) or the trace log of C
 * xenstored (-T).  trace-parse.c reads a log into a struct trace;
 * trace-text.c, trace-json.c and trace-html.c write it out.
 *
 * Lanes are the parties; the store is lane 0.  Every event is an arrow
 * between two lanes: a request from a party to the store (WRITE, RM,
 * MKDIR, SET_PERMS, TRANSACTION_START/END, WATCH, ...), a watch event
 * from the store to a party, an error reply from the store, or a
 * hypervisor event where the model records one.  Reads are kept only
 * with --reads (they are most of a log and say little).
 */
#ifndef XPT_TRACE_H
#define XPT_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum trace_party {
	TP_STORE,	/* the xenstore daemon: lane 0, always present */
	TP_TOOLSTACK,	/* xl, xpt, libxl: dom0, a socket connection */
	TP_PCIBACK,	/* dom0's backend (the kernel's ring, or xpt-pciback) */
	TP_PCIFRONT,	/* the guest's frontend (a domU's ring) */
	TP_DM,		/* the device model (QEMU, xpt-dm) in dom0 */
	TP_STUBDOM,	/* a stub domain's device model */
	TP_HYPERVISOR,	/* hypervisor events, where the model records them */
	TP_OTHER,	/* any other client (xenstore-* tools, scripts) */
};

struct trace_lane {
	enum trace_party party;
	int domid;		/* the party's domain, -1 unknown */
	char name[64];		/* shown: "toolstack (xl)", "pcifront d5" */
};

enum trace_kind {
	TK_WRITE, TK_MKDIR, TK_RM, TK_SET_PERMS, TK_READ, TK_DIRECTORY,
	TK_WATCH, TK_UNWATCH, TK_WATCH_EVENT,
	TK_TX_START, TK_TX_COMMIT, TK_TX_ABORT,
	TK_INTRODUCE, TK_RELEASE, TK_CONTROL,
	TK_HV,			/* a hypervisor event (model only) */
	TK_OTHER,
};

struct trace_event {
	double t;		/* seconds since the trace's first line */
	unsigned line;		/* line of the log it came from (1-based;
			 * a TK_HV event's: of the hypervisor's) */
	int from, to;		/* lane indexes; the store is 0 */
	enum trace_kind kind;
	unsigned tx;		/* transaction id, 0 outside one */
	int domid;		/* domain the path concerns, -1 none */
	bool failed;		/* the store answered ERROR (errno in value) */
	bool aborted;		/* in a transaction that ended aborted or EAGAIN */
	char path[256];
	char value[128];	/* written value, token, error name; printable */
	/* A write of a xenbus "state" node (backend or frontend, or a
	 * per-device state-N): the device, and the states before and after
	 * (-1 unknown). */
	int dev;		/* -1: the whole bus; else the device index N */
	int state_from, state_to;
	/* Added after the first version (compatible): */
	bool is_state;		/* a state write: dev, state_from/to are set */
	bool truncated;		/* the log cut the payload (over 256 bytes) */
};

/* The largest timestamp (epoch seconds) a log line may carry: 2^40, some
 * 34,000 years.  A line with a later one is not a record; its time would
 * not fit the writers' time_t and double arithmetic. */
#define TRACE_SEC_MAX (1ULL << 40)

struct trace {
	const char *source;	/* the log file's name */
	const char *format;	/* "xpt-xenstored" or "c-xenstored" */
	int filter_domid;	/* -1: all domains */
	unsigned nlanes, nevents;
	struct trace_lane *lanes;
	struct trace_event *events;
	double t0;		/* absolute time of the first line (epoch s) */
	unsigned skipped;	/* lines that were not log records */
	/* Added after the first version (compatible): */
	unsigned lines;		/* lines read */
	unsigned ignored;	/* the daemon's own messages (C xenstored's
				 * "wrl:", "CREATE watch", ...): not events */
	unsigned records;	/* requests, replies, events, connects read */
	char filter_name[64];	/* the domain's name, when the log has it */
#define TRACE_MAX_STUBDOMS 8
	int stubdoms[TRACE_MAX_STUBDOMS]; /* kept too: the filtered domain's stub
				 * domains (a write of /local/domain/S/target
				 * = D in the log) */
	unsigned nstubdoms;
	bool reads, all_paths;	/* what was kept */
#define TRACE_MAX_EARLIER 16
	int earlier[TRACE_MAX_EARLIER]; /* kept too, with --domain NAME: the
				 * earlier domains given that name (a reboot
				 * gives the domain a new id) */
	unsigned nearlier;
	const char *hv_source;	/* the hypervisor's event log merged, or NULL */
	unsigned hv_lines, hv_records; /* its lines, and those that were events */
};

/* What trace_read keeps. */
struct trace_opts {
	int domid;		/* -1: every domain */
	const char *domain_name; /* instead of domid: every domain whose
				  * /local/domain/D/name the log writes so */
	bool reads;		/* keep READ and DIRECTORY */
	bool all_paths;		/* every path, not only the PCI protocol */
};

/* Read the log at path (t->source points to path: keep it alive). */
int trace_read(const char *path, const struct trace_opts *o,
	       struct trace *t, char *err, size_t errlen);
/* The same from an open stream (tests, the fuzz target). */
int trace_parse(FILE *f, const char *source, const struct trace_opts *o,
		struct trace *t, char *err, size_t errlen);

/* trace-hv.c: merge the events of xpt-hypervisor --event-log read from f
 * (source names it; keep it alive) into t, by time; those of t's domain
 * only, if it has one.  Lines that are not events count in t->skipped. */
int trace_merge_hv(struct trace *t, FILE *f, const char *source,
		   char *err, size_t errlen);
/* Does an event of domain domid belong in t (its domain, an earlier one
 * of its name, a stub domain, or t has no domain)? */
bool trace_concerns(const struct trace *t, int domid);

/* Names for the writers: "Initialising".."Reconfigured" (NULL outside
 * 0..8), "write", "watch_event", ..., "toolstack", "pcifront", ... */
const char *trace_state_name(int state);
const char *trace_kind_name(enum trace_kind k);
const char *trace_party_name(enum trace_party p);

/* Read the log at path.  domid -1 keeps every domain's PCI protocol;
 * reads only when with_reads.  0, or -errno with err saying what and
 * where (file:line). */
int trace_load(const char *path, int domid, bool with_reads,
	       struct trace *t, char *err, size_t errlen);
void trace_free(struct trace *t);

/* For a summary: the device a backend's state-N is about (its dev-N's
 * value, or NULL), and whether the node (or a parent) is removed after
 * event i. */
const char *trace_device_of(const struct trace *t, const char *state_path);
bool trace_removed_after(const struct trace *t, unsigned i, const char *path);
/* The states of event i's node (a state write's) that took effect, in
 * order, into states (room for t->nevents); every write of that node from
 * i on is marked in done, so that a caller walking the events meets each
 * node once.  Aborted and failed writes are left out.  Returns how many;
 * *ret_removed: the node (or a parent) is removed after the last of them. */
unsigned trace_node_states(const struct trace *t, unsigned i, bool *done,
			   int *states, bool *ret_removed);

/* trace-cmd.c: `xpt trace`, one line of xpt.c's command table. */
#define TRACE_USAGE "[--domain D|NAME] [--reads] [--all-paths] " \
	"[--hv-log FILE|--no-hv-log] [--json|--html] [-o FILE] [LOG]"
struct xpt_ctx;
int trace_cmd(struct xpt_ctx *c, int argc, char **argv);

int trace_write_text(FILE *out, const struct trace *t);
int trace_write_json(FILE *out, const struct trace *t);
/* A removal of a node that was not there (ENOENT): what toolstacks do to
 * start clean, no failure of the protocol; the views show it apart from
 * the failed requests. */
static inline bool trace_absent_rm(const struct trace_event *e)
{
	return e->failed && e->kind == TK_RM && strcmp(e->value, "ENOENT") == 0;
}

/* The page draws the first TRACE_HTML_MAX_EVENTS events and says how many
 * it left out; its DOM contract is at the top of trace-html.c. */
#define TRACE_HTML_MAX_EVENTS 5000
/* A pause of this many seconds between two events is drawn as one. */
#define TRACE_HTML_GAP_S 0.25
int trace_write_html(FILE *out, const struct trace *t);

#endif
