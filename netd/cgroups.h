/* Bandwidth per cgroup (docs/bandwidth.md, "Cgroups"): workloads that share the host's network
 * namespace (host-network pods, services, jobs), named by a cgroup v2 directory, get a class in the
 * same two HTB trees as the pods and share one capacity with them under one admission control.
 *
 * A quota covers every process of the cgroup and of its descendants.  Their packets are classified
 * on the uplink by two BPF programs (tc/cgbpf.h): what a socket of the cgroup sends (whenever it
 * was opened), and what arrives for a flow such a socket sent on.  Each cgroup's class minor lies
 * above every address offset of the subnet (so subnetLen >= 17), kept in its record
 * (stateDir/cgroups/<minor>.json) so a restart adopts the classes unchanged.
 *
 * A quota is for a path: a cgroup made again under the same path (a service restarted between
 * two reconciles) keeps it; one gone when reconcile looks releases its class and its share. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "netd/bandwidth.h"
#include "netd/records.h"

struct manager;
struct bw_snapshot;

struct cgroup_wl {
	struct record_cgroup rec;
	unsigned level;               /* components of rec.path: its depth below the v2 root */
	struct bw_share bw;           /* bw.on = admitted */
	bool bw_counted;              /* bw is counted in the pools */
};

struct cgroups {
	char root[RECORD_CGROUP_PATH_SIZE];   /* where cgroup v2 is mounted; "" when it is not */
	char dir[300];                /* stateDir/cgroups */
	struct cgroup_wl **v;         /* sorted by minor */
	size_t n, cap;
	struct cgbpf *bpf;            /* the classifiers' programs and maps, while any quota exists */
	int uplink_ifindex;           /* where they are attached; 0 while none is */
	char uplink[16];
};

/* Start-up, after bandwidth_start() and before the start-up reconcile: read the records.  Records
 * that do not parse are set aside (renamed *.bad) and logged. */
int cgroups_start(struct manager *m);
void cgroups_free(struct manager *m);

/* Normalise a cgroup path as netctl passes it: absolute under root, or relative to root; "." and
 * repeated or trailing '/' dropped.  -EINVAL with why for "..", the root itself, a path outside
 * root or too long.  Pure. */
int cgroups_normalise(const char *root, const char *in, char out[RECORD_CGROUP_PATH_SIZE], const char **why);

/* Set (create or replace) the quota of a cgroup: admitted, recorded, then its classes and the
 * classifiers' entry.  *ret: the cgroup.  Errors with the reason in err:
 *   -EOPNOTSUPP bandwidth not configured;  -ENOMEDIUM no cgroup v2 mounted;
 *   -EINVAL     a bad path;  -ENOENT no such directory;  -ENOTDIR not a cgroup v2 directory;
 *   -EEXIST     the same cgroup already has a quota under another path;
 *   -ENOSPC     no class number left (or a subnet too large to leave any);
 *   -EDQUOT     refused by admission control;  -EIO the record could not be written;
 *   other       the kernel refused (the record holds the quota: reconcile retries). */
int cgroups_quota_set(struct manager *m, const char *path, const struct request_bandwidth *want,
                      const struct cgroup_wl **ret, char err[512]);
/* Remove a cgroup's quota: its classifiers' entry, classes, record.  -ENOENT when it has none. */
int cgroups_quota_delete(struct manager *m, const char *path, char err[512]);

/* The API's view of every cgroup with a quota, counters from snap (may be NULL). */
json_t *cgroups_json(const struct manager *m, const struct bw_snapshot *snap);
json_t *cgroups_entry_json(const struct manager *m, const struct cgroup_wl *c, const struct bw_snapshot *snap);

/* The reconcile timer (and start-up): cgroups whose directory is gone lose their quota; the
 * uplink's classifiers and their entries are made right (and removed when no quota is left).  Run
 * after bandwidth_reconcile(), which keeps the classes. */
void cgroups_reconcile(struct manager *m, bool startup);
