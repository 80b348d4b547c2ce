#include "netd/request.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/cnierr.h"
#include "lib/names.h"
#include "netd/records.h"

static int fail(struct request_error *err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct request_error *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool request_network_name_valid(const char *name)
{
	if (!name || !isalnum((unsigned char)name[0]) || strlen(name) >= RECORD_NETWORK_SIZE)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

/* A string field: absent is NULL (the caller decides whether that is allowed); present but not a
 * string, or with an embedded NUL, is an error. */
static int get_str(json_t *j, const char *key, const char **ret, struct request_error *err)
{
	json_t *v = json_object_get(j, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"%s\" must be a string", key);
	*ret = json_string_value(v);
	return 0;
}

/* DEL takes any name the kernel takes (names_ifname_valid): an attachment made before the stricter
 * rule must stay deletable, or it and its address would stay forever. */
static int parse_ids(json_t *j, struct request *req, bool strict_ifname, struct request_error *err)
{
	const char *why = NULL;

	if (get_str(j, "containerId", &req->container_id, err) < 0 || get_str(j, "ifname", &req->ifname, err) < 0)
		return -EINVAL;
	if (names_container_id_valid(req->container_id) < 0)
		return fail(err, CNI_ERR_INVALID_ENV, "invalid container id", "containerId \"%.300s\" must be 1-256 "
		            "letters, digits, '_', '.', '-' starting with a letter or digit",
		            req->container_id ? req->container_id : "");
	if (strict_ifname ? names_cni_ifname_valid(req->ifname, &why) < 0 : names_ifname_valid(req->ifname) < 0)
		return fail(err, CNI_ERR_INVALID_ENV, "invalid interface name", "ifname \"%.64s\": %s",
		            req->ifname ? req->ifname : "", why ? why : "not a valid interface name");
	return 0;
}

static int parse_default_route(json_t *j, struct request *req, struct request_error *err)
{
	json_t *v = json_object_get(j, "defaultRoute");

	if (v && !json_is_boolean(v))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"defaultRoute\" must be a boolean");
	req->default_route = !v || json_is_true(v);
	return 0;
}

/* The pod a runtime names in CNI_ARGS (Kubernetes' K8S_POD_* keys), recorded with the attachment.
 * Kubernetes' own limits always fit; anything longer is refused, never cut. */
static int parse_pod(json_t *j, struct request *req, struct request_error *err)
{
	static const struct { const char *key; size_t size; size_t off; } keys[] = {
		{ "K8S_POD_NAMESPACE", RECORD_POD_NS_SIZE, offsetof(struct request, pod_namespace) },
		{ "K8S_POD_NAME", RECORD_POD_NAME_SIZE, offsetof(struct request, pod_name) },
		{ "K8S_POD_UID", RECORD_POD_UID_SIZE, offsetof(struct request, pod_uid) },
	};
	json_t *args = json_object_get(j, "args");

	if (args && !json_is_object(args))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"args\" must be an object (the parsed CNI_ARGS)");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char **dst = (const char **)((char *)req + keys[i].off);

		if (get_str(args, keys[i].key, dst, err) < 0)
			return -EINVAL;
		if (!*dst)
			*dst = "";
		if (strlen(*dst) >= keys[i].size)
			return fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS", "%s has %zu bytes; at most %zu are supported",
			            keys[i].key, strlen(*dst), keys[i].size - 1);
	}
	return 0;
}

static int parse_mtu(json_t *mtu, struct request *req, struct request_error *err)
{
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 0 ||
	            (json_integer_value(mtu) && (json_integer_value(mtu) < 576 || json_integer_value(mtu) > 65535))))
		return fail(err, CNI_ERR_INVALID_CONFIG, "invalid MTU", "mtu must be 0 (the host's) or 576..65535");
	req->mtu = mtu ? (uint32_t)json_integer_value(mtu) : 0;
	return 0;
}

/* One value of a direction: an integer >= 0 (jansson's integers stop at INT64_MAX). */
static int bw_value(json_t *dir, const char *dname, const char *key, uint64_t *ret, struct request_error *err)
{
	json_t *v = json_object_get(dir, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(err, CNI_ERR_INVALID_CONFIG, "invalid bandwidth", "bandwidth.%s.%s must be an integer >= 0 "
		            "(%s; 0 = not set)", dname, key, strcmp(key, "burst") ? "bit/s" : "bits");
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int bw_direction(json_t *bw, const char *dname, struct request_bandwidth_dir *ret, struct request_error *err)
{
	json_t *dir = json_object_get(bw, dname);
	struct request_bandwidth_dir d = { 0 };

	if (!dir)
		return 0;
	if (!json_is_object(dir))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"bandwidth.%s\" must be an object", dname);
	if (bw_value(dir, dname, "guarantee", &d.guarantee, err) < 0 || bw_value(dir, dname, "limit", &d.limit, err) < 0 ||
	    bw_value(dir, dname, "burst", &d.burst, err) < 0)
		return -EINVAL;
	/* HTB cannot keep a rate above its ceil; refused here, not at admission, so every client
	 * hears it the same way (the plugin checks it too, but shoald trusts no client). */
	if (d.guarantee && d.limit && d.guarantee > d.limit)
		return fail(err, CNI_ERR_INVALID_CONFIG, "invalid bandwidth", "bandwidth.%s.guarantee %llu bit/s exceeds "
		            "bandwidth.%s.limit %llu bit/s", dname, (unsigned long long)d.guarantee, dname,
		            (unsigned long long)d.limit);
	*ret = d;
	return 0;
}

/* {"ingress": {"guarantee", "limit", "burst"}, "egress": {...}, "priority"}, each optional.  Keys
 * we do not know are ignored, as everywhere in the API. */
int request_bandwidth_decode(json_t *bw, struct request_bandwidth *ret, struct request_error *err)
{
	struct request_bandwidth b = { .priority = -1 };
	json_t *prio;

	if (!bw)
		goto done;
	if (!json_is_object(bw))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"bandwidth\" must be an object");
	if (bw_direction(bw, "ingress", &b.ingress, err) < 0 || bw_direction(bw, "egress", &b.egress, err) < 0)
		return -EINVAL;
	prio = json_object_get(bw, "priority");
	if (prio) {
		if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
		    json_integer_value(prio) > REQUEST_BW_PRIORITY_MAX)
			return fail(err, CNI_ERR_INVALID_CONFIG, "invalid bandwidth",
			            "bandwidth.priority must be an integer 0..%d (0 is the highest)", REQUEST_BW_PRIORITY_MAX);
		b.priority = (int)json_integer_value(prio);
	}
done:
	*ret = b;
	return 0;
}

static json_t *bw_dir_encode(const struct request_bandwidth_dir *d)
{
	json_t *o = json_object();

	if (o && d->guarantee)
		json_object_set_new(o, "guarantee", json_integer((json_int_t)d->guarantee));
	if (o && d->limit)
		json_object_set_new(o, "limit", json_integer((json_int_t)d->limit));
	if (o && d->burst)
		json_object_set_new(o, "burst", json_integer((json_int_t)d->burst));
	return o;
}

bool request_bandwidth_set(const struct request_bandwidth *b)
{
	return b->priority >= 0 || b->ingress.guarantee || b->ingress.limit || b->ingress.burst || b->egress.guarantee ||
	       b->egress.limit || b->egress.burst;
}

json_t *request_bandwidth_encode(const struct request_bandwidth *b)
{
	json_t *o;

	if (!request_bandwidth_set(b))
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	if (b->ingress.guarantee || b->ingress.limit || b->ingress.burst)
		json_object_set_new(o, "ingress", bw_dir_encode(&b->ingress));
	if (b->egress.guarantee || b->egress.limit || b->egress.burst)
		json_object_set_new(o, "egress", bw_dir_encode(&b->egress));
	if (b->priority >= 0)
		json_object_set_new(o, "priority", json_integer(b->priority));
	return o;
}

static int parse_bandwidth(json_t *j, struct request *req, struct request_error *err)
{
	return request_bandwidth_decode(json_object_get(j, "bandwidth"), &req->bandwidth, err);
}

static int parse_add(json_t *j, struct request *req, struct request_error *err)
{
	json_t *mtu = json_object_get(j, "mtu");

	if (parse_ids(j, req, true, err) < 0 || get_str(j, "netns", &req->netns, err) < 0 ||
	    get_str(j, "network", &req->network, err) < 0 || parse_default_route(j, req, err) < 0)
		return -EINVAL;
	if (!req->netns)
		req->netns = "";
	if (parse_pod(j, req, err) < 0)
		return -EINVAL;
	/* Refused, never cut: a cut path or name silently breaks matching later (GC, reports). */
	if (strlen(req->netns) >= RECORD_NETNS_SIZE)
		return fail(err, CNI_ERR_INVALID_ENV, "network namespace path too long",
		            "the netns path has %zu bytes; at most %d are supported", strlen(req->netns),
		            RECORD_NETNS_SIZE - 1);
	if (!request_network_name_valid(req->network))
		return fail(err, CNI_ERR_INVALID_CONFIG, "invalid network name",
		            "network name \"%.64s%s\" must start with a letter or digit, continue with letters, digits, "
		            "'_', '.', '-', and have at most %d bytes", req->network ? req->network : "",
		            req->network && strlen(req->network) > 64 ? "..." : "", RECORD_NETWORK_SIZE - 1);
	if (parse_mtu(mtu, req, err) < 0)
		return -EINVAL;
	return parse_bandwidth(j, req, err);
}

static int parse_gc(json_t *j, struct request *req, struct request_error *err)
{
	json_t *v;
	size_t i;

	if (get_str(j, "network", &req->network, err) < 0)
		return -EINVAL;
	/* CNI GC is per network; without one, every network's attachments would be judged. */
	if (!req->network || !req->network[0])
		return fail(err, CNI_ERR_DECODE, "invalid request", "gc needs \"network\", the CNI network name");
	req->valid = json_object_get(j, "valid");
	/* Without the list every attachment would go: refuse rather than guess. */
	if (!json_is_array(req->valid))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"valid\" must be an array of attachments");
	json_array_foreach(req->valid, i, v)
		if (!json_is_object(v) || !json_is_string(json_object_get(v, "containerId")) ||
		    !json_is_string(json_object_get(v, "ifname")))
			return fail(err, CNI_ERR_DECODE, "invalid request",
			            "\"valid\"[%zu] must be an object with string \"containerId\" and \"ifname\"", i);
	return 0;
}

static int get_bool(json_t *j, const char *key, bool *ret, struct request_error *err)
{
	json_t *v = json_object_get(j, key);

	if (v && !json_is_boolean(v))
		return fail(err, CNI_ERR_DECODE, "invalid request", "\"%s\" must be a boolean", key);
	*ret = json_is_true(v);
	return 0;
}

static int parse_release(json_t *j, struct request *req, struct request_error *err)
{
	const char *s;

	if (get_str(j, "subnet", &s, err) < 0 || get_bool(j, "force", &req->force, err) < 0)
		return -EINVAL;
	if (!s)
		return fail(err, CNI_ERR_DECODE, "invalid request", "release needs \"subnet\", e.g. \"10.244.3.0/24\"");
	/* The network address exactly as the lease is keyed: a host address inside it is a typo. */
	if (cidr4_parse_prefix(s, &req->subnet) < 0)
		return fail(err, CNI_ERR_DECODE, "invalid request",
		            "\"subnet\" \"%.64s\" is not a subnet (a.b.c.d/len with no host bits), e.g. 10.244.3.0/24", s);
	return 0;
}

/* Leaving renumbers nothing but cuts this host off the cluster: the caller must say it means it.
 * api.c keeps the peer's uid to itself, and socketGroup members administer the network anyway. */
static int parse_leave(json_t *j, struct request *req, struct request_error *err)
{
	bool confirm = false;

	if (get_bool(j, "confirm", &confirm, err) < 0)
		return -EINVAL;
	if (!confirm)
		return fail(err, CNI_ERR_DECODE, "invalid request", "leave needs \"confirm\": true");
	return 0;
}

/* "cgroup": a path; with containerId or ifname too the request is ambiguous. */
static int parse_cgroup(json_t *j, struct request *req, bool required, struct request_error *err)
{
	if (get_str(j, "cgroup", &req->cgroup, err) < 0)
		return -EINVAL;
	if (!req->cgroup)
		return required ? fail(err, CNI_ERR_DECODE, "invalid request", "quotaDelete needs \"cgroup\"") : 0;
	if (!req->cgroup[0] || strlen(req->cgroup) >= 4096)
		return fail(err, CNI_ERR_INVALID_CONFIG, "invalid cgroup", "\"cgroup\" must be a path of 1..4095 bytes");
	if (json_object_get(j, "containerId") || json_object_get(j, "ifname"))
		return fail(err, CNI_ERR_DECODE, "invalid request", "give \"cgroup\" or \"containerId\" and \"ifname\", "
		            "not both");
	return 0;
}

int request_parse(json_t *j, struct request *ret, struct request_error *err)
{
	static const struct { const char *name; enum request_op op; } ops[] = {
		{ "add", REQ_ADD }, { "del", REQ_DEL }, { "check", REQ_CHECK }, { "gc", REQ_GC },
		{ "status", REQ_STATUS }, { "workloads", REQ_WORKLOADS }, { "subnets", REQ_SUBNETS },
		{ "release", REQ_RELEASE }, { "hosts", REQ_HOSTS }, { "network", REQ_NETWORK }, { "leave", REQ_LEAVE },
		{ "quota", REQ_QUOTA }, { "policies", REQ_POLICIES }, { "policySet", REQ_POLICY_SET },
		{ "policyDelete", REQ_POLICY_DELETE }, { "quotaDelete", REQ_QUOTA_DELETE },
	};
	struct request req = { .default_route = true, .bandwidth.priority = -1 };
	const char *op;
	size_t i;
	int r = 0;

	if (!json_is_object(j))
		return fail(err, CNI_ERR_DECODE, "invalid request", "the request is not a JSON object");
	if (get_str(j, "op", &op, err) < 0)
		return -EINVAL;
	if (!op)
		return fail(err, CNI_ERR_DECODE, "invalid request", "missing \"op\"");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && strcmp(op, ops[i].name) != 0; i++)
		;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return fail(err, CNI_ERR_DECODE, "invalid request", "unknown op \"%.32s\"", op);
	req.op = ops[i].op;
	switch (req.op) {
	case REQ_ADD:
		r = parse_add(j, &req, err);
		break;
	case REQ_DEL:
		r = parse_ids(j, &req, false, err);
		break;
	case REQ_CHECK:
		r = parse_ids(j, &req, true, err);
		if (r == 0)
			r = parse_default_route(j, &req, err);
		if (r == 0)
			r = parse_mtu(json_object_get(j, "mtu"), &req, err);
		if (r == 0)
			r = parse_bandwidth(j, &req, err);
		req.prev_result = json_object_get(j, "prevResult");
		break;
	case REQ_GC:
		r = parse_gc(j, &req, err);
		break;
	case REQ_RELEASE:
		r = parse_release(j, &req, err);
		break;
	case REQ_LEAVE:
		r = parse_leave(j, &req, err);
		break;
	case REQ_QUOTA:
		/* The whole set a workload asks for, replacing what it asked before: a pod's, or a
		 * cgroup's (created when it has none). */
		r = parse_cgroup(j, &req, false, err);
		if (r == 0 && !req.cgroup)
			r = parse_ids(j, &req, true, err);
		if (r == 0 && !json_object_get(j, "bandwidth"))
			r = fail(err, CNI_ERR_DECODE, "invalid request", "quota needs \"bandwidth\" (an empty object: the defaults)");
		if (r == 0)
			r = parse_bandwidth(j, &req, err);
		break;
	case REQ_QUOTA_DELETE:
		r = parse_cgroup(j, &req, true, err);
		break;
	case REQ_POLICY_SET:
	case REQ_POLICY_DELETE:
		r = get_str(j, "name", &req.name, err);
		if (r == 0 && !req.name)
			r = fail(err, CNI_ERR_DECODE, "invalid request", "%s needs \"name\"", op);
		req.policy = j;
		break;
	case REQ_STATUS:
	case REQ_WORKLOADS:
	case REQ_POLICIES:
	case REQ_SUBNETS:
	case REQ_HOSTS:
	case REQ_NETWORK:
		break;
	}
	if (r < 0)
		return r;
	*ret = req;
	return 0;
}
