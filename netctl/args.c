#include "netctl/args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/ipc.h"

/* The longest command: help workload get ID IFNAME. */
#define NETCTL_MAX_WORDS 5

static int netctl_args_fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int netctl_args_fail(char *err, size_t err_size, const char *fmt, ...)
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

/* Map the positional words to a topic (and `workload get`'s ID and IFNAME).  Words past the
 * command are an error.  A missing ID is checked later: `netctl workload get --help` needs none. */
static int netctl_args_topic(char **words, int n, struct netctl_args *a, char *err, size_t err_size)
{
	enum netctl_topic group;
	const char *gname;

	a->id = a->ifname = NULL;
	if (n == 0) {
		a->topic = NETCTL_TOPIC_TOP;
		return 0;
	}
	if (netctl_word_is(words[0], "status", NULL) || netctl_word_is(words[0], "version", NULL)) {
		if (n > 1)
			return netctl_args_fail(err, err_size, "%s: unexpected argument '%s'", words[0], words[1]);
		a->topic = words[0][0] == 's' ? NETCTL_TOPIC_STATUS : NETCTL_TOPIC_VERSION;
		return 0;
	}
	if (netctl_word_is(words[0], "subnet", "subnets")) {
		group = NETCTL_TOPIC_SUBNET;
		gname = "subnet";
	} else if (netctl_word_is(words[0], "workload", "workloads")) {
		group = NETCTL_TOPIC_WORKLOAD;
		gname = "workload";
	} else {
		return netctl_args_fail(err, err_size, "unknown command '%s'", words[0]);
	}
	if (n == 1) {
		a->topic = group;
		return 0;
	}
	if (group == NETCTL_TOPIC_WORKLOAD && netctl_word_is(words[1], "get", NULL)) {
		if (n > 4)
			return netctl_args_fail(err, err_size, "workload get: unexpected argument '%s'", words[4]);
		a->topic = NETCTL_TOPIC_WORKLOAD_GET;
		a->id = n > 2 ? words[2] : NULL;
		a->ifname = n > 3 ? words[3] : NULL;
		return 0;
	}
	if (!netctl_word_is(words[1], "list", "ls"))
		return netctl_args_fail(err, err_size, "%s: unknown command '%s'", gname, words[1]);
	if (n > 2)
		return netctl_args_fail(err, err_size, "%s list: unexpected argument '%s'", gname, words[2]);
	a->topic = group == NETCTL_TOPIC_SUBNET ? NETCTL_TOPIC_SUBNET_LIST : NETCTL_TOPIC_WORKLOAD_LIST;
	return 0;
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

/* Options that only some commands take.  Checked once the command is known, so they may stand
 * anywhere on the line. */
static int netctl_args_check(const struct netctl_args *a, bool interval_set, bool count_set, char *err,
			     size_t err_size)
{
	bool lists = a->topic == NETCTL_TOPIC_STATUS || a->topic == NETCTL_TOPIC_SUBNET_LIST ||
		     a->topic == NETCTL_TOPIC_WORKLOAD_LIST;

	if (a->topic == NETCTL_TOPIC_WORKLOAD_GET && !a->id)
		return netctl_args_fail(err, err_size, "workload get: missing container id (netctl workload get ID [IFNAME])");
	if (a->topic == NETCTL_TOPIC_WORKLOAD_GET && !*a->id)
		return netctl_args_fail(err, err_size, "workload get: empty container id");
	if (a->watch && !lists)
		return netctl_args_fail(err, err_size, "option --watch works with status, subnet list and workload list");
	if (interval_set && !a->watch)
		return netctl_args_fail(err, err_size, "option --interval needs --watch");
	if (count_set && !a->watch)
		return netctl_args_fail(err, err_size, "option --count needs --watch");
	if ((a->filter_namespace || a->filter_pod) && a->topic != NETCTL_TOPIC_WORKLOAD_LIST)
		return netctl_args_fail(err, err_size, "options --namespace and --pod work with workload list only");
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
	int n_words = 0, r;

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
		} else if (netctl_opt_is(arg, "--pod", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, strlen("--pod"));
			if (!v)
				return netctl_args_fail(err, err_size, "option --pod needs a pod name");
			a.filter_pod = v;
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
		return netctl_args_fail(err, err_size, "missing command (status, subnet list, workload list, workload get, version)");
	} else if (a.topic == NETCTL_TOPIC_SUBNET) {
		return netctl_args_fail(err, err_size, "subnet: missing command (list)");
	} else if (a.topic == NETCTL_TOPIC_WORKLOAD) {
		return netctl_args_fail(err, err_size, "workload: missing command (list, get)");
	} else {
		r = netctl_args_check(&a, interval_set, count_set, err, err_size);
		if (r < 0)
			return r;
	}
	*ret = a;
	return 0;
}

#define NETCTL_HELP_OPTIONS \
	"GLOBAL OPTIONS\n" \
	"    -o, --output FORMAT\n" \
	"        table (default): aligned columns for people.  wide: the table with the columns it\n" \
	"        leaves out appended (status, version and workload get show every field already, so\n" \
	"        wide is the same as table there).  json: the API's objects for programs; lists are\n" \
	"        a JSON array sorted like the table, the others one object.  yaml: the same values\n" \
	"        as json, in YAML; strings a YAML reader could take for a number, a boolean or null\n" \
	"        are quoted.\n" \
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
	"        workload get: no such workload, or the id or interface is ambiguous\n" \
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
	"    netctl workload list [-w] [--namespace NS] [--pod NAME]\n"
	"    netctl workload get ID [IFNAME]\n"
	"    netctl version\n"
	"    netctl help [COMMAND]\n"
	"\n"
	"DESCRIPTION\n"
	"    netctl talks to shoald over its local API socket (docs/api.md).  It needs the rights to\n"
	"    connect to that socket: root, or the socket's group.\n"
	"\n"
	"COMMANDS\n"
	"    status          this host's shoald: node, subnet, gateway, store, workloads, uptime\n"
	"    subnet list     every subnet lease of the network, one per host (alias: subnets ls)\n"
	"    workload list   the containers attached on this host (alias: workloads ls)\n"
	"    workload get    everything about one attachment, by container id or a prefix of it\n"
	"    version         the versions of netctl and of this host's shoald\n"
	"    help COMMAND    the help of COMMAND, same as COMMAND --help\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"WATCH OPTIONS (status, subnet list, workload list)\n"
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
	"    netctl subnet list -o json | jq -r '.[] | select(.self) | .subnet'\n"
	"    netctl workload list -o wide --watch\n"
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
	"    netctl status --timeout 1s >/dev/null && echo shoald is up\n"
	"    netctl status -w --interval 5s\n"
	"    netctl status -o json -w --count 60 >status.jsonl\n";

static const char netctl_help_subnet[] =
	"NAME\n"
	"    netctl subnet - the network's per-host subnets\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl subnet list [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list    every subnet lease in the store (alias: ls)\n"
	"\n"
	"    See netctl subnet list --help.\n";

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
	"    Lists the subnet leases in the shared store, one per host, sorted by address.\n"
	"\n"
	"COLUMNS\n"
	"    SUBNET      the host's container subnet\n"
	"    NODE        the host that holds the lease\n"
	"    PUBLIC IP   the host's underlay address (VXLAN endpoint); - when not announced\n"
	"    VTEP MAC    the MAC address of the host's VXLAN device; - when not announced\n"
	"    LEASE TTL   the lease's time to live in seconds; the host renews it while it runs;\n"
	"                - for other hosts' leases\n"
	"    SELF        yes for the subnet of the host you asked\n"
	"  With -o wide also:\n"
	"    LEASE ID    the store's lease id\n"
	"\n"
	"    With -o json or -o yaml: a list of the API's subnet objects (subnet, node, publicIP,\n"
	"    vtepMAC, lease, leaseTTL, self).\n"
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
	"    netctl subnet list -o json | jq -r '.[] | \"\\(.node) \\(.subnet)\"'\n";

static const char netctl_help_workload[] =
	"NAME\n"
	"    netctl workload - the containers attached on this host\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload list [OPTIONS]\n"
	"    netctl workload get ID [IFNAME] [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list    every attachment shoald knows on this host (alias: ls)\n"
	"    get     everything about one attachment\n"
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
	"\n"
	"    With -o json or -o yaml: a list of the API's workload objects (containerId, ifname,\n"
	"    address, hostVeth, netns, network, created, state, pod, namespace, podUID), ids never\n"
	"    shortened.\n"
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
	"    netctl workload list -w --interval 1s\n";

static const char netctl_help_workload_get[] =
	"NAME\n"
	"    netctl workload get - everything about one attachment\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload get ID [IFNAME] [-o table|wide|json|yaml] [--socket PATH]\n"
	"                        [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints one attachment of this host, one field per line: container id (whole),\n"
	"    interface, address, pod namespace, name and UID, host veth, network namespace path,\n"
	"    CNI network, when it was created (UTC, and how long ago) and its state.  Fields a newer\n"
	"    shoald adds follow under their API name.\n"
	"\n"
	"    ID is a container id, or the beginning of one as the tables show it (12 digits) or\n"
	"    shorter: it must begin the id of exactly one container.  A whole id always names its\n"
	"    own container, even when it also begins a longer one.  IFNAME picks the interface when\n"
	"    the container has several; it may be left out when the container has one.\n"
	"\n"
	"    With -o json or -o yaml: the API's workload object.\n"
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
	"    netctl workload get web-1 -o json | jq -r .hostVeth\n";

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
	case NETCTL_TOPIC_WORKLOAD: return netctl_help_workload;
	case NETCTL_TOPIC_WORKLOAD_LIST: return netctl_help_workload_list;
	case NETCTL_TOPIC_WORKLOAD_GET: return netctl_help_workload_get;
	case NETCTL_TOPIC_VERSION: return netctl_help_version;
	case NETCTL_TOPIC_TOP:
	case NETCTL_N_TOPICS:
		break;
	}
	return netctl_help_top;
}
