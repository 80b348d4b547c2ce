/* shoald --cleanup: remove from this host everything shoald created, and nothing else.
 *
 * What is ours, and the order it goes in (docs/install.md "Removing shoal from a host"):
 *   1. workload veths: kind veth, named "shv" + 12 hex digits, AND on our bridge, or carrying our
 *      alias ("shoal1 ...", netd/records.h), or named by a record in stateDir/attachments|releasing.
 *      Deleting the host end deletes the container's end: a container loses its interface whole,
 *      never keeps one that half works.
 *   2. routes of protocol RTROUTE_PROTO_SHOAL in the main table (peers, also direct routes via the
 *      underlay), then the VXLAN devices "shoal.<vni>" (kind vxlan); their FDB entries and
 *      neighbours go with them.
 *   3. the bridge (config "bridge", kind bridge), only when no port that is not ours is left on it:
 *      a foreign port keeps the bridge, reported, and is not a failure.
 *   4. the IFBs "shoal-in" and "shoal-out" (kind ifb).
 *   5. the nftables tables inet shoal and bridge shoal; our accept rules in ip filter FORWARD.
 *   6. stateDir: attachments/, releasing/, pending-del/ (our record files, then the directories when
 *      empty), subnet.json, shoald.lock, then stateDir itself when empty and not a mount point.
 *      Files we did not write are kept and reported.  A stale API socket (nobody answers) too.
 *   7. the store, when reachable: every key subnets/<a.b.c.d-len> whose record names this node
 *      (compare-and-delete), and its lease.  An unreachable store is reported, not a failure: the
 *      lease is no longer renewed and expires after leaseTTL.
 *
 * It refuses to run while a shoald runs in this network namespace or on this state directory (the
 * same two locks as netd/manager.c).  The link decisions are a pure function of (links, config,
 * records), tested in tests/unit/test_cleanup.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "netd/config.h"
#include "overlay/rtlink.h"

enum cleanup_link_kind {
	CLEANUP_LINK_FOREIGN = 0,   /* not ours: never touched */
	CLEANUP_LINK_VETH,          /* a workload's host veth */
	CLEANUP_LINK_VXLAN,         /* shoal.<vni> */
	CLEANUP_LINK_IFB,           /* shoal-in, shoal-out */
	CLEANUP_LINK_BRIDGE,        /* our bridge, with no foreign port: deleted */
	CLEANUP_LINK_BRIDGE_KEPT,   /* our bridge, but a foreign port is on it: kept */
};

/* "shv" followed by exactly 12 lowercase hex digits (lib/names.h names_host_veth). */
bool cleanup_is_host_veth_name(const char *name);

/* Classify every link: ret_kinds[i] for links[i].  bridge: the config's bridge name; record_veths:
 * host veth names from our attachment records (may be NULL when n_records is 0).  *ret_foreign_port
 * (may be NULL) gets the index of one port of the bridge that is not ours, or n when there is none.
 * Pure; 0 always (the return leaves room for a future -errno). */
int cleanup_classify(const struct rtlink_info *links, size_t n, const char *bridge, const char *const *record_veths,
                     size_t n_records, enum cleanup_link_kind *ret_kinds, size_t *ret_foreign_port);

/* Whether a file in the state directory is one shoald or the plugin writes.  dir is "" for stateDir
 * itself, else "attachments", "releasing" or "pending-del". */
bool cleanup_state_file_ours(const char *dir, const char *name);

/* Run the cleanup (dry_run: only print what would go).  Prints one line per object on stdout and a
 * summary line last; errors and kept objects go to the log.  0 when everything of ours that was
 * found is gone (or would be), -errno when shoald runs here (-EBUSY) or something could not be
 * removed. */
int cleanup_run(const struct netd_config *cfg, bool dry_run);
