/* Address management, pure logic without I/O (shoald persists what it decides).
 *
 * Subnets: pick a free subnet of the cluster network given the ones already taken.
 * Addresses: a pool over one host subnet; the network address, the gateway (first address, on the
 * bridge) and the broadcast address are never handed out.  Allocation is next-fit, so a released
 * address is the last to come back: a stale ARP entry or a late packet for a deleted container
 * does not reach its successor soon after. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"

/* Pick a subnet of length sublen inside network that overlaps none of taken[], scanning from
 * index hint (wrapping).  -ENOSPC when the network is full. */
int ipam_subnet_pick(const struct cidr4 *network, uint8_t sublen, const struct cidr4 *taken, size_t ntaken,
                     uint32_t hint, struct cidr4 *ret);

struct ipam_pool;

/* -EINVAL for subnets smaller than /30 (no room for a gateway and one workload). */
int ipam_pool_new(const struct cidr4 *subnet, struct ipam_pool **ret);
void ipam_pool_free(struct ipam_pool *p);
uint32_t ipam_pool_gateway(const struct ipam_pool *p);
const struct cidr4 *ipam_pool_subnet(const struct ipam_pool *p);
/* Mark addr as used (restoring persisted state).  -EEXIST when used, -ERANGE when outside the
 * usable range. */
int ipam_pool_reserve(struct ipam_pool *p, uint32_t addr);
/* -ENOSPC when full. */
int ipam_pool_alloc(struct ipam_pool *p, uint32_t *ret_addr);
/* -ENOENT when it was not in use. */
int ipam_pool_release(struct ipam_pool *p, uint32_t addr);
bool ipam_pool_in_use(const struct ipam_pool *p, uint32_t addr);
uint32_t ipam_pool_free_count(const struct ipam_pool *p);
uint32_t ipam_pool_usable_count(const struct ipam_pool *p);
