/* ipam/: which addresses containers get and which subnets hosts get.  A wrong answer here is a
 * duplicate address on the wire, a container on the gateway's address, or two hosts routing the
 * same subnet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipam/ipam.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct ipam_pool *pool(uint32_t addr, uint8_t len)
{
	struct cidr4 c = { addr, len };
	struct ipam_pool *p = NULL;

	assert_int_equal(ipam_pool_new(&c, &p), 0);
	assert_non_null(p);
	return p;
}

static uint32_t alloc(struct ipam_pool *p)
{
	uint32_t a = 0;

	assert_int_equal(ipam_pool_alloc(p, &a), 0);
	return a;
}

static void test_pool_24_hands_out_2_to_254(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);
	uint32_t a = 0x5a5a5a5a;

	assert_int_equal(ipam_pool_gateway(p), IP(10, 244, 3, 1));
	assert_int_equal(ipam_pool_subnet(p)->addr, IP(10, 244, 3, 0));
	assert_int_equal(ipam_pool_subnet(p)->len, 24);
	assert_int_equal(ipam_pool_usable_count(p), 253);
	assert_int_equal(ipam_pool_free_count(p), 253);
	for (uint32_t i = 2; i <= 254; i++) {
		a = alloc(p);
		assert_int_equal(a, IP(10, 244, 3, i));   /* in order, never .0, .1 or .255 */
		assert_true(ipam_pool_in_use(p, a));
		assert_int_equal(ipam_pool_free_count(p), 254 - i);
	}
	a = 0x5a5a5a5a;
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	assert_int_equal(a, 0x5a5a5a5a);           /* not written on failure */
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	assert_int_equal(ipam_pool_free_count(p), 0);
	assert_false(ipam_pool_in_use(p, IP(10, 244, 3, 0)));
	assert_false(ipam_pool_in_use(p, IP(10, 244, 3, 1)));
	assert_false(ipam_pool_in_use(p, IP(10, 244, 3, 255)));
	ipam_pool_free(p);
}

static void test_pool_normalises_host_bits(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 77), 24);

	assert_int_equal(ipam_pool_subnet(p)->addr, IP(10, 244, 3, 0));
	assert_int_equal(ipam_pool_gateway(p), IP(10, 244, 3, 1));
	assert_int_equal(alloc(p), IP(10, 244, 3, 2));
	ipam_pool_free(p);
}

static void test_pool_sizes(void **state)
{
	struct cidr4 c = { IP(10, 0, 0, 0), 31 };
	struct ipam_pool *p = (struct ipam_pool *)0x1;
	uint32_t a;

	assert_int_equal(ipam_pool_new(&c, &p), -EINVAL);
	c.len = 32;
	assert_int_equal(ipam_pool_new(&c, &p), -EINVAL);
	assert_ptr_equal(p, (struct ipam_pool *)0x1);   /* ret untouched */

	/* /30: network, gateway, one workload, broadcast */
	p = pool(IP(10, 0, 0, 4), 30);
	assert_int_equal(ipam_pool_usable_count(p), 1);
	assert_int_equal(ipam_pool_gateway(p), IP(10, 0, 0, 5));
	assert_int_equal(alloc(p), IP(10, 0, 0, 6));
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	assert_int_equal(ipam_pool_release(p, IP(10, 0, 0, 6)), 0);
	assert_int_equal(alloc(p), IP(10, 0, 0, 6));
	ipam_pool_free(p);

	/* /29: .2 .. .6 */
	p = pool(IP(10, 0, 0, 8), 29);
	assert_int_equal(ipam_pool_usable_count(p), 5);
	for (uint32_t i = 10; i <= 14; i++)
		assert_int_equal(alloc(p), IP(10, 0, 0, i));
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	ipam_pool_free(p);

	/* /16: last usable is .255.254, crossing byte-sized chunks of the bitmap */
	p = pool(IP(10, 244, 0, 0), 16);
	assert_int_equal(ipam_pool_usable_count(p), 65533);
	for (uint32_t i = 0; i < 65533; i++) {
		a = alloc(p);
		assert_int_equal(a, IP(10, 244, 0, 2) + i);
	}
	assert_int_equal(a, IP(10, 244, 255, 254));
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	ipam_pool_free(p);

	ipam_pool_free(NULL);   /* destructors accept NULL */
}

static void test_pool_next_fit(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);

	assert_int_equal(alloc(p), IP(10, 244, 3, 2));
	assert_int_equal(alloc(p), IP(10, 244, 3, 3));
	assert_int_equal(alloc(p), IP(10, 244, 3, 4));
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 3)), 0);
	assert_false(ipam_pool_in_use(p, IP(10, 244, 3, 3)));
	assert_int_equal(ipam_pool_free_count(p), 251);
	/* .3 is free, but a late packet for the old container must not reach a new one */
	for (uint32_t i = 5; i <= 254; i++)
		assert_int_equal(alloc(p), IP(10, 244, 3, i));
	/* now the pool wraps and .3 is the only free address */
	assert_int_equal(alloc(p), IP(10, 244, 3, 3));

	/* release two, the one after the cursor comes back first */
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 100)), 0);
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 2)), 0);
	assert_int_equal(alloc(p), IP(10, 244, 3, 100));
	assert_int_equal(alloc(p), IP(10, 244, 3, 2));
	ipam_pool_free(p);
}

static void test_pool_release_immediately_after(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);
	uint32_t a = alloc(p), b;

	assert_int_equal(ipam_pool_release(p, a), 0);
	b = alloc(p);
	assert_int_not_equal(a, b);   /* alloc/release/alloc does not reuse */
	assert_int_equal(b, IP(10, 244, 3, 3));
	ipam_pool_free(p);
}

static void test_pool_reserve(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);

	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 10)), 0);
	assert_true(ipam_pool_in_use(p, IP(10, 244, 3, 10)));
	assert_int_equal(ipam_pool_free_count(p), 252);
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 10)), -EEXIST);
	assert_int_equal(ipam_pool_free_count(p), 252);
	/* outside the usable range */
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 0)), -ERANGE);
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 1)), -ERANGE);   /* gateway */
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 255)), -ERANGE);
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 4, 2)), -ERANGE);
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 2, 254)), -ERANGE);
	assert_int_equal(ipam_pool_reserve(p, 0), -ERANGE);
	assert_int_equal(ipam_pool_reserve(p, 0xffffffffu), -ERANGE);
	assert_int_equal(ipam_pool_free_count(p), 252);
	/* restoring state moves forward past the newest address */
	assert_int_equal(alloc(p), IP(10, 244, 3, 11));
	/* an allocated address cannot be reserved twice */
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 11)), -EEXIST);
	/* the edges of the range are reservable */
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 2)), 0);
	assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, 254)), 0);
	assert_int_equal(ipam_pool_free_count(p), 249);
	ipam_pool_free(p);
}

static void test_pool_reserve_then_alloc_skips_reserved(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);
	uint32_t a;

	/* restore a state where every even address is taken */
	for (uint32_t i = 2; i <= 254; i += 2)
		assert_int_equal(ipam_pool_reserve(p, IP(10, 244, 3, i)), 0);
	assert_int_equal(ipam_pool_free_count(p), 253 - 127);
	for (uint32_t n = 0; n < 126; n++) {
		a = alloc(p);
		assert_int_equal(a & 1, 1);   /* never a reserved one */
	}
	assert_int_equal(ipam_pool_alloc(p, &a), -ENOSPC);
	for (uint32_t i = 2; i <= 254; i++)
		assert_true(ipam_pool_in_use(p, IP(10, 244, 3, i)));
	ipam_pool_free(p);
}

static void test_pool_release(void **state)
{
	struct ipam_pool *p = pool(IP(10, 244, 3, 0), 24);
	uint32_t a = alloc(p);

	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 50)), -ENOENT);
	assert_int_equal(ipam_pool_free_count(p), 252);
	assert_int_equal(ipam_pool_release(p, a), 0);
	assert_int_equal(ipam_pool_free_count(p), 253);
	assert_int_equal(ipam_pool_release(p, a), -ENOENT);   /* double release does not underflow */
	assert_int_equal(ipam_pool_free_count(p), 253);
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 1)), -ERANGE);
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 3, 255)), -ERANGE);
	assert_int_equal(ipam_pool_release(p, IP(10, 244, 9, 9)), -ERANGE);
	assert_int_equal(ipam_pool_free_count(p), 253);
	ipam_pool_free(p);
}

/* The pool against a plain model: a bitmap scanned address by address from the cursor. */
static void check_against_model(uint32_t net, uint8_t len, unsigned seed)
{
	struct ipam_pool *p = pool(net, len);
	uint32_t count = ipam_pool_usable_count(p), next = 0, used = 0, first = net + 2;
	bool *model = calloc(count, sizeof(bool));

	assert_non_null(model);
	assert_int_equal(count, (1u << (32 - len)) - 3);
	srand(seed);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 10;
		uint32_t i = (uint32_t)rand() % count, a;

		if (op < 5) {                      /* alloc */
			int r = ipam_pool_alloc(p, &a);

			if (used == count) {
				assert_int_equal(r, -ENOSPC);
				continue;
			}
			assert_int_equal(r, 0);
			uint32_t n = 0;

			while (model[(next + n) % count])
				n++;
			uint32_t want = (next + n) % count;

			assert_int_equal(a, first + want);
			model[want] = true;
			used++;
			next = (want + 1) % count;
		} else if (op < 8) {               /* release */
			int r = ipam_pool_release(p, first + i);

			assert_int_equal(r, model[i] ? 0 : -ENOENT);
			if (model[i])
				used--;
			model[i] = false;
		} else {                           /* reserve */
			int r = ipam_pool_reserve(p, first + i);

			assert_int_equal(r, model[i] ? -EEXIST : 0);
			if (!model[i]) {
				model[i] = true;
				used++;
				if (i >= next)
					next = (i + 1) % count;
			}
		}
		assert_int_equal(ipam_pool_free_count(p), count - used);
	}
	for (uint32_t i = 0; i < count; i++)
		assert_int_equal(ipam_pool_in_use(p, first + i), model[i]);
	free(model);
	ipam_pool_free(p);
}

static void test_pool_model(void **state)
{
	check_against_model(IP(10, 244, 3, 0), 24, 1);
	check_against_model(IP(10, 244, 3, 0), 24, 2);
	check_against_model(IP(10, 244, 3, 64), 26, 3);
	check_against_model(IP(10, 244, 3, 248), 29, 4);
	check_against_model(IP(10, 244, 4, 0), 22, 5);
	check_against_model(IP(10, 244, 3, 0), 27, 6);
}

/* --- subnets --- */

static struct cidr4 C(uint32_t addr, uint8_t len)
{
	struct cidr4 c = { addr, len };
	return c;
}

static void test_pick_empty_and_hint(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 16), r;
	char buf[CIDR4_STRLEN];

	assert_int_equal(ipam_subnet_pick(&net, 24, NULL, 0, 0, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.0.0/24");
	assert_int_equal(ipam_subnet_pick(&net, 24, NULL, 0, 7, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.7.0/24");
	assert_int_equal(ipam_subnet_pick(&net, 24, NULL, 0, 255, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.255.0/24");
	/* a hint past the end wraps (a hash of the node name is a fine hint) */
	assert_int_equal(ipam_subnet_pick(&net, 24, NULL, 0, 256 + 9, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.9.0/24");
	assert_int_equal(ipam_subnet_pick(&net, 24, NULL, 0, UINT32_MAX, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.255.0/24");
	assert_int_equal(ipam_subnet_pick(&net, 26, NULL, 0, 5, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.1.64/26");
	/* the whole network as one subnet */
	assert_int_equal(ipam_subnet_pick(&net, 16, NULL, 0, 3, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.0.0/16");
}

static void test_pick_skips_taken_and_wraps(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 16), r;
	struct cidr4 taken[] = { C(IP(10, 244, 7, 0), 24), C(IP(10, 244, 8, 0), 24), C(IP(10, 244, 255, 0), 24),
	                         C(IP(10, 244, 0, 0), 24) };
	char buf[CIDR4_STRLEN];

	assert_int_equal(ipam_subnet_pick(&net, 24, taken, 4, 7, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.9.0/24");
	assert_int_equal(ipam_subnet_pick(&net, 24, taken, 4, 6, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.6.0/24");
	/* from the last index: .255 taken, wraps, .0 taken, so .1 */
	assert_int_equal(ipam_subnet_pick(&net, 24, taken, 4, 255, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.1.0/24");
	/* taken prefixes outside the network do not matter */
	struct cidr4 outside[] = { C(IP(10, 245, 0, 0), 24), C(IP(192, 168, 0, 0), 16) };

	assert_int_equal(ipam_subnet_pick(&net, 24, outside, 2, 0, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.0.0/24");
}

static void test_pick_larger_and_smaller_taken(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 16), r;
	char buf[CIDR4_STRLEN];
	/* a /22 covers four /24 candidates; a /25 inside a candidate makes that one busy too */
	struct cidr4 taken[] = { C(IP(10, 244, 4, 0), 22), C(IP(10, 244, 8, 128), 25) };

	for (uint32_t hint = 4; hint <= 8; hint++) {
		assert_int_equal(ipam_subnet_pick(&net, 24, taken, 2, hint, &r), 0);
		assert_string_equal(cidr4_format(&r, buf), "10.244.9.0/24");
	}
	assert_int_equal(ipam_subnet_pick(&net, 24, taken, 2, 3, &r), 0);
	assert_string_equal(cidr4_format(&r, buf), "10.244.3.0/24");

	/* A network that is all covered by one taken prefix is full. */
	struct cidr4 all[] = { C(IP(10, 0, 0, 0), 8) };

	r = C(1, 1);
	assert_int_equal(ipam_subnet_pick(&net, 24, all, 1, 0, &r), -ENOSPC);
	assert_int_equal(r.addr, 1);   /* untouched */
	assert_int_equal(r.len, 1);
}

static void test_pick_full(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 22), r;
	struct cidr4 taken[4];
	char buf[CIDR4_STRLEN];

	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cidr4_subnet(&net, 24, i, &taken[i]), 0);
	for (uint32_t hint = 0; hint < 4; hint++)
		assert_int_equal(ipam_subnet_pick(&net, 24, taken, 4, hint, &r), -ENOSPC);
	/* freeing one gives it back whatever the hint */
	for (uint32_t hint = 0; hint < 4; hint++) {
		assert_int_equal(ipam_subnet_pick(&net, 24, taken, 3, hint, &r), 0);
		assert_string_equal(cidr4_format(&r, buf), "10.244.3.0/24");
	}
	/* a taken subnet of another length inside the last one still blocks it */
	taken[3] = C(IP(10, 244, 3, 252), 30);
	assert_int_equal(ipam_subnet_pick(&net, 24, taken, 4, 0, &r), -ENOSPC);
}

static void test_pick_bad_lengths(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 16), r;

	assert_int_equal(ipam_subnet_pick(&net, 15, NULL, 0, 0, &r), -EINVAL);
	assert_int_equal(ipam_subnet_pick(&net, 31, NULL, 0, 0, &r), -EINVAL);
	assert_int_equal(ipam_subnet_pick(&net, 32, NULL, 0, 0, &r), -EINVAL);
}

static void test_pick_never_overlaps(void **state)
{
	struct cidr4 net = C(IP(10, 244, 0, 0), 16);
	struct cidr4 taken[300];

	srand(42);
	for (int round = 0; round < 300; round++) {
		size_t n = 0;
		struct cidr4 r;
		uint8_t sublen = (uint8_t)(20 + rand() % 7);     /* /20 .. /26 */
		int ret;

		/* hosts grow their cluster one mixed-length lease at a time */
		for (int k = 0; k < 200; k++) {
			uint32_t hint = (uint32_t)rand();

			ret = ipam_subnet_pick(&net, sublen, taken, n, hint, &r);
			if (ret == -ENOSPC)
				break;
			assert_int_equal(ret, 0);
			assert_int_equal(r.len, sublen);
			assert_true(cidr4_contains_prefix(&net, &r));
			assert_int_equal(r.addr & ~cidr4_mask(sublen), 0);
			for (size_t t = 0; t < n; t++)
				if (cidr4_overlaps(&r, &taken[t])) {
					char a[CIDR4_STRLEN], b[CIDR4_STRLEN];

					fail_msg("picked %s overlapping taken %s", cidr4_format(&r, a), cidr4_format(&taken[t], b));
				}
			taken[n++] = r;
			sublen = (uint8_t)(20 + rand() % 7);
		}
		if (ret == -ENOSPC) {
			/* full must mean full: every candidate overlaps something */
			uint32_t count = 1u << (sublen - 16);

			for (uint32_t i = 0; i < count; i++) {
				struct cidr4 c;
				bool busy = false;

				assert_int_equal(cidr4_subnet(&net, sublen, i, &c), 0);
				for (size_t t = 0; t < n && !busy; t++)
					busy = cidr4_overlaps(&c, &taken[t]);
				assert_true(busy);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_24_hands_out_2_to_254),
		cmocka_unit_test(test_pool_normalises_host_bits),
		cmocka_unit_test(test_pool_sizes),
		cmocka_unit_test(test_pool_next_fit),
		cmocka_unit_test(test_pool_release_immediately_after),
		cmocka_unit_test(test_pool_reserve),
		cmocka_unit_test(test_pool_reserve_then_alloc_skips_reserved),
		cmocka_unit_test(test_pool_release),
		cmocka_unit_test(test_pool_model),
		cmocka_unit_test(test_pick_empty_and_hint),
		cmocka_unit_test(test_pick_skips_taken_and_wraps),
		cmocka_unit_test(test_pick_larger_and_smaller_taken),
		cmocka_unit_test(test_pick_full),
		cmocka_unit_test(test_pick_bad_lengths),
		cmocka_unit_test(test_pick_never_overlaps),
	};

	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
