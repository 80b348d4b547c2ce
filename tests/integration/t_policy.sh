#!/usr/bin/env bash
# Bandwidth policies (docs/bandwidth.md, "Policies"): kept in the shared store, applied by every
# host at ADD and whenever they change, below what a workload asks for itself; admission control
# refuses what does not fit; a restart keeps the shares without touching the classes.
#
# h1 shapes (capacity 200 Mbit/s each way); h2 shares h1's store and only writes policies, as an
# operator on another host would.  One live change is measured with iperf3 (TESTING.md: receiver
# side, 0.956 x the rate for TCP, 5 %).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_bw.sh"

CAP=200
H=$(lab_host h1)
lab_host h2 >/dev/null
O=$(lab_netns out)
ip -n "$H" link add o0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.18.5.1/24 dev o0 && ip -n "$H" link set o0 up
ip -n "$O" addr add 198.18.5.2/24 dev eth0 && ip -n "$O" link set eth0 up
ip netns exec "$O" iperf3 -s -p 5201 -J -i 0.5 -D   # -J: the receiver's intervals come back as JSON (--get-server-output)

shoald_conf h1 "\"bandwidth\": {\"ingress\": \"${CAP}mbit\", \"egress\": \"${CAP}mbit\"}, \"reconcileInterval\": 2" >/dev/null
shoald_start h1 || { not_ok "shoald h1 starts"; lab_done; exit 1; }
shoald_start h2 || { not_ok "shoald h2 starts"; lab_done; exit 1; }
ok "two shoald share one store; h1 shapes"

api() { $API -s "$LAB_TMP/${2:-h1}.sock" call "$1"; }
# pset NAME MATCH_JSON BANDWIDTH_JSON [HOST]: write a policy through HOST's API (h2 by default)
pset() { api "{\"op\": \"policySet\", \"name\": \"$1\", \"match\": $2, \"bandwidth\": $3}" "${4:-h2}"; }
pdel() { api "{\"op\": \"policyDelete\", \"name\": \"$1\"}" "${2:-h2}"; }
field() {
	tc -n "$H" class show dev "$1" classid "$2" | awk -v w="$3" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }'
}
sent() { tc -n "$H" -s class show dev "$1" classid "$2" | awk '/Sent/ { print $2; exit }'; }
minor_of() { printf '%x' "$(( $(echo "$1" | cut -d. -f4) + 256 * $(echo "$1" | cut -d. -f3) - 256 * $(ip -n "$H" -4 -o addr show dev shoal0 | awk '{print $4}' | cut -d. -f3) ))"; }
# add NAME NAMESPACE POD [runtimeConfig json]: ADD a pod as Kubernetes names it in CNI_ARGS
add() {
	local rc=${4:-}
	[ -e "$(netns_path "$1")" ] || lab_netns "$1" >/dev/null
	CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$2;K8S_POD_NAME=$3;K8S_POD_UID=uid-$1" \
		cni ADD "$LAB-$1" "$(netns_path "$1")" eth0 >"$LAB_TMP/$1.result" \
		< <(if [ -n "$rc" ]; then cni_conf h1 1.1.0 "\"runtimeConfig\": $rc"; else cni_conf h1; fi)
}
del() { cni_conf h1 | cni DEL "$LAB-$1" "$(netns_path "$1")" eth0; }
policy_of() { api '{"op": "workloads"}' | jq -r --arg id "$LAB-$1" '.workloads[] | select(.containerId == $id) | .policy'; }
# wait_field LABEL WANT DEV CLASS WORD: the class's value becomes WANT within 5 s (a watch event
# from another host's write, then the change)
wait_field() {
	local got=""
	for _ in $(seq 50); do
		got=$(field "$3" "$4" "$5")
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	expect_eq "$1" "$2" "$got"
}

# --- writing policies: validated before anything reaches the store
N1="$BUILD/netctl --socket $LAB_TMP/h1.sock"
N2="$BUILD/netctl --socket $LAB_TMP/h2.sock"
R=$($N2 policy set prod --match K8S_POD_NAMESPACE=prod --egress-limit 50mbit --priority 2 -o json)
expect_eq "netctl policy set prod on h2: the policy as written" "50000000 2 prod" \
	"$(echo "$R" | jq -r '"\(.bandwidth.egress.limit) \(.bandwidth.priority) \(.match.K8S_POD_NAMESPACE)"')"
expect_eq "netctl policy list on h1 shows it (one store)" "prod" "$($N1 policy list -o json | jq -r '[.[].name] | join(",")')"
R=$(pset bad '{"app": "x"}' '{"priority": 1}')
expect_eq "an unknown match key is refused (code 7)" "7" "$(echo "$R" | jq -r .code)"
check "... naming the key" bash -c "echo '$R' | grep -q 'unknown match key'"
R=$(pset bad '{}' '{"ingress": {"guarantee": 2000000, "limit": 1000000}}')
expect_eq "a guarantee above its limit is refused" "7" "$(echo "$R" | jq -r .code)"
R=$(pset bad '{}' '{}')
expect_eq "a policy that sets nothing is refused" "7" "$(echo "$R" | jq -r .code)"
R=$(pset 'no/slash' '{}' '{"priority": 1}')
expect_eq "a bad policy name is refused" "7" "$(echo "$R" | jq -r .code)"
expect_eq "refused policies were not written" "prod" "$(api '{"op": "policies"}' | jq -r '[.policies[].name] | join(",")')"

# --- ADD: a matching pod gets the policy, others do not, its own values win
check "ADD web-1 in namespace prod" add web1 prod web-1
check "ADD tool in namespace dev" add tool dev tool
check "ADD own in prod with its own 30mbit egress limit" add own prod own '{"bandwidth": {"egressRate": 30000000, "egressBurst": 4294967295}}'
W=$(minor_of "$(container_ip web1)")
D=$(minor_of "$(container_ip tool)")
V=$(minor_of "$(container_ip own)")
expect_eq "web-1: the policy's egress limit" "50Mbit" "$(field shoal-out "1:$W" ceil)"
expect_eq "web-1: the policy's priority" "2" "$(field shoal-out "1:$W" prio)"
expect_eq "web-1: ingress untouched by the policy (capacity)" "${CAP}Mbit" "$(field shoal-in "2:$W" ceil)"
expect_eq "tool (dev): no policy, defaults" "${CAP}Mbit 4" "$(field shoal-out "1:$D" ceil) $(field shoal-out "1:$D" prio)"
expect_eq "own: its own limit wins over the policy's" "30Mbit" "$(field shoal-out "1:$V" ceil)"
expect_eq "own: the policy fills in the priority it did not ask for" "2" "$(field shoal-out "1:$V" prio)"
expect_eq "workloads: web-1's policy is named" "prod" "$(policy_of web1)"
expect_eq "workloads: tool has none" "null" "$(policy_of tool)"
expect_eq "workloads: bandwidthAsked stays what web-1 asked itself (nothing)" "{}" \
	"$(api '{"op": "workloads"}' | jq -c --arg id "$LAB-web1" '.workloads[] | select(.containerId == $id) | .bandwidthAsked')"
expect_eq "policies: prod applies to 2 workloads here" "2" "$(api '{"op": "policies"}' | jq -r '.policies[0].workloads')"
check "netctl quota get names the policy" grep -q "prod" <<<"$($N1 quota get "$LAB-web1" | grep -i '^ *policy')"

# --- a change on another host is applied here at once, to running workloads
pset prod '{"K8S_POD_NAMESPACE": "prod"}' '{"egress": {"limit": 80000000}, "priority": 2}' >/dev/null
wait_field "web-1 follows the changed policy (80mbit)" "80Mbit" shoal-out "1:$W" ceil
expect_eq "own keeps its own 30mbit" "30Mbit" "$(field shoal-out "1:$V" ceil)"
# The most specific policy wins: two match keys beat one.
pset prod-web '{"K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web-*"}' '{"egress": {"guarantee": 20000000}, "ingress": {"guarantee": 10000000}}' >/dev/null
wait_field "web-1 now under prod-web: its egress guarantee" "20Mbit" shoal-out "1:$W" rate
wait_field "web-1 under prod-web: its ingress guarantee" "10Mbit" shoal-in "2:$W" rate
expect_eq "... and prod's limit no longer applies to it" "${CAP}Mbit" "$(field shoal-out "1:$W" ceil)"
expect_eq "workloads: web-1's policy is prod-web" "prod-web" "$(policy_of web1)"
expect_eq "status: committed counts the policy's guarantee (1 + 20 + 1 + 1)" "23mbit" "$(netctl_json h1 status | jq -r '.bandwidth.egress.committed')"

# --- admission: a policy that does not fit
M=$(log_mark h1)
pset dev '{"K8S_POD_NAMESPACE": "dev"}' '{"egress": {"guarantee": 190000000}}' >/dev/null
for _ in $(seq 50); do log_since h1 "$M" | grep -q 'refused' && break; sleep 0.1; done
logged() { log_since h1 "$1" | grep -q "$2"; }
check "a policy that does not fit is logged as refused for tool" logged "$M" "policy dev for $LAB-tool/eth0 refused"
expect_eq "tool keeps its share" "1Mbit" "$(field shoal-out "1:$D" rate)"
pset dev '{"K8S_POD_NAMESPACE": "dev"}' '{"egress": {"guarantee": 199000000}}' >/dev/null
sleep 0.5
check_fails "ADD of another dev pod the policy cannot fit is refused" add tool2 dev tool2
expect_eq "... with the bandwidth error (107)" "107" "$(cni_code <"$LAB_TMP/tool2.result")"
expect_eq "... and nothing left behind (no veth for it)" "3" "$(host_veths h1 | wc -l)"
pset dev '{"K8S_POD_NAMESPACE": "dev"}' '{"egress": {"guarantee": 100000000}}' >/dev/null
wait_field "once it fits, the timer or the change applies it" "100Mbit" shoal-out "1:$D" rate

# --- live change under load: the rate follows within a second, without a gap
pset prod-web '{"K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web-*"}' '{"egress": {"guarantee": 20000000, "limit": 40000000}}' >/dev/null
wait_field "web-1 under prod-web's 40mbit limit" "40Mbit" shoal-out "1:$W" ceil
ip netns exec "$LAB-web1" iperf3 -c 198.18.5.2 -p 5201 -t 9 -i 0.5 --get-server-output -J >"$LAB_TMP/live.json" 2>&1 &
IPERF=$!
sleep 4.5
pset prod-web '{"K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web-*"}' '{"egress": {"guarantee": 20000000, "limit": 80000000}}' >/dev/null
wait "$IPERF"
# The receiver's intervals of 0.5 s: 1..4 s under 40mbit; from a second after the change (at
# about 4.5 s) to the end under 80mbit.
series() { jq -r '[.server_output_json.intervals[].sum.bits_per_second / 1e6 | floor] | map(tostring) | join(" ")' "$LAB_TMP/live.json"; }
echo "# receiver Mbit/s every 0.5 s: $(series)"
mean() { jq -r --argjson a "$1" --argjson b "$2" '[.server_output_json.intervals[].sum | select(.start >= $a and .end <= $b) | .bits_per_second] | add / length / 1e6 | . * 10 | floor / 10' "$LAB_TMP/live.json"; }
near "web-1 under its policy's 40mbit limit" "$(want 40)" "$(mean 1 4.01)"
near "web-1 a second after the policy raised it to 80mbit" "$(want 80)" "$(mean 5.5 8.51)"
expect_eq "no interval without traffic during the change" "0" \
	"$(jq '[.server_output_json.intervals[].sum | select(.bits_per_second < 1e6)] | length' "$LAB_TMP/live.json")"

# --- restart: shares kept, classes not reset (counters keep counting)
B1=$(sent shoal-out "1:$W")
M=$(log_mark h1)
shoald_stop h1 KILL
shoald_start h1 || not_ok "shoald h1 restarts"
expect_eq "after kill -9 and restart web-1 keeps its policy's limit" "80Mbit" "$(field shoal-out "1:$W" ceil)"
expect_eq "... and tool its policy's guarantee" "100Mbit" "$(field shoal-out "1:$D" rate)"
B2=$(sent shoal-out "1:$W")
check "web-1's class was adopted, not re-created (bytes $B1 -> $B2)" test "$B2" -ge "$B1"
sleep 2.5   # a reconcile pass
check_fails "nothing had to be changed after the restart (no policy change logged)" logged "$M" "workloads changed"

# --- delete: back to the workload's own ask and the defaults
R=$(pdel prod-web)
expect_eq "policyDelete prod-web" "true" "$(echo "$R" | jq -r .ok)"
wait_field "web-1 falls back to prod (limit 80mbit stays from prod)" "80Mbit" shoal-out "1:$W" ceil
wait_field "... its guarantee back to the default" "1Mbit" shoal-out "1:$W" rate
check "netctl policy delete prod" $N2 policy delete prod
pdel dev >/dev/null
wait_field "without policies web-1 has the defaults" "${CAP}Mbit" shoal-out "1:$W" ceil
wait_field "... and tool too" "1Mbit" shoal-out "1:$D" rate
expect_eq "own still has its own limit" "30Mbit" "$(field shoal-out "1:$V" ceil)"
# A policy is written once for hosts of every size: what this host cannot honour as written is
# bounded by the host, never a refusal.
pset everyone '{}' '{"egress": {"limit": 1000000000}}' >/dev/null
sleep 1
expect_eq "a 1gbit policy limit on a 200mbit host: the capacity" "${CAP}Mbit" "$(field shoal-out "1:$W" ceil)"
check "... and ADD under it is admitted" add late dev late
pset everyone '{}' '{"egress": {"limit": 500000}}' >/dev/null
wait_field "a 500kbit policy limit below the 1mbit default guarantee: the limit" "500Kbit" shoal-out "1:$D" ceil
expect_eq "... and the guarantee follows it down" "500Kbit" "$(field shoal-out "1:$D" rate)"
pdel everyone >/dev/null
del late >/dev/null
R=$(pdel prod)
expect_eq "deleting a policy that is not there: code 7" "7" "$(echo "$R" | jq -r .code)"
check "... saying so" bash -c "echo '$R' | grep -q 'no such policy'"
expect_eq "the store holds no policy" "0" "$(api '{"op": "policies"}' | jq -r '.policies | length')"
for c in web1 tool own; do del "$c" >/dev/null; done
expect_eq "DEL removed every workload class" "" "$(tc -n "$H" class show dev shoal-out | grep -v -e '1:1 ' -e '1:ffff ' || true)"

lab_done
