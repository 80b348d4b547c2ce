/* Bandwidth per cgroup: the quotas, their records, and the uplink's classifiers (netd/cgroups.h,
 * docs/bandwidth.md "Cgroups"). */
#include "netd/cgroups.h"

#include <dirent.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgpath.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "netd/bw_int.h"
#include "netd/netd.h"
#include "netd/policies.h"
#include "overlay/host.h"
#include "overlay/nlsock.h"
#include "tc/cgbpf.h"
#include "tc/quota.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static struct cgroups *CG(const struct manager *m)
{
	return m->cgroups;
}

/* ---- paths ---- */

/* The first cgroup2 mount of the whole hierarchy (root "/") in /proc/self/mountinfo. */
static void find_root(char out[RECORD_CGROUP_PATH_SIZE])
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char root[1024], mnt[1024], fstype[64], *dash = strstr(line, " - ");
		size_t o = 0;

		if (!dash || sscanf(dash + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 || strcmp(root, "/") != 0)
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo. */
		for (const char *p = mnt; *p && o + 1 < RECORD_CGROUP_PATH_SIZE; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
			    p[3] <= '7') {
				out[o++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else
				out[o++] = *p;
		}
		out[o] = '\0';
		break;
	}
	fclose(f);
}

int cgroups_normalise(const char *root, const char *in, char out[RECORD_CGROUP_PATH_SIZE], const char **why)
{
	char r[RECORD_CGROUP_PATH_SIZE], p[RECORD_CGROUP_PATH_SIZE * 2];
	const char *rel = p;
	size_t rl;

	if (cgroup_path_normalise(in, p, sizeof(p)) < 0) {
		*why = "the root itself, a \"..\" component, or too long";
		return -EINVAL;
	}
	if (p[0] == '/') {
		/* The mount's own path normalised the same way ("/" stays "/"). */
		if (strcmp(root, "/") == 0 || cgroup_path_normalise(root, r, sizeof(r)) < 0)
			snprintf(r, sizeof(r), "/");
		rl = strcmp(r, "/") == 0 ? 0 : strlen(r);
		if (strncmp(p, r, rl) != 0 || p[rl] != '/') {
			*why = "not under the cgroup v2 mount";
			return -EINVAL;
		}
		rel = p + rl + 1;
	}
	if (strlen(rel) >= RECORD_CGROUP_PATH_SIZE) {
		*why = "too long";
		return -EINVAL;
	}
	snprintf(out, RECORD_CGROUP_PATH_SIZE, "%s", rel);
	return record_cgroup_path_valid(out, why) ? 0 : -EINVAL;
}

static unsigned path_level(const char *path)
{
	unsigned n = 1;

	for (const char *p = path; *p; p++)
		n += *p == '/';
	return n;
}

/* The directory behind a normalised path: its inode (the cgroup id BPF programs see). */
static int look(const struct cgroups *cg, const char *path, uint64_t *ret_id, char err[NETD_ERRLEN])
{
	char full[RECORD_CGROUP_PATH_SIZE * 2 + 2];
	struct statfs sf;
	struct stat st;

	snprintf(full, sizeof(full), "%s/%s", cg->root, path);
	if (stat(full, &st) < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, NETD_ERRLEN, "%s does not exist", full);
		else
			snprintf(err, NETD_ERRLEN, "%s: %s", full, strerror(e));
		return e == ENOENT ? -ENOENT : e == ENOTDIR ? -ENOTDIR : -e;
	}
	if (!S_ISDIR(st.st_mode) || statfs(full, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, NETD_ERRLEN, "%s is not a cgroup v2 directory", full);
		return -ENOTDIR;
	}
	*ret_id = (uint64_t)st.st_ino;
	return 0;
}

/* ---- the table ---- */

static struct cgroup_wl *find_path(const struct cgroups *cg, const char *path)
{
	for (size_t i = 0; i < cg->n; i++)
		if (strcmp(cg->v[i]->rec.path, path) == 0)
			return cg->v[i];
	return NULL;
}

static struct cgroup_wl *find_id(const struct cgroups *cg, uint64_t id)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->v[i]->rec.id == id)
			return cg->v[i];
	return NULL;
}

static int insert(struct cgroups *cg, struct cgroup_wl *c)
{
	size_t i;

	if (cg->n == cg->cap) {
		size_t cap = cg->cap ? cg->cap * 2 : 16;
		struct cgroup_wl **v = realloc(cg->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cg->v = v;
		cg->cap = cap;
	}
	for (i = cg->n; i > 0 && cg->v[i - 1]->rec.minor > c->rec.minor; i--)
		cg->v[i] = cg->v[i - 1];
	cg->v[i] = c;
	cg->n++;
	return 0;
}

static void unlink_wl(struct cgroups *cg, const struct cgroup_wl *c)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->v[i] == c) {
			memmove(&cg->v[i], &cg->v[i + 1], (cg->n - i - 1) * sizeof(*cg->v));
			cg->n--;
			return;
		}
}

/* The lowest class minor above the subnet's offsets that no cgroup holds. */
static int pick_minor(const struct manager *m, uint16_t *ret, char err[NETD_ERRLEN])
{
	const struct cgroups *cg = CG(m);
	uint32_t first = m->subnet.len >= 17 ? 1u << (32 - m->subnet.len) : 0x10000;
	uint32_t want = first;

	for (size_t i = 0; i < cg->n; i++) {
		if (cg->v[i]->rec.minor < want)
			continue;
		if (cg->v[i]->rec.minor > want)
			break;
		want++;
	}
	if (want >= BW_LOW_MINOR) {
		if (first >= BW_LOW_MINOR)
			snprintf(err, NETD_ERRLEN, "cgroup quotas need a subnet of /17 or longer (this node's is /%u: its "
			         "addresses take every class number)", m->subnet.len);
		else
			snprintf(err, NETD_ERRLEN, "no class number left for another cgroup (%u in use)", BW_LOW_MINOR - first);
		return -ENOSPC;
	}
	*ret = (uint16_t)want;
	return 0;
}

/* ---- records ---- */

static void rec_path(const struct cgroups *cg, uint16_t minor, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%u.json", cg->dir, minor);
}

static int rec_write(const struct cgroups *cg, const struct record_cgroup *rec)
{
	char path[400], *data;
	json_t *j = record_cgroup_to_json(rec);
	int r;

	rec_path(cg, rec->minor, path, sizeof(path));
	data = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	/* fsync'd: unlike a veth, a quota outlives a reboot (the cgroup may be made again). */
	r = data ? file_write_atomic(path, data, strlen(data), 0644) : -ENOMEM;
	free(data);
	return r;
}

static int load_one(struct manager *m, const char *name)
{
	struct cgroups *cg = CG(m);
	char path[400], err[RECORD_ERRLEN], *data = NULL;
	struct record_cgroup rec;
	struct cgroup_wl *c;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", cg->dir, name);
	r = file_read_all(path, 64 * 1024, &data, &len);
	if (r == 0)
		r = record_cgroup_parse(data, len, &rec, err);
	else
		snprintf(err, sizeof(err), "%s", strerror(-r));
	free(data);
	if (r == 0 && (strtoul(name, NULL, 10) != rec.minor || find_path(cg, rec.path) ||
	               (rec.minor < (m->subnet.len >= 17 ? 1u << (32 - m->subnet.len) : 0x10000)))) {
		snprintf(err, sizeof(err), "its minor %u is not its file's, is another's, or inside the subnet", rec.minor);
		r = -EBADMSG;
	}
	if (r < 0) {
		char bad[410];

		snprintf(bad, sizeof(bad), "%s.bad", path);
		log_error("cgroup record %s: %s; set aside as %s", path, err, bad);
		(void)rename(path, bad);
		return 0;
	}
	for (size_t i = 0; i < cg->n; i++)
		if (cg->v[i]->rec.minor == rec.minor)
			return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->rec = rec;
	c->level = path_level(rec.path);
	if (insert(cg, c) < 0) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

int cgroups_start(struct manager *m)
{
	struct cgroups *cg = calloc(1, sizeof(*cg));
	struct dirent *e;
	DIR *d;
	int r;

	if (!cg)
		return -ENOMEM;
	m->cgroups = cg;
	find_root(cg->root);
	snprintf(cg->dir, sizeof(cg->dir), "%s/cgroups", m->cfg.state_dir);
	r = mkdir_p(cg->dir, 0755);
	if (r < 0) {
		log_error("cannot create %s: %s", cg->dir, strerror(-r));
		return r;
	}
	d = opendir(cg->dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0 && (r = load_one(m, e->d_name)) < 0)
			break;
		r = 0;
	}
	closedir(d);
	if (cg->n)
		log_info("%zu cgroup quotas restored", cg->n);
	return r;
}

void cgroups_free(struct manager *m)
{
	struct cgroups *cg = CG(m);

	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++)
		free(cg->v[i]);
	free(cg->v);
	if (cg->bpf)
		cgbpf_free(cg->bpf);
	free(cg);
	m->cgroups = NULL;
}

/* ---- the uplink's classifiers ---- */

/* Our filters on the uplink's clsact as a dump shows them, by hook ([1]: ingress). */
struct uplink_seen {
	bool present[2];              /* a bpf filter at our priority */
	bool ours[2];                 /* ...carrying our program's name, handle, mode and protocol */
	uint32_t prog_id[2];          /* its program (ours only) */
	uint32_t redirect[2];         /* the IFB it redirects to */
};

static int uplink_cb(const struct nlmsghdr *nlh, void *data)
{
	struct uplink_seen *s = data;
	struct classify_uplink_filter f;
	int h;

	if (classify_parse_uplink_filter(nlh, &f) < 0)
		return MNL_CB_OK;
	h = f.ingress_hook;
	s->present[h] = true;
	s->ours[h] = strcmp(f.prog_name, cgbpf_prog_name(f.ingress_hook)) == 0 && f.handle == CLASSIFY_UPLINK_HANDLE &&
	             f.protocol == ETH_P_ALL && !f.direct_action;
	s->prog_id[h] = s->ours[h] ? f.prog_id : 0;
	s->redirect[h] = f.redirect_ifindex;
	return MNL_CB_OK;
}

static void uplink_reset(void *data)
{
	memset(data, 0, sizeof(struct uplink_seen));
}

static int uplink_observe(struct manager *m, int ifindex, struct uplink_seen *s, char err[NETD_ERRLEN])
{
	char buf[256], kerr[NLSOCK_ERRLEN] = "";
	int r = 0;

	memset(s, 0, sizeof(*s));
	for (int hook = 0; hook < 2 && r >= 0; hook++) {
		r = tcmsg_build_filter_dump(buf, sizeof(buf), 0, ifindex, hook ? TCMSG_CLSACT_INGRESS : TCMSG_CLSACT_EGRESS);
		if (r >= 0) {
			struct uplink_seen one = { 0 };

			r = nlsock_query(m->nl, buf, uplink_cb, uplink_reset, &one, kerr);
			s->present[hook] = one.present[hook];
			s->ours[hook] = one.ours[hook];
			s->prog_id[hook] = one.prog_id[hook];
			s->redirect[hook] = one.redirect[hook];
		}
	}
	/* A device without clsact has no filters to dump. */
	if (r == -EINVAL || r == -ENOENT)
		r = 0;
	if (r < 0)
		snprintf(err, NETD_ERRLEN, "cannot read the filters of the uplink: %s%s%s", strerror(-r), kerr[0] ? ": " : "",
		         kerr);
	return r;
}

static int uplink_find(struct manager *m, int *ret_ifindex, char name[16], char err[NETD_ERRLEN])
{
	struct overlay_underlay u;
	char oerr[OVERLAY_ERRLEN];
	int r;

	/* Named: that device, whatever its addresses (only its packets matter). */
	if (m->cfg.bandwidth.uplink[0]) {
		unsigned idx = if_nametoindex(m->cfg.bandwidth.uplink);

		if (!idx) {
			snprintf(err, NETD_ERRLEN, "no uplink to classify cgroups' traffic on: \"bandwidth.uplink\" %s: %s",
			         m->cfg.bandwidth.uplink, strerror(errno));
			return -ENODEV;
		}
		*ret_ifindex = (int)idx;
		snprintf(name, 16, "%s", m->cfg.bandwidth.uplink);
		return 0;
	}
	r = overlay_underlay_addr(m->nl, m->cfg.underlay, &u, oerr);
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "no uplink to classify cgroups' traffic on (\"bandwidth.uplink\"): %s", oerr);
		return r;
	}
	*ret_ifindex = u.ifindex;
	snprintf(name, 16, "%s", u.name);
	return 0;
}

/* Both filters on the uplink: added, or replaced in place (the programs swap atomically). */
static int uplink_attach(struct manager *m, int ifindex, char err[NETD_ERRLEN])
{
	struct cgroups *cg = CG(m);
	struct bw_batch *b;
	size_t room;
	char *p;
	int r = bw_batch_new(m->nl, &b, err);

	if (r < 0)
		return r;
	p = bw_batch_room(b, &room);
	/* REPLACE keeps a clsact that is there, with every filter on it (someone else's too). */
	bw_batch_added(b, classify_build_clsact(p, room, bw_batch_seq(b), TCMSG_REPLACE, ifindex), "uplink clsact", 0, 1);
	for (int hook = 0; hook < 2; hook++) {
		const struct bw_tree *t = &m->bw->t[hook ? BW_INGRESS : BW_EGRESS];

		p = bw_batch_room(b, &room);
		bw_batch_added(b, classify_build_uplink(p, room, bw_batch_seq(b), TCMSG_REPLACE, ifindex, hook,
		                                        cgbpf_prog_fd(cg->bpf, hook), cgbpf_prog_name(hook), t->ifindex),
		               hook ? "uplink ingress classifier" : "uplink egress classifier", 0, 1);
	}
	r = bw_batch_send(b, err);
	bw_batch_free(b);
	return r;
}

static void uplink_detach(struct manager *m, int ifindex)
{
	char err[NETD_ERRLEN];
	struct bw_batch *b;

	if (bw_batch_new(m->nl, &b, err) < 0)
		return;
	for (int hook = 0; hook < 2; hook++) {
		size_t room;
		char *p = bw_batch_room(b, &room);

		bw_batch_added(b, classify_build_uplink(p, room, bw_batch_seq(b), TCMSG_DEL, ifindex, hook, -1, NULL, 0),
		               "uplink classifier", -ENOENT, 1);
	}
	if (bw_batch_send(b, err) < 0)
		log_warn("bandwidth: removing the cgroup classifiers: %s", err);
	bw_batch_free(b);
}

/* Load the programs (adopting the maps of those attached, so learned flows survive a restart),
 * attach them to the uplink, and fill their quota map.  Idempotent. */
static int uplink_ensure(struct manager *m, bool startup, char err[NETD_ERRLEN])
{
	struct cgroups *cg = CG(m);
	struct uplink_seen s;
	char lerr[NETD_ERRLEN];
	int ifindex, r;
	char name[16];
	bool adopted = false;

	r = uplink_find(m, &ifindex, name, err);
	if (r < 0)
		return r;
	if (cg->bpf && cg->uplink_ifindex == ifindex) {
		/* Loaded and attached: only check that the filters are still there. */
		r = uplink_observe(m, ifindex, &s, err);
		if (r < 0)
			return r;
		if (s.ours[0] && s.ours[1] && s.redirect[0] == (uint32_t)m->bw->t[BW_EGRESS].ifindex &&
		    s.redirect[1] == (uint32_t)m->bw->t[BW_INGRESS].ifindex)
			return 0;
		log_warn("bandwidth: repairing the cgroup classifiers on %s", name);
		return uplink_attach(m, ifindex, err);
	}
	if (cg->bpf) {
		/* The uplink moved: leave the old one. */
		uplink_detach(m, cg->uplink_ifindex);
		cgbpf_free(cg->bpf);
		cg->bpf = NULL;
		cg->uplink_ifindex = 0;
	}
	r = uplink_observe(m, ifindex, &s, err);
	if (r < 0)
		return r;
	r = cgbpf_load(s.prog_id[0], BW_IFB_MAJOR_EGRESS, BW_IFB_MAJOR_INGRESS, &cg->bpf, &adopted, lerr, sizeof(lerr));
	if (r < 0) {
		snprintf(err, NETD_ERRLEN, "cannot load the cgroup classifiers: %s", lerr);
		return r;
	}
	/* Entries first, so that the programs classify from their first packet. */
	for (size_t i = 0; i < cg->n; i++) {
		const struct cgroup_wl *c = cg->v[i];

		if (c->bw.on && (r = cgbpf_quota_set(cg->bpf, c->rec.id, c->level, c->rec.minor)) < 0)
			log_warn("bandwidth: cgroup %s: cannot set its classifier entry: %s", c->rec.path, strerror(-r));
	}
	r = uplink_attach(m, ifindex, err);
	if (r < 0) {
		cgbpf_free(cg->bpf);
		cg->bpf = NULL;
		return r;
	}
	cg->uplink_ifindex = ifindex;
	snprintf(cg->uplink, sizeof(cg->uplink), "%s", name);
	if (!startup || !adopted)
		log_info("bandwidth: cgroup classifiers %s on %s", adopted ? "replaced" : "attached", name);
	return 0;
}

/* Entries of the quota map that no cgroup has (after an adoption, or a failed delete). */
static void entries_prune(struct manager *m)
{
	struct cgroups *cg = CG(m);
	struct cgbpf_entry *v = NULL;
	size_t n = 0;

	if (!cg->bpf || cgbpf_quota_list(cg->bpf, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct cgroup_wl *c = find_id(cg, v[i].cgroup_id);

		if (!c || !c->bw.on || c->rec.minor != v[i].minor || c->level != v[i].level) {
			if (c && c->bw.on)
				(void)cgbpf_quota_set(cg->bpf, c->rec.id, c->level, c->rec.minor);
			else
				(void)cgbpf_quota_del(cg->bpf, v[i].cgroup_id);
		}
	}
	free(v);
}

/* No quota left: remove the filters from the uplink (ours wherever found) and free the programs. */
static void uplink_release(struct manager *m)
{
	struct cgroups *cg = CG(m);
	struct uplink_seen s;
	char err[NETD_ERRLEN];
	int ifindex;
	char name[16];

	if (cg->bpf) {
		uplink_detach(m, cg->uplink_ifindex);
		cgbpf_free(cg->bpf);
		cg->bpf = NULL;
		cg->uplink_ifindex = 0;
		log_info("bandwidth: no cgroup quota left; classifiers removed from %s", cg->uplink);
		return;
	}
	/* Left by a shoald that stopped before removing them. */
	if (uplink_find(m, &ifindex, name, err) == 0 && uplink_observe(m, ifindex, &s, err) == 0 &&
	    (s.present[0] || s.present[1])) {
		uplink_detach(m, ifindex);
		log_info("bandwidth: removed leftover cgroup classifiers from %s", name);
	}
}

/* ---- quotas ---- */

/* Admission of rec's own ask with its policy filling in what it leaves unset. */
static int admit(struct manager *m, const struct record_cgroup *rec, const struct bw_share *self, struct bw_share *ret,
                 char err[NETD_ERRLEN])
{
	const struct policy *pol = policies_for_cgroup(m, rec->path);
	char name[RECORD_CGROUP_PATH_SIZE + 80];
	struct request_bandwidth eff;

	snprintf(name, sizeof(name), "cgroup %s%s%s%s", rec->path, pol ? " (policy " : "", pol ? pol->name : "",
	         pol ? ")" : "");
	policies_effective_cgroup(m, rec, &eff);
	return bandwidth_admit(m, &eff, name, self, ret, err);
}

int cgroups_quota_set(struct manager *m, const char *path, const struct request_bandwidth *want,
                      const struct cgroup_wl **ret, char err[NETD_ERRLEN])
{
	struct cgroups *cg = CG(m);
	char norm[RECORD_CGROUP_PATH_SIZE];
	struct cgroup_wl *c, fresh = { 0 };
	struct bw_share share;
	const char *why;
	bool created;
	uint64_t id;
	int r;

	if (!bandwidth_enabled(m)) {
		snprintf(err, NETD_ERRLEN, "bandwidth is not configured on node %s (\"bandwidth\" in shoald's config)",
		         m->cfg.node);
		return -EOPNOTSUPP;
	}
	if (!cg->root[0]) {
		snprintf(err, NETD_ERRLEN, "no cgroup v2 hierarchy is mounted on node %s", m->cfg.node);
		return -ENOMEDIUM;
	}
	if (cgroups_normalise(cg->root, path, norm, &why) < 0) {
		snprintf(err, NETD_ERRLEN, "cgroup \"%.256s\": %s (cgroup v2 is mounted at %s)", path, why, cg->root);
		return -EINVAL;
	}
	r = look(cg, norm, &id, err);
	if (r < 0)
		return r;
	c = find_path(cg, norm);
	if (!c) {
		const struct cgroup_wl *other = find_id(cg, id);

		if (other) {
			snprintf(err, NETD_ERRLEN, "cgroup %s already has a quota as %s", norm, other->rec.path);
			return -EEXIST;
		}
		c = &fresh;
		r = pick_minor(m, &c->rec.minor, err);
		if (r < 0)
			return r;
		snprintf(c->rec.path, sizeof(c->rec.path), "%s", norm);
		c->rec.created = (int64_t)time(NULL);
		c->level = path_level(norm);
	}
	created = c == &fresh;
	{
		struct record_cgroup rec = c->rec;

		rec.id = id;
		rec.bandwidth = *want;
		if (admit(m, &rec, &c->bw, &share, err) < 0)
			return -EDQUOT;
		r = rec_write(cg, &rec);
		if (r < 0) {
			snprintf(err, NETD_ERRLEN, "failed to persist the quota in %s: %s", cg->dir, strerror(-r));
			return -EIO;
		}
		c->rec = rec;
	}
	if (created) {
		/* Filled before insert(), which keeps the table sorted by minor (pick_minor reads it). */
		c = malloc(sizeof(*c));
		if (c)
			*c = fresh;
		if (!c || insert(cg, c) < 0) {
			char p[400];

			free(c);
			rec_path(cg, fresh.rec.minor, p, sizeof(p));
			(void)unlink(p);
			snprintf(err, NETD_ERRLEN, "out of memory");
			return -ENOMEM;
		}
	}
	r = bandwidth_change_share(m, &c->bw, &c->bw_counted, &share, c->rec.minor, err);
	if (r == 0)
		r = uplink_ensure(m, false, err);
	if (r == 0 && (r = cgbpf_quota_set(cg->bpf, c->rec.id, c->level, c->rec.minor)) < 0)
		snprintf(err, NETD_ERRLEN, "cannot set the classifier entry of cgroup %s: %s", c->rec.path, strerror(-r));
	*ret = c;
	if (r < 0) {
		size_t l = strlen(err);

		/* Recorded: the next reconcile retries; say so, as netctl shows the quota. */
		snprintf(err + l, NETD_ERRLEN - l, " (the quota is recorded; the next reconcile retries)");
		return r;
	}
	log_info("quota of cgroup %s %s (class %x)", c->rec.path, created ? "set" : "changed", c->rec.minor);
	return 0;
}

static void remove_wl(struct manager *m, struct cgroup_wl *c, const char *why)
{
	struct cgroups *cg = CG(m);
	char path[400];

	if (cg->bpf)
		(void)cgbpf_quota_del(cg->bpf, c->rec.id);
	bandwidth_detach_share(m, &c->bw, &c->bw_counted, c->rec.minor);
	rec_path(cg, c->rec.minor, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_error("cannot remove %s: %s", path, strerror(errno));
	log_info("quota of cgroup %s removed (%s)", c->rec.path, why);
	unlink_wl(cg, c);
	free(c);
	if (!cg->n)
		uplink_release(m);
}

int cgroups_quota_delete(struct manager *m, const char *path, char err[NETD_ERRLEN])
{
	struct cgroups *cg = CG(m);
	char norm[RECORD_CGROUP_PATH_SIZE];
	struct cgroup_wl *c;
	const char *why;

	if (cgroups_normalise(cg->root[0] ? cg->root : "/", path, norm, &why) < 0) {
		snprintf(err, NETD_ERRLEN, "cgroup \"%.256s\": %s", path, why);
		return -EINVAL;
	}
	c = find_path(cg, norm);
	if (!c) {
		snprintf(err, NETD_ERRLEN, "cgroup %s has no quota on node %s", norm, m->cfg.node);
		return -ENOENT;
	}
	remove_wl(m, c, "deleted");
	return 0;
}

/* ---- reconcile ---- */

void cgroups_reconcile(struct manager *m, bool startup)
{
	struct cgroups *cg = CG(m);
	char err[NETD_ERRLEN];

	if (!cg)
		return;
	if (!bandwidth_enabled(m)) {
		/* A redirect to an IFB that goes with "bandwidth" would drop everything it takes. */
		if (startup)
			uplink_release(m);
		return;
	}
	for (size_t i = 0; cg->root[0] && i < cg->n;) {
		struct cgroup_wl *c = cg->v[i];
		uint64_t id;
		int r = look(cg, c->rec.path, &id, err);

		if (r == -ENOENT) {
			log_info("bandwidth: %s", err);
			remove_wl(m, c, "the cgroup is gone");
			continue;
		}
		if (r < 0) {
			/* Not something we may conclude "gone" from: keep the quota, say why. */
			log_warn("bandwidth: cgroup %s: %s", c->rec.path, err);
			i++;
			continue;
		}
		if (id != c->rec.id) {
			/* Made again under the same path: the quota follows the path. */
			struct record_cgroup rec = c->rec;

			if (cg->bpf)
				(void)cgbpf_quota_del(cg->bpf, c->rec.id);
			rec.id = id;
			if (rec_write(cg, &rec) == 0)
				c->rec = rec;
			if (cg->bpf)
				(void)cgbpf_quota_set(cg->bpf, c->rec.id, c->level, c->rec.minor);
			log_info("bandwidth: cgroup %s was made again; its quota follows it", c->rec.path);
		}
		i++;
	}
	if (!cg->n) {
		uplink_release(m);
		return;
	}
	if (!cg->root[0] && startup)
		log_error("bandwidth: %zu cgroup quotas recorded but no cgroup v2 hierarchy is mounted: they are kept, "
		          "unchecked", cg->n);
	if (uplink_ensure(m, startup, err) < 0) {
		log_error("bandwidth: %s; the next reconcile retries", err);
		return;
	}
	entries_prune(m);
}

/* ---- the API's view ---- */

json_t *cgroups_entry_json(const struct manager *m, const struct cgroup_wl *c, const struct bw_snapshot *snap)
{
	const struct cgroups *cg = CG(m);
	const struct policy *pol = policies_for_cgroup(m, c->rec.path);
	char full[RECORD_CGROUP_PATH_SIZE * 2 + 2];
	json_t *asked = request_bandwidth_encode(&c->rec.bandwidth);

	snprintf(full, sizeof(full), "%s/%s", cg->root, c->rec.path);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:o, s:o, s:o, s:o}", "kind", "cgroup", "cgroup", c->rec.path,
	                 "cgroupDir", full, "cgroupId", (json_int_t)c->rec.id, "created", (json_int_t)c->rec.created,
	                 "class", (int)c->rec.minor, "bandwidth", bandwidth_share_json(&c->bw), "bandwidthAsked",
	                 asked ? asked : json_object(), "policy", pol ? json_string(pol->name) : json_null(), "counters",
	                 snap ? bandwidth_counters_json_minor(snap, c->bw.on, c->rec.minor) : json_null());
}

json_t *cgroups_json(const struct manager *m, const struct bw_snapshot *snap)
{
	const struct cgroups *cg = CG(m);
	json_t *list = json_array();

	for (size_t i = 0; cg && list && i < cg->n; i++)
		json_array_append_new(list, cgroups_entry_json(m, cg->v[i], snap));
	return list;
}
