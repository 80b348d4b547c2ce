#include "lib/names.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t names_hash(const void *data, size_t len, uint64_t seed)
{
	/* FNV-1a, 64 bit: tiny, stable across versions (names must not change on upgrade). */
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void names_host_veth(const char *container_id, const char *ifname, char ret[IFNAME_SIZE])
{
	uint64_t h = names_hash(container_id, strlen(container_id), 0);

	/* Separator byte so ("ab","c") and ("a","bc") differ. */
	h = names_hash("\0", 1, h);
	h = names_hash(ifname, strlen(ifname), h);
	snprintf(ret, IFNAME_SIZE, HOST_VETH_PREFIX "%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

int names_ifname_valid(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n >= IFNAME_SIZE || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || (unsigned char)*p < 0x21 ||
		    (unsigned char)*p > 0x7e)
			return -EINVAL;
	return 0;
}

int names_container_id_valid(const char *id)
{
	size_t n;

	if (!id)
		return -EINVAL;
	n = strlen(id);
	if (n == 0 || n > 256 || !isalnum((unsigned char)id[0]))
		return -EINVAL;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return -EINVAL;
	return 0;
}
