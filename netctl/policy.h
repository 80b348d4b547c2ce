/* `netctl policy`: bandwidth policies in the shared store (netd/policy.h has their format).  The
 * --match terms of `policy set`, the requests, and the list as a table.  Pure functions of their
 * input: no I/O. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "netctl/quota.h"
#include "netd/policy.h"   /* the limits and keys only: netctl links none of netd/ */

/* One --match KEY=PATTERN (pattern borrowed from argv). */
struct netctl_policy_term {
	enum policy_key key;
	const char *pattern;
};

/* What `policy set` matches: the terms of --match in the order given, or --all. */
struct netctl_policy_match {
	struct netctl_policy_term term[POLICY_MATCH_MAX];
	size_t n;
	bool all;
};

/* "K8S_POD_NAMESPACE" ... as shoald spells them; NULL for an out-of-range key. */
const char *netctl_policy_key_name(enum policy_key k);
/* [A-Za-z0-9][A-Za-z0-9_.-]{0,62}, as shoald checks it. */
bool netctl_policy_name_valid(const char *name);

/* Add "KEY=PATTERN" (one --match) to m.  -EINVAL with a one-line message (without "netctl: ") for
 * a missing '=', an unknown key, an empty or too long pattern, a key given twice, or one term too
 * many. */
int netctl_policy_add_match(struct netctl_policy_match *m, const char *s, char *err, size_t err_size);

/* The rate flags and --priority as a policy's values: each must be a value (0 and default clear a
 * workload's own value, which a policy has none of), at least one given, no guarantee above the
 * limit of its direction.  -EINVAL with a one-line message (without "netctl: "). */
int netctl_policy_check(const struct netctl_quota_change *c, char *err, size_t err_size);

/* {"op": "policySet", "name", "match": {KEY: PATTERN, ...}, "bandwidth": {...}}; the bandwidth
 * holds the given values only.  NULL on out of memory. */
json_t *netctl_policy_set_request(const char *name, const struct netctl_policy_match *m,
				  const struct netctl_quota_change *c);
/* {"op": "policyDelete", "name"}.  NULL on out of memory. */
json_t *netctl_policy_delete_request(const char *name);

/* A sorted copy (a new reference) of the API's "policies" list, by name; NULL when list is not an
 * array or on out of memory. */
json_t *netctl_sort_policies(const json_t *list);

/* Cells of a policy for people (buf of at least size bytes; the result may be buf or a constant):
 * the match as "K=V,K=V" ("*" for every workload, "-" when missing: a broken policy), and one
 * direction of its bandwidth as "GUARANTEE/LIMIT" in tc's units, "-" for a part not set and "-"
 * alone when the direction sets neither. */
const char *netctl_policy_match_text(const json_t *match, char *buf, size_t size);
const char *netctl_policy_rates_text(const json_t *dir, char *buf, size_t size);

/* `policy list`: NAME, MATCH, INGRESS, EGRESS, PRIORITY, WORKLOADS (this host's), ERROR (only when
 * a policy of the list does not parse); flags as netctl/format.h's (-o wide adds the bursts). */
int netctl_format_policies(const json_t *list, unsigned flags, FILE *out);
