#include "lib/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *in, size_t len, char **ret)
{
	const unsigned char *p = in;
	char *out, *o;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
		return -EOVERFLOW;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return -ENOMEM;
	o = out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = base64_alphabet[v >> 18 & 63];
		*o++ = base64_alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? base64_alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? base64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	*ret = out;
	return 0;
}

/* The 6-bit value of an alphabet character, -1 for anything else ('=' and NUL included). */
static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, void **ret, size_t *ret_len)
{
	unsigned char *out;
	size_t n = 0;

	if (len % 4)
		return -EBADMSG;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int a = base64_value(in[i]), b = base64_value(in[i + 1]);
		int c = base64_value(in[i + 2]), d = base64_value(in[i + 3]);
		bool last = i + 4 == len;

		if (a < 0 || b < 0)
			goto bad;
		/* "xx==" and "xxx=" only in the last quantum; "xx=y" is no padding. */
		if (c < 0 && !(last && in[i + 2] == '=' && in[i + 3] == '='))
			goto bad;
		if (d < 0 && !(last && in[i + 3] == '='))
			goto bad;
		/* RFC 4648 3.5: the bits below the last byte must be zero, else "QQ==" and "QR==" would
		 * both decode to "A". */
		if ((c < 0 && (b & 15)) || (c >= 0 && d < 0 && (c & 3)))
			goto bad;
		out[n++] = (unsigned char)(a << 2 | b >> 4);
		if (c >= 0)
			out[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
		if (d >= 0)
			out[n++] = (unsigned char)((c & 3) << 6 | d);
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
bad:
	free(out);
	return -EBADMSG;
}
