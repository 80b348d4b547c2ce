/* rtnetlink IPv4 route messages: builder and parser (round-trip tested).  An IPv4 route may have an
 * IPv6 nexthop (RTA_VIA, "ip route add 10.244.3.0/24 via inet6 fd00::2"), and the underlay search
 * reads IPv6 default routes (rtroute_parse_any). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "lib/ipaddr.h"

/* Our own route protocol number: reconcile finds exactly the routes shoal made (rtnetlink
 * reserves 0-4 for the kernel and boot; routing daemons use numbers listed in rt_protos). */
#define RTROUTE_PROTO_SHOAL 75

struct rtroute {
	uint32_t dst;        /* host byte order */
	uint8_t dst_len;
	uint32_t gw;         /* 0 = none */
	int oif;             /* 0 = none */
	uint32_t table;      /* 0 = main */
	uint8_t protocol;    /* 0 = boot */
	bool onlink;
	uint8_t type;        /* RTN_*; 0 = RTN_UNICAST */
	uint32_t priority;   /* RTA_PRIORITY, the route's metric; 0 = none (best) */
	uint32_t mtu;        /* RTAX_MTU in RTA_METRICS; 0 = none (the device's MTU applies) */
	/* An IPv6 nexthop instead of gw: RTA_VIA of an IPv4 route (built and parsed), or RTA_GATEWAY
	 * of an IPv6 route (rtroute_parse_any).  family 0 = none. */
	struct ipaddr via;
	uint8_t family;      /* parse only: AF_INET, or AF_INET6 from rtroute_parse_any */
};

/* cmd: RTM_NEWROUTE (create or replace) or RTM_DELROUTE. */
int rtroute_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, const struct rtroute *r);
/* RTM_NEWROUTE that never replaces: the kernel answers EEXIST when the table already has a route
 * with the same destination, prefix length, TOS and priority (whatever its gateway). */
int rtroute_build_add(void *buf, size_t buflen, uint32_t seq, const struct rtroute *r);
int rtroute_build_dump(void *buf, size_t buflen, uint32_t seq);
/* A dump of every route of one family (AF_INET or AF_INET6). */
int rtroute_build_dump_family(void *buf, size_t buflen, uint32_t seq, int family);
/* A dump of the main table's routes of one protocol (RTROUTE_PROTO_SHOAL: ours).  The kernel
 * filters by rtm_protocol and rtm_table only on a socket with NETLINK_GET_STRICT_CHK and sends
 * everything otherwise, so callers check rtroute_parse()'s protocol and table as well. */
int rtroute_build_dump_proto(void *buf, size_t buflen, uint32_t seq, uint8_t protocol);
/* Parse an RTM_NEWROUTE (IPv4 only: -EAFNOSUPPORT otherwise).  A multipath route reports its first
 * nexthop's oif and gateway, as /proc/net/route does. */
int rtroute_parse(const struct nlmsghdr *nlh, struct rtroute *ret);
/* The same for IPv4 and IPv6 routes.  Of an IPv6 route dst is not kept (0; dst_len is), and its
 * gateway goes to via: enough to find the default route. */
int rtroute_parse_any(const struct nlmsghdr *nlh, struct rtroute *ret);
