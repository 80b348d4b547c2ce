#include "overlay/peer.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/cidr.h"
#include "overlay/internal.h"
#include "overlay/rtneigh.h"
#include "overlay/rtroute.h"

/* ---- the plan (pure) ---- */

/* One sorted index per kind of key, searched per want: n log n with thousands of peers. */
struct key_index {
	uint64_t key;
	size_t i;
};

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = ((const struct key_index *)a)->key, y = ((const struct key_index *)b)->key;

	return x < y ? -1 : x > y;
}

static uint64_t mac_key(const uint8_t mac[PEER_MAC_LEN])
{
	uint64_t k = 0;

	for (int i = 0; i < PEER_MAC_LEN; i++)
		k = k << 8 | mac[i];
	return k;
}

static uint64_t prefix_key(uint32_t dst, uint8_t len)
{
	return (uint64_t)dst << 8 | len;
}

static struct key_index *index_new(size_t n)
{
	return calloc(n + 1, sizeof(struct key_index));
}

static const struct key_index *index_find(const struct key_index *idx, size_t n, uint64_t key)
{
	struct key_index k = { .key = key };

	return bsearch(&k, idx, n, sizeof(*idx), cmp_key);
}

static struct ipaddr gateway_of(const struct peer_want *w)
{
	return w->direct ? w->public_ip : IPADDR_V4(w->subnet);
}

struct plan {
	struct peer_action *v;
	size_t n, cap;
};

static int push(struct plan *p, enum peer_op op, size_t want, size_t obs)
{
	if (p->n == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 64;
		struct peer_action *nv = realloc(p->v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = c;
	}
	p->v[p->n++] = (struct peer_action){ .op = op, .want = want, .obs = obs };
	return 0;
}

int peer_plan(const struct peer_ctx *ctx, const struct peer_want *wants, size_t n_wants,
              const struct peer_observed *obs, struct peer_action **ret, size_t *ret_n)
{
	struct key_index *ni = index_new(obs->n_neighs), *fi = index_new(obs->n_fdbs), *ri = index_new(obs->n_routes);
	bool *n_claimed = calloc(obs->n_neighs + 1, 1), *f_claimed = calloc(obs->n_fdbs + 1, 1),
	     *r_claimed = calloc(obs->n_routes + 1, 1);
	/* Per want: which of its entries need a SET (bit 0 neighbour, 1 FDB, 2 route). */
	uint8_t *need = calloc(n_wants + 1, 1);
	struct plan p = { 0 };
	size_t nr = 0;
	int r = -ENOMEM;

	if (!ni || !fi || !ri || !n_claimed || !f_claimed || !r_claimed || !need)
		goto out;
	for (size_t i = 0; i < obs->n_neighs; i++)
		ni[i] = (struct key_index){ .key = obs->neighs[i].addr, .i = i };
	for (size_t i = 0; i < obs->n_fdbs; i++)
		fi[i] = (struct key_index){ .key = mac_key(obs->fdbs[i].mac), .i = i };
	/* Only metric 0 shares a key with what we add: another metric is a second route, a leftover. */
	for (size_t i = 0; i < obs->n_routes; i++)
		if (obs->routes[i].priority == 0)
			ri[nr++] = (struct key_index){ .key = prefix_key(obs->routes[i].dst, obs->routes[i].len), .i = i };
	qsort(ni, obs->n_neighs, sizeof(*ni), cmp_key);
	qsort(fi, obs->n_fdbs, sizeof(*fi), cmp_key);
	qsort(ri, nr, sizeof(*ri), cmp_key);

	for (size_t w = 0; w < n_wants; w++) {
		const struct peer_want *pw = &wants[w];
		int oif = pw->direct ? ctx->underlay_ifindex : ctx->vxlan_ifindex;
		const struct ipaddr gw = gateway_of(pw);
		const struct key_index *hit;

		hit = index_find(ri, nr, prefix_key(pw->subnet, pw->len));
		if (hit)
			r_claimed[hit->i] = true;
		if (!hit || !ipaddr_equal(&obs->routes[hit->i].gw, &gw) || obs->routes[hit->i].onlink != !pw->direct ||
		    obs->routes[hit->i].oif != oif)
			need[w] |= 4;
		if (pw->direct)
			continue;
		hit = index_find(ni, obs->n_neighs, pw->subnet);
		if (hit)
			n_claimed[hit->i] = true;
		if (!hit || !obs->neighs[hit->i].permanent || memcmp(obs->neighs[hit->i].mac, pw->mac, PEER_MAC_LEN) != 0)
			need[w] |= 1;
		hit = index_find(fi, obs->n_fdbs, mac_key(pw->mac));
		if (hit)
			f_claimed[hit->i] = true;
		if (!hit || !obs->fdbs[hit->i].permanent || !ipaddr_equal(&obs->fdbs[hit->i].dst, &pw->public_ip))
			need[w] |= 2;
	}
	for (size_t i = 0; i < obs->n_routes; i++)
		if (!r_claimed[i] && push(&p, PEER_ROUTE_DEL, 0, i) < 0)
			goto out;
	for (size_t i = 0; i < obs->n_neighs; i++)
		/* The kernel's own entries (resolving, stale) age out by themselves. */
		if (!n_claimed[i] && obs->neighs[i].permanent && push(&p, PEER_NEIGH_DEL, 0, i) < 0)
			goto out;
	for (size_t i = 0; i < obs->n_fdbs; i++)
		if (!f_claimed[i] && push(&p, PEER_FDB_DEL, 0, i) < 0)
			goto out;
	for (size_t w = 0; w < n_wants; w++)
		if ((need[w] & 1) && push(&p, PEER_NEIGH_SET, w, 0) < 0)
			goto out;
	for (size_t w = 0; w < n_wants; w++)
		if ((need[w] & 2) && push(&p, PEER_FDB_SET, w, 0) < 0)
			goto out;
	for (size_t w = 0; w < n_wants; w++)
		if ((need[w] & 4) && push(&p, PEER_ROUTE_SET, w, 0) < 0)
			goto out;
	*ret = p.v;
	*ret_n = p.n;
	p.v = NULL;
	r = 0;
out:
	free(p.v);
	free(ni);
	free(fi);
	free(ri);
	free(n_claimed);
	free(f_claimed);
	free(r_claimed);
	free(need);
	return r;
}

/* ---- observing ---- */

struct observe {
	const struct peer_ctx *ctx;
	struct peer_observed *o;
	size_t cap_n, cap_f, cap_r;
	bool oom;
};

static bool grow(void **v, size_t n, size_t *cap, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 32;
	p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct observe *ob = data;
	struct peer_observed *o = ob->o;
	struct rtneigh n;

	if (rtneigh_parse(nlh, &n) < 0 || n.ifindex != ob->ctx->vxlan_ifindex || n.dst_v6 || !n.dst)
		return MNL_CB_OK;
	if (!grow((void **)&o->neighs, o->n_neighs, &ob->cap_n, sizeof(*o->neighs))) {
		ob->oom = true;
		return MNL_CB_STOP;
	}
	o->neighs[o->n_neighs] = (struct peer_neigh){ .addr = n.dst, .permanent = n.state & NUD_PERMANENT };
	memcpy(o->neighs[o->n_neighs].mac, n.mac, PEER_MAC_LEN);
	o->n_neighs++;
	return MNL_CB_OK;
}

static int fdb_cb(const struct nlmsghdr *nlh, void *data)
{
	static const uint8_t zero[PEER_MAC_LEN];
	struct observe *ob = data;
	struct peer_observed *o = ob->o;
	struct rtneigh n;

	/* Flood (all-zero) and multicast entries are not per-peer entries: not ours to judge. */
	if (rtneigh_parse(nlh, &n) < 0 || n.family != AF_BRIDGE || n.ifindex != ob->ctx->vxlan_ifindex ||
	    !(n.flags & NTF_SELF) || !n.has_mac || (n.mac[0] & 1) || memcmp(n.mac, zero, PEER_MAC_LEN) == 0)
		return MNL_CB_OK;
	if (!grow((void **)&o->fdbs, o->n_fdbs, &ob->cap_f, sizeof(*o->fdbs))) {
		ob->oom = true;
		return MNL_CB_STOP;
	}
	o->fdbs[o->n_fdbs] = (struct peer_fdb){ .permanent = n.state & NUD_PERMANENT };
	if (n.dst_v6) {
		o->fdbs[o->n_fdbs].dst.family = AF_INET6;
		memcpy(o->fdbs[o->n_fdbs].dst.v6, n.dst6, 16);
	} else if (n.dst) {
		o->fdbs[o->n_fdbs].dst = IPADDR_V4(n.dst);
	}
	memcpy(o->fdbs[o->n_fdbs].mac, n.mac, PEER_MAC_LEN);
	o->n_fdbs++;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct observe *ob = data;
	struct peer_observed *o = ob->o;
	struct rtroute r;

	if (rtroute_parse(nlh, &r) < 0 || r.protocol != RTROUTE_PROTO_SHOAL || r.table != RT_TABLE_MAIN ||
	    r.type != RTN_UNICAST)
		return MNL_CB_OK;
	if (!grow((void **)&o->routes, o->n_routes, &ob->cap_r, sizeof(*o->routes))) {
		ob->oom = true;
		return MNL_CB_STOP;
	}
	o->routes[o->n_routes++] = (struct peer_route){ .dst = r.dst, .len = r.dst_len,
	                                                .gw = r.gw ? IPADDR_V4(r.gw) : r.via, .oif = r.oif,
	                                                .onlink = r.onlink, .priority = r.priority };
	return MNL_CB_OK;
}

/* An interrupted dump starts again: forget what the first attempt collected. */
static void neigh_reset(void *data) { ((struct observe *)data)->o->n_neighs = 0; }
static void fdb_reset(void *data) { ((struct observe *)data)->o->n_fdbs = 0; }
static void route_reset(void *data) { ((struct observe *)data)->o->n_routes = 0; }

int peer_observe(struct nlsock *s, const struct peer_ctx *ctx, struct peer_observed *ret, char err[OVERLAY_ERRLEN])
{
	struct peer_observed o = { 0 };
	struct observe ob = { .ctx = ctx, .o = &o };
	char buf[64] = { 0 }, kerr[NLSOCK_ERRLEN];
	const char *what;
	int r;

	what = "dump IPv4 neighbours";
	r = rtneigh_build_dump(buf, sizeof(buf), 0, AF_INET);
	if (r >= 0 && ctx->vxlan_ifindex > 0)
		r = nlsock_query(s, buf, neigh_cb, neigh_reset, &ob, kerr);
	if (r >= 0 && !ob.oom) {
		what = "dump the bridge FDB";
		r = rtneigh_build_dump(buf, sizeof(buf), 0, AF_BRIDGE);
		if (r >= 0 && ctx->vxlan_ifindex > 0)
			r = nlsock_query(s, buf, fdb_cb, fdb_reset, &ob, kerr);
	}
	if (r >= 0 && !ob.oom) {
		what = "dump IPv4 routes";
		r = rtroute_build_dump_proto(buf, sizeof(buf), 0, RTROUTE_PROTO_SHOAL);
		if (r >= 0)
			r = nlsock_query(s, buf, route_cb, route_reset, &ob, kerr);
	}
	if (r >= 0 && ob.oom)
		r = -ENOMEM;
	if (r < 0) {
		overlay_fmt_err(err, r, kerr, "%s", what);
		peer_observed_done(&o);
		return r;
	}
	*ret = o;
	return 0;
}

void peer_observed_done(struct peer_observed *o)
{
	if (!o)
		return;
	free(o->neighs);
	free(o->fdbs);
	free(o->routes);
	*o = (struct peer_observed){ 0 };
}

/* ---- applying ---- */

/* Messages per sendmsg: each is under 100 bytes, so a batch stays far below the socket's send
 * buffer, and one failure report never waits behind thousands of others. */
#define BATCH_MSGS 128
#define BATCH_BYTES (BATCH_MSGS * 128)

/* gw into an IPv4 route: RTA_GATEWAY, or RTA_VIA for an IPv6 one. */
static void route_set_gw(struct rtroute *r, const struct ipaddr *gw)
{
	if (gw->family == AF_INET)
		r->gw = gw->v4;
	else if (gw->family == AF_INET6)
		r->via = *gw;
}

static void route_of_want(const struct peer_ctx *ctx, const struct peer_want *w, struct rtroute *r)
{
	const struct ipaddr gw = gateway_of(w);

	*r = (struct rtroute){ .dst = w->subnet, .dst_len = w->len,
	                       .oif = w->direct ? ctx->underlay_ifindex : ctx->vxlan_ifindex,
	                       .protocol = RTROUTE_PROTO_SHOAL, .onlink = !w->direct };
	route_set_gw(r, &gw);
}

static int build_action(void *buf, size_t buflen, uint32_t seq, const struct peer_ctx *ctx,
                        const struct peer_want *wants, const struct peer_observed *obs, const struct peer_action *a)
{
	const struct peer_want *w = wants ? &wants[a->want] : NULL;
	struct rtroute r;

	switch (a->op) {
	case PEER_ROUTE_DEL: {
		const struct peer_route *o = &obs->routes[a->obs];

		/* The protocol is part of the match: the kernel deletes this route only if it is ours. */
		r = (struct rtroute){ .dst = o->dst, .dst_len = o->len, .oif = o->oif, .protocol = RTROUTE_PROTO_SHOAL,
		                      .onlink = o->onlink, .priority = o->priority };
		route_set_gw(&r, &o->gw);
		return rtroute_build(buf, buflen, seq, RTM_DELROUTE, &r);
	}
	case PEER_NEIGH_DEL:
		return rtneigh_build_neigh(buf, buflen, seq, RTM_DELNEIGH, ctx->vxlan_ifindex, obs->neighs[a->obs].addr,
		                           obs->neighs[a->obs].mac);
	case PEER_FDB_DEL:
		return rtneigh_build_fdb(buf, buflen, seq, RTM_DELNEIGH, ctx->vxlan_ifindex, obs->fdbs[a->obs].mac, NULL);
	case PEER_NEIGH_SET:
		return rtneigh_build_neigh(buf, buflen, seq, RTM_NEWNEIGH, ctx->vxlan_ifindex, w->subnet, w->mac);
	case PEER_FDB_SET:
		return rtneigh_build_fdb(buf, buflen, seq, RTM_NEWNEIGH, ctx->vxlan_ifindex, w->mac, &w->public_ip);
	case PEER_ROUTE_SET:
		route_of_want(ctx, w, &r);
		return rtroute_build(buf, buflen, seq, RTM_NEWROUTE, &r);
	}
	return -EINVAL;
}

static bool is_del(enum peer_op op)
{
	return op == PEER_ROUTE_DEL || op == PEER_NEIGH_DEL || op == PEER_FDB_DEL;
}

int peer_apply(struct nlsock *s, const struct peer_ctx *ctx, const struct peer_want *wants,
               const struct peer_observed *obs, const struct peer_action *acts, size_t n, int *errs,
               char err[NLSOCK_ERRLEN])
{
	char buf[BATCH_BYTES], kerr[NLSOCK_ERRLEN];
	int first = 0;

	err[0] = '\0';
	for (size_t i = 0; i < n; i++)
		errs[i] = -ECANCELED;
	for (size_t start = 0; start < n;) {
		uint32_t first_seq = nlsock_next_seq(s), seq = first_seq;
		size_t len = 0, k = start;
		int r;

		/* Fill the batch until a message would not fit. */
		for (; k < n && k - start < BATCH_MSGS; k++) {
			int l = build_action(buf + len, sizeof(buf) - len, seq, ctx, wants, obs, &acts[k]);

			if (l == -ENOBUFS && k > start)
				break;
			if (l < 0)
				return l;
			len += MNL_ALIGN((size_t)l);
			seq = nlsock_next_seq(s);
		}
		r = nlsock_transact_each(s, buf, len, first_seq, (unsigned)(k - start), errs + start, kerr);
		if (r == -ETIMEDOUT || (r < 0 && errs[start] == -ECANCELED)) {
			snprintf(err, NLSOCK_ERRLEN, "%s", kerr);
			return r;
		}
		for (size_t j = start; j < k; j++) {
			if (is_del(acts[j].op) && (errs[j] == -ENOENT || errs[j] == -ESRCH))
				errs[j] = 0;   /* already gone */
			if (errs[j] < 0 && !first) {
				first = errs[j];
				snprintf(err, NLSOCK_ERRLEN, "%s", kerr);
			}
		}
		start = k;
	}
	return first;
}

void peer_action_format(const struct peer_action *a, const struct peer_want *wants, const struct peer_observed *obs,
                        const char *vxlan_name, const char *underlay_name, char *out, size_t len)
{
	char ip1[IP4_STRLEN], ip2[IPADDR_STRLEN], mac[18];
	const struct peer_want *w = wants ? &wants[a->want] : NULL;
	const uint8_t *m = NULL;
	struct ipaddr gw;

	switch (a->op) {
	case PEER_ROUTE_DEL: {
		const struct peer_route *o = &obs->routes[a->obs];

		snprintf(out, len, "delete route %s/%u%s%s%s (ifindex %d)%s", ip4_format(o->dst, ip1), o->len,
		         o->gw.family ? " via " : "", o->gw.family == AF_INET6 ? "inet6 " : "", ipaddr_format(&o->gw, ip2),
		         o->oif, o->onlink ? " onlink" : "");
		return;
	}
	case PEER_NEIGH_DEL:
		snprintf(out, len, "delete neighbour %s dev %s", ip4_format(obs->neighs[a->obs].addr, ip1), vxlan_name);
		return;
	case PEER_FDB_DEL:
		m = obs->fdbs[a->obs].mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		snprintf(out, len, "delete FDB entry %s dev %s", mac, vxlan_name);
		return;
	case PEER_NEIGH_SET:
	case PEER_FDB_SET:
		m = w->mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		if (a->op == PEER_NEIGH_SET)
			snprintf(out, len, "add neighbour %s lladdr %s dev %s", ip4_format(w->subnet, ip1), mac, vxlan_name);
		else
			snprintf(out, len, "add FDB entry %s dst %s dev %s", mac, ipaddr_format(&w->public_ip, ip2), vxlan_name);
		return;
	case PEER_ROUTE_SET:
		gw = gateway_of(w);
		snprintf(out, len, "add route %s/%u via %s%s dev %s%s", ip4_format(w->subnet, ip1), w->len,
		         gw.family == AF_INET6 ? "inet6 " : "", ipaddr_format(&gw, ip2),
		         w->direct ? underlay_name : vxlan_name, w->direct ? "" : " onlink");
		return;
	}
	snprintf(out, len, "unknown action %d", (int)a->op);
}
