// SPDX-License-Identifier: MIT
/*
 * xpt-hypervisor: the model of Xen that the toolstack, pciback and guests
 * talk to over hvproto.h.  Command line, start-up, readiness and shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

static const char usage_text[] =
"Usage: xpt-hypervisor [OPTION]... (--host FILE | --from-sysfs)\n"
"A model of the Xen hypervisor for PCI passthrough: domains, event\n"
"channels, grant tables, host PCI devices with real config spaces, IOMMU\n"
"assignment and quarantine, PIRQs and MSI/MSI-X state as Xen 4.17 keeps them;\n"
"for HVM guests, ioreq servers, guest I/O routing and pass-through IRQs;\n"
"for PVH guests, vPCI (config-space traps, deferred BAR mapping into the\n"
"p2m) with one thread per vCPU.\n"
"\n"
"  -R, --rundir DIR      run directory (default: $XPT_RUNDIR, else /run/xpt);\n"
"                        sockets DIR/hv/control (privileged) and, per\n"
"                        domain, DIR/hv/domain/<domid>; pid file\n"
"                        DIR/hv/hypervisor.pid, written once ready\n"
"  -H, --host FILE       the host's PCI devices, see xpt-host(5)\n"
"  -S, --from-sysfs      describe this machine's PCI devices instead, read\n"
"                        from /sys/bus/pci/devices (nothing is written)\n"
"      --sysfs-root DIR  read devices from DIR instead (implies --from-sysfs)\n"
"      --no-quarantine   deassigned devices return to dom0, not DOMID_IO\n"
"                        (Xen's iommu=no-quarantine; default: quarantine)\n"
"      --event-log FILE  append a line per change a PCI passthrough reader\n"
"                        cares about to FILE (domains, device assignment,\n"
"                        pirqs, MSI-X, event channels, grant maps, ioreq\n"
"                        servers), timestamped as xpt-xenstored's -T log\n"
"      --vpci-profile=fixed|historic\n"
"                        vPCI's locking: fixed (Xen 4.19's, with its two\n"
"                        open races closed; the default) or historic\n"
"                        (before 4.19: a device removed under a pending\n"
"                        BAR mapping is used after it was freed)\n"
"  -v, --verbose         more log output (repeat for debug)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Clients use the protocol of src/hypervisor/hvproto.h (libhvclient).\n"
"SIGTERM or SIGINT stops the daemon and removes its sockets and pid file.\n"
"See xpt-hypervisor(8).\n";

static int write_pid(const char *path)
{
	char tmp[4096], buf[32];
	int fd, n, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%.4000s.tmp", path) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		r = -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "host", required_argument, NULL, 'H' },
		{ "from-sysfs", no_argument, NULL, 'S' },
		{ "sysfs-root", required_argument, NULL, 1 },
		{ "no-quarantine", no_argument, NULL, 2 },
		{ "vpci-profile", required_argument, NULL, 3 },
		{ "event-log", required_argument, NULL, 4 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = getenv("XPT_RUNDIR"), *host = NULL;
	const char *sysfs = NULL, *evlog = NULL;
	bool quarantine = true;
	enum hyp_vpci_profile profile = HYP_VPCI_FIXED;
	int verbose = 0, c, r;
	struct hyp *h = NULL;
	char err[512], pid[4000];

	while ((c = getopt_long(argc, argv, "R:H:SvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			rundir = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'S':
			sysfs = "/sys/bus/pci/devices";
			break;
		case 1:
			sysfs = optarg;
			break;
		case 2:
			quarantine = false;
			break;
		case 3:
			if (hyp_vpci_parse_profile(optarg, &profile) < 0) {
				fprintf(stderr, "xpt-hypervisor: --vpci-profile "
					"is fixed or historic, not '%s'\n%s",
					optarg, usage_text);
				return 2;
			}
			break;
		case 4:
			evlog = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("xpt-hypervisor %s\n", XPT_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	log_init("xpt-hypervisor", LOG_LVL_WARN + verbose);
	if (optind < argc) {
		fprintf(stderr, "xpt-hypervisor: unexpected argument '%s'\n%s",
			argv[optind], usage_text);
		return 2;
	}
	if (!host == !sysfs) {
		fprintf(stderr, "xpt-hypervisor: give exactly one of --host FILE "
			"and --from-sysfs\n%s", usage_text);
		return 2;
	}
	if (!rundir || !*rundir)
		rundir = "/run/xpt";
	if (hyp_new(&h) < 0)
		fatal("out of memory");
	h->quarantine = quarantine;
	hyp_vpci_set_profile(h, profile);
	if (profile != HYP_VPCI_FIXED)
		log_warn("vPCI profile %s: reproduces Xen's use-after-free of "
			 "a device removed under a pending BAR mapping",
			 hyp_vpci_profile_name(profile));
	if (evlog && (r = hyp_evlog_open(h, evlog)) < 0)
		fatal("--event-log %s: %s", evlog, strerror(-r));
	err[0] = '\0';
	r = host ? hyp_host_load(h, host, err, sizeof(err)) :
		   hyp_host_from_sysfs(h, sysfs, err, sizeof(err));
	if (r < 0)
		fatal("%s", err[0] ? err : strerror(-r));
	log_info("%u PCI devices from %s", h->npci, host ? host : sysfs);
	r = hyp_listen(h, rundir);
	if (r < 0)
		fatal("%s/hv: cannot listen: %s", rundir, strerror(-r));
	if ((size_t)snprintf(pid, sizeof(pid), "%s/hv/hypervisor.pid",
			     rundir) >= sizeof(pid))
		fatal("%s: run directory name too long", rundir);
	r = write_pid(pid);
	if (r < 0)
		fatal("%s: %s", pid, strerror(-r));
	log_info("ready: %s/hv/control", rundir);
	r = hyp_run(h);
	unlink(pid);
	hyp_free(h);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		return 1;
	}
	return 0;
}
