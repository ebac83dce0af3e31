/* SPDX-License-Identifier: MIT */
/*
 * Fakes for the guest's unit tests: a pci_op backend answering from
 * in-memory config spaces, and the few hypercalls the guest makes (pages
 * are real memfds, event channels real eventfds the test can signal).
 * Linked instead of pciop.c and hvclient.c.  An HVM guest's config I/O
 * reaches the same config spaces, as a device model passing them through
 * unchanged would (no BARs), and absent functions read all ones.
 */
#ifndef XPT_GUEST_FAKES_H
#define XPT_GUEST_FAKES_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_MAX_DEVS 8
#define FAKE_MAX_PORTS 64
#define FAKE_GREF0 42u

struct fake_dev {
	bool present;
	uint32_t sbdf;
	uint8_t cfg[256];
	bool msix_on, msi_on;
	int msix_enables;	/* successful enables so far */
	uint32_t bar0_size;	/* HVM, PVH: BAR0 a 32-bit memory BAR of
				 * this size (a power of two), 0 none */
	uint32_t bar0;		/* its register */
};

struct fake {
	struct fake_dev dev[FAKE_MAX_DEVS];
	bool historic;		/* refuse a second MSI-X enable (-EALREADY) */
	bool dead;		/* every pci_op times out */
	int ops;		/* pci_ops seen */
	int shutdown_reason;	/* -1 = none */
	struct {
		bool used;
		int pirq;
		int fd;
	} port[FAKE_MAX_PORTS];
	struct {
		bool used;
		int fd;
	} vec[256];		/* HVM: the guest's vectors */
	/* grants from ref 42 up, lowest free first; busy: the backend
	 * still maps it, so ending it is refused (-EBUSY), as the model's
	 * hypervisor refuses */
	struct {
		bool used, busy;
	} gnt[16];
	uint64_t mmio_addr;	/* PVH: the last MMIO read's address */
	uint32_t mmio_value;	/* PVH: what every MMIO read returns */
};

extern struct fake fake;

void fake_reset(void);
/* A device on the fake backend; msix_size 0 = no MSI-X capability. */
struct fake_dev *fake_add(uint32_t sbdf, uint16_t vendor, uint16_t device,
			  uint32_t class, unsigned int msix_size, bool msi,
			  uint8_t pin, uint8_t line);
/* Signal the event channel bound to pirq: 0, or -1 if none is bound. */
int fake_irq(int pirq);
/* HVM: raise the guest's vector: 0, or -1 if nobody asked for it. */
int fake_vector(unsigned int vector);

#endif
