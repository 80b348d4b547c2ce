/* store_tool: drives store.h against a real backend for tests/integration/t_etcd.sh (built by
 * that script with cc + pkg-config from the build's objects; no cmocka, no Makefile rule).
 *
 *   store_tool check URL              store.h's semantics, the same codes as the file store's unit
 *                                     tests (tests/unit/test_store.c): sync, async, watch, cancel
 *   store_tool get URL KEY [CA CERT KEY]   one synchronous get; prints "ok", "absent" or the error
 *   store_tool watch URL PREFIX SECS  list + watch PREFIX for SECS seconds the way shoald does:
 *                                     on -ECANCELED list again and watch from the listing;
 *                                     prints "event ...", "canceled", "relist N" lines
 *
 * Keys go under a per-run prefix (STORE_TOOL_PREFIX, default "/shoal-test/"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/store.h"

static int failures;

#define CHECK(cond) do { if (!(cond)) { printf("not ok - %s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)
#define CHECK_EQ(a, b) do { long long a_ = (a), b_ = (b); if (a_ != b_) { \
	printf("not ok - %s:%d: %s == %lld, want %s == %lld\n", __FILE__, __LINE__, #a, a_, #b, b_); failures++; } } while (0)

static const char *prefix(void)
{
	const char *p = getenv("STORE_TOOL_PREFIX");

	return p && *p ? p : "/shoal-test/";
}

/* ---- async helpers: run the loop until the callback ran ---- */

struct result {
	bool done;
	int err;
	int64_t rev, id, ttl;
	size_t n;
	int calls;
};

static void on_rev(void *u, int err, int64_t rev)
{
	struct result *r = u;

	r->done = true;
	r->err = err;
	r->rev = rev;
	r->calls++;
}

static void on_kv(void *u, int err, const struct store_kv *kv)
{
	struct result *r = u;

	r->done = true;
	r->err = err;
	r->rev = kv ? kv->mod_rev : 0;
	r->calls++;
}

static void on_kvs(void *u, int err, const struct store_kvs *kvs)
{
	struct result *r = u;

	r->done = true;
	r->err = err;
	r->n = kvs ? kvs->n : 0;
	r->rev = kvs ? kvs->revision : 0;
	r->calls++;
}

static void on_lease(void *u, int err, int64_t id, int64_t ttl)
{
	struct result *r = u;

	r->done = true;
	r->err = err;
	r->id = id;
	r->ttl = ttl;
	r->calls++;
}

static void on_done(void *u, int err)
{
	struct result *r = u;

	r->done = true;
	r->err = err;
	r->calls++;
}

static void run_until(uv_loop_t *loop, struct result *r)
{
	for (int i = 0; i < 10000 && !r->done; i++)
		uv_run(loop, UV_RUN_ONCE);
}

struct watch_log {
	struct store_event ev[64];
	size_t n;
	int err;
	int calls;
};

static void on_watch(void *u, const struct store_event *events, size_t n, int err)
{
	struct watch_log *w = u;

	w->calls++;
	if (err) {
		w->err = err;
		return;
	}
	for (size_t i = 0; i < n && w->n < 64; i++) {
		w->ev[w->n] = events[i];
		w->ev[w->n].kv.key = strdup(events[i].kv.key);
		w->ev[w->n].kv.value = strdup(events[i].kv.value);
		w->n++;
	}
}

static void watch_log_done(struct watch_log *w)
{
	for (size_t i = 0; i < w->n; i++)
		store_kv_done(&w->ev[i].kv);
	w->n = 0;
}

/* ---- check ---- */

static void check_sync(struct store *s)
{
	struct store_kv kv;
	struct store_kvs kvs;
	int64_t rev, rev2, id, ttl;

	/* Leftovers of an earlier run under the same prefix would change the answers. */
	CHECK_EQ(store_list(s, "", &kvs), 0);
	CHECK_EQ(kvs.n, 0);
	store_kvs_done(&kvs);

	CHECK_EQ(store_get(s, "config", &kv), -ENOENT);
	CHECK_EQ(store_put(s, "config", "{\"a\":1}", 7, 0, &rev), 0);
	CHECK(rev > 0);
	CHECK_EQ(store_get(s, "config", &kv), 0);
	CHECK(strcmp(kv.key, "config") == 0);
	CHECK_EQ(kv.value_len, 7);
	CHECK(memcmp(kv.value, "{\"a\":1}", 7) == 0);
	CHECK_EQ(kv.mod_rev, rev);
	CHECK_EQ(kv.create_rev, rev);
	store_kv_done(&kv);
	/* Values are bytes: a NUL survives. */
	CHECK_EQ(store_put(s, "bin", "a\0b", 3, 0, &rev2), 0);
	CHECK_EQ(rev2, rev + 1);
	CHECK_EQ(store_get(s, "bin", &kv), 0);
	CHECK_EQ(kv.value_len, 3);
	CHECK(memcmp(kv.value, "a\0b", 3) == 0);
	store_kv_done(&kv);

	/* create-if-absent */
	CHECK_EQ(store_create(s, "subnets/a", "one", 3, 0, &rev), 0);
	CHECK_EQ(store_create(s, "subnets/a", "two", 3, 0, &rev2), -EEXIST);
	CHECK_EQ(store_get(s, "subnets/a", &kv), 0);
	CHECK(strcmp(kv.value, "one") == 0);
	store_kv_done(&kv);
	CHECK_EQ(store_create(s, "subnets/b", "b", 1, 0, &rev2), 0);

	/* list: sorted, relative keys, only under the prefix ("subnets/" must not match "subnetsX") */
	CHECK_EQ(store_put(s, "subnetsX", "x", 1, 0, &rev2), 0);
	CHECK_EQ(store_list(s, "subnets/", &kvs), 0);
	CHECK_EQ(kvs.n, 2);
	if (kvs.n == 2) {
		CHECK(strcmp(kvs.kvs[0].key, "subnets/a") == 0);
		CHECK(strcmp(kvs.kvs[1].key, "subnets/b") == 0);
	}
	CHECK_EQ(kvs.revision, rev2);
	store_kvs_done(&kvs);

	/* compare-and-swap */
	CHECK_EQ(store_cas(s, "k", "v1", 2, 5, 0, &rev), -ESTALE);   /* absent, expected 5 */
	CHECK_EQ(store_cas(s, "k", "v1", 2, 0, 0, &rev), 0);         /* absent, expected absent */
	CHECK_EQ(store_cas(s, "k", "v2", 2, 0, 0, &rev2), -ESTALE);  /* exists now */
	CHECK_EQ(store_cas(s, "k", "v2", 2, rev, 0, &rev2), 0);
	CHECK_EQ(store_cas(s, "k", "v3", 2, rev, 0, &rev2), -ESTALE);  /* lost the race */

	/* delete */
	CHECK_EQ(store_delete(s, "nope", 0), -ENOENT);
	CHECK_EQ(store_delete(s, "nope", 7), -ENOENT);
	CHECK_EQ(store_delete(s, "k", rev2 + 10), -ESTALE);
	CHECK_EQ(store_delete(s, "k", rev2), 0);
	CHECK_EQ(store_get(s, "k", &kv), -ENOENT);
	CHECK_EQ(store_delete(s, "config", 0), 0);

	/* leases */
	CHECK_EQ(store_lease_grant(s, 30, &id), 0);
	CHECK(id > 0);
	CHECK_EQ(store_put(s, "subnets/c", "c", 1, id, &rev), 0);
	CHECK_EQ(store_get(s, "subnets/c", &kv), 0);
	CHECK_EQ(kv.lease, id);
	store_kv_done(&kv);
	CHECK_EQ(store_lease_keepalive(s, id, &ttl), 0);
	CHECK(ttl > 0 && ttl <= 30);
	CHECK_EQ(store_put(s, "subnets/d", "x", 1, id + 1000, &rev), -ENOENT);   /* no such lease */
	CHECK_EQ(store_lease_keepalive(s, id + 1000, &ttl), -ENOENT);
	CHECK_EQ(store_lease_keepalive(s, 0, &ttl), -ENOENT);
	CHECK_EQ(store_lease_revoke(s, id), 0);
	CHECK_EQ(store_get(s, "subnets/c", &kv), -ENOENT);   /* went with its lease */
	CHECK_EQ(store_lease_revoke(s, id), -ENOENT);
	CHECK_EQ(store_lease_keepalive(s, id, &ttl), -ENOENT);
	CHECK_EQ(store_put(s, "subnets/c", "x", 1, id, &rev), -ENOENT);
	/* Expiry: etcd's shortest TTL is about 2 s. */
	CHECK_EQ(store_lease_grant(s, 1, &id), 0);
	CHECK_EQ(store_put(s, "subnets/e", "e", 1, id, &rev), 0);
	sleep(4);
	CHECK_EQ(store_get(s, "subnets/e", &kv), -ENOENT);
	CHECK_EQ(store_lease_keepalive(s, id, &ttl), -ENOENT);
}

static void check_async(uv_loop_t *loop, struct store *s)
{
	struct result r = { 0 };
	struct store_watch *w;
	struct watch_log wl = { 0 };
	struct store_kvs kvs;
	int64_t from;

	CHECK_EQ(store_list(s, "", &kvs), 0);
	from = kvs.revision;
	store_kvs_done(&kvs);
	CHECK_EQ(store_watch(s, "a/", from, on_watch, &wl, &w), 0);
	CHECK_EQ(wl.calls, 0);   /* never inside the call */

	CHECK_EQ(store_create_async(s, "a/1", "v", 1, 0, on_rev, &r), 0);
	CHECK(!r.done);          /* never inside the call */
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.rev, from + 1);
	r = (struct result){ 0 };
	CHECK_EQ(store_create_async(s, "a/1", "v", 1, 0, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, -EEXIST);
	r = (struct result){ 0 };
	CHECK_EQ(store_cas_async(s, "a/1", "w", 1, 1, 0, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, -ESTALE);
	r = (struct result){ 0 };
	CHECK_EQ(store_put_async(s, "a/2", "x", 1, 0, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	r = (struct result){ 0 };
	CHECK_EQ(store_get_async(s, "a/2", on_kv, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.rev, from + 2);
	r = (struct result){ 0 };
	CHECK_EQ(store_get_async(s, "a/none", on_kv, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, -ENOENT);
	r = (struct result){ 0 };
	CHECK_EQ(store_list_async(s, "a/", on_kvs, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.n, 2);
	r = (struct result){ 0 };
	CHECK_EQ(store_delete_async(s, "a/2", 999999, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, -ESTALE);
	r = (struct result){ 0 };
	CHECK_EQ(store_delete_async(s, "a/2", 0, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.rev, from + 3);
	r = (struct result){ 0 };
	CHECK_EQ(store_delete_async(s, "a/2", 0, on_rev, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, -ENOENT);
	r = (struct result){ 0 };
	CHECK_EQ(store_lease_grant_async(s, 20, on_lease, &r), 0);
	run_until(loop, &r);
	CHECK_EQ(r.err, 0);
	CHECK(r.id > 0);
	{
		int64_t id = r.id;

		r = (struct result){ 0 };
		CHECK_EQ(store_lease_keepalive_async(s, id, on_lease, &r), 0);
		run_until(loop, &r);
		CHECK_EQ(r.err, 0);
		CHECK_EQ(r.id, id);
		CHECK(r.ttl > 0);
		r = (struct result){ 0 };
		CHECK_EQ(store_lease_revoke_async(s, id, on_done, &r), 0);
		run_until(loop, &r);
		CHECK_EQ(r.err, 0);
		r = (struct result){ 0 };
		CHECK_EQ(store_lease_keepalive_async(s, id, on_lease, &r), 0);
		run_until(loop, &r);
		CHECK_EQ(r.err, -ENOENT);
		r = (struct result){ 0 };
		CHECK_EQ(store_lease_keepalive_async(s, 0, on_lease, &r), 0);
		run_until(loop, &r);
		CHECK_EQ(r.err, -ENOENT);
	}
	/* The watch saw put a/1, put a/2, delete a/2 in revision order, nothing else. */
	for (int i = 0; i < 200 && wl.n < 3; i++)
		uv_run(loop, UV_RUN_ONCE);
	CHECK_EQ(wl.n, 3);
	if (wl.n == 3) {
		CHECK(strcmp(wl.ev[0].kv.key, "a/1") == 0 && wl.ev[0].type == STORE_EVENT_PUT);
		CHECK(strcmp(wl.ev[1].kv.key, "a/2") == 0 && wl.ev[1].type == STORE_EVENT_PUT);
		CHECK(strcmp(wl.ev[2].kv.key, "a/2") == 0 && wl.ev[2].type == STORE_EVENT_DELETE);
		CHECK_EQ(wl.ev[0].kv.mod_rev, from + 1);
		CHECK_EQ(wl.ev[2].kv.mod_rev, from + 3);
	}
	watch_log_done(&wl);
	store_watch_cancel(w);

	/* A replay from an old revision gives the same events again. */
	CHECK_EQ(store_watch(s, "a/", from, on_watch, &wl, &w), 0);
	for (int i = 0; i < 200 && wl.n < 3; i++)
		uv_run(loop, UV_RUN_ONCE);
	CHECK_EQ(wl.n, 3);
	watch_log_done(&wl);
	store_watch_cancel(w);
}

/* store_free cancels what is pending: every callback once, with -ECANCELED. */
static void check_free_pending(uv_loop_t *loop, const char *url)
{
	struct result r[3] = { 0 };
	struct store *s;

	CHECK_EQ(store_open(loop, url, prefix(), NULL, &s), 0);
	CHECK_EQ(store_put_async(s, "f/1", "x", 1, 0, on_rev, &r[0]), 0);
	CHECK_EQ(store_get_async(s, "f/1", on_kv, &r[1]), 0);
	CHECK_EQ(store_lease_grant_async(s, 10, on_lease, &r[2]), 0);
	store_free(s);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(r[i].calls, 1);
		CHECK_EQ(r[i].err, -ECANCELED);
	}
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Compaction behind a watch: -ECANCELED once, then nothing. */
static void check_compacted(uv_loop_t *loop, struct store *s)
{
	struct watch_log wl = { 0 };
	struct store_watch *w;

	/* Revision 1 of a store this test has written to is compacted by the script before. */
	CHECK_EQ(store_watch(s, "", 1, on_watch, &wl, &w), 0);
	for (int i = 0; i < 300 && wl.calls == 0; i++)
		uv_run(loop, UV_RUN_ONCE);
	CHECK_EQ(wl.err, -ECANCELED);
	CHECK_EQ(wl.calls, 1);
	store_watch_cancel(w);
}

static int cmd_check(const char *url)
{
	uv_loop_t loop;
	struct store *s;
	struct store_kvs kvs;

	uv_loop_init(&loop);
	if (store_open(&loop, url, prefix(), NULL, &s) < 0) {
		printf("not ok - store_open %s\n", url);
		return 1;
	}
	check_sync(s);
	check_async(&loop, s);
	if (getenv("STORE_TOOL_COMPACTED"))
		check_compacted(&loop, s);
	/* Clean up the prefix. */
	if (store_list(s, "", &kvs) == 0) {
		for (size_t i = 0; i < kvs.n; i++)
			store_delete(s, kvs.kvs[i].key, 0);
		store_kvs_done(&kvs);
	}
	store_free(s);
	check_free_pending(&loop, url);
	uv_run(&loop, UV_RUN_NOWAIT);
	CHECK_EQ(uv_loop_close(&loop), 0);   /* every handle closed */
	printf("%s - store semantics (%d failures)\n", failures ? "not ok" : "ok", failures);
	return failures ? 1 : 0;
}

static int cmd_get(const char *url, const char *key, int argc, char **argv)
{
	struct store_tls tls = { argc > 0 ? argv[0] : NULL, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL };
	struct store *s;
	struct store_kv kv;
	int r;

	r = store_open(NULL, url, prefix(), &tls, &s);
	if (r < 0) {
		printf("open: %s\n", strerror(-r));
		return 1;
	}
	r = store_get(s, key, &kv);
	store_free(s);
	if (r == 0) {
		store_kv_done(&kv);
		printf("ok\n");
		return 0;
	}
	printf("%s\n", r == -ENOENT ? "absent" : strerror(-r));
	return r == -ENOENT ? 0 : 1;
}

/* ---- watch: the list + watch loop a daemon runs ---- */

struct watcher {
	uv_loop_t *loop;
	struct store *s;
	struct store_watch *w;
	const char *prefix;
	int relists;
};

static void watcher_start(struct watcher *wa);

static void watcher_cb(void *u, const struct store_event *events, size_t n, int err)
{
	struct watcher *wa = u;

	if (err) {
		printf("canceled %s\n", strerror(-err));
		fflush(stdout);
		wa->w = NULL;
		watcher_start(wa);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf("event %s %s %" PRId64 "\n", events[i].type == STORE_EVENT_PUT ? "put" : "delete", events[i].kv.key,
		       events[i].kv.mod_rev);
	fflush(stdout);
}

static void watcher_start(struct watcher *wa)
{
	struct store_kvs kvs;
	int r;

	/* START-UP style synchronous list; fine for a test tool. */
	r = store_list(wa->s, wa->prefix, &kvs);
	if (r < 0) {
		printf("list failed: %s\n", strerror(-r));
		return;
	}
	wa->relists++;
	printf("relist %d n=%zu rev=%" PRId64 "\n", wa->relists, kvs.n, kvs.revision);
	fflush(stdout);
	r = store_watch(wa->s, wa->prefix, kvs.revision, watcher_cb, wa, &wa->w);
	store_kvs_done(&kvs);
	if (r < 0)
		printf("watch failed: %s\n", strerror(-r));
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static int cmd_watch(const char *url, const char *pfx, int secs)
{
	struct watcher wa = { 0 };
	uv_loop_t loop;
	uv_timer_t stop;

	uv_loop_init(&loop);
	if (store_open(&loop, url, prefix(), NULL, &wa.s) < 0)
		return 1;
	wa.loop = &loop;
	wa.prefix = pfx;
	watcher_start(&wa);
	uv_timer_init(&loop, &stop);
	uv_timer_start(&stop, stop_cb, (uint64_t)secs * 1000, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&stop, NULL);
	store_free(wa.s);
	uv_run(&loop, UV_RUN_NOWAIT);
	printf("done relists=%d\n", wa.relists);
	return uv_loop_close(&loop) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (getenv("STORE_TOOL_DEBUG"))
		log_set_level(LOG_LVL_DEBUG);
	if (argc >= 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "get") == 0)
		return cmd_get(argv[2], argv[3], argc - 4, argv + 4);
	if (argc >= 5 && strcmp(argv[1], "watch") == 0)
		return cmd_watch(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: store_tool check URL | get URL KEY [CA CERT KEY] | watch URL PREFIX SECONDS\n");
	return 2;
}
