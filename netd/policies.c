/* The store's bandwidth policies in shoald: kept from a listing plus a watch, applied to this node's
 * workloads, and the API's operations on them (netd/policies.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "netd/cgroups.h"
#include "netd/netd.h"
#include "netd/policies.h"
#include "store/store.h"
#include "tc/quota.h"

struct policies {
	struct policy *v;             /* sorted by name */
	size_t n, cap;
	int64_t revision;             /* of the last listing or event seen */
	struct store_watch *watch;
	bool listing;
	bool stopped;                 /* shoald is stopping: a listing that still arrives starts nothing */
};

/* A store full of policies would make every apply (workloads x policies x keys fnmatch calls) and
 * this copy (2 KiB each) expensive: beyond this many, the rest are ignored, loudly. */
#define POLICIES_MAX 1024

static struct policies *P(const struct manager *m)
{
	return m->policies;
}

/* ---- this node's copy ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy *)a)->name, ((const struct policy *)b)->name);
}

static struct policy *find(struct policies *p, const char *name)
{
	struct policy key;

	if (!p->n)
		return NULL;   /* p->v may be NULL */
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, p->v, p->n, sizeof(*p->v), name_cmp);
}

/* "policies/NAME" -> NAME; NULL for a key that is not a policy's (deeper, or empty). */
static const char *key_name(const char *key)
{
	const char *name;

	if (strncmp(key, POLICY_PREFIX, strlen(POLICY_PREFIX)) != 0)
		return NULL;
	name = key + strlen(POLICY_PREFIX);
	return policy_name_valid(name) ? name : NULL;
}

/* Parse one stored policy; a bad one is logged (the deciding place: nothing else sees it) and
 * skipped, so one operator's typo written with another client does not stop the others. */
static int kv_parse(const struct store_kv *kv, struct policy *ret)
{
	char err[POLICY_ERRLEN];
	const char *name = key_name(kv->key);

	if (!name) {
		log_warn("store key %s is not a policy name; ignored", kv->key);
		return -EINVAL;
	}
	if (policy_parse(name, kv->value, kv->value_len, ret, err) < 0) {
		log_error("policy in store key %s ignored: %s", kv->key, err);
		return -EINVAL;
	}
	return 0;
}

static int put(struct policies *p, const struct policy *pol)
{
	struct policy *old = find(p, pol->name);

	if (old) {
		*old = *pol;
		return 0;
	}
	if (p->n >= POLICIES_MAX) {
		log_error("policy %s ignored: this node keeps at most %d policies", pol->name, POLICIES_MAX);
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct policy *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = *pol;
	qsort(p->v, p->n, sizeof(*p->v), name_cmp);
	return 0;
}

static void del(struct policies *p, const char *name)
{
	struct policy *old = find(p, name);

	if (!old)
		return;
	memmove(old, old + 1, (size_t)(p->v + p->n - (old + 1)) * sizeof(*old));
	p->n--;
}

/* Replace the copy with a listing.  Everything is parsed into a new array first: out of memory
 * leaves the old copy as it was. */
static int replace(struct policies *p, const struct store_kvs *kvs)
{
	struct policy *v = kvs->n ? calloc(kvs->n, sizeof(*v)) : NULL;
	size_t n = 0;

	if (kvs->n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < kvs->n; i++)
		if (kv_parse(&kvs->kvs[i], &v[n]) == 0 && ++n == POLICIES_MAX) {
			if (i + 1 < kvs->n)
				log_error("the store holds more than %d policies: those after %s are ignored", POLICIES_MAX,
				          v[n - 1].name);
			break;
		}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);   /* v is NULL for an empty listing */
	free(p->v);
	p->v = v;
	p->n = n;
	p->cap = kvs->n;
	p->revision = kvs->revision;
	return 0;
}

/* ---- applying ---- */

static void subject_of(const struct record_attach *rec, struct policy_subject *s)
{
	s->value[POLICY_KEY_POD_NAMESPACE] = rec->pod_namespace;
	s->value[POLICY_KEY_POD_NAME] = rec->pod_name;
	s->value[POLICY_KEY_POD_UID] = rec->pod_uid;
	s->value[POLICY_KEY_NETWORK] = rec->network;
}

static const struct policy *pick(const struct manager *m, const struct policy_subject *s)
{
	struct policies *p = P(m);

	return p ? policy_pick(p->v, p->n, s) : NULL;
}

static void effective(const struct manager *m, const struct policy *pol, const struct request_bandwidth *own,
                      struct request_bandwidth *ret)
{
	policy_merge(own, pol, ret);
	if (pol && m->cfg.bandwidth.set)
		policy_fit(own, m->cfg.bandwidth.ingress, m->cfg.bandwidth.egress,
		           m->cfg.bandwidth.default_guarantee ? m->cfg.bandwidth.default_guarantee : QUOTA_DEFAULT_GUARANTEE,
		           ret);
}

const struct policy *policies_for(const struct manager *m, const struct record_attach *rec)
{
	struct policy_subject s;

	subject_of(rec, &s);
	return pick(m, &s);
}

void policies_effective(const struct manager *m, const struct record_attach *rec, struct request_bandwidth *ret)
{
	effective(m, policies_for(m, rec), &rec->bandwidth, ret);
}

/* A cgroup is matched on its path alone: the pod keys match pods only. */
const struct policy *policies_for_cgroup(const struct manager *m, const char *path)
{
	struct policy_subject s = { .value[POLICY_KEY_CGROUP] = path };

	return pick(m, &s);
}

void policies_effective_cgroup(const struct manager *m, const struct record_cgroup *rec, struct request_bandwidth *ret)
{
	effective(m, policies_for_cgroup(m, rec->path), &rec->bandwidth, ret);
}

const char *policies_admit_name(const struct manager *m, const struct record_attach *rec, char buf[POLICIES_NAMELEN])
{
	const struct policy *pol = policies_for(m, rec);
	const char *who = rec->pod_name[0] ? rec->pod_name : rec->container_id;

	if (pol)
		snprintf(buf, POLICIES_NAMELEN, "%.256s (policy %s)", who, pol->name);
	else
		snprintf(buf, POLICIES_NAMELEN, "%.256s", who);
	return buf;
}

static bool share_equal(const struct bw_share *a, const struct bw_share *b)
{
	if (a->on != b->on || a->priority != b->priority)
		return false;
	for (int d = 0; d < BW_DIRS; d++)
		if (a->guarantee[d] != b->guarantee[d] || a->limit[d] != b->limit[d])
			return false;
	return true;
}

/* Give every active workload what its policy (or its own ask alone) says now.  loud: a store
 * change (log each refusal); the timer's retries are quiet. */
static void apply(struct manager *m, bool loud)
{
	size_t changed = 0, refused = 0;

	if (!bandwidth_enabled(m))
		return;
	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			char name[POLICIES_NAMELEN];
			const struct policy *pol;
			struct request_bandwidth want;
			struct bw_share share;
			char err[NETD_ERRLEN];

			if (a->deleting || !a->bw.on)
				continue;
			policies_effective(m, &a->rec, &want);
			if (bandwidth_admit(m, &want, policies_admit_name(m, &a->rec, name), &a->bw, &share, err) < 0) {
				refused++;
				pol = policies_for(m, &a->rec);
				if (loud)
					log_error("bandwidth policy %s for %s/%s refused, it keeps its share: %s",
					          pol ? pol->name : "(none)", a->rec.container_id, a->rec.ifname, err);
				continue;
			}
			if (share_equal(&share, &a->bw))
				continue;
			changed++;
			if (bandwidth_change(m, a, &share, err) < 0)
				log_error("bandwidth policy for %s/%s: %s; reconcile retries", a->rec.container_id,
				          a->rec.ifname, err);
		}
	for (size_t i = 0; m->cgroups && i < m->cgroups->n; i++) {
		struct cgroup_wl *c = m->cgroups->v[i];
		const struct policy *pol = policies_for_cgroup(m, c->rec.path);
		struct request_bandwidth want;
		struct bw_share share;
		char err[NETD_ERRLEN], name[RECORD_CGROUP_PATH_SIZE + 80];

		if (!c->bw.on)
			continue;
		snprintf(name, sizeof(name), "cgroup %s%s%s%s", c->rec.path, pol ? " (policy " : "", pol ? pol->name : "",
		         pol ? ")" : "");
		policies_effective_cgroup(m, &c->rec, &want);
		if (bandwidth_admit(m, &want, name, &c->bw, &share, err) < 0) {
			refused++;
			if (loud)
				log_error("bandwidth policy %s for cgroup %s refused, it keeps its share: %s",
				          pol ? pol->name : "(none)", c->rec.path, err);
			continue;
		}
		if (share_equal(&share, &c->bw))
			continue;
		changed++;
		if (bandwidth_change_share(m, &c->bw, &c->bw_counted, &share, c->rec.minor, err) < 0)
			log_error("bandwidth policy for cgroup %s: %s; reconcile retries", c->rec.path, err);
	}
	if (changed || (loud && refused))
		log_info("bandwidth policies: %zu workloads changed, %zu refused", changed, refused);
}

/* ---- the store: listing and watching ---- */

static void list_async(struct manager *m);

static void restart(struct manager *m)
{
	struct policies *p = P(m);

	store_watch_cancel(p->watch);
	p->watch = NULL;
	list_async(m);
}

static void on_watch(void *userdata, const struct store_event *events, size_t n, int err)
{
	struct manager *m = userdata;
	struct policies *p = P(m);
	bool oom = false;

	if (err < 0) {
		if (err == -ECANCELED)
			log_info("watch of %s was compacted; listing the policies again", POLICY_PREFIX);
		else
			log_warn("watch of %s failed: %s; listing the policies again", POLICY_PREFIX, strerror(-err));
		restart(m);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_kv *kv = &events[i].kv;
		const char *name = key_name(kv->key);
		struct policy pol;

		if (kv->mod_rev > p->revision)
			p->revision = kv->mod_rev;
		if (!name)
			continue;
		if (events[i].type == STORE_EVENT_DELETE) {
			del(p, name);
			log_info("policy %s deleted", name);
		} else if (kv_parse(kv, &pol) == 0) {
			oom |= put(p, &pol) < 0;
			log_info("policy %s set", name);
		} else {
			del(p, name);   /* replaced by something unreadable: the old one no longer holds */
		}
	}
	if (oom) {
		log_error("out of memory keeping the store's policies; listing them again");
		restart(m);
		return;
	}
	apply(m, true);
}

static void watch_start(struct manager *m)
{
	struct policies *p = P(m);
	int r = store_watch(m->store, POLICY_PREFIX, p->revision, on_watch, m, &p->watch);

	if (r < 0) {
		p->watch = NULL;
		log_error("failed to watch %s in store %s: %s; the reconcile timer retries", POLICY_PREFIX, m->cfg.store,
		          strerror(-r));
	}
}

static void on_list(void *userdata, int err, const struct store_kvs *kvs)
{
	struct manager *m = userdata;
	struct policies *p;

	if (err == -ECANCELED)
		return;   /* the store is going away */
	p = P(m);
	p->listing = false;
	if (p->stopped)
		return;   /* a new watch would keep the loop of a stopping shoald alive */
	if (err < 0) {
		log_warn("failed to list %s in store %s: %s; the reconcile timer retries", POLICY_PREFIX, m->cfg.store,
		         strerror(-err));
		return;
	}
	if (replace(p, kvs) < 0) {
		log_error("out of memory copying the store's policies; the reconcile timer retries");
		return;
	}
	apply(m, true);
	watch_start(m);
}

static void list_async(struct manager *m)
{
	struct policies *p = P(m);
	int r;

	if (p->listing)
		return;
	r = store_list_async(m->store, POLICY_PREFIX, on_list, m);
	if (r < 0) {
		log_warn("failed to list %s in store %s: %s; the reconcile timer retries", POLICY_PREFIX, m->cfg.store,
		         strerror(-r));
		return;
	}
	p->listing = true;
}

int policies_start(struct manager *m)
{
	struct policies *p = calloc(1, sizeof(*p));
	struct store_kvs kvs;
	int r;

	if (!p)
		return -ENOMEM;
	m->policies = p;
	r = store_list(m->store, POLICY_PREFIX, &kvs);
	if (r < 0) {
		log_warn("failed to list %s in store %s: %s; workloads get their own bandwidth until the reconcile "
		         "timer reads them", POLICY_PREFIX, m->cfg.store, strerror(-r));
		return 0;
	}
	r = replace(p, &kvs);
	store_kvs_done(&kvs);
	if (r < 0) {
		log_error("out of memory copying the store's policies");
		return r;
	}
	if (p->n)
		log_info("%zu bandwidth %s", p->n, p->n == 1 ? "policy" : "policies");
	watch_start(m);
	return 0;
}

void policies_reconcile(struct manager *m)
{
	struct policies *p = P(m);

	if (!p || p->stopped)
		return;
	apply(m, false);
	if (!p->watch)
		list_async(m);   /* applies what it finds, then watches */
}

void policies_stop(struct manager *m)
{
	struct policies *p = P(m);

	if (!p)
		return;
	p->stopped = true;
	store_watch_cancel(p->watch);
	p->watch = NULL;
}

void policies_free(struct manager *m)
{
	struct policies *p = P(m);

	if (!p)
		return;
	free(p->v);
	free(p);
	m->policies = NULL;
}

/* ---- the API's operations ---- */

struct policies_op {
	struct manager *m;
	policies_done_cb cb;
	void *userdata;
	struct policy pol;            /* set: what was written */
	char name[POLICY_NAME_SIZE];  /* delete */
};

static void op_finish(struct policies_op *op, int err, json_t *result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void op_finish(struct policies_op *op, int err, json_t *result, const char *fmt, ...)
{
	char msg[NETD_ERRLEN] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	op->cb(op->userdata, err, result, msg);
	free(op);
}

/* A store call that could not start is the store's failure, never the policy's: -EINVAL from the
 * store (a key it refuses) must not read as "invalid policy" to the API. */
static int store_start_err(int r)
{
	return r == -EINVAL ? -EIO : r;
}

static struct policies_op *op_new(struct manager *m, policies_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct policies_op *op = calloc(1, sizeof(*op));

	if (!op) {
		snprintf(msg, NETD_ERRLEN, "out of memory");
		return NULL;
	}
	*op = (struct policies_op){ .m = m, .cb = cb, .userdata = userdata };
	return op;
}

/* How many of this node's workloads a policy applies to now. */
static size_t workloads_of(const struct manager *m, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < ATT_BUCKETS; i++)
		for (const struct attachment *a = m->by_veth[i]; a; a = a->next_veth) {
			const struct policy *pol = a->deleting ? NULL : policies_for(m, &a->rec);

			n += pol && strcmp(pol->name, name) == 0;
		}
	return n;
}

static void on_listed(void *userdata, int err, const struct store_kvs *kvs)
{
	struct policies_op *op = userdata;
	json_t *list;

	if (err < 0) {
		op_finish(op, err, NULL, "failed to list %s in store %s: %s", POLICY_PREFIX, op->m->cfg.store,
		          strerror(-err));
		return;
	}
	list = json_array();
	for (size_t i = 0; list && i < kvs->n; i++) {
		const char *name = key_name(kvs->kvs[i].key);
		char perr[POLICY_ERRLEN];
		struct policy pol;
		json_t *o;

		if (!name)
			continue;
		if (policy_parse(name, kvs->kvs[i].value, kvs->kvs[i].value_len, &pol, perr) < 0) {
			o = json_pack("{s:s, s:s}", "name", name, "error", perr);
		} else {
			o = policy_encode(&pol);
			if (o)
				json_object_set_new(o, "workloads", json_integer((json_int_t)workloads_of(op->m, name)));
		}
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (!list) {
		op_finish(op, -ENOMEM, NULL, "out of memory listing the policies");
		return;
	}
	op_finish(op, 0, json_pack("{s:o, s:I}", "policies", list, "revision", (json_int_t)kvs->revision), NULL);
}

int policies_list(struct manager *m, policies_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct policies_op *op = op_new(m, cb, userdata, msg);
	int r;

	if (!op)
		return -ENOMEM;
	r = store_list_async(m->store, POLICY_PREFIX, on_listed, op);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to list %s in store %s: %s", POLICY_PREFIX, m->cfg.store, strerror(-r));
		free(op);
	}
	return store_start_err(r);
}

static void on_put(void *userdata, int err, int64_t rev)
{
	struct policies_op *op = userdata;
	json_t *o;

	if (err < 0) {
		op_finish(op, err, NULL, "failed to write policy %s to store %s: %s", op->pol.name, op->m->cfg.store,
		          strerror(-err));
		return;
	}
	log_info("policy %s written (revision %lld)", op->pol.name, (long long)rev);
	o = policy_encode(&op->pol);
	op_finish(op, o ? 0 : -ENOMEM, o ? json_pack("{s:o, s:I}", "policy", o, "revision", (json_int_t)rev) : NULL,
	          "out of memory");
}

int policies_set(struct manager *m, const struct policy *pol, policies_done_cb cb, void *userdata,
                 char msg[NETD_ERRLEN])
{
	struct policies_op *op = op_new(m, cb, userdata, msg);
	char key[sizeof(POLICY_PREFIX) + POLICY_NAME_SIZE];
	json_t *body;
	char *text;
	int r;

	if (!op)
		return -ENOMEM;
	op->pol = *pol;
	body = policy_encode_body(pol);
	text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(body);
	if (!text) {
		snprintf(msg, NETD_ERRLEN, "out of memory");
		free(op);
		return -ENOMEM;
	}
	snprintf(key, sizeof(key), "%s%s", POLICY_PREFIX, pol->name);
	r = store_put_async(m->store, key, text, strlen(text), 0, on_put, op);
	free(text);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to write policy %s to store %s: %s", pol->name, m->cfg.store, strerror(-r));
		free(op);
	}
	return store_start_err(r);
}

static void on_deleted(void *userdata, int err, int64_t rev)
{
	struct policies_op *op = userdata;

	if (err == -ENOENT) {
		op_finish(op, err, NULL, "no policy %s in store %s", op->name, op->m->cfg.store);
		return;
	}
	if (err < 0) {
		op_finish(op, err, NULL, "failed to delete policy %s from store %s: %s", op->name, op->m->cfg.store,
		          strerror(-err));
		return;
	}
	log_info("policy %s deleted from the store (revision %lld)", op->name, (long long)rev);
	op_finish(op, 0, json_pack("{s:s, s:I}", "name", op->name, "revision", (json_int_t)rev), NULL);
}

int policies_delete(struct manager *m, const char *name, policies_done_cb cb, void *userdata, char msg[NETD_ERRLEN])
{
	struct policies_op *op;
	char key[sizeof(POLICY_PREFIX) + POLICY_NAME_SIZE];
	int r;

	if (!policy_name_valid(name)) {
		snprintf(msg, NETD_ERRLEN, "invalid policy name \"%.64s\"", name ? name : "");
		return -EINVAL;
	}
	op = op_new(m, cb, userdata, msg);
	if (!op)
		return -ENOMEM;
	snprintf(op->name, sizeof(op->name), "%s", name);
	snprintf(key, sizeof(key), "%s%s", POLICY_PREFIX, name);
	r = store_delete_async(m->store, key, 0, on_deleted, op);
	if (r < 0) {
		snprintf(msg, NETD_ERRLEN, "failed to delete policy %s from store %s: %s", name, m->cfg.store, strerror(-r));
		free(op);
	}
	return store_start_err(r);
}
