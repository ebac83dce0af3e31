/* SPDX-License-Identifier: MIT */
/*
 * xpt-dm's map: the device model of one HVM guest (QEMU's role), its QMP
 * monitor and the passed-through devices it has been given.
 */
#ifndef XPT_DM_H
#define XPT_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

#define DM_MAX_DEVS 32
#define DM_MAX_LINE (64 * 1024)

enum dm_status {
	DM_PRELAUNCH,		/* started with -S, not yet cont */
	DM_RUNNING,
	DM_PAUSED,		/* stop after running */
};

/* A xen-pci-passthrough device: QMP's device_add. */
struct dm_dev {
	char id[64];
	uint32_t host_sbdf;
	int slot;		/* guest slot: addr=, or chosen at device_add */
	bool permissive;
};

struct dm {
	unsigned int domid;	/* -xen-domid */
	unsigned int dm_domid;	/* where this DM runs: 0 dom0 */
	char rundir[256];
	char qmp_path[108];	/* the monitor's socket */
	bool start_paused;	/* -S */
	enum dm_status status;
	struct xs_handle *xs;	/* NULL: no store (the state is not written) */
	struct hv_client *hv;	/* on first device_add */
	int listen_fd, client_fd;
	bool negotiated;	/* the client sent qmp_capabilities */
	char *in;		/* the client's unparsed input */
	size_t in_len;
	bool quit;
	struct dm_dev dev[DM_MAX_DEVS];
	size_t ndev;
};

/* dm.c */
/* Enter a status; running writes device-model/<domid>/state. */
void dm_set_status(struct dm *d, enum dm_status s);

/* qmp.c: the monitor */
void qmp_greet(struct dm *d);
/* Handle the complete lines of the client's input; <0 closes it. */
int qmp_input(struct dm *d);
void qmp_event(struct dm *d, const char *name, const char *data_json);

/* pt.c: xen-pci-passthrough devices; QMP error text in err */
int pt_add(struct dm *d, const char *id, const char *hostaddr,
	   const char *addr, bool permissive, char *err, size_t errlen);
int pt_del(struct dm *d, const char *id);
/* The query-pci reply's value, malloc'ed. */
char *pt_query_json(struct dm *d);

#endif
