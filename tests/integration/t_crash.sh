#!/usr/bin/env bash
# kill -9 of shoald in the middle of a run of ADDs and DELs, restart, and nothing is leaked or
# duplicated: every record has its veth and vice versa, addresses are unique, survivors still
# have connectivity, and deleting everything afterwards leaves nothing behind.
. "$(dirname "$0")/lib.sh"
H=$(lab_host h1)
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
N=40
for i in $(seq $N); do lab_netns k$i >/dev/null; done

# A churn of ADDs and DELs in the background: ADD every container, DEL every third one.
churn() {
	for i in $(seq $N); do
		cni_conf h1 | cni ADD "$LAB-k$i" "$(netns_path k$i)" eth0 >"$LAB_TMP/k$i.result" 2>/dev/null
		if [ $((i % 3)) -eq 0 ]; then
			cni_conf h1 | cni DEL "$LAB-k$((i - 1))" "$(netns_path k$((i - 1)))" eth0 >/dev/null 2>&1
		fi
	done
}
for round in 1 2 3; do
	churn &
	cpid=$!
	sleep "0.$((RANDOM % 3 + 1))"
	shoald_stop h1 KILL
	wait $cpid
	shoald_start h1 || { not_ok "shoald restarts after kill -9 (round $round)"; lab_done; exit 1; }
done
ok "shoald restarts after three kill -9 during ADD/DEL churn"
# Let the restarted daemon finish deferred deletions.
wait_settled h1

wl=$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" workload list -o json | jq -c '[(.[]? // .workloads[]?) | select(.state == "active")]')
recs=$(ls "$LAB_TMP/state-h1/attachments" | sed 's/\.json$//' | sort)
veths=$(ip -n "$H" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^shv' | sort)
expect_eq "records and host veths match one to one" "$recs" "$veths"
expect_eq "shoald's workloads match the records" "$(echo "$recs" | grep -c .)" "$(echo "$wl" | jq length)"
expect_eq "no address is used twice" "$(echo "$wl" | jq length)" "$(echo "$wl" | jq -r '.[].address' | sort -u | grep -c .)"
# Each surviving workload's container really has its address and reaches the gateway.
bad=0
GW=$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq -r .gateway)
for id in $(echo "$wl" | jq -r '.[].containerId'); do
	addr=$(echo "$wl" | jq -r ".[] | select(.containerId == \"$id\") | .address")
	[ "$(ip -n "$id" -4 -o addr show eth0 2>/dev/null | awk '{print $4}')" = "$addr" ] || bad=$((bad + 1))
	ip netns exec "$id" ping -c1 -W2 "$GW" >/dev/null 2>&1 || bad=$((bad + 1))
done
expect_eq "every surviving workload has its address and connectivity" 0 "$bad"
# Containers whose interface exists but which shoald does not know would be leaks.
orphans=0
for i in $(seq $N); do
	if ip -n "$LAB-k$i" link show eth0 >/dev/null 2>&1 && ! echo "$wl" | jq -e ".[] | select(.containerId == \"$LAB-k$i\")" >/dev/null; then
		orphans=$((orphans + 1))
	fi
done
expect_eq "no container interface unknown to shoald" 0 "$orphans"

# Runtimes DEL everything after failures; afterwards nothing is left.
for i in $(seq $N); do cni_conf h1 | cni DEL "$LAB-k$i" "$(netns_path k$i)" eth0 >/dev/null; done
wait_settled h1
expect_eq "after DEL of all: no veth, no record, all addresses free" "0 0 253" \
	"$(ip -n "$H" -o link show type veth | grep -c shv) $(ls "$LAB_TMP/state-h1/attachments" "$LAB_TMP/state-h1/releasing" | grep -c json) $("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq .addressesFree)"
lab_done
