/* The CNI side of the plugin: spec versions, the error object, the environment (CNI_*), CNI_ARGS and
 * the network configuration on stdin.  Everything here is parsing and validation without I/O, so it
 * can be unit-tested and fuzzed on its own (STYLE rule 12): parse into plain structs first,
 * validate second, and every failure fills a struct cni_error that names the variable or key. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CNI_MAX_CONFIG (1u << 20)              /* stdin larger than 1 MiB is refused */
#define CNI_DEFAULT_STATE_DIR "/var/lib/shoal"
#define CNI_DEFAULT_TIMEOUT_MS 30000
#define CNI_MAX_TIMEOUT_MS 600000
#define CNI_PLUGIN_ABOUT "CNI plugin shoal (client of shoald)"
#define CNI_NETNS_MAX 255                      /* CNI_NETNS longer than this is refused (code 4) */
#define CNI_NETWORK_NAME_MAX 255               /* a longer "name" is refused (code 7) */

/* Spec versions we speak, oldest first, so they can be compared with < and >=. */
enum cni_version {
	CNI_VERSION_UNKNOWN = -1,
	CNI_VERSION_0_3_0 = 0,
	CNI_VERSION_0_3_1,
	CNI_VERSION_0_4_0,
	CNI_VERSION_1_0_0,
	CNI_VERSION_1_1_0,
	CNI_VERSION_COUNT,
};
#define CNI_VERSION_LATEST CNI_VERSION_1_1_0

enum cni_command {
	CNI_CMD_NONE = 0,
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
	CNI_CMD_VERSION,
};

/* The spec's error result: {"cniVersion","code","msg","details"}. */
struct cni_error {
	int code;
	char msg[512];
	char details[1024];
};

/* Set code and message (printf-style); details are set separately.  Returns -EINVAL so callers can
 * `return cni_error_set(...)`. */
int cni_error_set(struct cni_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cni_error_details(struct cni_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The error object in the spec's format for version v (CNI_VERSION_UNKNOWN: the latest). */
json_t *cni_error_json(const struct cni_error *err, enum cni_version v);

/* Quote a user-supplied value for a message: "..." with non-printable and non-ASCII bytes escaped
 * as \xNN and long values cut to 64 bytes, so messages stay short, readable and valid UTF-8. */
const char *cni_quote(const char *s, char *buf, size_t size);
#define CNI_QUOTE_SIZE 300

/* "an object", "an integer", "a number", "null", ... for messages. */
const char *cni_json_type_name(const json_t *j);

enum cni_version cni_version_parse(const char *s);
const char *cni_version_string(enum cni_version v);
/* "0.3.0, 0.3.1, ..." for messages. */
const char *cni_versions_supported_text(void);
json_t *cni_versions_supported_json(void);

enum cni_command cni_command_parse(const char *s);
const char *cni_command_string(enum cni_command c);

/* The CNI_* environment.  Strings are borrowed (from environ or the test); NULL = not set.  The
 * spec treats an empty variable like a missing one, and so do we. */
struct cni_env {
	enum cni_command cmd;
	const char *command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args;
	const char *path;
};

/* Fill the raw strings from getenv(); validation is cni_env_validate(). */
void cni_env_from_environ(struct cni_env *ret);
/* Check CNI_COMMAND, then that every variable the spec requires for that command is set (all missing
 * ones named in one message), then the values: code 4 for all of these.  CNI_IFNAME follows
 * names_cni_ifname_valid() for ADD and CHECK and names_ifname_valid() for DEL (an attachment made
 * by an older version under a name now refused must stay deletable); CNI_NETNS (ADD, CHECK) is an
 * absolute path of at most CNI_NETNS_MAX bytes. */
int cni_env_validate(struct cni_env *env, struct cni_error *err);

/* CNI_ARGS "K=V;K=V" into a JSON object {"K":"V",...}.  NULL or "" gives an empty object.  Empty
 * segments (";;", a trailing ';') are skipped; every other segment needs exactly one '=', a
 * non-empty key of [A-Za-z0-9_.-] and a value without '='.  The last of duplicate keys wins.
 * Malformed: code 6 naming the segment. */
int cni_args_parse(const char *s, json_t **ret_obj, struct cni_error *err);

/* The network configuration of one invocation.  Strings point into root, which conf owns. */
struct cni_conf {
	json_t *root;
	enum cni_version version;
	const char *name;
	const char *type;
	const char *socket;        /* default IPC_DEFAULT_SOCKET */
	const char *state_dir;     /* default CNI_DEFAULT_STATE_DIR */
	int timeout_ms;            /* default CNI_DEFAULT_TIMEOUT_MS */
	int mtu;                   /* 0 = shoald's */
	/* "defaultRoute", default true.  false: shoald routes only the cluster network via the gateway
	 * in the container and leaves the default route to another network's plugin. */
	bool default_route;
	const json_t *prev_result; /* borrowed from root, NULL when absent */
	/* GC: the still-valid attachments (cni.dev/valid-attachments, else the legacy
	 * cni.dev/attachments), validated; NULL when neither key is present. */
	const json_t *valid_attachments;
};

/* Parse and validate len bytes of configuration.  Codes: 6 not JSON / not an object, 1 missing or
 * unsupported cniVersion, 7 everything else (missing name/type, wrong types or values of our keys,
 * an integer anywhere beyond what jansson holds, int64: the message names its key).
 * Keys we do not know are ignored. */
int cni_conf_parse(const char *data, size_t len, struct cni_conf *ret, struct cni_error *err);
void cni_conf_done(struct cni_conf *conf);
/* Only the cniVersion of a config, for VERSION and for the version of an error result.
 * CNI_VERSION_UNKNOWN when the data is no JSON object or carries no supported version. */
enum cni_version cni_conf_peek_version(const char *data, size_t len);
