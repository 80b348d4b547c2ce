#include "lib/ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>


int ipc_send_all(int sock, const char *data, size_t len, int pass_fd)
{
	bool fd_sent = pass_fd < 0;

	while (len > 0) {
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (!fd_sent) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof(u));
			msg.msg_control = u.buf;
			msg.msg_controllen = sizeof(u.buf);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		fd_sent = true;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the answer until EOF.  shoald answers a connection it refuses (permission, quota) and closes it
 * without reading the request; the kernel then reports ECONNRESET after the answer instead of EOF,
 * so a reset after some data ends the answer like EOF does: whether it is complete is for the JSON
 * parser to say. */
static int read_answer(int sock, char **ret_data)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > IPC_MAX_MESSAGE)
				goto too_big;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(sock, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET && len > 0)
				break;
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > IPC_MAX_MESSAGE)
			goto too_big;
	}
	buf[len] = '\0';
	*ret_data = buf;
	return 0;
too_big:
	free(buf);
	return -EFBIG;
}

int ipc_call(const char *socket_path, json_t *request, int pass_fd, int timeout_ms, json_t **ret_response)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	char *req = NULL, *resp = NULL;
	json_error_t jerr;
	json_t *parsed;
	int sock, r, send_err;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	req = json_dumps(request, JSON_COMPACT);
	if (!req)
		return -ENOMEM;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		r = -errno;
		goto out;
	}
	if (timeout_ms > 0) {
		setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	r = ipc_send_all(sock, req, strlen(req), pass_fd);
	if (r == 0 && shutdown(sock, SHUT_WR) < 0)
		r = -errno;
	send_err = r;
	/* shoald may have answered and closed before reading our request (it refused us): what it
	 * said is worth more than EPIPE. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		goto out;
	r = read_answer(sock, &resp);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		r = -ETIMEDOUT;
	if (r < 0) {
		if (send_err < 0)
			r = send_err;
		goto out;
	}
	parsed = json_loads(resp, 0, &jerr);
	if (!parsed || !json_is_object(parsed)) {
		json_decref(parsed);
		r = send_err < 0 ? send_err : -EPROTO;
		goto out;
	}
	*ret_response = parsed;
	r = 0;
out:
	if (sock >= 0)
		close(sock);
	free(req);
	free(resp);
	return r;
}
