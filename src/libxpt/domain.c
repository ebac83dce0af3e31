// SPDX-License-Identifier: MIT
/*
 * PV domains: create (hypervisor domain, paused; xenstore nodes with
 * libxl's permissions; XS_INTRODUCE; cold-plug under the domain lock;
 * unpause and boot the guest kernel only after), destroy (always
 * completes: devices torn down with bounded waits, nodes, markers, guest
 * process, hypervisor domain, XS_RELEASE), pause, unpause, reboot (destroy
 * + create from the persisted configuration: exactly the devices attached
 * at that moment), list, and name resolution.
 *
 * Names are unique host-wide: create checks a new name against every
 * domain the hypervisor lists and every /local/domain/<id>/name in
 * xenstore (the scan; the hypervisor's list is read page by page,
 * whatever the number of domains), then takes the host lock (lock.c),
 * checks the name index below and holds the lock until its own name and
 * entry are in xenstore.  The scan runs before the lock: it costs a round
 * trip per domain, and held under the lock it made a boot storm of 200
 * guests wait for it one create at a time (bench/README.md).  Another
 * toolstack's create never took our lock, so the scan is as good outside
 * it; two xpt creates of one name both pass the scan, but the second to
 * get the lock finds the first's entry, checked, and refuses.
 *
 * Resolving a name reads one index node instead of every domain's name:
 * /xpt/names/<key> holds the id of the domain xpt created with that name
 * (key: the name with every byte outside [A-Za-z0-9_-] as @xx, xenstore's
 * path characters), written in the transaction that writes the name and
 * removed by destroy before the name goes.  It is a hint, checked on
 * every use: the domain must exist and /local/domain/<id>/name must be
 * the name.  A missing or stale entry (a domain another toolstack made,
 * one xl destroyed, a crash between the name and the index on a platform
 * whose build writes the name itself) costs the scan, which is what
 * answers then, duplicates refused.  Example: create "web" as domain 7
 * writes /xpt/names/web = "7"; `xpt pci-list web` reads it, reads
 * /local/domain/7/name ("web") and asks the hypervisor for domain 7:
 * three round trips with 1 or 1,000 domains.  xl destroy 7 leaves the
 * entry; the next lookup finds no domain 7 and scans.  Create's check
 * is still the scan, as it must see names no index holds; the index
 * only settles races between xpt creates.
 */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "libxpt.h"

#define MAX_DEVS 64

/* Every domain the hypervisor has, in id order; *ret malloc'ed. */
static int dom_list(struct xpt_ctx *c, struct xpt_pdom **ret,
		    size_t *ret_n)
{
	int r = xpt_dom_list_all(c, ret, ret_n);

	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "hypervisor: listing the "
				"domains: %s", strerror(-r));
	return 0;
}

static char *dom_name(struct xpt_ctx *c, unsigned int domid)
{
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	return xpt_xs_read(c, XBT_NULL, path);
}

/* The name a domain goes by: its xenstore name; else "Domain-0" for
 * dom0, else the name given to the hypervisor (a domain whose toolstack
 * has not written xenstore yet).  NULL only when out of memory. */
static char *known_name(struct xpt_ctx *c, const struct xpt_pdom *info)
{
	char *name = dom_name(c, info->domid);

	if (name)
		return name;
	return strndup(info->domid == 0 ? "Domain-0" : info->name,
		       sizeof(info->name) - 1);
}

/* /xpt/names/<key>: see the head comment. */
static void index_path(const char *name, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = (size_t)snprintf(buf, len, "/xpt/names/");
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p && o + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '@';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
}

/* The domain the index names for name, checked: 1 and *ret_domid, or 0
 * when there is no entry or it is stale. */
static int index_lookup(struct xpt_ctx *c, const char *name,
			unsigned int *ret_domid)
{
	char path[XPT_NAME_INDEX_PATH], *held;
	struct xpt_pdom info;
	int domid, ok;

	index_path(name, path, sizeof(path));
	if (xpt_xs_read_int(c, XBT_NULL, path, &domid) < 0 || domid < 0 ||
	    domid >= (int)XPT_DOMID_FIRST_RESERVED)
		return 0;
	held = dom_name(c, (unsigned int)domid);
	ok = held && !strcmp(held, name) &&
	     c->pf->dom_info(c, (unsigned int)domid, &info) == 0;
	free(held);
	if (ok)
		*ret_domid = (unsigned int)domid;
	return ok;
}

void xpt_name_index_write(struct xpt_ctx *c, struct xpt_txn *tx,
			  const char *name, unsigned int domid)
{
	char path[XPT_NAME_INDEX_PATH];

	/* its implicit parents take /'s permissions: dom0's alone */
	index_path(name, path, sizeof(path));
	xpt_txn_write(c, tx, path, "%u", domid);
}

/* After the build, still under the host lock: the entry, where the
 * platform's build wrote the name without it (libxl).  A create that
 * cannot write it fails: the next create of the name would not see it. */
static int index_claim(struct xpt_ctx *c, const char *name,
		       unsigned int domid)
{
	char path[XPT_NAME_INDEX_PATH];
	int held, r = 0;

	index_path(name, path, sizeof(path));
	if (xpt_xs_read_int(c, XBT_NULL, path, &held) < 0 ||
	    held != (int)domid)
		r = xpt_xs_write(c, XBT_NULL, path, "%u", domid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u (%s): writing "
				"%s: %s", domid, name, path, strerror(-r));
	return 0;
}

/* Before domid's name goes: its entry, if it is still domid's. */
static void index_forget(struct xpt_ctx *c, unsigned int domid)
{
	char path[XPT_NAME_INDEX_PATH], *name = dom_name(c, domid);
	int held;

	if (!name)
		return;
	index_path(name, path, sizeof(path));
	if (xpt_xs_read_int(c, XBT_NULL, path, &held) == 0 &&
	    held == (int)domid)
		xpt_xs_rm(c, XBT_NULL, path);
	free(name);
}

static int cmp_domid(const void *key, const void *elem)
{
	unsigned int a = *(const unsigned int *)key;
	unsigned int b = ((const struct xpt_pdom *)elem)->domid;

	return a < b ? -1 : a > b;
}

/*
 * Who holds name: a domain the hypervisor has, or the xenstore leftovers
 * of one it no longer has (/local/domain/<id>/name).  1 and *ret_domid,
 * *ret_leftover when held; 0 when free; <0 on failure.
 */
static int name_holder(struct xpt_ctx *c, const char *name,
		       unsigned int *ret_domid, bool *ret_leftover)
{
	struct xpt_pdom *list = NULL;
	char **ids = NULL, *held, *end;
	unsigned int nids = 0, i;
	unsigned long v;
	size_t n = 0;
	int r = dom_list(c, &list, &n);

	for (i = 0; r == 0 && i < n; i++) {
		held = known_name(c, &list[i]);
		if (!held) {
			r = -ENOMEM;
		} else if (!strcmp(held, name)) {
			*ret_domid = list[i].domid;
			*ret_leftover = false;
			r = 1;
		}
		free(held);
	}
	if (r == 0)
		ids = xs_directory(c->xs, XBT_NULL, "/local/domain", &nids);
	for (i = 0; r == 0 && ids && i < nids; i++) {
		errno = 0;
		v = strtoul(ids[i], &end, 10);
		if (errno || *end || !*ids[i] || v >= 0x7ff0)
			continue;
		if (bsearch(&(unsigned int){ (unsigned int)v }, list, n,
			    sizeof(*list), cmp_domid))
			continue;	/* seen above */
		held = dom_name(c, (unsigned int)v);
		if (held && !strcmp(held, name)) {
			*ret_domid = (unsigned int)v;
			*ret_leftover = true;
			r = 1;
		}
		free(held);
	}
	free(ids);
	free(list);
	return r;
}

static bool markers_name(struct xpt_ctx *c, unsigned int domid);

/* What `xpt destroy` still cleans of a domain the hypervisor does not
 * have: xpt's record, its xenstore nodes, its backend, devices marked for
 * it, and what a destroy that could not remove it named (/libxl/<id>,
 * pciback's error node). */
static bool leftovers(struct xpt_ctx *c, unsigned int domid)
{
	static const char *const nodes[] = {	/* + domid */
		"/local/domain/", "/local/domain/0/backend/pci/", "/libxl/",
		"/local/domain/0/error/backend/pci/",
	};
	char path[64];
	struct xpt_domcfg *d = malloc(sizeof(*d));
	bool known = d && xpt_domcfg_load(c, domid, d) == 0;
	size_t i;

	free(d);
	for (i = 0; !known && i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s%u", nodes[i], domid);
		known = xpt_xs_exists(c, XBT_NULL, path);
	}
	known = known || markers_name(c, domid);
	c->err[0] = '\0';
	return known;
}

/* What only an earlier domain of this id can have left, not the domain
 * build (which writes /local/domain/<id> and /libxl/<id>): xpt's record,
 * a pciback backend, devices marked for it. */
static bool earlier_records(struct xpt_ctx *c, unsigned int domid)
{
	char path[64];
	struct xpt_domcfg *d = malloc(sizeof(*d));
	bool known = d && xpt_domcfg_load(c, domid, d) == 0;

	free(d);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u", domid);
	known = known || xpt_xs_exists(c, XBT_NULL, path) ||
		markers_name(c, domid);
	c->err[0] = '\0';
	return known;
}

/* No running domain has the name; the xenstore nodes of one that is gone
 * (a destroy cut short after the hypervisor's part) may still carry it:
 * then `xpt destroy <id>` is what finishes. */
static int name_unknown(struct xpt_ctx *c, const char *name)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	unsigned int domid = 0;
	bool leftover = false, pending;

	pending = d && xpt_domcfg_pending_load(c, name, d) == 0;
	free(d);
	c->err[0] = '\0';
	if (pending)
		return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "no domain is "
				"named '%s': its reboot was cut short after the "
				"old domain went; `xpt reboot %s` finishes it, "
				"`xpt destroy %s` gives it up", name, name,
				name);
	if (name_holder(c, name, &domid, &leftover) == 1 && leftover)
		return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "no domain is "
				"named '%s', but the xenstore nodes of domain "
				"%u, which no longer runs, still carry the name "
				"(a destroy did not finish): remove them with "
				"`xpt destroy %u`", name, domid, domid);
	c->err[0] = '\0';
	return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "no domain is named "
			"'%s' (see `xpt list`)", name);
}

int xpt_domain_resolve(struct xpt_ctx *c, const char *dom,
		       unsigned int *ret_domid)
{
	struct xpt_pdom info, *list = NULL;
	const char *p;
	char *end, *name, path[64] = "";
	unsigned long v;
	size_t i, n = 0;
	int r = xpt_connect(c), found = -1;

	if (r < 0)
		return r;
	for (p = dom; *p && isdigit((unsigned char)*p); p++)
		;
	if (*dom && !*p) {
		/* A domain id, as xl reads one: the hypervisor's, or the
		 * xenstore leftovers of one destroy can still clean. */
		errno = 0;
		v = strtoul(dom, &end, 10);
		if (!errno && v < 0x7ff0)
			snprintf(path, sizeof(path), "/local/domain/%lu", v);
		if (errno || v >= 0x7ff0 ||
		    (c->pf->dom_info(c, (unsigned int)v, &info) < 0 &&
		     !xpt_xs_exists(c, XBT_NULL, path) &&
		     !leftovers(c, (unsigned int)v)))
			return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "domain "
					"%s does not exist (see `xpt list`)",
					dom);
		*ret_domid = (unsigned int)v;
		return 0;
	}
	if (index_lookup(c, dom, ret_domid))
		return 0;
	r = dom_list(c, &list, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		name = known_name(c, &list[i]);
		if (name && !strcmp(name, dom)) {
			if (found >= 0) {
				r = xpt_fail(c, XPT_EXIT_FAIL, -ENOTUNIQ,
					     "domains %d and %u are both named "
					     "'%s': use the domain id", found,
					     list[i].domid, dom);
				free(name);
				goto out;
			}
			found = (int)list[i].domid;
		}
		free(name);
	}
	if (found < 0) {
		/* the xenstore leftovers of a domain the hypervisor no
		 * longer has (a destroy or reboot cut short), which destroy
		 * and reboot can still finish, by name as by id */
		unsigned int left = 0;
		bool leftover = false;

		if (name_holder(c, dom, &left, &leftover) == 1 && leftover)
			found = (int)left;
		c->err[0] = '\0';
	}
	if (found < 0)
		r = name_unknown(c, dom);
	else
		*ret_domid = (unsigned int)found;
out:
	free(list);
	return r;
}

void xpt_make_uuid(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 36) {
		snprintf(buf, len, "00000000-0000-4000-8000-%012lx",
			 (unsigned long)getpid() ^ (unsigned long)xpt_now_ms());
		return;
	}
	buf[36] = '\0';
}

/* libxl__domain_make, kept small: the domain's directory owned by dom0
 * and readable by the guest, the guest's writable subdirectories, its
 * /vm/<uuid> and /libxl/<domid>; one transaction. */
int xpt_domain_nodes(struct xpt_ctx *c, unsigned int domid,
		     const struct xpt_cfg *cfg, const char *uuid)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE },
					{ domid, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { domid, XS_PERM_NONE } };
	struct xs_permissions none[1] = { { 0, XS_PERM_NONE } };
	static const char *const rodirs[] = { "device", "control", "memory" };
	static const char *const rwdirs[] = {
		"data", "drivers", "feature", "attr", "error", "control/shutdown",
	};
	unsigned long long kb = (unsigned long long)(cfg->memory_mb ?
						      cfg->memory_mb : 128) * 1024;
	struct xpt_txn tx = XPT_TXN_INIT;
	char dom[64], vm[96], p[160];
	size_t i;
	int r;

	snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
	snprintf(vm, sizeof(vm), "/vm/%s", uuid);
	do {
		r = xpt_txn_begin(c, &tx);
		if (r < 0)
			break;
		xpt_txn_rm(c, &tx, dom);
		xpt_txn_mkdir(c, &tx, dom, ro, 2);
		xpt_txn_rm(c, &tx, vm);
		xpt_txn_mkdir(c, &tx, vm, ro, 2);
		for (i = 0; i < sizeof(rodirs) / sizeof(rodirs[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dom, rodirs[i]);
			xpt_txn_mkdir(c, &tx, p, ro, 2);
		}
		for (i = 0; i < sizeof(rwdirs) / sizeof(rwdirs[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dom, rwdirs[i]);
			xpt_txn_mkdir(c, &tx, p, rw, 1);
		}
		snprintf(p, sizeof(p), "%s/name", dom);
		xpt_txn_write(c, &tx, p, "%s", cfg->name);
		snprintf(p, sizeof(p), "%s/domid", dom);
		xpt_txn_write(c, &tx, p, "%u", domid);
		snprintf(p, sizeof(p), "%s/vm", dom);
		xpt_txn_write(c, &tx, p, "%s", vm);
		snprintf(p, sizeof(p), "%s/memory/target", dom);
		xpt_txn_write(c, &tx, p, "%llu", kb);
		snprintf(p, sizeof(p), "%s/memory/static-max", dom);
		xpt_txn_write(c, &tx, p, "%llu", kb);
		xpt_name_index_write(c, &tx, cfg->name, domid);
		snprintf(p, sizeof(p), "%s/name", vm);
		xpt_txn_write(c, &tx, p, "%s", cfg->name);
		snprintf(p, sizeof(p), "%s/uuid", vm);
		xpt_txn_write(c, &tx, p, "%s", uuid);
		snprintf(p, sizeof(p), "/libxl/%u", domid);
		xpt_txn_rm(c, &tx, p);
		xpt_txn_mkdir(c, &tx, p, none, 1);
		snprintf(p, sizeof(p), "/libxl/%u/type", domid);
		xpt_txn_write(c, &tx, p, "%s", cfg->type[0] ? cfg->type :
			      "pv");
	} while ((r = xpt_txn_end(c, &tx)) == 1);
	return r;
}

/* Some /libxl/pci marker still reserves a device for domid. */
static bool markers_name(struct xpt_ctx *c, unsigned int domid)
{
	uint32_t sbdf;
	size_t n = 0;

	return xpt_dev_marked(c, domid, &sbdf, 1, &n) == 0 && n;
}

/* /libxl/<domid>/type: written by xpt's domain build and by libxl's;
 * "" when there is none.  A store that fails the read is an error, not
 * a PV domain: an operation that went on would take the wrong path. */
int xpt_domain_type(struct xpt_ctx *c, unsigned int domid, char *buf,
		    size_t len)
{
	char path[64], *v;

	snprintf(path, sizeof(path), "/libxl/%u/type", domid);
	v = xpt_xs_read(c, XBT_NULL, path);
	if (!v && errno != ENOENT && errno != EACCES)
		return xpt_fail(c, XPT_EXIT_FAIL, errno ? -errno : -EIO,
				"domain %u: cannot read its type (%s): %s; "
				"nothing was changed, try again", domid, path,
				strerror(errno ? errno : EIO));
	snprintf(buf, len, "%s", v ? v : "");
	free(v);
	return 0;
}

bool xpt_domain_type_is(struct xpt_ctx *c, unsigned int domid,
			const char *type)
{
	char buf[16];
	char saved[sizeof(c->err)];
	int code = c->exit_code;
	bool is;

	memcpy(saved, c->err, sizeof(saved));
	is = xpt_domain_type(c, domid, buf, sizeof(buf)) == 0 &&
	     !strcmp(buf, type);
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = code;
	return is;
}

/*
 * Does the store still have the domain introduced?  C xenstored releases
 * a domain itself once the hypervisor says it is dying (check_domains on
 * VIRQ_DOM_EXC), so on Xen the domain is usually gone by the time destroy
 * gets here, and a RELEASE would only be answered ENOENT: a failed request
 * in every trace of a destroy.  IS_DOMAIN_INTRODUCED answers "F" exactly
 * when RELEASE would find no domain, in C xenstored 4.17 and in
 * xpt-xenstored alike.  When the question itself fails the answer is yes:
 * a RELEASE too many costs an ENOENT, one too few leaves the domain's
 * connection in the store.
 */
static bool store_has_domain(struct xpt_ctx *c, unsigned int domid)
{
	errno = 0;
	return xs_is_domain_introduced(c->xs, domid) || errno;
}

void xpt_domain_forget(struct xpt_ctx *c, unsigned int domid)
{
	static const char *const nodes[] = {	/* + domid; its name last */
		"/libxl/", "/local/domain/0/error/backend/pci/", "/local/domain/",
	};
	char path[160], *vm;
	bool keep = false;	/* /local/domain/<id>: what finds it again */
	size_t i;
	int r;

	index_forget(c, domid);
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	vm = xpt_xs_read(c, XBT_NULL, path);
	if (vm && !strncmp(vm, "/vm/", 4) &&
	    (r = xpt_xs_rm(c, XBT_NULL, vm)) < 0) {
		xpt_warn(c, "domain %u: cannot remove %s: %s; `xpt destroy %u` "
			 "again removes it", domid, vm, strerror(-r), domid);
		keep = true;
	} else if (!vm && errno != ENOENT) {
		xpt_warn(c, "domain %u: cannot read %s: %s; `xpt destroy %u` "
			 "again removes its /vm node", domid, path,
			 strerror(errno), domid);
		keep = true;
	}
	free(vm);
	/* an introduced domain's connection stays in the store until
	 * released: not done is said, and the next destroy does it */
	if (store_has_domain(c, domid) && !xs_release_domain(c->xs, domid) &&
	    errno != ENOENT) {
		xpt_warn(c, "domain %u: xenstore did not release it: %s; `xpt "
			 "destroy %u` again releases it", domid, strerror(errno),
			 domid);
		keep = true;
	}
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]) - keep; i++) {
		snprintf(path, sizeof(path), "%s%u", nodes[i], domid);
		r = xpt_xs_rm(c, XBT_NULL, path);
		if (r < 0)
			xpt_warn(c, "domain %u: cannot remove %s: %s; `xpt "
				 "destroy %u` again removes it", domid, path,
				 strerror(-r), domid);
	}
}

/* Everything of a domain goes, whatever state it is in.  Caller holds
 * the lock (or the domain is ours alone, during create).  Returns 0, or
 * <0 with what was left (and how to finish it) as the context's error
 * when there was none before. */
static int destroy_locked(struct xpt_ctx *c, unsigned int domid)
{
	char saved[sizeof(c->err)], path[160], type[16];
	int saved_code = c->exit_code, r, ret = 0;
	char left[512], fail[768] = "";
	int stub;

	memcpy(saved, c->err, sizeof(saved));
	c->err[0] = '\0';
	/* the guest stops first, as libxl's destroy does: it gets no say
	 * in what follows, so a dead, hung or paused frontend costs nothing
	 * and a live one is not waited for (its devices are reset and
	 * deassigned whatever its drivers did) */
	c->pf->dom_pause(c, domid);
	xpt_delay_point(c, "destroy.paused");
	/* an HVM guest's device model goes first: its devices are then
	 * taken without asking it (a hung or dead one cannot stall us);
	 * a type that cannot be read may be HVM's, and one whose record
	 * the store lost is found by its device model still running */
	if (xpt_domain_type(c, domid, type, sizeof(type)) < 0 ||
	    !strcmp(type, "hvm") || xpt_dm_lingers(c, domid)) {
		c->err[0] = '\0';
		xpt_dm_kill(c, domid);
		xpt_delay_point(c, "destroy.dm-killed");
		r = xpt_stubdom_destroy(c, domid, &stub);
		if (r < 0) {
			ret = r;
			xpt_fail_append(fail, sizeof(fail), "domain %u: its "
					"stub domain %d was not destroyed: %s; "
					"run `xpt destroy %d`", domid, stub,
					strerror(-r), stub);
		}
	}
	xpt_trace(c, "domain %u: destroy", domid);
	r = xpt_pci_destroy_all(c, domid, left, sizeof(left));
	if (r < 0) {
		ret = r;
		xpt_fail_append(fail, sizeof(fail), "domain %u: destroyed, "
				"but its devices were not all released: %s; "
				"they stay reserved for domain %u: run `xpt "
				"destroy %u` again once that is fixed", domid,
				left, domid, domid);
	}
	/* the domain first: its own toolstack's records (libxl's under
	 * /libxl/<id>) are what its destroy reads */
	xpt_delay_point(c, "destroy.released");
	r = c->pf->dom_destroy(c, domid);
	xpt_delay_point(c, "destroy.domain-gone");
	if (r < 0 && r != -ESRCH) {
		ret = r;
		xpt_fail_append(fail, sizeof(fail), "domain %u: the "
				"hypervisor did not destroy it: %s; run `xpt "
				"destroy %u` again", domid, strerror(-r),
				domid);
	}
	/* what finds the domain again goes last: its configuration and
	 * lock file first, its name (/local/domain/<id>, forget's last) at
	 * the end, so that a destroy cut short is finished by name too */
	xpt_domcfg_remove(c, domid);
	if (xpt_path(c, path, sizeof(path), "xpt/lock/%u", domid) == 0)
		unlink(path);
	xpt_domain_forget(c, domid);
	xpt_delay_point(c, "destroy.forgotten");
	xpt_trace(c, "domain %u: destroyed", domid);
	memcpy(c->err, saved, sizeof(saved));
	c->exit_code = saved_code;
	if (ret < 0)	/* a warning when an earlier failure is the message */
		xpt_fail(c, XPT_EXIT_FAIL, ret, "%s", fail);
	return ret;
}

/* An HVM guest's device model runs (QMP cont) before the guest's vCPUs
 * do: its first config-space read finds the devices (the stub-domain
 * startup lesson, docs/protocol.md §10). */
static int dm_cont(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_qmp *q = NULL;
	char err[256];
	int r = xpt_dm_connect(c, domid, &q);

	if (r < 0)
		return r;
	r = xpt_qmp_exec(q, "cont", NULL, xpt_wait_ms(c, XPT_WAIT_MS), NULL,
			 err, sizeof(err));
	xpt_qmp_close(q);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its device "
				"model did not start running (QMP cont: %s): the "
				"guest stays paused", domid, err[0] ? err :
				strerror(-r));
	return 0;
}

static int start_guest_locked(struct xpt_ctx *c, struct xpt_domcfg *d)
{
	/* a device model the platform started runs already (libxl's QEMU
	 * has no -S), as one in a stub domain does; ours waits for cont */
	int r = strcmp(d->cfg.type, "hvm") || !c->pf->dm_spawn ||
		d->cfg.stubdomain ? 0 : dm_cont(c, d->domid);

	if (r < 0)
		return r;
	xpt_delay_point(c, "boot.before-boot");
	r = c->pf->dom_boot(c, d->domid);

	if (r < 0)
		return c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "domain "
						"%u: boot: %s", d->domid,
						strerror(-r));
	xpt_delay_point(c, "boot.booted");
	d->started = true;
	return xpt_domcfg_save(c, d);
}

/* The domain's kernel was booted: so its record says, or, without a
 * record (not created by xpt, or a create cut short before it wrote
 * one), its kernel runs. */
static bool ever_started(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	int kernel = c->pf->dom_kernel(c, domid);
	bool started = kernel != 0;	/* unknown: say nothing new */

	if (d && xpt_domcfg_load(c, domid, d) == 0)
		started = d->started || kernel > 0;
	c->err[0] = '\0';
	c->exit_code = 0;
	free(d);
	return started;
}

/* Refuse a name an xpt create took since our scan (under the host
 * lock): its entry, checked. */
static int name_unclaimed(struct xpt_ctx *c, const char *name)
{
	unsigned int domid;

	if (!index_lookup(c, name, &domid))
		return 0;
	return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "a domain named '%s' "
			"already exists (domain %u; see `xpt list`)", name,
			domid);
}

/* Refuse a name in use: the scan. */
static int name_free(struct xpt_ctx *c, const char *name)
{
	unsigned int domid = 0;
	bool leftover = false;
	int r = name_holder(c, name, &domid, &leftover);

	if (r < 0)
		return c->err[0] ? r : xpt_fail(c, XPT_EXIT_FAIL, r, "%s: "
						"checking the domain names: %s",
						name, strerror(-r));
	if (r == 0)
		return 0;
	if (leftover)
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "the name '%s' is "
				"still held by the xenstore nodes of domain %u, "
				"which no longer runs: remove them with `xpt "
				"destroy %u`, or choose another name", name,
				domid, domid);
	if (!ever_started(c, domid))
		return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "a domain named "
				"'%s' already exists (domain %u, never started: "
				"created paused, or its create was cut short): "
				"remove it with `xpt destroy %u`, or choose "
				"another name", name, domid, domid);
	return xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "a domain named '%s' "
			"already exists (domain %u; see `xpt list`)", name,
			domid);
}

/* held_host: the host lock when the caller holds it (reboot), else -1. */
static int domain_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			 bool paused, int held_host, unsigned int *ret_domid)
{
	struct xpt_domcfg *d = NULL;
	struct xpt_dev *devs = NULL;
	uint32_t sbdfs[MAX_DEVS];
	int devlock[MAX_DEVS];
	char left[512], stubname[72];
	size_t ndev = 0, i, n;
	unsigned int domid = 0;
	char why[256];
	int r, lock = -1, host = -1;
	bool pt, made = false, hvm = !strcmp(cfg->type, "hvm");
	bool pvh = !strcmp(cfg->type, "pvh");

	for (i = 0; i < MAX_DEVS; i++)
		devlock[i] = -1;
	r = xpt_pvh_refuse_cfg(c, cfg);
	if (r == 0)
		r = xpt_connect(c);
	if (r < 0)
		return r;
	if (xpt_cfg_check(cfg, why, sizeof(why)) < 0)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%s", why);
	if (cfg->type[0] && strcmp(cfg->type, "pv") &&
	    strcmp(cfg->type, "hvm") && !pvh)
		return xpt_fail(c, XPT_EXIT_FAIL, -EOPNOTSUPP, "%s: type=\"%s\" "
				"is not supported yet: xpt runs PV, HVM and PVH "
				"guests", cfg->name, cfg->type);
	if (!strcmp(cfg->passthrough, "disabled") && cfg->npci)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "%s: passthrough="
				"\"disabled\" but pci=[...] lists %zu device(s)",
				cfg->name, cfg->npci);
	d = calloc(1, sizeof(*d));
	devs = calloc(MAX_DEVS, sizeof(*devs));
	if (!d || !devs) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "%s: out of memory",
			     cfg->name);
		goto out;
	}
	d->cfg = *cfg;
	d->cfg.npci = 0;
	for (i = 0; i < cfg->npci; i++) {
		r = xpt_dev_expand(c, &cfg->pci[i], devs + ndev,
				   MAX_DEVS - ndev, &n);
		if (r < 0)
			goto out;
		ndev += n;
	}
	if (pvh && xpt_pvh_check_devs(c, cfg->name, devs, ndev) < 0) {
		r = -EOPNOTSUPP;
		goto out;
	}
	for (i = 0; i < ndev; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (devs[j].sbdf == devs[i].sbdf) {
				char bdf[16];

				xpt_format_bdf(devs[i].sbdf, bdf, sizeof(bdf));
				r = xpt_fail(c, XPT_EXIT_USAGE, -EINVAL,
					     "%s: %s is listed twice in "
					     "pci=[...]", cfg->name, bdf);
				goto out;
			}
		d->cfg.pci[d->cfg.npci] = devs[i].spec;
		if (devs[i].spec.name[0]) {
			/* kept as name=, as given: a reboot resolves it */
			d->cfg.pci[d->cfg.npci].has_bdf = false;
			d->cfg.pci[d->cfg.npci].sbdf = 0;
			d->cfg.pci[d->cfg.npci].func_mask = 0;
		}
		snprintf(d->cfg.pci_text[d->cfg.npci],
			 sizeof(d->cfg.pci_text[0]), "%s", "");
		d->cfg.npci++;
	}
	pt = ndev || !strcmp(cfg->passthrough, "enabled") ||
	     !strcmp(cfg->passthrough, "sync_pt") ||
	     !strcmp(cfg->passthrough, "share_pt");
	/* The scan, then under the host lock the index, until the name
	 * and its entry are in xenstore (the head comment). */
	r = name_free(c, cfg->name);
	if (r == 0 && cfg->stubdomain) {
		/* before the build: on Xen, libxl builds <name>-dm with it */
		snprintf(stubname, sizeof(stubname), "%.60s-dm", cfg->name);
		r = name_free(c, stubname);
	}
	if (r == 0)
		r = held_host >= 0 ? 0 : xpt_lock_host(c, &host);
	if (r == 0)
		r = name_unclaimed(c, cfg->name);
	if (r == 0 && cfg->stubdomain)
		r = name_unclaimed(c, stubname);
	if (r < 0)
		goto out;
	xpt_delay_point(c, "create.after-name-check");
	xpt_make_uuid(d->uuid, sizeof(d->uuid));
	r = c->pf->dom_create(c, cfg, d->uuid, pt, &domid);
	if (r < 0) {
		if (!c->err[0])
			xpt_fail(c, XPT_EXIT_FAIL, r, "%s: cannot create the "
				 "domain: %s", cfg->name, strerror(-r));
		goto out;
	}
	if (earlier_records(c, domid)) {
		/* A hypervisor that counts ids from the start again (it was
		 * restarted) gave an id an earlier domain's records still
		 * name: taking them over would give this guest its devices.
		 * Only the new domain goes. */
		c->pf->dom_destroy(c, domid);
		r = xpt_fail(c, XPT_EXIT_FAIL, -EEXIST, "%s: the hypervisor "
			     "gave domain id %u, but the store still holds "
			     "what an earlier domain %u left (the hypervisor "
			     "was restarted?): `xpt destroy %u` removes it; "
			     "then create again", cfg->name, domid, domid,
			     domid);
		goto out;
	}
	made = true;
	d->domid = domid;
	r = index_claim(c, cfg->name, domid);
	if (r == 0)
		xpt_delay_point(c, "create.built");
	if (r == 0 && cfg->stubdomain)
		r = xpt_stubdom_build(c, cfg, domid);
	if (r < 0)
		goto out;
	r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		goto out;
	xpt_unlock(host);	/* the name is taken for all to see */
	host = -1;
	r = xpt_domcfg_save(c, d);
	if (r < 0)
		goto out;
	xpt_delay_point(c, "create.recorded");
	for (i = 0; i < ndev; i++)
		sbdfs[i] = devs[i].sbdf;
	r = xpt_lock_devices(c, sbdfs, ndev, devlock);
	if (r < 0)
		goto out;
	r = xpt_dev_prepare(c, domid, devs, ndev);
	if (r < 0)
		goto out;
	if (hvm) {
		/* the device model, ready and paused, gets every device
		 * before the guest's first instruction */
		struct xpt_qmp *q = NULL;

		/* the platform's own device model with nothing to add: the
		 * platform's build waited for it (libxl: state "running") */
		if (cfg->stubdomain)
			r = xpt_stubdom_start(c, domid, &q);
		else
			r = !ndev && !c->pf->dm_spawn ? 0 :
			    xpt_dm_start(c, domid, NULL,
					 xpt_wait_ms(c, XPT_DM_START_MS), &q);
		if (r == 0 && ndev)
			r = xpt_stubdom_pci_add(c, domid, q, devs, ndev);
		xpt_qmp_close(q);
	} else if (!pvh) {
		r = xpt_pci_coldplug(c, domid, cfg->name, devs, ndev);
	}	/* a PVH guest's vPCI has its devices since the assign */
	if (r < 0) {
		xpt_dev_release(c, domid, devs, ndev, left, sizeof(left));
		goto out;
	}
	xpt_delay_point(c, "create.plugged");
	if (!hvm && !pvh)
		xpt_dev_permissive(c, domid, devs, ndev);
	if (!paused) {
		xpt_delay_point(c, "create.before-unpause");
		r = start_guest_locked(c, d);
		if (r < 0)
			goto out;
		/* the guest's pcifront connects on its own time, as with
		 * libxl; pci-list and list show a backend that failed */
	}
	*ret_domid = domid;
	xpt_domcfg_pending_remove(c, cfg->name);	/* a reboot's: done */
	r = 0;
out:
	if (r < 0 && made)
		destroy_locked(c, domid);
	xpt_unlock_devices(devlock, ndev);
	xpt_unlock(lock);
	xpt_unlock(host);
	free(devs);
	free(d);
	return r;
}

int xpt_domain_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
		      bool paused, unsigned int *ret_domid)
{
	return domain_create(c, cfg, paused, -1, ret_domid);
}

int xpt_domain_destroy(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_pdom info;
	char *name;
	int r, lock = -1;

	r = xpt_connect(c);
	if (r < 0)
		return r;
	if (domid == 0)
		return xpt_fail(c, XPT_EXIT_USAGE, -EINVAL, "domain 0 cannot "
				"be destroyed");
	r = xpt_stubdom_refuse(c, domid, "destroy");
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r < 0)
		return r;
	if (c->pf->dom_info(c, domid, &info) == -ESRCH &&
	    !leftovers(c, domid)) {
		char lockpath[PATH_MAX];

		/* the lock file this call made goes with it */
		if (xpt_path(c, lockpath, sizeof(lockpath), "xpt/lock/%u",
			     domid) == 0)
			unlink(lockpath);
		xpt_unlock(lock);
		return xpt_fail(c, XPT_EXIT_NOTFOUND, -ESRCH, "domain %u does "
				"not exist (see `xpt list`)", domid);
	}
	name = dom_name(c, domid);
	r = destroy_locked(c, domid);
	if (r == 0 && name)	/* a reboot of it cut short: given up */
		xpt_domcfg_pending_remove(c, name);
	free(name);
	xpt_unlock(lock);
	return r;
}

static int nomem(struct xpt_ctx *c, unsigned int domid)
{
	return xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "domain %u: out of memory",
			domid);
}

int xpt_domain_pause(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	int r = d ? xpt_connect(c) : nomem(c, domid), lock = -1;

	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0)
		r = c->pf->dom_pause(c, domid);
	if (r < 0 && lock >= 0)
		r = xpt_fail(c, r == -ESRCH ? XPT_EXIT_NOTFOUND :
			     XPT_EXIT_FAIL, r, "domain %u: pause: %s", domid,
			     strerror(-r));
	xpt_unlock(lock);
	free(d);
	return r;
}

int xpt_domain_unpause(struct xpt_ctx *c, unsigned int domid)
{
	struct xpt_domcfg *d = calloc(1, sizeof(*d));
	int r = d ? xpt_connect(c) : nomem(c, domid), lock = -1;

	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r < 0) {
		free(d);
		return r;
	}
	if (xpt_domcfg_load(c, domid, d) == 0 && !d->started &&
	    c->pf->dom_kernel(c, domid) <= 0) {
		r = start_guest_locked(c, d);	/* first boot */
	} else {
		c->err[0] = '\0';
		r = c->pf->dom_unpause(c, domid);
		if (r < 0)
			r = xpt_fail(c, r == -ESRCH ? XPT_EXIT_NOTFOUND :
				     XPT_EXIT_FAIL, r, "domain %u: unpause: "
				     "%s", domid, r == -EINVAL ? "it is not "
				     "paused" : strerror(-r));
	}
	xpt_unlock(lock);
	free(d);
	return r;
}

static int recreate(struct xpt_ctx *c, struct xpt_domcfg *d, int host,
		    unsigned int *ret_domid);

/* The reboot record of the name the domain has (a domain without its own
 * record, made by a reboot cut short before it wrote one). */
static int pending_of(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_domcfg *ret)
{
	char *name = dom_name(c, domid);
	int r = name ? xpt_domcfg_pending_load(c, name, ret) : -ENOENT;

	free(name);
	return r;
}

/* The host lock is held throughout: nobody takes the name between the
 * destroy and the create. */
int xpt_domain_reboot(struct xpt_ctx *c, unsigned int domid,
		      unsigned int *ret_domid)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	int r = d ? xpt_connect(c) : nomem(c, domid), lock = -1, host = -1;
	char why[256];

	if (r == 0)
		r = xpt_stubdom_refuse(c, domid, "reboot");
	if (r == 0)
		r = xpt_lock_host(c, &host);
	if (r == 0)
		r = xpt_lock_domain(c, domid, &lock);
	if (r == 0) {
		r = xpt_domcfg_load(c, domid, d);
		if (r == -ENOENT)	/* made by a reboot cut short? */
			r = pending_of(c, domid, d);
		if (r == -ENOENT)
			r = xpt_fail(c, XPT_EXIT_NOTFOUND, r, "domain %u: no "
				     "configuration recorded (not created by "
				     "xpt, gone, or its creation was cut "
				     "short): cannot reboot it; `xpt destroy "
				     "%u` removes it", domid, domid);
	}
	if (r == 0 && xpt_cfg_check(&d->cfg, why, sizeof(why)) < 0)
		r = xpt_fail(c, XPT_EXIT_FAIL, -EINVAL, "domain %u: its "
			     "recorded configuration cannot be created again "
			     "(%s); it was left as it is", domid, why);
	/* from here until the new domain is made, the record by name is
	 * what lets `xpt reboot NAME` finish a reboot cut short */
	if (r == 0)
		r = xpt_domcfg_pending_save(c, d);
	if (r == 0)
		r = destroy_locked(c, domid);
	if (r == 0) {
		xpt_delay_point(c, "reboot.destroyed");
		xpt_unlock(lock);
		lock = -1;
		r = recreate(c, d, host, ret_domid);
	}
	xpt_unlock(lock);
	xpt_unlock(host);
	free(d);
	return r;
}

/* The new domain of a reboot whose old one is gone; a failure keeps the
 * reboot's record, so it can be tried again. */
static int recreate(struct xpt_ctx *c, struct xpt_domcfg *d, int host,
		    unsigned int *ret_domid)
{
	int r = domain_create(c, &d->cfg, false, host, ret_domid);

	if (r < 0)
		xpt_fail_more(c, "the old domain is gone: `xpt reboot %s` tries "
			      "again, `xpt destroy %s` gives it up",
			      d->cfg.name, d->cfg.name);
	return r;
}

int xpt_domain_reboot_pending(struct xpt_ctx *c, const char *name,
			      bool finish, unsigned int *ret_domid)
{
	struct xpt_domcfg *d = malloc(sizeof(*d));
	struct xpt_pdom info;
	unsigned int holder = 0;
	bool leftover = false;
	int r = d ? xpt_connect(c) : nomem(c, 0), lock = -1, host = -1;

	if (r == 0)
		r = xpt_lock_host(c, &host);
	if (r == 0)
		r = xpt_domcfg_pending_load(c, name, d);
	/* none, or a domain has the name again: nothing to finish */
	if (r == -ENOENT || (r == 0 && name_holder(c, name, &holder,
						     &leftover) == 1 &&
			     !leftover)) {
		c->err[0] = '\0';
		c->exit_code = 0;
		r = -ENOENT;
		goto out;
	}
	/* what the old domain left, unless its id is another's by now */
	if (r == 0)
		r = xpt_lock_domain(c, d->domid, &lock);
	if (r == 0 && c->pf->dom_info(c, d->domid, &info) == -ESRCH &&
	    leftovers(c, d->domid))
		r = destroy_locked(c, d->domid);
	xpt_unlock(lock);
	if (r == 0 && finish) {
		r = recreate(c, d, host, ret_domid);
	} else if (r == 0) {
		xpt_domcfg_pending_remove(c, name);
		xpt_warn(c, "'%s': its reboot had been cut short after the old "
			 "domain %u went; it is given up", name, d->domid);
	}
out:
	xpt_unlock(host);
	free(d);
	return r;
}

/* The state `xpt list` shows: the hypervisor's, except that a domain
 * whose kernel was started and is gone (killed, crashed) is "crashed",
 * as xl shows a crashed domain, not "running". */
static void list_state(const struct xpt_pdom *info,
		       const struct xpt_domain_info *o, bool started,
		       char *buf, size_t len)
{
	static const char *const states[] = {
		[XPT_DOM_PAUSED] = "paused", [XPT_DOM_RUNNING] = "running",
		[XPT_DOM_SHUTDOWN] = "shutdown", [XPT_DOM_DYING] = "dying",
	};
	bool live = info->state == XPT_DOM_PAUSED ||
		    info->state == XPT_DOM_RUNNING;

	if (o->domid && live && started && !o->kernel_alive)
		snprintf(buf, len, "crashed");
	else
		snprintf(buf, len, "%s", info->state <= XPT_DOM_DYING ?
			 states[info->state] : "?");
}

/* A PCI backend that is Closing/Closed or has an error node: the guest
 * has lost its devices whatever the entries say. */
static void pci_health(struct xpt_ctx *c, struct xpt_domain_info *o)
{
	char path[96];
	int st;

	o->pci_backend[0] = o->pci_error[0] = '\0';
	if (!o->domid)
		return;
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 o->domid);
	if (xpt_xs_read_int(c, XBT_NULL, path, &st) < 0)
		return;
	snprintf(o->pci_backend, sizeof(o->pci_backend), "%s",
		 st == XenbusStateClosing ? "closing" :
		 st == XenbusStateClosed ? "closed" : "");
	if (xpt_be_error_node(c, o->domid, o->pci_error,
			      sizeof(o->pci_error)) < 0)
		o->pci_error[0] = '\0';
}

/* list is in id order (dom_list): a search, not a walk, as `xpt list`
 * asks once per store entry, which made it quadratic in the domains */
static bool in_list(const struct xpt_pdom *list, size_t n, unsigned long id)
{
	unsigned int key = (unsigned int)id;

	return id == key && bsearch(&key, list, n, sizeof(*list), cmp_domid);
}

/* What a restarted store or hypervisor left behind, as warnings: a
 * domain the store forgot (its backend and devices are gone from every
 * guest's view) and store records of a domain the hypervisor does not
 * have.  `xpt destroy ID` cleans both. */
struct orphans {
	unsigned long id[64];
	unsigned int n;
};

static void orphan(struct xpt_ctx *c, struct orphans *o, unsigned long id)
{
	unsigned int i;

	for (i = 0; i < o->n; i++)
		if (o->id[i] == id)
			return;
	if (o->n < 64)
		o->id[o->n++] = id;
	xpt_warn(c, "domain %lu is recorded but the hypervisor does not have "
		 "it (the hypervisor was restarted, or a destroy was cut "
		 "short?): `xpt destroy %lu` removes what is left of it", id,
		 id);
}

/* What xpt_domain_list read of each domain's own record, so that the
 * checks below need not load it again (a file and a JSON parse per
 * domain, two thirds of `xpt list`'s instructions with 1,000 domains). */
struct recorded {
	bool started;		/* loaded, and says it was started */
	char name[65];		/* its name, if so */
};

static void list_orphans(struct xpt_ctx *c, const struct xpt_pdom *list,
			 size_t n, const struct recorded *rec)
{
	char dir[PATH_MAX], **ents;
	struct orphans o = { .n = 0 };
	struct dirent *de;
	DIR *dp;
	static const char *const dirs[] = {
		"/local/domain", "/local/domain/0/backend/pci",
	};
	char path[64], *end;
	unsigned int ne, j;
	unsigned long id;
	size_t i, k;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u",
			 list[i].domid);
		if (list[i].domid && rec[i].started &&
		    !xpt_xs_exists(c, XBT_NULL, path))
			xpt_warn(c, "domain %u (%s) has no records in the store "
				 "(xenstored was restarted?): its devices are "
				 "lost to it; `xpt destroy %u` removes it and "
				 "gives them back", list[i].domid, rec[i].name,
				 list[i].domid);
	}
	c->err[0] = '\0';
	for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		ents = xs_directory(c->xs, XBT_NULL, dirs[k], &ne);

		for (j = 0; ents && j < ne; j++) {
			id = strtoul(ents[j], &end, 10);
			if (*end || end == ents[j] || !id || in_list(list, n, id))
				continue;
			/* the backend of one already named */
			snprintf(path, sizeof(path), "/local/domain/%lu", id);
			if (k && xpt_xs_exists(c, XBT_NULL, path))
				continue;
			orphan(c, &o, id);
		}
		free(ents);
	}
	/* devices still marked for a domain that is gone */
	ents = xs_directory(c->xs, XBT_NULL, "/libxl/pci", &ne);
	for (j = 0; ents && j < ne; j++) {
		char mpath[96], *v;

		snprintf(mpath, sizeof(mpath), "/libxl/pci/%s/domid", ents[j]);
		v = xpt_xs_read(c, XBT_NULL, mpath);
		id = v ? strtoul(v, &end, 10) : 0;
		if (v && !*end && end != v && id && id < XPT_DOMID_IO &&
		    !in_list(list, n, id))
			orphan(c, &o, id);
		free(v);
	}
	free(ents);
	c->err[0] = '\0';
	/* xpt's own records (a store restarted as well) */
	if (xpt_path(c, dir, sizeof(dir), "xpt/domains") == 0 &&
	    (dp = opendir(dir))) {
		while ((de = readdir(dp))) {
			id = strtoul(de->d_name, &end, 10);
			snprintf(path, sizeof(path), "/local/domain/%lu", id);
			if (end != de->d_name && !strcmp(end, ".json") && id &&
			    !in_list(list, n, id) &&
			    !xpt_xs_exists(c, XBT_NULL, path))
				orphan(c, &o, id);
		}
		closedir(dp);
	}
}

/* Devices in a domain's backend that pciback does not hold at all: it
 * was restarted (as a module reload, it forgot what it had seized), and
 * the guest lost them; a forced detach and an attach give them back.
 * (An attach seizes first and a detach releases last, so no operation
 * in progress looks like this.) */
static void list_unheld(struct xpt_ctx *c, const struct xpt_pdom *list,
			size_t n)
{
	struct xpt_pb_dev *pb = calloc(XPT_PB_MAX, sizeof(*pb));
	struct xpt_be *b = malloc(sizeof(*b));
	size_t npb = 0, j, k;
	unsigned int ne = 0, i;
	char bdf[16], **ents = NULL;

	if (!pb || !b || c->pf->pb_list(c, pb, XPT_PB_MAX, &npb) < 0)
		goto out;
	/* the domains with a backend, in one request: a read of each
	 * domain's (and the clearing of a struct xpt_be) cost a quarter of
	 * `xpt list` with 1,000 device-less guests */
	ents = xs_directory(c->xs, XBT_NULL, "/local/domain/0/backend/pci",
			    &ne);
	for (i = 0; ents && i < ne; i++) {
		unsigned long v;
		unsigned int id;
		char *end;

		errno = 0;
		v = strtoul(ents[i], &end, 10);
		if (errno || *end || end == ents[i] || !v ||
		    !in_list(list, n, v))
			continue;	/* list_orphans' business */
		id = (unsigned int)v;
		if (xpt_be_read(c, XBT_NULL, id, b) < 0 || !b->exists)
			continue;
		for (j = 0; j < b->n; j++) {
			if (!b->e[j].valid || b->e[j].beyond)
				continue;
			for (k = 0; k < npb && pb[k].sbdf != b->e[j].sbdf; k++)
				;
			if (k < npb)
				continue;
			xpt_format_bdf(b->e[j].sbdf, bdf, sizeof(bdf));
			xpt_warn(c, "domain %u: pciback does not hold %s "
				 "(xpt-pciback was restarted?): the guest has "
				 "lost it; `xpt pci-detach -f %u %s`, then "
				 "`xpt pci-attach %u %s` give it back", id,
				 bdf, id, bdf, id, bdf);
		}
	}
out:
	c->err[0] = '\0';
	free(ents);
	free(pb);
	free(b);
}

int xpt_domain_list(struct xpt_ctx *c, struct xpt_domain_info **ret,
		    size_t *ret_n)
{
	struct xpt_pdom *list = NULL;
	struct xpt_domain_info *out = NULL;
	struct recorded *rec = NULL;
	struct xpt_domcfg *d = NULL;
	size_t i, n = 0;
	char *name;
	int r = xpt_connect(c);

	if (r == 0)
		r = dom_list(c, &list, &n);
	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	rec = calloc(n ? n : 1, sizeof(*rec));
	d = malloc(sizeof(*d));
	if (!out || !rec || !d) {
		r = xpt_fail(c, XPT_EXIT_FAIL, -ENOMEM, "listing %zu domains: "
			     "out of memory", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct xpt_domain_info *o = &out[i];
		bool started = false;
		int guest;

		o->domid = list[i].domid;
		name = known_name(c, &list[i]);
		snprintf(o->name, sizeof(o->name), "%s", name ? name : "");
		free(name);
		o->kernel_alive = o->domid == 0 ||
				  c->pf->dom_kernel(c, o->domid) != 0;
		o->memory_mb = list[i].memory_mb;
		o->vcpus = list[i].vcpus;
		if (o->domid && xpt_domcfg_load(c, o->domid, d) == 0) {
			o->memory_mb = d->cfg.memory_mb;
			o->vcpus = d->cfg.vcpus ? d->cfg.vcpus : 1;
			o->ndevs = (unsigned int)d->cfg.npci;
			started = d->started;
			rec[i].started = d->started;
			snprintf(rec[i].name, sizeof(rec[i].name), "%s",
				 d->cfg.name);
		} else if (o->domid && !o->memory_mb &&
			   (guest = xpt_stubdom_target(c, o->domid)) > 0 &&
			   xpt_domcfg_load(c, (unsigned int)guest, d) == 0) {
			/* a stub domain: what its guest's record gave it */
			o->memory_mb = d->cfg.stubdomain_memory_mb ?
				       d->cfg.stubdomain_memory_mb : 128;
			o->vcpus = 1;
			started = true;
		}
		c->err[0] = '\0';
		list_state(&list[i], o, started, o->state, sizeof(o->state));
		pci_health(c, o);
	}
	list_orphans(c, list, n, rec);
	list_unheld(c, list, n);
	*ret = out;
	*ret_n = n;
	out = NULL;
out:
	free(out);
	free(rec);
	free(d);
	free(list);
	return r;
}
