/* netctl: argument parsing, table/JSON formatting (JSON in, text out), and whole runs against a
 * fake shoald (a unix socket answering canned JSON) for the exit codes and messages. */
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

#include "lib/fileio.h"
#include "lib/ipc.h"
#include "netctl/args.h"
#include "netctl/format.h"
#include "netctl/run.h"

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
	assert_int_equal(parse(&a, err, NULL, "status", "-o", "yaml", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown output format 'yaml'"));
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
	for (int t = NETCTL_TOPIC_TOP; t <= NETCTL_TOPIC_WORKLOAD_LIST; t++) {
		assert_non_null(strstr(netctl_help_text(t), "NAME\n"));
		assert_non_null(strstr(netctl_help_text(t), "SYNOPSIS\n"));
	}
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
	assert_string_equal(err, "subnet: missing command (list)");
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
		"  \"netns\":\"/var/run/netns/web-1\",\"network\":\"n\",\"created\":1,\"state\":\"active\"},"
		" {\"containerId\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ifname\":\"net1\","
		"  \"address\":\"10.244.3.7/24\",\"hostVeth\":\"shvffffffffffff\",\"netns\":\"/proc/42/ns/net\",\"state\":\"deleting\"},"
		" {\"containerId\":\"db\",\"ifname\":\"eth0\",\"address\":\"10.244.3.10/24\",\"hostVeth\":\"shv000000000001\"}]");
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, true, false, out));
	assert_string_equal(text,
		"CONTAINER ID   IFNAME   ADDRESS          HOST VETH         NETNS                  STATE\n"
		"0123456789ab   net1     10.244.3.7/24    shvffffffffffff   /proc/42/ns/net        deleting\n"
		"db             eth0     10.244.3.10/24   shv000000000001   -                      -\n"
		"web-1          eth0     10.244.3.8/24    shv0123456789ab   /var/run/netns/web-1   active\n");
	free(text);
	CAPTURE(text, netctl_format_workloads(list, false, true, out));
	assert_string_equal(text,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef   net1   10.244.3.7/24    shvffffffffffff   /proc/42/ns/net        deleting\n"
		"db                                                                 eth0   10.244.3.10/24   shv000000000001   -                      -\n"
		"web-1                                                              eth0   10.244.3.8/24    shv0123456789ab   /var/run/netns/web-1   active\n");
	free(text);
	json_decref(list);
}

static void test_format_workloads_same_id_and_empty(void **state)
{
	json_t *list = load("[{\"containerId\":\"c\",\"ifname\":\"eth1\",\"address\":\"a\",\"hostVeth\":\"h1\",\"netns\":\"n\",\"state\":\"active\"},"
			    " {\"containerId\":\"c\",\"ifname\":\"eth0\",\"address\":\"b\",\"hostVeth\":\"h0\",\"netns\":\"n\",\"state\":\"active\"}]");
	json_t *empty = json_array();
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, false, false, out));
	assert_string_equal(text, "c   eth0   b   h0   n   active\n"
				  "c   eth1   a   h1   n   active\n");
	free(text);
	CAPTURE(text, netctl_format_workloads(empty, true, false, out));
	assert_string_equal(text, "CONTAINER ID   IFNAME   ADDRESS   HOST VETH   NETNS   STATE\n");
	free(text);
	json_decref(list);
	json_decref(empty);
}

static void test_format_control_chars(void **state)
{
	json_t *list = load("[{\"containerId\":\"evil\\u001b[2J\",\"ifname\":\"eth0\",\"address\":\"x\",\"hostVeth\":\"h\","
			    "\"netns\":\"a\\nb\",\"state\":\"active\"}]");
	char *text = NULL;

	CAPTURE(text, netctl_format_workloads(list, false, false, out));
	assert_string_equal(text, "evil?[2J   eth0   x   h   a?b   active\n");
	free(text);
	json_decref(list);
}

static void test_format_subnets(void **state)
{
	json_t *list = load(
		"[{\"subnet\":\"10.244.10.0/24\",\"node\":\"n3\",\"publicIP\":\"198.18.0.3\",\"vtepMAC\":\"02:00:00:00:00:03\",\"leaseTTL\":600,\"self\":false},"
		" {\"subnet\":\"10.244.9.0/24\",\"node\":\"n2\",\"publicIP\":\"\",\"vtepMAC\":\"\",\"leaseTTL\":600,\"self\":true},"
		" {\"subnet\":\"10.244.1.0/24\",\"node\":\"host-one\",\"publicIP\":\"198.18.0.1\",\"vtepMAC\":\"02:00:00:00:00:01\",\"leaseTTL\":45,\"self\":false}]");
	char *text = NULL;

	CAPTURE(text, netctl_format_subnets(list, true, out));
	assert_string_equal(text,
		"SUBNET           NODE       PUBLIC IP    VTEP MAC            LEASE TTL   SELF\n"
		"10.244.1.0/24    host-one   198.18.0.1   02:00:00:00:00:01   45          no\n"
		"10.244.9.0/24    n2         -            -                   600         yes\n"
		"10.244.10.0/24   n3         198.18.0.3   02:00:00:00:00:03   600         no\n");
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

/* ---- whole runs against a fake shoald --------------------------------------------------------- */

struct fake {
	char dir[64];
	char path[128];
	int listen_fd;
	pthread_t thread;
	const char *answer;     /* NULL: accept nothing, so the client times out */
	char *request;          /* what the client sent */
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->listen_fd, NULL, NULL);

	if (c < 0)
		return NULL;
	fd_read_all(c, 1 << 20, &f->request, NULL);
	ipc_send_all(c, f->answer, strlen(f->answer), -1);
	close(c);
	return NULL;
}

static void fake_start(struct fake *f, const char *answer, bool listen_it)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/netctl-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/shoald.sock", f->dir);
	f->answer = answer;
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
	if (answer)
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
	assert_string_equal(r.out, "SUBNET   NODE   PUBLIC IP   VTEP MAC   LEASE TTL   SELF\n");
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
		cmocka_unit_test(test_format_workloads),
		cmocka_unit_test(test_format_workloads_same_id_and_empty),
		cmocka_unit_test(test_format_control_chars),
		cmocka_unit_test(test_format_subnets),
		cmocka_unit_test(test_format_status),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_json_sorted),
		cmocka_unit_test(test_run_status),
		cmocka_unit_test(test_run_request_and_json),
		cmocka_unit_test(test_run_api_error),
		cmocka_unit_test(test_run_unreachable),
		cmocka_unit_test(test_run_usage_help_version),
	};

	return cmocka_run_group_tests_name("netctl", tests, NULL, NULL);
}
