// SPDX-License-Identifier: MIT
/* Fakes for the guest's unit tests (see guest-fakes.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-fakes.h"
#include "guest.h"
#include "hvclient.h"

struct fake fake;

void fake_reset(void)
{
	unsigned int i;

	for (i = 0; i < FAKE_MAX_PORTS; i++)
		if (fake.port[i].used && fake.port[i].fd >= 0)
			close(fake.port[i].fd);
	for (i = 0; i < 256; i++)
		if (fake.vec[i].used)
			close(fake.vec[i].fd);
	memset(&fake, 0, sizeof(fake));
	fake.shutdown_reason = -1;
}

struct fake_dev *fake_add(uint32_t sbdf, uint16_t vendor, uint16_t device,
			  uint32_t class, unsigned int msix_size, bool msi,
			  uint8_t pin, uint8_t line)
{
	struct fake_dev *d = NULL;
	uint8_t *c, pos = 0x40, *prev = NULL;
	unsigned int i;

	for (i = 0; i < FAKE_MAX_DEVS && !d; i++)
		if (!fake.dev[i].present)
			d = &fake.dev[i];
	memset(d, 0, sizeof(*d));
	d->present = true;
	d->sbdf = sbdf;
	c = d->cfg;
	c[0] = (uint8_t)vendor; c[1] = (uint8_t)(vendor >> 8);
	c[2] = (uint8_t)device; c[3] = (uint8_t)(device >> 8);
	c[9] = (uint8_t)class; c[10] = (uint8_t)(class >> 8);
	c[11] = (uint8_t)(class >> 16);
	c[0x3c] = line;
	c[0x3d] = pin;
	if (msix_size) {
		c[0x34] = pos;
		c[pos] = 0x11;
		c[pos + 2] = (uint8_t)((msix_size - 1) & 0xff);
		c[pos + 3] = (uint8_t)((msix_size - 1) >> 8);
		prev = &c[pos + 1];
		pos = 0x50;
	}
	if (msi) {
		if (prev)
			*prev = pos;
		else
			c[0x34] = pos;
		c[pos] = 0x05;
	}
	if (msix_size || msi)
		c[6] = 0x10;	/* capability list */
	return d;
}

static struct fake_dev *fake_find(uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < FAKE_MAX_DEVS; i++)
		if (fake.dev[i].present && fake.dev[i].sbdf == sbdf)
			return &fake.dev[i];
	return NULL;
}

int fake_irq(int pirq)
{
	uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < FAKE_MAX_PORTS; i++)
		if (fake.port[i].used && fake.port[i].pirq == pirq &&
		    fake.port[i].fd >= 0)
			return write(fake.port[i].fd, &one, 8) == 8 ? 0 : -1;
	return -1;
}

/* pciop.c */

int pciop_call(struct guest *g, struct xen_pci_op *op)
{
	return -ENOSYS;
}

static int fake_op(uint32_t sbdf, struct fake_dev **ret)
{
	fake.ops++;
	if (fake.dead)
		return -ETIMEDOUT;
	*ret = fake_find(sbdf);
	return *ret ? 0 : XEN_PCI_ERR_dev_not_found;
}

int pciop_conf_read(struct guest *g, uint32_t sbdf, int offset, int size,
		    uint32_t *ret_value)
{
	struct fake_dev *d;
	uint32_t v = 0;
	int i, r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	if ((size != 1 && size != 2 && size != 4) || offset < 0 ||
	    offset + size > 256 || offset % size)
		return XEN_PCI_ERR_invalid_offset;
	for (i = size - 1; i >= 0; i--)
		v = v << 8 | d->cfg[offset + i];
	*ret_value = v;
	return 0;
}

int pciop_conf_write(struct guest *g, uint32_t sbdf, int offset, int size,
		     uint32_t value)
{
	struct fake_dev *d;
	int r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	if (offset == 4 && size == 2) {
		d->cfg[4] = (uint8_t)value;
		d->cfg[5] = (uint8_t)(value >> 8);
	}
	return 0;
}

int pciop_enable_msix(struct guest *g, uint32_t sbdf, unsigned int nvec,
		      int *ret_pirqs)
{
	struct fake_dev *d;
	unsigned int i;
	int r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	if (d->msix_on || (fake.historic && d->msix_enables))
		return -EALREADY;
	if (d->msi_on || !(d->cfg[4] & 2))
		return -ENXIO;
	for (i = 0; i < nvec; i++)
		ret_pirqs[i] = 100 + (int)(d - fake.dev) * 10 + (int)i;
	d->msix_on = true;
	d->msix_enables++;
	return 0;
}

int pciop_disable_msix(struct guest *g, uint32_t sbdf)
{
	struct fake_dev *d;
	int r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	d->msix_on = false;
	return 0;
}

int pciop_enable_msi(struct guest *g, uint32_t sbdf, int *ret_pirq)
{
	struct fake_dev *d;
	int r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	if (d->msi_on)
		return -EALREADY;
	if (d->msix_on)
		return -ENXIO;
	d->msi_on = true;
	*ret_pirq = 200 + (int)(d - fake.dev);
	return 0;
}

int pciop_disable_msi(struct guest *g, uint32_t sbdf, int *ret_intx_pirq)
{
	struct fake_dev *d;
	int r = fake_op(sbdf, &d);

	if (g->dead_backend)
		return -ENOTCONN;
	if (r)
		return r;
	d->msi_on = false;
	if (ret_intx_pirq)
		*ret_intx_pirq = d->cfg[0x3c];
	return 0;
}

/* hvclient.c */

int hv_page_alloc(int *ret_fd, void **ret_map)
{
	int fd = memfd_create("fake-page", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, HV_PAGE_SIZE) < 0)
		return -errno;
	p = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	*ret_fd = fd;
	*ret_map = p;
	return 0;
}

int hv_grant_page(struct hv_client *h, unsigned int remote_domid, int memfd,
		  int readonly, uint32_t *ret_gref)
{
	unsigned int i;

	for (i = 0; i < sizeof(fake.gnt) / sizeof(fake.gnt[0]); i++)
		if (!fake.gnt[i].used) {
			fake.gnt[i].used = true;
			*ret_gref = FAKE_GREF0 + i;
			return 0;
		}
	return -ENOSPC;
}

int hv_end_grant(struct hv_client *h, uint32_t gref)
{
	uint32_t i = gref - FAKE_GREF0;

	if (gref < FAKE_GREF0 || i >= sizeof(fake.gnt) / sizeof(fake.gnt[0]) ||
	    !fake.gnt[i].used)
		return -ENOENT;
	if (fake.gnt[i].busy)
		return -EBUSY;
	fake.gnt[i].used = false;
	return 0;
}

static int fake_port_new(int pirq, unsigned int *ret_port)
{
	unsigned int i;

	for (i = 1; i < FAKE_MAX_PORTS; i++)
		if (!fake.port[i].used) {
			fake.port[i].used = true;
			fake.port[i].pirq = pirq;
			fake.port[i].fd = -1;
			*ret_port = i;
			return 0;
		}
	return -ENOSPC;
}

int hv_evtchn_alloc_unbound(struct hv_client *h, unsigned int remote_domid,
			    unsigned int *ret_port)
{
	return fake_port_new(-1, ret_port);
}

int hv_evtchn_bind_pirq(struct hv_client *h, int pirq,
			unsigned int *ret_port)
{
	return fake_port_new(pirq, ret_port);
}

int hv_evtchn_fd(struct hv_client *h, unsigned int port, int *ret_fd)
{
	int fd;

	if (port >= FAKE_MAX_PORTS || !fake.port[port].used)
		return -EINVAL;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	fake.port[port].fd = dup(fd);
	*ret_fd = fd;
	return 0;
}

int hv_evtchn_close(struct hv_client *h, unsigned int port)
{
	if (port >= FAKE_MAX_PORTS || !fake.port[port].used)
		return -EINVAL;
	if (fake.port[port].fd >= 0)
		close(fake.port[port].fd);
	fake.port[port].used = false;
	return 0;
}

int hv_evtchn_send(struct hv_client *h, unsigned int port)
{
	return 0;
}

int hv_evtchn_ack(int fd, uint64_t *ret_count)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n < 0)
		return errno == EAGAIN ? (*ret_count = 0, 0) : -errno;
	*ret_count = v;
	return 0;
}

int hv_domain_shutdown(struct hv_client *h, unsigned int domid,
		       uint32_t reason)
{
	fake.shutdown_reason = (int)reason;
	return 0;
}

/* As hvclient's: SSSS:BB:DD.F or BB:DD.F. */
int hv_parse_bdf(const char *s, uint32_t *ret_sbdf)
{
	unsigned int seg = 0, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bus, &dev, &fn, &n) != 4 ||
	    s[n]) {
		seg = 0;
		n = 0;
		if (sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) != 3 || s[n])
			return -EINVAL;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret_sbdf = HV_SBDF(seg, bus, dev, fn);
	return 0;
}

void hv_format_bdf(uint32_t sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", HV_SBDF_SEG(sbdf),
		 HV_SBDF_BUS(sbdf), HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf));
}

/* HVM config I/O: the fake devices' config spaces, BARs unimplemented
 * (read 0, writes dropped); absent functions read all ones. */
int hv_hvm_config_read(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		       uint32_t reg, uint32_t size, uint32_t *ret_value)
{
	struct fake_dev *d = fake_find(sbdf);
	uint32_t v = 0;
	int i;

	if (!d) {
		*ret_value = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		return 0;
	}
	if (reg + size > 256)
		return -EINVAL;
	if (reg == 0x10 && size == 4 && d->bar0_size) {
		*ret_value = d->bar0;
		return 0;
	}
	for (i = (int)size - 1; i >= 0; i--)
		v = v << 8 | (reg >= 0x10 && reg < 0x28 ? 0 :
			      d->cfg[reg + (uint32_t)i]);
	*ret_value = v;
	return 0;
}

int hv_hvm_config_write(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
			uint32_t reg, uint32_t size, uint32_t value)
{
	struct fake_dev *d = fake_find(sbdf);
	uint32_t i;

	if (d && reg == 0x10 && size == 4 && d->bar0_size) {
		d->bar0 = value & ~(d->bar0_size - 1);	/* sizing: the mask */
		return 0;
	}
	if (!d || (reg >= 0x10 && reg < 0x28))
		return 0;
	if (reg + size > 256)
		return -EINVAL;
	for (i = 0; i < size; i++)
		d->cfg[reg + i] = (uint8_t)(value >> (8 * i));
	return 0;
}

/* A PVH guest's vPCI: the same config spaces at its own addresses; its
 * MMIO reads fake.mmio_value wherever it reads (fake.mmio_addr: the
 * last address read). */
int hv_vpci_conf_read(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		      uint32_t reg, uint32_t size, uint32_t *ret_value)
{
	return hv_hvm_config_read(h, vcpu, sbdf, reg, size, ret_value);
}

int hv_vpci_conf_write(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		       uint32_t reg, uint32_t size, uint32_t value)
{
	return hv_hvm_config_write(h, vcpu, sbdf, reg, size, value);
}

int hv_vpci_mmio_read(struct hv_client *h, unsigned int vcpu, uint64_t gaddr,
		      uint32_t size, uint64_t *ret_value)
{
	fake.mmio_addr = gaddr;
	*ret_value = fake.mmio_value;
	return 0;
}

int hv_hvm_io(struct hv_client *h, struct hv_hvm_io *io)
{
	if (io->dir == HV_IOREQ_READ)
		io->data = ~0ull;
	return 0;
}

/* Ports: no device model claims any (all ones, writes dropped). */
int hv_hvm_port_read(struct hv_client *h, unsigned int vcpu, uint16_t port,
		     uint32_t size, uint32_t *ret_value)
{
	*ret_value = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	return 0;
}

int hv_hvm_port_write(struct hv_client *h, unsigned int vcpu, uint16_t port,
		      uint32_t size, uint32_t value)
{
	return 0;
}

int hv_hvm_isa_irq_fd(struct hv_client *h, unsigned int irq, int *ret_fd)
{
	return -EOPNOTSUPP;
}

int hv_hvm_vector_fd(struct hv_client *h, unsigned int vector, int *ret_fd)
{
	if (vector > 255)
		return -EINVAL;
	if (!fake.vec[vector].used) {
		fake.vec[vector].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fake.vec[vector].fd < 0)
			return -errno;
		fake.vec[vector].used = true;
	}
	*ret_fd = dup(fake.vec[vector].fd);
	return *ret_fd < 0 ? -errno : 0;
}

int fake_vector(unsigned int vector)
{
	uint64_t one = 1;

	if (vector > 255 || !fake.vec[vector].used)
		return -1;
	return write(fake.vec[vector].fd, &one, 8) == 8 ? 0 : -1;
}
