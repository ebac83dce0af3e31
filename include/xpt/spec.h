/* SPDX-License-Identifier: MIT */
/* The two text formats a user writes: xl's PCI spec strings and the xl.cfg subset. */
#ifndef XPT_SPEC_H
#define XPT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XPT_FUNC_ALL 0xffu

enum xpt_rdm_policy { XPT_RDM_INVALID = -1, XPT_RDM_STRICT = 0, XPT_RDM_RELAXED = 1 };

struct xpt_pci {
	uint32_t sbdf;        /* seg<<16 | bus<<8 | dev<<3 | fn (fn 0 when func_mask==XPT_FUNC_ALL) */
	uint8_t func_mask;    /* 1<<fn for one function; XPT_FUNC_ALL for "BB:DD.*" */
	int vslot;            /* -1 none; else 0..0x1f  (from "@VSLOT") */
	char name[65];        /* "" none; name=NAME (resolved to a BDF by the toolstack) */
	bool permissive, msitranslate, power_mgmt, seize;
	enum xpt_rdm_policy rdm_policy;   /* default strict */
	bool has_bdf;         /* false when only name= was given */
};

/* xl-pci-configuration(5) grammar: "[DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE]...",
 * "BB:DD.*", KEY in bdf, vslot, permissive, msitranslate, power_mgmt, rdm_policy, seize, name;
 * an empty VALUE means the default.  Exactly one of a BDF (positional or bdf=) and name=
 * must be given.  Where this differs from xl: docs/xpt-pci-spec.5.
 * Returns 0 or -EINVAL with err = a message pointing at the offending part, e.g.
 * "\"3:0.8\": function 8 out of range (0-7)" / "\"@20\": vslot 0x20 out of range (0-0x1f)".
 * *ret is written only on success. */
int xpt_pci_spec_parse(const char *spec, struct xpt_pci *ret, char *err, size_t errlen);

/* Canonical spec text, e.g. "0000:03:00.0@05,permissive=1": options in a fixed
 * order, defaults left out.  Parsing the text gives back *p.  When both a BDF
 * and a name are set (a name the toolstack resolved), only the BDF is written.
 * Returns 0, -EINVAL for a struct no spec can produce, -ENOSPC if len is short
 * (XPT_PCI_SPEC_MAX always suffices). */
int xpt_pci_spec_format(const struct xpt_pci *p, char *buf, size_t len);

/* xl.cfg(5) subset: key = value; "strings" 'strings', integers, [lists], # comments, ; separators */
struct xpt_cfg {
	char name[65]; char type[8] /* "pv" (default) | "hvm" | "pvh" */;
	uint64_t memory_mb; unsigned vcpus; char passthrough[16] /* "" | "enabled" | "disabled" | ... */;
	size_t npci; struct xpt_pci pci[64]; char pci_text[64][128];
	char kernel[256];            /* accepted, unused by the model */

	/* Additions beyond the fixed interface (T2). */
	char ramdisk[256], extra[1024];   /* accepted, unused by the model */
	/* HVM on a Xen host: the device model's console, display and
	 * version, as xl takes them ("" default: serial "pty", vga "none",
	 * the only device model Debian ships, "qemu-xen"). */
	char serial[32], vga[16], dm_version[16];
	/* An HVM guest's device model in a stub domain, as xl.cfg(5) spells
	 * it: device_model_stubdomain_override = 1, stubdomain_kernel,
	 * _ramdisk, _cmdline, _memory (MiB, 0 the default). */
	bool stubdomain;
	char stubdomain_kernel[256], stubdomain_ramdisk[256];
	char stubdomain_cmdline[1024];
	uint64_t stubdomain_memory_mb;
	/* xl's global per-device defaults (pci_permissive=1 ...), already applied to pci[]. */
	bool pci_permissive, pci_msitranslate, pci_power_mgmt, pci_seize;
	/* e820_host = 0|1 (PV): the guest's memory map mirrors the host's
	 * holes.  Not given: on for a PV guest with passthrough (xpt_cfg_e820_host). */
	enum { XPT_E820_DEFAULT, XPT_E820_OFF, XPT_E820_ON } e820_host;
	/* Keys xpt does not use, e.g. "line 7: key \"vif\" ignored (not used by xpt)". */
	size_t nwarnings;            /* may exceed XPT_CFG_MAX_WARNINGS; only that many kept */
	char warnings[16][128];
};

#define XPT_CFG_MAX_PCI ((size_t)64)
#define XPT_CFG_MAX_WARNINGS ((size_t)16)

/* Parse a file / a string; unknown keys are kept as warnings, not errors; err names the line.
 * Not given: name "" (xpt_cfg_check refuses it), type "pv", memory_mb 0 (the
 * toolstack's default), vcpus 1, passthrough "".  A key set twice: the last
 * wins (with a warning); "pci += [...]" appends.  *ret is written only on
 * success; I/O errors return -errno, syntax and value errors -EINVAL. */
int xpt_cfg_parse_file(const char *path, struct xpt_cfg *ret, char *err, size_t errlen);
int xpt_cfg_parse_string(const char *text, struct xpt_cfg *ret, char *err, size_t errlen);
/* Extra "KEY=VALUE" arguments as on xl's command line (`xl create CFG 'pci=[...]'`).
 * The value has config-file syntax; the key replaces what the file set (pci_*
 * defaults re-apply to every pci entry).  On error *cfg is unchanged. */
int xpt_cfg_apply_arg(struct xpt_cfg *cfg, const char *kv, char *err, size_t errlen);

/* Whether a PV guest is built with the host's memory map (e820_host), given
 * whether it gets passthrough at all.  Not set in the configuration: yes
 * with passthrough, also when no device is listed yet (passthrough =
 * "enabled": devices to come by hot-plug), as xl.cfg(5) advises.  Linux
 * since 6.5 sets up the bounce buffers a PV guest's DMA goes through
 * (xen-swiotlb) only at boot, and only when its memory map has the host's
 * reserved regions; xl sets e820_host only for devices listed in pci=, so
 * a device hot-plugged into such a guest DMAs to wrong addresses. */
bool xpt_cfg_e820_host(const struct xpt_cfg *cfg, bool passthrough);

/* Helpers (T2 additions). */
#define XPT_PCI_SPEC_MAX 160      /* longest canonical spec text, with NUL */
#define XPT_PCI_SEG(sbdf)  (((sbdf) >> 16) & 0xffffu)
#define XPT_PCI_BUS(sbdf)  (((sbdf) >> 8) & 0xffu)
#define XPT_PCI_DEV(sbdf)  (((sbdf) >> 3) & 0x1fu)
#define XPT_PCI_FN(sbdf)   ((sbdf) & 0x7u)
#define XPT_PCI_SBDF(seg, bus, dev, fn) \
	((uint32_t)(seg) << 16 | (uint32_t)(bus) << 8 | (uint32_t)(dev) << 3 | (uint32_t)(fn))

/* A spec with every field at its default (no BDF, no name, vslot -1, strict). */
void xpt_pci_spec_init(struct xpt_pci *p);
/* Like xpt_pci_spec_parse, but options the spec leaves out take their value
 * from defaults (permissive, msitranslate, power_mgmt, seize, rdm_policy only),
 * as xl applies pci_permissive=... from xl.cfg.  defaults may be NULL. */
int xpt_pci_spec_parse_defaults(const char *spec, const struct xpt_pci *defaults,
				struct xpt_pci *ret, char *err, size_t errlen);
/* Field-by-field equality (ignores bytes after the name's NUL). */
bool xpt_pci_spec_equal(const struct xpt_pci *a, const struct xpt_pci *b);
/* What xpt refuses to create from: no name, or a name that is not UTF-8,
 * holds a control character or '/', or is all digits (xpt.cfg(5)).  0 or
 * -EINVAL with err. */
int xpt_cfg_check(const struct xpt_cfg *cfg, char *err, size_t errlen);
/* Equality of everything but the warnings. */
bool xpt_cfg_equal(const struct xpt_cfg *a, const struct xpt_cfg *b);
/* Canonical config text: parsing it gives the same struct, warnings aside.
 * Returns 0, -EINVAL (bad pci entry) or -ENOSPC. */
int xpt_cfg_format(const struct xpt_cfg *cfg, char *buf, size_t len);

#endif
