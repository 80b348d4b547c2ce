/* rtnetlink traffic-control messages: pure builders (fill a caller's buffer, never write past it)
 * and parsers that mirror them, for the few tc objects shoal uses: an HTB qdisc and its classes,
 * bfifo leaves, clsact, u32 filters that pick a class or redirect with mirred, and cls_bpf filters
 * that run a loaded program (and, in classic mode, redirect with mirred on a match).
 *
 * Builders return the message length, -ENOBUFS when buflen is too small (nothing is written past
 * buflen), or -EINVAL for a value the kernel would refuse.  Every request asks for an ACK.
 *
 * Units are the kernel's: rates in BYTES per second (struct tc_ratespec), burst times in psched
 * ticks (see tc/htb.h for the conversion), queue limits in bytes (bfifo) or packets (direct_qlen). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* "maj:min" handles as tc prints them, both hexadecimal. */
#define TCMSG_HANDLE(maj, min) ((uint32_t)(maj) << 16 | (uint32_t)(uint16_t)(min))
#define TCMSG_MAJOR(h) ((uint32_t)(h) >> 16)
#define TCMSG_MINOR(h) ((uint32_t)(h) & 0xffffu)

/* The clsact qdisc and the two filter attach points it offers (TC_H_CLSACT = TC_H_INGRESS). */
#define TCMSG_CLSACT_HANDLE 0xffff0000u   /* ffff:0 */
#define TCMSG_CLSACT_PARENT 0xfffffff1u   /* TC_H_CLSACT */
#define TCMSG_CLSACT_INGRESS 0xfffffff2u  /* ffff:fff2: packets the device receives */
#define TCMSG_CLSACT_EGRESS 0xfffffff3u   /* ffff:fff3: packets the device sends */

/* HTB's rate tables have 256 slots (TC_RTAB_SIZE bytes). */
#define TCMSG_RTAB_SLOTS 256
/* The kernel's HTB protocol version (TC_HTB_PROTOVER), checked by htb_init(). */
#define TCMSG_HTB_VERSION 3

/* Longest messages, for sizing buffers and batches. */
#define TCMSG_QDISC_MAXLEN 128
#define TCMSG_CLASS_MAXLEN 2304      /* two 1 KiB rate tables dominate */
#define TCMSG_FILTER_MAXLEN 256

enum tcmsg_op {
	TCMSG_ADD,        /* create; EEXIST when it exists */
	TCMSG_REPLACE,    /* create or change in place */
	TCMSG_DEL,
};

enum tcmsg_kind {
	TCMSG_KIND_OTHER,     /* parsed only: a qdisc we do not build */
	TCMSG_KIND_HTB,
	TCMSG_KIND_CLSACT,
	TCMSG_KIND_BFIFO,
};

struct tcmsg_qdisc {
	int ifindex;
	enum tcmsg_kind kind;
	uint32_t parent;         /* TC_H_ROOT (0xffffffff), TCMSG_CLSACT_PARENT, or the class of a leaf */
	uint32_t handle;         /* maj:0; 0 = the kernel picks (leaves); clsact: TCMSG_CLSACT_HANDLE */
	/* htb */
	uint32_t htb_default;    /* minor of the class unclassified packets go to; 0 = direct queue */
	uint32_t htb_r2q;        /* rate-to-quantum divisor for classes without a quantum; 0 = 10 */
	uint32_t htb_direct_qlen;/* packets; 0 = not sent (the kernel then uses the device's txqueuelen) */
	/* bfifo */
	uint32_t bfifo_limit;    /* bytes */
};

/* A class's counters as a dump reports them (gnet_stats, in the TCA_STATS2 nest); parsed only.
 * What the kernel (6.18) puts where, for an HTB leaf with a bfifo under it, checked with tc -s:
 * - basic: bytes and packets the class sent (dequeued), counted at the class itself; bytes are
 *   whole frames as the IFB sees them (Ethernet header included, no FCS).
 * - queue: drops are the packets the leaf qdisc refused (htb_enqueue() counts a drop on the class
 *   too, so the class's number equals the bfifo's); qlen and backlog are the leaf qdisc's;
 *   overlimits count the times the class ran out of tokens and had to wait (or borrow).
 * - htb: lends = packets sent within the class's own rate, borrows = packets sent with bandwidth
 *   borrowed from the parent (between rate and ceil); tokens and ctokens in psched ticks (may be
 *   negative).  Both TCA_STATS_APP (in TCA_STATS2) and the older top-level TCA_XSTATS carry it.
 * The packet count is 64-bit: the kernel adds TCA_STATS_PKT64 when it does not fit in the 32 bits
 * of struct gnet_stats_basic. */
struct tcmsg_class_stats {
	bool has_basic, has_queue, has_htb;
	uint64_t bytes;
	uint64_t packets;
	uint32_t qlen, backlog, drops, requeues, overlimits;
	uint32_t lends, borrows, giants;
	int32_t tokens, ctokens;
};

/* One HTB class.  A rate >= 2^32 bytes/s (about 34.4 Gbit/s) does not fit struct tc_ratespec: the
 * builder then sends ~0 there and the real rate in TCA_HTB_RATE64 / TCA_HTB_CEIL64, as tc does. */
struct tcmsg_htb_class {
	int ifindex;
	uint32_t parent;         /* the qdisc handle (maj:0) or the parent class */
	uint32_t classid;        /* maj:min with the qdisc's major */
	uint64_t rate;           /* bytes/s, > 0 */
	uint64_t ceil;           /* bytes/s, > 0 */
	uint32_t buffer;         /* ticks to send burst bytes at rate */
	uint32_t cbuffer;        /* ticks to send cburst bytes at ceil */
	uint32_t quantum;        /* bytes; 0 = rate / r2q (the kernel clamps that to 1000..200000) */
	uint32_t prio;           /* 0 (first) .. 7 */
	uint32_t level;          /* parsed only: 0 = leaf */
	uint8_t cell_log;        /* of rtab */
	uint8_t ccell_log;       /* of ctab */
	uint32_t rtab[TCMSG_RTAB_SLOTS];   /* transmit time in ticks of a (slot + 1) << cell_log packet */
	uint32_t ctab[TCMSG_RTAB_SLOTS];
	bool has_tables;         /* parsed only: the kernel does not send the tables back */
	/* parsed only: the counters of a dump entry; all zero (has_* false) when the message has
	 * none or they are malformed: a class is still a class without readable counters. */
	struct tcmsg_class_stats stats;
};

/* A u32 filter with one 32-bit key: either every packet (match_all) or an IPv4 source or
 * destination under a mask.  Its verdict is a class, a mirred egress redirect, or both; or,
 * instead of a verdict, a link to a hash table where the walk goes on (see below). */
enum tcmsg_u32_match {
	TCMSG_U32_ALL,           /* key 0/0 at offset 0: every packet of the filter's protocol */
	TCMSG_U32_IPV4_SRC,
	TCMSG_U32_IPV4_DST,
};

/* A u32 handle: hash table id (12 bits), bucket (8 bits), node (12 bits).  A table is HT:0:0
 * (node 0 is reserved for tables), a filter HT:bucket:node.  Each priority has a root table
 * the kernel numbers itself (800: for the first u32 priority of a qdisc, then 801:, 802: ...);
 * a classification starts there. */
#define TCMSG_U32_HANDLE(htid, hash, node) \
	((uint32_t)(htid) << 20 | (uint32_t)((hash) & 0xff) << 12 | (uint32_t)((node) & 0xfff))
#define TCMSG_U32_HTID(h) ((uint32_t)(h) >> 20)
#define TCMSG_U32_BUCKET(h) (((uint32_t)(h) >> 12) & 0xffu)
#define TCMSG_U32_NODE(h) ((uint32_t)(h) & 0xfffu)
/* The largest u32 hash table (the kernel refuses a bigger divisor). */
#define TCMSG_U32_DIVISOR_MAX 256

/* How a linking filter picks the bucket of the linked table: the low byte of the IPv4 source
 * or destination address (sel.hoff 12 or 16, sel.hmask 0x000000ff, tc's "hashkey mask
 * 0x000000ff at 12"); with 256 buckets the bucket is the address's last octet. */
enum tcmsg_u32_hashkey {
	TCMSG_U32_HASHKEY_NONE,      /* bucket 0 (a table of one bucket) */
	TCMSG_U32_HASHKEY_IPV4_SRC,
	TCMSG_U32_HASHKEY_IPV4_DST,
};

struct tcmsg_u32 {
	int ifindex;
	uint32_t parent;         /* the qdisc (maj:0) or TCMSG_CLSACT_INGRESS / _EGRESS */
	uint16_t prio;           /* filter priority (lower runs first); 0 only for a delete = all */
	uint16_t protocol;       /* ETH_P_*, host order; 0 = ETH_P_IP for address matches, ETH_P_ALL else */
	/* The kernel completes a node-only handle (0:0:N) with the priority's own hash table, and
	 * reports the full one (e.g. 800::N) in dumps; delete with that full handle.  0 = the kernel
	 * picks the node. */
	uint32_t handle;
	enum tcmsg_u32_match match;
	uint32_t addr;           /* host order */
	uint8_t prefix_len;      /* 0..32 */
	uint32_t classid;        /* 0 = none */
	uint32_t redirect_ifindex;  /* mirred egress redirect to this device; 0 = none */
	/* Hash tables (TCA_U32_HASH, TCA_U32_LINK, the selector's hash key). */
	uint32_t ht;             /* the table and bucket the filter lives in (HT:bucket:0); 0 = the
	                          * priority's root table.  Dumps report it for every filter, the
	                          * root's too (e.g. 800:0:0). */
	uint32_t link;           /* a match goes on in this table (HT:0:0); 0 = none */
	enum tcmsg_u32_hashkey hashkey;  /* with link: which bucket of it */
};

/* A u32 hash table (tc's "u32 divisor N"): an entry of the filter list like a filter, at the
 * priority and protocol of the filters that will use it.  Node 0 of a handle means "table", so
 * the kernel cannot change one: a REPLACE of an existing table fails with EINVAL ("Key node id
 * cannot be zero", seen on 6.18); we build ADD and DEL only.  Deleting a table fails with EBUSY
 * while a filter links to it; its own filters go with it. */
struct tcmsg_u32_table {
	int ifindex;
	uint32_t parent;         /* as for struct tcmsg_u32 */
	uint16_t prio;           /* > 0 */
	uint16_t protocol;       /* host order; 0 = ETH_P_IP (tables hold address matches) */
	uint32_t handle;         /* HT:0:0; 0 on ADD = the kernel picks one */
	uint32_t divisor;        /* buckets: a power of two, 1 .. TCMSG_U32_DIVISOR_MAX */
};

/* A cls_bpf filter: a loaded BPF program at one priority.  Classic mode (direct_action false): the
 * program answers match or not (and may set skb->priority or the class), and on a match the
 * filter's actions run: here an optional mirred egress redirect, built as for u32.  Direct-action
 * mode: the program's return code is the verdict and the kernel never runs the actions. */
#define TCMSG_BPF_NAME_MAX 64    /* the longest name kept, NUL included (the kernel allows 256) */

struct tcmsg_bpf {
	int ifindex;
	uint32_t parent;         /* TCMSG_CLSACT_INGRESS / _EGRESS, or a qdisc (maj:0) */
	uint16_t prio;           /* > 0; 0 only for a delete = the whole priority */
	uint16_t protocol;       /* ETH_P_*, host order; 0 = ETH_P_ALL */
	uint32_t handle;         /* 0 = the kernel picks (ADD), the whole priority (DEL) */
	int prog_fd;             /* build: the program (TCA_BPF_FD); parse: the fd of a request we
	                          * built, -1 in a dump (the kernel reports prog_id instead) */
	uint32_t prog_id;        /* parse: TCA_BPF_ID, 0 when absent; not sent */
	char name[TCMSG_BPF_NAME_MAX];  /* TCA_BPF_NAME; "" = none.  A parse cuts a longer one short. */
	bool direct_action;      /* TCA_BPF_FLAG_ACT_DIRECT */
	uint32_t redirect_ifindex;  /* mirred egress redirect to this device on a match; 0 = none.
	                             * parse: 0 also when the actions are anything but one such
	                             * redirect (a mirror, another action, several) */
};

/* Qdiscs: ADD and REPLACE carry the options of q->kind; DEL needs ifindex, parent and handle. */
int tcmsg_build_qdisc(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_qdisc *q);
/* A dump of the qdiscs of every device (ifindex 0) or of one. */
int tcmsg_build_qdisc_dump(void *buf, size_t buflen, uint32_t seq, int ifindex);
/* RTM_NEWQDISC (an answer or a dump entry) or a request we built. */
int tcmsg_parse_qdisc(const struct nlmsghdr *nlh, struct tcmsg_qdisc *ret);

/* HTB classes: -EINVAL for a zero rate or ceil (htb_change_class() refuses them). */
int tcmsg_build_htb_class(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_htb_class *c);
int tcmsg_build_class_dump(void *buf, size_t buflen, uint32_t seq, int ifindex);
/* RTM_NEWTCLASS of kind "htb": -ENOENT for another kind, -EBADMSG when malformed. */
int tcmsg_parse_htb_class(const struct nlmsghdr *nlh, struct tcmsg_htb_class *ret);
/* The counters of an RTM_NEWTCLASS or RTM_NEWQDISC dump entry of any kind (the HTB part only for an
 * htb class): -ENODATA when it carries no TCA_STATS2, -EBADMSG when malformed. */
int tcmsg_parse_stats(const struct nlmsghdr *nlh, struct tcmsg_class_stats *ret);

/* u32 filters: -EINVAL for prefix_len > 32, a filter with neither verdict nor link, or prio 0 on
 * ADD/REPLACE; for an ht with node bits, a link that is not a table (HT:0:0), a hash key without
 * a link, or a handle whose table or bucket differs from ht's (the kernel would refuse the first
 * and silently use ht's bucket for the second).  A filter is TERMINAL (a match ends the walk
 * with its verdict) exactly when it has a verdict: a pure link is not, so a packet that no
 * filter of the linked table takes comes back and goes on with the next filter.
 * DEL needs ifindex, parent, prio, protocol and (optionally) the full handle; without a handle
 * it removes the whole priority (every filter and table of it).
 * REPLACE of an existing filter changes its verdict and link only: the kernel keeps the old
 * selector (seen on 6.18), so a different match needs DEL + ADD. */
int tcmsg_build_u32(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_u32 *f);
int tcmsg_build_filter_dump(void *buf, size_t buflen, uint32_t seq, int ifindex, uint32_t parent);
/* RTM_NEWTFILTER of kind u32 with one key (what we build): -ENOENT for another kind, and for the
 * hash-table entries a u32 dump also reports (they carry no selector: read them with
 * tcmsg_parse_u32_table()); -EOPNOTSUPP for a selector or action we do not build. */
int tcmsg_parse_u32(const struct nlmsghdr *nlh, struct tcmsg_u32 *ret);

/* u32 hash tables: ADD or DEL (-EINVAL for REPLACE, see above), -EINVAL for a divisor that is not
 * a power of two in 1..256, a handle with bucket or node bits, or prio 0. */
int tcmsg_build_u32_table(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_u32_table *t);
/* The table entries of a u32 dump (TCA_U32_DIVISOR, no selector), each priority's root table
 * included (divisor 1): -ENOENT for anything else (filters, the priority's kind-only line, other
 * kinds), -EBADMSG when malformed. */
int tcmsg_parse_u32_table(const struct nlmsghdr *nlh, struct tcmsg_u32_table *ret);

/* cls_bpf filters: -EINVAL for an unknown op; on ADD/REPLACE for prio 0, prog_fd < 0, a name
 * without its NUL within TCMSG_BPF_NAME_MAX, or direct_action with a redirect (the kernel would
 * accept it and never run the redirect).  ADD fails with EEXIST when the handle exists; REPLACE
 * creates the filter or swaps its program atomically (packets see the old program or the new,
 * never none).  DEL needs ifindex, parent, prio, protocol and (optionally) the handle; without one
 * it removes the whole priority. */
int tcmsg_build_bpf(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_bpf *f);
/* RTM_NEWTFILTER (or a request we built) of kind bpf: -ENOENT for another kind and for the
 * priority's kind-only line of a dump (no options), -EBADMSG when malformed.  Actions other than
 * one mirred egress redirect are not an error: redirect_ifindex stays 0. */
int tcmsg_parse_bpf(const struct nlmsghdr *nlh, struct tcmsg_bpf *ret);
