/* The cluster as the API shows and changes it: every node's lease with its time left and whether it
 * is live (subnets), freeing a dead host's lease (release), the store's network config with this
 * node's view (network), and this node leaving on purpose (leave).  Every store call is
 * asynchronous; results go back through a callback.  This node's own lease lives in subnet.c. */
#include "netd/netd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "netd/peers.h"
#include "store/store.h"

bool subnet_lease_live(int64_t remaining, int64_t granted)
{
	int64_t slack = granted / 10 > SUBNET_LIVE_SLACK ? granted / 10 : SUBNET_LIVE_SLACK;

	if (granted <= 0 || remaining < 0)
		return false;
	/* remaining > granted x 2/3 - slack, in integers */
	return remaining * 3 > granted * 2 - slack * 3;
}

/* Every node's subnet lease, for the API's "subnets": one listing, then each lease's time to live,
 * all asked of the store asynchronously (with etcd each is an HTTP request), answered through cb
 * once the last one is back. */
struct subnet_list_op;

struct subnet_ttl_query {
	struct subnet_list_op *op;
	json_t *entry;                /* borrowed from op->list */
	int64_t lease;
};

struct subnet_list_op {
	struct manager *m;
	subnet_list_cb cb;
	void *userdata;
	json_t *list;
	struct subnet_ttl_query *q;
	size_t pending;
	int err;                      /* -ECANCELED: the store is going away */
};

static json_t *subnet_list_build(const struct manager *m, const struct store_kvs *kvs)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < kvs->n; i++) {
		struct record_subnet rec = { 0 };
		char rerr[RECORD_ERRLEN], s[CIDR4_STRLEN];
		struct cidr4 c;
		json_t *o;

		if (cidr4_parse_key(kvs->kvs[i].key + strlen("subnets/"), &c) < 0 ||
		    record_subnet_parse(kvs->kvs[i].value, kvs->kvs[i].value_len, &rec, rerr) < 0)
			continue;
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "subnet", cidr4_format(&c, s), "node", rec.node,
		              "publicIP", rec.public_ip, "vtepMAC", rec.vtep_mac, "lease", (json_int_t)kvs->kvs[i].lease,
		              "self", strcmp(rec.node, m->cfg.node) == 0 && !m->left);
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static void subnet_list_finish(struct subnet_list_op *op)
{
	char msg[NETD_ERRLEN] = "";
	json_t *list = op->list;

	if (op->err < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", op->m->cfg.store, strerror(-op->err));
		json_decref(list);
		list = NULL;
	}
	op->cb(op->userdata, op->err, list, msg);
	free(op->q);
	free(op);
}

static void on_subnet_ttl(void *userdata, int err, int64_t remaining, int64_t granted)
{
	struct subnet_ttl_query *q = userdata;
	struct subnet_list_op *op = q->op;

	if (err == -ECANCELED)
		op->err = err;
	if (err == 0) {
		json_object_set_new(q->entry, "expiresIn", json_integer(remaining));
		json_object_set_new(q->entry, "leaseTTL", json_integer(granted));
		json_object_set_new(q->entry, "live", json_boolean(subnet_lease_live(remaining, granted)));
	} else if (err == -ENOENT) {
		/* Expired since the listing: its key is going (or gone) with it. */
		json_object_set_new(q->entry, "expiresIn", json_integer(0));
		json_object_set_new(q->entry, "live", json_false());
	}
	/* Other errors leave the fields out: unknown, shown as "-". */
	if (--op->pending == 0)
		subnet_list_finish(op);
}

static void on_subnets_listed(void *userdata, int err, const struct store_kvs *kvs)
{
	struct subnet_list_op *op = userdata;
	json_t *e;
	size_t i, n;

	if (err == 0) {
		op->list = subnet_list_build(op->m, kvs);
		if (!op->list)
			err = -ENOMEM;
	}
	n = op->list ? json_array_size(op->list) : 0;
	if (err == 0 && n > 0 && !(op->q = calloc(n, sizeof(*op->q))))
		err = -ENOMEM;
	if (err < 0) {
		op->err = err;
		subnet_list_finish(op);
		return;
	}
	/* One more than the queries, so that none can finish the op while they are being started. */
	op->pending = 1;
	json_array_foreach(op->list, i, e) {
		int64_t lease = json_integer_value(json_object_get(e, "lease"));

		if (lease <= 0)
			continue;   /* a key without a lease never expires: no time left to tell */
		op->q[i] = (struct subnet_ttl_query){ .op = op, .entry = e, .lease = lease };
		if (store_lease_ttl_async(op->m->store, lease, on_subnet_ttl, &op->q[i]) == 0)
			op->pending++;
	}
	if (--op->pending == 0)
		subnet_list_finish(op);
}

int subnet_list(struct manager *m, subnet_list_cb cb, void *userdata)
{
	struct subnet_list_op *op = calloc(1, sizeof(*op));
	int r;

	if (!op)
		return -ENOMEM;
	*op = (struct subnet_list_op){ .m = m, .cb = cb, .userdata = userdata };
	r = store_list_async(m->store, "subnets/", on_subnets_listed, op);
	if (r < 0)
		free(op);
	return r;
}

/* ---- release: free another host's lease ----
 *
 * get the key -> (its lease's time to live) -> delete the key if unchanged -> revoke the lease.
 * Revoking matters: a host that is still running finds its lease gone at its next renewal and
 * claims its subnet again under a new one, instead of renewing a lease whose key is gone and
 * silently staying unreachable. */
struct subnet_op {
	struct manager *m;
	subnet_done_cb cb;
	void *userdata;
	struct cidr4 subnet;
	bool force;
	struct record_subnet rec;
	int64_t lease, mod_rev;
	bool live_known, live;
	int64_t remaining, granted;
};

static void op_fail(struct subnet_op *op, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void op_fail(struct subnet_op *op, int err, const char *fmt, ...)
{
	char msg[NETD_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	op->cb(op->userdata, err, NULL, msg);
	free(op);
}

static void op_done(struct subnet_op *op, json_t *result)
{
	if (!result)
		op_fail(op, -ENOMEM, "out of memory");
	else {
		op->cb(op->userdata, 0, result, "");
		free(op);
	}
}

static json_t *release_result(const struct subnet_op *op, bool revoked)
{
	char s[CIDR4_STRLEN];
	json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:b}", "subnet", cidr4_format(&op->subnet, s), "node",
	                      op->rec.node, "lease", (json_int_t)op->lease, "leaseRevoked", revoked, "forced",
	                      op->force && op->live);

	if (j && op->live_known)
		json_object_set_new(j, "live", json_boolean(op->live));
	return j;
}

static void on_release_revoked(void *userdata, int err)
{
	struct subnet_op *op = userdata;
	char s[CIDR4_STRLEN];

	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	cidr4_format(&op->subnet, s);
	/* The key is gone already: that is the release.  A lease that expired meanwhile is fine too. */
	if (err < 0 && err != -ENOENT)
		log_warn("released subnet %s of node %s but could not revoke its lease %lld: %s", s, op->rec.node,
		         (long long)op->lease, strerror(-err));
	log_info("released subnet %s of node %s (lease %lld%s)", s, op->rec.node, (long long)op->lease,
	         op->live ? ", still renewed: forced" : "");
	op_done(op, release_result(op, err == 0));
}

static void on_release_deleted(void *userdata, int err, int64_t rev)
{
	struct subnet_op *op = userdata;
	char s[CIDR4_STRLEN];
	int r;

	cidr4_format(&op->subnet, s);
	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	if (err == -ENOENT) {
		op_fail(op, err, "subnet %s has no lease any more (it expired or was released meanwhile)", s);
		return;
	}
	if (err == -ESTALE) {
		op_fail(op, -EAGAIN, "the lease of subnet %s changed while it was being released; look again "
		        "(netctl subnet list) and retry", s);
		return;
	}
	if (err < 0) {
		op_fail(op, err, "failed to delete subnets/%s in store %s: %s", s, op->m->cfg.store, strerror(-err));
		return;
	}
	if (op->lease <= 0 || op->lease == op->m->lease) {
		on_release_revoked(op, -ENOENT);
		return;
	}
	r = store_lease_revoke_async(op->m->store, op->lease, on_release_revoked, op);
	if (r < 0)
		on_release_revoked(op, r);
}

static void release_delete(struct subnet_op *op)
{
	char key[64], k[CIDR4_STRLEN], s[CIDR4_STRLEN];
	int r;

	cidr4_format(&op->subnet, s);
	if (op->live && !op->force) {
		op_fail(op, -EBUSY, "the lease of subnet %s (node %s) is live: it was renewed %lld s ago and expires in "
		        "%lld s unless renewed again, so node %s's shoald is most likely running.  --force (\"force\": true) "
		        "releases it anyway: every host removes that node's routes, and a shoald still running there "
		        "claims the subnet again at its next renewal", s, op->rec.node,
		        (long long)(op->granted - op->remaining), (long long)op->remaining, op->rec.node);
		return;
	}
	snprintf(key, sizeof(key), "subnets/%s", cidr4_format_key(&op->subnet, k));
	/* Only the version we judged: a host that re-claimed meanwhile keeps its lease. */
	r = store_delete_async(op->m->store, key, op->mod_rev, on_release_deleted, op);
	if (r < 0)
		op_fail(op, r, "failed to delete %s in store %s: %s", key, op->m->cfg.store, strerror(-r));
}

static void on_release_ttl(void *userdata, int err, int64_t remaining, int64_t granted)
{
	struct subnet_op *op = userdata;

	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	if (err == 0) {
		op->live_known = true;
		op->remaining = remaining;
		op->granted = granted;
		op->live = subnet_lease_live(remaining, granted);
	} else if (err == -ENOENT) {
		op->live_known = true;   /* expired: the key goes with it anyway */
	} else {
		char s[CIDR4_STRLEN];

		op_fail(op, err, "failed to read the lease of subnet %s in store %s: %s", cidr4_format(&op->subnet, s),
		        op->m->cfg.store, strerror(-err));
		return;
	}
	release_delete(op);
}

static void on_release_get(void *userdata, int err, const struct store_kv *kv)
{
	struct subnet_op *op = userdata;
	char s[CIDR4_STRLEN], rerr[RECORD_ERRLEN];
	int r;

	cidr4_format(&op->subnet, s);
	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	if (err == -ENOENT) {
		op_fail(op, err, "no host holds subnet %s (netctl subnet list shows the leases)", s);
		return;
	}
	if (err < 0) {
		op_fail(op, err, "failed to read subnets/%s in store %s: %s", s, op->m->cfg.store, strerror(-err));
		return;
	}
	/* A record that does not parse is still released: nobody can use it. */
	if (record_subnet_parse(kv->value, kv->value_len, &op->rec, rerr) < 0)
		snprintf(op->rec.node, sizeof(op->rec.node), "?");
	op->lease = kv->lease;
	op->mod_rev = kv->mod_rev;
	if (strcmp(op->rec.node, op->m->cfg.node) == 0 || (op->lease > 0 && op->lease == op->m->lease)) {
		op_fail(op, -EPERM, "subnet %s is this node's own (%s); to give it up, run netctl node leave on this host",
		        s, op->m->cfg.node);
		return;
	}
	if (op->lease <= 0) {
		release_delete(op);   /* no lease: nobody renews it */
		return;
	}
	r = store_lease_ttl_async(op->m->store, op->lease, on_release_ttl, op);
	if (r < 0)
		op_fail(op, r, "failed to read the lease of subnet %s in store %s: %s", s, op->m->cfg.store, strerror(-r));
}

static struct subnet_op *op_new(struct manager *m, subnet_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct subnet_op *op = calloc(1, sizeof(*op));

	if (!op) {
		snprintf(msg, NETD_ERRLEN, "out of memory");
		return NULL;
	}
	op->m = m;
	op->cb = cb;
	op->userdata = userdata;
	return op;
}

int subnet_release(struct manager *m, const struct cidr4 *subnet, bool force, subnet_done_cb cb, void *userdata,
                   char msg[NETD_ERRLEN])
{
	char key[64], k[CIDR4_STRLEN], s[CIDR4_STRLEN];
	struct subnet_op *op;
	int r;

	cidr4_format(subnet, s);
	if (m->subnet_held && subnet->addr == m->subnet.addr && subnet->len == m->subnet.len) {
		snprintf(msg, NETD_ERRLEN, "subnet %s is this node's own (%s); to give it up, run netctl node leave on "
		         "this host", s, m->cfg.node);
		return -EPERM;
	}
	op = op_new(m, cb, userdata, msg);
	if (!op)
		return -ENOMEM;
	op->subnet = *subnet;
	op->force = force;
	snprintf(key, sizeof(key), "subnets/%s", cidr4_format_key(subnet, k));
	r = store_get_async(m->store, key, on_release_get, op);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to read %s in store %s: %s", key, m->cfg.store, strerror(-r));
		free(op);
	}
	return r;
}

/* ---- network: the store's config and this node's view ---- */

static void on_network_config(void *userdata, int err, const struct store_kv *kv)
{
	struct subnet_op *op = userdata;
	struct manager *m = op->m;
	struct record_netconf nc;
	char rerr[RECORD_ERRLEN], n[CIDR4_STRLEN], s[CIDR4_STRLEN], u[IPADDR_STRLEN] = "";
	json_t *store, *node;

	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	if (err < 0) {
		op_fail(op, err, "failed to read the network config from store %s: %s", m->cfg.store,
		        err == -ENOENT ? "it has none" : strerror(-err));
		return;
	}
	if (record_netconf_parse(kv->value, kv->value_len, &nc, rerr) < 0) {
		op_fail(op, -EBADMSG, "the network config in store %s is invalid: %s", m->cfg.store, rerr);
		return;
	}
	peers_public_addr(m, u);
	store = json_pack("{s:s, s:i, s:I, s:i}", "network", cidr4_format(&nc.network, n), "subnetLen",
	                  (int)nc.subnet_len, "vni", (json_int_t)nc.vni, "port", (int)nc.port);
	node = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b}", "node", m->cfg.node, "subnet",
	                 m->left ? "" : cidr4_format(&m->subnet, s), "underlay", peers_underlay_name(m), "underlayIP", u,
	                 "mtu", (int)m->mtu, "vxlanDevice", peers_vxlan_name(m), "directRouting", m->cfg.direct_routing,
	                 "left", m->left);
	if (!store || !node) {
		json_decref(store);
		json_decref(node);
		op_done(op, NULL);
		return;
	}
	op_done(op, json_pack("{s:s, s:o, s:o}", "storeURL", m->cfg.store, "config", store, "node", node));
}

int subnet_network(struct manager *m, subnet_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct subnet_op *op = op_new(m, cb, userdata, msg);
	int r;

	if (!op)
		return -ENOMEM;
	r = store_get_async(m->store, "config", on_network_config, op);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to read the network config from store %s: %s", m->cfg.store,
		         strerror(-r));
		free(op);
	}
	return r;
}

/* ---- leave ---- */

static void on_leave_revoked(void *userdata, int err)
{
	struct subnet_op *op = userdata;
	struct manager *m = op->m;
	char s[CIDR4_STRLEN];
	int64_t lease = m->lease;

	m->leaving = false;
	if (err == -ECANCELED) {
		op_fail(op, err, "shoald is stopping");
		return;
	}
	cidr4_format(&m->subnet, s);
	/* -ENOENT: the lease expired already, and our key with it. */
	if (err < 0 && err != -ENOENT) {
		log_error("failed to leave the cluster: revoking lease %lld in store %s: %s; still a member",
		          (long long)lease, m->cfg.store, strerror(-err));
		op_fail(op, err, "failed to revoke lease %lld in store %s: %s; this node is still a member",
		        (long long)lease, m->cfg.store, strerror(-err));
		return;
	}
	m->left = true;
	m->subnet_held = false;
	m->lease = 0;
	if (m->lease_timer.loop)
		uv_timer_stop(&m->lease_timer);
	peers_leave(m);
	log_warn("node %s left the cluster: lease %lld revoked, subnet %s given up; ADD is refused until shoald "
	         "restarts (which rejoins)", m->cfg.node, (long long)lease, s);
	op_done(op, json_pack("{s:s, s:s, s:I}", "node", m->cfg.node, "subnet", s, "lease", (json_int_t)lease));
}

int subnet_leave(struct manager *m, subnet_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct subnet_op *op;
	int r;

	if (m->left) {
		snprintf(msg, NETD_ERRLEN, "node %s has left the cluster already; restart shoald to rejoin", m->cfg.node);
		return -EALREADY;
	}
	/* A renewal or re-claim in flight could write our key again after the revoke. */
	if (m->lease_busy || m->leaving) {
		snprintf(msg, NETD_ERRLEN, "a lease renewal is running; try again in a moment");
		return -EAGAIN;
	}
	op = op_new(m, cb, userdata, msg);
	if (!op)
		return -ENOMEM;
	r = store_lease_revoke_async(m->store, m->lease, on_leave_revoked, op);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to revoke lease %lld in store %s: %s", (long long)m->lease, m->cfg.store,
		         strerror(-r));
		free(op);
		return r;
	}
	m->leaving = true;
	return 0;
}
