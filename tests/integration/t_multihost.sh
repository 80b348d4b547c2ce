#!/usr/bin/env bash
# Multi-host overlay (docs/overlay.md): host namespaces joined by an underlay bridge, one shoald
# each, sharing one file store.  Containers reach each other across hosts through shoal.1 (VXLAN)
# with the right MTU and without masquerading; a joining host is reachable without restarts; a
# restart adopts every entry (no ping lost to it, nothing duplicated); a host that dies vanishes
# from every peer when its lease expires; a peer that moves to another underlay address is
# followed; records without an underlay are ignored; entries shoal does not own survive.
. "$(dirname "$0")/lib.sh"

CONF='"leaseTTL": 10, "reconcileInterval": 2'

U=$(lab_underlay) || { not_ok "underlay"; lab_done; exit 1; }
for h in h1 h2 h3; do lab_host "$h" >/dev/null; done
lab_underlay_join h1 198.18.0.1          # underlay "": the default route's device
lab_underlay_join h2 198.18.0.2 0        # underlay "eth0", no default route at all
lab_underlay_join h3 198.18.0.3          # underlay "198.18.0.3"
# --- shoald on each, two containers each; the VXLAN device and one set of entries per peer
multihost_up "$CONF" 198.18.0.3 || { lab_done; exit 1; }
vx=$(ip -n "$LAB-h1" -d -o link show shoal.1)
check "shoal.1 on h1: vni 1, local 198.18.0.1 dev eth0, port 8472, learning off, MTU 1450" \
	grep -q 'mtu 1450 .*vxlan id 1 local 198.18.0.1 dev eth0 .*dstport 8472 nolearning' <<<"$vx"
expect_eq "shoal.1 on h1 carries the published VTEP MAC" "$(vtep_mac h1)" \
	"$(netctl_json h2 subnet list | jq -r '.[]? // .subnets[]? | select(.node == "h1") | .vtepMAC')"
expect_eq "h3's subnet record publishes its underlay address" 198.18.0.3 \
	"$(netctl_json h1 subnet list | jq -r '.[]? // .subnets[]? | select(.node == "h3") | .publicIP')"
sub3=$(netctl_json h1 subnet list | jq -r '.[]? // .subnets[]? | select(.node == "h3") | .subnet' | cut -d/ -f1)
check "h1: route to h3's subnet via .0 dev shoal.1 onlink, protocol shoal" \
	grep -q "^$sub3/24 via $sub3 dev shoal.1 onlink" <<<"$(ip -n "$LAB-h1" route show proto 75)"
check "h1: FDB entry h3's VTEP MAC -> 198.18.0.3" \
	grep -q "^$(vtep_mac h3) dst 198.18.0.3 self permanent" <<<"$(bridge -n "$LAB-h1" fdb show dev shoal.1)"
check "h1: neighbour $sub3 -> h3's VTEP MAC, permanent" \
	grep -q "^$sub3 lladdr $(vtep_mac h3) PERMANENT" <<<"$(ip -n "$LAB-h1" neigh show dev shoal.1)"

# --- traffic: every container to every container on another host
expect_eq "every container pings every container on the other hosts" "" "$(cross_pings c11 c12 c21 c22 c31 c32)"
# 1422 bytes of ICMP payload + 8 + 20 = 1450, the overlay MTU: fits with DF; one more byte does not.
check "1400-byte payload with DF set crosses hosts" ip netns exec "$LAB-c11" ping -c 1 -W 2 -M do -s 1400 "$(container_ip c31)"
check "1422-byte payload with DF (exactly the MTU) crosses hosts" ip netns exec "$LAB-c11" ping -c 1 -W 2 -M do -s 1422 "$(container_ip c21)"
check_fails "1423-byte payload with DF does not fit" ip netns exec "$LAB-c11" ping -c 1 -W 2 -M do -s 1423 "$(container_ip c21)"

# --- TCP, and the receiver sees the sender's own address (cluster traffic is never masqueraded)
expect_eq "TCP: 300000 bytes across hosts, seen from the sender's own address" "$(container_ip c12) 300000" \
	"$(tcp_exchange c12 c22)"

# --- entries shoal does not own survive; stale entries of its own (a dead peer's) go
H1=$LAB-h1
ip -n "$H1" route add 10.99.0.0/24 via 198.18.0.254 proto static
ip -n "$H1" route add 10.98.0.0/24 via "$sub3" dev shoal.1 onlink proto static
ip -n "$H1" link add vxf type vxlan id 99 local 198.18.0.1 dev eth0 dstport 4790 nolearning
bridge -n "$H1" fdb add 02:0f:0f:0f:0f:0f dev vxf dst 198.18.0.77 self permanent
ip -n "$H1" route add 10.244.250.0/24 via 10.244.250.0 dev shoal.1 onlink proto 75
ip -n "$H1" neigh add 10.244.250.0 lladdr 02:de:ad:00:00:01 dev shoal.1 nud permanent
bridge -n "$H1" fdb add 02:de:ad:00:00:01 dev shoal.1 dst 198.18.0.250 self permanent
check "stale shoal entries of a peer that is not in the store are removed" lab_wait 10 counts_are h1 "2 2 2"

# --- a fourth host joins: reachable from everyone, nothing restarted
lab_host h4 >/dev/null
lab_underlay_join h4 198.18.0.4
shoald_conf h4 "$CONF" >/dev/null
shoald_start h4 || not_ok "shoald h4 starts"
check "ADD c41" container_add h4 c41
for h in h1 h2 h3 h4; do
	check "$h: three peers after h4 joined" lab_wait 10 counts_are "$h" "3 3 3"
done
bad=""
for a in c11 c22 c31; do
	ping_ok "$a" "$(container_ip c41)" >/dev/null 2>&1 || bad="$bad $a->c41"
	ping_ok c41 "$(container_ip "$a")" >/dev/null 2>&1 || bad="$bad c41->$a"
done
expect_eq "the new host's container and the others reach each other" "" "$bad"

# --- restart h2's shoald under a ping across it: adopted, nothing rebuilt, at most a few lost
ifx=$(ip -n "$LAB-h2" -o link show shoal.1 | cut -d: -f1)
before=$(for h in h1 h2 h3 h4; do peer_counts "$h"; done)
ip netns exec "$LAB-c11" ping -i 0.1 -c 50 -W 1 "$(container_ip c21)" >"$LAB_TMP/restart-ping.txt" 2>&1 &
pinger=$!
# and an iperf3 TCP stream c11 -> c21 through h2, its receiver reporting every 0.2 s
ip netns exec "$LAB-c21" iperf3 -s -1 -J -i 0.2 -B "$(container_ip c21)" >"$LAB_TMP/restart-iperf.json" 2>&1 &
iperf_srv=$!
sleep 0.5
ip netns exec "$LAB-c11" iperf3 -c "$(container_ip c21)" -t 5 >/dev/null 2>&1 &
iperf_cli=$!
sleep 1
mark=$(log_mark h2)
shoald_stop h2 && shoald_start h2 || not_ok "shoald h2 restarts"
wait "$pinger" "$iperf_cli" "$iperf_srv"
# The longest run of 0.2 s receiver intervals with no byte received, in intervals.
stall=$(jq '[.intervals[].sum.bytes] | reduce .[] as $b ({run: 0, max: 0};
	if $b == 0 then .run += 1 | .max = ([.max, .run] | max) else .run = 0 end) | .max' "$LAB_TMP/restart-iperf.json" 2>/dev/null)
got=$(jq '.end.sum_received.bytes // 0' "$LAB_TMP/restart-iperf.json" 2>/dev/null)
check "an iperf3 stream across the restart received data (${got:-0} bytes)" test "${got:-0}" -gt 1000000
check "and never stalled 1 s or more (longest stall $((${stall:-99} * 200)) ms)" test "${stall:-99}" -lt 5
lost=$(grep -o '[0-9]* received' "$LAB_TMP/restart-ping.txt" | cut -d' ' -f1)
check "at most 3 of 50 pings lost across a restart (received ${lost:-0})" test "${lost:-0}" -ge 47
expect_eq "the restarted shoald adopted shoal.1 (same ifindex)" "$ifx" "$(ip -n "$LAB-h2" -o link show shoal.1 | cut -d: -f1)"
check_fails "the restarted shoald changed no peer entry" grep -q 'peers (start):' <<<"$(log_since h2 "$mark")"
expect_eq "no duplicate or missing entries after the restart" "$before" "$(for h in h1 h2 h3 h4; do peer_counts "$h"; done)"

# --- a node without an underlay publishes no publicIP: logged once, good entries untouched
lab_host h5 >/dev/null
shoald_conf h5 "$CONF" >/dev/null
m1=$(log_mark h1)
shoald_start h5 || not_ok "shoald h5 (no underlay) starts"
sleep 5   # two reconcile rounds on every host
expect_eq "h1 reports h5's record without publicIP exactly once" 1 \
	"$(log_since h1 "$m1" | grep -c 'ignoring store record subnets/.*no publicIP')"
expect_eq "h1's entries untouched by the bad record" "3 3 3" "$(peer_counts h1)"
shoald_stop h5

# --- h4 comes back on another underlay address (and with direct routing: its peers share its L2):
# its old FDB entry is gone everywhere, the new one works
mac4=$(vtep_mac h4)
shoald_stop h4
ip -n "$LAB-h4" addr del 198.18.0.4/24 dev eth0
ip -n "$LAB-h4" addr add 198.18.0.44/24 dev eth0
ip -n "$LAB-h4" route add default via 198.18.0.254 2>/dev/null
shoald_conf h4 "$CONF, \"directRouting\": true" >/dev/null
shoald_start h4 || not_ok "shoald h4 restarts on 198.18.0.44"
check "h4 (direct routing): plain routes via the peers' underlay addresses, no VXLAN entries" \
	lab_wait 10 counts_are h4 "3 0 0"
check "h4: route to h2's subnet via 198.18.0.2 dev eth0, protocol shoal" \
	grep -q "via 198.18.0.2 dev eth0" <<<"$(ip -n "$LAB-h4" route show proto 75)"
fdb_to() { bridge -n "$LAB-$1" fdb show dev shoal.1 | grep "^$mac4 " | awk '{print $3}' | tr '\n' ' '; }
for h in h1 h2 h3; do
	check "$h: h4's FDB entry now points at 198.18.0.44, and only there" lab_wait 10 test "$(fdb_to "$h")" = "198.18.0.44 "
done
check "h4 recreated shoal.1 on its new local address" grep -q 'local 198.18.0.44' <<<"$(ip -n "$LAB-h4" -d link show shoal.1)"
check "c11 reaches c41 at h4's new underlay address" ping_ok c11 "$(container_ip c41)"
check "c41 reaches c32" ping_ok c41 "$(container_ip c32)"

# --- h3 dies (kill -9, state lost): its entries vanish everywhere once its lease expires
shoald_stop h3 KILL
wait "$(shoald_pid h3)" 2>/dev/null
rm -rf "$LAB_TMP/state-h3"
for h in h1 h2; do
	check "$h: h3's entries gone after its lease expired" lab_wait 25 counts_are "$h" "2 2 2"
done
check "h4: h3's direct route gone after its lease expired" lab_wait 10 counts_are h4 "2 0 0"

check_fails "h1 has nothing left for h3's subnet" grep -q "$sub3" <<<"$(ip -n "$H1" route show proto 75; ip -n "$H1" neigh show dev shoal.1 nud permanent)"
check "c11 still reaches c21 and c41" sh -c "ip netns exec $LAB-c11 ping -c1 -W2 $(container_ip c21) && ip netns exec $LAB-c11 ping -c1 -W2 $(container_ip c41)"

# --- entries shoal does not own are still there
check "foreign route of protocol static survives" grep -q '^10.99.0.0/24' <<<"$(ip -n "$H1" route show proto static)"
check "foreign route of protocol static on shoal.1 survives" grep -q '^10.98.0.0/24' <<<"$(ip -n "$H1" route show proto static)"
check "foreign FDB entry on another VXLAN device survives" grep -q '^02:0f:0f:0f:0f:0f dst 198.18.0.77' <<<"$(bridge -n "$H1" fdb show dev vxf)"
for h in h1 h2 h4; do
	check "no sanitizer or peer errors in $h's log" sh -c "! grep -E 'failed to (add|delete)|Sanitizer' $LAB_TMP/shoald-$h.log"
done
lab_done
