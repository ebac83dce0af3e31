// SPDX-License-Identifier: MIT
/*
 * End-to-end, a device model in a stub domain, assembled by hand without
 * the toolstack: xpt-xenstored, xpt-hypervisor (tests/e2e/host.txt) and
 * xpt-pciback in a fresh run directory; the test writes what libxl's
 * libxl__spawn_stub_dm writes (target, vm, dm-argv, device-model dir,
 * set_target in the hypervisor and in xenstore) and boots the stub's
 * kernel, xpt-guest --stubdom, which starts xpt-dm in the stub.
 *
 *   chain     the device model announces itself under the stub's home
 *             (/local/domain/S/device-model/G/state = running) and
 *             answers QMP on DIR/qmp-libxl-G; device_add of a device not
 *             yet exported to the stub fails as QEMU's xen_pt does
 *             (no sysfs config); after pciback exports it to the stub
 *             (a PV backend for S, S's pcifront connects) it succeeds,
 *             and one exported to S but not assigned to G still fails;
 *             the HVM guest G (xpt-guest --hvm) sees it with its config
 *             space read through the stub's pcifront, enables MSI-X (the
 *             stub maps and binds the pirqs as G's device model) and
 *             counts interrupts; device_del ends in DEVICE_DELETED;
 *             the stub's config writes reach a register pciback does not
 *             cover only once the device is permissive; the stub's
 *             kernel stopping stops its device model
 *   confine   as S in xenstore: no writes outside its device-model
 *             directory (G's home, dom0's, the dm-argv, its own target);
 *             as S in the hypervisor: no device-model op on a domain
 *             that is not its target, no privileged op
 *   killed    the stub's kernel killed (SIGKILL): its device model ends
 *             too (PR_SET_PDEATHSIG)
 *   refuse    garbage from the toolstack (no target, a target that is no
 *             number, a -chardev or --rundir of its own, -S, too many
 *             arguments, a gap in the keys, another guest's -xen-domid,
 *             no dm-argv): the stub logs why and starts no device model,
 *             so no state node and no QMP socket ever appear
 *
 * usage: e2e-stubdom XENSTORED HYPERVISOR PCIBACK GUEST DM FIXTURE HOSTFILE
 *        [CASE...]
 * Waits are bounded and event driven (ready fd, inotify, xenstore watches,
 * replies).  XPT_E2E_KEEP=1 keeps the run directory.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xenstore.h>

#include "hvclient.h"
#include "../lib/harness.h"

#define A HV_SBDF(0, 3, 0, 0)	/* 8086:1572, MSI-X 8 */
#define D HV_SBDF(0, 6, 0, 0)	/* 10ee:9038, MSI only */

static const char *bin_xenstored, *bin_hv, *bin_pciback, *bin_guest,
		  *bin_dm, *bin_fixture, *hostfile;

struct env {
	struct e2e_run run;	/* the run directory and its processes */
	struct hv_client *hv;
	struct xs_handle *xs;	/* dom0 */
	struct e2e_qmp qmp;	/* to the stub's device model */
};

/* A guest G and its stub domain S, as the toolstack made them. */
struct pair {
	unsigned int g, s;
	char vm[64];
	struct e2e_proc *stub;
};

static char *bdf(uint32_t sbdf)
{
	static char buf[4][16];
	static unsigned int i;

	i = (i + 1) % 4;
	hv_format_bdf(sbdf, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* processes */

static bool env_start(struct env *e)
{
	char path[256];
	const char *argv[10];
	int n;

	memset(e, 0, sizeof(*e));
	e->qmp.fd = -1;
	if (!e2e_run_start(&e->run, "stub", bin_xenstored))
		return false;
	if (!e2e_start_hypervisor(&e->run, bin_hv, hostfile, true))
		return false;
	argv[0] = bin_pciback;
	argv[1] = "--rundir";
	argv[2] = e->run.dir;
	argv[3] = "-v";
	argv[4] = NULL;
	if (!e2e_start_daemon(&e->run, "pciback", argv, "pciback/pciback.pid"))
		return false;
	n = hv_open(e->run.dir, &e->hv);
	CHECK(e, n == 0, "hv_open: %s", strerror(-n));
	snprintf(path, sizeof(path), "%s/socket", e->run.dir);
	setenv("XENSTORED_PATH", path, 1);
	e->xs = xs_open(0);
	CHECK(e, e->xs, "xs_open: %s", strerror(errno));
	return true;
}

static void env_stop(struct env *e, bool failed)
{
	char cmd[300];

	if (e->qmp.fd >= 0)
		close(e->qmp.fd);
	if (e->xs)
		xs_close(e->xs);
	e2e_run_stop(&e->run);
	if (e->hv)
		hv_close(e->hv);
	if (failed) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && tail -n 15 *.log "
			 "log/*.log 2>/dev/null", e->run.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "  (no logs)\n");
	}
	e2e_run_remove(&e->run, failed || getenv("XPT_E2E_KEEP"));
}

/* xenstore, as dom0 */

static bool xs_put(struct env *e, const char *path, const char *val,
		   struct xs_permissions *perms, unsigned int nperms)
{
	bool ok = val ? xs_write(e->xs, XBT_NULL, path, val, strlen(val)) :
		  xs_mkdir(e->xs, XBT_NULL, path);

	CHECK(e, ok, "write %s: %s", path, strerror(errno));
	CHECK(e, !nperms || xs_set_permissions(e->xs, XBT_NULL, path, perms,
					       nperms),
	      "set permissions of %s: %s", path, strerror(errno));
	return true;
}

static char *xs_get(struct env *e, const char *path)
{
	unsigned int len;

	return xs_read(e->xs, XBT_NULL, path, &len);
}

/* Wait until path reads want (want NULL: until it exists). */
static bool wait_xs(struct env *e, const char *path, const char *want)
{
	int64_t deadline = e2e_now_ms() + WAIT_MS;
	bool ok = false;
	char **w, *v;

	CHECK(e, xs_watch(e->xs, path, "w"), "watch %s: %s", path,
	      strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(e->xs), .events = POLLIN };
		int64_t left = deadline - e2e_now_ms();

		while ((w = xs_check_watch(e->xs)))
			free(w);
		v = xs_get(e, path);
		ok = v && (!want || !strcmp(v, want));
		free(v);
		if (ok || left <= 0)
			break;
		poll(&pfd, 1, (int)left);
	}
	xs_unwatch(e->xs, path, "w");
	CHECK(e, ok, "%s did not become %s", path, want ? want : "present");
	return true;
}

/* libxl__spawn_stub_dm's writes for guest G and stub S; args are the
 * dm-argv (NULL: none written), target the text of S's target node
 * (NULL: none), set_target whether S becomes G's device model. */
static bool make_pair(struct env *e, const char *const *args,
		      unsigned int nargs, const char *target, bool set_target,
		      struct pair *p)
{
	struct xs_permissions perms[2] = { { 0, XS_PERM_NONE },
					   { 0, XS_PERM_READ } };
	char path[160], val[32];
	unsigned int i;
	int r;

	memset(p, 0, sizeof(*p));
	r = hv_domain_create(e->hv, HV_DOMF_HVM | HV_DOMF_PASSTHROUGH, "hvm",
			     1 << 20, 1, &p->g);
	CHECK(e, r == 0, "create G: %s", strerror(-r));
	r = hv_domain_create(e->hv, HV_DOMF_PASSTHROUGH, "stub", 131072, 1,
			     &p->s);
	CHECK(e, r == 0, "create S: %s", strerror(-r));
	CHECK(e, xs_introduce_domain(e->xs, p->g, 0, 1) &&
	      xs_introduce_domain(e->xs, p->s, 0, 1), "introduce: %s",
	      strerror(errno));
	snprintf(p->vm, sizeof(p->vm), "/vm/00000000-0000-0000-0000-%012u",
		 p->g);

	/* G's home and vm: G may read them, and so S as its target */
	perms[1].id = p->g;
	snprintf(path, sizeof(path), "/local/domain/%u", p->g);
	if (!xs_put(e, path, NULL, perms, 2))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", p->g);
	if (!xs_put(e, path, p->vm, NULL, 0) ||
	    !xs_put(e, p->vm, NULL, perms, 2))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/image/"
		 "device-model-domid", p->g);
	snprintf(val, sizeof(val), "%u", p->s);
	if (!xs_put(e, path, val, NULL, 0))
		return false;

	/* dm-argv: dom0 none, the stub reads */
	perms[1].id = p->s;
	snprintf(path, sizeof(path), "%s/image/dm-argv", p->vm);
	if (args && !xs_put(e, path, NULL, perms, 2))
		return false;
	for (i = 0; args && i < nargs; i++) {
		snprintf(path, sizeof(path), "%s/image/dm-argv/%03u", p->vm,
			 i + 1);
		if (args[i][0] == '@')	/* "@NNN": a key out of sequence */
			snprintf(path, sizeof(path), "%s/image/dm-argv/%s",
				 p->vm, args[i] + 1);
		if (!xs_put(e, path, args[i][0] == '@' ? "-nodefaults" :
			    args[i], NULL, 0))
			return false;
	}

	/* S's home, its target, its device-model dir {S, G read} */
	snprintf(path, sizeof(path), "/local/domain/%u", p->s);
	if (!xs_put(e, path, NULL, perms, 2))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/device", p->s);
	if (!xs_put(e, path, NULL, perms, 2))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/target", p->s);
	if (target && !xs_put(e, path, target, NULL, 0))
		return false;
	if (set_target) {
		r = hv_set_target(e->hv, p->s, p->g);
		CHECK(e, r == 0, "set_target: %s", strerror(-r));
		CHECK(e, xs_set_target(e->xs, p->s, p->g), "SET_TARGET: %s",
		      strerror(errno));
	}
	perms[0].id = p->s;
	perms[1].id = p->g;
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u",
		 p->s, p->g);
	return xs_put(e, path, NULL, perms, 2);
}

/* The stub's kernel, as the toolstack boots it. */
static bool stub_boot(struct env *e, struct pair *p)
{
	char dom[16], name[32], path[256];
	const char *argv[12];
	int n = 0;

	snprintf(dom, sizeof(dom), "%u", p->s);
	snprintf(name, sizeof(name), "stub%u", p->s);
	argv[n++] = bin_guest;
	argv[n++] = "--rundir";
	argv[n++] = e->run.dir;
	argv[n++] = "--domid";
	argv[n++] = dom;
	argv[n++] = "--stubdom";
	argv[n++] = "--dm-binary";
	argv[n++] = bin_dm;
	argv[n++] = "-vv";
	argv[n] = NULL;
	p->stub = e2e_spawn(&e->run, name, argv);
	CHECK(e, p->stub, "cannot start the stub's xpt-guest");
	/* the pid file follows the device model's start (or refusal) */
	snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir, p->s);
	return e2e_wait_file(&e->run, path, p->stub);
}

/* guest query sockets */

/* The first dev line of an HVM guest's status. */
static bool hvm_dev(struct env *e, unsigned int domid, struct e2e_qdev *d,
		    bool *ret_found)
{
	char reply[4096], *line;

	if (!e2e_guest_query(&e->run, domid, "status", reply, sizeof(reply)))
		return false;
	memset(d, 0, sizeof(*d));
	line = strstr(reply, "\ndev ");
	*ret_found = line && e2e_qdev_parse(line + 1, d);
	return true;
}

/* QMP */

/* One command; its reply, return or error, in reply. */
static bool qmp(struct env *e, const char *cmd, char *reply, size_t len)
{
	return e2e_qmp_send(&e->run, &e->qmp, cmd, reply, len);
}

static bool qmp_connect(struct env *e, unsigned int g)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->run.dir, g);
	return e2e_qmp_connect(&e->run, &e->qmp, path);
}

static bool device_add(struct env *e, uint32_t sbdf, char *reply,
		       size_t len)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "{\"execute\": \"device_add\", "
		 "\"arguments\": {\"driver\": \"xen-pci-passthrough\", "
		 "\"id\": \"pci-pt-%02x_%02x.%x\", \"hostaddr\": \"%s\"}}",
		 HV_SBDF_BUS(sbdf), HV_SBDF_DEV(sbdf), HV_SBDF_FN(sbdf),
		 bdf(sbdf));
	return qmp(e, cmd, reply, len);
}

/* the host side */

/* pci-assignable-add, then the host side of an attach to an HVM guest:
 * the IOMMU gives it to G. */
static bool host_assign(struct env *e, unsigned int g, uint32_t sbdf)
{
	int r;

	if (!e2e_pciback_ok(&e->run, "seize %s", bdf(sbdf)))
		return false;
	r = hv_assign_device(e->hv, HV_DOMID_IO, sbdf);
	CHECK(e, r == 0, "quarantine %s: %s", bdf(sbdf), strerror(-r));
	r = hv_assign_device(e->hv, g, sbdf);
	CHECK(e, r == 0, "assign %s to %u: %s", bdf(sbdf), g, strerror(-r));
	return true;
}

/* The PV export to the stub, libxl 4.17's way (the peer fixture), of
 * sbdf and, unless UINT32_MAX, sbdf2. */
static bool export_to_stub(struct env *e, unsigned int s, uint32_t sbdf,
			   uint32_t sbdf2)
{
	char dom[16], b[16], b2[16], path[128];
	const char *argv[8];
	struct e2e_proc *p;

	snprintf(dom, sizeof(dom), "%u", s);
	snprintf(b, sizeof(b), "%s", bdf(sbdf));
	snprintf(b2, sizeof(b2), "%s", bdf(sbdf2));
	argv[0] = bin_fixture;
	argv[1] = "--rundir";
	argv[2] = e->run.dir;
	argv[3] = "coldplug-onetxn";
	argv[4] = dom;
	argv[5] = b;
	argv[6] = sbdf2 == UINT32_MAX ? NULL : b2;
	argv[7] = NULL;
	p = e2e_spawn(&e->run, "fixture", argv);
	CHECK(e, p, "cannot start the fixture");
	CHECK(e, e2e_proc_wait(p) == 0,
	      "fixture coldplug-onetxn dom%u %s failed", s, b);
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0/state",
		 s);
	if (!wait_xs(e, path, "4"))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/device/pci/0/state",
		 s);
	return wait_xs(e, path, "4");
}

/* Write PMCSR's power state through the stub; the device then has want. */
static bool stub_pmcsr(struct env *e, unsigned int s, unsigned int state,
		       unsigned int want)
{
	char req[96], reply[256];
	uint32_t v = ~0u;
	int r;

	snprintf(req, sizeof(req), "conf-write %s 0x44 2 %u", bdf(A), state);
	if (!e2e_guest_query(&e->run, s, req, reply, sizeof(reply)))
		return false;
	CHECK(e, !strcmp(reply, "ok\nend\n"), "%s: %s", req, reply);
	snprintf(req, sizeof(req), "conf-read %s 0x44 2", bdf(A));
	if (!e2e_guest_query(&e->run, s, req, reply, sizeof(reply)))
		return false;
	r = hv_pci_conf_read(e->hv, A, 0x44, 2, &v);
	CHECK(e, r == 0 && (v & 3) == want, "PMCSR of %s after writing %u "
	      "through the stub: %#x, wanted state %u (%s)", bdf(A), state, v,
	      want, reply);
	CHECK(e, !strncmp(reply, "value ", 6) &&
	      (strtoul(reply + 6, NULL, 0) & 3) == want,
	      "the stub reads PMCSR as %s", reply);
	return true;
}

static const char *const good_argv[] = {
	"-xen-domid", NULL, "-nodefaults", "-no-shutdown", "-machine",
	"xenfv",
};

static bool good_pair(struct env *e, struct pair *p, char *domid,
		      size_t len)
{
	const char *args[6];
	unsigned int g;
	int r;

	/* G's domid is the next one: the hypervisor allocates upwards */
	r = hv_domain_create(e->hv, 0, "probe", 0, 1, &g);
	CHECK(e, r == 0, "create: %s", strerror(-r));
	hv_domain_destroy(e->hv, g);
	memcpy(args, good_argv, sizeof(args));
	snprintf(domid, len, "%u", g + 1);
	args[1] = domid;
	if (!make_pair(e, args, 6, domid, true, p))
		return false;
	snprintf(domid, len, "%u", p->g);
	CHECK(e, !strcmp(args[1], domid), "G is dom%u, not dom%s as guessed",
	      p->g, args[1]);
	return true;
}

/* cases */

static bool case_chain(struct env *e)
{
	char reply[4096], path[160], want[200], dom[16], req[96];
	struct e2e_proc *hvm;
	struct e2e_qdev d;
	struct pair p;
	unsigned int i;
	bool found;
	int r, dl, dmpid, dmfd;

	if (!env_start(e) || !good_pair(e, &p, dom, sizeof(dom)) ||
	    !host_assign(e, p.g, A) ||
	    !e2e_pciback_ok(&e->run, "seize 0000:06:00.0") ||
	    !stub_boot(e, &p))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u/state",
		 p.s, p.g);
	if (!wait_xs(e, path, "running") || !qmp_connect(e, p.g))
		return false;
	if (!qmp(e, "{\"execute\": \"query-status\"}", reply, sizeof(reply)))
		return false;
	CHECK(e, strstr(reply, "\"running\""), "query-status: %s", reply);
	if (!e2e_guest_query(&e->run, p.s, "status", reply, sizeof(reply)))
		return false;
	snprintf(want, sizeof(want), "stubdom target=%u dm=running dm-pid=",
		 p.g);
	CHECK(e, strstr(reply, want), "stub status: %s", reply);
	dmpid = atoi(strstr(reply, "dm-pid=") + 7);
	dmfd = (int)syscall(SYS_pidfd_open, dmpid, 0);
	CHECK(e, dmfd >= 0, "pidfd of the device model %d: %s", dmpid,
	      strerror(errno));

	/* Not yet exported to the stub: QEMU's sysfs failure. */
	if (!device_add(e, A, reply, sizeof(reply)))
		return false;
	snprintf(want, sizeof(want), "xen_pt: Could not open '/sys/bus/pci/"
		 "devices/%s/config': No such file or directory", bdf(A));
	CHECK(e, strstr(reply, "\"error\"") && strstr(reply, want),
	      "device_add before the export: %s", reply);

	/* Exported to S: its pcifront has it, device_add goes through; D,
	 * exported to S but not assigned to G, is still refused. */
	if (!export_to_stub(e, p.s, A, D))
		return false;
	if (!device_add(e, D, reply, sizeof(reply)))
		return false;
	CHECK(e, strstr(reply, "\"error\"") &&
	      strstr(reply, "is not assigned to this domain"),
	      "device_add of %s, not G's: %s", bdf(D), reply);
	snprintf(req, sizeof(req), "pci-dev %s", bdf(A));
	if (!e2e_guest_query(&e->run, p.s, req, reply, sizeof(reply)))
		return false;
	CHECK(e, !strncmp(reply, "dev ", 4) && strstr(reply, "driver=none"),
	      "the stub's view of %s: %s", bdf(A), reply);
	if (!device_add(e, A, reply, sizeof(reply)))
		return false;
	CHECK(e, strstr(reply, "\"return\""), "device_add after the export: "
	      "%s", reply);

	/* G runs and sees it, config space through the stub's pcifront. */
	r = hv_domain_unpause(e->hv, p.g);
	CHECK(e, r == 0, "unpause G: %s", strerror(-r));
	{
		const char *argv[] = { bin_guest, "--rundir", e->run.dir,
				       "--domid", dom, "--hvm", "-vv", NULL };

		hvm = e2e_spawn(&e->run, "hvm-guest", argv);
		snprintf(path, sizeof(path), "%s/guest/%u.pid", e->run.dir,
			 p.g);
		if (!hvm || !e2e_wait_file(&e->run, path, hvm))
			return fail(e, "the HVM guest did not boot");
	}
	if (!hvm_dev(e, p.g, &d, &found))
		return false;
	CHECK(e, found && d.vendor == 0x8086 && d.device == 0x1572 &&
	      d.class == 0x020000, "G sees %s %04x:%04x class %06x",
	      found ? d.bdf : "nothing", d.vendor, d.device, d.class);
	CHECK(e, !strcmp(d.driver, "bound") && !strcmp(d.irq, "msix") &&
	      d.vectors > 0, "G's driver: %s irq=%s vectors=%u", d.driver,
	      d.irq, d.vectors);
	for (i = 0; i < d.vectors; i++) {
		r = hv_pci_raise_irq(e->hv, A, HV_IRQ_MSIX, i, &dl);
		CHECK(e, r == 0 && dl == 1, "raise MSI-X %u: %s, delivered %d",
		      i, strerror(-r), dl);
	}
	if (!hvm_dev(e, p.g, &d, &found))
		return false;
	CHECK(e, found && d.count == d.vectors, "G counted %llu interrupts, "
	      "not %u", d.count, d.vectors);

	/* Detach: device_del, the guest ejects, DEVICE_DELETED. */
	snprintf(req, sizeof(req), "{\"execute\": \"device_del\", "
		 "\"arguments\": {\"id\": \"pci-pt-%02x_%02x.%x\"}}",
		 HV_SBDF_BUS(A), HV_SBDF_DEV(A), HV_SBDF_FN(A));
	if (!qmp(e, req, reply, sizeof(reply)))
		return false;
	CHECK(e, strstr(reply, "\"return\""), "device_del: %s", reply);
	if (!e2e_qmp_read(&e->run, &e->qmp, "DEVICE_DELETED", reply,
			  sizeof(reply), WAIT_MS, false))
		return false;

	/* What the device model writes through the stub, pciback filters
	 * as a guest's: PMCSR, which no pciback field covers, reaches the
	 * device only once it is permissive (D1 then D0: no reset). */
	if (!stub_pmcsr(e, p.s, 1, 0) ||
	    !e2e_pciback_ok(&e->run, "permissive 0000:03:00.0") ||
	    !stub_pmcsr(e, p.s, 1, 1) || !stub_pmcsr(e, p.s, 0, 0))
		return false;

	/* The stub's kernel stops: its device model goes with it. */
	e2e_proc_stop(p.stub, SIGTERM);
	{
		struct pollfd pfd = { .fd = dmfd, .events = POLLIN };

		CHECK(e, poll(&pfd, 1, WAIT_MS) == 1, "the device model (pid "
		      "%d) outlived its stub domain", dmpid);
		close(dmfd);
	}
	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->run.dir, p.g);
	CHECK(e, access(path, F_OK) < 0, "%s is still there", path);
	return true;
}

static bool case_confine(struct env *e)
{
	char dom[16], path[160], xspath[128];
	struct hv_client *hs = NULL;
	struct xs_handle *xs;
	struct pair p, x;
	unsigned int id;
	uint32_t v;
	bool ok = true;
	int q, r;

	if (!env_start(e) || !good_pair(e, &p, dom, sizeof(dom)) ||
	    !host_assign(e, p.g, A) ||
	    !make_pair(e, NULL, 0, NULL, false, &x) || !host_assign(e, x.g, D))
		return false;

	/* xenstore as S */
	snprintf(xspath, sizeof(xspath), "%s/domain/%u", e->run.dir, p.s);
	setenv("XENSTORED_PATH", xspath, 1);
	xs = xs_open(0);
	CHECK(e, xs, "xs_open as dom%u: %s", p.s, strerror(errno));
	/* what its init reads, it may read */
	snprintf(path, sizeof(path), "%s/image/dm-argv/001", p.vm);
	{
		unsigned int len;
		char *arg = xs_read(xs, XBT_NULL, path, &len);

		ok = arg && !strcmp(arg, "-xen-domid");
		free(arg);
		if (!ok) {
			xs_close(xs);
			return fail(e, "dom%u cannot read %s: %s", p.s, path,
				    strerror(errno));
		}
	}
	{
		char forbidden[5][128];

		/* G's home, dom0's, the dm-argv, its own target, its
		 * device-model directory but not its guest's */
		snprintf(forbidden[0], 128, "/local/domain/%u/from-stub", p.g);
		snprintf(forbidden[1], 128, "/local/domain/0/from-stub");
		snprintf(forbidden[2], 128, "%s/image/dm-argv/001", p.vm);
		snprintf(forbidden[3], 128, "/local/domain/%u/target", p.s);
		snprintf(forbidden[4], 128, "/local/domain/%u/device-model/x",
			 p.s);
		for (unsigned int i = 0; ok && i < 5; i++) {
			if (xs_write(xs, XBT_NULL, forbidden[i], "x", 1) ||
			    errno != EACCES)
				ok = fail(e, "dom%u wrote %s (%s)", p.s,
					  forbidden[i], strerror(errno));
		}
	}
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u/state",
		 p.s, p.g);
	if (ok && !xs_write(xs, XBT_NULL, path, "running", 7))
		ok = fail(e, "dom%u cannot write its own %s: %s", p.s, path,
			  strerror(errno));
	xs_close(xs);
	if (!ok)
		return false;

	/* the hypervisor as S: G's device model, nobody else's */
	r = hv_open_domain(e->run.dir, p.s, &hs);
	CHECK(e, r == 0, "hv as dom%u: %s", p.s, strerror(-r));
	r = hv_ioreq_server_create(hs, x.g, 0, &id);
	if (r != -EPERM)
		ok = fail(e, "ioreq server for dom%u, not its target: %s",
			  x.g, strerror(-r));
	if (ok && (r = hv_map_pirq(hs, x.g, HV_IRQ_MSI, D, 0, &q)) !=
	    -EPERM)
		ok = fail(e, "map_pirq for dom%u, not its target: %s", x.g,
			  strerror(-r));
	if (ok && (r = hv_map_pirq(hs, p.g, HV_IRQ_MSI, D, 0, &q)) !=
	    -ENODEV)
		ok = fail(e, "map_pirq of %s, not its target's: %s", bdf(D),
			  strerror(-r));
	if (ok && (r = hv_set_isa_irq_level(hs, x.g, 9, 1)) != -EPERM)
		ok = fail(e, "ISA IRQ of dom%u: %s", x.g, strerror(-r));
	if (ok && (r = hv_pci_conf_read(hs, A, 0, 4, &v)) != -EPERM)
		ok = fail(e, "privileged config read: %s", strerror(-r));
	if (ok && (r = hv_set_target(hs, p.s, x.g)) != -EPERM)
		ok = fail(e, "set_target by the stub: %s", strerror(-r));
	if (ok && (r = hv_ioreq_server_create(hs, p.g, 0, &id)) != 0)
		ok = fail(e, "ioreq server for its target: %s", strerror(-r));
	hv_close(hs);
	return ok;
}

/* The stub's kernel killed outright (no SIGTERM to pass on): the device
 * model, PR_SET_PDEATHSIG, still ends. */
static bool case_killed(struct env *e)
{
	char dom[16], path[160], reply[1024], *pid;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	struct pair p;
	int dmpid, n;

	if (!env_start(e) || !good_pair(e, &p, dom, sizeof(dom)) ||
	    !stub_boot(e, &p))
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u/state",
		 p.s, p.g);
	if (!wait_xs(e, path, "running") ||
	    !e2e_guest_query(&e->run, p.s, "status", reply, sizeof(reply)))
		return false;
	pid = strstr(reply, "dm-pid=");
	CHECK(e, pid, "stub status: %s", reply);
	dmpid = atoi(pid + 7);
	pfd.fd = (int)syscall(SYS_pidfd_open, dmpid, 0);
	CHECK(e, pfd.fd >= 0, "pidfd of %d: %s", dmpid, strerror(errno));
	e2e_proc_stop(p.stub, SIGKILL);
	n = poll(&pfd, 1, WAIT_MS);
	close(pfd.fd);
	CHECK(e, n == 1, "the device model (pid %d) outlived its killed stub",
	      dmpid);
	return true;
}

/* One garbage configuration: the stub refuses, says why, starts
 * nothing. */
static bool refused(struct env *e, const char *what, const char *const *args,
		    unsigned int nargs, const char *target, const char *why)
{
	char path[256], reply[1024], cmd[400];
	struct pair p;

	if (!make_pair(e, args, nargs, target, target != NULL, &p) ||
	    !stub_boot(e, &p))
		return fail(e, "%s: %s", what, e->run.why);
	if (!e2e_guest_query(&e->run, p.s, "status", reply, sizeof(reply)))
		return false;
	CHECK(e, strstr(reply, " stubdom ") && strstr(reply, "dm=refused"),
	      "%s: the stub says %s", what, reply);
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u/state",
		 p.s, p.g);
	{
		char *v = xs_get(e, path);

		free(v);
		CHECK(e, !v, "%s: %s appeared", what, path);
	}
	snprintf(path, sizeof(path), "%s/qmp-libxl-%u", e->run.dir, p.g);
	CHECK(e, access(path, F_OK) < 0, "%s: %s appeared", what, path);
	snprintf(cmd, sizeof(cmd), "grep -q 'not starting the device model: "
		 ".*%s' '%s/stub%u.log'", why, e->run.dir, p.s);
	CHECK(e, system(cmd) == 0, "%s: the stub's log does not say '%s'",
	      what, why);
	e2e_proc_stop(p.stub, SIGTERM);
	return true;
}

static bool case_refuse(struct env *e)
{
	static const char *const chardev[] = {
		"-xen-domid", "$", "-chardev", "socket,id=x,path=/tmp/x",
	};
	static const char *const rundir[] = {
		"-xen-domid", "$", "--rundir", "/tmp",
	};
	static const char *const paused[] = { "-xen-domid", "$", "-S" };
	static const char *const other[] = { "-xen-domid", "1" };
	static const char *const gap[] = { "-xen-domid", "$", "@004" };
	const char *many[70], *args[4];
	char dom[16];
	unsigned int i, g;
	int r;

	if (!env_start(e))
		return false;
	/* Each pair's G is the next domid (see good_pair). */
#define NEXT_G() (r = hv_domain_create(e->hv, 0, "p", 0, 1, &g), \
		  hv_domain_destroy(e->hv, g), \
		  snprintf(dom, sizeof(dom), "%u", g + 1), r == 0)
#define WITH(list) (memcpy(args, list, sizeof(list)), args[1] = dom, args)
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "no target", good_argv + 2, 4, NULL,
		     "cannot read /local/domain/[0-9]*/target"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "target not a number", WITH(other), 2, "five",
		     "is .five., not a guest domid"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "-chardev", WITH(chardev), 4, dom,
		     ".-chardev. is not allowed"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "--rundir", WITH(rundir), 4, dom,
		     ".--rundir. is not allowed"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "-S", WITH(paused), 3, dom, ".-S.: a stub"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "another guest", other, 2, dom,
		     "-xen-domid .1. is not this stub.s target"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "a gap", WITH(gap), 3, dom, "keys must be 001..003"))
		return false;
	CHECK(e, NEXT_G(), "create");
	for (i = 0; i < 70; i++)
		many[i] = i == 1 ? dom : i ? "-nodefaults" : "-xen-domid";
	if (!refused(e, "too many", many, 70, dom, "has 70 arguments"))
		return false;
	CHECK(e, NEXT_G(), "create");
	if (!refused(e, "no dm-argv", NULL, 0, dom, "cannot list"))
		return false;
#undef NEXT_G
#undef WITH
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(struct env *e);
} cases[] = {
	{ "chain", case_chain },
	{ "confine", case_confine },
	{ "killed", case_killed },
	{ "refuse", case_refuse },
};

int main(int argc, char **argv)
{
	unsigned int i, failed = 0;
	int j;

	if (argc < 8) {
		fprintf(stderr, "usage: %s XENSTORED HYPERVISOR PCIBACK GUEST "
			"DM FIXTURE HOSTFILE [CASE...]\n", argv[0]);
		return 2;
	}
	bin_xenstored = argv[1];
	bin_hv = argv[2];
	bin_pciback = argv[3];
	bin_guest = argv[4];
	bin_dm = argv[5];
	bin_fixture = argv[6];
	hostfile = argv[7];
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env e;
		bool ok, wanted = argc == 8;

		for (j = 8; j < argc; j++)
			wanted |= !strcmp(argv[j], cases[i].name);
		if (!wanted)
			continue;
		ok = cases[i].fn(&e);
		printf("%s: %s%s%s\n", cases[i].name, ok ? "ok" : "FAIL",
		       ok ? "" : ": ", ok ? "" : e.run.why);
		fflush(stdout);
		env_stop(&e, !ok);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
