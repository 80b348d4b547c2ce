/* lib/base64: the RFC 4648 test vectors both ways, binary round trips, and the strict decoder
 * refusing everything that is not the one canonical encoding (the file store's database and etcd
 * replies pass through it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

/* RFC 4648 section 10. */
static const struct {
	const char *plain, *encoded;
} vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_rfc4648_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *enc;
		void *dec;
		size_t len;

		assert_int_equal(base64_encode(vectors[i].plain, strlen(vectors[i].plain), &enc), 0);
		assert_string_equal(enc, vectors[i].encoded);
		free(enc);
		assert_int_equal(base64_decode(vectors[i].encoded, strlen(vectors[i].encoded), &dec, &len), 0);
		assert_int_equal(len, strlen(vectors[i].plain));
		assert_memory_equal(dec, vectors[i].plain, len);
		assert_int_equal(((char *)dec)[len], '\0');   /* NUL-terminated for convenience */
		free(dec);
	}
}

static void test_binary_round_trip(void **state)
{
	unsigned char all[256 + 2];
	char *enc;
	void *dec;
	size_t len;

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(i * 7 + 3);
	/* Every length mod 3, every byte value, NULs included. */
	for (size_t n = 0; n <= sizeof(all); n++) {
		assert_int_equal(base64_encode(all, n, &enc), 0);
		assert_int_equal(strlen(enc), (n + 2) / 3 * 4);
		assert_int_equal(base64_decode(enc, strlen(enc), &dec, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(dec, all, n);
		free(enc);
		free(dec);
	}
	/* Both non-letter characters of the alphabet. */
	assert_int_equal(base64_encode("\xfb\xff\xbf", 3, &enc), 0);
	assert_string_equal(enc, "+/+/");
	free(enc);
	/* etcd's shape: a key with a prefix, as its gateway expects it. */
	assert_int_equal(base64_encode("/shoal/config", 13, &enc), 0);
	assert_string_equal(enc, "L3Nob2FsL2NvbmZpZw==");
	free(enc);
}

static void test_decode_only_len_bytes(void **state)
{
	void *dec;
	size_t len;

	/* The input need not end at len: JSON strings are decoded in place. */
	assert_int_equal(base64_decode("Zm9vYmFy\"}", 4, &dec, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(dec, "foo", 3);
	free(dec);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"Z", "Zg", "Zg=", "Zm9vY",            /* length not a multiple of 4 */
		"Zg=\n", "Zm9v\n", " Zm9v", "Zm 9",   /* whitespace and line breaks */
		"Zm9-", "Zm9_",                       /* the URL-safe alphabet is another encoding */
		"Zm9\x80", "Zm9*", "====", "=Zm9",    /* not in the alphabet, padding first */
		"Z===", "Zg=v", "Zm=v",               /* too much padding, padding in the middle */
		"Zg==Zm9v", "Zm8=Zm9v",               /* padding before the last quantum */
		"Zh==", "Zm9=",                       /* non-zero bits under the padding (RFC 4648 3.5) */
		"QR==", "Zm9vYh==",
	};
	void *dec = (void *)0x1;
	size_t len = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (base64_decode(bad[i], strlen(bad[i]), &dec, &len) != -EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* A NUL inside the given length is a bad character, not the end. */
	assert_int_equal(base64_decode("Zm\0v", 4, &dec, &len), -EBADMSG);
	/* Outputs untouched on failure. */
	assert_ptr_equal(dec, (void *)0x1);
	assert_int_equal(len, 77);
	/* The canonical neighbours of the rejected ones are fine. */
	assert_int_equal(base64_decode("QQ==", 4, &dec, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(dec, "A", 1);
	free(dec);
}

static void test_encode_overflow(void **state)
{
	char *enc = NULL;

	assert_int_equal(base64_encode("", SIZE_MAX / 4 * 3, &enc), -EOVERFLOW);
	assert_null(enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_decode_only_len_bytes),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_encode_overflow),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
