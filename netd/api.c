#include "netd/api.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Deadlines from accept: a client has API_RECV_TIMEOUT_MS to deliver its whole request (the plugin
 * sends it right after connect; only a stuck or hostile client needs longer) and API_CONN_TIMEOUT_MS
 * for the whole exchange.  A stuck client then loses its connection instead of holding a slot. */
#define API_RECV_TIMEOUT_MS 2000
#define API_CONN_TIMEOUT_MS 10000
/* The pool every request is served from. */
#define API_MAX_CONNS 512
/* Beyond the pool: connections that may only ask {"op":"status"}, so an operator can still see
 * what shoald is doing when the pool is full.  Anything else there is answered "busy" (11). */
#define API_STATUS_CONNS 16
/* Connections one uid other than root and shoald's own may hold in both pools together: a member of
 * socketGroup cannot take the slots the runtimes (root) need. */
#define API_UID_QUOTA 16
/* Requests over API_MAX_REQUEST are taken from root and shoald's uid only (a gc whose valid list is
 * long), and from at most this many connections at once, each up to IPC_MAX_MESSAGE. */
#define API_MAX_LARGE 2
/* Connections accepted per wake-up, so a connect storm cannot starve the rest of the loop (libuv
 * polls level-triggered: what is left in the backlog wakes us again). */
#define API_ACCEPT_BATCH 64
#define API_ACCEPT_BACKOFF_MS 100
/* Request buffers freed since the last malloc_trim() before the next idle moment trims: glibc keeps
 * freed heap memory mapped, so a burst of large requests would otherwise stay in RSS for good. */
#define API_TRIM_THRESHOLD (1u << 20)

struct conn;

struct api {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t backoff;      /* restarts accepting after EMFILE */
	int fd;
	char path[108];
	gid_t gid;
	char group[64];          /* socketGroup's name, for the refusal's details */
	api_handler handler;
	void *userdata;
	struct conn *conns;      /* open connections, so api_stop() can drop them */
	size_t n_conns;          /* both pools */
	size_t n_status;         /* of which in the status-only pool */
	size_t n_large;          /* connections whose request may exceed API_MAX_REQUEST */
	size_t freed_bytes;      /* request buffer bytes freed since the last trim */
	uint64_t last_refusal_log;
	unsigned refusals_unlogged;
	unsigned pending_closes; /* handles whose close callback has not run yet */
	bool listening;
	bool stopping;
};

struct conn {
	uv_poll_t poll;
	uv_timer_t timer;        /* the receive deadline, then the exchange's */
	uint64_t accepted;       /* uv_now() at accept */
	int fd;
	int passed_fd;
	uid_t uid;
	bool privileged;         /* root or shoald's uid: no quota, may send large requests */
	bool status_only;        /* in the overflow pool */
	bool large;              /* holds one of the API_MAX_LARGE slots */
	struct api *api;
	char *buf;               /* the request, then the response */
	size_t len, cap, sent;
	bool responding;
	bool closing;
	bool deferred;           /* the handler answers later: api_call_reply() owns the memory */
	bool orphaned;           /* closed while deferred; freed by api_call_reply() */
	unsigned closed_handles;
	struct conn *prev, *next;
};

/* An api_call is the connection it answers; the alias keeps struct conn private. */
json_t api_deferred;

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
	a->freed_bytes += c->cap;
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_conns--;
	if (c->status_only)
		a->n_status--;
	if (c->large)
		a->n_large--;
	if (c->deferred)
		c->orphaned = true;   /* api_call_reply() frees it */
	else
		free(c);
	/* The end of a burst: hand what it used back to the system (see API_TRIM_THRESHOLD). */
	if (a->n_conns == 0 && a->freed_bytes >= API_TRIM_THRESHOLD) {
		malloc_trim(0);
		a->freed_bytes = 0;
	}
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

static void on_conn(uv_poll_t *h, int status, int events);
static void conn_respond(struct conn *c, json_t *resp);

/* What is left of the exchange's deadline, at least 1 ms. */
static uint64_t conn_time_left(const struct conn *c)
{
	uint64_t now = uv_now(c->api->loop), end = c->accepted + API_CONN_TIMEOUT_MS;

	return end > now ? end - now : 1;
}

static void on_conn_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	/* An answer still being computed when the exchange's deadline passes is dropped: the client
	 * sees the connection close, as for any deadline. */
	if (c->responding || c->deferred) {
		conn_close(c);
		return;
	}
	/* The request did not end in time: say why (a client that forgot shutdown(SHUT_WR) learns
	 * it), within what is left of the exchange's deadline. */
	uv_timer_start(&c->timer, on_conn_timeout, conn_time_left(c), 0);
	uv_poll_stop(&c->poll);
	conn_respond(c, api_error(CNI_ERR_DECODE, "request not received in time",
	                          "the request did not end within %u ms; end it with shutdown(SHUT_WR)",
	                          API_RECV_TIMEOUT_MS));
}

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
	c->api->freed_bytes += c->cap;
	c->buf = out;
	c->len = strlen(out);
	c->cap = c->len;
	c->sent = 0;
	c->responding = true;
	conn_flush(c);
}

#define busy_error(...) api_error(CNI_ERR_TRY_AGAIN_LATER, "busy, try again", __VA_ARGS__)

static void conn_dispatch(struct conn *c)
{
	json_error_t jerr;
	const char *op;
	json_t *req, *resp;

	uv_poll_stop(&c->poll);
	/* From here the exchange's deadline applies. */
	uv_timer_start(&c->timer, on_conn_timeout, conn_time_left(c), 0);
	req = json_loadb(c->buf ? c->buf : "", c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || !json_is_object(req)) {
		json_decref(req);
		conn_respond(c, api_error(CNI_ERR_DECODE, "failed to decode the request",
		                          "the request is not a JSON object: %s", req ? "" : jerr.text));
		return;
	}
	op = json_string_value(json_object_get(req, "op"));
	if (c->status_only && (!op || strcmp(op, "status") != 0)) {
		json_decref(req);
		conn_respond(c, busy_error("shoald is serving %u connections; beyond them only {\"op\": \"status\"} "
		                           "is answered", API_MAX_CONNS));
		return;
	}
	resp = c->api->handler(c->api->userdata, req, c->passed_fd, (struct api_call *)c);
	json_decref(req);
	/* The namespace fd is only for the handler's synchronous part. */
	if (c->passed_fd >= 0) {
		close(c->passed_fd);
		c->passed_fd = -1;
	}
	if (resp != API_DEFERRED)
		conn_respond(c, resp);
}

struct api_call *api_call_defer(struct api_call *call)
{
	((struct conn *)call)->deferred = true;
	return call;
}

void api_call_reply(struct api_call *call, json_t *resp)
{
	struct conn *c = (struct conn *)call;

	c->deferred = false;
	if (c->orphaned) {
		json_decref(resp);
		free(c);
		return;
	}
	if (c->closing) {
		json_decref(resp);   /* its handles are closing; conn_handle_closed() frees it */
		return;
	}
	conn_respond(c, resp);
}

/* A request may grow past API_MAX_REQUEST only from a privileged peer holding one of the
 * API_MAX_LARGE slots. */
static int conn_grow_limit(struct conn *c)
{
	if (!c->privileged || c->large)
		return -EFBIG;
	if (c->api->n_large >= API_MAX_LARGE)
		return -EBUSY;
	c->large = true;
	c->api->n_large++;
	return 0;
}

/* Read what is there; -EAGAIN when more is to come, 0 on EOF, -EFBIG over the limit, -EBUSY over the
 * limit while the large slots are taken, other -errno on failure. */
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
		size_t limit = c->large ? IPC_MAX_MESSAGE : API_MAX_REQUEST;
		ssize_t n;
		int r;

		if (c->len > limit) {
			r = conn_grow_limit(c);
			if (r < 0)
				return r;
			limit = IPC_MAX_MESSAGE;
		}
		if (c->len == c->cap) {
			/* Grow by doubling up to the limit plus one byte, to tell "at the limit" from
			 * "over it": a buffer never exceeds what its request may be. */
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			char *nb;

			if (ncap > limit + 1)
				ncap = limit + 1;
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
	if (r == -EFBIG || r == -EBUSY) {
		uv_poll_stop(&c->poll);
		uv_timer_start(&c->timer, on_conn_timeout, conn_time_left(c), 0);
		if (r == -EBUSY)
			conn_respond(c, busy_error("%u requests over %u bytes are being received; retry shortly",
			                           API_MAX_LARGE, API_MAX_REQUEST));
		else
			conn_respond(c, api_error(CNI_ERR_DECODE, "request too large", "requests are limited to %u bytes",
			                          c->large ? IPC_MAX_MESSAGE : API_MAX_REQUEST));
		return;
	}
	if (r < 0) {
		conn_close(c);
		return;
	}
	conn_dispatch(c);
}

/* Answer a connection we will not serve, without waiting for anything: the answer is far smaller
 * than a socket buffer, so it is either sent at once or not at all.  What the client already sent
 * is read and dropped first, so that close() sends EOF rather than a reset where it can. */
static void refuse(int fd, json_t *resp)
{
	char *out = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	char drain[4096];

	json_decref(resp);
	for (size_t got = 0; got < API_MAX_REQUEST;) {
		ssize_t n = recv(fd, drain, sizeof(drain), MSG_DONTWAIT);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (out && send(fd, out, strlen(out), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("could not answer a refused API connection: %s", strerror(errno));
	free(out);
	close(fd);
}

/* One warning a second at most: a client allowed to connect to the socket file must not be able to
 * flood the log. */
static void log_refusal(struct api *a, uid_t uid, const char *why)
{
	uint64_t now = uv_now(a->loop);

	if (a->last_refusal_log && now - a->last_refusal_log < 1000) {
		a->refusals_unlogged++;
		return;
	}
	log_warn("refused API connection from uid %lu: %s", (unsigned long)uid, why);
	if (a->refusals_unlogged)
		log_warn("(%u more API connections refused in the last second)", a->refusals_unlogged);
	a->last_refusal_log = now;
	a->refusals_unlogged = 0;
}

static bool in_groups(const struct api *a, int fd, gid_t primary)
{
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	if (a->gid == (gid_t)-1)
		return false;
	if (primary == a->gid)
		return true;
	/* Members of socketGroup through a supplementary group count too. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == a->gid)
				return true;
	return false;
}

static unsigned conns_of_uid(const struct api *a, uid_t uid)
{
	unsigned n = 0;

	for (const struct conn *c = a->conns; c; c = c->next)
		n += c->uid == uid;
	return n;
}

/* Admit an accepted connection to a pool, or answer why not and close it.  Decides and logs. */
static void api_admit(struct api *a, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool privileged, status_only = false;
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	privileged = cred.uid == 0 || cred.uid == geteuid();
	if (!privileged && !in_groups(a, fd, cred.gid)) {
		log_refusal(a, cred.uid, a->gid == (gid_t)-1 ? "not root or shoald's uid" : "not root, shoald's uid or in socketGroup");
		if (a->gid == (gid_t)-1)
			refuse(fd, api_error(CNI_ERR_IO, "permission denied", "uid %lu is not root or shoald's uid "
			                     "(\"socketGroup\" is not set)", (unsigned long)cred.uid));
		else
			refuse(fd, api_error(CNI_ERR_IO, "permission denied", "uid %lu is not root, shoald's uid or in "
			                     "group %s", (unsigned long)cred.uid, a->group));
		return;
	}
	if (!privileged && conns_of_uid(a, cred.uid) >= API_UID_QUOTA) {
		log_refusal(a, cred.uid, "too many connections open");
		refuse(fd, busy_error("uid %lu has %u connections to shoald open, the most a uid other than root may",
		                      (unsigned long)cred.uid, API_UID_QUOTA));
		return;
	}
	if (a->n_conns - a->n_status >= API_MAX_CONNS) {
		if (a->n_status >= API_STATUS_CONNS) {
			log_refusal(a, cred.uid, "every connection slot is taken");
			refuse(fd, busy_error("shoald is serving %u connections", API_MAX_CONNS + API_STATUS_CONNS));
			return;
		}
		status_only = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c || uv_poll_init(a->loop, &c->poll, fd) < 0) {
		free(c);
		refuse(fd, api_error(SHOAL_ERR_INTERNAL, "internal error", "out of memory"));
		return;
	}
	uv_timer_init(a->loop, &c->timer);
	c->fd = fd;
	c->passed_fd = -1;
	c->uid = cred.uid;
	c->privileged = privileged;
	c->status_only = status_only;
	c->accepted = uv_now(a->loop);
	c->api = a;
	c->poll.data = c;
	c->timer.data = c;
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->n_conns++;
	a->n_status += status_only;
	uv_timer_start(&c->timer, on_conn_timeout, API_RECV_TIMEOUT_MS, 0);
	uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, on_conn);
}

static void on_backoff(uv_timer_t *t)
{
	struct api *a = t->data;

	if (!a->stopping)
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

/* The listener never pauses for a full pool (waiting clients would sit in the backlog until some
 * connection's deadline fires): every connection is admitted or answered at once.  It pauses only
 * when the process runs out of descriptors or memory. */
static void on_listen(uv_poll_t *h, int status, int events)
{
	struct api *a = h->data;

	if (status < 0)
		return;
	for (unsigned i = 0; i < API_ACCEPT_BATCH; i++) {
		int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* The pending connection stays readable: pause instead of spinning. */
				log_warn("cannot accept API connections: %s; pausing", strerror(errno));
				api_listen(a, false);
				uv_timer_start(&a->backoff, on_backoff, API_ACCEPT_BACKOFF_MS, 0);
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		api_admit(a, fd);
	}
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
		snprintf(a->group, sizeof(a->group), "%s", group);
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
