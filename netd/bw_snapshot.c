/* The counters of both trees, as the API reads them (netd/bandwidth.h, docs/bandwidth.md "Seeing
 * it"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/bw_int.h"
#include "overlay/nlsock.h"

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

const struct bw_counters *bandwidth_snapshot_get_minor(const struct bw_snapshot *s, uint16_t minor, enum bw_dir d)
{
	struct bw_minor_counters key = { .minor = minor };
	const struct bw_minor_counters *e;

	if ((unsigned)d >= BW_DIRS || !s->t[d].n)
		return NULL;
	e = bsearch(&key, s->t[d].v, s->t[d].n, sizeof(*e), cmp_minor_counters);
	return e ? &e->c : NULL;
}

const struct bw_counters *bandwidth_snapshot_get(const struct bw_snapshot *s, const struct attachment *a,
                                                 enum bw_dir d)
{
	return bandwidth_snapshot_get_minor(s, (uint16_t)(a->rec.addr - s->subnet), d);
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

json_t *bandwidth_counters_json_minor(const struct bw_snapshot *s, bool on, uint16_t minor)
{
	if (!on)
		return json_null();
	return json_pack("{s:o, s:o}", "ingress", counters_json(bandwidth_snapshot_get_minor(s, minor, BW_INGRESS)),
	                 "egress", counters_json(bandwidth_snapshot_get_minor(s, minor, BW_EGRESS)));
}

json_t *bandwidth_counters_json(const struct bw_snapshot *s, const struct attachment *a)
{
	return bandwidth_counters_json_minor(s, a->bw.on, (uint16_t)(a->rec.addr - s->subnet));
}
