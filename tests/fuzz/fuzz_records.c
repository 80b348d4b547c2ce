/* The store and state-dir record parsers on arbitrary bytes (first byte selects the parser).
 * Whatever a parser accepts must survive format -> parse unchanged: shoald rewrites records it
 * read, and a record that changes on the way loses or corrupts state. */
// SOURCES: netd/records.c lib/cidr.c lib/names.c
// PKGS: jansson
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

	err[0] = '\0';
	if (record_attach_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(names_container_id_valid(a.container_id) == 0 && names_ifname_valid(a.ifname) == 0);
	names_host_veth(a.container_id, a.ifname, veth);
	must(strcmp(veth, a.host_veth) == 0);
	must(a.prefixlen >= 8 && a.prefixlen <= 30 && a.mtu <= 65535);
	s = dump(record_attach_to_json(&a));
	must(record_attach_parse(s, strlen(s), &b, err) == 0);
	must(strcmp(a.container_id, b.container_id) == 0 && strcmp(a.ifname, b.ifname) == 0 &&
	     strcmp(a.host_veth, b.host_veth) == 0 && strcmp(a.netns, b.netns) == 0 &&
	     strcmp(a.network, b.network) == 0 && a.addr == b.addr && a.prefixlen == b.prefixlen &&
	     a.mtu == b.mtu && a.created == b.created);
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

	err[0] = '\0';
	if (record_subnet_parse(d, n, &a, err) < 0) {
		must(err[0] != '\0');
		return;
	}
	must(a.node[0] != '\0');
	must(a.public_ip[0] == '\0' || ip4_parse(a.public_ip, &ip) == 0);
	must(a.vtep_mac[0] == '\0' || strlen(a.vtep_mac) == 17);
	s = dump(record_subnet_to_json(&a));
	must(record_subnet_parse(s, strlen(s), &b, err) == 0);
	must(strcmp(a.node, b.node) == 0 && strcmp(a.public_ip, b.public_ip) == 0 &&
	     strcmp(a.vtep_mac, b.vtep_mac) == 0 && a.created == b.created);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		attach(d, size - 1);
		break;
	case 1:
		netconf(d, size - 1);
		break;
	default:
		subnet(d, size - 1);
		break;
	}
	return 0;
}
