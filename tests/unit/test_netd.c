/* netd's pure parts: the reconcile plan (what shoald does to the host's veths after a restart and
 * every reconcileInterval) and the API request decoder (what any client on the socket can send).
 * A wrong plan deletes a running container's interface or frees an address in use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cnierr.h"
#include "netd/cgroups.h"
#include "netd/netd.h"
#include "netd/reconcile.h"
#include "netd/request.h"

#define BR 7

static size_t count(const struct rc_action *v, size_t n, enum rc_op op)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += v[i].op == op;
	return c;
}

static const struct rc_action *find(const struct rc_action *v, size_t n, enum rc_op op)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].op == op)
			return &v[i];
	return NULL;
}

static void test_plan_in_sync(void **state)
{
	struct rc_att atts[] = { { .host_veth = "shv000000000001" }, { .host_veth = "shv000000000002" } };
	struct rc_link links[] = {
		{ .name = "shv000000000002", .ifindex = 12, .master = BR, .up = true },
		{ .name = "shv000000000001", .ifindex = 11, .master = BR, .up = true },
	};
	struct rc_action *v;
	size_t n;

	assert_int_equal(reconcile_plan(atts, 2, links, 2, BR, &v, &n), 0);
	/* Nothing but remembering each veth's ifindex: in sync means no change. */
	assert_int_equal(n, 2);
	assert_int_equal(count(v, n, RC_SEEN), 2);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(links[v[i].link].name, atts[v[i].att].host_veth);
	free(v);
}

static void test_plan_gone_and_reattach(void **state)
{
	struct rc_att atts[] = { { .host_veth = "shv000000000001" }, { .host_veth = "shv000000000002" },
	                         { .host_veth = "shv000000000003" } };
	struct rc_link links[] = {
		{ .name = "shv000000000002", .ifindex = 12, .master = 0, .up = true },     /* lost its bridge */
		{ .name = "shv000000000003", .ifindex = 13, .master = BR, .up = false },   /* down */
	};
	struct rc_action *v;
	size_t n;

	assert_int_equal(reconcile_plan(atts, 3, links, 2, BR, &v, &n), 0);
	assert_int_equal(count(v, n, RC_GONE), 1);
	assert_int_equal(find(v, n, RC_GONE)->att, 0);
	assert_int_equal(count(v, n, RC_REATTACH), 2);
	assert_int_equal(count(v, n, RC_ORPHAN), 0);
	free(v);
}

static void test_plan_deleting(void **state)
{
	struct rc_att atts[] = { { .host_veth = "shv000000000001", .deleting = true, .queued = true },
	                         { .host_veth = "shv000000000002", .deleting = true, .queued = false } };
	struct rc_link links[] = { { .name = "shv000000000001", .ifindex = 11, .master = BR, .up = true } };
	struct rc_action *v;
	size_t n;

	assert_int_equal(reconcile_plan(atts, 2, links, 1, BR, &v, &n), 0);
	/* A deleting attachment's veth is the reaper's: never re-attached, orphaned or "gone". */
	assert_int_equal(n, 1);
	assert_int_equal(v[0].op, RC_REQUEUE);
	assert_int_equal(v[0].att, 1);
	free(v);
}

static void test_plan_unclaimed_links(void **state)
{
	struct rc_link links[] = {
		{ .name = "shv00000000000a", .ifindex = 20, .master = BR, .up = true, .alias_ours = true },
		{ .name = "shv00000000000b", .ifindex = 21, .master = BR, .up = true, .quarantined = true },
		{ .name = "shv00000000000c", .ifindex = 22, .master = BR, .up = true },
		{ .name = "shv00000000000d", .ifindex = 23, .master = 0, .up = true },
		{ .name = "shv00000000000e", .ifindex = 24, .master = 99, .up = true, .alias_ours = true },
	};
	struct rc_action *v;
	size_t n;

	assert_int_equal(reconcile_plan(NULL, 0, links, 5, BR, &v, &n), 0);
	/* The alias wins over a missing record; a quarantined record keeps its veth; only a veth on
	 * our bridge with neither is deleted; one elsewhere without our alias is not ours. */
	assert_int_equal(n, 4);
	assert_int_equal(v[0].op, RC_ADOPT);
	assert_int_equal(v[0].link, 0);
	assert_int_equal(v[1].op, RC_KEEP);
	assert_int_equal(v[1].link, 1);
	assert_int_equal(v[2].op, RC_ORPHAN);
	assert_int_equal(v[2].link, 2);
	assert_int_equal(v[3].op, RC_ADOPT);
	assert_int_equal(v[3].link, 4);
	free(v);
}

static void test_plan_many(void **state)
{
	enum { N = 3000 };
	struct rc_att *atts = calloc(N, sizeof(*atts));
	struct rc_link *links = calloc(N, sizeof(*links));
	char (*names)[16] = calloc(N, 16);
	struct rc_action *v;
	size_t n;

	/* Links in reverse order of the attachments: the lookup must not depend on order. */
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 16, "shv%012x", i);
		atts[i].host_veth = names[i];
		links[N - 1 - i] = (struct rc_link){ .name = names[i], .ifindex = 100 + i, .master = BR, .up = true };
	}
	assert_int_equal(reconcile_plan(atts, N, links, N, BR, &v, &n), 0);
	assert_int_equal(n, N);
	assert_int_equal(count(v, n, RC_SEEN), N);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(links[v[i].link].ifindex, 100 + (int)v[i].att);
	free(v);
	free(atts);
	free(links);
	free(names);
}

/* ---- requests ---- */

static int parse(const char *text, struct request *q, struct request_error *err)
{
	json_t *j = json_loads(text, 0, NULL);
	int r;

	assert_non_null(j);
	r = request_parse(j, q, err);
	json_decref(j);
	return r;
}

static void expect_code(const char *text, int code, const char *needle)
{
	struct request_error err = { 0 };
	struct request q;

	if (parse(text, &q, &err) != -EINVAL)
		fail_msg("accepted %s", text);
	if (err.code != code)
		fail_msg("%s: code %d, want %d (%s)", text, err.code, code, err.details);
	if (needle && !strstr(err.details, needle) && !strstr(err.msg, needle))
		fail_msg("%s: \"%s: %s\" does not mention %s", text, err.msg, err.details, needle);
}

static void test_request_add(void **state)
{
	struct request_error err;
	struct request q;
	json_t *j = json_loads("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"netns\":\"/run/netns/x\","
	                       "\"network\":\"net-1.a_b\",\"mtu\":1400,\"defaultRoute\":false}", 0, NULL);

	assert_int_equal(request_parse(j, &q, &err), 0);
	assert_int_equal(q.op, REQ_ADD);
	assert_string_equal(q.container_id, "c1");
	assert_string_equal(q.ifname, "eth0");
	assert_string_equal(q.network, "net-1.a_b");
	assert_int_equal(q.mtu, 1400);
	assert_false(q.default_route);
	json_decref(j);
	j = json_loads("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\"}", 0, NULL);
	assert_int_equal(request_parse(j, &q, &err), 0);
	assert_true(q.default_route);
	assert_string_equal(q.netns, "");
	assert_string_equal(q.pod_name, "");
	json_decref(j);
	j = json_loads("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\",\"args\":"
	               "{\"K8S_POD_NAMESPACE\":\"prod\",\"K8S_POD_NAME\":\"web-0\",\"K8S_POD_UID\":\"u-1\",\"X\":\"y\"}}",
	               0, NULL);
	assert_int_equal(request_parse(j, &q, &err), 0);
	assert_string_equal(q.pod_namespace, "prod");
	assert_string_equal(q.pod_name, "web-0");
	assert_string_equal(q.pod_uid, "u-1");
	json_decref(j);
	j = json_loads("{\"op\":\"del\",\"containerId\":\"c1\",\"ifname\":\"e%d\"}", 0, NULL);
	assert_int_equal(request_parse(j, &q, &err), 0);
	assert_int_equal(q.op, REQ_DEL);
	json_decref(j);
}

static void test_request_refused(void **state)
{
	char big[400], doc[700];

	expect_code("[]", CNI_ERR_DECODE, "object");
	expect_code("{}", CNI_ERR_DECODE, "op");
	expect_code("{\"op\":5}", CNI_ERR_DECODE, "op");
	expect_code("{\"op\":\"frob\"}", CNI_ERR_DECODE, "frob");
	/* Interface names the kernel or the container would misread. */
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"e%d\",\"network\":\"n\"}", CNI_ERR_INVALID_ENV, "%");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"lo\",\"network\":\"n\"}", CNI_ERR_INVALID_ENV, "lo");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"a:b\",\"network\":\"n\"}", CNI_ERR_INVALID_ENV, NULL);
	expect_code("{\"op\":\"check\",\"containerId\":\"c\",\"ifname\":\"all\"}", CNI_ERR_INVALID_ENV, NULL);
	/* DEL keeps the kernel's rule: what an older version attached must stay deletable. */
	expect_code("{\"op\":\"del\",\"containerId\":\"c\",\"ifname\":\"a/b\"}", CNI_ERR_INVALID_ENV, NULL);
	expect_code("{\"op\":\"add\",\"containerId\":\"-c\",\"ifname\":\"eth0\",\"network\":\"n\"}", CNI_ERR_INVALID_ENV,
	            "containerId");
	/* Never cut: a network name or netns path that does not fit is refused. */
	memset(big, 'n', 300);
	big[300] = '\0';
	snprintf(doc, sizeof(doc), "{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"%s\"}", big);
	expect_code(doc, CNI_ERR_INVALID_CONFIG, "network");
	snprintf(doc, sizeof(doc), "{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\","
	         "\"netns\":\"/%s\"}", big);
	expect_code(doc, CNI_ERR_INVALID_ENV, "netns");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\\u00e9t\"}",
	            CNI_ERR_INVALID_CONFIG, "network");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\"}", CNI_ERR_INVALID_CONFIG, "network");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\",\"mtu\":100}",
	            CNI_ERR_INVALID_CONFIG, "mtu");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\",\"mtu\":\"1400\"}",
	            CNI_ERR_INVALID_CONFIG, "mtu");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\",\"defaultRoute\":1}",
	            CNI_ERR_DECODE, "defaultRoute");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\",\"args\":[]}",
	            CNI_ERR_DECODE, "args");
	snprintf(doc, sizeof(doc), "{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\","
	         "\"args\":{\"K8S_POD_NAMESPACE\":\"%.64s\"}}", big);
	expect_code(doc, CNI_ERR_INVALID_ENV, "K8S_POD_NAMESPACE");
	expect_code("{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\",\"args\":"
	            "{\"K8S_POD_NAME\":5}}", CNI_ERR_DECODE, "K8S_POD_NAME");
	expect_code("{\"op\":\"add\",\"containerId\":7,\"ifname\":\"eth0\",\"network\":\"n\"}", CNI_ERR_DECODE, "containerId");
	/* GC is per network, and without the valid list it would remove everything. */
	expect_code("{\"op\":\"gc\",\"valid\":[]}", CNI_ERR_DECODE, "network");
	expect_code("{\"op\":\"gc\",\"network\":\"\",\"valid\":[]}", CNI_ERR_DECODE, "network");
	expect_code("{\"op\":\"gc\",\"network\":\"n\"}", CNI_ERR_DECODE, "valid");
	expect_code("{\"op\":\"gc\",\"network\":\"n\",\"valid\":[{\"containerId\":\"c\"}]}", CNI_ERR_DECODE, "valid");
}

/* The "bandwidth" object of add and check: decoded exactly, validated as strictly as the plugin
 * does (shoald trusts no client), absent = all unset. */
static void test_request_bandwidth(void **state)
{
	struct request_error err = { 0 };
	struct request q;

	assert_int_equal(parse("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\",\"bandwidth\":"
	                       "{\"ingress\":{\"guarantee\":50000000,\"limit\":200000000,\"burst\":4294967295},"
	                       "\"egress\":{\"limit\":9223372036854775807},\"priority\":0,\"future\":1}}", &q, &err), 0);
	assert_int_equal(q.bandwidth.ingress.guarantee, 50000000);
	assert_int_equal(q.bandwidth.ingress.limit, 200000000);
	assert_int_equal(q.bandwidth.ingress.burst, 4294967295ULL);
	assert_int_equal(q.bandwidth.egress.guarantee, 0);
	assert_true(q.bandwidth.egress.limit == (uint64_t)INT64_MAX);
	assert_int_equal(q.bandwidth.egress.burst, 0);
	assert_int_equal(q.bandwidth.priority, 0);

	/* Absent: nothing set, priority -1 (not 0, the highest). */
	assert_int_equal(parse("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\"}", &q, &err), 0);
	assert_int_equal(q.bandwidth.ingress.limit, 0);
	assert_int_equal(q.bandwidth.egress.guarantee, 0);
	assert_int_equal(q.bandwidth.priority, -1);
	assert_int_equal(parse("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\","
	                       "\"bandwidth\":{\"egress\":{}}}", &q, &err), 0);
	assert_int_equal(q.bandwidth.priority, -1);
	assert_int_equal(q.bandwidth.egress.limit, 0);
	/* 0 is "not set", and a guarantee equal to the limit is fine. */
	assert_int_equal(parse("{\"op\":\"add\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"network\":\"n\","
	                       "\"bandwidth\":{\"ingress\":{\"guarantee\":300,\"limit\":0},\"egress\":{\"guarantee\":7,"
	                       "\"limit\":7},\"priority\":7}}", &q, &err), 0);
	assert_int_equal(q.bandwidth.ingress.guarantee, 300);
	assert_int_equal(q.bandwidth.ingress.limit, 0);
	assert_int_equal(q.bandwidth.egress.guarantee, 7);
	assert_int_equal(q.bandwidth.priority, 7);

	/* check carries the same object. */
	assert_int_equal(parse("{\"op\":\"check\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"bandwidth\":"
	                       "{\"egress\":{\"guarantee\":5000000},\"priority\":2}}", &q, &err), 0);
	assert_int_equal(q.op, REQ_CHECK);
	assert_int_equal(q.bandwidth.egress.guarantee, 5000000);
	assert_int_equal(q.bandwidth.priority, 2);
	/* del never looks at it: a delete must not fail over settings it does not use. */
	assert_int_equal(parse("{\"op\":\"del\",\"containerId\":\"c1\",\"ifname\":\"eth0\",\"bandwidth\":5}", &q, &err), 0);
	assert_int_equal(q.bandwidth.priority, -1);
	assert_int_equal(parse("{\"op\":\"status\"}", &q, &err), 0);
	assert_int_equal(q.bandwidth.priority, -1);

#define ADD "{\"op\":\"add\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"network\":\"n\","
	expect_code(ADD "\"bandwidth\":5}", CNI_ERR_DECODE, "\"bandwidth\" must be an object");
	expect_code(ADD "\"bandwidth\":null}", CNI_ERR_DECODE, "\"bandwidth\" must be an object");
	expect_code(ADD "\"bandwidth\":{\"ingress\":[]}}", CNI_ERR_DECODE, "\"bandwidth.ingress\" must be an object");
	expect_code(ADD "\"bandwidth\":{\"egress\":100}}", CNI_ERR_DECODE, "\"bandwidth.egress\" must be an object");
	expect_code(ADD "\"bandwidth\":{\"ingress\":{\"limit\":-1}}}", CNI_ERR_INVALID_CONFIG, "bandwidth.ingress.limit");
	expect_code(ADD "\"bandwidth\":{\"ingress\":{\"limit\":\"100mbit\"}}}", CNI_ERR_INVALID_CONFIG,
	            "bandwidth.ingress.limit must be an integer");
	expect_code(ADD "\"bandwidth\":{\"ingress\":{\"guarantee\":1.5}}}", CNI_ERR_INVALID_CONFIG,
	            "bandwidth.ingress.guarantee");
	expect_code(ADD "\"bandwidth\":{\"egress\":{\"burst\":1e30}}}", CNI_ERR_INVALID_CONFIG, "bandwidth.egress.burst");
	expect_code(ADD "\"bandwidth\":{\"egress\":{\"burst\":true}}}", CNI_ERR_INVALID_CONFIG, "bandwidth.egress.burst");
	expect_code(ADD "\"bandwidth\":{\"egress\":{\"guarantee\":-5000000}}}", CNI_ERR_INVALID_CONFIG,
	            "bandwidth.egress.guarantee");
	expect_code(ADD "\"bandwidth\":{\"ingress\":{\"guarantee\":200000000,\"limit\":100000000}}}", CNI_ERR_INVALID_CONFIG,
	            "bandwidth.ingress.guarantee 200000000 bit/s exceeds bandwidth.ingress.limit 100000000 bit/s");
	expect_code(ADD "\"bandwidth\":{\"egress\":{\"guarantee\":2,\"limit\":1}}}", CNI_ERR_INVALID_CONFIG,
	            "bandwidth.egress.guarantee 2 bit/s exceeds");
	expect_code(ADD "\"bandwidth\":{\"priority\":8}}", CNI_ERR_INVALID_CONFIG, "bandwidth.priority");
	expect_code(ADD "\"bandwidth\":{\"priority\":-1}}", CNI_ERR_INVALID_CONFIG, "bandwidth.priority");
	expect_code(ADD "\"bandwidth\":{\"priority\":\"1\"}}", CNI_ERR_INVALID_CONFIG, "bandwidth.priority");
	expect_code(ADD "\"bandwidth\":{\"priority\":1.0}}", CNI_ERR_INVALID_CONFIG, "bandwidth.priority");
#undef ADD
	expect_code("{\"op\":\"check\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"bandwidth\":{\"ingress\":{\"limit\":-1}}}",
	            CNI_ERR_INVALID_CONFIG, "bandwidth.ingress.limit");
	expect_code("{\"op\":\"check\",\"containerId\":\"c\",\"ifname\":\"eth0\",\"bandwidth\":[]}", CNI_ERR_DECODE,
	            "bandwidth");
}

/* The cluster operations: release names a subnet exactly; leave must be confirmed. */
static void test_request_cluster_ops(void **state)
{
	struct request_error err = { 0 };
	struct request q;
	json_t *j;

	assert_int_equal(parse("{\"op\":\"release\",\"subnet\":\"10.244.3.0/24\"}", &q, &err), 0);
	assert_int_equal(q.op, REQ_RELEASE);
	assert_int_equal(q.subnet.addr, 0x0af40300);
	assert_int_equal(q.subnet.len, 24);
	assert_false(q.force);
	assert_int_equal(parse("{\"op\":\"release\",\"subnet\":\"10.244.3.0/24\",\"force\":true}", &q, &err), 0);
	assert_true(q.force);
	expect_code("{\"op\":\"release\"}", CNI_ERR_DECODE, "subnet");
	expect_code("{\"op\":\"release\",\"subnet\":5}", CNI_ERR_DECODE, "subnet");
	expect_code("{\"op\":\"release\",\"subnet\":\"10.244.3.7/24\"}", CNI_ERR_DECODE, "10.244.3.7/24");
	expect_code("{\"op\":\"release\",\"subnet\":\"10.244.3.0-24\"}", CNI_ERR_DECODE, "subnet");
	expect_code("{\"op\":\"release\",\"subnet\":\"10.244.3.0/24\",\"force\":\"yes\"}", CNI_ERR_DECODE, "force");

	assert_int_equal(parse("{\"op\":\"leave\",\"confirm\":true}", &q, &err), 0);
	assert_int_equal(q.op, REQ_LEAVE);
	expect_code("{\"op\":\"leave\"}", CNI_ERR_DECODE, "confirm");
	expect_code("{\"op\":\"leave\",\"confirm\":false}", CNI_ERR_DECODE, "confirm");
	expect_code("{\"op\":\"leave\",\"confirm\":1}", CNI_ERR_DECODE, "confirm");

	assert_int_equal(parse("{\"op\":\"hosts\"}", &q, &err), 0);
	assert_int_equal(q.op, REQ_HOSTS);
	assert_int_equal(parse("{\"op\":\"network\"}", &q, &err), 0);
	assert_int_equal(q.op, REQ_NETWORK);

	/* A cgroup's quota: the path instead of the ids; its bandwidth as a pod's. */
	j = json_loads("{\"op\":\"quota\",\"cgroup\":\"a/b\",\"bandwidth\":{\"priority\":2}}", 0, NULL);
	assert_int_equal(request_parse(j, &q, &err), 0);   /* q's strings are j's */
	assert_int_equal(q.op, REQ_QUOTA);
	assert_string_equal(q.cgroup, "a/b");
	assert_null(q.container_id);
	assert_int_equal(q.bandwidth.priority, 2);
	json_decref(j);
	expect_code("{\"op\":\"quota\",\"cgroup\":\"a\"}", CNI_ERR_DECODE, "bandwidth");
	expect_code("{\"op\":\"quota\",\"cgroup\":\"a\",\"containerId\":\"x\",\"bandwidth\":{}}", CNI_ERR_DECODE, "not both");
	expect_code("{\"op\":\"quota\",\"cgroup\":\"\",\"bandwidth\":{}}", CNI_ERR_INVALID_CONFIG, "cgroup");
	expect_code("{\"op\":\"quota\",\"cgroup\":7,\"bandwidth\":{}}", CNI_ERR_DECODE, "cgroup");
	assert_int_equal(parse("{\"op\":\"quotaDelete\",\"cgroup\":\"a\"}", &q, &err), 0);
	assert_int_equal(q.op, REQ_QUOTA_DELETE);
	expect_code("{\"op\":\"quotaDelete\"}", CNI_ERR_DECODE, "cgroup");
}

/* LIVE: renewed within its interval (every TTL/3), i.e. more than 2/3 of the TTL left, less slack
 * (2 s, or a tenth of the TTL when that is more). */
static void test_lease_live(void **state)
{
	assert_true(subnet_lease_live(9, 10));     /* just renewed (etcd truncates: 9 of 10) */
	assert_true(subnet_lease_live(6, 10));     /* just before the next renewal */
	assert_true(subnet_lease_live(5, 10));     /* a renewal 1.7 s late */
	assert_false(subnet_lease_live(4, 10));    /* two renewals missed: its host stopped */
	assert_false(subnet_lease_live(0, 10));
	assert_true(subnet_lease_live(400, 600));  /* renewed every 200 s */
	assert_true(subnet_lease_live(341, 600));  /* slack 60 s */
	assert_false(subnet_lease_live(340, 600));
	assert_false(subnet_lease_live(5, 0));     /* no TTL known */
	assert_false(subnet_lease_live(-1, 10));
}

/* netctl passes a cgroup as the user wrote it; shoald normalises it against the v2 mount. */
static void test_cgroup_normalise(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "system.slice/backup.service", "system.slice/backup.service" },
		{ "/sys/fs/cgroup/system.slice/backup.service", "system.slice/backup.service" },
		{ "/sys/fs/cgroup//a/./b/", "a/b" },
		{ "a//b///", "a/b" },
		{ "./a", "a" },
	};
	static const char *const bad[] = {
		"/sys/fs/cgroup", "/sys/fs/cgroup/", ".", "", "/sys/fs/cgroupx/a", "/etc/a", "a/../b", "..",
	};
	char out[RECORD_CGROUP_PATH_SIZE], longp[RECORD_CGROUP_PATH_SIZE + 10];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cgroups_normalise("/sys/fs/cgroup", good[i].in, out, &why), 0);
		assert_string_equal(out, good[i].out);
	}
	/* A mount given with a trailing '/' is the same mount. */
	assert_int_equal(cgroups_normalise("/sys/fs/cgroup/", "/sys/fs/cgroup/a", out, &why), 0);
	assert_string_equal(out, "a");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cgroups_normalise("/sys/fs/cgroup", bad[i], out, &why), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(cgroups_normalise("/sys/fs/cgroup", longp, out, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_in_sync),
		cmocka_unit_test(test_plan_gone_and_reattach),
		cmocka_unit_test(test_plan_deleting),
		cmocka_unit_test(test_plan_unclaimed_links),
		cmocka_unit_test(test_plan_many),
		cmocka_unit_test(test_request_add),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_request_bandwidth),
		cmocka_unit_test(test_request_cluster_ops),
		cmocka_unit_test(test_lease_live),
		cmocka_unit_test(test_cgroup_normalise),
	};

	return cmocka_run_group_tests_name("netd", tests, NULL, NULL);
}
