// SPDX-License-Identifier: MIT
/*
 * Quota names and values: one table for the command line (-Q, -q) and
 * xenstore-control's "quota" and "quota-soft" commands, with C xenstored
 * 4.17's names, descriptions and report formats.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "xenstored.h"

#define Q(field) offsetof(struct xsd_quota, field)

/* In the order 4.17's "quota" command lists them; xpt's own ones last. */
static const struct quota_def quota_defs[] = {
	{ "nodes", Q(nodes), "Nodes per domain", false },
	{ "watches", Q(watches), "Watches per domain", false },
	{ "transactions", Q(transactions), "Transactions per domain", false },
	{ "outstanding", Q(outstanding), "Outstanding requests per domain",
	  false },
	{ "transaction-nodes", Q(txn_nodes),
	  "Max. number of accessed nodes per transaction", false },
	{ "memory", Q(memory),
	  "Total Xenstore memory per domain (error level)", false },
	{ "node-size", Q(node_size), "Max. size of a node", false },
	{ "path-max", Q(path_max), "Max. length of a node path", false },
	{ "permissions", Q(permissions),
	  "Max. number of permissions per node", false },
	{ "watch-event-timeout", Q(event_timeout),
	  "Seconds a watch event may wait unsent", false },
	{ "connections", Q(connections), "Connections per domain", false },
	{ "memory", Q(memory_soft),
	  "Total Xenstore memory per domain (warning level)", true },
};

const struct quota_def *quota_find(const char *name, bool soft)
{
	size_t i;

	for (i = 0; i < sizeof(quota_defs) / sizeof(quota_defs[0]); i++)
		if (quota_defs[i].soft == soft &&
		    strcmp(quota_defs[i].name, name) == 0)
			return &quota_defs[i];
	return NULL;
}

unsigned int *quota_ref(struct xsd_quota *q, const struct quota_def *def)
{
	return (unsigned int *)((char *)q + def->off);
}

static unsigned int quota_value(const struct xsd_quota *q,
				const struct quota_def *def)
{
	return *(const unsigned int *)((const char *)q + def->off);
}

/*
 * A quota value or a domid: plain decimal digits that fit an int.  No
 * sign, no blanks, no wrap-around: "10000000000000" is refused, not 2^32
 * smaller.
 */
int quota_parse(const char *s, unsigned int *ret)
{
	unsigned long long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* "Quota settings:" and one line per quota, as 4.17 prints them. */
int quota_show(const struct xsd_quota *q, bool soft, char *buf, size_t len,
	       uint32_t *ret_len)
{
	size_t used, i;
	int n;

	n = snprintf(buf, len, "Quota settings:\n");
	used = n;
	for (i = 0; i < sizeof(quota_defs) / sizeof(quota_defs[0]); i++) {
		const struct quota_def *d = &quota_defs[i];

		if (d->soft != soft)
			continue;
		n = snprintf(buf + used, len - used, "%-17s: %8u %s\n",
			     d->name, quota_value(q, d), d->descr);
		if (n < 0 || (size_t)n >= len - used)
			return -E2BIG;
		used += n;
	}
	*ret_len = used + 1;
	return 0;
}

/* What a domain uses of its quotas ("quota <domid>"). */
int quota_report(struct xsd *xsd, unsigned int domid, char *buf, size_t len,
		 uint32_t *ret_len)
{
	struct domain *d = domain_find(xsd, domid);
	int n;

	if (!d)
		return -ENOENT;
	n = snprintf(buf, len,
		     "Domain %u:\n%-16s: %8d\n%-16s: %8u\n%-16s: %8u\n"
		     "%-16s: %8u\n%-16s: %8zu\n",
		     domid, "nodes", d->nnodes, "watches", d->nwatches,
		     "transactions", d->ntxns, "outstanding", d->nout,
		     "memory", conn_domain_memory(d));
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	*ret_len = n + 1;
	return 0;
}
