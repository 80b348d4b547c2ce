/* Attachments: one per (container id, ifname).  Each has a record in the state directory
 * (attachments/, or releasing/ while its veth is being deleted), a host veth on the bridge whose
 * ifalias carries the same identity, an address from the pool and, with anti-spoofing, its elements
 * in the nftables sets.  The record is written before any kernel work, so after a crash at any
 * point restore() knows what may exist. */
#include "netd/netd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fw/fw.h"
#include "ipam/ipam.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/pending_del.h"
#include "netd/policies.h"
#include "netd/reaper.h"
#include "overlay/overlay.h"

/* A record is a few hundred bytes; anything much larger was not written by us. */
#define RECORD_MAX_SIZE 65536
/* Seconds after which a pending-DEL temp file is an abandoned write, not one in progress. */
#define PENDING_TMP_MAX_AGE 60

/* ---- the table ---- */

static unsigned veth_bucket(const char *host_veth)
{
	return (unsigned)(names_hash(host_veth, strlen(host_veth), 0) % ATT_BUCKETS);
}

static unsigned key_bucket(const char *id, const char *ifname)
{
	uint64_t h = names_hash(id, strlen(id), 0);

	h = names_hash("\0", 1, h);
	return (unsigned)(names_hash(ifname, strlen(ifname), h) % ATT_BUCKETS);
}

struct attachment *att_by_veth(const struct manager *m, const char *host_veth)
{
	for (struct attachment *a = m->by_veth[veth_bucket(host_veth)]; a; a = a->next_veth)
		if (strcmp(a->rec.host_veth, host_veth) == 0)
			return a;
	return NULL;
}

struct attachment *attach_lookup(struct manager *m, const char *container_id, const char *ifname)
{
	for (struct attachment *a = m->by_key[key_bucket(container_id, ifname)]; a; a = a->next_key)
		if (strcmp(a->rec.container_id, container_id) == 0 && strcmp(a->rec.ifname, ifname) == 0)
			return a;
	return NULL;
}

void att_insert(struct manager *m, struct attachment *a)
{
	unsigned vb = veth_bucket(a->rec.host_veth), kb = key_bucket(a->rec.container_id, a->rec.ifname);

	a->next_veth = m->by_veth[vb];
	m->by_veth[vb] = a;
	a->next_key = m->by_key[kb];
	m->by_key[kb] = a;
	m->n_total++;
	if (!a->deleting)
		m->n_active++;
}

static void att_unlink(struct manager *m, struct attachment *a)
{
	struct attachment **p;

	for (p = &m->by_veth[veth_bucket(a->rec.host_veth)]; *p; p = &(*p)->next_veth)
		if (*p == a) {
			*p = a->next_veth;
			break;
		}
	for (p = &m->by_key[key_bucket(a->rec.container_id, a->rec.ifname)]; *p; p = &(*p)->next_key)
		if (*p == a) {
			*p = a->next_key;
			break;
		}
	m->n_total--;
	if (!a->deleting)
		m->n_active--;
}

static void record_path(char *buf, size_t size, const char *dir, const char *host_veth)
{
	snprintf(buf, size, "%s/%s.json", dir, host_veth);
}

static bool have_mac(const struct record_attach *r)
{
	static const uint8_t zero[6];

	return memcmp(r->mac, zero, 6) != 0;
}

static void fw_workload_of(const struct record_attach *r, struct fw_workload *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->ifname, sizeof(ret->ifname), "%s", r->host_veth);
	memcpy(ret->mac, r->mac, 6);
	ret->addr = r->addr;
}

/* The interface of a is gone: remove its record from dir, its anti-spoofing elements and its
 * address, and drop it. */
int att_forget(struct manager *m, struct attachment *a, const char *dir)
{
	char path[400], err[NETD_ERRLEN];
	struct fw_workload w;

	record_path(path, sizeof(path), dir, a->rec.host_veth);
	if (unlink(path) < 0 && errno != ENOENT) {
		/* Keep the address: the record still claims it. */
		log_error("failed to remove %s: %s", path, strerror(errno));
		return -errno;
	}
	if (m->cfg.antispoof && have_mac(&a->rec)) {
		fw_workload_of(&a->rec, &w);
		/* A leftover element only matches a future veth of the same name, which replaces it. */
		if (fw_workload_del(&w, err, sizeof(err)) < 0)
			log_warn("failed to remove the anti-spoofing entries of %s: %s", a->rec.host_veth, err);
	}
	bandwidth_detach(m, a);
	if (m->pool && ipam_pool_in_use(m->pool, a->rec.addr))
		ipam_pool_release(m->pool, a->rec.addr);
	att_unlink(m, a);
	free(a);
	return 0;
}

void attach_on_reaped(void *userdata, const char *name, int ifindex, int err)
{
	struct manager *m = userdata;
	struct attachment *a = att_by_veth(m, name);
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
	if (att_forget(m, a, m->dir_releasing) == 0)
		log_debug("released %s and %s", name, ip);
}

/* Move an attachment to releasing/ and queue its veth; the caller answers at once.  The address
 * stays taken until the reaper reports the veth gone. */
int att_release(struct manager *m, struct attachment *a)
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
	bandwidth_detach(m, a);
	r = reaper_queue(m->reaper, a->rec.host_veth, a->host_ifindex);
	if (r < 0)
		log_error("failed to queue deletion of %s: %s; the next reconcile retries", a->rec.host_veth,
		          strerror(-r));
	a->queued = r == 0;
	return 0;
}

static int record_write(const struct manager *m, const struct record_attach *rec)
{
	char path[400], *data;
	json_t *j;
	int r;

	record_path(path, sizeof(path), m->dir_attach, rec->host_veth);
	j = record_attach_to_json(rec);
	data = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	/* No fsync: the record only has to survive a crash of shoald (rename is atomic for that); a
	 * reboot removes every veth, and restore() then drops every record anyway. */
	r = data ? file_replace(path, data, strlen(data), 0644) : -ENOMEM;
	free(data);
	return r;
}

/* " pod NAMESPACE/NAME" for log lines, or "" when the runtime named no pod. */
static const char *pod_describe(const struct record_attach *r, char *buf, size_t size)
{
	if (!r->pod_name[0])
		return "";
	snprintf(buf, size, " pod %s%s%s", r->pod_namespace, r->pod_namespace[0] ? "/" : "", r->pod_name);
	return buf;
}

/* ---- capacity ---- */

size_t attach_ports_free(const struct manager *m)
{
	size_t used = m->n_total + m->foreign_ports;

	return used >= BRIDGE_MAX_PORTS ? 0 : BRIDGE_MAX_PORTS - used;
}

uint32_t attach_capacity_free(const struct manager *m)
{
	uint32_t addrs = m->pool ? ipam_pool_free_count(m->pool) : 0;
	size_t ports = attach_ports_free(m);

	return ports < addrs ? (uint32_t)ports : addrs;
}

/* ---- ADD, DEL, CHECK, GC ---- */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The first of the names (container id, ifname) may use that no other attachment holds: host veth
 * names are a 48-bit hash, and colliding container ids are easy to find. */
static int pick_veth(const struct manager *m, const char *id, const char *ifname, char ret[IFNAME_SIZE])
{
	for (unsigned n = 0; n < RECORD_VETH_TRIES; n++) {
		names_host_veth_n(id, ifname, n, ret);
		if (!att_by_veth(m, ret))
			return 0;
	}
	return -EEXIST;
}

static void random_mac(uint8_t mac[6])
{
	/* getrandom() of 6 bytes never blocks once the pool is initialised, as it is long before a
	 * container starts; the fallback keeps ADD working regardless. */
	if (getrandom(mac, 6, GRND_NONBLOCK) != 6) {
		struct timespec t;
		uint64_t h;

		clock_gettime(CLOCK_REALTIME, &t);
		h = names_hash(&t, sizeof(t), (uint64_t)getpid());
		memcpy(mac, &h, 6);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

static void route_of(const struct manager *m, const struct record_attach *rec, uint32_t *dst, uint8_t *len)
{
	/* Without the default route the container still reaches the whole cluster network. */
	*dst = rec->default_route ? 0 : m->cfg.network.addr;
	*len = rec->default_route ? 0 : m->cfg.network.len;
}

int attach_add(struct manager *m, const struct attach_req *req, struct attach_result *ret, char err[NETD_ERRLEN])
{
	double t0 = now_ms(), t1;
	struct overlay_attach oa = { .netns_fd = req->netns_fd, .bridge_ifindex = m->bridge_ifindex,
	                             .gateway = ipam_pool_gateway(m->pool), .prefixlen = m->subnet.len };
	struct overlay_attach_result res;
	char oerr[OVERLAY_ERRLEN], alias[RECORD_ALIAS_SIZE], ip[IP4_STRLEN], s[CIDR4_STRLEN];
	struct attachment *a, *old;
	struct request_bandwidth want;
	char name[POLICIES_NAMELEN];
	struct fw_workload w;
	int r;

	old = attach_lookup(m, req->container_id, req->ifname);
	if (old && !old->deleting) {
		snprintf(err, NETD_ERRLEN, "container %s already has interface %s (address %s); DEL it first",
		         req->container_id, req->ifname, ip4_format(old->rec.addr, ip));
		return -EEXIST;
	}
	if (old) {
		snprintf(err, NETD_ERRLEN, "interface %s of container %s is being deleted; retry shortly", req->ifname,
		         req->container_id);
		return -EAGAIN;
	}
	if (attach_ports_free(m) == 0) {
		snprintf(err, NETD_ERRLEN, "host full: bridge %s has no free port (a Linux bridge takes %d ports; "
		         "%zu attachments, %zu other ports)", m->cfg.bridge, BRIDGE_MAX_PORTS, m->n_total, m->foreign_ports);
		return -EXFULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, NETD_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	/* What policies match on, then admission: a refusal leaves nothing behind. */
	snprintf(a->rec.container_id, sizeof(a->rec.container_id), "%s", req->container_id);
	snprintf(a->rec.network, sizeof(a->rec.network), "%s", req->network);
	snprintf(a->rec.pod_namespace, sizeof(a->rec.pod_namespace), "%s", req->pod_namespace ? req->pod_namespace : "");
	snprintf(a->rec.pod_name, sizeof(a->rec.pod_name), "%s", req->pod_name ? req->pod_name : "");
	snprintf(a->rec.pod_uid, sizeof(a->rec.pod_uid), "%s", req->pod_uid ? req->pod_uid : "");
	a->rec.bandwidth = req->bandwidth;
	policies_effective(m, &a->rec, &want);
	r = bandwidth_admit(m, &want, policies_admit_name(m, &a->rec, name), NULL, &a->bw, err);
	if (r < 0) {
		free(a);
		return -EDQUOT;
	}
	r = pick_veth(m, req->container_id, req->ifname, a->rec.host_veth);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "every host veth name of container %s interface %s is taken", req->container_id,
		         req->ifname);
		free(a);
		return r;
	}
	r = ipam_pool_alloc(m->pool, &a->rec.addr);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "subnet %s of node %s has no free address (%u in use)",
		         cidr4_format(&m->subnet, s), m->cfg.node, ipam_pool_usable_count(m->pool));
		free(a);
		return -ENOSPC;
	}
	snprintf(a->rec.ifname, sizeof(a->rec.ifname), "%s", req->ifname);
	snprintf(a->rec.netns, sizeof(a->rec.netns), "%s", req->netns ? req->netns : "");
	a->rec.prefixlen = m->subnet.len;
	a->rec.mtu = req->mtu ? req->mtu : m->mtu;
	a->rec.default_route = req->default_route;
	a->rec.created = time(NULL);
	/* Chosen here, not by the kernel, so that the record and the alias are complete before any
	 * kernel work: anti-spoofing needs it, and adoption after a lost record too. */
	random_mac(a->rec.mac);

	/* Record first, then build: after a crash at any point the record tells restore() what may
	 * exist, and restore() drops records whose veth never appeared. */
	r = record_write(m, &a->rec);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "failed to persist the attachment in %s: %s", m->dir_attach, strerror(-r));
		r = -EIO;
		goto fail;
	}
	t1 = now_ms();
	oa.host_veth = a->rec.host_veth;
	oa.ifname = a->rec.ifname;
	oa.mtu = a->rec.mtu;
	oa.addr = a->rec.addr;
	route_of(m, &a->rec, &oa.route_dst, &oa.route_len);
	/* The kernel keeps the identity too: a lost or corrupt record is rebuilt from the alias. */
	oa.alias = record_alias_format(&a->rec, alias) == 0 ? alias : NULL;
	oa.peer_mac = a->rec.mac;
	r = overlay_attach(m->nl, &oa, &res, oerr);
	if (r < 0) {
		struct rtlink_info left;

		snprintf(err, NETD_ERRLEN, "%s", oerr);
		/* If the rollback could not delete the veth, the container may still hold the address:
		 * release it the slow way, through the reaper, like a DEL. */
		if (r != -EEXIST && overlay_link_get(m->nl, a->rec.host_veth, &left) == 0) {
			a->host_ifindex = left.ifindex;
			att_insert(m, a);
			att_release(m, a);
			return r;
		}
		goto fail_record;
	}
	a->host_ifindex = res.host_ifindex;
	att_insert(m, a);
	if (m->cfg.antispoof) {
		fw_workload_of(&a->rec, &w);
		r = fw_workload_add(&w, oerr, sizeof(oerr));
		if (r < 0) {
			snprintf(err, NETD_ERRLEN, "failed to install anti-spoofing for %s: %s", a->rec.host_veth, oerr);
			att_release(m, a);
			return r;
		}
	}
	r = bandwidth_attach(m, a, oerr);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "failed to set up bandwidth for %s: %s", a->rec.host_veth, oerr);
		att_release(m, a);
		return r;
	}
	{
		char pod[RECORD_POD_NS_SIZE + RECORD_POD_NAME_SIZE + 8];

		log_info("ADD %s/%s%s: %s on %s in %.2f ms (record %.2f ms, kernel %.2f ms)", req->container_id,
		         req->ifname, pod_describe(&a->rec, pod, sizeof(pod)), cidr4_format(&(struct cidr4){ .addr =
		         a->rec.addr, .len = a->rec.prefixlen }, s), a->rec.host_veth, now_ms() - t0, t1 - t0, now_ms() - t1);
	}
	ret->a = a;
	memcpy(ret->host_mac, res.host_mac, 6);
	memcpy(ret->peer_mac, res.peer_mac, 6);
	return 0;
fail_record: {
		char path[400];

		record_path(path, sizeof(path), m->dir_attach, a->rec.host_veth);
		unlink(path);
	}
fail:
	ipam_pool_release(m->pool, a->rec.addr);
	free(a);
	return r;
}

int attach_del(struct manager *m, const char *container_id, const char *ifname, char err[NETD_ERRLEN])
{
	struct attachment *a = attach_lookup(m, container_id, ifname);
	char pod[RECORD_POD_NS_SIZE + RECORD_POD_NAME_SIZE + 8], ip[IP4_STRLEN];
	int r;

	if (!a || a->deleting)
		return 0;
	r = att_release(m, a);
	if (r < 0)
		snprintf(err, NETD_ERRLEN, "failed to record the deletion of %s: %s", a->rec.host_veth, strerror(-r));
	else
		log_info("DEL %s/%s%s: releasing %s on %s", container_id, ifname, pod_describe(&a->rec, pod, sizeof(pod)),
		         ip4_format(a->rec.addr, ip), a->rec.host_veth);
	return r;
}

int attach_quota_set(struct manager *m, const char *container_id, const char *ifname,
                     const struct request_bandwidth *want, char err[NETD_ERRLEN])
{
	struct attachment *a = attach_lookup(m, container_id, ifname);
	struct request_bandwidth eff;
	char name[POLICIES_NAMELEN];
	struct record_attach rec;
	struct bw_share share;
	int r;

	if (!a || a->deleting) {
		snprintf(err, NETD_ERRLEN, "container %s has no interface %s on this node", container_id, ifname);
		return -ENOENT;
	}
	if (!bandwidth_enabled(m)) {
		snprintf(err, NETD_ERRLEN, "bandwidth is not configured on node %s (\"bandwidth\" in shoald's config)",
		         m->cfg.node);
		return -EOPNOTSUPP;
	}
	/* The new own ask, with the workload's policy filling in what it leaves unset. */
	rec = a->rec;
	rec.bandwidth = *want;
	policies_effective(m, &rec, &eff);
	r = bandwidth_admit(m, &eff, policies_admit_name(m, &rec, name), &a->bw, &share, err);
	if (r < 0)
		return -EDQUOT;
	/* Persist first: after a crash the record says what the kernel should have. */
	r = record_write(m, &rec);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "failed to persist the attachment in %s: %s", m->dir_attach, strerror(-r));
		return -EIO;
	}
	a->rec.bandwidth = *want;
	r = bandwidth_change(m, a, &share, err);
	if (r < 0)
		return r;   /* the record holds the new values: the next reconcile retries */
	log_info("quota of %s/%s changed", container_id, ifname);
	return 0;
}

int attach_check(struct manager *m, const struct attach_req *req, char err[NETD_ERRLEN])
{
	struct attachment *a = attach_lookup(m, req->container_id, req->ifname);
	struct overlay_attach oa;
	char oerr[OVERLAY_ERRLEN];
	int r;

	if (!a || a->deleting) {
		snprintf(err, NETD_ERRLEN, "container %s has no interface %s on this node", req->container_id, req->ifname);
		return -ENOENT;
	}
	/* A pod made before the node's MTU changed (an operator set "mtu") silently drops large
	 * packets to the pods made after: report it. */
	if (a->rec.mtu != (req->mtu ? req->mtu : m->mtu)) {
		snprintf(err, NETD_ERRLEN, "the pod's MTU %u differs from the %s %u; re-create the pod", a->rec.mtu,
		         req->mtu ? "network config's" : "node's", req->mtu ? req->mtu : m->mtu);
		return -EINVAL;
	}
	oa = (struct overlay_attach){ .host_veth = a->rec.host_veth, .ifname = a->rec.ifname, .netns_fd = req->netns_fd,
	                              .mtu = a->rec.mtu, .bridge_ifindex = m->bridge_ifindex, .addr = a->rec.addr,
	                              .prefixlen = a->rec.prefixlen, .gateway = ipam_pool_gateway(m->pool) };
	route_of(m, &a->rec, &oa.route_dst, &oa.route_len);
	r = overlay_check(m->nl, &oa, oerr);
	if (r < 0)
		snprintf(err, NETD_ERRLEN, "%s", oerr);
	return r;
}

size_t attach_gc(struct manager *m, const char *network, bool (*valid)(void *ctx, const char *id, const char *ifname),
                 void *ctx)
{
	size_t removed = 0;

	for (unsigned b = 0; b < ATT_BUCKETS; b++)
		for (struct attachment *a = m->by_veth[b]; a; a = a->next_veth) {
			/* CNI GC is per network: strictly this network's attachments.  One without a network
			 * (adopted from a veth whose alias had no room for it) is no GC's to judge. */
			if (a->deleting || !a->rec.network[0] || strcmp(network, a->rec.network) != 0)
				continue;
			if (!valid(ctx, a->rec.container_id, a->rec.ifname) && att_release(m, a) == 0)
				removed++;
		}
	return removed;
}

/* ---- restore ---- */

static int quarantine_add(struct manager *m, const char *host_veth)
{
	struct quarantine *q = &m->quarantine;

	if (att_quarantined(m, host_veth))
		return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		void *p = realloc(q->names, cap * sizeof(*q->names));

		if (!p)
			return -ENOMEM;
		q->names = p;
		q->cap = cap;
	}
	snprintf(q->names[q->n++], IFNAME_SIZE, "%s", host_veth);
	return 0;
}

bool att_quarantined(const struct manager *m, const char *host_veth)
{
	for (size_t i = 0; i < m->quarantine.n; i++)
		if (strcmp(m->quarantine.names[i], host_veth) == 0)
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Read a state file without trusting it: no symlinks followed, never blocking on a FIFO or
 * device, regular files of sane size only. */
static int read_state_file(const char *path, char **ret_data, size_t *ret_len, char err[RECORD_ERRLEN])
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, RECORD_ERRLEN, "%s", r == -ELOOP ? "a symbolic link" : strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RECORD_MAX_SIZE) {
		r = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : -EFBIG;
		snprintf(err, RECORD_ERRLEN, "%s", r == -EINVAL ? "not a regular file" : r == -EFBIG ?
		         "larger than a record can be" : strerror(-r));
		close(fd);
		return r;
	}
	r = fd_read_all(fd, RECORD_MAX_SIZE, ret_data, ret_len);
	if (r < 0)
		snprintf(err, RECORD_ERRLEN, "%s", strerror(-r));
	close(fd);
	return r;
}

/* An unreadable record is set aside (kept for inspection, never read again) and its veth kept:
 * reconcile adopts it from its alias, or keeps and reports it; it is never deleted on the strength
 * of a bad file. */
static void quarantine_file(struct manager *m, const char *dir, const char *name, const char *why)
{
	char path[600], aside[620], veth[IFNAME_SIZE] = "";
	size_t n = strlen(name) - strlen(".json");

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	if (n < IFNAME_SIZE) {
		memcpy(veth, name, n);
		veth[n] = '\0';
		quarantine_add(m, veth);
	}
	log_error("unreadable attachment record %s (%s); moved to %s", path, why, aside);
	if (rename(path, aside) < 0)
		log_error("failed to move %s aside: %s", path, strerror(errno));
}

static int load_records(struct manager *m, const char *dir, bool releasing)
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
		int r;

		if (e->d_name[0] == '.' || ends_with(e->d_name, ".corrupt"))
			continue;   /* quarantined files are reported once, when they are set aside */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".tmp.")) {
			unlink(path);   /* a write interrupted by a crash; its rename never happened */
			continue;
		}
		if (!ends_with(e->d_name, ".json")) {
			quarantine_file(m, dir, e->d_name, "not a record's name");
			continue;
		}
		r = read_state_file(path, &data, &len, err);
		if (r == 0)
			r = record_attach_parse(data, len, &rec, err);
		free(data);
		if (r == 0 && (strlen(e->d_name) != strlen(rec.host_veth) + 5 ||
		               strncmp(e->d_name, rec.host_veth, strlen(rec.host_veth)) != 0)) {
			snprintf(err, sizeof(err), "it describes %s", rec.host_veth);
			r = -EBADMSG;
		}
		if (r == 0 && (!cidr4_contains(&m->subnet, rec.addr) || ipam_pool_reserve(m->pool, rec.addr) < 0)) {
			snprintf(err, sizeof(err), "address %s is outside subnet or duplicated", ip4_format(rec.addr, ip));
			r = -EBADMSG;
		}
		if (r < 0) {
			quarantine_file(m, dir, e->d_name, err);
			continue;
		}
		a = calloc(1, sizeof(*a));
		if (!a) {
			ipam_pool_release(m->pool, rec.addr);
			closedir(d);
			return -ENOMEM;
		}
		/* A record whose veth is gone (an ADD that never completed, a namespace deleted without
		 * DEL) is kept here and released by reconcile, the one place that decides that. */
		a->rec = rec;
		a->deleting = releasing;
		att_insert(m, a);
		if (releasing)
			a->queued = reaper_queue(m->reaper, rec.host_veth, 0) == 0;
	}
	closedir(d);
	return 0;
}

/* A veth of ours without a usable record: take the identity its alias carries.  The address is
 * reserved first; a clash (the address was handed out again meanwhile) is refused. */
int att_adopt(struct manager *m, const struct record_attach *rec, int ifindex)
{
	struct attachment *a;
	char ip[IP4_STRLEN];
	int r;

	if (!cidr4_contains(&m->subnet, rec->addr) || rec->prefixlen != m->subnet.len)
		return -EINVAL;
	if (attach_lookup(m, rec->container_id, rec->ifname))
		return -EEXIST;
	r = ipam_pool_reserve(m->pool, rec->addr);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a) {
		ipam_pool_release(m->pool, rec->addr);
		return -ENOMEM;
	}
	a->rec = *rec;
	a->host_ifindex = ifindex;
	att_insert(m, a);
	r = record_write(m, &a->rec);
	if (r < 0)
		log_warn("adopted %s but failed to write its record: %s", rec->host_veth, strerror(-r));
	log_warn("adopted veth %s of %s/%s (%s) from its alias: its record was missing or unreadable",
	         rec->host_veth, rec->container_id, rec->ifname, ip4_format(rec->addr, ip));
	return 0;
}

static void process_pending_dels(struct manager *m)
{
	DIR *d = opendir(m->dir_pending);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[600], err[RECORD_ERRLEN], *data = NULL;
		struct pending_del p;
		struct attachment *a;
		size_t len;
		int r;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", m->dir_pending, e->d_name);
		if (strstr(e->d_name, ".tmp.")) {
			struct stat st;

			/* The plugin may be writing it right now (it timed out against a slow shoald): only a
			 * write abandoned long ago is removed. */
			if (lstat(path, &st) == 0 && time(NULL) - st.st_mtime > PENDING_TMP_MAX_AGE)
				unlink(path);
			continue;
		}
		r = read_state_file(path, &data, &len, err);
		if (r == 0)
			r = pending_del_parse(data, len, &p, err);
		free(data);
		if (r < 0) {
			log_error("ignoring malformed pending DEL record %s: %s", path, err);
			unlink(path);
			continue;
		}
		/* Matched on (container id, ifname): host veth names may collide. */
		a = attach_lookup(m, p.container_id, p.ifname);
		/* A DEL recorded before the attachment was (re)created is stale: the runtime has added it
		 * again since, and that newer attachment must stay. */
		if (a && a->rec.created > p.time) {
			log_info("ignoring a DEL of %s/%s recorded before its current attachment", p.container_id, p.ifname);
			a = NULL;
		} else if (a) {
			log_info("finishing DEL of %s/%s recorded while shoald was unreachable", p.container_id, p.ifname);
		}
		if (a && att_release(m, a) < 0)
			continue;   /* keep the pending record; retried by the next reconcile */
		unlink(path);
	}
	closedir(d);
}

int attach_restore(struct manager *m)
{
	int r;

	r = load_records(m, m->dir_attach, false);
	if (r == 0)
		r = load_records(m, m->dir_releasing, true);
	if (r < 0) {
		log_error("failed to read attachment records: %s", strerror(-r));
		return r;
	}
	reconcile_run(m, true);
	process_pending_dels(m);
	log_info("restored %zu attachments; %zu being released", m->n_active, m->n_total - m->n_active);
	return 0;
}

void attach_pending_dels(struct manager *m)
{
	process_pending_dels(m);
}

/* Every attachment's anti-spoofing elements, for a full apply or check of the tables. */
static int fw_workloads(const struct manager *m, struct fw_workload **ret, size_t *ret_n)
{
	struct fw_workload *w = calloc(m->n_total + 1, sizeof(*w));
	size_t n = 0;

	if (!w)
		return -ENOMEM;
	for (unsigned b = 0; b < ATT_BUCKETS; b++)
		for (struct attachment *a = m->by_veth[b]; a; a = a->next_veth)
			if (have_mac(&a->rec) && n < m->n_total)
				fw_workload_of(&a->rec, &w[n++]);
	*ret = w;
	*ret_n = n;
	return 0;
}

/* Forwarding is per namespace; containers need it to leave the host.  Read first: where /proc/sys
 * is read-only (an unprivileged container that an init step prepared) a write would fail on every
 * reconcile; warn once. */
static void ensure_forwarding(struct manager *m)
{
	static bool warned;
	char *v = NULL;
	int fd;

	if (file_read_all("/proc/sys/net/ipv4/ip_forward", 16, &v, NULL) == 0 && v[0] == '1') {
		free(v);
		return;
	}
	free(v);
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if ((fd < 0 || write(fd, "1", 1) != 1) && !warned) {
		log_warn("failed to enable net.ipv4.ip_forward: %s; containers cannot leave this host", strerror(errno));
		warned = true;
	}
	if (fd >= 0)
		close(fd);
}

int attach_bridge_ensure(struct manager *m, bool startup)
{
	struct overlay_bridge b = { .name = m->cfg.bridge, .gateway = m->subnet.addr + 1, .prefixlen = m->subnet.len,
	                            .mtu = m->mtu };
	char err[OVERLAY_ERRLEN], s[CIDR4_STRLEN];
	int r, ifindex;

	manager_node_mac(m, "bridge", b.mac);
	r = overlay_bridge_ensure(m->nl, &b, &ifindex, err);
	if (r < 0) {
		log_error("failed to set up bridge: %s", err);
		return r;
	}
	if (!startup && ifindex != m->bridge_ifindex)
		log_warn("bridge %s was gone; recreated it (ifindex %d)", m->cfg.bridge, ifindex);
	m->bridge_ifindex = ifindex;
	ensure_forwarding(m);
	if (startup)
		log_info("bridge %s (ifindex %d) gateway %s, MTU %u", m->cfg.bridge, m->bridge_ifindex,
		         cidr4_format(&(struct cidr4){ .addr = b.gateway, .len = b.prefixlen }, s), m->mtu);
	return 0;
}

/* The nftables tables, with every attachment's anti-spoofing elements. */
int attach_fw_ensure(struct manager *m, bool startup)
{
	struct fw_config fw = { .network = m->cfg.network, .subnet = m->subnet, .masquerade = m->cfg.masquerade,
	                        .bridge = m->cfg.bridge, .antispoof = m->cfg.antispoof };
	char err[OVERLAY_ERRLEN];
	struct fw_workload *w = NULL;
	int r;

	r = fw_workloads(m, &w, &fw.n_workloads);
	if (r < 0)
		return r;
	fw.workloads = w;
	/* Compared first, so that a restart or a reconcile does not replace the tables needlessly. */
	r = fw_check(&fw, err, sizeof(err));
	if (r != FW_CHECK_IN_SYNC) {
		if (!startup)
			log_warn("nftables tables of shoal %s; reinstalling them (%s)",
			         r == FW_CHECK_ABSENT ? "were removed" : "differ", err);
		r = fw_apply(&fw, err, sizeof(err));
		if (r < 0)
			log_error("failed to install the nftables tables of shoal: %s", err);
	}
	free(w);
	if (r < 0)
		return r;
	if (startup)
		log_info("nftables: masquerade %s, anti-spoofing %s (%zu workloads)", m->cfg.masquerade ? "on" : "off",
		         m->cfg.antispoof ? "on" : "off", fw.n_workloads);
	return 0;
}

void attach_free_all(struct manager *m)
{
	for (unsigned b = 0; b < ATT_BUCKETS; b++)
		while (m->by_veth[b]) {
			struct attachment *a = m->by_veth[b];

			m->by_veth[b] = a->next_veth;
			free(a);
		}
	memset(m->by_key, 0, sizeof(m->by_key));
	free(m->quarantine.names);
	m->quarantine = (struct quarantine){ 0 };
}
