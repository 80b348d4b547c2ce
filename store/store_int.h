/* Private to store/: the backend interface behind store.h, and the file store's pieces that unit
 * tests and the fuzz target reach directly (database parser, test hooks).  Not for other modules. */
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

/* A backend: one ops table per URL scheme.  Arguments arrive validated by store.c (keys valid,
 * prefixes not NULL, lease/expect >= 0, value not NULL). */
struct store_ops {
	const char *scheme;
	/* location is the URL after "scheme:".  The backend allocates its own struct (with struct store
	 * first), sets ops and loop; store.c fills url and prefix afterwards. */
	int (*open)(uv_loop_t *loop, const char *location, struct store **ret);
	void (*free)(struct store *s);
	int (*get)(struct store *s, const char *key, struct store_kv *ret_kv);
	int (*list)(struct store *s, const char *prefix, struct store_kvs *ret);
	int (*put)(struct store *s, enum store_put_mode mode, const char *key, const char *value, size_t len,
	           int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev);
	int (*del)(struct store *s, const char *key, int64_t expect_mod_rev);
	int (*lease_grant)(struct store *s, int64_t ttl_seconds, int64_t *ret_id);
	int (*lease_keepalive)(struct store *s, int64_t id, int64_t *ret_ttl);
	int (*lease_revoke)(struct store *s, int64_t id);
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
};

struct store_watch {
	struct store *store;
};

/* Frees what store.c put into the base; the backend calls it when it finally frees its struct. */
void store_base_done(struct store *s);

extern const struct store_ops store_file_ops;

/* The file store's database file (DIR/store.json): parsed into memory and dumped back.  Parsing
 * validates everything (types, revision ordering, lease references); garbage is -EBADMSG. */
struct store_file_db;
int store_file_db_parse(const char *data, size_t len, struct store_file_db **ret);
int store_file_db_dump(const struct store_file_db *db, char **ret_data, size_t *ret_len);
void store_file_db_free(struct store_file_db *db);

/* Test hooks (process-wide): shift the lease clock by ms; change the watch poll interval. */
void store_file_test_set_clock_offset(int64_t ms);
void store_file_test_set_poll_ms(unsigned ms);
