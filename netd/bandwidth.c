/* Per-workload bandwidth: the daemon's side of tc/ (netd/bandwidth.h, docs/bandwidth.md).  This
 * file owns the lifecycle and the pools (admission, accounting) and leads the others
 * (netd/bw_int.h): the trees (bw_tree.c), each workload's objects (bw_workload.c), the counters
 * (bw_snapshot.c). */
#include "netd/bandwidth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "netd/bw_int.h"
#include "netd/cgroups.h"
#include "netd/policies.h"
#include "tc/quota.h"

/* ---- start and stop ---- */

bool bandwidth_enabled(const struct manager *m)
{
	return m->bw != NULL;
}

/* Without "bandwidth": no IFB of ours, no redirect on any veth (a redirect to a missing device
 * drops every packet). */
static void remove_all(struct manager *m)
{
	/* Nothing to do unless an earlier configuration shaped (the common case costs two lookups). */
	if (!bw_tree_ifb_exists(m))
		return;
	bw_workload_remove_all_redirects(m);
	bw_tree_ifb_remove(m);
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
	/* Here, not in the start-up reconcile, so that a tree the kernel refuses stops shoald with the
	 * reason; that reconcile then only observes the trees. */
	for (int d = 0; d < BW_DIRS; d++) {
		bool flushed;

		r = bw_tree_ifb_ensure(m, &bw->t[d], err);
		if (r == 0)
			r = bw_tree_ensure(m, &bw->t[d], d == BW_EGRESS, &flushed, NULL, err);
		if (r < 0) {
			free(bw);
			m->bw = NULL;
			return r;
		}
		bw->t[d].ensured = true;
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

/* ---- the pools ---- */

int bandwidth_admit(struct manager *m, const struct request_bandwidth *want, const char *name,
                    const struct bw_share *self, struct bw_share *ret, char err[BW_ERRLEN])
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

		if (self && self->on)
			pool.reserved -= self->guarantee[d];
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

static void account(struct manager *m, const struct bw_share *s, bool add)
{
	for (int d = 0; d < BW_DIRS; d++) {
		if (add)
			m->bw->t[d].reserved += s->guarantee[d];
		else
			m->bw->t[d].reserved -= s->guarantee[d];
	}
}

/* A restored workload's share, decided again from its record: its own ask with its policy (eff;
 * policies are read before restore); when that no longer fits, its own ask alone; then a
 * best-effort share. */
static void readmit(struct manager *m, const struct request_bandwidth *eff, const struct request_bandwidth *own,
                    bool has_policy, const char *name, struct bw_share *ret)
{
	char err[BW_ERRLEN];

	if (bandwidth_admit(m, eff, name, NULL, ret, err) == 0 ||
	    (has_policy && bandwidth_admit(m, own, name, NULL, ret, err) == 0))
		return;
	log_error("bandwidth: %s: %s; it keeps a best-effort share", name, err);
	bandwidth_admit(m, &(struct request_bandwidth){ .priority = -1 }, name, NULL, ret, err);
}

/* Every active attachment's share counted again, decided again from its record where it has none
 * (a capacity that shrank across a restart can no longer keep every promise: say so, keep the
 * workloads).  want[] gets each one's minor, up to cap. */
static size_t recount(struct manager *m, struct bw_want *want, size_t cap)
{
	struct bandwidth *bw = m->bw;
	size_t n = 0;

	for (int d = 0; d < BW_DIRS; d++)
		bw->t[d].reserved = m->cfg.bandwidth.default_guarantee;
	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			if (a->deleting) {
				a->bw_counted = false;
				continue;
			}
			if (!a->bw.on) {
				struct request_bandwidth eff;

				policies_effective(m, &a->rec, &eff);
				readmit(m, &eff, &a->rec.bandwidth, policies_for(m, &a->rec) != NULL, a->rec.host_veth, &a->bw);
			}
			account(m, &a->bw, true);
			a->bw_counted = true;
			if (n < cap)
				want[n++] = (struct bw_want){ .minor = bw_minor_of(m, a->rec.addr), .bw = &a->bw,
				                              .name = a->rec.host_veth, .a = a };
		}
	for (size_t i = 0; m->cgroups && i < m->cgroups->n; i++) {
		struct cgroup_wl *c = m->cgroups->v[i];
		char name[RECORD_CGROUP_PATH_SIZE + 16];

		snprintf(name, sizeof(name), "cgroup %s", c->rec.path);
		if (!c->bw.on) {
			struct request_bandwidth eff;

			policies_effective_cgroup(m, &c->rec, &eff);
			readmit(m, &eff, &c->rec.bandwidth, policies_for_cgroup(m, c->rec.path) != NULL, name, &c->bw);
		}
		account(m, &c->bw, true);
		c->bw_counted = true;
		if (n < cap)
			want[n++] = (struct bw_want){ .minor = c->rec.minor, .bw = &c->bw, .name = c->rec.path };
	}
	for (int d = 0; d < BW_DIRS; d++)
		if (bw->t[d].reserved > bw->t[d].capacity) {
			char r1[QUOTA_RATE_STRLEN], r2[QUOTA_RATE_STRLEN];

			quota_format_rate(bw->t[d].reserved, r1);
			quota_format_rate(bw->t[d].capacity, r2);
			log_error("bandwidth: %s guarantees (%s) exceed the capacity %s: not every guarantee can hold",
			          bw->t[d].dir, r1, r2);
		}
	return n;
}

/* ---- one workload ---- */

int bandwidth_attach(struct manager *m, struct attachment *a, char err[BW_ERRLEN])
{
	int r;

	if (!m->bw || !a->bw.on)
		return 0;
	account(m, &a->bw, true);
	a->bw_counted = true;
	r = bw_workload_objects(m, a, &a->bw, true, err);
	if (r == 0)
		bw_workload_qbase_refresh(m);
	return r;
}

int bandwidth_change(struct manager *m, struct attachment *a, const struct bw_share *share, char err[BW_ERRLEN])
{
	int r;

	if (!m->bw)
		return -EOPNOTSUPP;
	r = bw_workload_objects(m, a, share, !a->bw.on, err);
	/* The share is the workload's from now on even when the kernel refused part of it: the record
	 * already says so, and the next reconcile makes the classes follow. */
	if (a->bw_counted)
		account(m, &a->bw, false);
	a->bw = *share;
	account(m, &a->bw, true);
	a->bw_counted = true;
	if (r == 0)
		bw_workload_qbase_refresh(m);
	return r;
}

void bandwidth_detach(struct manager *m, struct attachment *a)
{
	char err[BW_ERRLEN];

	if (!m->bw || !a->bw_counted)
		return;
	account(m, &a->bw, false);
	a->bw_counted = false;
	if (bw_workload_remove(m, a, err) < 0)
		log_warn("bandwidth: removing the classes of %s: %s; the next reconcile retries", a->rec.host_veth, err);
	bw_workload_qbase_refresh(m);
}

/* ---- a workload without a veth (a cgroup): its classes alone ---- */

int bandwidth_change_share(struct manager *m, struct bw_share *cur, bool *counted, const struct bw_share *share,
                           uint16_t minor, char err[BW_ERRLEN])
{
	struct bandwidth *bw = m->bw;
	struct bw_batch *b;
	int r;

	if (!bw)
		return -EOPNOTSUPP;
	r = bw_batch_new(m->nl, &b, err);
	if (r == 0) {
		for (int d = 0; d < BW_DIRS; d++)
			bw_tree_add_class(b, bw, &bw->t[d], minor, share->guarantee[d], share->limit[d], share->priority,
			                  d == BW_EGRESS ? "egress class" : "ingress class");
		r = bw_batch_send(b, err);
		bw_batch_free(b);
	}
	/* As bandwidth_change(): the share is the workload's even when the kernel refused. */
	if (*counted)
		account(m, cur, false);
	*cur = *share;
	account(m, cur, true);
	*counted = true;
	if (r == 0)
		bw_workload_qbase_refresh(m);
	return r;
}

void bandwidth_detach_share(struct manager *m, struct bw_share *cur, bool *counted, uint16_t minor)
{
	struct bandwidth *bw = m->bw;
	struct bw_batch *b;
	char err[BW_ERRLEN];

	if (!bw || !*counted)
		return;
	account(m, cur, false);
	*counted = false;
	cur->on = false;
	if (bw_batch_new(m->nl, &b, err) == 0) {
		for (int d = 0; d < BW_DIRS; d++)
			bw_tree_del_class(b, &bw->t[d], minor);
		if (bw_batch_send(b, err) < 0)
			log_warn("bandwidth: removing class %x: %s; the next reconcile retries", minor, err);
		bw_batch_free(b);
	}
	bw_workload_qbase_refresh(m);
}

/* ---- reconcile ---- */

void bandwidth_reconcile(struct manager *m, bool startup)
{
	struct bandwidth *bw = m->bw;
	struct bw_want *want = NULL;
	struct bw_batch *b = NULL;
	char err[BW_ERRLEN];
	size_t n, cap;

	if (!bw) {
		if (startup) {
			cgroups_reconcile(m, startup);   /* the uplink's redirects, before the IFBs go */
			remove_all(m);
		}
		return;
	}
	cap = m->n_total + 1 + (m->cgroups ? m->cgroups->n : 0);
	want = calloc(cap, sizeof(*want));
	if (!want || bw_batch_new(m->nl, &b, err) < 0)
		goto out;
	n = recount(m, want, cap);
	for (int d = 0; d < BW_DIRS; d++)
		bw->t[d].qbase = bw_workload_qbase(m, d);
	qsort(want, n, sizeof(*want), bw_want_cmp);
	for (int d = 0; d < BW_DIRS; d++) {
		struct bw_tree *t = &bw->t[d];
		bool flushed = false;
		struct bw_tree_seen s;
		int r;

		/* One dump per tree: the ensure's observation serves the workloads too.  Right after
		 * bandwidth_start() made the tree right, observing is enough but for the low class,
		 * whose quantum depends on the workloads restored since. */
		if (t->ensured) {
			t->ensured = false;
			r = bw_tree_observe(m, t, &s, err);
			if (r == 0)
				bw_tree_low_class(m, t, &s, b);
		} else {
			r = bw_tree_ifb_ensure(m, t, err);
			if (r == 0)
				r = bw_tree_ensure(m, t, d == BW_EGRESS, &flushed, &s, err);
		}
		if (r < 0) {
			log_error("bandwidth: %s", err);
			continue;
		}
		bw_workload_reconcile_tree(m, d, &s, flushed, want, n, startup, b);
		if (bw_batch_send(b, err) < 0)
			log_warn("bandwidth: %s", err);
		bw_tree_seen_free(&s);
	}
	bw_workload_reconcile_veths(m, want, n, startup, b);
	if (bw_batch_send(b, err) < 0)
		log_warn("bandwidth: %s", err);
	cgroups_reconcile(m, startup);
out:
	for (int d = 0; d < BW_DIRS; d++)
		bw->t[d].ensured = false;   /* out of memory: the next reconcile ensures */
	free(want);
	bw_batch_free(b);
}

/* ---- the API's view ---- */

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
