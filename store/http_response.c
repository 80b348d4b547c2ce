/* HTTP/1.1 response framing around libhttp-parser (store/http_response.h). */
#include "store/http_response.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int resp_on_headers_complete(http_parser *p)
{
	struct http_response *r = p->data;

	/* http-parser takes any one to three digits; HTTP's codes are 100..999. */
	if (p->status_code < 100) {
		r->err = -EBADMSG;
		return -1;
	}
	r->status = p->status_code;
	return 0;
}

static int resp_keep(struct http_response *r, const char *data, size_t len)
{
	if (len > r->max_body || r->len > r->max_body - len)
		return -EFBIG;
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *d;

		while (cap < r->len + len + 1)
			cap *= 2;
		d = realloc(r->body, cap);
		if (!d)
			return -ENOMEM;
		r->body = d;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return 0;
}

static int resp_on_body(http_parser *p, const char *data, size_t len)
{
	struct http_response *r = p->data;
	int e;

	/* A 1xx carries no body; http-parser never calls this for one. */
	e = r->body_cb ? r->body_cb(r->userdata, data, len) : resp_keep(r, data, len);
	if (e < 0) {
		r->err = e;
		return -1;
	}
	return 0;
}

static int resp_on_message_complete(http_parser *p)
{
	struct http_response *r = p->data;

	if (p->status_code >= 100 && p->status_code < 200) {
		/* 100 Continue and friends: the real response follows on the same connection. */
		r->status = 0;
		return 0;
	}
	r->complete = true;
	r->keep_alive = http_should_keep_alive(p);
	/* Stop here: whatever follows is not ours. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings resp_settings = {
	.on_headers_complete = resp_on_headers_complete,
	.on_body = resp_on_body,
	.on_message_complete = resp_on_message_complete,
};

void http_response_init(struct http_response *r, size_t max_body, http_response_body_cb body_cb, void *userdata)
{
	*r = (struct http_response){ .max_body = max_body, .body_cb = body_cb, .userdata = userdata };
	http_parser_init(&r->parser, HTTP_RESPONSE);
	r->parser.data = r;
}

void http_response_done(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

int http_response_feed(struct http_response *r, const char *data, size_t len)
{
	size_t n;

	if (r->err)
		return r->err;
	if (len == 0)
		return 0;   /* http-parser would take an empty buffer for the end of the connection */
	if (r->complete) {
		r->trailing = true;
		return 0;
	}
	r->fed += len;
	n = http_parser_execute(&r->parser, &resp_settings, data, len);
	if (r->err)
		return r->err;
	if (HTTP_PARSER_ERRNO(&r->parser) == HPE_PAUSED) {
		r->trailing = n < len;
		return 0;
	}
	if (HTTP_PARSER_ERRNO(&r->parser) != HPE_OK || n != len) {
		r->err = -EBADMSG;
		return r->err;
	}
	return 0;
}

int http_response_eof(struct http_response *r)
{
	if (r->complete)
		return 0;
	if (r->err)
		return r->err;
	if (r->fed == 0)
		return -ECONNRESET;
	/* http-parser's way of saying "the connection ended": a zero-length buffer. */
	http_parser_execute(&r->parser, &resp_settings, NULL, 0);
	if (r->err)
		return r->err;
	return r->complete ? 0 : -ECONNRESET;
}
