/* fw: the one nftables table shoald owns, `inet shoal`.
 *
 * The caller describes the whole desired content in a struct fw_config; fw_apply() turns it into
 * ONE nftables batch that replaces the table atomically (add table, delete table, add table,
 * chains, rules) in the caller's current network namespace.  Nothing outside our table is ever
 * read-modified, flushed or deleted.  Talks libnftnl + libmnl directly; no `nft` binary.
 *
 * Content today (see docs/fw.md):
 *   table inet shoal
 *     chain postrouting  type nat hook postrouting priority srcnat (100); policy accept
 *       meta nfproto ipv4 ip saddr SUBNET ip daddr != NETWORK [oifname != BRIDGE] masquerade
 * The chain only exists when masquerade is on: a nat base chain turns conntrack on for the whole
 * namespace, which costs every packet something for nothing when there is no rule in it.
 *
 * Later additions (policy chains, `meta priority set` maps) are new fields in struct fw_config
 * and new parts of fw_batch_build(); fw_apply()/fw_check() do not change. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"

#define FW_TABLE             "shoal"
#define FW_CHAIN_POSTROUTING "postrouting"
#define FW_PRIO_SRCNAT       100   /* NF_IP_PRI_NAT_SRC, what `nft` calls "srcnat" */

struct fw_config {
	struct cidr4 network;   /* the cluster network, e.g. 10.244.0.0/16 (host bits ignored) */
	struct cidr4 subnet;    /* this host's pod subnet, e.g. 10.244.3.0/24; inside network */
	bool masquerade;        /* SNAT pod traffic to destinations outside network */
	const char *bridge;     /* NULL/"": no exemption; else traffic leaving via it is not NATed */
};

/* 0 when the config can be turned into a batch, -EINVAL otherwise (network /0, subnet not inside
 * network, bridge name empty-but-set is fine, longer than 15 bytes is not). */
int fw_config_validate(const struct fw_config *c);

/* Pure fill function: write the complete batch that makes `inet shoal` equal to c into buf.
 * Messages are numbered seq (BATCH_BEGIN), seq+1, ... up to the BATCH_END; every message between
 * them carries NLM_F_ACK, so the kernel answers each one.  Returns 0 and *ret_len, -ENOBUFS when
 * buflen is too small (nothing is written past buflen), -EINVAL for a bad config, -ENOMEM. */
int fw_batch_build(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len);

/* The batch behind fw_remove(): BEGIN, add table, delete table, END.  The add makes the delete
 * succeed whether or not the table existed, in the same transaction. */
int fw_batch_build_remove(void *buf, size_t buflen, uint32_t seq, size_t *ret_len);

/* Describe the message numbered seq in a batch built above, for error messages:
 * "add table inet shoal", "add chain postrouting", "add rule postrouting \"comment\"".
 * Returns 0, or -ENOENT when no message has that seq (out gets "batch"). */
int fw_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen);

/* Replace `inet shoal` with the content of c in the current network namespace.  On failure returns
 * -errno and writes e.g. "add rule postrouting \"...\": Operation not supported" to errbuf
 * (errbuf may be NULL); the kernel then has applied nothing. */
int fw_apply(const struct fw_config *c, char *errbuf, size_t errlen);

/* Delete `inet shoal` from the current network namespace; 0 also when it was absent. */
int fw_remove(char *errbuf, size_t errlen);

/* Compare the kernel's `inet shoal` with what fw_apply(c) would create (chains: type, hook,
 * priority, policy; rules in order, expression by expression, and their comments).  Returns
 * FW_CHECK_IN_SYNC, FW_CHECK_ABSENT or FW_CHECK_DIFFERS (errbuf says what differs), or -errno
 * when the kernel could not be asked.  Reconcile calls fw_apply() on anything but IN_SYNC. */
enum fw_check_result { FW_CHECK_IN_SYNC = 0, FW_CHECK_ABSENT = 1, FW_CHECK_DIFFERS = 2 };
int fw_check(const struct fw_config *c, char *errbuf, size_t errlen);

/* Lower level, used by fw_apply() and exposed for unit tests: collects the kernel's answers to a
 * batch.  fw_acks_init() with the batch's first seq and message count (BEGIN..END inclusive),
 * then fw_acks_feed() every datagram received; done once every acked message was answered or an
 * error arrived. */
struct fw_acks {
	uint32_t seq_first, seq_last;
	unsigned expected;      /* messages carrying NLM_F_ACK */
	unsigned answered;
	int error;              /* first kernel error, negative errno, 0 if none */
	uint32_t error_seq;
	char extack[128];       /* kernel's extended-ACK text for that error, may be empty */
};
void fw_acks_init(struct fw_acks *a, const void *batch, size_t len);
/* Returns 0, or -EPROTO for a malformed datagram. */
int fw_acks_feed(struct fw_acks *a, const void *buf, size_t len);
bool fw_acks_done(const struct fw_acks *a);
