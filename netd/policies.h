/* The store's bandwidth policies in shoald ("policies/<name>", netd/policy.h has the format).
 *
 * Start-up reads them before the attachments are restored (so a restored workload gets its policy
 * share at once), then watches the prefix; each change is applied to every workload of this node
 * at once (admission, then the classes changed in place, as netctl quota set does).  A policy
 * change that admission refuses for a workload leaves it the share it had, logged; the reconcile
 * timer tries again.  A watch that died or was compacted is listed again.
 *
 * The API's policy operations (policies, policySet, policyDelete) read and write the store: the
 * store is the truth every host follows; this node applies a change when its watch delivers it. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "netd/policy.h"
#include "netd/records.h"

struct manager;

/* Start-up, before attach_restore(): list and watch.  A store that cannot be read is logged and
 * retried by the reconcile timer; it never stops shoald (workloads get their own asks meanwhile). */
int policies_start(struct manager *m);
/* The reconcile timer: re-apply (a refused change may fit now), restart a dead watch. */
void policies_reconcile(struct manager *m);
void policies_stop(struct manager *m);
void policies_free(struct manager *m);

/* The policy that applies to a workload now (NULL: none), and what it then asks for: its own ask
 * (rec->bandwidth) merged with the policy (policy_merge). */
const struct policy *policies_for(const struct manager *m, const struct record_attach *rec);
void policies_effective(const struct manager *m, const struct record_attach *rec, struct request_bandwidth *ret);
/* The same for a cgroup with a quota (netd/cgroups.h): matched on its path (the "cgroup" key). */
const struct policy *policies_for_cgroup(const struct manager *m, const char *path);
void policies_effective_cgroup(const struct manager *m, const struct record_cgroup *rec, struct request_bandwidth *ret);
/* How admission names the workload in a refusal: its pod name (or container id), with the policy
 * that applies, "web-1 (policy prod)".  Returns buf. */
#define POLICIES_NAMELEN 400
const char *policies_admit_name(const struct manager *m, const struct record_attach *rec, char buf[POLICIES_NAMELEN]);

/* The API's operations, answered asynchronously: cb runs once, on the loop, never inside the call,
 * with the answer's fields (owned by cb) or err < 0 and msg.  A negative return (with msg) means cb
 * will not run.  Errors: -ENOENT no such policy (delete); -EINVAL a policy the store holds but
 * that does not parse is listed with its "error"; store failures as the store reports them. */
typedef void (*policies_done_cb)(void *userdata, int err, json_t *result, const char *msg);
int policies_list(struct manager *m, policies_done_cb cb, void *userdata, char msg[512]);
int policies_set(struct manager *m, const struct policy *p, policies_done_cb cb, void *userdata, char msg[512]);
int policies_delete(struct manager *m, const char *name, policies_done_cb cb, void *userdata, char msg[512]);
