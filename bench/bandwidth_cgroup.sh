#!/usr/bin/env bash
# Bandwidth per cgroup (docs/benchmarks.md "Bandwidth per cgroup"): what the BPF classifiers on the
# host's uplink cost the packets of the host's own processes.  bench/bandwidth_cgroup.sh
# [overhead] [scale]  (none = both)
#
#   overhead  one iperf3 TCP flow of a process in a cgroup WITHOUT a quota ("unshaped": host
#             namespace -> the peer behind the uplink veth, egress, and back with -R, ingress),
#             receiver side, -O 1, with no quota on the host (A: no filter on the uplink; checked
#             with `tc filter show dev o0 egress`) against one other cgroup with a quota (B: both
#             programs attached), alternating A0 B1 A1 B2 A2 ... for BENCH_BWC_CYCLES cycles.
#             Ratio = mean of the B runs / mean of the A runs; beside it the machine's system +
#             irq + softirq CPU time per GB carried (/proc/stat).  Nothing shapes the flow, so
#             the two CPUs are its limit and a classification cost shows as fewer Mbit/s and
#             more CPU per GB.                                       target B >= 0.97 x A
#             The programs' own run time in B (bpftool: run_time_ns / run_cnt) per GB, as a share of
#             the busy CPU per GB: what is left of the cost when the noise hides it.  target <= 3 %
#   scale     the same unshaped flow and a shaped one (a cgroup with a guarantee of 100mbit and
#             its limit at the capacity, so again CPU-bound) with 1, 10, 100 and 250 cgroups
#             having quotas (each extra one 10mbit guaranteed each way), up and down again
#             (1 10 100 250 1 250 100 10 1: brackets the drift), and at 250 plus a quota one level
#             deeper (nesting: the shaped flow then comes from a child cgroup with its own quota,
#             the programs look up two levels).  Ratio = mean at 250 / mean at 1.
#                                                                    target no trend: >= 0.97
#
#   BENCH_BWC_CYCLES=3 BENCH_BWC_N=250 BENCH_BWC_CAPACITY=10gbit BENCH_BWC_SECONDS=5
#   BENCH_BWC_BPF_STATS=1 (turns kernel.bpf_stats_enabled on for the run, restored on exit)
#   BENCH_KEEP_LOGS=1 keeps the lab's temp directory.
# Figures only, the exit code says whether the benchmark could run (TESTING.md).
#
# Lab detail: `ip netns exec` remounts /sys in a private mount namespace, which hides the cgroup2
# mount from the process, so shoald is started with `nsenter --net` instead; an iperf3 client
# joins its cgroup (echo $$ > cgroup.procs) before it execs `ip netns exec`.
set -u
export LAB=shc$$
# shellcheck source=bwlib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bwlib.sh"

SECTIONS=${*:-overhead scale}
CYCLES=${BENCH_BWC_CYCLES:-3}
N=${BENCH_BWC_N:-250}
CAP=${BENCH_BWC_CAPACITY:-10gbit}
T=${BENCH_BWC_SECONDS:-5}
OUT=$LAB_TMP/cgroup.jsonl
die() { echo "bench bandwidth-cgroup: $*" >&2; exit 1; }
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
for s in $SECTIONS; do case $s in overhead|scale) ;; *) die "unknown section \"$s\" (overhead, scale)" ;; esac; done
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces and cgroups)"
[ -x "$BUILD/shoald" ] && [ -x "$BUILD/netctl" ] || die "$BUILD/shoald or $BUILD/netctl is missing: run make"
command -v iperf3 >/dev/null || die "iperf3 is missing (make deps)"
command -v nsenter >/dev/null || die "nsenter is missing (util-linux)"
[ "$N" -ge 2 ] && [ "$N" -le 1000 ] || die "BENCH_BWC_N must be 2..1000"
CGMNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CGMNT" ] || die "no cgroup v2 mounted (see /proc/mounts)"
CG=$CGMNT/$LAB    # every cgroup of the run lives below this one, removed on exit

# cg_cleanup: end what still runs in the run's cgroups, then remove them, deepest first.
cg_cleanup() {
	[ -d "$CG" ] || return 0
	local d
	# shellcheck disable=SC2038
	find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	sleep 0.2
	find "$CG" -depth -type d | while read -r d; do rmdir "$d" 2>/dev/null || echo "# could not remove cgroup $d"; done
}
BPF_STATS_OLD=
bwc_cleanup() {
	[ -n "$BPF_STATS_OLD" ] && sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_OLD"
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then cp -a "$LAB_TMP" "/tmp/$LAB-logs" && echo "# logs kept in /tmp/$LAB-logs"; fi
}
trap 'cg_cleanup; bwc_cleanup; lab_cleanup' EXIT

record() { jq -c --arg s "$1" --arg c "$2" '. + {section: $s, state: $c}' >>"$OUT"; }
: >"$OUT"
SOCK=$LAB_TMP/h.sock
nc_() { "$BUILD/netctl" --socket "$SOCK" "$@"; }

# The programs' own run time per packet (bpftool prog show: run_time_ns / run_cnt) needs the kernel's
# BPF statistics, a machine-wide switch: on for the run, restored on exit.  BENCH_BWC_BPF_STATS=0
# leaves it alone (the ns/run figures are then missing).
if [ "${BENCH_BWC_BPF_STATS:-1}" = 1 ] && command -v bpftool >/dev/null; then
	BPF_STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null)
	sysctl -qw kernel.bpf_stats_enabled=1 || BPF_STATS_OLD=
fi
echo "bandwidth per cgroup: capacity $CAP, $(nproc) CPUs, kernel $(uname -r), cgroup v2 at $CGMNT, load $(bw_load)"

# The lab: host h (198.18.8.1 on its uplink o0) and its peer h-o (198.18.8.2, iperf3 on 5201);
# shoald of h with the capacity each way and o0 as the uplink, in h's network namespace only.
bw_side h 8 5201 || die "cannot build the lab"
shoald_conf h "\"bandwidth\": {\"ingress\": \"$CAP\", \"egress\": \"$CAP\", \"uplink\": \"o0\"}" >/dev/null
nsenter --net="/var/run/netns/$LAB-h" "$BUILD/shoald" --config "$LAB_TMP/h.json" >>"$LAB_TMP/shoald-h.log" 2>&1 &
LAB_PIDS+=($!)
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { tail -5 "$LAB_TMP/shoald-h.log"; die "shoald did not start"; }
mkdir -p "$CG/u" "$CG/s0/deep" || die "cannot create cgroups under $CG"

# uplink_filters: how many filters sit on the uplink's egress and ingress hooks ("E I").
uplink_filters() {
	echo "$(tc -n "$LAB-h" filter show dev o0 egress | grep -c ' handle ') $(tc -n "$LAB-h" filter show dev o0 ingress | grep -c ' handle ')"
}
# prog_stats: "run_time_ns run_cnt" of the egress then the ingress program on the uplink (0 0 when
# none is attached; the kernel counts only while kernel.bpf_stats_enabled is 1).
prog_stats() {
	local hook id
	for hook in egress ingress; do
		id=$(tc -n "$LAB-h" filter show dev o0 "$hook" | grep -o ' id [0-9]*' | head -1 | cut -d' ' -f3)
		if [ -n "$id" ]; then
			bpftool -j prog show id "$id" 2>/dev/null | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"' || echo "0 0"
		else
			echo "0 0"
		fi
	done | tr '\n' ' '
}
# cpu_busy: "busy sys" jiffies of all CPUs so far (sys = system + irq + softirq).
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $4 + $7 + $8 }' /proc/stat; }

# flow SECTION STATE CGROUP KIND DIR: one iperf3 run from a process in cgroup $CG/CGROUP;
# receiver-side Mbit/s and CPU per GB to $OUT.
flow() {
	local sec=$1 state=$2 cg=$3 kind=$4 dir=$5 rev="" j=$LAB_TMP/flow-$1-$2-$4-$5.json b0 b1 l hz
	[ "$dir" = ingress ] && rev=-R
	l=$(bw_load)
	p0=$(prog_stats)
	b0=$(cpu_busy)
	sh -c "echo \$\$ >'$CG/$cg/cgroup.procs' && exec ip netns exec '$LAB-h' iperf3 -c 198.18.8.2 -p 5201 -t $((T + 1)) -O 1 $rev -J" >"$j" 2>&1
	b1=$(cpu_busy)
	p1=$(prog_stats)
	hz=$(getconf CLK_TCK)
	jq -c --arg b0 "$b0" --arg b1 "$b1" --argjson hz "$hz" --arg l "$l" --arg k "$kind" --arg d "$dir" --arg cg "$cg" \
		--arg p0 "$p0" --arg p1 "$p1" '
		($b0 | split(" ") | map(tonumber)) as $x | ($b1 | split(" ") | map(tonumber)) as $y |
		($p0 | split(" ") | map(select(. != "") | tonumber)) as $u | ($p1 | split(" ") | map(select(. != "") | tonumber)) as $v |
		(if ($v[1] - $u[1]) > 0 then ($v[0] - $u[0]) / ($v[1] - $u[1]) else null end) as $ens |
		(if ($v[3] - $u[3]) > 0 then ($v[2] - $u[2]) / ($v[3] - $u[3]) else null end) as $ins |
		{kind: $k, dir: $d, cgroup: $cg, mbit: (.end.sum_received.bits_per_second / 1e6),
		 gb: (.end.sum_received.bytes / 1e9), retrans: (.end.sum_sent.retransmits // 0),
		 gb_all: ([.intervals[].sum.bytes] | add / 1e9),
		 cpu_busy_s: (($y[0] - $x[0]) / $hz), cpu_sys_s: (($y[1] - $x[1]) / $hz), load: $l,
		 egress_prog_runs: ($v[1] - $u[1]), egress_prog_ns: $ens, ingress_prog_runs: ($v[3] - $u[3]), ingress_prog_ns: $ins,
		 prog_ms_per_gb: (if ([.intervals[].sum.bytes] | add) > 0 then (($v[0] - $u[0]) + ($v[2] - $u[2])) / 1e6
		                  / ([.intervals[].sum.bytes] | add / 1e9) else null end)}
		| . + {sys_ms_per_gb: (if .gb_all > 0 then .cpu_sys_s * 1000 / .gb_all else null end),
		       busy_ms_per_gb: (if .gb_all > 0 then .cpu_busy_s * 1000 / .gb_all else null end)}' "$j" 2>/dev/null |
		record "$sec" "$state" || { echo "  iperf3 $state $kind $dir failed: $(head -c 300 "$j")"; return 1; }
	printf '  %-9s %-8s %-7s %8.1f Mbit/s  CPU busy %5.0f, sys+softirq %5.0f ms/GB  programs %s ns/run (egress), %s (ingress)  (load %s)\n' \
		"$state" "$kind" "$dir" "$(tail -1 "$OUT" | jq .mbit)" "$(tail -1 "$OUT" | jq '.busy_ms_per_gb // 0')" \
		"$(tail -1 "$OUT" | jq '.sys_ms_per_gb // 0')" "$(tail -1 "$OUT" | jq -r '.egress_prog_ns // "-" | if type == "number" then (. * 10 | round / 10) else . end')" \
		"$(tail -1 "$OUT" | jq -r '.ingress_prog_ns // "-" | if type == "number" then (. * 10 | round / 10) else . end')" "$l"
}

# quota PATH ARGS...: a quota for cgroup $CG/PATH (relative to the mount).
quota() { local p=$1; shift; nc_ quota set --cgroup "$LAB/$p" "$@" >/dev/null; }
unquota() { nc_ quota delete --cgroup "$LAB/$1" >/dev/null; }
n_quotas() { nc_ workload list -o json 2>/dev/null | jq '[.. | objects | select(.kind? == "cgroup") | .cgroup] | unique | length'; }

# ---- overhead ----------------------------------------------------------------------------------
section_overhead() {
	local c d f
	echo "overhead: unshaped flow from cgroup u (no quota); A = no quota on the host, B = cgroup q has one; iperf3 -t $((T + 1)) -O 1"
	mkdir -p "$CG/q" || return 1
	for c in $(seq 0 "$CYCLES"); do
		if [ "$c" -gt 0 ]; then
			quota q --egress-guarantee 10mbit --ingress-guarantee 10mbit || { echo "  quota on q failed"; return 1; }
			f=$(uplink_filters)
			echo "  B$c: filters on o0 egress/ingress: $f"
			[ "$f" = "1 1" ] || { echo "  expected one filter on each hook"; return 1; }
			for d in egress ingress; do flow overhead "B$c" u unshaped "$d" || return 1; done
			unquota q || { echo "  quota delete of q failed"; return 1; }
		fi
		for _ in $(seq 20); do [ "$(uplink_filters)" = "0 0" ] && break; sleep 0.1; done
		f=$(uplink_filters)
		echo "  A$c: filters on o0 egress/ingress: $f"
		[ "$f" = "0 0" ] || { echo "  the filters did not go with the last quota"; return 1; }
		for d in egress ingress; do flow overhead "A$c" u unshaped "$d" || return 1; done
	done
	rmdir "$CG/q"
}

# ---- scale -------------------------------------------------------------------------------------
# set_count K: cgroups x1..x(K-1) have quotas (with s0, K in all); creates or deletes the difference.
CUR=1
set_count() {
	local k=$1 i
	if [ "$k" -gt "$CUR" ]; then
		for i in $(seq "$CUR" $((k - 1))); do
			mkdir -p "$CG/x$i" && quota "x$i" --egress-guarantee 10mbit --ingress-guarantee 10mbit ||
				{ echo "  quota on x$i failed"; return 1; }
		done
	elif [ "$k" -lt "$CUR" ]; then
		for i in $(seq "$k" $((CUR - 1))); do
			unquota "x$i" && rmdir "$CG/x$i" || { echo "  quota delete of x$i failed"; return 1; }
		done
	fi
	CUR=$k
}
scale_flows() {
	local state=$1 shaped=${2:-s0} d
	for d in egress ingress; do flow scale "$state" u unshaped "$d" || return 1; done
	for d in egress ingress; do flow scale "$state" "$shaped" shaped "$d" || return 1; done
}
section_scale() {
	local k t0 seq1 n
	# The x cgroups sit at the level of s0 and u ($LAB/xI): one level with quotas, one lookup per
	# packet, until K=N+deep.  Admission: 100mbit + (N - 1) x 10mbit must fit in the capacity.
	echo "scale: unshaped flow from u, shaped flow from s0 (guarantee 100mbit, limit = capacity), with K cgroups having quotas"
	quota s0 --egress-guarantee 100mbit --ingress-guarantee 100mbit || { echo "  quota on s0 failed"; return 1; }
	seq1="1 10 100 $N 1 $N 100 10 1"
	[ "$N" -le 100 ] && seq1="1 10 $N 1 $N 10 1"
	for k in $seq1; do
		t0=$(date +%s%N)
		set_count "$k" || return 1
		n=$(n_quotas)
		ncl=$(tc -n "$LAB-h" class show dev shoal-out | grep -c '^class htb')
		echo "  K=$k: $n quotas, filters on o0 $(uplink_filters), classes on shoal-out $ncl (changed in $((($(date +%s%N) - t0) / 1000000)) ms)"
		# root 1:1, the default class 1:ffff, one per quota
		[ "$ncl" = $((n + 2)) ] || echo "  # WARNING: $n quotas but $((ncl - 2)) classes of theirs on shoal-out: quotas share a class"
		scale_flows "K$k" || return 1
		if [ "$k" = "$N" ] && [ -z "${DEEP_DONE:-}" ]; then
			DEEP_DONE=1
			quota s0/deep --egress-guarantee 100mbit --ingress-guarantee 100mbit || { echo "  quota on s0/deep failed"; return 1; }
			echo "  K=$N+deep: $(n_quotas) quotas, one of them on s0/deep (a level below s0); shaped flow from s0/deep"
			scale_flows "K$N+deep" s0/deep || return 1
			unquota s0/deep || { echo "  quota delete of s0/deep failed"; return 1; }
		fi
	done
	set_count 1
	unquota s0
}

rc=0
start=$SECONDS
if has overhead; then section_overhead || { echo "overhead: failed"; rc=1; }; fi
if has scale; then section_scale || { echo "scale: failed"; rc=1; }; fi

# ---- summary -----------------------------------------------------------------------------------
# stat SECTION STATE KIND DIR FIELD: "mean min max" over the runs whose state starts with STATE
# (is STATE without the "$" when it ends with "$").
stat() {
	jq -rs --arg s "$1" --arg p "$2" --arg k "$3" --arg d "$4" "[.[] | select(.section == \$s and .kind == \$k and .dir == \$d
		and (if (\$p | endswith(\"\$\")) then .state == (\$p | rtrimstr(\"\$\")) else (.state | startswith(\$p)) end)) | $5]
		| if length == 0 then \"- - -\" else \"\\(add / length) \\(min) \\(max)\" end" "$OUT"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b != "-" && b != "") printf "%.3f", b / a }'; }
verdict() { awk -v r="$1" -v l="$2" 'BEGIN { if (r == "") print "-"; else print (r >= l ? "PASS" : "MISS") }'; }
echo
if has overhead; then
	echo "summary overhead (receiver side, Mbit/s; A: no quota, no programs; B: another cgroup has a quota)"
	printf '  %-20s %8s %17s %8s %17s %7s  %s\n' "" "A mean" "A min-max" "B mean" "B min-max" "B / A" "target >= 0.97"
	for d in egress ingress; do
		# shellcheck disable=SC2046
		set -- $(stat overhead A unshaped $d .mbit) $(stat overhead B unshaped $d .mbit)
		r=$(ratio "$1" "$4")
		printf '  %-20s %8.1f %8.1f-%-8.1f %8.1f %8.1f-%-8.1f %7s  %s\n' "unshaped, $d" "$1" "$2" "$3" "$4" "$5" "$6" "${r:--}" "$(verdict "$r" 0.97)"
	done
	echo "  CPU per GB (ms/GB, whole machine: other jobs count too)      A mean -> B mean"
	for d in egress ingress; do
		for f in busy_ms_per_gb sys_ms_per_gb; do
			# shellcheck disable=SC2046
			set -- $(stat overhead A unshaped $d ".$f // 0") $(stat overhead B unshaped $d ".$f // 0")
			printf '  %-58s %6.0f -> %6.0f  (B / A %s)\n' "  $d, $([ $f = busy_ms_per_gb ] && echo "all busy CPU" || echo "system + irq + softirq")" "$1" "$4" "$(ratio "$1" "$4")"
		done
	done
	echo "  the programs' own run time in B (bpftool: run_time_ns / run_cnt; per run = per packet, GSO packets whole)"
	for d in egress ingress; do
		# shellcheck disable=SC2046
		set -- $(stat overhead B unshaped $d '.egress_prog_ns // 0') $(stat overhead B unshaped $d '.ingress_prog_ns // 0') \
			$(stat overhead B unshaped $d '.prog_ms_per_gb // 0') $(stat overhead B unshaped $d '.busy_ms_per_gb // 0')
		pc=$(awk -v a="$7" -v b="${10}" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", 100 * a / b }')
		printf '  %-58s %6.1f ns/run egress program, %6.1f ingress; %5.1f ms/GB = %s %% of the busy CPU per GB  target <= 3 %%: %s\n' \
			"  $d" "$1" "$4" "$7" "${pc:--}" "$(awk -v p="$pc" 'BEGIN { if (p == "") print "-"; else print (p <= 3 ? "PASS" : "MISS") }')"
	done
fi
# shellcheck disable=SC2046
if has scale; then
	echo "summary scale (receiver side, Mbit/s, mean over the visits of each K; ratio = K=$N / K=1)"
	ks="1 10 100 $N"; [ "$N" -le 100 ] && ks="1 10 $N"
	printf '  %-20s' ""; for k in $ks; do printf ' %9s' "K=$k"; done
	printf ' %9s %19s %19s %7s  %s\n' "$N+deep" "K=1 min-max" "K=$N min-max" "$N / 1" "target >= 0.97"
	for kind in unshaped shaped; do
		for d in egress ingress; do
			printf '  %-20s' "$kind, $d"
			for k in $ks; do set -- $(stat scale "K$k\$" $kind $d .mbit); printf ' %9.1f' "$1"; done
			set -- $(stat scale "K$N+deep\$" $kind $d .mbit); printf ' %9.1f' "$1"
			set -- $(stat scale 'K1$' $kind $d .mbit) $(stat scale "K$N\$" $kind $d .mbit)
			r=$(ratio "$1" "$4")
			printf ' %9.1f-%-9.1f %9.1f-%-9.1f %7s  %s\n' "$2" "$3" "$5" "$6" "${r:--}" "$(verdict "$r" 0.97)"
		done
	done
	echo "  CPU busy per GB (ms/GB, whole machine)"
	for kind in unshaped shaped; do
		for d in egress ingress; do
			printf '  %-20s' "$kind, $d"
			for k in $ks; do set -- $(stat scale "K$k\$" $kind $d '.busy_ms_per_gb // 0'); printf ' %9.0f' "$1"; done
			set -- $(stat scale "K$N+deep\$" $kind $d '.busy_ms_per_gb // 0'); printf ' %9.0f\n' "$1"
		done
	done
	echo "  the programs' run time (ns per run, bpftool), the hook that carries the flow's data; ratio = K=$N / K=1"
	for kind in unshaped shaped; do
		for d in egress ingress; do
			printf '  %-20s' "$kind, $d"
			for k in $ks; do set -- $(stat scale "K$k\$" $kind $d ".${d}_prog_ns // 0"); printf ' %9.1f' "$1"; done
			set -- $(stat scale "K$N+deep\$" $kind $d ".${d}_prog_ns // 0"); printf ' %9.1f' "$1"
			a=$(stat scale 'K1$' $kind $d ".${d}_prog_ns // 0" | cut -d' ' -f1); b=$(stat scale "K$N\$" $kind $d ".${d}_prog_ns // 0" | cut -d' ' -f1)
			printf ' %7s\n' "$(ratio "$a" "$b")"
		done
	done
fi
echo "  ran $((SECONDS - start)) s; load $(bw_load)"
echo "  PASS/MISS are information, not a test result; run again on a quiet machine before quoting."
echo "{\"bench\":\"bandwidth-cgroup-summary\",\"n\":$N,\"capacity\":\"$CAP\",\"runs\":$(jq -sc . "$OUT")}"
exit $rc
