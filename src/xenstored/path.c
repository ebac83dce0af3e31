// SPDX-License-Identifier: MIT
/* Path rules: validity, canonical (absolute) form, parents, hashing. */
#include <stdio.h>
#include <string.h>

#include "xenstored.h"

static bool path_valid_chars(const char *p)
{
	static bool ok[256];
	static bool init;

	if (!init) {
		const char *c;

		for (c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-/_@"; *c; c++)
			ok[(unsigned char)*c] = true;
		init = true;
	}
	for (; *p; p++)
		if (!ok[(unsigned char)*p])
			return false;
	return true;
}

/* Length of a leading "/local/domain/<N>/" (N of at most 5 digits), else 0. */
static size_t path_local_prefix(const char *p)
{
	static const char pre[] = "/local/domain/";
	size_t i = sizeof(pre) - 1, digits = 0;

	if (strncmp(p, pre, i) != 0)
		return 0;
	while (p[i] >= '0' && p[i] <= '9' && digits < 5) {
		i++;
		digits++;
	}
	if (!digits || p[i] != '/')
		return 0;
	return i + 1;
}

/*
 * A node name: absolute, no trailing or double '/', only [A-Za-z0-9-/_@],
 * and at most path-max characters below /local/domain/<N>/.
 */
bool path_is_valid(const struct xsd *xsd, const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (xsd->cfg.quota.path_max &&
	    len > path_local_prefix(path) + xsd->cfg.quota.path_max)
		return false;
	return path_valid_chars(path);
}

/* Absolute form of a request's path: relative ones hang off the domain's. */
int path_canonical(const struct conn *c, const char *in, char *out,
		   size_t outlen)
{
	size_t len = strlen(in);
	int n;

	if (in[0] == '/' || in[0] == '@') {
		if (len >= outlen)
			return -EINVAL;
		memcpy(out, in, len + 1);
		return 0;
	}
	n = snprintf(out, outlen, "%s/%s", conn_implicit_path(c), in);
	if (n < 0 || (size_t)n >= outlen)
		return -EINVAL;
	return 0;
}

/* Length of the parent's path: "/a/b" -> 2 ("/a"), "/a" -> 1 ("/"). */
size_t path_parent_len(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] != '/')
		len--;
	return len > 1 ? len - 1 : 1;
}

/* The parent's path into out (at least strlen(path) + 1 bytes). */
void path_parent(const char *path, char *out)
{
	size_t len = path_parent_len(path, strlen(path));

	memcpy(out, path, len);
	out[len] = '\0';
}

/* Word-at-a-time multiplicative hash: paths are hashed on every lookup. */
uint32_t path_hash(const char *path, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	while (len >= 8) {
		memcpy(&w, path, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
		path += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, path, len);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 32));
}

/* Does an event on `child` concern a watch on `parent`? "/" sees all. */
bool path_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}
