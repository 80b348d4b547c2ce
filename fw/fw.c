/* fw: build, send and check the batch that owns `inet shoal` and `bridge shoal`.  See fw.h and
 * docs/fw.md. */
#include "fw/fw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#include <linux/netfilter_bridge.h>
#include <linux/netlink.h>
#include <net/ethernet.h>
#include <sys/socket.h>

/* libnftnl's builders write without a length check, so every message is first built in a scratch
 * buffer this big and then copied into the caller's buffer only if it fits.  Our largest message
 * is a set element message of FW_ELEMS_PER_MSG elements, about 2.6 KiB (a rule is at most about
 * 600 bytes); a future builder that could exceed this must split its work into several messages,
 * as the elements do. */
#define FW_MSG_MAX 4096

#define FW_RULE_COMMENT_MASQ "shoal: masquerade pod traffic leaving the cluster network"
#define FW_RULE_COMMENT_MAC  "shoal: antispoof: source MAC is not the workload's"
#define FW_RULE_COMMENT_IP4  "shoal: antispoof: IPv4 source is not the workload's"
#define FW_RULE_COMMENT_ARP  "shoal: antispoof: ARP sender is not the workload's"
#define FW_RULE_COMMENT_ETH  "shoal: antispoof: ethertype other than ip, arp, ip6"

/* Set keys are concatenations; nft pads every field to a 4-byte register boundary and names the
 * key type by the field types, 6 bits each, first field highest (nft's concat_type_alloc()).
 * The nft datatype ids are ifname 41, ether_addr 9, ipv4_addr 7. */
#define FW_TYPE_IFNAME    41
#define FW_TYPE_ETHERADDR 9
#define FW_TYPE_IPV4ADDR  7
#define FW_KEY_MAC_TYPE   (FW_TYPE_IFNAME << 6 | FW_TYPE_ETHERADDR)
#define FW_KEY_IP4_TYPE   (FW_TYPE_IFNAME << 12 | FW_TYPE_ETHERADDR << 6 | FW_TYPE_IPV4ADDR)
#define FW_KEY_OFF_MAC    16   /* after the IFNAMSIZ ifname */
#define FW_KEY_OFF_IP4    24   /* 6-byte MAC padded to 8 */
#define FW_KEY_MAC_LEN    24
#define FW_KEY_IP4_LEN    28
/* Set ids name the sets created in the same batch (NFTA_SET_ID). */
#define FW_SET_ID_MAC     1
#define FW_SET_ID_IP4     2
/* Elements per NEWSETELEM message: about 40 bytes each, so 64 stay well below FW_MSG_MAX. */
#define FW_ELEMS_PER_MSG  64

static void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

int fw_workload_validate(const struct fw_workload *w)
{
	if (!w || w->ifname[0] == '\0' || !memchr(w->ifname, '\0', sizeof(w->ifname)))
		return -EINVAL;
	return 0;
}

int fw_config_validate(const struct fw_config *c)
{
	struct cidr4 net, sub;

	if (!c)
		return -EINVAL;
	if (c->bridge && strlen(c->bridge) >= IFNAMSIZ)
		return -EINVAL;
	if (c->antispoof) {
		if (c->n_workloads > 0 && !c->workloads)
			return -EINVAL;
		for (size_t i = 0; i < c->n_workloads; i++)
			if (fw_workload_validate(&c->workloads[i]) < 0)
				return -EINVAL;
	}
	if (!c->masquerade)
		return 0;
	if (c->network.len == 0 || c->network.len > 32 || c->subnet.len > 32)
		return -EINVAL;
	net = (struct cidr4){ c->network.addr & cidr4_mask(c->network.len), c->network.len };
	sub = (struct cidr4){ c->subnet.addr & cidr4_mask(c->subnet.len), c->subnet.len };
	/* A pod subnet outside the cluster network would masquerade pod-to-pod traffic. */
	if (!cidr4_contains_prefix(&net, &sub))
		return -EINVAL;
	return 0;
}

/* ---- batch writer ---------------------------------------------------------------------------- */

struct batch {
	char *buf;
	size_t cap, len;
	uint32_t seq;       /* seq of the next message */
};

union scratch {
	struct nlmsghdr align;
	char buf[FW_MSG_MAX];
};

static int batch_put(struct batch *b, const struct nlmsghdr *nlh)
{
	size_t n = MNL_ALIGN(nlh->nlmsg_len);

	if (n > sizeof(union scratch))
		return -EMSGSIZE;   /* a builder outgrew FW_MSG_MAX: a bug, see above */
	if (n > b->cap - b->len)
		return -ENOBUFS;
	memcpy(b->buf + b->len, nlh, n);
	b->len += n;
	b->seq++;
	return 0;
}

static int batch_begin(struct batch *b)
{
	union scratch s;

	return batch_put(b, nftnl_batch_begin(s.buf, b->seq));
}

static int batch_end(struct batch *b)
{
	union scratch s;

	return batch_put(b, nftnl_batch_end(s.buf, b->seq));
}

static int batch_table(struct batch *b, uint16_t family, uint16_t type, uint16_t flags)
{
	union scratch s;
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
static int batch_table_delete(struct batch *b, uint16_t family)
{
	int err = batch_table(b, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	if (err >= 0)
		err = batch_table(b, family, NFT_MSG_DELTABLE, 0);
	return err;
}

static int batch_base_chain(struct batch *b, uint16_t family, const char *name, const char *type, uint32_t hook,
                            int32_t prio)
{
	union scratch s;
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
static int batch_set(struct batch *b, const char *name, uint32_t key_type, uint32_t key_len, uint32_t id)
{
	union scratch s;
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

enum fw_set_kind { SET_MAC, SET_IP4 };

static const char *set_name(enum fw_set_kind k)
{
	return k == SET_MAC ? FW_SET_ALLOW_MAC : FW_SET_ALLOW_IP4;
}

/* One NEWSETELEM/DELSETELEM message with the elements of workloads w[0..n) for set k.  Built with
 * libmnl rather than nftnl_set_elems_nlmsg_build_payload(): libnftnl numbers the element nests
 * 1, 2, 3... instead of NFTA_LIST_ELEM, which the kernel accepts but libnftnl's own parser (that
 * fw_batch_describe() and fw_check() use, as for the kernel's dumps) rejects beyond one element. */
static int batch_elems_msg(struct batch *b, uint16_t type, enum fw_set_kind k, const struct fw_workload *w, size_t n)
{
	union scratch s;
	struct nlmsghdr *nlh;
	struct nlattr *list, *elem, *key;
	uint32_t key_len = k == SET_MAC ? FW_KEY_MAC_LEN : FW_KEY_IP4_LEN;
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

		if (k == SET_MAC)
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
static int batch_elems(struct batch *b, uint16_t type, enum fw_set_kind k, const struct fw_workload *w, size_t n)
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

static int expr_meta_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return expr_add(r, e);
}

static int expr_cmp(struct nftnl_rule *r, enum nft_cmp_ops op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return expr_add(r, e);
}

static int expr_payload_load_reg(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len,
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

static int expr_payload_load(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len)
{
	return expr_payload_load_reg(r, base, offset, len, NFT_REG_1);
}

/* reg1 = reg1 & mask (4 bytes, network order). */
static int expr_mask4(struct nftnl_rule *r, uint32_t mask_be)
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
static int expr_ip_prefix(struct nftnl_rule *r, uint32_t offset, enum nft_cmp_ops op, const struct cidr4 *p)
{
	uint32_t mask = cidr4_mask(p->len);
	uint32_t addr_be = htonl(p->addr & mask);
	int err;

	if (p->len == 0 && op == NFT_CMP_EQ)
		return 0;
	err = expr_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, offset, sizeof(uint32_t));
	if (err >= 0 && p->len < 32)
		err = expr_mask4(r, htonl(mask));
	if (err >= 0)
		err = expr_cmp(r, op, &addr_be, sizeof(addr_be));
	return err;
}

static int expr_masq(struct nftnl_rule *r)
{
	return expr_add(r, nftnl_expr_alloc("masq"));
}

/* `KEY != @set`: the key starts in reg 1 and spans the registers loaded before. */
static int expr_lookup_not_in(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	}
	return expr_add(r, e);
}

static int expr_counter(struct nftnl_rule *r)
{
	return expr_add(r, nftnl_expr_alloc("counter"));
}

static int expr_drop(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	}
	return expr_add(r, e);
}

static int rule_set_comment(struct nftnl_rule *r, const char *comment)
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

static int rule_masquerade_fill(struct nftnl_rule *r, const void *arg)
{
	static const uint8_t nfproto_ipv4 = NFPROTO_IPV4;
	const struct fw_config *c = arg;
	int err;

	/* The inet family sees IPv6 too: the nfproto test guards the IPv4 header offsets. */
	err = expr_meta_load(r, NFT_META_NFPROTO);
	if (err >= 0)
		err = expr_cmp(r, NFT_CMP_EQ, &nfproto_ipv4, sizeof(nfproto_ipv4));
	if (err >= 0)
		err = expr_ip_prefix(r, 12, NFT_CMP_EQ, &c->subnet);    /* iphdr.saddr */
	if (err >= 0)
		err = expr_ip_prefix(r, 16, NFT_CMP_NEQ, &c->network);  /* iphdr.daddr */
	if (err >= 0 && c->bridge && c->bridge[0]) {
		/* oifname rather than oif: works before the bridge exists and across its re-creation.
		 * The kernel compares all IFNAMSIZ bytes, NUL padded, like `nft oifname "x"`. */
		char name[IFNAMSIZ] = { 0 };

		memcpy(name, c->bridge, strlen(c->bridge));
		err = expr_meta_load(r, NFT_META_OIFNAME);
		if (err >= 0)
			err = expr_cmp(r, NFT_CMP_NEQ, name, sizeof(name));
	}
	if (err >= 0)
		err = expr_masq(r);
	if (err >= 0)
		err = rule_set_comment(r, FW_RULE_COMMENT_MASQ);
	return err;
}

/* ---- anti-spoofing rules (table bridge shoal) ---------------------------------------------------
 * The register layout is the one nft generates for the same rules, so `nft list` prints them as an
 * operator would write them: the ifname fills reg 1 (16 bytes), the MAC goes to reg 2 (the next
 * 16-byte register, 6 bytes used), the IPv4 address to the 32-bit register after the padded MAC
 * (NFT_REG32_06, byte 24 of the key).  In the bridge family `meta iifname` is the bridge port,
 * i.e. the host veth, and the network header starts after the (possibly VLAN) link header. */

enum fw_antispoof_rule { AS_MAC, AS_IP4, AS_ARP, AS_ETHERTYPE };

/* iifname "shv*": a 3-byte prefix compare, what nft makes of the wildcard. */
static int expr_iif_is_workload(struct nftnl_rule *r)
{
	int err = expr_meta_load(r, NFT_META_IIFNAME);

	if (err >= 0)
		err = expr_cmp(r, NFT_CMP_EQ, FW_ANTISPOOF_IFPREFIX, sizeof(FW_ANTISPOOF_IFPREFIX) - 1);
	return err;
}

static int expr_ethertype(struct nftnl_rule *r, enum nft_cmp_ops op, uint16_t type)
{
	uint16_t type_be = htons(type);

	return expr_cmp(r, op, &type_be, sizeof(type_be));
}

/* iifname . SHA [. SPA] loaded from the given offsets into the key registers. */
static int expr_key(struct nftnl_rule *r, enum nft_payload_bases mac_base, uint32_t mac_off, bool with_ip,
                    enum nft_payload_bases ip_base, uint32_t ip_off)
{
	int err = expr_meta_load(r, NFT_META_IIFNAME);

	if (err >= 0)
		err = expr_payload_load_reg(r, mac_base, mac_off, ETH_ALEN, NFT_REG_2);
	if (err >= 0 && with_ip)
		err = expr_payload_load_reg(r, ip_base, ip_off, sizeof(uint32_t), NFT_REG32_06);
	return err;
}

static int rule_antispoof_fill(struct nftnl_rule *r, const void *arg)
{
	enum fw_antispoof_rule which = *(const enum fw_antispoof_rule *)arg;
	const char *comment = NULL;
	int err = expr_iif_is_workload(r);

	switch (which) {
	case AS_MAC:   /* ether saddr, every frame */
		if (err >= 0)
			err = expr_key(r, NFT_PAYLOAD_LL_HEADER, 6, false, 0, 0);
		if (err >= 0)
			err = expr_lookup_not_in(r, FW_SET_ALLOW_MAC);
		comment = FW_RULE_COMMENT_MAC;
		break;
	case AS_IP4:   /* ether saddr . ip saddr */
		if (err >= 0)
			err = expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_EQ, ETHERTYPE_IP);
		if (err >= 0)
			err = expr_key(r, NFT_PAYLOAD_LL_HEADER, 6, true, NFT_PAYLOAD_NETWORK_HEADER, 12);
		if (err >= 0)
			err = expr_lookup_not_in(r, FW_SET_ALLOW_IP4);
		comment = FW_RULE_COMMENT_IP4;
		break;
	case AS_ARP:   /* Ethernet/IPv4 ARP: sender hardware address at 8, sender IP at 14 */
		if (err >= 0)
			err = expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_EQ, ETHERTYPE_ARP);
		if (err >= 0)
			err = expr_key(r, NFT_PAYLOAD_NETWORK_HEADER, 8, true, NFT_PAYLOAD_NETWORK_HEADER, 14);
		if (err >= 0)
			err = expr_lookup_not_in(r, FW_SET_ALLOW_IP4);
		comment = FW_RULE_COMMENT_ARP;
		break;
	case AS_ETHERTYPE:
		/* A VLAN tag (in the frame or offloaded: the payload expression rebuilds it) or any
		 * other protocol could carry headers the rules above never look at.  Three compares
		 * on one load rather than an anonymous set: as cheap, and nothing more to create
		 * and compare in fw_check(). */
		if (err >= 0)
			err = expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_NEQ, ETHERTYPE_IP);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_NEQ, ETHERTYPE_ARP);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_NEQ, ETHERTYPE_IPV6);
		comment = FW_RULE_COMMENT_ETH;
		break;
	}
	if (err >= 0)
		err = expr_counter(r);
	if (err >= 0)
		err = expr_drop(r);
	if (err >= 0)
		err = rule_set_comment(r, comment);
	return err;
}

typedef int (*rule_filler)(struct nftnl_rule *r, const void *arg);

static int batch_rule(struct batch *b, uint16_t family, const char *chain, rule_filler fill, const void *arg)
{
	union scratch s;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
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
	if (err < 0)
		goto out;
	nlh = nftnl_nlmsg_build_hdr(s.buf, NFT_MSG_NEWRULE, family, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, b->seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	err = batch_put(b, nlh);
out:
	nftnl_rule_free(r);
	return err;
}

/* table bridge shoal: sets, every workload's elements, then the chain and its rules. */
static int batch_antispoof(struct batch *b, const struct fw_config *c)
{
	static const enum fw_antispoof_rule rules[] = { AS_MAC, AS_IP4, AS_ARP, AS_ETHERTYPE };
	int err;

	err = batch_table(b, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0)
		err = batch_set(b, FW_SET_ALLOW_MAC, FW_KEY_MAC_TYPE, FW_KEY_MAC_LEN, FW_SET_ID_MAC);
	if (err >= 0)
		err = batch_set(b, FW_SET_ALLOW_IP4, FW_KEY_IP4_TYPE, FW_KEY_IP4_LEN, FW_SET_ID_IP4);
	if (err >= 0)
		err = batch_elems(b, NFT_MSG_NEWSETELEM, SET_MAC, c->workloads, c->n_workloads);
	if (err >= 0)
		err = batch_elems(b, NFT_MSG_NEWSETELEM, SET_IP4, c->workloads, c->n_workloads);
	if (err >= 0)
		err = batch_base_chain(b, NFPROTO_BRIDGE, FW_CHAIN_PREROUTING, "filter", NF_BR_PRE_ROUTING,
				       FW_PRIO_BRIDGE_FILTER);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && err >= 0; i++)
		err = batch_rule(b, NFPROTO_BRIDGE, FW_CHAIN_PREROUTING, rule_antispoof_fill, &rules[i]);
	return err;
}

int fw_batch_build(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	struct batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = fw_config_validate(c);
	if (err < 0)
		return err;
	/* add + delete + add: the first add makes the delete valid whether or not the table exists,
	 * the delete drops every chain, rule and set in it, the second add starts empty.  The kernel
	 * applies the whole batch or nothing, so packets never see a half-built table.  Both tables
	 * are in the same batch: one transaction, never masquerade without anti-spoofing. */
	err = batch_begin(&b);
	if (err >= 0)
		err = batch_table_delete(&b, NFPROTO_INET);
	if (err >= 0)
		err = batch_table(&b, NFPROTO_INET, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0 && c->masquerade) {
		err = batch_base_chain(&b, NFPROTO_INET, FW_CHAIN_POSTROUTING, "nat", NF_INET_POST_ROUTING,
				       FW_PRIO_SRCNAT);
		if (err >= 0)
			err = batch_rule(&b, NFPROTO_INET, FW_CHAIN_POSTROUTING, rule_masquerade_fill, c);
	}
	/* Deleted also without antispoof: a table left from an earlier config must not keep
	 * dropping traffic.  Creating and deleting a table works on kernels without the bridge
	 * family (only its chains need it), so this costs nothing there. */
	if (err >= 0)
		err = batch_table_delete(&b, NFPROTO_BRIDGE);
	if (err >= 0 && c->antispoof)
		err = batch_antispoof(&b, c);
	if (err >= 0)
		err = batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

int fw_batch_build_remove(void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	struct batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = batch_begin(&b);
	if (err >= 0)
		err = batch_table_delete(&b, NFPROTO_INET);
	if (err >= 0)
		err = batch_table_delete(&b, NFPROTO_BRIDGE);
	if (err >= 0)
		err = batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

static int build_workload(const struct fw_workload *w, bool add, void *buf, size_t buflen, uint32_t seq,
                          size_t *ret_len)
{
	struct batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = fw_workload_validate(w);
	if (err < 0)
		return err;
	err = batch_begin(&b);
	/* The adds also precede the deletes of a DEL: they make the deletes succeed whether or not
	 * the elements existed (a DELSETELEM of an absent element fails with ENOENT). */
	if (err >= 0)
		err = batch_elems(&b, NFT_MSG_NEWSETELEM, SET_MAC, w, 1);
	if (err >= 0)
		err = batch_elems(&b, NFT_MSG_NEWSETELEM, SET_IP4, w, 1);
	if (err >= 0 && !add)
		err = batch_elems(&b, NFT_MSG_DELSETELEM, SET_MAC, w, 1);
	if (err >= 0 && !add)
		err = batch_elems(&b, NFT_MSG_DELSETELEM, SET_IP4, w, 1);
	if (err >= 0)
		err = batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

int fw_batch_build_workload_add(const struct fw_workload *w, void *buf, size_t buflen, uint32_t seq,
                                size_t *ret_len)
{
	return build_workload(w, true, buf, buflen, seq, ret_len);
}

int fw_batch_build_workload_del(const struct fw_workload *w, void *buf, size_t buflen, uint32_t seq,
                                size_t *ret_len)
{
	return build_workload(w, false, buf, buflen, seq, ret_len);
}

/* ---- describing a message --------------------------------------------------------------------- */

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && s[len - 1] == '\0')
		*comment = s;
	return 0;
}

/* The rule's comment (borrowed from r), or NULL. */
static const char *rule_comment(const struct nftnl_rule *r)
{
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;

	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return NULL;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud)
		nftnl_udata_parse(ud, len, udata_comment_cb, &comment);
	return comment;
}

/* "shv0123456789ab . 02:00:00:00:00:01[ . 10.244.3.2]", as nft writes our keys; other lengths
 * in hex (not ours). */
static void key_render(const uint8_t *key, uint32_t len, char *out, size_t outlen)
{
	const uint8_t *m = key + FW_KEY_OFF_MAC;
	size_t pos;

	if (len != FW_KEY_MAC_LEN && len != FW_KEY_IP4_LEN) {
		pos = (size_t)snprintf(out, outlen, "0x");
		for (uint32_t i = 0; i < len && pos < outlen; i++)
			pos += (size_t)snprintf(out + pos, outlen - pos, "%02x", key[i]);
		return;
	}
	pos = (size_t)snprintf(out, outlen, "%.*s . %02x:%02x:%02x:%02x:%02x:%02x",
			       (int)strnlen((const char *)key, IFNAMSIZ), (const char *)key,
			       m[0], m[1], m[2], m[3], m[4], m[5]);
	if (len == FW_KEY_IP4_LEN && pos < outlen) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, key + FW_KEY_OFF_IP4, ip, sizeof(ip));
		snprintf(out + pos, outlen - pos, " . %s", ip);
	}
}

/* Call fn with the set name and key of every element of a NEWSETELEM/DELSETELEM message.
 * Returns 0, fn's first error, or -EINVAL when the message does not parse. */
typedef int (*elem_fn)(const char *set, const uint8_t *key, uint32_t len, void *arg);

static int elems_for_each(const struct nlmsghdr *nlh, elem_fn fn, void *arg)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = NULL;
	struct nftnl_set_elem *e;
	int err = 0;

	if (!set)
		return -ENOMEM;
	if (nftnl_set_elems_nlmsg_parse(nlh, set) < 0 || !nftnl_set_is_set(set, NFTNL_SET_NAME)) {
		err = -EINVAL;
		goto out;
	}
	it = nftnl_set_elems_iter_create(set);
	if (!it) {
		err = -ENOMEM;
		goto out;
	}
	/* _next() returns the current element, then advances. */
	while (err >= 0 && (e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		if (key)
			err = fn(nftnl_set_get_str(set, NFTNL_SET_NAME), key, len, arg);
	}
out:
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	return err;
}

struct elem_describe {
	unsigned n;
	char set[64];
	char first[128];
};

static int elem_describe_cb(const char *set, const uint8_t *key, uint32_t len, void *arg)
{
	struct elem_describe *d = arg;

	if (d->n++ == 0) {
		snprintf(d->set, sizeof(d->set), "%s", set);
		key_render(key, len, d->first, sizeof(d->first));
	}
	return 0;
}

static void describe_msg(const struct nlmsghdr *nlh, char *out, size_t outlen)
{
	uint16_t type = nlh->nlmsg_type;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *family = g->nfgen_family == NFPROTO_BRIDGE ? "bridge" : "inet";
	struct elem_describe d = { 0 };
	struct nftnl_chain *ch;
	struct nftnl_rule *r;
	struct nftnl_set *set;
	const char *verb;

	if (type == NFNL_MSG_BATCH_BEGIN) {
		snprintf(out, outlen, "batch");
		return;
	}
	if (type == NFNL_MSG_BATCH_END) {
		snprintf(out, outlen, "commit");
		return;
	}
	switch (NFNL_MSG_TYPE(type)) {
	case NFT_MSG_NEWTABLE:
		snprintf(out, outlen, "add table %s %s", family, FW_TABLE);
		return;
	case NFT_MSG_DELTABLE:
		snprintf(out, outlen, "delete table %s %s", family, FW_TABLE);
		return;
	case NFT_MSG_NEWSET:
		set = nftnl_set_alloc();
		if (set && nftnl_set_nlmsg_parse(nlh, set) >= 0 && nftnl_set_is_set(set, NFTNL_SET_NAME))
			snprintf(out, outlen, "add set %s", nftnl_set_get_str(set, NFTNL_SET_NAME));
		else
			snprintf(out, outlen, "add set");
		nftnl_set_free(set);
		return;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		verb = NFNL_MSG_TYPE(type) == NFT_MSG_NEWSETELEM ? "add" : "delete";
		if (elems_for_each(nlh, elem_describe_cb, &d) < 0 || d.n == 0)
			snprintf(out, outlen, "%s elements", verb);
		else if (d.n == 1)
			snprintf(out, outlen, "%s element %s %s", verb, d.set, d.first);
		else
			snprintf(out, outlen, "%s %u elements %s %s", verb, d.n, verb[0] == 'a' ? "to" : "from", d.set);
		return;
	case NFT_MSG_NEWCHAIN:
		ch = nftnl_chain_alloc();
		if (ch && nftnl_chain_nlmsg_parse(nlh, ch) >= 0 && nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME))
			snprintf(out, outlen, "add chain %s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
		else
			snprintf(out, outlen, "add chain");
		nftnl_chain_free(ch);
		return;
	case NFT_MSG_NEWRULE:
		r = nftnl_rule_alloc();
		if (r && nftnl_rule_nlmsg_parse(nlh, r) >= 0 && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN)) {
			const char *comment = rule_comment(r);

			snprintf(out, outlen, "add rule %s%s%s%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
				 comment ? " \"" : "", comment ? comment : "", comment ? "\"" : "");
		} else {
			snprintf(out, outlen, "add rule");
		}
		nftnl_rule_free(r);
		return;
	default:
		snprintf(out, outlen, "nftables message %u", NFNL_MSG_TYPE(type));
		return;
	}
}

int fw_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen)
{
	const struct nlmsghdr *nlh = buf;
	int rest = len > INT32_MAX ? INT32_MAX : (int)len;

	if (!out || outlen == 0)
		return -EINVAL;
	for (; buf && mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (nlh->nlmsg_seq == seq) {
			describe_msg(nlh, out, outlen);
			return 0;
		}
	}
	snprintf(out, outlen, "batch");
	return -ENOENT;
}

/* ---- acknowledgements ------------------------------------------------------------------------ */

void fw_acks_init(struct fw_acks *a, const void *batch, size_t len)
{
	const struct nlmsghdr *nlh = batch;
	int rest = len > INT32_MAX ? INT32_MAX : (int)len;
	bool first = true;

	memset(a, 0, sizeof(*a));
	for (; batch && mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (first)
			a->seq_first = nlh->nlmsg_seq;
		first = false;
		a->seq_last = nlh->nlmsg_seq;
		if (nlh->nlmsg_flags & NLM_F_ACK)
			a->expected++;
	}
}

static void acks_extack(struct fw_acks *a, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t payload = mnl_nlmsg_get_payload_len(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NETLINK_CAP_ACK (or on kernels ignoring it) the request follows the header. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(struct nlmsghdr))
		off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	if (off >= payload)
		return;
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
			snprintf(a->extack, sizeof(a->extack), "%s", mnl_attr_get_str(attr));
			return;
		}
	}
}

int fw_acks_feed(struct fw_acks *a, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rest = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		const struct nlmsgerr *e;

		/* Not an answer to this batch (we use a fresh socket, so this is paranoia). */
		if (nlh->nlmsg_seq - a->seq_first > a->seq_last - a->seq_first)
			continue;
		if (nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			return -EPROTO;
		e = mnl_nlmsg_get_payload(nlh);
		a->answered++;
		if (e->error < 0 && a->error == 0) {
			a->error = e->error;
			a->error_seq = nlh->nlmsg_seq;
			acks_extack(a, nlh);
		}
	}
	if (rest != 0)
		return -EPROTO;
	return 0;
}

bool fw_acks_done(const struct fw_acks *a)
{
	/* The kernel answers a batch synchronously and stops at nothing: once one error is here the
	 * batch was aborted, and it is the first one (errors come in message order, a commit error
	 * before them). */
	return a->error != 0 || a->answered >= a->expected;
}

/* ---- talking to the kernel --------------------------------------------------------------------- */

#define FW_RECV_SIZE   32768
#define FW_TIMEOUT_MS  5000
/* An answer costs about this much of the socket's receive buffer (the skb around a capped
 * nlmsgerr); the default buffer (~200 KiB) holds a few hundred. */
#define FW_ACK_TRUESIZE         1024
#define FW_ACKS_IN_DEFAULT_RCVBUF  128
/* Well below the default send buffer (net.core.wmem_default, ~200 KiB). */
#define FW_BATCH_DEFAULT_SNDBUF    (64 * 1024)

static int sock_open(struct mnl_socket **ret)
{
	struct mnl_socket *nl;
	int one = 1, err;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	/* Both are optional: without them we just get no extack text / longer error messages. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret = nl;
	return 0;
}

/* Wait up to FW_TIMEOUT_MS for a datagram and read it; returns its length or -errno. */
static ssize_t sock_recv(struct mnl_socket *nl, void *buf, size_t len)
{
	struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, FW_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = mnl_socket_recvfrom(nl, buf, len);
	return n < 0 ? -errno : n;
}

static int send_batch(const void *batch, size_t len, char *errbuf, size_t errlen)
{
	struct mnl_socket *nl = NULL;
	struct fw_acks a;
	char *rbuf = NULL;
	char what[192];
	int err;

	err = sock_open(&nl);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "open netfilter netlink socket: %s", strerror(-err));
		return err;
	}
	rbuf = malloc(FW_RECV_SIZE);
	if (!rbuf) {
		err = -ENOMEM;
		errbuf_set(errbuf, errlen, "send batch: %s", strerror(-err));
		goto out;
	}
	fw_acks_init(&a, batch, len);
	if (a.expected > FW_ACKS_IN_DEFAULT_RCVBUF) {
		/* The kernel queues every answer before we read one: a full receive buffer would
		 * drop answers (ENOBUFS).  FORCE needs CAP_NET_ADMIN, which applying needs anyway. */
		int size = a.expected > INT32_MAX / FW_ACK_TRUESIZE ? INT32_MAX : (int)(a.expected * FW_ACK_TRUESIZE);

		if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (len > FW_BATCH_DEFAULT_SNDBUF) {
		/* The kernel takes a batch as one datagram, refused (EMSGSIZE) when it exceeds the
		 * socket's send buffer: a few thousand workloads' elements do.  nft does the same. */
		int size = len > INT32_MAX / 2 ? INT32_MAX : (int)(2 * len);

		if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (mnl_socket_sendto(nl, batch, len) < 0) {
		err = -errno;
		errbuf_set(errbuf, errlen, "send batch of %zu bytes: %s", len, strerror(-err));
		goto out;
	}
	while (!fw_acks_done(&a)) {
		ssize_t n = sock_recv(nl, rbuf, FW_RECV_SIZE);

		if (n < 0) {
			/* The batch may or may not have been applied; fw_check() will tell. */
			err = (int)n;
			errbuf_set(errbuf, errlen, "wait for kernel answer (%u of %u): %s",
				   a.answered, a.expected, strerror(-err));
			goto out;
		}
		err = fw_acks_feed(&a, rbuf, (size_t)n);
		if (err < 0) {
			errbuf_set(errbuf, errlen, "malformed kernel answer");
			goto out;
		}
	}
	err = a.error;
	if (err < 0) {
		fw_batch_describe(batch, len, a.error_seq, what, sizeof(what));
		errbuf_set(errbuf, errlen, "%s: %s%s%s", what, strerror(-err),
			   a.extack[0] ? ": " : "", a.extack);
	}
out:
	free(rbuf);
	mnl_socket_close(nl);
	return err;
}

typedef int (*batch_builder)(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len);

static int build_remove(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	return fw_batch_build_remove(buf, buflen, seq, ret_len);
}

/* Build into a heap buffer that grows until the batch fits. */
static int build_alloc(batch_builder build, const struct fw_config *c, uint32_t seq, char **ret_buf, size_t *ret_len)
{
	size_t cap = 8192, len = 0;
	char *buf;
	int err;

	for (;;) {
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		err = build(c, buf, cap, seq, &len);
		if (err != -ENOBUFS || cap >= (16u << 20))
			break;
		free(buf);
		cap *= 2;
	}
	if (err < 0) {
		free(buf);
		return err;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* Build a batch with build and send it; what names it in errors ("build batch to ..."). */
static int build_and_send(batch_builder build, const struct fw_config *c, const char *what, char *errbuf,
                          size_t errlen)
{
	char *batch = NULL;
	size_t len = 0;
	int err;

	err = build_alloc(build, c, (uint32_t)time(NULL), &batch, &len);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "build batch to %s: %s", what, strerror(-err));
		return err;
	}
	err = send_batch(batch, len, errbuf, errlen);
	free(batch);
	return err;
}

int fw_apply(const struct fw_config *c, char *errbuf, size_t errlen)
{
	return build_and_send(fw_batch_build, c,
			      c && c->antispoof ? "replace tables inet shoal and bridge shoal" : "replace table inet shoal",
			      errbuf, errlen);
}

int fw_remove(char *errbuf, size_t errlen)
{
	return build_and_send(build_remove, NULL, "delete tables inet shoal and bridge shoal", errbuf, errlen);
}

/* Four small messages: room to spare.  On the stack, the ADD path allocates nothing for it. */
#define FW_WORKLOAD_BATCH_MAX 2048

int fw_workload_add(const struct fw_workload *w, char *errbuf, size_t errlen)
{
	union { struct nlmsghdr align; char buf[FW_WORKLOAD_BATCH_MAX]; } batch;
	size_t len = 0;
	int err;

	err = fw_batch_build_workload_add(w, batch.buf, sizeof(batch.buf), (uint32_t)time(NULL), &len);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "build batch to add workload %s: %s",
			   w && fw_workload_validate(w) >= 0 ? w->ifname : "(invalid)", strerror(-err));
		return err;
	}
	err = send_batch(batch.buf, len, errbuf, errlen);
	if (err == -ENOENT)
		/* Name the likely cause: the message alone ("add element ...: No such file or
		 * directory") does not say that it is the set or table that is missing. */
		errbuf_set(errbuf, errlen, "add elements of %s: table bridge %s or its sets missing: %s", w->ifname,
			   FW_TABLE, strerror(-err));
	return err;
}

int fw_workload_del(const struct fw_workload *w, char *errbuf, size_t errlen)
{
	union { struct nlmsghdr align; char buf[FW_WORKLOAD_BATCH_MAX]; } batch;
	size_t len = 0;
	int err;

	err = fw_batch_build_workload_del(w, batch.buf, sizeof(batch.buf), (uint32_t)time(NULL), &len);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "build batch to delete workload %s: %s",
			   w && fw_workload_validate(w) >= 0 ? w->ifname : "(invalid)", strerror(-err));
		return err;
	}
	err = send_batch(batch.buf, len, errbuf, errlen);
	/* The batch adds before it deletes, so the only ENOENT left is a missing set or table:
	 * then the elements are absent too, which is what DEL wants. */
	if (err == -ENOENT) {
		errbuf_set(errbuf, errlen, "table bridge %s or its sets absent: nothing to delete", FW_TABLE);
		err = 0;
	}
	return err;
}

/* ---- reading back ----------------------------------------------------------------------------- */

/* Objects are compared as canonical one-line texts, so a difference can be shown as it is. */
struct strlist {
	char **v;
	size_t n, cap;
};

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int strlist_push(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		/* Doubling: one line per set element, tens of thousands on a big host. */
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates (a workload listed twice is one element). */
static void strlist_sort_unique(struct strlist *l)
{
	size_t j = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), strcmp_p);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j]) == 0)
			free(l->v[i]);
		else
			l->v[++j] = l->v[i];
	}
	l->n = j + 1;
}

/* One of our tables as read back (or as fw_apply() would create it). */
struct fw_table_state {
	bool present;
	struct strlist chains, rules, sets;
};

struct fw_state {
	struct fw_table_state inet, bridge;
	struct strlist elems;     /* "SET KEY", of table bridge shoal */
	bool set_mac, set_ip4;    /* the sets exist: their elements can be dumped */
	int err;
};

static void table_state_clear(struct fw_table_state *t)
{
	t->present = false;
	strlist_clear(&t->chains);
	strlist_clear(&t->rules);
	strlist_clear(&t->sets);
}

static void state_clear(struct fw_state *st)
{
	table_state_clear(&st->inet);
	table_state_clear(&st->bridge);
	strlist_clear(&st->elems);
	st->set_mac = st->set_ip4 = false;
	st->err = 0;
}

static void chain_render(const struct nftnl_chain *ch, char *out, size_t outlen)
{
	const char *type = nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE) : "-";

	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
		snprintf(out, outlen, "chain %s type %s hook %u priority %d policy %u",
			 nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), type,
			 nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM), nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO),
			 nftnl_chain_is_set(ch, NFTNL_CHAIN_POLICY) ? nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) : NF_ACCEPT);
	else
		snprintf(out, outlen, "chain %s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
}

/* "rule CHAIN: [ expr ] [ expr ] comment "..."", with libnftnl's debug rendering of each
 * expression (what `nft --debug=netlink` prints): it shows every value the kernel acts on and
 * does not depend on which optional attributes the kernel chose to echo.  Stateful expressions
 * render their state too: a counter is shown without its packets and bytes, which change. */
static int rule_render(struct nftnl_rule *r, char *out, size_t outlen)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const char *comment;
	size_t pos;
	char ebuf[512];

	pos = (size_t)snprintf(out, outlen, "rule %s:", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	it = nftnl_expr_iter_create(r);
	if (!it)
		return -ENOMEM;
	while ((e = nftnl_expr_iter_next(it)) && pos < outlen) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "counter") == 0)
			ebuf[0] = '\0';
		else
			nftnl_expr_snprintf(ebuf, sizeof(ebuf), e, NFTNL_OUTPUT_DEFAULT, 0);
		pos += (size_t)snprintf(out + pos, outlen - pos, " [ %s %s]", name, ebuf);
	}
	nftnl_expr_iter_destroy(it);
	comment = rule_comment(r);
	if (comment && pos < outlen)
		snprintf(out + pos, outlen - pos, " comment \"%s\"", comment);
	return 0;
}

static void set_render(const struct nftnl_set *set, char *out, size_t outlen)
{
	snprintf(out, outlen, "set %s key type 0x%x len %u flags 0x%x", nftnl_set_get_str(set, NFTNL_SET_NAME),
		 nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE), nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN),
		 nftnl_set_is_set(set, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(set, NFTNL_SET_FLAGS) : 0);
}

static int elem_push_cb(const char *set, const uint8_t *key, uint32_t len, void *arg)
{
	struct fw_state *st = arg;
	char line[256];
	int n = snprintf(line, sizeof(line), "%s ", set);

	key_render(key, len, line + n, sizeof(line) - (size_t)n);
	return strlist_push(&st->elems, line);
}

static bool is_ours(const char *table)
{
	return table && strcmp(table, FW_TABLE) == 0;
}

static int state_add_msg(struct fw_state *st, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct fw_table_state *t;
	char line[2048];
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EPROTO;
	if (g->nfgen_family == NFPROTO_INET)
		t = &st->inet;
	else if (g->nfgen_family == NFPROTO_BRIDGE)
		t = &st->bridge;
	else
		return 0;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE: {
		struct nftnl_table *tb = nftnl_table_alloc();

		if (!tb)
			return -ENOMEM;
		if (nftnl_table_nlmsg_parse(nlh, tb) >= 0 && nftnl_table_is_set(tb, NFTNL_TABLE_NAME) &&
		    is_ours(nftnl_table_get_str(tb, NFTNL_TABLE_NAME)))
			t->present = true;
		nftnl_table_free(tb);
		return 0;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (!ch)
			return -ENOMEM;
		if (nftnl_chain_nlmsg_parse(nlh, ch) >= 0 &&
		    nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) && nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME) &&
		    is_ours(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE))) {
			chain_render(ch, line, sizeof(line));
			err = strlist_push(&t->chains, line);
		}
		nftnl_chain_free(ch);
		return err;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		if (nftnl_rule_nlmsg_parse(nlh, r) >= 0 &&
		    nftnl_rule_is_set(r, NFTNL_RULE_TABLE) && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) &&
		    is_ours(nftnl_rule_get_str(r, NFTNL_RULE_TABLE))) {
			err = rule_render(r, line, sizeof(line));
			if (err >= 0)
				err = strlist_push(&t->rules, line);
		}
		nftnl_rule_free(r);
		return err;
	}
	case NFT_MSG_NEWSET: {
		struct nftnl_set *set = nftnl_set_alloc();

		if (!set)
			return -ENOMEM;
		if (nftnl_set_nlmsg_parse(nlh, set) >= 0 &&
		    nftnl_set_is_set(set, NFTNL_SET_TABLE) && nftnl_set_is_set(set, NFTNL_SET_NAME) &&
		    is_ours(nftnl_set_get_str(set, NFTNL_SET_TABLE))) {
			const char *name = nftnl_set_get_str(set, NFTNL_SET_NAME);

			if (t == &st->bridge && strcmp(name, FW_SET_ALLOW_MAC) == 0)
				st->set_mac = true;
			if (t == &st->bridge && strcmp(name, FW_SET_ALLOW_IP4) == 0)
				st->set_ip4 = true;
			set_render(set, line, sizeof(line));
			err = strlist_push(&t->sets, line);
		}
		nftnl_set_free(set);
		return err;
	}
	case NFT_MSG_NEWSETELEM:
		/* Only ever dumped (and built) for the sets of table bridge shoal. */
		return t == &st->bridge ? elems_for_each(nlh, elem_push_cb, st) : 0;
	default:
		return 0;
	}
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_state *st = data;
	int err = state_add_msg(st, nlh);

	if (err < 0) {
		st->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Dump one object kind of one family into st.  The kernel filters chains, rules and sets by
 * table when the request names one; state_add_msg() filters again for kernels that do not.
 * Elements are dumped per set (set names one). */
static int dump(struct mnl_socket *nl, uint16_t family, uint16_t type, const char *set, uint32_t seq,
                struct fw_state *st, char *rbuf)
{
	union scratch s;
	struct nlmsghdr *nlh;
	uint32_t portid = mnl_socket_get_portid(nl);
	int r;

	nlh = nftnl_nlmsg_build_hdr(s.buf, type, family, NLM_F_DUMP, seq);
	if (type == NFT_MSG_GETCHAIN)
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETSET)
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETSETELEM) {
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, FW_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = sock_recv(nl, rbuf, FW_RECV_SIZE);

		if (n < 0)
			return (int)n;
		r = mnl_cb_run(rbuf, (size_t)n, seq, portid, dump_cb, st);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		return st->err < 0 ? st->err : -errno;   /* EINTR: NLM_F_DUMP_INTR */
	return 0;
}

static int state_read_once(struct mnl_socket *nl, uint32_t seq, struct fw_state *st, char *rbuf)
{
	static const uint16_t types[] = { NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFT_MSG_GETSET };
	int err = 0;

	for (size_t i = 0; i < 3 && err >= 0; i++)
		err = dump(nl, NFPROTO_INET, types[i], NULL, seq++, st, rbuf);
	if (err >= 0)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETTABLE, NULL, seq++, st, rbuf);
	if (err < 0 || !st->bridge.present)
		return err;
	for (size_t i = 1; i < 4 && err >= 0; i++)
		err = dump(nl, NFPROTO_BRIDGE, types[i], NULL, seq++, st, rbuf);
	/* A set that vanished between the dumps answers ENOENT: start over like after an
	 * interrupted dump. */
	if (err >= 0 && st->set_mac)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETSETELEM, FW_SET_ALLOW_MAC, seq++, st, rbuf);
	if (err >= 0 && st->set_ip4)
		err = dump(nl, NFPROTO_BRIDGE, NFT_MSG_GETSETELEM, FW_SET_ALLOW_IP4, seq++, st, rbuf);
	return err == -ENOENT ? -EINTR : err;
}

static int state_read(struct fw_state *st)
{
	struct mnl_socket *nl = NULL;
	char *rbuf;
	uint32_t seq = (uint32_t)time(NULL);
	int err, attempt;

	rbuf = malloc(FW_RECV_SIZE);
	if (!rbuf)
		return -ENOMEM;
	for (attempt = 0; attempt < 10; attempt++) {
		/* A fresh socket per attempt: an aborted dump leaves answers behind. */
		err = sock_open(&nl);
		if (err < 0)
			break;
		err = state_read_once(nl, seq, st, rbuf);
		seq += 16;
		mnl_socket_close(nl);
		if (err != -EINTR)
			break;
		/* The ruleset changed during a dump: start over. */
		state_clear(st);
	}
	free(rbuf);
	return err;
}

/* What fw_apply(c) would create, rendered the same way, by parsing our own batch. */
static int state_expected(const struct fw_config *c, struct fw_state *st)
{
	const struct nlmsghdr *nlh;
	char *batch = NULL;
	size_t len = 0;
	int rest, err;

	err = build_alloc(fw_batch_build, c, 1, &batch, &len);
	if (err < 0)
		return err;
	/* The batch adds (and deletes) both tables either way: presence comes from the config. */
	st->inet.present = true;
	st->bridge.present = c->antispoof;
	rest = (int)len;
	for (nlh = (const struct nlmsghdr *)batch; mnl_nlmsg_ok(nlh, rest) && err >= 0; nlh = mnl_nlmsg_next(nlh, &rest)) {
		uint16_t t = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END &&
		    (t == NFT_MSG_NEWCHAIN || t == NFT_MSG_NEWRULE || t == NFT_MSG_NEWSET || t == NFT_MSG_NEWSETELEM))
			err = state_add_msg(st, nlh);
	}
	free(batch);
	return err;
}

/* Length of the "[ ... ]" token (or the rest of the line) starting at s. */
static int token_len(const char *s)
{
	const char *end = *s == '[' ? strchr(s, ']') : NULL;

	return end ? (int)(end - s + 1) : (int)strlen(s);
}

/* Point at the first differing expression instead of printing two whole rules. */
static void diff_describe(const char *what, size_t n, const char *have, const char *want, char *errbuf, size_t errlen)
{
	size_t i = 0, start = 0;
	unsigned expr = 0;

	while (have[i] && have[i] == want[i]) {
		if (have[i] == '[') {
			start = i;
			expr++;
		}
		i++;
	}
	/* The mismatch may start right after a complete, equal token: point at the next one. */
	if (expr > 0 && start + (size_t)token_len(have + start) <= i) {
		start = i;
		expr++;
	}
	if (expr == 0) {
		errbuf_set(errbuf, errlen, "%s %zu differs: have %s, want %s", what, n, have, want);
		return;
	}
	errbuf_set(errbuf, errlen, "%s %zu differs at expression %u: have %.*s, want %.*s", what, n, expr,
		   token_len(have + start), have + start, token_len(want + start), want + start);
}

static bool lists_diff(const char *what, const struct strlist *have, const struct strlist *want,
		       char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < have->n || i < want->n; i++) {
		if (i >= have->n) {
			errbuf_set(errbuf, errlen, "%s %zu missing: want %s", what, i + 1, want->v[i]);
			return true;
		}
		if (i >= want->n) {
			errbuf_set(errbuf, errlen, "%s %zu unexpected: %s", what, i + 1, have->v[i]);
			return true;
		}
		if (strcmp(have->v[i], want->v[i]) != 0) {
			diff_describe(what, i + 1, have->v[i], want->v[i], errbuf, errlen);
			return true;
		}
	}
	return false;
}

/* Elements are a set: compare sorted, report the first missing one (that is what breaks a
 * workload's traffic), else the first unexpected one, with the counts of both. */
static bool elems_diff(struct strlist *have, struct strlist *want, char *errbuf, size_t errlen)
{
	const char *missing = NULL, *unexpected = NULL;
	size_t n_missing = 0, n_unexpected = 0, i = 0, j = 0;

	strlist_sort_unique(have);
	strlist_sort_unique(want);
	while (i < have->n || j < want->n) {
		int c = i >= have->n ? 1 : j >= want->n ? -1 : strcmp(have->v[i], want->v[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c > 0) {
			if (n_missing++ == 0)
				missing = want->v[j];
			j++;
		} else {
			if (n_unexpected++ == 0)
				unexpected = have->v[i];
			i++;
		}
	}
	if (missing)
		errbuf_set(errbuf, errlen, "element missing: %s (%zu missing, %zu unexpected)", missing, n_missing,
			   n_unexpected);
	else if (unexpected)
		errbuf_set(errbuf, errlen, "element unexpected: %s (%zu unexpected)", unexpected, n_unexpected);
	return missing || unexpected;
}

int fw_check(const struct fw_config *c, char *errbuf, size_t errlen)
{
	struct fw_state have = { 0 }, want = { 0 };
	int err;

	err = state_expected(c, &want);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "build expected tables %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	err = state_read(&have);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "read tables inet and bridge %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	err = FW_CHECK_DIFFERS;
	if (!have.inet.present) {
		errbuf_set(errbuf, errlen, "table inet %s is missing", FW_TABLE);
		err = FW_CHECK_ABSENT;
	} else if (lists_diff("chain", &have.inet.chains, &want.inet.chains, errbuf, errlen) ||
		   lists_diff("rule", &have.inet.rules, &want.inet.rules, errbuf, errlen)) {
		/* errbuf says what */
	} else if (want.bridge.present && !have.bridge.present) {
		errbuf_set(errbuf, errlen, "table bridge %s is missing", FW_TABLE);
	} else if (!want.bridge.present && have.bridge.present) {
		errbuf_set(errbuf, errlen, "table bridge %s exists but antispoof is off", FW_TABLE);
	} else if (want.bridge.present &&
		   (lists_diff("bridge set", &have.bridge.sets, &want.bridge.sets, errbuf, errlen) ||
		    lists_diff("bridge chain", &have.bridge.chains, &want.bridge.chains, errbuf, errlen) ||
		    lists_diff("bridge rule", &have.bridge.rules, &want.bridge.rules, errbuf, errlen) ||
		    elems_diff(&have.elems, &want.elems, errbuf, errlen))) {
		/* errbuf says what */
	} else {
		errbuf_set(errbuf, errlen, "%s in sync", want.bridge.present ? "tables inet and bridge shoal are" :
			   "table inet shoal is");
		err = FW_CHECK_IN_SYNC;
	}
out:
	state_clear(&have);
	state_clear(&want);
	return err;
}
