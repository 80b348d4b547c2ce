#include "netctl/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cidr.h"
#include "netctl/policy.h"
#include "netctl/table.h"
#include "tc/quota.h"

#define NETCTL_SHORT_ID 12
#define NETCTL_CELL 256

static const char *netctl_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* obj's member at key, where "bandwidth.ingress.limit" walks nested objects (the API's keys hold
 * no dots).  NULL when any step is missing or not an object. */
static json_t *netctl_get(const json_t *obj, const char *key)
{
	const char *dot;
	char part[64];

	while ((dot = strchr(key, '.'))) {
		if ((size_t)(dot - key) >= sizeof(part))
			return NULL;
		memcpy(part, key, (size_t)(dot - key));
		part[dot - key] = '\0';
		obj = json_object_get(obj, part);
		key = dot + 1;
	}
	return json_object_get(obj, key);
}

static bool netctl_in(const char *key, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(key, *set) == 0)
			return true;
	return false;
}

/* Copy the members of obj whose keys are not in known into flat, as "prefix.key": what a newer
 * shoald adds inside an object a view takes apart stays visible under its path. */
static int netctl_flatten_rest(json_t *flat, const char *prefix, const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach((json_t *)obj, key, v) {
		char path[NETCTL_CELL];

		if (netctl_in(key, known))
			continue;
		snprintf(path, sizeof(path), "%s.%s", prefix, key);
		if (json_object_set(flat, path, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Any JSON scalar as a cell; "" for null or a missing key (the table shows "-"). */
static const char *netctl_cell(const json_t *v, char buf[NETCTL_CELL])
{
	char *dump;

	buf[0] = '\0';
	if (!v)
		return buf;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, NETCTL_CELL, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, NETCTL_CELL, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_OBJECT:
	case JSON_ARRAY:
		dump = json_dumps(v, JSON_COMPACT);
		if (dump)
			snprintf(buf, NETCTL_CELL, "%s", dump);
		free(dump);
		break;
	case JSON_NULL:
		break;
	}
	return buf;
}

static int netctl_cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* A cgroup's entry of the workloads answer ({"kind": "cgroup", ...}), not an attachment's. */
static bool netctl_is_cgroup(const json_t *w)
{
	return netctl_cmp_str(netctl_str(w, "kind"), "cgroup") == 0;
}

/* Attachments by container id and interface, then cgroups by path. */
static int netctl_cmp_workload(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	int r;

	if (netctl_is_cgroup(a) != netctl_is_cgroup(b))
		return netctl_is_cgroup(a) ? 1 : -1;
	if (netctl_is_cgroup(a))
		return netctl_cmp_str(netctl_str(a, "cgroup"), netctl_str(b, "cgroup"));
	r = netctl_cmp_str(netctl_str(a, "containerId"), netctl_str(b, "containerId"));

	return r ? r : netctl_cmp_str(netctl_str(a, "ifname"), netctl_str(b, "ifname"));
}

/* By address as a number (10.244.10.0 after 10.244.9.0); unparsable ones last, by text. */
static int netctl_cmp_subnet(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	const char *sa = netctl_str(a, "subnet"), *sb = netctl_str(b, "subnet");
	struct cidr4 ca, cb;
	bool oka = sa && cidr4_parse(sa, &ca) >= 0, okb = sb && cidr4_parse(sb, &cb) >= 0;

	if (oka && okb) {
		if (ca.addr != cb.addr)
			return ca.addr < cb.addr ? -1 : 1;
		if (ca.len != cb.len)
			return ca.len < cb.len ? -1 : 1;
		return 0;
	}
	if (oka != okb)
		return oka ? -1 : 1;
	return netctl_cmp_str(sa, sb);
}

static json_t *netctl_sorted(const json_t *list, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(list);
	json_t **items, *out;

	if (!json_is_array(list))
		return NULL;
	out = json_array();
	items = calloc(n ? n : 1, sizeof(*items));
	if (!out || !items) {
		json_decref(out);
		free(items);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(list, i);
	/* qsort is not stable; equal keys (a buggy daemon) may swap, which is harmless. */
	qsort(items, n, sizeof(*items), cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, items[i]);
	free(items);
	return out;
}

json_t *netctl_sort_workloads(const json_t *list)
{
	return netctl_sorted(list, netctl_cmp_workload);
}

json_t *netctl_sort_subnets(const json_t *list)
{
	return netctl_sorted(list, netctl_cmp_subnet);
}

void netctl_format_duration(long long s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

void netctl_format_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || (long long)tt != t || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
}

/* How a field of a one-per-line view is shown. */
enum netctl_field_kind {
	NETCTL_FIELD_PLAIN,
	NETCTL_FIELD_DURATION,   /* seconds: 1h2m */
	NETCTL_FIELD_TIME,       /* Unix seconds: 2025-11-22T01:46:40Z (3d4h ago) */
	NETCTL_FIELD_OPTIONAL,   /* plain, but no line at all when missing (instead of "-") */
};

struct netctl_field {
	const char *key;
	const char *label;
	enum netctl_field_kind kind;
};

/* The status fields in the order people read them, with their labels.  Fields shoald adds
 * later are printed after these under their API name, so nothing is hidden. */
static const struct netctl_field netctl_status_fields[] = {
	{ "node", "Node", NETCTL_FIELD_PLAIN },
	{ "version", "Version", NETCTL_FIELD_PLAIN },
	{ "store", "Store", NETCTL_FIELD_PLAIN },
	{ "network", "Network", NETCTL_FIELD_PLAIN },
	{ "subnet", "Subnet", NETCTL_FIELD_PLAIN },
	{ "gateway", "Gateway", NETCTL_FIELD_PLAIN },
	{ "bridge", "Bridge", NETCTL_FIELD_PLAIN },
	{ "mtu", "MTU", NETCTL_FIELD_PLAIN },
	{ "workloads", "Workloads", NETCTL_FIELD_PLAIN },
	{ "addressesFree", "Free addresses", NETCTL_FIELD_PLAIN },
	{ "bridgePortsFree", "Free ports", NETCTL_FIELD_PLAIN },
	{ "capacityFree", "Capacity", NETCTL_FIELD_PLAIN },
	{ "antiSpoofing", "Anti-spoofing", NETCTL_FIELD_PLAIN },
	{ "pendingDeletes", "Pending deletes", NETCTL_FIELD_PLAIN },
	{ "uptimeSeconds", "Uptime", NETCTL_FIELD_DURATION },
};

/* One attachment (`workload get`): who it is, where it lives, then its life. */
static const struct netctl_field netctl_workload_fields[] = {
	{ "containerId", "Container ID", NETCTL_FIELD_PLAIN },
	{ "ifname", "Interface", NETCTL_FIELD_PLAIN },
	{ "address", "Address", NETCTL_FIELD_PLAIN },
	{ "namespace", "Namespace", NETCTL_FIELD_PLAIN },
	{ "pod", "Pod", NETCTL_FIELD_PLAIN },
	{ "podUID", "Pod UID", NETCTL_FIELD_PLAIN },
	{ "hostVeth", "Host veth", NETCTL_FIELD_PLAIN },
	{ "netns", "Netns", NETCTL_FIELD_PLAIN },
	{ "network", "Network", NETCTL_FIELD_PLAIN },
	{ "created", "Created", NETCTL_FIELD_TIME },
	{ "state", "State", NETCTL_FIELD_PLAIN },
};

/* A cgroup with a quota (`workload get --cgroup`): where it is, its class, since when. */
static const struct netctl_field netctl_cgroup_fields[] = {
	{ "cgroup", "Cgroup", NETCTL_FIELD_PLAIN },
	{ "cgroupDir", "Cgroup dir", NETCTL_FIELD_PLAIN },
	{ "cgroupId", "Cgroup ID", NETCTL_FIELD_PLAIN },
	{ "class", "Class", NETCTL_FIELD_PLAIN },
	{ "created", "Created", NETCTL_FIELD_TIME },
};

#define NETCTL_N(a) (sizeof(a) / sizeof((a)[0]))

static bool netctl_field_known(const struct netctl_field *fields, size_t n, const char *key)
{
	if (strcmp(key, "ok") == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, fields[i].key) == 0)
			return true;
	return false;
}

/* "Label:" padded to the widest label, then the value; control characters become '?' as in
 * tables, so a hostile name cannot drive the terminal. */
static void netctl_field_line(const char *label, int width, const char *value, FILE *out)
{
	char sep[NETCTL_CELL];

	snprintf(sep, sizeof(sep), "%s:", label);
	fprintf(out, "%-*s ", width + 1, sep);
	if (!value || !*value)
		value = "-";
	for (const char *p = value; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputc('\n', out);
}

static const char *netctl_field_value(const struct netctl_field *f, const json_t *v, long long now,
				      char buf[NETCTL_CELL])
{
	char when[64], age[32];

	switch (f->kind) {
	case NETCTL_FIELD_DURATION:
		if (!json_is_integer(v))
			break;
		netctl_format_duration(json_integer_value(v), buf, NETCTL_CELL);
		return buf;
	case NETCTL_FIELD_TIME:
		if (!json_is_integer(v))
			break;
		netctl_format_time(json_integer_value(v), when, sizeof(when));
		if (now <= 0 || strcmp(when, "-") == 0 || now < json_integer_value(v)) {
			snprintf(buf, NETCTL_CELL, "%s", when);
			return buf;
		}
		netctl_format_duration(now - json_integer_value(v), age, sizeof(age));
		snprintf(buf, NETCTL_CELL, "%s (%s ago)", when, age);
		return buf;
	case NETCTL_FIELD_PLAIN:
	case NETCTL_FIELD_OPTIONAL:
		break;
	}
	return netctl_cell(v, buf);
}

/* One field per line: the known fields in order (a missing one as "-"), then the others under
 * their API name. */
static int netctl_format_fields(const json_t *obj, const struct netctl_field *fields, size_t n, long long now,
				FILE *out)
{
	char buf[NETCTL_CELL];
	const char *key;
	json_t *v;
	int width = 0;

	if (!json_is_object(obj))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(fields[i].label) > width &&
		    (fields[i].kind != NETCTL_FIELD_OPTIONAL || json_object_get(obj, fields[i].key)))
			width = (int)strlen(fields[i].label);
	json_object_foreach((json_t *)obj, key, v)
		if (!netctl_field_known(fields, n, key) && (int)strlen(key) > width)
			width = (int)strlen(key);
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, fields[i].key);
		if (fields[i].kind == NETCTL_FIELD_OPTIONAL && !v)
			continue;
		netctl_field_line(fields[i].label, width, netctl_field_value(&fields[i], v, now, buf), out);
	}
	json_object_foreach((json_t *)obj, key, v)
		if (!netctl_field_known(fields, n, key))
			netctl_field_line(key, width, netctl_cell(v, buf), out);
	return ferror(out) ? -EIO : 0;
}

/* A rate of the API: its text ("200mbit"), else its bit/s (key + "BitRate") in the same units, else "?". */
static const char *netctl_rate_text(const json_t *obj, const char *key, char buf[QUOTA_RATE_STRLEN])
{
	char bps_key[64];
	const char *text = netctl_str(obj, key);
	json_t *bps;

	if (text)
		return text;
	snprintf(bps_key, sizeof(bps_key), "%sBitRate", key);
	bps = json_object_get(obj, bps_key);
	if (json_is_integer(bps) && json_integer_value(bps) >= 0) {
		quota_format_rate((uint64_t)json_integer_value(bps), buf);
		return buf;
	}
	return "?";
}

/* One HTB tree of status: "200mbit capacity, 121mbit committed, 79mbit free (shoal-in)". */
static json_t *netctl_bw_tree_line(const json_t *tree)
{
	char c[QUOTA_RATE_STRLEN], u[QUOTA_RATE_STRLEN], f[QUOTA_RATE_STRLEN], line[NETCTL_CELL];
	const char *device = netctl_str(tree, "device");

	snprintf(line, sizeof(line), "%s capacity, %s committed, %s free", netctl_rate_text(tree, "capacity", c),
		 netctl_rate_text(tree, "committed", u), netctl_rate_text(tree, "free", f));
	if (device && *device)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " (%s)", device);
	return json_string(line);
}

/* status with "bandwidth" (a node that shapes): its two trees become one line each after the
 * other fields; the rest of the object is flattened so nothing is hidden. */
static int netctl_format_status_bw(const json_t *status, const json_t *bw, FILE *out)
{
	static const struct netctl_field bw_fields[] = {
		{ "bandwidth.ingress", "Ingress", NETCTL_FIELD_OPTIONAL },
		{ "bandwidth.egress", "Egress", NETCTL_FIELD_OPTIONAL },
	};
	static const char *const dirs[] = { "ingress", "egress", NULL };
	static const char *const tree_keys[] = { "device", "capacity", "committed", "free", "capacityBitRate",
						 "committedBitRate", "freeBitRate", NULL };
	struct netctl_field fields[NETCTL_N(netctl_status_fields) + NETCTL_N(bw_fields)];
	json_t *flat = json_copy((json_t *)status);
	int r = flat ? 0 : -ENOMEM;

	memcpy(fields, netctl_status_fields, sizeof(netctl_status_fields));
	memcpy(fields + NETCTL_N(netctl_status_fields), bw_fields, sizeof(bw_fields));
	if (r == 0)
		json_object_del(flat, "bandwidth");
	for (size_t d = 0; r == 0 && dirs[d]; d++) {
		json_t *tree = json_object_get(bw, dirs[d]);
		char path[32];

		if (!json_is_object(tree))
			continue;
		snprintf(path, sizeof(path), "bandwidth.%s", dirs[d]);
		r = json_object_set_new(flat, path, netctl_bw_tree_line(tree)) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = netctl_flatten_rest(flat, path, tree, tree_keys);
	}
	if (r == 0)
		r = netctl_flatten_rest(flat, "bandwidth", bw, dirs);
	if (r == 0)
		r = netctl_format_fields(flat, fields, NETCTL_N(fields), 0, out);
	json_decref(flat);
	return r;
}

int netctl_format_status(const json_t *status, FILE *out)
{
	json_t *bw = json_object_get(status, "bandwidth");

	if (json_is_object(bw))
		return netctl_format_status_bw(status, bw, out);
	return netctl_format_fields(status, netctl_status_fields, NETCTL_N(netctl_status_fields), 0, out);
}

int netctl_format_version(const json_t *doc, const char *shoald_missing, FILE *out)
{
	const char *server = json_string_value(json_object_get(doc, "shoald"));

	if (!json_is_object(doc))
		return -EINVAL;
	netctl_field_line("netctl", 6, json_string_value(json_object_get(doc, "netctl")), out);
	netctl_field_line("shoald", 6, server ? server : shoald_missing, out);
	return ferror(out) ? -EIO : 0;
}

/* A table column: a header, the API key of its cells, how the cell is shown, and whether only
 * -o wide shows it. */
enum netctl_col_kind {
	NETCTL_COL_PLAIN,
	NETCTL_COL_ID,     /* a container id: 64 hex digits shortened unless --no-trunc; a cgroup's
	                    * entry shows cgroup:PATH there */
	NETCTL_COL_TIME,   /* Unix seconds as RFC 3339 */
	NETCTL_COL_DURATION,   /* seconds as 9s, 9m59s */
};

struct netctl_col {
	const char *header;
	const char *key;
	enum netctl_col_kind kind;
	bool wide;
};

#define NETCTL_MAX_COLS 24   /* the wide workload table with bandwidth has 16 */

/* Runtimes make 64-hex-digit ids; like docker and crictl show their first 12 digits. */
static bool netctl_long_hex_id(const char *id)
{
	if (!id || strlen(id) != 64)
		return false;
	return strspn(id, "0123456789abcdef") == 64;
}

static int netctl_format_table(const json_t *sorted, const struct netctl_col *cols, size_t n_cols, unsigned flags,
			       FILE *out)
{
	const char *head[NETCTL_MAX_COLS];
	const struct netctl_col *shown[NETCTL_MAX_COLS];
	struct netctl_table *t;
	size_t n = 0, i;
	json_t *obj;
	int r = 0;

	for (size_t c = 0; c < n_cols && n < NETCTL_MAX_COLS; c++)
		if (!cols[c].wide || (flags & NETCTL_FORMAT_WIDE)) {
			shown[n] = &cols[c];
			head[n++] = cols[c].header;
		}
	t = netctl_table_new(n, head);
	if (!t)
		return -ENOMEM;
	json_array_foreach(sorted, i, obj) {
		char bufs[NETCTL_MAX_COLS][NETCTL_CELL];
		const char *cells[NETCTL_MAX_COLS];

		for (size_t c = 0; c < n; c++) {
			json_t *v = netctl_get(obj, shown[c]->key);

			cells[c] = netctl_cell(v, bufs[c]);
			if (shown[c]->kind == NETCTL_COL_ID && netctl_is_cgroup(obj)) {
				const char *path = netctl_str(obj, "cgroup");

				snprintf(bufs[c], NETCTL_CELL, "cgroup:%s", path ? path : "");
				cells[c] = bufs[c];
			} else if (shown[c]->kind == NETCTL_COL_ID && !(flags & NETCTL_FORMAT_NO_TRUNC) &&
			    netctl_long_hex_id(cells[c])) {
				snprintf(bufs[c], NETCTL_CELL, "%.*s", NETCTL_SHORT_ID, cells[c]);
				cells[c] = bufs[c];
			} else if (shown[c]->kind == NETCTL_COL_TIME && json_is_integer(v)) {
				netctl_format_time(json_integer_value(v), bufs[c], NETCTL_CELL);
				cells[c] = bufs[c];
			} else if (shown[c]->kind == NETCTL_COL_DURATION && json_is_integer(v)) {
				netctl_format_duration(json_integer_value(v), bufs[c], NETCTL_CELL);
				cells[c] = bufs[c];
			}
		}
		r = netctl_table_add_row(t, cells);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = netctl_table_print(t, flags & NETCTL_FORMAT_HEADERS, out);
	netctl_table_free(t);
	return r;
}

static int netctl_format_list(const json_t *list, json_t *(*sort)(const json_t *), const struct netctl_col *cols,
			      size_t n_cols, unsigned flags, FILE *out)
{
	json_t *sorted = sort(list);
	int r;

	if (!sorted)
		return json_is_array(list) ? -ENOMEM : -EINVAL;
	r = netctl_format_table(sorted, cols, n_cols, flags, out);
	json_decref(sorted);
	return r;
}

int netctl_format_subnets(const json_t *list, unsigned flags, FILE *out)
{
	static const struct netctl_col cols[] = {
		{ "SUBNET", "subnet", NETCTL_COL_PLAIN, false },
		{ "NODE", "node", NETCTL_COL_PLAIN, false },
		{ "UNDERLAY IP", "publicIP", NETCTL_COL_PLAIN, false },
		{ "VTEP MAC", "vtepMAC", NETCTL_COL_PLAIN, false },
		{ "EXPIRES", "expiresIn", NETCTL_COL_DURATION, false },
		{ "LIVE", "live", NETCTL_COL_PLAIN, false },
		{ "SELF", "self", NETCTL_COL_PLAIN, false },
		{ "LEASE TTL", "leaseTTL", NETCTL_COL_PLAIN, true },
		{ "LEASE ID", "lease", NETCTL_COL_PLAIN, true },
	};

	return netctl_format_list(list, netctl_sort_subnets, cols, NETCTL_N(cols), flags, out);
}

/* Sorted like subnets: the hosts' rows line up with netctl subnet list's. */
int netctl_format_hosts(const json_t *list, unsigned flags, FILE *out)
{
	static const struct netctl_col cols[] = {
		{ "NODE", "node", NETCTL_COL_PLAIN, false },
		{ "SUBNET", "subnet", NETCTL_COL_PLAIN, false },
		{ "UNDERLAY IP", "publicIP", NETCTL_COL_PLAIN, false },
		{ "VTEP MAC", "vtepMAC", NETCTL_COL_PLAIN, false },
		{ "MODE", "mode", NETCTL_COL_PLAIN, false },
		{ "PROGRAMMED", "programmed", NETCTL_COL_PLAIN, false },
		{ "ERROR", "error", NETCTL_COL_PLAIN, false },
	};

	return netctl_format_list(list, netctl_sort_subnets, cols, NETCTL_N(cols), flags, out);
}

/* The store's config first (what every host shares), then this host's part. */
int netctl_format_network(const json_t *resp, FILE *out)
{
	static const struct netctl_field fields[] = {
		{ "network", "Network", NETCTL_FIELD_PLAIN },
		{ "subnetLen", "Subnet length", NETCTL_FIELD_PLAIN },
		{ "vni", "VNI", NETCTL_FIELD_PLAIN },
		{ "port", "VXLAN port", NETCTL_FIELD_PLAIN },
		{ "storeURL", "Store", NETCTL_FIELD_PLAIN },
		{ "node", "Node", NETCTL_FIELD_PLAIN },
		{ "subnet", "Subnet", NETCTL_FIELD_PLAIN },
		{ "underlay", "Underlay", NETCTL_FIELD_PLAIN },
		{ "underlayIP", "Underlay IP", NETCTL_FIELD_PLAIN },
		{ "mtu", "MTU", NETCTL_FIELD_PLAIN },
		{ "vxlanDevice", "VXLAN device", NETCTL_FIELD_PLAIN },
		{ "directRouting", "Direct routing", NETCTL_FIELD_PLAIN },
		{ "left", "Left", NETCTL_FIELD_PLAIN },
	};
	json_t *flat, *config = json_object_get(resp, "config"), *node = json_object_get(resp, "node");
	int r;

	if (!json_is_object(resp) || !json_is_object(config) || !json_is_object(node))
		return -EINVAL;
	flat = json_object();
	if (!flat)
		return -ENOMEM;
	/* Flattened in this order; a field a newer shoald adds to either part follows by its name. */
	if (json_object_update(flat, config) < 0 || json_object_update(flat, node) < 0 ||
	    json_object_set(flat, "storeURL", json_object_get(resp, "storeURL") ? json_object_get(resp, "storeURL")
	                                                                         : json_null()) < 0) {
		json_decref(flat);
		return -ENOMEM;
	}
	r = netctl_format_fields(flat, fields, NETCTL_N(fields), 0, out);
	json_decref(flat);
	return r;
}

/* Does any entry of the workload list carry "bandwidth" (a node that shapes; null included)? */
static bool netctl_workloads_have_bw(const json_t *list)
{
	json_t *w;
	size_t i;

	json_array_foreach(list, i, w)
		if (json_object_get(w, "bandwidth"))
			return true;
	return false;
}

/* The table keeps to what tells workloads apart (container, pod, address); -o wide appends where
 * each one lives on the host and, on a node that shapes, each one's share.  A node that does not
 * shape prints exactly the columns it printed before bandwidth existed. */
int netctl_format_workloads(const json_t *list, unsigned flags, FILE *out)
{
	static const struct netctl_col cols[] = {
		{ "CONTAINER ID", "containerId", NETCTL_COL_ID, false },
		{ "IFNAME", "ifname", NETCTL_COL_PLAIN, false },
		{ "ADDRESS", "address", NETCTL_COL_PLAIN, false },
		{ "NAMESPACE", "namespace", NETCTL_COL_PLAIN, false },
		{ "POD", "pod", NETCTL_COL_PLAIN, false },
		{ "STATE", "state", NETCTL_COL_PLAIN, false },
		{ "HOST VETH", "hostVeth", NETCTL_COL_PLAIN, true },
		{ "NETNS", "netns", NETCTL_COL_PLAIN, true },
		{ "NETWORK", "network", NETCTL_COL_PLAIN, true },
		{ "CREATED", "created", NETCTL_COL_TIME, true },
		{ "POD UID", "podUID", NETCTL_COL_PLAIN, true },
		/* Last, so that NETCTL_N_BW_COLS leaves them out. */
		{ "IN GUARANTEE", "bandwidth.ingress.guarantee", NETCTL_COL_PLAIN, true },
		{ "IN LIMIT", "bandwidth.ingress.limit", NETCTL_COL_PLAIN, true },
		{ "OUT GUARANTEE", "bandwidth.egress.guarantee", NETCTL_COL_PLAIN, true },
		{ "OUT LIMIT", "bandwidth.egress.limit", NETCTL_COL_PLAIN, true },
		{ "PRIORITY", "bandwidth.priority", NETCTL_COL_PLAIN, true },
	};
	enum { NETCTL_N_BW_COLS = 5 };
	size_t n = NETCTL_N(cols) - (netctl_workloads_have_bw(list) ? 0 : NETCTL_N_BW_COLS);

	return netctl_format_list(list, netctl_sort_workloads, cols, n, flags, out);
}

/* One value of a quota view: the effective one, and where it came from.  eff is the direction's
 * share (NULL: none, not admitted), asked what the workload asked for in that direction, unasked
 * the mark of a value it did not ask for ("default", or "policy or default" when a policy applies:
 * the workloads answer does not say which values the policy sets). */
static json_t *netctl_quota_rate_cell(const json_t *eff, const json_t *asked, const char *key, const char *unasked)
{
	char et[QUOTA_RATE_STRLEN], at[QUOTA_RATE_STRLEN], bps_key[32], cell[NETCTL_CELL];
	json_t *a = json_object_get(asked, key), *ebps;
	const char *e = eff ? netctl_rate_text(eff, key, et) : "-";
	bool same;

	snprintf(bps_key, sizeof(bps_key), "%sBitRate", key);
	ebps = json_object_get(eff, bps_key);
	/* A rate of 0 is "not set" in the API, like a missing one. */
	if (!a || (json_is_integer(a) && json_integer_value(a) == 0)) {
		if (eff)
			snprintf(cell, sizeof(cell), "%s (%s)", e, unasked);
		else
			snprintf(cell, sizeof(cell), "%s", e);
		return json_string(cell);
	}
	if (json_is_integer(a) && json_integer_value(a) > 0) {
		quota_format_rate((uint64_t)json_integer_value(a), at);
		same = json_is_integer(ebps) ? json_integer_value(ebps) == json_integer_value(a) : strcmp(e, at) == 0;
	} else {
		char buf[NETCTL_CELL];

		snprintf(at, sizeof(at), "%s", netctl_cell(a, buf));
		same = false;
	}
	if (same)
		snprintf(cell, sizeof(cell), "%s", e);
	else
		snprintf(cell, sizeof(cell), "%s (asked %s)", e, at);
	return json_string(cell);
}

static json_t *netctl_quota_priority_cell(const json_t *eff, const json_t *asked, const char *unasked)
{
	json_t *e = json_object_get(eff, "priority"), *a = json_object_get(asked, "priority");
	char et[32] = "-", at[NETCTL_CELL], cell[NETCTL_CELL];

	if (json_is_integer(e))
		snprintf(et, sizeof(et), "%" JSON_INTEGER_FORMAT, json_integer_value(e));
	if (!a && eff)
		snprintf(cell, sizeof(cell), "%s (%s)", et, unasked);
	else if (!a)
		snprintf(cell, sizeof(cell), "%s", et);
	else if (json_is_integer(a) && json_is_integer(e) && json_integer_value(a) == json_integer_value(e))
		snprintf(cell, sizeof(cell), "%s", et);
	else
		snprintf(cell, sizeof(cell), "%s (asked %s)", et, netctl_cell(a, at));
	return json_string(cell);
}

/* The bandwidth lines of the quota view and of workload get, after what names the workload. */
static const struct netctl_field netctl_quota_fields[] = {
	{ "bandwidth.ingress.guarantee", "Ingress guarantee", NETCTL_FIELD_PLAIN },
	{ "bandwidth.ingress.limit", "Ingress limit", NETCTL_FIELD_PLAIN },
	{ "bandwidth.ingress.burst", "Ingress burst", NETCTL_FIELD_OPTIONAL },
	{ "bandwidth.egress.guarantee", "Egress guarantee", NETCTL_FIELD_PLAIN },
	{ "bandwidth.egress.limit", "Egress limit", NETCTL_FIELD_PLAIN },
	{ "bandwidth.egress.burst", "Egress burst", NETCTL_FIELD_OPTIONAL },
	{ "bandwidth.priority", "Priority", NETCTL_FIELD_PLAIN },
	/* The policy that applies (null: none); an older shoald sends no key. */
	{ "policy", "Policy", NETCTL_FIELD_OPTIONAL },
};

/* Add the values of netctl_quota_fields to flat, from the effective share eff (null: not
 * admitted), what was asked and the policy that applies (a name; null or NULL: none); keys netctl
 * does not know inside either under their path. */
static int netctl_quota_flatten(json_t *flat, const json_t *eff, const json_t *asked, const json_t *policy)
{
	static const char *const dirs[] = { "ingress", "egress" };
	static const char *const top_keys[] = { "ingress", "egress", "priority", NULL };
	static const char *const eff_keys[] = { "guarantee", "limit", "guaranteeBitRate", "limitBitRate", NULL };
	static const char *const asked_keys[] = { "guarantee", "limit", "burst", NULL };
	const char *unasked = json_is_string(policy) ? "policy or default" : "default";
	int r = 0;

	if (!json_is_object(eff))
		eff = NULL;   /* null: not admitted */
	for (size_t d = 0; r == 0 && d < NETCTL_N(dirs); d++) {
		const json_t *e = json_object_get(eff, dirs[d]), *a = json_object_get(asked, dirs[d]);
		json_t *burst = json_object_get(a, "burst");
		char path[64], bits[QUOTA_RATE_STRLEN], cell[NETCTL_CELL];

		if (eff && !json_is_object(e))
			e = NULL;
		snprintf(path, sizeof(path), "bandwidth.%s.guarantee", dirs[d]);
		if (json_object_set_new(flat, path, netctl_quota_rate_cell(e, a, "guarantee", unasked)) < 0)
			r = -ENOMEM;
		snprintf(path, sizeof(path), "bandwidth.%s.limit", dirs[d]);
		if (r == 0 && json_object_set_new(flat, path, netctl_quota_rate_cell(e, a, "limit", unasked)) < 0)
			r = -ENOMEM;
		/* A burst caps HTB's own (bits, not bit/s): only ever shown when asked for. */
		if (r == 0 && json_is_integer(burst) && json_integer_value(burst) > 0) {
			quota_format_rate((uint64_t)json_integer_value(burst), bits);
			snprintf(cell, sizeof(cell), "at most %s", bits);
			snprintf(path, sizeof(path), "bandwidth.%s.burst", dirs[d]);
			if (json_object_set_new(flat, path, json_string(cell)) < 0)
				r = -ENOMEM;
		}
		snprintf(path, sizeof(path), "bandwidth.%s", dirs[d]);
		if (r == 0)
			r = netctl_flatten_rest(flat, path, e, eff_keys);
		snprintf(path, sizeof(path), "bandwidthAsked.%s", dirs[d]);
		if (r == 0)
			r = netctl_flatten_rest(flat, path, a, asked_keys);
	}
	if (r == 0 && json_object_set_new(flat, "bandwidth.priority", netctl_quota_priority_cell(eff, asked, unasked)) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = netctl_flatten_rest(flat, "bandwidth", eff, top_keys);
	if (r == 0)
		r = netctl_flatten_rest(flat, "bandwidthAsked", asked, top_keys);
	return r;
}

int netctl_format_quota(const json_t *doc, FILE *out)
{
	static const struct netctl_field names[] = {
		{ "containerId", "Container ID", NETCTL_FIELD_PLAIN },
		{ "ifname", "Interface", NETCTL_FIELD_PLAIN },
	};
	static const struct netctl_field cgroup_names[] = {
		{ "cgroup", "Cgroup", NETCTL_FIELD_PLAIN },
	};
	struct netctl_field fields[NETCTL_N(names) + NETCTL_N(netctl_quota_fields)];
	bool cgroup = json_object_get(doc, "cgroup") != NULL;
	size_t n_names = cgroup ? NETCTL_N(cgroup_names) : NETCTL_N(names);
	json_t *flat;
	int r;

	if (!json_is_object(doc))
		return -EINVAL;
	memcpy(fields, cgroup ? cgroup_names : names, n_names * sizeof(fields[0]));
	memcpy(fields + n_names, netctl_quota_fields, sizeof(netctl_quota_fields));
	if (cgroup)
		flat = json_pack("{s:O}", "cgroup", json_object_get(doc, "cgroup"));
	else
		flat = json_pack("{s:O?, s:O?}", "containerId", json_object_get(doc, "containerId"), "ifname",
				 json_object_get(doc, "ifname"));
	if (!flat)
		return -ENOMEM;
	if (json_object_get(doc, "policy") && json_object_set(flat, "policy", json_object_get(doc, "policy")) < 0) {
		json_decref(flat);
		return -ENOMEM;
	}
	r = netctl_quota_flatten(flat, json_object_get(doc, "bandwidth"), json_object_get(doc, "bandwidthAsked"),
				 json_object_get(doc, "policy"));
	if (r == 0)
		r = netctl_format_fields(flat, fields, n_names + NETCTL_N(netctl_quota_fields), 0, out);
	json_decref(flat);
	return r;
}

int netctl_format_workload(const json_t *workload, long long now, FILE *out)
{
	struct netctl_field fields[NETCTL_N(netctl_workload_fields) + NETCTL_N(netctl_quota_fields)];
	bool cgroup = netctl_is_cgroup(workload);
	const struct netctl_field *names = cgroup ? netctl_cgroup_fields : netctl_workload_fields;
	size_t n_names = cgroup ? NETCTL_N(netctl_cgroup_fields) : NETCTL_N(netctl_workload_fields);
	json_t *flat;
	int r;

	/* A node that shapes: the lines of netctl quota get instead of two JSON objects. */
	if (!json_object_get(workload, "bandwidth") && !json_object_get(workload, "bandwidthAsked"))
		return netctl_format_fields(workload, names, n_names, now, out);
	memcpy(fields, names, n_names * sizeof(fields[0]));
	memcpy(fields + n_names, netctl_quota_fields, sizeof(netctl_quota_fields));
	flat = json_copy((json_t *)workload);
	if (!flat)
		return -ENOMEM;
	json_object_del(flat, "kind");
	json_object_del(flat, "bandwidth");
	json_object_del(flat, "bandwidthAsked");
	r = netctl_quota_flatten(flat, json_object_get(workload, "bandwidth"), json_object_get(workload, "bandwidthAsked"),
				 json_object_get(workload, "policy"));
	if (r == 0)
		r = netctl_format_fields(flat, fields, n_names + NETCTL_N(netctl_quota_fields), now, out);
	json_decref(flat);
	return r;
}

int netctl_format_policy(const json_t *policy, FILE *out)
{
	static const struct netctl_field fields[] = {
		{ "name", "Name", NETCTL_FIELD_PLAIN },
		{ "match", "Match", NETCTL_FIELD_PLAIN },
		{ "bandwidth.ingress.guarantee", "Ingress guarantee", NETCTL_FIELD_PLAIN },
		{ "bandwidth.ingress.limit", "Ingress limit", NETCTL_FIELD_PLAIN },
		{ "bandwidth.ingress.burst", "Ingress burst", NETCTL_FIELD_OPTIONAL },
		{ "bandwidth.egress.guarantee", "Egress guarantee", NETCTL_FIELD_PLAIN },
		{ "bandwidth.egress.limit", "Egress limit", NETCTL_FIELD_PLAIN },
		{ "bandwidth.egress.burst", "Egress burst", NETCTL_FIELD_OPTIONAL },
		{ "bandwidth.priority", "Priority", NETCTL_FIELD_PLAIN },
		{ "workloads", "Workloads", NETCTL_FIELD_OPTIONAL },
		{ "error", "Error", NETCTL_FIELD_OPTIONAL },
	};
	static const char *const dirs[] = { "ingress", "egress", NULL };
	static const char *const dir_keys[] = { "guarantee", "limit", "burst", NULL };
	static const char *const bw_keys[] = { "ingress", "egress", "priority", NULL };
	char cell[NETCTL_CELL * 4];
	json_t *flat, *bw = json_object_get(policy, "bandwidth");
	int r = 0;

	if (!json_is_object(policy))
		return -EINVAL;
	flat = json_copy((json_t *)policy);
	if (!flat)
		return -ENOMEM;
	json_object_del(flat, "bandwidth");
	if (json_object_set_new(flat, "match", json_string(netctl_policy_match_text(json_object_get(policy, "match"),
										   cell, sizeof(cell)))) < 0)
		r = -ENOMEM;
	for (size_t d = 0; r == 0 && dirs[d]; d++) {
		json_t *dir = json_object_get(bw, dirs[d]);

		for (size_t k = 0; r == 0 && dir_keys[k]; k++) {
			json_t *v = json_object_get(dir, dir_keys[k]);
			char path[64], rate[QUOTA_RATE_STRLEN];

			/* Bursts only when set; a guarantee or limit not set is "-". */
			if (!v && strcmp(dir_keys[k], "burst") == 0)
				continue;
			snprintf(path, sizeof(path), "bandwidth.%s.%s", dirs[d], dir_keys[k]);
			if (json_is_integer(v) && json_integer_value(v) > 0) {
				quota_format_rate((uint64_t)json_integer_value(v), rate);
				v = json_string(rate);
			} else {
				v = v ? json_incref(v) : json_null();
			}
			if (json_object_set_new(flat, path, v) < 0)
				r = -ENOMEM;
		}
		snprintf(cell, sizeof(cell), "bandwidth.%s", dirs[d]);
		if (r == 0)
			r = netctl_flatten_rest(flat, cell, dir, dir_keys);
	}
	if (r == 0 && json_object_set(flat, "bandwidth.priority",
				      json_object_get(bw, "priority") ? json_object_get(bw, "priority") : json_null()) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = netctl_flatten_rest(flat, "bandwidth", bw, bw_keys);
	if (r == 0)
		r = netctl_format_fields(flat, fields, NETCTL_N(fields), 0, out);
	json_decref(flat);
	return r;
}

int netctl_format_json(const json_t *value, FILE *out)
{
	if (json_dumpf(value, out, JSON_INDENT(2)) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int netctl_format_json_line(const json_t *value, FILE *out)
{
	if (json_dumpf(value, out, JSON_COMPACT) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
