/* The shared store (DESIGN.md "Store"): one interface, several backends, chosen by URL scheme.
 *
 *   file:/DIR   embedded store in DIR, shared by every shoald process that can see DIR
 *   etcd://...  etcd v3 through its JSON gateway (etcds:// with TLS); docs/store.md
 *
 * Keys given to and returned by this interface are relative to the configured prefix (default
 * "/shoal/"), e.g. "config", "subnets/10.244.3.0-24".  Values are opaque byte strings (shoal stores
 * JSON).  Revisions are store-wide, start at 1 and grow by one per change, as in etcd.
 *
 * Every operation exists twice:
 *
 * - Asynchronous (store_*_async): for everything once the loop runs.  The call only starts the
 *   operation; its result arrives through a callback on the loop given to store_open, exactly once,
 *   and never inside the call that started it (the file store completes on the next loop
 *   iteration, etcd when its reply arrives), so callers have one code path for every backend.
 * - Synchronous: START-UP ONLY (before the loop runs, or where the daemon may stall).  They return
 *   when the operation is done and may block: on etcd for a network round trip (seconds, when an
 *   endpoint is down).
 *
 * Errors are -errno.  The synchronous calls and the callbacks report the same codes for the same
 * outcome (-ENOENT, -EEXIST, -ESTALE, -EBADMSG, ...); the asynchronous calls themselves return
 * only failures to start (-EINVAL, -EFBIG, -ENOMEM, -EOPNOTSUPP without a loop, -ECANCELED once
 * store_free was called), and then no callback runs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct store;
struct store_watch;

struct store_kv {
	char *key;           /* relative to the prefix */
	char *value;         /* NUL-terminated for convenience; value_len excludes the NUL */
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;
	int64_t lease;       /* 0 = none */
};

struct store_kvs {
	struct store_kv *kvs;
	size_t n;
	int64_t revision;    /* the store revision the listing was taken at */
};

enum store_event_type { STORE_EVENT_PUT, STORE_EVENT_DELETE };

struct store_event {
	enum store_event_type type;
	struct store_kv kv;  /* for DELETE: key and mod_rev (= the deleting revision), value empty */
};

/* TLS material for a store that speaks TLS (etcds://); paths, NULL or "" for none.  Without ca the
 * system's CAs are used; cert and key go together (client-certificate authentication). */
struct store_tls {
	const char *ca;
	const char *cert;
	const char *key;
};

/* url: "file:/var/lib/shoal/store", "etcd://HOST:PORT[,HOST:PORT...]" or "etcds://...".  prefix: NULL
 * for "/shoal/".  tls: NULL for none.  loop: where callbacks run; NULL allows only the synchronous
 * calls.  A URL without a scheme, or with a scheme no backend serves, is -EINVAL (logged with the
 * scheme). */
int store_open(uv_loop_t *loop, const char *url, const char *prefix, const struct store_tls *tls,
               struct store **ret);
/* Cancels everything still pending: every operation whose callback has not run yet gets it now,
 * once, with err == -ECANCELED (oldest first) before store_free returns, or, when store_free is
 * called from inside one of this store's callbacks, right after that callback returns.  Whether a
 * cancelled operation took effect is unknown (etcd may have applied it; the file store has not).
 * Inside those callbacks the store is going away: every call on it fails with -ECANCELED and
 * store_free is a no-op.  Watches are freed without a callback; their pointers dangle afterwards.
 * Run the loop once more before uv_loop_close: libuv handles close asynchronously. */
void store_free(struct store *s);
const char *store_url(const struct store *s);

/* ---- asynchronous operations ----
 *
 * Results passed to callbacks are borrowed: valid until the callback returns (copy what you keep).
 * On error they are NULL / 0.  A callback may call any store function, start new operations (they
 * complete on a later iteration) and store_free the store. */

typedef void (*store_kv_cb)(void *userdata, int err, const struct store_kv *kv);
typedef void (*store_kvs_cb)(void *userdata, int err, const struct store_kvs *kvs);
/* rev: the revision of the change. */
typedef void (*store_rev_cb)(void *userdata, int err, int64_t rev);
/* id: the lease; ttl: its TTL in seconds (what the store granted / renewed to). */
typedef void (*store_lease_cb)(void *userdata, int err, int64_t id, int64_t ttl);
typedef void (*store_done_cb)(void *userdata, int err);
/* remaining: whole seconds until the lease expires unless renewed (>= 0); granted: the TTL it was
 * granted (and is renewed to). */
typedef void (*store_lease_ttl_cb)(void *userdata, int err, int64_t remaining, int64_t granted);

/* err -ENOENT when absent. */
int store_get_async(struct store *s, const char *key, store_kv_cb cb, void *userdata);
/* Every key starting with prefix (NULL or "" = all), sorted by key, with the listing's revision. */
int store_list_async(struct store *s, const char *prefix, store_kvs_cb cb, void *userdata);
/* err -EEXIST when the key exists. */
int store_create_async(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                       store_rev_cb cb, void *userdata);
/* err -ESTALE when the key's mod_rev is not expect_mod_rev (0 = the key must not exist). */
int store_cas_async(struct store *s, const char *key, const char *value, size_t len, int64_t expect_mod_rev,
                    int64_t lease, store_rev_cb cb, void *userdata);
int store_put_async(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                    store_rev_cb cb, void *userdata);
/* expect_mod_rev 0 = any.  err -ENOENT when absent, -ESTALE on mismatch. */
int store_delete_async(struct store *s, const char *key, int64_t expect_mod_rev, store_rev_cb cb,
                       void *userdata);
/* ttl_seconds 1 .. 2^31 - 1. */
int store_lease_grant_async(struct store *s, int64_t ttl_seconds, store_lease_cb cb, void *userdata);
/* err -ENOENT when the lease has expired or never existed (any id <= 0 included). */
int store_lease_keepalive_async(struct store *s, int64_t id, store_lease_cb cb, void *userdata);
int store_lease_revoke_async(struct store *s, int64_t id, store_done_cb cb, void *userdata);
/* How long lease id has left, without renewing it (etcd's LeaseTimeToLive).  err -ENOENT when the
 * lease has expired, was revoked or never existed (any id <= 0 included). */
int store_lease_ttl_async(struct store *s, int64_t id, store_lease_ttl_cb cb, void *userdata);

/* ---- synchronous operations: start-up only, they may block ---- */

/* -ENOENT when absent. */
int store_get(struct store *s, const char *key, struct store_kv *ret_kv);
/* Every key starting with prefix ("" = all), sorted by key. */
int store_list(struct store *s, const char *prefix, struct store_kvs *ret);
/* Create-if-absent in one transaction: -EEXIST when the key exists. */
int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                 int64_t *ret_rev);
/* Compare-and-swap: write only if the key's mod_rev equals expect_mod_rev (0 = the key must not
 * exist); -ESTALE otherwise. */
int store_cas(struct store *s, const char *key, const char *value, size_t len, int64_t expect_mod_rev,
              int64_t lease, int64_t *ret_rev);
/* Unconditional put. */
int store_put(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
              int64_t *ret_rev);
/* expect_mod_rev 0 = any.  -ENOENT when absent, -ESTALE on mismatch. */
int store_delete(struct store *s, const char *key, int64_t expect_mod_rev);

/* Leases: keys attached to a lease are deleted (with DELETE events) when it expires or is revoked. */
int store_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id);
/* -ENOENT when the lease has expired or never existed. */
int store_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl);
int store_lease_revoke(struct store *s, int64_t id);
/* Time to live of lease id: *ret_remaining seconds left, *ret_granted its granted TTL; -ENOENT
 * when it has expired or never existed. */
int store_lease_ttl(struct store *s, int64_t id, int64_t *ret_remaining, int64_t *ret_granted);

/* ---- watch ----
 *
 * Watch every key under prefix for changes after from_rev (events with revision > from_rev).
 * Events are delivered on the loop, in revision order, never inside store_watch.  When from_rev is
 * older than the store keeps (compacted), cb is called once with events == NULL and
 * err == -ECANCELED and the watch stops: list again and watch from the listing's revision. */
typedef void (*store_watch_cb)(void *userdata, const struct store_event *events, size_t n, int err);
int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                struct store_watch **ret);
void store_watch_cancel(struct store_watch *w);

void store_kv_done(struct store_kv *kv);
void store_kvs_done(struct store_kvs *kvs);
