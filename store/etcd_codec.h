/* etcd v3 JSON gateway: request bodies and response parsers (pure: no I/O, fuzzed by
 * tests/fuzz/fuzz_etcd_codec.c).  etcd_http.c moves the bytes.
 *
 * What the gateway of etcd 3.4 speaks (verified against Debian's etcd-server 3.4.23):
 * - Keys and values are base64 in JSON; 64-bit integers (revisions, lease IDs, TTLs, counts) are
 *   JSON strings; fields at their default (0, false, "", PUT) are omitted.
 * - Errors of unary calls: HTTP 4xx/5xx with {"error": TEXT, "message": TEXT, "code": GRPC_CODE};
 *   errors inside a stream: {"error": {"grpc_code": N, "message": TEXT, ...}}.
 * - Streams (watch, lease keep-alive) are concatenated JSON objects {"result": {...}}, each
 *   followed by a newline; nothing promises that one read holds one whole object.
 *
 * Keys passed in and out here are full keys (store prefix included); parsers take the prefix,
 * refuse keys outside it (-EBADMSG) and return keys relative to it, as store.h wants them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

#define ETCD_PATH_RANGE      "/v3/kv/range"
#define ETCD_PATH_TXN        "/v3/kv/txn"
#define ETCD_PATH_GRANT      "/v3/lease/grant"
#define ETCD_PATH_KEEPALIVE  "/v3/lease/keepalive"
#define ETCD_PATH_REVOKE     "/v3/lease/revoke"
#define ETCD_PATH_TIMETOLIVE "/v3/lease/timetolive"
#define ETCD_PATH_WATCH      "/v3/watch"

#define ETCD_MSG_MAX         (64u << 20)   /* one response or one stream message */
#define ETCD_ERRMSG_MAX      160

/* gRPC status codes the gateway reports (google.golang.org/grpc/codes). */
enum {
	ETCD_GRPC_INVALID_ARGUMENT = 3,
	ETCD_GRPC_DEADLINE_EXCEEDED = 4,
	ETCD_GRPC_NOT_FOUND = 5,
	ETCD_GRPC_PERMISSION_DENIED = 7,
	ETCD_GRPC_RESOURCE_EXHAUSTED = 8,
	ETCD_GRPC_FAILED_PRECONDITION = 9,
	ETCD_GRPC_OUT_OF_RANGE = 11,
	ETCD_GRPC_UNAVAILABLE = 14,
	ETCD_GRPC_UNAUTHENTICATED = 16,
};

/* The end of the range "every key starting with prefix": prefix with its last byte below 0xff
 * incremented (trailing 0xff bytes dropped); a single NUL byte (etcd: "to the end") when there is
 * none.  *ret is malloc'ed, *ret_len bytes (not NUL-terminated in meaning, but NUL-terminated). */
int etcd_codec_prefix_end(const char *prefix, size_t len, char **ret, size_t *ret_len);

/* ---- request bodies: malloc'ed, NUL-terminated JSON ---- */

/* /v3/kv/range: one key (end NULL) or [key, end). */
int etcd_codec_range_req(const char *key, const char *end, size_t end_len, char **ret);
/* /v3/kv/txn: put with store.h's modes.  ANY: no compare; CREATE: create_revision == 0; CAS:
 * mod_revision == expect_mod_rev (0 = absent).  One transaction, so the check and the write are
 * atomic; the failure branch is empty. */
int etcd_codec_put_req(enum store_put_mode mode, const char *key, const char *value, size_t len,
                       int64_t expect_mod_rev, int64_t lease, char **ret);
/* /v3/kv/txn: delete key if it exists (expect_mod_rev 0) or if its mod_revision is expect_mod_rev.
 * The failure branch counts the key, so that absent (-ENOENT) and changed (-ESTALE) differ. */
int etcd_codec_delete_req(const char *key, int64_t expect_mod_rev, char **ret);
/* /v3/lease/grant */
int etcd_codec_lease_grant_req(int64_t ttl, char **ret);
/* /v3/lease/keepalive, /v3/lease/revoke and /v3/lease/timetolive (without its keys): {"ID": id} */
int etcd_codec_lease_id_req(int64_t id, char **ret);
/* /v3/watch: create_request for [key, end) from start_rev (inclusive), with progress
 * notifications (they let a reconnect resume from a newer revision). */
int etcd_codec_watch_req(const char *key, const char *end, size_t end_len, int64_t start_rev, char **ret);

/* ---- responses ---- */

/* An error object, unary or in-stream form.  0 and *ret_code (a gRPC code, > 0) when body is one;
 * -ENOENT when body is valid JSON but no error; -EBADMSG when it is not JSON.  msg gets the text
 * (truncated, control characters replaced). */
int etcd_codec_parse_error(const char *body, size_t len, int *ret_code, char msg[ETCD_ERRMSG_MAX]);
/* A gRPC code and its message -> -errno (store.h's codes: NotFound -> -ENOENT, ...). */
int etcd_codec_errno(int grpc_code, const char *msg);

/* /v3/kv/range: kvs relative to prefix, with the header revision as ret->revision. */
int etcd_codec_parse_range(const char *body, size_t len, const char *prefix, struct store_kvs *ret);
/* /v3/kv/txn of etcd_codec_put_req: *ret_ok whether the compare held, *ret_rev the header's
 * revision (the put's revision when it held). */
int etcd_codec_parse_put(const char *body, size_t len, bool *ret_ok, int64_t *ret_rev);
/* /v3/kv/txn of etcd_codec_delete_req: *ret_ok whether it deleted, *ret_rev the header's revision,
 * *ret_exists (when not ok) whether the key exists. */
int etcd_codec_parse_delete(const char *body, size_t len, bool *ret_ok, int64_t *ret_rev, bool *ret_exists);
/* /v3/lease/grant (plain) and /v3/lease/keepalive (one {"result": ...} message): ID and TTL; a
 * TTL of 0 is what etcd answers for a lease that does not exist (any more). */
int etcd_codec_parse_lease(const char *body, size_t len, int64_t *ret_id, int64_t *ret_ttl);

/* /v3/lease/timetolive: TTL (seconds left) and grantedTTL.  etcd answers a lease it does not know
 * (expired, revoked, never granted) with TTL -1 and no grantedTTL: -ENOENT.  A remaining time below
 * 0 or above the granted TTL is -EBADMSG. */
int etcd_codec_parse_lease_ttl(const char *body, size_t len, int64_t *ret_remaining, int64_t *ret_granted);

/* One message of the watch stream. */
struct etcd_watch_msg {
	int64_t header_rev;       /* 0 when absent */
	bool created;
	bool canceled;
	int64_t compact_rev;      /* > 0: the start revision was compacted (and canceled is set) */
	char reason[ETCD_ERRMSG_MAX];   /* cancel_reason, or the error text */
	int error_code;           /* > 0: the stream carried an error object instead of a result */
	struct store_event *events;     /* relative keys, revision order as etcd sent them */
	size_t n_events;
};
int etcd_codec_parse_watch(const char *msg, size_t len, const char *prefix, struct etcd_watch_msg *ret);
void etcd_watch_msg_done(struct etcd_watch_msg *m);

/* ---- stream framing: split concatenated JSON objects ----
 *
 * Feed bytes as they arrive; take whole top-level objects out.  The scanner follows strings and
 * escapes, so braces inside strings do not count; whitespace between objects is skipped; anything
 * else between objects is -EBADMSG.  Bounded: one object larger than max is -EFBIG. */
struct etcd_stream {
	char *buf;
	size_t len, cap;
	size_t start;     /* first byte of the object being scanned */
	size_t pos;       /* next byte to scan */
	unsigned depth;
	bool in_str, esc;
	int err;          /* sticky: the stream is broken */
	size_t max;
};
void etcd_stream_init(struct etcd_stream *st, size_t max);
void etcd_stream_done(struct etcd_stream *st);
void etcd_stream_reset(struct etcd_stream *st);
int etcd_stream_feed(struct etcd_stream *st, const void *data, size_t len);
/* 1 and the object (borrowed until the next call) when one is complete; 0 when more bytes are
 * needed; -EBADMSG / -EFBIG when the stream is broken (it stays broken until reset). */
int etcd_stream_next(struct etcd_stream *st, const char **ret_msg, size_t *ret_len);
