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
	REQ_RELEASE, REQ_HOSTS, REQ_NETWORK, REQ_LEAVE,
};

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

/* The CNI spec's network name: an alphanumeric, then alphanumerics, '_', '.', '-'; we also cap it
 * at 255 bytes (the record field).  NULL or empty is invalid. */
bool request_network_name_valid(const char *name);
