#include "netctl/run.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgpath.h"
#include "lib/ipc.h"
#include "netctl/format.h"
#include "netctl/policy.h"
#include "netctl/quota.h"
#include "netctl/top.h"
#include "netctl/workloads.h"
#include "netctl/yaml.h"

/* Why shoald could not be reached, with what to try next.  Returns the exit code. */
static int netctl_unreachable(const struct netctl_args *args, int r, FILE *err)
{
	const char *hint;

	switch (-r) {
	case ETIMEDOUT:
		fprintf(err, "netctl: shoald at %s did not answer within %d ms (is shoald running? is it stuck? "
			"try --timeout)\n", args->socket, args->timeout_ms);
		return NETCTL_EXIT_UNREACHABLE;
	case EACCES:
	case EPERM:
		hint = "run netctl as root or as a member of the socket's group";
		break;
	case ENOENT:
	case ECONNREFUSED:
		hint = "is shoald running? use --socket or SHOAL_SOCKET for another socket";
		break;
	default:
		hint = "is shoald running?";
		break;
	}
	fprintf(err, "netctl: cannot reach shoald at %s: %s (%s)\n", args->socket, strerror(-r), hint);
	return NETCTL_EXIT_UNREACHABLE;
}

/* shoald's error answer: {"ok": false, "code": N, "msg": "...", "details": "..."}. */
static int netctl_api_error(const json_t *resp, FILE *err)
{
	const char *msg = json_string_value(json_object_get(resp, "msg"));
	const char *details = json_string_value(json_object_get(resp, "details"));
	json_t *code = json_object_get(resp, "code");

	fprintf(err, "netctl: shoald: %s", msg && *msg ? msg : "request failed");
	if (details && *details)
		fprintf(err, ": %s", details);
	if (json_is_integer(code))
		fprintf(err, " (code %" JSON_INTEGER_FORMAT ")", json_integer_value(code));
	fputc('\n', err);
	return NETCTL_EXIT_API;
}

static const char *netctl_op(enum netctl_topic topic)
{
	switch (topic) {
	case NETCTL_TOPIC_STATUS:
	case NETCTL_TOPIC_VERSION:
		return "status";
	case NETCTL_TOPIC_SUBNET_LIST:
		return "subnets";
	case NETCTL_TOPIC_SUBNET_RELEASE:
		return "release";
	case NETCTL_TOPIC_HOST_LIST:
		return "hosts";
	case NETCTL_TOPIC_NETWORK_SHOW:
		return "network";
	case NETCTL_TOPIC_NODE_LEAVE:
		return "leave";
	case NETCTL_TOPIC_WORKLOAD_LIST:
	case NETCTL_TOPIC_WORKLOAD_GET:
	case NETCTL_TOPIC_QUOTA_GET:
	case NETCTL_TOPIC_QUOTA_SET:   /* first: what the workload asked for; then "quota" */
		return "workloads";
	default:
		return NULL;
	}
}

/* The command as people type it, for the --watch title line. */
static const char *netctl_command_name(enum netctl_topic topic)
{
	switch (topic) {
	case NETCTL_TOPIC_SUBNET_LIST: return "subnet list";
	case NETCTL_TOPIC_HOST_LIST: return "host list";
	case NETCTL_TOPIC_WORKLOAD_LIST: return "workload list";
	case NETCTL_TOPIC_TOP_COMMAND: return "top";
	default: return "status";
	}
}

/* Send req to shoald.  Returns 0 with its answer (which may be an error answer), or ipc_call's
 * -errno. */
static int netctl_call(const struct netctl_args *args, json_t *req, json_t **ret_resp)
{
	return ipc_call(args->socket, req, -1, args->timeout_ms, ret_resp);
}

/* Ask shoald.  Returns 0 with its answer (which may be an error answer), or ipc_call's -errno. */
static int netctl_request(const struct netctl_args *args, const char *op, json_t **ret_resp)
{
	json_t *req = json_pack("{s:s}", "op", op);
	int r;

	if (!req)
		return -ENOMEM;
	if (args->topic == NETCTL_TOPIC_SUBNET_RELEASE &&
	    (json_object_set_new(req, "subnet", json_string(args->subnet)) < 0 ||
	     json_object_set_new(req, "force", json_boolean(args->force)) < 0))
		r = -ENOMEM;
	/* Running `netctl node leave` is the confirmation the API asks for. */
	else if (args->topic == NETCTL_TOPIC_NODE_LEAVE && json_object_set_new(req, "confirm", json_true()) < 0)
		r = -ENOMEM;
	else
		r = 0;
	if (r < 0) {
		json_decref(req);
		return r;
	}
	r = netctl_call(args, req, ret_resp);
	json_decref(req);
	return r;
}

/* The exit code of a request's outcome, without a word. */
static int netctl_outcome(int r, const json_t *resp)
{
	if (r == -EPROTO || r == -ENOMEM)
		return NETCTL_EXIT_API;
	if (r < 0)
		return NETCTL_EXIT_UNREACHABLE;
	return json_is_true(json_object_get(resp, "ok")) ? NETCTL_EXIT_OK : NETCTL_EXIT_API;
}

/* Say why a request gave no usable answer.  Returns the exit code (NETCTL_EXIT_OK when it did),
 * always the same as netctl_outcome()'s. */
static int netctl_report(const struct netctl_args *args, int r, const json_t *resp, FILE *err)
{
	if (r == -EPROTO) {
		fprintf(err, "netctl: shoald at %s sent an answer that is not a JSON object (is that socket shoald's?)\n",
			args->socket);
		return NETCTL_EXIT_API;
	}
	if (r == -ENOMEM) {
		fprintf(err, "netctl: %s\n", strerror(ENOMEM));
		return NETCTL_EXIT_API;
	}
	if (r < 0)
		return netctl_unreachable(args, r, err);
	if (!json_is_true(json_object_get(resp, "ok")))
		return netctl_api_error(resp, err);
	return NETCTL_EXIT_OK;
}

/* A value as -o json or -o yaml.  With --watch each sample is one document: JSON on one line,
 * YAML after a "---" line. */
static int netctl_emit(const struct netctl_args *args, const json_t *doc, FILE *out)
{
	if (args->output == NETCTL_OUTPUT_YAML) {
		if (args->watch)
			fputs("---\n", out);
		return netctl_yaml_dump(doc, out);
	}
	return args->watch ? netctl_format_json_line(doc, out) : netctl_format_json(doc, out);
}

static bool netctl_structured(const struct netctl_args *args)
{
	return args->output == NETCTL_OUTPUT_JSON || args->output == NETCTL_OUTPUT_YAML;
}

/* Flush what was printed; a failure is most likely a closed pipe (netctl ... | head): say it once,
 * exit like an error. */
static int netctl_finish(int r, FILE *out, FILE *err)
{
	if (fflush(out) != 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		fprintf(err, "netctl: cannot write output: %s\n", strerror(-r));
		return NETCTL_EXIT_API;
	}
	return NETCTL_EXIT_OK;
}

/* One line for people about what release or leave did. */
static int netctl_format_done(const struct netctl_args *args, const json_t *resp, FILE *out)
{
	const char *subnet = json_string_value(json_object_get(resp, "subnet"));
	const char *node = json_string_value(json_object_get(resp, "node"));
	json_int_t lease = json_integer_value(json_object_get(resp, "lease"));

	if (args->topic == NETCTL_TOPIC_SUBNET_RELEASE) {
		fprintf(out, "released subnet %s of node %s", subnet ? subnet : "?", node ? node : "?");
		if (json_is_true(json_object_get(resp, "leaseRevoked")))
			fprintf(out, " (lease %" JSON_INTEGER_FORMAT " revoked)", lease);
		if (json_is_true(json_object_get(resp, "forced")))
			fprintf(out, "; it was live: if that node's shoald still runs it claims the subnet again at its "
				"next renewal");
		fputc('\n', out);
	} else {
		fprintf(out, "node %s left the cluster: subnet %s given up (lease %" JSON_INTEGER_FORMAT " revoked); "
			"other hosts remove its routes now.\n"
			"Its workloads keep local connectivity; new ones are refused until shoald restarts, which "
			"rejoins.\n", node ? node : "?", subnet ? subnet : "?", lease);
	}
	return ferror(out) ? -EIO : 0;
}

static int netctl_print_status(const struct netctl_args *args, const json_t *resp, FILE *out)
{
	json_t *copy;
	int r;

	if (!netctl_structured(args)) {
		switch (args->topic) {
		case NETCTL_TOPIC_NETWORK_SHOW:
			return netctl_format_network(resp, out);
		case NETCTL_TOPIC_SUBNET_RELEASE:
		case NETCTL_TOPIC_NODE_LEAVE:
			return netctl_format_done(args, resp, out);
		default:
			return netctl_format_status(resp, out);
		}
	}
	copy = json_copy((json_t *)resp);
	if (!copy)
		return -ENOMEM;
	json_object_del(copy, "ok");   /* "ok" is the transport's, not part of the status */
	r = netctl_emit(args, copy, out);
	json_decref(copy);
	return r;
}

static int netctl_print_list(const struct netctl_args *args, const json_t *list, FILE *out)
{
	unsigned flags = (args->no_headers ? 0 : NETCTL_FORMAT_HEADERS) | (args->no_trunc ? NETCTL_FORMAT_NO_TRUNC : 0) |
			 (args->output == NETCTL_OUTPUT_WIDE ? NETCTL_FORMAT_WIDE : 0);
	bool subnets = args->topic == NETCTL_TOPIC_SUBNET_LIST || args->topic == NETCTL_TOPIC_HOST_LIST;
	json_t *sorted;
	int r;

	if (!netctl_structured(args)) {
		if (args->topic == NETCTL_TOPIC_HOST_LIST)
			return netctl_format_hosts(list, flags, out);
		return subnets ? netctl_format_subnets(list, flags, out) : netctl_format_workloads(list, flags, out);
	}
	sorted = subnets ? netctl_sort_subnets(list) : netctl_sort_workloads(list);
	r = sorted ? netctl_emit(args, sorted, out) : -ENOMEM;
	json_decref(sorted);
	return r;
}

/* `workload get`: the lookup decides, so it reports; exit 1 when it names no single attachment
 * (or, with --cgroup, no cgroup with a quota: cgroups may be NULL, an older shoald's answer). */
static int netctl_print_workload(const struct netctl_args *args, const json_t *list, const json_t *cgroups, FILE *out,
				 FILE *err)
{
	const json_t *w;
	char msg[1024];

	if (args->cgroup ? netctl_cgroups_find(cgroups, args->cgroup, &w, msg, sizeof(msg)) < 0
			 : netctl_workloads_find(list, args->id, args->ifname, &w, msg, sizeof(msg)) < 0) {
		fprintf(err, "netctl: %s\n", msg);
		return NETCTL_EXIT_API;
	}
	if (netctl_structured(args))
		return netctl_finish(netctl_emit(args, w, out), out, err);
	return netctl_finish(netctl_format_workload(w, (long long)time(NULL), out), out, err);
}

/* Print a successful answer.  Returns the exit code. */
static int netctl_print(const struct netctl_args *args, const json_t *resp, FILE *out, FILE *err)
{
	const char *key = args->topic == NETCTL_TOPIC_SUBNET_LIST ? "subnets" :
			  args->topic == NETCTL_TOPIC_HOST_LIST ? "hosts" : "workloads";
	json_t *list, *filtered = NULL, *all = NULL;
	bool pods;
	int r;

	switch (args->topic) {
	case NETCTL_TOPIC_NETWORK_SHOW:
		if (!json_is_object(json_object_get(resp, "config")) || !json_is_object(json_object_get(resp, "node"))) {
			fprintf(err, "netctl: shoald's answer has no network config (is shoald older than netctl?)\n");
			return NETCTL_EXIT_API;
		}
		/* fall through */
	case NETCTL_TOPIC_STATUS:
	case NETCTL_TOPIC_SUBNET_RELEASE:
	case NETCTL_TOPIC_NODE_LEAVE:
		return netctl_finish(netctl_print_status(args, resp, out), out, err);
	default:
		break;
	}
	list = json_object_get(resp, key);
	if (!json_is_array(list)) {
		fprintf(err, "netctl: shoald's answer has no \"%s\" list (is shoald older than netctl?)\n", key);
		return NETCTL_EXIT_API;
	}
	if (args->topic == NETCTL_TOPIC_WORKLOAD_GET)
		return netctl_print_workload(args, list, json_object_get(resp, "cgroups"), out, err);
	pods = json_array_size(list) == 0 || netctl_workloads_have_pods(list);
	/* The cgroups with a quota follow the attachments (an older shoald sends none). */
	if (args->topic == NETCTL_TOPIC_WORKLOAD_LIST) {
		all = netctl_workloads_with_cgroups(list, json_object_get(resp, "cgroups"));
		if (!all)
			return netctl_finish(-ENOMEM, out, err);
		list = all;
	}
	if (args->filter_namespace || args->filter_pod) {
		if (!pods)
			fprintf(err, "netctl: shoald reports no pods (is shoald older than netctl?): "
				"--namespace and --pod match nothing\n");
		filtered = netctl_workloads_filter(list, args->filter_namespace, args->filter_pod);
		if (!filtered) {
			json_decref(all);
			return netctl_finish(-ENOMEM, out, err);
		}
		list = filtered;
	}
	r = netctl_print_list(args, list, out);
	json_decref(filtered);
	json_decref(all);
	return netctl_finish(r, out, err);
}

/* One request and its output.  Returns the exit code. */
static int netctl_sample(const struct netctl_args *args, FILE *out, FILE *err)
{
	json_t *resp = NULL;
	int r = netctl_request(args, netctl_op(args->topic), &resp), code;

	code = netctl_report(args, r, resp, err);
	if (code == NETCTL_EXIT_OK)
		code = netctl_print(args, resp, out, err);
	json_decref(resp);
	return code;
}

/* `netctl version`: netctl's version always; shoald's when it answers.  The reason it did not goes
 * to stderr after the versions, and decides the exit code as for any other command. */
static int netctl_version(const struct netctl_args *args, FILE *out, FILE *err)
{
	const char *server = NULL, *missing;
	json_t *resp = NULL, *doc;
	int r = netctl_request(args, "status", &resp), code, w;

	code = netctl_outcome(r, resp);
	if (code == NETCTL_EXIT_OK) {
		server = json_string_value(json_object_get(resp, "version"));
		missing = "-";
	} else {
		missing = code == NETCTL_EXIT_UNREACHABLE ? "unreachable" : "unknown";
	}
	doc = json_pack("{s:s, s:s?}", "netctl", NETCTL_VERSION, "shoald", server);
	if (!doc)
		w = -ENOMEM;
	else if (netctl_structured(args))
		w = netctl_emit(args, doc, out);
	else
		w = netctl_format_version(doc, missing, out);
	json_decref(doc);
	w = netctl_finish(w, out, err);
	if (code != NETCTL_EXIT_OK)
		netctl_report(args, r, resp, err);
	json_decref(resp);
	return code != NETCTL_EXIT_OK ? code : w;
}

static const char *netctl_quota_command(const struct netctl_args *args)
{
	return args->topic == NETCTL_TOPIC_QUOTA_SET ? "quota set" : "quota get";
}

/* shoald's answer to op "quota": a container's carries its share, "bandwidth" (null when not
 * admitted, never missing); a cgroup's its whole entry, "cgroup".  Returns the exit code; on
 * success *ret_doc is what to print (the share, and what was sent as asked). */
static int netctl_quota_answer(const struct netctl_args *args, const json_t *w, const json_t *resp,
			       const json_t *merged, json_t **ret_doc, FILE *err)
{
	const json_t *entry = args->cgroup ? json_object_get(resp, "cgroup") : w;
	json_t *share = json_object_get(args->cgroup ? entry : resp, "bandwidth");

	if (args->cgroup && !json_is_object(entry)) {
		fprintf(err, "netctl: shoald's answer has no \"cgroup\" (is shoald older than netctl?)\n");
		return NETCTL_EXIT_API;
	}
	if (!share) {
		fprintf(err, "netctl: shoald's answer has no \"bandwidth\" (is shoald older than netctl?)\n");
		return NETCTL_EXIT_API;
	}
	*ret_doc = netctl_quota_doc(entry, share, merged);
	if (!*ret_doc) {
		fprintf(err, "netctl: %s\n", strerror(ENOMEM));
		return NETCTL_EXIT_API;
	}
	return NETCTL_EXIT_OK;
}

/* `quota set`: the flags over what w asked for, sent as op "quota" (w is NULL for a cgroup that
 * has no quota yet).  Returns the exit code; on success *ret_doc is what to print (the answer's
 * share, and what was sent as asked). */
static int netctl_quota_send(const struct netctl_args *args, const json_t *w, const json_t *asked, json_t **ret_doc,
			     FILE *err)
{
	json_t *merged = NULL, *req = NULL, *resp = NULL;
	char msg[512];
	int r, code;

	r = netctl_quota_merge(asked, &args->quota, &merged, msg, sizeof(msg));
	if (r < 0) {
		fprintf(err, "netctl: %s: %s\n", netctl_quota_command(args), msg);
		return NETCTL_EXIT_API;
	}
	/* A cgroup is sent as given: shoald knows where the mount is and says what is wrong. */
	req = args->cgroup ? netctl_quota_cgroup_request(args->cgroup, merged) : netctl_quota_request(w, merged);
	r = req ? netctl_call(args, req, &resp) : -ENOMEM;
	code = netctl_report(args, r, resp, err);
	if (code == NETCTL_EXIT_OK)
		code = netctl_quota_answer(args, w, resp, merged, ret_doc, err);
	json_decref(resp);
	json_decref(req);
	json_decref(merged);
	return code;
}

/* Ask shoald for its workloads (quota, top).  Returns the exit code, having said why it is not
 * NETCTL_EXIT_OK; on success *ret_resp is the answer (json_decref it) and *ret_list its
 * "workloads" array (borrowed from it). */
static int netctl_workloads_fetch(const struct netctl_args *args, json_t **ret_resp, json_t **ret_list, FILE *err)
{
	json_t *resp = NULL, *list;
	int r = netctl_request(args, "workloads", &resp), code;

	code = netctl_report(args, r, resp, err);
	if (code != NETCTL_EXIT_OK)
		goto fail;
	list = json_object_get(resp, "workloads");
	if (!json_is_array(list)) {
		fprintf(err, "netctl: shoald's answer has no \"workloads\" list (is shoald older than netctl?)\n");
		code = NETCTL_EXIT_API;
		goto fail;
	}
	*ret_resp = resp;
	*ret_list = list;
	return NETCTL_EXIT_OK;
fail:
	json_decref(resp);
	return code;
}

/* `quota get` and `quota set`: find the workload in the "workloads" answer (as workload get
 * does), then show its share, or change it first.  Returns the exit code. */
static int netctl_quota(const struct netctl_args *args, FILE *out, FILE *err)
{
	json_t *resp = NULL, *list, *doc = NULL, *asked, *nothing = NULL;
	const json_t *w = NULL;
	char msg[1024];
	int code = netctl_workloads_fetch(args, &resp, &list, err), r;

	if (code != NETCTL_EXIT_OK)
		goto out;
	code = NETCTL_EXIT_API;
	if (args->cgroup)
		r = netctl_cgroups_find(json_object_get(resp, "cgroups"), args->cgroup, &w, msg, sizeof(msg));
	else
		r = netctl_workloads_find_for(list, args->id, args->ifname, netctl_quota_command(args), &w, msg, sizeof(msg));
	/* A cgroup without a quota (or a path netctl cannot match: shoald tells why) gets one, from
	 * nothing asked, as a new workload would. */
	if (r < 0 && args->cgroup && args->topic == NETCTL_TOPIC_QUOTA_SET) {
		w = NULL;
		nothing = json_object();
		r = nothing ? 0 : -ENOMEM;
		if (r < 0)
			snprintf(msg, sizeof(msg), "%s", strerror(ENOMEM));
	}
	if (r < 0) {
		fprintf(err, "netctl: %s\n", msg);
		goto out;
	}
	/* shoald sends both keys exactly when this node shapes (docs/api.md). */
	asked = w ? json_object_get(w, "bandwidthAsked") : nothing;
	if (!asked) {
		fprintf(err, "netctl: %s: shoald shapes no bandwidth on this host: \"bandwidth\" is not configured "
			"(shoald.json(5)), or shoald is older than netctl\n", netctl_quota_command(args));
		goto out;
	}
	if (!json_is_object(asked)) {
		fprintf(err, "netctl: shoald's workload has a \"bandwidthAsked\" that is not an object (is shoald "
			"newer or older than netctl?)\n");
		goto out;
	}
	if (args->topic == NETCTL_TOPIC_QUOTA_SET) {
		code = netctl_quota_send(args, w, asked, &doc, err);
		if (code != NETCTL_EXIT_OK)
			goto out;
	} else {
		doc = netctl_quota_doc(w, json_object_get(w, "bandwidth"), asked);
		if (!doc) {
			code = netctl_finish(-ENOMEM, out, err);
			goto out;
		}
	}
	code = netctl_finish(netctl_structured(args) ? netctl_emit(args, doc, out) : netctl_format_quota(doc, out), out,
			     err);
out:
	json_decref(nothing);
	json_decref(doc);
	json_decref(resp);
	return code;
}

/* `quota delete --cgroup PATH` (op quotaDelete): shoald decides, netctl says it is done. */
static int netctl_quota_delete(const struct netctl_args *args, FILE *out, FILE *err)
{
	json_t *req = netctl_quota_delete_request(args->cgroup), *resp = NULL, *doc;
	int r = req ? netctl_call(args, req, &resp) : -ENOMEM, code;
	char path[4096];

	json_decref(req);
	code = netctl_report(args, r, resp, err);
	json_decref(resp);
	if (code != NETCTL_EXIT_OK)
		return code;
	/* shoald took it: the path reads as it does in workload list (absolute stays absolute). */
	if (cgroup_path_normalise(args->cgroup, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "%s", args->cgroup);
	if (!netctl_structured(args)) {
		fprintf(out, "quota of cgroup %s deleted\n", path);
		return netctl_finish(ferror(out) ? -EIO : 0, out, err);
	}
	doc = json_pack("{s:s}", "cgroup", path);
	r = doc ? netctl_emit(args, doc, out) : -ENOMEM;
	json_decref(doc);
	return netctl_finish(r, out, err);
}

static void netctl_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	/* A signal that does not end netctl (SIGWINCH, SIGCONT) must not shorten the interval. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Before a frame on a terminal: home and clear, so the screen shows the latest sample only (as
 * watch(1) does), and a title line. */
static void netctl_frame_title(const struct netctl_args *args, FILE *out)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) || strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "-");
	fprintf(out, "\033[H\033[2J");
	if (args->interval_ms % 1000 == 0)
		fprintf(out, "Every %ds: netctl %s    %s\n\n", args->interval_ms / 1000, netctl_command_name(args->topic),
			when);
	else
		fprintf(out, "Every %dms: netctl %s    %s\n\n", args->interval_ms, netctl_command_name(args->topic), when);
}

/* --watch: sample, wait, sample again, until --count samples or an interrupt.  A failed sample is
 * reported and the watch goes on (shoald restarting must not end it); output that cannot be
 * written ends it. */
static int netctl_watch(const struct netctl_args *args, FILE *out, FILE *err)
{
	bool table = !netctl_structured(args);
	bool tty = table && isatty(fileno(out));
	int code = NETCTL_EXIT_OK;

	for (unsigned n = 0; args->count == 0 || n < args->count; n++) {
		if (n > 0)
			netctl_sleep_ms(args->interval_ms);
		if (tty)
			netctl_frame_title(args, out);
		else if (table && n > 0)
			fputc('\n', out);
		code = netctl_sample(args, out, err);
		fflush(err);
		if (ferror(out))
			break;
	}
	return code;
}

static long long netctl_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One "workloads" answer for top: its list (filtered by --namespace/--pod; a new reference) and
 * when it arrived.  Returns the exit code, having said why it is not NETCTL_EXIT_OK. */
static int netctl_top_fetch(const struct netctl_args *args, json_t **ret_list, long long *ret_mono_ms,
			    long long *ret_unix_ms, FILE *err)
{
	json_t *resp = NULL, *list, *all = NULL, *e;
	int code = netctl_workloads_fetch(args, &resp, &list, err);
	long long mono_ms = netctl_clock_ms(CLOCK_MONOTONIC), unix_ms = netctl_clock_ms(CLOCK_REALTIME);
	size_t i;

	if (code != NETCTL_EXIT_OK)
		goto out;
	code = NETCTL_EXIT_API;
	/* The cgroups with a quota are sampled like the attachments (--namespace and --pod leave
	 * them out); an older shoald sends none. */
	all = netctl_workloads_with_cgroups(list, json_object_get(resp, "cgroups"));
	if (!all) {
		fprintf(err, "netctl: %s\n", strerror(ENOMEM));
		goto out;
	}
	/* A shoald that shapes sends "counters" with every entry (null without a share). */
	json_array_foreach(all, i, e)
		if (!json_object_get(e, "counters")) {
			fprintf(err, "netctl: top: shoald reports no counters (is shoald older than netctl?)\n");
			goto out;
		}
	*ret_list = netctl_workloads_filter(all, args->filter_namespace, args->filter_pod);
	if (!*ret_list) {
		fprintf(err, "netctl: %s\n", strerror(ENOMEM));
		goto out;
	}
	*ret_mono_ms = mono_ms;
	*ret_unix_ms = unix_ms;
	code = NETCTL_EXIT_OK;
out:
	json_decref(all);
	json_decref(resp);
	return code;
}

/* One frame: the sample between prev and cur, as the output format wants it. */
static int netctl_top_frame(const struct netctl_args *args, const json_t *sample, bool tty, bool first, FILE *out)
{
	unsigned flags = (args->no_headers ? 0 : NETCTL_FORMAT_HEADERS) | (args->no_trunc ? NETCTL_FORMAT_NO_TRUNC : 0) |
			 (args->output == NETCTL_OUTPUT_WIDE ? NETCTL_FORMAT_WIDE : 0);
	json_t *doc;
	int r;

	if (!netctl_structured(args)) {
		if (tty)
			netctl_frame_title(args, out);
		else if (!first)
			fputc('\n', out);
		r = netctl_top_format(sample, flags, out);
		fflush(out);
		return r;
	}
	doc = json_pack("{s:O}", "sample", sample);
	if (!doc)
		return -ENOMEM;
	if (args->output == NETCTL_OUTPUT_YAML) {
		fputs("---\n", out);
		r = netctl_yaml_dump(doc, out);
	} else {
		r = netctl_format_json_line(doc, out);
	}
	json_decref(doc);
	/* A reader of the stream (jq, a test) wants each frame when it is made. */
	fflush(out);
	return r;
}

/* `top`: check that shoald shapes (status), take a first list, then per frame wait, take the next
 * and print the rates between the two.  A failed request ends it: a frame needs two answers in a
 * row. */
static int netctl_top(const struct netctl_args *args, FILE *out, FILE *err)
{
	bool tty = !netctl_structured(args) && isatty(fileno(out));
	long long prev_mono = 0, mono = 0, unix_ms = 0;
	json_t *resp = NULL, *prev = NULL, *cur = NULL, *bw;
	int r = netctl_request(args, "status", &resp), code;

	code = netctl_report(args, r, resp, err);
	if (code != NETCTL_EXIT_OK)
		goto out;
	bw = json_object_get(resp, "bandwidth");
	if (!json_is_object(bw)) {
		fprintf(err, "netctl: top: shoald shapes no bandwidth on this host: \"bandwidth\" is not configured "
			"(shoald.json(5)), or shoald is older than netctl\n");
		code = NETCTL_EXIT_API;
		goto out;
	}
	code = netctl_top_fetch(args, &prev, &prev_mono, &unix_ms, err);
	for (unsigned n = 0; code == NETCTL_EXIT_OK && (args->count == 0 || n < args->count); n++) {
		json_t *sample;

		netctl_sleep_ms(args->interval_ms);
		code = netctl_top_fetch(args, &cur, &mono, &unix_ms, err);
		if (code != NETCTL_EXIT_OK)
			break;
		sample = netctl_top_sample(prev, cur, mono - prev_mono > 0 ? mono - prev_mono : 1, unix_ms);
		r = sample ? netctl_top_frame(args, sample, tty, n == 0, out) : -ENOMEM;
		json_decref(sample);
		json_decref(prev);
		prev = cur;
		cur = NULL;
		prev_mono = mono;
		if (r < 0 || ferror(out)) {
			code = netctl_finish(r < 0 ? r : -EIO, out, err);
			break;
		}
	}
	if (code == NETCTL_EXIT_OK)
		code = netctl_finish(0, out, err);
out:
	json_decref(prev);
	json_decref(resp);
	return code;
}

/* What `policy list`, `policy set` and `policy delete` print of a successful answer. */
static int netctl_policy_print(const struct netctl_args *args, const json_t *resp, FILE *out, FILE *err)
{
	unsigned flags = (args->no_headers ? 0 : NETCTL_FORMAT_HEADERS) |
			 (args->output == NETCTL_OUTPUT_WIDE ? NETCTL_FORMAT_WIDE : 0);
	json_t *v, *doc;
	int r;

	switch (args->topic) {
	case NETCTL_TOPIC_POLICY_LIST:
		v = json_object_get(resp, "policies");
		if (!json_is_array(v)) {
			fprintf(err, "netctl: shoald's answer has no \"policies\" list (is shoald older than netctl?)\n");
			return NETCTL_EXIT_API;
		}
		if (!netctl_structured(args))
			return netctl_finish(netctl_format_policies(v, flags, out), out, err);
		doc = netctl_sort_policies(v);
		r = doc ? netctl_emit(args, doc, out) : -ENOMEM;
		json_decref(doc);
		return netctl_finish(r, out, err);
	case NETCTL_TOPIC_POLICY_SET:
		v = json_object_get(resp, "policy");
		if (!json_is_object(v)) {
			fprintf(err, "netctl: shoald's answer has no \"policy\" (is shoald older than netctl?)\n");
			return NETCTL_EXIT_API;
		}
		return netctl_finish(netctl_structured(args) ? netctl_emit(args, v, out) : netctl_format_policy(v, out),
				     out, err);
	default:
		if (!netctl_structured(args)) {
			fprintf(out, "policy %s deleted\n", args->policy);
			return netctl_finish(ferror(out) ? -EIO : 0, out, err);
		}
		doc = json_copy((json_t *)resp);
		if (doc)
			json_object_del(doc, "ok");   /* the transport's */
		r = doc ? netctl_emit(args, doc, out) : -ENOMEM;
		json_decref(doc);
		return netctl_finish(r, out, err);
	}
}

/* `policy list`, `policy set`, `policy delete`: one request each (operations policies,
 * policySet, policyDelete).  Returns the exit code. */
static int netctl_policy(const struct netctl_args *args, FILE *out, FILE *err)
{
	json_t *req, *resp = NULL;
	int r, code;

	if (args->topic == NETCTL_TOPIC_POLICY_SET)
		req = netctl_policy_set_request(args->policy, &args->match, &args->quota);
	else if (args->topic == NETCTL_TOPIC_POLICY_DELETE)
		req = netctl_policy_delete_request(args->policy);
	else
		req = json_pack("{s:s}", "op", "policies");
	r = req ? netctl_call(args, req, &resp) : -ENOMEM;
	json_decref(req);
	code = netctl_report(args, r, resp, err);
	if (code == NETCTL_EXIT_OK)
		code = netctl_policy_print(args, resp, out, err);
	json_decref(resp);
	return code;
}

int netctl_run(const struct netctl_args *args, FILE *out, FILE *err)
{
	switch (args->action) {
	case NETCTL_ACTION_HELP:
		fputs(netctl_help_text(args->topic), out);
		return NETCTL_EXIT_OK;
	case NETCTL_ACTION_VERSION:
		fprintf(out, "netctl %s\n", NETCTL_VERSION);
		return NETCTL_EXIT_OK;
	case NETCTL_ACTION_RUN:
		break;
	}
	if (args->topic == NETCTL_TOPIC_VERSION)
		return netctl_version(args, out, err);
	if (args->topic == NETCTL_TOPIC_QUOTA_GET || args->topic == NETCTL_TOPIC_QUOTA_SET)
		return netctl_quota(args, out, err);
	if (args->topic == NETCTL_TOPIC_QUOTA_DELETE)
		return netctl_quota_delete(args, out, err);
	if (args->topic == NETCTL_TOPIC_TOP_COMMAND)
		return netctl_top(args, out, err);
	if (args->topic == NETCTL_TOPIC_POLICY_LIST || args->topic == NETCTL_TOPIC_POLICY_SET ||
	    args->topic == NETCTL_TOPIC_POLICY_DELETE)
		return netctl_policy(args, out, err);
	if (!netctl_op(args->topic)) {
		fprintf(err, "netctl: nothing to run\n");
		return NETCTL_EXIT_USAGE;
	}
	if (args->watch)
		return netctl_watch(args, out, err);
	return netctl_sample(args, out, err);
}

int netctl_main(int argc, char *const *argv, const char *env_socket, FILE *out, FILE *err)
{
	struct netctl_args args;
	char msg[512];

	if (netctl_args_parse(argc, argv, env_socket, &args, msg, sizeof(msg)) < 0) {
		fprintf(err, "netctl: %s\nTry 'netctl --help' for more information.\n", msg);
		return NETCTL_EXIT_USAGE;
	}
	return netctl_run(&args, out, err);
}
