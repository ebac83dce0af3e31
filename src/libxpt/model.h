/* SPDX-License-Identifier: MIT */
/*
 * The modelled host's side of libxpt, used only by platform-model.c and
 * the model's host control (host.c): the hypervisor client, xpt-pciback's
 * control socket, and guest kernels as xpt-guest processes.
 */
#ifndef XPT_LIBXPT_MODEL_H
#define XPT_LIBXPT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "hvclient.h"

struct xpt_ctx;
struct xpt_pb_dev;

/* platform-model.c: the hypervisor connection (after xpt_connect) */
struct hv_client *xpt_model_hv(struct xpt_ctx *c);

/* pbctl.c: xpt-pciback's control socket, xpt-pciback(8) */
int xpt_pb_request(struct xpt_ctx *c, const char *req, char *reply,
		   size_t len);
/* Devices seized by pciback and their exporting domain (-1 none);
 * quiet: the caller words a failure. */
int xpt_pb_list(struct xpt_ctx *c, struct xpt_pb_dev *ret, size_t max,
		size_t *ret_n);

/* guest.c: a guest kernel is an xpt-guest process, found by the pid
 * file it writes (DIR/guest/<domid>.pid); its kind is its PCI: pcifront
 * (PV, or a stub domain's), config I/O to a device model (HVM), vPCI
 * (PVH) */
enum xpt_guest_kind { XPT_GUEST_PV, XPT_GUEST_HVM, XPT_GUEST_PVH };
int xpt_guest_start(struct xpt_ctx *c, unsigned int domid,
		    enum xpt_guest_kind kind);
bool xpt_guest_alive(struct xpt_ctx *c, unsigned int domid);
void xpt_guest_signal(struct xpt_ctx *c, unsigned int domid, int sig);
void xpt_guest_kill(struct xpt_ctx *c, unsigned int domid);

#endif
