/* Names shoal derives: host veth names and the attachment key of (container id, ifname). */
#pragma once
#include <stdint.h>
#include <stddef.h>

#define HOST_VETH_PREFIX "shv"
#define IFNAME_SIZE 16   /* IFNAMSIZ */

uint64_t names_hash(const void *data, size_t len, uint64_t seed);
/* "shv" + 12 hex digits of a hash of (container id, ifname): 15 bytes, the kernel's limit. */
void names_host_veth(const char *container_id, const char *ifname, char ret[IFNAME_SIZE]);
/* A valid Linux interface name: 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
int names_ifname_valid(const char *name);
/* A container id as the CNI spec allows: alphanumerics plus '_', '.', '-', starting alnum,
 * at most 256 bytes (we also need it to be a safe file name). */
int names_container_id_valid(const char *id);
