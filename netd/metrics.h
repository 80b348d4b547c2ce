/* /metrics (Prometheus text format 0.0.4) and /healthz, served by netd/http.c when
 * "metrics": {"listen": ...} is configured (docs/bandwidth.md, "/metrics").
 *
 * A scrape reads the manager directly on the loop: one bandwidth snapshot (one class dump per
 * IFB), the attachments, the lease.  What it read goes into the plain structs below, and the text
 * is a pure function of them (metrics_render), unit-tested without root; so is the health verdict
 * (metrics_health) and the rates (metrics_rates_update). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netd/bandwidth.h"

struct manager;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* A rate is measured over the time between two scrapes, but over at least this long: a scrape
 * sooner than that after the last measured one reports the rate measured then. */
#define METRICS_RATE_MIN_WINDOW 1.0

/* One workload as a scrape saw it: an attachment, or a cgroup with a quota (netd/cgroups.h).
 * Strings are borrowed ("" when unknown). */
struct metrics_workload {
	const char *cgroup;                   /* a cgroup's path relative to the v2 mount (its series are
	                                       * labelled cgroup="..." only); NULL for an attachment */
	const char *container_id, *ifname, *pod_namespace, *pod_name;
	const char *host_veth;                /* its identity for the rates (unique per attachment;
	                                       * a cgroup's is its path) */
	bool share;                           /* it has a bandwidth share: guarantee, limit, priority */
	uint64_t guarantee[BW_DIRS];          /* bit/s */
	uint64_t limit[BW_DIRS];              /* bit/s */
	int priority;
	bool counted[BW_DIRS];                /* counters[d] were read in this scrape */
	struct bw_counters counters[BW_DIRS];
	bool rated[BW_DIRS];                  /* rate[d] is known (from the second scrape on) */
	double rate[BW_DIRS];                 /* bytes/s */
};

/* The node as a scrape saw it. */
struct metrics_node {
	const char *version;
	const char *subnet;                   /* "10.244.3.0/24" */
	bool subnet_held;                     /* our subnet key exists under our lease */
	const char *subnet_taken_by;          /* "" or the node that claimed our subnet meanwhile */
	bool left;                            /* this node left the cluster (netctl node leave) */
	int64_t start_time;                   /* shoald's start, seconds since the epoch */
	uint64_t attachments_active, attachments_deleting;
	uint64_t addresses_free;
	bool bandwidth;                       /* the node shapes: capacity and committed below */
	uint64_t capacity[BW_DIRS], committed[BW_DIRS];   /* bit/s */
	bool counters_read;                   /* the class counters could be read in this scrape */
};

/* The exposition text of node and the workloads (n of them, in the order given) into a new
 * malloc()ed buffer: *ret_text (NUL-terminated) and *ret_len.  -ENOMEM. */
int metrics_render(const struct metrics_node *node, const struct metrics_workload *w, size_t n, char **ret_text,
                   size_t *ret_len);

/* /healthz: 200 and "ok ..." when the node serves, 503 and the reason when new workloads are
 * refused or may get another node's addresses (subnet taken, lease lost, node left).  The text,
 * one line, goes to buf (always terminated when size > 0). */
unsigned metrics_health(const struct metrics_node *node, char *buf, size_t size);

/* The rates: bytes counted since the previous scrape's sample of the same workload (by host
 * veth; a cgroup by its path), divided by the time between them, once that is at least METRICS_RATE_MIN_WINDOW; a
 * counter that went down (the class was re-created) gives no rate for that window.  Fills
 * w[i].rated and w[i].rate for each workload, and remembers the samples for the next call;
 * workloads no longer given are forgotten.  now: a monotonic time in seconds.  On -ENOMEM the
 * rates are left unknown and the remembered samples as they were. */
struct metrics_rates;
int metrics_rates_new(struct metrics_rates **ret);
void metrics_rates_free(struct metrics_rates *r);
int metrics_rates_update(struct metrics_rates *r, double now, struct metrics_workload *w, size_t n);

/* shoald: serve when the config asks (after the API is up); stop at shutdown.  Start-up errors
 * are logged here, naming the key and the address. */
int metrics_start(struct manager *m);
void metrics_stop(struct manager *m);
