/* SPDX-License-Identifier: MIT */
/*
 * The guest's one device driver, bound to every device pcifront finds: it
 * walks the capability list through pci_op config reads, turns on memory
 * decoding and bus mastering, and asks the backend for MSI-X (up to
 * GUEST_MAX_VEC vectors), else MSI, else uses INTx.  Each PIRQ the backend
 * returns is bound to an event channel whose eventfd the main loop counts.
 *
 * An HVM guest (--hvm) has no backend to ask: config space is port I/O
 * and the driver programs MSI-X/MSI itself (hvm.c); the device model
 * binds the pirqs.  INTx of an HVM guest is not delivered in the model.
 * A PVH guest (--pvh) reaches config space through vPCI (pvh.c) and gets
 * no interrupts in the model: its driver enables the device and leaves
 * it at irq=none.
 *
 * reprobe does what Linux's nvme driver does at probe: allocate vectors,
 * free them, allocate again.  A backend that refuses the second enable (as
 * Linux 6.1's pciback did with -EALREADY) leaves the device on INTx, and the
 * query socket shows irq=intx.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "hvclient.h"
#include "log.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSIX_FLAGS_QSIZE 0x7ff

const char *driver_irq_name(enum driver_irq irq)
{
	switch (irq) {
	case IRQ_INTX: return "intx";
	case IRQ_MSI: return "msi";
	case IRQ_MSIX: return "msix";
	default: return "none";
	}
}

const char *driver_state_name(enum driver_state s)
{
	switch (s) {
	case DRV_BOUND: return "bound";
	case DRV_FAILED: return "failed";
	default: return "none";
	}
}

/* Config space: over pci_op (PV), port I/O (HVM) or vPCI (PVH). */
static int conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		     uint32_t *ret_value)
{
	if (g->hvm || g->pvh)
		return hvm_conf_read(g, sbdf, offset, size, ret_value);
	return pciop_conf_read(g, sbdf, offset, size, ret_value);
}

static int conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		      uint32_t value)
{
	if (g->hvm || g->pvh)
		return hvm_conf_write(g, sbdf, offset, size, value);
	return pciop_conf_write(g, sbdf, offset, size, value);
}

void driver_init_dev(struct gdev *d)
{
	unsigned int i;

	d->drv = DRV_NONE;
	d->irq = IRQ_NONE;
	d->nvec = 0;
	d->mmio_read = false;
	d->mmio_addr = 0;
	d->mmio_value = 0;
	for (i = 0; i < GUEST_MAX_VEC; i++) {
		d->fd[i] = -1;
		d->pirq[i] = -1;
		d->count[i] = 0;
	}
}

static void driver_unbind(struct guest *g, struct gdev *d)
{
	unsigned int i;

	for (i = 0; i < d->nvec; i++) {
		if (d->fd[i] >= 0) {
			close(d->fd[i]);
			if (!g->hvm)
				hv_evtchn_close(g->hv, d->port[i]);
		}
		d->fd[i] = -1;
		d->pirq[i] = -1;
	}
	d->nvec = 0;
}

/* Bind d->pirq[0..nvec) to event channels.  Counts start again. */
static int driver_bind(struct guest *g, struct gdev *d, unsigned int nvec)
{
	unsigned int i;
	int r;

	d->nvec = nvec;
	for (i = 0; i < nvec; i++) {
		d->count[i] = 0;
		r = hv_evtchn_bind_pirq(g->hv, d->pirq[i], &d->port[i]);
		if (r < 0) {
			log_warn("driver %04x:%02x:%02x.%u: binding pirq %d: %s",
				 HV_SBDF_SEG(d->sbdf), HV_SBDF_BUS(d->sbdf),
				 HV_SBDF_DEV(d->sbdf), HV_SBDF_FN(d->sbdf),
				 d->pirq[i], strerror(-r));
			goto fail;
		}
		r = hv_evtchn_fd(g->hv, d->port[i], &d->fd[i]);
		if (r < 0) {
			hv_evtchn_close(g->hv, d->port[i]);
			goto fail;
		}
		fcntl(d->fd[i], F_SETFL, fcntl(d->fd[i], F_GETFL) | O_NONBLOCK);
	}
	return 0;
fail:
	d->nvec = i;
	driver_unbind(g, d);
	return r;
}

/* Walk the capability list: the offsets of MSI and MSI-X. */
static int driver_read_caps(struct guest *g, struct gdev *d)
{
	uint32_t v, pos;
	int i, r;

	d->msi_cap = d->msix_cap = 0;
	d->msix_size = 0;
	r = conf_read(g, d->sbdf, PCI_STATUS, 2, &v);
	if (r < 0)
		return r;
	if (!(v & PCI_STATUS_CAP_LIST))
		return 0;
	r = conf_read(g, d->sbdf, PCI_CAPABILITY_LIST, 1, &pos);
	if (r < 0)
		return r;
	/* 48 = (256 - 64) / 4: a longer list loops */
	for (i = 0; i < 48 && pos >= 0x40 && pos < 0x100; i++) {
		pos &= ~3u;
		r = conf_read(g, d->sbdf, (int)pos, 2, &v);
		if (r < 0)
			return r;
		if ((v & 0xff) == PCI_CAP_ID_MSI && !d->msi_cap)
			d->msi_cap = (uint8_t)pos;
		if ((v & 0xff) == PCI_CAP_ID_MSIX && !d->msix_cap) {
			uint32_t ctl;

			d->msix_cap = (uint8_t)pos;
			r = conf_read(g, d->sbdf, (int)pos + 2, 2, &ctl);
			if (r < 0)
				return r;
			d->msix_size = (uint16_t)((ctl & PCI_MSIX_FLAGS_QSIZE) + 1);
		}
		pos = (v >> 8) & 0xff;
	}
	return 0;
}

static int driver_use_msix(struct guest *g, struct gdev *d)
{
	unsigned int nvec = d->msix_size < GUEST_MAX_VEC ? d->msix_size
							 : GUEST_MAX_VEC;
	int r;

	if (g->hvm) {
		r = hvm_enable_msix(g, d, nvec);
		if (r == 0)
			d->irq = IRQ_MSIX;
		return r;
	}
	r = pciop_enable_msix(g, d->sbdf, nvec, d->pirq);
	if (r < 0)
		return r;
	r = driver_bind(g, d, nvec);
	if (r < 0) {
		pciop_disable_msix(g, d->sbdf);
		return r;
	}
	d->irq = IRQ_MSIX;
	return 0;
}

static int driver_use_msi(struct guest *g, struct gdev *d)
{
	int r;

	if (g->hvm) {
		r = hvm_enable_msi(g, d);
		if (r == 0)
			d->irq = IRQ_MSI;
		return r;
	}
	r = pciop_enable_msi(g, d->sbdf, &d->pirq[0]);
	if (r < 0)
		return r;
	r = driver_bind(g, d, 1);
	if (r < 0) {
		pciop_disable_msi(g, d->sbdf, NULL);
		return r;
	}
	d->irq = IRQ_MSI;
	return 0;
}

/* INTx: a PV guest's pirq is the GSI the backend shows as Interrupt Line. */
static int driver_use_intx(struct guest *g, struct gdev *d)
{
	uint32_t pin, line;
	int r;

	r = conf_read(g, d->sbdf, PCI_INTERRUPT_PIN, 1, &pin);
	if (r < 0)
		return r;
	if (pin == 0)
		return -ENODEV;
	r = conf_read(g, d->sbdf, PCI_INTERRUPT_LINE, 1, &line);
	if (r < 0)
		return r;
	d->irq = IRQ_INTX;
	if (g->hvm)
		return 0;	/* the model has no vIOAPIC: nothing counted */
	d->pirq[0] = (int)line;
	if (driver_bind(g, d, 1) < 0)
		d->nvec = 0;	/* still INTx, nothing delivered */
	return 0;
}

static void driver_log(const struct gdev *d, const char *what, int r)
{
	log_info("driver %04x:%02x:%02x.%u: %s%s%s",
		 HV_SBDF_SEG(d->sbdf), HV_SBDF_BUS(d->sbdf),
		 HV_SBDF_DEV(d->sbdf), HV_SBDF_FN(d->sbdf), what,
		 r ? ": " : "", r ? strerror(r < 0 ? -r : r) : "");
}

/* Interrupts in order of preference; the first that works wins. */
static void driver_setup_irq(struct guest *g, struct gdev *d)
{
	int r;

	if (g->pvh) {
		driver_log(d, "no interrupt (vPCI MSI is not modelled)", 0);
		return;
	}
	if (d->msix_cap) {
		r = driver_use_msix(g, d);
		driver_log(d, r == 0 ? "MSI-X enabled" : "MSI-X refused", r);
		if (r == 0)
			return;
	}
	if (d->msi_cap) {
		r = driver_use_msi(g, d);
		driver_log(d, r == 0 ? "MSI enabled" : "MSI refused", r);
		if (r == 0)
			return;
	}
	r = driver_use_intx(g, d);
	driver_log(d, r == 0 ? "using INTx" : "no interrupt", 0);
}

int driver_probe(struct guest *g, struct gdev *d)
{
	uint32_t cmd;
	int r;

	driver_init_dev(d);
	/* A stub domain's devices are its device model's, through sysfs:
	 * no driver in the stub may enable them or take their vectors. */
	if (g->stubdom)
		return 0;
	r = driver_read_caps(g, d);
	if (r == 0)
		r = conf_read(g, d->sbdf, PCI_COMMAND, 2, &cmd);
	if (r == 0)
		r = conf_write(g, d->sbdf, PCI_COMMAND, 2,
				     cmd | PCI_COMMAND_MEMORY |
				     PCI_COMMAND_MASTER);
	if (r < 0) {
		d->drv = DRV_FAILED;
		driver_log(d, "probe failed", r);
		return r;
	}
	driver_setup_irq(g, d);
	d->drv = DRV_BOUND;
	return 0;
}

static void driver_release_irq(struct guest *g, struct gdev *d)
{
	enum driver_irq irq = d->irq;

	d->irq = IRQ_NONE;
	if (g->hvm) {
		if (irq == IRQ_MSIX)
			hvm_disable_msix(g, d);
		else if (irq == IRQ_MSI)
			hvm_disable_msi(g, d);
		driver_unbind(g, d);
		return;
	}
	driver_unbind(g, d);
	if (irq == IRQ_MSIX)
		pciop_disable_msix(g, d->sbdf);
	else if (irq == IRQ_MSI)
		pciop_disable_msi(g, d->sbdf, NULL);
}

void driver_remove(struct guest *g, struct gdev *d)
{
	uint32_t cmd;

	if (d->drv == DRV_BOUND) {
		driver_release_irq(g, d);
		if (conf_read(g, d->sbdf, PCI_COMMAND, 2, &cmd) == 0)
			conf_write(g, d->sbdf, PCI_COMMAND, 2,
					 cmd & ~(uint32_t)(PCI_COMMAND_MEMORY |
							   PCI_COMMAND_MASTER));
	}
	driver_unbind(g, d);
	d->drv = DRV_NONE;
}

int driver_reprobe(struct guest *g, struct gdev *d)
{
	if (d->drv != DRV_BOUND)
		return -ENODEV;
	driver_release_irq(g, d);
	driver_setup_irq(g, d);
	return 0;
}

void driver_poll_irqs(struct gdev *d)
{
	unsigned int i;
	uint64_t n;

	for (i = 0; i < d->nvec; i++)
		if (d->fd[i] >= 0 && hv_evtchn_ack(d->fd[i], &n) == 0)
			d->count[i] += n;
}
