/* The shared store (DESIGN.md "Store"): one interface, several backends.
 *
 *   file:DIR    embedded store in DIR, shared by every shoald process that can see DIR (store_file.c)
 *   etcd:...    etcd v3 through its JSON gateway (a later issue)
 *
 * Keys given to and returned by this interface are relative to the configured prefix (default
 * "/shoal/"), e.g. "config", "subnets/10.244.3.0-24".  Values are opaque byte strings (shoal stores
 * JSON).  Revisions are store-wide, start at 1 and grow by one per change, as in etcd.
 *
 * All calls except the watch are synchronous: on the file store they take a lock, read, maybe
 * write, and return.  They return 0 (or a documented positive value) on success and -errno on
 * failure. */
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

/* url: "file:/var/lib/shoal/store".  prefix: NULL for "/shoal/". */
int store_open(uv_loop_t *loop, const char *url, const char *prefix, struct store **ret);
void store_free(struct store *s);
const char *store_url(const struct store *s);

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

/* Watch every key under prefix for changes after from_rev (events with revision > from_rev).
 * Events are delivered on the loop, in revision order.  When from_rev is older than the store
 * keeps (compacted), cb is called once with events == NULL and err == -ECANCELED and the watch
 * stops: list again and watch from the listing's revision. */
typedef void (*store_watch_cb)(void *userdata, const struct store_event *events, size_t n, int err);
int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                struct store_watch **ret);
void store_watch_cancel(struct store_watch *w);

void store_kv_done(struct store_kv *kv);
void store_kvs_done(struct store_kvs *kvs);
