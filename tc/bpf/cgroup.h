/* What tc/bpf/cgroup.bpf.c and its loader (tc/cgbpf.c) share: the maps' names, sizes, keys and
 * values.  Plain C on <linux/types.h>, so that both clang -target bpf and the host compiler read
 * the same layout; every struct is padded explicitly (a hash key's padding is part of the key). */
#pragma once
#include <linux/types.h>

/* Map names (BPF object names: at most 15 characters).  The loader adopts the maps of a running
 * program by these names. */
#define CGROUP_MAP_CONF "shoal_cg_conf"
#define CGROUP_MAP_QUOTA "shoal_cg_quota"
#define CGROUP_MAP_FLOWS "shoal_cg_flows"

/* The programs (function names in the object, also the names the filters carry). */
#define CGROUP_PROG_EGRESS "shoal_cg_out"
#define CGROUP_PROG_INGRESS "shoal_cg_in"

/* cgroup v2 levels the egress program walks: 0 (the root) .. CGROUP_LEVELS - 1, one bit each in
 * cgroup_conf.level_mask. */
#define CGROUP_LEVELS 64
#define CGROUP_QUOTA_MAX 4096
/* Learned flows (LRU: the least recently used goes first when full).  Each entry costs the kernel
 * about 100 bytes, preallocated: 32768 flows, ~3 MiB. */
#define CGROUP_FLOWS_MAX 32768

/* shoal_cg_conf, an array of one: the trees' majors, and the levels at which quotas exist (so
 * that a packet costs one ancestor lookup per level in use, not CGROUP_LEVELS).  A major of 0:
 * nothing is classified. */
struct cgroup_conf {
	__u64 level_mask;
	__u16 major_egress;
	__u16 major_ingress;
	__u32 pad;
};

/* shoal_cg_quota: key __u64 cgroup id (the cgroup v2 directory's inode number) -> this.  The
 * class is major:minor in each tree (the majors are the conf's).  level: the directory's depth
 * below the cgroup v2 root (root 0), kept so that the level mask can be recomputed after a
 * delete or an adoption. */
struct cgroup_quota {
	__u16 minor;
	__u8 level;
	__u8 pad;
};

/* shoal_cg_flows: a TCP or UDP flow as the egress program saw it leave (source = this host),
 * -> __u64 the cgroup id that sent it.  Addresses in network order, IPv4 as v4-mapped IPv6
 * (::ffff:a.b.c.d); ports in network order. */
struct cgroup_flow_key {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 protocol;           /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 pad[3];
};
