/* HTTP/1.1 client on the libuv loop (store/http_client.h). */
#include "store/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "store/tls.h"

#define HTTP_READ_BUF 16384

enum conn_state {
	CONN_RESOLVING,
	CONN_CONNECTING,
	CONN_HANDSHAKE,   /* TLS */
	CONN_BUSY,        /* the request is (being) sent, the response awaited */
	CONN_IDLE,        /* kept alive, no request */
};

struct http_conn {
	uv_tcp_t tcp;                 /* first: the close callback finds the struct through it */
	uv_connect_t connect;
	uv_getaddrinfo_t gai;
	struct http_client *c;
	struct http_conn *prev, *next;   /* c->conns */
	char *host;
	uint16_t port;
	enum conn_state state;
	struct http_request *req;
	struct tls_conn *tls;
	struct addrinfo *ai_list;     /* a name's addresses (owned), and the next one to try */
	struct addrinfo *ai_next;
	uint64_t idle_since;
	bool resolving;               /* gai is pending: the struct lives until its callback */
	bool closing, closed;
	char buf[HTTP_READ_BUF];
};

struct http_request {
	struct http_client *c;
	struct http_request *prev, *next;   /* c->reqs while running */
	char *host, *msg;
	uint16_t port;
	size_t msg_len;
	unsigned connect_timeout_ms, timeout_ms;
	uint64_t connect_deadline;    /* while connecting (or failed before it began); 0: none */
	uint64_t deadline;            /* the whole exchange; 0: none */
	int early_err;                /* failed before it started: completes from the timer */
	bool reused, retried;
	struct http_conn *conn;
	struct http_response resp;
	http_request_done_cb done;
	void *userdata;
	struct http_outcome out;
};

struct http_client {
	uv_loop_t *loop;
	bool tls;
	char *ca, *cert, *key;
	struct tls_ctx *tls_ctx;      /* built at the first TLS connection */
	struct http_conn *conns;
	struct http_request *reqs;
	uv_timer_t *timer;            /* the earliest deadline */
};

static void client_arm(struct http_client *c);
static void conn_close(struct http_conn *k);
static int conn_open(struct http_request *r);
static int conn_next_address(struct http_conn *k);

/* The loop's time, brought up to date: a loop that did not run for a while (start-up, where the
 * synchronous calls block) has a stale one, and a deadline computed from it would be due at once. */
static uint64_t client_now(struct http_client *c)
{
	uv_update_time(c->loop);
	return uv_now(c->loop);
}

static void handle_free_cb(uv_handle_t *h)
{
	free(h);
}

/* ---- requests ending ---- */

static void req_unlink(struct http_request *r)
{
	struct http_client *c = r->c;

	if (r->prev)
		r->prev->next = r->next;
	else if (c->reqs == r)
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* Idle connections to k's peer. */
static unsigned client_idle_count(const struct http_conn *k)
{
	unsigned n = 0;

	for (const struct http_conn *o = k->c->conns; o; o = o->next)
		if (o->state == CONN_IDLE && o->port == k->port && strcmp(o->host, k->host) == 0)
			n++;
	return n;
}

/* Detach r from its connection: the connection is kept (keep) or closed. */
static void req_detach(struct http_request *r, bool keep)
{
	struct http_conn *k = r->conn;

	if (!k)
		return;
	r->conn = NULL;
	k->req = NULL;
	if (keep && !k->closing && client_idle_count(k) < HTTP_IDLE_MAX) {
		k->state = CONN_IDLE;
		k->idle_since = client_now(k->c);
		/* A kept connection does not keep the loop alive (a daemon that stops runs its loop until
		 * nothing is left to do); it still notices the server closing it. */
		uv_unref((uv_handle_t *)&k->tcp);
		return;
	}
	conn_close(k);
}

/* r is over: record the outcome and tell the owner.  Nothing of r is touched afterwards. */
static void req_finish(struct http_request *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void req_finish(struct http_request *r, int err, const char *fmt, ...)
{
	struct http_client *c = r->c;
	bool keep = err == 0 && r->resp.keep_alive && !r->resp.trailing;

	if (fmt && !r->out.msg[0]) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(r->out.msg, sizeof(r->out.msg), fmt, ap);
		va_end(ap);
	}
	req_detach(r, keep);
	req_unlink(r);
	r->out.err = err;
	r->out.status = err == 0 ? r->resp.status : 0;
	r->out.body = r->resp.body ? r->resp.body : "";
	r->out.len = r->resp.len;
	r->connect_deadline = r->deadline = 0;
	client_arm(c);
	r->done(r, r->userdata);
}

/* The connection failed under r (err from libuv or ours). */
static void req_conn_failed(struct http_request *r, int err)
{
	struct http_conn *k = r->conn;
	bool sent = k && (k->state == CONN_BUSY);

	if (sent && r->resp.fed == 0 && r->reused && !r->retried && err != -ETIMEDOUT) {
		/* The server closed a kept-alive connection before our request reached it: nothing was
		 * answered, so it never ran.  Once more on a new connection (curl does the same). */
		r->retried = true;
		r->reused = false;
		req_detach(r, false);
		http_response_done(&r->resp);
		http_response_init(&r->resp, r->resp.max_body, r->resp.body_cb, r->resp.userdata);
		err = conn_open(r);
		if (err == 0) {
			client_arm(r->c);
			return;
		}
		sent = false;
	}
	r->out.sent = sent;
	if (sent && r->resp.fed == 0)
		req_finish(r, err == -EPIPE ? -ECONNRESET : err, "%s", err == -ECONNRESET || err == -EPIPE ?
		           "Empty reply from server" : strerror(-err));
	else if (sent)
		req_finish(r, err, "Recv failure: %s", strerror(-err));
	else
		req_finish(r, err, "Failed to connect to %s port %u: %s", r->host, r->port, strerror(-err));
}

/* ---- the timer: deadlines, and requests that failed before they started ---- */

static uint64_t req_next_deadline(const struct http_request *r)
{
	uint64_t d = r->deadline;

	if (r->connect_deadline && (!d || r->connect_deadline < d))
		d = r->connect_deadline;
	return d;
}

static void client_timer_cb(uv_timer_t *t)
{
	struct http_client *c = t->data;
	uint64_t now;
	struct http_request *r;

	if (!c)
		return;
	now = client_now(c);
	/* One at a time, starting over: finishing one changes the list. */
	for (r = c->reqs; r; r = r->next) {
		uint64_t d = req_next_deadline(r);

		if (!d || d > now)
			continue;
		if (r->early_err) {
			r->out.sent = false;
			req_finish(r, r->early_err, "Failed to connect to %s port %u: %s", r->host, r->port,
			           strerror(-r->early_err));
		} else if (r->connect_deadline && r->connect_deadline <= now) {
			r->out.sent = false;
			req_finish(r, -ETIMEDOUT, "Connection to %s port %u timed out after %u ms", r->host, r->port,
			           r->connect_timeout_ms);
		} else {
			r->out.sent = true;
			req_finish(r, -ETIMEDOUT, "Operation timed out after %u ms with %zu bytes received", r->timeout_ms,
			           r->resp.fed);
		}
		client_arm(c);
		return;
	}
	client_arm(c);
}

static void client_arm(struct http_client *c)
{
	uint64_t now = client_now(c), next = 0;

	for (struct http_request *r = c->reqs; r; r = r->next) {
		uint64_t d = req_next_deadline(r);

		if (d && (!next || d < next))
			next = d;
	}
	if (!next)
		uv_timer_stop(c->timer);
	else
		uv_timer_start(c->timer, client_timer_cb, next > now ? next - now : 0, 0);
}

/* ---- connection I/O ---- */

struct conn_write {
	uv_write_t w;
	size_t len;
	char data[];
};

static void conn_write_cb(uv_write_t *w, int status)
{
	struct http_conn *k = w->data;

	free(w);
	if (status < 0 && status != UV_ECANCELED && !k->closing && k->req)
		req_conn_failed(k->req, status);
}

static int conn_write(struct http_conn *k, const char *data, size_t len)
{
	struct conn_write *cw = malloc(sizeof(*cw) + len);
	uv_buf_t b;
	int r;

	if (!cw)
		return -ENOMEM;
	memcpy(cw->data, data, len);
	cw->len = len;
	cw->w.data = k;
	b = uv_buf_init(cw->data, (unsigned)len);
	r = uv_write(&cw->w, (uv_stream_t *)&k->tcp, &b, 1, conn_write_cb);
	if (r < 0)
		free(cw);
	return r;
}

/* Send what OpenSSL produced. */
static int conn_flush_tls(struct http_conn *k)
{
	char *buf;
	size_t len;
	int r = tls_conn_take(k->tls, &buf, &len);

	if (r < 0 || len == 0)
		return r;
	r = conn_write(k, buf, len);
	free(buf);
	return r;
}

static void conn_tls_failed(struct http_conn *k, int err)
{
	struct http_request *r = k->req;

	r->out.tls = true;
	r->out.sent = k->state == CONN_BUSY;
	req_finish(r, err, "%s", tls_conn_error(k->tls));
}

static int conn_send_request(struct http_conn *k)
{
	struct http_request *r = k->req;
	int e;

	k->state = CONN_BUSY;
	r->connect_deadline = 0;
	e = k->tls ? tls_conn_write(k->tls, r->msg, r->msg_len) : conn_write(k, r->msg, r->msg_len);
	if (e == 0 && k->tls)
		e = conn_flush_tls(k);
	if (e < 0)
		return e;
	client_arm(k->c);
	return 0;
}

/* Plain bytes of the response arrived. */
static bool conn_response(struct http_conn *k, const char *data, size_t len)
{
	struct http_request *r = k->req;
	int e = http_response_feed(&r->resp, data, len);

	if (e < 0) {
		r->out.sent = true;
		if (e == -EBADMSG)
			req_finish(r, e, "bad HTTP response from %s port %u", r->host, r->port);
		else
			req_finish(r, e, "reading the response: %s", strerror(-e));
		return false;
	}
	if (r->resp.complete) {
		req_finish(r, 0, NULL);
		return false;
	}
	return true;
}

static void conn_tls_input(struct http_conn *k, const char *data, size_t len)
{
	char plain[HTTP_READ_BUF];
	ssize_t n;
	int e;

	e = tls_conn_feed(k->tls, data, len);
	if (e < 0) {
		req_conn_failed(k->req, e);
		return;
	}
	if (k->state == CONN_HANDSHAKE) {
		e = tls_conn_handshake(k->tls);
		if (e < 0) {
			conn_flush_tls(k);   /* the alert, if any */
			conn_tls_failed(k, e);
			return;
		}
		if (conn_flush_tls(k) < 0) {
			req_conn_failed(k->req, -EIO);
			return;
		}
		if (e == 0)
			return;
		e = conn_send_request(k);
		if (e < 0) {
			req_conn_failed(k->req, e);
			return;
		}
	}
	for (;;) {
		n = tls_conn_read(k->tls, plain, sizeof(plain));
		if (n == 0)
			return;
		if (n == -EPIPE) {
			/* close_notify: the end of the connection, as far as the response is concerned. */
			e = http_response_eof(&k->req->resp);
			if (e == 0)
				req_finish(k->req, 0, NULL);
			else
				req_conn_failed(k->req, e);
			return;
		}
		if (n < 0) {
			conn_tls_failed(k, (int)n);
			return;
		}
		if (!conn_response(k, plain, (size_t)n))
			return;
	}
}

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *k = (struct http_conn *)h;

	*buf = uv_buf_init(k->buf, sizeof(k->buf));
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *k = (struct http_conn *)s;
	struct http_request *r = k->req;

	if (nread == 0 || k->closing)
		return;
	if (!r) {
		/* Idle: the server closed it, or said something nobody asked for.  TLS records that carry
		 * no data (a TLS 1.3 session ticket) are fine. */
		if (nread > 0 && k->tls && tls_conn_feed(k->tls, buf->base, (size_t)nread) == 0 &&
		    tls_conn_read(k->tls, k->buf, sizeof(k->buf)) == 0)
			return;
		conn_close(k);
		return;
	}
	if (nread < 0) {
		int e = nread == UV_EOF ? -ECONNRESET : (int)nread;

		if (k->state == CONN_HANDSHAKE) {
			r->out.tls = true;
			r->out.sent = false;
			req_finish(r, -EIO, "TLS handshake: connection %s", nread == UV_EOF ? "closed" : uv_strerror((int)nread));
			return;
		}
		if (nread == UV_EOF && http_response_eof(&r->resp) == 0) {
			req_finish(r, 0, NULL);
			return;
		}
		req_conn_failed(r, e);
		return;
	}
	if (k->tls)
		conn_tls_input(k, buf->base, (size_t)nread);
	else
		conn_response(k, buf->base, (size_t)nread);
}

static struct tls_ctx *client_tls_ctx(struct http_client *c, char err[TLS_ERRLEN], int *ret_err)
{
	if (!c->tls_ctx)
		*ret_err = tls_ctx_new(c->ca, c->cert, c->key, err, &c->tls_ctx);
	return c->tls_ctx;
}

static void conn_set_keepalive(struct http_conn *k)
{
	uv_os_fd_t fd;
	int on = 1, idle = HTTP_TCP_KEEPIDLE_S, intvl = HTTP_TCP_KEEPINTVL_S;

	uv_tcp_nodelay(&k->tcp, 1);
	if (uv_fileno((uv_handle_t *)&k->tcp, &fd) < 0)
		return;
	/* Best effort, as curl's CURLOPT_TCP_KEEPALIVE: a silent watch stream finds a dead peer. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
}

static void conn_connect_cb(uv_connect_t *req, int status)
{
	struct http_conn *k = req->data;
	struct http_request *r = k->req;
	char err[TLS_ERRLEN] = "";
	int e = 0;

	if (status == UV_ECANCELED || k->closing || !r)
		return;
	if (status < 0) {
		/* A name with several addresses: the next one, within the same connect timeout. */
		if (!k->ai_next || conn_next_address(k) < 0)
			req_conn_failed(r, status);
		return;
	}
	conn_set_keepalive(k);
	e = uv_read_start((uv_stream_t *)&k->tcp, conn_alloc_cb, conn_read_cb);
	if (e < 0) {
		req_conn_failed(r, e);
		return;
	}
	if (!k->c->tls) {
		e = conn_send_request(k);
		if (e < 0)
			req_conn_failed(r, e);
		return;
	}
	k->state = CONN_HANDSHAKE;
	if (!client_tls_ctx(k->c, err, &e)) {
		r->out.tls = true;
		req_finish(r, e, "%s", err);
		return;
	}
	e = tls_conn_new(k->c->tls_ctx, k->host, &k->tls);
	if (e == 0) {
		e = tls_conn_handshake(k->tls);
		if (e < 0) {
			conn_tls_failed(k, e);
			return;
		}
		e = conn_flush_tls(k);
	}
	if (e < 0)
		req_conn_failed(r, e);
}

static int conn_connect(struct http_conn *k, const struct sockaddr *sa)
{
	k->state = CONN_CONNECTING;
	k->connect.data = k;
	return uv_tcp_connect(&k->connect, &k->tcp, sa, conn_connect_cb);
}

static void conn_free(struct http_conn *k)
{
	uv_freeaddrinfo(k->ai_list);
	tls_conn_free(k->tls);
	free(k->host);
	free(k);
}

static void conn_gai_cb(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct http_conn *k = g->data;
	struct http_request *r = k->req;
	int e;

	k->resolving = false;
	if (k->closing) {
		uv_freeaddrinfo(res);
		if (k->closed)
			conn_free(k);
		return;
	}
	if (status < 0) {
		e = -EHOSTUNREACH;
	} else {
		k->ai_list = res;
		k->ai_next = res->ai_next;
		e = conn_connect(k, res->ai_addr);
		if (e < 0 && k->ai_next)
			e = conn_next_address(k);
	}
	if (e < 0 && r)
		req_conn_failed(r, e);
}

static void conn_close_cb(uv_handle_t *h)
{
	struct http_conn *k = (struct http_conn *)h;

	k->closed = true;
	if (!k->resolving)
		conn_free(k);
}

static void conn_close(struct http_conn *k)
{
	struct http_client *c = k->c;

	if (k->closing)
		return;
	k->closing = true;
	if (k->req) {
		k->req->conn = NULL;
		k->req = NULL;
	}
	if (k->prev)
		k->prev->next = k->next;
	else if (c->conns == k)
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	if (k->resolving)
		uv_cancel((uv_req_t *)&k->gai);
	uv_close((uv_handle_t *)&k->tcp, conn_close_cb);
}

/* A new connection to r's host and port, in the client's list, with nothing attached yet. */
static int conn_new(struct http_request *r, struct http_conn **ret)
{
	struct http_client *c = r->c;
	struct http_conn *k = calloc(1, sizeof(*k));
	int e;

	if (!k)
		return -ENOMEM;
	k->host = strdup(r->host);
	if (!k->host) {
		free(k);
		return -ENOMEM;
	}
	e = uv_tcp_init(c->loop, &k->tcp);
	if (e < 0) {
		conn_free(k);
		return e;
	}
	k->c = c;
	k->port = r->port;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	*ret = k;
	return 0;
}

static void conn_attach(struct http_conn *k, struct http_request *r)
{
	k->req = r;
	r->conn = k;
}

/* k's connect to one address of a name failed: r moves to a new connection to the next address.
 * A libuv handle cannot connect twice, hence the new one.  On failure r is still on k, or on the
 * new connection when that one failed at once. */
static int conn_next_address(struct http_conn *k)
{
	struct http_request *r = k->req;
	struct addrinfo *a = k->ai_next;
	struct http_conn *k2;
	int e;

	e = conn_new(r, &k2);
	if (e < 0)
		return e;
	k2->ai_list = k->ai_list;
	k2->ai_next = a->ai_next;
	k->ai_list = k->ai_next = NULL;
	req_detach(r, false);
	conn_attach(k2, r);
	return conn_connect(k2, a->ai_addr);
}

/* A new connection for r.  Errors that libuv reports at once complete r from the timer. */
static int conn_open(struct http_request *r)
{
	struct http_client *c = r->c;
	struct http_conn *k;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int e;

	e = conn_new(r, &k);
	if (e < 0)
		return e;
	conn_attach(k, r);
	r->connect_deadline = client_now(c) + r->connect_timeout_ms;
	if (inet_pton(AF_INET, r->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(r->port);
		e = conn_connect(k, (struct sockaddr *)sin);
	} else if (inet_pton(AF_INET6, r->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(r->port);
		e = conn_connect(k, (struct sockaddr *)sin6);
	} else {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
		char port[8];

		snprintf(port, sizeof(port), "%u", r->port);
		k->state = CONN_RESOLVING;
		k->gai.data = k;
		e = uv_getaddrinfo(c->loop, &k->gai, conn_gai_cb, r->host, port, &hints);
		k->resolving = e == 0;
		if (e < 0)
			e = -EHOSTUNREACH;
	}
	if (e < 0) {
		/* connect(2) refused at once (unreachable network, ...): the request ends from the loop,
		 * like any other connection failure, never inside the caller's call. */
		req_detach(r, false);
		r->early_err = e;
		r->connect_deadline = client_now(c);
	}
	return 0;
}

/* A kept-alive connection to r's host and port, or NULL.  Stale ones are closed on the way. */
static struct http_conn *client_idle_conn(struct http_client *c, const struct http_request *r)
{
	uint64_t now = client_now(c);

	for (struct http_conn *k = c->conns, *next; k; k = next) {
		next = k->next;
		if (k->state != CONN_IDLE || k->port != r->port || strcmp(k->host, r->host) != 0)
			continue;
		if (now - k->idle_since > HTTP_IDLE_MAX_AGE_MS) {
			conn_close(k);
			continue;
		}
		uv_ref((uv_handle_t *)&k->tcp);
		return k;
	}
	return NULL;
}

/* ---- public ---- */

int http_client_new(uv_loop_t *loop, const struct http_tls_conf *tls, struct http_client **ret)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->timer = calloc(1, sizeof(*c->timer));
	if (!c->timer)
		goto nomem;
	if (tls) {
		c->tls = true;
		if ((tls->ca && !(c->ca = strdup(tls->ca))) || (tls->cert && !(c->cert = strdup(tls->cert))) ||
		    (tls->key && !(c->key = strdup(tls->key))))
			goto nomem;
	}
	uv_timer_init(loop, c->timer);
	c->timer->data = c;
	*ret = c;
	return 0;
nomem:
	free(c->timer);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c);
	return -ENOMEM;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	while (c->reqs)
		http_request_free(c->reqs);
	while (c->conns)
		conn_close(c->conns);
	c->timer->data = NULL;
	uv_close((uv_handle_t *)c->timer, handle_free_cb);
	tls_ctx_free(c->tls_ctx);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c);
}

int http_request_start(struct http_client *c, const struct http_request_opts *o, http_request_done_cb done,
                       struct http_request **ret)
{
	struct http_request *r;
	struct http_conn *k;
	int n, e;

	if (!o->host || !o->authority || !o->path || (!o->body && o->body_len))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->c = c;
	r->host = strdup(o->host);
	n = asprintf(&r->msg, "POST %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n%s%s%sContent-Length: %zu\r\n\r\n",
	             o->path, o->authority, o->content_type ? "Content-Type: " : "",
	             o->content_type ? o->content_type : "", o->content_type ? "\r\n" : "", o->body_len);
	if (n < 0)
		r->msg = NULL;
	if (!r->host || !r->msg)
		goto nomem;
	if (o->body_len) {
		char *m = realloc(r->msg, (size_t)n + o->body_len);

		if (!m)
			goto nomem;
		memcpy(m + n, o->body, o->body_len);
		r->msg = m;
	}
	r->msg_len = (size_t)n + o->body_len;
	r->port = o->port;
	r->connect_timeout_ms = o->connect_timeout_ms;
	r->timeout_ms = o->timeout_ms;
	r->done = done;
	r->userdata = o->userdata;
	http_response_init(&r->resp, o->max_body, o->on_body, o->userdata);
	if (o->timeout_ms)
		r->deadline = client_now(c) + o->timeout_ms;
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	k = client_idle_conn(c, r);
	if (k) {
		k->req = r;
		r->conn = k;
		r->reused = true;
		e = conn_send_request(k);
		if (e < 0) {
			/* That connection is broken: a new one (the request never left). */
			req_detach(r, false);
			r->reused = false;
			e = conn_open(r);
		}
	} else
		e = conn_open(r);
	if (e < 0) {
		http_request_free(r);
		return e;
	}
	client_arm(c);
	*ret = r;
	return 0;
nomem:
	free(r->host);
	free(r->msg);
	free(r);
	return -ENOMEM;
}

const struct http_outcome *http_request_outcome(const struct http_request *r)
{
	return &r->out;
}

void http_request_free(struct http_request *r)
{
	if (!r)
		return;
	if (r->conn)
		req_detach(r, false);
	if (r->c) {
		req_unlink(r);
		client_arm(r->c);
	}
	http_response_done(&r->resp);
	free(r->host);
	free(r->msg);
	free(r);
}
