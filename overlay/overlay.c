#include "overlay/overlay.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "lib/cidr.h"
#include "overlay/rtaddr.h"
#include "overlay/rtroute.h"

static void fmt_err(char err[OVERLAY_ERRLEN], int r, const char *kernel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fmt_err(char err[OVERLAY_ERRLEN], int r, const char *kernel, const char *fmt, ...)
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

/* One request that expects one ACK. */
static int transact1(struct nlsock *s, void *buf, int len, char kerr[NLSOCK_ERRLEN])
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

int overlay_bridge_ensure(struct nlsock *host, const struct overlay_bridge *b, int *ret_ifindex,
                          char err[OVERLAY_ERRLEN])
{
	char buf[512] = { 0 }, kerr[NLSOCK_ERRLEN], gw[IP4_STRLEN];
	struct rtlink_info info;
	int r;

	r = link_get(host, 0, b->name, &info);
	if (r == -ENODEV) {
		struct rtlink_bridge req = { .name = b->name, .mac = b->mac, .mtu = b->mtu, .up = true };

		r = transact1(host, buf, rtlink_build_bridge(buf, sizeof(buf), nlsock_next_seq(host), &req), kerr);
		if (r < 0 && r != -EEXIST) {
			fmt_err(err, r, kerr, "create bridge %s", b->name);
			return r;
		}
		r = link_get(host, 0, b->name, &info);
	}
	if (r < 0) {
		fmt_err(err, r, NULL, "look up bridge %s", b->name);
		return r;
	}
	if (strcmp(info.kind, "bridge") != 0) {
		snprintf(err, OVERLAY_ERRLEN, "%s exists and is a %s device, not a bridge", b->name,
		         info.kind[0] ? info.kind : "plain");
		return -EEXIST;
	}
	if (!(info.flags & IFF_UP) || (b->mtu && info.mtu != b->mtu)) {
		r = transact1(host, buf, rtlink_build_set(buf, sizeof(buf), nlsock_next_seq(host), info.ifindex,
		                                          IFF_UP, IFF_UP, b->mtu, -1), kerr);
		if (r < 0) {
			fmt_err(err, r, kerr, "set bridge %s up", b->name);
			return r;
		}
	}
	/* NLM_F_REPLACE makes this idempotent: an adopted bridge keeps its address. */
	r = transact1(host, buf, rtaddr_build(buf, sizeof(buf), nlsock_next_seq(host), RTM_NEWADDR, info.ifindex,
	                                      b->gateway, b->prefixlen), kerr);
	if (r < 0) {
		fmt_err(err, r, kerr, "add address %s/%u to %s", ip4_format(b->gateway, gw), b->prefixlen, b->name);
		return r;
	}
	*ret_ifindex = info.ifindex;
	return 0;
}

int overlay_port_ensure(struct nlsock *host, int ifindex, int master, char err[OVERLAY_ERRLEN])
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = transact1(host, buf, rtlink_build_set(buf, sizeof(buf), nlsock_next_seq(host), ifindex, IFF_UP, IFF_UP, 0,
	                                          master), kerr);
	if (r < 0)
		fmt_err(err, r, kerr, "attach ifindex %d to the bridge", ifindex);
	return r;
}

int overlay_link_del(struct nlsock *s, const char *name, char err[OVERLAY_ERRLEN])
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = transact1(s, buf, rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(s), 0, name), kerr);
	if (r == -ENODEV || r == -ENOENT)
		return 0;
	if (r < 0)
		fmt_err(err, r, kerr, "delete link %s", name);
	return r;
}

/* Inside the container: lo up, ifname up, address, default route — one sendmsg, four ACKs. */
static int configure_container(struct nlsock *ns, const struct overlay_attach *a, int ifindex,
                               char err[OVERLAY_ERRLEN])
{
	static const char *const what[] = { "set lo up", "set interface up", "add address", "add default route" };
	char buf[1024] = { 0 }, kerr[NLSOCK_ERRLEN], ip[IP4_STRLEN];
	struct rtroute def = { .gw = a->gateway, .oif = ifindex };
	uint32_t seq = nlsock_next_seq(ns);
	size_t off = 0;
	unsigned failed = 0;
	int r;

	for (int i = 0; i < 3; i++)
		nlsock_next_seq(ns);
	/* Loopback is ifindex 1 in every network namespace. */
	r = rtlink_build_set(buf, sizeof(buf), seq, 1, IFF_UP, IFF_UP, 0, -1);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = rtlink_build_set_no_ipv6ll(buf + off, sizeof(buf) - off, seq + 1, ifindex, NULL, true);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = rtaddr_build(buf + off, sizeof(buf) - off, seq + 2, RTM_NEWADDR, ifindex, a->addr, a->prefixlen);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = rtroute_build(buf + off, sizeof(buf) - off, seq + 3, RTM_NEWROUTE, &def);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = nlsock_transact(ns, buf, off, seq, 4, &failed, kerr);
	if (r < 0)
		fmt_err(err, r, kerr, "%s in container (%s %s/%u via %s)", what[failed < 4 ? failed : 0], a->ifname,
		        ip4_format(a->addr, ip), a->prefixlen, ip4_format(a->gateway, (char[IP4_STRLEN]){ 0 }));
	return r;
}

int overlay_attach(struct nlsock *host, const struct overlay_attach *a, struct overlay_attach_result *ret,
                   char err[OVERLAY_ERRLEN])
{
	struct rtlink_veth req = {
		.name = a->host_veth, .peer_name = a->ifname, .peer_netns_fd = a->netns_fd,
		.mtu = a->mtu, .master = (uint32_t)a->bridge_ifindex,
	};
	char buf[512] = { 0 }, kerr[NLSOCK_ERRLEN];
	struct rtlink_info hinfo, pinfo;
	struct nlsock *ns = NULL;
	int r;

	uint32_t seq = nlsock_next_seq(host);
	unsigned failed = 0;
	size_t off;

	/* Two requests in one sendmsg: create the pair (host end down), then give the host end no IPv6
	 * link-local address and bring it up.  A bridge port needs no address, and without one it
	 * sends no DAD, router solicitation or MLD report — multicast the bridge would flood to every
	 * other port, which made each ADD cost more the more workloads the host had. */
	req.up = false;
	nlsock_next_seq(host);
	r = rtlink_build_veth(buf, sizeof(buf), seq, &req);
	if (r < 0)
		return r;
	off = (size_t)r;
	r = rtlink_build_set_no_ipv6ll(buf + off, sizeof(buf) - off, seq + 1, 0, a->host_veth, true);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = nlsock_transact(host, buf, off, seq, 2, &failed, kerr);
	if (r < 0) {
		if (failed == 0) {
			fmt_err(err, r, kerr, "create veth %s with peer %s in the container", a->host_veth, a->ifname);
			return r;
		}
		fmt_err(err, r, kerr, "set up host veth %s", a->host_veth);
		goto rollback;
	}
	r = link_get(host, 0, a->host_veth, &hinfo);
	if (r < 0) {
		fmt_err(err, r, NULL, "look up new veth %s", a->host_veth);
		goto rollback;
	}
	r = nlsock_open(a->netns_fd, &ns);
	if (r < 0) {
		fmt_err(err, r, NULL, "open netlink socket in the container namespace");
		goto rollback;
	}
	r = link_get(ns, 0, a->ifname, &pinfo);
	if (r < 0) {
		fmt_err(err, r, NULL, "look up %s in the container", a->ifname);
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

	if (rtroute_parse(nlh, &r) == 0 && r.dst_len == 0 && r.table == RT_TABLE_MAIN && r.gw == c->gateway &&
	    r.oif == c->ifindex)
		c->found = true;
	return MNL_CB_OK;
}

static void check_reset(void *data)
{
	((struct check_state *)data)->found = false;
}

int overlay_check(struct nlsock *host, const struct overlay_attach *a, char err[OVERLAY_ERRLEN])
{
	struct check_state c = { .addr = a->addr, .prefixlen = a->prefixlen, .gateway = a->gateway };
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN], ip[IP4_STRLEN];
	struct rtlink_info info;
	struct nlsock *ns = NULL;
	int r;

	r = link_get(host, 0, a->host_veth, &info);
	if (r < 0) {
		fmt_err(err, r, NULL, "host veth %s", a->host_veth);
		return r == -ENODEV ? -ENOENT : r;
	}
	if (!(info.flags & IFF_UP) || info.master != (uint32_t)a->bridge_ifindex) {
		snprintf(err, OVERLAY_ERRLEN, "host veth %s is %s", a->host_veth,
		         !(info.flags & IFF_UP) ? "down" : "not attached to the bridge");
		return -EINVAL;
	}
	r = nlsock_open(a->netns_fd, &ns);
	if (r < 0) {
		fmt_err(err, r, NULL, "open netlink socket in the container namespace");
		return r;
	}
	r = link_get(ns, 0, a->ifname, &info);
	if (r < 0) {
		fmt_err(err, r, NULL, "interface %s in the container", a->ifname);
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
		snprintf(err, OVERLAY_ERRLEN, "the container lacks the default route via %s dev %s",
		         ip4_format(a->gateway, ip), a->ifname);
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
