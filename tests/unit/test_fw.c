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
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "fw/fw.h"

#define SEQ 1000u
#define MAXMSG 16

struct parsed {
	char buf[16384];
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

static void assert_table(const struct nlmsghdr *nlh, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();

	assert_int_equal(nlh->nlmsg_type, nft_type(type));
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "shoal");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
	nftnl_table_free(t);
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
	assert_int_equal(p.n, 7);
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
	assert_batch_marker(p.msg[6], NFNL_MSG_BATCH_END, SEQ + 6);

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
	assert_int_equal(p.n, 5);
	assert_batch_marker(p.msg[0], NFNL_MSG_BATCH_BEGIN, SEQ);
	assert_table(p.msg[1], NFT_MSG_NEWTABLE);
	assert_table(p.msg[2], NFT_MSG_DELTABLE);
	assert_table(p.msg[3], NFT_MSG_NEWTABLE);
	assert_batch_marker(p.msg[4], NFNL_MSG_BATCH_END, SEQ + 4);
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
	assert_batch_marker(nlh, NFNL_MSG_BATCH_END, 10);
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
	assert_int_equal(a.expected, 5);   /* every message but BEGIN/END */
	assert_int_equal(a.seq_first, SEQ);
	assert_int_equal(a.seq_last, SEQ + 6);
	for (uint32_t s = SEQ + 1; s <= SEQ + 3; s++)
		put_ack(ans, &off, s, 0, NULL);
	put_ack(ans, &off, 4242, -EPERM, NULL);   /* not ours: ignored */
	assert_int_equal(fw_acks_feed(&a, ans, off), 0);
	assert_false(fw_acks_done(&a));
	off = 0;
	put_ack(ans, &off, SEQ + 4, 0, NULL);
	put_ack(ans, &off, SEQ + 5, 0, NULL);
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
		cmocka_unit_test(test_acks_all_ok),
		cmocka_unit_test(test_acks_error_mapped),
		cmocka_unit_test(test_acks_malformed),
	};
	return cmocka_run_group_tests_name("fw", tests, NULL, NULL);
}
