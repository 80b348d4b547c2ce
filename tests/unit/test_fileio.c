/* lib/fileio: attachment records and the file store live in files written by file_write_atomic;
 * a torn or half-replaced file after a crash, or a stray temporary, is state shoald would misread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

struct tmp {
	char dir[PATH_MAX];
};

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/shoal-test-fileio.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	nftw(t->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static const char *path_in(const struct tmp *t, const char *name, char buf[PATH_MAX])
{
	snprintf(buf, PATH_MAX, "%s/%s", t->dir, name);
	return buf;
}

/* Names of the entries in dir, sorted-insensitive: we only compare counts and presence. */
static int count_entries(const char *dir, const char *only)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (only && strcmp(e->d_name, only) != 0)
			fail_msg("unexpected file left behind: %s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void test_write_read_round_trip(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], *data = (char *)0x1;
	const char msg[] = "{\"containerId\":\"abc\"}\n";
	size_t len = 12345;

	assert_int_equal(file_write_atomic(path_in(t, "rec.json", p), msg, strlen(msg), 0600), 0);
	assert_int_equal(file_read_all(p, 4096, &data, &len), 0);
	assert_int_equal(len, strlen(msg));
	assert_string_equal(data, msg);         /* NUL-terminated */
	free(data);
	assert_int_equal(count_entries(t->dir, "rec.json"), 1);   /* no temporary left */

	/* replacing with something shorter leaves nothing of the old content */
	assert_int_equal(file_write_atomic(p, "{}", 2, 0600), 0);
	assert_int_equal(file_read_all(p, 4096, &data, &len), 0);
	assert_int_equal(len, 2);
	assert_string_equal(data, "{}");
	free(data);

	/* empty file */
	assert_int_equal(file_write_atomic(p, "", 0, 0600), 0);
	assert_int_equal(file_read_all(p, 4096, &data, NULL), 0);   /* ret_len is optional */
	assert_string_equal(data, "");
	free(data);
	assert_int_equal(count_entries(t->dir, "rec.json"), 1);
}

static void test_binary_and_large(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], *data;
	size_t n = 200000, len;
	unsigned char *big = malloc(n);

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 9));   /* includes NULs */
	assert_int_equal(file_write_atomic(path_in(t, "big", p), big, n, 0644), 0);
	assert_int_equal(file_read_all(p, n, &data, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(data, big, n);
	assert_int_equal(data[n], '\0');
	free(data);
	free(big);
}

static void test_mode(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX];
	struct stat st;
	mode_t old = umask(022);

	assert_int_equal(file_write_atomic(path_in(t, "secret", p), "x", 1, 0600), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(file_write_atomic(path_in(t, "public", p), "x", 1, 0644), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	umask(old);
}

static void test_max_size(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], *data = (char *)0x1;
	char buf[10000];
	size_t len = 77;

	memset(buf, 'a', sizeof(buf));
	assert_int_equal(file_write_atomic(path_in(t, "f", p), buf, 100, 0600), 0);
	assert_int_equal(file_read_all(p, 100, &data, &len), 0);    /* exactly max is fine */
	assert_int_equal(len, 100);
	free(data);
	data = (char *)0x1;
	len = 77;
	assert_int_equal(file_read_all(p, 99, &data, &len), -EFBIG);
	assert_ptr_equal(data, (char *)0x1);    /* outputs untouched on failure */
	assert_int_equal(len, 77);
	assert_int_equal(file_read_all(p, 0, &data, &len), -EFBIG);

	/* around the reader's internal 4096-byte chunk */
	size_t sizes[] = { 4095, 4096, 4097, 8192, 8193, 10000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t s = sizes[i];

		assert_int_equal(file_write_atomic(p, buf, s, 0600), 0);
		assert_int_equal(file_read_all(p, s, &data, &len), 0);
		assert_int_equal(len, s);
		assert_memory_equal(data, buf, s);
		free(data);
		assert_int_equal(file_read_all(p, s - 1, &data, &len), -EFBIG);
	}
}

static void test_read_missing(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], *data = (char *)0x1;
	size_t len = 5;

	assert_int_equal(file_read_all(path_in(t, "nope", p), 100, &data, &len), -ENOENT);
	assert_ptr_equal(data, (char *)0x1);
	assert_int_equal(len, 5);
	assert_int_equal(file_read_all(t->dir, 100, &data, &len), -EISDIR);
}

static void test_fd_read_all_pipe(void **state)
{
	int fds[2];
	char *data;
	size_t len;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "hello", 5), 5);
	close(fds[1]);
	assert_int_equal(fd_read_all(fds[0], 5, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "hello!", 6), 6);
	close(fds[1]);
	assert_int_equal(fd_read_all(fds[0], 5, &data, &len), -EFBIG);
	close(fds[0]);
}

static void test_write_missing_dir(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX];

	assert_int_equal(file_write_atomic(path_in(t, "no/such/file", p), "x", 1, 0600), -ENOENT);
	assert_int_equal(count_entries(t->dir, NULL), 0);
}

static void test_write_over_directory_fails_cleanly(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], q[PATH_MAX];

	/* rename() of a file over a non-empty directory fails: the temporary must go away */
	assert_int_equal(mkdir(path_in(t, "d", p), 0700), 0);
	assert_int_equal(file_write_atomic(path_in(t, "d/x", q), "x", 1, 0600), 0);
	assert_true(file_write_atomic(p, "y", 1, 0600) < 0);
	assert_int_equal(count_entries(t->dir, "d"), 1);
}

static void test_write_relative(void **state)
{
	struct tmp *t = *state;
	char cwd[PATH_MAX], *data;
	size_t len;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->dir), 0);
	int r = file_write_atomic("rel", "abc", 3, 0600);
	int r2 = file_read_all("rel", 10, &data, &len);

	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r, 0);
	assert_int_equal(r2, 0);
	assert_string_equal(data, "abc");
	free(data);
	assert_int_equal(count_entries(t->dir, "rel"), 1);
}

static void test_mkdir_p(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX], q[PATH_MAX];
	struct stat st;
	mode_t old = umask(022);

	assert_int_equal(mkdir_p(path_in(t, "a/b/c/d", p), 0750), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	assert_int_equal(stat(path_in(t, "a/b", q), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);    /* every created component gets the mode */
	/* existing is fine */
	assert_int_equal(mkdir_p(p, 0750), 0);
	assert_int_equal(mkdir_p(path_in(t, "a/b/", q), 0750), 0);
	assert_int_equal(mkdir_p(path_in(t, "x//y/", q), 0700), 0);
	assert_int_equal(stat(path_in(t, "x/y", q), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(mkdir_p("", 0700), -EINVAL);
	/* a file in the way */
	assert_int_equal(file_write_atomic(path_in(t, "file", q), "x", 1, 0600), 0);
	assert_int_equal(mkdir_p(path_in(t, "file/sub", q), 0700), -ENOTDIR);
	umask(old);
}

static void test_mkdir_p_on_file_fails(void **state)
{
	struct tmp *t = *state;
	char p[PATH_MAX];

	/* stateDir pointing at a regular file must fail at startup (like `mkdir -p`), not later
	 * with ENOTDIR on the first attachment record. */
	assert_int_equal(file_write_atomic(path_in(t, "file", p), "x", 1, 0600), 0);
	assert_true(mkdir_p(p, 0700) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_and_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, setup, teardown),
		cmocka_unit_test(test_fd_read_all_pipe),
		cmocka_unit_test_setup_teardown(test_write_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_over_directory_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_on_file_fails, setup, teardown),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
