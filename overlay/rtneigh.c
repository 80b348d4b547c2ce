#include "overlay/rtneigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

static struct nlmsghdr *put_neigh_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq,
                                         int family, int ifindex, uint16_t state, uint8_t ntf)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (buflen < mnl_nlmsg_size(sizeof(*ndm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	ndm->ndm_flags = ntf;
	return nlh;
}

static uint16_t change_flags(uint16_t cmd)
{
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

	if (cmd == RTM_NEWNEIGH)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
	return flags;
}

int rtneigh_build_neigh(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex, uint32_t addr,
                        const uint8_t mac[RTNEIGH_MAC_LEN])
{
	uint32_t be = htonl(addr);
	struct nlmsghdr *nlh;

	nlh = put_neigh_header(buf, buflen, cmd, change_flags(cmd), seq, AF_INET, ifindex,
	                       cmd == RTM_NEWNEIGH ? NUD_PERMANENT : 0, 0);
	if (!nlh || !mnl_attr_put_check(nlh, buflen, NDA_DST, 4, &be))
		return -ENOBUFS;
	if (cmd == RTM_NEWNEIGH && !mnl_attr_put_check(nlh, buflen, NDA_LLADDR, RTNEIGH_MAC_LEN, mac))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* A VXLAN device keeps its own FDB (vxlan_fdb_add): NTF_SELF sends the request to the device
 * instead of to a bridge master it does not have.  NLM_F_REPLACE swaps the entry's only remote; the
 * default (NLM_F_APPEND absent) never adds a second remote, which would flood to both.  The
 * remote's family is told by NDA_DST's length alone (vxlan_nla_get_addr): 4 bytes IPv4, 16 IPv6.
 * The device must be of the same family (IFLA_VXLAN_LOCAL6 for an IPv6 remote): it has a socket of
 * one family only and could not send to the other. */
int rtneigh_build_fdb(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex,
                      const uint8_t mac[RTNEIGH_MAC_LEN], const struct ipaddr *dst)
{
	uint32_t be = dst ? htonl(dst->v4) : 0;
	struct nlmsghdr *nlh;

	nlh = put_neigh_header(buf, buflen, cmd, change_flags(cmd), seq, AF_BRIDGE, ifindex,
	                       cmd == RTM_NEWNEIGH ? NUD_PERMANENT : 0, NTF_SELF);
	if (!nlh || !mnl_attr_put_check(nlh, buflen, NDA_LLADDR, RTNEIGH_MAC_LEN, mac))
		return -ENOBUFS;
	if (cmd == RTM_NEWNEIGH && dst && dst->family == AF_INET && !mnl_attr_put_check(nlh, buflen, NDA_DST, 4, &be))
		return -ENOBUFS;
	if (cmd == RTM_NEWNEIGH && dst && dst->family == AF_INET6 &&
	    !mnl_attr_put_check(nlh, buflen, NDA_DST, 16, dst->v6))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int rtneigh_build_dump(void *buf, size_t buflen, uint32_t seq, int family)
{
	struct nlmsghdr *nlh = put_neigh_header(buf, buflen, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq, family,
	                                        0, 0, 0);

	return nlh ? (int)nlh->nlmsg_len : -ENOBUFS;
}

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	struct rtneigh *n = data;

	switch (mnl_attr_get_type(a)) {
	case NDA_DST:
		if (mnl_attr_get_payload_len(a) == 4)
			n->dst = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		else if (mnl_attr_get_payload_len(a) == 16) {
			n->dst_v6 = true;
			memcpy(n->dst6, mnl_attr_get_payload(a), 16);
		}
		break;
	case NDA_LLADDR:
		if (mnl_attr_get_payload_len(a) == RTNEIGH_MAC_LEN) {
			memcpy(n->mac, mnl_attr_get_payload(a), RTNEIGH_MAC_LEN);
			n->has_mac = true;
		}
		break;
	case NDA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			n->master = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int rtneigh_parse(const struct nlmsghdr *nlh, struct rtneigh *ret)
{
	const struct ndmsg *ndm;
	struct rtneigh n = { 0 };

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return -EBADMSG;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_BRIDGE)
		return -EAFNOSUPPORT;
	n.family = ndm->ndm_family;
	n.ifindex = ndm->ndm_ifindex;
	n.state = ndm->ndm_state;
	n.flags = ndm->ndm_flags;
	if (mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, &n) < 0)
		return -EBADMSG;
	*ret = n;
	return 0;
}
