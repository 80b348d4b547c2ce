/* Peers: every other node's subnet lease in the store ("subnets/<a.b.c.d-len>", record_subnet),
 * kept programmed in the kernel as the entries overlay/peer.h describes.
 *
 * Start-up programs every peer from one listing of the store, then watches from that listing's
 * revision; each batch of watch events, and the reconcile timer, runs the same pure plan (desired
 * peers against observed kernel entries) and applies its difference.  A compacted watch is
 * listed again (asynchronously) and restarted.  docs/overlay.md has the whole story. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/cidr.h"
#include "lib/ipaddr.h"
#include "overlay/peer.h"
#include "store/store.h"

struct manager;

/* Find the underlay (config "underlay"): its address is this node's publicIP in its subnet record,
 * its MTU sizes the overlay.  Call before subnet_start(), with m->nl open.  With "underlay" unset
 * and no default route the node runs alone (no VXLAN device, no peers): a warning and 0.  A
 * configured underlay that cannot be found is an error. */
int peers_underlay(struct manager *m);
/* The underlay's address when it is IPv4 (0 = none, or an IPv6 underlay: see peers_public_addr). */
uint32_t peers_public_ip(const struct manager *m);
/* The underlay's address of either family as text, what the subnet record publishes ("" = none). */
const char *peers_public_addr(const struct manager *m, char buf[IPADDR_STRLEN]);
/* AF_INET or AF_INET6 (the VXLAN overhead differs: VXLAN_OVERHEAD_IPV4/6); 0 = no underlay. */
int peers_underlay_family(const struct manager *m);
/* The underlay's MTU (0 = unknown). */
uint32_t peers_underlay_mtu(const struct manager *m);
/* Create or adopt shoal.<vni>, program every peer from one listing, start the watch.  After the
 * bridge, before the API. */
int peers_start(struct manager *m);
/* The reconcile timer: repair the VXLAN device and the peers' entries; restart a watch that died. */
void peers_reconcile(struct manager *m);
/* This node leaves the cluster (API "leave"): stop watching, forget the store's subnets and remove
 * every peer entry we programmed.  Until shoald restarts, reconcile keeps them removed. */
void peers_leave(struct manager *m);
/* Every other node's lease as this node sees it, for the API's "hosts": node, subnet, publicIP,
 * vtepMAC, mode ("vxlan", "direct", or "" for a record we cannot use), programmed, error (the last
 * run's failure, or why the record is unusable; "" when none).  NULL: out of memory. */
json_t *peers_hosts(const struct manager *m);
/* The overlay as this node runs it: false when no underlay was found (the node runs alone). */
bool peers_enabled(const struct manager *m);
/* The underlay's device name and the VXLAN device's name ("" when none). */
const char *peers_underlay_name(const struct manager *m);
const char *peers_vxlan_name(const struct manager *m);
/* Stop watching (before the store is freed). */
void peers_stop(struct manager *m);
/* After store_free(): no store callback can reach the peers state any more. */
void peers_free(struct manager *m);

/* ---- pure: store records to desired peers (unit-tested) ---- */

struct peers_self {
	const char *node;
	struct cidr4 network;
	uint8_t subnet_len;
	struct cidr4 own_subnet;
	struct ipaddr underlay_addr; /* family 0: none */
	uint8_t underlay_prefixlen;
	bool direct_routing;
};

#define PEERS_WHY_SIZE 224
struct peers_reject {
	size_t kv;                   /* index into kvs */
	char why[PEERS_WHY_SIZE];
};

/* One peer_want per valid record of another node.  Records that are not valid (a key that is no
 * subnet of the network, a value that does not parse, no publicIP or vtepMAC, a publicIP no packet
 * can be sent to, this node's own underlay address, a VTEP MAC an earlier record has) go to
 * *ret_rejects with the reason, and so does a publicIP of the other address family than this
 * node's underlay (VXLAN cannot cross families: a device is IPv4 or IPv6).  This node's own record
 * is skipped silently.  Direct routing applies to peers inside the underlay's own prefix, which
 * implies the same family.  Arrays are malloc'd (free them); -ENOMEM only. */
int peers_desired(const struct peers_self *self, const struct store_kv *kvs, size_t n, struct peer_want **ret,
                  size_t *ret_n, struct peers_reject **ret_rejects, size_t *ret_n_rejects);
