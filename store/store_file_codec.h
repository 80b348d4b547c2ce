/* The file store's database file format (DIR/store.json), see store_file_codec.c and docs/store.md.
 * Parsing validates everything (syntax, UTF-8, types, revision ordering, lease references, through
 * store_file_db_check); garbage is -EBADMSG.  Fuzzed by tests/fuzz/fuzz_store_db.c. */
#pragma once
#include "store/store_file_db.h"

int store_file_codec_parse(const char *data, size_t len, struct store_file_db **ret);
int store_file_codec_dump(const struct store_file_db *db, char **ret_data, size_t *ret_len);
