#!/usr/bin/env bash
# `make bench`: CNI ADD/DEL latency of shoal against the reference chain (bridge + host-local +
# bandwidth from Debian's containernetworking-plugins), measured in the same run on the same
# machine; then the many-hosts benchmarks (bench/many.sh: convergence, start-up, overlay
# throughput, store cost), the bandwidth benchmark against the reference bandwidth plugin
# (bench/bandwidth.sh), 250 workloads with classes (bench/bandwidth_scale.sh), the rates-over-time
# plot (bench/bandwidth_timeline.sh) and the cost of the cgroup classifiers
# (bench/bandwidth_cgroup.sh).  Prints figures and PASS/MISS against the
# targets; the exit code says only whether the benchmark could run, never whether a target was met
# (TESTING.md: benchmarks are not tests).
#
#   BENCH_N=500   containers of the sequential run     BENCH_P=32   concurrent ADDs
#   BENCH_ONLY=SECTION[,SECTION...]   run only these: reference, shoal (the two CNI halves), cni
#       (both), converge, startup, throughput, storecost, many (all four), bandwidth, bwscale,
#       bwtimeline (writes docs/img/bandwidth-timeline.png unless BENCH_BWT_PNG says otherwise),
#       bwcgroup; unset = everything
#   BENCH_KEEP_LOGS=1  keep $LAB_TMP     BENCH_TIMEOUT=900  seconds allowed per driver run
#   bench/many.sh, bandwidth_scale.sh, bandwidth_timeline.sh and bandwidth_cgroup.sh list their own
#   knobs (BENCH_STORES, BENCH_BWS_N, BENCH_BWT_PHASE, BENCH_BWC_N, ...).
#
# Method (docs/benchmarks.md): the lab has its own namespaces, prefix $LAB, removed on exit.  The
# container namespaces are created before anything is timed.  build/bench/cnibench executes the
# conflist like libcni does and runs inside the simulated host's namespace, so that namespace is
# the plugins' current one; CNI_NETNS is the container's namespace path.
set -u
export LAB=${LAB:-shb$$}
# `make bench B=dir` builds into dir: use that build (lib.sh only knows BUILD).
if [ -z "${BUILD:-}" ] && [ -n "${B:-}" ]; then
	case $B in /*) BUILD=$B ;; *) BUILD=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$B ;; esac
fi
export BUILD
# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/integration/lib.sh"

N=${BENCH_N:-500}
P=${BENCH_P:-32}
ONLY=" $(echo "${BENCH_ONLY:-}" | tr ',' ' ') "
# sel SECTION...: whether BENCH_ONLY selects any of them (everything when it is unset).
sel() {
	local s
	[ -z "${BENCH_ONLY:-}" ] && return 0
	for s in "$@"; do case $ONLY in *" $s "*) return 0 ;; esac; done
	return 1
}
RUN_REF=0 RUN_SHOAL=0 MANY="" RUN_BW=0 RUN_BWS=0 RUN_BWT=0 RUN_BWC=0
sel reference cni && RUN_REF=1
sel shoal cni && RUN_SHOAL=1
sel bandwidth && RUN_BW=1
sel bwscale && RUN_BWS=1
sel bwtimeline && RUN_BWT=1
sel bwcgroup && RUN_BWC=1
for s in converge startup throughput storecost; do sel "$s" many && MANY="$MANY $s"; done
for s in $ONLY; do
	case $s in reference|shoal|cni|converge|startup|throughput|storecost|many|bandwidth|bwscale|bwtimeline|bwcgroup) ;;
	*) echo "bench: unknown section \"$s\" in BENCH_ONLY" >&2; exit 1 ;; esac
done
DRIVER=${CNIBENCH:-$BUILD/bench/cnibench}
REF_CNI_PATH=/usr/lib/cni
OUT=$LAB_TMP/results.jsonl

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces)"
if [ $RUN_REF = 1 ] || [ $RUN_SHOAL = 1 ]; then
	[ -x "$DRIVER" ] || die "$DRIVER is missing: run make"
	[ "$N" -ge 2 ] && [ "$P" -ge 1 ] && [ "$P" -le "$N" ] || die "need BENCH_N >= 2 and 1 <= BENCH_P <= BENCH_N"
fi
if [ $RUN_REF = 1 ]; then
	for p in bridge host-local bandwidth; do
		[ -x "$REF_CNI_PATH/$p" ] || die "$REF_CNI_PATH/$p is missing (Debian package containernetworking-plugins)"
	done
fi

# Which halves have containers that may need a DEL when we are interrupted.
REF_ACTIVE=0
SHOAL_ACTIVE=0
DRIVER_PID=
bench_cleanup() {
	if [ -n "$DRIVER_PID" ]; then
		# timeout forwards the signal to the driver; the driver's plugins finish on their own.
		kill -TERM "$DRIVER_PID" 2>/dev/null
		wait "$DRIVER_PID" 2>/dev/null
	fi
	# The namespaces' removal would take the veths, bridge, IFBs and iptables rules with them,
	# but DEL is what a runtime does, and it also exercises the plugins' idempotent DEL.
	if [ "$REF_ACTIVE" = 1 ]; then
		echo "# cleanup: DEL of every reference container"
		ip netns exec "$LAB-ref" env CNI_PATH=$REF_CNI_PATH "$DRIVER" --mode del -n "$N" -P "$P" \
			--netns-prefix "$LAB-c" --id-prefix ref- "$LAB_TMP/ref.conflist" >/dev/null 2>&1
	fi
	if [ "$SHOAL_ACTIVE" = 1 ]; then
		echo "# cleanup: DEL of every shoal container"
		ip netns exec "$LAB-shoal" env CNI_PATH="$BUILD:$REF_CNI_PATH" "$DRIVER" --mode del -n "$N" -P "$P" \
			--netns-prefix "$LAB-c" --id-prefix shoal- "$LAB_TMP/shoal.conflist" >/dev/null 2>&1
	fi
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
		cp -a "$LAB_TMP" "/tmp/$LAB-logs" && echo "# logs kept in /tmp/$LAB-logs"
	fi
}
trap 'bench_cleanup; lab_cleanup' EXIT

echo "# shoal benchmark: N=$N sequential containers, P=$P concurrent; lab prefix $LAB"
echo "# $(nproc) CPUs, kernel $(uname -r), plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?')"

# Container namespaces first, in one `ip` process: not part of any figure.
if [ $RUN_REF = 1 ] || [ $RUN_SHOAL = 1 ]; then
	start=$SECONDS
	for i in $(seq 0 $((N - 1))); do echo "netns add $LAB-c$i"; done | ip -batch - || die "cannot create namespaces"
	echo "# created $N container namespaces in $((SECONDS - start)) s"
fi

# run_driver HOSTNS CNI_PATH MODE IDPREFIX CONFLIST LABEL: one driver run; its JSON line is
# appended to $OUT, the human text shown.
run_driver() {
	local host=$1 cnipath=$2 mode=$3 idp=$4 conf=$5 label=$6 log=$LAB_TMP/driver-$6-$3.log
	# In the background so that a signal to this script runs the traps at once (bash runs them
	# only after a foreground child ends); bench_cleanup stops the driver.  A stuck plugin or
	# daemon must not hang `make bench` forever: timeout.
	timeout --kill-after=10 "${BENCH_TIMEOUT:-900}" \
		ip netns exec "$host" env CNI_PATH="$cnipath" "$DRIVER" --mode "$mode" -n "$N" -P "$P" \
		--netns-prefix "$LAB-c" --id-prefix "$idp" --label "$label" --raw "$LAB_TMP/raw-$label.csv" "$conf" >"$log.out" 2>"$log" &
	DRIVER_PID=$!
	wait "$DRIVER_PID"
	local rc=$?
	DRIVER_PID=
	grep -v '^{"bench"' "$log.out" | sed 's/^/  /'
	grep '^{"bench"' "$log.out" >>"$OUT"
	if [ $rc -ne 0 ]; then
		echo "# $label $mode failed (exit $rc); last lines of $log:"
		tail -5 "$log" | sed 's/^/#   /'
	fi
	return $rc
}

# --- reference: bridge (gateway, masquerade) + host-local + bandwidth --------------------------
run_reference() {
	local host
	host=$(lab_host ref) || return 1
	cat >"$LAB_TMP/ref.conflist" <<EOF
{ "cniVersion": "1.0.0", "name": "bench-ref",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.245.0.0/16" }]],
                "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$LAB_TMP/host-local" } },
    { "type": "bandwidth", "ingressRate": 100000000, "ingressBurst": 1000000,
      "egressRate": 100000000, "egressBurst": 1000000 }
  ] }
EOF
	echo "reference chain (bridge + host-local + bandwidth), host namespace $host"
	REF_ACTIVE=1
	run_driver "$host" "$REF_CNI_PATH" seq ref- "$LAB_TMP/ref.conflist" reference || return 1
	run_driver "$host" "$REF_CNI_PATH" par ref- "$LAB_TMP/ref.conflist" reference || return 1
	REF_ACTIVE=0
	# Leftovers would mean DEL is broken; say so, the namespace removal cleans them anyway.
	local left
	left=$(ip -n "$host" -o link show type veth | wc -l)
	[ "$left" -eq 0 ] || echo "# warning: $left veths left in $host after DEL"
}

# --- shoal: shoald in its own host namespace, the plugin alone in the conflist -----------------
run_shoal() {
	local host pid hwm
	if [ ! -x "$BUILD/shoald" ] || [ ! -x "$BUILD/shoal" ]; then
		echo "shoal: $BUILD/shoald or $BUILD/shoal not built; skipped"
		return 2
	fi
	host=$(lab_host shoal) || return 1
	# A /22 per host so that N containers fit (the default /24 has 253 addresses).
	cat >"$LAB_TMP/shoal.json" <<EOF
{ "node": "shoal", "store": "file:$LAB_TMP/store", "network": "10.244.0.0/16", "subnetLen": 22,
  "stateDir": "$LAB_TMP/state-shoal", "socket": "$LAB_TMP/shoal.sock", "logLevel": "${BENCH_LOG_LEVEL:-info}" }
EOF
	cat >"$LAB_TMP/shoal.conflist" <<EOF
{ "cniVersion": "1.0.0", "name": "bench-shoal",
  "plugins": [ { "type": "shoal", "socket": "$LAB_TMP/shoal.sock", "stateDir": "$LAB_TMP/state-shoal" } ] }
EOF
	echo "shoal (shoald + shoal plugin), host namespace $host"
	shoald_start shoal || return 1
	pid=$(shoald_pid shoal)
	SHOAL_ACTIVE=1
	run_driver "$host" "$BUILD:$REF_CNI_PATH" seq shoal- "$LAB_TMP/shoal.conflist" shoal || return 1
	run_driver "$host" "$BUILD:$REF_CNI_PATH" par shoal- "$LAB_TMP/shoal.conflist" shoal || return 1
	SHOAL_ACTIVE=0
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	echo "  shoald peak RSS (VmHWM): ${hwm:-?} kB"
	[ -n "$hwm" ] && echo "{\"bench\":\"rss\",\"label\":\"shoal\",\"vmhwm_kb\":$hwm}" >>"$OUT"
	shoald_stop shoal || echo "# shoald did not stop on SIGTERM"
}

: >"$OUT"
ref_rc=0 shoal_rc=0 many_rc=0
if [ $RUN_REF = 1 ]; then run_reference; ref_rc=$?; fi
if [ $RUN_SHOAL = 1 ]; then run_shoal; shoal_rc=$?; fi

# --- summary -----------------------------------------------------------------------------------
cni_summary() {
# fig LABEL MODE JQPATH: one figure from the JSON lines, empty when that run did not happen.
fig() { jq -r --arg l "$1" --arg m "$2" "select(.label == \$l and .mode == \$m) | $3" "$OUT" 2>/dev/null | tail -1; }
fmt() { [ -n "$1" ] && printf '%.2f' "$1" || printf -- '-'; }
# ratio A B: A / B with two decimals, empty when either is missing.
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b }'; }
# verdict VALUE OP LIMIT: PASS or MISS, empty when VALUE is missing.
verdict() { [ -n "$1" ] && awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = op == ">=" ? v >= l : v <= l; print ok ? "PASS" : "MISS" }'; }

r_am=$(fig reference seq .add.median_ms); s_am=$(fig shoal seq .add.median_ms)
r_ap=$(fig reference seq .add.p99_ms);    s_ap=$(fig shoal seq .add.p99_ms)
r_dm=$(fig reference seq .del.median_ms); s_dm=$(fig shoal seq .del.median_ms)
r_dp=$(fig reference seq .del.p99_ms);    s_dp=$(fig shoal seq .del.p99_ms)
r_t=$(fig reference seq .tail.ratio);     s_t=$(fig shoal seq .tail.ratio)
r_pa=$(fig reference par .add_wall_ms);   s_pa=$(fig shoal par .add_wall_ms)
r_pd=$(fig reference par .del_wall_ms);   s_pd=$(fig shoal par .del_wall_ms)
win=$(fig shoal seq .tail.window); [ -n "$win" ] || win=$(fig reference seq .tail.window)
hwm=$(jq -r 'select(.bench == "rss") | .vmhwm_kb' "$OUT" 2>/dev/null | tail -1)
add_x=$(ratio "$r_am" "$s_am"); del_x=$(ratio "$r_dm" "$s_dm")
par_x=$(ratio "$r_pa" "$s_pa")

echo
echo "summary (N=$N, P=$P; times in ms)       reference      shoal   ref/shoal  target"
row() { printf '  %-36s %10s %10s %10s  %s\n' "$1" "$(fmt "$2")" "$(fmt "$3")" "${4:+${4}x}" "${5:-}"; }
row "ADD median" "$r_am" "$s_am" "$add_x" "${add_x:+>= 10x $(verdict "$add_x" '>=' 10)}"
row "ADD p99" "$r_ap" "$s_ap" "$(ratio "$r_ap" "$s_ap")"
row "DEL median" "$r_dm" "$s_dm" "$del_x" "${del_x:+>= 5x $(verdict "$del_x" '>=' 5)}"
row "DEL p99" "$r_dp" "$s_dp" "$(ratio "$r_dp" "$s_dp")"
row "ADD p99 tail ratio (last/first ${win:-100})" "$r_t" "$s_t" "" "${s_t:+<= 1.5 $(verdict "$s_t" '<=' 1.5)}"
row "$P concurrent ADDs, wall time" "$r_pa" "$s_pa" "$par_x"
row "$P concurrent DELs, wall time" "$r_pd" "$s_pd" "$(ratio "$r_pd" "$s_pd")"
printf '  %-36s %10s %10s\n' "shoald peak RSS (VmHWM)" "-" "$([ -n "$hwm" ] && awk -v k="$hwm" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
[ -z "$s_am" ] && echo "  (shoal figures missing: see above)"
echo "  PASS/MISS are information, not a test result; run again on a quiet machine before quoting."

# One line for machines.
jq -cn --argjson n "$N" --argjson p "$P" --slurpfile runs "$OUT" \
	'{bench: "summary", n: $n, parallel: $p, runs: $runs}'
}
if [ $RUN_REF = 1 ] || [ $RUN_SHOAL = 1 ]; then cni_summary; fi

# --- many hosts: a lab of its own (prefix shm<pid>), after the CNI figures ---------------------
if [ -n "$MANY" ]; then
	echo
	# shellcheck disable=SC2086
	"$ROOT/bench/many.sh" $MANY || many_rc=1
fi

# --- bandwidth against the reference plugin: a lab of its own -----------------------------------
bw_rc=0
if [ $RUN_BW = 1 ]; then
	echo
	"$ROOT/bench/bandwidth.sh" || bw_rc=1
fi
# --- 250 workloads with classes; rates over time (a plot); cgroups: each a lab of its own ------
if [ $RUN_BWS = 1 ]; then
	echo
	"$ROOT/bench/bandwidth_scale.sh" || bw_rc=1
fi
if [ $RUN_BWT = 1 ]; then
	echo
	"$ROOT/bench/bandwidth_timeline.sh" || bw_rc=1
fi
if [ $RUN_BWC = 1 ]; then
	echo
	"$ROOT/bench/bandwidth_cgroup.sh" || bw_rc=1
fi

[ $ref_rc -eq 0 ] || exit 1
[ $bw_rc -eq 0 ] || exit 1
[ $shoal_rc -eq 0 ] || [ $shoal_rc -eq 2 ] || exit 1
[ $many_rc -eq 0 ] || exit 1
exit 0
