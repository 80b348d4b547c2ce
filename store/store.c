/* The store interface: URL scheme -> backend ops table, argument checks shared by every backend,
 * the life cycle of asynchronous requests, and the kv helpers.  A backend is one entry in
 * store_backends[]. */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* The etcd backend is referenced weakly: programs that link store.c without etcd_http.c (and so
 * without its HTTP client), such as the file store's fuzz target, still link and simply lack etcd://.
 * shoald links every backend. */
extern const struct store_ops store_etcd_ops __attribute__((weak));
extern const struct store_ops store_etcds_ops __attribute__((weak));

static const struct store_ops *const store_backends[] = {
	&store_file_ops,
	&store_etcd_ops,
	&store_etcds_ops,
};

#define STORE_DEFAULT_PREFIX "/shoal/"
#define STORE_SCHEME_MAX     16   /* only for the error message */

static bool store_key_valid(const char *key)
{
	size_t n;

	if (!key)
		return false;
	n = strnlen(key, STORE_KEY_MAX + 1);
	return n > 0 && n <= STORE_KEY_MAX;
}

/* A prefix to list or watch: "" is fine (everything), NULL means "". */
static int store_prefix_check(const char **prefix)
{
	if (!*prefix)
		*prefix = "";
	return strnlen(*prefix, STORE_KEY_MAX + 1) <= STORE_KEY_MAX ? 0 : -EINVAL;
}

static int store_value_check(const char **value, size_t len)
{
	if (!*value) {
		if (len > 0)
			return -EINVAL;
		*value = "";
	}
	return len > STORE_VALUE_MAX ? -EFBIG : 0;
}

static const struct store_ops *store_backend_find(const char *scheme, size_t len)
{
	for (size_t i = 0; i < sizeof(store_backends) / sizeof(store_backends[0]); i++)
		if (store_backends[i] && strlen(store_backends[i]->scheme) == len && strncmp(store_backends[i]->scheme, scheme, len) == 0)
			return store_backends[i];
	return NULL;
}

int store_open(uv_loop_t *loop, const char *url, const char *prefix, const struct store_tls *tls,
               struct store **ret)
{
	const struct store_ops *ops;
	const char *colon;
	struct store *s;
	int r;

	if (!url || !ret)
		return -EINVAL;
	if (!prefix)
		prefix = STORE_DEFAULT_PREFIX;
	if (strnlen(prefix, STORE_PREFIX_MAX + 1) > STORE_PREFIX_MAX)
		return -EINVAL;
	/* The URL itself is not logged: an etcd URL may carry credentials. */
	colon = strchr(url, ':');
	if (!colon || colon == url) {
		log_error("store URL has no scheme (such as file:/DIR)");
		return -EINVAL;
	}
	ops = store_backend_find(url, (size_t)(colon - url));
	if (!ops) {
		int n = colon - url > STORE_SCHEME_MAX ? STORE_SCHEME_MAX : (int)(colon - url);
		char known[64] = "";
		size_t k = 0;

		for (size_t i = 0; i < sizeof(store_backends) / sizeof(store_backends[0]) && k < sizeof(known); i++)
			if (store_backends[i])
				k += (size_t)snprintf(known + k, sizeof(known) - k, "%s%s:", k ? ", " : "",
				                      store_backends[i]->scheme);
		log_error("store URL scheme \"%.*s%s\" is not supported (supported: %s)", n, url,
		          n < colon - url ? "..." : "", known);
		return -EINVAL;
	}
	r = ops->open(loop, colon + 1, tls, &s);
	if (r < 0)
		return r;
	s->url = strdup(url);
	s->prefix = strdup(prefix);
	if (!s->url || !s->prefix) {
		s->closing = true;
		ops->free(s);
		return -ENOMEM;
	}
	s->prefix_len = strlen(prefix);
	*ret = s;
	return 0;
}

void store_base_done(struct store *s)
{
	free(s->url);
	free(s->prefix);
	s->url = s->prefix = NULL;
}

void store_free(struct store *s)
{
	/* A second call, from a callback that store_free itself runs, finds closing set. */
	if (!s || s->closing)
		return;
	s->closing = true;
	s->ops->free(s);
}

const char *store_url(const struct store *s)
{
	return s->url;
}

/* ---- asynchronous requests ---- */

static void store_req_free(struct store_req *req)
{
	free(req->key);
	free(req->value);
	free(req);
}

static void store_req_unlink(struct store_req *req)
{
	struct store *s = req->store;

	if (req->prev)
		req->prev->next = req->next;
	else
		s->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	else
		s->reqs_tail = req->prev;
	req->prev = req->next = NULL;
}

void store_req_complete(struct store_req *req, int err, const struct store_result *res)
{
	bool ok = err == 0 && res;

	/* Unlinked first: the callback may free the store, after which req is all that is left. */
	store_req_unlink(req);
	switch (req->op) {
	case STORE_OP_GET:
		req->cb.kv(req->userdata, ok ? 0 : err, ok ? &res->kv : NULL);
		break;
	case STORE_OP_LIST:
		req->cb.kvs(req->userdata, ok ? 0 : err, ok ? &res->kvs : NULL);
		break;
	case STORE_OP_PUT:
	case STORE_OP_DELETE:
		req->cb.rev(req->userdata, ok ? 0 : err, ok ? res->rev : 0);
		break;
	case STORE_OP_LEASE_GRANT:
	case STORE_OP_LEASE_KEEPALIVE:
		req->cb.lease(req->userdata, ok ? 0 : err, ok ? res->id : 0, ok ? res->ttl : 0);
		break;
	case STORE_OP_LEASE_REVOKE:
		req->cb.done(req->userdata, err);
		break;
	case STORE_OP_LEASE_TTL:
		req->cb.lease_ttl(req->userdata, ok ? 0 : err, ok ? res->ttl : 0, ok ? res->granted : 0);
		break;
	}
	store_req_free(req);
}

void store_req_run(struct store_req *req)
{
	struct store *s = req->store;
	struct store_result res = { 0 };
	int r = -EINVAL;

	switch (req->op) {
	case STORE_OP_GET:
		r = s->ops->get(s, req->key, &res.kv);
		break;
	case STORE_OP_LIST:
		r = s->ops->list(s, req->key, &res.kvs);
		break;
	case STORE_OP_PUT:
		r = s->ops->put(s, req->mode, req->key, req->value, req->value_len, req->expect_mod_rev, req->lease,
		                &res.rev);
		break;
	case STORE_OP_DELETE:
		r = s->ops->del(s, req->key, req->expect_mod_rev, &res.rev);
		break;
	case STORE_OP_LEASE_GRANT:
		r = s->ops->lease_grant(s, req->ttl, &res.id);
		res.ttl = req->ttl;
		break;
	case STORE_OP_LEASE_KEEPALIVE:
		r = req->id > 0 ? s->ops->lease_keepalive(s, req->id, &res.ttl) : -ENOENT;
		res.id = req->id;
		break;
	case STORE_OP_LEASE_REVOKE:
		r = req->id > 0 ? s->ops->lease_revoke(s, req->id) : -ENOENT;
		break;
	case STORE_OP_LEASE_TTL:
		r = req->id > 0 ? s->ops->lease_ttl(s, req->id, &res.ttl, &res.granted) : -ENOENT;
		break;
	}
	store_req_complete(req, r, &res);
	/* The results were borrowed by the callback; on failure they are empty. */
	store_kv_done(&res.kv);
	store_kvs_done(&res.kvs);
}

void store_base_cancel(struct store *s)
{
	while (s->reqs)
		store_req_complete(s->reqs, -ECANCELED, NULL);
}

/* A request for op with its key (or prefix) copied; the caller fills in the rest.  Arguments were
 * checked by the caller. */
static int store_req_new(struct store *s, enum store_op op, const char *key, void *userdata,
                         struct store_req **ret)
{
	struct store_req *req;

	if (s->closing)
		return -ECANCELED;
	if (!s->loop)
		return -EOPNOTSUPP;
	if (!s->ops->submit)
		return -EOPNOTSUPP;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	if (key) {
		req->key = strdup(key);
		if (!req->key) {
			free(req);
			return -ENOMEM;
		}
	}
	req->store = s;
	req->op = op;
	req->userdata = userdata;
	*ret = req;
	return 0;
}

/* Link req in and let the backend start it; on failure nothing remains and no callback runs. */
static int store_req_submit(struct store_req *req)
{
	struct store *s = req->store;
	int r;

	req->prev = s->reqs_tail;
	if (s->reqs_tail)
		s->reqs_tail->next = req;
	else
		s->reqs = req;
	s->reqs_tail = req;
	r = s->ops->submit(s, req);
	if (r < 0) {
		store_req_unlink(req);
		store_req_free(req);
	}
	return r < 0 ? r : 0;
}

int store_get_async(struct store *s, const char *key, store_kv_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb || !store_key_valid(key))
		return -EINVAL;
	r = store_req_new(s, STORE_OP_GET, key, userdata, &req);
	if (r < 0)
		return r;
	req->cb.kv = cb;
	return store_req_submit(req);
}

int store_list_async(struct store *s, const char *prefix, store_kvs_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb || store_prefix_check(&prefix) < 0)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_LIST, prefix, userdata, &req);
	if (r < 0)
		return r;
	req->cb.kvs = cb;
	return store_req_submit(req);
}

static int store_put_async_common(struct store *s, enum store_put_mode mode, const char *key, const char *value,
                                  size_t len, int64_t expect_mod_rev, int64_t lease, store_rev_cb cb,
                                  void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb || !store_key_valid(key) || lease < 0 || expect_mod_rev < 0)
		return -EINVAL;
	r = store_value_check(&value, len);
	if (r < 0)
		return r;
	r = store_req_new(s, STORE_OP_PUT, key, userdata, &req);
	if (r < 0)
		return r;
	/* A copy: the caller's buffer need not outlive the call. */
	req->value = malloc(len + 1);
	if (!req->value) {
		store_req_free(req);
		return -ENOMEM;
	}
	memcpy(req->value, value, len);
	req->value[len] = '\0';
	req->value_len = len;
	req->mode = mode;
	req->expect_mod_rev = expect_mod_rev;
	req->lease = lease;
	req->cb.rev = cb;
	return store_req_submit(req);
}

int store_create_async(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                       store_rev_cb cb, void *userdata)
{
	return store_put_async_common(s, STORE_PUT_CREATE, key, value, len, 0, lease, cb, userdata);
}

int store_cas_async(struct store *s, const char *key, const char *value, size_t len, int64_t expect_mod_rev,
                    int64_t lease, store_rev_cb cb, void *userdata)
{
	return store_put_async_common(s, STORE_PUT_CAS, key, value, len, expect_mod_rev, lease, cb, userdata);
}

int store_put_async(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                    store_rev_cb cb, void *userdata)
{
	return store_put_async_common(s, STORE_PUT_ANY, key, value, len, 0, lease, cb, userdata);
}

int store_delete_async(struct store *s, const char *key, int64_t expect_mod_rev, store_rev_cb cb,
                       void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb || !store_key_valid(key) || expect_mod_rev < 0)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_DELETE, key, userdata, &req);
	if (r < 0)
		return r;
	req->expect_mod_rev = expect_mod_rev;
	req->cb.rev = cb;
	return store_req_submit(req);
}

int store_lease_grant_async(struct store *s, int64_t ttl_seconds, store_lease_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	/* The same bounds as store_lease_grant. */
	if (!s || !cb || ttl_seconds <= 0 || ttl_seconds > INT32_MAX)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_LEASE_GRANT, NULL, userdata, &req);
	if (r < 0)
		return r;
	req->ttl = ttl_seconds;
	req->cb.lease = cb;
	return store_req_submit(req);
}

/* An id <= 0 is no lease: like the synchronous call it is -ENOENT, but through the callback, so
 * the caller's one code path for an expired lease covers it. */
int store_lease_keepalive_async(struct store *s, int64_t id, store_lease_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_LEASE_KEEPALIVE, NULL, userdata, &req);
	if (r < 0)
		return r;
	req->id = id;
	req->cb.lease = cb;
	return store_req_submit(req);
}

int store_lease_revoke_async(struct store *s, int64_t id, store_done_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_LEASE_REVOKE, NULL, userdata, &req);
	if (r < 0)
		return r;
	req->id = id;
	req->cb.done = cb;
	return store_req_submit(req);
}

int store_lease_ttl_async(struct store *s, int64_t id, store_lease_ttl_cb cb, void *userdata)
{
	struct store_req *req;
	int r;

	if (!s || !cb)
		return -EINVAL;
	r = store_req_new(s, STORE_OP_LEASE_TTL, NULL, userdata, &req);
	if (r < 0)
		return r;
	req->id = id;
	req->cb.lease_ttl = cb;
	return store_req_submit(req);
}

/* ---- synchronous operations (start-up only) ---- */

int store_get(struct store *s, const char *key, struct store_kv *ret_kv)
{
	if (!s || !ret_kv || !store_key_valid(key))
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	return s->ops->get(s, key, ret_kv);
}

int store_list(struct store *s, const char *prefix, struct store_kvs *ret)
{
	if (!s || !ret || store_prefix_check(&prefix) < 0)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	return s->ops->list(s, prefix, ret);
}

static int store_put_common(struct store *s, enum store_put_mode mode, const char *key, const char *value,
                            size_t len, int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev)
{
	int r;

	if (!s || !store_key_valid(key) || lease < 0 || expect_mod_rev < 0)
		return -EINVAL;
	r = store_value_check(&value, len);
	if (r < 0)
		return r;
	if (s->closing)
		return -ECANCELED;
	return s->ops->put(s, mode, key, value, len, expect_mod_rev, lease, ret_rev);
}

int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
                 int64_t *ret_rev)
{
	return store_put_common(s, STORE_PUT_CREATE, key, value, len, 0, lease, ret_rev);
}

int store_cas(struct store *s, const char *key, const char *value, size_t len, int64_t expect_mod_rev,
              int64_t lease, int64_t *ret_rev)
{
	return store_put_common(s, STORE_PUT_CAS, key, value, len, expect_mod_rev, lease, ret_rev);
}

int store_put(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
              int64_t *ret_rev)
{
	return store_put_common(s, STORE_PUT_ANY, key, value, len, 0, lease, ret_rev);
}

int store_delete(struct store *s, const char *key, int64_t expect_mod_rev)
{
	int64_t rev;

	if (!s || !store_key_valid(key) || expect_mod_rev < 0)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	return s->ops->del(s, key, expect_mod_rev, &rev);
}

int store_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id)
{
	/* The upper bound keeps expiry arithmetic (milliseconds since 1970) far from overflow. */
	if (!s || !ret_id || ttl_seconds <= 0 || ttl_seconds > INT32_MAX)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	return s->ops->lease_grant(s, ttl_seconds, ret_id);
}

int store_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	if (!s)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	if (id <= 0)
		return -ENOENT;
	return s->ops->lease_keepalive(s, id, ret_ttl);
}

int store_lease_revoke(struct store *s, int64_t id)
{
	if (!s)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	if (id <= 0)
		return -ENOENT;
	return s->ops->lease_revoke(s, id);
}

int store_lease_ttl(struct store *s, int64_t id, int64_t *ret_remaining, int64_t *ret_granted)
{
	if (!s || !ret_remaining || !ret_granted)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	if (id <= 0)
		return -ENOENT;
	return s->ops->lease_ttl(s, id, ret_remaining, ret_granted);
}

/* ---- watch ---- */

int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                struct store_watch **ret)
{
	if (!s || !cb || !ret || from_rev < 0 || store_prefix_check(&prefix) < 0)
		return -EINVAL;
	if (s->closing)
		return -ECANCELED;
	if (!s->loop)
		return -EOPNOTSUPP;
	return s->ops->watch(s, prefix, from_rev, cb, userdata, ret);
}

void store_watch_cancel(struct store_watch *w)
{
	/* While the store is being freed its watches still exist, and it frees them itself. */
	if (w && !w->store->closing)
		w->store->ops->watch_cancel(w);
}

void store_kv_done(struct store_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void store_kvs_done(struct store_kvs *kvs)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < kvs->n; i++)
		store_kv_done(&kvs->kvs[i]);
	free(kvs->kvs);
	memset(kvs, 0, sizeof(*kvs));
}
