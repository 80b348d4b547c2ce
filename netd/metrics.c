/* /metrics and /healthz (netd/metrics.h): what a scrape reads from the manager, the pure text
 * rendering, the rates between scrapes, and the glue to netd/http.c. */
#include "netd/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipam/ipam.h"
#include "lib/log.h"
#include "netd/cgroups.h"
#include "netd/config.h"
#include "netd/http.h"
#include "netd/netd.h"

static const char *const dir_name[BW_DIRS] = { [BW_EGRESS] = "egress", [BW_INGRESS] = "ingress" };

/* ---- rendering (pure) ---- */

/* A label value: backslash, double quote and line feed escaped (the text format's only escapes). */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_label(FILE *f, bool *first, const char *name, const char *value)
{
	fprintf(f, "%s%s=\"", *first ? "{" : ",", name);
	put_escaped(f, value);
	fputc('"', f);
	*first = false;
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{container_id=...,ifname=...,pod_namespace=...,pod_name=...[,direction=...]} (pod labels only
 * when known); a cgroup's name{cgroup=...[,direction=...]}: the attachment's labels would be empty,
 * which Prometheus reads as absent, so they are left out. */
static void put_workload_series(FILE *f, const char *name, const struct metrics_workload *w, int dir)
{
	bool first = true;

	fputs(name, f);
	if (w->cgroup) {
		put_label(f, &first, "cgroup", w->cgroup);
		if (dir >= 0)
			put_label(f, &first, "direction", dir_name[dir]);
		fputs("} ", f);
		return;
	}
	put_label(f, &first, "container_id", w->container_id);
	put_label(f, &first, "ifname", w->ifname);
	if (w->pod_namespace[0])
		put_label(f, &first, "pod_namespace", w->pod_namespace);
	if (w->pod_name[0])
		put_label(f, &first, "pod_name", w->pod_name);
	if (dir >= 0)
		put_label(f, &first, "direction", dir_name[dir]);
	fputs("} ", f);
}

/* bit/s as bytes/s, exactly: an eighth is at most three decimals. */
static void put_bits_as_bytes(FILE *f, uint64_t bits)
{
	if (bits % 8)
		fprintf(f, "%" PRIu64 ".%03u\n", bits / 8, (unsigned)(bits % 8) * 125);
	else
		fprintf(f, "%" PRIu64 "\n", bits / 8);
}

enum wfield { WF_BYTES, WF_PACKETS, WF_DROPS, WF_OVERLIMITS, WF_BORROWS };

static uint64_t counter_of(const struct bw_counters *c, enum wfield fld)
{
	switch (fld) {
	case WF_BYTES: return c->bytes;
	case WF_PACKETS: return c->packets;
	case WF_DROPS: return c->drops;
	case WF_OVERLIMITS: return c->overlimits;
	case WF_BORROWS: return c->borrows;
	}
	return 0;
}

static const struct {
	const char *name;
	enum wfield fld;
	const char *help;
} counters[] = {
	{ "shoal_workload_bytes_total", WF_BYTES,
	  "Bytes the workload's HTB class sent (whole frames, Ethernet header included)." },
	{ "shoal_workload_packets_total", WF_PACKETS, "Packets the workload's HTB class sent." },
	{ "shoal_workload_drops_total", WF_DROPS, "Packets dropped by the workload's full leaf queue." },
	{ "shoal_workload_overlimits_total", WF_OVERLIMITS,
	  "Times the workload's HTB class ran out of tokens and had to wait." },
	{ "shoal_workload_borrowed_packets_total", WF_BORROWS,
	  "Packets the workload sent on bandwidth borrowed above its guarantee." },
};

static void render_node(FILE *f, const struct metrics_node *n)
{
	bool first;

	put_family(f, "shoal_build_info", "gauge", "shoald's version, as the label version; always 1.");
	first = true;
	fputs("shoal_build_info", f);
	put_label(f, &first, "version", n->version);
	fputs("} 1\n", f);
	put_family(f, "process_start_time_seconds", "gauge", "When shoald started, in seconds since the epoch.");
	fprintf(f, "process_start_time_seconds %" PRId64 "\n", n->start_time);
	put_family(f, "shoal_healthy", "gauge", "1 when /healthz answers 200, 0 when it answers 503 (see the reason there).");
	fprintf(f, "shoal_healthy %d\n", metrics_health(n, NULL, 0) == 200);
	put_family(f, "shoal_subnet_lease_held", "gauge",
	           "1 while this node's subnet is held under its lease in the store, 0 while it is lost.");
	first = true;
	fputs("shoal_subnet_lease_held", f);
	put_label(f, &first, "subnet", n->subnet);
	fprintf(f, "} %d\n", n->subnet_held);
	put_family(f, "shoal_attachments", "gauge",
	           "Workload attachments on this node: active, or deleting (waiting for their veth to go).");
	fprintf(f, "shoal_attachments{state=\"active\"} %" PRIu64 "\n", n->attachments_active);
	fprintf(f, "shoal_attachments{state=\"deleting\"} %" PRIu64 "\n", n->attachments_deleting);
	put_family(f, "shoal_addresses_free", "gauge", "Addresses of this node's subnet free for new workloads.");
	fprintf(f, "shoal_addresses_free %" PRIu64 "\n", n->addresses_free);
	if (!n->bandwidth)
		return;
	put_family(f, "shoal_bandwidth_capacity_bytes_per_second", "gauge",
	           "The node's configured bandwidth capacity (the HTB root), per direction.");
	for (int d = 0; d < BW_DIRS; d++) {
		fprintf(f, "shoal_bandwidth_capacity_bytes_per_second{direction=\"%s\"} ", dir_name[d]);
		put_bits_as_bytes(f, n->capacity[d]);
	}
	put_family(f, "shoal_bandwidth_committed_bytes_per_second", "gauge",
	           "The sum of the guarantees admitted, per direction (unclassified traffic's included).");
	for (int d = 0; d < BW_DIRS; d++) {
		fprintf(f, "shoal_bandwidth_committed_bytes_per_second{direction=\"%s\"} ", dir_name[d]);
		put_bits_as_bytes(f, n->committed[d]);
	}
	put_family(f, "shoal_bandwidth_counters_read", "gauge",
	           "1 when this scrape could read the HTB class counters, 0 when not (they are absent then).");
	fprintf(f, "shoal_bandwidth_counters_read %d\n", n->counters_read);
}

static void render_workloads(FILE *f, const struct metrics_workload *w, size_t n)
{
	bool any_share = false, any_counted = false, any_rated = false;

	for (size_t i = 0; i < n; i++) {
		any_share |= w[i].share;
		for (int d = 0; d < BW_DIRS; d++) {
			any_counted |= w[i].counted[d];
			any_rated |= w[i].rated[d];
		}
	}
	put_family(f, "shoal_workload_info", "gauge",
	           "Every active workload attachment on this node, and every cgroup with a quota (label cgroup); "
	           "always 1.");
	for (size_t i = 0; i < n; i++) {
		put_workload_series(f, "shoal_workload_info", &w[i], -1);
		fputs("1\n", f);
	}
	if (any_share) {
		put_family(f, "shoal_workload_guarantee_bytes_per_second", "gauge",
		           "The workload's guaranteed rate (its HTB class's rate), per direction.");
		for (size_t i = 0; i < n; i++)
			for (int d = 0; w[i].share && d < BW_DIRS; d++) {
				put_workload_series(f, "shoal_workload_guarantee_bytes_per_second", &w[i], d);
				put_bits_as_bytes(f, w[i].guarantee[d]);
			}
		put_family(f, "shoal_workload_limit_bytes_per_second", "gauge",
		           "The workload's limit (its HTB class's ceil), per direction.");
		for (size_t i = 0; i < n; i++)
			for (int d = 0; w[i].share && d < BW_DIRS; d++) {
				put_workload_series(f, "shoal_workload_limit_bytes_per_second", &w[i], d);
				put_bits_as_bytes(f, w[i].limit[d]);
			}
		put_family(f, "shoal_workload_priority", "gauge", "The workload's priority for spare bandwidth, 0 highest .. 7.");
		for (size_t i = 0; i < n; i++)
			if (w[i].share) {
				put_workload_series(f, "shoal_workload_priority", &w[i], -1);
				fprintf(f, "%d\n", w[i].priority);
			}
	}
	if (any_counted)
		for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
			put_family(f, counters[k].name, "counter", counters[k].help);
			for (size_t i = 0; i < n; i++)
				for (int d = 0; d < BW_DIRS; d++)
					if (w[i].counted[d]) {
						put_workload_series(f, counters[k].name, &w[i], d);
						fprintf(f, "%" PRIu64 "\n", counter_of(&w[i].counters[d], counters[k].fld));
					}
		}
	if (any_rated) {
		put_family(f, "shoal_workload_rate_bytes_per_second", "gauge",
		           "What the workload's class sent per second, measured between the last two scrapes at "
		           "least 1 s apart.");
		for (size_t i = 0; i < n; i++)
			for (int d = 0; d < BW_DIRS; d++)
				if (w[i].rated[d]) {
					put_workload_series(f, "shoal_workload_rate_bytes_per_second", &w[i], d);
					fprintf(f, "%.0f\n", w[i].rate[d]);
				}
	}
}

int metrics_render(const struct metrics_node *node, const struct metrics_workload *w, size_t n, char **ret_text,
                   size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	bool bad;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	render_node(f, node);
	render_workloads(f, w, n);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

unsigned metrics_health(const struct metrics_node *n, char *buf, size_t size)
{
	char dummy[1];

	if (!buf) {
		buf = dummy;
		size = sizeof(dummy);
	}
	if (n->left) {
		snprintf(buf, size, "unhealthy: this node left the cluster (netctl node leave); new workloads are "
		         "refused until shoald restarts\n");
		return 503;
	}
	if (n->subnet_taken_by[0]) {
		snprintf(buf, size, "unhealthy: subnet %s is claimed by node %s since this node's lease was lost; new "
		         "workloads are refused\n", n->subnet, n->subnet_taken_by);
		return 503;
	}
	if (!n->subnet_held) {
		snprintf(buf, size, "unhealthy: the lease on subnet %s is lost (is the store reachable?); re-claiming, "
		         "running workloads are not affected\n", n->subnet);
		return 503;
	}
	snprintf(buf, size, "ok: serving, subnet %s\n", n->subnet);
	return 200;
}

/* ---- rates between scrapes (pure) ---- */

/* A workload's identity across scrapes: an attachment's host veth, or "/" and a cgroup's path
 * (no interface name holds a '/'). */
#define RATE_KEY_SIZE (RECORD_CGROUP_PATH_SIZE + 1)

struct rate_sample {
	char key[RATE_KEY_SIZE];
	double t;                    /* when bytes[] were taken */
	bool have[BW_DIRS];
	uint64_t bytes[BW_DIRS];
	bool rated[BW_DIRS];         /* the rate measured when bytes[] were taken */
	double rate[BW_DIRS];
};

struct metrics_rates {
	struct rate_sample *s;       /* sorted by key */
	size_t n;
};

int metrics_rates_new(struct metrics_rates **ret)
{
	struct metrics_rates *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*ret = r;
	return 0;
}

void metrics_rates_free(struct metrics_rates *r)
{
	if (!r)
		return;
	free(r->s);
	free(r);
}

static int sample_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rate_sample *)a)->key, ((const struct rate_sample *)b)->key);
}

int metrics_rates_update(struct metrics_rates *r, double now, struct metrics_workload *w, size_t n)
{
	struct rate_sample *next = NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < BW_DIRS; d++)
			w[i].rated[d] = false;
	/* Everything allocated before anything changes: on failure the old samples stay. */
	if (n && !(next = calloc(n, sizeof(*next))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rate_sample key, *old, *s;
		bool any = false;

		memset(&key, 0, sizeof(key));

		for (int d = 0; d < BW_DIRS; d++)
			any |= w[i].counted[d];
		if (!any)
			continue;
		if (w[i].cgroup)
			snprintf(key.key, sizeof(key.key), "/%s", w[i].cgroup);
		else
			snprintf(key.key, sizeof(key.key), "%s", w[i].host_veth ? w[i].host_veth : "");
		old = r->n ? bsearch(&key, r->s, r->n, sizeof(*r->s), sample_cmp) : NULL;
		s = &next[k++];
		if (old && now - old->t < METRICS_RATE_MIN_WINDOW) {
			/* Too soon to measure: keep the base, report what was measured last. */
			*s = *old;
		} else {
			*s = key;
			s->t = now;
			for (int d = 0; d < BW_DIRS; d++) {
				s->have[d] = w[i].counted[d];
				s->bytes[d] = w[i].counters[d].bytes;
				if (old && old->have[d] && s->have[d] && s->bytes[d] >= old->bytes[d] && now > old->t) {
					s->rated[d] = true;
					s->rate[d] = (double)(s->bytes[d] - old->bytes[d]) / (now - old->t);
				}
			}
		}
		for (int d = 0; d < BW_DIRS; d++) {
			w[i].rated[d] = s->rated[d] && w[i].counted[d];
			w[i].rate[d] = s->rate[d];
		}
	}
	if (k > 1)
		qsort(next, k, sizeof(*next), sample_cmp);
	free(r->s);
	r->s = next;
	r->n = k;
	return 0;
}

/* ---- shoald: a scrape of the manager ---- */

struct metrics {
	struct manager *m;
	struct http *http;
	struct metrics_rates *rates;
	char subnet[CIDR4_STRLEN];
};

static void read_node(struct metrics *x, struct metrics_node *n)
{
	struct manager *m = x->m;

	memset(n, 0, sizeof(*n));
	cidr4_format(&m->subnet, x->subnet);
	n->version = SHOAL_VERSION;
	n->subnet = x->subnet;
	n->subnet_held = m->subnet_held;
	n->subnet_taken_by = m->subnet_taken_by;
	n->left = m->left;
	n->start_time = (int64_t)m->started;
	n->attachments_active = m->n_active;
	n->attachments_deleting = m->n_total > m->n_active ? m->n_total - m->n_active : 0;
	n->addresses_free = m->pool ? ipam_pool_free_count(m->pool) : 0;
	if (bandwidth_enabled(m)) {
		json_t *st = bandwidth_status(m);

		n->bandwidth = true;
		for (int d = 0; d < BW_DIRS; d++) {
			json_t *t = json_object_get(st, dir_name[d]);

			n->capacity[d] = (uint64_t)json_integer_value(json_object_get(t, "capacityBitRate"));
			n->committed[d] = (uint64_t)json_integer_value(json_object_get(t, "committedBitRate"));
		}
		json_decref(st);
	}
}

/* Attachments by container id and interface, then cgroups by path. */
static int workload_cmp(const void *a, const void *b)
{
	const struct metrics_workload *x = a, *y = b;
	int c;

	if (!x->cgroup != !y->cgroup)
		return x->cgroup ? 1 : -1;
	if (x->cgroup)
		return strcmp(x->cgroup, y->cgroup);
	c = strcmp(x->container_id, y->container_id);

	return c ? c : strcmp(x->ifname, y->ifname);
}

/* A cgroup with a quota, as the attachments below. */
static void read_cgroup(const struct cgroup_wl *c, const struct bw_snapshot *snap, struct metrics_workload *o)
{
	o->cgroup = c->rec.path;
	o->container_id = o->ifname = o->pod_namespace = o->pod_name = o->host_veth = "";
	o->share = c->bw.on;
	o->priority = c->bw.priority;
	for (int d = 0; d < BW_DIRS; d++) {
		const struct bw_counters *k = snap && c->bw.on ? bandwidth_snapshot_get_minor(snap, c->rec.minor, d) : NULL;

		o->guarantee[d] = c->bw.guarantee[d];
		o->limit[d] = c->bw.limit[d];
		if (k) {
			o->counted[d] = true;
			o->counters[d] = *k;
		}
	}
}

/* The active attachments (a deleting one's series are gone with its DEL), sorted by container id
 * and ifname, then the cgroups with a quota, by path; counters from snap (NULL: none). */
static int read_workloads(struct manager *m, const struct bw_snapshot *snap, struct metrics_workload **ret,
                          size_t *ret_n)
{
	const struct cgroups *cg = m->cgroups;
	size_t n_cg = cg ? cg->n : 0, n = 0;
	struct metrics_workload *w;

	w = calloc(m->n_total + n_cg ? m->n_total + n_cg : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (unsigned b = 0; b < ATT_BUCKETS; b++)
		for (const struct attachment *a = m->by_veth[b]; a; a = a->next_veth) {
			struct metrics_workload *o;

			if (a->deleting || n >= m->n_total)
				continue;
			o = &w[n++];
			o->container_id = a->rec.container_id;
			o->ifname = a->rec.ifname;
			o->pod_namespace = a->rec.pod_namespace;
			o->pod_name = a->rec.pod_name;
			o->host_veth = a->rec.host_veth;
			o->share = a->bw.on;
			o->priority = a->bw.priority;
			for (int d = 0; d < BW_DIRS; d++) {
				const struct bw_counters *c = snap && a->bw.on ? bandwidth_snapshot_get(snap, a, d) : NULL;

				o->guarantee[d] = a->bw.guarantee[d];
				o->limit[d] = a->bw.limit[d];
				if (c) {
					o->counted[d] = true;
					o->counters[d] = *c;
				}
			}
		}
	for (size_t i = 0; i < n_cg; i++)
		read_cgroup(cg->v[i], snap, &w[n++]);
	qsort(w, n, sizeof(*w), workload_cmp);
	*ret = w;
	*ret_n = n;
	return 0;
}

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int serve_metrics(void *userdata, struct http_reply *ret)
{
	struct metrics *x = userdata;
	struct manager *m = x->m;
	struct bw_snapshot *snap = NULL;
	struct metrics_workload *w = NULL;
	struct metrics_node node;
	size_t n = 0;
	int r;

	read_node(x, &node);
	/* One snapshot per scrape: one class dump per IFB, whatever the number of workloads.  A failed
	 * read (an IFB removed by hand, until the next reconcile) leaves the counters out. */
	if (node.bandwidth) {
		char err[512];

		r = bandwidth_snapshot(m, &snap, err);
		if (r < 0)
			log_warn("metrics: no class counters in this scrape: %s", err);
		node.counters_read = r >= 0;
	}
	r = read_workloads(m, snap, &w, &n);
	if (r == 0) {
		if (metrics_rates_update(x->rates, monotonic_now(), w, n) < 0)
			log_warn("metrics: out of memory measuring rates");
		r = metrics_render(&node, w, n, &ret->body, &ret->len);
	}
	if (r < 0)
		log_error("metrics: failed to build the answer: %s", strerror(-r));
	free(w);
	bandwidth_snapshot_free(snap);
	ret->status = 200;
	ret->content_type = METRICS_CONTENT_TYPE;
	return r;
}

static int serve_healthz(void *userdata, struct http_reply *ret)
{
	struct metrics *x = userdata;
	struct metrics_node node;
	char text[512];

	read_node(x, &node);
	ret->status = metrics_health(&node, text, sizeof(text));
	ret->body = strdup(text);
	if (!ret->body)
		return -ENOMEM;
	ret->len = strlen(text);
	ret->content_type = "text/plain; charset=utf-8";
	return 0;
}

static const struct http_route routes[] = {
	{ "/metrics", serve_metrics },
	{ "/healthz", serve_healthz },
};

int metrics_start(struct manager *m)
{
	struct sockaddr_storage ss;
	char err[HTTP_ERRLEN], addr[64];
	struct metrics *x;
	socklen_t len;
	int r;

	if (!m->cfg.metrics.listen[0])
		return 0;   /* off: libmicrohttpd is never started */
	r = config_parse_listen(m->cfg.metrics.listen, &ss, &len);
	if (r < 0) {
		log_error("key \"metrics.listen\": \"%s\" is not ADDRESS:PORT", m->cfg.metrics.listen);
		return r;
	}
	x = calloc(1, sizeof(*x));
	if (!x || metrics_rates_new(&x->rates) < 0) {
		free(x);
		log_error("metrics: out of memory");
		return -ENOMEM;
	}
	x->m = m;
	r = http_start(m->loop, (struct sockaddr *)&ss, len, routes, sizeof(routes) / sizeof(routes[0]), x, &x->http,
	               err);
	if (r == -EAFNOSUPPORT && m->cfg.metrics.listen[0] == ':') {
		/* ":PORT" on a kernel without IPv6: every IPv4 address is every address there is. */
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		a->sin_port = port;
		len = sizeof(*a);
		r = http_start(m->loop, (struct sockaddr *)&ss, len, routes, sizeof(routes) / sizeof(routes[0]), x,
		               &x->http, err);
	}
	if (r < 0) {
		log_error("key \"metrics.listen\": %s", err);
		metrics_rates_free(x->rates);
		free(x);
		return r;
	}
	m->metrics = x;
	http_format_addr((struct sockaddr *)&ss, addr, sizeof(addr));
	log_info("serving /metrics and /healthz on http://%s", addr);
	return 0;
}

void metrics_stop(struct manager *m)
{
	struct metrics *x = m->metrics;

	if (!x)
		return;
	http_stop(x->http);
	metrics_rates_free(x->rates);
	free(x);
	m->metrics = NULL;
}
