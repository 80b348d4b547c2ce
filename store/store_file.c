/* The embedded file store: the whole database in one JSON file, DIR/store.json, shared by every
 * process that can see DIR (several shoald in different network namespaces of one machine).
 *
 * - Every operation holds flock(LOCK_EX) on DIR/store.lock, reads the file (parsing it only when
 *   its bytes differ from what this handle last saw), applies the change in memory and replaces
 *   the file atomically (write, fdatasync, rename, fsync dir).  A crash leaves the old or the new
 *   database, never a mix.
 * - Revisions are store-wide; every change (one put, one delete, or all deletions of one lease)
 *   takes the next revision.  The last FILE_EVENTS_MAX events are kept in the same file so that
 *   watchers in other processes can replay everything after a revision; older revisions are
 *   compacted (compact_revision).
 * - Leases carry absolute expiry times on the realtime clock, which every process on the machine
 *   shares.  Whoever takes the lock next reaps expired leases: their keys are deleted with DELETE
 *   events.
 * - Watches run on the libuv loop: inotify (uv_fs_event) on DIR notices other processes' writes at
 *   once, a timer polls as a fallback and reaps expired leases.
 * - A database that does not parse is never replaced: every call returns -EBADMSG until an operator
 *   repairs or removes the file. */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"

#define FILE_DB_NAME          "store.json"
#define FILE_TMP_PREFIX       FILE_DB_NAME ".tmp."   /* file_write_atomic's temporary names */
#define FILE_LOCK_NAME        "store.lock"
#define FILE_DB_FORMAT        1
#define FILE_DB_MAX           (256u << 20)
#define FILE_FULL_KEY_MAX     (STORE_PREFIX_MAX + STORE_KEY_MAX)
#define FILE_EVENTS_MAX       1000
#define FILE_EVENTS_BYTES_MAX (1u << 20)   /* keys + values kept in the event log */
#define FILE_REV_MAX          (INT64_MAX / 4)

struct file_kv {
	char *key;            /* full key (prefix + relative key); never contains NUL */
	char *value;          /* NUL-terminated, may contain NUL bytes; NULL for DELETE events */
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;      /* for events: the event's revision */
	int64_t lease;
};

struct file_event {
	bool del;
	struct file_kv kv;
};

struct file_lease {
	int64_t id;
	int64_t ttl;          /* seconds */
	int64_t expiry_ms;    /* CLOCK_REALTIME, milliseconds */
};

struct store_file_db {
	int64_t revision;
	int64_t compact_rev;  /* events with revision <= this are gone */
	int64_t next_lease;
	struct file_kv *kvs;  /* sorted by key, unique */
	size_t n_kvs, cap_kvs;
	struct file_lease *leases;  /* sorted by id (ids only grow) */
	size_t n_leases, cap_leases;
	struct file_event *events;  /* revisions (compact_rev, revision], in order */
	size_t n_events, cap_events;
	size_t event_bytes;
};

struct file_watch {
	struct store_watch base;
	struct store_file *f;
	struct file_watch *prev, *next;
	char *prefix;         /* full prefix */
	size_t prefix_len;
	int64_t rev;          /* everything up to here has been delivered */
	store_watch_cb cb;
	void *userdata;
	bool stopped;         /* -ECANCELED was delivered */
	bool dead;            /* cancelled during delivery; freed afterwards */
};

struct store_file {
	struct store base;
	char *dir, *db_path, *lock_path;
	int lock_fd;
	pid_t lock_pid;       /* flock belongs to the open file description: reopen after fork */
	struct store_file_db *db;  /* cache; NULL = must load */
	char *raw;            /* the file bytes db was parsed from or written as */
	size_t raw_len;
	bool raw_missing;     /* db is the empty database of a missing file */
	bool dirty;
	int64_t now_ms;       /* taken by file_begin */
	/* watches */
	struct file_watch *watches, *watches_tail;
	size_t n_watches;
	uv_timer_t *timer;
	uv_fs_event_t *fsev;
	bool fsev_active;
	bool delivering, free_pending;
	int last_sync_err;
};

static int64_t file_clock_offset_ms;
static unsigned file_poll_ms = 1000;

void store_file_test_set_clock_offset(int64_t ms) { file_clock_offset_ms = ms; }
void store_file_test_set_poll_ms(unsigned ms) { file_poll_ms = ms ? ms : 1; }

static int64_t file_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + file_clock_offset_ms;
}

/* ---- small helpers ---- */

/* Grow the array at *arrp (of elem-sized items) to hold need items. */
static int file_grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
	void *arr, *p;
	size_t n;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	memcpy(&arr, arrp, sizeof(arr));
	p = realloc(arr, n * elem);
	if (!p)
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	*cap = n;
	return 0;
}

static char *file_memdup(const char *p, size_t len)
{
	char *d = malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

static const char file_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *file_b64_encode(const unsigned char *p, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = file_b64[v >> 18 & 63];
		*o++ = file_b64[v >> 12 & 63];
		*o++ = i + 1 < len ? file_b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? file_b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int file_b64_val(char c)
{
	const char *p = c ? strchr(file_b64, c) : NULL;

	return p ? (int)(p - file_b64) : -1;
}

/* Strict: length a multiple of 4, padding only at the end. */
static int file_b64_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
	char *out;
	size_t n = 0;

	if (len % 4)
		return -EBADMSG;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int a = file_b64_val(s[i]), b = file_b64_val(s[i + 1]);
		int c = file_b64_val(s[i + 2]), d = file_b64_val(s[i + 3]);
		bool last = i + 4 == len;

		if (a < 0 || b < 0)
			goto bad;
		if (c < 0 && !(last && s[i + 2] == '=' && s[i + 3] == '='))
			goto bad;
		if (d < 0 && !(last && s[i + 3] == '='))
			goto bad;
		out[n++] = (char)(a << 2 | b >> 4);
		if (c >= 0)
			out[n++] = (char)((b & 15) << 4 | c >> 2);
		if (c >= 0 && d >= 0)
			out[n++] = (char)((c & 3) << 6 | d);
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
bad:
	free(out);
	return -EBADMSG;
}

/* ---- the in-memory database ---- */

static void file_kv_free(struct file_kv *kv)
{
	free(kv->key);
	free(kv->value);
}

void store_file_db_free(struct store_file_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n_kvs; i++)
		file_kv_free(&db->kvs[i]);
	for (size_t i = 0; i < db->n_events; i++)
		file_kv_free(&db->events[i].kv);
	free(db->kvs);
	free(db->leases);
	free(db->events);
	free(db);
}

static struct store_file_db *file_db_new(void)
{
	struct store_file_db *db = calloc(1, sizeof(*db));

	if (db)
		db->next_lease = 1;
	return db;
}

/* Index of the first key >= key. */
static size_t file_kv_lower(const struct store_file_db *db, const char *key)
{
	size_t lo = 0, hi = db->n_kvs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(db->kvs[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct file_kv *file_kv_find(struct store_file_db *db, const char *key, size_t *ret_idx)
{
	size_t i = file_kv_lower(db, key);

	if (ret_idx)
		*ret_idx = i;
	return i < db->n_kvs && strcmp(db->kvs[i].key, key) == 0 ? &db->kvs[i] : NULL;
}

static struct file_lease *file_lease_find(struct store_file_db *db, int64_t id)
{
	size_t lo = 0, hi = db->n_leases;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (db->leases[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->n_leases && db->leases[lo].id == id ? &db->leases[lo] : NULL;
}

/* Append an event (capacity reserved by the caller); takes ownership of kv's strings. */
static void file_event_push(struct store_file_db *db, bool del, struct file_kv kv)
{
	db->event_bytes += strlen(kv.key) + kv.value_len;
	db->events[db->n_events++] = (struct file_event){ .del = del, .kv = kv };
}

/* Compact: drop the oldest revisions beyond the limits, always whole revisions, never the newest. */
static void file_events_trim(struct store_file_db *db)
{
	while (db->n_events > FILE_EVENTS_MAX || db->event_bytes > FILE_EVENTS_BYTES_MAX) {
		int64_t rev = db->events[0].kv.mod_rev;
		size_t n = 0;

		while (n < db->n_events && db->events[n].kv.mod_rev == rev)
			n++;
		if (n == db->n_events)
			break;
		for (size_t i = 0; i < n; i++) {
			db->event_bytes -= strlen(db->events[i].kv.key) + db->events[i].kv.value_len;
			file_kv_free(&db->events[i].kv);
		}
		memmove(db->events, db->events + n, (db->n_events - n) * sizeof(db->events[0]));
		db->n_events -= n;
		db->compact_rev = rev;
	}
}

/* Put key in a new revision; returns the revision.  All allocation happens before anything
 * changes, so a failure leaves the database as it was. */
static int64_t file_db_put(struct store_file_db *db, const char *key, const char *value, size_t len,
                           int64_t lease)
{
	size_t idx;
	struct file_kv *kv = file_kv_find(db, key, &idx);
	char *v = file_memdup(value, len), *ev = file_memdup(value, len), *ek = strdup(key);
	char *nk = kv ? NULL : strdup(key);
	int64_t rev;

	if (!v || !ev || !ek || (!kv && !nk) ||
	    file_grow(&db->events, &db->cap_events, db->n_events + 1, sizeof(db->events[0])) < 0 ||
	    file_grow(&db->kvs, &db->cap_kvs, db->n_kvs + 1, sizeof(db->kvs[0])) < 0) {
		free(v);
		free(ev);
		free(ek);
		free(nk);
		return -ENOMEM;
	}
	rev = ++db->revision;
	if (kv) {
		free(kv->value);
		kv->value = v;
		kv->value_len = len;
		kv->mod_rev = rev;
		kv->lease = lease;
	} else {
		memmove(db->kvs + idx + 1, db->kvs + idx, (db->n_kvs - idx) * sizeof(db->kvs[0]));
		db->kvs[idx] = (struct file_kv){ .key = nk, .value = v, .value_len = len, .create_rev = rev,
		                                 .mod_rev = rev, .lease = lease };
		db->n_kvs++;
		kv = &db->kvs[idx];
	}
	file_event_push(db, false, (struct file_kv){ .key = ek, .value = ev, .value_len = len,
	                                             .create_rev = kv->create_rev, .mod_rev = rev, .lease = lease });
	file_events_trim(db);
	return rev;
}

/* Remove kvs[idx] with a DELETE event at rev (event capacity reserved by the caller). */
static void file_db_del_at(struct store_file_db *db, size_t idx, int64_t rev)
{
	struct file_kv kv = db->kvs[idx];

	memmove(db->kvs + idx, db->kvs + idx + 1, (db->n_kvs - idx - 1) * sizeof(db->kvs[0]));
	db->n_kvs--;
	free(kv.value);
	file_event_push(db, true, (struct file_kv){ .key = kv.key, .mod_rev = rev });
}

static int64_t file_db_delete(struct store_file_db *db, size_t idx)
{
	int64_t rev;

	if (file_grow(&db->events, &db->cap_events, db->n_events + 1, sizeof(db->events[0])) < 0)
		return -ENOMEM;
	rev = ++db->revision;
	file_db_del_at(db, idx, rev);
	file_events_trim(db);
	return rev;
}

/* Revoke or expire a lease: its keys go in one revision, as an etcd transaction would. */
static int file_db_lease_remove(struct store_file_db *db, struct file_lease *l)
{
	int64_t id = l->id;
	size_t n = 0, li = (size_t)(l - db->leases);

	for (size_t i = 0; i < db->n_kvs; i++)
		n += db->kvs[i].lease == id;
	if (file_grow(&db->events, &db->cap_events, db->n_events + n, sizeof(db->events[0])) < 0)
		return -ENOMEM;
	if (n > 0) {
		int64_t rev = ++db->revision;

		for (size_t i = 0; i < db->n_kvs;) {
			if (db->kvs[i].lease == id)
				file_db_del_at(db, i, rev);
			else
				i++;
		}
	}
	memmove(db->leases + li, db->leases + li + 1, (db->n_leases - li - 1) * sizeof(db->leases[0]));
	db->n_leases--;
	file_events_trim(db);
	return 0;
}

/* ---- the database file: a strict JSON reader for exactly our format ----
 *
 * Not jansson: building its object model costs about 7 ms for a database of 300 keys plus the
 * event log, and every process re-reads the file after another one wrote it.  This reader fills
 * the database directly (5-10x faster) and accepts only well-formed UTF-8 JSON of our structure;
 * members it does not know are skipped (newer writers). */

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
	char *d;
	size_t n;
	int e;

	if (b64) {
		if (*len > (max + 2) / 3 * 4)
			return -EBADMSG;
		e = file_b64_decode(*p, *len, &d, &n);
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
			e = file_grow(&db->kvs, &db->cap_kvs, db->n_kvs + 1, sizeof(db->kvs[0]));
		if (e == 0)
			e = file_row_take(&row, &kv, true);
		free(row.key);
		free(row.value);
		if (e < 0)
			return e;
		kv.create_rev = row.create_rev;
		kv.mod_rev = row.mod_rev;
		kv.lease = row.lease;
		db->kvs[db->n_kvs++] = kv;
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
			e = file_grow(&db->events, &db->cap_events, db->n_events + 1, sizeof(db->events[0]));
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
		file_event_push(db, row.del, kv);
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
		if (file_grow(&db->leases, &db->cap_leases, db->n_leases + 1, sizeof(db->leases[0])) < 0)
			return -ENOMEM;
		db->leases[db->n_leases++] = l;
	}
	return e;
}

/* The rules that make the database usable: everything the writer guarantees. */
static int file_db_check(struct store_file_db *db)
{
	int64_t prev;

	if (db->revision < 0 || db->revision > FILE_REV_MAX || db->compact_rev < 0 ||
	    db->compact_rev > db->revision || db->next_lease < 1 || db->next_lease > FILE_REV_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < db->n_leases; i++) {
		const struct file_lease *l = &db->leases[i];

		if (l->id < 1 || l->id >= db->next_lease || l->ttl < 1 || l->ttl > INT32_MAX ||
		    l->expiry_ms < 0 || l->expiry_ms > FILE_REV_MAX || (i > 0 && l->id <= db->leases[i - 1].id))
			return -EBADMSG;
	}
	for (size_t i = 0; i < db->n_kvs; i++) {
		const struct file_kv *kv = &db->kvs[i];

		/* Sorted and unique, as written: lookups are binary searches. */
		if (kv->create_rev < 1 || kv->mod_rev < kv->create_rev || kv->mod_rev > db->revision ||
		    (i > 0 && strcmp(db->kvs[i - 1].key, kv->key) >= 0))
			return -EBADMSG;
		if (kv->lease && (kv->lease < 0 || !file_lease_find(db, kv->lease)))
			return -EBADMSG;
	}
	/* The log holds every revision after the compaction point, consecutively. */
	prev = db->compact_rev;
	for (size_t i = 0; i < db->n_events; i++) {
		const struct file_kv *kv = &db->events[i].kv;

		if (kv->mod_rev != prev + 1 && (kv->mod_rev != prev || i == 0))
			return -EBADMSG;
		if (!db->events[i].del &&
		    (kv->create_rev < 1 || kv->create_rev > kv->mod_rev || kv->lease < 0 || kv->lease >= db->next_lease))
			return -EBADMSG;
		prev = kv->mod_rev;
	}
	return prev == db->revision ? 0 : -EBADMSG;
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
	return file_db_check(db);
}

int store_file_db_parse(const char *data, size_t len, struct store_file_db **ret)
{
	struct file_rd r = { .p = data, .end = data + len };
	struct store_file_db *db;
	int e;

	if (!file_utf8_valid((const unsigned char *)data, len))
		return -EBADMSG;
	db = file_db_new();
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

/* ---- the database file: dump ---- */

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
	b = file_b64_encode((const unsigned char *)p, len);
	if (!b) {
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
int store_file_db_dump(const struct store_file_db *db, char **ret_data, size_t *ret_len)
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

/* ---- lock, load, save ---- */

static void file_drop_cache(struct store_file *f)
{
	store_file_db_free(f->db);
	f->db = NULL;
	free(f->raw);
	f->raw = NULL;
	f->raw_len = 0;
	f->raw_missing = false;
}

static int file_lock(struct store_file *f)
{
	pid_t pid = getpid();

	if (f->lock_fd < 0 || f->lock_pid != pid) {
		/* After fork the inherited descriptor shares its lock with the parent: get our own. */
		int fd = open(f->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (f->lock_fd >= 0)
			close(f->lock_fd);
		f->lock_fd = fd;
		f->lock_pid = pid;
	}
	while (flock(f->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void file_unlock(struct store_file *f)
{
	flock(f->lock_fd, LOCK_UN);
}

/* Bring the cache up to date with the file: parse only when the bytes changed. */
static int file_load(struct store_file *f)
{
	struct store_file_db *db;
	char *data;
	size_t len;
	int r;

	r = file_read_all(f->db_path, FILE_DB_MAX, &data, &len);
	if (r == -ENOENT) {
		if (f->db && f->raw_missing)
			return 0;
		db = file_db_new();
		if (!db)
			return -ENOMEM;
		file_drop_cache(f);
		f->db = db;
		f->raw_missing = true;
		return 0;
	}
	if (r < 0)
		return r;
	if (f->db && !f->raw_missing && len == f->raw_len && memcmp(data, f->raw, len) == 0) {
		free(data);
		return 0;
	}
	r = store_file_db_parse(data, len, &db);
	if (r < 0) {
		free(data);
		file_drop_cache(f);
		return r;
	}
	file_drop_cache(f);
	f->db = db;
	f->raw = data;
	f->raw_len = len;
	return 0;
}

static int file_save(struct store_file *f)
{
	char *data;
	size_t len;
	int r;

	r = store_file_db_dump(f->db, &data, &len);
	if (r < 0)
		return r;
	r = file_write_atomic(f->db_path, data, len, 0600);
	if (r < 0) {
		free(data);
		return r;
	}
	free(f->raw);
	f->raw = data;
	f->raw_len = len;
	f->raw_missing = false;
	return 0;
}

static int file_reap(struct store_file *f)
{
	struct store_file_db *db = f->db;

	for (size_t i = 0; i < db->n_leases;) {
		int r;

		if (db->leases[i].expiry_ms > f->now_ms) {
			i++;
			continue;
		}
		r = file_db_lease_remove(db, &db->leases[i]);
		if (r < 0)
			return r;
		f->dirty = true;
	}
	return 0;
}

static void file_timer_cb(uv_timer_t *t);

/* Our own write: let this handle's watches see it on the next loop iteration. */
static void file_kick(struct store_file *f)
{
	if (f->timer && f->n_watches > 0)
		uv_timer_start(f->timer, file_timer_cb, 0, file_poll_ms);
}

/* Every operation runs between file_begin (lock, load, reap expired leases) and file_end (save
 * when changed, unlock). */
static int file_end(struct store_file *f, int r)
{
	if (f->dirty) {
		int w = file_save(f);

		f->dirty = false;
		if (w < 0) {
			/* Memory is ahead of the file: forget it, the next call reloads. */
			file_drop_cache(f);
			if (r >= 0)
				r = w;
		} else {
			file_kick(f);
		}
	}
	file_unlock(f);
	return r;
}

static int file_begin(struct store_file *f)
{
	int r;

	r = file_lock(f);
	if (r < 0)
		return r;
	r = file_load(f);
	if (r < 0) {
		file_unlock(f);
		return r;
	}
	f->now_ms = file_now_ms();
	r = file_reap(f);
	if (r < 0)
		return file_end(f, r);
	return 0;
}

static struct store_file *file_of(struct store *s)
{
	return (struct store_file *)s;
}

static int file_full_key(struct store_file *f, const char *key, char buf[static FILE_FULL_KEY_MAX + 1])
{
	int n = snprintf(buf, FILE_FULL_KEY_MAX + 1, "%s%s", f->base.prefix, key);

	return n < 0 || n > FILE_FULL_KEY_MAX ? -EINVAL : 0;
}

static int file_kv_out(struct store_file *f, const struct file_kv *kv, struct store_kv *out)
{
	out->key = strdup(kv->key + f->base.prefix_len);
	out->value = kv->value ? file_memdup(kv->value, kv->value_len) : strdup("");
	if (!out->key || !out->value) {
		store_kv_done(out);
		return -ENOMEM;
	}
	out->value_len = kv->value ? kv->value_len : 0;
	out->create_rev = kv->create_rev;
	out->mod_rev = kv->mod_rev;
	out->lease = kv->lease;
	return 0;
}

/* ---- operations ---- */

static int file_get(struct store *s, const char *key, struct store_kv *ret_kv)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	struct store_kv out = { 0 };
	struct file_kv *kv;
	int r;

	r = file_full_key(f, key, full);
	if (r < 0)
		return r;
	r = file_begin(f);
	if (r < 0)
		return r;
	kv = file_kv_find(f->db, full, NULL);
	r = kv ? file_kv_out(f, kv, &out) : -ENOENT;
	r = file_end(f, r);
	if (r < 0) {
		store_kv_done(&out);
		return r;
	}
	*ret_kv = out;
	return 0;
}

static int file_list(struct store *s, const char *prefix, struct store_kvs *ret)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	struct store_kvs out = { 0 };
	size_t first, n = 0, len;
	int r;

	r = file_full_key(f, prefix, full);
	if (r < 0)
		return r;
	len = strlen(full);
	r = file_begin(f);
	if (r < 0)
		return r;
	first = file_kv_lower(f->db, full);
	while (first + n < f->db->n_kvs && strncmp(f->db->kvs[first + n].key, full, len) == 0)
		n++;
	out.revision = f->db->revision;
	out.kvs = calloc(n ? n : 1, sizeof(out.kvs[0]));
	if (!out.kvs)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = file_kv_out(f, &f->db->kvs[first + i], &out.kvs[i]);
		if (r == 0)
			out.n++;
	}
	r = file_end(f, r);
	if (r < 0) {
		store_kvs_done(&out);
		return r;
	}
	*ret = out;
	return 0;
}

static int file_put(struct store *s, enum store_put_mode mode, const char *key, const char *value, size_t len,
                    int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	struct file_kv *kv;
	int64_t rev = 0;
	int r;

	r = file_full_key(f, key, full);
	if (r < 0)
		return r;
	r = file_begin(f);
	if (r < 0)
		return r;
	kv = file_kv_find(f->db, full, NULL);
	if (mode == STORE_PUT_CREATE && kv)
		r = -EEXIST;
	else if (mode == STORE_PUT_CAS && (kv ? kv->mod_rev : 0) != expect_mod_rev)
		r = -ESTALE;
	else if (lease && !file_lease_find(f->db, lease))
		r = -ENOENT;   /* expired leases were reaped by file_begin */
	if (r == 0) {
		rev = file_db_put(f->db, full, value, len, lease);
		if (rev < 0)
			r = (int)rev;
		else
			f->dirty = true;
	}
	r = file_end(f, r);
	if (r < 0)
		return r;
	if (ret_rev)
		*ret_rev = rev;
	return 0;
}

static int file_del(struct store *s, const char *key, int64_t expect_mod_rev)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	struct file_kv *kv;
	size_t idx;
	int r;

	r = file_full_key(f, key, full);
	if (r < 0)
		return r;
	r = file_begin(f);
	if (r < 0)
		return r;
	kv = file_kv_find(f->db, full, &idx);
	if (!kv)
		r = -ENOENT;
	else if (expect_mod_rev && kv->mod_rev != expect_mod_rev)
		r = -ESTALE;
	if (r == 0) {
		int64_t rev = file_db_delete(f->db, idx);

		if (rev < 0)
			r = (int)rev;
		else
			f->dirty = true;
	}
	return file_end(f, r);
}

static int file_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id)
{
	struct store_file *f = file_of(s);
	struct store_file_db *db;
	int64_t id = 0;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	db = f->db;
	r = file_grow(&db->leases, &db->cap_leases, db->n_leases + 1, sizeof(db->leases[0]));
	if (r == 0) {
		id = db->next_lease++;
		db->leases[db->n_leases++] = (struct file_lease){ .id = id, .ttl = ttl_seconds,
		                                                  .expiry_ms = f->now_ms + ttl_seconds * 1000 };
		f->dirty = true;
	}
	r = file_end(f, r);
	if (r < 0)
		return r;
	*ret_id = id;
	return 0;
}

static int file_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	struct store_file *f = file_of(s);
	struct file_lease *l;
	int64_t ttl = 0;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	l = file_lease_find(f->db, id);
	if (!l) {
		r = -ENOENT;
	} else {
		ttl = l->ttl;
		l->expiry_ms = f->now_ms + l->ttl * 1000;
		f->dirty = true;
	}
	r = file_end(f, r);
	if (r < 0)
		return r;
	if (ret_ttl)
		*ret_ttl = ttl;
	return 0;
}

static int file_lease_revoke(struct store *s, int64_t id)
{
	struct store_file *f = file_of(s);
	struct file_lease *l;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	l = file_lease_find(f->db, id);
	if (!l)
		r = -ENOENT;
	else
		r = file_db_lease_remove(f->db, l);
	if (r == 0)
		f->dirty = true;
	return file_end(f, r);
}

/* ---- watches ---- */

static void file_handle_free_cb(uv_handle_t *h)
{
	free(h);
}

static void file_handles_stop(struct store_file *f)
{
	if (f->timer)
		uv_timer_stop(f->timer);
	if (f->fsev && f->fsev_active) {
		uv_fs_event_stop(f->fsev);
		f->fsev_active = false;
	}
}

static void file_watch_free(struct file_watch *w)
{
	free(w->prefix);
	free(w);
}

static void file_watch_unlink(struct store_file *f, struct file_watch *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		f->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		f->watches_tail = w->prev;
	f->n_watches--;
	if (f->n_watches == 0)
		file_handles_stop(f);
}

static void file_destroy(struct store_file *f)
{
	while (f->watches) {
		struct file_watch *w = f->watches;

		f->watches = w->next;
		file_watch_free(w);
	}
	f->n_watches = 0;
	/* The handles outlive us until the loop runs their close callbacks. */
	if (f->timer) {
		f->timer->data = NULL;
		uv_close((uv_handle_t *)f->timer, file_handle_free_cb);
	}
	if (f->fsev) {
		f->fsev->data = NULL;
		uv_close((uv_handle_t *)f->fsev, file_handle_free_cb);
	}
	file_drop_cache(f);
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	free(f->dir);
	free(f->db_path);
	free(f->lock_path);
	store_base_done(&f->base);
	free(f);
}

static void file_events_free(struct store_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_kv_done(&evs[i].kv);
	free(evs);
}

/* Copy the events after w->rev under w's prefix: callbacks may change the database. */
static int file_collect(struct store_file *f, const struct file_watch *w, struct store_event **ret, size_t *ret_n)
{
	const struct store_file_db *db = f->db;
	size_t lo = 0, hi = db->n_events, n = 0;
	struct store_event *evs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (db->events[mid].kv.mod_rev <= w->rev)
			lo = mid + 1;
		else
			hi = mid;
	}
	evs = calloc(db->n_events - lo + 1, sizeof(evs[0]));
	if (!evs)
		return -ENOMEM;
	for (size_t i = lo; i < db->n_events; i++) {
		const struct file_event *e = &db->events[i];

		if (strncmp(e->kv.key, w->prefix, w->prefix_len) != 0)
			continue;
		evs[n].type = e->del ? STORE_EVENT_DELETE : STORE_EVENT_PUT;
		if (file_kv_out(f, &e->kv, &evs[n].kv) < 0) {
			file_events_free(evs, n);
			return -ENOMEM;
		}
		n++;
	}
	*ret = evs;
	*ret_n = n;
	return 0;
}

static void file_deliver(struct store_file *f)
{
	f->delivering = true;
	for (struct file_watch *w = f->watches; w && !f->free_pending; w = w->next) {
		struct store_event *evs;
		size_t n;

		if (w->dead || w->stopped || !f->db)
			continue;
		if (w->rev < f->db->compact_rev || w->rev > f->db->revision) {
			/* Compacted, or the store went back in time (database removed): start over. */
			w->stopped = true;
			w->cb(w->userdata, NULL, 0, -ECANCELED);
			continue;
		}
		if (w->rev == f->db->revision)
			continue;
		if (file_collect(f, w, &evs, &n) < 0)
			continue;   /* try again on the next tick */
		w->rev = f->db->revision;
		if (n > 0)
			w->cb(w->userdata, evs, n, 0);
		file_events_free(evs, n);
	}
	f->delivering = false;
	if (f->free_pending) {
		file_destroy(f);
		return;
	}
	for (struct file_watch *w = f->watches, *next; w; w = next) {
		next = w->next;
		if (w->dead) {
			file_watch_unlink(f, w);
			file_watch_free(w);
		}
	}
}

/* Bring the cache up to date.  Cheap when nothing changed: one unlocked read (the file is only
 * ever replaced by rename, so an unlocked read sees a whole version) and a compare. */
static int file_sync(struct store_file *f)
{
	int64_t now = file_now_ms();
	bool due = false;
	int r;

	if (f->db) {
		char *data;
		size_t len;

		for (size_t i = 0; i < f->db->n_leases; i++)
			due |= f->db->leases[i].expiry_ms <= now;
		if (!due) {
			r = file_read_all(f->db_path, FILE_DB_MAX, &data, &len);
			if (r == -ENOENT && f->raw_missing)
				return 0;
			if (r == 0) {
				bool same = !f->raw_missing && len == f->raw_len && memcmp(data, f->raw, len) == 0;

				free(data);
				if (same)
					return 0;
			}
		}
	}
	r = file_begin(f);
	if (r < 0)
		return r;
	return file_end(f, 0);
}

static void file_timer_cb(uv_timer_t *t)
{
	struct store_file *f = t->data;
	int r;

	if (!f)
		return;
	r = file_sync(f);
	if (r < 0) {
		/* Nobody to return this to: say it once, keep polling. */
		if (r != f->last_sync_err)
			log_warn("file store %s: cannot read %s: %s%s", f->dir, f->db_path, strerror(-r),
			         r == -EBADMSG ? " (not a valid store database; left untouched)" : "");
		f->last_sync_err = r;
		return;
	}
	if (f->last_sync_err)
		log_info("file store %s: readable again", f->dir);
	f->last_sync_err = 0;
	file_deliver(f);
}

static void file_fsev_cb(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct store_file *f = h->data;

	/* Temporary files come and go during a write; the rename onto store.json is what counts. */
	if (!f || (filename && strcmp(filename, FILE_DB_NAME) != 0))
		return;
	file_kick(f);
}

static int file_handles_start(struct store_file *f)
{
	uv_loop_t *loop = f->base.loop;
	int r;

	if (!f->timer) {
		f->timer = calloc(1, sizeof(*f->timer));
		if (!f->timer)
			return -ENOMEM;
		uv_timer_init(loop, f->timer);
		f->timer->data = f;
	}
	if (!f->fsev) {
		f->fsev = calloc(1, sizeof(*f->fsev));
		if (!f->fsev)
			return -ENOMEM;
		uv_fs_event_init(loop, f->fsev);
		f->fsev->data = f;
	}
	if (!f->fsev_active) {
		/* Without inotify (limits, odd filesystems) the timer alone still works, only slower. */
		r = uv_fs_event_start(f->fsev, file_fsev_cb, f->dir, 0);
		if (r < 0)
			log_debug("file store %s: no change notifications (%s), polling", f->dir, uv_strerror(r));
		else
			f->fsev_active = true;
	}
	return 0;
}

static int file_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb, void *userdata,
                      struct store_watch **ret)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	struct file_watch *w;
	int r;

	r = file_full_key(f, prefix, full);
	if (r < 0)
		return r;
	r = file_handles_start(f);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->prefix = strdup(full);
	if (!w->prefix) {
		free(w);
		return -ENOMEM;
	}
	w->base.store = s;
	w->f = f;
	w->prefix_len = strlen(full);
	w->rev = from_rev;
	w->cb = cb;
	w->userdata = userdata;
	w->prev = f->watches_tail;
	if (f->watches_tail)
		f->watches_tail->next = w;
	else
		f->watches = w;
	f->watches_tail = w;
	f->n_watches++;
	/* The replay (or -ECANCELED) comes from the loop, never from inside this call. */
	file_kick(f);
	*ret = &w->base;
	return 0;
}

static void file_watch_cancel(struct store_watch *bw)
{
	struct file_watch *w = (struct file_watch *)bw;
	struct store_file *f = w->f;

	if (f->delivering) {
		w->dead = true;
		return;
	}
	file_watch_unlink(f, w);
	file_watch_free(w);
}

/* ---- open / free ---- */

/* Temporary files of writers that died mid-write (we hold the lock, so nobody is writing). */
static void file_remove_stale_tmp(struct store_file *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, FILE_TMP_PREFIX, strlen(FILE_TMP_PREFIX)) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static int file_open(uv_loop_t *loop, const char *location, struct store **ret)
{
	struct store_file *f;
	size_t n;
	int r;

	if (location[0] != '/')
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->base.ops = &store_file_ops;
	f->base.loop = loop;
	f->lock_fd = -1;
	f->dir = strdup(location);
	if (!f->dir) {
		r = -ENOMEM;
		goto fail;
	}
	n = strlen(f->dir);
	while (n > 1 && f->dir[n - 1] == '/')
		f->dir[--n] = '\0';
	if (asprintf(&f->db_path, "%s/%s", f->dir, FILE_DB_NAME) < 0 ||
	    asprintf(&f->lock_path, "%s/%s", f->dir, FILE_LOCK_NAME) < 0) {
		f->db_path = f->lock_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = mkdir_p(f->dir, 0700);
	if (r < 0)
		goto fail;
	/* Loading now reports a broken database at startup rather than at the first operation. */
	r = file_begin(f);
	if (r < 0)
		goto fail;
	file_remove_stale_tmp(f);
	r = file_end(f, 0);
	if (r < 0)
		goto fail;
	*ret = &f->base;
	return 0;
fail:
	file_destroy(f);
	return r;
}

static void file_free(struct store *s)
{
	struct store_file *f = file_of(s);

	if (f->delivering) {
		/* Called from a watch callback: file_deliver finishes the job when the callback returns. */
		f->free_pending = true;
		return;
	}
	file_destroy(f);
}

const struct store_ops store_file_ops = {
	.scheme = "file",
	.open = file_open,
	.free = file_free,
	.get = file_get,
	.list = file_list,
	.put = file_put,
	.del = file_del,
	.lease_grant = file_lease_grant,
	.lease_keepalive = file_lease_keepalive,
	.lease_revoke = file_lease_revoke,
	.watch = file_watch,
	.watch_cancel = file_watch_cancel,
};
