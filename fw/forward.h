/* fw/forward: someone else's FORWARD drop policy, detected and (opt-in) overridden.
 *
 * Docker sets iptables' `filter FORWARD` policy to DROP; with br_netfilter's
 * bridge-nf-call-iptables=1 (kubeadm hosts) even frames bridged between two pods of one bridge
 * pass that chain.  A packet must be accepted by every base chain on a hook, so an accept in our
 * own table cannot override a drop in another table: the only fix short of changing the policy
 * is an accept rule in the dropping chain itself, which is what flannel does.
 *
 *   fw_forward_probe()   reads `ip filter FORWARD` (iptables-nft), every other ip/inet base chain
 *                        on the forward hook with policy drop, and bridge-nf-call-iptables.
 *   fw_forward_allow()   makes our rules in `ip filter FORWARD` exactly
 *                            -A FORWARD -s NETWORK -m comment --comment FW_FORWARD_COMMENT -j ACCEPT
 *                            -A FORWARD -d NETWORK -m comment --comment FW_FORWARD_COMMENT -j ACCEPT
 *                        (appended, in iptables-nft's own encoding, so `iptables -S` shows them)
 *   fw_forward_remove()  deletes our rules and nothing else.
 *
 * "Ours" is a rule whose nftables comment (udata, what iptables shows as `-m comment`) is exactly
 * FW_FORWARD_COMMENT AND whose expressions are exactly such an accept: a rule an operator copied
 * with another comment, or our comment on another rule, is never touched.  After an
 * iptables-save | iptables-restore the comment comes back as an xt comment match; that rule is
 * still ours.  Changes are one batch
 * that carries the generation id of the ruleset we read, so a concurrent change (iptables, nft,
 * iptables-restore) makes the kernel refuse it and we read again: no duplicates, no deletion of a
 * rule that moved.  libnftnl + libmnl only; see docs/fw.md "Someone else's FORWARD policy". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"

struct nlmsghdr;

#define FW_FORWARD_TABLE    "filter"    /* iptables-nft's table ip filter */
#define FW_FORWARD_CHAIN    "FORWARD"
#define FW_FORWARD_COMMENT  "shoal: accept cluster network traffic"
#define FW_FORWARD_BRNF     "/proc/sys/net/bridge/bridge-nf-call-iptables"
#define FW_FORWARD_MAX_OURS 32          /* more rules carrying our comment: -E2BIG */

struct fw_forward_state {
	bool iptables_forward;       /* ip filter FORWARD exists, a base chain on the forward hook */
	bool iptables_forward_drop;  /* ... and its policy is drop */
	bool br_netfilter;           /* bridge-nf-call-iptables is 1 (false: 0, or module not loaded) */
	unsigned ours;               /* our accept rules in ip filter FORWARD, for any network */
	/* Other ip/inet base chains on the forward hook with policy drop, "FAMILY TABLE CHAIN"
	 * separated by ", " ("inet mine forward, ip fw fwd"); "" when none; ends in "..." when cut. */
	char other[256];
};

enum fw_forward_dir { FW_FORWARD_SADDR = 0, FW_FORWARD_DADDR = 1 };

/* One of our accept rules: `-s NETWORK -j ACCEPT` (SADDR) or `-d NETWORK -j ACCEPT` (DADDR). */
struct fw_forward_rule {
	enum fw_forward_dir dir;
	struct cidr4 network;
	uint64_t handle;             /* the kernel's rule handle; 0 in a rule still to be added */
};

/* What one fw_forward_allow()/fw_forward_remove() changes: rules to append, handles to delete. */
struct fw_forward_plan {
	bool add[2];                 /* indexed by enum fw_forward_dir */
	struct cidr4 network;        /* what the added rules match */
	uint64_t del[FW_FORWARD_MAX_OURS];
	size_t n_del;
};

/* ---- pure functions (no kernel; unit tested) ---- */

/* Fold one NFT_MSG_NEWCHAIN message (a dump answer) into st: sets iptables_forward(_drop) for
 * `ip filter FORWARD` on the forward hook, appends other ip/inet forward-hook chains with policy
 * drop to st->other; ignores everything else.  0, or -EPROTO for a malformed message. */
int fw_forward_state_add_chain(struct fw_forward_state *st, const struct nlmsghdr *nlh);

/* Parse one NFT_MSG_NEWRULE message.  Returns 1 and *ret_rule when it is one of ours (family ip,
 * table filter, chain FORWARD, our comment as udata or as an xt comment match, expressions exactly
 * an accept of saddr/daddr in a prefix: iptables-nft's short form for byte-aligned prefixes or the
 * 4-byte load + mask form of older iptables-nft), 0 when it is not ours, -EPROTO when malformed. */
int fw_forward_rule_parse(const struct nlmsghdr *nlh, struct fw_forward_rule *ret_rule);

/* Decide, from our rules found in the chain (have):
 *   allow:  keep the first rule of each direction for *network, add the missing ones, delete the
 *           rest (duplicates, other networks, e.g. after the cluster network changed);
 *   !allow: delete every rule for *network, or every rule in have when network is NULL.
 * -EINVAL for a missing or /0 network with allow (it would accept everything), or
 * n_have > FW_FORWARD_MAX_OURS. */
int fw_forward_plan_make(bool allow, const struct cidr4 *network, const struct fw_forward_rule *have,
                         size_t n_have, struct fw_forward_plan *ret_plan);
bool fw_forward_plan_empty(const struct fw_forward_plan *p);

/* The batch for p: BEGIN (with NFNL_BATCH_GENID = genid unless 0), one DELRULE per handle, then
 * the NEWRULEs (NLM_F_APPEND), END; every message between BEGIN and END asks for an ACK.
 * Messages are numbered seq, seq+1, ...  0 and *ret_len; -ENOBUFS when buflen is too small
 * (nothing written past buflen); -ENOMEM. */
int fw_forward_batch_build(const struct fw_forward_plan *p, uint32_t genid, void *buf, size_t buflen,
                           uint32_t seq, size_t *ret_len);

/* "delete rule ip filter FORWARD handle 7", "add rule ip filter FORWARD -s 10.244.0.0/16 -j ACCEPT",
 * "batch" (BEGIN or no such seq), "commit" (END), for errors.  0 or -ENOENT. */
int fw_forward_batch_describe(const void *buf, size_t len, uint32_t seq, char *out, size_t outlen);

/* ---- kernel (current network namespace) ---- */

/* Fill *ret (also when nothing drops: all false, other ""); -errno when the kernel could not be
 * asked (errbuf says what; nfnetlink wants CAP_NET_ADMIN even for reading, shoald has it). */
int fw_forward_probe(struct fw_forward_state *ret, char *errbuf, size_t errlen);

/* Make our rules in ip filter FORWARD exactly the two accepts for *network (appended; stale ones
 * of ours for another network or duplicates are deleted in the same batch).  0 also when they
 * were already there (nothing is sent).  -ENOENT when ip filter FORWARD does not exist (nothing
 * to override; nothing is created), -EINVAL for a /0 network, other -errno from the kernel. */
int fw_forward_allow(const struct cidr4 *network, char *errbuf, size_t errlen);

/* Delete our rules for *network, or every rule of ours when network is NULL.  0 also when there
 * were none or the chain does not exist.  Rules of others are never touched. */
int fw_forward_remove(const struct cidr4 *network, char *errbuf, size_t errlen);
