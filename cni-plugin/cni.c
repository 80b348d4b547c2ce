#include "cni-plugin/cni.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/cnierr.h"
#include "lib/ipc.h"
#include "lib/names.h"

static const char *const version_names[CNI_VERSION_COUNT] = {
	[CNI_VERSION_0_3_0] = "0.3.0",
	[CNI_VERSION_0_3_1] = "0.3.1",
	[CNI_VERSION_0_4_0] = "0.4.0",
	[CNI_VERSION_1_0_0] = "1.0.0",
	[CNI_VERSION_1_1_0] = "1.1.0",
};

static const char *const command_names[] = {
	[CNI_CMD_ADD] = "ADD",
	[CNI_CMD_DEL] = "DEL",
	[CNI_CMD_CHECK] = "CHECK",
	[CNI_CMD_STATUS] = "STATUS",
	[CNI_CMD_GC] = "GC",
	[CNI_CMD_VERSION] = "VERSION",
};

int cni_error_set(struct cni_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->details[0] = '\0';
	return -EINVAL;
}

void cni_error_details(struct cni_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
}

/* A JSON string from text that may have been cut mid-way through a UTF-8 sequence (fixed buffers)
 * or come from elsewhere: jansson refuses invalid UTF-8, so fall back to an ASCII copy. */
static json_t *safe_string(const char *s)
{
	char buf[1024];
	json_t *j = json_string(s);
	size_t i;

	if (j)
		return j;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

json_t *cni_error_json(const struct cni_error *err, enum cni_version v)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (v == CNI_VERSION_UNKNOWN)
		v = CNI_VERSION_LATEST;
	json_object_set_new(o, "cniVersion", json_string(version_names[v]));
	json_object_set_new(o, "code", json_integer(err->code));
	json_object_set_new(o, "msg", safe_string(err->msg));
	json_object_set_new(o, "details", safe_string(err->details));
	return o;
}

const char *cni_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0, n = 0;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	if (!s) {
		snprintf(buf, size, "(null)");
		return buf;
	}
	buf[o++] = '"';
	for (; *s && o + 6 < size; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n == 64) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (o + 2 > size)
		o = size - 2;
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

enum cni_version cni_version_parse(const char *s)
{
	if (!s)
		return CNI_VERSION_UNKNOWN;
	for (int v = 0; v < CNI_VERSION_COUNT; v++)
		if (strcmp(s, version_names[v]) == 0)
			return (enum cni_version)v;
	return CNI_VERSION_UNKNOWN;
}

const char *cni_version_string(enum cni_version v)
{
	if (v < 0 || v >= CNI_VERSION_COUNT)
		return "unknown";
	return version_names[v];
}

const char *cni_versions_supported_text(void)
{
	return "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0";
}

json_t *cni_versions_supported_json(void)
{
	json_t *a = json_array();

	for (int v = 0; a && v < CNI_VERSION_COUNT; v++)
		json_array_append_new(a, json_string(version_names[v]));
	return a;
}

enum cni_command cni_command_parse(const char *s)
{
	if (!s)
		return CNI_CMD_NONE;
	/* Case-sensitive, as libcni's skel: runtimes send upper case. */
	for (size_t c = CNI_CMD_ADD; c < sizeof(command_names) / sizeof(command_names[0]); c++)
		if (strcmp(s, command_names[c]) == 0)
			return (enum cni_command)c;
	return CNI_CMD_NONE;
}

const char *cni_command_string(enum cni_command c)
{
	if (c <= CNI_CMD_NONE || (size_t)c >= sizeof(command_names) / sizeof(command_names[0]))
		return "?";
	return command_names[c];
}

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void cni_env_from_environ(struct cni_env *ret)
{
	*ret = (struct cni_env){
		.command = env_or_null("CNI_COMMAND"),
		.container_id = env_or_null("CNI_CONTAINERID"),
		.netns = env_or_null("CNI_NETNS"),
		.ifname = env_or_null("CNI_IFNAME"),
		.args = env_or_null("CNI_ARGS"),
		.path = env_or_null("CNI_PATH"),
	};
}

/* Which variables the spec (1.1.0, section 2) requires per command. */
#define REQ_CONTAINERID 0x1
#define REQ_NETNS       0x2
#define REQ_IFNAME      0x4
#define REQ_PATH        0x8

static unsigned required_vars(enum cni_command c)
{
	switch (c) {
	case CNI_CMD_ADD:
	case CNI_CMD_CHECK:
		return REQ_CONTAINERID | REQ_NETNS | REQ_IFNAME;
	case CNI_CMD_DEL:
		return REQ_CONTAINERID | REQ_IFNAME;
	case CNI_CMD_GC:
		return REQ_PATH;
	default:
		return 0;
	}
}

static void append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", n ? ", " : "", s);
}

int cni_env_validate(struct cni_env *env, struct cni_error *err)
{
	char q[CNI_QUOTE_SIZE], missing[128] = "";
	unsigned req;

	if (env->command && *env->command == '\0')
		env->command = NULL;
	if (!env->command) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_COMMAND is not set");
		cni_error_details(err, "%s; set CNI_COMMAND to ADD, DEL, CHECK, STATUS, GC or VERSION",
				  CNI_PLUGIN_ABOUT);
		return -EINVAL;
	}
	env->cmd = cni_command_parse(env->command);
	if (env->cmd == CNI_CMD_NONE) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_COMMAND %s is not a known command",
			      cni_quote(env->command, q, sizeof(q)));
		cni_error_details(err, "known commands: ADD, DEL, CHECK, STATUS, GC, VERSION");
		return -EINVAL;
	}
	/* Empty strings count as unset (the spec's runtimes and skel do the same). */
	if (env->container_id && !*env->container_id)
		env->container_id = NULL;
	if (env->netns && !*env->netns)
		env->netns = NULL;
	if (env->ifname && !*env->ifname)
		env->ifname = NULL;
	if (env->args && !*env->args)
		env->args = NULL;
	if (env->path && !*env->path)
		env->path = NULL;

	req = required_vars(env->cmd);
	if ((req & REQ_CONTAINERID) && !env->container_id)
		append(missing, sizeof(missing), "CNI_CONTAINERID");
	if ((req & REQ_NETNS) && !env->netns)
		append(missing, sizeof(missing), "CNI_NETNS");
	if ((req & REQ_IFNAME) && !env->ifname)
		append(missing, sizeof(missing), "CNI_IFNAME");
	if ((req & REQ_PATH) && !env->path)
		append(missing, sizeof(missing), "CNI_PATH");
	if (missing[0]) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "required environment variables missing for %s: %s",
			      env->command, missing);
		cni_error_details(err, "the CNI spec requires these variables for CNI_COMMAND=%s", env->command);
		return -EINVAL;
	}

	/* Values are checked only where the command uses them: a DEL with a stale CNI_NETNS must not
	 * fail over a variable it never opens. */
	if ((req & REQ_CONTAINERID) && names_container_id_valid(env->container_id) < 0) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_CONTAINERID %s is not a valid container id",
			      cni_quote(env->container_id, q, sizeof(q)));
		cni_error_details(err, "a container id is 1-256 bytes of [A-Za-z0-9_.-] starting with a letter or digit");
		return -EINVAL;
	}
	if (req & REQ_IFNAME) {
		const char *why = "is not valid";
		int r = names_cni_ifname_valid(env->ifname, &why);

		/* ADD and CHECK name a new interface: the strict rule.  DEL only has to find an existing
		 * attachment, which an older version may have created under a name ADD now refuses
		 * ("e%d"): refusing its DEL would leave it (and its address) behind for good. */
		if (r < 0 && env->cmd == CNI_CMD_DEL && names_ifname_valid(env->ifname) == 0)
			r = 0;
		if (r < 0) {
			cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_IFNAME %s is not a valid interface name: it %s",
				      cni_quote(env->ifname, q, sizeof(q)), why);
			cni_error_details(err, "an interface name is 1-15 printable ASCII bytes, not \".\", \"..\", "
					  "\"lo\", \"all\" or \"default\", without '/', ':', '%%' or whitespace");
			return -EINVAL;
		}
	}
	if (req & REQ_NETNS) {
		json_t *utf8;

		if (env->netns[0] != '/') {
			cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is not an absolute path",
				      cni_quote(env->netns, q, sizeof(q)));
			cni_error_details(err, "CNI_NETNS must name a network namespace file, e.g. /var/run/netns/NAME");
			return -EINVAL;
		}
		/* shoald keeps the path in a record field of CNI_NETNS_MAX + 1 bytes: refuse rather than
		 * store a cut path. */
		if (strlen(env->netns) > CNI_NETNS_MAX) {
			cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is longer than %d bytes",
				      cni_quote(env->netns, q, sizeof(q)), CNI_NETNS_MAX);
			cni_error_details(err, "shoald stores the namespace path in a field of %d bytes; use a shorter "
					  "path, e.g. a bind mount under /var/run/netns", CNI_NETNS_MAX + 1);
			return -EINVAL;
		}
		/* It goes to shoald in JSON, which carries only UTF-8. */
		utf8 = json_string(env->netns);
		if (!utf8) {
			cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is not valid UTF-8",
				      cni_quote(env->netns, q, sizeof(q)));
			return -EINVAL;
		}
		json_decref(utf8);
	}
	return 0;
}

static bool arg_key_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

int cni_args_parse(const char *s, json_t **ret_obj, struct cni_error *err)
{
	char q[CNI_QUOTE_SIZE];
	json_t *obj = json_object();

	if (!obj)
		return cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory parsing CNI_ARGS"), -ENOMEM;
	while (s && *s) {
		const char *end = strchr(s, ';'), *eq;
		size_t seglen = end ? (size_t)(end - s) : strlen(s);
		char seg[CNI_QUOTE_SIZE], key[256];
		json_t *val;

		if (seglen == 0)
			goto next;
		eq = memchr(s, '=', seglen);
		/* For messages: the segment alone, not the rest of the variable. */
		snprintf(seg, sizeof(seg), "%.*s", (int)(seglen < 200 ? seglen : 200), s);
		if (!eq) {
			cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: pair %s has no '='", cni_quote(seg, q, sizeof(q)));
			goto fail;
		}
		if (memchr(eq + 1, '=', seglen - (size_t)(eq - s) - 1)) {
			cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: pair %s has more than one '='",
				      cni_quote(seg, q, sizeof(q)));
			goto fail;
		}
		if (eq == s) {
			cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: pair %s has an empty key", cni_quote(seg, q, sizeof(q)));
			goto fail;
		}
		for (const char *p = s; p < eq; p++) {
			if (!arg_key_char((unsigned char)*p)) {
				cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: key of pair %s has invalid characters",
					      cni_quote(seg, q, sizeof(q)));
				goto fail;
			}
		}
		if ((size_t)(eq - s) > 255) {
			cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: key of pair %s is longer than 255 bytes",
				      cni_quote(seg, q, sizeof(q)));
			goto fail;
		}
		/* Keys are short ASCII by now; values must be valid UTF-8 for JSON. */
		val = json_stringn(eq + 1, seglen - (size_t)(eq - s) - 1);
		if (!val) {
			cni_error_set(err, CNI_ERR_DECODE, "CNI_ARGS: value of pair %s is not valid UTF-8",
				      cni_quote(seg, q, sizeof(q)));
			goto fail;
		}
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = '\0';
		json_object_set_new(obj, key, val);
next:
		if (!end)
			break;
		s = end + 1;
	}
	*ret_obj = obj;
	return 0;
fail:
	cni_error_details(err, "CNI_ARGS is a list of KEY=VALUE pairs separated by ';', e.g. \"K8S_POD_NAME=web;IgnoreUnknown=1\"");
	json_decref(obj);
	return -EINVAL;
}

const char *cni_json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* name: "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$" (spec section 1; libcni's ValidateNetworkName), at most
 * CNI_NETWORK_NAME_MAX bytes (shoald keeps it in attachment records). */
static bool network_name_valid(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* An optional boolean key of ours: absent -> def, present -> must be true or false. */
static int conf_bool(json_t *root, const char *key, bool def, bool *ret, struct cni_error *err)
{
	json_t *j = json_object_get(root, key);

	if (!j) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(j)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be a boolean, not %s", key,
			      cni_json_type_name(j));
		return -EINVAL;
	}
	*ret = json_is_true(j);
	return 0;
}

/* An optional string key of ours: absent -> def, present -> must be a string. */
static int conf_string(json_t *root, const char *key, const char *def, const char **ret, struct cni_error *err)
{
	json_t *j = json_object_get(root, key);

	if (!j) {
		*ret = def;
		return 0;
	}
	if (!json_is_string(j)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be a string, not %s", key,
			      cni_json_type_name(j));
		return -EINVAL;
	}
	*ret = json_string_value(j);
	return 0;
}

static int conf_abs_path(json_t *root, const char *key, const char *def, size_t max, const char **ret,
			 struct cni_error *err)
{
	char q[CNI_QUOTE_SIZE];
	const char *s;
	int r;

	r = conf_string(root, key, def, &s, err);
	if (r < 0)
		return r;
	if (s[0] != '/') {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": %s is not an absolute path",
			      key, cni_quote(s, q, sizeof(q)));
		return -EINVAL;
	}
	if (strlen(s) >= max) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": path %s is longer than %zu bytes",
			      key, cni_quote(s, q, sizeof(q)), max - 1);
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

static int conf_int(json_t *root, const char *key, int def, long long min, long long max, int *ret,
		    struct cni_error *err)
{
	json_t *j = json_object_get(root, key);
	long long v;

	if (!j) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(j)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be an integer, not %s", key,
			      cni_json_type_name(j));
		return -EINVAL;
	}
	v = json_integer_value(j);
	if (v < min || v > max) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": %lld is out of range %lld..%lld",
			      key, v, min, max);
		return -EINVAL;
	}
	*ret = (int)v;
	return 0;
}

/* [{"containerID": "...", "ifname": "..."}, ...]: shape only.  Values are not validated against the
 * container id / ifname rules: an entry that cannot exist simply matches nothing in shoald. */
static int conf_attachments(const json_t *a, const char *key, struct cni_error *err)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\" must be an array, not %s", key,
			      cni_json_type_name(a));
		return -EINVAL;
	}
	json_array_foreach(a, i, e) {
		json_t *id = json_object_get(e, "containerID"), *ifn = json_object_get(e, "ifname");

		if (!json_is_object(e)) {
			cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"%s\": entry %zu must be an object, not %s",
				      key, i, cni_json_type_name(e));
			return -EINVAL;
		}
		if (!json_is_string(id) || !json_is_string(ifn)) {
			cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				      "network config key \"%s\": entry %zu needs string keys \"containerID\" and \"ifname\"", key, i);
			return -EINVAL;
		}
	}
	return 0;
}

/* The first number in j whose magnitude is 2^63 or more (j parsed with JSON_DECODE_INT_AS_REAL),
 * its path ("runtimeConfig.bandwidth.ingressRate") in path[len..].  As doubles, integers just below
 * 2^63 (within 512) round to 2^63 too: one of those earlier in the document would be named instead,
 * a value that is as good as out of range anyway. */
static bool find_huge_number(const json_t *j, char *path, size_t len, size_t size, double *ret)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(j)) {
		double d = json_real_value(j);

		if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0) {
			*ret = d;
			return true;
		}
		return false;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) {
			snprintf(path + len, size - len, "%s%s", len ? "." : "", k);
			if (find_huge_number(v, path, strlen(path), size, ret))
				return true;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			snprintf(path + len, size - len, "[%zu]", i);
			if (find_huge_number(v, path, strlen(path), size, ret))
				return true;
		}
	}
	path[len] = '\0';
	return false;
}

/* jansson refuses a whole document for one integer beyond int64 ("too big integer"), though it is
 * valid JSON and Go's uint64 fields take up to 2^64 - 1.  Say which key it is: 7, like any other
 * value of the config we cannot take.  0 when it was something else. */
static int huge_integer_error(const char *data, size_t len, struct cni_error *err)
{
	json_t *root = json_loadb(data, len, JSON_DECODE_INT_AS_REAL, NULL);
	char path[256] = "", q[CNI_QUOTE_SIZE];
	double d;
	int r = 0;

	if (root && find_huge_number(root, path, 0, sizeof(path), &d)) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key %s: the integer %.4g is larger than "
				  "%lld, the largest shoal reads", cni_quote(path, q, sizeof(q)), d, (long long)INT64_MAX);
		cni_error_details(err, "shoal reads JSON integers as signed 64-bit numbers; bandwidth rates are bit/s and "
				  "bursts bits, and 9223372036854775807 bit/s is more than any link");
	}
	json_decref(root);
	return r;
}

enum cni_version cni_conf_peek_version(const char *data, size_t len)
{
	/* Numbers as reals: a huge integer elsewhere must not hide the version. */
	json_t *root = json_loadb(data, len, JSON_DECODE_INT_AS_REAL, NULL);
	enum cni_version v = CNI_VERSION_UNKNOWN;

	if (json_is_object(root))
		v = cni_version_parse(json_string_value(json_object_get(root, "cniVersion")));
	json_decref(root);
	return v;
}

int cni_conf_parse(const char *data, size_t len, struct cni_conf *ret, struct cni_error *err)
{
	struct cni_conf c = { .version = CNI_VERSION_UNKNOWN };
	char q[CNI_QUOTE_SIZE];
	json_error_t jerr;
	json_t *j;
	int r;

	if (len == 0)
		return cni_error_set(err, CNI_ERR_DECODE, "network config on stdin is empty");
	c.root = json_loadb(data, len, 0, &jerr);
	if (!c.root && json_error_code(&jerr) == json_error_numeric_overflow && huge_integer_error(data, len, err) < 0)
		return -EINVAL;
	if (!c.root) {
		cni_error_set(err, CNI_ERR_DECODE, "network config on stdin is not valid JSON: %s at line %d column %d",
			      jerr.text, jerr.line, jerr.column);
		cni_error_details(err, "the runtime must pass the plugin's network configuration as one JSON object on stdin");
		return -EINVAL;
	}
	if (!json_is_object(c.root)) {
		cni_error_set(err, CNI_ERR_DECODE, "network config must be a JSON object, not %s", cni_json_type_name(c.root));
		r = -EINVAL;
		goto fail;
	}

	/* cniVersion first: every other error is reported in it. */
	j = json_object_get(c.root, "cniVersion");
	if (!j) {
		/* libcni reads a missing cniVersion as "0.1.0", which we do not speak. */
		cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "network config has no \"cniVersion\" (means 0.1.0)");
		cni_error_details(err, "plugin supports %s", cni_versions_supported_text());
		r = -EINVAL;
		goto fail;
	}
	if (!json_is_string(j)) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "network config key \"cniVersion\" must be a string, not %s",
			      cni_json_type_name(j));
		cni_error_details(err, "plugin supports %s", cni_versions_supported_text());
		r = -EINVAL;
		goto fail;
	}
	c.version = cni_version_parse(json_string_value(j));
	if (c.version == CNI_VERSION_UNKNOWN) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions: config is %s",
			      cni_quote(json_string_value(j), q, sizeof(q)));
		cni_error_details(err, "plugin supports %s", cni_versions_supported_text());
		r = -EINVAL;
		goto fail;
	}

	j = json_object_get(c.root, "name");
	if (!j) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config has no \"name\"");
		goto fail;
	}
	if (!json_is_string(j)) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"name\" must be a string, not %s",
				  cni_json_type_name(j));
		goto fail;
	}
	c.name = json_string_value(j);
	if (json_string_length(j) > CNI_NETWORK_NAME_MAX) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"name\": %s is longer than %d bytes",
			      cni_quote(c.name, q, sizeof(q)), CNI_NETWORK_NAME_MAX);
		r = -EINVAL;
		goto fail;
	}
	if (!network_name_valid(c.name)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"name\": %s is not a valid network name",
			      cni_quote(c.name, q, sizeof(q)));
		cni_error_details(err, "a network name is [A-Za-z0-9_.-] starting with a letter or digit");
		r = -EINVAL;
		goto fail;
	}

	/* type: the runtime found this binary by it; its value is not ours to check beyond shape. */
	j = json_object_get(c.root, "type");
	if (!j) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config has no \"type\"");
		goto fail;
	}
	if (!json_is_string(j) || json_string_length(j) == 0) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"type\" must be a non-empty string");
		goto fail;
	}
	c.type = json_string_value(j);

	r = conf_abs_path(c.root, "socket", IPC_DEFAULT_SOCKET, sizeof(((struct sockaddr_un *)0)->sun_path),
			  &c.socket, err);
	if (r < 0)
		goto fail;
	/* stateDir/pending-del/<name of at most PENDING_DEL_NAME_MAX>.tmp.<pid> must fit PATH_MAX. */
	r = conf_abs_path(c.root, "stateDir", CNI_DEFAULT_STATE_DIR, 3800, &c.state_dir, err);
	if (r < 0)
		goto fail;
	r = conf_int(c.root, "timeoutMs", CNI_DEFAULT_TIMEOUT_MS, 1, CNI_MAX_TIMEOUT_MS, &c.timeout_ms, err);
	if (r < 0)
		goto fail;
	r = conf_int(c.root, "mtu", 0, 0, 65535, &c.mtu, err);
	if (r < 0)
		goto fail;
	/* shoald's rule (576: the datagram every IPv4 host must accept): refused here before any work. */
	if (c.mtu != 0 && c.mtu < 576) {
		r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"mtu\": %d is below 576, the smallest "
				  "MTU shoal accepts", c.mtu);
		goto fail;
	}

	r = conf_bool(c.root, "defaultRoute", true, &c.default_route, err);
	if (r < 0)
		goto fail;

	j = json_object_get(c.root, "prevResult");
	if (j && !json_is_null(j)) {
		if (!json_is_object(j)) {
			r = cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"prevResult\" must be an object, not %s",
					  cni_json_type_name(j));
			goto fail;
		}
		c.prev_result = j;
	}

	/* GC: the spec's key, and the one libcni also sends because an earlier text of the spec named
	 * it so (containernetworking/cni#1101). */
	j = json_object_get(c.root, "cni.dev/valid-attachments");
	if (j) {
		r = conf_attachments(j, "cni.dev/valid-attachments", err);
		if (r < 0)
			goto fail;
		c.valid_attachments = j;
	} else if ((j = json_object_get(c.root, "cni.dev/attachments"))) {
		r = conf_attachments(j, "cni.dev/attachments", err);
		if (r < 0)
			goto fail;
		c.valid_attachments = j;
	}

	*ret = c;
	return 0;
fail:
	json_decref(c.root);
	return r;
}

void cni_conf_done(struct cni_conf *conf)
{
	if (!conf)
		return;
	json_decref(conf->root);
	conf->root = NULL;
}
