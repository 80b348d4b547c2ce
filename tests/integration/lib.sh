# Shared helpers of the netns lab (TESTING.md).  Source it from tests/integration/t_*.sh.
#
# Everything a test creates carries the per-run prefix $LAB (namespaces, temp dirs) and is removed
# by the EXIT trap, also when the test fails.  Simulated hosts and containers are network
# namespaces; nothing is added to the root namespace.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LAB=${LAB:-sht$$}
LAB_TMP=$(mktemp -d "/tmp/$LAB.XXXXXX")
LAB_PIDS=()
T_PASSED=0
T_FAILED=0

lab_cleanup() {
	local p ns
	for p in "${LAB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${LAB_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	# Under SANITIZE=1 a report in a daemon's log is a failure even if every check passed.
	local f
	for f in "$LAB_TMP"/shoald-*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'Sanitizer|runtime error:' "$f"; then
			echo "not ok - sanitizer report in $(basename "$f")"
			grep -E -A12 'Sanitizer|runtime error:' "$f" | head -40 | sed 's/^/#   /'
			lab_failed_in_cleanup=1
		fi
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$LAB_TMP"
	[ -z "${lab_failed_in_cleanup:-}" ] || exit 1
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

ok()     { echo "ok - $*"; T_PASSED=$((T_PASSED + 1)); }
not_ok() { echo "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }
# check NAME CMD...: ok when CMD succeeds.
check()  { local n=$1; shift; if "$@" >>"$LAB_TMP/check.log" 2>&1; then ok "$n"; else not_ok "$n"; tail -5 "$LAB_TMP/check.log" | sed 's/^/#   /'; fi; }
# check_fails NAME CMD...: ok when CMD fails.
check_fails() { local n=$1; shift; if "$@" >>"$LAB_TMP/check.log" 2>&1; then not_ok "$n"; else ok "$n"; fi; }
# expect_eq NAME WANT GOT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi; }

# lab_netns NAME: create namespace $LAB-NAME with lo up; prints its name.
lab_netns() {
	local ns=$LAB-$1
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	echo "$ns"
}

# lab_host NAME: a simulated host namespace with forwarding on.
lab_host() {
	local ns
	ns=$(lab_netns "$1") || return 1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	echo "$ns"
}

# shoald_conf HOST [json fields...]: write a config for host HOST, print its path.
shoald_conf() {
	local host=$1; shift
	local extra="{}"
	[ $# -gt 0 ] && extra="{ $* }"
	# Extra fields replace the defaults (shoald rejects duplicate keys).
	jq -n --argjson extra "$extra" \
		'{node: $h, store: ("file:" + $t + "/store"), network: "10.244.0.0/16", subnetLen: 24,
		  stateDir: ($t + "/state-" + $h), socket: ($t + "/" + $h + ".sock"), logLevel: "info"} + $extra' \
		--arg h "$host" --arg t "$LAB_TMP" >"$LAB_TMP/$host.json" || return 1
	echo "$LAB_TMP/$host.json"
}

# shoald_start HOST [args...]: start shoald inside namespace $LAB-HOST with config
# $LAB_TMP/HOST.json (created with defaults when missing); waits for its socket.
shoald_start() {
	local host=$1; shift
	local conf=$LAB_TMP/$host.json sock=$LAB_TMP/$host.sock
	[ -f "$conf" ] || shoald_conf "$host" >/dev/null
	rm -f "$sock"
	ip netns exec "$LAB-$host" "$BUILD/shoald" --config "$conf" "$@" >>"$LAB_TMP/shoald-$host.log" 2>&1 &
	shoald_started "$host" $!
}

# shoald_started HOST PID: a shoald of HOST started otherwise (in the background, its log in
# $LAB_TMP/shoald-HOST.log): remember it, wait for its socket.
shoald_started() {
	local host=$1 pid=$2
	local sock=$LAB_TMP/$host.sock
	LAB_PIDS+=("$pid")
	eval "SHOALD_PID_${host//-/_}=$pid"
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || { echo "# shoald $host exited"; tail -20 "$LAB_TMP/shoald-$host.log" | sed 's/^/#   /'; return 1; }
		sleep 0.05
	done
	echo "# shoald $host did not create $sock"
	return 1
}

shoald_pid() { local v="SHOALD_PID_${1//-/_}"; echo "${!v}"; }

# shoald_stop HOST [SIGNAL]
shoald_stop() {
	local pid; pid=$(shoald_pid "$1")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}

# cni_conf HOST [CNIVERSION] [extra json fields]: a network config for the plugin on stdout.
cni_conf() {
	local host=$1 ver=${2:-1.1.0}; shift 2 2>/dev/null || shift $#
	local extra=""
	[ $# -gt 0 ] && extra=", $*"
	printf '{"cniVersion":"%s","name":"shoal-lab","type":"shoal","socket":"%s","stateDir":"%s"%s}\n' \
		"$ver" "$LAB_TMP/$host.sock" "$LAB_TMP/state-$host" "$extra"
}

# cni CMD CONTAINERID NETNS IFNAME < config: execute the plugin exactly as runtimes do.
# Output on stdout, exit code as the plugin's.
cni() {
	local cmd=$1 id=$2 netns=$3 ifname=$4
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
		CNI_NETNS="$netns" CNI_IFNAME="$ifname" CNI_PATH="$BUILD:/usr/lib/cni" \
		${CNI_ARGS:+CNI_ARGS="$CNI_ARGS"} "$BUILD/shoal"
}

# netns_path NAME: the path runtimes hand over as CNI_NETNS.
netns_path() { echo "/var/run/netns/$LAB-$1"; }

# container_add HOST NAME [IFNAME]: create namespace and ADD it; the result lands in
# $LAB_TMP/NAME.result.  Returns the plugin's exit code.
container_add() {
	local host=$1 name=$2 ifname=${3:-eth0}
	[ -e "$(netns_path "$name")" ] || lab_netns "$name" >/dev/null
	cni_conf "$host" | cni ADD "$LAB-$name" "$(netns_path "$name")" "$ifname" >"$LAB_TMP/$name.result"
}

# container_ip NAME: the address of the ADD result (without prefix length).
container_ip() { jq -r '.ips[0].address' "$LAB_TMP/$1.result" | cut -d/ -f1; }

# wait_settled HOST: wait until shoald on HOST has finished its deferred deletions (the veth is
# gone, the record removed, the address free).
wait_settled() {
	for _ in $(seq 100); do
		[ "$("$BUILD/netctl" --socket "$LAB_TMP/$1.sock" status -o json 2>/dev/null | jq .pendingDeletes)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# lab_done: print the summary of this script; exit non-zero when something failed.
lab_done() {
	echo "# $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# ---- Helpers for t_robust / t_capacity (and anyone else).

# netctl_json HOST ARGS...: `netctl ARGS -o json` against HOST's shoald.
netctl_json() { local h=$1; shift; "$BUILD/netctl" --socket "$LAB_TMP/$h.sock" "$@" -o json; }

# shoald_field HOST FIELD: one field of HOST's `netctl status -o json` (empty when unreachable).
shoald_field() { netctl_json "$1" status 2>/dev/null | jq -r ".$2 // empty" 2>/dev/null; }

# workloads_json HOST: the workload list as one JSON array, whatever the list's envelope.
workloads_json() { netctl_json "$1" workload list 2>/dev/null | jq -c '[.[]? // .workloads[]?]' 2>/dev/null; }

# lab_wait SECONDS CMD...: run CMD every 0.1 s until it succeeds, for about SECONDS (however long
# CMD itself takes); 1 when it never did.
lab_wait() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(($(date +%s%N) / 1000000)) -lt "$end" ] || return 1
		sleep 0.1
	done
}

# ns_links NS: the link names of namespace NS (without @peer), sorted.
ns_links() { ip -n "$1" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort; }

# host_veths HOST: the shv veths in host namespace $LAB-HOST, sorted.
host_veths() { ns_links "$LAB-$1" | grep '^shv' || true; }

# ns_addr NS [IFNAME]: the IPv4 address/len of IFNAME (default eth0) in NS, empty when none.
ns_addr() { ip -n "$1" -4 -o addr show dev "${2:-eth0}" 2>/dev/null | awk '{print $4}' | head -1; }

# cni_code: the "code" of the CNI error object on stdin, empty when there is none.
cni_code() { jq -r 'select(type == "object") | .code // empty' 2>/dev/null; }

# cni_text: "msg" and "details" of the CNI error object on stdin, on one line.
cni_text() { jq -r 'select(type == "object") | "\(.msg // "") \(.details // "")"' 2>/dev/null; }

# log_mark HOST: the current length (lines) of HOST's shoald log; log_since HOST MARK: the lines
# written after that mark.
log_mark()  { cat "$LAB_TMP/shoald-$1.log" 2>/dev/null | wc -l; }
log_since() { tail -n "+$(($2 + 1))" "$LAB_TMP/shoald-$1.log" 2>/dev/null; }

# veth_name_hash CONTAINERID IFNAME: the host veth name candidate 0 (lib/names.c's FNV-1a), so a
# test can prove its precondition that two attachments collide on it.
veth_name_hash() {
	python3 - "$1" "$2" <<'PY'
import sys
def names_hash(data, seed):  # the seed is XORed into the FNV-1a basis, as in names_hash()
    h = 0xcbf29ce484222325 ^ seed
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h
h = names_hash(sys.argv[1].encode(), 0)
h = names_hash(b"\0", h)
h = names_hash(sys.argv[2].encode(), h)
print("shv%012x" % (h & 0xffffffffffff))
PY
}

# ---- Helpers for t_multihost (a shared underlay).

# lab_underlay: the "underlay" namespace $LAB-underlay with bridge br0 (198.18.0.254/24, the hosts'
# default gateway).  Prints its name.
lab_underlay() {
	local u
	u=$(lab_netns underlay) || return 1
	ip -n "$u" link add br0 type bridge && ip -n "$u" link set br0 up && ip -n "$u" addr add 198.18.0.254/24 dev br0 || return 1
	echo "$u"
}

# lab_underlay_join HOST ADDR [DEFAULT_ROUTE=1]: plug host namespace $LAB-HOST into the underlay's
# bridge with eth0 = ADDR/24 (and a default route via 198.18.0.254 unless DEFAULT_ROUTE=0).
lab_underlay_join() {
	local h=$LAB-$1 u=$LAB-underlay port=ul-$1
	ip -n "$u" link add "$port" type veth peer name eth0 netns "$h" || return 1
	ip -n "$u" link set "$port" master br0 up && ip -n "$h" link set eth0 up && ip -n "$h" addr add "$2/24" dev eth0 || return 1
	[ "${3:-1}" = 0 ] || ip -n "$h" route add default via 198.18.0.254
}

# peer_counts HOST [VNI]: "routes fdb neighbours" of shoal's per-peer entries on HOST: routes of
# protocol 75 (shoal's), FDB entries with a remote and permanent neighbours on shoal.VNI.
peer_counts() {
	local h=$LAB-$1 d=shoal.${2:-1}
	echo "$(ip -n "$h" route show proto 75 | wc -l) $(bridge -n "$h" fdb show dev "$d" 2>/dev/null | grep -c ' dst ') $(ip -n "$h" neigh show dev "$d" nud permanent 2>/dev/null | wc -l)"
}

# ping_ok CONTAINER ADDR: one ping from namespace $LAB-CONTAINER answered.
ping_ok() { ip netns exec "$LAB-$1" ping -c 1 -W 2 "$2"; }

# counts_are HOST "ROUTES FDB NEIGHBOURS": peer_counts HOST is exactly that.
counts_are() { [ "$(peer_counts "$1")" = "$2" ]; }

# vtep_mac HOST: the MAC address of shoal.1 on HOST.
vtep_mac() { ip -n "$LAB-$1" -o link show shoal.1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

# multihost_up CONF H3_UNDERLAY: hosts h1, h2, h3 (already on the underlay) each run shoald with
# the config fields CONF: h1 on the default route's device, h2 on "eth0", h3 on its address
# H3_UNDERLAY; each gets containers cNM (host N, container M = 1, 2), and every host must see its
# two peers.  1 (said with not_ok) when a shoald does not start.
multihost_up() {
	local h c
	shoald_conf h1 "$1" >/dev/null
	shoald_conf h2 "$1, \"underlay\": \"eth0\"" >/dev/null
	shoald_conf h3 "$1, \"underlay\": \"$2\"" >/dev/null
	for h in h1 h2 h3; do
		shoald_start "$h" || { not_ok "shoald $h starts"; return 1; }
	done
	for c in c11 c12 c21 c22 c31 c32; do
		check "ADD $c" container_add "h${c:1:1}" "$c"
	done
	for h in h1 h2 h3; do
		check "$h: two peers, each with route + FDB + neighbour" lab_wait 10 counts_are "$h" "2 2 2"
	done
}

# cross_pings CONTAINER...: every container pings every other one on another host (cNM is on hN);
# prints the pairs that failed (" a->b"), nothing when all answered.
cross_pings() {
	local a b bad=""
	for a in "$@"; do
		for b in "$@"; do
			[ "${a:1:1}" = "${b:1:1}" ] && continue
			ping_ok "$a" "$(container_ip "$b")" >/dev/null 2>&1 || bad="$bad $a->$b"
		done
	done
	echo "$bad"
}

# tcp_exchange FROM TO: 300000 bytes over TCP from container FROM to container TO (port 5001);
# prints "<the peer address TO saw> <bytes it received>".
tcp_exchange() {
	ip netns exec "$LAB-$2" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1); s.settimeout(10)
c, a = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.sendall(("%s %d" % (a[0], n)).encode()); c.close()
' >/dev/null 2>&1 &
	local srv=$!
	sleep 0.3
	ip netns exec "$LAB-$1" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 5001), timeout=10)
c.sendall(b"x" * 300000); c.shutdown(socket.SHUT_WR)
print(c.recv(100).decode())
' "$(container_ip "$2")" 2>&1
	wait "$srv" 2>/dev/null
}

# ---- Helpers for t_etcd (a real etcd: Debian's etcd-server).

# etcd_start NS NAME CLIENT_URL [etcd args...]: start /usr/bin/etcd inside namespace $LAB-NS,
# serving CLIENT_URL (http://ADDR:PORT or https://...), peers on 127.0.0.1:PORT+1, data in
# $LAB_TMP/etcd-NAME (kept, so a restart has the same data).  Waits until it serves; the pid is in
# ETCD_PID_NAME and in LAB_PIDS (lab_cleanup kills it).
etcd_start() {
	local ns=$LAB-$1 name=$2 url=$3; shift 3
	local peer=http://127.0.0.1:$((${url##*:} + 1)) log=$LAB_TMP/etcd-$name.log ready
	ready=$(grep -c "ready to serve client requests" "$log" 2>/dev/null)
	ip netns exec "$ns" etcd --name "$name" --data-dir "$LAB_TMP/etcd-$name" \
		--listen-client-urls "$url" --advertise-client-urls "$url" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$name=$peer" \
		"$@" >>"$log" 2>&1 &
	local pid=$!
	LAB_PIDS+=("$pid")
	eval "ETCD_PID_$name=$pid"
	for _ in $(seq 100); do
		[ "$(grep -c "ready to serve client requests" "$log")" -gt "${ready:-0}" ] && return 0
		kill -0 "$pid" 2>/dev/null || { echo "# etcd $name exited"; tail -5 "$log" | sed 's/^/#   /'; return 1; }
		sleep 0.1
	done
	echo "# etcd $name did not get ready"
	return 1
}

# etcd_stop NAME [SIGNAL]: stop the etcd etcd_start started as NAME and wait for it.
etcd_stop() {
	local v="ETCD_PID_$1" pid
	pid=${!v}
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}

# etcdctl_lab NS ENDPOINT ARGS...: etcdctl (API v3) from inside namespace $LAB-NS.
etcdctl_lab() { local ns=$LAB-$1 ep=$2; shift 2; ip netns exec "$ns" env ETCDCTL_API=3 etcdctl --endpoints="$ep" "$@"; }
