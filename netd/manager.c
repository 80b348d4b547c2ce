#include "netd/manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sched.h>

#include "fw/fw.h"
#include "ipam/ipam.h"
#include "lib/cnierr.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/names.h"
#include "netd/api.h"
#include "netd/reaper.h"
#include "netd/records.h"
#include "overlay/overlay.h"
#include "store/store.h"

#define SHOAL_VERSION "0.1.0"
#define BUCKETS 4096
#define VXLAN_OVERHEAD 50   /* IPv4 outer header + UDP + VXLAN + inner Ethernet */

struct attachment {
	struct record_attach rec;
	int host_ifindex;
	bool deleting;
	bool queued;         /* deleting and handed to the reaper */
	struct attachment *next;
};

struct manager {
	uv_loop_t *loop;
	struct netd_config cfg;
	struct store *store;
	int64_t lease;
	uv_timer_t lease_timer;
	uv_timer_t reconcile_timer;
	struct cidr4 subnet;
	bool subnet_held;    /* our subnet key exists under m->lease */
	int lock_fd;         /* flock on stateDir/shoald.lock: one shoald per state dir */
	struct ipam_pool *pool;
	struct nlsock *nl;
	int bridge_ifindex;
	uint32_t mtu;
	struct api *api;
	struct reaper *reaper;
	struct attachment *buckets[BUCKETS];
	size_t n_active;
	time_t started;
	char dir_attach[300], dir_releasing[300], dir_pending[300], subnet_file[300];
};

/* ---- attachment table ---- */

static unsigned bucket_of(const char *host_veth)
{
	return (unsigned)(names_hash(host_veth, strlen(host_veth), 0) % BUCKETS);
}

static struct attachment *att_find(struct manager *m, const char *host_veth)
{
	for (struct attachment *a = m->buckets[bucket_of(host_veth)]; a; a = a->next)
		if (strcmp(a->rec.host_veth, host_veth) == 0)
			return a;
	return NULL;
}

static void att_insert(struct manager *m, struct attachment *a)
{
	unsigned b = bucket_of(a->rec.host_veth);

	a->next = m->buckets[b];
	m->buckets[b] = a;
}

static void att_remove(struct manager *m, struct attachment *a)
{
	for (struct attachment **p = &m->buckets[bucket_of(a->rec.host_veth)]; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			return;
		}
}

static void record_path(char *buf, size_t size, const char *dir, const char *host_veth)
{
	snprintf(buf, size, "%s/%s.json", dir, host_veth);
}

/* ---- store: network config and subnet lease ---- */

static void node_mac(const char *node, const char *salt, uint8_t mac[6])
{
	uint64_t h = names_hash(salt, strlen(salt), names_hash(node, strlen(node), 0));

	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

static int netconf_ensure(struct manager *m)
{
	struct record_netconf want = { .network = m->cfg.network, .subnet_len = m->cfg.subnet_len, .vni = 1, .port = 8472 };
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
	return 0;
}

static char *subnet_record_json(struct manager *m)
{
	struct record_subnet s = { .created = time(NULL) };
	uint8_t mac[6];
	json_t *j;
	char *out;

	snprintf(s.node, sizeof(s.node), "%s", m->cfg.node);
	node_mac(m->cfg.node, "vtep", mac);
	rtlink_format_mac(mac, s.vtep_mac);
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

static int previous_subnet(struct manager *m, struct cidr4 *ret)
{
	char *data = NULL;
	json_t *j;
	int r;

	r = file_read_all(m->subnet_file, 4096, &data, NULL);
	if (r < 0)
		return r;
	j = json_loads(data, 0, NULL);
	free(data);
	r = cidr4_parse_prefix(json_string_value(json_object_get(j, "subnet")), ret);
	json_decref(j);
	if (r == 0 && (!cidr4_contains_prefix(&m->cfg.network, ret) || ret->len != m->cfg.subnet_len))
		r = -EINVAL;   /* the network was reconfigured: the old subnet no longer fits */
	return r;
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
		    cidr4_parse_key(kvs.kvs[i].key + strlen("subnets/"), ret) == 0 &&
		    cidr4_contains_prefix(&m->cfg.network, ret) && ret->len == m->cfg.subnet_len)
			r = 0;
	}
	store_kvs_done(&kvs);
	return r;
}

static int subnet_claim(struct manager *m)
{
	char s[CIDR4_STRLEN], *value;
	struct cidr4 prev, c;
	bool have_prev;
	int r = -ENOSPC;

	value = subnet_record_json(m);
	if (!value)
		return -ENOMEM;
	/* This node's subnet: subnet.json, else a key in the store still naming us (a crash between
	 * claiming and writing subnet.json). */
	have_prev = previous_subnet(m, &prev) == 0 || subnet_in_store(m, &prev) == 0;
	/* A node keeps its subnet across restarts: its workloads keep their addresses. */
	if (have_prev) {
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
	{
		json_t *j = json_pack("{s:s, s:s}", "subnet", cidr4_format(&m->subnet, s), "node", m->cfg.node);
		char *out = json_dumps(j, JSON_COMPACT);

		json_decref(j);
		r = out ? file_write_atomic(m->subnet_file, out, strlen(out), 0644) : -ENOMEM;
		free(out);
		if (r < 0) {
			log_error("failed to write %s: %s", m->subnet_file, strerror(-r));
			return r;
		}
	}
	m->subnet_held = true;
	log_info("node %s holds subnet %s (lease %lld, TTL %llds)", m->cfg.node, s, (long long)m->lease,
	         (long long)m->cfg.lease_ttl);
	return 0;
}

/* Keep the lease alive.  A lost lease (the host was paused longer than the TTL) is not fatal, as
 * it is in flannel: grant a new one and re-attach our subnet to it. */
static void on_lease_timer(uv_timer_t *t)
{
	struct manager *m = t->data;
	char *value, s[CIDR4_STRLEN];
	int r;

	cidr4_format(&m->subnet, s);
	if (m->subnet_held) {
		r = store_lease_keepalive(m->store, m->lease, NULL);
		if (r == 0)
			return;
		if (r != -ENOENT) {
			log_warn("failed to renew lease %lld: %s; retrying", (long long)m->lease, strerror(-r));
			return;
		}
		log_warn("lease %lld expired; re-claiming subnet %s", (long long)m->lease, s);
		m->subnet_held = false;
		m->lease = 0;
	}
	/* Until the subnet is ours again, every tick tries: a new lease (if we have none), then the
	 * subnet key under it. */
	if (m->lease == 0) {
		r = store_lease_grant(m->store, m->cfg.lease_ttl, &m->lease);
		if (r < 0) {
			m->lease = 0;
			log_error("failed to grant a new lease: %s; retrying", strerror(-r));
			return;
		}
	}
	value = subnet_record_json(m);
	r = value ? subnet_try(m, &m->subnet, value) : -ENOMEM;
	free(value);
	if (r == 0) {
		m->subnet_held = true;
		log_info("re-claimed subnet %s under lease %lld", s, (long long)m->lease);
	} else if (r == -EEXIST) {
		log_error("subnet %s, in use by this node's workloads, is now claimed by another node: "
		          "addresses may conflict; retrying", s);
	} else {
		log_error("failed to re-claim subnet %s: %s; retrying", s, strerror(-r));
	}
}

/* ---- kernel side ---- */

static uint32_t underlay_mtu(void)
{
	char *data = NULL;
	FILE *f;
	char line[256];
	uint32_t mtu = 1500;

	/* The MTU of the interface holding the default route; /proc/net/route is this namespace's. */
	f = fopen("/proc/net/route", "re");
	if (!f)
		return mtu;
	while (fgets(line, sizeof(line), f)) {
		char ifname[32], path[96];
		unsigned dst, mask;

		if (sscanf(line, "%31s %x %*x %*x %*d %*d %*d %x", ifname, &dst, &mask) != 3 || dst != 0 || mask != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
		if (file_read_all(path, 64, &data, NULL) == 0) {
			mtu = (uint32_t)strtoul(data, NULL, 10);
			free(data);
		}
		break;
	}
	fclose(f);
	return mtu;
}

/* Bridge, forwarding and the nftables table: created or adopted at start, repaired by reconcile. */
static int ensure_host_objects(struct manager *m, bool startup)
{
	struct overlay_bridge b = { .name = m->cfg.bridge, .gateway = m->subnet.addr + 1, .prefixlen = m->subnet.len,
	                            .mtu = m->mtu };
	struct fw_config fw = { .network = m->cfg.network, .subnet = m->subnet, .masquerade = m->cfg.masquerade,
	                        .bridge = m->cfg.bridge };
	char err[OVERLAY_ERRLEN], s[CIDR4_STRLEN];
	int r, fd, ifindex;

	node_mac(m->cfg.node, "bridge", b.mac);
	r = overlay_bridge_ensure(m->nl, &b, &ifindex, err);
	if (r < 0) {
		log_error("failed to set up bridge: %s", err);
		return r;
	}
	if (!startup && ifindex != m->bridge_ifindex)
		log_warn("bridge %s was gone; recreated it (ifindex %d)", m->cfg.bridge, ifindex);
	m->bridge_ifindex = ifindex;
	/* Forwarding is per namespace; containers need it to leave the host. */
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		log_warn("failed to enable net.ipv4.ip_forward: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	/* Compared first, so that a restart or a reconcile does not replace the table needlessly. */
	r = fw_check(&fw, err, sizeof(err));
	if (r != FW_CHECK_IN_SYNC) {
		if (!startup)
			log_warn("nftables table inet shoal %s; reinstalling it", r == FW_CHECK_ABSENT ? "was removed" : "differs");
		r = fw_apply(&fw, err, sizeof(err));
		if (r < 0) {
			log_error("failed to install nftables table inet shoal: %s", err);
			return r;
		}
	}
	if (startup)
		log_info("bridge %s (ifindex %d) gateway %s, MTU %u, masquerade %s", m->cfg.bridge, m->bridge_ifindex,
		         cidr4_format(&(struct cidr4){ .addr = b.gateway, .len = b.prefixlen }, s), m->mtu,
		         m->cfg.masquerade ? "on" : "off");
	return 0;
}

/* ---- attachments: restore and release ---- */

/* The interface of a is gone: remove its record from dir, free its address, drop it. */
static int forget_attachment(struct manager *m, struct attachment *a, const char *dir)
{
	char path[400];

	record_path(path, sizeof(path), dir, a->rec.host_veth);
	if (unlink(path) < 0 && errno != ENOENT) {
		/* Keep the address: the record still claims it. */
		log_error("failed to remove %s: %s", path, strerror(errno));
		return -errno;
	}
	if (m->pool && ipam_pool_in_use(m->pool, a->rec.addr))
		ipam_pool_release(m->pool, a->rec.addr);
	if (!a->deleting)
		m->n_active--;
	att_remove(m, a);
	free(a);
	return 0;
}

static void on_reaped(void *userdata, const char *name, int ifindex, int err)
{
	struct manager *m = userdata;
	struct attachment *a = att_find(m, name);
	char ip[IP4_STRLEN];

	if (err < 0) {
		/* The attachment stays "deleting"; the next reconcile queues it again. */
		log_error("failed to delete veth %s: %s; will retry", name, strerror(-err));
		if (a && a->deleting)
			a->queued = false;
		return;
	}
	if (!a || !a->deleting)
		return;   /* an orphan device: nothing was recorded for it */
	if (ifindex > 0 && a->host_ifindex > 0 && ifindex != a->host_ifindex)
		return;   /* a job for an older device of the same name */
	ip4_format(a->rec.addr, ip);
	if (forget_attachment(m, a, m->dir_releasing) == 0)
		log_debug("released %s and %s", name, ip);
}

/* Move an attachment to releasing/ and queue its veth; the caller answers at once. */
static int release_attachment(struct manager *m, struct attachment *a)
{
	char from[400], to[400];
	int r;

	if (a->deleting)
		return 0;
	record_path(from, sizeof(from), m->dir_attach, a->rec.host_veth);
	record_path(to, sizeof(to), m->dir_releasing, a->rec.host_veth);
	/* One rename is the whole durable DEL: after a crash the record is found in releasing/. */
	if (rename(from, to) < 0 && errno != ENOENT) {
		r = -errno;
		log_error("failed to move %s to %s: %s", from, to, strerror(errno));
		return r;
	}
	a->deleting = true;
	m->n_active--;
	r = reaper_queue(m->reaper, a->rec.host_veth, a->host_ifindex);
	if (r < 0)
		log_error("failed to queue deletion of %s: %s; the next reconcile retries", a->rec.host_veth,
		          strerror(-r));
	a->queued = r == 0;
	return 0;
}

struct link_set {
	char (*names)[IFNAME_SIZE];
	int *ifindex;
	int *master;
	unsigned *flags;
	size_t n, cap;
};

static void collect_link(const struct rtlink_info *l, void *data)
{
	struct link_set *s = data;

	if (strncmp(l->name, HOST_VETH_PREFIX, strlen(HOST_VETH_PREFIX)) != 0 || strcmp(l->kind, "veth") != 0)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *a = realloc(s->names, cap * sizeof(*s->names));
		void *b = a ? realloc(s->ifindex, cap * sizeof(int)) : NULL;
		void *c = b ? realloc(s->master, cap * sizeof(int)) : NULL;
		void *d = c ? realloc(s->flags, cap * sizeof(unsigned)) : NULL;

		if (a)
			s->names = a;
		if (b)
			s->ifindex = b;
		if (c)
			s->master = c;
		if (!d)
			return;
		s->flags = d;
		s->cap = cap;
	}
	snprintf(s->names[s->n], IFNAME_SIZE, "%s", l->name);
	s->ifindex[s->n] = l->ifindex;
	s->master[s->n] = (int)l->master;
	s->flags[s->n] = l->flags;
	s->n++;
}

static void link_set_done(struct link_set *s)
{
	free(s->names);
	free(s->ifindex);
	free(s->master);
	free(s->flags);
}

static int link_set_find(const struct link_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return (int)i;
	return -1;
}

static int load_records(struct manager *m, const char *dir, bool releasing, const struct link_set *links)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char ip[IP4_STRLEN];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char path[600], err[RECORD_ERRLEN], *data = NULL;
		struct record_attach rec;
		struct attachment *a;
		size_t len;
		int li, r;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".tmp.")) {
			unlink(path);   /* a write interrupted by a crash; its rename never happened */
			continue;
		}
		r = file_read_all(path, 65536, &data, &len);
		if (r == 0)
			r = record_attach_parse(data, len, &rec, err);
		else
			snprintf(err, sizeof(err), "%s", strerror(-r));
		free(data);
		if (r < 0) {
			char aside[620];

			/* Moved aside (kept for inspection) so it is reported once, not on every start; a veth
			 * it described has no record now and is deleted as an orphan. */
			snprintf(aside, sizeof(aside), "%s.corrupt", path);
			if (!strstr(e->d_name, ".corrupt")) {
				log_error("unreadable attachment record %s (%s); moved to %s", path, err, aside);
				rename(path, aside);
			}
			continue;
		}
		if (!cidr4_contains(&m->subnet, rec.addr) || ipam_pool_reserve(m->pool, rec.addr) < 0) {
			log_error("attachment record %s: address %s is outside subnet or duplicated; removing the record",
			          path, ip4_format(rec.addr, ip));
			unlink(path);
			continue;
		}
		/* A record whose veth is gone (an ADD that never completed, a namespace deleted without
		 * DEL) is kept here and released by reconcile_links(), the one place that decides that. */
		li = link_set_find(links, rec.host_veth);
		a = calloc(1, sizeof(*a));
		if (!a) {
			closedir(d);
			return -ENOMEM;
		}
		a->rec = rec;
		a->host_ifindex = li >= 0 ? links->ifindex[li] : 0;
		a->deleting = releasing;
		att_insert(m, a);
		if (releasing)
			a->queued = reaper_queue(m->reaper, rec.host_veth, a->host_ifindex) == 0;
		else
			m->n_active++;
	}
	closedir(d);
	return 0;
}

static void process_pending_dels(struct manager *m)
{
	DIR *d = opendir(m->dir_pending);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[600], *data = NULL, veth[IFNAME_SIZE];
		const char *id, *ifname;
		struct attachment *a;
		json_int_t when;
		json_t *j = NULL;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", m->dir_pending, e->d_name);
		if (file_read_all(path, 65536, &data, NULL) == 0)
			j = json_loads(data, 0, NULL);
		free(data);
		id = json_string_value(json_object_get(j, "containerId"));
		ifname = json_string_value(json_object_get(j, "ifname"));
		when = json_integer_value(json_object_get(j, "time"));
		if (id && ifname && names_container_id_valid(id) == 0 && names_ifname_valid(ifname) == 0) {
			names_host_veth(id, ifname, veth);
			a = att_find(m, veth);
			/* A DEL recorded before the attachment was (re)created is stale: the runtime has
			 * added it again since, and that newer attachment must stay. */
			if (a && a->rec.created > when) {
				log_info("ignoring a DEL of %s/%s recorded before its current attachment", id, ifname);
				a = NULL;
			} else {
				log_info("finishing DEL of %s/%s recorded while shoald was down", id, ifname);
			}
			if (a && release_attachment(m, a) < 0) {
				json_decref(j);
				continue;   /* keep the pending record; retried on the next start */
			}
		} else if (!strstr(e->d_name, ".tmp.")) {
			log_error("ignoring malformed pending DEL record %s", path);
		}
		json_decref(j);
		unlink(path);
	}
	closedir(d);
}

/* Attachments against the host's links: a vanished veth releases its attachment (the container's
 * namespace was deleted without a DEL; its interface is gone, so the address is free), a veth that
 * lost its bridge or went down is re-attached, and an shv veth on our bridge that no attachment
 * owns is deleted.  Only our own objects are ever touched.  Returns the number of orphans queued. */
static size_t reconcile_links(struct manager *m, const struct link_set *links)
{
	char err[OVERLAY_ERRLEN], ip[IP4_STRLEN];
	size_t orphans = 0;

	for (unsigned b = 0; b < BUCKETS; b++) {
		struct attachment *a = m->buckets[b], *next;

		for (; a; a = next) {
			int li;

			next = a->next;
			if (a->deleting) {
				/* A deletion that failed is tried again. */
				if (!a->queued && reaper_queue(m->reaper, a->rec.host_veth, a->host_ifindex) == 0)
					a->queued = true;
				continue;
			}
			li = link_set_find(links, a->rec.host_veth);
			if (li < 0) {
				struct rtlink_info info;
				char line[512];

				/* Freeing an address in use would be far worse than keeping a stale one: ask the
				 * kernel about this one device before believing the dump. */
				if (overlay_link_get(m->nl, a->rec.host_veth, &info) != -ENODEV)
					continue;
				snprintf(line, sizeof(line), "veth %s of %s/%s is gone; released %s", a->rec.host_veth,
				         a->rec.container_id, a->rec.ifname, ip4_format(a->rec.addr, ip));
				if (forget_attachment(m, a, m->dir_attach) == 0)
					log_info("%s", line);
				continue;
			}
			a->host_ifindex = links->ifindex[li];
			if (links->master[li] == m->bridge_ifindex && (links->flags[li] & IFF_UP))
				continue;
			if (overlay_port_ensure(m->nl, links->ifindex[li], m->bridge_ifindex, err) < 0)
				log_error("failed to re-attach veth %s: %s", a->rec.host_veth, err);
			else
				log_warn("re-attached veth %s of %s/%s to bridge %s", a->rec.host_veth, a->rec.container_id,
				         a->rec.ifname, m->cfg.bridge);
		}
	}
	/* A lost state dir can leave veths without records; nothing can reach them. */
	for (size_t i = 0; i < links->n; i++)
		if (!att_find(m, links->names[i]) && links->master[i] == m->bridge_ifindex) {
			reaper_queue(m->reaper, links->names[i], links->ifindex[i]);
			orphans++;
		}
	return orphans;
}

static int restore(struct manager *m)
{
	struct link_set links = { 0 };
	size_t orphans;
	int r;

	r = overlay_links_foreach(m->nl, collect_link, &links);
	if (r < 0) {
		log_error("failed to list network interfaces: %s", strerror(-r));
		goto out;
	}
	r = load_records(m, m->dir_attach, false, &links);
	if (r == 0)
		r = load_records(m, m->dir_releasing, true, &links);
	if (r < 0) {
		log_error("failed to read attachment records: %s", strerror(-r));
		goto out;
	}
	orphans = reconcile_links(m, &links);
	process_pending_dels(m);
	log_info("restored %zu attachments; %zu being released, %zu orphan veths to delete", m->n_active,
	         reaper_pending(m->reaper) - orphans, orphans);
out:
	link_set_done(&links);
	return r;
}

/* The periodic reconcile: everything shoald owns on this host, desired against observed. */
static void on_reconcile_timer(uv_timer_t *t)
{
	struct manager *m = t->data;
	struct link_set links = { 0 };
	int r;

	if (ensure_host_objects(m, false) < 0)
		return;
	r = overlay_links_foreach(m->nl, collect_link, &links);
	if (r < 0)
		log_error("reconcile: failed to list network interfaces: %s", strerror(-r));
	else
		reconcile_links(m, &links);
	link_set_done(&links);
}

/* ---- API handlers ---- */

static const char *req_str(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

static json_t *check_ids(json_t *req, const char **ret_id, const char **ret_ifname)
{
	const char *id = req_str(req, "containerId"), *ifname = req_str(req, "ifname");

	if (names_container_id_valid(id) < 0)
		return api_error(CNI_ERR_INVALID_ENV, "invalid container id", "containerId \"%s\" must be 1-256 "
		                 "letters, digits, '_', '.', '-' starting with a letter or digit", id ? id : "");
	if (names_ifname_valid(ifname) < 0)
		return api_error(CNI_ERR_INVALID_ENV, "invalid interface name",
		                 "ifname \"%s\" is not a valid Linux interface name", ifname ? ifname : "");
	*ret_id = id;
	*ret_ifname = ifname;
	return NULL;
}

static json_t *check_netns_fd(int fd)
{
	int t;

	if (fd < 0)
		return api_error(CNI_ERR_INVALID_ENV, "missing network namespace", "the request carried no netns fd");
	t = ioctl(fd, NS_GET_NSTYPE);
	if (t != CLONE_NEWNET)
		return api_error(CNI_ERR_INVALID_ENV, "not a network namespace",
		                 "the descriptor passed is not a network namespace");
	return NULL;
}

static json_t *result_json(struct manager *m, const struct attachment *a, const uint8_t *host_mac,
                           const uint8_t *peer_mac)
{
	char addr[CIDR4_STRLEN], gw[IP4_STRLEN], hmac[18] = "", pmac[18] = "";
	struct cidr4 c = { .addr = a->rec.addr, .len = a->rec.prefixlen };

	if (host_mac)
		rtlink_format_mac(host_mac, hmac);
	if (peer_mac)
		rtlink_format_mac(peer_mac, pmac);
	ip4_format(ipam_pool_gateway(m->pool), gw);
	return json_pack("{s:b, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i, s:s}], s:[{s:s, s:s, s:i}], s:[{s:s, s:s}], s:{}}",
	                 "ok", 1,
	                 "interfaces", "name", a->rec.host_veth, "mac", hmac, "mtu", (int)a->rec.mtu,
	                 "name", a->rec.ifname, "mac", pmac, "mtu", (int)a->rec.mtu, "sandbox", a->rec.netns,
	                 "ips", "address", cidr4_format(&c, addr), "gateway", gw, "interface", 1,
	                 "routes", "dst", "0.0.0.0/0", "gw", gw,
	                 "dns");
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static json_t *handle_add(struct manager *m, json_t *req, int fd)
{
	double t0 = now_ms(), t1;
	struct overlay_attach oa = { .netns_fd = fd, .bridge_ifindex = m->bridge_ifindex,
	                             .gateway = ipam_pool_gateway(m->pool), .prefixlen = m->subnet.len };
	struct overlay_attach_result res;
	char path[400], err[OVERLAY_ERRLEN], veth[IFNAME_SIZE], ip[IP4_STRLEN];
	const char *id, *ifname, *netns = req_str(req, "netns"), *network = req_str(req, "network");
	struct attachment *a, *old;
	json_int_t mtu = json_integer_value(json_object_get(req, "mtu"));
	json_t *e, *resp;
	char *data;
	int r;

	if ((e = check_ids(req, &id, &ifname)) || (e = check_netns_fd(fd)))
		return e;
	if (mtu < 0 || (mtu && (mtu < 576 || mtu > 65535)))
		return api_error(CNI_ERR_INVALID_CONFIG, "invalid MTU", "mtu %lld is outside 576..65535", (long long)mtu);
	names_host_veth(id, ifname, veth);
	old = att_find(m, veth);
	if (old && !old->deleting)
		return api_error(SHOAL_ERR_EXISTS, "attachment already exists",
		                 "container %s already has interface %s (address %s); DEL it first", id, ifname,
		                 ip4_format(old->rec.addr, ip));
	if (old)
		return api_error(CNI_ERR_TRY_AGAIN_LATER, "previous attachment is still being removed",
		                 "interface %s of container %s is being deleted; retry shortly", ifname, id);
	a = calloc(1, sizeof(*a));
	if (!a)
		return api_error(SHOAL_ERR_INTERNAL, "out of memory", NULL);
	r = ipam_pool_alloc(m->pool, &a->rec.addr);
	if (r < 0) {
		free(a);
		return api_error(SHOAL_ERR_NO_ADDRESS, "no free address",
		                 "subnet %s of node %s has no free address (%u in use)",
		                 cidr4_format(&m->subnet, (char[CIDR4_STRLEN]){ 0 }), m->cfg.node,
		                 ipam_pool_usable_count(m->pool));
	}
	snprintf(a->rec.container_id, sizeof(a->rec.container_id), "%s", id);
	snprintf(a->rec.ifname, sizeof(a->rec.ifname), "%s", ifname);
	snprintf(a->rec.host_veth, sizeof(a->rec.host_veth), "%s", veth);
	snprintf(a->rec.netns, sizeof(a->rec.netns), "%s", netns ? netns : "");
	snprintf(a->rec.network, sizeof(a->rec.network), "%s", network ? network : "");
	a->rec.prefixlen = m->subnet.len;
	a->rec.mtu = mtu ? (uint32_t)mtu : m->mtu;
	a->rec.created = time(NULL);

	/* A DEL the plugin recorded for this attachment while it could not reach us (we were slow,
	 * not down: restore() handles the rest) is superseded by this ADD. */
	record_path(path, sizeof(path), m->dir_pending, veth);
	unlink(path);
	/* Record first, then build: after a crash at any point the record tells restore() what may
	 * exist, and restore() drops records whose veth never appeared. */
	record_path(path, sizeof(path), m->dir_attach, veth);
	resp = record_attach_to_json(&a->rec);
	data = resp ? json_dumps(resp, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(resp);
	/* No fsync: the record only has to survive a crash of shoald (rename is atomic for that); a
	 * reboot removes every veth, and restore() then drops every record anyway. */
	r = data ? file_replace(path, data, strlen(data), 0644) : -ENOMEM;
	free(data);
	if (r < 0) {
		log_error("ADD %s/%s: failed to write %s: %s", id, ifname, path, strerror(-r));
		resp = api_error(CNI_ERR_IO, "failed to persist the attachment", "%s: %s", path, strerror(-r));
		goto fail;
	}
	t1 = now_ms();
	oa.host_veth = veth;
	oa.ifname = ifname;
	oa.mtu = a->rec.mtu;
	oa.addr = a->rec.addr;
	r = overlay_attach(m->nl, &oa, &res, err);
	if (r < 0) {
		struct rtlink_info left;

		log_error("ADD %s/%s: %s", id, ifname, err);
		resp = api_error(r == -EEXIST ? SHOAL_ERR_EXISTS : SHOAL_ERR_KERNEL,
		                 r == -EEXIST ? "interface already exists" : "failed to set up the interface", "%s", err);
		/* If the rollback could not delete the veth, the container may still hold the address:
		 * release it the slow way, through the reaper, like a DEL. */
		if (r != -EEXIST && overlay_link_get(m->nl, veth, &left) == 0) {
			a->host_ifindex = left.ifindex;
			att_insert(m, a);
			m->n_active++;
			release_attachment(m, a);
			return resp;
		}
		unlink(path);
		goto fail;
	}
	a->host_ifindex = res.host_ifindex;
	att_insert(m, a);
	m->n_active++;
	log_debug("ADD %s/%s: %s on %s in %.2f ms (record %.2f ms, kernel %.2f ms)", id, ifname,
	          ip4_format(a->rec.addr, ip), veth, now_ms() - t0, t1 - t0, now_ms() - t1);
	return result_json(m, a, res.host_mac, res.peer_mac);
fail:
	ipam_pool_release(m->pool, a->rec.addr);
	free(a);
	return resp;
}

static struct attachment *lookup(struct manager *m, const char *id, const char *ifname)
{
	char veth[IFNAME_SIZE];
	struct attachment *a;

	names_host_veth(id, ifname, veth);
	a = att_find(m, veth);
	if (a && (strcmp(a->rec.container_id, id) != 0 || strcmp(a->rec.ifname, ifname) != 0))
		return NULL;   /* a hash collision: not this attachment */
	return a;
}

static json_t *handle_del(struct manager *m, json_t *req)
{
	const char *id, *ifname;
	struct attachment *a;
	json_t *e;
	int r;

	if ((e = check_ids(req, &id, &ifname)))
		return e;
	a = lookup(m, id, ifname);
	if (a) {
		r = release_attachment(m, a);
		if (r < 0)
			return api_error(CNI_ERR_IO, "failed to record the deletion", "%s", strerror(-r));
	}
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

static json_t *handle_check(struct manager *m, json_t *req, int fd)
{
	char err[OVERLAY_ERRLEN];
	const char *id, *ifname;
	struct attachment *a;
	json_t *e;
	int r;

	if ((e = check_ids(req, &id, &ifname)) || (e = check_netns_fd(fd)))
		return e;
	a = lookup(m, id, ifname);
	if (!a || a->deleting)
		return api_error(CNI_ERR_UNKNOWN_CONTAINER, "unknown attachment",
		                 "container %s has no interface %s on this node", id, ifname);
	{
		struct overlay_attach oa = { .host_veth = a->rec.host_veth, .ifname = a->rec.ifname, .netns_fd = fd,
		                             .mtu = a->rec.mtu, .bridge_ifindex = m->bridge_ifindex,
		                             .addr = a->rec.addr, .prefixlen = a->rec.prefixlen,
		                             .gateway = ipam_pool_gateway(m->pool) };

		r = overlay_check(m->nl, &oa, err);
	}
	if (r < 0)
		return api_error(SHOAL_ERR_CHECK_FAILED, "attachment is not as configured", "%s", err);
	return check_prev_result(a, json_object_get(req, "prevResult"));
}

static json_t *handle_gc(struct manager *m, json_t *req)
{
	json_t *valid = json_object_get(req, "valid"), *v;
	size_t i, removed = 0;

	const char *network = req_str(req, "network");

	/* Without the list every attachment would go: refuse rather than guess. */
	if (!json_is_array(valid))
		return api_error(CNI_ERR_DECODE, "invalid request", "\"valid\" must be an array of attachments");
	/* Mark the valid ones, then release every active attachment not marked. */
	for (unsigned b = 0; b < BUCKETS; b++)
		for (struct attachment *a = m->buckets[b]; a; a = a->next) {
			bool found = false;

			/* CNI GC is per network: attachments of other networks are not this GC's to judge. */
			if (a->deleting || (network && a->rec.network[0] && strcmp(network, a->rec.network) != 0))
				continue;
			json_array_foreach(valid, i, v) {
				const char *id = json_string_value(json_object_get(v, "containerId"));
				const char *ifn = json_string_value(json_object_get(v, "ifname"));

				if (id && ifn && strcmp(id, a->rec.container_id) == 0 && strcmp(ifn, a->rec.ifname) == 0) {
					found = true;
					break;
				}
			}
			if (!found && release_attachment(m, a) == 0)
				removed++;
		}
	if (removed)
		log_info("GC released %zu attachments", removed);
	return json_pack("{s:b, s:I}", "ok", 1, "removed", (json_int_t)removed);
}

static json_t *handle_status(struct manager *m)
{
	char s[CIDR4_STRLEN], n[CIDR4_STRLEN], gw[IP4_STRLEN];

	return json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "ok", 1, "node",
	                 m->cfg.node, "version", SHOAL_VERSION, "store", m->cfg.store, "network",
	                 cidr4_format(&m->cfg.network, n), "subnet", cidr4_format(&m->subnet, s), "gateway",
	                 ip4_format(ipam_pool_gateway(m->pool), gw), "bridge", m->cfg.bridge, "mtu", (int)m->mtu,
	                 "workloads", (json_int_t)m->n_active, "addressesFree",
	                 (json_int_t)ipam_pool_free_count(m->pool), "pendingDeletes",
	                 (json_int_t)reaper_pending(m->reaper), "uptimeSeconds",
	                 (json_int_t)(time(NULL) - m->started));
}

static json_t *handle_workloads(struct manager *m)
{
	json_t *list = json_array();

	for (unsigned b = 0; b < BUCKETS; b++)
		for (struct attachment *a = m->buckets[b]; a; a = a->next) {
			char addr[CIDR4_STRLEN];
			struct cidr4 c = { .addr = a->rec.addr, .len = a->rec.prefixlen };

			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "containerId",
			                      a->rec.container_id, "ifname", a->rec.ifname, "address", cidr4_format(&c, addr),
			                      "hostVeth", a->rec.host_veth, "netns", a->rec.netns, "network", a->rec.network,
			                      "created", (json_int_t)a->rec.created, "state", a->deleting ? "deleting" : "active"));
		}
	return json_pack("{s:b, s:o}", "ok", 1, "workloads", list);
}

static json_t *handle_subnets(struct manager *m)
{
	struct store_kvs kvs;
	json_t *list;
	int r;

	r = store_list(m->store, "subnets/", &kvs);
	if (r < 0)
		return api_error(CNI_ERR_IO, "failed to read the store", "%s: %s", m->cfg.store, strerror(-r));
	list = json_array();
	for (size_t i = 0; i < kvs.n; i++) {
		struct record_subnet rec = { 0 };
		char err[RECORD_ERRLEN], s[CIDR4_STRLEN];
		struct cidr4 c;

		if (cidr4_parse_key(kvs.kvs[i].key + strlen("subnets/"), &c) < 0 ||
		    record_subnet_parse(kvs.kvs[i].value, kvs.kvs[i].value_len, &rec, err) < 0)
			continue;
		bool self = strcmp(rec.node, m->cfg.node) == 0;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "subnet", cidr4_format(&c, s), "node", rec.node,
		                      "publicIP", rec.public_ip, "vtepMAC", rec.vtep_mac, "lease",
		                      (json_int_t)kvs.kvs[i].lease, "self", self);

		/* Only our own lease's TTL is known here; the store keeps other nodes' TTLs to itself. */
		if (o && self)
			json_object_set_new(o, "leaseTTL", json_integer(m->cfg.lease_ttl));
		json_array_append_new(list, o);
	}
	store_kvs_done(&kvs);
	return json_pack("{s:b, s:o}", "ok", 1, "subnets", list);
}

static json_t *api_dispatch(void *userdata, json_t *req, int fd)
{
	struct manager *m = userdata;
	const char *op = req_str(req, "op");

	if (!op)
		return api_error(CNI_ERR_DECODE, "invalid request", "missing \"op\"");
	if (strcmp(op, "add") == 0)
		return handle_add(m, req, fd);
	if (strcmp(op, "del") == 0)
		return handle_del(m, req);
	if (strcmp(op, "check") == 0)
		return handle_check(m, req, fd);
	if (strcmp(op, "gc") == 0)
		return handle_gc(m, req);
	if (strcmp(op, "status") == 0)
		return handle_status(m);
	if (strcmp(op, "workloads") == 0)
		return handle_workloads(m);
	if (strcmp(op, "subnets") == 0)
		return handle_subnets(m);
	return api_error(CNI_ERR_DECODE, "invalid request", "unknown op \"%s\"", op);
}

/* ---- lifecycle ---- */

int manager_new(uv_loop_t *loop, const struct netd_config *cfg, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->cfg = *cfg;
	m->started = time(NULL);
	m->lock_fd = -1;
	snprintf(m->dir_attach, sizeof(m->dir_attach), "%s/attachments", cfg->state_dir);
	snprintf(m->dir_releasing, sizeof(m->dir_releasing), "%s/releasing", cfg->state_dir);
	snprintf(m->dir_pending, sizeof(m->dir_pending), "%s/pending-del", cfg->state_dir);
	snprintf(m->subnet_file, sizeof(m->subnet_file), "%s/subnet.json", cfg->state_dir);
	*ret = m;
	return 0;
}

int manager_start(struct manager *m)
{
	char err[API_ERRLEN], lock[300];
	const char *dirs[] = { m->dir_attach, m->dir_releasing, m->dir_pending };
	int r;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		r = mkdir_p(dirs[i], 0755);
		if (r < 0) {
			log_error("failed to create state directory %s: %s", dirs[i], strerror(-r));
			return r;
		}
	}
	/* Before anything touches the store or the kernel: a second shoald on the same state would
	 * take over our subnet lease and rewrite our records.  The lock dies with the process. */
	snprintf(lock, sizeof(lock), "%s/shoald.lock", m->cfg.state_dir);
	m->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lock_fd < 0 || flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			log_error("another shoald is running with state directory %s", m->cfg.state_dir);
		else
			log_error("failed to lock %s: %s", lock, strerror(-r));
		return r;
	}
	r = store_open(m->loop, m->cfg.store, m->cfg.store_prefix, &m->store);
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
	r = ipam_pool_new(&m->subnet, &m->pool);
	if (r < 0) {
		log_error("subnet /%u is too small for workloads", m->subnet.len);
		return r;
	}
	uv_timer_init(m->loop, &m->lease_timer);
	m->lease_timer.data = m;
	uv_timer_start(&m->lease_timer, on_lease_timer, (uint64_t)m->cfg.lease_ttl * 1000 / 3,
	               (uint64_t)m->cfg.lease_ttl * 1000 / 3);
	r = nlsock_open(-1, &m->nl);
	if (r < 0) {
		log_error("failed to open a netlink socket: %s", strerror(-r));
		return r;
	}
	m->mtu = m->cfg.mtu ? m->cfg.mtu : underlay_mtu() - VXLAN_OVERHEAD;
	if (m->mtu < 576 || m->mtu > 65535) {
		log_warn("derived MTU %u is implausible; using 1450 (set \"mtu\" in the config)", m->mtu);
		m->mtu = 1450;
	}
	r = ensure_host_objects(m, true);
	if (r < 0)
		return r;
	r = reaper_start(m->loop, on_reaped, m, &m->reaper);
	if (r < 0) {
		log_error("failed to start the deletion worker: %s", strerror(-r));
		return r;
	}
	r = restore(m);
	if (r < 0)
		return r;
	uv_timer_init(m->loop, &m->reconcile_timer);
	m->reconcile_timer.data = m;
	uv_timer_start(&m->reconcile_timer, on_reconcile_timer, (uint64_t)m->cfg.reconcile_interval * 1000,
	               (uint64_t)m->cfg.reconcile_interval * 1000);
	r = api_start(m->loop, m->cfg.socket, m->cfg.socket_group, api_dispatch, m, &m->api, err);
	if (r < 0) {
		log_error("failed to serve the API: %s", err);
		return r;
	}
	log_info("shoald %s ready on %s (node %s)", SHOAL_VERSION, m->cfg.socket, m->cfg.node);
	return 0;
}

void manager_reload(struct manager *m, const struct netd_config *cfg)
{
	if (cfg->log_level != m->cfg.log_level) {
		log_set_level((enum log_level)cfg->log_level);
		m->cfg.log_level = cfg->log_level;
		log_info("log level changed");
	}
	if (strcmp(cfg->node, m->cfg.node) || strcmp(cfg->store, m->cfg.store) || strcmp(cfg->bridge, m->cfg.bridge) ||
	    cfg->network.addr != m->cfg.network.addr || cfg->network.len != m->cfg.network.len ||
	    cfg->subnet_len != m->cfg.subnet_len || strcmp(cfg->state_dir, m->cfg.state_dir) ||
	    strcmp(cfg->socket, m->cfg.socket) || cfg->mtu != m->cfg.mtu || cfg->masquerade != m->cfg.masquerade ||
	    cfg->lease_ttl != m->cfg.lease_ttl || cfg->reconcile_interval != m->cfg.reconcile_interval)
		log_warn("configuration changes other than logLevel take effect after a restart");
}

void manager_stop(struct manager *m)
{
	if (!m)
		return;
	api_stop(m->api);
	m->api = NULL;
	reaper_stop(m->reaper);
	m->reaper = NULL;
	if (m->lease_timer.loop)
		uv_close((uv_handle_t *)&m->lease_timer, NULL);
	if (m->reconcile_timer.loop)
		uv_close((uv_handle_t *)&m->reconcile_timer, NULL);
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	for (unsigned b = 0; b < BUCKETS; b++)
		while (m->buckets[b]) {
			struct attachment *a = m->buckets[b];

			m->buckets[b] = a->next;
			free(a);
		}
	ipam_pool_free(m->pool);
	nlsock_free(m->nl);
	store_free(m->store);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m);
}
