/* SPDX-License-Identifier: MIT */
/*
 * A fake hypervisor for xpt-pciback's unit tests, linked in place of
 * hvclient: host devices with a 4 KiB config space (PM, MSI, MSI-X
 * capabilities), resets, PIRQs, grants and event channels, all in-process
 * and inspectable.
 */
#ifndef XPT_FAKEHV_H
#define XPT_FAKEHV_H

#include <stdbool.h>
#include <stdint.h>

#include "hvclient.h"

#define FAKEHV_MAX_DEVS 64
#define FAKEHV_MAX_PIRQS 512

struct fakehv_dev {
	struct hv_pci_dev info;
	uint8_t cfg[4096];
	int resets;
	int prepared;		/* prepare_msix minus release_msix */
	/* Bumped by every hypercall that may write cfg: a caller that saw
	 * the same count before and after knows cfg is unchanged without
	 * comparing 4 KiB (the fuzz targets, after every request). */
	unsigned int cfg_writes;
};

struct fakehv_pirq {
	bool used;
	unsigned int domid;
	int pirq;
	uint32_t type, sbdf, entry;
};

struct fakehv {
	struct fakehv_dev devs[FAKEHV_MAX_DEVS];
	int ndevs;
	struct fakehv_pirq pirqs[FAKEHV_MAX_PIRQS];
	int npirqs;		/* pirqs[npirqs..] never used since reset */
	unsigned int pirq_changes;	/* bumped by every map and unmap */
	int next_pirq;
	/* grants offered to dom0: (granter, gref) -> memfd */
	struct { unsigned int domid; uint32_t gref; int fd; bool ro; } grants[16];
	int ngrants;
	int mapped_grants;
	/* unbound ports offered to dom0, and dom0's bound ends */
	struct { unsigned int domid, port; } unbound[16];
	int nunbound;
	struct { bool used; unsigned int port, remote_domid, remote_port;
		 int fd; int sent; } bound[16];
	int next_port;
};

extern struct fakehv fakehv;

/* Forget every device, PIRQ, grant and port.  Only the devices added
 * since the last reset are cleared (fakehv_add clears its own): the whole
 * table is 260 KB, and the fuzz targets reset once per input. */
void fakehv_reset(void);
/* A device: mem BARs of the given sizes (0 = none; 64-bit if flag),
 * msi/msix capabilities, reset method (0 = none). */
struct fakehv_dev *fakehv_add(uint32_t sbdf, uint16_t vendor, uint16_t device,
			      uint32_t class, bool msi, unsigned int msix_entries,
			      uint8_t reset_method);
void fakehv_set_bar(struct fakehv_dev *d, int i, uint64_t addr, uint64_t size,
		    uint32_t flags);
struct fakehv_dev *fakehv_find(uint32_t sbdf);
uint16_t fakehv_cfg16(uint32_t sbdf, unsigned int off);
int fakehv_count_pirqs(unsigned int domid);
void fakehv_grant(unsigned int domid, uint32_t gref, int fd);
void fakehv_grant_readonly(unsigned int domid, uint32_t gref, int fd);
void fakehv_unbound_port(unsigned int domid, unsigned int port);
/* dom0's end bound to (domid, remote_port): its index in bound[], or -1 */
int fakehv_bound(unsigned int domid, unsigned int remote_port);

#define FAKEHV_MSI_CAP 0x50
#define FAKEHV_MSIX_CAP 0x70

#endif
