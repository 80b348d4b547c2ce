#include "netd/config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <grp.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/names.h"
#include "tc/htb.h"
#include "tc/quota.h"

void config_init(struct netd_config *c)
{
	memset(c, 0, sizeof(*c));
	if (gethostname(c->node, sizeof(c->node) - 1) < 0 || !c->node[0])
		snprintf(c->node, sizeof(c->node), "localhost");
	snprintf(c->store, sizeof(c->store), "file:/var/lib/shoal/store");
	snprintf(c->store_prefix, sizeof(c->store_prefix), "/shoal/");
	cidr4_parse_prefix("10.244.0.0/16", &c->network);
	c->subnet_len = 24;
	snprintf(c->bridge, sizeof(c->bridge), "shoal0");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/shoal");
	snprintf(c->socket, sizeof(c->socket), "/run/shoal/shoald.sock");
	c->lease_ttl = 600;
	c->reconcile_interval = 30;
	c->vni = 1;
	c->vxlan_port = 8472;   /* the Linux kernel's VXLAN port, as flannel uses */
	c->masquerade = true;
	c->antispoof = true;
	c->log_level = LOG_LVL_INFO;
	c->bandwidth.default_guarantee = QUOTA_DEFAULT_GUARANTEE;
	c->bandwidth.default_priority = CONFIG_BW_DEFAULT_PRIORITY;
	c->bandwidth.exempt_local = true;
}

static int get_string(json_t *v, const char *key, char *dst, size_t size, char err[CONFIG_ERRLEN])
{
	const char *s;

	if (!json_is_string(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be a string", key);
		return -EINVAL;
	}
	s = json_string_value(v);
	if (strlen(s) >= size || strlen(s) != json_string_length(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be a string of at most %zu bytes without NUL", key,
		         size - 1);
		return -EINVAL;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_int(json_t *v, const char *key, int64_t min, int64_t max, int64_t *ret, char err[CONFIG_ERRLEN])
{
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be an integer from %lld to %lld", key, (long long)min,
		         (long long)max);
		return -EINVAL;
	}
	*ret = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *v, const char *key, bool *ret, char err[CONFIG_ERRLEN])
{
	if (!json_is_boolean(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be true or false", key);
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 0;
}

static int get_rate(json_t *v, const char *key, uint64_t *ret, char err[CONFIG_ERRLEN])
{
	char buf[QUOTA_RATE_STRLEN * 2];
	int r;

	if (!json_is_string(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be a rate in a string, like \"1gbit\" or \"500mbit\"", key);
		return -EINVAL;
	}
	r = get_string(v, key, buf, sizeof(buf), err);
	if (r < 0)
		return r;
	r = quota_parse_rate(buf, ret);
	if (r == -ERANGE) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": \"%s\" is too large", key, buf);
		r = -EINVAL;
	} else if (r < 0)
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": \"%s\" is not a rate like \"1gbit\", \"500mbit\" or "
		         "\"10mbps\" (bytes)", key, buf);
	else if (*ret == 0) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": must be more than 0", key);
		r = -EINVAL;
	}
	return r;
}

/* "bandwidth": {"ingress": RATE, "egress": RATE, "defaultGuarantee": RATE, "defaultPriority": 0..7,
 * "exemptLocal": bool, "uplink": IFNAME}; ingress and egress are required, null is "no shaping". */
static int get_bandwidth(json_t *v, struct netd_bandwidth *ret, char err[CONFIG_ERRLEN])
{
	struct netd_bandwidth b = *ret;
	const char *k;
	json_t *e;
	int r = 0;

	if (json_is_null(v)) {
		ret->set = false;
		return 0;
	}
	if (!json_is_object(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"bandwidth\": must be an object like {\"ingress\": \"1gbit\", "
		         "\"egress\": \"1gbit\"} or null");
		return -EINVAL;
	}
	b.ingress = b.egress = 0;
	json_object_foreach(v, k, e) {
		int64_t i;

		if (strcmp(k, "ingress") == 0)
			r = get_rate(e, "bandwidth.ingress", &b.ingress, err);
		else if (strcmp(k, "egress") == 0)
			r = get_rate(e, "bandwidth.egress", &b.egress, err);
		else if (strcmp(k, "defaultGuarantee") == 0)
			r = get_rate(e, "bandwidth.defaultGuarantee", &b.default_guarantee, err);
		else if (strcmp(k, "defaultPriority") == 0) {
			r = get_int(e, "bandwidth.defaultPriority", 0, HTB_PRIO_MAX, &i, err);
			b.default_priority = (int)i;
		} else if (strcmp(k, "exemptLocal") == 0)
			r = get_bool(e, "bandwidth.exemptLocal", &b.exempt_local, err);
		else if (strcmp(k, "uplink") == 0) {
			r = get_string(e, "bandwidth.uplink", b.uplink, sizeof(b.uplink), err);
			if (r == 0 && b.uplink[0] && names_ifname_valid(b.uplink) < 0) {
				snprintf(err, CONFIG_ERRLEN, "key \"bandwidth.uplink\": \"%s\" is not an interface name", b.uplink);
				r = -EINVAL;
			}
		} else {
			snprintf(err, CONFIG_ERRLEN, "unknown key \"bandwidth.%s\" (ingress, egress, defaultGuarantee, "
			         "defaultPriority, exemptLocal, uplink)", k);
			r = -EINVAL;
		}
		if (r < 0)
			return r;
	}
	if (!b.ingress || !b.egress) {
		snprintf(err, CONFIG_ERRLEN, "key \"bandwidth\": needs both \"ingress\" and \"egress\" (the host's "
		         "capacity in each direction)");
		return -EINVAL;
	}
	b.set = true;
	*ret = b;
	return 0;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *p;
	unsigned long port = 0;
	size_t hlen;

	colon = strrchr(s, ':');
	if (!colon || !colon[1] || strlen(colon + 1) > 5)
		return -EINVAL;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (hlen == 0 || strcmp(host, "[::]") == 0) {
		/* Every address: the IPv6 wildcard, which the HTTP server makes dual-stack. */
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	} else if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		if (hlen < 3 || host[hlen - 1] != ']')
			return -EINVAL;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	}
	*ret = ss;
	return 0;
}

/* "metrics": {"listen": "ADDRESS:PORT"} or null (no HTTP server). */
static int get_metrics(json_t *v, struct netd_metrics *ret, char err[CONFIG_ERRLEN])
{
	struct netd_metrics mt = { { 0 } };
	const char *k;
	json_t *e;
	int r;

	if (json_is_null(v)) {
		*ret = mt;
		return 0;
	}
	if (!json_is_object(v)) {
		snprintf(err, CONFIG_ERRLEN, "key \"metrics\": must be an object like {\"listen\": \"127.0.0.1:9253\"} "
		         "or null");
		return -EINVAL;
	}
	json_object_foreach(v, k, e) {
		if (strcmp(k, "listen") != 0) {
			snprintf(err, CONFIG_ERRLEN, "unknown key \"metrics.%s\" (listen)", k);
			return -EINVAL;
		}
		r = get_string(e, "metrics.listen", mt.listen, sizeof(mt.listen), err);
		if (r < 0)
			return r;
		if (!mt.listen[0]) {
			snprintf(err, CONFIG_ERRLEN, "key \"metrics.listen\": must be ADDRESS:PORT, like \"127.0.0.1:9253\" "
			         "(\"metrics\": null turns the HTTP server off)");
			return -EINVAL;
		}
	}
	if (!mt.listen[0]) {
		snprintf(err, CONFIG_ERRLEN, "key \"metrics\": needs \"listen\" (like \"127.0.0.1:9253\"); null turns "
		         "the HTTP server off");
		return -EINVAL;
	}
	*ret = mt;
	return 0;
}

int config_parse(struct netd_config *c, const char *json, size_t len, char err[CONFIG_ERRLEN])
{
	struct netd_config n = *c;
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	int r = 0;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, CONFIG_ERRLEN, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, CONFIG_ERRLEN, "the configuration must be a JSON object");
		r = -EINVAL;
		goto out;
	}
	json_object_foreach(root, key, v) {
		int64_t i = 0;
		char buf[64];

		/* Unknown keys are refused below; n is dropped on any error. */
		(void)config_mark_set(&n, key);
		if (strcmp(key, "node") == 0)
			r = get_string(v, key, n.node, sizeof(n.node), err);
		else if (strcmp(key, "store") == 0)
			r = get_string(v, key, n.store, sizeof(n.store), err);
		else if (strcmp(key, "storePrefix") == 0)
			r = get_string(v, key, n.store_prefix, sizeof(n.store_prefix), err);
		else if (strcmp(key, "network") == 0) {
			r = get_string(v, key, buf, sizeof(buf), err);
			if (r == 0 && cidr4_parse_prefix(buf, &n.network) < 0) {
				snprintf(err, CONFIG_ERRLEN, "key \"network\": \"%s\" is not an IPv4 prefix like 10.244.0.0/16 "
				         "(host bits must be zero)", buf);
				r = -EINVAL;
			}
		} else if (strcmp(key, "subnetLen") == 0) {
			r = get_int(v, key, 8, 30, &i, err);
			n.subnet_len = (uint8_t)i;
		} else if (strcmp(key, "bridge") == 0)
			r = get_string(v, key, n.bridge, sizeof(n.bridge), err);
		else if (strcmp(key, "underlay") == 0)
			r = get_string(v, key, n.underlay, sizeof(n.underlay), err);
		else if (strcmp(key, "directRouting") == 0)
			r = get_bool(v, key, &n.direct_routing, err);
		else if (strcmp(key, "vni") == 0) {
			r = get_int(v, key, 1, 16777215, &i, err);
			n.vni = (uint32_t)i;
		} else if (strcmp(key, "vxlanPort") == 0) {
			r = get_int(v, key, 1, 65535, &i, err);
			n.vxlan_port = (uint16_t)i;
		} else if (strcmp(key, "storeCA") == 0)
			r = get_string(v, key, n.store_ca, sizeof(n.store_ca), err);
		else if (strcmp(key, "storeCert") == 0)
			r = get_string(v, key, n.store_cert, sizeof(n.store_cert), err);
		else if (strcmp(key, "storeKey") == 0)
			r = get_string(v, key, n.store_key, sizeof(n.store_key), err);
		else if (strcmp(key, "mtu") == 0) {
			i = 0;
			if (!json_is_integer(v) || (json_integer_value(v) != 0 &&
			    (json_integer_value(v) < 576 || json_integer_value(v) > 65535))) {
				snprintf(err, CONFIG_ERRLEN, "key \"mtu\": must be 0 (auto) or an integer from 576 to 65535");
				r = -EINVAL;
			} else
				n.mtu = (uint32_t)json_integer_value(v);
		} else if (strcmp(key, "stateDir") == 0)
			r = get_string(v, key, n.state_dir, sizeof(n.state_dir), err);
		else if (strcmp(key, "socket") == 0)
			r = get_string(v, key, n.socket, sizeof(n.socket), err);
		else if (strcmp(key, "socketGroup") == 0)
			r = get_string(v, key, n.socket_group, sizeof(n.socket_group), err);
		else if (strcmp(key, "leaseTTL") == 0)
			r = get_int(v, key, 10, 86400 * 7, &n.lease_ttl, err);
		else if (strcmp(key, "reconcileInterval") == 0)
			r = get_int(v, key, 1, 3600, &n.reconcile_interval, err);
		else if (strcmp(key, "masquerade") == 0)
			r = get_bool(v, key, &n.masquerade, err);
		else if (strcmp(key, "antiSpoofing") == 0)
			r = get_bool(v, key, &n.antispoof, err);
		else if (strcmp(key, "forwardAccept") == 0)
			r = get_bool(v, key, &n.forward_accept, err);
		else if (strcmp(key, "bandwidth") == 0)
			r = get_bandwidth(v, &n.bandwidth, err);
		else if (strcmp(key, "metrics") == 0)
			r = get_metrics(v, &n.metrics, err);
		else if (strcmp(key, "logLevel") == 0) {
			r = get_string(v, key, buf, sizeof(buf), err);
			if (r == 0 && (n.log_level = log_level_parse(buf)) < 0) {
				snprintf(err, CONFIG_ERRLEN, "key \"logLevel\": \"%s\" is not one of error, warning, info, debug", buf);
				r = -EINVAL;
			}
		} else {
			snprintf(err, CONFIG_ERRLEN, "unknown key \"%s\"", key);
			r = -EINVAL;
		}
		if (r < 0)
			goto out;
	}
	r = config_validate(&n, err);
	if (r == 0)
		*c = n;
out:
	json_decref(root);
	return r;
}

int config_load(struct netd_config *c, const char *path, char err[CONFIG_ERRLEN])
{
	char *data = NULL;
	size_t len;
	char inner[CONFIG_ERRLEN];
	int r;

	r = file_read_all(path, 1 << 20, &data, &len);
	if (r < 0) {
		snprintf(err, CONFIG_ERRLEN, "%s: %s", path, strerror(-r));
		return r;
	}
	r = config_parse(c, data, len, inner);
	if (r < 0)
		snprintf(err, CONFIG_ERRLEN, "%s: %s", path, inner);
	else
		snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	free(data);
	return r;
}

static bool node_name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '.' || *s == '_'))
			return false;
	return true;
}

int config_validate(const struct netd_config *c, char err[CONFIG_ERRLEN])
{
	if (!node_name_valid(c->node)) {
		snprintf(err, CONFIG_ERRLEN, "key \"node\": \"%s\" must be non-empty and use only letters, digits, "
		         "'-', '.', '_'", c->node);
		return -EINVAL;
	}
	if (strncmp(c->store, "file:/", 6) != 0 && strncmp(c->store, "etcd://", 7) != 0 &&
	    strncmp(c->store, "etcds://", 8) != 0) {
		snprintf(err, CONFIG_ERRLEN, "key \"store\": \"%s\" must be file:/ABSOLUTE/DIR, etcd://HOST:PORT[,HOST:PORT...] "
		         "or etcds://HOST:PORT[,...]", c->store);
		return -EINVAL;
	}
	if (!c->store_cert[0] != !c->store_key[0]) {
		snprintf(err, CONFIG_ERRLEN, "keys \"storeCert\" and \"storeKey\" go together: set both or neither");
		return -EINVAL;
	}
	if ((c->store_ca[0] || c->store_cert[0]) && strncmp(c->store, "etcds://", 8) != 0) {
		snprintf(err, CONFIG_ERRLEN, "keys \"storeCA\", \"storeCert\", \"storeKey\" need an etcds:// store");
		return -EINVAL;
	}
	if (c->store_prefix[0] != '/') {
		snprintf(err, CONFIG_ERRLEN, "key \"storePrefix\": \"%s\" must start with /", c->store_prefix);
		return -EINVAL;
	}
	if (c->subnet_len <= c->network.len) {
		snprintf(err, CONFIG_ERRLEN, "key \"subnetLen\": /%u must be longer than the network's /%u",
		         c->subnet_len, c->network.len);
		return -EINVAL;
	}
	if (c->network.len < 8) {
		snprintf(err, CONFIG_ERRLEN, "key \"network\": /%u is too large a network (at most /8)", c->network.len);
		return -EINVAL;
	}
	if (names_ifname_valid(c->bridge) < 0) {
		snprintf(err, CONFIG_ERRLEN, "key \"bridge\": \"%s\" is not a valid interface name", c->bridge);
		return -EINVAL;
	}
	if (c->state_dir[0] != '/') {
		snprintf(err, CONFIG_ERRLEN, "key \"stateDir\": \"%s\" must be an absolute path", c->state_dir);
		return -EINVAL;
	}
	if (c->bandwidth.set) {
		const struct netd_bandwidth *b = &c->bandwidth;
		char d[QUOTA_RATE_STRLEN];

		/* A workload's class minor is its address's offset in the subnet (docs/bandwidth.md). */
		if (c->subnet_len < 16) {
			snprintf(err, CONFIG_ERRLEN, "key \"bandwidth\": needs \"subnetLen\" of 16 or more (it is %u)",
			         c->subnet_len);
			return -EINVAL;
		}
		if (b->default_guarantee > b->ingress || b->default_guarantee > b->egress) {
			quota_format_rate(b->default_guarantee, d);
			snprintf(err, CONFIG_ERRLEN, "key \"bandwidth.defaultGuarantee\": %s exceeds the %s capacity", d,
			         b->default_guarantee > b->ingress ? "ingress" : "egress");
			return -EINVAL;
		}
	}
	if (c->socket[0] != '/') {
		snprintf(err, CONFIG_ERRLEN, "key \"socket\": \"%s\" must be an absolute path", c->socket);
		return -EINVAL;
	}
	if (c->metrics.listen[0]) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (config_parse_listen(c->metrics.listen, &ss, &len) < 0) {
			snprintf(err, CONFIG_ERRLEN, "key \"metrics.listen\": \"%s\" is not ADDRESS:PORT with a numeric "
			         "address and a port from 1 to 65535, like \"127.0.0.1:9253\", \"[::1]:9253\" or \":9253\" "
			         "(every address)", c->metrics.listen);
			return -EINVAL;
		}
	}
	return 0;
}

/* The file's keys, in the order docs/config.md lists them. */
static const char *const keys[] = {
	"node", "store", "storeCA", "storeCert", "storeKey", "underlay", "directRouting", "vni", "vxlanPort",
	"storePrefix", "network", "subnetLen", "bridge", "mtu", "stateDir", "socket", "socketGroup", "leaseTTL",
	"reconcileInterval", "masquerade", "antiSpoofing", "forwardAccept", "bandwidth", "metrics", "logLevel",
};
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 64, "keys_set has 64 bits");

const char *config_key_name(unsigned i)
{
	return i < sizeof(keys) / sizeof(keys[0]) ? keys[i] : NULL;
}

int config_mark_set(struct netd_config *c, const char *key)
{
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0) {
			c->keys_set |= UINT64_C(1) << i;
			return 0;
		}
	return -ENOENT;
}

/* The value of key i as it would be written in the file; a note for values that are derived. */
static void format_value(const struct netd_config *c, const char *key, char *buf, size_t size,
                         const char **ret_note)
{
	static const char *const levels[] = { "error", "warning", "info", "debug" };
	const char *str = NULL;
	char cidr[CIDR4_STRLEN];

	*ret_note = "";
	if (strcmp(key, "node") == 0) {
		str = c->node;
		*ret_note = ": the host name";
	} else if (strcmp(key, "store") == 0)
		str = c->store;
	else if (strcmp(key, "storeCA") == 0) {
		str = c->store_ca;
		*ret_note = c->store_ca[0] ? "" : ": the system's CAs";
	} else if (strcmp(key, "storeCert") == 0)
		str = c->store_cert;
	else if (strcmp(key, "storeKey") == 0)
		str = c->store_key;
	else if (strcmp(key, "underlay") == 0) {
		str = c->underlay;
		*ret_note = c->underlay[0] ? "" : ": the default route's device";
	} else if (strcmp(key, "directRouting") == 0)
		snprintf(buf, size, "%s", c->direct_routing ? "true" : "false");
	else if (strcmp(key, "vni") == 0)
		snprintf(buf, size, "%u", c->vni);
	else if (strcmp(key, "vxlanPort") == 0)
		snprintf(buf, size, "%u", c->vxlan_port);
	else if (strcmp(key, "storePrefix") == 0)
		str = c->store_prefix;
	else if (strcmp(key, "network") == 0)
		snprintf(buf, size, "\"%s\"", cidr4_format(&c->network, cidr));
	else if (strcmp(key, "subnetLen") == 0)
		snprintf(buf, size, "%u", c->subnet_len);
	else if (strcmp(key, "bridge") == 0)
		str = c->bridge;
	else if (strcmp(key, "mtu") == 0) {
		snprintf(buf, size, "%u", c->mtu);
		*ret_note = c->mtu ? "" : ": the underlay's MTU - 50 (IPv4) or - 70 (IPv6)";
	} else if (strcmp(key, "stateDir") == 0)
		str = c->state_dir;
	else if (strcmp(key, "socket") == 0)
		str = c->socket;
	else if (strcmp(key, "socketGroup") == 0) {
		str = c->socket_group;
		*ret_note = c->socket_group[0] ? "" : ": root only";
	} else if (strcmp(key, "leaseTTL") == 0)
		snprintf(buf, size, "%lld", (long long)c->lease_ttl);
	else if (strcmp(key, "reconcileInterval") == 0)
		snprintf(buf, size, "%lld", (long long)c->reconcile_interval);
	else if (strcmp(key, "masquerade") == 0)
		snprintf(buf, size, "%s", c->masquerade ? "true" : "false");
	else if (strcmp(key, "antiSpoofing") == 0)
		snprintf(buf, size, "%s", c->antispoof ? "true" : "false");
	else if (strcmp(key, "forwardAccept") == 0)
		snprintf(buf, size, "%s", c->forward_accept ? "true" : "false");
	else if (strcmp(key, "bandwidth") == 0) {
		if (c->bandwidth.set) {
			char in[QUOTA_RATE_STRLEN], out[QUOTA_RATE_STRLEN], g[QUOTA_RATE_STRLEN];

			quota_format_rate(c->bandwidth.ingress, in);
			quota_format_rate(c->bandwidth.egress, out);
			quota_format_rate(c->bandwidth.default_guarantee, g);
			snprintf(buf, size, "{\"ingress\": \"%s\", \"egress\": \"%s\", \"defaultGuarantee\": \"%s\", "
			         "\"defaultPriority\": %d, \"exemptLocal\": %s%s%s%s}", in, out, g, c->bandwidth.default_priority,
			         c->bandwidth.exempt_local ? "true" : "false", c->bandwidth.uplink[0] ? ", \"uplink\": \"" : "",
			         c->bandwidth.uplink, c->bandwidth.uplink[0] ? "\"" : "");
		} else {
			snprintf(buf, size, "null");
			*ret_note = ": no shaping";
		}
	} else if (strcmp(key, "metrics") == 0) {
		if (c->metrics.listen[0])
			snprintf(buf, size, "{\"listen\": \"%s\"}", c->metrics.listen);
		else {
			snprintf(buf, size, "null");
			*ret_note = ": no HTTP server, no /metrics";
		}
	} else if (strcmp(key, "logLevel") == 0)
		str = c->log_level >= 0 && c->log_level <= 3 ? levels[c->log_level] : "?";
	else
		snprintf(buf, size, "?");
	if (str)
		snprintf(buf, size, "\"%s\"", str);
}

int config_describe_defaults(const struct netd_config *c, char *buf, size_t size)
{
	size_t used = 0;

	if (size > 0)
		buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char value[600];
		const char *note;
		int n;

		if (c->keys_set & (UINT64_C(1) << i))
			continue;
		format_value(c, keys[i], value, sizeof(value), &note);
		n = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, "%s: %s (default%s)\n",
		             keys[i], value, note);
		if (n < 0)
			return -EINVAL;
		used += (size_t)n;
	}
	return (int)used;
}

/* Whether shoald can use directory path, creating it if need be (mkdir -p), without creating
 * anything now: an existing path must be a writable directory, else the nearest existing ancestor
 * must be.  access() also reports a read-only mount (EROFS), which is what ProtectSystem= gives. */
static int dir_usable(const char *key, const char *what, const char *path, char err[CONFIG_ERRLEN])
{
	char p[512];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof(p)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s %s: path too long", key, what, path);
		return -ENAMETOOLONG;
	}
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		if (stat(p, &st) == 0)
			break;
		/* ENOTDIR: an ancestor is a file; walk up to it and say so below. */
		if (errno != ENOENT && errno != ENOTDIR) {
			int r = -errno;

			snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s %s cannot be used: %s: %s", key, what, path, p,
			         strerror(-r));
			return r;
		}
		slash = strrchr(p, '/');
		if (!slash)   /* relative paths are refused by config_validate */
			return 0;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s %s cannot be %s: %s is not a directory", key, what, path,
		         strcmp(p, path) == 0 ? "used" : "created", p);
		return -ENOTDIR;
	}
	if (access(p, W_OK | X_OK) < 0) {
		int r = -errno;

		if (strcmp(p, path) == 0)
			snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s %s is not writable: %s", key, what, path, strerror(-r));
		else
			snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s %s cannot be created: %s is not writable: %s", key,
			         what, path, p, strerror(-r));
		return r;
	}
	return 0;
}

/* A TLS file the etcd client reads at its first connection, long after start-up said "ready". */
static int file_readable(const char *key, const char *path, char err[CONFIG_ERRLEN])
{
	struct stat st;
	int r;

	if (!path[0])
		return 0;
	if (stat(path, &st) < 0) {
		r = -errno;
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s: %s", key, path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s is not a regular file", key, path);
		return -EINVAL;
	}
	if (access(path, R_OK) < 0) {
		r = -errno;
		snprintf(err, CONFIG_ERRLEN, "key \"%s\": %s is not readable: %s", key, path, strerror(-r));
		return r;
	}
	return 0;
}

int config_check_environment(const struct netd_config *c, char err[CONFIG_ERRLEN])
{
	char dir[sizeof(c->socket)];
	char *slash;
	int r;

	if (c->socket_group[0]) {
		struct group *g;

		errno = 0;
		g = getgrnam(c->socket_group);
		if (!g) {
			r = errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
			if (r == -ENOENT)
				snprintf(err, CONFIG_ERRLEN, "key \"socketGroup\": group \"%s\" does not exist",
				         c->socket_group);
			else
				snprintf(err, CONFIG_ERRLEN, "key \"socketGroup\": failed to look up group \"%s\": %s",
				         c->socket_group, strerror(-r));
			return r;
		}
	}
	r = file_readable("storeCA", c->store_ca, err);
	if (r < 0)
		return r;
	r = file_readable("storeCert", c->store_cert, err);
	if (r < 0)
		return r;
	r = file_readable("storeKey", c->store_key, err);
	if (r < 0)
		return r;
	r = dir_usable("stateDir", "state directory", c->state_dir, err);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s", c->socket);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	r = dir_usable("socket", "socket directory", dir, err);
	if (r < 0)
		return r;
	if (strncmp(c->store, "file:", 5) == 0) {
		r = dir_usable("store", "store directory", c->store + 5, err);
		if (r < 0)
			return r;
	}
	return 0;
}
