// SPDX-License-Identifier: MIT
/*
 * The interop table: toolstack (xpt / libxl 4.17 peer) x backend (current
 * / pre-5.13) x scenario; a cell says what the guest sees against what it
 * should see.
 */
#include <stdio.h>
#include <string.h>

#include "toolstack.h"

const char *const interop_scenarios[] = {
	"cold-plug 1 device", "cold-plug 3 devices", "hot-attach", "detach",
	"`create -p`, 2 attaches, unpause",
};
const unsigned int ninterop = 5;

/* what the guest sees: OK, or the difference in a few words */
static bool sees(struct env *e, unsigned int domid, const uint32_t *want,
		 unsigned int n, char *cell, size_t len)
{
	struct e2e_qstatus s;
	unsigned int i, have = 0;

	if (wait_guest_devs(e, domid, n, 5000)) {
		snprintf(cell, len, "OK");
		return true;
	}
	if (!e2e_guest_status(&e->run, domid, &s)) {
		snprintf(cell, len, "guest does not answer");
		return false;
	}
	for (i = 0; i < n; i++)
		have += qhas(&s, want[i]);
	if (s.n != have)
		snprintf(cell, len, "guest sees %u devices, %u expected ones of %u",
			 s.n, have, n);
	else if (have != n)
		snprintf(cell, len, "guest sees %u of %u devices", have, n);
	else
		snprintf(cell, len, "devices seen, not Connected (frontend %d, "
			 "backend %d)", fe_state(e, domid), be_state(e, domid));
	return false;
}

bool interop_cell(const struct ts *ts, bool historic, int scenario,
		  char *cell, size_t len)
{
	uint32_t d[] = { DEV_A, DEV_B, DEV_C };
	unsigned int domid;
	struct env e;
	bool ok = false;
	int rc;

	snprintf(cell, len, "?");
	if (!env_start(&e, ts, historic) || !assignable(&e, DEV_A) ||
	    !assignable(&e, DEV_B) || !assignable(&e, DEV_C)) {
		snprintf(cell, len, "host: %s", e.run.why);
		goto out;
	}
	switch (scenario) {
	case 0:
		if (create(&e, "g1", "'03:00.0'", &domid))
			ok = sees(&e, domid, d, 1, cell, len);
		break;
	case 1:
		if (create(&e, "g1", "'03:00.0', '04:00.0', '05:00.0'", &domid))
			ok = sees(&e, domid, d, 3, cell, len);
		break;
	case 2:
		if (!create(&e, "g1", "'03:00.0'", &domid) ||
		    !wait_guest_devs(&e, domid, 1, 5000))
			break;
		rc = TS(&e, 30000, "pci-attach", "g1", "04:00.0");
		if (rc != 0)
			snprintf(e.run.why, sizeof(e.run.why),
				 "pci-attach rc %d", rc);
		else
			ok = sees(&e, domid, d, 2, cell, len);
		break;
	case 3:
		/* cold-plug one, hot-attach one: the detach alone is shown */
		if (!create(&e, "g1", "'03:00.0'", &domid) ||
		    !wait_guest_devs(&e, domid, 1, 5000))
			break;
		rc = TS(&e, 30000, "pci-attach", "g1", "04:00.0");
		if (rc != 0 || !wait_guest_devs(&e, domid, 2, 5000)) {
			snprintf(cell, len, "setup failed: %s", e.run.why[0] ?
				 e.run.why : "pci-attach");
			break;
		}
		rc = TS(&e, 30000, "pci-detach", "g1", "03:00.0");
		if (rc != 0)
			snprintf(e.run.why, sizeof(e.run.why),
				 "pci-detach rc %d", rc);
		else
			ok = sees(&e, domid, d + 1, 1, cell, len);
		break;
	case 4:
		/* devices attached before the first unpause are exported
		 * whatever the backend's version */
		rc = TS(&e, 10000, "create", "-p", cfg_file(&e, "g1",
							     "'03:00.0'"));
		if (rc != 0 || !dom_by_name(&e, "g1", &domid)) {
			snprintf(cell, len, "create -p rc %d", rc);
			break;
		}
		rc = TS(&e, 30000, "pci-attach", "g1", "04:00.0");
		if (rc == 0)
			rc = TS(&e, 30000, "pci-attach", "g1", "05:00.0");
		if (rc != 0) {
			char *bar = strchr(e.out, '|');

			if (bar)
				*bar = '\0';
			snprintf(cell, len, "pci-attach to the paused domain: "
				 "rc %d (%.90s)", rc, e.out);
			break;
		}
		rc = TS(&e, 30000, "unpause", "g1");
		if (rc != 0 || !guest_wait_started(&e, domid))
			snprintf(cell, len, "unpause rc %d", rc);
		else
			ok = sees(&e, domid, d, 3, cell, len);
		break;
	}
	if (!ok && !strcmp(cell, "?"))
		snprintf(cell, len, "%s", e.run.why);
out:
	env_stop(&e, false);
	return ok;
}

/* One round of the unpaced race: the peer without its cold-plug pace (as
 * real libxl 4.17, which does not wait between the per-device
 * transactions) against a pre-5.13 pciback, 3 devices; *ret_seen is what
 * the guest sees.  false on a harness failure. */
bool interop_unpaced_round(const struct ts *peer, unsigned int *ret_seen)
{
	struct e2e_qstatus s;
	unsigned int domid;
	struct env e;
	bool ok = false;

	*ret_seen = 0;
	if (!env_start(&e, peer, true) || !assignable(&e, DEV_A) ||
	    !assignable(&e, DEV_B) || !assignable(&e, DEV_C))
		goto out;
	e.variant = "unpaced";
	if (!create(&e, "g1", "'03:00.0', '04:00.0', '05:00.0'", &domid))
		goto out;
	ok = true;
	if (wait_guest_devs(&e, domid, 3, 2000))
		*ret_seen = 3;
	else if (e2e_guest_status(&e.run, domid, &s))
		*ret_seen = s.n;
out:
	env_stop(&e, false);
	return ok;
}
