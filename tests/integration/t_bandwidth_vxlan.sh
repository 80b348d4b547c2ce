#!/usr/bin/env bash
# Bandwidth across hosts through VXLAN (docs/bandwidth.md): h1 shapes 200 Mbit/s each way, its
# workloads talk to a container on h2 through shoal.1.  Shaping happens on the host veth's hooks,
# before encapsulation and after decapsulation, so the classes count inner frames and the expected
# goodput is 0.956 x the rate as over plain routing (TESTING.md; 0.923 is for shaping below VXLAN).
# Limit, borrowing and a guarantee under an 8-stream flood, both directions, CUBIC and BBR, 5 %.
. "$(dirname "$0")/lib.sh"

T=${BW_SECONDS:-6}
GOODPUT=0.956
API="python3 $ROOT/tests/integration/apiclient.py"
lab_underlay >/dev/null || { not_ok "underlay"; lab_done; exit 1; }
for h in h1 h2; do lab_host "$h" >/dev/null; done
lab_underlay_join h1 198.18.0.1
lab_underlay_join h2 198.18.0.2
shoald_conf h1 '"bandwidth": {"ingress": "200mbit", "egress": "200mbit"}' >/dev/null
shoald_conf h2 >/dev/null
for h in h1 h2; do shoald_start "$h" || { not_ok "shoald $h starts"; lab_done; exit 1; }; done
for c in a b; do check "ADD $c on h1" container_add h1 "$c"; done
check "ADD s on h2" container_add h2 s
S=$(container_ip s)
check "h1 reaches h2's subnet through shoal.1" lab_wait 10 bash -c "ip -n $LAB-h1 route show proto 75 | grep -q shoal.1"
check "a reaches s across hosts" lab_wait 10 ip netns exec "$LAB-a" ping -c1 -W1 "$S"
for p in 5201 5202; do ip netns exec "$LAB-s" iperf3 -s -p "$p" -D; done

quota() { $API -s "$LAB_TMP/h1.sock" call "{\"op\": \"quota\", \"containerId\": \"$LAB-$1\", \"ifname\": \"eth0\", \"bandwidth\": $2}" | jq -e '.ok == true' >/dev/null; }
RUNS=()
run() {   # run NAME CONTAINER PORT CC DIR [iperf3 args...]
	local name=$1 c=$2 port=$3 cc=$4 dir=$5; shift 5
	local rev=""
	[ "$dir" = ingress ] && rev=-R
	ip netns exec "$LAB-$c" iperf3 -c "$S" -p "$port" -t "$((T + 1))" -O 1 -C "$cc" $rev -J "$@" >"$LAB_TMP/ip-$name.json" 2>&1 &
	RUNS+=($!)
}
finish() { wait "${RUNS[@]}"; RUNS=(); }
mbit() { jq -r '(.end.sum_received.bits_per_second // 0) / 1e6 | . * 10 | floor / 10' "$LAB_TMP/ip-$1.json" 2>/dev/null || echo 0; }
want() { awk -v r="$1" -v f="$GOODPUT" 'BEGIN { printf "%.1f", r * f }'; }
near() {
	if awk -v w="$2" -v g="$3" 'BEGIN { exit !(g >= w * 0.95 && g <= w * 1.05) }'; then
		ok "$1: $3 Mbit/s (want $2 +- 5 %)"
	else
		not_ok "$1: $3 Mbit/s (want $2 +- 5 %)"
	fi
}

check "a: limit 50mbit both ways" quota a '{"ingress": {"limit": 50000000}, "egress": {"limit": 50000000}}'
for cc in cubic bbr; do
	for dir in egress ingress; do
		run lim a 5201 "$cc" "$dir"; finish
		near "$cc $dir across hosts: a's 50mbit limit holds" "$(want 50)" "$(mbit lim)"
	done
done
check "a: guarantee 120mbit" quota a '{"ingress": {"guarantee": 120000000}, "egress": {"guarantee": 120000000}}'
check "b: guarantee 78mbit" quota b '{"ingress": {"guarantee": 78000000}, "egress": {"guarantee": 78000000}}'
for cc in cubic bbr; do
	for dir in egress ingress; do
		run bor a 5201 "$cc" "$dir"; finish
		near "$cc $dir across hosts: borrowing: a alone reaches the capacity" "$(want 200)" "$(mbit bor)"
		run g-a a 5201 "$cc" "$dir"; run g-b b 5202 "$cc" "$dir" -P 8; finish
		near "$cc $dir across hosts: a keeps its 120 while b floods with 8 streams" "$(want 120)" "$(mbit g-a)"
		near "$cc $dir across hosts: and b gets its 78" "$(want 78)" "$(mbit g-b)"
	done
done
lab_done
