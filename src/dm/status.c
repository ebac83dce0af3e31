// SPDX-License-Identifier: MIT
/*
 * The VM's run state as the device model sees it: its ioreq server is
 * enabled exactly while the VM runs, and entering running announces
 * readiness in xenstore as QEMU does
 * (/local/domain/<dm-domid>/device-model/<domid>/state = running).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dm.h"
#include "log.h"

void dm_set_status(struct dm *d, enum dm_status s)
{
	char path[128];

	d->status = s;
	ioreq_set_enabled(d, s == DM_RUNNING);
	if (s != DM_RUNNING || !d->xs)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/device-model/%u/state",
		 d->dm_domid, d->domid);
	if (!xs_write(d->xs, XBT_NULL, path, "running", 7))
		log_warn("cannot write %s: %s", path, strerror(errno));
	else
		log_info("domain %u: running (%s)", d->domid, path);
}
