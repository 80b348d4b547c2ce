# shellcheck shell=bash
# Lab helpers of the bandwidth benchmarks (bench/bandwidth.sh, bandwidth_scale.sh,
# bandwidth_timeline.sh).  Source it first, with LAB set: it takes BUILD from `make bench B=dir`
# (lib.sh only knows BUILD) and sources tests/integration/lib.sh.  Every function returns non-zero
# on failure and leaves dying to the caller.
if [ -z "${BUILD:-}" ] && [ -n "${B:-}" ]; then
	case $B in /*) BUILD=$B ;; *) BUILD=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$B ;; esac
fi
export BUILD
# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/integration/lib.sh"

# bw_side NAME NET PORT...: host namespace $LAB-NAME and, behind it, an "outside" namespace
# $LAB-NAME-o (198.18.NET.2, the host's end 198.18.NET.1) with an iperf3 server on each PORT: the
# peer of the host's workloads.  Traffic from a workload to it crosses the host's veth and IFBs.
bw_side() {
	local name=$1 net=$2 h=$LAB-$1 o p; shift 2
	lab_host "$name" >/dev/null || return 1
	o=$(lab_netns "$name-o") || return 1
	ip -n "$h" link add o0 type veth peer name eth0 netns "$o" &&
		ip -n "$h" addr add "198.18.$net.1/24" dev o0 && ip -n "$h" link set o0 up &&
		ip -n "$o" addr add "198.18.$net.2/24" dev eth0 && ip -n "$o" link set eth0 up &&
		ip -n "$o" route add 10.0.0.0/8 via "198.18.$net.1" || return 1
	for p in "$@"; do ip netns exec "$o" iperf3 -s -p "$p" -D || return 1; done
}

# bw_add HOST NAME RUNTIMECONFIG: namespace $LAB-NAME, then the plugin's ADD against HOST's shoald
# with RUNTIMECONFIG (a JSON object) as the runtime's runtimeConfig; the result goes to
# $LAB_TMP/NAME.result.
bw_add() {
	lab_netns "$2" >/dev/null || return 1
	cni_conf "$1" 1.1.0 "\"runtimeConfig\": $3" | cni ADD "$LAB-$2" "$(netns_path "$2")" eth0 >"$LAB_TMP/$2.result"
}

# bw_quota HOST NAME BANDWIDTH: the live change of workload NAME (shoald's quota op, docs/api.md:
# BANDWIDTH replaces all it asked for); fails when shoald does not answer ok.
bw_quota() {
	python3 "$ROOT/tests/integration/apiclient.py" -s "$LAB_TMP/$1.sock" call \
		"{\"op\": \"quota\", \"containerId\": \"$LAB-$2\", \"ifname\": \"eth0\", \"bandwidth\": $3}" |
		jq -e '.ok == true' >/dev/null
}

# bw_load: the load averages, for the figures' context.
bw_load() { cut -d' ' -f1-3 /proc/loadavg; }
