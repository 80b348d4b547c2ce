/* fw: the nftables tables shoald owns, `inet shoal` and (with anti-spoofing) `bridge shoal`.
 *
 * The caller describes the whole desired content in a struct fw_config; fw_apply() turns it into
 * ONE nftables batch that replaces both tables atomically (add table, delete table, add table,
 * sets, elements, chains, rules) in the caller's current network namespace.  Nothing outside our
 * tables is ever read-modified, flushed or deleted.  Talks libnftnl + libmnl directly; no `nft`
 * binary.
 *
 * Content today (see docs/fw.md):
 *   table inet shoal
 *     chain postrouting  type nat hook postrouting priority srcnat (100); policy accept
 *       meta nfproto ipv4 ip saddr SUBNET ip daddr != NETWORK [oifname != BRIDGE] masquerade
 *   table bridge shoal                       only with antispoof
 *     set allow_mac  ifname . ether_addr                one element per workload
 *     set allow_ip4  ifname . ether_addr . ipv4_addr    one element per workload
 *     chain prerouting  type filter hook prerouting priority -200; policy accept
 *       iifname "shv*" iifname . ether saddr != @allow_mac counter drop
 *       iifname "shv*" ether type ip iifname . ether saddr . ip saddr != @allow_ip4 counter drop
 *       iifname "shv*" ether type arp iifname . arp sha . arp spa != @allow_ip4 counter drop
 *       iifname "shv*" ether type != ip, arp, ip6 counter drop
 * The nat chain only exists when masquerade is on: a nat base chain turns conntrack on for the
 * whole namespace, which costs every packet something for nothing when there is no rule in it.
 * Anti-spoofing needs the bridge family: frames bridged between two ports of one bridge never
 * reach the inet hooks (no br_netfilter).  Its cost per packet is a hash lookup keyed by the
 * input port, independent of the number of workloads.
 *
 * Between full applies, fw_workload_add()/fw_workload_del() change one workload's elements in a
 * batch of their own (CNI ADD/DEL); fw_check() compares both tables and the elements with a
 * config, so reconcile repairs whatever went missing. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"

#define FW_TABLE             "shoal"
#define FW_CHAIN_POSTROUTING "postrouting"
#define FW_PRIO_SRCNAT       100   /* NF_IP_PRI_NAT_SRC, what `nft` calls "srcnat" */
#define FW_CHAIN_PREROUTING  "prerouting"   /* in table bridge shoal */
#define FW_PRIO_BRIDGE_FILTER (-200)        /* NF_BR_PRI_FILTER_BRIDGED, nft's bridge "filter" */
#define FW_SET_ALLOW_MAC     "allow_mac"
#define FW_SET_ALLOW_IP4     "allow_ip4"
#define FW_ANTISPOOF_IFPREFIX "shv"         /* lib/names.h HOST_VETH_PREFIX: only these ports */

/* One workload's host-side port and the addresses it may send from. */
struct fw_workload {
	char ifname[16];        /* host veth, NUL terminated (IFNAMSIZ) */
	uint8_t mac[6];         /* the workload's own MAC (container side of the veth) */
	uint32_t addr;          /* IPv4, host byte order */
};

struct fw_config {
	struct cidr4 network;   /* the cluster network, e.g. 10.244.0.0/16 (host bits ignored) */
	struct cidr4 subnet;    /* this host's pod subnet, e.g. 10.244.3.0/24; inside network */
	bool masquerade;        /* SNAT pod traffic to destinations outside network */
	const char *bridge;     /* NULL/"": no exemption; else traffic leaving via it is not NATed */
	bool antispoof;         /* table bridge shoal; false: no bridge table (a stale one is removed) */
	const struct fw_workload *workloads;   /* borrowed; the allowed (port, MAC, IPv4) triples */
	size_t n_workloads;
};

/* 0 when the config can be turned into a batch, -EINVAL otherwise (network /0, subnet not inside
 * network, bridge name empty-but-set is fine, longer than 15 bytes is not; with antispoof, a
 * workload whose ifname is empty or not NUL terminated, or n_workloads > 0 without workloads). */
int fw_config_validate(const struct fw_config *c);

/* 0 when w can become set elements: ifname of 1..15 bytes, NUL terminated; -EINVAL otherwise. */
int fw_workload_validate(const struct fw_workload *w);

/* Pure fill function: write the complete batch that makes `inet shoal` and `bridge shoal` equal
 * to c into buf (the bridge table is deleted, and not re-created, when c->antispoof is false).
 * Messages are numbered seq (BATCH_BEGIN), seq+1, ... up to the BATCH_END; every message between
 * them carries NLM_F_ACK, so the kernel answers each one.  Returns 0 and *ret_len, -ENOBUFS when
 * buflen is too small (nothing is written past buflen), -EINVAL for a bad config, -ENOMEM. */
int fw_batch_build(const struct fw_config *c, void *buf, size_t buflen, uint32_t seq, size_t *ret_len);

/* The batch behind fw_remove(): BEGIN, add+delete table inet shoal, add+delete table bridge
 * shoal, END.  The add makes the delete succeed whether or not the table existed, in the same
 * transaction. */
int fw_batch_build_remove(void *buf, size_t buflen, uint32_t seq, size_t *ret_len);

/* The batch behind fw_workload_add(): BEGIN, add w's element to allow_mac, add w's element to
 * allow_ip4, END.  Adding an element that exists is not an error (no NLM_F_EXCL). */
int fw_batch_build_workload_add(const struct fw_workload *w, void *buf, size_t buflen, uint32_t seq,
                                size_t *ret_len);

/* The batch behind fw_workload_del(): BEGIN, add both elements, delete both elements, END.  The
 * adds make the deletes succeed whether or not the elements existed, in the same transaction. */
int fw_batch_build_workload_del(const struct fw_workload *w, void *buf, size_t buflen, uint32_t seq,
                                size_t *ret_len);

/* Describe the message numbered seq in a batch built above, for error messages:
 * "add table inet shoal", "add chain postrouting", "add rule postrouting \"comment\"",
 * "add set allow_mac", "add element allow_ip4 shv0123456789ab . 02:00:00:00:00:01 . 10.244.3.2",
 * "add 64 elements to allow_mac".
 * Returns 0, or -ENOENT when no message has that seq (out gets "batch"). */
int fw_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen);

/* Replace `inet shoal` and `bridge shoal` with the content of c in the current network namespace.  On failure returns
 * -errno and writes e.g. "add rule postrouting \"...\": Operation not supported" to errbuf
 * (errbuf may be NULL); the kernel then has applied nothing. */
int fw_apply(const struct fw_config *c, char *errbuf, size_t errlen);

/* Delete `inet shoal` and `bridge shoal` from the current network namespace; 0 also when they
 * were absent. */
int fw_remove(char *errbuf, size_t errlen);

/* Allow w's (port, MAC, IPv4) in table bridge shoal: one batch, one round trip.  0 also when the
 * elements exist; -ENOENT when the table or its sets are missing (errbuf says so: reconcile's
 * fw_apply() re-creates them with every workload). */
int fw_workload_add(const struct fw_workload *w, char *errbuf, size_t errlen);

/* Remove w's elements (the same w as added: the keys are the whole triple): one batch.  0 also
 * when the elements, the sets or the table are absent. */
int fw_workload_del(const struct fw_workload *w, char *errbuf, size_t errlen);

/* Compare the kernel's `inet shoal` and `bridge shoal` with what fw_apply(c) would create
 * (chains: type, hook, priority, policy; rules in order, expression by expression, and their
 * comments; sets: key type and length; set elements against c->workloads, in any order).
 * Returns FW_CHECK_IN_SYNC, FW_CHECK_ABSENT (inet shoal missing) or FW_CHECK_DIFFERS (errbuf
 * says what differs: a missing bridge table, a missing or unexpected element, a stale bridge
 * table with antispoof off, ...), or -errno when the kernel could not be asked.  Reconcile calls
 * fw_apply() on anything but IN_SYNC. */
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
