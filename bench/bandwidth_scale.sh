#!/usr/bin/env bash
# Bandwidth at scale (docs/benchmarks.md "Bandwidth at scale"): what 250 workloads with classes
# cost one host.  bench/bandwidth_scale.sh [add] [flow]  (none = both)
#
#   add    CNI ADD latency with bandwidth settings against the same without: build/bench/cnibench
#          ADDs (then DELs) BENCH_BWS_N containers one after another, the plugin's exec included,
#          on a host without the "bandwidth" key ("off") and on a host with a capacity of
#          BENCH_BWS_CAPACITY each way, each ADD asking guarantees, limits and a priority ("on");
#          also that host with ADDs asking nothing ("on, no settings": default guarantee classes).
#          BENCH_BWS_ROUNDS rounds, each running the three in turn (the order reversed every other
#          round).  Median and p95 per ADD; the summary takes the median over the rounds.
#                                                                         target on <= 1.2 x off
#   flow   one iperf3 TCP flow from (egress) and to (ingress) workload w0, receiver side, -O 1:
#          "max" with its ceil at the host's capacity (10gbit: the two CPUs are the limit, so a
#          classification cost shows as fewer Mbit/s and more CPU per GB), and "limit" at 1gbit.
#          Measured with w0's class alone (A0), after BENCH_BWS_N - 1 more workloads with classes
#          (guarantee 20mbit each way, B1), again after their DEL (A1), and so on for
#          BENCH_BWS_CYCLES cycles: A0 B1 A1 B2 A2.  Ratio = mean of the B runs / mean of the A runs:
#          alternating brackets the drift of a shared machine's load.
#                                                        target B >= 0.9 x A for every flow
#
#   BENCH_BWS_N=250 BENCH_BWS_ROUNDS=5 BENCH_BWS_CYCLES=2 BENCH_BWS_CAPACITY=10gbit
#   BENCH_BWS_SECONDS=6
#   BENCH_KEEP_LOGS=1 keeps the lab's temp directory.
# Figures only, the exit code says whether the benchmark could run (TESTING.md).
set -u
export LAB=shs$$
# shellcheck source=bwlib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bwlib.sh"

SECTIONS=${*:-add flow}
N=${BENCH_BWS_N:-250}
ROUNDS=${BENCH_BWS_ROUNDS:-5}
CYCLES=${BENCH_BWS_CYCLES:-2}
CAP=${BENCH_BWS_CAPACITY:-10gbit}
T=${BENCH_BWS_SECONDS:-6}
DRIVER=${CNIBENCH:-$BUILD/bench/cnibench}
OUT=$LAB_TMP/scale.jsonl
BURST=4294967295
# What every "on" ADD and every extra workload of the flow section asks for: 20mbit guaranteed,
# 1gbit at most, priority 3, containerd's burst.  N x 20mbit must fit in the capacity.
SETTINGS="{\"bandwidth\": {\"ingressGuarantee\": 20000000, \"egressGuarantee\": 20000000, \"ingressRate\": 1000000000,
	\"egressRate\": 1000000000, \"ingressBurst\": $BURST, \"egressBurst\": $BURST, \"priority\": 3}}"
die() { echo "bench bandwidth-scale: $*" >&2; exit 1; }
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
for s in $SECTIONS; do case $s in add|flow) ;; *) die "unknown section \"$s\" (add, flow)" ;; esac; done
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces)"
[ -x "$BUILD/shoald" ] && [ -x "$BUILD/shoal" ] || die "$BUILD/shoald or $BUILD/shoal is missing: run make"
[ -x "$DRIVER" ] || die "$DRIVER is missing: run make"
command -v iperf3 >/dev/null || die "iperf3 is missing (make deps)"
[ "$N" -ge 2 ] && [ "$N" -le 253 ] || die "BENCH_BWS_N must be 2..253 (one /24 per host)"

DRIVER_PID=
scale_cleanup() {
	[ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null && wait "$DRIVER_PID" 2>/dev/null
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then cp -a "$LAB_TMP" "/tmp/$LAB-logs" && echo "# logs kept in /tmp/$LAB-logs"; fi
}
trap 'scale_cleanup; lab_cleanup' EXIT

record() { jq -c --arg s "$1" --arg c "$2" '. + {section: $s, case: $c}' >>"$OUT"; }
: >"$OUT"
echo "bandwidth at scale: $N workloads, capacity $CAP, $(nproc) CPUs, kernel $(uname -r), load $(bw_load)"

# Container namespaces of both sections, created at once and never timed: c0..c(N-1).
for i in $(seq 0 $((N - 1))); do echo "netns add $LAB-c$i"; done | ip -batch - || die "cannot create namespaces"
for i in $(seq 0 $((N - 1))); do echo "netns exec $LAB-c$i ip link set lo up"; done | ip -batch - >/dev/null 2>&1

# ---- add ---------------------------------------------------------------------------------------

# add_host NAME [BANDWIDTH_JSON_FIELD]: a host namespace with its shoald, and conflists for it.
add_host() {
	lab_host "$1" >/dev/null || return 1
	shoald_conf "$1" ${2:+"$2"} >/dev/null && shoald_start "$1" || return 1
}
# add_conflist HOST NAME RUNTIMECONFIG: a conflist of the plugin alone, for cnibench.
add_conflist() {
	jq -n --arg s "$LAB_TMP/$1.sock" --arg d "$LAB_TMP/state-$1" --argjson rc "$3" \
		'{cniVersion: "1.1.0", name: "bench-bws", plugins: [{type: "shoal", socket: $s, stateDir: $d, runtimeConfig: $rc}]}' \
		>"$LAB_TMP/$2.conflist"
}
# add_run HOST CONF LABEL: one sequential cnibench run of N ADDs then N DELs; figures to $OUT.
add_run() {
	local host=$1 conf=$2 label=$3 raw=$LAB_TMP/raw-$3.csv l
	l=$(bw_load)
	timeout --kill-after=10 600 ip netns exec "$LAB-$host" env CNI_PATH="$BUILD" "$DRIVER" --mode seq -n "$N" \
		--netns-prefix "$LAB-c" --id-prefix "$label-" --label "$label" --raw "$raw" "$LAB_TMP/$conf.conflist" \
		>"$LAB_TMP/$label.out" 2>"$LAB_TMP/$label.err" &
	DRIVER_PID=$!
	wait "$DRIVER_PID"
	local rc=$?
	DRIVER_PID=
	if [ $rc -ne 0 ]; then
		echo "  $label: cnibench failed (exit $rc): $(tail -2 "$LAB_TMP/$label.err")"
		return 1
	fi
	# Nearest-rank percentiles of the ADD column, like cnibench's; and the medians of the first and
	# the last W ADDs (in container order: does ADD grow as the host fills up?).
	local w=$((N >= 200 ? 100 : N / 2)) first last
	first=$(tail -n +2 "$raw" | head -n "$w" | cut -d, -f2 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	last=$(tail -n +2 "$raw" | tail -n "$w" | cut -d, -f2 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	tail -n +2 "$raw" | cut -d, -f2 | sort -n | awk -v l="$l" -v w="$w" -v f="$first" -v z="$last" '{ v[NR] = $1 }
		function pct(p,  r) { r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; return v[r] }
		END { printf "{\"n\":%d,\"median_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"window\":%d,\"first_median_ms\":%.3f,\"last_median_ms\":%.3f,\"load\":\"%s\"}\n",
			NR, pct(50), pct(95), pct(99), v[NR], w, f, z, l }' | record add "$conf"
	printf '  %-16s ADD median %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  first/last %d: %5.2f / %5.2f ms  (load %s)\n' "$label" \
		"$(tail -1 "$OUT" | jq .median_ms)" "$(tail -1 "$OUT" | jq .p95_ms)" "$(tail -1 "$OUT" | jq .p99_ms)" "$w" "$first" "$last" "$l"
	# The next run reuses the container namespaces: wait for the deferred deletions.
	wait_settled "$host" || echo "  # $host: deletions still pending"
}
section_add() {
	echo "add: $N sequential ADDs (then DELs) per run, $ROUNDS rounds"
	add_host off || return 1
	add_host on "\"bandwidth\": {\"ingress\": \"$CAP\", \"egress\": \"$CAP\"}" || return 1
	add_conflist off off '{}'
	add_conflist on on "$SETTINGS"
	add_conflist on on-none '{}'
	for r in $(seq 1 "$ROUNDS"); do
		order="off on on-none"
		[ $((r % 2)) = 0 ] && order="on-none on off"
		for c in $order; do
			add_run "${c%-none}" "$c" "$c-r$r" || return 1
		done
	done
}

# ---- flow --------------------------------------------------------------------------------------

# cpu_busy: "busy sys" jiffies of all CPUs so far (busy = all but idle and iowait; sys = system,
# irq, softirq: where the kernel's forwarding, tc and IFB work is accounted).
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $4 + $7 + $8 }' /proc/stat; }

# flow STATE KIND DIR: one iperf3 run of w0; receiver-side Mbit/s and system CPU per GB to $OUT.
flow() {
	local state=$1 kind=$2 dir=$3 rev="" j=$LAB_TMP/flow-$1-$2-$3.json b0 b1 l hz
	[ "$dir" = ingress ] && rev=-R
	l=$(bw_load)
	b0=$(cpu_busy)
	# shellcheck disable=SC2086
	ip netns exec "$LAB-w0" iperf3 -c 198.18.8.2 -p 5201 -t $((T + 1)) -O 1 $rev -J >"$j" 2>&1
	b1=$(cpu_busy)
	hz=$(getconf CLK_TCK)
	jq -c --arg b0 "$b0" --arg b1 "$b1" --argjson hz "$hz" --arg l "$l" --arg st "$state" --arg k "$kind" --arg d "$dir" '
		($b0 | split(" ") | map(tonumber)) as $x | ($b1 | split(" ") | map(tonumber)) as $y |
		{state: $st, kind: $k, dir: $d, mbit: (.end.sum_received.bits_per_second / 1e6),
		 gb: (.end.sum_received.bytes / 1e9), retrans: (.end.sum_sent.retransmits // 0),
		 gb_all: ([.intervals[].sum.bytes] | add / 1e9),
		 cpu_busy_s: (($y[0] - $x[0]) / $hz), cpu_sys_s: (($y[1] - $x[1]) / $hz), load: $l}
		| . + {sys_ms_per_gb: (if .gb_all > 0 then .cpu_sys_s * 1000 / .gb_all else null end)}' "$j" 2>/dev/null | record flow "$state" ||
		{ echo "  iperf3 $state $kind $dir failed: $(head -c 300 "$j")"; return 1; }
	printf '  %-3s %-5s %-7s %8.1f Mbit/s   sys+softirq CPU %6.0f ms/GB   (load %s)\n' "$state" "$kind" "$dir" \
		"$(tail -1 "$OUT" | jq .mbit)" "$(tail -1 "$OUT" | jq '.sys_ms_per_gb // 0')" "$l"
}
# flows STATE: both kinds, both directions; w0's ceil is switched live between them.
flows() {
	local dir
	bw_quota flow w0 '{"ingress": {"guarantee": 100000000, "limit": 1000000000}, "egress": {"guarantee": 100000000, "limit": 1000000000}}' ||
		{ echo "  quota change of w0 failed"; return 1; }
	for dir in egress ingress; do flow "$1" limit "$dir" || return 1; done
	bw_quota flow w0 '{"ingress": {"guarantee": 100000000}, "egress": {"guarantee": 100000000}}' ||
		{ echo "  quota change of w0 failed"; return 1; }
	for dir in egress ingress; do flow "$1" max "$dir" || return 1; done
}
classes() { tc -n "$LAB-flow" class show dev shoal-out | grep -c '^class htb'; }
filters() { tc -n "$LAB-flow" filter show dev shoal-out parent 1: | grep -c 'flowid'; }
section_flow() {
	local i t0 c
	echo "flow: w0 alone, with $((N - 1)) more workloads with classes, alone again ($CYCLES cycles); iperf3 -t $((T + 1)) -O 1"
	bw_side flow 8 5201 || return 1
	shoald_conf flow "\"bandwidth\": {\"ingress\": \"$CAP\", \"egress\": \"$CAP\"}" >/dev/null && shoald_start flow || return 1
	bw_add flow w0 '{"bandwidth": {"ingressGuarantee": 100000000, "egressGuarantee": 100000000}}' ||
		{ echo "  ADD of w0 failed: $(cat "$LAB_TMP/w0.result")"; return 1; }
	echo "  A0: $(classes) classes on shoal-out (root, low, w0), $(filters) classified filters"
	flows A0 || return 1
	for c in $(seq 1 "$CYCLES"); do
		t0=$(date +%s%N)
		for i in $(seq 1 $((N - 1))); do
			cni_conf flow 1.1.0 "\"runtimeConfig\": $SETTINGS" | cni ADD "$LAB-x$c-$i" "$(netns_path "c$i")" eth0 >"$LAB_TMP/x$i.result" ||
				{ echo "  ADD of x$c-$i failed: $(cat "$LAB_TMP/x$i.result")"; return 1; }
		done
		echo "  B$c: $(classes) classes on shoal-out, $(filters) classified filters (the ADDs took $((($(date +%s%N) - t0) / 1000000)) ms)"
		flows "B$c" || return 1
		for i in $(seq 1 $((N - 1))); do
			cni_conf flow 1.1.0 | cni DEL "$LAB-x$c-$i" "$(netns_path "c$i")" eth0 >/dev/null || echo "  DEL of x$c-$i failed"
		done
		wait_settled flow || echo "  # flow: deletions still pending"
		echo "  A$c: $(classes) classes on shoal-out, $(filters) classified filters"
		flows "A$c" || return 1
	done
}

rc=0
if has add; then section_add || { echo "add: failed"; rc=1; }; fi
if has flow; then section_flow || { echo "flow: failed"; rc=1; }; fi

# ---- summary -----------------------------------------------------------------------------------
# med JQFILTER: median over the rounds of one figure of the add section.
med() { jq -s "[.[] | select(.section == \"add\") | $1] | sort | if length == 0 then empty else .[(length - 1) / 2 | floor] end" "$OUT"; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "" || v == "null") print "-"; else printf "%.2f", v }'; }
echo
if has add; then
	om=$(med 'select(.case == "off") | .median_ms'); op=$(med 'select(.case == "off") | .p95_ms')
	nm=$(med 'select(.case == "on") | .median_ms'); np=$(med 'select(.case == "on") | .p95_ms')
	zm=$(med 'select(.case == "on-none") | .median_ms'); zp=$(med 'select(.case == "on-none") | .p95_ms')
	echo "summary add ($N ADDs per run, median of $ROUNDS runs; ms)       median     p95"
	printf '  %-54s %7s %7s\n' "no bandwidth on the host" "$(fmt "$om")" "$(fmt "$op")" \
		"capacity $CAP, ADD with guarantees/limits/priority" "$(fmt "$nm")" "$(fmt "$np")" \
		"capacity $CAP, ADD asking nothing (default classes)" "$(fmt "$zm")" "$(fmt "$zp")"
	rm_=$(awk -v a="$nm" -v b="$om" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
	rp_=$(awk -v a="$np" -v b="$op" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
	v() { awk -v r="$1" 'BEGIN { if (r == "") print "-"; else print (r <= 1.2 ? "PASS" : "MISS") }'; }
	printf '  %-54s %7s %7s   target <= 1.2: %s / %s\n' "with settings / without" "${rm_:--}" "${rp_:--}" "$(v "$rm_")" "$(v "$rp_")"
	w=$((N >= 200 ? 100 : N / 2))
	for c in off on on-none; do
		printf '  %-54s %7s\n' "$c: median of the last $w ADDs / of the first $w" \
			"$(fmt "$(med "select(.case == \"$c\") | .last_median_ms / .first_median_ms")")"
	done
fi
if has flow; then
	# fstat KIND DIR FIELD: "meanA minA maxA meanB minB maxB" over the A* and B* runs.
	fstat() {
		jq -rs --arg k "$1" --arg d "$2" "[.[] | select(.section == \"flow\" and .kind == \$k and .dir == \$d)] as \$r |
			[\"A\", \"B\"] | map(. as \$s | [\$r[] | select(.state | startswith(\$s)) | $3]) |
			map(if length == 0 then \"- - -\" else \"\\(add / length) \\(min) \\(max)\" end) | join(\" \")" "$OUT"
	}
	echo "summary flow (receiver side, Mbit/s; A: w0's class alone, B: with $((N - 1)) more)"
	printf '  %-34s %8s %17s %8s %17s %7s  %s\n' "" "A mean" "A min-max" "B mean" "B min-max" "B / A" "target >= 0.90"
	for k in limit max; do
		for d in egress ingress; do
			# shellcheck disable=SC2046
			set -- $(fstat $k $d .mbit)
			r=$(awk -v a="$1" -v b="$4" 'BEGIN { if (a > 0 && b != "-") printf "%.3f", b / a }')
			printf '  %-34s %8.1f %8.1f-%-8.1f %8.1f %8.1f-%-8.1f %7s  %s\n' "$([ $k = limit ] && echo "limit 1gbit" || echo "ceil = capacity $CAP"), $d" \
				"$1" "$2" "$3" "$4" "$5" "$6" "${r:--}" \
				"$(awk -v r="$r" 'BEGIN { if (r == "") print "-"; else print (r >= 0.9 ? "PASS" : "MISS") }')"
		done
	done
	echo "  sys+softirq CPU per GB with ceil = capacity (ms/GB; the whole machine, so other jobs count too)"
	for d in egress ingress; do
		# shellcheck disable=SC2046
		set -- $(fstat max $d '.sys_ms_per_gb // 0')
		printf '  %-34s %8.0f %8.0f-%-8.0f %8.0f %8.0f-%-8.0f %7s\n' "  $d" "$1" "$2" "$3" "$4" "$5" "$6" \
			"$(awk -v a="$1" -v b="$4" 'BEGIN { if (a > 0) printf "%.3f", b / a }')"
	done
fi
echo "  PASS/MISS are information, not a test result; run again on a quiet machine before quoting."
echo "{\"bench\":\"bandwidth-scale-summary\",\"n\":$N,\"capacity\":\"$CAP\",\"runs\":$(jq -sc . "$OUT")}"
exit $rc
