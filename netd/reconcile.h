/* Reconcile of attachments against the host's links, as a pure plan: what to do follows from
 * (desired, observed) alone, so a unit test can call it without root.  netd/reconcile.c applies it.
 *
 * Only our own objects are ever touched: host veths named "shv..." that are on our bridge or carry
 * our alias. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct rc_att {                /* desired: an attachment */
	const char *host_veth;
	bool deleting;
	bool queued;               /* deleting and already handed to the reaper */
};

struct rc_link {               /* observed: a host veth named with our prefix */
	const char *name;
	int ifindex;
	int master;
	bool up;
	bool alias_ours;           /* its ifalias parses as an attachment identity */
	bool quarantined;          /* its record was unreadable and set aside */
};

enum rc_op {
	RC_REQUEUE,     /* att: deleting, not queued: hand its veth to the reaper again */
	RC_GONE,        /* att: its veth is absent from the dump (confirm, then release the address) */
	RC_SEEN,        /* att + link: present; remember the ifindex */
	RC_REATTACH,    /* att + link: present but not up on the bridge */
	RC_ADOPT,       /* link: no attachment, but its alias says whose it is */
	RC_KEEP,        /* link: no attachment, no alias, record quarantined: keep and report */
	RC_ORPHAN,      /* link: on our bridge, nobody's: delete it */
};

struct rc_action {
	enum rc_op op;
	size_t att;                /* index into atts, when the op concerns an attachment */
	size_t link;               /* index into links, when the op concerns a link */
};

/* Actions in a stable order (attachments in input order, then unclaimed links in input order).
 * *ret is malloc'd (free it), possibly NULL when *ret_n is 0.  -ENOMEM only. */
int reconcile_plan(const struct rc_att *atts, size_t n_atts, const struct rc_link *links, size_t n_links,
                   int bridge_ifindex, struct rc_action **ret, size_t *ret_n);
