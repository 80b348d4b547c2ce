#include "netd/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int lock_netns(int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(LOCK_NETNS_NAME));
	int fd, r;

	memcpy(sa.sun_path + 1, LOCK_NETNS_NAME, strlen(LOCK_NETNS_NAME));   /* sun_path[0] = 0: abstract */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int lock_state_dir(const char *state_dir, bool create, int *ret_fd)
{
	char lock[300];
	int fd, r;

	if (snprintf(lock, sizeof(lock), "%s/shoald.lock", state_dir) >= (int)sizeof(lock))
		return -ENAMETOOLONG;
	fd = open(lock, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		if (!create && errno == ENOENT) {
			*ret_fd = -1;
			return 0;
		}
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
