/* SPDX-License-Identifier: MIT */
/*
 * lab-vpci: dom0's side of the lab's vPCI scenario (lab/scenarios_vpci.py).
 * Built static on the host by lab/lab.sh (cc -static) and put into dom0 as
 * /usr/local/bin/lab-vpci, because dom0 has busybox only.  Linux's sysfs
 * only: a device's config space through /sys/bus/pci/devices/BDF/config
 * (pread/pwrite), its BARs through resourceN (mmap), any physical address
 * through /dev/mem (mmap), remove and rescan through sysfs.
 *
 *   lab-vpci cfgrd BDF OFF SIZE          print the register (0x...)
 *   lab-vpci cfgwr BDF OFF SIZE VALUE    write it
 *   lab-vpci memrd ADDR                  32-bit read of a physical address
 *   lab-vpci resrd BDF N OFF             32-bit read through resourceN
 *   lab-vpci remove BDF | rescan         /sys/bus/pci/.../remove, rescan
 *   lab-vpci race BDF ALT ID CYCLES [MS] CYCLES times: a child toggles
 *        memory decoding and moves BAR 0 between its address and ALT
 *        (config writes through sysfs, which Xen's vPCI traps for a PVH
 *        dom0), while the parent removes the device and rescans the bus;
 *        then the child is stopped, the device must be back, BAR 0 is set
 *        to Linux's resource 0 (decoding off, write, on), and ID must
 *        answer at BAR 0 through /dev/mem and through resource0.
 *        MS: milliseconds the child goes on after the rescan (default 200).
 *        LAB_VPCI_MODE=remove-only: no child (remove and rescan alone, a
 *        control); toggle-only: no remove and rescan (the child alone).
 *        Prints one line per cycle and a summary "RACE ok=N bad=M ...";
 *        exit 0 when every cycle's device answered ID.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD 0x04
#define CMD_MEM 0x2
#define BAR0 0x10

static const char *bdf;

static void die(const char *what)
{
	fprintf(stderr, "lab-vpci: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void path(char *buf, size_t n, const char *leaf)
{
	snprintf(buf, n, "/sys/bus/pci/devices/%s/%s", bdf, leaf);
}

/* -1 with errno when the device is gone (its sysfs file with it). */
static int cfg_rd(unsigned off, unsigned size, uint32_t *val)
{
	char p[256];
	uint32_t v = 0;
	int fd, r;

	path(p, sizeof p, "config");
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	r = pread(fd, &v, size, off);
	close(fd);
	if (r != (int)size)
		return -1;
	*val = v;
	return 0;
}

static int cfg_wr(unsigned off, unsigned size, uint32_t val)
{
	char p[256];
	int fd, r;

	path(p, sizeof p, "config");
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return -1;
	r = pwrite(fd, &val, size, off);
	close(fd);
	return r == (int)size ? 0 : -1;
}

static uint32_t map_rd(const char *file, uint64_t addr)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base = addr & ~(uint64_t)(pg - 1);
	volatile uint32_t *p;
	uint32_t v;
	void *m;
	int fd = open(file, O_RDONLY | O_SYNC);

	if (fd < 0)
		die(file);
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, base);
	if (m == MAP_FAILED)
		die("mmap");
	p = (volatile uint32_t *)((char *)m + (addr - base));
	v = *p;
	munmap(m, pg);
	close(fd);
	return v;
}

static uint32_t mem_rd(uint64_t addr)
{
	return map_rd("/dev/mem", addr);
}

static int sysfs_put(const char *file)
{
	int fd = open(file, O_WRONLY);
	int r;

	if (fd < 0)
		return -1;
	r = write(fd, "1", 1);
	close(fd);
	return r == 1 ? 0 : -1;
}

static int present(void)
{
	char p[256];
	struct stat st;

	path(p, sizeof p, "config");
	return stat(p, &st) == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static volatile sig_atomic_t stop;
/* Shared with the toggler: its config writes so far (the parent removes
 * the device only once the toggler is under way). */
static volatile unsigned long *shared_ops;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* The toggler: decoding off, BAR 0 to the other address, decoding on, now
 * and then a BAR write with decoding on (which Xen ignores for a mapped
 * BAR); every error (the device gone) is counted and retried.  Writes
 * its counts to fd out when stopped. */
static void toggler(uint32_t a, uint32_t b, int out)
{
	unsigned long ops = 0, errs = 0, i = 0;
	uint32_t cmd = 0;
	char line[128];
	int n;

	signal(SIGTERM, on_term);
	while (!stop) {
		uint32_t to = (i & 1) ? a : b;

		i++;
		if (cfg_rd(CMD, 2, &cmd) < 0) {
			errs++;
			continue;
		}
		errs += cfg_wr(CMD, 2, cmd & ~CMD_MEM) < 0;
		errs += cfg_wr(BAR0, 4, to) < 0;
		errs += cfg_wr(CMD, 2, cmd | CMD_MEM) < 0;
		if ((i & 7) == 0)
			errs += cfg_wr(BAR0, 4, (i & 8) ? a : b) < 0;
		ops += (i & 7) ? 3 : 4;
		*shared_ops = ops;
	}
	n = snprintf(line, sizeof line, "%lu %lu\n", ops, errs);
	if (write(out, line, n) != n)
		_exit(1);
	_exit(0);
}

static int race(uint32_t alt, uint32_t id, int cycles, unsigned ms)
{
	const char *mode = getenv("LAB_VPCI_MODE");
	int toggle = !mode || strcmp(mode, "remove-only");
	int remove = !mode || strcmp(mode, "toggle-only");
	int ok = 0, bad = 0, c;
	unsigned long tops = 0, terrs = 0;
	double t0 = now();

	shared_ops = mmap(NULL, sizeof *shared_ops, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_ops == MAP_FAILED)
		die("mmap");
	for (c = 1; c <= cycles; c++) {
		uint32_t bar = 0, cmd = 0, v1 = 0, v2 = 0, vid = 0;
		char p[256], res[256];
		int fds[2], st, rm, rs, waited = 0, spun = 0;
		unsigned long ops = 0, errs = 0;
		double tc = now();
		pid_t pid;
		FILE *f;

		if (cfg_rd(BAR0, 4, &bar) < 0) {
			printf("CYCLE %d device %s missing before the cycle\n", c, bdf);
			bad++;
			break;
		}
		bar &= ~0xfu;
		*shared_ops = 0;
		if (pipe(fds) < 0)
			die("pipe");
		pid = toggle ? fork() : 0;
		if (pid < 0)
			die("fork");
		if (toggle && pid == 0) {
			close(fds[0]);
			toggler(bar, alt, fds[1]);
		}
		close(fds[1]);
		/* The toggler under way (a few writes done), then a little
		 * more, different each cycle; then remove. */
		while (toggle && *shared_ops < 3 + (unsigned)(c % 4) * 3 &&
		       spun < 500) {
			msleep(1);
			spun++;
		}
		msleep(c % 7);
		path(p, sizeof p, "remove");
		rm = remove ? sysfs_put(p) : 0;
		msleep((c * 7) % 30);
		rs = remove ? sysfs_put("/sys/bus/pci/rescan") : 0;
		while (!present() && waited < 5000) {
			msleep(10);
			waited += 10;
		}
		msleep(ms);
		if (toggle)
			kill(pid, SIGTERM);
		else
			close(fds[0]);
		f = toggle ? fdopen(fds[0], "r") : NULL;
		if (!f || fscanf(f, "%lu %lu", &ops, &errs) != 2)
			ops = errs = 0;
		if (f)
			fclose(f);
		if (toggle)
			waitpid(pid, &st, 0);
		tops += ops;
		terrs += errs;

		/* The device back, decoding on at the BAR Linux gave it. */
		if (!present() || cfg_rd(0, 4, &vid) < 0) {
			printf("CYCLE %d rm=%d rescan=%d device not back after %d ms\n",
			       c, rm, rs, waited);
			bad++;
			continue;
		}
		/* Linux's resource 0 after the rescan: hardware BAR 0 set to it
		 * (the toggler may have left it at the other address). */
		path(res, sizeof res, "resource");
		f = fopen(res, "r");
		unsigned long long rstart = 0, rend = 0;
		if (!f || fscanf(f, "%llx %llx", &rstart, &rend) != 2)
			rstart = 0;
		if (f)
			fclose(f);
		cfg_rd(CMD, 2, &cmd);
		cfg_wr(CMD, 2, cmd & ~CMD_MEM);
		if (rstart)
			cfg_wr(BAR0, 4, (uint32_t)rstart);
		cfg_wr(CMD, 2, cmd | CMD_MEM);
		cfg_rd(BAR0, 4, &bar);
		bar &= ~0xfu;
		v1 = mem_rd(bar);
		path(p, sizeof p, "resource0");
		v2 = map_rd(p, 0);
		printf("CYCLE %d rm=%d rescan=%d back_ms=%d vid=0x%08x bar=0x%08x "
		       "res=0x%llx cmd_after=0x%04x ops=%lu errs=%lu mem=0x%08x "
		       "res0=0x%08x s=%.2f %s\n", c, rm, rs, waited, vid, bar, rstart,
		       cmd, ops, errs, v1, v2, now() - tc,
		       v1 == id && v2 == id ? "ok" : "BAD");
		fflush(stdout);
		if (v1 == id && v2 == id)
			ok++;
		else
			bad++;
	}
	printf("RACE ok=%d bad=%d cycles=%d config_writes=%lu failed_writes=%lu "
	       "s=%.2f\n", ok, bad, cycles, tops, terrs, now() - t0);
	return bad ? 1 : 0;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

int main(int argc, char **argv)
{
	uint32_t v;

	if (argc >= 5 && !strcmp(argv[1], "cfgrd")) {
		bdf = argv[2];
		if (cfg_rd(num(argv[3]), num(argv[4]), &v) < 0)
			die("config read");
		printf("0x%0*x\n", (int)num(argv[4]) * 2, v);
	} else if (argc >= 6 && !strcmp(argv[1], "cfgwr")) {
		bdf = argv[2];
		if (cfg_wr(num(argv[3]), num(argv[4]), num(argv[5])) < 0)
			die("config write");
	} else if (argc >= 3 && !strcmp(argv[1], "memrd")) {
		printf("0x%08x\n", mem_rd(num(argv[2])));
	} else if (argc >= 5 && !strcmp(argv[1], "resrd")) {
		char p[256], leaf[32];

		bdf = argv[2];
		snprintf(leaf, sizeof leaf, "resource%s", argv[3]);
		path(p, sizeof p, leaf);
		printf("0x%08x\n", map_rd(p, num(argv[4])));
	} else if (argc >= 3 && !strcmp(argv[1], "remove")) {
		char p[256];

		bdf = argv[2];
		path(p, sizeof p, "remove");
		if (sysfs_put(p) < 0)
			die(p);
	} else if (argc >= 2 && !strcmp(argv[1], "rescan")) {
		if (sysfs_put("/sys/bus/pci/rescan") < 0)
			die("rescan");
	} else if (argc >= 6 && !strcmp(argv[1], "race")) {
		bdf = argv[2];
		setvbuf(stdout, NULL, _IOLBF, 0);
		return race(num(argv[3]), num(argv[4]), num(argv[5]),
			     argc >= 7 ? num(argv[6]) : 200);
	} else {
		fprintf(stderr, "usage: lab-vpci cfgrd|cfgwr|memrd|resrd|remove|"
			"rescan|race ... (see lab/lab-vpci.c)\n");
		return 2;
	}
	return 0;
}
