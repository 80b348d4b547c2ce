#!/usr/bin/env bash
# overlay/ as shoald drives it, seen from outside: the container's route is added, never replaced;
# the host veth carries the attachment's identity as its alias; the MTU follows the underlay's
# default route (device or route MTU); an address stays taken until its veth is gone.
. "$(dirname "$0")/lib.sh"

status() { "$BUILD/netctl" --socket "$LAB_TMP/$1.sock" status -o json; }
mtu_of() { ip -n "$1" -o link show "$2" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
veths() { ip -n "$1" -o link show type veth | grep -c shv; }
# underlay NS DEV MTU ADDR: a veth pair inside NS (both ends, nothing outside the lab) with ADDR/24.
underlay() {
	ip -n "$1" link add "$2" mtu "$3" type veth peer name "$2p" mtu "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$1" link set "$2p" up && ip -n "$1" addr add "$4/24" dev "$2"
}

# --- underlay MTU: the device of the best (lowest metric) main-table default route, or that
# route's own MTU when it is smaller; the overlay takes 50 bytes of VXLAN headers off it.
H1=$(lab_host h1)
underlay "$H1" up0 1400 198.18.0.2
underlay "$H1" up1 9000 198.19.0.2
ip -n "$H1" route add default via 198.18.0.1 metric 100
ip -n "$H1" route add default via 198.19.0.1 metric 200
ip -n "$H1" route add default via 198.19.0.1 table 100   # policy routing: not the main table's
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
check "ADD c1" container_add h1 c1
expect_eq "MTU from the best default route's device (1400 - 50)" 1350 "$(mtu_of "$LAB-c1" eth0)"

H2=$(lab_host h2)
underlay "$H2" up0 9000 198.18.1.2
ip -n "$H2" route add default via 198.18.1.1 mtu 1300
shoald_start h2 || { not_ok "shoald h2 starts"; lab_done; exit 1; }
check "ADD c2" container_add h2 c2
# Below IPv6's minimum MTU (1280) the veth has no IPv6 to switch off: ADD must still work.
expect_eq "MTU from the default route's mtu metric (1300 - 50)" 1250 "$(mtu_of "$LAB-c2" eth0)"
check "c2 reaches its gateway" ip netns exec "$LAB-c2" ping -c1 -W2 "$(jq -r '.ips[0].gateway' "$LAB_TMP/c2.result")"

# --- the attachment's identity is in the kernel: the host veth's alias
hv=$(jq -r '.interfaces[0].name' "$LAB_TMP/c1.result")
alias=$(ip -n "$H1" -j link show "$hv" | jq -r '.[0].ifalias // ""')
addr=$(jq -r '.ips[0].address' "$LAB_TMP/c1.result")
check "host veth alias names the container and its address" \
	bash -c "[[ '$alias' == *' $LAB-c1'* && '$alias' == *' $addr '* ]]"

# --- a route the container already has is never replaced
B=$(lab_netns busy)
ip -n "$B" link add net9 type veth peer name p9
ip -n "$B" link set net9 up; ip -n "$B" link set p9 up
ip -n "$B" addr add 192.168.7.2/24 dev net9
ip -n "$B" route add default via 192.168.7.1
free_before=$(status h1 | jq .addressesFree)
veths_before=$(veths "$H1")
container_add h1 busy; rc=$?
expect_eq "ADD into a container with a default route fails" 1 "$([ $rc -ne 0 ] && echo 1)"
check "the error names the existing route" \
	grep -q 'already has a route 0.0.0.0/0 (via 192.168.7.1 dev net9)' "$LAB_TMP/busy.result"
expect_eq "the container's default route is untouched" "default via 192.168.7.1 dev net9" \
	"$(ip -n "$B" route show default | sed 's/ *$//')"
expect_eq "the failed ADD leaves no eth0 in the container" 0 "$(ip -n "$B" -o link show | grep -c eth0)"
wait_settled h1
expect_eq "the failed ADD leaves no host veth" "$veths_before" "$(veths "$H1")"
expect_eq "the failed ADD leaves its address free" "$free_before" "$(status h1 | jq .addressesFree)"

# Without the default route the container gets only the cluster network, beside its own default.
out=$(cni_conf h1 1.1.0 '"defaultRoute": false' | cni ADD "$LAB-busy" "$(netns_path busy)" eth0); rc=$?
expect_eq "ADD with defaultRoute false succeeds beside the existing default" 0 "$rc"
gw=$(echo "$out" | jq -r '.ips[0].gateway')
expect_eq "the container keeps its default route and gains the cluster route" \
	"default via 192.168.7.1 dev net9|10.244.0.0/16 via $gw dev eth0" \
	"$(ip -n "$B" route show default | sed 's/ *$//')|$(ip -n "$B" route show 10.244.0.0/16 | sed 's/ *$//')"
prev=$out
out=$(cni_conf h1 1.1.0 '"defaultRoute": false, "prevResult": '"$prev" | cni CHECK "$LAB-busy" "$(netns_path busy)" eth0); rc=$?
expect_eq "CHECK passes for the cluster route" "0:" "$rc:$out"
ip -n "$B" route del 10.244.0.0/16
out=$(cni_conf h1 1.1.0 '"defaultRoute": false, "prevResult": '"$prev" | cni CHECK "$LAB-busy" "$(netns_path busy)" eth0); rc=$?
check "CHECK fails without the cluster route, naming it" \
	bash -c "[ $rc -ne 0 ] && echo '$out' | grep -q 'lacks the route 10.244.0.0/16 via $gw dev eth0'"
ip -n "$LAB-c1" link set eth0 mtu 1300
out=$(cni_conf h1 1.1.0 '"prevResult": '"$(cat "$LAB_TMP/c1.result")" | cni CHECK "$LAB-c1" "$(netns_path c1)" eth0); rc=$?
check "CHECK fails on a changed MTU, naming both values" \
	bash -c "[ $rc -ne 0 ] && echo '$out' | grep -q 'MTU 1300, want 1350'"

# --- the address stays taken until the veth is gone (reaper test hook delays every batch)
H3=$(lab_host h3)
export SHOALD_TEST_REAPER_DELAY_MS=3000
shoald_start h3 || { not_ok "shoald h3 starts"; lab_done; exit 1; }
unset SHOALD_TEST_REAPER_DELAY_MS
check "ADD d1" container_add h3 d1
hv1=$(jq -r '.interfaces[0].name' "$LAB_TMP/d1.result")
a1=$(container_ip d1)
free1=$(status h3 | jq .addressesFree)
cni_conf h3 | cni DEL "$LAB-d1" "$(netns_path d1)" eth0 >/dev/null
expect_eq "right after DEL the veth still exists and its address is still taken" "1 $free1 1" \
	"$(ip -n "$H3" -o link show "$hv1" 2>/dev/null | wc -l) $(status h3 | jq -r '"\(.addressesFree) \(.pendingDeletes)"')"
check "ADD d2" container_add h3 d2
check "a new ADD does not get the address of a veth still being deleted" test "$(container_ip d2)" != "$a1"
check "the deletion finishes" wait_settled h3
expect_eq "then the veth is gone and its address free" "0 $free1" \
	"$(ip -n "$H3" -o link show "$hv1" 2>/dev/null | wc -l) $(status h3 | jq .addressesFree)"

# DELs that arrive during the delay are deleted together (tagged with a device group, then one
# RTM_DELLINK for the group): all of them go, and nothing else does.
for i in 1 2 3 4 5; do container_add h3 e$i || not_ok "ADD e$i"; done
free2=$(status h3 | jq .addressesFree)
for i in 1 2 3 4 5; do cni_conf h3 | cni DEL "$LAB-e$i" "$(netns_path e$i)" eth0 >/dev/null; done
expect_eq "five DELs are pending together" 5 "$(status h3 | jq .pendingDeletes)"
check "the batch finishes" wait_settled h3
expect_eq "the batch removed exactly its five veths (d2's remains)" "1 $((free2 + 5))" \
	"$(veths "$H3") $(status h3 | jq .addressesFree)"
check "d2 still reaches its gateway" ip netns exec "$LAB-d2" ping -c1 -W2 "$(jq -r '.ips[0].gateway' "$LAB_TMP/d2.result")"
lab_done
