#include "overlay/host.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
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

	if (rtroute_parse_any(nlh, &r) < 0 || r.table != RT_TABLE_MAIN || r.dst_len != 0 || r.type != RTN_UNICAST ||
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

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* The device and MTU of the best default route of family (see overlay_underlay_mtu). */
static int default_route_family(struct nlsock *s, int family, struct rtlink_info *ret_link, uint32_t *ret_mtu,
                                char err[OVERLAY_ERRLEN])
{
	struct default_route d = { 0 };
	char buf[64] = { 0 }, kerr[NLSOCK_ERRLEN];
	struct rtlink_info link;
	uint32_t mtu;
	int r;

	r = rtroute_build_dump_family(buf, sizeof(buf), 0, family);
	if (r >= 0)
		r = nlsock_query(s, buf, default_route_cb, default_route_reset, &d, kerr);
	if (r < 0) {
		overlay_fmt_err(err, r, kerr, "dump %s routes", family_name(family));
		return r;
	}
	if (!d.found) {
		snprintf(err, OVERLAY_ERRLEN, "no %s default route in the main table", family_name(family));
		return -ENOENT;
	}
	r = overlay_link_get_index(s, d.best.oif, &link);
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up ifindex %d of the %s default route", d.best.oif,
		                family_name(family));
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

/* The IPv4 default route's, else the IPv6 one's: an IPv4 underlay wins where both exist, so a host
 * that gains IPv6 keeps its underlay. */
static int default_route_link(struct nlsock *s, struct rtlink_info *ret_link, uint32_t *ret_mtu, int *ret_family,
                              char err[OVERLAY_ERRLEN])
{
	int r = default_route_family(s, AF_INET, ret_link, ret_mtu, err);

	if (r != -ENOENT) {
		if (r == 0)
			*ret_family = AF_INET;
		return r;
	}
	r = default_route_family(s, AF_INET6, ret_link, ret_mtu, err);
	if (r == 0)
		*ret_family = AF_INET6;
	else if (r == -ENOENT)
		snprintf(err, OVERLAY_ERRLEN, "no IPv4 or IPv6 default route in the main table");
	return r;
}

int overlay_underlay_mtu(struct nlsock *s, uint32_t *ret_mtu, int *ret_family, char err[OVERLAY_ERRLEN])
{
	struct rtlink_info link;

	return default_route_link(s, &link, ret_mtu, ret_family, err);
}

/* An address of one family on ifindex, or the address `want` wherever it is.  IPv4: the first one
 * (the primary: the kernel lists primaries before their secondaries).  IPv6: the first global one,
 * preferring those neither deprecated nor tentative (rank 0). */
struct addr_find {
	int family;
	int ifindex;         /* 0 = any */
	struct ipaddr want;  /* family 0 = the first usable one */
	bool found;
	int rank;
	struct rtaddr_any hit;
};

static int addr_rank(const struct rtaddr_any *a)
{
	if (a->addr.family == AF_INET)
		return 0;
	/* Link-local needs a scope a peer cannot know; a temporary (privacy) address expires; a
	 * DAD-failed one is not ours. */
	if (a->scope != RT_SCOPE_UNIVERSE || (a->flags & (IFA_F_TEMPORARY | IFA_F_DADFAILED)) ||
	    !ipaddr_is_unicast(&a->addr))
		return -1;
	return (a->flags & IFA_F_DEPRECATED ? 2 : 0) + (a->flags & IFA_F_TENTATIVE ? 1 : 0);
}

static int addr_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_find *f = data;
	struct rtaddr_any a;
	int rank;

	if (rtaddr_parse_any(nlh, &a) < 0 || a.addr.family != f->family || (f->ifindex && a.ifindex != f->ifindex))
		return MNL_CB_OK;
	if (f->want.family) {
		if (!f->found && ipaddr_equal(&a.addr, &f->want)) {
			f->hit = a;
			f->found = true;
		}
		return MNL_CB_OK;
	}
	rank = addr_rank(&a);
	if (rank < 0 || (f->found && rank >= f->rank))
		return MNL_CB_OK;
	f->hit = a;
	f->rank = rank;
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

	r = rtaddr_build_dump_family(buf, sizeof(buf), 0, f->family);
	if (r >= 0)
		r = nlsock_query(s, buf, addr_find_cb, addr_find_reset, f, kerr);
	if (r < 0)
		overlay_fmt_err(err, r, kerr, "dump %s addresses", family_name(f->family));
	return r;
}

/* The address of the configured one, and its interface. */
static int underlay_by_addr(struct nlsock *s, const char *underlay, const struct ipaddr *want, struct addr_find *f,
                            struct rtlink_info *ret_link, char err[OVERLAY_ERRLEN])
{
	int r;

	if (want->family == AF_INET6 && !ipaddr_is_unicast(want)) {
		snprintf(err, OVERLAY_ERRLEN, "underlay %s: a link-local, loopback or multicast address cannot be a "
		         "VXLAN endpoint other hosts reach", underlay);
		return -EADDRNOTAVAIL;
	}
	f->family = want->family;
	f->want = *want;
	r = addr_find(s, f, err);
	if (r < 0)
		return r;
	if (!f->found) {
		snprintf(err, OVERLAY_ERRLEN, "underlay %s: no interface has this address", underlay);
		return -EADDRNOTAVAIL;
	}
	r = overlay_link_get_index(s, f->hit.ifindex, ret_link);
	if (r < 0)
		overlay_fmt_err(err, r, NULL, "underlay %s: look up ifindex %d", underlay, f->hit.ifindex);
	return r;
}

int overlay_underlay_addr(struct nlsock *s, const char *underlay, struct overlay_underlay *ret,
                          char err[OVERLAY_ERRLEN])
{
	struct addr_find f = { 0 };
	struct rtlink_info link;
	struct ipaddr want;
	uint32_t mtu = 0;
	int r, family = AF_INET;

	if (underlay[0] && ipaddr_parse(underlay, &want) == 0) {
		r = underlay_by_addr(s, underlay, &want, &f, &link, err);
		if (r < 0)
			return r;
	} else {
		if (underlay[0]) {
			r = overlay_link_get(s, underlay, &link);
			if (r < 0) {
				overlay_fmt_err(err, r, NULL, "underlay interface %s", underlay);
				return r;
			}
		} else {
			r = default_route_link(s, &link, &mtu, &family, err);
			if (r < 0)
				return r;
		}
		f.ifindex = link.ifindex;
		f.family = family;
		r = addr_find(s, &f, err);
		if (r < 0)
			return r;
		/* A named interface without IPv4 is an IPv6 underlay. */
		if (!f.found && underlay[0]) {
			f.family = AF_INET6;
			r = addr_find(s, &f, err);
			if (r < 0)
				return r;
		}
		if (!f.found) {
			snprintf(err, OVERLAY_ERRLEN, "underlay interface %s has no %s", link.name,
			         underlay[0] ? "IPv4 or global IPv6 address"
			                     : family == AF_INET ? "IPv4 address" : "global IPv6 address");
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
