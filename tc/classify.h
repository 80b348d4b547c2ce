/* The per-veth half of bandwidth control, as pure message builders (tc/tcmsg.h conventions).
 *
 * Two IFB devices carry the two HTB trees: "shoal-out" (traffic from workloads) and "shoal-in"
 * (traffic to them).  Each workload's host veth gets a clsact qdisc with one match-everything u32
 * filter per hook:
 *   - ingress (what the workload sends) -> mirred egress redirect to shoal-out;
 *   - egress (what is sent to the workload, after routing and VXLAN decapsulation) -> shoal-in.
 * The kernel lacks matchall and flower here: u32 with the key 0/0 is the match-everything filter.
 * After its HTB tree the IFB hands each packet back where it was taken from (ifb.c), so the
 * redirect changes timing only, never the path.
 *
 * On the IFBs, a u32 filter per workload picks its class: by source address on shoal-out, by
 * destination address on shoal-in (skb->mark and skb->priority do not survive the veth, and
 * shoal-out's packets come from a tc hook that runs before nftables). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc/tcmsg.h"

#define CLASSIFY_IFB_OUT "shoal-out"
#define CLASSIFY_IFB_IN "shoal-in"
/* Priorities of the redirect filters on a veth's clsact hooks.  They differ on purpose: both hooks
 * of one clsact share u32's hash-table registry, and a u32 dump of one hook lists every table of
 * that registry with the same priority, so equal priorities would show each redirect in both
 * hooks' dumps (seen on 6.18) and confuse reconcile. */
#define CLASSIFY_REDIRECT_PRIO_INGRESS 1
#define CLASSIFY_REDIRECT_PRIO_EGRESS 2
/* Priority of the per-workload filters on an IFB's HTB qdisc. */
#define CLASSIFY_WORKLOAD_PRIO 10
/* The longest classify_build_ifb() message, for sizing batches. */
#define CLASSIFY_IFB_MAXLEN 64

/* RTM_NEWLINK creating an IFB device (kind "ifb"), optionally up at once (an IFB has no peer, so
 * unlike a veth it can be created up).  -EINVAL for a name of 0 or more than 15 bytes. */
int classify_build_ifb(void *buf, size_t buflen, uint32_t seq, const char *name, bool up);

/* The clsact qdisc of a host veth (ADD, REPLACE or DEL; deleting it drops both redirects). */
int classify_build_clsact(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex);

/* The redirect on one hook of a veth's clsact: from_workload = the ingress hook (to shoal-out),
 * otherwise the egress hook (to shoal-in).  ifb_ifindex is that IFB's index. */
int classify_build_redirect(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int veth_ifindex,
                            bool from_workload, int ifb_ifindex);

/* clsact + both redirects, three messages back to back with seq, seq + 1, seq + 2 (one
 * nlsock_transact() of 3 messages).  Returns the total length. */
int classify_build_veth(void *buf, size_t buflen, uint32_t seq, int veth_ifindex, int ifb_out_ifindex,
                        int ifb_in_ifindex);

/* A workload's classifier on an IFB's HTB qdisc (major:0): from_workload = shoal-out (match the
 * source address), otherwise shoal-in (match the destination).  addr in host order; handle as in
 * struct tcmsg_u32 (a node id on ADD, the full handle from a dump on DEL). */
int classify_build_workload(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, int ifb_ifindex,
                            uint16_t major, bool from_workload, uint32_t addr, uint32_t classid, uint32_t handle);
