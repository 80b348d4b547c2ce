/* A small HTTP/1.1 client on a libuv loop: POST a body, read one response (kept whole or streamed
 * to a callback).  No knowledge of etcd; store/etcd_http.c is its user.
 *
 * - Connections are uv_tcp, kept alive and reused per host and port (at most HTTP_IDLE_MAX idle
 *   ones each, none older than HTTP_IDLE_MAX_AGE_MS); a request that finds none opens a new one,
 *   so requests run side by side.  A request sent on a reused connection that the server had
 *   already closed (nothing came back) is sent once more on a new connection, as curl does.
 * - Non-blocking connect with a timeout that covers name resolution, TCP and the TLS handshake;
 *   a timeout for the whole exchange (none for streams: TCP keep-alive finds a dead peer).  A name
 *   is resolved on libuv's thread pool (uv_getaddrinfo) and its addresses are tried in order, as
 *   curl does; an address is used as it is.  libuv cannot cancel a lookup that has started: a
 *   client freed during one keeps the loop busy until the lookup ends.
 * - TLS (store/tls.h) when the client was made with a tls configuration: the context is built at
 *   the first connection (a bad file fails that request, as curl did), every peer is verified.
 * - Responses are framed by store/http_response.c (libhttp-parser).
 *
 * The done callback runs from the loop, inside the client's own I/O callbacks: it may record the
 * outcome and free its own request, nothing else of the client (defer the rest to the loop). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store/http_response.h"

#define HTTP_IDLE_MAX        4
#define HTTP_IDLE_MAX_AGE_MS 110000   /* below the 2 min after which middleboxes forget connections */
#define HTTP_TCP_KEEPIDLE_S  30
#define HTTP_TCP_KEEPINTVL_S 10
#define HTTP_MSG_MAX         256       /* http_outcome.msg */

struct http_client;
struct http_request;

/* TLS settings (NULL for plain HTTP): ca NULL or "" = the system's CAs; cert and key both or
 * neither.  The strings are copied. */
struct http_tls_conf {
	const char *ca, *cert, *key;
};

struct http_request_opts {
	const char *host;               /* to connect to: a name or an address (IPv6 without brackets) */
	uint16_t port;
	const char *authority;          /* the Host header: HOST:PORT as in the URL */
	const char *path;
	const char *content_type;
	const char *body;
	size_t body_len;
	unsigned connect_timeout_ms;    /* resolution + TCP + TLS handshake */
	unsigned timeout_ms;            /* the whole exchange; 0: none (a stream) */
	size_t max_body;                /* kept body; larger fails with -EFBIG */
	http_response_body_cb on_body;  /* NULL: keep the body (http_outcome.body) */
	void *userdata;                 /* for on_body and the done callback */
};

/* How a request ended. */
struct http_outcome {
	int err;                        /* 0: a whole response arrived; else -errno */
	bool sent;                      /* err != 0: the request may have reached the server */
	bool tls;                       /* err is a TLS failure (-EACCES: a certificate's fault) */
	int status;                     /* HTTP status, when err is 0 */
	const char *body;               /* kept body, NUL-terminated ("" when empty) */
	size_t len;
	char msg[HTTP_MSG_MAX];         /* err != 0: what happened, for a log line */
};

typedef void (*http_request_done_cb)(struct http_request *req, void *userdata);

int http_client_new(uv_loop_t *loop, const struct http_tls_conf *tls, struct http_client **ret);
/* Closes every connection.  Free the requests first (a request still running is cancelled and
 * freed here, and a pointer to it dangles).  Run the loop once more before uv_loop_close: the
 * handles close through it. */
void http_client_free(struct http_client *c);

/* Start a POST.  The options' strings and body are copied.  Whatever happens, done is called
 * exactly once, from the loop, never inside this call, unless the request is freed first.  A
 * negative return (-ENOMEM, -EINVAL) means not started. */
int http_request_start(struct http_client *c, const struct http_request_opts *o, http_request_done_cb done,
                       struct http_request **ret);
/* Valid from the done callback until the request is freed. */
const struct http_outcome *http_request_outcome(const struct http_request *r);
/* Cancels a request still running (no callback; its connection is closed) and frees it. */
void http_request_free(struct http_request *r);
