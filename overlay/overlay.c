#include "overlay/overlay.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "lib/cidr.h"
#include "overlay/internal.h"
#include "overlay/rtaddr.h"
#include "overlay/rtroute.h"

void overlay_fmt_err(char err[OVERLAY_ERRLEN], int r, const char *kernel, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (kernel && kernel[0])
		snprintf(err, OVERLAY_ERRLEN, "%s: %s (kernel: %s)", what, strerror(-r), kernel);
	else
		snprintf(err, OVERLAY_ERRLEN, "%s: %s", what, strerror(-r));
}

int overlay_transact1(struct nlsock *s, void *buf, int len, char kerr[NLSOCK_ERRLEN])
{
	const struct nlmsghdr *nlh = buf;

	if (len < 0)
		return len;
	return nlsock_transact(s, buf, (size_t)len, nlh->nlmsg_seq, 1, NULL, kerr);
}

static int get_link_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtlink_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int link_get(struct nlsock *s, int ifindex, const char *name, struct rtlink_info *ret)
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	struct rtlink_info info = { 0 };
	int r;

	r = rtlink_build_get(buf, sizeof(buf), 0, ifindex, name);
	if (r < 0)
		return r;
	r = nlsock_query(s, buf, get_link_cb, NULL, &info, kerr);
	if (r < 0)
		return r;
	if (info.ifindex == 0)
		return -ENODEV;
	*ret = info;
	return 0;
}

int overlay_link_get(struct nlsock *s, const char *name, struct rtlink_info *ret)
{
	return link_get(s, 0, name, ret);
}

int overlay_link_get_index(struct nlsock *s, int ifindex, struct rtlink_info *ret)
{
	if (ifindex <= 0)
		return -ENODEV;
	return link_get(s, ifindex, NULL, ret);
}

int overlay_port_ensure(struct nlsock *host, int ifindex, int master, char err[OVERLAY_ERRLEN])
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = overlay_transact1(host, buf, rtlink_build_set(buf, sizeof(buf), nlsock_next_seq(host), ifindex, IFF_UP,
	                                                  IFF_UP, 0, master), kerr);
	if (r < 0)
		overlay_fmt_err(err, r, kerr, "attach ifindex %d to the bridge", ifindex);
	return r;
}

int overlay_link_del(struct nlsock *s, const char *name, char err[OVERLAY_ERRLEN])
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = overlay_transact1(s, buf, rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(s), 0, name), kerr);
	if (r == -ENODEV || r == -ENOENT)
		return 0;
	if (r < 0)
		overlay_fmt_err(err, r, kerr, "delete link %s", name);
	return r;
}

/* "0.0.0.0/0" */
static const char *route_format(uint32_t dst, uint8_t len, char buf[CIDR4_STRLEN])
{
	struct cidr4 c = { .addr = dst, .len = len };

	return cidr4_format(&c, buf);
}

struct find_route {
	uint32_t dst;
	uint8_t len;
	bool found;
	struct rtroute route;
};

static int find_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct find_route *f = data;
	struct rtroute r;

	if (rtroute_parse(nlh, &r) < 0 || r.table != RT_TABLE_MAIN || r.dst != f->dst || r.dst_len != f->len)
		return MNL_CB_OK;
	/* Our route has priority 0: that is the one the kernel compared it with. */
	if (!f->found || (r.priority == 0 && f->route.priority != 0)) {
		f->route = r;
		f->found = true;
	}
	return MNL_CB_OK;
}

static void find_route_reset(void *data)
{
	((struct find_route *)data)->found = false;
}

/* The add of the container's route met an existing one: say which, so the user can tell whose. */
static void describe_existing_route(struct nlsock *ns, const struct overlay_attach *a, char err[OVERLAY_ERRLEN])
{
	struct find_route f = { .dst = a->route_dst, .len = a->route_len };
	char buf[64] = { 0 }, dst[CIDR4_STRLEN], via[64] = "", dev[32] = "";
	struct rtlink_info link;

	route_format(a->route_dst, a->route_len, dst);
	if (rtroute_build_dump(buf, sizeof(buf), 0) >= 0 &&
	    nlsock_query(ns, buf, find_route_cb, find_route_reset, &f, NULL) == 0 && f.found) {
		if (f.route.gw)
			snprintf(via, sizeof(via), "via %s", ip4_format(f.route.gw, (char[IP4_STRLEN]){ 0 }));
		if (f.route.oif && overlay_link_get_index(ns, f.route.oif, &link) == 0)
			snprintf(dev, sizeof(dev), "%sdev %s", via[0] ? " " : "", link.name);
	}
	snprintf(err, OVERLAY_ERRLEN, "the container already has a route %s (%s%s); not replacing it for %s",
	         dst, via[0] || dev[0] ? via : "type or owner unknown", dev, a->ifname);
}

/* Bring a veth end up without an IPv6 link-local address.  Below the IPv6 minimum MTU the device has
 * no IPv6 at all: asking it for "no link-local" would fail the whole request with EAFNOSUPPORT. */
static int set_up(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, uint32_t mtu)
{
	if (mtu && mtu < RTLINK_IPV6_MIN_MTU)
		return rtlink_build_set_up(buf, buflen, seq, ifindex, name);
	return rtlink_build_set_no_ipv6ll(buf, buflen, seq, ifindex, name, true);
}

/* Inside the container: lo up, ifname up, address, the route via the gateway — one sendmsg, four
 * ACKs.  The route is added with NLM_F_EXCL: a route the container already has (another network's
 * default route) is someone else's, and replacing it would silently cut their traffic. */
static int configure_container(struct nlsock *ns, const struct overlay_attach *a, int ifindex,
                               char err[OVERLAY_ERRLEN])
{
	static const char *const what[] = { "set lo up", "set interface up", "add address", "add route",
	                                    "configure the interface" };
	char buf[1024] = { 0 }, kerr[NLSOCK_ERRLEN], ip[IP4_STRLEN], gw[IP4_STRLEN], dst[CIDR4_STRLEN];
	struct rtroute route = { .dst = a->route_dst, .dst_len = a->route_len, .gw = a->gateway, .oif = ifindex };
	uint32_t seq = nlsock_next_seq(ns);
	size_t off = 0;
	unsigned failed = 4;
	int r;

	for (int i = 0; i < 3; i++)
		nlsock_next_seq(ns);
	/* Loopback is ifindex 1 in every network namespace. */
	r = rtlink_build_set(buf, sizeof(buf), seq, 1, IFF_UP, IFF_UP, 0, -1);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = set_up(buf + off, sizeof(buf) - off, seq + 1, ifindex, NULL, a->mtu);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = rtaddr_build(buf + off, sizeof(buf) - off, seq + 2, RTM_NEWADDR, ifindex, a->addr, a->prefixlen);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = rtroute_build_add(buf + off, sizeof(buf) - off, seq + 3, &route);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = nlsock_transact(ns, buf, off, seq, 4, &failed, kerr);
	if (r == -EEXIST && failed == 3) {
		describe_existing_route(ns, a, err);
		return -EADDRINUSE;
	}
	if (r < 0)
		overlay_fmt_err(err, r, kerr, "%s in container (%s %s/%u, route %s via %s)", what[failed < 4 ? failed : 4],
		                a->ifname, ip4_format(a->addr, ip), a->prefixlen,
		                route_format(a->route_dst, a->route_len, dst), ip4_format(a->gateway, gw));
	return r;
}

int overlay_attach(struct nlsock *host, const struct overlay_attach *a, struct overlay_attach_result *ret,
                   char err[OVERLAY_ERRLEN])
{
	struct rtlink_veth req = {
		.name = a->host_veth, .peer_name = a->ifname, .peer_netns_fd = a->netns_fd,
		.mtu = a->mtu, .master = (uint32_t)a->bridge_ifindex, .peer_mac = a->peer_mac,
	};
	char buf[1024] = { 0 }, kerr[NLSOCK_ERRLEN];
	bool alias = a->alias && a->alias[0];
	unsigned nmsgs = alias ? 3 : 2, failed = nmsgs;
	struct rtlink_info hinfo, pinfo;
	struct nlsock *ns = NULL;
	uint32_t seq;
	size_t off;
	int r;

	if (a->route_len > 32 || (a->route_dst & ~cidr4_mask(a->route_len))) {
		snprintf(err, OVERLAY_ERRLEN, "invalid route %s/%u for %s: bits set outside the prefix",
		         ip4_format(a->route_dst, (char[IP4_STRLEN]){ 0 }), a->route_len, a->ifname);
		return -EINVAL;
	}
	if (alias && strlen(a->alias) >= RTLINK_ALIAS_SIZE) {
		snprintf(err, OVERLAY_ERRLEN, "alias for %s is %zu bytes long; the kernel keeps at most %d",
		         a->host_veth, strlen(a->alias), RTLINK_ALIAS_SIZE - 1);
		return -EINVAL;
	}
	/* Up to three requests in one sendmsg: create the pair (host end down), then give the host end
	 * no IPv6 link-local address and bring it up, then its alias (which the kernel ignores in the
	 * creating request: see rtlink.c).  A bridge port needs no address, and without one it sends no
	 * DAD, router solicitation or MLD report — multicast the bridge would flood to every other
	 * port, which made each ADD cost more the more workloads the host had. */
	seq = nlsock_next_seq(host);
	for (unsigned i = 1; i < nmsgs; i++)
		nlsock_next_seq(host);
	req.up = false;
	r = rtlink_build_veth(buf, sizeof(buf), seq, &req);
	if (r < 0)
		return r;
	off = (size_t)r;
	r = set_up(buf + off, sizeof(buf) - off, seq + 1, 0, a->host_veth, a->mtu);
	if (r < 0)
		return r;
	off += (size_t)r;
	if (alias) {
		r = rtlink_build_set_alias(buf + off, sizeof(buf) - off, seq + 2, 0, a->host_veth, a->alias);
		if (r < 0)
			return r;
		off += (size_t)r;
	}
	r = nlsock_transact(host, buf, off, seq, nmsgs, &failed, kerr);
	if (r < 0) {
		/* The create failed: nothing of ours exists (EEXIST: the name is someone else's). */
		if (failed == 0) {
			overlay_fmt_err(err, r, kerr, "create veth %s with peer %s in the container", a->host_veth,
			                a->ifname);
			return r;
		}
		if (failed == 1)
			overlay_fmt_err(err, r, kerr, "set up host veth %s", a->host_veth);
		else if (failed == 2)
			overlay_fmt_err(err, r, kerr, "set alias of host veth %s", a->host_veth);
		else   /* no answer (timeout): the pair may exist */
			overlay_fmt_err(err, r, kerr, "create veth %s with peer %s in the container", a->host_veth,
			                a->ifname);
		goto rollback;
	}
	r = link_get(host, 0, a->host_veth, &hinfo);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up new veth %s", a->host_veth);
		goto rollback;
	}
	r = nlsock_open(a->netns_fd, &ns);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "open netlink socket in the container namespace");
		goto rollback;
	}
	r = link_get(ns, 0, a->ifname, &pinfo);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up %s in the container", a->ifname);
		goto rollback;
	}
	r = configure_container(ns, a, pinfo.ifindex, err);
	if (r < 0)
		goto rollback;
	nlsock_free(ns);
	ret->host_ifindex = hinfo.ifindex;
	memcpy(ret->host_mac, hinfo.mac, RTLINK_MAC_LEN);
	memcpy(ret->peer_mac, pinfo.mac, RTLINK_MAC_LEN);
	return 0;
rollback:
	nlsock_free(ns);
	/* Deleting the host end removes the peer inside the container too. */
	overlay_link_del(host, a->host_veth, (char[OVERLAY_ERRLEN]){ 0 });
	return r;
}

struct check_state {
	int ifindex;
	uint32_t addr;
	uint8_t prefixlen;
	uint32_t gateway;
	uint32_t route_dst;
	uint8_t route_len;
	bool found;
};

static int check_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct check_state *c = data;
	struct rtaddr_info info;

	if (rtaddr_parse(nlh, &info) == 0 && info.ifindex == c->ifindex && info.addr == c->addr &&
	    info.prefixlen == c->prefixlen)
		c->found = true;
	return MNL_CB_OK;
}

static int check_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct check_state *c = data;
	struct rtroute r;

	if (rtroute_parse(nlh, &r) == 0 && r.dst == c->route_dst && r.dst_len == c->route_len &&
	    r.table == RT_TABLE_MAIN && r.gw == c->gateway && r.oif == c->ifindex)
		c->found = true;
	return MNL_CB_OK;
}

static void check_reset(void *data)
{
	((struct check_state *)data)->found = false;
}

int overlay_check(struct nlsock *host, const struct overlay_attach *a, char err[OVERLAY_ERRLEN])
{
	struct check_state c = { .addr = a->addr, .prefixlen = a->prefixlen, .gateway = a->gateway,
	                         .route_dst = a->route_dst, .route_len = a->route_len };
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN], ip[IP4_STRLEN], dst[CIDR4_STRLEN];
	struct rtlink_info info;
	struct nlsock *ns = NULL;
	int r;

	r = link_get(host, 0, a->host_veth, &info);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "host veth %s", a->host_veth);
		return r == -ENODEV ? -ENOENT : r;
	}
	if (!(info.flags & IFF_UP) || info.master != (uint32_t)a->bridge_ifindex) {
		snprintf(err, OVERLAY_ERRLEN, "host veth %s is %s", a->host_veth,
		         !(info.flags & IFF_UP) ? "down" : "not attached to the bridge");
		return -EINVAL;
	}
	if (a->alias && a->alias[0] && strcmp(info.alias, a->alias) != 0) {
		snprintf(err, OVERLAY_ERRLEN, "host veth %s has alias \"%s\", want \"%s\"", a->host_veth, info.alias,
		         a->alias);
		return -EINVAL;
	}
	r = nlsock_open(a->netns_fd, &ns);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "open netlink socket in the container namespace");
		return r;
	}
	r = link_get(ns, 0, a->ifname, &info);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "interface %s in the container", a->ifname);
		r = r == -ENODEV ? -ENOENT : r;
		goto out;
	}
	if (!(info.flags & IFF_UP)) {
		snprintf(err, OVERLAY_ERRLEN, "interface %s in the container is down", a->ifname);
		r = -EINVAL;
		goto out;
	}
	if (a->mtu && info.mtu != a->mtu) {
		snprintf(err, OVERLAY_ERRLEN, "interface %s in the container has MTU %u, want %u", a->ifname, info.mtu,
		         a->mtu);
		r = -EINVAL;
		goto out;
	}
	c.ifindex = info.ifindex;
	r = rtaddr_build_dump(buf, sizeof(buf), 0);
	if (r >= 0)
		r = nlsock_query(ns, buf, check_addr_cb, check_reset, &c, kerr);
	if (r < 0 || !c.found) {
		snprintf(err, OVERLAY_ERRLEN, "interface %s in the container lacks address %s/%u", a->ifname,
		         ip4_format(a->addr, ip), a->prefixlen);
		r = -EINVAL;
		goto out;
	}
	c.found = false;
	r = rtroute_build_dump(buf, sizeof(buf), 0);
	if (r >= 0)
		r = nlsock_query(ns, buf, check_route_cb, check_reset, &c, kerr);
	if (r < 0 || !c.found) {
		snprintf(err, OVERLAY_ERRLEN, "the container lacks the route %s via %s dev %s",
		         route_format(a->route_dst, a->route_len, dst), ip4_format(a->gateway, ip), a->ifname);
		r = -EINVAL;
		goto out;
	}
	r = 0;
out:
	nlsock_free(ns);
	return r;
}

struct foreach_state {
	void (*cb)(const struct rtlink_info *l, void *data);
	void *data;
};

static int foreach_cb(const struct nlmsghdr *nlh, void *data)
{
	struct foreach_state *f = data;
	struct rtlink_info info;

	if (rtlink_parse(nlh, &info) == 0)
		f->cb(&info, f->data);
	return MNL_CB_OK;
}

int overlay_links_foreach(struct nlsock *s, void (*cb)(const struct rtlink_info *l, void *data), void *data)
{
	struct foreach_state f = { .cb = cb, .data = data };
	char buf[256] = { 0 };
	int r;

	r = rtlink_build_get(buf, sizeof(buf), 0, 0, NULL);
	if (r < 0)
		return r;
	/* The callers collect into sets, so a redone dump only repeats entries. */
	return nlsock_query(s, buf, foreach_cb, NULL, &f, NULL);
}
