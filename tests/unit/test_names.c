/* lib/names: the host veth name is how shoald finds a container's interface again after a restart,
 * and the validators stand between runtime-supplied strings and file names / netlink requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/names.h"

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_host_veth_shape(void **state)
{
	static const char *ids[] = { "a", "abc", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	                             "x.y-z_1" };
	char name[IFNAME_SIZE];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(name, 'X', sizeof(name));
		names_host_veth(ids[i], "eth0", name);
		assert_int_equal(strlen(name), 15);   /* IFNAMSIZ - 1: the most the kernel takes */
		assert_memory_equal(name, HOST_VETH_PREFIX, 3);
		assert_memory_equal(name, "shv", 3);
		for (int k = 3; k < 15; k++)
			assert_true(is_lower_hex(name[k]));
		assert_int_equal(names_ifname_valid(name), 0);
	}
}

static void test_host_veth_deterministic(void **state)
{
	char a[IFNAME_SIZE], b[IFNAME_SIZE];

	names_host_veth("cafe01", "eth0", a);
	names_host_veth("cafe01", "eth0", b);
	assert_string_equal(a, b);
	/* Names must not change between versions: shoald finds the veths of running containers by
	 * them after an upgrade.  Pinned values. */
	names_host_veth("cafe01", "eth0", a);
	assert_string_equal(a, "shvd076f5509fe6");
	names_host_veth("a", "b", a);
	names_host_veth("a", "b", b);
	assert_string_equal(a, b);
}

static void test_host_veth_distinct(void **state)
{
	char a[IFNAME_SIZE], b[IFNAME_SIZE];

	names_host_veth("ab", "c", a);
	names_host_veth("a", "bc", b);
	assert_string_not_equal(a, b);
	names_host_veth("cafe01", "eth0", a);
	names_host_veth("cafe01", "eth1", b);
	assert_string_not_equal(a, b);
	names_host_veth("cafe01", "eth0", a);
	names_host_veth("cafe02", "eth0", b);
	assert_string_not_equal(a, b);

	/* no collisions among a few thousand realistic ids */
	enum { N = 4000 };
	static char seen[N][IFNAME_SIZE];

	for (int i = 0; i < N; i++) {
		char id[32];

		snprintf(id, sizeof(id), "container-%08x", (unsigned)i * 2654435761u);
		names_host_veth(id, "eth0", seen[i]);
		for (int k = 0; k < i; k++)
			if (strcmp(seen[k], seen[i]) == 0)
				fail_msg("%s collides for ids %d and %d", seen[i], k, i);
	}
}

static void test_hash_seed(void **state)
{
	assert_true(names_hash("abc", 3, 0) != names_hash("abc", 3, 1));
	assert_true(names_hash("abc", 3, 0) != names_hash("abd", 3, 0));
	assert_true(names_hash("abc", 3, 0) == names_hash("abc", 3, 0));
	assert_true(names_hash("", 0, 0) == 0xcbf29ce484222325ull);
}

static void test_ifname_valid(void **state)
{
	static const char *good[] = { "eth0", "a", "shoal0", "net1", "123456789012345", "veth-a_b.c", "A@b%c",
	                              "x..y", ".a", "..a" };
	static const char *bad[] = { "", ".", "..", "1234567890123456", "eth 0", "eth/0", "eth:0", "eth\t0",
	                             "eth\n", " eth0", "\xc3\xa9th0", "eth\x7f", "eth0 " };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (names_ifname_valid(good[i]) != 0)
			fail_msg("names_ifname_valid rejected \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (names_ifname_valid(bad[i]) != -EINVAL)
			fail_msg("names_ifname_valid accepted \"%s\"", bad[i]);
	assert_int_equal(names_ifname_valid(NULL), -EINVAL);
}

static void test_container_id_valid(void **state)
{
	char id[300];
	static const char *good[] = { "a", "0", "abc123", "a.b-c_d", "Z9", "a..", "a-",
	                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	static const char *bad[] = { "", ".", "..", "-a", "_a", ".a", "a/b", "../x", "a b", "a:b", "a\nb", "a\\b",
	                             "a*", "\xc3\xa9", "a\x01" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (names_container_id_valid(good[i]) != 0)
			fail_msg("names_container_id_valid rejected \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (names_container_id_valid(bad[i]) != -EINVAL)
			fail_msg("names_container_id_valid accepted \"%s\"", bad[i]);
	assert_int_equal(names_container_id_valid(NULL), -EINVAL);

	memset(id, 'a', 256);
	id[256] = '\0';
	assert_int_equal(names_container_id_valid(id), 0);      /* 256 is the limit */
	id[256] = 'a';
	id[257] = '\0';
	assert_int_equal(names_container_id_valid(id), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_veth_shape),
		cmocka_unit_test(test_host_veth_deterministic),
		cmocka_unit_test(test_host_veth_distinct),
		cmocka_unit_test(test_hash_seed),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_container_id_valid),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
