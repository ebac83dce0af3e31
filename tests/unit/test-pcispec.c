// SPDX-License-Identifier: MIT
/* PCI spec strings: every grammar case of xl-pci-configuration(5), the errors, round-trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xpt/spec.h"

static struct xpt_pci parse_ok(const char *spec)
{
	struct xpt_pci p;
	char err[256] = "";
	int r = xpt_pci_spec_parse(spec, &p, err, sizeof(err));

	if (r != 0)
		fail_msg("\"%s\" should parse: %s", spec, err);
	return p;
}

static void parse_bad(const char *spec, const char *want)
{
	struct xpt_pci p;
	char err[256] = "";
	int r;

	memset(&p, 0x5a, sizeof(p));
	r = xpt_pci_spec_parse(spec, &p, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("\"%s\" should fail (%d)", spec, r);
	if (!strstr(err, want))
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", spec, err, want);
	/* Nothing written on failure. */
	for (size_t i = 0; i < sizeof(p); i++)
		assert_int_equal(((unsigned char *)&p)[i], 0x5a);
}

static void check_canon(const char *spec, const char *canon)
{
	struct xpt_pci p = parse_ok(spec), q;
	char buf[XPT_PCI_SPEC_MAX];

	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canon);
	q = parse_ok(buf);
	assert_true(xpt_pci_spec_equal(&p, &q));
}

static void test_bdf_forms(void **state)
{
	struct xpt_pci p;

	p = parse_ok("03:00.0");
	assert_true(p.has_bdf);
	assert_int_equal(p.sbdf, 0x0300);
	assert_int_equal(p.func_mask, 1);
	assert_int_equal(p.vslot, -1);
	assert_string_equal(p.name, "");
	assert_int_equal(p.rdm_policy, XPT_RDM_STRICT);
	assert_false(p.permissive || p.msitranslate || p.power_mgmt || p.seize);

	p = parse_ok("0000:03:00.1");
	assert_int_equal(p.sbdf, 0x0301);
	assert_int_equal(p.func_mask, 2);

	p = parse_ok("ffff:ff:1f.7");
	assert_int_equal(p.sbdf, 0xffffffffu);
	assert_int_equal(p.func_mask, 0x80);
	assert_int_equal(XPT_PCI_SEG(p.sbdf), 0xffff);
	assert_int_equal(XPT_PCI_BUS(p.sbdf), 0xff);
	assert_int_equal(XPT_PCI_DEV(p.sbdf), 0x1f);
	assert_int_equal(XPT_PCI_FN(p.sbdf), 7);

	p = parse_ok("3:0.7");           /* short fields */
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(0, 3, 0, 7));
	p = parse_ok("1:A:1F.2");        /* upper-case hex */
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(1, 0xa, 0x1f, 2));
	p = parse_ok("00000001:02:03.4"); /* leading zeros are fine */
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(1, 2, 3, 4));

	p = parse_ok("01:00.*");
	assert_int_equal(p.func_mask, XPT_FUNC_ALL);
	assert_int_equal(p.sbdf, 0x0100);
	p = parse_ok("0002:01:02.*");
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(2, 1, 2, 0));
	assert_int_equal(p.func_mask, XPT_FUNC_ALL);
}

static void test_vslot(void **state)
{
	struct xpt_pci p;

	p = parse_ok("03:00.0@5");
	assert_int_equal(p.vslot, 5);
	p = parse_ok("03:00.0@1f");
	assert_int_equal(p.vslot, 0x1f);
	p = parse_ok("03:00.0@0x1F");
	assert_int_equal(p.vslot, 0x1f);
	p = parse_ok("03:00.0@00");
	assert_int_equal(p.vslot, 0);
	p = parse_ok("03:00.0,vslot=10");   /* hex, as @ */
	assert_int_equal(p.vslot, 0x10);
	p = parse_ok("name=x,vslot=0x3");
	assert_int_equal(p.vslot, 3);
}

/* docs/protocol.md §9 (xl-pci-configuration(5)): three spellings of the
 * same device. */
static void test_equivalent_forms(void **state)
{
	struct xpt_pci a = parse_ok("36:00.0@1e,seize=1");
	struct xpt_pci b = parse_ok("36:00.0,vslot=1e,seize=1");
	struct xpt_pci c = parse_ok("bdf=36:00.0,vslot=1e,seize=1");
	struct xpt_pci d = parse_ok("seize=1,vslot=1e,bdf=36:00.0");

	assert_true(a.seize && a.vslot == 0x1e && a.sbdf == 0x3600);
	assert_true(xpt_pci_spec_equal(&a, &b));
	assert_true(xpt_pci_spec_equal(&a, &c));
	assert_true(xpt_pci_spec_equal(&a, &d));
}

static void test_options(void **state)
{
	struct xpt_pci p;

	p = parse_ok("03:00.0,permissive=1,msitranslate=1,power_mgmt=1,seize=1,rdm_policy=relaxed");
	assert_true(p.permissive && p.msitranslate && p.power_mgmt && p.seize);
	assert_int_equal(p.rdm_policy, XPT_RDM_RELAXED);
	p = parse_ok("03:00.0,permissive=0,rdm_policy=strict");
	assert_false(p.permissive);
	assert_int_equal(p.rdm_policy, XPT_RDM_STRICT);
	p = parse_ok("03:00.0,");            /* the grammar's trailing comma */
	assert_int_equal(p.sbdf, 0x300);
	p = parse_ok("name=gpu0,permissive=1,");
	assert_true(p.permissive);
}

/* docs/protocol.md §13 item 21, verbatim. */
static void test_item21(void **state)
{
	struct xpt_pci p;

	p = parse_ok("0000:03:00.*@8,rdm_policy=relaxed");
	assert_int_equal(p.sbdf, 0x0300);
	assert_int_equal(p.func_mask, XPT_FUNC_ALL);
	assert_int_equal(p.vslot, 8);
	assert_int_equal(p.rdm_policy, XPT_RDM_RELAXED);

	p = parse_ok("name=gpu");
	assert_false(p.has_bdf);
	assert_string_equal(p.name, "gpu");
	assert_int_equal(p.sbdf, 0);
	assert_int_equal(p.func_mask, 0);

	parse_bad("bdf=03:00.0,name=x", "not both");
	parse_bad("03:00.0@20", "\"@20\": vslot 0x20 out of range (0-0x1f)");
	parse_bad("3:0.8", "\"3:0.8\": function 8 out of range (0-7)");
}

static void test_errors(void **state)
{
	/* No device, or two. */
	parse_bad("", "\"\": empty (expected [DDDD:]BB:DD.F");
	parse_bad("permissive=1", "no device");
	parse_bad("03:00.0,name=x", "not both");
	parse_bad("name=x,bdf=03:00.0", "not both");
	parse_bad("03:00.0,bdf=04:00.0", "given twice");
	parse_bad("03:00.0@3,vslot=4", "given twice");
	parse_bad("03:00.0,permissive=1,permissive=0", "given twice");

	/* Address shape and ranges. */
	parse_bad("03:00", "\"03:00\": not a PCI address");
	parse_bad("0300.0", "not a PCI address");
	parse_bad("1:2:3:4.0", "not a PCI address");
	parse_bad("gpu", "\"gpu\": not a PCI address");
	parse_bad("03.00:0", "not a PCI address");
	parse_bad("10000:00:00.0", "domain 0x10000 out of range (0-0xffff)");
	parse_bad("100:00.0", "bus 0x100 out of range (0-0xff)");
	parse_bad("00:20.0", "device 0x20 out of range (0-0x1f)");
	parse_bad("00:00.8", "function 8 out of range (0-7)");
	parse_bad("00:00.f", "function f out of range");
	parse_bad("00:0g.0", "device \"0g\" is not a hex number");
	parse_bad(":00.0", "bus \"\" is not a hex number");
	parse_bad("00:00.", "function \"\" is not a hex number (0-7 or *)");
	parse_bad("00:00.**", "is not a hex number (0-7 or *)");
	parse_bad("*:00.0", "bus \"*\"");
	parse_bad("00:00.0.1", "function \"0.1\"");
	parse_bad(" 03:00.0", "not a hex number");
	parse_bad("-3:00.0", "not a hex number");

	/* vslot. */
	parse_bad("03:00.0@", "\"@\": vslot is not a hex number");
	parse_bad("03:00.0@0x", "vslot is not a hex number");
	parse_bad("03:00.0@g", "vslot is not a hex number");
	parse_bad("03:00.0,vslot=20", "\"vslot=20\": vslot 0x20 out of range (0-0x1f)");
	parse_bad("bdf=03:00.0@5", "bdf= takes no @VSLOT");

	/* Options. */
	parse_bad("03:00.0,foo=1", "\"foo=1\": unknown option (expected one of bdf, vslot, "
		  "permissive, msitranslate, power_mgmt, rdm_policy, seize, name)");
	parse_bad("03:00.0,Permissive=1", "unknown option");
	parse_bad("03:00.0, permissive=1", "\" permissive=1\": unknown option");
	parse_bad("03:00.0,permissive", "\"permissive\": expected KEY=VALUE");
	parse_bad("name=x,03:00.0", "\"03:00.0\": expected KEY=VALUE (the BDF can only come first)");
	parse_bad("03:00.0,permissive=yes", "\"permissive=yes\": expected 0 or 1");
	parse_bad("03:00.0,rdm_policy=loose", "\"rdm_policy=loose\": expected strict or relaxed");
	parse_bad("03:00.0,,permissive=1", "empty option at offset 8");
	parse_bad("03:00.0,,", "empty option");
	parse_bad(",", "empty option at offset 0");
	parse_bad("name=", "\"name=\": no device");
	parse_bad("name=a b", "must be printable, without spaces");
	parse_bad("name=\x01", "must be printable");
	parse_bad("name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "name is too long (at most 64 characters)");
}

/* xl-pci-configuration(5): "Default values apply if the parameter is not
 * specified, or if it is specified with an empty value". */
static void test_empty_values(void **state)
{
	struct xpt_pci d, p;
	char err[256];

	p = parse_ok("03:00.0,permissive=,msitranslate=,power_mgmt=,seize=");
	assert_false(p.permissive || p.msitranslate || p.power_mgmt || p.seize);
	p = parse_ok("03:00.0,vslot=");
	assert_int_equal(p.vslot, -1);
	p = parse_ok("03:00.0,rdm_policy=");
	assert_int_equal(p.rdm_policy, XPT_RDM_STRICT);
	p = parse_ok("03:00.0,name=");
	assert_true(p.has_bdf);
	assert_string_equal(p.name, "");
	p = parse_ok("bdf=,name=gpu");
	assert_false(p.has_bdf);
	assert_string_equal(p.name, "gpu");
	p = parse_ok("name=gpu,bdf=,vslot=,");
	assert_false(p.has_bdf);
	assert_int_equal(p.vslot, -1);
	check_canon("03:00.0,permissive=,seize=1,vslot=,rdm_policy=", "0000:03:00.0,seize=1");

	/* The default of a flag is the configuration's pci_* setting. */
	xpt_pci_spec_init(&d);
	d.permissive = d.power_mgmt = true;
	d.rdm_policy = XPT_RDM_RELAXED;
	assert_int_equal(xpt_pci_spec_parse_defaults("03:00.0,permissive=,power_mgmt=0,"
						     "rdm_policy=", &d, &p, err, sizeof(err)), 0);
	assert_true(p.permissive);
	assert_false(p.power_mgmt);
	assert_int_equal(p.rdm_policy, XPT_RDM_RELAXED);

	/* Still one device, each key once. */
	parse_bad("bdf=", "\"bdf=\": no device");
	parse_bad("bdf=,name=", "no device");
	parse_bad("vslot=3,name=", "no device");
	parse_bad("03:00.0,permissive=,permissive=1", "\"permissive=1\": option given twice");
	parse_bad("03:00.0,bdf=", "\"bdf=\": the BDF is given twice");
	parse_bad("03:00.0@3,vslot=", "the vslot is given twice");
	/* Empty positional parts stay errors, as in xl. */
	parse_bad(",name=gpu", "empty option at offset 0");
	parse_bad("03:00.0@,seize=1", "\"@\": vslot is not a hex number");
}

/* BOOLEAN as xl.cfg(5) defines it: a NUMBER, 0 off, anything else on. */
static void test_booleans(void **state)
{
	static const struct { const char *v; bool on; } ok[] = {
		{ "0", false }, { "1", true }, { "2", true }, { "10", true },
		{ "00", false }, { "01", true }, { "010", true }, { "0000000000000", false },
		{ "00000000000001", true }, { "4294967295", true },
		{ "037777777777", true }, { "0000000000037777777777", true },
	};
	static const struct { const char *v, *want; } bad[] = {
		{ "yes", "expected 0 or 1 (a number: 0 is off, any other on)" },
		{ "no", "expected 0 or 1" }, { "true", "expected 0 or 1" },
		{ "on", "expected 0 or 1" }, { "Y", "expected 0 or 1" },
		{ "-1", "expected 0 or 1" }, { "+1", "expected 0 or 1" },
		{ "1 ", "expected 0 or 1" }, { " 1", "expected 0 or 1" },
		{ "1a", "expected 0 or 1" }, { "1.0", "expected 0 or 1" },
		{ "0x1", "expected 0 or 1, not hexadecimal (xl reads it as 0)" },
		{ "0X0", "not hexadecimal" }, { "0x", "not hexadecimal" },
		{ "08", "not a number (after a leading 0, octal digits 0-7)" },
		{ "0019", "octal digits 0-7" },
		{ "4294967296", "number too long (at most 32 bits" },
		{ "040000000000", "number too long" },
		{ "99999999999999999999999999", "number too long" },
	};
	static const char *const keys[] = { "permissive", "msitranslate", "power_mgmt", "seize" };
	char spec[128], want[160];
	struct xpt_pci p;
	size_t i, k;

	for (k = 0; k < 4; k++) {
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			snprintf(spec, sizeof(spec), "03:00.0,%s=%s", keys[k], ok[i].v);
			p = parse_ok(spec);
			if ((k == 0 ? p.permissive : k == 1 ? p.msitranslate :
			     k == 2 ? p.power_mgmt : p.seize) != ok[i].on)
				fail_msg("\"%s\": wrong value", spec);
		}
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(spec, sizeof(spec), "03:00.0,%s=%s", keys[k], bad[i].v);
			snprintf(want, sizeof(want), "\"%s=%s\": ", keys[k], bad[i].v);
			parse_bad(spec, want);		/* names the option */
			parse_bad(spec, bad[i].want);
		}
	}
	check_canon("03:00.0,permissive=2,seize=010,power_mgmt=00", "0000:03:00.0,permissive=1,seize=1");
}

/* libxl reads enum names in any case; its "invalid" is no policy. */
static void test_rdm_policy_case(void **state)
{
	assert_int_equal(parse_ok("03:00.0,rdm_policy=Relaxed").rdm_policy, XPT_RDM_RELAXED);
	assert_int_equal(parse_ok("03:00.0,rdm_policy=RELAXED").rdm_policy, XPT_RDM_RELAXED);
	assert_int_equal(parse_ok("03:00.0,rdm_policy=STRICT").rdm_policy, XPT_RDM_STRICT);
	assert_int_equal(parse_ok("03:00.0,rdm_policy=sTrIcT").rdm_policy, XPT_RDM_STRICT);
	check_canon("03:00.0,rdm_policy=Relaxed", "0000:03:00.0,rdm_policy=relaxed");
	parse_bad("03:00.0,rdm_policy=invalid", "\"rdm_policy=invalid\": expected strict or relaxed");
	parse_bad("03:00.0,rdm_policy=relax", "expected strict or relaxed");
	parse_bad("03:00.0,rdm_policy=relaxed ", "expected strict or relaxed");
	parse_bad("03:00.0,RDM_POLICY=relaxed", "unknown option");
}

/* Leading zeros are fine however many; a number past 32 bits (which xl
 * truncates) is too long; what follows a number is an error (xl ignores it
 * in bdf= and vslot=). */
static void test_number_lengths(void **state)
{
	struct xpt_pci p;

	p = parse_ok("000000000:00.0");
	assert_int_equal(p.sbdf, 0);
	p = parse_ok("0000000000000001:00000000002:0000000000000003.00000000004");
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(1, 2, 3, 4));
	p = parse_ok("00:0000000001f.*");
	assert_int_equal(p.sbdf, XPT_PCI_SBDF(0, 0, 0x1f, 0));
	p = parse_ok("03:00.0@00000000001f");
	assert_int_equal(p.vslot, 0x1f);
	p = parse_ok("03:00.0,vslot=0x00000000001F");
	assert_int_equal(p.vslot, 0x1f);
	p = parse_ok("bdf=000000000003:00.0");
	assert_int_equal(p.sbdf, 0x300);
	check_canon("0000000000003:000000000.0@000000000001", "0000:03:00.0@01");

	parse_bad("123456789:00.0", "\"123456789:00.0\": bus \"123456789\" is too long (0-0xff)");
	parse_bad("100000000:00:00.0", "domain \"100000000\" is too long (0-0xffff)");
	parse_bad("00:fffffffff.0", "device \"fffffffff\" is too long (0-0x1f)");
	parse_bad("00:00.100000000", "function \"100000000\" is too long (0-7)");
	parse_bad("03:00.0@123456789", "\"@123456789\": vslot is too long (0-0x1f)");
	parse_bad("03:00.0,vslot=0x100000000", "\"vslot=0x100000000\": vslot is too long");
	parse_bad("000000000100:00.0", "bus 0x100 out of range (0-0xff)");
	parse_bad("03:00.0,vslot=0000000020", "vslot 0x20 out of range (0-0x1f)");

	/* Junk after a number, everywhere. */
	parse_bad("03:00.0x", "function \"0x\" is not a hex number");
	parse_bad("03:00.0@5z", "\"@5z\": vslot is not a hex number");
	parse_bad("03:00.0,vslot=5z", "\"vslot=5z\": vslot is not a hex number");
	parse_bad("bdf=03:00.0z", "function \"0z\" is not a hex number");
	parse_bad("bdf=03:00.0@5", "bdf= takes no @VSLOT (use vslot=)");
}

static void test_name_limits(void **state)
{
	char spec[80];
	struct xpt_pci p;

	snprintf(spec, sizeof(spec), "name=%s",
		 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234");
	p = parse_ok(spec);
	assert_int_equal(strlen(p.name), 64);
	p = parse_ok("name=a=b@c:d.e");        /* everything after the first '=' */
	assert_string_equal(p.name, "a=b@c:d.e");
}

static void test_error_buffer(void **state)
{
	struct xpt_pci p;
	char small[8];

	assert_int_equal(xpt_pci_spec_parse("3:0.8", &p, NULL, 0), -EINVAL);
	assert_int_equal(xpt_pci_spec_parse("3:0.8", &p, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(xpt_pci_spec_parse(NULL, &p, small, sizeof(small)), -EINVAL);
}

static void test_canonical(void **state)
{
	check_canon("3:0.1", "0000:03:00.1");
	check_canon("1:a:1f.7@1f", "0001:0a:1f.7@1f");
	check_canon("0000:03:00.*@8,rdm_policy=relaxed", "0000:03:00.*@08,rdm_policy=relaxed");
	check_canon("rdm_policy=relaxed,seize=1,power_mgmt=1,msitranslate=1,permissive=1,bdf=3:0.0",
		    "0000:03:00.0,permissive=1,msitranslate=1,power_mgmt=1,seize=1,"
		    "rdm_policy=relaxed");
	check_canon("03:00.0,permissive=0,rdm_policy=strict", "0000:03:00.0");
	check_canon("name=gpu", "name=gpu");
	check_canon("vslot=3,name=gpu,seize=1", "name=gpu,vslot=03,seize=1");
}

static void test_format_errors(void **state)
{
	struct xpt_pci p = parse_ok("0000:03:00.0@05,permissive=1");
	char buf[XPT_PCI_SPEC_MAX];

	assert_int_equal(xpt_pci_spec_format(&p, buf, 29), 0);
	assert_string_equal(buf, "0000:03:00.0@05,permissive=1");
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(xpt_pci_spec_format(&p, buf, 28), -ENOSPC);
	assert_int_equal(buf[0], 'z');     /* untouched */

	/* Structs no spec produces. */
	p = parse_ok("03:00.0");
	p.func_mask = 3;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	p = parse_ok("03:00.*");
	p.sbdf |= 2;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	p = parse_ok("03:00.0");
	p.vslot = 0x20;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	p.vslot = -2;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	p = parse_ok("03:00.0");
	p.rdm_policy = XPT_RDM_INVALID;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	xpt_pci_spec_init(&p);     /* neither BDF nor name */
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);
	strcpy(p.name, "a,b");
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), -EINVAL);

	/* A name the toolstack resolved: the BDF wins. */
	p = parse_ok("name=gpu");
	p.has_bdf = true;
	p.sbdf = 0x0300;
	p.func_mask = 1;
	assert_int_equal(xpt_pci_spec_format(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0000:03:00.0");
}

static void test_defaults(void **state)
{
	struct xpt_pci d, p;
	char err[256];

	xpt_pci_spec_init(&d);
	d.permissive = d.seize = true;
	d.rdm_policy = XPT_RDM_RELAXED;
	assert_int_equal(xpt_pci_spec_parse_defaults("03:00.0,seize=0", &d, &p, err,
						     sizeof(err)), 0);
	assert_true(p.permissive);
	assert_false(p.seize);
	assert_int_equal(p.rdm_policy, XPT_RDM_RELAXED);
	assert_int_equal(xpt_pci_spec_parse_defaults("03:00.0", NULL, &p, err, sizeof(err)), 0);
	assert_false(p.permissive);
}

/* Property: for many generated specs x, parse(format(x)) == x and format is a fixpoint. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void gen(struct xpt_pci *p)
{
	static const char chars[] = "abcXYZ019_-.:@=*!~";

	xpt_pci_spec_init(p);
	if (rnd(4)) {
		uint32_t fn = rnd(8);
		bool all = rnd(5) == 0;
		p->has_bdf = true;
		p->sbdf = XPT_PCI_SBDF(rnd(3) ? 0 : rnd(0x10000), rnd(0x100), rnd(0x20),
				       all ? 0 : fn);
		p->func_mask = all ? XPT_FUNC_ALL : (uint8_t)(1u << fn);
	} else {
		size_t n = 1 + rnd(64), i;
		for (i = 0; i < n; i++)
			p->name[i] = chars[rnd(sizeof(chars) - 1)];
	}
	p->vslot = rnd(3) ? -1 : (int)rnd(0x20);
	p->permissive = rnd(2);
	p->msitranslate = rnd(2);
	p->power_mgmt = rnd(2);
	p->seize = rnd(2);
	p->rdm_policy = rnd(2) ? XPT_RDM_STRICT : XPT_RDM_RELAXED;
}

static void test_roundtrip_property(void **state)
{
	char buf[XPT_PCI_SPEC_MAX], buf2[XPT_PCI_SPEC_MAX], err[256];
	struct xpt_pci x, y;
	int i;

	for (i = 0; i < 20000; i++) {
		gen(&x);
		assert_int_equal(xpt_pci_spec_format(&x, buf, sizeof(buf)), 0);
		if (xpt_pci_spec_parse(buf, &y, err, sizeof(err)) != 0)
			fail_msg("canonical \"%s\" does not parse: %s", buf, err);
		if (!xpt_pci_spec_equal(&x, &y))
			fail_msg("\"%s\" parses to a different spec", buf);
		assert_int_equal(xpt_pci_spec_format(&y, buf2, sizeof(buf2)), 0);
		assert_string_equal(buf, buf2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf_forms),
		cmocka_unit_test(test_vslot),
		cmocka_unit_test(test_equivalent_forms),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_item21),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_rdm_policy_case),
		cmocka_unit_test(test_number_lengths),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_roundtrip_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
