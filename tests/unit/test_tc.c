/* tc/tcmsg and tc/classify: every tc request shoald will send, built into a buffer and taken
 * apart again with libmnl, field by field, the way the kernel reads it, and then parsed back with
 * our own parsers.  A wrong attribute here is an HTB class at an eighth of its rate (bits for
 * bytes), a 40gbit class capped at 34 Gbit/s (no 64-bit attribute), or a redirect that mirrors
 * instead of stealing.  No builder ever writes past a short buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "tc/classify.h"
#include "tc/tcmsg.h"

#define SEQ 0x7c000001u
#define MAXATTR 32
#define GUARD 64
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* ------------------------------------------------------------------ helpers */

/* One level of attributes: each type at most once, and they tile their container exactly. */
struct attrs {
	const struct nlattr *tb[MAXATTR];
	int total;
	const char *end;
};

static int collect_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type < MAXATTR);
	if (t->tb[type])
		fail_msg("attribute %u appears twice", type);
	t->tb[type] = a;
	t->total++;
	t->end = (const char *)a + MNL_ALIGN(a->nla_len);
	return MNL_CB_OK;
}

static void collect_payload(const void *payload, size_t len, struct attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->end = payload;
	assert_int_equal(mnl_attr_parse_payload(payload, len, collect_cb, t), MNL_CB_OK);
	assert_ptr_equal(t->end, (const char *)payload + len);
}

static void collect_msg(const struct nlmsghdr *nlh, struct attrs *t)
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct tcmsg));

	assert_true(nlh->nlmsg_len >= off);
	collect_payload((const char *)nlh + off, nlh->nlmsg_len - off, t);
}

static void collect_nested(const struct nlattr *nest, struct attrs *t)
{
	assert_non_null(nest);
	assert_true(mnl_attr_validate(nest, MNL_TYPE_NESTED) >= 0);
	collect_payload(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), t);
}

static void assert_str_attr(const struct nlattr *a, const char *want)
{
	assert_non_null(a);
	assert_true(mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0);
	assert_int_equal(mnl_attr_get_payload_len(a), strlen(want) + 1);
	assert_string_equal(mnl_attr_get_str(a), want);
}

static void assert_u32_attr(const struct nlattr *a, uint32_t want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), 4);
	assert_int_equal(mnl_attr_get_u32(a), want);
}

static const void *struct_of(const struct nlattr *a, size_t size)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), size);
	return mnl_attr_get_payload(a);
}

static const struct tcmsg *assert_tc_header(const struct nlmsghdr *nlh, int len, uint16_t type, uint16_t flags,
                                            int ifindex, uint32_t parent, uint32_t handle, uint32_t info)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_int_equal(nlh->nlmsg_len % 4, 0);
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, flags);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	assert_int_equal(tcm->tcm_family, AF_UNSPEC);
	assert_int_equal(tcm->tcm_ifindex, ifindex);
	assert_int_equal(tcm->tcm_parent, parent);
	assert_int_equal(tcm->tcm_handle, handle);
	assert_int_equal(tcm->tcm_info, info);
	return tcm;
}

#define F_ADD (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
#define F_REPLACE (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
#define F_DEL (NLM_F_REQUEST | NLM_F_ACK)

typedef int (*build_fn)(void *buf, size_t len, const void *arg);

/* Every length from 0 to needed - 1 gives -ENOBUFS and writes nothing past the buffer; the exact
 * length gives the same bytes as a large buffer.  A heap block of exactly len bytes lets ASan see
 * an overrun in SANITIZE=1 builds; the guard bytes catch it otherwise. */
static void check_short_buffers(build_fn fn, const void *arg)
{
	static _Alignas(8) unsigned char big[8192];
	int need;

	memset(big, 0xab, sizeof(big));
	need = fn(big, sizeof(big), arg);
	assert_true(need > 0);
	for (int len = 0; len <= need; len++) {
		unsigned char *b = malloc((size_t)len + GUARD), *exact;
		int r;

		assert_non_null(b);
		memset(b, 0xab, (size_t)len + GUARD);
		r = fn(b, (size_t)len, arg);
		if (len < need && r != -ENOBUFS)
			fail_msg("buffer of %d (need %d): returned %d, want -ENOBUFS", len, need, r);
		if (len == need) {
			assert_int_equal(r, need);
			assert_memory_equal(b, big, (size_t)need);
		}
		for (int g = 0; g < GUARD; g++)
			if (b[len + g] != 0xab)
				fail_msg("buffer of %d (need %d): byte %d past the end written", len, need, g);
		free(b);
		exact = malloc(len ? (size_t)len : 1);
		assert_non_null(exact);
		assert_int_equal(fn(exact, (size_t)len, arg), len < need ? -ENOBUFS : need);
		free(exact);
	}
}

/* ------------------------------------------------------------------ qdiscs */

static const struct tcmsg_qdisc HTB_QDISC = {
	.ifindex = 41,
	.kind = TCMSG_KIND_HTB,
	.parent = TC_H_ROOT,
	.handle = TCMSG_HANDLE(1, 0),
	.htb_default = 0x20,
	.htb_r2q = 10,
	.htb_direct_qlen = 247,
};

static void test_qdisc_htb(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_htb_glob *glob;
	struct tcmsg_qdisc back;
	struct attrs top, opts;
	int len = tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_ADD, &HTB_QDISC);

	assert_true(len <= TCMSG_QDISC_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWQDISC, F_ADD, 41, TC_H_ROOT, 0x10000, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[TCA_KIND], "htb");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);
	glob = struct_of(opts.tb[TCA_HTB_INIT], sizeof(*glob));
	assert_int_equal(glob->version, 3);          /* htb_init() refuses any other */
	assert_int_equal(glob->rate2quantum, 10);
	assert_int_equal(glob->defcls, 0x20);        /* the minor only: 1:20 */
	assert_int_equal(glob->debug, 0);
	assert_u32_attr(opts.tb[TCA_HTB_DIRECT_QLEN], 247);

	assert_int_equal(tcmsg_parse_qdisc((struct nlmsghdr *)buf, &back), 0);
	assert_memory_equal(&back, &HTB_QDISC, sizeof(back));
}

static void test_qdisc_htb_defaults(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_qdisc q = HTB_QDISC, back;
	struct attrs top, opts;
	int len;

	q.htb_direct_qlen = 0;
	q.htb_r2q = 0;
	len = tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &q);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWQDISC, F_REPLACE, 41, TC_H_ROOT, 0x10000, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 1);             /* no TCA_HTB_DIRECT_QLEN */
	assert_int_equal(((const struct tc_htb_glob *)struct_of(opts.tb[TCA_HTB_INIT], sizeof(struct tc_htb_glob)))
	                         ->rate2quantum, 10);  /* 0 would mean 1 to the kernel */
	assert_int_equal(tcmsg_parse_qdisc((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.htb_r2q, 10);
	assert_int_equal(back.htb_direct_qlen, 0);
}

static void test_qdisc_clsact(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_qdisc back;
	struct attrs top;
	int len = classify_build_clsact(buf, sizeof(buf), SEQ, TCMSG_ADD, 9);

	/* tc qdisc add dev X clsact: parent ffff:fff1, handle ffff:0, no options */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWQDISC, F_ADD, 9, 0xfffffff1, 0xffff0000, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
	assert_str_attr(top.tb[TCA_KIND], "clsact");
	assert_int_equal(tcmsg_parse_qdisc((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.kind, TCMSG_KIND_CLSACT);
	assert_int_equal(back.parent, TCMSG_CLSACT_PARENT);
	assert_int_equal(back.handle, TCMSG_CLSACT_HANDLE);

	len = classify_build_clsact(buf, sizeof(buf), SEQ, TCMSG_DEL, 9);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELQDISC, F_DEL, 9, 0xfffffff1, 0xffff0000, 0);
}

static void test_qdisc_bfifo(void **state)
{
	struct tcmsg_qdisc q = { .ifindex = 41, .kind = TCMSG_KIND_BFIFO, .parent = TCMSG_HANDLE(1, 0x10),
		                 .bfifo_limit = 375000 }, back;
	_Alignas(8) char buf[512];
	const struct tc_fifo_qopt *fifo;
	struct attrs top;
	int len = tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &q);

	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWQDISC, F_REPLACE, 41, 0x10010, 0, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_str_attr(top.tb[TCA_KIND], "bfifo");
	/* fifo_init() reads TCA_OPTIONS as the bare struct, not a nest */
	fifo = struct_of(top.tb[TCA_OPTIONS], sizeof(*fifo));
	assert_int_equal(fifo->limit, 375000);
	assert_int_equal(tcmsg_parse_qdisc((struct nlmsghdr *)buf, &back), 0);
	assert_memory_equal(&back, &q, sizeof(q));

	q.bfifo_limit = 0;
	assert_int_equal(tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_ADD, &q), -EINVAL);
	q.kind = TCMSG_KIND_OTHER;
	assert_int_equal(tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_ADD, &q), -EINVAL);
}

static void test_qdisc_del_and_dump(void **state)
{
	_Alignas(8) char buf[512];
	struct attrs top;
	int len = tcmsg_build_qdisc(buf, sizeof(buf), SEQ, TCMSG_DEL, &HTB_QDISC);

	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELQDISC, F_DEL, 41, TC_H_ROOT, 0x10000, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);    /* only the kind: no options on delete */

	len = tcmsg_build_qdisc_dump(buf, sizeof(buf), SEQ, 41);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP, 41, 0, 0, 0);
	len = tcmsg_build_class_dump(buf, sizeof(buf), SEQ, 41);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_GETTCLASS, NLM_F_REQUEST | NLM_F_DUMP, 41, 0, 0, 0);
	len = tcmsg_build_filter_dump(buf, sizeof(buf), SEQ, 41, TCMSG_CLSACT_INGRESS);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, 41,
	                 0xfffffff2, 0, 0);
}

/* ------------------------------------------------------------------ HTB classes */

static struct tcmsg_htb_class *class_120mbit(void)
{
	static struct tcmsg_htb_class c;

	memset(&c, 0, sizeof(c));
	c.ifindex = 41;
	c.parent = TCMSG_HANDLE(1, 1);
	c.classid = TCMSG_HANDLE(1, 0x10);
	c.rate = 15000000;          /* 120mbit in bytes/s */
	c.ceil = 25000000;          /* 200mbit */
	c.buffer = 68267;
	c.cbuffer = 40960;
	c.quantum = 98304;
	c.prio = 1;
	c.cell_log = 3;
	c.ccell_log = 3;
	for (unsigned i = 0; i < TCMSG_RTAB_SLOTS; i++) {
		c.rtab[i] = 1000 + i;   /* distinct values: a swapped table shows */
		c.ctab[i] = 5000 + i;
	}
	return &c;
}

static void check_ratespec(const struct tc_ratespec *rs, uint32_t rate, uint8_t cell_log)
{
	assert_int_equal(rs->rate, rate);
	assert_int_equal(rs->cell_log, cell_log);
	/* Ethernet: the kernel computes times from the rate itself and ignores the tables */
	assert_int_equal(rs->linklayer, TC_LINKLAYER_ETHERNET);
	assert_int_equal(rs->overhead, 0);
	assert_int_equal(rs->mpu, 0);
	assert_int_equal(rs->cell_align, -1);
}

static void test_class_32bit(void **state)
{
	struct tcmsg_htb_class *c = class_120mbit(), *back = calloc(1, sizeof(*back));
	_Alignas(8) static char buf[4096];
	const struct tc_htb_opt *opt;
	struct attrs top, opts;
	int len = tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_ADD, c);

	assert_true(len <= TCMSG_CLASS_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTCLASS, F_ADD, 41, 0x10001, 0x10010, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[TCA_KIND], "htb");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 3);            /* PARMS, RTAB, CTAB: no 64-bit rates */
	assert_null(opts.tb[TCA_HTB_RATE64]);
	assert_null(opts.tb[TCA_HTB_CEIL64]);
	opt = struct_of(opts.tb[TCA_HTB_PARMS], sizeof(*opt));
	check_ratespec(&opt->rate, 15000000, 3);
	check_ratespec(&opt->ceil, 25000000, 3);
	assert_int_equal(opt->buffer, 68267);
	assert_int_equal(opt->cbuffer, 40960);
	assert_int_equal(opt->quantum, 98304);
	assert_int_equal(opt->prio, 1);
	assert_int_equal(opt->level, 0);
	assert_memory_equal(struct_of(opts.tb[TCA_HTB_RTAB], 1024), c->rtab, 1024);
	assert_memory_equal(struct_of(opts.tb[TCA_HTB_CTAB], 1024), c->ctab, 1024);

	assert_non_null(back);
	assert_int_equal(tcmsg_parse_htb_class((struct nlmsghdr *)buf, back), 0);
	assert_true(back->has_tables);
	c->has_tables = true;
	assert_memory_equal(back, c, sizeof(*c));
	free(back);
}

static void test_class_64bit(void **state)
{
	struct tcmsg_htb_class *c = class_120mbit(), back;
	_Alignas(8) static char buf[4096];
	const struct tc_htb_opt *opt;
	struct attrs top, opts;
	int len;

	c->rate = 5000000000ULL;    /* 40gbit = 5e9 bytes/s >= 2^32 */
	c->ceil = 6250000000ULL;    /* 50gbit */
	len = tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_REPLACE, c);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTCLASS, F_REPLACE, 41, 0x10001, 0x10010, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 5);
	assert_non_null(opts.tb[TCA_HTB_RATE64]);
	assert_int_equal(mnl_attr_get_payload_len(opts.tb[TCA_HTB_RATE64]), 8);
	assert_true(mnl_attr_get_u64(opts.tb[TCA_HTB_RATE64]) == 5000000000ULL);
	assert_true(mnl_attr_get_u64(opts.tb[TCA_HTB_CEIL64]) == 6250000000ULL);
	opt = struct_of(opts.tb[TCA_HTB_PARMS], sizeof(*opt));
	check_ratespec(&opt->rate, ~0U, 3);        /* tc's marker for "see RATE64" */
	check_ratespec(&opt->ceil, ~0U, 3);
	assert_int_equal(tcmsg_parse_htb_class((struct nlmsghdr *)buf, &back), 0);
	assert_true(back.rate == 5000000000ULL);
	assert_true(back.ceil == 6250000000ULL);

	/* 10gbit = 1.25e9 bytes/s fits the 32-bit field: no RATE64 */
	c->rate = 1250000000ULL;
	len = tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_ADD, c);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_null(opts.tb[TCA_HTB_RATE64]);
	assert_non_null(opts.tb[TCA_HTB_CEIL64]);
	assert_int_equal(tcmsg_parse_htb_class((struct nlmsghdr *)buf, &back), 0);
	assert_true(back.rate == 1250000000ULL);

	/* The boundary: 2^32 - 1 still fits, 2^32 does not */
	c->rate = (1ULL << 32) - 1;
	tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_ADD, c);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_null(opts.tb[TCA_HTB_RATE64]);
	c->rate = 1ULL << 32;
	tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_ADD, c);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_non_null(opts.tb[TCA_HTB_RATE64]);
}

static void test_class_invalid_and_del(void **state)
{
	struct tcmsg_htb_class *c = class_120mbit();
	_Alignas(8) static char buf[4096];
	struct attrs top;
	int len;

	c->rate = 0;                /* htb_change_class() fails with EINVAL */
	assert_int_equal(tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_ADD, c), -EINVAL);
	len = tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_DEL, c);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTCLASS, F_DEL, 41, 0x10001, 0x10010, 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
	c = class_120mbit();
	c->ceil = 0;
	assert_int_equal(tcmsg_build_htb_class(buf, sizeof(buf), SEQ, TCMSG_REPLACE, c), -EINVAL);
}

/* A class as the kernel dumps it: level set, rates and buffers, no tables, stats we skip. */
static void test_class_parse_kernel_answer(void **state)
{
	_Alignas(8) char buf[1024];
	struct tc_htb_opt opt = { 0 };
	struct tcmsg_htb_class c;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;
	struct nlattr *nest;

	nlh->nlmsg_type = RTM_NEWTCLASS;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_ifindex = 5;
	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = 0x20001;
	mnl_attr_put_strz(nlh, TCA_KIND, "htb");
	opt.rate.rate = ~0U;
	opt.ceil.rate = ~0U;
	opt.buffer = 15625;
	opt.cbuffer = 15625;
	opt.quantum = 65536;
	opt.level = 7;
	nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_PARMS, sizeof(opt), &opt);
	mnl_attr_put_u64(nlh, TCA_HTB_RATE64, 6250000000ULL);
	mnl_attr_put_u64(nlh, TCA_HTB_CEIL64, 6250000000ULL);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put(nlh, TCA_STATS2, 8, "\0\0\0\0\0\0\0\0");
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), 0);
	assert_int_equal(c.ifindex, 5);
	assert_int_equal(c.parent, TC_H_ROOT);
	assert_int_equal(c.classid, 0x20001);
	assert_true(c.rate == 6250000000ULL);
	assert_int_equal(c.level, 7);
	assert_int_equal(c.buffer, 15625);
	assert_false(c.has_tables);

	/* Another kind is not an error, just not ours; a truncated PARMS is. */
	mnl_nlmsg_put_header(buf)->nlmsg_type = RTM_NEWTCLASS;
	mnl_nlmsg_put_extra_header((struct nlmsghdr *)buf, sizeof(*tcm));
	mnl_attr_put_strz((struct nlmsghdr *)buf, TCA_KIND, "hfsc");
	assert_int_equal(tcmsg_parse_htb_class((struct nlmsghdr *)buf, &c), -ENOENT);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTCLASS;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	mnl_attr_put_strz(nlh, TCA_KIND, "htb");
	nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_PARMS, 8, &opt);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWQDISC;
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), -EBADMSG);
}

/* A class dump entry shaped like tc_fill_tclass() + htb_dump_class_stats() on 6.18: the TCA_STATS2
 * nest (basic, rate estimator, queue, app), then the compat TCA_STATS and TCA_XSTATS.  The numbers
 * are those of a lab class (rate 200kbit ceil 1mbit, bfifo 3000b, four ping floods): tc -s showed
 * "Sent 129780 bytes 90 pkt (dropped 310, overlimits 89 requeues 0)", "lended: 19 borrowed: 71",
 * "tokens: -57191 ctokens: -179941". */
struct raw_stats {
	const char *kind;
	uint16_t type;               /* RTM_NEWTCLASS or RTM_NEWQDISC */
	bool stats2, app, xstats, pkt64;
	size_t basic_len;            /* sizeof(struct gnet_stats_basic), or short */
};

static struct nlmsghdr *put_stats_msg(char *buf, const struct raw_stats *r)
{
	struct gnet_stats_basic basic = { .bytes = 129780, .packets = 90 };
	struct gnet_stats_rate_est est = { .bps = 16000, .pps = 11 };
	struct gnet_stats_queue q = { .qlen = 1, .backlog = 1442, .drops = 310, .requeues = 2, .overlimits = 89 };
	struct tc_htb_xstats x = { .lends = 19, .borrows = 71, .giants = 0, .tokens = -57191, .ctokens = -179941 };
	struct tc_stats compat = { .bytes = 129780, .packets = 90, .drops = 310, .overlimits = 89 };
	struct tc_htb_opt opt = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;
	struct nlattr *nest;

	nlh->nlmsg_type = r->type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_ifindex = 7;
	tcm->tcm_parent = 0x10001;
	tcm->tcm_handle = 0x10005;
	tcm->tcm_info = 0x82020000;   /* the leaf qdisc's handle, as the kernel reports it */
	mnl_attr_put_strz(nlh, TCA_KIND, r->kind);
	if (!strcmp(r->kind, "htb")) {
		opt.rate.rate = 25000;
		opt.ceil.rate = 125000;
		nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
		mnl_attr_put(nlh, TCA_HTB_PARMS, sizeof(opt), &opt);
		mnl_attr_nest_end(nlh, nest);
	}
	if (r->stats2) {
		nest = mnl_attr_nest_start(nlh, TCA_STATS2);
		if (r->pkt64)
			basic.packets = 0x5;             /* the low 32 bits of 2^32 + 5 */
		mnl_attr_put(nlh, TCA_STATS_BASIC, r->basic_len, &basic);
		if (r->pkt64)
			mnl_attr_put_u64(nlh, TCA_STATS_PKT64, (1ULL << 32) + 5);
		mnl_attr_put(nlh, TCA_STATS_RATE_EST, sizeof(est), &est);
		mnl_attr_put(nlh, TCA_STATS_QUEUE, sizeof(q), &q);
		if (r->app)
			mnl_attr_put(nlh, TCA_STATS_APP, sizeof(x), &x);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_put(nlh, TCA_STATS, sizeof(compat), &compat);
	if (r->xstats)
		mnl_attr_put(nlh, TCA_XSTATS, sizeof(x), &x);
	return nlh;
}

static void assert_lab_stats(const struct tcmsg_class_stats *st)
{
	assert_true(st->has_basic && st->has_queue && st->has_htb);
	assert_true(st->bytes == 129780);
	assert_true(st->packets == 90);
	assert_int_equal(st->drops, 310);
	assert_int_equal(st->overlimits, 89);
	assert_int_equal(st->qlen, 1);
	assert_int_equal(st->backlog, 1442);
	assert_int_equal(st->requeues, 2);
	assert_int_equal(st->lends, 19);
	assert_int_equal(st->borrows, 71);
	assert_int_equal(st->giants, 0);
	assert_int_equal(st->tokens, -57191);
	assert_int_equal(st->ctokens, -179941);
}

static void test_class_stats(void **state)
{
	_Alignas(8) char buf[1024];
	struct raw_stats r = { "htb", RTM_NEWTCLASS, true, true, true, false, sizeof(struct gnet_stats_basic) };
	struct tcmsg_class_stats st;
	struct tcmsg_htb_class c;
	struct nlmsghdr *nlh;

	/* The whole dump entry: the class and its counters, from either parser. */
	nlh = put_stats_msg(buf, &r);
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), 0);
	assert_int_equal(c.classid, 0x10005);
	assert_true(c.rate == 25000 && c.ceil == 125000);
	assert_lab_stats(&c.stats);
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(tcmsg_parse_stats(nlh, &st), 0);
	assert_lab_stats(&st);

	/* Without TCA_STATS_APP the HTB counters come from the old TCA_XSTATS. */
	r.app = false;
	assert_int_equal(tcmsg_parse_stats(put_stats_msg(buf, &r), &st), 0);
	assert_lab_stats(&st);
	/* With neither, no HTB part, the rest is there. */
	r.xstats = false;
	assert_int_equal(tcmsg_parse_stats(put_stats_msg(buf, &r), &st), 0);
	assert_true(st.has_basic && st.has_queue && !st.has_htb);
	assert_int_equal(st.borrows, 0);
	assert_int_equal(st.drops, 310);

	/* More than 2^32 packets: TCA_STATS_PKT64 has the whole count. */
	r.app = true;
	r.pkt64 = true;
	assert_int_equal(tcmsg_parse_stats(put_stats_msg(buf, &r), &st), 0);
	assert_true(st.packets == (1ULL << 32) + 5);
	assert_true(st.bytes == 129780);
	r.pkt64 = false;

	/* A qdisc entry (the bfifo leaf): basic and queue; its app part is not HTB's. */
	r.kind = "bfifo";
	r.type = RTM_NEWQDISC;
	assert_int_equal(tcmsg_parse_stats(put_stats_msg(buf, &r), &st), 0);
	assert_true(st.has_basic && st.has_queue && !st.has_htb);
	assert_int_equal(st.drops, 310);
	assert_true(st.packets == 90);

	/* No TCA_STATS2 (an answer to a request, not a dump): no counters, the class parses. */
	r.kind = "htb";
	r.type = RTM_NEWTCLASS;
	r.stats2 = false;
	nlh = put_stats_msg(buf, &r);
	assert_int_equal(tcmsg_parse_stats(nlh, &st), -ENODATA);
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), 0);
	assert_false(c.stats.has_basic || c.stats.has_htb);

	/* A truncated basic struct is malformed for the stats parser; the class parser keeps the
	 * class and leaves its counters at 0 (as before counters were read). */
	r.stats2 = true;
	r.basic_len = 8;
	nlh = put_stats_msg(buf, &r);
	assert_int_equal(tcmsg_parse_stats(nlh, &st), -EBADMSG);
	assert_int_equal(tcmsg_parse_htb_class(nlh, &c), 0);
	assert_true(c.rate == 25000);
	assert_false(c.stats.has_basic || c.stats.has_queue || c.stats.has_htb);
	assert_true(c.stats.bytes == 0 && c.stats.drops == 0 && c.stats.borrows == 0);

	/* Not a tc object at all. */
	nlh->nlmsg_type = RTM_NEWTFILTER;
	assert_int_equal(tcmsg_parse_stats(nlh, &st), -EBADMSG);
}

/* ------------------------------------------------------------------ u32 filters */

static const struct tcmsg_u32 U32_SRC = {
	.ifindex = 41,
	.parent = 0x10000,
	.prio = 10,
	.protocol = ETH_P_IP,
	.handle = 7,
	.match = TCMSG_U32_IPV4_SRC,
	.addr = IP(10, 244, 7, 2),
	.prefix_len = 32,
	.classid = 0x10010,
};

/* The selector: one key, TERMINAL, nothing variable. */
static void assert_u32_equal(const struct tcmsg_u32 *a, const struct tcmsg_u32 *b)
{
	assert_int_equal(a->ifindex, b->ifindex);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->prio, b->prio);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->handle, b->handle);
	assert_int_equal(a->match, b->match);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_int_equal(a->classid, b->classid);
	assert_int_equal(a->redirect_ifindex, b->redirect_ifindex);
	assert_int_equal(a->ht, b->ht);
	assert_int_equal(a->link, b->link);
	assert_int_equal(a->hashkey, b->hashkey);
}

static const struct tc_u32_key *check_sel(const struct nlattr *a)
{
	const struct tc_u32_sel *sel;

	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key));
	sel = mnl_attr_get_payload(a);
	assert_int_equal(sel->flags, TC_U32_TERMINAL);
	assert_int_equal(sel->nkeys, 1);
	assert_int_equal(sel->offshift, 0);
	assert_int_equal(sel->offmask, 0);
	assert_int_equal(sel->off, 0);
	assert_int_equal(sel->offoff, 0);
	assert_int_equal(sel->hoff, 0);
	assert_int_equal(sel->hmask, 0);
	return (const struct tc_u32_key *)(sel + 1);
}

static void test_u32_src(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_u32_key *key;
	struct tcmsg_u32 back;
	struct attrs top, opts;
	/* tcm_info = prio << 16 | htons(ETH_P_IP) */
	uint32_t info = 10u << 16 | htons(ETH_P_IP);
	int len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &U32_SRC);

	assert_true(len <= TCMSG_FILTER_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 7, info);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[TCA_KIND], "u32");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);
	assert_u32_attr(opts.tb[TCA_U32_CLASSID], 0x10010);
	key = check_sel(opts.tb[TCA_U32_SEL]);
	assert_int_equal(key->off, 12);                        /* IPv4 source */
	assert_int_equal(key->mask, htonl(0xffffffff));
	assert_int_equal(key->val, htonl(IP(10, 244, 7, 2)));  /* network order, as tc prints 0af40702 */
	assert_int_equal(key->offmask, 0);

	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &U32_SRC);
}

static void test_u32_dst_prefix(void **state)
{
	struct tcmsg_u32 f = U32_SRC, back;
	_Alignas(8) char buf[512];
	const struct tc_u32_key *key;
	struct attrs top, opts;
	int len;

	f.match = TCMSG_U32_IPV4_DST;
	f.addr = IP(10, 244, 7, 99);
	f.prefix_len = 24;
	f.protocol = 0;            /* default for an address match: IPv4 */
	len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_REPLACE, 41, 0x10000, 7,
	                 10u << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	key = check_sel(opts.tb[TCA_U32_SEL]);
	assert_int_equal(key->off, 16);                        /* IPv4 destination */
	assert_int_equal(key->mask, htonl(0xffffff00));
	assert_int_equal(key->val, htonl(IP(10, 244, 7, 0)));  /* host bits cleared */
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.match, TCMSG_U32_IPV4_DST);
	assert_int_equal(back.addr, IP(10, 244, 7, 0));
	assert_int_equal(back.prefix_len, 24);
	assert_int_equal(back.protocol, ETH_P_IP);

	f.prefix_len = 0;          /* every IPv4 packet: mask 0 at offset 16 */
	tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.match, TCMSG_U32_IPV4_DST);
	assert_int_equal(back.prefix_len, 0);
	assert_int_equal(back.addr, 0);
}

static void test_u32_redirect(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_mirred *parms;
	const struct tc_u32_key *key;
	struct attrs top, opts, acts, act, aopts;
	struct tcmsg_u32 back;
	int len = classify_build_redirect(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, 3);

	/* tc filter add dev X ingress prio 2 protocol all u32 match u32 0 0
	 *    action mirred egress redirect dev shoal-out */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 9, 0xfffffff2, CLASSIFY_VETH_NODE,
	                 2u << 16 | htons(ETH_P_ALL));
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_str_attr(top.tb[TCA_KIND], "u32");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);               /* SEL and ACT: no classid */
	key = check_sel(opts.tb[TCA_U32_SEL]);
	assert_int_equal(key->mask, 0);
	assert_int_equal(key->val, 0);
	assert_int_equal(key->off, 0);
	collect_nested(opts.tb[TCA_U32_ACT], &acts);
	assert_int_equal(acts.total, 1);
	collect_nested(acts.tb[1], &act);              /* action order 1 */
	assert_int_equal(act.total, 2);
	assert_str_attr(act.tb[TCA_ACT_KIND], "mirred");
	collect_nested(act.tb[TCA_ACT_OPTIONS], &aopts);
	assert_int_equal(aopts.total, 1);
	parms = struct_of(aopts.tb[TCA_MIRRED_PARMS], sizeof(*parms));
	assert_int_equal(parms->eaction, TCA_EGRESS_REDIR);
	assert_int_equal(parms->action, TC_ACT_STOLEN);  /* the veth's stack never sees the original */
	assert_int_equal(parms->ifindex, 3);
	assert_int_equal(parms->index, 0);               /* a new action, not a shared one */

	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.match, TCMSG_U32_ALL);
	assert_int_equal(back.protocol, ETH_P_ALL);
	assert_int_equal(back.prio, CLASSIFY_REDIRECT_PRIO_INGRESS);
	assert_int_equal(back.parent, TCMSG_CLSACT_INGRESS);
	assert_int_equal(back.redirect_ifindex, 3);
	assert_int_equal(back.classid, 0);

	/* The egress hook: to shoal-in, at its own priority */
	len = classify_build_redirect(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, false, 4);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 9, 0xfffffff3, CLASSIFY_VETH_NODE,
	                 4u << 16 | htons(ETH_P_ALL));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.redirect_ifindex, 4);
	assert_int_not_equal(CLASSIFY_REDIRECT_PRIO_INGRESS, CLASSIFY_REDIRECT_PRIO_EGRESS);
	/* Each hook's exemption runs before its redirect, and no priority is shared between hooks. */
	assert_true(CLASSIFY_EXEMPT_PRIO_INGRESS < CLASSIFY_REDIRECT_PRIO_INGRESS);
	assert_true(CLASSIFY_EXEMPT_PRIO_EGRESS < CLASSIFY_REDIRECT_PRIO_EGRESS);
	assert_int_not_equal(CLASSIFY_EXEMPT_PRIO_INGRESS, CLASSIFY_EXEMPT_PRIO_EGRESS);
	assert_int_not_equal(CLASSIFY_EXEMPT_PRIO_INGRESS, CLASSIFY_REDIRECT_PRIO_EGRESS);
	assert_int_not_equal(CLASSIFY_EXEMPT_PRIO_EGRESS, CLASSIFY_REDIRECT_PRIO_INGRESS);

	/* A delete by priority: no handle, no options. */
	len = classify_build_redirect(buf, sizeof(buf), SEQ, TCMSG_DEL, 9, true, 0);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 9, 0xfffffff2, 0,
	                 2u << 16 | htons(ETH_P_ALL));

	assert_int_equal(classify_build_redirect(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, false, 0), -EINVAL);
}

static void test_u32_invalid_and_del(void **state)
{
	struct tcmsg_u32 f = U32_SRC;
	_Alignas(8) char buf[512];
	struct attrs top;
	int len;

	f.prefix_len = 33;
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_SRC;
	f.classid = 0;              /* no verdict at all */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_SRC;
	f.prio = 0;
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);

	/* Delete by full handle 800::7 */
	f = U32_SRC;
	f.handle = TCMSG_U32_HANDLE(0x800, 0, 7);
	assert_int_equal(f.handle, 0x80000007);
	len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_DEL, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 41, 0x10000, 0x80000007,
	                 10u << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
}

/* What else a u32 dump holds: hash-table entries, other kinds, actions we never build. */
static int put_u32_msg(char *buf, const char *kind, bool with_sel, int eaction, int action, bool divisor)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} s = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };
	struct tc_mirred parms = { .action = action, .eaction = eaction, .ifindex = 3 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *opts, *acts, *act, *aopts;

	nlh->nlmsg_type = RTM_NEWTFILTER;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct tcmsg));
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	if (divisor)
		mnl_attr_put_u32(nlh, TCA_U32_DIVISOR, 1);
	if (with_sel)
		mnl_attr_put(nlh, TCA_U32_SEL, sizeof(s), &s);
	if (eaction) {
		acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
		act = mnl_attr_nest_start(nlh, 1);
		mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
		aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
		mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(parms), &parms);
		mnl_attr_nest_end(nlh, aopts);
		mnl_attr_put(nlh, TCA_ACT_STATS, 4, "\0\0\0\0");   /* the kernel adds stats */
		mnl_attr_nest_end(nlh, act);
		mnl_attr_nest_end(nlh, acts);
	}
	mnl_attr_nest_end(nlh, opts);
	return (int)nlh->nlmsg_len;
}

static void test_u32_parse_kernel_answers(void **state)
{
	_Alignas(8) char buf[1024];
	struct tcmsg_u32 f;

	put_u32_msg(buf, "u32", false, 0, 0, true);          /* "fh 800: ht divisor 1" */
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -ENOENT);
	put_u32_msg(buf, "bpf", true, 0, 0, false);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -ENOENT);
	put_u32_msg(buf, "u32", true, TCA_EGRESS_REDIR, TC_ACT_STOLEN, false);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.redirect_ifindex, 3);
	put_u32_msg(buf, "u32", true, TCA_EGRESS_MIRROR, TC_ACT_PIPE, false);   /* a mirror is not ours */
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);

	/* The instance line of a dump: kind only */
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

		nlh->nlmsg_type = RTM_NEWTFILTER;
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct tcmsg));
		mnl_attr_put_strz(nlh, TCA_KIND, "u32");
		assert_int_equal(tcmsg_parse_u32(nlh, &f), -ENOENT);
		nlh->nlmsg_len = 8;    /* shorter than a header */
		assert_int_equal(tcmsg_parse_u32(nlh, &f), -EBADMSG);
	}
}

/* ------------------------------------------------------------------ u32 hash tables */

static const struct tcmsg_u32_table U32_TABLE = {
	.ifindex = 41,
	.parent = 0x10000,
	.prio = 10,
	.protocol = ETH_P_IP,
	.handle = 0x10000000,      /* 100: */
	.divisor = 256,
};

/* tc filter add dev X parent 1: prio 10 protocol ip handle 800::1 u32
 *    match ip src 10.244.16.0/20 hashkey mask 0x000000ff at 12 link 100: */
static const struct tcmsg_u32 U32_LINK = {
	.ifindex = 41,
	.parent = 0x10000,
	.prio = 10,
	.protocol = ETH_P_IP,
	.handle = 0x80000001,
	.match = TCMSG_U32_IPV4_SRC,
	.addr = IP(10, 244, 16, 0),
	.prefix_len = 20,
	.link = 0x10000000,
	.hashkey = TCMSG_U32_HASHKEY_IPV4_SRC,
};

/* tc filter add dev X parent 1: prio 10 protocol ip handle 100:2:2 u32 ht 100:2:
 *    match ip dst 10.244.17.2/32 flowid 1:102 */
static const struct tcmsg_u32 U32_BUCKET = {
	.ifindex = 41,
	.parent = 0x10000,
	.prio = 10,
	.protocol = ETH_P_IP,
	.handle = 0x10002002,
	.match = TCMSG_U32_IPV4_DST,
	.addr = IP(10, 244, 17, 2),
	.prefix_len = 32,
	.classid = 0x10102,
	.ht = 0x10002000,
};

static void assert_table_equal(const struct tcmsg_u32_table *a, const struct tcmsg_u32_table *b)
{
	assert_int_equal(a->ifindex, b->ifindex);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->prio, b->prio);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->handle, b->handle);
	assert_int_equal(a->divisor, b->divisor);
}

/* A u32 filter message as the kernel dumps one (u32_dump()) at prio 10, protocol ip: the
 * selector, TCA_U32_HASH for every filter, TCA_U32_FLAGS "not_in_hw", and whatever else is given. */
struct raw_u32 {
	uint32_t handle;
	unsigned char flags;       /* sel.flags */
	uint32_t hmask;            /* host order */
	uint16_t hoff;
	uint32_t key_mask, key_val;  /* host order */
	int key_off;
	uint32_t hash, link, classid;
	bool short_link;           /* a TCA_U32_LINK of 2 bytes */
};

static struct nlmsghdr *put_raw_u32(char *buf, const struct raw_u32 *r)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} s = { .sel = { .flags = r->flags, .nkeys = 1, .hmask = htonl(r->hmask), .hoff = (short)r->hoff },
		.key = { .mask = htonl(r->key_mask), .val = htonl(r->key_val), .off = r->key_off } };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;
	struct nlattr *opts;

	nlh->nlmsg_type = RTM_NEWTFILTER;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_ifindex = 41;
	tcm->tcm_parent = 0x10000;
	tcm->tcm_handle = r->handle;
	tcm->tcm_info = 10u << 16 | htons(ETH_P_IP);   /* prio 10, protocol ip */
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(s), &s);
	if (r->hash)
		mnl_attr_put_u32(nlh, TCA_U32_HASH, r->hash);
	if (r->classid)
		mnl_attr_put_u32(nlh, TCA_U32_CLASSID, r->classid);
	if (r->link)
		mnl_attr_put_u32(nlh, TCA_U32_LINK, r->link);
	if (r->short_link)
		mnl_attr_put_u16(nlh, TCA_U32_LINK, 1);
	mnl_attr_put_u32(nlh, TCA_U32_FLAGS, TCA_CLS_FLAGS_NOT_IN_HW);
	mnl_attr_nest_end(nlh, opts);
	return nlh;
}

#define INFO_IP_10 (10u << 16 | htons(ETH_P_IP))

/* The kernel's link as dumped: in the root table 800:, not terminal, hash on the source. */
static const struct raw_u32 RAW_LINK = {
	.handle = 0x80000001, .flags = 0, .hmask = 0xff, .hoff = 12,
	.key_mask = 0xfffff000, .key_val = IP(10, 244, 16, 0), .key_off = 12, .hash = 0x80000000, .link = 0x10000000,
};

static void test_u32_table(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_u32_table t = U32_TABLE, back;
	struct tcmsg_u32 f;
	struct attrs top, opts;
	int len = tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);

	/* tc filter add dev X parent 1: prio 10 handle 100: protocol ip u32 divisor 256 */
	assert_true(len <= TCMSG_FILTER_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 0x10000000, INFO_IP_10);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[TCA_KIND], "u32");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 1);                 /* the divisor and nothing else */
	assert_u32_attr(opts.tb[TCA_U32_DIVISOR], 256);
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &back), 0);
	assert_table_equal(&back, &t);
	/* A table is not a filter: the filter parser keeps skipping it. */
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -ENOENT);

	/* protocol 0 = ip; the kernel may number the table (handle 0) */
	t.protocol = 0;
	t.handle = 0;
	len = tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 0, INFO_IP_10);

	/* DEL: the header and the kind */
	len = tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_DEL, &U32_TABLE);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 41, 0x10000, 0x10000000, INFO_IP_10);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);

	/* A priority's root table as a dump shows it ("fh 800: ht divisor 1") */
	put_u32_msg(buf, "u32", false, 0, 0, true);
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &back), 0);
	assert_int_equal(back.divisor, 1);
	/* Filters, the kind-only line and other kinds are not tables */
	len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &U32_SRC);
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &back), -ENOENT);
	put_raw_u32(buf, &RAW_LINK);
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &back), -ENOENT);
	put_u32_msg(buf, "bpf", false, 0, 0, true);
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &back), -ENOENT);
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct nlattr *opts_;

		nlh->nlmsg_type = RTM_NEWTFILTER;
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct tcmsg));
		mnl_attr_put_strz(nlh, TCA_KIND, "u32");
		assert_int_equal(tcmsg_parse_u32_table(nlh, &back), -ENOENT);
		/* a divisor of 2 bytes is malformed */
		opts_ = mnl_attr_nest_start(nlh, TCA_OPTIONS);
		mnl_attr_put_u16(nlh, TCA_U32_DIVISOR, 256);
		mnl_attr_nest_end(nlh, opts_);
		assert_int_equal(tcmsg_parse_u32_table(nlh, &back), -EBADMSG);
		nlh->nlmsg_type = RTM_NEWQDISC;
		assert_int_equal(tcmsg_parse_u32_table(nlh, &back), -EBADMSG);
	}
}

static void test_u32_table_invalid(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_u32_table t = U32_TABLE;

	/* The kernel cannot change a table: REPLACE of an existing one fails, so we never build it. */
	assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &t), -EINVAL);
	for (uint32_t d = 0; d <= 1024; d++) {
		bool good = d == 1 || d == 2 || d == 4 || d == 8 || d == 16 || d == 32 || d == 64 || d == 128 || d == 256;

		t.divisor = d;
		assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t) > 0, good);
	}
	t = U32_TABLE;
	t.handle = 0x10000001;     /* a node: not a table */
	assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t), -EINVAL);
	t.handle = 0x10001000;     /* a bucket */
	assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t), -EINVAL);
	assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_DEL, &t), -EINVAL);
	t = U32_TABLE;
	t.prio = 0;
	assert_int_equal(tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t), -EINVAL);
}

static void test_u32_link(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_u32_sel *sel;
	const struct tc_u32_key *key;
	struct tcmsg_u32 f = U32_LINK, back;
	struct attrs top, opts;
	int len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);

	assert_true(len <= TCMSG_FILTER_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 0x80000001, INFO_IP_10);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);                 /* LINK and SEL: no class, no table, no action */
	assert_u32_attr(opts.tb[TCA_U32_LINK], 0x10000000);
	assert_null(opts.tb[TCA_U32_CLASSID]);
	assert_null(opts.tb[TCA_U32_HASH]);              /* the root table: the kernel's default */
	sel = struct_of(opts.tb[TCA_U32_SEL], sizeof(*sel) + sizeof(*key));
	/* Not terminal: a miss in the linked table comes back and goes on with the next filter */
	assert_int_equal(sel->flags, 0);
	assert_int_equal(sel->nkeys, 1);
	assert_int_equal(sel->hmask, htonl(0x000000ff));  /* the last octet ... */
	assert_int_equal(sel->hoff, 12);                  /* ... of the source */
	assert_int_equal(sel->off, 0);
	assert_int_equal(sel->offmask, 0);
	key = (const struct tc_u32_key *)(sel + 1);
	assert_int_equal(key->off, 12);
	assert_int_equal(key->mask, htonl(0xfffff000));
	assert_int_equal(key->val, htonl(IP(10, 244, 16, 0)));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &f);

	/* shoal-in: the destination, hashed on the destination */
	f.match = TCMSG_U32_IPV4_DST;
	f.hashkey = TCMSG_U32_HASHKEY_IPV4_DST;
	len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_REPLACE, 41, 0x10000, 0x80000001, INFO_IP_10);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	sel = struct_of(opts.tb[TCA_U32_SEL], sizeof(*sel) + sizeof(*key));
	assert_int_equal(sel->hoff, 16);
	assert_int_equal(((const struct tc_u32_key *)(sel + 1))->off, 16);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &f);

	/* A link into a one-bucket table: no hash key at all */
	f.hashkey = TCMSG_U32_HASHKEY_NONE;
	tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	sel = struct_of(opts.tb[TCA_U32_SEL], sizeof(*sel) + sizeof(*key));
	assert_int_equal(sel->hmask, 0);
	assert_int_equal(sel->hoff, 0);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &f);

	/* A link with a verdict too is terminal (the verdict applies after a miss) */
	f.classid = 0x10010;
	tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	sel = struct_of(opts.tb[TCA_U32_SEL], sizeof(*sel) + sizeof(*key));
	assert_int_equal(sel->flags, TC_U32_TERMINAL);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &f);
}

static void test_u32_bucket_filter(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_u32_key *key;
	struct tcmsg_u32 f = U32_BUCKET, back;
	struct attrs top, opts;
	int len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);

	assert_true(len <= TCMSG_FILTER_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 0x10002002, INFO_IP_10);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 3);
	assert_u32_attr(opts.tb[TCA_U32_HASH], 0x10002000);   /* table 100:, bucket 2 */
	assert_u32_attr(opts.tb[TCA_U32_CLASSID], 0x10102);
	assert_null(opts.tb[TCA_U32_LINK]);
	key = check_sel(opts.tb[TCA_U32_SEL]);                /* terminal, no hash key */
	assert_int_equal(key->off, 16);
	assert_int_equal(key->mask, htonl(0xffffffff));
	assert_int_equal(key->val, htonl(IP(10, 244, 17, 2)));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
	assert_u32_equal(&back, &f);

	/* A node-only handle: the kernel completes it with ht */
	f.handle = 2;
	len = tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x10000, 2, INFO_IP_10);

	/* As the kernel dumps it: TCA_U32_HASH and the flags come back */
	{
		struct raw_u32 r = { .handle = 0x10002002, .flags = TC_U32_TERMINAL,
			             .key_mask = 0xffffffff, .key_val = IP(10, 244, 17, 2), .key_off = 16,
			             .hash = 0x10002000, .classid = 0x10102 };

		put_raw_u32(buf, &r);
		assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &back), 0);
		f = U32_BUCKET;
		assert_u32_equal(&back, &f);
	}
}

static void test_u32_hash_invalid(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_u32 f;

	f = U32_SRC;
	f.hashkey = TCMSG_U32_HASHKEY_IPV4_SRC;     /* a hash key without a table to pick from */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_LINK;
	f.hashkey = (enum tcmsg_u32_hashkey)3;
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_LINK;
	f.link = 0x10001000;                          /* a bucket, not a table */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f.link = 0x10000001;                          /* a filter */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_LINK;
	f.link = 0;                                    /* neither a verdict nor a link */
	f.hashkey = TCMSG_U32_HASHKEY_NONE;
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_BUCKET;
	f.ht = 0x10002001;                             /* ht names a table and bucket, not a node */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = U32_BUCKET;
	f.handle = 0x20002002;                         /* a handle of another table */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f.handle = 0x10003002;                         /* another bucket: the kernel would use ht's */
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	assert_int_equal(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_DEL, &f), -EINVAL);
	f.handle = 0x10002002;
	assert_true(tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f) > 0);
}

static void test_u32_parse_hash_dump(void **state)
{
	_Alignas(8) char buf[1024];
	struct tcmsg_u32 f;
	struct raw_u32 r;

	/* The link as the kernel dumps it: it reports the root table in TCA_U32_HASH */
	put_raw_u32(buf, &RAW_LINK);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.handle, 0x80000001);
	assert_int_equal(f.ht, 0x80000000);
	assert_int_equal(f.link, 0x10000000);
	assert_int_equal(f.hashkey, TCMSG_U32_HASHKEY_IPV4_SRC);
	assert_int_equal(f.match, TCMSG_U32_IPV4_SRC);
	assert_int_equal(f.addr, IP(10, 244, 16, 0));
	assert_int_equal(f.prefix_len, 20);
	assert_int_equal(f.classid, 0);
	assert_int_equal(f.prio, 10);
	assert_int_equal(f.protocol, ETH_P_IP);

	/* Shapes we never build */
	r = RAW_LINK;
	r.flags = TC_U32_TERMINAL;                     /* a terminal link without a verdict */
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);
	r = RAW_LINK;
	r.link = 0;                                    /* not terminal and nowhere to go */
	r.hmask = 0;
	r.hoff = 0;
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);
	r = RAW_LINK;
	r.link = 0;                                    /* a hash key without a link */
	r.flags = TC_U32_TERMINAL;
	r.classid = 0x10010;
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);
	r = RAW_LINK;
	r.hmask = 0x0000ff00;                          /* another byte */
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);
	r = RAW_LINK;
	r.hoff = 20;                                   /* past the addresses */
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EOPNOTSUPP);
	/* Malformed */
	r = RAW_LINK;
	r.link = 0;
	r.short_link = true;
	put_raw_u32(buf, &r);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), -EBADMSG);
}

/* ------------------------------------------------------------------ cls_bpf filters */

static const struct tcmsg_bpf BPF = {
	.ifindex = 41,
	.parent = TCMSG_CLSACT_EGRESS,
	.prio = 0xc500,
	.protocol = ETH_P_ALL,
	.handle = 1,
	.prog_fd = 42,
	.name = "shoal_cg_out",
	.redirect_ifindex = 3,
};

static void assert_bpf_equal(const struct tcmsg_bpf *a, const struct tcmsg_bpf *b)
{
	assert_int_equal(a->ifindex, b->ifindex);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->prio, b->prio);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->handle, b->handle);
	assert_int_equal(a->prog_fd, b->prog_fd);
	assert_int_equal(a->prog_id, b->prog_id);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->direct_action, b->direct_action);
	assert_int_equal(a->redirect_ifindex, b->redirect_ifindex);
}

/* The one mirred egress redirect of an actions nest (TCA_U32_ACT or TCA_BPF_ACT). */
static void assert_redirect_action(const struct nlattr *nest, uint32_t ifindex)
{
	const struct tc_mirred *parms;
	struct attrs acts, act, aopts;

	collect_nested(nest, &acts);
	assert_int_equal(acts.total, 1);
	collect_nested(acts.tb[1], &act);              /* action order 1 */
	assert_int_equal(act.total, 2);
	assert_str_attr(act.tb[TCA_ACT_KIND], "mirred");
	collect_nested(act.tb[TCA_ACT_OPTIONS], &aopts);
	assert_int_equal(aopts.total, 1);
	parms = struct_of(aopts.tb[TCA_MIRRED_PARMS], sizeof(*parms));
	assert_int_equal(parms->eaction, TCA_EGRESS_REDIR);
	assert_int_equal(parms->action, TC_ACT_STOLEN);
	assert_int_equal(parms->ifindex, ifindex);
	assert_int_equal(parms->index, 0);
}

static void test_bpf_build(void **state)
{
	struct tcmsg_bpf f = BPF, back;
	_Alignas(8) char buf[512];
	struct attrs top, opts;
	/* tc filter add dev X egress prio 0xc500 handle 1 protocol all bpf fd 42 name shoal_cg_out
	 *    action mirred egress redirect dev ifindex 3 */
	uint32_t info = 0xc500u << 16 | htons(ETH_P_ALL);
	int len = tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);

	assert_true(len <= TCMSG_FILTER_MAXLEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, TCMSG_CLSACT_EGRESS, 1, info);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[TCA_KIND], "bpf");
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	/* Classic mode: FD, NAME and ACT only; no flags (direct-action would skip the redirect). */
	assert_int_equal(opts.total, 3);
	assert_u32_attr(opts.tb[TCA_BPF_FD], 42);
	assert_str_attr(opts.tb[TCA_BPF_NAME], "shoal_cg_out");
	assert_null(opts.tb[TCA_BPF_FLAGS]);
	assert_redirect_action(opts.tb[TCA_BPF_ACT], 3);
	/* Round trip: what we sent comes back, the fd included (a dump reports the id instead). */
	assert_int_equal(tcmsg_parse_bpf((struct nlmsghdr *)buf, &back), 0);
	assert_bpf_equal(&back, &f);

	/* REPLACE: the same message without NLM_F_EXCL, so cls_bpf swaps the program in place. */
	len = tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_REPLACE, 41, TCMSG_CLSACT_EGRESS, 1, info);

	/* Direct-action, no name, no redirect, protocol 0 (= all), on the ingress hook. */
	f.direct_action = true;
	f.name[0] = '\0';
	f.redirect_ifindex = 0;
	f.protocol = 0;
	f.parent = TCMSG_CLSACT_INGRESS;
	len = tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, TCMSG_CLSACT_INGRESS, 1, info);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);
	assert_u32_attr(opts.tb[TCA_BPF_FD], 42);
	assert_u32_attr(opts.tb[TCA_BPF_FLAGS], TCA_BPF_FLAG_ACT_DIRECT);
	assert_int_equal(tcmsg_parse_bpf((struct nlmsghdr *)buf, &back), 0);
	f.protocol = ETH_P_ALL;
	assert_bpf_equal(&back, &f);

	/* DEL by priority: no handle, no options, no program needed. */
	f = BPF;
	f.handle = 0;
	f.prog_fd = -1;
	f.name[0] = '\0';
	len = tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_DEL, &f);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 41, TCMSG_CLSACT_EGRESS, 0, info);
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
	assert_str_attr(top.tb[TCA_KIND], "bpf");
	/* A delete has no options: it parses as a kind-only line. */
	assert_int_equal(tcmsg_parse_bpf((struct nlmsghdr *)buf, &back), -ENOENT);
}

static void test_bpf_invalid(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_bpf f;

	f = BPF;
	f.prio = 0;
	assert_int_equal(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = BPF;
	f.prog_fd = -1;
	assert_int_equal(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_REPLACE, &f), -EINVAL);
	f = BPF;
	memset(f.name, 'n', sizeof(f.name));        /* no NUL within the field */
	assert_int_equal(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f.name[sizeof(f.name) - 1] = '\0';          /* the longest name */
	assert_true(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f) > 0);
	f = BPF;
	f.direct_action = true;                     /* the redirect would never run */
	assert_int_equal(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &f), -EINVAL);
	f = BPF;
	assert_int_equal(tcmsg_build_bpf(buf, sizeof(buf), SEQ, (enum tcmsg_op)7, &f), -EINVAL);
	/* A delete checks none of the program's fields. */
	f.prio = 0;
	f.prog_fd = -1;
	f.direct_action = true;
	assert_true(tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_DEL, &f) > 0);
}

/* A cls_bpf dump entry the way cls_bpf_dump() writes it: TCA_CHAIN, then options with the name,
 * the flags when any, the id, the tag and the actions (each with the kernel's extra attributes). */
struct raw_bpf {
	uint16_t type;
	const char *kind;
	bool no_options;
	const char *name;
	uint32_t flags;
	uint32_t id;
	const char *act_kind;      /* NULL: no actions */
	int eaction, action;
	int nacts;                 /* 0 = 1 */
	bool short_parms;          /* the mirred parameters cut to 4 bytes */
	bool short_id;             /* TCA_BPF_ID of 2 bytes */
};

static const struct raw_bpf RAW_BPF = {
	.type = RTM_NEWTFILTER,
	.kind = "bpf",
	.name = "shoal_cg_out",
	.id = 106,
	.act_kind = "mirred",
	.eaction = TCA_EGRESS_REDIR,
	.action = TC_ACT_STOLEN,
};

static struct nlmsghdr *put_raw_bpf(char *buf, const struct raw_bpf *r)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t tag[8] = { 0xf2, 0x30 };
	struct nlattr *opts, *acts, *act, *aopts;
	struct tcmsg *tcm;

	nlh->nlmsg_type = r->type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_ifindex = 41;
	tcm->tcm_parent = TCMSG_CLSACT_EGRESS;
	tcm->tcm_handle = 1;
	tcm->tcm_info = 0xc500u << 16 | htons(ETH_P_ALL);
	mnl_attr_put_strz(nlh, TCA_KIND, r->kind);
	mnl_attr_put_u32(nlh, TCA_CHAIN, 0);
	if (r->no_options)
		return nlh;
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	if (r->name)
		mnl_attr_put_strz(nlh, TCA_BPF_NAME, r->name);
	if (r->flags)
		mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, r->flags);
	if (r->short_id)
		mnl_attr_put_u16(nlh, TCA_BPF_ID, (uint16_t)r->id);
	else
		mnl_attr_put_u32(nlh, TCA_BPF_ID, r->id);
	mnl_attr_put(nlh, TCA_BPF_TAG, sizeof(tag), tag);
	if (r->act_kind) {
		acts = mnl_attr_nest_start(nlh, TCA_BPF_ACT);
		for (int i = 1; i <= (r->nacts ? r->nacts : 1); i++) {
			struct tc_mirred m = { .action = r->action, .eaction = r->eaction, .ifindex = 3 };

			act = mnl_attr_nest_start(nlh, (uint16_t)i);
			mnl_attr_put_strz(nlh, TCA_ACT_KIND, r->act_kind);
			aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
			mnl_attr_put(nlh, TCA_MIRRED_PARMS, r->short_parms ? 4 : sizeof(m), &m);
			mnl_attr_nest_end(nlh, aopts);
			mnl_attr_put(nlh, TCA_ACT_STATS, 4, "\0\0\0\0");
			mnl_attr_nest_end(nlh, act);
		}
		mnl_attr_nest_end(nlh, acts);
	}
	mnl_attr_nest_end(nlh, opts);
	return nlh;
}

static void test_bpf_parse_dump(void **state)
{
	_Alignas(8) char buf[1024];
	struct raw_bpf r = RAW_BPF;
	struct tcmsg_bpf f;

	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_int_equal(f.ifindex, 41);
	assert_int_equal(f.parent, TCMSG_CLSACT_EGRESS);
	assert_int_equal(f.prio, 0xc500);
	assert_int_equal(f.protocol, ETH_P_ALL);
	assert_int_equal(f.handle, 1);
	assert_int_equal(f.prog_fd, -1);            /* a dump has the id, not an fd */
	assert_int_equal(f.prog_id, 106);
	assert_string_equal(f.name, "shoal_cg_out");
	assert_false(f.direct_action);
	assert_int_equal(f.redirect_ifindex, 3);

	r.flags = TCA_BPF_FLAG_ACT_DIRECT;
	r.name = NULL;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_true(f.direct_action);
	assert_string_equal(f.name, "");

	/* A name longer than we keep is cut short, not refused (the kernel allows 256 bytes). */
	{
		char name[200];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		r = RAW_BPF;
		r.name = name;
		assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
		assert_int_equal(strlen(f.name), TCMSG_BPF_NAME_MAX - 1);
		assert_memory_equal(f.name, name, TCMSG_BPF_NAME_MAX - 1);
	}

	/* Actions other than one mirred egress redirect: still the filter, no redirect to report. */
	r = RAW_BPF;
	r.eaction = TCA_EGRESS_MIRROR;
	r.action = TC_ACT_PIPE;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	r = RAW_BPF;
	r.act_kind = "gact";
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	r = RAW_BPF;
	r.nacts = 2;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	r = RAW_BPF;
	r.act_kind = NULL;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), 0);
	assert_int_equal(f.redirect_ifindex, 0);
	assert_int_equal(f.prog_id, 106);

	/* Not a bpf filter: another kind, the priority's kind-only line. */
	r = RAW_BPF;
	r.kind = "u32";
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), -ENOENT);
	r = RAW_BPF;
	r.no_options = true;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), -ENOENT);
}

static void test_bpf_parse_malformed(void **state)
{
	struct tcmsg_bpf f = { .prog_id = 77 };
	_Alignas(8) char buf[1024];
	struct raw_bpf r = RAW_BPF;
	struct nlmsghdr *nlh;
	char *name;

	/* Not a filter message; shorter than a struct tcmsg. */
	r.type = RTM_NEWQDISC;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), -EBADMSG);
	r = RAW_BPF;
	nlh = put_raw_bpf(buf, &r);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(tcmsg_parse_bpf(nlh, &f), -EBADMSG);
	/* The name without its NUL. */
	nlh = put_raw_bpf(buf, &r);
	name = memmem(buf, nlh->nlmsg_len, "shoal_cg_out", 13);
	assert_non_null(name);
	name[12] = 'x';
	assert_int_equal(tcmsg_parse_bpf(nlh, &f), -EBADMSG);
	/* An id of the wrong size. */
	r.short_id = true;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), -EBADMSG);
	/* The mirred parameters cut short. */
	r = RAW_BPF;
	r.short_parms = true;
	assert_int_equal(tcmsg_parse_bpf(put_raw_bpf(buf, &r), &f), -EBADMSG);
	/* Options that are not a nest: a 2-byte TCA_OPTIONS. */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTFILTER;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct tcmsg));
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	mnl_attr_put_u16(nlh, TCA_OPTIONS, 1);
	assert_int_equal(tcmsg_parse_bpf(nlh, &f), -EBADMSG);
	/* Nothing written on failure. */
	assert_int_equal(f.prog_id, 77);
}

/* The u32 and bpf parsers share the action parser and the filter header: each still reads its own
 * redirect, refuses what it refused, and leaves the other's kind alone. */
static void test_filter_kinds_apart(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_bpf b;
	struct tcmsg_u32 u;
	struct attrs top, opts;
	int len;

	len = classify_build_redirect(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, 3);
	assert_true(len > 0);
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_redirect_action(opts.tb[TCA_U32_ACT], 3);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &u), 0);
	assert_int_equal(u.redirect_ifindex, 3);
	assert_int_equal(tcmsg_parse_bpf((struct nlmsghdr *)buf, &b), -ENOENT);

	len = tcmsg_build_bpf(buf, sizeof(buf), SEQ, TCMSG_ADD, &BPF);
	assert_true(len > 0);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &u), -ENOENT);
	assert_int_equal(tcmsg_parse_bpf((struct nlmsghdr *)buf, &b), 0);
	assert_int_equal(b.redirect_ifindex, 3);

	/* What the bpf parser takes as a filter without a redirect, u32's still refuses. */
	put_u32_msg(buf, "u32", true, TCA_EGRESS_MIRROR, TC_ACT_PIPE, false);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &u), -EOPNOTSUPP);
}

/* ------------------------------------------------------------------ classify */

static void test_ifb(void **state)
{
	_Alignas(8) char buf[256] = { 0 };
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct ifinfomsg *ifm = (const struct ifinfomsg *)(buf + MNL_NLMSG_HDRLEN);
	struct attrs top, li;
	int len = classify_build_ifb(buf, sizeof(buf), SEQ, CLASSIFY_IFB_OUT, true);

	assert_true(len > 0 && len <= CLASSIFY_IFB_MAXLEN);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, F_ADD);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	collect_payload((const char *)nlh + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifm)),
	                nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(*ifm)), &top);
	assert_int_equal(top.total, 2);
	assert_str_attr(top.tb[IFLA_IFNAME], "shoal-out");
	collect_nested(top.tb[IFLA_LINKINFO], &li);
	assert_int_equal(li.total, 1);
	assert_str_attr(li.tb[IFLA_INFO_KIND], "ifb");

	classify_build_ifb(buf, sizeof(buf), SEQ, CLASSIFY_IFB_IN, false);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(classify_build_ifb(buf, sizeof(buf), SEQ, "0123456789abcdef", true), -EINVAL);
	assert_int_equal(classify_build_ifb(buf, sizeof(buf), SEQ, "", true), -EINVAL);
}

/* The lab's subnet: a /20, so that buckets hold several addresses (10.244.16.2 and 10.244.17.2
 * share bucket 2). */
#define SUBNET IP(10, 244, 16, 0)
#define SUBNET_LEN 20

static const struct nlmsghdr *next_msg(const struct nlmsghdr *nlh)
{
	return (const struct nlmsghdr *)((const char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
}

static void test_classify_veth(void **state)
{
	_Alignas(8) char buf[1024];
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tcmsg_qdisc q;
	struct tcmsg_u32 f;
	/* without the exemption the subnet is not used (nor checked) */
	int len = classify_build_veth(buf, sizeof(buf), SEQ, 9, 3, 4, false, 0, 0);
	size_t off;

	assert_true(len > 0);
	assert_int_equal(classify_veth_msgs(false), 3);
	/* three messages, consecutive sequence numbers, in the order the kernel needs them */
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	assert_int_equal(tcmsg_parse_qdisc(nlh, &q), 0);
	assert_int_equal(q.kind, TCMSG_KIND_CLSACT);
	assert_int_equal(q.ifindex, 9);
	off = nlh->nlmsg_len;
	nlh = (const struct nlmsghdr *)(buf + off);
	assert_int_equal(nlh->nlmsg_seq, SEQ + 1);
	assert_int_equal(tcmsg_parse_u32(nlh, &f), 0);
	assert_int_equal(f.parent, TCMSG_CLSACT_INGRESS);
	assert_int_equal(f.prio, CLASSIFY_REDIRECT_PRIO_INGRESS);
	assert_int_equal(f.redirect_ifindex, 3);
	off += nlh->nlmsg_len;
	nlh = (const struct nlmsghdr *)(buf + off);
	assert_int_equal(nlh->nlmsg_seq, SEQ + 2);
	assert_int_equal(tcmsg_parse_u32(nlh, &f), 0);
	assert_int_equal(f.parent, TCMSG_CLSACT_EGRESS);
	assert_int_equal(f.prio, CLASSIFY_REDIRECT_PRIO_EGRESS);
	assert_int_equal(f.redirect_ifindex, 4);
	off += nlh->nlmsg_len;
	assert_int_equal(off, (size_t)len);
}

static void test_classify_veth_exempt(void **state)
{
	static const struct {
		uint32_t parent;
		uint16_t prio;
		enum tcmsg_u32_match match;
		uint32_t redirect;
	} want[4] = {
		{ TCMSG_CLSACT_INGRESS, CLASSIFY_EXEMPT_PRIO_INGRESS, TCMSG_U32_IPV4_DST, 0 },
		{ TCMSG_CLSACT_INGRESS, CLASSIFY_REDIRECT_PRIO_INGRESS, TCMSG_U32_ALL, 3 },
		{ TCMSG_CLSACT_EGRESS, CLASSIFY_EXEMPT_PRIO_EGRESS, TCMSG_U32_IPV4_SRC, 0 },
		{ TCMSG_CLSACT_EGRESS, CLASSIFY_REDIRECT_PRIO_EGRESS, TCMSG_U32_ALL, 4 },
	};
	_Alignas(8) char buf[2048];
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tcmsg_qdisc q;
	struct tcmsg_u32 f;
	int len = classify_build_veth(buf, sizeof(buf), SEQ, 9, 3, 4, true, SUBNET, SUBNET_LEN);

	assert_true(len > 0);
	assert_int_equal(classify_veth_msgs(true), 5);
	assert_int_equal(tcmsg_parse_qdisc(nlh, &q), 0);
	assert_int_equal(q.kind, TCMSG_KIND_CLSACT);
	assert_int_equal(nlh->nlmsg_flags, F_REPLACE);   /* re-sendable: an existing clsact stays */
	for (unsigned i = 0; i < 4; i++) {
		nlh = next_msg(nlh);
		assert_int_equal(nlh->nlmsg_seq, SEQ + 1 + i);
		assert_int_equal(nlh->nlmsg_flags, F_ADD);
		assert_int_equal(tcmsg_parse_u32(nlh, &f), 0);
		assert_int_equal(f.ifindex, 9);
		assert_int_equal(f.handle, CLASSIFY_VETH_NODE);   /* a fixed node: never a duplicate */
		assert_int_equal(f.parent, want[i].parent);
		assert_int_equal(f.prio, want[i].prio);
		assert_int_equal(f.match, want[i].match);
		assert_int_equal(f.redirect_ifindex, want[i].redirect);
		if (!want[i].redirect) {
			assert_int_equal(f.addr, SUBNET);
			assert_int_equal(f.prefix_len, SUBNET_LEN);
			assert_int_equal(f.classid, CLASSIFY_EXEMPT_CLASSID);
		}
	}
	assert_int_equal((const char *)next_msg(nlh) - buf, len);

	/* The exemption needs a subnet the IFB's handles can number */
	assert_int_equal(classify_build_veth(buf, sizeof(buf), SEQ, 9, 3, 4, true, 0, 0), -EINVAL);
	assert_int_equal(classify_build_veth(buf, sizeof(buf), SEQ, 9, 3, 4, true, IP(10, 0, 0, 0), 8), -EINVAL);
	assert_int_equal(classify_build_veth(buf, sizeof(buf), SEQ, 9, 3, 4, true, IP(10, 244, 16, 1), 20), -EINVAL);
	assert_int_equal(classify_build_veth(buf, sizeof(buf), SEQ, 9, 0, 4, true, SUBNET, SUBNET_LEN), -EINVAL);
}

static void test_classify_exempt(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_u32_key *key;
	struct attrs top, opts;
	struct tcmsg_u32 f;
	int len = classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, SUBNET, SUBNET_LEN);

	/* tc filter add dev X ingress prio 1 protocol ip u32 match ip dst 10.244.16.0/20 classid ffff:1 */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 9, 0xfffffff2, CLASSIFY_VETH_NODE,
	                 1u << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 2);                /* CLASSID and SEL: no action at all */
	assert_null(opts.tb[TCA_U32_ACT]);
	assert_u32_attr(opts.tb[TCA_U32_CLASSID], 0xffff0001);
	key = check_sel(opts.tb[TCA_U32_SEL]);          /* terminal: the walk ends here */
	assert_int_equal(key->off, 16);                 /* from the workload: to the subnet */
	assert_int_equal(key->mask, htonl(0xfffff000));
	assert_int_equal(key->val, htonl(SUBNET));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.classid, CLASSIFY_EXEMPT_CLASSID);
	assert_int_equal(f.redirect_ifindex, 0);

	/* The egress hook (to the workload): from the subnet, at its own priority */
	len = classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, false, SUBNET, SUBNET_LEN);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 9, 0xfffffff3, CLASSIFY_VETH_NODE,
	                 3u << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(check_sel(opts.tb[TCA_U32_SEL])->off, 12);

	/* DEL removes the priority: no handle, no options, any subnet */
	len = classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_DEL, 9, false, 0, 0);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 9, 0xfffffff3, 0,
	                 3u << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);

	assert_int_equal(classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, IP(10, 244, 0, 0), 15), -EINVAL);
	assert_int_equal(classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, SUBNET, 33), -EINVAL);
	assert_int_equal(classify_build_exempt(buf, sizeof(buf), SEQ, TCMSG_ADD, 9, true, IP(10, 244, 17, 0), 20),
	                 -EINVAL);        /* host bits */
}

static void test_classify_hash_table(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_u32_table t;
	int len = classify_build_hash_table(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 2);

	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 3, 0x20000, CLASSIFY_TABLE_HANDLE,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
	assert_int_equal(CLASSIFY_TABLE_HANDLE, 0x10000000);   /* 100: */
	assert_int_equal(tcmsg_parse_u32_table((struct nlmsghdr *)buf, &t), 0);
	assert_int_equal(t.divisor, 256);
	assert_int_equal(t.handle, TCMSG_U32_HANDLE(CLASSIFY_HTID, 0, 0));
	assert_int_equal(classify_build_hash_table(buf, sizeof(buf), SEQ, TCMSG_REPLACE, 3, 2), -EINVAL);
	len = classify_build_hash_table(buf, sizeof(buf), SEQ, TCMSG_DEL, 3, 2);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 3, 0x20000, 0x10000000,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
}

static void test_classify_hash_link(void **state)
{
	_Alignas(8) char buf[512];
	struct tcmsg_u32 f, want = U32_LINK;
	int len = classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_REPLACE, 41, 1, SUBNET, SUBNET_LEN, true);

	/* A full handle in the root table, so REPLACE and DEL find it */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_REPLACE, 41, 0x10000, 0x80000001, INFO_IP_10);
	assert_int_equal(CLASSIFY_LINK_HANDLE, 0x80000001);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_u32_equal(&f, &want);                     /* src 10.244.16.0/20, hash src, link 100: */

	len = classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 41, 2, SUBNET, SUBNET_LEN, false);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 41, 0x20000, 0x80000001, INFO_IP_10);
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.match, TCMSG_U32_IPV4_DST);
	assert_int_equal(f.hashkey, TCMSG_U32_HASHKEY_IPV4_DST);

	len = classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_DEL, 41, 2, SUBNET, SUBNET_LEN, false);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 41, 0x20000, 0x80000001, INFO_IP_10);

	/* Refused: a subnet shorter than /16 (the handles could not number it), host bits, > 32 */
	assert_int_equal(classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 41, 1, IP(10, 244, 0, 0), 15, true),
	                 -EINVAL);
	assert_int_equal(classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 41, 1, IP(10, 244, 16, 1), 20, true),
	                 -EINVAL);
	assert_int_equal(classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 41, 1, SUBNET, 33, true), -EINVAL);
	assert_true(classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 41, 1, IP(10, 244, 0, 0), 16, true) > 0);
}

static void test_classify_workload_handle(void **state)
{
	static uint8_t seen[1 << 17];    /* one bit per handle below 100: + 2^20 */
	uint32_t h = 0x5a5a5a5a;

	/* bucket = last octet, node = 1 + (offset >> 8) */
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 16, 2), &h), 0);
	assert_int_equal(h, 0x10002001);                 /* 100:2:1 */
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 17, 2), &h), 0);
	assert_int_equal(h, 0x10002002);                 /* 100:2:2, same bucket */
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 31, 250), &h), 0);
	assert_int_equal(h, 0x100fa010);                 /* 100:fa:10, the last node of a /20 */
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 16, 0), &h), 0);
	assert_int_equal(h, 0x10000001);
	/* a /24: one address per bucket, always node 1 */
	assert_int_equal(classify_workload_handle(IP(10, 244, 7, 0), 24, IP(10, 244, 7, 2), &h), 0);
	assert_int_equal(h, 0x10002001);
	assert_int_equal(classify_workload_handle(IP(10, 244, 7, 0), 24, IP(10, 244, 7, 255), &h), 0);
	assert_int_equal(h, 0x100ff001);
	/* a /16: the limit, node 0x100 */
	assert_int_equal(classify_workload_handle(IP(10, 244, 0, 0), 16, IP(10, 244, 255, 255), &h), 0);
	assert_int_equal(h, 0x100ff100);
	/* a /32 and a /26 with a non-zero last octet */
	assert_int_equal(classify_workload_handle(IP(10, 244, 7, 9), 32, IP(10, 244, 7, 9), &h), 0);
	assert_int_equal(h, 0x10009001);
	assert_int_equal(classify_workload_handle(IP(10, 244, 7, 64), 26, IP(10, 244, 7, 127), &h), 0);
	assert_int_equal(h, 0x1007f001);

	/* Every address of a /16: distinct handles, in table 100:, bucket = last octet, node 1..0x100 */
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < 65536; i++) {
		uint32_t addr = IP(10, 244, 0, 0) + i, off;

		assert_int_equal(classify_workload_handle(IP(10, 244, 0, 0), 16, addr, &h), 0);
		assert_int_equal(TCMSG_U32_HTID(h), CLASSIFY_HTID);
		assert_int_equal(TCMSG_U32_BUCKET(h), addr & 0xff);
		assert_true(TCMSG_U32_NODE(h) >= 1 && TCMSG_U32_NODE(h) <= 0x100);
		off = h - CLASSIFY_TABLE_HANDLE;
		if (seen[off >> 3] & (1u << (off & 7)))
			fail_msg("handle %x given twice", h);
		seen[off >> 3] |= (uint8_t)(1u << (off & 7));
	}

	/* Refused, and nothing written: outside the subnet, a subnet too short, host bits in it */
	h = 0x5a5a5a5a;
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 32, 0), &h), -EINVAL);
	assert_int_equal(classify_workload_handle(SUBNET, SUBNET_LEN, IP(10, 244, 15, 255), &h), -EINVAL);
	assert_int_equal(classify_workload_handle(IP(10, 244, 0, 0), 15, IP(10, 244, 0, 2), &h), -EINVAL);
	assert_int_equal(classify_workload_handle(IP(10, 244, 16, 1), 20, IP(10, 244, 16, 2), &h), -EINVAL);
	assert_int_equal(classify_workload_handle(IP(10, 244, 7, 9), 32, IP(10, 244, 7, 8), &h), -EINVAL);
	assert_int_equal(classify_workload_handle(SUBNET, 33, IP(10, 244, 16, 2), &h), -EINVAL);
	assert_int_equal(h, 0x5a5a5a5a);
}

static void test_classify_workload(void **state)
{
	_Alignas(8) char buf[512];
	const struct tc_u32_key *key;
	struct attrs top, opts;
	struct tcmsg_u32 f;
	int len;

	len = classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_REPLACE, 3, 1, SUBNET, SUBNET_LEN, IP(10, 244, 17, 2),
	                              true, 0x10102);
	/* tc filter replace dev shoal-out parent 1: prio 10 protocol ip handle 100:2:2 u32 ht 100:2:
	 *    match ip src 10.244.17.2/32 flowid 1:102 */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_REPLACE, 3, 0x10000, 0x10002002,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	collect_nested(top.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.total, 3);
	assert_u32_attr(opts.tb[TCA_U32_HASH], 0x10002000);   /* the bucket goes here, not in the handle */
	assert_u32_attr(opts.tb[TCA_U32_CLASSID], 0x10102);
	key = check_sel(opts.tb[TCA_U32_SEL]);
	assert_int_equal(key->off, 12);                       /* shoal-out: what the workload sends */
	assert_int_equal(key->mask, htonl(0xffffffff));
	assert_int_equal(key->val, htonl(IP(10, 244, 17, 2)));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.match, TCMSG_U32_IPV4_SRC);
	assert_int_equal(f.addr, IP(10, 244, 17, 2));
	assert_int_equal(f.prefix_len, 32);
	assert_int_equal(f.classid, 0x10102);
	assert_int_equal(f.ht, 0x10002000);
	assert_int_equal(f.link, 0);
	assert_int_equal(f.redirect_ifindex, 0);

	len = classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 4, 2, SUBNET, SUBNET_LEN, IP(10, 244, 17, 2), false,
	                              0x20102);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_NEWTFILTER, F_ADD, 4, 0x20000, 0x10002002,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
	assert_int_equal(tcmsg_parse_u32((struct nlmsghdr *)buf, &f), 0);
	assert_int_equal(f.match, TCMSG_U32_IPV4_DST);        /* shoal-in: what is sent to it */

	/* DEL: by the derived handle, no class needed */
	len = classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_DEL, 4, 2, SUBNET, SUBNET_LEN, IP(10, 244, 17, 2), false,
	                              0);
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 4, 0x20000, 0x10002002,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
}

static void test_classify_workload_invalid(void **state)
{
	_Alignas(8) char buf[512];

	/* a class of the other tree */
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, SUBNET, SUBNET_LEN,
	                                         IP(10, 244, 17, 2), true, 0x20102), -EINVAL);
	/* no class on ADD */
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, SUBNET, SUBNET_LEN,
	                                         IP(10, 244, 17, 2), true, 0), -EINVAL);
	/* outside the subnet: no handle (for DEL neither) */
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, SUBNET, SUBNET_LEN,
	                                         IP(10, 244, 32, 2), true, 0x10102), -EINVAL);
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_DEL, 3, 1, SUBNET, SUBNET_LEN,
	                                         IP(10, 245, 16, 2), true, 0), -EINVAL);
	/* a /15, host bits */
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, IP(10, 244, 0, 0), 15,
	                                         IP(10, 244, 17, 2), true, 0x10102), -EINVAL);
	assert_int_equal(classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, IP(10, 244, 16, 1), 20,
	                                         IP(10, 244, 17, 2), true, 0x10102), -EINVAL);
}

static void test_classify_flush(void **state)
{
	_Alignas(8) char buf[512];
	struct attrs top;
	int len = classify_build_hash_flush(buf, sizeof(buf), SEQ, 3, 2);

	/* tc filter del dev shoal-in parent 2: prio 10 protocol ip: the whole priority */
	assert_tc_header((struct nlmsghdr *)buf, len, RTM_DELTFILTER, F_DEL, 3, 0x20000, 0,
	                 (uint32_t)CLASSIFY_IFB_PRIO << 16 | htons(ETH_P_IP));
	collect_msg((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.total, 1);
}

static void test_classify_parse_ifb(void **state)
{
	_Alignas(8) char buf[1024];
	struct tcmsg_u32_table t = U32_TABLE;
	struct classify_ifb_filter c;
	struct tcmsg_u32 f;
	struct raw_u32 r;

	/* What our builders make, read back as the kernel reports it */
	classify_build_hash_table(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_TABLE);
	assert_int_equal(c.handle, CLASSIFY_TABLE_HANDLE);
	assert_int_equal(c.divisor, CLASSIFY_HASH_DIVISOR);

	classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, SUBNET, SUBNET_LEN, true);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_LINK);
	assert_int_equal(c.handle, CLASSIFY_LINK_HANDLE);
	assert_true(c.from_workload);
	assert_int_equal(c.addr, SUBNET);
	assert_int_equal(c.prefix_len, SUBNET_LEN);
	put_raw_u32(buf, &RAW_LINK);                      /* with the kernel's TCA_U32_HASH */
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_LINK);
	classify_build_hash_link(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 2, IP(10, 244, 7, 0), 24, false);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_LINK);
	assert_false(c.from_workload);
	assert_int_equal(c.addr, IP(10, 244, 7, 0));
	assert_int_equal(c.prefix_len, 24);

	classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 1, SUBNET, SUBNET_LEN, IP(10, 244, 31, 250), true,
	                        0x10ffa);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_WORKLOAD);
	assert_int_equal(c.handle, 0x100fa010);
	assert_true(c.from_workload);
	assert_int_equal(c.addr, IP(10, 244, 31, 250));
	assert_int_equal(c.prefix_len, 32);
	assert_int_equal(c.classid, 0x10ffa);
	classify_build_workload(buf, sizeof(buf), SEQ, TCMSG_ADD, 3, 2, SUBNET, SUBNET_LEN, IP(10, 244, 16, 2), false,
	                        0x20002);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_WORKLOAD);
	assert_false(c.from_workload);

	/* Our table with a wrong divisor: still the table, and the divisor tells */
	t.divisor = 16;
	tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_TABLE);
	assert_int_equal(c.divisor, 16);

	/* Not objects of ours: the priority's root table, our table at another priority, the
	 * kind-only line, other kinds, other protocols */
	t = U32_TABLE;
	t.handle = 0x80000000;
	t.divisor = 1;
	tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), -ENOENT);
	t = U32_TABLE;
	t.prio = 11;
	tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), -ENOENT);
	put_u32_msg(buf, "bpf", true, 0, 0, false);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), -ENOENT);
	f = U32_SRC;
	f.protocol = ETH_P_ALL;
	tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &f);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), -ENOENT);
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct tcmsg *tcm;

		nlh->nlmsg_type = RTM_NEWTFILTER;
		tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
		tcm->tcm_info = INFO_IP_10;
		mnl_attr_put_strz(nlh, TCA_KIND, "u32");
		assert_int_equal(classify_parse_ifb_filter(nlh, &c), -ENOENT);
	}

	/* At our priority but not what we build: OTHER, with the handle to delete it by.  The old
	 * one-filter-per-workload classifier, another table, a filter of a shape we never make. */
	tcmsg_build_u32(buf, sizeof(buf), SEQ, TCMSG_ADD, &U32_SRC);   /* prio 10, 10.244.7.2 -> 1:10 in the root */
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);
	assert_int_equal(c.handle, 7);
	t = U32_TABLE;
	t.handle = 0x20000000;
	tcmsg_build_u32_table(buf, sizeof(buf), SEQ, TCMSG_ADD, &t);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);
	assert_int_equal(c.handle, 0x20000000);
	r = RAW_LINK;
	r.link = 0x20000000;                              /* a link to another table */
	put_raw_u32(buf, &r);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);
	r = RAW_LINK;
	r.hoff = 16;                                      /* matches the source, hashes the destination */
	put_raw_u32(buf, &r);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);
	r = RAW_LINK;
	r.link = 0;                                       /* tcmsg_parse_u32(): -EOPNOTSUPP */
	r.hmask = 0;
	r.hoff = 0;
	put_raw_u32(buf, &r);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);
	assert_int_equal(c.handle, 0x80000001);
	r = (struct raw_u32){ .handle = 0x10002002, .flags = TC_U32_TERMINAL, .key_mask = 0xffffff00,
		              .key_val = IP(10, 244, 17, 0), .key_off = 12, .hash = 0x10002000, .classid = 0x10102 };
	put_raw_u32(buf, &r);                             /* in our table, but a /24 */
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), 0);
	assert_int_equal(c.kind, CLASSIFY_IFB_OTHER);

	/* Malformed */
	r = RAW_LINK;
	r.link = 0;
	r.short_link = true;
	put_raw_u32(buf, &r);
	assert_int_equal(classify_parse_ifb_filter((struct nlmsghdr *)buf, &c), -EBADMSG);
}

/* ------------------------------------------------------------------ short buffers */

static int sb_qdisc(void *b, size_t l, const void *a)
{
	return tcmsg_build_qdisc(b, l, SEQ, TCMSG_ADD, a);
}
static int sb_qdisc_del(void *b, size_t l, const void *a)
{
	return tcmsg_build_qdisc(b, l, SEQ, TCMSG_DEL, a);
}
static int sb_class(void *b, size_t l, const void *a)
{
	return tcmsg_build_htb_class(b, l, SEQ, TCMSG_ADD, a);
}
static int sb_u32(void *b, size_t l, const void *a)
{
	return tcmsg_build_u32(b, l, SEQ, TCMSG_ADD, a);
}
static int sb_dump(void *b, size_t l, const void *a)
{
	return tcmsg_build_filter_dump(b, l, SEQ, 1, 0);
}
static int sb_ifb(void *b, size_t l, const void *a)
{
	return classify_build_ifb(b, l, SEQ, a, true);
}
static int sb_veth(void *b, size_t l, const void *a)
{
	return classify_build_veth(b, l, SEQ, 9, 3, 4, a != NULL, SUBNET, SUBNET_LEN);
}
static int sb_table(void *b, size_t l, const void *a)
{
	return tcmsg_build_u32_table(b, l, SEQ, TCMSG_ADD, a);
}
static int sb_hash_table(void *b, size_t l, const void *a)
{
	return classify_build_hash_table(b, l, SEQ, TCMSG_ADD, 3, 1);
}
static int sb_hash_link(void *b, size_t l, const void *a)
{
	return classify_build_hash_link(b, l, SEQ, TCMSG_REPLACE, 3, 1, SUBNET, SUBNET_LEN, true);
}
static int sb_workload(void *b, size_t l, const void *a)
{
	return classify_build_workload(b, l, SEQ, TCMSG_REPLACE, 3, 1, SUBNET, SUBNET_LEN, IP(10, 244, 17, 2), true,
	                               0x10102);
}
static int sb_exempt(void *b, size_t l, const void *a)
{
	return classify_build_exempt(b, l, SEQ, TCMSG_ADD, 9, false, SUBNET, SUBNET_LEN);
}
static int sb_flush(void *b, size_t l, const void *a)
{
	return classify_build_hash_flush(b, l, SEQ, 3, 2);
}
static int sb_bpf(void *b, size_t l, const void *a)
{
	return tcmsg_build_bpf(b, l, SEQ, TCMSG_REPLACE, a);
}
static int sb_bpf_del(void *b, size_t l, const void *a)
{
	return tcmsg_build_bpf(b, l, SEQ, TCMSG_DEL, a);
}

static void test_short_buffers(void **state)
{
	struct tcmsg_qdisc bfifo = { .ifindex = 1, .kind = TCMSG_KIND_BFIFO, .parent = 0x10010, .bfifo_limit = 1 };
	struct tcmsg_qdisc clsact = { .ifindex = 1, .kind = TCMSG_KIND_CLSACT, .parent = TCMSG_CLSACT_PARENT };
	struct tcmsg_htb_class *c64 = class_120mbit();
	struct tcmsg_u32 redirect = { .ifindex = 1, .parent = TCMSG_CLSACT_INGRESS, .prio = 1,
		                      .redirect_ifindex = 3, .classid = 0x10010 };
	struct tcmsg_bpf bpf_da = { .ifindex = 1, .parent = TCMSG_CLSACT_INGRESS, .prio = 1, .prog_fd = 5,
		                    .direct_action = true };

	check_short_buffers(sb_qdisc, &HTB_QDISC);
	check_short_buffers(sb_qdisc, &bfifo);
	check_short_buffers(sb_qdisc, &clsact);
	check_short_buffers(sb_qdisc_del, &HTB_QDISC);
	c64->rate = c64->ceil = 6250000000ULL;     /* the longest class message */
	check_short_buffers(sb_class, c64);
	check_short_buffers(sb_u32, &U32_SRC);
	check_short_buffers(sb_u32, &redirect);    /* classid and redirect: the longest filter */
	check_short_buffers(sb_dump, NULL);
	check_short_buffers(sb_ifb, "shoal-out");
	check_short_buffers(sb_veth, NULL);
	check_short_buffers(sb_veth, "with the exemption");
	check_short_buffers(sb_table, &U32_TABLE);
	check_short_buffers(sb_u32, &U32_LINK);
	check_short_buffers(sb_u32, &U32_BUCKET);
	check_short_buffers(sb_hash_table, NULL);
	check_short_buffers(sb_hash_link, NULL);
	check_short_buffers(sb_workload, NULL);
	check_short_buffers(sb_exempt, NULL);
	check_short_buffers(sb_flush, NULL);
	check_short_buffers(sb_bpf, &BPF);
	check_short_buffers(sb_bpf, &bpf_da);
	check_short_buffers(sb_bpf_del, &BPF);
}

/* The MAXLEN constants callers size batches with hold the longest messages. */
static void test_maxlen(void **state)
{
	/* Every optional attribute of a filter at once: the longest filter message. */
	struct tcmsg_u32 redirect = { .ifindex = 1, .parent = TCMSG_CLSACT_INGRESS, .prio = 1,
		                      .redirect_ifindex = 3, .classid = 0x10010, .ht = 0x10002000,
		                      .link = 0x20000000, .hashkey = TCMSG_U32_HASHKEY_IPV4_DST };
	static _Alignas(8) char buf[8192];
	struct tcmsg_htb_class *c = class_120mbit();

	c->rate = c->ceil = 6250000000ULL;
	assert_true(tcmsg_build_htb_class(buf, TCMSG_CLASS_MAXLEN, SEQ, TCMSG_ADD, c) > 0);
	assert_true(tcmsg_build_qdisc(buf, TCMSG_QDISC_MAXLEN, SEQ, TCMSG_ADD, &HTB_QDISC) > 0);
	assert_true(tcmsg_build_u32(buf, TCMSG_FILTER_MAXLEN, SEQ, TCMSG_ADD, &redirect) > 0);
	assert_true(tcmsg_build_u32_table(buf, TCMSG_FILTER_MAXLEN, SEQ, TCMSG_ADD, &U32_TABLE) > 0);
	/* The longest bpf filter: the longest name and a redirect. */
	{
		struct tcmsg_bpf f = BPF;

		memset(f.name, 'n', sizeof(f.name) - 1);
		f.name[sizeof(f.name) - 1] = '\0';
		assert_true(tcmsg_build_bpf(buf, TCMSG_FILTER_MAXLEN, SEQ, TCMSG_REPLACE, &f) > 0);
	}
	/* A batch sized by classify_veth_msgs() x TCMSG_FILTER_MAXLEN holds the veth's messages. */
	assert_true(classify_build_veth(buf, classify_veth_msgs(true) * TCMSG_FILTER_MAXLEN, SEQ, 9, 3, 4, true, SUBNET,
	                                SUBNET_LEN) > 0);
	assert_true(classify_build_ifb(buf, CLASSIFY_IFB_MAXLEN, SEQ, "shoal-out-abcde", true) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qdisc_htb),
		cmocka_unit_test(test_qdisc_htb_defaults),
		cmocka_unit_test(test_qdisc_clsact),
		cmocka_unit_test(test_qdisc_bfifo),
		cmocka_unit_test(test_qdisc_del_and_dump),
		cmocka_unit_test(test_class_32bit),
		cmocka_unit_test(test_class_64bit),
		cmocka_unit_test(test_class_invalid_and_del),
		cmocka_unit_test(test_class_parse_kernel_answer),
		cmocka_unit_test(test_class_stats),
		cmocka_unit_test(test_u32_src),
		cmocka_unit_test(test_u32_dst_prefix),
		cmocka_unit_test(test_u32_redirect),
		cmocka_unit_test(test_u32_invalid_and_del),
		cmocka_unit_test(test_u32_parse_kernel_answers),
		cmocka_unit_test(test_u32_table),
		cmocka_unit_test(test_u32_table_invalid),
		cmocka_unit_test(test_u32_link),
		cmocka_unit_test(test_u32_bucket_filter),
		cmocka_unit_test(test_u32_hash_invalid),
		cmocka_unit_test(test_u32_parse_hash_dump),
		cmocka_unit_test(test_bpf_build),
		cmocka_unit_test(test_bpf_invalid),
		cmocka_unit_test(test_bpf_parse_dump),
		cmocka_unit_test(test_bpf_parse_malformed),
		cmocka_unit_test(test_filter_kinds_apart),
		cmocka_unit_test(test_ifb),
		cmocka_unit_test(test_classify_veth),
		cmocka_unit_test(test_classify_veth_exempt),
		cmocka_unit_test(test_classify_exempt),
		cmocka_unit_test(test_classify_hash_table),
		cmocka_unit_test(test_classify_hash_link),
		cmocka_unit_test(test_classify_workload_handle),
		cmocka_unit_test(test_classify_workload),
		cmocka_unit_test(test_classify_workload_invalid),
		cmocka_unit_test(test_classify_flush),
		cmocka_unit_test(test_classify_parse_ifb),
		cmocka_unit_test(test_short_buffers),
		cmocka_unit_test(test_maxlen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
