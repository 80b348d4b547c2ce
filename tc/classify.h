/* Bandwidth classification, as pure message builders and parsers (tc/tcmsg.h conventions).
 *
 * Two IFB devices carry the two HTB trees: "shoal-out" (traffic from workloads) and "shoal-in"
 * (traffic to them).  Each workload's host veth gets a clsact qdisc with one match-everything u32
 * filter per hook:
 *   - ingress (what the workload sends) -> mirred egress redirect to shoal-out;
 *   - egress (what is sent to the workload, after routing and VXLAN decapsulation) -> shoal-in;
 * and, when same-host traffic is exempt, a filter before each redirect that lets IPv4 traffic
 * between the workload and the local subnet through untouched.
 * The kernel lacks matchall and flower here: u32 with the key 0/0 is the match-everything filter.
 * After its HTB tree the IFB hands each packet back where it was taken from (ifb.c), so the
 * redirect changes timing only, never the path.
 *
 * On each IFB one u32 hash table picks the workload's class in O(1): by source address on
 * shoal-out, by destination on shoal-in (skb->mark and skb->priority do not survive the veth, and
 * shoal-out's packets come from a tc hook that runs before nftables).  All of it at priority
 * CLASSIFY_IFB_PRIO, protocol ip, on the HTB qdisc major:0:
 *
 *   800:        the priority's root table (the kernel's; one bucket)
 *     800::1    match the local subnet, hash the address's last octet, link 100:   (the link)
 *   100:        our table, 256 buckets                                             (the table)
 *     100:B:N   match one address /32 -> classid major:minor                       (a workload)
 *               B = addr & 0xff, N = 1 + ((addr - subnet) >> 8)
 *
 * A packet costs one key in the root table, a hash, and the filters of one bucket: one with a
 * /24 subnet (every address of a bucket has the same last octet), at most 256 with a /16.
 * Addresses outside the subnet, and ARP and IPv6 (other protocols), go to the tree's default
 * class.  The handles are functions of the subnet and the address, so the daemon can replace or
 * delete any of these after a restart without a dump; hence the subnet must be at least a /16
 * (node <= 0x100; u32 nodes have 12 bits). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc/tcmsg.h"

#define CLASSIFY_IFB_OUT "shoal-out"
#define CLASSIFY_IFB_IN "shoal-in"
/* Priorities on a veth's clsact.  Lower runs first, so each hook's exemption precedes its
 * redirect.  All four differ on purpose: both hooks of one clsact share u32's hash-table
 * registry, and a u32 dump of one hook lists every table of that registry with the same
 * priority, so equal priorities on the two hooks would show each hook's filters in both hooks'
 * dumps (seen on 6.18) and confuse reconcile.  One filter per priority also means a delete by
 * priority (no handle) removes exactly that filter. */
#define CLASSIFY_EXEMPT_PRIO_INGRESS 1
#define CLASSIFY_REDIRECT_PRIO_INGRESS 2
#define CLASSIFY_EXEMPT_PRIO_EGRESS 3
#define CLASSIFY_REDIRECT_PRIO_EGRESS 4
/* The exemption's verdict.  clsact has no classes: a u32 match with a classid and no action ends
 * the hook's classification with TC_ACT_OK (tcf_exts_exec() of no actions), so the packet goes on
 * as if there were no filter (only skb->tc_index gets the minor).  Verified on 6.18: same-host
 * traffic reaches neither IFB. */
#define CLASSIFY_EXEMPT_CLASSID 0xffff0001u     /* ffff:1 */
/* The node of each veth filter, sent as the node-only handle 0:0:1.  Each veth filter is alone
 * at its priority, whose root table the kernel numbers (800:, 801: ... in creation order), so
 * the full handle cannot be known before; but with a fixed node a filter that is already there
 * makes a second ADD fail with ENOSPC (the node is taken; the kernel never looks a node-only
 * handle up) instead of adding a duplicate, as a handle of 0 would (seen on 6.18). */
#define CLASSIFY_VETH_NODE 1

/* The IFB classifier (see the diagram above). */
#define CLASSIFY_IFB_PRIO 10
#define CLASSIFY_HTID 0x100                     /* our table: 100: */
#define CLASSIFY_HASH_DIVISOR 256
/* The root table of CLASSIFY_IFB_PRIO.  The kernel numbers a priority's root table itself: 800:
 * for the first u32 priority of a qdisc, then 801:, 802: ...  Our priority is the only one on our
 * IFBs and classify_build_hash_table() creates it, so it is 800:.  Were it not (a foreign u32
 * filter created first), adding the link fails with EINVAL ("Handle specified hash table address
 * mismatch"): delete the foreign priority, or the whole of ours (classify_build_hash_flush()). */
#define CLASSIFY_ROOT_HTID 0x800
#define CLASSIFY_TABLE_HANDLE TCMSG_U32_HANDLE(CLASSIFY_HTID, 0, 0)           /* 0x10000000 */
#define CLASSIFY_LINK_HANDLE TCMSG_U32_HANDLE(CLASSIFY_ROOT_HTID, 0, 1)      /* 0x80000001 */
/* The shortest subnet prefix the handles can number (node = 1 + host part >> 8 <= 0x100). */
#define CLASSIFY_SUBNET_MIN_LEN 16
/* The longest classify_build_ifb() message, for sizing batches. */
#define CLASSIFY_IFB_MAXLEN 64

/* RTM_NEWLINK creating an IFB device (kind "ifb"), optionally up at once (an IFB has no peer, so
 * unlike a veth it can be created up).  -EINVAL for a name of 0 or more than 15 bytes. */
int classify_build_ifb(void *buf, size_t buflen, uint32_t seq, const char *name, bool up);

/* ---- the IFB's classifier.  subnet: the node's subnet (network address, host order), subnet_len
 * CLASSIFY_SUBNET_MIN_LEN..32; -EINVAL for a shorter prefix or host bits in subnet. ---- */

/* The hash table on an IFB's HTB qdisc major:0.  ADD or DEL only (-EINVAL for REPLACE): the kernel
 * cannot change a table, and a REPLACE of an existing one fails with EINVAL ("Key node id cannot
 * be zero", 6.18).  Ensure it with a dump (classify_parse_ifb_filter()) and ADD when missing, or
 * ADD and take EEXIST as present (a table of ours has nothing else that could differ).  Create it
 * before anything else at CLASSIFY_IFB_PRIO: that creates the priority and its root 800:.  A DEL
 * fails with EBUSY while the link exists. */
int classify_build_hash_table(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                              uint16_t major);

/* The link, handle CLASSIFY_LINK_HANDLE in the root table: the subnet as source (from_workload,
 * shoal-out) or destination (shoal-in), hashed on that address's last octet into the table.
 * ADD, REPLACE (creates it, or re-points an existing one at the table) or DEL.  REPLACE cannot
 * change the subnet: the kernel keeps an existing filter's selector, so after a subnet change
 * delete the link (and the workloads, whose handles depend on the subnet) or flush. */
int classify_build_hash_link(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                             uint16_t major, uint32_t subnet, uint8_t subnet_len, bool from_workload);

/* The handle of addr's filter in the table: CLASSIFY_HTID:bucket:node, bucket = addr & 0xff,
 * node = 1 + ((addr - subnet) >> 8).  -EINVAL for a bad subnet or addr outside it. */
int classify_workload_handle(uint32_t subnet, uint8_t subnet_len, uint32_t addr, uint32_t *ret_handle);

/* A workload's filter in the table: addr /32 as source (from_workload, shoal-out) or destination
 * (shoal-in) -> classid (major:minor of this qdisc; may be 0 for DEL, -EINVAL for another major).
 * ADD, REPLACE (creates it or changes its class in place) or DEL, all by the handle above. */
int classify_build_workload(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                            uint16_t major, uint32_t subnet, uint8_t subnet_len, uint32_t addr, bool from_workload,
                            uint32_t classid);

/* Delete the whole classifier of an IFB (the priority: link, table and every workload filter),
 * e.g. before rebuilding it for another subnet.  ENOENT when there is none. */
int classify_build_hash_flush(void *buf, size_t buflen, uint32_t seq, int ifb_ifindex, uint16_t major);

/* What a u32 dump of an IFB's qdisc holds, as far as it is ours. */
enum classify_ifb_kind {
	CLASSIFY_IFB_TABLE,      /* 100: (divisor: CLASSIFY_HASH_DIVISOR when it is right) */
	CLASSIFY_IFB_LINK,       /* root table -> 100:; addr/prefix_len = the subnet it matches */
	CLASSIFY_IFB_WORKLOAD,   /* in 100:, one address /32 -> classid */
	CLASSIFY_IFB_OTHER,      /* anything else at CLASSIFY_IFB_PRIO (another table, a filter we
	                          * never build): remove it by handle, or flush */
};

struct classify_ifb_filter {
	enum classify_ifb_kind kind;
	uint32_t handle;         /* the full handle, for a DEL */
	bool from_workload;      /* link, workload: keyed on the source (shoal-out) or the destination */
	uint32_t addr;           /* link: the subnet; workload: the address (host order) */
	uint8_t prefix_len;      /* link: the subnet's length; workload: 32 */
	uint32_t classid;        /* workload */
	uint32_t divisor;        /* table */
};

/* One message of a filter dump of an IFB's HTB qdisc (tcmsg_build_filter_dump(ifindex, major:0)):
 * 0 and ret filled for an entry at CLASSIFY_IFB_PRIO, protocol ip; -ENOENT for what is not an
 * object of ours (the priority's kind-only line, its root table, other priorities and kinds);
 * -EBADMSG when malformed.  Reconcile compares: the table's divisor, the link's subnet and
 * direction, and for each workload whether its handle is classify_workload_handle() of its address
 * and its class the one wanted. */
int classify_parse_ifb_filter(const struct nlmsghdr *nlh, struct classify_ifb_filter *ret);

/* ---- the host veth ---- */

/* The clsact qdisc of a host veth (ADD, REPLACE or DEL; deleting it drops every filter). */
int classify_build_clsact(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex);

/* The redirect on one hook of a veth's clsact: from_workload = the ingress hook (to shoal-out),
 * otherwise the egress hook (to shoal-in).  ifb_ifindex is that IFB's index.  ADD and REPLACE
 * (the same here) create it with node CLASSIFY_VETH_NODE: ENOSPC when it is there already.  DEL
 * removes its priority (no handle needed). */
int classify_build_redirect(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex,
                            bool from_workload, int ifb_ifindex);

/* The same-host exemption on one hook, before its redirect: on the ingress hook (from_workload)
 * IPv4 to the subnet, on the egress hook IPv4 from the subnet, ends classification there
 * (CLASSIFY_EXEMPT_CLASSID): workload-to-workload traffic on this host, and traffic between a
 * workload and its gateway, is not shaped.  subnet as for the IFB's classifier.  ADD/REPLACE as for
 * the redirect (ENOSPC when there); DEL removes its priority (no handle needed). */
int classify_build_exempt(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex,
                          bool from_workload, uint32_t subnet, uint8_t subnet_len);

/* How many messages classify_build_veth() builds: 3, or 5 with the exemption. */
unsigned classify_veth_msgs(bool exempt_local);

/* clsact (REPLACE: kept as it is when there, filters included), then for each hook [the
 * exemption,] the redirect, in priority order: messages back to back with seq, seq + 1, ... (one
 * nlsock_transact_each() of classify_veth_msgs() messages).  Safe to send again: every filter
 * already there answers ENOSPC and is not duplicated, a missing one (the exemption just turned on)
 * is added.  Turning the exemption off is classify_build_exempt(DEL) on both hooks.  subnet and
 * subnet_len are used (and checked) only with exempt_local.  Returns the total length. */
int classify_build_veth(void *buf, size_t buflen, uint32_t seq, int veth_ifindex, int ifb_out_ifindex,
                        int ifb_in_ifindex, bool exempt_local, uint32_t subnet, uint8_t subnet_len);

/* ---- the uplink: workloads in the host's network namespace, by cgroup (tc/bpf/cgroup.bpf.c) ----
 *
 * One cls_bpf filter on each hook of the uplink's clsact, both at CLASSIFY_UPLINK_PRIO with handle
 * CLASSIFY_UPLINK_HANDLE, protocol all: the egress hook's program classifies what local sockets
 * send (to shoal-out), the ingress hook's what they receive (to shoal-in).  Classic mode, not
 * direct-action: the program sets skb->priority to the class and answers match (-1) or not (0);
 * on a match the filter's action, a mirred egress redirect to the IFB, runs.  The redirect has to
 * be act_mirred: an IFB drops packets bpf_redirect() hands it (ifb_xmit() checks
 * skb->redirected), and HTB on the IFB takes the leaf whose classid is skb->priority before any of
 * its own filters. */

/* The priority of both uplink filters: far above what tc picks by itself (it numbers from
 * 0xc000 down when none is given) and what other tools commonly use (1..100). */
#define CLASSIFY_UPLINK_PRIO 0xc500
#define CLASSIFY_UPLINK_HANDLE 1
/* The longest program name a parse keeps (TCA_BPF_NAME; the kernel's is a copy of what was sent). */
#define CLASSIFY_PROG_NAME_MAX TCMSG_BPF_NAME_MAX

/* The filter on the uplink's ingress (ingress_hook, ffff:fff2) or egress hook (ffff:fff3).  ADD
 * (EEXIST when there), REPLACE (creates it, or swaps its program atomically: packets see the old
 * program or the new one, never none; how a restarted shoald takes over) or DEL (the whole
 * priority of that hook; ENOENT when there is none: prog_fd, prog_name and ifb_ifindex unused).
 * -EINVAL for prog_fd < 0, a name that is empty or of CLASSIFY_PROG_NAME_MAX bytes or more, or
 * ifb_ifindex <= 0 (ADD, REPLACE).  The clsact qdisc must exist: classify_build_clsact(). */
int classify_build_uplink(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int uplink_ifindex,
                          bool ingress_hook, int prog_fd, const char *prog_name, int ifb_ifindex);

struct classify_uplink_filter {
	bool ingress_hook;
	uint16_t prio;
	uint16_t protocol;       /* host order */
	uint32_t handle;
	char prog_name[CLASSIFY_PROG_NAME_MAX];  /* "" when it has none */
	uint32_t prog_id;        /* TCA_BPF_ID: for cgbpf_load()'s adoption; 0 when absent */
	bool direct_action;      /* TCA_BPF_FLAG_ACT_DIRECT: not what we build */
	uint32_t redirect_ifindex;  /* the target of its one mirred egress redirect; 0 when its
	                             * actions are anything else */
};

/* One message of a filter dump of a clsact hook (tcmsg_build_filter_dump(ifindex,
 * TCMSG_CLSACT_INGRESS or _EGRESS)): 0 and ret filled for a bpf filter at CLASSIFY_UPLINK_PRIO on
 * either hook (ours to replace or remove, whatever its program); -ENOENT for anything else (other
 * priorities and kinds, the priority's kind-only line); -EBADMSG when malformed.  Reconcile
 * checks the name (cgbpf_prog_name()), the handle, protocol ETH_P_ALL, !direct_action and the
 * redirect's target, and REPLACEs what differs. */
int classify_parse_uplink_filter(const struct nlmsghdr *nlh, struct classify_uplink_filter *ret);
