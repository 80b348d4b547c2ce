#include "lib/ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/cidr.h"

int ipaddr_parse(const char *s, struct ipaddr *ret)
{
	struct ipaddr a = { 0 };

	if (!s)
		return -EINVAL;
	if (ip4_parse(s, &a.v4) == 0) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, s, a.v6) == 1) {
		a.family = AF_INET6;
	} else {
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

const char *ipaddr_format(const struct ipaddr *a, char buf[IPADDR_STRLEN])
{
	buf[0] = '\0';
	if (a->family == AF_INET)
		ip4_format(a->v4, buf);
	else if (a->family == AF_INET6 && !inet_ntop(AF_INET6, a->v6, buf, IPADDR_STRLEN))
		buf[0] = '\0';
	return buf;
}

const char *ipaddr_family_name(const struct ipaddr *a)
{
	return a->family == AF_INET ? "IPv4" : a->family == AF_INET6 ? "IPv6" : "no address";
}

bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	if (a->family == AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

bool ipaddr_same_prefix(const struct ipaddr *a, const struct ipaddr *b, uint8_t len)
{
	if (a->family != b->family || a->family == 0)
		return false;
	if (a->family == AF_INET) {
		uint32_t mask = cidr4_mask(len > 32 ? 32 : len);

		return (a->v4 & mask) == (b->v4 & mask);
	}
	if (len > 128)
		len = 128;
	if (memcmp(a->v6, b->v6, len / 8) != 0)
		return false;
	if (len % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - len % 8));

		return (a->v6[len / 8] & mask) == (b->v6[len / 8] & mask);
	}
	return true;
}

bool ipaddr_is_unicast(const struct ipaddr *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *v = a->v6;

	if (a->family == AF_INET)
		return (a->v4 >> 24) != 0 && (a->v4 >> 24) != 127 && (a->v4 >> 28) < 14;
	if (a->family != AF_INET6)
		return false;
	if (memcmp(v, zero, 15) == 0)   /* :: and ::1 */
		return false;
	if (v[0] == 0xff || (v[0] == 0xfe && (v[1] & 0xc0) == 0x80))   /* multicast, fe80::/10 */
		return false;
	return memcmp(v, mapped, 12) != 0;
}
