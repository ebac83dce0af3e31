// SPDX-License-Identifier: MIT
/* The hypervisor test harness: in-process model or a forked daemon. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv-harness.h"
#include "log.h"

const char hvh_host[] =
	"# test host\n"
	"03:00.0 8086:1572 class=020000 bar0=1M,mem64,prefetch "
	"bar2=16K,mem64 msix=8 msix-bar=2 intx=a vfs=2 reset=flr\n"
	"02:00.0 10de:1eb8 class=030000 bar0=16M bar1=256M,mem64,prefetch "
	"bar5=128,io intx=a msi=4 reset=bus\n"
	"02:00.1 10de:10f8 class=040300 bar0=16K intx=b msi=1 reset=bus\n"
	"05:00.0 1234:1111 class=ff0000 bar0=8K msix=4 intx=a pcie=no "
	"reset=none\n";

struct hyp *hvh_model(const char *host)
{
	struct hyp *h;
	char err[512] = "";

	log_init("test-hv", getenv("HV_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	assert_int_equal(hyp_new(&h), 0);
	if (hyp_host_parse(h, host, "test", err, sizeof(err)) < 0)
		fail_msg("host: %s", err);
	return h;
}

static void child(struct hvh *t, const char *host, int ready)
{
	struct hyp *h;
	char err[512] = "";
	int r;

	if (hyp_new(&h) < 0 || hyp_host_parse(h, host, "test", err,
					      sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(3);
	}
	if (hyp_listen(h, t->rundir) < 0)
		_exit(4);
	if (write(ready, "r", 1) != 1)
		_exit(5);
	close(ready);
	r = hyp_run(h);
	hyp_free(h);
	exit(r < 0 ? 6 : 0);
}

void hvh_start(struct hvh *t, const char *host)
{
	struct pollfd pfd;
	int p[2];
	char c;

	log_init("test-hv", getenv("HV_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	strcpy(t->rundir, "/tmp/xpt-hv-test.XXXXXX");
	assert_non_null(mkdtemp(t->rundir));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		/* A failed assertion in the test must not leave a daemon. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		child(t, host, p[1]);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(hv_open(t->rundir, &t->ctl), 0);
	assert_int_equal(hv_self(t->ctl), 0);
}

int hvh_alive(struct hvh *t)
{
	return waitpid(t->pid, NULL, WNOHANG) == 0;
}

void hvh_stop(struct hvh *t)
{
	char cmd[128];
	int st;

	assert_true(hvh_alive(t));
	hv_close(t->ctl);
	t->ctl = NULL;
	assert_int_equal(kill(t->pid, SIGTERM), 0);
	assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	snprintf(cmd, sizeof(cmd), "%s/hv/control", t->rundir);
	assert_int_equal(access(cmd, F_OK), -1);	/* cleaned up */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->rundir);
	assert_int_equal(system(cmd), 0);
}

struct hv_client *hvh_open_domain(struct hvh *t, unsigned int domid)
{
	struct hv_client *c = NULL;

	assert_int_equal(hv_open_domain(t->rundir, domid, &c), 0);
	assert_int_equal(hv_self(c), domid);
	return c;
}

uint64_t hvh_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	return hvh_pending(fd);
}

uint64_t hvh_pending(int fd)
{
	uint64_t n = 0;

	assert_int_equal(hv_evtchn_ack(fd, &n), 0);
	return n;
}

void hvh_vpci_invariants(struct hyp *h)
{
	char err[256] = "";

	if (hyp_vpci_check(h, err, sizeof(err)) < 0)
		fail_msg("vPCI invariant: %s", err);
}

void hvh_grant_bars(struct hyp *h, uint32_t domid, uint32_t sbdf)
{
	struct hyp_pcidev *p = hyp_pci_get(h, sbdf);
	unsigned int i;

	for (i = 0; i < 6; i++) {
		const struct hv_pci_bar *b = &p->info.bar[i];

		if (b->size && !(b->flags & HV_BAR_IO))
			assert_int_equal(hyp_perm_set(h, HYP_PERM_IOMEM, domid,
						      b->addr >> 12,
						      (b->size + 4095) >> 12,
						      true), 0);
	}
}
