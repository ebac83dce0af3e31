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

#define DM_MSIX_MAX 64		/* table entries emulated per device */

/* One MSI or MSI-X vector as the guest programmed it, and what xpt-dm
 * made of it in the hypervisor. */
struct dm_vec {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* MSI-X entry; MSI: no ctrl */
	int pirq;		/* mapped for the guest, -1 none */
	bool bound;		/* bind_pt_irq done with gvec = data & 0xff */
};

/* The guest's view of a passed-through function (emu.c). */
struct dm_emu {
	uint32_t bar[6];	/* BAR dwords as the guest wrote them */
	uint32_t bar_mask[6];	/* their address bits (size), 0 unused */
	uint32_t bar_flags[6];	/* low flag bits of a BAR's first dword */
	uint8_t int_line;	/* emulated, as in QEMU */
	uint16_t cmd;		/* guest-written Command */
	uint8_t msi_pos, msix_pos;
	uint16_t msi_ctl, msix_ctl;	/* the guest's Enable/size/mask bits */
	bool msi_64;
	struct dm_vec msi;
	uint8_t msix_bir;
	uint32_t msix_off;	/* table offset in that BAR */
	uint16_t msix_n;	/* entries emulated: min(table size, MAX) */
	struct dm_vec msix[DM_MSIX_MAX];
	uint64_t mmio_start;	/* MSI-X table's guest range mapped, 0 none */
	int intx_pirq;		/* the GSI's pirq bound to the guest's INTx
				 * line (QEMU's machine_irq), -1 none */
};

/* A xen-pci-passthrough device: QMP's device_add. */
struct dm_dev {
	char id[64];
	uint32_t host_sbdf;
	int slot;		/* guest slot: addr=, or chosen at device_add */
	bool permissive;
	bool mapped;		/* its guest SBDF is in the ioreq server */
	bool unplug_requested;	/* device_del done, the guest's eject due */
	struct dm_emu emu;
};

/* The PIIX4 ACPI PCI hotplug controller's ports (acpi.c) */
#define ACPI_GPE0_PORT 0xafe0	/* GPE0 status (2 bytes), enable (2) */
#define ACPI_GPE0_LEN 4
#define ACPI_PCIHP_PORT 0xae00	/* up, down, eject, removable dwords */
#define ACPI_PCIHP_LEN 16

struct dm_acpi {
	uint8_t gpe_sts[2], gpe_en[2];
	uint32_t up, down;	/* bit per slot of bus 0 */
	bool sci;		/* the level last given to ISA IRQ 9 */
};

struct dm {
	unsigned int domid;	/* -xen-domid */
	unsigned int dm_domid;	/* where this DM runs: 0 dom0 */
	char rundir[256];
	char qmp_path[108];	/* the monitor's socket */
	bool start_paused;	/* -S */
	enum dm_status status;
	struct xs_handle *xs;	/* NULL: no store (the state is not written) */
	struct hv_client *hv;	/* at start-up, else on first device_add;
				 * as dm_domid (dom0: the control socket) */
	char front_path[108];	/* a stub domain's kernel (its xpt-guest
				 * query socket): config space and sysfs
				 * go through its pcifront; "" in dom0 */
	int front_fd;		/* connected to it, -1 not */
	bool front_failing;	/* its last request failed (warned once) */
	bool have_server;	/* the guest's ioreq server exists */
	unsigned int ioreq_id;
	int ioreq_fd;		/* readable: requests wait; -1 none */
	bool server_enabled;	/* only while the VM runs (QEMU's order) */
	int listen_fd, client_fd;
	bool negotiated;	/* the client sent qmp_capabilities */
	char *in;		/* the client's unparsed input */
	size_t in_len;
	bool quit;
	struct dm_dev dev[DM_MAX_DEVS];
	size_t ndev;
	struct dm_acpi acpi;
};

/* hostdev.c: host devices from where the device model runs */
/* The hypervisor, as the domain the device model runs in. */
int dm_hv_open(struct dm *d);
/* Does the device model's domain see the device (a stub: is it in its
 * pcifront)?  0, or -ENOENT. */
int hostdev_visible(struct dm *d, uint32_t sbdf);
int hostdev_conf_read(struct dm *d, uint32_t sbdf, uint32_t reg,
		      uint32_t size, uint32_t *ret_value);
int hostdev_conf_write(struct dm *d, uint32_t sbdf, uint32_t reg,
		       uint32_t size, uint32_t value);
/* The stub's reply line to conf-read of size bytes: "value N" (N decimal
 * or 0x hex, no wider than size): 0, or -EIO. */
int hostdev_parse_value(const char *reply, uint32_t size,
			uint32_t *ret_value);
void hostdev_close(struct dm *d);

/* status.c */
/* Enter a status; running writes device-model/<domid>/state and enables
 * the ioreq server, leaving it disables the server. */
void dm_set_status(struct dm *d, enum dm_status s);

/* ioreq.c: the guest's ioreq server and the requests it brings */
int ioreq_start(struct dm *d);
void ioreq_stop(struct dm *d);
void ioreq_set_enabled(struct dm *d, bool on);
int ioreq_map_dev(struct dm *d, struct dm_dev *dev);
void ioreq_unmap_dev(struct dm *d, struct dm_dev *dev);
/* Map the MSI-X table's guest range [start, end] (start 0: unmap). */
int ioreq_map_mmio(struct dm *d, struct dm_dev *dev, uint64_t start,
		   uint64_t end);
void ioreq_serve(struct dm *d);
uint32_t ioreq_guest_sbdf(const struct dm_dev *dev);

/* emu.c: the guest's config space of a passed-through function */
int emu_init(struct dm *d, struct dm_dev *dev);
uint32_t emu_conf_read(struct dm *d, struct dm_dev *dev, uint32_t reg,
		       uint32_t size);
void emu_conf_write(struct dm *d, struct dm_dev *dev, uint32_t reg,
		    uint32_t size, uint32_t val);
uint64_t emu_mmio_read(struct dm *d, struct dm_dev *dev, uint64_t addr,
		       uint32_t size);
void emu_mmio_write(struct dm *d, struct dm_dev *dev, uint64_t addr,
		    uint32_t size, uint64_t val);
/* INTx: map the device's GSI and bind it to the guest's line (at
 * device_add, as xen_pt's realize); a failure leaves the device without
 * INTx, as in QEMU. */
void emu_bind_intx(struct dm *d, struct dm_dev *dev);
/* Unbind and unmap every vector and INTx (device_del). */
void emu_release(struct dm *d, struct dm_dev *dev);

/* acpi.c: the ACPI PCI hotplug controller (QEMU's piix4 one) */
int acpi_start(struct dm *d);	/* claim its ports in the ioreq server */
bool acpi_port_claimed(uint64_t port, uint32_t size);
uint64_t acpi_port_io(struct dm *d, uint64_t port, uint32_t size, bool rd,
		      uint64_t val);
/* A device came into slot / its unplug is asked for: the guest's GPE. */
void acpi_plug(struct dm *d, int slot);
void acpi_unplug_request(struct dm *d, int slot);

/* qmp.c: the monitor */
void qmp_greet(struct dm *d);
/* Handle the complete lines of the client's input; <0 closes it. */
int qmp_input(struct dm *d);
void qmp_event(struct dm *d, const char *name, const char *data_json);

/* pt.c: xen-pci-passthrough devices; QMP error text in err */
int pt_add(struct dm *d, const char *id, const char *hostaddr,
	   const char *addr, bool permissive, char *err, size_t errlen);
/* device_del: ask the guest to eject the device (-ENODEV: no such id,
 * -EBUSY: already asked). */
int pt_del(struct dm *d, const char *id);
/* The guest ejected it: release it and emit DEVICE_DELETED. */
void pt_remove(struct dm *d, struct dm_dev *dev);
/* The query-pci reply's value, malloc'ed. */
char *pt_query_json(struct dm *d);

#endif
