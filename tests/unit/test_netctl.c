/* netctl: argument parsing, table/JSON/YAML formatting (JSON in, text out), workload lookup, the
 * quota merge, policies, and whole runs against a fake shoald (a unix socket answering canned JSON) for the
 * exit codes, messages, --watch and quota set's two requests. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/cgpath.h"
#include "lib/fileio.h"
#include "lib/ipc.h"
#include "netctl/args.h"
#include "netctl/format.h"
#include "netctl/policy.h"
#include "netctl/quota.h"
#include "netctl/run.h"
#include "netctl/top.h"
#include "netctl/workloads.h"
#include "netctl/yaml.h"

/* ---- argument parsing ------------------------------------------------------------------------ */

static int parse(struct netctl_args *a, char *err, const char *env, ...)
{
	char *argv[32] = { "netctl" };
	int argc = 1;
	va_list ap;

	va_start(ap, env);
	for (const char *s; (s = va_arg(ap, const char *));)
		argv[argc++] = (char *)s;
	va_end(ap);
	return netctl_args_parse(argc, argv, env, a, err, 256);
}

static void test_args_defaults(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "status", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_RUN);
	assert_int_equal(a.topic, NETCTL_TOPIC_STATUS);
	assert_int_equal(a.output, NETCTL_OUTPUT_TABLE);
	assert_string_equal(a.socket, "/run/shoal/shoald.sock");
	assert_int_equal(a.timeout_ms, 5000);
	assert_false(a.no_headers);
	assert_false(a.no_trunc);
}

static void test_args_commands(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "subnet", "list", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET_LIST);
	assert_int_equal(parse(&a, err, NULL, "subnets", "ls", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET_LIST);
	assert_int_equal(parse(&a, err, NULL, "workload", "list", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_LIST);
	assert_int_equal(parse(&a, err, NULL, "workloads", "ls", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_LIST);
}

static void test_args_socket_precedence(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, "/env.sock", "status", NULL), 0);
	assert_string_equal(a.socket, "/env.sock");
	assert_int_equal(parse(&a, err, "", "status", NULL), 0);   /* empty env = unset */
	assert_string_equal(a.socket, "/run/shoal/shoald.sock");
	assert_int_equal(parse(&a, err, "/env.sock", "--socket", "/opt.sock", "status", NULL), 0);
	assert_string_equal(a.socket, "/opt.sock");
	assert_int_equal(parse(&a, err, "/env.sock", "status", "--socket=/eq.sock", NULL), 0);
	assert_string_equal(a.socket, "/eq.sock");
}

static void test_args_output_forms(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "-o", "json", "status", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_JSON);
	assert_int_equal(parse(&a, err, NULL, "status", "-ojson", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_JSON);
	assert_int_equal(parse(&a, err, NULL, "workload", "--output=json", "list", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_JSON);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_LIST);
	assert_int_equal(parse(&a, err, NULL, "--output", "json", "-o", "table", "status", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_TABLE);   /* the last one wins */
	assert_int_equal(parse(&a, err, NULL, "status", "-o", "yaml", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_YAML);
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "-owide", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_WIDE);
	assert_int_equal(parse(&a, err, NULL, "status", "-o", "xml", NULL), -EINVAL);
	assert_string_equal(err, "unknown output format 'xml' (table, wide, json or yaml)");
	assert_int_equal(parse(&a, err, NULL, "status", "-o", NULL), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(parse(&a, err, NULL, "--outputx", "json", "status", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--outputx'"));
}

static void test_args_flags(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--no-headers", "--no-trunc", NULL), 0);
	assert_true(a.no_headers);
	assert_true(a.no_trunc);
}

static void test_args_timeout(void **state)
{
	struct netctl_args a;
	char err[256];
	int ms;

	assert_int_equal(netctl_parse_timeout("5", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(netctl_parse_timeout("2.5s", &ms), 0);
	assert_int_equal(ms, 2500);
	assert_int_equal(netctl_parse_timeout("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(netctl_parse_timeout("1m", &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(netctl_parse_timeout("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(netctl_parse_timeout("0.1ms", &ms), 0);
	assert_int_equal(ms, 1);   /* never rounds a real limit down to "no limit" */
	assert_int_equal(netctl_parse_timeout("", &ms), -EINVAL);
	assert_int_equal(netctl_parse_timeout("-1", &ms), -EINVAL);
	assert_int_equal(netctl_parse_timeout("5h", &ms), -EINVAL);
	assert_int_equal(netctl_parse_timeout("nan", &ms), -EINVAL);
	assert_int_equal(netctl_parse_timeout("2h", &ms), -EINVAL);
	assert_int_equal(netctl_parse_timeout("61m", &ms), -ERANGE);
	assert_int_equal(parse(&a, err, NULL, "status", "--timeout", "300ms", NULL), 0);
	assert_int_equal(a.timeout_ms, 300);
	assert_int_equal(parse(&a, err, NULL, "status", "--timeout=abc", NULL), -EINVAL);
	assert_non_null(strstr(err, "bad timeout 'abc'"));
	assert_int_equal(parse(&a, err, NULL, "status", "--timeout", NULL), -EINVAL);
}

static void test_args_help_levels(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "-h", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_TOP);
	assert_int_equal(parse(&a, err, NULL, "--help", "status", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_STATUS);
	assert_int_equal(parse(&a, err, NULL, "subnet", "-h", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET);
	assert_int_equal(parse(&a, err, NULL, "subnet", "list", "--help", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET_LIST);
	assert_int_equal(parse(&a, err, NULL, "workload", "-h", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD);
	assert_int_equal(parse(&a, err, NULL, "help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_TOP);
	assert_int_equal(parse(&a, err, NULL, "help", "workload", "list", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_LIST);
	assert_int_equal(parse(&a, err, NULL, "help", "nope", NULL), -EINVAL);
	/* Help wins over --version, --version over running a command. */
	assert_int_equal(parse(&a, err, NULL, "--version", "-h", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(parse(&a, err, NULL, "--version", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_VERSION);
	/* Every help text is man-page shaped. */
	for (int t = NETCTL_TOPIC_TOP; t < NETCTL_N_TOPICS; t++) {
		assert_non_null(strstr(netctl_help_text(t), "NAME\n"));
		assert_non_null(strstr(netctl_help_text(t), "SYNOPSIS\n"));
		/* Every command that runs documents its exit codes and shows examples. */
		if (t != NETCTL_TOPIC_SUBNET && t != NETCTL_TOPIC_WORKLOAD && t != NETCTL_TOPIC_HOST &&
		    t != NETCTL_TOPIC_NETWORK && t != NETCTL_TOPIC_NODE) {
			assert_non_null(strstr(netctl_help_text(t), "EXIT STATUS\n"));
			assert_non_null(strstr(netctl_help_text(t), "EXAMPLES\n"));
			assert_non_null(strstr(netctl_help_text(t), "yaml"));
		}
	}
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_WORKLOAD_LIST), "--namespace"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_WORKLOAD_LIST), "POD UID"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_STATUS), "--watch"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_SUBNET_LIST), "--count N"));
	assert_null(strstr(netctl_help_text(NETCTL_TOPIC_WORKLOAD_GET), "--watch"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_VERSION), "unreachable"));
	/* Help needs no ID: `netctl workload get --help`. */
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_GET);
	assert_int_equal(parse(&a, err, NULL, "help", "version", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_VERSION);
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP), "EXIT STATUS"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_WORKLOAD_LIST), "HOST VETH"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_SUBNET_LIST), "EXAMPLES"));
}

static void test_args_usage_errors(void **state)
{
	struct netctl_args a;
	char err[256], longpath[200];

	assert_int_equal(parse(&a, err, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "missing command"));
	assert_int_equal(parse(&a, err, NULL, "frobnicate", NULL), -EINVAL);
	assert_string_equal(err, "unknown command 'frobnicate'");
	assert_int_equal(parse(&a, err, NULL, "subnet", NULL), -EINVAL);
	assert_string_equal(err, "subnet: missing command (list, release)");
	assert_int_equal(parse(&a, err, NULL, "host", NULL), -EINVAL);
	assert_string_equal(err, "host: missing command (list)");
	assert_int_equal(parse(&a, err, NULL, "network", NULL), -EINVAL);
	assert_string_equal(err, "network: missing command (show)");
	assert_int_equal(parse(&a, err, NULL, "node", NULL), -EINVAL);
	assert_string_equal(err, "node: missing command (leave)");
	assert_int_equal(parse(&a, err, NULL, "subnet", "release", NULL), -EINVAL);
	assert_string_equal(err, "subnet release: missing subnet (netctl subnet release SUBNET [--force])");
	assert_int_equal(parse(&a, err, NULL, "subnet", "release", "10.244.3.0/24", "x", NULL), -EINVAL);
	assert_string_equal(err, "subnet release: unexpected argument 'x'");
	assert_int_equal(parse(&a, err, NULL, "node", "leave", "now", NULL), -EINVAL);
	assert_string_equal(err, "node leave: unexpected argument 'now'");
	assert_int_equal(parse(&a, err, NULL, "subnet", "list", "--force", NULL), -EINVAL);
	assert_string_equal(err, "option --force works with subnet release only");
	assert_int_equal(parse(&a, err, NULL, "network", "show", "-w", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "node", "join", NULL), -EINVAL);
	assert_string_equal(err, "node: unknown command 'join'");
	assert_int_equal(parse(&a, err, NULL, "workload", NULL), -EINVAL);
	assert_string_equal(err, "workload: missing command (list, get)");
	assert_int_equal(parse(&a, err, NULL, "workload", "delete", NULL), -EINVAL);
	assert_string_equal(err, "workload: unknown command 'delete'");
	assert_int_equal(parse(&a, err, NULL, "status", "extra", NULL), -EINVAL);
	assert_string_equal(err, "status: unexpected argument 'extra'");
	assert_int_equal(parse(&a, err, NULL, "subnet", "list", "x", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "status", "-x", NULL), -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	/* After "--" everything is a word, even "-h". */
	assert_int_equal(parse(&a, err, NULL, "--", "-h", NULL), -EINVAL);
	assert_string_equal(err, "unknown command '-h'");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(parse(&a, err, NULL, "--socket", longpath, "status", NULL), -EINVAL);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(parse(&a, err, NULL, "--socket=", "status", NULL), -EINVAL);
}

static void test_args_version_and_get(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "version", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_RUN);
	assert_int_equal(a.topic, NETCTL_TOPIC_VERSION);
	assert_int_equal(parse(&a, err, NULL, "version", "-o", "json", NULL), 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_JSON);
	assert_int_equal(parse(&a, err, NULL, "version", "x", NULL), -EINVAL);
	assert_string_equal(err, "version: unexpected argument 'x'");

	assert_int_equal(parse(&a, err, NULL, "workload", "get", "0123", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_GET);
	assert_string_equal(a.id, "0123");
	assert_null(a.ifname);
	assert_int_equal(parse(&a, err, NULL, "workloads", "get", "-o", "yaml", "web-1", "net1", NULL), 0);
	assert_string_equal(a.id, "web-1");
	assert_string_equal(a.ifname, "net1");
	assert_int_equal(a.output, NETCTL_OUTPUT_YAML);
	assert_int_equal(parse(&a, err, NULL, "workload", "get", NULL), -EINVAL);
	assert_string_equal(err, "workload get: missing container id (netctl workload get ID [IFNAME], or --cgroup PATH)");
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "", NULL), -EINVAL);
	assert_string_equal(err, "workload get: empty container id");
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "a", "eth0", "x", NULL), -EINVAL);
	assert_string_equal(err, "workload get: unexpected argument 'x'");
	assert_int_equal(parse(&a, err, NULL, "subnet", "get", "a", NULL), -EINVAL);
	assert_string_equal(err, "subnet: unknown command 'get'");
}

static void test_args_watch(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "status", NULL), 0);
	assert_false(a.watch);
	assert_int_equal(a.interval_ms, 2000);
	assert_int_equal(a.count, 0);
	assert_int_equal(parse(&a, err, NULL, "-w", "workload", "list", NULL), 0);
	assert_true(a.watch);
	assert_int_equal(parse(&a, err, NULL, "subnet", "list", "--watch", "--interval", "500ms", "--count=3", NULL), 0);
	assert_true(a.watch);
	assert_int_equal(a.interval_ms, 500);
	assert_int_equal(a.count, 3);
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--interval=1m", NULL), 0);
	assert_int_equal(a.interval_ms, 60000);

	assert_int_equal(parse(&a, err, NULL, "status", "--interval", "1s", NULL), -EINVAL);
	assert_string_equal(err, "option --interval needs --watch");
	assert_int_equal(parse(&a, err, NULL, "status", "--count", "2", NULL), -EINVAL);
	assert_string_equal(err, "option --count needs --watch");
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--interval", "0", NULL), -EINVAL);
	assert_non_null(strstr(err, "bad interval '0'"));
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--interval", "fast", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--count", "0", NULL), -EINVAL);
	assert_string_equal(err, "bad count '0' (a number of samples, at least 1)");
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--count", "-1", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--count", "2x", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "status", "-w", "--count", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "version", "-w", NULL), -EINVAL);
	assert_string_equal(err, "option --watch works with status, subnet list, host list and workload list");
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "x", "--watch", NULL), -EINVAL);
	/* Help is always possible, whatever else the line holds. */
	assert_int_equal(parse(&a, err, NULL, "version", "-w", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
}

static void test_args_filters(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "workload", "list", NULL), 0);
	assert_null(a.filter_namespace);
	assert_null(a.filter_pod);
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--namespace", "kube-system", "--pod=web-0", NULL), 0);
	assert_string_equal(a.filter_namespace, "kube-system");
	assert_string_equal(a.filter_pod, "web-0");
	assert_int_equal(parse(&a, err, NULL, "-n", "default", "workload", "list", NULL), 0);
	assert_string_equal(a.filter_namespace, "default");
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "-ndev", NULL), 0);
	assert_string_equal(a.filter_namespace, "dev");
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--no-headers", "--no-trunc", NULL), 0);
	assert_null(a.filter_namespace);   /* --no-* are not -n */

	assert_int_equal(parse(&a, err, NULL, "status", "--pod", "x", NULL), -EINVAL);
	assert_string_equal(err, "options --namespace and --pod work with workload list and top only");
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "c", "-n", "x", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--pod", NULL), -EINVAL);
	assert_string_equal(err, "option --pod needs a pod name");
}

/* ---- formatting ------------------------------------------------------------------------------- */

/* Run a formatter into a string. */
#define CAPTURE(buf, call)                                                     \
	do {                                                                   \
		size_t len_;                                                   \
		FILE *out = open_memstream(&(buf), &len_);                     \
		assert_non_null(out);                                          \
		assert_int_equal((call), 0);                                   \
		fclose(out);                                                   \
	} while (0)

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void test_format_workloads(void **state)
{
	json_t *list = load(
		"[{\"containerId\":\"web-1\",\"ifname\":\"eth0\",\"address\":\"10.244.3.8/24\",\"hostVeth\":\"shv0123456789ab\","
		"  \"netns\":\"/var/run/netns/web-1\",\"network\":\"n\",\"created\":1763776000,\"state\":\"active\","
		"  \"pod\":\"web-1\",\"namespace\":\"default\",\"podUID\":\"5f0c7e9a-1b2c-4d3e-8f90-0123456789ab\"},"
		" {\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"net1\","
		"  \"address\":\"10.244.3.7/24\",\"hostVeth\":\"shvffffffffffff\",\"netns\":\"/proc/42/ns/net\",\"state\":\"deleting\","
		"  \"pod\":\"\",\"namespace\":\"\",\"podUID\":\"\"},"
		" {\"containerId\":\"db\",\"ifname\":\"eth0\",\"address\":\"10.244.3.10/24\",\"hostVeth\":\"shv000000000001\"}]");
	char *text = NULL;

	/* The table: who and where in the network; "" and missing pod fields (an older shoald) are "-". */
	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text,
		"CONTAINER ID   IFNAME   ADDRESS          NAMESPACE   POD     STATE\n"
		"0123456789ab   net1     10.244.3.7/24    -           -       deleting\n"
		"db             eth0     10.244.3.10/24   -           -       -\n"
		"web-1          eth0     10.244.3.8/24    default     web-1   active\n");
	free(text);
	/* -o wide: the same columns first, then host veth, netns, network, created (UTC), pod UID. */
	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_HEADERS | NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text,
		"CONTAINER ID   IFNAME   ADDRESS          NAMESPACE   POD     STATE      HOST VETH         NETNS                  NETWORK   CREATED                POD UID\n"
		"0123456789ab   net1     10.244.3.7/24    -           -       deleting   shvffffffffffff   /proc/42/ns/net        -         -                      -\n"
		"db             eth0     10.244.3.10/24   -           -       -          shv000000000001   -                      -         -                      -\n"
		"web-1          eth0     10.244.3.8/24    default     web-1   active     shv0123456789ab   /var/run/netns/web-1   n         2025-11-22T01:46:40Z   5f0c7e9a-1b2c-4d3e-8f90-0123456789ab\n");
	free(text);
	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_NO_TRUNC, out));
	assert_string_equal(text,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef   net1   10.244.3.7/24    -         -       deleting\n"
		"db                                                                 eth0   10.244.3.10/24   -         -       -\n"
		"web-1                                                              eth0   10.244.3.8/24    default   web-1   active\n");
	free(text);
	json_decref(list);
}

static void test_format_subnets_wide(void **state)
{
	json_t *list = load(
		"[{\"subnet\":\"10.244.3.0/24\",\"node\":\"n1\",\"publicIP\":\"198.18.0.1\",\"vtepMAC\":\"02:00:00:00:00:01\",\"lease\":7,\"leaseTTL\":600,\"expiresIn\":599,\"live\":true,\"self\":true},"
		" {\"subnet\":\"10.244.2.0/24\",\"node\":\"n2\",\"publicIP\":\"198.18.0.2\",\"vtepMAC\":\"02:00:00:00:00:02\",\"lease\":12,\"self\":false}]");
	char *text = NULL;

	CAPTURE(text, netctl_format_subnets(list, NETCTL_FORMAT_HEADERS | NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text,
		"SUBNET          NODE   UNDERLAY IP   VTEP MAC            EXPIRES   LIVE   SELF   LEASE TTL   LEASE ID\n"
		"10.244.2.0/24   n2     198.18.0.2    02:00:00:00:00:02   -         -      no     -           12\n"
		"10.244.3.0/24   n1     198.18.0.1    02:00:00:00:00:01   9m59s     yes    yes    600         7\n");
	free(text);
	/* Without wide the granted TTL and the lease id stay out. */
	CAPTURE(text, netctl_format_subnets(list, 0, out));
	assert_string_equal(text,
		"10.244.2.0/24   n2   198.18.0.2   02:00:00:00:00:02   -       -     no\n"
		"10.244.3.0/24   n1   198.18.0.1   02:00:00:00:00:01   9m59s   yes   yes\n");
	free(text);
	json_decref(list);
}

static void test_format_workloads_same_id_and_empty(void **state)
{
	json_t *list = load("[{\"containerId\":\"c\",\"ifname\":\"eth1\",\"address\":\"a\",\"hostVeth\":\"h1\",\"netns\":\"n\",\"state\":\"active\"},"
			    " {\"containerId\":\"c\",\"ifname\":\"eth0\",\"address\":\"b\",\"hostVeth\":\"h0\",\"netns\":\"n\",\"state\":\"active\"}]");
	json_t *empty = json_array();
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text, "c   eth0   b   -   -   active   h0   n   -   -   -\n"
				  "c   eth1   a   -   -   active   h1   n   -   -   -\n");
	free(text);
	CAPTURE(text, netctl_format_workloads(empty, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text, "CONTAINER ID   IFNAME   ADDRESS   NAMESPACE   POD   STATE\n");
	free(text);
	json_decref(list);
	json_decref(empty);
}

static void test_format_control_chars(void **state)
{
	json_t *list = load("[{\"containerId\":\"evil\\u001b[2J\",\"ifname\":\"eth0\",\"address\":\"x\",\"hostVeth\":\"h\","
			    "\"netns\":\"a\\nb\",\"state\":\"active\"}]");
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text, "evil?[2J   eth0   x   -   -   active   h   a?b   -   -   -\n");
	free(text);
	json_decref(list);
}

static void test_format_subnets(void **state)
{
	json_t *list = load(
		"[{\"subnet\":\"10.244.10.0/24\",\"node\":\"n3\",\"publicIP\":\"198.18.0.3\",\"vtepMAC\":\"02:00:00:00:00:03\",\"leaseTTL\":10,\"expiresIn\":3,\"live\":false,\"self\":false},"
		" {\"subnet\":\"10.244.9.0/24\",\"node\":\"n2\",\"publicIP\":\"\",\"vtepMAC\":\"\",\"leaseTTL\":600,\"expiresIn\":3599,\"live\":true,\"self\":true},"
		" {\"subnet\":\"10.244.1.0/24\",\"node\":\"host-one\",\"publicIP\":\"198.18.0.1\",\"vtepMAC\":\"02:00:00:00:00:01\",\"leaseTTL\":45,\"expiresIn\":44,\"live\":true,\"self\":false}]");
	char *text = NULL;

	/* EXPIRES is each lease's own time left; VTEP MAC "-" where a node published none. */
	CAPTURE(text, netctl_format_subnets(list, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text,
		"SUBNET           NODE       UNDERLAY IP   VTEP MAC            EXPIRES   LIVE   SELF\n"
		"10.244.1.0/24    host-one   198.18.0.1    02:00:00:00:00:01   44s       yes    no\n"
		"10.244.9.0/24    n2         -             -                   59m59s    yes    yes\n"
		"10.244.10.0/24   n3         198.18.0.3    02:00:00:00:00:03   3s        no     no\n");
	free(text);
	json_decref(list);
}

static void test_format_status(void **state)
{
	json_t *st = load("{\"ok\":true,\"node\":\"n1\",\"version\":\"0.1.0\",\"store\":\"file:/var/lib/shoal/store\","
			  "\"network\":\"10.244.0.0/16\",\"subnet\":\"10.244.3.0/24\",\"gateway\":\"10.244.3.1\","
			  "\"bridge\":\"shoal0\",\"mtu\":1450,\"workloads\":3,\"addressesFree\":250,"
			  "\"bridgePortsFree\":1020,\"capacityFree\":250,\"antiSpoofing\":true,"
			  "\"pendingDeletes\":0,\"uptimeSeconds\":3725,\"peers\":2}");
	char *text = NULL;

	CAPTURE(text, netctl_format_status(st, out));
	assert_string_equal(text,
		"Node:            n1\n"
		"Version:         0.1.0\n"
		"Store:           file:/var/lib/shoal/store\n"
		"Network:         10.244.0.0/16\n"
		"Subnet:          10.244.3.0/24\n"
		"Gateway:         10.244.3.1\n"
		"Bridge:          shoal0\n"
		"MTU:             1450\n"
		"Workloads:       3\n"
		"Free addresses:  250\n"
		"Free ports:      1020\n"
		"Capacity:        250\n"
		"Anti-spoofing:   yes\n"
		"Pending deletes: 0\n"
		"Uptime:          1h2m\n"
		"peers:           2\n");
	free(text);
	json_decref(st);
}

static void test_format_duration(void **state)
{
	char b[32];

	netctl_format_duration(0, b, sizeof(b));
	assert_string_equal(b, "0s");
	netctl_format_duration(59, b, sizeof(b));
	assert_string_equal(b, "59s");
	netctl_format_duration(61, b, sizeof(b));
	assert_string_equal(b, "1m1s");
	netctl_format_duration(7322, b, sizeof(b));
	assert_string_equal(b, "2h2m");
	netctl_format_duration(3 * 86400 + 4 * 3600 + 5, b, sizeof(b));
	assert_string_equal(b, "3d4h");
	netctl_format_duration(-3, b, sizeof(b));
	assert_string_equal(b, "-");
}

static void test_format_json_sorted(void **state)
{
	json_t *list = load("[{\"containerId\":\"b\",\"ifname\":\"eth0\"},{\"containerId\":\"a\",\"ifname\":\"eth0\"}]");
	json_t *sorted = netctl_sort_workloads(list);
	char *text = NULL;

	CAPTURE(text, netctl_format_json(sorted, out));
	assert_string_equal(text, "[\n  {\n    \"containerId\": \"a\",\n    \"ifname\": \"eth0\"\n  },\n"
				  "  {\n    \"containerId\": \"b\",\n    \"ifname\": \"eth0\"\n  }\n]\n");
	free(text);
	assert_null(netctl_sort_subnets(json_object_get(list, "x")));   /* not a list */
	json_decref(sorted);
	json_decref(list);
}

static void test_format_workload_detail(void **state)
{
	json_t *w = load("{\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
			 "\"ifname\":\"eth0\",\"address\":\"10.244.3.7/24\",\"hostVeth\":\"shv1a2b3c4d5e6f\","
			 "\"netns\":\"/var/run/netns/c\\u001b1\",\"network\":\"shoal-net\",\"created\":1763776000,"
			 "\"state\":\"active\",\"pod\":\"web-0\",\"namespace\":\"default\",\"podUID\":\"\",\"mac\":\"be:ef:00:00:00:01\"}");
	json_t *old = load("{\"containerId\":\"c1\",\"ifname\":\"eth0\",\"created\":1763776000}");
	char *text = NULL;

	/* The whole id, every field, "" as "-", the age next to the UTC time, a field netctl does not
	 * know yet under its API name, control characters as '?'. */
	CAPTURE(text, netctl_format_workload(w, 1763776000 + 3725, out));
	assert_string_equal(text,
		"Container ID: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"Interface:    eth0\n"
		"Address:      10.244.3.7/24\n"
		"Namespace:    default\n"
		"Pod:          web-0\n"
		"Pod UID:      -\n"
		"Host veth:    shv1a2b3c4d5e6f\n"
		"Netns:        /var/run/netns/c?1\n"
		"Network:      shoal-net\n"
		"Created:      2025-11-22T01:46:40Z (1h2m ago)\n"
		"State:        active\n"
		"mac:          be:ef:00:00:00:01\n");
	free(text);
	/* An older shoald's entry: the pod fields are "-"; without a clock (now 0) no age. */
	CAPTURE(text, netctl_format_workload(old, 0, out));
	assert_string_equal(text,
		"Container ID: c1\n"
		"Interface:    eth0\n"
		"Address:      -\n"
		"Namespace:    -\n"
		"Pod:          -\n"
		"Pod UID:      -\n"
		"Host veth:    -\n"
		"Netns:        -\n"
		"Network:      -\n"
		"Created:      2025-11-22T01:46:40Z\n"
		"State:        -\n");
	free(text);
	json_decref(w);
	json_decref(old);
}

static void test_format_time_version_lines(void **state)
{
	json_t *v = load("{\"netctl\":\"0.2.0\",\"shoald\":\"0.1.9\"}"), *nov = load("{\"netctl\":\"0.2.0\",\"shoald\":null}");
	json_t *list = load("[{\"containerId\":\"b\",\"netns\":\"x\\ny\"},{\"containerId\":\"a\"}]");
	char b[64], *text = NULL;

	netctl_format_time(1763776000, b, sizeof(b));
	assert_string_equal(b, "2025-11-22T01:46:40Z");
	netctl_format_time(0, b, sizeof(b));
	assert_string_equal(b, "-");
	netctl_format_time(-5, b, sizeof(b));
	assert_string_equal(b, "-");

	CAPTURE(text, netctl_format_version(v, "unreachable", out));
	assert_string_equal(text, "netctl: 0.2.0\nshoald: 0.1.9\n");
	free(text);
	CAPTURE(text, netctl_format_version(nov, "unreachable", out));
	assert_string_equal(text, "netctl: 0.2.0\nshoald: unreachable\n");
	free(text);

	/* One compact document per line, whatever the strings hold (--watch -o json). */
	CAPTURE(text, netctl_format_json_line(list, out));
	assert_string_equal(text, "[{\"containerId\":\"b\",\"netns\":\"x\\ny\"},{\"containerId\":\"a\"}]\n");
	free(text);
	json_decref(v);
	json_decref(nov);
	json_decref(list);
}

/* ---- YAML ------------------------------------------------------------------------------------ */

static bool plain(const char *s)
{
	return netctl_yaml_plain_ok(s, strlen(s));
}

static void test_yaml_plain_rules(void **state)
{
	/* What a YAML 1.1 or 1.2 reader would turn into null, a boolean, a number or a date, or read as
	 * syntax: each must be quoted to come back as the same string. */
	static const char *const quoted[] = {
		"", "~", "null", "Null", "NULL", "true", "True", "FALSE", "yes", "No", "on", "OFF", "y", "N",
		"0", "123", "-1", "+1", "0x1F", "0o17", "0b101", "0777", "1e3", "1.5", ".5", "1.", "1_000",
		".inf", "-.inf", ".NaN", "e4", "E+5", "e-07", "12:30", "1:20:30", "02:00:00:00:00:03", "2001-12-14",
		"2001-12-14T21:59:43.10-05:00", "0123456789ab",
		"a: b", "key:", "a #b", "#x", "x#y", " lead", "trail ", "-", "- x", "---", "...", "-x",
		"?", "?x", ":x", ",x", "[x", "]x", "{x", "}x", "&a", "*a", "!tag", "|", ">", "'x", "\"x",
		"%x", "@x", "`x", "<<", "=", "a\nb", "tab\there", "del\x7f", "caf\xc3\xa9",
	};
	/* Strings shoal prints that stay readable: names, paths, CIDRs, addresses, versions.  (Other
	 * strings that begin with a digit, a UUID say, are quoted even where no reader would type
	 * them: quoting costs nothing, a wrong guess would.) */
	static const char *const plain_ok[] = {
		"eth0", "shoal0", "web-0", "kube-system", "active", "shv1a2b3c4d5e6f", "default",
		"10.244.3.0/24", "10.244.3.1", "198.18.0.1", "0.2.0", "1.2.3.4.5", "file:/var/lib/shoal/store",
		"/var/run/netns/cni-1234", "/proc/42/ns/net", "http://198.18.0.1:2379", "a b", "x-y_z.w",
		"be:ef:00:00:00:01", "fe80::1", "e", "e1x", "eth0.100", "yesterday", "nullable", "o'clock", "a,b",
		"c5f0e9a1-1b2c-4d3e-8f90-0123456789ab",
	};

	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
		if (plain(quoted[i]))
			fail_msg("'%s' must be quoted", quoted[i]);
	for (size_t i = 0; i < sizeof(plain_ok) / sizeof(plain_ok[0]); i++)
		if (!plain(plain_ok[i]))
			fail_msg("'%s' may be plain", plain_ok[i]);
	assert_false(netctl_yaml_plain_ok("a\0b", 3));   /* an embedded NUL is never plain */
}

static void test_yaml_scalars(void **state)
{
	json_t *v = load("{\"s\":\"eth0\",\"t\":\"true\",\"n\":\"0123\",\"e\":\"\",\"i\":42,\"neg\":-7,\"r\":1.5,"
			 "\"whole\":2.0,\"big\":1e20,\"b\":true,\"f\":false,\"z\":null,"
			 "\"esc\":\"q\\\"b\\\\s\\n\\t\\r\\u0001\\u007f\\u0085\\u2028\\ufeff\",\"utf\":\"caf\\u00e9\","
			 "\"no\":\"n\",\"on\":1,\"y\":2,\"a: b\":3}");
	char *text = NULL;

	CAPTURE(text, netctl_yaml_dump(v, out));
	assert_string_equal(text,
		"s: eth0\n"
		"t: \"true\"\n"
		"\"n\": \"0123\"\n"
		"e: \"\"\n"
		"i: 42\n"
		"neg: -7\n"
		"r: 1.5\n"
		"whole: 2.0\n"
		"big: 1.0e+20\n"
		"b: true\n"
		"f: false\n"
		"z: null\n"
		"esc: \"q\\\"b\\\\s\\n\\t\\r\\u0001\\u007F\\u0085\\u2028\\uFEFF\"\n"
		"utf: \"caf\xc3\xa9\"\n"
		"\"no\": \"n\"\n"   /* keys follow the same rules: "no" and "n" are false in YAML 1.1 */
		"\"on\": 1\n"
		"\"y\": 2\n"
		"\"a: b\": 3\n");
	free(text);
	json_decref(v);

	/* A document that is a scalar or an empty collection. */
	v = load("[]");
	CAPTURE(text, netctl_yaml_dump(v, out));
	assert_string_equal(text, "[]\n");
	free(text);
	json_decref(v);
	v = json_string("null");
	CAPTURE(text, netctl_yaml_dump(v, out));
	assert_string_equal(text, "\"null\"\n");
	free(text);
	json_decref(v);
}

static void test_yaml_collections(void **state)
{
	json_t *v = load("[{\"containerId\":\"a\",\"ifname\":\"eth0\",\"created\":1763776000,\"labels\":{},\"tags\":[],"
			 "  \"dns\":{\"nameservers\":[\"10.96.0.10\",\"10.96.0.11\"],\"opts\":{\"ndots\":5}}},"
			 " [1,[2,3],{\"k\":\"v\"}],"
			 " {\"list\":[{\"x\":1,\"y\":\"2\"}]}]");
	json_t *longkey = json_object();
	char key[701], *text = NULL, *expect = NULL;
	size_t len;
	FILE *e;

	CAPTURE(text, netctl_yaml_dump(v, out));
	assert_string_equal(text,
		"- containerId: a\n"
		"  ifname: eth0\n"
		"  created: 1763776000\n"
		"  labels: {}\n"
		"  tags: []\n"
		"  dns:\n"
		"    nameservers:\n"
		"      - 10.96.0.10\n"
		"      - 10.96.0.11\n"
		"    opts:\n"
		"      ndots: 5\n"
		"- - 1\n"
		"  - - 2\n"
		"    - 3\n"
		"  - k: v\n"
		"- list:\n"
		"    - x: 1\n"
		"      \"y\": \"2\"\n");
	free(text);
	json_decref(v);

	/* YAML's implicit keys end at 1024 characters: a longer key takes the explicit form. */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	json_object_set_new(longkey, key, json_integer(1));
	json_object_set_new(longkey, "short", json_integer(2));
	CAPTURE(text, netctl_yaml_dump(longkey, out));
	e = open_memstream(&expect, &len);
	fprintf(e, "? \"%s\"\n: 1\nshort: 2\n", key);
	fclose(e);
	assert_string_equal(text, expect);
	free(text);
	free(expect);
	json_decref(longkey);
}

/* ---- workload filters and lookup -------------------------------------------------------------- */

static void test_workloads_filter(void **state)
{
	json_t *list = load("[{\"containerId\":\"a\",\"namespace\":\"default\",\"pod\":\"web-0\"},"
			    " {\"containerId\":\"b\",\"namespace\":\"kube-system\",\"pod\":\"dns\"},"
			    " {\"containerId\":\"c\",\"namespace\":\"default\",\"pod\":\"db-0\"},"
			    " {\"containerId\":\"d\"}]");
	json_t *old = load("[{\"containerId\":\"d\"}]");
	json_t *f;

	f = netctl_workloads_filter(list, "default", NULL);
	assert_int_equal(json_array_size(f), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "containerId")), "c");
	json_decref(f);
	f = netctl_workloads_filter(list, "default", "db-0");
	assert_int_equal(json_array_size(f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "containerId")), "c");
	json_decref(f);
	f = netctl_workloads_filter(list, NULL, "dns");
	assert_int_equal(json_array_size(f), 1);
	json_decref(f);
	f = netctl_workloads_filter(list, "kube-system", "web-0");
	assert_int_equal(json_array_size(f), 0);
	json_decref(f);
	f = netctl_workloads_filter(list, NULL, NULL);
	assert_int_equal(json_array_size(f), 4);
	json_decref(f);
	assert_null(netctl_workloads_filter(json_object_get(list, "x"), NULL, NULL));
	assert_true(netctl_workloads_have_pods(list));
	assert_false(netctl_workloads_have_pods(old));
	json_decref(list);
	json_decref(old);
}

static void test_workloads_find(void **state)
{
	json_t *list = load(
		"[{\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"net1\"},"
		" {\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"eth0\"},"
		" {\"containerId\":\"0129ffffffffffff0000000000000000000000000000000000000000000000ff\",\"ifname\":\"eth0\"},"
		" {\"containerId\":\"web\",\"ifname\":\"eth0\"},"
		" {\"containerId\":\"web-2\",\"ifname\":\"eth0\"},"
		" {\"containerId\":\"db\",\"ifname\":\"eth0\"}]");
	const json_t *w = NULL;
	char err[512];

	/* A unique prefix; the container's one interface needs no IFNAME. */
	assert_int_equal(netctl_workloads_find(list, "0129", NULL, &w, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(w, "ifname")), "eth0");
	assert_int_equal(netctl_workloads_find(list, "d", NULL, &w, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "db");
	/* A whole id wins over the longer id it begins. */
	assert_int_equal(netctl_workloads_find(list, "web", NULL, &w, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "web");
	assert_int_equal(netctl_workloads_find(list, "web-", NULL, &w, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "web-2");
	/* The 12 digits a table shows, with the interface. */
	assert_int_equal(netctl_workloads_find(list, "0123456789ab", "net1", &w, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(w, "ifname")), "net1");

	/* Ambiguous prefix: both ids named, once each (one of them has two interfaces). */
	assert_int_equal(netctl_workloads_find(list, "012", NULL, &w, err, sizeof(err)), -ENOTUNIQ);
	assert_string_equal(err, "container id '012' is ambiguous: it begins 2 container ids: "
				 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, "
				 "0129ffffffffffff0000000000000000000000000000000000000000000000ff; give more of the id");
	/* Several interfaces and none named. */
	assert_int_equal(netctl_workloads_find(list, "0123", NULL, &w, err, sizeof(err)), -ENOTUNIQ);
	assert_string_equal(err, "container 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef has 2 "
				 "interfaces: eth0, net1; name one: netctl workload get 0123 IFNAME");
	/* Not there. */
	assert_int_equal(netctl_workloads_find(list, "zzz", NULL, &w, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no workload with container id 'zzz' on this host");
	assert_int_equal(netctl_workloads_find(list, "db", "eth9", &w, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "container db has no interface 'eth9' (it has: eth0)");
	assert_int_equal(netctl_workloads_find(list, "", NULL, &w, err, sizeof(err)), -EINVAL);
	json_decref(list);
}

static void test_workloads_find_many_candidates(void **state)
{
	json_t *list = json_array();
	const json_t *w;
	char err[160];

	for (int i = 0; i < 20; i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%02d", i);
		json_array_append_new(list, json_pack("{s:s, s:s}", "containerId", id, "ifname", "eth0"));
	}
	/* Eight named, the rest counted; a short buffer cuts the message but never overruns. */
	assert_int_equal(netctl_workloads_find(list, "c", NULL, &w, err, sizeof(err)), -ENOTUNIQ);
	assert_string_equal(err, "container id 'c' is ambiguous: it begins 20 container ids: "
				 "c00, c01, c02, c03, c04, c05, c06, c07 and 12 more; give more of the id");
	assert_int_equal(netctl_workloads_find(list, "c", NULL, &w, err, 40), -ENOTUNIQ);
	assert_int_equal(strlen(err), 39);
	json_decref(list);
}

/* ---- whole runs against a fake shoald --------------------------------------------------------- */

struct fake {
	char dir[64];
	char path[128];
	int listen_fd;
	pthread_t thread;
	const char *const *answers;   /* one per connection, in order */
	size_t n_answers;
	size_t served;
	const char *answer;     /* NULL: accept nothing, so the client times out */
	char *request;          /* what the client sent last */
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;

	for (; f->served < f->n_answers; f->served++) {
		const char *answer = f->answers[f->served];
		int c = accept(f->listen_fd, NULL, NULL);

		if (c < 0)
			return NULL;
		free(f->request);
		f->request = NULL;
		fd_read_all(c, 1 << 20, &f->request, NULL);
		ipc_send_all(c, answer, strlen(answer), -1);
		close(c);
	}
	return NULL;
}

/* A fake shoald answering n connections with answers[0..n-1]. */
static void fake_start_n(struct fake *f, const char *const *answers, size_t n, bool listen_it)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/netctl-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/shoald.sock", f->dir);
	f->answers = answers;
	f->n_answers = n;
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (!listen_it) {
		/* A bound socket nobody listens on: connect() gets ECONNREFUSED, like a dead shoald's
		 * leftover socket file. */
		return;
	}
	assert_int_equal(listen(f->listen_fd, 4), 0);
	if (n > 0)
		assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_start(struct fake *f, const char *answer, bool listen_it)
{
	fake_start_n(f, NULL, 0, listen_it);
	if (!answer || !listen_it)
		return;
	f->answer = answer;
	f->answers = &f->answer;
	f->n_answers = 1;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	if (f->thread)
		pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f->request);
}

struct run_out {
	int code;
	char *out;
	char *err;
};

static void run(struct run_out *r, const char *socket, ...)
{
	char *argv[32] = { "netctl", "--socket", (char *)socket, "--timeout", "300ms" };
	int argc = 5;
	size_t lo, le;
	FILE *out = open_memstream(&r->out, &lo), *err = open_memstream(&r->err, &le);
	va_list ap;

	va_start(ap, socket);
	for (const char *s; (s = va_arg(ap, const char *));)
		argv[argc++] = (char *)s;
	va_end(ap);
	r->code = netctl_main(argc, argv, NULL, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run_out *r)
{
	free(r->out);
	free(r->err);
}

static void test_run_status(void **state)
{
	struct fake f;
	struct run_out r;

	fake_start(&f, "{\"ok\":true,\"node\":\"n1\",\"subnet\":\"10.244.3.0/24\",\"uptimeSeconds\":5}", true);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "Node:            n1\n"));
	assert_non_null(strstr(r.out, "Uptime:          5s\n"));
	assert_non_null(strstr(r.out, "Gateway:         -\n"));
	run_free(&r);
}

static void test_run_request_and_json(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *req, *got;

	fake_start(&f, "{\"ok\":true,\"workloads\":[{\"containerId\":\"z\"},{\"containerId\":\"a\"}]}", true);
	run(&r, f.path, "workload", "list", "-o", "json", NULL);
	assert_non_null(f.request);
	req = load(f.request);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "workloads");
	json_decref(req);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_true(json_is_array(got));
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "containerId")), "a");
	json_decref(got);
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"node\":\"n1\"}", true);
	run(&r, f.path, "-o", "json", "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\n  \"node\": \"n1\"\n}\n");   /* "ok" is transport, not status */
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"subnets\":[]}", true);
	run(&r, f.path, "subnet", "list", NULL);
	assert_string_equal(json_string_value(json_object_get(req = load(f.request), "op")), "subnets");
	json_decref(req);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "SUBNET   NODE   UNDERLAY IP   VTEP MAC   EXPIRES   LIVE   SELF\n");
	run_free(&r);
}

/* The cluster commands: their words, arguments and options. */
static void test_args_cluster_commands(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "subnet", "release", "10.244.3.0/24", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET_RELEASE);
	assert_string_equal(a.subnet, "10.244.3.0/24");
	assert_false(a.force);
	assert_int_equal(parse(&a, err, NULL, "--force", "subnets", "release", "10.244.3.0/24", NULL), 0);
	assert_true(a.force);
	assert_int_equal(parse(&a, err, NULL, "host", "list", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_HOST_LIST);
	assert_int_equal(parse(&a, err, NULL, "hosts", "ls", "-w", "--count", "2", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_HOST_LIST);
	assert_int_equal(parse(&a, err, NULL, "network", "show", "-o", "yaml", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_NETWORK_SHOW);
	assert_int_equal(parse(&a, err, NULL, "node", "leave", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_NODE_LEAVE);
	/* Help without the argument the command needs. */
	assert_int_equal(parse(&a, err, NULL, "subnet", "release", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_SUBNET_RELEASE);
	assert_int_equal(parse(&a, err, NULL, "help", "node", "leave", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_NODE_LEAVE);
	/* The helps say what a user must know before running them. */
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_SUBNET_RELEASE), "--force"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_SUBNET_RELEASE), "live"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_NODE_LEAVE), "restart shoald"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_NODE_LEAVE), "--cleanup"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_SUBNET_LIST), "EXPIRES"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_HOST_LIST), "PROGRAMMED"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_NETWORK_SHOW), "VNI"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP), "node leave"));
}

static void test_format_hosts(void **state)
{
	json_t *list = load(
		"[{\"node\":\"h3\",\"subnet\":\"10.244.10.0/24\",\"publicIP\":\"198.18.0.3\",\"vtepMAC\":\"02:00:00:00:00:03\",\"mode\":\"vxlan\",\"programmed\":false,\"error\":\"failed to add route 10.244.10.0/24: Network is unreachable\"},"
		" {\"node\":\"h2\",\"subnet\":\"10.244.2.0/24\",\"publicIP\":\"198.18.0.2\",\"vtepMAC\":\"02:00:00:00:00:02\",\"mode\":\"direct\",\"programmed\":true,\"error\":\"\"},"
		" {\"node\":\"lone\",\"subnet\":\"10.244.4.0/24\",\"publicIP\":\"\",\"vtepMAC\":\"\",\"mode\":\"\",\"programmed\":false,\"error\":\"node lone published no publicIP (it has no underlay)\"}]");
	json_t *empty = json_array();
	char *text = NULL;

	CAPTURE(text, netctl_format_hosts(list, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text,
		"NODE   SUBNET           UNDERLAY IP   VTEP MAC            MODE     PROGRAMMED   ERROR\n"
		"h2     10.244.2.0/24    198.18.0.2    02:00:00:00:00:02   direct   yes          -\n"
		"lone   10.244.4.0/24    -             -                   -        no           node lone published no publicIP (it has no underlay)\n"
		"h3     10.244.10.0/24   198.18.0.3    02:00:00:00:00:03   vxlan    no           failed to add route 10.244.10.0/24: Network is unreachable\n");
	free(text);
	CAPTURE(text, netctl_format_hosts(empty, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text, "NODE   SUBNET   UNDERLAY IP   VTEP MAC   MODE   PROGRAMMED   ERROR\n");
	free(text);
	json_decref(list);
	json_decref(empty);
}

static void test_format_network(void **state)
{
	json_t *resp = load("{\"ok\":true,\"storeURL\":\"file:/var/lib/shoal/store\","
			    "\"config\":{\"network\":\"10.244.0.0/16\",\"subnetLen\":24,\"vni\":1,\"port\":8472},"
			    "\"node\":{\"node\":\"h1\",\"subnet\":\"10.244.3.0/24\",\"underlay\":\"eth0\",\"underlayIP\":\"198.18.0.1\","
			    "\"mtu\":1450,\"vxlanDevice\":\"shoal.1\",\"directRouting\":false,\"left\":false,\"future\":7}}");
	json_t *bad = load("{\"ok\":true,\"config\":{}}");
	char *text = NULL;

	CAPTURE(text, netctl_format_network(resp, out));
	assert_string_equal(text,
		"Network:        10.244.0.0/16\n"
		"Subnet length:  24\n"
		"VNI:            1\n"
		"VXLAN port:     8472\n"
		"Store:          file:/var/lib/shoal/store\n"
		"Node:           h1\n"
		"Subnet:         10.244.3.0/24\n"
		"Underlay:       eth0\n"
		"Underlay IP:    198.18.0.1\n"
		"MTU:            1450\n"
		"VXLAN device:   shoal.1\n"
		"Direct routing: no\n"
		"Left:           no\n"
		"future:         7\n");
	free(text);
	assert_int_equal(netctl_format_network(bad, stdout), -EINVAL);
	json_decref(resp);
	json_decref(bad);
}

/* release and leave: what netctl asks, what it prints, how it exits. */
static void test_run_release_leave(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *req;

	fake_start(&f, "{\"ok\":true,\"subnet\":\"10.244.3.0/24\",\"node\":\"h3\",\"lease\":42,\"leaseRevoked\":true,"
		       "\"forced\":false,\"live\":false}", true);
	run(&r, f.path, "subnet", "release", "10.244.3.0/24", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "release");
	assert_string_equal(json_string_value(json_object_get(req, "subnet")), "10.244.3.0/24");
	assert_true(json_is_false(json_object_get(req, "force")));
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "released subnet 10.244.3.0/24 of node h3 (lease 42 revoked)\n");
	run_free(&r);

	/* A live lease: shoald refuses; netctl passes its reason on and exits 1. */
	fake_start(&f, "{\"ok\":false,\"code\":7,\"msg\":\"refused: the lease is live\",\"details\":\"... --force ...\"}", true);
	run(&r, f.path, "subnet", "release", "10.244.3.0/24", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: refused: the lease is live: ... --force ... (code 7)\n");
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"subnet\":\"10.244.3.0/24\",\"node\":\"h3\",\"lease\":42,\"leaseRevoked\":true,"
		       "\"forced\":true,\"live\":true}", true);
	run(&r, f.path, "subnet", "release", "10.244.3.0/24", "--force", "-o", "json", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_true(json_is_true(json_object_get(req, "force")));
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"forced\": true"));
	assert_null(strstr(r.out, "\"ok\""));
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"node\":\"h2\",\"subnet\":\"10.244.2.0/24\",\"lease\":9}", true);
	run(&r, f.path, "node", "leave", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "leave");
	assert_true(json_is_true(json_object_get(req, "confirm")));
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "node h2 left the cluster: subnet 10.244.2.0/24 given up (lease 9 revoked)"));
	run_free(&r);

	/* shoald unreachable: exit 3 as for every command. */
	run(&r, "/nonexistent/shoald.sock", "node", "leave", NULL);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "cannot reach shoald"));
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"hosts\":[{\"node\":\"h2\",\"subnet\":\"10.244.2.0/24\",\"mode\":\"vxlan\","
		       "\"programmed\":true,\"error\":\"\"}],\"overlay\":true}", true);
	run(&r, f.path, "host", "list", "--no-headers", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "hosts");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "h2   10.244.2.0/24   -   -   vxlan   yes   -\n");
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"storeURL\":\"file:/s\",\"config\":{\"network\":\"10.244.0.0/16\"},\"node\":{\"node\":\"h1\"}}", true);
	run(&r, f.path, "network", "show", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"config\": {"));
	run_free(&r);
	/* An older shoald: the op is unknown to it. */
	fake_start(&f, "{\"ok\":false,\"code\":6,\"msg\":\"invalid request\",\"details\":\"unknown op \\\"network\\\"\"}", true);
	run(&r, f.path, "network", "show", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "unknown op"));
	run_free(&r);
}

static void test_run_api_error(void **state)
{
	struct fake f;
	struct run_out r;

	fake_start(&f, "{\"ok\":false,\"code\":7,\"msg\":\"invalid network config\",\"details\":\"subnet full\"}", true);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: invalid network config: subnet full (code 7)\n");
	run_free(&r);

	fake_start(&f, "not json at all", true);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "not a JSON object"));
	run_free(&r);

	fake_start(&f, "{\"ok\":true}", true);   /* an answer without the list */
	run(&r, f.path, "workload", "list", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "no \"workloads\" list"));
	run_free(&r);
}

static void test_run_unreachable(void **state)
{
	struct fake f;
	struct run_out r;

	run(&r, "/nonexistent/shoald.sock", "status", NULL);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.err, "netctl: cannot reach shoald at /nonexistent/shoald.sock: No such file or directory "
				   "(is shoald running? use --socket or SHOAL_SOCKET for another socket)\n");
	run_free(&r);

	fake_start(&f, NULL, false);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "Connection refused"));
	assert_non_null(strstr(r.err, "is shoald running?"));
	run_free(&r);

	fake_start(&f, NULL, true);   /* listens, never answers */
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "did not answer within 300 ms"));
	run_free(&r);
}

static void test_run_version(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *req;

	fake_start(&f, "{\"ok\":true,\"node\":\"n1\",\"version\":\"0.1.9\"}", true);
	run(&r, f.path, "version", NULL);
	assert_string_equal(json_string_value(json_object_get(req = load(f.request), "op")), "status");
	json_decref(req);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "netctl: " NETCTL_VERSION "\nshoald: 0.1.9\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"version\":\"0.1.9\"}", true);
	run(&r, f.path, "version", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\n  \"netctl\": \"" NETCTL_VERSION "\",\n  \"shoald\": \"0.1.9\"\n}\n");
	run_free(&r);

	/* Unreachable: netctl's version still, shoald said to be unreachable, exit 3 as elsewhere. */
	run(&r, "/nonexistent/shoald.sock", "version", NULL);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out, "netctl: " NETCTL_VERSION "\nshoald: unreachable\n");
	assert_non_null(strstr(r.err, "netctl: cannot reach shoald at /nonexistent/shoald.sock"));
	run_free(&r);
	run(&r, "/nonexistent/shoald.sock", "version", "-o", "yaml", NULL);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out, "netctl: " NETCTL_VERSION "\nshoald: null\n");
	run_free(&r);

	/* An error answer: exit 1 with shoald's message. */
	fake_start(&f, "{\"ok\":false,\"code\":5,\"msg\":\"permission denied\"}", true);
	run(&r, f.path, "version", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "netctl: " NETCTL_VERSION "\nshoald: unknown\n");
	assert_string_equal(r.err, "netctl: shoald: permission denied (code 5)\n");
	run_free(&r);
}

#define WL_ANSWER \
	"{\"ok\":true,\"workloads\":[" \
	"{\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"eth0\"," \
	" \"address\":\"10.244.3.7/24\",\"hostVeth\":\"shv1\",\"netns\":\"/n/1\",\"network\":\"shoal-net\"," \
	" \"created\":1763776000,\"state\":\"active\",\"pod\":\"web-0\",\"namespace\":\"default\",\"podUID\":\"u-1\"}," \
	"{\"containerId\":\"0129ffffffffffff0000000000000000000000000000000000000000000000ff\",\"ifname\":\"eth0\"," \
	" \"address\":\"10.244.3.8/24\",\"hostVeth\":\"shv2\",\"netns\":\"/n/2\",\"network\":\"shoal-net\"," \
	" \"created\":1763776001,\"state\":\"active\",\"pod\":\"dns\",\"namespace\":\"kube-system\",\"podUID\":\"u-2\"}," \
	"{\"containerId\":\"plain\",\"ifname\":\"eth0\",\"address\":\"10.244.3.9/24\",\"hostVeth\":\"shv3\"," \
	" \"state\":\"active\",\"pod\":\"\",\"namespace\":\"\",\"podUID\":\"\"}]}"

static void test_run_workload_get(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *got;

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "get", "0123456789ab", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "Container ID: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"));
	assert_non_null(strstr(r.out, "Pod:          web-0\n"));
	assert_non_null(strstr(r.out, "Created:      2025-11-22T01:46:40Z ("));
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "get", "0129", "eth0", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_string_equal(json_string_value(json_object_get(got, "pod")), "dns");
	assert_string_equal(json_string_value(json_object_get(got, "podUID")), "u-2");
	json_decref(got);
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "get", "plain", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "containerId: plain\nifname: eth0\naddress: 10.244.3.9/24\nhostVeth: shv3\n"
				   "state: active\npod: \"\"\nnamespace: \"\"\npodUID: \"\"\n");
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "get", "01", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: container id '01' is ambiguous: it begins 2 container ids: "
				   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, "
				   "0129ffffffffffff0000000000000000000000000000000000000000000000ff; give more of the id\n");
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "get", "nothere", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: no workload with container id 'nothere' on this host\n");
	run_free(&r);

	run(&r, "/nonexistent/shoald.sock", "workload", "get", "x", NULL);
	assert_int_equal(r.code, 3);
	run_free(&r);
}

static void test_run_workload_list_pods(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *got;

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "list", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"CONTAINER ID   IFNAME   ADDRESS         NAMESPACE     POD     STATE\n"
		"0123456789ab   eth0     10.244.3.7/24   default       web-0   active\n"
		"0129ffffffff   eth0     10.244.3.8/24   kube-system   dns     active\n"
		"plain          eth0     10.244.3.9/24   -             -       active\n");
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "list", "-n", "kube-system", "--no-headers", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "0129ffffffff   eth0   10.244.3.8/24   kube-system   dns   active\n");
	run_free(&r);

	/* Filters apply to -o json too. */
	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "list", "--pod", "web-0", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_int_equal(json_array_size(got), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "namespace")), "default");
	json_decref(got);
	run_free(&r);

	/* An older shoald: "-" in the pod columns; a filter matches nothing and says why. */
	fake_start(&f, "{\"ok\":true,\"workloads\":[{\"containerId\":\"c\",\"ifname\":\"eth0\",\"state\":\"active\"}]}", true);
	run(&r, f.path, "workload", "list", "--no-headers", NULL);
	fake_stop(&f);
	assert_string_equal(r.out, "c   eth0   -   -   -   active\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":true,\"workloads\":[{\"containerId\":\"c\",\"ifname\":\"eth0\",\"state\":\"active\"}]}", true);
	run(&r, f.path, "workload", "list", "--namespace", "default", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "CONTAINER ID   IFNAME   ADDRESS   NAMESPACE   POD   STATE\n");
	assert_non_null(strstr(r.err, "shoald reports no pods"));
	run_free(&r);

	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "workload", "list", "-o", "wide", "--no-headers", "-n", "default", NULL);
	fake_stop(&f);
	assert_string_equal(r.out, "0123456789ab   eth0   10.244.3.7/24   default   web-0   active   shv1   /n/1   shoal-net   "
				   "2025-11-22T01:46:40Z   u-1\n");
	run_free(&r);
}

static void test_run_yaml_wide_status_subnets(void **state)
{
	struct fake f;
	struct run_out r;

	fake_start(&f, "{\"ok\":true,\"node\":\"n1\",\"version\":\"0.2.0\",\"mtu\":1450,\"antiSpoofing\":true}", true);
	run(&r, f.path, "status", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "node: n1\nversion: 0.2.0\nmtu: 1450\nantiSpoofing: true\n");
	run_free(&r);

	/* Status shows every field already: wide is the table. */
	fake_start(&f, "{\"ok\":true,\"node\":\"n1\"}", true);
	run(&r, f.path, "status", "-o", "wide", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Node:            n1\n"));
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"subnets\":[{\"subnet\":\"10.244.9.0/24\",\"node\":\"n2\",\"lease\":3,\"self\":false},"
		       "{\"subnet\":\"10.244.1.0/24\",\"node\":\"yes\",\"vtepMAC\":\"02:00:00:00:00:01\",\"lease\":4,\"self\":true}]}", true);
	run(&r, f.path, "subnet", "list", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"- subnet: 10.244.1.0/24\n"
		"  node: \"yes\"\n"
		"  vtepMAC: \"02:00:00:00:00:01\"\n"
		"  lease: 4\n"
		"  self: true\n"
		"- subnet: 10.244.9.0/24\n"
		"  node: n2\n"
		"  lease: 3\n"
		"  self: false\n");
	run_free(&r);
}

static void test_run_watch(void **state)
{
	static const char *const status3[] = {
		"{\"ok\":true,\"node\":\"n1\",\"workloads\":1}",
		"{\"ok\":true,\"node\":\"n1\",\"workloads\":2}",
		"{\"ok\":true,\"node\":\"n1\",\"workloads\":3}",
	};
	static const char *const lists2[] = {
		"{\"ok\":true,\"subnets\":[{\"subnet\":\"10.244.1.0/24\",\"node\":\"a\"}]}",
		"{\"ok\":true,\"subnets\":[]}",
	};
	static const char *const ok_then_error[] = {
		"{\"ok\":true,\"node\":\"n1\"}",
		"{\"ok\":false,\"code\":11,\"msg\":\"busy, try again\"}",
	};
	static const char *const error_then_ok[] = {
		"{\"ok\":false,\"code\":11,\"msg\":\"busy, try again\"}",
		"{\"ok\":true,\"node\":\"n1\"}",
	};
	struct fake f;
	struct run_out r;

	/* -o json: one compact document per sample, one per line, --count samples. */
	fake_start_n(&f, status3, 3, true);
	run(&r, f.path, "status", "-o", "json", "--watch", "--interval", "1ms", "--count", "3", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_int_equal(f.served, 3);
	assert_string_equal(r.out, "{\"node\":\"n1\",\"workloads\":1}\n"
				   "{\"node\":\"n1\",\"workloads\":2}\n"
				   "{\"node\":\"n1\",\"workloads\":3}\n");
	run_free(&r);

	/* Tables (not a terminal): samples separated by a blank line. */
	fake_start_n(&f, lists2, 2, true);
	run(&r, f.path, "subnet", "list", "-w", "--interval=1ms", "--count=2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "SUBNET          NODE   UNDERLAY IP   VTEP MAC   EXPIRES   LIVE   SELF\n"
				   "10.244.1.0/24   a      -             -          -         -      -\n"
				   "\n"
				   "SUBNET   NODE   UNDERLAY IP   VTEP MAC   EXPIRES   LIVE   SELF\n");
	run_free(&r);

	/* -o yaml: one document per sample, each after "---". */
	fake_start_n(&f, lists2, 2, true);
	run(&r, f.path, "subnet", "list", "-o", "yaml", "-w", "--interval", "1ms", "--count", "2", NULL);
	fake_stop(&f);
	assert_string_equal(r.out, "---\n- subnet: 10.244.1.0/24\n  node: a\n---\n[]\n");
	run_free(&r);

	/* A failed sample is reported and the watch goes on; the exit status is the last sample's. */
	fake_start_n(&f, ok_then_error, 2, true);
	run(&r, f.path, "status", "-o", "json", "-w", "--interval", "1ms", "--count", "2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "{\"node\":\"n1\"}\n");
	assert_string_equal(r.err, "netctl: shoald: busy, try again (code 11)\n");
	run_free(&r);
	fake_start_n(&f, error_then_ok, 2, true);
	run(&r, f.path, "status", "-o", "json", "-w", "--interval", "1ms", "--count", "2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\"node\":\"n1\"}\n");
	run_free(&r);

	/* Unreachable throughout: every sample says so, exit 3. */
	run(&r, "/nonexistent/shoald.sock", "workload", "list", "-w", "--interval", "1ms", "--count", "2", NULL);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "cannot reach shoald"));
	assert_non_null(strstr(strstr(r.err, "cannot reach shoald") + 1, "cannot reach shoald"));
	run_free(&r);
}

static void test_run_usage_help_version(void **state)
{
	struct run_out r;

	run(&r, "/x", "bogus", NULL);
	assert_int_equal(r.code, 2);
	assert_string_equal(r.err, "netctl: unknown command 'bogus'\nTry 'netctl --help' for more information.\n");
	run_free(&r);
	run(&r, "/x", "workload", "list", "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, netctl_help_text(NETCTL_TOPIC_WORKLOAD_LIST));
	run_free(&r);
	run(&r, "/x", "--version", NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "netctl " NETCTL_VERSION "\n");
	run_free(&r);
}

/* ---- bandwidth: quota get/set, status and workload list on a node that shapes ------------------ */

/* The quota set flags: every flag in both forms, units, clearing, and each usage error. */
static void test_args_quota(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "quota", "get", "web-0", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_GET);
	assert_string_equal(a.id, "web-0");
	assert_null(a.ifname);
	assert_false(netctl_quota_any(&a.quota));
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "web-0", "net1", "-o", "yaml", NULL), 0);
	assert_string_equal(a.ifname, "net1");

	assert_int_equal(parse(&a, err, NULL, "quota", "set", "0123", "eth0", "--ingress-guarantee", "120mbit",
			       "--ingress-limit=1.5gbit", "--egress-guarantee", "10mbps", "--egress-limit=1gibit",
			       "--priority", "0", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_SET);
	assert_string_equal(a.id, "0123");
	assert_string_equal(a.ifname, "eth0");
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_GUARANTEE].given);
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_GUARANTEE].bps == 120000000ULL);
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_LIMIT].bps == 1500000000ULL);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_GUARANTEE].bps == 80000000ULL);   /* mbps: bytes */
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].bps == 1073741824ULL);
	assert_true(a.quota.priority_given);
	assert_int_equal(a.quota.priority, 0);
	/* Options anywhere; 0 and default clear; the last one given wins. */
	assert_int_equal(parse(&a, err, NULL, "--egress-limit", "1gbit", "quota", "set", "c", "--egress-limit", "0",
			       "--ingress-limit", "default", "--priority=default", NULL), 0);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].given);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].bps == 0);
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_LIMIT].given);
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_LIMIT].bps == 0);
	assert_false(a.quota.rate[NETCTL_QUOTA_INGRESS_GUARANTEE].given);
	assert_int_equal(a.quota.priority, NETCTL_QUOTA_PRIORITY_DEFAULT);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--priority", "7", NULL), 0);
	assert_int_equal(a.quota.priority, 7);
	/* A default on one side is not compared: shoald knows the default, netctl does not. */
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--ingress-guarantee", "1gbit", "--ingress-limit",
			       "default", NULL), 0);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--egress-guarantee", "100mbit", "--egress-limit",
			       "100mbit", NULL), 0);

	/* Bad values name the flag and the value.  Above 2^63 - 1 bit/s is more than the API's JSON
	 * integers hold, though tc's parser takes it. */
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--ingress-limit", "fast", NULL), -EINVAL);
	assert_string_equal(err, "bad rate 'fast' for --ingress-limit (tc's units, e.g. 100mbit, 1.5gbit, 10mbps = 80mbit; "
				 "0 or default: back to the default)");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--egress-guarantee=-5mbit", NULL), -EINVAL);
	assert_non_null(strstr(err, "bad rate '-5mbit' for --egress-guarantee"));
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--egress-guarantee", "5 mbit", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--egress-limit", "100", NULL), -EINVAL);
	assert_string_equal(err, "rate '100' for --egress-limit has no unit: 100mbit? (100bit for bit/s)");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--egress-limit", "100bit", NULL), 0);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].bps == 100);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--ingress-guarantee", "10000000tbit", NULL), -EINVAL);
	assert_string_equal(err, "rate '10000000tbit' for --ingress-guarantee is too large (at most 9223372036854775807bit)");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--ingress-guarantee", NULL), -EINVAL);
	assert_string_equal(err, "option --ingress-guarantee needs a rate, e.g. 100mbit, or default");
	for (const char *const *bad = (const char *const[]){ "8", "-1", "1.5", "01", "high", "", NULL }; *bad; bad++) {
		assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--priority", *bad, NULL), -EINVAL);
		assert_non_null(strstr(err, "for --priority (0..7, 0 is the highest; default: back to the default)"));
	}
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--priority", NULL), -EINVAL);
	assert_string_equal(err, "option --priority needs a priority 0..7, or default");

	/* Missing and extra words, nothing to change, a conflict on the line. */
	assert_int_equal(parse(&a, err, NULL, "quota", NULL), -EINVAL);
	assert_string_equal(err, "quota: missing command (get, set, delete)");
	assert_int_equal(parse(&a, err, NULL, "quota", "list", NULL), -EINVAL);
	assert_string_equal(err, "quota: unknown command 'list'");
	assert_int_equal(parse(&a, err, NULL, "quota", "get", NULL), -EINVAL);
	assert_string_equal(err, "quota get: missing container id (netctl quota get ID [IFNAME], or --cgroup PATH)");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "quota set: missing container id (netctl quota set ID [IFNAME] --ingress-guarantee RATE ..., or --cgroup PATH)");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "quota set: empty container id");
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "a", "eth0", "x", NULL), -EINVAL);
	assert_string_equal(err, "quota get: unexpected argument 'x'");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", "eth0", "100mbit", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "quota set: unexpected argument '100mbit'");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", NULL), -EINVAL);
	assert_string_equal(err, "quota set: nothing to change: give at least one of --ingress-guarantee, "
				 "--ingress-limit, --egress-guarantee, --egress-limit, --priority");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", "--ingress-guarantee", "300mbit", "--ingress-limit",
			       "200mbit", NULL), -EINVAL);
	assert_string_equal(err, "quota set: --ingress-guarantee 300mbit is above --ingress-limit 200mbit");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", "--egress-limit", "1mbit", "--egress-guarantee",
			       "1001kbit", NULL), -EINVAL);
	assert_string_equal(err, "quota set: --egress-guarantee 1001kbit is above --egress-limit 1mbit");
	/* The flags belong to quota set alone; --watch is not for quota. */
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "a", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "options --ingress-guarantee, --ingress-limit, --egress-guarantee, --egress-limit and "
				 "--priority work with quota set and policy set only");
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--egress-limit", "1gbit", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "a", "-w", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", "--priority", "1", "--force", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "a", "--priority-x", "1", NULL), -EINVAL);
	assert_string_equal(err, "unknown option '--priority-x'");

	/* Help at every level, without the ID. */
	assert_int_equal(parse(&a, err, NULL, "quota", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA);
	assert_int_equal(parse(&a, err, NULL, "help", "quota", "set", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_SET);
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "-h", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_GET);
	for (int q = 0; q < NETCTL_QUOTA_N_RATES; q++)
		assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_QUOTA_SET), netctl_quota_option(q)));
	assert_null(netctl_quota_option(NETCTL_QUOTA_N_RATES));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_QUOTA_SET), "--priority N"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_QUOTA_SET), "10mbps is 80mbit"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_QUOTA_GET), "bandwidthAsked"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP), "quota set"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_STATUS), "committed"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_WORKLOAD_LIST), "IN GUARANTEE"));
}

static struct netctl_quota_change change(void)
{
	return (struct netctl_quota_change){ .priority = 0 };
}

static void set_rate(struct netctl_quota_change *c, enum netctl_quota_rate r, uint64_t bps)
{
	c->rate[r].given = true;
	c->rate[r].bps = bps;
}

static void assert_json_equal(const json_t *got, const char *want)
{
	json_t *w = load(want);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	if (!json_equal((json_t *)got, w))
		fail_msg("got %s, want %s", g, want);
	free(g);
	json_decref(w);
}

/* The flags over what the workload asked for: given values replace, 0/default remove, the rest
 * (burst, keys netctl does not know) stays; conflicts say where each number came from. */
static void test_quota_merge(void **state)
{
	json_t *asked = load("{\"ingress\":{\"guarantee\":120000000,\"burst\":4294967295},"
			     "\"egress\":{\"limit\":500000000},\"priority\":2,\"future\":{\"x\":1}}");
	json_t *empty = load("{}");
	json_t *got = NULL;
	struct netctl_quota_change c = change();
	char err[256];

	/* Nothing given: the same object (a copy). */
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), 0);
	assert_true(json_equal(got, asked));
	assert_ptr_not_equal(got, asked);
	json_decref(got);

	/* Set over asked: the new limit joins the asked guarantee and the burst. */
	set_rate(&c, NETCTL_QUOTA_INGRESS_LIMIT, 200000000);
	set_rate(&c, NETCTL_QUOTA_EGRESS_GUARANTEE, 100000000);
	c.priority_given = true;
	c.priority = 0;
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), 0);
	assert_json_equal(got, "{\"ingress\":{\"guarantee\":120000000,\"burst\":4294967295,\"limit\":200000000},"
			       "\"egress\":{\"limit\":500000000,\"guarantee\":100000000},\"priority\":0,\"future\":{\"x\":1}}");
	json_decref(got);
	/* asked itself is untouched. */
	assert_null(json_object_get(json_object_get(asked, "ingress"), "limit"));

	/* 0 and default clear; a direction left empty goes; a cleared value never asked is no error. */
	c = change();
	set_rate(&c, NETCTL_QUOTA_EGRESS_LIMIT, 0);
	set_rate(&c, NETCTL_QUOTA_INGRESS_GUARANTEE, 0);
	set_rate(&c, NETCTL_QUOTA_INGRESS_LIMIT, 0);
	c.priority_given = true;
	c.priority = NETCTL_QUOTA_PRIORITY_DEFAULT;
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), 0);
	assert_json_equal(got, "{\"ingress\":{\"burst\":4294967295},\"future\":{\"x\":1}}");
	json_decref(got);
	/* Everything back to the defaults from nothing asked: {} (the API's "the defaults"). */
	assert_int_equal(netctl_quota_merge(empty, &c, &got, err, sizeof(err)), 0);
	assert_json_equal(got, "{}");
	json_decref(got);
	/* From nothing asked: the direction object is made. */
	c = change();
	set_rate(&c, NETCTL_QUOTA_EGRESS_LIMIT, 1000000000);
	assert_int_equal(netctl_quota_merge(empty, &c, &got, err, sizeof(err)), 0);
	assert_json_equal(got, "{\"egress\":{\"limit\":1000000000}}");
	json_decref(got);

	/* Guarantee above the limit after the merge: which number came from where. */
	c = change();
	set_rate(&c, NETCTL_QUOTA_EGRESS_GUARANTEE, 600000000);
	got = NULL;
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), -EINVAL);
	assert_null(got);
	assert_string_equal(err, "--egress-guarantee 600mbit is above the egress limit 500mbit the workload asked for: "
				 "raise or clear that too (--egress-limit)");
	c = change();
	set_rate(&c, NETCTL_QUOTA_INGRESS_LIMIT, 100000000);
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--ingress-limit 100mbit is below the ingress guarantee 120mbit the workload asked for: "
				 "lower or clear that too (--ingress-guarantee)");
	/* ... and fixed by clearing or raising the other one in the same command. */
	set_rate(&c, NETCTL_QUOTA_INGRESS_GUARANTEE, 0);
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), 0);
	assert_json_equal(json_object_get(got, "ingress"), "{\"limit\":100000000,\"burst\":4294967295}");
	json_decref(got);
	c = change();
	set_rate(&c, NETCTL_QUOTA_INGRESS_GUARANTEE, 300000000);
	set_rate(&c, NETCTL_QUOTA_INGRESS_LIMIT, 200000000);
	assert_int_equal(netctl_quota_merge(asked, &c, &got, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--ingress-guarantee 300mbit is above --ingress-limit 200mbit");
	assert_int_equal(netctl_quota_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--ingress-guarantee 300mbit is above --ingress-limit 200mbit");
	/* An inconsistent asked set (an unchanged direction) is not sent either. */
	json_decref(empty);
	empty = load("{\"egress\":{\"guarantee\":3000,\"limit\":2000}}");
	c = change();
	c.priority_given = true;
	c.priority = 3;
	assert_int_equal(netctl_quota_merge(empty, &c, &got, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the egress guarantee 3kbit the workload asked for is above its limit 2kbit: change "
				 "either (--egress-guarantee, --egress-limit)");
	/* Not an object: shoald without bandwidth, or a broken answer. */
	assert_int_equal(netctl_quota_merge(NULL, &c, &got, err, sizeof(err)), -EINVAL);
	assert_int_equal(netctl_quota_merge(json_object_get(asked, "priority"), &c, &got, err, sizeof(err)), -EINVAL);
	json_decref(empty);
	json_decref(asked);
}

static void test_quota_request_and_units(void **state)
{
	json_t *w = load("{\"containerId\":\"0123456789abcdef\",\"ifname\":\"net1\",\"address\":\"10.244.3.7/24\"}");
	json_t *bw = load("{\"egress\":{\"guarantee\":100000000}}"), *req, *doc;
	uint64_t v;
	int p;

	req = netctl_quota_request(w, bw);
	assert_json_equal(req, "{\"op\":\"quota\",\"containerId\":\"0123456789abcdef\",\"ifname\":\"net1\","
			       "\"bandwidth\":{\"egress\":{\"guarantee\":100000000}}}");
	json_decref(req);
	assert_null(netctl_quota_request(bw, bw));   /* no id, no interface: nothing to name */
	doc = netctl_quota_doc(w, NULL, bw);
	assert_json_equal(doc, "{\"containerId\":\"0123456789abcdef\",\"ifname\":\"net1\",\"bandwidth\":null,"
			       "\"bandwidthAsked\":{\"egress\":{\"guarantee\":100000000}}}");
	json_decref(doc);

	assert_int_equal(netctl_quota_parse_rate("default", &v), 0);
	assert_true(v == 0);
	assert_int_equal(netctl_quota_parse_rate("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(netctl_quota_parse_rate("0mbit", &v), 0);
	assert_true(v == 0);
	assert_int_equal(netctl_quota_parse_rate("1.5GBit", &v), 0);
	assert_true(v == 1500000000ULL);
	assert_int_equal(netctl_quota_parse_rate("10mbps", &v), 0);
	assert_true(v == 80000000ULL);
	assert_int_equal(netctl_quota_parse_rate("9223372036854775807bit", &v), 0);
	assert_true(v == 9223372036854775807ULL);
	assert_int_equal(netctl_quota_parse_rate("9223372036854775808bit", &v), -ERANGE);
	assert_int_equal(netctl_quota_parse_rate("100", &v), -EDOM);
	assert_int_equal(netctl_quota_parse_rate("2.5", &v), -EDOM);
	assert_int_equal(netctl_quota_parse_rate("Default", &v), -EINVAL);
	assert_int_equal(netctl_quota_parse_rate("", &v), -EINVAL);
	assert_int_equal(netctl_quota_parse_rate("1e9bit", &v), -EINVAL);
	assert_int_equal(netctl_quota_parse_priority("default", &p), 0);
	assert_int_equal(p, NETCTL_QUOTA_PRIORITY_DEFAULT);
	assert_int_equal(netctl_quota_parse_priority("7", &p), 0);
	assert_int_equal(p, 7);
	assert_int_equal(netctl_quota_parse_priority("8", &p), -EINVAL);
	assert_int_equal(netctl_quota_parse_priority("07", &p), -EINVAL);
	json_decref(w);
	json_decref(bw);
}

#define BW_STATUS \
	"\"bandwidth\":{\"ingress\":{\"device\":\"shoal-in\",\"capacity\":\"200mbit\",\"committed\":\"121mbit\"," \
	"\"free\":\"79mbit\",\"capacityBitRate\":200000000,\"committedBitRate\":121000000,\"freeBitRate\":79000000}," \
	"\"egress\":{\"device\":\"shoal-out\",\"capacity\":\"1gbit\",\"committed\":\"2mbit\",\"free\":\"998mbit\"," \
	"\"capacityBitRate\":1000000000,\"committedBitRate\":2000000,\"freeBitRate\":998000000}}"

static void test_format_status_bandwidth(void **state)
{
	json_t *st = load("{\"ok\":true,\"node\":\"n1\",\"version\":\"0.1.0\",\"store\":\"file:/var/lib/shoal/store\","
			  "\"network\":\"10.244.0.0/16\",\"subnet\":\"10.244.3.0/24\",\"gateway\":\"10.244.3.1\","
			  "\"bridge\":\"shoal0\",\"mtu\":1450,\"workloads\":3,\"addressesFree\":250,"
			  "\"bridgePortsFree\":1020,\"capacityFree\":250,\"antiSpoofing\":true,"
			  "\"pendingDeletes\":0,\"uptimeSeconds\":3725," BW_STATUS ",\"left\":false}");
	json_t *odd = load("{\"node\":\"n1\",\"bandwidth\":{\"egress\":{\"capacityBitRate\":1000000000,\"committedBitRate\":1500000,"
			   "\"dropped\":3},\"mode\":\"htb\"}}");
	char *text = NULL;

	/* One line per direction after the fields every status has; the rest as before. */
	CAPTURE(text, netctl_format_status(st, out));
	assert_string_equal(text,
		"Node:            n1\n"
		"Version:         0.1.0\n"
		"Store:           file:/var/lib/shoal/store\n"
		"Network:         10.244.0.0/16\n"
		"Subnet:          10.244.3.0/24\n"
		"Gateway:         10.244.3.1\n"
		"Bridge:          shoal0\n"
		"MTU:             1450\n"
		"Workloads:       3\n"
		"Free addresses:  250\n"
		"Free ports:      1020\n"
		"Capacity:        250\n"
		"Anti-spoofing:   yes\n"
		"Pending deletes: 0\n"
		"Uptime:          1h2m\n"
		"Ingress:         200mbit capacity, 121mbit committed, 79mbit free (shoal-in)\n"
		"Egress:          1gbit capacity, 2mbit committed, 998mbit free (shoal-out)\n"
		"left:            no\n");
	free(text);
	/* Only the bit/s, one direction, keys netctl does not know: shown under their path. */
	CAPTURE(text, netctl_format_status(odd, out));
	assert_non_null(strstr(text, "\nUptime:                   -\n"
				     "Egress:                   1gbit capacity, 1500kbit committed, ? free\n"
				     "bandwidth.egress.dropped: 3\n"
				     "bandwidth.mode:           htb\n"));
	assert_null(strstr(text, "Ingress"));
	free(text);
	json_decref(st);
	json_decref(odd);
}

#define WL_BW_ANSWER \
	"{\"ok\":true,\"workloads\":[" \
	"{\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"eth0\"," \
	" \"address\":\"10.244.3.7/24\",\"hostVeth\":\"shv1\",\"netns\":\"/n/1\",\"network\":\"shoal-net\"," \
	" \"created\":1763776000,\"state\":\"active\",\"pod\":\"web-0\",\"namespace\":\"default\",\"podUID\":\"u-1\"," \
	" \"bandwidth\":{\"ingress\":{\"guarantee\":\"120mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":120000000,\"limitBitRate\":200000000}," \
	"  \"egress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"priority\":4}," \
	" \"bandwidthAsked\":{\"ingress\":{\"guarantee\":120000000,\"burst\":4294967295}}}," \
	"{\"containerId\":\"db\",\"ifname\":\"eth0\",\"address\":\"10.244.3.10/24\",\"hostVeth\":\"shv2\",\"state\":\"active\"," \
	" \"pod\":\"\",\"namespace\":\"\",\"podUID\":\"\",\"bandwidth\":null,\"bandwidthAsked\":{\"egress\":{\"guarantee\":150000000}}}," \
	"{\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"address\":\"10.244.3.11/24\",\"hostVeth\":\"shv3\",\"state\":\"active\"," \
	" \"pod\":\"web-2\",\"namespace\":\"default\",\"podUID\":\"u-3\"," \
	" \"bandwidth\":{\"ingress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000}," \
	"  \"egress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"priority\":4}," \
	" \"bandwidthAsked\":{\"egress\":{\"guarantee\":150000000,\"limit\":1000000000},\"priority\":1}}," \
	"{\"containerId\":\"web-2\",\"ifname\":\"net1\",\"address\":\"10.244.3.12/24\",\"hostVeth\":\"shv4\",\"state\":\"active\"," \
	" \"pod\":\"web-2\",\"namespace\":\"default\",\"podUID\":\"u-3\"," \
	" \"bandwidth\":{\"ingress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000}," \
	"  \"egress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"priority\":4}," \
	" \"bandwidthAsked\":{}}]}"

/* workload list on a node that shapes: the table as before, -o wide with the shares appended. */
static void test_format_workloads_bandwidth(void **state)
{
	json_t *resp = load(WL_BW_ANSWER), *list = json_object_get(resp, "workloads");
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text,
		"CONTAINER ID   IFNAME   ADDRESS          NAMESPACE   POD     STATE\n"
		"0123456789ab   eth0     10.244.3.7/24    default     web-0   active\n"
		"db             eth0     10.244.3.10/24   -           -       active\n"
		"web-2          eth0     10.244.3.11/24   default     web-2   active\n"
		"web-2          net1     10.244.3.12/24   default     web-2   active\n");
	free(text);
	CAPTURE(text, netctl_format_workloads(list, NETCTL_FORMAT_HEADERS | NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text,
		"CONTAINER ID   IFNAME   ADDRESS          NAMESPACE   POD     STATE    HOST VETH   NETNS   NETWORK     CREATED                POD UID   IN GUARANTEE   IN LIMIT   OUT GUARANTEE   OUT LIMIT   PRIORITY\n"
		"0123456789ab   eth0     10.244.3.7/24    default     web-0   active   shv1        /n/1    shoal-net   2025-11-22T01:46:40Z   u-1       120mbit        200mbit    1mbit           200mbit     4\n"
		"db             eth0     10.244.3.10/24   -           -       active   shv2        -       -           -                      -         -              -          -               -           -\n"
		"web-2          eth0     10.244.3.11/24   default     web-2   active   shv3        -       -           -                      u-3       1mbit          200mbit    1mbit           200mbit     4\n"
		"web-2          net1     10.244.3.12/24   default     web-2   active   shv4        -       -           -                      u-3       1mbit          200mbit    1mbit           200mbit     4\n");
	free(text);
	json_decref(resp);
}

/* The quota view: each value marked where it is a default or not what was asked. */
static void test_format_quota(void **state)
{
	json_t *resp = load(WL_BW_ANSWER), *list = json_object_get(resp, "workloads"), *doc, *w;
	json_t *future = load("{\"containerId\":\"f\",\"ifname\":\"eth0\",\"bandwidth\":{\"ingress\":{\"guaranteeBitRate\":"
			      "2000000,\"limit\":\"1gbit\",\"ceilBurst\":\"64kbit\"},\"egress\":{\"guarantee\":\"5mbit\","
			      "\"limit\":\"1gbit\"},\"priority\":4,\"class\":\"1:7\"},"
			      "\"bandwidthAsked\":{\"ingress\":{\"guarantee\":2000000},\"priority\":\"high\"}}");
	char *text = NULL;

	w = json_array_get(list, 0);
	doc = netctl_quota_doc(w, json_object_get(w, "bandwidth"), json_object_get(w, "bandwidthAsked"));
	CAPTURE(text, netctl_format_quota(doc, out));
	assert_string_equal(text,
		"Container ID:      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"Interface:         eth0\n"
		"Ingress guarantee: 120mbit\n"
		"Ingress limit:     200mbit (default)\n"
		"Ingress burst:     at most 4294967295bit\n"
		"Egress guarantee:  1mbit (default)\n"
		"Egress limit:      200mbit (default)\n"
		"Priority:          4 (default)\n");
	free(text);
	json_decref(doc);

	/* Not admitted: no share at all; what it asked for still shows. */
	w = json_array_get(list, 1);
	doc = netctl_quota_doc(w, json_object_get(w, "bandwidth"), json_object_get(w, "bandwidthAsked"));
	CAPTURE(text, netctl_format_quota(doc, out));
	assert_string_equal(text,
		"Container ID:      db\n"
		"Interface:         eth0\n"
		"Ingress guarantee: -\n"
		"Ingress limit:     -\n"
		"Egress guarantee:  - (asked 150mbit)\n"
		"Egress limit:      -\n"
		"Priority:          -\n");
	free(text);
	json_decref(doc);

	/* Kept running with the defaults (its guarantee no longer fits): asked and effective differ. */
	w = json_array_get(list, 2);
	doc = netctl_quota_doc(w, json_object_get(w, "bandwidth"), json_object_get(w, "bandwidthAsked"));
	CAPTURE(text, netctl_format_quota(doc, out));
	assert_string_equal(text,
		"Container ID:      web-2\n"
		"Interface:         eth0\n"
		"Ingress guarantee: 1mbit (default)\n"
		"Ingress limit:     200mbit (default)\n"
		"Egress guarantee:  1mbit (asked 150mbit)\n"
		"Egress limit:      200mbit (asked 1gbit)\n"
		"Priority:          4 (asked 1)\n");
	free(text);
	json_decref(doc);

	/* A newer shoald: text missing (the bit/s shown instead), keys netctl does not know under their
	 * path, an asked value of a type it does not know as it is. */
	CAPTURE(text, netctl_format_quota(future, out));
	assert_string_equal(text,
		"Container ID:                f\n"
		"Interface:                   eth0\n"
		"Ingress guarantee:           2mbit\n"
		"Ingress limit:               1gbit (default)\n"
		"Egress guarantee:            5mbit (default)\n"
		"Egress limit:                1gbit (default)\n"
		"Priority:                    4 (asked high)\n"
		"bandwidth.ingress.ceilBurst: 64kbit\n"
		"bandwidth.class:             1:7\n");
	free(text);
	assert_int_equal(netctl_format_quota(list, stdout), -EINVAL);
	json_decref(future);
	json_decref(resp);
}

#define QUOTA_OK \
	"{\"ok\":true,\"bandwidth\":{\"ingress\":{\"guarantee\":\"120mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":120000000," \
	"\"limitBitRate\":200000000},\"egress\":{\"guarantee\":\"100mbit\",\"limit\":\"500mbit\",\"guaranteeBitRate\":100000000," \
	"\"limitBitRate\":500000000},\"priority\":2}}"

static void test_run_quota_get(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *req, *got;

	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "get", "0123", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_string_equal(json_string_value(json_object_get(req, "op")), "workloads");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
		"Container ID:      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"Interface:         eth0\n"
		"Ingress guarantee: 120mbit\n"
		"Ingress limit:     200mbit (default)\n"
		"Ingress burst:     at most 4294967295bit\n"
		"Egress guarantee:  1mbit (default)\n"
		"Egress limit:      200mbit (default)\n"
		"Priority:          4 (default)\n");
	run_free(&r);

	/* -o json: the workload's two bandwidth objects, as the API gives them. */
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "get", "web-2", "eth0", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_json_equal(got, "{\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"bandwidth\":{\"ingress\":{\"guarantee\":"
			       "\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"egress\":"
			       "{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},"
			       "\"priority\":4},\"bandwidthAsked\":{\"egress\":{\"guarantee\":150000000,\"limit\":1000000000},"
			       "\"priority\":1}}");
	json_decref(got);
	run_free(&r);
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "get", "db", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "containerId: db\nifname: eth0\nbandwidth: null\nbandwidthAsked:\n  egress:\n"
				   "    guarantee: 150000000\n");
	run_free(&r);

	/* workload get on a node that shapes: the quota lines, not two JSON objects. */
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "workload", "get", "web-2", "eth0", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"Container ID:      web-2\n"
		"Interface:         eth0\n"
		"Address:           10.244.3.11/24\n"
		"Namespace:         default\n"
		"Pod:               web-2\n"
		"Pod UID:           u-3\n"
		"Host veth:         shv3\n"
		"Netns:             -\n"
		"Network:           -\n"
		"Created:           -\n"
		"State:             active\n"
		"Ingress guarantee: 1mbit (default)\n"
		"Ingress limit:     200mbit (default)\n"
		"Egress guarantee:  1mbit (asked 150mbit)\n"
		"Egress limit:      200mbit (asked 1gbit)\n"
		"Priority:          4 (asked 1)\n");
	run_free(&r);

	/* Two interfaces, none named: the hint names this command. */
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "get", "web-2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: container web-2 has 2 interfaces: eth0, net1; name one: netctl quota get "
				   "web-2 IFNAME\n");
	run_free(&r);
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "get", "nothere", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: no workload with container id 'nothere' on this host\n");
	run_free(&r);

	/* A node without bandwidth (or an older shoald): exit 1 and why. */
	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "quota", "get", "plain", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: quota get: shoald shapes no bandwidth on this host: \"bandwidth\" is not "
				   "configured (shoald.json(5)), or shoald is older than netctl\n");
	run_free(&r);

	run(&r, "/nonexistent/shoald.sock", "quota", "get", "x", NULL);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "cannot reach shoald"));
	run_free(&r);
}

static void test_run_quota_set(void **state)
{
	static const char *const ok[] = { WL_BW_ANSWER, QUOTA_OK };
	static const char *const refused[] = {
		WL_BW_ANSWER,
		"{\"ok\":false,\"code\":107,\"msg\":\"bandwidth refused by admission control\",\"details\":\"egress "
		"guarantee 300mbit for web-0 does not fit: 120mbit of the host's 200mbit already guaranteed, 80mbit free\"}",
	};
	static const char *const gone[] = {
		WL_BW_ANSWER,
		"{\"ok\":false,\"code\":3,\"msg\":\"no such workload\",\"details\":\"container 0123 has no interface eth0 on this node\"}",
	};
	static const char *const off[] = {
		WL_BW_ANSWER,
		"{\"ok\":false,\"code\":7,\"msg\":\"bandwidth is not configured\",\"details\":\"bandwidth is not configured on node n1\"}",
	};
	static const char *const no_answer[] = { WL_BW_ANSWER, "{\"ok\":true}" };
	struct fake f;
	struct run_out r;
	json_t *req, *got;

	/* The request: the whole id and interface, the flags over what was asked (the burst kept). */
	fake_start_n(&f, ok, 2, true);
	run(&r, f.path, "quota", "set", "0123", "--egress-guarantee", "100mbit", "--egress-limit", "500mbit",
	    "--priority", "2", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_int_equal(f.served, 2);
	assert_json_equal(req, "{\"op\":\"quota\",\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef"
			       "0123456789abcdef\",\"ifname\":\"eth0\",\"bandwidth\":{\"ingress\":{\"guarantee\":120000000,"
			       "\"burst\":4294967295},\"egress\":{\"guarantee\":100000000,\"limit\":500000000},\"priority\":2}}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
		"Container ID:      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"Interface:         eth0\n"
		"Ingress guarantee: 120mbit\n"
		"Ingress limit:     200mbit (default)\n"
		"Ingress burst:     at most 4294967295bit\n"
		"Egress guarantee:  100mbit\n"
		"Egress limit:      500mbit\n"
		"Priority:          2\n");
	run_free(&r);

	/* Clearing everything sends {} (the defaults); -o json prints the answer's share and what was sent. */
	fake_start_n(&f, ok, 2, true);
	run(&r, f.path, "quota", "set", "web-2", "eth0", "--egress-guarantee", "0", "--egress-limit", "default",
	    "--priority", "default", "-o", "json", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"quota\",\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"bandwidth\":{}}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_json_equal(json_object_get(got, "bandwidthAsked"), "{}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(got, "bandwidth"), "egress"),
							      "limit")), "500mbit");
	assert_string_equal(json_string_value(json_object_get(got, "containerId")), "web-2");
	json_decref(got);
	run_free(&r);

	/* Admission control refuses: shoald's numbers on stderr, exit 1, nothing on stdout. */
	fake_start_n(&f, refused, 2, true);
	run(&r, f.path, "quota", "set", "0123", "--egress-guarantee", "300mbit", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: bandwidth refused by admission control: egress guarantee 300mbit "
				   "for web-0 does not fit: 120mbit of the host's 200mbit already guaranteed, 80mbit "
				   "free (code 107)\n");
	run_free(&r);
	/* Gone between the two requests; bandwidth switched off meanwhile: shoald's words, exit 1. */
	fake_start_n(&f, gone, 2, true);
	run(&r, f.path, "quota", "set", "0123", "--priority", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: shoald: no such workload: container 0123 has no interface eth0 on this node "
				   "(code 3)\n");
	run_free(&r);
	fake_start_n(&f, off, 2, true);
	run(&r, f.path, "quota", "set", "0123", "--priority", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "bandwidth is not configured on node n1 (code 7)"));
	run_free(&r);
	fake_start_n(&f, no_answer, 2, true);
	run(&r, f.path, "quota", "set", "0123", "--priority", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "has no \"bandwidth\""));
	run_free(&r);

	/* Refused by netctl before any quota request (only the workloads answer is served: a second
	 * request would time out and exit 3). */
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "set", "web-2", "eth0", "--egress-limit", "100mbit", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: quota set: --egress-limit 100mbit is below the egress guarantee 150mbit the "
				   "workload asked for: lower or clear that too (--egress-guarantee)\n");
	run_free(&r);
	fake_start(&f, WL_ANSWER, true);
	run(&r, f.path, "quota", "set", "plain", "--priority", "3", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "netctl: quota set: shoald shapes no bandwidth on this host"));
	run_free(&r);
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "quota", "set", "web", "--priority", "3", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: container web-2 has 2 interfaces: eth0, net1; name one: netctl quota set web "
				   "IFNAME\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":false,\"code\":5,\"msg\":\"permission denied\"}", true);
	run(&r, f.path, "quota", "set", "web", "--priority", "3", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: shoald: permission denied (code 5)\n");
	run_free(&r);

	/* Usage errors ask nobody: exit 2. */
	run(&r, "/nonexistent/shoald.sock", "quota", "set", "web", "--egress-limit", "lots", NULL);
	assert_int_equal(r.code, 2);
	assert_string_equal(r.err, "netctl: bad rate 'lots' for --egress-limit (tc's units, e.g. 100mbit, 1.5gbit, "
				   "10mbps = 80mbit; 0 or default: back to the default)\n"
				   "Try 'netctl --help' for more information.\n");
	run_free(&r);
	run(&r, "/nonexistent/shoald.sock", "quota", "set", "web", NULL);
	assert_int_equal(r.code, 2);
	run_free(&r);
	run(&r, "/nonexistent/shoald.sock", "quota", "set", "web", "--priority", "1", NULL);
	assert_int_equal(r.code, 3);
	run_free(&r);
}

/* status and workload list against a node that shapes, whole runs. */
static void test_run_status_workloads_bandwidth(void **state)
{
	struct fake f;
	struct run_out r;
	json_t *got;

	fake_start(&f, "{\"ok\":true,\"node\":\"n1\",\"uptimeSeconds\":5," BW_STATUS "}", true);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Uptime:          5s\n"
				      "Ingress:         200mbit capacity, 121mbit committed, 79mbit free (shoal-in)\n"
				      "Egress:          1gbit capacity, 2mbit committed, 998mbit free (shoal-out)\n"));
	run_free(&r);
	/* json passes the object through. */
	fake_start(&f, "{\"ok\":true,\"node\":\"n1\"," BW_STATUS "}", true);
	run(&r, f.path, "status", "-o", "json", NULL);
	fake_stop(&f);
	got = load(r.out);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(got, "bandwidth"), "egress"),
							    "freeBitRate")), 998000000);
	assert_null(json_object_get(got, "ok"));
	json_decref(got);
	run_free(&r);
	/* Without bandwidth: not a word about it. */
	fake_start(&f, "{\"ok\":true,\"node\":\"n1\"}", true);
	run(&r, f.path, "status", NULL);
	fake_stop(&f);
	assert_null(strstr(r.out, "gress"));
	assert_null(strstr(r.out, "andwidth"));
	run_free(&r);

	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "workload", "list", "-o", "wide", "--no-headers", "--pod", "web-0", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "0123456789ab   eth0   10.244.3.7/24   default   web-0   active   shv1   /n/1   shoal-net   "
				   "2025-11-22T01:46:40Z   u-1   120mbit   200mbit   1mbit   200mbit   4\n");
	run_free(&r);
	fake_start(&f, WL_BW_ANSWER, true);
	run(&r, f.path, "workload", "list", "--no-headers", "--pod", "web-0", NULL);
	fake_stop(&f);
	assert_string_equal(r.out, "0123456789ab   eth0   10.244.3.7/24   default   web-0   active\n");
	run_free(&r);
}

/* ---- top: rates from two samples of the workloads' counters ---------------------------------- */

#define TOP_SHARE(ig, il, eg, el) \
	"\"bandwidth\":{\"ingress\":{\"guarantee\":\"" #ig "\",\"limit\":\"" #il "\",\"guaranteeBitRate\":" ig##_BPS "," \
	"\"limitBitRate\":" il##_BPS "},\"egress\":{\"guarantee\":\"" #eg "\",\"limit\":\"" #el "\",\"guaranteeBitRate\":" \
	eg##_BPS ",\"limitBitRate\":" el##_BPS "},\"priority\":4},\"bandwidthAsked\":{}"
#define mbit1_BPS "1000000"
#define mbit120_BPS "120000000"
#define mbit200_BPS "200000000"
#define TOP_COUNTERS(ib, ip, id, io, ibo, eb, ep, ed, eo, ebo) \
	"\"counters\":{\"ingress\":{\"bytes\":" #ib ",\"packets\":" #ip ",\"drops\":" #id ",\"overlimits\":" #io \
	",\"borrows\":" #ibo ",\"rateBitRate\":1000000,\"ceilBitRate\":200000000},\"egress\":{\"bytes\":" #eb \
	",\"packets\":" #ep ",\"drops\":" #ed ",\"overlimits\":" #eo ",\"borrows\":" #ebo \
	",\"rateBitRate\":1000000,\"ceilBitRate\":200000000}}"
#define TOP_ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Two answers 2 s apart: web-0 sends 50 Mbit/s and receives 10, web-2 receives 1 kbit/s and its
 * egress class was re-created (counters back near 0), db has no share, new appeared. */
#define TOP_PREV \
	"{\"ok\":true,\"workloads\":[" \
	"{\"containerId\":\"" TOP_ID_A "\",\"ifname\":\"eth0\",\"address\":\"10.244.3.7/24\",\"pod\":\"web-0\"," \
	" \"namespace\":\"default\"," TOP_SHARE(mbit120, mbit200, mbit1, mbit200) "," \
	  TOP_COUNTERS(1000, 10, 0, 0, 0, 5000, 50, 1, 2, 3) "}," \
	"{\"containerId\":\"db\",\"ifname\":\"eth0\",\"address\":\"10.244.3.10/24\",\"pod\":\"\",\"namespace\":\"\"," \
	" \"bandwidth\":null,\"bandwidthAsked\":{},\"counters\":null}," \
	"{\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"address\":\"10.244.3.11/24\",\"pod\":\"web-2\"," \
	" \"namespace\":\"default\"," TOP_SHARE(mbit1, mbit200, mbit1, mbit200) "," \
	  TOP_COUNTERS(2000, 2, 0, 0, 0, 900000, 700, 0, 0, 0) "}]}"
#define TOP_CUR \
	"{\"ok\":true,\"workloads\":[" \
	"{\"containerId\":\"new\",\"ifname\":\"eth0\",\"address\":\"10.244.3.12/24\",\"pod\":\"\",\"namespace\":\"\"," \
	  TOP_SHARE(mbit1, mbit200, mbit1, mbit200) "," TOP_COUNTERS(100, 1, 0, 0, 0, 100, 1, 0, 0, 0) "}," \
	"{\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"address\":\"10.244.3.11/24\",\"pod\":\"web-2\"," \
	" \"namespace\":\"default\"," TOP_SHARE(mbit1, mbit200, mbit1, mbit200) "," \
	  TOP_COUNTERS(2250, 4, 0, 0, 0, 300, 2, 0, 0, 0) "}," \
	"{\"containerId\":\"db\",\"ifname\":\"eth0\",\"address\":\"10.244.3.10/24\",\"pod\":\"\",\"namespace\":\"\"," \
	" \"bandwidth\":null,\"bandwidthAsked\":{},\"counters\":null}," \
	"{\"containerId\":\"" TOP_ID_A "\",\"ifname\":\"eth0\",\"address\":\"10.244.3.7/24\",\"pod\":\"web-0\"," \
	" \"namespace\":\"default\"," TOP_SHARE(mbit120, mbit200, mbit1, mbit200) "," \
	  TOP_COUNTERS(2501000, 2010, 0, 7, 0, 12505000, 10050, 5, 7, 9) "}]}"

static json_t *top_canned_sample(void)
{
	json_t *prev = load(TOP_PREV), *cur = load(TOP_CUR), *sample;

	sample = netctl_top_sample(json_object_get(prev, "workloads"), json_object_get(cur, "workloads"), 2000,
				   1764657601234LL);
	json_decref(prev);
	json_decref(cur);
	assert_non_null(sample);
	return sample;
}

static json_int_t top_num(const json_t *w, const char *dir, const char *key)
{
	json_t *v = json_object_get(dir ? json_object_get(w, dir) : w, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static bool top_is_null(const json_t *w, const char *dir, const char *key)
{
	json_t *v = json_object_get(dir ? json_object_get(w, dir) : w, key);

	return v && json_is_null(v);
}

static void test_top_sample(void **state)
{
	json_t *sample = top_canned_sample(), *list = json_object_get(sample, "workloads"), *w;
	static const char *const keys[] = { "bitRate", "packetRate", "bytes", "packets", "drops", "overlimits", "borrows" };

	assert_string_equal(json_string_value(json_object_get(sample, "timestamp")), "2025-12-02T06:40:01.234Z");
	assert_int_equal(json_integer_value(json_object_get(sample, "intervalMs")), 2000);
	assert_int_equal(json_array_size(list), 4);

	/* Busiest first: 2 500 000 bytes in 2 s are 10 Mbit/s, 12 500 000 are 50 Mbit/s. */
	w = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), TOP_ID_A);
	assert_string_equal(json_string_value(json_object_get(w, "pod")), "web-0");
	assert_int_equal(top_num(w, "ingress", "bitRate"), 10000000);
	assert_int_equal(top_num(w, "ingress", "packetRate"), 1000);
	assert_int_equal(top_num(w, "ingress", "bytes"), 2500000);
	assert_int_equal(top_num(w, "ingress", "packets"), 2000);
	assert_int_equal(top_num(w, "ingress", "overlimits"), 7);
	assert_int_equal(top_num(w, "egress", "bitRate"), 50000000);
	assert_int_equal(top_num(w, "egress", "packetRate"), 5000);
	assert_int_equal(top_num(w, "egress", "drops"), 4);
	assert_int_equal(top_num(w, "egress", "overlimits"), 5);
	assert_int_equal(top_num(w, "egress", "borrows"), 6);
	assert_int_equal(top_num(w, NULL, "bitRate"), 60000000);
	assert_int_equal(top_num(w, "ingress", "guaranteeBitRate"), 120000000);
	assert_int_equal(top_num(w, "egress", "limitBitRate"), 200000000);

	/* web-2: 250 bytes in 2 s = 1000 bit/s in; its egress counters went backwards: unknown. */
	w = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "web-2");
	assert_int_equal(top_num(w, "ingress", "bitRate"), 1000);
	assert_int_equal(top_num(w, NULL, "bitRate"), 1000);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		assert_true(top_is_null(w, "egress", keys[k]));
	assert_int_equal(top_num(w, "egress", "guaranteeBitRate"), 1000000);

	/* No rate at all: db has no share (and no counters), new was not in the first answer.  Then
	 * by container id. */
	w = json_array_get(list, 2);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "db");
	assert_true(top_is_null(w, NULL, "bitRate"));
	assert_true(top_is_null(w, "ingress", "bitRate"));
	assert_true(top_is_null(w, "ingress", "guaranteeBitRate"));
	w = json_array_get(list, 3);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), "new");
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		assert_true(top_is_null(w, "ingress", keys[k]));
		assert_true(top_is_null(w, "egress", keys[k]));
	}
	assert_int_equal(top_num(w, "ingress", "limitBitRate"), 200000000);
	json_decref(sample);

	/* Exact in integers: 2^40 bytes in 3 ms, rounded to the nearest bit/s. */
	{
		json_t *a = load("[{\"containerId\":\"x\",\"ifname\":\"eth0\",\"counters\":{\"ingress\":{\"bytes\":0,"
				 "\"packets\":0,\"drops\":0,\"overlimits\":0,\"borrows\":0},\"egress\":null}}]");
		json_t *b = load("[{\"containerId\":\"x\",\"ifname\":\"eth0\",\"counters\":{\"ingress\":{\"bytes\":"
				 "1099511627776,\"packets\":1,\"drops\":0,\"overlimits\":0,\"borrows\":0},\"egress\":null}}]");

		sample = netctl_top_sample(a, b, 3, 1000);
		w = json_array_get(json_object_get(sample, "workloads"), 0);
		assert_int_equal(top_num(w, "ingress", "bitRate"), 2932031007402667LL);   /* 2^43 * 1000 / 3 = ...666.67 */
		assert_int_equal(top_num(w, "ingress", "packetRate"), 333);
		assert_true(top_is_null(w, "egress", "bitRate"));
		json_decref(sample);
		/* Without a first answer every rate is unknown; cur must be a list. */
		sample = netctl_top_sample(NULL, b, 1000, 1000);
		assert_true(top_is_null(json_array_get(json_object_get(sample, "workloads"), 0), NULL, "bitRate"));
		json_decref(sample);
		assert_null(netctl_top_sample(a, json_object_get(a, "nope"), 1000, 1000));
		json_decref(a);
		json_decref(b);
	}
}

static void test_top_format(void **state)
{
	json_t *sample = top_canned_sample();
	char *text;
	size_t len;
	FILE *out;
	char buf[32];

	out = open_memstream(&text, &len);
	assert_int_equal(netctl_top_format(sample, NETCTL_FORMAT_HEADERS, out), 0);
	fclose(out);
	assert_string_equal(text,
		"4 workloads   in 10.0mbit   out 50.0mbit   over 2.000s\n"
		"\n"
		"CONTAINER ID   POD             IN RATE    IN GUARANTEE/LIMIT   OUT RATE   OUT GUARANTEE/LIMIT   DROPS   BORROWS\n"
		"0123456789ab   default/web-0   10.0mbit   120mbit/200mbit      50.0mbit   1mbit/200mbit         4       6\n"
		"web-2          default/web-2   1.0kbit    1mbit/200mbit        -          1mbit/200mbit         0       0\n"
		"db             -               -          -                    -          -                     -       -\n"
		"new            -               -          1mbit/200mbit        -          1mbit/200mbit         -       -\n");
	free(text);

	/* wide: interface and address; --no-headers: neither the summary nor the header line. */
	out = open_memstream(&text, &len);
	assert_int_equal(netctl_top_format(sample, NETCTL_FORMAT_WIDE | NETCTL_FORMAT_NO_TRUNC, out), 0);
	fclose(out);
	assert_string_equal(text,
		TOP_ID_A "   eth0   10.244.3.7/24    default/web-0   10.0mbit   120mbit/200mbit   50.0mbit   1mbit/200mbit   4   6\n"
		"web-2" "                                                           "
		"   eth0   10.244.3.11/24   default/web-2   1.0kbit    1mbit/200mbit     -          1mbit/200mbit   0   0\n"
		"db" "                                                              "
		"   eth0   10.244.3.10/24   -               -          -                 -          -               -   -\n"
		"new" "                                                             "
		"   eth0   10.244.3.12/24   -               -          1mbit/200mbit     -          1mbit/200mbit   -   -\n");
	free(text);
	json_decref(sample);

	netctl_top_format_rate(0, buf, sizeof(buf));
	assert_string_equal(buf, "0bit");
	netctl_top_format_rate(999, buf, sizeof(buf));
	assert_string_equal(buf, "999bit");
	netctl_top_format_rate(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1.0kbit");
	netctl_top_format_rate(47790000, buf, sizeof(buf));
	assert_string_equal(buf, "47.8mbit");
	netctl_top_format_rate(999960000, buf, sizeof(buf));
	assert_string_equal(buf, "1.0gbit");       /* not 1000.0mbit */
	netctl_top_format_rate(40000000000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "40.0tbit");
	netctl_top_format_rate(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "18446744.1tbit");
}

static void test_args_top(void **state)
{
	struct netctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, NULL, "top", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_RUN);
	assert_int_equal(a.topic, NETCTL_TOPIC_TOP_COMMAND);
	assert_int_equal(a.interval_ms, 1000);       /* top's own default, not --watch's 2 s */
	assert_int_equal(a.count, 0);
	assert_int_equal(a.output, NETCTL_OUTPUT_TABLE);
	assert_int_equal(parse(&a, err, NULL, "top", "--interval", "500ms", "--count", "3", "-o", "json", NULL), 0);
	assert_int_equal(a.interval_ms, 500);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.output, NETCTL_OUTPUT_JSON);
	assert_int_equal(parse(&a, err, NULL, "--interval=2", "top", "--count=1", "-n", "prod", "--pod", "web-0", NULL), 0);
	assert_int_equal(a.interval_ms, 2000);
	assert_string_equal(a.filter_namespace, "prod");
	assert_string_equal(a.filter_pod, "web-0");
	assert_int_equal(parse(&a, err, NULL, "top", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_TOP_COMMAND);
	assert_int_equal(parse(&a, err, NULL, "help", "top", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_TOP_COMMAND);
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP_COMMAND), "netctl top - "));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP), "    netctl top [--interval"));

	assert_int_equal(parse(&a, err, NULL, "top", "web-0", NULL), -EINVAL);
	assert_string_equal(err, "top: unexpected argument 'web-0'");
	assert_int_equal(parse(&a, err, NULL, "top", "--watch", NULL), -EINVAL);
	assert_string_equal(err, "top: option --watch is not needed: top samples every --interval by itself");
	assert_int_equal(parse(&a, err, NULL, "top", "--interval", "0", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "top", "--count", "0", NULL), -EINVAL);
	/* --interval and --count stay --watch options for the other commands. */
	assert_int_equal(parse(&a, err, NULL, "status", "--count", "2", NULL), -EINVAL);
	assert_string_equal(err, "option --count needs --watch");
	assert_int_equal(parse(&a, err, NULL, "status", "--interval", "1", NULL), -EINVAL);
	assert_string_equal(err, "option --interval needs --watch");
}

#define TOP_STATUS "{\"ok\":true,\"node\":\"n1\"," BW_STATUS "}"

static void test_run_top(void **state)
{
	static const char *const json3[] = { TOP_STATUS, TOP_PREV, TOP_CUR, TOP_CUR };
	static const char *const no_bw[] = { "{\"ok\":true,\"node\":\"n1\",\"bandwidth\":null}" };
	static const char *const old[] = {
		TOP_STATUS,
		"{\"ok\":true,\"workloads\":[{\"containerId\":\"a\",\"ifname\":\"eth0\",\"bandwidth\":null,\"bandwidthAsked\":{}}]}",
	};
	static const char *const then_error[] = {
		TOP_STATUS, TOP_PREV, "{\"ok\":false,\"code\":11,\"msg\":\"busy, try again\"}",
	};
	struct fake f;
	struct run_out r;
	json_t *line, *w;
	char *second;

	/* -o json: status once, then count + 1 lists; one {"sample": ...} per line. */
	fake_start_n(&f, json3, 4, true);
	run(&r, f.path, "top", "-o", "json", "--interval", "1ms", "--count", "2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_int_equal(f.served, 4);
	assert_string_equal(r.err, "");
	second = strchr(r.out, '\n');
	assert_non_null(second);
	*second++ = '\0';
	assert_non_null(strchr(second, '\n'));
	assert_null(strchr(strchr(second, '\n') + 1, '\n'));
	line = load(r.out);
	/* The first frame: TOP_PREV -> TOP_CUR over a measured interval; the deltas are exact. */
	w = json_array_get(json_object_get(json_object_get(line, "sample"), "workloads"), 0);
	assert_string_equal(json_string_value(json_object_get(w, "containerId")), TOP_ID_A);
	assert_int_equal(top_num(w, "egress", "bytes"), 12500000);
	assert_int_equal(top_num(w, "egress", "borrows"), 6);
	assert_true(top_num(w, "egress", "bitRate") > 0);
	assert_true(top_num(json_object_get(line, "sample"), NULL, "intervalMs") >= 1);
	json_decref(line);
	/* The second: TOP_CUR twice, nothing moved. */
	line = load(second);
	w = json_array_get(json_object_get(json_object_get(line, "sample"), "workloads"), 0);
	assert_int_equal(top_num(w, "egress", "bytes"), 0);
	assert_int_equal(top_num(w, NULL, "bitRate"), 0);
	json_decref(line);
	run_free(&r);

	/* Tables, not on a terminal: frames one after the other, separated by a blank line. */
	fake_start_n(&f, json3, 4, true);
	run(&r, f.path, "top", "--interval", "1ms", "--count", "2", "--pod", "web-2", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "CONTAINER ID   POD"));
	assert_non_null(strstr(r.out, "\n\n1 workload   in 0bit   out 0bit   over "));
	assert_null(strstr(r.out, "web-0"));
	assert_null(strstr(r.out, "\033["));
	run_free(&r);

	/* -o yaml: one document per frame, each after "---". */
	fake_start_n(&f, json3, 3, true);
	run(&r, f.path, "top", "-o", "yaml", "--interval", "1ms", "--count", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_int_equal(strncmp(r.out, "---\nsample:\n  timestamp: ", strlen("---\nsample:\n  timestamp: ")), 0);
	assert_non_null(strstr(r.out, "\n      egress:\n        bitRate: "));
	assert_null(strstr(r.out + 1, "---"));
	run_free(&r);

	/* A node that shapes nothing: said, exit 1, no workloads asked for. */
	fake_start_n(&f, no_bw, 1, true);
	run(&r, f.path, "top", "--count", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: top: shoald shapes no bandwidth on this host: \"bandwidth\" is not "
				   "configured (shoald.json(5)), or shoald is older than netctl\n");
	run_free(&r);

	/* A shoald without counters. */
	fake_start_n(&f, old, 2, true);
	run(&r, f.path, "top", "--count", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: top: shoald reports no counters (is shoald older than netctl?)\n");
	run_free(&r);

	/* A failed sample ends top with its error; unreachable is 3. */
	fake_start_n(&f, then_error, 3, true);
	run(&r, f.path, "top", "-o", "json", "--interval", "1ms", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: busy, try again (code 11)\n");
	run_free(&r);
	run(&r, "/nonexistent/shoald.sock", "top", NULL);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err, "cannot reach shoald"));
	run_free(&r);
}

/* ---- policies ------------------------------------------------------------------------------ */

static void test_args_policy(void **state)
{
	struct netctl_args a;
	char err[256], longname[80];

	assert_int_equal(parse(&a, err, NULL, "policy", "list", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_LIST);
	assert_int_equal(parse(&a, err, NULL, "policies", "ls", "-o", "wide", "--no-headers", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_LIST);
	assert_int_equal(a.output, NETCTL_OUTPUT_WIDE);

	assert_int_equal(parse(&a, err, NULL, "policy", "set", "prod-web", "--match", "K8S_POD_NAMESPACE=prod",
			       "--match=K8S_POD_NAME=web-*", "--egress-guarantee", "100mbit", "--egress-limit", "1gbit",
			       "--priority", "2", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_SET);
	assert_string_equal(a.policy, "prod-web");
	assert_int_equal(a.match.n, 2);
	assert_false(a.match.all);
	assert_int_equal(a.match.term[0].key, POLICY_KEY_POD_NAMESPACE);
	assert_string_equal(a.match.term[0].pattern, "prod");
	assert_int_equal(a.match.term[1].key, POLICY_KEY_POD_NAME);
	assert_string_equal(a.match.term[1].pattern, "web-*");
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_GUARANTEE].bps == 100000000ULL);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].bps == 1000000000ULL);
	assert_int_equal(a.quota.priority, 2);
	/* Options anywhere; a pattern may hold '=' past the first; every key. */
	assert_int_equal(parse(&a, err, NULL, "--all", "--priority", "1", "policy", "set", "floor", NULL), 0);
	assert_true(a.match.all);
	assert_int_equal(a.match.n, 0);
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "a.b_c-1", "--match", "network=n=1", "--match",
			       "K8S_POD_UID=[0-9]*", "--ingress-limit", "10mbps", NULL), 0);
	assert_string_equal(a.match.term[0].pattern, "n=1");
	assert_int_equal(a.match.term[1].key, POLICY_KEY_POD_UID);
	assert_true(a.quota.rate[NETCTL_QUOTA_INGRESS_LIMIT].bps == 80000000ULL);
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", "prod-web", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_DELETE);
	assert_string_equal(a.policy, "prod-web");
	assert_int_equal(parse(&a, err, NULL, "policies", "rm", "x", "-o", "json", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_DELETE);

	/* Words. */
	assert_int_equal(parse(&a, err, NULL, "policy", NULL), -EINVAL);
	assert_string_equal(err, "policy: missing command (list, set, delete)");
	assert_int_equal(parse(&a, err, NULL, "policy", "get", NULL), -EINVAL);
	assert_string_equal(err, "policy: unknown command 'get'");
	assert_int_equal(parse(&a, err, NULL, "policy", "list", "x", NULL), -EINVAL);
	assert_string_equal(err, "policy list: unexpected argument 'x'");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "--all", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "policy set: missing policy name (netctl policy set NAME (--match KEY=PATTERN ... | "
				 "--all) --egress-guarantee RATE ...)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "a", "b", "--all", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "policy set: unexpected argument 'b'");
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", NULL), -EINVAL);
	assert_string_equal(err, "policy delete: missing policy name (netctl policy delete NAME)");
	assert_int_equal(parse(&a, err, NULL, "policy", "rm", "a", "b", NULL), -EINVAL);
	assert_string_equal(err, "policy delete: unexpected argument 'b'");
	/* Names as shoald takes them. */
	for (const char *const *bad = (const char *const[]){ "", "-x", ".x", "a b", "a/b", "ä", NULL }; *bad; bad++) {
		assert_int_equal(parse(&a, err, NULL, "policy", "delete", "--", *bad, NULL), -EINVAL);
		assert_non_null(strstr(err, "policy delete: bad policy name"));
	}
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "a b", "--all", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "policy set: bad policy name 'a b' (a letter or digit, then letters, digits, '_', "
				 "'.' or '-'; at most 63 bytes)");
	memset(longname, 'n', 64);
	longname[64] = '\0';
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", longname, NULL), -EINVAL);
	longname[63] = '\0';
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", longname, NULL), 0);

	/* --match: each error. */
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "prod", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "--match 'prod': want KEY=PATTERN, KEY one of K8S_POD_NAMESPACE, K8S_POD_NAME, "
				 "K8S_POD_UID, network, cgroup");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "namespace=prod", "--priority", "1", NULL),
			 -EINVAL);
	assert_string_equal(err, "--match 'namespace=prod': unknown key 'namespace' (K8S_POD_NAMESPACE, K8S_POD_NAME, "
				 "K8S_POD_UID, network, cgroup)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "k8s_pod_name=x", "--priority", "1", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown key 'k8s_pod_name'"));
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "=x", "--priority", "1", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown key ''"));
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "network=", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "--match 'network=': empty pattern (* matches any value; --all matches every workload)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", "network=a", "--match", "network=b",
			       "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "--match network given twice (a workload has one value per key: one pattern such as "
				 "'web-[0-3]' or 'web-*' covers several)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", NULL), -EINVAL);
	assert_string_equal(err, "option --match needs KEY=PATTERN, e.g. K8S_POD_NAMESPACE=prod");
	{
		char pattern[POLICY_PATTERN_SIZE + 16] = "network=";

		memset(pattern + 8, 'x', POLICY_PATTERN_SIZE);
		pattern[8 + POLICY_PATTERN_SIZE] = '\0';
		assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", pattern, "--priority", "1", NULL),
				 -EINVAL);
		assert_string_equal(err, "--match network: the pattern is longer than 255 bytes");
		pattern[8 + POLICY_PATTERN_SIZE - 1] = '\0';
		assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--match", pattern, "--priority", "1", NULL), 0);
	}
	/* More terms than a policy holds: only reachable through the function (four keys, each once). */
	{
		struct netctl_policy_match m = { .n = POLICY_MATCH_MAX };

		assert_int_equal(netctl_policy_add_match(&m, "network=x", err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "--match given more than 8 times");
		assert_int_equal(m.n, POLICY_MATCH_MAX);
	}
	/* --match or --all, not both, not neither. */
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "policy set: which workloads? give --match KEY=PATTERN (repeatable: all must match) or --all");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--match", "network=x", "--priority", "1", NULL),
			 -EINVAL);
	assert_string_equal(err, "policy set: --all and --match exclude each other (--all matches every workload)");
	/* Values: something, never 0 or default, no guarantee above its limit. */
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", NULL), -EINVAL);
	assert_string_equal(err, "policy set: nothing to set: give at least one of --ingress-guarantee, --ingress-limit, "
				 "--egress-guarantee, --egress-limit, --priority");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--egress-limit", "default", NULL), -EINVAL);
	assert_string_equal(err, "policy set: --egress-limit 0 or default: a policy has no value to clear; leave the "
				 "option out (a workload then keeps its own value, or shoald's default)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--ingress-guarantee", "0", "--priority", "1",
			       NULL), -EINVAL);
	assert_non_null(strstr(err, "policy set: --ingress-guarantee 0 or default"));
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--priority", "default", NULL), -EINVAL);
	assert_string_equal(err, "policy set: --priority default: a policy has no value to clear; leave the option out "
				 "(a workload then keeps its own priority, or shoald's default)");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--ingress-guarantee", "300mbit",
			       "--ingress-limit", "200mbit", NULL), -EINVAL);
	assert_string_equal(err, "policy set: --ingress-guarantee 300mbit is above --ingress-limit 200mbit");
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "p", "--all", "--ingress-limit", "fast", NULL), -EINVAL);
	assert_non_null(strstr(err, "bad rate 'fast' for --ingress-limit"));
	/* The options belong to policy set. */
	assert_int_equal(parse(&a, err, NULL, "policy", "list", "--all", NULL), -EINVAL);
	assert_string_equal(err, "options --match and --all work with policy set only");
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "c", "--match", "network=x", "--priority", "1", NULL),
			 -EINVAL);
	assert_string_equal(err, "options --match and --all work with policy set only");
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", "p", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "options --ingress-guarantee, --ingress-limit, --egress-guarantee, --egress-limit and "
				 "--priority work with quota set and policy set only");
	assert_int_equal(parse(&a, err, NULL, "policy", "list", "-w", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "policy", "delete", "p", "--force", NULL), -EINVAL);

	/* Help at every level, without a name; the precedence explained. */
	assert_int_equal(parse(&a, err, NULL, "policy", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY);
	assert_int_equal(parse(&a, err, NULL, "help", "policy", "set", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_SET);
	assert_int_equal(parse(&a, err, NULL, "policies", "rm", "-h", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_DELETE);
	assert_int_equal(parse(&a, err, NULL, "help", "policy", "ls", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_POLICY_LIST);
	for (int k = 0; k < POLICY_N_KEYS; k++)
		assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_SET), netctl_policy_key_name(k)));
	for (int q = 0; q < NETCTL_QUOTA_N_RATES; q++)
		assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_SET), netctl_quota_option(q)));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_SET), "--all"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_SET), "the most match keys"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY), "the most match keys"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_LIST), "WORKLOADS"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_POLICY_DELETE), "no such policy"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_TOP), "policy set"));
	assert_non_null(strstr(netctl_help_text(NETCTL_TOPIC_QUOTA_GET), "Policy"));
}

/* netctl's copy of shoald's spelling of keys and names (it links nothing of netd/). */
static void test_policy_keys_and_names(void **state)
{
	static const char *const names[] = { "a", "prod-web", "A.b_c-9", "0", "-a", "_a", ".", "a b", "a/b", "a:b", "",
					     "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
					     "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", NULL };

	for (int k = 0; k < POLICY_N_KEYS; k++)
		assert_string_equal(netctl_policy_key_name(k), policy_key_name(k));
	assert_null(netctl_policy_key_name(POLICY_N_KEYS));
	for (const char *const *n = names; *n; n++)
		assert_int_equal(netctl_policy_name_valid(*n), policy_name_valid(*n));
	assert_false(netctl_policy_name_valid(NULL));
}

/* policy_decode() of a policySet request as shoald's handler does it: the request less "op" and
 * "name". */
static int decode_request(const char *name, const json_t *req, struct policy *pol, char perr[POLICY_ERRLEN])
{
	json_t *body = json_copy((json_t *)req);
	int r;

	assert_non_null(body);
	json_object_del(body, "op");
	json_object_del(body, "name");
	r = policy_decode(name, body, pol, perr);
	json_decref(body);
	return r;
}

/* The requests: what shoald's policy_decode() reads back as the same policy. */
static void test_policy_requests(void **state)
{
	struct netctl_args a;
	struct policy pol;
	char err[256], perr[POLICY_ERRLEN];
	json_t *req;

	assert_int_equal(parse(&a, err, NULL, "policy", "set", "prod-web", "--match", "K8S_POD_NAME=web-*", "--match",
			       "K8S_POD_NAMESPACE=prod", "--egress-guarantee", "100mbit", "--egress-limit", "1gbit",
			       "--ingress-limit", "12.5mbps", "--priority", "2", NULL), 0);
	req = netctl_policy_set_request(a.policy, &a.match, &a.quota);
	assert_json_equal(req, "{\"op\":\"policySet\",\"name\":\"prod-web\",\"match\":{\"K8S_POD_NAME\":\"web-*\","
			       "\"K8S_POD_NAMESPACE\":\"prod\"},\"bandwidth\":{\"egress\":{\"guarantee\":100000000,"
			       "\"limit\":1000000000},\"ingress\":{\"limit\":100000000},\"priority\":2}}");
	assert_int_equal(decode_request(a.policy, req, &pol, perr), 0);
	assert_int_equal(pol.n_match, 2);
	assert_true(pol.bandwidth.egress.guarantee == 100000000ULL);
	assert_true(pol.bandwidth.ingress.limit == 100000000ULL);
	assert_int_equal(pol.bandwidth.priority, 2);
	json_decref(req);

	/* --all: an empty match, which shoald reads as every workload. */
	assert_int_equal(parse(&a, err, NULL, "policy", "set", "floor", "--all", "--priority", "6", NULL), 0);
	req = netctl_policy_set_request(a.policy, &a.match, &a.quota);
	assert_json_equal(req, "{\"op\":\"policySet\",\"name\":\"floor\",\"match\":{},\"bandwidth\":{\"priority\":6}}");
	assert_int_equal(decode_request(a.policy, req, &pol, perr), 0);
	assert_int_equal(pol.n_match, 0);
	json_decref(req);

	req = netctl_policy_delete_request("floor");
	assert_json_equal(req, "{\"op\":\"policyDelete\",\"name\":\"floor\"}");
	json_decref(req);
	assert_null(netctl_policy_delete_request(NULL));
}

#define POLICIES_ANSWER \
	"{\"ok\":true,\"revision\":12,\"policies\":[" \
	"{\"name\":\"prod-web\",\"match\":{\"K8S_POD_NAMESPACE\":\"prod\",\"K8S_POD_NAME\":\"web-*\"}," \
	" \"bandwidth\":{\"egress\":{\"guarantee\":100000000,\"limit\":1000000000},\"priority\":2},\"workloads\":3}," \
	"{\"name\":\"floor\",\"match\":{},\"bandwidth\":{\"ingress\":{\"guarantee\":5000000,\"burst\":64000}," \
	" \"egress\":{\"limit\":500000000}},\"workloads\":0}," \
	"{\"name\":\"broken\",\"error\":\"policy broken: unknown match key \\\"zone\\\"\"}]}"

static void test_format_policies(void **state)
{
	json_t *resp = load(POLICIES_ANSWER), *list = json_object_get(resp, "policies");
	json_t *ok = json_array(), *dir;
	char *text = NULL, buf[256];

	/* Sorted by name; a broken one with its error (and the column only then). */
	CAPTURE(text, netctl_format_policies(list, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text,
		"NAME       MATCH                                       INGRESS   EGRESS          PRIORITY   WORKLOADS   ERROR\n"
		"broken     -                                           -         -               -          -           policy broken: unknown match key \"zone\"\n"
		"floor      *                                           5mbit/-   -/500mbit       -          0           -\n"
		"prod-web   K8S_POD_NAMESPACE=prod,K8S_POD_NAME=web-*   -         100mbit/1gbit   2          3           -\n");
	free(text);
	json_array_append(ok, json_array_get(list, 0));
	json_array_append(ok, json_array_get(list, 1));
	CAPTURE(text, netctl_format_policies(ok, NETCTL_FORMAT_HEADERS | NETCTL_FORMAT_WIDE, out));
	assert_string_equal(text,
		"NAME       MATCH                                       INGRESS   EGRESS          PRIORITY   WORKLOADS   IN BURST   OUT BURST\n"
		"floor      *                                           5mbit/-   -/500mbit       -          0           64kbit     -\n"
		"prod-web   K8S_POD_NAMESPACE=prod,K8S_POD_NAME=web-*   -         100mbit/1gbit   2          3           -          -\n");
	free(text);
	CAPTURE(text, netctl_format_policies(ok, 0, out));
	assert_string_equal(text,
		"floor      *                                           5mbit/-   -/500mbit       -   0\n"
		"prod-web   K8S_POD_NAMESPACE=prod,K8S_POD_NAME=web-*   -         100mbit/1gbit   2   3\n");
	free(text);
	json_array_clear(ok);
	CAPTURE(text, netctl_format_policies(ok, NETCTL_FORMAT_HEADERS, out));
	assert_string_equal(text, "NAME   MATCH   INGRESS   EGRESS   PRIORITY   WORKLOADS\n");
	free(text);
	assert_int_equal(netctl_format_policies(resp, 0, stdout), -EINVAL);

	/* The cells alone. */
	assert_string_equal(netctl_policy_match_text(NULL, buf, sizeof(buf)), "-");
	dir = load("{\"network\":\"a\"}");
	assert_string_equal(netctl_policy_match_text(dir, buf, sizeof(buf)), "network=a");
	json_decref(dir);
	dir = load("{\"guarantee\":1500000,\"limit\":0}");
	assert_string_equal(netctl_policy_rates_text(dir, buf, sizeof(buf)), "1500kbit/-");
	json_decref(dir);
	dir = load("{\"limit\":\"fast\"}");
	assert_string_equal(netctl_policy_rates_text(dir, buf, sizeof(buf)), "-/?");
	json_decref(dir);
	assert_string_equal(netctl_policy_rates_text(NULL, buf, sizeof(buf)), "-");
	json_decref(ok);
	json_decref(resp);
}

static void test_format_policy(void **state)
{
	json_t *p = load("{\"name\":\"prod-web\",\"match\":{\"K8S_POD_NAMESPACE\":\"prod\",\"K8S_POD_NAME\":\"web-*\"},"
			 "\"bandwidth\":{\"egress\":{\"guarantee\":100000000,\"limit\":1000000000},\"priority\":2}}");
	json_t *future = load("{\"name\":\"f\",\"match\":{},\"bandwidth\":{\"ingress\":{\"burst\":64000,\"x\":1},"
			      "\"egress\":{\"guarantee\":5000000},\"weight\":3},\"owner\":\"ops\"}");
	char *text = NULL;

	CAPTURE(text, netctl_format_policy(p, out));
	assert_string_equal(text,
		"Name:              prod-web\n"
		"Match:             K8S_POD_NAMESPACE=prod,K8S_POD_NAME=web-*\n"
		"Ingress guarantee: -\n"
		"Ingress limit:     -\n"
		"Egress guarantee:  100mbit\n"
		"Egress limit:      1gbit\n"
		"Priority:          2\n");
	free(text);
	/* Bursts when set; what a newer shoald adds under its path. */
	CAPTURE(text, netctl_format_policy(future, out));
	assert_string_equal(text,
		"Name:                f\n"
		"Match:               *\n"
		"Ingress guarantee:   -\n"
		"Ingress limit:       -\n"
		"Ingress burst:       64kbit\n"
		"Egress guarantee:    5mbit\n"
		"Egress limit:        -\n"
		"Priority:            -\n"
		"owner:               ops\n"
		"bandwidth.ingress.x: 1\n"
		"bandwidth.weight:    3\n");
	free(text);
	assert_int_equal(netctl_format_policy(NULL, stdout), -EINVAL);
	json_decref(future);
	json_decref(p);
}

static void test_run_policy(void **state)
{
	static const char *const set_ok[] = {
		"{\"ok\":true,\"revision\":13,\"policy\":{\"name\":\"prod-web\",\"match\":{\"K8S_POD_NAMESPACE\":\"prod\"},"
		"\"bandwidth\":{\"egress\":{\"guarantee\":100000000},\"priority\":2}}}",
	};
	struct fake f;
	struct run_out r;
	json_t *req, *got;

	fake_start(&f, POLICIES_ANSWER, true);
	run(&r, f.path, "policy", "list", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"policies\"}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "NAME       MATCH "));
	assert_non_null(strstr(r.out, "\nfloor      *  "));
	run_free(&r);

	/* -o json: the API's list, sorted, without revision. */
	fake_start(&f, POLICIES_ANSWER, true);
	run(&r, f.path, "policies", "ls", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_int_equal(json_array_size(got), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "name")), "broken");
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 2), "name")), "prod-web");
	json_decref(got);
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"revision\":1}", true);
	run(&r, f.path, "policy", "list", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: shoald's answer has no \"policies\" list (is shoald older than netctl?)\n");
	run_free(&r);
	/* An older shoald does not know the operation: its error. */
	fake_start(&f, "{\"ok\":false,\"code\":4,\"msg\":\"unknown operation\",\"details\":\"policies\"}", true);
	run(&r, f.path, "policy", "list", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: shoald: unknown operation: policies (code 4)\n");
	run_free(&r);

	fake_start_n(&f, set_ok, 1, true);
	run(&r, f.path, "policy", "set", "prod-web", "--match", "K8S_POD_NAMESPACE=prod", "--egress-guarantee", "100mbit",
	    "--priority", "2", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"policySet\",\"name\":\"prod-web\",\"match\":{\"K8S_POD_NAMESPACE\":\"prod\"},"
			       "\"bandwidth\":{\"egress\":{\"guarantee\":100000000},\"priority\":2}}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"Name:              prod-web\n"
		"Match:             K8S_POD_NAMESPACE=prod\n"
		"Ingress guarantee: -\n"
		"Ingress limit:     -\n"
		"Egress guarantee:  100mbit\n"
		"Egress limit:      -\n"
		"Priority:          2\n");
	run_free(&r);
	fake_start_n(&f, set_ok, 1, true);
	run(&r, f.path, "policy", "set", "prod-web", "--match", "K8S_POD_NAMESPACE=prod", "--egress-guarantee", "100mbit",
	    "--priority", "2", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "name: prod-web\nmatch:\n  K8S_POD_NAMESPACE: prod\nbandwidth:\n  egress:\n"
				   "    guarantee: 100000000\n  priority: 2\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":false,\"code\":7,\"msg\":\"invalid policy\",\"details\":\"policy p: bad pattern\"}", true);
	run(&r, f.path, "policy", "set", "p", "--all", "--priority", "1", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: invalid policy: policy p: bad pattern (code 7)\n");
	run_free(&r);

	fake_start(&f, "{\"ok\":true,\"name\":\"prod-web\",\"revision\":14}", true);
	run(&r, f.path, "policy", "delete", "prod-web", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"policyDelete\",\"name\":\"prod-web\"}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "policy prod-web deleted\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":true,\"name\":\"prod-web\",\"revision\":14}", true);
	run(&r, f.path, "policy", "rm", "prod-web", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\n  \"name\": \"prod-web\",\n  \"revision\": 14\n}\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":false,\"code\":7,\"msg\":\"no such policy\",\"details\":\"no policy x in store file:/s\"}",
		   true);
	run(&r, f.path, "policy", "delete", "x", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: no such policy: no policy x in store file:/s (code 7)\n");
	run_free(&r);

	run(&r, "/nonexistent/shoald.sock", "policy", "set", "p", "--all", "--priority", "1", NULL);
	assert_int_equal(r.code, 3);
	run_free(&r);
	run(&r, "/nonexistent/shoald.sock", "policy", "set", "p", "--priority", "1", NULL);
	assert_int_equal(r.code, 2);
	run_free(&r);
}

/* quota get and workload get name the policy that applies; unasked values may be the policy's. */
static void test_run_quota_policy(void **state)
{
	static const char answer[] =
		"{\"ok\":true,\"workloads\":[{\"containerId\":\"web-0\",\"ifname\":\"eth0\",\"address\":\"10.244.3.7/24\","
		"\"state\":\"active\",\"bandwidth\":{\"ingress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\","
		"\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"egress\":{\"guarantee\":\"100mbit\","
		"\"limit\":\"200mbit\",\"guaranteeBitRate\":100000000,\"limitBitRate\":200000000},\"priority\":2},"
		"\"bandwidthAsked\":{\"ingress\":{\"limit\":200000000}},\"policy\":\"prod-web\"},"
		"{\"containerId\":\"db-0\",\"ifname\":\"eth0\",\"state\":\"active\",\"bandwidth\":{\"ingress\":{\"guarantee\":"
		"\"1mbit\",\"limit\":\"200mbit\"},\"egress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\"},\"priority\":4},"
		"\"bandwidthAsked\":{},\"policy\":null}]}";
	struct fake f;
	struct run_out r;
	json_t *got;

	fake_start(&f, answer, true);
	run(&r, f.path, "quota", "get", "web-0", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"Container ID:      web-0\n"
		"Interface:         eth0\n"
		"Ingress guarantee: 1mbit (policy or default)\n"
		"Ingress limit:     200mbit\n"
		"Egress guarantee:  100mbit (policy or default)\n"
		"Egress limit:      200mbit (policy or default)\n"
		"Priority:          2 (policy or default)\n"
		"Policy:            prod-web\n");
	run_free(&r);
	fake_start(&f, answer, true);
	run(&r, f.path, "quota", "get", "db-0", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Priority:          4 (default)\nPolicy:            -\n"));
	run_free(&r);
	fake_start(&f, answer, true);
	run(&r, f.path, "quota", "get", "web-0", "-o", "json", NULL);
	fake_stop(&f);
	got = load(r.out);
	assert_string_equal(json_string_value(json_object_get(got, "policy")), "prod-web");
	json_decref(got);
	run_free(&r);
	fake_start(&f, answer, true);
	run(&r, f.path, "workload", "get", "web-0", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "State:             active\nIngress guarantee: 1mbit (policy or default)\n"));
	assert_non_null(strstr(r.out, "\nPolicy:            prod-web\n"));
	run_free(&r);
}

/* ---- cgroups with a quota (--cgroup) ---------------------------------------------------------- */

/* A node that shapes, one pod and two cgroups (op workloads with "cgroups"). */
#define CG_ENTRY_A \
	"{\"kind\":\"cgroup\",\"cgroup\":\"system.slice/backup.service\"," \
	" \"cgroupDir\":\"/sys/fs/cgroup/unified/system.slice/backup.service\",\"cgroupId\":4242,\"created\":1763776000," \
	" \"class\":300,\"bandwidth\":{\"ingress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000," \
	"  \"limitBitRate\":200000000},\"egress\":{\"guarantee\":\"20mbit\",\"limit\":\"40mbit\",\"guaranteeBitRate\":20000000," \
	"  \"limitBitRate\":40000000},\"priority\":6},\"bandwidthAsked\":{\"egress\":{\"guarantee\":20000000,\"limit\":40000000}," \
	" \"priority\":6},\"policy\":null,\"counters\":{\"ingress\":{\"bytes\":100,\"packets\":1,\"drops\":0,\"overlimits\":0," \
	" \"borrows\":0},\"egress\":{\"bytes\":1000,\"packets\":10,\"drops\":1,\"overlimits\":2,\"borrows\":3}}}"
#define CG_ENTRY_B \
	"{\"kind\":\"cgroup\",\"cgroup\":\"batch.slice\",\"cgroupDir\":\"/sys/fs/cgroup/unified/batch.slice\",\"cgroupId\":77," \
	" \"created\":1763776001,\"class\":301,\"bandwidth\":null,\"bandwidthAsked\":{},\"policy\":\"batch\",\"counters\":null}"
#define CG_ANSWER \
	"{\"ok\":true,\"workloads\":[" \
	"{\"containerId\":\"web-2\",\"ifname\":\"eth0\",\"address\":\"10.244.3.11/24\",\"hostVeth\":\"shv3\",\"state\":\"active\"," \
	" \"pod\":\"web-2\",\"namespace\":\"default\",\"podUID\":\"u-3\"," \
	" \"bandwidth\":{\"ingress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000}," \
	"  \"egress\":{\"guarantee\":\"1mbit\",\"limit\":\"200mbit\",\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},\"priority\":4}," \
	" \"bandwidthAsked\":{},\"counters\":{\"ingress\":{\"bytes\":0,\"packets\":0,\"drops\":0,\"overlimits\":0,\"borrows\":0}," \
	" \"egress\":{\"bytes\":0,\"packets\":0,\"drops\":0,\"overlimits\":0,\"borrows\":0}}}]," \
	"\"cgroups\":[" CG_ENTRY_A "," CG_ENTRY_B "]}"

static void test_args_cgroup(void **state)
{
	struct netctl_args a;
	char err[256];

	/* --cgroup instead of ID, anywhere on the line; a bare quota set is the defaults */
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "--cgroup", "system.slice/x.service", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_SET);
	assert_string_equal(a.cgroup, "system.slice/x.service");
	assert_null(a.id);
	assert_false(netctl_quota_any(&a.quota));
	assert_int_equal(parse(&a, err, NULL, "--cgroup=/sys/fs/cgroup/a", "quota", "get", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_GET);
	assert_string_equal(a.cgroup, "/sys/fs/cgroup/a");
	assert_int_equal(parse(&a, err, NULL, "quota", "delete", "--cgroup", "a", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_DELETE);
	assert_int_equal(parse(&a, err, NULL, "quota", "rm", "--cgroup", "a", "-o", "json", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_QUOTA_DELETE);
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "--cgroup", "a", NULL), 0);
	assert_int_equal(a.topic, NETCTL_TOPIC_WORKLOAD_GET);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "--cgroup", "a", "--egress-limit", "1gbit", NULL), 0);
	assert_true(a.quota.rate[NETCTL_QUOTA_EGRESS_LIMIT].given);
	assert_int_equal(parse(&a, err, NULL, "quota", "delete", "--help", NULL), 0);
	assert_int_equal(a.action, NETCTL_ACTION_HELP);
	assert_non_null(strstr(netctl_help_text(a.topic), "netctl quota delete - take a cgroup's bandwidth quota away"));

	/* Usage errors: both, neither, a pod's quota delete, elsewhere, empty, a conflict */
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "web-0", "--cgroup", "a", "--priority", "1", NULL), -EINVAL);
	assert_string_equal(err, "quota set: give a container id or --cgroup PATH, not both (ID names a container, --cgroup "
				 "a cgroup v2 directory)");
	assert_int_equal(parse(&a, err, NULL, "workload", "get", "web-0", "--cgroup", "a", NULL), -EINVAL);
	assert_non_null(strstr(err, "workload get: give a container id or --cgroup PATH, not both"));
	assert_int_equal(parse(&a, err, NULL, "quota", "delete", NULL), -EINVAL);
	assert_string_equal(err, "quota delete: missing --cgroup PATH (netctl quota delete --cgroup PATH)");
	assert_int_equal(parse(&a, err, NULL, "quota", "delete", "web-0", NULL), -EINVAL);
	assert_non_null(strstr(err, "quota delete: only a cgroup's quota can be deleted (--cgroup PATH)"));
	assert_int_equal(parse(&a, err, NULL, "workload", "list", "--cgroup", "a", NULL), -EINVAL);
	assert_string_equal(err, "option --cgroup works with workload get, quota get, quota set and quota delete only");
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "--cgroup", "", NULL), -EINVAL);
	assert_non_null(strstr(err, "option --cgroup needs a cgroup v2 directory"));
	assert_int_equal(parse(&a, err, NULL, "quota", "get", "--cgroup", NULL), -EINVAL);
	assert_int_equal(parse(&a, err, NULL, "quota", "set", "--cgroup", "a", "--egress-guarantee", "2gbit",
			       "--egress-limit", "1gbit", NULL), -EINVAL);
	assert_string_equal(err, "quota set: --egress-guarantee 2gbit is above --egress-limit 1gbit");
	assert_int_equal(parse(&a, err, NULL, "quota", "delete", "--cgroup", "a", "--priority", "1", NULL), -EINVAL);
	assert_non_null(strstr(err, "work with quota set and policy set only"));
}

static void test_cgroups_find(void **state)
{
	json_t *resp = load(CG_ANSWER), *cgroups = json_object_get(resp, "cgroups");
	const json_t *c;
	char out[64], err[256];

	/* lexical: repeated and trailing '/' and "." dropped; ".." and the root refused */
	assert_int_equal(cgroup_path_normalise("system.slice//./x.service/", out, sizeof(out)), 0);
	assert_string_equal(out, "system.slice/x.service");
	assert_int_equal(cgroup_path_normalise("//sys/fs/cgroup/./a/", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/a");
	assert_int_equal(cgroup_path_normalise("a/../b", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_path_normalise("/", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_path_normalise("./", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_path_normalise("abcdef", out, 4), -EINVAL);

	/* relative against "cgroup", absolute against "cgroupDir" */
	assert_int_equal(netctl_cgroups_find(cgroups, "system.slice/backup.service/", &c, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "cgroupId")), 4242);
	assert_int_equal(netctl_cgroups_find(cgroups, "/sys/fs/cgroup/unified//batch.slice", &c, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "cgroupId")), 77);
	/* a prefix is not the cgroup, nor is another mount's path */
	assert_int_equal(netctl_cgroups_find(cgroups, "system.slice", &c, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "cgroup system.slice has no quota on this host (netctl quota set --cgroup system.slice "
				 "gives it one)");
	assert_int_equal(netctl_cgroups_find(cgroups, "/sys/fs/cgroup/batch.slice", &c, err, sizeof(err)), -ENOENT);
	assert_int_equal(netctl_cgroups_find(cgroups, "../etc", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad cgroup path '../etc'"));
	/* an older shoald sends no list */
	assert_int_equal(netctl_cgroups_find(NULL, "batch.slice", &c, err, sizeof(err)), -ENOENT);
	json_decref(resp);
}

/* workload list: the cgroups after the pods, cgroup:PATH as their id, the pod columns -. */
static void test_format_workloads_cgroups(void **state)
{
	json_t *resp = load(CG_ANSWER);
	json_t *all = netctl_workloads_with_cgroups(json_object_get(resp, "workloads"), json_object_get(resp, "cgroups"));
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(json_array_size(all), 3);
	assert_int_equal(netctl_format_workloads(all, NETCTL_FORMAT_HEADERS, f), 0);
	fclose(f);
	assert_string_equal(text,
		"CONTAINER ID                         IFNAME   ADDRESS          NAMESPACE   POD     STATE\n"
		"web-2                                eth0     10.244.3.11/24   default     web-2   active\n"
		"cgroup:batch.slice                   -        -                -           -       -\n"
		"cgroup:system.slice/backup.service   -        -                -           -       -\n");
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(netctl_format_workloads(all, NETCTL_FORMAT_WIDE, f), 0);
	fclose(f);
	/* the columns a cgroup has a value for: CREATED and its share */
	{
		const char *row = strstr(text, "cgroup:system.slice/backup.service ");
		char *words[20];
		int n = 0;

		assert_non_null(row);
		for (char *w = strtok(strndup(row, strcspn(row, "\n")), " "); w && n < 20; w = strtok(NULL, " "))
			words[n++] = w;
		assert_int_equal(n, 16);
		assert_string_equal(words[9], "2025-11-22T01:46:40Z");
		assert_string_equal(words[11], "1mbit");
		assert_string_equal(words[14], "40mbit");
		assert_string_equal(words[15], "6");
		free(words[0]);
	}
	free(text);
	/* --namespace and --pod leave the cgroups out */
	{
		json_t *only = netctl_workloads_filter(all, "default", NULL);

		assert_int_equal(json_array_size(only), 1);
		json_decref(only);
	}
	json_decref(all);
	json_decref(resp);
}

static void test_run_cgroup(void **state)
{
	static const char *const set_ok[] = {
		CG_ANSWER, "{\"ok\":true,\"cgroup\":" CG_ENTRY_A "}",
	};
	static const char *const set_new[] = {
		CG_ANSWER, "{\"ok\":true,\"cgroup\":" CG_ENTRY_B "}",
	};
	static const char *const set_gone[] = {
		CG_ANSWER, "{\"ok\":false,\"code\":3,\"msg\":\"no such cgroup\",\"details\":\"/sys/fs/cgroup/unified/x: no such cgroup\"}",
	};
	static const char *const set_bad_answer[] = { CG_ANSWER, "{\"ok\":true}" };
	struct fake f;
	struct run_out r;
	json_t *req, *got;

	/* quota get: relative and absolute; a cgroup without a quota exits 1 */
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "quota", "get", "--cgroup", "system.slice/backup.service", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
		"Cgroup:            system.slice/backup.service\n"
		"Ingress guarantee: 1mbit (default)\n"
		"Ingress limit:     200mbit (default)\n"
		"Egress guarantee:  20mbit\n"
		"Egress limit:      40mbit\n"
		"Priority:          6\n"
		"Policy:            -\n");
	run_free(&r);
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "quota", "get", "--cgroup", "/sys/fs/cgroup/unified/batch.slice/", "-o", "json", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_json_equal(got, "{\"kind\":\"cgroup\",\"cgroup\":\"batch.slice\",\"cgroupDir\":\"/sys/fs/cgroup/unified/batch.slice\","
			       "\"cgroupId\":77,\"bandwidth\":null,\"bandwidthAsked\":{},\"policy\":\"batch\"}");
	json_decref(got);
	run_free(&r);
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "quota", "get", "--cgroup", "system.slice", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: cgroup system.slice has no quota on this host (netctl quota set --cgroup "
				   "system.slice gives it one)\n");
	run_free(&r);

	/* quota set on a cgroup with a quota: the flags over what it asked, the path as given */
	fake_start_n(&f, set_ok, 2, true);
	run(&r, f.path, "quota", "set", "--cgroup", "system.slice//backup.service", "--egress-guarantee", "default",
	    "--ingress-limit", "100mbit", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_int_equal(f.served, 2);
	assert_json_equal(req, "{\"op\":\"quota\",\"cgroup\":\"system.slice//backup.service\",\"bandwidth\":{\"ingress\":"
			       "{\"limit\":100000000},\"egress\":{\"limit\":40000000},\"priority\":6}}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Cgroup:            system.slice/backup.service\n"));
	run_free(&r);

	/* a cgroup without a quota: from nothing asked; a bare set sends {} (the defaults) */
	fake_start_n(&f, set_new, 2, true);
	run(&r, f.path, "quota", "set", "--cgroup", "batch2.slice", "-o", "json", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"quota\",\"cgroup\":\"batch2.slice\",\"bandwidth\":{}}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	got = load(r.out);
	assert_string_equal(json_string_value(json_object_get(got, "cgroupDir")), "/sys/fs/cgroup/unified/batch.slice");
	json_decref(got);
	run_free(&r);
	fake_start_n(&f, set_new, 2, true);
	run(&r, f.path, "quota", "set", "--cgroup", "new.slice", "--priority", "3", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"quota\",\"cgroup\":\"new.slice\",\"bandwidth\":{\"priority\":3}}");
	json_decref(req);
	run_free(&r);

	/* shoald's refusal, and an answer without the entry */
	fake_start_n(&f, set_gone, 2, true);
	run(&r, f.path, "quota", "set", "--cgroup", "x", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.err, "netctl: shoald: no such cgroup: /sys/fs/cgroup/unified/x: no such cgroup (code 3)\n");
	run_free(&r);
	fake_start_n(&f, set_bad_answer, 2, true);
	run(&r, f.path, "quota", "set", "--cgroup", "x", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "has no \"cgroup\""));
	run_free(&r);

	/* quota delete: one request, the path normalised in what is printed */
	fake_start(&f, "{\"ok\":true}", true);
	run(&r, f.path, "quota", "delete", "--cgroup", "./system.slice/backup.service/", NULL);
	req = load(f.request);
	fake_stop(&f);
	assert_json_equal(req, "{\"op\":\"quotaDelete\",\"cgroup\":\"./system.slice/backup.service/\"}");
	json_decref(req);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "quota of cgroup system.slice/backup.service deleted\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":true}", true);
	run(&r, f.path, "quota", "rm", "--cgroup", "/sys/fs/cgroup/unified/a", "-o", "yaml", NULL);
	fake_stop(&f);
	assert_string_equal(r.out, "cgroup: /sys/fs/cgroup/unified/a\n");
	run_free(&r);
	fake_start(&f, "{\"ok\":false,\"code\":3,\"msg\":\"no such cgroup\",\"details\":\"cgroup a has no quota on node n1\"}", true);
	run(&r, f.path, "quota", "delete", "--cgroup", "a", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "netctl: shoald: no such cgroup: cgroup a has no quota on node n1 (code 3)\n");
	run_free(&r);

	/* workload list and get */
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "workload", "list", "--no-headers", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out,
		"web-2                                eth0   10.244.3.11/24   default   web-2   active\n"
		"cgroup:batch.slice                   -      -                -         -       -\n"
		"cgroup:system.slice/backup.service   -      -                -         -       -\n");
	run_free(&r);
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "workload", "list", "-o", "json", NULL);
	fake_stop(&f);
	got = load(r.out);
	assert_int_equal(json_array_size(got), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 1), "cgroup")), "batch.slice");
	json_decref(got);
	run_free(&r);
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "workload", "get", "--cgroup", "system.slice/backup.service", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Cgroup:            system.slice/backup.service\n"
				      "Cgroup dir:        /sys/fs/cgroup/unified/system.slice/backup.service\n"
				      "Cgroup ID:         4242\n"
				      "Class:             300\n"
				      "Created:           2025-11-22T01:46:40Z ("));
	assert_non_null(strstr(r.out, "Egress limit:      40mbit\n"));
	assert_null(strstr(r.out, "kind"));
	run_free(&r);
	/* only cgroups: a filter finds nothing, and no "older shoald" warning for the cgroups */
	fake_start(&f, "{\"ok\":true,\"workloads\":[],\"cgroups\":[" CG_ENTRY_B "]}", true);
	run(&r, f.path, "workload", "list", "-n", "default", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out, "CONTAINER ID   IFNAME   ADDRESS   NAMESPACE   POD   STATE\n");
	run_free(&r);
	fake_start(&f, CG_ANSWER, true);
	run(&r, f.path, "workload", "get", "--cgroup", "nope", NULL);
	fake_stop(&f);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err, "cgroup nope has no quota on this host"));
	run_free(&r);
}

/* top: a cgroup is matched by its path between two answers and shown as cgroup:PATH. */
static void test_top_cgroup(void **state)
{
	json_t *prev = load("[" CG_ENTRY_A "]"), *cur = load("[" CG_ENTRY_A "]"), *sample, *w;
	char *text = NULL;
	size_t len;
	FILE *f;

	json_object_set_new(json_object_get(json_object_get(json_array_get(cur, 0), "counters"), "egress"), "bytes",
			    json_integer(1000 + 2500000));
	sample = netctl_top_sample(prev, cur, 2000, 1764657601234LL);
	assert_non_null(sample);
	w = json_array_get(json_object_get(sample, "workloads"), 0);
	assert_json_equal(w, "{\"kind\":\"cgroup\",\"cgroup\":\"system.slice/backup.service\",\"bitRate\":10000000,"
			     "\"ingress\":{\"bitRate\":0,\"packetRate\":0,\"bytes\":0,\"packets\":0,\"drops\":0,\"overlimits\":0,"
			     "\"borrows\":0,\"guaranteeBitRate\":1000000,\"limitBitRate\":200000000},"
			     "\"egress\":{\"bitRate\":10000000,\"packetRate\":0,\"bytes\":2500000,\"packets\":0,\"drops\":0,"
			     "\"overlimits\":0,\"borrows\":0,\"guaranteeBitRate\":20000000,\"limitBitRate\":40000000}}");
	f = open_memstream(&text, &len);
	assert_int_equal(netctl_top_format(sample, 0, f), 0);
	fclose(f);
	assert_string_equal(text, "cgroup:system.slice/backup.service   -   0bit   1mbit/200mbit   10.0mbit   "
				  "20mbit/40mbit   0   0\n");
	free(text);
	json_decref(sample);
	json_decref(prev);
	json_decref(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_defaults),
		cmocka_unit_test(test_args_commands),
		cmocka_unit_test(test_args_socket_precedence),
		cmocka_unit_test(test_args_output_forms),
		cmocka_unit_test(test_args_flags),
		cmocka_unit_test(test_args_timeout),
		cmocka_unit_test(test_args_help_levels),
		cmocka_unit_test(test_args_usage_errors),
		cmocka_unit_test(test_args_version_and_get),
		cmocka_unit_test(test_args_watch),
		cmocka_unit_test(test_args_filters),
		cmocka_unit_test(test_format_workloads),
		cmocka_unit_test(test_format_workloads_same_id_and_empty),
		cmocka_unit_test(test_format_control_chars),
		cmocka_unit_test(test_format_subnets),
		cmocka_unit_test(test_format_subnets_wide),
		cmocka_unit_test(test_format_workload_detail),
		cmocka_unit_test(test_format_time_version_lines),
		cmocka_unit_test(test_format_status),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_json_sorted),
		cmocka_unit_test(test_yaml_plain_rules),
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_collections),
		cmocka_unit_test(test_workloads_filter),
		cmocka_unit_test(test_workloads_find),
		cmocka_unit_test(test_workloads_find_many_candidates),
		cmocka_unit_test(test_run_status),
		cmocka_unit_test(test_run_request_and_json),
		cmocka_unit_test(test_run_api_error),
		cmocka_unit_test(test_args_cluster_commands),
		cmocka_unit_test(test_format_hosts),
		cmocka_unit_test(test_format_network),
		cmocka_unit_test(test_run_release_leave),
		cmocka_unit_test(test_run_unreachable),
		cmocka_unit_test(test_run_version),
		cmocka_unit_test(test_run_workload_get),
		cmocka_unit_test(test_run_workload_list_pods),
		cmocka_unit_test(test_run_yaml_wide_status_subnets),
		cmocka_unit_test(test_run_watch),
		cmocka_unit_test(test_run_usage_help_version),
		cmocka_unit_test(test_args_quota),
		cmocka_unit_test(test_quota_merge),
		cmocka_unit_test(test_quota_request_and_units),
		cmocka_unit_test(test_format_status_bandwidth),
		cmocka_unit_test(test_format_workloads_bandwidth),
		cmocka_unit_test(test_format_quota),
		cmocka_unit_test(test_run_quota_get),
		cmocka_unit_test(test_run_quota_set),
		cmocka_unit_test(test_run_status_workloads_bandwidth),
		cmocka_unit_test(test_top_sample),
		cmocka_unit_test(test_top_format),
		cmocka_unit_test(test_args_top),
		cmocka_unit_test(test_run_top),
		cmocka_unit_test(test_args_policy),
		cmocka_unit_test(test_policy_keys_and_names),
		cmocka_unit_test(test_policy_requests),
		cmocka_unit_test(test_format_policies),
		cmocka_unit_test(test_format_policy),
		cmocka_unit_test(test_run_policy),
		cmocka_unit_test(test_run_quota_policy),
		cmocka_unit_test(test_args_cgroup),
		cmocka_unit_test(test_cgroups_find),
		cmocka_unit_test(test_format_workloads_cgroups),
		cmocka_unit_test(test_run_cgroup),
		cmocka_unit_test(test_top_cgroup),
	};

	return cmocka_run_group_tests_name("netctl", tests, NULL, NULL);
}
