/* The file store's database in memory: keys, revisions, leases and the event log, and every change
 * to them.  Pure: no I/O, no locking, no clock (callers pass the time).  store_file.c runs each
 * operation under the file lock on the freshly loaded database; store_file_codec.c turns it into
 * bytes and back.
 *
 * Every mutation allocates everything it needs before it changes anything, so a failure (-ENOMEM)
 * leaves the database exactly as it was. */
#pragma once
#include "store/store_int.h"

#define FILE_FULL_KEY_MAX     (STORE_PREFIX_MAX + STORE_KEY_MAX)
#define FILE_EVENTS_MAX       1000
#define FILE_EVENTS_BYTES_MAX (1u << 20)   /* keys + values kept in the event log */
#define FILE_REV_MAX          (INT64_MAX / 4)

struct file_kv {
	char *key;            /* full key (prefix + relative key); never contains NUL */
	char *value;          /* NUL-terminated, may contain NUL bytes; NULL for DELETE events */
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;      /* for events: the event's revision */
	int64_t lease;
};

struct file_event {
	bool del;
	struct file_kv kv;
};

struct file_lease {
	int64_t id;
	int64_t ttl;          /* seconds */
	int64_t expiry_ms;    /* CLOCK_REALTIME, milliseconds */
};

struct store_file_db {
	int64_t revision;
	int64_t compact_rev;  /* events with revision <= this are gone */
	int64_t next_lease;
	struct file_kv *kvs;  /* sorted by key, unique */
	size_t n_kvs, cap_kvs;
	struct file_lease *leases;  /* sorted by id (ids only grow) */
	size_t n_leases, cap_leases;
	struct file_event *events;  /* revisions (compact_rev, revision], in order */
	size_t n_events, cap_events;
	size_t event_bytes;
};

/* An empty database (revision 0), as a missing file reads. */
struct store_file_db *store_file_db_new(void);
void store_file_db_free(struct store_file_db *db);

/* Lookups.  Keys are full keys (prefix included). */
size_t store_file_db_lower(const struct store_file_db *db, const char *key);   /* first key >= key */
struct file_kv *store_file_db_find(struct store_file_db *db, const char *key, size_t *ret_idx);
struct file_lease *store_file_db_lease_find(struct store_file_db *db, int64_t id);
/* Any lease expired at now_ms? */
bool store_file_db_lease_due(const struct store_file_db *db, int64_t now_ms);

/* The operations, with store.h's semantics and error codes. */
int store_file_db_put(struct store_file_db *db, enum store_put_mode mode, const char *key, const char *value,
                      size_t len, int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev);
int store_file_db_delete(struct store_file_db *db, const char *key, int64_t expect_mod_rev, int64_t *ret_rev);
int store_file_db_lease_grant(struct store_file_db *db, int64_t ttl_seconds, int64_t now_ms, int64_t *ret_id);
int store_file_db_lease_keepalive(struct store_file_db *db, int64_t id, int64_t now_ms, int64_t *ret_ttl);
int store_file_db_lease_revoke(struct store_file_db *db, int64_t id);
/* Whole seconds left at now_ms (truncated, as etcd's LeaseTimeToLive) and the granted TTL.  Pure
 * lookup: nothing changes. */
int store_file_db_lease_ttl(const struct store_file_db *db, int64_t id, int64_t now_ms, int64_t *ret_remaining,
                            int64_t *ret_granted);
/* Expire every lease due at now_ms (its keys go in one revision each).  Sets *changed when anything
 * was removed, even when a later lease then fails with -ENOMEM: what was removed stays removed. */
int store_file_db_reap(struct store_file_db *db, int64_t now_ms, bool *changed);

/* A row as the store interface returns it: key without its first strip_len bytes (the prefix). */
int store_file_db_kv_copy(const struct file_kv *kv, size_t strip_len, struct store_kv *ret);
/* The events after revision rev whose key starts with prefix, copied (a watch callback may change
 * the database while it holds them); free with store_file_db_events_free(). */
int store_file_db_events(const struct store_file_db *db, int64_t rev, const char *prefix, size_t strip_len,
                         struct store_event **ret, size_t *ret_n);
void store_file_db_events_free(struct store_event *evs, size_t n);

/* For the parser: append rows in file order, then check the whole.  On success the database owns
 * kv's strings; on failure the caller still does. */
int store_file_db_append_kv(struct store_file_db *db, struct file_kv *kv);
int store_file_db_append_event(struct store_file_db *db, bool del, struct file_kv *kv);
int store_file_db_append_lease(struct store_file_db *db, const struct file_lease *l);
/* The rules that make a database usable (everything the writer guarantees): -EBADMSG otherwise. */
int store_file_db_check(const struct store_file_db *db);
