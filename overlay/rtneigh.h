/* rtnetlink neighbour messages, for the two kinds of entry a VXLAN peer needs (round-trip tested):
 *
 *   neighbour (AF_INET):   10.244.3.0 lladdr <peer VTEP MAC> dev shoal.1 PERMANENT
 *   FDB entry (AF_BRIDGE): <peer VTEP MAC> dev shoal.1 dst <peer public IP> self permanent
 *
 * The neighbour is always IPv4 (the cluster network); the FDB entry's remote is the peer's underlay
 * address, IPv4 or IPv6.
 *
 * Both are RTM_NEWNEIGH/RTM_DELNEIGH with a struct ndmsg; the family picks the table.  Builders
 * return the message length or -ENOBUFS. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "lib/ipaddr.h"

#define RTNEIGH_MAC_LEN 6
/* The longest message any builder here writes, for sizing batches. */
#define RTNEIGH_MAXLEN 64

struct rtneigh {
	int family;          /* AF_INET (neighbour) or AF_BRIDGE (FDB) */
	int ifindex;
	uint16_t state;      /* NUD_* */
	uint8_t flags;       /* NTF_* (NTF_SELF: the device's own FDB, not a bridge master's) */
	uint32_t dst;        /* host byte order; AF_INET: the neighbour, AF_BRIDGE: the remote VTEP; 0 = none */
	bool dst_v6;         /* parse only: NDA_DST was an IPv6 address (dst is 0 then, dst6 holds it) */
	uint8_t dst6[16];    /* parse only: network byte order */
	uint8_t mac[RTNEIGH_MAC_LEN];
	bool has_mac;
	uint32_t master;     /* parse only: NDA_MASTER (FDB entries of a bridge port) */
};

/* Permanent neighbour addr -> mac on ifindex.  cmd RTM_NEWNEIGH creates or replaces (whatever the
 * entry's state was: a FAILED or STALE entry the kernel made becomes ours), RTM_DELNEIGH deletes
 * (mac is ignored then). */
int rtneigh_build_neigh(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex, uint32_t addr,
                        const uint8_t mac[RTNEIGH_MAC_LEN]);
/* Permanent FDB entry mac -> dst (IPv4 or IPv6; NULL or family 0 = none) on a VXLAN device
 * (NTF_SELF).  RTM_NEWNEIGH creates or replaces the entry's remote (never appends a second one),
 * RTM_DELNEIGH deletes the MAC (dst is ignored). */
int rtneigh_build_fdb(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex,
                      const uint8_t mac[RTNEIGH_MAC_LEN], const struct ipaddr *dst);
/* Dump of every entry of family (AF_INET or AF_BRIDGE).  The kernel filters a dump by device only
 * on a strict-checking socket, so callers filter by ifindex themselves. */
int rtneigh_build_dump(void *buf, size_t buflen, uint32_t seq, int family);
/* Parse an RTM_NEWNEIGH (a dump entry).  -EAFNOSUPPORT for families other than AF_INET and
 * AF_BRIDGE (IPv6 neighbours, say). */
int rtneigh_parse(const struct nlmsghdr *nlh, struct rtneigh *ret);
