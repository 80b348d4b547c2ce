#include "netctl/policy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/args.h"
#include "netctl/format.h"
#include "netctl/table.h"
#include "tc/quota.h"

/* As netd/policy.c spells them (tests/unit/test_netctl.c compares the two tables): netctl links
 * nothing of netd/. */
static const char *const netctl_policy_keys[POLICY_N_KEYS] = {
	[POLICY_KEY_POD_NAMESPACE] = "K8S_POD_NAMESPACE",
	[POLICY_KEY_POD_NAME] = "K8S_POD_NAME",
	[POLICY_KEY_POD_UID] = "K8S_POD_UID",
	[POLICY_KEY_NETWORK] = "network",
	[POLICY_KEY_CGROUP] = "cgroup",
};

#define NETCTL_POLICY_KEY_LIST "K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, network, cgroup"

/* A table cell: a whole match of POLICY_MATCH_MAX patterns fits. */
#define NETCTL_POLICY_CELL (POLICY_MATCH_MAX * (POLICY_PATTERN_SIZE + 24))

const char *netctl_policy_key_name(enum policy_key k)
{
	return (unsigned)k < POLICY_N_KEYS ? netctl_policy_keys[k] : NULL;
}

bool netctl_policy_name_valid(const char *name)
{
	if (!name || !isalnum((unsigned char)name[0]) || strlen(name) >= POLICY_NAME_SIZE)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

int netctl_policy_add_match(struct netctl_policy_match *m, const char *s, char *err, size_t err_size)
{
	const char *eq = strchr(s, '=');
	size_t key_len;
	int key = -1;

	if (!eq)
		return netctl_args_fail(err, err_size, "--match '%s': want KEY=PATTERN, KEY one of " NETCTL_POLICY_KEY_LIST, s);
	key_len = (size_t)(eq - s);
	for (int k = 0; k < POLICY_N_KEYS; k++)
		if (strlen(netctl_policy_keys[k]) == key_len && strncmp(s, netctl_policy_keys[k], key_len) == 0)
			key = k;
	if (key < 0)
		return netctl_args_fail(err, err_size, "--match '%s': unknown key '%.*s' (" NETCTL_POLICY_KEY_LIST ")", s,
					(int)key_len, s);
	if (!eq[1])
		return netctl_args_fail(err, err_size, "--match '%s': empty pattern (* matches any value; --all matches "
					"every workload)", s);
	if (strlen(eq + 1) >= POLICY_PATTERN_SIZE)
		return netctl_args_fail(err, err_size, "--match %s: the pattern is longer than %d bytes",
					netctl_policy_keys[key], POLICY_PATTERN_SIZE - 1);
	for (size_t i = 0; i < m->n; i++)
		if ((int)m->term[i].key == key)
			return netctl_args_fail(err, err_size, "--match %s given twice (a workload has one value per key: "
						"one pattern such as 'web-[0-3]' or 'web-*' covers several)",
						netctl_policy_keys[key]);
	if (m->n == POLICY_MATCH_MAX)
		return netctl_args_fail(err, err_size, "--match given more than %d times", POLICY_MATCH_MAX);
	m->term[m->n].key = (enum policy_key)key;
	m->term[m->n].pattern = eq + 1;
	m->n++;
	return 0;
}

int netctl_policy_check(const struct netctl_quota_change *c, char *err, size_t err_size)
{
	for (int q = 0; q < NETCTL_QUOTA_N_RATES; q++)
		if (c->rate[q].given && c->rate[q].bps == 0)
			return netctl_args_fail(err, err_size, "%s 0 or default: a policy has no value to clear; leave the "
						"option out (a workload then keeps its own value, or shoald's default)",
						netctl_quota_option((enum netctl_quota_rate)q));
	if (c->priority_given && c->priority == NETCTL_QUOTA_PRIORITY_DEFAULT)
		return netctl_args_fail(err, err_size, "--priority default: a policy has no value to clear; leave the "
					"option out (a workload then keeps its own priority, or shoald's default)");
	if (!netctl_quota_any(c))
		return netctl_args_fail(err, err_size, "nothing to set: give at least one of --ingress-guarantee, "
					"--ingress-limit, --egress-guarantee, --egress-limit, --priority");
	return netctl_quota_check(c, err, err_size);
}

json_t *netctl_policy_set_request(const char *name, const struct netctl_policy_match *m,
				  const struct netctl_quota_change *c)
{
	json_t *match = json_object(), *empty = json_object(), *bw = NULL, *req = NULL;

	if (!match || !empty || !name)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (json_object_set_new(match, netctl_policy_keys[m->term[i].key], json_string(m->term[i].pattern)) < 0)
			goto out;
	/* The given values over nothing: the same bandwidth object quota set builds. */
	if (netctl_quota_merge(empty, c, &bw, NULL, 0) < 0)
		goto out;
	req = json_pack("{s:s, s:s, s:O, s:O}", "op", "policySet", "name", name, "match", match, "bandwidth", bw);
out:
	json_decref(bw);
	json_decref(empty);
	json_decref(match);
	return req;
}

json_t *netctl_policy_delete_request(const char *name)
{
	return name ? json_pack("{s:s, s:s}", "op", "policyDelete", "name", name) : NULL;
}

static int netctl_policy_cmp(const void *pa, const void *pb)
{
	const char *a = json_string_value(json_object_get(*(const json_t *const *)pa, "name"));
	const char *b = json_string_value(json_object_get(*(const json_t *const *)pb, "name"));

	return strcmp(a ? a : "", b ? b : "");
}

json_t *netctl_sort_policies(const json_t *list)
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
	qsort(items, n, sizeof(*items), netctl_policy_cmp);
	for (size_t i = 0; out && i < n; i++)
		if (json_array_append(out, items[i]) < 0) {
			json_decref(out);
			out = NULL;
		}
	free(items);
	return out;
}

const char *netctl_policy_match_text(const json_t *match, char *buf, size_t size)
{
	const char *key;
	json_t *v;
	size_t len = 0;

	if (!json_is_object(match))
		return "-";
	if (json_object_size(match) == 0)
		return "*";
	buf[0] = '\0';
	json_object_foreach((json_t *)match, key, v) {
		const char *pattern = json_string_value(v);
		int n = snprintf(buf + len, size - len, "%s%s=%s", len ? "," : "", key, pattern ? pattern : "?");

		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* A rate of a policy in tc's units; "-" when not set, "?" when not a rate. */
static const char *netctl_policy_rate(const json_t *v, char buf[QUOTA_RATE_STRLEN])
{
	if (!v || (json_is_integer(v) && json_integer_value(v) == 0))
		return "-";
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return "?";
	quota_format_rate((uint64_t)json_integer_value(v), buf);
	return buf;
}

const char *netctl_policy_rates_text(const json_t *dir, char *buf, size_t size)
{
	char g[QUOTA_RATE_STRLEN], l[QUOTA_RATE_STRLEN];
	const char *gt = netctl_policy_rate(json_object_get(dir, "guarantee"), g);
	const char *lt = netctl_policy_rate(json_object_get(dir, "limit"), l);

	if (strcmp(gt, "-") == 0 && strcmp(lt, "-") == 0)
		return "-";
	snprintf(buf, size, "%s/%s", gt, lt);
	return buf;
}

/* Any JSON integer as text; "-" when missing or null, "?" for another type. */
static const char *netctl_policy_int(const json_t *v, char *buf, size_t size)
{
	if (!v || json_is_null(v))
		return "-";
	if (!json_is_integer(v))
		return "?";
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

enum {
	POL_NAME, POL_MATCH, POL_INGRESS, POL_EGRESS, POL_PRIORITY, POL_WORKLOADS,
	POL_IN_BURST, POL_OUT_BURST,   /* -o wide */
	POL_ERROR,                     /* only when a policy does not parse */
	POL_N_COLS,
};

static bool netctl_policies_broken(const json_t *list)
{
	json_t *p;
	size_t i;

	json_array_foreach(list, i, p)
		if (json_object_get(p, "error"))
			return true;
	return false;
}

int netctl_format_policies(const json_t *list, unsigned flags, FILE *out)
{
	static const char *const headers[POL_N_COLS] = {
		[POL_NAME] = "NAME", [POL_MATCH] = "MATCH", [POL_INGRESS] = "INGRESS", [POL_EGRESS] = "EGRESS",
		[POL_PRIORITY] = "PRIORITY", [POL_WORKLOADS] = "WORKLOADS", [POL_IN_BURST] = "IN BURST",
		[POL_OUT_BURST] = "OUT BURST", [POL_ERROR] = "ERROR",
	};
	bool wide = flags & NETCTL_FORMAT_WIDE, broken = netctl_policies_broken(list);
	const char *head[POL_N_COLS];
	int col[POL_N_COLS];   /* the shown columns, in order */
	size_t n = 0, i;
	struct netctl_table *t = NULL;
	json_t *sorted = netctl_sort_policies(list), *p;
	int r = 0;

	if (!sorted)
		return json_is_array(list) ? -ENOMEM : -EINVAL;
	for (int c = 0; c < POL_N_COLS; c++) {
		if ((c == POL_IN_BURST || c == POL_OUT_BURST) && !wide)
			continue;
		if (c == POL_ERROR && !broken)
			continue;
		col[n] = c;
		head[n++] = headers[c];
	}
	t = netctl_table_new(n, head);
	if (!t)
		r = -ENOMEM;
	json_array_foreach(sorted, i, p) {
		char bufs[POL_N_COLS][NETCTL_POLICY_CELL], in_bits[QUOTA_RATE_STRLEN], out_bits[QUOTA_RATE_STRLEN];
		const json_t *bw = json_object_get(p, "bandwidth");
		const char *cells[POL_N_COLS], *cell[POL_N_COLS];

		if (r < 0)
			break;
		cell[POL_NAME] = json_string_value(json_object_get(p, "name"));
		cell[POL_MATCH] = netctl_policy_match_text(json_object_get(p, "match"), bufs[POL_MATCH], NETCTL_POLICY_CELL);
		cell[POL_INGRESS] = netctl_policy_rates_text(json_object_get(bw, "ingress"), bufs[POL_INGRESS],
							     NETCTL_POLICY_CELL);
		cell[POL_EGRESS] = netctl_policy_rates_text(json_object_get(bw, "egress"), bufs[POL_EGRESS],
							    NETCTL_POLICY_CELL);
		cell[POL_PRIORITY] = netctl_policy_int(json_object_get(bw, "priority"), bufs[POL_PRIORITY], NETCTL_POLICY_CELL);
		cell[POL_WORKLOADS] = netctl_policy_int(json_object_get(p, "workloads"), bufs[POL_WORKLOADS],
							NETCTL_POLICY_CELL);
		cell[POL_IN_BURST] = netctl_policy_rate(json_object_get(json_object_get(bw, "ingress"), "burst"), in_bits);
		cell[POL_OUT_BURST] = netctl_policy_rate(json_object_get(json_object_get(bw, "egress"), "burst"), out_bits);
		cell[POL_ERROR] = json_string_value(json_object_get(p, "error"));
		/* A broken policy has nothing but its name and why. */
		if (json_object_get(p, "error"))
			cell[POL_MATCH] = cell[POL_INGRESS] = cell[POL_EGRESS] = cell[POL_PRIORITY] = cell[POL_WORKLOADS] =
				cell[POL_IN_BURST] = cell[POL_OUT_BURST] = "-";
		for (size_t c = 0; c < n; c++)
			cells[c] = cell[col[c]];
		r = netctl_table_add_row(t, cells);
	}
	if (r >= 0)
		r = netctl_table_print(t, flags & NETCTL_FORMAT_HEADERS, out);
	netctl_table_free(t);
	json_decref(sorted);
	return r;
}
