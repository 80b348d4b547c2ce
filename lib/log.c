#include "lib/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level current = LOG_LVL_INFO;
static const char *const names[] = { "error", "warning", "info", "debug" };
/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int priorities[] = { 3, 4, 6, 7 };
static enum log_sink sink = LOG_SINK_PLAIN;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

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

int log_format_prefix(enum log_level level, enum log_sink s, const struct tm *tm, long msec, char *buf,
                      size_t size)
{
	long off;

	if ((unsigned)level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	/* journald stores the priority and the time itself; a level word would only repeat it. */
	if (s == LOG_SINK_JOURNAL)
		return snprintf(buf, size, "<%d>", priorities[level]);
	off = tm->tm_gmtoff / 60;
	return snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%c%02ld:%02ld shoal %s: ", tm->tm_year + 1900,
	                tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, msec, off < 0 ? '-' : '+',
	                labs(off) / 60, labs(off) % 60, names[level]);
}

bool log_fd_is_journal(const char *journal_stream, int fd)
{
	uintmax_t dev, ino;
	struct stat st;
	int n = 0;

	if (!journal_stream || sscanf(journal_stream, "%ju:%ju%n", &dev, &ino, &n) != 2 || journal_stream[n])
		return false;
	if (fstat(fd, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

static void detect_sink(void)
{
	sink = log_fd_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO) ? LOG_SINK_JOURNAL : LOG_SINK_PLAIN;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char prefix[64], line[1024];
	struct timespec ts = { 0 };
	struct tm tm = { 0 };
	va_list ap;

	if (level > current)
		return;
	pthread_once(&sink_once, detect_sink);
	if (sink == LOG_SINK_PLAIN) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
	}
	log_format_prefix(level, sink, &tm, ts.tv_nsec / 1000000, prefix, sizeof(prefix));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so lines of concurrent threads do not interleave. */
	fprintf(stderr, "%s%s\n", prefix, line);
}
