// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for a stub domain's check of the device model's
 * arguments it reads from xenstore (src/guest/stubdom.c): the input is
 * the target domid (first byte, 1..255), then <vm>/image/dm-argv as
 * NUL-separated name, value, name, value, ...  The key names go through
 * stubdom_check_keys; when they are 001..N, the values in key order
 * through stubdom_check_argv.  Besides no crash, UB or leak: an accepted
 * argv has only short, printable arguments, only allowed options at
 * option positions, each with its value, and -xen-domid the target's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz-stubdom: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); abort(); } } while (0)
#define MAX_RECORDS (2 * STUBDOM_MAX_ARGS + 8)

static const char *const flags[] = {
	"-nodefaults", "-no-shutdown", "-nographic", "-no-user-config",
};
static const char *const with_value[] = {
	"-xen-domid", "-machine", "-M", "-display", "-name", "-m", "-smp",
};

static bool in(const char *a, const char *const *list, size_t n)
{
	while (n--)
		if (!strcmp(a, list[n]))
			return true;
	return false;
}

/* What xpt-dm will see, walked as its parse_args does. */
static void check_accepted(const char *const *argv, unsigned int argc,
			   unsigned int target)
{
	bool domid = false;
	unsigned int i;
	const unsigned char *p;

	for (i = 0; i < argc; i++) {
		CHECK(argv[i][0] && strlen(argv[i]) <= STUBDOM_MAX_ARG_LEN);
		for (p = (const unsigned char *)argv[i]; *p; p++)
			CHECK(*p >= 0x20 && *p != 0x7f);
	}
	for (i = 0; i < argc; i++) {
		if (in(argv[i], flags, sizeof(flags) / sizeof(flags[0])))
			continue;
		CHECK(in(argv[i], with_value,
			 sizeof(with_value) / sizeof(with_value[0])));
		CHECK(i + 1 < argc);
		if (!strcmp(argv[i], "-xen-domid")) {
			/* decimal digits only, as xpt-dm reads it: the
			 * target (leading zeros are harmless) */
			CHECK(!argv[i + 1][strspn(argv[i + 1], "0123456789")]);
			CHECK(strtoul(argv[i + 1], NULL, 10) == target);
			domid = true;
		}
		i++;
	}
	CHECK(domid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rec[MAX_RECORDS], *names[MAX_RECORDS];
	const char *argv[STUBDOM_MAX_ARGS];
	unsigned int nrec = 0, n = 0, i, j, target;
	char err[160], *text, *p, *end;
	int r;

	if (size < 1 || size > 64 * 1024)
		return 0;
	target = data[0] ? data[0] : 1;
	text = malloc(size);
	CHECK(text);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	end = text + size - 1;
	for (p = text; p < end && nrec < MAX_RECORDS; p += strlen(p) + 1)
		rec[nrec++] = p;
	for (i = 0; i + 1 < nrec; i += 2)
		names[n++] = rec[i];
	err[0] = '\0';
	r = stubdom_check_keys(names, n, err, sizeof(err));
	CHECK(r == 0 || (r < 0 && err[0] && memchr(err, 0, sizeof(err))));
	if (r < 0)
		goto out;
	/* 001..n each once: every argument has its key */
	for (i = 0; i < n; i++) {
		char key[8];

		snprintf(key, sizeof(key), "%03u", i + 1);
		argv[i] = NULL;
		for (j = 0; j < n; j++)
			if (!strcmp(names[j], key)) {
				CHECK(!argv[i]);
				argv[i] = rec[2 * j + 1];
			}
		CHECK(argv[i]);
	}
	err[0] = '\0';
	r = stubdom_check_argv(argv, n, target, err, sizeof(err));
	if (r == 0)
		check_accepted(argv, n, target);
	else
		CHECK(err[0] && memchr(err, 0, sizeof(err)));
out:
	free(text);
	return 0;
}
