/* The kernel entries that make a peer reachable (DESIGN.md "Kernel objects and names"), reconciled
 * as a pure plan: desired peers against the entries observed in the kernel, to a list of actions,
 * applied separately in batches (one sendmsg per batch).
 *
 * Per peer, through the VXLAN device:
 *   neighbour  <subnet>.0 lladdr <VTEP MAC> dev shoal.<vni> PERMANENT
 *   FDB        <VTEP MAC> dev shoal.<vni> dst <public IP> self permanent
 *   route      <subnet> via <subnet>.0 dev shoal.<vni> onlink proto shoal
 * or, for a peer on the underlay's own L2 with direct routing:
 *   route      <subnet> via <public IP> dev <underlay> proto shoal
 * (an IPv4 route via an IPv6 public IP is "via inet6 <public IP>": RTA_VIA).
 *
 * The public IP (the underlay) is IPv4 or IPv6 and of the same family as this node's underlay
 * (the VXLAN device has one family); the subnet, the neighbour and the route are IPv4.
 *
 * What is ours: routes of protocol RTROUTE_PROTO_SHOAL in the main table; permanent neighbours and
 * unicast FDB entries on the VXLAN device (we own the device, learning is off).  Nothing else is
 * ever changed: other protocols' routes, other devices' entries, the kernel's own (non-permanent)
 * neighbours, flood (all-zero) or multicast FDB entries. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "overlay/host.h"
#include "overlay/nlsock.h"

#define PEER_MAC_LEN 6

struct peer_want {
	uint32_t subnet;             /* host byte order, the network address */
	uint8_t len;
	struct ipaddr public_ip;     /* the peer's underlay address (its VTEP) */
	uint8_t mac[PEER_MAC_LEN];   /* the peer's VTEP MAC */
	bool direct;                 /* a plain route via public_ip on the underlay: no neighbour, no FDB */
};

struct peer_neigh {
	uint32_t addr;
	uint8_t mac[PEER_MAC_LEN];
	bool permanent;
};

struct peer_fdb {
	uint8_t mac[PEER_MAC_LEN];
	struct ipaddr dst;           /* the remote VTEP; family 0 = none */
	bool permanent;
};

struct peer_route {
	uint32_t dst;
	uint8_t len;
	struct ipaddr gw;            /* RTA_GATEWAY (IPv4) or RTA_VIA (IPv6); family 0 = none */
	int oif;
	bool onlink;
	uint32_t priority;
};

/* Our entries as the kernel has them (peer_observe fills it; a test builds it by hand). */
struct peer_observed {
	struct peer_neigh *neighs;
	size_t n_neighs;
	struct peer_fdb *fdbs;
	size_t n_fdbs;
	struct peer_route *routes;
	size_t n_routes;
};

struct peer_ctx {
	int vxlan_ifindex;
	int underlay_ifindex;
};

/* In the order the plan emits them: deletions of routes before the entries they use, additions
 * of neighbour and FDB before the routes that need them. */
enum peer_op {
	PEER_ROUTE_DEL,   /* obs: routes[obs] */
	PEER_NEIGH_DEL,   /* obs: neighs[obs] */
	PEER_FDB_DEL,     /* obs: fdbs[obs] */
	PEER_NEIGH_SET,   /* want: create or replace in place */
	PEER_FDB_SET,
	PEER_ROUTE_SET,
};

struct peer_action {
	enum peer_op op;
	size_t want;                 /* index into wants (the _SET ops) */
	size_t obs;                  /* index into the observed array of its kind (the _DEL ops) */
};

/* The actions that turn obs into wants.  An observed entry with the key of a wanted one (neighbour
 * address, FDB MAC, route prefix with metric 0) is kept when it is right and replaced in place when
 * not, never deleted: correct entries are adopted, so a restart loses no packet.  Wants must not
 * share a subnet or a VTEP MAC (the caller rejects such records).  *ret is malloc'd, possibly NULL
 * when *ret_n is 0.  -ENOMEM only. */
int peer_plan(const struct peer_ctx *ctx, const struct peer_want *wants, size_t n_wants,
              const struct peer_observed *obs, struct peer_action **ret, size_t *ret_n);

/* Dump neighbours, FDB and routes and keep ours (see the top of this file). */
int peer_observe(struct nlsock *s, const struct peer_ctx *ctx, struct peer_observed *ret, char err[OVERLAY_ERRLEN]);
void peer_observed_done(struct peer_observed *o);

/* Apply the plan in batches.  errs[n] receives each action's result (0 or -errno; deleting what is
 * already gone is 0).  Returns 0 when every action succeeded, the first action's error otherwise,
 * or a socket error (-ETIMEDOUT, ...) that left the rest untried (their errs say -ECANCELED); err
 * then carries the kernel's text of the first failure. */
int peer_apply(struct nlsock *s, const struct peer_ctx *ctx, const struct peer_want *wants,
               const struct peer_observed *obs, const struct peer_action *acts, size_t n, int *errs,
               char err[NLSOCK_ERRLEN]);

/* "add route 10.244.3.0/24 via 10.244.3.0 dev shoal.1 onlink", for the caller's log. */
void peer_action_format(const struct peer_action *a, const struct peer_want *wants, const struct peer_observed *obs,
                        const char *vxlan_name, const char *underlay_name, char *out, size_t len);
