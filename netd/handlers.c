/* The API's operations (docs/api.md): decode (request.c), check the passed descriptor, call the
 * module that acts, and turn its -errno into the CNI error code.  The only file of netd/ that
 * knows CNI error codes. */
#include "netd/handlers.h"

#include <errno.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "ipam/ipam.h"
#include "lib/cnierr.h"
#include "lib/log.h"
#include "netd/api.h"
#include "netd/cgroups.h"
#include "netd/netd.h"
#include "netd/peers.h"
#include "netd/policies.h"
#include "netd/reaper.h"
#include "netd/request.h"
#include "overlay/rtlink.h"

/* The descriptor must be a network namespace, and not shoald's own: an interface "for a container"
 * in the host namespace would add a second subnet route there (identity, not path: any path can
 * name any namespace). */
static json_t *check_netns_fd(const struct manager *m, int fd)
{
	struct stat st;

	if (fd < 0)
		return api_error(CNI_ERR_INVALID_ENV, "missing network namespace", "the request carried no netns fd");
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return api_error(CNI_ERR_INVALID_ENV, "not a network namespace",
		                 "the descriptor passed is not a network namespace");
	if (fstat(fd, &st) < 0)
		return api_error(CNI_ERR_INVALID_ENV, "unusable network namespace", "fstat: %s", strerror(errno));
	if (st.st_dev == m->self_ns_dev && st.st_ino == m->self_ns_ino)
		return api_error(CNI_ERR_INVALID_ENV, "the network namespace is the host's",
		                 "the namespace passed is shoald's own; a container needs a network namespace of its own");
	return NULL;
}

static json_t *result_json(struct manager *m, const struct attach_result *res)
{
	const struct attachment *a = res->a;
	char addr[CIDR4_STRLEN], gw[IP4_STRLEN], hmac[18], pmac[18], dst[CIDR4_STRLEN];
	struct cidr4 c = { .addr = a->rec.addr, .len = a->rec.prefixlen };

	rtlink_format_mac(res->host_mac, hmac);
	rtlink_format_mac(res->peer_mac, pmac);
	ip4_format(ipam_pool_gateway(m->pool), gw);
	if (a->rec.default_route)
		snprintf(dst, sizeof(dst), "0.0.0.0/0");
	else
		cidr4_format(&m->cfg.network, dst);
	return json_pack("{s:b, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i, s:s}], s:[{s:s, s:s, s:i}], s:[{s:s, s:s}], s:{}}",
	                 "ok", 1,
	                 "interfaces", "name", a->rec.host_veth, "mac", hmac, "mtu", (int)a->rec.mtu,
	                 "name", a->rec.ifname, "mac", pmac, "mtu", (int)a->rec.mtu, "sandbox", a->rec.netns,
	                 "ips", "address", cidr4_format(&c, addr), "gateway", gw, "interface", 1,
	                 "routes", "dst", dst, "gw", gw,
	                 "dns");
}

static json_t *handle_add(struct manager *m, const struct request *q, int fd)
{
	struct attach_req req = { .container_id = q->container_id, .ifname = q->ifname, .netns = q->netns,
	                          .network = q->network, .mtu = q->mtu, .default_route = q->default_route,
	                          .pod_namespace = q->pod_namespace, .pod_name = q->pod_name, .pod_uid = q->pod_uid,
	                          .bandwidth = q->bandwidth, .netns_fd = fd };
	struct attach_result res;
	char err[NETD_ERRLEN];
	json_t *e;
	int r;

	if ((e = check_netns_fd(m, fd)))
		return e;
	/* Without a subnet lease our addresses may be handed to another node: no new workloads. */
	if (m->left)
		return api_error(CNI_ERR_NOT_AVAILABLE, "this node has left the cluster; restart shoald to rejoin or run "
		                 "shoald --cleanup", "node %s gave up its subnet (netctl node leave); existing workloads "
		                 "keep local connectivity only", m->cfg.node);
	if (m->subnet_taken_by[0])
		return api_error(SHOAL_ERR_SUBNET_TAKEN, "this node's subnet is claimed by another node",
		                 "subnet %s was claimed by node %s while this node's lease was lost; new workloads "
		                 "could get that node's addresses until an operator releases it",
		                 cidr4_format(&m->subnet, (char[CIDR4_STRLEN]){ 0 }), m->subnet_taken_by);
	r = attach_add(m, &req, &res, err);
	if (r == 0)
		return result_json(m, &res);
	log_error("ADD %s/%s: %s", q->container_id, q->ifname, err);
	switch (r) {
	case -EEXIST:
		return api_error(SHOAL_ERR_EXISTS, "attachment or interface already exists", "%s", err);
	case -EADDRINUSE:
		return api_error(SHOAL_ERR_EXISTS, "the container already has that route; shoal never replaces a route "
		                 "(set \"defaultRoute\": false in the conflist when another network owns it)", "%s", err);
	case -EAGAIN:
		return api_error(CNI_ERR_TRY_AGAIN_LATER, "previous attachment is still being removed", "%s", err);
	case -ENOSPC:
		return api_error(SHOAL_ERR_NO_ADDRESS, "no free address", "%s", err);
	case -EXFULL:
		return api_error(SHOAL_ERR_HOST_FULL, "host full", "%s", err);
	case -EDQUOT:
		return api_error(SHOAL_ERR_BANDWIDTH, "bandwidth refused by admission control", "%s", err);
	case -ENOMEM:
		return api_error(SHOAL_ERR_INTERNAL, "out of memory", "%s", err);
	default:
		return api_error(r == -EIO ? CNI_ERR_IO : SHOAL_ERR_KERNEL, "failed to set up the interface", "%s", err);
	}
}

static json_t *handle_del(struct manager *m, const struct request *q)
{
	char err[NETD_ERRLEN];

	if (attach_del(m, q->container_id, q->ifname, err) < 0)
		return api_error(CNI_ERR_IO, "failed to record the deletion", "%s", err);
	return json_pack("{s:b}", "ok", 1);
}

/* The runtime's prevResult must name our interface with our address: a result that disagrees with
 * what shoald set up means the runtime and the node have diverged. */
static json_t *check_prev_result(const struct attachment *a, json_t *prev)
{
	char want[CIDR4_STRLEN];
	struct cidr4 c = { .addr = a->rec.addr, .len = a->rec.prefixlen };
	json_t *ifs = json_object_get(prev, "interfaces"), *ips = json_object_get(prev, "ips"), *v;
	json_int_t ours = -1;
	size_t i;

	if (!prev)
		return json_pack("{s:b}", "ok", 1);
	cidr4_format(&c, want);
	json_array_foreach(ifs, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *sandbox = json_string_value(json_object_get(v, "sandbox"));

		if (name && sandbox && sandbox[0] && strcmp(name, a->rec.ifname) == 0)
			ours = (json_int_t)i;
	}
	json_array_foreach(ips, i, v) {
		const char *addr = json_string_value(json_object_get(v, "address"));
		json_t *idx = json_object_get(v, "interface");

		if (addr && strcmp(addr, want) == 0 && (!idx || ours < 0 || json_integer_value(idx) == ours))
			return json_pack("{s:b}", "ok", 1);
	}
	return api_error(SHOAL_ERR_CHECK_FAILED, "prevResult does not match the attachment",
	                 "prevResult has no address %s on interface %s", want, a->rec.ifname);
}

static json_t *handle_check(struct manager *m, const struct request *q, int fd)
{
	struct attach_req req = { .container_id = q->container_id, .ifname = q->ifname, .mtu = q->mtu, .netns_fd = fd };
	struct attachment *a = attach_lookup(m, q->container_id, q->ifname);
	char err[NETD_ERRLEN];
	json_t *e;

	if ((e = check_netns_fd(m, fd)))
		return e;
	if (!a || a->deleting)
		return api_error(CNI_ERR_UNKNOWN_CONTAINER, "unknown attachment",
		                 "container %s has no interface %s on this node", q->container_id, q->ifname);
	if (attach_check(m, &req, err) < 0)
		return api_error(SHOAL_ERR_CHECK_FAILED, "attachment is not as configured", "%s", err);
	return check_prev_result(a, q->prev_result);
}

static bool gc_valid(void *ctx, const char *id, const char *ifname)
{
	json_t *valid = ctx, *v;
	size_t i;

	json_array_foreach(valid, i, v)
		if (strcmp(id, json_string_value(json_object_get(v, "containerId"))) == 0 &&
		    strcmp(ifname, json_string_value(json_object_get(v, "ifname"))) == 0)
			return true;
	return false;
}

static json_t *handle_gc(struct manager *m, const struct request *q)
{
	size_t removed = attach_gc(m, q->network, gc_valid, q->valid);

	if (removed)
		log_info("GC of network %s released %zu attachments", q->network, removed);
	return json_pack("{s:b, s:I}", "ok", 1, "removed", (json_int_t)removed);
}

static json_t *handle_status(struct manager *m)
{
	char s[CIDR4_STRLEN], n[CIDR4_STRLEN], gw[IP4_STRLEN];
	json_t *j;

	j = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "ok", 1, "node",
	              m->cfg.node, "version", SHOAL_VERSION, "store", m->cfg.store, "network",
	              cidr4_format(&m->cfg.network, n), "subnet", cidr4_format(&m->subnet, s), "gateway",
	              ip4_format(ipam_pool_gateway(m->pool), gw), "bridge", m->cfg.bridge, "mtu", (int)m->mtu,
	              "workloads", (json_int_t)m->n_active, "addressesFree",
	              (json_int_t)ipam_pool_free_count(m->pool), "pendingDeletes",
	              (json_int_t)reaper_pending(m->reaper), "uptimeSeconds",
	              (json_int_t)(time(NULL) - m->started));
	/* Capacity is the smaller of free addresses and free bridge ports. */
	if (j) {
		json_object_set_new(j, "bridgePortsFree", json_integer((json_int_t)attach_ports_free(m)));
		json_object_set_new(j, "capacityFree", json_integer((json_int_t)attach_capacity_free(m)));
		json_object_set_new(j, "antiSpoofing", json_boolean(m->cfg.antispoof));
		json_object_set_new(j, "forwardDrop", json_string(m->fwd_drop ? m->fwd_drop_by : ""));
		json_object_set_new(j, "brNetfilter", json_boolean(m->fwd_br_netfilter));
		json_object_set_new(j, "forwardAccept", json_boolean(m->cfg.forward_accept));
		json_object_set_new(j, "left", json_boolean(m->left));
		json_object_set_new(j, "subnetTakenBy", json_string(m->subnet_taken_by));
		/* null: this node does not shape (an older shoald has no key at all) */
		json_object_set_new(j, "bandwidth", bandwidth_enabled(m) ? bandwidth_status(m) : json_null());
	}
	return j;
}

static json_t *policy_name_json(const struct manager *m, const struct attachment *a)
{
	const struct policy *pol = policies_for(m, &a->rec);

	return pol ? json_string(pol->name) : json_null();
}

static json_t *handle_workloads(struct manager *m)
{
	json_t *list = json_array(), *cgroups;
	struct bw_snapshot *snap = NULL;

	/* Every class's counters in one read per tree, whatever the number of workloads.  A failed
	 * read (an IFB removed by hand, until the next reconcile repairs it) leaves the list without
	 * counters rather than failing it. */
	if (bandwidth_enabled(m)) {
		char err[512];

		if (bandwidth_snapshot(m, &snap, err) < 0)
			log_warn("workloads: %s", err);
	}
	for (unsigned b = 0; list && b < ATT_BUCKETS; b++)
		for (struct attachment *a = m->by_veth[b]; a; a = a->next_veth) {
			char addr[CIDR4_STRLEN];
			struct cidr4 c = { .addr = a->rec.addr, .len = a->rec.prefixlen };

			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
			                      "containerId", a->rec.container_id, "ifname", a->rec.ifname, "address",
			                      cidr4_format(&c, addr), "hostVeth", a->rec.host_veth, "netns", a->rec.netns,
			                      "network", a->rec.network, "created", (json_int_t)a->rec.created, "state",
			                      a->deleting ? "deleting" : "active", "namespace", a->rec.pod_namespace, "pod",
			                      a->rec.pod_name, "podUID", a->rec.pod_uid));
			if (bandwidth_enabled(m)) {
				json_t *w = json_array_get(list, json_array_size(list) - 1);
				json_t *asked = request_bandwidth_encode(&a->rec.bandwidth);

				json_object_set_new(w, "bandwidth", bandwidth_share_json(&a->bw));
				json_object_set_new(w, "bandwidthAsked", asked ? asked : json_object());
				json_object_set_new(w, "policy", policy_name_json(m, a));
				json_object_set_new(w, "counters", snap ? bandwidth_counters_json(snap, a) : json_null());
			}
		}
	cgroups = cgroups_json(m, snap);
	bandwidth_snapshot_free(snap);
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "workloads", list, "cgroups", cgroups ? cgroups : json_array());
}

static void on_subnets(void *userdata, int err, json_t *list, const char *msg)
{
	api_call_reply(userdata, err < 0 ? api_error(CNI_ERR_IO, "failed to read the store", "%s", msg)
	                                 : json_pack("{s:b, s:o}", "ok", 1, "subnets", list));
}

/* The store may be remote (etcd): answered when it answers, the loop never waits. */
static json_t *handle_subnets(struct manager *m, struct api_call *call)
{
	int r = subnet_list(m, on_subnets, call);

	if (r < 0)
		return api_error(CNI_ERR_IO, "failed to read the store", "%s: %s", m->cfg.store, strerror(-r));
	api_call_defer(call);
	return API_DEFERRED;
}

/* The answer of release, network and leave: {"ok": true, ...result} or the error. */
static json_t *done_json(int err, json_t *result, const char *msg)
{
	json_t *j;

	switch (err) {
	case 0:
		j = result;
		if (j && json_object_set_new(j, "ok", json_true()) < 0) {
			json_decref(j);
			j = NULL;
		}
		return j ? j : api_error(SHOAL_ERR_INTERNAL, "out of memory", "building the answer");
	case -ENOENT:
		return api_error(CNI_ERR_UNKNOWN_CONTAINER, "no such subnet lease", "%s", msg);
	case -EPERM:
		return api_error(CNI_ERR_INVALID_CONFIG, "refused: this node's own subnet", "%s", msg);
	case -EBUSY:
		return api_error(CNI_ERR_INVALID_CONFIG, "refused: the lease is live", "%s", msg);
	case -EALREADY:
		return api_error(CNI_ERR_INVALID_CONFIG, "this node has left the cluster already", "%s", msg);
	case -EAGAIN:
		return api_error(CNI_ERR_TRY_AGAIN_LATER, "busy, try again", "%s", msg);
	case -ECANCELED:
		return api_error(CNI_ERR_TRY_AGAIN_LATER, "shoald is stopping", "%s", msg);
	case -ENOMEM:
		return api_error(SHOAL_ERR_INTERNAL, "out of memory", "%s", msg);
	default:
		return api_error(CNI_ERR_IO, "store request failed", "%s", msg);
	}
}

static void on_done(void *userdata, int err, json_t *result, const char *msg)
{
	api_call_reply(userdata, done_json(err, result, msg));
}

static json_t *deferred(struct api_call *call, int r, const char *msg)
{
	if (r < 0)
		return done_json(r, NULL, msg);
	api_call_defer(call);
	return API_DEFERRED;
}

static json_t *handle_release(struct manager *m, const struct request *q, struct api_call *call)
{
	char msg[NETD_ERRLEN] = "";

	return deferred(call, subnet_release(m, &q->subnet, q->force, on_done, call, msg), msg);
}

static json_t *handle_network(struct manager *m, struct api_call *call)
{
	char msg[NETD_ERRLEN] = "";

	return deferred(call, subnet_network(m, on_done, call, msg), msg);
}

static json_t *handle_leave(struct manager *m, struct api_call *call)
{
	char msg[NETD_ERRLEN] = "";

	return deferred(call, subnet_leave(m, on_done, call, msg), msg);
}

/* Peers as this node programmed them: its own state, no store request. */
static json_t *handle_hosts(struct manager *m)
{
	json_t *list = peers_hosts(m);

	if (!list)
		return api_error(SHOAL_ERR_INTERNAL, "out of memory", "listing the hosts");
	return json_pack("{s:b, s:o, s:b, s:b}", "ok", 1, "hosts", list, "overlay", peers_enabled(m), "left", m->left);
}

/* What a quota change of any workload can meet. */
static json_t *quota_error(int r, const char *err)
{
	switch (r) {
	case -EOPNOTSUPP:
		return api_error(CNI_ERR_INVALID_CONFIG, "bandwidth is not configured", "%s", err);
	case -EDQUOT:
		return api_error(SHOAL_ERR_BANDWIDTH, "bandwidth refused by admission control", "%s", err);
	case -EIO:
		return api_error(CNI_ERR_IO, "failed to record the quota", "%s", err);
	default:
		return api_error(SHOAL_ERR_KERNEL, "failed to change the classes", "%s", err);
	}
}

/* A cgroup's quota: set (created when it has none) or deleted. */
static json_t *cgroup_error(int r, const char *err)
{
	switch (r) {
	case -ENOENT:
		return api_error(CNI_ERR_UNKNOWN_CONTAINER, "no such cgroup", "%s", err);
	case -EINVAL:
	case -ENOTDIR:
		return api_error(CNI_ERR_INVALID_CONFIG, "not a cgroup v2 directory", "%s", err);
	case -ENOMEDIUM:
		return api_error(CNI_ERR_NOT_AVAILABLE, "no cgroup v2 mounted", "%s", err);
	case -EEXIST:
		return api_error(SHOAL_ERR_EXISTS, "cgroup already has a quota", "%s", err);
	case -ENOSPC:
		return api_error(SHOAL_ERR_BANDWIDTH, "no class left for the cgroup", "%s", err);
	default:
		return quota_error(r, err);
	}
}

static json_t *handle_cgroup_quota(struct manager *m, const struct request *q)
{
	const struct cgroup_wl *c = NULL;
	char err[NETD_ERRLEN];
	int r = cgroups_quota_set(m, q->cgroup, &q->bandwidth, &c, err);

	if (r < 0)
		return cgroup_error(r, err);
	return json_pack("{s:b, s:o}", "ok", 1, "cgroup", cgroups_entry_json(m, c, NULL));
}

static json_t *handle_cgroup_delete(struct manager *m, const struct request *q)
{
	char err[NETD_ERRLEN];
	int r = cgroups_quota_delete(m, q->cgroup, err);

	return r < 0 ? cgroup_error(r, err) : json_pack("{s:b}", "ok", 1);
}

static json_t *handle_quota(struct manager *m, const struct request *q)
{
	char err[NETD_ERRLEN];
	struct attachment *a;
	json_t *asked;
	int r;

	if (q->cgroup)
		return handle_cgroup_quota(m, q);
	r = attach_quota_set(m, q->container_id, q->ifname, &q->bandwidth, err);

	switch (r) {
	case 0:
		a = attach_lookup(m, q->container_id, q->ifname);
		if (!a)
			return api_error(CNI_ERR_UNKNOWN_CONTAINER, "no such workload", "%s/%s", q->container_id, q->ifname);
		asked = request_bandwidth_encode(&a->rec.bandwidth);
		return json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "bandwidth", bandwidth_share_json(&a->bw),
		                 "bandwidthAsked", asked ? asked : json_object(), "policy", policy_name_json(m, a));
	case -ENOENT:
		return api_error(CNI_ERR_UNKNOWN_CONTAINER, "no such workload", "%s", err);
	default:
		return quota_error(r, err);
	}
}

/* ---- bandwidth policies: the store's, written and read for every host ---- */

/* A policy's own outcomes; everything else (success, stopping, the store's failures) as done_json. */
static json_t *policy_done_json(int err, json_t *result, const char *msg)
{
	switch (err) {
	case -ENOENT:
		return api_error(CNI_ERR_INVALID_CONFIG, "no such policy", "%s", msg);
	case -EINVAL:
		return api_error(CNI_ERR_INVALID_CONFIG, "invalid policy", "%s", msg);
	default:
		return done_json(err, result, msg);
	}
}

static void on_policy_done(void *userdata, int err, json_t *result, const char *msg)
{
	api_call_reply(userdata, policy_done_json(err, result, msg));
}

static json_t *policy_deferred(struct api_call *call, int r, const char *msg)
{
	if (r < 0)
		return policy_done_json(r, NULL, msg);
	api_call_defer(call);
	return API_DEFERRED;
}

static json_t *handle_policy_set(struct manager *m, const struct request *q, struct api_call *call)
{
	char msg[NETD_ERRLEN] = "";
	char perr[POLICY_ERRLEN];
	struct policy pol;
	json_t *body = json_copy(q->policy);   /* the request less its envelope is the policy */
	int r;

	if (!body)
		return api_error(SHOAL_ERR_INTERNAL, "out of memory", "decoding the policy");
	json_object_del(body, "op");
	json_object_del(body, "name");
	r = policy_decode(q->name, body, &pol, perr);
	json_decref(body);
	if (r < 0)
		return api_error(CNI_ERR_INVALID_CONFIG, "invalid policy", "%s", perr);
	return policy_deferred(call, policies_set(m, &pol, on_policy_done, call, msg), msg);
}

json_t *handlers_dispatch(void *userdata, json_t *j, int fd, struct api_call *call)
{
	struct manager *m = userdata;
	struct request_error err;
	struct request q;

	if (request_parse(j, &q, &err) < 0)
		return api_error(err.code, err.msg, "%s", err.details);
	switch (q.op) {
	case REQ_ADD:
		return handle_add(m, &q, fd);
	case REQ_DEL:
		return handle_del(m, &q);
	case REQ_CHECK:
		return handle_check(m, &q, fd);
	case REQ_GC:
		return handle_gc(m, &q);
	case REQ_STATUS:
		return handle_status(m);
	case REQ_WORKLOADS:
		return handle_workloads(m);
	case REQ_SUBNETS:
		return handle_subnets(m, call);
	case REQ_RELEASE:
		return handle_release(m, &q, call);
	case REQ_HOSTS:
		return handle_hosts(m);
	case REQ_NETWORK:
		return handle_network(m, call);
	case REQ_LEAVE:
		return handle_leave(m, call);
	case REQ_QUOTA:
		return handle_quota(m, &q);
	case REQ_QUOTA_DELETE:
		return handle_cgroup_delete(m, &q);
	case REQ_POLICIES: {
		char msg[NETD_ERRLEN] = "";

		return policy_deferred(call, policies_list(m, on_policy_done, call, msg), msg);
	}
	case REQ_POLICY_SET:
		return handle_policy_set(m, &q, call);
	case REQ_POLICY_DELETE: {
		char msg[NETD_ERRLEN] = "";

		return policy_deferred(call, policies_delete(m, q.name, on_policy_done, call, msg), msg);
	}
	}
	return api_error(CNI_ERR_DECODE, "invalid request", "unknown op");
}
