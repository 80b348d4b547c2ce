/* Unit tests of the CNI plugin's parsing, validation and result conversion (cni-plugin/cni.c,
 * cni-plugin/result.c, cni-plugin/bandwidth.c).  No root, no daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin/bandwidth.h"
#include "cni-plugin/cni.h"
#include "cni-plugin/result.h"
#include "lib/cnierr.h"

static json_t *must_parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("bad JSON in test: %s: %s", e.text, text);
	return j;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
	json_t *want = must_parse(want_text);

	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);

		print_error("got:  %s\nwant: %s\n", g, w);
		free(g);
		free(w);
		json_decref(want);
		fail();
	}
	json_decref(want);
}

/* ---- versions, commands, quoting, error JSON ---- */

static void test_versions(void **state)
{
	assert_int_equal(cni_version_parse("0.3.0"), CNI_VERSION_0_3_0);
	assert_int_equal(cni_version_parse("0.3.1"), CNI_VERSION_0_3_1);
	assert_int_equal(cni_version_parse("0.4.0"), CNI_VERSION_0_4_0);
	assert_int_equal(cni_version_parse("1.0.0"), CNI_VERSION_1_0_0);
	assert_int_equal(cni_version_parse("1.1.0"), CNI_VERSION_1_1_0);
	assert_int_equal(cni_version_parse("0.2.0"), CNI_VERSION_UNKNOWN);
	assert_int_equal(cni_version_parse("1.0"), CNI_VERSION_UNKNOWN);
	assert_int_equal(cni_version_parse("1.1.0 "), CNI_VERSION_UNKNOWN);
	assert_int_equal(cni_version_parse(""), CNI_VERSION_UNKNOWN);
	assert_int_equal(cni_version_parse(NULL), CNI_VERSION_UNKNOWN);
	for (int v = 0; v < CNI_VERSION_COUNT; v++)
		assert_int_equal(cni_version_parse(cni_version_string((enum cni_version)v)), v);
	json_t *a = cni_versions_supported_json();
	assert_json_eq(a, "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]");
	json_decref(a);
}

static void test_commands(void **state)
{
	assert_int_equal(cni_command_parse("ADD"), CNI_CMD_ADD);
	assert_int_equal(cni_command_parse("DEL"), CNI_CMD_DEL);
	assert_int_equal(cni_command_parse("CHECK"), CNI_CMD_CHECK);
	assert_int_equal(cni_command_parse("STATUS"), CNI_CMD_STATUS);
	assert_int_equal(cni_command_parse("GC"), CNI_CMD_GC);
	assert_int_equal(cni_command_parse("VERSION"), CNI_CMD_VERSION);
	assert_int_equal(cni_command_parse("add"), CNI_CMD_NONE);
	assert_int_equal(cni_command_parse("INIT"), CNI_CMD_NONE);
	assert_int_equal(cni_command_parse(""), CNI_CMD_NONE);
	assert_string_equal(cni_command_string(CNI_CMD_GC), "GC");
}

static void test_quote(void **state)
{
	char buf[CNI_QUOTE_SIZE], small[10];
	char longv[300];

	assert_string_equal(cni_quote("eth0", buf, sizeof(buf)), "\"eth0\"");
	assert_string_equal(cni_quote("a\"b\\", buf, sizeof(buf)), "\"a\\\"b\\\\\"");
	assert_string_equal(cni_quote("a\nb\xff", buf, sizeof(buf)), "\"a\\x0ab\\xff\"");
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	cni_quote(longv, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 64 + 3 + 2);
	assert_non_null(strstr(buf, "...\""));
	cni_quote(longv, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(small[strlen(small) - 1], '"');
}

static void test_error_json(void **state)
{
	struct cni_error err;
	json_t *j;

	cni_error_set(&err, CNI_ERR_INVALID_CONFIG, "bad %s", "thing");
	cni_error_details(&err, "more about %d", 7);
	j = cni_error_json(&err, CNI_VERSION_0_4_0);
	assert_json_eq(j, "{\"cniVersion\":\"0.4.0\",\"code\":7,\"msg\":\"bad thing\",\"details\":\"more about 7\"}");
	json_decref(j);
	/* Unknown version: the latest; no details: empty string, the key stays. */
	cni_error_set(&err, SHOAL_ERR_NO_ADDRESS, "full");
	j = cni_error_json(&err, CNI_VERSION_UNKNOWN);
	assert_json_eq(j, "{\"cniVersion\":\"1.1.0\",\"code\":102,\"msg\":\"full\",\"details\":\"\"}");
	json_decref(j);
	/* A message cut inside a UTF-8 sequence still gives a JSON string. */
	cni_error_set(&err, 100, "x\xc3");
	j = cni_error_json(&err, CNI_VERSION_1_0_0);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "x?");
	json_decref(j);
}

/* ---- environment ---- */

struct env_case {
	const char *name;
	struct cni_env env;
	int code;               /* 0 = valid */
	const char *substr;
};

static void test_env(void **state)
{
	static char long_id[258], netns255[256], netns256[257];
	const struct env_case cases[] = {
		{ "add ok", { .command = "ADD", .container_id = "c1", .netns = "/var/run/netns/x", .ifname = "eth0" }, 0, NULL },
		{ "add ok with args and path", { .command = "ADD", .container_id = "abc_1.2-3", .netns = "/proc/1/ns/net",
		  .ifname = "net1", .args = "A=b", .path = "/opt/cni/bin" }, 0, NULL },
		{ "del without netns", { .command = "DEL", .container_id = "c1", .ifname = "eth0" }, 0, NULL },
		{ "del with relative netns (not used)", { .command = "DEL", .container_id = "c1", .ifname = "eth0", .netns = "x" }, 0, NULL },
		{ "version alone", { .command = "VERSION" }, 0, NULL },
		{ "status alone", { .command = "STATUS" }, 0, NULL },
		{ "gc with path", { .command = "GC", .path = "/usr/lib/cni" }, 0, NULL },
		{ "no command", { .container_id = "c1" }, 4, "CNI_COMMAND is not set" },
		{ "empty command", { .command = "" }, 4, "CNI_COMMAND is not set" },
		{ "unknown command", { .command = "FROB" }, 4, "CNI_COMMAND \"FROB\" is not a known command" },
		{ "lower-case command", { .command = "add" }, 4, "not a known command" },
		{ "add missing all", { .command = "ADD" }, 4, "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME" },
		{ "add missing netns", { .command = "ADD", .container_id = "c1", .ifname = "eth0" }, 4, "missing for ADD: CNI_NETNS" },
		{ "add empty netns", { .command = "ADD", .container_id = "c1", .ifname = "eth0", .netns = "" }, 4, "CNI_NETNS" },
		{ "add missing ifname", { .command = "ADD", .container_id = "c1", .netns = "/n" }, 4, "missing for ADD: CNI_IFNAME" },
		{ "add missing container id", { .command = "ADD", .ifname = "eth0", .netns = "/n" }, 4, "missing for ADD: CNI_CONTAINERID" },
		{ "check missing netns", { .command = "CHECK", .container_id = "c1", .ifname = "eth0" }, 4, "missing for CHECK: CNI_NETNS" },
		{ "del missing ifname", { .command = "DEL", .container_id = "c1" }, 4, "missing for DEL: CNI_IFNAME" },
		{ "del missing container id", { .command = "DEL", .ifname = "eth0" }, 4, "missing for DEL: CNI_CONTAINERID" },
		{ "gc missing path", { .command = "GC" }, 4, "missing for GC: CNI_PATH" },
		{ "ifname with slash", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "a/b" }, 4,
		  "CNI_IFNAME \"a/b\" is not a valid interface name" },
		{ "ifname with colon", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "eth0:1" }, 4, "CNI_IFNAME" },
		{ "ifname with space", { .command = "DEL", .container_id = "c1", .ifname = "eth 0" }, 4, "CNI_IFNAME" },
		{ "ifname dot", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "." }, 4, "CNI_IFNAME" },
		{ "ifname dotdot", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = ".." }, 4, "CNI_IFNAME" },
		{ "ifname 16 bytes", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "abcdefghijklmnop" }, 4, "CNI_IFNAME" },
		{ "ifname control char", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "e\x01" }, 4, "\\x01" },
		{ "container id with slash", { .command = "ADD", .container_id = "../etc", .netns = "/n", .ifname = "eth0" }, 4,
		  "CNI_CONTAINERID \"../etc\" is not a valid container id" },
		{ "container id leading dash", { .command = "DEL", .container_id = "-c", .ifname = "eth0" }, 4, "CNI_CONTAINERID" },
		{ "container id too long", { .command = "DEL", .container_id = long_id, .ifname = "eth0" }, 4, "CNI_CONTAINERID" },
		{ "relative netns", { .command = "ADD", .container_id = "c1", .netns = "netns/x", .ifname = "eth0" }, 4,
		  "CNI_NETNS \"netns/x\" is not an absolute path" },
		/* CNI_IFNAME: names the kernel would take but a container must not get. */
		{ "ifname template", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "e%d" }, 4,
		  "CNI_IFNAME \"e%d\" is not a valid interface name: it contains '%' (a kernel name template)" },
		{ "ifname lo", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "lo" }, 4,
		  "CNI_IFNAME \"lo\" is not a valid interface name: it is the loopback device" },
		{ "ifname all", { .command = "CHECK", .container_id = "c1", .netns = "/n", .ifname = "all" }, 4,
		  "\"all\" is not a valid interface name: it collides with /proc/sys/net/*/conf/" },
		{ "ifname default", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "default" }, 4,
		  "/proc/sys/net/*/conf/" },
		{ "ifname colon says why", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "eth0:1" }, 4,
		  "it contains ':'" },
		{ "ifname 16 bytes says why", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "abcdefghijklmnop" }, 4,
		  "it is longer than 15 bytes" },
		{ "ifname lo0 is fine", { .command = "ADD", .container_id = "c1", .netns = "/n", .ifname = "lo0" }, 0, NULL },
		/* DEL must still reach attachments an older version created under such names. */
		{ "del ifname template", { .command = "DEL", .container_id = "c1", .ifname = "e%d" }, 0, NULL },
		{ "del ifname all", { .command = "DEL", .container_id = "c1", .ifname = "all" }, 0, NULL },
		{ "del ifname colon", { .command = "DEL", .container_id = "c1", .ifname = "e:1" }, 4,
		  "CNI_IFNAME \"e:1\" is not a valid interface name: it contains ':'" },
		/* CNI_NETNS: shoald's record holds 255 bytes; never cut. */
		{ "netns 255 bytes", { .command = "ADD", .container_id = "c1", .netns = netns255, .ifname = "eth0" }, 0, NULL },
		{ "netns 256 bytes", { .command = "ADD", .container_id = "c1", .netns = netns256, .ifname = "eth0" }, 4,
		  "is longer than 255 bytes" },
		{ "check netns 256 bytes", { .command = "CHECK", .container_id = "c1", .netns = netns256, .ifname = "eth0" }, 4,
		  "CNI_NETNS \"/nnnn" },
		{ "del netns 256 bytes (not used)", { .command = "DEL", .container_id = "c1", .netns = netns256, .ifname = "eth0" }, 0, NULL },
		{ "netns not UTF-8", { .command = "ADD", .container_id = "c1", .netns = "/run/netns/\xff", .ifname = "eth0" }, 4,
		  "CNI_NETNS \"/run/netns/\\xff\" is not valid UTF-8" },
	};
	int failed = 0;

	memset(long_id, 'a', 257);   /* one byte over names_container_id_valid()'s 256 */
	memset(netns255, 'n', 255);
	netns255[0] = '/';
	memset(netns256, 'n', 256);
	netns256[0] = '/';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_env env = cases[i].env;
		struct cni_error err = { 0 };
		int r = cni_env_validate(&env, &err);

		if (cases[i].code == 0 && r != 0) {
			print_error("%s: unexpected error %d %s\n", cases[i].name, err.code, err.msg);
			failed++;
		} else if (cases[i].code != 0 && (r == 0 || err.code != cases[i].code || !strstr(err.msg, cases[i].substr))) {
			print_error("%s: want code %d with \"%s\", got r=%d code %d \"%s\"\n", cases[i].name, cases[i].code,
				    cases[i].substr, r, err.code, err.msg);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_env_from_environ(void **state)
{
	struct cni_env env;

	setenv("CNI_COMMAND", "DEL", 1);
	setenv("CNI_CONTAINERID", "c9", 1);
	setenv("CNI_IFNAME", "eth1", 1);
	setenv("CNI_NETNS", "", 1);
	unsetenv("CNI_ARGS");
	unsetenv("CNI_PATH");
	cni_env_from_environ(&env);
	assert_string_equal(env.command, "DEL");
	assert_string_equal(env.container_id, "c9");
	assert_string_equal(env.ifname, "eth1");
	assert_null(env.netns);   /* empty = unset */
	assert_null(env.args);
	unsetenv("CNI_COMMAND");
	unsetenv("CNI_CONTAINERID");
	unsetenv("CNI_IFNAME");
	unsetenv("CNI_NETNS");
}

/* ---- CNI_ARGS ---- */

static void test_args_good(void **state)
{
	const struct { const char *in, *want; } cases[] = {
		{ NULL, "{}" },
		{ "", "{}" },
		{ "A=1", "{\"A\":\"1\"}" },
		{ "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc",
		  "{\"IgnoreUnknown\":\"1\",\"K8S_POD_NAMESPACE\":\"default\",\"K8S_POD_NAME\":\"web-0\","
		  "\"K8S_POD_INFRA_CONTAINER_ID\":\"abc\"}" },
		{ "A=", "{\"A\":\"\"}" },
		{ "A=1;", "{\"A\":\"1\"}" },
		{ ";;A=1;;B=2", "{\"A\":\"1\",\"B\":\"2\"}" },
		{ "A=1;A=2", "{\"A\":\"2\"}" },
		{ "a.b-c_d=x y/z:w", "{\"a.b-c_d\":\"x y/z:w\"}" },
		{ "K=v\xc3\xa4", "{\"K\":\"v\xc3\xa4\"}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_error err = { 0 };
		json_t *obj = NULL;

		if (cni_args_parse(cases[i].in, &obj, &err) != 0)
			fail_msg("CNI_ARGS %s: %s", cases[i].in, err.msg);
		assert_json_eq(obj, cases[i].want);
		json_decref(obj);
	}
}

static void test_args_bad(void **state)
{
	char longkey[300];
	const struct { const char *in, *substr; } cases[] = {
		{ "A", "pair \"A\" has no '='" },
		{ "A=1;B", "pair \"B\" has no '='" },
		{ "A=1=2", "pair \"A=1=2\" has more than one '='" },
		{ "=1", "pair \"=1\" has an empty key" },
		{ "A B=1", "key of pair \"A B=1\" has invalid characters" },
		{ "A/B=1", "invalid characters" },
		{ "A=1;;=", "empty key" },
		{ "K=\xff\xfe", "not valid UTF-8" },
		{ "K\xc3\xa4=1", "invalid characters" },
		{ longkey, "longer than 255 bytes" },
	};

	memset(longkey, 'k', 280);
	strcpy(longkey + 280, "=v");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_error err = { 0 };
		json_t *obj = NULL;

		if (cni_args_parse(cases[i].in, &obj, &err) == 0)
			fail_msg("CNI_ARGS %s accepted", cases[i].in);
		assert_null(obj);
		assert_int_equal(err.code, CNI_ERR_DECODE);
		if (!strstr(err.msg, cases[i].substr))
			fail_msg("CNI_ARGS case %zu: want \"%s\" in \"%s\"", i, cases[i].substr, err.msg);
		assert_non_null(strstr(err.details, "KEY=VALUE"));
	}
}

/* ---- network config ---- */

static int parse_text(const char *text, struct cni_conf *conf, struct cni_error *err)
{
	return cni_conf_parse(text, strlen(text), conf, err);
}

static void test_conf_defaults(void **state)
{
	struct cni_conf c;
	struct cni_error err = { 0 };

	assert_int_equal(parse_text("{\"cniVersion\":\"1.1.0\",\"name\":\"net-1\",\"type\":\"shoal\"}", &c, &err), 0);
	assert_int_equal(c.version, CNI_VERSION_1_1_0);
	assert_string_equal(c.name, "net-1");
	assert_string_equal(c.type, "shoal");
	assert_string_equal(c.socket, "/run/shoal/shoald.sock");
	assert_string_equal(c.state_dir, "/var/lib/shoal");
	assert_int_equal(c.timeout_ms, CNI_DEFAULT_TIMEOUT_MS);
	assert_int_equal(c.mtu, 0);
	assert_true(c.default_route);
	assert_null(c.prev_result);
	assert_null(c.valid_attachments);
	cni_conf_done(&c);
	cni_conf_done(NULL);
}

static void test_conf_full(void **state)
{
	const char *text =
		"{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"shoal\",\"socket\":\"/tmp/s.sock\","
		"\"stateDir\":\"/tmp/st\",\"timeoutMs\":1500,\"mtu\":1400,"
		"\"runtimeConfig\":{\"portMappings\":[]},\"args\":{\"cni\":{}},\"capabilities\":{\"portMappings\":true},"
		"\"ipam\":{},\"dns\":{},\"somethingElse\":[1,2],"
		"\"prevResult\":{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\"}]},"
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}";
	struct cni_conf c;
	struct cni_error err = { 0 };

	assert_int_equal(parse_text(text, &c, &err), 0);
	assert_int_equal(c.version, CNI_VERSION_0_4_0);
	assert_string_equal(c.socket, "/tmp/s.sock");
	assert_string_equal(c.state_dir, "/tmp/st");
	assert_int_equal(c.timeout_ms, 1500);
	assert_int_equal(c.mtu, 1400);
	assert_true(c.default_route);
	assert_non_null(c.prev_result);
	assert_int_equal(json_array_size(c.valid_attachments), 1);
	cni_conf_done(&c);

	/* The legacy GC key alone, and prevResult null = absent. */
	assert_int_equal(parse_text("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\",\"prevResult\":null,"
				    "\"cni.dev/attachments\":[]}", &c, &err), 0);
	assert_null(c.prev_result);
	assert_non_null(c.valid_attachments);
	assert_int_equal(json_array_size(c.valid_attachments), 0);
	cni_conf_done(&c);

	/* defaultRoute, both ways. */
	assert_int_equal(parse_text("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\",\"defaultRoute\":false}",
				    &c, &err), 0);
	assert_false(c.default_route);
	cni_conf_done(&c);
	assert_int_equal(parse_text("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\",\"defaultRoute\":true}",
				    &c, &err), 0);
	assert_true(c.default_route);
	cni_conf_done(&c);

	/* A network name of 255 bytes is the longest. */
	char text255[400];
	char name[256];

	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(text255, sizeof(text255), "{\"cniVersion\":\"1.1.0\",\"name\":\"%s\",\"type\":\"shoal\"}", name);
	assert_int_equal(parse_text(text255, &c, &err), 0);
	assert_int_equal(strlen(c.name), 255);
	cni_conf_done(&c);

	/* Both keys: the spec's wins. */
	assert_int_equal(parse_text("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\","
				    "\"cni.dev/attachments\":[],"
				    "\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}", &c, &err), 0);
	assert_int_equal(json_array_size(c.valid_attachments), 1);
	cni_conf_done(&c);
}

struct conf_case {
	const char *text;
	int code;
	const char *substr;
};

#define BASE "\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\""
#define N16 "nnnnnnnnnnnnnnnn"
#define N256 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 "nnnnnnnnnnnnnnn" /* + 1 = 256 */

static void test_conf_bad(void **state)
{
	const struct conf_case cases[] = {
		{ "", 6, "empty" },
		{ "{", 6, "not valid JSON" },
		{ "{\"cniVersion\":\"1.1.0\",}", 6, "not valid JSON" },
		{ "nul\x01l", 6, "not valid JSON" },
		{ "[]", 6, "must be a JSON object, not an array" },
		{ "\"x\"", 6, "not valid JSON" },   /* jansson needs JSON_DECODE_ANY for scalars */
		{ "{\"name\":\"n\",\"type\":\"shoal\"}", 1, "no \"cniVersion\"" },
		{ "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"shoal\"}", 1, "config is \"0.2.0\"" },
		{ "{\"cniVersion\":\"2.0.0\",\"name\":\"n\",\"type\":\"shoal\"}", 1, "incompatible CNI versions" },
		{ "{\"cniVersion\":\"\",\"name\":\"n\",\"type\":\"shoal\"}", 1, "incompatible" },
		{ "{\"cniVersion\":1.1,\"name\":\"n\",\"type\":\"shoal\"}", 1, "\"cniVersion\" must be a string, not a number" },
		{ "{\"cniVersion\":null,\"name\":\"n\",\"type\":\"shoal\"}", 1, "must be a string, not null" },
		{ "{\"cniVersion\":\"1.1.0\",\"type\":\"shoal\"}", 7, "no \"name\"" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":5,\"type\":\"shoal\"}", 7, "\"name\" must be a string, not an integer" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"\",\"type\":\"shoal\"}", 7, "is not a valid network name" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"a/b\",\"type\":\"shoal\"}", 7, "\"a/b\" is not a valid network name" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"-a\",\"type\":\"shoal\"}", 7, "not a valid network name" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\"}", 7, "no \"type\"" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"\"}", 7, "\"type\" must be a non-empty string" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":[]}", 7, "\"type\" must be a non-empty string" },
		{ "{" BASE ",\"socket\":1}", 7, "\"socket\" must be a string, not an integer" },
		{ "{" BASE ",\"socket\":\"\"}", 7, "\"socket\": \"\" is not an absolute path" },
		{ "{" BASE ",\"socket\":\"run/s.sock\"}", 7, "is not an absolute path" },
		{ "{" BASE ",\"socket\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		  7, "longer than 107 bytes" },
		{ "{" BASE ",\"stateDir\":true}", 7, "\"stateDir\" must be a string, not a boolean" },
		{ "{" BASE ",\"stateDir\":\"var/lib\"}", 7, "\"stateDir\": \"var/lib\" is not an absolute path" },
		{ "{" BASE ",\"timeoutMs\":\"5\"}", 7, "\"timeoutMs\" must be an integer, not a string" },
		{ "{" BASE ",\"timeoutMs\":1.5}", 7, "must be an integer, not a number" },
		{ "{" BASE ",\"timeoutMs\":0}", 7, "\"timeoutMs\": 0 is out of range 1..600000" },
		{ "{" BASE ",\"timeoutMs\":-1}", 7, "out of range" },
		{ "{" BASE ",\"timeoutMs\":600001}", 7, "out of range" },
		{ "{" BASE ",\"mtu\":\"1500\"}", 7, "\"mtu\" must be an integer" },
		{ "{" BASE ",\"mtu\":67}", 7, "below 576" },
		{ "{" BASE ",\"mtu\":575}", 7, "below 576" },
		{ "{" BASE ",\"mtu\":65536}", 7, "out of range" },
		{ "{" BASE ",\"prevResult\":[]}", 7, "\"prevResult\" must be an object, not an array" },
		{ "{" BASE ",\"prevResult\":\"x\"}", 7, "\"prevResult\" must be an object" },
		{ "{" BASE ",\"cni.dev/valid-attachments\":{}}", 7, "\"cni.dev/valid-attachments\" must be an array" },
		{ "{" BASE ",\"cni.dev/valid-attachments\":[1]}", 7, "entry 0 must be an object" },
		{ "{" BASE ",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]}", 7, "entry 0 needs string keys" },
		{ "{" BASE ",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"e\"},{\"containerID\":1,\"ifname\":\"e\"}]}",
		  7, "entry 1 needs" },
		{ "{" BASE ",\"cni.dev/attachments\":\"x\"}", 7, "\"cni.dev/attachments\" must be an array" },
		{ "{" BASE ",\"defaultRoute\":\"false\"}", 7, "network config key \"defaultRoute\" must be a boolean, not a string" },
		{ "{" BASE ",\"defaultRoute\":0}", 7, "\"defaultRoute\" must be a boolean, not an integer" },
		{ "{" BASE ",\"defaultRoute\":null}", 7, "\"defaultRoute\" must be a boolean, not null" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\\u00e9t\",\"type\":\"shoal\"}", 7, "\"n\\xc3\\xa9t\" is not a valid network name" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"a b\",\"type\":\"shoal\"}", 7, "network config key \"name\"" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n" N256 "\",\"type\":\"shoal\"}", 7,
		  "network config key \"name\": \"nnnn" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n" N256 "\",\"type\":\"shoal\"}", 7, "is longer than 255 bytes" },
		/* Valid JSON, but beyond jansson's int64 (Go's uint64 takes it): the key is named. */
		{ "{" BASE ",\"runtimeConfig\":{\"bandwidth\":{\"IngressRate\":18446744073709551615}}}", 7,
		  "network config key \"runtimeConfig.bandwidth.IngressRate\": the integer 1.845e+19 is larger than "
		  "9223372036854775807" },
		{ "{" BASE ",\"runtimeConfig\":{\"bandwidth\":{\"egressBurst\":9223372036854775808}}}", 7,
		  "\"runtimeConfig.bandwidth.egressBurst\": the integer" },
		{ "{" BASE ",\"x\":[1,{\"y\":-99999999999999999999}]}", 7, "key \"x[1].y\": the integer -1e+20" },
		/* A real beyond double: jansson cannot read the document at all. */
		{ "{" BASE ",\"runtimeConfig\":{\"bandwidth\":{\"ingressRate\":1e400}}}", 6, "not valid JSON" },
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_conf c = { 0 };
		struct cni_error err = { 0 };
		int r = parse_text(cases[i].text, &c, &err);

		if (r == 0) {
			print_error("case %zu accepted: %s\n", i, cases[i].text);
			cni_conf_done(&c);
			failed++;
		} else if (err.code != cases[i].code || !strstr(err.msg, cases[i].substr)) {
			print_error("case %zu %s: want code %d \"%s\", got %d \"%s\"\n", i, cases[i].text, cases[i].code,
				    cases[i].substr, err.code, err.msg);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_conf_peek_version(void **state)
{
	const char *t = "{\"cniVersion\":\"0.3.1\"}";

	assert_int_equal(cni_conf_peek_version(t, strlen(t)), CNI_VERSION_0_3_1);
	assert_int_equal(cni_conf_peek_version("{", 1), CNI_VERSION_UNKNOWN);
	assert_int_equal(cni_conf_peek_version("", 0), CNI_VERSION_UNKNOWN);
	t = "{\"cniVersion\":\"9.9.9\"}";
	assert_int_equal(cni_conf_peek_version(t, strlen(t)), CNI_VERSION_UNKNOWN);
	/* The error for a too large integer is still given in the config's version. */
	t = "{\"cniVersion\":\"0.4.0\",\"runtimeConfig\":{\"bandwidth\":{\"ingressRate\":99999999999999999999}}}";
	assert_int_equal(cni_conf_peek_version(t, strlen(t)), CNI_VERSION_0_4_0);
}

/* ---- bandwidth: runtimeConfig.bandwidth and SHOAL_* of CNI_ARGS ---- */

/* Parse a config whose runtimeConfig.bandwidth is bw_text (NULL: no runtimeConfig) with CNI_ARGS
 * args; on success *ret is the request's "bandwidth" object (NULL when nothing is set). */
static int bw_parse(const char *bw_text, const char *args, json_t **ret, struct cni_error *err)
{
	struct cni_error e = { 0 };
	struct cni_bandwidth bw;
	struct cni_conf c;
	json_t *a = NULL;
	char *text = NULL;
	int r;

	if (bw_text)
		assert_true(asprintf(&text, "{" BASE ",\"runtimeConfig\":{\"portMappings\":[],\"bandwidth\":%s}}",
				     bw_text) > 0);
	else
		assert_true(asprintf(&text, "{" BASE "}") > 0);
	if (cni_conf_parse(text, strlen(text), &c, &e) < 0)
		fail_msg("config refused: %s: %s", text, e.msg);
	if (cni_args_parse(args, &a, &e) < 0)
		fail_msg("CNI_ARGS refused: %s: %s", args, e.msg);
	*ret = NULL;
	r = cni_bandwidth_parse(c.root, a, &bw, err);
	if (r == 0)
		assert_int_equal(cni_bandwidth_json(&bw, ret), 0);
	json_decref(a);
	cni_conf_done(&c);
	free(text);
	return r;
}

static void bw_expect(const char *bw_text, const char *args, const char *want)
{
	struct cni_error err = { 0 };
	json_t *got;

	if (bw_parse(bw_text, args, &got, &err) < 0)
		fail_msg("%s with CNI_ARGS %s refused: %d %s", bw_text ? bw_text : "(none)", args ? args : "(none)",
			 err.code, err.msg);
	if (!want) {
		if (got)
			fail_msg("%s with CNI_ARGS %s: want no bandwidth object, got %s", bw_text ? bw_text : "(none)",
				 args ? args : "(none)", json_dumps(got, JSON_COMPACT));
		return;
	}
	if (!got)
		fail_msg("%s with CNI_ARGS %s: no bandwidth object, want %s", bw_text ? bw_text : "(none)",
			 args ? args : "(none)", want);
	assert_json_eq(got, want);
	json_decref(got);
}

static void test_bandwidth_runtime_config(void **state)
{
	/* Debian 12's containerd (go-cni's struct without JSON tags): capitalized keys, a burst of
	 * 2^32 - 1, and 0 for the direction without an annotation, which means "not set". */
	bw_expect("{\"IngressRate\":10000000,\"IngressBurst\":4294967295,\"EgressRate\":0,\"EgressBurst\":0}", NULL,
		  "{\"ingress\":{\"limit\":10000000,\"burst\":4294967295}}");
	/* The spelling of libcni's documentation and the reference plugin, with shoal's keys. */
	bw_expect("{\"ingressRate\":200000000,\"ingressBurst\":800000,\"egressRate\":100000000,\"egressBurst\":4294967295,"
		  "\"ingressGuarantee\":50000000,\"egressGuarantee\":100000000,\"priority\":0}", NULL,
		  "{\"ingress\":{\"guarantee\":50000000,\"limit\":200000000,\"burst\":800000},"
		  "\"egress\":{\"guarantee\":100000000,\"limit\":100000000,\"burst\":4294967295},\"priority\":0}");
	/* Any case, as Go's decoder matches. */
	bw_expect("{\"INGRESSRATE\":1000,\"eGrEsSgUaRaNtEe\":7,\"PRIORITY\":3}", NULL,
		  "{\"ingress\":{\"limit\":1000},\"egress\":{\"guarantee\":7},\"priority\":3}");
	/* The largest value the request can carry. */
	bw_expect("{\"egressRate\":9223372036854775807}", NULL, "{\"egress\":{\"limit\":9223372036854775807}}");
	/* A burst alone is passed on (shoald only ever lowers htb's burst with it). */
	bw_expect("{\"ingressBurst\":4294967295}", NULL, "{\"ingress\":{\"burst\":4294967295}}");
	/* Nothing set: no object at all, so the request is what it was without bandwidth. */
	bw_expect(NULL, NULL, NULL);
	bw_expect("{}", NULL, NULL);
	bw_expect("null", NULL, NULL);
	bw_expect("{\"IngressRate\":0,\"IngressBurst\":0,\"EgressRate\":0,\"EgressBurst\":0}", NULL, NULL);
	bw_expect("{\"ingressRate\":null,\"priority\":null}", NULL, NULL);
	/* The reference plugin's subnet lists are not ours: ignored (shoal shapes all traffic). */
	bw_expect("{\"egressRate\":5000,\"unshapedSubnets\":[\"10.0.0.0/8\"]}", NULL, "{\"egress\":{\"limit\":5000}}");
}

static void test_bandwidth_cni_args(void **state)
{
	/* tc's units (quota_parse_rate): decimal, binary, bytes per second, fractions. */
	bw_expect(NULL, "K8S_POD_NAME=web-0;SHOAL_INGRESS_LIMIT=100mbit;SHOAL_EGRESS_GUARANTEE=1.5gbit;"
		  "SHOAL_EGRESS_LIMIT=10gbps;SHOAL_INGRESS_GUARANTEE=64kibit;SHOAL_PRIORITY=7",
		  "{\"ingress\":{\"guarantee\":65536,\"limit\":100000000},"
		  "\"egress\":{\"guarantee\":1500000000,\"limit\":80000000000},\"priority\":7}");
	bw_expect(NULL, "SHOAL_INGRESS_LIMIT=2500", "{\"ingress\":{\"limit\":2500}}");
	bw_expect(NULL, "SHOAL_INGRESS_LIMIT=9223372036854775807bit", "{\"ingress\":{\"limit\":9223372036854775807}}");
	bw_expect(NULL, "SHOAL_PRIORITY=0", "{\"priority\":0}");
	/* 0 is not set, as in runtimeConfig. */
	bw_expect(NULL, "SHOAL_INGRESS_LIMIT=0;SHOAL_EGRESS_GUARANTEE=0mbit", NULL);
	/* CNI_ARGS win, key by key; the burst and the other keys stay. */
	bw_expect("{\"IngressRate\":10000000,\"IngressBurst\":4294967295,\"EgressRate\":30000000,\"priority\":1}",
		  "SHOAL_INGRESS_LIMIT=20mbit;SHOAL_PRIORITY=5",
		  "{\"ingress\":{\"limit\":20000000,\"burst\":4294967295},\"egress\":{\"limit\":30000000},\"priority\":5}");
	/* A guarantee from CNI_ARGS under a limit from runtimeConfig. */
	bw_expect("{\"egressRate\":30000000}", "SHOAL_EGRESS_GUARANTEE=30mbit",
		  "{\"egress\":{\"guarantee\":30000000,\"limit\":30000000}}");
	/* An unset value (0) overrides nothing: a limit cannot be lifted that way. */
	bw_expect("{\"ingressRate\":10000000}", "SHOAL_INGRESS_LIMIT=0", "{\"ingress\":{\"limit\":10000000}}");
	/* Guarantee and limit are checked after merging: the CNI_ARGS limit makes room for the
	 * runtimeConfig guarantee (one below it is refused, test_bandwidth_bad). */
	bw_expect("{\"ingressRate\":10000000,\"ingressGuarantee\":20000000}", "SHOAL_INGRESS_LIMIT=20mbit",
		  "{\"ingress\":{\"guarantee\":20000000,\"limit\":20000000}}");
}

static void test_bandwidth_bad(void **state)
{
	const struct {
		const char *bw, *args;
		int code;
		const char *substr;
	} cases[] = {
		{ "{\"ingressRate\":-1}", NULL, 7, "network config key \"runtimeConfig.bandwidth.ingressRate\": -1 is negative" },
		{ "{\"IngressBurst\":-4294967295}", NULL, 7, "\"runtimeConfig.bandwidth.IngressBurst\": -4294967295 is negative" },
		{ "{\"egressRate\":\"10M\"}", NULL, 7, "\"runtimeConfig.bandwidth.egressRate\" must be an integer (bit/s), not a string" },
		{ "{\"egressRate\":1.5}", NULL, 7, "\"runtimeConfig.bandwidth.egressRate\" must be an integer (bit/s), not 1.5" },
		{ "{\"egressRate\":1e30}", NULL, 7, "must be an integer (bit/s), not 1e+30" },
		{ "{\"egressRate\":10000000.0}", NULL, 7, "must be an integer (bit/s), not 1e+07" },
		{ "{\"egressBurst\":true}", NULL, 7, "\"runtimeConfig.bandwidth.egressBurst\" must be an integer (bits), not a boolean" },
		{ "{\"ingressGuarantee\":[1]}", NULL, 7, "\"runtimeConfig.bandwidth.ingressGuarantee\" must be an integer" },
		{ "{\"priority\":8}", NULL, 7, "\"runtimeConfig.bandwidth.priority\": 8 is out of range 0..7" },
		{ "{\"Priority\":-1}", NULL, 7, "\"runtimeConfig.bandwidth.Priority\": -1 is negative" },
		{ "{\"priority\":1.0}", NULL, 7, "\"runtimeConfig.bandwidth.priority\" must be an integer (0..7), not 1" },
		{ "[]", NULL, 7, "network config key \"runtimeConfig.bandwidth\" must be an object, not an array" },
		{ "\"100mbit\"", NULL, 7, "\"runtimeConfig.bandwidth\" must be an object, not a string" },
		{ "{\"ingressRate\":1,\"IngressRate\":2}", NULL, 7, "has both \"ingressRate\" and \"IngressRate\"" },
		{ "{\"ingressRate\":100000000,\"ingressGuarantee\":200000000}", NULL, 7,
		  "ingress guarantee 200mbit (runtimeConfig.bandwidth.ingressGuarantee) exceeds the ingress limit 100mbit "
		  "(runtimeConfig.bandwidth.ingressRate)" },
		{ "{\"EgressRate\":1000,\"EgressGuarantee\":1001}", NULL, 7, "egress guarantee 1001bit" },
		/* CNI_ARGS: code 4, the variable's key named. */
		{ NULL, "SHOAL_INGRESS_LIMIT=fast", 4, "CNI_ARGS: SHOAL_INGRESS_LIMIT \"fast\" is not a rate" },
		{ NULL, "SHOAL_INGRESS_LIMIT=", 4, "SHOAL_INGRESS_LIMIT \"\" is not a rate" },
		{ NULL, "SHOAL_EGRESS_LIMIT=-1mbit", 4, "SHOAL_EGRESS_LIMIT \"-1mbit\" is not a rate" },
		{ NULL, "SHOAL_EGRESS_LIMIT=1e9", 4, "SHOAL_EGRESS_LIMIT \"1e9\" is not a rate" },
		{ NULL, "SHOAL_EGRESS_LIMIT=100 mbit", 4, "is not a rate" },
		{ NULL, "SHOAL_EGRESS_LIMIT=100zbit", 4, "is not a rate" },
		{ NULL, "SHOAL_INGRESS_GUARANTEE=18446744073709551616", 4,
		  "SHOAL_INGRESS_GUARANTEE \"18446744073709551616\" is above 9223372036854775807 bit/s" },
		{ NULL, "SHOAL_INGRESS_GUARANTEE=10000000tbit", 4, "is above 9223372036854775807 bit/s" },
		{ NULL, "SHOAL_INGRESS_GUARANTEE=9223372036854775808", 4, "is above 9223372036854775807 bit/s" },
		{ NULL, "SHOAL_EGRESS_GUARANTEE=0.5bit", 4, "SHOAL_EGRESS_GUARANTEE \"0.5bit\" is less than 1 bit/s" },
		{ NULL, "SHOAL_PRIORITY=8", 4, "CNI_ARGS: SHOAL_PRIORITY \"8\" is not a priority 0..7" },
		{ NULL, "SHOAL_PRIORITY=-1", 4, "SHOAL_PRIORITY \"-1\" is not a priority" },
		{ NULL, "SHOAL_PRIORITY=", 4, "SHOAL_PRIORITY \"\" is not a priority" },
		{ NULL, "SHOAL_PRIORITY=1.0", 4, "is not a priority" },
		{ NULL, "SHOAL_PRIORITY=high", 4, "is not a priority" },
		{ NULL, "SHOAL_INGRESS_LIMIT=10mbit;SHOAL_INGRESS_GUARANTEE=11mbit", 4,
		  "ingress guarantee 11mbit (SHOAL_INGRESS_GUARANTEE) exceeds the ingress limit 10mbit (SHOAL_INGRESS_LIMIT)" },
		/* Across the two sources: 4 when either value came from CNI_ARGS. */
		{ "{\"ingressRate\":100000000}", "SHOAL_INGRESS_GUARANTEE=200mbit", 4,
		  "ingress guarantee 200mbit (SHOAL_INGRESS_GUARANTEE) exceeds the ingress limit 100mbit "
		  "(runtimeConfig.bandwidth.ingressRate)" },
		{ "{\"egressGuarantee\":80000000}", "SHOAL_EGRESS_LIMIT=50mbit", 4,
		  "egress guarantee 80mbit (runtimeConfig.bandwidth.egressGuarantee) exceeds the egress limit 50mbit "
		  "(SHOAL_EGRESS_LIMIT)" },
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_error err = { 0 };
		json_t *got = NULL;

		if (bw_parse(cases[i].bw, cases[i].args, &got, &err) == 0) {
			print_error("case %zu accepted: %s / %s\n", i, cases[i].bw ? cases[i].bw : "-",
				    cases[i].args ? cases[i].args : "-");
			json_decref(got);
			failed++;
		} else if (err.code != cases[i].code || !strstr(err.msg, cases[i].substr)) {
			print_error("case %zu %s / %s: want code %d \"%s\", got %d \"%s\"\n", i, cases[i].bw ? cases[i].bw : "-",
				    cases[i].args ? cases[i].args : "-", cases[i].code, cases[i].substr, err.code, err.msg);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* A config with NUL bytes inside: jansson refuses \u0000 in strings and raw NULs end the text. */
static void test_conf_embedded_nul(void **state)
{
	const char text[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\0x\",\"type\":\"shoal\"}";
	struct cni_conf c;
	struct cni_error err = { 0 };

	assert_int_not_equal(cni_conf_parse(text, sizeof(text) - 1, &c, &err), 0);
	assert_int_equal(err.code, CNI_ERR_DECODE);
	const char esc[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\\u0000x\",\"type\":\"shoal\"}";
	assert_int_not_equal(cni_conf_parse(esc, sizeof(esc) - 1, &c, &err), 0);
	assert_int_equal(err.code, CNI_ERR_DECODE);
}

/* ---- results ---- */

/* shoald's answer (docs/api.md) minus "ok", with every 1.1.0 field used once. */
static const char *shoald_result =
	"{\"interfaces\":[{\"name\":\"shv1a2b3c4d5e6f\",\"mac\":\"aa:bb:cc:dd:ee:01\",\"mtu\":1450},"
	"{\"name\":\"eth0\",\"mac\":\"be:ef:00:00:00:02\",\"mtu\":1450,\"sandbox\":\"/var/run/netns/c1\"}],"
	"\"ips\":[{\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":1}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\",\"mtu\":1450,\"priority\":10}],"
	"\"dns\":{}}";

static void convert_expect(const char *in, enum cni_version v, const char *want)
{
	json_t *src = must_parse(in), *out = NULL;
	char msg[256];

	if (cni_result_validate(src, msg, sizeof(msg)) < 0)
		fail_msg("input invalid: %s", msg);
	assert_int_equal(cni_result_convert(src, v, &out), 0);
	assert_json_eq(out, want);
	/* Every converted result is valid again and converts to itself (round trip). */
	if (cni_result_validate(out, msg, sizeof(msg)) < 0)
		fail_msg("output invalid: %s", msg);
	json_t *again = NULL;
	assert_int_equal(cni_result_convert(out, v, &again), 0);
	assert_true(json_equal(again, out));
	json_decref(again);
	json_decref(out);
	json_decref(src);
}

static void test_result_v0(void **state)
{
	static const char *body =
		"\"interfaces\":[{\"name\":\"shv1a2b3c4d5e6f\",\"mac\":\"aa:bb:cc:dd:ee:01\"},"
		"{\"name\":\"eth0\",\"mac\":\"be:ef:00:00:00:02\",\"sandbox\":\"/var/run/netns/c1\"}],"
		"\"ips\":[{\"version\":\"4\",\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":1}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\"}]}";
	char want[1024];

	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.3.0\",%s", body);
	convert_expect(shoald_result, CNI_VERSION_0_3_0, want);
	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.3.1\",%s", body);
	convert_expect(shoald_result, CNI_VERSION_0_3_1, want);
	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.4.0\",%s", body);
	convert_expect(shoald_result, CNI_VERSION_0_4_0, want);
}

static void test_result_v1(void **state)
{
	convert_expect(shoald_result, CNI_VERSION_1_0_0,
		       "{\"cniVersion\":\"1.0.0\","
		       "\"interfaces\":[{\"name\":\"shv1a2b3c4d5e6f\",\"mac\":\"aa:bb:cc:dd:ee:01\"},"
		       "{\"name\":\"eth0\",\"mac\":\"be:ef:00:00:00:02\",\"sandbox\":\"/var/run/netns/c1\"}],"
		       "\"ips\":[{\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":1}],"
		       "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\"}]}");
	convert_expect(shoald_result, CNI_VERSION_1_1_0,
		       "{\"cniVersion\":\"1.1.0\","
		       "\"interfaces\":[{\"name\":\"shv1a2b3c4d5e6f\",\"mac\":\"aa:bb:cc:dd:ee:01\",\"mtu\":1450},"
		       "{\"name\":\"eth0\",\"mac\":\"be:ef:00:00:00:02\",\"mtu\":1450,\"sandbox\":\"/var/run/netns/c1\"}],"
		       "\"ips\":[{\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":1}],"
		       "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\",\"mtu\":1450,\"priority\":10}]}");
}

/* Down and up again: 1.1 -> 0.4 -> 1.0 loses only what 0.4 cannot carry. */
static void test_result_chain_of_versions(void **state)
{
	json_t *src = must_parse(shoald_result), *v04 = NULL, *v10 = NULL, *direct = NULL;

	assert_int_equal(cni_result_convert(src, CNI_VERSION_0_4_0, &v04), 0);
	assert_int_equal(cni_result_convert(v04, CNI_VERSION_1_0_0, &v10), 0);
	assert_int_equal(cni_result_convert(src, CNI_VERSION_1_0_0, &direct), 0);
	assert_true(json_equal(v10, direct));
	json_decref(src);
	json_decref(v04);
	json_decref(v10);
	json_decref(direct);
}

static void test_result_ipv6_and_dns(void **state)
{
	convert_expect("{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
		       "\"ips\":[{\"address\":\"fd00::5/64\",\"gateway\":\"fd00::1\",\"interface\":0},"
		       "{\"address\":\"10.0.0.5/24\"}],"
		       "\"routes\":[{\"dst\":\"::/0\"}],"
		       "\"dns\":{\"nameservers\":[\"10.0.0.1\"],\"domain\":\"\",\"search\":[],\"options\":[\"ndots:5\"]}}",
		       CNI_VERSION_0_3_1,
		       "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
		       "\"ips\":[{\"version\":\"6\",\"address\":\"fd00::5/64\",\"gateway\":\"fd00::1\",\"interface\":0},"
		       "{\"version\":\"4\",\"address\":\"10.0.0.5/24\"}],"
		       "\"routes\":[{\"dst\":\"::/0\"}],"
		       "\"dns\":{\"nameservers\":[\"10.0.0.1\"],\"options\":[\"ndots:5\"]}}");
	/* Nothing at all: just the version (empty lists are left out, as libcni does). */
	convert_expect("{\"interfaces\":[],\"ips\":[],\"dns\":{}}", CNI_VERSION_1_1_0, "{\"cniVersion\":\"1.1.0\"}");
}

static void test_result_validate_bad(void **state)
{
	const struct { const char *text, *substr; } cases[] = {
		{ "[]", "result must be an object" },
		{ "{\"cniVersion\":1}", "cniVersion must be a string" },
		{ "{\"interfaces\":{}}", "interfaces must be an array" },
		{ "{\"interfaces\":[1]}", "interfaces[0] must be an object" },
		{ "{\"interfaces\":[{}]}", "interfaces[0].name must be a non-empty string" },
		{ "{\"interfaces\":[{\"name\":\"\"}]}", "interfaces[0].name" },
		{ "{\"interfaces\":[{\"name\":\"e\",\"mac\":1}]}", "interfaces[0].mac must be a string" },
		{ "{\"interfaces\":[{\"name\":\"e\",\"sandbox\":[]}]}", "interfaces[0].sandbox must be a string" },
		{ "{\"interfaces\":[{\"name\":\"e\",\"mtu\":-1}]}", "interfaces[0].mtu must be a non-negative integer" },
		{ "{\"ips\":\"x\"}", "ips must be an array" },
		{ "{\"ips\":[{}]}", "ips[0].address must be a string" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1\"}]}", "ips[0].address \"10.0.0.1\" is not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/33\"}]}", "not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/\"}]}", "not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/024\"}]}", "not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"fd00::1/129\"}]}", "not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"x/24\"}]}", "not an address in CIDR" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"fd00::1\"}]}", "ips[0].gateway must be an IPv4" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":5}]}", "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":0}]}", "ips[0].interface must be an index" },
		{ "{\"interfaces\":[{\"name\":\"e\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":-1}]}", "interface must be an index" },
		{ "{\"interfaces\":[{\"name\":\"e\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":\"0\"}]}", "interface must be an index" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/24\",\"version\":\"6\"}]}", "ips[0].version must be \"4\"" },
		{ "{\"ips\":[{\"address\":\"10.0.0.1/24\",\"version\":4}]}", "ips[0].version" },
		{ "{\"routes\":[{}]}", "routes[0].dst must be a string" },
		{ "{\"routes\":[{\"dst\":\"default\"}]}", "routes[0].dst \"default\" is not a prefix" },
		{ "{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"::1\"}]}", "routes[0].gw must be an IPv4" },
		{ "{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"table\":\"main\"}]}", "routes[0].table must be a non-negative" },
		{ "{\"dns\":[]}", "dns must be an object" },
		{ "{\"dns\":{\"nameservers\":\"1.1.1.1\"}}", "dns.nameservers must be an array" },
		{ "{\"dns\":{\"search\":[1]}}", "dns.search[0] must be a string" },
		{ "{\"dns\":{\"domain\":[]}}", "dns.domain must be a string" },
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = must_parse(cases[i].text);
		char msg[256] = "";

		if (cni_result_validate(j, msg, sizeof(msg)) == 0 || !strstr(msg, cases[i].substr)) {
			print_error("%s: want \"%s\", got \"%s\"\n", cases[i].text, cases[i].substr, msg);
			failed++;
		}
		json_decref(j);
	}
	assert_int_equal(failed, 0);
}

/* shoal chained after another plugin (say, a 0.4.0 macvlan-like one with one interface). */
static void test_result_merge(void **state)
{
	json_t *prev = must_parse(
		"{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"net0\",\"sandbox\":\"/var/run/netns/c1\"}],"
		"\"ips\":[{\"version\":\"4\",\"address\":\"192.168.1.5/24\",\"interface\":0}],"
		"\"routes\":[{\"dst\":\"192.168.0.0/16\"}],"
		"\"dns\":{\"nameservers\":[\"192.168.1.1\"],\"domain\":\"lan\"}}");
	json_t *ours = must_parse(
		"{\"interfaces\":[{\"name\":\"shv1\",\"mac\":\"aa:00:00:00:00:01\"},{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/c1\"}],"
		"\"ips\":[{\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":1}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\"}],"
		"\"dns\":{\"nameservers\":[\"192.168.1.1\",\"10.244.0.10\"],\"domain\":\"cluster\",\"search\":[\"svc\"]}}");
	json_t *merged = NULL, *out = NULL;
	char msg[256];

	assert_int_equal(cni_result_merge(prev, ours, &merged), 0);
	assert_int_equal(cni_result_validate(merged, msg, sizeof(msg)), 0);
	assert_int_equal(cni_result_convert(merged, CNI_VERSION_0_4_0, &out), 0);
	assert_json_eq(out,
		       "{\"cniVersion\":\"0.4.0\","
		       "\"interfaces\":[{\"name\":\"net0\",\"sandbox\":\"/var/run/netns/c1\"},"
		       "{\"name\":\"shv1\",\"mac\":\"aa:00:00:00:00:01\"},{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/c1\"}],"
		       "\"ips\":[{\"version\":\"4\",\"address\":\"192.168.1.5/24\",\"interface\":0},"
		       "{\"version\":\"4\",\"address\":\"10.244.3.7/24\",\"gateway\":\"10.244.3.1\",\"interface\":2}],"
		       "\"routes\":[{\"dst\":\"192.168.0.0/16\"},{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.3.1\"}],"
		       "\"dns\":{\"nameservers\":[\"192.168.1.1\",\"10.244.0.10\"],\"domain\":\"lan\",\"search\":[\"svc\"]}}");
	/* The inputs are untouched. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(ours, "ips"), 0), "interface")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(prev, "dns"), "nameservers")), 1);
	json_decref(out);
	json_decref(merged);

	/* An empty prevResult ({"cniVersion": ...} only) gives our own result. */
	json_t *empty = must_parse("{\"cniVersion\":\"1.0.0\"}"), *direct = NULL;

	assert_int_equal(cni_result_merge(empty, ours, &merged), 0);
	assert_int_equal(cni_result_convert(merged, CNI_VERSION_1_0_0, &out), 0);
	assert_int_equal(cni_result_convert(ours, CNI_VERSION_1_0_0, &direct), 0);
	assert_true(json_equal(out, direct));
	json_decref(out);
	json_decref(direct);
	json_decref(merged);
	json_decref(empty);
	json_decref(prev);
	json_decref(ours);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_env_from_environ),
		cmocka_unit_test(test_args_good),
		cmocka_unit_test(test_args_bad),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_full),
		cmocka_unit_test(test_conf_bad),
		cmocka_unit_test(test_conf_peek_version),
		cmocka_unit_test(test_conf_embedded_nul),
		cmocka_unit_test(test_bandwidth_runtime_config),
		cmocka_unit_test(test_bandwidth_cni_args),
		cmocka_unit_test(test_bandwidth_bad),
		cmocka_unit_test(test_result_v0),
		cmocka_unit_test(test_result_v1),
		cmocka_unit_test(test_result_chain_of_versions),
		cmocka_unit_test(test_result_ipv6_and_dns),
		cmocka_unit_test(test_result_validate_bad),
		cmocka_unit_test(test_result_merge),
	};

	return cmocka_run_group_tests_name("cni", tests, NULL, NULL);
}
