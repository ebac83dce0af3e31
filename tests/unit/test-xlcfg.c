// SPDX-License-Identifier: MIT
/* The xl.cfg subset: syntax, keys, line-numbered errors, overrides, canonical text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xpt/spec.h"

static struct xpt_cfg cfg;

static void parse_ok(const char *text)
{
	char err[512] = "";

	if (xpt_cfg_parse_string(text, &cfg, err, sizeof(err)) != 0)
		fail_msg("should parse: %s\n---\n%s", err, text);
}

/* Fails with a message containing want, and leaves the struct alone. */
static void parse_bad(const char *text, const char *want)
{
	static struct xpt_cfg c, before;
	char err[512] = "";
	int r;

	memset(&c, 0x5a, sizeof(c));
	memcpy(&before, &c, sizeof(c));
	r = xpt_cfg_parse_string(text, &c, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("should fail (%d):\n%s", r, text);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"\n---\n%s", err, want, text);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_defaults(void **state)
{
	parse_ok("");
	assert_string_equal(cfg.name, "");
	assert_string_equal(cfg.type, "pv");
	assert_int_equal(cfg.memory_mb, 0);
	assert_int_equal(cfg.vcpus, 1);
	assert_string_equal(cfg.passthrough, "");
	assert_int_equal(cfg.npci, 0);
	assert_int_equal(cfg.nwarnings, 0);
	assert_false(cfg.pci_permissive || cfg.pci_msitranslate || cfg.pci_power_mgmt ||
		     cfg.pci_seize);
	parse_ok("\n\n# only a comment\n;;\n   \t\n");
	assert_int_equal(cfg.npci, 0);
}

static void test_full(void **state)
{
	parse_ok("# a PV guest with two devices\n"
		 "name = \"vm1\"   # trailing comment\n"
		 "type='hvm'\n"
		 "memory = 0x200; vcpus = 4;\n"
		 "passthrough = \"sync_pt\"\n"
		 "kernel = \"/boot/vmlinuz\"\n"
		 "ramdisk = '/boot/initrd.img'\n"
		 "extra = \"console=hvc0 root=/dev/xvda1\"\n"
		 "pci = [ '0000:03:00.0@5,permissive=1',\n"
		 "        # a comment inside the list\n"
		 "\n"
		 "        \"name=gpu\", ]\n");
	assert_string_equal(cfg.name, "vm1");
	assert_string_equal(cfg.type, "hvm");
	assert_int_equal(cfg.memory_mb, 512);
	assert_int_equal(cfg.vcpus, 4);
	assert_string_equal(cfg.passthrough, "sync_pt");
	assert_string_equal(cfg.kernel, "/boot/vmlinuz");
	assert_string_equal(cfg.ramdisk, "/boot/initrd.img");
	assert_string_equal(cfg.extra, "console=hvc0 root=/dev/xvda1");
	assert_int_equal(cfg.npci, 2);
	assert_string_equal(cfg.pci_text[0], "0000:03:00.0@5,permissive=1");
	assert_int_equal(cfg.pci[0].sbdf, 0x0300);
	assert_int_equal(cfg.pci[0].vslot, 5);
	assert_true(cfg.pci[0].permissive);
	assert_string_equal(cfg.pci_text[1], "name=gpu");
	assert_false(cfg.pci[1].has_bdf);
	assert_string_equal(cfg.pci[1].name, "gpu");
	assert_int_equal(cfg.nwarnings, 0);
}

static void test_syntax_variants(void **state)
{
	parse_ok("pci=[]");
	assert_int_equal(cfg.npci, 0);
	parse_ok("pci=[\"03:00.0\"]");
	assert_int_equal(cfg.npci, 1);
	parse_ok("pci = [\n\"03:00.0\"\n,\n\"04:00.0\"\n]\n");
	assert_int_equal(cfg.npci, 2);
	parse_ok("name=\"a\";memory=1");          /* no spaces, no final newline */
	assert_string_equal(cfg.name, "a");
	assert_int_equal(cfg.memory_mb, 1);
	parse_ok("name = \"x\"\r\nmemory = 2\r\n");   /* CRLF */
	assert_int_equal(cfg.memory_mb, 2);
	parse_ok("memory = \"768\"");            /* xl reads quoted numbers too */
	assert_int_equal(cfg.memory_mb, 768);
	parse_ok("name = 42");                   /* and unquoted names */
	assert_string_equal(cfg.name, "42");
	parse_ok("vcpus = 0X10");
	assert_int_equal(cfg.vcpus, 16);
}

static void test_escapes(void **state)
{
	parse_ok("extra = \"a\\tb\\nc\\\\d\\\"e\\'f\\x41\\101\\a\\b\\f\\r\\v\"");
	assert_string_equal(cfg.extra, "a\tb\nc\\d\"e'fAA\a\b\f\r\v");
	parse_ok("extra = 'it\\'s \"quoted\"'");
	assert_string_equal(cfg.extra, "it's \"quoted\"");
	parse_ok("name = ''");
	assert_string_equal(cfg.name, "");
	parse_bad("extra = \"a\\qb\"", "line 1: bad escape \"\\q\"");
	parse_bad("extra = \"a\\x4\"", "bad escape");
	parse_bad("extra = \"a\\x00\"", "not \\x00");
	parse_bad("extra = \"a\\0\"", "octal \\1-\\377");
	parse_bad("extra = \"a\\400\"", "octal");
	parse_bad("extra = \"abc\\", "unterminated string");
}

static void test_type_builder(void **state)
{
	parse_ok("builder = \"hvm\"");
	assert_string_equal(cfg.type, "hvm");
	parse_ok("builder = \"generic\"");
	assert_string_equal(cfg.type, "pv");
	parse_ok("type = \"pvh\"\nbuilder = \"hvm\"");   /* type wins, whatever the order */
	assert_string_equal(cfg.type, "pvh");
	parse_ok("builder = \"hvm\"\ntype = \"pv\"");
	assert_string_equal(cfg.type, "pv");
	parse_bad("type = \"xen\"", "line 1: type: \"xen\" is not a domain type (expected pv, hvm or pvh)");
	parse_bad("builder = \"pvh\"", "builder: \"pvh\" unknown");
	parse_bad("\ntype = hvm", "line 2: type: bare word \"hvm\" (quote strings: type = \"hvm\")");
}

static void test_values(void **state)
{
	parse_ok("passthrough = \"enabled\"");
	assert_string_equal(cfg.passthrough, "enabled");
	parse_ok("passthrough = \"share_pt\"");
	parse_ok("passthrough = \"disabled\"");
	parse_ok("passthrough = \"default\"");
	parse_bad("passthrough = \"on\"", "passthrough: \"on\" unknown (expected default, "
		  "disabled, enabled, sync_pt or share_pt)");
	parse_bad("memory = \"lots\"", "line 1: memory: \"lots\" is not a number (decimal or 0x hex)");
	parse_bad("memory = 1.5", "memory: \"1.5\" is not a number");
	parse_bad("memory = 0", "memory: 0 out of range");
	parse_bad("memory = 0x", "is not a number");
	parse_bad("memory = 99999999999999999999999", "is too large");
	parse_bad("vcpus = 0", "vcpus: 0 out of range (1-4096)");
	parse_bad("vcpus = 4097", "out of range");
	parse_bad("memory = [1]", "memory: expected a single value, got a list");
	parse_bad("name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
		  "name: \"aaaa");
	parse_bad("name = \"a\\tb\"", "name: character 2 is a control character (U+0009)");
	parse_bad("name = \"a\xc2\x85\"", "name: character 2 is a control character (U+0085)");
	parse_bad("name = \"a\\x7f\"", "name: character 2 is a control character (U+007F)");
	parse_bad("name = \"ab\xff\"", "name: character 3 (byte 0xff) is not valid UTF-8");
	parse_bad("name = \"\xc0\xaf\"", "not valid UTF-8");	/* overlong '/' */
	parse_bad("name = \"\xed\xa0\x80\"", "not valid UTF-8");	/* surrogate */
	parse_bad("name = \"web/1\"", "name: character 4 is '/'");
	parse_bad("pci_permissive = 2", "pci_permissive: 2 out of range (0-1)");
}

static void test_syntax_errors(void **state)
{
	parse_bad("name = \"vm1\"\nmemory = 512\npci = [ \"03:00.0\",\n",
		  "line 4: pci: expected a list item or ']', got end of input (missing ']')");
	parse_bad("name = \"vm1\n", "line 1: unterminated string (missing \")");
	parse_bad("name = 'vm1", "unterminated string (missing ')");
	parse_bad("\n\nname \"vm1\"", "line 3: expected '=' after \"name\", got string \"vm1\"");
	parse_bad("name =\n\"vm1\"", "line 1: name: expected a value (\"string\", number or [list]), "
		  "got end of line");
	parse_bad("name = \"a\" \"b\"", "expected end of line or ';' after the value of \"name\", got string \"b\"");
	parse_bad("= 3", "line 1: expected a setting KEY = VALUE, got '='");
	parse_bad("\"name\" = 3", "expected a setting KEY = VALUE, got string \"name\"");
	parse_bad("name = $x", "unexpected '$'");
	parse_bad("name = \x01", "unexpected byte 0x01");
	parse_bad("pci = [[\"a\"]]", "nested lists are not supported");
	parse_bad("pci = [\"a\" \"b\"]", "expected ',' or ']' after list item, got string \"b\"");
	parse_bad("pci = [,]", "expected a list item or ']', got ','");
	parse_bad("memory += 3", "memory: '+=' only appends to lists");
	parse_bad("name = -1", "unexpected '-'");
	parse_bad("a + b", "unexpected '+'");
}

static void test_pci_errors(void **state)
{
	parse_bad("name = \"vm\"\npci = [ \"03:00.0\",\n        \"3:0.8\" ]\n",
		  "line 3: pci[1]: \"3:0.8\": function 8 out of range (0-7)");
	parse_bad("pci = [ \"bdf=03:00.0,name=x\" ]", "line 1: pci[0]: ");
	parse_bad("pci = [ \"03:00.0@20\" ]", "\"@20\": vslot 0x20 out of range (0-0x1f)");
	parse_bad("pci = \"03:00.0\"", "line 1: pci: expected a list, e.g. pci = [ \"03:00.0\" ]");
	parse_bad("pci = [ \"\" ]", "pci[0]: \"\": empty (expected");

	/* Size limits: 64 devices, 127 characters each. */
	char text[8192];
	size_t n = 0;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "pci = [");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\"%02x:00.0\",", i);
	snprintf(text + n, sizeof(text) - n, "]");
	parse_ok(text);
	assert_int_equal(cfg.npci, 64);
	assert_int_equal(cfg.pci[63].sbdf, 0x3f00);
	snprintf(text + n, sizeof(text) - n, "\n\"40:00.0\"]");
	parse_bad(text, "line 2: pci: more than 64 devices");

	char long_spec[200];
	memset(long_spec, 0, sizeof(long_spec));
	strcpy(long_spec, "pci = [ \"03:00.0");
	memset(long_spec + strlen(long_spec), ',', 130);
	strcat(long_spec, "\" ]");
	parse_bad(long_spec, "pci[0] \"03:00.0,,,");
}

static void test_pci_defaults_and_append(void **state)
{
	/* xl applies pci_* wherever they appear; the spec's own options win. */
	parse_ok("pci = [ \"03:00.0\", \"04:00.0,permissive=0\", \"05:00.0,seize=1\" ]\n"
		 "pci_permissive = 1\npci_msitranslate = 1\npci_power_mgmt=1\npci_seize = 0\n");
	assert_true(cfg.pci_permissive && cfg.pci_msitranslate && cfg.pci_power_mgmt);
	assert_true(cfg.pci[0].permissive && cfg.pci[0].msitranslate && cfg.pci[0].power_mgmt);
	assert_false(cfg.pci[0].seize);
	assert_false(cfg.pci[1].permissive);
	assert_true(cfg.pci[2].seize);

	parse_ok("pci = [ \"03:00.0\" ]\npci += [ \"04:00.0\", ]\npci += []\n");
	assert_int_equal(cfg.npci, 2);
	assert_int_equal(cfg.pci[1].sbdf, 0x0400);
	assert_int_equal(cfg.nwarnings, 0);
}

static void test_warnings(void **state)
{
	parse_ok("name = \"a\"\nvif = [ 'bridge=xenbr0' ]\non_crash = \"destroy\"\n"
		 "name = \"b\"\nfoo += [ 1 ]\n");
	assert_string_equal(cfg.name, "b");
	assert_int_equal(cfg.nwarnings, 4);
	assert_string_equal(cfg.warnings[0], "line 2: key \"vif\" ignored (not used by xpt)");
	assert_string_equal(cfg.warnings[1], "line 3: key \"on_crash\" ignored (not used by xpt)");
	assert_string_equal(cfg.warnings[2], "line 4: name set again, replacing line 1");
	assert_string_equal(cfg.warnings[3], "line 5: key \"foo\" ignored (not used by xpt)");

	char text[2048];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "k%d = %d\n", i, i);
	parse_ok(text);
	assert_int_equal(cfg.nwarnings, 40);      /* counted; the first 16 kept */
	assert_string_equal(cfg.warnings[15], "line 16: key \"k15\" ignored (not used by xpt)");
}

static void test_file(void **state)
{
	char path[] = "/tmp/xpt-test-xlcfg-XXXXXX", err[512];
	static const char text[] = "name = \"f\"\npci = [ \"01:00.*@8\" ]\n";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	assert_int_equal(xpt_cfg_parse_file(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.name, "f");
	assert_int_equal(cfg.pci[0].func_mask, XPT_FUNC_ALL);

	/* Errors name the file and the line. */
	assert_int_equal(write(fd, "pci += [ 'zz' ]\n", 16), 16);
	assert_int_equal(xpt_cfg_parse_file(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": line 3: pci[1]: \"zz\": not a PCI address"));

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "name = 1\nx\0y\n", 13, 0), 13);
	assert_int_equal(xpt_cfg_parse_file(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2: NUL byte"));
	close(fd);
	unlink(path);

	assert_int_equal(xpt_cfg_parse_file(path, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(xpt_cfg_parse_file("/tmp", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void apply_ok(const char *kv)
{
	char err[512] = "";

	if (xpt_cfg_apply_arg(&cfg, kv, err, sizeof(err)) != 0)
		fail_msg("'%s' should apply: %s", kv, err);
}

static void apply_bad(const char *kv, const char *want)
{
	static struct xpt_cfg before;
	char err[512] = "";

	memcpy(&before, &cfg, sizeof(cfg));
	assert_int_equal(xpt_cfg_apply_arg(&cfg, kv, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", kv, err, want);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_apply_arg(void **state)
{
	parse_ok("name = \"vm\"\nmemory = 256\npci = [ \"03:00.0\", \"04:00.0\" ]\n");

	apply_ok("pci=[\"05:00.0@3\"]");                 /* replaces the list */
	assert_int_equal(cfg.npci, 1);
	assert_int_equal(cfg.pci[0].sbdf, 0x0500);
	assert_int_equal(cfg.pci[0].vslot, 3);
	assert_int_equal(cfg.pci[1].sbdf, 0);            /* no stale entry */
	apply_ok("pci+=['06:00.0']");
	assert_int_equal(cfg.npci, 2);
	apply_ok("memory=1024");
	assert_int_equal(cfg.memory_mb, 1024);
	apply_ok("name=\"other\"; vcpus=2");
	assert_string_equal(cfg.name, "other");
	assert_int_equal(cfg.vcpus, 2);
	apply_ok("pci_permissive=1");                    /* re-applies to every entry */
	assert_true(cfg.pci[0].permissive && cfg.pci[1].permissive);
	apply_ok("builder=\"hvm\"");
	assert_string_equal(cfg.type, "hvm");
	apply_ok("type='pvh'");
	assert_string_equal(cfg.type, "pvh");
	assert_int_equal(cfg.nwarnings, 0);
	apply_ok("vif=[]");
	assert_int_equal(cfg.nwarnings, 1);
	assert_string_equal(cfg.warnings[0], "key \"vif\" ignored (not used by xpt)");

	apply_bad("pci=[\"3:0.8\"]", "'pci=[\"3:0.8\"]': pci[0]: \"3:0.8\": function 8 out of range (0-7)");
	apply_bad("name=foo", "'name=foo': name: bare word \"foo\" (quote strings: name = \"foo\")");
	apply_bad("memory", "'memory': expected KEY=VALUE");
	apply_bad("memory=", "expected a value");
	apply_bad("memory=abc", "bare word");
	apply_bad("pci=[\"03:00.0\"", "missing ']'");
}

static void test_check(void **state)
{
	char err[256];

	parse_ok("memory = 1");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name = \"NAME\""));
	parse_ok("name = 'x'");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), 0);
	/* UTF-8 names are names */
	parse_ok("name = \"caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x90\xa7\"");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), 0);
	/* digits parse (name = 42 is xl syntax) but cannot be created: a
	 * DOMAIN argument of digits is a domain id */
	parse_ok("name = 42");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "\"42\" is all digits"));
	assert_non_null(strstr(err, "\"vm42\""));
	parse_ok("name = '0x2a'");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), 0);
	/* a struct built by a program, not the parser */
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.name, "a\x01");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "control character (U+0001)"));
	memset(cfg.name, 'a', sizeof(cfg.name));
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 64 bytes"));
}

static void roundtrip(const struct xpt_cfg *a)
{
	static struct xpt_cfg b;
	static char buf[65536];
	char err[512];

	assert_int_equal(xpt_cfg_format(a, buf, sizeof(buf)), 0);
	if (xpt_cfg_parse_string(buf, &b, err, sizeof(err)) != 0)
		fail_msg("canonical text does not parse: %s\n%s", err, buf);
	if (!xpt_cfg_equal(a, &b))
		fail_msg("canonical text parses differently:\n%s", buf);
}

static void test_format(void **state)
{
	char small[16];

	parse_ok("name = \"q\\\"uote\\\\\"\ntype = \"hvm\"\nmemory = 64\nvcpus = 3\n"
		 "passthrough = \"enabled\"\nextra = \"a\\tb\\x7f\xc3\xa9\"\n"
		 "pci_seize = 1\npci = [ 'name=gpu,permissive=1', \"01:00.*@1f\" ]\n");
	roundtrip(&cfg);
	/* the HVM device model's settings are part of the configuration:
	 * a record that lost one is not the same (they were not compared) */
	{
		static struct xpt_cfg a;
		static const char *const keys[] = {
			"serial = \"none\"\n", "vga = \"stdvga\"\n",
			"device_model_version = \"qemu-xen\"\n",
		};
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			parse_ok("type = \"hvm\"\n");
			a = cfg;
			parse_ok(keys[i]);
			snprintf(cfg.type, sizeof(cfg.type), "%s", "hvm");
			if (xpt_cfg_equal(&a, &cfg))
				fail_msg("equal despite %s", keys[i]);
			roundtrip(&cfg);
		}
	}
	parse_ok("");
	roundtrip(&cfg);
	assert_int_equal(xpt_cfg_format(&cfg, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
}

/* e820_host: a PV guest with passthrough gets the host's memory map, also
 * when its devices are still to come (passthrough="enabled", no pci=):
 * Linux 6.5+ sets up its DMA bounce buffers only at boot and only then.
 * An explicit setting wins; HVM guests never get it.  Before, only a PV
 * guest with pci=[...] got it (as xl does), and a virtio-blk hot-plugged
 * into a Linux 6.12 guest faulted on every DMA (the lab, Xen 4.20). */
static void test_e820_host(void **state)
{
	parse_ok("passthrough = \"enabled\"\n");
	assert_int_equal(cfg.e820_host, XPT_E820_DEFAULT);
	assert_true(xpt_cfg_e820_host(&cfg, true));
	parse_ok("pci = [ \"03:00.0\" ]\n");
	assert_true(xpt_cfg_e820_host(&cfg, true));
	parse_ok("");
	assert_false(xpt_cfg_e820_host(&cfg, false));

	parse_ok("passthrough = \"enabled\"\ne820_host = 0\n");
	assert_int_equal(cfg.e820_host, XPT_E820_OFF);
	assert_false(xpt_cfg_e820_host(&cfg, true));
	roundtrip(&cfg);
	parse_ok("e820_host = 1\n");
	assert_true(xpt_cfg_e820_host(&cfg, false));
	roundtrip(&cfg);
	assert_int_equal(cfg.nwarnings, 0);
	parse_ok("type = \"hvm\"\npassthrough = \"enabled\"\ne820_host = 1\n");
	assert_false(xpt_cfg_e820_host(&cfg, true));
	parse_bad("e820_host = 2\n", "e820_host");
}

/* xl.cfg's stub-domain keys: parsed, kept, written back; only for HVM. */
static void test_stubdomain(void **state)
{
	char err[256];

	parse_ok("type = \"hvm\"\nname = \"h\"\n"
		 "device_model_stubdomain_override = 1\n"
		 "stubdomain_kernel = \"/usr/lib/xen/boot/stub.gz\"\n"
		 "stubdomain_ramdisk = \"/usr/lib/xen/boot/stub.cpio.gz\"\n"
		 "stubdomain_cmdline = \"console=hvc0\"\nstubdomain_memory = 128\n");
	assert_true(cfg.stubdomain);
	assert_string_equal(cfg.stubdomain_kernel, "/usr/lib/xen/boot/stub.gz");
	assert_string_equal(cfg.stubdomain_ramdisk, "/usr/lib/xen/boot/stub.cpio.gz");
	assert_string_equal(cfg.stubdomain_cmdline, "console=hvc0");
	assert_int_equal(cfg.stubdomain_memory_mb, 128);
	assert_int_equal(cfg.nwarnings, 0);
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), 0);
	roundtrip(&cfg);

	parse_ok("name = \"p\"\ndevice_model_stubdomain_override = 1\n");
	assert_int_equal(xpt_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "only an HVM guest"));
	parse_bad("device_model_stubdomain_override = 2\n",
		  "device_model_stubdomain_override");
	parse_bad("stubdomain_memory = 0\n", "stubdomain_memory");
	parse_bad("stubdomain_kernel += [ \"x\" ]\n", "only appends to lists");
}

/* Property: generated configs survive format + parse. */
static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void rnd_string(char *dst, size_t size, bool printable)
{
	size_t n = rnd((uint32_t)size), i;

	memset(dst, 0, size);
	for (i = 0; i < n; i++) {
		char ch = (char)(printable ? 0x20 + rnd(0x5f) : 1 + rnd(0xff));
		dst[i] = printable && ch == '/' ? '_' : ch;	/* a name */
	}
}

static void test_format_property(void **state)
{
	static const char *const types[] = { "pv", "hvm", "pvh" };
	static const char *const pt[] = { "", "enabled", "disabled", "sync_pt", "share_pt" };
	static struct xpt_cfg a;
	char err[256];

	for (int iter = 0; iter < 2000; iter++) {
		struct xpt_pci p;
		memset(&a, 0, sizeof(a));
		rnd_string(a.name, sizeof(a.name), true);
		strcpy(a.type, types[rnd(3)]);
		a.memory_mb = rnd(2) ? 0 : 1 + rnd(1u << 20);
		a.vcpus = 1 + rnd(4096);
		strcpy(a.passthrough, pt[rnd(5)]);
		rnd_string(a.kernel, sizeof(a.kernel), false);
		rnd_string(a.ramdisk, sizeof(a.ramdisk), false);
		rnd_string(a.extra, sizeof(a.extra), false);
		a.pci_permissive = rnd(2);
		a.pci_seize = rnd(2);
		a.e820_host = rnd(3);
		a.stubdomain = rnd(2);
		rnd_string(a.stubdomain_cmdline, sizeof(a.stubdomain_cmdline), false);
		a.stubdomain_memory_mb = rnd(2) ? 0 : 1 + rnd(4096);
		a.npci = rnd(65);
		for (size_t i = 0; i < a.npci; i++) {
			struct xpt_pci d;
			xpt_pci_spec_init(&d);
			d.permissive = a.pci_permissive;
			d.seize = a.pci_seize;
			snprintf(a.pci_text[i], sizeof(a.pci_text[i]), "%x:%x.%x%s", rnd(256),
				 rnd(32), rnd(8), rnd(2) ? ",permissive=0" : "");
			assert_int_equal(xpt_pci_spec_parse_defaults(a.pci_text[i], &d, &p, err,
								     sizeof(err)), 0);
			a.pci[i] = p;
		}
		roundtrip(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_syntax_variants),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_type_builder),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_pci_errors),
		cmocka_unit_test(test_pci_defaults_and_append),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_apply_arg),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_property),
		cmocka_unit_test(test_e820_host),
		cmocka_unit_test(test_stubdomain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
