#!/usr/bin/env bash
# Bandwidth benchmark (docs/benchmarks.md "Bandwidth"): shoal against Debian's reference chain
# (bridge + host-local + bandwidth) at the same settings, in one run, on one lab host each:
#
#   limit      one TCP flow under a 100mbit limit with containerd's burst (4294967295 bits), per
#              second for 6 s (the first second included: a token bucket that large lets the first
#              hundreds of MB through at line rate), receiver side; TCP retransmissions per GB
#   borrow     two workloads of 100mbit each on a 200mbit host, one idle: what the busy one gets
#              (shoal: guarantee 100mbit, free to borrow; reference: rate 100mbit, its only knob)
#   rtt        ping RTT (20 ms apart, 100 pings) from a second workload while the first saturates
#              its 100mbit; and of the saturating workload itself; and idle
#
# Both directions for limit (egress = the workload sends).  Figures only: benchmarks are not tests.
#   BENCH_BW_SECONDS=6
set -u
export LAB=shb$$
# shellcheck source=bwlib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bwlib.sh"
T=${BENCH_BW_SECONDS:-6}
REF=/usr/lib/cni
OUT=$LAB_TMP/bw.jsonl
BURST=4294967295
die() { echo "bench bandwidth: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces)"
for p in bridge host-local bandwidth; do [ -x "$REF/$p" ] || die "$REF/$p is missing (containernetworking-plugins)"; done
command -v iperf3 >/dev/null || die "iperf3 is missing (make deps)"
[ -x "$BUILD/shoald" ] || die "$BUILD/shoald is missing: run make"

# --- the lab: one host namespace per side, an outside namespace behind each (the iperf3 peer)
bw_side shoal 6 5201 5202 || die "cannot build the shoal side of the lab"
bw_side ref 7 5201 5202 || die "cannot build the reference side of the lab"

# shoal: 200mbit each way; workloads w1 (the measured one) and w2
shoald_conf shoal '"bandwidth": {"ingress": "200mbit", "egress": "200mbit"}' >/dev/null
shoald_start shoal || die "shoald does not start"
shoal_add() { bw_add shoal "$1" "$2" || die "shoal ADD $1: $(cat "$LAB_TMP/$1.result")"; }
shoal_quota() { bw_quota shoal "$@"; }

# reference: bridge + host-local, then bandwidth with the runtime's runtimeConfig and prevResult
ref_plugin() {   # ref_plugin CMD TYPE CONTAINER CONFIG
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$1" CNI_CONTAINERID="$LAB-$3" CNI_NETNS="$(netns_path "$3")" \
		CNI_IFNAME=eth0 CNI_PATH="$REF" ip netns exec "$LAB-ref" "$REF/$2" <<<"$4"
}
ref_add() {   # ref_add NAME RATE_BIT BURST_BIT
	local bridge res bw
	lab_netns "$1" >/dev/null
	bridge=$(jq -cn --arg d "$LAB_TMP/host-local" '{cniVersion: "1.0.0", name: "bench-ref", type: "bridge", bridge: "cni0",
		isGateway: true, ipMasq: false, ipam: {type: "host-local", ranges: [[{subnet: "10.99.0.0/24"}]],
		routes: [{dst: "0.0.0.0/0"}], dataDir: $d}}')
	res=$(ref_plugin ADD bridge "$1" "$bridge") || die "reference bridge ADD $1: $res"
	bw=$(jq -cn --argjson p "$res" --argjson r "$2" --argjson b "$3" '{cniVersion: "1.0.0", name: "bench-ref",
		type: "bandwidth", capabilities: {bandwidth: true}, prevResult: $p,
		runtimeConfig: {bandwidth: {ingressRate: $r, ingressBurst: $b, egressRate: $r, egressBurst: $b}}}')
	res=$(ref_plugin ADD bandwidth "$1" "$bw") || die "reference bandwidth ADD $1: $res"
	echo "$res" >"$LAB_TMP/$1.result"
}

shoal_add w1 "{\"bandwidth\": {\"ingressRate\": 100000000, \"ingressBurst\": $BURST, \"egressRate\": 100000000, \"egressBurst\": $BURST}}"
shoal_add w2 '{}'
ref_add r1 100000000 "$BURST"
ref_add r2 100000000 "$BURST"
peer() { case $1 in w*) echo 198.18.6.2 ;; r*) echo 198.18.7.2 ;; esac; }

# iperf NAME CONTAINER DIR [PORT] [args]: a run of T s without omitting the first second
iperf() {
	local name=$1 c=$2 dir=$3 port=${4:-5201}; shift 4 2>/dev/null || shift $#
	local rev=""
	[ "$dir" = ingress ] && rev=-R
	ip netns exec "$LAB-$c" iperf3 -c "$(peer "$c")" -p "$port" -t "$T" -i 1 $rev -J "$@" >"$LAB_TMP/$name.json" 2>&1
}
record() { jq -c --arg s "$1" --arg side "$2" --arg d "$3" '. + {section: $s, side: $side, dir: $d}' >>"$OUT"; }

echo "bandwidth: shoal (HTB on IFBs, 200mbit host) against the reference bandwidth plugin (TBF), load $(cut -d' ' -f1-3 /proc/loadavg)"
# --- limit: 100mbit with containerd's burst
for side in shoal ref; do
	c=w1; [ $side = ref ] && c=r1
	for dir in egress ingress; do
		if [ "$dir" = egress ]; then iperf "lim-$side-$dir" "$c" "$dir" 5201 --get-server-output; else iperf "lim-$side-$dir" "$c" "$dir" 5201; fi
		# Receiver-side seconds: the server's for egress (the client sends), the client's for ingress.
		jq -c '(if .server_output_json then .server_output_json.intervals else .intervals end) as $iv |
			{first: ($iv[0].sum.bits_per_second / 1e6), steady: ([$iv[1:][].sum.bits_per_second] | add / length / 1e6),
			retrans: (.end.sum_sent.retransmits // 0), gb: (.end.sum_sent.bytes / 1e9)}' "$LAB_TMP/lim-$side-$dir.json" |
			record limit "$side" "$dir"
	done
done
# --- borrowing: the busy one of two 100mbit workloads on a 200mbit host (shoal: guarantees)
shoal_quota w1 '{"ingress": {"guarantee": 100000000}, "egress": {"guarantee": 100000000}}'
shoal_quota w2 '{"ingress": {"guarantee": 100000000}, "egress": {"guarantee": 100000000}}'
for side in shoal ref; do
	c=w1; [ $side = ref ] && c=r1
	iperf "bor-$side" "$c" egress 5201 -O 1
	jq -c '{mbit: (.end.sum_received.bits_per_second / 1e6)}' "$LAB_TMP/bor-$side.json" | record borrow "$side" egress
done
# --- RTT: idle, then while w1/r1 saturates its 100mbit (shoal: limit 100mbit again)
shoal_quota w1 '{"ingress": {"limit": 100000000}, "egress": {"limit": 100000000}}'
rtt() { ip netns exec "$LAB-$1" ping -c 100 -i 0.02 -q "$(peer "$1")" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
for side in shoal ref; do
	c1=w1 c2=w2; [ $side = ref ] && c1=r1 c2=r2
	idle=$(rtt "$c2")
	iperf "rtt-$side" "$c1" egress 5202 -t $((T + 2)) &
	load=$!
	sleep 1
	other=$(rtt "$c2")
	self=$(rtt "$c1")
	wait "$load"   # never a bare wait: shoald is a child of this script too
	jq -cn --arg i "$idle" --arg o "$other" --arg s "$self" '{idle: ($i | tonumber? // null), other: ($o | tonumber? // null),
		self: ($s | tonumber? // null)}' | record rtt "$side" egress
done

# --- summary
f() { jq -r --arg s "$1" --arg side "$2" --arg d "$3" "select(.section == \$s and .side == \$side and .dir == \$d) | $4" "$OUT" | tail -1; }
r1() { awk -v v="$1" 'BEGIN { if (v == "" || v == "null") print "-"; else printf "%.1f", v }'; }
echo
printf '  %-58s %12s %12s\n' "" shoal reference
for dir in egress ingress; do
	printf '  %-58s %12s %12s\n' "limit 100mbit, $dir, first second (Mbit/s; 95.6 = exact)" "$(r1 "$(f limit shoal $dir .first)")" "$(r1 "$(f limit ref $dir .first)")"
	printf '  %-58s %12s %12s\n' "limit 100mbit, $dir, seconds 2-$T (Mbit/s)" "$(r1 "$(f limit shoal $dir .steady)")" "$(r1 "$(f limit ref $dir .steady)")"
	printf '  %-58s %12s %12s\n' "limit 100mbit, $dir, TCP retransmissions per GB" \
		"$(r1 "$(f limit shoal $dir '.retrans / .gb')")" "$(r1 "$(f limit ref $dir '.retrans / .gb')")"
done
printf '  %-58s %12s %12s\n' "borrowing: busy one of two 100mbit on 200mbit (Mbit/s)" "$(r1 "$(f borrow shoal egress .mbit)")" "$(r1 "$(f borrow ref egress .mbit)")"
printf '  %-58s %12s %12s\n' "ping RTT, idle (ms)" "$(r1 "$(f rtt shoal egress .idle)")" "$(r1 "$(f rtt ref egress .idle)")"
printf '  %-58s %12s %12s\n' "ping RTT of a second workload, first saturating (ms)" "$(r1 "$(f rtt shoal egress .other)")" "$(r1 "$(f rtt ref egress .other)")"
printf '  %-58s %12s %12s\n' "ping RTT of the saturating workload itself (ms)" "$(r1 "$(f rtt shoal egress .self)")" "$(r1 "$(f rtt ref egress .self)")"
echo "{\"bench\":\"bandwidth-summary\",\"runs\":$(jq -sc . "$OUT")}"
