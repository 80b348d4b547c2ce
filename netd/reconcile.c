#include "netd/reconcile.h"

#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fw/forward.h"
#include "fw/fw.h"
#include "lib/log.h"
#include "netd/netd.h"
#include "netd/reaper.h"
#include "overlay/overlay.h"

/* ---- the plan (pure) ---- */

struct name_index {
	const char *name;
	size_t i;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name_index *)a)->name, ((const struct name_index *)b)->name);
}

static int plan_push(struct rc_action **v, size_t *n, size_t *cap, enum rc_op op, size_t att, size_t link)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct rc_action *p = realloc(*v, c * sizeof(**v));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = (struct rc_action){ .op = op, .att = att, .link = link };
	return 0;
}

int reconcile_plan(const struct rc_att *atts, size_t n_atts, const struct rc_link *links, size_t n_links,
                   int bridge_ifindex, struct rc_action **ret, size_t *ret_n)
{
	struct name_index *idx = calloc(n_links + 1, sizeof(*idx));
	bool *claimed = calloc(n_links + 1, sizeof(*claimed));
	struct rc_action *v = NULL;
	size_t n = 0, cap = 0;
	int r = -ENOMEM;

	if (!idx || !claimed)
		goto out;
	/* Sorted once, searched per attachment: the cost stays n log n with thousands of veths. */
	for (size_t i = 0; i < n_links; i++)
		idx[i] = (struct name_index){ .name = links[i].name, .i = i };
	qsort(idx, n_links, sizeof(*idx), cmp_name);
	for (size_t a = 0; a < n_atts; a++) {
		struct name_index key = { .name = atts[a].host_veth }, *hit;

		hit = bsearch(&key, idx, n_links, sizeof(*idx), cmp_name);
		if (hit)
			claimed[hit->i] = true;
		if (atts[a].deleting) {
			/* A deletion that failed is tried again. */
			if (!atts[a].queued && plan_push(&v, &n, &cap, RC_REQUEUE, a, 0) < 0)
				goto out;
			continue;
		}
		if (!hit) {
			if (plan_push(&v, &n, &cap, RC_GONE, a, 0) < 0)
				goto out;
			continue;
		}
		if (plan_push(&v, &n, &cap, RC_SEEN, a, hit->i) < 0)
			goto out;
		if ((links[hit->i].master != bridge_ifindex || !links[hit->i].up) &&
		    plan_push(&v, &n, &cap, RC_REATTACH, a, hit->i) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_links; i++) {
		enum rc_op op;

		if (claimed[i])
			continue;
		/* The alias is the kernel's copy of the record: it wins over a missing or bad file. */
		if (links[i].alias_ours)
			op = RC_ADOPT;
		else if (links[i].master != bridge_ifindex)
			continue;   /* not on our bridge, no identity of ours: not ours to judge */
		else if (links[i].quarantined)
			op = RC_KEEP;   /* never deleted on the strength of a bad file */
		else
			op = RC_ORPHAN;
		if (plan_push(&v, &n, &cap, op, 0, i) < 0)
			goto out;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out:
	free(v);
	free(idx);
	free(claimed);
	return r;
}

/* ---- observing and applying ---- */

struct observed {
	struct rc_link *links;
	struct record_attach *alias;   /* parsed alias per link (valid where links[i].alias_ours) */
	char (*names)[IFNAME_SIZE];
	size_t n, cap;
	size_t foreign_ports;          /* other devices enslaved to our bridge */
	int bridge_ifindex;
	const struct manager *m;
	bool oom;
};

static void observe_link(const struct rtlink_info *l, void *data)
{
	struct observed *o = data;
	char err[RECORD_ERRLEN];
	size_t i;

	if (strncmp(l->name, HOST_VETH_PREFIX, strlen(HOST_VETH_PREFIX)) != 0 || strcmp(l->kind, "veth") != 0) {
		if (o->bridge_ifindex > 0 && (int)l->master == o->bridge_ifindex)
			o->foreign_ports++;
		return;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct rc_link *a = realloc(o->links, cap * sizeof(*a));
		struct record_attach *b;
		char (*c)[IFNAME_SIZE];

		if (a)
			o->links = a;
		b = a ? realloc(o->alias, cap * sizeof(*b)) : NULL;
		if (b)
			o->alias = b;
		c = b ? realloc(o->names, cap * sizeof(*c)) : NULL;
		if (!c) {
			/* A partial list must never pass for a complete one: reconcile is skipped. */
			o->oom = true;
			return;
		}
		o->names = c;
		o->cap = cap;
		/* links[].name points into names[]: re-point after the move. */
		for (size_t k = 0; k < o->n; k++)
			o->links[k].name = o->names[k];
	}
	i = o->n++;
	snprintf(o->names[i], IFNAME_SIZE, "%s", l->name);
	o->links[i] = (struct rc_link){ .name = o->names[i], .ifindex = l->ifindex, .master = (int)l->master,
	                                .up = (l->flags & IFF_UP) != 0,
	                                .quarantined = att_quarantined(o->m, l->name) };
	o->links[i].alias_ours = record_alias_parse(l->alias, &o->alias[i], err) == 0;
	if (o->links[i].alias_ours) {
		snprintf(o->alias[i].host_veth, IFNAME_SIZE, "%s", l->name);
		o->alias[i].mtu = l->mtu;
		o->alias[i].created = time(NULL);
	}
}

static void observed_done(struct observed *o)
{
	free(o->links);
	free(o->alias);
	free(o->names);
}

static void apply(struct manager *m, const struct rc_action *act, struct attachment **atts, struct observed *o,
                  bool startup)
{
	char err[OVERLAY_ERRLEN], ip[IP4_STRLEN], line[512];
	struct attachment *a = atts[act->att];
	const struct rc_link *l = o->links ? &o->links[act->link] : NULL;
	struct rtlink_info info;
	int r;

	switch (act->op) {
	case RC_REQUEUE:
		if (reaper_queue(m->reaper, a->rec.host_veth, a->host_ifindex) == 0)
			a->queued = true;
		break;
	case RC_GONE:
		/* Freeing an address in use would be far worse than keeping a stale one: ask the kernel
		 * about this one device before believing the dump. */
		if (overlay_link_get(m->nl, a->rec.host_veth, &info) != -ENODEV)
			break;
		snprintf(line, sizeof(line), "veth %s of %s/%s is gone; released %s", a->rec.host_veth,
		         a->rec.container_id, a->rec.ifname, ip4_format(a->rec.addr, ip));
		if (att_forget(m, a, m->dir_attach) == 0)
			log_info("%s", line);
		break;
	case RC_SEEN:
		a->host_ifindex = l->ifindex;
		break;
	case RC_REATTACH:
		if (overlay_port_ensure(m->nl, l->ifindex, m->bridge_ifindex, err) < 0)
			log_error("failed to re-attach veth %s: %s", a->rec.host_veth, err);
		else
			log_warn("re-attached veth %s of %s/%s to bridge %s", a->rec.host_veth, a->rec.container_id,
			         a->rec.ifname, m->cfg.bridge);
		break;
	case RC_ADOPT:
		r = att_adopt(m, &o->alias[act->link], l->ifindex);
		if (r < 0)
			log_error("veth %s carries the identity of %s/%s (%s) but cannot be adopted: %s; keeping it",
			          l->name, o->alias[act->link].container_id, o->alias[act->link].ifname,
			          ip4_format(o->alias[act->link].addr, ip), r == -EEXIST ? "that attachment exists" :
			          r == -EINVAL ? "its address is not in this node's subnet" : strerror(-r));
		else if (l->master != m->bridge_ifindex || !l->up)
			overlay_port_ensure(m->nl, l->ifindex, m->bridge_ifindex, err);
		break;
	case RC_KEEP:
		if (startup)
			log_error("veth %s has no readable record and no identity in its alias; keeping it (its address "
			          "is unknown; delete it by hand once its container is gone)", l->name);
		break;
	case RC_ORPHAN:
		/* A lost state dir from before aliases can leave veths nobody can reach. */
		if (reaper_queue(m->reaper, l->name, l->ifindex) == 0)
			log_info("deleting orphan veth %s on bridge %s", l->name, m->cfg.bridge);
		break;
	}
}

/* Attachments against the host's links: a vanished veth releases its attachment (the container's
 * namespace was deleted without a DEL, so its interface and address are free), a veth that lost
 * its bridge or went down is re-attached, a veth of ours without a record is adopted from its alias,
 * and an "shv" veth on our bridge that nobody owns is deleted.  Only our own objects are touched. */
static int reconcile_links(struct manager *m, bool startup)
{
	struct observed o = { .m = m, .bridge_ifindex = m->bridge_ifindex };
	struct attachment **atts = NULL;
	struct rc_att *want = NULL;
	struct rc_action *plan = NULL;
	size_t n = 0, n_plan = 0;
	int r;

	r = overlay_links_foreach(m->nl, observe_link, &o);
	if (r == 0 && o.oom)
		r = -ENOMEM;
	if (r < 0) {
		log_error("reconcile: failed to list network interfaces: %s", strerror(-r));
		goto out;
	}
	m->foreign_ports = o.foreign_ports;
	atts = calloc(m->n_total + 1, sizeof(*atts));
	want = calloc(m->n_total + 1, sizeof(*want));
	r = -ENOMEM;
	if (!atts || !want)
		goto out;
	for (unsigned b = 0; b < ATT_BUCKETS; b++)
		for (struct attachment *a = m->by_veth[b]; a && n < m->n_total; a = a->next_veth) {
			atts[n] = a;
			want[n++] = (struct rc_att){ .host_veth = a->rec.host_veth, .deleting = a->deleting, .queued = a->queued };
		}
	r = reconcile_plan(want, n, o.links, o.n, m->bridge_ifindex, &plan, &n_plan);
	if (r < 0)
		goto out;
	/* Applying may free attachments (RC_GONE); each action names its own, so none is used after. */
	for (size_t i = 0; i < n_plan; i++)
		apply(m, &plan[i], atts, &o, startup);
out:
	free(plan);
	free(want);
	free(atts);
	observed_done(&o);
	return r;
}

/* Someone else's FORWARD policy: an accept in our tables cannot override a drop in another table,
 * so detect it and say so (once per change), and with forwardAccept accept the cluster network in
 * iptables' FORWARD chain as flannel does; without it, take our rules out again. */
static void reconcile_forward(struct manager *m, bool startup)
{
	struct fw_forward_state st;
	char err[256], by[128] = "";
	bool drop;
	int r;

	r = fw_forward_probe(&st, err, sizeof(err));
	if (r < 0) {
		if (startup)
			log_warn("could not inspect the FORWARD chains of this namespace: %s", err);
		return;
	}
	if (st.iptables_forward_drop)
		snprintf(by, sizeof(by), "iptables' filter FORWARD policy%s%s", st.other[0] ? ", " : "", st.other);
	else
		snprintf(by, sizeof(by), "%s", st.other);
	drop = by[0] != '\0';
	if (drop && (!m->fwd_drop || strcmp(by, m->fwd_drop_by) != 0))
		log_warn("forwarded traffic is dropped by %s: pod traffic leaving the host%s is dropped unless accepted there; "
		         "%s", by, st.br_netfilter ? " (and, with br_netfilter, between pods on the bridge)" : "",
		         m->cfg.forward_accept ? "shoal accepts the cluster network in iptables' FORWARD (forwardAccept)"
		                               : "set \"forwardAccept\": true to accept the cluster network there");
	else if (!drop && m->fwd_drop)
		log_info("forwarded traffic is no longer dropped by %s", m->fwd_drop_by);
	m->fwd_drop = drop;
	m->fwd_br_netfilter = st.br_netfilter;
	snprintf(m->fwd_drop_by, sizeof(m->fwd_drop_by), "%s", by);
	if (m->cfg.forward_accept) {
		r = fw_forward_allow(&m->cfg.network, err, sizeof(err));
		if (r < 0 && r != -ENOENT)
			log_error("failed to accept the cluster network in iptables' FORWARD: %s", err);
	} else if (st.ours > 0) {
		r = fw_forward_remove(NULL, err, sizeof(err));
		if (r < 0)
			log_error("failed to remove shoal's rules from iptables' FORWARD: %s", err);
		else
			log_info("removed shoal's accept rules from iptables' FORWARD (forwardAccept is off)");
	}
}

void reconcile_run(struct manager *m, bool startup)
{
	if (!startup && attach_bridge_ensure(m, false) < 0)
		return;
	reconcile_links(m, startup);
	reconcile_forward(m, startup);
	if (!startup) {
		attach_pending_dels(m);
		attach_fw_ensure(m, false);
	}
	bandwidth_reconcile(m, startup);
}
