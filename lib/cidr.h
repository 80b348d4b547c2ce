/* IPv4 addresses and prefixes in host byte order.  Pure functions, no I/O. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define IP4_STRLEN   16   /* "255.255.255.255" + NUL */
#define CIDR4_STRLEN 19   /* "255.255.255.255/32" + NUL */

struct cidr4 {
	uint32_t addr;  /* host byte order; for a prefix, the network address */
	uint8_t len;    /* 0..32 */
};

int ip4_parse(const char *s, uint32_t *ret_addr);
const char *ip4_format(uint32_t addr, char buf[IP4_STRLEN]);

/* "a.b.c.d/len".  cidr4_parse() keeps host bits (10.0.0.5/24 stays .5), cidr4_parse_prefix()
 * rejects them. */
int cidr4_parse(const char *s, struct cidr4 *ret);
int cidr4_parse_prefix(const char *s, struct cidr4 *ret);
const char *cidr4_format(const struct cidr4 *c, char buf[CIDR4_STRLEN]);

uint32_t cidr4_mask(uint8_t len);
uint64_t cidr4_size(const struct cidr4 *c);              /* number of addresses */
bool cidr4_contains(const struct cidr4 *outer, uint32_t addr);
bool cidr4_contains_prefix(const struct cidr4 *outer, const struct cidr4 *inner);
bool cidr4_overlaps(const struct cidr4 *a, const struct cidr4 *b);
/* The index-th subnet of length sublen inside net (index 0 = first). */
int cidr4_subnet(const struct cidr4 *net, uint8_t sublen, uint32_t index, struct cidr4 *ret);
/* Store key form "10.244.3.0-24" (no slash, so it can be a file or key name) and back. */
const char *cidr4_format_key(const struct cidr4 *c, char buf[CIDR4_STRLEN]);
int cidr4_parse_key(const char *s, struct cidr4 *ret);
