// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for libxpt's readers of xenstore nodes a less trusted
 * party can write: the PV PCI backend directory (written by pciback, in a
 * driver domain a guest of its own; src/libxpt/backend.c xpt_be_read and
 * xpt_be_read_ids), the guest's frontend state, pciback's error node (it
 * quotes what the frontend wrote: its `magic`), and a stub domain's
 * records (src/libxpt/stubdom.c xpt_stubdom_of, xpt_stubdom_target), on
 * the in-memory store of fakexs.c.
 *
 * Input: records [selector][len][len bytes]: the selector names a node
 * (a backend key, or a per-device key with an index among 0, 1, 2, 7,
 * 255, 256, 1000000, "01", "-1", "x"; the frontend's state; the error
 * node; image/device-model-domid or target of domain 7, a stub 9, 0 or a
 * reserved id), bit 7 removes it instead, the bytes are its value.
 *
 * Besides no crash, UB or leak, each reader either returns its "none"
 * value or one within its documented bounds:
 *  - xpt_be_read: 0; exists exactly when the directory does; entries by
 *    ascending index below XPT_BE_MAX, one for every dev-N node there;
 *    has_dev exactly when dev-N exists, dev its value (cut to the field);
 *    state, state-N, num_devs and the frontend's state the node's decimal
 *    value or -1; vdevfn -1 or a devfn; beyond as num_devs says; every
 *    string and warning NUL-terminated in its field and free of control
 *    characters (`xpt pci-list` prints them on the user's terminal);
 *  - xpt_be_read_ids: the same entries without the frontend's state and
 *    the strings beyond dev-N;
 *  - xpt_be_error_node: -ENOENT without the node, else its text, cut to
 *    the buffer, without control characters (it goes into error
 *    messages);
 *  - xpt_stubdom_of: -1, or a stub domain id that is not the guest's,
 *    not reserved, and whose `target` names the guest; xpt_stubdom_target
 *    the inverse.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakexs.h"
#include "libxpt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-nodes: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)
#define CHECKER __attribute__((no_sanitize("coverage")))

#define BE "/local/domain/0/backend/pci/7/0"
#define FE "/local/domain/7/device/pci/0"
#define ERR "/local/domain/0/error/backend/pci/7/0/error"

static const char *const be_keys[] = {
	"state", "num_devs", "frontend", "frontend-id", "online", "domain",
	"root_num", "aerState", "bogus",
};
static const char *const dev_keys[] = {
	"dev", "state", "vdev", "opts", "vdevfn", "name", "key", "root",
};
static const char *const idxs[] = {
	"0", "1", "2", "7", "255", "256", "1000000", "01", "-1", "x",
};
static const char *const other[] = {
	FE "/state", ERR,
	"/local/domain/7/image/device-model-domid", "/local/domain/7/target",
	"/local/domain/9/target", "/local/domain/9/image/device-model-domid",
	"/local/domain/0/target", "/local/domain/32752/target",
};

CHECKER static void node_path(uint8_t sel, char *p, size_t len)
{
	sel &= 0x7f;
	if (sel < 9)
		snprintf(p, len, BE "/%s", be_keys[sel]);
	else if (sel < 9 + 8)
		snprintf(p, len, "%s", other[sel - 9]);
	else
		snprintf(p, len, BE "/%s-%s", dev_keys[(sel - 17) % 8],
			 idxs[(sel - 17) / 8 % 10]);
}

/* The node's value as a decimal int, as the readers take one; -1 if
 * missing or not one. */
CHECKER static int node_int(const char *path)
{
	unsigned int len;
	char *s = xs_read(NULL, XBT_NULL, path, &len), *end;
	long v;
	int r = -1;

	if (!s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s && !*end && !errno && v >= INT32_MIN && v <= INT32_MAX)
		r = (int)v;
	free(s);
	return r;
}

/* NUL-terminated inside its field, no control character. */
CHECKER static void check_text(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	CHECK(n < size);
	for (size_t i = 0; i < n; i++)
		CHECK((uint8_t)s[i] >= 0x20 && (uint8_t)s[i] != 0x7f);
}

/* dev-N's value as the field holds it: cut to the field, at a NUL. */
CHECKER static void check_cut(const char *path, const char *field,
			      size_t size)
{
	unsigned int len;
	char *s = xs_read(NULL, XBT_NULL, path, &len);
	size_t n = s ? strnlen(s, size - 1) : 0;

	CHECK(strlen(field) == n);
	for (size_t i = 0; i < n; i++)
		CHECK(field[i] == s[i] ||
		      (field[i] == '?' && ((uint8_t)s[i] < 0x20 ||
					   (uint8_t)s[i] == 0x7f)));
	free(s);
}

CHECKER static void check_be(const struct xpt_be *b, bool full)
{
	char p[128];
	int last = -1;

	CHECK(b->exists == fakexs_exists(BE));
	CHECK(b->fe_state == (full ? node_int(FE "/state") : -1));
	if (!b->exists) {
		CHECK(b->n == 0 && b->nwarn == 0 && b->num_devs == -1 &&
		      b->state == -1);
		return;
	}
	CHECK(b->state == node_int(BE "/state"));
	CHECK(b->num_devs == -1 || b->num_devs == node_int(BE "/num_devs"));
	CHECK(b->num_devs >= -1);
	CHECK(b->n <= XPT_BE_MAX);
	for (size_t i = 0; i < b->n; i++) {
		const struct xpt_be_entry *e = &b->e[i];

		CHECK(e->index > last && e->index < XPT_BE_MAX);
		/* every dev-N between the last entry and this one is missing */
		for (int k = last + 1; k < e->index; k++) {
			snprintf(p, sizeof(p), BE "/dev-%d", k);
			CHECK(!fakexs_exists(p));
		}
		last = e->index;
		snprintf(p, sizeof(p), BE "/dev-%d", e->index);
		CHECK(e->has_dev == fakexs_exists(p));
		check_text(e->dev, sizeof(e->dev));
		check_cut(p, e->dev, sizeof(e->dev));
		CHECK(!e->valid || e->has_dev);
		snprintf(p, sizeof(p), BE "/state-%d", e->index);
		CHECK(e->state == node_int(p));
		CHECK(e->beyond == (b->num_devs >= 0 &&
				    e->index >= b->num_devs));
		CHECK(e->vdevfn >= -1 && e->vdevfn <= 0xff);
		check_text(e->vdev, sizeof(e->vdev));
		check_text(e->opts, sizeof(e->opts));
		check_text(e->name, sizeof(e->name));
		if (!full)
			CHECK(!e->vdev[0] && !e->opts[0] && !e->name[0] &&
			      e->vdevfn == -1);
	}
	for (int k = last + 1; k < XPT_BE_MAX; k++) {
		snprintf(p, sizeof(p), BE "/dev-%d", k);
		CHECK(!fakexs_exists(p));
	}
	CHECK(b->nwarn <= sizeof(b->warn) / sizeof(b->warn[0]));
	for (size_t i = 0; i < b->nwarn; i++)
		check_text(b->warn[i], sizeof(b->warn[i]));
}

CHECKER static void check_stubdom(struct xpt_ctx *c)
{
	char p[96];
	int s = xpt_stubdom_of(c, 7), g;

	if (s >= 0) {
		CHECK(s > 0 && s != 7 && s < (int)XPT_DOMID_FIRST_RESERVED);
		CHECK(node_int("/local/domain/7/image/device-model-domid") ==
		      s);
		snprintf(p, sizeof(p), "/local/domain/%d/target", s);
		CHECK(node_int(p) == 7);
	} else {
		CHECK(s == -1);
	}
	g = xpt_stubdom_target(c, 9);
	CHECK(g == -1 || (g > 0 && xpt_stubdom_of(c, (unsigned int)g) == 9));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xpt_be full, ids;
	static struct xpt_ctx c;
	char p[128], err[256];
	int r;

	if (size > 8192)
		return 0;
	memset(&c, 0, sizeof(c));
	c.xs = fakexs_reset();
	while (size >= 2) {
		uint8_t sel = data[0];
		size_t n = data[1];

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		node_path(sel, p, sizeof(p));
		if (sel & 0x80)
			xs_rm(c.xs, XBT_NULL, p);
		else
			fakexs_write_bytes(p, data, n);
		data += n;
		size -= n;
	}
	while (fakexs_next_event(p, sizeof(p), err, sizeof(err)))
		;

	CHECK(xpt_be_read(&c, XBT_NULL, 7, &full) == 0);
	check_be(&full, true);
	CHECK(xpt_be_read_ids(&c, XBT_NULL, 7, &ids) == 0);
	check_be(&ids, false);
	CHECK(ids.n == full.n && ids.num_devs == full.num_devs &&
	      ids.state == full.state);
	for (size_t i = 0; i < ids.n; i++) {
		const struct xpt_be_entry *a = &ids.e[i], *b = &full.e[i];

		CHECK(a->index == b->index && a->has_dev == b->has_dev &&
		      a->valid == b->valid && a->state == b->state &&
		      a->beyond == b->beyond && !strcmp(a->dev, b->dev));
		CHECK(!a->valid || a->sbdf == b->sbdf);
	}

	r = xpt_be_error_node(&c, 7, err, sizeof(err));
	CHECK(r == (fakexs_exists(ERR) ? 0 : -ENOENT));
	if (r == 0) {
		check_text(err, sizeof(err));
		check_cut(ERR, err, sizeof(err));
	}
	check_stubdom(&c);
	fakexs_clear();
	return 0;
}
