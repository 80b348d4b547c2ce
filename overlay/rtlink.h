/* rtnetlink link messages: pure builders (fill a caller's buffer, never overflow it) and a parser
 * that mirrors them.  Builders return the message length or -ENOBUFS (-EINVAL for a value the
 * kernel would refuse, where said). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define RTLINK_MAC_LEN 6
/* IFNAMSIZ: an interface name with its NUL. */
#define RTLINK_NAME_SIZE 16
/* IFALIASZ: the kernel keeps at most 255 bytes of alias (and refuses longer ones with EINVAL). */
#define RTLINK_ALIAS_SIZE 256
/* IPV6_MIN_MTU: a device with a smaller MTU has no IPv6 at all (no inet6_dev), and the kernel refuses
 * any IPv6 setting on it with EAFNOSUPPORT. */
#define RTLINK_IPV6_MIN_MTU 1280
/* The longest rtlink_build_set_group() message (a 15-byte name), for sizing batches. */
#define RTLINK_SET_GROUP_MAXLEN (16 + 16 + 8 + 4 + RTLINK_NAME_SIZE)
/* The longest rtlink_build_set_alias() message by name, for sizing batches. */
#define RTLINK_SET_ALIAS_MAXLEN (16 + 16 + 4 + RTLINK_NAME_SIZE + 4 + RTLINK_ALIAS_SIZE)

struct rtlink_veth {
	const char *name;            /* host side, in the socket's namespace */
	const char *peer_name;       /* container side */
	int peer_netns_fd;           /* the peer is created straight inside this namespace; -1 = none */
	uint32_t mtu;                /* both ends; 0 = kernel default */
	uint32_t master;             /* ifindex of the bridge for the host side; 0 = none */
	bool up;                     /* host end up (the peer cannot be: see rtlink.c) */
	const uint8_t *mac;          /* host side MAC or NULL (random) */
	const uint8_t *peer_mac;     /* peer MAC or NULL */
};

struct rtlink_bridge {
	const char *name;
	const uint8_t *mac;          /* fixed, so the bridge's MAC does not follow its ports */
	uint32_t mtu;
	bool up;
};

struct rtlink_info {
	int ifindex;
	char name[RTLINK_NAME_SIZE];
	char kind[16];               /* "veth", "bridge", ... or "" */
	unsigned flags;              /* IFF_* */
	uint32_t mtu;
	uint32_t master;
	uint32_t group;
	uint8_t mac[RTLINK_MAC_LEN];
	bool has_mac;
	char alias[RTLINK_ALIAS_SIZE];   /* IFLA_IFALIAS; "" = none */
};

int rtlink_build_veth(void *buf, size_t buflen, uint32_t seq, const struct rtlink_veth *v);
int rtlink_build_bridge(void *buf, size_t buflen, uint32_t seq, const struct rtlink_bridge *b);
/* Change flags (mask `change`), MTU (0 = keep) and master (-1 = keep, 0 = none) of an existing link. */
int rtlink_build_set(void *buf, size_t buflen, uint32_t seq, int ifindex, unsigned flags, unsigned change,
                     uint32_t mtu, int64_t master);
/* Set IPv6 address generation to "none" (no link-local address, hence no DAD, router solicitation
 * or MLD report) and optionally bring the link up, by index or by name. */
int rtlink_build_set_no_ipv6ll(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, bool up);
/* Bring a link up, by index or by name (for a device below RTLINK_IPV6_MIN_MTU, which has no IPv6
 * to switch off: rtlink_build_set_no_ipv6ll() would fail with EAFNOSUPPORT there). */
int rtlink_build_set_up(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name);
/* Set the alias (IFLA_IFALIAS) of an existing link, by index (ifindex > 0) or by name.  "" clears it;
 * -EINVAL when longer than RTLINK_ALIAS_SIZE - 1 bytes.  The kernel ignores IFLA_IFALIAS in the
 * RTM_NEWLINK that creates a device (see rtlink.c): this is how a new device gets its alias. */
int rtlink_build_set_alias(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, const char *alias);
/* Move an existing link (by index, or by name when ifindex <= 0) into device group `group`. */
int rtlink_build_set_group(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name, uint32_t group);
/* Delete by index (ifindex > 0) or by name. */
int rtlink_build_del(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name);
/* Delete every device of group `group` in the namespace in one request (one RCU grace period for
 * all of them).  Never use group 0: every device starts in it. */
int rtlink_build_del_group(void *buf, size_t buflen, uint32_t seq, uint32_t group);
/* GET by index or name (single answer), or a dump when both are unset. */
int rtlink_build_get(void *buf, size_t buflen, uint32_t seq, int ifindex, const char *name);

/* Parse an RTM_NEWLINK message (a GET answer or a dump entry). */
int rtlink_parse(const struct nlmsghdr *nlh, struct rtlink_info *ret);
/* "aa:bb:cc:dd:ee:ff" */
void rtlink_format_mac(const uint8_t mac[RTLINK_MAC_LEN], char buf[18]);
