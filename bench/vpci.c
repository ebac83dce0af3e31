// SPDX-License-Identifier: MIT
/*
 * vPCI cost in the hypervisor model (libxpthv in-process, no sockets):
 * a PVH domain with N vCPUs (N = 1, 2, 4, 8), one driving thread per vCPU.
 *
 *   conf-read   each vCPU reads its device's vendor/device register
 *               (pci_lock read side, the handler list, the hardware lock)
 *   bar-remap   each vCPU turns memory decoding of its own device on and
 *               off: modify_bars, then the deferred map/unmap of the BARs
 *               (256 + 2 pages) in slices under the read lock, and the
 *               COMMAND writes (pci_lock write side)
 *
 * Figures: microseconds per access as one vCPU sees it, and accesses per
 * second over all vCPUs; ratios against N = 1 of the same run.  No
 * assertions: a benchmark prints (bench/README.md).
 *
 * usage: vpci [SECONDS_PER_FIGURE]   (default 0.5)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hypervisor.h"
#include "log.h"

#define MAXN 8

static const char host[] =
	"01:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"02:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"03:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"04:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"05:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"06:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"07:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n"
	"08:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 msix-bar=2 reset=flr\n";

enum work { CONF_READ, BAR_REMAP };

struct worker {
	pthread_t t;
	struct hyp *h;
	uint32_t domid, vcpu;
	enum work w;
	double seconds;
	uint64_t ops;
	double elapsed;
	int err;
};

static pthread_barrier_t start;

static void *work_main(void *arg)
{
	struct worker *w = arg;
	uint32_t g = HV_SBDF(0, 0, w->vcpu, 0), v;
	double t0, deadline;
	uint64_t n = 0;
	int r = 0;

	pthread_barrier_wait(&start);
	t0 = now();
	deadline = t0 + w->seconds;
	do {
		/* a batch between clock reads */
		for (unsigned int i = 0; i < 32 && r == 0; i++, n++) {
			if (w->w == CONF_READ)
				r = hyp_vpci_conf_read(w->h, w->domid, w->vcpu,
						       g, 0, 4, &v);
			else
				r = hyp_vpci_conf_write(w->h, w->domid,
							w->vcpu, g, PCI_CMD, 2,
							n % 2 ? 0 : PCI_CMD_MEM);
		}
	} while (r == 0 && now() < deadline);
	w->elapsed = now() - t0;
	w->ops = n;
	w->err = r;
	return NULL;
}

/* One figure: N vCPUs for `seconds`; per-op us and total ops/s. */
static int run(enum work wk, unsigned int n, double seconds,
	       double *ret_us, double *ret_rate)
{
	struct worker w[MAXN];
	struct hyp *h;
	char err[256] = "";
	uint32_t d;
	unsigned int i, k;
	double us = 0, rate = 0;
	int r;

	if (hyp_new(&h) < 0 || hyp_host_parse(h, host, "bench", err,
					      sizeof(err)) < 0) {
		fprintf(stderr, "vpci: host: %s\n", err);
		return -1;
	}
	r = hyp_domain_create(h, HV_DOMF_PVH | HV_DOMF_PASSTHROUGH, "bench",
			      0, n, &d);
	for (i = 0; r == 0 && i < n; i++) {
		struct hyp_pcidev *p = h->pci[i];

		r = hyp_assign(h, d, p->info.sbdf);
		for (k = 0; r == 0 && k < 6; k++)
			if (p->info.bar[k].size)
				r = hyp_perm_set(h, HYP_PERM_IOMEM, d,
						 p->info.bar[k].addr >> 12,
						 (p->info.bar[k].size + 4095) >> 12,
						 true);
	}
	if (r < 0) {
		fprintf(stderr, "vpci: setup: %s\n", strerror(-r));
		hyp_free(h);
		return -1;
	}
	pthread_barrier_init(&start, NULL, n);
	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ .h = h, .domid = d, .vcpu = i, .w = wk,
					.seconds = seconds };
		pthread_create(&w[i].t, NULL, work_main, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].err)
			r = w[i].err;
		us += w[i].elapsed * 1e6 / (double)w[i].ops / n;
		rate += (double)w[i].ops / w[i].elapsed;
	}
	pthread_barrier_destroy(&start);
	hyp_free(h);
	if (r < 0) {
		fprintf(stderr, "vpci: an access failed: %s\n", strerror(-r));
		return -1;
	}
	*ret_us = us;
	*ret_rate = rate;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int ns[] = { 1, 2, 4, 8 };
	static const char *const names[] = { "conf-read", "bar-remap" };
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.5;
	double us[2][4], rate[2][4];
	unsigned int w, i;

	if (seconds <= 0)
		seconds = 0.5;
	log_init("vpci-bench", LOG_LVL_ERR);
	for (w = 0; w < 2; w++)
		for (i = 0; i < 4; i++)
			if (run((enum work)w, ns[i], seconds, &us[w][i],
				&rate[w][i]) < 0)
				return 1;
	printf("# xpt vPCI benchmark: the hypervisor model in-process, profile "
	       "fixed, slice 64 pages;\n# each vCPU drives its own device "
	       "(BAR0 1 MiB + BAR2 16 KiB: 258 pages mapped per toggle);\n"
	       "# %.2f s per figure; ratios against N = 1 of this run\n",
	       seconds);
	printf("%-10s %3s %12s %12s %14s %14s\n", "workload", "N",
	       "us/access", "accesses/s", "us ratio", "rate ratio");
	for (w = 0; w < 2; w++)
		for (i = 0; i < 4; i++)
			printf("%-10s %3u %12.2f %12.0f %14.2f %14.2f\n",
			       names[w], ns[i], us[w][i], rate[w][i],
			       us[w][i] / us[w][0], rate[w][i] / rate[w][0]);
	return 0;
}
