/* A small HTTP server on shoald's libuv loop, for /metrics and /healthz: libmicrohttpd does the
 * HTTP (never a parser of ours), in its "external polling" mode with epoll and no thread of its
 * own.  Its epoll descriptor is watched with a uv_poll, its timeouts with a uv_timer, and
 * MHD_run() is called when either fires, so handlers run on the loop thread and may read the
 * manager's state directly.
 *
 * libmicrohttpd is loaded by the first http_start() (dlopen), so a shoald without metrics never
 * maps it or its TLS libraries.
 *
 * Only GET and HEAD are served (HEAD: the headers of GET, no body); another method on a known
 * path is 405 with "Allow: GET, HEAD", an unknown path 404. */
#pragma once
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#define HTTP_ERRLEN 256

struct http;

/* What a handler answers: status, content type (a static string) and a body from malloc(),
 * which the server frees. */
struct http_reply {
	unsigned status;
	const char *content_type;
	char *body;
	size_t len;
};

/* >= 0 with *ret filled, or -errno: the server answers 500 (and logs nothing; the handler does). */
typedef int (*http_handler)(void *userdata, struct http_reply *ret);

struct http_route {
	const char *path;            /* exact match, e.g. "/metrics" */
	http_handler handler;
};

/* Listen on addr (a listening TCP socket of ours: close-on-exec, SO_REUSEADDR, an IPv6
 * wildcard made dual-stack) and serve routes (borrowed: must outlive the server).  err names
 * what failed, e.g. "127.0.0.1:9253: Address already in use". */
int http_start(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen, const struct http_route *routes,
               size_t n_routes, void *userdata, struct http **ret, char err[HTTP_ERRLEN]);
/* Close the socket and every connection now; the handles are freed by the loop.  Accepts NULL. */
void http_stop(struct http *h);

/* "127.0.0.1:9253", "[::1]:9253" (at least 64 bytes). */
void http_format_addr(const struct sockaddr *addr, char *buf, size_t size);
