/* SPDX-License-Identifier: MIT */
/*
 * libxpt's control of the modelled host (the "model" platform): its
 * daemons in the run directory, a test hook for device interrupts, and
 * the modelled guest's own view of its devices.  Meaningless on a real
 * Xen host, where the hypervisor, pciback and the guests are not ours to
 * start.
 */
#ifndef XPT_MODEL_H
#define XPT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xpt/xpt.h"

/* host.c: the modelled host's daemons in the run directory */
struct xpt_host_opts {
	const char *hostfile;	/* NULL: $XPT_HOST, else examples/host */
	bool historic;		/* xpt-pciback --historic (pre-5.13) */
	const char *access_log;	/* xpt-xenstored --access-log FILE */
	bool verbose;
	/* out: on a partly running host, the daemons started again */
	char ret_restarted[64];
};
/* A partly running host: starts only the daemons that are not running. */
int xpt_host_start(struct xpt_ctx *c, struct xpt_host_opts *o);
int xpt_host_stop(struct xpt_ctx *c);
/* The daemons whose pid file is left but whose process is gone (killed,
 * crashed), named in buf; their number. */
int xpt_host_dead(const struct xpt_ctx *c, char *buf, size_t len);
/* Each daemon of the host as `host status` shows it; 0 when all run,
 * otherwise -ESRCH with the error saying what to do (ret filled all the
 * same). */
#define XPT_HOST_DAEMONS 3
struct xpt_host_daemon {
	const char *name;	/* "xpt-xenstored", ... */
	const char *state;	/* "running", "stopped", "dead" */
	int pid;		/* running: its pid; dead: the pid it had;
				 * stopped: -1 */
};
int xpt_host_survey(struct xpt_ctx *c,
		    struct xpt_host_daemon ret[XPT_HOST_DAEMONS]);
/* Prints one line per daemon; 0 when all run, -ESRCH otherwise. */
int xpt_host_status(struct xpt_ctx *c, FILE *out);
/* Test hook: the device signals an interrupt (MSI-X entry / MSI vector,
 * or INTx when it uses neither); *ret_delivered: a guest was notified. */
int xpt_host_raise_irq(struct xpt_ctx *c, uint32_t sbdf, unsigned int entry,
		       int *ret_delivered);

/* One request on the guest's query socket (e.g. "status"); the reply
 * lines without the final "end". */
int xpt_guest_query(struct xpt_ctx *c, unsigned int domid, const char *req,
		    char *buf, size_t len);

#endif
