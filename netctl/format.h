/* What netctl prints: API answers (docs/api.md) turned into tables, JSON and YAML.  Pure functions
 * of their input, so unit tests feed JSON and compare text. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Table flags. */
enum {
	NETCTL_FORMAT_HEADERS = 1 << 0,    /* the header line (not with --no-headers) */
	NETCTL_FORMAT_NO_TRUNC = 1 << 1,   /* 64-digit container ids whole */
	NETCTL_FORMAT_WIDE = 1 << 2,       /* -o wide: the columns the table leaves out, appended */
};

/* Sorted copies (new references) of the API's lists: workloads by (containerId, ifname), then the
 * cgroups' entries ({"kind": "cgroup"}) by path; subnets by address.  Tables, JSON and YAML use the same order, so all are stable between calls. */
json_t *netctl_sort_workloads(const json_t *list);
json_t *netctl_sort_subnets(const json_t *list);

/* One field per line; a node that shapes adds one line per direction for "bandwidth". */
int netctl_format_status(const json_t *status, FILE *out);
int netctl_format_subnets(const json_t *list, unsigned flags, FILE *out);
/* `host list`: the API's "hosts" list, sorted by subnet. */
int netctl_format_hosts(const json_t *list, unsigned flags, FILE *out);
/* `network show`: the API's network answer ({storeURL, config: {...}, node: {...}}), one field per
 * line; -EINVAL when config or node is missing. */
int netctl_format_network(const json_t *resp, FILE *out);
/* With -o wide on a node that shapes (entries carry "bandwidth"), each workload's share too.  A
 * cgroup's entry shows cgroup:PATH as its CONTAINER ID and - where it has no value. */
int netctl_format_workloads(const json_t *list, unsigned flags, FILE *out);
/* `quota get` and `quota set`: doc is {"containerId", "ifname", "bandwidth": the effective share
 * or null, "bandwidthAsked", "policy"} (netctl/quota.h), one field per line, each value marked where it is
 * a default or differs from what was asked.  A cgroup's doc has "cgroup" instead of "containerId"
 * and "ifname": one line, Cgroup. */
int netctl_format_quota(const json_t *doc, FILE *out);
/* `policy set`: one policy of the API ({"name", "match", "bandwidth"}, and "workloads" or "error"
 * when given), one field per line, rates in tc's units, "-" for what the policy does not set. */
int netctl_format_policy(const json_t *policy, FILE *out);
/* One workload entry, one field per line (`workload get`); a cgroup's entry ({"kind": "cgroup"})
 * shows its path, directory, id, class and creation instead of the attachment's fields.  now
 * (Unix seconds) gives the age shown beside "created"; 0 leaves the age out.  On a node that
 * shapes, the lines of netctl_format_quota() follow. */
int netctl_format_workload(const json_t *workload, long long now, FILE *out);
/* `netctl version`: doc is {"netctl": V, "shoald": V or null}; a null or missing shoald version
 * is shown as shoald_missing ("unreachable", "unknown"). */
int netctl_format_version(const json_t *doc, const char *shoald_missing, FILE *out);
/* Indented JSON and a newline. */
int netctl_format_json(const json_t *value, FILE *out);
/* Compact JSON on one line (one document per sample of --watch). */
int netctl_format_json_line(const json_t *value, FILE *out);

/* 0s, 59s, 1m0s, 2h3m, 3d4h: compact and exact enough for an uptime. */
void netctl_format_duration(long long seconds, char *buf, size_t size);
/* Unix seconds as UTC RFC 3339, 2025-11-22T01:46:40Z; "-" for 0, negative or out of range. */
void netctl_format_time(long long unix_seconds, char *buf, size_t size);
