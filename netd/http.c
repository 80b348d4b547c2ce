/* libmicrohttpd on the libuv loop (netd/http.h).
 *
 * MHD runs in "external polling" mode with MHD_USE_EPOLL: it keeps every socket (the listening
 * one and each connection) in an epoll set of its own and hands out that set's descriptor, which
 * becomes readable when any of them is ready.  One uv_poll watches it; MHD_get_timeout() says how
 * long MHD may wait at most (connection timeouts, or 0 when it has buffered work left), which is
 * the uv_timer.  After every MHD_run() the timer is set again.  No thread is started: MHD's
 * callbacks, and so our handlers, run inside MHD_run() on the loop.
 *
 * libmicrohttpd is loaded (dlopen) by the first http_start(), not linked: Debian's brings GnuTLS
 * and eight more libraries, measured at ~2.6 MiB of resident memory in shoald whether a server
 * runs or not, and metrics are off by default.  The build still compiles against <microhttpd.h>,
 * so types and constants are checked as usual; only the symbols are resolved late (as
 * store/tls.h does for OpenSSL). */
#include "netd/http.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

/* A scrape is one request on a fresh or kept-alive connection; a few scrapers at a time. */
#define HTTP_MAX_CONNECTIONS 32
/* Seconds of idleness after which MHD closes a connection (a stalled client holds nothing long). */
#define HTTP_CONNECTION_TIMEOUT 10
#define HTTP_BACKLOG 64

/* Debian's libmicrohttpd12 ships this soname; libmicrohttpd-dev builds against it. */
#define HTTP_MHD_SONAME "libmicrohttpd.so.12"

/* The functions we call, resolved by mhd_load(). */
static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
	                                   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	void (*stop_daemon)(struct MHD_Daemon *d);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...);
	enum MHD_Result (*run)(struct MHD_Daemon *d);
	enum MHD_Result (*get_timeout)(struct MHD_Daemon *d, MHD_UNSIGNED_LONG_LONG *timeout);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header, const char *content);
	enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
	void (*destroy_response)(struct MHD_Response *r);
} mhd;
static bool mhd_loaded;

static int mhd_load(char err[HTTP_ERRLEN])
{
#define MHD_SYM(field, name) { (void **)&mhd.field, name }
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		MHD_SYM(start_daemon, "MHD_start_daemon"),
		MHD_SYM(stop_daemon, "MHD_stop_daemon"),
		MHD_SYM(get_daemon_info, "MHD_get_daemon_info"),
		MHD_SYM(run, "MHD_run"),
		MHD_SYM(get_timeout, "MHD_get_timeout"),
		MHD_SYM(create_response_from_buffer, "MHD_create_response_from_buffer"),
		MHD_SYM(add_response_header, "MHD_add_response_header"),
		MHD_SYM(queue_response, "MHD_queue_response"),
		MHD_SYM(destroy_response, "MHD_destroy_response"),
	};
#undef MHD_SYM
	void *h;

	if (mhd_loaded)
		return 0;
	/* RTLD_NODELETE: loaded once, never unloaded, so no pointer above can dangle. */
	h = dlopen(HTTP_MHD_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		snprintf(err, HTTP_ERRLEN, "cannot load %s (Debian package libmicrohttpd12): %s", HTTP_MHD_SONAME,
		         dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, HTTP_ERRLEN, "%s lacks %s", HTTP_MHD_SONAME, syms[i].name);
			return -ENOENT;
		}
	}
	mhd_loaded = true;
	return 0;
}

struct http {
	uv_loop_t *loop;
	struct MHD_Daemon *d;
	uv_poll_t poll;
	uv_timer_t timer;
	const struct http_route *routes;
	size_t n_routes;
	void *userdata;
	int pending_closes;
	char name[64];               /* the address, for the log */
};

void http_format_addr(const struct sockaddr *addr, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)addr;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s->sin6_port));
	} else if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)addr;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s->sin_port));
	} else
		snprintf(buf, size, "?");
}

/* MHD's own messages (a failed accept, a broken client): one log line each, without its newline. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http *h = cls;
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("metrics server %s: %s", h->name, msg);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
                             const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    (allow && mhd.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		mhd.destroy_response(resp);
		return MHD_NO;
	}
	r = mhd.queue_response(c, status, resp);
	mhd.destroy_response(resp);
	return r;
}

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned status, const char *text, const char *allow)
{
	char *body = strdup(text);

	if (!body)
		return MHD_NO;
	return queue(c, status, "text/plain; charset=utf-8", body, strlen(body), allow);
}

/* MHD calls this when a request's headers are in (*con_cls NULL), then for each piece of its body,
 * then once more when it is complete.  A refusal (404, 405) is answered at once: MHD then discards
 * any body and closes the connection.  A request we serve is answered at the last call, so the
 * connection can stay open for the next scrape; a body sent with GET is read and ignored. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	static int started;
	struct http *h = cls;
	const struct http_route *route = NULL;
	struct http_reply reply = { 0 };

	for (size_t i = 0; i < h->n_routes; i++)
		if (strcmp(url, h->routes[i].path) == 0)
			route = &h->routes[i];
	if (!*con_cls) {
		if (!route)
			return queue_text(c, MHD_HTTP_NOT_FOUND, "not found: shoald serves /metrics and /healthz\n", NULL);
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n", "GET, HEAD");
		*con_cls = &started;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* MHD sends only the headers (with the body's Content-Length) for HEAD. */
	if (route->handler(h->userdata, &reply) < 0) {
		free(reply.body);
		return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error (see shoald's log)\n", NULL);
	}
	return queue(c, reply.status, reply.content_type, reply.body, reply.len, NULL);
}

/* MHD wants MHD_run() again after at most its timeout, and at least every HTTP_RUN_MAX_MS: at its
 * connection limit MHD takes the listening socket out of its epoll set and puts it back only at
 * the start of a later MHD_run(); when every connection closed within one run, nothing in the set
 * would ever wake us again and the server would stay deaf (found in review, reproduced with 33
 * connections closed together). */
#define HTTP_RUN_MAX_MS 1000
static void on_timer(uv_timer_t *t);

static void http_schedule(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (mhd.get_timeout(h->d, &ms) != MHD_YES || ms > HTTP_RUN_MAX_MS)
		ms = HTTP_RUN_MAX_MS;
	uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
}

static void http_run(struct http *h)
{
	mhd.run(h->d);
	http_schedule(h);
}

static void on_timer(uv_timer_t *t)
{
	http_run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	/* libuv stops the poll on an error; the timer above keeps MHD running meanwhile. */
	if (status < 0)
		log_error("metrics: polling the HTTP server's epoll descriptor failed: %s", uv_strerror(status));
	http_run(p->data);
}

/* Our own listening socket: close-on-exec by construction, and a bind error that names the
 * address and errno (MHD would only say that it failed). */
static int listen_socket(const struct sockaddr *addr, socklen_t addrlen, int *ret)
{
	const int one = 1, zero = 0;
	int fd, r;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	/* The IPv6 wildcard (":PORT") serves IPv4 too, whatever net.ipv6.bindv6only says. */
	if (addr->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)addr)->sin6_addr) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		goto fail;
	if (bind(fd, addr, addrlen) < 0 || listen(fd, HTTP_BACKLOG) < 0)
		goto fail;
	*ret = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

int http_start(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen, const struct http_route *routes,
               size_t n_routes, void *userdata, struct http **ret, char err[HTTP_ERRLEN])
{
	const union MHD_DaemonInfo *info;
	struct http *h;
	int fd = -1, r;

	r = mhd_load(err);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, HTTP_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	h->loop = loop;
	h->routes = routes;
	h->n_routes = n_routes;
	h->userdata = userdata;
	http_format_addr(addr, h->name, sizeof(h->name));
	r = listen_socket(addr, addrlen, &fd);
	if (r < 0) {
		snprintf(err, HTTP_ERRLEN, "cannot listen on %s: %s", h->name, strerror(-r));
		goto fail;
	}
	/* MHD owns fd from here on success (MHD_stop_daemon closes it); not on failure. */
	h->d = mhd.start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	                        MHD_OPTION_LISTEN_SOCKET, fd,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT,
	                        MHD_OPTION_END);
	if (!h->d) {
		r = -EIO;
		snprintf(err, HTTP_ERRLEN, "libmicrohttpd failed to start on %s (see the message before)", h->name);
		close(fd);
		goto fail;
	}
	info = mhd.get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		r = -EIO;
		snprintf(err, HTTP_ERRLEN, "libmicrohttpd on %s has no epoll descriptor", h->name);
		mhd.stop_daemon(h->d);
		goto fail;
	}
	r = uv_poll_init(loop, &h->poll, info->epoll_fd);
	if (r < 0) {
		snprintf(err, HTTP_ERRLEN, "poll %s: %s", h->name, uv_strerror(r));
		mhd.stop_daemon(h->d);
		goto fail;
	}
	h->poll.data = h;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	http_schedule(h);
	*ret = h;
	return 0;
fail:
	free(h);
	return r;
}

static void http_handle_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;

	if (--h->pending_closes == 0)
		free(h);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	/* libuv must stop watching the epoll descriptor before MHD closes it. */
	h->pending_closes = 2;
	uv_close((uv_handle_t *)&h->poll, http_handle_closed);
	uv_close((uv_handle_t *)&h->timer, http_handle_closed);
	mhd.stop_daemon(h->d);
	h->d = NULL;
}
