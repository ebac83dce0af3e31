// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the whole request path of xpt-xenstored: bytes go
 * to three in-memory connections (dom0, an introduced domain 1, and its
 * device model, domain 2, with SET_TARGET 1) exactly as a socket would
 * deliver them; after every input the store must still be consistent.
 *
 * Input: a sequence of chunks [selector][length][bytes...].  The selector
 * picks the connection (and every 8th selector drains its output, as a
 * reading client would); a connection that violates the protocol is
 * replaced by a fresh one, as the daemon drops it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xenstored.h"

static void send_req(struct conn *c, uint32_t type, const char *p,
		     uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .len = len };
	size_t used;

	conn_feed(c, &h, sizeof(h), &used);
	conn_feed(c, p, len, &used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsd_config cfg;
	struct conn *c[3];
	struct domain *d[3];
	struct xsd *x;
	size_t off = 0, used, len;
	unsigned int i;
	bool changed;

	log_init("fuzz-wire", -1);
	xsd_default_config(&cfg);
	cfg.quota.nodes = 50;		/* reach the quota paths quickly */
	cfg.quota.txn_nodes = 40;
	cfg.quota.watches = 8;
	x = xsd_new(&cfg);
	if (!x)
		return 0;
	c[0] = conn_new(x, -1, x->dom0, false);
	send_req(c[0], XS_INTRODUCE, "1\0" "0\0" "1", 6);
	send_req(c[0], XS_INTRODUCE, "2\0" "0\0" "2", 6);
	send_req(c[0], XS_SET_TARGET, "2\0" "1", 4);
	d[0] = x->dom0;
	d[1] = domain_find(x, 1);
	d[2] = domain_find(x, 2);
	c[1] = conn_new(x, -1, d[1], false);
	c[2] = conn_new(x, -1, d[2], false);

	while (off + 2 <= size) {
		uint8_t sel = data[off];
		size_t before;

		i = sel % 3;
		len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		changed = false;
		if ((sel & 0x38) == 0x38) {
			conn_drop_output(c[i]);
			changed = true;
		}
		before = c[i]->in_used;
		used = 0;
		if (c[i]->closing || c[i]->dead ||
		    conn_feed(c[i], data + off, len, &used) < 0) {
			conn_free(c[i]);
			d[i] = domain_find(x, i);
			if (!d[i] || !d[i]->introduced)
				d[i] = x->dom0;	/* released: carry on as dom0 */
			c[i] = conn_new(x, -1, d[i], false);
			if (!c[i])
				break;
			changed = true;
		}
		/* A chunk that completed no request (in_used only grew by
		 * what it fed) changed nothing the check looks at: checking
		 * the store after every chunk was most of the target's time. */
		if (c[i]->in_used != before + used)
			changed = true;
		off += len;
		if (changed && xsd_check(x) < 0)
			abort();
	}
	if (xsd_check(x) < 0)
		abort();
	xsd_free(x);
	return 0;
}
