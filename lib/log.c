#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level current = LOG_LVL_INFO;
static const char *const names[] = { "error", "warning", "info", "debug" };

void log_set_level(enum log_level level) { current = level; }
enum log_level log_get_level(void) { return current; }

int log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > current)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so lines of concurrent threads do not interleave. */
	fprintf(stderr, "shoal %s: %s\n", names[level], line);
}
