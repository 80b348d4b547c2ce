/* This node's subnet: the network config in the store, the subnet claim under a lease, the lease's
 * keep-alive, and the list of every node's lease for the API.
 *
 * Start-up (config, first claim) uses the store's synchronous calls: nothing is served yet.  Once
 * the loop runs, every store call is asynchronous.
 *
 * Which subnet is "ours" after a restart, in order of trust: a key in the store still naming this
 * node, then the address on our bridge (the kernel state our workloads use), then stateDir's
 * subnet.json (a hint).  A subnet.json that disagrees with either is reported and ignored: editing
 * a file must never renumber a node and cut off its workloads. */
#include "netd/netd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipam/ipam.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "netd/peers.h"
#include "overlay/rtlink.h"
#include "store/store.h"

static int netconf_ensure(struct manager *m)
{
	struct record_netconf want = { .network = m->cfg.network, .subnet_len = m->cfg.subnet_len,
	                               .vni = m->cfg.vni, .port = m->cfg.vxlan_port };
	struct record_netconf have;
	char err[RECORD_ERRLEN], a[CIDR4_STRLEN], b[CIDR4_STRLEN];
	struct store_kv kv;
	json_t *j = record_netconf_to_json(&want);
	char *json = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r;

	json_decref(j);
	if (!json)
		return -ENOMEM;
	r = store_create(m->store, "config", json, strlen(json), 0, NULL);
	free(json);
	m->vni = want.vni;
	m->vxlan_port = want.port;
	if (r == 0) {
		log_info("created the network config in the store: %s, /%u subnets", cidr4_format(&want.network, a),
		         want.subnet_len);
		return 0;
	}
	if (r != -EEXIST) {
		log_error("failed to write the network config to the store %s: %s", m->cfg.store, strerror(-r));
		return r;
	}
	r = store_get(m->store, "config", &kv);
	if (r < 0) {
		log_error("failed to read the network config from the store %s: %s", m->cfg.store, strerror(-r));
		return r;
	}
	r = record_netconf_parse(kv.value, kv.value_len, &have, err);
	store_kv_done(&kv);
	if (r < 0) {
		log_error("the network config in the store %s is invalid: %s", m->cfg.store, err);
		return r;
	}
	if (have.network.addr != want.network.addr || have.network.len != want.network.len ||
	    have.subnet_len != want.subnet_len) {
		log_error("the store's network %s with /%u subnets differs from this host's config (%s, /%u); "
		          "fix \"network\"/\"subnetLen\" in %s", cidr4_format(&have.network, a), have.subnet_len,
		          cidr4_format(&want.network, b), want.subnet_len, m->cfg.config_path[0] ? m->cfg.config_path : "the config");
		return -EINVAL;
	}
	m->vni = have.vni;
	m->vxlan_port = have.port;
	return 0;
}

static char *subnet_record_json(struct manager *m)
{
	struct record_subnet s = { .created = time(NULL) };
	uint8_t mac[6];
	json_t *j;
	char *out;

	snprintf(s.node, sizeof(s.node), "%s", m->cfg.node);
	/* Without an underlay there is no VXLAN device: announce neither its address nor its MAC.  The
	 * address is IPv4 or IPv6, as the underlay is; peers of the other family skip this record. */
	if (peers_public_addr(m, s.public_ip)[0]) {
		manager_node_mac(m, "vtep", mac);
		rtlink_format_mac(mac, s.vtep_mac);
	}
	j = record_subnet_to_json(&s);
	out = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return out;
}

/* Try to own subnet c under our lease.  A key still held by this node's previous lease is taken
 * over; anyone else's is -EEXIST. */
static int subnet_try(struct manager *m, const struct cidr4 *c, const char *value)
{
	char key[64], k[CIDR4_STRLEN];
	struct record_subnet rec;
	char err[RECORD_ERRLEN];
	struct store_kv kv;
	int r;

	snprintf(key, sizeof(key), "subnets/%s", cidr4_format_key(c, k));
	r = store_create(m->store, key, value, strlen(value), m->lease, NULL);
	if (r != -EEXIST)
		return r;
	r = store_get(m->store, key, &kv);
	if (r == -ENOENT)
		return -EAGAIN;   /* expired between the two calls: try again */
	if (r < 0)
		return r;
	if (record_subnet_parse(kv.value, kv.value_len, &rec, err) == 0 && strcmp(rec.node, m->cfg.node) == 0)
		r = store_cas(m->store, key, value, strlen(value), kv.mod_rev, m->lease, NULL);
	else
		r = -EEXIST;
	store_kv_done(&kv);
	return r == -ESTALE ? -EAGAIN : r;
}

static bool fits(const struct manager *m, const struct cidr4 *c)
{
	return cidr4_contains_prefix(&m->cfg.network, c) && c->len == m->cfg.subnet_len;
}

static int subnet_from_file(struct manager *m, struct cidr4 *ret)
{
	struct record_node_subnet rec;
	char *data = NULL, err[RECORD_ERRLEN];
	size_t len;
	int r;

	r = file_read_all(m->subnet_file, 4096, &data, &len);
	if (r < 0)
		return r;
	r = record_node_subnet_parse(data, len, &rec, err);
	free(data);
	if (r < 0) {
		log_warn("ignoring %s: %s", m->subnet_file, err);
		return r;
	}
	if (!fits(m, &rec.subnet))
		return -EINVAL;   /* the network was reconfigured: the old subnet no longer fits */
	*ret = rec.subnet;
	return 0;
}

static int subnet_in_store(struct manager *m, struct cidr4 *ret)
{
	struct store_kvs kvs;
	int r = -ENOENT;

	if (store_list(m->store, "subnets/", &kvs) < 0)
		return -EIO;
	for (size_t i = 0; i < kvs.n && r < 0; i++) {
		struct record_subnet rec;
		char err[RECORD_ERRLEN];

		if (record_subnet_parse(kvs.kvs[i].value, kvs.kvs[i].value_len, &rec, err) == 0 &&
		    strcmp(rec.node, m->cfg.node) == 0 &&
		    cidr4_parse_key(kvs.kvs[i].key + strlen("subnets/"), ret) == 0 && fits(m, ret))
			r = 0;
	}
	store_kvs_done(&kvs);
	return r;
}

/* The subnet whose gateway address our bridge carries, if it exists already. */
static int subnet_on_bridge(struct manager *m, struct cidr4 *ret)
{
	struct ifaddrs *list, *i;
	int r = -ENOENT;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (i = list; i && r < 0; i = i->ifa_next) {
		struct cidr4 c;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
		    strcmp(i->ifa_name, m->cfg.bridge) != 0)
			continue;
		c.len = (uint8_t)__builtin_popcount(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		c.addr = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) & cidr4_mask(c.len);
		if (fits(m, &c)) {
			*ret = c;
			r = 0;
		}
	}
	freeifaddrs(list);
	return r;
}

/* This node's previous subnet, by the order of trust at the top of this file. */
static int previous_subnet(struct manager *m, struct cidr4 *ret)
{
	struct cidr4 truth, file;
	char a[CIDR4_STRLEN], b[CIDR4_STRLEN], source[64] = "the store";
	int r;

	r = subnet_in_store(m, &truth);
	if (r < 0) {
		snprintf(source, sizeof(source), "the address of bridge %s", m->cfg.bridge);
		r = subnet_on_bridge(m, &truth);
	}
	if (subnet_from_file(m, &file) == 0) {
		if (r < 0) {
			truth = file;
			r = 0;
		} else if (file.addr != truth.addr || file.len != truth.len) {
			log_error("%s names subnet %s, but %s says %s: keeping %s and ignoring the file", m->subnet_file,
			          cidr4_format(&file, a), source, cidr4_format(&truth, b), b);
		}
	}
	if (r == 0)
		*ret = truth;
	return r;
}

static int write_subnet_file(struct manager *m)
{
	/* Before the MTU is picked, keep the one on record. */
	struct record_node_subnet rec = { .subnet = m->subnet, .mtu = m->mtu ? m->mtu : m->mtu_remembered };
	json_t *j;
	char *out;
	int r;

	snprintf(rec.node, sizeof(rec.node), "%s", m->cfg.node);
	j = record_node_subnet_to_json(&rec);
	out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	r = out ? file_write_atomic(m->subnet_file, out, strlen(out), 0644) : -ENOMEM;
	free(out);
	return r;
}

static int subnet_claim(struct manager *m)
{
	char s[CIDR4_STRLEN], *value;
	struct cidr4 prev, c;
	int r = -ENOSPC;

	value = subnet_record_json(m);
	if (!value)
		return -ENOMEM;
	/* A node keeps its subnet across restarts: its workloads keep their addresses. */
	if (previous_subnet(m, &prev) == 0) {
		for (int i = 0; i < 3 && (r = subnet_try(m, &prev, value)) == -EAGAIN; i++)
			;
		if (r == 0) {
			m->subnet = prev;
			goto claimed;
		}
		log_warn("could not reclaim this node's previous subnet %s: %s", cidr4_format(&prev, s),
		         r == -EEXIST ? "another node holds it" : strerror(-r));
	}
	/* Each round lists the taken subnets and tries a free one; losing a race retries. */
	for (int attempt = 0; attempt < 64; attempt++) {
		struct store_kvs kvs;
		struct cidr4 *taken;
		size_t n = 0;

		r = store_list(m->store, "subnets/", &kvs);
		if (r < 0)
			break;
		taken = calloc(kvs.n + 1, sizeof(*taken));
		if (!taken) {
			store_kvs_done(&kvs);
			r = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < kvs.n; i++)
			if (cidr4_parse_key(kvs.kvs[i].key + strlen("subnets/"), &taken[n]) == 0)
				n++;
		store_kvs_done(&kvs);
		r = ipam_subnet_pick(&m->cfg.network, m->cfg.subnet_len, taken, n,
		                     (uint32_t)names_hash(m->cfg.node, strlen(m->cfg.node), 0), &c);
		free(taken);
		if (r < 0)
			break;
		r = subnet_try(m, &c, value);
		if (r == 0) {
			m->subnet = c;
			goto claimed;
		}
		if (r != -EEXIST && r != -EAGAIN)
			break;
	}
	free(value);
	log_error("failed to claim a subnet of %s for node %s: %s", cidr4_format(&m->cfg.network, s), m->cfg.node,
	          r == -ENOSPC ? "every subnet is taken" : strerror(-r));
	return r;
claimed:
	free(value);
	cidr4_format(&m->subnet, s);
	r = write_subnet_file(m);
	if (r < 0) {
		log_error("failed to write %s: %s", m->subnet_file, strerror(-r));
		return r;
	}
	m->subnet_held = true;
	log_info("node %s holds subnet %s (lease %lld, TTL %llds)", m->cfg.node, s, (long long)m->lease,
	         (long long)m->cfg.lease_ttl);
	return 0;
}

/* ---- the lease, kept alive from the loop ----
 *
 * Every tick is a chain of store callbacks, so the loop never waits for the store (with etcd each
 * step is an HTTP request).  A lost lease (the host was paused longer than the TTL) is not fatal, as
 * it is in flannel: grant a new one and re-attach our subnet to it.  One chain at a time; a tick
 * that finds one still running skips. */

static void lease_done(struct manager *m)
{
	m->lease_busy = false;
}

static void subnet_key(const struct manager *m, char key[64])
{
	char k[CIDR4_STRLEN];

	snprintf(key, 64, "subnets/%s", cidr4_format_key(&m->subnet, k));
}

static void reclaimed(struct manager *m)
{
	char s[CIDR4_STRLEN];

	m->subnet_held = true;
	if (m->subnet_taken_by[0])
		log_info("subnet %s is this node's again (node %s no longer holds it): ADD is accepted again",
		         cidr4_format(&m->subnet, s), m->subnet_taken_by);
	m->subnet_taken_by[0] = '\0';
	log_info("re-claimed subnet %s under lease %lld", cidr4_format(&m->subnet, s), (long long)m->lease);
	lease_done(m);
}

static void reclaim_failed(struct manager *m, int err)
{
	char s[CIDR4_STRLEN];

	cidr4_format(&m->subnet, s);
	if (err == -EEXIST)
		log_error("subnet %s, in use by this node's workloads, is now claimed by another node (%s): "
		          "addresses may conflict; new workloads are refused until it is released (netctl subnet "
		          "release on that node's subnet, or shoald --cleanup there); retrying", s,
		          m->subnet_taken_by[0] ? m->subnet_taken_by : "?");
	else
		log_error("failed to re-claim subnet %s: %s; retrying", s, strerror(-err));
	lease_done(m);
}

static void on_reclaim_cas(void *userdata, int err, int64_t rev)
{
	struct manager *m = userdata;

	if (err == -ECANCELED)
		return;
	if (err == 0)
		reclaimed(m);
	else if (err == -ESTALE)
		lease_done(m);   /* changed under us: the next tick looks again */
	else
		reclaim_failed(m, err);
}

static void on_reclaim_get(void *userdata, int err, const struct store_kv *kv)
{
	struct manager *m = userdata;
	char key[64], rerr[RECORD_ERRLEN], *value;
	struct record_subnet rec;
	int r;

	if (err == -ECANCELED)
		return;
	if (err == -ENOENT) {
		lease_done(m);   /* expired between the two calls: the next tick creates it */
		return;
	}
	if (err < 0) {
		reclaim_failed(m, err);
		return;
	}
	/* Still ours (written under our previous lease): move it to the current one.  Another node's:
	 * our workloads keep their addresses, but no new one may be handed out (it could be that node's
	 * too) until an operator acts; every tick tries again, so its release is noticed. */
	if (record_subnet_parse(kv->value, kv->value_len, &rec, rerr) < 0 || strcmp(rec.node, m->cfg.node) != 0) {
		snprintf(m->subnet_taken_by, sizeof(m->subnet_taken_by), "%s", rec.node[0] ? rec.node : "?");
		reclaim_failed(m, -EEXIST);
		return;
	}
	subnet_key(m, key);
	value = subnet_record_json(m);
	r = value ? store_cas_async(m->store, key, value, strlen(value), kv->mod_rev, m->lease, on_reclaim_cas, m)
	          : -ENOMEM;
	free(value);
	if (r < 0)
		reclaim_failed(m, r);
}

static void on_reclaim_create(void *userdata, int err, int64_t rev)
{
	struct manager *m = userdata;
	char key[64];
	int r;

	if (err == -ECANCELED)
		return;
	if (err == 0) {
		reclaimed(m);
		return;
	}
	if (err != -EEXIST) {
		reclaim_failed(m, err);
		return;
	}
	subnet_key(m, key);
	r = store_get_async(m->store, key, on_reclaim_get, m);
	if (r < 0)
		reclaim_failed(m, r);
}

static void reclaim_create(struct manager *m)
{
	char key[64], *value;
	int r;

	subnet_key(m, key);
	value = subnet_record_json(m);
	r = value ? store_create_async(m->store, key, value, strlen(value), m->lease, on_reclaim_create, m) : -ENOMEM;
	free(value);   /* the store copied it */
	if (r < 0)
		reclaim_failed(m, r);
}

static void on_lease_granted(void *userdata, int err, int64_t id, int64_t ttl)
{
	struct manager *m = userdata;

	if (err == -ECANCELED)
		return;
	if (err < 0) {
		log_error("failed to grant a new lease: %s; retrying", strerror(-err));
		lease_done(m);
		return;
	}
	m->lease = id;
	reclaim_create(m);
}

/* Until the subnet is ours again, every tick tries: a new lease (if we have none), then the subnet
 * key under it. */
static void reclaim(struct manager *m)
{
	int r;

	if (m->lease != 0) {
		reclaim_create(m);
		return;
	}
	r = store_lease_grant_async(m->store, m->cfg.lease_ttl, on_lease_granted, m);
	if (r < 0) {
		log_error("failed to grant a new lease: %s; retrying", strerror(-r));
		lease_done(m);
	}
}

static void on_keepalive(void *userdata, int err, int64_t id, int64_t ttl)
{
	struct manager *m = userdata;

	if (err == -ECANCELED)
		return;
	if (err == 0) {
		lease_done(m);
		return;
	}
	if (err != -ENOENT) {
		log_warn("failed to renew lease %lld: %s; retrying", (long long)m->lease, strerror(-err));
		lease_done(m);
		return;
	}
	log_warn("lease %lld expired; re-claiming subnet %s", (long long)m->lease,
	         cidr4_format(&m->subnet, (char[CIDR4_STRLEN]){ 0 }));
	m->subnet_held = false;
	m->lease = 0;
	reclaim(m);
}

static void on_lease_timer(uv_timer_t *t)
{
	struct manager *m = t->data;
	int r;

	if (m->lease_busy || m->leaving || m->left)
		return;   /* a left node renews and re-claims nothing until it restarts */
	m->lease_busy = true;
	if (!m->subnet_held) {
		reclaim(m);
		return;
	}
	r = store_lease_keepalive_async(m->store, m->lease, on_keepalive, m);
	if (r < 0) {
		log_warn("failed to renew lease %lld: %s; retrying", (long long)m->lease, strerror(-r));
		lease_done(m);
	}
}

/* The MTU this node's pods were given, as subnet.json remembers it (0: none). */
static uint32_t remembered_mtu(const struct manager *m)
{
	struct record_node_subnet rec;
	char *data = NULL, err[RECORD_ERRLEN];
	size_t len;
	int r;

	if (file_read_all(m->subnet_file, 4096, &data, &len) < 0)
		return 0;
	r = record_node_subnet_parse(data, len, &rec, err);
	free(data);
	return r == 0 ? rec.mtu : 0;
}

int subnet_save(struct manager *m)
{
	int r = write_subnet_file(m);

	if (r < 0)
		log_error("failed to write %s: %s", m->subnet_file, strerror(-r));
	return r;
}

int subnet_start(struct manager *m)
{
	const struct store_tls tls = { .ca = m->cfg.store_ca, .cert = m->cfg.store_cert, .key = m->cfg.store_key };
	int r;

	m->mtu_remembered = remembered_mtu(m);
	r = store_open(m->loop, m->cfg.store, m->cfg.store_prefix, &tls, &m->store);
	if (r < 0) {
		log_error("failed to open store %s: %s", m->cfg.store, strerror(-r));
		return r;
	}
	r = netconf_ensure(m);
	if (r < 0)
		return r;
	r = store_lease_grant(m->store, m->cfg.lease_ttl, &m->lease);
	if (r < 0) {
		log_error("failed to grant a lease in store %s: %s", m->cfg.store, strerror(-r));
		return r;
	}
	r = subnet_claim(m);
	if (r < 0)
		return r;
	uv_timer_init(m->loop, &m->lease_timer);
	m->lease_timer.data = m;
	uv_timer_start(&m->lease_timer, on_lease_timer, (uint64_t)m->cfg.lease_ttl * 1000 / 3,
	               (uint64_t)m->cfg.lease_ttl * 1000 / 3);
	return 0;
}

void subnet_stop(struct manager *m)
{
	if (m->lease_timer.loop)
		uv_close((uv_handle_t *)&m->lease_timer, NULL);
}
