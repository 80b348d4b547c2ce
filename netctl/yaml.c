#include "netctl/yaml.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define NETCTL_YAML_INDENT 2
/* YAML allows an implicit key (`key: value`) of at most 1024 characters; a longer one needs the
 * explicit form (`? key` / `: value`).  Stay well below the limit: the quotes and escapes count. */
#define NETCTL_YAML_MAX_IMPLICIT_KEY 512

/* Words a YAML 1.1 reader (PyYAML, go-yaml v2, Ruby) or a 1.2 reader types instead of keeping as
 * strings, compared without case: null, booleans (1.1 has y/n/yes/no/on/off), the merge and
 * value keys. */
static const char *const netctl_yaml_words[] = {
	"~", "null", "y", "n", "yes", "no", "true", "false", "on", "off", "<<", "=",
};

static bool netctl_yaml_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A string that starts with a digit may be an integer (decimal, 0x, 0o, 0b, YAML 1.1's 0777 and
 * 1:20 sexagesimal), a float (1.5, 1e3) or a 1.1 timestamp (2001-12-14).  None of those contains
 * '/', and none has two dots with only digits around them, so CIDRs, IPv4 addresses and versions
 * may stay plain; everything else that starts with a digit is quoted. */
static bool netctl_yaml_digit_ok(const char *s, size_t len)
{
	size_t dots = 0;

	if (memchr(s, '/', len))
		return true;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (!netctl_yaml_is_digit(s[i]))
			return false;
	}
	return dots >= 2;
}

bool netctl_yaml_plain_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	/* Indicators that start other syntax; '.' and '+' start .inf, .nan, .5, +1, and "..." ends a
	 * document; '-' starts "- " items, "---" and negative numbers. */
	if (strchr("-?:,[]{}#&*!|>'\"%@`.+<= ~", s[0]))
		return false;
	if (s[len - 1] == ' ' || s[len - 1] == ':')
		return false;
	/* ": " ends a key and " #" starts a comment; '#' is quoted anywhere, which costs nothing. */
	if (memchr(s, '#', len))
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == ':' && s[i + 1] == ' ')
			return false;
	for (size_t i = 0; i < sizeof(netctl_yaml_words) / sizeof(netctl_yaml_words[0]); i++)
		if (strlen(netctl_yaml_words[i]) == len && strncasecmp(s, netctl_yaml_words[i], len) == 0)
			return false;
	if (netctl_yaml_is_digit(s[0]))
		return netctl_yaml_digit_ok(s, len);
	/* An exponent alone: the YAML 1.1 schema of the JavaScript yaml package reads "e4" and "E+5"
	 * as (not-a-)numbers.  Not what the spec says, but readers are what count. */
	if (s[0] == 'e' || s[0] == 'E') {
		size_t i = len > 1 && (s[1] == '+' || s[1] == '-') ? 2 : 1;

		if (i < len && strspn(s + i, "0123456789") == len - i)
			return false;
	}
	return true;
}

/* The length of the UTF-8 sequence at s and its code point.  jansson only holds valid UTF-8; a
 * bad byte is still handled (as itself) so this never reads past len. */
static size_t netctl_yaml_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		*cp = s[0];
		return 1;
	}
	if (n > len)
		n = len;
	for (size_t i = 1; i < n; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return n;
}

/* A double-quoted scalar.  Escaped: '"', '\\', every C0 and C1 control, DEL, and the characters a
 * YAML 1.1 reader takes for line breaks (U+0085, U+2028, U+2029) or that it refuses (U+FEFF,
 * U+FFFE, U+FFFF).  Other UTF-8 is copied as it is. */
static void netctl_yaml_quoted(const char *str, size_t len, FILE *out)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = netctl_yaml_utf8(s + i, len - i, &cp);

		switch (cp) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		case 0: fputs("\\0", out); break;
		default:
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
			    cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
				fprintf(out, "\\u%04X", (unsigned)cp);
			else
				fwrite(s + i, 1, n, out);
			break;
		}
		i += n;
	}
	fputc('"', out);
}

static void netctl_yaml_string(const char *s, size_t len, FILE *out)
{
	if (netctl_yaml_plain_ok(s, len))
		fwrite(s, 1, len, out);
	else
		netctl_yaml_quoted(s, len, out);
}

/* A real as YAML reads a float: "%.17g" as jansson prints JSON, plus ".0" where it would look like
 * an integer (1.0 prints as 1); before an exponent too, because YAML 1.1 needs the dot (1.0e+20). */
static void netctl_yaml_real(double d, FILE *out)
{
	char buf[64], *e;

	snprintf(buf, sizeof(buf), "%.17g", d);
	if (strchr(buf, '.') || strstr(buf, "inf") || strstr(buf, "nan")) {
		fputs(buf, out);
		return;
	}
	e = strchr(buf, 'e');
	if (e) {
		fprintf(out, "%.*s.0%s", (int)(e - buf), buf, e);
		return;
	}
	fprintf(out, "%s.0", buf);
}

static bool netctl_yaml_is_collection(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

/* A scalar or an empty collection, on the current line. */
static void netctl_yaml_scalar(const json_t *v, FILE *out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		netctl_yaml_string(json_string_value(v), json_string_length(v), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		netctl_yaml_real(json_real_value(v), out);
		break;
	case JSON_TRUE:
		fputs("true", out);
		break;
	case JSON_FALSE:
		fputs("false", out);
		break;
	case JSON_NULL:
		fputs("null", out);
		break;
	case JSON_OBJECT:
		fputs("{}", out);
		break;
	case JSON_ARRAY:
		fputs("[]", out);
		break;
	}
}

static void netctl_yaml_pad(int indent, FILE *out)
{
	fprintf(out, "%*s", indent, "");
}

static void netctl_yaml_mapping(const json_t *obj, int indent, bool inline_first, FILE *out);
static void netctl_yaml_sequence(const json_t *arr, int indent, bool inline_first, FILE *out);

/* What follows "key:" or "- ": a scalar on the same line, a collection on the lines below (after
 * a key) or starting on the same line (after "- "). */
static void netctl_yaml_value(const json_t *v, int indent, bool after_dash, FILE *out)
{
	if (!netctl_yaml_is_collection(v)) {
		fputc(' ', out);
		netctl_yaml_scalar(v, out);
		fputc('\n', out);
		return;
	}
	if (after_dash) {
		fputc(' ', out);
	} else {
		fputc('\n', out);
		indent += NETCTL_YAML_INDENT;
	}
	if (json_is_object(v))
		netctl_yaml_mapping(v, indent, after_dash, out);
	else
		netctl_yaml_sequence(v, indent, after_dash, out);
}

/* inline_first: the first key goes on the current line (after "- "), not on a new one. */
static void netctl_yaml_mapping(const json_t *obj, int indent, bool inline_first, FILE *out)
{
	const char *key;
	json_t *v;
	bool first = true;

	json_object_foreach((json_t *)obj, key, v) {
		size_t klen = strlen(key);

		if (!first || !inline_first)
			netctl_yaml_pad(indent, out);
		first = false;
		if (klen > NETCTL_YAML_MAX_IMPLICIT_KEY) {
			fputs("? ", out);
			netctl_yaml_quoted(key, klen, out);
			fputc('\n', out);
			netctl_yaml_pad(indent, out);
		} else {
			netctl_yaml_string(key, klen, out);
		}
		fputc(':', out);
		netctl_yaml_value(v, indent, false, out);
	}
}

static void netctl_yaml_sequence(const json_t *arr, int indent, bool inline_first, FILE *out)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (i > 0 || !inline_first)
			netctl_yaml_pad(indent, out);
		fputc('-', out);
		netctl_yaml_value(v, indent + NETCTL_YAML_INDENT, true, out);
	}
}

int netctl_yaml_dump(const json_t *value, FILE *out)
{
	if (!value)
		return -EINVAL;
	if (json_is_object(value) && json_object_size(value) > 0)
		netctl_yaml_mapping(value, 0, false, out);
	else if (json_is_array(value) && json_array_size(value) > 0)
		netctl_yaml_sequence(value, 0, false, out);
	else {
		netctl_yaml_scalar(value, out);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
