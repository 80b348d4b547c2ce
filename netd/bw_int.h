/* What the files of shoald's bandwidth share; the rest of netd/ sees only netd/bandwidth.h.  Each
 * file owns one kind of state:
 *
 *   bandwidth.c    lifecycle (start, stop, removal when off), the pools (admission, accounting), and
 *                  the API: attach, change, detach, reconcile, status
 *   bw_batch.c     a batch of tc messages: built in place, sent in one sendmsg, each ACK checked
 *   bw_tree.c      the IFBs and their HTB trees: the qdisc, the root and low classes, the
 *                  classifier's table and link; what a class in a tree is sent as
 *   bw_workload.c  each workload's objects: its classes and leaves, its classifiers, its veth's
 *                  clsact and redirects; their quanta; their repair by reconcile
 *   bw_snapshot.c  the counters of both trees, as the API reads them
 *
 * Functions return 0 or -errno with the reason in err (BW_ERRLEN, bandwidth.h's err[512]); the
 * function that decides logs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netd/bandwidth.h"
#include "netd/netd.h"
#include "tc/classify.h"
#include "tc/htb.h"
#include "tc/tcmsg.h"

#define BW_ERRLEN 512

struct nlsock;

struct bw_tree {
	const char *ifb;             /* CLASSIFY_IFB_OUT / CLASSIFY_IFB_IN */
	const char *dir;             /* "egress" / "ingress", for messages */
	uint16_t major;
	int ifindex;
	uint64_t capacity;           /* bit/s, the root class */
	uint64_t reserved;           /* bit/s: admitted guarantees, the low class's included */
	uint64_t qbase;              /* bit/s: the guarantee whose class gets the smallest quantum */
	bool ensured;                /* bandwidth_start() just made the tree right: the start-up
	                              * reconcile observes it, ensures nothing but the low class */
};

struct bandwidth {
	struct bw_tree t[BW_DIRS];
	struct htb_psched ps;
};

/* A workload's class minor in both trees: its address's offset in the node's subnet. */
static inline uint16_t bw_minor_of(const struct manager *m, uint32_t addr)
{
	return (uint16_t)(addr - m->subnet.addr);
}

/* ---- bw_batch.c ---- */

struct bw_batch;

/* -ENOMEM with err "out of memory" (the buffer is large: it lives on the heap). */
int bw_batch_new(struct nlsock *nl, struct bw_batch **ret, char err[BW_ERRLEN]);
void bw_batch_free(struct bw_batch *b);
/* Where the next message goes, and the sequence number it must carry. */
char *bw_batch_room(struct bw_batch *b, size_t *ret_len);
uint32_t bw_batch_seq(struct bw_batch *b);
/* len: the length of the n messages just built at bw_batch_room() (or a building error, logged
 * here and returned by the next bw_batch_send()); what names them in errors.  tolerate: an -errno
 * that means "already so" for them (-ENOENT for a delete), or 0. */
void bw_batch_added(struct bw_batch *b, int len, const char *what, int tolerate, unsigned n);
/* Send and wait for every ACK: 0, or the first error with what failed in err.  The batch is empty
 * afterwards either way. */
int bw_batch_send(struct bw_batch *b, char err[BW_ERRLEN]);
/* Send first when the next message might not fit. */
int bw_batch_make_room(struct bw_batch *b, char err[BW_ERRLEN]);

/* ---- bw_tree.c ---- */

/* What the kernel has of one tree: the HTB qdisc, each class by minor, the classifier. */
struct bw_tree_seen {
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

/* The IFB of t, created or set up when needed; t->ifindex. */
int bw_tree_ifb_ensure(struct manager *m, struct bw_tree *t, char err[BW_ERRLEN]);
/* Both IFBs' existence, and their removal (bandwidth off). */
bool bw_tree_ifb_exists(struct manager *m);
void bw_tree_ifb_remove(struct manager *m);
/* One dump of t's qdiscs, classes and (under our qdisc) filters.  Free *ret with bw_tree_seen_free();
 * written only on success. */
int bw_tree_observe(struct manager *m, const struct bw_tree *t, struct bw_tree_seen *ret, char err[BW_ERRLEN]);
/* Observe t and make its own objects right: the qdisc, the root class, the low class with its
 * leaf, the hash table and its link (from_workload: match the source address).  Adopts a tree
 * that is already right; replaces the root qdisc only when it is not ours (which resets whatever
 * was there).  *ret_flushed: the classifier was rebuilt, every workload filter is gone.
 * ret_seen (or NULL), written only on success: the observation, so that reconcile needs no second
 * dump.  Its workload classes (classes, n) and filters (wl, nwl) are what a dump would show after
 * this call (none under a new qdisc, no filters after a flush); the rest is as found before it.
 * Free it with bw_tree_seen_free(). */
int bw_tree_ensure(struct manager *m, struct bw_tree *t, bool from_workload, bool *ret_flushed,
                   struct bw_tree_seen *ret_seen, char err[BW_ERRLEN]);
/* The class for unclassified traffic and its leaf, added to b when s shows it missing or different.
 * Its quantum follows t->qbase, which depends on the workloads: after bandwidth_start() made the
 * tree right, the start-up reconcile (workloads restored) checks it again. */
void bw_tree_low_class(struct manager *m, const struct bw_tree *t, const struct bw_tree_seen *s, struct bw_batch *b);
void bw_tree_seen_free(struct bw_tree_seen *s);
const struct tcmsg_htb_class *bw_tree_seen_class(const struct bw_tree_seen *s, uint16_t minor);
/* Does the kernel's class say what we would send?  (Rate tables are not reported back.) */
bool bw_tree_class_same(const struct tcmsg_htb_class *want, const struct tcmsg_htb_class *have);
/* The class minor of t as we send it, quantum included. */
int bw_tree_class(const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor, uint64_t rate, uint64_t ceil,
                  int prio, struct tcmsg_htb_class *ret);
/* That class and its bfifo leaf, replaced in place (counters kept). */
void bw_tree_add_class(struct bw_batch *b, const struct bandwidth *bw, const struct bw_tree *t, uint16_t minor,
                       uint64_t rate, uint64_t ceil, int prio, const char *what);
/* Delete class minor of t with its leaf (ENOENT tolerated: already gone). */
void bw_tree_del_class(struct bw_batch *b, const struct bw_tree *t, uint16_t minor);

/* ---- bw_workload.c ---- */

/* A workload the trees must have, by minor (sorted for bsearch by bw_want_cmp): a pod (a: its
 * classifiers and redirects) or a cgroup (a NULL: picked by skb->priority, netd/cgroups.h). */
struct bw_want {
	uint16_t minor;
	const struct bw_share *bw;
	const char *name;             /* for messages */
	const struct attachment *a;
};

int bw_want_cmp(const void *x, const void *y);

/* Both classes (with leaves) and both classifiers of a with share s, then (with_veth) its veth's
 * clsact and redirects. */
int bw_workload_objects(struct manager *m, const struct attachment *a, const struct bw_share *s, bool with_veth,
                        char err[BW_ERRLEN]);
/* a's classifiers and classes, removed (tolerating what is gone). */
int bw_workload_remove(struct manager *m, const struct attachment *a, char err[BW_ERRLEN]);
/* The guarantee whose class gets the smallest quantum in direction d. */
uint64_t bw_workload_qbase(const struct manager *m, int d);
/* When that moved, every class's quantum moves with it. */
void bw_workload_qbase_refresh(struct manager *m);
/* In tree t (direction d) as observed in s (flushed: its classifier was just rebuilt): remove the
 * classifiers and classes of workloads not in want[n], add or repair those of want (warning about
 * repairs unless startup). */
void bw_workload_reconcile_tree(struct manager *m, int d, const struct bw_tree_seen *s, bool flushed,
                                const struct bw_want *want, size_t n, bool startup, struct bw_batch *b);
/* The clsact and redirects of every workload in want[n] whose veth has no clsact. */
void bw_workload_reconcile_veths(struct manager *m, const struct bw_want *want, size_t n, bool startup,
                                 struct bw_batch *b);
/* Bandwidth off: every attachment's veth loses its clsact (and the redirects on it). */
void bw_workload_remove_all_redirects(struct manager *m);
