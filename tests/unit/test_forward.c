/* fw/forward: the accept rules for ip filter FORWARD by round trip (build -> libnftnl parse ->
 * our parser), the encoding iptables-nft uses, which rules count as ours, the plan, and the chain
 * classifier fed with hand-built dump answers.  No root, no kernel. */
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

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter_bridge.h>
#include <linux/netlink.h>

#include "fw/forward.h"

#define SEQ 500u
#define GENID 0x01020304u
#define MAXMSG 48

static const struct cidr4 NET16 = { 0x0af40000, 16 };   /* 10.244.0.0/16 */
static const struct cidr4 NET12 = { 0x0af00000, 12 };   /* 10.240.0.0/12 */

struct parsed {
	char buf[16384];
	size_t len;
	const struct nlmsghdr *msg[MAXMSG];
	size_t n;
};

static uint16_t nft_type(uint16_t t)
{
	return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | t);
}

static void build(const struct fw_forward_plan *p, uint32_t genid, struct parsed *out)
{
	const struct nlmsghdr *nlh;
	int rest;

	memset(out, 0, sizeof(*out));
	assert_int_equal(fw_forward_batch_build(p, genid, out->buf, sizeof(out->buf), SEQ, &out->len), 0);
	rest = (int)out->len;
	for (nlh = (const struct nlmsghdr *)out->buf; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		assert_true(out->n < MAXMSG);
		assert_int_equal(nlh->nlmsg_seq, SEQ + out->n);
		out->msg[out->n++] = nlh;
	}
	assert_int_equal(rest, 0);
}

static struct fw_forward_plan plan_allow(const struct cidr4 *net)
{
	struct fw_forward_plan p;

	assert_int_equal(fw_forward_plan_make(true, net, NULL, 0, &p), 0);
	return p;
}

/* The expressions of a NEWRULE message; the caller frees the rule. */
static struct nftnl_rule *exprs(const struct nlmsghdr *nlh, struct nftnl_expr **e, size_t *ret_n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *x;
	size_t n = 0;

	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	it = nftnl_expr_iter_create(r);
	while ((x = nftnl_expr_iter_next(it))) {
		assert_true(n < 8);
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

static void assert_data(const struct nftnl_expr *e, uint16_t attr, const void *want, uint32_t len)
{
	uint32_t got_len = 0;
	const void *got = nftnl_expr_get(e, attr, &got_len);

	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
}

/* ---- the builder writes what iptables-nft writes ---- */

/* `iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT` is, per `nft --debug=netlink` with
 * iptables-nft 1.8.9:  payload load 2b @ network header + 12; cmp eq 0x0000f40a; counter; accept. */
static void test_build_allow_byte_aligned(void **state)
{
	struct fw_forward_plan p = plan_allow(&NET16);
	struct nftnl_expr *e[8];
	struct nftnl_rule *r;
	struct parsed b;
	size_t n;
	const uint8_t want[2] = { 10, 244 };

	build(&p, GENID, &b);
	assert_int_equal(b.n, 4);   /* BEGIN, -s, -d, END */
	assert_int_equal(b.msg[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(b.msg[3]->nlmsg_type, NFNL_MSG_BATCH_END);
	for (size_t i = 1; i <= 2; i++) {
		assert_int_equal(b.msg[i]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
		assert_int_equal(b.msg[i]->nlmsg_flags & (NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND),
				 NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND);
		r = exprs(b.msg[i], e, &n);
		assert_int_equal(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NFPROTO_IPV4);
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "filter");
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "FORWARD");
		assert_int_equal(n, 4);
		assert_name(e[0], "payload");
		assert_int_equal(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_NETWORK_HEADER);
		assert_int_equal(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_OFFSET), i == 1 ? 12 : 16);
		assert_int_equal(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_LEN), 2);
		assert_int_equal(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_DREG), NFT_REG_1);
		assert_name(e[1], "cmp");
		assert_int_equal(nftnl_expr_get_u32(e[1], NFTNL_EXPR_CMP_OP), NFT_CMP_EQ);
		assert_data(e[1], NFTNL_EXPR_CMP_DATA, want, 2);
		assert_name(e[2], "counter");
		assert_name(e[3], "immediate");
		assert_int_equal(nftnl_expr_get_u32(e[3], NFTNL_EXPR_IMM_DREG), NFT_REG_VERDICT);
		assert_int_equal((int)nftnl_expr_get_u32(e[3], NFTNL_EXPR_IMM_VERDICT), NF_ACCEPT);
		nftnl_rule_free(r);
	}
}

/* `-s 10.240.0.0/12`: payload load 4b; bitwise & 0x0000f0ff ^ 0; cmp eq 0x0000f00a. */
static void test_build_allow_masked(void **state)
{
	struct fw_forward_plan p = plan_allow(&NET12);
	const uint8_t mask[4] = { 0xff, 0xf0, 0, 0 }, addr[4] = { 10, 240, 0, 0 }, zero[4] = { 0 };
	struct nftnl_expr *e[8];
	struct nftnl_rule *r;
	struct parsed b;
	size_t n;

	build(&p, GENID, &b);
	r = exprs(b.msg[1], e, &n);
	assert_int_equal(n, 5);
	assert_int_equal(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_LEN), 4);
	assert_name(e[1], "bitwise");
	assert_int_equal(nftnl_expr_get_u32(e[1], NFTNL_EXPR_BITWISE_LEN), 4);
	assert_data(e[1], NFTNL_EXPR_BITWISE_MASK, mask, 4);
	assert_data(e[1], NFTNL_EXPR_BITWISE_XOR, zero, 4);
	assert_name(e[2], "cmp");
	assert_data(e[2], NFTNL_EXPR_CMP_DATA, addr, 4);
	assert_name(e[3], "counter");
	assert_name(e[4], "immediate");
	nftnl_rule_free(r);
}

/* The comment is nft's udata comment (what iptables-nft lists as -m comment --comment). */
static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

static void test_build_comment(void **state)
{
	struct fw_forward_plan p = plan_allow(&NET16);
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;
	struct parsed b;

	build(&p, 0, &b);
	assert_int_equal(nftnl_rule_nlmsg_parse(b.msg[1], r), 0);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	assert_non_null(ud);
	assert_int_equal(nftnl_udata_parse(ud, len, comment_cb, &comment), 0);
	assert_non_null(comment);
	assert_string_equal(comment, FW_FORWARD_COMMENT);
	nftnl_rule_free(r);
}

/* BEGIN carries NFNL_BATCH_GENID (big endian) so the kernel refuses a plan made from an old
 * reading; genid 0 leaves it out. */
static void test_build_genid(void **state)
{
	struct fw_forward_plan p = plan_allow(&NET16);
	const struct nlattr *a;
	struct parsed b;
	bool found = false;

	build(&p, GENID, &b);
	mnl_attr_for_each(a, b.msg[0], sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFNL_BATCH_GENID) {
			assert_int_equal(ntohl(mnl_attr_get_u32(a)), GENID);
			found = true;
		}
	}
	assert_true(found);
	build(&p, 0, &b);
	assert_int_equal(mnl_nlmsg_get_payload_len(b.msg[0]), sizeof(struct nfgenmsg));
}

/* ---- round trip: what we build, we recognise ---- */

static void test_roundtrip_every_length(void **state)
{
	for (uint8_t len = 1; len <= 32; len++) {
		struct cidr4 net = { 0xc0a8ff7f & (len == 32 ? 0xffffffffu : ~(0xffffffffu >> len)), len };
		struct fw_forward_plan p = plan_allow(&net);
		struct fw_forward_rule fr;
		struct parsed b;

		build(&p, 0, &b);
		assert_int_equal(b.n, 4);
		for (size_t i = 1; i <= 2; i++) {
			assert_int_equal(fw_forward_rule_parse(b.msg[i], &fr), 1);
			assert_int_equal(fr.dir, i == 1 ? FW_FORWARD_SADDR : FW_FORWARD_DADDR);
			assert_int_equal(fr.network.addr, net.addr);
			assert_int_equal(fr.network.len, len);
		}
	}
}

/* Host bits in the network are cleared, as iptables does with -s 10.244.3.7/16. */
static void test_build_clears_host_bits(void **state)
{
	struct cidr4 net = { 0x0af40307, 16 };
	struct fw_forward_plan p = plan_allow(&net);
	struct fw_forward_rule fr;
	struct parsed b;

	build(&p, 0, &b);
	assert_int_equal(fw_forward_rule_parse(b.msg[1], &fr), 1);
	assert_int_equal(fr.network.addr, 0x0af40000);
}

/* ---- which rules are ours: hand-built rules, as iptables or an operator would have them ---- */

struct spec {
	uint32_t family;
	const char *table, *chain, *comment;
	bool meta_first;          /* an extra expression before the match (e.g. -i eth0) */
	uint32_t off, len;        /* payload; len 0: no match at all */
	bool masked;
	uint32_t mask;            /* host order */
	uint32_t addr;            /* host order */
	int verdict;
	uint64_t handle;
	const char *xt_comment;   /* an xt comment match after the compare, as iptables-restore writes */
	const char *xt_name;      /* its match name, "comment" when NULL */
};

static struct spec spec_ours(void)
{
	return (struct spec){ .family = NFPROTO_IPV4, .table = "filter", .chain = "FORWARD",
			      .comment = FW_FORWARD_COMMENT, .off = 12, .len = 2, .addr = 0x0af40000,
			      .verdict = NF_ACCEPT, .handle = 42 };
}

static size_t put_rule(char *buf, const struct spec *s)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	struct nlmsghdr *nlh;
	uint32_t addr_be = htonl(s->addr), mask_be = htonl(s->mask), zero = 0;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, s->family);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, s->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, s->chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, s->handle);
	if (s->meta_first) {
		e = nftnl_expr_alloc("meta");
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_IIFNAME);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
		nftnl_rule_add_expr(r, e);
	}
	if (s->len) {
		e = nftnl_expr_alloc("payload");
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, s->off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, s->len);
		nftnl_rule_add_expr(r, e);
		if (s->masked) {
			e = nftnl_expr_alloc("bitwise");
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask_be, 4);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
			nftnl_rule_add_expr(r, e);
		}
		e = nftnl_expr_alloc("cmp");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &addr_be, s->len);
		nftnl_rule_add_expr(r, e);
	}
	if (s->xt_comment) {
		/* libnftnl takes the match info's pointer as it is (no copy): heap, owned by e. */
		struct xt_comment_info *info = calloc(1, sizeof(*info));

		snprintf(info->comment, sizeof(info->comment), "%s", s->xt_comment);
		e = nftnl_expr_alloc("match");
		nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, s->xt_name ? s->xt_name : "comment");
		nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 0);
		nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, info, sizeof(*info));
		nftnl_rule_add_expr(r, e);
	}
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)s->verdict);
	if (s->verdict == NFT_JUMP)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "KUBE-FORWARD");
	nftnl_rule_add_expr(r, e);
	if (s->comment) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(256);

		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, s->comment);
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, (uint16_t)s->family, NLM_F_MULTI, 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nlh->nlmsg_len;
}

static int parse_spec(const struct spec *s, struct fw_forward_rule *fr)
{
	union { struct nlmsghdr align; char buf[2048]; } m;

	put_rule(m.buf, s);
	return fw_forward_rule_parse((const struct nlmsghdr *)m.buf, fr);
}

static void test_ours_from_kernel_dump(void **state)
{
	struct spec s = spec_ours();
	struct fw_forward_rule fr;

	assert_int_equal(parse_spec(&s, &fr), 1);
	assert_int_equal(fr.dir, FW_FORWARD_SADDR);
	assert_int_equal(fr.network.addr, NET16.addr);
	assert_int_equal(fr.network.len, 16);
	assert_int_equal(fr.handle, 42);
	s.off = 16;
	assert_int_equal(parse_spec(&s, &fr), 1);
	assert_int_equal(fr.dir, FW_FORWARD_DADDR);
}

/* Older iptables-nft (before the byte-aligned shortcut) loads 4 bytes and masks /16 too: still
 * ours, so an upgrade of iptables between allow and remove changes nothing. */
static void test_ours_old_encoding(void **state)
{
	struct spec s = spec_ours();
	struct fw_forward_rule fr;

	s.len = 4;
	s.masked = true;
	s.mask = 0xffff0000;
	assert_int_equal(parse_spec(&s, &fr), 1);
	assert_int_equal(fr.network.addr, NET16.addr);
	assert_int_equal(fr.network.len, 16);
}

/* After iptables-save | iptables-restore our comment is an xt comment match: still ours. */
static void test_ours_after_iptables_restore(void **state)
{
	struct spec s = spec_ours();
	struct fw_forward_rule fr;

	s.comment = NULL;
	s.xt_comment = FW_FORWARD_COMMENT;
	assert_int_equal(parse_spec(&s, &fr), 1);
	assert_int_equal(fr.network.len, 16);
	s.xt_comment = "flanneld forward";
	assert_int_equal(parse_spec(&s, &fr), 0);
	s.xt_comment = FW_FORWARD_COMMENT;
	s.xt_name = "conntrack";   /* another match with the same bytes is not a comment */
	assert_int_equal(parse_spec(&s, &fr), 0);
}

static void test_not_ours(void **state)
{
	struct fw_forward_rule fr = { .handle = 7 };
	struct spec s;

	s = spec_ours(); s.comment = NULL;               /* the operator's own `-s NET -j ACCEPT` */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.comment = "flanneld forward";
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.comment = FW_FORWARD_COMMENT " ";
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.verdict = NF_DROP;            /* our comment on a drop */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.verdict = NFT_JUMP;
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.meta_first = true;            /* -i eth0 -s NET */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.len = 0;                      /* -j ACCEPT, everything */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.off = 9;                      /* another header field */
	s.len = 1;
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.len = 4; s.masked = true; s.mask = 0xff00ff00;   /* mask with holes */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.len = 4; s.masked = true; s.mask = 0xffff0000; s.addr = 0x0af40001;  /* host bits */
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.chain = "INPUT";
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.table = "mangle";
	assert_int_equal(parse_spec(&s, &fr), 0);
	s = spec_ours(); s.family = NFPROTO_INET;
	assert_int_equal(parse_spec(&s, &fr), 0);
	assert_int_equal(fr.handle, 7);   /* untouched when not ours */
}

/* ---- the plan ---- */

static struct fw_forward_rule have_rule(enum fw_forward_dir d, const struct cidr4 *net, uint64_t handle)
{
	return (struct fw_forward_rule){ d, *net, handle };
}

static void test_plan_allow(void **state)
{
	struct fw_forward_rule h[4];
	struct fw_forward_plan p;

	/* nothing there: add both */
	assert_int_equal(fw_forward_plan_make(true, &NET16, NULL, 0, &p), 0);
	assert_true(p.add[FW_FORWARD_SADDR] && p.add[FW_FORWARD_DADDR]);
	assert_int_equal(p.n_del, 0);
	/* both there: nothing to do (idempotent) */
	h[0] = have_rule(FW_FORWARD_DADDR, &NET16, 3);
	h[1] = have_rule(FW_FORWARD_SADDR, &NET16, 2);
	assert_int_equal(fw_forward_plan_make(true, &NET16, h, 2, &p), 0);
	assert_true(fw_forward_plan_empty(&p));
	/* one missing: add only it */
	assert_int_equal(fw_forward_plan_make(true, &NET16, h, 1, &p), 0);
	assert_true(p.add[FW_FORWARD_SADDR] && !p.add[FW_FORWARD_DADDR]);
	assert_int_equal(p.n_del, 0);
	/* a duplicate is deleted, the first kept */
	h[2] = have_rule(FW_FORWARD_SADDR, &NET16, 9);
	assert_int_equal(fw_forward_plan_make(true, &NET16, h, 3, &p), 0);
	assert_false(p.add[0] || p.add[1]);
	assert_int_equal(p.n_del, 1);
	assert_int_equal(p.del[0], 9);
	/* the network changed: the old ones go, new ones come, in one plan */
	assert_int_equal(fw_forward_plan_make(true, &NET12, h, 2, &p), 0);
	assert_true(p.add[0] && p.add[1]);
	assert_int_equal(p.network.addr, NET12.addr);
	assert_int_equal(p.n_del, 2);
	/* /0 would accept everything */
	assert_int_equal(fw_forward_plan_make(true, &(struct cidr4){ 0, 0 }, NULL, 0, &p), -EINVAL);
	assert_int_equal(fw_forward_plan_make(true, NULL, NULL, 0, &p), -EINVAL);
	assert_int_equal(fw_forward_plan_make(true, &NET16, h, FW_FORWARD_MAX_OURS + 1, &p), -EINVAL);
}

static void test_plan_remove(void **state)
{
	struct fw_forward_rule h[3] = { have_rule(FW_FORWARD_SADDR, &NET16, 2), have_rule(FW_FORWARD_DADDR, &NET16, 3),
					have_rule(FW_FORWARD_SADDR, &NET12, 5) };
	struct fw_forward_plan p;

	assert_int_equal(fw_forward_plan_make(false, &NET16, h, 3, &p), 0);
	assert_false(p.add[0] || p.add[1]);
	assert_int_equal(p.n_del, 2);
	assert_int_equal(p.del[0], 2);
	assert_int_equal(p.del[1], 3);
	assert_int_equal(fw_forward_plan_make(false, NULL, h, 3, &p), 0);
	assert_int_equal(p.n_del, 3);
	assert_int_equal(fw_forward_plan_make(false, &NET16, NULL, 0, &p), 0);
	assert_true(fw_forward_plan_empty(&p));
}

/* Deletes come first, by handle, in ip filter FORWARD; then the appends; describe names each. */
static void test_batch_delete_and_describe(void **state)
{
	struct fw_forward_rule h[2] = { have_rule(FW_FORWARD_SADDR, &NET12, 5), have_rule(FW_FORWARD_DADDR, &NET12, 6) };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct fw_forward_plan p;
	struct parsed b;
	char d[160];

	assert_int_equal(fw_forward_plan_make(true, &NET16, h, 2, &p), 0);
	build(&p, GENID, &b);
	assert_int_equal(b.n, 6);
	assert_int_equal(b.msg[1]->nlmsg_type, nft_type(NFT_MSG_DELRULE));
	assert_true(b.msg[1]->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nftnl_rule_nlmsg_parse(b.msg[2], r), 0);
	assert_int_equal(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NFPROTO_IPV4);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "filter");
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "FORWARD");
	assert_int_equal(nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE), 6);
	nftnl_rule_free(r);
	assert_int_equal(b.msg[3]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));
	assert_int_equal(b.msg[4]->nlmsg_type, nft_type(NFT_MSG_NEWRULE));

	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ, d, sizeof(d)), 0);
	assert_string_equal(d, "batch");
	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ + 1, d, sizeof(d)), 0);
	assert_string_equal(d, "delete rule ip filter FORWARD handle 5");
	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ + 3, d, sizeof(d)), 0);
	assert_string_equal(d, "add rule ip filter FORWARD -s 10.244.0.0/16 -j ACCEPT");
	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ + 4, d, sizeof(d)), 0);
	assert_string_equal(d, "add rule ip filter FORWARD -d 10.244.0.0/16 -j ACCEPT");
	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ + 5, d, sizeof(d)), 0);
	assert_string_equal(d, "commit");
	assert_int_equal(fw_forward_batch_describe(b.buf, b.len, SEQ + 6, d, sizeof(d)), -ENOENT);
}

static void test_batch_enobufs(void **state)
{
	struct fw_forward_plan p = plan_allow(&NET16);
	static char buf[4096];
	size_t full = 0, len;

	assert_int_equal(fw_forward_batch_build(&p, GENID, buf, sizeof(buf), SEQ, &full), 0);
	for (size_t cap = 0; cap < full; cap += 7) {
		memset(buf, 0x5a, sizeof(buf));
		len = 12345;
		assert_int_equal(fw_forward_batch_build(&p, GENID, buf, cap, SEQ, &len), -ENOBUFS);
		assert_int_equal(len, 12345);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal((unsigned char)buf[i], 0x5a);
	}
}

/* ---- chains, as a dump answers them ---- */

static size_t put_chain(char *buf, uint32_t family, const char *table, const char *name, int hook, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, (uint16_t)family, NLM_F_MULTI, 1);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return nlh->nlmsg_len;
}

static void add_chain(struct fw_forward_state *st, uint32_t family, const char *table, const char *name, int hook,
                      uint32_t policy)
{
	union { struct nlmsghdr align; char buf[1024]; } m;

	put_chain(m.buf, family, table, name, hook, policy);
	assert_int_equal(fw_forward_state_add_chain(st, (const struct nlmsghdr *)m.buf), 0);
}

static void test_chains_iptables_drop(void **state)
{
	struct fw_forward_state st = { 0 };

	add_chain(&st, NFPROTO_IPV4, "filter", "INPUT", NF_INET_LOCAL_IN, NF_DROP);
	add_chain(&st, NFPROTO_IPV4, "filter", "DOCKER-USER", -1, 0);
	assert_false(st.iptables_forward);
	add_chain(&st, NFPROTO_IPV4, "filter", "FORWARD", NF_INET_FORWARD, NF_DROP);
	assert_true(st.iptables_forward);
	assert_true(st.iptables_forward_drop);
	assert_string_equal(st.other, "");   /* INPUT drops, but not forwarded traffic */
}

static void test_chains_iptables_accept(void **state)
{
	struct fw_forward_state st = { 0 };

	add_chain(&st, NFPROTO_IPV4, "filter", "FORWARD", NF_INET_FORWARD, NF_ACCEPT);
	assert_true(st.iptables_forward);
	assert_false(st.iptables_forward_drop);
	/* ip6tables' FORWARD is not the one that drops our IPv4 pods */
	st = (struct fw_forward_state){ 0 };
	add_chain(&st, NFPROTO_IPV6, "filter", "FORWARD", NF_INET_FORWARD, NF_DROP);
	assert_false(st.iptables_forward);
	assert_string_equal(st.other, "");
}

static void test_chains_other(void **state)
{
	struct fw_forward_state st = { 0 };
	char name[64];

	add_chain(&st, NFPROTO_INET, "mine", "forward", NF_INET_FORWARD, NF_DROP);
	add_chain(&st, NFPROTO_INET, "mine", "open", NF_INET_FORWARD, NF_ACCEPT);
	add_chain(&st, NFPROTO_IPV4, "fw", "fwd", NF_INET_FORWARD, NF_DROP);
	add_chain(&st, NFPROTO_BRIDGE, "br", "forward", NF_BR_FORWARD, NF_DROP);
	assert_false(st.iptables_forward);
	assert_string_equal(st.other, "inet mine forward, ip fw fwd");
	/* many: the list is cut and says so, never overflows */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "table-with-a-long-name-%02d", i);
		add_chain(&st, NFPROTO_INET, name, "forward", NF_INET_FORWARD, NF_DROP);
	}
	assert_true(strlen(st.other) < sizeof(st.other));
	assert_string_equal(st.other + strlen(st.other) - 3, "...");
}

static void test_chains_malformed(void **state)
{
	struct fw_forward_state st = { 0 };
	union { struct nlmsghdr align; char buf[64]; } m;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(m.buf, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, NLM_F_MULTI, 1);

	/* no table or name attribute */
	assert_int_equal(fw_forward_state_add_chain(&st, nlh), -EPROTO);
	assert_false(st.iptables_forward);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_allow_byte_aligned),
		cmocka_unit_test(test_build_allow_masked),
		cmocka_unit_test(test_build_comment),
		cmocka_unit_test(test_build_genid),
		cmocka_unit_test(test_roundtrip_every_length),
		cmocka_unit_test(test_build_clears_host_bits),
		cmocka_unit_test(test_ours_from_kernel_dump),
		cmocka_unit_test(test_ours_old_encoding),
		cmocka_unit_test(test_ours_after_iptables_restore),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_plan_allow),
		cmocka_unit_test(test_plan_remove),
		cmocka_unit_test(test_batch_delete_and_describe),
		cmocka_unit_test(test_batch_enobufs),
		cmocka_unit_test(test_chains_iptables_drop),
		cmocka_unit_test(test_chains_iptables_accept),
		cmocka_unit_test(test_chains_other),
		cmocka_unit_test(test_chains_malformed),
	};
	return cmocka_run_group_tests_name("forward", tests, NULL, NULL);
}
