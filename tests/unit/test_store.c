/* The store interface on the file backend: every operation and error, revisions, leases (with the
 * clock hook instead of sleeps), watches (events, replay, compaction, lease expiry), two handles on
 * one directory, real processes racing, the asynchronous operations on a real loop (each callback
 * once, never inside the call, store_free with operations pending), and the database file parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "store/store.h"
#include "store/store_file_codec.h"
#include "store/store_int.h"

struct fixture {
	char dir[64];
	char url[96];
	uv_loop_t loop;
};

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/shoal-test-store.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->url, sizeof(fx->url), "file:%s/db", fx->dir);
	uv_loop_init(&fx->loop);
	store_file_test_set_clock_offset(0);
	store_file_test_set_poll_ms(1000);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int r;

	/* Close callbacks of freed stores run here; a handle left open fails uv_loop_close. */
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&fx->loop);
	nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	store_file_test_set_clock_offset(0);
	store_file_test_set_poll_ms(1000);
	return r == 0 ? 0 : -1;
}

static struct store *open_sync(struct fixture *fx)
{
	struct store *s = NULL;

	assert_int_equal(store_open(NULL, fx->url, NULL, NULL, &s), 0);
	return s;
}

static struct store *open_loop(struct fixture *fx)
{
	struct store *s = NULL;

	assert_int_equal(store_open(&fx->loop, fx->url, NULL, NULL, &s), 0);
	return s;
}

static int64_t put_str(struct store *s, const char *key, const char *value, int64_t lease)
{
	int64_t rev = 0;

	assert_int_equal(store_put(s, key, value, strlen(value), lease, &rev), 0);
	return rev;
}

static void db_path(struct fixture *fx, char *buf, size_t n)
{
	snprintf(buf, n, "%s/db/store.json", fx->dir);
}

/* ---- open ---- */

static void test_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct store *s = NULL;
	char url[160], sub[128];
	struct stat st;

	/* A scheme no backend serves is a configuration error, like a URL without a scheme. */
	assert_int_equal(store_open(NULL, "etcd:http://127.0.0.1:2379", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, "http://127.0.0.1:2379", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, "FILE:/tmp/x", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, ":/tmp/x", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, "/var/lib/shoal/store", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, "file:relative/dir", NULL, NULL, &s), -EINVAL);
	assert_int_equal(store_open(NULL, "file:", NULL, NULL, &s), -EINVAL);
	assert_null(s);

	/* Missing directories are created, private to root. */
	snprintf(sub, sizeof(sub), "%s/a/b/c", fx->dir);
	snprintf(url, sizeof(url), "file:%s/", sub);
	assert_int_equal(store_open(NULL, url, NULL, NULL, &s), 0);
	assert_string_equal(store_url(s), url);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	store_free(s);
	store_free(NULL);
}

static void test_invalid_args(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	char key[STORE_KEY_MAX + 2];
	struct store_kv kv;
	struct store_kvs kvs;
	struct store_watch *w;
	int64_t rev;

	memset(key, 'k', sizeof(key));
	key[STORE_KEY_MAX + 1] = '\0';   /* 513 bytes */
	const char *bad[] = { "", NULL, key };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_get(s, bad[i], &kv), -EINVAL);
		assert_int_equal(store_create(s, bad[i], "v", 1, 0, &rev), -EINVAL);
		assert_int_equal(store_cas(s, bad[i], "v", 1, 0, 0, &rev), -EINVAL);
		assert_int_equal(store_put(s, bad[i], "v", 1, 0, &rev), -EINVAL);
		assert_int_equal(store_delete(s, bad[i], 0), -EINVAL);
	}
	assert_int_equal(store_list(s, key, &kvs), -EINVAL);
	/* 512 bytes is the longest key. */
	key[STORE_KEY_MAX] = '\0';
	assert_int_equal(store_put(s, key, "v", 1, 0, &rev), 0);
	assert_int_equal(store_get(s, key, &kv), 0);
	assert_int_equal(strlen(kv.key), STORE_KEY_MAX);
	store_kv_done(&kv);

	assert_int_equal(store_put(s, "k", NULL, 3, 0, &rev), -EINVAL);
	assert_int_equal(store_put(s, "k", "v", 1, -1, &rev), -EINVAL);
	assert_int_equal(store_cas(s, "k", "v", 1, -1, 0, &rev), -EINVAL);
	assert_int_equal(store_delete(s, "k", -1), -EINVAL);
	assert_int_equal(store_put(s, "k", "", STORE_VALUE_MAX + 1, 0, &rev), -EFBIG);
	assert_int_equal(store_put(s, "k", NULL, 0, 0, NULL), 0);   /* empty value, revision not wanted */
	assert_int_equal(store_get(s, "k", &kv), 0);
	assert_int_equal(kv.value_len, 0);
	assert_string_equal(kv.value, "");
	store_kv_done(&kv);

	/* Without a loop there is no watch. */
	assert_int_equal(store_watch(s, "", 0, (store_watch_cb)abort, NULL, &w), -EOPNOTSUPP);
	store_free(s);
}

/* ---- kv operations ---- */

static void test_put_get_revisions(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx), *s2;
	static const char bin[] = { 'a', '\0', (char)0xff, (char)0xc3, 'z' };   /* NUL and invalid UTF-8 */
	struct store_kvs kvs;
	struct store_kv kv;
	int64_t rev;

	assert_int_equal(store_list(s, "", &kvs), 0);
	assert_int_equal(kvs.n, 0);
	assert_int_equal(kvs.revision, 0);
	store_kvs_done(&kvs);
	assert_int_equal(store_get(s, "config", &kv), -ENOENT);

	assert_int_equal(put_str(s, "config", "{\"vni\":1}", 0), 1);
	assert_int_equal(put_str(s, "config", "{\"vni\":2}", 0), 2);
	assert_int_equal(put_str(s, "hosts/a", "{}", 0), 3);
	assert_int_equal(store_get(s, "config", &kv), 0);
	assert_string_equal(kv.key, "config");
	assert_string_equal(kv.value, "{\"vni\":2}");
	assert_int_equal(kv.value_len, 9);
	assert_int_equal(kv.create_rev, 1);
	assert_int_equal(kv.mod_rev, 2);
	assert_int_equal(kv.lease, 0);
	store_kv_done(&kv);

	assert_int_equal(store_put(s, "bin", bin, sizeof(bin), 0, &rev), 0);
	assert_int_equal(rev, 4);

	/* Another handle (as another process would) sees all of it, binary value intact. */
	s2 = open_sync(fx);
	assert_int_equal(store_get(s2, "bin", &kv), 0);
	assert_int_equal(kv.value_len, sizeof(bin));
	assert_memory_equal(kv.value, bin, sizeof(bin));
	assert_int_equal(kv.value[kv.value_len], '\0');
	store_kv_done(&kv);
	assert_int_equal(put_str(s2, "config", "x", 0), 5);
	assert_int_equal(store_get(s, "config", &kv), 0);
	assert_string_equal(kv.value, "x");
	assert_int_equal(kv.mod_rev, 5);
	store_kv_done(&kv);
	store_free(s2);
	store_free(s);
}

static void test_list(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx), *other;
	struct store_kvs kvs;
	char url[128];

	put_str(s, "subnets/10.244.1.0-24", "b", 0);
	put_str(s, "subnets/10.244.0.0-24", "a", 0);
	put_str(s, "hosts/n1", "h", 0);
	put_str(s, "config", "c", 0);
	put_str(s, "subnetsX", "not under subnets/", 0);

	assert_int_equal(store_list(s, "subnets/", &kvs), 0);
	assert_int_equal(kvs.n, 2);
	assert_int_equal(kvs.revision, 5);
	assert_string_equal(kvs.kvs[0].key, "subnets/10.244.0.0-24");
	assert_string_equal(kvs.kvs[0].value, "a");
	assert_int_equal(kvs.kvs[0].mod_rev, 2);
	assert_string_equal(kvs.kvs[1].key, "subnets/10.244.1.0-24");
	store_kvs_done(&kvs);

	assert_int_equal(store_list(s, NULL, &kvs), 0);
	assert_int_equal(kvs.n, 5);
	assert_string_equal(kvs.kvs[0].key, "config");
	assert_string_equal(kvs.kvs[4].key, "subnetsX");
	store_kvs_done(&kvs);

	assert_int_equal(store_list(s, "nothing/", &kvs), 0);
	assert_int_equal(kvs.n, 0);
	assert_int_equal(kvs.revision, 5);
	store_kvs_done(&kvs);

	/* Another prefix in the same directory is another namespace. */
	snprintf(url, sizeof(url), "%s", fx->url);
	assert_int_equal(store_open(NULL, url, "/other/", NULL, &other), 0);
	assert_int_equal(store_list(other, "", &kvs), 0);
	assert_int_equal(kvs.n, 0);
	store_kvs_done(&kvs);
	put_str(other, "config", "o", 0);
	store_free(other);
	assert_int_equal(store_list(s, "", &kvs), 0);
	assert_int_equal(kvs.n, 5);
	store_kvs_done(&kvs);
	store_free(s);
}

static void test_create(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	struct store_kv kv;
	int64_t rev = 0;

	assert_int_equal(store_create(s, "subnets/a", "one", 3, 0, &rev), 0);
	assert_int_equal(rev, 1);
	rev = 77;
	assert_int_equal(store_create(s, "subnets/a", "two", 3, 0, &rev), -EEXIST);
	assert_int_equal(rev, 77);   /* outputs untouched on failure */
	assert_int_equal(store_get(s, "subnets/a", &kv), 0);
	assert_string_equal(kv.value, "one");
	assert_int_equal(kv.mod_rev, 1);
	store_kv_done(&kv);
	/* A failed create is no change. */
	assert_int_equal(put_str(s, "other", "x", 0), 2);
	store_free(s);
}

static void test_cas(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	struct store_kv kv;
	int64_t rev, rev2;

	assert_int_equal(store_cas(s, "k", "v1", 2, 5, 0, &rev), -ESTALE);   /* absent, expected rev 5 */
	assert_int_equal(store_cas(s, "k", "v1", 2, 0, 0, &rev), 0);        /* absent, as expected */
	assert_int_equal(store_cas(s, "k", "v2", 2, 0, 0, &rev2), -ESTALE);  /* now it exists */
	assert_int_equal(store_cas(s, "k", "v2", 2, rev, 0, &rev2), 0);
	assert_int_equal(rev2, rev + 1);
	assert_int_equal(store_cas(s, "k", "v3", 2, rev, 0, &rev2), -ESTALE);   /* lost the race */
	assert_int_equal(store_get(s, "k", &kv), 0);
	assert_string_equal(kv.value, "v2");
	assert_int_equal(kv.create_rev, rev);
	store_kv_done(&kv);
	store_free(s);
}

static void test_delete(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	struct store_kvs kvs;
	struct store_kv kv;
	int64_t rev;

	assert_int_equal(store_delete(s, "k", 0), -ENOENT);
	rev = put_str(s, "k", "v", 0);
	assert_int_equal(store_delete(s, "k", rev + 10), -ESTALE);
	assert_int_equal(store_get(s, "k", &kv), 0);
	store_kv_done(&kv);
	assert_int_equal(store_delete(s, "k", rev), 0);
	assert_int_equal(store_get(s, "k", &kv), -ENOENT);
	assert_int_equal(store_delete(s, "k", 0), -ENOENT);

	put_str(s, "k", "again", 0);
	assert_int_equal(store_get(s, "k", &kv), 0);
	assert_int_equal(kv.create_rev, 3);   /* a new life: 1 put, 2 delete, 3 put */
	store_kv_done(&kv);
	assert_int_equal(store_delete(s, "k", 0), 0);
	assert_int_equal(store_list(s, "", &kvs), 0);
	assert_int_equal(kvs.n, 0);
	assert_int_equal(kvs.revision, 4);
	store_kvs_done(&kvs);
	store_free(s);
}

/* ---- leases ---- */

static void test_leases(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	int64_t id, id2, ttl = 0, rev;
	struct store_kvs kvs;
	struct store_kv kv;

	assert_int_equal(store_lease_grant(s, 0, &id), -EINVAL);
	assert_int_equal(store_lease_grant(s, -5, &id), -EINVAL);
	assert_int_equal(store_lease_grant(s, 10, &id), 0);
	assert_true(id > 0);
	assert_int_equal(store_lease_grant(s, 20, &id2), 0);
	assert_int_not_equal(id, id2);

	assert_int_equal(store_put(s, "subnets/a", "x", 1, id + id2 + 100, &rev), -ENOENT);
	assert_int_equal(store_create(s, "subnets/a", "a", 1, id, &rev), 0);
	assert_int_equal(store_cas(s, "subnets/b", "b", 1, 0, id, &rev), 0);
	assert_int_equal(put_str(s, "subnets/c", "c", id2), 3);
	assert_int_equal(put_str(s, "config", "c", 0), 4);
	assert_int_equal(store_get(s, "subnets/a", &kv), 0);
	assert_int_equal(kv.lease, id);
	store_kv_done(&kv);

	assert_int_equal(store_lease_keepalive(s, id, &ttl), 0);
	assert_int_equal(ttl, 10);
	assert_int_equal(store_lease_keepalive(s, id + id2 + 100, &ttl), -ENOENT);
	assert_int_equal(store_lease_keepalive(s, 0, &ttl), -ENOENT);

	/* A lease grant or keep-alive is no revision; a revoke deletes all its keys in one. */
	assert_int_equal(store_lease_revoke(s, id), 0);
	assert_int_equal(store_list(s, "", &kvs), 0);
	assert_int_equal(kvs.revision, 5);
	assert_int_equal(kvs.n, 2);
	assert_string_equal(kvs.kvs[0].key, "config");
	assert_string_equal(kvs.kvs[1].key, "subnets/c");
	store_kvs_done(&kvs);
	assert_int_equal(store_lease_revoke(s, id), -ENOENT);
	assert_int_equal(store_lease_keepalive(s, id, &ttl), -ENOENT);
	assert_int_equal(store_put(s, "subnets/a", "x", 1, id, &rev), -ENOENT);

	/* A put without the lease detaches the key from it. */
	put_str(s, "subnets/c", "c2", 0);
	assert_int_equal(store_lease_revoke(s, id2), 0);
	assert_int_equal(store_get(s, "subnets/c", &kv), 0);
	store_kv_done(&kv);
	store_free(s);
}

static void test_lease_expiry(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx), *s2;
	int64_t id, id2, ttl, rev;
	struct store_kvs kvs;
	struct store_kv kv;

	assert_int_equal(store_lease_grant(s, 1, &id), 0);
	assert_int_equal(store_lease_grant(s, 2, &id2), 0);
	put_str(s, "subnets/a", "a", id);
	put_str(s, "subnets/b", "b", id2);
	put_str(s, "config", "c", 0);

	/* Time to live: granted TTL and whole seconds left, read without renewing. */
	int64_t left, granted;

	assert_int_equal(store_lease_ttl(s, id2, &left, &granted), 0);
	assert_int_equal(granted, 2);
	assert_true(left >= 1 && left <= 2);
	store_file_test_set_clock_offset(1200);
	assert_int_equal(store_lease_ttl(s, id2, &left, &granted), 0);
	assert_int_equal(left, 0);   /* 0.8 s left: truncated, as etcd does */
	assert_int_equal(granted, 2);
	assert_int_equal(store_lease_ttl(s, id, &left, &granted), -ENOENT);   /* expired at +1 s */
	assert_int_equal(store_lease_ttl(s, 0, &left, &granted), -ENOENT);
	assert_int_equal(store_lease_ttl(s, id2 + 100, &left, &granted), -ENOENT);

	/* 1.5 s later: the 1 s lease is gone with its key, whoever looks first. */
	store_file_test_set_clock_offset(1500);
	assert_int_equal(store_lease_keepalive(s, id2, &ttl), 0);   /* id2 now expires at +3.5 s */
	assert_int_equal(ttl, 2);
	s2 = open_sync(fx);
	assert_int_equal(store_get(s2, "subnets/a", &kv), -ENOENT);
	assert_int_equal(store_lease_keepalive(s2, id, &ttl), -ENOENT);
	assert_int_equal(store_put(s2, "subnets/a", "x", 1, id, &rev), -ENOENT);

	/* Renewed at +1.5 s: the time left starts again from the granted TTL, untouched by the query. */
	assert_int_equal(store_lease_ttl(s2, id2, &left, &granted), 0);
	assert_true(left >= 1 && left <= 2);
	store_file_test_set_clock_offset(3000);
	assert_int_equal(store_lease_ttl(s2, id2, &left, &granted), 0);
	assert_int_equal(left, 0);
	assert_int_equal(store_get(s, "subnets/b", &kv), 0);
	store_kv_done(&kv);
	store_file_test_set_clock_offset(3600);
	assert_int_equal(store_list(s2, "", &kvs), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].key, "config");
	assert_int_equal(kvs.revision, 5);   /* 3 puts + one deletion per expired lease */
	store_kvs_done(&kvs);
	store_free(s2);
	store_free(s);
}

/* ---- watches ---- */

struct seen {
	int calls;
	int err;
	size_t n;
	enum store_event_type type[64];
	char *key[64];
	char *value[64];
	int64_t rev[64];
	struct store_watch *w;
	struct store_watch *also_cancel;
	struct store **free_store;
	bool cancel_self;
};

static void seen_cb(void *userdata, const struct store_event *ev, size_t n, int err)
{
	struct seen *sn = userdata;

	sn->calls++;
	if (err) {
		assert_null(ev);
		sn->err = err;
	}
	for (size_t i = 0; i < n && sn->n < 64; i++, sn->n++) {
		if (sn->n > 0)
			assert_true(ev[i].kv.mod_rev >= sn->rev[sn->n - 1]);   /* revision order */
		sn->type[sn->n] = ev[i].type;
		sn->key[sn->n] = strdup(ev[i].kv.key);
		sn->value[sn->n] = strndup(ev[i].kv.value, ev[i].kv.value_len);
		sn->rev[sn->n] = ev[i].kv.mod_rev;
	}
	if (sn->cancel_self) {
		store_watch_cancel(sn->w);
		sn->w = NULL;
	}
	if (sn->also_cancel) {
		store_watch_cancel(sn->also_cancel);
		sn->also_cancel = NULL;
	}
	if (sn->free_store) {
		store_free(*sn->free_store);
		*sn->free_store = NULL;
		sn->free_store = NULL;
	}
}

static void seen_done(struct seen *sn)
{
	for (size_t i = 0; i < sn->n; i++) {
		free(sn->key[i]);
		free(sn->value[i]);
	}
	memset(sn, 0, sizeof(*sn));
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void guard_cb(uv_timer_t *t) {}

/* Run the loop until sn has n events or an error, or until a generous deadline (a failure, not a
 * timing assertion). */
static void run_until(uv_loop_t *loop, struct seen *sn, size_t n)
{
	int64_t deadline = mono_ms() + 5000;
	uv_timer_t guard;

	uv_timer_init(loop, &guard);
	uv_timer_start(&guard, guard_cb, 50, 50);
	while (sn->n < n && !sn->err && mono_ms() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void test_watch_events(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 };
	struct store_kvs kvs;
	int64_t r1, r3;

	put_str(s, "subnets/old", "before", 0);
	assert_int_equal(store_list(s, "subnets/", &kvs), 0);
	assert_int_equal(store_watch(s, "subnets/", kvs.revision, seen_cb, &sn, &sn.w), 0);
	store_kvs_done(&kvs);
	assert_int_equal(sn.calls, 0);   /* never from inside store_watch */

	r1 = put_str(s, "subnets/a", "A", 0);
	put_str(s, "hosts/x", "not watched", 0);
	assert_int_equal(store_delete(s, "subnets/a", 0), 0);
	r3 = r1 + 2;
	run_until(&fx->loop, &sn, 2);
	assert_int_equal(sn.err, 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.type[0], STORE_EVENT_PUT);
	assert_string_equal(sn.key[0], "subnets/a");
	assert_string_equal(sn.value[0], "A");
	assert_int_equal(sn.rev[0], r1);
	assert_int_equal(sn.type[1], STORE_EVENT_DELETE);
	assert_string_equal(sn.key[1], "subnets/a");
	assert_string_equal(sn.value[1], "");
	assert_int_equal(sn.rev[1], r3);

	/* Nothing more arrives for unwatched keys. */
	put_str(s, "hosts/y", "", 0);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(sn.n, 2);
	store_watch_cancel(sn.w);
	seen_done(&sn);
	store_free(s);
}

static void test_watch_replay(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 };

	for (int i = 1; i <= 5; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(put_str(s, key, key, 0), i);
	}
	assert_int_equal(store_watch(s, "", 2, seen_cb, &sn, &sn.w), 0);
	run_until(&fx->loop, &sn, 3);
	assert_int_equal(sn.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sn.rev[i], i + 3);
		assert_int_equal(sn.type[i], STORE_EVENT_PUT);
	}
	assert_string_equal(sn.key[0], "k3");
	assert_string_equal(sn.value[2], "k5");
	store_watch_cancel(sn.w);
	seen_done(&sn);
	store_free(s);
}

static void test_watch_compacted(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 }, sn2 = { 0 };
	size_t big = 700 * 1024;
	char *v = malloc(big);
	int64_t rev;

	/* The event log keeps about 1 MiB of keys and values: two 700 KiB puts compact the first. */
	memset(v, 'x', big);
	assert_int_equal(store_put(s, "big", v, big, 0, &rev), 0);
	assert_int_equal(store_put(s, "big", v, big, 0, &rev), 0);
	free(v);
	assert_int_equal(store_watch(s, "", 0, seen_cb, &sn, &sn.w), 0);
	assert_int_equal(store_watch(s, "", 1, seen_cb, &sn2, &sn2.w), 0);
	run_until(&fx->loop, &sn, 1);
	run_until(&fx->loop, &sn2, 1);
	assert_int_equal(sn.err, -ECANCELED);
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn2.err, 0);   /* revision 2 is still in the log */
	assert_int_equal(sn2.n, 1);
	assert_int_equal(sn2.rev[0], 2);
	/* A cancelled watch stays quiet. */
	put_str(s, "more", "", 0);
	run_until(&fx->loop, &sn2, 2);
	assert_int_equal(sn.calls, 1);
	store_watch_cancel(sn.w);
	store_watch_cancel(sn2.w);
	seen_done(&sn);
	seen_done(&sn2);
	store_free(s);
}

static void test_watch_compacted_by_count(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 }, sn2 = { 0 };
	int64_t rev = 0;

	/* 1000 events are kept: after 1005 changes, revision 5 is the oldest one gone. */
	for (int i = 0; i < 1005; i++)
		assert_int_equal(store_put(s, "counter", "x", 1, 0, &rev), 0);
	assert_int_equal(rev, 1005);
	assert_int_equal(store_watch(s, "", 4, seen_cb, &sn, &sn.w), 0);
	assert_int_equal(store_watch(s, "", 1002, seen_cb, &sn2, &sn2.w), 0);
	run_until(&fx->loop, &sn, 1);
	run_until(&fx->loop, &sn2, 3);
	assert_int_equal(sn.err, -ECANCELED);
	assert_int_equal(sn2.n, 3);
	assert_int_equal(sn2.rev[0], 1003);
	store_watch_cancel(sn.w);
	store_watch_cancel(sn2.w);
	seen_done(&sn);
	seen_done(&sn2);
	store_free(s);
}

static void test_watch_lease_expiry(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 };
	int64_t id, rev;

	store_file_test_set_poll_ms(20);
	assert_int_equal(store_lease_grant(s, 1, &id), 0);
	rev = put_str(s, "subnets/a", "a", id);
	assert_int_equal(store_watch(s, "subnets/", rev, seen_cb, &sn, &sn.w), 0);
	/* Nobody calls the store: the poll timer reaps the lease. */
	store_file_test_set_clock_offset(2000);
	run_until(&fx->loop, &sn, 1);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.type[0], STORE_EVENT_DELETE);
	assert_string_equal(sn.key[0], "subnets/a");
	assert_int_equal(sn.rev[0], rev + 1);
	store_watch_cancel(sn.w);
	seen_done(&sn);
	store_free(s);
}

static void test_two_handles(void **state)
{
	struct fixture *fx = *state;
	struct store *a = open_loop(fx), *b = open_loop(fx);
	struct seen sa = { 0 }, sb = { 0 };
	struct store_kv kv;
	int64_t rev;

	/* A long poll interval: only change notifications can deliver in time. */
	store_file_test_set_poll_ms(60000);
	assert_int_equal(store_watch(a, "subnets/", 0, seen_cb, &sa, &sa.w), 0);
	assert_int_equal(store_watch(b, "subnets/", 0, seen_cb, &sb, &sb.w), 0);
	uv_run(&fx->loop, UV_RUN_NOWAIT);

	rev = put_str(b, "subnets/b", "from b", 0);
	assert_int_equal(store_get(a, "subnets/b", &kv), 0);
	assert_string_equal(kv.value, "from b");
	store_kv_done(&kv);
	put_str(a, "subnets/a", "from a", 0);
	assert_int_equal(store_delete(b, "subnets/a", 0), 0);

	run_until(&fx->loop, &sa, 3);
	run_until(&fx->loop, &sb, 3);
	for (int i = 0; i < 2; i++) {
		struct seen *sn = i ? &sb : &sa;

		assert_int_equal(sn->n, 3);
		assert_string_equal(sn->key[0], "subnets/b");
		assert_int_equal(sn->rev[0], rev);
		assert_string_equal(sn->value[1], "from a");
		assert_int_equal(sn->type[2], STORE_EVENT_DELETE);
		assert_int_equal(sn->rev[2], rev + 2);
	}

	/* A write from a handle without a watch (another process) reaches a's watch too. */
	store_watch_cancel(sb.w);
	put_str(b, "subnets/c", "c", 0);
	run_until(&fx->loop, &sa, 4);
	assert_int_equal(sa.n, 4);
	assert_int_equal(sb.n, 3);
	store_watch_cancel(sa.w);
	seen_done(&sa);
	seen_done(&sb);
	store_free(a);
	store_free(b);
}

static void test_watch_cancel_and_free_in_callback(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen s1 = { 0 }, s2 = { 0 }, s3 = { 0 };

	assert_int_equal(store_watch(s, "", 0, seen_cb, &s1, &s1.w), 0);
	assert_int_equal(store_watch(s, "", 0, seen_cb, &s2, &s2.w), 0);
	assert_int_equal(store_watch(s, "", 0, seen_cb, &s3, &s3.w), 0);
	/* The first callback cancels itself and the second watch, which then never hears anything. */
	s1.cancel_self = true;
	s1.also_cancel = s2.w;
	put_str(s, "k", "v", 0);
	run_until(&fx->loop, &s3, 1);
	assert_int_equal(s1.calls, 1);
	assert_int_equal(s2.calls, 0);
	assert_int_equal(s3.n, 1);

	/* The third frees the whole store from inside its callback. */
	s3.free_store = &s;
	put_str(s, "k2", "v", 0);
	run_until(&fx->loop, &s3, 2);
	assert_null(s);
	assert_int_equal(s1.calls, 1);
	seen_done(&s1);
	seen_done(&s2);
	seen_done(&s3);
}

static void test_free_with_watches(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen s1 = { 0 }, s2 = { 0 };

	assert_int_equal(store_watch(s, "a", 0, seen_cb, &s1, &s1.w), 0);
	assert_int_equal(store_watch(s, "b", 0, seen_cb, &s2, &s2.w), 0);
	put_str(s, "a", "v", 0);
	/* Freed with live watches and a pending timer: teardown's uv_loop_close proves the handles
	 * were closed, ASan that nothing leaked. */
	store_free(s);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(s1.calls, 0);
}

/* ---- asynchronous operations ---- */

/* Set around every *_async call: a callback that runs while it is set ran inside the call. */
static bool in_call;

struct res {
	int calls;
	int err;
	int64_t rev, id, ttl;
	char *key, *value;
	size_t value_len;
	size_t n;
	char *keys[8];
	int64_t list_rev;
	/* rev_cb only: start store_get_async(start_get, "k") into *chain from the callback */
	struct store *start_get;
	struct res *chain;
	int start_err;                  /* what that call returned */
	int *order, *next_order;        /* completion order */
};

static void res_seen(struct res *r, int err)
{
	assert_false(in_call);
	r->calls++;
	r->err = err;
	if (r->order)
		*r->order = (*r->next_order)++;
}

static void kv_cb(void *userdata, int err, const struct store_kv *kv)
{
	struct res *r = userdata;

	res_seen(r, err);
	if (err) {
		assert_null(kv);
	} else {
		assert_non_null(kv);
		r->key = strdup(kv->key);
		r->value = strndup(kv->value, kv->value_len);
		r->value_len = kv->value_len;
		r->rev = kv->mod_rev;
		r->id = kv->lease;
	}
}

static void kvs_cb(void *userdata, int err, const struct store_kvs *kvs)
{
	struct res *r = userdata;

	res_seen(r, err);
	if (err) {
		assert_null(kvs);
	} else {
		r->n = kvs->n;
		r->list_rev = kvs->revision;
		for (size_t i = 0; i < kvs->n && i < 8; i++)
			r->keys[i] = strdup(kvs->kvs[i].key);
	}
}

static void kv_chain_cb(void *userdata, int err, const struct store_kv *kv);

static void rev_cb(void *userdata, int err, int64_t rev)
{
	struct res *r = userdata;

	res_seen(r, err);
	if (err)
		assert_int_equal(rev, 0);
	r->rev = rev;
	if (r->start_get) {
		in_call = true;
		r->start_err = store_get_async(r->start_get, "k", kv_chain_cb, r->chain);
		in_call = false;
	}
}

static void kv_chain_cb(void *userdata, int err, const struct store_kv *kv)
{
	kv_cb(userdata, err, kv);
}

static void lease_cb(void *userdata, int err, int64_t id, int64_t ttl)
{
	struct res *r = userdata;

	res_seen(r, err);
	if (err) {
		assert_int_equal(id, 0);
		assert_int_equal(ttl, 0);
	}
	r->id = id;
	r->ttl = ttl;
}

static void lease_ttl_cb(void *userdata, int err, int64_t remaining, int64_t granted)
{
	struct res *r = userdata;

	res_seen(r, err);
	if (err) {
		assert_int_equal(remaining, 0);
		assert_int_equal(granted, 0);
	}
	r->rev = remaining;
	r->ttl = granted;
}

static void done_cb(void *userdata, int err)
{
	struct res *r = userdata;

	res_seen(r, err);
}

static void res_done(struct res *r)
{
	free(r->key);
	free(r->value);
	for (size_t i = 0; i < 8; i++)
		free(r->keys[i]);
	memset(r, 0, sizeof(*r));
}

/* Run the loop until r's callback ran (or a generous deadline), then once more: it must run once. */
static void run_for(uv_loop_t *loop, struct res *r)
{
	int64_t deadline = mono_ms() + 5000;

	while (r->calls == 0 && mono_ms() < deadline)
		uv_run(loop, UV_RUN_NOWAIT);
	uv_run(loop, UV_RUN_NOWAIT);
	assert_int_equal(r->calls, 1);
}

/* Start an operation the way a caller would, and check it did not complete inside the call. */
#define START(r, call)                             \
	do {                                       \
		memset(&(r), 0, sizeof(r));        \
		in_call = true;                    \
		assert_int_equal((call), 0);       \
		in_call = false;                   \
		assert_int_equal((r).calls, 0);    \
	} while (0)

static void test_async_ops(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx), *sync;
	char value[] = "v1";
	struct store_kv kv;
	struct res r;
	int64_t id;

	/* put: the value is copied, the caller's buffer may change at once */
	START(r, store_put_async(s, "k", value, 2, 0, rev_cb, &r));
	value[1] = 'X';
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rev, 1);

	START(r, store_create_async(s, "k", "v2", 2, 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -EEXIST);
	START(r, store_create_async(s, "n", "", 0, 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rev, 2);

	START(r, store_get_async(s, "k", kv_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_string_equal(r.key, "k");
	assert_string_equal(r.value, "v1");
	assert_int_equal(r.rev, 1);
	res_done(&r);
	START(r, store_get_async(s, "missing", kv_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);

	START(r, store_list_async(s, NULL, kvs_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.list_rev, 2);
	assert_string_equal(r.keys[0], "k");
	assert_string_equal(r.keys[1], "n");
	res_done(&r);

	START(r, store_cas_async(s, "k", "v3", 2, 2, 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ESTALE);
	START(r, store_cas_async(s, "k", "v3", 2, 1, 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rev, 3);

	START(r, store_delete_async(s, "k", 1, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ESTALE);
	START(r, store_delete_async(s, "k", 3, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rev, 4);
	START(r, store_delete_async(s, "k", 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);

	START(r, store_lease_grant_async(s, 10, lease_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_true(r.id > 0);
	assert_int_equal(r.ttl, 10);
	id = r.id;
	START(r, store_lease_keepalive_async(s, id, lease_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.id, id);
	assert_int_equal(r.ttl, 10);
	/* No such lease, id 0 included: -ENOENT through the callback, as an expired one. */
	START(r, store_lease_keepalive_async(s, id + 1, lease_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);
	START(r, store_lease_keepalive_async(s, 0, lease_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);

	/* Time to live: (remaining, granted); unknown ids are -ENOENT through the callback. */
	START(r, store_lease_ttl_async(s, id, lease_ttl_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	assert_true(r.rev >= 9 && r.rev <= 10);
	assert_int_equal(r.ttl, 10);
	START(r, store_lease_ttl_async(s, id + 1, lease_ttl_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);
	START(r, store_lease_ttl_async(s, 0, lease_ttl_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);

	START(r, store_put_async(s, "leased", "x", 1, id, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	START(r, store_lease_revoke_async(s, id, done_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	START(r, store_lease_revoke_async(s, id, done_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);
	START(r, store_lease_revoke_async(s, -1, done_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);
	START(r, store_lease_ttl_async(s, id, lease_ttl_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, -ENOENT);   /* revoked */

	/* What the asynchronous calls did is what another handle sees. */
	sync = open_sync(fx);
	assert_int_equal(store_get(sync, "leased", &kv), -ENOENT);
	assert_int_equal(store_get(sync, "n", &kv), 0);
	assert_int_equal(kv.mod_rev, 2);
	store_kv_done(&kv);
	store_free(sync);
	store_free(s);
}

static void test_async_start_errors(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx), *nl = open_sync(fx);
	char key[STORE_KEY_MAX + 2];
	struct res r = { 0 };

	memset(key, 'k', sizeof(key));
	key[STORE_KEY_MAX + 1] = '\0';
	/* Failures to start: returned, and no callback ever runs. */
	assert_int_equal(store_get_async(NULL, "k", kv_cb, &r), -EINVAL);
	assert_int_equal(store_get_async(s, "", kv_cb, &r), -EINVAL);
	assert_int_equal(store_get_async(s, key, kv_cb, &r), -EINVAL);
	assert_int_equal(store_get_async(s, "k", NULL, &r), -EINVAL);
	assert_int_equal(store_list_async(s, key, kvs_cb, &r), -EINVAL);
	assert_int_equal(store_put_async(s, "k", NULL, 1, 0, rev_cb, &r), -EINVAL);
	assert_int_equal(store_put_async(s, "k", "", STORE_VALUE_MAX + 1, 0, rev_cb, &r), -EFBIG);
	assert_int_equal(store_create_async(s, "k", "v", 1, -1, rev_cb, &r), -EINVAL);
	assert_int_equal(store_cas_async(s, "k", "v", 1, -1, 0, rev_cb, &r), -EINVAL);
	assert_int_equal(store_delete_async(s, "k", -1, rev_cb, &r), -EINVAL);
	assert_int_equal(store_lease_grant_async(s, 0, lease_cb, &r), -EINVAL);
	assert_int_equal(store_lease_grant_async(s, (int64_t)INT32_MAX + 1, lease_cb, &r), -EINVAL);
	assert_int_equal(store_lease_keepalive_async(s, 1, NULL, &r), -EINVAL);
	assert_int_equal(store_lease_ttl_async(s, 1, NULL, &r), -EINVAL);
	assert_int_equal(store_lease_revoke_async(s, 1, NULL, &r), -EINVAL);
	/* Without a loop there is nowhere to call back. */
	assert_int_equal(store_get_async(nl, "k", kv_cb, &r), -EOPNOTSUPP);
	assert_int_equal(store_lease_grant_async(nl, 5, lease_cb, &r), -EOPNOTSUPP);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(r.calls, 0);
	store_free(nl);
	store_free(s);
}

/* Several operations in flight: each callback once, in the order they were started (the file
 * store's order; etcd promises none), and one started by a callback completes on a later loop
 * iteration, not in the pass that ran its parent. */
static void test_async_many_and_chained(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct res r[4], chained;
	int order[4] = { 0 }, next = 1;

	memset(&chained, 0, sizeof(chained));
	START(r[0], store_put_async(s, "k", "first", 5, 0, rev_cb, &r[0]));
	START(r[1], store_get_async(s, "k", kv_cb, &r[1]));
	START(r[2], store_put_async(s, "k", "second", 6, 0, rev_cb, &r[2]));
	START(r[3], store_list_async(s, "", kvs_cb, &r[3]));
	for (int i = 0; i < 4; i++) {
		r[i].order = &order[i];
		r[i].next_order = &next;
	}
	r[2].start_get = s;
	r[2].chain = &chained;

	uv_run(&fx->loop, UV_RUN_NOWAIT);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].err, 0);
		assert_int_equal(order[i], i + 1);
	}
	assert_int_equal(r[0].rev, 1);
	assert_string_equal(r[1].value, "first");   /* run in order: after the first put */
	assert_int_equal(r[2].rev, 2);
	assert_int_equal(r[3].list_rev, 2);
	assert_int_equal(r[2].start_err, 0);
	assert_int_equal(chained.calls, 0);       /* started by r[2]'s callback: next iteration */
	run_for(&fx->loop, &chained);
	assert_int_equal(chained.err, 0);
	assert_string_equal(chained.value, "second");

	/* Nothing pending: the idle handle stopped, the loop has nothing left to do. */
	assert_int_equal(uv_run(&fx->loop, UV_RUN_NOWAIT), 0);
	for (int i = 0; i < 4; i++)
		res_done(&r[i]);
	res_done(&chained);
	store_free(s);
}

/* A caller's per-operation state, freed by its callback: ASan reports a callback that runs twice
 * (double free) or never (leak). */
struct owned {
	int *cancelled, *completed;
	struct store *s;
};

static void owned_rev_cb(void *userdata, int err, int64_t rev)
{
	struct owned *o = userdata;

	assert_false(in_call);
	if (err == -ECANCELED) {
		(*o->cancelled)++;
		/* The store is going away: new work is refused and a second store_free is harmless. */
		assert_int_equal(store_put_async(o->s, "late", "x", 1, 0, owned_rev_cb, o), -ECANCELED);
		store_free(o->s);
		assert_int_equal(store_get(o->s, "k0", &(struct store_kv){ 0 }), -ECANCELED);
	} else {
		(*o->completed)++;
	}
	free(o);
}

static struct owned *owned_new(struct store *s, int *cancelled, int *completed)
{
	struct owned *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	o->s = s;
	o->cancelled = cancelled;
	o->completed = completed;
	return o;
}

static void test_async_free_pending(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx), *sync;
	struct seen sn = { 0 };
	struct store_kv kv;
	int cancelled = 0, completed = 0;

	/* A watch and a poll timer too: store_free tears everything down at once. */
	assert_int_equal(store_watch(s, "", 0, seen_cb, &sn, &sn.w), 0);
	for (int i = 0; i < 5; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(store_put_async(s, key, "v", 1, 0, owned_rev_cb, owned_new(s, &cancelled, &completed)), 0);
	}
	/* Every pending callback runs, once, with -ECANCELED, before store_free returns. */
	store_free(s);
	assert_int_equal(cancelled, 5);
	assert_int_equal(completed, 0);
	/* Freed handles close on the loop; nothing else runs. */
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(cancelled, 5);
	assert_int_equal(sn.calls, 0);

	/* The file store had not started them: nothing was written. */
	sync = open_sync(fx);
	assert_int_equal(store_get(sync, "k0", &kv), -ENOENT);
	store_free(sync);
	seen_done(&sn);
}

static void owned_free_cb(void *userdata, int err, int64_t rev)
{
	struct owned *o = userdata;

	assert_int_equal(err, 0);
	(*o->completed)++;
	/* Freed from its own callback: the operations after this one are cancelled once it returns. */
	store_free(o->s);
	free(o);
}

static void test_async_free_in_callback(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx), *sync;
	struct store_kv kv;
	int cancelled = 0, completed = 0;
	struct owned *first = owned_new(s, &cancelled, &completed);

	assert_int_equal(store_put_async(s, "k0", "v", 1, 0, owned_free_cb, first), 0);
	for (int i = 1; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(store_put_async(s, key, "v", 1, 0, owned_rev_cb, owned_new(s, &cancelled, &completed)), 0);
	}
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(completed, 1);
	assert_int_equal(cancelled, 3);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(completed + cancelled, 4);

	sync = open_sync(fx);
	assert_int_equal(store_get(sync, "k0", &kv), 0);   /* the one that ran is there */
	store_kv_done(&kv);
	assert_int_equal(store_get(sync, "k1", &kv), -ENOENT);
	store_free(sync);
}

/* The two halves of one code path: an asynchronous write shows up in a watch, and a watch callback
 * may start asynchronous operations. */
static void test_async_and_watch(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_loop(fx);
	struct seen sn = { 0 };
	struct res r;

	assert_int_equal(store_watch(s, "subnets/", 0, seen_cb, &sn, &sn.w), 0);
	START(r, store_create_async(s, "subnets/a", "A", 1, 0, rev_cb, &r));
	run_for(&fx->loop, &r);
	assert_int_equal(r.err, 0);
	run_until(&fx->loop, &sn, 1);
	assert_int_equal(sn.n, 1);
	assert_string_equal(sn.key[0], "subnets/a");
	assert_int_equal(sn.rev[0], r.rev);
	store_watch_cancel(sn.w);
	seen_done(&sn);
	store_free(s);
}

/* ---- broken database ---- */

static void test_corrupt_db(void **state)
{
	struct fixture *fx = *state;
	static const char garbage[] = "{\"format\":1,\"revision\":";
	struct store *s = NULL, *ok;
	struct store_kv kv;
	char path[160], *data;
	size_t len;
	int64_t rev, id;

	ok = open_sync(fx);
	put_str(ok, "config", "c", 0);
	db_path(fx, path, sizeof(path));
	assert_int_equal(file_write_atomic(path, garbage, strlen(garbage), 0600), 0);

	assert_int_equal(store_open(NULL, fx->url, NULL, NULL, &s), -EBADMSG);
	assert_null(s);
	assert_int_equal(store_get(ok, "config", &kv), -EBADMSG);
	assert_int_equal(store_put(ok, "config", "x", 1, 0, &rev), -EBADMSG);
	assert_int_equal(store_delete(ok, "config", 0), -EBADMSG);
	assert_int_equal(store_lease_grant(ok, 5, &id), -EBADMSG);
	/* Never replaced. */
	assert_int_equal(file_read_all(path, 1 << 20, &data, &len), 0);
	assert_string_equal(data, garbage);
	free(data);

	/* An empty file is no database either. */
	assert_int_equal(file_write_atomic(path, "", 0, 0600), 0);
	assert_int_equal(store_put(ok, "config", "x", 1, 0, &rev), -EBADMSG);
	assert_int_equal(file_read_all(path, 1 << 20, &data, &len), 0);
	assert_int_equal(len, 0);
	free(data);

	/* Once the operator removes it, the store starts over. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(store_put(ok, "config", "x", 1, 0, &rev), 0);
	assert_int_equal(rev, 1);
	store_free(ok);
}

static void test_stale_tmp_removed(void **state)
{
	struct fixture *fx = *state;
	struct store *s;
	char path[160];

	snprintf(path, sizeof(path), "%s/db", fx->dir);
	assert_int_equal(mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/db/store.json.tmp.4242", fx->dir);
	assert_int_equal(file_write_atomic(path, "half", 4, 0600), 0);
	s = open_sync(fx);
	assert_int_equal(access(path, F_OK), -1);
	store_free(s);
}

/* ---- real processes ---- */

/* Children block on the pipe until the parent closes its write end, then all go at once. */
static pid_t spawn(const int gate[2], int (*fn)(const char *url, int idx), const char *url, int idx)
{
	pid_t pid = fork();

	if (pid == 0) {
		char c;

		close(gate[1]);
		alarm(60);   /* never hang the test run */
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(fn(url, idx));
	}
	return pid;
}

#define RACE_KEYS 20

static int race_create(const char *url, int idx)
{
	struct store *s;
	int wins = 0;

	if (store_open(NULL, url, NULL, NULL, &s) < 0)
		return 200;
	for (int k = 0; k < RACE_KEYS; k++) {
		char key[32], val[16];
		int r;

		snprintf(key, sizeof(key), "subnets/%d", k);
		snprintf(val, sizeof(val), "%d", idx);
		r = store_create(s, key, val, strlen(val), 0, NULL);
		if (r == 0)
			wins++;
		else if (r != -EEXIST)
			return 201;
	}
	store_free(s);
	return wins;
}

static void test_fork_race_create(void **state)
{
	struct fixture *fx = *state;
	int gate[2], total = 0;
	pid_t pids[4];
	struct store *s;
	struct store_kvs kvs;

	s = open_sync(fx);
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < 4; i++) {
		pids[i] = spawn(gate, race_create, fx->url, i);
		assert_true(pids[i] > 0);
	}
	close(gate[1]);
	close(gate[0]);
	for (int i = 0; i < 4; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) <= RACE_KEYS);
		total += WEXITSTATUS(st);
	}
	/* Every key has exactly one winner. */
	assert_int_equal(total, RACE_KEYS);
	assert_int_equal(store_list(s, "subnets/", &kvs), 0);
	assert_int_equal(kvs.n, RACE_KEYS);
	assert_int_equal(kvs.revision, RACE_KEYS);
	for (size_t i = 0; i < kvs.n; i++)
		assert_int_equal(kvs.kvs[i].create_rev, kvs.kvs[i].mod_rev);
	store_kvs_done(&kvs);
	store_free(s);
}

#define CAS_ROUNDS 25

static int cas_increment(const char *url, int idx)
{
	struct store *s;

	if (store_open(NULL, url, NULL, NULL, &s) < 0)
		return 200;
	for (int i = 0; i < CAS_ROUNDS; i++) {
		for (;;) {
			struct store_kv kv;
			char buf[32];
			int r = store_get(s, "counter", &kv);

			if (r < 0)
				return 201;
			snprintf(buf, sizeof(buf), "%d", atoi(kv.value) + 1);
			r = store_cas(s, "counter", buf, strlen(buf), kv.mod_rev, 0, NULL);
			store_kv_done(&kv);
			if (r == 0)
				break;
			if (r != -ESTALE)
				return 202;
		}
	}
	store_free(s);
	return 0;
}

static void test_fork_cas_counter(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	int gate[2];
	pid_t pids[3];
	struct store_kv kv;

	put_str(s, "counter", "0", 0);
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < 3; i++)
		pids[i] = spawn(gate, cas_increment, fx->url, i);
	close(gate[1]);
	close(gate[0]);
	for (int i = 0; i < 3; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	/* No increment lost: read-modify-CAS is safe across processes. */
	assert_int_equal(store_get(s, "counter", &kv), 0);
	assert_int_equal(atoi(kv.value), 3 * CAS_ROUNDS);
	assert_int_equal(kv.mod_rev, 1 + 3 * CAS_ROUNDS);
	store_kv_done(&kv);
	store_free(s);
}

/* A handle opened before fork keeps working in the child, with its own lock. */
static void test_handle_across_fork(void **state)
{
	struct fixture *fx = *state;
	struct store *s = open_sync(fx);
	struct store_kv kv;
	pid_t pid;
	int st;

	put_str(s, "k", "parent", 0);
	pid = fork();
	if (pid == 0)
		_exit(store_put(s, "k", "child", 5, 0, NULL) == 0 ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(store_get(s, "k", &kv), 0);
	assert_string_equal(kv.value, "child");
	store_kv_done(&kv);
	store_free(s);
}

/* ---- the database file parser ---- */

static int parse_str(const char *s)
{
	struct store_file_db *db = NULL;
	int r = store_file_codec_parse(s, strlen(s), &db);

	store_file_db_free(db);
	return r;
}

static void test_db_parser(void **state)
{
	static const char good[] =
		"{\"format\":1,\"revision\":3,\"compact_revision\":1,\"next_lease\":3,"
		"\"kvs\":[{\"key\":\"/shoal/a\",\"mod_rev\":2,\"create_rev\":2,\"lease\":2,\"value\":\"x\\u0000y\"},"
		"{\"key_b64\":\"L3Nob2FsL2I=\",\"mod_rev\":3,\"create_rev\":3,\"value_b64\":\"/w==\"}],"
		"\"leases\":[{\"id\":2,\"ttl\":10,\"expiry_ms\":5}],"
		"\"events\":[{\"rev\":2,\"type\":\"put\",\"key\":\"/shoal/a\",\"create_rev\":2,\"lease\":2,\"value\":\"x\"},"
		"{\"rev\":3,\"type\":\"put\",\"key\":\"/shoal/b\",\"create_rev\":3,\"value\":\"y\"}]}";
	static const char *const bad[] = {
		"", "[]", "{}", "null", "{\"format\":1}", "\xff\xfe",
		/* wrong format version */
		"{\"format\":2,\"revision\":0,\"compact_revision\":0,\"next_lease\":1,\"kvs\":[],\"leases\":[],\"events\":[]}",
		/* compact beyond revision */
		"{\"format\":1,\"revision\":0,\"compact_revision\":1,\"next_lease\":1,\"kvs\":[],\"leases\":[],\"events\":[]}",
		/* events missing for revision 1 */
		"{\"format\":1,\"revision\":1,\"compact_revision\":0,\"next_lease\":1,\"kvs\":[],\"leases\":[],\"events\":[]}",
		/* a revision gap in the event log */
		"{\"format\":1,\"revision\":3,\"compact_revision\":0,\"next_lease\":1,\"kvs\":[],\"leases\":[],\"events\":["
		"{\"rev\":1,\"type\":\"delete\",\"key\":\"a\"},{\"rev\":3,\"type\":\"delete\",\"key\":\"a\"}]}",
		/* duplicate keys */
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"a\",\"mod_rev\":1,\"create_rev\":1,\"value\":\"\"},{\"key\":\"a\",\"mod_rev\":1,\"create_rev\":1,\"value\":\"\"}],"
		"\"leases\":[],\"events\":[]}",
		/* a key attached to a lease that does not exist */
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":5,\"kvs\":["
		"{\"key\":\"a\",\"mod_rev\":1,\"create_rev\":1,\"lease\":4,\"value\":\"\"}],\"leases\":[],\"events\":[]}",
		/* mod_rev beyond the store revision */
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"a\",\"mod_rev\":2,\"create_rev\":1,\"value\":\"\"}],\"leases\":[],\"events\":[]}",
		/* bad base64, NUL in a key, empty key, value missing */
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"a\",\"mod_rev\":1,\"create_rev\":1,\"value_b64\":\"abc\"}],\"leases\":[],\"events\":[]}",
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"a\\u0000b\",\"mod_rev\":1,\"create_rev\":1,\"value\":\"\"}],\"leases\":[],\"events\":[]}",
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"\",\"mod_rev\":1,\"create_rev\":1,\"value\":\"\"}],\"leases\":[],\"events\":[]}",
		"{\"format\":1,\"revision\":1,\"compact_revision\":1,\"next_lease\":1,\"kvs\":["
		"{\"key\":\"a\",\"mod_rev\":1,\"create_rev\":1}],\"leases\":[],\"events\":[]}",
		/* a string where a number belongs */
		"{\"format\":1,\"revision\":\"1\",\"compact_revision\":0,\"next_lease\":1,\"kvs\":[],\"leases\":[],\"events\":[]}",
	};
	struct store_file_db *db, *db2;
	char *out, *out2;
	size_t len, len2;

	assert_int_equal(store_file_codec_parse(good, strlen(good), &db), 0);
	assert_int_equal(store_file_codec_dump(db, &out, &len), 0);
	assert_int_equal(store_file_codec_parse(out, len, &db2), 0);
	assert_int_equal(store_file_codec_dump(db2, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	/* Binary survives as base64, text as text. */
	assert_non_null(strstr(out, "\"value\":\"x\\u0000y\""));
	assert_non_null(strstr(out, "\"value_b64\":\"/w==\""));
	assert_non_null(strstr(out, "\"key\":\"/shoal/b\""));
	free(out);
	free(out2);
	store_file_db_free(db);
	store_file_db_free(db2);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(bad[i]) != -EBADMSG)
			fail_msg("accepted bad database #%zu: %s", i, bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get_revisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_compacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_compacted_by_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_lease_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_cancel_and_free_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_watches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_start_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_many_and_chained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_free_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_free_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_and_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_race_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_cas_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_across_fork, setup, teardown),
		cmocka_unit_test(test_db_parser),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
