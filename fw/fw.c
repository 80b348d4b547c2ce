/* fw: what goes into `inet shoal` and `bridge shoal`, the batches that put it there, and sending
 * them to the kernel.  See fw.h and docs/fw.md; the batch writer is batch.c, naming a message
 * describe.c, reading the tables back check.c. */
#include "fw/fw.h"
#include "fw/internal.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_bridge.h>
#include <linux/netlink.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#define FW_RULE_COMMENT_MASQ "shoal: masquerade pod traffic leaving the cluster network"
#define FW_RULE_COMMENT_MAC  "shoal: antispoof: source MAC is not the workload's"
#define FW_RULE_COMMENT_IP4  "shoal: antispoof: IPv4 source is not the workload's"
#define FW_RULE_COMMENT_ARP  "shoal: antispoof: ARP sender is not the workload's"
#define FW_RULE_COMMENT_ETH  "shoal: antispoof: ethertype other than ip, arp, ip6"

/* Set ids name the sets created in the same batch (NFTA_SET_ID). */
#define FW_SET_ID_MAC     1
#define FW_SET_ID_IP4     2

void fw_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
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

/* ---- masquerade rule (table inet shoal) -------------------------------------------------- */

static int rule_masquerade_fill(struct nftnl_rule *r, const void *arg)
{
	static const uint8_t nfproto_ipv4 = NFPROTO_IPV4;
	const struct fw_config *c = arg;
	int err;

	/* The inet family sees IPv6 too: the nfproto test guards the IPv4 header offsets. */
	err = fw_expr_meta_load(r, NFT_META_NFPROTO);
	if (err >= 0)
		err = fw_expr_cmp(r, NFT_CMP_EQ, &nfproto_ipv4, sizeof(nfproto_ipv4));
	if (err >= 0)
		err = fw_expr_ip_prefix(r, 12, NFT_CMP_EQ, &c->subnet);    /* iphdr.saddr */
	if (err >= 0)
		err = fw_expr_ip_prefix(r, 16, NFT_CMP_NEQ, &c->network);  /* iphdr.daddr */
	if (err >= 0 && c->bridge && c->bridge[0]) {
		/* oifname rather than oif: works before the bridge exists and across its re-creation.
		 * The kernel compares all IFNAMSIZ bytes, NUL padded, like `nft oifname "x"`. */
		char name[IFNAMSIZ] = { 0 };

		memcpy(name, c->bridge, strlen(c->bridge));
		err = fw_expr_meta_load(r, NFT_META_OIFNAME);
		if (err >= 0)
			err = fw_expr_cmp(r, NFT_CMP_NEQ, name, sizeof(name));
	}
	if (err >= 0)
		err = fw_expr_masq(r);
	if (err >= 0)
		err = fw_rule_set_comment(r, FW_RULE_COMMENT_MASQ);
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
	int err = fw_expr_meta_load(r, NFT_META_IIFNAME);

	if (err >= 0)
		err = fw_expr_cmp(r, NFT_CMP_EQ, FW_ANTISPOOF_IFPREFIX, sizeof(FW_ANTISPOOF_IFPREFIX) - 1);
	return err;
}

static int expr_ethertype(struct nftnl_rule *r, enum nft_cmp_ops op, uint16_t type)
{
	uint16_t type_be = htons(type);

	return fw_expr_cmp(r, op, &type_be, sizeof(type_be));
}

/* iifname . SHA [. SPA] loaded from the given offsets into the key registers. */
static int expr_key(struct nftnl_rule *r, enum nft_payload_bases mac_base, uint32_t mac_off, bool with_ip,
                    enum nft_payload_bases ip_base, uint32_t ip_off)
{
	int err = fw_expr_meta_load(r, NFT_META_IIFNAME);

	if (err >= 0)
		err = fw_expr_payload_load_reg(r, mac_base, mac_off, ETH_ALEN, NFT_REG_2);
	if (err >= 0 && with_ip)
		err = fw_expr_payload_load_reg(r, ip_base, ip_off, sizeof(uint32_t), NFT_REG32_06);
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
			err = fw_expr_lookup_not_in(r, FW_SET_ALLOW_MAC);
		comment = FW_RULE_COMMENT_MAC;
		break;
	case AS_IP4:   /* ether saddr . ip saddr */
		if (err >= 0)
			err = fw_expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_EQ, ETHERTYPE_IP);
		if (err >= 0)
			err = expr_key(r, NFT_PAYLOAD_LL_HEADER, 6, true, NFT_PAYLOAD_NETWORK_HEADER, 12);
		if (err >= 0)
			err = fw_expr_lookup_not_in(r, FW_SET_ALLOW_IP4);
		comment = FW_RULE_COMMENT_IP4;
		break;
	case AS_ARP:   /* Ethernet/IPv4 ARP: sender hardware address at 8, sender IP at 14 */
		if (err >= 0)
			err = fw_expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		if (err >= 0)
			err = expr_ethertype(r, NFT_CMP_EQ, ETHERTYPE_ARP);
		if (err >= 0)
			err = expr_key(r, NFT_PAYLOAD_NETWORK_HEADER, 8, true, NFT_PAYLOAD_NETWORK_HEADER, 14);
		if (err >= 0)
			err = fw_expr_lookup_not_in(r, FW_SET_ALLOW_IP4);
		comment = FW_RULE_COMMENT_ARP;
		break;
	case AS_ETHERTYPE:
		/* A VLAN tag (in the frame or offloaded: the payload expression rebuilds it) or any
		 * other protocol could carry headers the rules above never look at.  Three compares
		 * on one load rather than an anonymous set: as cheap, and nothing more to create
		 * and compare in fw_check(). */
		if (err >= 0)
			err = fw_expr_payload_load(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
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
		err = fw_expr_counter(r);
	if (err >= 0)
		err = fw_expr_verdict(r, NF_DROP);
	if (err >= 0)
		err = fw_rule_set_comment(r, comment);
	return err;
}

/* ---- batches ----------------------------------------------------------------------------- */

/* table bridge shoal: sets, every workload's elements, then the chain and its rules. */
static int batch_antispoof(struct fw_batch *b, const struct fw_config *c)
{
	static const enum fw_antispoof_rule rules[] = { AS_MAC, AS_IP4, AS_ARP, AS_ETHERTYPE };
	int err;

	err = fw_batch_table(b, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0)
		err = fw_batch_set(b, FW_SET_ALLOW_MAC, FW_KEY_MAC_TYPE, FW_KEY_MAC_LEN, FW_SET_ID_MAC);
	if (err >= 0)
		err = fw_batch_set(b, FW_SET_ALLOW_IP4, FW_KEY_IP4_TYPE, FW_KEY_IP4_LEN, FW_SET_ID_IP4);
	if (err >= 0)
		err = fw_batch_elems(b, NFT_MSG_NEWSETELEM, FW_SET_KIND_MAC, c->workloads, c->n_workloads);
	if (err >= 0)
		err = fw_batch_elems(b, NFT_MSG_NEWSETELEM, FW_SET_KIND_IP4, c->workloads, c->n_workloads);
	if (err >= 0)
		err = fw_batch_base_chain(b, NFPROTO_BRIDGE, FW_CHAIN_PREROUTING, "filter", NF_BR_PRE_ROUTING,
				       FW_PRIO_BRIDGE_FILTER);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && err >= 0; i++)
		err = fw_batch_rule(b, NFPROTO_BRIDGE, FW_CHAIN_PREROUTING, rule_antispoof_fill, &rules[i]);
	return err;
}

int fw_batch_build(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	struct fw_batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = fw_config_validate(c);
	if (err < 0)
		return err;
	/* add + delete + add: the first add makes the delete valid whether or not the table exists,
	 * the delete drops every chain, rule and set in it, the second add starts empty.  The kernel
	 * applies the whole batch or nothing, so packets never see a half-built table.  Both tables
	 * are in the same batch: one transaction, never masquerade without anti-spoofing. */
	err = fw_batch_begin(&b);
	if (err >= 0)
		err = fw_batch_table_delete(&b, NFPROTO_INET);
	if (err >= 0)
		err = fw_batch_table(&b, NFPROTO_INET, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (err >= 0 && c->masquerade) {
		err = fw_batch_base_chain(&b, NFPROTO_INET, FW_CHAIN_POSTROUTING, "nat", NF_INET_POST_ROUTING,
				       FW_PRIO_SRCNAT);
		if (err >= 0)
			err = fw_batch_rule(&b, NFPROTO_INET, FW_CHAIN_POSTROUTING, rule_masquerade_fill, c);
	}
	/* Deleted also without antispoof: a table left from an earlier config must not keep
	 * dropping traffic.  Creating and deleting a table works on kernels without the bridge
	 * family (only its chains need it), so this costs nothing there. */
	if (err >= 0)
		err = fw_batch_table_delete(&b, NFPROTO_BRIDGE);
	if (err >= 0 && c->antispoof)
		err = batch_antispoof(&b, c);
	if (err >= 0)
		err = fw_batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

int fw_batch_build_remove(void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	struct fw_batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = fw_batch_begin(&b);
	if (err >= 0)
		err = fw_batch_table_delete(&b, NFPROTO_INET);
	if (err >= 0)
		err = fw_batch_table_delete(&b, NFPROTO_BRIDGE);
	if (err >= 0)
		err = fw_batch_end(&b);
	if (err < 0)
		return err;
	*ret_len = b.len;
	return 0;
}

static int build_workload(const struct fw_workload *w, bool add, void *buf, size_t buflen, uint32_t seq,
                          size_t *ret_len)
{
	struct fw_batch b = { .buf = buf, .cap = buf ? buflen : 0, .seq = seq };
	int err;

	err = fw_workload_validate(w);
	if (err < 0)
		return err;
	err = fw_batch_begin(&b);
	/* The adds also precede the deletes of a DEL: they make the deletes succeed whether or not
	 * the elements existed (a DELSETELEM of an absent element fails with ENOENT). */
	if (err >= 0)
		err = fw_batch_elems(&b, NFT_MSG_NEWSETELEM, FW_SET_KIND_MAC, w, 1);
	if (err >= 0)
		err = fw_batch_elems(&b, NFT_MSG_NEWSETELEM, FW_SET_KIND_IP4, w, 1);
	if (err >= 0 && !add)
		err = fw_batch_elems(&b, NFT_MSG_DELSETELEM, FW_SET_KIND_MAC, w, 1);
	if (err >= 0 && !add)
		err = fw_batch_elems(&b, NFT_MSG_DELSETELEM, FW_SET_KIND_IP4, w, 1);
	if (err >= 0)
		err = fw_batch_end(&b);
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

#define FW_TIMEOUT_MS  5000
/* An answer costs about this much of the socket's receive buffer (the skb around a capped
 * nlmsgerr); the default buffer (~200 KiB) holds a few hundred. */
#define FW_ACK_TRUESIZE         1024
#define FW_ACKS_IN_DEFAULT_RCVBUF  128
/* Well below the default send buffer (net.core.wmem_default, ~200 KiB). */
#define FW_BATCH_DEFAULT_SNDBUF    (64 * 1024)

int fw_sock_open(struct mnl_socket **ret)
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
ssize_t fw_sock_recv(struct mnl_socket *nl, void *buf, size_t len)
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

int fw_sock_send_batch(struct mnl_socket *nl, void *rbuf, const void *batch, size_t len, fw_batch_describer describe,
                       char *errbuf, size_t errlen)
{
	struct fw_acks a;
	char what[192];
	int err;

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
		fw_errbuf_set(errbuf, errlen, "send batch of %zu bytes: %s", len, strerror(-err));
		return err;
	}
	while (!fw_acks_done(&a)) {
		ssize_t n = fw_sock_recv(nl, rbuf, FW_RECV_SIZE);

		if (n < 0) {
			/* The batch may or may not have been applied; fw_check() will tell. */
			err = (int)n;
			fw_errbuf_set(errbuf, errlen, "wait for kernel answer (%u of %u): %s",
				   a.answered, a.expected, strerror(-err));
			return err;
		}
		err = fw_acks_feed(&a, rbuf, (size_t)n);
		if (err < 0) {
			fw_errbuf_set(errbuf, errlen, "malformed kernel answer");
			return err;
		}
	}
	err = a.error;
	if (err < 0) {
		describe(batch, len, a.error_seq, what, sizeof(what));
		fw_errbuf_set(errbuf, errlen, "%s: %s%s%s", what, strerror(-err),
			   a.extack[0] ? ": " : "", a.extack);
	}
	return err;
}

/* A batch of ours on a socket of its own. */
static int send_batch(const void *batch, size_t len, char *errbuf, size_t errlen)
{
	struct mnl_socket *nl = NULL;
	char *rbuf;
	int err;

	err = fw_sock_open(&nl);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "open netfilter netlink socket: %s", strerror(-err));
		return err;
	}
	rbuf = malloc(FW_RECV_SIZE);
	if (rbuf) {
		err = fw_sock_send_batch(nl, rbuf, batch, len, fw_batch_describe, errbuf, errlen);
	} else {
		err = -ENOMEM;
		fw_errbuf_set(errbuf, errlen, "send batch: %s", strerror(-err));
	}
	free(rbuf);
	mnl_socket_close(nl);
	return err;
}

static int build_remove(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len)
{
	return fw_batch_build_remove(buf, buflen, seq, ret_len);
}

/* Build into a heap buffer that grows until the batch fits. */
int fw_build_alloc(fw_batch_builder build, const struct fw_config *c, uint32_t seq, char **ret_buf, size_t *ret_len)
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
static int build_and_send(fw_batch_builder build, const struct fw_config *c, const char *what, char *errbuf,
                          size_t errlen)
{
	char *batch = NULL;
	size_t len = 0;
	int err;

	err = fw_build_alloc(build, c, (uint32_t)time(NULL), &batch, &len);
	if (err < 0) {
		fw_errbuf_set(errbuf, errlen, "build batch to %s: %s", what, strerror(-err));
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
		fw_errbuf_set(errbuf, errlen, "build batch to add workload %s: %s",
			   w && fw_workload_validate(w) >= 0 ? w->ifname : "(invalid)", strerror(-err));
		return err;
	}
	err = send_batch(batch.buf, len, errbuf, errlen);
	if (err == -ENOENT)
		/* Name the likely cause: the message alone ("add element ...: No such file or
		 * directory") does not say that it is the set or table that is missing. */
		fw_errbuf_set(errbuf, errlen, "add elements of %s: table bridge %s or its sets missing: %s", w->ifname,
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
		fw_errbuf_set(errbuf, errlen, "build batch to delete workload %s: %s",
			   w && fw_workload_validate(w) >= 0 ? w->ifname : "(invalid)", strerror(-err));
		return err;
	}
	err = send_batch(batch.buf, len, errbuf, errlen);
	/* The batch adds before it deletes, so the only ENOENT left is a missing set or table:
	 * then the elements are absent too, which is what DEL wants. */
	if (err == -ENOENT) {
		fw_errbuf_set(errbuf, errlen, "table bridge %s or its sets absent: nothing to delete", FW_TABLE);
		err = 0;
	}
	return err;
}
