#include "overlay/vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "overlay/internal.h"

void vxlan_name(uint32_t vni, char name[RTLINK_NAME_SIZE])
{
	snprintf(name, RTLINK_NAME_SIZE, VXLAN_NAME_PREFIX "%u", vni);
}

static struct nlmsghdr *put_link_header(void *buf, size_t buflen, uint16_t flags, uint32_t seq, int ifindex,
                                        bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (buflen < mnl_nlmsg_size(sizeof(*ifm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = up ? IFF_UP : 0;
	return nlh;
}

/* IFLA_VXLAN_LOCAL and _PORT are in network byte order, _ID and _LINK in host order.  LEARNING is
 * sent explicitly: the kernel's default is on, and a learning VTEP would answer a peer's moved MAC
 * from its own guess instead of our FDB.  An IPv6 local address goes in IFLA_VXLAN_LOCAL6, which
 * makes the device an IPv6 one (VXLAN_F_IPV6: its socket, its remotes and its MTU headroom of 70
 * bytes are IPv6's); IFLA_VXLAN_LOCAL must then be absent. */
int vxlan_build(void *buf, size_t buflen, uint32_t seq, const struct vxlan_link *v)
{
	const uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	uint32_t local = htonl(v->local.v4);
	struct nlattr *linkinfo, *data;
	struct nlmsghdr *nlh;

	if (v->vni > VXLAN_VNI_MAX)
		return -EINVAL;
	nlh = put_link_header(buf, buflen, flags, seq, 0, v->up);
	if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, IFLA_IFNAME, v->name) ||
	    !mnl_attr_put_check(nlh, buflen, IFLA_ADDRESS, RTLINK_MAC_LEN, v->mac))
		return -ENOBUFS;
	if (v->mtu && !mnl_attr_put_u32_check(nlh, buflen, IFLA_MTU, v->mtu))
		return -ENOBUFS;
	linkinfo = mnl_attr_nest_start_check(nlh, buflen, IFLA_LINKINFO);
	if (!linkinfo || !mnl_attr_put_strz_check(nlh, buflen, IFLA_INFO_KIND, "vxlan"))
		return -ENOBUFS;
	data = mnl_attr_nest_start_check(nlh, buflen, IFLA_INFO_DATA);
	if (!data || !mnl_attr_put_u32_check(nlh, buflen, IFLA_VXLAN_ID, v->vni) ||
	    (v->local.family == AF_INET && !mnl_attr_put_check(nlh, buflen, IFLA_VXLAN_LOCAL, 4, &local)) ||
	    (v->local.family == AF_INET6 && !mnl_attr_put_check(nlh, buflen, IFLA_VXLAN_LOCAL6, 16, v->local.v6)) ||
	    (v->link > 0 && !mnl_attr_put_u32_check(nlh, buflen, IFLA_VXLAN_LINK, (uint32_t)v->link)) ||
	    !mnl_attr_put_u16_check(nlh, buflen, IFLA_VXLAN_PORT, htons(v->port)) ||
	    !mnl_attr_put_u8_check(nlh, buflen, IFLA_VXLAN_LEARNING, v->learning ? 1 : 0))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return (int)nlh->nlmsg_len;
}

/* A VXLAN device accepts a new MAC while up (IFF_LIVE_ADDR_CHANGE): no flap for the peers. */
int vxlan_build_set(void *buf, size_t buflen, uint32_t seq, int ifindex, const uint8_t mac[RTLINK_MAC_LEN],
                    uint32_t mtu)
{
	struct nlmsghdr *nlh = put_link_header(buf, buflen, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex, true);

	if (!nlh || !mnl_attr_put_check(nlh, buflen, IFLA_ADDRESS, RTLINK_MAC_LEN, mac))
		return -ENOBUFS;
	if (mtu && !mnl_attr_put_u32_check(nlh, buflen, IFLA_MTU, mtu))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

static int data_cb(const struct nlattr *a, void *data)
{
	struct vxlan_link *v = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_VXLAN_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			v->vni = mnl_attr_get_u32(a);
		break;
	case IFLA_VXLAN_LOCAL:
		if (mnl_attr_get_payload_len(a) == 4) {
			v->local.family = AF_INET;
			v->local.v4 = ntohl(*(const uint32_t *)mnl_attr_get_payload(a));
		}
		break;
	case IFLA_VXLAN_LOCAL6:
		if (mnl_attr_get_payload_len(a) == 16) {
			v->local.family = AF_INET6;
			memcpy(v->local.v6, mnl_attr_get_payload(a), 16);
		}
		break;
	case IFLA_VXLAN_LINK:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			v->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_VXLAN_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			v->port = ntohs(mnl_attr_get_u16(a));
		break;
	case IFLA_VXLAN_LEARNING:
		if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
			v->learning = mnl_attr_get_u8(a) != 0;
		break;
	}
	return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
		mnl_attr_parse_nested(a, data_cb, data);
	return MNL_CB_OK;
}

static int top_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
		mnl_attr_parse_nested(a, linkinfo_cb, data);
	return MNL_CB_OK;
}

int vxlan_parse(const struct nlmsghdr *nlh, struct vxlan_info *ret)
{
	struct vxlan_info info = { 0 };
	int r;

	r = rtlink_parse(nlh, &info.link);
	if (r < 0)
		return r;
	info.is_vxlan = strcmp(info.link.kind, "vxlan") == 0;
	snprintf(info.v.name, sizeof(info.v.name), "%s", info.link.name);
	memcpy(info.v.mac, info.link.mac, RTLINK_MAC_LEN);
	info.v.mtu = info.link.mtu;
	info.v.up = info.link.flags & IFF_UP;
	/* A kernel that does not report LEARNING has it on, its default. */
	info.v.learning = true;
	if (info.is_vxlan && mnl_attr_parse(nlh, sizeof(struct ifinfomsg), top_cb, &info.v) < 0)
		return -EBADMSG;
	*ret = info;
	return 0;
}

bool vxlan_same_params(const struct vxlan_link *have, const struct vxlan_link *want)
{
	return have->vni == want->vni && ipaddr_equal(&have->local, &want->local) && have->link == want->link &&
	       have->port == want->port && have->learning == want->learning;
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	return vxlan_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int vxlan_get(struct nlsock *s, const char *name, struct vxlan_info *ret)
{
	char buf[256] = { 0 }, kerr[NLSOCK_ERRLEN];
	struct vxlan_info info = { 0 };
	int r;

	r = rtlink_build_get(buf, sizeof(buf), 0, 0, name);
	if (r < 0)
		return r;
	r = nlsock_query(s, buf, get_cb, NULL, &info, kerr);
	if (r < 0)
		return r;
	if (info.link.ifindex == 0)
		return -ENODEV;
	*ret = info;
	return 0;
}

static void describe(const struct vxlan_info *i, char *out, size_t len)
{
	char ip[IPADDR_STRLEN];

	if (!i->is_vxlan)
		snprintf(out, len, "a %s device", i->link.kind[0] ? i->link.kind : "plain");
	else
		snprintf(out, len, "vni %u local %s dev #%d dstport %u%s", i->v.vni,
		         i->v.local.family ? ipaddr_format(&i->v.local, ip) : "none", i->v.link, i->v.port,
		         i->v.learning ? " learning" : "");
}

int vxlan_ensure(struct nlsock *s, const struct vxlan_link *want, int *ret_ifindex, bool *ret_replaced,
                 char err[OVERLAY_ERRLEN])
{
	char buf[512] = { 0 }, kerr[NLSOCK_ERRLEN], old[200] = "";
	struct vxlan_info have;
	bool replaced = false;
	int r;

	r = vxlan_get(s, want->name, &have);
	if (r == 0 && !(have.is_vxlan && vxlan_same_params(&have.v, want))) {
		describe(&have, old, sizeof(old));
		r = overlay_transact1(s, buf, rtlink_build_del(buf, sizeof(buf), nlsock_next_seq(s), have.link.ifindex, NULL),
		                      kerr);
		if (r < 0 && r != -ENODEV) {
			overlay_fmt_err(err, r, kerr, "delete %s (%s) to recreate it", want->name, old);
			return r;
		}
		replaced = true;
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = overlay_transact1(s, buf, vxlan_build(buf, sizeof(buf), nlsock_next_seq(s), want), kerr);
		if (r < 0) {
			char ip[IPADDR_STRLEN];

			overlay_fmt_err(err, r, kerr, "create vxlan %s (vni %u local %s dev #%d dstport %u)", want->name,
			                want->vni, ipaddr_format(&want->local, ip), want->link, want->port);
			return r;
		}
		r = vxlan_get(s, want->name, &have);
	}
	if (r < 0) {
		overlay_fmt_err(err, r, NULL, "look up %s", want->name);
		return r;
	}
	if (memcmp(have.v.mac, want->mac, RTLINK_MAC_LEN) != 0 || (want->mtu && have.v.mtu != want->mtu) ||
	    (want->up && !have.v.up)) {
		r = overlay_transact1(s, buf, vxlan_build_set(buf, sizeof(buf), nlsock_next_seq(s), have.link.ifindex,
		                                              want->mac, want->mtu), kerr);
		if (r < 0) {
			overlay_fmt_err(err, r, kerr, "set MAC, MTU %u and up on %s", want->mtu, want->name);
			return r;
		}
	}
	if (replaced)
		snprintf(err, OVERLAY_ERRLEN, "%s had other parameters (%s)", want->name, old);
	*ret_ifindex = have.link.ifindex;
	*ret_replaced = replaced;
	return 0;
}
