// SPDX-License-Identifier: MIT
/*
 * The modelled host behind the platform table: xpt-hypervisor through
 * its client library, xpt-pciback through its control socket (pbctl.c),
 * a guest kernel as an xpt-guest process (guest.c; pausing a domain stops
 * its process), and the store as the run directory's xpt-xenstored.
 * Everything model-specific the toolstack does lives here, in pbctl.c,
 * guest.c and host.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxpt.h"
#include "model.h"

struct hv_client *xpt_model_hv(struct xpt_ctx *c)
{
	return c->pfdata;
}

static int m_open(struct xpt_ctx *c)
{
	struct hv_client *hv;
	char path[PATH_MAX];
	int r;

	if (c->pfdata)
		return 0;
	snprintf(path, sizeof(path), "%s/socket", c->rundir);
	if (access(path, F_OK) < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -ENOENT,
				"the host is not running in %s (no xenstore "
				"socket): start it with `xpt host start`",
				c->rundir);
	setenv("XENSTORED_PATH", path, 1);
	r = hv_open(c->rundir, &hv);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "cannot connect to the "
				"hypervisor at %s/hv/control: %s; is the host "
				"running (`xpt host status`)?", c->rundir,
				strerror(-r));
	c->pfdata = hv;
	return 0;
}

static void m_close(struct xpt_ctx *c)
{
	if (c->pfdata)
		hv_close(c->pfdata);
	c->pfdata = NULL;
}

static int m_dom_create(struct xpt_ctx *c, const struct xpt_cfg *cfg,
			const char *uuid, bool passthrough,
			unsigned int *ret_domid)
{
	struct hv_client *hv = xpt_model_hv(c);
	unsigned int domid;
	int r;

	r = hv_domain_create(hv, (passthrough ? HV_DOMF_PASSTHROUGH : 0) |
			     (!strcmp(cfg->type, "hvm") ? HV_DOMF_HVM : 0) |
			     (!strcmp(cfg->type, "pvh") ? HV_DOMF_PVH : 0),
			     cfg->name, (cfg->memory_mb ? cfg->memory_mb :
					 128) * 1024,
			     cfg->vcpus ? cfg->vcpus : 1, &domid);
	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "%s: the hypervisor cannot "
				"create the domain: %s", cfg->name, r == -ENOSPC ?
				"no free domain id" : strerror(-r));
	/* Introduced first: permissions may only name a domain xenstore
	 * knows (C xenstored asks the hypervisor; this host's does not). */
	if (!xs_introduce_domain(c->xs, domid, 0, 1)) {
		r = errno ? -errno : -EIO;
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u (%s): XS_INTRODUCE: "
			 "%s", domid, cfg->name, strerror(-r));
		goto fail;
	}
	r = xpt_domain_nodes(c, domid, cfg, uuid);
	if (r < 0) {
		xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u (%s): writing its "
			 "xenstore nodes: %s", domid, cfg->name, r == -EAGAIN ?
			 "the transaction kept conflicting (is another "
			 "toolstack writing there?)" : strerror(-r));
		goto fail;
	}
	*ret_domid = domid;
	return 0;
fail:
	xs_release_domain(c->xs, domid);
	hv_domain_destroy(hv, domid);
	return r;
}

/* The kind of guest kernel the domain runs, from its hypervisor flags. */
static enum xpt_guest_kind guest_kind(struct xpt_ctx *c, unsigned int domid)
{
	struct hv_domain_info info;

	if (hv_domain_getinfo(xpt_model_hv(c), domid, &info) < 0)
		return XPT_GUEST_PV;
	return info.flags & HV_DOMF_HVM ? XPT_GUEST_HVM :
	       info.flags & HV_DOMF_PVH ? XPT_GUEST_PVH : XPT_GUEST_PV;
}

/* A guest's kernel is an xpt-guest process: an HVM one finds its PCI
 * devices by config-space I/O, answered by its device model; a PVH one
 * through the hypervisor's vPCI. */
static int m_dom_boot(struct xpt_ctx *c, unsigned int domid)
{
	int r = hv_domain_unpause(xpt_model_hv(c), domid);

	if (r < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, r, "domain %u: unpause: %s",
				domid, strerror(-r));
	return xpt_guest_start(c, domid, guest_kind(c, domid));
}

/* A paused domain's vcpus stop: so does its kernel's process. */
static int m_dom_pause(struct xpt_ctx *c, unsigned int domid)
{
	int r = hv_domain_pause(xpt_model_hv(c), domid);

	if (r == 0)
		xpt_guest_signal(c, domid, SIGSTOP);
	return r;
}

static int m_dom_unpause(struct xpt_ctx *c, unsigned int domid)
{
	int r = hv_domain_unpause(xpt_model_hv(c), domid);

	if (r == 0)
		xpt_guest_signal(c, domid, SIGCONT);
	return r;
}

static int m_dom_destroy(struct xpt_ctx *c, unsigned int domid)
{
	return hv_domain_destroy(xpt_model_hv(c), domid);
}

static void pdom_of(const struct hv_domain_info *i, struct xpt_pdom *ret)
{
	static const enum xpt_dom_state states[] = {
		[HV_DOM_PAUSED] = XPT_DOM_PAUSED,
		[HV_DOM_RUNNING] = XPT_DOM_RUNNING,
		[HV_DOM_SHUTDOWN] = XPT_DOM_SHUTDOWN,
		[HV_DOM_DYING] = XPT_DOM_DYING,
	};

	memset(ret, 0, sizeof(*ret));	/* memory, vcpus: it cannot say */
	ret->domid = i->domid;
	ret->state = i->state < 4 ? states[i->state] : XPT_DOM_DYING;
	snprintf(ret->name, sizeof(ret->name), "%.*s",
		 (int)sizeof(i->name) - 1, i->name);
}

static int m_dom_info(struct xpt_ctx *c, unsigned int domid,
		      struct xpt_pdom *ret)
{
	struct hv_domain_info info;
	int r = hv_domain_getinfo(xpt_model_hv(c), domid, &info);

	if (r == 0)
		pdom_of(&info, ret);
	return r;
}

static int m_dom_list(struct xpt_ctx *c, unsigned int first,
		      struct xpt_pdom *ret, size_t max, size_t *ret_n)
{
	struct hv_domain_list *page = malloc(sizeof(*page));
	size_t i;
	int r;

	if (!page)
		return -ENOMEM;
	r = hv_domain_list_page(xpt_model_hv(c), first,
				max < HV_DOMAIN_LIST_PAGE ? (unsigned int)max :
				HV_DOMAIN_LIST_PAGE, page);
	if (r == 0) {
		for (i = 0; i < page->count && i < max; i++)
			pdom_of(&page->d[i], &ret[i]);
		*ret_n = i;
	}
	free(page);
	return r;
}

static int m_dom_kernel(struct xpt_ctx *c, unsigned int domid)
{
	return xpt_guest_alive(c, domid);
}

static void m_dom_kill_kernel(struct xpt_ctx *c, unsigned int domid)
{
	xpt_guest_kill(c, domid);
}

static int m_dm_spawn(struct xpt_ctx *c, unsigned int domid,
		      const char *binary, const char *qmp_path, int *ret_pid)
{
	char bin[PATH_MAX], log[PATH_MAX], dom[16], chardev[PATH_MAX + 64];
	const char *argv[] = {
		bin, "-xen-domid", dom, "-chardev", chardev, "-mon",
		"chardev=libxl-cmd,mode=control", "-S", "-nodefaults",
		"-no-shutdown", "-machine", "xenfv", "--rundir", c->rundir,
		NULL,
	};

	if (binary)
		snprintf(bin, sizeof(bin), "%s", binary);
	else if (xpt_find_binary("xpt-dm", bin, sizeof(bin)) < 0)
		return xpt_fail(c, XPT_EXIT_FAIL, -ENOENT, "cannot find xpt-dm "
				"(the device model) next to xpt, in "
				"$XPT_LIBEXEC or in $PATH");
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,"
		 "server=on,wait=off", qmp_path);
	xpt_path(c, log, sizeof(log), "log");
	xpt_mkdirs(log);
	xpt_path(c, log, sizeof(log), "log/dm-%u.log", domid);
	return xpt_spawn_detached(argv, log, ret_pid);
}

static int m_set_target(struct xpt_ctx *c, unsigned int domid,
			unsigned int target)
{
	return hv_set_target(xpt_model_hv(c), domid, target);
}

static int m_pci_list(struct xpt_ctx *c, uint32_t *ret, size_t max,
		      size_t *ret_n)
{
	uint32_t *all = NULL;
	size_t n = 0;
	int r = hv_pci_list(xpt_model_hv(c), &all, &n);

	if (r == 0) {
		n = n < max ? n : max;
		memcpy(ret, all, n * sizeof(*ret));
		*ret_n = n;
	}
	free(all);
	return r;
}

static int m_pci_info(struct xpt_ctx *c, uint32_t sbdf, struct xpt_pdev *ret)
{
	static const enum xpt_reset resets[] = {
		XPT_RESET_NONE, XPT_RESET_FLR, XPT_RESET_PM, XPT_RESET_BUS,
	};
	struct hv_pci_dev d;
	unsigned int i;
	int r = hv_pci_info(xpt_model_hv(c), sbdf, &d);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->sbdf = d.sbdf;
	ret->vendor = d.vendor;
	ret->device = d.device;
	ret->class = d.class;
	ret->owner = (int)d.owner;
	ret->intx_pin = d.intx_pin;
	ret->gsi = d.gsi;
	ret->reset = d.reset < 4 ? resets[d.reset] : XPT_RESET_NONE;
	ret->pf_sbdf = d.pf_sbdf;
	for (i = 0; i < 6; i++) {
		ret->bar[i].addr = d.bar[i].addr;
		ret->bar[i].size = d.bar[i].size;
		ret->bar[i].io = d.bar[i].flags & HV_BAR_IO;
	}
	snprintf(ret->driver, sizeof(ret->driver), "%.*s",
		 (int)sizeof(d.driver) - 1, d.driver);
	return 0;
}

/* One xpt-pciback control request about a device: "VERB BDF". */
static int pb_verb(struct xpt_ctx *c, const char *verb, uint32_t sbdf,
		   char *msg, size_t len)
{
	char req[48], reply[256], bdf[16];
	int r;

	xpt_format_bdf(sbdf, bdf, sizeof(bdf));
	snprintf(req, sizeof(req), "%s %s", verb, bdf);
	r = xpt_pb_request(c, req, reply, sizeof(reply));
	if (r < 0 && msg && len)
		snprintf(msg, len, "%s", reply);
	return r;
}

static int m_pb_seize(struct xpt_ctx *c, uint32_t sbdf, char *msg,
		      size_t len)
{
	return pb_verb(c, "seize", sbdf, msg, len);
}

/* The model's dom0 driver is implicit: rebind has nothing to do. */
static int m_pb_release(struct xpt_ctx *c, uint32_t sbdf, bool rebind,
			char *msg, size_t len)
{
	(void)rebind;
	return pb_verb(c, "release", sbdf, msg, len);
}

static int m_pb_reset(struct xpt_ctx *c, uint32_t sbdf, char *msg, size_t len)
{
	return pb_verb(c, "reset", sbdf, msg, len);
}

static int m_pb_permissive(struct xpt_ctx *c, uint32_t sbdf, char *msg,
			   size_t len)
{
	return pb_verb(c, "permissive", sbdf, msg, len);
}

static int m_test_assign(struct xpt_ctx *c, uint32_t sbdf)
{
	return hv_test_assign_device(xpt_model_hv(c), sbdf);
}

static int m_assign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	return hv_assign_device(xpt_model_hv(c), domid, sbdf);
}

static int m_deassign(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf)
{
	return hv_deassign_device(xpt_model_hv(c), domid, sbdf);
}

static int m_iomem_permission(struct xpt_ctx *c, unsigned int domid,
			      uint64_t first, uint64_t nr, bool allow)
{
	return hv_iomem_permission(xpt_model_hv(c), domid, first, nr, allow);
}

static int m_ioport_permission(struct xpt_ctx *c, unsigned int domid,
			       uint32_t first, uint32_t nr, bool allow)
{
	return hv_ioport_permission(xpt_model_hv(c), domid, first, nr, allow);
}

static int m_irq_permission(struct xpt_ctx *c, unsigned int domid, int pirq,
			    bool allow)
{
	return hv_irq_permission(xpt_model_hv(c), domid, pirq, allow);
}

static int m_map_pirq(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		      int *ret_pirq)
{
	return hv_map_pirq(xpt_model_hv(c), domid, HV_IRQ_INTX, sbdf, 0,
			   ret_pirq);
}

static int m_unmap_pirq(struct xpt_ctx *c, unsigned int domid, int pirq)
{
	return hv_unmap_pirq(xpt_model_hv(c), domid, pirq);
}

static int m_vpci_slot(struct xpt_ctx *c, unsigned int domid, uint32_t sbdf,
		       uint32_t *ret_gsbdf)
{
	struct hv_vpci_info info;
	int r = hv_vpci_info(xpt_model_hv(c), domid, sbdf, &info);

	if (r == 0)
		*ret_gsbdf = info.guest_sbdf;
	return r;
}

static int m_host_caps(struct xpt_ctx *c, bool *ret_directio)
{
	uint32_t caps;
	int r = hv_physinfo(xpt_model_hv(c), &caps);

	if (r == 0)
		*ret_directio = caps & HV_PHYSCAP_DIRECTIO;
	return r;
}

static int m_console_read(struct xpt_ctx *c, char *buf, size_t len)
{
	return hv_readconsole(xpt_model_hv(c), buf, len);
}

/* xpt-pciback is "loaded" when it answers its list request (whatever
 * the number of devices it holds); it has no module parameters
 * (permissive is per device, by its control verb). */
static int m_pb_module(struct xpt_ctx *c, struct xpt_pb_module *ret)
{
	struct xpt_pb_dev *pb = calloc(XPT_PB_MAX, sizeof(*pb));
	size_t n;

	if (!pb)
		return -ENOMEM;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->where, sizeof(ret->where), "xpt-pciback at "
		 "%.100s/pciback/control", c->rundir);
	ret->loaded = xpt_pb_list(c, pb, XPT_PB_MAX, &n) == 0;
	free(pb);
	return 0;
}

static int m_pci_config(struct xpt_ctx *c, uint32_t sbdf, uint8_t *buf,
			size_t len, size_t *ret_n)
{
	uint32_t v;
	size_t off;
	int r = 0;

	for (off = 0; off + 4 <= len; off += 4) {
		r = hv_pci_conf_read(xpt_model_hv(c), sbdf, (uint32_t)off, 4,
				     &v);
		if (r < 0)
			break;
		memcpy(buf + off, &v, 4);	/* little-endian, as sysfs */
	}
	*ret_n = off;
	return off ? 0 : r;
}

const struct xpt_platform xpt_platform_model = {
	.name = "model",
	.open = m_open,
	.close = m_close,
	.dom_create = m_dom_create,
	.dom_boot = m_dom_boot,
	.dom_pause = m_dom_pause,
	.dom_unpause = m_dom_unpause,
	.dom_destroy = m_dom_destroy,
	.dom_info = m_dom_info,
	.dom_list = m_dom_list,
	.dom_kernel = m_dom_kernel,
	.dom_kill_kernel = m_dom_kill_kernel,
	.dm_spawn = m_dm_spawn,
	.set_target = m_set_target,
	.pci_list = m_pci_list,
	.pci_info = m_pci_info,
	.pb_list = xpt_pb_list,
	.pb_seize = m_pb_seize,
	.pb_release = m_pb_release,
	.pb_reset = m_pb_reset,
	.pb_permissive = m_pb_permissive,
	.test_assign = m_test_assign,
	.assign = m_assign,
	.deassign = m_deassign,
	.iomem_permission = m_iomem_permission,
	.ioport_permission = m_ioport_permission,
	.irq_permission = m_irq_permission,
	.map_pirq = m_map_pirq,
	.unmap_pirq = m_unmap_pirq,
	.vpci_slot = m_vpci_slot,
	.host_caps = m_host_caps,
	.console_read = m_console_read,
	.pb_module = m_pb_module,
	.pci_config = m_pci_config,
};
