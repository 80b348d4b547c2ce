#include "overlay/rtroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

static struct nlmsghdr *put_route_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq,
                                         int family)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (buflen < mnl_nlmsg_size(sizeof(*rtm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	return nlh;
}

static int build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, uint16_t flags, const struct rtroute *r)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;

	nlh = put_route_header(buf, buflen, cmd, flags, seq, AF_INET);
	if (!nlh)
		return -ENOBUFS;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_BOOT;
	rtm->rtm_scope = r->gw || r->via.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
	if (r->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (r->dst_len) {
		uint32_t be = htonl(r->dst);

		if (!mnl_attr_put_check(nlh, buflen, RTA_DST, 4, &be))
			return -ENOBUFS;
	}
	if (r->gw) {
		uint32_t be = htonl(r->gw);

		if (!mnl_attr_put_check(nlh, buflen, RTA_GATEWAY, 4, &be))
			return -ENOBUFS;
	}
	/* An IPv6 nexthop of an IPv4 route: struct rtvia, the family and the address (kernel 5.2+). */
	if (!r->gw && r->via.family == AF_INET6) {
		uint8_t via[sizeof(__kernel_sa_family_t) + 16];
		__kernel_sa_family_t fam = AF_INET6;

		memcpy(via, &fam, sizeof(fam));
		memcpy(via + sizeof(fam), r->via.v6, 16);
		if (!mnl_attr_put_check(nlh, buflen, RTA_VIA, sizeof(via), via))
			return -ENOBUFS;
	}
	if (r->oif && !mnl_attr_put_u32_check(nlh, buflen, RTA_OIF, (uint32_t)r->oif))
		return -ENOBUFS;
	if (table >= 256 && !mnl_attr_put_u32_check(nlh, buflen, RTA_TABLE, table))
		return -ENOBUFS;
	if (r->priority && !mnl_attr_put_u32_check(nlh, buflen, RTA_PRIORITY, r->priority))
		return -ENOBUFS;
	if (r->mtu) {
		struct nlattr *metrics = mnl_attr_nest_start_check(nlh, buflen, RTA_METRICS);

		if (!metrics || !mnl_attr_put_u32_check(nlh, buflen, RTAX_MTU, r->mtu))
			return -ENOBUFS;
		mnl_attr_nest_end(nlh, metrics);
	}
	return (int)nlh->nlmsg_len;
}

int rtroute_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, const struct rtroute *r)
{
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

	if (cmd == RTM_NEWROUTE)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
	return build(buf, buflen, seq, cmd, flags, r);
}

int rtroute_build_add(void *buf, size_t buflen, uint32_t seq, const struct rtroute *r)
{
	return build(buf, buflen, seq, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, r);
}

int rtroute_build_dump_family(void *buf, size_t buflen, uint32_t seq, int family)
{
	struct nlmsghdr *nlh = put_route_header(buf, buflen, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, family);

	return nlh ? (int)nlh->nlmsg_len : -ENOBUFS;
}

int rtroute_build_dump(void *buf, size_t buflen, uint32_t seq)
{
	return rtroute_build_dump_family(buf, buflen, seq, AF_INET);
}

int rtroute_build_dump_proto(void *buf, size_t buflen, uint32_t seq, uint8_t protocol)
{
	struct nlmsghdr *nlh = put_route_header(buf, buflen, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, AF_INET);
	struct rtmsg *rtm;

	if (!nlh)
		return -ENOBUFS;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_protocol = protocol;
	rtm->rtm_table = RT_TABLE_MAIN;
	return (int)nlh->nlmsg_len;
}

/* What the attribute callbacks fill: the route, plus its first nexthop when it is multipath. */
struct route_parse {
	struct rtroute r;
	int nh_oif;
	uint32_t nh_gw;
	struct ipaddr nh_via;
};

/* An IPv6 address for via: RTA_VIA's struct rtvia (of an IPv4 route), or an IPv6 route's
 * RTA_GATEWAY.  Anything else (an IPv4 RTA_VIA, a wrong length) leaves via as it was. */
static void parse_via(const struct nlattr *a, int family, struct ipaddr *via)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);
	__kernel_sa_family_t fam;

	if (mnl_attr_get_type(a) == RTA_VIA) {
		if (len != sizeof(fam) + 16)
			return;
		memcpy(&fam, p, sizeof(fam));
		if (fam != AF_INET6)
			return;
		p += sizeof(fam);
	} else if (family != AF_INET6 || len != 16) {
		return;
	}
	via->family = AF_INET6;
	memcpy(via->v6, p, 16);
}

static int metrics_cb(const struct nlattr *a, void *data)
{
	struct rtroute *r = data;

	if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		r->mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int nexthop_attr_cb(const struct nlattr *a, void *data)
{
	struct route_parse *p = data;

	if (mnl_attr_get_type(a) == RTA_GATEWAY && p->r.family == AF_INET && mnl_attr_get_payload_len(a) == 4)
		p->nh_gw = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
	else if (mnl_attr_get_type(a) == RTA_GATEWAY || mnl_attr_get_type(a) == RTA_VIA)
		parse_via(a, p->r.family, &p->nh_via);
	return MNL_CB_OK;
}

/* RTA_MULTIPATH is a packed list of struct rtnexthop, each followed by its own attributes. */
static void parse_first_nexthop(const struct nlattr *a, struct route_parse *p)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
		return;
	p->nh_oif = nh->rtnh_ifindex;
	if (nh->rtnh_len > RTNH_ALIGN(sizeof(*nh)))
		mnl_attr_parse_payload((const char *)nh + RTNH_ALIGN(sizeof(*nh)), nh->rtnh_len - RTNH_ALIGN(sizeof(*nh)),
		                       nexthop_attr_cb, p);
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_parse *p = data;
	struct rtroute *r = &p->r;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (r->family == AF_INET && mnl_attr_get_payload_len(a) == 4)
			r->dst = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		break;
	case RTA_GATEWAY:
		if (r->family == AF_INET && mnl_attr_get_payload_len(a) == 4)
			r->gw = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		else
			parse_via(a, r->family, &r->via);
		break;
	case RTA_VIA:
		parse_via(a, r->family, &r->via);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->table = mnl_attr_get_u32(a);
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->priority = mnl_attr_get_u32(a);
		break;
	case RTA_METRICS:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(a, metrics_cb, r);
		break;
	case RTA_MULTIPATH:
		parse_first_nexthop(a, p);
		break;
	}
	return MNL_CB_OK;
}

static int parse(const struct nlmsghdr *nlh, bool any_family, struct rtroute *ret)
{
	const struct rtmsg *rtm;
	struct route_parse p = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && !(any_family && rtm->rtm_family == AF_INET6))
		return -EAFNOSUPPORT;
	p.r.family = rtm->rtm_family;
	p.r.dst_len = rtm->rtm_dst_len;
	p.r.table = rtm->rtm_table;
	p.r.protocol = rtm->rtm_protocol;
	p.r.type = rtm->rtm_type;
	p.r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &p) < 0)
		return -EBADMSG;
	if (!p.r.oif && !p.r.gw && !p.r.via.family) {
		p.r.oif = p.nh_oif;
		p.r.gw = p.nh_gw;
		p.r.via = p.nh_via;
	}
	*ret = p.r;
	return 0;
}

int rtroute_parse(const struct nlmsghdr *nlh, struct rtroute *ret)
{
	return parse(nlh, false, ret);
}

int rtroute_parse_any(const struct nlmsghdr *nlh, struct rtroute *ret)
{
	return parse(nlh, true, ret);
}
