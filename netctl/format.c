#include "netctl/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "netctl/table.h"

#define NETCTL_SHORT_ID 12
#define NETCTL_CELL 256

static const char *netctl_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
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

static int netctl_cmp_workload(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	int r = netctl_cmp_str(netctl_str(a, "containerId"), netctl_str(b, "containerId"));

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

/* The status fields in the order people read them, with their labels.  Fields shoald adds
 * later are printed after these under their API name, so nothing is hidden. */
static const struct {
	const char *key;
	const char *label;
} netctl_status_fields[] = {
	{ "node", "Node" },
	{ "version", "Version" },
	{ "store", "Store" },
	{ "network", "Network" },
	{ "subnet", "Subnet" },
	{ "gateway", "Gateway" },
	{ "bridge", "Bridge" },
	{ "mtu", "MTU" },
	{ "workloads", "Workloads" },
	{ "addressesFree", "Free addresses" },
	{ "bridgePortsFree", "Free ports" },
	{ "capacityFree", "Capacity" },
	{ "antiSpoofing", "Anti-spoofing" },
	{ "pendingDeletes", "Pending deletes" },
	{ "uptimeSeconds", "Uptime" },
};
#define NETCTL_N_STATUS (sizeof(netctl_status_fields) / sizeof(netctl_status_fields[0]))

static bool netctl_status_known(const char *key)
{
	if (strcmp(key, "ok") == 0)
		return true;
	for (size_t i = 0; i < NETCTL_N_STATUS; i++)
		if (strcmp(key, netctl_status_fields[i].key) == 0)
			return true;
	return false;
}

static void netctl_status_line(const char *label, int width, const char *value, FILE *out)
{
	char sep[NETCTL_CELL];

	snprintf(sep, sizeof(sep), "%s:", label);
	fprintf(out, "%-*s %s\n", width + 1, sep, value && *value ? value : "-");
}

int netctl_format_status(const json_t *status, FILE *out)
{
	char buf[NETCTL_CELL];
	const char *key;
	json_t *v;
	int width = 0;

	if (!json_is_object(status))
		return -EINVAL;
	for (size_t i = 0; i < NETCTL_N_STATUS; i++)
		if ((int)strlen(netctl_status_fields[i].label) > width)
			width = (int)strlen(netctl_status_fields[i].label);
	json_object_foreach((json_t *)status, key, v)
		if (!netctl_status_known(key) && (int)strlen(key) > width)
			width = (int)strlen(key);
	for (size_t i = 0; i < NETCTL_N_STATUS; i++) {
		const char *value;

		v = json_object_get(status, netctl_status_fields[i].key);
		if (strcmp(netctl_status_fields[i].key, "uptimeSeconds") == 0 && json_is_integer(v)) {
			netctl_format_duration(json_integer_value(v), buf, sizeof(buf));
			value = buf;
		} else {
			value = netctl_cell(v, buf);
		}
		netctl_status_line(netctl_status_fields[i].label, width, value, out);
	}
	json_object_foreach((json_t *)status, key, v)
		if (!netctl_status_known(key))
			netctl_status_line(key, width, netctl_cell(v, buf), out);
	return ferror(out) ? -EIO : 0;
}

/* One table row from an API object: the cells are the values of keys[]. */
static int netctl_row(struct netctl_table *t, const json_t *obj, const char *const *keys, size_t n)
{
	char bufs[8][NETCTL_CELL];
	const char *cells[8];

	for (size_t c = 0; c < n && c < 8; c++)
		cells[c] = netctl_cell(json_object_get(obj, keys[c]), bufs[c]);
	return netctl_table_add_row(t, cells);
}

static int netctl_print_table(struct netctl_table *t, bool headers, FILE *out, int r)
{
	if (r >= 0)
		r = netctl_table_print(t, headers, out);
	netctl_table_free(t);
	return r;
}

int netctl_format_subnets(const json_t *list, bool headers, FILE *out)
{
	static const char *const head[] = { "SUBNET", "NODE", "PUBLIC IP", "VTEP MAC", "LEASE TTL", "SELF" };
	static const char *const keys[] = { "subnet", "node", "publicIP", "vtepMAC", "leaseTTL", "self" };
	json_t *sorted = netctl_sort_subnets(list), *s;
	struct netctl_table *t = netctl_table_new(6, head);
	size_t i;
	int r = 0;

	if (!sorted || !t) {
		json_decref(sorted);
		netctl_table_free(t);
		return sorted ? -ENOMEM : -EINVAL;
	}
	json_array_foreach(sorted, i, s) {
		r = netctl_row(t, s, keys, 6);
		if (r < 0)
			break;
	}
	json_decref(sorted);
	return netctl_print_table(t, headers, out, r);
}

/* Runtimes make 64-hex-digit ids; like docker and crictl show their first 12 digits. */
static bool netctl_long_hex_id(const char *id)
{
	if (!id || strlen(id) != 64)
		return false;
	return strspn(id, "0123456789abcdef") == 64;
}

int netctl_format_workloads(const json_t *list, bool headers, bool no_trunc, FILE *out)
{
	static const char *const head[] = { "CONTAINER ID", "IFNAME", "ADDRESS", "HOST VETH", "NETNS", "STATE" };
	static const char *const keys[] = { "containerId", "ifname", "address", "hostVeth", "netns", "state" };
	json_t *sorted = netctl_sort_workloads(list), *w;
	struct netctl_table *t = netctl_table_new(6, head);
	size_t i;
	int r = 0;

	if (!sorted || !t) {
		json_decref(sorted);
		netctl_table_free(t);
		return sorted ? -ENOMEM : -EINVAL;
	}
	json_array_foreach(sorted, i, w) {
		char bufs[6][NETCTL_CELL], id[NETCTL_SHORT_ID + 1];
		const char *cells[6];

		for (size_t c = 0; c < 6; c++)
			cells[c] = netctl_cell(json_object_get(w, keys[c]), bufs[c]);
		if (!no_trunc && netctl_long_hex_id(cells[0])) {
			memcpy(id, cells[0], NETCTL_SHORT_ID);
			id[NETCTL_SHORT_ID] = '\0';
			cells[0] = id;
		}
		r = netctl_table_add_row(t, cells);
		if (r < 0)
			break;
	}
	json_decref(sorted);
	return netctl_print_table(t, headers, out, r);
}

int netctl_format_json(const json_t *value, FILE *out)
{
	if (json_dumpf(value, out, JSON_INDENT(2)) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
