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
	names_host_veth_n(container_id, ifname, 0, ret);
}

void names_host_veth_n(const char *container_id, const char *ifname, unsigned n, char ret[IFNAME_SIZE])
{
	/* Seed 0 is the plain FNV-1a basis: candidate 0 is exactly the pre-upgrade name. */
	uint64_t h = names_hash(container_id, strlen(container_id), n);

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

int names_cni_ifname_valid(const char *name, const char **ret_why)
{
	const char *why = NULL;
	size_t n;

	if (!name || (n = strlen(name)) == 0)
		why = "is empty";
	else if (n >= IFNAME_SIZE)
		why = "is longer than 15 bytes";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		why = "is \".\" or \"..\"";
	else if (strcmp(name, "lo") == 0)
		why = "is the loopback device";
	else if (strcmp(name, "all") == 0 || strcmp(name, "default") == 0)
		why = "collides with /proc/sys/net/*/conf/all and default";
	for (const char *p = name; !why && *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%')
			why = "contains '%' (a kernel name template)";
		else if (c == '/')
			why = "contains '/'";
		else if (c == ':')
			why = "contains ':' (an alias label)";
		else if (isspace(c))
			why = "contains whitespace";
		else if (c < 0x21 || c > 0x7e)
			why = "contains a non-printable or non-ASCII byte";
	}
	if (!why)
		return 0;
	if (ret_why)
		*ret_why = why;
	return -EINVAL;
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
