/* API requests decoded into plain structs and validated, before anything acts on them
 * (docs/api.md).  Pure: no I/O, no manager; fuzzed by tests/fuzz/fuzz_request.c.
 *
 * Strings point into the JSON object the caller keeps alive. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/cidr.h"

enum request_op {
	REQ_ADD, REQ_DEL, REQ_CHECK, REQ_GC, REQ_STATUS, REQ_WORKLOADS, REQ_SUBNETS,
	REQ_RELEASE, REQ_HOSTS, REQ_NETWORK, REQ_LEAVE, REQ_QUOTA, REQ_POLICIES, REQ_POLICY_SET, REQ_POLICY_DELETE,
	REQ_QUOTA_DELETE,
};

/* A workload's bandwidth in one direction (ingress = to the workload, egress = from it); 0 = not set. */
struct request_bandwidth_dir {
	uint64_t guarantee;         /* bit/s, HTB rate; 0: shoald's default guarantee */
	uint64_t limit;             /* bit/s, HTB ceil; 0: the host's capacity in that direction */
	uint64_t burst;             /* bits; 0: htb's rule alone.  Only ever lowers the burst/cburst
	                             * tc/htb.c computes, never raises it (runtimes send 2^32 - 1) */
};

/* The "bandwidth" object of add and check (docs/api.md).  Every value <= INT64_MAX (JSON's int64),
 * guarantee <= limit where both are set. */
struct request_bandwidth {
	struct request_bandwidth_dir ingress, egress;
	int priority;               /* 0 (highest) .. 7; -1 = not set */
};

#define REQUEST_BW_PRIORITY_MAX 7

struct request {
	enum request_op op;
	const char *container_id;   /* add, del, check */
	const char *ifname;         /* add, del, check */
	const char *netns;          /* add (may be ""), at most RECORD_NETNS_SIZE - 1 bytes */
	const char *network;        /* add (required), gc (required) */
	uint32_t mtu;               /* add, check: 0 = the host's, else 576..65535 */
	const char *pod_namespace;  /* add: K8S_POD_NAMESPACE from args, "" when absent */
	const char *pod_name;       /* add: K8S_POD_NAME */
	const char *pod_uid;        /* add: K8S_POD_UID */
	bool default_route;         /* add, check: false = a route to the cluster network instead */
	json_t *prev_result;        /* check: optional */
	json_t *valid;              /* gc: array of {containerId, ifname} */
	struct cidr4 subnet;        /* release: a network address with its prefix length */
	bool force;                 /* release: also a lease that is still renewed */
	struct request_bandwidth bandwidth; /* add, check, quota: all 0 and priority -1 when absent */
	const char *name;           /* policySet, policyDelete: the policy's name (checked by policy_decode
	                             * and policies_delete, which know its rules) */
	json_t *policy;             /* policySet: the request itself, {"name", "match", "bandwidth"} */
	const char *cgroup;         /* quota, quotaDelete: a cgroup's path instead of containerId/ifname
	                             * (checked by cgroups_normalise, which knows the mount) */
};

#define REQUEST_MSGLEN 64
#define REQUEST_DETAILSLEN 512

struct request_error {
	int code;                   /* a CNI error code (lib/cnierr.h) */
	char msg[REQUEST_MSGLEN];
	char details[REQUEST_DETAILSLEN];
};

/* 0 and *ret filled, or -EINVAL and *err filled. */
int request_parse(json_t *j, struct request *ret, struct request_error *err);

/* The "bandwidth" object alone (also the attachment record's, netd/records.c): bw may be NULL
 * (nothing set: zeros, priority -1). */
int request_bandwidth_decode(json_t *bw, struct request_bandwidth *ret, struct request_error *err);
/* Anything set at all? */
bool request_bandwidth_set(const struct request_bandwidth *b);
/* The object with only the values set; NULL when nothing is set (or out of memory). */
json_t *request_bandwidth_encode(const struct request_bandwidth *b);

/* The CNI spec's network name: an alphanumeric, then alphanumerics, '_', '.', '-'; we also cap it
 * at 255 bytes (the record field).  NULL or empty is invalid. */
bool request_network_name_valid(const char *name);
