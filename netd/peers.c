/* Peers: the store's subnet leases of other nodes -> VXLAN neighbour, FDB and route entries.
 *
 * The desired state is this file's copy of every "subnets/" key, kept current by the watch; the
 * kernel's entries are observed afresh for every run, so a run repairs whatever changed under us
 * (an entry deleted by hand, a device recreated) as well as what the store said.  Store callbacks
 * get the manager as userdata: it outlives the store (manager_free frees the store first). */
#include "netd/peers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lib/log.h"
#include "lib/names.h"
#include "netd/netd.h"
#include "netd/records.h"
#include "overlay/host.h"
#include "overlay/vxlan.h"

#define SUBNETS_PREFIX "subnets/"

/* One other node as the last run saw it (the API's "hosts"). */
struct peer_status {
	char node[64];
	struct cidr4 subnet;
	char public_ip[RECORD_PUBLIC_IP_SIZE];
	char vtep_mac[18];
	const char *mode;            /* "vxlan", "direct", "" (unusable record) */
	bool programmed;             /* every entry it needs is in the kernel */
	char error[PEERS_WHY_SIZE + 64];
};

struct peers {
	bool enabled;                /* an underlay was found: VXLAN device and peers */
	bool left;                   /* this node left the cluster: no peers until restart */
	struct overlay_underlay underlay;
	char vxlan[RTLINK_NAME_SIZE];
	int vxlan_ifindex;
	/* The store's "subnets/" as last listed and watched, in no particular order. */
	struct store_kv *kvs;
	size_t n, cap;
	int64_t revision;
	struct store_watch *watch;
	bool listing;                /* an asynchronous re-list is running */
	bool stopped;                /* shoald is stopping: a listing that still arrives starts no watch */
	/* Rejected records already reported: hashes of (key, mod_rev), so each is logged once. */
	uint64_t *logged;
	size_t n_logged;
	/* The last run's view of every other node, for the API. */
	struct peer_status *status;
	size_t n_status;
};

/* ---- pure: records to desired peers ---- */

static int mac_parse(const char *s, uint8_t ret[PEER_MAC_LEN])
{
	unsigned v[6];
	int n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &n) != 6 || n != 17 ||
	    s[n] != '\0')
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)v[i];
	return 0;
}

static int reject(struct peers_reject **v, size_t *n, size_t *cap, size_t kv, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int reject(struct peers_reject **v, size_t *n, size_t *cap, size_t kv, const char *fmt, ...)
{
	va_list ap;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct peers_reject *p = realloc(*v, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[*n].kv = kv;
	va_start(ap, fmt);
	vsnprintf((*v)[*n].why, PEERS_WHY_SIZE, fmt, ap);
	va_end(ap);
	(*n)++;
	return 0;
}

int peers_desired(const struct peers_self *self, const struct store_kv *kvs, size_t n, struct peer_want **ret,
                  size_t *ret_n, struct peers_reject **ret_rejects, size_t *ret_n_rejects)
{
	struct peer_want *w = calloc(n + 1, sizeof(*w));
	struct peers_reject *rej = NULL;
	size_t nw = 0, nr = 0, cr = 0;
	int r = -ENOMEM;

	if (!w)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *key = kvs[i].key;
		struct record_subnet rec;
		char err[RECORD_ERRLEN];
		struct peer_want p = { 0 };
		char self_ip[IPADDR_STRLEN];
		struct cidr4 c;
		bool dup = false;

		if (strncmp(key, SUBNETS_PREFIX, strlen(SUBNETS_PREFIX)) != 0 ||
		    cidr4_parse_key(key + strlen(SUBNETS_PREFIX), &c) < 0) {
			if (reject(&rej, &nr, &cr, i, "the key is not a subnet (a.b.c.d-len)") < 0)
				goto fail;
			continue;
		}
		if (c.len != self->subnet_len || !cidr4_contains_prefix(&self->network, &c)) {
			if (reject(&rej, &nr, &cr, i, "not a /%u subnet of the cluster network", self->subnet_len) < 0)
				goto fail;
			continue;
		}
		if (record_subnet_parse(kvs[i].value, kvs[i].value_len, &rec, err) < 0) {
			if (reject(&rej, &nr, &cr, i, "%s", err) < 0)
				goto fail;
			continue;
		}
		if (strcmp(rec.node, self->node) == 0 ||
		    (c.addr == self->own_subnet.addr && c.len == self->own_subnet.len))
			continue;   /* ours: reached through the bridge */
		if (!rec.public_ip[0] || !rec.vtep_mac[0]) {
			if (reject(&rej, &nr, &cr, i, "node %s published no %s (it has no underlay)", rec.node,
			           !rec.public_ip[0] ? "publicIP" : "vtepMAC") < 0)
				goto fail;
			continue;
		}
		p.subnet = c.addr;
		p.len = c.len;
		/* A VTEP address must be one a packet can be sent to (no 0/8, loopback, multicast,
		 * broadcast; no IPv6 link-local, which would need a scope). */
		if (ipaddr_parse(rec.public_ip, &p.public_ip) < 0 || !ipaddr_is_unicast(&p.public_ip) ||
		    ipaddr_equal(&p.public_ip, &self->underlay_addr)) {
			if (reject(&rej, &nr, &cr, i, "node %s: publicIP %s is not a peer's address", rec.node,
			           rec.public_ip) < 0)
				goto fail;
			continue;
		}
		/* shoal.<vni> is an IPv4 or an IPv6 device (IFLA_VXLAN_LOCAL or _LOCAL6): it has a socket of
		 * that family only and cannot reach a VTEP of the other. */
		if (self->underlay_addr.family && p.public_ip.family != self->underlay_addr.family) {
			if (reject(&rej, &nr, &cr, i, "node %s: publicIP %s is %s but this node's underlay %s is %s; VXLAN "
			           "cannot cross address families", rec.node, rec.public_ip,
			           ipaddr_family_name(&p.public_ip), ipaddr_format(&self->underlay_addr, self_ip),
			           ipaddr_family_name(&self->underlay_addr)) < 0)
				goto fail;
			continue;
		}
		if (mac_parse(rec.vtep_mac, p.mac) < 0 || (p.mac[0] & 1)) {
			if (reject(&rej, &nr, &cr, i, "node %s: vtepMAC %s is not a unicast MAC", rec.node, rec.vtep_mac) < 0)
				goto fail;
			continue;
		}
		/* One FDB entry per MAC: a second node with the same VTEP MAC cannot be told apart. */
		for (size_t j = 0; j < nw && !dup; j++)
			dup = memcmp(w[j].mac, p.mac, PEER_MAC_LEN) == 0;
		if (dup) {
			if (reject(&rej, &nr, &cr, i, "node %s: vtepMAC %s is another node's too", rec.node, rec.vtep_mac) < 0)
				goto fail;
			continue;
		}
		/* Direct routing needs the peer on the underlay's own link: inside its prefix (so also of
		 * its family).  An IPv6 peer gets an IPv4 route via inet6 (RTA_VIA). */
		p.direct = self->direct_routing &&
		           ipaddr_same_prefix(&self->underlay_addr, &p.public_ip, self->underlay_prefixlen);
		w[nw++] = p;
	}
	*ret = w;
	*ret_n = nw;
	*ret_rejects = rej;
	*ret_n_rejects = nr;
	return 0;
fail:
	free(w);
	free(rej);
	return r;
}

/* ---- the store's copy ---- */

static struct peers *P(const struct manager *m)
{
	return m->peers;
}

static void kvs_clear(struct peers *p)
{
	for (size_t i = 0; i < p->n; i++)
		store_kv_done(&p->kvs[i]);
	p->n = 0;
}

static ssize_t kvs_find(const struct peers *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->kvs[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

static int kv_copy(const struct store_kv *src, struct store_kv *dst)
{
	struct store_kv kv = *src;

	kv.key = strdup(src->key);
	kv.value = malloc(src->value_len + 1);
	if (!kv.key || !kv.value) {
		free(kv.key);
		free(kv.value);
		return -ENOMEM;
	}
	memcpy(kv.value, src->value ? src->value : "", src->value_len);
	kv.value[src->value_len] = '\0';
	*dst = kv;
	return 0;
}

/* Every allocation comes before the copy changes: out of memory leaves it as it was. */
static int kvs_put(struct peers *p, const struct store_kv *kv)
{
	ssize_t i = kvs_find(p, kv->key);
	struct store_kv copy;

	if (kv_copy(kv, &copy) < 0)
		return -ENOMEM;
	if (i >= 0) {
		store_kv_done(&p->kvs[i]);
		p->kvs[i] = copy;
		return 0;
	}
	if (p->n == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 32;
		struct store_kv *v = realloc(p->kvs, c * sizeof(*v));

		if (!v) {
			store_kv_done(&copy);
			return -ENOMEM;
		}
		p->kvs = v;
		p->cap = c;
	}
	p->kvs[p->n++] = copy;
	return 0;
}

static void kvs_del(struct peers *p, const char *key)
{
	ssize_t i = kvs_find(p, key);

	if (i < 0)
		return;
	store_kv_done(&p->kvs[i]);
	p->kvs[i] = p->kvs[--p->n];
}

static int kvs_replace(struct peers *p, const struct store_kvs *list)
{
	struct store_kv *v = calloc(list->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (; n < list->n; n++)
		if (kv_copy(&list->kvs[n], &v[n]) < 0)
			break;
	if (n < list->n) {
		while (n > 0)
			store_kv_done(&v[--n]);
		free(v);
		return -ENOMEM;
	}
	kvs_clear(p);
	free(p->kvs);
	p->kvs = v;
	p->n = p->cap = list->n;
	if (p->cap == 0)
		p->cap = 1;   /* calloc'd one slot */
	p->revision = list->revision;
	return 0;
}

/* ---- one run: desired against observed ---- */

static uint64_t reject_hash(const struct store_kv *kv)
{
	return names_hash(kv->key, strlen(kv->key), (uint64_t)kv->mod_rev);
}

/* Report each bad record once (per version of it), not on every run. */
static void report_rejects(struct peers *p, const struct peers_reject *rej, size_t n)
{
	uint64_t *now = calloc(n + 1, sizeof(*now));

	for (size_t i = 0; i < n; i++) {
		const struct store_kv *kv = &p->kvs[rej[i].kv];
		uint64_t h = reject_hash(kv);
		bool seen = false;

		for (size_t j = 0; j < p->n_logged && !seen; j++)
			seen = p->logged[j] == h;
		if (!seen)
			log_warn("ignoring store record %s (revision %lld): %s", kv->key, (long long)kv->mod_rev, rej[i].why);
		if (now)
			now[i] = h;
	}
	if (!now)
		return;   /* no memory: the same warnings again next time */
	free(p->logged);
	p->logged = now;
	p->n_logged = n;
}

/* Every other node's record with what the plan made of it: wanted (programmed until an action for
 * it fails) or rejected (with the reason).  ret_of_want[i] is the status index of wants[i].  On out
 * of memory the previous view stays. */
static int status_build(struct peers *p, const struct peers_self *self, const struct peer_want *wants, size_t n_wants,
                        const struct peers_reject *rej, size_t n_rej, size_t **ret_of_want)
{
	struct peer_status *st = calloc(p->n + 1, sizeof(*st));
	size_t *of_want = calloc(n_wants + 1, sizeof(*of_want));
	size_t n = 0;

	if (!st || !of_want) {
		free(st);
		free(of_want);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct store_kv *kv = &p->kvs[i];
		struct peer_status *e = &st[n];
		struct record_subnet rec = { 0 };
		char err[RECORD_ERRLEN];
		bool found = false;

		if (strncmp(kv->key, SUBNETS_PREFIX, strlen(SUBNETS_PREFIX)) != 0 ||
		    cidr4_parse_key(kv->key + strlen(SUBNETS_PREFIX), &e->subnet) < 0)
			continue;
		(void)record_subnet_parse(kv->value, kv->value_len, &rec, err);
		if (strcmp(rec.node, self->node) == 0 ||
		    (e->subnet.addr == self->own_subnet.addr && e->subnet.len == self->own_subnet.len))
			continue;
		snprintf(e->node, sizeof(e->node), "%s", rec.node);
		snprintf(e->public_ip, sizeof(e->public_ip), "%s", rec.public_ip);
		snprintf(e->vtep_mac, sizeof(e->vtep_mac), "%s", rec.vtep_mac);
		e->mode = "";
		for (size_t w = 0; w < n_wants && !found; w++)
			if (wants[w].subnet == e->subnet.addr && wants[w].len == e->subnet.len) {
				found = true;
				e->mode = wants[w].direct ? "direct" : "vxlan";
				e->programmed = true;
				of_want[w] = n;
			}
		for (size_t r = 0; r < n_rej && !found; r++)
			if (rej[r].kv == i) {
				found = true;
				snprintf(e->error, sizeof(e->error), "%s", rej[r].why);
			}
		n++;
	}
	free(p->status);
	p->status = st;
	p->n_status = n;
	*ret_of_want = of_want;
	return 0;
}

static void status_fail_all(struct peers *p, const char *why)
{
	for (size_t i = 0; i < p->n_status; i++)
		if (p->status[i].mode[0]) {
			p->status[i].programmed = false;
			snprintf(p->status[i].error, sizeof(p->status[i].error), "cannot read the kernel's entries: %s", why);
		}
}

static void run(struct manager *m, const char *why)
{
	struct peers *p = P(m);
	struct peers_self self = { .node = m->cfg.node, .network = m->cfg.network, .subnet_len = m->cfg.subnet_len,
	                           .own_subnet = m->subnet, .underlay_addr = p->underlay.addr,
	                           .underlay_prefixlen = p->underlay.prefixlen,
	                           .direct_routing = m->cfg.direct_routing };
	struct peer_ctx ctx = { .vxlan_ifindex = p->vxlan_ifindex, .underlay_ifindex = p->underlay.ifindex };
	struct peer_observed obs = { 0 };
	struct peer_want *wants = NULL;
	struct peers_reject *rej = NULL;
	struct peer_action *acts = NULL;
	size_t n_wants = 0, n_rej = 0, n_acts = 0, failed = 0;
	char err[OVERLAY_ERRLEN], kerr[NLSOCK_ERRLEN];
	size_t *of_want = NULL;
	int *errs = NULL, r;

	r = peers_desired(&self, p->kvs, p->n, &wants, &n_wants, &rej, &n_rej);
	if (r < 0) {
		log_error("failed to reconcile peers (%s): out of memory", why);
		return;
	}
	report_rejects(p, rej, n_rej);
	if (status_build(p, &self, wants, n_wants, rej, n_rej, &of_want) < 0)
		log_warn("out of memory recording the peers' state for the API; it shows the previous run");
	r = peer_observe(m->nl, &ctx, &obs, err);
	if (r < 0) {
		log_error("failed to reconcile peers (%s): %s", why, err);
		status_fail_all(p, err);
		goto out;
	}
	r = peer_plan(&ctx, wants, n_wants, &obs, &acts, &n_acts);
	if (r < 0) {
		log_error("failed to reconcile peers (%s): out of memory", why);
		goto out;
	}
	if (n_acts == 0)
		goto out;
	errs = calloc(n_acts, sizeof(*errs));
	if (!errs) {
		log_error("failed to reconcile peers (%s): out of memory", why);
		goto out;
	}
	peer_apply(m->nl, &ctx, wants, &obs, acts, n_acts, errs, kerr);
	for (size_t i = 0; i < n_acts; i++) {
		char what[200];

		peer_action_format(&acts[i], wants, &obs, p->vxlan, p->underlay.name, what, sizeof(what));
		if (errs[i] < 0) {
			/* The kernel's text belongs to the first failure only. */
			bool first = failed++ == 0;

			log_error("failed to %s: %s%s%s%s", what, strerror(-errs[i]), first && kerr[0] ? " (kernel: " : "",
			          first ? kerr : "", first && kerr[0] ? ")" : "");
			if (of_want && acts[i].op >= PEER_NEIGH_SET && acts[i].want < n_wants) {
				struct peer_status *e = &p->status[of_want[acts[i].want]];

				e->programmed = false;
				snprintf(e->error, sizeof(e->error), "failed to %s: %s", what, strerror(-errs[i]));
			}
		} else {
			log_info("peers (%s): %s", why, what);
		}
	}
	if (failed)
		log_warn("peers (%s): %zu of %zu changes failed; the next reconcile retries", why, failed, n_acts);
out:
	free(of_want);
	free(errs);
	free(acts);
	peer_observed_done(&obs);
	free(wants);
	free(rej);
}

/* ---- the store: listing and watching ---- */

static void watch_start(struct manager *m);
static void list_async(struct manager *m);

static void on_watch(void *userdata, const struct store_event *events, size_t n, int err)
{
	struct manager *m = userdata;
	struct peers *p = P(m);
	bool oom = false;

	if (err < 0) {
		/* -ECANCELED: our revision was compacted away.  Anything else: the watch cannot be
		 * trusted to have delivered everything.  Either way, list again and watch from there. */
		if (err == -ECANCELED)
			log_info("watch of %s was compacted; listing the peers again", SUBNETS_PREFIX);
		else
			log_warn("watch of %s failed: %s; listing the peers again", SUBNETS_PREFIX, strerror(-err));
		store_watch_cancel(p->watch);
		p->watch = NULL;
		list_async(m);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (events[i].type == STORE_EVENT_PUT)
			oom |= kvs_put(p, &events[i].kv) < 0;
		else
			kvs_del(p, events[i].kv.key);
		if (events[i].kv.mod_rev > p->revision)
			p->revision = events[i].kv.mod_rev;
	}
	if (oom) {
		/* An event we could not keep: our copy is incomplete.  Start over from a listing. */
		log_error("out of memory keeping the store's subnets; listing them again");
		store_watch_cancel(p->watch);
		p->watch = NULL;
		list_async(m);
		return;
	}
	run(m, "store change");
}

static void watch_start(struct manager *m)
{
	struct peers *p = P(m);
	int r;

	r = store_watch(m->store, SUBNETS_PREFIX, p->revision, on_watch, m, &p->watch);
	if (r < 0) {
		p->watch = NULL;
		log_error("failed to watch %s in store %s: %s; the reconcile timer retries", SUBNETS_PREFIX,
		          m->cfg.store, strerror(-r));
	}
}

static void on_list(void *userdata, int err, const struct store_kvs *kvs)
{
	struct manager *m = userdata;
	struct peers *p;

	if (err == -ECANCELED)
		return;   /* the store is going away */
	p = P(m);
	p->listing = false;
	if (p->left || p->stopped)
		return;   /* left the cluster while listing: stay without peers; or stopping: a new watch
		           * would keep the loop alive */
	if (err < 0) {
		log_warn("failed to list %s in store %s: %s; the reconcile timer retries", SUBNETS_PREFIX, m->cfg.store,
		         strerror(-err));
		return;
	}
	if (kvs_replace(p, kvs) < 0) {
		log_error("out of memory copying the store's subnets; the reconcile timer retries");
		return;
	}
	run(m, "store listing");
	watch_start(m);
}

static void list_async(struct manager *m)
{
	struct peers *p = P(m);
	int r;

	if (p->listing)
		return;
	r = store_list_async(m->store, SUBNETS_PREFIX, on_list, m);
	if (r < 0) {
		log_warn("failed to list %s in store %s: %s; the reconcile timer retries", SUBNETS_PREFIX, m->cfg.store,
		         strerror(-r));
		return;
	}
	p->listing = true;
}

/* ---- the VXLAN device ---- */

static int vxlan_up(struct manager *m, bool startup)
{
	struct peers *p = P(m);
	struct vxlan_link v = { .vni = m->vni, .local = p->underlay.addr, .link = p->underlay.ifindex,
	                        .port = m->vxlan_port, .mtu = m->mtu, .up = true };
	char err[OVERLAY_ERRLEN], ip[IPADDR_STRLEN];
	bool replaced;
	int r, ifindex;

	vxlan_name(m->vni, v.name);
	snprintf(p->vxlan, sizeof(p->vxlan), "%s", v.name);
	manager_node_mac(m, "vtep", v.mac);
	r = vxlan_ensure(m->nl, &v, &ifindex, &replaced, err);
	if (r < 0) {
		log_error("failed to set up the VXLAN device: %s", err);
		return r;
	}
	if (replaced)
		log_warn("%s; replaced it (vni %u local %s dev %s dstport %u)", err, v.vni, ipaddr_format(&v.local, ip),
		         p->underlay.name, v.port);
	else if (!startup && ifindex != p->vxlan_ifindex)
		log_warn("VXLAN device %s was gone; recreated it (ifindex %d)", v.name, ifindex);
	if (startup)
		log_info("VXLAN device %s (ifindex %d): vni %u, local %s dev %s, port %u, MTU %u", v.name, ifindex, v.vni,
		         ipaddr_format(&v.local, ip), p->underlay.name, v.port, v.mtu);
	p->vxlan_ifindex = ifindex;
	return 0;
}

/* ---- lifecycle ---- */

int peers_underlay(struct manager *m)
{
	struct peers *p = calloc(1, sizeof(*p));
	char err[OVERLAY_ERRLEN], ip[IPADDR_STRLEN];
	int r;

	if (!p)
		return -ENOMEM;
	m->peers = p;
	r = overlay_underlay_addr(m->nl, m->cfg.underlay, &p->underlay, err);
	if (r < 0 && !m->cfg.underlay[0]) {
		log_warn("no underlay (%s): this node runs alone, without VXLAN or peers (set \"underlay\")", err);
		return 0;
	}
	if (r < 0) {
		log_error("failed to find the underlay: %s", err);
		return r;
	}
	p->enabled = true;
	log_info("underlay %s, %s address %s/%u, MTU %u", p->underlay.name, ipaddr_family_name(&p->underlay.addr),
	         ipaddr_format(&p->underlay.addr, ip), p->underlay.prefixlen, p->underlay.mtu);
	return 0;
}

uint32_t peers_public_ip(const struct manager *m)
{
	return peers_underlay_family(m) == AF_INET ? P(m)->underlay.addr.v4 : 0;
}

const char *peers_public_addr(const struct manager *m, char buf[IPADDR_STRLEN])
{
	buf[0] = '\0';
	return peers_enabled(m) ? ipaddr_format(&P(m)->underlay.addr, buf) : buf;
}

int peers_underlay_family(const struct manager *m)
{
	return peers_enabled(m) ? P(m)->underlay.addr.family : 0;
}

uint32_t peers_underlay_mtu(const struct manager *m)
{
	return P(m) && P(m)->enabled ? P(m)->underlay.mtu : 0;
}

int peers_start(struct manager *m)
{
	struct peers *p = P(m);
	struct store_kvs kvs;
	int r;

	if (!p || !p->enabled)
		return 0;
	r = vxlan_up(m, true);
	if (r < 0)
		return r;
	/* One snapshot programs every peer; the watch continues from its revision, so no change
	 * falls between the two. */
	r = store_list(m->store, SUBNETS_PREFIX, &kvs);
	if (r < 0) {
		log_error("failed to list %s in store %s: %s", SUBNETS_PREFIX, m->cfg.store, strerror(-r));
		return r;
	}
	r = kvs_replace(p, &kvs);
	store_kvs_done(&kvs);
	if (r < 0) {
		log_error("out of memory copying the store's subnets");
		return r;
	}
	run(m, "start");
	watch_start(m);
	return 0;
}

void peers_reconcile(struct manager *m)
{
	struct peers *p = P(m);

	if (!p || !p->enabled)
		return;
	if (vxlan_up(m, false) < 0)
		return;
	run(m, "timer");
	if (!p->watch && !p->left)
		list_async(m);   /* it reconciles again with what it finds, then watches */
}

void peers_leave(struct manager *m)
{
	struct peers *p = P(m);

	if (!p)
		return;
	p->left = true;
	store_watch_cancel(p->watch);
	p->watch = NULL;
	kvs_clear(p);
	if (p->enabled)
		run(m, "left the cluster");   /* nothing desired: every entry of ours goes */
}

json_t *peers_hosts(const struct manager *m)
{
	const struct peers *p = P(m);
	json_t *list = json_array();

	for (size_t i = 0; list && p && i < p->n_status; i++) {
		const struct peer_status *e = &p->status[i];
		char s[CIDR4_STRLEN];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "node", e->node, "subnet",
		                      cidr4_format(&e->subnet, s), "publicIP", e->public_ip, "vtepMAC", e->vtep_mac,
		                      "mode", e->mode, "programmed", e->programmed, "error", e->error);

		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

bool peers_enabled(const struct manager *m)
{
	return P(m) && P(m)->enabled;
}

const char *peers_underlay_name(const struct manager *m)
{
	return peers_enabled(m) ? P(m)->underlay.name : "";
}

const char *peers_vxlan_name(const struct manager *m)
{
	return peers_enabled(m) ? P(m)->vxlan : "";
}

void peers_stop(struct manager *m)
{
	struct peers *p = P(m);

	if (!p)
		return;
	p->stopped = true;
	store_watch_cancel(p->watch);
	p->watch = NULL;
}

void peers_free(struct manager *m)
{
	struct peers *p = P(m);

	if (!p)
		return;
	kvs_clear(p);
	free(p->kvs);
	free(p->logged);
	free(p->status);
	free(p);
	m->peers = NULL;
}
