/* fw/forward: detect a FORWARD drop policy in someone else's table and, opt-in, add our two
 * accepts to iptables-nft's `ip filter FORWARD`.  See forward.h and docs/fw.md. */
#include "fw/forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netlink.h>

#include "fw/internal.h"   /* the batch writer, expressions, socket and sending shared with fw.c */

/* Room per message in our batch buffer: a rule of ours is about 250 bytes, a delete about 100. */
#define FWD_BATCH_MSG_ROOM 512
#define FWD_ATTEMPTS    10
/* Offsets of the addresses in struct iphdr. */
#define FWD_OFF_SADDR   12
#define FWD_OFF_DADDR   16

static const char *family_name(uint32_t family)
{
	switch (family) {
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_BRIDGE: return "bridge";
	default: return "?";
	}
}

static bool is_iptables_forward(uint32_t family, const char *table, const char *chain)
{
	return family == NFPROTO_IPV4 && strcmp(table, FW_FORWARD_TABLE) == 0 && strcmp(chain, FW_FORWARD_CHAIN) == 0;
}

/* ---- chains ------------------------------------------------------------------------------------ */

/* Append "FAMILY TABLE CHAIN" to st->other; a list that does not fit ends in "...". */
static void other_append(struct fw_forward_state *st, uint32_t family, const char *table, const char *chain)
{
	size_t used = strlen(st->other), cap = sizeof(st->other);
	int n;

	if (used >= 3 && strcmp(st->other + used - 3, "...") == 0)
		return;
	n = snprintf(st->other + used, cap - used, "%s%s %s %s", used ? ", " : "", family_name(family), table, chain);
	if (n < 0 || (size_t)n >= cap - used)
		memcpy(st->other + cap - 4, "...", 4);
}

int fw_forward_state_add_chain(struct fw_forward_state *st, const struct nlmsghdr *nlh)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	const char *table, *name;
	uint32_t family;
	bool drop;
	int err = 0;

	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, ch) < 0 || !nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) ||
	    !nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME)) {
		err = -EPROTO;
		goto out;
	}
	/* Regular chains have no hook; only base chains decide a packet's fate by policy. */
	if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM) != NF_INET_FORWARD)
		goto out;
	family = nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY);
	table = nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
	drop = nftnl_chain_is_set(ch, NFTNL_CHAIN_POLICY) && nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) == NF_DROP;
	if (is_iptables_forward(family, table, name)) {
		st->iptables_forward = true;
		st->iptables_forward_drop = drop;
	} else if (drop && (family == NFPROTO_IPV4 || family == NFPROTO_INET)) {
		other_append(st, family, table, name);
	}
out:
	nftnl_chain_free(ch);
	return err;
}

/* ---- rules: build ------------------------------------------------------------------------------ */

/* `-s|-d NETWORK -j ACCEPT` exactly as iptables-nft 1.8.9 encodes it (add_addr() in
 * iptables/nft-ipv4.c, checked with `nft --debug=netlink`): a byte-aligned prefix loads only its
 * bytes and compares them (10.244.0.0/16: load 2b, cmp 0x0000f40a), any other loads 4 bytes,
 * masks and compares; then counter, accept.  The same encoding makes `iptables -S` list the rule
 * as `-s 10.244.0.0/16 ... -j ACCEPT` and `iptables -D` with the same arguments match it.  Hence
 * not fw_expr_ip_prefix(), which always loads 4 bytes (and masks unless /32), as nft does. */
static int rule_fill(struct nftnl_rule *r, enum fw_forward_dir dir, const struct cidr4 *net)
{
	uint32_t mask = cidr4_mask(net->len);
	uint32_t addr_be = htonl(net->addr & mask);
	uint32_t len = net->len % 8 == 0 ? net->len / 8u : 4u;
	uint32_t off = dir == FW_FORWARD_SADDR ? FWD_OFF_SADDR : FWD_OFF_DADDR;
	int err;

	err = fw_expr_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
	if (err >= 0 && net->len % 8 != 0)
		err = fw_expr_mask4(r, htonl(mask));
	if (err >= 0)
		err = fw_expr_cmp(r, NFT_CMP_EQ, &addr_be, len);   /* the first len bytes */
	if (err >= 0)
		err = fw_expr_counter(r);
	if (err >= 0)
		err = fw_expr_verdict(r, NF_ACCEPT);
	/* nft's own comment encoding; iptables-nft shows it as `-m comment --comment "..."`. */
	if (err >= 0)
		err = fw_rule_set_comment(r, FW_FORWARD_COMMENT);
	return err;
}

/* ---- rules: parse ------------------------------------------------------------------------------ */

static bool has_our_comment(const struct nftnl_rule *r)
{
	const char *comment = fw_rule_comment(r);

	return comment && strcmp(comment, FW_FORWARD_COMMENT) == 0;
}

static bool u32_is(const struct nftnl_expr *e, uint16_t attr, uint32_t want)
{
	return nftnl_expr_is_set(e, attr) && nftnl_expr_get_u32(e, attr) == want;
}

/* The bytes of a data attribute when it is exactly len long, else NULL. */
static const uint8_t *data_of(const struct nftnl_expr *e, uint16_t attr, uint32_t len)
{
	const void *d;
	uint32_t got = 0;

	if (!nftnl_expr_is_set(e, attr))
		return NULL;
	d = nftnl_expr_get(e, attr, &got);
	return d && got == len ? d : NULL;
}

/* What the expressions of an accept of ours say, filled in as they are walked. */
struct rule_match {
	int step;               /* 0 payload, 1 bitwise or cmp, 2 comment match or counter,
				 * 3 accept, 4 done; -1 not ours */
	uint32_t off, len;
	bool masked;
	uint32_t mask_be;
	uint32_t addr_be;
	bool xt_comment;        /* an xt comment match carrying our comment */
};

/* iptables-save | iptables-restore (netfilter-persistent at boot, for one) writes our udata
 * comment back as `-m comment`, which iptables-nft encodes as an xt "comment" match between the
 * compare and the counter.  Such a rule is still ours: otherwise allow would add a twin that
 * `iptables -S` shows identically, and remove would leave the restored one behind. */
static bool is_our_xt_comment(const struct nftnl_expr *e)
{
	const struct xt_comment_info *info;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
	uint32_t len = 0;

	if (!name || strcmp(name, "comment") != 0 || !u32_is(e, NFTNL_EXPR_MT_REV, 0))
		return false;
	info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
	return info && len >= sizeof(*info) && memchr(info->comment, '\0', sizeof(info->comment)) &&
	       strcmp(info->comment, FW_FORWARD_COMMENT) == 0;
}

static int match_cb(struct nftnl_expr *e, void *data)
{
	struct rule_match *m = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const uint8_t *d;

	if (m->step < 0 || !name)
		goto no;
	if (m->step == 0 && strcmp(name, "payload") == 0) {
		if (!u32_is(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER) ||
		    !u32_is(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1) || nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG))
			goto no;
		m->off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
		m->len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
		if ((m->off != FWD_OFF_SADDR && m->off != FWD_OFF_DADDR) || m->len < 1 || m->len > 4)
			goto no;
		m->step = 1;
	} else if (m->step == 1 && !m->masked && strcmp(name, "bitwise") == 0) {
		/* Only the mask-and-xor kind with xor 0, over the whole 4-byte address. */
		if (m->len != 4 || !u32_is(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1) ||
		    !u32_is(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1) || !u32_is(e, NFTNL_EXPR_BITWISE_LEN, 4) ||
		    (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) && !u32_is(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL)))
			goto no;
		d = data_of(e, NFTNL_EXPR_BITWISE_XOR, 4);
		if (!d || d[0] | d[1] | d[2] | d[3])
			goto no;
		d = data_of(e, NFTNL_EXPR_BITWISE_MASK, 4);
		if (!d)
			goto no;
		memcpy(&m->mask_be, d, 4);
		m->masked = true;
	} else if (m->step == 1 && strcmp(name, "cmp") == 0) {
		if (!u32_is(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1) || !u32_is(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ))
			goto no;
		d = data_of(e, NFTNL_EXPR_CMP_DATA, m->len);
		if (!d)
			goto no;
		m->addr_be = 0;
		memcpy(&m->addr_be, d, m->len);
		m->step = 2;
	} else if (m->step == 2 && !m->xt_comment && strcmp(name, "match") == 0) {
		if (!is_our_xt_comment(e))
			goto no;
		m->xt_comment = true;
	} else if (m->step == 2 && strcmp(name, "counter") == 0) {
		m->step = 3;
	} else if (m->step == 3 && strcmp(name, "immediate") == 0) {
		if (!u32_is(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT) || !u32_is(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT) ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
			goto no;
		m->step = 4;
	} else {
		goto no;
	}
	return 0;
no:
	m->step = -1;
	return 0;
}

/* The prefix the match compares with, or -1 when it is no prefix (a mask with holes, or host bits
 * in the compared address: iptables never writes those, and neither do we). */
static int match_prefix(const struct rule_match *m, struct cidr4 *ret)
{
	uint32_t addr = ntohl(m->addr_be), mask;
	uint8_t len;

	if (m->masked) {
		mask = ntohl(m->mask_be);
		len = (uint8_t)__builtin_popcount(mask);
		if (mask != cidr4_mask(len))
			return -1;
	} else {
		len = (uint8_t)(m->len * 8);
		mask = cidr4_mask(len);
	}
	if (len == 0 || (addr & ~mask) != 0)
		return -1;
	ret->addr = addr;
	ret->len = len;
	return 0;
}

int fw_forward_rule_parse(const struct nlmsghdr *nlh, struct fw_forward_rule *ret_rule)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule_match m = { 0 };
	struct fw_forward_rule out = { 0 };
	int res = 0;

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 || !nftnl_rule_is_set(r, NFTNL_RULE_TABLE) ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN)) {
		res = -EPROTO;
		goto out;
	}
	if (!is_iptables_forward(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
	                         nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)))
		goto out;
	nftnl_expr_foreach(r, match_cb, &m);
	if (m.step != 4 || match_prefix(&m, &out.network) < 0 || !(m.xt_comment || has_our_comment(r)))
		goto out;
	out.dir = m.off == FWD_OFF_SADDR ? FW_FORWARD_SADDR : FW_FORWARD_DADDR;
	if (nftnl_rule_is_set(r, NFTNL_RULE_HANDLE))
		out.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	*ret_rule = out;
	res = 1;
out:
	nftnl_rule_free(r);
	return res;
}

/* ---- plan -------------------------------------------------------------------------------------- */

static bool same_prefix(const struct cidr4 *a, const struct cidr4 *b)
{
	return a->len == b->len && (a->addr & cidr4_mask(a->len)) == (b->addr & cidr4_mask(b->len));
}

int fw_forward_plan_make(bool allow, const struct cidr4 *network, const struct fw_forward_rule *have,
                         size_t n_have, struct fw_forward_plan *ret_plan)
{
	struct fw_forward_plan p = { 0 };
	bool kept[2] = { false, false };

	if ((allow && (!network || network->len == 0 || network->len > 32)) || n_have > FW_FORWARD_MAX_OURS ||
	    (n_have > 0 && !have))
		return -EINVAL;
	if (network)
		p.network = (struct cidr4){ network->addr & cidr4_mask(network->len), network->len };
	for (size_t i = 0; i < n_have; i++) {
		const struct fw_forward_rule *r = &have[i];
		bool match = network && same_prefix(&r->network, &p.network);

		if (allow && match && !kept[r->dir]) {
			kept[r->dir] = true;
			continue;
		}
		if (allow || !network || match)
			p.del[p.n_del++] = r->handle;
	}
	p.add[FW_FORWARD_SADDR] = allow && !kept[FW_FORWARD_SADDR];
	p.add[FW_FORWARD_DADDR] = allow && !kept[FW_FORWARD_DADDR];
	*ret_plan = p;
	return 0;
}

bool fw_forward_plan_empty(const struct fw_forward_plan *p)
{
	return !p->add[0] && !p->add[1] && p->n_del == 0;
}

/* ---- batch ------------------------------------------------------------------------------------- */

static int batch_rule(struct fw_batch *b, uint16_t type, enum fw_forward_dir dir, const struct cidr4 *net,
                      uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	int err = 0;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_FORWARD_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, FW_FORWARD_CHAIN) < 0)
		err = -ENOMEM;
	else if (type == NFT_MSG_NEWRULE)
		err = rule_fill(r, dir, net);
	else
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	if (err >= 0)
		err = fw_batch_rule_msg(b, type, type == NFT_MSG_NEWRULE ? NLM_F_CREATE | NLM_F_APPEND : 0, r);
	nftnl_rule_free(r);
	return err;
}

int fw_forward_batch_build(const struct fw_forward_plan *p, uint32_t genid, void *buf, size_t buflen,
                           uint32_t seq, size_t *ret_len)
{
	struct fw_batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	if (!p || p->n_del > FW_FORWARD_MAX_OURS)
		return -EINVAL;
	/* With genid, the kernel refuses the whole batch with ERESTART when the ruleset is no longer
	 * the generation we read: our plan was made from that reading. */
	err = fw_batch_begin_genid(&b, genid);
	for (size_t i = 0; i < p->n_del && err >= 0; i++)
		err = batch_rule(&b, NFT_MSG_DELRULE, FW_FORWARD_SADDR, NULL, p->del[i]);
	for (int d = FW_FORWARD_SADDR; d <= FW_FORWARD_DADDR && err >= 0; d++)
		if (p->add[d])
			err = batch_rule(&b, NFT_MSG_NEWRULE, (enum fw_forward_dir)d, &p->network, 0);
	if (err >= 0)
		err = fw_batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

static void describe_msg(const struct nlmsghdr *nlh, char *out, size_t outlen)
{
	struct fw_forward_rule fr;
	struct nftnl_rule *r;
	char net[CIDR4_STRLEN];

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE && fw_forward_rule_parse(nlh, &fr) == 1) {
		snprintf(out, outlen, "add rule ip %s %s %s %s -j ACCEPT", FW_FORWARD_TABLE, FW_FORWARD_CHAIN,
			 fr.dir == FW_FORWARD_SADDR ? "-s" : "-d", cidr4_format(&fr.network, net));
	} else if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_DELRULE) {
		r = nftnl_rule_alloc();
		if (r && nftnl_rule_nlmsg_parse(nlh, r) >= 0 && nftnl_rule_is_set(r, NFTNL_RULE_HANDLE))
			snprintf(out, outlen, "delete rule ip %s %s handle %llu", FW_FORWARD_TABLE, FW_FORWARD_CHAIN,
				 (unsigned long long)nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE));
		else
			snprintf(out, outlen, "delete rule ip %s %s", FW_FORWARD_TABLE, FW_FORWARD_CHAIN);
		nftnl_rule_free(r);
	} else {
		snprintf(out, outlen, "nftables message %u", NFNL_MSG_TYPE(nlh->nlmsg_type));
	}
}

int fw_forward_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen)
{
	return fw_describe_seq(buf, len, seq, describe_msg, out, outlen);
}

/* ---- kernel ------------------------------------------------------------------------------------ */

struct conn {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char *rbuf;
};

static void conn_close(struct conn *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->rbuf);
	c->nl = NULL;
	c->rbuf = NULL;
}

static int conn_open(struct conn *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->rbuf = malloc(FW_RECV_SIZE);
	if (!c->rbuf)
		return -ENOMEM;
	err = fw_sock_open(&c->nl);
	if (err < 0) {
		conn_close(c);
		return err;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	return 0;
}

struct request {
	int (*fn)(const struct nlmsghdr *nlh, void *arg);   /* 0 or -errno */
	void *arg;
	int err;
};

static int request_cb(const struct nlmsghdr *nlh, void *data)
{
	struct request *q = data;
	int err = q->fn(nlh, q->arg);

	if (err < 0) {
		q->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Send a GET (a dump when table/chain filter it, or GETGEN with an ACK) and feed every answer to
 * fn until the end.  -EINTR when the dump was interrupted by a change (NLM_F_DUMP_INTR): the
 * caller reads again. */
static int request(struct conn *c, uint16_t type, uint16_t family, const char *table, const char *chain,
                   int (*fn)(const struct nlmsghdr *nlh, void *arg), void *arg)
{
	struct request q = { fn, arg, 0 };
	uint32_t seq = c->seq++;
	union fw_scratch s = { .buf = { 0 } };
	struct nlmsghdr *nlh;
	int r;

	nlh = nftnl_nlmsg_build_hdr(s.buf, type, family, type == NFT_MSG_GETGEN ? NLM_F_ACK : NLM_F_DUMP, seq);
	if (table)
		mnl_attr_put_strz(nlh, type == NFT_MSG_GETRULE ? NFTA_RULE_TABLE : NFTA_CHAIN_TABLE, table);
	if (chain)
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = fw_sock_recv(c->nl, c->rbuf, FW_RECV_SIZE);

		if (n < 0)
			return (int)n;
		r = mnl_cb_run(c->rbuf, (size_t)n, seq, c->portid, request_cb, &q);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		return q.err < 0 ? q.err : -errno;
	return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_gen *g;
	int err = -EPROTO;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
		return 0;
	g = nftnl_gen_alloc();
	if (!g)
		return -ENOMEM;
	if (nftnl_gen_nlmsg_parse(nlh, g) >= 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID)) {
		*(uint32_t *)arg = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
		err = 0;
	}
	nftnl_gen_free(g);
	return err;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	return NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWCHAIN ? fw_forward_state_add_chain(arg, nlh) : 0;
}

struct ours {
	struct fw_forward_rule v[FW_FORWARD_MAX_OURS];
	size_t n;
};

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ours *o = arg;
	struct fw_forward_rule r;
	int res;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return 0;
	res = fw_forward_rule_parse(nlh, &r);
	if (res <= 0)
		return res;
	if (o->n >= FW_FORWARD_MAX_OURS)
		return -E2BIG;
	o->v[o->n++] = r;
	return 0;
}

/* Our rules in ip filter FORWARD; the kernel filters the dump by table and chain, rule_cb()
 * checks again. */
static int read_ours(struct conn *c, struct ours *o)
{
	o->n = 0;
	return request(c, NFT_MSG_GETRULE, NFPROTO_IPV4, FW_FORWARD_TABLE, FW_FORWARD_CHAIN, rule_cb, o);
}

/* 1 when bridge-nf-call-iptables is 1, 0 when 0 or br_netfilter is not loaded (no file). */
static int read_br_netfilter(void)
{
	char c = '0';
	int fd = open(FW_FORWARD_BRNF, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = read(fd, &c, 1) < 0 ? -errno : 0;
	close(fd);
	return err < 0 ? err : c == '1';
}

static int probe_once(struct conn *c, struct fw_forward_state *st)
{
	struct ours *o;
	int err;

	memset(st, 0, sizeof(*st));
	err = request(c, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NULL, NULL, chain_cb, st);
	if (err >= 0)
		err = request(c, NFT_MSG_GETCHAIN, NFPROTO_INET, NULL, NULL, chain_cb, st);
	if (err < 0 || !st->iptables_forward)
		return err;
	o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	err = read_ours(c, o);
	/* The chain vanished between the two dumps: read again. */
	if (err == -ENOENT)
		err = -EINTR;
	st->ours = (unsigned)o->n;
	free(o);
	return err;
}

int fw_forward_probe(struct fw_forward_state *ret, char *errbuf, size_t errlen)
{
	struct fw_forward_state st;
	struct conn c;
	int err, brnf;

	err = conn_open(&c);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "open netfilter netlink socket: %s", strerror(-err));
		return err;
	}
	for (int attempt = 0; attempt < FWD_ATTEMPTS; attempt++) {
		err = probe_once(&c, &st);
		if (err != -EINTR)
			break;
	}
	conn_close(&c);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "list forward chains: %s", strerror(-err));
		return err;
	}
	brnf = read_br_netfilter();
	if (brnf < 0) {
		fw_errbuf_set(errbuf, errlen, "read %s: %s", FW_FORWARD_BRNF, strerror(-brnf));
		return brnf;
	}
	st.br_netfilter = brnf == 1;
	*ret = st;
	return 0;
}

/* One read-plan-write round: -EINTR or -ERESTART when the ruleset changed under us. */
static int sync_once(struct conn *c, bool allow, const struct cidr4 *network, struct ours *o, char *errbuf,
                     size_t errlen)
{
	union { struct nlmsghdr align; char buf[(FW_FORWARD_MAX_OURS + 4) * FWD_BATCH_MSG_ROOM]; } *batch;
	struct fw_forward_state st = { 0 };
	struct fw_forward_plan plan;
	uint32_t genid = 0;
	size_t len = 0;
	int err;

	err = request(c, NFT_MSG_GETGEN, AF_UNSPEC, NULL, NULL, gen_cb, &genid);
	if (err >= 0)
		err = request(c, NFT_MSG_GETCHAIN, NFPROTO_IPV4, FW_FORWARD_TABLE, NULL, chain_cb, &st);
	if (err >= 0 && !st.iptables_forward)
		return allow ? -ENOENT : 0;
	if (err >= 0)
		err = read_ours(c, o);
	if (err == -ENOENT)
		return -EINTR;   /* the chain went between the dumps: read again */
	if (err == -E2BIG) {
		fw_errbuf_set(errbuf, errlen, "more than %d rules in ip %s %s carry our comment \"%s\"",
			   FW_FORWARD_MAX_OURS, FW_FORWARD_TABLE, FW_FORWARD_CHAIN, FW_FORWARD_COMMENT);
		return err;
	}
	if (err < 0) {
		if (err != -EINTR)
			fw_errbuf_set(errbuf, errlen, "list ip %s %s: %s", FW_FORWARD_TABLE, FW_FORWARD_CHAIN, strerror(-err));
		return err;
	}
	err = fw_forward_plan_make(allow, network, o->v, o->n, &plan);
	if (err < 0 || fw_forward_plan_empty(&plan))
		return err;
	batch = malloc(sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	err = fw_forward_batch_build(&plan, genid, batch->buf, sizeof(batch->buf), c->seq, &len);
	if (err >= 0) {
		c->seq += (uint32_t)(plan.n_del + 4);
		err = fw_sock_send_batch(c->nl, c->rbuf, batch->buf, len, fw_forward_batch_describe, errbuf, errlen);
		/* A rule or the chain went after we read them (a kernel without NFNL_BATCH_GENID
		 * says so instead of ERESTART): read again. */
		if (err == -ENOENT)
			err = -EINTR;
	} else {
		fw_errbuf_set(errbuf, errlen, "build batch: %s", strerror(-err));
	}
	free(batch);
	return err;
}

static int forward_sync(bool allow, const struct cidr4 *network, char *errbuf, size_t errlen)
{
	char net[CIDR4_STRLEN] = "any network";
	struct ours *o;
	struct conn c;
	int err;

	if (network)
		cidr4_format(network, net);
	if (allow && (!network || network->len == 0 || network->len > 32)) {
		fw_errbuf_set(errbuf, errlen, "accept rules for %s: refusing a network that matches everything", net);
		return -EINVAL;
	}
	o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	err = conn_open(&c);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "open netfilter netlink socket: %s", strerror(-err));
		free(o);
		return err;
	}
	for (int attempt = 0; attempt < FWD_ATTEMPTS; attempt++) {
		err = sync_once(&c, allow, network, o, errbuf, errlen);
		if (err != -EINTR && err != -ERESTART)
			break;
		/* An aborted dump or batch may leave answers behind: a fresh socket. */
		conn_close(&c);
		err = conn_open(&c);
		if (err < 0)
			break;
		err = -ERESTART;
	}
	conn_close(&c);
	free(o);
	if (err == -ENOENT && allow)
		fw_errbuf_set(errbuf, errlen, "chain ip %s %s does not exist: nothing to override", FW_FORWARD_TABLE,
			   FW_FORWARD_CHAIN);
	else if (err == -EINTR || err == -ERESTART)
		fw_errbuf_set(errbuf, errlen, "ip %s %s kept changing while we read it (%d attempts)", FW_FORWARD_TABLE,
			   FW_FORWARD_CHAIN, FWD_ATTEMPTS);
	return err;
}

int fw_forward_allow(const struct cidr4 *network, char *errbuf, size_t errlen)
{
	return forward_sync(true, network, errbuf, errlen);
}

int fw_forward_remove(const struct cidr4 *network, char *errbuf, size_t errlen)
{
	return forward_sync(false, network, errbuf, errlen);
}
