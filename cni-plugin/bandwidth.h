/* A workload's bandwidth settings as the runtime passes them (docs/cni.md, "Bandwidth"): the CNI
 * "bandwidth" capability (runtimeConfig.bandwidth, keys matched case-insensitively as Go's decoder
 * does) and shoal's SHOAL_* keys of CNI_ARGS, merged (CNI_ARGS win, key by key), validated, and
 * turned into the "bandwidth" object of shoald's add and check requests (docs/api.md).
 *
 * Pure: no I/O.  Units: rates in bit/s, bursts in bits (Kubernetes' and the reference bandwidth
 * plugin's units).  0 means "not set" for every rate and burst, wherever it comes from. */
#pragma once
#include <jansson.h>
#include <stdint.h>

#include "cni-plugin/cni.h"

/* jansson keeps JSON integers in an int64: the largest value the request to shoald can carry. */
#define CNI_BW_MAX ((uint64_t)INT64_MAX)
#define CNI_BW_PRIORITY_MAX 7

/* ingress = traffic to the workload, egress = traffic from it (Kubernetes' and tc/quota.h's sense). */
enum cni_bw_field {
	CNI_BW_INGRESS_GUARANTEE,
	CNI_BW_INGRESS_LIMIT,
	CNI_BW_INGRESS_BURST,
	CNI_BW_EGRESS_GUARANTEE,
	CNI_BW_EGRESS_LIMIT,
	CNI_BW_EGRESS_BURST,
	CNI_BW_PRIORITY,
	CNI_BW_FIELDS,
};

enum cni_bw_source {
	CNI_BW_UNSET = 0,
	CNI_BW_CONFIG,          /* runtimeConfig.bandwidth */
	CNI_BW_ARGS,            /* CNI_ARGS */
};

struct cni_bw_value {
	uint64_t value;         /* bit/s, bits, or the priority 0..7; meaningful only when set */
	enum cni_bw_source source;
	char key[48];           /* where it came from, for messages: "runtimeConfig.bandwidth.IngressRate" */
};

struct cni_bandwidth {
	struct cni_bw_value f[CNI_BW_FIELDS];
};

/* Read runtimeConfig.bandwidth of the network config root (absent or null: nothing) and the SHOAL_*
 * keys of args (the object cni_args_parse made; NULL: none), let CNI_ARGS override, and check the
 * result.  Refusals name the key: code 7 for a value of the network config, 4 for a value of
 * CNI_ARGS (and for a guarantee above the limit when either of the two came from CNI_ARGS). */
int cni_bandwidth_parse(const json_t *conf_root, const json_t *args, struct cni_bandwidth *ret,
			struct cni_error *err);

/* *ret_obj = {"ingress": {"guarantee", "limit", "burst"}, "egress": {...}, "priority"} with only
 * the values that are set, or NULL when nothing is set (the request then carries no "bandwidth",
 * exactly as before this existed).  -ENOMEM. */
int cni_bandwidth_json(const struct cni_bandwidth *bw, json_t **ret_obj);
