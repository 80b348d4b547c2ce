/* netd/config: the daemon's configuration file.  docs/config.md promises that a bad value stops
 * shoald with a message naming the key, that unknown keys are errors, and the defaults listed there. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "netd/config.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int parse(struct netd_config *c, const char *json, char err[CONFIG_ERRLEN])
{
	memset(err, 0, CONFIG_ERRLEN);
	return config_parse(c, json, strlen(json), err);
}

static void test_defaults(void **state)
{
	struct netd_config c;
	char host[64] = "", err[CONFIG_ERRLEN] = "";

	memset(&c, 0xa5, sizeof(c));
	config_init(&c);
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	assert_string_equal(c.node, host);
	assert_string_equal(c.store, "file:/var/lib/shoal/store");
	assert_string_equal(c.store_prefix, "/shoal/");
	assert_int_equal(c.network.addr, IP(10, 244, 0, 0));
	assert_int_equal(c.network.len, 16);
	assert_int_equal(c.subnet_len, 24);
	assert_string_equal(c.bridge, "shoal0");
	assert_int_equal(c.mtu, 0);
	assert_string_equal(c.state_dir, "/var/lib/shoal");
	assert_string_equal(c.socket, "/run/shoal/shoald.sock");
	assert_string_equal(c.socket_group, "");
	assert_int_equal(c.lease_ttl, 600);
	assert_true(c.masquerade);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_string_equal(c.config_path, "");
	/* the defaults are a valid configuration (with a node name we control) */
	snprintf(c.node, sizeof(c.node), "node-1");
	assert_int_equal(config_validate(&c, err), 0);
}

static void test_empty_object_keeps_defaults(void **state)
{
	struct netd_config a, b;
	char err[CONFIG_ERRLEN];

	config_init(&a);
	snprintf(a.node, sizeof(a.node), "n1");
	b = a;
	assert_int_equal(parse(&a, "{}", err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(parse(&a, " \n{ }\n", err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_every_key(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN];
	const char *doc =
		"{\"node\": \"host-a.example_1\", \"store\": \"file:/srv/shoal/store\", \"storePrefix\": \"/prod/\","
		" \"network\": \"10.96.0.0/12\", \"subnetLen\": 26, \"bridge\": \"br-shoal\", \"mtu\": 9000,"
		" \"stateDir\": \"/srv/shoal/state\", \"socket\": \"/run/x/api.sock\", \"socketGroup\": \"docker\","
		" \"leaseTTL\": 3600, \"masquerade\": false, \"logLevel\": \"debug\"}";

	config_init(&c);
	assert_int_equal(parse(&c, doc, err), 0);
	assert_string_equal(c.node, "host-a.example_1");
	assert_string_equal(c.store, "file:/srv/shoal/store");
	assert_string_equal(c.store_prefix, "/prod/");
	assert_int_equal(c.network.addr, IP(10, 96, 0, 0));
	assert_int_equal(c.network.len, 12);
	assert_int_equal(c.subnet_len, 26);
	assert_string_equal(c.bridge, "br-shoal");
	assert_int_equal(c.mtu, 9000);
	assert_string_equal(c.state_dir, "/srv/shoal/state");
	assert_string_equal(c.socket, "/run/x/api.sock");
	assert_string_equal(c.socket_group, "docker");
	assert_int_equal(c.lease_ttl, 3600);
	assert_false(c.masquerade);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
}

static void test_bandwidth(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN];

	config_init(&c);
	assert_false(c.bandwidth.set);
	assert_int_equal(parse(&c, "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"62500kbps\"}}", err), 0);
	assert_true(c.bandwidth.set);
	assert_true(c.bandwidth.ingress == 1000000000ULL);
	assert_true(c.bandwidth.egress == 500000000ULL);          /* bytes per second: x 8 */
	assert_true(c.bandwidth.default_guarantee == 1000000ULL);
	assert_int_equal(c.bandwidth.default_priority, 4);
	assert_true(c.bandwidth.exempt_local);
	assert_int_equal(parse(&c, "{\"bandwidth\": {\"ingress\": \"200mbit\", \"egress\": \"200mbit\", "
	                           "\"defaultGuarantee\": \"5mbit\", \"defaultPriority\": 7, \"exemptLocal\": false}}", err), 0);
	assert_true(c.bandwidth.default_guarantee == 5000000ULL);
	assert_int_equal(c.bandwidth.default_priority, 7);
	assert_false(c.bandwidth.exempt_local);
	/* null turns it off again */
	assert_int_equal(parse(&c, "{\"bandwidth\": null}", err), 0);
	assert_false(c.bandwidth.set);
}

/* "metrics": off by default, the listen forms docs/config.md promises, null turns it off again. */
static void test_metrics(void **state)
{
	struct netd_config c;
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char err[CONFIG_ERRLEN], text[4096];

	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	assert_string_equal(c.metrics.listen, "");
	config_describe_defaults(&c, text, sizeof(text));
	assert_non_null(strstr(text, "\nmetrics: null (default: no HTTP server, no /metrics)\n"));
	assert_int_equal(parse(&c, "{\"metrics\": {\"listen\": \"127.0.0.1:9253\"}}", err), 0);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9253");
	config_describe_defaults(&c, text, sizeof(text));
	assert_null(strstr(text, "metrics:"));
	assert_int_equal(parse(&c, "{\"metrics\": null}", err), 0);
	assert_string_equal(c.metrics.listen, "");

	assert_int_equal(config_parse_listen("127.0.0.1:9253", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(a4->sin_port), 9253);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), IP(127, 0, 0, 1));

	assert_int_equal(config_parse_listen("[::1]:1", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(a6->sin6_port), 1);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));

	/* ":PORT" is every address: the IPv6 wildcard (made dual-stack by the server) */
	assert_int_equal(config_parse_listen(":65535", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 65535);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr));

	/* a refusal leaves *ret alone */
	memset(&ss, 0x5a, sizeof(ss));
	len = 7;
	assert_int_equal(config_parse_listen("127.0.0.1:0", &ss, &len), -EINVAL);
	assert_int_equal(len, 7);
	assert_int_equal(((unsigned char *)&ss)[0], 0x5a);
	assert_int_equal(config_parse_listen("", &ss, &len), -EINVAL);
	assert_int_equal(config_parse_listen(":", &ss, &len), -EINVAL);

	/* validation after overrides catches a bad value set in the struct */
	snprintf(c.metrics.listen, sizeof(c.metrics.listen), "nowhere");
	assert_int_equal(config_validate(&c, err), -EINVAL);
	assert_non_null(strstr(err, "\"metrics.listen\""));
}

static void test_partial_keeps_others(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN];

	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	assert_int_equal(parse(&c, "{\"mtu\": 1400, \"logLevel\": \"error\"}", err), 0);
	assert_int_equal(c.mtu, 1400);
	assert_int_equal(c.log_level, LOG_LVL_ERROR);
	assert_string_equal(c.node, "n1");
	assert_int_equal(c.subnet_len, 24);
	assert_string_equal(c.bridge, "shoal0");
	assert_true(c.masquerade);
	/* a second document applies on top */
	assert_int_equal(parse(&c, "{\"masquerade\": false}", err), 0);
	assert_int_equal(c.mtu, 1400);
	assert_false(c.masquerade);
}

static void test_good_boundaries(void **state)
{
	static const char *good[] = {
		"{\"mtu\": 0}", "{\"mtu\": 576}", "{\"mtu\": 65535}", "{\"leaseTTL\": 10}", "{\"leaseTTL\": 604800}",
		"{\"subnetLen\": 30}", "{\"subnetLen\": 17}", "{\"network\": \"10.0.0.0/8\", \"subnetLen\": 9}",
		"{\"logLevel\": \"error\"}", "{\"logLevel\": \"warning\"}", "{\"logLevel\": \"info\"}",
		"{\"logLevel\": \"debug\"}", "{\"masquerade\": true}", "{\"store\": \"file:/x\"}",
		"{\"store\": \"etcd://198.18.0.1:2379\"}", "{\"store\": \"etcd://198.18.0.1:2379,198.18.0.2:2379\"}",
		"{\"store\": \"etcds://198.18.0.1:2379\", \"storeCA\": \"/etc/shoal/ca.pem\"}",
		"{\"store\": \"etcds://e:2379\", \"storeCert\": \"/c.pem\", \"storeKey\": \"/k.pem\"}",
		"{\"vni\": 1}", "{\"vni\": 16777215}", "{\"vxlanPort\": 1}", "{\"vxlanPort\": 65535}",
		"{\"underlay\": \"eth0\"}", "{\"underlay\": \"198.18.0.1\"}", "{\"directRouting\": true}", "{\"forwardAccept\": true}",
		"{\"bridge\": \"123456789012345\"}",
		"{\"node\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",   /* 63 */
		"{\"socketGroup\": \"\"}", "{\"storePrefix\": \"/\"}", "{\"stateDir\": \"/\"}",
		"{\"bandwidth\": null}", "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"500mbit\"}}",
		"{\"bandwidth\": {\"ingress\": \"1.5gbit\", \"egress\": \"10mbps\", \"defaultGuarantee\": \"80mbit\", "
		"\"defaultPriority\": 0, \"exemptLocal\": false}}",
		"{\"metrics\": null}", "{\"metrics\": {\"listen\": \"127.0.0.1:1\"}}",
		"{\"metrics\": {\"listen\": \"[::1]:65535\"}}", "{\"metrics\": {\"listen\": \":9253\"}}",
		"{\"metrics\": {\"listen\": \"[::]:9253\"}}", "{\"metrics\": {\"listen\": \"0.0.0.0:9253\"}}",
		"{\"metrics\": {\"listen\": \"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535\"}}",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct netd_config c;
		char err[CONFIG_ERRLEN];

		config_init(&c);
		snprintf(c.node, sizeof(c.node), "n1");
		if (parse(&c, good[i], err) != 0)
			fail_msg("%s rejected: %s", good[i], err);
	}
	/* the longest socket path sun_path takes: 107 bytes + NUL */
	struct netd_config c;
	char err[CONFIG_ERRLEN], doc[200], path[108];

	memset(path, 'a', 107);
	path[0] = '/';
	path[107] = '\0';
	snprintf(doc, sizeof(doc), "{\"socket\": \"%s\"}", path);
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	assert_int_equal(parse(&c, doc, err), 0);
	assert_string_equal(c.socket, path);
}

/* Each bad value: the document, and the key its error must name. */
static const struct {
	const char *json;
	const char *key;
} bad_values[] = {
	{ "{\"node\": \"\"}", "node" },
	{ "{\"node\": \"a b\"}", "node" },
	{ "{\"node\": \"host/1\"}", "node" },
	{ "{\"node\": \"h\\u00e9\"}", "node" },
	{ "{\"node\": 5}", "node" },
	{ "{\"node\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "node" },   /* 64 */
	{ "{\"store\": \"/var/lib/shoal/store\"}", "store" },
	{ "{\"store\": \"file:relative\"}", "store" },
	{ "{\"store\": \"http://x\"}", "store" },
	{ "{\"store\": null}", "store" },
	{ "{\"storePrefix\": \"shoal/\"}", "storePrefix" },
	{ "{\"storePrefix\": \"\"}", "storePrefix" },
	{ "{\"storePrefix\": []}", "storePrefix" },
	{ "{\"network\": \"10.244.0.1/16\"}", "network" },
	{ "{\"network\": \"10.244.0.0\"}", "network" },
	{ "{\"network\": \"10.244.0.0/33\"}", "network" },
	{ "{\"network\": \"banana\"}", "network" },
	{ "{\"network\": \"10.0.0.0/7\", \"subnetLen\": 24}", "network" },
	{ "{\"network\": \"0.0.0.0/0\"}", "network" },
	{ "{\"network\": 10}", "network" },
	{ "{\"network\": \"10.244.0.0/16 \"}", "network" },
	{ "{\"subnetLen\": 31}", "subnetLen" },
	{ "{\"subnetLen\": 7}", "subnetLen" },
	{ "{\"subnetLen\": -24}", "subnetLen" },
	{ "{\"subnetLen\": 24.5}", "subnetLen" },
	{ "{\"subnetLen\": \"24\"}", "subnetLen" },
	{ "{\"subnetLen\": 16}", "subnetLen" },                                   /* network is /16 */
	{ "{\"subnetLen\": 8}", "subnetLen" },
	{ "{\"network\": \"10.0.0.0/24\"}", "subnetLen" },                        /* default /24 */
	{ "{\"network\": \"10.0.0.0/25\"}", "subnetLen" },
	{ "{\"network\": \"10.0.0.0/20\", \"subnetLen\": 20}", "subnetLen" },
	{ "{\"subnetLen\": 4294967320}", "subnetLen" },                           /* 2^32 + 24 */
	{ "{\"bridge\": \"\"}", "bridge" },
	{ "{\"bridge\": \"1234567890123456\"}", "bridge" },
	{ "{\"bridge\": \"br/0\"}", "bridge" },
	{ "{\"bridge\": \"br 0\"}", "bridge" },
	{ "{\"bridge\": \"..\"}", "bridge" },
	{ "{\"bridge\": true}", "bridge" },
	{ "{\"mtu\": 575}", "mtu" },
	{ "{\"mtu\": 1}", "mtu" },
	{ "{\"mtu\": -1}", "mtu" },
	{ "{\"mtu\": 65536}", "mtu" },
	{ "{\"mtu\": 4294968796}", "mtu" },                                       /* 2^32 + 1500 */
	{ "{\"mtu\": \"1500\"}", "mtu" },
	{ "{\"mtu\": 1500.0}", "mtu" },
	{ "{\"stateDir\": \"var/lib/shoal\"}", "stateDir" },
	{ "{\"stateDir\": \"\"}", "stateDir" },
	{ "{\"stateDir\": 0}", "stateDir" },
	{ "{\"socket\": \"shoald.sock\"}", "socket" },
	{ "{\"socket\": \"\"}", "socket" },
	{ "{\"socket\": \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  "socket" },                                                            /* 108 bytes: no room for NUL */
	{ "{\"socketGroup\": 0}", "socketGroup" },
	{ "{\"leaseTTL\": 9}", "leaseTTL" },
	{ "{\"leaseTTL\": 0}", "leaseTTL" },
	{ "{\"leaseTTL\": 604801}", "leaseTTL" },
	{ "{\"leaseTTL\": \"600\"}", "leaseTTL" },
	{ "{\"masquerade\": \"yes\"}", "masquerade" },
	{ "{\"masquerade\": 1}", "masquerade" },
	{ "{\"masquerade\": null}", "masquerade" },
	{ "{\"logLevel\": \"verbose\"}", "logLevel" },
	{ "{\"logLevel\": \"\"}", "logLevel" },
	{ "{\"logLevel\": \"INFO\"}", "logLevel" },
	{ "{\"logLevel\": 3}", "logLevel" },
	{ "{\"nodes\": \"a\"}", "nodes" },                                        /* typo: unknown key */
	{ "{\"subnetlen\": 24}", "subnetlen" },
	{ "{\"mtu\": 1500, \"vxlanport\": 1}", "vxlanport" },                /* typo of vxlanPort */
	{ "{\"vni\": 0}", "vni" },
	{ "{\"vni\": 16777216}", "vni" },
	{ "{\"vxlanPort\": 0}", "vxlanPort" },
	{ "{\"vxlanPort\": 65536}", "vxlanPort" },
	{ "{\"directRouting\": \"yes\"}", "directRouting" },
	{ "{\"forwardAccept\": 1}", "forwardAccept" },
	{ "{\"store\": \"etcd:http://198.18.0.1:2379\"}", "store" },
	{ "{\"store\": \"etcds://e:2379\", \"storeCert\": \"/c.pem\"}", "storeCert" },
	{ "{\"store\": \"etcd://e:2379\", \"storeCA\": \"/ca.pem\"}", "storeCA" },
	{ "{\"\": 1}", "\"\"" },
	{ "{\"bandwidth\": 1}", "bandwidth" },
	{ "{\"bandwidth\": \"1gbit\"}", "bandwidth" },
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\"}}", "bandwidth" },                     /* egress missing */
	{ "{\"bandwidth\": {}}", "bandwidth" },
	{ "{\"bandwidth\": {\"ingress\": \"fast\", \"egress\": \"1gbit\"}}", "bandwidth.ingress" },
	{ "{\"bandwidth\": {\"ingress\": 1000000, \"egress\": \"1gbit\"}}", "bandwidth.ingress" },
	{ "{\"bandwidth\": {\"ingress\": \"0\", \"egress\": \"1gbit\"}}", "bandwidth.ingress" },
	{ "{\"bandwidth\": {\"ingress\": \"-1mbit\", \"egress\": \"1gbit\"}}", "bandwidth.ingress" },
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"99999999999999999999tbit\"}}", "bandwidth.egress" },
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"1gbit\", \"defaultPriority\": 8}}",
	  "bandwidth.defaultPriority" },
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"1gbit\", \"exemptLocal\": 1}}",
	  "bandwidth.exemptLocal" },
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"1gbit\", \"ingres\": \"1gbit\"}}",
	  "bandwidth.ingres" },                                                                    /* typo */
	{ "{\"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"10mbit\", \"defaultGuarantee\": \"20mbit\"}}",
	  "bandwidth.defaultGuarantee" },
	{ "{\"subnetLen\": 12, \"network\": \"10.0.0.0/8\", \"bandwidth\": {\"ingress\": \"1gbit\", \"egress\": \"1gbit\"}}",
	  "bandwidth" },
	{ "{\"metrics\": 9253}", "metrics" },
	{ "{\"metrics\": \"127.0.0.1:9253\"}", "metrics" },
	{ "{\"metrics\": {}}", "metrics" },                                       /* listen missing */
	{ "{\"metrics\": {\"listen\": 9253}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": null}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"localhost:9253\"}}", "metrics.listen" },        /* names: no DNS */
	{ "{\"metrics\": {\"listen\": \"127.0.0.1\"}}", "metrics.listen" },             /* no port */
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:0\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:65536\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:99999999999\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:92a3\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:+9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1: 9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"300.0.0.1:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"::1:9253\"}}", "metrics.listen" },              /* IPv6 needs brackets */
	{ "{\"metrics\": {\"listen\": \"[::1]\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"[::1:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"[]:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"[127.0.0.1]:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"[fe80::1%eth0]:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"http://127.0.0.1:9253\"}}", "metrics.listen" },
	{ "{\"metrics\": {\"listen\": \"127.0.0.1:9253\", \"path\": \"/m\"}}", "metrics.path" },
};

static void test_bad_values_name_the_key(void **state)
{
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		struct netd_config c, before;
		char err[CONFIG_ERRLEN], quoted[80];
		int r;

		config_init(&c);
		snprintf(c.node, sizeof(c.node), "n1");
		before = c;
		r = parse(&c, bad_values[i].json, err);
		if (r != -EINVAL)
			fail_msg("%s: got %d, want -EINVAL", bad_values[i].json, r);
		if (bad_values[i].key[0] == '"')
			snprintf(quoted, sizeof(quoted), "%s", bad_values[i].key);
		else
			snprintf(quoted, sizeof(quoted), "\"%s\"", bad_values[i].key);
		if (!strstr(err, quoted))
			fail_msg("%s: error \"%s\" does not name %s", bad_values[i].json, err, quoted);
		/* a failed parse changes nothing (no half-applied reload) */
		if (memcmp(&c, &before, sizeof(c)) != 0)
			fail_msg("%s: config changed although the parse failed", bad_values[i].json);
	}
}

static void test_duplicate_key(void **state)
{
	struct netd_config c, before;
	char err[CONFIG_ERRLEN];

	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	before = c;
	/* which value wins is not something a user should have to guess */
	assert_int_equal(parse(&c, "{\"mtu\": 1400, \"mtu\": 9000}", err), -EINVAL);
	assert_true(err[0] != '\0');
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(parse(&c, "{\"node\": \"a\", \"bridge\": \"b\", \"node\": \"a\"}", err), -EINVAL);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_not_an_object(void **state)
{
	static const char *docs[] = { "[]", "[{\"mtu\": 1400}]", "\"mtu\"", "1", "null", "true" };
	static const char *broken[] = { "{\"node\": \"a\\u0000b\"}", "", " ", "{", "{\"mtu\": 1400", "{\"mtu\": 1400}}",
	                                "{\"mtu\": 1400} x",
	                                "{mtu: 1400}", "{'mtu': 1400}", "{\"mtu\": 1400,}", "{} {}" };

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct netd_config c;
		char err[CONFIG_ERRLEN];

		config_init(&c);
		snprintf(c.node, sizeof(c.node), "n1");
		if (parse(&c, docs[i], err) != -EINVAL)
			fail_msg("%s accepted", docs[i]);
		assert_true(err[0] != '\0');
	}
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct netd_config c;
		char err[CONFIG_ERRLEN];

		config_init(&c);
		snprintf(c.node, sizeof(c.node), "n1");
		if (parse(&c, broken[i], err) != -EINVAL)
			fail_msg("%s accepted", broken[i]);
		/* a syntax error says where */
		if (!strstr(err, "line"))
			fail_msg("%s: error \"%s\" has no position", broken[i], err);
	}
}

static void test_len_is_respected(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN];
	const char doc[] = "{\"mtu\": 1400}{\"mtu\": 1}";

	/* only the first len bytes are the document */
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	assert_int_equal(config_parse(&c, doc, 13, err), 0);
	assert_int_equal(c.mtu, 1400);
	assert_int_equal(config_parse(&c, doc, 12, err), -EINVAL);
}

static char load_dir[] = "/tmp/shoal-test-config.XXXXXX";

static int load_setup(void **state)
{
	memcpy(load_dir + sizeof(load_dir) - 7, "XXXXXX", 6);
	return mkdtemp(load_dir) ? 0 : -1;
}

/* Runs even when an assertion failed, so nothing is left behind. */
static int load_teardown(void **state)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/shoald.json", load_dir);
	unlink(path);
	rmdir(load_dir);
	return 0;
}

static void test_load(void **state)
{
	char path[PATH_MAX], err[CONFIG_ERRLEN];
	struct netd_config c;
	const char *doc = "{\"node\": \"n7\", \"subnetLen\": 25}";

	snprintf(path, sizeof(path), "%s/shoald.json", load_dir);
	assert_int_equal(file_write_atomic(path, doc, strlen(doc), 0600), 0);
	config_init(&c);
	assert_int_equal(config_load(&c, path, err), 0);
	assert_string_equal(c.node, "n7");
	assert_int_equal(c.subnet_len, 25);
	assert_string_equal(c.config_path, path);

	/* errors carry the file name and the key */
	doc = "{\"subnetLen\": 16}";
	assert_int_equal(file_write_atomic(path, doc, strlen(doc), 0600), 0);
	assert_int_equal(config_load(&c, path, err), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "\"subnetLen\""));
	assert_int_equal(c.subnet_len, 25);
	unlink(path);

	assert_int_equal(config_load(&c, path, err), -ENOENT);
	assert_non_null(strstr(err, path));
}

static void test_validate_after_overrides(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN];

	/* command-line overrides bypass config_parse: validate alone must catch them */
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "bad node");
	assert_int_equal(config_validate(&c, err), -EINVAL);
	assert_non_null(strstr(err, "\"node\""));
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	snprintf(c.state_dir, sizeof(c.state_dir), "relative");
	assert_int_equal(config_validate(&c, err), -EINVAL);
	assert_non_null(strstr(err, "\"stateDir\""));
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	snprintf(c.socket, sizeof(c.socket), "x.sock");
	assert_int_equal(config_validate(&c, err), -EINVAL);
	assert_non_null(strstr(err, "\"socket\""));
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	snprintf(c.store, sizeof(c.store), "file:");
	assert_int_equal(config_validate(&c, err), -EINVAL);
	assert_non_null(strstr(err, "\"store\""));
}


/* --check-config lists what the file left out, so an operator sees that "node" became the host name. */
static void test_describe_defaults(void **state)
{
	struct netd_config c;
	char err[CONFIG_ERRLEN], text[4096], small[16];
	int n;

	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	n = config_describe_defaults(&c, text, sizeof(text));
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal((size_t)n, strlen(text));
	/* every key is listed, each at the start of a line */
	for (unsigned i = 0; config_key_name(i); i++) {
		char want[64], lines[4200];

		snprintf(lines, sizeof(lines), "\n%s", text);
		snprintf(want, sizeof(want), "\n%s: ", config_key_name(i));
		if (!strstr(lines, want))
			fail_msg("key %s missing from:\n%s", config_key_name(i), text);
	}
	assert_non_null(strstr(text, "node: \"n1\" (default: the host name)\n"));
	assert_non_null(strstr(text, "mtu: 0 (default: the underlay's MTU - 50 (IPv4) or - 70 (IPv6))\n"));
	assert_non_null(strstr(text, "network: \"10.244.0.0/16\" (default)\n"));
	assert_non_null(strstr(text, "subnetLen: 24 (default)\n"));
	assert_non_null(strstr(text, "masquerade: true (default)\n"));
	assert_non_null(strstr(text, "logLevel: \"info\" (default)\n"));

	/* keys from the file are no longer defaults, even when the value equals the default */
	assert_int_equal(parse(&c, "{\"mtu\": 1400, \"subnetLen\": 24, \"logLevel\": \"debug\"}", err), 0);
	n = config_describe_defaults(&c, text, sizeof(text));
	assert_true(n > 0);
	assert_null(strstr(text, "mtu:"));
	assert_null(strstr(text, "subnetLen:"));
	assert_null(strstr(text, "logLevel:"));
	assert_non_null(strstr(text, "node: "));

	/* command-line overrides count as set */
	assert_int_equal(config_mark_set(&c, "node"), 0);
	assert_int_equal(config_mark_set(&c, "nodes"), -ENOENT);
	config_describe_defaults(&c, text, sizeof(text));
	assert_null(strstr(text, "node: "));

	/* a short buffer: terminated, and the needed length is returned */
	n = config_describe_defaults(&c, small, sizeof(small));
	assert_int_equal((size_t)n, strlen(text));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(config_describe_defaults(&c, NULL, 0), n);

	/* a failed parse marks nothing */
	config_init(&c);
	snprintf(c.node, sizeof(c.node), "n1");
	assert_int_equal(parse(&c, "{\"bridge\": \"b\", \"mtu\": 1}", err), -EINVAL);
	assert_int_equal(c.keys_set, 0);
}

static char env_dir[] = "/tmp/shoal-test-env.XXXXXX";

static int env_setup(void **state)
{
	memcpy(env_dir + sizeof(env_dir) - 7, "XXXXXX", 6);
	return mkdtemp(env_dir) ? 0 : -1;
}

static int env_teardown(void **state)
{
	static const char *const names[] = { "ca.pem", "key.pem", "file", "ro/x", "ro", "certdir", "state", "" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", env_dir, names[i]);
		chmod(path, 0700);
		if (unlink(path) < 0)
			rmdir(path);
	}
	return 0;
}

/* A config whose every path lies in env_dir. */
static void env_config(struct netd_config *c)
{
	config_init(c);
	snprintf(c->node, sizeof(c->node), "n1");
	snprintf(c->state_dir, sizeof(c->state_dir), "%s/state/a/b", env_dir);
	snprintf(c->socket, sizeof(c->socket), "%s/run/shoald.sock", env_dir);
	snprintf(c->store, sizeof(c->store), "file:%s/store", env_dir);
}

static void expect_env_error(const struct netd_config *c, const char *key, const char *text)
{
	char err[CONFIG_ERRLEN] = "", quoted[64];

	snprintf(quoted, sizeof(quoted), "key \"%s\"", key);
	if (config_check_environment(c, err) >= 0)
		fail_msg("accepted; want an error about %s", key);
	if (!strstr(err, quoted) || (text && !strstr(err, text)))
		fail_msg("error \"%s\" does not name %s / \"%s\"", err, quoted, text ? text : "");
}

static void test_check_environment(void **state)
{
	char err[CONFIG_ERRLEN], path[PATH_MAX];
	struct netd_config c;
	struct stat st;

	/* missing directories whose ancestors are writable: fine, and nothing is created */
	env_config(&c);
	if (config_check_environment(&c, err) != 0)
		fail_msg("rejected: %s", err);
	snprintf(path, sizeof(path), "%s/state", env_dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/run", env_dir);
	assert_int_equal(stat(path, &st), -1);

	/* a socket group that exists (root has gid 0 everywhere) and one that does not */
	env_config(&c);
	snprintf(c.socket_group, sizeof(c.socket_group), "root");
	assert_int_equal(config_check_environment(&c, err), 0);
	snprintf(c.socket_group, sizeof(c.socket_group), "shoal-no-such-group-7f3a");
	expect_env_error(&c, "socketGroup", "does not exist");

	/* TLS files: missing, a directory, present */
	env_config(&c);
	snprintf(c.store, sizeof(c.store), "etcds://198.18.0.1:2379");
	snprintf(c.store_ca, sizeof(c.store_ca), "%s/ca.pem", env_dir);
	expect_env_error(&c, "storeCA", "No such file");
	assert_int_equal(file_write_atomic(c.store_ca, "x", 1, 0600), 0);
	assert_int_equal(config_check_environment(&c, err), 0);
	snprintf(c.store_cert, sizeof(c.store_cert), "%s/certdir", env_dir);
	snprintf(c.store_key, sizeof(c.store_key), "%s/key.pem", env_dir);
	assert_int_equal(mkdir(c.store_cert, 0700), 0);
	expect_env_error(&c, "storeCert", "not a regular file");
	snprintf(c.store_cert, sizeof(c.store_cert), "%s", c.store_ca);
	expect_env_error(&c, "storeKey", NULL);
	assert_int_equal(file_write_atomic(c.store_key, "k", 1, 0600), 0);
	assert_int_equal(config_check_environment(&c, err), 0);
	if (geteuid() != 0) {   /* root reads anything */
		chmod(c.store_key, 0);
		expect_env_error(&c, "storeKey", "not readable");
	}

	/* a directory that cannot be created because an ancestor is a file */
	snprintf(path, sizeof(path), "%s/file", env_dir);
	assert_int_equal(file_write_atomic(path, "", 0, 0600), 0);
	env_config(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/file/state", env_dir);
	expect_env_error(&c, "stateDir", "is not a directory");
	env_config(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/file", env_dir);
	expect_env_error(&c, "stateDir", "is not a directory");
	env_config(&c);
	snprintf(c.socket, sizeof(c.socket), "%s/file/x/shoald.sock", env_dir);
	expect_env_error(&c, "socket", "is not a directory");
	env_config(&c);
	snprintf(c.store, sizeof(c.store), "file:%s/file/store", env_dir);
	expect_env_error(&c, "store", "is not a directory");

	/* an existing directory we may not write (only meaningful without root's override) */
	snprintf(path, sizeof(path), "%s/ro", env_dir);
	assert_int_equal(mkdir(path, 0500), 0);
	env_config(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/ro/x", env_dir);
	if (geteuid() != 0)
		expect_env_error(&c, "stateDir", "not writable");
	else
		assert_int_equal(config_check_environment(&c, err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_object_keeps_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_partial_keeps_others),
		cmocka_unit_test(test_good_boundaries),
		cmocka_unit_test(test_bandwidth),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_bad_values_name_the_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_len_is_respected),
		cmocka_unit_test_setup_teardown(test_load, load_setup, load_teardown),
		cmocka_unit_test(test_validate_after_overrides),
		cmocka_unit_test(test_describe_defaults),
		cmocka_unit_test_setup_teardown(test_check_environment, env_setup, env_teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
