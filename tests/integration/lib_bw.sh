# Helpers of the bandwidth tests (t_bandwidth, t_bandwidth_vxlan): iperf3 runs from workloads and
# their goodput against the configured rate (TESTING.md: receiver-side goodput, the first second
# skipped, 0.956 x the rate for TCP, 5 %), and quota changes through the API.  Source it after
# lib.sh; set BW_SERVER (the iperf3 servers' address) before run, BW_HOST (default h1) for quota.
T=${BW_SECONDS:-6}
GOODPUT=0.956  # TCP payload per 1514-byte frame
API="python3 $ROOT/tests/integration/apiclient.py"
BW_HOST=${BW_HOST:-h1}

# quota NAME JSON: replace what workload $LAB-NAME (eth0) on $BW_HOST asks for, through the API;
# prints the answer.  quota_ok: the same, true when it was accepted.
quota() {
	$API -s "$LAB_TMP/$BW_HOST.sock" call \
		"{\"op\": \"quota\", \"containerId\": \"$LAB-$1\", \"ifname\": \"eth0\", \"bandwidth\": $2}"
}
quota_ok() { quota "$@" | jq -e '.ok == true' >/dev/null; }

# run NAME CONTAINER PORT CC DIR [extra iperf3 args...]: iperf3 from CONTAINER to $BW_SERVER:PORT
# for T + 1 s (the first omitted) with congestion control CC, sending (DIR egress) or receiving
# (ingress, -R); in the background, the result in $LAB_TMP/ip-NAME.json.
RUNS=()
run() {
	local name=$1 c=$2 port=$3 cc=$4 dir=$5; shift 5
	local rev=""
	[ "$dir" = ingress ] && rev=-R
	ip netns exec "$LAB-$c" iperf3 -c "$BW_SERVER" -p "$port" -t "$((T + 1))" -O 1 -C "$cc" $rev -J "$@" \
		>"$LAB_TMP/ip-$name.json" 2>&1 &
	RUNS+=($!)
}
# finish: wait for the runs started since the last finish (never for shoald, also a child)
finish() { wait "${RUNS[@]}"; RUNS=(); }
# mbit NAME: the receiver's goodput of run NAME, Mbit/s (0 when it failed)
mbit() { jq -r '(.end.sum_received.bits_per_second // 0) / 1e6 | . * 10 | floor / 10' "$LAB_TMP/ip-$1.json" 2>/dev/null || echo 0; }
# want RATE_MBIT: the TCP goodput expected at that rate
want() { awk -v r="$1" -v f="$GOODPUT" 'BEGIN { printf "%.1f", r * f }'; }
# near LABEL WANT_MBIT GOT_MBIT: ok within 5 %
near() {
	if awk -v w="$2" -v g="$3" 'BEGIN { exit !(g >= w * 0.95 && g <= w * 1.05) }'; then
		ok "$1: $3 Mbit/s (want $2 +- 5 %)"
	else
		not_ok "$1: $3 Mbit/s (want $2 +- 5 %)"
	fi
}
