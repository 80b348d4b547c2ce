/* The file store's in-memory database (see store_file_db.h).  Revisions are store-wide; every
 * change (one put, one delete, or all deletions of one lease) takes the next revision.  The last
 * FILE_EVENTS_MAX events are kept so that watchers in other processes can replay everything after
 * a revision; older revisions are compacted (compact_rev). */
#include "store/store_file_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

struct store_file_db *store_file_db_new(void)
{
	struct store_file_db *db = calloc(1, sizeof(*db));

	if (db)
		db->next_lease = 1;
	return db;
}

/* ---- lookups ---- */

size_t store_file_db_lower(const struct store_file_db *db, const char *key)
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

struct file_kv *store_file_db_find(struct store_file_db *db, const char *key, size_t *ret_idx)
{
	size_t i = store_file_db_lower(db, key);

	if (ret_idx)
		*ret_idx = i;
	return i < db->n_kvs && strcmp(db->kvs[i].key, key) == 0 ? &db->kvs[i] : NULL;
}

static const struct file_lease *file_lease_find(const struct store_file_db *db, int64_t id)
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

struct file_lease *store_file_db_lease_find(struct store_file_db *db, int64_t id)
{
	return (struct file_lease *)file_lease_find(db, id);
}

bool store_file_db_lease_due(const struct store_file_db *db, int64_t now_ms)
{
	for (size_t i = 0; i < db->n_leases; i++)
		if (db->leases[i].expiry_ms <= now_ms)
			return true;
	return false;
}

/* ---- the event log ---- */

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

/* ---- changes ---- */

/* Put key in a new revision; returns the revision.  All allocation happens before anything
 * changes, so a failure leaves the database as it was. */
static int64_t file_db_put(struct store_file_db *db, const char *key, const char *value, size_t len,
                           int64_t lease)
{
	size_t idx;
	struct file_kv *kv = store_file_db_find(db, key, &idx);
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

int store_file_db_put(struct store_file_db *db, enum store_put_mode mode, const char *key, const char *value,
                      size_t len, int64_t expect_mod_rev, int64_t lease, int64_t *ret_rev)
{
	struct file_kv *kv = store_file_db_find(db, key, NULL);
	int64_t rev;

	if (mode == STORE_PUT_CREATE && kv)
		return -EEXIST;
	if (mode == STORE_PUT_CAS && (kv ? kv->mod_rev : 0) != expect_mod_rev)
		return -ESTALE;
	if (lease && !file_lease_find(db, lease))
		return -ENOENT;   /* expired leases were reaped before the operation */
	rev = file_db_put(db, key, value, len, lease);
	if (rev < 0)
		return (int)rev;
	*ret_rev = rev;
	return 0;
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

int store_file_db_delete(struct store_file_db *db, const char *key, int64_t expect_mod_rev, int64_t *ret_rev)
{
	size_t idx;
	struct file_kv *kv = store_file_db_find(db, key, &idx);
	int64_t rev;

	if (!kv)
		return -ENOENT;
	if (expect_mod_rev && kv->mod_rev != expect_mod_rev)
		return -ESTALE;
	/* The only allocation, before anything changes. */
	if (file_grow(&db->events, &db->cap_events, db->n_events + 1, sizeof(db->events[0])) < 0)
		return -ENOMEM;
	rev = ++db->revision;
	file_db_del_at(db, idx, rev);
	file_events_trim(db);
	*ret_rev = rev;
	return 0;
}

/* Revoke or expire a lease: its keys go in one revision, as an etcd transaction would.  The event
 * capacity for all of them is reserved first, so a failure changes nothing. */
static int file_db_lease_remove(struct store_file_db *db, size_t li)
{
	int64_t id = db->leases[li].id;
	size_t n = 0;

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

/* A lease grant is no revision (as in etcd). */
int store_file_db_lease_grant(struct store_file_db *db, int64_t ttl_seconds, int64_t now_ms, int64_t *ret_id)
{
	int64_t id;

	/* The only allocation, before anything changes. */
	if (file_grow(&db->leases, &db->cap_leases, db->n_leases + 1, sizeof(db->leases[0])) < 0)
		return -ENOMEM;
	id = db->next_lease++;
	db->leases[db->n_leases++] = (struct file_lease){ .id = id, .ttl = ttl_seconds,
	                                                  .expiry_ms = now_ms + ttl_seconds * 1000 };
	*ret_id = id;
	return 0;
}

/* Renew to the full TTL; no revision either. */
int store_file_db_lease_keepalive(struct store_file_db *db, int64_t id, int64_t now_ms, int64_t *ret_ttl)
{
	struct file_lease *l = store_file_db_lease_find(db, id);

	if (!l)
		return -ENOENT;
	l->expiry_ms = now_ms + l->ttl * 1000;
	*ret_ttl = l->ttl;
	return 0;
}

int store_file_db_lease_ttl(const struct store_file_db *db, int64_t id, int64_t now_ms, int64_t *ret_remaining,
                            int64_t *ret_granted)
{
	const struct file_lease *l = file_lease_find(db, id);

	/* Expired leases are reaped before any operation; one due right now counts as gone too. */
	if (!l || l->expiry_ms <= now_ms)
		return -ENOENT;
	*ret_remaining = (l->expiry_ms - now_ms) / 1000;
	*ret_granted = l->ttl;
	return 0;
}

int store_file_db_lease_revoke(struct store_file_db *db, int64_t id)
{
	struct file_lease *l = store_file_db_lease_find(db, id);

	if (!l)
		return -ENOENT;
	return file_db_lease_remove(db, (size_t)(l - db->leases));
}

int store_file_db_reap(struct store_file_db *db, int64_t now_ms, bool *changed)
{
	for (size_t i = 0; i < db->n_leases;) {
		int r;

		if (db->leases[i].expiry_ms > now_ms) {
			i++;
			continue;
		}
		r = file_db_lease_remove(db, i);
		if (r < 0)
			return r;
		*changed = true;
	}
	return 0;
}

/* ---- copies out ---- */

int store_file_db_kv_copy(const struct file_kv *kv, size_t strip_len, struct store_kv *ret)
{
	struct store_kv out = { 0 };

	out.key = strdup(kv->key + strip_len);
	out.value = kv->value ? file_memdup(kv->value, kv->value_len) : strdup("");
	if (!out.key || !out.value) {
		store_kv_done(&out);
		return -ENOMEM;
	}
	out.value_len = kv->value ? kv->value_len : 0;
	out.create_rev = kv->create_rev;
	out.mod_rev = kv->mod_rev;
	out.lease = kv->lease;
	*ret = out;
	return 0;
}

void store_file_db_events_free(struct store_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_kv_done(&evs[i].kv);
	free(evs);
}

int store_file_db_events(const struct store_file_db *db, int64_t rev, const char *prefix, size_t strip_len,
                         struct store_event **ret, size_t *ret_n)
{
	size_t lo = 0, hi = db->n_events, n = 0, prefix_len = strlen(prefix);
	struct store_event *evs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (db->events[mid].kv.mod_rev <= rev)
			lo = mid + 1;
		else
			hi = mid;
	}
	evs = calloc(db->n_events - lo + 1, sizeof(evs[0]));
	if (!evs)
		return -ENOMEM;
	for (size_t i = lo; i < db->n_events; i++) {
		const struct file_event *e = &db->events[i];

		if (strncmp(e->kv.key, prefix, prefix_len) != 0)
			continue;
		evs[n].type = e->del ? STORE_EVENT_DELETE : STORE_EVENT_PUT;
		if (store_file_db_kv_copy(&e->kv, strip_len, &evs[n].kv) < 0) {
			store_file_db_events_free(evs, n);
			return -ENOMEM;
		}
		n++;
	}
	*ret = evs;
	*ret_n = n;
	return 0;
}

/* ---- built by the parser ---- */

int store_file_db_append_kv(struct store_file_db *db, struct file_kv *kv)
{
	if (file_grow(&db->kvs, &db->cap_kvs, db->n_kvs + 1, sizeof(db->kvs[0])) < 0)
		return -ENOMEM;
	db->kvs[db->n_kvs++] = *kv;
	return 0;
}

int store_file_db_append_event(struct store_file_db *db, bool del, struct file_kv *kv)
{
	if (file_grow(&db->events, &db->cap_events, db->n_events + 1, sizeof(db->events[0])) < 0)
		return -ENOMEM;
	file_event_push(db, del, *kv);
	return 0;
}

int store_file_db_append_lease(struct store_file_db *db, const struct file_lease *l)
{
	if (file_grow(&db->leases, &db->cap_leases, db->n_leases + 1, sizeof(db->leases[0])) < 0)
		return -ENOMEM;
	db->leases[db->n_leases++] = *l;
	return 0;
}

int store_file_db_check(const struct store_file_db *db)
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
