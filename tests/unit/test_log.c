/* lib/log: how a line starts.  Under systemd the journal reads "<N>" as the syslog priority (and
 * keeps its own time); elsewhere a line carries an ISO-8601 time and the level word. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static void test_journal_prefix(void **state)
{
	char buf[64];
	struct tm tm = { 0 };

	assert_int_equal(log_format_prefix(LOG_LVL_ERROR, LOG_SINK_JOURNAL, &tm, 0, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "<3>");
	log_format_prefix(LOG_LVL_WARN, LOG_SINK_JOURNAL, &tm, 0, buf, sizeof(buf));
	assert_string_equal(buf, "<4>");
	log_format_prefix(LOG_LVL_INFO, LOG_SINK_JOURNAL, &tm, 0, buf, sizeof(buf));
	assert_string_equal(buf, "<6>");
	log_format_prefix(LOG_LVL_DEBUG, LOG_SINK_JOURNAL, &tm, 0, buf, sizeof(buf));
	assert_string_equal(buf, "<7>");
	/* no time: journald stamps the line itself */
	assert_null(strchr(buf, ':'));
}

static void test_plain_prefix(void **state)
{
	struct tm tm = { .tm_year = 2024 - 1900, .tm_mon = 4, .tm_mday = 1, .tm_hour = 9, .tm_min = 5, .tm_sec = 7 };
	char buf[64];
	int n;

	tm.tm_gmtoff = 2 * 3600;
	n = log_format_prefix(LOG_LVL_INFO, LOG_SINK_PLAIN, &tm, 42, buf, sizeof(buf));
	assert_string_equal(buf, "2024-05-01T09:05:07.042+02:00 shoal info: ");
	assert_int_equal(n, (int)strlen(buf));
	tm.tm_gmtoff = -(5 * 3600 + 30 * 60);
	log_format_prefix(LOG_LVL_ERROR, LOG_SINK_PLAIN, &tm, 999, buf, sizeof(buf));
	assert_string_equal(buf, "2024-05-01T09:05:07.999-05:30 shoal error: ");
	tm.tm_gmtoff = 0;
	log_format_prefix(LOG_LVL_WARN, LOG_SINK_PLAIN, &tm, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2024-05-01T09:05:07.000+00:00 shoal warning: ");
	log_format_prefix(LOG_LVL_DEBUG, LOG_SINK_PLAIN, &tm, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2024-05-01T09:05:07.000+00:00 shoal debug: ");
	/* a short buffer is cut and terminated; the needed length is returned */
	n = log_format_prefix(LOG_LVL_DEBUG, LOG_SINK_PLAIN, &tm, 0, buf, 11);
	assert_string_equal(buf, "2024-05-01");
	assert_int_equal(n, (int)strlen("2024-05-01T09:05:07.000+00:00 shoal debug: "));
}

static void test_fd_is_journal(void **state)
{
	char text[64];
	struct stat st;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(text, sizeof(text), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	assert_true(log_fd_is_journal(text, fd));
	/* inherited variable, stderr redirected elsewhere: not the journal */
	snprintf(text, sizeof(text), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino + 1);
	assert_false(log_fd_is_journal(text, fd));
	snprintf(text, sizeof(text), "%ju:%ju", (uintmax_t)st.st_dev + 1, (uintmax_t)st.st_ino);
	assert_false(log_fd_is_journal(text, fd));
	snprintf(text, sizeof(text), "%ju:%jux", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	assert_false(log_fd_is_journal(text, fd));
	assert_false(log_fd_is_journal(NULL, fd));
	assert_false(log_fd_is_journal("", fd));
	assert_false(log_fd_is_journal("12", fd));
	close(fd);
	snprintf(text, sizeof(text), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	assert_false(log_fd_is_journal(text, fd));   /* a closed descriptor */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_prefix),
		cmocka_unit_test(test_plain_prefix),
		cmocka_unit_test(test_fd_is_journal),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
