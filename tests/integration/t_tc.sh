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
# on shoal-out and 2:10 on shoal-in.  A ping from the workload must be counted there, and
# nowhere else.  Packet counters only: no rates, no timing.
#
# The driver is a small C program compiled here from the tc/ sources (no Makefile rule).
source "$(dirname "$0")/lib.sh"

DRV=$LAB_TMP/tc_drv
cat >"$LAB_TMP/tc_drv.c" <<'EOF'
/* Test driver: builds tc objects with tc/ builders and sends them with overlay/nlsock. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
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
	} else if (!strcmp(argv[1], "veth") && argc == 5) {
		uint32_t seq = nlsock_next_seq(ns);
		char kerr[NLSOCK_ERRLEN] = "";
		unsigned failed = 0;
		int len;

		nlsock_next_seq(ns);
		nlsock_next_seq(ns);
		len = classify_build_veth(buf, sizeof(buf), seq, ifindex(argv[2]), ifindex(argv[3]), ifindex(argv[4]));
		if (len < 0)
			die("veth", len, NULL);
		r = nlsock_transact(ns, buf, (size_t)len, seq, 3, &failed, kerr);
		if (r < 0)
			die(failed == 0 ? "clsact" : "redirect", r, kerr);
	} else if (!strcmp(argv[1], "workload") && argc == 8) {
		/* workload IFB MAJOR out|in ADDR CLASSID(hex minor) */
		struct in_addr a;

		if (inet_pton(AF_INET, argv[5], &a) != 1)
			die(argv[5], -EINVAL, NULL);
		send1("workload filter",
		      classify_build_workload(buf, sizeof(buf), nlsock_next_seq(ns), TCMSG_ADD, ifindex(argv[2]),
		                              (uint16_t)strtoul(argv[3], NULL, 16), !strcmp(argv[4], "out"), ntohl(a.s_addr),
		                              TCMSG_HANDLE(strtoul(argv[3], NULL, 16), strtoul(argv[6], NULL, 16)),
		                              (uint32_t)strtoul(argv[7], NULL, 16)));
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
# Both leaves may borrow up to 200mbit: 200mbit x 15 ms = 375000 bytes each.
expect_eq "two bfifo leaves of 375000b (ceil 200mbit x 15 ms)" \
	"2" "$(H tc qdisc show dev shoal-out | grep -c 'bfifo .* parent 1:[12]0 limit 375000b')"

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
	"u32 prio 1 proto 0x0003 handle 80000800 match 0 addr 00000000/0 classid 0:0 redirect shoal-out" \
	"$(drv filters h-wl ingress)"
expect_eq "our parser reads the kernel's egress redirect back" \
	"u32 prio 2 proto 0x0003 handle 80100800 match 0 addr 00000000/0 classid 0:0 redirect shoal-in" \
	"$(drv filters h-wl egress)"

check "workload classifier on shoal-out (src 10.244.7.2 -> 1:10)" drv workload shoal-out 1 out 10.244.7.2 10 1
check "workload classifier on shoal-in (dst 10.244.7.2 -> 2:10)" drv workload shoal-in 2 in 10.244.7.2 10 1
fo=$(H tc filter show dev shoal-out)
case "$fo" in *"flowid 1:10"*"match 0af40702/ffffffff at 12"*) ok "shoal-out: match src 10.244.7.2/32 -> 1:10" ;;
*) not_ok "shoal-out filter (got '$fo')" ;; esac
fi_=$(H tc filter show dev shoal-in)
case "$fi_" in *"flowid 2:10"*"match 0af40702/ffffffff at 16"*) ok "shoal-in: match dst 10.244.7.2/32 -> 2:10" ;;
*) not_ok "shoal-in filter (got '$fi_')" ;; esac
expect_eq "our parser reads the workload filter back" \
	"u32 prio 10 proto 0x0800 handle 80000001 match 1 addr 0af40702/32 classid 1:10 redirect -" \
	"$(drv filters shoal-out 1)"

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

lab_done
