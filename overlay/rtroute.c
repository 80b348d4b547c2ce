#include "overlay/rtroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

static struct nlmsghdr *put_route_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq)
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
	rtm->rtm_family = AF_INET;
	return nlh;
}

int rtroute_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, const struct rtroute *r)
{
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;

	if (cmd == RTM_NEWROUTE)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nlh = put_route_header(buf, buflen, cmd, flags, seq);
	if (!nlh)
		return -ENOBUFS;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_BOOT;
	rtm->rtm_scope = r->gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
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
	if (r->oif && !mnl_attr_put_u32_check(nlh, buflen, RTA_OIF, (uint32_t)r->oif))
		return -ENOBUFS;
	if (table >= 256 && !mnl_attr_put_u32_check(nlh, buflen, RTA_TABLE, table))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int rtroute_build_dump(void *buf, size_t buflen, uint32_t seq)
{
	struct nlmsghdr *nlh = put_route_header(buf, buflen, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);

	return nlh ? (int)nlh->nlmsg_len : -ENOBUFS;
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct rtroute *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (mnl_attr_get_payload_len(a) == 4)
			r->dst = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(a) == 4)
			r->gw = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->table = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int rtroute_parse(const struct nlmsghdr *nlh, struct rtroute *ret)
{
	const struct rtmsg *rtm;
	struct rtroute r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET)
		return -EAFNOSUPPORT;
	r.dst_len = rtm->rtm_dst_len;
	r.table = rtm->rtm_table;
	r.protocol = rtm->rtm_protocol;
	r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &r) < 0)
		return -EBADMSG;
	*ret = r;
	return 0;
}
