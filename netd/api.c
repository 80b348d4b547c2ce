#include "netd/api.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cnierr.h"
#include "lib/fileio.h"
#include "lib/ipc.h"
#include "lib/log.h"

/* A client has this long to send its request and read the answer; a stuck client then loses its
 * connection instead of holding memory and a descriptor forever. */
#define API_CONN_TIMEOUT_MS 10000
/* Connections at once; beyond it the listener pauses until one closes. */
#define API_MAX_CONNS 512
#define API_ACCEPT_BACKOFF_MS 100

struct conn;

struct api {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t backoff;      /* restarts accepting after EMFILE or the connection cap */
	int fd;
	char path[108];
	gid_t gid;
	api_handler handler;
	void *userdata;
	struct conn *conns;      /* open connections, so api_stop() can drop them */
	size_t n_conns;
	unsigned pending_closes; /* handles whose close callback has not run yet */
	bool listening;
	bool stopping;
};

struct conn {
	uv_poll_t poll;
	uv_timer_t timer;
	int fd;
	int passed_fd;
	struct api *api;
	char *buf;               /* the request, then the response */
	size_t len, cap, sent;
	bool responding;
	bool closing;
	unsigned closed_handles;
	struct conn *prev, *next;
};

json_t *api_error(int code, const char *msg, const char *details_fmt, ...)
{
	char details[1024] = "";
	va_list ap;

	if (details_fmt) {
		va_start(ap, details_fmt);
		vsnprintf(details, sizeof(details), details_fmt, ap);
		va_end(ap);
	}
	return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "code", code, "msg", msg, "details", details);
}

static void api_maybe_free(struct api *a)
{
	if (a->stopping && a->pending_closes == 0 && !a->conns) {
		close(a->fd);
		free(a);
	}
}

static void api_listen(struct api *a, bool on);

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct api *a = c->api;

	/* Two handles per connection: free on the second callback. */
	if (++c->closed_handles < 2)
		return;
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c->buf);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_conns--;
	free(c);
	if (!a->stopping && !a->listening && a->n_conns < API_MAX_CONNS)
		api_listen(a, true);
	api_maybe_free(a);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->poll, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_conn_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_conn(uv_poll_t *h, int status, int events);

/* Write what the socket takes; the rest when it is writable again.  Never blocks the loop. */
static void conn_flush(struct conn *c)
{
	while (c->sent < c->len) {
		ssize_t n = send(c->fd, c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				uv_poll_start(&c->poll, UV_WRITABLE | UV_DISCONNECT, on_conn);
				return;
			}
			break;
		}
		c->sent += (size_t)n;
	}
	conn_close(c);
}

static void conn_respond(struct conn *c, json_t *resp)
{
	char *out;

	if (!resp)
		resp = api_error(SHOAL_ERR_INTERNAL, "internal error", "out of memory");
	out = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	json_decref(resp);
	if (!out) {
		conn_close(c);
		return;
	}
	free(c->buf);
	c->buf = out;
	c->len = strlen(out);
	c->sent = 0;
	c->responding = true;
	conn_flush(c);
}

static void conn_dispatch(struct conn *c)
{
	json_error_t jerr;
	json_t *req;

	uv_poll_stop(&c->poll);
	req = json_loadb(c->buf ? c->buf : "", c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || !json_is_object(req)) {
		json_decref(req);
		conn_respond(c, api_error(CNI_ERR_DECODE, "failed to decode the request",
		                          "the request is not a JSON object: %s", req ? "" : jerr.text));
		return;
	}
	conn_respond(c, c->api->handler(c->api->userdata, req, c->passed_fd));
	json_decref(req);
}

/* Read what is there; -EAGAIN when more is to come, 0 on EOF, other -errno on failure. */
static int conn_read(struct conn *c)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} u;
		struct iovec iov;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		                      .msg_controllen = sizeof(u.buf) };
		ssize_t n;

		if (c->cap - c->len < 4096) {
			size_t ncap = c->cap ? c->cap * 2 : 8192;
			char *nb;

			/* Room for the whole limit plus one byte, to tell "at the limit" from "over it". */
			if (ncap > IPC_MAX_MESSAGE + 4096)
				ncap = IPC_MAX_MESSAGE + 4096;
			if (ncap <= c->cap)
				return -EFBIG;
			nb = realloc(c->buf, ncap);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
		iov.iov_base = c->buf + c->len;
		iov.iov_len = c->cap - c->len;
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			size_t nfds;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfds; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				/* One fd per request; extra ones are closed, never leaked. */
				if (c->passed_fd < 0)
					c->passed_fd = fd;
				else
					close(fd);
			}
		}
		if (n == 0)
			return 0;
		c->len += (size_t)n;
		if (c->len > IPC_MAX_MESSAGE)
			return -EFBIG;
	}
}

static void on_conn(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;
	int r;

	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->responding) {
		conn_flush(c);
		return;
	}
	r = conn_read(c);
	if (r == -EAGAIN)
		return;
	if (r == -EFBIG) {
		uv_poll_stop(&c->poll);
		conn_respond(c, api_error(CNI_ERR_DECODE, "request too large", "requests are limited to %u bytes",
		                          IPC_MAX_MESSAGE));
		return;
	}
	if (r < 0) {
		conn_close(c);
		return;
	}
	conn_dispatch(c);
}

static bool peer_allowed(const struct api *a, int fd)
{
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (a->gid == (gid_t)-1)
		return false;
	if (cred.gid == a->gid)
		return true;
	/* Members of socketGroup through a supplementary group count too. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == a->gid)
				return true;
	return false;
}

static void on_backoff(uv_timer_t *t)
{
	struct api *a = t->data;

	if (!a->stopping && a->n_conns < API_MAX_CONNS)
		api_listen(a, true);
}

static void on_listen(uv_poll_t *h, int status, int events);

static void api_listen(struct api *a, bool on)
{
	if (on && !a->listening)
		uv_poll_start(&a->poll, UV_READABLE, on_listen);
	else if (!on && a->listening)
		uv_poll_stop(&a->poll);
	a->listening = on;
}

static void on_listen(uv_poll_t *h, int status, int events)
{
	struct api *a = h->data;

	if (status < 0)
		return;
	while (a->n_conns < API_MAX_CONNS) {
		struct conn *c;
		int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* The pending connection stays readable: pause instead of spinning. */
				log_warn("cannot accept API connections: %s; pausing", strerror(errno));
				api_listen(a, false);
				uv_timer_start(&a->backoff, on_backoff, API_ACCEPT_BACKOFF_MS, 0);
			}
			return;
		}
		if (!peer_allowed(a, fd)) {
			log_warn("refused API connection from a process without permission");
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || uv_poll_init(a->loop, &c->poll, fd) < 0) {
			free(c);
			close(fd);
			continue;
		}
		uv_timer_init(a->loop, &c->timer);
		c->fd = fd;
		c->passed_fd = -1;
		c->api = a;
		c->poll.data = c;
		c->timer.data = c;
		c->next = a->conns;
		if (a->conns)
			a->conns->prev = c;
		a->conns = c;
		a->n_conns++;
		uv_timer_start(&c->timer, on_conn_timeout, API_CONN_TIMEOUT_MS, 0);
		uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, on_conn);
	}
	api_listen(a, false);   /* at the cap: resumes when a connection closes */
}

/* A socket file left by a crashed shoald is removed; a live shoald's socket is not stolen, and
 * something that is not a socket is never deleted. */
static int clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int api_start(uv_loop_t *loop, const char *path, const char *group, api_handler handler, void *userdata,
              struct api **ret, char err[API_ERRLEN])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct api *a;
	char *slash;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, API_ERRLEN, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->loop = loop;
	a->handler = handler;
	a->userdata = userdata;
	a->gid = (gid_t)-1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	strcpy(sa.sun_path, path);
	if (group && group[0]) {
		struct group *g = getgrnam(group);

		if (!g) {
			snprintf(err, API_ERRLEN, "socket group %s does not exist", group);
			r = -ENOENT;
			goto fail;
		}
		a->gid = g->gr_gid;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0755);
		if (r < 0) {
			snprintf(err, API_ERRLEN, "create %s: %s", dir, strerror(-r));
			goto fail;
		}
	}
	r = clear_stale_socket(&sa);
	if (r < 0) {
		snprintf(err, API_ERRLEN, "%s: %s", path,
		         r == -EADDRINUSE ? "another shoald is serving this socket" :
		         r == -EEXIST ? "exists and is not a socket; not removing it" : strerror(-r));
		goto fail;
	}
	/* Nobody can connect before listen(), which comes after chmod/chown. */
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0 || bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || (a->gid != (gid_t)-1 && chown(path, 0, a->gid) < 0) || listen(a->fd, 512) < 0) {
		r = -errno;
		snprintf(err, API_ERRLEN, "listen on %s: %s", path, strerror(errno));
		goto fail;
	}
	r = uv_poll_init(loop, &a->poll, a->fd);
	if (r < 0) {
		snprintf(err, API_ERRLEN, "poll %s: %s", path, uv_strerror(r));
		goto fail;
	}
	a->poll.data = a;
	uv_timer_init(loop, &a->backoff);
	a->backoff.data = a;
	api_listen(a, true);
	*ret = a;
	return 0;
fail:
	if (a->fd >= 0)
		close(a->fd);
	free(a);
	return r;
}

static void api_handle_closed(uv_handle_t *h)
{
	struct api *a = h->data;

	a->pending_closes--;
	api_maybe_free(a);
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	a->stopping = true;
	unlink(a->path);
	for (struct conn *c = a->conns; c; c = c->next)
		conn_close(c);
	a->pending_closes = 2;
	uv_close((uv_handle_t *)&a->poll, api_handle_closed);
	uv_close((uv_handle_t *)&a->backoff, api_handle_closed);
}
