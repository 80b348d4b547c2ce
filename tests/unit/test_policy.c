/* netd/policy: the bandwidth policy format every host reads from the store, which workloads a
 * policy applies to, and how it combines with what a workload asked for itself.  A parser that
 * accepts what it should refuse shapes the wrong workloads on every host at once; a merge that
 * lets a policy override a workload's own limit breaks what the runtime promised the pod. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/policy.h"

static int parse(const char *name, const char *text, struct policy *ret, char err[POLICY_ERRLEN])
{
	err[0] = '\0';
	return policy_parse(name, text, strlen(text), ret, err);
}

static void test_parse_and_encode(void **state)
{
	struct policy p, q;
	char err[POLICY_ERRLEN], *s, *t;
	json_t *j;

	(void)state;
	assert_int_equal(parse("prod-web", "{\"match\": {\"K8S_POD_NAME\": \"web-*\", \"K8S_POD_NAMESPACE\": \"prod\"},"
	                                   " \"bandwidth\": {\"ingress\": {\"guarantee\": 100000000, \"limit\": 500000000},"
	                                   " \"priority\": 2}}", &p, err), 0);
	assert_string_equal(p.name, "prod-web");
	assert_int_equal(p.n_match, 2);
	/* Sorted by key, whatever the order in the text. */
	assert_int_equal(p.match[0].key, POLICY_KEY_POD_NAMESPACE);
	assert_string_equal(p.match[0].pattern, "prod");
	assert_int_equal(p.match[1].key, POLICY_KEY_POD_NAME);
	assert_int_equal(p.bandwidth.ingress.guarantee, 100000000);
	assert_int_equal(p.bandwidth.ingress.limit, 500000000);
	assert_int_equal(p.bandwidth.egress.guarantee, 0);
	assert_int_equal(p.bandwidth.priority, 2);

	/* What is stored parses back to the same policy. */
	j = policy_encode_body(&p);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_int_equal(parse("prod-web", s, &q, err), 0);
	j = policy_encode_body(&q);
	t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_string_equal(s, t);
	free(t);
	assert_int_equal(q.n_match, 2);
	assert_int_equal(q.bandwidth.ingress.limit, 500000000);
	/* The API's view carries the name. */
	j = policy_encode(&p);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "prod-web");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "match"), "K8S_POD_NAME")), "web-*");
	t = json_dumps(json_object_get(j, "bandwidth"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(t, "{\"ingress\":{\"guarantee\":100000000,\"limit\":500000000},\"priority\":2}");
	json_decref(j);
	free(s);
	free(t);

	/* An empty match: every workload. */
	assert_int_equal(parse("all", "{\"match\": {}, \"bandwidth\": {\"egress\": {\"limit\": 1000000}}}", &p, err), 0);
	assert_int_equal(p.n_match, 0);
}

static void test_refused(void **state)
{
	static const struct {
		const char *name, *text, *why;
	} bad[] = {
		{ "", "{\"match\": {}, \"bandwidth\": {\"priority\": 1}}", "policy name" },
		{ "-x", "{\"match\": {}, \"bandwidth\": {\"priority\": 1}}", "policy name" },
		{ "a/b", "{\"match\": {}, \"bandwidth\": {\"priority\": 1}}", "policy name" },
		{ "x", "{\"bandwidth\": {\"priority\": 1}}", "\"match\" is missing" },
		{ "x", "{\"macth\": {\"K8S_POD_NAMESPACE\": \"prod\"}, \"bandwidth\": {\"priority\": 1}}", "unknown key \"macth\"" },
		{ "x", "{\"match\": {}, \"bandwidth\": {\"egress\": {\"burst\": 1000}}}", "sets nothing" },
		{ "x", "[]", "not a JSON object" },
		{ "x", "{", "not JSON" },
		{ "x", "{\"match\": {}, \"bandwidth\": {}}", "sets nothing" },
		{ "x", "{\"match\": {\"K8S_POD_NAMESPACE\": \"a\"}}", "sets nothing" },
		{ "x", "{\"match\": {\"app\": \"a\"}, \"bandwidth\": {\"priority\": 1}}", "unknown match key \"app\"" },
		{ "x", "{\"match\": {\"K8S_POD_NAME\": 3}, \"bandwidth\": {\"priority\": 1}}", "must be a string" },
		{ "x", "{\"match\": {\"K8S_POD_NAME\": \"\"}, \"bandwidth\": {\"priority\": 1}}", "non-empty" },
		{ "x", "{\"match\": [\"a\"], \"bandwidth\": {\"priority\": 1}}", "must be an object" },
		{ "x", "{\"match\": {}, \"bandwidth\": {\"priority\": 8}}", "priority" },
		{ "x", "{\"match\": {}, \"bandwidth\": {\"ingress\": {\"guarantee\": 2000, \"limit\": 1000}}}", "exceeds" },
		{ "x", "{\"match\": {}, \"bandwidth\": {\"egress\": {\"limit\": -1}}}", "egress" },
		{ "x", "{\"match\": {}, \"bandwidth\": {\"priority\": 1}, \"bandwidth\": {\"priority\": 2}}", "not JSON" },
	};
	char err[POLICY_ERRLEN];
	struct policy p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0x5a, sizeof(p));
		assert_int_equal(parse(bad[i].name, bad[i].text, &p, err), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, err, bad[i].why);
		assert_int_equal(((unsigned char *)&p)[0], 0x5a);   /* *ret untouched */
	}
}

static struct policy make(const char *name, const char *text)
{
	char err[POLICY_ERRLEN];
	struct policy p;

	if (parse(name, text, &p, err) < 0)
		fail_msg("%s: %s", name, err);
	return p;
}

static void test_match_and_pick(void **state)
{
	struct policy v[4];
	struct policy_subject web = { .value = { "prod", "web-1", "uid-1", "shoal" } };
	struct policy_subject db = { .value = { "prod", "db-0", "uid-2", "shoal" } };
	struct policy_subject dev = { .value = { "dev", "web-1", "uid-3", "shoal" } };
	struct policy_subject bare = { .value = { "", "", "", "other" } };

	(void)state;
	v[0] = make("prod", "{\"match\": {\"K8S_POD_NAMESPACE\": \"prod\"}, \"bandwidth\": {\"priority\": 3}}");
	v[1] = make("prod-web", "{\"match\": {\"K8S_POD_NAMESPACE\": \"prod\", \"K8S_POD_NAME\": \"web-[0-9]*\"},"
	                        " \"bandwidth\": {\"priority\": 1}}");
	v[2] = make("b-everyone", "{\"match\": {}, \"bandwidth\": {\"priority\": 6}}");
	v[3] = make("a-everyone", "{\"match\": {}, \"bandwidth\": {\"priority\": 7}}");

	assert_true(policy_matches(&v[1], &web));
	assert_false(policy_matches(&v[1], &db));
	assert_false(policy_matches(&v[0], &bare));   /* "" is not "prod" */
	/* The most specific wins; among equals the first by name. */
	assert_string_equal(policy_pick(v, 4, &web)->name, "prod-web");
	assert_string_equal(policy_pick(v, 4, &db)->name, "prod");
	assert_string_equal(policy_pick(v, 4, &dev)->name, "a-everyone");
	assert_string_equal(policy_pick(v, 4, &bare)->name, "a-everyone");
	assert_null(policy_pick(v, 2, &dev));
	assert_null(policy_pick(v, 0, &web));
}

/* The cgroup key: a path prefix by whole components, each a pattern; cgroups only. */
static void test_cgroup_match(void **state)
{
	struct policy v[4];
	struct policy_subject backup = { .value[POLICY_KEY_CGROUP] = "system.slice/backup.service" };
	struct policy_subject deep = { .value[POLICY_KEY_CGROUP] = "system.slice/backup.service/worker" };
	struct policy_subject other = { .value[POLICY_KEY_CGROUP] = "system.slicer/x" };
	struct policy_subject pod = { .value = { "prod", "web-1", "uid-1", "shoal" } };
	static const char *const bad[] = { "/system.slice", "a//b", "a/..", "a/", "./a" };
	struct policy p;
	char err[POLICY_ERRLEN];

	(void)state;
	v[0] = make("slice", "{\"match\": {\"cgroup\": \"system.slice\"}, \"bandwidth\": {\"priority\": 3}}");
	v[1] = make("a-backup", "{\"match\": {\"cgroup\": \"system.slice/backup*.service\"}, \"bandwidth\": {\"priority\": 1}}");
	v[2] = make("pods", "{\"match\": {\"K8S_POD_NAMESPACE\": \"*\"}, \"bandwidth\": {\"priority\": 2}}");
	v[3] = make("all", "{\"match\": {}, \"bandwidth\": {\"priority\": 7}}");
	assert_true(policy_matches(&v[0], &backup));
	assert_true(policy_matches(&v[0], &deep));
	assert_false(policy_matches(&v[0], &other));   /* whole components: "system.slicer" is not below */
	assert_true(policy_matches(&v[1], &deep));
	assert_false(policy_matches(&v[0], &pod));     /* a cgroup key never matches a pod */
	assert_false(policy_matches(&v[2], &backup));  /* nor a pod key a cgroup, even "*" */
	/* One key each: the deeper prefix wins over the name's order. */
	assert_string_equal(policy_pick(v, 4, &deep)->name, "a-backup");
	assert_string_equal(policy_pick(v, 1, &deep)->name, "slice");
	assert_string_equal(policy_pick(v, 4, &other)->name, "all");
	assert_string_equal(policy_pick(v, 4, &pod)->name, "pods");
	/* Relative whole components only. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "{\"match\": {\"cgroup\": \"%s\"}, \"bandwidth\": {\"priority\": 1}}", bad[i]);
		assert_int_equal(parse("x", text, &p, err), -EINVAL);
	}
}

static void test_merge(void **state)
{
	struct policy p = make("p", "{\"match\": {}, \"bandwidth\": {\"ingress\": {\"guarantee\": 100, \"limit\": 1000},"
	                            " \"egress\": {\"guarantee\": 50}, \"priority\": 2}}");
	struct request_bandwidth own = { .priority = -1 }, r;

	(void)state;
	/* Nothing of its own: the policy's values. */
	policy_merge(&own, &p, &r);
	assert_int_equal(r.ingress.guarantee, 100);
	assert_int_equal(r.ingress.limit, 1000);
	assert_int_equal(r.egress.guarantee, 50);
	assert_int_equal(r.egress.limit, 0);
	assert_int_equal(r.priority, 2);

	/* Its own values win, value by value. */
	own.ingress.limit = 500;
	own.priority = 0;
	policy_merge(&own, &p, &r);
	assert_int_equal(r.ingress.guarantee, 100);
	assert_int_equal(r.ingress.limit, 500);
	assert_int_equal(r.priority, 0);

	/* A policy guarantee above the workload's own limit is lowered to it ... */
	own.ingress.limit = 60;
	policy_merge(&own, &p, &r);
	assert_int_equal(r.ingress.guarantee, 60);
	assert_int_equal(r.ingress.limit, 60);
	/* ... and a policy limit below its own guarantee raised to it. */
	own = (struct request_bandwidth){ .priority = -1, .ingress.guarantee = 2000 };
	policy_merge(&own, &p, &r);
	assert_int_equal(r.ingress.guarantee, 2000);
	assert_int_equal(r.ingress.limit, 2000);

	/* No policy: the own ask unchanged. */
	policy_merge(&own, NULL, &r);
	assert_int_equal(r.ingress.guarantee, own.ingress.guarantee);
	assert_int_equal(r.ingress.limit, 0);
	assert_int_equal(r.egress.guarantee, 0);
	assert_int_equal(r.priority, -1);
}

static void test_fit(void **state)
{
	struct policy p = make("p", "{\"match\": {}, \"bandwidth\": {\"ingress\": {\"limit\": 1000000000},"
	                            " \"egress\": {\"limit\": 500000}}}");
	struct request_bandwidth own = { .priority = -1 }, r;

	(void)state;
	/* A 1gbit policy limit on a 200mbit host: the host's capacity.  A 500kbit limit below the
	 * default guarantee of 1mbit: the guarantee follows it down. */
	policy_merge(&own, &p, &r);
	policy_fit(&own, 200000000, 200000000, 1000000, &r);
	assert_int_equal(r.ingress.limit, 0);
	assert_int_equal(r.ingress.guarantee, 0);
	assert_int_equal(r.egress.limit, 500000);
	assert_int_equal(r.egress.guarantee, 500000);
	/* On a 10gbit host the 1gbit limit holds. */
	policy_merge(&own, &p, &r);
	policy_fit(&own, 10000000000ULL, 10000000000ULL, 1000000, &r);
	assert_int_equal(r.ingress.limit, 1000000000);
	/* The workload's own values are never bent: admission decides on them. */
	own.ingress.limit = 5000000000ULL;
	own.egress.limit = 400000;
	policy_merge(&own, &p, &r);
	policy_fit(&own, 200000000, 200000000, 1000000, &r);
	assert_int_equal(r.ingress.limit, 5000000000ULL);
	assert_int_equal(r.egress.limit, 400000);
	assert_int_equal(r.egress.guarantee, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_encode),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_match_and_pick),
		cmocka_unit_test(test_cgroup_match),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
