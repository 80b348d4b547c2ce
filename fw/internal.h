/* Shared by the files of fw/ (fw.c, batch.c, describe.c, check.c, forward.c); not part of the fw
 * API.
 *
 *   batch.c     the nftables batch writer and the rule-expression toolkit
 *   fw.c        what goes into our tables, the fw_batch_build*() builders, sending and acks
 *   describe.c  naming a message of a batch (fw_batch_describe()) and parsing it back
 *   check.c     reading our tables back from the kernel and comparing them (fw_check())
 *   forward.c   our accepts in someone else's chain (iptables-nft's ip filter FORWARD) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "fw/fw.h"

struct mnl_socket;
struct nftnl_rule;

/* libnftnl's builders write without a length check, so every message is first built in a scratch
 * buffer this big and then copied into the caller's buffer only if it fits.  Our largest message
 * is a set element message of FW_ELEMS_PER_MSG elements, about 2.6 KiB (a rule is at most about
 * 600 bytes); a future builder that could exceed this must split its work into several messages,
 * as the elements do. */
#define FW_MSG_MAX 4096

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

/* Receive buffer for the kernel's answers to a batch and for dumps. */
#define FW_RECV_SIZE   32768

/* fw.c: errbuf = the formatted text; nothing when errbuf is NULL or errlen 0. */
void fw_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- batch.c: the batch writer ------------------------------------------------------------------ */

/* Messages appended to the caller's buffer; every one is numbered and counted. */
struct fw_batch {
	char *buf;
	size_t cap, len;
	uint32_t seq;       /* seq of the next message */
};

union fw_scratch {
	struct nlmsghdr align;
	char buf[FW_MSG_MAX];
};

/* Each returns 0, -ENOBUFS when the message does not fit into b (nothing is written), -ENOMEM, or
 * -EMSGSIZE when a message outgrew FW_MSG_MAX (a bug). */
int fw_batch_begin(struct fw_batch *b);
/* BEGIN carrying NFNL_BATCH_GENID = genid (none when 0): the kernel then refuses the whole batch
 * with ERESTART when the ruleset is no longer that generation. */
int fw_batch_begin_genid(struct fw_batch *b, uint32_t genid);
int fw_batch_end(struct fw_batch *b);
int fw_batch_table(struct fw_batch *b, uint16_t family, uint16_t type, uint16_t flags);
/* add + delete: valid whether or not the table exists; drops every chain, rule and set in it. */
int fw_batch_table_delete(struct fw_batch *b, uint16_t family);
int fw_batch_base_chain(struct fw_batch *b, uint16_t family, const char *name, const char *type, uint32_t hook,
                        int32_t prio);
/* A named set of table bridge shoal with a concatenated key (a plain hash); id names it for the
 * rules of the same batch. */
int fw_batch_set(struct fw_batch *b, const char *name, uint32_t key_type, uint32_t key_len, uint32_t id);

/* The two sets of table bridge shoal and their keys: ifname . MAC, ifname . MAC . IPv4. */
enum fw_set_kind { FW_SET_KIND_MAC, FW_SET_KIND_IP4 };
/* NEWSETELEM/DELSETELEM (type) of the elements of w[0..n) for set k, as many messages as needed. */
int fw_batch_elems(struct fw_batch *b, uint16_t type, enum fw_set_kind k, const struct fw_workload *w, size_t n);

/* A rule appended to chain of table family shoal; fill adds its expressions and comment. */
typedef int (*fw_rule_filler)(struct nftnl_rule *r, const void *arg);
int fw_batch_rule(struct fw_batch *b, uint16_t family, const char *chain, fw_rule_filler fill, const void *arg);
/* The type message (NFT_MSG_NEWRULE, NFT_MSG_DELRULE) for r as it is, in r's family; flags are
 * ORed with NLM_F_ACK.  For rules in tables that are not ours (forward.c). */
int fw_batch_rule_msg(struct fw_batch *b, uint16_t type, uint16_t flags, struct nftnl_rule *r);

/* ---- batch.c: rule expressions (each returns 0 or -ENOMEM) ------------------------------------ */

int fw_expr_meta_load(struct nftnl_rule *r, uint32_t key);   /* to reg 1 */
int fw_expr_cmp(struct nftnl_rule *r, enum nft_cmp_ops op, const void *data, uint32_t len);   /* reg 1 */
int fw_expr_payload_load_reg(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len,
                             uint32_t dreg);
int fw_expr_payload_load(struct nftnl_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len);
/* `ip saddr|daddr [!=] prefix` for the IPv4 address at offset of the network header. */
int fw_expr_ip_prefix(struct nftnl_rule *r, uint32_t offset, enum nft_cmp_ops op, const struct cidr4 *p);
/* reg 1 = reg 1 & mask_be (4 bytes, network order). */
int fw_expr_mask4(struct nftnl_rule *r, uint32_t mask_be);
int fw_expr_masq(struct nftnl_rule *r);
/* `KEY != @set`: the key starts in reg 1 and spans the registers loaded before. */
int fw_expr_lookup_not_in(struct nftnl_rule *r, const char *set);
int fw_expr_counter(struct nftnl_rule *r);
int fw_expr_verdict(struct nftnl_rule *r, uint32_t verdict);   /* NF_DROP, NF_ACCEPT */
/* Returns 0, -ENOMEM, or -EINVAL for a comment too long. */
int fw_rule_set_comment(struct nftnl_rule *r, const char *comment);

/* ---- describe.c: reading messages back ------------------------------------------------------- */

/* Write what the message nlh is into out ("add rule ...").  fw_describe_seq() finds the message
 * numbered seq in a batch and names it: "batch" (BEGIN), "commit" (END), otherwise fn's text;
 * 0, or -ENOENT when no message has that seq (out gets "batch"), -EINVAL without out. */
typedef void (*fw_msg_describer)(const struct nlmsghdr *nlh, char *out, size_t outlen);
int fw_describe_seq(const void *buf, size_t len, uint32_t seq, fw_msg_describer fn, char *out, size_t outlen);

/* The rule's comment (borrowed from r), or NULL. */
const char *fw_rule_comment(const struct nftnl_rule *r);
/* "shv0123456789ab . 02:00:00:00:00:01[ . 10.244.3.2]", as nft writes our keys; other lengths
 * in hex (not ours). */
void fw_key_render(const uint8_t *key, uint32_t len, char *out, size_t outlen);
/* Call fn with the set name and key of every element of a NEWSETELEM/DELSETELEM message.
 * Returns 0, fn's first error, or -EINVAL when the message does not parse. */
typedef int (*fw_elem_fn)(const char *set, const uint8_t *key, uint32_t len, void *arg);
int fw_elems_for_each(const struct nlmsghdr *nlh, fw_elem_fn fn, void *arg);

/* ---- fw.c: talking to the kernel --------------------------------------------------------------- */

/* A NETLINK_NETFILTER socket, bound, with extended and capped ACKs when the kernel has them. */
int fw_sock_open(struct mnl_socket **ret);
/* Wait up to FW_TIMEOUT_MS for a datagram and read it; returns its length or -errno. */
ssize_t fw_sock_recv(struct mnl_socket *nl, void *buf, size_t len);
/* Send the batch on nl and wait for every answer, reading into rbuf (FW_RECV_SIZE bytes).  Returns
 * 0 or the first error; errbuf then names the failed message with describe (fw_batch_describe,
 * fw_forward_batch_describe) and adds the kernel's extended-ACK text. */
typedef int (*fw_batch_describer)(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen);
int fw_sock_send_batch(struct mnl_socket *nl, void *rbuf, const void *batch, size_t len, fw_batch_describer describe,
                       char *errbuf, size_t errlen);

/* The signature of fw_batch_build(); fw_build_alloc() builds with it into a heap buffer that grows
 * until the batch fits (*ret_buf is the caller's to free). */
typedef int (*fw_batch_builder)(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len);
int fw_build_alloc(fw_batch_builder build, const struct fw_config *c, uint32_t seq, char **ret_buf, size_t *ret_len);
