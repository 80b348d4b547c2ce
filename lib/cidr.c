#include "lib/cidr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ip4_parse(const char *s, uint32_t *ret_addr)
{
	uint32_t addr = 0;
	int parts = 0;

	if (!s)
		return -EINVAL;
	/* Strict dotted quad: no leading zeros (ambiguous octal), no spaces, four parts. */
	while (parts < 4) {
		unsigned v = 0, digits = 0;

		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s - '0');
			s++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -EINVAL;
		addr = addr << 8 | v;
		parts++;
		if (parts < 4) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
	}
	if (*s != '\0')
		return -EINVAL;
	*ret_addr = addr;
	return 0;
}

const char *ip4_format(uint32_t a, char buf[IP4_STRLEN])
{
	snprintf(buf, IP4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

uint32_t cidr4_mask(uint8_t len)
{
	return len == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - len));
}

static int parse_with_sep(const char *s, char sep, bool prefix_only, struct cidr4 *ret)
{
	char ip[IP4_STRLEN];
	const char *slash;
	size_t n;
	uint32_t addr;
	unsigned len = 0, digits = 0;
	const char *p;
	int r;

	if (!s)
		return -EINVAL;
	slash = strchr(s, sep);
	if (!slash)
		return -EINVAL;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	r = ip4_parse(ip, &addr);
	if (r < 0)
		return r;
	for (p = slash + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		len = len * 10 + (unsigned)(*p - '0');
	if (digits == 0 || *p != '\0' || len > 32 || (digits > 1 && slash[1] == '0'))
		return -EINVAL;
	if (prefix_only && (addr & ~cidr4_mask((uint8_t)len)))
		return -EINVAL;
	ret->addr = addr;
	ret->len = (uint8_t)len;
	return 0;
}

int cidr4_parse(const char *s, struct cidr4 *ret) { return parse_with_sep(s, '/', false, ret); }
int cidr4_parse_prefix(const char *s, struct cidr4 *ret) { return parse_with_sep(s, '/', true, ret); }
int cidr4_parse_key(const char *s, struct cidr4 *ret) { return parse_with_sep(s, '-', true, ret); }

const char *cidr4_format(const struct cidr4 *c, char buf[CIDR4_STRLEN])
{
	char ip[IP4_STRLEN];

	snprintf(buf, CIDR4_STRLEN, "%s/%u", ip4_format(c->addr, ip), c->len);
	return buf;
}

const char *cidr4_format_key(const struct cidr4 *c, char buf[CIDR4_STRLEN])
{
	char ip[IP4_STRLEN];

	snprintf(buf, CIDR4_STRLEN, "%s-%u", ip4_format(c->addr, ip), c->len);
	return buf;
}

uint64_t cidr4_size(const struct cidr4 *c)
{
	return (uint64_t)1 << (32 - c->len);
}

bool cidr4_contains(const struct cidr4 *outer, uint32_t addr)
{
	uint32_t m = cidr4_mask(outer->len);

	return (addr & m) == (outer->addr & m);
}

bool cidr4_contains_prefix(const struct cidr4 *outer, const struct cidr4 *inner)
{
	return inner->len >= outer->len && cidr4_contains(outer, inner->addr);
}

bool cidr4_overlaps(const struct cidr4 *a, const struct cidr4 *b)
{
	return cidr4_contains_prefix(a, b) || cidr4_contains_prefix(b, a);
}

int cidr4_subnet(const struct cidr4 *net, uint8_t sublen, uint32_t index, struct cidr4 *ret)
{
	uint64_t count;

	if (sublen < net->len || sublen > 32)
		return -EINVAL;
	count = (uint64_t)1 << (sublen - net->len);
	if (index >= count)
		return -ERANGE;
	ret->addr = (net->addr & cidr4_mask(net->len)) + (uint32_t)((uint64_t)index << (32 - sublen));
	ret->len = sublen;
	return 0;
}
