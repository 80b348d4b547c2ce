#include "netctl/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NETCTL_TABLE_GAP 3

struct netctl_table {
	size_t n_cols;
	size_t n_rows;
	size_t cap_rows;
	char **cells;       /* row-major; row 0 holds the headers */
};

struct netctl_table *netctl_table_new(size_t n_cols, const char *const *headers)
{
	struct netctl_table *t = calloc(1, sizeof(*t));

	if (!t || n_cols == 0)
		goto fail;
	t->n_cols = n_cols;
	if (netctl_table_add_row(t, headers) < 0)
		goto fail;
	return t;
fail:
	netctl_table_free(t);
	return NULL;
}

void netctl_table_free(struct netctl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

static char *netctl_table_cell(const char *s)
{
	char *c;

	if (!s || !*s)
		s = "-";
	c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

int netctl_table_add_row(struct netctl_table *t, const char *const *cells)
{
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **nc = realloc(t->cells, cap * t->n_cols * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap_rows = cap;
	}
	for (size_t c = 0; c < t->n_cols; c++) {
		char *cell = netctl_table_cell(cells[c]);

		if (!cell) {
			while (c-- > 0)
				free(t->cells[t->n_rows * t->n_cols + c]);
			return -ENOMEM;
		}
		t->cells[t->n_rows * t->n_cols + c] = cell;
	}
	t->n_rows++;
	return 0;
}

size_t netctl_table_rows(const struct netctl_table *t)
{
	return t->n_rows - 1;
}

int netctl_table_print(const struct netctl_table *t, bool headers, FILE *out)
{
	size_t first = headers ? 0 : 1;
	size_t *widths = calloc(t->n_cols, sizeof(*widths));

	if (!widths)
		return -ENOMEM;
	/* Widths of the rows printed only: without headers the columns are as narrow as the data. */
	for (size_t r = first; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t len = strlen(t->cells[r * t->n_cols + c]);

			if (len > widths[c])
				widths[c] = len;
		}
	for (size_t r = first; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *cell = t->cells[r * t->n_cols + c];

			if (c + 1 < t->n_cols)
				fprintf(out, "%-*s%*s", (int)widths[c], cell, NETCTL_TABLE_GAP, "");
			else
				fprintf(out, "%s\n", cell);
		}
	}
	free(widths);
	return ferror(out) ? -EIO : 0;
}
