/* store/http_response: the framing of the etcd client's responses as etcd 3.4's gateway (Go's
 * net/http) sends them: Content-Length, chunked (the watch stream), up to the end of the
 * connection, keep-alive or not, 1xx skipped; fed whole and byte by byte; the ways a response
 * can be wrong.  No network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/http_response.h"

#define RANGE_REPLY "{\"header\":{\"revision\":\"5\"},\"count\":\"0\"}"

static const char ok_len[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nGrpc-Metadata-Content-Type: application/grpc\r\n"
	"Date: Wed, 02 Dec 2026 14:00:00 GMT\r\nContent-Length: 39\r\n\r\n" RANGE_REPLY;

/* Feed text in pieces of step bytes (0: all at once). */
static int feed(struct http_response *r, const char *text, size_t len, size_t step)
{
	size_t off = 0;
	int e = 0;

	if (step == 0)
		step = len;
	while (off < len && e == 0) {
		size_t n = len - off < step ? len - off : step;

		e = http_response_feed(r, text + off, n);
		off += n;
	}
	return e;
}

static void test_content_length(void **state)
{
	for (size_t step = 0; step <= 3; step++) {
		struct http_response r;

		http_response_init(&r, 1024, NULL, NULL);
		assert_int_equal(feed(&r, ok_len, sizeof(ok_len) - 1, step), 0);
		assert_true(r.complete);
		assert_true(r.keep_alive);
		assert_false(r.trailing);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.len, strlen(RANGE_REPLY));
		assert_string_equal(r.body, RANGE_REPLY);
		http_response_done(&r);
	}
}

static void test_not_yet_complete(void **state)
{
	struct http_response r;

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, ok_len, sizeof(ok_len) - 2, 0), 0);
	assert_false(r.complete);
	assert_int_equal(r.status, 200);
	/* Cut short: the connection ended one byte early. */
	assert_int_equal(http_response_eof(&r), -ECONNRESET);
	http_response_done(&r);

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(http_response_eof(&r), -ECONNRESET);
	assert_int_equal(r.fed, 0);
	http_response_done(&r);
}

static void test_error_status_and_close(void **state)
{
	static const char text[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
	struct http_response r;

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, text, sizeof(text) - 1, 1), 0);
	assert_true(r.complete);
	assert_false(r.keep_alive);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{}");
	assert_int_equal(http_response_eof(&r), 0);
	http_response_done(&r);
}

static void test_http10_and_eof_body(void **state)
{
	static const char text[] = "HTTP/1.0 200 OK\r\n\r\nall of it";
	struct http_response r;

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, text, sizeof(text) - 1, 0), 0);
	assert_false(r.complete);
	/* The body ends with the connection. */
	assert_int_equal(http_response_eof(&r), 0);
	assert_true(r.complete);
	assert_false(r.keep_alive);
	assert_string_equal(r.body, "all of it");
	http_response_done(&r);
}

struct sink {
	char buf[256];
	size_t len;
	int fail;
};

static int sink_cb(void *userdata, const char *data, size_t len)
{
	struct sink *s = userdata;

	if (s->fail)
		return s->fail;
	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* The watch: a chunked stream, one message per chunk (or several, or split), until etcd ends it. */
static void test_chunked_stream(void **state)
{
	static const char text[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		"c\r\n{\"result\":1}\r\n"
		"6\r\n{\"resu\r\n"
		"6;ext=1\r\nlt\":2}\r\n"
		"0\r\n\r\n";
	for (size_t step = 0; step <= 2; step++) {
		struct sink s = { .len = 0 };
		struct http_response r;

		http_response_init(&r, 4, sink_cb, &s);   /* max_body is for kept bodies only */
		assert_int_equal(feed(&r, text, sizeof(text) - 1, step), 0);
		assert_true(r.complete);
		assert_true(r.keep_alive);
		assert_null(r.body);
		s.buf[s.len] = '\0';
		assert_string_equal(s.buf, "{\"result\":1}{\"result\":2}");
		http_response_done(&r);
	}
}

static void test_sink_error_stops(void **state)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
	struct sink s = { .fail = -EBADMSG };
	struct http_response r;

	http_response_init(&r, 1024, sink_cb, &s);
	assert_int_equal(feed(&r, text, sizeof(text) - 1, 0), -EBADMSG);
	/* It stays failed. */
	assert_int_equal(http_response_feed(&r, "x", 1), -EBADMSG);
	assert_int_equal(http_response_eof(&r), -EBADMSG);
	http_response_done(&r);
}

static void test_body_limit(void **state)
{
	struct http_response r;

	http_response_init(&r, 38, NULL, NULL);
	assert_int_equal(feed(&r, ok_len, sizeof(ok_len) - 1, 0), -EFBIG);
	http_response_done(&r);
	http_response_init(&r, 39, NULL, NULL);
	assert_int_equal(feed(&r, ok_len, sizeof(ok_len) - 1, 7), 0);
	assert_true(r.complete);
	http_response_done(&r);
}

static void test_continue_skipped(void **state)
{
	static const char text[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
	struct http_response r;

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, text, sizeof(text) - 1, 0), 0);
	assert_true(r.complete);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	http_response_done(&r);
}

/* Bytes after the response: nobody asked for them, so the connection is not reused. */
static void test_trailing(void **state)
{
	char text[sizeof(ok_len) + 8];
	struct http_response r;

	snprintf(text, sizeof(text), "%sHTTP/1.", ok_len);
	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, text, strlen(text), 0), 0);
	assert_true(r.complete);
	assert_true(r.trailing);
	http_response_done(&r);

	http_response_init(&r, 1024, NULL, NULL);
	assert_int_equal(feed(&r, ok_len, sizeof(ok_len) - 1, 0), 0);
	assert_false(r.trailing);
	assert_int_equal(http_response_feed(&r, "x", 1), 0);
	assert_true(r.trailing);
	http_response_done(&r);
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH_9.2\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_response r;

		http_response_init(&r, 1024, NULL, NULL);
		assert_int_equal(feed(&r, bad[i], strlen(bad[i]), 0), -EBADMSG);
		assert_false(r.complete);
		http_response_done(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_not_yet_complete),
		cmocka_unit_test(test_error_status_and_close),
		cmocka_unit_test(test_http10_and_eof_body),
		cmocka_unit_test(test_chunked_stream),
		cmocka_unit_test(test_sink_error_stops),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_continue_skipped),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
