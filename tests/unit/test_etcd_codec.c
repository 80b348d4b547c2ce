/* store/etcd_codec: request bodies read back with jansson, and replies as etcd 3.4's gateway
 * writes them (captured from Debian's etcd-server 3.4.23) parsed into store.h's structs, with the
 * ways a reply can be wrong.  No etcd, no root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "store/etcd_codec.h"
#include "store/tls.h"
#include "store/store.h"

#define HDR(rev) "\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\"," \
                 "\"revision\":\"" rev "\",\"raft_term\":\"2\"}"
#define K_CONFIG  "L3Nob2FsL2NvbmZpZw=="                          /* /shoal/config */
#define K_SUB1    "L3Nob2FsL3N1Ym5ldHMvMTAuMjQ0LjEuMC0yNA=="      /* /shoal/subnets/10.244.1.0-24 */
#define K_SUB2    "L3Nob2FsL3N1Ym5ldHMvMTAuMjQ0LjIuMC0yNA=="      /* /shoal/subnets/10.244.2.0-24 */
#define V_NODE    "eyJub2RlIjoiYSJ9"                              /* {"node":"a"} */

/* The decoded base64 string field of o (NUL-terminated); fails the test when absent. */
static char *b64_field(const json_t *o, const char *field, size_t *ret_len)
{
	const json_t *v = json_object_get(o, field);
	void *out;
	size_t len;

	assert_non_null(v);
	assert_true(json_is_string(v));
	assert_int_equal(base64_decode(json_string_value(v), json_string_length(v), &out, &len), 0);
	if (ret_len)
		*ret_len = len;
	return out;
}

static json_t *load(const char *s)
{
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(j);
	return j;
}

static void test_prefix_end(void **state)
{
	char *end;
	size_t len;

	assert_int_equal(etcd_codec_prefix_end("/shoal/", 7, &end, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(end, "/shoal0", 7);
	free(end);
	/* Trailing 0xff bytes cannot be incremented: they go, the byte before them grows. */
	assert_int_equal(etcd_codec_prefix_end("a\xff\xff", 3, &end, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(end, "b", 1);
	free(end);
	/* Nothing to increment: "\0", which etcd reads as "every key from key on". */
	assert_int_equal(etcd_codec_prefix_end("\xff", 1, &end, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(end[0], '\0');
	free(end);
	assert_int_equal(etcd_codec_prefix_end("", 0, &end, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(end[0], '\0');
	free(end);
}

static void test_range_req(void **state)
{
	char *body, *s;
	json_t *j;

	assert_int_equal(etcd_codec_range_req("/shoal/config", NULL, 0, &body), 0);
	j = load(body);
	s = b64_field(j, "key", NULL);
	assert_string_equal(s, "/shoal/config");
	free(s);
	assert_null(json_object_get(j, "range_end"));
	json_decref(j);
	free(body);

	assert_int_equal(etcd_codec_range_req("/shoal/", "/shoal0", 7, &body), 0);
	j = load(body);
	s = b64_field(j, "range_end", NULL);
	assert_string_equal(s, "/shoal0");
	free(s);
	/* No limit: a listing is complete or an error. */
	assert_null(json_object_get(j, "limit"));
	json_decref(j);
	free(body);
}

/* The one compare of a txn body and the put of its success branch. */
static void txn_parts(json_t *j, json_t **ret_cmp, json_t **ret_put)
{
	json_t *cmp = json_object_get(j, "compare"), *succ = json_object_get(j, "success");

	*ret_cmp = cmp ? json_array_get(cmp, 0) : NULL;
	if (cmp)
		assert_int_equal(json_array_size(cmp), 1);
	assert_int_equal(json_array_size(succ), 1);
	*ret_put = json_object_get(json_array_get(succ, 0), "request_put");
	assert_non_null(*ret_put);
}

static void test_put_req(void **state)
{
	const char value[] = { 'a', '\0', 'b', (char)0xff };
	json_t *j, *cmp, *put;
	char *body, *s;
	size_t len;

	/* Create-if-absent: create_revision == 0, and the value's bytes (a NUL included) intact. */
	assert_int_equal(etcd_codec_put_req(STORE_PUT_CREATE, "/shoal/subnets/x", value, sizeof(value), 0, 42, &body), 0);
	j = load(body);
	txn_parts(j, &cmp, &put);
	assert_string_equal(json_string_value(json_object_get(cmp, "target")), "CREATE");
	assert_string_equal(json_string_value(json_object_get(cmp, "result")), "EQUAL");
	assert_string_equal(json_string_value(json_object_get(cmp, "create_revision")), "0");
	s = b64_field(cmp, "key", NULL);
	assert_string_equal(s, "/shoal/subnets/x");
	free(s);
	s = b64_field(put, "value", &len);
	assert_int_equal(len, sizeof(value));
	assert_memory_equal(s, value, len);
	free(s);
	/* 64-bit integers as strings, as etcd writes them. */
	assert_string_equal(json_string_value(json_object_get(put, "lease")), "42");
	assert_null(json_object_get(j, "failure"));
	json_decref(j);
	free(body);

	/* Compare-and-swap on mod_revision; a lease ID above 2^53 survives. */
	assert_int_equal(etcd_codec_put_req(STORE_PUT_CAS, "/k", "v", 1, 9007199254740993LL, 7587899294073036040LL,
	                                    &body), 0);
	j = load(body);
	txn_parts(j, &cmp, &put);
	assert_string_equal(json_string_value(json_object_get(cmp, "target")), "MOD");
	assert_string_equal(json_string_value(json_object_get(cmp, "mod_revision")), "9007199254740993");
	assert_string_equal(json_string_value(json_object_get(put, "lease")), "7587899294073036040");
	json_decref(j);
	free(body);

	/* A plain put: no compare, no lease field for lease 0, an empty value still present. */
	assert_int_equal(etcd_codec_put_req(STORE_PUT_ANY, "/k", "", 0, 0, 0, &body), 0);
	j = load(body);
	txn_parts(j, &cmp, &put);
	assert_null(cmp);
	assert_null(json_object_get(put, "lease"));
	s = b64_field(put, "value", &len);
	assert_int_equal(len, 0);
	free(s);
	json_decref(j);
	free(body);
}

static void test_delete_req(void **state)
{
	json_t *j, *cmp, *del, *fail;
	char *body;

	/* Any revision: the key must exist (create_revision > 0). */
	assert_int_equal(etcd_codec_delete_req("/shoal/k", 0, &body), 0);
	j = load(body);
	cmp = json_array_get(json_object_get(j, "compare"), 0);
	assert_string_equal(json_string_value(json_object_get(cmp, "target")), "CREATE");
	assert_string_equal(json_string_value(json_object_get(cmp, "result")), "GREATER");
	del = json_object_get(json_array_get(json_object_get(j, "success"), 0), "request_delete_range");
	assert_non_null(del);
	assert_null(json_object_get(del, "range_end"));   /* one key, never a range */
	/* The failure branch counts the key: absent and changed are told apart. */
	fail = json_object_get(json_array_get(json_object_get(j, "failure"), 0), "request_range");
	assert_non_null(fail);
	assert_true(json_is_true(json_object_get(fail, "count_only")));
	json_decref(j);
	free(body);

	assert_int_equal(etcd_codec_delete_req("/shoal/k", 17, &body), 0);
	j = load(body);
	cmp = json_array_get(json_object_get(j, "compare"), 0);
	assert_string_equal(json_string_value(json_object_get(cmp, "target")), "MOD");
	assert_string_equal(json_string_value(json_object_get(cmp, "mod_revision")), "17");
	json_decref(j);
	free(body);
}

static void test_lease_and_watch_req(void **state)
{
	json_t *j, *c;
	char *body, *s;

	assert_int_equal(etcd_codec_lease_grant_req(600, &body), 0);
	assert_string_equal(body, "{\"TTL\":\"600\"}");
	free(body);
	assert_int_equal(etcd_codec_lease_id_req(7587899294073036040LL, &body), 0);
	assert_string_equal(body, "{\"ID\":\"7587899294073036040\"}");
	free(body);

	assert_int_equal(etcd_codec_watch_req("/shoal/subnets/", "/shoal/subnets0", 15, 13, &body), 0);
	j = load(body);
	c = json_object_get(j, "create_request");
	assert_non_null(c);
	s = b64_field(c, "range_end", NULL);
	assert_string_equal(s, "/shoal/subnets0");
	free(s);
	assert_string_equal(json_string_value(json_object_get(c, "start_revision")), "13");
	assert_true(json_is_true(json_object_get(c, "progress_notify")));
	json_decref(j);
	free(body);
}

static int parse_range(const char *body, struct store_kvs *kvs)
{
	return etcd_codec_parse_range(body, strlen(body), "/shoal/", kvs);
}

static void test_parse_range(void **state)
{
	struct store_kvs kvs;
	const char *two = "{" HDR("9") ",\"kvs\":[{\"key\":\"" K_SUB1 "\",\"create_revision\":\"2\",\"mod_revision\":\"5\","
	                  "\"version\":\"2\",\"value\":\"" V_NODE "\",\"lease\":\"7587899294073036040\"},"
	                  "{\"key\":\"" K_SUB2 "\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\"}],"
	                  "\"count\":\"2\"}";

	assert_int_equal(parse_range(two, &kvs), 0);
	assert_int_equal(kvs.revision, 9);
	assert_int_equal(kvs.n, 2);
	assert_string_equal(kvs.kvs[0].key, "subnets/10.244.1.0-24");   /* relative to the prefix */
	assert_string_equal(kvs.kvs[0].value, "{\"node\":\"a\"}");
	assert_int_equal(kvs.kvs[0].value_len, 12);
	assert_int_equal(kvs.kvs[0].create_rev, 2);
	assert_int_equal(kvs.kvs[0].mod_rev, 5);
	assert_int_equal(kvs.kvs[0].lease, 7587899294073036040LL);
	/* proto3 omits defaults: no "value" is the empty value, no "lease" is none. */
	assert_string_equal(kvs.kvs[1].value, "");
	assert_int_equal(kvs.kvs[1].value_len, 0);
	assert_int_equal(kvs.kvs[1].lease, 0);
	store_kvs_done(&kvs);

	/* Nothing there: no "kvs" at all. */
	assert_int_equal(parse_range("{" HDR("4") "}", &kvs), 0);
	assert_int_equal(kvs.n, 0);
	assert_int_equal(kvs.revision, 4);
	store_kvs_done(&kvs);
	/* Plain JSON integers are read too. */
	assert_int_equal(parse_range("{\"header\":{\"revision\":12},\"kvs\":[{\"key\":\"" K_CONFIG "\",\"mod_revision\":11}]}",
	                             &kvs), 0);
	assert_int_equal(kvs.revision, 12);
	assert_string_equal(kvs.kvs[0].key, "config");
	assert_int_equal(kvs.kvs[0].mod_rev, 11);
	store_kvs_done(&kvs);
}

static void test_parse_range_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"kvs\":{}}",
		/* A listing cut short must not pass for a complete one. */
		"{" HDR("9") ",\"kvs\":[],\"more\":true}",
		/* Keys outside our prefix, with a NUL, or not base64. */
		"{" HDR("9") ",\"kvs\":[{\"key\":\"L290aGVyL3g=\"}]}",
		"{" HDR("9") ",\"kvs\":[{\"key\":\"L3Nob2FsL2EAYg==\"}]}",
		"{" HDR("9") ",\"kvs\":[{\"key\":\"L3Nob2FsLw==\"}]}",
		"{" HDR("9") ",\"kvs\":[{\"key\":\"not base64!\"}]}",
		"{" HDR("9") ",\"kvs\":[{\"key\":\"" K_CONFIG "\",\"value\":7}]}",
		/* Integers: negative, not decimal, too large, wrong type. */
		"{\"header\":{\"revision\":\"-1\"}}",
		"{\"header\":{\"revision\":-1}}",
		"{\"header\":{\"revision\":\"12a\"}}",
		"{\"header\":{\"revision\":\" 12\"}}",
		"{\"header\":{\"revision\":\"99999999999999999999\"}}",
		"{\"header\":{\"revision\":1.5}}",
		"{\"header\":\"x\"}",
		/* Duplicate keys: not something etcd writes. */
		"{\"header\":{\"revision\":\"1\"},\"header\":{\"revision\":\"2\"}}",
	};
	struct store_kvs kvs = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_range(bad[i], &kvs);

		if (r != -EBADMSG)
			fail_msg("accepted or wrong error %d: %s", r, bad[i]);
		assert_null(kvs.kvs);   /* untouched on failure */
	}
}

static void test_parse_txn(void **state)
{
	bool ok, exists;
	int64_t rev;
	const char *put_ok = "{" HDR("5") ",\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"5\"}}}]}";
	const char *put_failed = "{" HDR("4") "}";
	const char *del_ok = "{" HDR("3") ",\"succeeded\":true,\"responses\":[{\"response_delete_range\":"
	                     "{\"header\":{\"revision\":\"3\"},\"deleted\":\"1\"}}]}";
	const char *del_changed = "{" HDR("2") ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"},\"count\":\"1\"}}]}";
	const char *del_absent = "{" HDR("2") ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"}}}]}";

	assert_int_equal(etcd_codec_parse_put(put_ok, strlen(put_ok), &ok, &rev), 0);
	assert_true(ok);
	assert_int_equal(rev, 5);
	/* "succeeded": false is omitted like every default. */
	assert_int_equal(etcd_codec_parse_put(put_failed, strlen(put_failed), &ok, &rev), 0);
	assert_false(ok);
	assert_int_equal(etcd_codec_parse_put("{}", 2, &ok, &rev), -EBADMSG);   /* no revision */

	assert_int_equal(etcd_codec_parse_delete(del_ok, strlen(del_ok), &ok, &rev, &exists), 0);
	assert_true(ok);
	assert_int_equal(rev, 3);
	assert_int_equal(etcd_codec_parse_delete(del_changed, strlen(del_changed), &ok, &rev, &exists), 0);
	assert_false(ok);
	assert_true(exists);     /* -> -ESTALE */
	assert_int_equal(etcd_codec_parse_delete(del_absent, strlen(del_absent), &ok, &rev, &exists), 0);
	assert_false(ok);
	assert_false(exists);    /* -> -ENOENT */
	/* A failure without the range that tells which: refused, not guessed. */
	assert_int_equal(etcd_codec_parse_delete(put_failed, strlen(put_failed), &ok, &rev, &exists), -EBADMSG);
}

static void test_parse_lease(void **state)
{
	const char *grant = "{" HDR("2") ",\"ID\":\"7587899294073036040\",\"TTL\":\"2\"}";
	const char *alive = "{\"result\":{" HDR("2") ",\"ID\":\"7587899294073036040\",\"TTL\":\"60\"}}\n";
	const char *gone = "{\"result\":{" HDR("2") ",\"ID\":\"12345\"}}\n";
	int64_t id, ttl;

	assert_int_equal(etcd_codec_parse_lease(grant, strlen(grant), &id, &ttl), 0);
	assert_int_equal(id, 7587899294073036040LL);
	assert_int_equal(ttl, 2);
	/* The keep-alive stream's one message, with its newline. */
	assert_int_equal(etcd_codec_parse_lease(alive, strlen(alive), &id, &ttl), 0);
	assert_int_equal(ttl, 60);
	/* A lease etcd does not know: TTL 0 (omitted); the caller makes it -ENOENT. */
	assert_int_equal(etcd_codec_parse_lease(gone, strlen(gone), &id, &ttl), 0);
	assert_int_equal(id, 12345);
	assert_int_equal(ttl, 0);
	const char *legacy = "{\"ID\":\"1\",\"TTL\":\"5\",\"error\":\"boom\"}";

	assert_int_equal(etcd_codec_parse_lease(legacy, strlen(legacy), &id, &ttl), -EIO);
	assert_int_equal(etcd_codec_parse_lease("{\"result\":7}", 12, &id, &ttl), -EBADMSG);
}

/* Bodies as etcd 3.4's gateway sends them (captured from Debian's etcd-server). */
static void test_parse_lease_ttl(void **state)
{
	const char *alive = "{" HDR("1") ",\"ID\":\"7587899294608358917\",\"TTL\":\"7\",\"grantedTTL\":\"10\"}";
	const char *gone = "{" HDR("1") ",\"ID\":\"123\",\"TTL\":\"-1\"}";
	const char *last = "{\"ID\":\"5\",\"grantedTTL\":\"10\"}";   /* 0 s left: TTL omitted */
	int64_t left = -5, granted = -5;
	char req_body[64];
	char *body;

	assert_int_equal(etcd_codec_parse_lease_ttl(alive, strlen(alive), &left, &granted), 0);
	assert_int_equal(left, 7);
	assert_int_equal(granted, 10);
	assert_int_equal(etcd_codec_parse_lease_ttl(last, strlen(last), &left, &granted), 0);
	assert_int_equal(left, 0);
	assert_int_equal(granted, 10);
	/* Unknown (expired, revoked): TTL -1, no grantedTTL; outputs untouched. */
	left = granted = -5;
	assert_int_equal(etcd_codec_parse_lease_ttl(gone, strlen(gone), &left, &granted), -ENOENT);
	assert_int_equal(etcd_codec_parse_lease_ttl("{\"TTL\":-1}", 10, &left, &granted), -ENOENT);
	assert_int_equal(etcd_codec_parse_lease_ttl("{}", 2, &left, &granted), -ENOENT);
	assert_int_equal(left, -5);
	assert_int_equal(granted, -5);
	/* Nonsense: more left than granted, other negatives, not JSON. */
	const char *more = "{\"TTL\":\"11\",\"grantedTTL\":\"10\"}", *neg = "{\"TTL\":\"-2\",\"grantedTTL\":\"10\"}";

	assert_int_equal(etcd_codec_parse_lease_ttl(more, strlen(more), &left, &granted), -EBADMSG);
	assert_int_equal(etcd_codec_parse_lease_ttl(neg, strlen(neg), &left, &granted), -EBADMSG);
	assert_int_equal(etcd_codec_parse_lease_ttl("[1]", 3, &left, &granted), -EBADMSG);
	assert_int_equal(etcd_codec_parse_lease_ttl("{", 1, &left, &granted), -EBADMSG);
	/* The request: the lease id alone (no "keys": the store never needs them). */
	assert_int_equal(etcd_codec_lease_id_req(42, &body), 0);
	snprintf(req_body, sizeof(req_body), "%s", body);
	free(body);
	assert_string_equal(req_body, "{\"ID\":\"42\"}");
	assert_string_equal(ETCD_PATH_TIMETOLIVE, "/v3/lease/timetolive");
}

static void test_parse_error(void **state)
{
	const char *unary = "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease "
	                    "not found\",\"code\":5}";
	const char *in_stream = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\","
	                        "\"http_status\":\"Service Unavailable\"}}";
	char msg[ETCD_ERRMSG_MAX];
	int code;

	assert_int_equal(etcd_codec_parse_error(unary, strlen(unary), &code, msg), 0);
	assert_int_equal(code, 5);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	assert_int_equal(etcd_codec_errno(code, msg), -ENOENT);
	assert_int_equal(etcd_codec_parse_error(in_stream, strlen(in_stream), &code, msg), 0);
	assert_int_equal(code, 14);
	assert_string_equal(msg, "etcdserver: no leader");
	assert_int_equal(etcd_codec_errno(code, msg), -EAGAIN);
	/* A reply that is no error, and one that is no JSON. */
	assert_int_equal(etcd_codec_parse_error("{" HDR("1") "}", strlen("{" HDR("1") "}"), &code, msg), -ENOENT);
	assert_int_equal(etcd_codec_parse_error("404 page not found\n", 19, &code, msg), -EBADMSG);
	/* Control characters never reach the log. */
	const char *ctl = "{\"error\":\"a\\nb\\u001b[31m\",\"code\":2}";

	assert_int_equal(etcd_codec_parse_error(ctl, strlen(ctl), &code, msg), 0);
	assert_string_equal(msg, "a?b?[31m");

	assert_int_equal(etcd_codec_errno(ETCD_GRPC_INVALID_ARGUMENT, "etcdserver: request is too large"), -EFBIG);
	assert_int_equal(etcd_codec_errno(ETCD_GRPC_RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),
	                 -ENOSPC);
	assert_int_equal(etcd_codec_errno(ETCD_GRPC_UNAUTHENTICATED, ""), -EACCES);
	assert_int_equal(etcd_codec_errno(2, ""), -EIO);
}

static int parse_watch(const char *msg, struct etcd_watch_msg *m)
{
	return etcd_codec_parse_watch(msg, strlen(msg), "/shoal/", m);
}

static void test_parse_watch(void **state)
{
	struct etcd_watch_msg m;

	assert_int_equal(parse_watch("{\"result\":{" HDR("2") ",\"created\":true}}", &m), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.n_events, 0);
	etcd_watch_msg_done(&m);

	/* A PUT (type omitted: it is the default) and a DELETE, in revision order. */
	assert_int_equal(parse_watch("{\"result\":{" HDR("4") ",\"events\":[{\"kv\":{\"key\":\"" K_SUB1 "\",\"create_revision\":\"3\","
	                             "\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"" V_NODE "\",\"lease\":\"9\"}},"
	                             "{\"type\":\"DELETE\",\"kv\":{\"key\":\"" K_SUB2 "\",\"mod_revision\":\"4\"}}]}}", &m), 0);
	assert_int_equal(m.n_events, 2);
	assert_int_equal(m.events[0].type, STORE_EVENT_PUT);
	assert_string_equal(m.events[0].kv.key, "subnets/10.244.1.0-24");
	assert_string_equal(m.events[0].kv.value, "{\"node\":\"a\"}");
	assert_int_equal(m.events[0].kv.lease, 9);
	assert_int_equal(m.events[1].type, STORE_EVENT_DELETE);
	assert_string_equal(m.events[1].kv.key, "subnets/10.244.2.0-24");
	assert_int_equal(m.events[1].kv.mod_rev, 4);
	assert_int_equal(m.events[1].kv.value_len, 0);
	etcd_watch_msg_done(&m);

	/* Compaction, exactly as etcd 3.4 cancels a watch whose start revision is gone. */
	assert_int_equal(parse_watch("{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"raft_term\":\"2\"},"
	                             "\"canceled\":true,\"compact_revision\":\"3\"}}", &m), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_rev, 3);
	etcd_watch_msg_done(&m);

	/* A progress notification: a header and nothing else. */
	assert_int_equal(parse_watch("{\"result\":{" HDR("40") "}}", &m), 0);
	assert_int_equal(m.header_rev, 40);
	assert_false(m.created);
	assert_int_equal(m.n_events, 0);
	etcd_watch_msg_done(&m);

	assert_int_equal(parse_watch("{\"result\":{\"canceled\":true,\"cancel_reason\":\"permission denied\"}}", &m), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_rev, 0);
	assert_string_equal(m.reason, "permission denied");
	etcd_watch_msg_done(&m);

	/* An error inside the stream. */
	assert_int_equal(parse_watch("{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: no leader\"}}", &m), 0);
	assert_int_equal(m.error_code, 14);
	assert_string_equal(m.reason, "etcdserver: no leader");
	etcd_watch_msg_done(&m);
}

static void test_parse_watch_refuses(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"result\":[]}",
		"{\"result\":{\"events\":{}}}",
		"{\"result\":{\"events\":[{\"type\":\"TOUCH\",\"kv\":{\"key\":\"" K_CONFIG "\",\"mod_revision\":\"1\"}}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"L290aGVyL3g=\",\"mod_revision\":\"1\"}}]}}",
		/* No revision, or going backwards inside one message. */
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"" K_CONFIG "\"}}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"" K_CONFIG "\",\"mod_revision\":\"5\"}},"
		"{\"kv\":{\"key\":\"" K_CONFIG "\",\"mod_revision\":\"4\"}}]}}",
		"{\"result\":{\"created\":\"yes\"}}",
	};
	struct etcd_watch_msg m = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_watch(bad[i], &m);

		if (r != -EBADMSG)
			fail_msg("accepted or wrong error %d: %s", r, bad[i]);
		assert_null(m.events);
	}
}

/* Every split of a stream into two reads yields the same objects. */
static void test_stream_split(void **state)
{
	const char stream[] = "{\"result\":{\"created\":true}}\n"
	                      "{\"result\":{\"cancel_reason\":\"a } in \\\"a string\\\" {\"}}\n"
	                      "  \r\n{\"a\":[{\"b\":[]},{}]}";
	const char *want[] = { "{\"result\":{\"created\":true}}", "{\"result\":{\"cancel_reason\":\"a } in \\\"a string\\\" {\"}}",
	                       "{\"a\":[{\"b\":[]},{}]}" };
	size_t n = strlen(stream);

	for (size_t cut = 0; cut <= n; cut++) {
		struct etcd_stream st;
		const char *msg;
		size_t len, got = 0;
		int r;

		etcd_stream_init(&st, 1024);
		assert_int_equal(etcd_stream_feed(&st, stream, cut), 0);
		while ((r = etcd_stream_next(&st, &msg, &len)) == 1) {
			assert_true(got < 3);
			assert_int_equal(len, strlen(want[got]));
			assert_memory_equal(msg, want[got], len);
			got++;
		}
		assert_int_equal(r, 0);
		assert_int_equal(etcd_stream_feed(&st, stream + cut, n - cut), 0);
		while ((r = etcd_stream_next(&st, &msg, &len)) == 1) {
			assert_true(got < 3);
			assert_int_equal(len, strlen(want[got]));
			assert_memory_equal(msg, want[got], len);
			got++;
		}
		assert_int_equal(r, 0);
		assert_int_equal(got, 3);
		etcd_stream_done(&st);
	}
}

static void test_stream_broken(void **state)
{
	struct etcd_stream st;
	const char *msg;
	size_t len;

	/* Garbage between objects breaks the stream, for good, until reset. */
	etcd_stream_init(&st, 1024);
	assert_int_equal(etcd_stream_feed(&st, "{}x{}", 5), 0);
	assert_int_equal(etcd_stream_next(&st, &msg, &len), 1);
	assert_int_equal(etcd_stream_next(&st, &msg, &len), -EBADMSG);
	assert_int_equal(etcd_stream_next(&st, &msg, &len), -EBADMSG);
	assert_int_equal(etcd_stream_feed(&st, "{}", 2), -EBADMSG);
	etcd_stream_reset(&st);
	assert_int_equal(etcd_stream_feed(&st, "{}", 2), 0);
	assert_int_equal(etcd_stream_next(&st, &msg, &len), 1);
	etcd_stream_done(&st);

	/* Bounded: an object that never ends cannot take all memory. */
	etcd_stream_init(&st, 64);
	assert_int_equal(etcd_stream_feed(&st, "{\"a\":\"", 6), 0);
	for (int i = 0; i < 20; i++) {
		int r = etcd_stream_feed(&st, "xxxxxxxx", 8);

		if (r < 0) {
			assert_int_equal(r, -EFBIG);
			break;
		}
		assert_true(i < 8);
		assert_int_equal(etcd_stream_next(&st, &msg, &len), 0);
	}
	etcd_stream_done(&st);
}

static void no_watch_cb(void *userdata, const struct store_event *events, size_t n, int err)
{
	fail();
}

/* The etcd URL forms store_open accepts (no network at open: nothing is contacted). */
static void test_etcd_urls(void **state)
{
	static const char *const good[] = {
		"etcd://127.0.0.1:2379", "etcd://127.0.0.1", "etcd://a:1,b:2,c:65535/", "etcd://[::1]:2379",
		"etcd://[fd00::1],host.example:2380", "etcds://etcd.example:2379",
	};
	static const char *const bad[] = {
		"etcd:", "etcd:/x", "etcd://", "etcd://:2379", "etcd://h:0", "etcd://h:65536", "etcd://h:12x",
		"etcd://user:secret@h:2379", "etcd://h:2379/v3", "etcd://[::1", "etcd://[::1]x", "etcd://h:2379,,",
		"etcd://1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
	};
	struct store_tls tls = { .cert = "/etc/hostname" };   /* a certificate without its key */
	struct store_watch *w;
	struct store *s;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (store_open(NULL, good[i], NULL, NULL, &s) != 0)
			fail_msg("refused %s", good[i]);
		store_free(s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_open(NULL, bad[i], NULL, NULL, &s) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(store_open(NULL, "etcds://h:2379", NULL, &tls, &s), -EINVAL);
	tls = (struct store_tls){ .ca = "/nonexistent/ca.pem" };
	assert_int_equal(store_open(NULL, "etcds://h:2379", NULL, &tls, &s), -ENOENT);
	/* Without a loop only the synchronous calls exist. */
	assert_int_equal(store_open(NULL, "etcd://127.0.0.1:2379", NULL, NULL, &s), 0);
	assert_int_equal(store_watch(s, "", 0, no_watch_cb, NULL, &w), -EOPNOTSUPP);
	store_free(s);
}

/* libssl is loaded once, every entry point resolved; a context with the system's CAs builds, one
 * with a CA file that is not one fails with -EACCES and says which file. */
static void test_tls_load(void **state)
{
	char err[TLS_ERRLEN] = "";
	struct tls_ctx *ctx = NULL;

	assert_int_equal(tls_load(err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(tls_load(err, sizeof(err)), 0);
	assert_int_equal(tls_ctx_new(NULL, NULL, NULL, err, &ctx), 0);
	tls_ctx_free(ctx);
	ctx = NULL;
	assert_int_equal(tls_ctx_new("/dev/null", NULL, NULL, err, &ctx), -EACCES);
	assert_null(ctx);
	assert_non_null(strstr(err, "/dev/null"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_range_req),
		cmocka_unit_test(test_put_req),
		cmocka_unit_test(test_delete_req),
		cmocka_unit_test(test_lease_and_watch_req),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_range_refuses),
		cmocka_unit_test(test_parse_txn),
		cmocka_unit_test(test_parse_lease),
		cmocka_unit_test(test_parse_lease_ttl),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_parse_watch),
		cmocka_unit_test(test_parse_watch_refuses),
		cmocka_unit_test(test_stream_split),
		cmocka_unit_test(test_stream_broken),
		cmocka_unit_test(test_etcd_urls),
		cmocka_unit_test(test_tls_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
