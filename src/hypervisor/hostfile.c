// SPDX-License-Identifier: MIT
/*
 * The host description: the host file (format in xpt-host(5)) and
 * --from-sysfs (this machine's devices, read-only).  Both produce device
 * descriptions that pci.c turns into config spaces.
 *
 * One line per device:
 *   03:00.0 8086:1572 class=020000 bar0=8M,mem64,prefetch bar3=32K,mem64
 *           msix=129 msix-bar=3 vfs=4 vf-device=154c reset=flr
 * Every error names the file, the line and what to write instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

#define MEM64_BASE 0x380000000000ull	/* frames above 2^32 */
#define MEM32_BASE 0xe0000000ull
#define MEM32_LIMIT 0xfec00000ull
#define IO_BASE 0xc000ull
#define IO_LIMIT 0x10000ull

struct parse {
	struct hyp *h;
	const char *name;
	unsigned int line;
	char *err;
	size_t errlen;
	uint64_t next_mem64, next_mem32, next_io;
	uint32_t next_gsi;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u64(const char *s, int base, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* 4096, 0x1000, 4K, 16M, 2G, 1T */
static int parse_size(const char *s, uint64_t *ret)
{
	char buf[64];
	size_t l = strlen(s);
	unsigned int shift = 0;
	uint64_t v;

	if (l == 0 || l >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, l + 1);
	switch (buf[l - 1]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	case 'T': case 't': shift = 40; break;
	default: break;
	}
	if (shift)
		buf[l - 1] = '\0';
	if (parse_u64(buf, 0, &v) < 0 || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*ret = v << shift;
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* bar<N>=SIZE[,io|mem32|mem64][,prefetch][,at=ADDR] */
static int parse_bar(struct parse *ps, struct hyp_pcidev *p, unsigned int n,
		     char *val)
{
	struct hv_pci_bar *b = &p->info.bar[n];
	char *tok, *save = NULL;
	bool first = true, have_at = false;
	uint64_t at = 0;

	if (b->size)
		return perr(ps, "bar%u is described twice (or is the upper "
			    "half of a 64-bit bar%u)", n, n - 1);
	for (tok = strtok_r(val, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), first = false) {
		if (first) {
			if (parse_size(tok, &b->size) < 0 || !is_pow2(b->size))
				return perr(ps, "bar%u: size '%s' is not a power "
					    "of two (write e.g. bar%u=16M)",
					    n, tok, n);
		} else if (!strcmp(tok, "io")) {
			b->flags |= HV_BAR_IO;
		} else if (!strcmp(tok, "mem32")) {
			b->flags &= ~(uint32_t)HV_BAR_64;
		} else if (!strcmp(tok, "mem64")) {
			b->flags |= HV_BAR_64;
		} else if (!strcmp(tok, "prefetch")) {
			b->flags |= HV_BAR_PREFETCH;
		} else if (!strncmp(tok, "at=", 3)) {
			if (parse_u64(tok + 3, 0, &at) < 0)
				return perr(ps, "bar%u: address '%s' is not a "
					    "number (write at=0x...)", n,
					    tok + 3);
			have_at = true;
		} else {
			return perr(ps, "bar%u: unknown attribute '%s' (use io, "
				    "mem32, mem64, prefetch, at=ADDR)", n, tok);
		}
	}
	if (first)
		return perr(ps, "bar%u: no size (write e.g. bar%u=16M,mem64)",
			    n, n);
	if (b->flags & HV_BAR_IO) {
		if (b->flags & (HV_BAR_64 | HV_BAR_PREFETCH))
			return perr(ps, "bar%u: an io bar cannot be mem64 or "
				    "prefetch", n);
		if (b->size < 4 || b->size > 256)
			return perr(ps, "bar%u: io bar size must be 4..256 "
				    "bytes", n);
	} else {
		if (b->size < 16)
			return perr(ps, "bar%u: memory bar size must be at "
				    "least 16 bytes", n);
		if (!(b->flags & HV_BAR_64) && b->size > 0x80000000ull)
			return perr(ps, "bar%u: a 32-bit bar holds at most 2G "
				    "(add ,mem64)", n);
	}
	if (b->flags & HV_BAR_64) {
		if (n == 5)
			return perr(ps, "bar5 cannot be 64-bit: it needs the "
				    "next bar for its upper half");
		if (p->info.bar[n + 1].size)
			return perr(ps, "bar%u is 64-bit, so bar%u is its upper "
				    "half and cannot be described", n, n + 1);
	}
	if (n > 0 && p->info.bar[n - 1].flags & HV_BAR_64)
		return perr(ps, "bar%u is the upper half of 64-bit bar%u",
			    n, n - 1);
	if (have_at) {
		if (at & (b->size - 1))
			return perr(ps, "bar%u: address %#" PRIx64 " is not "
				    "aligned to its size %#" PRIx64, n, at,
				    b->size);
		b->addr = at;
	} else if (b->flags & HV_BAR_IO) {
		b->addr = align_up(ps->next_io, b->size);
		if (b->addr + b->size > IO_LIMIT)
			return perr(ps, "bar%u: io space exhausted (give "
				    "at=PORT)", n);
		ps->next_io = b->addr + b->size;
	} else if (b->flags & HV_BAR_64) {
		b->addr = align_up(ps->next_mem64, b->size);
		ps->next_mem64 = b->addr + b->size;
	} else {
		b->addr = align_up(ps->next_mem32, b->size);
		if (b->addr + b->size > MEM32_LIMIT)
			return perr(ps, "bar%u: 32-bit memory window exhausted "
				    "(make the bar mem64 or give at=ADDR)", n);
		ps->next_mem32 = b->addr + b->size;
	}
	return 0;
}

static int parse_uint_key(struct parse *ps, const char *key, const char *val,
			  int base, uint64_t max, uint64_t *ret)
{
	if (parse_u64(val, base, ret) < 0 || *ret > max)
		return perr(ps, "%s='%s' is not a number up to %" PRIu64, key,
			    val, max);
	return 0;
}

struct pf_extra {
	bool msix_bar_set, msix_table_set, msix_pba_set, pcie_set;
	bool reset_set, gsi_set;
};

/* The MSI-X table and PBA must sit inside a memory BAR. */
static int place_msix(struct parse *ps, struct hyp_pcidev *p,
		      const struct pf_extra *x)
{
	uint64_t tsize = (uint64_t)p->info.msix_entries * MSIX_ENTRY_SIZE;
	uint64_t psize = align_up((p->info.msix_entries + 63u) / 64u * 8u, 8);
	const struct hv_pci_bar *tb, *pb;
	unsigned int i;

	if (!x->msix_bar_set) {
		for (i = 0; i < 6; i++)
			if (p->info.bar[i].size &&
			    !(p->info.bar[i].flags & HV_BAR_IO))
				break;
		if (i == 6)
			return perr(ps, "msix needs a memory bar for its table "
				    "(add e.g. bar0=16K,mem64)");
		p->msix_table_bar = p->msix_pba_bar = (uint8_t)i;
	}
	if (!x->msix_pba_set)
		p->msix_pba_off = (uint32_t)align_up(p->msix_table_off + tsize,
						     4096);
	tb = &p->info.bar[p->msix_table_bar];
	pb = &p->info.bar[p->msix_pba_bar];
	if (!tb->size || tb->flags & HV_BAR_IO)
		return perr(ps, "msix-bar=%u is not a memory bar of this "
			    "device", p->msix_table_bar);
	if (p->msix_table_off & 7 || p->msix_pba_off & 7)
		return perr(ps, "msix-table/msix-pba offsets must be 8-byte "
			    "aligned");
	if (p->msix_table_off + tsize > tb->size)
		return perr(ps, "MSI-X table (%u entries, %" PRIu64 " bytes at "
			    "%#x) does not fit in bar%u (%#" PRIx64 " bytes): "
			    "enlarge the bar or lower msix", p->info.msix_entries,
			    tsize, p->msix_table_off, p->msix_table_bar,
			    tb->size);
	if (p->msix_pba_off + psize > pb->size)
		return perr(ps, "MSI-X PBA at %#x does not fit in bar%u "
			    "(%#" PRIx64 " bytes): enlarge the bar or set "
			    "msix-pba=OFFSET", p->msix_pba_off, p->msix_pba_bar,
			    pb->size);
	if (p->msix_table_bar == p->msix_pba_bar &&
	    p->msix_pba_off < p->msix_table_off + tsize &&
	    p->msix_table_off < p->msix_pba_off + psize)
		return perr(ps, "MSI-X table and PBA overlap: set msix-pba=OFFSET "
			    "past the table");
	return 0;
}

static int parse_key(struct parse *ps, struct hyp_pcidev *p,
		     struct pf_extra *x, char *key, char *val)
{
	uint64_t v;
	int r;

	if (!strcmp(key, "pcie") && !val) {
		p->pcie = true;
		x->pcie_set = true;
		return 0;
	}
	if (!val)
		return perr(ps, "'%s' needs a value (write %s=...)", key, key);
	if (!strcmp(key, "class")) {
		if ((r = parse_uint_key(ps, key, val, 16, 0xffffff, &v)) < 0)
			return r;
		p->info.class = (uint32_t)v;
	} else if (!strncmp(key, "bar", 3) && key[3] >= '0' && key[3] <= '5' &&
		   !key[4]) {
		return parse_bar(ps, p, (unsigned int)(key[3] - '0'), val);
	} else if (!strcmp(key, "intx")) {
		if (strlen(val) == 1 && val[0] >= 'a' && val[0] <= 'd')
			p->info.intx_pin = (uint8_t)(val[0] - 'a' + 1);
		else if (!strcmp(val, "none"))
			p->info.intx_pin = 0;
		else
			return perr(ps, "intx='%s': use a, b, c, d or none", val);
	} else if (!strcmp(key, "gsi")) {
		if ((r = parse_uint_key(ps, key, val, 0, 255, &v)) < 0)
			return r;
		p->info.gsi = (uint32_t)v;
		x->gsi_set = true;
	} else if (!strcmp(key, "msi")) {
		if (parse_u64(val, 0, &v) < 0 || !is_pow2(v) || v > 32)
			return perr(ps, "msi='%s': the vector count must be 1, "
				    "2, 4, 8, 16 or 32", val);
		p->msi_vectors = (uint8_t)v;
		p->info.has_msi = 1;
	} else if (!strcmp(key, "msix")) {
		if (parse_u64(val, 0, &v) < 0 || v < 1 || v > 2048)
			return perr(ps, "msix='%s': the table size must be "
				    "1..2048 entries", val);
		p->info.has_msix = 1;
		p->info.msix_entries = (uint16_t)v;
	} else if (!strcmp(key, "msix-bar")) {
		if ((r = parse_uint_key(ps, key, val, 0, 5, &v)) < 0)
			return r;
		p->msix_table_bar = p->msix_pba_bar = (uint8_t)v;
		x->msix_bar_set = true;
	} else if (!strcmp(key, "msix-table")) {
		if ((r = parse_uint_key(ps, key, val, 0, 0xfffffff8, &v)) < 0)
			return r;
		p->msix_table_off = (uint32_t)v;
		x->msix_table_set = true;
	} else if (!strcmp(key, "msix-pba")) {
		char *colon = strchr(val, ':');

		if (colon) {	/* msix-pba=BAR:OFFSET */
			*colon = '\0';
			if ((r = parse_uint_key(ps, key, val, 0, 5, &v)) < 0)
				return r;
			p->msix_pba_bar = (uint8_t)v;
			val = colon + 1;
		}
		if ((r = parse_uint_key(ps, key, val, 0, 0xfffffff8, &v)) < 0)
			return r;
		p->msix_pba_off = (uint32_t)v;
		x->msix_pba_set = true;
	} else if (!strcmp(key, "vfs")) {
		if ((r = parse_uint_key(ps, key, val, 0, 64, &v)) < 0)
			return r;
		p->info.num_vfs = (uint16_t)v;
	} else if (!strcmp(key, "vf-device")) {
		if ((r = parse_uint_key(ps, key, val, 16, 0xffff, &v)) < 0)
			return r;
		p->vf_device = (uint32_t)v;
	} else if (!strcmp(key, "vf-offset")) {
		if ((r = parse_uint_key(ps, key, val, 0, 0xffff, &v)) < 0)
			return r;
		p->vf_offset = (uint32_t)v;
	} else if (!strcmp(key, "vf-stride")) {
		if ((r = parse_uint_key(ps, key, val, 0, 0xff, &v)) < 0)
			return r;
		if (v == 0)
			return perr(ps, "vf-stride must be at least 1");
		p->vf_stride = (uint32_t)v;
	} else if (!strcmp(key, "reset")) {
		if (!strcmp(val, "flr"))
			p->info.reset = HYP_RESET_FLR;
		else if (!strcmp(val, "pm"))
			p->info.reset = HYP_RESET_PM;
		else if (!strcmp(val, "bus"))
			p->info.reset = HYP_RESET_BUS;
		else if (!strcmp(val, "none"))
			p->info.reset = HYP_RESET_NONE;
		else
			return perr(ps, "reset='%s': use flr, pm, bus or none",
				    val);
		x->reset_set = true;
	} else if (!strcmp(key, "rmrr")) {
		if ((r = parse_uint_key(ps, key, val, 10, 255, &v)) < 0)
			return r;
		if (!v)
			return perr(ps, "rmrr=0: name an RMRR 1..255 (devices "
				    "with the same number share it)");
		p->rmrr = (uint8_t)v;
	} else if (!strcmp(key, "driver")) {
		if (!*val || strlen(val) >= sizeof(p->info.driver) ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(val))
			return perr(ps, "driver='%s': a Linux driver name "
				    "(letters, digits, _ and -, at most %zu), "
				    "e.g. driver=e1000e", val,
				    sizeof(p->info.driver) - 1);
		snprintf(p->info.driver, sizeof(p->info.driver), "%s", val);
	} else if (!strcmp(key, "mmio-id")) {
		if ((r = parse_uint_key(ps, key, val, 0, 0xffffffff, &v)) < 0)
			return r;
		p->mmio_id = (uint32_t)v;
		p->has_mmio_id = true;
	} else if (!strcmp(key, "pcie")) {
		if (!strcmp(val, "yes"))
			p->pcie = true;
		else if (!strcmp(val, "no"))
			p->pcie = false;
		else
			return perr(ps, "pcie='%s': use yes or no", val);
		x->pcie_set = true;
	} else {
		return perr(ps, "unknown key '%s' (keys: class, bar0..bar5, "
			    "intx, gsi, msi, msix, msix-bar, msix-table, "
			    "msix-pba, vfs, vf-device, vf-offset, vf-stride, "
			    "reset, driver, rmrr, pcie, mmio-id)", key);
	}
	return 0;
}

static int add_dev(struct parse *ps, struct hyp_pcidev *p)
{
	char msg[256];
	int r = hyp_pci_add(ps->h, p, msg, sizeof(msg));

	if (r == -EEXIST || r == -ENOSPC)
		return perr(ps, "%s", msg);
	return r;
}

/* VFs at routing id PF + offset + i * stride, as the SR-IOV spec says. */
static int add_vfs(struct parse *ps, const struct hyp_pcidev *pf)
{
	uint32_t rid = pf->info.sbdf & 0xffff, i;
	struct hyp_pcidev *vf;
	int r;

	vf = calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	for (i = 0; i < pf->info.num_vfs; i++) {
		uint32_t vrid = rid + pf->vf_offset + i * pf->vf_stride;

		if (vrid > 0xffff) {
			free(vf);
			return perr(ps, "VF %u would be beyond bus ff: lower "
				    "vf-offset/vf-stride", i);
		}
		*vf = *pf;
		vf->info.sbdf = (pf->info.sbdf & 0xffff0000u) | vrid;
		vf->info.device = (uint16_t)pf->vf_device;
		vf->info.num_vfs = 0;
		vf->info.pf_sbdf = pf->info.sbdf;
		vf->info.intx_pin = 0;	/* VFs have no INTx */
		vf->info.gsi = 0;
		vf->info.reset = HYP_RESET_FLR;	/* mandatory for VFs */
		vf->pcie = true;
		vf->msi_vectors = 0;
		vf->info.has_msi = 0;
		/* Each VF gets its own copy of the PF's memory BAR layout. */
		for (unsigned int b = 0; b < 6; b++) {
			struct hv_pci_bar *bar = &vf->info.bar[b];

			if (!bar->size)
				continue;
			if (bar->flags & HV_BAR_IO) {
				*bar = (struct hv_pci_bar){ 0 };
				continue;
			}
			bar->addr = align_up(ps->next_mem64, bar->size);
			bar->flags |= HV_BAR_64;
			ps->next_mem64 = bar->addr + bar->size;
			if (b < 5)
				b++;	/* 64-bit: skip the upper half */
		}
		r = add_dev(ps, vf);
		if (r < 0) {
			free(vf);
			return r;
		}
	}
	free(vf);
	return 0;
}

/* on|off of a `xen` line's key */
static int parse_onoff(struct parse *ps, const char *key, const char *val,
		       bool *ret)
{
	if (val && !strcmp(val, "on"))
		*ret = true;
	else if (val && !strcmp(val, "off"))
		*ret = false;
	else
		return perr(ps, "xen %s='%s': write %s=on or %s=off", key,
			    val ? val : "", key, key);
	return 0;
}

/* "xen iommu=on|off intremap=on|off": what Xen's boot options (iommu=0,
 * iommu=no-intremap) or the firmware would leave the hypervisor with. */
static int parse_xen_line(struct parse *ps, char *save)
{
	char *tok, *eq, *val;
	int r;

	while ((tok = strtok_r(NULL, " \t", &save))) {
		eq = strchr(tok, '=');
		val = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		if (!strcmp(tok, "iommu"))
			r = parse_onoff(ps, tok, val, &ps->h->iommu);
		else if (!strcmp(tok, "intremap"))
			r = parse_onoff(ps, tok, val, &ps->h->intremap);
		else
			r = perr(ps, "xen: unknown key '%s' (known: iommu, "
				 "intremap)", tok);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_line(struct parse *ps, char *s)
{
	struct hyp_pcidev *p = NULL;
	struct pf_extra x = { 0 };
	char *tok, *save = NULL, *eq;
	unsigned int vendor, device;
	uint32_t sbdf;
	int n = 0, r = 0;

	tok = strtok_r(s, " \t", &save);
	if (!tok)
		return 0;
	if (!strcmp(tok, "xen"))
		return parse_xen_line(ps, save);
	if (hv_parse_bdf(tok, &sbdf) < 0)
		return perr(ps, "'%s' is not a PCI address (write "
			    "SEGMENT:BUS:DEVICE.FUNCTION like 0000:03:00.0, "
			    "or BUS:DEVICE.FUNCTION)", tok);
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || sscanf(tok, "%4x:%4x%n", &vendor, &device, &n) != 2 ||
	    tok[n])
		return perr(ps, "expected VENDOR:DEVICE in hex after the "
			    "address (like 8086:1572), found '%s'",
			    tok ? tok : "end of line");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->line = ps->line;
	p->pcie = true;
	p->info.sbdf = sbdf;
	p->info.vendor = (uint16_t)vendor;
	p->info.device = (uint16_t)device;
	p->info.class = UINT32_MAX;
	p->info.pf_sbdf = UINT32_MAX;
	p->info.reset = HYP_RESET_FLR;
	p->vf_device = device;
	p->vf_offset = 1;
	p->vf_stride = 1;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *key = tok, *val = NULL;

		eq = strchr(tok, '=');
		if (eq) {
			*eq = '\0';
			val = eq + 1;
		}
		if ((r = parse_key(ps, p, &x, key, val)) < 0)
			goto out;
	}
	if (p->info.class == UINT32_MAX) {
		r = perr(ps, "class is missing (add class=CCSSPP in hex, e.g. "
			 "class=020000 for an Ethernet controller)");
		goto out;
	}
	if (p->info.has_msix && (r = place_msix(ps, p, &x)) < 0)
		goto out;
	if (p->info.num_vfs && !p->pcie) {
		r = perr(ps, "vfs needs a PCI Express device (remove pcie=no)");
		goto out;
	}
	if (x.gsi_set && !p->info.intx_pin) {
		r = perr(ps, "gsi without an INTx pin (add intx=a)");
		goto out;
	}
	if (p->info.intx_pin && !x.gsi_set) {
		if (ps->next_gsi > 255) {
			r = perr(ps, "out of GSIs: give gsi=N");
			goto out;
		}
		p->info.gsi = ps->next_gsi++;
	}
	if (p->info.reset == HYP_RESET_FLR && !p->pcie && x.reset_set)
		log_debug("%s:%u: reset=flr on a conventional PCI device "
			  "(advanced features FLR)", ps->name, ps->line);
	if ((r = add_dev(ps, p)) < 0)
		goto out;
	if (p->info.num_vfs)
		r = add_vfs(ps, ps->h->pci[ps->h->npci - 1]);
out:
	free(p);
	return r;
}

int hyp_host_parse(struct hyp *h, const char *text, const char *name,
		   char *err, size_t errlen)
{
	struct parse ps = {
		.h = h, .name = name, .err = err, .errlen = errlen,
		.next_mem64 = MEM64_BASE, .next_mem32 = MEM32_BASE,
		.next_io = IO_BASE, .next_gsi = 16,
	};
	const char *s = text;
	unsigned int physical = 0;
	char line[4096];
	int r;

	while (*s) {
		size_t used = 0;
		char *hash;

		ps.line = physical + 1;	/* errors name the first line */
		/* A line ending in a backslash continues on the next. */
		for (;;) {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);

			physical++;
			if (used + len >= sizeof(line))
				return perr(&ps, "line longer than %zu "
					    "characters", sizeof(line) - 1);
			memcpy(line + used, s, len);
			used += len;
			line[used] = '\0';
			s += len + (nl ? 1 : 0);
			if (!used || line[used - 1] != '\\' || !nl)
				break;
			line[used - 1] = ' ';
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		r = parse_line(&ps, line);
		if (r < 0)
			return r;
	}
	return 0;
}

int hyp_host_load(struct hyp *h, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open the host file: %s", path,
			 strerror(-r));
		return r;
	}
	for (;;) {
		if (len + 4097 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: read: %s", path,
				 strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
		r = -EINVAL;
		goto out;
	}
	r = hyp_host_parse(h, buf, path, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

/* sysfs ------------------------------------------------------------------ */

static int read_small(const char *dir, const char *file, void *buf,
		      size_t len, size_t *ret_len)
{
	char path[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	if (n < 0)
		return -errno;
	*ret_len = (size_t)n;
	return 0;
}

static int read_hex(const char *dir, const char *file, uint64_t *ret)
{
	char buf[64];
	size_t n;

	if (read_small(dir, file, buf, sizeof(buf) - 1, &n) < 0)
		return -ENOENT;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u64(buf, 0, ret);
}

static void sysfs_caps(struct hyp_pcidev *p, const uint8_t *cfg, size_t n)
{
	unsigned int pos, guard = 0;

	if (n < 0x40 || !(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	for (pos = cfg[PCI_CAP_PTR] & ~3u; pos >= 0x40 && pos + 12 <= n &&
	     guard < 48; pos = cfg[pos + 1] & ~3u, guard++) {
		uint16_t ctl = (uint16_t)(cfg[pos + 2] | cfg[pos + 3] << 8);
		uint32_t t;

		switch (cfg[pos]) {
		case PCI_CAP_ID_MSI:
			p->msi_vectors = (uint8_t)(1u << ((ctl >> 1) & 7));
			if (p->msi_vectors > 32)
				p->msi_vectors = 32;
			p->info.has_msi = 1;
			break;
		case PCI_CAP_ID_MSIX:
			p->info.has_msix = 1;
			p->info.msix_entries = (uint16_t)((ctl & 0x7ff) + 1);
			memcpy(&t, cfg + pos + 4, 4);
			p->msix_table_bar = t & 7;
			p->msix_table_off = t & ~7u;
			memcpy(&t, cfg + pos + 8, 4);
			p->msix_pba_bar = t & 7;
			p->msix_pba_off = t & ~7u;
			break;
		case PCI_CAP_ID_EXP:
			p->pcie = true;
			break;
		default:
			break;
		}
	}
}

static int sysfs_dev(struct parse *ps, const char *dir, const char *name)
{
	struct hyp_pcidev *p;
	uint8_t cfg[256] = { 0 };
	char buf[2048], *line, *save = NULL;
	uint64_t v;
	size_t n = 0;
	unsigned int i;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (hv_parse_bdf(name, &p->info.sbdf) < 0) {
		r = 0;
		goto out;
	}
	p->info.pf_sbdf = UINT32_MAX;
	if (read_hex(dir, "vendor", &v) == 0)
		p->info.vendor = (uint16_t)v;
	if (read_hex(dir, "device", &v) == 0)
		p->info.device = (uint16_t)v;
	if (read_hex(dir, "class", &v) == 0)
		p->info.class = (uint32_t)v & 0xffffff;
	if (read_small(dir, "config", cfg, sizeof(cfg), &n) == 0 && n >= 0x40) {
		if ((cfg[0x0e] & 0x7f) != 0) {
			log_info("sysfs: %s is a bridge (header type %u): "
				 "skipped", name, cfg[0x0e] & 0x7f);
			r = 0;
			goto out;
		}
		p->info.intx_pin = cfg[PCI_INT_PIN] <= 4 ? cfg[PCI_INT_PIN] : 0;
		sysfs_caps(p, cfg, n);
	}
	if (p->info.intx_pin && read_hex(dir, "irq", &v) == 0 && v < 256)
		p->info.gsi = (uint32_t)v;
	if (read_small(dir, "resource", buf, sizeof(buf) - 1, &n) == 0) {
		buf[n] = '\0';
		for (i = 0, line = strtok_r(buf, "\n", &save); line && i < 6;
		     i++, line = strtok_r(NULL, "\n", &save)) {
			unsigned long long start, end, fl;

			if (sscanf(line, "%llx %llx %llx", &start, &end, &fl) != 3
			    || end <= start)
				continue;
			p->info.bar[i].addr = start;
			p->info.bar[i].size = end - start + 1;
			p->info.bar[i].flags =
				(fl & 0x100 ? HV_BAR_IO : 0) |
				(fl & 0x100000 ? HV_BAR_64 : 0) |
				(fl & 0x2000 ? HV_BAR_PREFETCH : 0);
			if (!is_pow2(p->info.bar[i].size))
				p->info.bar[i] = (struct hv_pci_bar){ 0 };
		}
	}
	if (p->info.has_msix) {
		const struct hv_pci_bar *b = &p->info.bar[p->msix_table_bar];

		if (p->msix_table_bar > 5 || !b->size || b->flags & HV_BAR_IO ||
		    p->msix_table_off + p->info.msix_entries * 16ull > b->size) {
			log_info("sysfs: %s: MSI-X table not in a known BAR: "
				 "MSI-X left out", name);
			p->info.has_msix = 0;
			p->info.msix_entries = 0;
		}
	}
	p->info.reset = HYP_RESET_NONE;
	if (read_small(dir, "reset_method", buf, sizeof(buf) - 1, &n) == 0) {
		buf[n] = '\0';
		if (!strncmp(buf, "flr", 3) || !strncmp(buf, "af_flr", 6) ||
		    !strncmp(buf, "device_specific", 15))
			p->info.reset = HYP_RESET_FLR;
		else if (!strncmp(buf, "pm", 2))
			p->info.reset = HYP_RESET_PM;
		else if (!strncmp(buf, "bus", 3) || !strncmp(buf, "cxl_bus", 7))
			p->info.reset = HYP_RESET_BUS;
	} else {
		char path[1024];

		snprintf(path, sizeof(path), "%s/reset", dir);
		if (access(path, F_OK) == 0)
			p->info.reset = HYP_RESET_FLR;
	}
	if (read_hex(dir, "sriov_numvfs", &v) == 0 && v <= 0xffff) {
		p->info.num_vfs = (uint16_t)v;
		if (read_hex(dir, "sriov_offset", &v) == 0)
			p->vf_offset = (uint32_t)v;
		if (read_hex(dir, "sriov_stride", &v) == 0)
			p->vf_stride = (uint32_t)v;
		if (read_hex(dir, "sriov_vf_device", &v) == 0)
			p->vf_device = (uint32_t)v;
		if (!p->pcie)
			p->info.num_vfs = 0;
	}
	{
		char path[1024], link[512];
		ssize_t l;

		snprintf(path, sizeof(path), "%s/physfn", dir);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			uint32_t pf;
			const char *base;

			link[l] = '\0';
			base = strrchr(link, '/');
			if (hv_parse_bdf(base ? base + 1 : link, &pf) == 0)
				p->info.pf_sbdf = pf;
		}
	}
	r = add_dev(ps, p);
out:
	free(p);
	return r;
}

int hyp_host_from_sysfs(struct hyp *h, const char *root, char *err,
			size_t errlen)
{
	struct parse ps = { .h = h, .name = root, .err = err,
			    .errlen = errlen };
	struct dirent **list = NULL;
	int n, i, r = 0;

	n = scandir(root, &list, NULL, alphasort);
	if (n < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot list PCI devices: %s", root,
			 strerror(-r));
		return r;
	}
	for (i = 0; i < n; i++) {
		char dir[512];

		if (r == 0 && list[i]->d_name[0] != '.') {
			snprintf(dir, sizeof(dir), "%s/%s", root,
				 list[i]->d_name);
			r = sysfs_dev(&ps, dir, list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	return r;
}
