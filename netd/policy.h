/* Bandwidth policies (docs/bandwidth.md, "Policies"): a name, what workloads it matches and the
 * bandwidth it gives them, kept in the shared store under "policies/<name>" so that every host
 * applies the same ones.  This file is the format: its parser, its validation, matching and the
 * merge with what a workload asked for itself.  Pure: no I/O, no manager; fuzzed by
 * tests/fuzz/fuzz_policy.c.  netd/policies.c keeps the store's policies and applies them.
 *
 * The stored value (and the API's "policySet" body without "name"):
 *
 *   {"match": {"K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web-*"},
 *    "bandwidth": {"ingress": {"guarantee": 100000000}, "priority": 2}}
 *
 * "match" (required): every key must match (AND); values are shell patterns (fnmatch(3): * ? [...]);
 * an empty object matches every workload.  "bandwidth": the API's bandwidth object
 * (netd/request.h) with at least one guarantee, limit or priority.  No other key. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "netd/request.h"

#define POLICY_NAME_SIZE 64          /* [A-Za-z0-9][A-Za-z0-9_.-]{0,62} */
#define POLICY_MATCH_MAX 8
#define POLICY_PATTERN_SIZE 256
#define POLICY_PREFIX "policies/"
#define POLICY_ERRLEN 256

/* What a policy can match, as the runtime named it in CNI_ARGS (and "network", the CNI network). */
enum policy_key {
	POLICY_KEY_POD_NAMESPACE,     /* K8S_POD_NAMESPACE */
	POLICY_KEY_POD_NAME,          /* K8S_POD_NAME */
	POLICY_KEY_POD_UID,           /* K8S_POD_UID */
	POLICY_KEY_NETWORK,           /* network */
	POLICY_KEY_CGROUP,            /* cgroup: a path prefix below the cgroup v2 root (whole
	                               * components, each a shell pattern); matches cgroups only, as
	                               * the other keys match pods only */
	POLICY_N_KEYS,
};

struct policy_term {
	enum policy_key key;
	char pattern[POLICY_PATTERN_SIZE];
};

struct policy {
	char name[POLICY_NAME_SIZE];
	struct policy_term match[POLICY_MATCH_MAX];   /* sorted by key, each key at most once */
	size_t n_match;
	struct request_bandwidth bandwidth;
};

/* What a workload is matched on; "" for what the runtime did not name. */
struct policy_subject {
	const char *value[POLICY_N_KEYS];
};

/* "K8S_POD_NAMESPACE" ...; NULL for an out-of-range key. */
const char *policy_key_name(enum policy_key k);
bool policy_name_valid(const char *name);

/* Decode a policy's body (name given separately, e.g. from the store key).  -EINVAL with the reason
 * in err (unknown key, bad pattern, nothing set, a guarantee above its limit, ...); *ret written
 * only on success. */
int policy_decode(const char *name, const json_t *body, struct policy *ret, char err[POLICY_ERRLEN]);
/* The same from the stored bytes (value need not be NUL-terminated). */
int policy_parse(const char *name, const char *value, size_t len, struct policy *ret, char err[POLICY_ERRLEN]);
/* The body as stored: {"match": {...}, "bandwidth": {...}}.  NULL on out of memory. */
json_t *policy_encode_body(const struct policy *p);
/* The API's view: the body with "name" first.  NULL on out of memory. */
json_t *policy_encode(const struct policy *p);

bool policy_matches(const struct policy *p, const struct policy_subject *s);
/* Which of n policies applies to s: the one with the most terms, then the deepest cgroup prefix,
 * then the first by name; NULL when none matches. */
const struct policy *policy_pick(const struct policy *v, size_t n, const struct policy_subject *s);

/* What a workload gets: every value it asked for itself (own: the CNI request, CNI_ARGS, netctl
 * quota set) wins; the policy fills in what it left unset.  Where a value from the policy
 * contradicts the workload's own (a policy guarantee above the workload's own limit, a policy limit
 * below its own guarantee), the workload's value bounds it: the guarantee is lowered to the limit,
 * the limit raised to the guarantee.  p may be NULL (own alone). */
void policy_merge(const struct request_bandwidth *own, const struct policy *p, struct request_bandwidth *ret);

/* One host's reading of a merged ask (eff, from policy_merge; changed in place): a policy is written
 * once for hosts of every size, so where a value came from the policy and this host cannot honour
 * it as written, the host's bounds apply instead of a refusal: a policy limit above the host's
 * capacity in that direction becomes the capacity (0), and a policy limit below the host's default
 * guarantee, for a workload that has no guarantee, also becomes its guarantee.  Values the
 * workload asked for itself are left alone (admission decides on them).  Capacities and the
 * default guarantee in bit/s. */
void policy_fit(const struct request_bandwidth *own, uint64_t ingress_capacity, uint64_t egress_capacity,
                uint64_t default_guarantee, struct request_bandwidth *eff);
