/* SPDX-License-Identifier: MIT */
/* The toolstack tests: historic bugs (bugs.c, stubdom.c), the race
 * (race.c), the interop table (interop.c), run by toolstack.c. */
#ifndef XPT_TOOLSTACK_H
#define XPT_TOOLSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

struct bug {
	int number;		/* its row in docs/historic-bugs.md */
	const char *title;
	bool (*run)(struct env *e);
	bool historic_backend;	/* run with xpt-pciback --historic */
	const char *variant;	/* the peer's LIBXL417_FLOW for this bug */
	int peer_wait_ms;	/* the peer's libxl__wait_for_backend bound */
	bool peer_passes;	/* the 4.17 flow is right here (the table says why) */
	const char *peer_reason;	/* the peer must fail for this reason:
					 * its failure message contains it */
};

extern const struct bug bugs[];
extern const unsigned int nbugs;
/* stubdom.c: those of an HVM guest with its device model in a stub
 * domain */
extern const struct bug stub_bugs[];
extern const unsigned int nstub_bugs;

/* ownership.c: what a failed or interrupted operation leaves, checked on
 * every layer; run against xpt */
struct ocase {
	const char *name;
	const char *title;	/* "N: ..." with N the section of issue 9's list */
	bool (*run)(struct env *e);
	bool historic_backend;
};

extern const struct ocase ocases[];
extern const unsigned int nocases;
/* pvh.c: PVH guests with PCI devices (vPCI), run against xpt */
extern const struct ocase pvh_cases[];
extern const unsigned int npvh_cases;
/* daemons.c: kill -9 of a host daemon in the middle of an op, and the
 * recovery after its restart; the longest an op took after the kill */
extern const struct ocase daemon_cases[];
extern const unsigned int ndaemon_cases;
int64_t daemons_worst_ms(void);

/* hostile.c: the hostile catalogue against ts (xpt), rows by name in
 * argv[first..] (all if none); prints the table, OUTDIR/hostile.md */
void hostile_run(const struct ts *ts, int argc, char **argv, int first,
		 unsigned int *passed, unsigned int *failed);

/* killpoints.c: kill -9 of xpt at every delay point of every operation
 * (or of ops[0..nops-1], by name; then points no operation reaches are
 * not looked for); srcdir: the libxpt sources, where the points are */
void killpoints_run(const struct ts *xpt, const char *srcdir, int nops,
		    char **ops, unsigned int *passed, unsigned int *failed);

/* faults.c: every call of an HVM guest's operations failing in turn
 * (xpt: xpt-faulty), or of ops[0..nops-1] by name */
void faults_run(const struct ts *xpt, int nops, char **ops,
		unsigned int *passed, unsigned int *failed);

/* race.c: returns seeds run / with violations through the pointers */
bool race_run(const struct ts *ts, bool mixed, unsigned int first_seed,
	      int budget_ms, unsigned int *ret_seeds,
	      unsigned int *ret_violations, char *first_violation, size_t len);

/* interop.c: one cell */
bool interop_cell(const struct ts *ts, bool historic, int scenario,
		  char *cell, size_t len);
bool interop_unpaced_round(const struct ts *peer, unsigned int *ret_seen);
extern const char *const interop_scenarios[];
extern const unsigned int ninterop;

#endif
