/* rtnetlink address messages: IPv4 builder and parser (round-trip tested), and a parser of either
 * family for finding an underlay (which may be IPv6). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "lib/ipaddr.h"

struct rtaddr_info {
	int ifindex;
	uint32_t addr;       /* host byte order */
	uint8_t prefixlen;
};

/* cmd: RTM_NEWADDR (create or replace: idempotent) or RTM_DELADDR. */
int rtaddr_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex, uint32_t addr, uint8_t prefixlen);
/* Dump of IPv4 addresses (all links). */
int rtaddr_build_dump(void *buf, size_t buflen, uint32_t seq);
/* Dump of the addresses of one family (AF_INET or AF_INET6), all links. */
int rtaddr_build_dump_family(void *buf, size_t buflen, uint32_t seq, int family);
/* IPv4 only: -EAFNOSUPPORT for other families. */
int rtaddr_parse(const struct nlmsghdr *nlh, struct rtaddr_info *ret);

/* An address of either family as a dump reports it. */
struct rtaddr_any {
	int ifindex;
	struct ipaddr addr;  /* IFA_LOCAL (IFA_ADDRESS when there is none) */
	uint8_t prefixlen;
	uint8_t scope;       /* RT_SCOPE_*: an IPv6 link-local address is RT_SCOPE_LINK */
	uint32_t flags;      /* IFA_F_* (IFA_FLAGS when present: the ifaddrmsg holds only 8 bits) */
};
/* AF_INET or AF_INET6; -EAFNOSUPPORT for other families. */
int rtaddr_parse_any(const struct nlmsghdr *nlh, struct rtaddr_any *ret);
