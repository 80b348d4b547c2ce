/* An address of either family: what an underlay (a VXLAN endpoint) may be.  The cluster network
 * itself stays IPv4 (lib/cidr.h); only the underlay can be IPv6.  Pure functions, no I/O.
 *
 * The struct is plain data: the rtnetlink builders and parsers (overlay/rt*.c) fill and read its
 * fields directly, so they need no object of this module. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* INET6_ADDRSTRLEN: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" + NUL */
#define IPADDR_STRLEN 46

struct ipaddr {
	uint8_t family;      /* AF_INET, AF_INET6; 0 = none */
	uint32_t v4;         /* AF_INET: host byte order (as lib/cidr.h) */
	uint8_t v6[16];      /* AF_INET6: network byte order (as the kernel and inet_pton) */
};

/* An IPv4 address (host byte order) as a struct ipaddr. */
#define IPADDR_V4(a) ((struct ipaddr){ .family = AF_INET, .v4 = (a) })

/* A dotted quad (lib/cidr.h's strict ip4_parse) or an IPv6 address (inet_pton: no zone, no
 * prefix).  -EINVAL otherwise. */
int ipaddr_parse(const char *s, struct ipaddr *ret);
/* The canonical text (RFC 5952 for IPv6, as inet_ntop); "" for family 0. */
const char *ipaddr_format(const struct ipaddr *a, char buf[IPADDR_STRLEN]);
/* "IPv4", "IPv6" or "no address", for messages. */
const char *ipaddr_family_name(const struct ipaddr *a);
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);
/* Whether b lies in a's prefix of length len (same family; len beyond the family's width counts as
 * the full address). */
bool ipaddr_same_prefix(const struct ipaddr *a, const struct ipaddr *b, uint8_t len);
/* Whether a packet can be sent to a from another host without a scope: IPv4 not 0/8, loopback,
 * multicast or above; IPv6 not unspecified, loopback, multicast, link-local or IPv4-mapped. */
bool ipaddr_is_unicast(const struct ipaddr *a);
