#!/usr/bin/env bash
# tc/: the bandwidth objects shoald will build, built by our own netlink messages in a real
# kernel and observed with tc(8).
#
#   [ wl ns ] eth0 10.244.7.2 --- veth h-wl 10.244.7.1 [ host ns: shoal-out, shoal-in ]
#
# shoal-out (traffic from workloads): HTB 1: root 1:1 200mbit, 1:10 120mbit prio 1,
#   1:20 80mbit prio 2 (default), a bfifo under each leaf.
# shoal-in (traffic to workloads): HTB 2: root 50gbit, 2:10 10gbit, 2:20 40gbit (64-bit rates).
# h-wl gets clsact: ingress -> shoal-out, egress -> shoal-in; 10.244.7.2 is classified into 1:10
# on shoal-out and 2:10 on shoal-in by the hashed classifier (table 100:, link for 10.244.7.0/24,
# one filter in bucket 2).  A ping from the workload must be counted there, and nowhere else.
# Packet counters only: no rates, no timing.
#
# The second host (tchash) is the daemon's layout at scale: a bridge with three workloads in a
# /20 (two of them in the same hash bucket), 250 more workload filters, the same-host exemption
# on the veths, and an outside namespace behind the host:
#
#   [wa] 10.244.16.2   -- h-a --+
#   [wb] 10.244.17.2   -- h-b --+-- br0 10.244.16.1/20 [tchash] h-out 198.18.0.1 -- 198.18.0.2 [out]
#   [wc] 10.244.31.250 -- h-c --+
#
# The driver is a small C program compiled here from the tc/ sources (no Makefile rule).
source "$(dirname "$0")/lib.sh"

DRV=$LAB_TMP/tc_drv
cat >"$LAB_TMP/tc_drv.c" <<'EOF'
/* Test driver: builds tc objects with tc/ builders and sends them with overlay/nlsock. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overlay/nlsock.h"
#include "tc/classify.h"
#include "tc/htb.h"
#include "tc/quota.h"
#include "tc/tcmsg.h"

static struct nlsock *ns;
static _Alignas(8) char buf[16384];

static void die(const char *what, int r, const char *kerr)
{
	fprintf(stderr, "tc_drv: %s: %s%s%s\n", what, strerror(-r), kerr && *kerr ? ": " : "", kerr ? kerr : "");
	exit(1);
}

static void send1(const char *what, int len)
{
	char kerr[NLSOCK_ERRLEN] = "";
	int r;

	if (len < 0)
		die(what, len, NULL);
	r = nlsock_transact(ns, buf, (size_t)len, ((struct nlmsghdr *)buf)->nlmsg_seq, 1, NULL, kerr);
	if (r < 0)
		die(what, r, kerr);
}

static int ifindex(const char *name)
{
	int i = (int)if_nametoindex(name);

	if (!i)
		die(name, -ENODEV, NULL);
	return i;
}

static uint64_t rate(const char *s)
{
	uint64_t v;
	int r = quota_parse_rate(s, &v);

	if (r < 0)
		die(s, r, NULL);
	return v;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die(s, -EINVAL, NULL);
	return ntohl(a.s_addr);
}

/* "a.b.c.d/len" */
static void subnet(const char *s, uint32_t *addr, uint8_t *len)
{
	char *c = strdup(s), *slash = c ? strchr(c, '/') : NULL;

	if (!slash)
		die(s, -EINVAL, NULL);
	*slash = '\0';
	*addr = ip4(c);
	*len = (uint8_t)atoi(slash + 1);
	free(c);
}

static enum tcmsg_op op_of(const char *s)
{
	if (!strcmp(s, "add"))
		return TCMSG_ADD;
	if (!strcmp(s, "replace"))
		return TCMSG_REPLACE;
	if (!strcmp(s, "del"))
		return TCMSG_DEL;
	die(s, -EINVAL, NULL);
	return TCMSG_ADD;
}

/* "minor:rate:ceil:prio" (ceil may be empty = root) */
static void parse_classes(char **argv, int n, struct htb_class_spec *c)
{
	for (int i = 0; i < n; i++) {
		char *s = strdup(argv[i]), *minor = strtok(s, ":"), *r = strtok(NULL, ":"), *rest = strtok(NULL, "");
		char *ceil = rest, *prio = rest ? strchr(rest, ':') : NULL;

		if (!minor || !r || !prio)
			die(argv[i], -EINVAL, NULL);
		*prio++ = '\0';
		c[i].minor = (uint16_t)strtoul(minor, NULL, 16);
		c[i].rate = rate(r);
		c[i].ceil = *ceil ? rate(ceil) : 0;
		c[i].prio = (uint32_t)strtoul(prio, NULL, 10);
	}
}

/* tree DEV MAJOR ROOT DEFAULT CLASS...: admission, then qdisc, root class, classes, leaves. */
static void cmd_tree(int argc, char **argv)
{
	struct htb_class_spec classes[16];
	struct htb_tree t = { 0 };
	struct htb_psched ps;
	struct quota_pool pool;
	struct tcmsg_htb_class *c = malloc(sizeof(*c));
	struct tcmsg_qdisc q;
	int n = argc - 4, r;

	if (n < 1 || n > 16 || !c)
		die("tree: usage", -EINVAL, NULL);
	r = htb_psched_read(&ps);
	if (r < 0)
		die("/proc/net/psched", r, NULL);
	parse_classes(argv + 4, n, classes);
	t.ifindex = ifindex(argv[0]);
	t.major = (uint16_t)strtoul(argv[1], NULL, 16);
	t.root_rate = rate(argv[2]);
	t.default_minor = (uint16_t)strtoul(argv[3], NULL, 16);
	t.classes = classes;
	t.nclasses = (size_t)n;

	pool = (struct quota_pool){ .capacity = t.root_rate };
	for (int i = 0; i < n; i++) {
		struct quota_want want = { classes[i].rate, classes[i].ceil }, got;
		char err[QUOTA_ERRLEN];

		if (quota_admit(&pool, "egress", argv[4 + i], &want, &got, err) < 0) {
			fprintf(stderr, "tc_drv: %s\n", err);
			exit(2);
		}
		pool.reserved += got.guarantee;
	}

	r = htb_tree_qdisc(&t, &q);
	send1("htb qdisc", r < 0 ? r : tcmsg_build_qdisc(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_ADD, &q));
	r = htb_tree_root_class(&ps, &t, c);
	send1("root class", r < 0 ? r : tcmsg_build_htb_class(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_ADD, c));
	for (int i = 0; i < n; i++) {
		r = htb_tree_class(&ps, &t, (size_t)i, c);
		send1(argv[4 + i], r < 0 ? r : tcmsg_build_htb_class(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_ADD, c));
		r = htb_tree_leaf(&t, (size_t)i, &q);
		send1("bfifo", r < 0 ? r : tcmsg_build_qdisc(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_REPLACE, &q));
	}
	free(c);
}

/* Compare every class of DEV as the kernel reports it (through our parser) with the tree. */
struct check {
	const struct htb_tree *t;
	const struct htb_psched *ps;
	int seen, bad;
};

static int check_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tcmsg_htb_class *got = malloc(sizeof(*got)), *want = malloc(sizeof(*want));
	struct check *k = data;
	int r = -ENOENT;

	if (!got || !want || tcmsg_parse_htb_class(nlh, got) < 0)
		goto out;
	if (TCMSG_MINOR(got->classid) == HTB_ROOT_MINOR)
		r = htb_tree_root_class(k->ps, k->t, want);
	for (size_t i = 0; i < k->t->nclasses; i++)
		if (TCMSG_MINOR(got->classid) == k->t->classes[i].minor)
			r = htb_tree_class(k->ps, k->t, i, want);
	if (r < 0) {
		printf("class %x:%x unexpected\n", TCMSG_MAJOR(got->classid), TCMSG_MINOR(got->classid));
		k->bad++;
		goto out;
	}
	k->seen++;
	printf("class %x:%x parent %x:%x rate %llu ceil %llu buffer %u cbuffer %u quantum %u prio %u level %u\n",
	       TCMSG_MAJOR(got->classid), TCMSG_MINOR(got->classid), TCMSG_MAJOR(got->parent), TCMSG_MINOR(got->parent),
	       (unsigned long long)got->rate, (unsigned long long)got->ceil, got->buffer, got->cbuffer, got->quantum,
	       got->prio, got->level);
	/* The kernel reports a leaf's quantum and prio only while it is a leaf (level 0). */
	if (got->parent != want->parent || got->rate != want->rate || got->ceil != want->ceil ||
	    got->buffer != want->buffer || got->cbuffer != want->cbuffer ||
	    (!got->level && (got->quantum != want->quantum || got->prio != want->prio))) {
		printf("  MISMATCH: want parent %x rate %llu ceil %llu buffer %u cbuffer %u quantum %u prio %u\n",
		       want->parent, (unsigned long long)want->rate, (unsigned long long)want->ceil, want->buffer,
		       want->cbuffer, want->quantum, want->prio);
		k->bad++;
	}
out:
	free(got);
	free(want);
	return MNL_CB_OK;
}

static void cmd_check(int argc, char **argv)
{
	struct htb_class_spec classes[16];
	struct htb_tree t = { 0 };
	struct htb_psched ps;
	struct check k = { &t, &ps, 0, 0 };
	char kerr[NLSOCK_ERRLEN] = "";
	int n = argc - 4, r;

	htb_psched_read(&ps);
	parse_classes(argv + 4, n, classes);
	t.ifindex = ifindex(argv[0]);
	t.major = (uint16_t)strtoul(argv[1], NULL, 16);
	t.root_rate = rate(argv[2]);
	t.default_minor = (uint16_t)strtoul(argv[3], NULL, 16);
	t.classes = classes;
	t.nclasses = (size_t)n;
	tcmsg_build_class_dump(buf, sizeof(buf), nlsock_next_seq(ns), t.ifindex);
	r = nlsock_query(ns, buf, check_cb, NULL, &k, kerr);
	if (r < 0)
		die("class dump", r, kerr);
	printf("%d classes checked, %d bad\n", k.seen, k.bad);
	exit(k.bad || k.seen != n + 1);
}

/* Print the u32 filters of DEV at PARENT as our parser reads the kernel's dump. */
static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	char ifname[IF_NAMESIZE] = "?";
	struct tcmsg_u32 f;

	if (tcmsg_parse_u32(nlh, &f) < 0)
		return MNL_CB_OK;
	if (f.redirect_ifindex)
		if_indextoname(f.redirect_ifindex, ifname);
	printf("u32 prio %u proto 0x%04x handle %x match %d addr %08x/%u classid %x:%x redirect %s\n", f.prio, f.protocol,
	       f.handle, (int)f.match, f.addr, f.prefix_len, TCMSG_MAJOR(f.classid), TCMSG_MINOR(f.classid),
	       f.redirect_ifindex ? ifname : "-");
	return MNL_CB_OK;
}

static void cmd_filters(char **argv)
{
	char kerr[NLSOCK_ERRLEN] = "";
	uint32_t parent = !strcmp(argv[1], "ingress") ? TCMSG_CLSACT_INGRESS
	                  : !strcmp(argv[1], "egress") ? TCMSG_CLSACT_EGRESS
	                                               : TCMSG_HANDLE(strtoul(argv[1], NULL, 16), 0);
	int r;

	tcmsg_build_filter_dump(buf, sizeof(buf), nlsock_next_seq(ns), ifindex(argv[0]), parent);
	r = nlsock_query(ns, buf, filter_cb, NULL, NULL, kerr);
	if (r < 0)
		die("filter dump", r, kerr);
}

/* Print an IFB's classifier as classify_parse_ifb_filter() reads the kernel's dump. */
static void print_handle(const char *what, uint32_t h)
{
	printf("%s %x:%x:%x", what, TCMSG_U32_HTID(h), TCMSG_U32_BUCKET(h), TCMSG_U32_NODE(h));
}

static int ifb_cb(const struct nlmsghdr *nlh, void *data)
{
	struct classify_ifb_filter c;
	char a[INET_ADDRSTRLEN];
	struct in_addr in;
	int r = classify_parse_ifb_filter(nlh, &c);

	if (r == -ENOENT)
		return MNL_CB_OK;
	if (r < 0) {
		printf("error %s\n", strerror(-r));
		return MNL_CB_OK;
	}
	in.s_addr = htonl(c.addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	switch (c.kind) {
	case CLASSIFY_IFB_TABLE:
		print_handle("table", c.handle);
		printf(" divisor %u\n", c.divisor);
		break;
	case CLASSIFY_IFB_LINK:
		print_handle("link", c.handle);
		printf(" %s %s/%u\n", c.from_workload ? "src" : "dst", a, c.prefix_len);
		break;
	case CLASSIFY_IFB_WORKLOAD:
		print_handle("workload", c.handle);
		printf(" %s %s %x:%x\n", c.from_workload ? "src" : "dst", a, TCMSG_MAJOR(c.classid), TCMSG_MINOR(c.classid));
		break;
	case CLASSIFY_IFB_OTHER:
		print_handle("other", c.handle);
		printf("\n");
		break;
	}
	return MNL_CB_OK;
}

static void cmd_classifier(char **argv)
{
	char kerr[NLSOCK_ERRLEN] = "";
	int r;

	tcmsg_build_filter_dump(buf, sizeof(buf), nlsock_next_seq(ns), ifindex(argv[0]),
	                        TCMSG_HANDLE(strtoul(argv[1], NULL, 16), 0));
	r = nlsock_query(ns, buf, ifb_cb, NULL, NULL, kerr);
	if (r < 0)
		die("filter dump", r, kerr);
}

/* workloads IFB MAJOR out|in SUBNET MINOR < addresses: ADD a filter per address, in batches. */
static void cmd_workloads(char **argv)
{
	uint16_t major = (uint16_t)strtoul(argv[1], NULL, 16);
	uint32_t classid = TCMSG_HANDLE(major, strtoul(argv[4], NULL, 16)), net;
	bool out = !strcmp(argv[2], "out");
	int ifb = ifindex(argv[0]), total = 0;
	char line[64], kerr[NLSOCK_ERRLEN] = "";
	uint8_t len;

	subnet(argv[3], &net, &len);
	for (bool more = true; more;) {
		uint32_t first = 0;
		unsigned n = 0, failed = 0;
		size_t off = 0;
		int r;

		while (n < 64 && (more = fgets(line, sizeof(line), stdin) != NULL)) {
			uint32_t seq = nlsock_next_seq(ns);

			line[strcspn(line, "\n")] = '\0';
			if (!n)
				first = seq;
			r = classify_build_workload(buf + off, sizeof(buf) - off, seq, TCMSG_ADD, ifb, major, net, len,
			                            ip4(line), out, classid);
			if (r < 0)
				die(line, r, NULL);
			off += (size_t)r;
			n++;
		}
		if (!n)
			break;
		r = nlsock_transact(ns, buf, off, first, n, &failed, kerr);
		if (r < 0)
			die("workload filters", r, kerr);
		total += (int)n;
	}
	printf("%d workload filters added\n", total);
}

int main(int argc, char **argv)
{
	int r;

	if (argc < 2)
		return 2;
	r = nlsock_open(-1, &ns);
	if (r < 0)
		die("netlink", r, NULL);
	if (!strcmp(argv[1], "ifb") && argc == 3) {
		send1(argv[2], classify_build_ifb(buf, sizeof(buf), nlsock_next_seq(ns), argv[2], true));
	} else if (!strcmp(argv[1], "tree") && argc >= 7) {
		cmd_tree(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "check") && argc >= 7) {
		cmd_check(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "veth") && (argc == 5 || argc == 6)) {
		/* veth VETH OUT IN [SUBNET]: with a subnet, the same-host exemption too */
		bool exempt = argc == 6;
		uint32_t seq = nlsock_next_seq(ns), net = 0;
		char kerr[NLSOCK_ERRLEN] = "";
		int errs[8] = { 0 };
		uint8_t nlen = 0;
		int len;

		if (exempt)
			subnet(argv[5], &net, &nlen);
		for (unsigned i = 1; i < classify_veth_msgs(exempt); i++)
			nlsock_next_seq(ns);
		len = classify_build_veth(buf, sizeof(buf), seq, ifindex(argv[2]), ifindex(argv[3]), ifindex(argv[4]), exempt,
		                          net, nlen);
		if (len < 0)
			die("veth", len, NULL);
		/* Every message's answer, in order, when one fails ("0 0 -28 0 -28"). */
		r = nlsock_transact_each(ns, buf, (size_t)len, seq, classify_veth_msgs(exempt), errs, kerr);
		if (r < 0) {
			for (unsigned i = 0; i < classify_veth_msgs(exempt); i++)
				printf("%s%d", i ? " " : "", errs[i]);
			printf("\n");
			return 1;
		}
	} else if (!strcmp(argv[1], "exempt") && argc == 6) {
		/* exempt VETH in|out SUBNET add|del: "out" = from the workload (the ingress hook) */
		uint32_t net;
		uint8_t nlen;

		subnet(argv[4], &net, &nlen);
		send1("exemption", classify_build_exempt(buf, sizeof(buf), nlsock_next_seq(ns), op_of(argv[5]),
		                                         ifindex(argv[2]), !strcmp(argv[3], "out"), net, nlen));
	} else if (!strcmp(argv[1], "hash") && argc == 6) {
		/* hash IFB MAJOR out|in SUBNET: the table, then the link (one batch) */
		uint16_t major = (uint16_t)strtoul(argv[3], NULL, 16);
		uint32_t seq = nlsock_next_seq(ns), net;
		char kerr[NLSOCK_ERRLEN] = "";
		unsigned failed = 0;
		uint8_t nlen;
		int l1, l2;

		subnet(argv[5], &net, &nlen);
		l1 = classify_build_hash_table(buf, sizeof(buf), seq, TCMSG_ADD, ifindex(argv[2]), major);
		if (l1 < 0)
			die("hash table", l1, NULL);
		l2 = classify_build_hash_link(buf + l1, sizeof(buf) - (size_t)l1, nlsock_next_seq(ns), TCMSG_ADD,
		                              ifindex(argv[2]), major, net, nlen, !strcmp(argv[4], "out"));
		if (l2 < 0)
			die("hash link", l2, NULL);
		r = nlsock_transact(ns, buf, (size_t)(l1 + l2), seq, 2, &failed, kerr);
		if (r < 0)
			die(failed == 0 ? "hash table" : "hash link", r, kerr);
	} else if (!strcmp(argv[1], "table") && argc == 5) {
		/* table IFB MAJOR add|del */
		send1("hash table", classify_build_hash_table(buf, sizeof(buf), nlsock_next_seq(ns), op_of(argv[4]),
		                                              ifindex(argv[2]), (uint16_t)strtoul(argv[3], NULL, 16)));
	} else if (!strcmp(argv[1], "link") && argc == 7) {
		/* link IFB MAJOR out|in SUBNET add|replace|del */
		uint32_t net;
		uint8_t nlen;

		subnet(argv[5], &net, &nlen);
		send1("hash link", classify_build_hash_link(buf, sizeof(buf), nlsock_next_seq(ns), op_of(argv[6]),
		                                            ifindex(argv[2]), (uint16_t)strtoul(argv[3], NULL, 16), net, nlen,
		                                            !strcmp(argv[4], "out")));
	} else if (!strcmp(argv[1], "workload") && argc == 9) {
		/* workload IFB MAJOR out|in SUBNET ADDR MINOR(hex) add|replace|del */
		uint16_t major = (uint16_t)strtoul(argv[3], NULL, 16);
		enum tcmsg_op op = op_of(argv[8]);
		uint32_t net;
		uint8_t nlen;

		subnet(argv[5], &net, &nlen);
		send1("workload filter",
		      classify_build_workload(buf, sizeof(buf), nlsock_next_seq(ns), op, ifindex(argv[2]), major, net, nlen,
		                              ip4(argv[6]), !strcmp(argv[4], "out"),
		                              op == TCMSG_DEL ? 0 : TCMSG_HANDLE(major, strtoul(argv[7], NULL, 16))));
	} else if (!strcmp(argv[1], "workloads") && argc == 7) {
		cmd_workloads(argv + 2);
	} else if (!strcmp(argv[1], "classifier") && argc == 4) {
		cmd_classifier(argv + 2);
	} else if (!strcmp(argv[1], "flush") && argc == 4) {
		send1("flush", classify_build_hash_flush(buf, sizeof(buf), nlsock_next_seq(ns), ifindex(argv[2]),
		                                         (uint16_t)strtoul(argv[3], NULL, 16)));
	} else if (!strcmp(argv[1], "filters") && argc == 4) {
		cmd_filters(argv + 2);
	} else if (!strcmp(argv[1], "unveth") && argc == 3) {
		send1("clsact del", classify_build_clsact(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_DEL, ifindex(argv[2])));
	} else {
		fprintf(stderr, "tc_drv: bad command\n");
		return 2;
	}
	nlsock_free(ns);
	return 0;
}
EOF
# shellcheck disable=SC2046
check "build tc driver" cc -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-unused-parameter -Wno-format-truncation -Werror -O1 -g -I"$ROOT" -D_GNU_SOURCE \
	-o "$DRV" "$LAB_TMP/tc_drv.c" "$ROOT"/tc/tcmsg.c "$ROOT"/tc/htb.c "$ROOT"/tc/quota.c "$ROOT"/tc/classify.c \
	"$ROOT"/overlay/nlsock.c $(pkg-config --cflags --libs libmnl) -lpthread
[ -x "$DRV" ] || { not_ok "tc driver missing"; lab_done; exit 1; }

HOST=$(lab_host tchost)
WL=$(lab_netns tcwl)
H() { ip netns exec "$HOST" "$@"; }
drv() { H "$DRV" "$@"; }

check "create IFB shoal-out" drv ifb shoal-out
check "create IFB shoal-in" drv ifb shoal-in
expect_eq "IFBs are up" "2" "$(ip -n "$HOST" -o link show type ifb up | grep -c 'shoal-')"
check_fails "a second shoal-out is refused (EXCL)" drv ifb shoal-out

ip -n "$HOST" link add h-wl type veth peer name eth0 netns "$WL"
ip -n "$HOST" addr add 10.244.7.1/24 dev h-wl
ip -n "$HOST" link set h-wl up
ip -n "$WL" addr add 10.244.7.2/24 dev eth0
ip -n "$WL" link set eth0 up

# ---- shoal-out: 200mbit, 120 + 80.
OUT_CLASSES=(10:120mbit::1 20:80mbit::2)
check "admission refuses 120 + 100 on 200mbit" bash -c \
	"! ip netns exec $HOST $DRV tree shoal-out 1 200mbit 20 10:120mbit::1 20:100mbit::2 2>$LAB_TMP/refuse.txt"
msg=$(cat "$LAB_TMP/refuse.txt")
case "$msg" in
*"guarantee 100mbit"*"120mbit of the host's 200mbit already guaranteed, 80mbit free"*) ok "refusal names the numbers" ;;
*) not_ok "refusal names the numbers (got '$msg')" ;;
esac
expect_eq "refused tree left no qdisc" "" "$(H tc qdisc show dev shoal-out | grep htb)"

check "build HTB tree on shoal-out" drv tree shoal-out 1 200mbit 20 "${OUT_CLASSES[@]}"
check "kernel's classes equal ours (parsed back)" drv check shoal-out 1 200mbit 20 "${OUT_CLASSES[@]}"
H "$DRV" check shoal-out 1 200mbit 20 "${OUT_CLASSES[@]}" | sed 's/^/#   /'

qd=$(H tc qdisc show dev shoal-out)
case "$qd" in *"htb 1: root"*"default 0x20"*"direct_qlen 247"*) ok "htb qdisc: default 1:20, direct_qlen 247" ;;
*) not_ok "htb qdisc (got '$qd')" ;; esac
# Both leaves may borrow up to 200mbit: 200mbit x 100 ms = 2500000 bytes each.
expect_eq "two bfifo leaves of 2500000b (ceil 200mbit x 100 ms)" \
	"2" "$(H tc qdisc show dev shoal-out | grep -c 'bfifo .* parent 1:[12]0 limit 2500000b')"

cls=$(H tc -d class show dev shoal-out)
line() { grep "class htb $1 " <<<"$cls"; }
# tc -d: "prio P quantum Q rate R ceil C linklayer ethernet burst B/1 mpu 0b cburst CB/1 ...".
case "$(line 1:1)" in *"root rate 200Mbit ceil 200Mbit linklayer ethernet burst 64Kb/1 mpu 0b cburst 64Kb/1"*) ok "root 1:1 200mbit burst 64Kb" ;;
*) not_ok "root 1:1 (got '$(line 1:1)')" ;; esac
case "$(line 1:10)" in *"parent 1:1 leaf"*"prio 1 quantum 98304 rate 120Mbit ceil 200Mbit linklayer ethernet burst 64Kb/1 mpu 0b cburst 64Kb/1"*)
	ok "1:10: 120mbit ceil 200mbit prio 1 quantum 98304 (64 KiB x 120/80)" ;;
*) not_ok "1:10 (got '$(line 1:10)')" ;; esac
case "$(line 1:20)" in *"parent 1:1 leaf"*"prio 2 quantum 65536 rate 80Mbit ceil 200Mbit linklayer ethernet burst 64Kb/1"*)
	ok "1:20: 80mbit prio 2 quantum 65536 (the smallest guarantee)" ;;
*) not_ok "1:20 (got '$(line 1:20)')" ;; esac

# ---- shoal-in: 64-bit rates.  40gbit = 5e9 bytes/s >= 2^32; 10gbit = 1.25e9 bytes/s is not.
IN_CLASSES=(10:10gbit::0 20:40gbit::0)
check "build HTB tree on shoal-in (64-bit rates)" drv tree shoal-in 2 50gbit 0 "${IN_CLASSES[@]}"
check "kernel's 64-bit classes equal ours (parsed back)" drv check shoal-in 2 50gbit 0 "${IN_CLASSES[@]}"
cls=$(H tc -d class show dev shoal-in)
case "$(line 2:1)" in *"rate 50Gbit ceil 50Gbit linklayer ethernet burst 6250000b/1"*) ok "root 2:1 50gbit (RATE64) burst 50gbit x 1 ms" ;;
*) not_ok "root 2:1 (got '$(line 2:1)')" ;; esac
case "$(line 2:20)" in *"quantum 262144 rate 40Gbit ceil 50Gbit linklayer ethernet burst 5000000b/1 mpu 0b cburst 6250000b/1"*) ok "2:20 40gbit (RATE64) quantum 4 x 64 KiB" ;;
*) not_ok "2:20 (got '$(line 2:20)')" ;; esac
case "$(line 2:10)" in *"quantum 65536 rate 10Gbit ceil 50Gbit linklayer ethernet burst 1250000b/1 mpu 0b cburst 6250000b/1"*) ok "2:10 10gbit (32-bit rate) ceil 50gbit" ;;
*) not_ok "2:10 (got '$(line 2:10)')" ;; esac

# ---- The veth: clsact with both redirects, then the workload's classifiers.
check "clsact + redirects on h-wl" drv veth h-wl shoal-out shoal-in
expect_eq "clsact on h-wl" "1" "$(H tc qdisc show dev h-wl | grep -c 'qdisc clsact ffff: parent ffff:fff1')"
fi_in=$(H tc filter show dev h-wl ingress)
case "$fi_in" in *"match 00000000/00000000 at 0"*"mirred (Egress Redirect to device shoal-out) stolen"*)
	ok "h-wl ingress: match all -> redirect shoal-out" ;; *) not_ok "h-wl ingress (got '$fi_in')" ;; esac
fi_eg=$(H tc filter show dev h-wl egress)
case "$fi_eg" in *"match 00000000/00000000 at 0"*"mirred (Egress Redirect to device shoal-in) stolen"*)
	ok "h-wl egress: match all -> redirect shoal-in" ;; *) not_ok "h-wl egress (got '$fi_eg')" ;; esac
# Separate priorities per hook keep each hook's dump to its own filter (see tc/classify.h).
expect_eq "our parser reads the kernel's ingress redirect back" \
	"u32 prio 2 proto 0x0003 handle 80000001 match 0 addr 00000000/0 classid 0:0 redirect shoal-out" \
	"$(drv filters h-wl ingress)"
expect_eq "our parser reads the kernel's egress redirect back" \
	"u32 prio 4 proto 0x0003 handle 80100001 match 0 addr 00000000/0 classid 0:0 redirect shoal-in" \
	"$(drv filters h-wl egress)"

# The hashed classifier: table 100:, the link for the subnet in the root table 800:, and the
# workload's filter in bucket 2 (its last octet), node 1 (a /24 has one address per bucket).
check "classifier on shoal-out: table + link (src 10.244.7.0/24)" drv hash shoal-out 1 out 10.244.7.0/24
check "classifier on shoal-in: table + link (dst 10.244.7.0/24)" drv hash shoal-in 2 in 10.244.7.0/24
check "workload filter on shoal-out (src 10.244.7.2 -> 1:10)" drv workload shoal-out 1 out 10.244.7.0/24 10.244.7.2 10 add
check "workload filter on shoal-in (dst 10.244.7.2 -> 2:10)" drv workload shoal-in 2 in 10.244.7.0/24 10.244.7.2 10 add
fo=$(H tc filter show dev shoal-out)
case "$fo" in *"fh 100: ht divisor 256"*"fh 100:2:1 "*"flowid 1:10"*"match 0af40702/ffffffff at 12"*"fh 800::1 "*"link 100:"*"match 0af40700/ffffff00 at 12"*"hash mask 000000ff at 12"*)
	ok "shoal-out (tc): table 100:, 100:2:1 src 10.244.7.2/32 -> 1:10, 800::1 src /24 hashed at 12 -> 100:" ;;
*) not_ok "shoal-out filters (got '$fo')" ;; esac
fi_=$(H tc filter show dev shoal-in)
case "$fi_" in *"fh 100:2:1 "*"flowid 2:10"*"match 0af40702/ffffffff at 16"*"fh 800::1 "*"link 100:"*"hash mask 000000ff at 16"*)
	ok "shoal-in (tc): 100:2:1 dst 10.244.7.2/32 -> 2:10, link hashed at 16" ;;
*) not_ok "shoal-in filters (got '$fi_')" ;; esac
expect_eq "our parser reads the classifier back (table, workload, link)" \
	"table 100:0:0 divisor 256
workload 100:2:1 src 10.244.7.2 1:10
link 800:0:1 src 10.244.7.0/24" "$(drv classifier shoal-out 1)"

# ---- Traffic: 20 pings from the workload.  Each request crosses shoal-out in 1:10, each reply
# crosses shoal-in in 2:10; the other leaves see nothing of it.
pkts() { H tc -s class show dev "$1" | awk -v c="$2" '$1 == "class" && $3 == c { getline; print $4; exit }'; }
check "ping from the workload through both IFBs" ip netns exec "$WL" ping -c 20 -i 0.05 -W 2 -q 10.244.7.1
out10=$(pkts shoal-out 1:10); out20=$(pkts shoal-out 1:20)
in10=$(pkts shoal-in 2:10); in20=$(pkts shoal-in 2:20)
echo "# shoal-out 1:10 $out10 pkts, 1:20 $out20; shoal-in 2:10 $in10, 2:20 $in20"
check "1:10 counted the 20 requests" test "${out10:-0}" -ge 20
check "2:10 counted the 20 replies" test "${in10:-0}" -ge 20
# ARP can land in the default class 1:20; nothing lands in 2:20 (no default on shoal-in, and its
# filter matches only the workload's address).
check "1:20 did not take the pings" test "${out20:-0}" -lt 20
expect_eq "2:20 saw nothing" "0" "${in20:-0}"

# ---- Removal: deleting clsact drops the redirects; traffic then bypasses the IFBs.
check "delete clsact" drv unveth h-wl
expect_eq "no clsact left" "" "$(H tc qdisc show dev h-wl | grep clsact)"
check "ping still works without the IFBs" ip netns exec "$WL" ping -c 2 -i 0.05 -W 2 -q 10.244.7.1
expect_eq "no new packets in 1:10" "$out10" "$(pkts shoal-out 1:10)"

# ==== The daemon's layout at scale (host tchash): hashed classification of 3 workloads among 253
# filters, the same-host exemption, and changes by deterministic handle.
HB=$(lab_host tchash)
WA=$(lab_netns tcwa)
WB=$(lab_netns tcwb)
WC=$(lab_netns tcwc)
OUTNS=$(lab_netns tcout)
HBX() { ip netns exec "$HB" "$@"; }
drvb() { ip netns exec "$HB" "$DRV" "$@"; }
SUBNET=10.244.16.0/20
# Only the packets we send: no IPv6 (router solicitations, MLD) in any of these namespaces.
for ns in "$HB" "$WA" "$WB" "$WC" "$OUTNS"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$HB" link add br0 type bridge
ip -n "$HB" addr add 10.244.16.1/20 dev br0
ip -n "$HB" link set br0 up
for w in "a $WA 10.244.16.2" "b $WB 10.244.17.2" "c $WC 10.244.31.250"; do
	read -r n ns addr <<<"$w"
	ip -n "$HB" link add "h-$n" type veth peer name eth0 netns "$ns"
	ip -n "$HB" link set "h-$n" master br0 up
	ip -n "$ns" addr add "$addr/20" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via 10.244.16.1
done
ip -n "$HB" link add h-out type veth peer name eth0 netns "$OUTNS"
ip -n "$HB" addr add 198.18.0.1/24 dev h-out
ip -n "$HB" link set h-out up
ip -n "$OUTNS" addr add 198.18.0.2/24 dev eth0
ip -n "$OUTNS" link set eth0 up
ip -n "$OUTNS" route add 10.244.16.0/20 via 198.18.0.1
# Same-host pings without ARP (ARP is not IPv4: it would take the redirect and blur the counts).
mac() { ip -n "$1" -br link show eth0 | awk '{print $3}'; }
for p in "$WA 10.244.17.2 $WB" "$WB 10.244.16.2 $WA" "$WA 10.244.31.250 $WC" "$WC 10.244.16.2 $WA"; do
	read -r from to_ip to_ns <<<"$p"
	ip -n "$from" neigh replace "$to_ip" lladdr "$(mac "$to_ns")" dev eth0 nud permanent
done

check "tchash: create IFBs" bash -c "ip netns exec $HB $DRV ifb shoal-out && ip netns exec $HB $DRV ifb shoal-in"
# Class minors are the address's offset in the subnet (as shoald names them); fff0 is a decoy
# that the 250 extra filters point to, ffff the default.
HCLASSES=(2:20mbit::1 102:20mbit::1 ffa:20mbit::1 fff0:10mbit::7 ffff:10mbit::7)
check "tchash: HTB tree on shoal-out" drvb tree shoal-out 1 200mbit ffff "${HCLASSES[@]}"
check "tchash: HTB tree on shoal-in" drvb tree shoal-in 2 200mbit ffff "${HCLASSES[@]}"
check "tchash: table + link on shoal-out (src $SUBNET)" drvb hash shoal-out 1 out "$SUBNET"
check "tchash: table + link on shoal-in (dst $SUBNET)" drvb hash shoal-in 2 in "$SUBNET"

# 250 more workloads: the rest of bucket 2's and bucket fa's column (a /20 puts 16 addresses in each
# bucket), and 221 others.  wa and wb go first, wc (the last node of bucket fa) after all of them.
{
	for n in $(seq 2 15); do echo "10.244.$((16 + n)).2"; done
	for n in $(seq 0 14); do echo "10.244.$((16 + n)).250"; done
	for o in $(seq 3 223); do echo "10.244.20.$o"; done
} >"$LAB_TMP/extra.txt"
expect_eq "250 distinct extra addresses" 250 "$(sort -u "$LAB_TMP/extra.txt" | wc -l)"
for t in "shoal-out 1 out" "shoal-in 2 in"; do
	read -r dev maj dir <<<"$t"
	check "tchash: $dev: wa 10.244.16.2 -> $maj:2" drvb workload "$dev" "$maj" "$dir" "$SUBNET" 10.244.16.2 2 add
	check "tchash: $dev: wb 10.244.17.2 -> $maj:102" drvb workload "$dev" "$maj" "$dir" "$SUBNET" 10.244.17.2 102 add
	check "tchash: $dev: 250 more workload filters -> $maj:fff0" \
		drvb workloads "$dev" "$maj" "$dir" "$SUBNET" fff0 <"$LAB_TMP/extra.txt"
	check "tchash: $dev: wc 10.244.31.250 -> $maj:ffa, the 253rd" \
		drvb workload "$dev" "$maj" "$dir" "$SUBNET" 10.244.31.250 ffa add
done

cl=$(drvb classifier shoal-out 1)
expect_eq "shoal-out: our table" "table 100:0:0 divisor 256" "$(grep '^table' <<<"$cl")"
expect_eq "shoal-out: one link, for the subnet" "link 800:0:1 src 10.244.16.0/20" "$(grep '^link' <<<"$cl")"
expect_eq "shoal-out: 253 workload filters" 253 "$(grep -c '^workload' <<<"$cl")"
expect_eq "shoal-out: nothing else" 0 "$(grep -cvE '^(table|link|workload) ' <<<"$cl")"
expect_eq "wa: bucket 2, node 1" "workload 100:2:1 src 10.244.16.2 1:2" "$(grep ' 10.244.16.2 ' <<<"$cl")"
expect_eq "wb: bucket 2, node 2" "workload 100:2:2 src 10.244.17.2 1:102" "$(grep ' 10.244.17.2 ' <<<"$cl")"
expect_eq "wc: bucket fa, node 10 (16)" "workload 100:fa:10 src 10.244.31.250 1:ffa" "$(grep ' 10.244.31.250 ' <<<"$cl")"
expect_eq "bucket 2 holds its 16 addresses" 16 "$(grep -c '^workload 100:2:' <<<"$cl")"
# Every handle is the function of the address the daemon relies on: 100:(last octet):(1 + offset >> 8).
bad=$(awk '$1 == "workload" { split($4, o, "."); off = (o[3] - 16) * 256 + o[4];
	want = sprintf("100:%x:%x", o[4], 1 + int(off / 256)); if ($2 != want) print $2, $4, want }' <<<"$cl")
expect_eq "every workload filter has its deterministic handle" "" "$bad"
expect_eq "shoal-in: 253 workload filters keyed on the destination" 253 \
	"$(drvb classifier shoal-in 2 | grep -c '^workload .* dst ')"
expect_eq "tc sees 253 filters in table 100:" 253 "$(HBX tc filter show dev shoal-out | grep -c 'key ht 100 bkt')"

# ---- The veths: wa and wb with the same-host exemption, wc without.
check "tchash: h-a: clsact, exemption + redirect per hook" drvb veth h-a shoal-out shoal-in "$SUBNET"
check "tchash: h-b: clsact, exemption + redirect per hook" drvb veth h-b shoal-out shoal-in "$SUBNET"
check "tchash: h-c: clsact + redirects only" drvb veth h-c shoal-out shoal-in
# Four priorities: each hook's dump lists its own two filters and nothing of the other hook.
expect_eq "h-a ingress: exemption (dst in the subnet) at prio 1, then the redirect at 2" \
	"u32 prio 1 proto 0x0800 handle 80000001 match 2 addr 0af41000/20 classid ffff:1 redirect -
u32 prio 2 proto 0x0003 handle 80100001 match 0 addr 00000000/0 classid 0:0 redirect shoal-out" \
	"$(drvb filters h-a ingress)"
expect_eq "h-a egress: exemption (src in the subnet) at prio 3, then the redirect at 4" \
	"u32 prio 3 proto 0x0800 handle 80200001 match 1 addr 0af41000/20 classid ffff:1 redirect -
u32 prio 4 proto 0x0003 handle 80300001 match 0 addr 00000000/0 classid 0:0 redirect shoal-in" \
	"$(drvb filters h-a egress)"

pktsb() { HBX tc -s class show dev "$1" | awk -v c="$2" '$1 == "class" && $3 == c { getline; print $4; exit }'; }
sentb() { HBX tc -s qdisc show dev "$1" | awk '$1 == "qdisc" && $2 == "htb" { getline; print $4; exit }'; }
# snap: "out:2 in:2 out:102 ..." packet counts of the workloads' and the decoy's classes.
snap() {
	local m
	for m in 2 102 ffa fff0 ffff; do
		printf 'out:%s=%s in:%s=%s ' "$m" "$(pktsb shoal-out "1:$m")" "$m" "$(pktsb shoal-in "2:$m")"
	done
}
# delta BEFORE AFTER KEY: the growth of one counter between two snaps.
delta() {
	local b a
	b=$(tr ' ' '\n' <<<"$1" | grep "^$3=" | cut -d= -f2)
	a=$(tr ' ' '\n' <<<"$2" | grep "^$3=" | cut -d= -f2)
	echo $((${a:-0} - ${b:-0}))
}

# ---- Traffic to the outside: each workload's 10 requests in its own class on shoal-out, its 10
# replies in its own class on shoal-in, nothing in the other workloads' classes or the decoy's.
for w in "wa $WA 2" "wb $WB 102" "wc $WC ffa"; do
	read -r name ns m <<<"$w"
	s0=$(snap)
	check "$name pings the outside" ip netns exec "$ns" ping -c 10 -i 0.05 -W 2 -q 198.18.0.2
	s1=$(snap)
	expect_eq "$name: 10 requests in 1:$m" 10 "$(delta "$s0" "$s1" "out:$m")"
	expect_eq "$name: 10 replies in 2:$m" 10 "$(delta "$s0" "$s1" "in:$m")"
	others=""
	for o in 2 102 ffa fff0; do
		[ "$o" = "$m" ] && continue
		others+="$(delta "$s0" "$s1" "out:$o")$(delta "$s0" "$s1" "in:$o")"
	done
	expect_eq "$name: no packet in another workload's class or the decoy's" "000000" "$others"
done

# ---- Same host: wa <-> wb with the exemption on both veths reaches neither IFB.  The 40 ICMP
# packets would land in wa's and wb's classes; what may still cross an IFB meanwhile is a workload's
# neighbour probe to its gateway (ARP: not IP, not exempt, into the unclassified class), which the
# kernel sends on its own timer (seen: one each way in some runs).
q0="$(sentb shoal-out) $(sentb shoal-in)"
s0=$(snap)
check "wa pings wb (same host, both exempt)" ip netns exec "$WA" ping -c 10 -i 0.05 -W 2 -q 10.244.17.2
check "wb pings wa (same host, both exempt)" ip netns exec "$WB" ping -c 10 -i 0.05 -W 2 -q 10.244.16.2
s1=$(snap)
q1="$(sentb shoal-out) $(sentb shoal-in)"
echo "# shoal-out, shoal-in qdisc packets: before $q0, after $q1"
check "the qdisc counters read (the pings above went through)" bash -c "[[ '$q0' =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]]"
expect_eq "exempt same-host traffic: nothing in wa's or wb's classes on either IFB" "0000" \
	"$(delta "$s0" "$s1" out:2)$(delta "$s0" "$s1" in:2)$(delta "$s0" "$s1" out:102)$(delta "$s0" "$s1" in:102)"
check "exempt same-host traffic: at most a neighbour probe or two on each IFB, never the 20 pings" \
	awk -v b="$q0" -v a="$q1" 'BEGIN { split(b, x, " "); split(a, y, " "); exit !(y[1] - x[1] <= 2 && y[2] - x[2] <= 2) }'
# wc has no exemption, wa has: wc's requests are shaped on shoal-out (1:ffa) and wa's replies on
# shoal-in (2:ffa, h-c's egress); h-a's hooks let both directions through (src/dst in the subnet).
s0=$(snap)
check "wc pings wa (only wa exempt)" ip netns exec "$WC" ping -c 10 -i 0.05 -W 2 -q 10.244.16.2
s1=$(snap)
expect_eq "wc -> wa: per hook: 1:ffa +10, 2:ffa +10, wa's classes +0" "10 10 0 0" \
	"$(delta "$s0" "$s1" out:ffa) $(delta "$s0" "$s1" in:ffa) $(delta "$s0" "$s1" out:2) $(delta "$s0" "$s1" in:2)"
# The exemption goes by priority, without a handle, and comes back.
check "delete h-b's ingress exemption (by priority)" drvb exempt h-b out "$SUBNET" del
expect_eq "h-b ingress: only the redirect left" \
	"u32 prio 2 proto 0x0003 handle 80100001 match 0 addr 00000000/0 classid 0:0 redirect shoal-out" \
	"$(drvb filters h-b ingress)"
s0=$(snap)
check "wb pings wa (wb's ingress no longer exempt)" ip netns exec "$WB" ping -c 10 -i 0.05 -W 2 -q 10.244.16.2
s1=$(snap)
expect_eq "wb's requests to wa are shaped again (1:102 +10)" 10 "$(delta "$s0" "$s1" out:102)"
check "add h-b's ingress exemption back" drvb exempt h-b out "$SUBNET" add
expect_eq "h-b ingress: two filters again" 2 "$(drvb filters h-b ingress | wc -l)"
# The veth's set can be sent again (as reconcile does): clsact is replaced in place, every filter
# that is there answers ENOSPC (its node is taken) and none is duplicated; a missing one is added.
expect_eq "re-send h-a's set: clsact ok, four filters ENOSPC" "0 -28 -28 -28 -28" \
	"$(drvb veth h-a shoal-out shoal-in "$SUBNET")"
expect_eq "h-a: still two filters per hook" "2 2" \
	"$(drvb filters h-a ingress | wc -l) $(drvb filters h-a egress | wc -l)"
expect_eq "turn h-c's exemption on by re-sending its set: the two exemptions added" "0 0 -28 0 -28" \
	"$(drvb veth h-c shoal-out shoal-in "$SUBNET")"
expect_eq "h-c: exemption + redirect per hook" "1 2 3 4" \
	"$( (drvb filters h-c ingress; drvb filters h-c egress) | awk '{print $3}' | tr '\n' ' ' | sed 's/ $//')"
q0="$(sentb shoal-out) $(sentb shoal-in)"
check "wc pings wa (both exempt now)" ip netns exec "$WC" ping -c 10 -i 0.05 -W 2 -q 10.244.16.2
expect_eq "wc <-> wa reaches neither IFB now" "$q0" "$(sentb shoal-out) $(sentb shoal-in)"

# ---- Changes by deterministic handle, as the daemon makes them after a restart (no dump).
check "replace wa's filter in place: -> 1:fff0" drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 fff0 replace
cl=$(drvb classifier shoal-out 1)
expect_eq "still 253 filters, wa's now -> 1:fff0" "253 workload 100:2:1 src 10.244.16.2 1:fff0" \
	"$(grep -c '^workload' <<<"$cl") $(grep ' 10.244.16.2 ' <<<"$cl")"
s0=$(snap)
check "wa pings the outside" ip netns exec "$WA" ping -c 10 -i 0.05 -W 2 -q 198.18.0.2
s1=$(snap)
expect_eq "wa's requests now in 1:fff0, none in 1:2" "10 0" "$(delta "$s0" "$s1" out:fff0) $(delta "$s0" "$s1" out:2)"
check "replace it back: -> 1:2" drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 2 replace

check "delete wa's filter by its handle" drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 0 del
cl=$(drvb classifier shoal-out 1)
expect_eq "252 filters left, none for wa" "252 " "$(grep -c '^workload' <<<"$cl") $(grep ' 10.244.16.2 ' <<<"$cl")"
expect_eq "tc: no 100:2:1 left, 100:2:2 (wb, same bucket) still there" "0 1" \
	"$(HBX tc filter show dev shoal-out | grep -c 'fh 100:2:1 ') $(HBX tc filter show dev shoal-out | grep -c 'fh 100:2:2 ')"
s0=$(snap)
check "wa pings the outside" ip netns exec "$WA" ping -c 10 -i 0.05 -W 2 -q 198.18.0.2
check "wb pings the outside" ip netns exec "$WB" ping -c 10 -i 0.05 -W 2 -q 198.18.0.2
s1=$(snap)
d_def=$(delta "$s0" "$s1" out:ffff)
expect_eq "wa unclassified now (1:2 +0), wb still in 1:102 (+10)" "0 10" \
	"$(delta "$s0" "$s1" out:2) $(delta "$s0" "$s1" out:102)"
check "wa's requests went to the default class 1:ffff" test "$d_def" -ge 10
out=$(drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 0 del 2>&1)
case "$out" in *"No such file"*) ok "a second delete of it: ENOENT" ;; *) not_ok "second delete (got '$out')" ;; esac
check "add it again" drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 2 add
out=$(drvb workload shoal-out 1 out "$SUBNET" 10.244.16.2 2 add 2>&1)
case "$out" in *"File exists"*) ok "adding it twice: EEXIST (no duplicate)" ;; *) not_ok "second ADD (got '$out')" ;; esac
expect_eq "253 filters again" 253 "$(drvb classifier shoal-out 1 | grep -c '^workload')"

# ---- What the kernel does with tables and links (why the builders are as they are).
out=$(drvb table shoal-out 1 add 2>&1)
case "$out" in *"File exists"*) ok "a second table ADD: EEXIST" ;; *) not_ok "second table ADD (got '$out')" ;; esac
out=$(HBX tc filter replace dev shoal-out parent 1: prio 10 handle 100: protocol ip u32 divisor 256 2>&1)
case "$out" in *"Key node id cannot be zero"*) ok "the kernel cannot REPLACE a table (so the builder refuses it)" ;;
*) not_ok "table REPLACE (got '$out')" ;; esac
out=$(drvb table shoal-out 1 del 2>&1)
case "$out" in *"busy"*) ok "the table cannot go while the link points to it (EBUSY)" ;;
*) not_ok "table DEL under the link (got '$out')" ;; esac
check "link REPLACE is idempotent" drvb link shoal-out 1 out "$SUBNET" replace
check "link REPLACE with another subnet is accepted ..." drvb link shoal-out 1 out 10.244.32.0/20 replace
expect_eq "... but the kernel keeps the old selector" "link 800:0:1 src 10.244.16.0/20" \
	"$(drvb classifier shoal-out 1 | grep '^link')"
out=$(drvb link shoal-out 1 out "$SUBNET" add 2>&1)
case "$out" in *"File exists"*) ok "a second link ADD: EEXIST" ;; *) not_ok "second link ADD (got '$out')" ;; esac
# Why the link has a full handle: a node-only one is completed with the root table on creation but
# never looked up, so a second one fails with ENOSPC instead of finding the first.
out=$(HBX tc filter add dev shoal-out parent 1: prio 10 protocol ip handle ::1 u32 match ip src 10.244.16.0/20 link 100: 2>&1)
case "$out" in *"No space left"*) ok "a node-only handle that exists: ENOSPC" ;; *) not_ok "node-only handle (got '$out')" ;; esac
expect_eq "still one link" 1 "$(drvb classifier shoal-out 1 | grep -c '^link')"

# ---- Flush: the whole priority goes; rebuilt, its root table is 800: again.
check "flush shoal-in's classifier" drvb flush shoal-in 2
expect_eq "no filter left on shoal-in" "" "$(HBX tc filter show dev shoal-in)"
HBX tc filter add dev shoal-in parent 2: prio 5 protocol ip u32 match u32 0 0 flowid 2:ffff
out=$(drvb hash shoal-in 2 in "$SUBNET" 2>&1)
case "$out" in *"hash link"*"mismatch"*) ok "after a foreign u32 priority our root is not 800: and the link says so" ;;
*) not_ok "link with a foreign priority first (got '$out')" ;; esac
HBX tc filter del dev shoal-in parent 2: prio 5
check "flush again" drvb flush shoal-in 2
check "rebuild shoal-in's table + link" drvb hash shoal-in 2 in "$SUBNET"
check "and wa's filter" drvb workload shoal-in 2 in "$SUBNET" 10.244.16.2 2 add
expect_eq "shoal-in's classifier is back" "table 100:0:0 divisor 256
workload 100:2:1 dst 10.244.16.2 2:2
link 800:0:1 dst 10.244.16.0/20" "$(drvb classifier shoal-in 2)"
s0=$(snap)
check "wa pings the outside" ip netns exec "$WA" ping -c 10 -i 0.05 -W 2 -q 198.18.0.2
s1=$(snap)
expect_eq "wa's replies in 2:2 again" 10 "$(delta "$s0" "$s1" in:2)"

lab_done
