/* SPDX-License-Identifier: MIT */
/*
 * xpt doctor (doctor.c): the command's handler, called from xpt.c's
 * command table with the usage line it prints on a usage error.
 */
#ifndef XPT_DOCTOR_H
#define XPT_DOCTOR_H

struct xpt_ctx;

int xpt_doctor_cmd(struct xpt_ctx *c, int argc, char **argv,
		   const char *usage);

#endif
