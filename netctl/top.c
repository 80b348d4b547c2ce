#include "netctl/top.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netctl/format.h"
#include "netctl/table.h"
#include "tc/quota.h"

#define NETCTL_TOP_SHORT_ID 12
#define NETCTL_TOP_CELL 128

/* The deltas a sample shows, in the order of the API's "counters" direction object. */
static const char *const netctl_top_counters[] = { "bytes", "packets", "drops", "overlimits", "borrows" };
#define NETCTL_TOP_N_COUNTERS (sizeof(netctl_top_counters) / sizeof(netctl_top_counters[0]))

static const char *netctl_top_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* A cgroup's entry ({"kind": "cgroup", "cgroup": PATH, ...}) rather than an attachment's. */
static bool netctl_top_is_cgroup(const json_t *w)
{
	return strcmp(netctl_top_str(w, "kind"), "cgroup") == 0;
}

/* The entry of list with w's container id and interface (a cgroup: its path), or NULL. */
static const json_t *netctl_top_find(const json_t *list, const json_t *w)
{
	const char *id = netctl_top_str(w, "containerId"), *ifname = netctl_top_str(w, "ifname");
	const char *path = netctl_top_str(w, "cgroup");
	bool cgroup = netctl_top_is_cgroup(w);
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		if (netctl_top_is_cgroup(e) != cgroup)
			continue;
		if (cgroup ? !strcmp(netctl_top_str(e, "cgroup"), path)
			   : !strcmp(netctl_top_str(e, "containerId"), id) && !strcmp(netctl_top_str(e, "ifname"), ifname))
			return e;
	}
	return NULL;
}

/* A counter as a non-negative integer; false when missing or not one. */
static bool netctl_top_counter(const json_t *dir, const char *key, uint64_t *ret)
{
	json_t *v = json_object_get(dir, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*ret = (uint64_t)json_integer_value(v);
	return true;
}

static json_t *netctl_top_share(const json_t *w, const char *dir, const char *key)
{
	json_t *v = json_object_get(json_object_get(json_object_get(w, "bandwidth"), dir), key);

	return json_is_integer(v) ? json_copy(v) : json_null();
}

/* Per second over interval_ms (> 0), rounded to the nearest; exact in integers (netctl links no
 * libm, and a double would lose the low digits of a 64-bit counter). */
static json_int_t netctl_top_per_second(uint64_t delta, long long interval_ms)
{
	unsigned __int128 v = ((unsigned __int128)delta * 1000 + (unsigned long long)interval_ms / 2) /
			      (unsigned long long)interval_ms;

	return v > INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

/* One direction of a sample entry; *ret_bps gets its bit rate when known. */
static json_t *netctl_top_dir(const json_t *pw, const json_t *cw, const char *dir, long long interval_ms,
			      bool *ret_known, uint64_t *ret_bps)
{
	const json_t *pc = json_object_get(json_object_get(pw, "counters"), dir);
	const json_t *cc = json_object_get(json_object_get(cw, "counters"), dir);
	uint64_t delta[NETCTL_TOP_N_COUNTERS];
	bool known = pc && cc && interval_ms > 0;
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (size_t k = 0; known && k < NETCTL_TOP_N_COUNTERS; k++) {
		uint64_t a, b;

		known = netctl_top_counter(pc, netctl_top_counters[k], &a) &&
			netctl_top_counter(cc, netctl_top_counters[k], &b) && b >= a;
		if (known)
			delta[k] = b - a;
	}
	*ret_known = known;
	*ret_bps = 0;
	if (known) {
		*ret_bps = (uint64_t)netctl_top_per_second(delta[0] > UINT64_MAX / 8 ? UINT64_MAX : delta[0] * 8, interval_ms);
		json_object_set_new(o, "bitRate", json_integer((json_int_t)*ret_bps));
		json_object_set_new(o, "packetRate", json_integer(netctl_top_per_second(delta[1], interval_ms)));
	} else {
		json_object_set_new(o, "bitRate", json_null());
		json_object_set_new(o, "packetRate", json_null());
	}
	for (size_t k = 0; k < NETCTL_TOP_N_COUNTERS; k++)
		json_object_set_new(o, netctl_top_counters[k], known ? json_integer((json_int_t)delta[k]) : json_null());
	json_object_set_new(o, "guaranteeBitRate", netctl_top_share(cw, dir, "guaranteeBitRate"));
	json_object_set_new(o, "limitBitRate", netctl_top_share(cw, dir, "limitBitRate"));
	if (json_object_size(o) != 4 + NETCTL_TOP_N_COUNTERS) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *netctl_top_entry(const json_t *pw, const json_t *cw, long long interval_ms)
{
	static const char *const keys[] = { "containerId", "ifname", "address", "namespace", "pod" };
	static const char *const cgroup_keys[] = { "kind", "cgroup" };
	bool kin, kout, cgroup = netctl_top_is_cgroup(cw);
	const char *const *names = cgroup ? cgroup_keys : keys;
	size_t n = cgroup ? sizeof(cgroup_keys) / sizeof(cgroup_keys[0]) : sizeof(keys) / sizeof(keys[0]);
	uint64_t in, out;
	json_t *e = json_object(), *din, *dout;

	if (!e)
		return NULL;
	for (size_t k = 0; k < n; k++)
		json_object_set_new(e, names[k], json_string(netctl_top_str(cw, names[k])));
	din = netctl_top_dir(pw, cw, "ingress", interval_ms, &kin, &in);
	dout = netctl_top_dir(pw, cw, "egress", interval_ms, &kout, &out);
	json_object_set_new(e, "bitRate", kin || kout ? json_integer((json_int_t)(in + out)) : json_null());
	if (!din || !dout || json_object_set_new(e, "ingress", din) < 0 || json_object_set_new(e, "egress", dout) < 0 ||
	    json_object_size(e) != n + 3) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int netctl_top_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	json_int_t ra = json_integer_value(json_object_get(a, "bitRate"));   /* null: 0 */
	json_int_t rb = json_integer_value(json_object_get(b, "bitRate"));
	int r;

	if (ra != rb)
		return ra > rb ? -1 : 1;
	/* Attachments, then cgroups by path. */
	if (netctl_top_is_cgroup(a) != netctl_top_is_cgroup(b))
		return netctl_top_is_cgroup(a) ? 1 : -1;
	if (netctl_top_is_cgroup(a))
		return strcmp(netctl_top_str(a, "cgroup"), netctl_top_str(b, "cgroup"));
	r = strcmp(netctl_top_str(a, "containerId"), netctl_top_str(b, "containerId"));
	return r ? r : strcmp(netctl_top_str(a, "ifname"), netctl_top_str(b, "ifname"));
}

/* "2026-12-02T06:40:01.234Z" */
static void netctl_top_timestamp(long long unix_ms, char *buf, size_t size)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	char s[32];

	if (unix_ms <= 0 || !gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s.%03lldZ", s, unix_ms % 1000);
}

json_t *netctl_top_sample(const json_t *prev, const json_t *cur, long long interval_ms, long long unix_ms)
{
	size_t n = json_array_size(cur), i;
	json_t **items, *list = NULL, *sample;
	const json_t *cw;
	char ts[48];

	if (!json_is_array(cur))
		return NULL;
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return NULL;
	json_array_foreach(cur, i, cw) {
		items[i] = netctl_top_entry(prev ? netctl_top_find(prev, cw) : NULL, cw, interval_ms);
		if (!items[i])
			goto out;
	}
	qsort(items, n, sizeof(*items), netctl_top_cmp);
	list = json_array();
	for (i = 0; list && i < n; i++)
		if (json_array_append(list, items[i]) < 0) {
			json_decref(list);
			list = NULL;
		}
out:
	for (i = 0; i < n; i++)
		json_decref(items[i]);
	free(items);
	if (!list)
		return NULL;
	netctl_top_timestamp(unix_ms, ts, sizeof(ts));
	sample = json_pack("{s:s, s:I, s:o}", "timestamp", ts, "intervalMs", (json_int_t)interval_ms, "workloads", list);
	return sample;
}

void netctl_top_format_rate(uint64_t bps, char *buf, size_t size)
{
	static const char *const units[] = { "kbit", "mbit", "gbit", "tbit" };
	double v = (double)bps;
	size_t u = 0;

	if (bps < 1000) {
		snprintf(buf, size, "%" PRIu64 "bit", bps);
		return;
	}
	v /= 1000;
	/* 999.96 would print as 1000.0 of this unit: move up first. */
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= 999.95) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, "%.1f%s", v, units[u]);
}

static const char *netctl_top_rate_cell(const json_t *v, char buf[NETCTL_TOP_CELL])
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return "-";
	netctl_top_format_rate((uint64_t)json_integer_value(v), buf, NETCTL_TOP_CELL);
	return buf;
}

/* "120mbit/200mbit" in tc's units, as quota get shows them; "-" without a share. */
static const char *netctl_top_share_cell(const json_t *dir, char buf[NETCTL_TOP_CELL])
{
	json_t *g = json_object_get(dir, "guaranteeBitRate"), *l = json_object_get(dir, "limitBitRate");
	char gt[QUOTA_RATE_STRLEN], lt[QUOTA_RATE_STRLEN];

	if (!json_is_integer(g) || !json_is_integer(l) || json_integer_value(g) < 0 || json_integer_value(l) < 0)
		return "-";
	quota_format_rate((uint64_t)json_integer_value(g), gt);
	quota_format_rate((uint64_t)json_integer_value(l), lt);
	snprintf(buf, NETCTL_TOP_CELL, "%s/%s", gt, lt);
	return buf;
}

/* The sum of a counter's deltas over both directions; "-" when neither is known. */
static const char *netctl_top_sum_cell(const json_t *e, const char *key, char buf[NETCTL_TOP_CELL])
{
	json_t *a = json_object_get(json_object_get(e, "ingress"), key);
	json_t *b = json_object_get(json_object_get(e, "egress"), key);

	if (!json_is_integer(a) && !json_is_integer(b))
		return "-";
	snprintf(buf, NETCTL_TOP_CELL, "%" JSON_INTEGER_FORMAT, json_integer_value(a) + json_integer_value(b));
	return buf;
}

enum { TOP_ID, TOP_IFNAME, TOP_ADDRESS, TOP_POD, TOP_IN, TOP_IN_SHARE, TOP_OUT, TOP_OUT_SHARE, TOP_DROPS,
       TOP_BORROWS, TOP_N_COLS };

int netctl_top_format(const json_t *sample, unsigned flags, FILE *out)
{
	static const char *const headers[TOP_N_COLS] = { "CONTAINER ID", "IFNAME", "ADDRESS", "POD", "IN RATE",
		"IN GUARANTEE/LIMIT", "OUT RATE", "OUT GUARANTEE/LIMIT", "DROPS", "BORROWS" };
	bool wide = flags & NETCTL_FORMAT_WIDE;
	const json_t *list = json_object_get(sample, "workloads"), *e;
	const char *head[TOP_N_COLS];
	uint64_t total_in = 0, total_out = 0;
	struct netctl_table *t;
	char a[NETCTL_TOP_CELL], b[NETCTL_TOP_CELL];
	size_t n = 0, i;
	int r = 0;

	if (!json_is_array(list))
		return -EINVAL;
	for (int c = 0; c < TOP_N_COLS; c++)
		if (wide || (c != TOP_IFNAME && c != TOP_ADDRESS))
			head[n++] = headers[c];
	json_array_foreach(list, i, e) {
		json_t *vi = json_object_get(json_object_get(e, "ingress"), "bitRate");
		json_t *vo = json_object_get(json_object_get(e, "egress"), "bitRate");

		total_in += json_is_integer(vi) ? (uint64_t)json_integer_value(vi) : 0;
		total_out += json_is_integer(vo) ? (uint64_t)json_integer_value(vo) : 0;
	}
	if (flags & NETCTL_FORMAT_HEADERS) {
		json_int_t ms = json_integer_value(json_object_get(sample, "intervalMs"));

		netctl_top_format_rate(total_in, a, sizeof(a));
		netctl_top_format_rate(total_out, b, sizeof(b));
		fprintf(out, "%zu workload%s   in %s   out %s   over %" JSON_INTEGER_FORMAT ".%03" JSON_INTEGER_FORMAT "s\n\n",
			json_array_size(list), json_array_size(list) == 1 ? "" : "s", a, b, ms / 1000, ms % 1000);
	}
	t = netctl_table_new(n, head);
	if (!t)
		return -ENOMEM;
	json_array_foreach(list, i, e) {
		char bufs[TOP_N_COLS][NETCTL_TOP_CELL];
		const char *cells[TOP_N_COLS];
		const json_t *in = json_object_get(e, "ingress"), *eg = json_object_get(e, "egress");
		const char *id = netctl_top_str(e, "containerId"), *ns = netctl_top_str(e, "namespace");
		const char *pod = netctl_top_str(e, "pod");
		size_t k = 0;

		/* Runtimes make 64-hex-digit ids; like the other tables, their first 12 digits.  A
		 * cgroup is cgroup:PATH there, as in workload list. */
		if (netctl_top_is_cgroup(e))
			snprintf(bufs[TOP_ID], NETCTL_TOP_CELL, "cgroup:%s", netctl_top_str(e, "cgroup"));
		else if (!(flags & NETCTL_FORMAT_NO_TRUNC) && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64)
			snprintf(bufs[TOP_ID], NETCTL_TOP_CELL, "%.*s", NETCTL_TOP_SHORT_ID, id);
		else
			snprintf(bufs[TOP_ID], NETCTL_TOP_CELL, "%s", id);
		cells[k++] = bufs[TOP_ID];
		if (wide) {
			cells[k++] = netctl_top_str(e, "ifname");
			cells[k++] = netctl_top_str(e, "address");
		}
		if (*pod)
			snprintf(bufs[TOP_POD], NETCTL_TOP_CELL, "%s%s%s", ns, *ns ? "/" : "", pod);
		else
			bufs[TOP_POD][0] = '\0';
		cells[k++] = bufs[TOP_POD];
		cells[k++] = netctl_top_rate_cell(json_object_get(in, "bitRate"), bufs[TOP_IN]);
		cells[k++] = netctl_top_share_cell(in, bufs[TOP_IN_SHARE]);
		cells[k++] = netctl_top_rate_cell(json_object_get(eg, "bitRate"), bufs[TOP_OUT]);
		cells[k++] = netctl_top_share_cell(eg, bufs[TOP_OUT_SHARE]);
		cells[k++] = netctl_top_sum_cell(e, "drops", bufs[TOP_DROPS]);
		cells[k++] = netctl_top_sum_cell(e, "borrows", bufs[TOP_BORROWS]);
		r = netctl_table_add_row(t, cells);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = netctl_table_print(t, flags & NETCTL_FORMAT_HEADERS, out);
	netctl_table_free(t);
	return r;
}
