/* netd/cleanup: which links and state files `shoald --cleanup` takes as shoal's.  A wrong answer
 * deletes an operator's interface (or a Docker bridge's port), or leaves a workload's veth behind
 * with an address nobody will ever release. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "lib/names.h"
#include "netd/cleanup.h"

#define ALIAS "shoal1 10.244.3.7/24 be:ef:00:11:22:33 eth0 c0ffee netA"

static struct rtlink_info link_(int ifindex, const char *name, const char *kind, uint32_t master, const char *alias)
{
	struct rtlink_info l = { .ifindex = ifindex, .master = master };

	strncpy(l.name, name, sizeof(l.name) - 1);
	strncpy(l.kind, kind, sizeof(l.kind) - 1);
	strncpy(l.alias, alias ? alias : "", sizeof(l.alias) - 1);
	return l;
}

static void test_host_veth_name(void **state)
{
	char name[IFNAME_SIZE];

	names_host_veth("c0ffee", "eth0", name);
	assert_true(cleanup_is_host_veth_name(name));   /* whatever shoald names, cleanup recognises */
	assert_true(cleanup_is_host_veth_name("shv0123456789ab"));
	assert_false(cleanup_is_host_veth_name("shv0123456789a"));    /* 11 digits */
	assert_false(cleanup_is_host_veth_name("shv0123456789AB"));   /* names_host_veth writes lowercase */
	assert_false(cleanup_is_host_veth_name("shv0123456789xy"));
	assert_false(cleanup_is_host_veth_name("shvlab"));
	assert_false(cleanup_is_host_veth_name("veth0123456789a"));
}

/* Ours: shv veths on our bridge, with our alias, or named by a record; shoal.<vni> vxlans; the two
 * IFBs; the bridge.  Everything else is foreign, including look-alikes of another kind. */
static void test_classify(void **state)
{
	struct rtlink_info l[] = {
		link_(1, "lo", "", 0, NULL),
		link_(2, "eth0", "veth", 0, NULL),
		link_(3, "shoal0", "bridge", 0, NULL),
		link_(4, "shv000000000001", "veth", 3, NULL),     /* on our bridge */
		link_(5, "shv000000000002", "veth", 0, ALIAS),    /* our alias, off the bridge */
		link_(6, "shv000000000003", "veth", 0, NULL),     /* named by a record */
		link_(7, "shv000000000004", "veth", 0, NULL),     /* nobody's */
		link_(8, "shv000000000005", "dummy", 3, NULL),    /* our name, not a veth: a foreign port */
		link_(9, "shoal.1", "vxlan", 0, NULL),
		link_(10, "shoal.42", "bridge", 0, NULL),         /* our name, another kind */
		link_(11, "shoal.x", "vxlan", 0, NULL),
		link_(12, "shoal-in", "ifb", 0, NULL),
		link_(13, "shoal-out", "ifb", 0, NULL),
		link_(14, "shoal-in2", "ifb", 0, NULL),
		link_(15, "docker0", "bridge", 0, NULL),
		link_(16, "shv000000000006", "veth", 0, "shoal1 garbage"),
	};
	const enum cleanup_link_kind want[] = {
		CLEANUP_LINK_FOREIGN, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_BRIDGE_KEPT, CLEANUP_LINK_VETH,
		CLEANUP_LINK_VETH, CLEANUP_LINK_VETH, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_FOREIGN,
		CLEANUP_LINK_VXLAN, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_IFB,
		CLEANUP_LINK_IFB, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_FOREIGN, CLEANUP_LINK_FOREIGN,
	};
	const char *records[] = { "shv000000000003" };
	size_t n = sizeof(l) / sizeof(l[0]), foreign = 0;
	enum cleanup_link_kind got[sizeof(l) / sizeof(l[0])];

	assert_int_equal(cleanup_classify(l, n, "shoal0", records, 1, got, &foreign), 0);
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i])
			fail_msg("%s: kind %d, want %d", l[i].name, got[i], want[i]);
	}
	assert_int_equal(foreign, 7);   /* the dummy keeps the bridge */

	/* Without it, the bridge goes. */
	l[7].master = 0;
	cleanup_classify(l, n, "shoal0", records, 1, got, &foreign);
	assert_int_equal(got[2], CLEANUP_LINK_BRIDGE);
	assert_int_equal(foreign, n);
	/* Without the record, that veth is nobody's. */
	cleanup_classify(l, n, "shoal0", NULL, 0, got, NULL);
	assert_int_equal(got[5], CLEANUP_LINK_FOREIGN);
	/* Another bridge name in the config: shoal0 is someone else's, and so are the veths on it. */
	cleanup_classify(l, n, "br-shoal", NULL, 0, got, &foreign);
	assert_int_equal(got[2], CLEANUP_LINK_FOREIGN);
	assert_int_equal(got[3], CLEANUP_LINK_FOREIGN);
	assert_int_equal(got[4], CLEANUP_LINK_VETH);   /* the alias still says it is ours */
	assert_int_equal(foreign, n);
}

static void test_state_files(void **state)
{
	assert_true(cleanup_state_file_ours("", "subnet.json"));
	assert_true(cleanup_state_file_ours("", "subnet.json.tmp.123"));
	assert_true(cleanup_state_file_ours("", "shoald.lock"));
	assert_false(cleanup_state_file_ours("", "store"));       /* the file store: the cluster's */
	assert_false(cleanup_state_file_ours("", "notes.txt"));
	assert_false(cleanup_state_file_ours("", "x.json"));
	assert_true(cleanup_state_file_ours("attachments", "shv0123456789ab.json"));
	assert_true(cleanup_state_file_ours("attachments", "shv0123456789ab.json.corrupt"));
	assert_true(cleanup_state_file_ours("attachments", "shv0123456789ab.json.tmp.77"));
	assert_true(cleanup_state_file_ours("releasing", "shv0123456789ab.json"));
	assert_true(cleanup_state_file_ours("cgroups", "256.json"));
	assert_true(cleanup_state_file_ours("cgroups", "256.json.bad"));
	assert_true(cleanup_state_file_ours("cgroups", "256.json.tmp.9"));
	assert_false(cleanup_state_file_ours("cgroups", "notes.txt"));
	assert_false(cleanup_state_file_ours("attachments", "README"));
	assert_false(cleanup_state_file_ours("attachments", ".hidden.json"));
	assert_true(cleanup_state_file_ours("pending-del", "c1@eth0.json"));
	assert_true(cleanup_state_file_ours("pending-del", "h0123456789abcdef.3.json"));
	assert_false(cleanup_state_file_ours("pending-del", "c1@eth0.json.corrupt"));
	assert_false(cleanup_state_file_ours("other", "subnet.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_veth_name),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_state_files),
	};

	return cmocka_run_group_tests_name("cleanup", tests, NULL, NULL);
}
