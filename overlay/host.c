#include "overlay/host.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/cidr.h"
#include "overlay/internal.h"
#include "overlay/rtaddr.h"
#include "overlay/rtroute.h"

int overlay_bridge_ensure(struct nlsock *host, const struct overlay_bridge *b, int *ret_ifindex,
                          char err[OVERLAY_ERRLEN])
{
	char buf[512] = { 0 }, kerr[NLSOCK_ERRLEN], gw[IP4_STRLEN];
	struct rtlink_info info;
	int r;

	r = overlay_link_get(host, b->name, &info);
	if (r == -ENODEV) {
		struct rtlink_bridge req = { .name = b->name, .mac = b->mac, .mtu = b->mtu, .up = true };

		r = overlay_transact1(host, buf, rtlink_build_bridge(buf, sizeof(buf), nlsock_next_seq(host), &req), kerr);
		if (r < 0 && r != -EEXIST) {
			overlay_fmt_err(err, r, kerr, "create bridge %s", b->name);
			return r;
		}
		r = overlay_link_get(host, b->name, &info);
	}
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up bridge %s", b->name);
		return r;
	}
	if (strcmp(info.kind, "bridge") != 0) {
		snprintf(err, OVERLAY_ERRLEN, "%s exists and is a %s device, not a bridge", b->name,
		         info.kind[0] ? info.kind : "plain");
		return -EEXIST;
	}
	if (!(info.flags & IFF_UP) || (b->mtu && info.mtu != b->mtu)) {
		r = overlay_transact1(host, buf, rtlink_build_set(buf, sizeof(buf), nlsock_next_seq(host), info.ifindex,
		                                                  IFF_UP, IFF_UP, b->mtu, -1), kerr);
		if (r < 0) {
			overlay_fmt_err(err, r, kerr, "set bridge %s up", b->name);
			return r;
		}
	}
	/* NLM_F_REPLACE makes this idempotent: an adopted bridge keeps its address. */
	r = overlay_transact1(host, buf, rtaddr_build(buf, sizeof(buf), nlsock_next_seq(host), RTM_NEWADDR,
	                                              info.ifindex, b->gateway, b->prefixlen), kerr);
	if (r < 0) {
		overlay_fmt_err(err, r, kerr, "add address %s/%u to %s", ip4_format(b->gateway, gw), b->prefixlen,
		                b->name);
		return r;
	}
	*ret_ifindex = info.ifindex;
	return 0;
}

struct default_route {
	bool found;
	struct rtroute best;
};

/* The default route the kernel uses: unicast, main table, lowest metric (the first of equals, as
 * the FIB orders them).  Routes of other tables belong to policy routing we know nothing of. */
static int default_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct default_route *d = data;
	struct rtroute r;

	if (rtroute_parse(nlh, &r) < 0 || r.table != RT_TABLE_MAIN || r.dst_len != 0 || r.type != RTN_UNICAST ||
	    r.oif <= 0)
		return MNL_CB_OK;
	if (!d->found || r.priority < d->best.priority) {
		d->best = r;
		d->found = true;
	}
	return MNL_CB_OK;
}

static void default_route_reset(void *data)
{
	((struct default_route *)data)->found = false;
}

/* The device and MTU of the best default route (see overlay_underlay_mtu). */
static int default_route_link(struct nlsock *s, struct rtlink_info *ret_link, uint32_t *ret_mtu,
                              char err[OVERLAY_ERRLEN])
{
	struct default_route d = { 0 };
	char buf[64] = { 0 }, kerr[NLSOCK_ERRLEN];
	struct rtlink_info link;
	uint32_t mtu;
	int r;

	r = rtroute_build_dump(buf, sizeof(buf), 0);
	if (r >= 0)
		r = nlsock_query(s, buf, default_route_cb, default_route_reset, &d, kerr);
	if (r < 0) {
		overlay_fmt_err(err, r, kerr, "dump IPv4 routes");
		return r;
	}
	if (!d.found) {
		snprintf(err, OVERLAY_ERRLEN, "no IPv4 default route in the main table");
		return -ENOENT;
	}
	r = overlay_link_get_index(s, d.best.oif, &link);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up ifindex %d of the default route", d.best.oif);
		return r;
	}
	/* A route MTU ("ip route ... mtu 1400") is what the kernel sizes packets by on that path.  One
	 * above the device's MTU would only produce frames the device drops, so the smaller wins. */
	mtu = link.mtu;
	if (d.best.mtu && d.best.mtu < mtu)
		mtu = d.best.mtu;
	*ret_link = link;
	*ret_mtu = mtu;
	return 0;
}

int overlay_underlay_mtu(struct nlsock *s, uint32_t *ret_mtu, char err[OVERLAY_ERRLEN])
{
	struct rtlink_info link;

	return default_route_link(s, &link, ret_mtu, err);
}

/* The first IPv4 address of ifindex (the primary: the kernel lists primaries before their
 * secondaries), or the address `want` wherever it is. */
struct addr_find {
	int ifindex;         /* 0 = any */
	uint32_t want;       /* 0 = the first one */
	bool found;
	struct rtaddr_info hit;
};

static int addr_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_find *f = data;
	struct rtaddr_info a;

	if (f->found || rtaddr_parse(nlh, &a) < 0)
		return MNL_CB_OK;
	if ((f->ifindex && a.ifindex != f->ifindex) || (f->want && a.addr != f->want))
		return MNL_CB_OK;
	f->hit = a;
	f->found = true;
	return MNL_CB_OK;
}

static void addr_find_reset(void *data)
{
	((struct addr_find *)data)->found = false;
}

static int addr_find(struct nlsock *s, struct addr_find *f, char err[OVERLAY_ERRLEN])
{
	char buf[64] = { 0 }, kerr[NLSOCK_ERRLEN];
	int r;

	r = rtaddr_build_dump(buf, sizeof(buf), 0);
	if (r >= 0)
		r = nlsock_query(s, buf, addr_find_cb, addr_find_reset, f, kerr);
	if (r < 0)
		overlay_fmt_err(err, r, kerr, "dump IPv4 addresses");
	return r;
}

int overlay_underlay_addr(struct nlsock *s, const char *underlay, struct overlay_underlay *ret,
                          char err[OVERLAY_ERRLEN])
{
	struct addr_find f = { 0 };
	struct rtlink_info link;
	uint32_t mtu = 0;
	int r;

	if (underlay[0] && ip4_parse(underlay, &f.want) == 0) {
		r = addr_find(s, &f, err);
		if (r < 0)
			return r;
		if (!f.found) {
			snprintf(err, OVERLAY_ERRLEN, "underlay %s: no interface has this address", underlay);
			return -EADDRNOTAVAIL;
		}
		r = overlay_link_get_index(s, f.hit.ifindex, &link);
		if (r < 0) {
			overlay_fmt_err(err, r, NULL, "underlay %s: look up ifindex %d", underlay, f.hit.ifindex);
			return r;
		}
	} else {
		if (underlay[0]) {
			r = overlay_link_get(s, underlay, &link);
			if (r < 0) {
				overlay_fmt_err(err, r, NULL, "underlay interface %s", underlay);
				return r;
			}
		} else {
			r = default_route_link(s, &link, &mtu, err);
			if (r < 0)
				return r;
		}
		f.ifindex = link.ifindex;
		r = addr_find(s, &f, err);
		if (r < 0)
			return r;
		if (!f.found) {
			snprintf(err, OVERLAY_ERRLEN, "underlay interface %s has no IPv4 address", link.name);
			return -EADDRNOTAVAIL;
		}
	}
	ret->addr = f.hit.addr;
	ret->prefixlen = f.hit.prefixlen;
	ret->ifindex = link.ifindex;
	snprintf(ret->name, sizeof(ret->name), "%s", link.name);
	ret->mtu = mtu ? mtu : link.mtu;
	return 0;
}
