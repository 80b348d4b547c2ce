/* HTB parameters, computed purely from rates and the kernel's clock facts (no I/O except
 * htb_psched_read()), and one HTB tree turned into the tc messages that build it.
 *
 * Rates in this module are in bits per second, as users write them; tcmsg converts nothing, so
 * the functions that fill tcmsg structs divide by 8 (the kernel counts bytes per second).
 *
 * The rules, and why (DESIGN "Bandwidth", docs/bandwidth.md):
 *   burst, cburst  >= max(rate x 1 ms, 64 KiB): a class must be able to send one GSO packet
 *                  (up to 64 KiB) at once, and a burst below one timer tick's worth of bytes
 *                  caps the rate below what was asked.
 *   quantum        proportional to the guarantee, the smallest class getting 64 KiB: HTB hands
 *                  out spare bandwidth by DRR in quantum-sized turns, so equal (or clamped)
 *                  quanta split it equally instead of by guarantee.
 *   bfifo leaf     ceil x 100 ms within [two GSO packets, 8 MiB]: an explicit queue, because an IFB's
 *                  default leaf is a pfifo of txqueuelen (32) packets, far too short at speed.
 *   direct_qlen    explicit, for the same reason.
 *   64-bit rates   a rate of 2^32 bytes/s (34.36 Gbit/s) or more goes in TCA_HTB_RATE64/CEIL64. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc/tcmsg.h"

#define HTB_GSO_MAX 65536u              /* the largest packet HTB meets (a GSO/TSO super-packet) */
#define HTB_BURST_MIN HTB_GSO_MAX       /* bytes */
#define HTB_BURST_MS 1                  /* burst covers at least this much time at the rate */
#define HTB_QUANTUM_MIN HTB_GSO_MAX     /* the smallest guarantee's quantum */
/* The kernel keeps a leaf's quantum in an int and adds it to a deficit that may be negative by up
 * to one packet; 2^30 stays far from overflow.  Proportionality holds up to a 16384:1 ratio of
 * guarantees, beyond that the largest classes share this cap. */
#define HTB_QUANTUM_MAX (1u << 30)
/* Leaf queue, in time at the class's ceil, and its bounds.  100 ms: with 15 ms a 100mbit class
 * dropped ~3 % of a CUBIC flow's packets (31 568 retransmitted segments per GB; Debian's reference
 * plugin, whose TBF queue is unbounded with containerd's burst, 809); with 100 ms it dropped none.
 * A class's queue only delays its own workload.  The cap bounds memory: a UDP flood fills it. */
#define HTB_FIFO_MS 100
#define HTB_FIFO_MIN (2 * HTB_GSO_MAX)  /* bytes: two GSO packets */
#define HTB_FIFO_MAX (8u << 20)         /* bytes */
#define HTB_DIRECT_MS 15                /* the direct queue, in time at the root's rate */
#define HTB_DIRECT_QLEN_MIN 64          /* packets */
#define HTB_FRAME 1514                  /* bytes of a full Ethernet frame, for packet counts */
#define HTB_TABLE_MTU 1600              /* largest size the rate tables cover (tc's default) */
#define HTB_ROOT_MINOR 1                /* the root class is major:1 */
#define HTB_PRIO_MAX 7                  /* TC_HTB_NUMPRIO - 1 */

/* /proc/net/psched: the first three of its four hex numbers, as tc reads them. */
struct htb_psched {
	uint32_t t2us;        /* NSEC_PER_USEC (1000) */
	uint32_t us2t;        /* nanoseconds per tick (64) */
	uint32_t clock_res;   /* 1000000 on every current kernel */
};
/* What every kernel since 2.6.25 reports (ticks of 64 ns). */
#define HTB_PSCHED_DEFAULT { .t2us = 1000, .us2t = 64, .clock_res = 1000000 }

/* Parse the text of /proc/net/psched; -EINVAL when malformed or zero. */
int htb_psched_parse(const char *text, struct htb_psched *ret);
/* Read /proc/net/psched of the running kernel (once, at start-up). */
int htb_psched_read(struct htb_psched *ret);

/* Ticks to send `bytes` at `rate_Bps` bytes/s, rounded up (tc_calc_xmittime).  -EINVAL for a zero
 * rate, -ERANGE when it does not fit the kernel's 32-bit field. */
int htb_xmit_ticks(const struct htb_psched *ps, uint64_t rate_Bps, uint64_t bytes, uint32_t *ret);
/* The 256-slot rate table: slot i = ticks to send (i + 1) << cell_log bytes, cell_log the smallest
 * with mtu >> cell_log <= 255 (3 for 1600), Ethernet link layer (no cell rounding), mpu 0.  Slots
 * that would overflow hold UINT32_MAX. */
int htb_rate_table(const struct htb_psched *ps, uint64_t rate_Bps, uint32_t mtu, uint8_t *ret_cell_log,
                   uint32_t rtab[TCMSG_RTAB_SLOTS]);

/* The rules above, for rates in bit/s; results in bytes (quantum, burst, fifo) or packets. */
uint32_t htb_burst(uint64_t rate);
uint32_t htb_quantum(uint64_t rate, uint64_t min_rate);
uint32_t htb_fifo_limit(uint64_t rate);
uint32_t htb_direct_qlen(uint64_t root_rate);
/* True when the rate needs TCA_HTB_RATE64 / CEIL64. */
bool htb_rate_is_64bit(uint64_t rate);

/* One direction's tree: the qdisc major:0, the root class major:1 at the host's capacity, and one
 * leaf class per workload under it (plus the low class for unclassified traffic, which is just a
 * class here; htb_default names it). */
struct htb_class_spec {
	uint16_t minor;       /* 2..0xffff, unique */
	uint64_t rate;        /* bit/s, the guarantee, > 0 */
	uint64_t ceil;        /* bit/s, >= rate; 0 = the root rate */
	uint32_t prio;        /* 0 (served first) .. HTB_PRIO_MAX */
};

struct htb_tree {
	int ifindex;
	uint16_t major;       /* 1..0xfffe (0xffff is clsact's) */
	uint64_t root_rate;   /* bit/s, the host's capacity in this direction */
	uint16_t default_minor;  /* a class's minor, or 0: unclassified packets use the direct queue */
	const struct htb_class_spec *classes;
	size_t nclasses;
};

/* Structure only (admission is tc/quota's): -EINVAL for a bad major, duplicate or reserved minor,
 * unknown default, zero rate, ceil below rate, or prio above HTB_PRIO_MAX. */
int htb_tree_validate(const struct htb_tree *t);
/* The HTB qdisc (root of the device, with default class and direct_qlen). */
int htb_tree_qdisc(const struct htb_tree *t, struct tcmsg_qdisc *ret);
/* The root class major:1 (parent TC_H_ROOT): rate = ceil = root_rate. */
int htb_tree_root_class(const struct htb_psched *ps, const struct htb_tree *t, struct tcmsg_htb_class *ret);
/* Class i (index into t->classes) under major:1, with burst, quantum and tables filled in. */
int htb_tree_class(const struct htb_psched *ps, const struct htb_tree *t, size_t i, struct tcmsg_htb_class *ret);
/* The bfifo leaf qdisc of class i (handle 0: the kernel names it; send it with TCMSG_REPLACE). */
int htb_tree_leaf(const struct htb_tree *t, size_t i, struct tcmsg_qdisc *ret);
