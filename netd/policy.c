/* Bandwidth policies: the format, matching and merging (netd/policy.h).  Pure. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/policy.h"

static const char *const key_names[POLICY_N_KEYS] = {
	[POLICY_KEY_POD_NAMESPACE] = "K8S_POD_NAMESPACE",
	[POLICY_KEY_POD_NAME] = "K8S_POD_NAME",
	[POLICY_KEY_POD_UID] = "K8S_POD_UID",
	[POLICY_KEY_NETWORK] = "network",
	[POLICY_KEY_CGROUP] = "cgroup",
};

const char *policy_key_name(enum policy_key k)
{
	return (unsigned)k < POLICY_N_KEYS ? key_names[k] : NULL;
}

bool policy_name_valid(const char *name)
{
	if (!name || !isalnum((unsigned char)name[0]) || strlen(name) >= POLICY_NAME_SIZE)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

static int fail(char err[POLICY_ERRLEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char err[POLICY_ERRLEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, POLICY_ERRLEN, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int key_parse(const char *s, enum policy_key *ret)
{
	for (int k = 0; k < POLICY_N_KEYS; k++)
		if (strcmp(s, key_names[k]) == 0) {
			*ret = (enum policy_key)k;
			return 0;
		}
	return -EINVAL;
}

static int term_cmp(const void *a, const void *b)
{
	return (int)((const struct policy_term *)a)->key - (int)((const struct policy_term *)b)->key;
}

/* A cgroup prefix: relative, whole components, none empty, "." or "..". */
static int cgroup_pattern_check(const char *s)
{
	for (const char *p = s;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (!*p)
			return 0;
		p++;
	}
}

static unsigned components(const char *s)
{
	unsigned n = 1;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

/* Does the cgroup path v lie at or below the prefix pattern (component by component)? */
static bool cgroup_match(const char *pattern, const char *v)
{
	unsigned k = components(pattern);
	const char *end = v;
	char head[POLICY_PATTERN_SIZE * 2];
	size_t len;

	for (unsigned i = 0; i < k; i++) {
		end += strcspn(end, "/");
		if (i + 1 < k) {
			if (!*end)
				return false;
			end++;
		}
	}
	len = (size_t)(end - v);
	if (len >= sizeof(head))
		return false;
	memcpy(head, v, len);
	head[len] = '\0';
	return fnmatch(pattern, head, FNM_PATHNAME) == 0;
}

static int match_decode(const json_t *match, struct policy *p, char err[POLICY_ERRLEN])
{
	const char *k;
	json_t *v;

	if (!match)
		return 0;
	if (!json_is_object(match))
		return fail(err, "\"match\" must be an object of KEY: pattern");
	if (json_object_size(match) > POLICY_MATCH_MAX)
		return fail(err, "\"match\" has %zu keys; at most %d", json_object_size(match), POLICY_MATCH_MAX);
	json_object_foreach((json_t *)match, k, v) {
		struct policy_term *t = &p->match[p->n_match];
		const char *s;

		if (key_parse(k, &t->key) < 0)
			return fail(err, "unknown match key \"%.64s\" (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, network, "
			            "cgroup)", k);
		if (!json_is_string(v))
			return fail(err, "match.%s must be a string (a pattern)", k);
		s = json_string_value(v);
		if (!s[0] || strlen(s) != json_string_length(v))
			return fail(err, "match.%s must be a non-empty string without NUL", k);
		if (strlen(s) >= POLICY_PATTERN_SIZE)
			return fail(err, "match.%s is longer than %d bytes", k, POLICY_PATTERN_SIZE - 1);
		if (t->key == POLICY_KEY_CGROUP && cgroup_pattern_check(s) < 0)
			return fail(err, "match.cgroup \"%.64s\" must be a path relative to the cgroup v2 root, without "
			            "empty, \".\" or \"..\" components (e.g. system.slice/backup.service)", s);
		snprintf(t->pattern, sizeof(t->pattern), "%s", s);
		p->n_match++;
	}
	/* Object keys are unique, so each key appears once; sorted, two policies that say the same
	 * encode the same. */
	qsort(p->match, p->n_match, sizeof(p->match[0]), term_cmp);
	return 0;
}

int policy_decode(const char *name, const json_t *body, struct policy *ret, char err[POLICY_ERRLEN])
{
	struct policy p = { .bandwidth.priority = -1 };
	struct request_error rerr;
	const char *k;
	json_t *v;

	if (!policy_name_valid(name))
		return fail(err, "policy name \"%.64s\" must start with a letter or digit, continue with letters, "
		            "digits, '_', '.' or '-', at most %d bytes", name ? name : "", POLICY_NAME_SIZE - 1);
	snprintf(p.name, sizeof(p.name), "%s", name);
	if (!json_is_object(body))
		return fail(err, "policy %s: not a JSON object", name);
	/* Strict, unlike the API's requests: a misspelled "match" would otherwise make a policy
	 * for every workload of the cluster, and a key of a newer format would be silently lost. */
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "match") != 0 && strcmp(k, "bandwidth") != 0)
			return fail(err, "policy %s: unknown key \"%.64s\" (match, bandwidth)", name, k);
	if (!json_object_get(body, "match"))
		return fail(err, "policy %s: \"match\" is missing ({} for every workload)", name);
	if (match_decode(json_object_get(body, "match"), &p, err) < 0)
		return -EINVAL;
	if (request_bandwidth_decode(json_object_get(body, "bandwidth"), &p.bandwidth, &rerr) < 0)
		return fail(err, "policy %s: %s", name, rerr.details);
	/* A burst alone shapes nothing (it only ever lowers HTB's own), yet as the applying policy it
	 * would shadow a broader one that does set something. */
	if (!p.bandwidth.ingress.guarantee && !p.bandwidth.ingress.limit && !p.bandwidth.egress.guarantee &&
	    !p.bandwidth.egress.limit && p.bandwidth.priority < 0)
		return fail(err, "policy %s sets nothing: give a guarantee, a limit or a priority", name);
	*ret = p;
	return 0;
}

int policy_parse(const char *name, const char *value, size_t len, struct policy *ret, char err[POLICY_ERRLEN])
{
	json_error_t jerr;
	json_t *body = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	int r;

	if (!body)
		return fail(err, "policy %.64s: not JSON: %s", name ? name : "", jerr.text);
	r = policy_decode(name, body, ret, err);
	json_decref(body);
	return r;
}

json_t *policy_encode_body(const struct policy *p)
{
	json_t *match = json_object(), *bw = request_bandwidth_encode(&p->bandwidth), *o;

	for (size_t i = 0; match && i < p->n_match; i++)
		if (json_object_set_new(match, key_names[p->match[i].key], json_string(p->match[i].pattern)) < 0) {
			json_decref(match);
			match = NULL;
		}
	if (!match || !bw) {
		json_decref(match);
		json_decref(bw);
		return NULL;
	}
	o = json_object();
	if (!o || json_object_set_new(o, "match", match) < 0) {
		json_decref(bw);
		json_decref(o);
		return NULL;
	}
	if (json_object_set_new(o, "bandwidth", bw) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *policy_encode(const struct policy *p)
{
	json_t *body = policy_encode_body(p), *o = json_object();

	if (!body || !o || json_object_set_new(o, "name", json_string(p->name)) < 0 || json_object_update(o, body) < 0) {
		json_decref(body);
		json_decref(o);
		return NULL;
	}
	json_decref(body);
	return o;
}

bool policy_matches(const struct policy *p, const struct policy_subject *s)
{
	for (size_t i = 0; i < p->n_match; i++) {
		const char *v = s->value[p->match[i].key];

		if (!v)
			return false;
		if (p->match[i].key == POLICY_KEY_CGROUP ? !cgroup_match(p->match[i].pattern, v)
		                                         : fnmatch(p->match[i].pattern, v, 0) != 0)
			return false;
	}
	return true;
}

/* How deep a policy's cgroup prefix reaches (0: it has none). */
static unsigned cgroup_depth(const struct policy *p)
{
	for (size_t i = 0; i < p->n_match; i++)
		if (p->match[i].key == POLICY_KEY_CGROUP)
			return components(p->match[i].pattern);
	return 0;
}

const struct policy *policy_pick(const struct policy *v, size_t n, const struct policy_subject *s)
{
	const struct policy *best = NULL;

	for (size_t i = 0; i < n; i++) {
		unsigned d, bd;

		if (!policy_matches(&v[i], s))
			continue;
		if (!best || v[i].n_match > best->n_match) {
			best = &v[i];
			continue;
		}
		if (v[i].n_match < best->n_match)
			continue;
		d = cgroup_depth(&v[i]);
		bd = cgroup_depth(best);
		if (d > bd || (d == bd && strcmp(v[i].name, best->name) < 0))
			best = &v[i];
	}
	return best;
}

static void merge_dir(const struct request_bandwidth_dir *own, const struct request_bandwidth_dir *pol,
                      struct request_bandwidth_dir *ret)
{
	struct request_bandwidth_dir d = *own;

	if (!d.guarantee && pol->guarantee) {
		d.guarantee = pol->guarantee;
		if (own->limit && d.guarantee > own->limit)
			d.guarantee = own->limit;
	}
	if (!d.limit && pol->limit) {
		d.limit = pol->limit;
		if (own->guarantee && d.limit < own->guarantee)
			d.limit = own->guarantee;
	}
	if (!d.burst)
		d.burst = pol->burst;
	/* Both from the policy: its own decode refused guarantee > limit. */
	*ret = d;
}

static void fit_dir(const struct request_bandwidth_dir *own, uint64_t capacity, uint64_t default_guarantee,
                    struct request_bandwidth_dir *eff)
{
	if (!own->limit && capacity && eff->limit > capacity)
		eff->limit = 0;   /* the capacity */
	if (!own->limit && !eff->guarantee && eff->limit && eff->limit < default_guarantee)
		eff->guarantee = eff->limit;
}

void policy_fit(const struct request_bandwidth *own, uint64_t ingress_capacity, uint64_t egress_capacity,
                uint64_t default_guarantee, struct request_bandwidth *eff)
{
	fit_dir(&own->ingress, ingress_capacity, default_guarantee, &eff->ingress);
	fit_dir(&own->egress, egress_capacity, default_guarantee, &eff->egress);
}

void policy_merge(const struct request_bandwidth *own, const struct policy *p, struct request_bandwidth *ret)
{
	struct request_bandwidth b = *own;

	if (p) {
		merge_dir(&own->ingress, &p->bandwidth.ingress, &b.ingress);
		merge_dir(&own->egress, &p->bandwidth.egress, &b.egress);
		if (b.priority < 0)
			b.priority = p->bandwidth.priority;
	}
	*ret = b;
}
