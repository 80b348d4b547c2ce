/* manyhosts: the store writer and kernel observer behind bench/many.sh (docs/benchmarks.md,
 * "Many hosts").  It links the store and the record formatter exactly as shoald does, so the
 * simulated peers it writes are the records a real node writes: one lease per node, the key
 * subnets/<a.b.c.d-len> created under it with {"node","publicIP","vtepMAC","created"}.
 *
 *   manyhosts preload URL NETWORK SUBLEN FIRST COUNT
 *       write the network config (when absent) and COUNT simulated peers, starting at peer number
 *       FIRST; a subnet some real node already holds is skipped.  Prints the peer number to use next.
 *   manyhosts join URL NETWORK SUBLEN FIRST COUNT NS[,NS...] [GAP_MS]
 *       COUNT times: write one new peer, time until its route (protocol 75) exists in EVERY
 *       namespace NS (a netlink route monitor in each, opened before the write).
 *   manyhosts startup NS WANT LOGFILE -- SHOALD ARGS...
 *       exec shoald inside namespace NS and time until WANT distinct protocol-75 routes exist
 *       there; then shoald's VmHWM.  shoald is stopped (SIGTERM) at the end.
 *   manyhosts fswrites DIR SECONDS
 *       count replacements (rename onto DIR/store.json = one write) and opens (reads) of the file
 *       store's database for SECONDS or until SIGINT/SIGTERM.
 *   manyhosts ping URL
 *       open the store and read "config": whether the backend works at all.
 *
 * Every command prints human lines and one JSON line starting with {"bench":"many-...".
 * Times are CLOCK_MONOTONIC, which every network namespace shares. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "netd/records.h"
#include "store/store.h"

#define RTPROT_SHOAL      75   /* netd: RTROUTE_PROTO_SHOAL */
#define PEER_LEASE_TTL    3600 /* long enough that no simulated peer needs a keep-alive */
#define MAX_NS            16
#define RCVBUF            (64 << 20)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, as cnibench: p99 of 20 samples is the 20th smallest. */
static double pct(const double *sorted, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

/* ---- simulated peers ---- */

struct sim {
	struct store *store;
	struct cidr4 network;
	uint8_t sublen;
	uint32_t next;        /* next peer number */
	uint32_t n_subnets;
};

/* Peer number i: node sim-i, publicIP 198.18.1.1 upwards (250 per /24, never the lab's underlay
 * 198.18.0.0/24; up to 198.19.255.250), a locally administered unicast VTEP MAC. */
static char *peer_record(uint32_t i)
{
	struct record_subnet s = { .created = time(NULL) };
	json_t *j;
	char *out;

	snprintf(s.node, sizeof(s.node), "sim-%u", i);
	ip4_format((198u << 24 | 18u << 16) + (1 + i / 250) * 256 + 1 + i % 250, s.public_ip);
	snprintf(s.vtep_mac, sizeof(s.vtep_mac), "02:5b:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff,
	         (i >> 8) & 0xff, i & 0xff);
	j = record_subnet_to_json(&s);
	out = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return out;
}

static int sim_open(struct sim *sim, const char *url, const char *network, const char *sublen)
{
	memset(sim, 0, sizeof(*sim));
	if (cidr4_parse(network, &sim->network) < 0 || atoi(sublen) <= sim->network.len || atoi(sublen) > 30) {
		fprintf(stderr, "manyhosts: bad network %s or subnet length %s\n", network, sublen);
		return -EINVAL;
	}
	sim->sublen = (uint8_t)atoi(sublen);
	sim->n_subnets = (uint32_t)(cidr4_size(&sim->network) >> (32 - sim->sublen));
	return store_open(NULL, url, NULL, NULL, &sim->store);
}

/* The network config, written like shoald's netconf_ensure (the defaults: VNI 1, port 8472). */
static int sim_config(struct sim *sim)
{
	struct record_netconf n = { .network = sim->network, .subnet_len = sim->sublen, .vni = 1, .port = 8472 };
	json_t *j = record_netconf_to_json(&n);
	char *json = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r;

	json_decref(j);
	if (!json)
		return -ENOMEM;
	r = store_create(sim->store, "config", json, strlen(json), 0, NULL);
	free(json);
	return r == -EEXIST ? 0 : r;
}

/* Write the next peer whose subnet is free: a lease of its own, then the key under it, as a
 * joining shoald does.  t_write (may be NULL): when the key's write started.  ret_subnet: its key. */
static int sim_write_one(struct sim *sim, double *t_write, struct cidr4 *ret_subnet)
{
	for (;;) {
		uint32_t i = sim->next;
		char key[64], k[CIDR4_STRLEN], *value;
		struct cidr4 c;
		int64_t lease;
		int r;

		if (i >= sim->n_subnets)
			return -ENOSPC;
		sim->next++;
		r = cidr4_subnet(&sim->network, sim->sublen, i, &c);
		if (r < 0)
			return r;
		snprintf(key, sizeof(key), "subnets/%s", cidr4_format_key(&c, k));
		value = peer_record(i);
		if (!value)
			return -ENOMEM;
		r = store_lease_grant(sim->store, PEER_LEASE_TTL, &lease);
		if (r < 0) {
			free(value);
			return r;
		}
		if (t_write)
			*t_write = now_ms();
		r = store_create(sim->store, key, value, strlen(value), lease, NULL);
		free(value);
		if (r == -EEXIST) {   /* a real node holds it */
			store_lease_revoke(sim->store, lease);
			continue;
		}
		if (r < 0)
			return r;
		*ret_subnet = c;
		return 0;
	}
}

static int cmd_ping(int argc, char **argv)
{
	struct store *s;
	struct store_kv kv;
	int r;

	if (argc < 1)
		return 2;
	r = store_open(NULL, argv[0], NULL, NULL, &s);
	if (r < 0) {
		printf("store %s: cannot open: %s\n", argv[0], strerror(-r));
		return 1;
	}
	r = store_get(s, "config", &kv);
	if (r == 0)
		store_kv_done(&kv);
	store_free(s);
	printf("store %s: %s\n", argv[0], r == 0 || r == -ENOENT ? "works" : strerror(-r));
	return r == 0 || r == -ENOENT ? 0 : 1;
}

static int cmd_preload(int argc, char **argv)
{
	struct sim sim;
	struct cidr4 c;
	double t0;
	long count;
	int r;

	if (argc < 5)
		return 2;
	r = sim_open(&sim, argv[0], argv[1], argv[2]);
	if (r < 0) {
		fprintf(stderr, "manyhosts: cannot open store %s: %s\n", argv[0], strerror(-r));
		return 1;
	}
	sim.next = (uint32_t)atol(argv[3]);
	count = atol(argv[4]);
	t0 = now_ms();
	r = sim_config(&sim);
	for (long i = 0; r == 0 && i < count; i++)
		r = sim_write_one(&sim, NULL, &c);
	if (r < 0) {
		fprintf(stderr, "manyhosts: writing peers failed: %s\n", strerror(-r));
		store_free(sim.store);
		return 1;
	}
	fprintf(stderr, "# wrote %ld simulated peers (a lease + a key each) in %.0f ms\n", count, now_ms() - t0);
	printf("%u\n", sim.next);
	store_free(sim.store);
	return 0;
}

/* ---- route monitors ---- */

struct mon {
	struct mnl_socket *nl;
	const char *ns;
	bool overrun;         /* the kernel dropped notifications: count by dumping */
};

/* Open a route monitor inside namespace ns ("" = the current one). */
static int mon_open(struct mon *m, const char *ns)
{
	int self = -1, fd = -1, r = 0, buf = RCVBUF;
	char path[256];

	m->ns = ns;
	m->overrun = false;
	if (ns[0]) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			r = -errno;
			goto out;
		}
	}
	m->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!m->nl || mnl_socket_bind(m->nl, RTMGRP_IPV4_ROUTE, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	/* A start-up programs thousands of routes at once: room for every notification. */
	if (setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
out:
	if (ns[0] && self >= 0 && setns(self, CLONE_NEWNET) < 0 && r == 0)
		r = -errno;
	if (self >= 0)
		close(self);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A set of IPv4 prefixes (addr << 8 | len), small and unsorted. */
struct pset {
	uint64_t *v;
	size_t n, cap;
};

static bool pset_has(const struct pset *s, uint64_t k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == k)
			return true;
	return false;
}

static void pset_add(struct pset *s, uint64_t k)
{
	if (pset_has(s, k))
		return;
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 1024;
		uint64_t *p = realloc(s->v, c * sizeof(*p));

		if (!p)
			abort();
		s->v = p;
		s->cap = c;
	}
	s->v[s->n++] = k;
}

static void pset_del(struct pset *s, uint64_t k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == k) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

struct route_seen {
	struct pset *set;     /* protocol-75 routes present */
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, RTA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_seen *seen = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	uint32_t dst = 0;
	uint64_t k;

	if (rtm->rtm_family != AF_INET || rtm->rtm_protocol != RTPROT_SHOAL)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
	if (tb[RTA_DST])
		dst = ntohl(mnl_attr_get_u32(tb[RTA_DST]));
	k = (uint64_t)dst << 8 | rtm->rtm_dst_len;
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		pset_add(seen->set, k);
	else if (nlh->nlmsg_type == RTM_DELROUTE)
		pset_del(seen->set, k);
	return MNL_CB_OK;
}

/* Read every pending notification of m into set (non-blocking).  -ENOBUFS: some were lost. */
static int mon_drain(struct mon *m, struct pset *set)
{
	char buf[1 << 16];
	struct route_seen seen = { set };

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(m->nl), buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		mnl_cb_run(buf, (size_t)n, 0, 0, route_cb, &seen);
	}
}

/* The protocol-75 routes of m's namespace, by a dump on a socket of its own (after an overrun). */
static int mon_dump(struct mon *m, struct pset *set)
{
	struct mon d;
	char buf[1 << 16];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct route_seen seen = { set };
	int r;

	r = mon_open(&d, m->ns);
	if (r < 0)
		return r;
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	set->n = 0;
	if (mnl_socket_sendto(d.nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(d.nl, buf, sizeof(buf));

		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, 1, mnl_socket_get_portid(d.nl), route_cb, &seen);
		if (r <= MNL_CB_STOP) {
			r = r < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(d.nl);
	return r;
}

static int wait_readable(struct mon *mons, size_t n, int timeout_ms)
{
	struct pollfd p[MAX_NS];

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = mnl_socket_get_fd(mons[i].nl), .events = POLLIN };
	return poll(p, n, timeout_ms);
}

static size_t split_ns(char *list, const char *ns[MAX_NS])
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(list, ",", &save); t && n < MAX_NS; t = strtok_r(NULL, ",", &save))
		ns[n++] = t;
	return n;
}

/* ---- join: one new peer at a time, until its route is everywhere ---- */

static int cmd_join(int argc, char **argv)
{
	const char *ns[MAX_NS];
	struct mon mons[MAX_NS];
	struct pset sets[MAX_NS] = { 0 };
	struct sim sim;
	double *conv, *writes, timeout = 5000;
	long count, gap_ms;
	size_t n_ns, ok = 0;
	int r;

	if (argc < 6)
		return 2;
	count = atol(argv[4]);
	gap_ms = argc > 6 ? atol(argv[6]) : 200;
	n_ns = split_ns(argv[5], ns);
	conv = calloc((size_t)count, sizeof(*conv));
	writes = calloc((size_t)count, sizeof(*writes));
	if (!conv || !writes || count < 1 || n_ns == 0)
		return 2;
	for (size_t h = 0; h < n_ns; h++) {
		r = mon_open(&mons[h], ns[h]);
		if (r < 0) {
			fprintf(stderr, "manyhosts: no route monitor in %s: %s\n", ns[h], strerror(-r));
			return 1;
		}
	}
	r = sim_open(&sim, argv[0], argv[1], argv[2]);
	if (r < 0) {
		fprintf(stderr, "manyhosts: cannot open store %s: %s\n", argv[0], strerror(-r));
		return 1;
	}
	sim.next = (uint32_t)atol(argv[3]);
	for (long j = 0; j < count; j++) {
		struct cidr4 c;
		double t0, t_done = 0, per[MAX_NS] = { 0 };
		size_t done = 0;
		char s[CIDR4_STRLEN];
		uint64_t k;

		for (size_t h = 0; h < n_ns; h++)
			mon_drain(&mons[h], &sets[h]);
		r = sim_write_one(&sim, &t0, &c);
		writes[j] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "manyhosts: writing peer %ld failed: %s\n", j, strerror(-r));
			break;
		}
		k = (uint64_t)c.addr << 8 | c.len;
		while (done < n_ns && now_ms() - t0 < timeout) {
			done = 0;
			for (size_t h = 0; h < n_ns; h++) {
				if (per[h] > 0) {
					done++;
					continue;
				}
				if (mon_drain(&mons[h], &sets[h]) == -ENOBUFS || mons[h].overrun) {
					mons[h].overrun = true;
					mon_dump(&mons[h], &sets[h]);
				}
				if (pset_has(&sets[h], k)) {
					per[h] = now_ms() - t0;
					done++;
				}
			}
			if (done < n_ns)
				wait_readable(mons, n_ns, mons[0].overrun ? 5 : 50);
		}
		for (size_t h = 0; h < n_ns; h++)
			t_done = per[h] > t_done ? per[h] : t_done;
		if (done < n_ns) {
			printf("  join %2ld %-18s NOT on every host after %.0f ms\n", j, cidr4_format(&c, s), timeout);
			continue;
		}
		conv[ok++] = t_done;
		printf("  join %2ld %-18s write %6.2f ms, route on all %zu hosts after %7.2f ms (", j, cidr4_format(&c, s),
		       writes[j], n_ns, t_done);
		for (size_t h = 0; h < n_ns; h++)
			printf("%s%.1f", h ? " " : "", per[h]);
		printf(")\n");
		if (gap_ms > 0)
			usleep((useconds_t)gap_ms * 1000);
	}
	store_free(sim.store);
	qsort(conv, ok, sizeof(*conv), cmp_double);
	qsort(writes, (size_t)count, sizeof(*writes), cmp_double);
	if (ok == 0) {
		printf("{\"bench\":\"many-join\",\"joins\":%ld,\"converged\":0}\n", count);
		return 1;
	}
	printf("{\"bench\":\"many-join\",\"joins\":%ld,\"converged\":%zu,\"hosts\":%zu,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
	       "\"max_ms\":%.2f,\"write_p50_ms\":%.2f}\n", count, ok, n_ns, pct(conv, ok, 50), pct(conv, ok, 99),
	       conv[ok - 1], pct(writes, (size_t)count, 50));
	return ok == (size_t)count ? 0 : 1;
}

/* ---- startup: exec shoald, count its routes ---- */

/* One "Name:   123 kB" field of /proc/PID/status; -1 when absent. */
static long status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kb = atol(line + n + 1);
			break;
		}
	fclose(f);
	return kb;
}

static int cmd_startup(int argc, char **argv)
{
	struct mon mon;
	struct pset set = { 0 };
	const char *nsname, *logfile;
	char path[256];
	long want, hwm_done, hwm_settled, anon;
	double t0, t_done = -1, timeout = 60000;
	int nsfd, st, r;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--") != 0)
		return 2;
	nsname = argv[0];
	want = atol(argv[1]);
	logfile = argv[2];
	r = mon_open(&mon, nsname);
	if (r < 0) {
		fprintf(stderr, "manyhosts: no route monitor in %s: %s\n", nsname, strerror(-r));
		return 1;
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", nsname);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return 1;
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		/* Like `ip netns exec` minus its /sys remount: shoald reads no /sys, and /proc/sys/net
		 * follows the namespace of whoever opens it. */
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[4], argv + 4);
		_exit(127);
	}
	if (pid < 0)
		return 1;
	while (now_ms() - t0 < timeout) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "manyhosts: shoald exited (status %d); see %s\n", st, logfile);
			return 1;
		}
		if (mon_drain(&mon, &set) == -ENOBUFS || mon.overrun) {
			mon.overrun = true;
			mon_dump(&mon, &set);
		}
		if ((long)set.n >= want) {
			t_done = now_ms() - t0;
			break;
		}
		wait_readable(&mon, 1, mon.overrun ? 10 : 100);
	}
	hwm_done = status_kb(pid, "VmHWM");
	/* One more second: whatever shoald does right after (API, first timers) may still grow it. */
	usleep(1000 * 1000);
	hwm_settled = status_kb(pid, "VmHWM");
	/* What shoald itself allocated (heap, stacks), apart from the file-backed pages of its
	 * shared libraries that VmHWM also counts. */
	anon = status_kb(pid, "RssAnon");
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) != pid; i++)
		usleep(50 * 1000);
	if (t_done < 0) {
		printf("  %ld peers: only %zu routes after %.0f ms\n", want, set.n, timeout);
		printf("{\"bench\":\"many-startup\",\"peers\":%ld,\"routes\":%zu}\n", want, set.n);
		return 1;
	}
	printf("  %ld peers: all routes programmed %.1f ms after exec; VmHWM %ld kB then, %ld kB 1 s later (RssAnon %ld kB)%s\n",
	       want, t_done, hwm_done, hwm_settled, anon, mon.overrun ? " (notifications overran: counted by dumps)" : "");
	printf("{\"bench\":\"many-startup\",\"peers\":%ld,\"routes\":%zu,\"ms\":%.1f,\"vmhwm_kb\":%ld,\"rssanon_kb\":%ld}\n", want,
	       set.n, t_done, hwm_settled > hwm_done ? hwm_settled : hwm_done, anon);
	return 0;
}

/* ---- fswrites: the file store's database traffic ---- */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int cmd_fswrites(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	long writes = 0, opens = 0;
	double t0, seconds;
	int fd;

	if (argc < 2)
		return 2;
	seconds = atof(argv[1]);
	fd = inotify_init1(IN_CLOEXEC);
	/* Every write ends in rename(tmp, store.json) (file_write_atomic); every operation that
	 * looks at the database opens store.json first. */
	if (fd < 0 || inotify_add_watch(fd, argv[0], IN_MOVED_TO | IN_OPEN) < 0) {
		fprintf(stderr, "manyhosts: inotify on %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	t0 = now_ms();
	while (!stop && now_ms() - t0 < seconds * 1000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		for (char *q = buf; n > 0 && q < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)q;

			if (e->len && strcmp(e->name, "store.json") == 0) {
				if (e->mask & IN_MOVED_TO)
					writes++;
				else if (e->mask & IN_OPEN)
					opens++;
			}
			q += sizeof(*e) + e->len;
		}
	}
	printf("{\"bench\":\"many-fswrites\",\"seconds\":%.1f,\"writes\":%ld,\"opens\":%ld}\n",
	       (now_ms() - t0) / 1000, writes, opens);
	return 0;
}

int main(int argc, char **argv)
{
	static const char usage[] =
		"usage: manyhosts preload URL NETWORK SUBLEN FIRST COUNT\n"
		"       manyhosts join URL NETWORK SUBLEN FIRST COUNT NS[,NS...] [GAP_MS]\n"
		"       manyhosts startup NS WANT LOGFILE -- SHOALD ARGS...\n"
		"       manyhosts fswrites DIR SECONDS\n"
		"       manyhosts ping URL\n";
	int r = 2;

	log_set_level(LOG_LVL_WARN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "preload") == 0)
		r = cmd_preload(argc - 2, argv + 2);
	else if (argc >= 2 && strcmp(argv[1], "join") == 0)
		r = cmd_join(argc - 2, argv + 2);
	else if (argc >= 2 && strcmp(argv[1], "startup") == 0)
		r = cmd_startup(argc - 2, argv + 2);
	else if (argc >= 2 && strcmp(argv[1], "fswrites") == 0)
		r = cmd_fswrites(argc - 2, argv + 2);
	else if (argc >= 2 && strcmp(argv[1], "ping") == 0)
		r = cmd_ping(argc - 2, argv + 2);
	if (r == 2)
		fputs(usage, stderr);
	return r;
}
