/* The etcd v3 backend: store.h's operations over etcd's JSON gateway (etcd 3.4: under /v3/), with
 * our own HTTP/1.1 client (store/http_client.c) on the libuv loop.  etcd_codec.c builds the bodies
 * and parses the replies; http_client.c moves them; this file knows the endpoints, the requests and
 * the watches.
 *
 * - Asynchronous calls and watches run on the store's loop; synchronous calls (start-up) run the
 *   same client on a private loop until their reply is in.  Callbacks never run inside the HTTP
 *   client's: its completions and stream data are only recorded, and etcd_dispatch() delivers
 *   them from a timer on the next loop iteration, so a callback may cancel, start or free anything.
 * - Endpoints (etcd://A:2379,B:2379): requests go to the last endpoint that answered.  A connection
 *   error marks the endpoint dead for a backoff (1 s doubling to 16 s, with jitter): it costs one
 *   connect timeout (1 s), then it is skipped instead of costing a timeout per request.  A request
 *   that never left (connect failed) moves to the next endpoint; a write whose fate is unknown
 *   does not (it might have been applied).  When every endpoint is dead, a request still makes one
 *   attempt (at the endpoint whose backoff ends first), then fails with the connection error.
 * - Watches are one streaming POST /v3/watch each, on a connection of their own.  A broken stream
 *   reconnects from the last delivered revision + 1 after a backoff (200 ms doubling to 10 s, with
 *   jitter; reset only after a stream lived 10 s, so a stream that dies at once cannot spin).
 *   Progress notifications move the resume revision forward while nothing changes.  A compacted
 *   start revision is -ECANCELED, once, as store.h says.
 * - HTTP/1.1 only: the gateway speaks it on every etcd version. */
#include "store/store_int.h"
#include "store/etcd_codec.h"
#include "store/http_client.h"
#include "store/tls.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define ETCD_DEFAULT_PORT        2379
#define ETCD_ENDPOINTS_MAX       16
#define ETCD_CONNECT_TIMEOUT_MS  1000
#define ETCD_REQUEST_TIMEOUT_MS  5000
#define ETCD_DEAD_MIN_MS         1000
#define ETCD_DEAD_MAX_MS         16000
#define ETCD_WATCH_RETRY_MIN_MS  200
#define ETCD_WATCH_RETRY_MAX_MS  10000
#define ETCD_WATCH_STABLE_MS     10000

struct etcd_endpoint {
	char *name;            /* HOST:PORT as in the URL, for messages and the Host header */
	char *host;            /* to connect to (an IPv6 address without its brackets) */
	uint16_t port;
	uint64_t dead_until;   /* monotonic ms; skipped until then */
	unsigned fails;
	bool down;             /* logged as unreachable */
	bool tls_logged;
};

struct etcd_watch;

/* One exchange on the loop: an asynchronous request or a watch stream. */
struct etcd_xfer {
	struct store_etcd *e;
	struct etcd_xfer *prev, *next;   /* e->xfers */
	struct http_request *http;       /* the current attempt */
	const char *path;
	char *body;
	int ep;
	uint32_t tried;        /* endpoints tried, as bits */
	int fail;              /* != 0: never started; complete with this from the loop */
	bool due;              /* failed before this dispatch pass began: complete it in this pass */
	bool finished;         /* http is over; etcd_dispatch takes it from here */
	struct store_req *req;       /* a request, or */
	struct etcd_watch *watch;    /* a watch stream */
};

struct etcd_watch {
	struct store_watch base;
	struct store_etcd *e;
	struct etcd_watch *prev, *next;
	char *key, *end;       /* full prefix and the end of its range */
	size_t end_len;
	int64_t rev;           /* everything up to here has been delivered */
	store_watch_cb cb;
	void *userdata;
	struct etcd_xfer *xfer;      /* the stream; NULL while waiting to reconnect */
	struct etcd_stream st;
	uv_timer_t *retry;
	unsigned attempts;
	uint64_t started;      /* when the current stream was started */
	bool stopped;          /* -ECANCELED was delivered */
	bool dead;             /* cancelled during dispatch; freed afterwards */
};

struct store_etcd {
	struct store base;
	bool https;
	char *ca, *cert, *key;
	struct etcd_endpoint ep[ETCD_ENDPOINTS_MAX];
	int n_ep;
	int cur;               /* preferred endpoint */
	int last_err;          /* the last connection error, for "every endpoint is dead" */
	struct http_client *client;       /* on base.loop (NULL without one) */
	uv_loop_t sync_loop;              /* synchronous calls run here ... */
	struct http_client *sync_client;  /* ... with their own connections; both made at the first */
	uv_timer_t *kick;      /* delivers what the client recorded, and requests that never started */
	struct etcd_xfer *xfers;
	struct etcd_watch *watches, *watches_tail;
	bool dispatching, free_pending;
};

static struct store_etcd *etcd_of(struct store *s)
{
	return (struct store_etcd *)s;
}

static uint64_t etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* d/2 .. d: many daemons that lost etcd together do not come back in lockstep. */
static uint64_t etcd_jitter(uint64_t d)
{
	return d / 2 + (uint64_t)random() % (d / 2 + 1);
}

static void etcd_handle_free_cb(uv_handle_t *h)
{
	free(h);
}

/* ---- endpoints ---- */

static int etcd_endpoint_pick(struct store_etcd *e, uint32_t tried, int *ret)
{
	uint64_t now = etcd_now_ms();
	int soonest = -1;

	for (int i = 0; i < e->n_ep; i++) {
		int k = (e->cur + i) % e->n_ep;

		if (!(tried & (1u << k)) && e->ep[k].dead_until <= now) {
			*ret = k;
			return 0;
		}
		if (soonest < 0 || e->ep[k].dead_until < e->ep[soonest].dead_until)
			soonest = k;
	}
	/* Every endpoint is in its backoff.  A request that has tried none still makes one real attempt,
	 * at the one whose backoff ends first: refusing it unseen could let a lease expire although etcd
	 * is back (after an outage the backoff is up to 16 s, and a restarted etcd gives each lease only
	 * its TTL).  It costs one connect timeout while etcd is down; ADD and DEL never wait for it. */
	if (tried == 0 && soonest >= 0) {
		*ret = soonest;
		return 0;
	}
	return e->last_err ? e->last_err : -EHOSTUNREACH;
}

static void etcd_endpoint_up(struct store_etcd *e, int k)
{
	struct etcd_endpoint *ep = &e->ep[k];

	if (ep->down)
		log_info("etcd %s is reachable again", ep->name);
	ep->down = ep->tls_logged = false;
	ep->fails = 0;
	ep->dead_until = 0;
	e->cur = k;
}

static void etcd_endpoint_dead(struct store_etcd *e, int k, int err, const char *why)
{
	struct etcd_endpoint *ep = &e->ep[k];
	uint64_t d;

	ep->fails++;
	d = ETCD_DEAD_MIN_MS << (ep->fails - 1 < 4 ? ep->fails - 1 : 4);
	if (d > ETCD_DEAD_MAX_MS)
		d = ETCD_DEAD_MAX_MS;
	d = etcd_jitter(d);
	ep->dead_until = etcd_now_ms() + d;
	e->last_err = err;
	if (e->cur == k)
		e->cur = (k + 1) % e->n_ep;
	/* Once per outage; the rest at debug level. */
	if (!ep->down)
		log_warn("etcd %s is unreachable: %s%s%s; skipping it for %" PRIu64 " ms%s", ep->name, strerror(-err),
		         why && *why ? " - " : "", why ? why : "", d, e->n_ep > 1 ? " (trying the others)" : "");
	else
		log_debug("etcd %s still unreachable: %s; next try in %" PRIu64 " ms", ep->name, strerror(-err), d);
	ep->down = true;
}

/* ---- HTTP: starting an exchange, and what its end means ---- */

static int etcd_http_start(struct store_etcd *e, struct http_client *c, int k, const char *path, const char *body,
                           http_response_body_cb stream, http_request_done_cb done, void *userdata,
                           struct http_request **ret)
{
	const struct http_request_opts o = {
		.host = e->ep[k].host,
		.port = e->ep[k].port,
		.authority = e->ep[k].name,
		.path = path,
		.content_type = "application/json",
		.body = body,
		.body_len = strlen(body),
		.connect_timeout_ms = ETCD_CONNECT_TIMEOUT_MS,
		/* A watch is silent for as long as nothing changes: no overall timeout, TCP keep-alives
		 * find a dead peer. */
		.timeout_ms = stream ? 0 : ETCD_REQUEST_TIMEOUT_MS,
		.max_body = ETCD_MSG_MAX,
		.on_body = stream,
		.userdata = userdata,
	};

	return http_request_start(c, &o, done, ret);
}

static int etcd_client_new(struct store_etcd *e, uv_loop_t *loop, struct http_client **ret)
{
	const struct http_tls_conf tls = { .ca = e->ca, .cert = e->cert, .key = e->key };

	return http_client_new(loop, e->https ? &tls : NULL, ret);
}

/* How an exchange with endpoint k ended: 0 when an HTTP response arrived; otherwise -errno, with
 * *ret_failover when another endpoint may take the request (it never left, or it is a read). */
static int etcd_outcome(struct store_etcd *e, const struct http_outcome *o, int k, bool idempotent,
                        bool *ret_failover)
{
	int r = o->err;

	*ret_failover = false;
	if (r == 0) {
		etcd_endpoint_up(e, k);
		return 0;
	}
	if (o->tls) {
		struct etcd_endpoint *ep = &e->ep[k];

		/* A configuration problem, the same on every endpoint: no fail-over, said once. */
		if (!ep->tls_logged)
			log_error("TLS handshake with etcd %s failed: %s", ep->name, o->msg);
		ep->tls_logged = true;
		return r == -EACCES ? -EACCES : -EIO;
	}
	switch (r) {
	case -ECONNREFUSED:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ENETDOWN:
	case -EHOSTDOWN:
	case -EADDRNOTAVAIL:
	case -ECONNRESET:
	case -ECONNABORTED:
	case -EPIPE:
	case -ENOTCONN:
		break;
	case -EBADMSG:
		log_warn("etcd %s: %s", e->ep[k].name, o->msg);
		return -EIO;
	default:
		/* Ours: the reply was too large (-EFBIG), no memory, a stream we could not read. */
		return r;
	}
	etcd_endpoint_dead(e, k, r, o->msg);
	*ret_failover = !o->sent || idempotent;
	return r;
}

/* ---- requests: build and interpret (both paths) ---- */

static int etcd_full_key(struct store_etcd *e, const char *key, char **ret)
{
	return asprintf(ret, "%s%s", e->base.prefix, key) < 0 ? -ENOMEM : 0;
}

static int etcd_build(struct store_etcd *e, const struct store_req *req, const char **ret_path, char **ret_body)
{
	char *full = NULL, *end = NULL;
	size_t end_len;
	int r = 0;

	if (req->key) {
		r = etcd_full_key(e, req->key, &full);
		if (r < 0)
			return r;
	}
	switch (req->op) {
	case STORE_OP_GET:
		*ret_path = ETCD_PATH_RANGE;
		r = etcd_codec_range_req(full, NULL, 0, ret_body);
		break;
	case STORE_OP_LIST:
		*ret_path = ETCD_PATH_RANGE;
		r = etcd_codec_prefix_end(full, strlen(full), &end, &end_len);
		if (r == 0)
			r = etcd_codec_range_req(full, end, end_len, ret_body);
		break;
	case STORE_OP_PUT:
		*ret_path = ETCD_PATH_TXN;
		r = etcd_codec_put_req(req->mode, full, req->value, req->value_len, req->expect_mod_rev, req->lease,
		                       ret_body);
		break;
	case STORE_OP_DELETE:
		*ret_path = ETCD_PATH_TXN;
		r = etcd_codec_delete_req(full, req->expect_mod_rev, ret_body);
		break;
	case STORE_OP_LEASE_GRANT:
		*ret_path = ETCD_PATH_GRANT;
		r = etcd_codec_lease_grant_req(req->ttl, ret_body);
		break;
	case STORE_OP_LEASE_KEEPALIVE:
		*ret_path = ETCD_PATH_KEEPALIVE;
		r = etcd_codec_lease_id_req(req->id, ret_body);
		break;
	case STORE_OP_LEASE_REVOKE:
		*ret_path = ETCD_PATH_REVOKE;
		r = etcd_codec_lease_id_req(req->id, ret_body);
		break;
	case STORE_OP_LEASE_TTL:
		*ret_path = ETCD_PATH_TIMETOLIVE;
		r = etcd_codec_lease_id_req(req->id, ret_body);
		break;
	}
	free(full);
	free(end);
	return r;
}

/* An etcd reply -> store.h's result and error code.  Fills res only on success. */
static int etcd_interpret(struct store_etcd *e, const struct store_req *req, int k, long status, const char *body,
                          size_t len, struct store_result *res)
{
	char msg[ETCD_ERRMSG_MAX];
	bool ok, exists;
	int code, r;

	/* Errors: a unary call answers 4xx/5xx, the keep-alive stream 200 with an error object. */
	if (status != 200 || req->op == STORE_OP_LEASE_KEEPALIVE) {
		r = etcd_codec_parse_error(body, len, &code, msg);
		if (r == 0) {
			r = etcd_codec_errno(code, msg);
			if (r == -ENOENT)
				log_debug("etcd %s: %s", e->ep[k].name, msg);
			else
				log_warn("etcd %s: %s (gRPC code %d)", e->ep[k].name, msg, code);
			return r;
		}
		if (status != 200) {
			log_warn("etcd %s: HTTP %ld without an etcd error (is this etcd's v3 gateway?)", e->ep[k].name, status);
			return -EIO;
		}
	}
	switch (req->op) {
	case STORE_OP_GET: {
		struct store_kvs kvs;

		r = etcd_codec_parse_range(body, len, e->base.prefix, &kvs);
		if (r < 0)
			return r;
		if (kvs.n == 0) {
			store_kvs_done(&kvs);
			return -ENOENT;
		}
		res->kv = kvs.kvs[0];
		kvs.kvs[0] = (struct store_kv){ 0 };
		store_kvs_done(&kvs);
		return 0;
	}
	case STORE_OP_LIST:
		return etcd_codec_parse_range(body, len, e->base.prefix, &res->kvs);
	case STORE_OP_PUT:
		r = etcd_codec_parse_put(body, len, &ok, &res->rev);
		if (r < 0)
			return r;
		if (!ok)
			return req->mode == STORE_PUT_CREATE ? -EEXIST : -ESTALE;
		return 0;
	case STORE_OP_DELETE:
		r = etcd_codec_parse_delete(body, len, &ok, &res->rev, &exists);
		if (r < 0)
			return r;
		if (!ok)
			return exists ? -ESTALE : -ENOENT;
		return 0;
	case STORE_OP_LEASE_GRANT:
		r = etcd_codec_parse_lease(body, len, &res->id, &res->ttl);
		return r < 0 ? r : res->id > 0 && res->ttl > 0 ? 0 : -EBADMSG;
	case STORE_OP_LEASE_KEEPALIVE:
		r = etcd_codec_parse_lease(body, len, &res->id, &res->ttl);
		if (r < 0)
			return r;
		/* etcd answers a lease it does not know (expired, revoked) with TTL 0. */
		res->id = req->id;
		return res->ttl > 0 ? 0 : -ENOENT;
	case STORE_OP_LEASE_REVOKE:
		return 0;
	case STORE_OP_LEASE_TTL:
		return etcd_codec_parse_lease_ttl(body, len, &res->ttl, &res->granted);
	}
	return -EINVAL;
}

static bool etcd_idempotent(const struct store_req *req)
{
	return req->op == STORE_OP_GET || req->op == STORE_OP_LIST || req->op == STORE_OP_LEASE_TTL;
}

/* ---- synchronous path (start-up; blocks) ---- */

static void etcd_sync_done(struct http_request *hr, void *userdata)
{
	*(bool *)userdata = true;
}

static int etcd_sync_call(struct store_etcd *e, const struct store_req *req, struct store_result *res)
{
	const char *path;
	uint32_t tried = 0;
	char *body;
	int k, r;

	if (!e->sync_client) {
		r = uv_loop_init(&e->sync_loop);
		if (r < 0)
			return r;
		r = etcd_client_new(e, &e->sync_loop, &e->sync_client);
		if (r < 0) {
			uv_loop_close(&e->sync_loop);
			return r;
		}
	}
	r = etcd_build(e, req, &path, &body);
	if (r < 0)
		return r;
	for (;;) {
		const struct http_outcome *o;
		struct http_request *hr;
		bool failover, done = false;

		r = etcd_endpoint_pick(e, tried, &k);
		if (r < 0)
			break;
		tried |= 1u << k;
		r = etcd_http_start(e, e->sync_client, k, path, body, NULL, etcd_sync_done, &done, &hr);
		if (r < 0)
			break;
		/* The private loop holds only this request and idle connections: it returns when
		 * something happened, and the request's own timers bound the wait. */
		while (!done)
			uv_run(&e->sync_loop, UV_RUN_ONCE);
		o = http_request_outcome(hr);
		r = etcd_outcome(e, o, k, etcd_idempotent(req), &failover);
		if (r < 0 && failover) {
			http_request_free(hr);
			continue;
		}
		if (r == 0)
			r = etcd_interpret(e, req, k, o->status, o->body, o->len, res);
		http_request_free(hr);
		break;
	}
	free(body);
	return r;
}

static int etcd_get(struct store *s, const char *key, struct store_kv *ret_kv)
{
	struct store_req req = { .op = STORE_OP_GET, .key = (char *)key };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0)
		*ret_kv = res.kv;
	return r;
}

static int etcd_list(struct store *s, const char *prefix, struct store_kvs *ret)
{
	struct store_req req = { .op = STORE_OP_LIST, .key = (char *)prefix };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0)
		*ret = res.kvs;
	return r;
}

static int etcd_put(struct store *s, enum store_put_mode mode, const char *key, const char *value, size_t len,
                    int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev)
{
	struct store_req req = { .op = STORE_OP_PUT, .mode = mode, .key = (char *)key, .value = (char *)value,
	                         .value_len = len, .expect_mod_rev = expect_mod_rev, .lease = lease };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0 && ret_rev)
		*ret_rev = res.rev;
	return r;
}

static int etcd_del(struct store *s, const char *key, int64_t expect_mod_rev, int64_t *ret_rev)
{
	struct store_req req = { .op = STORE_OP_DELETE, .key = (char *)key, .expect_mod_rev = expect_mod_rev };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0 && ret_rev)
		*ret_rev = res.rev;
	return r;
}

static int etcd_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id)
{
	struct store_req req = { .op = STORE_OP_LEASE_GRANT, .ttl = ttl_seconds };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0)
		*ret_id = res.id;
	return r;
}

static int etcd_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	struct store_req req = { .op = STORE_OP_LEASE_KEEPALIVE, .id = id };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0 && ret_ttl)
		*ret_ttl = res.ttl;
	return r;
}

static int etcd_lease_revoke(struct store *s, int64_t id)
{
	struct store_req req = { .op = STORE_OP_LEASE_REVOKE, .id = id };
	struct store_result res = { 0 };

	return etcd_sync_call(etcd_of(s), &req, &res);
}

static int etcd_lease_ttl(struct store *s, int64_t id, int64_t *ret_remaining, int64_t *ret_granted)
{
	struct store_req req = { .op = STORE_OP_LEASE_TTL, .id = id };
	struct store_result res = { 0 };
	int r = etcd_sync_call(etcd_of(s), &req, &res);

	if (r == 0) {
		*ret_remaining = res.ttl;
		*ret_granted = res.granted;
	}
	return r;
}

/* ---- exchanges on the loop ---- */

static void etcd_dispatch(struct store_etcd *e);

static void etcd_kick_cb(uv_timer_t *t)
{
	struct store_etcd *e = t->data;

	if (e)
		etcd_dispatch(e);
}

/* Deliver on the next loop iteration. */
static void etcd_kick(struct store_etcd *e)
{
	uv_timer_start(e->kick, etcd_kick_cb, 0, 0);
}

static void etcd_xfer_done(struct http_request *hr, void *userdata)
{
	struct etcd_xfer *x = userdata;

	/* Only recorded: etcd_dispatch runs the callbacks once the client has returned. */
	x->finished = true;
	etcd_kick(x->e);
}

static void etcd_xfer_free(struct etcd_xfer *x)
{
	struct store_etcd *e = x->e;

	if (x->prev)
		x->prev->next = x->next;
	else
		e->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	http_request_free(x->http);
	if (x->watch)
		x->watch->xfer = NULL;
	free(x->body);
	free(x);
}

static int etcd_xfer_new(struct store_etcd *e, struct store_req *req, struct etcd_watch *w, struct etcd_xfer **ret)
{
	struct etcd_xfer *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->e = e;
	x->req = req;
	x->watch = w;
	x->next = e->xfers;
	if (e->xfers)
		e->xfers->prev = x;
	e->xfers = x;
	*ret = x;
	return 0;
}

/* Send x to the next endpoint it has not tried.  Failing that, x completes with the error from
 * the loop (never inside the call that started it). */
static void etcd_xfer_start(struct etcd_xfer *x)
{
	struct store_etcd *e = x->e;
	int r;

	http_request_free(x->http);
	x->http = NULL;
	x->finished = false;
	r = etcd_endpoint_pick(e, x->tried, &x->ep);
	if (r == 0) {
		x->tried |= 1u << x->ep;
		r = etcd_http_start(e, e->client, x->ep, x->path, x->body, NULL, etcd_xfer_done, x, &x->http);
	}
	if (r < 0) {
		x->fail = r;
		etcd_kick(e);
	}
}

static void etcd_req_finish(struct etcd_xfer *x, int r)
{
	struct store_req *req = x->req;
	struct store_result res = { 0 };

	if (r == 0) {
		const struct http_outcome *o = http_request_outcome(x->http);

		r = etcd_interpret(x->e, req, x->ep, o->status, o->body, o->len, &res);
	}
	etcd_xfer_free(x);
	req->backend = NULL;
	/* The callback may free the store: nothing of it is touched afterwards. */
	store_req_complete(req, r, &res);
	store_kv_done(&res.kv);
	store_kvs_done(&res.kvs);
}

static int etcd_submit(struct store *s, struct store_req *req)
{
	struct store_etcd *e = etcd_of(s);
	struct etcd_xfer *x;
	int r;

	r = etcd_xfer_new(e, req, NULL, &x);
	if (r < 0)
		return r;
	r = etcd_build(e, req, &x->path, &x->body);
	if (r < 0) {
		etcd_xfer_free(x);
		return r;
	}
	req->backend = x;
	etcd_xfer_start(x);
	return 0;
}

/* ---- watches ---- */

static void etcd_watch_connect(struct etcd_watch *w);

static int etcd_watch_body(void *userdata, const char *data, size_t len)
{
	struct etcd_xfer *x = userdata;
	int r;

	/* Only buffered here: etcd_dispatch delivers once the client has returned. */
	r = x->watch ? etcd_stream_feed(&x->watch->st, data, len) : -ECANCELED;
	if (r >= 0)
		etcd_kick(x->e);
	return r < 0 ? r : 0;
}

static void etcd_watch_retry_cb(uv_timer_t *t)
{
	struct etcd_watch *w = t->data;

	if (w)
		etcd_watch_connect(w);
}

static void etcd_watch_schedule(struct etcd_watch *w)
{
	uint64_t d;

	if (etcd_now_ms() - w->started >= ETCD_WATCH_STABLE_MS)
		w->attempts = 0;
	w->attempts++;
	d = (uint64_t)ETCD_WATCH_RETRY_MIN_MS << (w->attempts - 1 < 6 ? w->attempts - 1 : 6);
	if (d > ETCD_WATCH_RETRY_MAX_MS)
		d = ETCD_WATCH_RETRY_MAX_MS;
	d = etcd_jitter(d);
	uv_timer_start(w->retry, etcd_watch_retry_cb, d, 0);
}

/* The stream is over (broken, ended, or etcd canceled it): reconnect later. */
static void etcd_watch_restart(struct etcd_watch *w, int err, const char *why)
{
	/* Logged first: why may point into the transfer (its error buffer), freed below. */
	if (w->attempts == 0 || etcd_now_ms() - w->started >= ETCD_WATCH_STABLE_MS)
		log_info("etcd watch on %s broke (%s%s%s); resuming from revision %" PRId64, w->key, strerror(-err),
		         why && *why ? ": " : "", why ? why : "", w->rev + 1);
	else
		log_debug("etcd watch on %s: %s; retrying", w->key, strerror(-err));
	if (w->xfer)
		etcd_xfer_free(w->xfer);
	etcd_stream_reset(&w->st);
	etcd_watch_schedule(w);
}

static void etcd_watch_connect(struct etcd_watch *w)
{
	struct store_etcd *e = w->e;
	struct etcd_xfer *x;
	int r;

	w->started = etcd_now_ms();
	r = etcd_xfer_new(e, NULL, w, &x);
	if (r < 0)
		goto retry;
	w->xfer = x;
	x->path = ETCD_PATH_WATCH;
	r = etcd_codec_watch_req(w->key, w->end, w->end_len, w->rev + 1, &x->body);
	if (r == 0)
		r = etcd_endpoint_pick(e, 0, &x->ep);
	if (r < 0)
		goto drop;
	etcd_stream_reset(&w->st);
	r = etcd_http_start(e, e->client, x->ep, x->path, x->body, etcd_watch_body, etcd_xfer_done, x, &x->http);
	if (r < 0)
		goto drop;
	return;
drop:
	etcd_xfer_free(x);
retry:
	/* Every endpoint is resting (or no memory): the backoff decides when to look again. */
	log_debug("etcd watch on %s: cannot connect: %s", w->key, strerror(-r));
	etcd_watch_schedule(w);
}

/* Deliver every whole message buffered for w. */
static void etcd_watch_drain(struct etcd_watch *w)
{
	struct store_etcd *e = w->e;

	while (!w->dead && !w->stopped && !e->free_pending) {
		struct etcd_watch_msg m;
		const char *msg;
		size_t len, n = 0;
		int r;

		r = etcd_stream_next(&w->st, &msg, &len);
		if (r == 0)
			return;
		if (r > 0)
			r = etcd_codec_parse_watch(msg, len, e->base.prefix, &m);
		if (r < 0) {
			etcd_watch_restart(w, r, "unreadable watch stream");
			return;
		}
		if (m.error_code) {
			etcd_watch_restart(w, etcd_codec_errno(m.error_code, m.reason), m.reason);
			etcd_watch_msg_done(&m);
			return;
		}
		if (m.compact_rev > 0) {
			/* store.h: list again and watch from the listing's revision. */
			log_info("etcd watch on %s: revision %" PRId64 " was compacted (etcd keeps %" PRId64 " on)", w->key,
			         w->rev + 1, m.compact_rev);
			etcd_watch_msg_done(&m);
			if (w->xfer)
				etcd_xfer_free(w->xfer);
			w->stopped = true;
			w->cb(w->userdata, NULL, 0, -ECANCELED);
			return;
		}
		if (m.canceled) {
			etcd_watch_restart(w, -ECONNRESET, m.reason[0] ? m.reason : "canceled by etcd");
			etcd_watch_msg_done(&m);
			return;
		}
		if (!m.created && m.n_events == 0 && m.header_rev > w->rev) {
			/* A progress notification: etcd has sent everything up to header_rev. */
			w->rev = m.header_rev;
		}
		/* Anything at or below what was delivered (a replay after reconnecting) goes. */
		for (size_t i = 0; i < m.n_events; i++) {
			if (m.events[i].kv.mod_rev <= w->rev) {
				store_kv_done(&m.events[i].kv);
				continue;
			}
			m.events[n++] = m.events[i];
		}
		m.n_events = n;
		if (n > 0) {
			w->rev = m.events[n - 1].kv.mod_rev;
			w->cb(w->userdata, m.events, n, 0);
		}
		etcd_watch_msg_done(&m);
	}
}

static void etcd_watch_free(struct etcd_watch *w)
{
	struct store_etcd *e = w->e;

	if (w->xfer)
		etcd_xfer_free(w->xfer);
	if (w->retry) {
		w->retry->data = NULL;
		uv_close((uv_handle_t *)w->retry, etcd_handle_free_cb);
	}
	if (w->prev)
		w->prev->next = w->next;
	else
		e->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		e->watches_tail = w->prev;
	etcd_stream_done(&w->st);
	free(w->key);
	free(w->end);
	free(w);
}

static int etcd_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                      struct store_watch **ret)
{
	struct store_etcd *e = etcd_of(s);
	struct etcd_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->base.store = s;
	w->e = e;
	w->rev = from_rev;
	w->cb = cb;
	w->userdata = userdata;
	etcd_stream_init(&w->st, ETCD_MSG_MAX);
	r = etcd_full_key(e, prefix, &w->key);
	if (r == 0)
		r = etcd_codec_prefix_end(w->key, strlen(w->key), &w->end, &w->end_len);
	if (r == 0) {
		w->retry = calloc(1, sizeof(*w->retry));
		r = w->retry ? 0 : -ENOMEM;
	}
	if (r < 0) {
		free(w->retry);
		free(w->key);
		free(w->end);
		free(w);
		return r;
	}
	uv_timer_init(s->loop, w->retry);
	w->retry->data = w;
	w->prev = e->watches_tail;
	if (e->watches_tail)
		e->watches_tail->next = w;
	else
		e->watches = w;
	e->watches_tail = w;
	/* Only queued: events (or -ECANCELED) arrive from the loop, never inside this call. */
	etcd_watch_connect(w);
	*ret = &w->base;
	return 0;
}

static void etcd_watch_cancel(struct store_watch *bw)
{
	struct etcd_watch *w = (struct etcd_watch *)bw;

	if (w->e->dispatching) {
		/* etcd_dispatch may be walking the list: it frees w when it is done. */
		w->dead = true;
		if (w->xfer)
			etcd_xfer_free(w->xfer);
		uv_timer_stop(w->retry);
		return;
	}
	etcd_watch_free(w);
}

/* ---- dispatch: the only place callbacks run ---- */

static void etcd_destroy(struct store_etcd *e);

/* x's exchange is over: deliver, fail over, or restart its watch.  x may be gone afterwards. */
static void etcd_xfer_over(struct store_etcd *e, struct etcd_xfer *x)
{
	const struct http_outcome *o = http_request_outcome(x->http);
	bool failover;
	int r;

	x->finished = false;
	r = etcd_outcome(e, o, x->ep, x->req && etcd_idempotent(x->req), &failover);
	if (x->watch) {
		struct etcd_watch *w = x->watch;

		/* Whatever arrived before the end is delivered first. */
		etcd_watch_drain(w);
		if (!w->dead && !w->stopped && w->xfer == x && !e->free_pending)
			etcd_watch_restart(w, r < 0 ? r : -ECONNRESET, r < 0 ? o->msg : "etcd ended the stream");
		return;
	}
	if (r < 0 && failover) {
		etcd_xfer_start(x);
		return;
	}
	etcd_req_finish(x, r);
}

static void etcd_dispatch(struct store_etcd *e)
{
	struct etcd_xfer *x, *next;

	e->dispatching = true;
	/* Only requests that failed before this pass: one whose callback starts another while every
	 * endpoint is down waits for the next loop iteration instead of spinning here. */
	for (x = e->xfers; x; x = x->next)
		x->due = x->fail && x->req;
	for (struct etcd_watch *w = e->watches; w && !e->free_pending; w = w->next)
		if (!w->dead && !w->stopped)
			etcd_watch_drain(w);
	/* Exchanges that ended; one at a time, from the start again: a callback changes the list.  A
	 * restarted one is not finished again before the client runs. */
	for (x = e->xfers; x && !e->free_pending; x = next) {
		next = x->next;
		if (x->finished) {
			etcd_xfer_over(e, x);
			next = e->xfers;
		}
	}
	/* Requests that could not even start. */
	for (x = e->xfers; x && !e->free_pending; x = next) {
		next = x->next;
		if (x->due) {
			etcd_req_finish(x, x->fail);
			next = e->xfers;   /* the callback may have changed the list: start over */
		}
	}
	e->dispatching = false;
	if (e->free_pending) {
		etcd_destroy(e);
		return;
	}
	for (struct etcd_watch *w = e->watches, *wn; w; w = wn) {
		wn = w->next;
		if (w->dead)
			etcd_watch_free(w);
	}
}

/* ---- open / free ---- */

static void etcd_destroy(struct store_etcd *e)
{
	/* Exchanges stop first (requests keep their store_req); then every pending request hears
	 * -ECANCELED while the watches still exist, as store.h promises. */
	while (e->xfers)
		etcd_xfer_free(e->xfers);
	store_base_cancel(&e->base);
	while (e->watches)
		etcd_watch_free(e->watches);
	http_client_free(e->client);
	if (e->sync_client) {
		http_client_free(e->sync_client);
		/* The connections' handles close through the private loop. */
		uv_run(&e->sync_loop, UV_RUN_DEFAULT);
		uv_loop_close(&e->sync_loop);
	}
	if (e->kick) {
		e->kick->data = NULL;
		uv_close((uv_handle_t *)e->kick, etcd_handle_free_cb);
	}
	for (int i = 0; i < e->n_ep; i++) {
		free(e->ep[i].name);
		free(e->ep[i].host);
	}
	free(e->ca);
	free(e->cert);
	free(e->key);
	store_base_done(&e->base);
	free(e);
}

static void etcd_free(struct store *s)
{
	struct store_etcd *e = etcd_of(s);

	if (e->dispatching) {
		/* From a callback: etcd_dispatch finishes the job when it returns. */
		e->free_pending = true;
		return;
	}
	etcd_destroy(e);
}

/* "//HOST:PORT[,HOST:PORT...][/]"; HOST may be [IPv6].  No credentials, no path. */
static int etcd_parse_endpoints(struct store_etcd *e, const char *location)
{
	const char *p;

	if (strncmp(location, "//", 2) != 0) {
		log_error("etcd store URL must look like etcd://HOST:PORT[,HOST:PORT...]");
		return -EINVAL;
	}
	p = location + 2;
	while (*p) {
		const char *end = p + strcspn(p, ",/");
		const char *host = p, *colon;
		size_t hlen;
		long port = ETCD_DEFAULT_PORT;
		char *tail;

		if (e->n_ep == ETCD_ENDPOINTS_MAX) {
			log_error("etcd store URL: more than %d endpoints", ETCD_ENDPOINTS_MAX);
			return -EINVAL;
		}
		if (*host == '[') {
			const char *rb = memchr(host, ']', (size_t)(end - host));

			if (!rb)
				goto bad;
			colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
			if (rb + 1 != end && !colon)
				goto bad;
			hlen = (size_t)(rb + 1 - host);
		} else {
			colon = memchr(host, ':', (size_t)(end - host));
			hlen = colon ? (size_t)(colon - host) : (size_t)(end - host);
		}
		if (hlen == 0 || memchr(host, '@', (size_t)(end - host)))
			goto bad;
		if (colon) {
			port = strtol(colon + 1, &tail, 10);
			if (tail != end || colon + 1 == end || port < 1 || port > 65535)
				goto bad;
		}
		if (asprintf(&e->ep[e->n_ep].name, "%.*s:%ld", (int)hlen, host, port) < 0)
			return -ENOMEM;
		/* What to connect to: [v6] loses its brackets. */
		if (*host == '[')
			e->ep[e->n_ep].host = strndup(host + 1, hlen - 2);
		else
			e->ep[e->n_ep].host = strndup(host, hlen);
		if (!e->ep[e->n_ep].host) {
			free(e->ep[e->n_ep].name);
			e->ep[e->n_ep].name = NULL;
			return -ENOMEM;
		}
		e->ep[e->n_ep].port = (uint16_t)port;
		e->n_ep++;
		p = end;
		if (*p == '/') {
			if (p[1] != '\0')
				goto bad;
			break;
		}
		if (*p == ',')
			p++;
	}
	if (e->n_ep == 0)
		goto bad;
	return 0;
bad:
	/* Endpoint text only: a URL with credentials is not repeated into the log. */
	log_error("etcd store URL: bad endpoint list (want HOST:PORT[,HOST:PORT...], no user or path)");
	return -EINVAL;
}

static int etcd_tls_file(const char *what, const char *path, char **ret)
{
	if (!path || !*path)
		return 0;
	if (access(path, R_OK) < 0) {
		int r = -errno;

		log_error("etcd TLS %s %s: %s", what, path, strerror(-r));
		return r;
	}
	*ret = strdup(path);
	return *ret ? 0 : -ENOMEM;
}

static int etcd_open_common(uv_loop_t *loop, const char *location, const struct store_tls *tls, bool https,
                            struct store **ret, const struct store_ops *ops)
{
	struct store_etcd *e;
	int r;

	static bool seeded;

	if (!seeded) {
		srandom((unsigned)getpid() ^ (unsigned)etcd_now_ms());
		seeded = true;
	}
	if (https) {
		char why[256];

		/* OpenSSL is loaded for etcds:// only (store/tls.h). */
		if (tls_load(why, sizeof(why)) < 0) {
			log_error("etcds://: %s", why);
			return -ELIBACC;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->base.ops = ops;
	e->base.loop = loop;
	e->https = https;
	r = etcd_parse_endpoints(e, location);
	if (r < 0)
		goto fail;
	if (tls && !https && ((tls->ca && *tls->ca) || (tls->cert && *tls->cert) || (tls->key && *tls->key)))
		log_warn("etcd store: TLS settings are ignored for etcd:// (use etcds:// for TLS)");
	if (https && tls) {
		if (!!(tls->cert && *tls->cert) != !!(tls->key && *tls->key)) {
			log_error("etcd TLS: a client certificate needs its key and a key its certificate");
			r = -EINVAL;
			goto fail;
		}
		r = etcd_tls_file("CA", tls->ca, &e->ca);
		if (r == 0)
			r = etcd_tls_file("certificate", tls->cert, &e->cert);
		if (r == 0)
			r = etcd_tls_file("key", tls->key, &e->key);
		if (r < 0)
			goto fail;
	}
	if (loop) {
		e->kick = calloc(1, sizeof(*e->kick));
		if (!e->kick) {
			r = -ENOMEM;
			goto fail;
		}
		uv_timer_init(loop, e->kick);
		e->kick->data = e;
		r = etcd_client_new(e, loop, &e->client);
		if (r < 0)
			goto fail;
	}
	*ret = &e->base;
	return 0;
fail:
	etcd_destroy(e);
	return r;
}

static int etcd_open(uv_loop_t *loop, const char *location, const struct store_tls *tls, struct store **ret)
{
	return etcd_open_common(loop, location, tls, false, ret, &store_etcd_ops);
}

static int etcds_open(uv_loop_t *loop, const char *location, const struct store_tls *tls, struct store **ret)
{
	return etcd_open_common(loop, location, tls, true, ret, &store_etcds_ops);
}

#define ETCD_OPS_COMMON \
	.free = etcd_free, \
	.get = etcd_get, \
	.list = etcd_list, \
	.put = etcd_put, \
	.del = etcd_del, \
	.lease_grant = etcd_lease_grant, \
	.lease_keepalive = etcd_lease_keepalive, \
	.lease_revoke = etcd_lease_revoke, \
	.lease_ttl = etcd_lease_ttl, \
	.submit = etcd_submit, \
	.watch = etcd_watch, \
	.watch_cancel = etcd_watch_cancel

const struct store_ops store_etcd_ops = {
	.scheme = "etcd",
	.open = etcd_open,
	ETCD_OPS_COMMON,
};

const struct store_ops store_etcds_ops = {
	.scheme = "etcds",
	.open = etcds_open,
	ETCD_OPS_COMMON,
};
