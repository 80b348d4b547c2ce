/* Records shoald persists: attachments (state dir, one file each) and the store's network config and
 * subnet leases.  Each is a plain struct with a formatter and a validating parser (fuzzed). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "lib/names.h"
#include "netd/request.h"

#define RECORD_ERRLEN 256

/* Field sizes are limits: a request whose strings do not fit is refused, never cut. */
#define RECORD_NETNS_SIZE 256
#define RECORD_NETWORK_SIZE 256
/* Kubernetes' own limits: a namespace is a DNS label (63), a pod name a DNS subdomain (253), a UID
 * a UUID (36). */
#define RECORD_POD_NS_SIZE 64
#define RECORD_POD_NAME_SIZE 254
#define RECORD_POD_UID_SIZE 40
/* How many host veth names (lib/names.h names_host_veth_n) one (container id, ifname) may try
 * when another attachment already holds the first one (a hash collision). */
#define RECORD_VETH_TRIES 16

struct record_attach {
	char container_id[257];
	char ifname[IFNAME_SIZE];
	char host_veth[IFNAME_SIZE];
	char netns[RECORD_NETNS_SIZE];
	char network[RECORD_NETWORK_SIZE];
	uint32_t addr;
	uint8_t prefixlen;
	uint32_t mtu;
	uint8_t mac[6];              /* the container side's MAC (anti-spoofing); all zero = unknown */
	bool default_route;          /* false: a route to the cluster network instead (conflist defaultRoute) */
	char pod_namespace[RECORD_POD_NS_SIZE];   /* K8S_POD_NAMESPACE from CNI_ARGS, "" when absent */
	char pod_name[RECORD_POD_NAME_SIZE];      /* K8S_POD_NAME */
	char pod_uid[RECORD_POD_UID_SIZE];        /* K8S_POD_UID */
	struct request_bandwidth bandwidth;       /* what the workload asked (priority -1: nothing) */
	int64_t created;
};

struct record_netconf {
	struct cidr4 network;
	uint8_t subnet_len;
	uint32_t vni;
	uint16_t port;
};

/* publicIP: the node's underlay address, IPv4 (dotted quad) or IPv6 (inet_pton's text, no zone);
 * "" when it has no underlay.  Kept as written: peers compare addresses, not texts. */
#define RECORD_PUBLIC_IP_SIZE 46     /* INET6_ADDRSTRLEN */
struct record_subnet {
	char node[64];
	char public_ip[RECORD_PUBLIC_IP_SIZE];
	char vtep_mac[18];
	int64_t created;
};

json_t *record_attach_to_json(const struct record_attach *a);
int record_attach_parse(const char *data, size_t len, struct record_attach *ret, char err[RECORD_ERRLEN]);

/* The attachment's identity carried by the kernel, as the host veth's ifalias (at most 255 bytes):
 *   "shoal1 10.244.3.7/24 be:ef:00:11:22:33 eth0 <container id> [<network>]"
 * A veth whose record file is lost or unreadable is adopted from it; the network is left out when it
 * does not fit.  -ENAMETOOLONG when even the container id does not fit (ids over ~190 bytes). */
#define RECORD_ALIAS_SIZE 256
int record_alias_format(const struct record_attach *a, char out[RECORD_ALIAS_SIZE]);
/* Fills container_id, ifname, addr, prefixlen, mac, network (maybe empty); -EBADMSG otherwise. */
int record_alias_parse(const char *alias, struct record_attach *ret, char err[RECORD_ERRLEN]);

/* stateDir/subnet.json: the subnet this node last held (a hint for restarts; the store's lease and
 * the bridge's address win over it), and the MTU its pods were given (kept across restarts). */
struct record_node_subnet {
	struct cidr4 subnet;
	char node[64];
	uint32_t mtu;                /* the MTU this node's pods got; 0 = not recorded */
};
json_t *record_node_subnet_to_json(const struct record_node_subnet *s);
int record_node_subnet_parse(const char *data, size_t len, struct record_node_subnet *ret, char err[RECORD_ERRLEN]);

/* stateDir/cgroups/<minor>.json: a cgroup with a quota (netd/cgroups.h).  path: relative to the
 * cgroup v2 root, normalised (no leading or trailing '/', no "." or ".." component, not empty);
 * id: the directory's inode when the quota was set or last seen (the path is what the quota is
 * for: a cgroup made again under the same path keeps it); minor: its class in both trees. */
#define RECORD_CGROUP_PATH_SIZE 512
struct record_cgroup {
	char path[RECORD_CGROUP_PATH_SIZE];
	uint64_t id;
	uint16_t minor;
	struct request_bandwidth bandwidth;       /* what was asked for it (priority -1: nothing) */
	int64_t created;
};
json_t *record_cgroup_to_json(const struct record_cgroup *c);
int record_cgroup_parse(const char *data, size_t len, struct record_cgroup *ret, char err[RECORD_ERRLEN]);
/* Is path a normalised cgroup path as above?  (why: the reason when not.) */
bool record_cgroup_path_valid(const char *path, const char **why);

json_t *record_netconf_to_json(const struct record_netconf *n);
int record_netconf_parse(const char *data, size_t len, struct record_netconf *ret, char err[RECORD_ERRLEN]);
bool record_netconf_equal(const struct record_netconf *a, const struct record_netconf *b);

json_t *record_subnet_to_json(const struct record_subnet *s);
int record_subnet_parse(const char *data, size_t len, struct record_subnet *ret, char err[RECORD_ERRLEN]);
