#include "ipam/ipam.h"

#include <errno.h>
#include <stdlib.h>

struct ipam_pool {
	struct cidr4 subnet;
	uint32_t first;      /* first usable address */
	uint32_t count;      /* usable addresses: first .. first + count - 1 */
	uint32_t used;
	uint32_t next;       /* next-fit cursor, an index */
	uint8_t bits[];      /* 1 bit per usable address */
};

int ipam_subnet_pick(const struct cidr4 *network, uint8_t sublen, const struct cidr4 *taken, size_t ntaken,
                     uint32_t hint, struct cidr4 *ret)
{
	uint64_t count;

	if (sublen < network->len || sublen > 30)
		return -EINVAL;
	count = (uint64_t)1 << (sublen - network->len);
	for (uint64_t i = 0; i < count; i++) {
		struct cidr4 c;
		bool busy = false;

		cidr4_subnet(network, sublen, (uint32_t)((hint + i) % count), &c);
		for (size_t t = 0; t < ntaken && !busy; t++)
			busy = cidr4_overlaps(&c, &taken[t]);
		if (!busy) {
			*ret = c;
			return 0;
		}
	}
	return -ENOSPC;
}

int ipam_pool_new(const struct cidr4 *subnet, struct ipam_pool **ret)
{
	struct ipam_pool *p;
	uint32_t count;

	if (subnet->len > 30 || subnet->len < 8)
		return -EINVAL;
	/* network, gateway and broadcast are not usable */
	count = (uint32_t)(cidr4_size(subnet) - 3);
	p = calloc(1, sizeof(*p) + (count + 7) / 8);
	if (!p)
		return -ENOMEM;
	p->subnet.addr = subnet->addr & cidr4_mask(subnet->len);
	p->subnet.len = subnet->len;
	p->first = p->subnet.addr + 2;
	p->count = count;
	*ret = p;
	return 0;
}

void ipam_pool_free(struct ipam_pool *p)
{
	free(p);
}

uint32_t ipam_pool_gateway(const struct ipam_pool *p) { return p->subnet.addr + 1; }
const struct cidr4 *ipam_pool_subnet(const struct ipam_pool *p) { return &p->subnet; }
uint32_t ipam_pool_free_count(const struct ipam_pool *p) { return p->count - p->used; }
uint32_t ipam_pool_usable_count(const struct ipam_pool *p) { return p->count; }

static bool bit_get(const struct ipam_pool *p, uint32_t i) { return p->bits[i / 8] & (1u << (i % 8)); }
static void bit_set(struct ipam_pool *p, uint32_t i) { p->bits[i / 8] |= (uint8_t)(1u << (i % 8)); }
static void bit_clear(struct ipam_pool *p, uint32_t i) { p->bits[i / 8] &= (uint8_t)~(1u << (i % 8)); }

static int index_of(const struct ipam_pool *p, uint32_t addr, uint32_t *ret)
{
	if (addr < p->first || addr - p->first >= p->count)
		return -ERANGE;
	*ret = addr - p->first;
	return 0;
}

bool ipam_pool_in_use(const struct ipam_pool *p, uint32_t addr)
{
	uint32_t i;

	return index_of(p, addr, &i) == 0 && bit_get(p, i);
}

int ipam_pool_reserve(struct ipam_pool *p, uint32_t addr)
{
	uint32_t i;
	int r;

	r = index_of(p, addr, &i);
	if (r < 0)
		return r;
	if (bit_get(p, i))
		return -EEXIST;
	bit_set(p, i);
	p->used++;
	/* Restoring state moves the cursor past the newest address so we keep going forward. */
	if (i >= p->next)
		p->next = (i + 1) % p->count;
	return 0;
}

int ipam_pool_alloc(struct ipam_pool *p, uint32_t *ret_addr)
{
	if (p->used == p->count)
		return -ENOSPC;
	for (uint32_t n = 0; n < p->count; n++) {
		uint32_t i = (p->next + n) % p->count;

		/* Skip whole bytes that are full. */
		if (p->bits[i / 8] == 0xff && i % 8 == 0 && i + 8 <= p->count) {
			n += 7;
			continue;
		}
		if (!bit_get(p, i)) {
			bit_set(p, i);
			p->used++;
			p->next = (i + 1) % p->count;
			*ret_addr = p->first + i;
			return 0;
		}
	}
	return -ENOSPC;
}

int ipam_pool_release(struct ipam_pool *p, uint32_t addr)
{
	uint32_t i;
	int r;

	r = index_of(p, addr, &i);
	if (r < 0)
		return r;
	if (!bit_get(p, i))
		return -ENOENT;
	bit_clear(p, i);
	p->used--;
	return 0;
}
