#include "tc/tcmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* u32 keys look at the packet relative to its network header: the IPv4 source address starts at
 * byte 12, the destination at byte 16. */
#define U32_OFF_IPV4_SRC 12
#define U32_OFF_IPV4_DST 16
/* A hash key on an address's low byte: the kernel takes the 32-bit word at hoff, masks it with
 * hmask and shifts it right by the mask's trailing zeros (none here), then keeps the bits the
 * table's divisor allows (u32_hash_fold()). */
#define U32_HMASK_LOW_BYTE 0x000000ffu

static uint16_t op_flags(enum tcmsg_op op)
{
	switch (op) {
	case TCMSG_ADD:
		return NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	case TCMSG_REPLACE:
		/* Qdiscs need NLM_F_REPLACE to change one in place; classes and filters change an
		 * existing object whenever NLM_F_EXCL is absent. */
		return NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	case TCMSG_DEL:
		return NLM_F_REQUEST | NLM_F_ACK;
	}
	return 0;
}

/* struct nlmsghdr + struct tcmsg at the start of buf, checking room. */
static struct nlmsghdr *put_tc_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, uint32_t seq,
                                      int ifindex, uint32_t parent, uint32_t handle, uint32_t info)
{
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	if (buflen < mnl_nlmsg_size(sizeof(*tcm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	tcm->tcm_info = info;
	return nlh;
}

/* A filter request's header and TCA_KIND (RTM_DELTFILTER for a DEL, RTM_NEWTFILTER else); NULL
 * when it does not fit.  tcm_info holds the priority in its upper 16 bits and the protocol
 * (network order) below. */
static struct nlmsghdr *put_filter_header(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const char *kind,
                                          int ifindex, uint32_t parent, uint32_t handle, uint16_t prio,
                                          uint16_t protocol)
{
	uint32_t info = TC_H_MAKE((uint32_t)prio << 16, htons(protocol));
	struct nlmsghdr *nlh;

	nlh = put_tc_header(buf, buflen, op == TCMSG_DEL ? RTM_DELTFILTER : RTM_NEWTFILTER, op_flags(op), seq, ifindex,
	                    parent, handle, info);
	if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, kind))
		return NULL;
	return nlh;
}

static uint16_t info_prio(uint32_t info)
{
	return (uint16_t)(TC_H_MAJ(info) >> 16);
}

static uint16_t info_protocol(uint32_t info)
{
	return ntohs((uint16_t)TC_H_MIN(info));
}

static const char *kind_name(enum tcmsg_kind kind)
{
	switch (kind) {
	case TCMSG_KIND_HTB:
		return "htb";
	case TCMSG_KIND_CLSACT:
		return "clsact";
	case TCMSG_KIND_BFIFO:
		return "bfifo";
	case TCMSG_KIND_OTHER:
		break;
	}
	return NULL;
}

static enum tcmsg_kind kind_of(const char *name)
{
	if (!strcmp(name, "htb"))
		return TCMSG_KIND_HTB;
	if (!strcmp(name, "clsact"))
		return TCMSG_KIND_CLSACT;
	if (!strcmp(name, "bfifo"))
		return TCMSG_KIND_BFIFO;
	return TCMSG_KIND_OTHER;
}

/* ------------------------------------------------------------------ qdiscs */

static bool put_htb_qdisc_options(struct nlmsghdr *nlh, size_t buflen, const struct tcmsg_qdisc *q)
{
	struct tc_htb_glob glob = {
		.version = TCMSG_HTB_VERSION,
		.rate2quantum = q->htb_r2q ? q->htb_r2q : 10,
		.defcls = q->htb_default,
	};
	struct nlattr *opts;

	opts = mnl_attr_nest_start_check(nlh, buflen, TCA_OPTIONS);
	if (!opts || !mnl_attr_put_check(nlh, buflen, TCA_HTB_INIT, sizeof(glob), &glob))
		return false;
	/* Without it the direct queue (packets no class takes) is as long as the device's
	 * txqueuelen: 32 packets on an IFB. */
	if (q->htb_direct_qlen && !mnl_attr_put_u32_check(nlh, buflen, TCA_HTB_DIRECT_QLEN, q->htb_direct_qlen))
		return false;
	mnl_attr_nest_end(nlh, opts);
	return true;
}

int tcmsg_build_qdisc(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_qdisc *q)
{
	const char *kind = kind_name(q->kind);
	struct nlmsghdr *nlh;

	if (!kind)
		return -EINVAL;
	nlh = put_tc_header(buf, buflen, op == TCMSG_DEL ? RTM_DELQDISC : RTM_NEWQDISC, op_flags(op), seq,
	                    q->ifindex, q->parent, q->handle, 0);
	if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, kind))
		return -ENOBUFS;
	if (op == TCMSG_DEL)
		return (int)nlh->nlmsg_len;
	switch (q->kind) {
	case TCMSG_KIND_HTB:
		if (!put_htb_qdisc_options(nlh, buflen, q))
			return -ENOBUFS;
		break;
	case TCMSG_KIND_BFIFO: {
		/* fifo options are a bare struct in TCA_OPTIONS, not a nest. */
		struct tc_fifo_qopt fifo = { .limit = q->bfifo_limit };

		if (!q->bfifo_limit)
			return -EINVAL;
		if (!mnl_attr_put_check(nlh, buflen, TCA_OPTIONS, sizeof(fifo), &fifo))
			return -ENOBUFS;
		break;
	}
	case TCMSG_KIND_CLSACT:
	case TCMSG_KIND_OTHER:
		break;
	}
	return (int)nlh->nlmsg_len;
}

static int build_dump(void *buf, size_t buflen, uint32_t seq, uint16_t type, int ifindex, uint32_t parent)
{
	struct nlmsghdr *nlh;

	nlh = put_tc_header(buf, buflen, type, NLM_F_REQUEST | NLM_F_DUMP, seq, ifindex, parent, 0, 0);
	if (!nlh)
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int tcmsg_build_qdisc_dump(void *buf, size_t buflen, uint32_t seq, int ifindex)
{
	return build_dump(buf, buflen, seq, RTM_GETQDISC, ifindex, 0);
}

/* The top-level attributes every tc message has: TCA_KIND and TCA_OPTIONS. */
struct tc_top {
	char kind[16];            /* TCKINDSIZ */
	const struct nlattr *options;
	const struct nlattr *stats2;   /* dumps: the gnet_stats nest */
	const struct nlattr *xstats;   /* dumps: the kind's own counters (the old place) */
};

static int top_cb(const struct nlattr *a, void *data)
{
	struct tc_top *t = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_KIND:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 || mnl_attr_get_payload_len(a) > sizeof(t->kind))
			return MNL_CB_ERROR;
		snprintf(t->kind, sizeof(t->kind), "%s", mnl_attr_get_str(a));
		break;
	case TCA_OPTIONS:
		t->options = a;
		break;
	case TCA_STATS2:
		t->stats2 = a;
		break;
	case TCA_XSTATS:
		t->xstats = a;
		break;
	}
	return MNL_CB_OK;
}

/* Check the message type and length and read struct tcmsg and the top-level attributes. */
static int parse_top(const struct nlmsghdr *nlh, uint16_t type_new, uint16_t type_del, const struct tcmsg **ret_tcm,
                     struct tc_top *ret_top)
{
	if ((nlh->nlmsg_type != type_new && nlh->nlmsg_type != type_del) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct tcmsg)))
		return -EBADMSG;
	memset(ret_top, 0, sizeof(*ret_top));
	if (mnl_attr_parse(nlh, sizeof(struct tcmsg), top_cb, ret_top) < 0)
		return -EBADMSG;
	*ret_tcm = mnl_nlmsg_get_payload(nlh);
	return 0;
}

struct nest_table {
	const struct nlattr *tb[16];
	uint16_t max;
};

static int nest_cb(const struct nlattr *a, void *data)
{
	struct nest_table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max && type < 16)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nest(const struct nlattr *nest, uint16_t max, struct nest_table *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->max = max;
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0 || mnl_attr_parse_nested(nest, nest_cb, ret) < 0)
		return -EBADMSG;
	return 0;
}

/* A fixed-size struct attribute: at least `size` bytes (the kernel may append fields later). */
static const void *struct_attr(const struct nlattr *a, size_t size)
{
	if (!a || mnl_attr_get_payload_len(a) < size)
		return NULL;
	return mnl_attr_get_payload(a);
}

/* The payload of a, at least size bytes, copied into dst (whatever its alignment in the message). */
static bool copy_attr(const struct nlattr *a, void *dst, size_t size)
{
	const void *p = struct_attr(a, size);

	if (p)
		memcpy(dst, p, size);
	return p != NULL;
}

/* A filter message of one kind: its struct tcmsg and its options.  -ENOENT for another kind and for
 * the lines of a dump without options (each priority is listed once, kind only, before its
 * filters), -EBADMSG when malformed. */
static int parse_filter(const struct nlmsghdr *nlh, const char *kind, uint16_t max, const struct tcmsg **ret_tcm,
                        struct nest_table *ret_opts)
{
	struct tc_top top;
	int r;

	r = parse_top(nlh, RTM_NEWTFILTER, RTM_DELTFILTER, ret_tcm, &top);
	if (r < 0)
		return r;
	if (strcmp(top.kind, kind) || !top.options)
		return -ENOENT;
	return parse_nest(top.options, max, ret_opts);
}

int tcmsg_parse_qdisc(const struct nlmsghdr *nlh, struct tcmsg_qdisc *ret)
{
	struct tcmsg_qdisc q = { 0 };
	const struct tcmsg *tcm;
	struct tc_top top;
	int r;

	r = parse_top(nlh, RTM_NEWQDISC, RTM_DELQDISC, &tcm, &top);
	if (r < 0)
		return r;
	q.ifindex = tcm->tcm_ifindex;
	q.parent = tcm->tcm_parent;
	q.handle = tcm->tcm_handle;
	q.kind = kind_of(top.kind);
	if (q.kind == TCMSG_KIND_HTB && top.options) {
		const struct tc_htb_glob *glob;
		struct nest_table tb;

		if (parse_nest(top.options, TCA_HTB_MAX, &tb) < 0)
			return -EBADMSG;
		glob = struct_attr(tb.tb[TCA_HTB_INIT], sizeof(*glob));
		if (!glob)
			return -EBADMSG;
		q.htb_default = glob->defcls;
		q.htb_r2q = glob->rate2quantum;
		if (tb.tb[TCA_HTB_DIRECT_QLEN]) {
			if (mnl_attr_validate(tb.tb[TCA_HTB_DIRECT_QLEN], MNL_TYPE_U32) < 0)
				return -EBADMSG;
			q.htb_direct_qlen = mnl_attr_get_u32(tb.tb[TCA_HTB_DIRECT_QLEN]);
		}
	} else if (q.kind == TCMSG_KIND_BFIFO && top.options) {
		const struct tc_fifo_qopt *fifo = struct_attr(top.options, sizeof(*fifo));

		if (!fifo)
			return -EBADMSG;
		q.bfifo_limit = fifo->limit;
	}
	*ret = q;
	return 0;
}

/* ------------------------------------------------------------------ HTB classes */

/* Ethernet link layer: the kernel computes transmit times itself from the 64-bit rate and only
 * falls back to the tables for TC_LINKLAYER_UNAWARE (old tc); we send both, like tc. */
static void fill_ratespec(struct tc_ratespec *rs, uint64_t rate, uint8_t cell_log)
{
	memset(rs, 0, sizeof(*rs));
	rs->rate = rate >= (1ULL << 32) ? ~0U : (uint32_t)rate;
	rs->cell_log = cell_log;
	rs->linklayer = TC_LINKLAYER_ETHERNET;
	rs->cell_align = -1;
}

int tcmsg_build_htb_class(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_htb_class *c)
{
	struct tc_htb_opt opt;
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	if (op != TCMSG_DEL && (!c->rate || !c->ceil))
		return -EINVAL;
	nlh = put_tc_header(buf, buflen, op == TCMSG_DEL ? RTM_DELTCLASS : RTM_NEWTCLASS, op_flags(op), seq,
	                    c->ifindex, c->parent, c->classid, 0);
	if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, "htb"))
		return -ENOBUFS;
	if (op == TCMSG_DEL)
		return (int)nlh->nlmsg_len;

	memset(&opt, 0, sizeof(opt));
	fill_ratespec(&opt.rate, c->rate, c->cell_log);
	fill_ratespec(&opt.ceil, c->ceil, c->ccell_log);
	opt.buffer = c->buffer;
	opt.cbuffer = c->cbuffer;
	opt.quantum = c->quantum;
	opt.prio = c->prio;

	opts = mnl_attr_nest_start_check(nlh, buflen, TCA_OPTIONS);
	if (!opts)
		return -ENOBUFS;
	if (c->rate >= (1ULL << 32) && !mnl_attr_put_u64_check(nlh, buflen, TCA_HTB_RATE64, c->rate))
		return -ENOBUFS;
	if (c->ceil >= (1ULL << 32) && !mnl_attr_put_u64_check(nlh, buflen, TCA_HTB_CEIL64, c->ceil))
		return -ENOBUFS;
	if (!mnl_attr_put_check(nlh, buflen, TCA_HTB_PARMS, sizeof(opt), &opt) ||
	    !mnl_attr_put_check(nlh, buflen, TCA_HTB_RTAB, sizeof(c->rtab), c->rtab) ||
	    !mnl_attr_put_check(nlh, buflen, TCA_HTB_CTAB, sizeof(c->ctab), c->ctab))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, opts);
	return (int)nlh->nlmsg_len;
}

int tcmsg_build_class_dump(void *buf, size_t buflen, uint32_t seq, int ifindex)
{
	return build_dump(buf, buflen, seq, RTM_GETTCLASS, ifindex, 0);
}

static int get_u64(const struct nlattr *a, uint64_t *ret)
{
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return -EBADMSG;
	*ret = mnl_attr_get_u64(a);
	return 0;
}

/* The TCA_STATS2 nest (gnet_stats_copy_*()): basic, queue and the kind's TCA_STATS_APP; htb: read
 * the app part (or, without it, TCA_XSTATS) as struct tc_htb_xstats.  Other members (rate
 * estimator, padding) are skipped. */
static int parse_stats(const struct tc_top *top, bool htb, struct tcmsg_class_stats *ret)
{
	struct tcmsg_class_stats st = { 0 };
	struct gnet_stats_basic basic;
	struct gnet_stats_queue queue;
	const struct nlattr *app;
	struct nest_table tb;

	if (!top->stats2)
		return -ENODATA;
	if (parse_nest(top->stats2, TCA_STATS_MAX, &tb) < 0)
		return -EBADMSG;
	if (tb.tb[TCA_STATS_BASIC]) {
		/* Copied out: netlink aligns attributes to 4 bytes, the struct's u64 wants 8. */
		if (!copy_attr(tb.tb[TCA_STATS_BASIC], &basic, sizeof(basic)))
			return -EBADMSG;
		st.has_basic = true;
		st.bytes = basic.bytes;
		st.packets = basic.packets;
		/* gnet_stats_copy_basic(): the whole count when the 32 bits above lost some. */
		if (tb.tb[TCA_STATS_PKT64] && get_u64(tb.tb[TCA_STATS_PKT64], &st.packets) < 0)
			return -EBADMSG;
	}
	if (tb.tb[TCA_STATS_QUEUE]) {
		if (!copy_attr(tb.tb[TCA_STATS_QUEUE], &queue, sizeof(queue)))
			return -EBADMSG;
		st.has_queue = true;
		st.qlen = queue.qlen;
		st.backlog = queue.backlog;
		st.drops = queue.drops;
		st.requeues = queue.requeues;
		st.overlimits = queue.overlimits;
	}
	app = tb.tb[TCA_STATS_APP] ? tb.tb[TCA_STATS_APP] : top->xstats;
	if (htb && app) {
		struct tc_htb_xstats x;

		if (!copy_attr(app, &x, sizeof(x)))
			return -EBADMSG;
		st.has_htb = true;
		st.lends = x.lends;
		st.borrows = x.borrows;
		st.giants = x.giants;
		st.tokens = x.tokens;
		st.ctokens = x.ctokens;
	}
	*ret = st;
	return 0;
}

int tcmsg_parse_stats(const struct nlmsghdr *nlh, struct tcmsg_class_stats *ret)
{
	const struct tcmsg *tcm;
	struct tc_top top;
	int r;

	if (nlh->nlmsg_type == RTM_NEWQDISC)
		r = parse_top(nlh, RTM_NEWQDISC, RTM_NEWQDISC, &tcm, &top);
	else
		r = parse_top(nlh, RTM_NEWTCLASS, RTM_NEWTCLASS, &tcm, &top);
	if (r < 0)
		return r;
	return parse_stats(&top, nlh->nlmsg_type == RTM_NEWTCLASS && !strcmp(top.kind, "htb"), ret);
}

int tcmsg_parse_htb_class(const struct nlmsghdr *nlh, struct tcmsg_htb_class *ret)
{
	const struct tc_htb_opt *opt;
	const struct tcmsg *tcm;
	struct nest_table tb;
	struct tc_top top;
	int r;

	r = parse_top(nlh, RTM_NEWTCLASS, RTM_DELTCLASS, &tcm, &top);
	if (r < 0)
		return r;
	if (strcmp(top.kind, "htb"))
		return -ENOENT;
	if (!top.options || parse_nest(top.options, TCA_HTB_MAX, &tb) < 0)
		return -EBADMSG;
	opt = struct_attr(tb.tb[TCA_HTB_PARMS], sizeof(*opt));
	if (!opt)
		return -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	ret->ifindex = tcm->tcm_ifindex;
	ret->parent = tcm->tcm_parent;
	ret->classid = tcm->tcm_handle;
	ret->rate = opt->rate.rate;
	ret->ceil = opt->ceil.rate;
	if (tb.tb[TCA_HTB_RATE64] && get_u64(tb.tb[TCA_HTB_RATE64], &ret->rate) < 0)
		return -EBADMSG;
	if (tb.tb[TCA_HTB_CEIL64] && get_u64(tb.tb[TCA_HTB_CEIL64], &ret->ceil) < 0)
		return -EBADMSG;
	ret->buffer = opt->buffer;
	ret->cbuffer = opt->cbuffer;
	ret->quantum = opt->quantum;
	ret->prio = opt->prio;
	ret->level = opt->level;
	ret->cell_log = opt->rate.cell_log;
	ret->ccell_log = opt->ceil.cell_log;
	if (tb.tb[TCA_HTB_RTAB] && tb.tb[TCA_HTB_CTAB]) {
		if (mnl_attr_get_payload_len(tb.tb[TCA_HTB_RTAB]) != sizeof(ret->rtab) ||
		    mnl_attr_get_payload_len(tb.tb[TCA_HTB_CTAB]) != sizeof(ret->ctab))
			return -EBADMSG;
		memcpy(ret->rtab, mnl_attr_get_payload(tb.tb[TCA_HTB_RTAB]), sizeof(ret->rtab));
		memcpy(ret->ctab, mnl_attr_get_payload(tb.tb[TCA_HTB_CTAB]), sizeof(ret->ctab));
		ret->has_tables = true;
	}
	/* Counters are an extra: a class with unreadable ones is still the class (stats stay 0). */
	if (parse_stats(&top, true, &ret->stats) < 0)
		memset(&ret->stats, 0, sizeof(ret->stats));
	return 0;
}

/* ------------------------------------------------------------------ u32 filters */

static uint16_t u32_protocol(const struct tcmsg_u32 *f)
{
	if (f->protocol)
		return f->protocol;
	return f->match == TCMSG_U32_ALL ? ETH_P_ALL : ETH_P_IP;
}

static uint32_t prefix_mask(uint8_t len)
{
	return len ? ~0U << (32 - len) : 0;
}

/* The redirect: one mirred action at order 1 in the filter's actions nest (TCA_U32_ACT,
 * TCA_BPF_ACT).  TC_ACT_STOLEN is what tc sets for "redirect": the packet leaves this hook and
 * continues as the target device's egress. */
static bool put_mirred(struct nlmsghdr *nlh, size_t buflen, uint16_t nest_type, uint32_t ifindex)
{
	struct tc_mirred parms = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = ifindex,
	};
	struct nlattr *acts, *act, *aopts;

	acts = mnl_attr_nest_start_check(nlh, buflen, nest_type);
	act = acts ? mnl_attr_nest_start_check(nlh, buflen, 1) : NULL;
	if (!act || !mnl_attr_put_strz_check(nlh, buflen, TCA_ACT_KIND, "mirred"))
		return false;
	aopts = mnl_attr_nest_start_check(nlh, buflen, TCA_ACT_OPTIONS);
	if (!aopts || !mnl_attr_put_check(nlh, buflen, TCA_MIRRED_PARMS, sizeof(parms), &parms))
		return false;
	mnl_attr_nest_end(nlh, aopts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	return true;
}

/* The hash-table fields of a filter, checked the way u32_change() would (see tcmsg.h). */
static bool u32_hash_fields_valid(const struct tcmsg_u32 *f)
{
	if (f->hashkey > TCMSG_U32_HASHKEY_IPV4_DST || (f->hashkey != TCMSG_U32_HASHKEY_NONE && !f->link))
		return false;
	if (TCMSG_U32_NODE(f->ht) || TCMSG_U32_BUCKET(f->link) || TCMSG_U32_NODE(f->link))
		return false;
	/* u32_change() refuses a handle of another table and takes the bucket from ht, not from the
	 * handle: a handle that disagrees would not be the filter's handle. */
	if (f->ht && TCMSG_U32_HTID(f->handle) && (f->handle & ~0xfffu) != f->ht)
		return false;
	return true;
}

int tcmsg_build_u32(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_u32 *f)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} s;
	bool verdict = f->classid || f->redirect_ifindex;
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	if (f->prefix_len > 32 || f->match > TCMSG_U32_IPV4_DST || !u32_hash_fields_valid(f))
		return -EINVAL;
	if (op != TCMSG_DEL && (!f->prio || (!verdict && !f->link)))
		return -EINVAL;
	nlh = put_filter_header(buf, buflen, seq, op, "u32", f->ifindex, f->parent, f->handle, f->prio, u32_protocol(f));
	if (!nlh)
		return -ENOBUFS;
	if (op == TCMSG_DEL)
		return (int)nlh->nlmsg_len;

	memset(&s, 0, sizeof(s));
	/* TERMINAL: a matching key ends the walk with this node's verdict (tc sets it whenever a
	 * classid or an action is given).  A pure link must not be terminal: when no filter of the
	 * linked table takes the packet, the walk comes back to the linking node and a terminal one
	 * would end it there, with no class. */
	s.sel.flags = verdict ? TC_U32_TERMINAL : 0;
	s.sel.nkeys = 1;
	if (f->match != TCMSG_U32_ALL) {
		uint32_t mask = prefix_mask(f->prefix_len);

		s.key.mask = htonl(mask);
		s.key.val = htonl(f->addr & mask);
		s.key.off = f->match == TCMSG_U32_IPV4_SRC ? U32_OFF_IPV4_SRC : U32_OFF_IPV4_DST;
	}
	if (f->hashkey != TCMSG_U32_HASHKEY_NONE) {
		s.sel.hmask = htonl(U32_HMASK_LOW_BYTE);
		s.sel.hoff = f->hashkey == TCMSG_U32_HASHKEY_IPV4_SRC ? U32_OFF_IPV4_SRC : U32_OFF_IPV4_DST;
	}
	opts = mnl_attr_nest_start_check(nlh, buflen, TCA_OPTIONS);
	if (!opts)
		return -ENOBUFS;
	if (f->ht && !mnl_attr_put_u32_check(nlh, buflen, TCA_U32_HASH, f->ht))
		return -ENOBUFS;
	if (f->link && !mnl_attr_put_u32_check(nlh, buflen, TCA_U32_LINK, f->link))
		return -ENOBUFS;
	if (f->classid && !mnl_attr_put_u32_check(nlh, buflen, TCA_U32_CLASSID, f->classid))
		return -ENOBUFS;
	if (!mnl_attr_put_check(nlh, buflen, TCA_U32_SEL, sizeof(s), &s))
		return -ENOBUFS;
	if (f->redirect_ifindex && !put_mirred(nlh, buflen, TCA_U32_ACT, f->redirect_ifindex))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, opts);
	return (int)nlh->nlmsg_len;
}

int tcmsg_build_filter_dump(void *buf, size_t buflen, uint32_t seq, int ifindex, uint32_t parent)
{
	return build_dump(buf, buflen, seq, RTM_GETTFILTER, ifindex, parent);
}

/* One action of a filter's actions nest: only a mirred egress redirect is ours. */
static int parse_action(const struct nlattr *act, uint32_t *ret_ifindex)
{
	const struct tc_mirred *parms;
	struct nest_table tb, mopts;

	if (parse_nest(act, TCA_ACT_MAX, &tb) < 0 || !tb.tb[TCA_ACT_KIND] ||
	    mnl_attr_validate(tb.tb[TCA_ACT_KIND], MNL_TYPE_NUL_STRING) < 0)
		return -EBADMSG;
	if (strcmp(mnl_attr_get_str(tb.tb[TCA_ACT_KIND]), "mirred"))
		return -EOPNOTSUPP;
	if (!tb.tb[TCA_ACT_OPTIONS] || parse_nest(tb.tb[TCA_ACT_OPTIONS], TCA_MIRRED_MAX, &mopts) < 0)
		return -EBADMSG;
	parms = struct_attr(mopts.tb[TCA_MIRRED_PARMS], sizeof(*parms));
	if (!parms)
		return -EBADMSG;
	if (parms->eaction != TCA_EGRESS_REDIR || parms->action != TC_ACT_STOLEN)
		return -EOPNOTSUPP;
	*ret_ifindex = parms->ifindex;
	return 0;
}

struct acts_parse {
	uint32_t ifindex;
	int count;
	int err;
};

static int acts_cb(const struct nlattr *a, void *data)
{
	struct acts_parse *p = data;
	int r;

	p->count++;
	r = parse_action(a, &p->ifindex);
	if (r < 0 && !p->err)
		p->err = r;
	return MNL_CB_OK;
}

/* A filter's actions nest (TCA_U32_ACT, TCA_BPF_ACT), as put_mirred() builds it: the target of
 * its one mirred egress redirect (0 for an empty nest); -EOPNOTSUPP for other or several actions,
 * -EBADMSG when malformed. */
static int parse_actions(const struct nlattr *acts, uint32_t *ret_ifindex)
{
	struct acts_parse p = { 0 };

	if (mnl_attr_validate(acts, MNL_TYPE_NESTED) < 0 || mnl_attr_parse_nested(acts, acts_cb, &p) < 0)
		return -EBADMSG;
	if (p.err)
		return p.err;
	if (p.count > 1)
		return -EOPNOTSUPP;
	*ret_ifindex = p.ifindex;
	return 0;
}

static int get_u32_attr(const struct nlattr *a, uint32_t *ret)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*ret = mnl_attr_get_u32(a);
	return 0;
}

/* The selector's hash key: none, or the low byte of an IPv4 address. */
static int parse_hashkey(const struct tc_u32_sel *sel, enum tcmsg_u32_hashkey *ret)
{
	if (!sel->hmask && !sel->hoff) {
		*ret = TCMSG_U32_HASHKEY_NONE;
		return 0;
	}
	if (sel->hmask != htonl(U32_HMASK_LOW_BYTE))
		return -EOPNOTSUPP;
	if (sel->hoff == U32_OFF_IPV4_SRC)
		*ret = TCMSG_U32_HASHKEY_IPV4_SRC;
	else if (sel->hoff == U32_OFF_IPV4_DST)
		*ret = TCMSG_U32_HASHKEY_IPV4_DST;
	else
		return -EOPNOTSUPP;
	return 0;
}

int tcmsg_parse_u32(const struct nlmsghdr *nlh, struct tcmsg_u32 *ret)
{
	const struct tc_u32_sel *sel;
	const struct tc_u32_key *key;
	struct tcmsg_u32 f = { 0 };
	const struct tcmsg *tcm;
	struct nest_table tb;
	uint32_t mask;
	bool verdict;
	int r;

	r = parse_filter(nlh, "u32", TCA_U32_MAX, &tcm, &tb);
	if (r < 0)
		return r;
	/* A dump also lists each priority's hash tables: no selector. */
	if (!tb.tb[TCA_U32_SEL])
		return -ENOENT;
	sel = struct_attr(tb.tb[TCA_U32_SEL], sizeof(*sel));
	if (!sel || mnl_attr_get_payload_len(tb.tb[TCA_U32_SEL]) < sizeof(*sel) + sel->nkeys * sizeof(*key))
		return -EBADMSG;
	if (sel->nkeys != 1 || (sel->flags & ~TC_U32_TERMINAL))
		return -EOPNOTSUPP;
	if (get_u32_attr(tb.tb[TCA_U32_HASH], &f.ht) < 0 || get_u32_attr(tb.tb[TCA_U32_LINK], &f.link) < 0)
		return -EBADMSG;
	r = parse_hashkey(sel, &f.hashkey);
	if (r < 0)
		return r;
	if (f.hashkey != TCMSG_U32_HASHKEY_NONE && !f.link)
		return -EOPNOTSUPP;
	key = (const struct tc_u32_key *)((const char *)sel + sizeof(*sel));

	f.ifindex = tcm->tcm_ifindex;
	f.parent = tcm->tcm_parent;
	f.handle = tcm->tcm_handle;
	f.prio = info_prio(tcm->tcm_info);
	f.protocol = info_protocol(tcm->tcm_info);
	mask = ntohl(key->mask);
	if (key->offmask)
		return -EOPNOTSUPP;
	if (!mask && !key->val && !key->off) {
		f.match = TCMSG_U32_ALL;
	} else if (key->off == U32_OFF_IPV4_SRC || key->off == U32_OFF_IPV4_DST) {
		/* Only prefix masks: the complement of a mask plus one is a power of two. */
		uint32_t inv = ~mask;

		if (inv & (inv + 1))
			return -EOPNOTSUPP;
		f.match = key->off == U32_OFF_IPV4_SRC ? TCMSG_U32_IPV4_SRC : TCMSG_U32_IPV4_DST;
		f.addr = ntohl(key->val);
		f.prefix_len = (uint8_t)__builtin_popcount(mask);
	} else {
		return -EOPNOTSUPP;
	}
	if (tb.tb[TCA_U32_CLASSID]) {
		if (mnl_attr_validate(tb.tb[TCA_U32_CLASSID], MNL_TYPE_U32) < 0)
			return -EBADMSG;
		f.classid = mnl_attr_get_u32(tb.tb[TCA_U32_CLASSID]);
	}
	if (tb.tb[TCA_U32_ACT]) {
		r = parse_actions(tb.tb[TCA_U32_ACT], &f.redirect_ifindex);
		if (r < 0)
			return r;
	}
	/* What we build: TERMINAL exactly when there is a verdict (a pure link is not terminal), and
	 * a filter without a verdict links somewhere. */
	verdict = f.classid || f.redirect_ifindex || tb.tb[TCA_U32_ACT];
	if (!!(sel->flags & TC_U32_TERMINAL) != verdict || (!verdict && !f.link))
		return -EOPNOTSUPP;
	*ret = f;
	return 0;
}

/* ------------------------------------------------------------------ u32 hash tables */

static bool divisor_valid(uint32_t d)
{
	return d && d <= TCMSG_U32_DIVISOR_MAX && !(d & (d - 1));
}

int tcmsg_build_u32_table(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_u32_table *t)
{
	uint16_t protocol = t->protocol ? t->protocol : ETH_P_IP;
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	/* A table cannot be changed (see tcmsg.h): REPLACE would fail whenever the table exists. */
	if (op == TCMSG_REPLACE || !t->prio || (t->handle & 0xfffffu))
		return -EINVAL;
	if (op != TCMSG_DEL && !divisor_valid(t->divisor))
		return -EINVAL;
	nlh = put_filter_header(buf, buflen, seq, op, "u32", t->ifindex, t->parent, t->handle, t->prio, protocol);
	if (!nlh)
		return -ENOBUFS;
	if (op == TCMSG_DEL)
		return (int)nlh->nlmsg_len;
	opts = mnl_attr_nest_start_check(nlh, buflen, TCA_OPTIONS);
	if (!opts || !mnl_attr_put_u32_check(nlh, buflen, TCA_U32_DIVISOR, t->divisor))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, opts);
	return (int)nlh->nlmsg_len;
}

int tcmsg_parse_u32_table(const struct nlmsghdr *nlh, struct tcmsg_u32_table *ret)
{
	struct tcmsg_u32_table t = { 0 };
	const struct tcmsg *tcm;
	struct nest_table tb;
	int r;

	r = parse_filter(nlh, "u32", TCA_U32_MAX, &tcm, &tb);
	if (r < 0)
		return r;
	/* u32_dump() of a table: its divisor and nothing else; a filter has a selector. */
	if (!tb.tb[TCA_U32_DIVISOR] || tb.tb[TCA_U32_SEL])
		return -ENOENT;
	if (get_u32_attr(tb.tb[TCA_U32_DIVISOR], &t.divisor) < 0 || (tcm->tcm_handle & 0xfffffu))
		return -EBADMSG;
	t.ifindex = tcm->tcm_ifindex;
	t.parent = tcm->tcm_parent;
	t.handle = tcm->tcm_handle;
	t.prio = info_prio(tcm->tcm_info);
	t.protocol = info_protocol(tcm->tcm_info);
	*ret = t;
	return 0;
}

/* ------------------------------------------------------------------ cls_bpf filters */

int tcmsg_build_bpf(void *buf, size_t buflen, uint32_t seq, enum tcmsg_op op, const struct tcmsg_bpf *f)
{
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	if ((unsigned)op > TCMSG_DEL)
		return -EINVAL;
	/* In direct-action mode cls_bpf returns the program's verdict and never runs the filter's
	 * actions: a redirect there would be accepted and silently do nothing. */
	if (op != TCMSG_DEL && (!f->prio || f->prog_fd < 0 || !memchr(f->name, '\0', sizeof(f->name)) ||
	                        (f->direct_action && f->redirect_ifindex)))
		return -EINVAL;
	nlh = put_filter_header(buf, buflen, seq, op, "bpf", f->ifindex, f->parent, f->handle, f->prio,
	                        f->protocol ? f->protocol : ETH_P_ALL);
	if (!nlh)
		return -ENOBUFS;
	if (op == TCMSG_DEL)
		return (int)nlh->nlmsg_len;
	opts = mnl_attr_nest_start_check(nlh, buflen, TCA_OPTIONS);
	if (!opts || !mnl_attr_put_u32_check(nlh, buflen, TCA_BPF_FD, (uint32_t)f->prog_fd))
		return -ENOBUFS;
	if (f->name[0] && !mnl_attr_put_strz_check(nlh, buflen, TCA_BPF_NAME, f->name))
		return -ENOBUFS;
	/* No TCA_BPF_FLAGS at all in classic mode, as tc sends it. */
	if (f->direct_action && !mnl_attr_put_u32_check(nlh, buflen, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT))
		return -ENOBUFS;
	if (f->redirect_ifindex && !put_mirred(nlh, buflen, TCA_BPF_ACT, f->redirect_ifindex))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, opts);
	return (int)nlh->nlmsg_len;
}

int tcmsg_parse_bpf(const struct nlmsghdr *nlh, struct tcmsg_bpf *ret)
{
	struct tcmsg_bpf f = { .prog_fd = -1 };
	const struct tcmsg *tcm;
	struct nest_table tb;
	uint32_t flags = 0;
	int r;

	r = parse_filter(nlh, "bpf", TCA_BPF_MAX, &tcm, &tb);
	if (r < 0)
		return r;
	if (get_u32_attr(tb.tb[TCA_BPF_ID], &f.prog_id) < 0 || get_u32_attr(tb.tb[TCA_BPF_FLAGS], &flags) < 0)
		return -EBADMSG;
	if (tb.tb[TCA_BPF_FD]) {
		uint32_t fd;

		if (get_u32_attr(tb.tb[TCA_BPF_FD], &fd) < 0)
			return -EBADMSG;
		f.prog_fd = (int)fd;
	}
	if (tb.tb[TCA_BPF_NAME]) {
		if (mnl_attr_validate(tb.tb[TCA_BPF_NAME], MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		snprintf(f.name, sizeof(f.name), "%s", mnl_attr_get_str(tb.tb[TCA_BPF_NAME]));
	}
	f.direct_action = flags & TCA_BPF_FLAG_ACT_DIRECT;
	if (tb.tb[TCA_BPF_ACT]) {
		/* Anything but one redirect is still the filter: it just has no redirect to report. */
		r = parse_actions(tb.tb[TCA_BPF_ACT], &f.redirect_ifindex);
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
	}
	f.ifindex = tcm->tcm_ifindex;
	f.parent = tcm->tcm_parent;
	f.handle = tcm->tcm_handle;
	f.prio = info_prio(tcm->tcm_info);
	f.protocol = info_protocol(tcm->tcm_info);
	*ret = f;
	return 0;
}
