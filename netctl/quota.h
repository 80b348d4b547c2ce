/* `netctl quota`: the flags of `quota set` (rates in tc's units, tc/quota.h), merged over what the
 * workload asked for before (the API's "bandwidthAsked", docs/api.md), and the "quota" request
 * that replaces it.  Pure functions of their input: no I/O. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rate flags of `quota set`, each one value of the API's bandwidth object. */
enum netctl_quota_rate {
	NETCTL_QUOTA_INGRESS_GUARANTEE,
	NETCTL_QUOTA_INGRESS_LIMIT,
	NETCTL_QUOTA_EGRESS_GUARANTEE,
	NETCTL_QUOTA_EGRESS_LIMIT,
	NETCTL_QUOTA_N_RATES,
};

#define NETCTL_QUOTA_PRIORITY_MAX 7
#define NETCTL_QUOTA_PRIORITY_DEFAULT (-1)

struct netctl_quota_flag {
	bool given;
	uint64_t bps;                 /* bit/s; 0: back to the default (the value is removed) */
};

/* What `quota set` changes; everything not given keeps the value the workload asked for. */
struct netctl_quota_change {
	struct netctl_quota_flag rate[NETCTL_QUOTA_N_RATES];
	bool priority_given;
	int priority;                 /* 0..7, or NETCTL_QUOTA_PRIORITY_DEFAULT: back to the default */
};

/* "--ingress-guarantee" ...; NULL past the last. */
const char *netctl_quota_option(enum netctl_quota_rate r);

/* A rate as tc writes it ("100mbit", "1.5gbit", "10mbps" = 80 Mbit/s), "0" or "default" (-> 0).
 * -EDOM for a number without a unit other than 0 (tc's bit/s, never what an operator means: "100"
 * is refused, "100bit" taken), -EINVAL for anything else tc would not read, -ERANGE above the
 * API's largest value (2^63 - 1 bit/s). */
int netctl_quota_parse_rate(const char *s, uint64_t *ret);
/* "0".."7", or "default" (-> NETCTL_QUOTA_PRIORITY_DEFAULT); -EINVAL otherwise. */
int netctl_quota_parse_priority(const char *s, int *ret);

/* Is anything given at all? */
bool netctl_quota_any(const struct netctl_quota_change *c);

/* The flags on their own: a guarantee above the limit given for the same direction is -EINVAL,
 * with a one-line message naming both flags (without "netctl: "). */
int netctl_quota_check(const struct netctl_quota_change *c, char *err, size_t err_size);

/* The bandwidth object `quota set` sends: asked (the workload's "bandwidthAsked", an object) with
 * the given values set or, for 0 and default, removed; direction objects left empty are dropped;
 * values and keys netctl does not know (burst, a newer shoald's) are kept.  -EINVAL with a message
 * when asked is not an object, or when a guarantee ends up above the limit of its direction;
 * -ENOMEM.  *ret is a new reference. */
int netctl_quota_merge(const json_t *asked, const struct netctl_quota_change *c, json_t **ret, char *err,
		       size_t err_size);

/* {"op": "quota", "containerId", "ifname", "bandwidth"} for the workload entry w (its whole id
 * and interface).  NULL on out of memory or when w lacks either. */
json_t *netctl_quota_request(const json_t *w, const json_t *bandwidth);

/* {"op": "quota", "cgroup": path, "bandwidth"}: a cgroup's whole ask (shoald normalises path and
 * creates the quota when the cgroup has none).  NULL on out of memory or a NULL argument. */
json_t *netctl_quota_cgroup_request(const char *path, const json_t *bandwidth);
/* {"op": "quotaDelete", "cgroup": path}. */
json_t *netctl_quota_delete_request(const char *path);

/* What `quota get` and `quota set` print (for a cgroup's entry, {"kind": "cgroup", ...}: "kind",
 * "cgroup", "cgroupDir" and "cgroupId" instead of "containerId" and "ifname"): {"containerId", "ifname", "bandwidth": the effective
 * share (or null), "bandwidthAsked", and "policy" (the name of the policy that applies, or null)
 * when w has it}.  NULL on out of memory. */
json_t *netctl_quota_doc(const json_t *w, const json_t *effective, const json_t *asked);
