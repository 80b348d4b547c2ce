/* fw: build, send and check the batch that owns `inet shoal`.  See fw.h and docs/fw.md. */
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
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

/* libnftnl's builders write without a length check, so every message is first built in a scratch
 * buffer this big and then copied into the caller's buffer only if it fits.  Our largest message
 * (the masquerade rule with a bridge exemption) is about 600 bytes; a future builder that could
 * exceed this must split its work into several messages. */
#define FW_MSG_MAX 4096

#define FW_RULE_COMMENT_MASQ "shoal: masquerade pod traffic leaving the cluster network"

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

int fw_config_validate(const struct fw_config *c)
{
	struct cidr4 net, sub;

	if (!c)
		return -EINVAL;
	if (c->bridge && strlen(c->bridge) >= IFNAMSIZ)
		return -EINVAL;
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

static int batch_table(struct batch *b, uint16_t type, uint16_t flags)
{
	union scratch s;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int r;

	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	r = nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	if (r < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nlh = nftnl_nlmsg_build_hdr(s.buf, type, NFPROTO_INET, flags | NLM_F_ACK, b->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return batch_put(b, nlh);
}

static int batch_base_chain(struct batch *b, const char *name, const char *type, uint32_t hook, int32_t prio)
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
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, prio);
	/* Explicit, so the chain never depends on the kernel's default. */
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftnl_nlmsg_build_hdr(s.buf, NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, b->seq);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	return batch_put(b, nlh);
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

static int expr_payload_load(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return expr_add(r, e);
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

static int rule_masquerade_fill(struct nftnl_rule *r, const struct fw_config *c)
{
	static const uint8_t nfproto_ipv4 = NFPROTO_IPV4;
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

static int batch_rule_masquerade(struct batch *b, const struct fw_config *c)
{
	union scratch s;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	int err;

	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, FW_CHAIN_POSTROUTING) < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = rule_masquerade_fill(r, c);
	if (err < 0)
		goto out;
	nlh = nftnl_nlmsg_build_hdr(s.buf, NFT_MSG_NEWRULE, NFPROTO_INET,
				    NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, b->seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	err = batch_put(b, nlh);
out:
	nftnl_rule_free(r);
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
	 * applies the whole batch or nothing, so packets never see a half-built table. */
	err = batch_begin(&b);
	if (err >= 0)
		err = batch_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0)
		err = batch_table(&b, NFT_MSG_DELTABLE, 0);
	if (err >= 0)
		err = batch_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0 && c->masquerade) {
		err = batch_base_chain(&b, FW_CHAIN_POSTROUTING, "nat", NF_INET_POST_ROUTING, FW_PRIO_SRCNAT);
		if (err >= 0)
			err = batch_rule_masquerade(&b, c);
	}
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
		err = batch_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0)
		err = batch_table(&b, NFT_MSG_DELTABLE, 0);
	if (err >= 0)
		err = batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
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

static void describe_msg(const struct nlmsghdr *nlh, char *out, size_t outlen)
{
	uint16_t type = nlh->nlmsg_type;
	struct nftnl_chain *ch;
	struct nftnl_rule *r;

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
		snprintf(out, outlen, "add table inet %s", FW_TABLE);
		return;
	case NFT_MSG_DELTABLE:
		snprintf(out, outlen, "delete table inet %s", FW_TABLE);
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
		errbuf_set(errbuf, errlen, "build batch to %s table inet %s: %s", what, FW_TABLE, strerror(-err));
		return err;
	}
	err = send_batch(batch, len, errbuf, errlen);
	free(batch);
	return err;
}

int fw_apply(const struct fw_config *c, char *errbuf, size_t errlen)
{
	return build_and_send(fw_batch_build, c, "replace", errbuf, errlen);
}

int fw_remove(char *errbuf, size_t errlen)
{
	return build_and_send(build_remove, NULL, "delete", errbuf, errlen);
}

/* ---- reading back ----------------------------------------------------------------------------- */

/* Objects are compared as canonical one-line texts, so a difference can be shown as it is. */
struct strlist {
	char **v;
	size_t n;
};

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strlist_push(struct strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

struct fw_state {
	bool table;
	struct strlist chains, rules;
	int err;
};

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
 * (counter, limit, quota) render their state too: strip it here before we start using them. */
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
		nftnl_expr_snprintf(ebuf, sizeof(ebuf), e, NFTNL_OUTPUT_DEFAULT, 0);
		pos += (size_t)snprintf(out + pos, outlen - pos, " [ %s %s]", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), ebuf);
	}
	nftnl_expr_iter_destroy(it);
	comment = rule_comment(r);
	if (comment && pos < outlen)
		snprintf(out + pos, outlen - pos, " comment \"%s\"", comment);
	return 0;
}

static int state_add_msg(struct fw_state *st, const struct nlmsghdr *nlh)
{
	char line[2048];
	int err = 0;

	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (!t)
			return -ENOMEM;
		if (nftnl_table_nlmsg_parse(nlh, t) >= 0 &&
		    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET &&
		    nftnl_table_is_set(t, NFTNL_TABLE_NAME) &&
		    strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), FW_TABLE) == 0)
			st->table = true;
		nftnl_table_free(t);
		return 0;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (!ch)
			return -ENOMEM;
		if (nftnl_chain_nlmsg_parse(nlh, ch) >= 0 &&
		    nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY) == NFPROTO_INET &&
		    nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) && nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME) &&
		    strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), FW_TABLE) == 0) {
			chain_render(ch, line, sizeof(line));
			err = strlist_push(&st->chains, line);
		}
		nftnl_chain_free(ch);
		return err;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		if (nftnl_rule_nlmsg_parse(nlh, r) >= 0 &&
		    nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == NFPROTO_INET &&
		    nftnl_rule_is_set(r, NFTNL_RULE_TABLE) && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) &&
		    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), FW_TABLE) == 0) {
			err = rule_render(r, line, sizeof(line));
			if (err >= 0)
				err = strlist_push(&st->rules, line);
		}
		nftnl_rule_free(r);
		return err;
	}
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

/* Dump one object kind of family inet into st.  The kernel filters chains and rules by table when
 * the request names one; state_add_msg() filters again for kernels that do not. */
static int dump(struct mnl_socket *nl, uint16_t type, uint32_t seq, struct fw_state *st, char *rbuf)
{
	union scratch s;
	struct nlmsghdr *nlh;
	uint32_t portid = mnl_socket_get_portid(nl);
	int r;

	nlh = nftnl_nlmsg_build_hdr(s.buf, type, NFPROTO_INET, NLM_F_DUMP, seq);
	if (type == NFT_MSG_GETCHAIN)
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, FW_TABLE);
	else if (type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, FW_TABLE);
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

static int state_read(struct fw_state *st)
{
	static const uint16_t types[] = { NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE };
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
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && err >= 0; i++)
			err = dump(nl, types[i], seq++, st, rbuf);
		mnl_socket_close(nl);
		if (err != -EINTR)
			break;
		/* The ruleset changed during a dump: start over. */
		st->table = false;
		strlist_clear(&st->chains);
		strlist_clear(&st->rules);
		st->err = 0;
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
	st->table = true;
	rest = (int)len;
	for (nlh = (const struct nlmsghdr *)batch; mnl_nlmsg_ok(nlh, rest) && err >= 0; nlh = mnl_nlmsg_next(nlh, &rest)) {
		uint16_t t = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END &&
		    (t == NFT_MSG_NEWCHAIN || t == NFT_MSG_NEWRULE))
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

int fw_check(const struct fw_config *c, char *errbuf, size_t errlen)
{
	struct fw_state have = { 0 }, want = { 0 };
	int err;

	err = state_expected(c, &want);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "build expected table inet %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	err = state_read(&have);
	if (err < 0) {
		errbuf_set(errbuf, errlen, "read table inet %s: %s", FW_TABLE, strerror(-err));
		goto out;
	}
	if (!have.table) {
		errbuf_set(errbuf, errlen, "table inet %s is missing", FW_TABLE);
		err = FW_CHECK_ABSENT;
	} else if (lists_diff("chain", &have.chains, &want.chains, errbuf, errlen) ||
		   lists_diff("rule", &have.rules, &want.rules, errbuf, errlen)) {
		err = FW_CHECK_DIFFERS;
	} else {
		errbuf_set(errbuf, errlen, "table inet %s is in sync", FW_TABLE);
		err = FW_CHECK_IN_SYNC;
	}
out:
	strlist_clear(&have.chains);
	strlist_clear(&have.rules);
	strlist_clear(&want.chains);
	strlist_clear(&want.rules);
	return err;
}
