/* SPDX-License-Identifier: MIT */
/*
 * Unit-test harness for xpt-hypervisor: the model in-process (hvh_model),
 * or served on real sockets by a forked child running the same library
 * (hvh_start), reached with hvclient as every other process does.
 */
#ifndef XPT_HV_HARNESS_H
#define XPT_HV_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

#include "hvclient.h"
#include "hypervisor.h"

/* A small host used by most tests. */
extern const char hvh_host[];
#define HVH_NIC HV_SBDF(0, 3, 0, 0)	/* MSI-X 8 entries in BAR2, FLR */
#define HVH_VF0 HV_SBDF(0, 3, 0, 1)	/* VF of the NIC */
#define HVH_GPU HV_SBDF(0, 2, 0, 0)	/* INTx, MSI x4, bus reset */
#define HVH_NORESET HV_SBDF(0, 5, 0, 0)	/* reset=none, MSI-X 4 */

struct hvh {
	pid_t pid;
	char rundir[64];
	struct hv_client *ctl;		/* privileged */
};

/* In-process model with the given host text (asserts on parse errors). */
struct hyp *hvh_model(const char *host);

/* Daemon in a child process; ctl connected. */
void hvh_start(struct hvh *t, const char *host);
/* Asserts the daemon is still alive, stops it, checks a clean exit. */
void hvh_stop(struct hvh *t);
int hvh_alive(struct hvh *t);
/* Domain socket client for domid. */
struct hv_client *hvh_open_domain(struct hvh *t, unsigned int domid);

/* vPCI: fails the test when hyp_vpci_check finds an invariant broken. */
void hvh_vpci_invariants(struct hyp *h);
/* Every memory BAR of sbdf open to domid (what a toolstack grants). */
void hvh_grant_bars(struct hyp *h, uint32_t domid, uint32_t sbdf);

/* Wait up to ms for an eventfd; returns its count (0 on timeout). */
uint64_t hvh_wait(int fd, int ms);
/* Non-blocking: the count pending now. */
uint64_t hvh_pending(int fd);

#endif
