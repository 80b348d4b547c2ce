/* Names shoal derives: host veth names and the attachment key of (container id, ifname). */
#pragma once
#include <stdint.h>
#include <stddef.h>

#define HOST_VETH_PREFIX "shv"
#define IFNAME_SIZE 16   /* IFNAMSIZ */

uint64_t names_hash(const void *data, size_t len, uint64_t seed);
/* "shv" + 12 hex digits of a hash of (container id, ifname): 15 bytes, the kernel's limit.
 * The same as names_host_veth_n(container_id, ifname, 0, ret). */
void names_host_veth(const char *container_id, const char *ifname, char ret[IFNAME_SIZE]);
/* Candidate n for the host veth name of (container id, ifname).  48 bits of FNV-1a are easy to
 * collide on purpose ("e0e5b79c59b004c8" and "d0da1fd138f4dfbc" with "eth0" both give
 * shv04321f702b61), so whoever creates the veth takes the first candidate no other attachment
 * owns.  n = 0 is the name every earlier version used (it must not change on upgrade); n > 0 seeds
 * the hash with n. */
void names_host_veth_n(const char *container_id, const char *ifname, unsigned n, char ret[IFNAME_SIZE]);
/* A name the kernel accepts for an existing interface: 1..15 bytes, not "." or "..", no '/', ':'
 * or whitespace, printable ASCII.  For names that are already there (DEL, records, host veths). */
int names_ifname_valid(const char *name);
/* A name a runtime may ask for as CNI_IFNAME: names_ifname_valid() and also no '%' (the kernel
 * treats "e%d" as a template and names the device e0, e1, ...), and not "lo", "all" or "default"
 * (the loopback device, and the names of /proc/sys/net/ipv{4,6}/conf/{all,default}).  On failure
 * *ret_why (if ret_why is not NULL) is a short static reason such as
 * "contains '%' (a kernel name template)"; it is not written on success. */
int names_cni_ifname_valid(const char *name, const char **ret_why);
/* A container id as the CNI spec allows: alphanumerics plus '_', '.', '-', starting alnum,
 * at most 256 bytes (we also need it to be a safe file name). */
int names_container_id_valid(const char *id);
