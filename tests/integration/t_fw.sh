#!/usr/bin/env bash
# fw/: the `inet shoal` table in a real kernel, driven by tests/integration/fw_tool.c.
#
#   pod  10.244.3.2/24 --- 10.244.3.1 [ host ] 198.18.0.1 --- 198.18.0.2  out (no route to 10.244/16)
#   pod2 10.244.4.2/24 --- 10.244.4.1 [      ]
#
# The host masquerades pod traffic leaving 10.244.0.0/16: a ping from pod reaches out only when the
# source is rewritten (out cannot answer 10.244.3.2), and pod2 must still see the pod's own address.
#
# Anti-spoofing (table bridge shoal) in a second lab host with a bridge, like shoald's:
#
#   wl1 02:00:00:00:0a:01 10.244.3.2 --- shv0000000000a1 -[ br0 10.244.3.1 ]- shv0000000000a2 --- wl2 02:00:00:00:0a:02 10.244.3.3
#
# wl1 misbehaves (other address, other MAC, forged ARP, VLAN tag) and must be dropped and counted.
source "$(dirname "$0")/lib.sh"

NET=10.244.0.0/16
SUB=10.244.3.0/24

# The tool: a Makefile target when there is one, else built here with the Makefile's flags.
TOOL=$BUILD/tests/fw_tool
stale=""
for f in "$ROOT"/tests/integration/fw_tool.c "$ROOT"/fw/*; do [ "$f" -nt "$TOOL" ] && stale=1; done
if [ ! -x "$TOOL" ] || [ -n "$stale" ]; then
	TOOL=$BUILD/itest/fw_tool
	mkdir -p "$BUILD/itest"
	# shellcheck disable=SC2046
	check "build fw_tool" cc -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-Wformat=2 -Wno-unused-parameter -Wno-format-truncation -O2 -g -I"$ROOT" -D_GNU_SOURCE \
		-o "$TOOL.$$" "$ROOT/tests/integration/fw_tool.c" "$ROOT"/fw/*.c "$ROOT/lib/cidr.c" \
		$(pkg-config --cflags --libs libnftnl libmnl)
	mv -f "$TOOL.$$" "$TOOL" 2>/dev/null
fi
[ -x "$TOOL" ] || { not_ok "fw_tool missing"; lab_done; exit 1; }

HOST=$(lab_host fwhost)
POD=$(lab_netns fwpod)
POD2=$(lab_netns fwpod2)
OUT=$(lab_netns fwout)

# veth pairs are created inside the namespaces, nothing touches the root namespace.
ip -n "$HOST" link add h-pod type veth peer name eth0 netns "$POD"
ip -n "$HOST" link add h-pod2 type veth peer name eth0 netns "$POD2"
ip -n "$HOST" link add h-out type veth peer name eth0 netns "$OUT"
ip -n "$HOST" addr add 10.244.3.1/24 dev h-pod
ip -n "$HOST" addr add 10.244.4.1/24 dev h-pod2
ip -n "$HOST" addr add 198.18.0.1/24 dev h-out
for d in h-pod h-pod2 h-out; do ip -n "$HOST" link set "$d" up; done
ip -n "$POD" addr add 10.244.3.2/24 dev eth0
ip -n "$POD2" addr add 10.244.4.2/24 dev eth0
ip -n "$OUT" addr add 198.18.0.2/24 dev eth0
for ns in "$POD" "$POD2" "$OUT"; do ip -n "$ns" link set eth0 up; done
ip -n "$POD" route add default via 10.244.3.1
ip -n "$POD2" route add default via 10.244.4.1

# Observers: count echo requests by source address where they arrive.
ip netns exec "$OUT" nft -f - <<'EOF'
table inet obs {
	chain in {
		type filter hook input priority 0;
		ip saddr 198.18.0.1 icmp type echo-request counter
		ip saddr 10.244.3.2 icmp type echo-request counter
	}
}
EOF
ip netns exec "$POD2" nft -f - <<'EOF'
table inet obs {
	chain in {
		type filter hook input priority 0;
		ip saddr 10.244.3.2 icmp type echo-request counter
		ip saddr 10.244.4.1 icmp type echo-request counter
	}
}
EOF
# A foreign table in the host that must survive everything we do.
ip netns exec "$HOST" nft -f - <<'EOF'
table inet other {
	chain input {
		type filter hook input priority 0;
		tcp dport 4242 counter accept
	}
}
EOF

fw()   { ip netns exec "$HOST" "$TOOL" "$@"; }
hnft() { ip netns exec "$HOST" nft "$@"; }
# counter NS SADDR: packets counted by the observer rule for SADDR.
counter() {
	ip netns exec "$1" nft -j list table inet obs |
		jq -r --arg s "$2" '.nftables[] | select(.rule) | .rule | select(any(.expr[]; .match.right? == $s))
			| .expr[] | select(.counter) | .counter.packets'
}
ntables() { hnft -j list tables | jq --arg n "$1" '[.nftables[] | select(.table.name? == $n)] | length'; }
nrules()  { hnft -j list table inet "$1" 2>/dev/null | jq '[.nftables[] | select(.rule)] | length'; }
shoal_json() { hnft -j list table inet shoal; }
check_state() { local want=$1; shift; local got; got=$(fw check "$@" 2>/dev/null); expect_eq "$want: fw_check says $want" "$want" "$got"; }

# --- before: nothing of ours, no masquerade
check_state absent $NET $SUB
check_fails "no masquerade yet: pod cannot reach out" ip netns exec "$POD" ping -c1 -W1 198.18.0.2

# --- apply
check "apply" fw apply $NET $SUB
expect_eq "one table inet shoal" 1 "$(ntables shoal)"
expect_eq "chain postrouting: nat hook postrouting prio 100 policy accept" "nat postrouting 100 accept" \
	"$(shoal_json | jq -r '.nftables[] | select(.chain) | .chain | "\(.type) \(.hook) \(.prio) \(.policy)"')"
expect_eq "rule: ip saddr $SUB ip daddr != $NET masquerade" \
	"== 10.244.3.0/24;!= 10.244.0.0/16;masquerade" \
	"$(shoal_json | jq -r '.nftables[] | select(.rule) | .rule.expr | map(
		if .match then "\(.match.op) \(.match.right.prefix.addr)/\(.match.right.prefix.len)"
		elif has("masquerade") then "masquerade" else tostring end) | join(";")')"
hnft list table inet shoal | grep -q 'ip saddr 10.244.3.0/24 ip daddr != 10.244.0.0/16 masquerade comment' &&
	ok "nft shows the rule as an operator would write it" || not_ok "nft shows the rule as an operator would write it"
check_state in-sync $NET $SUB
check_state differs $NET 10.244.4.0/24

# --- idempotent
check "apply again" fw apply $NET $SUB
expect_eq "still one table inet shoal" 1 "$(ntables shoal)"
expect_eq "still one rule" 1 "$(nrules shoal)"
expect_eq "foreign table untouched by apply" 1 "$(nrules other)"

# --- traffic
# (the failed ping above already left one un-rewritten request in out's counter)
before=$(counter "$OUT" 10.244.3.2)
check "pod reaches out through the masquerade" ip netns exec "$POD" ping -c2 -W2 198.18.0.2
expect_eq "out saw the host address, not the pod's" "2 $before" "$(counter "$OUT" 198.18.0.1) $(counter "$OUT" 10.244.3.2)"
check "pod reaches pod2 inside the cluster network" ip netns exec "$POD" ping -c2 -W2 10.244.4.2
expect_eq "pod2 saw the pod's own address (no masquerade inside the cluster)" "2 0" \
	"$(counter "$POD2" 10.244.3.2) $(counter "$POD2" 10.244.4.1)"

# --- drift is detected and repaired in one apply
hnft add rule inet shoal postrouting counter
hnft add chain inet shoal stray
check_state differs $NET $SUB
check "apply repairs drift" fw apply $NET $SUB
expect_eq "after repair: one rule, one chain" "1 1" \
	"$(nrules shoal) $(shoal_json | jq '[.nftables[] | select(.chain)] | length')"
check_state in-sync $NET $SUB

# --- a changed config replaces the rule, it does not add one
check "apply with subnet /25 and bridge" fw apply $NET 10.244.3.0/25 shoal0
expect_eq "changed config: one rule" 1 "$(nrules shoal)"
hnft list table inet shoal | grep -q 'ip saddr 10.244.3.0/25 ip daddr != 10.244.0.0/16 oifname != "shoal0" masquerade' &&
	ok "rule now has /25 and the bridge exemption" || not_ok "rule now has /25 and the bridge exemption"
check_state in-sync $NET 10.244.3.0/25 shoal0
check_state differs $NET 10.244.3.0/25

# --- masquerade off: an empty table, no nat chain
check "apply without masquerade" fw apply-nomasq
expect_eq "empty table: no chains" 0 "$(shoal_json | jq '[.nftables[] | select(.chain)] | length')"

# --- errors name the message that failed (no CAP_NET_ADMIN: the kernel refuses the batch)
err=$(ip netns exec "$HOST" setpriv --bounding-set=-net_admin -- "$TOOL" apply $NET $SUB 2>&1)
expect_eq "error without CAP_NET_ADMIN is mapped and readable" \
	"fw_tool apply: batch: Operation not permitted" "$err"

# --- remove
check "apply before remove" fw apply $NET $SUB
check "remove" fw remove
expect_eq "table inet shoal gone" 0 "$(ntables shoal)"
expect_eq "foreign table and its rule survive remove" "1 1" "$(ntables other) $(nrules other)"
check "remove twice succeeds" fw remove
check_state absent $NET $SUB
check_fails "after remove: no masquerade again" ip netns exec "$POD" ping -c1 -W1 198.18.0.2

# ===== anti-spoofing: table bridge shoal ==========================================================
AS=$(lab_host fwas)
WL1=$(lab_netns fwwl1)
WL2=$(lab_netns fwwl2)
IF1=shv0000000000a1 IF2=shv0000000000a2
MAC1=02:00:00:00:0a:01 MAC2=02:00:00:00:0a:02 BRMAC=02:00:00:00:0a:fe
IP1=10.244.3.2 IP2=10.244.3.3 BRIP=10.244.3.1
WLS="wl=$IF1,$MAC1,$IP1 wl=$IF2,$MAC2,$IP2"

ip -n "$AS" link add br0 address $BRMAC type bridge
ip -n "$AS" addr add $BRIP/24 dev br0
ip -n "$AS" link set br0 up
ip -n "$AS" link add $IF1 type veth peer name eth0 netns "$WL1"
ip -n "$AS" link add $IF2 type veth peer name eth0 netns "$WL2"
for d in $IF1 $IF2; do ip -n "$AS" link set "$d" master br0 up; done
ip -n "$WL1" link set eth0 address $MAC1 up
ip -n "$WL2" link set eth0 address $MAC2 up
ip -n "$WL1" addr add $IP1/24 dev eth0
ip -n "$WL2" addr add $IP2/24 dev eth0
# A foreign bridge-family table that must survive everything we do.
ip netns exec "$AS" nft add table bridge other
ip netns exec "$AS" nft add chain bridge other forward '{ type filter hook forward priority 0; }'
ip netns exec "$AS" nft add rule bridge other forward counter

afw()  { ip netns exec "$AS" "$TOOL" "$@"; }
anft() { ip netns exec "$AS" nft "$@"; }
acheck() { local want=$1; shift; local got; got=$(afw check $NET $SUB br0 "$@" 2>"$LAB_TMP/acheck.err");
	expect_eq "$want: fw_check says $want ($(cat "$LAB_TMP/acheck.err"))" "$want" "$got"; }
# drops RULE: packets counted by the antispoof rule whose comment contains RULE (mac|ip4|arp|eth).
drops() {
	local c
	case $1 in mac) c="source MAC" ;; ip4) c="IPv4 source" ;; arp) c="ARP sender" ;; eth) c="ethertype" ;; esac
	anft -j list chain bridge shoal prerouting 2>/dev/null |
		jq -r --arg c "$c" '.nftables[] | select(.rule) | .rule | select(.comment | contains($c)) | .expr[] | select(.counter) | .counter.packets'
}
all_drops() { echo "$(drops mac) $(drops ip4) $(drops arp) $(drops eth)"; }
# atables FAMILY NAME: 1 when the table exists in the antispoof host, else 0.
atables() { anft -j list tables | jq --arg f "$1" --arg n "$2" '[.nftables[] | select(.table.name? == $n and .table.family? == $f)] | length'; }
nelems() { anft -j list set bridge shoal "$1" 2>/dev/null | jq '[.nftables[] | select(.set) | .set.elem // [] | .[]] | length'; }
# garp NS IFACE SRCMAC SHA SPA COUNT: send COUNT gratuitous ARP requests "SPA is-at SHA" from a raw
# AF_PACKET socket (nothing in the kernel checks them on the way out).
garp() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$6" <<'PY'
import socket, struct, sys
ifname, src, sha, spa, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
ip = socket.inet_aton(spa)
frame = b"\xff" * 6 + mac(src) + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac(sha) + ip + b"\x00" * 6 + ip
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for _ in range(count):
    s.send(frame)
PY
}
# vlan_send NS IFACE SRCMAC DSTMAC COUNT: COUNT 802.1Q (VID 10) frames carrying an IPv4 header and
# a marker; vlan_recv NS IFACE SECONDS: how many frames with the marker arrive (the lab kernel may
# have no 8021q module, so no VLAN devices).
VLAN_MARK=shoal-vlan-probe
vlan_send() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$VLAN_MARK" <<'PY'
import socket, struct, sys
ifname, src, dst, count, mark = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(mark), 0, 0, 64, 253, 0,
                 socket.inet_aton("10.244.3.2"), socket.inet_aton("10.244.3.3"))
frame = mac(dst) + mac(src) + struct.pack("!HHH", 0x8100, 10, 0x0800) + ip + mark
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for _ in range(count):
    s.send(frame)
PY
}
vlan_recv() {
	ip netns exec "$1" python3 - "$2" "$3" "$VLAN_MARK" <<'PY'
import socket, sys, time
ifname, secs, mark = sys.argv[1], float(sys.argv[2]), sys.argv[3].encode()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))   # ETH_P_ALL
s.bind((ifname, 0))
n, end = 0, time.time() + secs
while time.time() < end:
    s.settimeout(max(end - time.time(), 0.01))
    try:
        if mark in s.recv(65535):
            n += 1
    except socket.timeout:
        break
print(n)
PY
}
# vlan_probe: send 3 VLAN frames wl1 -> wl2, print how many wl2 received.
vlan_probe() {
	vlan_recv "$WL2" eth0 1.5 >"$LAB_TMP/vlan.count" &
	local pid=$!
	sleep 0.5
	vlan_send "$WL1" eth0 $MAC1 $MAC2 3
	wait $pid
	cat "$LAB_TMP/vlan.count"
}
neigh_mac() { ip -n "$AS" -j neigh show "$1" dev br0 | jq -r '.[0].lladdr // "none"'; }
wl1_ping() { ip netns exec "$WL1" ping -c1 -W1 "$@"; }

# --- install with both workloads
check "antispoof apply with two workloads" afw apply $NET $SUB br0 antispoof $WLS
expect_eq "both tables exist" "1 1" "$(atables inet shoal) $(atables bridge shoal)"
expect_eq "two elements in each set" "2 2" "$(nelems allow_mac) $(nelems allow_ip4)"
anft list table bridge shoal >"$LAB_TMP/bridge.nft"
for want in 'type ifname . ether_addr$' 'type ifname . ether_addr . ipv4_addr$' \
	"\"$IF1\" . $MAC1 . $IP1" \
	'type filter hook prerouting priority filter; policy accept;' \
	'iifname "shv\*" iifname . ether saddr != @allow_mac counter packets 0 bytes 0 drop' \
	'iifname "shv\*" iifname . ether saddr . ip saddr != @allow_ip4 counter packets 0 bytes 0 drop' \
	'iifname "shv\*" iifname . arp saddr ether . arp saddr ip != @allow_ip4 counter packets 0 bytes 0 drop' \
	'iifname "shv\*" ether type != ip ether type != arp ether type != ip6 counter packets 0 bytes 0 drop'; do
	grep -q -- "$want" "$LAB_TMP/bridge.nft" && ok "nft shows: $want" || not_ok "nft shows: $want"
done
acheck in-sync antispoof $WLS

# --- legitimate traffic passes, nothing is counted
check "wl1 reaches wl2 across the bridge" wl1_ping $IP2
check "wl1 reaches the bridge address" wl1_ping $BRIP
check "wl2 reaches wl1" ip netns exec "$WL2" ping -c1 -W1 $IP1
check "host reaches wl2 (learns its MAC)" ip netns exec "$AS" ping -c1 -W1 $IP2
expect_eq "legitimate traffic: no drops (mac ip4 arp eth)" "0 0 0 0" "$(all_drops)"

# --- wl1 takes wl2's address: IPv4 dropped (a static neighbour entry, so no ARP is needed)
ip -n "$WL1" addr del $IP1/24 dev eth0
ip -n "$WL1" addr add $IP2/24 dev eth0
ip -n "$WL1" neigh replace $BRIP lladdr $BRMAC dev eth0 nud permanent
before=$(drops ip4)
check_fails "wl1 with wl2's address cannot reach the bridge" wl1_ping -c2 $BRIP
got=$(drops ip4)
[ "$got" -ge $((before + 2)) ] && ok "ip4 drops counted ($before -> $got)" || not_ok "ip4 drops counted ($before -> $got)"
# --- ... or a third address: its own ARP requests are dropped too
ip -n "$WL1" addr flush dev eth0
ip -n "$WL1" neigh flush dev eth0
ip -n "$WL1" addr add 10.244.3.99/24 dev eth0
before=$(drops arp)
check_fails "wl1 with a third address cannot reach wl2" wl1_ping $IP2
got=$(drops arp)
[ "$got" -gt "$before" ] && ok "arp drops counted for the third address ($before -> $got)" || not_ok "arp drops counted for the third address ($before -> $got)"
ip -n "$WL1" addr flush dev eth0
ip -n "$WL1" neigh flush dev eth0
ip -n "$WL1" addr add $IP1/24 dev eth0
check "wl1 back on its own address reaches wl2" wl1_ping $IP2

# --- forged ARP: wl1 claims wl2's address with its own (allowed) MAC
expect_eq "host knows wl2's MAC" $MAC2 "$(neigh_mac $IP2)"
before=$(drops arp)
garp "$WL1" eth0 $MAC1 $MAC1 $IP2 3
sleep 0.2
expect_eq "forged ARP: 3 arp drops counted" $((before + 3)) "$(drops arp)"
expect_eq "forged ARP: host's neighbour entry for wl2 not poisoned" $MAC2 "$(neigh_mac $IP2)"
before=$(drops arp)
garp "$WL1" eth0 $MAC1 $MAC1 $IP1 2
sleep 0.2
expect_eq "wl1's own gratuitous ARP passes" "$before" "$(drops arp)"

# --- another MAC
before=$(drops mac)
ip -n "$WL1" link set eth0 address 02:00:00:00:0a:99
ip -n "$WL1" neigh flush dev eth0
check_fails "wl1 with another MAC cannot reach wl2" wl1_ping -c2 $IP2
got=$(drops mac)
[ "$got" -ge $((before + 2)) ] && ok "mac drops counted ($before -> $got)" || not_ok "mac drops counted ($before -> $got)"
ip -n "$WL1" link set eth0 address $MAC1
ip -n "$WL1" neigh flush dev eth0
check "wl1 back on its MAC reaches wl2" wl1_ping $IP2

# --- VLAN-tagged frames (802.1Q inner headers are never looked at: dropped)
before=$(drops eth)
expect_eq "VLAN-tagged frames from wl1 do not reach wl2" 0 "$(vlan_probe)"
expect_eq "3 ethertype drops counted" $((before + 3)) "$(drops eth)"

# --- fw_workload_del: wl1 is then dropped; a second del succeeds; fw_check notices
check "fw_workload_del wl1" afw del $IF1 $MAC1 $IP1
expect_eq "wl1's elements gone, wl2's kept" "1 1" "$(nelems allow_mac) $(nelems allow_ip4)"
before=$(drops mac)
check_fails "deleted workload wl1 cannot reach wl2" wl1_ping $IP2
got=$(drops mac)
[ "$got" -gt "$before" ] && ok "deleted workload's frames counted ($before -> $got)" || not_ok "deleted workload's frames counted ($before -> $got)"
check "wl2 still reaches the bridge" ip netns exec "$WL2" ping -c1 -W1 $BRIP
check "fw_workload_del again succeeds" afw del $IF1 $MAC1 $IP1
acheck differs antispoof $WLS
grep -q "element missing: allow_[a-z0-9]* $IF1 . $MAC1" "$LAB_TMP/acheck.err" &&
	ok "fw_check names the missing element" || not_ok "fw_check names the missing element: $(cat "$LAB_TMP/acheck.err")"
acheck in-sync antispoof "wl=$IF2,$MAC2,$IP2"
check "fw_workload_add wl1" afw add $IF1 $MAC1 $IP1
check "fw_workload_add again succeeds" afw add $IF1 $MAC1 $IP1
expect_eq "two elements in each set again" "2 2" "$(nelems allow_mac) $(nelems allow_ip4)"
check "re-added wl1 reaches wl2" wl1_ping $IP2
acheck in-sync antispoof $WLS

# --- restart: a full apply restores a table someone deleted, with every element
anft delete table bridge shoal
acheck differs antispoof $WLS
grep -q "table bridge shoal is missing" "$LAB_TMP/acheck.err" && ok "fw_check says the bridge table is missing" ||
	not_ok "fw_check says the bridge table is missing: $(cat "$LAB_TMP/acheck.err")"
check_fails "fw_workload_add without the table fails" afw add $IF1 $MAC1 $IP1
check "apply restores the bridge table" afw apply $NET $SUB br0 antispoof $WLS
expect_eq "restored: two elements in each set" "2 2" "$(nelems allow_mac) $(nelems allow_ip4)"
acheck in-sync antispoof $WLS
check "wl1 reaches wl2 after the restore" wl1_ping $IP2
expect_eq "VLAN frames dropped again after the restore" 0 "$(vlan_probe)"

# --- antispoof off: the bridge table goes, and what it dropped now passes (the controls)
check "apply with antispoof off" afw apply $NET $SUB br0
expect_eq "antispoof off: no table bridge shoal" 0 "$(atables bridge shoal)"
acheck in-sync
expect_eq "antispoof off: the same VLAN frames reach wl2" 3 "$(vlan_probe)"
garp "$WL1" eth0 $MAC1 $MAC1 $IP2 3
sleep 0.2
expect_eq "antispoof off: the same forged ARP poisons the host's entry" $MAC1 "$(neigh_mac $IP2)"
ip -n "$WL1" addr flush dev eth0
ip -n "$WL1" addr add 10.244.3.99/24 dev eth0
check "antispoof off: wl1 with a third address reaches wl2" wl1_ping $IP2
ip -n "$WL1" addr flush dev eth0
ip -n "$WL1" addr add $IP1/24 dev eth0
check "fw_workload_del without the table succeeds" afw del $IF1 $MAC1 $IP1

# --- fw_remove removes both tables and nothing else
check "apply antispoof before remove" afw apply $NET $SUB br0 antispoof $WLS
check "remove" afw remove
expect_eq "after remove: no inet shoal, no bridge shoal" "0 0" "$(atables inet shoal) $(atables bridge shoal)"
expect_eq "foreign bridge table and its rule survive" "1 1" \
	"$(atables bridge other) $(anft -j list table bridge other | jq '[.nftables[] | select(.rule)] | length')"

lab_done
