// SPDX-License-Identifier: MIT
/*
 * xpt trace: a store's log read into a struct trace (trace.h).
 *
 * Two formats, told apart by their first record:
 *
 *   xpt-xenstored -T:  1796505598.880656 conn=4 dom=0 IN  WRITE req=0 tx=0
 *                      len=4 /a\0b   (NULs as \0, other bytes as \xNN,
 *                      payload cut at 256 bytes with "..."), and
 *                      "conn=N dom=D CONNECT pid=P comm=NAME|ring", "CLOSE"
 *   C xenstored -T:    IN 0x5648340f0ba0 20261205 21:18:11 WRITE (/a b)
 *                      (NULs as spaces; no domain, no transaction id on a
 *                      request, whole seconds), "CREATE connection 0x..",
 *                      "DESTROY connection 0x..", and the daemon's own
 *                      messages ("wrl: ...", "CREATE watch ...").  From
 *                      Xen 4.18 "io: " and "obj: " come first, from 4.19
 *                      the domain "(dN)" after the pointer.
 *
 * Three passes.  Reading: each request becomes an event; its reply
 * (matched in order per connection: both daemons answer a connection's
 * requests in order) marks it failed, or gives a transaction its id; a
 * commit that fails or a TRANSACTION_END F marks the transaction's events
 * aborted.  A state write's "before" is the value last committed in the
 * log: a write outside a transaction counts once answered OK, one inside
 * at its commit.  Naming: each connection becomes a party, by its
 * command name where the log has it, else by what it wrote (the rules are
 * in party_of()); concurrent toolstack commands get a lane each
 * (toolstack_slots()).  Keeping: the events of the PCI protocol (or every
 * path), of one domain and its stub domains (or all), make the trace;
 * only the parties with an event get a lane.
 *
 * Worked example, C xenstored, one connection A (pciback has written the
 * backend's state 4, Connected, and it was answered OK):
 *
 *   IN  A TRANSACTION_START ( )          tx_start
 *   OUT A TRANSACTION_START (3 )         A's requests are now in tx 3
 *   IN  A WRITE (.../backend/pci/5/0/state 1)
 *                                        write [tx 3], state 4 -> 1: the
 *                                        before is 4, the map keeps 4
 *   IN  A TRANSACTION_END (T )           tx_commit [tx 3]
 *   OUT A ERROR (EAGAIN )                tx_commit failed EAGAIN; the write
 *                                        is marked aborted, never applied:
 *                                        the next write of state shows 4
 *                                        before it, not 1
 *
 * A log line can come from a guest (a path or value it wrote): every copy
 * is bounded, every kept string printable (other bytes as \xNN), and a
 * line that is not a record is counted in skipped, never an error.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace.h"
#include "xenbus-state.h"

#define LINE_MAX_LEN 8192
#define RAW_MAX 4200		/* a decoded payload: 4096 and a margin */
#define MAX_CONNS 65536		/* beyond: one overflow connection */
#define MAX_PEND 32		/* requests awaiting a reply, per connection */
#define MAX_TXS 8		/* open transactions remembered, per connection */
#define MAX_STATES 4096		/* state nodes whose value is followed */
#define MAX_NAMES 1024		/* domain names seen */
#define MAX_LANES 64
#define MAX_STUBS 256		/* stub domains seen (S/target = D) */

enum fmt { FMT_NONE, FMT_XPT, FMT_C };
enum dir { R_IN, R_OUT, R_CONNECT, R_CLOSE };

struct rec {
	double t;
	bool untimed;			/* the line has no time */
	uint64_t conn;
	int dom;			/* -1: the log does not say */
	enum dir dir;
	char type[32];
	unsigned req;
	long tx;			/* -1: the log does not say */
	bool ring;
	long pid;
	char comm[32];
	char raw[RAW_MAX];		/* the payload, decoded */
	size_t rawlen;
	bool truncated;
	const char *f[4];		/* NUL-separated fields of raw */
	size_t flen[4];
	unsigned nf;
};

/* What a connection did, for naming it when the log has no comm. */
enum {
	B_TOOL = 1,		/* backend entries, INTRODUCE/RELEASE */
	B_BACK = 2,		/* backend state/state-N/root-N/vdev-N only */
	B_FRONT = 4,		/* device/pci */
	B_DM = 8,		/* device-model/D */
};

enum pend_type { P_OTHER, P_TX_START, P_TX_END };

struct pend {
	unsigned req;
	int ev;			/* event index, -1 if not an event */
	enum pend_type type;
	bool end_commit;	/* TRANSACTION_END T */
	unsigned tx;
};

struct txopen {
	unsigned id;
	int start_ev;		/* first event that may be in it */
};

struct tconn {
	uint64_t key;
	int dom;
	bool ring, closed, has_comm;
	char comm[32];
	unsigned behave;
	int front_dom, dm_dom;	/* the domain whose device/pci, device-model */
	unsigned cur_tx;	/* C format: the connection's open transaction */
	struct pend pend[MAX_PEND];
	unsigned npend;
	struct txopen txs[MAX_TXS];
	unsigned ntxs;
	long pid;		/* the client's process, 0 unknown */
	unsigned first, last;	/* its first and last line in the log */
	bool used;		/* has a kept event */
	enum trace_party party;
	int pdom;
	int slot;		/* toolstack lanes: which of those at once */
	int lane;
};

struct evx {
	int conn;
	bool keep;
	bool applied;		/* its effect on the state map is counted */
};

struct statenode {
	char path[256];
	int value;
};

struct domname {
	int domid;
	char name[64];
};

struct parser {
	enum fmt fmt;
	struct trace *t;
	const struct trace_opts *o;
	struct tconn *conns;
	unsigned nconns, conncap;
	unsigned *chash, chash_size;	/* conn_find()'s table */
	struct trace_event *ev;
	struct evx *evx;
	unsigned nev, evcap;
	struct statenode *states;
	unsigned nstates, statecap;
	struct domname *names;
	unsigned nnames;
	bool have_t0;
	unsigned line;
	int intro_dom;		/* C format: an INTRODUCE's domain, whose
				 * ring's connection comes next */
	struct { int stub, target; } stubs[MAX_STUBS];
	unsigned nstubs;
};

const char *trace_state_name(int state)
{
	return xenbus_state_name(state);
}

static const char *const kind_names[] = {
	[TK_WRITE] = "write", [TK_MKDIR] = "mkdir", [TK_RM] = "rm",
	[TK_SET_PERMS] = "set_perms", [TK_READ] = "read",
	[TK_DIRECTORY] = "directory", [TK_WATCH] = "watch",
	[TK_UNWATCH] = "unwatch", [TK_WATCH_EVENT] = "watch_event",
	[TK_TX_START] = "tx_start", [TK_TX_COMMIT] = "tx_commit",
	[TK_TX_ABORT] = "tx_abort", [TK_INTRODUCE] = "introduce",
	[TK_RELEASE] = "release", [TK_CONTROL] = "control", [TK_HV] = "hv",
	[TK_OTHER] = "other",
};

const char *trace_kind_name(enum trace_kind k)
{
	return (unsigned)k <= TK_OTHER ? kind_names[k] : "other";
}

static const char *const party_names[] = {
	[TP_STORE] = "store", [TP_TOOLSTACK] = "toolstack",
	[TP_PCIBACK] = "pciback", [TP_PCIFRONT] = "pcifront",
	[TP_DM] = "dm", [TP_STUBDOM] = "stubdom",
	[TP_HYPERVISOR] = "hypervisor", [TP_OTHER] = "other",
};

const char *trace_party_name(enum trace_party p)
{
	return (unsigned)p <= TP_OTHER ? party_names[p] : "other";
}

/* Copy n bytes as a printable string: bytes outside ' '..'~' and the
 * backslash as \xNN, cut (with "...") to fit out. */
static void printable(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];
		size_t need = (ch < 32 || ch > 126 || ch == '\\') ? 4 : 1;

		if (j + need + 4 > outlen) {
			if (j + 4 <= outlen) {
				memcpy(out + j, "...", 3);
				j += 3;
			}
			break;
		}
		if (need == 4)
			j += (size_t)snprintf(out + j, outlen - j, "\\x%02x", ch);
		else
			out[j++] = ch;
	}
	out[j] = 0;
}

/* A decimal number of at most 19 digits; end set past it. */
static bool num(const char *s, const char **end, uint64_t *ret)
{
	uint64_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 19) {
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
		n++;
	}
	if (!n || (*s >= '0' && *s <= '9'))
		return false;
	*end = s;
	*ret = v;
	return true;
}

static bool lit(const char **s, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*s, word, n))
		return false;
	*s += n;
	return true;
}

/* A word of [A-Z_] (a message type) into out. */
static bool word(const char **s, char *out, size_t outlen)
{
	size_t n = 0;

	while (((**s >= 'A' && **s <= 'Z') || **s == '_' ||
		(**s >= '0' && **s <= '9')) && n + 1 < outlen)
		out[n++] = *(*s)++;
	out[n] = 0;
	return n > 0 && (**s == ' ' || **s == 0);
}

static void split_fields(struct rec *r)
{
	size_t i, start = 0;

	r->nf = 0;
	for (i = 0; i <= r->rawlen && r->nf < 4; i++)
		if (i == r->rawlen || r->raw[i] == 0) {
			if (i == r->rawlen && i == start && r->nf)
				break;	/* the payload's final NUL */
			r->f[r->nf] = r->raw + start;
			r->flen[r->nf++] = i - start;
			start = i + 1;
		}
	/* A last field that runs on (a value with NULs): up to the end. */
	if (r->nf == 4 && start < r->rawlen)
		r->flen[3] = r->rawlen - (size_t)(r->f[3] - r->raw);
}

/* "SEC.USEC conn=N dom=D ..." */
static bool parse_xpt(const char *s, struct rec *r)
{
	uint64_t sec, usec, v;
	const char *e;

	if (!num(s, &e, &sec) || *e != '.')
		return false;
	s = e + 1;
	if (!num(s, &e, &usec) || e - s != 6 || sec > TRACE_SEC_MAX)
		return false;
	r->t = (double)sec + (double)usec / 1e6;
	s = e;
	if (!lit(&s, " conn=") || !num(s, &e, &r->conn))
		return false;
	s = e;
	if (!lit(&s, " dom=") || !num(s, &e, &v) || v > 65535)
		return false;
	r->dom = (int)v;
	s = e;
	if (!lit(&s, " "))
		return false;
	if (lit(&s, "CONNECT ")) {
		r->dir = R_CONNECT;
		if (!strcmp(s, "ring")) {
			r->ring = true;
			return true;
		}
		if (!lit(&s, "pid=") || !num(s, &e, &v))
			return false;
		r->pid = v <= 0x7fffffff ? (long)v : 0;
		s = e;
		if (!lit(&s, " comm="))
			return false;
		printable(r->comm, sizeof(r->comm), s, strlen(s));
		return true;
	}
	if (!strcmp(s, "CLOSE")) {
		r->dir = R_CLOSE;
		return true;
	}
	if (lit(&s, "IN "))
		r->dir = R_IN;
	else if (lit(&s, "OUT"))
		r->dir = R_OUT;
	else
		return false;
	while (*s == ' ')
		s++;
	if (!word(&s, r->type, sizeof(r->type)))
		return false;
	if (!lit(&s, " req=") || !num(s, &e, &v) || v > UINT32_MAX)
		return false;
	r->req = (unsigned)v;
	s = e;
	if (!lit(&s, " tx=") || !num(s, &e, &v) || v > UINT32_MAX)
		return false;
	r->tx = (long)v;
	s = e;
	if (!lit(&s, " len=") || !num(s, &e, &v))
		return false;
	s = e;
	if (*s == ' ')
		s++;
	else if (*s)
		return false;
	r->truncated = v > 256;
	r->rawlen = 0;
	while (*s && r->rawlen < RAW_MAX - 1) {
		if (r->truncated && !strcmp(s, "..."))
			break;
		if (s[0] == '\\' && s[1] == '0') {
			r->raw[r->rawlen++] = 0;
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3] &&
			   strchr("0123456789abcdefABCDEF", s[2]) &&
			   strchr("0123456789abcdefABCDEF", s[3])) {
			char hex[3] = { s[2], s[3], 0 };

			r->raw[r->rawlen++] = (char)strtoul(hex, NULL, 16);
			s += 4;
		} else {
			r->raw[r->rawlen++] = *s++;
		}
	}
	r->raw[r->rawlen] = 0;
	split_fields(r);
	return true;
}

/* "IN 0xPTR YYYYMMDD HH:MM:SS TYPE (payload)" and the connection lines. */
static bool parse_c(const char *s, struct rec *r, bool *ignored)
{
	unsigned y, mo, d, h, mi, sec;
	struct tm tm = { 0 };
	const char *close;
	char *e;
	size_t i, n;
	uint64_t dom;
	bool write, create;

	*ignored = false;
	/* Xen 4.18 and later: "io: " and "obj: " before the records */
	if (!lit(&s, "io: "))
		lit(&s, "obj: ");
	create = lit(&s, "CREATE connection 0x");
	if (create || lit(&s, "DESTROY connection 0x")) {
		r->dir = create ? R_CONNECT : R_CLOSE;
		r->conn = strtoull(s, &e, 16);
		if (e == s || *e)
			return false;
		r->t = -1;	/* no time: the previous record's */
		r->untimed = true;
		return true;
	}
	if (!strncmp(s, "wrl:", 4) || !strncmp(s, "CREATE ", 7) ||
	    !strncmp(s, "CONN ", 5) ||
	    !strncmp(s, "DESTROY ", 8) || !strncmp(s, "***", 3) ||
	    !strncmp(s, "Checking store", 14) || !*s) {
		*ignored = true;
		return false;
	}
	/* Xen 4.19 and later trace a reply written in parts at its start
	 * (OUT(START)) and its end (OUT(END)), and one that failed to go
	 * (OUT(ERR)): the end is the reply. */
	if (lit(&s, "IN 0x")) {
		r->dir = R_IN;
	} else if (lit(&s, "OUT 0x") || lit(&s, "OUT(END) 0x")) {
		r->dir = R_OUT;
	} else if (!strncmp(s, "OUT(START) 0x", 13) ||
		   !strncmp(s, "OUT(ERR) 0x", 11)) {
		*ignored = true;
		return false;
	} else {
		return false;
	}
	r->conn = strtoull(s, &e, 16);
	if (e == s || *e != ' ')
		return false;
	s = e + 1;
	r->dom = -1;
	if (lit(&s, "(d")) {	/* Xen 4.19 and later: the domain */
		if (!num(s, &s, &dom) || dom > 65535 || !lit(&s, ") "))
			return false;
		r->dom = (int)dom;
	}
	if (sscanf(s, "%4u%2u%2u %2u:%2u:%2u", &y, &mo, &d, &h, &mi, &sec) != 6 ||
	    strlen(s) < 18 || s[8] != ' ' || s[17] != ' ')
		return false;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	r->t = (double)timegm(&tm);
	s += 18;
	if (!word(&s, r->type, sizeof(r->type)) || !lit(&s, " ("))
		return false;
	close = strrchr(s, ')');
	if (!close || close[1])
		return false;
	r->tx = -1;
	/* NULs were written as spaces: a WRITE is "path value" (the value
	 * may hold spaces), anything else ends with one. */
	n = (size_t)(close - s);
	if (n > RAW_MAX - 1)
		n = RAW_MAX - 1;
	memcpy(r->raw, s, n);
	r->raw[n] = 0;
	write = r->dir == R_IN && !strcmp(r->type, "WRITE");
	for (i = 0; i < n; i++)
		if (r->raw[i] == ' ') {
			r->raw[i] = 0;
			if (write)
				break;
		}
	r->rawlen = n;
	split_fields(r);
	return true;
}

/* Connections */

/* The connections by key (xpt-xenstored's number, C xenstored's
 * pointer, which it reuses): an open-addressed table of index + 1, the
 * latest connection of a key winning. */
static unsigned *conn_slot(struct parser *p, uint64_t key)
{
	unsigned mask = p->chash_size - 1;
	unsigned h = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 40) & mask;

	while (p->chash[h] && p->conns[p->chash[h] - 1].key != key)
		h = (h + 1) & mask;
	return &p->chash[h];
}

static int conn_hash_grow(struct parser *p)
{
	unsigned size = p->chash_size ? p->chash_size * 2 : 64, i;
	unsigned *n = calloc(size, sizeof(*n));

	if (!n)
		return -ENOMEM;
	free(p->chash);
	p->chash = n;
	p->chash_size = size;
	for (i = 0; i < p->nconns; i++)
		*conn_slot(p, p->conns[i].key) = i + 1;
	return 0;
}

static struct tconn *conn_find(struct parser *p, uint64_t key, bool fresh)
{
	struct tconn *c;
	unsigned *slot;

	if (!fresh && p->chash_size) {
		slot = conn_slot(p, key);
		if (*slot && !p->conns[*slot - 1].closed)
			return &p->conns[*slot - 1];
	}
	if (p->nconns == MAX_CONNS)
		return &p->conns[MAX_CONNS - 1];	/* the overflow */
	if (p->nconns == p->conncap) {
		unsigned cap = p->conncap ? p->conncap * 2 : 16;
		void *n = realloc(p->conns, cap * sizeof(*p->conns));

		if (!n)
			return NULL;
		p->conns = n;
		p->conncap = cap;
	}
	if ((p->nconns + 1) * 2 > p->chash_size && conn_hash_grow(p) < 0)
		return NULL;
	c = &p->conns[p->nconns++];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->dom = -1;
	c->front_dom = c->dm_dom = -1;
	c->pdom = -1;
	c->lane = -1;
	*conn_slot(p, key) = p->nconns;
	return c;
}

/* Paths */

/* "/local/domain/D..." -> D, and rest after it; -1 otherwise. */
static int path_home(const char *path, const char **rest)
{
	uint64_t d;
	const char *s = path, *e;

	if (!lit(&s, "/local/domain/") || !num(s, &e, &d) || d > 65535 ||
	    (*e && *e != '/'))
		return -1;
	*rest = e;
	return (int)d;
}

/* The domain a path concerns: the frontend's for a backend or a device
 * model path, else the home's; -1 none. */
static int path_domid(const char *path)
{
	const char *rest, *e;
	uint64_t d;
	int home = path_home(path, &rest);

	if (home < 0)
		return -1;
	if (lit(&rest, "/backend/pci/") || lit(&rest, "/device-model/")) {
		if (num(rest, &e, &d) && d <= 65535 && (!*e || *e == '/'))
			return (int)d;
	}
	return home;
}

static bool has_seg(const char *path, const char *seg)
{
	const char *p = strstr(path, seg);
	size_t n = strlen(seg);

	return p && (p[n] == 0 || p[n] == '/');
}

static bool path_is_pci(const char *path)
{
	return has_seg(path, "/backend/pci") || has_seg(path, "/device/pci") ||
	       has_seg(path, "/device-model") || !strncmp(path, "/libxl/pci", 10) ||
	       !strncmp(path, "/xpt/", 5) || !strcmp(path, "/xpt") ||
	       !strncmp(path, "device/pci", 10) ||
	       !strncmp(path, "device-model", 12);
}

/* The last component, and whether the path is .../backend/pci/D/N/LAST. */
static const char *backend_leaf(const char *path)
{
	const char *rest, *e;
	uint64_t d;

	if (path_home(path, &rest) < 0 || !lit(&rest, "/backend/pci/") ||
	    !num(rest, &e, &d) || *e != '/')
		return NULL;
	rest = e + 1;
	if (!num(rest, &e, &d) || *e != '/')
		return NULL;
	return strchr(e + 1, '/') ? NULL : e + 1;
}

/* A xenbus state node: backend .../backend/pci/D/N/state or state-K,
 * frontend .../device/pci/N/state.  dev: -1 or K. */
static bool state_node(const char *path, int *dev)
{
	const char *leaf = backend_leaf(path), *e;
	uint64_t k;

	if (leaf && !strcmp(leaf, "state")) {
		*dev = -1;
		return true;
	}
	if (leaf && !strncmp(leaf, "state-", 6) && num(leaf + 6, &e, &k) &&
	    !*e && k < 1024) {
		*dev = (int)k;
		return true;
	}
	leaf = strstr(path, "device/pci/");
	if (leaf && (leaf == path || leaf[-1] == '/') &&
	    num(leaf + 11, &e, &k) && !strcmp(e, "/state")) {
		*dev = -1;
		return true;
	}
	return false;
}

static int state_value(const char *v, size_t n)
{
	if (n == 1 && v[0] >= '0' && v[0] <= '8')
		return v[0] - '0';
	if (n == 2 && v[1] == 0 && v[0] >= '0' && v[0] <= '8')
		return v[0] - '0';
	return -1;
}

static struct statenode *state_find(struct parser *p, const char *path,
				    bool add)
{
	unsigned i;

	for (i = 0; i < p->nstates; i++)
		if (!strcmp(p->states[i].path, path))
			return &p->states[i];
	if (!add || p->nstates == MAX_STATES)
		return NULL;
	if (p->nstates == p->statecap) {
		unsigned cap = p->statecap ? p->statecap * 2 : 16;
		void *n = realloc(p->states, cap * sizeof(*p->states));

		if (!n)
			return NULL;
		p->states = n;
		p->statecap = cap;
	}
	snprintf(p->states[p->nstates].path, sizeof(p->states[0].path), "%s",
		 path);
	p->states[p->nstates].value = -1;
	return &p->states[p->nstates++];
}

/* The event took effect (answered OK, or its transaction committed). */
static void apply(struct parser *p, unsigned i)
{
	struct trace_event *e = &p->ev[i];
	struct statenode *s;
	size_t n;
	unsigned k;

	if (p->evx[i].applied || e->failed)
		return;
	p->evx[i].applied = true;
	if (e->kind == TK_WRITE && e->is_state) {
		s = state_find(p, e->path, true);
		if (s)
			s->value = e->state_to;
	} else if (e->kind == TK_RM) {
		n = strlen(e->path);
		for (k = 0; k < p->nstates; k++)
			if (!strncmp(p->states[k].path, e->path, n) &&
			    (p->states[k].path[n] == 0 ||
			     p->states[k].path[n] == '/'))
				p->states[k].value = -1;
	}
}

/* Events */

static enum trace_kind kind_of(const char *type, bool *known)
{
	static const struct { const char *name; enum trace_kind k; } m[] = {
		{ "WRITE", TK_WRITE }, { "MKDIR", TK_MKDIR }, { "RM", TK_RM },
		{ "SET_PERMS", TK_SET_PERMS }, { "READ", TK_READ },
		{ "GET_PERMS", TK_READ }, { "DIRECTORY", TK_DIRECTORY },
		{ "DIRECTORY_PART", TK_DIRECTORY }, { "WATCH", TK_WATCH },
		{ "UNWATCH", TK_UNWATCH }, { "WATCH_EVENT", TK_WATCH_EVENT },
		{ "TRANSACTION_START", TK_TX_START },
		{ "TRANSACTION_END", TK_TX_COMMIT },
		{ "INTRODUCE", TK_INTRODUCE }, { "RELEASE", TK_RELEASE },
		{ "CONTROL", TK_CONTROL }, { "DEBUG", TK_CONTROL },
	};
	size_t i;

	*known = true;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(type, m[i].name))
			return m[i].k;
	*known = false;
	return TK_OTHER;
}

static int ev_add(struct parser *p, struct tconn *c)
{
	struct trace_event *e;
	void *n;

	if (p->nev == p->evcap) {
		unsigned cap = p->evcap ? p->evcap * 2 : 256;

		n = realloc(p->ev, cap * sizeof(*p->ev));
		if (!n)
			return -ENOMEM;
		p->ev = n;
		n = realloc(p->evx, cap * sizeof(*p->evx));
		if (!n)
			return -ENOMEM;
		p->evx = n;
		p->evcap = cap;
	}
	e = &p->ev[p->nev];
	memset(e, 0, sizeof(*e));
	memset(&p->evx[p->nev], 0, sizeof(p->evx[0]));
	e->line = p->line;
	e->domid = -1;
	e->dev = -1;
	e->state_from = e->state_to = -1;
	p->evx[p->nev].conn = (int)(c - p->conns);
	return (int)p->nev++;
}

/* A field as a path: printable, and a relative one made absolute where the
 * connection's domain is known. */
static void field_path(const struct tconn *c, const struct rec *r,
		       unsigned i, char *out, size_t outlen)
{
	char tmp[256];

	if (i >= r->nf) {
		out[0] = 0;
		return;
	}
	printable(tmp, sizeof(tmp), r->f[i], r->flen[i]);
	if (tmp[0] && tmp[0] != '/' && tmp[0] != '@' && c->dom >= 0) {
		int n = snprintf(out, outlen, "/local/domain/%d/", c->dom);

		if (n > 0 && (size_t)n < outlen)
			printable(out + n, outlen - (size_t)n, r->f[i],
				  r->flen[i]);
	} else {
		snprintf(out, outlen, "%s", tmp);
	}
}

static void behave(struct parser *p, struct tconn *c, struct trace_event *e)
{
	const char *leaf, *rest;
	int home;

	(void)p;
	if (e->kind == TK_INTRODUCE || e->kind == TK_RELEASE) {
		c->behave |= B_TOOL;
		return;
	}
	if (e->kind != TK_WRITE && e->kind != TK_MKDIR && e->kind != TK_RM)
		return;
	leaf = backend_leaf(e->path);
	if (leaf) {
		if (!strncmp(leaf, "dev-", 4) || !strncmp(leaf, "key-", 4) ||
		    !strncmp(leaf, "opts-", 5) || !strncmp(leaf, "vdevfn-", 7) ||
		    !strcmp(leaf, "num_devs") || !strcmp(leaf, "frontend") ||
		    !strcmp(leaf, "frontend-id"))
			c->behave |= B_TOOL;
		else if (!strcmp(leaf, "state") || !strncmp(leaf, "state-", 6) ||
			 !strncmp(leaf, "root-", 5) || !strncmp(leaf, "vdev-", 5) ||
			 !strcmp(leaf, "root_num"))
			c->behave |= B_BACK;
		return;
	}
	if (!strncmp(e->path, "/libxl/", 7) || !strncmp(e->path, "/xpt/", 5)) {
		c->behave |= B_TOOL;	/* libxl's or xpt's own records */
		return;
	}
	home = path_home(e->path, &rest);
	if (home >= 0 && lit(&rest, "/device/pci")) {
		c->behave |= B_FRONT;
		c->front_dom = home;
	} else if (home >= 0 && lit(&rest, "/device-model/")) {
		c->behave |= B_DM;
		c->dm_dom = path_domid(e->path);
		if (home != 0 && c->dom < 0)
			c->dom = home;
	} else if (e->kind != TK_WRITE && e->kind != TK_MKDIR) {
		/* an RM of a whole backend is the toolstack's */
		if (has_seg(e->path, "/backend/pci"))
			c->behave |= B_TOOL;
	}
}

/* /local/domain/S/target = D: S is D's stub domain. */
static void note_target(struct parser *p, const struct trace_event *e)
{
	const char *rest, *end;
	uint64_t d;
	int s = path_home(e->path, &rest);

	if (s < 0 || strcmp(rest, "/target") || !num(e->value, &end, &d) ||
	    *end || d > 65535 || (int)d == s || p->nstubs == MAX_STUBS)
		return;
	p->stubs[p->nstubs].stub = s;
	p->stubs[p->nstubs++].target = (int)d;
}

static void note_name(struct parser *p, const struct rec *r)
{
	const char *rest;
	int d;

	if (r->nf < 2 || p->nnames == MAX_NAMES)
		return;
	{
		char path[256];

		printable(path, sizeof(path), r->f[0], r->flen[0]);
		d = path_home(path, &rest);
		if (d < 0 || strcmp(rest, "/name"))
			return;
	}
	p->names[p->nnames].domid = d;
	printable(p->names[p->nnames].name, sizeof(p->names[0].name), r->f[1],
		  r->flen[1]);
	p->nnames++;
}

static struct pend *pend_take(struct tconn *c, const struct rec *r,
			      struct pend *out, enum fmt fmt)
{
	unsigned i = 0;

	if (!c->npend)
		return NULL;
	if (fmt == FMT_XPT)
		for (i = 0; i < c->npend && c->pend[i].req != r->req; i++)
			;
	if (i == c->npend)
		i = 0;
	*out = c->pend[i];
	memmove(&c->pend[i], &c->pend[i + 1],
		(c->npend - i - 1) * sizeof(c->pend[0]));
	c->npend--;
	return out;
}

static void tx_opened(struct tconn *c, unsigned id, int start_ev)
{
	if (c->ntxs == MAX_TXS) {
		memmove(&c->txs[0], &c->txs[1], (MAX_TXS - 1) * sizeof(c->txs[0]));
		c->ntxs--;
	}
	c->txs[c->ntxs].id = id;
	c->txs[c->ntxs++].start_ev = start_ev;
}

/* The transaction ended: its events take effect, or are marked aborted. */
static void tx_ended(struct parser *p, struct tconn *c, unsigned id,
		     bool committed)
{
	unsigned i, k, ci = (unsigned)(c - p->conns);
	int start = 0;

	for (k = 0; k < c->ntxs; k++)
		if (c->txs[k].id == id)
			break;
	if (k < c->ntxs) {
		start = c->txs[k].start_ev;
		c->txs[k] = c->txs[--c->ntxs];
	}
	for (i = (unsigned)start; i < p->nev; i++) {
		if (p->evx[i].conn != (int)ci || p->ev[i].tx != id ||
		    p->ev[i].kind == TK_WATCH_EVENT)
			continue;
		if (committed)
			apply(p, i);
		else
			p->ev[i].aborted = true;
	}
}

static int on_request(struct parser *p, struct tconn *c, struct rec *r)
{
	struct pend pd = { .req = r->req, .ev = -1 };
	struct trace_event *e;
	bool known;
	enum trace_kind k = kind_of(r->type, &known);
	unsigned tx = r->tx >= 0 ? (unsigned)r->tx : c->cur_tx;
	int i;

	pd.type = !strcmp(r->type, "TRANSACTION_START") ? P_TX_START :
		  !strcmp(r->type, "TRANSACTION_END") ? P_TX_END : P_OTHER;
	if (!strcmp(r->type, "WRITE"))
		note_name(p, r);
	i = ev_add(p, c);
	if (i < 0)
		return i;
	e = &p->ev[i];
	e->t = r->t;
	e->from = (int)(c - p->conns);	/* a connection until lanes exist */
	e->kind = k;
	e->truncated = r->truncated;
	e->tx = k == TK_TX_START ? 0 : tx;
	if (k == TK_TX_COMMIT) {
		bool commit = r->nf && r->flen[0] >= 1 && r->f[0][0] == 'T';

		e->kind = commit ? TK_TX_COMMIT : TK_TX_ABORT;
		pd.end_commit = commit;
		pd.tx = tx;
		if (!commit)
			e->aborted = true;
	} else if (k == TK_INTRODUCE || k == TK_RELEASE) {
		uint64_t d;
		const char *end;
		char v[32];

		printable(v, sizeof(v), r->nf ? r->f[0] : "", r->nf ? r->flen[0] : 0);
		if (num(v, &end, &d) && !*end && d <= 65535)
			e->domid = (int)d;
		snprintf(e->path, sizeof(e->path), "%s", v);
	} else if (k == TK_OTHER) {
		snprintf(e->path, sizeof(e->path), "%s", r->type);
	} else if (k != TK_TX_START) {
		field_path(c, r, 0, e->path, sizeof(e->path));
		e->domid = path_domid(e->path);
		/* a written value runs to the end, NULs and all */
		if (r->nf > 1)
			printable(e->value, sizeof(e->value), r->f[1],
				  k == TK_WRITE ?
				  (size_t)(r->raw + r->rawlen - r->f[1]) :
				  r->flen[1]);
	}
	if (k == TK_WRITE && state_node(e->path, &e->dev)) {
		struct statenode *s = state_find(p, e->path, false);

		e->is_state = true;
		e->state_to = r->nf > 1 ? state_value(r->f[1], r->flen[1]) : -1;
		e->state_from = s ? s->value : -1;
	}
	if (k == TK_WRITE)
		note_target(p, e);
	behave(p, c, e);
	pd.ev = i;
	if (c->npend == MAX_PEND) {
		memmove(&c->pend[0], &c->pend[1],
			(MAX_PEND - 1) * sizeof(c->pend[0]));
		c->npend--;
	}
	c->pend[c->npend++] = pd;
	return 0;
}

static int on_reply(struct parser *p, struct tconn *c, struct rec *r)
{
	struct pend pd;
	struct trace_event *e;
	int i;

	if (!strcmp(r->type, "WATCH_EVENT")) {
		i = ev_add(p, c);
		if (i < 0)
			return i;
		e = &p->ev[i];
		e->t = r->t;
		e->to = (int)(c - p->conns);
		e->kind = TK_WATCH_EVENT;
		e->truncated = r->truncated;
		field_path(c, r, 0, e->path, sizeof(e->path));
		e->domid = path_domid(e->path);
		if (r->nf > 1)
			printable(e->value, sizeof(e->value), r->f[1], r->flen[1]);
		return 0;
	}
	if (!pend_take(c, r, &pd, p->fmt))
		return 0;
	e = pd.ev >= 0 ? &p->ev[pd.ev] : NULL;
	if (!strcmp(r->type, "ERROR")) {
		if (e) {
			e->failed = true;
			printable(e->value, sizeof(e->value), r->nf ? r->f[0] : "",
				  r->nf ? r->flen[0] : 0);
		}
		if (pd.type == P_TX_END) {
			tx_ended(p, c, pd.tx, false);
			if (e)
				e->aborted = true;
			if (c->cur_tx == pd.tx)
				c->cur_tx = 0;
		}
		return 0;
	}
	if (pd.type == P_TX_START && r->nf) {
		uint64_t id;
		const char *end;
		char v[24];

		printable(v, sizeof(v), r->f[0], r->flen[0]);
		if (num(v, &end, &id) && !*end && id <= UINT32_MAX) {
			if (e)
				snprintf(e->value, sizeof(e->value), "%s", v);
			if (p->fmt == FMT_C)
				c->cur_tx = (unsigned)id;
			if (e)
				e->tx = (unsigned)id;
			tx_opened(c, (unsigned)id, pd.ev >= 0 ? pd.ev : (int)p->nev);
		}
		return 0;
	}
	if (pd.type == P_TX_END) {
		tx_ended(p, c, pd.tx, pd.end_commit);
		if (c->cur_tx == pd.tx)
			c->cur_tx = 0;
		return 0;
	}
	if (e && !e->tx)
		apply(p, (unsigned)pd.ev);
	return 0;
}

static int on_record(struct parser *p, struct rec *r)
{
	struct tconn *c;

	if (!r->untimed && !p->have_t0) {
		p->t->t0 = r->t;
		p->have_t0 = true;
	}
	if (p->fmt == FMT_C && r->dir == R_CONNECT) {
		/*
		 * C xenstored names no domain.  Its first connection is dom0's
		 * ring (made at start), the one made while an INTRODUCE is
		 * served is that domain's ring, and any other is a client of
		 * its socket, which only dom0 can reach.
		 */
		r->dom = 0;
		r->ring = p->nconns == 0;
		if (p->intro_dom >= 0) {
			r->dom = p->intro_dom;
			r->ring = true;
			p->intro_dom = -1;
		}
	}
	if (p->fmt == FMT_C && r->dir == R_IN && !strcmp(r->type, "INTRODUCE")) {
		uint64_t d;
		const char *end;

		p->intro_dom = r->nf && num(r->f[0], &end, &d) && !*end &&
			       d <= 65535 ? (int)d : -1;
	}
	c = conn_find(p, r->conn, r->dir == R_CONNECT);
	if (!c)
		return -ENOMEM;
	if (!c->first)
		c->first = p->line;
	c->last = p->line;
	if (r->dom >= 0)
		c->dom = r->dom;
	switch (r->dir) {
	case R_CONNECT:
		c->ring = r->ring;
		c->pid = r->pid;
		if (r->comm[0]) {
			snprintf(c->comm, sizeof(c->comm), "%s", r->comm);
			c->has_comm = true;
		}
		return 0;
	case R_CLOSE:
		c->closed = true;
		return 0;
	case R_IN:
		return on_request(p, c, r);
	case R_OUT:
		return on_reply(p, c, r);
	}
	return 0;
}

/* Naming */

static bool comm_is(const char *comm, const char *prefix, bool whole)
{
	size_t n = strlen(prefix);

	return !strncmp(comm, prefix, n) && (!whole || !comm[n]);
}

/*
 * Who a connection is.  By its command name where the log has one:
 * xpt, xl, libxl* -> toolstack; xpt-pciback -> pciback; xpt-guest ->
 * pcifront of its domain; xpt-dm, qemu* -> the device model (a stub
 * domain's, in a domU); xpt-hypervisor -> hypervisor.  A ring: dom0's is
 * the kernel's xenbus, taken as pciback; a domU's is its pcifront, or its
 * stub domain's device model if it wrote device-model/.  Otherwise by
 * what it wrote, first match: backend entries (dev-N, key-N, num_devs,
 * frontend...), /libxl/, /xpt/ or INTRODUCE/RELEASE -> toolstack; only a backend's
 * state, state-N, root-N, vdev-N -> pciback; device/pci -> pcifront of
 * that domain; device-model/D -> the device model of D (a stub domain if
 * the connection is a domU's); anything else -> other.
 */
static void party_of(struct tconn *c)
{
	const char *m = c->comm;

	c->pdom = -1;
	if (c->has_comm && (comm_is(m, "xpt", true) || comm_is(m, "xl", true) ||
			    comm_is(m, "libxl", false))) {
		c->party = TP_TOOLSTACK;
	} else if (c->has_comm && comm_is(m, "xpt-pciback", true)) {
		c->party = TP_PCIBACK;
	} else if (c->has_comm && comm_is(m, "xpt-guest", true)) {
		c->party = TP_PCIFRONT;
		c->pdom = c->dom >= 0 ? c->dom : c->front_dom;
	} else if (c->has_comm && (comm_is(m, "xpt-dm", true) ||
				   comm_is(m, "qemu", false))) {
		c->party = c->dom > 0 ? TP_STUBDOM : TP_DM;
		c->pdom = c->dom > 0 ? c->dom : c->dm_dom;
	} else if (c->has_comm && comm_is(m, "xpt-hypervisor", true)) {
		c->party = TP_HYPERVISOR;
	} else if (c->ring && c->dom == 0) {
		c->party = TP_PCIBACK;
	} else if (c->ring && c->dom > 0) {
		c->party = c->behave & B_DM ? TP_STUBDOM : TP_PCIFRONT;
		c->pdom = c->dom;
	} else if (c->behave & B_TOOL) {
		c->party = TP_TOOLSTACK;
	} else if (c->behave & B_BACK) {
		c->party = TP_PCIBACK;
	} else if (c->behave & B_FRONT) {
		c->party = TP_PCIFRONT;
		c->pdom = c->dom > 0 ? c->dom : c->front_dom;
	} else if (c->behave & B_DM) {
		c->party = c->dom > 0 ? TP_STUBDOM : TP_DM;
		c->pdom = c->dom > 0 ? c->dom : c->dm_dom;
	} else {
		c->party = TP_OTHER;
		c->pdom = c->dom;
	}
}

static void lane_name(const struct tconn *c, char *out, size_t outlen)
{
	const char *pn = trace_party_name(c->party);

	if (c->pdom >= 0 && c->party != TP_TOOLSTACK &&
	    c->party != TP_PCIBACK && c->party != TP_HYPERVISOR)
		snprintf(out, outlen, "%s d%d", pn, c->pdom);
	else
		snprintf(out, outlen, "%s", pn);
	if (c->slot > 0)
		snprintf(out + strlen(out), outlen - strlen(out), " #%d",
			 c->slot + 1);
	if (c->has_comm && c->comm[0] && strcmp(c->comm, "?") &&
	    strlen(out) + strlen(c->comm) + 4 < outlen)
		snprintf(out + strlen(out), outlen - strlen(out), " (%s)",
			 c->comm);
	else if (c->ring && strlen(out) + 10 < outlen)
		snprintf(out + strlen(out), outlen - strlen(out), " (ring)");
}

static int lane_of(struct parser *p, struct tconn *c)
{
	struct trace *t = p->t;
	char name[64];
	unsigned i;
	void *n;

	if (c->lane >= 0)
		return c->lane;
	lane_name(c, name, sizeof(name));
	for (i = 1; i < t->nlanes; i++)
		if (t->lanes[i].party == c->party &&
		    t->lanes[i].domid == c->pdom &&
		    ((c->party != TP_OTHER && c->party != TP_TOOLSTACK) ||
		     !strcmp(t->lanes[i].name, name)))
			return c->lane = (int)i;
	if (t->nlanes == MAX_LANES)
		return c->lane = (int)t->nlanes - 1;
	n = realloc(t->lanes, (t->nlanes + 1) * sizeof(*t->lanes));
	if (!n)
		return -ENOMEM;
	t->lanes = n;
	t->lanes[t->nlanes].party = c->party;
	t->lanes[t->nlanes].domid = c->pdom;
	snprintf(t->lanes[t->nlanes].name, sizeof(t->lanes[0].name), "%s", name);
	return c->lane = (int)t->nlanes++;
}

/*
 * Toolstack commands that run at the same time (three `xl pci-attach` at
 * once) get a lane each, so a race shows as one: a connection takes the
 * first toolstack lane free when it starts (every connection there ended
 * before), or its process's, if the log names processes.  Commands one
 * after another share the first lane.
 */
#define MAX_SLOTS 8

static void toolstack_slots(struct parser *p)
{
	unsigned end[MAX_SLOTS] = { 0 }, i, k, n = 0;

	for (i = 0; i < p->nconns; i++) {
		struct tconn *c = &p->conns[i];

		c->slot = 0;
		if (c->party != TP_TOOLSTACK || !c->used)
			continue;
		for (k = 0; c->pid > 0 && k < i; k++)
			if (p->conns[k].party == TP_TOOLSTACK &&
			    p->conns[k].used && p->conns[k].pid == c->pid)
				break;
		if (c->pid > 0 && k < i) {
			c->slot = p->conns[k].slot;
		} else {
			for (k = 0; k < n && end[k] >= c->first; k++)
				;
			if (k == MAX_SLOTS)
				k = MAX_SLOTS - 1;
			else if (k == n)
				n++;
			c->slot = (int)k;
		}
		if (end[c->slot] < c->last)
			end[c->slot] = c->last;
	}
}

/* Lanes in the order store, toolstack, pciback, pcifront, dm, stubdom,
 * hypervisor, other; by domain within a party. */
static int lane_cmp(const void *a, const void *b)
{
	const struct trace_lane *x = a, *y = b;

	if (x->party != y->party)
		return (int)x->party - (int)y->party;
	if (x->domid != y->domid)
		return x->domid - y->domid;
	return strcmp(x->name, y->name);
}

/* Keeping */

static bool kind_is_read(enum trace_kind k)
{
	return k == TK_READ || k == TK_DIRECTORY;
}

/* The domain, an earlier domain of its name, or a stub domain of them. */
static bool concerns(const struct trace *t, int evdom, int domid)
{
	unsigned i;

	if (domid < 0 || evdom == domid)
		return true;
	for (i = 0; i < t->nearlier; i++)
		if (evdom == t->earlier[i])
			return true;
	for (i = 0; i < t->nstubdoms; i++)
		if (evdom == t->stubdoms[i])
			return true;
	return false;
}

bool trace_concerns(const struct trace *t, int domid)
{
	return concerns(t, domid, t->filter_domid);
}

static bool keep_event(const struct parser *p, const struct trace_event *e,
		       int domid)
{
	const struct trace_opts *o = p->o;

	if (kind_is_read(e->kind) && !o->reads)
		return false;
	if (e->kind == TK_TX_START || e->kind == TK_TX_COMMIT ||
	    e->kind == TK_TX_ABORT)
		return false;	/* decided by what is inside them */
	if (e->kind == TK_INTRODUCE || e->kind == TK_RELEASE)
		return concerns(p->t, e->domid, domid);
	if (!o->all_paths && !path_is_pci(e->path))
		return false;
	return concerns(p->t, e->domid, domid);
}

/* Keep the stub domains of domain d. */
static void add_stubdoms(struct parser *p, int d)
{
	unsigned i, k;

	for (i = 0; i < p->nstubs; i++) {
		if (p->stubs[i].target != d)
			continue;
		for (k = 0; k < p->t->nstubdoms; k++)
			if (p->t->stubdoms[k] == p->stubs[i].stub)
				break;
		if (k == p->t->nstubdoms && k < TRACE_MAX_STUBDOMS)
			p->t->stubdoms[p->t->nstubdoms++] = p->stubs[i].stub;
	}
}

/* --domain NAME: the last domain given the name is the filter's domid;
 * the earlier ones (a reboot's old id) are kept too, in the order the
 * log named them. */
static int resolve_domain(struct parser *p, int *domid, char *err,
			  size_t errlen)
{
	const struct trace_opts *o = p->o;
	struct trace *t = p->t;
	unsigned i, k;

	*domid = o->domid;
	if (o->domain_name) {
		for (i = p->nnames; i-- > 0;)
			if (!strcmp(p->names[i].name, o->domain_name)) {
				*domid = p->names[i].domid;
				break;
			}
		if (*domid < 0) {
			snprintf(err, errlen, "%s: no domain named '%s' in this "
				 "log (no write of /local/domain/D/name); give "
				 "its id with --domain D", t->source,
				 o->domain_name);
			return -ENOENT;
		}
		for (i = 0; i < p->nnames; i++) {
			int d = p->names[i].domid;

			if (d == *domid || strcmp(p->names[i].name,
						  o->domain_name))
				continue;
			for (k = 0; k < t->nearlier; k++)
				if (t->earlier[k] == d)
					break;
			if (k == t->nearlier && k < TRACE_MAX_EARLIER)
				t->earlier[t->nearlier++] = d;
		}
	}
	if (*domid >= 0)
		add_stubdoms(p, *domid);
	for (i = 0; i < t->nearlier; i++)
		add_stubdoms(p, t->earlier[i]);
	if (*domid >= 0)
		for (i = p->nnames; i-- > 0;)
			if (p->names[i].domid == *domid) {
				snprintf(t->filter_name,
					 sizeof(t->filter_name), "%s",
					 p->names[i].name);
				break;
			}
	return 0;
}

static int build(struct parser *p, char *err, size_t errlen)
{
	struct trace *t = p->t;
	unsigned i, k, ci;
	int domid, r, *map = NULL;

	r = resolve_domain(p, &domid, err, errlen);
	if (r < 0)
		return r;
	t->filter_domid = domid;
	for (i = 0; i < p->nev; i++)
		p->evx[i].keep = keep_event(p, &p->ev[i], domid);
	/* A transaction's markers stay with what is kept inside it. */
	for (i = 0; i < p->nev; i++) {
		struct trace_event *e = &p->ev[i];

		if (e->kind != TK_TX_START || !e->tx)
			continue;
		ci = (unsigned)p->evx[i].conn;
		for (k = i + 1; k < p->nev; k++) {
			struct trace_event *x = &p->ev[k];

			if (p->evx[k].conn != (int)ci || x->tx != e->tx)
				continue;
			if (x->kind == TK_TX_START)
				break;	/* the id was reused */
			if (x->kind == TK_TX_COMMIT || x->kind == TK_TX_ABORT) {
				if (p->evx[i].keep)
					p->evx[k].keep = true;
				break;
			}
			if (p->evx[k].keep)
				p->evx[i].keep = true;
		}
	}
	for (i = 0; i < p->nconns; i++)
		party_of(&p->conns[i]);
	for (i = 0; i < p->nev; i++)
		if (p->evx[i].keep)
			p->conns[p->evx[i].conn].used = true;
	toolstack_slots(p);
	t->lanes = calloc(1, sizeof(*t->lanes));
	if (!t->lanes)
		return -ENOMEM;
	t->lanes[0].party = TP_STORE;
	t->lanes[0].domid = -1;
	snprintf(t->lanes[0].name, sizeof(t->lanes[0].name), "store");
	t->nlanes = 1;
	for (i = 0; i < p->nev; i++)
		if (p->evx[i].keep &&
		    lane_of(p, &p->conns[p->evx[i].conn]) < 0)
			return -ENOMEM;
	/* Sort the lanes, then renumber the connections' lanes. */
	{
		struct trace_lane *sorted;

		map = calloc(t->nlanes, sizeof(*map));
		sorted = malloc(t->nlanes * sizeof(*sorted));
		if (!map || !sorted) {
			free(map);
			free(sorted);
			return -ENOMEM;
		}
		memcpy(sorted, t->lanes, t->nlanes * sizeof(*sorted));
		qsort(sorted + 1, t->nlanes - 1, sizeof(*sorted), lane_cmp);
		for (i = 0; i < t->nlanes; i++)
			for (k = 0; k < t->nlanes; k++)
				if (!lane_cmp(&t->lanes[i], &sorted[k]) &&
				    !strcmp(t->lanes[i].name, sorted[k].name))
					map[i] = (int)k;
		free(t->lanes);
		t->lanes = sorted;
	}
	for (i = 0, k = 0; i < p->nev; i++) {
		struct trace_event *e = &p->ev[i];
		int lane;

		if (!p->evx[i].keep)
			continue;
		lane = map[p->conns[p->evx[i].conn].lane];
		if (e->kind == TK_WATCH_EVENT) {
			e->from = 0;
			e->to = lane;
		} else {
			e->from = lane;
			e->to = 0;
		}
		e->t -= t->t0;
		if (e->t < 0)
			e->t = 0;
		p->ev[k++] = *e;
	}
	free(map);
	t->nevents = k;
	t->events = p->ev;
	p->ev = NULL;
	return 0;
}

/* One line without its newline, at most cap - 1 bytes (cut: there were
 * more, now skipped); NULs in it are kept, so n counts them.  false at
 * the end of the file. */
static bool read_line(FILE *f, char *buf, size_t cap, size_t *n, bool *cut)
{
	int ch;

	*n = 0;
	*cut = false;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (*n + 1 < cap)
			buf[(*n)++] = (char)ch;
		else
			*cut = true;
	}
	buf[*n] = 0;
	return ch != EOF || *n || *cut;
}

int trace_parse(FILE *f, const char *source, const struct trace_opts *o,
		struct trace *t, char *err, size_t errlen)
{
	struct parser p = { .t = t, .o = o, .intro_dom = -1 };
	struct rec *r = NULL;
	char *line = NULL;
	double last_t = 0;
	int ret = -ENOMEM;

	memset(t, 0, sizeof(*t));
	t->source = source;
	t->format = "unknown";
	t->filter_domid = -1;
	t->reads = o->reads;
	t->all_paths = o->all_paths;
	line = malloc(LINE_MAX_LEN);
	r = malloc(sizeof(*r));
	p.names = malloc(MAX_NAMES * sizeof(*p.names));
	if (!line || !r || !p.names) {
		snprintf(err, errlen, "%s: out of memory", source);
		goto out;
	}
	for (;;) {
		size_t n;
		bool ok = false, ign = false, cut;

		if (!read_line(f, line, LINE_MAX_LEN, &n, &cut))
			break;
		p.line = ++t->lines;
		/* longer than any record, or a NUL inside: not a record */
		if (cut || memchr(line, 0, n)) {
			t->skipped++;
			continue;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		memset(r, 0, offsetof(struct rec, raw));
		r->raw[0] = 0;
		r->rawlen = 0;
		r->truncated = false;
		r->nf = 0;
		r->dom = -1;
		r->tx = -1;
		if (p.fmt != FMT_C && parse_xpt(line, r)) {
			ok = true;
			p.fmt = FMT_XPT;
		} else if (p.fmt != FMT_XPT && parse_c(line, r, &ign)) {
			ok = true;
			p.fmt = FMT_C;
		}
		if (!ok) {
			if (ign || !n)
				t->ignored++;
			else
				t->skipped++;
			continue;
		}
		if (r->t < 0)
			r->t = last_t;
		last_t = r->t;
		t->records++;
		ret = on_record(&p, r);
		if (ret < 0) {
			snprintf(err, errlen, "%s:%u: out of memory", source,
				 p.line);
			goto out;
		}
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", source);
		goto out;
	}
	t->format = p.fmt == FMT_XPT ? "xpt-xenstored" :
		    p.fmt == FMT_C ? "c-xenstored" : "unknown";
	ret = build(&p, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", source);
out:
	free(line);
	free(r);
	free(p.conns);
	free(p.chash);
	free(p.states);
	free(p.names);
	free(p.ev);
	free(p.evx);
	if (ret < 0)
		trace_free(t);
	return ret;
}

/* Summaries, for the writers */

/* The device a backend's state-N is about: the value of its dev-N. */
const char *trace_device_of(const struct trace *t, const char *state_path)
{
	char dev[sizeof(t->events[0].path)];
	const char *leaf = strrchr(state_path, '/');
	unsigned i;

	if (!leaf || strncmp(leaf, "/state-", 7))
		return NULL;
	snprintf(dev, sizeof(dev), "%.*s/dev-%s", (int)(leaf - state_path),
		 state_path, leaf + 7);
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].kind == TK_WRITE && !t->events[i].failed &&
		    !strcmp(t->events[i].path, dev))
			return t->events[i].value;
	return NULL;
}

/* Is the node (or a parent) removed after event i? */
bool trace_removed_after(const struct trace *t, unsigned i, const char *path)
{
	for (i++; i < t->nevents; i++) {
		const struct trace_event *e = &t->events[i];
		size_t n = strlen(e->path);

		if (e->kind == TK_RM && !e->failed && !e->aborted &&
		    !strncmp(path, e->path, n) &&
		    (path[n] == 0 || path[n] == '/'))
			return true;
		if (e->kind == TK_WRITE && !e->failed && !e->aborted &&
		    !strcmp(e->path, path))
			return false;
	}
	return false;
}

/* One node's states for the summaries of the text and JSON views. */
unsigned trace_node_states(const struct trace *t, unsigned i, bool *done,
			   int *states, bool *ret_removed)
{
	const char *path = t->events[i].path;
	unsigned k, last = i, n = 0;

	for (k = i; k < t->nevents; k++) {
		const struct trace_event *x = &t->events[k];

		if (!x->is_state || strcmp(x->path, path))
			continue;
		done[k] = true;
		if (x->aborted || x->failed)
			continue;
		last = k;
		states[n++] = x->state_to;
	}
	*ret_removed = trace_removed_after(t, last, path);
	return n;
}

int trace_read(const char *path, const struct trace_opts *o,
	       struct trace *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-r));
		memset(t, 0, sizeof(*t));
		return r;
	}
	r = trace_parse(f, path, o, t, err, errlen);
	fclose(f);
	return r;
}

int trace_load(const char *path, int domid, bool with_reads,
	       struct trace *t, char *err, size_t errlen)
{
	struct trace_opts o = { .domid = domid, .reads = with_reads };

	return trace_read(path, &o, t, err, errlen);
}

void trace_free(struct trace *t)
{
	free(t->lanes);
	free(t->events);
	t->lanes = NULL;
	t->events = NULL;
	t->hv_source = NULL;
	t->nlanes = t->nevents = 0;
}
