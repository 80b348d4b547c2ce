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

/* 48 bits of FNV-1a collide on demand: candidate n > 0 must separate a colliding pair, and
 * candidate 0 must stay the name every earlier version gave (running containers keep their veth). */
static void test_host_veth_n(void **state)
{
	char a[IFNAME_SIZE], b[IFNAME_SIZE], c[IFNAME_SIZE];

	names_host_veth_n("cafe01", "eth0", 0, a);
	assert_string_equal(a, "shvd076f5509fe6");
	names_host_veth_n("e0e5b79c59b004c8", "eth0", 0, a);
	names_host_veth("e0e5b79c59b004c8", "eth0", b);
	assert_string_equal(a, b);
	assert_string_equal(a, "shv04321f702b61");
	names_host_veth_n("d0da1fd138f4dfbc", "eth0", 0, b);
	assert_string_equal(b, "shv04321f702b61");   /* the collision the n > 0 candidates exist for */

	names_host_veth_n("e0e5b79c59b004c8", "eth0", 1, a);
	names_host_veth_n("d0da1fd138f4dfbc", "eth0", 1, b);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, "shv04321f702b61");
	assert_string_not_equal(b, "shv04321f702b61");

	/* Every candidate is a valid 15-byte shv name, stable, and different from the others. */
	for (unsigned n = 0; n < 8; n++) {
		names_host_veth_n("cafe01", "eth0", n, a);
		names_host_veth_n("cafe01", "eth0", n, c);
		assert_string_equal(a, c);
		assert_int_equal(strlen(a), 15);
		assert_memory_equal(a, HOST_VETH_PREFIX, 3);
		assert_int_equal(names_ifname_valid(a), 0);
		for (unsigned k = 0; k < n; k++) {
			names_host_veth_n("cafe01", "eth0", k, b);
			assert_string_not_equal(a, b);
		}
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

static void test_cni_ifname_valid(void **state)
{
	static const char *good[] = { "eth0", "a", "net1", "123456789012345", "veth-a_b.c", "A@b", "x..y", ".a",
	                              "lo0", "lo.1", "all0", "defaults", "LO", "eth0@x" };
	static const struct { const char *name, *why; } bad[] = {
		{ "", "is empty" },
		{ "1234567890123456", "is longer than 15 bytes" },
		{ ".", "is \".\" or \"..\"" },
		{ "..", "is \".\" or \"..\"" },
		{ "lo", "loopback" },
		{ "all", "/proc/sys/net/*/conf/" },
		{ "default", "/proc/sys/net/*/conf/" },
		{ "e%d", "contains '%' (a kernel name template)" },
		{ "eth%", "contains '%'" },
		{ "a/b", "contains '/'" },
		{ "eth0:1", "contains ':'" },
		{ "eth 0", "whitespace" },
		{ "eth\t0", "whitespace" },
		{ "eth0\n", "whitespace" },
		{ "e\x01", "non-printable" },
		{ "eth\x7f", "non-printable" },
		{ "\xc3\xa9th0", "non-ASCII" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = "untouched";

		if (names_cni_ifname_valid(good[i], &why) != 0)
			fail_msg("names_cni_ifname_valid rejected \"%s\": %s", good[i], why);
		assert_string_equal(why, "untouched");   /* ret_why is written only on failure */
		assert_int_equal(names_ifname_valid(good[i]), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		if (names_cni_ifname_valid(bad[i].name, &why) != -EINVAL)
			fail_msg("names_cni_ifname_valid accepted \"%s\"", bad[i].name);
		if (!why || !strstr(why, bad[i].why))
			fail_msg("\"%s\": reason \"%s\" does not say \"%s\"", bad[i].name, why ? why : "(null)", bad[i].why);
		assert_int_equal(names_cni_ifname_valid(bad[i].name, NULL), -EINVAL);
	}
	assert_int_equal(names_cni_ifname_valid(NULL, NULL), -EINVAL);
	/* The kernel itself would take these, and DEL still does (names_ifname_valid). */
	assert_int_equal(names_ifname_valid("e%d"), 0);
	assert_int_equal(names_ifname_valid("lo"), 0);
	assert_int_equal(names_ifname_valid("all"), 0);
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
		cmocka_unit_test(test_host_veth_n),
		cmocka_unit_test(test_hash_seed),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_cni_ifname_valid),
		cmocka_unit_test(test_container_id_valid),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
