#!/usr/bin/env bash
# Per-workload bandwidth on one host (docs/bandwidth.md): the HTB trees on shoal-out / shoal-in, a
# class per workload, the Gaia properties measured with iperf3 in both directions with CUBIC and
# BBR (TESTING.md: receiver-side goodput, first second skipped, 0.956 x the rate for TCP, 5 %),
# admission control, live changes, DEL, restart adoption and reconcile.
#
# Traffic runs between workloads on h1 and an "outside" namespace behind h1 (masqueraded, as any
# traffic leaving the cluster network): a client in the workload sends (egress) or, with -R,
# receives (ingress).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_bw.sh"

CAP=200        # Mbit/s, each direction
BW_SERVER=198.18.5.2
H=$(lab_host h1)
O=$(lab_netns out)
ip -n "$H" link add o0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.18.5.1/24 dev o0 && ip -n "$H" link set o0 up
ip -n "$O" addr add 198.18.5.2/24 dev eth0 && ip -n "$O" link set eth0 up
for p in 5201 5202 5203; do ip netns exec "$O" iperf3 -s -p "$p" -D; done

shoald_conf h1 "\"bandwidth\": {\"ingress\": \"${CAP}mbit\", \"egress\": \"${CAP}mbit\"}, \"reconcileInterval\": 2" >/dev/null
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
ok "shoald starts with bandwidth"

status() { netctl_json h1 status; }
classes() { tc -n "$H" class show dev "$1"; }
# field DEV CLASSID WORD: the value after WORD in the class's line (iproute2 6.1 prints no JSON for
# HTB classes): rate, ceil, prio; "bytes" = the bytes sent.
field() {
	if [ "$3" = bytes ]; then
		tc -n "$H" -s class show dev "$1" classid "$2" | awk '/Sent/ { print $2; exit }'
	else
		tc -n "$H" class show dev "$1" classid "$2" | awk -v w="$3" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }'
	fi
}
minor_of() { printf '%x' "$(( $(echo "$1" | cut -d. -f4) + 256 * $(echo "$1" | cut -d. -f3) - 256 * $(ip -n "$H" -4 -o addr show dev shoal0 | awk '{print $4}' | cut -d. -f3) ))"; }
# add NAME [runtimeConfig json]: ADD a container with a runtimeConfig
add() {
	local rc=${2:-}
	[ -e "$(netns_path "$1")" ] || lab_netns "$1" >/dev/null
	if [ -n "$rc" ]; then
		cni_conf h1 1.1.0 "\"runtimeConfig\": $rc" | cni ADD "$LAB-$1" "$(netns_path "$1")" eth0 >"$LAB_TMP/$1.result"
	else
		cni_conf h1 | cni ADD "$LAB-$1" "$(netns_path "$1")" eth0 >"$LAB_TMP/$1.result"
	fi
}
del() { cni_conf h1 | cni DEL "$LAB-$1" "$(netns_path "$1")" eth0; }

# --- the trees
check "IFB shoal-out exists and is up" bash -c "ip -n $H -o link show shoal-out | grep -q 'state UNKNOWN\|,UP'"
check "IFB shoal-in exists and is up" bash -c "ip -n $H -o link show shoal-in | grep -q 'state UNKNOWN\|,UP'"
expect_eq "shoal-out's root class is the egress capacity" "${CAP}Mbit" "$(field shoal-out 1:1 rate)"
expect_eq "shoal-in's root class is the ingress capacity" "${CAP}Mbit" "$(field shoal-in 2:1 rate)"
expect_eq "status: egress capacity" "200mbit" "$(status | jq -r '.bandwidth.egress.capacity')"
expect_eq "status: 1mbit committed to unclassified traffic" "1mbit" "$(status | jq -r '.bandwidth.egress.committed')"

# --- a limit through the CNI capability, as containerd 1.6 sends it (capitalized, 2^32-1 bursts)
check "ADD a with a 50mbit limit both ways (containerd's keys)" add a \
	'{"bandwidth": {"IngressRate": 50000000, "IngressBurst": 4294967295, "EgressRate": 50000000, "EgressBurst": 4294967295}}'
AIP=$(container_ip a)
AM=$(minor_of "$AIP")
expect_eq "a's egress class has ceil 50mbit" "50Mbit" "$(field shoal-out "1:$AM" ceil)"
expect_eq "a's ingress class has ceil 50mbit" "50Mbit" "$(field shoal-in "2:$AM" ceil)"
expect_eq "a's class has the default guarantee (1mbit)" "1Mbit" "$(field shoal-out "1:$AM" rate)"
expect_eq "a's class has the default priority 4" "4" "$(field shoal-out "1:$AM" prio)"
check "a's veth has clsact" bash -c "tc -n $H qdisc show dev $(jq -r '.interfaces[0].name' "$LAB_TMP/a.result") | grep -q clsact"
check "b ADDs without settings" add b
check "c ADDs without settings" add c
BIP=$(container_ip b)
CIP=$(container_ip c)
expect_eq "status: committed = 1mbit x 4 (three best-effort workloads and the unclassified class)" "4mbit" \
	"$(status | jq -r '.bandwidth.ingress.committed')"

# --- goodput: iperf3 from a workload to the outside (egress) or back (-R, ingress): run, finish,
# mbit, want and near (lib_bw.sh)
for cc in cubic bbr; do
	for dir in egress ingress; do
		# limit
		run lim a 5201 "$cc" "$dir"; finish
		near "$cc $dir: a's 50mbit limit holds (containerd's burst of 2^32-1 bits)" "$(want 50)" "$(mbit lim)"
	done
done
# HTB picks a class by skb->priority before any filter, and sends a priority equal to its own handle
# unshaped (its direct queue): a workload with CAP_NET_ADMIN in its namespace can set any
# SO_PRIORITY.  It must not leave its class: observed, the priority does not survive the way from
# the workload's socket to shoal-out.  UDP as fast as python sends, 2 s, frames counted outside.
udp_prio() {
	ip netns exec "$LAB-a" /usr/bin/python3 - "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, int(sys.argv[1], 0))
end = time.time() + 2
while time.time() < end:
    try:
        s.sendto(b'x' * 1400, ('198.18.5.2', 9))
    except OSError:
        pass
PY
}
rx_pkts() { ip netns exec "$O" cat /proc/net/dev | awk '$1 == "eth0:" { print $3 }'; }
direct() { tc -n "$H" -s qdisc show dev shoal-out | grep -o 'direct_packets_stat [0-9]*' | awk '{ print $2 }'; }
for p in 0x10000 "$(printf '0x1%04x' "0x$(minor_of "$BIP")")"; do
	d0=$(direct); r0=$(rx_pkts)
	udp_prio "$p"
	sleep 0.3
	d1=$(direct); r1=$(rx_pkts)
	# 1442-byte frames on the wire of the outside link, over the 2 s
	got=$(awk -v n="$((r1 - r0))" 'BEGIN { printf "%.1f", n * 1442 * 8 / 2 / 1e6 }')
	check "SO_PRIORITY $p on a's socket: a stays within its 50mbit limit ($got Mbit/s)" \
		awk -v g="$got" 'BEGIN { exit !(g > 1 && g <= 50 * 1.05) }'
	expect_eq "SO_PRIORITY $p: nothing went through HTB's direct queue" "$d0" "$d1"
done

# --- the Gaia properties; quotas changed live through the API
quota_ok a '{"ingress": {"guarantee": 120000000}, "egress": {"guarantee": 120000000}}' || not_ok "quota a 120mbit"
# 78, not 80: c (best effort, idle) and unclassified traffic hold 1mbit each of the 200
quota_ok b '{"ingress": {"guarantee": 78000000}, "egress": {"guarantee": 78000000}}' || not_ok "quota b 78mbit"
expect_eq "a's class changed in place: rate 120mbit, ceil the capacity" "120Mbit 200Mbit" \
	"$(field shoal-out "1:$AM" rate) $(field shoal-out "1:$AM" ceil)"
for cc in cubic bbr; do
	for dir in egress ingress; do
		run borrow a 5201 "$cc" "$dir"; finish
		near "$cc $dir: borrowing: a alone reaches the capacity" "$(want $CAP)" "$(mbit borrow)"
		run g-a a 5201 "$cc" "$dir"; run g-b b 5202 "$cc" "$dir" -P 8; finish
		near "$cc $dir: guarantee: a keeps its 120 while b floods with 8 streams" "$(want 120)" "$(mbit g-a)"
		near "$cc $dir: and b gets its 78" "$(want 78)" "$(mbit g-b)"
	done
done
for dir in egress ingress; do
	rev=""; [ "$dir" = ingress ] && rev=-R
	run u-a a 5201 cubic "$dir"
	ip netns exec "$LAB-b" iperf3 -c 198.18.5.2 -p 5202 -u -b 400M -l 1400 -t "$((T + 1))" -O 1 $rev -J >"$LAB_TMP/ip-u-b.json" 2>&1 &
	RUNS+=($!)
	finish
	near "$dir: guarantee: a keeps its 120 while b floods with UDP at 400 Mbit/s" "$(want 120)" "$(mbit u-a)"
done

# borrowing gives way within a second: a alone borrows the whole capacity; b starts flooding with 8
# streams 3 s in; a second after that a's receiver sees its guarantee (intervals of 0.5 s; the
# receiver is the server for egress, the client with -R for ingress).
ip netns exec "$O" iperf3 -s -p 5204 -J -i 0.5 -D
# rx_mean FILE FROM TO: the receiver's mean Mbit/s over the intervals within [FROM, TO] s
rx_mean() {
	jq -r --argjson a "$2" --argjson b "$3" '(.server_output_json.intervals // .intervals) as $iv |
		[$iv[].sum | select(.start >= $a - 0.01 and .end <= $b + 0.01) | .bits_per_second] |
		if length == 0 then 0 else add / length / 1e6 | . * 10 | floor / 10 end' "$1" 2>/dev/null || echo 0
}
for cc in cubic bbr; do for dir in egress ingress; do
	if [ "$dir" = egress ]; then extra=(--get-server-output); else extra=(-R); fi
	ip netns exec "$LAB-a" iperf3 -c "$BW_SERVER" -p 5204 -t 8 -i 0.5 -C "$cc" -J "${extra[@]}" >"$LAB_TMP/tr-a.json" 2>&1 &
	ta=$!
	sleep 3
	run tr-b b 5202 "$cc" "$dir" -P 8
	wait "$ta"
	finish
	jq -r '"# a'"'"'s receiver, Mbit/s every 0.5 s: " + ([((.server_output_json.intervals // .intervals)[].sum.bits_per_second / 1e6 | floor | tostring)] | join(" "))' \
		"$LAB_TMP/tr-a.json" 2>/dev/null
	near "$cc $dir: a alone borrows the capacity (1..3 s)" "$(want $CAP)" "$(rx_mean "$LAB_TMP/tr-a.json" 1 3)"
	near "$cc $dir: b starts at 3 s: a is back at its guarantee from 4 s on (within 1 s)" "$(want 120)" \
		"$(rx_mean "$LAB_TMP/tr-a.json" 4 7.5)"
done; done

# priority: a prio 0, b and c prio 1, all guaranteed 40: a gets 40 + the spare
quota_ok a '{"ingress": {"guarantee": 40000000}, "egress": {"guarantee": 40000000}, "priority": 0}' || not_ok "quota a prio 0"
quota_ok b '{"ingress": {"guarantee": 40000000}, "egress": {"guarantee": 40000000}, "priority": 1}' || not_ok "quota b prio 1"
quota_ok c '{"ingress": {"guarantee": 40000000}, "egress": {"guarantee": 40000000}, "priority": 1}' || not_ok "quota c prio 1"
for cc in cubic bbr; do
	for dir in egress ingress; do
		run p-a a 5201 "$cc" "$dir"; run p-b b 5202 "$cc" "$dir"; run p-c c 5203 "$cc" "$dir"; finish
		near "$cc $dir: priority: a (prio 0) gets 40 + all the spare" "$(want 120)" "$(mbit p-a)"
		near "$cc $dir: b (prio 1) its 40" "$(want 40)" "$(mbit p-b)"
		near "$cc $dir: c (prio 1) its 40" "$(want 40)" "$(mbit p-c)"
	done
done

# proportion: equal priority, guarantees 20 and 60: the spare (120) is split 1:3
quota_ok a '{"ingress": {"guarantee": 20000000}, "egress": {"guarantee": 20000000}, "priority": 3}' || not_ok "quota a 20"
quota_ok b '{"ingress": {"guarantee": 60000000}, "egress": {"guarantee": 60000000}, "priority": 3}' || not_ok "quota b 60"
for cc in cubic bbr; do
	for dir in egress ingress; do
		run r-a a 5201 "$cc" "$dir"; run r-b b 5202 "$cc" "$dir"; finish
		near "$cc $dir: proportion: a (20) gets 20 + 30" "$(want 50)" "$(mbit r-a)"
		near "$cc $dir: b (60) gets 60 + 90" "$(want 150)" "$(mbit r-b)"
	done
done

# --- the counters and netctl top: during a run at a known limit, top's rate is the limit (whole
# frames: goodput / 0.956) and the workload list's counters grow by at least the payload delivered
TOPCTL="$BUILD/netctl --socket $LAB_TMP/h1.sock"
# counter NAME DIR KEY: a workload's counter as `workload list -o json` reports it
counter() { workloads_json h1 | jq -r --arg id "$LAB-$1" '.[] | select(.containerId == $id) | .counters.'"$2.$3"; }
quota_ok a '{"ingress": {"guarantee": 20000000}, "egress": {"guarantee": 20000000, "limit": 50000000}, "priority": 3}' ||
	not_ok "quota a egress limit 50"
b0=$(counter a egress bytes); p0=$(counter a egress packets); i0=$(counter a ingress bytes)
run top a 5201 cubic egress
sleep 3   # past slow start and iperf3's omitted first second
$TOPCTL top --count 2 -o json >"$LAB_TMP/top.jsonl" 2>"$LAB_TMP/top.err"; rc=$?
finish
b1=$(counter a egress bytes); p1=$(counter a egress packets); i1=$(counter a ingress bytes)
expect_eq "netctl top --count 2 -o json: exit 0, two frames" "0 2" "$rc $(grep -c '"sample"' "$LAB_TMP/top.jsonl")"
top_rate=$(jq -rs --arg id "$LAB-a" '.[-1].sample.workloads[] | select(.containerId == $id) | .egress.bitRate / 1e6' 	"$LAB_TMP/top.jsonl" 2>/dev/null)
top_want=$(awk -v g="$(mbit top)" -v f="$GOODPUT" 'BEGIN { printf "%.1f", g / f }')
if awk -v w="$top_want" -v g="${top_rate:-0}" 'BEGIN { exit !(w > 0 && g >= w * 0.9 && g <= w * 1.1) }'; then
	ok "netctl top: a's egress rate ${top_rate} Mbit/s (want goodput $(mbit top) / $GOODPUT = $top_want +- 10 %)"
else
	not_ok "netctl top: a's egress rate ${top_rate:-none} Mbit/s (want goodput $(mbit top) / $GOODPUT = $top_want +- 10 %)"
	sed 's/^/#   /' "$LAB_TMP/top.err"
fi
expect_eq "netctl top: a's egress share is its 20mbit/50mbit" "20000000 50000000" \
	"$(jq -rs --arg id "$LAB-a" '.[-1].sample.workloads[] | select(.containerId == $id) | .egress |
		"\(.guaranteeBitRate) \(.limitBitRate)"' "$LAB_TMP/top.jsonl" 2>/dev/null)"
payload=$(jq -r '.end.sum_received.bytes // 0' "$LAB_TMP/ip-top.json" 2>/dev/null)
check "workload list: a's egress bytes grew by at least the payload delivered (${b0:-?} -> ${b1:-?}, payload $payload)" \
	awk -v a="${b0:-x}" -v b="${b1:-x}" -v p="${payload:-0}" 'BEGIN { exit !(a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && p > 0 && b - a >= p) }'
check "workload list: a's egress packets and ingress bytes (the ACKs) grew" \
	awk -v a="${p0:-x}" -v b="${p1:-x}" -v c="${i0:-x}" -v d="${i1:-x}" \
	'BEGIN { exit !(a ~ /^[0-9]+$/ && c ~ /^[0-9]+$/ && b > a && d > c) }'
quota_ok a '{"ingress": {"guarantee": 20000000}, "egress": {"guarantee": 20000000}, "priority": 3}' ||
	not_ok "quota a back to the proportion scenario's"

# --- netctl: a live change and what it shows
N="$BUILD/netctl --socket $LAB_TMP/h1.sock"
check "netctl quota set: c's egress limit 50mbit, priority 2" $N quota set "$LAB-c" --egress-limit 50mbit --priority 2
expect_eq "c's class follows at once (ceil, prio)" "50Mbit 2" \
	"$(field shoal-out "1:$(minor_of "$CIP")" ceil) $(field shoal-out "1:$(minor_of "$CIP")" prio)"
run nq c 5203 cubic egress; finish
near "cubic egress: the limit set with netctl holds" "$(want 50)" "$(mbit nq)"
expect_eq "netctl quota get -o json: c's effective egress limit" "50000000" \
	"$($N quota get "$LAB-c" -o json | jq '.bandwidth.egress.limitBitRate')"
check "netctl status shows capacity, committed and free" grep -q "Egress: *200mbit capacity, 121mbit committed, 79mbit free" \
	<<<"$($N status)"
check_fails "netctl quota set refuses a guarantee above the limit" $N quota set "$LAB-c" --egress-guarantee 60mbit

# --- admission control
out=$(quota b '{"egress": {"guarantee": 190000000}}')
expect_eq "a guarantee beyond what is free is refused (107)" "107" "$(jq -r .code <<<"$out")"
check "naming the numbers" grep -q "does not fit" <<<"$(jq -r .details <<<"$out")"
expect_eq "and b keeps its class" "60Mbit" "$(field shoal-out "1:$(minor_of "$BIP")" rate)"
out=$(cni_conf h1 1.1.0 '"runtimeConfig": {"bandwidth": {"ingressGuarantee": 190000000}}' | cni ADD "$LAB-d" "$(lab_netns d >/dev/null; netns_path d)" eth0)
expect_eq "an ADD whose guarantee does not fit is refused (107)" "107" "$(jq -r .code <<<"$out")"
check_fails "and leaves no veth behind" bash -c "ip -n $H -o link | grep -q '$(veth_name_hash "$LAB-d" eth0)'"
expect_eq "nor a workload" "3" "$(workloads_json h1 | jq length)"

# --- restart: the trees and classes are adopted, counters keep counting
before=$(field shoal-out "1:$AM" bytes)
ifx=$(ip -n "$H" -o link show shoal-out | cut -d: -f1)
shoald_stop h1 && shoald_start h1 || not_ok "shoald restarts"
expect_eq "shoal-out adopted (same ifindex)" "$ifx" "$(ip -n "$H" -o link show shoal-out | cut -d: -f1)"
after=$(field shoal-out "1:$AM" bytes)
check "a's class kept its counters across the restart ($before -> $after bytes)" test "$after" -ge "$before" -a "$before" -gt 0
expect_eq "a's quota survives the restart" "20Mbit" "$(field shoal-out "1:$AM" rate)"

# --- reconcile repairs a deleted tree and a deleted redirect
tc -n "$H" qdisc del dev shoal-out root
AV=$(jq -r '.interfaces[0].name' "$LAB_TMP/a.result")
tc -n "$H" qdisc del dev "$AV" clsact
check "reconcile re-creates a deleted tree with a's class" lab_wait 10 bash -c "tc -n $H class show dev shoal-out | grep -q '1:$AM '"
check "and a veth's redirects" lab_wait 10 bash -c "tc -n $H qdisc show dev $AV | grep -q clsact"
run rep a 5201 cubic egress; finish
check "a is shaped again after the repair (under its ceil)" awk -v g="$(mbit rep)" 'BEGIN { exit !(g > 10 && g < 200) }'

# --- DEL removes every tc object of the workload
check "DEL a" del a
check_fails "a's egress class is gone" bash -c "tc -n $H class show dev shoal-out | grep -q '1:$AM '"
check_fails "a's ingress class is gone" bash -c "tc -n $H class show dev shoal-in | grep -q '2:$AM '"
check_fails "no classifier points at a's class" bash -c "tc -n $H filter show dev shoal-out | grep -q 'flowid 1:$AM '"
expect_eq "status: a's share returned (b 60 + c 40 + 1)" "101mbit" "$(status | jq -r '.bandwidth.egress.committed')"
lab_done
