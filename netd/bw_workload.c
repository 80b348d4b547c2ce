/* Each workload's objects: its class and leaf in both trees, the classifiers that pick them, and
 * its host veth's clsact with the redirects to both IFBs (netd/bw_int.h, docs/bandwidth.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "netd/bw_int.h"
#include "netd/cgroups.h"
#include "overlay/nlsock.h"

int bw_want_cmp(const void *x, const void *y)
{
	const struct bw_want *a = x, *b = y;

	return (int)a->minor - (int)b->minor;
}

static void add_classifier(struct bw_batch *b, struct manager *m, const struct bw_tree *t, uint32_t addr,
                           enum tcmsg_op op)
{
	bool out = t->major == BW_IFB_MAJOR_EGRESS;
	size_t room;
	char *p = bw_batch_room(b, &room);

	bw_batch_added(b, classify_build_workload(p, room, bw_batch_seq(b), op, t->ifindex, t->major, m->subnet.addr,
	                                          m->subnet.len, addr, out, TCMSG_HANDLE(t->major, bw_minor_of(m, addr))),
	               out ? "egress classifier" : "ingress classifier", op == TCMSG_DEL ? -ENOENT : 0, 1);
}

/* clsact on a's host veth with the redirects to both IFBs (and the same-host exemption). */
static void add_veth(struct bw_batch *b, struct manager *m, const struct attachment *a)
{
	struct bandwidth *bw = m->bw;
	unsigned n = classify_veth_msgs(m->cfg.bandwidth.exempt_local);
	size_t room;
	char *p = bw_batch_room(b, &room);
	uint32_t seq = bw_batch_seq(b);

	/* Several messages with consecutive sequence numbers: reserve them. */
	for (unsigned i = 1; i < n; i++)
		(void)nlsock_next_seq(m->nl);
	int len = classify_build_veth(p, room, seq, a->host_ifindex, bw->t[BW_EGRESS].ifindex, bw->t[BW_INGRESS].ifindex,
	                              m->cfg.bandwidth.exempt_local, m->subnet.addr, m->subnet.len);

	/* The clsact is replaced in place (kept); each filter has a fixed node, so one that is there
	 * already answers ENOSPC: present, not a duplicate. */
	bw_batch_added(b, len, "veth clsact", 0, 1);
	if (len > 0)
		bw_batch_added(b, 0, "veth redirect", -ENOSPC, n - 1);
}

int bw_workload_objects(struct manager *m, const struct attachment *a, const struct bw_share *s, bool with_veth,
                        char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	uint16_t minor = bw_minor_of(m, a->rec.addr);
	struct bw_batch *b;
	int r = bw_batch_new(m->nl, &b, err);

	if (r < 0)
		return r;
	for (int d = 0; d < BW_DIRS; d++) {
		bw_tree_add_class(b, bw, &bw->t[d], minor, s->guarantee[d], s->limit[d], s->priority,
		                  d == BW_EGRESS ? "egress class" : "ingress class");
		add_classifier(b, m, &bw->t[d], a->rec.addr, TCMSG_REPLACE);
	}
	if (with_veth)
		add_veth(b, m, a);
	r = bw_batch_send(b, err);
	bw_batch_free(b);
	return r;
}

int bw_workload_remove(struct manager *m, const struct attachment *a, char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	uint16_t minor = bw_minor_of(m, a->rec.addr);
	struct bw_batch *b;
	int r = bw_batch_new(m->nl, &b, err);

	if (r < 0)
		return r;
	for (int d = 0; d < BW_DIRS; d++) {
		/* The classifier first: a class that a filter still points to cannot be deleted. */
		add_classifier(b, m, &bw->t[d], a->rec.addr, TCMSG_DEL);
		bw_tree_del_class(b, &bw->t[d], minor);
	}
	r = bw_batch_send(b, err);
	bw_batch_free(b);
	return r;
}

/* ---- quanta ---- */

/* The smallest guarantee a workload asked for in direction d, which gets the smallest quantum; the
 * default guarantee when nobody asked for one (best-effort classes get the smallest quantum
 * anyway, and counting them would scale every other quantum up by their small rate). */
uint64_t bw_workload_qbase(const struct manager *m, int d)
{
	uint64_t base = 0;

	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (const struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			const struct request_bandwidth_dir *asked = d == BW_EGRESS ? &a->rec.bandwidth.egress
			                                                           : &a->rec.bandwidth.ingress;

			if (!a->deleting && a->bw.on && asked->guarantee && (!base || a->bw.guarantee[d] < base))
				base = a->bw.guarantee[d];
		}
	for (size_t i = 0; m->cgroups && i < m->cgroups->n; i++) {
		const struct cgroup_wl *c = m->cgroups->v[i];
		const struct request_bandwidth_dir *asked = d == BW_EGRESS ? &c->rec.bandwidth.egress
		                                                           : &c->rec.bandwidth.ingress;

		if (c->bw.on && asked->guarantee && (!base || c->bw.guarantee[d] < base))
			base = c->bw.guarantee[d];
	}
	return base ? base : m->cfg.bandwidth.default_guarantee;
}

static void add_quantum(struct bw_batch *b, const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor,
                        const struct bw_share *s, int d)
{
	struct tcmsg_htb_class c;
	char err[BW_ERRLEN];
	size_t room;
	char *p;
	int r;

	if (bw_batch_make_room(b, err) < 0)
		log_warn("bandwidth: %s", err);
	r = bw_tree_class(bw, t, minor, s->guarantee[d], s->limit[d], s->priority, &c);
	p = bw_batch_room(b, &room);
	bw_batch_added(b, r < 0 ? r : tcmsg_build_htb_class(p, room, bw_batch_seq(b), TCMSG_REPLACE, &c), "class quantum",
	               0, 1);
}

/* After a workload came, went or changed: when the smallest explicit guarantee moved, every class's
 * quantum moves with it (changed in place, counters kept). */
void bw_workload_qbase_refresh(struct manager *m)
{
	struct bandwidth *bw = m->bw;
	struct bw_batch *b = NULL;
	char err[BW_ERRLEN];

	for (int d = 0; d < BW_DIRS; d++) {
		struct bw_tree *t = &bw->t[d];
		uint64_t base = bw_workload_qbase(m, d);

		if (base == t->qbase)
			continue;
		t->qbase = base;
		if (!b && bw_batch_new(m->nl, &b, err) < 0)
			return;   /* the next reconcile sees the quanta differ */
		for (size_t i = 0; i < ATT_BUCKETS; i++)
			for (const struct attachment *a = m->by_veth[i]; a; a = a->next_veth)
				if (!a->deleting && a->bw.on)
					add_quantum(b, bw, t, bw_minor_of(m, a->rec.addr), &a->bw, d);
		for (size_t i = 0; m->cgroups && i < m->cgroups->n; i++)
			if (m->cgroups->v[i]->bw.on)
				add_quantum(b, bw, t, m->cgroups->v[i]->rec.minor, &m->cgroups->v[i]->bw, d);
		if (bw_batch_send(b, err) < 0)
			log_warn("bandwidth: %s; the next reconcile retries", err);
	}
	bw_batch_free(b);
}

/* ---- reconcile ---- */

void bw_workload_reconcile_tree(struct manager *m, int d, const struct bw_tree_seen *s, bool flushed,
                                const struct bw_want *want, size_t n, bool startup, struct bw_batch *b)
{
	struct bandwidth *bw = m->bw;
	struct bw_tree *t = &bw->t[d];
	char err[BW_ERRLEN];

	/* Classifiers of workloads that no longer exist, first: a class a filter points to cannot be
	 * deleted. */
	for (size_t i = 0; i < s->nwl; i++) {
		struct bw_want key = { .minor = bw_minor_of(m, s->wl[i].addr) };

		if (cidr4_contains(&m->subnet, s->wl[i].addr) && bsearch(&key, want, n, sizeof(*want), bw_want_cmp))
			continue;
		if (bw_batch_make_room(b, err) < 0)
			log_warn("bandwidth: %s", err);
		add_classifier(b, m, t, s->wl[i].addr, TCMSG_DEL);
	}
	/* Classes of workloads that no longer exist. */
	for (size_t i = 0; i < s->n; i++) {
		uint16_t minor = TCMSG_MINOR(s->classes[i].classid);
		struct bw_want key = { .minor = minor };
		struct tcmsg_htb_class c = s->classes[i];
		size_t room;
		char *p;

		if (minor == HTB_ROOT_MINOR || minor == BW_LOW_MINOR || bsearch(&key, want, n, sizeof(*want), bw_want_cmp))
			continue;
		if (bw_batch_make_room(b, err) < 0)
			log_warn("bandwidth: %s", err);
		p = bw_batch_room(b, &room);
		bw_batch_added(b, tcmsg_build_htb_class(p, room, bw_batch_seq(b), TCMSG_DEL, &c), "stale class", -ENOENT, 1);
		log_info("bandwidth: removing %s class %x:%x of a workload that is gone", t->dir, t->major, minor);
	}
	/* Missing or different classes, then missing or wrong classifiers. */
	for (size_t i = 0; i < n; i++) {
		const struct bw_share *w = want[i].bw;
		const struct tcmsg_htb_class *have = bw_tree_seen_class(s, want[i].minor);
		struct tcmsg_htb_class c;

		if (bw_tree_class(bw, t, want[i].minor, w->guarantee[d], w->limit[d], w->priority, &c) == 0 && have &&
		    bw_tree_class_same(&c, have))
			continue;
		if (!startup)
			log_warn("bandwidth: repairing the %s class of %s", t->dir, want[i].name);
		if (bw_batch_make_room(b, err) < 0)
			log_warn("bandwidth: %s", err);
		bw_tree_add_class(b, bw, t, want[i].minor, w->guarantee[d], w->limit[d], w->priority, "class");
	}
	for (size_t i = 0; i < n; i++) {
		const struct attachment *a = want[i].a;
		bool right = false;

		if (!a)
			continue;   /* a cgroup: no classifier on the IFB */
		for (size_t k = 0; !flushed && k < s->nwl && !right; k++)
			right = s->wl[k].addr == a->rec.addr && s->wl[k].classid == TCMSG_HANDLE(t->major, want[i].minor);
		if (right)
			continue;
		if (!startup && !flushed)
			log_warn("bandwidth: repairing the %s classifier of %s", t->dir, a->rec.host_veth);
		if (bw_batch_make_room(b, err) < 0)
			log_warn("bandwidth: %s", err);
		add_classifier(b, m, t, a->rec.addr, TCMSG_REPLACE);
	}
}

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

/* Where the veth has no clsact: a veth made while "bandwidth" was off, or someone removed it. */
void bw_workload_reconcile_veths(struct manager *m, const struct bw_want *want, size_t n, bool startup,
                                 struct bw_batch *b)
{
	struct ifset clsact = { 0 };
	char err[BW_ERRLEN];

	veths_with_clsact(m, &clsact);
	for (size_t i = 0; i < n; i++) {
		const struct attachment *a = want[i].a;

		if (a && a->host_ifindex > 0 && !ifset_has(&clsact, a->host_ifindex)) {
			if (!startup)
				log_warn("bandwidth: repairing the redirects of %s", a->rec.host_veth);
			if (bw_batch_make_room(b, err) < 0)
				log_warn("bandwidth: %s", err);
			add_veth(b, m, a);
		}
	}
	free(clsact.v);
}

void bw_workload_remove_all_redirects(struct manager *m)
{
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
}
