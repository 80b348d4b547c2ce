#!/usr/bin/env bash
# kill -9 of a shaping shoald during ADD/DEL churn of workloads with bandwidth settings: after the
# restart every workload has exactly its two classes and two classifiers, nothing else is left on
# the IFBs, the pools add up, and deleting everything leaves the bare trees.
. "$(dirname "$0")/lib.sh"
H=$(lab_host h1)
shoald_conf h1 '"bandwidth": {"ingress": "1gbit", "egress": "1gbit"}' >/dev/null
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
N=30
for i in $(seq $N); do lab_netns k$i >/dev/null; done
conf() { cni_conf h1 1.1.0 "\"runtimeConfig\": {\"bandwidth\": {\"ingressRate\": $((100 + $1))000000, \"egressGuarantee\": $1000000}}"; }

# ADD every container (each asks for an egress guarantee of i mbit and an ingress limit), DEL every third.
churn() {
	for i in $(seq $N); do
		conf "$i" | cni ADD "$LAB-k$i" "$(netns_path k$i)" eth0 >"$LAB_TMP/k$i.result" 2>/dev/null
		if [ $((i % 3)) -eq 0 ]; then
			conf $((i - 1)) | cni DEL "$LAB-k$((i - 1))" "$(netns_path k$((i - 1)))" eth0 >/dev/null 2>&1
		fi
	done
}
for round in 1 2 3; do
	churn &
	cpid=$!
	sleep "0.0$((RANDOM % 6))"   # the churn takes ~0.1 s: kill it in the middle
	shoald_stop h1 KILL
	wait $cpid
	shoald_start h1 || { not_ok "shoald restarts after kill -9 (round $round)"; lab_done; exit 1; }
done
ok "shoald restarts after three kill -9 during ADD/DEL churn with bandwidth"
# and one churn to the end on top of what the crashes left
churn
wait_settled h1

wl=$(workloads_json h1 | jq -c '[.[] | select(.state == "active")]')
n=$(jq length <<<"$wl")
base=$(ip -n "$H" -4 -o addr show dev shoal0 | awk '{print $4}' | cut -d/ -f1)
minors() { jq -r --arg b "$base" '.[].address | split("/")[0] | split(".") | (.[2] | tonumber) * 256 + (.[3] | tonumber)
	- ($b | split(".") | (.[2] | tonumber) * 256 + (.[3] | tonumber) - 1)' <<<"$wl" | awk '{ printf "%x\n", $1 }' | sort; }
classes() { tc -n "$H" class show dev "$1" | awk '{print $3}' | cut -d: -f2 | grep -vx '1\|ffff' | sort; }
check "some workloads survived the churn ($n)" test "$n" -gt 5
expect_eq "shoal-out: exactly one class per workload" "$(minors)" "$(classes shoal-out)"
expect_eq "shoal-in: exactly one class per workload" "$(minors)" "$(classes shoal-in)"
wfilters() { tc -n "$H" filter show dev "$1" | grep -c 'flowid'; }
expect_eq "shoal-out: one classifier per workload" "$n" "$(wfilters shoal-out)"
expect_eq "shoal-in: one classifier per workload" "$n" "$(wfilters shoal-in)"
sum=$(jq '[.[] | .bandwidth.egress.guaranteeBitRate] | add + 1000000' <<<"$wl")
expect_eq "the egress pool is the sum of the survivors' guarantees (and 1mbit)" "$sum" \
	"$(netctl_json h1 status | jq '.bandwidth.egress.committedBitRate')"
veths=$(ip -n "$H" -o link show type veth | grep -c 'shv')
expect_eq "every veth has its redirects" "$veths" \
	"$(for v in $(ip -n "$H" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^shv'); do
		tc -n "$H" qdisc show dev "$v" | grep -c clsact; done | grep -c 1)"

for i in $(seq $N); do conf "$i" | cni DEL "$LAB-k$i" "$(netns_path k$i)" eth0 >/dev/null 2>&1; done
wait_settled h1
expect_eq "after DEL of everything: only the root and unclassified classes (shoal-out)" "" "$(classes shoal-out)"
expect_eq "and shoal-in" "" "$(classes shoal-in)"
expect_eq "no classifier left on shoal-out" "0" "$(wfilters shoal-out)"
expect_eq "no classifier left on shoal-in" "0" "$(wfilters shoal-in)"
expect_eq "the pools are back to the unclassified class's 1mbit" "1000000" \
	"$(netctl_json h1 status | jq '.bandwidth.ingress.committedBitRate')"
lab_done
