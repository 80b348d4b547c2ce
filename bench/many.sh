#!/usr/bin/env bash
# Many-hosts benchmarks (docs/benchmarks.md "Many hosts"), run by bench/run.sh after the CNI
# benchmark or alone:  bench/many.sh [converge] [startup] [throughput] [storecost]  (none = all).
# Prints figures and PASS/MISS against the targets; the exit code says only whether the benchmark
# could run (TESTING.md: benchmarks are not tests).
#
#   converge    3 real hosts (shoald in netns on an underlay) + BENCH_PEERS simulated peers in the
#               store; BENCH_JOINS joins of one new simulated peer each, timed until its route
#               (protocol 75) is on every real host.                     target p99 < 100 ms
#   startup     shoald started against a store holding 1000 (and 5000) peers: exec until every
#               route is programmed, and peak RSS.                        target < 1 s, < 10 MB
#   throughput  iperf3 container to container across two hosts through shoal's VXLAN, against the
#               same path built by hand (bridge, VXLAN device, same MTU, same namespaces).
#                                                                         target shoal >= 95 % of it
#   storecost   store requests per minute of an idle 3-host cluster and per join (etcd: its gRPC
#               counters; file store: writes and opens of its database file).
#
#   BENCH_STORES="file etcd"  stores to run converge/startup/storecost against; etcd rows are
#                             skipped with a note when /usr/bin/etcd or shoal's etcd backend does
#                             not work
#   BENCH_PEERS=200 BENCH_JOINS=20 BENCH_STARTUP_PEERS="1000 5000" BENCH_IDLE_SECONDS=60
#   BENCH_LEASE_TTL=60 (the 3-host cluster's leaseTTL)
#   BENCH_IPERF_SECONDS=5 BENCH_IPERF_ROUNDS=3   BENCH_KEEP_LOGS=1 keeps the lab's temp directory
#
# The lab: namespaces with the prefix shm<pid>- (never the caller's prefix), removed on exit with
# every process in them; underlay 198.18.0.0/24, simulated peers' publicIPs 198.18.1.1 upwards,
# container networks inside 10.244.0.0/16.
set -u
export LAB=shm$$
if [ -z "${BUILD:-}" ] && [ -n "${B:-}" ]; then
	case $B in /*) BUILD=$B ;; *) BUILD=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$B ;; esac
fi
# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/integration/lib.sh"

SECTIONS=${*:-converge startup throughput storecost}
STORES=${BENCH_STORES:-file etcd}
PEERS=${BENCH_PEERS:-200}
JOINS=${BENCH_JOINS:-20}
STARTUP_PEERS=${BENCH_STARTUP_PEERS:-1000 5000}
IDLE=${BENCH_IDLE_SECONDS:-60}
# The cluster's leaseTTL: a keep-alive every TTL/3 s per host.  shoald's default (600 s) renews every
# 200 s, rarer than a 60 s window: 60 makes the keep-alives visible (9 a minute for 3 hosts).
LEASE_TTL=${BENCH_LEASE_TTL:-60}
IPERF_T=${BENCH_IPERF_SECONDS:-5}
IPERF_ROUNDS=${BENCH_IPERF_ROUNDS:-3}
TOOL=$BUILD/bench/manyhosts
OUT=$LAB_TMP/many.jsonl
ETCD_EP=198.18.0.254:2379
# Staging for bulk preloads of the file store: tmpfs, so that writing 5000 peers one transaction
# at a time costs seconds, not minutes of fsync.  The database is copied to disk before timing.
SHM=

die() { echo "bench many: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a lab of network namespaces)"
[ -x "$BUILD/shoald" ] && [ -x "$BUILD/shoal" ] || die "$BUILD/shoald or $BUILD/shoal is missing: run make"
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

many_cleanup() {
	[ -n "$SHM" ] && rm -rf "$SHM"
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
		cp -a "$LAB_TMP" "/tmp/$LAB-logs" && echo "# logs kept in /tmp/$LAB-logs"
	fi
}
trap 'many_cleanup; lab_cleanup' EXIT

# The tool links the objects `make` built for shoald (store/, lib/, netd/records.o), like the
# Makefile's object lists; it lives outside bench/*.c because the Makefile's bench rule links
# lib/ only.  Rebuilt when its source or an object is newer.
build_tool() {
	local src=$ROOT/bench/many/manyhosts.c objs pkgs flags
	objs="$(ls "$BUILD"/obj/store/*.o "$BUILD"/obj/lib/*.o 2>/dev/null) $BUILD/obj/netd/records.o $BUILD/obj/netd/request.o"
	[ -f "$BUILD/obj/netd/records.o" ] || die "$BUILD/obj is missing: run make"
	if [ -x "$TOOL" ] && [ -z "$(find "$src" $objs -newer "$TOOL" 2>/dev/null | head -1)" ]; then
		return 0
	fi
	# No libssl: the etcd backend loads it at run time for etcds:// (store/tls.h); http_parser has
	# no pkg-config file.
	pkgs="jansson libuv libmnl"
	# Objects of a SANITIZE=1 build need the sanitizer runtime.
	flags=$(grep -o -- '-fsanitize=[^ ]*' "$BUILD/.flags" 2>/dev/null | sort -u | tr '\n' ' ')
	mkdir -p "$(dirname "$TOOL")"
	# shellcheck disable=SC2046,SC2086
	${CC:-cc} -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
		-Wno-unused-parameter $([ "${WERROR:-}" = 1 ] && echo -Werror) -O2 -g $flags -I"$ROOT" -D_GNU_SOURCE \
		$(pkg-config --cflags $pkgs) -o "$TOOL" "$src" $objs $(pkg-config --libs $pkgs) -lhttp_parser -lpthread -ldl \
		|| die "cannot build $TOOL"
}

# ---- helpers -----------------------------------------------------------------------------------

# Figures go to $OUT as JSON lines, tagged with the section and store.
record() { jq -c --arg s "$1" --arg st "$2" '. + {section: $s, store: $st}' >>"$OUT"; }
verdict() { [ -n "$1" ] && awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = op == "<" ? v < l : v <= l; print ok ? "PASS" : "MISS" }'; }
routes() { ip -n "$LAB-$1" route show proto 75 2>/dev/null | wc -l; }
routes_are() { [ "$(routes "$1")" -ge "$2" ]; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# etcd_up NAME: a fresh etcd (its own data directory) in the underlay namespace on $ETCD_EP; 0
# when it serves and shoal's backend can talk to it, else 1 with the reason in ETCD_NOTE.  Not in
# a subshell: etcd_start records the pid for etcd_stop and lab_cleanup.
ETCD_NOTE=
etcd_up() {
	local out
	ETCD_NOTE=
	[ -x /usr/bin/etcd ] || { ETCD_NOTE="no /usr/bin/etcd (Debian package etcd-server)"; return 1; }
	etcd_start underlay "$1" "http://$ETCD_EP" >"$LAB_TMP/etcd-start-$1.out" || { ETCD_NOTE="etcd did not start"; return 1; }
	out=$(ip netns exec "$LAB-underlay" "$TOOL" ping "etcd://$ETCD_EP" 2>&1) ||
		{ ETCD_NOTE="shoal's etcd backend cannot use it ($(echo "$out" | tail -1))"; etcd_down "$1"; return 1; }
}
etcd_down() { etcd_stop "$1" || echo "# etcd $1 did not stop"; }

# store_url STORE DIR: the URL shoald and the tool use.
store_url() { [ "$1" = etcd ] && echo "etcd://$ETCD_EP" || echo "file:$2"; }

# etcd_requests: gRPC calls started at the etcd server so far (unary and streams, every method),
# as "total method=n ...".  Debian's etcd 3.4 counts every request of the JSON gateway here too.
etcd_requests() {
	ip netns exec "$LAB-underlay" curl -s "http://$ETCD_EP/metrics" |
		awk '/^grpc_server_started_total/ { if ($2 > 0) { match($0, /grpc_method="[^"]*"/); m = substr($0, RSTART + 13, RLENGTH - 14); n[m] += $2; t += $2 } }
		     END { printf "%d", t; for (m in n) printf " %s=%d", m, n[m]; print "" }'
}
# req_delta BEFORE AFTER: per-method difference of two etcd_requests lines.
req_delta() {
	awk -v a="$1" -v b="$2" 'BEGIN { na = split(a, x, " "); nb = split(b, y, " ")
		for (i = 2; i <= na; i++) { split(x[i], kv, "="); A[kv[1]] = kv[2] }
		printf "%d", y[1] - x[1]
		for (i = 2; i <= nb; i++) { split(y[i], kv, "="); d = kv[2] - A[kv[1]]; if (d) printf " %s=%d", kv[1], d }
		print "" }'
}

# host_up NAME ADDR STORE_URL [json fields]: a simulated host on the underlay with its shoald.
host_up() {
	local h=$1 addr=$2 url=$3; shift 3
	lab_host "$h" >/dev/null && lab_underlay_join "$h" "$addr" || return 1
	shoald_conf "$h" "\"store\": \"$url\"${1:+, $1}" >/dev/null && shoald_start "$h"
}
host_down() {
	shoald_stop "$1" 2>/dev/null
	ip netns pids "$LAB-$1" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$LAB-$1" 2>/dev/null
	rm -rf "$LAB_TMP/state-$1"
}

# ---- converge + storecost: three real hosts ----------------------------------------------------

# cluster_body STORE: everything on the 3-host cluster; cluster_run tears it down however it ended,
# so that a failure leaves no shoald or etcd behind for the next section.
cluster_body() {
	local store=$1 url dir=$LAB_TMP/store-c-$1 next before after h fsw want
	url=$(store_url "$store" "$dir")
	if [ "$store" = etcd ]; then
		etcd_up c || { echo "  etcd: skipped: $ETCD_NOTE"; jq -cn --arg n "$ETCD_NOTE" '{skipped: $n}' | record converge etcd; return 0; }
	fi
	echo "cluster of 3 hosts, store $store ($url); load $(loadavg)"
	for h in 1 2 3; do
		host_up "c$store$h" "198.18.0.$h" "$url" "\"leaseTTL\": $LEASE_TTL" || { echo "  shoald c$store$h did not start"; return 1; }
	done
	if has converge; then
		next=$(ip netns exec "$LAB-underlay" "$TOOL" preload "$url" 10.244.0.0/16 24 0 "$PEERS" 2>"$LAB_TMP/preload-c-$store.log") ||
			{ echo "  preload failed: $(tail -1 "$LAB_TMP/preload-c-$store.log")"; return 1; }
		sed 's/^/  /' "$LAB_TMP/preload-c-$store.log"
		for h in 1 2 3; do
			lab_wait 60 routes_are "c$store$h" $((PEERS + 2)) || { echo "  c$store$h has only $(routes "c$store$h") routes"; return 1; }
		done
		echo "  every host has $((PEERS + 2)) peer routes; $JOINS joins of one simulated peer each:"
		[ "$store" = etcd ] && before=$(etcd_requests)
		if [ "$store" = file ] && has storecost; then
			"$TOOL" fswrites "$dir" 3600 >"$LAB_TMP/fs-joins.out" &
			fsw=$!
			sleep 0.2
		fi
		ip netns exec "$LAB-underlay" "$TOOL" join "$url" 10.244.0.0/16 24 "$next" "$JOINS" \
			"$LAB-c${store}1,$LAB-c${store}2,$LAB-c${store}3" 200 >"$LAB_TMP/join-$store.out" 2>&1
		grep -v '^{' "$LAB_TMP/join-$store.out"
		grep '^{' "$LAB_TMP/join-$store.out" | jq -c --arg l "$(loadavg)" '. + {load: $l}' | record converge "$store"
		if has storecost; then
			if [ "$store" = etcd ]; then
				after=$(etcd_requests)
				echo "{\"joins\":$JOINS,\"requests\":\"$(req_delta "$before" "$after")\"}" | record storecost-simjoin etcd
			else
				kill -INT "$fsw"; wait "$fsw"
				grep '^{' "$LAB_TMP/fs-joins.out" | jq -c --argjson j "$JOINS" '. + {joins: $j}' | record storecost-simjoin file
			fi
		fi
	fi
	if has storecost; then
		sleep 2
		echo "  idle for $IDLE s (leaseTTL $LEASE_TTL s: a keep-alive every $((LEASE_TTL / 3)) s per host; reconcileInterval 30 s)..."
		if [ "$store" = etcd ]; then
			before=$(etcd_requests); sleep "$IDLE"; after=$(etcd_requests)
			echo "{\"seconds\":$IDLE,\"requests\":\"$(req_delta "$before" "$after")\"}" | record storecost-idle etcd
		else
			"$TOOL" fswrites "$dir" "$IDLE" | grep '^{' | record storecost-idle file
		fi
		# A fourth real host joins: everything the store sees until its route is on every host
		# and it has programmed every peer, plus two seconds.
		echo "  a fourth real host joins..."
		[ "$store" = etcd ] && before=$(etcd_requests)
		if [ "$store" = file ]; then
			"$TOOL" fswrites "$dir" 3600 >"$LAB_TMP/fs-join4.out" &
			fsw=$!
			sleep 0.2
		fi
		want=$(routes "c${store}1")
		host_up "c${store}4" 198.18.0.4 "$url" "\"leaseTTL\": $LEASE_TTL" || echo "  shoald c${store}4 did not start"
		for h in 1 2 3; do lab_wait 20 routes_are "c$store$h" $((want + 1)); done
		lab_wait 20 routes_are "c${store}4" $((want + 1))
		sleep 2
		if [ "$store" = etcd ]; then
			after=$(etcd_requests)
			echo "{\"requests\":\"$(req_delta "$before" "$after")\"}" | record storecost-join etcd
		else
			kill -INT "$fsw"; wait "$fsw"
			grep '^{' "$LAB_TMP/fs-join4.out" | record storecost-join file
		fi
	fi
	return 0
}
cluster_run() {
	local rc h
	cluster_body "$1"
	rc=$?
	for h in 1 2 3 4; do host_down "c$1$h"; done
	if [ "$1" = etcd ] && [ -n "${ETCD_PID_c:-}" ]; then etcd_down c; unset ETCD_PID_c; fi
	return $rc
}

# ---- startup: one shoald against a store holding N peers -------------------------------------

# startup_store STORE: for each N of STARTUP_PEERS (ascending), top the store up to N simulated
# peers and time a fresh shoald (empty state directory, same node name) against it.
startup_store() {
	local store=$1 url dir=$LAB_TMP/store-s$1 have=0 next=0 n name=s$1 l t0
	url=$(store_url "$store" "$dir")
	if [ "$store" = etcd ]; then
		etcd_up "$name" || {
			echo "  etcd: skipped: $ETCD_NOTE"
			jq -cn --arg n "$ETCD_NOTE" '{skipped: $n}' | record startup etcd
			return 0
		}
	else
		SHM=${SHM:-$(mktemp -d "/dev/shm/$LAB.XXXXXX")}
	fi
	for n in $(echo "$STARTUP_PEERS" | tr ' ' '\n' | sort -n); do
		t0=$SECONDS
		if [ "$store" = etcd ]; then
			# A previous run's own record stays (its lease outlives shoald): the writer skips it.
			next=$(ip netns exec "$LAB-underlay" "$TOOL" preload "$url" 10.244.0.0/16 29 "$next" $((n - have)) 2>>"$LAB_TMP/preload-$name.log")
		else
			# Written on tmpfs, then copied: the disk store holds exactly N peers, no earlier run's record.
			next=$("$TOOL" preload "file:$SHM/$name" 10.244.0.0/16 29 "$next" $((n - have)) 2>>"$LAB_TMP/preload-$name.log") &&
				rm -rf "$dir" && mkdir -p "$dir" && cp "$SHM/$name/store.json" "$dir/"
		fi || { echo "  preload of $n peers failed: $(tail -1 "$LAB_TMP/preload-$name.log")"; return 1; }
		have=$n
		lab_host "$name" >/dev/null && lab_underlay_join "$name" 198.18.0.10 || return 1
		# /29 subnets: 8192 of them in 10.244.0.0/16, room for 5000 peers.
		shoald_conf "$name" "\"store\": \"$url\", \"subnetLen\": 29" >/dev/null
		l=$(loadavg)
		"$TOOL" startup "$LAB-$name" "$n" "$LAB_TMP/shoald-$name-$n.log" -- "$BUILD/shoald" --config "$LAB_TMP/$name.json" \
			>"$LAB_TMP/startup-$name-$n.out" 2>&1
		grep -v '^{' "$LAB_TMP/startup-$name-$n.out" | sed "s/^  /  $store, /; s/\$/ (store filled in $((SECONDS - t0)) s)/"
		grep '^{' "$LAB_TMP/startup-$name-$n.out" | jq -c --arg l "$l" '. + {load: $l}' | record startup "$store"
		host_down "$name"
	done
	rm -rf "$dir"
	return 0
}
startup_run() {
	local rc
	startup_store "$1"
	rc=$?
	host_down "s$1"
	if [ "$1" = etcd ] && [ -n "${ETCD_PID_setcd:-}" ]; then etcd_down setcd; unset ETCD_PID_setcd; fi
	return $rc
}

# ---- throughput: shoal's VXLAN against the same path by hand ----------------------------------

# iperf RUNLABEL SERVERNS CLIENTNS ADDR: one receiver-side goodput in Mbit/s (first second omitted).
iperf() {
	local out=$LAB_TMP/iperf-$1.json
	ip netns exec "$LAB-$2" iperf3 -s -1 -B "$4" >/dev/null 2>&1 &
	local srv=$!
	sleep 0.3
	ip netns exec "$LAB-$3" iperf3 -c "$4" -t "$((IPERF_T + 1))" -O 1 -J >"$out" 2>&1
	wait "$srv" 2>/dev/null
	jq -r '.end.sum_received.bits_per_second / 1e6 // empty' "$out" 2>/dev/null
}

# handpath HOST ADDR PEERADDR CONT SUB PEERSUB MTU PEERMAC: on HOST a bridge (SUB.1/24) with a veth into
# container CONT (eth1 SUB.2), a VXLAN device (VNI 99, port 4789, no learning, MTU), and the peer's
# neighbour, FDB entry and route, as shoal programs them (docs/overlay.md).
handpath() {
	local h=$LAB-$1 c=$LAB-$4
	ip -n "$h" link add brb type bridge && ip -n "$h" link set brb mtu "$7" up &&
	ip -n "$h" addr add "$5.1/24" dev brb &&
	ip -n "$h" link add vbh type veth peer name eth1 netns "$c" &&
	ip -n "$h" link set vbh mtu "$7" master brb up && ip -n "$c" link set eth1 mtu "$7" up &&
	ip -n "$c" addr add "$5.2/24" dev eth1 && ip -n "$c" route add "$6.0/24" via "$5.1" dev eth1 &&
	ip -n "$h" neigh add "$6.0" lladdr "$8" dev vxb nud permanent &&
	bridge -n "$h" fdb add "$8" dev vxb dst "$3" self permanent &&
	ip -n "$h" route add "$6.0/24" via "$6.0" dev vxb onlink
}

throughput_run() {
	local mtu podmtu ip1 ip2 s r shoal=() ref=() i
	command -v iperf3 >/dev/null || { echo "  skipped: no iperf3 (Debian package iperf3; add it to scripts/install-deps.sh)"; echo '{"skipped":"no iperf3"}' | record throughput file; return 0; }
	# shoal's cluster network is 10.244.0.0/17, so that the hand-built subnets (10.244.201-202.0/24)
	# are not shoal's and shoal's masquerade exemption and routes never see them.
	for h in 1 2; do
		host_up "t$h" "198.18.0.$h" "file:$LAB_TMP/store-t" '"network": "10.244.0.0/17"' || { echo "  shoald t$h did not start"; return 1; }
	done
	container_add t1 tc1 && container_add t2 tc2 || { echo "  CNI ADD failed"; return 1; }
	lab_wait 10 routes_are t1 1 && lab_wait 10 routes_are t2 1 || { echo "  no peer routes"; return 1; }
	mtu=$(ip -n "$LAB-t1" -o link show shoal.1 | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
	podmtu=$(ip -n "$LAB-tc1" -o link show eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
	for h in 1 2; do
		ip -n "$LAB-t$h" link add vxb type vxlan id 99 local "198.18.0.$h" dev eth0 dstport 4789 nolearning &&
			ip -n "$LAB-t$h" link set vxb mtu "$mtu" address "02:b0:00:00:00:0$h" up || { echo "  cannot build the reference VXLAN"; return 1; }
	done
	handpath t1 198.18.0.1 198.18.0.2 tc1 10.244.201 10.244.202 "$podmtu" 02:b0:00:00:00:02 &&
		handpath t2 198.18.0.2 198.18.0.1 tc2 10.244.202 10.244.201 "$podmtu" 02:b0:00:00:00:01 ||
		{ echo "  cannot build the reference path"; return 1; }
	ip netns exec "$LAB-tc1" ping -c1 -W2 10.244.202.2 >/dev/null || { echo "  the reference path does not carry traffic"; return 1; }
	ip1=$(container_ip tc1); ip2=$(container_ip tc2)
	ip netns exec "$LAB-tc1" ping -c1 -W2 "$ip2" >/dev/null || { echo "  shoal's path does not carry traffic"; return 1; }
	echo "throughput tc1 ($ip1, host t1) -> tc2 ($ip2, host t2): overlay MTU $mtu, pod MTU $podmtu; ${IPERF_ROUNDS}x ${IPERF_T} s each, alternating; load $(loadavg)"
	# Alternating, and which path goes first alternates too, so that a drift of the machine's load
	# weighs on both alike; the figure is the median of the rounds.
	for i in $(seq "$IPERF_ROUNDS"); do
		if [ $((i % 2)) = 1 ]; then
			r=$(iperf "ref$i" tc2 tc1 10.244.202.2); s=$(iperf "shoal$i" tc2 tc1 "$ip2")
		else
			s=$(iperf "shoal$i" tc2 tc1 "$ip2"); r=$(iperf "ref$i" tc2 tc1 10.244.202.2)
		fi
		ref+=("${r:-0}"); shoal+=("${s:-0}")
		printf '  round %d: reference %8.1f Mbit/s   shoal %8.1f Mbit/s\n' "$i" "${r:-0}" "${s:-0}"
	done
	jq -cn --argjson ref "[$(IFS=,; echo "${ref[*]}")]" --argjson shoal "[$(IFS=,; echo "${shoal[*]}")]" \
		--argjson mtu "$mtu" --arg l "$(loadavg)" \
		'def median: sort | .[(length - 1) / 2 | floor];
		 {ref_mbps: ($ref | median), shoal_mbps: ($shoal | median), ref_runs: $ref, shoal_runs: $shoal, mtu: $mtu, load: $l}' |
		record throughput file
	for h in 1 2; do host_down "t$h"; done
	return 0
}

# ---- run ---------------------------------------------------------------------------------------

build_tool
: >"$OUT"
echo "# many hosts: sections: $SECTIONS; stores: $STORES; lab prefix $LAB; $(nproc) CPUs, load $(loadavg)"
lab_underlay >/dev/null || die "cannot build the underlay"
rc=0
if has converge || has storecost; then
	for st in $STORES; do cluster_run "$st" || rc=1; done
fi
if has startup; then
	echo "startup against a store holding N peers (/29 subnets); load $(loadavg)"
	for st in $STORES; do startup_run "$st" || rc=1; done
fi
if has throughput; then throughput_run || rc=1; fi

# ---- summary -----------------------------------------------------------------------------------
fmt() { [ -n "$1" ] && printf "%.${2:-1}f" "$1" || printf -- '-'; }
q() { jq -r "select(.section == \"$1\" and .store == \"$2\") | $3 // empty" "$OUT" 2>/dev/null | tail -1; }
echo
echo "summary (many hosts)                              file         etcd   target"
row() { printf '  %-42s %10s %12s  %s\n' "$@"; }
if has converge; then
	for k in p50 p99 max; do
		f=$(q converge file ".${k}_ms"); e=$(q converge etcd ".${k}_ms")
		t=""; [ $k = p99 ] && t="< 100 ms ${f:+file $(verdict "$f" '<' 100)} ${e:+etcd $(verdict "$e" '<' 100)}"
		row "join -> route on 3 hosts, $k (ms)" "$(fmt "$f" 1)" "$(fmt "$e" 1)" "$t"
	done
	for st in file etcd; do
		s=$(q converge "$st" .skipped); [ -n "$s" ] && echo "  ($st: $s)"
	done
fi
if has startup; then
	for n in $STARTUP_PEERS; do
		f=$(jq -r "select(.section == \"startup\" and .store == \"file\" and .peers == $n) | .ms // empty" "$OUT" | tail -1)
		e=$(jq -r "select(.section == \"startup\" and .store == \"etcd\" and .peers == $n) | .ms // empty" "$OUT" | tail -1)
		fk=$(jq -r "select(.section == \"startup\" and .store == \"file\" and .peers == $n) | .vmhwm_kb // empty" "$OUT" | tail -1)
		ek=$(jq -r "select(.section == \"startup\" and .store == \"etcd\" and .peers == $n) | .vmhwm_kb // empty" "$OUT" | tail -1)
		t=""; [ "$n" = 1000 ] && t="< 1000 ms ${f:+file $(verdict "$f" '<' 1000)} ${e:+etcd $(verdict "$e" '<' 1000)}"
		row "start-up, $n peers: exec -> all routes (ms)" "$(fmt "$f" 0)" "$(fmt "$e" 0)" "$t"
		fm=$([ -n "$fk" ] && awk -v k="$fk" 'BEGIN { print k / 1024 }'); em=$([ -n "$ek" ] && awk -v k="$ek" 'BEGIN { print k / 1024 }')
		t=""; [ "$n" = 1000 ] && t="< 10 MiB ${fm:+file $(verdict "$fm" '<' 10)} ${em:+etcd $(verdict "$em" '<' 10)}"
		row "start-up, $n peers: shoald VmHWM (MiB)" "$(fmt "$fm" 1)" "$(fmt "$em" 1)" "$t"
		fa=$(jq -r "select(.section == \"startup\" and .store == \"file\" and .peers == $n) | .rssanon_kb // empty" "$OUT" | tail -1)
		ea=$(jq -r "select(.section == \"startup\" and .store == \"etcd\" and .peers == $n) | .rssanon_kb // empty" "$OUT" | tail -1)
		row "  of which RssAnon (heap, stacks; MiB)" "$(fmt "$([ -n "$fa" ] && awk -v k="$fa" 'BEGIN { print k / 1024 }')" 1)" \
			"$(fmt "$([ -n "$ea" ] && awk -v k="$ea" 'BEGIN { print k / 1024 }')" 1)" ""
	done
fi
if has storecost; then
	fi_w=$(q storecost-idle file .writes); fi_o=$(q storecost-idle file .opens); fi_s=$(q storecost-idle file .seconds)
	ei=$(q storecost-idle etcd .requests); es=$(q storecost-idle etcd .seconds)
	pm() { [ -n "$1" ] && [ -n "$2" ] && awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n * 60 / s }'; }
	row "idle 3-host cluster, per minute" "$(pm "$fi_w" "$fi_s")w $(pm "$fi_o" "$fi_s")r" "$(pm "${ei%% *}" "$es")" "(file: database writes w / opens r; etcd: gRPC requests)"
	row "one real host joining (until converged)" "$(q storecost-join file .writes)w $(q storecost-join file .opens)r" "$(q storecost-join etcd .requests | cut -d' ' -f1)"
	fj=$(q storecost-simjoin file .writes); fo=$(q storecost-simjoin file .opens); ej=$(q storecost-simjoin etcd .requests)
	row "per simulated join (writer's 2 included)" "$(awk -v n="${fj:-}" -v j="$JOINS" 'BEGIN { if (n != "") printf "%.1fw", n / j }') $(awk -v n="${fo:-}" -v j="$JOINS" 'BEGIN { if (n != "") printf "%.1fr", n / j }')" \
		"$(awk -v n="${ej%% *}" -v j="$JOINS" 'BEGIN { if (n != "") printf "%.1f", n / j }')"
	[ -n "$ei" ] && echo "  etcd idle by method: ${ei#* }"
	e4=$(q storecost-join etcd .requests); [ -n "$e4" ] && echo "  etcd join by method: ${e4#* }"
fi
if has throughput; then
	tr=$(q throughput file .ref_mbps); ts=$(q throughput file .shoal_mbps)
	ratio=$([ -n "$tr" ] && [ -n "$ts" ] && awk -v a="$ts" -v b="$tr" 'BEGIN { if (b > 0) printf "%.3f", a / b }')
	row "iperf3 across hosts, reference (Mbit/s)" "$(fmt "$tr" 0)" "" "(median of $IPERF_ROUNDS rounds)"
	row "iperf3 across hosts, shoal (Mbit/s)" "$(fmt "$ts" 0)" "" "${ratio:+shoal/ref $ratio, >= 0.95 $(awk -v r="$ratio" 'BEGIN { print (r >= 0.95 ? "PASS" : "MISS") }')}"
	s=$(q throughput file .skipped); [ -n "$s" ] && echo "  (throughput: $s)"
fi
echo "  load average at the end: $(loadavg). PASS/MISS are information, not a test result."
jq -cs '{bench: "many-summary", runs: .}' "$OUT"
exit $rc
