/* fw/: the nftables batch, checked by parsing it back with libnftnl's own parsers, and the
 * acknowledgement collector fed with hand-made kernel answers.  No root, no kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "fw/fw.h"

#define SEQ 1000u
#define MAXMSG 64

struct parsed {
	char buf[65536];
	size_t len;
	const struct nlmsghdr *msg[MAXMSG];
	size_t n;
};

static struct fw_config config(const char *bridge)
{
	struct fw_config c = {
		.network = { 0x0af40000, 16 },   /* 10.244.0.0/16 */
		.subnet = { 0x0af40300, 24 },    /* 10.244.3.0/24 */
		.masquerade = true,
		.bridge = bridge,
	};
	return c;
}

static void build(const struct fw_config *c, struct parsed *p)
{
	const struct nlmsghdr *nlh;
	int rest;

	memset(p, 0, sizeof(*p));
	assert_int_equal(fw_batch_build(c, p->buf, sizeof(p->buf), SEQ, &p->len), 0);
	assert_true(p->len > 0 && p->len <= sizeof(p->buf));
	rest = (int)p->len;
	for (nlh = (const struct nlmsghdr *)p->buf; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		assert_true(p->n < MAXMSG);
		p->msg[p->n++] = nlh;
	}
	assert_int_equal(rest, 0);   /* the messages fill the batch exactly */
}

static uint16_t nft_type(uint16_t t)
{
	return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | t);
}

static void assert_batch_marker(const struct nlmsghdr *nlh, uint16_t type, uint32_t seq)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_seq, seq);
	assert_int_equal(nlh->nlmsg_flags & NLM_F_ACK, 0);
	assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
}

static void assert_table_family(const struct nlmsghdr *nlh, uint16_t type, uint32_t family)
{
	struct nftnl_table *t = nftnl_table_alloc();

	assert_int_equal(nlh->nlmsg_type, nft_type(type));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "shoal");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), family);
	nftnl_table_free(t);
}

static void assert_table(const struct nlmsghdr *nlh, uint16_t type)
{
	assert_table_family(nlh, type, NFPROTO_INET);
}

/* The rule's expressions, in order; the caller frees the rule. */
static struct nftnl_rule *parse_rule(const struct nlmsghdr *nlh, struct nftnl_expr **e, size_t max, size_t *ret_n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *x;
	size_t n = 0;

	assert_int_equal(nlh->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "shoal");
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "postrouting");
	assert_int_equal(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NFPROTO_INET);
	it = nftnl_expr_iter_create(r);
	while ((x = nftnl_expr_iter_next(it))) {
		assert_true(n < max);
		e[n++] = x;
	}
	nftnl_expr_iter_destroy(it);
	*ret_n = n;
	return r;
}

static void assert_name(const struct nftnl_expr *e, const char *name)
{
	assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), name);
}

static void assert_meta(const struct nftnl_expr *e, uint32_t key)
{
	assert_name(e, "meta");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY), key);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), NFT_REG_1);
}

static void assert_cmp(const struct nftnl_expr *e, uint32_t op, const void *data, uint32_t len)
{
	uint32_t got_len = 0;
	const void *got;

	assert_name(e, "cmp");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG), NFT_REG_1);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), op);
	got = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
}

static void assert_cmp_addr(const struct nftnl_expr *e, uint32_t op, const char *dotted)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);   /* network byte order */
	assert_cmp(e, op, &a.s_addr, 4);
}

static void assert_payload(const struct nftnl_expr *e, uint32_t offset)
{
	assert_name(e, "payload");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_NETWORK_HEADER);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), offset);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), 4);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
}

static void assert_mask(const struct nftnl_expr *e, const char *dotted_mask)
{
	struct in_addr m;
	uint32_t len = 0, zero = 0;
	const void *got;

	assert_int_equal(inet_pton(AF_INET, dotted_mask, &m), 1);
	assert_name(e, "bitwise");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG), NFT_REG_1);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), NFT_REG_1);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN), 4);
	got = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(got, &m.s_addr, 4);
	got = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(got, &zero, 4);
}

static void test_batch_layout(void **state)
{
	struct fw_config c = config(NULL);
	struct parsed p;
	struct nftnl_chain *ch;

	build(&c, &p);
	assert_int_equal(p.n, 9);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.msg[i]->nlmsg_seq, SEQ + i);
	assert_batch_marker(p.msg[0], NFNL_MSG_BATCH_BEGIN, SEQ);
	assert_table(p.msg[1], NFT_MSG_NEWTABLE);
	assert_true(p.msg[1]->nlmsg_flags & NLM_F_CREATE);
	assert_false(p.msg[1]->nlmsg_flags & NLM_F_EXCL);   /* must not fail when the table exists */
	assert_table(p.msg[2], NFT_MSG_DELTABLE);
	assert_table(p.msg[3], NFT_MSG_NEWTABLE);
	assert_int_equal(p.msg[4]->nlmsg_type, nft_type(NFT_MSG_NEWCHAIN));
	assert_true(p.msg[4]->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(p.msg[5]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
	/* Without antispoof, a stale bridge table is deleted (add + delete) and not re-created. */
	assert_table_family(p.msg[6], NFT_MSG_NEWTABLE, NFPROTO_BRIDGE);
	assert_true(p.msg[6]->nlmsg_flags & NLM_F_CREATE);
	assert_false(p.msg[6]->nlmsg_flags & NLM_F_EXCL);
	assert_table_family(p.msg[7], NFT_MSG_DELTABLE, NFPROTO_BRIDGE);
	assert_batch_marker(p.msg[8], NFNL_MSG_BATCH_END, SEQ + 8);

	ch = nftnl_chain_alloc();
	assert_int_equal(nftnl_chain_nlmsg_parse(p.msg[4], ch), 0);
	assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), "shoal");
	assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), "postrouting");
	assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE), "nat");
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY), NFPROTO_INET);
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM), NF_INET_POST_ROUTING);
	assert_int_equal(nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO), 100);
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(ch);
}

static void test_rule_masquerade(void **state)
{
	struct fw_config c = config(NULL);
	struct nftnl_expr *e[16];
	struct nftnl_rule *r;
	struct parsed p;
	uint8_t ipv4 = NFPROTO_IPV4;
	size_t n;

	build(&c, &p);
	r = parse_rule(p.msg[5], e, 16, &n);
	assert_int_equal(n, 9);
	assert_meta(e[0], NFT_META_NFPROTO);
	assert_cmp(e[1], NFT_CMP_EQ, &ipv4, 1);
	assert_payload(e[2], 12);                       /* ip saddr */
	assert_mask(e[3], "255.255.255.0");
	assert_cmp_addr(e[4], NFT_CMP_EQ, "10.244.3.0");
	assert_payload(e[5], 16);                       /* ip daddr */
	assert_mask(e[6], "255.255.0.0");
	assert_cmp_addr(e[7], NFT_CMP_NEQ, "10.244.0.0");
	assert_name(e[8], "masq");
	assert_true(nftnl_rule_is_set(r, NFTNL_RULE_USERDATA));   /* the comment nft shows */
	nftnl_rule_free(r);
}

static void test_rule_bridge_exemption(void **state)
{
	struct fw_config c = config("shoal0");
	char name[16] = "shoal0";
	struct nftnl_expr *e[16];
	struct nftnl_rule *r;
	struct parsed p;
	size_t n;

	build(&c, &p);
	r = parse_rule(p.msg[5], e, 16, &n);
	assert_int_equal(n, 11);
	assert_meta(e[8], NFT_META_OIFNAME);
	assert_cmp(e[9], NFT_CMP_NEQ, name, sizeof(name));   /* IFNAMSIZ, NUL padded */
	assert_name(e[10], "masq");
	nftnl_rule_free(r);

	/* An empty bridge name means no exemption. */
	c.bridge = "";
	build(&c, &p);
	r = parse_rule(p.msg[5], e, 16, &n);
	assert_int_equal(n, 9);
	nftnl_rule_free(r);
}

static void test_rule_host_prefix_and_host_bits(void **state)
{
	struct fw_config c = config(NULL);
	struct nftnl_expr *e[16];
	struct nftnl_rule *r;
	struct parsed p;
	size_t n;

	c.subnet = (struct cidr4){ 0x0af40305, 32 };    /* 10.244.3.5/32: no mask needed */
	c.network = (struct cidr4){ 0x0af41234, 16 };   /* host bits must not reach the cmp */
	build(&c, &p);
	r = parse_rule(p.msg[5], e, 16, &n);
	assert_int_equal(n, 8);
	assert_payload(e[2], 12);
	assert_cmp_addr(e[3], NFT_CMP_EQ, "10.244.3.5");
	assert_payload(e[4], 16);
	assert_mask(e[5], "255.255.0.0");
	assert_cmp_addr(e[6], NFT_CMP_NEQ, "10.244.0.0");
	assert_name(e[7], "masq");
	nftnl_rule_free(r);

	/* Odd prefix length: the mask is in network byte order too. */
	c = config(NULL);
	c.network = (struct cidr4){ 0x0af00000, 12 };   /* 10.240.0.0/12 */
	build(&c, &p);
	r = parse_rule(p.msg[5], e, 16, &n);
	assert_mask(e[6], "255.240.0.0");
	assert_cmp_addr(e[7], NFT_CMP_NEQ, "10.240.0.0");
	nftnl_rule_free(r);
}

static void test_no_masquerade_empty_table(void **state)
{
	struct fw_config c = config(NULL);
	struct parsed p;

	c.masquerade = false;
	c.subnet.len = 0;   /* ignored without masquerade */
	build(&c, &p);
	assert_int_equal(p.n, 7);
	assert_batch_marker(p.msg[0], NFNL_MSG_BATCH_BEGIN, SEQ);
	assert_table(p.msg[1], NFT_MSG_NEWTABLE);
	assert_table(p.msg[2], NFT_MSG_DELTABLE);
	assert_table(p.msg[3], NFT_MSG_NEWTABLE);
	assert_table_family(p.msg[4], NFT_MSG_NEWTABLE, NFPROTO_BRIDGE);
	assert_table_family(p.msg[5], NFT_MSG_DELTABLE, NFPROTO_BRIDGE);
	assert_batch_marker(p.msg[6], NFNL_MSG_BATCH_END, SEQ + 6);
}

static void test_remove_batch(void **state)
{
	char buf[4096];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t len = 0;
	int rest;

	assert_int_equal(fw_batch_build_remove(buf, sizeof(buf), 7, &len), 0);
	rest = (int)len;
	assert_batch_marker(nlh, NFNL_MSG_BATCH_BEGIN, 7);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_table(nlh, NFT_MSG_NEWTABLE);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_table(nlh, NFT_MSG_DELTABLE);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_table_family(nlh, NFT_MSG_NEWTABLE, NFPROTO_BRIDGE);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_table_family(nlh, NFT_MSG_DELTABLE, NFPROTO_BRIDGE);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_batch_marker(nlh, NFNL_MSG_BATCH_END, 12);
	nlh = mnl_nlmsg_next(nlh, &rest);
	assert_int_equal(rest, 0);
}

/* Every buffer size short of the batch fails with -ENOBUFS and writes nothing past it. */
static void test_enobufs_no_overflow(void **state)
{
	struct fw_config c = config("shoal0");
	enum { GUARD = 64 };
	size_t full = 0, len;
	char *buf;

	assert_int_equal(fw_batch_build(&c, NULL, 0, SEQ, &full), -ENOBUFS);
	buf = malloc(16384);
	assert_non_null(buf);
	assert_int_equal(fw_batch_build(&c, buf, 16384, SEQ, &full), 0);
	for (size_t cap = 0; cap < full; cap++) {
		memset(buf, 0xa5, cap + GUARD);
		len = 12345;
		assert_int_equal(fw_batch_build(&c, buf, cap, SEQ, &len), -ENOBUFS);
		assert_int_equal(len, 12345);   /* untouched on failure */
		for (size_t i = cap; i < cap + GUARD; i++)
			assert_int_equal((unsigned char)buf[i], 0xa5);
	}
	assert_int_equal(fw_batch_build(&c, buf, full, SEQ, &len), 0);
	assert_int_equal(len, full);
	assert_int_equal(fw_batch_build_remove(buf, 16384, SEQ, &full), 0);
	for (size_t cap = 0; cap < full; cap++) {
		memset(buf, 0xa5, cap + GUARD);
		assert_int_equal(fw_batch_build_remove(buf, cap, SEQ, &len), -ENOBUFS);
		for (size_t i = cap; i < cap + GUARD; i++)
			assert_int_equal((unsigned char)buf[i], 0xa5);
	}
	free(buf);
}

static void test_validate(void **state)
{
	struct fw_config c = config(NULL);
	char buf[8192];
	char err[128] = "";
	size_t len;

	assert_int_equal(fw_config_validate(&c), 0);
	c.subnet = (struct cidr4){ 0x0af50300, 24 };   /* 10.245.3.0/24, outside 10.244.0.0/16 */
	assert_int_equal(fw_config_validate(&c), -EINVAL);
	assert_int_equal(fw_batch_build(&c, buf, sizeof(buf), SEQ, &len), -EINVAL);
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EINVAL);   /* fails before any socket */
	assert_non_null(strstr(err, "inet shoal"));
	c = config(NULL);
	c.network.len = 0;                             /* nothing would be "outside" */
	assert_int_equal(fw_config_validate(&c), -EINVAL);
	c = config(NULL);
	c.network.len = 33;
	assert_int_equal(fw_config_validate(&c), -EINVAL);
	c = config("0123456789abcdef");               /* 16 bytes: longer than IFNAMSIZ - 1 */
	assert_int_equal(fw_config_validate(&c), -EINVAL);
	c = config("0123456789abcde");
	assert_int_equal(fw_config_validate(&c), 0);
	assert_int_equal(fw_config_validate(NULL), -EINVAL);
}

static void test_describe(void **state)
{
	struct fw_config c = config(NULL);
	struct parsed p;
	char d[256];

	build(&c, &p);
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 1, d, sizeof(d)), 0);
	assert_string_equal(d, "add table inet shoal");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 2, d, sizeof(d)), 0);
	assert_string_equal(d, "delete table inet shoal");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 4, d, sizeof(d)), 0);
	assert_string_equal(d, "add chain postrouting");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 5, d, sizeof(d)), 0);
	assert_true(strncmp(d, "add rule postrouting \"shoal: masquerade", 39) == 0);
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ, d, sizeof(d)), 0);
	assert_string_equal(d, "batch");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 99, d, sizeof(d)), -ENOENT);
	/* Truncated output stays a string. */
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 5, d, 8), 0);
	assert_string_equal(d, "add rul");
}

/* ---- anti-spoofing: table bridge shoal ---- */

static const struct fw_workload wl_a = { "shv0123456789ab", { 0x02, 0, 0, 0, 0x0a, 0x01 }, 0x0af40302 };
static const struct fw_workload wl_b = { "shv0123456789ac", { 0x02, 0, 0, 0, 0x0a, 0x02 }, 0x0af40303 };

static struct fw_config config_antispoof(const struct fw_workload *w, size_t n)
{
	struct fw_config c = config("shoal0");

	c.antispoof = true;
	c.workloads = w;
	c.n_workloads = n;
	return c;
}

/* The key bytes nft uses: ifname NUL padded to 16, MAC padded to 8, IPv4 in network order. */
static size_t expected_key(const struct fw_workload *w, bool with_ip, uint8_t key[28])
{
	uint32_t be = htonl(w->addr);

	memset(key, 0, 28);
	memcpy(key, w->ifname, strlen(w->ifname));
	memcpy(key + 16, w->mac, 6);
	if (!with_ip)
		return 24;
	memcpy(key + 24, &be, 4);
	return 28;
}

static void assert_set(const struct nlmsghdr *nlh, const char *name, uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	assert_int_equal(nlh->nlmsg_type, nft_type(NFT_MSG_NEWSET));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), "shoal");
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FAMILY), NFPROTO_BRIDGE);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), key_type);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), key_len);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), 0);   /* a plain hash: O(1) lookups */
	nftnl_set_free(s);
}

/* An element message of set name with exactly the keys of w[0..n) (with_ip: allow_ip4). */
static void assert_elems(const struct nlmsghdr *nlh, uint16_t type, const char *name, const struct fw_workload *w,
			 size_t n)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	bool with_ip = strcmp(name, "allow_ip4") == 0;
	size_t i = 0;

	assert_int_equal(nlh->nlmsg_type, nft_type(type));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_false(nlh->nlmsg_flags & NLM_F_EXCL);   /* an existing element is not an error */
	assert_int_equal(!!(nlh->nlmsg_flags & NLM_F_CREATE), type == NFT_MSG_NEWSETELEM);
	assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family, NFPROTO_BRIDGE);
	assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), "shoal");
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint8_t want[28];
		size_t want_len;
		uint32_t len = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		assert_true(i < n);
		want_len = expected_key(&w[i], with_ip, want);
		assert_int_equal(len, want_len);
		assert_memory_equal(key, want, want_len);
		i++;
	}
	nftnl_set_elems_iter_destroy(it);
	assert_int_equal(i, n);
	nftnl_set_free(s);
}

/* Parse a bridge rule of chain prerouting; the caller frees it. */
static struct nftnl_rule *parse_bridge_rule(const struct nlmsghdr *nlh, struct nftnl_expr **e, size_t max, size_t *ret_n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *x;
	size_t n = 0;

	assert_int_equal(nlh->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "shoal");
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "prerouting");
	assert_int_equal(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NFPROTO_BRIDGE);
	assert_true(nftnl_rule_is_set(r, NFTNL_RULE_USERDATA));   /* the comment */
	it = nftnl_expr_iter_create(r);
	while ((x = nftnl_expr_iter_next(it))) {
		assert_true(n < max);
		e[n++] = x;
	}
	nftnl_expr_iter_destroy(it);
	*ret_n = n;
	return r;
}

static void assert_load(const struct nftnl_expr *e, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	assert_name(e, "payload");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE), base);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), offset);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), len);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), dreg);
}

static void assert_not_in(const struct nftnl_expr *e, const char *set)
{
	assert_name(e, "lookup");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG), NFT_REG_1);
	assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), set);
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS), NFT_LOOKUP_F_INV);
	assert_false(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG));
}

static void assert_counter_drop(struct nftnl_expr **e)
{
	assert_name(e[0], "counter");
	assert_name(e[1], "immediate");
	assert_int_equal(nftnl_expr_get_u32(e[1], NFTNL_EXPR_IMM_DREG), NFT_REG_VERDICT);
	assert_int_equal(nftnl_expr_get_u32(e[1], NFTNL_EXPR_IMM_VERDICT), NF_DROP);
}

static void assert_ethertype(const struct nftnl_expr *e, uint32_t op, uint16_t type)
{
	uint16_t be = htons(type);

	assert_cmp(e, op, &be, 2);
}

/* Where the bridge part of an antispoof batch starts: after BEGIN, inet (3 + chain + rule) and
 * the bridge add + delete. */
#define BR 8

static void test_antispoof_layout(void **state)
{
	const struct fw_workload w[2] = { wl_a, wl_b };
	struct fw_config c = config_antispoof(w, 2);
	struct nftnl_chain *ch;
	struct parsed p;

	build(&c, &p);
	assert_int_equal(p.n, BR + 1 + 2 + 2 + 1 + 4 + 1);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.msg[i]->nlmsg_seq, SEQ + i);
	assert_table(p.msg[3], NFT_MSG_NEWTABLE);
	assert_int_equal(p.msg[5]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));   /* masquerade */
	assert_table_family(p.msg[6], NFT_MSG_NEWTABLE, NFPROTO_BRIDGE);
	assert_table_family(p.msg[7], NFT_MSG_DELTABLE, NFPROTO_BRIDGE);
	assert_table_family(p.msg[BR], NFT_MSG_NEWTABLE, NFPROTO_BRIDGE);
	/* nft's concat types: (ifname 41 << 6 | ether_addr 9), (41 << 12 | 9 << 6 | ipv4_addr 7) */
	assert_set(p.msg[BR + 1], "allow_mac", 41 << 6 | 9, 16 + 8);
	assert_set(p.msg[BR + 2], "allow_ip4", 41 << 12 | 9 << 6 | 7, 16 + 8 + 4);
	assert_elems(p.msg[BR + 3], NFT_MSG_NEWSETELEM, "allow_mac", w, 2);
	assert_elems(p.msg[BR + 4], NFT_MSG_NEWSETELEM, "allow_ip4", w, 2);

	ch = nftnl_chain_alloc();
	assert_int_equal(p.msg[BR + 5]->nlmsg_type, nft_type(NFT_MSG_NEWCHAIN));
	assert_int_equal(nftnl_chain_nlmsg_parse(p.msg[BR + 5], ch), 0);
	assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), "prerouting");
	assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE), "filter");
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY), NFPROTO_BRIDGE);
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM), 0);   /* NF_BR_PRE_ROUTING */
	assert_int_equal(nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO), -200);
	assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(ch);
	for (size_t i = BR + 6; i < BR + 10; i++)
		assert_int_equal(p.msg[i]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
	assert_batch_marker(p.msg[p.n - 1], NFNL_MSG_BATCH_END, SEQ + p.n - 1);
}

/* The expressions nft generates for the same rules (`nft --debug=netlink`), register by register. */
static void test_antispoof_rules(void **state)
{
	struct fw_config c = config_antispoof(&wl_a, 1);
	const char shv[3] = { 's', 'h', 'v' };
	struct nftnl_expr *e[16];
	struct nftnl_rule *r;
	struct parsed p;
	size_t n;

	build(&c, &p);
	/* 1: iifname "shv*" iifname . ether saddr != @allow_mac counter drop */
	r = parse_bridge_rule(p.msg[BR + 6], e, 16, &n);
	assert_int_equal(n, 7);
	assert_meta(e[0], NFT_META_IIFNAME);
	assert_cmp(e[1], NFT_CMP_EQ, shv, 3);                      /* prefix match: 3 bytes, no NUL */
	assert_meta(e[2], NFT_META_IIFNAME);
	assert_load(e[3], NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_2);  /* ether saddr */
	assert_not_in(e[4], "allow_mac");
	assert_counter_drop(&e[5]);
	nftnl_rule_free(r);

	/* 2: iifname "shv*" ether type ip iifname . ether saddr . ip saddr != @allow_ip4 counter drop */
	r = parse_bridge_rule(p.msg[BR + 7], e, 16, &n);
	assert_int_equal(n, 10);
	assert_cmp(e[1], NFT_CMP_EQ, shv, 3);
	assert_load(e[2], NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	assert_ethertype(e[3], NFT_CMP_EQ, 0x0800);
	assert_meta(e[4], NFT_META_IIFNAME);
	assert_load(e[5], NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_2);
	assert_load(e[6], NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_06);   /* ip saddr at key byte 24 */
	assert_not_in(e[7], "allow_ip4");
	assert_counter_drop(&e[8]);
	nftnl_rule_free(r);

	/* 3: ARP sender hardware (offset 8) and protocol (offset 14) address */
	r = parse_bridge_rule(p.msg[BR + 8], e, 16, &n);
	assert_int_equal(n, 10);
	assert_ethertype(e[3], NFT_CMP_EQ, 0x0806);
	assert_meta(e[4], NFT_META_IIFNAME);
	assert_load(e[5], NFT_PAYLOAD_NETWORK_HEADER, 8, 6, NFT_REG_2);
	assert_load(e[6], NFT_PAYLOAD_NETWORK_HEADER, 14, 4, NFT_REG32_06);
	assert_not_in(e[7], "allow_ip4");
	assert_counter_drop(&e[8]);
	nftnl_rule_free(r);

	/* 4: anything but ip, arp, ip6 (802.1Q included) */
	r = parse_bridge_rule(p.msg[BR + 9], e, 16, &n);
	assert_int_equal(n, 8);
	assert_cmp(e[1], NFT_CMP_EQ, shv, 3);
	assert_load(e[2], NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	assert_ethertype(e[3], NFT_CMP_NEQ, 0x0800);
	assert_ethertype(e[4], NFT_CMP_NEQ, 0x0806);
	assert_ethertype(e[5], NFT_CMP_NEQ, 0x86dd);
	assert_counter_drop(&e[6]);
	nftnl_rule_free(r);
}

/* No workloads: the sets and rules exist, with no element message. */
static void test_antispoof_no_workloads(void **state)
{
	struct fw_config c = config_antispoof(NULL, 0);
	struct parsed p;

	build(&c, &p);
	assert_int_equal(p.n, BR + 1 + 2 + 1 + 4 + 1);
	assert_set(p.msg[BR + 2], "allow_ip4", 41 << 12 | 9 << 6 | 7, 28);
	assert_int_equal(p.msg[BR + 3]->nlmsg_type, nft_type(NFT_MSG_NEWCHAIN));
}

/* Many workloads: the elements are split over messages that each fit, none lost. */
static void test_antispoof_many_workloads(void **state)
{
	enum { N = 200, PER_MSG = 64 };
	struct fw_workload *w = calloc(N, sizeof(*w));
	struct fw_config c;
	struct parsed *p = malloc(sizeof(*p));
	size_t msgs = (N + PER_MSG - 1) / PER_MSG;

	assert_non_null(w);
	assert_non_null(p);
	for (unsigned i = 0; i < N; i++) {
		snprintf(w[i].ifname, sizeof(w[i].ifname), "shv%012x", i);
		w[i].mac[0] = 0x02;
		w[i].mac[5] = (uint8_t)i;
		w[i].addr = 0x0af40000u | i;
	}
	c = config_antispoof(w, N);
	build(&c, p);
	assert_int_equal(p->n, BR + 1 + 2 + 2 * msgs + 1 + 4 + 1);
	for (size_t m = 0; m < msgs; m++) {
		size_t first = m * PER_MSG, n = N - first < PER_MSG ? N - first : PER_MSG;

		assert_elems(p->msg[BR + 3 + m], NFT_MSG_NEWSETELEM, "allow_mac", w + first, n);
		assert_elems(p->msg[BR + 3 + msgs + m], NFT_MSG_NEWSETELEM, "allow_ip4", w + first, n);
	}
	free(p);
	free(w);
}

static void test_antispoof_off_ignores_workloads(void **state)
{
	struct fw_config c = config_antispoof(&wl_a, 1);
	struct parsed p;

	c.antispoof = false;
	build(&c, &p);
	assert_int_equal(p.n, 9);   /* the layout of test_batch_layout: no set, no element */
}

static void test_workload_batches(void **state)
{
	char buf[4096];
	const struct nlmsghdr *m[8];
	size_t len = 0, n = 0;
	int rest;

	assert_int_equal(fw_batch_build_workload_add(&wl_a, buf, sizeof(buf), SEQ, &len), 0);
	rest = (int)len;
	for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, rest); h = mnl_nlmsg_next(h, &rest))
		m[n++] = h;
	assert_int_equal(rest, 0);
	assert_int_equal(n, 4);
	assert_batch_marker(m[0], NFNL_MSG_BATCH_BEGIN, SEQ);
	assert_elems(m[1], NFT_MSG_NEWSETELEM, "allow_mac", &wl_a, 1);
	assert_elems(m[2], NFT_MSG_NEWSETELEM, "allow_ip4", &wl_a, 1);
	assert_batch_marker(m[3], NFNL_MSG_BATCH_END, SEQ + 3);

	/* DEL: add first, so that the deletes never fail on an absent element. */
	assert_int_equal(fw_batch_build_workload_del(&wl_b, buf, sizeof(buf), SEQ, &len), 0);
	rest = (int)len;
	n = 0;
	for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, rest); h = mnl_nlmsg_next(h, &rest))
		m[n++] = h;
	assert_int_equal(rest, 0);
	assert_int_equal(n, 6);
	assert_batch_marker(m[0], NFNL_MSG_BATCH_BEGIN, SEQ);
	assert_elems(m[1], NFT_MSG_NEWSETELEM, "allow_mac", &wl_b, 1);
	assert_elems(m[2], NFT_MSG_NEWSETELEM, "allow_ip4", &wl_b, 1);
	assert_elems(m[3], NFT_MSG_DELSETELEM, "allow_mac", &wl_b, 1);
	assert_elems(m[4], NFT_MSG_DELSETELEM, "allow_ip4", &wl_b, 1);
	assert_batch_marker(m[5], NFNL_MSG_BATCH_END, SEQ + 5);
}

static void test_workload_validate(void **state)
{
	struct fw_workload w = wl_a;
	struct fw_config c = config_antispoof(&w, 1);
	char buf[4096], err[128] = "";
	size_t len = 99;

	assert_int_equal(fw_workload_validate(&w), 0);
	w.ifname[0] = '\0';
	assert_int_equal(fw_workload_validate(&w), -EINVAL);
	assert_int_equal(fw_config_validate(&c), -EINVAL);
	assert_int_equal(fw_batch_build_workload_add(&w, buf, sizeof(buf), SEQ, &len), -EINVAL);
	assert_int_equal(fw_batch_build_workload_del(&w, buf, sizeof(buf), SEQ, &len), -EINVAL);
	assert_int_equal(len, 99);
	assert_int_equal(fw_workload_add(&w, err, sizeof(err)), -EINVAL);   /* fails before any socket */
	assert_non_null(strstr(err, "(invalid)"));
	memset(w.ifname, 'x', sizeof(w.ifname));                           /* no NUL */
	assert_int_equal(fw_workload_validate(&w), -EINVAL);
	assert_int_equal(fw_workload_validate(NULL), -EINVAL);
	c.antispoof = false;
	assert_int_equal(fw_config_validate(&c), 0);                      /* not used without antispoof */
	c = config_antispoof(NULL, 3);
	assert_int_equal(fw_config_validate(&c), -EINVAL);
}

static void test_antispoof_describe(void **state)
{
	const struct fw_workload w[2] = { wl_a, wl_b };
	struct fw_config c = config_antispoof(w, 2);
	struct parsed p;
	char buf[4096], d[256];
	size_t len;

	build(&c, &p);
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 6, d, sizeof(d)), 0);
	assert_string_equal(d, "add table bridge shoal");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + 7, d, sizeof(d)), 0);
	assert_string_equal(d, "delete table bridge shoal");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + BR + 1, d, sizeof(d)), 0);
	assert_string_equal(d, "add set allow_mac");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + BR + 4, d, sizeof(d)), 0);
	assert_string_equal(d, "add 2 elements to allow_ip4");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + BR + 5, d, sizeof(d)), 0);
	assert_string_equal(d, "add chain prerouting");
	assert_int_equal(fw_batch_describe(p.buf, p.len, SEQ + BR + 7, d, sizeof(d)), 0);
	assert_string_equal(d, "add rule prerouting \"shoal: antispoof: IPv4 source is not the workload's\"");

	assert_int_equal(fw_batch_build_workload_del(&wl_a, buf, sizeof(buf), SEQ, &len), 0);
	assert_int_equal(fw_batch_describe(buf, len, SEQ + 1, d, sizeof(d)), 0);
	assert_string_equal(d, "add element allow_mac shv0123456789ab . 02:00:00:00:0a:01");
	assert_int_equal(fw_batch_describe(buf, len, SEQ + 4, d, sizeof(d)), 0);
	assert_string_equal(d, "delete element allow_ip4 shv0123456789ab . 02:00:00:00:0a:01 . 10.244.3.2");
	assert_int_equal(fw_batch_describe(buf, len, SEQ + 5, d, sizeof(d)), 0);
	assert_string_equal(d, "commit");
}

/* Every short buffer fails with -ENOBUFS, writes nothing past it and leaves *ret_len alone. */
typedef int (*builder_fn)(const void *arg, void *buf, size_t buflen, size_t *ret_len);

static int build_apply(const void *arg, void *buf, size_t buflen, size_t *ret_len)
{
	return fw_batch_build(arg, buf, buflen, SEQ, ret_len);
}

static int build_wl_add(const void *arg, void *buf, size_t buflen, size_t *ret_len)
{
	return fw_batch_build_workload_add(arg, buf, buflen, SEQ, ret_len);
}

static int build_wl_del(const void *arg, void *buf, size_t buflen, size_t *ret_len)
{
	return fw_batch_build_workload_del(arg, buf, buflen, SEQ, ret_len);
}

static void assert_enobufs_every_size(builder_fn build_fn, const void *arg)
{
	enum { GUARD = 64, CAP = 65536 };
	char *buf = malloc(CAP + GUARD);
	size_t full = 0, len;

	assert_non_null(buf);
	assert_int_equal(build_fn(arg, buf, CAP, &full), 0);
	for (size_t cap = 0; cap < full; cap++) {
		memset(buf, 0xa5, cap + GUARD);
		len = 12345;
		assert_int_equal(build_fn(arg, buf, cap, &len), -ENOBUFS);
		assert_int_equal(len, 12345);
		for (size_t i = cap; i < cap + GUARD; i++)
			assert_int_equal((unsigned char)buf[i], 0xa5);
	}
	assert_int_equal(build_fn(arg, buf, full, &len), 0);
	assert_int_equal(len, full);
	free(buf);
}

static void test_antispoof_enobufs(void **state)
{
	struct fw_workload w[70];
	struct fw_config c;

	for (unsigned i = 0; i < 70; i++) {   /* more than one element message per set */
		w[i] = wl_a;
		w[i].addr += i;
		w[i].ifname[14] = (char)('a' + i % 26);
	}
	c = config_antispoof(w, 70);
	assert_enobufs_every_size(build_apply, &c);
	assert_enobufs_every_size(build_wl_add, &wl_a);
	assert_enobufs_every_size(build_wl_del, &wl_b);
}

/* ---- acknowledgements ---- */

/* Append one NLMSG_ERROR answer to buf at *off; extack text optional. */
static void put_ack(char *buf, size_t *off, uint32_t seq, int error, const char *extack)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 20;   /* capped: the request is not echoed */
	e->msg.nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	if (extack) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, extack);
	}
	*off += nlh->nlmsg_len;
}

static void test_acks_all_ok(void **state)
{
	struct fw_config c = config(NULL);
	struct fw_acks a;
	struct parsed p;
	char ans[1024];
	size_t off = 0;

	build(&c, &p);
	fw_acks_init(&a, p.buf, p.len);
	assert_int_equal(a.expected, 7);   /* every message but BEGIN/END */
	assert_int_equal(a.seq_first, SEQ);
	assert_int_equal(a.seq_last, SEQ + 8);
	for (uint32_t s = SEQ + 1; s <= SEQ + 3; s++)
		put_ack(ans, &off, s, 0, NULL);
	put_ack(ans, &off, 4242, -EPERM, NULL);   /* not ours: ignored */
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_false(fw_acks_done(&a));
	off = 0;
	put_ack(ans, &off, SEQ + 4, 0, NULL);
	put_ack(ans, &off, SEQ + 5, 0, NULL);
	put_ack(ans, &off, SEQ + 6, 0, NULL);
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_false(fw_acks_done(&a));   /* the bridge table's delete is still unanswered */
	off = 0;
	put_ack(ans, &off, SEQ + 7, 0, NULL);
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_true(fw_acks_done(&a));
	assert_int_equal(a.error, 0);
}

static void test_acks_error_mapped(void **state)
{
	struct fw_config c = config(NULL);
	struct fw_acks a;
	struct parsed p;
	char ans[1024], d[256];
	size_t off = 0;

	build(&c, &p);
	fw_acks_init(&a, p.buf, p.len);
	put_ack(ans, &off, SEQ + 1, 0, NULL);
	put_ack(ans, &off, SEQ + 5, -EOPNOTSUPP, "no masq here");
	put_ack(ans, &off, SEQ + 4, -ENOENT, NULL);   /* only the first error counts */
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_true(fw_acks_done(&a));
	assert_int_equal(a.error, -EOPNOTSUPP);
	assert_int_equal(a.error_seq, SEQ + 5);
	assert_string_equal(a.extack, "no masq here");
	assert_int_equal(fw_batch_describe(p.buf, p.len, a.error_seq, d, sizeof(d)), 0);
	assert_true(strncmp(d, "add rule postrouting", 20) == 0);
}

static void test_acks_malformed(void **state)
{
	struct fw_config c = config(NULL);
	struct fw_acks a;
	struct parsed p;
	char ans[1024];
	size_t off = 0;
	struct nlmsghdr *nlh;

	build(&c, &p);
	fw_acks_init(&a, p.buf, p.len);
	put_ack(ans, &off, SEQ + 1, 0, NULL);
	assert_int_equal(fw_acks_feed(&a, ans, off - 4), -EPROTO);   /* cut short */
	/* An error message too short for struct nlmsgerr. */
	nlh = mnl_nlmsg_put_header(ans);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = SEQ + 1;
	assert_int_equal(fw_acks_feed(&a, ans, nlh->nlmsg_len), -EPROTO);
	/* TLV flag set, but the attribute area is garbage: no extack, still the error. */
	fw_acks_init(&a, p.buf, p.len);
	off = 0;
	put_ack(ans, &off, SEQ + 2, -EINVAL, NULL);
	((struct nlmsghdr *)ans)->nlmsg_flags |= NLM_F_ACK_TLVS;
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_int_equal(a.error, -EINVAL);
	assert_string_equal(a.extack, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_layout),
		cmocka_unit_test(test_rule_masquerade),
		cmocka_unit_test(test_rule_bridge_exemption),
		cmocka_unit_test(test_rule_host_prefix_and_host_bits),
		cmocka_unit_test(test_no_masquerade_empty_table),
		cmocka_unit_test(test_remove_batch),
		cmocka_unit_test(test_enobufs_no_overflow),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_antispoof_layout),
		cmocka_unit_test(test_antispoof_rules),
		cmocka_unit_test(test_antispoof_no_workloads),
		cmocka_unit_test(test_antispoof_many_workloads),
		cmocka_unit_test(test_antispoof_off_ignores_workloads),
		cmocka_unit_test(test_workload_batches),
		cmocka_unit_test(test_workload_validate),
		cmocka_unit_test(test_antispoof_describe),
		cmocka_unit_test(test_antispoof_enobufs),
		cmocka_unit_test(test_acks_all_ok),
		cmocka_unit_test(test_acks_error_mapped),
		cmocka_unit_test(test_acks_malformed),
	};
	return cmocka_run_group_tests_name("fw", tests, NULL, NULL);
}
