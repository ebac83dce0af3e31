// SPDX-License-Identifier: MIT
/*
 * The PV PCI backend directory, /local/domain/0/backend/pci/<domid>/0, and
 * its frontend, /local/domain/<domid>/device/pci/0 (docs/protocol.md §3):
 * reading it whatever a broken toolstack or a crash left there (holes,
 * entries beyond num_devs, garbage values: a warning each, never a
 * failure), the toolstack's writes, and detach compaction
 * (docs/protocol.md §4.3).
 *
 * Compaction example: entries 0,1,2 (dev-0 A, dev-1 B, dev-2 C), detach B:
 * the keys of index 2 move to 1 (state, dev, key, vdev, opts, vdevfn,
 * name: the ones present), index 2 is removed, num_devs=2.  Index order is
 * preserved, so pciback's and pcifront's view of "which vdev is which"
 * stays consistent with a backend that re-reads by index.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "libxpt.h"

static const char *const dev_keys[] = {
	"state", "dev", "key", "vdev", "opts", "vdevfn", "name",
};
#define NKEYS (sizeof(dev_keys) / sizeof(dev_keys[0]))

/* Keys of the backend directory that are not per-device. */
static const char *const be_keys[] = {
	"frontend", "frontend-id", "online", "state", "domain", "num_devs",
	"root_num", "aerState",
};

void xpt_be_paths(unsigned int domid, char *be, size_t belen, char *fe,
		  size_t felen)
{
	if (be)
		snprintf(be, belen, "/local/domain/0/backend/pci/%u/0", domid);
	if (fe)
		snprintf(fe, felen, "/local/domain/%u/device/pci/0", domid);
}

static void be_warn(struct xpt_be *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void be_warn(struct xpt_be *b, const char *fmt, ...)
{
	va_list ap;

	if (b->nwarn == sizeof(b->warn) / sizeof(b->warn[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(b->warn[b->nwarn++], sizeof(b->warn[0]), fmt, ap);
	va_end(ap);
}

/* "dev-12" -> key index 1 ("dev"), 12; -1 if not a per-device key. */
static int parse_key(const char *name, int *ret_idx)
{
	const char *dash = strrchr(name, '-'), *p;
	size_t i, klen;
	long v;

	if (!dash || !dash[1])
		return -1;
	for (p = dash + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	klen = (size_t)(dash - name);
	for (i = 0; i < NKEYS; i++)
		if (strlen(dev_keys[i]) == klen && !strncmp(name, dev_keys[i], klen))
			break;
	if (i == NKEYS && !(klen == 4 && !strncmp(name, "root", 4)))
		return -1;
	v = strtol(dash + 1, NULL, 10);
	if (strlen(dash + 1) > 6)
		v = 1000000;
	*ret_idx = (int)v;
	return i == NKEYS ? (int)NKEYS : (int)i;	/* NKEYS: root-N */
}

/* A store that fails a read says nothing of the node: 0 read or
 * missing, else the error, which the whole read of the backend returns
 * (a rebuild from a half-read backend would drop what it missed). */
static int read_failed(void)
{
	return errno == ENOENT || errno == EACCES || !errno ? 0 : -errno;
}

static int read_str(struct xpt_ctx *c, xs_transaction_t t, const char *dir,
		    const char *key, int idx, char *buf, size_t len)
{
	char path[256];
	int r;

	snprintf(path, sizeof(path), "%s/%s-%d", dir, key, idx);
	r = xpt_xs_read_text(c, t, path, buf, len);
	return r == -ENOENT ? 0 : r;
}

static int parse_bdf(const char *s, uint32_t *ret)
{
	unsigned int seg, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bus, &dev, &fn, &n) != 4 ||
	    s[n] || seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret = XPT_PCI_SBDF(seg, bus, dev, fn);
	return 0;
}

/* The keys of entry idx beyond dev-N and state-N. */
static int read_extra(struct xpt_ctx *c, xs_transaction_t t, const char *be,
		      int idx, struct xpt_be_entry *e, struct xpt_be *ret)
{
	char val[64];
	int r;

	r = read_str(c, t, be, "vdev", idx, e->vdev, sizeof(e->vdev));
	if (r == 0)
		r = read_str(c, t, be, "opts", idx, e->opts, sizeof(e->opts));
	if (r == 0)
		r = read_str(c, t, be, "name", idx, e->name, sizeof(e->name));
	if (r == 0)
		r = read_str(c, t, be, "vdevfn", idx, val, sizeof(val));
	if (r < 0)
		return r;
	if (val[0]) {
		char *end;
		long v = strtol(val, &end, 16);

		if (*end || v < 0 || v > 0xff)
			be_warn(ret, "vdevfn-%d is '%.20s', not a devfn", idx,
				val);
		else
			e->vdevfn = (int)v;
	}
	return 0;
}

static int be_read(struct xpt_ctx *c, xs_transaction_t t, unsigned int domid,
		   struct xpt_be *ret, bool full)
{
	bool present[XPT_BE_MAX] = { false };
	char be[128], fe[128], path[256];
	unsigned int nent, i;
	char **ents;
	int idx, k, r, maxidx = -1;

	memset(ret, 0, sizeof(*ret));
	ret->num_devs = ret->state = ret->fe_state = -1;
	xpt_be_paths(domid, be, sizeof(be), fe, sizeof(fe));
	snprintf(path, sizeof(path), "%s/state", fe);
	if (full && (r = xpt_xs_read_int(c, t, path, &ret->fe_state)) < 0) {
		if (r != -ENOENT && r != -EINVAL)
			return r;
		ret->fe_state = -1;
	}
	ents = xs_directory(c->xs, t, be, &nent);
	if (!ents)
		return read_failed();
	ret->exists = true;
	snprintf(path, sizeof(path), "%s/state", be);
	r = xpt_xs_read_int(c, t, path, &ret->state);
	if (r == -EINVAL)
		be_warn(ret, "backend state is not a number");
	else if (r < 0 && r != -ENOENT)
		goto fail;
	snprintf(path, sizeof(path), "%s/num_devs", be);
	r = xpt_xs_read_int(c, t, path, &ret->num_devs);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		goto fail;
	if (r == -ENOENT)
		be_warn(ret, "the backend has no num_devs (pciback treats "
			"that as fatal)");
	else if (r < 0 || ret->num_devs < 0) {
		be_warn(ret, "backend num_devs is not a count");
		ret->num_devs = -1;
	}
	for (i = 0; i < nent; i++) {
		size_t j;
		bool known = false;

		for (j = 0; j < sizeof(be_keys) / sizeof(be_keys[0]); j++)
			known |= !strcmp(ents[i], be_keys[j]);
		if (known)
			continue;
		k = parse_key(ents[i], &idx);
		if (k < 0) {
			be_warn(ret, "unexpected key '%.60s' in the backend "
				"(ignored)", ents[i]);
			continue;
		}
		if (k == (int)NKEYS)	/* root-N: the backend's */
			continue;
		if (idx >= XPT_BE_MAX) {
			be_warn(ret, "key '%.60s': index out of range "
				"(ignored)", ents[i]);
			continue;
		}
		present[idx] = true;
		if (idx > maxidx)
			maxidx = idx;
	}
	free(ents);
	for (idx = 0; idx <= maxidx || idx < ret->num_devs; idx++) {
		struct xpt_be_entry *e;

		if (idx >= XPT_BE_MAX)
			break;
		if (!present[idx]) {
			if (idx < ret->num_devs)
				be_warn(ret, "num_devs is %d but entry %d is "
					"missing (a hole)", ret->num_devs, idx);
			continue;
		}
		e = &ret->e[ret->n++];
		e->index = idx;
		e->state = e->vdevfn = -1;
		e->beyond = ret->num_devs >= 0 && idx >= ret->num_devs;
		snprintf(path, sizeof(path), "%s/dev-%d", be, idx);
		r = xpt_xs_read_text(c, t, path, e->dev, sizeof(e->dev));
		if (r < 0 && r != -ENOENT)
			return r;
		e->has_dev = r == 0;
		e->valid = e->has_dev && parse_bdf(e->dev, &e->sbdf) == 0;
		snprintf(path, sizeof(path), "%s/state-%d", be, idx);
		r = xpt_xs_read_int(c, t, path, &e->state);
		if (r < 0 && r != -ENOENT && r != -EINVAL)
			return r;
		if (r < 0)
			e->state = -1;
		if (full && (r = read_extra(c, t, be, idx, e, ret)) < 0)
			return r;
		if (!e->has_dev)
			be_warn(ret, "entry %d has no dev-%d (left by a broken "
				"toolstack)", idx, idx);
		else if (!e->valid)
			be_warn(ret, "dev-%d is '%.31s', not a PCI address",
				idx, e->dev);
		if (e->beyond)
			be_warn(ret, "entry %d lies beyond num_devs=%d", idx,
				ret->num_devs);
	}
	return 0;
fail:
	free(ents);
	return r;
}

int xpt_be_read(struct xpt_ctx *c, xs_transaction_t t, unsigned int domid,
		struct xpt_be *ret)
{
	return be_read(c, t, domid, ret, true);
}

/* Only what says who holds what: the backend's state, num_devs and each
 * entry's dev-N and state-N (the frontend's state, vdev, opts, name and
 * vdevfn left unread: fe_state -1, the strings empty). */
int xpt_be_read_ids(struct xpt_ctx *c, xs_transaction_t t,
		    unsigned int domid, struct xpt_be *ret)
{
	return be_read(c, t, domid, ret, false);
}

const struct xpt_be_entry *xpt_be_find(const struct xpt_be *b, uint32_t sbdf)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->e[i].valid && b->e[i].sbdf == sbdf)
			return &b->e[i];
	return NULL;
}

/* libxl__create_pci_backend, inside the caller's transaction
 * (docs/protocol.md §3.3): both directories, their permissions, and the
 * keys of a device in state 1. */
void xpt_be_create_dirs(struct xpt_ctx *c, struct xpt_txn *tx,
			unsigned int domid, const char *name)
{
	struct xs_permissions fe_perms[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions be_perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	char be[128], fe[128], p[192];

	xpt_be_paths(domid, be, sizeof(be), fe, sizeof(fe));
	xpt_txn_rm(c, tx, fe);
	xpt_txn_rm(c, tx, be);
	xpt_txn_mkdir(c, tx, fe, fe_perms, 2);
	xpt_txn_mkdir(c, tx, be, be_perms, 2);
	snprintf(p, sizeof(p), "%s/backend", fe);
	xpt_txn_write(c, tx, p, "%s", be);
	snprintf(p, sizeof(p), "%s/backend-id", fe);
	xpt_txn_write(c, tx, p, "0");
	snprintf(p, sizeof(p), "%s/state", fe);
	xpt_txn_write(c, tx, p, "%d", XenbusStateInitialising);
	snprintf(p, sizeof(p), "%s/frontend", be);
	xpt_txn_write(c, tx, p, "%s", fe);
	snprintf(p, sizeof(p), "%s/frontend-id", be);
	xpt_txn_write(c, tx, p, "%u", domid);
	snprintf(p, sizeof(p), "%s/online", be);
	xpt_txn_write(c, tx, p, "1");
	snprintf(p, sizeof(p), "%s/state", be);
	xpt_txn_write(c, tx, p, "%d", XenbusStateInitialising);
	snprintf(p, sizeof(p), "%s/domain", be);
	xpt_txn_write(c, tx, p, "%s", name);
}

/* One device entry as the toolstack writes it (state-N Initialising). */
void xpt_be_write_entry(struct xpt_ctx *c, struct xpt_txn *tx,
			unsigned int domid, int n,
			const struct xpt_be_entry *e)
{
	char be[128], p[192];

	xpt_be_paths(domid, be, sizeof(be), NULL, 0);
	snprintf(p, sizeof(p), "%s/key-%d", be, n);
	xpt_txn_write(c, tx, p, "%s", e->dev);
	snprintf(p, sizeof(p), "%s/dev-%d", be, n);
	xpt_txn_write(c, tx, p, "%s", e->dev);
	if (e->vdevfn > 0) {
		snprintf(p, sizeof(p), "%s/vdevfn-%d", be, n);
		xpt_txn_write(c, tx, p, "%x", (unsigned int)e->vdevfn);
	}
	if (e->name[0]) {
		snprintf(p, sizeof(p), "%s/name-%d", be, n);
		xpt_txn_write(c, tx, p, "%s", e->name);
	}
	if (e->opts[0]) {
		snprintf(p, sizeof(p), "%s/opts-%d", be, n);
		xpt_txn_write(c, tx, p, "%s", e->opts);
	}
	snprintf(p, sizeof(p), "%s/state-%d", be, n);
	xpt_txn_write(c, tx, p, "%d", XenbusStateInitialising);
}

void xpt_be_entry_of(const struct xpt_dev *d, struct xpt_be_entry *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->has_dev = ret->valid = true;
	ret->sbdf = d->sbdf;
	xpt_format_bdf(d->sbdf, ret->dev, sizeof(ret->dev));
	ret->vdevfn = d->vdevfn;
	snprintf(ret->opts, sizeof(ret->opts), "msitranslate=%d,power_mgmt=%d,"
		 "permissive=%d,rdm_policy=%s", d->spec.msitranslate,
		 d->spec.power_mgmt, d->spec.permissive,
		 d->spec.rdm_policy == XPT_RDM_RELAXED ? "relaxed" : "strict");
	snprintf(ret->name, sizeof(ret->name), "%s", d->spec.name);
	ret->state = -1;
}

void xpt_be_write_dev(struct xpt_ctx *c, struct xpt_txn *tx,
		      unsigned int domid, int n, const struct xpt_dev *d)
{
	struct xpt_be_entry e;

	xpt_be_entry_of(d, &e);
	xpt_be_write_entry(c, tx, domid, n, &e);
}

static bool removed(const struct xpt_be_entry *e, const uint32_t *sbdfs,
		    size_t n)
{
	size_t i;

	for (i = 0; e->valid && i < n; i++)
		if (sbdfs[i] == e->sbdf)
			return true;
	return false;
}

int xpt_be_remove_compact(struct xpt_ctx *c, struct xpt_txn *tx,
			  unsigned int domid, const struct xpt_be *b,
			  const uint32_t *sbdfs, size_t n)
{
	char be[128], fe[128], p[192], q[192], *v;
	size_t i, k;
	int m = 0;

	xpt_be_paths(domid, be, sizeof(be), fe, sizeof(fe));
	for (i = 0; i < b->n; i++)
		if (!removed(&b->e[i], sbdfs, n))
			m++;
	if (m == 0) {
		/* the last device: libxl__device_destroy, which also
		 * removes the empty parent (libxl__xs_path_cleanup) */
		snprintf(p, sizeof(p), "/local/domain/0/backend/pci/%u", domid);
		xpt_txn_rm(c, tx, p);
		xpt_txn_rm(c, tx, fe);
		snprintf(p, sizeof(p), "/libxl/%u/device/pci/0", domid);
		xpt_txn_rm(c, tx, p);
		return 0;
	}
	m = 0;
	for (i = 0; i < b->n; i++) {
		int j = b->e[i].index;

		if (removed(&b->e[i], sbdfs, n))
			continue;
		if (j != m) {
			for (k = 0; k < NKEYS; k++) {
				snprintf(p, sizeof(p), "%s/%s-%d", be,
					 dev_keys[k], j);
				snprintf(q, sizeof(q), "%s/%s-%d", be,
					 dev_keys[k], m);
				v = xpt_xs_read(c, tx->t, p);
				if (v)
					xpt_txn_write(c, tx, q, "%s", v);
				else
					xpt_txn_rm(c, tx, q);
				free(v);
			}
		}
		m++;
	}
	/* everything at or beyond the new count goes */
	for (i = 0; i < b->n; i++) {
		if (b->e[i].index < m)
			continue;
		for (k = 0; k < NKEYS; k++) {
			snprintf(p, sizeof(p), "%s/%s-%d", be, dev_keys[k],
				 b->e[i].index);
			xpt_txn_rm(c, tx, p);
		}
	}
	snprintf(p, sizeof(p), "%s/num_devs", be);
	xpt_txn_write(c, tx, p, "%d", m);
	return m;
}

int xpt_be_error_node(struct xpt_ctx *c, unsigned int domid, char *buf,
		      size_t len)
{
	char path[128];

	/* pciback quotes the frontend's own words in it (its magic) */
	snprintf(path, sizeof(path),
		 "/local/domain/0/error/backend/pci/%u/0/error", domid);
	return xpt_xs_read_text(c, XBT_NULL, path, buf, len);
}
