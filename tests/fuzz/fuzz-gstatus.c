// SPDX-License-Identifier: MIT
/*
 * `xpt guest-status --json`'s reading of the guest's status reply
 * (src/xpt/listing.c): the guest writes it, so any bytes must give the
 * documented object or exit status 1 with nothing printed, never a crash;
 * what was printed must be one whole JSON document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	char *reply = malloc(size + 1), *buf = NULL, err[64];
	size_t len = 0;
	FILE *out;
	int r;

	if (!null)
		null = fopen("/dev/null", "we");
	out = open_memstream(&buf, &len);
	if (!reply || !out || !null)
		abort();
	memcpy(reply, data, size);
	reply[size] = '\0';	/* the query client's buffer is a string */
	r = cli_guest_status_json(out, null, 3, reply);
	fclose(out);
	if (r == 0) {
		yajl_val v = yajl_tree_parse(buf, err, sizeof(err));

		if (!v || !YAJL_IS_OBJECT(v))
			abort();	/* printed, but not one object */
		yajl_tree_free(v);
	} else if (r != 1 || len) {
		abort();		/* a failure that printed JSON */
	}
	free(buf);
	free(reply);
	return 0;
}
