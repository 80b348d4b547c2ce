/* netd/metrics: the Prometheus text shoald serves on /metrics (format 0.0.4: HELP and TYPE once per
 * family, a family's samples together, counters named *_total, label values escaped), the
 * /healthz verdict, and the rates measured between scrapes.  Pure functions of plain structs: no
 * root, no daemon.  t_metrics.sh parses the real thing with prometheus_client. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/metrics.h"

static struct metrics_node node_ok(void)
{
	struct metrics_node n = {
		.version = "1.2.3", .subnet = "10.244.3.0/24", .subnet_held = true, .subnet_taken_by = "",
		.start_time = 1763776000, .attachments_active = 2, .attachments_deleting = 1, .addresses_free = 250,
	};
	return n;
}

static struct metrics_workload workload(const char *id, const char *veth)
{
	struct metrics_workload w = {
		.container_id = id, .ifname = "eth0", .pod_namespace = "", .pod_name = "", .host_veth = veth,
	};
	return w;
}

static char *render(const struct metrics_node *n, const struct metrics_workload *w, size_t count)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(n, w, count, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	return text;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static void assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("line missing: %s\n--- in:\n%s", line, text);
}

/* The sample's metric name: up to '{' or ' '. */
static void sample_name(const char *line, char *buf, size_t size)
{
	size_t n = strcspn(line, "{ ");

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), line);
}

/* Format rules every output must keep: each family has one HELP and one TYPE line, before its
 * samples, and its samples are contiguous; a counter's samples end in _total; every sample line
 * has a value after the last space. */
static void assert_well_formed(const char *text)
{
	char seen[64][96];
	size_t n_seen = 0;
	char current[96] = "", type[16] = "";
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		char line[1024], name[96];

		assert_non_null(eol);
		snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
		p = eol + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			sample_name(line + 7, name, sizeof(name));
			for (size_t i = 0; i < n_seen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("family %s appears twice", name);
			assert_true(n_seen < 64);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
			type[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sample_name(line + 7, name, sizeof(name));
			assert_string_equal(name, current);
			snprintf(type, sizeof(type), "%s", line + 7 + strlen(name) + 1);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			continue;
		}
		assert_true(line[0] != '#');
		sample_name(line, name, sizeof(name));
		if (strcmp(name, current) != 0)
			fail_msg("sample %s outside its family (current %s)", line, current);
		if (strcmp(type, "counter") == 0)
			assert_true(strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0);
		{
			const char *v = strrchr(line, ' ');
			char *end;

			assert_non_null(v);
			strtod(v + 1, &end);
			assert_true(end != v + 1 && *end == '\0');
		}
	}
}

static void test_node_only(void **state)
{
	struct metrics_node n = node_ok();
	char *t = render(&n, NULL, 0);

	assert_well_formed(t);
	assert_line(t, "# TYPE shoal_build_info gauge");
	assert_line(t, "shoal_build_info{version=\"1.2.3\"} 1");
	assert_line(t, "process_start_time_seconds 1763776000");
	assert_line(t, "shoal_healthy 1");
	assert_line(t, "shoal_subnet_lease_held{subnet=\"10.244.3.0/24\"} 1");
	assert_line(t, "shoal_attachments{state=\"active\"} 2");
	assert_line(t, "shoal_attachments{state=\"deleting\"} 1");
	assert_line(t, "shoal_addresses_free 250");
	/* bandwidth off: neither the node's nor any workload's bandwidth series */
	assert_null(strstr(t, "shoal_bandwidth_"));
	assert_null(strstr(t, "guarantee"));
	assert_null(strstr(t, "_total"));
	free(t);
}

static void test_bandwidth_node(void **state)
{
	struct metrics_node n = node_ok();
	char *t;

	n.bandwidth = true;
	n.capacity[BW_EGRESS] = 200000000;
	n.capacity[BW_INGRESS] = 1000000001;   /* an odd number of bits: an exact fraction of a byte */
	n.committed[BW_EGRESS] = 4000000;
	n.committed[BW_INGRESS] = 7;
	n.counters_read = true;
	t = render(&n, NULL, 0);
	assert_well_formed(t);
	assert_line(t, "# TYPE shoal_bandwidth_capacity_bytes_per_second gauge");
	assert_line(t, "shoal_bandwidth_capacity_bytes_per_second{direction=\"egress\"} 25000000");
	assert_line(t, "shoal_bandwidth_capacity_bytes_per_second{direction=\"ingress\"} 125000000.125");
	assert_line(t, "shoal_bandwidth_committed_bytes_per_second{direction=\"egress\"} 500000");
	assert_line(t, "shoal_bandwidth_committed_bytes_per_second{direction=\"ingress\"} 0.875");
	assert_line(t, "shoal_bandwidth_counters_read 1");
	free(t);
}

static void test_workloads(void **state)
{
	struct metrics_node n = node_ok();
	struct metrics_workload w[2] = { workload("c1", "shv1"), workload("c2", "shv2") };
	char *t;

	n.bandwidth = n.counters_read = true;
	w[0].pod_namespace = "team-a";
	w[0].pod_name = "web-0";
	w[0].share = true;
	w[0].guarantee[BW_EGRESS] = 20000000;
	w[0].guarantee[BW_INGRESS] = 10000000;
	w[0].limit[BW_EGRESS] = 100000000;
	w[0].limit[BW_INGRESS] = 200000000;
	w[0].priority = 2;
	w[0].counted[BW_EGRESS] = w[0].counted[BW_INGRESS] = true;
	w[0].counters[BW_EGRESS] = (struct bw_counters){ .bytes = 123456, .packets = 100, .drops = 3,
	                                                 .overlimits = 4, .borrows = 5 };
	w[0].counters[BW_INGRESS].bytes = 99;
	w[0].rated[BW_EGRESS] = true;
	w[0].rate[BW_EGRESS] = 1250.4;
	/* c2: a share, but its ingress class is missing (until a reconcile) */
	w[1].share = true;
	w[1].guarantee[BW_EGRESS] = w[1].guarantee[BW_INGRESS] = 1000000;
	w[1].limit[BW_EGRESS] = w[1].limit[BW_INGRESS] = 200000000;
	w[1].priority = 4;
	w[1].counted[BW_EGRESS] = true;
	w[1].counters[BW_EGRESS].bytes = 7;
	t = render(&n, w, 2);
	assert_well_formed(t);
	assert_line(t, "shoal_workload_info{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\",pod_name=\"web-0\"} 1");
	/* pod labels only when known */
	assert_line(t, "shoal_workload_info{container_id=\"c2\",ifname=\"eth0\"} 1");
	assert_line(t, "# TYPE shoal_workload_bytes_total counter");
	assert_line(t, "# HELP shoal_workload_bytes_total Bytes the workload's HTB class sent (whole frames, Ethernet "
	               "header included).");
	assert_line(t, "shoal_workload_bytes_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 123456");
	assert_line(t, "shoal_workload_bytes_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"ingress\"} 99");
	assert_line(t, "shoal_workload_packets_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 100");
	assert_line(t, "shoal_workload_drops_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 3");
	assert_line(t, "shoal_workload_overlimits_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 4");
	assert_line(t, "shoal_workload_borrowed_packets_total{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 5");
	assert_line(t, "shoal_workload_guarantee_bytes_per_second{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 2500000");
	assert_line(t, "shoal_workload_guarantee_bytes_per_second{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"ingress\"} 1250000");
	assert_line(t, "shoal_workload_limit_bytes_per_second{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 12500000");
	assert_line(t, "shoal_workload_priority{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\"} 2");
	assert_line(t, "shoal_workload_rate_bytes_per_second{container_id=\"c1\",ifname=\"eth0\",pod_namespace=\"team-a\","
	               "pod_name=\"web-0\",direction=\"egress\"} 1250");
	/* what was not measured is absent, not 0 */
	assert_null(strstr(t, "shoal_workload_rate_bytes_per_second{container_id=\"c1\",ifname=\"eth0\",pod_namespace="
	                      "\"team-a\",pod_name=\"web-0\",direction=\"ingress\"}"));
	assert_null(strstr(t, "shoal_workload_rate_bytes_per_second{container_id=\"c2\""));
	assert_null(strstr(t, "shoal_workload_bytes_total{container_id=\"c2\",ifname=\"eth0\",direction=\"ingress\"}"));
	assert_line(t, "shoal_workload_bytes_total{container_id=\"c2\",ifname=\"eth0\",direction=\"egress\"} 7");
	assert_line(t, "shoal_workload_limit_bytes_per_second{container_id=\"c2\",ifname=\"eth0\",direction=\"ingress\"} 25000000");
	free(t);
}

/* A cgroup with a quota: the same families, labelled cgroup="PATH" only (and direction), after
 * the attachments'; the attachments' series are as they were. */
static void test_workloads_cgroup(void **state)
{
	struct metrics_node n = node_ok();
	struct metrics_workload w[2] = { workload("c1", "shv1"), workload("", "") };
	struct metrics_rates *r;
	char *t;

	n.bandwidth = n.counters_read = true;
	w[1].cgroup = "system.slice/backup.service";
	w[1].share = true;
	w[1].guarantee[BW_EGRESS] = 40000000;
	w[1].limit[BW_EGRESS] = 80000000;
	w[1].priority = 6;
	w[1].counted[BW_EGRESS] = w[1].counted[BW_INGRESS] = true;
	w[1].counters[BW_EGRESS].bytes = 1000;
	w[1].counters[BW_INGRESS].bytes = 10;
	/* rates: by the cgroup's path, apart from an attachment's veth */
	assert_int_equal(metrics_rates_new(&r), 0);
	assert_int_equal(metrics_rates_update(r, 10.0, w, 2), 0);
	w[1].counters[BW_EGRESS].bytes = 3000;
	assert_int_equal(metrics_rates_update(r, 12.0, w, 2), 0);
	assert_true(w[1].rated[BW_EGRESS] && w[1].rate[BW_EGRESS] == 1000.0);
	metrics_rates_free(r);
	t = render(&n, w, 2);
	assert_well_formed(t);
	assert_line(t, "shoal_workload_info{container_id=\"c1\",ifname=\"eth0\"} 1");
	assert_line(t, "shoal_workload_info{cgroup=\"system.slice/backup.service\"} 1");
	assert_line(t, "shoal_workload_guarantee_bytes_per_second{cgroup=\"system.slice/backup.service\","
	               "direction=\"egress\"} 5000000");
	assert_line(t, "shoal_workload_limit_bytes_per_second{cgroup=\"system.slice/backup.service\","
	               "direction=\"egress\"} 10000000");
	assert_line(t, "shoal_workload_priority{cgroup=\"system.slice/backup.service\"} 6");
	assert_line(t, "shoal_workload_bytes_total{cgroup=\"system.slice/backup.service\",direction=\"egress\"} 3000");
	assert_line(t, "shoal_workload_bytes_total{cgroup=\"system.slice/backup.service\",direction=\"ingress\"} 10");
	assert_line(t, "shoal_workload_rate_bytes_per_second{cgroup=\"system.slice/backup.service\","
	               "direction=\"egress\"} 1000");
	assert_null(strstr(t, "container_id=\"\""));
	free(t);
}

/* Without bandwidth (or without counters) the per-workload bandwidth series are absent. */
static void test_workloads_without_bandwidth(void **state)
{
	struct metrics_node n = node_ok();
	struct metrics_workload w = workload("c1", "shv1");
	char *t = render(&n, &w, 1);

	assert_well_formed(t);
	assert_line(t, "shoal_workload_info{container_id=\"c1\",ifname=\"eth0\"} 1");
	assert_null(strstr(t, "shoal_workload_bytes"));
	assert_null(strstr(t, "shoal_workload_guarantee"));
	assert_null(strstr(t, "shoal_workload_priority"));
	free(t);
	/* a share but no counters read: the gauges, no counters, and the node says so */
	n.bandwidth = true;
	n.counters_read = false;
	w.share = true;
	t = render(&n, &w, 1);
	assert_well_formed(t);
	assert_line(t, "shoal_bandwidth_counters_read 0");
	assert_non_null(strstr(t, "shoal_workload_guarantee_bytes_per_second{"));
	assert_null(strstr(t, "_total"));
	free(t);
}

static void test_label_escaping(void **state)
{
	struct metrics_node n = node_ok();
	struct metrics_workload w = workload("a\\b\"c\nd", "shv1");
	char *t;

	n.version = "v\"1\\";
	w.pod_namespace = "ns\n";
	w.pod_name = "p\"q";
	t = render(&n, &w, 1);
	assert_well_formed(t);
	assert_line(t, "shoal_build_info{version=\"v\\\"1\\\\\"} 1");
	assert_line(t, "shoal_workload_info{container_id=\"a\\\\b\\\"c\\nd\",ifname=\"eth0\",pod_namespace=\"ns\\n\","
	               "pod_name=\"p\\\"q\"} 1");
	free(t);
}

static void test_health(void **state)
{
	struct metrics_node n = node_ok();
	char buf[512];

	assert_int_equal(metrics_health(&n, buf, sizeof(buf)), 200);
	assert_string_equal(buf, "ok: serving, subnet 10.244.3.0/24\n");
	assert_int_equal(metrics_health(&n, NULL, 0), 200);

	n.subnet_held = false;
	assert_int_equal(metrics_health(&n, buf, sizeof(buf)), 503);
	assert_non_null(strstr(buf, "lease on subnet 10.244.3.0/24 is lost"));

	n.subnet_taken_by = "node-7";
	assert_int_equal(metrics_health(&n, buf, sizeof(buf)), 503);
	assert_non_null(strstr(buf, "claimed by node node-7"));

	n.left = true;
	assert_int_equal(metrics_health(&n, buf, sizeof(buf)), 503);
	assert_non_null(strstr(buf, "left the cluster"));

	/* a small buffer is still terminated */
	assert_int_equal(metrics_health(&n, buf, 8), 503);
	assert_int_equal(strlen(buf), 7);
	/* shoal_healthy agrees with /healthz */
	{
		char *t = render(&n, NULL, 0);

		assert_line(t, "shoal_healthy 0");
		free(t);
	}
}

static void set_bytes(struct metrics_workload *w, uint64_t egress, uint64_t ingress)
{
	w->counted[BW_EGRESS] = w->counted[BW_INGRESS] = true;
	w->counters[BW_EGRESS].bytes = egress;
	w->counters[BW_INGRESS].bytes = ingress;
}

static void test_rates(void **state)
{
	struct metrics_rates *r;
	struct metrics_workload w[2] = { workload("c1", "shv1"), workload("c2", "shv2") };

	assert_int_equal(metrics_rates_new(&r), 0);
	/* first scrape: nothing to compare with */
	set_bytes(&w[0], 1000, 500);
	set_bytes(&w[1], 0, 0);
	assert_int_equal(metrics_rates_update(r, 100.0, w, 2), 0);
	assert_false(w[0].rated[BW_EGRESS] || w[0].rated[BW_INGRESS] || w[1].rated[BW_EGRESS]);

	/* 0.5 s later: too soon to measure, still unknown, and the base stays at t = 100 */
	set_bytes(&w[0], 2000, 500);
	assert_int_equal(metrics_rates_update(r, 100.5, w, 2), 0);
	assert_false(w[0].rated[BW_EGRESS]);

	/* 2 s after the base: 4000 bytes in 2 s */
	set_bytes(&w[0], 5000, 700);
	set_bytes(&w[1], 300, 0);
	assert_int_equal(metrics_rates_update(r, 102.0, w, 2), 0);
	assert_true(w[0].rated[BW_EGRESS] && w[0].rated[BW_INGRESS]);
	assert_true(w[0].rate[BW_EGRESS] == 2000.0);
	assert_true(w[0].rate[BW_INGRESS] == 100.0);
	assert_true(w[1].rated[BW_EGRESS] && w[1].rate[BW_EGRESS] == 150.0);

	/* a scrape right after: the rate measured last, unchanged */
	set_bytes(&w[0], 9000, 700);
	assert_int_equal(metrics_rates_update(r, 102.2, w, 2), 0);
	assert_true(w[0].rated[BW_EGRESS] && w[0].rate[BW_EGRESS] == 2000.0);

	/* the order the workloads come in does not matter; a counter that went down (class
	 * re-created) gives no rate for that window, the other direction still does */
	{
		struct metrics_workload sw[2] = { w[1], w[0] };

		set_bytes(&sw[1], 100, 1700);
		assert_int_equal(metrics_rates_update(r, 104.0, sw, 2), 0);
		assert_false(sw[1].rated[BW_EGRESS]);
		assert_true(sw[1].rated[BW_INGRESS] && sw[1].rate[BW_INGRESS] == 500.0);
		w[0] = sw[1];
		w[1] = sw[0];
	}

	/* c1 is gone (DEL): forgotten; when it comes back it starts over */
	assert_int_equal(metrics_rates_update(r, 106.0, &w[1], 1), 0);
	set_bytes(&w[0], 50, 50);
	assert_int_equal(metrics_rates_update(r, 108.0, w, 2), 0);
	assert_false(w[0].rated[BW_EGRESS] || w[0].rated[BW_INGRESS]);

	/* a direction without counters has no rate; a workload without any is not remembered */
	w[0].counted[BW_INGRESS] = false;
	set_bytes(&w[1], 300, 0);
	w[1].counted[BW_EGRESS] = w[1].counted[BW_INGRESS] = false;
	assert_int_equal(metrics_rates_update(r, 110.0, w, 2), 0);
	assert_true(w[0].rated[BW_EGRESS]);
	assert_false(w[0].rated[BW_INGRESS]);
	assert_false(w[1].rated[BW_EGRESS]);
	assert_int_equal(metrics_rates_update(r, 111.0, NULL, 0), 0);
	metrics_rates_free(r);
	metrics_rates_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_only),
		cmocka_unit_test(test_bandwidth_node),
		cmocka_unit_test(test_workloads),
		cmocka_unit_test(test_workloads_cgroup),
		cmocka_unit_test(test_workloads_without_bandwidth),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_rates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
