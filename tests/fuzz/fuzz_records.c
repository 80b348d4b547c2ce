/* The store, state-dir and ifalias record parsers on arbitrary bytes (first byte selects the parser).
 * Whatever a parser accepts must survive format -> parse unchanged: shoald rewrites records it
 * read, and a record that changes on the way loses or corrupts state. */
// SOURCES: netd/records.c netd/request.c lib/cidr.c lib/names.c
// PKGS: jansson
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netd/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Serialise j (consumed) into a malloc'ed string. */
static char *dump(json_t *j)
{
	char *s;

	must(j != NULL);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	must(s != NULL);
	return s;
}

static void attach(const char *d, size_t n)
{
	struct record_attach a, b;
	char err[RECORD_ERRLEN], veth[IFNAME_SIZE], *s;
	bool named = false;

	err[0] = '\0';
	if (record_attach_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(names_container_id_valid(a.container_id) == 0 && names_ifname_valid(a.ifname) == 0);
	for (unsigned i = 0; i < RECORD_VETH_TRIES; i++) {
		names_host_veth_n(a.container_id, a.ifname, i, veth);
		named = named || strcmp(veth, a.host_veth) == 0;
	}
	must(named);
	must(a.prefixlen >= 8 && a.prefixlen <= 30 && a.mtu <= 65535);
	s = dump(record_attach_to_json(&a));
	must(record_attach_parse(s, strlen(s), &b, err) == 0);
	must(strcmp(a.container_id, b.container_id) == 0 && strcmp(a.ifname, b.ifname) == 0 &&
	     strcmp(a.host_veth, b.host_veth) == 0 && strcmp(a.netns, b.netns) == 0 &&
	     strcmp(a.network, b.network) == 0 && a.addr == b.addr && a.prefixlen == b.prefixlen &&
	     a.mtu == b.mtu && a.created == b.created && memcmp(a.mac, b.mac, 6) == 0 &&
	     a.default_route == b.default_route && strcmp(a.pod_namespace, b.pod_namespace) == 0 &&
	     strcmp(a.pod_name, b.pod_name) == 0 && strcmp(a.pod_uid, b.pod_uid) == 0);
	free(s);
}

/* The ifalias identity: what parses must format back to an alias that parses to the same. */
static void alias(const char *d, size_t n)
{
	struct record_attach a, b;
	char err[RECORD_ERRLEN], buf[RECORD_ALIAS_SIZE + 1], out[RECORD_ALIAS_SIZE];

	if (n > RECORD_ALIAS_SIZE)
		n = RECORD_ALIAS_SIZE;
	memcpy(buf, d, n);
	buf[n] = '\0';
	if (record_alias_parse(buf, &a, err) < 0)
		return;
	must(names_container_id_valid(a.container_id) == 0 && names_ifname_valid(a.ifname) == 0);
	must(record_alias_format(&a, out) == 0);
	must(record_alias_parse(out, &b, err) == 0);
	must(strcmp(a.container_id, b.container_id) == 0 && strcmp(a.ifname, b.ifname) == 0 &&
	     strcmp(a.network, b.network) == 0 && a.addr == b.addr && a.prefixlen == b.prefixlen &&
	     memcmp(a.mac, b.mac, 6) == 0);
}

static void node_subnet(const char *d, size_t n)
{
	struct record_node_subnet a, b;
	char err[RECORD_ERRLEN], *s;

	if (record_node_subnet_parse(d, n, &a, err) < 0)
		return;
	s = dump(record_node_subnet_to_json(&a));
	must(record_node_subnet_parse(s, strlen(s), &b, err) == 0);
	must(a.subnet.addr == b.subnet.addr && a.subnet.len == b.subnet.len && strcmp(a.node, b.node) == 0 &&
	     a.mtu == b.mtu);
	free(s);
}

static void netconf(const char *d, size_t n)
{
	struct record_netconf a, b;
	char err[RECORD_ERRLEN], *s;

	err[0] = '\0';
	if (record_netconf_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(a.subnet_len > a.network.len && a.subnet_len <= 30);
	must((a.network.addr & ~cidr4_mask(a.network.len)) == 0);
	must(a.vni >= 1 && a.vni <= 16777215 && a.port >= 1);
	s = dump(record_netconf_to_json(&a));
	must(record_netconf_parse(s, strlen(s), &b, err) == 0);
	must(record_netconf_equal(&a, &b));
	free(s);
}

static void subnet(const char *d, size_t n)
{
	struct record_subnet a, b;
	char err[RECORD_ERRLEN], *s;
	uint32_t ip;
	uint8_t ip6[16];

	err[0] = '\0';
	if (record_subnet_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(a.node[0] != '\0');
	must(a.public_ip[0] == '\0' || ip4_parse(a.public_ip, &ip) == 0 || inet_pton(AF_INET6, a.public_ip, ip6) == 1);
	must(a.vtep_mac[0] == '\0' || strlen(a.vtep_mac) == 17);
	s = dump(record_subnet_to_json(&a));
	must(record_subnet_parse(s, strlen(s), &b, err) == 0);
	must(strcmp(a.node, b.node) == 0 && strcmp(a.public_ip, b.public_ip) == 0 &&
	     strcmp(a.vtep_mac, b.vtep_mac) == 0 && a.created == b.created);
	free(s);
}

static void cgroup(const char *d, size_t n)
{
	struct record_cgroup a, b;
	char err[RECORD_ERRLEN], *s;
	const char *why;

	err[0] = '\0';
	if (record_cgroup_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(record_cgroup_path_valid(a.path, &why));
	must(a.id > 0 && a.minor >= 1 && a.minor <= 0xfffe);
	s = dump(record_cgroup_to_json(&a));
	must(record_cgroup_parse(s, strlen(s), &b, err) == 0);
	must(strcmp(a.path, b.path) == 0 && a.id == b.id && a.minor == b.minor && a.created == b.created &&
	     memcmp(&a.bandwidth, &b.bandwidth, sizeof(a.bandwidth)) == 0);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		attach(d, size - 1);
		break;
	case 1:
		netconf(d, size - 1);
		break;
	case 2:
		alias(d, size - 1);
		break;
	case 3:
		node_subnet(d, size - 1);
		break;
	case 5:
		cgroup(d, size - 1);
		break;
	default:
		subnet(d, size - 1);
		break;
	}
	return 0;
}
