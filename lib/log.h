/* Logging: one line per event on stderr.  Under systemd (stderr is the journal's stream) a line
 * starts with its syslog priority, "<3>" .. "<7>", and journald adds the time; anywhere else it
 * starts with an ISO-8601 local time and the level.  Only the function that decides logs; helpers
 * return -errno. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Where stderr goes, which decides how a line starts. */
enum log_sink { LOG_SINK_PLAIN, LOG_SINK_JOURNAL };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The start of one line, pure: "<6>" for the journal, "2024-05-01T12:34:56.789+02:00 shoal info: "
 * otherwise (tm and msec are used only then; tm->tm_gmtoff gives the offset).  Returns the length
 * the prefix needs, like snprintf; buf is always terminated when size > 0. */
int log_format_prefix(enum log_level level, enum log_sink sink, const struct tm *tm, long msec, char *buf,
                      size_t size);
/* Whether fd is the stream journald handed us: $JOURNAL_STREAM ("DEV:INO", passed as
 * journal_stream; NULL when unset) names fd's device and inode.  A child that inherits the
 * variable but whose stderr was redirected does not match. */
bool log_fd_is_journal(const char *journal_stream, int fd);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)
