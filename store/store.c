/* The store interface: URL scheme -> backend ops table, argument checks shared by every backend,
 * and the kv helpers.  A new backend (etcd) is one more entry in store_backends[]. */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct store_ops *const store_backends[] = {
	&store_file_ops,
};

#define STORE_DEFAULT_PREFIX "/shoal/"

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

int store_open(uv_loop_t *loop, const char *url, const char *prefix, struct store **ret)
{
	const char *colon;

	if (!url || !ret)
		return -EINVAL;
	if (!prefix)
		prefix = STORE_DEFAULT_PREFIX;
	if (strnlen(prefix, STORE_PREFIX_MAX + 1) > STORE_PREFIX_MAX)
		return -EINVAL;
	colon = strchr(url, ':');
	if (!colon || colon == url)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(store_backends) / sizeof(store_backends[0]); i++) {
		const struct store_ops *ops = store_backends[i];
		struct store *s;
		int r;

		if (strlen(ops->scheme) != (size_t)(colon - url) || strncmp(ops->scheme, url, (size_t)(colon - url)) != 0)
			continue;
		r = ops->open(loop, colon + 1, &s);
		if (r < 0)
			return r;
		s->url = strdup(url);
		s->prefix = strdup(prefix);
		if (!s->url || !s->prefix) {
			ops->free(s);
			return -ENOMEM;
		}
		s->prefix_len = strlen(prefix);
		*ret = s;
		return 0;
	}
	return -EPROTONOSUPPORT;
}

void store_base_done(struct store *s)
{
	free(s->url);
	free(s->prefix);
	s->url = s->prefix = NULL;
}

void store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}

const char *store_url(const struct store *s)
{
	return s->url;
}

int store_get(struct store *s, const char *key, struct store_kv *ret_kv)
{
	if (!s || !ret_kv || !store_key_valid(key))
		return -EINVAL;
	return s->ops->get(s, key, ret_kv);
}

int store_list(struct store *s, const char *prefix, struct store_kvs *ret)
{
	if (!s || !ret || store_prefix_check(&prefix) < 0)
		return -EINVAL;
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
	if (!s || !store_key_valid(key) || expect_mod_rev < 0)
		return -EINVAL;
	return s->ops->del(s, key, expect_mod_rev);
}

int store_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id)
{
	/* The upper bound keeps expiry arithmetic (milliseconds since 1970) far from overflow. */
	if (!s || !ret_id || ttl_seconds <= 0 || ttl_seconds > INT32_MAX)
		return -EINVAL;
	return s->ops->lease_grant(s, ttl_seconds, ret_id);
}

int store_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	if (!s)
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->lease_keepalive(s, id, ret_ttl);
}

int store_lease_revoke(struct store *s, int64_t id)
{
	if (!s)
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->lease_revoke(s, id);
}

int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                struct store_watch **ret)
{
	if (!s || !cb || !ret || from_rev < 0 || store_prefix_check(&prefix) < 0)
		return -EINVAL;
	if (!s->loop)
		return -EOPNOTSUPP;
	return s->ops->watch(s, prefix, from_rev, cb, userdata, ret);
}

void store_watch_cancel(struct store_watch *w)
{
	if (w)
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
