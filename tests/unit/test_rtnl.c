/* overlay/rtlink, rtaddr, rtroute: every rtnetlink request shoald sends, built into a buffer and
 * taken apart again with libmnl's own parsers, field by field, the way the kernel reads it.  A wrong
 * attribute here is a veth without its peer in the container, an address without broadcast, a
 * route in the wrong table.  The parsers read back what the builders wrote, and no builder ever
 * writes past a short buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "overlay/nlsock.h"
#include "overlay/rtaddr.h"
#include "overlay/rtlink.h"
#include "overlay/rtroute.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SEQ 0x5e0a1234u
#define MAXATTR 64
#define GUARD 64

static const uint8_t MAC_HOST[6] = { 0x02, 0x5e, 0x00, 0x11, 0x22, 0x33 };
static const uint8_t MAC_PEER[6] = { 0x0a, 0x58, 0x0a, 0xf4, 0x03, 0x07 };
static const uint8_t MAC_BR[6] = { 0x02, 0x5e, 0xff, 0xee, 0xdd, 0xcc };

/* One level of attributes: each type at most once, and they tile their container exactly. */
struct attrs {
	const struct nlattr *tb[MAXATTR];
	int count[MAXATTR];
	int total;
	const char *end;       /* end of the last attribute seen */
};

static int collect_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type < MAXATTR);
	t->tb[type] = a;
	t->count[type]++;
	t->total++;
	t->end = (const char *)a + MNL_ALIGN(a->nla_len);
	return MNL_CB_OK;
}

static void collect_payload(const void *payload, size_t len, struct attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->end = payload;
	assert_int_equal(mnl_attr_parse_payload(payload, len, collect_cb, t), MNL_CB_OK);
	assert_ptr_equal(t->end, (const char *)payload + len);   /* nothing left over, nothing cut */
	for (int i = 0; i < MAXATTR; i++)
		if (t->count[i] > 1)
			fail_msg("attribute %d appears %d times", i, t->count[i]);
}

static void collect_msg(const struct nlmsghdr *nlh, size_t hdrlen, struct attrs *t)
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen);

	assert_true(nlh->nlmsg_len >= off);
	collect_payload((const char *)nlh + off, nlh->nlmsg_len - off, t);
}

static void collect_nested(const struct nlattr *nest, struct attrs *t)
{
	assert_non_null(nest);
	assert_true(mnl_attr_validate(nest, MNL_TYPE_NESTED) >= 0);
	collect_payload(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), t);
}

static void assert_str_attr(const struct nlattr *a, const char *want)
{
	assert_non_null(a);
	assert_true(mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0);   /* NUL-terminated for the kernel */
	assert_int_equal(mnl_attr_get_payload_len(a), strlen(want) + 1);
	assert_string_equal(mnl_attr_get_str(a), want);
}

static void assert_u32_attr(const struct nlattr *a, uint32_t want)
{
	assert_non_null(a);
	assert_true(mnl_attr_validate(a, MNL_TYPE_U32) >= 0);
	assert_int_equal(mnl_attr_get_payload_len(a), 4);
	assert_int_equal(mnl_attr_get_u32(a), want);
}

static void assert_bytes_attr(const struct nlattr *a, const void *want, size_t len)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), len);
	assert_memory_equal(mnl_attr_get_payload(a), want, len);
}

static void assert_header(const struct nlmsghdr *nlh, int len, uint16_t type, uint16_t flags)
{
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_int_equal(nlh->nlmsg_len % 4, 0);
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, flags);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	assert_int_equal(nlh->nlmsg_pid, 0);
}

/* Builders that put one message into a buffer, for the generic short-buffer check. */
typedef int (*build_fn)(void *buf, size_t len, const void *arg);

/* Every length from 0 to needed - 1 gives -ENOBUFS and writes nothing past the buffer; the
 * exact length works.  Two passes: a guard region (poisoned bytes after buflen) for plain builds,
 * and an exact-size heap block so ASan sees any overrun in SANITIZE=1 builds. */
static void check_short_buffers(build_fn fn, const void *arg)
{
	_Alignas(8) unsigned char big[4096];
	int need;

	/* libmnl 1.0.4 leaves attribute padding as it finds it: compare like with like */
	memset(big, 0xab, sizeof(big));
	need = fn(big, sizeof(big), arg);

	assert_true(need > 0);
	for (int len = 0; len <= need; len++) {
		unsigned char *b = malloc((size_t)len + GUARD), *exact;
		int r;

		assert_non_null(b);
		memset(b, 0xab, (size_t)len + GUARD);
		r = fn(b, (size_t)len, arg);
		if (len < need && r != -ENOBUFS)
			fail_msg("buffer of %d (need %d): returned %d, want -ENOBUFS", len, need, r);
		if (len == need) {
			assert_int_equal(r, need);
			assert_memory_equal(b, big, (size_t)need);   /* same bytes as in a large buffer */
		}
		for (int g = 0; g < GUARD; g++)
			if (b[len + g] != 0xab)
				fail_msg("buffer of %d (need %d): byte %d past the end written", len, need, g);
		free(b);

		exact = malloc(len ? (size_t)len : 1);
		assert_non_null(exact);
		r = fn(exact, (size_t)len, arg);
		assert_int_equal(r, len < need ? -ENOBUFS : need);
		free(exact);
	}
}

/* ------------------------------------------------------------------ links */

static struct rtlink_veth veth_full(void)
{
	struct rtlink_veth v = {
		.name = "shv0123456789ab",
		.peer_name = "eth0",
		.peer_netns_fd = 7,
		.mtu = 1450,
		.master = 12,
		.up = true,
		.mac = MAC_HOST,
		.peer_mac = MAC_PEER,
	};
	return v;
}

static void check_veth(const struct nlmsghdr *nlh, int len, const struct rtlink_veth *v)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh), *pifm;
	struct attrs top, li, data, peer;
	const struct nlattr *pa;

	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_flags, v->up ? IFF_UP : 0);
	assert_int_equal(ifm->ifi_change, IFF_UP);

	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], v->name);
	if (v->mtu)
		assert_u32_attr(top.tb[IFLA_MTU], v->mtu);
	else
		assert_null(top.tb[IFLA_MTU]);
	if (v->master)
		assert_u32_attr(top.tb[IFLA_MASTER], v->master);
	else
		assert_null(top.tb[IFLA_MASTER]);
	if (v->mac)
		assert_bytes_attr(top.tb[IFLA_ADDRESS], v->mac, 6);
	else
		assert_null(top.tb[IFLA_ADDRESS]);
	assert_null(top.tb[IFLA_NET_NS_FD]);   /* the host end stays here */
	assert_int_equal(top.total, 2 + !!v->mtu + !!v->master + !!v->mac);

	collect_nested(top.tb[IFLA_LINKINFO], &li);
	assert_str_attr(li.tb[IFLA_INFO_KIND], "veth");
	assert_int_equal(li.total, 2);
	collect_nested(li.tb[IFLA_INFO_DATA], &data);
	assert_int_equal(data.total, 1);
	pa = data.tb[VETH_INFO_PEER];
	assert_non_null(pa);
	/* VETH_INFO_PEER = struct ifinfomsg + the peer's own attributes */
	assert_true(mnl_attr_get_payload_len(pa) >= sizeof(struct ifinfomsg));
	pifm = mnl_attr_get_payload(pa);
	assert_int_equal(pifm->ifi_family, AF_UNSPEC);
	assert_int_equal(pifm->ifi_index, 0);
	assert_int_equal(pifm->ifi_flags, 0);    /* see rtlink.c: IFF_UP here fails with ENOTCONN */
	assert_int_equal(pifm->ifi_change, 0);
	collect_payload((const char *)pifm + MNL_ALIGN(sizeof(*pifm)),
	                mnl_attr_get_payload_len(pa) - MNL_ALIGN(sizeof(*pifm)), &peer);
	assert_str_attr(peer.tb[IFLA_IFNAME], v->peer_name);
	if (v->mtu)
		assert_u32_attr(peer.tb[IFLA_MTU], v->mtu);
	else
		assert_null(peer.tb[IFLA_MTU]);
	if (v->peer_mac)
		assert_bytes_attr(peer.tb[IFLA_ADDRESS], v->peer_mac, 6);
	else
		assert_null(peer.tb[IFLA_ADDRESS]);
	if (v->peer_netns_fd >= 0)
		assert_u32_attr(peer.tb[IFLA_NET_NS_FD], (uint32_t)v->peer_netns_fd);
	else
		assert_null(peer.tb[IFLA_NET_NS_FD]);
	assert_null(peer.tb[IFLA_MASTER]);       /* the container end is never enslaved */
	assert_int_equal(peer.total, 1 + !!v->mtu + !!v->peer_mac + (v->peer_netns_fd >= 0));
}

static void test_veth_full(void **state)
{
	_Alignas(8) char buf[1024] = { 0 };
	struct rtlink_veth v = veth_full();
	int len = rtlink_build_veth(buf, sizeof(buf), SEQ, &v);

	check_veth((struct nlmsghdr *)buf, len, &v);
}

static void test_veth_minimal(void **state)
{
	_Alignas(8) char buf[1024] = { 0 };
	struct rtlink_veth v = { .name = "shvaaaaaaaaaaaa", .peer_name = "net1", .peer_netns_fd = -1 };
	int len = rtlink_build_veth(buf, sizeof(buf), SEQ, &v);

	check_veth((struct nlmsghdr *)buf, len, &v);
	/* netns fd 0 is a valid descriptor and must be sent */
	v.peer_netns_fd = 0;
	v.up = true;
	len = rtlink_build_veth(buf, sizeof(buf), SEQ, &v);
	check_veth((struct nlmsghdr *)buf, len, &v);
}

static void test_veth_parse_back(void **state)
{
	_Alignas(8) char buf[1024] = { 0 };
	struct rtlink_veth v = veth_full();
	struct rtlink_info info;
	int len = rtlink_build_veth(buf, sizeof(buf), SEQ, &v);

	assert_true(len > 0);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtlink_parse((struct nlmsghdr *)buf, &info), 0);
	assert_string_equal(info.name, v.name);      /* the host side, not the peer nested inside */
	assert_string_equal(info.kind, "veth");
	assert_int_equal(info.mtu, 1450);
	assert_int_equal(info.master, 12);
	assert_true(info.has_mac);
	assert_memory_equal(info.mac, MAC_HOST, 6);
	assert_int_equal(info.flags, IFF_UP);
	assert_int_equal(info.ifindex, 0);
	assert_int_equal(info.group, 0);
	assert_string_equal(info.alias, "");   /* none: the create cannot carry one (see rtlink.c) */
}

static void test_bridge(void **state)
{
	_Alignas(8) char buf[512] = { 0 };
	struct rtlink_bridge b = { .name = "shoal0", .mac = MAC_BR, .mtu = 1450, .up = true };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct attrs top, li;
	struct rtlink_info info;
	int len = rtlink_build_bridge(buf, sizeof(buf), SEQ, &b);

	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shoal0");
	assert_u32_attr(top.tb[IFLA_MTU], 1450);
	assert_bytes_attr(top.tb[IFLA_ADDRESS], MAC_BR, 6);
	assert_int_equal(top.total, 4);
	collect_nested(top.tb[IFLA_LINKINFO], &li);
	assert_str_attr(li.tb[IFLA_INFO_KIND], "bridge");
	assert_int_equal(li.total, 1);

	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.name, "shoal0");
	assert_string_equal(info.kind, "bridge");
	assert_int_equal(info.mtu, 1450);
	assert_true(info.has_mac);
	assert_memory_equal(info.mac, MAC_BR, 6);
	assert_int_equal(info.flags, IFF_UP);

	/* no MAC, no MTU, down */
	struct rtlink_bridge b2 = { .name = "br-x" };

	len = rtlink_build_bridge(buf, sizeof(buf), SEQ, &b2);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "br-x");
	assert_null(top.tb[IFLA_MTU]);
	assert_null(top.tb[IFLA_ADDRESS]);
	assert_int_equal(top.total, 2);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_false(info.has_mac);
}

static void test_set(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	struct rtlink_info info;
	int len;

	/* up, MTU and master */
	len = rtlink_build_set(buf, sizeof(buf), SEQ, 42, IFF_UP, IFF_UP, 1400, 7);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);   /* never CREATE: must exist */
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 42);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_MTU], 1400);
	assert_u32_attr(top.tb[IFLA_MASTER], 7);
	assert_int_equal(top.total, 2);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(info.ifindex, 42);
	assert_int_equal(info.mtu, 1400);
	assert_int_equal(info.master, 7);
	assert_int_equal(info.flags, IFF_UP);
	assert_string_equal(info.name, "");

	/* down only: keep MTU (0) and master (-1) */
	len = rtlink_build_set(buf, sizeof(buf), SEQ, 42, 0, IFF_UP, 0, -1);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_int_equal(top.total, 0);

	/* master 0 = release from the bridge: the attribute must be there with 0 */
	len = rtlink_build_set(buf, sizeof(buf), SEQ, 42, 0, 0, 0, 0);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_change, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_MASTER], 0);
	assert_int_equal(top.total, 1);

	/* other flags pass through untouched */
	len = rtlink_build_set(buf, sizeof(buf), SEQ, 3, IFF_UP | IFF_NOARP, IFF_UP | IFF_NOARP | IFF_PROMISC, 0, -1);
	assert_true(len > 0);
	assert_int_equal(ifm->ifi_flags, IFF_UP | IFF_NOARP);
	assert_int_equal(ifm->ifi_change, IFF_UP | IFF_NOARP | IFF_PROMISC);
}

static void test_del(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len;

	len = rtlink_build_del(buf, sizeof(buf), SEQ, 42, "ignored");
	assert_header(nlh, len, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 42);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_int_equal(top.total, 0);   /* by index: no name that could point elsewhere */

	len = rtlink_build_del(buf, sizeof(buf), SEQ, 0, "shv0123456789ab");
	assert_header(nlh, len, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shv0123456789ab");
	assert_int_equal(top.total, 1);

	len = rtlink_build_del(buf, sizeof(buf), SEQ, -5, "x");
	assert_true(len > 0);
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "x");
}

static void test_get(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len;

	len = rtlink_build_get(buf, sizeof(buf), SEQ, 42, NULL);
	assert_header(nlh, len, RTM_GETLINK, NLM_F_REQUEST);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 42);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);
	assert_int_equal(top.total, 1);

	len = rtlink_build_get(buf, sizeof(buf), SEQ, 0, "shoal0");
	assert_header(nlh, len, RTM_GETLINK, NLM_F_REQUEST);
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shoal0");
	assert_u32_attr(top.tb[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);
	assert_int_equal(top.total, 2);

	/* neither: a dump */
	len = rtlink_build_get(buf, sizeof(buf), SEQ, 0, NULL);
	assert_header(nlh, len, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);
	assert_int_equal(top.total, 1);
}

/* An RTM_NEWLINK as the kernel sends it: more attributes than we ask about, in its order. */
static int kernel_link(char *buf, size_t size, const char *name, const char *kind, const void *addr, size_t alen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *li, *data;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_type = 1;
	ifm->ifi_index = 1234;
	ifm->ifi_flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 1000);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, 6);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_u32(nlh, IFLA_MIN_MTU, 68);
	mnl_attr_put_u32(nlh, IFLA_GROUP, 3);
	mnl_attr_put_u32(nlh, IFLA_MASTER, 9);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, "shoal a/eth0");   /* the kernel sends it with its NUL */
	if (kind) {
		li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, 1, 300);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, li);
	}
	if (addr)
		mnl_attr_put(nlh, IFLA_ADDRESS, alen, addr);
	mnl_attr_put(nlh, IFLA_BROADCAST, 6, bcast);     /* same length as a MAC: must not be taken for it */
	mnl_attr_put_u32(nlh, 60, 0xdeadbeef);           /* an attribute newer than us */
	assert_true(nlh->nlmsg_len <= size);
	return (int)nlh->nlmsg_len;
}

static void test_link_parse_kernel_answer(void **state)
{
	_Alignas(8) char buf[1024] = { 0 };
	struct rtlink_info info;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	static const uint8_t ip4[4] = { 198, 18, 0, 1 };

	kernel_link(buf, sizeof(buf), "shoal0", "bridge", MAC_BR, 6);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(info.ifindex, 1234);
	assert_string_equal(info.name, "shoal0");
	assert_string_equal(info.kind, "bridge");
	assert_int_equal(info.flags, IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP);
	assert_int_equal(info.mtu, 1500);
	assert_int_equal(info.master, 9);
	assert_int_equal(info.group, 3);
	assert_true(info.has_mac);
	assert_memory_equal(info.mac, MAC_BR, 6);
	assert_string_equal(info.alias, "shoal a/eth0");

	/* a plain device: no kind; an ipip tunnel's 4-byte "hardware address" is not a MAC */
	kernel_link(buf, sizeof(buf), "tunl0", NULL, ip4, 4);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.kind, "");
	assert_false(info.has_mac);

	/* names are cut to fit, never overflow */
	kernel_link(buf, sizeof(buf), "a-name-much-longer-than-ifnamsiz", "a-kind-much-longer-than-16", NULL, 0);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(strlen(info.name), 15);
	assert_int_equal(strlen(info.kind), 15);
	assert_false(info.has_mac);
}

static void test_link_parse_rejects(void **state)
{
	_Alignas(8) char buf[1024] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct rtlink_info info;

	memset(&info, 0x5a, sizeof(info));
	kernel_link(buf, sizeof(buf), "eth0", NULL, MAC_HOST, 6);
	nlh->nlmsg_type = RTM_DELLINK;
	assert_int_equal(rtlink_parse(nlh, &info), -EBADMSG);
	nlh->nlmsg_type = NLMSG_ERROR;
	assert_int_equal(rtlink_parse(nlh, &info), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg) - 1;
	assert_int_equal(rtlink_parse(nlh, &info), -EBADMSG);
	assert_int_equal((unsigned char)info.name[0], 0x5a);   /* untouched */
}

static void test_format_mac(void **state)
{
	char s[18];
	static const uint8_t m[6] = { 0x02, 0xab, 0x00, 0xff, 0x10, 0x0e };

	rtlink_format_mac(m, s);
	assert_string_equal(s, "02:ab:00:ff:10:0e");
}

/* The alias of the host veth (the attachment's identity, kept by the kernel). */
static void test_set_alias(void **state)
{
	_Alignas(8) char buf[512] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const char *alias = "shoal 0123456789abcdef/eth0 net=shoal-lab";
	char longest[RTLINK_ALIAS_SIZE + 1];
	struct rtlink_info info;
	struct attrs top;
	int len;

	/* by name, as overlay_attach sends it right behind the create */
	len = rtlink_build_set_alias(buf, sizeof(buf), SEQ, 0, "shv0123456789ab", alias);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);   /* never CREATE: must exist */
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(ifm->ifi_change, 0);   /* flags untouched */
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shv0123456789ab");
	/* without the NUL, as iproute2 sends it: the kernel stores nla_len bytes */
	assert_bytes_attr(top.tb[IFLA_IFALIAS], alias, strlen(alias));
	assert_int_equal(top.total, 2);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.name, "shv0123456789ab");
	assert_string_equal(info.alias, alias);

	/* by index: no name */
	len = rtlink_build_set_alias(buf, sizeof(buf), SEQ, 42, "ignored", alias);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_index, 42);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_null(top.tb[IFLA_IFNAME]);
	assert_bytes_attr(top.tb[IFLA_IFALIAS], alias, strlen(alias));
	assert_int_equal(top.total, 1);

	/* "" clears: the attribute is there, empty */
	len = rtlink_build_set_alias(buf, sizeof(buf), SEQ, 42, NULL, "");
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_non_null(top.tb[IFLA_IFALIAS]);
	assert_int_equal(mnl_attr_get_payload_len(top.tb[IFLA_IFALIAS]), 0);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.alias, "");

	/* 255 bytes is the kernel's limit (IFALIASZ - 1); one more is refused before it is sent */
	memset(longest, 'a', sizeof(longest));
	longest[RTLINK_ALIAS_SIZE - 1] = '\0';
	len = rtlink_build_set_alias(buf, sizeof(buf), SEQ, 0, "shv0123456789ab", longest);
	assert_int_equal(len, RTLINK_SET_ALIAS_MAXLEN);   /* the sizing constant is exact */
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(strlen(info.alias), RTLINK_ALIAS_SIZE - 1);
	assert_string_equal(info.alias, longest);
	longest[RTLINK_ALIAS_SIZE - 1] = 'a';
	longest[RTLINK_ALIAS_SIZE] = '\0';
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(rtlink_build_set_alias(buf, sizeof(buf), SEQ, 0, "x", longest), -EINVAL);
	assert_int_equal((unsigned char)buf[0], 0x5a);   /* nothing written */
}

/* Up without touching IPv6: for veths below the IPv6 minimum MTU, which have no IPv6 to configure. */
static void test_set_up(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct rtlink_info info;
	struct attrs top;
	int len;

	len = rtlink_build_set_up(buf, sizeof(buf), SEQ, 0, "shv0123456789ab");
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shv0123456789ab");
	assert_null(top.tb[IFLA_AF_SPEC]);   /* no IPv6 setting: the kernel would refuse it */
	assert_int_equal(top.total, 1);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.name, "shv0123456789ab");
	assert_int_equal(info.flags, IFF_UP);

	len = rtlink_build_set_up(buf, sizeof(buf), SEQ, 9, "ignored");
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_index, 9);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_int_equal(top.total, 0);
	assert_int_equal(RTLINK_IPV6_MIN_MTU, 1280);   /* IPV6_MIN_MTU, RFC 8200 */
}

/* The reaper's two messages: tag a device with a group, delete the group. */
static void test_set_group(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct rtlink_info info;
	struct attrs top;
	int len;

	/* by index: a newer device of the same name is never touched */
	len = rtlink_build_set_group(buf, sizeof(buf), SEQ, 42, "ignored", 0x5e0a1de1u);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);   /* never CREATE */
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 42);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(ifm->ifi_change, 0);   /* only the group changes */
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_GROUP], 0x5e0a1de1u);
	assert_int_equal(top.total, 1);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(info.ifindex, 42);
	assert_int_equal(info.group, 0x5e0a1de1u);
	assert_string_equal(info.name, "");

	/* by name; the longest name gives the longest message, which the sizing constant names */
	len = rtlink_build_set_group(buf, sizeof(buf), SEQ, 0, "shv0123456789ab", 7);
	assert_header(nlh, len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(len, RTLINK_SET_GROUP_MAXLEN);
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_str_attr(top.tb[IFLA_IFNAME], "shv0123456789ab");
	assert_u32_attr(top.tb[IFLA_GROUP], 7);
	assert_int_equal(top.total, 2);
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_string_equal(info.name, "shv0123456789ab");
	assert_int_equal(info.group, 7);
	assert_int_equal(RTLINK_NAME_SIZE, IFNAMSIZ);
	assert_int_equal(RTLINK_ALIAS_SIZE, IFALIASZ);

	/* group 0 is a real value ("back to the default group"): it is sent */
	len = rtlink_build_set_group(buf, sizeof(buf), SEQ, 3, NULL, 0);
	assert_true(len > 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_u32_attr(top.tb[IFLA_GROUP], 0);
}

static void test_del_group(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct rtlink_info info;
	struct attrs top;
	int len;

	len = rtlink_build_del_group(buf, sizeof(buf), SEQ, 0x5e0a1de1u);
	assert_header(nlh, len, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	/* neither index nor name: only then does rtnl_dellink() delete by group */
	assert_int_equal(ifm->ifi_index, 0);
	collect_msg(nlh, sizeof(*ifm), &top);
	assert_null(top.tb[IFLA_IFNAME]);
	assert_u32_attr(top.tb[IFLA_GROUP], 0x5e0a1de1u);
	assert_int_equal(top.total, 1);
	/* read back as the kernel would announce the group's members */
	nlh->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(rtlink_parse(nlh, &info), 0);
	assert_int_equal(info.group, 0x5e0a1de1u);
	assert_int_equal(info.ifindex, 0);
}

/* ------------------------------------------------------------------ nlsock */

/* A request the kernel never answers (NLMSG_NOOP without NLM_F_ACK) must end in -ETIMEDOUT, not
 * hang the caller; the socket stays usable afterwards.  Needs no privilege: a NETLINK_ROUTE
 * socket and a GET of lo are open to every user. */
static int get_lo_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtlink_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static void test_nlsock_timeout(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	char err[NLSOCK_ERRLEN];
	struct rtlink_info info = { 0 };
	struct nlsock *s = NULL;
	unsigned failed = 77;

	assert_int_equal(nlsock_open(-1, &s), 0);
	assert_int_equal(nlsock_set_timeout(s, 50), 0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_NOOP;
	nlh->nlmsg_flags = NLM_F_REQUEST;   /* no ACK asked for: none comes */
	nlh->nlmsg_seq = nlsock_next_seq(s);
	assert_int_equal(nlsock_transact(s, buf, nlh->nlmsg_len, nlh->nlmsg_seq, 1, &failed, err), -ETIMEDOUT);
	assert_int_equal(failed, 77);   /* no message failed: none was answered */

	/* the same socket answers the next request */
	memset(buf, 0, sizeof(buf));
	assert_true(rtlink_build_get(buf, sizeof(buf), 0, 1, NULL) > 0);   /* lo is ifindex 1 everywhere */
	assert_int_equal(nlsock_query(s, buf, get_lo_cb, NULL, &info, err), 0);
	assert_int_equal(info.ifindex, 1);
	assert_string_equal(info.name, "lo");
	nlsock_free(s);

	/* other families, same type */
	assert_int_equal(nlsock_open_family(NETLINK_NETFILTER, -1, &s), 0);
	assert_int_equal(nlsock_set_timeout(s, 0), 0);
	nlsock_free(s);
	nlsock_free(NULL);
}

/* ------------------------------------------------------------------ addresses */

static void check_addr(const struct nlmsghdr *nlh, int len, uint16_t cmd, int ifindex, const uint8_t ip[4],
                       uint8_t plen, const uint8_t *bcast)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

	if (cmd == RTM_NEWADDR)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;   /* idempotent: a retry after a crash succeeds */
	assert_header(nlh, len, cmd, flags);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, plen);
	assert_int_equal(ifa->ifa_index, (uint32_t)ifindex);
	assert_int_equal(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(ifa->ifa_flags, 0);
	collect_msg(nlh, sizeof(*ifa), &top);
	/* network byte order on the wire */
	assert_bytes_attr(top.tb[IFA_LOCAL], ip, 4);
	assert_bytes_attr(top.tb[IFA_ADDRESS], ip, 4);
	if (bcast)
		assert_bytes_attr(top.tb[IFA_BROADCAST], bcast, 4);
	else
		assert_null(top.tb[IFA_BROADCAST]);
	assert_int_equal(top.total, 2 + !!bcast);
}

static void test_addr_build(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int len;

	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 5, IP(10, 244, 3, 1), 24);
	check_addr(nlh, len, RTM_NEWADDR, 5, (const uint8_t[]){ 10, 244, 3, 1 }, 24, (const uint8_t[]){ 10, 244, 3, 255 });
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 5, IP(10, 244, 3, 7), 26);
	check_addr(nlh, len, RTM_NEWADDR, 5, (const uint8_t[]){ 10, 244, 3, 7 }, 26, (const uint8_t[]){ 10, 244, 3, 63 });
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 9, IP(10, 0, 0, 1), 8);
	check_addr(nlh, len, RTM_NEWADDR, 9, (const uint8_t[]){ 10, 0, 0, 1 }, 8, (const uint8_t[]){ 10, 255, 255, 255 });
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 9, IP(10, 0, 0, 1), 30);
	check_addr(nlh, len, RTM_NEWADDR, 9, (const uint8_t[]){ 10, 0, 0, 1 }, 30, (const uint8_t[]){ 10, 0, 0, 3 });
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 9, IP(1, 2, 3, 4), 0);
	check_addr(nlh, len, RTM_NEWADDR, 9, (const uint8_t[]){ 1, 2, 3, 4 }, 0, (const uint8_t[]){ 255, 255, 255, 255 });
	/* /31 (RFC 3021) and /32 have no broadcast address */
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 9, IP(10, 0, 0, 0), 31);
	check_addr(nlh, len, RTM_NEWADDR, 9, (const uint8_t[]){ 10, 0, 0, 0 }, 31, NULL);
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 9, IP(198, 18, 0, 1), 32);
	check_addr(nlh, len, RTM_NEWADDR, 9, (const uint8_t[]){ 198, 18, 0, 1 }, 32, NULL);
	/* delete: same identity, no create flags, no broadcast */
	len = rtaddr_build(buf, sizeof(buf), SEQ, RTM_DELADDR, 5, IP(10, 244, 3, 1), 24);
	check_addr(nlh, len, RTM_DELADDR, 5, (const uint8_t[]){ 10, 244, 3, 1 }, 24, NULL);
}

static void test_addr_dump(void **state)
{
	_Alignas(8) char buf[64] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len = rtaddr_build_dump(buf, sizeof(buf), SEQ);

	assert_header(nlh, len, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(ifa->ifa_family, AF_INET);   /* IPv4 only */
	assert_int_equal(ifa->ifa_index, 0);
	collect_msg(nlh, sizeof(*ifa), &top);
	assert_int_equal(top.total, 0);
}

static void test_addr_parse_back(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct rtaddr_info info;
	static const struct {
		int ifindex;
		uint32_t addr;
		uint8_t plen;
	} cases[] = { { 5, IP(10, 244, 3, 1), 24 }, { 77, IP(198, 18, 0, 1), 32 }, { 1, IP(10, 0, 0, 0), 31 },
	              { 2, IP(255, 255, 255, 254), 8 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, cases[i].ifindex, cases[i].addr,
		                         cases[i].plen) > 0);
		memset(&info, 0x5a, sizeof(info));
		assert_int_equal(rtaddr_parse(nlh, &info), 0);
		assert_int_equal(info.ifindex, cases[i].ifindex);
		assert_int_equal(info.addr, cases[i].addr);   /* back in host order */
		assert_int_equal(info.prefixlen, cases[i].plen);

		/* a DELADDR request, answered as the kernel's RTM_NEWADDR for the same address */
		assert_true(rtaddr_build(buf, sizeof(buf), SEQ, RTM_DELADDR, cases[i].ifindex, cases[i].addr,
		                         cases[i].plen) > 0);
		assert_int_equal(rtaddr_parse(nlh, &info), -EBADMSG);   /* not an address announcement */
		nlh->nlmsg_type = RTM_NEWADDR;
		assert_int_equal(rtaddr_parse(nlh, &info), 0);
		assert_int_equal(info.addr, cases[i].addr);
		assert_int_equal(info.prefixlen, cases[i].plen);
	}
}

static void test_addr_parse_kernel_answers(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct rtaddr_info info;
	uint32_t local = htonl(IP(10, 0, 0, 1)), peer = htonl(IP(10, 0, 0, 2));

	/* point-to-point: the kernel sends IFA_ADDRESS (the peer) before IFA_LOCAL (ours) */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = 3;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &peer);
	mnl_attr_put(nlh, IFA_LOCAL, 4, &local);
	mnl_attr_put_strz(nlh, IFA_LABEL, "tun0");
	assert_int_equal(rtaddr_parse(nlh, &info), 0);
	assert_int_equal(info.addr, IP(10, 0, 0, 1));
	assert_int_equal(info.ifindex, 3);

	/* the other order */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &local);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &peer);
	assert_int_equal(rtaddr_parse(nlh, &info), 0);
	assert_int_equal(info.addr, IP(10, 0, 0, 1));

	/* IPv6 answers are not ours */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 64;
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rtaddr_parse(nlh, &info), -EAFNOSUPPORT);
	assert_int_equal(info.prefixlen, 0x5a);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	assert_int_equal(rtaddr_parse(nlh, &info), -EBADMSG);
}

/* The underlay search reads addresses of both families: an IPv6 one as the kernel reports it
 * (IFA_ADDRESS only, scope and flags; IFA_FLAGS carries the bits above 8), an IPv4 one as ours. */
static void test_addr_parse_any(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct rtaddr_any a;
	const uint8_t v6[16] = { 0xfd, 0x00, 0x00, 0x5a, [15] = 1 }, peer6[16] = { 0xfd, 0x00, 0x00, 0x5a, [15] = 9 };
	uint32_t local = htonl(IP(10, 0, 0, 1)), peer = htonl(IP(10, 0, 0, 2));
	struct ifa_cacheinfo ci = { 0 };

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 64;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_flags = IFA_F_PERMANENT;
	ifa->ifa_index = 4;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6);
	mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT | IFA_F_NODAD);
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(rtaddr_parse_any(nlh, &a), 0);
	assert_int_equal(a.ifindex, 4);
	assert_int_equal(a.addr.family, AF_INET6);
	assert_memory_equal(a.addr.v6, v6, 16);
	assert_int_equal(a.prefixlen, 64);
	assert_int_equal(a.scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(a.flags, IFA_F_PERMANENT | IFA_F_NODAD);   /* IFA_FLAGS wins over the 8 bits */
	/* rtaddr_parse stays IPv4-only */
	assert_int_equal(rtaddr_parse(nlh, &(struct rtaddr_info){ 0 }), -EAFNOSUPPORT);

	/* point-to-point IPv6: IFA_LOCAL is ours, whatever the order */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 128;
	ifa->ifa_flags = IFA_F_TENTATIVE;
	mnl_attr_put(nlh, IFA_LOCAL, 16, v6);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, peer6);
	mnl_attr_put(nlh, IFA_ADDRESS + 100, 4, &local);   /* unknown attributes are skipped */
	assert_int_equal(rtaddr_parse_any(nlh, &a), 0);
	assert_memory_equal(a.addr.v6, v6, 16);
	assert_int_equal(a.flags, IFA_F_TENTATIVE);

	/* an IPv4 address as our builder writes it, and a point-to-point one as the kernel does */
	assert_true(rtaddr_build(buf, sizeof(buf), SEQ, RTM_NEWADDR, 5, IP(198, 18, 0, 1), 24) > 0);
	nlh = (struct nlmsghdr *)buf;
	assert_int_equal(rtaddr_parse_any(nlh, &a), 0);
	assert_int_equal(a.addr.family, AF_INET);
	assert_int_equal(a.addr.v4, IP(198, 18, 0, 1));
	assert_int_equal(a.prefixlen, 24);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &peer);
	mnl_attr_put(nlh, IFA_LOCAL, 4, &local);
	mnl_attr_put(nlh, IFA_BROADCAST, 16, v6);   /* a wrong length is not read */
	assert_int_equal(rtaddr_parse_any(nlh, &a), 0);
	assert_int_equal(a.addr.v4, IP(10, 0, 0, 1));

	/* an IPv6 address attribute of the wrong length is not read; other families are not ours */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &local);
	assert_int_equal(rtaddr_parse_any(nlh, &a), 0);
	assert_memory_equal(a.addr.v6, (const uint8_t[16]){ 0 }, 16);
	ifa->ifa_family = AF_PACKET;
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(rtaddr_parse_any(nlh, &a), -EAFNOSUPPORT);
	assert_int_equal(a.prefixlen, 0x5a);
	ifa->ifa_family = AF_INET6;
	nlh->nlmsg_type = RTM_DELADDR;
	assert_int_equal(rtaddr_parse_any(nlh, &a), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	assert_int_equal(rtaddr_parse_any(nlh, &a), -EBADMSG);
}

static void test_addr_dump_family(void **state)
{
	_Alignas(8) char buf[64] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len = rtaddr_build_dump_family(buf, sizeof(buf), SEQ, AF_INET6);

	assert_header(nlh, len, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	collect_msg(nlh, sizeof(*ifa), &top);
	assert_int_equal(top.total, 0);
	/* the IPv4 dump is the same request with AF_INET */
	assert_int_equal(rtaddr_build_dump_family(buf, sizeof(buf), SEQ, AF_INET), rtaddr_build_dump(buf, sizeof(buf), SEQ));
	assert_int_equal(ifa->ifa_family, AF_INET);
}

/* ------------------------------------------------------------------ routes */

static void check_route_flags(const struct nlmsghdr *nlh, int len, uint16_t cmd, uint16_t flags,
                              const struct rtroute *r)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	struct attrs top;
	int n = 0;

	assert_header(nlh, len, cmd, flags);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, r->dst_len);
	assert_int_equal(rtm->rtm_src_len, 0);
	assert_int_equal(rtm->rtm_tos, 0);
	assert_int_equal(rtm->rtm_table, table < 256 ? table : RT_TABLE_UNSPEC);
	assert_int_equal(rtm->rtm_protocol, r->protocol ? r->protocol : RTPROT_BOOT);
	/* a gateway route (IPv4 or IPv6 nexthop) is global; a device route reaches only the link */
	assert_int_equal(rtm->rtm_scope, r->gw || r->via.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	assert_int_equal(rtm->rtm_type, r->type ? r->type : RTN_UNICAST);
	assert_int_equal(rtm->rtm_flags, r->onlink ? RTNH_F_ONLINK : 0);
	collect_msg(nlh, sizeof(*rtm), &top);
	if (r->dst_len) {
		uint32_t be = htonl(r->dst);

		assert_bytes_attr(top.tb[RTA_DST], &be, 4);
		n++;
	} else {
		assert_null(top.tb[RTA_DST]);
	}
	if (r->gw) {
		uint32_t be = htonl(r->gw);

		assert_bytes_attr(top.tb[RTA_GATEWAY], &be, 4);
		n++;
	} else {
		assert_null(top.tb[RTA_GATEWAY]);
	}
	/* RTA_VIA is struct rtvia: the family (2 bytes, host order) and the address */
	if (!r->gw && r->via.family == AF_INET6) {
		uint8_t via[2 + 16];
		uint16_t fam = AF_INET6;

		memcpy(via, &fam, 2);
		memcpy(via + 2, r->via.v6, 16);
		assert_bytes_attr(top.tb[RTA_VIA], via, sizeof(via));
		n++;
	} else {
		assert_null(top.tb[RTA_VIA]);
	}
	if (r->oif) {
		assert_u32_attr(top.tb[RTA_OIF], (uint32_t)r->oif);
		n++;
	} else {
		assert_null(top.tb[RTA_OIF]);
	}
	if (table >= 256) {
		assert_u32_attr(top.tb[RTA_TABLE], table);
		n++;
	} else {
		assert_null(top.tb[RTA_TABLE]);
	}
	if (r->priority) {
		assert_u32_attr(top.tb[RTA_PRIORITY], r->priority);
		n++;
	} else {
		assert_null(top.tb[RTA_PRIORITY]);
	}
	if (r->mtu) {
		struct attrs metrics;

		collect_nested(top.tb[RTA_METRICS], &metrics);
		assert_u32_attr(metrics.tb[RTAX_MTU], r->mtu);
		assert_int_equal(metrics.total, 1);
		n++;
	} else {
		assert_null(top.tb[RTA_METRICS]);
	}
	assert_int_equal(top.total, n);
}

static void check_route(const struct nlmsghdr *nlh, int len, uint16_t cmd, const struct rtroute *r)
{
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

	if (cmd == RTM_NEWROUTE)
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
	check_route_flags(nlh, len, cmd, flags, r);
}

/* fd00:5a::2 and fe80::1 as struct ipaddr */
#define V6_VIA { .family = AF_INET6, .v6 = { 0xfd, 0x00, 0x00, 0x5a, [15] = 2 } }
#define V6_VIA_LL { .family = AF_INET6, .v6 = { 0xfe, 0x80, [15] = 1 } }

static const struct rtroute route_cases[] = {
	/* the overlay route to another node's subnet via its VTEP address, onlink */
	{ IP(10, 244, 7, 0), 24, IP(10, 244, 7, 0), 4, 0, RTROUTE_PROTO_SHOAL, true, 0, 0, 0, { 0 }, 0 },
	/* the container's default route via the gateway */
	{ 0, 0, IP(10, 244, 3, 1), 2, 0, 0, false, 0, 0, 0, { 0 }, 0 },
	/* a device route */
	{ IP(10, 244, 3, 0), 24, 0, 5, 0, RTROUTE_PROTO_SHOAL, false, 0, 0, 0, { 0 }, 0 },
	/* tables below and above 255 */
	{ IP(10, 244, 8, 0), 24, IP(198, 18, 0, 3), 0, 100, RTROUTE_PROTO_SHOAL, false, 0, 0, 0, { 0 }, 0 },
	{ IP(10, 244, 9, 128), 25, IP(198, 18, 0, 4), 6, 1000, RTROUTE_PROTO_SHOAL, true, 0, 0, 0, { 0 }, 0 },
	{ IP(10, 244, 10, 0), 24, IP(198, 18, 0, 5), 0, 255, RTROUTE_PROTO_SHOAL, false, 0, 0, 0, { 0 }, 0 },   /* RT_TABLE_LOCAL */
	{ IP(10, 244, 11, 0), 24, IP(198, 18, 0, 6), 0, 256, RTROUTE_PROTO_SHOAL, false, 0, 0, 0, { 0 }, 0 },   /* first that needs RTA_TABLE */
	{ IP(192, 0, 2, 1), 32, 0, 6, 0x7fffffff, 200, false, 0, 0, 0, { 0 }, 0 },
	/* an underlay default route with a metric and a route MTU */
	{ 0, 0, IP(198, 18, 0, 1), 3, 0, 0, false, 0, 100, 1400, { 0 }, 0 },
	{ IP(10, 0, 0, 0), 8, IP(10, 244, 3, 1), 2, 0, 0, false, RTN_UNICAST, 0xffffffff, 65535, { 0 }, 0 },
	/* another type: only that rtm_type round-trips (the builder is for unicast routes) */
	{ IP(10, 99, 0, 0), 16, 0, 0, 0, RTROUTE_PROTO_SHOAL, false, RTN_BLACKHOLE, 0, 0, { 0 }, 0 },
	/* direct routing over an IPv6 underlay: an IPv4 route via an IPv6 nexthop (RTA_VIA) */
	{ IP(10, 244, 12, 0), 24, 0, 3, 0, RTROUTE_PROTO_SHOAL, false, 0, 0, 0, V6_VIA, 0 },
	{ IP(10, 244, 13, 0), 24, 0, 3, 0, RTROUTE_PROTO_SHOAL, false, 0, 7, 0, V6_VIA_LL, 0 },
};

static void test_route_build(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		int len = rtroute_build(buf, sizeof(buf), SEQ, RTM_NEWROUTE, &route_cases[i]);

		check_route(nlh, len, RTM_NEWROUTE, &route_cases[i]);
		len = rtroute_build(buf, sizeof(buf), SEQ, RTM_DELROUTE, &route_cases[i]);
		check_route(nlh, len, RTM_DELROUTE, &route_cases[i]);
	}
}

/* rtroute_build_add never replaces: EXCL, and no REPLACE that would override it. */
static void test_route_build_add(void **state)
{
	_Alignas(8) char buf[256] = { 0 }, buf2[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		int len;

		memset(buf, 0, sizeof(buf));
		memset(buf2, 0, sizeof(buf2));
		len = rtroute_build_add(buf, sizeof(buf), SEQ, &route_cases[i]);

		check_route_flags(nlh, len, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		                  &route_cases[i]);
		/* the same route as the replacing build, flags aside */
		assert_int_equal(rtroute_build(buf2, sizeof(buf2), SEQ, RTM_NEWROUTE, &route_cases[i]), len);
		((struct nlmsghdr *)buf2)->nlmsg_flags = nlh->nlmsg_flags;
		assert_memory_equal(buf, buf2, (size_t)len);
	}
}

static void test_route_dump(void **state)
{
	_Alignas(8) char buf[64] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len = rtroute_build_dump(buf, sizeof(buf), SEQ);

	assert_header(nlh, len, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_table, 0);
	collect_msg(nlh, sizeof(*rtm), &top);
	assert_int_equal(top.total, 0);
}

static void test_route_parse_back(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct rtroute *want = &route_cases[i];
		struct rtroute got;

		assert_true(rtroute_build(buf, sizeof(buf), SEQ, RTM_NEWROUTE, want) > 0);
		memset(&got, 0x5a, sizeof(got));
		assert_int_equal(rtroute_parse(nlh, &got), 0);
		assert_int_equal(got.dst, want->dst);
		assert_int_equal(got.dst_len, want->dst_len);
		assert_int_equal(got.gw, want->gw);
		assert_int_equal(got.oif, want->oif);
		/* 0 means main, boot and unicast in a request; the kernel reports what they mean */
		assert_int_equal(got.table, want->table ? want->table : RT_TABLE_MAIN);
		assert_int_equal(got.protocol, want->protocol ? want->protocol : RTPROT_BOOT);
		assert_int_equal(got.type, want->type ? want->type : RTN_UNICAST);
		assert_int_equal(got.onlink, want->onlink);
		assert_int_equal(got.priority, want->priority);
		assert_int_equal(got.mtu, want->mtu);
		assert_int_equal(got.family, AF_INET);
		assert_int_equal(got.via.family, want->via.family);
		if (want->via.family)
			assert_memory_equal(got.via.v6, want->via.v6, 16);

		/* the kernel always adds RTA_TABLE, also for tables below 256 */
		assert_true(rtroute_build(buf, sizeof(buf), SEQ, RTM_DELROUTE, want) > 0);
		assert_int_equal(rtroute_parse(nlh, &got), -EBADMSG);
		nlh->nlmsg_type = RTM_NEWROUTE;
		if ((want->table ? want->table : RT_TABLE_MAIN) < 256)
			mnl_attr_put_u32(nlh, RTA_TABLE, want->table ? want->table : RT_TABLE_MAIN);
		assert_int_equal(rtroute_parse(nlh, &got), 0);
		assert_int_equal(got.table, want->table ? want->table : RT_TABLE_MAIN);
		assert_int_equal(got.dst, want->dst);
		assert_int_equal(got.gw, want->gw);
		assert_int_equal(got.mtu, want->mtu);

		/* and the add that never replaces reads back the same */
		assert_true(rtroute_build_add(buf, sizeof(buf), SEQ, want) > 0);
		memset(&got, 0x5a, sizeof(got));
		assert_int_equal(rtroute_parse(nlh, &got), 0);
		assert_int_equal(got.dst, want->dst);
		assert_int_equal(got.dst_len, want->dst_len);
		assert_int_equal(got.gw, want->gw);
		assert_int_equal(got.oif, want->oif);
		assert_int_equal(got.priority, want->priority);
	}
}

/* A multipath default route as the kernel dumps it: no RTA_OIF, no RTA_GATEWAY, an RTA_MULTIPATH
 * list; other metrics around RTAX_MTU.  The first nexthop stands for the route. */
static void test_route_parse_kernel_multipath(void **state)
{
	_Alignas(8) char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct rtnexthop *nh;
	struct nlattr *mp, *metrics;
	struct rtroute got;
	uint32_t gw1 = htonl(IP(198, 18, 0, 1)), gw2 = htonl(IP(198, 19, 0, 1));
	size_t start;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 20);
	metrics = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_ADVMSS, 1360);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1400);
	mnl_attr_nest_end(nlh, metrics);
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (int i = 0; i < 2; i++) {
		start = nlh->nlmsg_len;
		nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
		nh->rtnh_ifindex = 7 + i;
		mnl_attr_put(nlh, RTA_GATEWAY, 4, i ? &gw2 : &gw1);
		nh = (struct rtnexthop *)(buf + start);
		nh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
	}
	mnl_attr_nest_end(nlh, mp);

	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(rtroute_parse(nlh, &got), 0);
	assert_int_equal(got.dst_len, 0);
	assert_int_equal(got.dst, 0);
	assert_int_equal(got.table, RT_TABLE_MAIN);
	assert_int_equal(got.priority, 20);
	assert_int_equal(got.mtu, 1400);
	assert_int_equal(got.oif, 7);
	assert_int_equal(got.gw, IP(198, 18, 0, 1));

	/* a truncated nexthop is skipped, not read past */
	nh = (struct rtnexthop *)((char *)mnl_attr_get_payload(mp));
	nh->rtnh_len = 0xffff;
	assert_int_equal(rtroute_parse(nlh, &got), 0);
	assert_int_equal(got.oif, 0);
	assert_int_equal(got.gw, 0);
}

/* What the underlay search reads: an IPv6 default route as the kernel dumps it (RA or static), the
 * same as a multipath route, and an IPv4 route with an IPv6 nexthop inside RTA_MULTIPATH. */
static void test_route_parse_ipv6(void **state)
{
	_Alignas(8) char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct rtnexthop *nh;
	struct nlattr *mp, *metrics;
	struct rtroute got;
	const uint8_t gw[16] = { 0xfd, 0x00, 0x00, 0x5a, [15] = 0xfe }, gw2[16] = { 0xfe, 0x80, [15] = 1 };
	uint8_t via[2 + 16];
	uint16_t fam = AF_INET6;
	size_t start;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 1024);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, 4);
	metrics = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1400);
	mnl_attr_nest_end(nlh, metrics);

	assert_int_equal(rtroute_parse(nlh, &got), -EAFNOSUPPORT);   /* the IPv4 parser stays IPv4 */
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(rtroute_parse_any(nlh, &got), 0);
	assert_int_equal(got.family, AF_INET6);
	assert_int_equal(got.dst_len, 0);
	assert_int_equal(got.dst, 0);
	assert_int_equal(got.gw, 0);
	assert_int_equal(got.via.family, AF_INET6);
	assert_memory_equal(got.via.v6, gw, 16);
	assert_int_equal(got.oif, 4);
	assert_int_equal(got.table, RT_TABLE_MAIN);
	assert_int_equal(got.priority, 1024);
	assert_int_equal(got.mtu, 1400);
	assert_int_equal(got.type, RTN_UNICAST);

	/* multipath (two routers): the first nexthop stands for the route */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (int i = 0; i < 2; i++) {
		start = nlh->nlmsg_len;
		nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
		nh->rtnh_ifindex = 7 + i;
		mnl_attr_put(nlh, RTA_GATEWAY, 16, i ? gw2 : gw);
		nh = (struct rtnexthop *)(buf + start);
		nh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
	}
	mnl_attr_nest_end(nlh, mp);
	assert_int_equal(rtroute_parse_any(nlh, &got), 0);
	assert_int_equal(got.oif, 7);
	assert_int_equal(got.via.family, AF_INET6);
	assert_memory_equal(got.via.v6, gw, 16);

	/* an IPv4 route whose nexthops are IPv6 (RTA_VIA in RTA_MULTIPATH) */
	memcpy(via, &fam, 2);
	memcpy(via + 2, gw2, 16);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 24;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(IP(10, 244, 3, 0)));
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	start = nlh->nlmsg_len;
	nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
	nh->rtnh_ifindex = 3;
	mnl_attr_put(nlh, RTA_VIA, sizeof(via), via);
	nh = (struct rtnexthop *)(buf + start);
	nh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
	mnl_attr_nest_end(nlh, mp);
	assert_int_equal(rtroute_parse(nlh, &got), 0);
	assert_int_equal(got.dst, IP(10, 244, 3, 0));
	assert_int_equal(got.oif, 3);
	assert_int_equal(got.gw, 0);
	assert_int_equal(got.via.family, AF_INET6);
	assert_memory_equal(got.via.v6, gw2, 16);

	/* RTA_VIA of another family or a wrong length is not read as an IPv6 nexthop */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	fam = AF_INET;
	memcpy(via, &fam, 2);
	mnl_attr_put(nlh, RTA_VIA, sizeof(via), via);
	mnl_attr_put(nlh, RTA_VIA, 6, via);   /* truncated */
	assert_int_equal(rtroute_parse(nlh, &got), 0);
	assert_int_equal(got.via.family, 0);
	/* an IPv4 route's 16-byte RTA_GATEWAY is no IPv6 nexthop either */
	mnl_attr_put(nlh, RTA_GATEWAY, 16, gw);
	assert_int_equal(rtroute_parse(nlh, &got), 0);
	assert_int_equal(got.via.family, 0);
	assert_int_equal(got.gw, 0);
}

static void test_route_dump_family(void **state)
{
	_Alignas(8) char buf[64] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct attrs top;
	int len = rtroute_build_dump_family(buf, sizeof(buf), SEQ, AF_INET6);

	assert_header(nlh, len, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_table, 0);
	collect_msg(nlh, sizeof(*rtm), &top);
	assert_int_equal(top.total, 0);
}

static void test_route_parse_rejects(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct rtmsg *rtm;
	struct rtroute got;

	assert_true(rtroute_build(buf, sizeof(buf), SEQ, RTM_NEWROUTE, &route_cases[0]) > 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = AF_INET6;
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(rtroute_parse(nlh, &got), -EAFNOSUPPORT);
	assert_int_equal(got.dst_len, 0x5a);
	rtm->rtm_family = AF_INET;
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(*rtm) - 1;
	assert_int_equal(rtroute_parse(nlh, &got), -EBADMSG);
}

/* ------------------------------------------------------------------ short buffers */

static int b_veth(void *buf, size_t len, const void *arg)
{
	return rtlink_build_veth(buf, len, SEQ, arg);
}

static int b_bridge(void *buf, size_t len, const void *arg)
{
	return rtlink_build_bridge(buf, len, SEQ, arg);
}

static int b_set(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set(buf, len, SEQ, 42, IFF_UP, IFF_UP, 1400, *(const int64_t *)arg);
}

static int b_alias_name(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_alias(buf, len, SEQ, 0, "shv0123456789ab", arg);
}

static int b_alias_index(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_alias(buf, len, SEQ, 42, NULL, arg);
}

static int b_up_name(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_up(buf, len, SEQ, 0, arg);
}

static int b_up_index(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_up(buf, len, SEQ, 9, NULL);
}

static int b_group_name(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_group(buf, len, SEQ, 0, arg, 0x5e0a1de1u);
}

static int b_group_index(void *buf, size_t len, const void *arg)
{
	return rtlink_build_set_group(buf, len, SEQ, 42, NULL, 0x5e0a1de1u);
}

static int b_del_group(void *buf, size_t len, const void *arg)
{
	return rtlink_build_del_group(buf, len, SEQ, 0x5e0a1de1u);
}

static int b_route_add(void *buf, size_t len, const void *arg)
{
	return rtroute_build_add(buf, len, SEQ, arg);
}

static int b_del_name(void *buf, size_t len, const void *arg)
{
	return rtlink_build_del(buf, len, SEQ, 0, arg);
}

static int b_del_index(void *buf, size_t len, const void *arg)
{
	return rtlink_build_del(buf, len, SEQ, 42, NULL);
}

static int b_get_name(void *buf, size_t len, const void *arg)
{
	return rtlink_build_get(buf, len, SEQ, 0, arg);
}

static int b_get_index(void *buf, size_t len, const void *arg)
{
	return rtlink_build_get(buf, len, SEQ, 42, NULL);
}

static int b_get_dump(void *buf, size_t len, const void *arg)
{
	return rtlink_build_get(buf, len, SEQ, 0, NULL);
}

static int b_addr_new(void *buf, size_t len, const void *arg)
{
	return rtaddr_build(buf, len, SEQ, RTM_NEWADDR, 5, IP(10, 244, 3, 1), *(const uint8_t *)arg);
}

static int b_addr_del(void *buf, size_t len, const void *arg)
{
	return rtaddr_build(buf, len, SEQ, RTM_DELADDR, 5, IP(10, 244, 3, 1), 24);
}

static int b_addr_dump(void *buf, size_t len, const void *arg)
{
	return rtaddr_build_dump(buf, len, SEQ);
}

static int b_route(void *buf, size_t len, const void *arg)
{
	return rtroute_build(buf, len, SEQ, RTM_NEWROUTE, arg);
}

static int b_route_del(void *buf, size_t len, const void *arg)
{
	return rtroute_build(buf, len, SEQ, RTM_DELROUTE, arg);
}

static int b_route_dump(void *buf, size_t len, const void *arg)
{
	return rtroute_build_dump(buf, len, SEQ);
}

static int b_route_dump6(void *buf, size_t len, const void *arg)
{
	return rtroute_build_dump_family(buf, len, SEQ, AF_INET6);
}

static int b_addr_dump6(void *buf, size_t len, const void *arg)
{
	return rtaddr_build_dump_family(buf, len, SEQ, AF_INET6);
}

static void test_short_buffers_link(void **state)
{
	struct rtlink_veth full = veth_full();
	struct rtlink_veth min = { .name = "shvaaaaaaaaaaaa", .peer_name = "eth0", .peer_netns_fd = -1 };
	struct rtlink_veth nsonly = { .name = "a", .peer_name = "b", .peer_netns_fd = 3 };
	struct rtlink_bridge br = { .name = "shoal0", .mac = MAC_BR, .mtu = 9000, .up = true };
	struct rtlink_bridge br_min = { .name = "b" };
	int64_t keep = -1, master = 7;

	check_short_buffers(b_veth, &full);
	check_short_buffers(b_veth, &min);
	check_short_buffers(b_veth, &nsonly);
	check_short_buffers(b_bridge, &br);
	check_short_buffers(b_bridge, &br_min);
	check_short_buffers(b_set, &keep);
	check_short_buffers(b_set, &master);
	check_short_buffers(b_del_name, "shv0123456789ab");
	check_short_buffers(b_del_index, NULL);
	check_short_buffers(b_get_name, "shoal0");
	check_short_buffers(b_get_index, NULL);
	check_short_buffers(b_get_dump, NULL);
	check_short_buffers(b_alias_name, "shoal 0123456789abcdef/eth0");
	check_short_buffers(b_alias_name, "");
	check_short_buffers(b_alias_index, "a");
	check_short_buffers(b_up_name, "shv0123456789ab");
	check_short_buffers(b_up_index, NULL);
	check_short_buffers(b_group_name, "shv0123456789ab");
	check_short_buffers(b_group_name, "x");
	check_short_buffers(b_group_index, NULL);
	check_short_buffers(b_del_group, NULL);
}

static void test_short_buffers_addr_route(void **state)
{
	uint8_t p24 = 24, p32 = 32;

	check_short_buffers(b_addr_new, &p24);
	check_short_buffers(b_addr_new, &p32);
	check_short_buffers(b_addr_del, NULL);
	check_short_buffers(b_addr_dump, NULL);
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		check_short_buffers(b_route, &route_cases[i]);
		check_short_buffers(b_route_del, &route_cases[i]);
		check_short_buffers(b_route_add, &route_cases[i]);
	}
	check_short_buffers(b_route_dump, NULL);
	check_short_buffers(b_route_dump6, NULL);
	check_short_buffers(b_addr_dump6, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_veth_full),
		cmocka_unit_test(test_veth_minimal),
		cmocka_unit_test(test_veth_parse_back),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_set_alias),
		cmocka_unit_test(test_set_up),
		cmocka_unit_test(test_set_group),
		cmocka_unit_test(test_del_group),
		cmocka_unit_test(test_nlsock_timeout),
		cmocka_unit_test(test_link_parse_kernel_answer),
		cmocka_unit_test(test_link_parse_rejects),
		cmocka_unit_test(test_format_mac),
		cmocka_unit_test(test_addr_build),
		cmocka_unit_test(test_addr_dump),
		cmocka_unit_test(test_addr_parse_back),
		cmocka_unit_test(test_addr_parse_kernel_answers),
		cmocka_unit_test(test_addr_parse_any),
		cmocka_unit_test(test_addr_dump_family),
		cmocka_unit_test(test_route_build),
		cmocka_unit_test(test_route_build_add),
		cmocka_unit_test(test_route_dump),
		cmocka_unit_test(test_route_parse_back),
		cmocka_unit_test(test_route_parse_rejects),
		cmocka_unit_test(test_route_parse_kernel_multipath),
		cmocka_unit_test(test_route_parse_ipv6),
		cmocka_unit_test(test_route_dump_family),
		cmocka_unit_test(test_short_buffers_link),
		cmocka_unit_test(test_short_buffers_addr_route),
	};

	return cmocka_run_group_tests_name("rtnl", tests, NULL, NULL);
}
