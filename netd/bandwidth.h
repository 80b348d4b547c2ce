/* Per-workload bandwidth in shoald: the two HTB trees on the IFBs shoal-out and shoal-in, one class
 * per workload in each, the hashed classifiers that pick it, and each host veth's redirects
 * (docs/bandwidth.md).  The pure parts are in tc/; netd/bandwidth.c and the netd/bw_*.c files
 * behind it (netd/bw_int.h) own the kernel objects and the accounting (admission control) for the
 * running daemon.
 *
 * Naming, so that a restart finds everything without a table: a workload's class minor in both
 * trees is its address's offset in the node's subnet (so subnetLen >= 16); the root class is
 * major:1 and unclassified traffic goes to major:ffff (the subnet's broadcast offset, never a
 * workload).  shoal-out is major 1 (traffic from workloads, "egress"), shoal-in major 2 (to them,
 * "ingress").
 *
 * Without "bandwidth" in the config nothing is shaped: bandwidth_start() removes what an earlier
 * configuration left (the IFBs and every veth's redirects), and the rest of this API does nothing. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "netd/request.h"

struct manager;
struct attachment;

enum bw_dir {
	BW_EGRESS = 0,   /* from workloads: shoal-out */
	BW_INGRESS = 1,  /* to workloads: shoal-in */
	BW_DIRS
};

#define BW_IFB_MAJOR_EGRESS 1
#define BW_IFB_MAJOR_INGRESS 2
#define BW_LOW_MINOR 0xffff     /* unclassified traffic */

/* A workload's effective share, after defaults and admission (bit/s). */
struct bw_share {
	bool on;                     /* counted in the pools and (once attached) in the kernel */
	uint64_t guarantee[BW_DIRS];
	uint64_t limit[BW_DIRS];
	int priority;
};

/* Start-up (after the bridge and the subnet, before attachments are restored): the IFBs and both
 * trees, adopted when they exist (counters keep counting); or, without "bandwidth", the removal
 * of what a previous configuration left. */
int bandwidth_start(struct manager *m, char err[512]);
void bandwidth_stop(struct manager *m);
bool bandwidth_enabled(const struct manager *m);

/* Decide a workload's share from what it asked (request or record): -ENOSPC / -EINVAL with the
 * numbers in err when it does not fit.  self: the share of the workload being changed (not counted
 * against it; a share that is not on counts nothing), or NULL.  Changes nothing. */
int bandwidth_admit(struct manager *m, const struct request_bandwidth *want, const char *name,
                    const struct bw_share *self, struct bw_share *ret, char err[512]);

/* Give attachment a its share (a->bw, from bandwidth_admit) in the kernel: classes, leaves and
 * classifiers on both IFBs, clsact and redirects on its host veth.  Idempotent (everything is
 * replaced in place, counters kept).  On failure the caller releases the attachment, which calls
 * bandwidth_detach(). */
int bandwidth_attach(struct manager *m, struct attachment *a, char err[512]);
/* Change a running workload's share (netctl quota set): the classes are changed in place.  a->bw
 * becomes share even when the kernel refused (the error is returned; reconcile retries). */
int bandwidth_change(struct manager *m, struct attachment *a, const struct bw_share *share, char err[512]);
/* Remove a's classifiers and classes (its veth's own objects go with the veth) and return its
 * share to the pools.  Idempotent; never fails (what is left is removed by the next reconcile). */
void bandwidth_detach(struct manager *m, struct attachment *a);

/* The same for a workload without a veth (a cgroup, netd/cgroups.h): only its classes, minor in
 * both trees; cur and counted are its share and whether the pools count it. */
int bandwidth_change_share(struct manager *m, struct bw_share *cur, bool *counted, const struct bw_share *share,
                           uint16_t minor, char err[512]);
void bandwidth_detach_share(struct manager *m, struct bw_share *cur, bool *counted, uint16_t minor);

/* After attachments were restored, and on every reconcile: recount the pools, re-create what is
 * missing or different, remove classes and classifiers of workloads that no longer exist. */
void bandwidth_reconcile(struct manager *m, bool startup);

/* A workload's class in one tree as the kernel counts it (docs/bandwidth.md, "Seeing it").  The
 * counters run from the class's creation: a live change (quota set) and a restart of shoald keep
 * them; a workload added again starts from 0. */
struct bw_counters {
	uint64_t bytes;              /* sent by the class: whole frames, Ethernet header included */
	uint64_t packets;
	uint64_t drops;              /* refused by its full leaf queue */
	uint64_t overlimits;         /* times it ran out of tokens and had to wait */
	uint64_t borrows;            /* packets sent on bandwidth borrowed above its guarantee */
	uint64_t rate, ceil;         /* the class's rate and ceil now, bit/s */
};

/* The counters of both trees, read once per request (one class dump per IFB), then looked up per
 * workload in O(log n). */
struct bw_snapshot;

/* -errno with the reason in err (e.g. an IFB removed by hand, until the next reconcile); -ENODEV
 * when the node does not shape.  Lookups on a snapshot from a failed read are impossible: *ret is
 * written only on success. */
int bandwidth_snapshot(struct manager *m, struct bw_snapshot **ret, char err[512]);
void bandwidth_snapshot_free(struct bw_snapshot *s);
/* a's class in direction d; NULL when the tree has none (not admitted, being deleted, or
 * missing until the next reconcile). */
const struct bw_counters *bandwidth_snapshot_get(const struct bw_snapshot *s, const struct attachment *a,
                                                 enum bw_dir d);
const struct bw_counters *bandwidth_snapshot_get_minor(const struct bw_snapshot *s, uint16_t minor, enum bw_dir d);
/* {"ingress": {"bytes", "packets", "drops", "overlimits", "borrows", "rateBitRate", "ceilBitRate"},
 * "egress": ...}, a direction without a class null; null when a has no share. */
json_t *bandwidth_counters_json(const struct bw_snapshot *s, const struct attachment *a);

/* The same by class minor (a cgroup's); null when on is false. */
json_t *bandwidth_counters_json_minor(const struct bw_snapshot *s, bool on, uint16_t minor);

/* "bandwidth" of the status answer: capacity, committed and free per direction; NULL when off. */
json_t *bandwidth_status(const struct manager *m);
/* A workload's share as the API shows it ({"ingress": {"guarantee", "limit"}, "egress": ..., "priority"}). */
json_t *bandwidth_share_json(const struct bw_share *s);
