/* Objects of the host namespace itself: the bridge the workloads hang off, and what the node's
 * underlay offers (its MTU).  Same conventions as overlay.h: -errno plus err naming the object. */
#pragma once
#include <stdint.h>

#include "lib/ipaddr.h"
#include "overlay/nlsock.h"
#include "overlay/rtlink.h"

/* Room for the error text of every overlay_* function (host.h and overlay.h). */
#define OVERLAY_ERRLEN 512

struct overlay_bridge {
	const char *name;
	uint8_t mac[RTLINK_MAC_LEN];
	uint32_t mtu;
	uint32_t gateway;    /* host byte order; assigned to the bridge */
	uint8_t prefixlen;
};

/* Create the bridge or adopt an existing one (never recreated: established flows keep going),
 * make sure it is up and carries the gateway address.  -EEXIST when a non-bridge has the name. */
int overlay_bridge_ensure(struct nlsock *host, const struct overlay_bridge *b, int *ret_ifindex,
                          char err[OVERLAY_ERRLEN]);

/* The MTU of the device holding the namespace's IPv4 default route in the main table (of the best
 * one, by metric, when there are several), or the route's own MTU metric when that is smaller;
 * without an IPv4 default route, the same of the IPv6 default route.  *ret_family says which
 * (AF_INET or AF_INET6: the VXLAN overhead differs).  -ENOENT when there is neither (no underlay to
 * size the overlay by). */
int overlay_underlay_mtu(struct nlsock *s, uint32_t *ret_mtu, int *ret_family, char err[OVERLAY_ERRLEN]);

/* The underlay: where VXLAN packets leave this node. */
struct overlay_underlay {
	struct ipaddr addr;  /* IPv4 or IPv6: the VXLAN device's family, and what peers must be */
	uint8_t prefixlen;   /* of addr: peers inside addr/prefixlen share the underlay's L2 */
	int ifindex;
	char name[RTLINK_NAME_SIZE];
	uint32_t mtu;        /* the device's, or the default route's MTU when smaller (underlay "" only) */
};

/* Find the underlay from the config's "underlay" value:
 *   an interface name  -> that interface and its first IPv4 address, or when it has none its first
 *                         global IPv6 address;
 *   an IPv4 or IPv6 address -> the interface holding it (an IPv6 one must be global: not
 *                         link-local, loopback or multicast);
 *   ""                 -> the device of the IPv4 default route and its first IPv4 address; without
 *                         an IPv4 default route, the device of the IPv6 default route and its first
 *                         global IPv6 address (as overlay_underlay_mtu).
 * Global IPv6 addresses exclude temporary (privacy) ones and those that failed DAD; deprecated and
 * tentative ones are taken only when there is no other.
 * -ENODEV (no such interface), -EADDRNOTAVAIL (no interface holds the address, or the interface
 * has no usable address), -ENOENT (no default route), with err saying which. */
int overlay_underlay_addr(struct nlsock *s, const char *underlay, struct overlay_underlay *ret,
                          char err[OVERLAY_ERRLEN]);
