/* The etcd gateway codec on arbitrary bytes: the stream splitter (fed in two pieces at a place
 * the input chooses) and every reply parser on every message it yields, and on the whole input.
 * Nothing may crash or leak; what a parser accepts must hold what the backend relies on: keys
 * relative to the prefix and within STORE_KEY_MAX, values NUL-terminated, revisions >= 0 and
 * watch events in revision order. */
// SOURCES: store/etcd_codec.c store/store.c store/store_file.c store/store_file_db.c store/store_file_codec.c lib/base64.c lib/fileio.c lib/log.c
// PKGS: jansson libuv
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "/shoal/"

static void check_kv(const struct store_kv *kv)
{
	if (!kv->key || !*kv->key || strlen(kv->key) > STORE_KEY_MAX || !kv->value || kv->value[kv->value_len] != '\0' ||
	    kv->create_rev < 0 || kv->mod_rev < 0 || kv->lease < 0)
		abort();
}

static void parse_all(const char *msg, size_t len)
{
	struct store_kvs kvs;
	struct etcd_watch_msg m;
	char text[ETCD_ERRMSG_MAX];
	bool ok, exists;
	int64_t rev, id, ttl;
	int code;

	if (etcd_codec_parse_range(msg, len, PREFIX, &kvs) == 0) {
		for (size_t i = 0; i < kvs.n; i++)
			check_kv(&kvs.kvs[i]);
		if (kvs.revision < 0)
			abort();
		store_kvs_done(&kvs);
	}
	if (etcd_codec_parse_put(msg, len, &ok, &rev) == 0 && rev <= 0)
		abort();
	if (etcd_codec_parse_delete(msg, len, &ok, &rev, &exists) == 0 && rev <= 0)
		abort();
	if (etcd_codec_parse_lease(msg, len, &id, &ttl) == 0 && (id < 0 || ttl < 0))
		abort();
	/* A lease's time to live: never negative once accepted (etcd's -1 means unknown: -ENOENT). */
	if (etcd_codec_parse_lease_ttl(msg, len, &id, &ttl) == 0 && (id < 0 || ttl < 0))
		abort();
	if (etcd_codec_parse_error(msg, len, &code, text) == 0) {
		if (code <= 0 || strlen(text) >= ETCD_ERRMSG_MAX)
			abort();
		(void)etcd_codec_errno(code, text);
	}
	if (etcd_codec_parse_watch(msg, len, PREFIX, &m) == 0) {
		for (size_t i = 0; i < m.n_events; i++) {
			check_kv(&m.events[i].kv);
			if (m.events[i].kv.mod_rev <= 0 || (i > 0 && m.events[i].kv.mod_rev < m.events[i - 1].kv.mod_rev))
				abort();
		}
		etcd_watch_msg_done(&m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_stream st;
	const char *msg;
	size_t len, cut;
	int r;

	if (size < 1)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	parse_all((const char *)data, size);
	etcd_stream_init(&st, 1u << 16);
	for (int part = 0; part < 2; part++) {
		const uint8_t *p = part ? data + cut : data;
		size_t n = part ? size - cut : cut;

		if (etcd_stream_feed(&st, p, n) < 0)
			break;
		while ((r = etcd_stream_next(&st, &msg, &len)) == 1) {
			if (len < 2 || msg[0] != '{')
				abort();
			parse_all(msg, len);
		}
		if (r < 0)
			break;
	}
	etcd_stream_done(&st);
	return 0;
}
