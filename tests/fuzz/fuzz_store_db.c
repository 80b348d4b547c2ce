/* The file store's database parser on arbitrary bytes: it must not crash, must reject garbage,
 * and whatever it accepts must dump to JSON that jansson reads and that parses back to the same
 * dump (a stable round trip). */
// SOURCES: store/store_file_codec.c store/store_file_db.c store/store_file.c store/store.c lib/base64.c lib/fileio.c lib/log.c
// PKGS: jansson libuv
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_file_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_file_db *db, *db2;
	char *out, *out2;
	size_t len, len2;
	json_t *j;

	if (store_file_codec_parse((const char *)data, size, &db) < 0)
		return 0;
	if (store_file_codec_dump(db, &out, &len) < 0)
		abort();
	j = json_loadb(out, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		abort();
	json_decref(j);
	if (store_file_codec_parse(out, len, &db2) < 0)
		abort();
	if (store_file_codec_dump(db2, &out2, &len2) < 0)
		abort();
	if (len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	store_file_db_free(db);
	store_file_db_free(db2);
	return 0;
}
