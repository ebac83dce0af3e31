// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-pciback's control socket (src/pciback/ctl.c):
 * the input is what a client writes on $rundir/pciback/control, fed to
 * the daemon's own reader, pciback_ctl_input, over a socketpair (the
 * replies read as a client does, see `drain`), with the unit tests' fake
 * hypervisor (tests/unit/fakehv.c) as the host: 03:00.0 seized and
 * exported to domain 7, 04:00.0 seized, 03:00.1 and 05:00.0 present but
 * not seized.
 *
 * Besides no crash, UB or leak: every request line gets exactly one
 * reply, `ok ...` or `error ERRNAME ...` (after its device lines for
 * `list`), a line that does not fit the buffer gets one error and the
 * connection is closed; and whatever was asked, pciback's state stays
 * consistent: the exported device stays seized and exported, every
 * seized device is on the host and seized once, and a device with MSI-X
 * is prepared with the hypervisor exactly while it is seized.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakehv.h"
#include "log.h"
#include "pciback.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-pbctl: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

#define REPLIES_MAX (4u << 20)
/* The checks' own loops are not what is being fuzzed: no coverage
 * feedback (and its cost) for them. */
#define CHECKER __attribute__((no_sanitize("coverage")))

static struct pciback pb;
static struct pb_backend be = { .domid = 7 };

static void add(uint32_t sbdf, unsigned int msix, bool seize, bool export)
{
	struct fakehv_dev *hw;
	char msg[200];

	hw = fakehv_add(sbdf, 0x8086, 0x1572, 0x020000, true, msix, 1);
	fakehv_set_bar(hw, 0, 0xfe000000 + (sbdf & 0xffff) * 0x100, 0x4000,
		       0);
	if (seize)
		CHECK(pciback_seize(&pb, sbdf, msg, sizeof(msg)) == 0);
	if (export)
		CHECK(pciback_export(&pb, &be, pciback_dev_find(&pb, sbdf),
				     msg, sizeof(msg)) == 0);
}

CHECKER static void check_state(const struct pb_dev *exported)
{
	CHECK(pciback_dev_find(&pb, HV_SBDF(0, 3, 0, 0)) == exported);
	CHECK(exported->be == &be);
	for (size_t i = 0; i < pb.ndevs; i++) {
		CHECK(fakehv_find(pb.devs[i]->sbdf));
		for (size_t j = 0; j < i; j++)
			CHECK(pb.devs[i]->sbdf != pb.devs[j]->sbdf);
	}
	for (int i = 0; i < fakehv.ndevs; i++) {
		const struct fakehv_dev *d = &fakehv.devs[i];

		if (d->info.has_msix)
			CHECK(d->prepared ==
			      !!pciback_dev_find(&pb, d->info.sbdf));
		else
			CHECK(d->prepared == 0);
	}
}

/* The replies the daemon owes: one per line that fits its buffer, and
 * one for the first that does not (it then hangs up). */
CHECKER static size_t requests(const uint8_t *data, size_t size)
{
	size_t n = 0, pos = 0;

	while (pos < size) {
		size_t left = size - pos, k;
		const uint8_t *nl;

		k = left < PB_CTL_LINE_MAX ? left : PB_CTL_LINE_MAX;
		nl = memchr(data + pos, '\n', k);
		if (nl) {
			n++;
			pos = (size_t)(nl - data) + 1;
		} else {
			return n + (left >= PB_CTL_LINE_MAX);
		}
	}
	return n;
}

/*
 * The client reads its replies as they come: the daemon's send blocks
 * when the socket is full, and a default socket holds only a few hundred
 * small replies, fewer than the lines of one 512-byte read.  A thread
 * reading them, woken for every reply, cost more than the daemon's own
 * work; so where the socket's send buffer can be made large enough for
 * the replies to a whole buffer of requests (2 MiB: 512 replies of at
 * most about 1 KiB, plus the kernel's 1-2 KiB per message), the replies
 * are read between the daemon's reads instead, and the thread is only
 * the fallback (net.core.wmem_max below 1 MiB).
 */
#define SNDBUF_WANT (2 << 20)

struct reader {
	int fd;
	char *buf;
	size_t len;
};

/* What there is to read, without waiting. */
CHECKER static void drain_now(struct reader *r)
{
	ssize_t got;

	while ((got = recv(r->fd, r->buf + r->len, REPLIES_MAX - 1 - r->len,
			   MSG_DONTWAIT)) > 0)
		r->len += (size_t)got;
	/* ECONNRESET: the daemon hung up on requests it had not read
	 * (after a line too long), once its replies are read */
	CHECK(got == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
	      errno == ECONNRESET);
	r->buf[r->len] = '\0';
}

CHECKER static void *drain(void *arg)
{
	struct reader *r = arg;
	ssize_t got;

	while ((got = read(r->fd, r->buf + r->len,
			   REPLIES_MAX - 1 - r->len)) > 0)
		r->len += (size_t)got;
	r->buf[r->len] = '\0';
	return NULL;
}

/* Can the daemon's end hold the replies to a whole buffer of requests? */
CHECKER static bool big_sndbuf(int fd)
{
	int want = SNDBUF_WANT, got = 0;
	socklen_t len = sizeof(got);

	/* the kernel doubles what it grants, up to twice wmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
		return false;
	return got >= SNDBUF_WANT;
}

/* Every line a reply or a list line; the number of replies. */
CHECKER static size_t replies(char *buf)
{
	size_t n = 0;
	char *line, *nl;

	for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (!strncmp(line, "ok", 2)) {
			CHECK(line[2] == '\0' || line[2] == ' ');
			n++;
		} else if (!strncmp(line, "error ", 6)) {
			CHECK(line[6] == 'E' && strchr(line + 6, ' '));
			n++;
		} else {
			unsigned int seg, bus, dev, fn;
			char to[16];

			CHECK(sscanf(line, "%4x:%2x:%2x.%1x exported-to=%15s",
				     &seg, &bus, &dev, &fn, to) == 5);
		}
	}
	CHECK(*line == '\0');	/* every reply ends its line */
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
CHECKER int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *out;
	struct pb_ctl_conn *c;
	struct pb_dev *exported;
	struct reader rd;
	pthread_t th;
	bool threaded;
	int sv[2];

	if (size > 64 * 1024)
		return 0;
	if (!out)
		CHECK(out = malloc(REPLIES_MAX));
	log_level = -1;
	fakehv_reset();
	memset(&pb, 0, sizeof(pb));
	pb.epfd = pb.ctlfd = -1;
	add(HV_SBDF(0, 3, 0, 0), 16, true, true);
	add(HV_SBDF(0, 3, 0, 1), 0, false, false);
	add(HV_SBDF(0, 4, 0, 0), 8, true, false);
	add(HV_SBDF(0, 5, 0, 0), 4, false, false);
	exported = pciback_dev_find(&pb, HV_SBDF(0, 3, 0, 0));

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(size == 0 || write(sv[1], data, size) == (ssize_t)size);
	shutdown(sv[1], SHUT_WR);
	c = calloc(1, sizeof(*c));
	pb.conns = calloc(1, sizeof(*pb.conns));
	CHECK(c && pb.conns);
	c->fd = sv[0];
	c->src = (struct pb_src){ PB_SRC_CTL_CONN, c };
	pb.conns[pb.nconns++] = c;
	rd = (struct reader){ .fd = sv[1], .buf = out };
	threaded = !big_sndbuf(sv[0]);
	if (threaded)
		CHECK(pthread_create(&th, NULL, drain, &rd) == 0);
	/* the loop's readable events, until the daemon hangs up */
	while (pb.nconns) {
		pciback_ctl_input(&pb, c);
		check_state(exported);
		if (!threaded)
			drain_now(&rd);
	}
	if (threaded)
		pthread_join(th, NULL);
	else
		drain_now(&rd);	/* to the EOF of the daemon's hang-up */
	CHECK(replies(out) == requests(data, size));
	close(sv[1]);
	pciback_fini(&pb);
	return 0;
}
