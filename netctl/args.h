/* netctl's command line: parsed into a plain struct first, acted on second (netctl/run.c). */
#pragma once
#include "lib/version.h"
#include "netctl/policy.h"
#include "netctl/quota.h"
#include <stdbool.h>
#include <stddef.h>

#define NETCTL_VERSION SHOAL_VERSION
#define NETCTL_DEFAULT_TIMEOUT_MS 5000
#define NETCTL_DEFAULT_INTERVAL_MS 2000
#define NETCTL_TOP_INTERVAL_MS 1000

/* Exit codes (docs/netctl.md).  Scripts depend on them: never renumber. */
enum {
	NETCTL_EXIT_OK = 0,
	NETCTL_EXIT_API = 1,          /* shoald answered with an error, or with something unusable */
	NETCTL_EXIT_USAGE = 2,        /* bad command line */
	NETCTL_EXIT_UNREACHABLE = 3,  /* no answer from shoald: no socket, refused, denied, timeout */
};

/* A command, and also the topic of a help text.  The groups (SUBNET, HOST, NETWORK, NODE, WORKLOAD,
 * QUOTA, POLICY) are only help topics: they need a verb to run. */
enum netctl_topic {
	NETCTL_TOPIC_TOP,
	NETCTL_TOPIC_STATUS,
	NETCTL_TOPIC_SUBNET,
	NETCTL_TOPIC_SUBNET_LIST,
	NETCTL_TOPIC_SUBNET_RELEASE,
	NETCTL_TOPIC_HOST,
	NETCTL_TOPIC_HOST_LIST,
	NETCTL_TOPIC_NETWORK,
	NETCTL_TOPIC_NETWORK_SHOW,
	NETCTL_TOPIC_NODE,
	NETCTL_TOPIC_NODE_LEAVE,
	NETCTL_TOPIC_WORKLOAD,
	NETCTL_TOPIC_WORKLOAD_LIST,
	NETCTL_TOPIC_WORKLOAD_GET,
	NETCTL_TOPIC_QUOTA,
	NETCTL_TOPIC_QUOTA_GET,
	NETCTL_TOPIC_QUOTA_SET,
	NETCTL_TOPIC_QUOTA_DELETE,
	NETCTL_TOPIC_POLICY,
	NETCTL_TOPIC_POLICY_LIST,
	NETCTL_TOPIC_POLICY_SET,
	NETCTL_TOPIC_POLICY_DELETE,
	NETCTL_TOPIC_TOP_COMMAND,     /* `netctl top` (NETCTL_TOPIC_TOP is netctl itself) */
	NETCTL_TOPIC_VERSION,
	NETCTL_N_TOPICS,
};

enum netctl_action {
	NETCTL_ACTION_RUN,
	NETCTL_ACTION_HELP,
	NETCTL_ACTION_VERSION,
};

enum netctl_output {
	NETCTL_OUTPUT_TABLE,
	NETCTL_OUTPUT_JSON,
	NETCTL_OUTPUT_YAML,
	NETCTL_OUTPUT_WIDE,       /* a table with more columns; key/value views are the same as table */
};

struct netctl_args {
	enum netctl_action action;
	enum netctl_topic topic;      /* the command to run, or the help topic */
	enum netctl_output output;
	const char *socket;           /* borrowed: argv, the environment or the default */
	int timeout_ms;               /* 0 = wait forever */
	bool no_headers;
	bool no_trunc;
	const char *id;               /* workload get, quota get/set: container id or a prefix of it (argv) */
	const char *ifname;           /* workload get, quota get/set: NULL when not given */
	const char *cgroup;           /* --cgroup: workload get, quota get/set/delete name a cgroup v2
	                               * directory instead of a container (argv; never with id) */
	const char *filter_namespace; /* workload list --namespace; NULL: no filter */
	const char *filter_pod;       /* workload list --pod; NULL: no filter */
	const char *subnet;           /* subnet release: the subnet (borrowed: argv) */
	bool force;                   /* subnet release --force: a live lease too */
	bool watch;                   /* -w/--watch: sample again every interval_ms */
	int interval_ms;              /* > 0; top: NETCTL_TOP_INTERVAL_MS unless given */
	unsigned count;               /* --count: stop after this many samples (top: frames); 0 = until
	                               * interrupted */
	struct netctl_quota_change quota;  /* quota set, policy set: the rate flags and --priority */
	const char *policy;           /* policy set/delete: the policy's name (argv) */
	struct netctl_policy_match match;  /* policy set: --match terms, or --all */
};

/* Parse argv (argv[0] is skipped).  env_socket is $SHOAL_SOCKET (NULL or "" when unset).  On a
 * usage error returns -EINVAL and writes a one-line message (without "netctl: ") to err. */
int netctl_args_parse(int argc, char *const *argv, const char *env_socket, struct netctl_args *ret,
		      char *err, size_t err_size);

/* "5", "2.5s", "500ms", "1m" -> milliseconds; a bare number is seconds.  0 means no limit. */
int netctl_parse_timeout(const char *s, int *ret_ms);
/* Format a message into err (when err_size > 0) and return -EINVAL: the argument parsers' failure. */
int netctl_args_fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The man-page style help of a topic. */
const char *netctl_help_text(enum netctl_topic topic);
