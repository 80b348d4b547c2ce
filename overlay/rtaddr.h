/* rtnetlink IPv4 address messages: builder and parser (round-trip tested). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct rtaddr_info {
	int ifindex;
	uint32_t addr;       /* host byte order */
	uint8_t prefixlen;
};

/* cmd: RTM_NEWADDR (create or replace: idempotent) or RTM_DELADDR. */
int rtaddr_build(void *buf, size_t buflen, uint32_t seq, uint16_t cmd, int ifindex, uint32_t addr, uint8_t prefixlen);
/* Dump of IPv4 addresses (all links). */
int rtaddr_build_dump(void *buf, size_t buflen, uint32_t seq);
int rtaddr_parse(const struct nlmsghdr *nlh, struct rtaddr_info *ret);
