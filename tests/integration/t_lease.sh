#!/usr/bin/env bash
# The subnet lease kept alive from the loop (asynchronous store calls): a host paused longer than
# its lease TTL loses the lease, and on waking shoald grants a new one and re-claims the same subnet
# (flannel exits here), its workloads untouched.  If another node took the subnet meanwhile, shoald
# keeps running and says so loudly.
. "$(dirname "$0")/lib.sh"
lab_host h1 >/dev/null
shoald_conf h1 '"leaseTTL": 10' >/dev/null
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
sock=$LAB_TMP/h1.sock
subnet=$("$BUILD/netctl" --socket "$sock" status -o json | jq -r .subnet)
lease_of() { "$BUILD/netctl" --socket "$sock" subnet list -o json | jq -r --arg s "$1" '[.[] | select(.subnet == $s) | .lease][0] // "none"'; }
lease1=$(lease_of "$subnet")
check "precondition: h1 holds a lease on its subnet" test "$lease1" != none
container_add h1 c1 || not_ok "ADD c1"
gw=$(jq -r '.ips[0].gateway' "$LAB_TMP/c1.result")

# Pause past the TTL; the store expires the lease when it is next read.
kill -STOP "$(shoald_pid h1)"
sleep 12
kill -CONT "$(shoald_pid h1)"
for _ in $(seq 100); do grep -q "re-claimed subnet $subnet" "$LAB_TMP/shoald-h1.log" && break; sleep 0.1; done
check "the expired lease is noticed" grep -q "expired; re-claiming subnet $subnet" "$LAB_TMP/shoald-h1.log"
check "the same subnet is re-claimed under a new lease" grep -q "re-claimed subnet $subnet under lease" "$LAB_TMP/shoald-h1.log"
lease2=$(lease_of "$subnet")
check "the store shows a new lease for the subnet" test "$lease2" != none -a "$lease2" != "$lease1"
expect_eq "shoald still holds the same subnet" "$subnet" "$("$BUILD/netctl" --socket "$sock" status -o json | jq -r .subnet)"
check "the workload never lost its network" ip netns exec "$LAB-c1" ping -c1 -W1 "$gw"

# Paused again; meanwhile another node takes the subnet.  shoald keeps serving and keeps its
# workloads, and reports the conflict.
kill -STOP "$(shoald_pid h1)"
sleep 12
key=$(echo "$subnet" | tr / -)
lab_host h2 >/dev/null
shoald_conf h2 >/dev/null
# h2 remembers h1's subnet as its own: it claims it as soon as the lease is gone.
mkdir -p "$LAB_TMP/state-h2"
printf '{"subnet":"%s","node":"h2"}' "$subnet" >"$LAB_TMP/state-h2/subnet.json"
shoald_start h2 || not_ok "h2 starts"
expect_eq "h2 took the expired subnet" "$subnet" "$("$BUILD/netctl" --socket "$LAB_TMP/h2.sock" status -o json | jq -r .subnet)"
kill -CONT "$(shoald_pid h1)"
for _ in $(seq 100); do grep -q "is now claimed by another node" "$LAB_TMP/shoald-h1.log" && break; sleep 0.1; done
check "h1 reports that another node claimed its subnet" grep -q "subnet $subnet, in use by this node's workloads, is now claimed by another node" "$LAB_TMP/shoald-h1.log"
check "h1 keeps serving" "$BUILD/netctl" --socket "$sock" status
check "h1's workload keeps its network" ip netns exec "$LAB-c1" ping -c1 -W1 "$gw"
expect_eq "status names the node that took the subnet" h2 "$("$BUILD/netctl" --socket "$sock" status -o json | jq -r .subnetTakenBy)"
lab_netns c2 >/dev/null
out=$(cni_conf h1 | cni ADD "$LAB-c2" "$(netns_path c2)" eth0); rc=$?
expect_eq "h1 refuses new workloads (their addresses could be h2's) with error 106" "1 106" "$rc $(jq -r .code <<<"$out")"
check "naming the subnet and the node" grep -q "subnet $subnet was claimed by node h2" <<<"$(jq -r .details <<<"$out")"
out=$(cni_conf h1 1.1.0 | env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=STATUS "$BUILD/shoal"); rc=$?
expect_eq "CNI STATUS on h1 says not ready (50)" "1 50" "$rc $(jq -r .code <<<"$out")"
# The operator frees it (h2 leaves); h1 re-claims its subnet at its next tick and accepts ADD again.
"$BUILD/netctl" --socket "$LAB_TMP/h2.sock" node leave >/dev/null 2>&1 || shoald_stop h2
for _ in $(seq 150); do [ -z "$("$BUILD/netctl" --socket "$sock" status -o json | jq -r .subnetTakenBy)" ] && break; sleep 0.1; done
expect_eq "once released, h1 holds its subnet again" "" "$("$BUILD/netctl" --socket "$sock" status -o json | jq -r .subnetTakenBy)"
check "and accepts new workloads" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni ADD $LAB-c2 $(netns_path c2) eth0"
[ -n "$key" ]
lab_done
