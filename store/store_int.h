/* Private to store/: the backend interface behind store.h, and the file store's test hooks.  Not
 * for other modules.
 *
 * The pieces:
 *   store.c              URL scheme -> backend, argument checks, the asynchronous request life cycle
 *   store_file.c         file backend: lock, load/save, watches, operations (sync and async)
 *   store_file_db.c      file backend: the database in memory (pure: no I/O)
 *   store_file_codec.c   file backend: the database file format (parse/dump, fuzzed)
 *   etcd_http.c          etcd backend: endpoints, requests (sync and on the loop), watches
 *   etcd_codec.c         etcd backend: JSON gateway bodies and replies (pure, fuzzed)
 *   http_client.c        etcd backend: HTTP/1.1 client on libuv (connections, timeouts, TLS glue)
 *   http_response.c      etcd backend: one response's framing around libhttp-parser (pure, fuzzed)
 *   tls.c                etcd backend: OpenSSL over memory BIOs, loaded for etcds:// only */
#pragma once
#include "store/store.h"

#define STORE_KEY_MAX    512           /* bytes of a key relative to the prefix */
#define STORE_PREFIX_MAX 1024          /* bytes of the configured prefix */
#define STORE_VALUE_MAX  (1u << 20)    /* bytes of one value (etcd's default limit is 1.5 MiB) */

enum store_put_mode {
	STORE_PUT_ANY,      /* store_put */
	STORE_PUT_CREATE,   /* store_create: -EEXIST when present */
	STORE_PUT_CAS,      /* store_cas: mod_rev must equal expect (0 = absent), else -ESTALE */
};

enum store_op {
	STORE_OP_GET,
	STORE_OP_LIST,
	STORE_OP_PUT,
	STORE_OP_DELETE,
	STORE_OP_LEASE_GRANT,
	STORE_OP_LEASE_KEEPALIVE,
	STORE_OP_LEASE_REVOKE,
	STORE_OP_LEASE_TTL,
};

/* What an operation produced; the fields that count depend on the op. */
struct store_result {
	struct store_kv kv;     /* GET */
	struct store_kvs kvs;   /* LIST */
	int64_t rev;            /* PUT, DELETE: the revision of the change */
	int64_t id, ttl;        /* LEASE_GRANT, LEASE_KEEPALIVE; LEASE_TTL: ttl is the time left */
	int64_t granted;        /* LEASE_TTL: the granted TTL */
};

/* One asynchronous operation, from store_*_async() until its callback has returned.  store.c
 * creates it with copies of the arguments (the caller's buffers need not outlive the call), links
 * it into store->reqs and hands it to the backend's submit; the backend finishes it exactly once
 * with store_req_complete() (or store_req_run()), or store_base_cancel() does. */
struct store_req {
	struct store *store;
	struct store_req *prev, *next;   /* in store->reqs, oldest first */
	enum store_op op;
	enum store_put_mode mode;        /* PUT */
	char *key;                       /* GET, PUT, DELETE: the key; LIST: the prefix ("" = all) */
	char *value;                     /* PUT: NUL-terminated copy */
	size_t value_len;
	int64_t expect_mod_rev;          /* PUT (CAS), DELETE (0 = any) */
	int64_t lease;                   /* PUT (0 = none) */
	int64_t id;                      /* LEASE_KEEPALIVE, LEASE_REVOKE, LEASE_TTL; <= 0: -ENOENT */
	int64_t ttl;                     /* LEASE_GRANT */
	union {
		store_kv_cb kv;
		store_kvs_cb kvs;
		store_rev_cb rev;
		store_lease_cb lease;
		store_done_cb done;
		store_lease_ttl_cb lease_ttl;
	} cb;
	void *userdata;
	void *backend;                   /* the backend's own per-request state */
};

/* A backend: one ops table per URL scheme.  Arguments arrive validated by store.c (keys valid,
 * prefixes not NULL, lease/expect >= 0, value not NULL). */
struct store_ops {
	const char *scheme;
	/* location is the URL after "scheme:"; tls is store_open's (NULL for none; backends without
	 * TLS ignore it).  The backend allocates its own struct (with struct store
	 * first, zeroed), sets ops and loop; store.c fills url and prefix afterwards. */
	int (*open)(uv_loop_t *loop, const char *location, const struct store_tls *tls, struct store **ret);
	/* Called once, by store_free (s->closing is already set).  The backend stops its I/O, calls
	 * store_base_cancel() while everything a callback could reach still exists, then frees.  It may
	 * defer all of that while one of its own callbacks is running (store_free from a callback). */
	void (*free)(struct store *s);
	/* Synchronous (start-up only: they may block). */
	int (*get)(struct store *s, const char *key, struct store_kv *ret_kv);
	int (*list)(struct store *s, const char *prefix, struct store_kvs *ret);
	int (*put)(struct store *s, enum store_put_mode mode, const char *key, const char *value, size_t len,
	           int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev);
	int (*del)(struct store *s, const char *key, int64_t expect_mod_rev, int64_t *ret_rev);
	int (*lease_grant)(struct store *s, int64_t ttl_seconds, int64_t *ret_id);
	int (*lease_keepalive)(struct store *s, int64_t id, int64_t *ret_ttl);
	int (*lease_revoke)(struct store *s, int64_t id);
	int (*lease_ttl)(struct store *s, int64_t id, int64_t *ret_remaining, int64_t *ret_granted);
	/* Asynchronous: start req (already linked into s->reqs) and complete it later from the loop,
	 * never inside submit.  A negative return means not started: store.c unlinks and frees req
	 * and returns the error to the caller; the backend must not complete it then. */
	int (*submit)(struct store *s, struct store_req *req);
	int (*watch)(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
	             struct store_watch **ret);
	void (*watch_cancel)(struct store_watch *w);
};

struct store {
	const struct store_ops *ops;
	uv_loop_t *loop;       /* may be NULL: synchronous calls only */
	char *url;
	char *prefix;          /* "/shoal/" by default; keys are stored as prefix + key */
	size_t prefix_len;
	struct store_req *reqs, *reqs_tail;   /* every request not yet completed, oldest first */
	bool closing;          /* store_free was called: every call fails with -ECANCELED */
};

struct store_watch {
	struct store *store;
};

/* Call req's callback (with res's field for req->op when err is 0; NULL or 0 otherwise), after
 * unlinking req from its store, and free req.  The callback may free the store. */
void store_req_complete(struct store_req *req, int err, const struct store_result *res);
/* Run req through the backend's synchronous operations and complete it: for backends whose
 * operations are local and quick (the file store). */
void store_req_run(struct store_req *req);
/* Complete every request not yet completed with -ECANCELED, oldest first. */
void store_base_cancel(struct store *s);
/* Frees what store.c put into the base; the backend calls it when it finally frees its struct. */
void store_base_done(struct store *s);

extern const struct store_ops store_file_ops;
extern const struct store_ops store_etcd_ops;    /* etcd://  (etcd_http.c) */
extern const struct store_ops store_etcds_ops;   /* etcds:// (etcd_http.c, TLS) */

/* Test hooks (process-wide): shift the file store's lease clock by ms; change its watch poll
 * interval. */
void store_file_test_set_clock_offset(int64_t ms);
void store_file_test_set_poll_ms(unsigned ms);
