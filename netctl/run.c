#include "netctl/run.h"

#include <errno.h>
#include <string.h>

#include "lib/ipc.h"
#include "netctl/format.h"

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
	case NETCTL_TOPIC_STATUS: return "status";
	case NETCTL_TOPIC_SUBNET_LIST: return "subnets";
	case NETCTL_TOPIC_WORKLOAD_LIST: return "workloads";
	default: return NULL;
	}
}

/* Print a successful answer.  Returns the exit code. */
static int netctl_print(const struct netctl_args *args, json_t *resp, FILE *out, FILE *err)
{
	const char *key = args->topic == NETCTL_TOPIC_SUBNET_LIST ? "subnets" : "workloads";
	json_t *list, *sorted;
	int r;

	if (args->topic == NETCTL_TOPIC_STATUS) {
		if (args->output == NETCTL_OUTPUT_JSON) {
			json_t *copy = json_copy(resp);

			if (!copy)
				return NETCTL_EXIT_API;
			json_object_del(copy, "ok");
			r = netctl_format_json(copy, out);
			json_decref(copy);
		} else {
			r = netctl_format_status(resp, out);
		}
	} else {
		list = json_object_get(resp, key);
		if (!json_is_array(list)) {
			fprintf(err, "netctl: shoald's answer has no \"%s\" list (is shoald older than netctl?)\n", key);
			return NETCTL_EXIT_API;
		}
		if (args->output == NETCTL_OUTPUT_JSON) {
			sorted = args->topic == NETCTL_TOPIC_SUBNET_LIST ? netctl_sort_subnets(list)
									 : netctl_sort_workloads(list);
			r = sorted ? netctl_format_json(sorted, out) : -ENOMEM;
			json_decref(sorted);
		} else if (args->topic == NETCTL_TOPIC_SUBNET_LIST) {
			r = netctl_format_subnets(list, !args->no_headers, out);
		} else {
			r = netctl_format_workloads(list, !args->no_headers, args->no_trunc, out);
		}
	}
	if (fflush(out) != 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		/* Most likely a closed pipe (netctl ... | head); say it once, exit like an error. */
		fprintf(err, "netctl: cannot write output: %s\n", strerror(-r));
		return NETCTL_EXIT_API;
	}
	return NETCTL_EXIT_OK;
}

int netctl_run(const struct netctl_args *args, FILE *out, FILE *err)
{
	json_t *req, *resp = NULL;
	const char *op;
	int r, code;

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
	op = netctl_op(args->topic);
	if (!op) {
		fprintf(err, "netctl: nothing to run\n");
		return NETCTL_EXIT_USAGE;
	}
	req = json_pack("{s:s}", "op", op);
	if (!req)
		return NETCTL_EXIT_API;
	r = ipc_call(args->socket, req, -1, args->timeout_ms, &resp);
	json_decref(req);
	if (r == -EPROTO) {
		fprintf(err, "netctl: shoald at %s sent an answer that is not a JSON object (is that socket shoald's?)\n",
			args->socket);
		return NETCTL_EXIT_API;
	}
	if (r < 0)
		return netctl_unreachable(args, r, err);
	if (!json_is_true(json_object_get(resp, "ok")))
		code = netctl_api_error(resp, err);
	else
		code = netctl_print(args, resp, out, err);
	json_decref(resp);
	return code;
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
