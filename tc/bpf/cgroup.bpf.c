/* Bandwidth per cgroup v2 for workloads in the host's network namespace: two cls_bpf programs on
 * the uplink's clsact, each in classic mode with one mirred egress redirect to an IFB as the
 * filter's action (tc/classify.h: classify_build_uplink()).
 *
 * A program classifies by setting skb->priority to the class (major << 16 | minor): HTB takes a
 * leaf whose classid equals skb->priority before running any filter.  It then returns -1 (match:
 * the filter's action, the redirect, runs) or 0 (no match: the packet goes on unshaped).  It
 * cannot redirect itself: an IFB drops what bpf_redirect() hands it (ifb_xmit() wants
 * skb->redirected, which only act_mirred sets).
 *
 * shoal_cg_out (egress hook): a locally generated packet carries its socket, whose cgroup's
 * ancestors bpf_skb_ancestor_cgroup_id() names level by level.  The levels that hold quotas are
 * walked deepest first and the first ancestor in shoal_cg_quota wins, so a quota on a nested
 * cgroup beats its parent's.  The cgroup is read at every packet: a socket opened before its
 * quota was set is covered as soon as the quota is.  Packets without a full socket (forwarded
 * pods' traffic, TIME_WAIT answers) have no cgroup and pass untouched.  A hit also records the
 * TCP or UDP flow with its cgroup in shoal_cg_flows, for the ingress side.
 *
 * shoal_cg_in (ingress hook): a received packet has no socket yet, so its flow, reversed, is
 * looked up in shoal_cg_flows, and the cgroup found there in shoal_cg_quota (a deleted quota
 * must stop classifying although the flows keep its id).  A TCP peer cannot send data before our
 * SYN or SYN-ACK left through shoal_cg_out, so a TCP connection is classified from its first
 * data segment on, and so is UDP traffic on a socket that has sent to that peer first.  Not
 * covered: a UDP socket that only receives (nothing ever leaves to teach the flow), non-first
 * IPv4 fragments and IPv6 packets with extension headers before TCP/UDP (no ports to match);
 * they pass unshaped.  The flow map is an LRU: a flow evicted while busy is learned again by its
 * next outgoing packet. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cgroup.h"

/* cls_bpf's classic-mode verdicts: -1 takes the filter's own result and runs its actions. */
#define CG_NO_MATCH 0
#define CG_MATCH (-1)

#define IP_FRAG_OFFSET 0x1fff
#define L3_OFF ETH_HLEN

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgroup_conf);
} shoal_cg_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGROUP_QUOTA_MAX);
	__type(key, __u64);
	__type(value, struct cgroup_quota);
} shoal_cg_quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CGROUP_FLOWS_MAX);
	__type(key, struct cgroup_flow_key);
	__type(value, __u64);
} shoal_cg_flows SEC(".maps");

static __always_inline struct cgroup_conf *conf_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&shoal_cg_conf, &zero);
}

/* The flow of a TCP or UDP packet as it is on the wire (source first); 0, or -1 for anything
 * else.  Reads with bpf_skb_load_bytes(): headers need not be in the linear part. */
static __always_inline int flow_of(struct __sk_buff *skb, struct cgroup_flow_key *k)
{
	__u32 l4_off;
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, L3_OFF, &ip, sizeof(ip)) < 0 || ip.ihl < 5)
			return -1;
		if (ip.frag_off & bpf_htons(IP_FRAG_OFFSET))
			return -1;
		proto = ip.protocol;
		k->saddr[2] = bpf_htonl(0xffff);
		k->saddr[3] = ip.saddr;
		k->daddr[2] = bpf_htonl(0xffff);
		k->daddr[3] = ip.daddr;
		l4_off = L3_OFF + ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, L3_OFF, &ip6, sizeof(ip6)) < 0)
			return -1;
		proto = ip6.nexthdr;
		__builtin_memcpy(k->saddr, &ip6.saddr, sizeof(k->saddr));
		__builtin_memcpy(k->daddr, &ip6.daddr, sizeof(k->daddr));
		l4_off = L3_OFF + sizeof(ip6);
	} else {
		return -1;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	/* TCP and UDP both start with the two ports. */
	if (bpf_skb_load_bytes(skb, l4_off, &k->sport, 2 * sizeof(__u16)) < 0)
		return -1;
	k->protocol = proto;
	return 0;
}

SEC("tc")
int shoal_cg_out(struct __sk_buff *skb)
{
	struct cgroup_flow_key k = {};
	struct cgroup_conf *conf = conf_get();
	struct cgroup_quota *q = 0;
	__u64 mask, id = 0;
	__u64 *known;

	if (!conf || !conf->major_egress)
		return CG_NO_MATCH;
	mask = conf->level_mask;
	/* mask is left as it is and the loop always runs to the end: narrowing it (mask &= ~bit, an
	 * early exit when it is 0) makes every path's value differ for the verifier, which then
	 * cannot prune and gives up after 10^6 instructions (6.18). */
	for (int level = CGROUP_LEVELS - 1; level >= 0; level--) {
		if (!(mask & (1ULL << level)))
			continue;
		/* 0 past the socket's own depth, and for a packet without a full socket. */
		id = bpf_skb_ancestor_cgroup_id(skb, level);
		if (!id)
			continue;
		q = bpf_map_lookup_elem(&shoal_cg_quota, &id);
		if (q)
			break;
	}
	if (!q)
		return CG_NO_MATCH;
	skb->priority = (__u32)conf->major_egress << 16 | q->minor;
	/* Write only what is new: a lookup per packet, an update per flow (or cgroup change). */
	if (flow_of(skb, &k) == 0) {
		known = bpf_map_lookup_elem(&shoal_cg_flows, &k);
		if (!known || *known != id)
			bpf_map_update_elem(&shoal_cg_flows, &k, &id, BPF_ANY);
	}
	return CG_MATCH;
}

SEC("tc")
int shoal_cg_in(struct __sk_buff *skb)
{
	struct cgroup_flow_key pkt = {}, k = {};
	struct cgroup_conf *conf = conf_get();
	struct cgroup_quota *q;
	__u64 *id;

	if (!conf || !conf->major_ingress || !conf->level_mask)
		return CG_NO_MATCH;
	if (flow_of(skb, &pkt) < 0)
		return CG_NO_MATCH;
	/* The flow as it left: our address and port are the packet's destination. */
	__builtin_memcpy(k.saddr, pkt.daddr, sizeof(k.saddr));
	__builtin_memcpy(k.daddr, pkt.saddr, sizeof(k.daddr));
	k.sport = pkt.dport;
	k.dport = pkt.sport;
	k.protocol = pkt.protocol;
	id = bpf_map_lookup_elem(&shoal_cg_flows, &k);
	if (!id)
		return CG_NO_MATCH;
	q = bpf_map_lookup_elem(&shoal_cg_quota, id);
	if (!q)
		return CG_NO_MATCH;
	skb->priority = (__u32)conf->major_ingress << 16 | q->minor;
	return CG_MATCH;
}

char LICENSE[] SEC("license") = "GPL";
