#include "tc/classify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
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
		/* DEL: no handle, the whole priority */
		.handle = op == TCMSG_DEL ? 0 : TCMSG_U32_HANDLE(0, 0, CLASSIFY_VETH_NODE),
		.match = TCMSG_U32_ALL,
		.redirect_ifindex = (uint32_t)ifb_ifindex,
	};

	if (ifb_ifindex <= 0 && op != TCMSG_DEL)
		return -EINVAL;
	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}

/* A subnet the handles can number: a network address of at least CLASSIFY_SUBNET_MIN_LEN bits. */
static bool subnet_valid(uint32_t subnet, uint8_t len)
{
	if (len < CLASSIFY_SUBNET_MIN_LEN || len > 32)
		return false;
	return len == 32 || !(subnet & (~0U >> len));
}

static bool in_subnet(uint32_t subnet, uint8_t len, uint32_t addr)
{
	return len == 32 ? addr == subnet : (addr & ~(~0U >> len)) == subnet;
}

int classify_build_exempt(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex,
                          bool from_workload, uint32_t subnet, uint8_t subnet_len)
{
	struct tcmsg_u32 f = {
		.ifindex = veth_ifindex,
		.parent = from_workload ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS,
		.prio = from_workload ? CLASSIFY_EXEMPT_PRIO_INGRESS : CLASSIFY_EXEMPT_PRIO_EGRESS,
		.protocol = ETH_P_IP,
		.handle = op == TCMSG_DEL ? 0 : TCMSG_U32_HANDLE(0, 0, CLASSIFY_VETH_NODE),
		/* From the workload: to a neighbour; to the workload: from a neighbour. */
		.match = from_workload ? TCMSG_U32_IPV4_DST : TCMSG_U32_IPV4_SRC,
		.addr = subnet,
		.prefix_len = subnet_len,
		.classid = CLASSIFY_EXEMPT_CLASSID,
	};

	if (op != TCMSG_DEL && !subnet_valid(subnet, subnet_len))
		return -EINVAL;
	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}

unsigned classify_veth_msgs(bool exempt_local)
{
	return exempt_local ? 5 : 3;
}

int classify_build_veth(void *buf, size_t buflen, uint32_t seq, int veth_ifindex, int ifb_out_ifindex,
                        int ifb_in_ifindex, bool exempt_local, uint32_t subnet, uint8_t subnet_len)
{
	char *p = buf;
	size_t off = 0;
	int r;

	if (exempt_local && !subnet_valid(subnet, subnet_len))
		return -EINVAL;
	/* REPLACE keeps an existing clsact and its filters (6.18), so the whole set can be re-sent. */
	r = classify_build_clsact(p, buflen, seq++, TCMSG_REPLACE, veth_ifindex);
	if (r < 0)
		return r;
	off += (size_t)r;
	/* Each hook in priority order: ingress 1, 2; egress 3, 4. */
	for (int hook = 0; hook < 2; hook++) {
		bool from_workload = hook == 0;

		if (exempt_local) {
			r = classify_build_exempt(p + off, buflen - off, seq++, TCMSG_ADD, veth_ifindex, from_workload, subnet,
			                          subnet_len);
			if (r < 0)
				return r;
			off += (size_t)r;
		}
		r = classify_build_redirect(p + off, buflen - off, seq++, TCMSG_ADD, veth_ifindex, from_workload,
		                            from_workload ? ifb_out_ifindex : ifb_in_ifindex);
		if (r < 0)
			return r;
		off += (size_t)r;
	}
	return (int)off;
}

/* ------------------------------------------------------------------ the IFB's classifier */

int classify_build_hash_table(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                              uint16_t major)
{
	struct tcmsg_u32_table t = {
		.ifindex = ifb_ifindex,
		.parent = TCMSG_HANDLE(major, 0),
		.prio = CLASSIFY_IFB_PRIO,
		.protocol = ETH_P_IP,
		.handle = CLASSIFY_TABLE_HANDLE,
		.divisor = CLASSIFY_HASH_DIVISOR,
	};

	return tcmsg_build_u32_table(buf, buflen, seq, op, &t);
}

int classify_build_hash_link(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                             uint16_t major, uint32_t subnet, uint8_t subnet_len, bool from_workload)
{
	struct tcmsg_u32 f = {
		.ifindex = ifb_ifindex,
		.parent = TCMSG_HANDLE(major, 0),
		.prio = CLASSIFY_IFB_PRIO,
		.protocol = ETH_P_IP,
		/* The full handle, so that REPLACE and DEL find it (a node-only handle is completed
		 * on creation but never looked up: a second ADD of one fails with ENOSPC). */
		.handle = CLASSIFY_LINK_HANDLE,
		.match = from_workload ? TCMSG_U32_IPV4_SRC : TCMSG_U32_IPV4_DST,
		.addr = subnet,
		.prefix_len = subnet_len,
		.link = CLASSIFY_TABLE_HANDLE,
		.hashkey = from_workload ? TCMSG_U32_HASHKEY_IPV4_SRC : TCMSG_U32_HASHKEY_IPV4_DST,
	};

	if (!subnet_valid(subnet, subnet_len))
		return -EINVAL;
	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}

int classify_workload_handle(uint32_t subnet, uint8_t subnet_len, uint32_t addr, uint32_t *ret_handle)
{
	if (!subnet_valid(subnet, subnet_len) || !in_subnet(subnet, subnet_len, addr))
		return -EINVAL;
	/* The bucket is what the link's hash key picks (the last octet); within a bucket the
	 * addresses differ in the host part above the last octet, at most 0xff of it in a /16. */
	*ret_handle = TCMSG_U32_HANDLE(CLASSIFY_HTID, addr & 0xff, 1 + ((addr - subnet) >> 8));
	return 0;
}

int classify_build_workload(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                            uint16_t major, uint32_t subnet, uint8_t subnet_len, uint32_t addr, bool from_workload,
                            uint32_t classid)
{
	struct tcmsg_u32 f = {
		.ifindex = ifb_ifindex,
		.parent = TCMSG_HANDLE(major, 0),
		.prio = CLASSIFY_IFB_PRIO,
		.protocol = ETH_P_IP,
		.match = from_workload ? TCMSG_U32_IPV4_SRC : TCMSG_U32_IPV4_DST,
		.addr = addr,
		.prefix_len = 32,
		.classid = classid,
	};
	int r;

	if (classid && TCMSG_MAJOR(classid) != major)
		return -EINVAL;
	r = classify_workload_handle(subnet, subnet_len, addr, &f.handle);
	if (r < 0)
		return r;
	/* The bucket goes in TCA_U32_HASH: the kernel takes it from there, not from the handle. */
	f.ht = f.handle & ~0xfffu;
	return tcmsg_build_u32(buf, buflen, seq, op, &f);
}

int classify_build_hash_flush(void *buf, size_t buflen, uint32_t seq, int ifb_ifindex, uint16_t major)
{
	/* A delete with a priority and no handle removes the priority's tcf_proto; with it go its
	 * root table, the link and, once no other u32 priority keeps the qdisc's u32 state alive,
	 * our table and every filter in it. */
	struct tcmsg_u32 f = {
		.ifindex = ifb_ifindex,
		.parent = TCMSG_HANDLE(major, 0),
		.prio = CLASSIFY_IFB_PRIO,
		.protocol = ETH_P_IP,
	};

	return tcmsg_build_u32(buf, buflen, seq, TCMSG_DEL, &f);
}

/* Which address a filter keys on, as our from_workload. */
static bool key_from_workload(enum tcmsg_u32_match m, bool *ret)
{
	if (m == TCMSG_U32_IPV4_SRC)
		*ret = true;
	else if (m == TCMSG_U32_IPV4_DST)
		*ret = false;
	else
		return false;
	return true;
}

static int parse_ifb_table(const struct nlmsghdr *nlh, struct classify_ifb_filter *ret)
{
	struct tcmsg_u32_table t;
	int r = tcmsg_parse_u32_table(nlh, &t);

	if (r < 0)
		return r;
	if (t.prio != CLASSIFY_IFB_PRIO || t.protocol != ETH_P_IP)
		return -ENOENT;
	/* The kernel's root tables are 800: and up; ours is what we numbered. */
	if (TCMSG_U32_HTID(t.handle) & 0x800)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->kind = t.handle == CLASSIFY_TABLE_HANDLE ? CLASSIFY_IFB_TABLE : CLASSIFY_IFB_OTHER;
	ret->handle = t.handle;
	ret->divisor = t.divisor;
	return 0;
}

int classify_parse_ifb_filter(const struct nlmsghdr *nlh, struct classify_ifb_filter *ret)
{
	struct classify_ifb_filter c = { .kind = CLASSIFY_IFB_OTHER };
	struct tcmsg_u32 f;
	int r;

	r = parse_ifb_table(nlh, ret);
	if (r != -ENOENT)
		return r;
	r = tcmsg_parse_u32(nlh, &f);
	if (r == -EOPNOTSUPP) {
		/* A u32 filter, but of a shape we never build: still ours to remove when it sits at our
		 * priority. */
		const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

		if (TC_H_MAJ(tcm->tcm_info) >> 16 != CLASSIFY_IFB_PRIO ||
		    ntohs((uint16_t)TC_H_MIN(tcm->tcm_info)) != ETH_P_IP)
			return -ENOENT;
		c.handle = tcm->tcm_handle;
		*ret = c;
		return 0;
	}
	if (r < 0)
		return r;
	if (f.prio != CLASSIFY_IFB_PRIO || f.protocol != ETH_P_IP)
		return -ENOENT;
	c.handle = f.handle;
	if (f.link == CLASSIFY_TABLE_HANDLE && !f.classid && !f.redirect_ifindex &&
	    TCMSG_U32_HTID(f.handle) != CLASSIFY_HTID && key_from_workload(f.match, &c.from_workload) &&
	    f.hashkey == (c.from_workload ? TCMSG_U32_HASHKEY_IPV4_SRC : TCMSG_U32_HASHKEY_IPV4_DST)) {
		c.kind = CLASSIFY_IFB_LINK;
		c.addr = f.addr;
		c.prefix_len = f.prefix_len;
	} else if (TCMSG_U32_HTID(f.handle) == CLASSIFY_HTID && !f.link && f.classid && !f.redirect_ifindex &&
	           f.prefix_len == 32 && key_from_workload(f.match, &c.from_workload)) {
		c.kind = CLASSIFY_IFB_WORKLOAD;
		c.addr = f.addr;
		c.prefix_len = 32;
		c.classid = f.classid;
	}
	*ret = c;
	return 0;
}

/* ------------------------------------------------------------------ the uplink (cgroups) */

int classify_build_uplink(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int uplink_ifindex,
                          bool ingress_hook, int prog_fd, const char *prog_name, int ifb_ifindex)
{
	/* Classic mode (direct_action false): direct-action would never run the redirect. */
	struct tcmsg_bpf f = {
		.ifindex = uplink_ifindex,
		.parent = ingress_hook ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS,
		.prio = CLASSIFY_UPLINK_PRIO,
		.protocol = ETH_P_ALL,
		/* DEL: no handle, the whole priority (only ours is there). */
		.handle = op == TCMSG_DEL ? 0 : CLASSIFY_UPLINK_HANDLE,
		.prog_fd = prog_fd,
		.redirect_ifindex = ifb_ifindex > 0 ? (uint32_t)ifb_ifindex : 0,
	};
	size_t name_len;

	if (uplink_ifindex <= 0)
		return -EINVAL;
	if (op != TCMSG_DEL) {
		name_len = prog_name ? strlen(prog_name) : 0;
		if (prog_fd < 0 || !name_len || name_len >= CLASSIFY_PROG_NAME_MAX || ifb_ifindex <= 0)
			return -EINVAL;
		memcpy(f.name, prog_name, name_len + 1);
	}
	return tcmsg_build_bpf(buf, buflen, seq, op, &f);
}

int classify_parse_uplink_filter(const struct nlmsghdr *nlh, struct classify_uplink_filter *ret)
{
	struct tcmsg_bpf f;
	int r;

	r = tcmsg_parse_bpf(nlh, &f);
	if (r < 0)
		return r;
	if (f.parent != TCMSG_CLSACT_INGRESS && f.parent != TCMSG_CLSACT_EGRESS)
		return -ENOENT;
	if (f.prio != CLASSIFY_UPLINK_PRIO)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->ingress_hook = f.parent == TCMSG_CLSACT_INGRESS;
	ret->prio = f.prio;
	ret->protocol = f.protocol;
	ret->handle = f.handle;
	memcpy(ret->prog_name, f.name, sizeof(ret->prog_name));
	ret->prog_id = f.prog_id;
	ret->direct_action = f.direct_action;
	ret->redirect_ifindex = f.redirect_ifindex;
	return 0;
}
