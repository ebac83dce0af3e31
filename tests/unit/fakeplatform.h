/* SPDX-License-Identifier: MIT */
/*
 * An in-memory host behind libxpt's platform table, for in-process tests
 * of the protocol code: domains, host PCI functions with their IOMMU
 * owner, pciback binding, BAR permissions and INTx pirqs, each visible to
 * the test; and a fault point: the Nth call of any op fails with -EIO.
 * xenstore is real (an xpt-xenstored the fixture starts); a test that
 * links fakexs.c with -Wl,--wrap (tests/unit/meson.build) has every
 * libxenstore call count in the same countdown.
 */
#ifndef XPT_TEST_FAKEPLATFORM_H
#define XPT_TEST_FAKEPLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "libxpt.h"

#define FAKE_NDEV 4
#define FAKE_NDOM 8

struct fake_dev {
	uint32_t sbdf;
	int owner;			/* 0, XPT_DOMID_IO or a domid */
	bool bound;			/* to pciback */
	uint8_t perms[FAKE_NDOM];	/* by slot: bit i, resource i granted
					 * (BAR0 and the ROM) */
	bool pirq[FAKE_NDOM];		/* INTx pirq mapped, by slot */
};

struct fake_dom {
	bool used, kernel;
	unsigned int domid;
	enum xpt_dom_state state;
	char name[64];
};

struct fake_host {
	struct fake_dev dev[FAKE_NDEV];
	struct fake_dom dom[FAKE_NDOM];
	unsigned int next_domid;
	unsigned int calls;		/* calls counted so far */
	unsigned int pf_calls, xs_calls;	/* of which platform, xenstore */
	unsigned int fail_at;		/* this call fails (1-based), 0 none */
	int fail_errno;			/* how a xenstore call fails: EIO
					 * (0), or EAGAIN */
	bool failed;			/* the fault was hit */
	const char *failed_call;	/* which call it was ("xs_read") */
	bool quiet;			/* calls not counted (the test's
					 * own reads) */
	void (*at_fault)(void);		/* called when the fault is hit */
	unsigned int unpauses;		/* dom_unpause calls that took */
	unsigned int releases;		/* xs_release_domain calls sent
					 * (fakexs.c) */
	unsigned int ran_deassigned;	/* deassigns from a running domain */
};

extern struct fake_host fake;

/* Count a call (what: its name; xs: a xenstore one); true when it is
 * the one to fail. */
bool fake_fault(const char *what, bool xs);
extern const struct xpt_platform fake_platform;

/* Devices 03:00.0 .. 06:00.0, owned by dom0, not bound; domids from
 * next_domid (kept across resets, so xenstore never sees one twice). */
void fake_reset(void);
struct fake_dev *fake_dev(uint32_t sbdf);
struct fake_dom *fake_dom(unsigned int domid);
int fake_slot(unsigned int domid);	/* -1 none */
uint64_t fake_bar_addr(uint32_t sbdf, int bar);

/* An xpt-xenstored in a temporary run directory, and a context on it
 * with the fake platform. */
int fake_start_xenstored(const char *xenstored);
void fake_stop_xenstored(void);
const char *fake_rundir(void);
struct xpt_ctx *fake_ctx(void);

#endif
