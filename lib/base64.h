/* base64 as RFC 4648 section 4 defines it: the standard alphabet (A-Z a-z 0-9 + /) with '='
 * padding.  The file store writes keys and values that are not UTF-8 this way, and etcd's JSON
 * gateway carries every key and value this way. */
#pragma once
#include <stddef.h>

/* Encode len bytes into a malloc'ed, NUL-terminated string.  -ENOMEM, or -EOVERFLOW when the
 * encoded size does not fit a size_t. */
int base64_encode(const void *in, size_t len, char **ret);
/* Decode exactly len characters (in need not be NUL-terminated).  Strict: the length must be a
 * multiple of 4, every character from the alphabet, '=' only as the last one or two characters,
 * and the bits the padding drops must be zero (so every byte string has exactly one encoding and
 * no two inputs decode alike).  No whitespace or line breaks.  Anything else is -EBADMSG.
 * *ret is malloc'ed with one NUL byte after the *ret_len decoded bytes. */
int base64_decode(const char *in, size_t len, void **ret, size_t *ret_len);
