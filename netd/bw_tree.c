/* The IFBs shoal-out and shoal-in and their HTB trees (netd/bw_int.h, docs/bandwidth.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <net/if.h>

#include "lib/log.h"
#include "netd/bw_int.h"
#include "overlay/nlsock.h"
#include "overlay/overlay.h"
#include "overlay/rtlink.h"
#include "tc/quota.h"

/* The largest quantum, in time at the capacity (see bw_tree_class()). */
#define BW_QUANTUM_CAP_MS 10

static const char *const ifbs[] = { CLASSIFY_IFB_OUT, CLASSIFY_IFB_IN };

/* ---- a class in a tree ---- */

static uint32_t quantum_cap(const struct bw_tree *t)
{
	uint64_t cap = t->capacity / 8 * BW_QUANTUM_CAP_MS / 1000;

	return cap < HTB_QUANTUM_MIN ? HTB_QUANTUM_MIN : cap > HTB_QUANTUM_MAX ? HTB_QUANTUM_MAX : (uint32_t)cap;
}

int bw_tree_class(const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor, uint64_t rate, uint64_t ceil,
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

void bw_tree_add_class(struct bw_batch *b, const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor,
                       uint64_t rate, uint64_t ceil, int prio, const char *what)
{
	struct tcmsg_htb_class c;
	struct tcmsg_qdisc leaf = { .ifindex = t->ifindex, .kind = TCMSG_KIND_BFIFO,
	                            .parent = TCMSG_HANDLE(t->major, minor), .bfifo_limit = htb_fifo_limit(ceil) };
	size_t room;
	char *p;
	int r;

	r = bw_tree_class(bw, t, minor, rate, ceil, prio, &c);
	p = bw_batch_room(b, &room);
	bw_batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, bw_batch_seq(b), TCMSG_REPLACE, &c), what, 0, 1);
	p = bw_batch_room(b, &room);
	bw_batch_added(b, tcmsg_build_qdisc(p, room, bw_batch_seq(b), TCMSG_REPLACE, &leaf), what, 0, 1);
}

void bw_tree_del_class(struct bw_batch *b, const struct bw_tree *t, uint16_t minor)
{
	struct tcmsg_htb_class c = { .ifindex = t->ifindex, .parent = TCMSG_HANDLE(t->major, HTB_ROOT_MINOR),
	                             .classid = TCMSG_HANDLE(t->major, minor) };
	size_t room;
	char *p = bw_batch_room(b, &room);

	bw_batch_added(b, tcmsg_build_htb_class(p, room, bw_batch_seq(b), TCMSG_DEL, &c), "class", -ENOENT, 1);
}

/* ---- the IFBs ---- */

int bw_tree_ifb_ensure(struct manager *m, struct bw_tree *t, char err[BW_ERRLEN])
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

bool bw_tree_ifb_exists(struct manager *m)
{
	struct rtlink_info info;

	return overlay_link_get(m->nl, ifbs[0], &info) == 0 || overlay_link_get(m->nl, ifbs[1], &info) == 0;
}

void bw_tree_ifb_remove(struct manager *m)
{
	char err[OVERLAY_ERRLEN];
	struct rtlink_info info;

	for (size_t i = 0; i < 2; i++) {
		if (overlay_link_get(m->nl, ifbs[i], &info) != 0)
			continue;
		if (overlay_link_del(m->nl, ifbs[i], err) < 0)
			log_warn("bandwidth: cannot remove %s: %s", ifbs[i], err);
		else
			log_info("bandwidth: removed %s (\"bandwidth\" is not configured)", ifbs[i]);
	}
}

/* ---- what the kernel has ---- */

static int qdisc_seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct bw_tree_seen *s = data;
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
	struct bw_tree_seen *s = data;
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
	struct bw_tree_seen *s = data;
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
	struct bw_tree_seen *s = data;

	s->table = s->link = false;
	s->others = s->nwl = 0;
}

static void seen_reset(void *data)
{
	struct bw_tree_seen *s = data;

	s->qdisc = s->other_root = false;
	s->n = 0;
}

void bw_tree_seen_free(struct bw_tree_seen *s)
{
	free(s->classes);
	free(s->wl);
}

int bw_tree_observe(struct manager *m, const struct bw_tree *t, struct bw_tree_seen *ret, char err[BW_ERRLEN])
{
	char buf[256], kerr[NLSOCK_ERRLEN] = "";
	struct bw_tree_seen s = { .ifindex = t->ifindex, .major = t->major };
	int r;

	r = tcmsg_build_qdisc_dump(buf, sizeof(buf), 0, t->ifindex);
	if (r >= 0)
		r = nlsock_query(m->nl, buf, qdisc_seen_cb, seen_reset, &s, kerr);
	if (r >= 0) {
		bool q = s.qdisc, o = s.other_root;

		r = tcmsg_build_class_dump(buf, sizeof(buf), 0, t->ifindex);
		if (r >= 0)
			r = nlsock_query(m->nl, buf, class_seen_cb, seen_reset, &s, kerr);
		s.qdisc = q;
		s.other_root = o;
	}
	if (r >= 0 && s.qdisc) {
		r = tcmsg_build_filter_dump(buf, sizeof(buf), 0, t->ifindex, TCMSG_HANDLE(t->major, 0));
		if (r >= 0)
			r = nlsock_query(m->nl, buf, filter_seen_cb, filter_reset, &s, kerr);
	}
	if (r >= 0 && s.err)
		r = s.err;
	if (r < 0) {
		snprintf(err, BW_ERRLEN, "cannot read the tc objects of %s: %s%s%s", t->ifb, strerror(-r), kerr[0] ? ": " : "",
		         kerr);
		bw_tree_seen_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

const struct tcmsg_htb_class *bw_tree_seen_class(const struct bw_tree_seen *s, uint16_t minor)
{
	for (size_t i = 0; i < s->n; i++)
		if (TCMSG_MINOR(s->classes[i].classid) == minor)
			return &s->classes[i];
	return NULL;
}

bool bw_tree_class_same(const struct tcmsg_htb_class *want, const struct tcmsg_htb_class *have)
{
	return have->rate == want->rate && have->ceil == want->ceil && have->prio == want->prio &&
	       have->quantum == want->quantum && have->buffer == want->buffer && have->cbuffer == want->cbuffer &&
	       have->parent == want->parent;
}

/* ---- the tree's own objects ---- */

void bw_tree_low_class(struct manager *m, const struct bw_tree *t, const struct bw_tree_seen *s, struct bw_batch *b)
{
	uint64_t rate = m->cfg.bandwidth.default_guarantee;
	const struct tcmsg_htb_class *have = bw_tree_seen_class(s, BW_LOW_MINOR);
	struct tcmsg_htb_class lowc;
	int r = bw_tree_class(m->bw, t, BW_LOW_MINOR, rate, t->capacity, HTB_PRIO_MAX, &lowc);

	if (r < 0 || !have || !bw_tree_class_same(&lowc, have))
		bw_tree_add_class(b, m->bw, t, BW_LOW_MINOR, rate, t->capacity, HTB_PRIO_MAX, "class for unclassified traffic");
}

int bw_tree_ensure(struct manager *m, struct bw_tree *t, bool from_workload, bool *ret_flushed,
                   struct bw_tree_seen *ret_seen, char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	struct htb_class_spec low = { .minor = BW_LOW_MINOR, .rate = m->cfg.bandwidth.default_guarantee,
	                              .prio = HTB_PRIO_MAX };
	struct htb_tree tree = { .ifindex = t->ifindex, .major = t->major, .root_rate = t->capacity,
	                         .default_minor = BW_LOW_MINOR, .classes = &low, .nclasses = 1 };
	struct tcmsg_htb_class root;
	const struct tcmsg_htb_class *have;
	struct tcmsg_qdisc q;
	struct bw_tree_seen s;
	struct bw_batch *b;
	bool flushed = false, adopted;
	size_t room;
	char *p;
	int r;

	r = bw_tree_observe(m, t, &s, err);
	if (r < 0)
		return r;
	r = bw_batch_new(m->nl, &b, err);
	if (r < 0) {
		bw_tree_seen_free(&s);
		return r;
	}
	adopted = s.qdisc;
	if (!s.qdisc) {
		if (s.other_root)
			log_warn("bandwidth: replacing the root qdisc of %s", t->ifb);
		r = htb_tree_qdisc(&tree, &q);
		p = bw_batch_room(b, &room);
		bw_batch_added(b, r < 0 ? r : tcmsg_build_qdisc(p, room, bw_batch_seq(b), TCMSG_REPLACE, &q), "HTB qdisc", 0, 1);
		s.n = 0;   /* a new qdisc has no classes (and s no filters: they are dumped under ours only) */
	}
	r = htb_tree_root_class(&bw->ps, &tree, &root);
	have = bw_tree_seen_class(&s, HTB_ROOT_MINOR);
	if (r < 0 || !have || !bw_tree_class_same(&root, have)) {
		p = bw_batch_room(b, &room);
		bw_batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, bw_batch_seq(b), TCMSG_REPLACE, &root),
		               "root class", 0, 1);
	}
	bw_tree_low_class(m, t, &s, b);
	/* The classifier: a table and a link into it for our subnet.  The kernel cannot change a table
	 * or a link's selector, so a wrong one (another subnet, something we never build at our
	 * priority) means flushing the priority and building it again; the workloads' filters come
	 * back with the next reconcile step. */
	if (s.qdisc && (s.others || (s.link && (s.link_f.addr != m->subnet.addr || s.link_f.prefix_len != m->subnet.len ||
	                                         s.link_f.from_workload != from_workload)))) {
		log_warn("bandwidth: rebuilding the classifier of %s", t->ifb);
		p = bw_batch_room(b, &room);
		bw_batch_added(b, classify_build_hash_flush(p, room, bw_batch_seq(b), t->ifindex, t->major),
		               "classifier flush", -ENOENT, 1);
		s.table = s.link = false;
		flushed = true;
	}
	if (!s.qdisc || !s.table) {
		p = bw_batch_room(b, &room);
		bw_batch_added(b, classify_build_hash_table(p, room, bw_batch_seq(b), TCMSG_ADD, t->ifindex, t->major),
		               "classifier hash table", -EEXIST, 1);
	}
	if (!s.qdisc || !s.link) {
		p = bw_batch_room(b, &room);
		bw_batch_added(b, classify_build_hash_link(p, room, bw_batch_seq(b), TCMSG_ADD, t->ifindex, t->major,
		                                           m->subnet.addr, m->subnet.len, from_workload),
		               "classifier hash link", -EEXIST, 1);
	}
	r = bw_batch_send(b, err);
	bw_batch_free(b);
	if (r < 0) {
		bw_tree_seen_free(&s);
		return r;
	}
	if (!adopted) {
		char cap[QUOTA_RATE_STRLEN];

		quota_format_rate(t->capacity, cap);
		log_info("bandwidth: %s tree on %s at %s", t->dir, t->ifb, cap);
	}
	*ret_flushed = flushed;
	if (!ret_seen) {
		bw_tree_seen_free(&s);
		return 0;
	}
	/* The workload classes and filters as a dump would show them now (a new qdisc: none, see
	 * above). */
	if (flushed)
		s.nwl = 0;   /* the flush took every workload filter with it */
	*ret_seen = s;
	return 0;
}
