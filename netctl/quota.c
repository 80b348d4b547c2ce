#include "netctl/quota.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netctl/args.h"
#include "tc/quota.h"

/* Where each rate flag goes in the API's bandwidth object; indexed by enum netctl_quota_rate,
 * guarantee then limit of each direction. */
static const struct netctl_quota_key {
	const char *option;
	const char *dir;
	const char *key;
} netctl_quota_keys[NETCTL_QUOTA_N_RATES] = {
	[NETCTL_QUOTA_INGRESS_GUARANTEE] = { "--ingress-guarantee", "ingress", "guarantee" },
	[NETCTL_QUOTA_INGRESS_LIMIT] = { "--ingress-limit", "ingress", "limit" },
	[NETCTL_QUOTA_EGRESS_GUARANTEE] = { "--egress-guarantee", "egress", "guarantee" },
	[NETCTL_QUOTA_EGRESS_LIMIT] = { "--egress-limit", "egress", "limit" },
};

const char *netctl_quota_option(enum netctl_quota_rate r)
{
	return r >= 0 && r < NETCTL_QUOTA_N_RATES ? netctl_quota_keys[r].option : NULL;
}

int netctl_quota_parse_rate(const char *s, uint64_t *ret)
{
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	if (strcmp(s, "default") == 0) {
		*ret = 0;
		return 0;
	}
	r = quota_parse_rate(s, &v);
	if (r < 0)
		return r;
	/* tc reads "100" as 100 bit/s: as a guarantee or a limit that is always a forgotten unit. */
	if (v != 0 && s[strspn(s, "0123456789.")] == '\0')
		return -EDOM;
	/* The API's values are JSON integers, which shoald reads as int64. */
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*ret = v;
	return 0;
}

int netctl_quota_parse_priority(const char *s, int *ret)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "default") == 0) {
		*ret = NETCTL_QUOTA_PRIORITY_DEFAULT;
		return 0;
	}
	if (s[0] < '0' || s[0] > '0' + NETCTL_QUOTA_PRIORITY_MAX || s[1] != '\0')
		return -EINVAL;
	*ret = s[0] - '0';
	return 0;
}

bool netctl_quota_any(const struct netctl_quota_change *c)
{
	for (int i = 0; i < NETCTL_QUOTA_N_RATES; i++)
		if (c->rate[i].given)
			return true;
	return c->priority_given;
}

/* A guarantee above the limit in one direction: say where each number came from (a flag, or what
 * the workload asked for before) and which flag changes it. */
static int netctl_quota_conflict(const struct netctl_quota_change *c, enum netctl_quota_rate g_id, uint64_t g,
				 uint64_t l, char *err, size_t err_size)
{
	const struct netctl_quota_key *gk = &netctl_quota_keys[g_id], *lk = &netctl_quota_keys[g_id + 1];
	bool g_flag = c->rate[g_id].given, l_flag = c->rate[g_id + 1].given;
	char gs[QUOTA_RATE_STRLEN], ls[QUOTA_RATE_STRLEN];

	quota_format_rate(g, gs);
	quota_format_rate(l, ls);
	if (g_flag && l_flag)
		return netctl_args_fail(err, err_size, "%s %s is above %s %s", gk->option, gs, lk->option, ls);
	if (g_flag)
		return netctl_args_fail(err, err_size,
					 "%s %s is above the %s limit %s the workload asked for: raise or clear that too (%s)",
					 gk->option, gs, gk->dir, ls, lk->option);
	if (l_flag)
		return netctl_args_fail(err, err_size,
					 "%s %s is below the %s guarantee %s the workload asked for: lower or clear that too (%s)",
					 lk->option, ls, gk->dir, gs, gk->option);
	return netctl_args_fail(err, err_size, "the %s guarantee %s the workload asked for is above its limit %s: "
				 "change either (%s, %s)", gk->dir, gs, ls, gk->option, lk->option);
}

int netctl_quota_check(const struct netctl_quota_change *c, char *err, size_t err_size)
{
	for (int g = 0; g < NETCTL_QUOTA_N_RATES; g += 2) {
		const struct netctl_quota_flag *gf = &c->rate[g], *lf = &c->rate[g + 1];

		/* 0 is "the default": a default guarantee or limit is checked by shoald, which knows it. */
		if (gf->given && lf->given && gf->bps && lf->bps && gf->bps > lf->bps)
			return netctl_quota_conflict(c, (enum netctl_quota_rate)g, gf->bps, lf->bps, err, err_size);
	}
	return 0;
}

/* A positive integer value of the merged object, or 0 (not set, or not a number shoald takes). */
static uint64_t netctl_quota_value(const json_t *bw, const char *dir, const char *key)
{
	json_t *v = json_object_get(json_object_get(bw, dir), key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int netctl_quota_apply(json_t *bw, const struct netctl_quota_change *c)
{
	for (int i = 0; i < NETCTL_QUOTA_N_RATES; i++) {
		const struct netctl_quota_key *k = &netctl_quota_keys[i];
		json_t *dir;

		if (!c->rate[i].given)
			continue;
		dir = json_object_get(bw, k->dir);
		if (c->rate[i].bps == 0) {
			if (json_is_object(dir))
				json_object_del(dir, k->key);
			continue;
		}
		if (!json_is_object(dir)) {
			dir = json_object();
			if (json_object_set_new(bw, k->dir, dir) < 0)
				return -ENOMEM;
		}
		if (json_object_set_new(dir, k->key, json_integer((json_int_t)c->rate[i].bps)) < 0)
			return -ENOMEM;
	}
	/* {} is "nothing asked" in that direction: leave it out, as shoald does. */
	for (int i = 0; i < NETCTL_QUOTA_N_RATES; i += 2) {
		json_t *dir = json_object_get(bw, netctl_quota_keys[i].dir);

		if (json_is_object(dir) && json_object_size(dir) == 0)
			json_object_del(bw, netctl_quota_keys[i].dir);
	}
	if (c->priority_given) {
		if (c->priority == NETCTL_QUOTA_PRIORITY_DEFAULT)
			json_object_del(bw, "priority");
		else if (json_object_set_new(bw, "priority", json_integer(c->priority)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int netctl_quota_merge(const json_t *asked, const struct netctl_quota_change *c, json_t **ret, char *err,
		       size_t err_size)
{
	json_t *bw;
	int r;

	if (!json_is_object(asked))
		return netctl_args_fail(err, err_size, "shoald's workload has no \"bandwidthAsked\" object");
	/* Deep: the answer's objects stay as shoald sent them. */
	bw = json_deep_copy(asked);
	if (!bw)
		return -ENOMEM;
	r = netctl_quota_apply(bw, c);
	for (int g = 0; r == 0 && g < NETCTL_QUOTA_N_RATES; g += 2) {
		const struct netctl_quota_key *k = &netctl_quota_keys[g];
		uint64_t gv = netctl_quota_value(bw, k->dir, "guarantee"), lv = netctl_quota_value(bw, k->dir, "limit");

		if (gv && lv && gv > lv)
			r = netctl_quota_conflict(c, (enum netctl_quota_rate)g, gv, lv, err, err_size);
	}
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, err_size, "%s", strerror(ENOMEM));
		json_decref(bw);
		return r;
	}
	*ret = bw;
	return 0;
}

json_t *netctl_quota_request(const json_t *w, const json_t *bandwidth)
{
	const char *id = json_string_value(json_object_get(w, "containerId"));
	const char *ifname = json_string_value(json_object_get(w, "ifname"));

	if (!id || !ifname || !bandwidth)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:O}", "op", "quota", "containerId", id, "ifname", ifname, "bandwidth",
			 (json_t *)bandwidth);
}

json_t *netctl_quota_cgroup_request(const char *path, const json_t *bandwidth)
{
	if (!path || !bandwidth)
		return NULL;
	return json_pack("{s:s, s:s, s:O}", "op", "quota", "cgroup", path, "bandwidth", (json_t *)bandwidth);
}

json_t *netctl_quota_delete_request(const char *path)
{
	return path ? json_pack("{s:s, s:s}", "op", "quotaDelete", "cgroup", path) : NULL;
}

json_t *netctl_quota_doc(const json_t *w, const json_t *effective, const json_t *asked)
{
	json_t *doc = json_object();
	const char *kind = json_string_value(json_object_get(w, "kind"));

	if (!doc)
		return NULL;
	/* A cgroup is named by its path (relative to the mount, as shoald keeps it), the whole path
	 * and its id: what tells which directory shoald took PATH for. */
	if (kind && strcmp(kind, "cgroup") == 0) {
		static const char *const names[] = { "kind", "cgroup", "cgroupDir", "cgroupId" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			json_t *v = json_object_get(w, names[i]);

			if (json_object_set(doc, names[i], v ? v : json_null()) < 0) {
				json_decref(doc);
				return NULL;
			}
		}
		if (json_object_set(doc, "bandwidth", effective ? (json_t *)effective : json_null()) < 0 ||
		    json_object_set(doc, "bandwidthAsked", asked ? (json_t *)asked : json_null()) < 0 ||
		    (json_object_get(w, "policy") && json_object_set(doc, "policy", json_object_get(w, "policy")) < 0)) {
			json_decref(doc);
			return NULL;
		}
		return doc;
	}
	if (json_object_set(doc, "containerId", json_object_get(w, "containerId") ? json_object_get(w, "containerId")
									       : json_null()) < 0 ||
	    json_object_set(doc, "ifname", json_object_get(w, "ifname") ? json_object_get(w, "ifname") : json_null()) < 0 ||
	    json_object_set(doc, "bandwidth", effective ? (json_t *)effective : json_null()) < 0 ||
	    json_object_set(doc, "bandwidthAsked", asked ? (json_t *)asked : json_null()) < 0 ||
	    (json_object_get(w, "policy") && json_object_set(doc, "policy", json_object_get(w, "policy")) < 0)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
