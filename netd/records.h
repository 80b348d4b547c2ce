/* Records shoald persists: attachments (state dir, one file each) and the store's network config and
 * subnet leases.  Each is a plain struct with a formatter and a validating parser (fuzzed). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "lib/names.h"

#define RECORD_ERRLEN 256

struct record_attach {
	char container_id[257];
	char ifname[IFNAME_SIZE];
	char host_veth[IFNAME_SIZE];
	char netns[256];
	char network[128];
	uint32_t addr;
	uint8_t prefixlen;
	uint32_t mtu;
	int64_t created;
};

struct record_netconf {
	struct cidr4 network;
	uint8_t subnet_len;
	uint32_t vni;
	uint16_t port;
};

struct record_subnet {
	char node[64];
	char public_ip[IP4_STRLEN];
	char vtep_mac[18];
	int64_t created;
};

json_t *record_attach_to_json(const struct record_attach *a);
int record_attach_parse(const char *data, size_t len, struct record_attach *ret, char err[RECORD_ERRLEN]);

json_t *record_netconf_to_json(const struct record_netconf *n);
int record_netconf_parse(const char *data, size_t len, struct record_netconf *ret, char err[RECORD_ERRLEN]);
bool record_netconf_equal(const struct record_netconf *a, const struct record_netconf *b);

json_t *record_subnet_to_json(const struct record_subnet *s);
int record_subnet_parse(const char *data, size_t len, struct record_subnet *ret, char err[RECORD_ERRLEN]);
