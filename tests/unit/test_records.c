/* netd/records: what shoald writes to its state dir and the store, and reads back after a restart
 * or from other nodes.  A record that does not survive format -> parse loses a container's address;
 * a parser that accepts a forged or corrupt record makes shoald act on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/records.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Serialise like shoald does (compact JSON) and hand the text back. */
static char *dump(json_t *j)
{
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	json_decref(j);
	return s;
}

/* Serialise j after setting/removing one key. */
static char *dump_with(json_t *j, const char *key, json_t *value)
{
	assert_non_null(j);
	if (value)
		json_object_set_new(j, key, value);
	else
		json_object_del(j, key);
	return dump(j);
}

/* --- attachments --- */

static struct record_attach attach_sample(void)
{
	struct record_attach a;

	memset(&a, 0, sizeof(a));
	snprintf(a.container_id, sizeof(a.container_id), "3f2c9a1b7d6e");
	snprintf(a.ifname, sizeof(a.ifname), "eth0");
	names_host_veth(a.container_id, a.ifname, a.host_veth);
	snprintf(a.netns, sizeof(a.netns), "/var/run/netns/cni-1234");
	snprintf(a.network, sizeof(a.network), "shoal-net");
	snprintf(a.pod_namespace, sizeof(a.pod_namespace), "prod");
	snprintf(a.pod_name, sizeof(a.pod_name), "web-0");
	a.addr = IP(10, 244, 3, 7);
	a.prefixlen = 24;
	a.mtu = 1450;
	a.default_route = true;
	a.created = 1700000000123LL;
	a.bandwidth.priority = -1;
	return a;
}

static void assert_attach_equal(const struct record_attach *a, const struct record_attach *b)
{
	assert_string_equal(a->container_id, b->container_id);
	assert_string_equal(a->ifname, b->ifname);
	assert_string_equal(a->host_veth, b->host_veth);
	assert_string_equal(a->netns, b->netns);
	assert_string_equal(a->network, b->network);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->prefixlen, b->prefixlen);
	assert_int_equal(a->mtu, b->mtu);
	assert_memory_equal(a->mac, b->mac, 6);
	assert_int_equal(a->default_route, b->default_route);
	assert_string_equal(a->pod_namespace, b->pod_namespace);
	assert_string_equal(a->pod_name, b->pod_name);
	assert_string_equal(a->pod_uid, b->pod_uid);
	assert_true(a->created == b->created);
	assert_memory_equal(&a->bandwidth.ingress, &b->bandwidth.ingress, sizeof(a->bandwidth.ingress));
	assert_memory_equal(&a->bandwidth.egress, &b->bandwidth.egress, sizeof(a->bandwidth.egress));
	assert_int_equal(a->bandwidth.priority, b->bandwidth.priority);
}

static void test_attach_round_trip(void **state)
{
	struct record_attach a = attach_sample(), b;
	char err[RECORD_ERRLEN] = "", *s;

	s = dump(record_attach_to_json(&a));
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_attach_equal(&a, &b);
	free(s);

	/* the longest values each field takes */
	memset(a.container_id, 'c', 256);
	a.container_id[256] = '\0';
	snprintf(a.ifname, sizeof(a.ifname), "123456789012345");
	names_host_veth(a.container_id, a.ifname, a.host_veth);
	memset(a.netns, 'n', 255);
	a.netns[0] = '/';
	a.netns[255] = '\0';
	memset(a.network, 'w', RECORD_NETWORK_SIZE - 1);
	a.network[RECORD_NETWORK_SIZE - 1] = '\0';
	memset(a.pod_namespace, 's', RECORD_POD_NS_SIZE - 1);
	a.pod_namespace[RECORD_POD_NS_SIZE - 1] = '\0';
	memset(a.pod_name, 'p', RECORD_POD_NAME_SIZE - 1);
	a.pod_name[RECORD_POD_NAME_SIZE - 1] = '\0';
	snprintf(a.pod_uid, sizeof(a.pod_uid), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	a.mac[0] = 0x02;
	a.mac[5] = 0xff;
	a.default_route = false;
	a.addr = IP(255, 255, 255, 254);
	a.prefixlen = 30;
	a.mtu = 65535;
	a.created = INT64_MAX;
	a.bandwidth = (struct request_bandwidth){ .ingress = { .guarantee = 120000000, .limit = INT64_MAX, .burst = 4294967295 },
	                                          .egress = { .limit = 1 }, .priority = 7 };
	s = dump(record_attach_to_json(&a));
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_attach_equal(&a, &b);
	free(s);

	/* empty optional strings, host bits and /8 */
	a = attach_sample();
	a.netns[0] = '\0';
	a.network[0] = '\0';
	a.mtu = 0;
	a.created = 0;
	a.addr = IP(10, 1, 2, 3);
	a.prefixlen = 8;
	s = dump(record_attach_to_json(&a));
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_attach_equal(&a, &b);
	free(s);
}

static void test_attach_optional_keys(void **state)
{
	struct record_attach a = attach_sample(), b;
	char err[RECORD_ERRLEN], *s;
	json_t *j = record_attach_to_json(&a);

	json_object_del(j, "netns");
	json_object_del(j, "network");
	json_object_del(j, "mtu");
	json_object_del(j, "created");
	s = dump(j);
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_string_equal(b.netns, "");
	assert_string_equal(b.network, "");
	assert_int_equal(b.mtu, 0);
	assert_true(b.created == 0);
	assert_int_equal(b.addr, a.addr);
	free(s);
}

static void test_attach_bandwidth(void **state)
{
	struct record_attach a = attach_sample(), b;
	char err[RECORD_ERRLEN], *s;
	json_t *j;

	/* nothing asked: no key written, priority -1 read back */
	j = record_attach_to_json(&a);
	assert_null(json_object_get(j, "bandwidth"));
	json_decref(j);
	a.bandwidth.priority = 0;     /* the highest priority alone is something asked */
	j = record_attach_to_json(&a);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "bandwidth"), "priority")), 0);
	s = dump(j);
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_attach_equal(&a, &b);
	free(s);
}

static void expect_attach_rejected(const char *s, const char *mention)
{
	struct record_attach b, before;
	char err[RECORD_ERRLEN] = "";
	int r;

	memset(&b, 0x5a, sizeof(b));
	before = b;
	r = record_attach_parse(s, strlen(s), &b, err);
	if (r != -EBADMSG)
		fail_msg("accepted (%d): %s", r, s);
	if (mention && !strstr(err, mention))
		fail_msg("error \"%s\" does not mention %s for %s", err, mention, s);
	assert_true(err[0] != '\0');
	assert_memory_equal(&b, &before, sizeof(b));   /* untouched */
}

static void test_attach_host_veth_must_match(void **state)
{
	struct record_attach a = attach_sample();
	char *s;

	/* the name of another attachment of the same container */
	names_host_veth(a.container_id, "eth1", a.host_veth);
	s = dump(record_attach_to_json(&a));
	expect_attach_rejected(s, "hostVeth");
	free(s);
	/* the separator: ("ab","c") must not pass for ("a","bc") */
	a = attach_sample();
	snprintf(a.container_id, sizeof(a.container_id), "ab");
	snprintf(a.ifname, sizeof(a.ifname), "c");
	names_host_veth("a", "bc", a.host_veth);
	s = dump(record_attach_to_json(&a));
	expect_attach_rejected(s, "hostVeth");
	free(s);
	/* a foreign device name */
	a = attach_sample();
	snprintf(a.host_veth, sizeof(a.host_veth), "eth0");
	s = dump(record_attach_to_json(&a));
	expect_attach_rejected(s, "hostVeth");
	free(s);
	/* upper case hex is another name */
	a = attach_sample();
	for (char *p = a.host_veth + 3; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if (strcmp(a.host_veth + 3, attach_sample().host_veth + 3) != 0) {
		s = dump(record_attach_to_json(&a));
		expect_attach_rejected(s, "hostVeth");
		free(s);
	}
}

static void test_attach_bad_address(void **state)
{
	static const char *bad[] = { "10.244.3.7", "10.244.3.7/", "10.244.3.7/33", "10.244.3.7/31", "10.244.3.7/32",
	                             "10.244.3.7/7", "10.244.3.7/0", "10.244.3/24", "010.244.3.7/24", "banana",
	                             "", "10.244.3.7/24 ", "256.1.1.1/24", "10.244.3.7/24/24" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct record_attach a = attach_sample();
		char *s = dump_with(record_attach_to_json(&a), "address", json_string(bad[i]));
		expect_attach_rejected(s, "address");
		free(s);
	}
	struct record_attach a = attach_sample();
	char *s = dump_with(record_attach_to_json(&a), "address", json_integer(IP(10, 244, 3, 7)));

	expect_attach_rejected(s, "address");
	free(s);
	s = dump_with(record_attach_to_json(&a), "address", json_string("10.244.3.7/24999999999999999"));
	expect_attach_rejected(s, "address");
	free(s);
}

static void test_attach_missing_and_bad_keys(void **state)
{
	static const char *required[] = { "containerId", "ifname", "hostVeth", "address" };
	struct record_attach a = attach_sample();
	char *s;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		s = dump_with(record_attach_to_json(&a), required[i], NULL);
		expect_attach_rejected(s, required[i]);
		free(s);
		s = dump_with(record_attach_to_json(&a), required[i], json_null());
		expect_attach_rejected(s, required[i]);
		free(s);
		s = dump_with(record_attach_to_json(&a), required[i], json_integer(1));
		expect_attach_rejected(s, required[i]);
		free(s);
	}
	/* a bandwidth object that is not one, or out of range */
	s = dump_with(record_attach_to_json(&a), "bandwidth", json_integer(1));
	expect_attach_rejected(s, "bandwidth");
	free(s);
	s = dump_with(record_attach_to_json(&a), "bandwidth", json_pack("{s:i}", "priority", 8));
	expect_attach_rejected(s, "priority");
	free(s);
	s = dump_with(record_attach_to_json(&a), "bandwidth", json_pack("{s:{s:i}}", "egress", "limit", -1));
	expect_attach_rejected(s, "limit");
	free(s);
	s = dump_with(record_attach_to_json(&a), "bandwidth", json_pack("{s:{s:i, s:i}}", "ingress", "guarantee", 2, "limit", 1));
	expect_attach_rejected(s, "guarantee");
	free(s);
	/* invalid identifiers (they end up in file names and netlink requests) */
	static const char *bad_ids[] = { "../../etc", "", "-x", "a/b", "a b" };

	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		struct record_attach x = attach_sample();

		snprintf(x.container_id, sizeof(x.container_id), "%s", bad_ids[i]);
		names_host_veth(x.container_id, x.ifname, x.host_veth);   /* consistent, still invalid */
		s = dump(record_attach_to_json(&x));
		expect_attach_rejected(s, "containerId");
		free(s);
	}
	static const char *bad_ifnames[] = { "", "..", "eth/0", "eth 0" };

	for (size_t i = 0; i < sizeof(bad_ifnames) / sizeof(bad_ifnames[0]); i++) {
		struct record_attach x = attach_sample();

		snprintf(x.ifname, sizeof(x.ifname), "%s", bad_ifnames[i]);
		names_host_veth(x.container_id, x.ifname, x.host_veth);
		s = dump(record_attach_to_json(&x));
		expect_attach_rejected(s, "ifname");
		free(s);
	}
	/* too long for the struct */
	s = dump_with(record_attach_to_json(&a), "ifname", json_string("1234567890123456"));
	expect_attach_rejected(s, "ifname");
	free(s);
	s = dump_with(record_attach_to_json(&a), "hostVeth", json_string("shv0123456789abc"));
	expect_attach_rejected(s, "hostVeth");
	free(s);
	{
		char big[300];

		memset(big, 'a', 257);
		big[257] = '\0';
		s = dump_with(record_attach_to_json(&a), "containerId", json_string(big));
		expect_attach_rejected(s, "containerId");
		free(s);
		memset(big, 'n', 256);
		big[256] = '\0';
		s = dump_with(record_attach_to_json(&a), "netns", json_string(big));
		expect_attach_rejected(s, "netns");
		free(s);
	}
	/* an embedded NUL would silently truncate the name */
	s = dump_with(record_attach_to_json(&a), "netns", json_stringn("/var/run/netns/a\0b", 18));
	expect_attach_rejected(s, NULL);
	free(s);
	/* mtu */
	s = dump_with(record_attach_to_json(&a), "mtu", json_integer(-1));
	expect_attach_rejected(s, "mtu");
	free(s);
	s = dump_with(record_attach_to_json(&a), "mtu", json_integer(65536));
	expect_attach_rejected(s, "mtu");
	free(s);
	s = dump_with(record_attach_to_json(&a), "mtu", json_string("1450"));
	expect_attach_rejected(s, "mtu");
	free(s);
}

static void test_not_json_objects(void **state)
{
	static const char *docs[] = { "", "[]", "null", "\"x\"", "{", "{\"containerId\": \"a\"} x", "1",
	                              "{\"containerId\":\"a\",\"containerId\":\"a\"}" };

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct record_attach a;
		struct record_netconf n;
		struct record_subnet s;
		char err[RECORD_ERRLEN];

		assert_int_equal(record_attach_parse(docs[i], strlen(docs[i]), &a, err), -EBADMSG);
		assert_int_equal(record_netconf_parse(docs[i], strlen(docs[i]), &n, err), -EBADMSG);
		assert_int_equal(record_subnet_parse(docs[i], strlen(docs[i]), &s, err), -EBADMSG);
	}
	/* duplicate keys would let two writers disagree about which one counts */
	struct record_attach a = attach_sample(), b;
	char err[RECORD_ERRLEN], *s = dump(record_attach_to_json(&a)), dup[2048];

	snprintf(dup, sizeof(dup), "%.*s,\"address\":\"10.244.3.8/24\"}", (int)strlen(s) - 1, s);
	assert_int_equal(record_attach_parse(dup, strlen(dup), &b, err), -EBADMSG);
	free(s);
}

/* --- network config --- */

static void test_netconf_round_trip(void **state)
{
	struct record_netconf n = { { IP(10, 244, 0, 0), 16 }, 24, 1, 8472 }, m;
	struct record_netconf cases[] = {
		{ { IP(10, 244, 0, 0), 16 }, 24, 1, 8472 },
		{ { IP(10, 96, 0, 0), 12 }, 26, 4096, 4789 },
		{ { IP(10, 0, 0, 0), 8 }, 30, 16777215, 65535 },
		{ { IP(192, 168, 0, 0), 24 }, 25, 7, 1 },
	};
	char err[RECORD_ERRLEN], *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = dump(record_netconf_to_json(&cases[i]));
		memset(&m, 0x5a, sizeof(m));
		assert_int_equal(record_netconf_parse(s, strlen(s), &m, err), 0);
		assert_int_equal(m.network.addr, cases[i].network.addr);
		assert_int_equal(m.network.len, cases[i].network.len);
		assert_int_equal(m.subnet_len, cases[i].subnet_len);
		assert_int_equal(m.vni, cases[i].vni);
		assert_int_equal(m.port, cases[i].port);
		assert_true(record_netconf_equal(&m, &cases[i]));
		free(s);
	}
	/* vni and port default to 1 and 8472 (records from before they existed) */
	const char *old = "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24}";

	assert_int_equal(record_netconf_parse(old, strlen(old), &m, err), 0);
	assert_true(record_netconf_equal(&m, &n));
}

static void test_netconf_equal(void **state)
{
	struct record_netconf a = { { IP(10, 244, 0, 0), 16 }, 24, 1, 8472 }, b = a;

	assert_true(record_netconf_equal(&a, &b));
	b.network.addr = IP(10, 245, 0, 0);
	assert_false(record_netconf_equal(&a, &b));
	b = a;
	b.network.len = 15;
	assert_false(record_netconf_equal(&a, &b));
	b = a;
	b.subnet_len = 25;
	assert_false(record_netconf_equal(&a, &b));
	b = a;
	b.vni = 2;
	assert_false(record_netconf_equal(&a, &b));
	b = a;
	b.port = 4789;
	assert_false(record_netconf_equal(&a, &b));
}

static void test_netconf_bad(void **state)
{
	static const struct {
		const char *json, *mention;
	} bad[] = {
		{ "{\"subnetLen\": 24}", "network" },
		{ "{\"network\": \"10.244.0.0/16\"}", "subnetLen" },
		{ "{\"network\": \"10.244.0.1/16\", \"subnetLen\": 24}", "network" },
		{ "{\"network\": \"10.244.0.0\", \"subnetLen\": 24}", "network" },
		{ "{\"network\": \"10.244.0.0/33\", \"subnetLen\": 24}", "network" },
		{ "{\"network\": 1, \"subnetLen\": 24}", "network" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 16}", "subnetLen" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 15}", "subnetLen" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 31}", "subnetLen" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": \"24\"}", "subnetLen" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"vni\": 0}", "vni" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"vni\": 16777216}", "vni" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"vni\": \"1\"}", "vni" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"port\": 0}", "port" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"port\": 65536}", "port" },
		{ "{\"network\": \"10.244.0.0/16\", \"subnetLen\": 24, \"port\": -8472}", "port" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct record_netconf n = { { 1, 1 }, 1, 1, 1 };
		char err[RECORD_ERRLEN] = "";

		if (record_netconf_parse(bad[i].json, strlen(bad[i].json), &n, err) != -EBADMSG)
			fail_msg("accepted: %s", bad[i].json);
		if (!strstr(err, bad[i].mention))
			fail_msg("error \"%s\" does not mention %s", err, bad[i].mention);
		assert_int_equal(n.network.addr, 1);
		assert_int_equal(n.subnet_len, 1);
	}
}

/* --- subnet leases --- */

static void test_subnet_round_trip(void **state)
{
	struct record_subnet a, b;
	char err[RECORD_ERRLEN], *s;

	memset(&a, 0, sizeof(a));
	snprintf(a.node, sizeof(a.node), "node-1.example");
	snprintf(a.public_ip, sizeof(a.public_ip), "198.18.0.2");
	snprintf(a.vtep_mac, sizeof(a.vtep_mac), "02:5e:aa:bb:cc:0d");
	a.created = 1700000000;
	s = dump(record_subnet_to_json(&a));
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(record_subnet_parse(s, strlen(s), &b, err), 0);
	assert_string_equal(b.node, a.node);
	assert_string_equal(b.public_ip, a.public_ip);
	assert_string_equal(b.vtep_mac, a.vtep_mac);
	assert_true(b.created == a.created);
	free(s);

	/* a node that has not learnt its underlay address yet */
	a.public_ip[0] = '\0';
	a.vtep_mac[0] = '\0';
	memset(a.node, 'n', 63);
	a.node[63] = '\0';
	s = dump(record_subnet_to_json(&a));
	assert_int_equal(record_subnet_parse(s, strlen(s), &b, err), 0);
	assert_string_equal(b.node, a.node);
	assert_string_equal(b.public_ip, "");
	assert_string_equal(b.vtep_mac, "");
	free(s);

	/* an IPv6 underlay, up to the longest text inet_ntop writes, kept as written */
	static const char *v6[] = { "fd00:5a::2", "2001:db8:0:0:0:0:0:1", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" };

	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		snprintf(a.public_ip, sizeof(a.public_ip), "%s", v6[i]);
		snprintf(a.vtep_mac, sizeof(a.vtep_mac), "02:5e:aa:bb:cc:0d");
		s = dump(record_subnet_to_json(&a));
		memset(&b, 0x5a, sizeof(b));
		assert_int_equal(record_subnet_parse(s, strlen(s), &b, err), 0);
		assert_string_equal(b.public_ip, v6[i]);
		assert_string_equal(b.vtep_mac, a.vtep_mac);
		free(s);
	}

	const char *bare = "{\"node\": \"n1\"}";

	assert_int_equal(record_subnet_parse(bare, strlen(bare), &b, err), 0);
	assert_string_equal(b.node, "n1");
	assert_string_equal(b.public_ip, "");
	assert_true(b.created == 0);
}

static void test_subnet_bad(void **state)
{
	static const struct {
		const char *json, *mention;
	} bad[] = {
		{ "{}", "node" },
		{ "{\"publicIP\": \"198.18.0.2\"}", "node" },
		{ "{\"node\": \"\"}", "node" },
		{ "{\"node\": 1}", "node" },
		{ "{\"node\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "node" },
		{ "{\"node\": \"n1\", \"publicIP\": \"198.18.0\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"198.18.0.256\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"198.18.0.2/24\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"198.018.0.2\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"255.255.255.2555\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": 3323068418}", "publicIP" },
		/* IPv6: no zone, no prefix, no garbage, nothing longer than an address */
		{ "{\"node\": \"n1\", \"publicIP\": \"fd00:5a::zz\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"fe80::1%eth0\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"fd00:5a::2/64\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \":::\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"fd00:5a::1:2:3:4:5:6:7\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"0000:0000:0000:0000:0000:0000:0000:0000:1\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"publicIP\": \"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555\"}", "publicIP" },
		{ "{\"node\": \"n1\", \"vtepMAC\": \"02:5e:aa:bb:cc:0d:ee\"}", "vtepMAC" },
		{ "{\"node\": \"n1\", \"vtepMAC\": 1}", "vtepMAC" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct record_subnet s;
		char err[RECORD_ERRLEN] = "";

		memset(&s, 0x5a, sizeof(s));
		if (record_subnet_parse(bad[i].json, strlen(bad[i].json), &s, err) != -EBADMSG)
			fail_msg("accepted: %s", bad[i].json);
		if (!strstr(err, bad[i].mention))
			fail_msg("error \"%s\" does not mention %s", err, bad[i].mention);
		assert_int_equal((unsigned char)s.node[0], 0x5a);
	}
}

static void test_subnet_vtep_mac_validated(void **state)
{
	/* The VTEP MAC of another node ends up in our FDB and neighbour table: a record from the
	 * store with a malformed one must be rejected like a malformed publicIP is. */
	static const char *bad[] = { "banana", "02:5e:aa:bb:cc", "02:5e:aa:bb:cc:zz", "025eaabbcc0d",
	                             "02-5e-aa-bb-cc-0d", "02:5e:aa:bb:cc:0" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct record_subnet s;
		char err[RECORD_ERRLEN] = "", doc[128];

		snprintf(doc, sizeof(doc), "{\"node\": \"n1\", \"vtepMAC\": \"%s\"}", bad[i]);
		if (record_subnet_parse(doc, strlen(doc), &s, err) != -EBADMSG)
			fail_msg("accepted vtepMAC \"%s\"", bad[i]);
		assert_non_null(strstr(err, "vtepMAC"));
	}
}

/* --- the ifalias identity and subnet.json --- */

static void test_alias_round_trip(void **state)
{
	struct record_attach a = attach_sample(), b;
	char out[RECORD_ALIAS_SIZE], err[RECORD_ERRLEN];
	const uint8_t mac[6] = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 };

	memcpy(a.mac, mac, 6);
	assert_int_equal(record_alias_format(&a, out), 0);
	assert_true(strlen(out) < RECORD_ALIAS_SIZE);
	assert_int_equal(record_alias_parse(out, &b, err), 0);
	assert_string_equal(b.container_id, a.container_id);
	assert_string_equal(b.ifname, a.ifname);
	assert_string_equal(b.network, a.network);
	assert_int_equal(b.addr, a.addr);
	assert_int_equal(b.prefixlen, a.prefixlen);
	assert_memory_equal(b.mac, mac, 6);
	/* A network name that does not fit is left out, the identity is kept. */
	memset(a.network, 'n', 200);
	a.network[200] = '\0';
	memset(a.container_id, 'c', 64);
	a.container_id[64] = '\0';
	assert_int_equal(record_alias_format(&a, out), 0);
	assert_int_equal(record_alias_parse(out, &b, err), 0);
	assert_string_equal(b.container_id, a.container_id);
	assert_string_equal(b.network, "");
	/* An id that does not fit at all gives no alias rather than a wrong identity. */
	memset(a.container_id, 'c', 250);
	a.container_id[250] = '\0';
	assert_int_equal(record_alias_format(&a, out), -ENAMETOOLONG);
}

static void test_alias_refused(void **state)
{
	static const char *const bad[] = {
		"", "shoal", "shoal1", "shoal0 10.244.1.5/24 02:00:00:00:00:01 eth0 c1",
		"shoal1 10.244.1.5 02:00:00:00:00:01 eth0 c1", "shoal1 10.244.1.5/24 02:00:00:00:00 eth0 c1",
		"shoal1 10.244.1.5/24 02:00:00:00:00:01 e/0 c1", "shoal1 10.244.1.5/24 02:00:00:00:00:01 eth0 -c1",
		"shoal1 10.244.1.5/24 02:00:00:00:00:01 eth0", "shoal1 10.244.1.5/24 02:00:00:00:00:01 eth0 c1 n x",
		"a user's own alias",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct record_attach b;
		char err[RECORD_ERRLEN];

		if (record_alias_parse(bad[i], &b, err) != -EBADMSG)
			fail_msg("accepted alias \"%s\"", bad[i]);
	}
}

static void test_attach_collision_names(void **state)
{
	struct record_attach a = attach_sample(), b;
	char err[RECORD_ERRLEN], *s;

	/* A record may name any of the veth names its key may get after a collision... */
	names_host_veth_n(a.container_id, a.ifname, 3, a.host_veth);
	s = dump(record_attach_to_json(&a));
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), 0);
	assert_string_equal(b.host_veth, a.host_veth);
	free(s);
	/* ...but not one beyond them. */
	names_host_veth_n(a.container_id, a.ifname, RECORD_VETH_TRIES, a.host_veth);
	s = dump(record_attach_to_json(&a));
	assert_int_equal(record_attach_parse(s, strlen(s), &b, err), -EBADMSG);
	free(s);
}

static void test_cgroup_record(void **state)
{
	struct record_cgroup a = { .id = 4242, .minor = 0x100, .created = 17, .bandwidth.priority = 2 }, b;
	char err[RECORD_ERRLEN], *s;
	const char *why;
	json_t *j;
	static const char *const bad[] = {
		"{\"path\": \"\", \"id\": 1, \"minor\": 300}",
		"{\"path\": \"/a\", \"id\": 1, \"minor\": 300}",
		"{\"path\": \"a/../b\", \"id\": 1, \"minor\": 300}",
		"{\"path\": \"a/\", \"id\": 1, \"minor\": 300}",
		"{\"path\": \"a\", \"id\": 0, \"minor\": 300}",
		"{\"path\": \"a\", \"id\": 1, \"minor\": 0}",
		"{\"path\": \"a\", \"id\": 1, \"minor\": 65535}",
		"{\"path\": \"a\", \"id\": \"1\", \"minor\": 300}",
		"{\"path\": \"a\", \"id\": 1, \"minor\": 300, \"bandwidth\": {\"priority\": 9}}",
		"[1]",
	};

	(void)state;
	snprintf(a.path, sizeof(a.path), "system.slice/backup.service");
	a.bandwidth.egress.limit = 50000000;
	j = record_cgroup_to_json(&a);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_int_equal(record_cgroup_parse(s, strlen(s), &b, err), 0);
	free(s);
	assert_string_equal(b.path, a.path);
	assert_true(b.id == a.id && b.minor == a.minor && b.created == a.created);
	assert_memory_equal(&a.bandwidth, &b.bandwidth, sizeof(a.bandwidth));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(record_cgroup_parse(bad[i], strlen(bad[i]), &b, err), -EBADMSG);
		assert_true(err[0] != '\0');
	}
	assert_true(record_cgroup_path_valid("a/b.c/d", &why));
	assert_false(record_cgroup_path_valid("a/./d", &why));
	assert_false(record_cgroup_path_valid("a\nb", &why));
}

static void test_node_subnet(void **state)
{
	struct record_node_subnet a = { .subnet = { .addr = IP(10, 244, 3, 0), .len = 24 } }, b;
	char err[RECORD_ERRLEN], *s;

	snprintf(a.node, sizeof(a.node), "n1");
	s = dump(record_node_subnet_to_json(&a));
	assert_int_equal(record_node_subnet_parse(s, strlen(s), &b, err), 0);
	assert_int_equal(b.subnet.addr, a.subnet.addr);
	assert_int_equal(b.subnet.len, 24);
	assert_string_equal(b.node, "n1");
	assert_int_equal(b.mtu, 0);
	free(s);
	/* the MTU the node's pods got survives a restart */
	a.mtu = 1450;
	s = dump(record_node_subnet_to_json(&a));
	assert_int_equal(record_node_subnet_parse(s, strlen(s), &b, err), 0);
	assert_int_equal(b.mtu, 1450);
	free(s);
	assert_int_equal(record_node_subnet_parse("{\"subnet\":\"10.244.3.0/24\",\"mtu\":100}", 37, &b, err), -EBADMSG);
	assert_int_equal(record_node_subnet_parse("{\"subnet\":\"10.244.3.1/24\"}", 25, &b, err), -EBADMSG);
	assert_int_equal(record_node_subnet_parse("{}", 2, &b, err), -EBADMSG);
	assert_int_equal(record_node_subnet_parse("garbage", 7, &b, err), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_round_trip),
		cmocka_unit_test(test_attach_optional_keys),
		cmocka_unit_test(test_attach_bandwidth),
		cmocka_unit_test(test_attach_host_veth_must_match),
		cmocka_unit_test(test_attach_bad_address),
		cmocka_unit_test(test_attach_missing_and_bad_keys),
		cmocka_unit_test(test_not_json_objects),
		cmocka_unit_test(test_netconf_round_trip),
		cmocka_unit_test(test_netconf_equal),
		cmocka_unit_test(test_netconf_bad),
		cmocka_unit_test(test_subnet_round_trip),
		cmocka_unit_test(test_subnet_bad),
		cmocka_unit_test(test_subnet_vtep_mac_validated),
		cmocka_unit_test(test_alias_round_trip),
		cmocka_unit_test(test_alias_refused),
		cmocka_unit_test(test_attach_collision_names),
		cmocka_unit_test(test_node_subnet),
		cmocka_unit_test(test_cgroup_record),
	};

	return cmocka_run_group_tests_name("records", tests, NULL, NULL);
}
