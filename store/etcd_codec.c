/* etcd v3 JSON gateway codec: request bodies out, plain structs in.  Pure (see etcd_codec.h). */
#include "store/etcd_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

int etcd_codec_prefix_end(const char *prefix, size_t len, char **ret, size_t *ret_len)
{
	char *end;
	size_t n = len;

	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	end = malloc(n ? n + 1 : 2);
	if (!end)
		return -ENOMEM;
	if (n == 0) {
		/* etcd reads a range_end of "\0" as "every key >= key". */
		end[0] = end[1] = '\0';
		*ret = end;
		*ret_len = 1;
		return 0;
	}
	memcpy(end, prefix, n);
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	end[n] = '\0';
	*ret = end;
	*ret_len = n;
	return 0;
}

/* ---- request bodies ---- */

static int codec_set_b64(json_t *o, const char *field, const void *data, size_t len)
{
	char *b64;
	int r;

	r = base64_encode(data, len, &b64);
	if (r < 0)
		return r;
	r = json_object_set_new(o, field, json_string(b64));
	free(b64);
	return r < 0 ? -ENOMEM : 0;
}

/* 64-bit integers go out as strings, the way the gateway writes them (JSON numbers above 2^53 do
 * not survive every parser). */
static int codec_set_i64(json_t *o, const char *field, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_object_set_new(o, field, json_string(buf)) < 0 ? -ENOMEM : 0;
}

static int codec_dump(json_t *o, char **ret)
{
	char *s;

	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static json_t *codec_key_obj(const char *key, const char *end, size_t end_len, int *err)
{
	json_t *o = json_object();

	*err = -ENOMEM;
	if (!o)
		return NULL;
	*err = codec_set_b64(o, "key", key, strlen(key));
	if (*err == 0 && end)
		*err = codec_set_b64(o, "range_end", end, end_len);
	if (*err < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int etcd_codec_range_req(const char *key, const char *end, size_t end_len, char **ret)
{
	int r;
	json_t *o = codec_key_obj(key, end, end_len, &r);

	if (!o)
		return r;
	return codec_dump(o, ret);
}

/* {"key": k, "target": target, "result": result, field: rev} */
static json_t *codec_compare(const char *key, const char *target, const char *result, const char *field,
                             int64_t rev)
{
	json_t *c = json_object();

	if (!c || codec_set_b64(c, "key", key, strlen(key)) < 0 || codec_set_i64(c, field, rev) < 0 ||
	    json_object_set_new(c, "target", json_string(target)) < 0 ||
	    json_object_set_new(c, "result", json_string(result)) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* {"compare": [cmp], "success": [{op_name: op}], "failure": [{fail_name: fail}]}; takes every
 * reference it is given, also on failure. */
static int codec_txn(json_t *cmp, const char *op_name, json_t *op, const char *fail_name, json_t *fail,
                     char **ret)
{
	json_t *t = json_object();
	int r = -ENOMEM;

	if (!t || !op || (fail_name && !fail))
		goto out;
	if (cmp && json_object_set_new(t, "compare", json_pack("[O]", cmp)) < 0)
		goto out;
	if (json_object_set_new(t, "success", json_pack("[{sO}]", op_name, op)) < 0)
		goto out;
	if (fail_name && json_object_set_new(t, "failure", json_pack("[{sO}]", fail_name, fail)) < 0)
		goto out;
	r = codec_dump(t, ret);
	t = NULL;
out:
	json_decref(t);
	json_decref(cmp);
	json_decref(op);
	json_decref(fail);
	return r;
}

int etcd_codec_put_req(enum store_put_mode mode, const char *key, const char *value, size_t len,
                       int64_t expect_mod_rev, int64_t lease, char **ret)
{
	json_t *put = json_object(), *cmp = NULL;

	if (!put || codec_set_b64(put, "key", key, strlen(key)) < 0 || codec_set_b64(put, "value", value, len) < 0 ||
	    (lease && codec_set_i64(put, "lease", lease) < 0)) {
		json_decref(put);
		return -ENOMEM;
	}
	switch (mode) {
	case STORE_PUT_ANY:
		break;
	case STORE_PUT_CREATE:
		cmp = codec_compare(key, "CREATE", "EQUAL", "create_revision", 0);
		if (!cmp) {
			json_decref(put);
			return -ENOMEM;
		}
		break;
	case STORE_PUT_CAS:
		/* A missing key compares as mod_revision 0, so expect 0 means "absent" as in store.h. */
		cmp = codec_compare(key, "MOD", "EQUAL", "mod_revision", expect_mod_rev);
		if (!cmp) {
			json_decref(put);
			return -ENOMEM;
		}
		break;
	}
	return codec_txn(cmp, "request_put", put, NULL, NULL, ret);
}

int etcd_codec_delete_req(const char *key, int64_t expect_mod_rev, char **ret)
{
	json_t *cmp, *del, *count;
	int r;

	cmp = expect_mod_rev ? codec_compare(key, "MOD", "EQUAL", "mod_revision", expect_mod_rev)
	                     : codec_compare(key, "CREATE", "GREATER", "create_revision", 0);
	del = codec_key_obj(key, NULL, 0, &r);
	count = codec_key_obj(key, NULL, 0, &r);
	if (count && json_object_set_new(count, "count_only", json_true()) < 0) {
		json_decref(count);
		count = NULL;
	}
	if (!cmp) {
		json_decref(del);
		json_decref(count);
		return -ENOMEM;
	}
	return codec_txn(cmp, "request_delete_range", del, "request_range", count, ret);
}

int etcd_codec_lease_grant_req(int64_t ttl, char **ret)
{
	json_t *o = json_object();

	if (o && codec_set_i64(o, "TTL", ttl) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return codec_dump(o, ret);
}

int etcd_codec_lease_id_req(int64_t id, char **ret)
{
	json_t *o = json_object();

	if (o && codec_set_i64(o, "ID", id) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return codec_dump(o, ret);
}

int etcd_codec_watch_req(const char *key, const char *end, size_t end_len, int64_t start_rev, char **ret)
{
	int r;
	json_t *c = codec_key_obj(key, end, end_len, &r);

	if (!c)
		return r;
	if (codec_set_i64(c, "start_revision", start_rev) < 0 ||
	    json_object_set_new(c, "progress_notify", json_true()) < 0) {
		json_decref(c);
		return -ENOMEM;
	}
	return codec_dump(json_pack("{so}", "create_request", c), ret);
}

/* ---- responses ---- */

static json_t *codec_load(const char *body, size_t len)
{
	/* Gateway output never repeats a key; a duplicate is someone else talking. */
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A 64-bit integer field: absent = 0 (proto3 omits defaults), a decimal string or a JSON integer.
 * Negative values are refused: nothing we read may be negative. */
static int codec_i64(const json_t *o, const char *field, int64_t *ret)
{
	const json_t *v = json_object_get(o, field);
	const char *s;
	char *end;
	long long n;

	if (!v) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -EBADMSG;
		*ret = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EBADMSG;
	s = json_string_value(v);
	if (s[0] < '0' || s[0] > '9' || json_string_length(v) > 19)
		return -EBADMSG;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || (size_t)(end - s) != json_string_length(v))
		return -EBADMSG;
	*ret = n;
	return 0;
}

static int codec_bool(const json_t *o, const char *field, bool *ret)
{
	const json_t *v = json_object_get(o, field);

	if (!v) {
		*ret = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return -EBADMSG;
	*ret = json_is_true(v);
	return 0;
}

static void codec_text(const char *s, char msg[ETCD_ERRMSG_MAX])
{
	size_t i;

	for (i = 0; s[i] && i < ETCD_ERRMSG_MAX - 1; i++)
		msg[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	msg[i] = '\0';
}

static int codec_header_rev(const json_t *o, int64_t *ret)
{
	const json_t *h = json_object_get(o, "header");

	if (!h) {
		*ret = 0;
		return 0;
	}
	if (!json_is_object(h))
		return -EBADMSG;
	return codec_i64(h, "revision", ret);
}

int etcd_codec_parse_error(const char *body, size_t len, int *ret_code, char msg[ETCD_ERRMSG_MAX])
{
	json_t *j = codec_load(body, len), *e, *m;
	int64_t code;
	int r = -ENOENT;

	if (!j)
		return -EBADMSG;
	e = json_object_get(j, "error");
	if (!e)
		goto out;
	if (json_is_object(e)) {
		/* In a stream: {"error": {"grpc_code": N, "message": TEXT}} */
		r = codec_i64(e, "grpc_code", &code);
		m = json_object_get(e, "message");
	} else {
		r = codec_i64(j, "code", &code);
		m = json_object_get(j, "message");
		if (!json_is_string(m))
			m = e;
	}
	if (r < 0)
		goto out;
	/* A reply without a usable code is still an error; Unknown (2) says as much. */
	*ret_code = code > 0 && code < 1000 ? (int)code : 2;
	codec_text(json_is_string(m) ? json_string_value(m) : "", msg);
	r = 0;
out:
	json_decref(j);
	return r;
}

int etcd_codec_errno(int grpc_code, const char *msg)
{
	switch (grpc_code) {
	case ETCD_GRPC_NOT_FOUND:
		return -ENOENT;   /* "requested lease not found" */
	case ETCD_GRPC_INVALID_ARGUMENT:
		return msg && strstr(msg, "too large") ? -EFBIG : -EINVAL;
	case ETCD_GRPC_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case ETCD_GRPC_PERMISSION_DENIED:
	case ETCD_GRPC_UNAUTHENTICATED:
		return -EACCES;
	case ETCD_GRPC_RESOURCE_EXHAUSTED:
		return msg && strstr(msg, "too many") ? -EAGAIN : -ENOSPC;   /* "database space exceeded" */
	case ETCD_GRPC_UNAVAILABLE:
		return -EAGAIN;   /* "no leader", "leader changed": try again */
	case ETCD_GRPC_OUT_OF_RANGE:
		return -ERANGE;
	default:
		return -EIO;
	}
}

static int codec_b64(const json_t *o, const char *field, char **ret, size_t *ret_len)
{
	const json_t *v = json_object_get(o, field);
	void *out;
	int r;

	if (!v) {
		out = calloc(1, 1);
		if (!out)
			return -ENOMEM;
		*ret = out;
		*ret_len = 0;
		return 0;
	}
	if (!json_is_string(v))
		return -EBADMSG;
	r = base64_decode(json_string_value(v), json_string_length(v), &out, ret_len);
	if (r < 0)
		return r;
	*ret = out;
	return 0;
}

/* One etcd KeyValue -> store_kv relative to prefix. */
static int codec_kv(const json_t *o, const char *prefix, struct store_kv *ret)
{
	size_t plen = strlen(prefix), klen;
	struct store_kv kv = { 0 };
	char *key = NULL;
	int r;

	if (!json_is_object(o))
		return -EBADMSG;
	r = codec_b64(o, "key", &key, &klen);
	if (r < 0)
		return r;
	/* Keys are C strings here: a NUL inside, or a key outside our range, is not ours. */
	if (klen <= plen || memcmp(key, prefix, plen) != 0 || strlen(key) != klen || klen - plen > STORE_KEY_MAX) {
		free(key);
		return -EBADMSG;
	}
	kv.key = strdup(key + plen);
	free(key);
	if (!kv.key)
		return -ENOMEM;
	r = codec_b64(o, "value", &kv.value, &kv.value_len);
	if (r == 0)
		r = codec_i64(o, "create_revision", &kv.create_rev);
	if (r == 0)
		r = codec_i64(o, "mod_revision", &kv.mod_rev);
	if (r == 0)
		r = codec_i64(o, "lease", &kv.lease);
	if (r < 0) {
		store_kv_done(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

int etcd_codec_parse_range(const char *body, size_t len, const char *prefix, struct store_kvs *ret)
{
	json_t *j = codec_load(body, len), *kvs;
	struct store_kvs out = { 0 };
	bool more;
	int r;

	if (!j)
		return -EBADMSG;
	r = codec_header_rev(j, &out.revision);
	if (r == 0)
		r = codec_bool(j, "more", &more);
	/* We never set a limit; a partial listing must not pass for a complete one. */
	if (r == 0 && more)
		r = -EBADMSG;
	if (r < 0)
		goto out;
	kvs = json_object_get(j, "kvs");
	if (kvs && !json_is_array(kvs)) {
		r = -EBADMSG;
		goto out;
	}
	out.kvs = calloc(json_array_size(kvs) ? json_array_size(kvs) : 1, sizeof(out.kvs[0]));
	if (!out.kvs) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(kvs); i++) {
		r = codec_kv(json_array_get(kvs, i), prefix, &out.kvs[i]);
		if (r < 0)
			goto out;
		out.n++;
	}
	*ret = out;
	out = (struct store_kvs){ 0 };
out:
	store_kvs_done(&out);
	json_decref(j);
	return r;
}

int etcd_codec_parse_put(const char *body, size_t len, bool *ret_ok, int64_t *ret_rev)
{
	json_t *j = codec_load(body, len);
	int64_t rev = 0;
	bool ok = false;
	int r;

	if (!j)
		return -EBADMSG;
	r = codec_header_rev(j, &rev);
	if (r == 0)
		r = codec_bool(j, "succeeded", &ok);
	if (r == 0 && rev <= 0)
		r = -EBADMSG;
	json_decref(j);
	if (r < 0)
		return r;
	*ret_ok = ok;
	*ret_rev = rev;
	return 0;
}

int etcd_codec_parse_delete(const char *body, size_t len, bool *ret_ok, int64_t *ret_rev, bool *ret_exists)
{
	json_t *j = codec_load(body, len), *resp, *rr;
	int64_t rev = 0, count = 0;
	bool ok = false;
	int r;

	if (!j)
		return -EBADMSG;
	r = codec_header_rev(j, &rev);
	if (r == 0)
		r = codec_bool(j, "succeeded", &ok);
	if (r == 0 && rev <= 0)
		r = -EBADMSG;
	if (r == 0 && !ok) {
		/* The failure branch's count_only range: does the key exist? */
		resp = json_object_get(j, "responses");
		rr = json_object_get(json_array_get(resp, 0), "response_range");
		if (!json_is_array(resp) || json_array_size(resp) != 1 || !json_is_object(rr))
			r = -EBADMSG;
		else
			r = codec_i64(rr, "count", &count);
	}
	json_decref(j);
	if (r < 0)
		return r;
	*ret_ok = ok;
	*ret_rev = rev;
	*ret_exists = count > 0;
	return 0;
}

int etcd_codec_parse_lease(const char *body, size_t len, int64_t *ret_id, int64_t *ret_ttl)
{
	json_t *j = codec_load(body, len), *o;
	int64_t id = 0, ttl = 0;
	int r;

	if (!j)
		return -EBADMSG;
	o = json_object_get(j, "result");
	if (!o)
		o = j;
	r = json_is_object(o) ? 0 : -EBADMSG;
	if (r == 0)
		r = codec_i64(o, "ID", &id);
	if (r == 0)
		r = codec_i64(o, "TTL", &ttl);
	/* LeaseGrantResponse has a legacy "error" string of its own. */
	if (r == 0 && json_is_string(json_object_get(o, "error")) && json_string_length(json_object_get(o, "error")))
		r = -EIO;
	json_decref(j);
	if (r < 0)
		return r;
	*ret_id = id;
	*ret_ttl = ttl;
	return 0;
}

int etcd_codec_parse_lease_ttl(const char *body, size_t len, int64_t *ret_remaining, int64_t *ret_granted)
{
	json_t *j = codec_load(body, len), *v;
	int64_t ttl = 0, granted = 0;
	int r;

	if (!j)
		return -EBADMSG;
	/* The one negative number etcd sends: TTL -1 for a lease it does not know. */
	v = json_object_get(j, "TTL");
	if ((json_is_string(v) && strcmp(json_string_value(v), "-1") == 0) ||
	    (json_is_integer(v) && json_integer_value(v) == -1)) {
		json_decref(j);
		return -ENOENT;
	}
	r = codec_i64(j, "TTL", &ttl);
	if (r == 0)
		r = codec_i64(j, "grantedTTL", &granted);
	json_decref(j);
	if (r < 0)
		return r;
	/* proto3 omits zeros: a known lease always has a granted TTL of at least 1 s. */
	if (granted <= 0)
		return -ENOENT;
	if (ttl > granted)
		return -EBADMSG;
	*ret_remaining = ttl;
	*ret_granted = granted;
	return 0;
}

void etcd_watch_msg_done(struct etcd_watch_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_events; i++)
		store_kv_done(&m->events[i].kv);
	free(m->events);
	memset(m, 0, sizeof(*m));
}

static int codec_watch_events(const json_t *evs, const char *prefix, struct etcd_watch_msg *m)
{
	if (!evs)
		return 0;
	if (!json_is_array(evs))
		return -EBADMSG;
	m->events = calloc(json_array_size(evs) ? json_array_size(evs) : 1, sizeof(m->events[0]));
	if (!m->events)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(evs); i++) {
		const json_t *ev = json_array_get(evs, i), *type;
		struct store_event *out = &m->events[i];
		int r;

		if (!json_is_object(ev))
			return -EBADMSG;
		type = json_object_get(ev, "type");
		if (!type || (json_is_string(type) && strcmp(json_string_value(type), "PUT") == 0))
			out->type = STORE_EVENT_PUT;
		else if (json_is_string(type) && strcmp(json_string_value(type), "DELETE") == 0)
			out->type = STORE_EVENT_DELETE;
		else
			return -EBADMSG;
		r = codec_kv(json_object_get(ev, "kv"), prefix, &out->kv);
		if (r < 0)
			return r;
		m->n_events++;
		/* In revision order, every event a revision of its own or sharing the previous one. */
		if (out->kv.mod_rev <= 0 || (i > 0 && out->kv.mod_rev < out[-1].kv.mod_rev))
			return -EBADMSG;
		if (out->type == STORE_EVENT_DELETE) {
			/* store.h: a DELETE carries key and mod_rev only. */
			out->kv.value[0] = '\0';
			out->kv.value_len = 0;
			out->kv.create_rev = out->kv.lease = 0;
		}
	}
	return 0;
}

int etcd_codec_parse_watch(const char *msg, size_t len, const char *prefix, struct etcd_watch_msg *ret)
{
	json_t *j = codec_load(msg, len), *res, *reason;
	struct etcd_watch_msg m = { 0 };
	int r;

	if (!j)
		return -EBADMSG;
	res = json_object_get(j, "result");
	if (!res) {
		char text[ETCD_ERRMSG_MAX];
		int code;

		json_decref(j);
		r = etcd_codec_parse_error(msg, len, &code, text);
		if (r < 0)
			return r == -ENOENT ? -EBADMSG : r;
		m.error_code = code;
		memcpy(m.reason, text, sizeof(m.reason));
		*ret = m;
		return 0;
	}
	r = json_is_object(res) ? 0 : -EBADMSG;
	if (r == 0)
		r = codec_header_rev(res, &m.header_rev);
	if (r == 0)
		r = codec_bool(res, "created", &m.created);
	if (r == 0)
		r = codec_bool(res, "canceled", &m.canceled);
	if (r == 0)
		r = codec_i64(res, "compact_revision", &m.compact_rev);
	if (r == 0)
		r = codec_watch_events(json_object_get(res, "events"), prefix, &m);
	reason = json_object_get(res, "cancel_reason");
	if (r == 0 && json_is_string(reason))
		codec_text(json_string_value(reason), m.reason);
	json_decref(j);
	if (r < 0) {
		etcd_watch_msg_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}

/* ---- stream framing ---- */

void etcd_stream_init(struct etcd_stream *st, size_t max)
{
	memset(st, 0, sizeof(*st));
	st->max = max;
}

void etcd_stream_done(struct etcd_stream *st)
{
	free(st->buf);
	memset(st, 0, sizeof(*st));
}

void etcd_stream_reset(struct etcd_stream *st)
{
	st->len = st->start = st->pos = 0;
	st->depth = 0;
	st->in_str = st->esc = false;
	st->err = 0;
}

int etcd_stream_feed(struct etcd_stream *st, const void *data, size_t len)
{
	if (st->err)
		return st->err;
	/* Drop what was consumed before growing. */
	if (st->start > 0) {
		memmove(st->buf, st->buf + st->start, st->len - st->start);
		st->len -= st->start;
		st->pos -= st->start;
		st->start = 0;
	}
	if (len > st->max || st->len > st->max - len)
		return -EFBIG;
	if (st->len + len + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 4096;
		char *b;

		while (cap < st->len + len + 1)
			cap *= 2;
		b = realloc(st->buf, cap);
		if (!b)
			return -ENOMEM;
		st->buf = b;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, data, len);
	st->len += len;
	return 0;
}

int etcd_stream_next(struct etcd_stream *st, const char **ret_msg, size_t *ret_len)
{
	if (st->err)
		return st->err;
	while (st->pos < st->len) {
		char c = st->buf[st->pos++];

		if (st->depth == 0) {
			/* Between objects: only whitespace. */
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
				st->start = st->pos;
				continue;
			}
			if (c != '{')
				return st->err = -EBADMSG;
			st->start = st->pos - 1;
			st->depth = 1;
			continue;
		}
		if (st->in_str) {
			if (st->esc)
				st->esc = false;
			else if (c == '\\')
				st->esc = true;
			else if (c == '"')
				st->in_str = false;
			continue;
		}
		if (c == '"') {
			st->in_str = true;
		} else if (c == '{' || c == '[') {
			if (st->depth >= 1000)
				return st->err = -EBADMSG;   /* deeper than anything etcd sends; bounds jansson's recursion */
			st->depth++;
		} else if (c == '}' || c == ']') {
			if (--st->depth == 0) {
				*ret_msg = st->buf + st->start;
				*ret_len = st->pos - st->start;
				st->start = st->pos;
				return 1;
			}
		}
	}
	if (st->depth > 0 && st->pos - st->start > st->max)
		return st->err = -EFBIG;
	return 0;
}
