/* fw batch writer: appends nftables messages (tables, base chains, sets, set elements, rules) to a
 * bounded batch buffer, and the expressions our rules are made of.  Knows no policy: fw.c decides
 * what goes into the tables.  See internal.h. */
#include "fw/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

/* Elements per NEWSETELEM message: about 40 bytes each, so 64 stay well below FW_MSG_MAX. */
#define FW_ELEMS_PER_MSG  64

/* ---- batch writer ---------------------------------------------------------------------------- */

static int batch_put(struct fw_batch *b, const struct nlmsghdr *nlh)
{
	size_t n = MNL_ALIGN(nlh->nlmsg_len);

	if (n > sizeof(union fw_scratch))
		return -EMSGSIZE;   /* a builder outgrew FW_MSG_MAX: a bug, see internal.h */
	if (n > b->cap - b->len)
		return -ENOBUFS;
	memcpy(b->buf + b->len, nlh, n);
	b->len += n;
	b->seq++;
	return 0;
}

int fw_batch_begin(struct fw_batch *b)
{
	return fw_batch_begin_genid(b, 0);
}

int fw_batch_begin_genid(struct fw_batch *b, uint32_t genid)
{
	union fw_scratch s = { .buf = { 0 } };   /* no stale bytes in padding: batches are deterministic */
	struct nlmsghdr *nlh = nftnl_batch_begin(s.buf, b->seq);

	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	return batch_put(b, nlh);
}

int fw_batch_end(struct fw_batch *b)
{
	union fw_scratch s = { .buf = { 0 } };

	return batch_put(b, nftnl_batch_end(s.buf, b->seq));
}

int fw_batch_table(struct fw_batch *b, uint16_t family, uint16_t type, uint16_t flags)
{
	union fw_scratch s = { .buf = { 0 } };
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int r;

	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	r = nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	if (r < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nlh = nftnl_nlmsg_build_hdr(s.buf, type, family, flags | NLM_F_ACK, b->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return batch_put(b, nlh);
}

/* add + delete: valid whether or not the table exists; drops every chain, rule and set in it. */
int fw_batch_table_delete(struct fw_batch *b, uint16_t family)
{
	int err = fw_batch_table(b, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	if (err >= 0)
		err = fw_batch_table(b, family, NFT_MSG_DELTABLE, 0);
	return err;
}

int fw_batch_base_chain(struct fw_batch *b, uint16_t family, const char *name, const char *type, uint32_t hook,
                            int32_t prio)
{
	union fw_scratch s = { .buf = { 0 } };
	struct nftnl_chain *ch;
	struct nlmsghdr *nlh;

	ch = nftnl_chain_alloc();
	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, FW_TABLE) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, type) < 0) {
		nftnl_chain_free(ch);
		return -ENOMEM;
	}
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, prio);
	/* Explicit, so the chain never depends on the kernel's default. */
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftnl_nlmsg_build_hdr(s.buf, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE | NLM_F_ACK, b->seq);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	return batch_put(b, nlh);
}

/* A named set of table bridge shoal with a concatenated key.  No flags: a plain hash, O(1) per
 * lookup whatever its size.  The id lets rules of the same batch refer to it. */
int fw_batch_set(struct fw_batch *b, const char *name, uint32_t key_type, uint32_t key_len, uint32_t id)
{
	union fw_scratch s = { .buf = { 0 } };
	struct nftnl_set *set;
	struct nlmsghdr *nlh;

	set = nftnl_set_alloc();
	if (!set)
		return -ENOMEM;
	if (nftnl_set_set_str(set, NFTNL_SET_TABLE, FW_TABLE) < 0 ||
	    nftnl_set_set_str(set, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(set);
		return -ENOMEM;
	}
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_BRIDGE);
	nftnl_set_set_u32(set, NFTNL_SET_FLAGS, 0);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(set, NFTNL_SET_ID, id);
	nlh = nftnl_nlmsg_build_hdr(s.buf, NFT_MSG_NEWSET, NFPROTO_BRIDGE, NLM_F_CREATE | NLM_F_ACK, b->seq);
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	return batch_put(b, nlh);
}

/* ---- set element keys ------------------------------------------------------------------------- */

/* ifname, NUL padded to IFNAMSIZ like `meta iifname` loads it, then the MAC padded to 8. */
static void key_mac(const struct fw_workload *w, uint8_t key[FW_KEY_MAC_LEN])
{
	memset(key, 0, FW_KEY_MAC_LEN);
	memcpy(key, w->ifname, strnlen(w->ifname, sizeof(w->ifname) - 1));
	memcpy(key + FW_KEY_OFF_MAC, w->mac, sizeof(w->mac));
}

static void key_ip4(const struct fw_workload *w, uint8_t key[FW_KEY_IP4_LEN])
{
	uint32_t addr_be = htonl(w->addr);

	key_mac(w, key);
	memcpy(key + FW_KEY_OFF_IP4, &addr_be, sizeof(addr_be));
}

static const char *set_name(enum fw_set_kind k)
{
	return k == FW_SET_KIND_MAC ? FW_SET_ALLOW_MAC : FW_SET_ALLOW_IP4;
}

/* One NEWSETELEM/DELSETELEM message with the elements of workloads w[0..n) for set k.  Built with
 * libmnl rather than nftnl_set_elems_nlmsg_build_payload(): libnftnl numbers the element nests
 * 1, 2, 3... instead of NFTA_LIST_ELEM, which the kernel accepts but libnftnl's own parser (that
 * fw_batch_describe() and fw_check() use, as for the kernel's dumps) rejects beyond one element. */
static int batch_elems_msg(struct fw_batch *b, uint16_t type, enum fw_set_kind k, const struct fw_workload *w, size_t n)
{
	union fw_scratch s = { .buf = { 0 } };
	struct nlmsghdr *nlh;
	struct nlattr *list, *elem, *key;
	uint32_t key_len = k == FW_SET_KIND_MAC ? FW_KEY_MAC_LEN : FW_KEY_IP4_LEN;
	const size_t max = sizeof(s.buf);

	/* NLM_F_CREATE without NLM_F_EXCL: adding an element that exists is not an error. */
	nlh = nftnl_nlmsg_build_hdr(s.buf, type, NFPROTO_BRIDGE,
				    (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | NLM_F_ACK, b->seq);
	if (!mnl_attr_put_strz_check(nlh, max, NFTA_SET_ELEM_LIST_TABLE, FW_TABLE) ||
	    !mnl_attr_put_strz_check(nlh, max, NFTA_SET_ELEM_LIST_SET, set_name(k)))
		return -EMSGSIZE;
	list = mnl_attr_nest_start_check(nlh, max, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (!list)
		return -EMSGSIZE;
	for (size_t i = 0; i < n; i++) {
		uint8_t data[FW_KEY_IP4_LEN];

		if (k == FW_SET_KIND_MAC)
			key_mac(&w[i], data);
		else
			key_ip4(&w[i], data);
		elem = mnl_attr_nest_start_check(nlh, max, NFTA_LIST_ELEM);
		key = elem ? mnl_attr_nest_start_check(nlh, max, NFTA_SET_ELEM_KEY) : NULL;
		if (!key || !mnl_attr_put_check(nlh, max, NFTA_DATA_VALUE, key_len, data))
			return -EMSGSIZE;   /* FW_ELEMS_PER_MSG too large for FW_MSG_MAX: a bug */
		mnl_attr_nest_end(nlh, key);
		mnl_attr_nest_end(nlh, elem);
	}
	mnl_attr_nest_end(nlh, list);
	return batch_put(b, nlh);
}

/* All elements of w[0..n) for set k, FW_ELEMS_PER_MSG per message. */
int fw_batch_elems(struct fw_batch *b, uint16_t type, enum fw_set_kind k, const struct fw_workload *w, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && err >= 0; i += FW_ELEMS_PER_MSG)
		err = batch_elems_msg(b, type, k, w + i, n - i < FW_ELEMS_PER_MSG ? n - i : FW_ELEMS_PER_MSG);
	return err;
}

/* ---- rule expressions (each returns 0 or -ENOMEM) ---------------------------------------------- */

static int expr_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);   /* the rule owns e from here */
	return 0;
}

int fw_expr_meta_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return expr_add(r, e);
}

int fw_expr_cmp(struct nftnl_rule *r, enum nft_cmp_ops op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return expr_add(r, e);
}

int fw_expr_payload_load_reg(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len,
                                 uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return expr_add(r, e);
}

int fw_expr_payload_load(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len)
{
	return fw_expr_payload_load_reg(r, base, offset, len, NFT_REG_1);
}

int fw_expr_mask4(struct nftnl_rule *r, uint32_t mask_be)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint32_t xor = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask_be, sizeof(mask_be));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	}
	return expr_add(r, e);
}

/* `ip saddr|daddr [!=] prefix`: load the 4-byte address, mask it unless /32, compare.  The cmp
 * data is in network byte order and has the host bits cleared, otherwise it never matches.
 * A /0 prefix matches everything, so `==` needs no expressions at all. */
int fw_expr_ip_prefix(struct nftnl_rule *r, uint32_t offset, enum nft_cmp_ops op, const struct cidr4 *p)
{
	uint32_t mask = cidr4_mask(p->len);
	uint32_t addr_be = htonl(p->addr & mask);
	int err;

	if (p->len == 0 && op == NFT_CMP_EQ)
		return 0;
	err = fw_expr_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, offset, sizeof(uint32_t));
	if (err >= 0 && p->len < 32)
		err = fw_expr_mask4(r, htonl(mask));
	if (err >= 0)
		err = fw_expr_cmp(r, op, &addr_be, sizeof(addr_be));
	return err;
}

int fw_expr_masq(struct nftnl_rule *r)
{
	return expr_add(r, nftnl_expr_alloc("masq"));
}

/* `KEY != @set`: the key starts in reg 1 and spans the registers loaded before. */
int fw_expr_lookup_not_in(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	}
	return expr_add(r, e);
}

int fw_expr_counter(struct nftnl_rule *r)
{
	return expr_add(r, nftnl_expr_alloc("counter"));
}

int fw_expr_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	return expr_add(r, e);
}

int fw_rule_set_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *ud;
	int err = 0;

	ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 16);
	if (!ud)
		return -ENOMEM;
	/* Same encoding as `nft ... comment "..."`, so nft shows it. */
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment))
		err = -EINVAL;
	else if (nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud)) < 0)
		err = -ENOMEM;
	nftnl_udata_buf_free(ud);
	return err;
}

int fw_batch_rule(struct fw_batch *b, uint16_t family, const char *chain, fw_rule_filler fill, const void *arg)
{
	struct nftnl_rule *r;
	int err;

	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = fill(r, arg);
	if (err >= 0)
		err = fw_batch_rule_msg(b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE, r);
out:
	nftnl_rule_free(r);
	return err;
}

int fw_batch_rule_msg(struct fw_batch *b, uint16_t type, uint16_t flags, struct nftnl_rule *r)
{
	union fw_scratch s = { .buf = { 0 } };
	uint16_t family = (uint16_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(s.buf, type, family, flags | NLM_F_ACK, b->seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	return batch_put(b, nlh);
}
