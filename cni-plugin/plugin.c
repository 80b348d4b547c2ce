#include "cni-plugin/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cni-plugin/bandwidth.h"
#include "cni-plugin/result.h"
#include "lib/cnierr.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/pending_del.h"

int cni_plugin_read_input(int fd, char *buf, size_t size, size_t *ret_len, struct cni_error *err)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (len == size - 1) {
			char extra;

			/* Full: one more byte decides between "exactly the limit" and "too much". */
			do
				n = read(fd, &extra, 1);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				break;
			cni_error_set(err, CNI_ERR_IO, "network config on stdin is larger than %zu bytes", size - 1);
			cni_error_details(err, "refusing to read more; a CNI network config is a few KiB");
			return -EFBIG;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			cni_error_set(err, CNI_ERR_IO, "failed to read the network config from stdin: %s", strerror(e));
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

/* ---- talking to shoald ---- */

static int transport_error(struct cni_error *err, int code, const struct cni_conf *conf, int r)
{
	if (r == -ETIMEDOUT) {
		cni_error_set(err, code, "shoald at %s did not answer within %d ms", conf->socket, conf->timeout_ms);
		cni_error_details(err, "raise \"timeoutMs\" in the network config if shoald is busy");
	} else if (r == -EPROTO) {
		cni_error_set(err, SHOAL_ERR_INTERNAL, "shoald at %s sent an answer that is not a JSON object", conf->socket);
	} else if (r == -ECONNRESET || r == -EPIPE) {
		cni_error_set(err, code, "lost the connection to shoald at %s: %s", conf->socket, strerror(-r));
	} else {
		cni_error_set(err, code, "shoald is not reachable at %s: %s", conf->socket, strerror(-r));
		cni_error_details(err, "start shoald, or point \"socket\" in the network config at its socket");
	}
	return r;
}

/* {"ok": false, "code", "msg", "details"} -> err (docs/api.md: handed to the runtime unchanged). */
static int shoald_status(const json_t *resp, const struct cni_conf *conf, const char *op, struct cni_error *err)
{
	const json_t *ok = json_object_get(resp, "ok"), *code = json_object_get(resp, "code");
	const char *msg = json_string_value(json_object_get(resp, "msg"));
	const char *details = json_string_value(json_object_get(resp, "details"));
	long long c;

	if (json_is_true(ok))
		return 0;
	if (!json_is_false(ok)) {
		cni_error_set(err, SHOAL_ERR_INTERNAL, "shoald at %s answered \"%s\" without a boolean \"ok\"", conf->socket, op);
		return -EPROTO;
	}
	c = json_is_integer(code) ? json_integer_value(code) : 0;
	if (c <= 0 || c > 9999)
		c = SHOAL_ERR_INTERNAL;
	cni_error_set(err, (int)c, "%s", msg && *msg ? msg : "shoald refused the request");
	cni_error_details(err, "%s", details ? details : "");
	return -EIO;
}

/* ---- CNI_NETNS ---- */

/* Open CNI_NETNS and make sure it is a network namespace other than our own: the fd goes to shoald,
 * which would otherwise put the container's interface into whatever the path names. */
static int netns_open(const char *path, struct cni_error *err, int *ret_fd)
{
	char q[CNI_QUOTE_SIZE];
	struct stat st, self;
	int fd, type;

	/* stat first: opening an arbitrary device node can have side effects (a watchdog starts, a
	 * FIFO blocks).  Namespace files (nsfs) are regular files. */
	if (stat(path, &st) < 0) {
		int e = errno;

		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s cannot be opened: %s", cni_quote(path, q, sizeof(q)),
			      strerror(e));
		cni_error_details(err, "the network namespace of the container must exist during ADD and CHECK");
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is not a network namespace",
			      cni_quote(path, q, sizeof(q)));
		cni_error_details(err, "it is not a namespace file (expected e.g. /var/run/netns/NAME or /proc/PID/ns/net)");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s cannot be opened: %s", cni_quote(path, q, sizeof(q)),
			      strerror(e));
		return -e;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is not a network namespace",
			      cni_quote(path, q, sizeof(q)));
		if (type < 0)
			cni_error_details(err, "it is not a namespace file (expected e.g. /var/run/netns/NAME or /proc/PID/ns/net)");
		else
			cni_error_details(err, "it is a namespace of another type (0x%x)", (unsigned)type);
		close(fd);
		return -EINVAL;
	}
	if (stat("/proc/self/ns/net", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_NETNS %s is the plugin's own network namespace",
			      cni_quote(path, q, sizeof(q)));
		cni_error_details(err, "the container must have a network namespace of its own");
		close(fd);
		return -EINVAL;
	}
	*ret_fd = fd;
	return 0;
}

/* ---- commands ---- */

static int need_version(const struct cni_conf *conf, enum cni_version min, const char *cmd, struct cni_error *err)
{
	if (conf->version >= min)
		return 0;
	cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "config version %s does not allow %s",
		      cni_version_string(conf->version), cmd);
	cni_error_details(err, "%s needs cniVersion %s or later", cmd, cni_version_string(min));
	return -EINVAL;
}

static int prev_result_valid(const struct cni_conf *conf, struct cni_error *err)
{
	char msg[256];

	if (cni_result_validate(conf->prev_result, msg, sizeof(msg)) < 0) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config key \"prevResult\": %s", msg);
		cni_error_details(err, "prevResult must be the result of the previous plugin in CNI %s format",
				  cni_version_string(conf->version));
		return -EINVAL;
	}
	return 0;
}

/* The workload's bandwidth settings (runtimeConfig.bandwidth, SHOAL_* of CNI_ARGS) as the request's
 * "bandwidth" object; *ret_obj NULL when there are none. */
static int bandwidth_request(const struct cni_conf *conf, const json_t *args, json_t **ret_obj, struct cni_error *err)
{
	struct cni_bandwidth bw;
	int r;

	r = cni_bandwidth_parse(conf->root, args, &bw, err);
	if (r < 0)
		return r;
	if (cni_bandwidth_json(&bw, ret_obj) < 0)
		return cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
	return 0;
}

static int cmd_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_plugin_reply *reply)
{
	struct cni_error *err = &reply->err;
	json_t *args = NULL, *req = NULL, *resp = NULL, *merged = NULL, *bw = NULL;
	char msg[256];
	int fd = -1, r;

	/* Everything that can be refused without side effects comes before shoald is asked. */
	r = cni_args_parse(env->args, &args, err);
	if (r < 0)
		return r;
	r = bandwidth_request(conf, args, &bw, err);
	if (r < 0)
		goto out;
	if (conf->prev_result) {
		r = prev_result_valid(conf, err);
		if (r < 0)
			goto out;
	}
	r = netns_open(env->netns, err, &fd);
	if (r < 0)
		goto out;

	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "op", "add", "containerId", env->container_id,
			"ifname", env->ifname, "netns", env->netns, "network", conf->name, "mtu", conf->mtu);
	if (!req) {
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (json_object_size(args) > 0)
		json_object_set(req, "args", args);
	/* Sent only when false: shoald's default is a default route, and older shoalds know no key. */
	if (!conf->default_route)
		json_object_set_new(req, "defaultRoute", json_false());
	/* Only when there is something to say: a request without settings stays as it was. */
	if (bw && json_object_set(req, "bandwidth", bw) < 0) {
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	r = ipc_call(conf->socket, req, fd, conf->timeout_ms, &resp);
	if (r < 0) {
		transport_error(err, CNI_ERR_TRY_AGAIN_LATER, conf, r);
		goto out;
	}
	r = shoald_status(resp, conf, "add", err);
	if (r < 0)
		goto out;
	json_object_del(resp, "ok");
	if (cni_result_validate(resp, msg, sizeof(msg)) < 0) {
		/* shoald made the attachment but we cannot report it: the runtime will DEL. */
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "shoald at %s answered add with an invalid result: %s",
				  conf->socket, msg);
		goto out;
	}
	if (conf->prev_result) {
		r = cni_result_merge(conf->prev_result, resp, &merged);
		if (r < 0) {
			cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory merging prevResult");
			goto out;
		}
	}
	r = cni_result_convert(merged ? merged : resp, conf->version, &reply->output);
	if (r < 0)
		cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory converting the result");
out:
	if (fd >= 0)
		close(fd);
	json_decref(args);
	json_decref(bw);
	json_decref(req);
	json_decref(resp);
	json_decref(merged);
	return r;
}

/* The record shoald finishes at its next start.  CNI_NETNS is informational there (a DEL never
 * enters the namespace), so a path the record cannot carry is left out, and the log says so. */
static int record_pending_del(const struct cni_env *env, const struct cni_conf *conf, char *ret_path, size_t size)
{
	struct pending_del p = { .time = (int64_t)time(NULL) };
	char why[PENDING_DEL_ERR_SIZE];

	snprintf(p.container_id, sizeof(p.container_id), "%s", env->container_id);
	snprintf(p.ifname, sizeof(p.ifname), "%s", env->ifname);
	if (env->netns && strlen(env->netns) < sizeof(p.netns)) {
		memcpy(p.netns, env->netns, strlen(env->netns) + 1);
		if (pending_del_validate(&p, why) < 0) {
			log_warn("not recording CNI_NETNS in the pending DEL of %s/%s: %s", env->container_id,
				 env->ifname, why);
			p.netns[0] = '\0';
		}
	} else if (env->netns) {
		log_warn("not recording CNI_NETNS in the pending DEL of %s/%s: longer than %zu bytes",
			 env->container_id, env->ifname, sizeof(p.netns) - 1);
	}
	return pending_del_write(conf->state_dir, &p, ret_path, size);
}

static int cmd_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_plugin_reply *reply)
{
	struct cni_error *err = &reply->err;
	json_t *req, *resp = NULL;
	char path[PATH_MAX];
	int r, w;

	/* No netns, no CNI_ARGS, no prevResult: DEL needs only the attachment key and must succeed when
	 * the namespace is long gone. */
	req = json_pack("{s:s, s:s, s:s}", "op", "del", "containerId", env->container_id, "ifname", env->ifname);
	if (!req)
		return cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
	r = ipc_call(conf->socket, req, -1, conf->timeout_ms, &resp);
	json_decref(req);
	if (r >= 0) {
		r = shoald_status(resp, conf, "del", err);
		json_decref(resp);
		return r;
	}
	/* shoald cannot be asked: leave the delete for its next start (DESIGN: succeed where it safely
	 * can).  Processing a record for an attachment that is already gone is a no-op for shoald. */
	w = record_pending_del(env, conf, path, sizeof(path));
	if (w < 0) {
		transport_error(err, CNI_ERR_TRY_AGAIN_LATER, conf, r);
		cni_error_details(err, "and the delete could not be recorded in %s/" PENDING_DEL_DIR ": %s",
				  conf->state_dir, strerror(-w));
		return w;
	}
	log_warn("shoald is not reachable at %s (%s); recorded the delete of %s/%s in %s", conf->socket, strerror(-r),
		 env->container_id, env->ifname, path);
	return 0;
}

static int cmd_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_plugin_reply *reply)
{
	struct cni_error *err = &reply->err;
	json_t *req = NULL, *resp = NULL, *prev = NULL, *args = NULL, *bw = NULL;
	int fd = -1, r;

	r = need_version(conf, CNI_VERSION_0_4_0, "CHECK", err);
	if (r < 0)
		return r;
	if (!conf->prev_result) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config has no \"prevResult\"");
		cni_error_details(err, "CHECK needs the result of the ADD as prevResult (CNI spec, CHECK)");
		return -EINVAL;
	}
	r = prev_result_valid(conf, err);
	if (r < 0)
		return r;
	/* The bandwidth settings ADD was given (the runtime passes CHECK the same CNI_ARGS and
	 * runtimeConfig), so that shoald can compare them with what it set up. */
	r = cni_args_parse(env->args, &args, err);
	if (r < 0)
		return r;
	r = bandwidth_request(conf, args, &bw, err);
	json_decref(args);
	if (r < 0)
		return r;
	/* shoald speaks 1.1.0 results only. */
	r = cni_result_convert(conf->prev_result, CNI_VERSION_1_1_0, &prev);
	if (r < 0) {
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	r = netns_open(env->netns, err, &fd);
	if (r < 0)
		goto out;
	req = json_pack("{s:s, s:s, s:s, s:O}", "op", "check", "containerId", env->container_id, "ifname", env->ifname,
			"prevResult", prev);
	if (!req) {
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* CHECK must expect the routes and the MTU ADD was asked for. */
	if (!conf->default_route)
		json_object_set_new(req, "defaultRoute", json_false());
	if (conf->mtu)
		json_object_set_new(req, "mtu", json_integer(conf->mtu));
	if (bw && json_object_set(req, "bandwidth", bw) < 0) {
		r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	r = ipc_call(conf->socket, req, fd, conf->timeout_ms, &resp);
	if (r < 0) {
		transport_error(err, CNI_ERR_TRY_AGAIN_LATER, conf, r);
		goto out;
	}
	r = shoald_status(resp, conf, "check", err);
out:
	if (fd >= 0)
		close(fd);
	json_decref(bw);
	json_decref(prev);
	json_decref(req);
	json_decref(resp);
	return r;
}

static int cmd_status(const struct cni_conf *conf, struct cni_plugin_reply *reply)
{
	struct cni_error *err = &reply->err;
	json_t *req, *resp = NULL, *free_addrs, *free_ports;
	int r;

	r = need_version(conf, CNI_VERSION_1_1_0, "STATUS", err);
	if (r < 0)
		return r;
	req = json_pack("{s:s}", "op", "status");
	if (!req)
		return cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
	r = ipc_call(conf->socket, req, -1, conf->timeout_ms, &resp);
	json_decref(req);
	if (r < 0) {
		transport_error(err, CNI_ERR_NOT_AVAILABLE, conf, r);
		err->code = CNI_ERR_NOT_AVAILABLE;   /* also for a garbled answer: STATUS knows 50/51 */
		return r;
	}
	r = shoald_status(resp, conf, "status", err);
	if (r < 0) {
		/* STATUS knows only 50 and 51 (spec, STATUS). */
		if (err->code != CNI_ERR_NOT_AVAILABLE && err->code != CNI_ERR_LIMITED_CONNECTIVITY)
			err->code = CNI_ERR_NOT_AVAILABLE;
		goto out;
	}
	/* The spec asks STATUS to fail when resources for ADD are exhausted. */
	free_addrs = json_object_get(resp, "addressesFree");
	if (json_is_integer(free_addrs) && json_integer_value(free_addrs) <= 0) {
		const char *subnet = json_string_value(json_object_get(resp, "subnet"));

		r = cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "no free address left in subnet %s", subnet ? subnet : "?");
		cni_error_details(err, "ADD will fail with code %d until workloads are deleted", SHOAL_ERR_NO_ADDRESS);
		goto out;
	}
	/* A node that left the cluster, or whose subnet another node took, refuses ADD. */
	if (json_is_true(json_object_get(resp, "left"))) {
		r = cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "this node has left the cluster (netctl node leave)");
		cni_error_details(err, "restart shoald to rejoin");
		goto out;
	}
	if (json_string_length(json_object_get(resp, "subnetTakenBy")) > 0) {
		r = cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "this node's subnet is claimed by node %s",
				  json_string_value(json_object_get(resp, "subnetTakenBy")));
		cni_error_details(err, "ADD will fail with code %d until an operator releases it", SHOAL_ERR_SUBNET_TAKEN);
		goto out;
	}
	/* A Linux bridge takes 1023 ports, whatever the subnet's size. */
	free_ports = json_object_get(resp, "bridgePortsFree");
	if (json_is_integer(free_ports) && json_integer_value(free_ports) <= 0) {
		const char *bridge = json_string_value(json_object_get(resp, "bridge"));

		r = cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "host full: bridge %s has no free port", bridge ? bridge : "?");
		cni_error_details(err, "ADD will fail with code %d until workloads are deleted", SHOAL_ERR_HOST_FULL);
	}
out:
	json_decref(resp);
	return r;
}

static int cmd_gc(const struct cni_conf *conf, struct cni_plugin_reply *reply)
{
	struct cni_error *err = &reply->err;
	json_t *req = NULL, *resp = NULL, *valid, *e;
	size_t i;
	int r;

	r = need_version(conf, CNI_VERSION_1_1_0, "GC", err);
	if (r < 0)
		return r;
	/* Without the list every attachment would look stale: refuse rather than remove them all. */
	if (!conf->valid_attachments) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "network config has no \"cni.dev/valid-attachments\"");
		cni_error_details(err, "GC removes every attachment not in that list, so it is required");
		return -EINVAL;
	}
	valid = json_array();
	/* GC is per network: shoald leaves other networks' attachments alone. */
	req = json_pack("{s:s, s:o, s:s}", "op", "gc", "valid", valid, "network", conf->name);
	if (!req)
		return cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
	json_array_foreach(conf->valid_attachments, i, e) {
		json_t *a = json_pack("{s:O, s:O}", "containerId", json_object_get(e, "containerID"), "ifname",
				      json_object_get(e, "ifname"));

		if (!a || json_array_append_new(valid, a) < 0) {
			r = cni_error_set(err, SHOAL_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	r = ipc_call(conf->socket, req, -1, conf->timeout_ms, &resp);
	if (r < 0) {
		transport_error(err, CNI_ERR_TRY_AGAIN_LATER, conf, r);
		goto out;
	}
	r = shoald_status(resp, conf, "gc", err);
	if (r == 0)
		log_debug("gc: shoald removed %lld attachments",
			  (long long)json_integer_value(json_object_get(resp, "removed")));
out:
	json_decref(req);
	json_decref(resp);
	return r;
}

/* "the value of cniVersion specified on input" (spec, VERSION) when it looks like a version at all;
 * a probe with a version we do not speak still gets an answer. */
static json_t *version_reply(const char *input, size_t len)
{
	json_t *root = len ? json_loadb(input, len, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(root, "cniVersion"));
	unsigned a, b, c;
	char tail;
	json_t *o;

	if (!v || strlen(v) > 32 || sscanf(v, "%u.%u.%u%c", &a, &b, &c, &tail) != 3)
		v = cni_version_string(CNI_VERSION_LATEST);
	o = json_pack("{s:s, s:o}", "cniVersion", v, "supportedVersions", cni_versions_supported_json());
	json_decref(root);
	return o;
}

int cni_plugin_run(const struct cni_env *env, const char *input, size_t len, struct cni_plugin_reply *reply)
{
	struct cni_conf conf;
	int r;

	reply->output = NULL;
	reply->version = CNI_VERSION_UNKNOWN;
	if (env->cmd == CNI_CMD_VERSION) {
		reply->version = cni_conf_peek_version(input, len);
		reply->output = version_reply(input, len);
		if (!reply->output)
			return cni_error_set(&reply->err, SHOAL_ERR_INTERNAL, "out of memory");
		return 0;
	}
	r = cni_conf_parse(input, len, &conf, &reply->err);
	if (r < 0) {
		reply->version = cni_conf_peek_version(input, len);
		return r;
	}
	reply->version = conf.version;
	switch (env->cmd) {
	case CNI_CMD_ADD:
		r = cmd_add(env, &conf, reply);
		break;
	case CNI_CMD_DEL:
		r = cmd_del(env, &conf, reply);
		break;
	case CNI_CMD_CHECK:
		r = cmd_check(env, &conf, reply);
		break;
	case CNI_CMD_STATUS:
		r = cmd_status(&conf, reply);
		break;
	case CNI_CMD_GC:
		r = cmd_gc(&conf, reply);
		break;
	default:
		r = cni_error_set(&reply->err, CNI_ERR_INVALID_ENV, "CNI_COMMAND is not a known command");
		break;
	}
	cni_conf_done(&conf);
	return r;
}

json_t *cni_plugin_reply_json(const struct cni_plugin_reply *reply, int r)
{
	if (r < 0)
		return cni_error_json(&reply->err, reply->version);
	return reply->output ? json_incref(reply->output) : NULL;
}

void cni_plugin_reply_done(struct cni_plugin_reply *reply)
{
	if (!reply)
		return;
	json_decref(reply->output);
	reply->output = NULL;
}
