/* One HTTP/1.1 response read off a connection: status, framing (Content-Length, chunked, or up to
 * the end of the connection) and whether the connection may carry another request.  Pure: bytes
 * in, callbacks and fields out, no I/O.  The parsing itself is Debian's libhttp-parser (nodejs'
 * http-parser 2.9, libhttp-parser2.9); this is the glue around it that store/http_client.c
 * uses, unit-tested (tests/unit/test_http_response.c) and fuzzed (tests/fuzz/fuzz_http_response.c).
 *
 * Informational (1xx) responses are skipped.  The body goes to a callback as it arrives (a
 * stream), or is kept whole, NUL-terminated, up to a limit. */
#pragma once
#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

/* A piece of the body; a negative return stops the parse with that error. */
typedef int (*http_response_body_cb)(void *userdata, const char *data, size_t len);

struct http_response {
	http_parser parser;
	size_t max_body;                 /* kept body: larger is -EFBIG */
	http_response_body_cb body_cb;   /* NULL: the body is kept in body/len */
	void *userdata;
	int status;                      /* once the headers are in; 0 before */
	bool complete;                   /* the whole response is in */
	bool keep_alive;                 /* once complete: the connection may be reused */
	bool trailing;                   /* bytes followed the response (nobody asked for them) */
	size_t fed;                      /* bytes fed so far */
	char *body;                      /* kept body, NUL-terminated (NULL while empty) */
	size_t len, cap;
	int err;                         /* a callback's own failure */
};

void http_response_init(struct http_response *r, size_t max_body, http_response_body_cb body_cb, void *userdata);
void http_response_done(struct http_response *r);
/* Parse len more bytes.  0: fine (r->complete says whether the response is whole); -EBADMSG: not
 * HTTP; -EFBIG: the kept body would exceed max_body; or the body callback's error. */
int http_response_feed(struct http_response *r, const char *data, size_t len);
/* The peer closed the connection.  0 when that completed the response (a body delimited by the
 * end of the connection), or it was complete already; -ECONNRESET when it was cut short
 * (r->fed says whether anything had arrived). */
int http_response_eof(struct http_response *r);
