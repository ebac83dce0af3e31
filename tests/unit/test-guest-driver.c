// SPDX-License-Identifier: MIT
/*
 * The guest's driver and query socket against a fake pci_op backend
 * (guest-fakes.c): capability walk, MSI-X / MSI / INTx choice, interrupt
 * counting, the nvme-style reprobe against a current and a historic
 * backend, and the query protocol's lines; an HVM guest's bus-0 scan and
 * MSI programming through config I/O; a PVH guest's scan through vPCI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-fakes.h"
#include "guest.h"
#include "hvclient.h"

#define BDF0 HV_SBDF(0, 0, 0, 0)
#define BDF1 HV_SBDF(0, 0, 1, 0)

static struct guest g;

static int setup(void **state)
{
	unsigned int i;

	fake_reset();
	memset(&g, 0, sizeof(g));
	g.listen_fd = -1;
	for (i = 0; i < GUEST_MAX_CLIENTS; i++)
		g.client[i].fd = -1;
	for (i = 0; i < GUEST_MAX_DEVS; i++)
		driver_init_dev(&g.dev[i]);
	return 0;
}

static int teardown(void **state)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g.dev[i].used)
			driver_remove(&g, &g.dev[i]);
	for (i = 0; i < GUEST_MAX_CLIENTS; i++)
		if (g.client[i].fd >= 0)
			close(g.client[i].fd);
	fake_reset();
	return 0;
}

static struct gdev *add_dev(uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; g.dev[i].used; i++)
		;
	g.dev[i].used = true;
	g.dev[i].sbdf = sbdf;
	strcpy(g.dev[i].host, "?");
	return &g.dev[i];
}

static void test_msix(void **state)
{
	struct fake_dev *f = fake_add(BDF0, 0x8086, 0x1234, 0x010802, 8, true,
				      1, 16);
	struct gdev *d = add_dev(BDF0);
	char line[512];

	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->drv, DRV_BOUND);
	assert_int_equal(d->irq, IRQ_MSIX);
	assert_int_equal(d->nvec, 4);			/* min(8, 4) */
	assert_int_equal(d->pirq[0], 100);
	assert_int_equal(d->pirq[3], 103);
	assert_true(f->cfg[4] & 0x6);			/* MEM | MASTER */
	assert_int_equal(fake_irq(101), 0);
	assert_int_equal(fake_irq(101), 0);
	assert_int_equal(fake_irq(103), 0);
	driver_poll_irqs(d);
	assert_int_equal(d->count[1], 2);
	assert_int_equal(d->count[3], 1);
	d->vendor = 0x8086;
	d->device = 0x1234;
	d->class = 0x010802;
	assert_int_equal(query_format_dev(d, line, sizeof(line)), 0);
	assert_string_equal(line, "dev 0000:00:00.0 host=? vendor=0x8086 "
			    "device=0x1234 class=0x010802 driver=bound "
			    "irq=msix vectors=4 count=3 counts=0,2,0,1\n");
	driver_remove(&g, d);
	assert_false(f->msix_on);
	assert_int_equal(fake_irq(101), -1);		/* unbound */
}

static void test_small_table(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake_add(BDF0, 1, 2, 3, 2, false, 0, 0);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_MSIX);
	assert_int_equal(d->nvec, 2);
}

static void test_msi(void **state)
{
	struct gdev *d = add_dev(BDF1);

	fake_add(BDF1, 1, 2, 3, 0, true, 1, 17);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_MSI);
	assert_int_equal(d->nvec, 1);
	assert_int_equal(d->pirq[0], 200);
}

static void test_intx(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake_add(BDF0, 1, 2, 3, 0, false, 1, 17);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_INTX);
	assert_int_equal(d->pirq[0], 17);		/* Interrupt Line */
	assert_int_equal(fake_irq(17), 0);
	driver_poll_irqs(d);
	assert_int_equal(d->count[0], 1);
}

static void test_no_irq(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake_add(BDF0, 1, 2, 3, 0, false, 0, 0);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->drv, DRV_BOUND);
	assert_int_equal(d->irq, IRQ_NONE);
	assert_int_equal(d->nvec, 0);
}

static void test_absent(void **state)
{
	struct gdev *d = add_dev(BDF1);

	assert_true(driver_probe(&g, d) < 0);
	assert_int_equal(d->drv, DRV_FAILED);
}

/* A capability list that points at itself must not hang the guest. */
static void test_cap_loop(void **state)
{
	struct fake_dev *f = fake_add(BDF0, 1, 2, 3, 0, true, 0, 0);
	struct gdev *d = add_dev(BDF0);

	f->cfg[0x51] = 0x50;
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_MSI);
	f->cfg[0x34] = 0x20;				/* below 0x40 */
	driver_remove(&g, d);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_NONE);
}

static void test_reprobe_current(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake_add(BDF0, 1, 2, 3, 16, false, 1, 16);
	assert_int_equal(driver_probe(&g, d), 0);
	fake_irq(100);
	assert_int_equal(driver_reprobe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_MSIX);
	assert_int_equal(d->nvec, 4);
	driver_poll_irqs(d);
	assert_int_equal(d->count[0], 0);		/* fresh vectors */
	assert_int_equal(fake_irq(102), 0);
	driver_poll_irqs(d);
	assert_int_equal(d->count[2], 1);
}

/* Linux 6.1's pciback refused the second enable: nvme ends on INTx. */
static void test_reprobe_historic(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake.historic = true;
	fake_add(BDF0, 1, 2, 3, 16, false, 1, 16);
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_MSIX);
	assert_int_equal(driver_reprobe(&g, d), 0);
	assert_int_equal(d->irq, IRQ_INTX);
	assert_int_equal(d->nvec, 1);
	assert_int_equal(d->pirq[0], 16);
}

static void test_dead_backend(void **state)
{
	struct gdev *d = add_dev(BDF0);

	fake_add(BDF0, 1, 2, 3, 16, false, 1, 16);
	fake.dead = true;
	assert_true(driver_probe(&g, d) < 0);
	assert_int_equal(d->drv, DRV_FAILED);
}

/* one request over a socketpair: the reply up to and including "end" */
static void request(const char *req, char *reply, size_t len)
{
	int sv[2];
	size_t n = 0;
	ssize_t r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g.client[0].fd = sv[0];
	g.client[0].len = 0;
	assert_int_equal(write(sv[1], req, strlen(req)), (ssize_t)strlen(req));
	query_input(&g, &g.client[0]);
	if (g.client[0].fd >= 0)
		close(g.client[0].fd);
	g.client[0].fd = -1;
	while (n < len - 1 && (r = read(sv[1], reply + n, len - 1 - n)) > 0)
		n += (size_t)r;
	reply[n] = '\0';
	close(sv[1]);
}

static struct gdev *hvm_dev(uint32_t sbdf)
{
	unsigned int i;

	for (i = 0; i < GUEST_MAX_DEVS; i++)
		if (g.dev[i].used && g.dev[i].sbdf == sbdf)
			return &g.dev[i];
	return NULL;
}

/* Before its device model runs, an HVM guest's scan finds nothing. */
static void test_hvm_nothing(void **state)
{
	unsigned int i;

	g.hvm = true;
	assert_int_equal(hvm_scan(&g), 0);
	for (i = 0; i < GUEST_MAX_DEVS; i++)
		assert_false(g.dev[i].used);
}

static void test_hvm_msi(void **state)
{
	uint32_t slot3 = HV_SBDF(0, 0, 3, 0);
	struct fake_dev *f = fake_add(slot3, 0x10ee, 0x9038, 0x058000, 0,
				      true, 2, 11);
	struct gdev *d;

	g.hvm = true;
	assert_int_equal(hvm_scan(&g), 0);
	d = hvm_dev(slot3);
	assert_non_null(d);
	assert_int_equal(d->vendor, 0x10ee);
	assert_int_equal(d->device, 0x9038);
	assert_int_equal(d->class, 0x058000);
	assert_int_equal(d->drv, DRV_BOUND);
	assert_int_equal(d->irq, IRQ_MSI);
	assert_int_equal(d->nvec, 1);
	/* 32-bit MSI at 0x40: address, data = the guest's vector, Enable */
	assert_int_equal(f->cfg[0x44] | f->cfg[0x45] << 8 | f->cfg[0x46] << 16 |
			 (uint32_t)f->cfg[0x47] << 24, 0xfee00000u);
	assert_int_equal(f->cfg[0x48], d->pirq[0]);
	assert_true(f->cfg[0x42] & 1);
	assert_true(f->cfg[4] & 0x6);			/* MEM | MASTER */
	assert_int_equal(fake_vector((unsigned int)d->pirq[0]), 0);
	assert_int_equal(fake_vector((unsigned int)d->pirq[0]), 0);
	driver_poll_irqs(d);
	assert_int_equal(d->count[0], 2);
	/* unplugged: gone at the next scan, MSI disabled on the way */
	f->present = false;
	assert_int_equal(hvm_scan(&g), 0);
	assert_null(hvm_dev(slot3));
}

/* MSI-X needs the table's BAR placed; without it the driver uses MSI. */
static void test_hvm_msix_no_bar(void **state)
{
	uint32_t slot4 = HV_SBDF(0, 0, 4, 0);
	struct gdev *d;

	fake_add(slot4, 0x8086, 0x1572, 0x020000, 8, true, 1, 10);
	g.hvm = true;
	assert_int_equal(hvm_scan(&g), 0);
	d = hvm_dev(slot4);
	assert_non_null(d);
	assert_int_equal(d->irq, IRQ_MSI);
	assert_int_equal(fake.dev[0].cfg[0x42] & 0x80, 0);	/* MSI-X off */
}

/* A PVH guest: bus 0 through vPCI, its BAR placed, memory decoding on,
 * one register read through the BAR (the device's ID register at its
 * start) shown on its dev line, no interrupts; a slot that reads
 * all-ones again (detached) loses its device at the next scan; its
 * conf-read is by its own address, any slot. */
static void test_pvh(void **state)
{
	uint32_t slot5 = HV_SBDF(0, 0, 5, 0);
	struct fake_dev *f = fake_add(slot5, 0x1b36, 0x0010, 0x010802, 16,
				      false, 1, 10);
	char reply[1024];
	struct gdev *d;

	f->bar0_size = 16384;
	fake.mmio_value = 0x00101b36;	/* its ID register */
	g.pvh = true;
	assert_int_equal(hvm_scan(&g), 0);
	d = hvm_dev(slot5);
	assert_non_null(d);
	assert_int_equal(d->vendor, 0x1b36);
	assert_int_equal(d->drv, DRV_BOUND);
	assert_int_equal(d->irq, IRQ_NONE);
	assert_int_equal(d->bar[0], 0xe0000000u);
	assert_int_equal(f->bar0, 0xe0000000u);
	assert_true(f->cfg[4] & 0x2);			/* MEM */
	assert_int_equal(d->bar_size[0], 16384);
	assert_int_equal(fake.mmio_addr, 0xe0000000u);
	request("status\n", reply, sizeof(reply));
	assert_non_null(strstr(reply, " pvh\n"));
	assert_non_null(strstr(reply, "dev 0000:00:05.0 host=? vendor=0x1b36 "
			       "device=0x0010 class=0x010802 driver=bound "
			       "irq=none vectors=0 count=0 counts= "
			       "mmio=0xe0000000:0x101b36\n"));
	request("conf-read 0000:00:05.0 0 4\n", reply, sizeof(reply));
	assert_string_equal(reply, "value 0x101b36\nend\n");
	request("conf-read 0000:00:06.0 0 4\n", reply, sizeof(reply));
	assert_string_equal(reply, "value 0xffffffff\nend\n");
	request("conf-read 0000:01:00.0 0 4\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL ", 13));
	request("pci-dev 0000:00:05.0\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL not for a PVH guest", 32));
	request("resume\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL not for a PVH guest", 32));
	/* detached: the slot reads all-ones, the device goes */
	f->present = false;
	assert_int_equal(hvm_scan(&g), 0);
	assert_null(hvm_dev(slot5));
	g.pvh = false;
}

static void test_query(void **state)
{
	struct gdev *d = add_dev(BDF0);
	char reply[2048];

	fake_add(BDF0, 0x1af4, 0x1041, 0x020000, 3, false, 1, 16);
	d->vendor = 0x1af4;
	d->device = 0x1041;
	d->class = 0x020000;
	strcpy(d->host, "0000:03:00.0");
	driver_probe(&g, d);
	g.phase = PF_CONNECTED;
	g.backend_state = 4;
	fake_irq(100);
	request("status\n", reply, sizeof(reply));
	assert_string_equal(reply, "state frontend=4 backend=4\n"
			    "dev 0000:00:00.0 host=0000:03:00.0 vendor=0x1af4 "
			    "device=0x1041 class=0x020000 driver=bound irq=msix "
			    "vectors=3 count=1 counts=1,0,0\nend\n");
	request("frobnicate\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL ", 13));
	assert_non_null(strstr(reply, "\nend\n"));
	request("shutdown sideways\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL ", 13));
	assert_false(g.quit);
	request("reprobe\n", reply, sizeof(reply));
	assert_string_equal(reply, "ok\nend\n");
	assert_int_equal(d->irq, IRQ_MSIX);
	request("shutdown crash\n", reply, sizeof(reply));
	assert_string_equal(reply, "ok\nend\n");
	assert_int_equal(fake.shutdown_reason, HV_SHUTDOWN_CRASH);
	assert_true(g.quit);
}

/* A PV guest's own view of a device by host address, as a stub domain's
 * device model asks for it; a stub binds no driver. */
static void test_query_pci(void **state)
{
	struct gdev *d = add_dev(BDF1);
	char reply[1024];

	fake_add(BDF1, 0x8086, 0x1572, 0x020000, 8, false, 1, 16);
	d->vendor = 0x8086;
	d->device = 0x1572;
	d->class = 0x020000;
	strcpy(d->host, "0000:03:00.0");
	g.stubdom = true;
	assert_int_equal(driver_probe(&g, d), 0);
	assert_int_equal(d->drv, DRV_NONE);
	assert_int_equal(fake.ops, 0);		/* the stub touched nothing */
	request("pci-dev 0000:03:00.0\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "dev 0000:00:01.0 host=0000:03:00.0 ", 35));
	assert_non_null(strstr(reply, "driver=none"));
	request("pci-dev 03:00.0\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "dev ", 4));
	request("pci-dev 0000:04:00.0\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error ENODEV ", 13));
	request("conf-read 0000:03:00.0 0 4\n", reply, sizeof(reply));
	assert_string_equal(reply, "value 0x15728086\nend\n");
	request("conf-read 03:00.0 0x2 2\n", reply, sizeof(reply));
	assert_string_equal(reply, "value 0x1572\nend\n");
	request("conf-write 0000:03:00.0 4 2 0x6\n", reply, sizeof(reply));
	assert_string_equal(reply, "ok\nend\n");
	assert_int_equal(fake.dev[0].cfg[4], 6);
	/* pciback's refusal and bad requests */
	request("conf-read 0000:03:00.0 3 2\n", reply, sizeof(reply));
	assert_string_equal(reply, "error EIO conf-read: pci_op: "
			    "XEN_PCI_ERR_invalid_offset\nend\n");
	/* REG is decimal or 0x hex: 010 is ten, not octal eight (class
	 * 0x02 at 11, subclass 0 at 10); no blank strtoul would skip */
	request("conf-read 03:00.0 010 2\n", reply, sizeof(reply));
	assert_string_equal(reply, "value 0x200\nend\n");
	request("conf-read 03:00.0 \t0 4\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-read 03:00.0 0x0x2 2\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-read 0000:03:00.0 4096 4\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-read 0000:03:00.0 0 3\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-write 0000:03:00.0 4 2\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-write 0000:03:00.0 4 2 -1\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("conf-read 0000:03:00.0 0 4 9\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL usage", 18));
	request("pci-dev\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL ", 13));
	fake.dead = true;
	request("conf-read 0000:03:00.0 0 4\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error ETIMEDOUT conf-read: ", 27));
	/* an HVM guest has no pcifront to ask */
	g.stubdom = false;
	g.hvm = true;
	request("pci-dev 0000:03:00.0\n", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error EINVAL unknown request", 28));
	g.hvm = false;
}

static void test_query_long_line(void **state)
{
	char big[600], reply[256];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	request(big, reply, sizeof(reply));
	assert_true(!strncmp(reply, "error E2BIG", 11));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reprobe_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reprobe_historic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hvm_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hvm_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hvm_msix_no_bar, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pvh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_long_line, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
