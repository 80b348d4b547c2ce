/* tc/classify's uplink filters (the cgroup classifier's cls_bpf filters): built into a buffer and
 * taken apart with libmnl the way cls_bpf reads them, then parsed back.  A wrong attribute here is
 * a filter in direct-action mode (the redirect never runs, nothing is shaped), a program that
 * reconcile does not recognise as ours (replaced at every start, maps lost), or a mirror instead of
 * a redirect (every packet sent twice). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "tc/classify.h"

#define SEQ 0x5eed0001u
#define UPLINK 7
#define IFB_OUT 11
#define IFB_IN 12
#define PROG_FD 42
#define GUARD 64

/* One nest's attributes by type (each at most once). */
struct tb {
	const struct nlattr *a[TCA_BPF_MAX + 8];
};

static int tb_cb(const struct nlattr *a, void *data)
{
	struct tb *t = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type < sizeof(t->a) / sizeof(t->a[0]));
	assert_null(t->a[type]);
	t->a[type] = a;
	return MNL_CB_OK;
}

static void nested(const struct nlattr *nest, struct tb *ret)
{
	memset(ret, 0, sizeof(*ret));
	assert_int_equal(mnl_attr_parse_nested(nest, tb_cb, ret), MNL_CB_OK);
}

/* The message's tcmsg and top-level attributes, checked against what every uplink filter has. */
static const struct tcmsg *check_header(const char *buf, int len, uint16_t type, uint16_t flags, bool ingress,
                                        struct tb *top)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	assert_int_equal((int)nlh->nlmsg_len, len);
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, flags);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	assert_int_equal(tcm->tcm_family, AF_UNSPEC);
	assert_int_equal(tcm->tcm_ifindex, UPLINK);
	assert_int_equal(tcm->tcm_parent, ingress ? 0xfffffff2u : 0xfffffff3u);
	assert_int_equal(TC_H_MAJ(tcm->tcm_info) >> 16, CLASSIFY_UPLINK_PRIO);
	assert_int_equal(ntohs((uint16_t)TC_H_MIN(tcm->tcm_info)), ETH_P_ALL);
	memset(top, 0, sizeof(*top));
	assert_int_equal(mnl_attr_parse(nlh, sizeof(*tcm), tb_cb, top), MNL_CB_OK);
	assert_non_null(top->a[TCA_KIND]);
	assert_string_equal(mnl_attr_get_str(top->a[TCA_KIND]), "bpf");
	return tcm;
}

static void check_filter(const char *buf, int len, uint16_t flags, bool ingress, const char *name, uint32_t ifb)
{
	const struct tc_mirred *m;
	struct tb top, opts, acts, act, aopts;
	const struct tcmsg *tcm = check_header(buf, len, RTM_NEWTFILTER, flags, ingress, &top);

	assert_int_equal(tcm->tcm_handle, CLASSIFY_UPLINK_HANDLE);
	assert_non_null(top.a[TCA_OPTIONS]);
	nested(top.a[TCA_OPTIONS], &opts);
	assert_non_null(opts.a[TCA_BPF_FD]);
	assert_int_equal(mnl_attr_get_u32(opts.a[TCA_BPF_FD]), PROG_FD);
	assert_non_null(opts.a[TCA_BPF_NAME]);
	assert_string_equal(mnl_attr_get_str(opts.a[TCA_BPF_NAME]), name);
	/* Classic mode: no flags (direct-action would skip the redirect), no classid. */
	assert_null(opts.a[TCA_BPF_FLAGS]);
	assert_null(opts.a[TCA_BPF_CLASSID]);
	assert_null(opts.a[TCA_BPF_OPS]);
	assert_non_null(opts.a[TCA_BPF_ACT]);
	nested(opts.a[TCA_BPF_ACT], &acts);
	assert_non_null(acts.a[1]);
	assert_null(acts.a[2]);
	nested(acts.a[1], &act);
	assert_string_equal(mnl_attr_get_str(act.a[TCA_ACT_KIND]), "mirred");
	nested(act.a[TCA_ACT_OPTIONS], &aopts);
	assert_true(mnl_attr_get_payload_len(aopts.a[TCA_MIRRED_PARMS]) >= sizeof(*m));
	m = mnl_attr_get_payload(aopts.a[TCA_MIRRED_PARMS]);
	assert_int_equal(m->eaction, TCA_EGRESS_REDIR);
	assert_int_equal(m->action, TC_ACT_STOLEN);
	assert_int_equal(m->ifindex, ifb);
}

static void test_uplink_add(void **state)
{
	char buf[TCMSG_FILTER_MAXLEN];
	int len;

	(void)state;
	len = classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, PROG_FD, "shoal_cg_out", IFB_OUT);
	assert_true(len > 0);
	check_filter(buf, len, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, false, "shoal_cg_out", IFB_OUT);
	len = classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, true, PROG_FD, "shoal_cg_in", IFB_IN);
	assert_true(len > 0);
	check_filter(buf, len, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, true, "shoal_cg_in", IFB_IN);
}

static void test_uplink_replace(void **state)
{
	char buf[TCMSG_FILTER_MAXLEN];
	int len;

	(void)state;
	/* Same priority and handle as ADD, no NLM_F_EXCL: cls_bpf swaps the program in place. */
	len = classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_REPLACE, UPLINK, true, PROG_FD, "shoal_cg_in", IFB_IN);
	assert_true(len > 0);
	check_filter(buf, len, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, true, "shoal_cg_in", IFB_IN);
}

static void test_uplink_del(void **state)
{
	char buf[TCMSG_FILTER_MAXLEN];
	const struct tcmsg *tcm;
	struct tb top;
	int len;

	(void)state;
	for (int hook = 0; hook < 2; hook++) {
		len = classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_DEL, UPLINK, hook, -1, NULL, 0);
		assert_true(len > 0);
		tcm = check_header(buf, len, RTM_DELTFILTER, NLM_F_REQUEST | NLM_F_ACK, hook, &top);
		/* The whole priority: no handle, no options. */
		assert_int_equal(tcm->tcm_handle, 0);
		assert_null(top.a[TCA_OPTIONS]);
	}
}

static void test_uplink_invalid(void **state)
{
	char buf[TCMSG_FILTER_MAXLEN], name[CLASSIFY_PROG_NAME_MAX + 1];

	(void)state;
	memset(name, 'x', CLASSIFY_PROG_NAME_MAX);
	name[CLASSIFY_PROG_NAME_MAX] = '\0';
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, -1, "p", IFB_OUT), -EINVAL);
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, PROG_FD, NULL, IFB_OUT),
	                 -EINVAL);
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, PROG_FD, "", IFB_OUT),
	                 -EINVAL);
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, PROG_FD, name, IFB_OUT),
	                 -EINVAL);
	name[CLASSIFY_PROG_NAME_MAX - 1] = '\0';
	assert_true(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_ADD, UPLINK, false, PROG_FD, name, IFB_OUT) > 0);
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_REPLACE, UPLINK, false, PROG_FD, "p", 0),
	                 -EINVAL);
	assert_int_equal(classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_DEL, 0, false, -1, NULL, 0), -EINVAL);
}

static void test_uplink_short_buffers(void **state)
{
	char buf[TCMSG_FILTER_MAXLEN + GUARD];
	int full;

	(void)state;
	full = classify_build_uplink(buf, TCMSG_FILTER_MAXLEN, SEQ, TCMSG_REPLACE, UPLINK, false, PROG_FD,
	                             "shoal_cg_out", IFB_OUT);
	assert_true(full > 0 && full <= TCMSG_FILTER_MAXLEN);
	/* Even the longest name fits TCMSG_FILTER_MAXLEN. */
	{
		char name[CLASSIFY_PROG_NAME_MAX];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		assert_true(classify_build_uplink(buf, TCMSG_FILTER_MAXLEN, SEQ, TCMSG_REPLACE, UPLINK, false, PROG_FD, name,
		                                  IFB_OUT) > 0);
	}
	for (int n = 0; n < full; n++) {
		memset(buf, 0xa5, sizeof(buf));
		assert_int_equal(classify_build_uplink(buf, (size_t)n, SEQ, TCMSG_REPLACE, UPLINK, false, PROG_FD,
		                                       "shoal_cg_out", IFB_OUT),
		                 -ENOBUFS);
		for (size_t i = (size_t)n; i < sizeof(buf); i++)
			assert_int_equal((unsigned char)buf[i], 0xa5);
	}
}

/* A dump entry the way the kernel writes it (cls_bpf_dump()): options with the name, the id, the
 * tag, the flags when any, the actions. */
struct dump_entry {
	uint32_t parent;
	uint16_t prio;
	uint32_t handle;
	const char *kind;
	bool no_options;
	const char *name;
	uint32_t id;
	uint32_t flags;
	const char *act_kind;     /* NULL: no actions */
	int eaction, action;
	int nacts;
};

static int build_entry(char *buf, size_t len, const struct dump_entry *e)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;
	struct nlattr *opts, *acts, *act, *aopts;

	nlh->nlmsg_type = RTM_NEWTFILTER;
	nlh->nlmsg_flags = NLM_F_MULTI;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = UPLINK;
	tcm->tcm_parent = e->parent;
	tcm->tcm_handle = e->handle;
	tcm->tcm_info = TC_H_MAKE((uint32_t)e->prio << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, e->kind);
	mnl_attr_put_u32(nlh, TCA_CHAIN, 0);
	if (e->no_options)
		return (int)nlh->nlmsg_len;
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	if (e->name)
		mnl_attr_put_strz(nlh, TCA_BPF_NAME, e->name);
	if (e->flags)
		mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, e->flags);
	mnl_attr_put_u32(nlh, TCA_BPF_ID, e->id);
	{
		uint8_t tag[8] = { 0xf2, 0x30 };

		mnl_attr_put(nlh, TCA_BPF_TAG, sizeof(tag), tag);
	}
	if (e->act_kind) {
		acts = mnl_attr_nest_start(nlh, TCA_BPF_ACT);
		for (int i = 1; i <= (e->nacts ? e->nacts : 1); i++) {
			struct tc_mirred m = { .action = e->action, .eaction = e->eaction, .ifindex = IFB_OUT };

			act = mnl_attr_nest_start(nlh, (uint16_t)i);
			mnl_attr_put_strz(nlh, TCA_ACT_KIND, e->act_kind);
			aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
			mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
			mnl_attr_nest_end(nlh, aopts);
			mnl_attr_nest_end(nlh, act);
		}
		mnl_attr_nest_end(nlh, acts);
	}
	mnl_attr_nest_end(nlh, opts);
	assert_true(nlh->nlmsg_len <= len);
	return (int)nlh->nlmsg_len;
}

static const struct dump_entry ours = {
	.parent = 0xfffffff3u,
	.prio = CLASSIFY_UPLINK_PRIO,
	.handle = CLASSIFY_UPLINK_HANDLE,
	.kind = "bpf",
	.name = "shoal_cg_out",
	.id = 106,
	.act_kind = "mirred",
	.eaction = TCA_EGRESS_REDIR,
	.action = TC_ACT_STOLEN,
};

static void test_uplink_parse(void **state)
{
	struct classify_uplink_filter f;
	struct dump_entry e = ours;
	char buf[1024];

	(void)state;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_false(f.ingress_hook);
	assert_int_equal(f.prio, CLASSIFY_UPLINK_PRIO);
	assert_int_equal(f.protocol, ETH_P_ALL);
	assert_int_equal(f.handle, CLASSIFY_UPLINK_HANDLE);
	assert_string_equal(f.prog_name, "shoal_cg_out");
	assert_int_equal(f.prog_id, 106);
	assert_false(f.direct_action);
	assert_int_equal(f.redirect_ifindex, IFB_OUT);

	e.parent = 0xfffffff2u;
	e.flags = TCA_BPF_FLAG_ACT_DIRECT;
	e.name = NULL;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_true(f.ingress_hook);
	assert_true(f.direct_action);
	assert_string_equal(f.prog_name, "");
}

/* What the builder sends, the parser reads back (less the id, which only the kernel adds). */
static void test_uplink_round_trip(void **state)
{
	struct classify_uplink_filter f;
	char buf[TCMSG_FILTER_MAXLEN];

	(void)state;
	for (int hook = 0; hook < 2; hook++) {
		int len = classify_build_uplink(buf, sizeof(buf), SEQ, TCMSG_REPLACE, UPLINK, hook, PROG_FD,
		                                hook ? "shoal_cg_in" : "shoal_cg_out", hook ? IFB_IN : IFB_OUT);

		assert_true(len > 0);
		assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
		assert_int_equal(f.ingress_hook, hook);
		assert_int_equal(f.prio, CLASSIFY_UPLINK_PRIO);
		assert_int_equal(f.handle, CLASSIFY_UPLINK_HANDLE);
		assert_string_equal(f.prog_name, hook ? "shoal_cg_in" : "shoal_cg_out");
		assert_int_equal(f.prog_id, 0);
		assert_false(f.direct_action);
		assert_int_equal(f.redirect_ifindex, hook ? IFB_IN : IFB_OUT);
	}
}

static void test_uplink_parse_not_ours(void **state)
{
	struct classify_uplink_filter f;
	struct dump_entry e;
	char buf[1024];

	(void)state;
	e = ours;
	e.prio = 1;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), -ENOENT);
	e = ours;
	e.kind = "u32";
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), -ENOENT);
	/* The priority's kind-only line. */
	e = ours;
	e.no_options = true;
	e.handle = 0;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), -ENOENT);
	/* Not on a clsact hook (an HTB qdisc's filter). */
	e = ours;
	e.parent = 0x10000;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), -ENOENT);
}

static void test_uplink_parse_actions(void **state)
{
	struct classify_uplink_filter f;
	struct dump_entry e;
	char buf[1024];

	(void)state;
	/* A mirror, another action, two actions, none: ours, but no redirect to report. */
	e = ours;
	e.eaction = TCA_EGRESS_MIRROR;
	e.action = TC_ACT_PIPE;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	e = ours;
	e.act_kind = "gact";
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	e = ours;
	e.nacts = 2;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	e = ours;
	e.act_kind = NULL;
	build_entry(buf, sizeof(buf), &e);
	assert_int_equal(classify_parse_uplink_filter((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
}

static void test_uplink_parse_malformed(void **state)
{
	struct classify_uplink_filter f = { .prog_id = 77 };
	struct dump_entry e = ours;
	struct nlmsghdr *nlh;
	char buf[1024];
	int len;

	(void)state;
	len = build_entry(buf, sizeof(buf), &e);
	nlh = (struct nlmsghdr *)buf;
	/* Wrong type, too short for a tcmsg, an attribute running past the end. */
	nlh->nlmsg_type = RTM_NEWQDISC;
	assert_int_equal(classify_parse_uplink_filter(nlh, &f), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWTFILTER;
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(classify_parse_uplink_filter(nlh, &f), -EBADMSG);
	nlh->nlmsg_len = (uint32_t)len;
	{
		/* The name without its NUL. */
		char *name = memmem(buf, (size_t)len, "shoal_cg_out", 13);

		assert_non_null(name);
		name[12] = 'x';
		assert_int_equal(classify_parse_uplink_filter(nlh, &f), -EBADMSG);
	}
	/* The mirred parameters cut short. */
	e.name = "n";
	len = build_entry(buf, sizeof(buf), &e);
	{
		struct tc_mirred m = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = IFB_OUT };
		char *p = memmem(buf, (size_t)len, &m, sizeof(m));
		struct nlattr *a;

		assert_non_null(p);
		a = (struct nlattr *)(p - sizeof(*a));
		a->nla_len = (uint16_t)(sizeof(*a) + 4);
		assert_int_equal(classify_parse_uplink_filter(nlh, &f), -EBADMSG);
	}
	/* Nothing written on failure. */
	assert_int_equal(f.prog_id, 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uplink_add),
		cmocka_unit_test(test_uplink_replace),
		cmocka_unit_test(test_uplink_del),
		cmocka_unit_test(test_uplink_invalid),
		cmocka_unit_test(test_uplink_short_buffers),
		cmocka_unit_test(test_uplink_parse),
		cmocka_unit_test(test_uplink_round_trip),
		cmocka_unit_test(test_uplink_parse_not_ours),
		cmocka_unit_test(test_uplink_parse_actions),
		cmocka_unit_test(test_uplink_parse_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
