#!/usr/bin/env bash
# Bandwidth over time (docs/bandwidth.md "Rates over time"): three workloads on a 200mbit host
# start and stop on a timeline.  The rate of each one's HTB class (tc's byte counters of shoal-in,
# read about every 0.24 s) is plotted with gnuplot into a PNG (default docs/img/bandwidth-timeline.png);
# per phase, the class rates and the iperf3 receivers' goodput are set against what is expected.
#
#   workload  ingress guarantee  priority  traffic (iperf3 -R: the peer outside the host sends)
#   A         100mbit            1         1 TCP stream,  0 s .. 4P
#   B          60mbit            0         1 TCP stream,  P .. 3P
#   C          20mbit            2         8 TCP streams, 2P .. 5P (the flood)
#
# Phases of P s (BENCH_BWT_PHASE=4): A alone borrows everything; B starts and takes its guarantee
# back, plus the spare because it has the first priority; C floods with 8 streams and gets its 20
# while A keeps its 100; B stops and A, ahead of C in priority, gets the spare; A stops and C
# borrows everything.  Expected goodput = 0.956 x the rate (TCP payload per 1514-byte frame).
#
#   BENCH_BWT_PHASE=4  BENCH_BWT_CC=cubic (iperf3 -C)  BENCH_BWT_PNG=path (- for none)
#   BENCH_KEEP_LOGS=1 keeps the lab's temp directory (the iperf3 JSON and the data files).
# Figures only, the exit code says whether the benchmark could run (TESTING.md).
set -u
export LAB=shp$$
# shellcheck source=bwlib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bwlib.sh"

P=${BENCH_BWT_PHASE:-4}
CC=${BENCH_BWT_CC:-cubic}
PNG=${BENCH_BWT_PNG:-$ROOT/docs/img/bandwidth-timeline.png}
OUT=$LAB_TMP/timeline.jsonl
GOODPUT=0.956
die() { echo "bench bandwidth-timeline: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces)"
[ -x "$BUILD/shoald" ] && [ -x "$BUILD/shoal" ] || die "$BUILD/shoald or $BUILD/shoal is missing: run make"
command -v iperf3 >/dev/null || die "iperf3 is missing (make deps)"
if [ "$PNG" != - ] && ! command -v gnuplot >/dev/null; then
	echo "# gnuplot is missing (Debian package gnuplot-nox): figures without the plot"
	PNG=-
fi
trap '[ "${BENCH_KEEP_LOGS:-0}" = 1 ] && cp -a "$LAB_TMP" "/tmp/$LAB-logs" && echo "# logs kept in /tmp/$LAB-logs"; lab_cleanup' EXIT

# The workloads: name, ingress guarantee (Mbit/s), priority, streams, start and stop (in phases).
WORKLOADS="A 100 1 1 0 4
B 60 0 1 1 3
C 20 2 8 2 5"
PHASES=5
# expected PHASE WORKLOAD: its steady goodput in that phase (Mbit/s of the 200mbit root), empty
# when idle.  Spare bandwidth goes to the lowest priority number first (HTB's prio).
expected() {
	case $1$2 in
	1A) echo 200 ;;
	2A|3A) echo 100 ;; 2B) echo 100 ;;
	3B) echo 80 ;; 3C|4C) echo 20 ;;
	4A) echo 180 ;;
	5C) echo 200 ;;
	esac
}

bw_side tl 9 5201 5202 5203 || die "cannot build the lab"
shoald_conf tl '"bandwidth": {"ingress": "200mbit", "egress": "200mbit"}' >/dev/null && shoald_start tl || die "shoald does not start"
port=5201
while read -r w g prio _; do
	bw_add tl "$w" "{\"bandwidth\": {\"ingressGuarantee\": $((g * 1000000)), \"priority\": $prio}}" ||
		die "ADD of $w: $(cat "$LAB_TMP/$w.result")"
	eval "PORT_$w=$port"
	port=$((port + 1))
done <<<"$WORKLOADS"

# Each workload's class on shoal-in (docs/bandwidth.md): its minor is the address's offset in the
# node's /24, in hex as tc prints it.
while read -r w _; do
	eval "MINOR_$w=$(printf '%x' "$(container_ip "$w" | cut -d. -f4)")"
done <<<"$WORKLOADS"

# sample_classes: until $LAB_TMP/sampling goes, every ~0.24 s (0.2 s of sleep and a tc dump) "time
# classid bytes" of every class of shoal-in: what HTB released, free of the receivers' scheduling (a
# receiver that runs late on a busy machine reports a dip and then a burst; the class counters do
# not).
# A read's time is the middle of the dump's tc process (a few ms, more on a busy machine): the
# time before it alone puts spikes above the capacity into the rates.
sample_classes() {
	local t1 t2 t dump
	while [ -e "$LAB_TMP/sampling" ]; do
		t1=$(date +%s%N)
		dump=$(tc -n "$LAB-tl" -s class show dev shoal-in)
		t2=$(date +%s%N)
		t=$(((t1 + t2) / 2))
		awk -v t="${t:0:-9}.${t: -9}" '/^class htb/ { c = $3 } /^ Sent/ { print t, c, $2 }' <<<"$dump"
		sleep 0.2
	done >"$LAB_TMP/classes.txt"
}

echo "bandwidth timeline: 200mbit host, ingress, $CC, phases of $P s; load $(bw_load)"
touch "$LAB_TMP/sampling"
sample_classes &
sampler=$!
sleep 0.5
# Every client sleeps until its start, writes when it really started, and runs until its stop.
t0=$(date +%s.%N)
pids=()
while read -r w _ _ streams from to; do
	port_var=PORT_$w
	(
		sleep "$(awk -v t0="$t0" -v s=$((from * P)) -v now="$(date +%s.%N)" 'BEGIN { d = t0 + s - now; print (d > 0 ? d : 0) }')"
		date +%s.%N >"$LAB_TMP/$w.start"
		exec ip netns exec "$LAB-$w" iperf3 -c 198.18.9.2 -p "${!port_var}" -R -P "$streams" -C "$CC" \
			-t $(((to - from) * P)) -i 0.2 -J >"$LAB_TMP/$w.json" 2>&1 </dev/null
	) &
	pids+=($!)
done <<<"$WORKLOADS"
for p in "${pids[@]}"; do wait "$p"; done   # never a bare wait: shoald is a child too
sleep 0.5
rm -f "$LAB_TMP/sampling"
wait "$sampler"
echo "  load after the run: $(bw_load)"

# Data files, time since t0 and Mbit/s: W.dat the iperf3 receiver's goodput (at each interval's
# end), W.cls.dat the class's rate of whole frames between two samples (at the second sample).
while read -r w _; do
	jq -r --argjson off "$(awk -v a="$(cat "$LAB_TMP/$w.start")" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')" \
		'.intervals[].sum | "\($off + .end) \(.bits_per_second / 1e6)"' "$LAB_TMP/$w.json" >"$LAB_TMP/$w.dat" ||
		die "no intervals from $w's iperf3: $(head -c 300 "$LAB_TMP/$w.json")"
	minor_var=MINOR_$w
	awk -v m="${!minor_var}" -v t0="$t0" '{ split($2, id, ":") } id[2] == m {
		if (n++) printf "%.3f %.3f\n", $1 - t0, ($3 - b) * 8 / ($1 - t) / 1e6; t = $1; b = $3 }' \
		"$LAB_TMP/classes.txt" >"$LAB_TMP/$w.cls.dat"
	[ -s "$LAB_TMP/$w.cls.dat" ] || die "no samples of $w's class 2:${!minor_var}"
done <<<"$WORKLOADS"

# phase_stat FILE WANT A B: "mean settled" of FILE's samples in the phase A..B s: the mean without
# the phase's first second, and when the samples came within 10 % of WANT for good (the end of the
# last sample off by more, counted from A).  The band is at least 3 Mbit/s wide each way: a read
# every ~0.24 s counts whole GSO packets of up to 64 KiB, 2.2 Mbit/s each, which is more than 10 %
# of 20mbit.  The last 0.15 s are left out: the clients start and stop some ms after their nominal
# times, so the next phase's change may already show there.
phase_stat() {
	awk -v want="$2" -v a="$3" -v b="$4" '$1 > a + 0.05 && $1 <= b - 0.15 { n++; t[n] = $1; v[n] = $2 }
		END { s = 0; k = 0; last = a; d = want * 0.1 < 3 ? 3 : want * 0.1
			for (i = 1; i <= n; i++) { if (t[i] > a + 1.05) { s += v[i]; k++ }; if (v[i] < want - d || v[i] > want + d) last = t[i] }
			printf "%.2f %.2f\n", k ? s / k : 0, last - a }' "$1"
}
echo
printf '  %-12s %-3s %9s %9s %7s %9s %9s %7s %9s\n' phase wl "rate" "class" ratio "goodput" "iperf3" ratio "settled"
printf '  %-12s %-3s %9s %9s %7s %9s %9s %7s %9s\n' "" "" expected measured "" expected measured "" "(class)"
for ph in $(seq 1 $PHASES); do
	a=$(((ph - 1) * P)) b=$((ph * P))
	while read -r w _; do
		e=$(expected "$ph" "$w")
		[ -n "$e" ] || continue
		eg=$(awk -v e="$e" -v g=$GOODPUT 'BEGIN { printf "%.2f", e * g }')
		read -r cm cs <<<"$(phase_stat "$LAB_TMP/$w.cls.dat" "$e" "$a" "$b")"
		read -r gm _ <<<"$(phase_stat "$LAB_TMP/$w.dat" "$eg" "$a" "$b")"
		printf '  %-12s %-3s %9.1f %9.1f %7.3f %9.1f %9.1f %7.3f %7.1f s\n' "$ph ($a-$b s)" "$w" "$e" "$cm" \
			"$(awk -v m="$cm" -v e="$e" 'BEGIN { print m / e }')" "$eg" "$gm" "$(awk -v m="$gm" -v e="$eg" 'BEGIN { print m / e }')" "$cs"
		jq -cn --argjson ph "$ph" --arg w "$w" --argjson e "$e" --argjson cm "$cm" --argjson cs "$cs" --argjson eg "$eg" --argjson gm "$gm" \
			'{phase: $ph, workload: $w, rate: $e, class_mbit: $cm, settled_s: $cs, goodput_expected: $eg, goodput_mbit: $gm}' >>"$OUT"
	done <<<"$WORKLOADS"
done
echo "  rate: of the 200mbit root, whole frames (the class counters); goodput: TCP payload, 0.956 x the rate;"
echo "  means without each phase's first second; settled: when the class rate came within 10 % (at least"
echo "  3 Mbit/s) for good"

if [ "$PNG" != - ]; then
	mkdir -p "$(dirname "$PNG")"
	{
		cat <<EOF
set terminal pngcairo size 900,500 font "sans,9" noenhanced
set output "$PNG"
set title "Rate of each workload's class on a 200 Mbit/s host (ingress, tc counters read about every 0.24 s, TCP $CC)"
set xlabel "time (s)"
set ylabel "Mbit/s (whole frames)"
set xrange [0:$((PHASES * P))]
set yrange [0:225]
set xtics $P
set ytics 20
set grid ytics lc rgb "#e0e0e0"
set key below horizontal maxrows 3 font "sans,8"
set style line 1 lc rgb "#1f77b4" lw 1.6
set style line 2 lc rgb "#d62728" lw 1.6
set style line 3 lc rgb "#2ca02c" lw 1.6
set style line 11 lc rgb "#1f77b4" lw 1 dt 2
set style line 12 lc rgb "#d62728" lw 1 dt 2
set style line 13 lc rgb "#2ca02c" lw 1 dt 2
EOF
		# Phase boundaries and what happens there.
		i=1
		for ev in "B starts" "C floods (8 streams)" "B stops" "A stops"; do
			x=$((i * P))
			echo "set arrow from $x,0 to $x,225 nohead lc rgb '#999999' dt 3"
			echo "set label \"$ev\" at $x+0.1,$((i % 2 ? 218 : 209)) left font \"sans,8\" tc rgb '#555555'"
			i=$((i + 1))
		done
		echo "plot \\"
		n=1
		while read -r w g prio streams _; do
			echo "  \"$LAB_TMP/$w.cls.dat\" using 1:2 with lines ls $n title \"$w: guarantee ${g}mbit, prio $prio, $streams stream$([ "$streams" -gt 1 ] && echo s)\", \\"
			echo "  $g with lines ls $((n + 10)) title \"$w's guarantee\", \\"
			n=$((n + 1))
		done <<<"$WORKLOADS"
		echo "  200 with lines lc rgb '#000000' dt 4 title \"capacity 200mbit\""
	} >"$LAB_TMP/plot.gp"
	gnuplot "$LAB_TMP/plot.gp" || die "gnuplot failed"
	echo "  plot: $PNG ($(stat -c %s "$PNG") bytes)"
fi
echo "{\"bench\":\"bandwidth-timeline-summary\",\"phase_s\":$P,\"cc\":\"$CC\",\"runs\":$(jq -sc . "$OUT")}"
