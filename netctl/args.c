#include "netctl/args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/ipc.h"

/* The longest commands: help workload get ID IFNAME, help quota set ID IFNAME. */
#define NETCTL_MAX_WORDS 5

int netctl_args_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int netctl_parse_timeout(const char *s, int *ret_ms)
{
	double v, scale = 1000;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		scale = 1000;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else
		return -EINVAL;
	v *= scale;
	/* An hour is more than any answer of shoald can take; a larger value is a typo. */
	if (v > 3600000)
		return -ERANGE;
	/* A positive timeout below 1 ms would round to 0, which means "no limit". */
	if (v > 0 && v < 1)
		v = 1;
	*ret_ms = (int)(v + 0.5);
	return 0;
}

/* "--name=value", "--name value", and for short options also "-ovalue".  Returns the value and
 * advances *i past a separate value, or NULL when the value is missing. */
static const char *netctl_opt_value(int argc, char *const *argv, int *i, const char *arg, size_t name_len)
{
	if (arg[name_len] == '=')
		return arg + name_len + 1;
	if (arg[1] != '-' && arg[name_len] != '\0')
		return arg + name_len;   /* -ojson */
	if (*i + 1 >= argc)
		return NULL;
	(*i)++;
	return argv[*i];
}

/* Does arg name option `name` (exactly, or with an attached value)? */
static bool netctl_opt_is(const char *arg, const char *name, bool short_attached)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return false;
	return arg[n] == '\0' || arg[n] == '=' || (short_attached && arg[1] != '-');
}

static bool netctl_word_is(const char *w, const char *a, const char *b)
{
	return strcmp(w, a) == 0 || (b && strcmp(w, b) == 0);
}

/* The command groups and their verbs: words[0] words[1]. */
static const struct netctl_verb {
	const char *group, *group_alias;
	enum netctl_topic group_topic;
	const char *verb, *verb_alias;
	enum netctl_topic topic;
	int max_args;                 /* words after the verb */
} netctl_verbs[] = {
	{ "subnet", "subnets", NETCTL_TOPIC_SUBNET, "list", "ls", NETCTL_TOPIC_SUBNET_LIST, 0 },
	{ "subnet", "subnets", NETCTL_TOPIC_SUBNET, "release", NULL, NETCTL_TOPIC_SUBNET_RELEASE, 1 },
	{ "host", "hosts", NETCTL_TOPIC_HOST, "list", "ls", NETCTL_TOPIC_HOST_LIST, 0 },
	{ "network", NULL, NETCTL_TOPIC_NETWORK, "show", NULL, NETCTL_TOPIC_NETWORK_SHOW, 0 },
	{ "node", NULL, NETCTL_TOPIC_NODE, "leave", NULL, NETCTL_TOPIC_NODE_LEAVE, 0 },
	{ "workload", "workloads", NETCTL_TOPIC_WORKLOAD, "list", "ls", NETCTL_TOPIC_WORKLOAD_LIST, 0 },
	{ "workload", "workloads", NETCTL_TOPIC_WORKLOAD, "get", NULL, NETCTL_TOPIC_WORKLOAD_GET, 2 },
	{ "quota", NULL, NETCTL_TOPIC_QUOTA, "get", NULL, NETCTL_TOPIC_QUOTA_GET, 2 },
	{ "quota", NULL, NETCTL_TOPIC_QUOTA, "set", NULL, NETCTL_TOPIC_QUOTA_SET, 2 },
	{ "quota", NULL, NETCTL_TOPIC_QUOTA, "delete", "rm", NETCTL_TOPIC_QUOTA_DELETE, 2 },
	{ "policy", "policies", NETCTL_TOPIC_POLICY, "list", "ls", NETCTL_TOPIC_POLICY_LIST, 0 },
	{ "policy", "policies", NETCTL_TOPIC_POLICY, "set", NULL, NETCTL_TOPIC_POLICY_SET, 1 },
	{ "policy", "policies", NETCTL_TOPIC_POLICY, "delete", "rm", NETCTL_TOPIC_POLICY_DELETE, 1 },
};

/* The commands that name one workload: ID [IFNAME], or --cgroup PATH.  (quota delete takes the
 * words too, to say that a pod's quota cannot be deleted.) */
static bool netctl_topic_names_workload(enum netctl_topic t)
{
	return t == NETCTL_TOPIC_WORKLOAD_GET || t == NETCTL_TOPIC_QUOTA_GET || t == NETCTL_TOPIC_QUOTA_SET ||
	       t == NETCTL_TOPIC_QUOTA_DELETE;
}

static const char *netctl_topic_command(enum netctl_topic t)
{
	switch (t) {
	case NETCTL_TOPIC_WORKLOAD_GET: return "workload get";
	case NETCTL_TOPIC_QUOTA_GET: return "quota get";
	case NETCTL_TOPIC_QUOTA_SET: return "quota set";
	case NETCTL_TOPIC_QUOTA_DELETE: return "quota delete";
	default: return "netctl";
	}
}

/* The workload a command names: a container (ID [IFNAME]) or a cgroup (--cgroup PATH), exactly
 * one of them. */
static int netctl_args_check_target(const struct netctl_args *a, char *err, size_t err_size)
{
	const char *cmd = netctl_topic_command(a->topic);

	if (a->cgroup && !netctl_topic_names_workload(a->topic))
		return netctl_args_fail(err, err_size, "option --cgroup works with workload get, quota get, quota set and "
					"quota delete only");
	if (!netctl_topic_names_workload(a->topic))
		return 0;
	if (a->cgroup && a->id)
		return netctl_args_fail(err, err_size, "%s: give a container id or --cgroup PATH, not both (ID names a "
					"container, --cgroup a cgroup v2 directory)", cmd);
	if (a->topic == NETCTL_TOPIC_QUOTA_DELETE && !a->cgroup)
		return netctl_args_fail(err, err_size, a->id ?
					"quota delete: only a cgroup's quota can be deleted (--cgroup PATH); a container's "
					"goes with it (netctl quota set ID --egress-guarantee default ... puts its values back "
					"to the defaults)" :
					"quota delete: missing --cgroup PATH (netctl quota delete --cgroup PATH)");
	if (a->cgroup)
		return 0;
	if (!a->id)
		return netctl_args_fail(err, err_size, "%s: missing container id (netctl %s ID [IFNAME]%s, or --cgroup "
					"PATH)", cmd, cmd, a->topic == NETCTL_TOPIC_QUOTA_SET ? " --ingress-guarantee RATE ..." : "");
	if (!*a->id)
		return netctl_args_fail(err, err_size, "%s: empty container id", cmd);
	return 0;
}

/* Map the positional words to a topic (and the arguments of `workload get`, `quota get/set`,
 * `subnet release` and `policy set/delete`).  Words past the command are an error.  A missing
 * argument is checked later: `netctl workload get --help` needs none. */
static int netctl_args_topic(char **words, int n, struct netctl_args *a, char *err, size_t err_size)
{
	const struct netctl_verb *group = NULL;
	size_t i;

	a->id = a->ifname = a->subnet = a->policy = NULL;
	if (n == 0) {
		a->topic = NETCTL_TOPIC_TOP;
		return 0;
	}
	if (netctl_word_is(words[0], "status", NULL) || netctl_word_is(words[0], "version", NULL) ||
	    netctl_word_is(words[0], "top", NULL)) {
		if (n > 1)
			return netctl_args_fail(err, err_size, "%s: unexpected argument '%s'", words[0], words[1]);
		a->topic = words[0][0] == 's' ? NETCTL_TOPIC_STATUS :
			   words[0][0] == 't' ? NETCTL_TOPIC_TOP_COMMAND : NETCTL_TOPIC_VERSION;
		return 0;
	}
	for (i = 0; i < sizeof(netctl_verbs) / sizeof(netctl_verbs[0]) && !group; i++)
		if (netctl_word_is(words[0], netctl_verbs[i].group, netctl_verbs[i].group_alias))
			group = &netctl_verbs[i];
	if (!group)
		return netctl_args_fail(err, err_size, "unknown command '%s'", words[0]);
	if (n == 1) {
		a->topic = group->group_topic;
		return 0;
	}
	for (i = 0; i < sizeof(netctl_verbs) / sizeof(netctl_verbs[0]); i++) {
		const struct netctl_verb *v = &netctl_verbs[i];

		if (v->group_topic != group->group_topic || !netctl_word_is(words[1], v->verb, v->verb_alias))
			continue;
		if (n > 2 + v->max_args)
			return netctl_args_fail(err, err_size, "%s %s: unexpected argument '%s'", v->group, v->verb,
						words[2 + v->max_args]);
		a->topic = v->topic;
		if (netctl_topic_names_workload(v->topic)) {
			a->id = n > 2 ? words[2] : NULL;
			a->ifname = n > 3 ? words[3] : NULL;
		} else if (v->topic == NETCTL_TOPIC_SUBNET_RELEASE) {
			a->subnet = n > 2 ? words[2] : NULL;
		} else if (v->topic == NETCTL_TOPIC_POLICY_SET || v->topic == NETCTL_TOPIC_POLICY_DELETE) {
			a->policy = n > 2 ? words[2] : NULL;
		}
		return 0;
	}
	return netctl_args_fail(err, err_size, "%s: unknown command '%s'", group->group, words[1]);
}

/* A rate flag of quota set (--ingress-guarantee ...): its enum netctl_quota_rate, or -1. */
static int netctl_args_rate_flag(const char *arg)
{
	for (int q = 0; q < NETCTL_QUOTA_N_RATES; q++)
		if (netctl_opt_is(arg, netctl_quota_option((enum netctl_quota_rate)q), false))
			return q;
	return -1;
}

/* "3" -> 3: a positive number of samples. */
static int netctl_parse_count(const char *s, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 1000000000)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* policy set and policy delete: the name, and for set what it matches and gives. */
static int netctl_args_check_policy(const struct netctl_args *a, char *err, size_t err_size)
{
	const char *cmd = a->topic == NETCTL_TOPIC_POLICY_SET ? "policy set" : "policy delete";
	char why[512];

	if (!a->policy)
		return netctl_args_fail(err, err_size, "%s: missing policy name (%s)", cmd,
					a->topic == NETCTL_TOPIC_POLICY_SET ?
					"netctl policy set NAME (--match KEY=PATTERN ... | --all) --egress-guarantee RATE ..." :
					"netctl policy delete NAME");
	if (!netctl_policy_name_valid(a->policy))
		return netctl_args_fail(err, err_size, "%s: bad policy name '%s' (a letter or digit, then letters, digits, "
					"'_', '.' or '-'; at most %d bytes)", cmd, a->policy, POLICY_NAME_SIZE - 1);
	if (a->topic != NETCTL_TOPIC_POLICY_SET)
		return 0;
	if (a->match.all && a->match.n > 0)
		return netctl_args_fail(err, err_size, "policy set: --all and --match exclude each other (--all matches "
					"every workload)");
	if (!a->match.all && a->match.n == 0)
		return netctl_args_fail(err, err_size, "policy set: which workloads? give --match KEY=PATTERN (repeatable: "
					"all must match) or --all");
	if (netctl_policy_check(&a->quota, why, sizeof(why)) < 0)
		return netctl_args_fail(err, err_size, "policy set: %s", why);
	return 0;
}

/* Options that only some commands take.  Checked once the command is known, so they may stand
 * anywhere on the line. */
static int netctl_args_check(const struct netctl_args *a, bool interval_set, bool count_set, char *err,
			     size_t err_size)
{
	bool lists = a->topic == NETCTL_TOPIC_STATUS || a->topic == NETCTL_TOPIC_SUBNET_LIST ||
		     a->topic == NETCTL_TOPIC_WORKLOAD_LIST || a->topic == NETCTL_TOPIC_HOST_LIST;
	int r;

	if (a->topic == NETCTL_TOPIC_SUBNET_RELEASE && (!a->subnet || !*a->subnet))
		return netctl_args_fail(err, err_size, "subnet release: missing subnet (netctl subnet release SUBNET [--force])");
	if (a->force && a->topic != NETCTL_TOPIC_SUBNET_RELEASE)
		return netctl_args_fail(err, err_size, "option --force works with subnet release only");
	r = netctl_args_check_target(a, err, err_size);
	if (r < 0)
		return r;
	if (netctl_quota_any(&a->quota) && a->topic != NETCTL_TOPIC_QUOTA_SET && a->topic != NETCTL_TOPIC_POLICY_SET)
		return netctl_args_fail(err, err_size, "options --ingress-guarantee, --ingress-limit, --egress-guarantee, "
					"--egress-limit and --priority work with quota set and policy set only");
	if ((a->match.n > 0 || a->match.all) && a->topic != NETCTL_TOPIC_POLICY_SET)
		return netctl_args_fail(err, err_size, "options --match and --all work with policy set only");
	if (a->topic == NETCTL_TOPIC_POLICY_SET || a->topic == NETCTL_TOPIC_POLICY_DELETE) {
		r = netctl_args_check_policy(a, err, err_size);
		if (r < 0)
			return r;
	}
	if (a->topic == NETCTL_TOPIC_QUOTA_SET) {
		char conflict[256];

		/* A cgroup without a quota gets one with nothing but the flags given: none is the
		 * defaults.  A container always has a share to change. */
		if (!netctl_quota_any(&a->quota) && !a->cgroup)
			return netctl_args_fail(err, err_size, "quota set: nothing to change: give at least one of "
						"--ingress-guarantee, --ingress-limit, --egress-guarantee, --egress-limit, --priority");
		if (netctl_quota_check(&a->quota, conflict, sizeof(conflict)) < 0)
			return netctl_args_fail(err, err_size, "quota set: %s", conflict);
	}
	if (a->watch && a->topic == NETCTL_TOPIC_TOP_COMMAND)
		return netctl_args_fail(err, err_size, "top: option --watch is not needed: top samples every --interval "
					"by itself");
	if (a->watch && !lists)
		return netctl_args_fail(err, err_size, "option --watch works with status, subnet list, host list and workload list");
	/* top samples by itself: --interval and --count are its own options. */
	if (interval_set && !a->watch && a->topic != NETCTL_TOPIC_TOP_COMMAND)
		return netctl_args_fail(err, err_size, "option --interval needs --watch");
	if (count_set && !a->watch && a->topic != NETCTL_TOPIC_TOP_COMMAND)
		return netctl_args_fail(err, err_size, "option --count needs --watch");
	if ((a->filter_namespace || a->filter_pod) && a->topic != NETCTL_TOPIC_WORKLOAD_LIST &&
	    a->topic != NETCTL_TOPIC_TOP_COMMAND)
		return netctl_args_fail(err, err_size, "options --namespace and --pod work with workload list and top only");
	return 0;
}

int netctl_args_parse(int argc, char *const *argv, const char *env_socket, struct netctl_args *ret,
		      char *err, size_t err_size)
{
	struct netctl_args a = {
		.action = NETCTL_ACTION_RUN,
		.output = NETCTL_OUTPUT_TABLE,
		.socket = env_socket && *env_socket ? env_socket : IPC_DEFAULT_SOCKET,
		.timeout_ms = NETCTL_DEFAULT_TIMEOUT_MS,
		.interval_ms = NETCTL_DEFAULT_INTERVAL_MS,
	};
	char *words[NETCTL_MAX_WORDS];
	bool help = false, version = false, only_words = false, interval_set = false, count_set = false;
	int n_words = 0, r, q;

	if (err && err_size > 0)
		err[0] = '\0';
	/* Options may stand anywhere (before or after the command), as with kubectl and ip. */
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;

		if (only_words || arg[0] != '-' || arg[1] == '\0') {
			if (n_words == NETCTL_MAX_WORDS)
				return netctl_args_fail(err, err_size, "unexpected argument '%s'", arg);
			words[n_words++] = (char *)arg;
		} else if (strcmp(arg, "--") == 0) {
			only_words = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			help = true;
		} else if (strcmp(arg, "--version") == 0) {
			version = true;
		} else if (strcmp(arg, "--no-headers") == 0) {
			a.no_headers = true;
		} else if (strcmp(arg, "--no-trunc") == 0) {
			a.no_trunc = true;
		} else if (strcmp(arg, "--force") == 0) {
			a.force = true;
		} else if (strcmp(arg, "--all") == 0) {
			a.match.all = true;
		} else if (netctl_opt_is(arg, "--match", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--match"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --match needs KEY=PATTERN, e.g. "
							"K8S_POD_NAMESPACE=prod");
			r = netctl_policy_add_match(&a.match, v, err, err_size);
			if (r < 0)
				return r;
		} else if (strcmp(arg, "-w") == 0 || strcmp(arg, "--watch") == 0) {
			a.watch = true;
		} else if (netctl_opt_is(arg, "-o", true) || netctl_opt_is(arg, "--output", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, arg[1] == '-' ? strlen("--output") : 2);
			if (!v)
				return netctl_args_fail(err, err_size, "option %s needs a value: table, wide, json or yaml", arg);
			if (strcmp(v, "json") == 0)
				a.output = NETCTL_OUTPUT_JSON;
			else if (strcmp(v, "table") == 0)
				a.output = NETCTL_OUTPUT_TABLE;
			else if (strcmp(v, "yaml") == 0)
				a.output = NETCTL_OUTPUT_YAML;
			else if (strcmp(v, "wide") == 0)
				a.output = NETCTL_OUTPUT_WIDE;
			else
				return netctl_args_fail(err, err_size, "unknown output format '%s' (table, wide, json or yaml)", v);
		} else if (netctl_opt_is(arg, "--socket", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--socket"));
			if (!v || !*v)
				return netctl_args_fail(err, err_size, "option --socket needs a path");
			if (strlen(v) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
				return netctl_args_fail(err, err_size, "socket path '%s' is too long (at most %zu bytes)",
							v, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
			a.socket = v;
		} else if (netctl_opt_is(arg, "--timeout", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--timeout"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --timeout needs a duration, e.g. 5s or 500ms");
			if (netctl_parse_timeout(v, &a.timeout_ms) < 0)
				return netctl_args_fail(err, err_size,
							"bad timeout '%s' (examples: 5, 2.5s, 500ms, 1m; 0 = no limit; at most 1h)", v);
		} else if (netctl_opt_is(arg, "--interval", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--interval"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --interval needs a duration, e.g. 2s or 500ms");
			if (netctl_parse_timeout(v, &a.interval_ms) < 0 || a.interval_ms == 0)
				return netctl_args_fail(err, err_size,
							"bad interval '%s' (examples: 2, 0.5s, 500ms, 1m; more than 0, at most 1h)", v);
			interval_set = true;
		} else if (netctl_opt_is(arg, "--count", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--count"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --count needs a number of samples");
			if (netctl_parse_count(v, &a.count) < 0)
				return netctl_args_fail(err, err_size, "bad count '%s' (a number of samples, at least 1)", v);
			count_set = true;
		} else if (netctl_opt_is(arg, "-n", true) || netctl_opt_is(arg, "--namespace", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, arg[1] == '-' ? strlen("--namespace") : 2);
			if (!v)
				return netctl_args_fail(err, err_size, "option %s needs a Kubernetes namespace", arg);
			a.filter_namespace = v;
		} else if (netctl_opt_is(arg, "--cgroup", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--cgroup"));
			if (!v || !*v)
				return netctl_args_fail(err, err_size, "option --cgroup needs a cgroup v2 directory, e.g. "
							"system.slice/backup.service");
			a.cgroup = v;
		} else if (netctl_opt_is(arg, "--pod", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--pod"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --pod needs a pod name");
			a.filter_pod = v;
		} else if ((q = netctl_args_rate_flag(arg)) >= 0) {
			const char *opt = netctl_quota_option(q);

			v = netctl_opt_value(argc, argv, &i, arg, strlen(opt));
			if (!v)
				return netctl_args_fail(err, err_size, "option %s needs a rate, e.g. 100mbit, or default", opt);
			r = netctl_quota_parse_rate(v, &a.quota.rate[q].bps);
			if (r == -ERANGE)
				return netctl_args_fail(err, err_size, "rate '%s' for %s is too large (at most %" PRId64 "bit)",
							v, opt, INT64_MAX);
			if (r == -EDOM)
				return netctl_args_fail(err, err_size, "rate '%s' for %s has no unit: %smbit? (%sbit for bit/s)",
							v, opt, v, v);
			if (r < 0)
				return netctl_args_fail(err, err_size, "bad rate '%s' for %s (tc's units, e.g. 100mbit, 1.5gbit, "
							"10mbps = 80mbit; 0 or default: back to the default)", v, opt);
			a.quota.rate[q].given = true;
		} else if (netctl_opt_is(arg, "--priority", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--priority"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --priority needs a priority 0..7, or default");
			if (netctl_quota_parse_priority(v, &a.quota.priority) < 0)
				return netctl_args_fail(err, err_size, "bad priority '%s' for --priority (0..7, 0 is the highest; "
							"default: back to the default)", v);
			a.quota.priority_given = true;
		} else {
			return netctl_args_fail(err, err_size, "unknown option '%s'", arg);
		}
	}
	r = netctl_args_topic(words, n_words, &a, err, err_size);
	/* `netctl help [COMMAND...]` is the same as `netctl [COMMAND...] --help`. */
	if (r < 0 && n_words > 0 && strcmp(words[0], "help") == 0) {
		help = true;
		r = netctl_args_topic(words + 1, n_words - 1, &a, err, err_size);
	}
	if (r < 0)
		return r;
	if (help) {
		a.action = NETCTL_ACTION_HELP;
	} else if (version) {
		a.action = NETCTL_ACTION_VERSION;
	} else if (a.topic == NETCTL_TOPIC_TOP) {
		return netctl_args_fail(err, err_size, "missing command (status, subnet list, subnet release, host list, "
					"network show, node leave, workload list, workload get, quota get, quota set, quota delete, "
					"policy list, policy set, policy delete, top, version)");
	} else if (a.topic == NETCTL_TOPIC_SUBNET) {
		return netctl_args_fail(err, err_size, "subnet: missing command (list, release)");
	} else if (a.topic == NETCTL_TOPIC_HOST) {
		return netctl_args_fail(err, err_size, "host: missing command (list)");
	} else if (a.topic == NETCTL_TOPIC_NETWORK) {
		return netctl_args_fail(err, err_size, "network: missing command (show)");
	} else if (a.topic == NETCTL_TOPIC_NODE) {
		return netctl_args_fail(err, err_size, "node: missing command (leave)");
	} else if (a.topic == NETCTL_TOPIC_WORKLOAD) {
		return netctl_args_fail(err, err_size, "workload: missing command (list, get)");
	} else if (a.topic == NETCTL_TOPIC_QUOTA) {
		return netctl_args_fail(err, err_size, "quota: missing command (get, set, delete)");
	} else if (a.topic == NETCTL_TOPIC_POLICY) {
		return netctl_args_fail(err, err_size, "policy: missing command (list, set, delete)");
	} else {
		r = netctl_args_check(&a, interval_set, count_set, err, err_size);
		if (r < 0)
			return r;
		if (a.topic == NETCTL_TOPIC_TOP_COMMAND && !interval_set)
			a.interval_ms = NETCTL_TOP_INTERVAL_MS;
	}
	*ret = a;
	return 0;
}

#define NETCTL_HELP_OPTIONS \
	"GLOBAL OPTIONS\n" \
	"    -o, --output FORMAT\n" \
	"        table (default): aligned columns for people.  wide: the table with the columns it\n" \
	"        leaves out appended (status, version, workload get and quota show every field\n" \
	"        already, so wide is the same as table there).  json: the API's objects for\n" \
	"        programs; lists are a JSON array sorted like the table, the others one object.\n" \
	"        yaml: the same values as json, in YAML; strings a YAML reader could take for a\n" \
	"        number, a boolean or null are quoted.\n" \
	"    --socket PATH\n" \
	"        shoald's API socket.  Default: $SHOAL_SOCKET when set, else " IPC_DEFAULT_SOCKET ".\n" \
	"    --timeout DURATION\n" \
	"        How long to wait for shoald's answer: 5 or 5s (default), 2.5s, 500ms, 1m; 0 waits\n" \
	"        without limit.\n" \
	"    --no-headers\n" \
	"        Tables without their header line.\n" \
	"    --no-trunc\n" \
	"        Show 64-digit container ids whole (tables shorten them to 12 digits, like docker).\n" \
	"    -h, --help\n" \
	"        Show this help; after a command, the command's help.\n" \
	"    --version\n" \
	"        Print netctl's version (netctl version also asks shoald for its own).\n" \
	"    Options may be given before or after the command.\n"

/* Follows a "WATCH OPTIONS" heading. */
#define NETCTL_HELP_WATCH \
	"    -w, --watch\n" \
	"        Ask again every interval until interrupted (Ctrl-C).  On a terminal the table is\n" \
	"        redrawn in place under a line naming the command and the time; otherwise samples\n" \
	"        follow each other, tables separated by a blank line, json as one compact document\n" \
	"        per line (JSON Lines), yaml as documents that each begin with ---.  A sample that\n" \
	"        fails prints its error and the watch goes on; the exit status is the last sample's.\n" \
	"    --interval DURATION\n" \
	"        Time between samples with --watch: 2 or 2s (default), 500ms, 1m.\n" \
	"    --count N\n" \
	"        Stop after N samples (with --watch).\n"

#define NETCTL_HELP_EXIT \
	"EXIT STATUS\n" \
	"    0   success\n" \
	"    1   shoald answered with an error (its message is printed), or with an unusable answer;\n" \
	"        workload get, quota get, quota set: no such workload, or the id or interface is\n" \
	"        ambiguous; quota get, quota delete: the cgroup has no quota; policy delete: no\n" \
	"        such policy\n" \
	"    2   usage error: unknown command or option, bad option value\n" \
	"    3   shoald is not reachable: no socket, connection refused, permission denied, no answer\n" \
	"        within the timeout\n"

static const char netctl_help_top[] =
	"NAME\n"
	"    netctl - inspect shoal, the container network, through this host's shoald\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl [OPTIONS] COMMAND\n"
	"    netctl status [-w]\n"
	"    netctl subnet list [-w]\n"
	"    netctl subnet release SUBNET [--force]\n"
	"    netctl host list [-w]\n"
	"    netctl network show\n"
	"    netctl node leave\n"
	"    netctl workload list [-w] [--namespace NS] [--pod NAME]\n"
	"    netctl workload get (ID [IFNAME] | --cgroup PATH)\n"
	"    netctl quota get (ID [IFNAME] | --cgroup PATH)\n"
	"    netctl quota set (ID [IFNAME] | --cgroup PATH) [--ingress-guarantee RATE]\n"
	"                     [--ingress-limit RATE] [--egress-guarantee RATE]\n"
	"                     [--egress-limit RATE] [--priority N]\n"
	"    netctl quota delete --cgroup PATH\n"
	"    netctl policy list\n"
	"    netctl policy set NAME (--match KEY=PATTERN ... | --all) [--ingress-guarantee RATE]\n"
	"                      [--ingress-limit RATE] [--egress-guarantee RATE]\n"
	"                      [--egress-limit RATE] [--priority N]\n"
	"    netctl policy delete NAME\n"
	"    netctl top [--interval DURATION] [--count N] [--namespace NS] [--pod NAME]\n"
	"    netctl version\n"
	"    netctl help [COMMAND]\n"
	"\n"
	"DESCRIPTION\n"
	"    netctl talks to shoald over its local API socket (docs/api.md).  It needs the rights to\n"
	"    connect to that socket: root, or the socket's group.\n"
	"\n"
	"COMMANDS\n"
	"    status          this host's shoald: node, subnet, gateway, store, workloads, uptime\n"
	"    subnet list     every subnet lease of the network, one per host, with its time left and\n"
	"                    whether its host still renews it (alias: subnets ls)\n"
	"    subnet release  free the subnet lease of a host that is gone\n"
	"    host list       the other hosts as this host sees them, and whether their routes are\n"
	"                    programmed (alias: hosts ls)\n"
	"    network show    the network's configuration in the store and this host's part in it\n"
	"    node leave      take this host out of the cluster on purpose\n"
	"    workload list   the containers attached on this host, and the cgroups with a\n"
	"                    bandwidth quota (alias: workloads ls)\n"
	"    workload get    everything about one attachment, by container id or a prefix of it,\n"
	"                    or about one cgroup's quota (--cgroup PATH)\n"
	"    quota get       one workload's bandwidth: its guarantees, limits and priority\n"
	"    quota set       change one workload's bandwidth guarantee, limit or priority; give a\n"
	"                    cgroup (a service, a job) a quota of its own\n"
	"    quota delete    take a cgroup's quota away (alias: quota rm)\n"
	"    policy list     the bandwidth policies of the network, and how many workloads of this\n"
	"                    host each applies to (alias: policies ls)\n"
	"    policy set      create or replace a bandwidth policy: what workloads it matches, what\n"
	"                    it gives them; every host applies it\n"
	"    policy delete   remove a bandwidth policy (alias: policy rm)\n"
	"    top             each workload's bandwidth now, in and out, refreshed every second\n"
	"    version         the versions of netctl and of this host's shoald\n"
	"    help COMMAND    the help of COMMAND, same as COMMAND --help\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS (status, subnet list, host list, workload list)\n"
	NETCTL_HELP_WATCH
	"\n"
	"ENVIRONMENT\n"
	"    SHOAL_SOCKET    the socket to use when --socket is not given\n"
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl status\n"
	"    netctl workload list --namespace default\n"
	"    netctl workload get 0123456789ab\n"
	"    netctl quota set 0123456789ab --egress-guarantee 100mbit --egress-limit 1gbit\n"
	"    netctl quota set --cgroup system.slice/backup.service --egress-limit 200mbit\n"
	"    netctl policy set prod-web --match K8S_POD_NAMESPACE=prod --match 'K8S_POD_NAME=web-*' \\\n"
	"        --egress-guarantee 100mbit\n"
	"    netctl subnet list -o json | jq -r '.[] | select(.self) | .subnet'\n"
	"    netctl subnet list -o json | jq -r '.[] | select(.live == false) | .subnet'\n"
	"    netctl host list\n"
	"    netctl workload list -o wide --watch\n"
	"    netctl top\n"
	"    netctl --socket /tmp/lab/n1.sock --timeout 1s status\n";

static const char netctl_help_status[] =
	"NAME\n"
	"    netctl status - show this host's shoald\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl status [-o table|wide|json|yaml] [-w [--interval DURATION] [--count N]]\n"
	"                  [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Asks shoald for its status and prints one field per line: node name, version, store,\n"
	"    network, this host's subnet and gateway, bridge, MTU, number of workloads, free\n"
	"    addresses, deletions still pending, and uptime.  A successful answer means shoald is\n"
	"    up and serving (the plugin's CNI STATUS asks the same question).  With -o json or\n"
	"    -o yaml the API's status object is printed without its \"ok\" member.\n"
	"\n"
	"    When shoald shapes bandwidth (\"bandwidth\" in its config), two more lines show each\n"
	"    direction's HTB tree (Ingress: traffic to the workloads, Egress: traffic from them):\n"
	"\n"
	"        Ingress:         200mbit capacity, 121mbit committed, 79mbit free (shoal-in)\n"
	"\n"
	"    capacity is the root of the tree, committed the sum of the guarantees shoald has\n"
	"    admitted (the default guarantees of workloads that asked for none, and of unclassified\n"
	"    traffic, included), free what is left for new guarantees; in parentheses the IFB\n"
	"    device that holds the tree.  With -o json: the API's \"bandwidth\" object, the same\n"
	"    numbers as text and in bit/s (capacityBitRate, committedBitRate, freeBitRate).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS\n"
	NETCTL_HELP_WATCH
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl status\n"
	"    netctl status -o json | jq .addressesFree\n"
	"    netctl status -o json | jq .bandwidth.egress.freeBitRate\n"
	"    netctl status --timeout 1s >/dev/null && echo shoald is up\n"
	"    netctl status -w --interval 5s\n"
	"    netctl status -o json -w --count 60 >status.jsonl\n";

static const char netctl_help_subnet[] =
	"NAME\n"
	"    netctl subnet - the network's per-host subnets\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl subnet list [OPTIONS]\n"
	"    netctl subnet release SUBNET [--force] [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list       every subnet lease in the store, with its time left (alias: ls)\n"
	"    release    free the lease of a host that is gone\n"
	"\n"
	"    See netctl subnet list --help and netctl subnet release --help.\n";

static const char netctl_help_subnet_list[] =
	"NAME\n"
	"    netctl subnet list - every subnet lease of the network\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl subnet list [-o table|wide|json|yaml] [--no-headers]\n"
	"                       [-w [--interval DURATION] [--count N]] [--socket PATH]\n"
	"                       [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the subnet leases in the shared store, one per host, sorted by address, with the\n"
	"    time each lease has left.  A host's shoald renews its lease every third of the lease's\n"
	"    TTL; a host that stops (crash, power loss, network partition) stops renewing, its lease\n"
	"    shows LIVE no after about a third of the TTL, and it expires (the row disappears and\n"
	"    every other host removes its routes) when EXPIRES reaches 0.  A plain restart of shoald\n"
	"    keeps the host's subnet.\n"
	"\n"
	"COLUMNS\n"
	"    SUBNET        the host's container subnet\n"
	"    NODE          the host that holds the lease\n"
	"    UNDERLAY IP   the host's underlay address (its VXLAN endpoint); - when not announced\n"
	"    VTEP MAC      the MAC address of the host's VXLAN device; - when not announced (a host\n"
	"                  without an underlay: others cannot reach its containers)\n"
	"    EXPIRES       time left before the lease expires unless renewed (9s, 9m59s), as the\n"
	"                  store counts it; - when the store did not tell (the lease has no TTL, or\n"
	"                  the store failed to answer for it)\n"
	"    LIVE          yes when the lease was renewed within its renewal interval (its time left\n"
	"                  is above two thirds of its TTL, less a few seconds of slack): its host's\n"
	"                  shoald is running.  no: its host has stopped renewing\n"
	"    SELF          yes for the subnet of the host you asked\n"
	"  With -o wide also:\n"
	"    LEASE TTL     the TTL the lease was granted, in seconds (shoald's leaseTTL)\n"
	"    LEASE ID      the store's lease id\n"
	"\n"
	"    With -o json or -o yaml: a list of the API's subnet objects (subnet, node, publicIP,\n"
	"    vtepMAC, lease, self, expiresIn, leaseTTL, live); expiresIn, leaseTTL and live are absent\n"
	"    where unknown.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS\n"
	NETCTL_HELP_WATCH
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl subnet list\n"
	"    netctl subnet list -o wide\n"
	"    netctl subnet list -o json | jq -r '.[] | \"\\(.node) \\(.subnet)\"'\n"
	"    netctl subnet list -o json | jq -r '.[] | select(.live == false) | .node'\n"
	"    netctl subnet list -w --interval 1s\n";

static const char netctl_help_subnet_release[] =
	"NAME\n"
	"    netctl subnet release - free the subnet lease of a host that is gone\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl subnet release SUBNET [--force] [-o table|wide|json|yaml] [--socket PATH]\n"
	"                          [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Deletes the store's lease of SUBNET (as netctl subnet list shows it, e.g.\n"
	"    10.244.3.0/24) and revokes the lease it is attached to, so that the subnet is free at\n"
	"    once instead of when the lease expires.  Every host removes its routes and VXLAN\n"
	"    entries for that subnet within moments.  Use it for a host that is gone for good\n"
	"    before its lease runs out (a long leaseTTL), or to free a subnet for a new host.\n"
	"\n"
	"    A lease that is still live (LIVE yes in netctl subnet list: its host renewed it within\n"
	"    its renewal interval, so its shoald is most likely running) is refused unless --force\n"
	"    is given.  This host's own subnet is always refused: run netctl node leave on the host\n"
	"    that is to give up its subnet.\n"
	"\n"
	"OPTIONS\n"
	"    --force\n"
	"        Release a live lease too.  The host's containers become unreachable from every\n"
	"        other host.  If that host's shoald is still running it finds its lease revoked at\n"
	"        its next renewal (within a third of the TTL) and claims its subnet again: stop\n"
	"        shoald there first (or run netctl node leave there) to keep it out.\n"
	"\n"
	"    With -o json or -o yaml: the API's answer (subnet, node, lease, leaseRevoked, live,\n"
	"    forced).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A live lease without --force, this host's own subnet, or a subnet no host holds exit 1\n"
	"    with shoald's reason.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl subnet release 10.244.3.0/24\n"
	"    netctl subnet release 10.244.3.0/24 --force\n"
	"    netctl subnet list -o json | jq -r '.[] | select(.live == false) | .subnet' |\n"
	"        xargs -r -n1 netctl subnet release\n";

static const char netctl_help_host[] =
	"NAME\n"
	"    netctl host - the other hosts of the network, as this host sees them\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl host list [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list    every other host and the state of its routes here (alias: ls)\n"
	"\n"
	"    See netctl host list --help.\n";

static const char netctl_help_host_list[] =
	"NAME\n"
	"    netctl host list - the other hosts as this host sees them\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl host list [-o table|wide|json|yaml] [--no-headers]\n"
	"                     [-w [--interval DURATION] [--count N]] [--socket PATH]\n"
	"                     [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists every other host whose subnet lease this host's shoald knows (from its watch of\n"
	"    the store), sorted by subnet, and whether the kernel entries that reach it (route,\n"
	"    VXLAN neighbour and FDB entry, or a direct route) were programmed by shoald's last\n"
	"    reconcile run.  Where netctl subnet list shows the store, this shows what this host\n"
	"    does with it: a host missing here, or PROGRAMMED no, is a host this one cannot reach.\n"
	"    shoald retries failed entries at every reconcile.\n"
	"\n"
	"COLUMNS\n"
	"    NODE          the other host\n"
	"    SUBNET        its container subnet\n"
	"    UNDERLAY IP   its underlay address (its VXLAN endpoint)\n"
	"    VTEP MAC      the MAC address of its VXLAN device; - when it published none\n"
	"    MODE          vxlan: through the VXLAN device; direct: a plain route via its underlay\n"
	"                  address (directRouting, same underlay subnet); - for a record this host\n"
	"                  cannot use (see ERROR)\n"
	"    PROGRAMMED    yes when every entry it needs is in this host's kernel\n"
	"    ERROR         why not: the kernel's refusal of the last attempt, or what is wrong with\n"
	"                  the host's record; - when none\n"
	"\n"
	"    A host without an underlay (a node running alone) lists no hosts.  With -o json or\n"
	"    -o yaml: a list of the API's host objects (node, subnet, publicIP, vtepMAC, mode,\n"
	"    programmed, error).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS\n"
	NETCTL_HELP_WATCH
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl host list\n"
	"    netctl host list -o json | jq -r '.[] | select(.programmed | not) | \"\\(.node): \\(.error)\"'\n";

static const char netctl_help_network[] =
	"NAME\n"
	"    netctl network - the container network\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl network show [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    show    the network's configuration in the store and this host's part in it\n"
	"\n"
	"    See netctl network show --help.\n";

static const char netctl_help_network_show[] =
	"NAME\n"
	"    netctl network show - the network's configuration and this host's view of it\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl network show [-o table|wide|json|yaml] [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints the network configuration every host shares (read from the store now: the\n"
	"    first shoald wrote it, and it wins over each host's config for the VNI and the port),\n"
	"    then this host's part: its subnet, underlay, MTU, VXLAN device and whether it routes\n"
	"    directly to hosts on its underlay subnet.\n"
	"\n"
	"FIELDS\n"
	"    Network         the whole container network (store)\n"
	"    Subnet length   the prefix length of each host's subnet (store)\n"
	"    VNI             the VXLAN network identifier (store)\n"
	"    VXLAN port      the VXLAN UDP port (store)\n"
	"    Store           the store shoald uses\n"
	"    Node            this host's node name\n"
	"    Subnet          this host's subnet; - after netctl node leave\n"
	"    Underlay        the underlay device; - when the host runs alone (no underlay)\n"
	"    Underlay IP     the underlay address other hosts send VXLAN packets to\n"
	"    MTU             the containers' MTU\n"
	"    VXLAN device    this host's VXLAN device (shoal.VNI)\n"
	"    Direct routing  yes: hosts on the underlay's own subnet are reached without VXLAN\n"
	"    Left            yes after netctl node leave, until shoald restarts\n"
	"\n"
	"    With -o json or -o yaml: the API's answer, {\"storeURL\", \"config\": {network,\n"
	"    subnetLen, vni, port}, \"node\": {node, subnet, underlay, underlayIP, mtu,\n"
	"    vxlanDevice, directRouting, left}}.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl network show\n"
	"    netctl network show -o json | jq .config.vni\n";

static const char netctl_help_node[] =
	"NAME\n"
	"    netctl node - this host's membership of the network\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl node leave [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    leave    take this host out of the cluster on purpose\n"
	"\n"
	"    See netctl node leave --help.\n";

static const char netctl_help_node_leave[] =
	"NAME\n"
	"    netctl node leave - take this host out of the cluster on purpose\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl node leave [-o table|wide|json|yaml] [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    For decommissioning or maintenance.  This host's shoald revokes its subnet lease, so\n"
	"    its subnet disappears from the store at once and every other host removes its routes\n"
	"    and VXLAN entries for it; it stops renewing and re-claiming the subnet, and removes its\n"
	"    own entries for the other hosts.  Its containers keep their addresses and can still\n"
	"    reach each other and their gateway on this host, but nothing beyond it.  ADD is refused\n"
	"    from then on (\"this node has left the cluster; restart shoald to rejoin or run shoald\n"
	"    --cleanup\"); DEL, CHECK and GC still work.\n"
	"\n"
	"    To rejoin, restart shoald: it claims its previous subnet again when no other host took\n"
	"    it meanwhile.  To remove shoal from the host, run shoald --cleanup.  A plain restart or\n"
	"    stop of shoald (SIGTERM, an upgrade) never leaves: the lease outlives it by its TTL\n"
	"    and the host keeps its subnet.\n"
	"\n"
	"    netctl sends the API's leave request with \"confirm\": true.  Anyone who may use the\n"
	"    socket may leave (root, or the socketGroup, who can administer the network anyway).\n"
	"\n"
	"    With -o json or -o yaml: the API's answer (node, subnet, lease).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A host that has left already exits 1.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl node leave\n"
	"    netctl node leave && systemctl stop shoald\n";

static const char netctl_help_workload[] =
	"NAME\n"
	"    netctl workload - the containers attached on this host, and the cgroups with a quota\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload list [OPTIONS]\n"
	"    netctl workload get (ID [IFNAME] | --cgroup PATH) [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list    every attachment shoald knows on this host, then every cgroup with a\n"
	"            bandwidth quota (alias: ls)\n"
	"    get     everything about one attachment, or one cgroup's quota\n"
	"\n"
	"    See netctl workload list --help and netctl workload get --help.\n";

static const char netctl_help_workload_list[] =
	"NAME\n"
	"    netctl workload list - the containers attached on this host\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload list [-n NAMESPACE] [--pod NAME] [-o table|wide|json|yaml]\n"
	"                         [--no-headers] [--no-trunc] [-w [--interval DURATION] [--count N]]\n"
	"                         [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the attachments of this host's shoald, sorted by container id and interface.\n"
	"    An attachment is one (container id, interface name) pair added by the CNI plugin.\n"
	"    The cgroups that have a bandwidth quota of their own (netctl quota set --cgroup)\n"
	"    follow, sorted by path: their CONTAINER ID is cgroup:PATH (PATH relative to the\n"
	"    cgroup v2 mount) and the columns a cgroup has no value for are -.  --namespace and\n"
	"    --pod leave the cgroups out.\n"
	"\n"
	"OPTIONS\n"
	"    -n, --namespace NAMESPACE\n"
	"        Only the workloads of pods in this Kubernetes namespace (K8S_POD_NAMESPACE).\n"
	"    --pod NAME\n"
	"        Only the workloads of pods of this name (K8S_POD_NAME).  With --namespace both\n"
	"        must match.  Workloads added without Kubernetes' CNI_ARGS, or by a shoald that does\n"
	"        not report pods, match no filter.\n"
	"\n"
	"COLUMNS\n"
	"    CONTAINER ID   the runtime's container id; 64-digit ids are shortened to 12 digits\n"
	"                   unless --no-trunc is given\n"
	"    IFNAME         the interface name inside the container (CNI_IFNAME)\n"
	"    ADDRESS        the container's address with prefix length\n"
	"    NAMESPACE      the pod's Kubernetes namespace; - when not a pod or not reported\n"
	"    POD            the pod's name; - when not a pod or not reported\n"
	"    STATE          active, or deleting while the host veth is being removed\n"
	"  With -o wide also:\n"
	"    HOST VETH      the host side of the container's veth pair\n"
	"    NETNS          the network namespace path the runtime gave\n"
	"    NETWORK        the CNI network name of the attachment\n"
	"    CREATED        when it was added, UTC\n"
	"    POD UID        the pod's UID (K8S_POD_UID)\n"
	"  With -o wide, when shoald shapes bandwidth (\"bandwidth\" in its config), also each\n"
	"  workload's share (netctl quota get shows what it asked for):\n"
	"    IN GUARANTEE   the rate guaranteed to traffic to the workload\n"
	"    IN LIMIT       the most traffic to the workload may use\n"
	"    OUT GUARANTEE  the rate guaranteed to traffic from the workload\n"
	"    OUT LIMIT      the most traffic from the workload may use\n"
	"    PRIORITY       0..7, who borrows idle bandwidth first (0 first)\n"
	"                   All five are - for a workload shoald has not admitted (no share).\n"
	"\n"
	"    With -o json or -o yaml: a list of the API's workload objects (containerId, ifname,\n"
	"    address, hostVeth, netns, network, created, state, pod, namespace, podUID, and with\n"
	"    bandwidth bandwidth and bandwidthAsked), ids never shortened; then the API's cgroup\n"
	"    objects, told apart by \"kind\": \"cgroup\" (cgroup, cgroupDir, cgroupId, created,\n"
	"    class, bandwidth, bandwidthAsked, policy, counters).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS\n"
	NETCTL_HELP_WATCH
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl workload list\n"
	"    netctl workload list -n kube-system -o wide\n"
	"    netctl workload list --namespace default --pod web-0\n"
	"    netctl workload list --no-headers | wc -l\n"
	"    netctl workload list -o json | jq -r '.[] | select(.state == \"deleting\") | .hostVeth'\n"
	"    netctl workload list -o json | jq -r '.[] | select(.kind == \"cgroup\") | .cgroup'\n"
	"    netctl workload list -w --interval 1s\n";

static const char netctl_help_workload_get[] =
	"NAME\n"
	"    netctl workload get - everything about one attachment, or one cgroup's quota\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload get ID [IFNAME] [-o table|wide|json|yaml] [--socket PATH]\n"
	"                        [--timeout DURATION]\n"
	"    netctl workload get --cgroup PATH [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints one attachment of this host, one field per line: container id (whole),\n"
	"    interface, address, pod namespace, name and UID, host veth, network namespace path,\n"
	"    CNI network, when it was created (UTC, and how long ago) and its state.  When shoald\n"
	"    shapes bandwidth, the workload's guarantees, limits, priority and policy follow, as\n"
	"    netctl quota get shows them.  Fields a newer shoald adds follow under their API name.\n"
	"\n"
	"    ID is a container id, or the beginning of one as the tables show it (12 digits) or\n"
	"    shorter: it must begin the id of exactly one container.  A whole id always names its\n"
	"    own container, even when it also begins a longer one.  IFNAME picks the interface when\n"
	"    the container has several; it may be left out when the container has one.\n"
	"\n"
	"    --cgroup PATH names a cgroup with a bandwidth quota instead (netctl quota --help):\n"
	"    its path relative to the cgroup v2 mount and in full, its cgroup id, its HTB class,\n"
	"    when the quota was set, and its bandwidth as netctl quota get shows it.\n"
	"\n"
	"    With -o json or -o yaml: the API's workload object (or cgroup object).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A missing workload and an ambiguous ID or interface exit 1; the message lists the\n"
	"    candidates.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl workload get 0123456789ab\n"
	"    netctl workload get 0123 net1\n"
	"    netctl workload get web-1 -o json | jq -r .hostVeth\n"
	"    netctl workload get --cgroup system.slice/backup.service\n";

/* What --ingress-guarantee and friends accept: shared by quota and quota set. */
#define NETCTL_HELP_RATES \
	"RATES\n" \
	"    tc's units, case-insensitive: bit, kbit, mbit, gbit, tbit (powers of 1000), kibit,\n" \
	"    mibit, gibit, tibit (powers of 1024), and bps, kbps, mbps, gbps, tbps, kibps .. tibps,\n" \
	"    which are BYTES per second as in tc: 10mbps is 80mbit.  One decimal fraction is\n" \
	"    allowed (1.5gbit).  A number needs its unit (tc would take 100 for 100 bit/s: write\n" \
	"    100bit if that is meant).  0 or default: back to shoald's default.  netctl prints\n" \
	"    rates in the largest unit that divides them (120mbit, 1500kbit).\n"

/* What --cgroup names: quota, quota get/set/delete. */
#define NETCTL_HELP_CGROUP \
	"CGROUPS\n" \
	"    --cgroup PATH names a workload that shares the host's network namespace (a systemd\n" \
	"    service, a job, a host-network pod) by its cgroup v2 directory, instead of ID\n" \
	"    [IFNAME].  PATH is absolute under the cgroup v2 mount (/sys/fs/cgroup, or\n" \
	"    /sys/fs/cgroup/unified on a hybrid host) or relative to it:\n" \
	"    system.slice/backup.service.  The quota covers every process of the cgroup and of the\n" \
	"    cgroups below it, whenever their sockets were opened; its class is in the same HTB\n" \
	"    trees as the pods' and admitted against the same capacity.  It is kept for the path:\n" \
	"    a service restarted keeps it; shoald drops it once the directory is gone.  A cgroup\n" \
	"    has no quota until netctl quota set --cgroup gives it one (the values not given are\n" \
	"    shoald's defaults), and netctl quota delete --cgroup takes it away.\n"

static const char netctl_help_quota[] =
	"NAME\n"
	"    netctl quota - the bandwidth of the workloads on this host\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl quota get (ID [IFNAME] | --cgroup PATH) [OPTIONS]\n"
	"    netctl quota set (ID [IFNAME] | --cgroup PATH) [--ingress-guarantee RATE]\n"
	"                     [--ingress-limit RATE] [--egress-guarantee RATE]\n"
	"                     [--egress-limit RATE] [--priority N] [OPTIONS]\n"
	"    netctl quota delete --cgroup PATH [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    When shoald's config has \"bandwidth\" (shoald.json(5)), every workload of this host\n"
	"    has a share of the host's bandwidth in each direction (ingress: the traffic to the\n"
	"    workload; egress: the traffic from it):\n"
	"\n"
	"        guarantee   the rate the workload always gets when it wants it, whatever the\n"
	"                    others send (HTB's rate)\n"
	"        limit       the most it may use, borrowing what the others leave idle (HTB's\n"
	"                    ceil)\n"
	"\n"
	"    and one priority, 0 to 7, the order in which idle bandwidth is lent (0 first).\n"
	"    A value the workload does not ask for is shoald's default: the default guarantee\n"
	"    (defaultGuarantee, 1mbit unless configured), the host's capacity as the limit, the\n"
	"    default priority (defaultPriority, 4 unless configured).\n"
	"\n"
	"    shoald admits a guarantee only when it fits in what the other guarantees leave free\n"
	"    of the host's capacity in that direction (netctl status shows capacity, committed and\n"
	"    free), so that every guarantee can be kept at once; a limit may not exceed the\n"
	"    capacity.  A workload asks for its share when it is added (the CNI bandwidth\n"
	"    capability, or SHOAL_* keys in CNI_ARGS) and netctl quota set changes it while it\n"
	"    runs.  A bandwidth policy (netctl policy) fills in the values a workload leaves\n"
	"    unset; the workload's own values win.\n"
	"\n"
	NETCTL_HELP_CGROUP
	"\n"
	"COMMANDS\n"
	"    get       one workload's guarantees, limits and priority, and what it asked for\n"
	"    set       change one workload's guarantee, limit or priority; give a cgroup a quota\n"
	"    delete    take a cgroup's quota away (alias: rm)\n"
	"\n"
	"    See netctl quota get --help, netctl quota set --help and netctl quota delete --help.\n"
	"    netctl workload list -o wide shows every workload's share.\n"
	"\n"
	NETCTL_HELP_RATES
	"\n"
	NETCTL_HELP_EXIT
	"    A host whose shoald shapes nothing (no \"bandwidth\" in its config) exits 1.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl quota get web-0\n"
	"    netctl quota get 0123456789ab net1 -o yaml\n"
	"    netctl quota set web-0 --egress-guarantee 100mbit --egress-limit 1gbit --priority 2\n"
	"    netctl quota set --cgroup system.slice/backup.service --egress-limit 200mbit\n"
	"    netctl quota delete --cgroup system.slice/backup.service\n";

static const char netctl_help_quota_get[] =
	"NAME\n"
	"    netctl quota get - one workload's bandwidth: guarantees, limits and priority\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl quota get ID [IFNAME] [-o table|wide|json|yaml] [--socket PATH]\n"
	"                     [--timeout DURATION]\n"
	"    netctl quota get --cgroup PATH [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints the share of this host's bandwidth that shoald gives one workload, one field\n"
	"    per line (API operation workloads; netctl picks the workload).  A value the workload\n"
	"    did not ask for is marked (default).  A value that differs from what it asked for\n"
	"    shows that too, (asked 150mbit): a workload whose guarantee no longer fits (shoald\n"
	"    restarted with a smaller capacity) keeps running with the defaults.  A workload\n"
	"    shoald has not admitted at all has no share: its values are -.  A burst the workload\n"
	"    asked for (runtimes send one with the CNI bandwidth capability) is shown as \"at most\"\n"
	"    that many bits: it can only lower the burst shoald computes.\n"
	"\n"
	"    ID is a container id, or the beginning of exactly one container's id, and IFNAME the\n"
	"    interface of a container that has several, as for netctl workload get.  --cgroup\n"
	"    PATH names a cgroup instead (CGROUPS below); netctl matches PATH, relative or\n"
	"    absolute, against the paths shoald reports, so a cgroup without a quota is \"no\n"
	"    quota\" (exit 1).\n"
	"\n"
	"FIELDS\n"
	"    Container ID        the workload's container id, whole\n"
	"    Interface           its interface inside the container (CNI_IFNAME)\n"
	"    Cgroup              instead of the two above for a cgroup: its path relative to\n"
	"                        the cgroup v2 mount\n"
	"    Ingress guarantee   the rate guaranteed to the traffic to the workload\n"
	"    Ingress limit       the most the traffic to the workload may use\n"
	"    Ingress burst       only when the workload asked for one\n"
	"    Egress guarantee    the rate guaranteed to the traffic from the workload\n"
	"    Egress limit        the most the traffic from the workload may use\n"
	"    Egress burst        only when the workload asked for one\n"
	"    Priority            0..7: the order in which idle bandwidth is lent, 0 first\n"
	"    Policy              the bandwidth policy that applies to the workload (netctl policy\n"
	"                        list), - when none\n"
	"\n"
	"    When a policy applies, a value the workload did not ask for is marked (policy or\n"
	"    default): the workload's own values win, the policy fills in the values it sets\n"
	"    (netctl policy list shows them), shoald's defaults the rest.\n"
	"\n"
	"    With -o json or -o yaml: {\"containerId\", \"ifname\", \"bandwidth\", \"bandwidthAsked\",\n"
	"    \"policy\"}.  bandwidth is the share as the API gives it: per direction guarantee and limit as\n"
	"    text (\"120mbit\") and in bit/s (guaranteeBitRate, limitBitRate), and priority; null\n"
	"    when the workload has none.  bandwidthAsked is what the workload asked for, in bit/s\n"
	"    (bits for burst): only the values it asked for, {} when none.  policy is the name of\n"
	"    the policy that applies, or null.  For a cgroup {\"kind\": \"cgroup\", \"cgroup\",\n"
	"    \"cgroupDir\", \"cgroupId\", \"bandwidth\", \"bandwidthAsked\", \"policy\"}.\n"
	"\n"
	NETCTL_HELP_CGROUP
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A missing workload, a cgroup without a quota, an ambiguous ID or interface (the\n"
	"    message lists the candidates),\n"
	"    and a host whose shoald shapes nothing (no \"bandwidth\" in its config) exit 1.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl quota get 0123456789ab\n"
	"    netctl quota get web-1 net1\n"
	"    netctl quota get web-1 -o json | jq .bandwidth.egress.guaranteeBitRate\n"
	"    netctl quota get web-1 -o yaml\n"
	"    netctl quota get --cgroup /sys/fs/cgroup/system.slice/backup.service\n";

static const char netctl_help_quota_set[] =
	"NAME\n"
	"    netctl quota set - change one workload's bandwidth guarantee, limit or priority\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl quota set ID [IFNAME] [--ingress-guarantee RATE] [--ingress-limit RATE]\n"
	"                     [--egress-guarantee RATE] [--egress-limit RATE] [--priority N]\n"
	"                     [-o table|wide|json|yaml] [--socket PATH] [--timeout DURATION]\n"
	"    netctl quota set --cgroup PATH [--ingress-guarantee RATE] [--ingress-limit RATE]\n"
	"                     [--egress-guarantee RATE] [--egress-limit RATE] [--priority N]\n"
	"                     [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    Changes what a running workload of this host asks for, and with it its share of the\n"
	"    host's bandwidth.  The values given change; every other value stays as the workload\n"
	"    asked for it before (netctl quota get shows them; a burst the runtime asked for is\n"
	"    kept too).  A RATE of 0 or default, and --priority default, clear a value: the\n"
	"    workload then gets the value of the bandwidth policy that applies to it (netctl\n"
	"    policy), or shoald's default.  A value set here wins over any policy's.  At least\n"
	"    one option must be given.\n"
	"\n"
	"    netctl reads what the workload asked for (API operation workloads), sets the values\n"
	"    given, and sends the whole set (API operation quota), which replaces the old one.\n"
	"    shoald admits it before it changes anything: each guarantee must fit in what the other\n"
	"    workloads' guarantees leave free of the host's capacity (netctl status), and a limit\n"
	"    may not exceed the capacity.  A refused change leaves the workload as it was.  An\n"
	"    admitted one takes effect at once (the HTB classes are changed in place; connections\n"
	"    go on) and is kept across restarts of shoald, for as long as the attachment lives: a\n"
	"    new ADD of the container starts again from what its runtime asks for.  Prints the new\n"
	"    share as netctl quota get does.\n"
	"\n"
	"    ID is a container id, or the beginning of exactly one container's id, and IFNAME the\n"
	"    interface of a container that has several, as for netctl workload get.\n"
	"\n"
	"    --cgroup PATH changes a cgroup's quota the same way, or gives a cgroup that has none\n"
	"    a quota of its own: the values given, shoald's defaults for the others (no option at\n"
	"    all: every value the default).  shoald reads PATH (CGROUPS below) and refuses a\n"
	"    directory that is not a cgroup, a path outside the mount, and a cgroup that has a\n"
	"    quota under another path already.\n"
	"\n"
	"OPTIONS\n"
	"    --ingress-guarantee RATE\n"
	"        The rate guaranteed to the traffic to the workload.\n"
	"    --ingress-limit RATE\n"
	"        The most the traffic to the workload may use, borrowing what others leave idle.\n"
	"    --egress-guarantee RATE\n"
	"        The rate guaranteed to the traffic from the workload.\n"
	"    --egress-limit RATE\n"
	"        The most the traffic from the workload may use.\n"
	"    --priority N\n"
	"        0 to 7: the order in which idle bandwidth is lent, 0 first; default: shoald's\n"
	"        default priority.\n"
	"\n"
	"    A guarantee may not be above the limit of its direction, whether the limit is given\n"
	"    with it or was asked for before.  With -o json or -o yaml: as netctl quota get, with\n"
	"    the share shoald answered and what the workload asks for now.\n"
	"\n"
	NETCTL_HELP_CGROUP
	"\n"
	NETCTL_HELP_RATES
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    No option to change (for a container), a bad RATE or priority, a guarantee above\n"
	"    the limit given with it, and both or neither of ID and --cgroup exit 2.  A missing\n"
	"    or ambiguous workload, a host whose shoald shapes nothing (no \"bandwidth\" in its\n"
	"    config), a guarantee above the limit the workload asked for before, a cgroup path\n"
	"    shoald refuses, and a change shoald refuses exit 1; shoald's reason names the\n"
	"    numbers:\n"
	"\n"
	"        netctl: shoald: bandwidth refused by admission control: egress guarantee\n"
	"        300mbit for web-0 does not fit: 120mbit of the host's 200mbit already\n"
	"        guaranteed, 80mbit free (code 107)\n"
	"\n"
	"EXAMPLES\n"
	"    netctl quota set web-0 --egress-guarantee 100mbit --egress-limit 500mbit\n"
	"    netctl quota set 0123456789ab net1 --priority 1\n"
	"    netctl quota set web-0 --ingress-limit default --priority default\n"
	"    netctl quota set web-0 --ingress-guarantee 12.5mbps -o json | jq .bandwidth.ingress\n"
	"    netctl quota set --cgroup system.slice/backup.service --egress-limit 200mbit\n"
	"    netctl quota set --cgroup system.slice/nightly.slice\n";

static const char netctl_help_quota_delete[] =
	"NAME\n"
	"    netctl quota delete - take a cgroup's bandwidth quota away\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl quota delete --cgroup PATH [-o table|wide|json|yaml] [--socket PATH]\n"
	"                        [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Removes the quota netctl quota set --cgroup gave a cgroup (API operation\n"
	"    quotaDelete): its class and its classifier entry go, its guarantee is free for\n"
	"    others, and its traffic is unclassified again (shaped with the host's other\n"
	"    unclassified traffic).  Prints \"quota of cgroup PATH deleted\".  A container's quota\n"
	"    cannot be deleted: it goes with the container; netctl quota set ID with 0 or default\n"
	"    puts its values back to the defaults.\n"
	"\n"
	"    With -o json or -o yaml: {\"cgroup\": PATH}.\n"
	"\n"
	NETCTL_HELP_CGROUP
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A cgroup without a quota, and a bad PATH, exit 1 with shoald's reason.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl quota delete --cgroup system.slice/backup.service\n"
	"    netctl quota rm --cgroup /sys/fs/cgroup/unified/batch.slice\n";

/* How policies and a workload's own values combine: policy, policy set, quota set. */
#define NETCTL_HELP_POLICY_PRECEDENCE \
	"    A workload's own values win: those its runtime asked for when it was added (the CNI\n" \
	"    bandwidth capability, SHOAL_* keys in CNI_ARGS) and those netctl quota set gave it.\n" \
	"    A policy fills in only what the workload left unset; where a policy's value\n" \
	"    contradicts the workload's own (a policy guarantee above the workload's own limit),\n" \
	"    the workload's value bounds it.  When several policies match a workload, the one\n" \
	"    with the most match keys applies, and of those the first by name; only one policy\n" \
	"    ever applies to a workload (netctl quota get names it).\n" \
	"\n" \
	"    A change is applied at once by every host's shoald to its running workloads (the\n" \
	"    HTB classes are changed in place; connections go on).  Admission control still\n" \
	"    holds: where a policy's guarantee does not fit in what a host has free, that\n" \
	"    workload keeps the share it had, that host's shoald logs why, and tries again at its\n" \
	"    next reconcile.\n"

static const char netctl_help_policy[] =
	"NAME\n"
	"    netctl policy - bandwidth policies: shares given to workloads by what they are\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl policy list [OPTIONS]\n"
	"    netctl policy set NAME (--match KEY=PATTERN ... | --all) [--ingress-guarantee RATE]\n"
	"                      [--ingress-limit RATE] [--egress-guarantee RATE]\n"
	"                      [--egress-limit RATE] [--priority N] [OPTIONS]\n"
	"    netctl policy delete NAME [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    A policy gives bandwidth (guarantees, limits, priority, as netctl quota describes\n"
	"    them) to every workload it matches, on every host: policies are kept in the shared\n"
	"    store, and each host's shoald applies them to its own workloads, those running now\n"
	"    and those added later.  A policy matches on what the runtime tells about a workload:\n"
	"    its pod's namespace, name and UID (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID in\n"
	"    CNI_ARGS) and the CNI network name (network), with shell patterns.\n"
	"\n"
	NETCTL_HELP_POLICY_PRECEDENCE
	"\n"
	"COMMANDS\n"
	"    list      every policy, and how many workloads of this host it applies to (alias: ls)\n"
	"    set       create a policy, or replace the one of that name\n"
	"    delete    remove a policy (alias: rm)\n"
	"\n"
	"    See netctl policy list --help, netctl policy set --help and netctl policy delete\n"
	"    --help.\n"
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl policy list\n"
	"    netctl policy list -o yaml\n"
	"    netctl policy set prod --match K8S_POD_NAMESPACE=prod --egress-guarantee 50mbit\n"
	"    netctl policy delete prod\n";

static const char netctl_help_policy_list[] =
	"NAME\n"
	"    netctl policy list - the bandwidth policies of the network\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl policy list [-o table|wide|json|yaml] [--no-headers] [--socket PATH]\n"
	"                       [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the policies in the shared store, sorted by name (API operation policies), with\n"
	"    how many of this host's workloads each one applies to now.  A policy the store holds\n"
	"    but that does not parse (written by hand, or by a newer shoald) is listed with the\n"
	"    reason in an ERROR column; no host applies it.\n"
	"\n"
	"COLUMNS\n"
	"    NAME        the policy's name\n"
	"    MATCH       KEY=PATTERN,...: what a workload must match, every key; * when it\n"
	"                matches every workload\n"
	"    INGRESS     GUARANTEE/LIMIT of the traffic to the workloads, in tc's units\n"
	"                (100mbit/1gbit); - for a value the policy does not set (- alone: neither)\n"
	"    EGRESS      GUARANTEE/LIMIT of the traffic from the workloads\n"
	"    PRIORITY    0..7, or - when the policy sets none\n"
	"    WORKLOADS   how many workloads of this host the policy applies to (a workload it\n"
	"                matches but a policy with more keys also matches is not counted)\n"
	"    ERROR       only when a policy does not parse: why\n"
	"  With -o wide also:\n"
	"    IN BURST    the ingress burst the policy sets (bits), - when none\n"
	"    OUT BURST   the egress burst\n"
	"\n"
	"    With -o json or -o yaml: the API's list, each {\"name\", \"match\": {KEY: PATTERN},\n"
	"    \"bandwidth\": {\"ingress\": {\"guarantee\", \"limit\", \"burst\"}, \"egress\": {...},\n"
	"    \"priority\"}, \"workloads\"} with rates in bit/s, or {\"name\", \"error\"} for a policy\n"
	"    that does not parse.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl policy list\n"
	"    netctl policy list -o json | jq -r '.[] | select(.error) | .name'\n"
	"    netctl policy list --no-headers | awk '$6 == 0 { print $1 }'\n";

static const char netctl_help_policy_set[] =
	"NAME\n"
	"    netctl policy set - create or replace a bandwidth policy\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl policy set NAME (--match KEY=PATTERN ... | --all) [--ingress-guarantee RATE]\n"
	"                      [--ingress-limit RATE] [--egress-guarantee RATE]\n"
	"                      [--egress-limit RATE] [--priority N] [-o table|wide|json|yaml]\n"
	"                      [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Writes the policy NAME into the shared store (API operation policySet): it replaces a\n"
	"    policy of that name whole, so give everything it is to have.  Every host's shoald\n"
	"    applies it to the workloads it matches.  Prints the policy written, one field per\n"
	"    line.  NAME: a letter or digit, then letters, digits, '_', '.' or '-'; at most 63\n"
	"    bytes.\n"
	"\n"
	NETCTL_HELP_POLICY_PRECEDENCE
	"\n"
	"OPTIONS\n"
	"    --match KEY=PATTERN\n"
	"        A workload matches when its KEY matches the shell PATTERN (fnmatch(3): *, ?,\n"
	"        [...]; quote it from the shell).  Repeat for several keys, at most one pattern\n"
	"        per key: a workload must match them all.  KEY is one of\n"
	"            K8S_POD_NAMESPACE   the pod's namespace\n"
	"            K8S_POD_NAME        the pod's name\n"
	"            K8S_POD_UID         the pod's UID\n"
	"            network             the CNI network name of the attachment\n"
	"            cgroup              a cgroup with a quota of its own (netctl quota set\n"
	"                                --cgroup): PATTERN is a path prefix below the cgroup v2\n"
	"                                mount, whole components, each a shell pattern\n"
	"                                (system.slice/backup-*.service, batch.slice)\n"
	"        A workload its runtime did not name (no CNI_ARGS) has \"\" there: only * matches.\n"
	"        The pod keys match containers only, cgroup matches cgroups only; --all matches\n"
	"        both.\n"
	"    --all\n"
	"        Match every workload (a policy without keys: any policy with keys wins over it).\n"
	"        Give --all or --match, not both.\n"
	"    --ingress-guarantee RATE, --ingress-limit RATE\n"
	"        The rate guaranteed to the traffic to each workload, and the most it may use.\n"
	"    --egress-guarantee RATE, --egress-limit RATE\n"
	"        The same for the traffic from each workload.\n"
	"    --priority N\n"
	"        0 to 7: the order in which idle bandwidth is lent, 0 first.\n"
	"\n"
	"    At least one of them must be given.  A value left out is not set by the policy (the\n"
	"    workload's own value or shoald's default applies); 0 and default, which clear a\n"
	"    value in netctl quota set, are refused here.  A guarantee may not be above the limit\n"
	"    of its direction.  RATE is in tc's units, as for netctl quota set (10mbps is 80mbit).\n"
	"\n"
	"    With -o json or -o yaml: the policy as the API answered it, {\"name\", \"match\",\n"
	"    \"bandwidth\"}, rates in bit/s.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A bad NAME, --match or RATE, neither --match nor --all, nothing to set, 0 or default,\n"
	"    and a guarantee above the limit given with it exit 2.  A policy shoald refuses, and a\n"
	"    store it cannot write, exit 1.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl policy set prod-web --match K8S_POD_NAMESPACE=prod --match 'K8S_POD_NAME=web-*' \\\n"
	"        --egress-guarantee 100mbit --egress-limit 1gbit --priority 2\n"
	"    netctl policy set batch --match 'K8S_POD_NAMESPACE=batch-*' --egress-limit 200mbit \\\n"
	"        --priority 6\n"
	"    netctl policy set floor --all --ingress-guarantee 5mbit --egress-guarantee 5mbit\n"
	"    netctl policy set storage --match network=storage-net --priority 1 -o json\n";

static const char netctl_help_policy_delete[] =
	"NAME\n"
	"    netctl policy delete - remove a bandwidth policy\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl policy delete NAME [-o table|wide|json|yaml] [--socket PATH]\n"
	"                         [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Deletes the policy NAME from the shared store (API operation policyDelete) and prints\n"
	"    \"policy NAME deleted\".  Every host's shoald takes it away from its workloads at once:\n"
	"    each gets what another policy that matches it gives, or only its own values and\n"
	"    shoald's defaults.\n"
	"\n"
	"    With -o json or -o yaml: the API's answer, {\"name\", \"revision\"} (the store's\n"
	"    revision of the deletion).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A policy that does not exist exits 1 (\"no such policy\").\n"
	"\n"
	"EXAMPLES\n"
	"    netctl policy delete prod-web\n"
	"    netctl policy rm batch\n";

static const char netctl_help_top_command[] =
	"NAME\n"
	"    netctl top - each workload's bandwidth now, in both directions\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl top [--interval DURATION] [--count N] [--namespace NS] [--pod NAME]\n"
	"               [-o table|wide|json|yaml] [--no-headers] [--no-trunc] [--socket PATH]\n"
	"               [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Shows how much bandwidth each workload of this host uses, like top(1) shows processes:\n"
	"    netctl asks shoald for the workloads and their counters (API operation workloads)\n"
	"    every interval, and prints the rates between two answers, busiest workload first.\n"
	"    The first frame comes one interval after the start.  On a terminal each frame\n"
	"    replaces the previous one; otherwise frames follow each other, separated by a blank\n"
	"    line.  It runs until interrupted (Ctrl-C) or for --count frames.\n"
	"\n"
	"    The counters are the kernel's, those of the workload's HTB class in each direction\n"
	"    (shoal-in for ingress, the traffic to the workload; shoal-out for egress, the\n"
	"    traffic from it; see docs/bandwidth.md).  They count whole frames, Ethernet header\n"
	"    included, as the guarantee and the limit do: a TCP flow at its limit shows the\n"
	"    limit here, and about 95 % of it as goodput in the application.  Traffic between two\n"
	"    workloads of this host is not shaped and not counted (exemptLocal).\n"
	"\n"
	"    Needs a shoald that shapes bandwidth (\"bandwidth\" in its config, shoald.json(5)).\n"
	"\n"
	"    The cgroups with a bandwidth quota of their own (netctl quota set --cgroup) are\n"
	"    shown like the workloads, as cgroup:PATH with POD -; --namespace and --pod leave them\n"
	"    out.\n"
	"\n"
	"COLUMNS\n"
	"    CONTAINER ID          the container id (12 digits; whole with --no-trunc), or\n"
	"                          cgroup:PATH\n"
	"    POD                   NAMESPACE/POD the runtime named, - when none\n"
	"    IN RATE               traffic to the workload, per second over the last interval\n"
	"    IN GUARANTEE/LIMIT    its ingress guarantee and limit (netctl quota get)\n"
	"    OUT RATE              traffic from the workload\n"
	"    OUT GUARANTEE/LIMIT   its egress guarantee and limit\n"
	"    DROPS                 packets dropped in the interval because its queue was full\n"
	"                          (both directions): it sends more than its limit allows\n"
	"    BORROWS               packets sent in the interval on bandwidth borrowed above its\n"
	"                          guarantee (both directions): idle bandwidth of others\n"
	"  With -o wide also:\n"
	"    IFNAME                the interface inside the container\n"
	"    ADDRESS               the workload's address\n"
	"\n"
	"    Rates are in bit/s, in powers of 1000 with one decimal: 47.7mbit is 47 700 000\n"
	"    bit/s.  A rate is - for a workload that appeared during the interval, one shoald has\n"
	"    not admitted (no share), and when its class was re-created.  A line above the table\n"
	"    sums the rates (left out with --no-headers, like the header line).\n"
	"\n"
	"    With -o json: one compact JSON object per frame and line (JSON Lines),\n"
	"\n"
	"        {\"sample\": {\"timestamp\": \"2026-12-02T06:40:01.234Z\", \"intervalMs\": 1001,\n"
	"         \"workloads\": [{\"containerId\", \"ifname\", \"address\", \"namespace\", \"pod\",\n"
	"         \"bitRate\", \"ingress\": {...}, \"egress\": {...}}]}}\n"
	"\n"
	"    where each direction has bitRate and packetRate (per second), the counters' growth\n"
	"    in the interval (bytes, packets, drops, overlimits, borrows) and the share\n"
	"    (guaranteeBitRate, limitBitRate); unknown values are null, and bitRate of the\n"
	"    workload is the sum of both directions.  A cgroup is {\"kind\": \"cgroup\", \"cgroup\",\n"
	"    \"bitRate\", \"ingress\", \"egress\"}.  With -o yaml: the same, one document per\n"
	"    frame, each after ---.\n"
	"\n"
	"OPTIONS\n"
	"    --interval DURATION\n"
	"        Time between samples: 1 or 1s (default), 500ms, 2.5s, 1m.  Rates are averages\n"
	"        over it.\n"
	"    --count N\n"
	"        Stop after N frames (N + 1 requests).\n"
	"    -n, --namespace NS, --pod NAME\n"
	"        Only the workloads of that Kubernetes namespace, or that pod.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"    A host whose shoald shapes nothing (no \"bandwidth\" in its config) exits 1.  A\n"
	"    sample that fails ends top with that sample's error: frames are only worth showing\n"
	"    when they follow each other.\n"
	"\n"
	"EXAMPLES\n"
	"    netctl top\n"
	"    netctl top --interval 5s -n prod\n"
	"    netctl top -o wide --count 3 >rates.txt\n"
	"    netctl top -o json --count 10 | jq -c '.sample.workloads[] | [.pod, .egress.bitRate]'\n";

static const char netctl_help_version[] =
	"NAME\n"
	"    netctl version - the versions of netctl and of this host's shoald\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl version [-o table|wide|json|yaml] [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints netctl's own version and asks shoald for its version (the status operation):\n"
	"\n"
	"        netctl: " NETCTL_VERSION "\n"
	"        shoald: " NETCTL_VERSION "\n"
	"\n"
	"    When shoald cannot be reached netctl's version is still printed, with\n"
	"    \"shoald: unreachable\" and the reason on stderr, and the exit status is 3.  When\n"
	"    shoald answers with an error the line says \"unknown\" and the exit status is 1.\n"
	"    With -o json or -o yaml: {\"netctl\": VERSION, \"shoald\": VERSION or null}.\n"
	"\n"
	"    netctl --version prints netctl's version only and does not ask shoald.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl version\n"
	"    netctl version -o json | jq -r .shoald\n";

const char *netctl_help_text(enum netctl_topic topic)
{
	switch (topic) {
	case NETCTL_TOPIC_STATUS: return netctl_help_status;
	case NETCTL_TOPIC_SUBNET: return netctl_help_subnet;
	case NETCTL_TOPIC_SUBNET_LIST: return netctl_help_subnet_list;
	case NETCTL_TOPIC_SUBNET_RELEASE: return netctl_help_subnet_release;
	case NETCTL_TOPIC_HOST: return netctl_help_host;
	case NETCTL_TOPIC_HOST_LIST: return netctl_help_host_list;
	case NETCTL_TOPIC_NETWORK: return netctl_help_network;
	case NETCTL_TOPIC_NETWORK_SHOW: return netctl_help_network_show;
	case NETCTL_TOPIC_NODE: return netctl_help_node;
	case NETCTL_TOPIC_NODE_LEAVE: return netctl_help_node_leave;
	case NETCTL_TOPIC_WORKLOAD: return netctl_help_workload;
	case NETCTL_TOPIC_WORKLOAD_LIST: return netctl_help_workload_list;
	case NETCTL_TOPIC_WORKLOAD_GET: return netctl_help_workload_get;
	case NETCTL_TOPIC_QUOTA: return netctl_help_quota;
	case NETCTL_TOPIC_QUOTA_GET: return netctl_help_quota_get;
	case NETCTL_TOPIC_QUOTA_SET: return netctl_help_quota_set;
	case NETCTL_TOPIC_QUOTA_DELETE: return netctl_help_quota_delete;
	case NETCTL_TOPIC_POLICY: return netctl_help_policy;
	case NETCTL_TOPIC_POLICY_LIST: return netctl_help_policy_list;
	case NETCTL_TOPIC_POLICY_SET: return netctl_help_policy_set;
	case NETCTL_TOPIC_POLICY_DELETE: return netctl_help_policy_delete;
	case NETCTL_TOPIC_TOP_COMMAND: return netctl_help_top_command;
	case NETCTL_TOPIC_VERSION: return netctl_help_version;
	case NETCTL_TOPIC_TOP:
	case NETCTL_N_TOPICS:
		break;
	}
	return netctl_help_top;
}
