// SPDX-License-Identifier: MIT
/*
 * The persisted domain configuration, $XPT_RUNDIR/xpt/domains/<domid>.json
 * (yajl, as libxl's userdata): what `xpt reboot` re-creates.  Written
 * atomically (temporary file + rename) under the domain's lock, after
 * every successful create, attach and detach; one "pci" entry per
 * function, in canonical spec text.
 *
 *   {"domid":3,"uuid":"…","name":"web","type":"pv","memory":512,
 *    "vcpus":2,"passthrough":"enabled","kernel":"","ramdisk":"",
 *    "extra":"","started":true,
 *    "pci":["0000:03:02.0","0000:03:02.1,permissive=1"]}
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "json.h"
#include "libxpt.h"

#define GEN_STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/* The configuration's free-text keys, written and read the same way
 * ("" when absent), in this order after "vcpus". */
#define CFG_STR(key, field) { key, offsetof(struct xpt_cfg, field), \
			      sizeof(((struct xpt_cfg *)0)->field) }
static const struct { const char *key; size_t off, len; } strs[] = {
	CFG_STR("passthrough", passthrough),
	CFG_STR("kernel", kernel),
	CFG_STR("ramdisk", ramdisk),
	CFG_STR("extra", extra),
	CFG_STR("serial", serial),
	CFG_STR("vga", vga),
	CFG_STR("device_model_version", dm_version),
	CFG_STR("stubdomain_kernel", stubdomain_kernel),
	CFG_STR("stubdomain_ramdisk", stubdomain_ramdisk),
	CFG_STR("stubdomain_cmdline", stubdomain_cmdline),
};

int xpt_domcfg_to_json(const struct xpt_domcfg *d, char **ret)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	char text[XPT_PCI_SPEC_MAX];
	size_t len, i;
	int r = 0;

	if (!g)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GEN_STR(g, "domid");
	yajl_gen_integer(g, d->domid);
	GEN_STR(g, "uuid");
	GEN_STR(g, d->uuid);
	GEN_STR(g, "name");
	GEN_STR(g, d->cfg.name);
	GEN_STR(g, "type");
	GEN_STR(g, d->cfg.type[0] ? d->cfg.type : "pv");
	GEN_STR(g, "memory");
	yajl_gen_integer(g, (long long)d->cfg.memory_mb);
	GEN_STR(g, "vcpus");
	yajl_gen_integer(g, d->cfg.vcpus);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		GEN_STR(g, strs[i].key);
		GEN_STR(g, (const char *)&d->cfg + strs[i].off);
	}
	/* what a reboot needs to build the same domain again: its stub
	 * domain, and the memory map if it was given */
	GEN_STR(g, "device_model_stubdomain_override");
	yajl_gen_bool(g, d->cfg.stubdomain);
	GEN_STR(g, "stubdomain_memory");
	yajl_gen_integer(g, (long long)d->cfg.stubdomain_memory_mb);
	if (d->cfg.e820_host != XPT_E820_DEFAULT) {
		GEN_STR(g, "e820_host");
		yajl_gen_bool(g, d->cfg.e820_host == XPT_E820_ON);
	}
	GEN_STR(g, "started");
	yajl_gen_bool(g, d->started);
	GEN_STR(g, "pci");
	yajl_gen_array_open(g);
	for (i = 0; i < d->cfg.npci; i++) {
		r = xpt_pci_spec_format(&d->cfg.pci[i], text, sizeof(text));
		if (r < 0)
			break;
		GEN_STR(g, text);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (r == 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		*ret = strndup((const char *)buf, len);
		r = *ret ? 0 : -ENOMEM;
	} else if (r == 0) {
		r = -EINVAL;
	}
	yajl_gen_free(g);
	return r;
}

static const char *get_str(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static bool get_int(yajl_val root, const char *key, long long *ret)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v))
		return false;
	*ret = YAJL_GET_INTEGER(v);
	return true;
}

/* A string key into its field, dflt when absent or empty.  One longer
 * than the field is refused, as xl.cfg's are, not cut: a cut may split a
 * UTF-8 character, and the text written back would not load. */
static int copy_str(yajl_val root, const char *key, const char *dflt,
		    char *dst, size_t len, char *err, size_t errlen)
{
	const char *s = get_str(root, key);

	if (!s || !*s)
		s = dflt;
	if (strlen(s) >= len) {
		snprintf(err, errlen, "\"%s\": too long (at most %zu bytes)",
			 key, len - 1);
		return -EINVAL;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int xpt_domcfg_from_json(const char *text, struct xpt_domcfg *ret,
			 char *err, size_t errlen)
{
	static struct xpt_domcfg d;
	const char *path[] = { "pci", NULL }, *s;
	char perr[256];
	yajl_val root, pci, v;
	long long n;
	size_t i;
	int r = -EINVAL;

	memset(&d, 0, sizeof(d));
	root = json_parse(text, perr, sizeof(perr));
	if (!root) {
		snprintf(err, errlen, "not JSON: %s", perr);
		return -EINVAL;
	}
	if (!get_int(root, "domid", &n) || n < 0 || n > 0x7fef) {
		snprintf(err, errlen, "no valid \"domid\"");
		goto out;
	}
	d.domid = (unsigned int)n;
	if (copy_str(root, "uuid", "", d.uuid, sizeof(d.uuid), err,
		     errlen) < 0)
		goto out;
	s = get_str(root, "name");
	if (!s || !*s || strlen(s) >= sizeof(d.cfg.name)) {
		snprintf(err, errlen, "no valid \"name\"");
		goto out;
	}
	snprintf(d.cfg.name, sizeof(d.cfg.name), "%s", s);
	/* "" is "pv" everywhere (domain.c); written back as "pv" */
	if (copy_str(root, "type", "pv", d.cfg.type, sizeof(d.cfg.type), err,
		     errlen) < 0)
		goto out;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (copy_str(root, strs[i].key, "", (char *)&d.cfg +
			     strs[i].off, strs[i].len, err, errlen) < 0)
			goto out;
	d.cfg.memory_mb = get_int(root, "memory", &n) && n > 0 ?
			  (uint64_t)n : 128;
	d.cfg.vcpus = get_int(root, "vcpus", &n) && n > 0 && n < 4096 ?
		      (unsigned int)n : 1;
	d.cfg.stubdomain_memory_mb = get_int(root, "stubdomain_memory", &n) &&
				     n > 0 ? (uint64_t)n : 0;
	{
		const char *sp[] = { "started", NULL };
		const char *so[] = { "device_model_stubdomain_override", NULL };
		const char *eh[] = { "e820_host", NULL };

		v = yajl_tree_get(root, sp, yajl_t_any);
		d.started = v && YAJL_IS_TRUE(v);
		v = yajl_tree_get(root, so, yajl_t_any);
		d.cfg.stubdomain = v && YAJL_IS_TRUE(v);
		v = yajl_tree_get(root, eh, yajl_t_any);
		d.cfg.e820_host = !v ? XPT_E820_DEFAULT : YAJL_IS_TRUE(v) ?
				  XPT_E820_ON : XPT_E820_OFF;
	}
	pci = yajl_tree_get(root, path, yajl_t_array);
	for (i = 0; pci && i < YAJL_GET_ARRAY(pci)->len; i++) {
		v = YAJL_GET_ARRAY(pci)->values[i];
		if (!YAJL_IS_STRING(v) || d.cfg.npci == XPT_CFG_MAX_PCI) {
			snprintf(err, errlen, "pci[%zu]: not a spec string", i);
			goto out;
		}
		if (xpt_pci_spec_parse(YAJL_GET_STRING(v),
				       &d.cfg.pci[d.cfg.npci], perr,
				       sizeof(perr)) < 0) {
			snprintf(err, errlen, "pci[%zu]: %s", i, perr);
			goto out;
		}
		snprintf(d.cfg.pci_text[d.cfg.npci],
			 sizeof(d.cfg.pci_text[0]), "%s", YAJL_GET_STRING(v));
		d.cfg.npci++;
	}
	*ret = d;
	r = 0;
out:
	yajl_tree_free(root);
	return r;
}

static int cfg_path(struct xpt_ctx *c, unsigned int domid, char *buf,
		    size_t len, const char *suffix)
{
	return xpt_path(c, buf, len, "xpt/domains/%u.json%s", domid, suffix);
}

/* A reboot's record of the domain it is rebuilding, by the domain's
 * name: written before the old domain goes, removed once the new one is
 * made, so that a reboot cut short in between can still be finished. */
static int pending_path(struct xpt_ctx *c, const char *name, char *buf,
			size_t len, const char *suffix)
{
	if (!*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	return xpt_path(c, buf, len, "xpt/reboot/%s.json%s", name, suffix);
}

static int load_from(struct xpt_ctx *c, const char *path, unsigned int domid,
		     struct xpt_domcfg *ret)
{
	char err[256], *text = NULL;
	FILE *f;
	long len;
	int r;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    len > 1 << 20 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(text = calloc(1, (size_t)len + 1)) ||
	    fread(text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(text);
		return xpt_fail(c, XPT_EXIT_FAIL, -EIO, "domain %u: cannot "
				"read its configuration %s", domid, path);
	}
	fclose(f);
	r = xpt_domcfg_from_json(text, ret, err, sizeof(err));
	free(text);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: its "
				"configuration %s is damaged: %s", domid,
				path, err);
	return 0;
}

int xpt_domcfg_load(struct xpt_ctx *c, unsigned int domid,
		    struct xpt_domcfg *ret)
{
	char path[PATH_MAX];

	if (cfg_path(c, domid, path, sizeof(path), "") < 0)
		return -ENAMETOOLONG;
	return load_from(c, path, domid, ret);
}

int xpt_domcfg_pending_load(struct xpt_ctx *c, const char *name,
			    struct xpt_domcfg *ret)
{
	char path[PATH_MAX];
	int r = pending_path(c, name, path, sizeof(path), "");

	return r < 0 ? r : load_from(c, path, 0, ret);
}

void xpt_domcfg_pending_remove(struct xpt_ctx *c, const char *name)
{
	char path[PATH_MAX];

	if (pending_path(c, name, path, sizeof(path), "") == 0)
		unlink(path);
}

static int save_to(struct xpt_ctx *c, const struct xpt_domcfg *d,
		   const char *dir, const char *path, const char *tmp)
{
	char *text = NULL;
	size_t len;
	int fd = -1, r;

	r = xpt_mkdirs(dir);
	if (r == 0)
		r = xpt_domcfg_to_json(d, &text);
	if (r < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    rename(tmp, path) < 0)
		r = -errno ? -errno : -EIO;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: cannot save "
				"its configuration %s: %s", d->domid, path,
				strerror(-r));
	return 0;
}

int xpt_domcfg_save(struct xpt_ctx *c, const struct xpt_domcfg *d)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];

	if (xpt_path(c, dir, sizeof(dir), "xpt/domains") < 0 ||
	    cfg_path(c, d->domid, path, sizeof(path), "") < 0 ||
	    cfg_path(c, d->domid, tmp, sizeof(tmp), ".tmp") < 0)
		return -ENAMETOOLONG;
	return save_to(c, d, dir, path, tmp);
}

int xpt_domcfg_pending_save(struct xpt_ctx *c, const struct xpt_domcfg *d)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	int r = pending_path(c, d->cfg.name, path, sizeof(path), "");

	if (r == 0)
		r = pending_path(c, d->cfg.name, tmp, sizeof(tmp), ".tmp");
	if (r == 0 && xpt_path(c, dir, sizeof(dir), "xpt/reboot") < 0)
		r = -ENAMETOOLONG;
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: cannot record "
				"the reboot of '%s': %s", d->domid, d->cfg.name,
				strerror(-r));
	return save_to(c, d, dir, path, tmp);
}

void xpt_domcfg_remove(struct xpt_ctx *c, unsigned int domid)
{
	char path[PATH_MAX];

	if (cfg_path(c, domid, path, sizeof(path), "") == 0)
		unlink(path);
}
