/* Bandwidth admission control and rate units, pure (no I/O, no logging).
 *
 * Each direction (egress = from workloads, ingress = to them) has a pool: the host's capacity in
 * that direction (the HTB root class) and the sum of the guarantees already admitted.  A workload
 * is admitted when its guarantee fits in what is left; one that asks for none gets a small default
 * guarantee, which counts like any other, so that the sum of guarantees never exceeds the root and
 * HTB can keep every promise at once.
 *
 * Rates are bit/s.  Units follow tc: "bit", "kbit", "mbit", "gbit", "tbit" (powers of 1000),
 * "kibit".."tibit" (powers of 1024), and the BYTE units "bps", "kbps", "mbps", "gbps", "tbps",
 * "kibps".."tibps" (x 8); case-insensitive; a plain number is bit/s; one decimal fraction allowed
 * ("1.5gbit"), rounded down to a whole bit/s. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define QUOTA_DEFAULT_GUARANTEE 1000000ULL   /* 1mbit: a workload that asks for nothing */
#define QUOTA_RATE_STRLEN 32                 /* longest quota_format_rate() output with its NUL */
#define QUOTA_ERRLEN 256

/* -EINVAL for an empty, negative or malformed value or an unknown unit, -ERANGE above
 * UINT64_MAX bit/s. */
int quota_parse_rate(const char *s, uint64_t *ret);
/* The largest unit that divides the rate exactly ("120mbit", "1500kbit", "7bit"), so the text
 * parses back to the same number. */
void quota_format_rate(uint64_t rate, char buf[QUOTA_RATE_STRLEN]);

struct quota_pool {
	uint64_t capacity;           /* bit/s: the root class of this direction */
	uint64_t reserved;           /* bit/s: guarantees admitted so far (unclassified class included) */
	uint64_t default_guarantee;  /* bit/s for a workload that asks none; 0 = QUOTA_DEFAULT_GUARANTEE */
};

struct quota_want {
	uint64_t guarantee;          /* bit/s; 0 = the pool's default guarantee */
	uint64_t limit;              /* bit/s, the class's ceil; 0 = the capacity */
};

/* Decide one workload's share in one direction ("egress" or "ingress", for the message).  On
 * success *ret holds the effective guarantee and limit (defaults resolved) and the caller adds
 * ret->guarantee to pool->reserved.  Refusals, with the numbers in err:
 *   -ENOSPC  the guarantee does not fit in what is left of the capacity;
 *   -EINVAL  the limit exceeds the capacity, or the guarantee exceeds the limit. */
int quota_admit(const struct quota_pool *pool, const char *direction, const char *name,
                const struct quota_want *want, struct quota_want *ret, char err[QUOTA_ERRLEN]);

/* The sum of the effective guarantees of n workloads (for a restart or a capacity change, where
 * the whole set is checked at once): -ERANGE on overflow. */
int quota_sum(const struct quota_want *wants, size_t n, uint64_t default_guarantee, uint64_t *ret);
