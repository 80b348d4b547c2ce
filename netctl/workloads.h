/* Choosing workloads from the API's list (docs/api.md, op "workloads"): the --namespace/--pod
 * filters of `workload list` and the lookup of `workload get` and `quota get/set`.  Pure functions
 * of the list. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The entries whose "namespace" and "pod" equal ns and pod (NULL: any).  An entry without the
 * field (an older shoald) has "" there, so it matches no filter but "".  A new reference, or NULL
 * when list is not an array or on out of memory. */
json_t *netctl_workloads_filter(const json_t *list, const char *ns, const char *pod);

/* Does any entry carry the pod fields?  (An older shoald sends none.) */
bool netctl_workloads_have_pods(const json_t *list);

/* The one attachment `workload get ID [IFNAME]` names.  id is a whole container id or a prefix
 * of exactly one container's id (a whole id wins over a longer id it is a prefix of); ifname may be
 * NULL when the container has one attachment.  Returns 0 and a borrowed entry; -ENOENT (no such
 * container, or no such interface in it) or -ENOTUNIQ (the prefix fits several containers, or the
 * container has several interfaces and ifname is NULL) with a one-line message in err that names
 * the candidates, without "netctl: ". */
int netctl_workloads_find(const json_t *list, const char *id, const char *ifname, const json_t **ret,
			  char *err, size_t err_size);
/* The same for another command that names a workload ("quota set"): the message's hint names it. */
int netctl_workloads_find_for(const json_t *list, const char *id, const char *ifname, const char *command,
			      const json_t **ret, char *err, size_t err_size);

/* Cgroups with a quota of their own (docs/api.md, op "workloads": the "cgroups" list; each entry
 * {"kind": "cgroup", "cgroup": PATH relative to the v2 mount, "cgroupDir": the whole path, ...}). */

/* Is w a cgroup's entry rather than an attachment's? */
bool netctl_workload_is_cgroup(const json_t *w);

/* The entry of the API's "cgroups" list that path names.  0 and a borrowed entry; -ENOENT (no
 * quota for that cgroup) or -EINVAL (a bad path) with a one-line message in err, without
 * "netctl: ".  cgroups may be NULL (an older shoald): no cgroup has a quota. */
int netctl_cgroups_find(const json_t *cgroups, const char *path, const json_t **ret, char *err, size_t err_size);

/* One list for workload list: the attachments, then the cgroups (a new reference; NULL on out of
 * memory or when workloads is not an array; cgroups may be NULL). */
json_t *netctl_workloads_with_cgroups(const json_t *workloads, const json_t *cgroups);
