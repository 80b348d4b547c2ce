/* Per-workload bandwidth: the daemon's side of tc/ (netd/bandwidth.h, docs/bandwidth.md). */
#include "netd/bandwidth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <net/if.h>

#include "lib/log.h"
#include "netd/netd.h"
#include "overlay/nlsock.h"
#include "overlay/overlay.h"
#include "overlay/rtlink.h"
#include "tc/classify.h"
#include "tc/htb.h"
#include "tc/quota.h"
#include "tc/tcmsg.h"

#define BW_ERRLEN 512
/* Messages per netlink batch; a class message is at most TCMSG_CLASS_MAXLEN bytes. */
#define BW_BATCH_MAX 16
/* The largest quantum, in time at the capacity (see class_msg()). */
#define BW_QUANTUM_CAP_MS 10

struct bw_tree {
	const char *ifb;             /* CLASSIFY_IFB_OUT / CLASSIFY_IFB_IN */
	const char *dir;             /* "egress" / "ingress", for messages */
	uint16_t major;
	int ifindex;
	uint64_t capacity;           /* bit/s, the root class */
	uint64_t reserved;           /* bit/s: admitted guarantees, the low class's included */
	uint64_t qbase;              /* bit/s: the guarantee whose class gets the smallest quantum */
};

struct bandwidth {
	struct bw_tree t[BW_DIRS];
	struct htb_psched ps;
};

/* ---- batches of tc messages, sent in one sendmsg ---- */

struct bw_batch {
	struct nlsock *nl;
	char buf[BW_BATCH_MAX * TCMSG_CLASS_MAXLEN];
	size_t len;
	uint32_t first_seq;
	unsigned n;
	const char *what[BW_BATCH_MAX];
	int tolerate[BW_BATCH_MAX];           /* an -errno that means "already so" for this message, or 0 */
	int err;                              /* the first building error */
};

static void batch_init(struct bw_batch *b, struct nlsock *nl)
{
	b->nl = nl;
	b->len = 0;
	b->n = 0;
	b->err = 0;
}

/* The sequence number the next message must carry. */
static uint32_t batch_seq(struct bw_batch *b)
{
	uint32_t seq = nlsock_next_seq(b->nl);

	if (b->n == 0)
		b->first_seq = seq;
	return seq;
}

/* len: the length of the n messages just built at batch_room() (or a building error).  tolerate:
 * an -errno that means "already so" (-ENOENT for a delete), or 0. */
static void batch_added(struct bw_batch *b, int len, const char *what, int tolerate, unsigned n)
{
	if (len < 0) {
		if (!b->err)
			b->err = len;
		log_error("bandwidth: cannot build %s: %s", what, strerror(-len));
		return;
	}
	for (unsigned i = 0; i < n && b->n < BW_BATCH_MAX; i++) {
		b->what[b->n] = what;
		b->tolerate[b->n] = tolerate;
		b->n++;
	}
	b->len += (size_t)len;
}

static char *batch_room(struct bw_batch *b, size_t *ret_len)
{
	*ret_len = sizeof(b->buf) - b->len;
	return b->buf + b->len;
}

/* Send and wait for every ACK: 0, or the first error with what failed in err. */
static int batch_send(struct bw_batch *b, char err[BW_ERRLEN])
{
	char kerr[NLSOCK_ERRLEN] = "";
	int errs[BW_BATCH_MAX], r;

	if (b->err) {
		snprintf(err, BW_ERRLEN, "cannot build a tc message: %s", strerror(-b->err));
		r = b->err;
		batch_init(b, b->nl);
		return r;
	}
	if (b->n == 0)
		return 0;
	r = nlsock_transact_each(b->nl, b->buf, b->len, b->first_seq, b->n, errs, kerr);
	if (r == -ETIMEDOUT) {
		snprintf(err, BW_ERRLEN, "tc: the kernel did not answer");
	} else {
		r = 0;
		for (unsigned i = 0; i < b->n; i++) {
			if (errs[i] == 0 || (b->tolerate[i] && errs[i] == b->tolerate[i]))
				continue;
			snprintf(err, BW_ERRLEN, "tc: %s: %s%s%s", b->what[i], strerror(-errs[i]), kerr[0] ? ": " : "", kerr);
			r = errs[i];
			break;
		}
	}
	batch_init(b, b->nl);
	return r;
}

/* Flush when the next message might not fit. */
static int batch_make_room(struct bw_batch *b, char err[BW_ERRLEN])
{
	if (b->n < BW_BATCH_MAX && sizeof(b->buf) - b->len >= TCMSG_CLASS_MAXLEN)
		return 0;
	return batch_send(b, err);
}

/* ---- the objects of one tree ---- */

static uint16_t minor_of(const struct manager *m, uint32_t addr)
{
	return (uint16_t)(addr - m->subnet.addr);
}

static uint32_t quantum_cap(const struct bw_tree *t)
{
	uint64_t cap = t->capacity / 8 * BW_QUANTUM_CAP_MS / 1000;

	return cap < HTB_QUANTUM_MIN ? HTB_QUANTUM_MIN : cap > HTB_QUANTUM_MAX ? HTB_QUANTUM_MAX : (uint32_t)cap;
}

static int class_msg(const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor, uint64_t rate, uint64_t ceil,
                     int prio, struct tcmsg_htb_class *ret)
{
	struct htb_class_spec spec = { .minor = minor, .rate = rate, .ceil = ceil, .prio = (uint32_t)prio };
	struct htb_tree one = { .ifindex = t->ifindex, .major = t->major, .root_rate = t->capacity, .classes = &spec,
	                        .nclasses = 1 };
	int r = htb_tree_class(&bw->ps, &one, 0, ret);

	if (r < 0)
		return r;
	/* Spare bandwidth is shared by DRR in quantum-sized turns: proportional to the guarantee, the
	 * smallest explicit guarantee getting the minimum (one GSO packet).  Capped at 10 ms of the
	 * capacity: while one class has its turn the others' queues (15 ms of their ceil) must not
	 * overflow, or loss-based TCP in them backs off and loses its share (measured: with quanta of
	 * MBs, CUBIC got half its share at 1:3; BBR did not care). */
	ret->quantum = htb_quantum(rate, t->qbase);
	if (ret->quantum > quantum_cap(t))
		ret->quantum = quantum_cap(t);
	return 0;
}

static void add_class(struct bw_batch *b, const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor,
                      uint64_t rate, uint64_t ceil, int prio, const char *what)
{
	struct tcmsg_htb_class c;
	struct tcmsg_qdisc leaf = { .ifindex = t->ifindex, .kind = TCMSG_KIND_BFIFO,
	                            .parent = TCMSG_HANDLE(t->major, minor), .bfifo_limit = htb_fifo_limit(ceil) };
	size_t room;
	char *p;
	int r;

	r = class_msg(bw, t, minor, rate, ceil, prio, &c);
	p = batch_room(b, &room);
	batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, batch_seq(b), TCMSG_REPLACE, &c), what, 0, 1);
	p = batch_room(b, &room);
	batch_added(b, tcmsg_build_qdisc(p, room, batch_seq(b), TCMSG_REPLACE, &leaf), what, 0, 1);
}

/* ---- start and stop ---- */

bool bandwidth_enabled(const struct manager *m)
{
	return m->bw != NULL;
}

static int ifb_ensure(struct manager *m, struct bw_tree *t, char err[BW_ERRLEN])
{
	char buf[CLASSIFY_IFB_MAXLEN + 64], kerr[NLSOCK_ERRLEN] = "";
	struct rtlink_info info;
	unsigned failed;
	int r;

	r = overlay_link_get(m->nl, t->ifb, &info);
	if (r == 0 && strcmp(info.kind, "ifb") != 0) {
		snprintf(err, BW_ERRLEN, "%s exists and is not an IFB (kind \"%s\"): rename or remove it", t->ifb, info.kind);
		return -EEXIST;
	}
	if (r == 0 && (info.flags & IFF_UP)) {
		t->ifindex = info.ifindex;
		return 0;
	}
	if (r == 0) {
		uint32_t seq = nlsock_next_seq(m->nl);
		int len = rtlink_build_set_up(buf, sizeof(buf), seq, info.ifindex, NULL);

		r = len < 0 ? len : nlsock_transact(m->nl, buf, (size_t)len, seq, 1, &failed, kerr);
	} else if (r == -ENODEV) {
		uint32_t seq = nlsock_next_seq(m->nl);
		int len = classify_build_ifb(buf, sizeof(buf), seq, t->ifb, true);

		r = len < 0 ? len : nlsock_transact(m->nl, buf, (size_t)len, seq, 1, &failed, kerr);
		if (r == 0)
			log_info("bandwidth: created %s", t->ifb);
	}
	if (r == 0)
		r = overlay_link_get(m->nl, t->ifb, &info);
	if (r < 0) {
		snprintf(err, BW_ERRLEN, "cannot set up %s: %s%s%s", t->ifb, strerror(-r), kerr[0] ? ": " : "", kerr);
		return r;
	}
	t->ifindex = info.ifindex;
	return 0;
}

/* What the kernel has of one tree: the HTB qdisc, and each class by minor. */
struct tree_seen {
	int ifindex;
	uint16_t major;
	bool qdisc;                  /* our HTB at the root */
	bool other_root;             /* some other root qdisc */
	struct tcmsg_htb_class *classes;
	size_t n, cap;
	/* the classifier on the qdisc (classify.h) */
	bool table, link;
	struct classify_ifb_filter link_f;
	size_t others;                /* filters at our priority we never build */
	struct classify_ifb_filter *wl;   /* workload filters */
	size_t nwl, capwl;
	int err;
};

static int qdisc_seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tree_seen *s = data;
	struct tcmsg_qdisc q;

	if (tcmsg_parse_qdisc(nlh, &q) < 0 || q.ifindex != s->ifindex || q.parent != TC_H_ROOT)
		return MNL_CB_OK;
	if (q.kind == TCMSG_KIND_HTB && q.handle == TCMSG_HANDLE(s->major, 0))
		s->qdisc = true;
	else
		s->other_root = true;
	return MNL_CB_OK;
}

static int class_seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tree_seen *s = data;
	struct tcmsg_htb_class c;

	if (tcmsg_parse_htb_class(nlh, &c) < 0 || c.ifindex != s->ifindex || TCMSG_MAJOR(c.classid) != s->major)
		return MNL_CB_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct tcmsg_htb_class *p = realloc(s->classes, cap * sizeof(*p));

		if (!p) {
			s->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		s->classes = p;
		s->cap = cap;
	}
	s->classes[s->n++] = c;
	return MNL_CB_OK;
}

static int filter_seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tree_seen *s = data;
	struct classify_ifb_filter f;

	if (classify_parse_ifb_filter(nlh, &f) < 0)
		return MNL_CB_OK;
	switch (f.kind) {
	case CLASSIFY_IFB_TABLE:
		s->table = f.divisor == CLASSIFY_HASH_DIVISOR;
		if (!s->table)
			s->others++;
		break;
	case CLASSIFY_IFB_LINK:
		s->link = true;
		s->link_f = f;
		break;
	case CLASSIFY_IFB_WORKLOAD:
		if (s->nwl == s->capwl) {
			size_t cap = s->capwl ? s->capwl * 2 : 64;
			struct classify_ifb_filter *p = realloc(s->wl, cap * sizeof(*p));

			if (!p) {
				s->err = -ENOMEM;
				return MNL_CB_ERROR;
			}
			s->wl = p;
			s->capwl = cap;
		}
		s->wl[s->nwl++] = f;
		break;
	case CLASSIFY_IFB_OTHER:
		s->others++;
		break;
	}
	return MNL_CB_OK;
}

static void filter_reset(void *data)
{
	struct tree_seen *s = data;

	s->table = s->link = false;
	s->others = s->nwl = 0;
}

static void seen_reset(void *data)
{
	struct tree_seen *s = data;

	s->qdisc = s->other_root = false;
	s->n = 0;
}

static void seen_free(struct tree_seen *s)
{
	free(s->classes);
	free(s->wl);
}

static int tree_observe(struct manager *m, const struct bw_tree *t, struct tree_seen *s, char err[BW_ERRLEN])
{
	char buf[256], kerr[NLSOCK_ERRLEN] = "";
	int r;

	memset(s, 0, sizeof(*s));
	s->ifindex = t->ifindex;
	s->major = t->major;
	r = tcmsg_build_qdisc_dump(buf, sizeof(buf), 0, t->ifindex);
	if (r >= 0)
		r = nlsock_query(m->nl, buf, qdisc_seen_cb, seen_reset, s, kerr);
	if (r >= 0) {
		bool q = s->qdisc, o = s->other_root;

		r = tcmsg_build_class_dump(buf, sizeof(buf), 0, t->ifindex);
		if (r >= 0)
			r = nlsock_query(m->nl, buf, class_seen_cb, seen_reset, s, kerr);
		s->qdisc = q;
		s->other_root = o;
	}
	if (r >= 0 && s->qdisc) {
		r = tcmsg_build_filter_dump(buf, sizeof(buf), 0, t->ifindex, TCMSG_HANDLE(t->major, 0));
		if (r >= 0)
			r = nlsock_query(m->nl, buf, filter_seen_cb, filter_reset, s, kerr);
	}
	if (r >= 0 && s->err)
		r = s->err;
	if (r < 0)
		snprintf(err, BW_ERRLEN, "cannot read the tc objects of %s: %s%s%s", t->ifb, strerror(-r), kerr[0] ? ": " : "",
		         kerr);
	return r < 0 ? r : 0;
}

static const struct tcmsg_htb_class *seen_class(const struct tree_seen *s, uint16_t minor)
{
	for (size_t i = 0; i < s->n; i++)
		if (TCMSG_MINOR(s->classes[i].classid) == minor)
			return &s->classes[i];
	return NULL;
}

/* Does the kernel's class say what we would send?  (Tables are not reported back.) */
static bool class_same(const struct tcmsg_htb_class *want, const struct tcmsg_htb_class *have)
{
	return have->rate == want->rate && have->ceil == want->ceil && have->prio == want->prio &&
	       have->quantum == want->quantum && have->buffer == want->buffer && have->cbuffer == want->cbuffer &&
	       have->parent == want->parent;
}

/* The qdisc, the root class, the low class with its leaf, the hash table and its link.  Adopts a
 * tree that is already right; replaces the root qdisc only when it is not ours (which resets
 * whatever was there). */
static int tree_ensure(struct manager *m, struct bw_tree *t, bool from_workload, bool *flushed, char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	struct htb_class_spec low = { .minor = BW_LOW_MINOR, .rate = m->cfg.bandwidth.default_guarantee,
	                              .prio = HTB_PRIO_MAX };
	struct htb_tree tree = { .ifindex = t->ifindex, .major = t->major, .root_rate = t->capacity,
	                         .default_minor = BW_LOW_MINOR, .classes = &low, .nclasses = 1 };
	struct tcmsg_htb_class root, lowc;
	const struct tcmsg_htb_class *have;
	struct tcmsg_qdisc q;
	struct tree_seen s;
	struct bw_batch *b;
	size_t room;
	char *p;
	int r;

	r = tree_observe(m, t, &s, err);
	if (r < 0)
		return r;
	b = malloc(sizeof(*b));
	if (!b) {
		seen_free(&s);
		snprintf(err, BW_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	batch_init(b, m->nl);
	if (!s.qdisc) {
		if (s.other_root)
			log_warn("bandwidth: replacing the root qdisc of %s", t->ifb);
		r = htb_tree_qdisc(&tree, &q);
		p = batch_room(b, &room);
		batch_added(b, r < 0 ? r : tcmsg_build_qdisc(p, room, batch_seq(b), TCMSG_REPLACE, &q), "HTB qdisc", 0, 1);
		s.n = 0;   /* a new qdisc has no classes */
	}
	r = htb_tree_root_class(&bw->ps, &tree, &root);
	have = seen_class(&s, HTB_ROOT_MINOR);
	if (r < 0 || !have || !class_same(&root, have)) {
		p = batch_room(b, &room);
		batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, batch_seq(b), TCMSG_REPLACE, &root), "root class",
		            false, 1);
	}
	r = class_msg(bw, t, BW_LOW_MINOR, low.rate, t->capacity, HTB_PRIO_MAX, &lowc);
	have = seen_class(&s, BW_LOW_MINOR);
	if (r < 0 || !have || !class_same(&lowc, have))
		add_class(b, bw, t, BW_LOW_MINOR, low.rate, t->capacity, HTB_PRIO_MAX, "class for unclassified traffic");
	/* The classifier: a table and a link into it for our subnet.  The kernel cannot change a table
	 * or a link's selector, so a wrong one (another subnet, something we never build at our
	 * priority) means flushing the priority and building it again; the workloads' filters come
	 * back with the next reconcile step. */
	if (s.qdisc && (s.others || (s.link && (s.link_f.addr != m->subnet.addr || s.link_f.prefix_len != m->subnet.len ||
	                                         s.link_f.from_workload != from_workload)))) {
		log_warn("bandwidth: rebuilding the classifier of %s", t->ifb);
		p = batch_room(b, &room);
		batch_added(b, classify_build_hash_flush(p, room, batch_seq(b), t->ifindex, t->major), "classifier flush",
		            -ENOENT, 1);
		s.table = s.link = false;
		*flushed = true;
	}
	if (!s.qdisc || !s.table) {
		p = batch_room(b, &room);
		batch_added(b, classify_build_hash_table(p, room, batch_seq(b), TCMSG_ADD, t->ifindex, t->major),
		            "classifier hash table", -EEXIST, 1);
	}
	if (!s.qdisc || !s.link) {
		p = batch_room(b, &room);
		batch_added(b, classify_build_hash_link(p, room, batch_seq(b), TCMSG_ADD, t->ifindex, t->major,
		                                        m->subnet.addr, m->subnet.len, from_workload),
		            "classifier hash link", -EEXIST, 1);
	}
	r = batch_send(b, err);
	free(b);
	seen_free(&s);
	if (r < 0)
		return r;
	if (!s.qdisc) {
		char cap[QUOTA_RATE_STRLEN];

		quota_format_rate(t->capacity, cap);
		log_info("bandwidth: %s tree on %s at %s", t->dir, t->ifb, cap);
	}
	return 0;
}

/* Without "bandwidth": no IFB of ours, no redirect on any veth (a redirect to a missing device
 * drops every packet). */
static void bandwidth_remove_all(struct manager *m)
{
	static const char *const ifbs[] = { CLASSIFY_IFB_OUT, CLASSIFY_IFB_IN };
	char err[OVERLAY_ERRLEN];
	struct rtlink_info info;

	/* Nothing to do unless an earlier configuration shaped (the common case costs two lookups). */
	if (overlay_link_get(m->nl, ifbs[0], &info) != 0 && overlay_link_get(m->nl, ifbs[1], &info) != 0)
		return;
	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			char buf[TCMSG_QDISC_MAXLEN], kerr[NLSOCK_ERRLEN];
			uint32_t seq;
			unsigned failed;
			int len;

			if (a->host_ifindex <= 0)
				continue;
			seq = nlsock_next_seq(m->nl);
			len = classify_build_clsact(buf, sizeof(buf), seq, TCMSG_DEL, a->host_ifindex);
			if (len > 0)
				(void)nlsock_transact(m->nl, buf, (size_t)len, seq, 1, &failed, kerr);
		}
	for (size_t i = 0; i < 2; i++) {
		if (overlay_link_get(m->nl, ifbs[i], &info) != 0)
			continue;
		if (overlay_link_del(m->nl, ifbs[i], err) < 0)
			log_warn("bandwidth: cannot remove %s: %s", ifbs[i], err);
		else
			log_info("bandwidth: removed %s (\"bandwidth\" is not configured)", ifbs[i]);
	}
}

int bandwidth_start(struct manager *m, char err[BW_ERRLEN])
{
	struct bandwidth *bw;
	int r;

	if (!m->cfg.bandwidth.set)
		return 0;
	bw = calloc(1, sizeof(*bw));
	if (!bw) {
		snprintf(err, BW_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	r = htb_psched_read(&bw->ps);
	if (r < 0) {
		log_warn("bandwidth: cannot read /proc/net/psched (%s); assuming 64 ns ticks", strerror(-r));
		bw->ps = (struct htb_psched)HTB_PSCHED_DEFAULT;
	}
	bw->t[BW_EGRESS] = (struct bw_tree){ .ifb = CLASSIFY_IFB_OUT, .dir = "egress", .major = BW_IFB_MAJOR_EGRESS,
	                                     .capacity = m->cfg.bandwidth.egress,
	                                     .qbase = m->cfg.bandwidth.default_guarantee };
	bw->t[BW_INGRESS] = (struct bw_tree){ .ifb = CLASSIFY_IFB_IN, .dir = "ingress", .major = BW_IFB_MAJOR_INGRESS,
	                                      .capacity = m->cfg.bandwidth.ingress,
	                                      .qbase = m->cfg.bandwidth.default_guarantee };
	m->bw = bw;
	for (int d = 0; d < BW_DIRS; d++) {
		r = ifb_ensure(m, &bw->t[d], err);
		if (r == 0)
			r = tree_ensure(m, &bw->t[d], d == BW_EGRESS, &(bool){ false }, err);
		if (r < 0) {
			free(bw);
			m->bw = NULL;
			return r;
		}
		bw->t[d].reserved = m->cfg.bandwidth.default_guarantee;   /* the low class */
	}
	return 0;
}

void bandwidth_stop(struct manager *m)
{
	/* The trees stay: traffic keeps being shaped while shoald is down or restarting. */
	free(m->bw);
	m->bw = NULL;
}

/* ---- admission ---- */

int bandwidth_admit(struct manager *m, const struct request_bandwidth *want, const char *name,
                    const struct attachment *self, struct bw_share *ret, char err[BW_ERRLEN])
{
	const struct request_bandwidth_dir *w[BW_DIRS] = { &want->egress, &want->ingress };
	struct bandwidth *bw = m->bw;

	memset(ret, 0, sizeof(*ret));
	if (!bw)
		return 0;
	for (int d = 0; d < BW_DIRS; d++) {
		struct quota_pool pool = { .capacity = bw->t[d].capacity, .reserved = bw->t[d].reserved,
		                           .default_guarantee = m->cfg.bandwidth.default_guarantee };
		struct quota_want q = { .guarantee = w[d]->guarantee, .limit = w[d]->limit }, got;
		char qerr[QUOTA_ERRLEN];
		int r;

		if (self && self->bw.on)
			pool.reserved -= self->bw.guarantee[d];
		r = quota_admit(&pool, bw->t[d].dir, name, &q, &got, qerr);
		if (r < 0) {
			snprintf(err, BW_ERRLEN, "%s", qerr);
			return r;
		}
		ret->guarantee[d] = got.guarantee;
		ret->limit[d] = got.limit;
	}
	ret->priority = want->priority >= 0 ? want->priority : m->cfg.bandwidth.default_priority;
	ret->on = true;
	return 0;
}

/* ---- one workload ---- */

static void account(struct manager *m, const struct bw_share *s, bool add)
{
	for (int d = 0; d < BW_DIRS; d++) {
		if (add)
			m->bw->t[d].reserved += s->guarantee[d];
		else
			m->bw->t[d].reserved -= s->guarantee[d];
	}
}

static void add_classifier(struct bw_batch *b, struct manager *m, const struct bw_tree *t, uint32_t addr,
                           enum tcmsg_op op)
{
	bool out = t->major == BW_IFB_MAJOR_EGRESS;
	size_t room;
	char *p = batch_room(b, &room);

	batch_added(b, classify_build_workload(p, room, batch_seq(b), op, t->ifindex, t->major, m->subnet.addr,
	                                       m->subnet.len, addr, out, TCMSG_HANDLE(t->major, minor_of(m, addr))),
	            out ? "egress classifier" : "ingress classifier", op == TCMSG_DEL ? -ENOENT : 0, 1);
}

/* clsact on a's host veth with the redirects to both IFBs (and the same-host exemption). */
static void add_veth(struct bw_batch *b, struct manager *m, const struct attachment *a)
{
	struct bandwidth *bw = m->bw;
	unsigned n = classify_veth_msgs(m->cfg.bandwidth.exempt_local);
	size_t room;
	char *p = batch_room(b, &room);
	uint32_t seq = batch_seq(b);

	/* Several messages with consecutive sequence numbers: reserve them. */
	for (unsigned i = 1; i < n; i++)
		(void)nlsock_next_seq(m->nl);
	int len = classify_build_veth(p, room, seq, a->host_ifindex, bw->t[BW_EGRESS].ifindex, bw->t[BW_INGRESS].ifindex,
	                              m->cfg.bandwidth.exempt_local, m->subnet.addr, m->subnet.len);

	/* The clsact is replaced in place (kept); each filter has a fixed node, so one that is there
	 * already answers ENOSPC: present, not a duplicate. */
	batch_added(b, len, "veth clsact", 0, 1);
	if (len > 0)
		batch_added(b, 0, "veth redirect", -ENOSPC, n - 1);
}

/* Both classes (with leaves) and both classifiers of a, then (with_veth) its veth's redirects. */
static int workload_objects(struct manager *m, const struct attachment *a, const struct bw_share *s, bool with_veth,
                            char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	uint16_t minor = minor_of(m, a->rec.addr);
	struct bw_batch *b = malloc(sizeof(*b));
	int r;

	if (!b) {
		snprintf(err, BW_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	batch_init(b, m->nl);
	for (int d = 0; d < BW_DIRS; d++) {
		add_class(b, bw, &bw->t[d], minor, s->guarantee[d], s->limit[d], s->priority,
		          d == BW_EGRESS ? "egress class" : "ingress class");
		add_classifier(b, m, &bw->t[d], a->rec.addr, TCMSG_REPLACE);
	}
	if (with_veth)
		add_veth(b, m, a);
	r = batch_send(b, err);
	free(b);
	return r;
}

/* The smallest guarantee a workload asked for in direction d, which gets the smallest quantum; the
 * default guarantee when nobody asked for one (best-effort classes get the smallest quantum
 * anyway, and counting them would scale every other quantum up by their small rate). */
static uint64_t qbase_of(const struct manager *m, int d)
{
	uint64_t base = 0;

	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (const struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			const struct request_bandwidth_dir *asked = d == BW_EGRESS ? &a->rec.bandwidth.egress
			                                                           : &a->rec.bandwidth.ingress;

			if (!a->deleting && a->bw.on && asked->guarantee && (!base || a->bw.guarantee[d] < base))
				base = a->bw.guarantee[d];
		}
	return base ? base : m->cfg.bandwidth.default_guarantee;
}

/* After a workload came, went or changed: when the smallest explicit guarantee moved, every class's
 * quantum moves with it (changed in place, counters kept). */
static void qbase_refresh(struct manager *m)
{
	struct bandwidth *bw = m->bw;
	struct bw_batch *b = NULL;
	char err[BW_ERRLEN];

	for (int d = 0; d < BW_DIRS; d++) {
		struct bw_tree *t = &bw->t[d];
		uint64_t base = qbase_of(m, d);

		if (base == t->qbase)
			continue;
		t->qbase = base;
		if (!b && !(b = malloc(sizeof(*b))))
			return;   /* the next reconcile sees the quanta differ */
		batch_init(b, m->nl);
		for (size_t i = 0; i < ATT_BUCKETS; i++)
			for (const struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
				struct tcmsg_htb_class c;
				size_t room;
				char *p;
				int r;

				if (a->deleting || !a->bw.on)
					continue;
				if (batch_make_room(b, err) < 0)
					log_warn("bandwidth: %s", err);
				r = class_msg(bw, t, minor_of(m, a->rec.addr), a->bw.guarantee[d], a->bw.limit[d], a->bw.priority,
				              &c);
				p = batch_room(b, &room);
				batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, batch_seq(b), TCMSG_REPLACE, &c),
				            "class quantum", 0, 1);
			}
		if (batch_send(b, err) < 0)
			log_warn("bandwidth: %s; the next reconcile retries", err);
	}
	free(b);
}

int bandwidth_attach(struct manager *m, struct attachment *a, char err[BW_ERRLEN])
{
	int r;

	if (!m->bw || !a->bw.on)
		return 0;
	account(m, &a->bw, true);
	a->bw_counted = true;
	r = workload_objects(m, a, &a->bw, true, err);
	if (r == 0)
		qbase_refresh(m);
	return r;
}

int bandwidth_change(struct manager *m, struct attachment *a, const struct bw_share *share, char err[BW_ERRLEN])
{
	int r;

	if (!m->bw)
		return -EOPNOTSUPP;
	r = workload_objects(m, a, share, !a->bw.on, err);
	/* The share is the workload's from now on even when the kernel refused part of it: the record
	 * already says so, and the next reconcile makes the classes follow. */
	if (a->bw_counted)
		account(m, &a->bw, false);
	a->bw = *share;
	account(m, &a->bw, true);
	a->bw_counted = true;
	if (r == 0)
		qbase_refresh(m);
	return r;
}

void bandwidth_detach(struct manager *m, struct attachment *a)
{
	struct bandwidth *bw = m->bw;
	uint16_t minor;
	struct bw_batch *b;
	char err[BW_ERRLEN];
	size_t room;
	char *p;

	if (!bw || !a->bw_counted)
		return;
	account(m, &a->bw, false);
	a->bw_counted = false;
	b = malloc(sizeof(*b));
	if (!b)
		return;   /* the next reconcile removes them */
	minor = minor_of(m, a->rec.addr);
	batch_init(b, m->nl);
	for (int d = 0; d < BW_DIRS; d++) {
		struct bw_tree *t = &bw->t[d];
		struct tcmsg_htb_class c = { .ifindex = t->ifindex, .parent = TCMSG_HANDLE(t->major, HTB_ROOT_MINOR),
		                             .classid = TCMSG_HANDLE(t->major, minor) };

		/* The classifier first: a class that a filter still points to cannot be deleted. */
		add_classifier(b, m, t, a->rec.addr, TCMSG_DEL);
		p = batch_room(b, &room);
		batch_added(b, tcmsg_build_htb_class(p, room, batch_seq(b), TCMSG_DEL, &c), "class", -ENOENT, 1);
	}
	if (batch_send(b, err) < 0)
		log_warn("bandwidth: removing the classes of %s: %s; the next reconcile retries", a->rec.host_veth, err);
	free(b);
	qbase_refresh(m);
}

/* ---- reconcile ---- */

/* The interfaces that have a clsact qdisc, from one dump of every device's qdiscs. */
struct ifset {
	int *v;
	size_t n, cap;
};

static bool ifset_has(const struct ifset *s, int ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ifindex)
			return true;
	return false;
}

static int clsact_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifset *s = data;
	struct tcmsg_qdisc q;

	if (tcmsg_parse_qdisc(nlh, &q) < 0 || q.kind != TCMSG_KIND_CLSACT)
		return MNL_CB_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return MNL_CB_ERROR;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = q.ifindex;
	return MNL_CB_OK;
}

static void clsact_reset(void *data)
{
	((struct ifset *)data)->n = 0;
}

static void veths_with_clsact(struct manager *m, struct ifset *s)
{
	char buf[256], kerr[NLSOCK_ERRLEN];

	if (tcmsg_build_qdisc_dump(buf, sizeof(buf), 0, 0) >= 0)
		(void)nlsock_query(m->nl, buf, clsact_cb, clsact_reset, s, kerr);
}

struct want_minor {
	uint16_t minor;
	const struct attachment *a;
};

static int cmp_minor(const void *x, const void *y)
{
	const struct want_minor *a = x, *b = y;

	return (int)a->minor - (int)b->minor;
}

void bandwidth_reconcile(struct manager *m, bool startup)
{
	struct bandwidth *bw = m->bw;
	struct want_minor *want = NULL;
	struct bw_batch *b = NULL;
	struct ifset clsact = { 0 };
	char err[BW_ERRLEN];
	size_t n = 0;

	if (!bw) {
		if (startup)
			bandwidth_remove_all(m);
		return;
	}
	/* Recount: every active attachment's share, decided again from its record (a capacity that
	 * shrank across a restart can no longer keep every promise: say so, keep the workloads). */
	for (int d = 0; d < BW_DIRS; d++)
		bw->t[d].reserved = m->cfg.bandwidth.default_guarantee;
	want = calloc(m->n_total + 1, sizeof(*want));
	b = malloc(sizeof(*b));
	if (!want || !b)
		goto out;
	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			if (a->deleting) {
				a->bw_counted = false;
				continue;
			}
			if (!a->bw.on) {
				if (bandwidth_admit(m, &a->rec.bandwidth, a->rec.host_veth, NULL, &a->bw, err) < 0) {
					log_error("bandwidth: %s: %s; it keeps a best-effort share", a->rec.host_veth, err);
					bandwidth_admit(m, &(struct request_bandwidth){ .priority = -1 }, a->rec.host_veth, NULL,
					                &a->bw, err);
				}
			}
			account(m, &a->bw, true);
			a->bw_counted = true;
			if (n < m->n_total + 1)
				want[n++] = (struct want_minor){ .minor = minor_of(m, a->rec.addr), .a = a };
		}
	for (int d = 0; d < BW_DIRS; d++)
		if (bw->t[d].reserved > bw->t[d].capacity) {
			char r1[QUOTA_RATE_STRLEN], r2[QUOTA_RATE_STRLEN];

			quota_format_rate(bw->t[d].reserved, r1);
			quota_format_rate(bw->t[d].capacity, r2);
			log_error("bandwidth: %s guarantees (%s) exceed the capacity %s: not every guarantee can hold",
			          bw->t[d].dir, r1, r2);
		}
	for (int d = 0; d < BW_DIRS; d++)
		bw->t[d].qbase = qbase_of(m, d);
	qsort(want, n, sizeof(*want), cmp_minor);
	batch_init(b, m->nl);
	for (int d = 0; d < BW_DIRS; d++) {
		struct bw_tree *t = &bw->t[d];
		bool flushed = false;
		struct tree_seen s;

		if (ifb_ensure(m, t, err) < 0 || tree_ensure(m, t, d == BW_EGRESS, &flushed, err) < 0 ||
		    tree_observe(m, t, &s, err) < 0) {
			log_error("bandwidth: %s", err);
			continue;
		}
		/* Classifiers of workloads that no longer exist, first: a class a filter points to
		 * cannot be deleted. */
		for (size_t i = 0; i < s.nwl; i++) {
			struct want_minor key = { .minor = minor_of(m, s.wl[i].addr) };

			if (cidr4_contains(&m->subnet, s.wl[i].addr) && bsearch(&key, want, n, sizeof(*want), cmp_minor))
				continue;
			if (batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			add_classifier(b, m, t, s.wl[i].addr, TCMSG_DEL);
		}
		/* Classes of workloads that no longer exist. */
		for (size_t i = 0; i < s.n; i++) {
			uint16_t minor = TCMSG_MINOR(s.classes[i].classid);
			struct want_minor key = { .minor = minor };
			struct tcmsg_htb_class c = s.classes[i];
			size_t room;
			char *p;

			if (minor == HTB_ROOT_MINOR || minor == BW_LOW_MINOR ||
			    bsearch(&key, want, n, sizeof(*want), cmp_minor))
				continue;
			if (batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			p = batch_room(b, &room);
			batch_added(b, tcmsg_build_htb_class(p, room, batch_seq(b), TCMSG_DEL, &c), "stale class", -ENOENT, 1);
			log_info("bandwidth: removing %s class %x:%x of a workload that is gone", t->dir, t->major, minor);
		}
		/* Missing or different classes, then missing or wrong classifiers. */
		for (size_t i = 0; i < n; i++) {
			const struct attachment *a = want[i].a;
			const struct tcmsg_htb_class *have = seen_class(&s, want[i].minor);
			struct tcmsg_htb_class c;

			if (class_msg(bw, t, want[i].minor, a->bw.guarantee[d], a->bw.limit[d], a->bw.priority, &c) == 0 &&
			    have && class_same(&c, have))
				continue;
			if (!startup)
				log_warn("bandwidth: repairing the %s class of %s", t->dir, a->rec.host_veth);
			if (batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			add_class(b, bw, t, want[i].minor, a->bw.guarantee[d], a->bw.limit[d], a->bw.priority, "class");
		}
		for (size_t i = 0; i < n; i++) {
			const struct attachment *a = want[i].a;
			bool right = false;

			for (size_t k = 0; !flushed && k < s.nwl && !right; k++)
				right = s.wl[k].addr == a->rec.addr && s.wl[k].classid == TCMSG_HANDLE(t->major, want[i].minor);
			if (right)
				continue;
			if (!startup && !flushed)
				log_warn("bandwidth: repairing the %s classifier of %s", t->dir, a->rec.host_veth);
			if (batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			add_classifier(b, m, t, a->rec.addr, TCMSG_REPLACE);
		}
		if (batch_send(b, err) < 0)
			log_warn("bandwidth: %s", err);
		seen_free(&s);
	}
	/* Veth redirects: where the veth has no clsact (a veth made while "bandwidth" was off, or
	 * someone removed it). */
	veths_with_clsact(m, &clsact);
	for (size_t i = 0; i < n; i++) {
		const struct attachment *a = want[i].a;

		if (a->host_ifindex > 0 && !ifset_has(&clsact, a->host_ifindex)) {
			if (!startup)
				log_warn("bandwidth: repairing the redirects of %s", a->rec.host_veth);
			if (batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			add_veth(b, m, a);
		}
	}
	if (batch_send(b, err) < 0)
		log_warn("bandwidth: %s", err);
	free(clsact.v);
out:
	free(want);
	free(b);
}

/* ---- the API's view ---- */

/* One class of a tree, by minor. */
struct bw_minor_counters {
	uint16_t minor;
	struct bw_counters c;
};

struct bw_snapshot_tree {
	int ifindex;
	uint16_t major;
	struct bw_minor_counters *v;
	size_t n, cap;
	int err;
};

struct bw_snapshot {
	struct bw_snapshot_tree t[BW_DIRS];
	uint32_t subnet;             /* the node's subnet address: a workload's minor is its offset */
};

static int snapshot_class_cb(const struct nlmsghdr *nlh, void *data)
{
	struct bw_snapshot_tree *t = data;
	struct bw_minor_counters *e;
	struct tcmsg_htb_class c;

	if (tcmsg_parse_htb_class(nlh, &c) < 0 || c.ifindex != t->ifindex || TCMSG_MAJOR(c.classid) != t->major)
		return MNL_CB_OK;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct bw_minor_counters *p = realloc(t->v, cap * sizeof(*p));

		if (!p) {
			t->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		t->v = p;
		t->cap = cap;
	}
	e = &t->v[t->n++];
	e->minor = (uint16_t)TCMSG_MINOR(c.classid);
	e->c = (struct bw_counters){
		.bytes = c.stats.bytes,
		.packets = c.stats.packets,
		.drops = c.stats.drops,
		.overlimits = c.stats.overlimits,
		.borrows = c.stats.borrows,
		.rate = c.rate * 8,      /* the kernel's are bytes/s */
		.ceil = c.ceil * 8,
	};
	return MNL_CB_OK;
}

static void snapshot_reset(void *data)
{
	struct bw_snapshot_tree *t = data;

	t->n = 0;
}

static int cmp_minor_counters(const void *x, const void *y)
{
	const struct bw_minor_counters *a = x, *b = y;

	return (a->minor > b->minor) - (a->minor < b->minor);
}

void bandwidth_snapshot_free(struct bw_snapshot *s)
{
	if (!s)
		return;
	for (int d = 0; d < BW_DIRS; d++)
		free(s->t[d].v);
	free(s);
}

/* The HTB classes report drops themselves (htb_enqueue() counts the leaf's refusals on the class,
 * seen on 6.18), so the class dump is all we need: no qdisc dump for the bfifo leaves. */
int bandwidth_snapshot(struct manager *m, struct bw_snapshot **ret, char err[BW_ERRLEN])
{
	struct bw_snapshot *s;
	int r = 0;

	if (!m->bw) {
		snprintf(err, BW_ERRLEN, "bandwidth is not configured on this node");
		return -ENODEV;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, BW_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	s->subnet = m->subnet.addr;
	for (int d = 0; d < BW_DIRS && r >= 0; d++) {
		const struct bw_tree *t = &m->bw->t[d];
		struct bw_snapshot_tree *st = &s->t[d];
		char buf[256], kerr[NLSOCK_ERRLEN] = "";

		st->ifindex = t->ifindex;
		st->major = t->major;
		r = tcmsg_build_class_dump(buf, sizeof(buf), 0, t->ifindex);
		if (r >= 0)
			r = nlsock_query(m->nl, buf, snapshot_class_cb, snapshot_reset, st, kerr);
		if (r >= 0 && st->err)
			r = st->err;
		if (r < 0) {
			snprintf(err, BW_ERRLEN, "cannot read the class counters of %s: %s%s%s", t->ifb, strerror(-r),
			         kerr[0] ? ": " : "", kerr);
			break;
		}
		qsort(st->v, st->n, sizeof(*st->v), cmp_minor_counters);
	}
	if (r < 0) {
		bandwidth_snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

const struct bw_counters *bandwidth_snapshot_get(const struct bw_snapshot *s, const struct attachment *a,
                                                 enum bw_dir d)
{
	struct bw_minor_counters key = { .minor = (uint16_t)(a->rec.addr - s->subnet) };
	const struct bw_minor_counters *e;

	if ((unsigned)d >= BW_DIRS || !s->t[d].n)
		return NULL;
	e = bsearch(&key, s->t[d].v, s->t[d].n, sizeof(*e), cmp_minor_counters);
	return e ? &e->c : NULL;
}

static json_t *counters_json(const struct bw_counters *c)
{
	if (!c)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "bytes", (json_int_t)c->bytes, "packets",
	                 (json_int_t)c->packets, "drops", (json_int_t)c->drops, "overlimits", (json_int_t)c->overlimits,
	                 "borrows", (json_int_t)c->borrows, "rateBitRate", (json_int_t)c->rate, "ceilBitRate",
	                 (json_int_t)c->ceil);
}

json_t *bandwidth_counters_json(const struct bw_snapshot *s, const struct attachment *a)
{
	if (!a->bw.on)
		return json_null();
	return json_pack("{s:o, s:o}", "ingress", counters_json(bandwidth_snapshot_get(s, a, BW_INGRESS)), "egress",
	                 counters_json(bandwidth_snapshot_get(s, a, BW_EGRESS)));
}

json_t *bandwidth_share_json(const struct bw_share *s)
{
	char g[2][QUOTA_RATE_STRLEN], l[2][QUOTA_RATE_STRLEN];

	if (!s->on)
		return json_null();
	for (int d = 0; d < BW_DIRS; d++) {
		quota_format_rate(s->guarantee[d], g[d]);
		quota_format_rate(s->limit[d], l[d]);
	}
	return json_pack("{s:{s:s, s:s, s:I, s:I}, s:{s:s, s:s, s:I, s:I}, s:i}",
	                 "ingress", "guarantee", g[BW_INGRESS], "limit", l[BW_INGRESS],
	                 "guaranteeBitRate", (json_int_t)s->guarantee[BW_INGRESS], "limitBitRate", (json_int_t)s->limit[BW_INGRESS],
	                 "egress", "guarantee", g[BW_EGRESS], "limit", l[BW_EGRESS],
	                 "guaranteeBitRate", (json_int_t)s->guarantee[BW_EGRESS], "limitBitRate", (json_int_t)s->limit[BW_EGRESS],
	                 "priority", s->priority);
}

json_t *bandwidth_status(const struct manager *m)
{
	json_t *o;

	if (!m->bw)
		return NULL;
	o = json_object();
	for (int d = 0; o && d < BW_DIRS; d++) {
		const struct bw_tree *t = &m->bw->t[d];
		uint64_t free_bps = t->capacity > t->reserved ? t->capacity - t->reserved : 0;
		char c[QUOTA_RATE_STRLEN], r[QUOTA_RATE_STRLEN], f[QUOTA_RATE_STRLEN];

		quota_format_rate(t->capacity, c);
		quota_format_rate(t->reserved, r);
		quota_format_rate(free_bps, f);
		json_object_set_new(o, t->dir, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "device", t->ifb,
		                                         "capacity", c, "committed", r, "free", f,
		                                         "capacityBitRate", (json_int_t)t->capacity,
		                                         "committedBitRate", (json_int_t)t->reserved,
		                                         "freeBitRate", (json_int_t)free_bps));
	}
	return o;
}
