#!/usr/bin/env bash
# The periodic reconcile repairs what shoald owns when something else breaks it, and only that:
# a deleted nftables table, a deleted bridge (veths re-attached, traffic flows again), a container
# namespace deleted without DEL (its address is released), an orphan veth on our bridge.
. "$(dirname "$0")/lib.sh"
H=$(lab_host h1)
shoald_conf h1 '"reconcileInterval": 1' >/dev/null
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
container_add h1 a && container_add h1 b || not_ok "ADD"
st() { "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq -r ".$1"; }
wait_for() { for _ in $(seq 50); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# A foreign table in the same namespace must survive everything below.
ip netns exec "$H" nft add table inet foreign
ip netns exec "$H" nft delete table inet shoal
check "a deleted nftables table is reinstalled" wait_for "ip netns exec $H nft list table inet shoal >/dev/null 2>&1"

ip -n "$H" link del shoal0
check "a deleted bridge is recreated" wait_for "ip -n $H link show shoal0 >/dev/null 2>&1"
check "the veths are re-attached to it" wait_for "[ \$(ip -n $H -o link show master shoal0 | grep -c shv) -eq 2 ]"
check "traffic flows again between the containers" wait_for "ip netns exec $LAB-a ping -c1 -W1 $(container_ip b) >/dev/null"
check "and to the gateway" ip netns exec "$LAB-a" ping -c1 -W2 "$(jq -r '.ips[0].gateway' "$LAB_TMP/a.result")"

free_before=$(st addressesFree)
ip netns del "$LAB-b"
check "a container deleted without DEL releases its attachment" wait_for "[ \$(st workloads) -eq 1 ]"
expect_eq "and its address" "$((free_before + 1))" "$(st addressesFree)"
expect_eq "and its record" 1 "$(ls "$LAB_TMP/state-h1/attachments" | grep -c json)"

ip -n "$H" link add shv0123456789ab type veth peer name "$LAB-peer"
ip -n "$H" link set shv0123456789ab master shoal0
check "an orphan shv veth on our bridge is deleted" wait_for "! ip -n $H link show shv0123456789ab >/dev/null 2>&1"
ip -n "$H" link add shvfeedfeedfeed type veth peer name "$LAB-peer2"
sleep 2.5
check "an shv veth not on our bridge is left alone" ip -n "$H" link show shvfeedfeedfeed
check "the foreign nftables table is untouched" ip netns exec "$H" nft list table inet foreign
check "the remaining container still works" ip netns exec "$LAB-a" ping -c1 -W2 "$(jq -r '.ips[0].gateway' "$LAB_TMP/a.result")"
lab_done
