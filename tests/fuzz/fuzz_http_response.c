/* The etcd client's HTTP response framing (store/http_response.c around libhttp-parser) on
 * arbitrary bytes, fed in two pieces at a place the input chooses, kept and streamed, then the end
 * of the connection.  Nothing may crash or leak; a kept body stays within its limit and is
 * NUL-terminated; a complete response has a status of at least 200. */
// SOURCES: store/http_response.c
// LIBS: -lhttp_parser
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_BODY 4096

static int count_cb(void *userdata, const char *d, size_t len)
{
	size_t *n = userdata;

	if (len == 0 || !d)
		abort();
	*n += len;
	return *n > 1u << 20 ? -1 : 0;
}

static void check(const struct http_response *r)
{
	if (r->len > FUZZ_MAX_BODY || (r->body && r->body[r->len] != '\0') || (!r->body && r->len))
		abort();
	if (r->complete && (r->status < 200 || r->status > 999))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut, streamed = 0;
	struct http_response r;

	if (size < 1)
		return 0;
	cut = data[0] % (size);
	data++;
	size--;
	if (cut > size)
		cut = size;
	for (int stream = 0; stream < 2; stream++) {
		http_response_init(&r, FUZZ_MAX_BODY, stream ? count_cb : NULL, &streamed);
		if (http_response_feed(&r, (const char *)data, cut) == 0)
			http_response_feed(&r, (const char *)data + cut, size - cut);
		check(&r);
		http_response_eof(&r);
		check(&r);
		http_response_done(&r);
	}
	return 0;
}
