/* The file store's database file, DIR/store.json: a strict JSON reader for exactly our format, and
 * the writer.  One row per line, so the file greps and diffs well; jq and jansson read it.
 *
 * Not jansson: building its object model costs about 7 ms for a database of 300 keys plus the
 * event log, and every process re-reads the file after another one wrote it.  This reader fills
 * the database directly (5-10x faster) and accepts only well-formed UTF-8 JSON of our structure;
 * members it does not know are skipped (newer writers).  Keys and values that are not UTF-8 are
 * stored as base64 (key_b64, value_b64).  tests/fuzz/fuzz_store_db.c checks that whatever parses
 * dumps to JSON jansson accepts and parses back to the same bytes. */
#include "store/store_file_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

#define FILE_DB_FORMAT 1

#define FILE_RD_DEPTH 16

struct file_rd {
	const char *p, *end;
	unsigned depth;
};

#define FILE_ONES  0x0101010101010101ull
#define FILE_HIGHS 0x8080808080808080ull

/* First byte at or after p that a JSON string cannot hold as is ('"', '\\', controls), eight bytes
 * at a time: the file is mostly such plain runs. */
static const char *file_plain_run(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t x, q, b;

		memcpy(&x, p, 8);
		q = x ^ (FILE_ONES * '"');
		b = x ^ (FILE_ONES * '\\');
		if ((((x - FILE_ONES * 0x20) & ~x) | ((q - FILE_ONES) & ~q) | ((b - FILE_ONES) & ~b)) & FILE_HIGHS)
			break;
		p += 8;
	}
	while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

static bool file_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp, min;
		size_t len;

		if (n - i >= 8) {
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (!(x & FILE_HIGHS)) {
				i += 8;
				continue;
			}
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return false;
		i += len;
	}
	return true;
}

static int file_rd_peek(struct file_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
	return r->p < r->end ? (unsigned char)*r->p : -1;
}

static int file_rd_eat(struct file_rd *r, char c)
{
	if (file_rd_peek(r) != (unsigned char)c)
		return -EBADMSG;
	r->p++;
	return 0;
}

static int file_hex4(const char *p, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

static char *file_utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* Decode the raw string s..q (between its quotes) into out, which has room for q - s + 1 bytes:
 * escapes only ever shrink. */
static int file_unescape(const char *s, const char *q, char *out, size_t *ret_len)
{
	char *o = out;

	for (const char *p = s; p < q;) {
		const char *run = file_plain_run(p, q);
		uint32_t cp, lo;

		memcpy(o, p, (size_t)(run - p));
		o += run - p;
		p = run;
		if (p == q)
			break;
		if (*p != '\\')
			return -EBADMSG;   /* a control character */
		p++;
		switch (p < q ? *p++ : 0) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (q - p < 4 || file_hex4(p, &cp) < 0)
				return -EBADMSG;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (q - p < 6 || p[0] != '\\' || p[1] != 'u' || file_hex4(p + 2, &lo) < 0 ||
				    lo < 0xdc00 || lo >= 0xe000)
					return -EBADMSG;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return -EBADMSG;
			}
			o = file_utf8_put(o, cp);
			break;
		default:
			return -EBADMSG;
		}
	}
	*o = '\0';
	*ret_len = (size_t)(o - out);
	return 0;
}

/* Find the string at r (its raw bytes s..q between the quotes) and step over it. */
static int file_rd_raw(struct file_rd *r, const char **ret_s, const char **ret_q)
{
	const char *s, *q;

	if (file_rd_eat(r, '"') < 0)
		return -EBADMSG;
	s = q = r->p;
	for (;;) {
		size_t bs = 0;

		q = memchr(q, '"', (size_t)(r->end - q));
		if (!q)
			return -EBADMSG;
		/* Escaped by an odd number of backslashes? */
		while (q - bs > s && q[-1 - (ptrdiff_t)bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			break;
		q++;
	}
	r->p = q + 1;
	*ret_s = s;
	*ret_q = q;
	return 0;
}

/* A string, decoded into *ret (malloc'ed, NUL-terminated, may hold NULs). */
static int file_rd_string(struct file_rd *r, char **ret, size_t *ret_len)
{
	const char *s, *q;
	char *out;
	int e;

	e = file_rd_raw(r, &s, &q);
	if (e < 0)
		return e;
	out = malloc((size_t)(q - s) + 1);
	if (!out)
		return -ENOMEM;
	e = file_unescape(s, q, out, ret_len);
	if (e < 0) {
		free(out);
		return e;
	}
	*ret = out;
	return 0;
}

#define FILE_NAME_MAX 24

/* Iterate the members of an object: 1 with the member's name, 0 at the closing brace.  Names
 * too long for the buffer come back empty (no field of ours). */
static int file_rd_member(struct file_rd *r, bool *first, char name[FILE_NAME_MAX])
{
	const char *s, *q;
	size_t len;
	int c, e;

	if (*first) {
		*first = false;
		if (file_rd_eat(r, '{') < 0)
			return -EBADMSG;
		if (file_rd_peek(r) == '}') {
			r->p++;
			return 0;
		}
	} else {
		c = file_rd_peek(r);
		if (c == '}') {
			r->p++;
			return 0;
		}
		if (c != ',')
			return -EBADMSG;
		r->p++;
	}
	e = file_rd_raw(r, &s, &q);
	if (e < 0)
		return e;
	if (q - s < FILE_NAME_MAX) {
		e = file_unescape(s, q, name, &len);
		if (e == 0 && memchr(name, '\0', len))
			name[0] = '\0';
	} else {
		char *tmp = NULL;

		e = file_rd_string(&(struct file_rd){ .p = s - 1, .end = q + 1 }, &tmp, &len);
		free(tmp);
		name[0] = '\0';
	}
	if (e < 0)
		return e;
	if (file_rd_eat(r, ':') < 0)
		return -EBADMSG;
	return 1;
}

static int file_rd_int(struct file_rd *r, int64_t *ret)
{
	bool neg = false;
	uint64_t v = 0;

	if (file_rd_peek(r) == '-') {
		neg = true;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return -EBADMSG;
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
		return -EBADMSG;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		uint64_t d = (uint64_t)(*r->p++ - '0');

		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	/* Fractions and exponents are no integers. */
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return -EBADMSG;
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Iterate the elements of an array: 1 when an element follows, 0 at the closing bracket. */
static int file_rd_element(struct file_rd *r, bool *first)
{
	int c;

	if (*first) {
		*first = false;
		if (file_rd_eat(r, '[') < 0)
			return -EBADMSG;
		if (file_rd_peek(r) == ']') {
			r->p++;
			return 0;
		}
		return 1;
	}
	c = file_rd_peek(r);
	if (c == ']') {
		r->p++;
		return 0;
	}
	if (c != ',')
		return -EBADMSG;
	r->p++;
	return 1;
}

static int file_rd_literal(struct file_rd *r, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return -EBADMSG;
	r->p += n;
	return 0;
}

static int file_rd_skip_number(struct file_rd *r)
{
	const char *p = r->p;

	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end || *p < '0' || *p > '9')
		return -EBADMSG;
	if (*p == '0')
		p++;
	else
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	if (p < r->end && *p == '.') {
		p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return -EBADMSG;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return -EBADMSG;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	r->p = p;
	return 0;
}

/* Skip any value (members we do not know, for newer writers). */
static int file_rd_skip(struct file_rd *r)
{
	bool first = true;
	char name[FILE_NAME_MAX];
	int c = file_rd_peek(r), e = 0;

	if (++r->depth > FILE_RD_DEPTH)
		return -EBADMSG;
	switch (c) {
	case '"': {
		const char *sb, *qb;

		e = file_rd_raw(r, &sb, &qb);
		if (e == 0) {
			char *tmp;
			size_t len;

			/* Validate its escapes too: what we accept, any JSON reader accepts. */
			e = file_rd_string(&(struct file_rd){ .p = sb - 1, .end = qb + 1 }, &tmp, &len);
			if (e == 0)
				free(tmp);
		}
		break;
	}
	case '{':
		while ((e = file_rd_member(r, &first, name)) > 0)
			if ((e = file_rd_skip(r)) < 0)
				break;
		break;
	case '[':
		while ((e = file_rd_element(r, &first)) > 0)
			if ((e = file_rd_skip(r)) < 0)
				break;
		break;
	case 't':
		e = file_rd_literal(r, "true");
		break;
	case 'f':
		e = file_rd_literal(r, "false");
		break;
	case 'n':
		e = file_rd_literal(r, "null");
		break;
	default:
		e = file_rd_skip_number(r);
		break;
	}
	r->depth--;
	return e < 0 ? e : 0;
}

/* One row of "kvs" or "events": every field either may carry, checked by the caller. */
enum {
	FILE_F_KEY = 1 << 0, FILE_F_VALUE = 1 << 1, FILE_F_CREATE = 1 << 2, FILE_F_MOD = 1 << 3,
	FILE_F_LEASE = 1 << 4, FILE_F_REV = 1 << 5, FILE_F_TYPE = 1 << 6,
};

struct file_row {
	unsigned seen;
	char *key, *value;
	size_t key_len, value_len;
	bool key_b64, value_b64;
	int64_t create_rev, mod_rev, lease, rev;
	bool del;
};

static int file_rd_row(struct file_rd *r, struct file_row *row)
{
	bool first = true;
	char name[FILE_NAME_MAX];
	int e;

	while ((e = file_rd_member(r, &first, name)) > 0) {
		unsigned f = 0;
		bool b64 = false;

		if (!strcmp(name, "key") || (b64 = !strcmp(name, "key_b64"))) {
			f = FILE_F_KEY;
			row->key_b64 = b64;
			if (!(row->seen & f))
				e = file_rd_string(r, &row->key, &row->key_len);
		} else if (!strcmp(name, "value") || (b64 = !strcmp(name, "value_b64"))) {
			f = FILE_F_VALUE;
			row->value_b64 = b64;
			if (!(row->seen & f))
				e = file_rd_string(r, &row->value, &row->value_len);
		} else if (!strcmp(name, "create_rev")) {
			f = FILE_F_CREATE;
			e = file_rd_int(r, &row->create_rev);
		} else if (!strcmp(name, "mod_rev")) {
			f = FILE_F_MOD;
			e = file_rd_int(r, &row->mod_rev);
		} else if (!strcmp(name, "lease")) {
			f = FILE_F_LEASE;
			e = file_rd_int(r, &row->lease);
		} else if (!strcmp(name, "rev")) {
			f = FILE_F_REV;
			e = file_rd_int(r, &row->rev);
		} else if (!strcmp(name, "type")) {
			char *t;
			size_t n;

			f = FILE_F_TYPE;
			e = file_rd_string(r, &t, &n);
			if (e == 0) {
				if (!strcmp(t, "delete"))
					row->del = true;
				else if (strcmp(t, "put") != 0)
					e = -EBADMSG;
				free(t);
			}
		} else {
			e = file_rd_skip(r);
		}
		if (row->seen & f)
			return -EBADMSG;   /* a field twice */
		row->seen |= f;
		if (e < 0)
			return e;
	}
	return e;
}

/* The row's bytes, base64 decoded where stored so; limits checked. */
static int file_row_bytes(char **p, size_t *len, bool b64, size_t max)
{
	void *d;
	size_t n;
	int e;

	if (b64) {
		if (*len > (max + 2) / 3 * 4)
			return -EBADMSG;
		e = base64_decode(*p, *len, &d, &n);
		if (e < 0)
			return e;
		free(*p);
		*p = d;
		*len = n;
	}
	return *len > max ? -EBADMSG : 0;
}

/* Move the row's key and value into kv. */
static int file_row_take(struct file_row *row, struct file_kv *kv, bool want_value)
{
	int e;

	if (!(row->seen & FILE_F_KEY) || (want_value && !(row->seen & FILE_F_VALUE)))
		return -EBADMSG;
	e = file_row_bytes(&row->key, &row->key_len, row->key_b64, FILE_FULL_KEY_MAX);
	if (e < 0)
		return e;
	if (row->key_len == 0 || memchr(row->key, '\0', row->key_len))
		return -EBADMSG;
	if (want_value) {
		e = file_row_bytes(&row->value, &row->value_len, row->value_b64, STORE_VALUE_MAX);
		if (e < 0)
			return e;
		kv->value = row->value;
		kv->value_len = row->value_len;
		row->value = NULL;
	}
	kv->key = row->key;
	row->key = NULL;
	return 0;
}

static int file_rd_kvs(struct file_rd *r, struct store_file_db *db)
{
	bool first = true;
	int e;

	while ((e = file_rd_element(r, &first)) > 0) {
		struct file_row row = { 0 };
		struct file_kv kv = { 0 };

		e = file_rd_row(r, &row);
		if (e == 0 && (row.seen & (FILE_F_CREATE | FILE_F_MOD)) != (FILE_F_CREATE | FILE_F_MOD))
			e = -EBADMSG;
		if (e == 0)
			e = file_row_take(&row, &kv, true);
		free(row.key);
		free(row.value);
		if (e < 0)
			return e;
		kv.create_rev = row.create_rev;
		kv.mod_rev = row.mod_rev;
		kv.lease = row.lease;
		e = store_file_db_append_kv(db, &kv);
		if (e < 0) {
			free(kv.key);
			free(kv.value);
			return e;
		}
	}
	return e;
}

static int file_rd_events(struct file_rd *r, struct store_file_db *db)
{
	bool first = true;
	int e;

	while ((e = file_rd_element(r, &first)) > 0) {
		struct file_row row = { 0 };
		struct file_kv kv = { 0 };
		unsigned need = FILE_F_REV | FILE_F_TYPE;

		e = file_rd_row(r, &row);
		if (e == 0 && !row.del)
			need |= FILE_F_CREATE;
		if (e == 0 && (row.seen & need) != need)
			e = -EBADMSG;
		if (e == 0)
			e = file_row_take(&row, &kv, !row.del);
		free(row.key);
		free(row.value);
		if (e < 0)
			return e;
		kv.mod_rev = row.rev;
		if (!row.del) {
			kv.create_rev = row.create_rev;
			kv.lease = row.lease;
		}
		e = store_file_db_append_event(db, row.del, &kv);
		if (e < 0) {
			free(kv.key);
			free(kv.value);
			return e;
		}
	}
	return e;
}

static int file_rd_leases(struct file_rd *r, struct store_file_db *db)
{
	bool first = true;
	int e;

	while ((e = file_rd_element(r, &first)) > 0) {
		struct file_lease l = { 0 };
		bool ofirst = true;
		unsigned seen = 0;
		char name[FILE_NAME_MAX];

		while ((e = file_rd_member(r, &ofirst, name)) > 0) {
			unsigned f = 0;

			if (!strcmp(name, "id"))
				f = 1, e = file_rd_int(r, &l.id);
			else if (!strcmp(name, "ttl"))
				f = 2, e = file_rd_int(r, &l.ttl);
			else if (!strcmp(name, "expiry_ms"))
				f = 4, e = file_rd_int(r, &l.expiry_ms);
			else
				e = file_rd_skip(r);
			if (e < 0 || (seen & f))
				return -EBADMSG;
			seen |= f;
		}
		if (e < 0 || seen != 7)
			return -EBADMSG;
		e = store_file_db_append_lease(db, &l);
		if (e < 0)
			return e;
	}
	return e;
}

static int file_rd_root(struct file_rd *r, struct store_file_db *db)
{
	bool first = true;
	unsigned seen = 0;
	char name[FILE_NAME_MAX];
	int64_t format = 0;
	int e;

	while ((e = file_rd_member(r, &first, name)) > 0) {
		unsigned f = 0;

		if (!strcmp(name, "format"))
			f = 1 << 0, e = file_rd_int(r, &format);
		else if (!strcmp(name, "revision"))
			f = 1 << 1, e = file_rd_int(r, &db->revision);
		else if (!strcmp(name, "compact_revision"))
			f = 1 << 2, e = file_rd_int(r, &db->compact_rev);
		else if (!strcmp(name, "next_lease"))
			f = 1 << 3, e = file_rd_int(r, &db->next_lease);
		else if (!strcmp(name, "kvs"))
			f = 1 << 4, e = (seen & f) ? -EBADMSG : file_rd_kvs(r, db);
		else if (!strcmp(name, "leases"))
			f = 1 << 5, e = (seen & f) ? -EBADMSG : file_rd_leases(r, db);
		else if (!strcmp(name, "events"))
			f = 1 << 6, e = (seen & f) ? -EBADMSG : file_rd_events(r, db);
		else
			e = file_rd_skip(r);
		if (e < 0)
			return e;
		if (seen & f)
			return -EBADMSG;
		seen |= f;
	}
	if (e < 0 || seen != 0x7f || format != FILE_DB_FORMAT)
		return -EBADMSG;
	if (file_rd_peek(r) != -1)
		return -EBADMSG;   /* trailing garbage */
	return store_file_db_check(db);
}

int store_file_codec_parse(const char *data, size_t len, struct store_file_db **ret)
{
	struct file_rd r = { .p = data, .end = data + len };
	struct store_file_db *db;
	int e;

	if (!file_utf8_valid((const unsigned char *)data, len))
		return -EBADMSG;
	db = store_file_db_new();
	if (!db)
		return -ENOMEM;
	e = file_rd_root(&r, db);
	if (e < 0) {
		store_file_db_free(db);
		return e;
	}
	*ret = db;
	return 0;
}

/* ---- dump ---- */

struct file_wr {
	char *buf;
	size_t len, cap;
	bool oom;
};

static char *file_wr_room(struct file_wr *w, size_t n)
{
	if (w->oom)
		return NULL;
	if (w->cap - w->len < n + 1) {
		size_t cap = w->cap ? w->cap : 4096;
		char *b;

		while (cap - w->len < n + 1)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->oom = true;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	return w->buf + w->len;
}

static void file_wr_mem(struct file_wr *w, const char *p, size_t n)
{
	char *o = file_wr_room(w, n);

	if (!o)
		return;
	memcpy(o, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void file_wr_str(struct file_wr *w, const char *s)
{
	file_wr_mem(w, s, strlen(s));
}

static void file_wr_int(struct file_wr *w, const char *name, int64_t v)
{
	char tmp[24], *t = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--t = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--t = '-';
	file_wr_str(w, "\"");
	file_wr_str(w, name);
	file_wr_str(w, "\":");
	file_wr_mem(w, t, (size_t)(tmp + sizeof(tmp) - t));
}

/* A JSON string of valid UTF-8 bytes. */
static void file_wr_quoted(struct file_wr *w, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *o = file_wr_room(w, len * 6 + 2), *start = o;

	if (!o)
		return;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		const char *run = file_plain_run(p + i, p + len);
		unsigned char c;

		memcpy(o, p + i, (size_t)(run - (p + i)));
		o += run - (p + i);
		i = (size_t)(run - p);
		if (i == len)
			break;
		c = (unsigned char)p[i];
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\t': *o++ = 't'; break;
		case '\r': *o++ = 'r'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	w->len += (size_t)(o - start);
	w->buf[w->len] = '\0';
}

/* A byte string as a JSON string when it is UTF-8, else as base64 under name_b64. */
static void file_wr_bytes(struct file_wr *w, const char *name, const char *name_b64, const char *p, size_t len)
{
	char *b;

	file_wr_str(w, "\"");
	if (file_utf8_valid((const unsigned char *)p, len)) {
		file_wr_str(w, name);
		file_wr_str(w, "\":");
		file_wr_quoted(w, p, len);
		return;
	}
	if (base64_encode(p, len, &b) < 0) {
		w->oom = true;
		return;
	}
	file_wr_str(w, name_b64);
	file_wr_str(w, "\":\"");
	file_wr_str(w, b);
	file_wr_str(w, "\"");
	free(b);
}

/* One row per line: greppable, and diffs of two versions stay readable. */
int store_file_codec_dump(const struct store_file_db *db, char **ret_data, size_t *ret_len)
{
	struct file_wr w = { 0 };

	file_wr_str(&w, "{");
	file_wr_int(&w, "format", FILE_DB_FORMAT);
	file_wr_str(&w, ",");
	file_wr_int(&w, "revision", db->revision);
	file_wr_str(&w, ",");
	file_wr_int(&w, "compact_revision", db->compact_rev);
	file_wr_str(&w, ",");
	file_wr_int(&w, "next_lease", db->next_lease);
	file_wr_str(&w, ",\n\"kvs\":[");
	for (size_t i = 0; i < db->n_kvs; i++) {
		const struct file_kv *kv = &db->kvs[i];

		file_wr_str(&w, i ? ",\n{" : "\n{");
		file_wr_bytes(&w, "key", "key_b64", kv->key, strlen(kv->key));
		file_wr_str(&w, ",");
		file_wr_int(&w, "create_rev", kv->create_rev);
		file_wr_str(&w, ",");
		file_wr_int(&w, "mod_rev", kv->mod_rev);
		if (kv->lease) {
			file_wr_str(&w, ",");
			file_wr_int(&w, "lease", kv->lease);
		}
		file_wr_str(&w, ",");
		file_wr_bytes(&w, "value", "value_b64", kv->value, kv->value_len);
		file_wr_str(&w, "}");
	}
	file_wr_str(&w, "],\n\"leases\":[");
	for (size_t i = 0; i < db->n_leases; i++) {
		const struct file_lease *l = &db->leases[i];

		file_wr_str(&w, i ? ",\n{" : "\n{");
		file_wr_int(&w, "id", l->id);
		file_wr_str(&w, ",");
		file_wr_int(&w, "ttl", l->ttl);
		file_wr_str(&w, ",");
		file_wr_int(&w, "expiry_ms", l->expiry_ms);
		file_wr_str(&w, "}");
	}
	file_wr_str(&w, "],\n\"events\":[");
	for (size_t i = 0; i < db->n_events; i++) {
		const struct file_event *e = &db->events[i];

		file_wr_str(&w, i ? ",\n{" : "\n{");
		file_wr_int(&w, "rev", e->kv.mod_rev);
		file_wr_str(&w, e->del ? ",\"type\":\"delete\"," : ",\"type\":\"put\",");
		file_wr_bytes(&w, "key", "key_b64", e->kv.key, strlen(e->kv.key));
		if (!e->del) {
			file_wr_str(&w, ",");
			file_wr_int(&w, "create_rev", e->kv.create_rev);
			if (e->kv.lease) {
				file_wr_str(&w, ",");
				file_wr_int(&w, "lease", e->kv.lease);
			}
			file_wr_str(&w, ",");
			file_wr_bytes(&w, "value", "value_b64", e->kv.value, e->kv.value_len);
		}
		file_wr_str(&w, "}");
	}
	file_wr_str(&w, "]}\n");
	if (w.oom) {
		free(w.buf);
		return -ENOMEM;
	}
	*ret_data = w.buf;
	*ret_len = w.len;
	return 0;
}

