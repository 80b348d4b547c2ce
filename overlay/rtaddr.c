#include "overlay/rtaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

static struct nlmsghdr *put_addr_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq,
                                        int family)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (buflen < mnl_nlmsg_size(sizeof(*ifa)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	return nlh;
}

int rtaddr_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex, uint32_t addr, uint8_t prefixlen)
{
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
	uint32_t be = htonl(addr);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (cmd == RTM_NEWADDR)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nlh = put_addr_header(buf, buflen, cmd, flags, seq, AF_INET);
	if (!nlh)
		return -ENOBUFS;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (!mnl_attr_put_check(nlh, buflen, IFA_LOCAL, 4, &be) || !mnl_attr_put_check(nlh, buflen, IFA_ADDRESS, 4, &be))
		return -ENOBUFS;
	if (cmd == RTM_NEWADDR && prefixlen < 31) {
		uint32_t bcast = htonl(addr | ~(prefixlen ? 0xffffffffu << (32 - prefixlen) : 0));

		if (!mnl_attr_put_check(nlh, buflen, IFA_BROADCAST, 4, &bcast))
			return -ENOBUFS;
	}
	return (int)nlh->nlmsg_len;
}

int rtaddr_build_dump_family(void *buf, size_t buflen, uint32_t seq, int family)
{
	struct nlmsghdr *nlh = put_addr_header(buf, buflen, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, family);

	return nlh ? (int)nlh->nlmsg_len : -ENOBUFS;
}

int rtaddr_build_dump(void *buf, size_t buflen, uint32_t seq)
{
	return rtaddr_build_dump_family(buf, buflen, seq, AF_INET);
}

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	struct rtaddr_info *info = data;
	uint16_t type = mnl_attr_get_type(a);

	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links. */
	if ((type == IFA_LOCAL || (type == IFA_ADDRESS && info->addr == 0)) && mnl_attr_get_payload_len(a) == 4)
		info->addr = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

int rtaddr_parse(const struct nlmsghdr *nlh, struct rtaddr_info *ret)
{
	const struct ifaddrmsg *ifa;
	struct rtaddr_info info = { 0 };

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET)
		return -EAFNOSUPPORT;
	info.ifindex = (int)ifa->ifa_index;
	info.prefixlen = ifa->ifa_prefixlen;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, &info) < 0)
		return -EBADMSG;
	*ret = info;
	return 0;
}

struct any_parse {
	struct rtaddr_any a;
	bool has_local;
};

static int any_attr_cb(const struct nlattr *a, void *data)
{
	struct any_parse *p = data;
	uint16_t type = mnl_attr_get_type(a);
	size_t want = p->a.addr.family == AF_INET ? 4 : 16;

	switch (type) {
	case IFA_LOCAL:
	case IFA_ADDRESS:
		/* IFA_LOCAL wins: IFA_ADDRESS is the peer on point-to-point links. */
		if (mnl_attr_get_payload_len(a) != want || (type == IFA_ADDRESS && p->has_local))
			break;
		if (want == 4)
			p->a.addr.v4 = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		else
			memcpy(p->a.addr.v6, mnl_attr_get_payload(a), 16);
		p->has_local |= type == IFA_LOCAL;
		break;
	case IFA_FLAGS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			p->a.flags = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int rtaddr_parse_any(const struct nlmsghdr *nlh, struct rtaddr_any *ret)
{
	const struct ifaddrmsg *ifa;
	struct any_parse p = { 0 };

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EAFNOSUPPORT;
	p.a.ifindex = (int)ifa->ifa_index;
	p.a.addr.family = ifa->ifa_family;
	p.a.prefixlen = ifa->ifa_prefixlen;
	p.a.scope = ifa->ifa_scope;
	p.a.flags = ifa->ifa_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifa), any_attr_cb, &p) < 0)
		return -EBADMSG;
	*ret = p.a;
	return 0;
}
