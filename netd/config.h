/* shoald's configuration: JSON file (docs/config.md) parsed into a plain struct, then validated,
 * then command-line overrides applied.  Errors name the key and the problem. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/cidr.h"

#define CONFIG_ERRLEN 512
/* The priority of a workload that asks for none: the middle, so others can be set above or below. */
#define CONFIG_BW_DEFAULT_PRIORITY 4

/* "bandwidth": the host's capacity per direction, the roots of the two HTB trees (docs/bandwidth.md).
 * Absent (set = false): no shaping at all. */
struct netd_bandwidth {
	bool set;
	uint64_t ingress;           /* bit/s to workloads (the shoal-in tree) */
	uint64_t egress;            /* bit/s from workloads (the shoal-out tree) */
	uint64_t default_guarantee; /* bit/s for a workload that asks none (best effort) */
	int default_priority;       /* 0..7 for a workload that asks none */
	bool exempt_local;          /* same-host workload-to-workload traffic is not shaped */
	char uplink[16];            /* where cgroups' traffic is classified; "": the underlay's device */
};

/* "metrics": the HTTP server of /metrics and /healthz (docs/config.md, docs/bandwidth.md).  listen
 * "" (the default): no server at all. */
struct netd_metrics {
	char listen[64];            /* "ADDRESS:PORT" as written; config_parse_listen() gives the address */
};

struct netd_config {
	char node[64];
	char store[512];
	char store_prefix[128];
	struct cidr4 network;
	uint8_t subnet_len;
	char bridge[16];
	uint32_t mtu;               /* 0 = auto (underlay MTU - 50, or - 70 over IPv6) */
	char state_dir[256];
	char socket[108];
	char socket_group[64];      /* "" = root only */
	int64_t lease_ttl;          /* seconds */
	int64_t reconcile_interval; /* seconds */
	char underlay[64];          /* interface name or IPv4/IPv6 address; "" = the default route's device */
	bool direct_routing;        /* peers on the underlay's own subnet: plain routes, no VXLAN */
	uint32_t vni;               /* VXLAN network identifier (the store's network config wins) */
	uint16_t vxlan_port;        /* VXLAN UDP port */
	char store_ca[256];         /* etcds://: CA bundle ("" = the system's) */
	char store_cert[256];       /* etcds://: client certificate (with store_key) */
	char store_key[256];
	bool masquerade;
	bool antispoof;             /* workloads may send only with their own IPv4 and MAC (docs/fw.md) */
	bool forward_accept;        /* accept the cluster network in ip filter FORWARD (docs/fw.md) */
	struct netd_bandwidth bandwidth;
	struct netd_metrics metrics;
	int log_level;              /* enum log_level */
	char config_path[256];
	uint64_t keys_set;          /* bit i: key config_key_name(i) came from the file or the command line */
};

/* Defaults for every key. */
void config_init(struct netd_config *c);
/* Parse and validate a JSON document into c (keys absent keep their value). */
int config_parse(struct netd_config *c, const char *json, size_t len, char err[CONFIG_ERRLEN]);
int config_load(struct netd_config *c, const char *path, char err[CONFIG_ERRLEN]);
/* "metrics.listen": "IPV4:PORT", "[IPV6]:PORT" or ":PORT" (every address, IPv4 and IPv6: the IPv6
 * wildcard, dual-stack), numeric addresses only, PORT 1..65535.  Fills *ret (port in network
 * order) and *ret_len; -EINVAL otherwise.  Pure: shoald binds what this returns. */
int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
/* Validation of the whole struct (after overrides). */
int config_validate(const struct netd_config *c, char err[CONFIG_ERRLEN]);

/* What start-up would refuse that the values alone cannot tell: socketGroup names an existing
 * group; storeCA/storeCert/storeKey are readable regular files; stateDir, the socket's directory
 * and a file: store's directory exist as writable directories or can be created (the nearest
 * existing ancestor is a writable directory).  Changes nothing.  shoald runs it for
 * --check-config and before it starts; -errno and err names the key. */
int config_check_environment(const struct netd_config *c, char err[CONFIG_ERRLEN]);

/* The name of key number i (file order of docs/config.md), NULL past the last. */
const char *config_key_name(unsigned i);
/* Record that key (its file name, e.g. "stateDir") was given, as a command-line override does;
 * -ENOENT for an unknown key. */
int config_mark_set(struct netd_config *c, const char *key);
/* One line per key that was not set, "KEY: VALUE (default)", into buf (always terminated when
 * size > 0).  Returns the length the whole text needs, like snprintf. */
int config_describe_defaults(const struct netd_config *c, char *buf, size_t size);
