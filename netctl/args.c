#include "netctl/args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/ipc.h"

#define NETCTL_MAX_WORDS 4

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

/* Map the positional words to a topic.  Words past the command are an error. */
static int netctl_args_topic(char **words, int n, enum netctl_topic *ret, char *err, size_t err_size)
{
	enum netctl_topic group, verb;
	const char *gname;

	if (n == 0) {
		*ret = NETCTL_TOPIC_TOP;
		return 0;
	}
	if (netctl_word_is(words[0], "status", NULL)) {
		if (n > 1)
			return netctl_args_fail(err, err_size, "status: unexpected argument '%s'", words[1]);
		*ret = NETCTL_TOPIC_STATUS;
		return 0;
	}
	if (netctl_word_is(words[0], "subnet", "subnets")) {
		group = NETCTL_TOPIC_SUBNET;
		verb = NETCTL_TOPIC_SUBNET_LIST;
		gname = "subnet";
	} else if (netctl_word_is(words[0], "workload", "workloads")) {
		group = NETCTL_TOPIC_WORKLOAD;
		verb = NETCTL_TOPIC_WORKLOAD_LIST;
		gname = "workload";
	} else {
		return netctl_args_fail(err, err_size, "unknown command '%s'", words[0]);
	}
	if (n == 1) {
		*ret = group;
		return 0;
	}
	if (!netctl_word_is(words[1], "list", "ls"))
		return netctl_args_fail(err, err_size, "%s: unknown command '%s'", gname, words[1]);
	if (n > 2)
		return netctl_args_fail(err, err_size, "%s list: unexpected argument '%s'", gname, words[2]);
	*ret = verb;
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
	};
	char *words[NETCTL_MAX_WORDS];
	bool help = false, version = false, only_words = false;
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
		} else if (netctl_opt_is(arg, "-o", true) || netctl_opt_is(arg, "--output", false)) {
			v = netctl_opt_value(argc, argv, &i, arg, arg[1] == '-' ? strlen("--output") : 2);
			if (!v)
				return netctl_args_fail(err, err_size, "option %s needs a value: table or json", arg);
			if (strcmp(v, "json") == 0)
				a.output = NETCTL_OUTPUT_JSON;
			else if (strcmp(v, "table") == 0)
				a.output = NETCTL_OUTPUT_TABLE;
			else
				return netctl_args_fail(err, err_size, "unknown output format '%s' (table or json)", v);
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
		} else {
			return netctl_args_fail(err, err_size, "unknown option '%s'", arg);
		}
	}
	r = netctl_args_topic(words, n_words, &a.topic, err, err_size);
	/* `netctl help [COMMAND...]` is the same as `netctl [COMMAND...] --help`. */
	if (r < 0 && n_words > 0 && strcmp(words[0], "help") == 0) {
		help = true;
		r = netctl_args_topic(words + 1, n_words - 1, &a.topic, err, err_size);
	}
	if (r < 0)
		return r;
	if (help)
		a.action = NETCTL_ACTION_HELP;
	else if (version)
		a.action = NETCTL_ACTION_VERSION;
	else if (a.topic == NETCTL_TOPIC_TOP)
		return netctl_args_fail(err, err_size, "missing command (status, subnet list, workload list)");
	else if (a.topic == NETCTL_TOPIC_SUBNET)
		return netctl_args_fail(err, err_size, "subnet: missing command (list)");
	else if (a.topic == NETCTL_TOPIC_WORKLOAD)
		return netctl_args_fail(err, err_size, "workload: missing command (list)");
	*ret = a;
	return 0;
}

#define NETCTL_HELP_OPTIONS \
	"GLOBAL OPTIONS\n" \
	"    -o, --output FORMAT\n" \
	"        table (default): aligned columns for people; json: the API's objects for programs.\n" \
	"        Lists are printed as a JSON array sorted like the table; status as one object.\n" \
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
	"        Print netctl's version.\n" \
	"    Options may be given before or after the command.\n"

#define NETCTL_HELP_EXIT \
	"EXIT STATUS\n" \
	"    0   success\n" \
	"    1   shoald answered with an error (its message is printed), or with an unusable answer\n" \
	"    2   usage error: unknown command or option, bad option value\n" \
	"    3   shoald is not reachable: no socket, connection refused, permission denied, no answer\n" \
	"        within the timeout\n"

static const char netctl_help_top[] =
	"NAME\n"
	"    netctl - inspect shoal, the container network, through this host's shoald\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl [OPTIONS] COMMAND\n"
	"    netctl status\n"
	"    netctl subnet list\n"
	"    netctl workload list\n"
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
	"    help COMMAND    the help of COMMAND, same as COMMAND --help\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	"ENVIRONMENT\n"
	"    SHOAL_SOCKET    the socket to use when --socket is not given\n"
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl status\n"
	"    netctl workload list\n"
	"    netctl subnet list -o json | jq -r '.[] | select(.self) | .subnet'\n"
	"    netctl --socket /tmp/lab/n1.sock --timeout 1s status\n";

static const char netctl_help_status[] =
	"NAME\n"
	"    netctl status - show this host's shoald\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl status [-o table|json] [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Asks shoald for its status and prints one field per line: node name, version, store,\n"
	"    network, this host's subnet and gateway, bridge, MTU, number of workloads, free\n"
	"    addresses, deletions still pending, and uptime.  A successful answer means shoald is\n"
	"    up and serving (the plugin's CNI STATUS asks the same question).  With -o json the\n"
	"    API's status object is printed without its \"ok\" member.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl status\n"
	"    netctl status -o json | jq .addressesFree\n"
	"    netctl status --timeout 1s >/dev/null && echo shoald is up\n";

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
	"    netctl subnet list [-o table|json] [--no-headers] [--socket PATH] [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the subnet leases in the shared store, one per host, sorted by address.\n"
	"\n"
	"COLUMNS\n"
	"    SUBNET      the host's container subnet\n"
	"    NODE        the host that holds the lease\n"
	"    PUBLIC IP   the host's underlay address (VXLAN endpoint); - when not announced\n"
	"    VTEP MAC    the MAC address of the host's VXLAN device; - when not announced\n"
	"    LEASE TTL   the lease's time to live in seconds; the host renews it while it runs\n"
	"    SELF        yes for the subnet of the host you asked\n"
	"\n"
	"    With -o json: an array of the API's subnet objects (subnet, node, publicIP, vtepMAC,\n"
	"    leaseTTL, self).\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl subnet list\n"
	"    netctl subnet list -o json | jq -r '.[] | \"\\(.node) \\(.subnet)\"'\n";

static const char netctl_help_workload[] =
	"NAME\n"
	"    netctl workload - the containers attached on this host\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload list [OPTIONS]\n"
	"\n"
	"COMMANDS\n"
	"    list    every attachment shoald knows on this host (alias: ls)\n"
	"\n"
	"    See netctl workload list --help.\n";

static const char netctl_help_workload_list[] =
	"NAME\n"
	"    netctl workload list - the containers attached on this host\n"
	"\n"
	"SYNOPSIS\n"
	"    netctl workload list [-o table|json] [--no-headers] [--no-trunc] [--socket PATH]\n"
	"                         [--timeout DURATION]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the attachments of this host's shoald, sorted by container id and interface.\n"
	"    An attachment is one (container id, interface name) pair added by the CNI plugin.\n"
	"\n"
	"COLUMNS\n"
	"    CONTAINER ID   the runtime's container id; 64-digit ids are shortened to 12 digits\n"
	"                   unless --no-trunc is given\n"
	"    IFNAME         the interface name inside the container (CNI_IFNAME)\n"
	"    ADDRESS        the container's address with prefix length\n"
	"    HOST VETH      the host side of the container's veth pair\n"
	"    NETNS          the network namespace path the runtime gave\n"
	"    STATE          active, or deleting while the host veth is being removed\n"
	"\n"
	"    With -o json: an array of the API's workload objects (containerId, ifname, address,\n"
	"    hostVeth, netns, network, created, state), ids never shortened.\n"
	"\n"
	NETCTL_HELP_OPTIONS
	"\n"
	NETCTL_HELP_EXIT
	"\n"
	"EXAMPLES\n"
	"    netctl workload list\n"
	"    netctl workload list --no-headers | wc -l\n"
	"    netctl workload list -o json | jq -r '.[] | select(.state == \"deleting\") | .hostVeth'\n";

const char *netctl_help_text(enum netctl_topic topic)
{
	switch (topic) {
	case NETCTL_TOPIC_STATUS: return netctl_help_status;
	case NETCTL_TOPIC_SUBNET: return netctl_help_subnet;
	case NETCTL_TOPIC_SUBNET_LIST: return netctl_help_subnet_list;
	case NETCTL_TOPIC_WORKLOAD: return netctl_help_workload;
	case NETCTL_TOPIC_WORKLOAD_LIST: return netctl_help_workload_list;
	case NETCTL_TOPIC_TOP: break;
	}
	return netctl_help_top;
}
