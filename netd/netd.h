/* shoald's internals, shared by the files of netd/ (as systemd-networkd's Manager is shared by
 * networkd-*.c).  Each file owns one kind of state and its functions:
 *
 *   manager.c    lifecycle: locks, start order, timers, reload, stop
 *   subnet.c     network config in the store, this node's subnet and its lease
 *   cluster.c    every node's lease as the API shows and changes it: list, release, network, leave
 *   attach.c     attachments: ADD/DEL/CHECK/GC, their state-dir records, restore after a restart
 *   reconcile.c  the pure plan (attachments against observed links) and its application
 *   peers.c      the underlay, the VXLAN device and every other node's entries (netd/peers.h)
 *   bandwidth.c  bandwidth (netd/bandwidth.h): lifecycle, pools and admission, the API; with the
 *                bw_*.c files (netd/bw_int.h): the IFBs and HTB trees (bw_tree.c), each workload's
 *                classes, classifiers and redirects (bw_workload.c), tc batches (bw_batch.c), the
 *                counters (bw_snapshot.c)
 *   policy.c     the bandwidth policy format: parse, match, merge (pure, netd/policy.h)
 *   policies.c   the store's policies, watched and applied to the workloads (netd/policies.h)
 *   cgroups.c    bandwidth per cgroup: quotas, records, the uplink's BPF classifiers (netd/cgroups.h)
 *   handlers.c   the API: request decoding (request.c), CNI error codes, replies
 *   metrics.c    /metrics and /healthz over HTTP (netd/metrics.h; libmicrohttpd on the loop: http.c)
 *
 * Only handlers.c knows CNI error codes; the others return -errno and a message. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "lib/cidr.h"
#include "lib/names.h"
#include "lib/version.h"
#include "netd/bandwidth.h"
#include "netd/config.h"
#include "netd/records.h"

#define NETD_ERRLEN 512
/* A Linux bridge numbers its ports 1..BR_MAX_PORTS-1 (net/bridge/br_private.h, BR_MAX_PORTS 1024):
 * enslaving port 1024 fails with EXFULL whatever the subnet size. */
#define BRIDGE_MAX_PORTS 1023
#define ATT_BUCKETS 4096
/* Encapsulation overhead: outer IPv4 (20) or IPv6 (40) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
#define VXLAN_OVERHEAD_IPV4 50
#define VXLAN_OVERHEAD_IPV6 70

struct attachment {
	struct record_attach rec;
	int host_ifindex;
	bool deleting;
	bool queued;                  /* deleting and handed to the reaper */
	struct bw_share bw;           /* its bandwidth share (bandwidth.c); bw.on = admitted */
	bool bw_counted;              /* bw is counted in the pools */
	struct attachment *next_veth; /* chain of the table keyed by host veth name */
	struct attachment *next_key;  /* chain of the table keyed by (container id, ifname) */
};

struct quarantine {               /* host veths whose record was unreadable and set aside */
	char (*names)[IFNAME_SIZE];
	size_t n, cap;
};

struct manager {
	uv_loop_t *loop;
	struct netd_config cfg;
	time_t started;

	/* manager.c */
	int lock_fd;                  /* flock on stateDir/shoald.lock */
	int ns_lock_fd;               /* abstract unix socket: one shoald per network namespace */
	dev_t self_ns_dev;            /* shoald's own network namespace, never a container's */
	ino_t self_ns_ino;
	uv_timer_t reconcile_timer;
	struct nlsock *nl;
	struct reaper *reaper;
	struct api *api;
	struct metrics *metrics;      /* metrics.c: NULL unless "metrics" is configured */

	/* subnet.c */
	struct store *store;
	int64_t lease;
	bool subnet_held;             /* our subnet key exists under m->lease */
	bool lease_busy;              /* a keep-alive/re-claim chain of store callbacks is running */
	char subnet_taken_by[64];     /* another node claimed our subnet while our lease was lost: no ADD */
	uv_timer_t lease_timer;
	struct cidr4 subnet;
	char subnet_file[300];
	uint32_t mtu_remembered;      /* the MTU subnet.json says this node's pods got (0: none) */
	uint32_t vni;                 /* the store's network config (it wins over the local config) */
	uint16_t vxlan_port;
	bool leaving;                 /* a leave is revoking our lease */
	bool left;                    /* this node left the cluster (API "leave") until shoald restarts */

	/* attach.c */
	struct ipam_pool *pool;
	int bridge_ifindex;
	uint32_t mtu;
	struct attachment *by_veth[ATT_BUCKETS];
	struct attachment *by_key[ATT_BUCKETS];
	size_t n_active;              /* attachments not being deleted */
	size_t n_total;               /* all attachments: each holds a bridge port until reaped */
	size_t foreign_ports;         /* bridge ports that are not ours, seen by the last reconcile */
	struct quarantine quarantine;
	char dir_attach[300], dir_releasing[300], dir_pending[300];

	/* reconcile.c: someone else's FORWARD policy (fw/forward.h), as last seen */
	bool fwd_drop;                /* iptables' FORWARD policy, or another table's forward chain, drops */
	bool fwd_br_netfilter;        /* bridged traffic goes through iptables too */
	char fwd_drop_by[128];        /* what drops, for status and the log */

	/* peers.c */
	struct peers *peers;

	/* bandwidth.c: NULL without "bandwidth" in the config */
	struct bandwidth *bw;

	/* policies.c: the store's bandwidth policies */
	struct policies *policies;

	/* cgroups.c: bandwidth per cgroup (netd/cgroups.h) */
	struct cgroups *cgroups;
};

/* subnet.c */
int subnet_start(struct manager *m);                   /* config, lease, claim; start-up only */
int subnet_save(struct manager *m);                    /* rewrite subnet.json (subnet and MTU) */
void subnet_stop(struct manager *m);
/* The store's subnet leases as the API's "subnets" list, asked asynchronously: cb runs once, on the
 * loop, never inside the call, with err < 0 and msg on failure (-ECANCELED at shutdown); it owns
 * list.  A negative return means cb will not run. */
typedef void (*subnet_list_cb)(void *userdata, int err, json_t *list, const char *msg);
int subnet_list(struct manager *m, subnet_list_cb cb, void *userdata);
/* Is a lease with remaining of granted seconds left renewed by a running host?  Hosts renew every
 * granted/3, so a live lease never falls below granted x 2/3, less slack for a late renewal: the
 * larger of SUBNET_LIVE_SLACK seconds and a tenth of the TTL. */
#define SUBNET_LIVE_SLACK 2
bool subnet_lease_live(int64_t remaining, int64_t granted);
/* The API's release, network and leave, asked asynchronously like subnet_list: cb runs once, on the
 * loop, with the answer's fields (owned by cb) or err < 0 and msg.  A negative return (with msg)
 * means cb will not run.  Errors:
 *   release: -ENOENT no such lease, -EPERM this node's own subnet, -EBUSY live and not force
 *   leave:   -EAGAIN a lease renewal or another leave is running (try again) */
typedef void (*subnet_done_cb)(void *userdata, int err, json_t *result, const char *msg);
int subnet_release(struct manager *m, const struct cidr4 *subnet, bool force, subnet_done_cb cb, void *userdata,
                   char msg[NETD_ERRLEN]);
int subnet_network(struct manager *m, subnet_done_cb cb, void *userdata, char msg[NETD_ERRLEN]);
/* Leave the cluster on purpose: revoke our lease (our subnet key goes with it, so every other host
 * removes our entries), stop renewing and re-claiming, remove our own peer entries.  Attachments
 * stay; ADD is refused until shoald restarts, which rejoins. */
int subnet_leave(struct manager *m, subnet_done_cb cb, void *userdata, char msg[NETD_ERRLEN]);

/* attach.c */
struct attach_req {
	const char *container_id, *ifname, *netns, *network;
	uint32_t mtu;                 /* 0 = the host's */
	bool default_route;
	const char *pod_namespace, *pod_name, *pod_uid;   /* "" when the runtime named no pod */
	struct request_bandwidth bandwidth;               /* priority -1 and zeros: nothing asked */
	int netns_fd;
};
struct attach_result {
	const struct attachment *a;
	uint8_t host_mac[6], peer_mac[6];
};
int attach_add(struct manager *m, const struct attach_req *req, struct attach_result *ret, char err[NETD_ERRLEN]);
/* Replace what a workload asks for (netctl quota set): admitted, recorded, applied in place.
 * -ENOENT no such attachment, -EOPNOTSUPP bandwidth not configured, -EDQUOT refused by admission. */
int attach_quota_set(struct manager *m, const char *container_id, const char *ifname,
                     const struct request_bandwidth *want, char err[NETD_ERRLEN]);
int attach_del(struct manager *m, const char *container_id, const char *ifname, char err[NETD_ERRLEN]);
int attach_check(struct manager *m, const struct attach_req *req, char err[NETD_ERRLEN]);
/* Release every attachment of network not in valid (pairs of container id, ifname). */
size_t attach_gc(struct manager *m, const char *network, bool (*valid)(void *ctx, const char *id, const char *ifname),
                 void *ctx);
struct attachment *attach_lookup(struct manager *m, const char *container_id, const char *ifname);
uint32_t attach_capacity_free(const struct manager *m);
size_t attach_ports_free(const struct manager *m);
int attach_restore(struct manager *m);
void attach_on_reaped(void *userdata, const char *name, int ifindex, int err);
/* Host objects: created or adopted at start, repaired by reconcile.  The bridge (and forwarding)
 * come before restore; the nftables tables after it, since they list every attachment. */
int attach_bridge_ensure(struct manager *m, bool startup);
int attach_fw_ensure(struct manager *m, bool startup);
/* Finish DELs the plugin recorded while shoald was unreachable. */
void attach_pending_dels(struct manager *m);
void attach_free_all(struct manager *m);

/* Table operations (attach.c), used by reconcile.c. */
struct attachment *att_by_veth(const struct manager *m, const char *host_veth);
void att_insert(struct manager *m, struct attachment *a);
int att_forget(struct manager *m, struct attachment *a, const char *dir);
int att_release(struct manager *m, struct attachment *a);
bool att_quarantined(const struct manager *m, const char *host_veth);
int att_adopt(struct manager *m, const struct record_attach *rec, int ifindex);

/* manager.c */
/* A stable, locally administered MAC for this node (bridge, VTEP), derived from its name and salt. */
void manager_node_mac(const struct manager *m, const char *salt, uint8_t mac[6]);

/* reconcile.c */
void reconcile_run(struct manager *m, bool startup);
