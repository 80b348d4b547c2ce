/* lib/cidr: the parsers every config value and store key goes through, and the prefix math IPAM
 * relies on.  A parser that accepts "010.0.0.1" or "10.0.0.0/240" hands the kernel something
 * other than what the user wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/cidr.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void test_ip4_parse_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t addr;
	} cases[] = {
		{ "0.0.0.0", 0 },
		{ "10.244.3.7", IP(10, 244, 3, 7) },
		{ "255.255.255.255", 0xffffffffu },
		{ "1.2.3.4", IP(1, 2, 3, 4) },
		{ "192.168.0.100", IP(192, 168, 0, 100) },
		{ "100.0.10.0", IP(100, 0, 10, 0) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t a = 0xdeadbeef;

		assert_int_equal(ip4_parse(cases[i].s, &a), 0);
		assert_int_equal(a, cases[i].addr);
	}
}

static void test_ip4_parse_strict(void **state)
{
	static const char *bad[] = {
		"", "1", "1.2", "1.2.3", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4.", "1.2.3.4.5",
		"256.1.1.1", "1.1.1.256", "1.2.3.1000", "1.2.3.0255",
		"01.2.3.4", "1.02.3.4", "1.2.3.04", "00.0.0.0", "1.2.3.00",     /* leading zeros: octal? */
		" 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2. 3.4", "1.2.3.4x", "1.2.3.4/24",
		"+1.2.3.4", "-1.2.3.4", "1.2.3.-4", "0x1.2.3.4", "a.b.c.d", "1,2,3,4",
	};
	uint32_t a = 0x12345678;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip4_parse(bad[i], &a) != -EINVAL)
			fail_msg("ip4_parse accepted \"%s\"", bad[i]);
	}
	assert_int_equal(a, 0x12345678);   /* never written on failure */
	assert_int_equal(ip4_parse(NULL, &a), -EINVAL);
}

static void test_ip4_format(void **state)
{
	char buf[IP4_STRLEN];
	uint32_t samples[] = { 0, 1, IP(10, 244, 3, 7), IP(255, 255, 255, 255), IP(100, 0, 10, 0), IP(1, 2, 3, 4) };

	assert_string_equal(ip4_format(IP(10, 244, 3, 7), buf), "10.244.3.7");
	assert_string_equal(ip4_format(0xffffffffu, buf), "255.255.255.255");
	assert_string_equal(ip4_format(0, buf), "0.0.0.0");
	/* round trip */
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint32_t back;

		assert_int_equal(ip4_parse(ip4_format(samples[i], buf), &back), 0);
		assert_int_equal(back, samples[i]);
	}
	/* a pseudo-random sweep */
	for (uint32_t i = 0, x = 12345; i < 10000; i++) {
		uint32_t back;

		x = x * 1103515245u + 12345u;
		assert_int_equal(ip4_parse(ip4_format(x, buf), &back), 0);
		assert_int_equal(back, x);
	}
}

static void test_cidr4_parse_valid(void **state)
{
	struct cidr4 c;
	char buf[CIDR4_STRLEN];

	assert_int_equal(cidr4_parse("10.244.0.0/16", &c), 0);
	assert_int_equal(c.addr, IP(10, 244, 0, 0));
	assert_int_equal(c.len, 16);
	/* cidr4_parse keeps host bits: an interface address with its prefix. */
	assert_int_equal(cidr4_parse("10.244.3.5/24", &c), 0);
	assert_int_equal(c.addr, IP(10, 244, 3, 5));
	assert_int_equal(c.len, 24);
	assert_int_equal(cidr4_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.addr, 0);
	assert_int_equal(c.len, 0);
	assert_int_equal(cidr4_parse("1.2.3.4/32", &c), 0);
	assert_int_equal(c.len, 32);
	assert_int_equal(cidr4_parse("255.255.255.255/32", &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "255.255.255.255/32");
}

static void test_cidr4_parse_strict(void **state)
{
	static const char *bad[] = {
		"10.0.0.0", "10.0.0.0/", "/24", "/", "", "10.0.0.0/33", "10.0.0.0/100", "10.0.0.0/024",
		"10.0.0.0/00", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/8x",
		"10.0.0.0/8/8", "10.0.0.0//8", "10.0.0/8", "010.0.0.0/8", "256.0.0.0/8", "10.0.0.0 /8",
		"10.0.0.0/1234", "1.2.3.4.5/8", "10.0.0.0-8", "255.255.255.2555/32",
		"100000000000000000000.0.0.0/8",
	};
	struct cidr4 c = { 0x11111111, 7 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr4_parse(bad[i], &c) != -EINVAL)
			fail_msg("cidr4_parse accepted \"%s\"", bad[i]);
		if (cidr4_parse_prefix(bad[i], &c) != -EINVAL)
			fail_msg("cidr4_parse_prefix accepted \"%s\"", bad[i]);
	}
	assert_int_equal(c.addr, 0x11111111);
	assert_int_equal(c.len, 7);
	assert_int_equal(cidr4_parse(NULL, &c), -EINVAL);
	assert_int_equal(cidr4_parse_prefix(NULL, &c), -EINVAL);
}

static void test_cidr4_parse_prefix_host_bits(void **state)
{
	static const char *bad[] = {
		"10.244.3.5/24", "10.245.0.0/15", "10.0.0.1/31", "128.0.0.0/0", "0.0.0.1/0", "10.244.3.128/24",
		"192.168.1.1/16",
	};
	static const char *good[] = {
		"10.244.0.0/16", "10.244.0.0/14", "10.0.0.0/31", "10.0.0.1/32", "0.0.0.0/0", "128.0.0.0/1",
		"10.244.3.128/25",
	};
	struct cidr4 c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr4_parse_prefix(bad[i], &c) != -EINVAL)
			fail_msg("cidr4_parse_prefix accepted host bits in \"%s\"", bad[i]);
		/* the lenient parser takes it */
		assert_int_equal(cidr4_parse(bad[i], &c), 0);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char buf[CIDR4_STRLEN];

		if (cidr4_parse_prefix(good[i], &c) != 0)
			fail_msg("cidr4_parse_prefix rejected \"%s\"", good[i]);
		assert_string_equal(cidr4_format(&c, buf), good[i]);
	}
}

static void test_cidr4_format_round_trip(void **state)
{
	char buf[CIDR4_STRLEN];

	for (unsigned len = 0; len <= 32; len++) {
		struct cidr4 c = { IP(172, 16, 255, 255) & cidr4_mask((uint8_t)len), (uint8_t)len }, back;

		cidr4_format(&c, buf);
		assert_int_equal(cidr4_parse_prefix(buf, &back), 0);
		assert_int_equal(back.addr, c.addr);
		assert_int_equal(back.len, c.len);
	}
	struct cidr4 w = { IP(10, 244, 3, 7), 24 };

	assert_string_equal(cidr4_format(&w, buf), "10.244.3.7/24");
}

static void test_cidr4_mask_size(void **state)
{
	struct cidr4 c = { 0, 0 };

	assert_int_equal(cidr4_mask(0), 0);
	assert_int_equal(cidr4_mask(1), 0x80000000u);
	assert_int_equal(cidr4_mask(8), 0xff000000u);
	assert_int_equal(cidr4_mask(24), 0xffffff00u);
	assert_int_equal(cidr4_mask(31), 0xfffffffeu);
	assert_int_equal(cidr4_mask(32), 0xffffffffu);
	assert_true(cidr4_size(&c) == (uint64_t)1 << 32);
	c.len = 24;
	assert_int_equal(cidr4_size(&c), 256);
	c.len = 32;
	assert_int_equal(cidr4_size(&c), 1);
	c.len = 30;
	assert_int_equal(cidr4_size(&c), 4);
}

static void test_cidr4_contains(void **state)
{
	struct cidr4 net = { IP(10, 244, 0, 0), 16 }, all = { 0, 0 }, host = { IP(10, 244, 3, 7), 32 };

	assert_true(cidr4_contains(&net, IP(10, 244, 0, 0)));
	assert_true(cidr4_contains(&net, IP(10, 244, 255, 255)));
	assert_true(cidr4_contains(&net, IP(10, 244, 3, 7)));
	assert_false(cidr4_contains(&net, IP(10, 245, 0, 0)));
	assert_false(cidr4_contains(&net, IP(10, 243, 255, 255)));
	assert_false(cidr4_contains(&net, IP(11, 244, 0, 0)));
	assert_true(cidr4_contains(&all, 0xffffffffu));
	assert_true(cidr4_contains(&all, 0));
	assert_true(cidr4_contains(&host, IP(10, 244, 3, 7)));
	assert_false(cidr4_contains(&host, IP(10, 244, 3, 6)));

	/* A prefix written with host bits still contains by its network part. */
	struct cidr4 sloppy = { IP(10, 244, 3, 5), 24 };

	assert_true(cidr4_contains(&sloppy, IP(10, 244, 3, 200)));
	assert_false(cidr4_contains(&sloppy, IP(10, 244, 4, 5)));
}

static void test_cidr4_contains_prefix_overlaps(void **state)
{
	struct cidr4 n16 = { IP(10, 244, 0, 0), 16 }, s24 = { IP(10, 244, 3, 0), 24 },
	             o24 = { IP(10, 245, 3, 0), 24 }, s23 = { IP(10, 244, 2, 0), 23 },
	             n4 = { IP(10, 244, 4, 0), 24 }, all = { 0, 0 }, n8 = { IP(10, 0, 0, 0), 8 };

	assert_true(cidr4_contains_prefix(&n16, &s24));
	assert_false(cidr4_contains_prefix(&s24, &n16));     /* the larger is not inside the smaller */
	assert_true(cidr4_contains_prefix(&n16, &n16));
	assert_false(cidr4_contains_prefix(&n16, &o24));
	assert_true(cidr4_contains_prefix(&s23, &s24));
	assert_false(cidr4_contains_prefix(&s23, &n4));
	assert_true(cidr4_contains_prefix(&all, &s24));
	assert_true(cidr4_contains_prefix(&n8, &n16));

	assert_true(cidr4_overlaps(&n16, &s24));
	assert_true(cidr4_overlaps(&s24, &n16));             /* symmetric */
	assert_true(cidr4_overlaps(&s23, &s24));
	assert_true(cidr4_overlaps(&s24, &s23));
	assert_false(cidr4_overlaps(&s23, &n4));             /* 10.244.2.0/23 ends at .3.255 */
	assert_false(cidr4_overlaps(&n4, &s23));
	assert_false(cidr4_overlaps(&n16, &o24));
	assert_false(cidr4_overlaps(&o24, &n16));
	assert_true(cidr4_overlaps(&all, &o24));
	assert_true(cidr4_overlaps(&s24, &s24));
	/* adjacent /24s do not overlap */
	struct cidr4 a = { IP(10, 0, 0, 0), 24 }, b = { IP(10, 0, 1, 0), 24 };

	assert_false(cidr4_overlaps(&a, &b));
	assert_false(cidr4_overlaps(&b, &a));
}

static void test_cidr4_subnet(void **state)
{
	struct cidr4 net = { IP(10, 244, 0, 0), 16 }, c = { 0x55555555, 3 };
	char buf[CIDR4_STRLEN];

	assert_int_equal(cidr4_subnet(&net, 24, 0, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.0.0/24");
	assert_int_equal(cidr4_subnet(&net, 24, 3, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.3.0/24");
	assert_int_equal(cidr4_subnet(&net, 24, 255, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.255.0/24");
	assert_int_equal(cidr4_subnet(&net, 26, 5, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.1.64/26");
	assert_int_equal(cidr4_subnet(&net, 16, 0, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.0.0/16");
	assert_int_equal(cidr4_subnet(&net, 32, 65535, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.255.255/32");

	c.addr = 0x55555555;
	c.len = 3;
	assert_int_equal(cidr4_subnet(&net, 24, 256, &c), -ERANGE);
	assert_int_equal(cidr4_subnet(&net, 16, 1, &c), -ERANGE);
	assert_int_equal(cidr4_subnet(&net, 32, 65536, &c), -ERANGE);
	assert_int_equal(cidr4_subnet(&net, 24, UINT32_MAX, &c), -ERANGE);
	assert_int_equal(cidr4_subnet(&net, 15, 0, &c), -EINVAL);
	assert_int_equal(cidr4_subnet(&net, 33, 0, &c), -EINVAL);
	assert_int_equal(c.addr, 0x55555555);   /* untouched on failure */
	assert_int_equal(c.len, 3);

	/* whole address space: index arithmetic must not overflow */
	struct cidr4 all = { 0, 0 };

	assert_int_equal(cidr4_subnet(&all, 32, UINT32_MAX, &c), 0);
	assert_int_equal(c.addr, 0xffffffffu);
	assert_int_equal(cidr4_subnet(&all, 1, 1, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "128.0.0.0/1");
	assert_int_equal(cidr4_subnet(&all, 1, 2, &c), -ERANGE);
	assert_int_equal(cidr4_subnet(&all, 0, 0, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "0.0.0.0/0");

	/* host bits in the network are ignored */
	struct cidr4 sloppy = { IP(10, 244, 3, 9), 16 };

	assert_int_equal(cidr4_subnet(&sloppy, 24, 1, &c), 0);
	assert_string_equal(cidr4_format(&c, buf), "10.244.1.0/24");

	/* every subnet is inside the network and they tile it in order */
	for (uint32_t i = 0; i < 256; i++) {
		assert_int_equal(cidr4_subnet(&net, 24, i, &c), 0);
		assert_true(cidr4_contains_prefix(&net, &c));
		assert_int_equal(c.addr, IP(10, 244, 0, 0) + (i << 8));
	}
}

static void test_cidr4_key(void **state)
{
	struct cidr4 c = { IP(10, 244, 3, 0), 24 }, back = { 0, 0 };
	char buf[CIDR4_STRLEN];

	assert_string_equal(cidr4_format_key(&c, buf), "10.244.3.0-24");
	assert_null(strchr(buf, '/'));   /* usable as a file name */
	assert_int_equal(cidr4_parse_key(buf, &back), 0);
	assert_int_equal(back.addr, c.addr);
	assert_int_equal(back.len, 24);

	c.addr = 0xffffffffu;
	c.len = 32;
	assert_string_equal(cidr4_format_key(&c, buf), "255.255.255.255-32");
	assert_int_equal(cidr4_parse_key(buf, &back), 0);
	assert_int_equal(back.addr, 0xffffffffu);
	assert_int_equal(back.len, 32);

	static const char *bad[] = {
		"10.244.3.0/24", "10.244.3.0", "10.244.3.0-", "-24", "10.244.3.0-33", "10.244.3.5-24",
		"10.244.3.0-24x", "10.244.3.0-024", "10.244.3.0--24", "010.244.3.0-24", "10.244.3.0-24/",
	};
	back.addr = 7;
	back.len = 7;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr4_parse_key(bad[i], &back) != -EINVAL)
			fail_msg("cidr4_parse_key accepted \"%s\"", bad[i]);
	}
	assert_int_equal(back.addr, 7);
	assert_int_equal(back.len, 7);
	assert_int_equal(cidr4_parse_key(NULL, &back), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_parse_valid),
		cmocka_unit_test(test_ip4_parse_strict),
		cmocka_unit_test(test_ip4_format),
		cmocka_unit_test(test_cidr4_parse_valid),
		cmocka_unit_test(test_cidr4_parse_strict),
		cmocka_unit_test(test_cidr4_parse_prefix_host_bits),
		cmocka_unit_test(test_cidr4_format_round_trip),
		cmocka_unit_test(test_cidr4_mask_size),
		cmocka_unit_test(test_cidr4_contains),
		cmocka_unit_test(test_cidr4_contains_prefix_overlaps),
		cmocka_unit_test(test_cidr4_subnet),
		cmocka_unit_test(test_cidr4_key),
	};

	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
