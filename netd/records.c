#include "netd/records.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint8_t zero_mac[6];

static void mac_format(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int mac_parse(const char *s, uint8_t ret[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &n) != 6 ||
	    n != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)v[i];
	return 0;
}

json_t *record_attach_to_json(const struct record_attach *a)
{
	char addr[CIDR4_STRLEN], mac[18];
	struct cidr4 c = { .addr = a->addr, .len = a->prefixlen };
	json_t *j;

	mac_format(a->mac, mac);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "containerId", a->container_id, "ifname",
	              a->ifname, "hostVeth", a->host_veth, "netns", a->netns, "network", a->network, "address",
	              cidr4_format(&c, addr), "mtu", (json_int_t)a->mtu, "created", (json_int_t)a->created);
	if (j && memcmp(a->mac, zero_mac, 6) != 0)
		json_object_set_new(j, "mac", json_string(mac));
	if (j && !a->default_route)
		json_object_set_new(j, "defaultRoute", json_false());
	if (j && a->pod_namespace[0])
		json_object_set_new(j, "podNamespace", json_string(a->pod_namespace));
	if (j && a->pod_name[0])
		json_object_set_new(j, "podName", json_string(a->pod_name));
	if (j && a->pod_uid[0])
		json_object_set_new(j, "podUID", json_string(a->pod_uid));
	if (j && request_bandwidth_set(&a->bandwidth))
		json_object_set_new(j, "bandwidth", request_bandwidth_encode(&a->bandwidth));
	return j;
}

/* hostVeth must be one of the names (container id, ifname) may get. */
static bool veth_name_matches(const struct record_attach *a)
{
	char veth[IFNAME_SIZE];

	for (unsigned n = 0; n < RECORD_VETH_TRIES; n++) {
		names_host_veth_n(a->container_id, a->ifname, n, veth);
		if (strcmp(veth, a->host_veth) == 0)
			return true;
	}
	return false;
}

static int copy_str(json_t *obj, const char *key, bool required, char *dst, size_t size, char err[RECORD_ERRLEN])
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (!required)
			return 0;
		snprintf(err, RECORD_ERRLEN, "missing \"%s\"", key);
		return -EBADMSG;
	}
	if (!json_is_string(v) || json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, RECORD_ERRLEN, "\"%s\" must be a string of at most %zu bytes", key, size - 1);
		return -EBADMSG;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static json_t *load_object(const char *data, size_t len, char err[RECORD_ERRLEN])
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		snprintf(err, RECORD_ERRLEN, "not JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, RECORD_ERRLEN, "not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

int record_attach_parse(const char *data, size_t len, struct record_attach *ret, char err[RECORD_ERRLEN])
{
	struct record_attach a = { .default_route = true, .bandwidth.priority = -1 };
	struct request_error rerr;
	char addr[CIDR4_STRLEN + 1], mac[18] = "";
	struct cidr4 c;
	json_t *root, *v;
	int r;

	root = load_object(data, len, err);
	if (!root)
		return -EBADMSG;
	if ((r = copy_str(root, "containerId", true, a.container_id, sizeof(a.container_id), err)) < 0 ||
	    (r = copy_str(root, "ifname", true, a.ifname, sizeof(a.ifname), err)) < 0 ||
	    (r = copy_str(root, "hostVeth", true, a.host_veth, sizeof(a.host_veth), err)) < 0 ||
	    (r = copy_str(root, "netns", false, a.netns, sizeof(a.netns), err)) < 0 ||
	    (r = copy_str(root, "network", false, a.network, sizeof(a.network), err)) < 0 ||
	    (r = copy_str(root, "address", true, addr, sizeof(addr), err)) < 0 ||
	    (r = copy_str(root, "mac", false, mac, sizeof(mac), err)) < 0 ||
	    (r = copy_str(root, "podNamespace", false, a.pod_namespace, sizeof(a.pod_namespace), err)) < 0 ||
	    (r = copy_str(root, "podName", false, a.pod_name, sizeof(a.pod_name), err)) < 0 ||
	    (r = copy_str(root, "podUID", false, a.pod_uid, sizeof(a.pod_uid), err)) < 0)
		goto out;
	r = -EBADMSG;
	if (names_container_id_valid(a.container_id) < 0 || names_ifname_valid(a.ifname) < 0) {
		snprintf(err, RECORD_ERRLEN, "invalid containerId or ifname");
		goto out;
	}
	if (mac[0] && mac_parse(mac, a.mac) < 0) {
		snprintf(err, RECORD_ERRLEN, "\"mac\" \"%s\" is not a MAC address", mac);
		goto out;
	}
	v = json_object_get(root, "defaultRoute");
	if (v && !json_is_boolean(v)) {
		snprintf(err, RECORD_ERRLEN, "\"defaultRoute\" must be a boolean");
		goto out;
	}
	a.default_route = !v || json_is_true(v);
	/* The name is derived; a record that disagrees was not written by us. */
	if (!veth_name_matches(&a)) {
		snprintf(err, RECORD_ERRLEN, "hostVeth \"%s\" does not match (containerId, ifname)", a.host_veth);
		goto out;
	}
	if (cidr4_parse(addr, &c) < 0 || c.len > 30 || c.len < 8) {
		snprintf(err, RECORD_ERRLEN, "\"address\" \"%s\" is not an IPv4 address with prefix", addr);
		goto out;
	}
	a.addr = c.addr;
	a.prefixlen = c.len;
	v = json_object_get(root, "mtu");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)) {
		snprintf(err, RECORD_ERRLEN, "\"mtu\" must be an integer 0..65535");
		goto out;
	}
	a.mtu = v ? (uint32_t)json_integer_value(v) : 0;
	if (request_bandwidth_decode(json_object_get(root, "bandwidth"), &a.bandwidth, &rerr) < 0) {
		snprintf(err, RECORD_ERRLEN, "%s", rerr.details);
		goto out;
	}
	v = json_object_get(root, "created");
	a.created = json_is_integer(v) ? json_integer_value(v) : 0;
	*ret = a;
	r = 0;
out:
	json_decref(root);
	return r;
}

json_t *record_netconf_to_json(const struct record_netconf *n)
{
	char net[CIDR4_STRLEN];

	return json_pack("{s:s, s:i, s:I, s:i}", "network", cidr4_format(&n->network, net), "subnetLen",
	                 (int)n->subnet_len, "vni", (json_int_t)n->vni, "port", (int)n->port);
}

int record_netconf_parse(const char *data, size_t len, struct record_netconf *ret, char err[RECORD_ERRLEN])
{
	struct record_netconf n = { 0 };
	char net[CIDR4_STRLEN + 1];
	json_t *root, *v;
	int r;

	root = load_object(data, len, err);
	if (!root)
		return -EBADMSG;
	r = copy_str(root, "network", true, net, sizeof(net), err);
	if (r < 0)
		goto out;
	r = -EBADMSG;
	if (cidr4_parse_prefix(net, &n.network) < 0) {
		snprintf(err, RECORD_ERRLEN, "\"network\" \"%s\" is not an IPv4 prefix", net);
		goto out;
	}
	v = json_object_get(root, "subnetLen");
	if (!json_is_integer(v) || json_integer_value(v) <= n.network.len || json_integer_value(v) > 30) {
		snprintf(err, RECORD_ERRLEN, "\"subnetLen\" must be an integer longer than the network and at most 30");
		goto out;
	}
	n.subnet_len = (uint8_t)json_integer_value(v);
	v = json_object_get(root, "vni");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 16777215)) {
		snprintf(err, RECORD_ERRLEN, "\"vni\" must be an integer 1..16777215");
		goto out;
	}
	n.vni = v ? (uint32_t)json_integer_value(v) : 1;
	v = json_object_get(root, "port");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)) {
		snprintf(err, RECORD_ERRLEN, "\"port\" must be an integer 1..65535");
		goto out;
	}
	n.port = v ? (uint16_t)json_integer_value(v) : 8472;
	*ret = n;
	r = 0;
out:
	json_decref(root);
	return r;
}

bool record_netconf_equal(const struct record_netconf *a, const struct record_netconf *b)
{
	return a->network.addr == b->network.addr && a->network.len == b->network.len &&
	       a->subnet_len == b->subnet_len && a->vni == b->vni && a->port == b->port;
}

static bool mac_valid(const char *s)
{
	/* Exactly six two-digit hex octets separated by ':'. */
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		char c = s[i];

		if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

json_t *record_subnet_to_json(const struct record_subnet *s)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "node", s->node, "publicIP", s->public_ip, "vtepMAC", s->vtep_mac,
	                 "created", (json_int_t)s->created);
}

int record_subnet_parse(const char *data, size_t len, struct record_subnet *ret, char err[RECORD_ERRLEN])
{
	struct record_subnet s = { 0 };
	uint8_t ip6[16];
	json_t *root, *v;
	uint32_t ip;
	int r;

	root = load_object(data, len, err);
	if (!root)
		return -EBADMSG;
	if ((r = copy_str(root, "node", true, s.node, sizeof(s.node), err)) < 0 ||
	    (r = copy_str(root, "publicIP", false, s.public_ip, sizeof(s.public_ip), err)) < 0 ||
	    (r = copy_str(root, "vtepMAC", false, s.vtep_mac, sizeof(s.vtep_mac), err)) < 0)
		goto out;
	r = -EBADMSG;
	if (!s.node[0]) {
		snprintf(err, RECORD_ERRLEN, "\"node\" is empty");
		goto out;
	}
	/* Either family: the underlay may be IPv6 (the cluster network inside stays IPv4).  inet_pton
	 * takes no zone ("%eth0") and no prefix.  lib/ipaddr.c parses it the same way; not used here
	 * because this parser is fuzzed on its own (tests/fuzz/fuzz_records.c links what it names). */
	if (s.public_ip[0] && ip4_parse(s.public_ip, &ip) < 0 && inet_pton(AF_INET6, s.public_ip, ip6) != 1) {
		snprintf(err, RECORD_ERRLEN, "\"publicIP\" \"%s\" is not an IPv4 or IPv6 address", s.public_ip);
		goto out;
	}
	if (s.vtep_mac[0] && !mac_valid(s.vtep_mac)) {
		snprintf(err, RECORD_ERRLEN, "\"vtepMAC\" \"%s\" is not a MAC address like 02:00:5e:10:00:01", s.vtep_mac);
		goto out;
	}
	v = json_object_get(root, "created");
	s.created = json_is_integer(v) ? json_integer_value(v) : 0;
	*ret = s;
	r = 0;
out:
	json_decref(root);
	return r;
}

int record_alias_format(const struct record_attach *a, char out[RECORD_ALIAS_SIZE])
{
	char addr[CIDR4_STRLEN], mac[18];
	struct cidr4 c = { .addr = a->addr, .len = a->prefixlen };
	int n;

	mac_format(a->mac, mac);
	cidr4_format(&c, addr);
	n = snprintf(out, RECORD_ALIAS_SIZE, "shoal1 %s %s %s %s %s", addr, mac, a->ifname, a->container_id, a->network);
	if (n >= 0 && n < RECORD_ALIAS_SIZE)
		return 0;
	n = snprintf(out, RECORD_ALIAS_SIZE, "shoal1 %s %s %s %s", addr, mac, a->ifname, a->container_id);
	if (n >= 0 && n < RECORD_ALIAS_SIZE)
		return 0;
	out[0] = '\0';
	return -ENAMETOOLONG;
}

int record_alias_parse(const char *alias, struct record_attach *ret, char err[RECORD_ERRLEN])
{
	struct record_attach a = { .default_route = true, .bandwidth.priority = -1 };
	char buf[RECORD_ALIAS_SIZE], *save = NULL, *f[7];
	struct cidr4 c;
	int n = 0;

	if (!alias || strlen(alias) >= sizeof(buf) || strncmp(alias, "shoal1 ", 7) != 0) {
		snprintf(err, RECORD_ERRLEN, "not a shoal attachment alias");
		return -EBADMSG;
	}
	snprintf(buf, sizeof(buf), "%s", alias);
	for (char *t = strtok_r(buf, " ", &save); t && n < 7; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 5 || n > 6) {
		snprintf(err, RECORD_ERRLEN, "alias has %d fields, want 5 or 6", n);
		return -EBADMSG;
	}
	if (cidr4_parse(f[1], &c) < 0 || c.len < 8 || c.len > 30 || mac_parse(f[2], a.mac) < 0 ||
	    names_ifname_valid(f[3]) < 0 || names_container_id_valid(f[4]) < 0 ||
	    (n == 6 && strlen(f[5]) >= sizeof(a.network))) {
		snprintf(err, RECORD_ERRLEN, "alias \"%s\" has an invalid field", alias);
		return -EBADMSG;
	}
	a.addr = c.addr;
	a.prefixlen = c.len;
	snprintf(a.ifname, sizeof(a.ifname), "%s", f[3]);
	snprintf(a.container_id, sizeof(a.container_id), "%s", f[4]);
	if (n == 6)
		snprintf(a.network, sizeof(a.network), "%s", f[5]);
	*ret = a;
	return 0;
}

json_t *record_node_subnet_to_json(const struct record_node_subnet *s)
{
	char sub[CIDR4_STRLEN];

	json_t *j = json_pack("{s:s, s:s}", "subnet", cidr4_format(&s->subnet, sub), "node", s->node);

	if (j && s->mtu)
		json_object_set_new(j, "mtu", json_integer(s->mtu));
	return j;
}

int record_node_subnet_parse(const char *data, size_t len, struct record_node_subnet *ret, char err[RECORD_ERRLEN])
{
	struct record_node_subnet s = { 0 };
	char sub[CIDR4_STRLEN + 1];
	json_t *root, *v;
	int r;

	root = load_object(data, len, err);
	if (!root)
		return -EBADMSG;
	if ((r = copy_str(root, "subnet", true, sub, sizeof(sub), err)) < 0 ||
	    (r = copy_str(root, "node", false, s.node, sizeof(s.node), err)) < 0)
		goto out;
	r = -EBADMSG;
	if (cidr4_parse_prefix(sub, &s.subnet) < 0) {
		snprintf(err, RECORD_ERRLEN, "\"subnet\" \"%s\" is not an IPv4 prefix", sub);
		goto out;
	}
	v = json_object_get(root, "mtu");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 576 || json_integer_value(v) > 65535)) {
		snprintf(err, RECORD_ERRLEN, "\"mtu\" must be an integer 576..65535");
		goto out;
	}
	s.mtu = v ? (uint32_t)json_integer_value(v) : 0;
	*ret = s;
	r = 0;
out:
	json_decref(root);
	return r;
}

/* ---- cgroups ---- */

bool record_cgroup_path_valid(const char *path, const char **why)
{
	const char *p = path;

	if (!path[0]) {
		*why = "the cgroup v2 root itself cannot have a quota";
		return false;
	}
	if (strlen(path) >= RECORD_CGROUP_PATH_SIZE) {
		*why = "too long";
		return false;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			*why = "not a normalised path (an empty, \".\" or \"..\" component)";
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				*why = "a control character";
				return false;
			}
		p += n;
		if (*p == '/' && !*++p) {
			*why = "a trailing '/'";
			return false;
		}
	}
	return true;
}

json_t *record_cgroup_to_json(const struct record_cgroup *c)
{
	json_t *j = json_pack("{s:s, s:I, s:i, s:I}", "path", c->path, "id", (json_int_t)c->id, "minor", (int)c->minor,
	                      "created", (json_int_t)c->created);

	if (j && request_bandwidth_set(&c->bandwidth))
		json_object_set_new(j, "bandwidth", request_bandwidth_encode(&c->bandwidth));
	return j;
}

int record_cgroup_parse(const char *data, size_t len, struct record_cgroup *ret, char err[RECORD_ERRLEN])
{
	struct record_cgroup c = { .bandwidth.priority = -1 };
	struct request_error rerr;
	const char *why;
	json_t *root, *v;
	int r;

	root = load_object(data, len, err);
	if (!root)
		return -EBADMSG;
	if ((r = copy_str(root, "path", true, c.path, sizeof(c.path), err)) < 0)
		goto out;
	r = -EBADMSG;
	if (!record_cgroup_path_valid(c.path, &why)) {
		snprintf(err, RECORD_ERRLEN, "\"path\": %s", why);
		goto out;
	}
	v = json_object_get(root, "id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, RECORD_ERRLEN, "\"id\" must be a positive integer");
		goto out;
	}
	c.id = (uint64_t)json_integer_value(v);
	v = json_object_get(root, "minor");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 0xfffe) {
		snprintf(err, RECORD_ERRLEN, "\"minor\" must be an integer 1..65534");
		goto out;
	}
	c.minor = (uint16_t)json_integer_value(v);
	v = json_object_get(root, "created");
	if (v && !json_is_integer(v)) {
		snprintf(err, RECORD_ERRLEN, "\"created\" must be an integer");
		goto out;
	}
	c.created = v ? json_integer_value(v) : 0;
	if (request_bandwidth_decode(json_object_get(root, "bandwidth"), &c.bandwidth, &rerr) < 0) {
		snprintf(err, RECORD_ERRLEN, "%s", rerr.details);
		goto out;
	}
	*ret = c;
	r = 0;
out:
	json_decref(root);
	return r;
}
