/* `netctl top`: per-workload rates from two answers of op "workloads" (docs/api.md: each entry's
 * "counters", the kernel's HTB class counters per direction).  Pure functions of their input, so
 * unit tests feed two canned answers and compare the numbers and the text. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* The sample between two "workloads" lists taken interval_ms apart (the later one at unix_ms):
 *
 *   {"timestamp": "2026-12-02T06:40:01.234Z", "intervalMs": 1002, "workloads": [
 *     {"containerId", "ifname", "address", "namespace", "pod", "bitRate": in + out,
 *      "ingress": {"bitRate", "packetRate", "bytes", "packets", "drops", "overlimits", "borrows",
 *                  "guaranteeBitRate", "limitBitRate"},
 *      "egress": {...}}, ...]}
 *
 * Rates are per second over the interval (bit/s from the byte counters: whole frames); bytes ..
 * borrows are the counters' growth in the interval.  They are null where unknown: a workload
 * not in prev (or without counters then), a direction without a class (not admitted), or a
 * counter that went backwards (the class was re-created).  Guarantee and limit are the share
 * the workload has now (null without one).  The list is sorted by bitRate, highest first, then
 * by container id and interface.  Workloads of cur only are listed; a new reference, NULL on
 * out of memory or when cur is not an array (prev may be NULL: every rate unknown).
 *
 * A cgroup's entry of the lists ({"kind": "cgroup", "cgroup": PATH, "bandwidth", "counters"}) is
 * matched by its path and sampled the same way: {"kind": "cgroup", "cgroup", "bitRate",
 * "ingress", "egress"}; on equal bitRate, cgroups come after the attachments, by path. */
json_t *netctl_top_sample(const json_t *prev, const json_t *cur, long long interval_ms, long long unix_ms);

/* The frame of a sample for people: a summary line, then the table
 * CONTAINER ID  POD  IN RATE  IN GUARANTEE/LIMIT  OUT RATE  OUT GUARANTEE/LIMIT  DROPS  BORROWS
 * (DROPS and BORROWS: both directions, in the interval; a cgroup's CONTAINER ID is cgroup:PATH,
 * its POD -); NETCTL_FORMAT_WIDE adds IFNAME and
 * ADDRESS, NETCTL_FORMAT_HEADERS the header line, NETCTL_FORMAT_NO_TRUNC whole ids. */
int netctl_top_format(const json_t *sample, unsigned flags, FILE *out);

/* A rate for a table cell: 0bit, 999bit, 1.0kbit, 47.7mbit, 9.4gbit (powers of 1000, one
 * decimal). */
void netctl_top_format_rate(uint64_t bps, char *buf, size_t size);
