/* The embedded file store: the whole database in one JSON file, DIR/store.json, shared by every
 * process that can see DIR (several shoald in different network namespaces of one machine).
 * This file is the layer around the database: the lock, loading and saving the file, watches,
 * and the backend's operations.  The database itself (store_file_db.c) and its file format
 * (store_file_codec.c) live apart.
 *
 * - Every operation holds flock(LOCK_EX) on DIR/store.lock, reads the file (parsing it only when
 *   its bytes differ from what this handle last saw), applies the change in memory and replaces
 *   the file atomically (write, fdatasync, rename, fsync dir).  A crash leaves the old or the new
 *   database, never a mix.
 * - The event log travels in the same file, so that watchers in other processes can replay
 *   everything after a revision.
 * - Leases carry absolute expiry times on the realtime clock, which every process on the machine
 *   shares.  Whoever takes the lock next reaps expired leases: their keys are deleted with DELETE
 *   events.
 * - Watches run on the libuv loop: inotify (uv_fs_event) on DIR notices other processes' writes at
 *   once, a timer polls as a fallback and reaps expired leases.
 * - Asynchronous operations are the synchronous ones run on the next loop iteration (uv_idle).
 * - A database that does not parse is never replaced: every call returns -EBADMSG until an operator
 *   repairs or removes the file. */
#include "store/store_int.h"
#include "store/store_file_codec.h"
#include "store/store_file_db.h"

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
#define FILE_DB_MAX           (256u << 20)

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
	/* asynchronous operations: store.c's queue (base.reqs), run by this idle handle */
	uv_idle_t *idle;
	bool running;         /* inside file_idle_cb */
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
		db = store_file_db_new();
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
	r = store_file_codec_parse(data, len, &db);
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

	r = store_file_codec_dump(f->db, &data, &len);
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
	/* Leases that expired are reaped before anything reads: an expired lease is never seen. */
	r = store_file_db_reap(f->db, f->now_ms, &f->dirty);
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
	kv = store_file_db_find(f->db, full, NULL);
	r = kv ? store_file_db_kv_copy(kv, s->prefix_len, &out) : -ENOENT;
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
	first = store_file_db_lower(f->db, full);
	while (first + n < f->db->n_kvs && strncmp(f->db->kvs[first + n].key, full, len) == 0)
		n++;
	out.revision = f->db->revision;
	out.kvs = calloc(n ? n : 1, sizeof(out.kvs[0]));
	if (!out.kvs)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = store_file_db_kv_copy(&f->db->kvs[first + i], s->prefix_len, &out.kvs[i]);
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
	int64_t rev = 0;
	int r;

	r = file_full_key(f, key, full);
	if (r < 0)
		return r;
	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_put(f->db, mode, full, value, len, expect_mod_rev, lease, &rev);
	if (r == 0)
		f->dirty = true;
	r = file_end(f, r);
	if (r < 0)
		return r;
	if (ret_rev)
		*ret_rev = rev;
	return 0;
}

static int file_del(struct store *s, const char *key, int64_t expect_mod_rev, int64_t *ret_rev)
{
	struct store_file *f = file_of(s);
	char full[FILE_FULL_KEY_MAX + 1];
	int64_t rev = 0;
	int r;

	r = file_full_key(f, key, full);
	if (r < 0)
		return r;
	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_delete(f->db, full, expect_mod_rev, &rev);
	if (r == 0)
		f->dirty = true;
	r = file_end(f, r);
	if (r < 0)
		return r;
	if (ret_rev)
		*ret_rev = rev;
	return 0;
}

static int file_lease_grant(struct store *s, int64_t ttl_seconds, int64_t *ret_id)
{
	struct store_file *f = file_of(s);
	int64_t id = 0;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_lease_grant(f->db, ttl_seconds, f->now_ms, &id);
	if (r == 0)
		f->dirty = true;
	r = file_end(f, r);
	if (r < 0)
		return r;
	*ret_id = id;
	return 0;
}

static int file_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	struct store_file *f = file_of(s);
	int64_t ttl = 0;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_lease_keepalive(f->db, id, f->now_ms, &ttl);
	if (r == 0)
		f->dirty = true;
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
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_lease_revoke(f->db, id);
	if (r == 0)
		f->dirty = true;
	return file_end(f, r);
}

static int file_lease_ttl(struct store *s, int64_t id, int64_t *ret_remaining, int64_t *ret_granted)
{
	struct store_file *f = file_of(s);
	int64_t remaining = 0, granted = 0;
	int r;

	r = file_begin(f);
	if (r < 0)
		return r;
	r = store_file_db_lease_ttl(f->db, id, f->now_ms, &remaining, &granted);
	/* file_begin may have reaped other leases: that is saved like any change. */
	r = file_end(f, r);
	if (r < 0)
		return r;
	*ret_remaining = remaining;
	*ret_granted = granted;
	return 0;
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
	/* Pending operations hear -ECANCELED first, while everything a callback could touch (the
	 * watches included) still exists; store.c's closing flag makes their calls on us fail. */
	store_base_cancel(&f->base);
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
	if (f->idle) {
		f->idle->data = NULL;
		uv_close((uv_handle_t *)f->idle, file_handle_free_cb);
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
		/* Copies: the callback may change the database. */
		if (store_file_db_events(f->db, w->rev, w->prefix, f->base.prefix_len, &evs, &n) < 0)
			continue;   /* try again on the next tick */
		w->rev = f->db->revision;
		if (n > 0)
			w->cb(w->userdata, evs, n, 0);
		store_file_db_events_free(evs, n);
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
	int r;

	if (f->db) {
		char *data;
		size_t len;

		if (!store_file_db_lease_due(f->db, file_now_ms())) {
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

/* ---- asynchronous operations ----
 *
 * An operation here is local and takes about a millisecond (most of it the fsyncs of a write),
 * so the asynchronous form is the synchronous one run from the loop on its next iteration: callers
 * get one code path for every backend, and no callback runs inside the call that started it.
 * The queue is store.c's list of pending requests (base.reqs), oldest first; they complete in that
 * order. */

static void file_idle_cb(uv_idle_t *h)
{
	struct store_file *f = h->data;
	struct store_req *last;

	if (!f)
		return;
	/* Only what was queued before this pass: a request started by a callback waits for the next
	 * iteration, so a callback that always starts another cannot starve the loop. */
	last = f->base.reqs_tail;
	f->running = true;
	while (f->base.reqs && !f->free_pending) {
		struct store_req *req = f->base.reqs;
		bool end = req == last;

		store_req_run(req);
		if (end)
			break;
	}
	f->running = false;
	if (f->free_pending) {
		/* store_free from a callback: the rest are cancelled now. */
		file_destroy(f);
		return;
	}
	if (!f->base.reqs)
		uv_idle_stop(h);
}

static int file_submit(struct store *s, struct store_req *req)
{
	struct store_file *f = file_of(s);

	if (!f->idle) {
		f->idle = calloc(1, sizeof(*f->idle));
		if (!f->idle)
			return -ENOMEM;
		uv_idle_init(s->loop, f->idle);
		f->idle->data = f;
	}
	/* Starting an active idle handle is a no-op. */
	uv_idle_start(f->idle, file_idle_cb);
	return 0;
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

static int file_open(uv_loop_t *loop, const char *location, const struct store_tls *tls, struct store **ret)
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

	if (f->delivering || f->running) {
		/* Called from a watch or operation callback: file_deliver or file_idle_cb finishes the job
		 * when the callback returns. */
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
	.lease_ttl = file_lease_ttl,
	.submit = file_submit,
	.watch = file_watch,
	.watch_cancel = file_watch_cancel,
};
