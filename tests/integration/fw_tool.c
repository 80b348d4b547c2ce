/* fw_tool: a tiny driver of fw/ for tests/integration/t_fw.sh.  Runs in the caller's network
 * namespace (use `ip netns exec`).
 *
 *   fw_tool apply NETWORK SUBNET [BRIDGE] [OPTS]   replace `inet shoal` (masquerade on)
 *   fw_tool apply-nomasq                           replace `inet shoal` with an empty table
 *   fw_tool check NETWORK SUBNET [BRIDGE] [OPTS]   print in-sync|absent|differs, exit 0|3|4
 *   fw_tool remove                                 delete `inet shoal` and `bridge shoal`
 *   fw_tool print NETWORK SUBNET [BRIDGE] [OPTS]   describe every message of the batch (no kernel)
 *   fw_tool add IFNAME MAC ADDR                    fw_workload_add()
 *   fw_tool del IFNAME MAC ADDR                    fw_workload_del()
 *   fw_tool bench-add N                            N fw_workload_add() of distinct workloads
 *                                                  (shv000000000000.., 02:5e:.., 10.245.x.y),
 *                                                  then N fw_workload_del(); prints the timings
 *   fw_tool bench-apply N                          fw_apply() and fw_check() with N such workloads
 *   fw_tool fwd-probe                              fw_forward_probe(): one line of key=value
 *   fw_tool fwd-allow NETWORK                      fw_forward_allow()
 *   fw_tool fwd-remove NETWORK|any                 fw_forward_remove() (any: every rule of ours)
 * OPTS: `antispoof` (table bridge shoal) and any number of `wl=IFNAME,MAC,ADDR` workloads.
 * Exit 1 with the error message on stderr when fw_* fails (3 for fwd-allow without the chain:
 * -ENOENT), 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "fw/forward.h"
#include "fw/fw.h"
#include "lib/cidr.h"

#define MAX_WORKLOADS 256

static struct fw_workload workloads[MAX_WORKLOADS];

static int usage(void)
{
	fprintf(stderr, "usage: fw_tool apply|check|print NETWORK SUBNET [BRIDGE] [antispoof] [wl=IF,MAC,ADDR]...\n"
			"       fw_tool apply-nomasq | remove | add|del IFNAME MAC ADDR | bench-add N | bench-apply N\n"
			"       fw_tool fwd-probe | fwd-allow NETWORK | fwd-remove NETWORK|any\n");
	return 2;
}

static int parse_workload(const char *ifname, const char *mac, const char *addr, struct fw_workload *w)
{
	unsigned m[6];
	struct in_addr a;
	char end;

	memset(w, 0, sizeof(*w));
	if (strlen(ifname) >= sizeof(w->ifname))
		return -EINVAL;
	memcpy(w->ifname, ifname, strlen(ifname));
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 0xff)
			return -EINVAL;
		w->mac[i] = (uint8_t)m[i];
	}
	if (inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	w->addr = ntohl(a.s_addr);
	return fw_workload_validate(w);
}

/* "IFNAME,MAC,ADDR" */
static int parse_workload_spec(const char *spec, struct fw_workload *w)
{
	char buf[128], *mac, *addr;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	mac = strchr(buf, ',');
	if (!mac)
		return -EINVAL;
	*mac++ = '\0';
	addr = strchr(mac, ',');
	if (!addr)
		return -EINVAL;
	*addr++ = '\0';
	return parse_workload(buf, mac, addr, w);
}

static int parse_config(int argc, char **argv, struct fw_config *c)
{
	size_t n = 0;
	int i = 4;

	memset(c, 0, sizeof(*c));
	if (argc < 4)
		return -EINVAL;
	if (cidr4_parse_prefix(argv[2], &c->network) < 0 || cidr4_parse_prefix(argv[3], &c->subnet) < 0)
		return -EINVAL;
	c->masquerade = true;
	if (i < argc && strcmp(argv[i], "antispoof") != 0 && strncmp(argv[i], "wl=", 3) != 0)
		c->bridge = argv[i++];
	for (; i < argc; i++) {
		if (strcmp(argv[i], "antispoof") == 0) {
			c->antispoof = true;
		} else if (strncmp(argv[i], "wl=", 3) == 0 && n < MAX_WORKLOADS) {
			if (parse_workload_spec(argv[i] + 3, &workloads[n]) < 0)
				return -EINVAL;
			n++;
		} else {
			return -EINVAL;
		}
	}
	c->workloads = n ? workloads : NULL;
	c->n_workloads = n;
	return 0;
}

static int print_batch(const struct fw_config *c)
{
	static char buf[1 << 20];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t len;
	int rest, r;
	char what[256];

	r = fw_batch_build(c, buf, sizeof(buf), 1, &len);
	if (r < 0) {
		fprintf(stderr, "fw_batch_build: %s\n", strerror(-r));
		return 1;
	}
	for (rest = (int)len; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		fw_batch_describe(buf, len, nlh->nlmsg_seq, what, sizeof(what));
		printf("%u %s\n", nlh->nlmsg_seq, what);
	}
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print "OP: N calls, total T ms, mean M us, p50 P us, p99 Q us, max X us". */
static void report(const char *op, double *t, unsigned n)
{
	double sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%s: %u calls, total %.1f ms, mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n", op, n,
	       sum / 1e3, sum / n, t[n / 2], t[(size_t)n * 99 / 100], t[n - 1]);
}

static void bench_workload(unsigned i, struct fw_workload *w)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->ifname, sizeof(w->ifname), "shv%012x", i);
	memcpy(w->mac, (uint8_t[]){ 0x02, 0x5e, 0, 0, (uint8_t)(i >> 8), (uint8_t)i }, 6);
	w->addr = 0x0af50000u | i;   /* 10.245.x.y */
}

static int bench_apply(unsigned n)
{
	struct fw_workload *w = calloc(n ? n : 1, sizeof(*w));
	struct fw_config c = { .network = { 0x0af40000, 16 }, .subnet = { 0x0af40300, 24 }, .masquerade = true };
	char err[512] = "";
	double t0, t1, t2;
	int r1, r2;

	if (!w || n > 65535) {
		free(w);
		return 2;
	}
	for (unsigned i = 0; i < n; i++)
		bench_workload(i, &w[i]);
	c.antispoof = true;
	c.workloads = w;
	c.n_workloads = n;
	t0 = now_us();
	r1 = fw_apply(&c, err, sizeof(err));
	t1 = now_us();
	r2 = r1 < 0 ? r1 : fw_check(&c, err, sizeof(err));
	t2 = now_us();
	free(w);
	if (r1 < 0 || r2 != FW_CHECK_IN_SYNC) {
		fprintf(stderr, "fw_tool bench-apply: %d %d: %s\n", r1, r2, err);
		return 1;
	}
	printf("%u workloads: fw_apply %.1f ms, fw_check %.1f ms (in sync)\n", n, (t1 - t0) / 1e3, (t2 - t1) / 1e3);
	return 0;
}

static int bench_add(unsigned n)
{
	char err[512] = "";
	double *t = calloc(n, sizeof(*t));
	struct fw_workload w;
	int r = 0;

	if (!t || n == 0 || n > 65535) {
		free(t);
		return 2;
	}
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		for (unsigned i = 0; i < n; i++) {
			double t0;

			bench_workload(i, &w);
			t0 = now_us();
			r = pass == 0 ? fw_workload_add(&w, err, sizeof(err)) : fw_workload_del(&w, err, sizeof(err));
			t[i] = now_us() - t0;
			if (r < 0) {
				fprintf(stderr, "fw_tool bench-add: %s %s: %s\n", pass ? "del" : "add", w.ifname, err);
				free(t);
				return 1;
			}
		}
		report(pass == 0 ? "fw_workload_add" : "fw_workload_del", t, n);
	}
	free(t);
	return 0;
}

/* "iptables_forward=yes drop=yes br_netfilter=no ours=2 other=inet mine forward" */
static int forward_probe(void)
{
	struct fw_forward_state st;
	char err[512] = "";
	int r;

	r = fw_forward_probe(&st, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "fw_tool fwd-probe: %s\n", err);
		return 1;
	}
	printf("iptables_forward=%s drop=%s br_netfilter=%s ours=%u other=%s\n", st.iptables_forward ? "yes" : "no",
	       st.iptables_forward_drop ? "yes" : "no", st.br_netfilter ? "yes" : "no", st.ours, st.other);
	return 0;
}

static int forward_change(const char *cmd, const char *network)
{
	struct cidr4 net;
	char err[512] = "";
	bool any = strcmp(network, "any") == 0;
	int r;

	if (!any && cidr4_parse_prefix(network, &net) < 0)
		return usage();
	if (strcmp(cmd, "fwd-allow") == 0)
		r = fw_forward_allow(any ? NULL : &net, err, sizeof(err));
	else
		r = fw_forward_remove(any ? NULL : &net, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "fw_tool %s: %s\n", cmd, err);
		return r == -ENOENT ? 3 : 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fw_config c;
	struct fw_workload w;
	char err[512] = "";
	int r;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "fwd-probe") == 0 && argc == 2)
		return forward_probe();
	if ((strcmp(argv[1], "fwd-allow") == 0 || strcmp(argv[1], "fwd-remove") == 0) && argc == 3)
		return forward_change(argv[1], argv[2]);
	if (strcmp(argv[1], "remove") == 0 && argc == 2) {
		r = fw_remove(err, sizeof(err));
	} else if (strcmp(argv[1], "apply-nomasq") == 0 && argc == 2) {
		memset(&c, 0, sizeof(c));
		r = fw_apply(&c, err, sizeof(err));
	} else if ((strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0) && argc == 5) {
		if (parse_workload(argv[2], argv[3], argv[4], &w) < 0)
			return usage();
		r = argv[1][0] == 'a' ? fw_workload_add(&w, err, sizeof(err)) : fw_workload_del(&w, err, sizeof(err));
	} else if (strcmp(argv[1], "bench-add") == 0 && argc == 3) {
		return bench_add((unsigned)strtoul(argv[2], NULL, 10));
	} else if (strcmp(argv[1], "bench-apply") == 0 && argc == 3) {
		return bench_apply((unsigned)strtoul(argv[2], NULL, 10));
	} else if (parse_config(argc, argv, &c) < 0) {
		return usage();
	} else if (strcmp(argv[1], "apply") == 0) {
		r = fw_apply(&c, err, sizeof(err));
	} else if (strcmp(argv[1], "print") == 0) {
		return print_batch(&c);
	} else if (strcmp(argv[1], "check") == 0) {
		r = fw_check(&c, err, sizeof(err));
		if (r >= 0) {
			printf("%s\n", r == FW_CHECK_IN_SYNC ? "in-sync" : r == FW_CHECK_ABSENT ? "absent" : "differs");
			fprintf(stderr, "%s\n", err);
			return r == FW_CHECK_IN_SYNC ? 0 : r == FW_CHECK_ABSENT ? 3 : 4;
		}
	} else {
		return usage();
	}
	if (r < 0) {
		fprintf(stderr, "fw_tool %s: %s\n", argv[1], err);
		return 1;
	}
	return 0;
}
