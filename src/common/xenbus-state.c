// SPDX-License-Identifier: MIT
/* The names of xenbus states: one table for the toolstack, pciback, the
 * guest model and xpt trace, whose output tests compare. */
#include <stddef.h>

#include <xen/io/xenbus.h>

#include "xenbus-state.h"

static const char *const names[] = {
	[XenbusStateUnknown] = "Unknown",
	[XenbusStateInitialising] = "Initialising",
	[XenbusStateInitWait] = "InitWait",
	[XenbusStateInitialised] = "Initialised",
	[XenbusStateConnected] = "Connected",
	[XenbusStateClosing] = "Closing",
	[XenbusStateClosed] = "Closed",
	[XenbusStateReconfiguring] = "Reconfiguring",
	[XenbusStateReconfigured] = "Reconfigured",
};

const char *xenbus_state_name(int state)
{
	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[state];
}
