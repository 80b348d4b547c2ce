/* tc/htb and tc/quota: the numbers that decide whether shaping is accurate and whether a workload
 * is admitted, checked against values worked out by hand (each comment shows the arithmetic).
 *
 * Clock facts: /proc/net/psched on every current kernel reads "000003e8 00000040 000f4240
 * 3b9aca00", i.e. t2us = 1000, us2t = 64, clock_res = 1000000: one tick is 64 ns, so the time to
 * send B bytes at R bytes/s is B x 1e9 / (64 x R) ticks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tc/htb.h"
#include "tc/quota.h"

static const struct htb_psched PS = HTB_PSCHED_DEFAULT;

#define MBIT 1000000ULL
#define GBIT 1000000000ULL

/* ------------------------------------------------------------------ psched and ticks */

static void test_psched_parse(void **state)
{
	struct htb_psched ps = { 0 };

	assert_int_equal(htb_psched_parse("000003e8 00000040 000f4240 3b9aca00\n", &ps), 0);
	assert_int_equal(ps.t2us, 1000);
	assert_int_equal(ps.us2t, 64);
	assert_int_equal(ps.clock_res, 1000000);
	assert_memory_equal(&ps, &PS, sizeof(ps));

	/* A kernel that reports a 1 GHz clock in the third field: tc's compatibility rule makes a
	 * tick one nanosecond (t2us becomes us2t). */
	assert_int_equal(htb_psched_parse("000003e8 00000040 3b9aca00 3b9aca00\n", &ps), 0);
	assert_int_equal(ps.t2us, 64);
	assert_int_equal(ps.us2t, 64);

	assert_int_equal(htb_psched_parse("", &ps), -EINVAL);
	assert_int_equal(htb_psched_parse("000003e8 00000040", &ps), -EINVAL);
	assert_int_equal(htb_psched_parse("000003e8 00000000 000f4240", &ps), -EINVAL);   /* us2t 0 */
	assert_int_equal(htb_psched_parse("zz", &ps), -EINVAL);
}

static void test_xmit_ticks(void **state)
{
	struct htb_psched ns_ticks;
	uint32_t t = 0;

	/* 64 KiB at 200mbit (25e6 B/s): 65536 x 1e9 / (64 x 25e6) = 40960 ticks (2.62144 ms) */
	assert_int_equal(htb_xmit_ticks(&PS, 25000000, 65536, &t), 0);
	assert_int_equal(t, 40960);
	/* 64 KiB at 120mbit (15e6 B/s): 65536e9 / 9.6e8 = 68266.67, rounded up to 68267 */
	assert_int_equal(htb_xmit_ticks(&PS, 15000000, 65536, &t), 0);
	assert_int_equal(t, 68267);
	/* 64 KiB at 80mbit (1e7 B/s): 65536e9 / 6.4e8 = 102400 */
	assert_int_equal(htb_xmit_ticks(&PS, 10000000, 65536, &t), 0);
	assert_int_equal(t, 102400);
	/* 1 byte at 1 B/s is 1 s = 15625000 ticks; 274 bytes = 4281250000 still fits 32 bits,
	 * 275 bytes = 4296875000 does not */
	assert_int_equal(htb_xmit_ticks(&PS, 1, 1, &t), 0);
	assert_int_equal(t, 15625000);
	assert_int_equal(htb_xmit_ticks(&PS, 1, 274, &t), 0);
	assert_int_equal(t, 4281250000u);
	t = 7;
	assert_int_equal(htb_xmit_ticks(&PS, 1, 275, &t), -ERANGE);
	assert_int_equal(t, 7);                               /* untouched on failure */
	assert_int_equal(htb_xmit_ticks(&PS, 0, 1, &t), -EINVAL);
	/* 6.25 MB (50gbit x 1 ms) at 50gbit (6.25e9 B/s): 1 ms = 15625 ticks; no overflow on the way */
	assert_int_equal(htb_xmit_ticks(&PS, 6250000000ULL, 6250000, &t), 0);
	assert_int_equal(t, 15625);

	/* Nanosecond ticks (the compatibility case): 64 KiB at 25e6 B/s = 2621440 ns */
	assert_int_equal(htb_psched_parse("000003e8 00000040 3b9aca00", &ns_ticks), 0);
	assert_int_equal(htb_xmit_ticks(&ns_ticks, 25000000, 65536, &t), 0);
	assert_int_equal(t, 2621440);
}

static void test_rate_table(void **state)
{
	uint32_t rtab[TCMSG_RTAB_SLOTS];
	uint8_t cell_log = 0;

	/* mtu 1600: 1600 >> 3 = 200 <= 255 but 1600 >> 2 = 400 is not, so cell_log 3 (8-byte cells) */
	assert_int_equal(htb_rate_table(&PS, 25000000, 1600, &cell_log, rtab), 0);
	assert_int_equal(cell_log, 3);
	/* slot i covers (i + 1) x 8 bytes: 8 bytes at 25e6 B/s = 320 ns = 5 ticks */
	assert_int_equal(rtab[0], 5);
	/* slot 186 = 1496 bytes: 1496e9 / 1.6e9 = 935 ticks */
	assert_int_equal(rtab[186], 935);
	/* slot 255 = 2048 bytes: 1280 ticks */
	assert_int_equal(rtab[255], 1280);
	for (unsigned i = 1; i < TCMSG_RTAB_SLOTS; i++)
		assert_true(rtab[i] >= rtab[i - 1]);

	/* 2047 >> 3 = 255 still fits; 2048 >> 3 = 256 needs cell_log 4 */
	assert_int_equal(htb_rate_table(&PS, 25000000, 2047, &cell_log, rtab), 0);
	assert_int_equal(cell_log, 3);
	assert_int_equal(htb_rate_table(&PS, 25000000, 2048, &cell_log, rtab), 0);
	assert_int_equal(cell_log, 4);

	/* 1 B/s: slot 0 = 8 bytes = 125000000 ticks; slot 255 = 2048 bytes = 3.2e10 ticks does not
	 * fit and saturates */
	assert_int_equal(htb_rate_table(&PS, 1, 1600, &cell_log, rtab), 0);
	assert_int_equal(rtab[0], 125000000);
	assert_int_equal(rtab[255], UINT32_MAX);
	assert_int_equal(htb_rate_table(&PS, 0, 1600, &cell_log, rtab), -EINVAL);
}

/* ------------------------------------------------------------------ parameter rules */

static void test_burst(void **state)
{
	/* max(rate x 1 ms, 64 KiB): 200mbit x 1 ms = 25000 bytes < 65536 */
	assert_int_equal(htb_burst(200 * MBIT), 65536);
	assert_int_equal(htb_burst(1), 65536);
	assert_int_equal(htb_burst(0), 65536);
	/* 10gbit x 1 ms = 1.25e10 / 8 / 1000 = 1250000 bytes */
	assert_int_equal(htb_burst(10 * GBIT), 1250000);
	/* the crossover: 524288000 bit/s x 1 ms = exactly 65536 bytes; one bit/s more rounds up */
	assert_int_equal(htb_burst(524288000ULL), 65536);
	assert_int_equal(htb_burst(524288001ULL), 65537);
	/* absurd rates saturate the kernel's 32-bit field instead of wrapping */
	assert_int_equal(htb_burst(UINT64_MAX), UINT32_MAX);
}

static void test_quantum(void **state)
{
	/* the smallest guarantee gets 64 KiB */
	assert_int_equal(htb_quantum(80 * MBIT, 80 * MBIT), 65536);
	/* 120mbit next to an 80mbit class: 65536 x 120 / 80 = 98304 */
	assert_int_equal(htb_quantum(120 * MBIT, 80 * MBIT), 98304);
	/* 40gbit next to 10gbit: 4 x 65536 = 262144 */
	assert_int_equal(htb_quantum(40 * GBIT, 10 * GBIT), 262144);
	/* 1gbit next to 1mbit: 1000 x 65536 = 65536000 */
	assert_int_equal(htb_quantum(GBIT, MBIT), 65536000);
	/* 100:3 is not whole: 65536 x 100 / 3 = 2184533.33, rounded up to 2184534 */
	assert_int_equal(htb_quantum(100 * MBIT, 3 * MBIT), 2184534);
	/* ratios above 2^30 / 2^16 = 16384 hit the cap: 20000 x 65536 > 2^30 */
	assert_int_equal(htb_quantum(20000 * MBIT, MBIT), HTB_QUANTUM_MAX);
	assert_int_equal(htb_quantum(UINT64_MAX, 1), HTB_QUANTUM_MAX);
	/* degenerate inputs fall back to the minimum, never below it */
	assert_int_equal(htb_quantum(MBIT, 0), 65536);
	assert_int_equal(htb_quantum(MBIT, 2 * MBIT), 65536);
}

static void test_fifo_and_direct_qlen(void **state)
{
	/* bfifo ~ rate x 100 ms: 200mbit -> 2e8 x 0.1 / 8 = 2500000 bytes */
	assert_int_equal(htb_fifo_limit(200 * MBIT), 2500000);
	/* 640mbit -> exactly the 8 MiB cap's neighbourhood: 8000000; 10gbit -> the cap */
	assert_int_equal(htb_fifo_limit(640 * MBIT), 8000000);
	assert_int_equal(htb_fifo_limit(10 * GBIT), 8388608);
	/* 1mbit -> 1875 bytes, less than one GSO packet: the floor of two (131072) applies */
	assert_int_equal(htb_fifo_limit(MBIT), 131072);
	assert_int_equal(htb_fifo_limit(UINT64_MAX), 8388608);

	/* direct_qlen = root x 15 ms in full frames: 375000 / 1514 = 247.7 -> 247 */
	assert_int_equal(htb_direct_qlen(200 * MBIT), 247);
	/* 10gbit: 18750000 / 1514 = 12384.4 -> 12384 */
	assert_int_equal(htb_direct_qlen(10 * GBIT), 12384);
	/* 1mbit: 1 packet by the formula; the floor is 64 (twice an IFB's txqueuelen) */
	assert_int_equal(htb_direct_qlen(MBIT), 64);
}

static void test_rate_is_64bit(void **state)
{
	/* struct tc_ratespec holds BYTES per second in 32 bits: the limit is 2^32 x 8 bit/s */
	assert_false(htb_rate_is_64bit(10 * GBIT));                /* 1.25e9 B/s */
	assert_false(htb_rate_is_64bit(34359738367ULL));           /* 2^32 - 1 B/s (+7 bits) */
	assert_true(htb_rate_is_64bit(34359738368ULL));            /* 2^32 B/s */
	assert_true(htb_rate_is_64bit(40 * GBIT));                 /* 5e9 B/s */
}

/* ------------------------------------------------------------------ the tree */

static const struct htb_class_spec CLASSES[] = {
	{ .minor = 0x10, .rate = 120 * MBIT, .ceil = 0, .prio = 1 },        /* ceil = root */
	{ .minor = 0x20, .rate = 80 * MBIT, .ceil = 100 * MBIT, .prio = 2 },
};

static struct htb_tree tree(void)
{
	struct htb_tree t = {
		.ifindex = 7,
		.major = 1,
		.root_rate = 200 * MBIT,
		.default_minor = 0x20,
		.classes = CLASSES,
		.nclasses = 2,
	};
	return t;
}

static void test_tree_qdisc(void **state)
{
	struct htb_tree t = tree();
	struct tcmsg_qdisc q;

	assert_int_equal(htb_tree_qdisc(&t, &q), 0);
	assert_int_equal(q.ifindex, 7);
	assert_int_equal(q.kind, TCMSG_KIND_HTB);
	assert_int_equal(q.parent, 0xffffffff);    /* root of the device */
	assert_int_equal(q.handle, 0x10000);       /* 1:0 */
	assert_int_equal(q.htb_default, 0x20);
	assert_int_equal(q.htb_r2q, 10);
	assert_int_equal(q.htb_direct_qlen, 247);  /* see test_fifo_and_direct_qlen */
}

static void test_tree_classes(void **state)
{
	struct tcmsg_htb_class *c = malloc(sizeof(*c));
	struct htb_tree t = tree();

	assert_non_null(c);
	/* root 1:1: parent TC_H_ROOT (what the kernel reports back), 200mbit both ways,
	 * burst 64 KiB = 40960 ticks, an explicit 64 KiB quantum while it is briefly a leaf */
	assert_int_equal(htb_tree_root_class(&PS, &t, c), 0);
	assert_int_equal(c->ifindex, 7);
	assert_int_equal(c->parent, 0xffffffff);
	assert_int_equal(c->classid, 0x10001);
	assert_true(c->rate == 25000000 && c->ceil == 25000000);
	assert_int_equal(c->buffer, 40960);
	assert_int_equal(c->cbuffer, 40960);
	assert_int_equal(c->quantum, 65536);
	assert_int_equal(c->prio, 0);
	assert_int_equal(c->cell_log, 3);
	assert_int_equal(c->rtab[0], 5);           /* 8 bytes at 25e6 B/s */

	/* 1:10: 120mbit = 15e6 B/s, ceil the root's 25e6; buffer 68267 (64 KiB at 15e6 B/s),
	 * cbuffer 40960 (64 KiB at 25e6), quantum 98304 (120/80 x 64 KiB), prio 1 */
	assert_int_equal(htb_tree_class(&PS, &t, 0, c), 0);
	assert_int_equal(c->parent, 0x10001);
	assert_int_equal(c->classid, 0x10010);
	assert_true(c->rate == 15000000 && c->ceil == 25000000);
	assert_int_equal(c->buffer, 68267);
	assert_int_equal(c->cbuffer, 40960);
	assert_int_equal(c->quantum, 98304);
	assert_int_equal(c->prio, 1);
	/* rtab slot 0 = 8 bytes at 15e6 B/s = 8.33 ticks -> 9; ctab slot 0 at 25e6 B/s = 5 */
	assert_int_equal(c->rtab[0], 9);
	assert_int_equal(c->ctab[0], 5);

	/* 1:20: 80mbit = 1e7 B/s, ceil 100mbit = 1.25e7 B/s; buffer 102400, cbuffer 64 KiB at
	 * 1.25e7 B/s = 65536e9 / 8e8 = 81920; quantum 65536 (the smallest guarantee) */
	assert_int_equal(htb_tree_class(&PS, &t, 1, c), 0);
	assert_int_equal(c->classid, 0x10020);
	assert_true(c->rate == 10000000 && c->ceil == 12500000);
	assert_int_equal(c->buffer, 102400);
	assert_int_equal(c->cbuffer, 81920);
	assert_int_equal(c->quantum, 65536);
	assert_int_equal(c->prio, 2);

	assert_int_equal(htb_tree_class(&PS, &t, 2, c), -EINVAL);
	free(c);
}

static void test_tree_leaves(void **state)
{
	struct htb_tree t = tree();
	struct tcmsg_qdisc q;

	/* bfifo under 1:10 sized for its ceil (the root's 200mbit): 2500000 bytes */
	assert_int_equal(htb_tree_leaf(&t, 0, &q), 0);
	assert_int_equal(q.kind, TCMSG_KIND_BFIFO);
	assert_int_equal(q.parent, 0x10010);
	assert_int_equal(q.handle, 0);             /* the kernel names it */
	assert_int_equal(q.bfifo_limit, 2500000);
	/* under 1:20, ceil 100mbit: 1e8 x 0.1 / 8 = 1250000 */
	assert_int_equal(htb_tree_leaf(&t, 1, &q), 0);
	assert_int_equal(q.parent, 0x10020);
	assert_int_equal(q.bfifo_limit, 1250000);
	assert_int_equal(htb_tree_leaf(&t, 2, &q), -EINVAL);
}

static void test_tree_64bit(void **state)
{
	static const struct htb_class_spec big[] = {
		{ .minor = 0x10, .rate = 10 * GBIT },
		{ .minor = 0x20, .rate = 40 * GBIT },
	};
	struct htb_tree t = { .ifindex = 8, .major = 2, .root_rate = 50 * GBIT, .classes = big, .nclasses = 2 };
	struct tcmsg_htb_class *c = malloc(sizeof(*c));

	assert_non_null(c);
	/* 2:20: 40gbit = 5e9 B/s (beyond 32 bits: tcmsg sends RATE64), burst 40gbit x 1 ms =
	 * 5e6 bytes = 1 ms = 15625 ticks, cburst 50gbit x 1 ms = 1 ms too; quantum 4 x 64 KiB */
	assert_int_equal(htb_tree_class(&PS, &t, 1, c), 0);
	assert_true(c->rate == 5000000000ULL && c->ceil == 6250000000ULL);
	assert_int_equal(c->buffer, 15625);
	assert_int_equal(c->cbuffer, 15625);
	assert_int_equal(c->quantum, 262144);
	free(c);
}

static void test_tree_validate(void **state)
{
	struct htb_class_spec cs[2] = { CLASSES[0], CLASSES[1] };
	struct htb_tree t = tree();

	t.classes = cs;
	assert_int_equal(htb_tree_validate(&t), 0);
	t.major = 0;
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	t.major = 0xffff;                              /* clsact's */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	t = tree();
	t.classes = cs;
	t.root_rate = 7;                               /* less than a byte per second */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	t.root_rate = 200 * MBIT;
	t.default_minor = 0x30;                        /* no such class */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	t.default_minor = 0;                           /* the direct queue: allowed */
	assert_int_equal(htb_tree_validate(&t), 0);
	cs[1].minor = 0x10;                            /* duplicate */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	cs[1].minor = HTB_ROOT_MINOR;                  /* the root's */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	cs[1].minor = 0x20;
	cs[1].ceil = 70 * MBIT;                        /* below its rate */
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	cs[1].ceil = 0;
	cs[1].prio = 8;
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	cs[1].prio = 7;
	cs[1].rate = 0;
	assert_int_equal(htb_tree_validate(&t), -EINVAL);
	t.nclasses = 1;                                /* cs[1] out of the tree again */
	assert_int_equal(htb_tree_validate(&t), 0);
}

/* ------------------------------------------------------------------ quota: units */

static void assert_rate(const char *s, uint64_t want)
{
	uint64_t got = 0;
	int r = quota_parse_rate(s, &got);

	if (r != 0 || got != want)
		fail_msg("\"%s\": returned %d, %llu; want %llu", s, r, (unsigned long long)got, (unsigned long long)want);
}

static void assert_rate_err(const char *s, int err)
{
	uint64_t got = 12345;
	int r = quota_parse_rate(s, &got);

	if (r != err || got != 12345)
		fail_msg("\"%s\": returned %d (%llu), want %d and no value", s, r, (unsigned long long)got, err);
}

static void test_parse_rate(void **state)
{
	assert_rate("100mbit", 100 * MBIT);
	assert_rate("1gbit", GBIT);
	assert_rate("500kbit", 500000);
	assert_rate("10mbps", 80 * MBIT);              /* bytes: 10 x 8e6 */
	assert_rate("100", 100);                       /* plain number: bit/s */
	assert_rate("100bit", 100);
	assert_rate("1.5gbit", 1500 * MBIT);
	assert_rate("0.125kbit", 125);
	assert_rate("1Gbit", GBIT);                    /* case-insensitive, as tc */
	assert_rate("1GBPS", 8 * GBIT);
	assert_rate("1kibit", 1024);
	assert_rate("2mibps", 16777216);               /* 2 x 8 x 2^20 */
	assert_rate("1tbit", 1000 * GBIT);
	assert_rate("0", 0);
	assert_rate("0.5bit", 0);                      /* rounded down to whole bit/s */
	assert_rate("1.0000000001gbit", GBIT);         /* digits past 1e-9 ignored */
	assert_rate("18446744073709551615", UINT64_MAX);
	assert_rate("2305843009213693951bps", UINT64_MAX - 7);   /* (2^61 - 1) x 8 */
	assert_rate("18446744073709551615.9", UINT64_MAX);       /* the fraction rounds away */

	assert_rate_err("18446744073709551616", -ERANGE);
	assert_rate_err("2305843009213693952bps", -ERANGE);      /* 2^61 x 8 = 2^64 */
	assert_rate_err("20000000000tbit", -ERANGE);
	assert_rate_err("", -EINVAL);
	assert_rate_err("-1mbit", -EINVAL);            /* negative */
	assert_rate_err("+1mbit", -EINVAL);
	assert_rate_err(" 1mbit", -EINVAL);
	assert_rate_err("1 mbit", -EINVAL);
	assert_rate_err("1mbit ", -EINVAL);
	assert_rate_err("mbit", -EINVAL);
	assert_rate_err("1.mbit", -EINVAL);
	assert_rate_err(".5mbit", -EINVAL);
	assert_rate_err("1.5.5mbit", -EINVAL);
	assert_rate_err("1xbit", -EINVAL);
	assert_rate_err("1e9", -EINVAL);
	assert_rate_err("10mb", -EINVAL);              /* a size, not a rate */
}

static void test_format_rate(void **state)
{
	static const uint64_t values[] = { 0, 7, 1000, 1500000, 120 * MBIT, 50 * GBIT, 2000 * GBIT, 1234567,
		                           UINT64_MAX };
	char buf[QUOTA_RATE_STRLEN];

	quota_format_rate(120 * MBIT, buf);
	assert_string_equal(buf, "120mbit");
	quota_format_rate(1500000, buf);
	assert_string_equal(buf, "1500kbit");
	quota_format_rate(7, buf);
	assert_string_equal(buf, "7bit");
	quota_format_rate(0, buf);
	assert_string_equal(buf, "0bit");
	quota_format_rate(50 * GBIT, buf);
	assert_string_equal(buf, "50gbit");
	quota_format_rate(2000 * GBIT, buf);
	assert_string_equal(buf, "2tbit");
	quota_format_rate(UINT64_MAX, buf);
	assert_string_equal(buf, "18446744073709551615bit");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t back = 1;

		quota_format_rate(values[i], buf);
		assert_int_equal(quota_parse_rate(buf, &back), 0);
		assert_true(back == values[i]);
	}
}

/* ------------------------------------------------------------------ quota: admission */

static void test_admit(void **state)
{
	struct quota_pool pool = { .capacity = 200 * MBIT, .reserved = 120 * MBIT };
	struct quota_want want = { .guarantee = 80 * MBIT }, got = { 1, 1 };
	char err[QUOTA_ERRLEN] = "";

	/* 120 + 80 = 200: exactly fits; the limit defaults to the capacity */
	assert_int_equal(quota_admit(&pool, "egress", "web-2", &want, &got, err), 0);
	assert_true(got.guarantee == 80 * MBIT && got.limit == 200 * MBIT);

	/* 120 + 100 > 200 */
	got = (struct quota_want){ 1, 1 };
	want.guarantee = 100 * MBIT;
	assert_int_equal(quota_admit(&pool, "egress", "web-2", &want, &got, err), -ENOSPC);
	assert_string_equal(err, "egress guarantee 100mbit for web-2 does not fit: 120mbit of the host's 200mbit "
	                         "already guaranteed, 80mbit free");
	assert_true(got.guarantee == 1 && got.limit == 1);   /* untouched on refusal */

	/* no guarantee asked: the default 1mbit, which fits */
	want = (struct quota_want){ 0, 50 * MBIT };
	assert_int_equal(quota_admit(&pool, "ingress", "batch", &want, &got, err), 0);
	assert_true(got.guarantee == QUOTA_DEFAULT_GUARANTEE && got.limit == 50 * MBIT);
	/* a pool with its own default */
	pool.default_guarantee = 5 * MBIT;
	assert_int_equal(quota_admit(&pool, "ingress", "batch", &want, &got, err), 0);
	assert_true(got.guarantee == 5 * MBIT);

	/* a full pool refuses even the default, and says it was the default */
	pool.reserved = 200 * MBIT;
	assert_int_equal(quota_admit(&pool, "ingress", "batch", &want, &got, err), -ENOSPC);
	assert_string_equal(err, "ingress guarantee 5mbit (default) for batch does not fit: 200mbit of the host's "
	                         "200mbit already guaranteed, 0bit free");
	/* capacity lowered below what is reserved: nothing is free, no wrap-around */
	pool.reserved = 300 * MBIT;
	assert_int_equal(quota_admit(&pool, "ingress", "batch", &want, &got, err), -ENOSPC);

	pool.reserved = 0;
	want = (struct quota_want){ 10 * MBIT, 300 * MBIT };
	assert_int_equal(quota_admit(&pool, "egress", "web-3", &want, &got, err), -EINVAL);
	assert_string_equal(err, "egress limit 300mbit for web-3 exceeds the host's egress capacity 200mbit");
	want = (struct quota_want){ 50 * MBIT, 40 * MBIT };
	assert_int_equal(quota_admit(&pool, "egress", "web-3", &want, &got, err), -EINVAL);
	assert_string_equal(err, "egress guarantee 50mbit for web-3 exceeds its limit 40mbit");
	/* the whole capacity for one workload is fine */
	want = (struct quota_want){ 200 * MBIT, 0 };
	assert_int_equal(quota_admit(&pool, "egress", "web-3", &want, &got, err), 0);
}

static void test_sum(void **state)
{
	struct quota_want wants[] = { { 0, 0 }, { 100 * MBIT, 0 }, { 20 * MBIT, 50 * MBIT } };
	struct quota_want huge[] = { { UINT64_MAX, 0 }, { 1, 0 } };
	uint64_t sum = 0;

	/* 1mbit (default) + 100mbit + 20mbit */
	assert_int_equal(quota_sum(wants, 3, 0, &sum), 0);
	assert_true(sum == 121 * MBIT);
	/* with a 4mbit default: 4 + 100 + 20 */
	assert_int_equal(quota_sum(wants, 3, 4 * MBIT, &sum), 0);
	assert_true(sum == 124 * MBIT);
	assert_int_equal(quota_sum(wants, 0, 0, &sum), 0);
	assert_true(sum == 0);
	sum = 9;
	assert_int_equal(quota_sum(huge, 2, 0, &sum), -ERANGE);
	assert_true(sum == 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psched_parse),
		cmocka_unit_test(test_xmit_ticks),
		cmocka_unit_test(test_rate_table),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_quantum),
		cmocka_unit_test(test_fifo_and_direct_qlen),
		cmocka_unit_test(test_rate_is_64bit),
		cmocka_unit_test(test_tree_qdisc),
		cmocka_unit_test(test_tree_classes),
		cmocka_unit_test(test_tree_leaves),
		cmocka_unit_test(test_tree_64bit),
		cmocka_unit_test(test_tree_validate),
		cmocka_unit_test(test_parse_rate),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
