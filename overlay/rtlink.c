#include "overlay/rtlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

/* Put a struct nlmsghdr + struct ifinfomsg at the start of buf, checking room. */
static struct nlmsghdr *put_link_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq,
                                        int ifindex, unsigned ifflags, unsigned change)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (buflen < mnl_nlmsg_size(sizeof(*ifm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = ifflags;
	ifm->ifi_change = change;
	return nlh;
}

static bool put_common(struct nlmsghdr *nlh, size_t buflen, const char *name, uint32_t mtu, const uint8_t *mac)
{
	if (name && !mnl_attr_put_strz_check(nlh, buflen, IFLA_IFNAME, name))
		return false;
	if (mtu && !mnl_attr_put_u32_check(nlh, buflen, IFLA_MTU, mtu))
		return false;
	if (mac && !mnl_attr_put_check(nlh, buflen, IFLA_ADDRESS, RTLINK_MAC_LEN, mac))
		return false;
	return true;
}

int rtlink_build_veth(void *buf, size_t buflen, uint32_t seq, const struct rtlink_veth *v)
{
	const uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	unsigned up = v->up ? IFF_UP : 0;
	struct nlattr *linkinfo, *data, *peer;
	struct nlmsghdr *nlh;
	struct ifinfomsg *pifm;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, flags, seq, 0, up, IFF_UP);
	if (!nlh || !put_common(nlh, buflen, v->name, v->mtu, v->mac))
		return -ENOBUFS;
	/* The kernel enslaves the new device to the bridge in the same request. */
	if (v->master && !mnl_attr_put_u32_check(nlh, buflen, IFLA_MASTER, v->master))
		return -ENOBUFS;
	linkinfo = mnl_attr_nest_start_check(nlh, buflen, IFLA_LINKINFO);
	if (!linkinfo || !mnl_attr_put_strz_check(nlh, buflen, IFLA_INFO_KIND, "veth"))
		return -ENOBUFS;
	data = mnl_attr_nest_start_check(nlh, buflen, IFLA_INFO_DATA);
	if (!data)
		return -ENOBUFS;
	peer = mnl_attr_nest_start_check(nlh, buflen, VETH_INFO_PEER);
	/* VETH_INFO_PEER carries a whole ifinfomsg before the peer's attributes.  Its flags stay 0:
	 * the kernel configures the peer before it links the pair, so IFF_UP here fails in veth_open()
	 * with ENOTCONN; the peer is brought up inside its namespace afterwards. */
	if (!peer || nlh->nlmsg_len + MNL_ALIGN(sizeof(*pifm)) > buflen)
		return -ENOBUFS;
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	if (!put_common(nlh, buflen, v->peer_name, v->mtu, v->peer_mac))
		return -ENOBUFS;
	if (v->peer_netns_fd >= 0 && !mnl_attr_put_u32_check(nlh, buflen, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return (int)nlh->nlmsg_len;
}

int rtlink_build_bridge(void *buf, size_t buflen, uint32_t seq, const struct rtlink_bridge *b)
{
	const uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	struct nlattr *linkinfo;
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, flags, seq, 0, b->up ? IFF_UP : 0, IFF_UP);
	if (!nlh || !put_common(nlh, buflen, b->name, b->mtu, b->mac))
		return -ENOBUFS;
	linkinfo = mnl_attr_nest_start_check(nlh, buflen, IFLA_LINKINFO);
	if (!linkinfo || !mnl_attr_put_strz_check(nlh, buflen, IFLA_INFO_KIND, "bridge"))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, linkinfo);
	return (int)nlh->nlmsg_len;
}

int rtlink_build_set(void *buf, size_t buflen, uint32_t seq, int ifindex, unsigned flags, unsigned change,
                     uint32_t mtu, int64_t master)
{
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex, flags, change);
	if (!nlh || !put_common(nlh, buflen, NULL, mtu, NULL))
		return -ENOBUFS;
	if (master >= 0 && !mnl_attr_put_u32_check(nlh, buflen, IFLA_MASTER, (uint32_t)master))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int rtlink_build_set_no_ipv6ll(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, bool up)
{
	struct nlattr *af, *inet6;
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex > 0 ? ifindex : 0,
	                      up ? IFF_UP : 0, up ? IFF_UP : 0);
	if (!nlh || (ifindex <= 0 && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	af = mnl_attr_nest_start_check(nlh, buflen, IFLA_AF_SPEC);
	inet6 = af ? mnl_attr_nest_start_check(nlh, buflen, AF_INET6) : NULL;
	if (!inet6 || !mnl_attr_put_u8_check(nlh, buflen, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, af);
	return (int)nlh->nlmsg_len;
}

int rtlink_build_set_up(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name)
{
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex > 0 ? ifindex : 0,
	                      IFF_UP, IFF_UP);
	if (!nlh || (ifindex <= 0 && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* The kernel creates a device in rtnl_create_link(), which reads IFNAME, MTU, ADDRESS, GROUP and a
 * few more, but not IFLA_IFALIAS: an alias in the creating RTM_NEWLINK is silently dropped (seen on
 * 6.x).  Only a change of an existing device (do_setlink) applies it, so a caller that wants the
 * alias on a new device sends this right behind the create, in the same sendmsg.
 *
 * The alias goes without a NUL, as iproute2 sends it: the kernel stores nla_len bytes and refuses
 * nla_len >= IFALIASZ, so a NUL would cost the 255-byte alias its last byte. */
int rtlink_build_set_alias(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, const char *alias)
{
	size_t len = strlen(alias);
	struct nlmsghdr *nlh;

	if (len >= RTLINK_ALIAS_SIZE)
		return -EINVAL;
	nlh = put_link_header(buf, buflen, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex > 0 ? ifindex : 0, 0, 0);
	if (!nlh || (ifindex <= 0 && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	if (!mnl_attr_put_check(nlh, buflen, IFLA_IFALIAS, len, alias))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* RTM_NEWLINK without NLM_F_CREATE on an existing device with only IFLA_GROUP changes its group and
 * nothing else. */
int rtlink_build_set_group(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, uint32_t group)
{
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex > 0 ? ifindex : 0, 0, 0);
	if (!nlh || (ifindex <= 0 && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	if (!mnl_attr_put_u32_check(nlh, buflen, IFLA_GROUP, group))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* With neither an index nor a name, rtnl_dellink() deletes by IFLA_GROUP: every device of the group
 * goes in one unregister_netdevice_many(), which waits for RCU once for all of them. */
int rtlink_build_del_group(void *buf, size_t buflen, uint32_t seq, uint32_t group)
{
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0, 0, 0);
	if (!nlh || !mnl_attr_put_u32_check(nlh, buflen, IFLA_GROUP, group))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int rtlink_build_del(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name)
{
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex > 0 ? ifindex : 0, 0, 0);
	if (!nlh || (ifindex <= 0 && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int rtlink_build_get(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name)
{
	bool dump = ifindex <= 0 && !name;
	struct nlmsghdr *nlh;

	nlh = put_link_header(buf, buflen, RTM_GETLINK, NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0), seq,
	                      ifindex > 0 ? ifindex : 0, 0, 0);
	if (!nlh || (ifindex <= 0 && name && !put_common(nlh, buflen, name, 0, NULL)))
		return -ENOBUFS;
	/* Skip per-VF and stats blobs we never read. */
	if (!mnl_attr_put_u32_check(nlh, buflen, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct rtlink_info *info = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		snprintf(info->kind, sizeof(info->kind), "%.*s", (int)mnl_attr_get_payload_len(a),
		         (const char *)mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct rtlink_info *info = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
			snprintf(info->name, sizeof(info->name), "%.*s", (int)mnl_attr_get_payload_len(a),
			         (const char *)mnl_attr_get_payload(a));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			info->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			info->master = mnl_attr_get_u32(a);
		break;
	case IFLA_GROUP:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			info->group = mnl_attr_get_u32(a);
		break;
	case IFLA_IFALIAS:
		/* The kernel sends it NUL-terminated, iproute2 and we send it without: take either. */
		if (mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
			snprintf(info->alias, sizeof(info->alias), "%.*s", (int)mnl_attr_get_payload_len(a),
			         (const char *)mnl_attr_get_payload(a));
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == RTLINK_MAC_LEN) {
			memcpy(info->mac, mnl_attr_get_payload(a), RTLINK_MAC_LEN);
			info->has_mac = true;
		}
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(a, linkinfo_cb, info);
		break;
	}
	return MNL_CB_OK;
}

int rtlink_parse(const struct nlmsghdr *nlh, struct rtlink_info *ret)
{
	const struct ifinfomsg *ifm;
	struct rtlink_info info = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EBADMSG;
	ifm = mnl_nlmsg_get_payload(nlh);
	info.ifindex = ifm->ifi_index;
	info.flags = ifm->ifi_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &info) < 0)
		return -EBADMSG;
	*ret = info;
	return 0;
}

void rtlink_format_mac(const uint8_t mac[RTLINK_MAC_LEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
