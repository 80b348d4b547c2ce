/* What netctl prints: API answers (docs/api.md) turned into tables and JSON.  Pure functions of
 * their input, so unit tests feed JSON and compare text. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Sorted copies (new references) of the API's lists: workloads by (containerId, ifname), subnets
 * by address.  Tables and -o json use the same order, so both are stable between calls. */
json_t *netctl_sort_workloads(const json_t *list);
json_t *netctl_sort_subnets(const json_t *list);

int netctl_format_status(const json_t *status, FILE *out);
int netctl_format_subnets(const json_t *list, bool headers, FILE *out);
int netctl_format_workloads(const json_t *list, bool headers, bool no_trunc, FILE *out);
/* Indented JSON and a newline. */
int netctl_format_json(const json_t *value, FILE *out);

/* 0s, 59s, 1m0s, 2h3m, 3d4h: compact and exact enough for an uptime. */
void netctl_format_duration(long long seconds, char *buf, size_t size);
