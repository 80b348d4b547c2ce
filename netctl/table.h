/* Aligned text tables for people: a header line, columns padded to their widest cell, three
 * spaces between columns, no trailing blanks (so `grep`, `awk` and `column` work on them). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct netctl_table;

struct netctl_table *netctl_table_new(size_t n_cols, const char *const *headers);
void netctl_table_free(struct netctl_table *t);
/* Copies n_cols cells.  NULL or "" is shown as "-" so every column has a value to cut on;
 * control characters are shown as '?' so a hostile name cannot drive the terminal. */
int netctl_table_add_row(struct netctl_table *t, const char *const *cells);
size_t netctl_table_rows(const struct netctl_table *t);
int netctl_table_print(const struct netctl_table *t, bool headers, FILE *out);
