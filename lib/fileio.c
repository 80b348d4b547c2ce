#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync_dir(const char *dir)
{
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_and_rename(const char *path, const void *data, size_t len, int mode, bool durable)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = data;
	char *slash;
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (durable && fdatasync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	if (!durable)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		return fsync_dir(slash == dir ? "/" : dir);
	}
	return fsync_dir(".");
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	return write_and_rename(path, data, len, mode, true);
}

int file_replace(const char *path, const void *data, size_t len, int mode)
{
	return write_and_rename(path, data, len, mode, false);
}

int fd_read_all(int fd, size_t max, char **ret_data, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret_data = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int file_read_all(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, max, ret_data, ret_len);
	close(fd);
	return r;
}

int mkdir_p(const char *path, int mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) < 0) {
		struct stat st;

		if (errno != EEXIST)
			return -errno;
		/* EEXIST also means "a file is in the way". */
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}
