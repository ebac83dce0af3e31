// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-guest's query-socket requests (src/guest/
 * query.c), whose peer is, for a stub domain, the device model in it:
 * every input line goes through query_parse as a PV and as an HVM guest,
 * and a request's BDF through hv_parse_bdf as the lookup does.  Besides
 * no crash, UB or leak: a parsed request has its arguments in range, an
 * HVM guest has no PV-only request, the reason for a refusal is a
 * printable line, and a parsed request written out again in its canonical
 * form parses to the same request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "hvclient.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-query: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)

static const char *const op_names[] = {
	[Q_STATUS] = "status", [Q_REPROBE] = "reprobe", [Q_RESUME] = "resume",
	[Q_SHUTDOWN] = "shutdown", [Q_PCI_DEV] = "pci-dev",
	[Q_CONF_READ] = "conf-read", [Q_CONF_WRITE] = "conf-write",
	[Q_PCI_OP] = "pci-op", [Q_END_GRANT] = "end-grant",
};

static void check_err(const char *err)
{
	const unsigned char *p = (const unsigned char *)err;

	CHECK(*p);
	for (; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

static void check_req(const struct query_req *q, bool pv)
{
	uint32_t sbdf;

	CHECK(q->op <= Q_END_GRANT);
	if (!pv)
		CHECK(q->op != Q_RESUME && q->op != Q_PCI_DEV &&
		      q->op != Q_CONF_READ && q->op != Q_CONF_WRITE &&
		      q->op != Q_PCI_OP && q->op != Q_END_GRANT);
	if (q->op == Q_SHUTDOWN)
		CHECK(q->reason_name);
	if (q->op == Q_PCI_OP)	/* the test-only raw op */
		CHECK(q->nent <= SH_INFO_MAX_VEC && q->count >= 1 &&
		      q->count <= 1000000);
	if (q->op < Q_PCI_DEV || q->op > Q_CONF_WRITE)
		return;
	CHECK(q->bdf && q->bdf[0] && !strchr(q->bdf, ' '));
	hv_parse_bdf(q->bdf, &sbdf);
	if (q->op == Q_PCI_DEV)
		return;
	CHECK(q->reg <= 4095);
	CHECK(q->size == 1 || q->size == 2 || q->size == 4);
}

/* The request again, as xpt-dm writes it. */
static void canonical(const struct query_req *q, char *buf, size_t len)
{
	switch (q->op) {
	case Q_SHUTDOWN:
		snprintf(buf, len, "shutdown %s", q->reason_name);
		break;
	case Q_PCI_DEV:
		snprintf(buf, len, "pci-dev %s", q->bdf);
		break;
	case Q_CONF_READ:
		snprintf(buf, len, "conf-read %s %#x %u", q->bdf, q->reg,
			 q->size);
		break;
	case Q_CONF_WRITE:
		snprintf(buf, len, "conf-write %s %#x %u %#x", q->bdf, q->reg,
			 q->size, q->value);
		break;
	case Q_PCI_OP:
		snprintf(buf, len, "pci-op %u %u %u %u %#x %#x %u %u %u",
			 q->raw.cmd, q->raw.domain, q->raw.bus, q->raw.devfn,
			 (uint32_t)q->raw.offset, (uint32_t)q->raw.size,
			 q->raw.value, q->nent, q->count);
		break;
	default:
		snprintf(buf, len, "%s", op_names[q->op]);
	}
}

static void one(const char *line, bool pv)
{
	char copy[512], again[512], err[160];
	struct query_req q, q2;

	snprintf(copy, sizeof(copy), "%s", line);
	err[0] = '\0';
	if (query_parse(copy, pv, &q, err, sizeof(err)) < 0) {
		check_err(err);
		return;
	}
	check_req(&q, pv);
	canonical(&q, again, sizeof(again));
	CHECK(query_parse(again, pv, &q2, err, sizeof(err)) == 0);
	CHECK(q2.op == q.op && q2.reason == q.reason);
	if (q.op == Q_PCI_OP)
		CHECK(!memcmp(&q2.raw, &q.raw, sizeof(q.raw)) &&
		      q2.nent == q.nent && q2.count == q.count);
	if (q.op == Q_PCI_OP || q.op == Q_END_GRANT)
		return;
	if (q.op >= Q_PCI_DEV)
		CHECK(!strcmp(q2.bdf, q.bdf));
	if (q.op >= Q_CONF_READ)
		CHECK(q2.reg == q.reg && q2.size == q.size);
	if (q.op == Q_CONF_WRITE)
		CHECK(q2.value == q.value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[256];
	size_t i = 0, n;

	/* lines as query_input cuts them: up to '\n', a '\r' before it
	 * dropped, at most 255 bytes */
	while (i < size) {
		for (n = 0; i + n < size && data[i + n] != '\n'; n++)
			;
		if (n < sizeof(line)) {
			memcpy(line, data + i, n);
			line[n] = '\0';
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			one(line, true);
			one(line, false);
		}
		i += n + 1;
	}
	return 0;
}
