/* The multi-host overlay without root: the VXLAN device, neighbour and FDB messages built and read
 * back attribute by attribute; the per-peer plan (desired peers against observed kernel entries),
 * which decides what a restart keeps and what a departed host leaves behind; and the conversion of
 * the store's subnet records, where garbage must be skipped without touching good entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netd/peers.h"
#include "overlay/peer.h"
#include "overlay/rtneigh.h"
#include "overlay/rtroute.h"
#include "overlay/vxlan.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SEQ 0x5e0a1234u
#define GUARD 64
#define VX 7      /* ifindex of shoal.1 */
#define UL 3      /* ifindex of the underlay */

static const uint8_t MAC_A[6] = { 0x02, 0xaa, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_B[6] = { 0x02, 0xbb, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t MAC_C[6] = { 0x02, 0xcc, 0x00, 0x00, 0x00, 0x03 };

/* fd00:5a::<last> (an IPv6 underlay address) */
static struct ipaddr v6(uint8_t last)
{
	struct ipaddr a = { .family = AF_INET6, .v6 = { 0xfd, 0x00, 0x00, 0x5a } };

	a.v6[15] = last;
	return a;
}

/* ---- short buffers: every length below the need fails and writes nothing past it ---- */

typedef int (*build_fn)(void *buf, size_t len, const void *arg);

static void check_short_buffers(build_fn fn, const void *arg)
{
	_Alignas(8) unsigned char big[1024];
	int need = fn(big, sizeof(big), arg);

	assert_true(need > 0);
	for (int len = 0; len < need; len++) {
		unsigned char *b = malloc((size_t)len + GUARD);

		assert_non_null(b);
		memset(b, 0x5a, (size_t)len + GUARD);
		assert_int_equal(fn(b, (size_t)len, arg), -ENOBUFS);
		for (int i = 0; i < GUARD; i++)
			assert_int_equal(b[len + i], 0x5a);
		free(b);
	}
	assert_int_equal(fn(big, (size_t)need, arg), need);
}

/* ---- VXLAN device ---- */

static struct vxlan_link vx_full(void)
{
	struct vxlan_link v = { .name = "shoal.1", .vni = 1, .local = IPADDR_V4(IP(198, 18, 0, 2)), .link = UL,
	                        .port = 8472, .learning = false, .mtu = 1450, .up = true };

	memcpy(v.mac, MAC_A, 6);
	return v;
}

static int b_vxlan(void *buf, size_t len, const void *arg)
{
	return vxlan_build(buf, len, SEQ, arg);
}

static int b_vxlan_set(void *buf, size_t len, const void *arg)
{
	return vxlan_build_set(buf, len, SEQ, 9, arg, 1450);
}

static void test_vxlan_build(void **state)
{
	_Alignas(8) char buf[512];
	struct vxlan_link v = vx_full();
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct ifinfomsg *ifm;
	int len = vxlan_build(buf, sizeof(buf), SEQ, &v);

	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_flags & IFF_UP, IFF_UP);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	check_short_buffers(b_vxlan, &v);
	v.vni = VXLAN_VNI_MAX + 1;
	assert_int_equal(vxlan_build(buf, sizeof(buf), SEQ, &v), -EINVAL);
}

/* The kernel reads LOCAL and PORT in network byte order: check the wire bytes, not only our parser. */
static int wire_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= IFLA_VXLAN_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int info_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, wire_cb, data);
	return MNL_CB_OK;
}

static int link_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, info_cb, data);
	return MNL_CB_OK;
}

static void test_vxlan_wire_and_round_trip(void **state)
{
	_Alignas(8) char buf[512];
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1] = { 0 };
	struct vxlan_link v = vx_full();
	struct vxlan_info info;
	uint8_t local[4] = { 198, 18, 0, 2 };

	assert_true(vxlan_build(buf, sizeof(buf), SEQ, &v) > 0);
	mnl_attr_parse((const struct nlmsghdr *)buf, sizeof(struct ifinfomsg), link_cb, tb);
	assert_non_null(tb[IFLA_VXLAN_LOCAL]);
	assert_memory_equal(mnl_attr_get_payload(tb[IFLA_VXLAN_LOCAL]), local, 4);
	assert_int_equal(mnl_attr_get_u16(tb[IFLA_VXLAN_PORT]), htons(8472));
	assert_int_equal(mnl_attr_get_u32(tb[IFLA_VXLAN_ID]), 1);
	assert_int_equal(mnl_attr_get_u32(tb[IFLA_VXLAN_LINK]), UL);
	assert_non_null(tb[IFLA_VXLAN_LEARNING]);   /* explicit: the kernel's default is on */
	assert_int_equal(mnl_attr_get_u8(tb[IFLA_VXLAN_LEARNING]), 0);

	assert_int_equal(vxlan_parse((const struct nlmsghdr *)buf, &info), 0);
	assert_true(info.is_vxlan);
	assert_string_equal(info.v.name, "shoal.1");
	assert_int_equal(info.v.vni, 1);
	assert_int_equal(info.v.local.family, AF_INET);
	assert_int_equal(info.v.local.v4, IP(198, 18, 0, 2));
	assert_int_equal(info.v.link, UL);
	assert_int_equal(info.v.port, 8472);
	assert_false(info.v.learning);
	assert_int_equal(info.v.mtu, 1450);
	assert_memory_equal(info.v.mac, MAC_A, 6);
	assert_true(vxlan_same_params(&info.v, &v));
}

static void test_vxlan_same_params(void **state)
{
	struct vxlan_link a = vx_full(), b = vx_full();

	/* MAC and MTU are fixed in place; these need a new device. */
	b.mtu = 1400;
	b.mac[5] ^= 1;
	assert_true(vxlan_same_params(&a, &b));
	b = a, b.vni = 2;
	assert_false(vxlan_same_params(&a, &b));
	b = a, b.local = IPADDR_V4(IP(198, 18, 0, 9));
	assert_false(vxlan_same_params(&a, &b));
	b = a, b.link = UL + 1;
	assert_false(vxlan_same_params(&a, &b));
	b = a, b.port = 4789;
	assert_false(vxlan_same_params(&a, &b));
	b = a, b.learning = true;
	assert_false(vxlan_same_params(&a, &b));
}

/* An IPv6 underlay: the local address goes in IFLA_VXLAN_LOCAL6 (which makes the device an IPv6
 * one), never in IFLA_VXLAN_LOCAL; it reads back as the same address; and a device of the other
 * family, or with another IPv6 address, is not adopted. */
static void test_vxlan_ipv6_local(void **state)
{
	_Alignas(8) char buf[512];
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1] = { 0 };
	struct vxlan_link v = vx_full(), other;
	struct vxlan_info info;

	v.local = v6(2);
	v.mtu = 1430;
	assert_true(vxlan_build(buf, sizeof(buf), SEQ, &v) > 0);
	mnl_attr_parse((const struct nlmsghdr *)buf, sizeof(struct ifinfomsg), link_cb, tb);
	assert_null(tb[IFLA_VXLAN_LOCAL]);
	assert_non_null(tb[IFLA_VXLAN_LOCAL6]);
	assert_int_equal(mnl_attr_get_payload_len(tb[IFLA_VXLAN_LOCAL6]), 16);
	assert_memory_equal(mnl_attr_get_payload(tb[IFLA_VXLAN_LOCAL6]), v.local.v6, 16);
	assert_int_equal(mnl_attr_get_u16(tb[IFLA_VXLAN_PORT]), htons(8472));
	check_short_buffers(b_vxlan, &v);

	assert_int_equal(vxlan_parse((const struct nlmsghdr *)buf, &info), 0);
	assert_int_equal(info.v.local.family, AF_INET6);
	assert_memory_equal(info.v.local.v6, v.local.v6, 16);
	assert_int_equal(info.v.mtu, 1430);
	assert_true(vxlan_same_params(&info.v, &v));
	other = v, other.local = v6(3);
	assert_false(vxlan_same_params(&info.v, &other));
	other = v, other.local = vx_full().local;   /* the same device on an IPv4 underlay */
	assert_false(vxlan_same_params(&info.v, &other));
	assert_false(vxlan_same_params(&other, &info.v));
	/* no local address at all (a device made by hand): neither attribute, and not ours */
	other = v, other.local = (struct ipaddr){ 0 };
	memset(tb, 0, sizeof(tb));
	assert_true(vxlan_build(buf, sizeof(buf), SEQ, &other) > 0);
	mnl_attr_parse((const struct nlmsghdr *)buf, sizeof(struct ifinfomsg), link_cb, tb);
	assert_null(tb[IFLA_VXLAN_LOCAL]);
	assert_null(tb[IFLA_VXLAN_LOCAL6]);
	assert_int_equal(vxlan_parse((const struct nlmsghdr *)buf, &info), 0);
	assert_int_equal(info.v.local.family, 0);
	assert_false(vxlan_same_params(&info.v, &v));
}

static void test_vxlan_set_and_name(void **state)
{
	_Alignas(8) char buf[256];
	struct rtlink_info info;
	char name[RTLINK_NAME_SIZE];

	assert_true(vxlan_build_set(buf, sizeof(buf), SEQ, 9, MAC_B, 1450) > 0);
	assert_int_equal(rtlink_parse((const struct nlmsghdr *)buf, &info), 0);
	assert_int_equal(info.ifindex, 9);
	assert_int_equal(info.mtu, 1450);
	assert_memory_equal(info.mac, MAC_B, 6);
	assert_int_equal(info.flags & IFF_UP, IFF_UP);
	check_short_buffers(b_vxlan_set, MAC_B);
	vxlan_name(1, name);
	assert_string_equal(name, "shoal.1");
	vxlan_name(VXLAN_VNI_MAX, name);
	assert_string_equal(name, "shoal.16777215");   /* fits IFNAMSIZ */
}

/* ---- neighbours and FDB ---- */

static void test_neigh_round_trip(void **state)
{
	_Alignas(8) char buf[RTNEIGH_MAXLEN];
	const struct nlmsghdr *nlh = (const void *)buf;
	struct rtneigh n;
	int len;

	len = rtneigh_build_neigh(buf, sizeof(buf), SEQ, RTM_NEWNEIGH, VX, IP(10, 244, 3, 0), MAC_A);
	assert_true(len > 0 && len <= RTNEIGH_MAXLEN);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(rtneigh_parse(nlh, &n), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.ifindex, VX);
	assert_int_equal(n.state, NUD_PERMANENT);
	assert_int_equal(n.flags, 0);
	assert_int_equal(n.dst, IP(10, 244, 3, 0));
	assert_true(n.has_mac);
	assert_memory_equal(n.mac, MAC_A, 6);

	/* Delete: the address alone (a MAC would not be needed, and is not sent). */
	len = rtneigh_build_neigh(buf, sizeof(buf), SEQ, RTM_DELNEIGH, VX, IP(10, 244, 3, 0), MAC_A);
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_type, RTM_DELNEIGH);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(len, (int)mnl_nlmsg_size(MNL_ALIGN(sizeof(struct ndmsg)) + MNL_ATTR_HDRLEN + 4));
}

static void test_fdb_round_trip(void **state)
{
	_Alignas(8) char buf[RTNEIGH_MAXLEN];
	const struct nlmsghdr *nlh = (const void *)buf;
	struct rtneigh n;
	int len;

	len = rtneigh_build_fdb(buf, sizeof(buf), SEQ, RTM_NEWNEIGH, VX, MAC_B, &IPADDR_V4(IP(198, 18, 0, 3)));
	assert_true(len > 0 && len <= RTNEIGH_MAXLEN);
	/* REPLACE without APPEND: one remote per MAC, never a second one to flood to. */
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(rtneigh_parse(nlh, &n), 0);
	assert_int_equal(n.family, AF_BRIDGE);
	assert_int_equal(n.flags, NTF_SELF);
	assert_int_equal(n.state, NUD_PERMANENT);
	assert_int_equal(n.dst, IP(198, 18, 0, 3));
	assert_memory_equal(n.mac, MAC_B, 6);

	len = rtneigh_build_fdb(buf, sizeof(buf), SEQ, RTM_DELNEIGH, VX, MAC_B, NULL);
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_type, RTM_DELNEIGH);
	nlh = (const void *)buf;
	assert_int_equal(((const struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_flags, NTF_SELF);
}

static int b_fdb6(void *buf, size_t len, const void *arg)
{
	const struct ipaddr remote = v6(3);

	return rtneigh_build_fdb(buf, len, SEQ, RTM_NEWNEIGH, VX, arg, &remote);
}

/* An IPv6 remote: NDA_DST of 16 bytes (the kernel tells the family by the length), read back. */
static void test_fdb_ipv6_round_trip(void **state)
{
	_Alignas(8) char buf[RTNEIGH_MAXLEN];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nlattr *dst = NULL, *a;
	struct ipaddr remote = v6(3);
	struct rtneigh n;
	int len;

	len = rtneigh_build_fdb(buf, sizeof(buf), SEQ, RTM_NEWNEIGH, VX, MAC_B, &remote);
	assert_true(len > 0 && len <= RTNEIGH_MAXLEN);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	mnl_attr_for_each(a, nlh, sizeof(struct ndmsg))
		if (mnl_attr_get_type(a) == NDA_DST)
			dst = a;
	assert_non_null(dst);
	assert_int_equal(mnl_attr_get_payload_len(dst), 16);
	assert_memory_equal(mnl_attr_get_payload(dst), remote.v6, 16);
	assert_int_equal(rtneigh_parse(nlh, &n), 0);
	assert_int_equal(n.family, AF_BRIDGE);
	assert_int_equal(n.flags, NTF_SELF);
	assert_int_equal(n.state, NUD_PERMANENT);
	assert_true(n.dst_v6);
	assert_int_equal(n.dst, 0);
	assert_memory_equal(n.dst6, remote.v6, 16);
	assert_memory_equal(n.mac, MAC_B, 6);
	check_short_buffers(b_fdb6, MAC_B);

	/* the delete names the MAC only, whatever the remote's family */
	assert_int_equal(rtneigh_build_fdb(buf, sizeof(buf), SEQ, RTM_DELNEIGH, VX, MAC_B, &remote),
	                 rtneigh_build_fdb(buf, sizeof(buf), SEQ, RTM_DELNEIGH, VX, MAC_B, NULL));
	assert_int_equal(rtneigh_parse((const struct nlmsghdr *)buf, &n), -EBADMSG);   /* a DELNEIGH */
}

static int b_neigh(void *buf, size_t len, const void *arg)
{
	return rtneigh_build_neigh(buf, len, SEQ, RTM_NEWNEIGH, VX, IP(10, 244, 3, 0), arg);
}

static int b_fdb(void *buf, size_t len, const void *arg)
{
	return rtneigh_build_fdb(buf, len, SEQ, RTM_NEWNEIGH, VX, arg, &IPADDR_V4(IP(198, 18, 0, 3)));
}

static int b_neigh_dump(void *buf, size_t len, const void *arg)
{
	return rtneigh_build_dump(buf, len, SEQ, AF_BRIDGE);
}

static int b_route_dump_proto(void *buf, size_t len, const void *arg)
{
	return rtroute_build_dump_proto(buf, len, SEQ, RTROUTE_PROTO_SHOAL);
}

static void test_dumps_and_short_buffers(void **state)
{
	_Alignas(8) char buf[64];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct rtmsg *rtm;

	assert_true(rtneigh_build_dump(buf, sizeof(buf), SEQ, AF_INET) > 0);
	assert_int_equal(nlh->nlmsg_type, RTM_GETNEIGH);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(((const struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family, AF_INET);
	assert_true(rtroute_build_dump_proto(buf, sizeof(buf), SEQ, RTROUTE_PROTO_SHOAL) > 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_protocol, RTROUTE_PROTO_SHOAL);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	check_short_buffers(b_neigh, MAC_A);
	check_short_buffers(b_fdb, MAC_B);
	check_short_buffers(b_neigh_dump, NULL);
	check_short_buffers(b_route_dump_proto, NULL);
}

/* What the kernel sends for an IPv6 neighbour, and a VXLAN FDB entry with an IPv6 remote. */
static void test_neigh_parse_rejects(void **state)
{
	_Alignas(8) char buf[128];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	struct rtneigh n;
	uint8_t v6[16] = { 0xfd };

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET6;
	assert_int_equal(rtneigh_parse(nlh, &n), -EAFNOSUPPORT);
	ndm->ndm_family = AF_BRIDGE;
	mnl_attr_put(nlh, NDA_DST, 16, v6);
	assert_int_equal(rtneigh_parse(nlh, &n), 0);
	assert_true(n.dst_v6);
	assert_int_equal(n.dst, 0);
	nlh->nlmsg_type = RTM_DELNEIGH;
	assert_int_equal(rtneigh_parse(nlh, &n), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	assert_int_equal(rtneigh_parse(nlh, &n), -EBADMSG);
}

/* ---- the plan ---- */

static const struct peer_ctx CTX = { .vxlan_ifindex = VX, .underlay_ifindex = UL };

static struct peer_want want_at(uint8_t third, struct ipaddr pub, const uint8_t mac[6], bool direct)
{
	struct peer_want w = { .subnet = IP(10, 244, third, 0), .len = 24, .public_ip = pub, .direct = direct };

	memcpy(w.mac, mac, 6);
	return w;
}

static struct peer_want want(uint8_t third, uint32_t pub, const uint8_t mac[6], bool direct)
{
	return want_at(third, IPADDR_V4(pub), mac, direct);
}

/* The entries peer_apply would leave for w: what a correct kernel looks like. */
struct kernel {
	struct peer_neigh n[16];
	struct peer_fdb f[16];
	struct peer_route r[16];
	struct peer_observed o;
};

static void kernel_add(struct kernel *k, const struct peer_want *w)
{
	struct peer_observed *o = &k->o;

	o->neighs = k->n;
	o->fdbs = k->f;
	o->routes = k->r;
	if (w->direct) {
		k->r[o->n_routes++] = (struct peer_route){ .dst = w->subnet, .len = w->len, .gw = w->public_ip, .oif = UL };
		return;
	}
	k->n[o->n_neighs] = (struct peer_neigh){ .addr = w->subnet, .permanent = true };
	memcpy(k->n[o->n_neighs++].mac, w->mac, 6);
	k->f[o->n_fdbs] = (struct peer_fdb){ .dst = w->public_ip, .permanent = true };
	memcpy(k->f[o->n_fdbs++].mac, w->mac, 6);
	k->r[o->n_routes++] = (struct peer_route){ .dst = w->subnet, .len = w->len, .gw = IPADDR_V4(w->subnet),
	                                           .oif = VX, .onlink = true };
}

static size_t plan(const struct peer_want *w, size_t n, const struct peer_observed *o, struct peer_action **ret)
{
	size_t n_acts = 99;

	assert_int_equal(peer_plan(&CTX, w, n, o, ret, &n_acts), 0);
	return n_acts;
}

static void test_plan_empty_kernel_adds_in_order(void **state)
{
	struct peer_want w[2] = { want(3, IP(198, 18, 0, 3), MAC_A, false), want(4, IP(198, 18, 0, 4), MAC_B, false) };
	struct peer_observed none = { 0 };
	struct peer_action *a;
	enum peer_op order[] = { PEER_NEIGH_SET, PEER_NEIGH_SET, PEER_FDB_SET, PEER_FDB_SET, PEER_ROUTE_SET,
	                         PEER_ROUTE_SET };

	assert_int_equal(plan(w, 2, &none, &a), 6);
	/* Neighbour and FDB before the route that sends traffic to them. */
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(a[i].op, order[i]);
		assert_int_equal(a[i].want, i % 2);
	}
	free(a);
}

/* A restart finds everything in place: nothing is touched, so no packet is lost. */
static void test_plan_adopts_correct_entries(void **state)
{
	struct peer_want w[3] = { want(3, IP(198, 18, 0, 3), MAC_A, false), want(4, IP(198, 18, 0, 4), MAC_B, false),
	                          want(5, IP(198, 18, 0, 5), MAC_C, true) };
	struct kernel k = { 0 };
	struct peer_action *a;

	for (int i = 0; i < 3; i++)
		kernel_add(&k, &w[i]);
	assert_int_equal(plan(w, 3, &k.o, &a), 0);
	free(a);
	/* Nothing desired (no other node): everything of ours goes, routes first. */
	assert_int_equal(plan(NULL, 0, &k.o, &a), 3 + 2 + 2);
	assert_int_equal(a[0].op, PEER_ROUTE_DEL);
	assert_int_equal(a[2].op, PEER_ROUTE_DEL);
	assert_int_equal(a[3].op, PEER_NEIGH_DEL);
	assert_int_equal(a[5].op, PEER_FDB_DEL);
	free(a);
}

static void test_plan_host_left(void **state)
{
	struct peer_want w[2] = { want(3, IP(198, 18, 0, 3), MAC_A, false), want(4, IP(198, 18, 0, 4), MAC_B, false) };
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w[0]);
	kernel_add(&k, &w[1]);
	/* Node of 10.244.4.0/24 gone: exactly its three entries are deleted. */
	assert_int_equal(plan(w, 1, &k.o, &a), 3);
	assert_int_equal(a[0].op, PEER_ROUTE_DEL);
	assert_int_equal(k.r[a[0].obs].dst, IP(10, 244, 4, 0));
	assert_int_equal(a[1].op, PEER_NEIGH_DEL);
	assert_int_equal(k.n[a[1].obs].addr, IP(10, 244, 4, 0));
	assert_int_equal(a[2].op, PEER_FDB_DEL);
	assert_memory_equal(k.f[a[2].obs].mac, MAC_B, 6);
	free(a);
}

/* A peer restarted on another underlay address: its FDB entry is replaced in place, the rest kept. */
static void test_plan_public_ip_changed(void **state)
{
	struct peer_want w = want(3, IP(198, 18, 0, 3), MAC_A, false);
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w);
	w.public_ip = IPADDR_V4(IP(198, 18, 0, 33));
	assert_int_equal(plan(&w, 1, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_FDB_SET);
	free(a);
}

/* A new VTEP MAC: the old MAC's FDB entry goes, the neighbour is replaced, the route stays. */
static void test_plan_mac_changed(void **state)
{
	struct peer_want w = want(3, IP(198, 18, 0, 3), MAC_A, false);
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w);
	memcpy(w.mac, MAC_C, 6);
	assert_int_equal(plan(&w, 1, &k.o, &a), 3);
	assert_int_equal(a[0].op, PEER_FDB_DEL);
	assert_memory_equal(k.f[a[0].obs].mac, MAC_A, 6);
	assert_int_equal(a[1].op, PEER_NEIGH_SET);
	assert_int_equal(a[2].op, PEER_FDB_SET);
	free(a);
}

static void test_plan_repairs_wrong_entries(void **state)
{
	struct peer_want w = want(3, IP(198, 18, 0, 3), MAC_A, false);
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w);
	/* The kernel's own entry (it tried to resolve .0 itself) becomes our permanent one. */
	k.n[0].permanent = false;
	k.r[0].onlink = false;
	assert_int_equal(plan(&w, 1, &k.o, &a), 2);
	assert_int_equal(a[0].op, PEER_NEIGH_SET);
	assert_int_equal(a[1].op, PEER_ROUTE_SET);
	free(a);
	/* A route of ours on the wrong device is replaced in place, not deleted. */
	k.n[0].permanent = true;
	k.r[0].onlink = true;
	k.r[0].oif = 42;
	assert_int_equal(plan(&w, 1, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_ROUTE_SET);
	free(a);
}

/* The kernel's dynamic neighbours on our device are left to age out; a leftover route of ours with
 * another metric is a second route and goes. */
static void test_plan_leaves_dynamic_neighbours(void **state)
{
	struct peer_want w = want(3, IP(198, 18, 0, 3), MAC_A, false);
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w);
	k.n[k.o.n_neighs++] = (struct peer_neigh){ .addr = IP(10, 244, 9, 0), .permanent = false };
	k.r[k.o.n_routes] = k.r[0];
	k.r[k.o.n_routes++].priority = 100;
	assert_int_equal(plan(&w, 1, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_ROUTE_DEL);
	assert_int_equal(a[0].obs, 1);
	free(a);
}

/* Switching a peer to direct routing: the route is replaced in place (no gap), its VXLAN entries go. */
static void test_plan_direct_routing_switch(void **state)
{
	struct peer_want w = want(3, IP(198, 18, 0, 3), MAC_A, false);
	struct kernel k = { 0 };
	struct peer_action *a;

	kernel_add(&k, &w);
	w.direct = true;
	assert_int_equal(plan(&w, 1, &k.o, &a), 3);
	assert_int_equal(a[0].op, PEER_NEIGH_DEL);
	assert_int_equal(a[1].op, PEER_FDB_DEL);
	assert_int_equal(a[2].op, PEER_ROUTE_SET);
	free(a);
}

/* IPv6 underlay peers: the FDB entries carry IPv6 remotes, a direct route goes via inet6; correct
 * entries are adopted and a moved peer's FDB entry (also across families) is replaced in place. */
static void test_plan_ipv6_peers(void **state)
{
	struct peer_want w[3] = { want_at(3, v6(3), MAC_A, false), want_at(4, v6(4), MAC_B, false),
	                          want_at(5, v6(5), MAC_C, true) };
	struct kernel k = { 0 };
	struct peer_action *a;
	struct peer_observed none = { 0 };
	char out[200];

	for (int i = 0; i < 3; i++)
		kernel_add(&k, &w[i]);
	assert_int_equal(k.f[0].dst.family, AF_INET6);
	assert_int_equal(plan(w, 3, &k.o, &a), 0);
	free(a);

	/* the peer moved to another IPv6 address: only its FDB entry changes */
	w[0].public_ip = v6(33);
	assert_int_equal(plan(w, 3, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_FDB_SET);
	assert_int_equal(a[0].want, 0);
	free(a);
	/* an FDB entry with an IPv4 remote for an IPv6 peer (the cluster moved to IPv6) is replaced */
	w[0].public_ip = v6(3);
	k.f[1].dst = IPADDR_V4(IP(198, 18, 0, 4));
	assert_int_equal(plan(w, 3, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_FDB_SET);
	assert_int_equal(a[0].want, 1);
	free(a);
	k.f[1].dst = v6(4);
	/* a direct route via another nexthop is replaced in place; one via the IPv4 form likewise */
	k.r[2].gw = v6(55);
	assert_int_equal(plan(w, 3, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_ROUTE_SET);
	free(a);
	k.r[2].gw = IPADDR_V4(IP(198, 18, 0, 5));
	assert_int_equal(plan(w, 3, &k.o, &a), 1);
	assert_int_equal(a[0].op, PEER_ROUTE_SET);
	free(a);

	peer_action_format(&(struct peer_action){ .op = PEER_FDB_SET, .want = 1 }, w, &none, "shoal.1", "eth0", out,
	                   sizeof(out));
	assert_string_equal(out, "add FDB entry 02:bb:00:00:00:02 dst fd00:5a::4 dev shoal.1");
	peer_action_format(&(struct peer_action){ .op = PEER_ROUTE_SET, .want = 2 }, w, &none, "shoal.1", "eth0", out,
	                   sizeof(out));
	assert_string_equal(out, "add route 10.244.5.0/24 via inet6 fd00:5a::5 dev eth0");
	peer_action_format(&(struct peer_action){ .op = PEER_ROUTE_SET, .want = 0 }, w, &none, "shoal.1", "eth0", out,
	                   sizeof(out));
	assert_string_equal(out, "add route 10.244.3.0/24 via 10.244.3.0 dev shoal.1 onlink");
	peer_action_format(&(struct peer_action){ .op = PEER_ROUTE_DEL, .obs = 2 }, w, &k.o, "shoal.1", "eth0", out,
	                   sizeof(out));
	assert_string_equal(out, "delete route 10.244.5.0/24 via 198.18.0.5 (ifindex 3)");
	k.r[2].gw = v6(5);
	peer_action_format(&(struct peer_action){ .op = PEER_ROUTE_DEL, .obs = 2 }, w, &k.o, "shoal.1", "eth0", out,
	                   sizeof(out));
	assert_string_equal(out, "delete route 10.244.5.0/24 via inet6 fd00:5a::5 (ifindex 3)");
}

static void test_action_format(void **state)
{
	struct peer_want w[2] = { want(3, IP(198, 18, 0, 3), MAC_A, false), want(5, IP(198, 18, 0, 5), MAC_B, true) };
	struct peer_observed none = { 0 };
	struct peer_action set = { .op = PEER_ROUTE_SET, .want = 0 }, d = { .op = PEER_ROUTE_SET, .want = 1 },
	                   f = { .op = PEER_FDB_SET };
	char out[200];

	peer_action_format(&set, w, &none, "shoal.1", "eth0", out, sizeof(out));
	assert_string_equal(out, "add route 10.244.3.0/24 via 10.244.3.0 dev shoal.1 onlink");
	peer_action_format(&d, w, &none, "shoal.1", "eth0", out, sizeof(out));
	assert_string_equal(out, "add route 10.244.5.0/24 via 198.18.0.5 dev eth0");
	peer_action_format(&f, w, &none, "shoal.1", "eth0", out, sizeof(out));
	assert_string_equal(out, "add FDB entry 02:aa:00:00:00:01 dst 198.18.0.3 dev shoal.1");
}

/* ---- store records to desired peers ---- */

static struct store_kv kv(const char *key, const char *value)
{
	return (struct store_kv){ .key = (char *)key, .value = (char *)value, .value_len = strlen(value), .mod_rev = 5 };
}

static const struct peers_self SELF = {
	.node = "h1", .network = { .addr = IP(10, 244, 0, 0), .len = 16 }, .subnet_len = 24,
	.own_subnet = { .addr = IP(10, 244, 1, 0), .len = 24 }, .underlay_addr = { .family = AF_INET, .v4 = IP(198, 18, 0, 1) },
	.underlay_prefixlen = 24,
};

static void test_desired_valid_and_garbage(void **state)
{
	struct store_kv kvs[] = {
		kv("subnets/10.244.1.0-24", "{\"node\":\"h1\",\"publicIP\":\"198.18.0.1\",\"vtepMAC\":\"02:aa:00:00:00:01\"}"),
		kv("subnets/10.244.2.0-24", "{\"node\":\"h2\",\"publicIP\":\"198.18.0.2\",\"vtepMAC\":\"02:bb:00:00:00:02\"}"),
		kv("subnets/10.244.3.0-24", "not json"),
		kv("subnets/garbage", "{\"node\":\"h9\",\"publicIP\":\"198.18.0.9\",\"vtepMAC\":\"02:99:00:00:00:09\"}"),
		kv("subnets/10.245.0.0-24", "{\"node\":\"h8\",\"publicIP\":\"198.18.0.8\",\"vtepMAC\":\"02:88:00:00:00:08\"}"),
		kv("subnets/10.244.4.0-24", "{\"node\":\"h4\"}"),
		kv("subnets/10.244.5.0-24", "{\"node\":\"h5\",\"publicIP\":\"198.18.0.1\",\"vtepMAC\":\"02:55:00:00:00:05\"}"),
		kv("subnets/10.244.6.0-24", "{\"node\":\"h6\",\"publicIP\":\"224.0.0.1\",\"vtepMAC\":\"02:66:00:00:00:06\"}"),
		kv("subnets/10.244.7.0-24", "{\"node\":\"h7\",\"publicIP\":\"198.18.0.7\",\"vtepMAC\":\"03:77:00:00:00:07\"}"),
		kv("subnets/10.244.8.0-24", "{\"node\":\"h8\",\"publicIP\":\"198.18.0.8\",\"vtepMAC\":\"02:bb:00:00:00:02\"}"),
		kv("subnets/10.244.9.0-24", "{\"node\":\"h9\",\"publicIP\":\"198.19.0.9\",\"vtepMAC\":\"02:99:00:00:00:09\"}"),
	};
	size_t n = sizeof(kvs) / sizeof(kvs[0]), nw, nr;
	struct peer_want *w;
	struct peers_reject *rej;
	struct peers_self direct = SELF;

	assert_int_equal(peers_desired(&SELF, kvs, n, &w, &nw, &rej, &nr), 0);
	/* h2 and h9 are peers; h1 is us; everything else is rejected with a reason, never fatal. */
	assert_int_equal(nw, 2);
	assert_int_equal(w[0].subnet, IP(10, 244, 2, 0));
	assert_int_equal(w[0].public_ip.family, AF_INET);
	assert_int_equal(w[0].public_ip.v4, IP(198, 18, 0, 2));
	assert_memory_equal(w[0].mac, MAC_B, 6);
	assert_false(w[0].direct);
	assert_int_equal(w[1].subnet, IP(10, 244, 9, 0));
	assert_int_equal(nr, 8);
	for (size_t i = 0; i < nr; i++) {
		assert_true(rej[i].why[0] != '\0');
		assert_int_equal(rej[i].kv, i + 2);
	}
	assert_non_null(strstr(rej[3].why, "publicIP"));     /* no underlay published */
	assert_non_null(strstr(rej[7].why, "another node")); /* duplicate VTEP MAC */
	free(w);
	free(rej);

	/* Direct routing: only the peer on our underlay's /24 gets a plain route. */
	direct.direct_routing = true;
	assert_int_equal(peers_desired(&direct, kvs, n, &w, &nw, &rej, &nr), 0);
	assert_int_equal(nw, 2);
	assert_true(w[0].direct);
	assert_false(w[1].direct);
	free(w);
	free(rej);
}

/* A node on an IPv6 underlay: IPv6 peers are programmed, IPv4 ones are skipped with the reason
 * (VXLAN cannot cross families), and so are IPv6 addresses no packet can be sent to; direct routing
 * takes the peers inside the underlay's /64.  And a node on an IPv4 underlay skips IPv6 peers. */
static void test_desired_ipv6_underlay(void **state)
{
	struct store_kv kvs[] = {
		kv("subnets/10.244.2.0-24", "{\"node\":\"h2\",\"publicIP\":\"fd00:5a::2\",\"vtepMAC\":\"02:bb:00:00:00:02\"}"),
		kv("subnets/10.244.3.0-24", "{\"node\":\"h3\",\"publicIP\":\"198.18.0.3\",\"vtepMAC\":\"02:33:00:00:00:03\"}"),
		kv("subnets/10.244.4.0-24", "{\"node\":\"h4\",\"publicIP\":\"fd00:5a::zz\",\"vtepMAC\":\"02:44:00:00:00:04\"}"),
		kv("subnets/10.244.5.0-24", "{\"node\":\"h5\",\"publicIP\":\"fe80::5\",\"vtepMAC\":\"02:55:00:00:00:05\"}"),
		kv("subnets/10.244.6.0-24", "{\"node\":\"h6\",\"publicIP\":\"::ffff:198.18.0.6\",\"vtepMAC\":\"02:66:00:00:00:06\"}"),
		kv("subnets/10.244.7.0-24", "{\"node\":\"h7\",\"publicIP\":\"ff02::1\",\"vtepMAC\":\"02:77:00:00:00:07\"}"),
		kv("subnets/10.244.8.0-24", "{\"node\":\"h8\",\"publicIP\":\"fd00:5a:0:0::1\",\"vtepMAC\":\"02:88:00:00:00:08\"}"),
		kv("subnets/10.244.9.0-24", "{\"node\":\"h9\",\"publicIP\":\"fd00:5b::9\",\"vtepMAC\":\"02:99:00:00:00:09\"}"),
		kv("subnets/10.244.10.0-24", "{\"node\":\"h10\",\"publicIP\":\"::\",\"vtepMAC\":\"02:10:00:00:00:0a\"}"),
	};
	size_t n = sizeof(kvs) / sizeof(kvs[0]), nw, nr;
	struct peers_self self = SELF;
	struct peer_want *w;
	struct peers_reject *rej;

	self.underlay_addr = v6(1);
	self.underlay_prefixlen = 64;
	assert_int_equal(peers_desired(&self, kvs, n, &w, &nw, &rej, &nr), 0);
	assert_int_equal(nw, 2);
	assert_int_equal(w[0].subnet, IP(10, 244, 2, 0));
	assert_true(ipaddr_equal(&w[0].public_ip, &(const struct ipaddr){ .family = AF_INET6,
	                                                                  .v6 = { 0xfd, 0, 0, 0x5a, [15] = 2 } }));
	assert_false(w[0].direct);
	assert_int_equal(w[1].subnet, IP(10, 244, 9, 0));
	assert_int_equal(nr, 7);
	assert_int_equal(rej[0].kv, 1);
	assert_non_null(strstr(rej[0].why, "198.18.0.3 is IPv4 but this node's underlay fd00:5a::1 is IPv6"));
	assert_non_null(strstr(rej[0].why, "cannot cross address families"));
	assert_int_equal(rej[1].kv, 2);   /* garbage: the record itself does not parse */
	assert_non_null(strstr(rej[1].why, "publicIP"));
	for (size_t i = 2; i < 6; i++) {   /* link-local, IPv4-mapped, multicast, ours in another spelling */
		assert_int_equal(rej[i].kv, i + 1);
		assert_non_null(strstr(rej[i].why, "is not a peer's address"));
	}
	assert_int_equal(rej[6].kv, 8);    /* the unspecified address */
	free(w);
	free(rej);

	/* direct routing: the peer inside fd00:5a::/64 only */
	self.direct_routing = true;
	assert_int_equal(peers_desired(&self, kvs, n, &w, &nw, &rej, &nr), 0);
	assert_int_equal(nw, 2);
	assert_true(w[0].direct);
	assert_false(w[1].direct);
	free(w);
	free(rej);

	/* the same records seen from an IPv4 underlay: only h3 is a peer */
	assert_int_equal(peers_desired(&SELF, kvs, n, &w, &nw, &rej, &nr), 0);
	assert_int_equal(nw, 1);
	assert_int_equal(w[0].subnet, IP(10, 244, 3, 0));
	assert_non_null(strstr(rej[0].why, "fd00:5a::2 is IPv6 but this node's underlay 198.18.0.1 is IPv4"));
	free(w);
	free(rej);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vxlan_build),
		cmocka_unit_test(test_vxlan_wire_and_round_trip),
		cmocka_unit_test(test_vxlan_same_params),
		cmocka_unit_test(test_vxlan_ipv6_local),
		cmocka_unit_test(test_vxlan_set_and_name),
		cmocka_unit_test(test_neigh_round_trip),
		cmocka_unit_test(test_fdb_round_trip),
		cmocka_unit_test(test_fdb_ipv6_round_trip),
		cmocka_unit_test(test_dumps_and_short_buffers),
		cmocka_unit_test(test_neigh_parse_rejects),
		cmocka_unit_test(test_plan_empty_kernel_adds_in_order),
		cmocka_unit_test(test_plan_adopts_correct_entries),
		cmocka_unit_test(test_plan_host_left),
		cmocka_unit_test(test_plan_public_ip_changed),
		cmocka_unit_test(test_plan_mac_changed),
		cmocka_unit_test(test_plan_repairs_wrong_entries),
		cmocka_unit_test(test_plan_leaves_dynamic_neighbours),
		cmocka_unit_test(test_plan_direct_routing_switch),
		cmocka_unit_test(test_plan_ipv6_peers),
		cmocka_unit_test(test_action_format),
		cmocka_unit_test(test_desired_valid_and_garbage),
		cmocka_unit_test(test_desired_ipv6_underlay),
	};

	return cmocka_run_group_tests_name("vxlan", tests, NULL, NULL);
}
