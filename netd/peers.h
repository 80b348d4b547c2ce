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
#include "overlay/peer.h"
#include "store/store.h"

struct manager;

/* Find the underlay (config "underlay"): its address is this node's publicIP in its subnet record,
 * its MTU sizes the overlay.  Call before subnet_start(), with m->nl open.  With "underlay" unset
 * and no default route the node runs alone (no VXLAN device, no peers): a warning and 0.  A
 * configured underlay that cannot be found is an error. */
int peers_underlay(struct manager *m);
/* The underlay's address (0 = none) and MTU (0 = unknown). */
uint32_t peers_public_ip(const struct manager *m);
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
	uint32_t underlay_addr;      /* host byte order */
	uint8_t underlay_prefixlen;
	bool direct_routing;
};

#define PEERS_WHY_SIZE 160
struct peers_reject {
	size_t kv;                   /* index into kvs */
	char why[PEERS_WHY_SIZE];
};

/* One peer_want per valid record of another node.  Records that are not valid (a key that is no
 * subnet of the network, a value that does not parse, no publicIP or vtepMAC, this node's own
 * underlay address, a VTEP MAC an earlier record has) go to *ret_rejects with the reason; this
 * node's own record is skipped silently.  Arrays are malloc'd (free them); -ENOMEM only. */
int peers_desired(const struct peers_self *self, const struct store_kv *kvs, size_t n, struct peer_want **ret,
                  size_t *ret_n, struct peers_reject **ret_rejects, size_t *ret_n_rejects);
