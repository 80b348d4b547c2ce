#include "tc/classify.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

int classify_build_ifb(void *buf, size_t buflen, uint32_t seq, const char *name, bool up)
{
	size_t len = strlen(name);
	struct nlattr *linkinfo;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (!len || len >= IFNAMSIZ)
		return -EINVAL;
	if (buflen < mnl_nlmsg_size(sizeof(*ifm)))
		return -ENOBUFS;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	if (!mnl_attr_put_strz_check(nlh, buflen, IFLA_IFNAME, name))
		return -ENOBUFS;
	linkinfo = mnl_attr_nest_start_check(nlh, buflen, IFLA_LINKINFO);
	if (!linkinfo || !mnl_attr_put_strz_check(nlh, buflen, IFLA_INFO_KIND, "ifb"))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, linkinfo);
	return (int)nlh->nlmsg_len;
}

int classify_build_clsact(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex)
{
	struct tcmsg_qdisc q = {
		.ifindex = veth_ifindex,
		.kind = TCMSG_KIND_CLSACT,
		.parent = TCMSG_CLSACT_PARENT,
		.handle = TCMSG_CLSACT_HANDLE,
	};

	return tcmsg_build_qdisc(buf, buflen, seq, op, &q);
}

int classify_build_redirect(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex,
                            bool from_workload, int ifb_ifindex)
{
	struct tcmsg_u32 f = {
		.ifindex = veth_ifindex,
		.parent = from_workload ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS,
		.prio = from_workload ? CLASSIFY_REDIRECT_PRIO_INGRESS : CLASSIFY_REDIRECT_PRIO_EGRESS,
		/* Every protocol: ARP and IPv6 share the link and the capacity. */
		.protocol = ETH_P_ALL,
		.match = TCMSG_U32_ALL,
		.redirect_ifindex = (uint32_t)ifb_ifindex,
	};

	if (ifb_ifindex <= 0 && op != TCMSG_DEL)
		return -EINVAL;
	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}

int classify_build_veth(void *buf, size_t buflen, uint32_t seq, int veth_ifindex, int ifb_out_ifindex,
                        int ifb_in_ifindex)
{
	char *p = buf;
	size_t off = 0;
	int r;

	r = classify_build_clsact(p, buflen, seq, TCMSG_ADD, veth_ifindex);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = classify_build_redirect(p + off, buflen - off, seq + 1, TCMSG_ADD, veth_ifindex, true, ifb_out_ifindex);
	if (r < 0)
		return r;
	off += (size_t)r;
	r = classify_build_redirect(p + off, buflen - off, seq + 2, TCMSG_ADD, veth_ifindex, false, ifb_in_ifindex);
	if (r < 0)
		return r;
	return (int)(off + (size_t)r);
}

int classify_build_workload(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                            uint16_t major, bool from_workload, uint32_t addr, uint32_t classid, uint32_t handle)
{
	struct tcmsg_u32 f = {
		.ifindex = ifb_ifindex,
		.parent = TCMSG_HANDLE(major, 0),
		.prio = CLASSIFY_WORKLOAD_PRIO,
		.protocol = ETH_P_IP,
		.handle = handle,
		.match = from_workload ? TCMSG_U32_IPV4_SRC : TCMSG_U32_IPV4_DST,
		.addr = addr,
		.prefix_len = 32,
		.classid = classid,
	};

	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}
