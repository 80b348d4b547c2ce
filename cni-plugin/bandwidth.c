#include "cni-plugin/bandwidth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/cnierr.h"
#include "tc/quota.h"

#define CONF_PREFIX "runtimeConfig.bandwidth."

struct key {
	const char *name;
	enum cni_bw_field f;
};

/* The reference bandwidth plugin's four keys, then shoal's.  Matched case-insensitively: Go's
 * decoder does, and Debian 12's containerd (1.6, go-cni's BandWidth struct without JSON tags) sends
 * {"IngressRate":..,"IngressBurst":4294967295,"EgressRate":0,"EgressBurst":0}. */
static const struct key conf_keys[] = {
	{ "ingressRate", CNI_BW_INGRESS_LIMIT },
	{ "ingressBurst", CNI_BW_INGRESS_BURST },
	{ "egressRate", CNI_BW_EGRESS_LIMIT },
	{ "egressBurst", CNI_BW_EGRESS_BURST },
	{ "ingressGuarantee", CNI_BW_INGRESS_GUARANTEE },
	{ "egressGuarantee", CNI_BW_EGRESS_GUARANTEE },
	{ "priority", CNI_BW_PRIORITY },
};

/* CNI_ARGS keys are case-sensitive (K8S_POD_NAME is never written otherwise). */
static const struct key arg_keys[] = {
	{ "SHOAL_INGRESS_GUARANTEE", CNI_BW_INGRESS_GUARANTEE },
	{ "SHOAL_INGRESS_LIMIT", CNI_BW_INGRESS_LIMIT },
	{ "SHOAL_EGRESS_GUARANTEE", CNI_BW_EGRESS_GUARANTEE },
	{ "SHOAL_EGRESS_LIMIT", CNI_BW_EGRESS_LIMIT },
	{ "SHOAL_PRIORITY", CNI_BW_PRIORITY },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *unit(enum cni_bw_field f)
{
	if (f == CNI_BW_PRIORITY)
		return "0..7";
	if (f == CNI_BW_INGRESS_BURST || f == CNI_BW_EGRESS_BURST)
		return "bits";
	return "bit/s";
}

static void set(struct cni_bw_value *v, uint64_t value, enum cni_bw_source source, const char *key)
{
	v->value = value;
	v->source = source;
	snprintf(v->key, sizeof(v->key), "%s", key);
}

/* One value of runtimeConfig.bandwidth: a JSON integer >= 0.  An integer beyond INT64_MAX never gets
 * here: the config's parse refuses it, naming the key (cni_conf_parse).  null leaves the value unset,
 * as Go's decoder does. */
static int conf_value(const char *key, const json_t *j, enum cni_bw_field f, struct cni_bw_value *ret,
		      struct cni_error *err)
{
	json_int_t v;

	if (json_is_null(j))
		return 0;
	if (json_is_real(j)) {
		/* 1.5, 1e7, 1e30: Go refuses them for the reference plugin's uint64 fields too. */
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be an integer (%s), not %g",
			      key, unit(f), json_real_value(j));
		cni_error_details(err, "write whole numbers without a fraction or an exponent, e.g. 100000000 for 100 Mbit/s");
		return -EINVAL;
	}
	if (!json_is_integer(j))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be an integer (%s), not %s",
				     key, unit(f), cni_json_type_name(j));
	v = json_integer_value(j);
	if (v < 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": %lld is negative", key,
				     (long long)v);
	if (f == CNI_BW_PRIORITY) {
		if (v > CNI_BW_PRIORITY_MAX)
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": %lld is out of range "
					     "0..7 (0 is the highest priority)", key, (long long)v);
		set(ret, (uint64_t)v, CNI_BW_CONFIG, key);
		return 0;
	}
	/* 0 is "not set": containerd sends 0 for the direction a pod has no annotation for. */
	if (v > 0)
		set(ret, (uint64_t)v, CNI_BW_CONFIG, key);
	return 0;
}

static int conf_parse(const json_t *root, struct cni_bandwidth *bw, struct cni_error *err)
{
	const json_t *rc = json_object_get(root, "runtimeConfig"), *b;
	const char *seen[CNI_BW_FIELDS] = { 0 }, *k;
	char key[sizeof(bw->f[0].key)];
	json_t *v;

	if (!rc || json_is_null(rc))
		return 0;
	if (!json_is_object(rc))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"runtimeConfig\" must be an object, "
				     "not %s", cni_json_type_name(rc));
	b = json_object_get(rc, "bandwidth");
	if (!b || json_is_null(b))
		return 0;
	if (!json_is_object(b))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"runtimeConfig.bandwidth\" must be "
				     "an object, not %s", cni_json_type_name(b));
	/* Keys we do not know (the reference plugin's unshapedSubnets, shapedSubnets) are ignored:
	 * shoal shapes all of a workload's traffic, which is never less than asked for. */
	json_object_foreach((json_t *)b, k, v) {
		for (size_t i = 0; i < N(conf_keys); i++) {
			enum cni_bw_field f = conf_keys[i].f;
			int r;

			if (strcasecmp(k, conf_keys[i].name) != 0)
				continue;
			/* Two spellings of one key: Go keeps whichever comes last; we do not guess. */
			if (seen[f])
				return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"runtimeConfig.bandwidth\" "
						     "has both \"%s\" and \"%s\"", seen[f], k);
			seen[f] = k;
			snprintf(key, sizeof(key), CONF_PREFIX "%s", k);
			r = conf_value(key, v, f, &bw->f[f], err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* One SHOAL_* value of CNI_ARGS: a rate in tc's units (quota_parse_rate), or a priority digit. */
static int arg_value(const char *key, const char *s, enum cni_bw_field f, struct cni_bw_value *ret,
		     struct cni_error *err)
{
	char q[CNI_QUOTE_SIZE];
	uint64_t v;
	int r;

	if (f == CNI_BW_PRIORITY) {
		if (s[0] < '0' || s[0] > '0' + CNI_BW_PRIORITY_MAX || s[1] != '\0')
			return cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: %s %s is not a priority 0..7 (0 is the "
					     "highest)", key, cni_quote(s, q, sizeof(q)));
		set(ret, (uint64_t)(s[0] - '0'), CNI_BW_ARGS, key);
		return 0;
	}
	r = quota_parse_rate(s, &v);
	if (r == -ERANGE || (r == 0 && v > CNI_BW_MAX)) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: %s %s is above %llu bit/s, the largest rate shoal "
			      "carries", key, cni_quote(s, q, sizeof(q)), (unsigned long long)CNI_BW_MAX);
		return -ERANGE;
	}
	if (r < 0) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: %s %s is not a rate", key, cni_quote(s, q, sizeof(q)));
		cni_error_details(err, "a rate is a whole or decimal number with tc's units: bit (the default), kbit, mbit, "
				  "gbit, tbit, kibit..tibit, or bytes per second: bps, kbps, mbps, gbps, tbps, "
				  "kibps..tibps; e.g. 100mbit or 1.5gbit");
		return r;
	}
	/* "0" means not set, like 0 in runtimeConfig; "0.5bit" is not zero and cannot be kept. */
	if (v == 0 && strpbrk(s, "123456789"))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: %s %s is less than 1 bit/s", key,
				     cni_quote(s, q, sizeof(q)));
	if (v > 0)
		set(ret, v, CNI_BW_ARGS, key);
	return 0;
}

static int args_parse(const json_t *args, struct cni_bandwidth *bw, struct cni_error *err)
{
	for (size_t i = 0; args && i < N(arg_keys); i++) {
		const char *s = json_string_value(json_object_get(args, arg_keys[i].name));
		struct cni_bw_value v = { 0 };
		int r;

		if (!s)
			continue;
		r = arg_value(arg_keys[i].name, s, arg_keys[i].f, &v, err);
		if (r < 0)
			return r;
		/* CNI_ARGS win over runtimeConfig, key by key; an unset value (0) overrides nothing. */
		if (v.source != CNI_BW_UNSET)
			bw->f[arg_keys[i].f] = v;
	}
	return 0;
}

/* HTB cannot keep a guarantee (rate) above the class's limit (ceil), and the kernel would take it. */
static int check_direction(const struct cni_bandwidth *bw, const char *dir, enum cni_bw_field gf,
			   enum cni_bw_field lf, struct cni_error *err)
{
	const struct cni_bw_value *g = &bw->f[gf], *l = &bw->f[lf];
	char gs[QUOTA_RATE_STRLEN], ls[QUOTA_RATE_STRLEN];

	if (g->source == CNI_BW_UNSET || l->source == CNI_BW_UNSET || g->value <= l->value)
		return 0;
	quota_format_rate(g->value, gs);
	quota_format_rate(l->value, ls);
	cni_error_set(err, g->source == CNI_BW_ARGS || l->source == CNI_BW_ARGS ? CNI_ERR_INVALID_ENV
										 : CNI_ERR_INVALID_CONFIG,
		      "%s guarantee %s (%s) exceeds the %s limit %s (%s)", dir, gs, g->key, dir, ls, l->key);
	cni_error_details(err, "a workload cannot be guaranteed more than its limit; lower the guarantee or raise the limit");
	return -EINVAL;
}

int cni_bandwidth_parse(const json_t *conf_root, const json_t *args, struct cni_bandwidth *ret,
			struct cni_error *err)
{
	struct cni_bandwidth bw = { 0 };
	int r;

	r = conf_parse(conf_root, &bw, err);
	if (r < 0)
		return r;
	r = args_parse(args, &bw, err);
	if (r < 0)
		return r;
	r = check_direction(&bw, "ingress", CNI_BW_INGRESS_GUARANTEE, CNI_BW_INGRESS_LIMIT, err);
	if (r < 0)
		return r;
	r = check_direction(&bw, "egress", CNI_BW_EGRESS_GUARANTEE, CNI_BW_EGRESS_LIMIT, err);
	if (r < 0)
		return r;
	*ret = bw;
	return 0;
}

/* Adds key: value to obj when the value is set. */
static int put(json_t *obj, const char *key, const struct cni_bw_value *v)
{
	if (v->source == CNI_BW_UNSET)
		return 0;
	/* value <= CNI_BW_MAX: every path that sets it checks. */
	return json_object_set_new(obj, key, json_integer((json_int_t)v->value)) < 0 ? -ENOMEM : 0;
}

int cni_bandwidth_json(const struct cni_bandwidth *bw, json_t **ret_obj)
{
	static const struct {
		const char *dir;
		enum cni_bw_field g, l, b;
	} dirs[] = {
		{ "ingress", CNI_BW_INGRESS_GUARANTEE, CNI_BW_INGRESS_LIMIT, CNI_BW_INGRESS_BURST },
		{ "egress", CNI_BW_EGRESS_GUARANTEE, CNI_BW_EGRESS_LIMIT, CNI_BW_EGRESS_BURST },
	};
	json_t *o = json_object(), *d;

	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < N(dirs); i++) {
		d = json_object();
		/* set_new takes d, also when it fails. */
		if (!d || json_object_set_new(o, dirs[i].dir, d) < 0)
			goto oom;
		if (put(d, "guarantee", &bw->f[dirs[i].g]) < 0 || put(d, "limit", &bw->f[dirs[i].l]) < 0 ||
		    put(d, "burst", &bw->f[dirs[i].b]) < 0)
			goto oom;
		if (json_object_size(d) == 0)
			json_object_del(o, dirs[i].dir);
	}
	if (put(o, "priority", &bw->f[CNI_BW_PRIORITY]) < 0)
		goto oom;
	if (json_object_size(o) == 0) {
		json_decref(o);
		o = NULL;
	}
	*ret_obj = o;
	return 0;
oom:
	json_decref(o);
	return -ENOMEM;
}
