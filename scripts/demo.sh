#!/usr/bin/env bash
# make demo: three simulated hosts (network namespaces, so nothing on this machine changes) on an
# underlay bridge, a real etcd, one shoald per host; a container on each host attached through the
# real CNI plugin, pings across hosts over VXLAN, `netctl subnet list`; two workloads with different
# guarantees and priorities share host1's bandwidth (iperf3 across hosts, rates printed each second);
# a host-network job in a cgroup and a pod share host1's link, each keeping its guarantee as the
# other floods (cgroup quota: BPF classifiers on the uplink); then one host leaves and the others
# forget it; everything torn down.
set -u
cd "$(dirname "$0")/.." || exit 1
B=$PWD/${B:-build}
P=shoal-demo-$$
TMP=$(mktemp -d /tmp/$P.XXXX)
EP=198.18.0.254:2379
PIDS=()
CGMNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
JOBCG=${CGMNT:+$CGMNT/$P-job}
cleanup() {
	local p
	if [ -n "$JOBCG" ] && [ -d "$JOBCG" ]; then
		xargs -r kill -KILL <"$JOBCG/cgroup.procs" 2>/dev/null
		sleep 0.2
		rmdir "$JOBCG" 2>/dev/null || echo "could not remove cgroup $JOBCG"
	fi
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
		ip netns pids "$ns" | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (it creates network namespaces)"; exit 1; }
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "make demo needs etcd and etcdctl (Debian: apt-get install etcd-server etcd-client;"
	echo "scripts/install-deps.sh installs them). Nothing was changed."
	exit 1
fi
etcdctl() { ip netns exec "$P-underlay" env ETCDCTL_API=3 etcdctl --endpoints="$EP" "$@"; }
netctl() { local h=$1; shift; "$B/netctl" --socket "$TMP/$h.sock" "$@"; }
routes() {   # routes HOST: shoal's routes to its peers, and how many FDB entries and neighbours back them
	ip -n "$P-$1" route show proto 75 | sed "s/^/  $1: /"
	printf '  %s: %d FDB entries, %d neighbours on shoal.1\n' "$1" "$(bridge -n "$P-$1" fdb show dev shoal.1 | grep -c ' dst ')" \
		"$(ip -n "$P-$1" neigh show dev shoal.1 nud permanent | wc -l)"
}
n_routes() { [ "$(ip -n "$P-$1" route show proto 75 | wc -l)" -eq "$2" ]; }
conf() { echo '{"cniVersion":"1.1.0","name":"demo","type":"shoal","socket":"'"$TMP/$1.sock"'","stateDir":"'"$TMP/state-$1"'"'"${RC:+,\"runtimeConfig\": $RC}"'}'; }
cni() {   # cni CMD HOST CONTAINER  (RC=JSON: a runtimeConfig, as a runtime passes capabilities)
	conf "$2" | CNI_COMMAND=$1 CNI_CONTAINERID="$P-$3" CNI_NETNS="/var/run/netns/$P-$3" CNI_IFNAME=eth0 \
		CNI_PATH="$B" "$B/shoal"
}
# settle HOST: wait until HOST's shoald has finished deferred deletions (a DEL completes in the background).
settled() { [ "$(netctl "$1" status -o json | jq .pendingDeletes)" = 0 ]; }
settle() { wait_for 10 settled "$1"; }
ip_of() { jq -r '.ips[0].address' "$TMP/$1.json" | cut -d/ -f1; }
# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() { local n=$(($1 * 10)); shift; while ! "$@" >/dev/null 2>&1; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done; }

step "The underlay: namespace $P-underlay, bridge br0 198.18.0.254/24, etcd on $EP"
ip netns add "$P-underlay"
ip -n "$P-underlay" link set lo up
ip -n "$P-underlay" link add br0 type bridge
ip -n "$P-underlay" link set br0 up
ip -n "$P-underlay" addr add 198.18.0.254/24 dev br0
ip netns exec "$P-underlay" etcd --name demo --data-dir "$TMP/etcd" \
	--listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster demo=http://127.0.0.1:2380 >"$TMP/etcd.log" 2>&1 &
PIDS+=($!)
wait_for 10 etcdctl endpoint health || { echo "etcd did not start:"; tail -5 "$TMP/etcd.log"; exit 1; }
echo "  etcd $(etcd --version | sed -n 's/^etcd Version: //p') is serving"

hosts="host1 host2 host3"
step "Three simulated hosts, each a namespace on the underlay with its own shoald"
i=0
for h in $hosts; do
	i=$((i + 1))
	ip netns add "$P-$h"
	ip -n "$P-$h" link set lo up
	ip -n "$P-underlay" link add "ul-$h" type veth peer name eth0 netns "$P-$h"
	ip -n "$P-underlay" link set "ul-$h" master br0 up
	ip -n "$P-$h" link set eth0 up
	ip -n "$P-$h" addr add "198.18.0.$i/24" dev eth0
	ip -n "$P-$h" route add default via 198.18.0.254
	ip netns exec "$P-$h" sysctl -qw net.ipv4.ip_forward=1
	bw=""
	[ "$h" = host1 ] && bw=', "bandwidth": {"ingress": "200mbit", "egress": "200mbit"}'
	cat >"$TMP/$h.json" <<-EOC
	{ "node": "$h", "store": "etcd://$EP", "network": "10.244.0.0/16", "subnetLen": 24, "leaseTTL": 30,
	  "stateDir": "$TMP/state-$h", "socket": "$TMP/$h.sock"$bw }
	EOC
	# nsenter, not `ip netns exec`: that remounts /sys privately and hides the cgroup v2 mount that
	# the cgroup quotas of host1 need.
	nsenter --net="/var/run/netns/$P-$h" "$B/shoald" --config "$TMP/$h.json" 2>"$TMP/$h.log" &
	PIDS+=($!)
	eval "PID_$h=$!"
done
cat "$TMP/host1.json"
for h in $hosts; do
	wait_for 10 test -S "$TMP/$h.sock" || { echo "shoald on $h did not start:"; tail -5 "$TMP/$h.log"; exit 1; }
	printf '  %s: 198.18.0.%s, shoald claimed %s\n' "$h" "${h#host}" "$(netctl "$h" status -o json | jq -r .subnet)"
done

step "netctl subnet list (on host1): the cluster, as etcd holds it"
netctl host1 subnet list
echo
etcdctl get --prefix --keys-only /shoal/subnets/ | grep . | sed 's/^/  etcdctl: /'

step "One container per host through the CNI plugin (CNI_COMMAND=ADD, config on stdin)"
set -- web host1 api host2 db host3
while [ $# -gt 0 ]; do
	ip netns add "$P-$1"
	cni ADD "$2" "$1" >"$TMP/$1.json" || { cat "$TMP/$1.json"; exit 1; }
	printf '  %-4s on %s -> %s\n' "$1" "$2" "$(ip_of "$1")"
	shift 2
done

step "Ping across hosts (VXLAN over the underlay)"
for h in $hosts; do wait_for 10 n_routes "$h" 2; done
for pair in "web api" "api db" "db web"; do
	set -- $pair
	if ip netns exec "$P-$1" ping -c1 -W2 "$(ip_of "$2")" >/dev/null; then
		printf '  %-4s -> %-4s (%s): ok\n' "$1" "$2" "$(ip_of "$2")"
	else
		printf '  %-4s -> %-4s (%s): FAILED\n' "$1" "$2" "$(ip_of "$2")"; exit 1
	fi
done

step "Bandwidth: host1 shapes 200 Mbit/s each way; web and batch on host1 both send to api on host2"
ip netns add "$P-batch"
RC='{"bandwidth": {"egressGuarantee": 40000000, "priority": 2}}' cni ADD host1 batch >"$TMP/batch.json" ||
	{ cat "$TMP/batch.json"; exit 1; }
echo "  batch on host1 -> $(ip_of batch): egress guarantee 40 Mbit/s, priority 2 (CNI runtimeConfig.bandwidth)"
echo "  \$ netctl quota set web --egress-guarantee 150mbit --priority 0"
netctl host1 quota set "$P-web" --egress-guarantee 150mbit --priority 0 | sed 's/^/    /'
netctl host1 status | grep -E '^(Ingress|Egress):' | sed 's/^/  /'
for port in 5201 5202; do
	ip netns exec "$P-api" iperf3 -s -1 -p "$port" -J >"$TMP/iperf-$port.json" 2>&1 &
done
sleep 0.5
echo "  batch sends for 12 s; web sends from second 4 to 8 (TCP, iperf3; receiver-side Mbit/s):"
ip netns exec "$P-batch" iperf3 -c "$(ip_of api)" -p 5201 -t 12 >/dev/null 2>&1 &
b=$!
sleep 4
ip netns exec "$P-web" iperf3 -c "$(ip_of api)" -p 5202 -t 4 >/dev/null 2>&1
wait "$b"
sleep 0.5
# Whole seconds only (a server's last interval is the remainder of a second).
jq -r '.intervals[:12][].sum.bits_per_second / 1e6 | floor' "$TMP/iperf-5201.json" >"$TMP/batch.rates" 2>/dev/null
jq -r '.intervals[:4][].sum.bits_per_second / 1e6 | floor' "$TMP/iperf-5202.json" >"$TMP/web.rates" 2>/dev/null
printf '  %-8s %16s %16s\n' second "batch (g 40, p2)" "web (g 150, p0)"
i=0
while read -r r; do
	w=$(sed -n "$((i - 3))p" "$TMP/web.rates" 2>/dev/null)
	[ "$i" -lt 4 ] && w=""
	printf '  %-8s %16s %16s\n' "$i-$((i + 1))" "$r" "${w:--}"
	i=$((i + 1))
done <"$TMP/batch.rates"
echo "  Alone, batch borrows the idle link (~191 of 200 Mbit/s of TCP goodput); when web starts it"
echo "  gets its 150 plus the spare first (priority 0) and batch keeps its guaranteed 40; when web"
echo "  stops, batch borrows everything again at once."
cni DEL host1 batch >/dev/null && echo "  DEL batch: ok"

step "A host-network job in a cgroup and a pod share host1's link (200 Mbit/s each way)"
if [ -z "$CGMNT" ]; then
	echo "  skipped: no cgroup v2 mounted on this machine (see /proc/mounts)"
else
	# cgphase DIR NAME JOB POD: one phase; the job (a process in cgroup $P-job, in host1's own network
	# namespace) talks to host2 itself, the pod to api on host2 (over VXLAN); -R for ingress.  3 s
	# measured (-O 1), receiver side, Mbit/s to $TMP/cg-DIR-NAME-{job,pod}.
	cgphase() {
		local rev="" j="" p=""
		[ "$1" = ingress ] && rev=-R
		if [ "$3" = 1 ]; then
			sh -c "echo \$\$ >'$JOBCG/cgroup.procs' && exec ip netns exec '$P-host1' iperf3 -c 198.18.0.2 -p 5302 -t 4 -O 1 $rev -J" \
				>"$TMP/cg-$1-$2-job.json" 2>&1 &
			j=$!
		fi
		if [ "$4" = 1 ]; then
			ip netns exec "$P-pod" iperf3 -c "$(ip_of api)" -p 5301 -t 4 -O 1 $rev -J >"$TMP/cg-$1-$2-pod.json" 2>&1 &
			p=$!
		fi
		[ -z "$j" ] || wait "$j"
		[ -z "$p" ] || wait "$p"
	}
	cgrate() { jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | round / 10' "$TMP/cg-$1-$2-$3.json" 2>/dev/null || echo "?"; }
	echo "  \$ netctl quota set web --egress-guarantee default --priority default   (web's 150 back to the pool)"
	netctl host1 quota set "$P-web" --egress-guarantee default --priority default >/dev/null
	ip netns add "$P-pod"
	RC='{"bandwidth": {"egressGuarantee": 120000000, "ingressGuarantee": 120000000}}' cni ADD host1 pod >"$TMP/pod.json" ||
		{ cat "$TMP/pod.json"; exit 1; }
	echo "  pod on host1 -> $(ip_of pod): guarantee 120 Mbit/s each way (CNI runtimeConfig.bandwidth)"
	mkdir "$JOBCG"
	echo "  \$ netctl quota set --cgroup $P-job --egress-guarantee 60mbit --ingress-guarantee 60mbit"
	netctl host1 quota set --cgroup "$P-job" --egress-guarantee 60mbit --ingress-guarantee 60mbit | sed 's/^/    /'
	echo "  the classifiers on host1's uplink eth0 (the job's packets go to the same HTB trees as the pod's):"
	for hook in egress ingress; do
		tc -n "$P-host1" filter show dev eth0 "$hook" | awk -v h="$hook" '
			/ handle / { for (i = 1; i <= NF; i++) if ($i == "handle") n = $(i + 2) }
			/mirred/ { sub(/^[ \t]*action order [0-9]+: /, ""); sub(/ stolen$/, ""); m = $0 }
			END { printf "    %-8s cls_bpf %s -> %s\n", h ":", n, m }'
	done
	netctl host1 workload list | sed 's/^/    /'
	ip netns exec "$P-api" iperf3 -s -p 5301 -D
	ip netns exec "$P-host2" iperf3 -s -p 5302 -D
	sleep 0.3
	for dir in egress ingress; do
		cgphase "$dir" 1 1 0; cgphase "$dir" 2 1 1; cgphase "$dir" 3 0 1
	done
	# Expected class rates: alone, the whole 200 (borrowed); together, each its guarantee plus a share
	# of the spare 20 in proportion to its guarantee (docs/bandwidth.md, quanta): 133.3 and 66.7.
	# TCP goodput is about 0.956 x the class rate (TESTING.md).
	echo "  Each phase 4 s (the first second not counted), TCP, receiver side; Mbit/s (expected goodput, 0.956 x the class rate):"
	printf '  %-28s %-9s %18s %18s\n' phase direction "job (cgroup, g 60)" "pod (g 120)"
	for dir in egress ingress; do
		printf '  %-28s %-9s %9s %-8s %18s\n' "1: the job floods alone" "$dir" "$(cgrate "$dir" 1 job)" "(191)" "-"
		printf '  %-28s %-9s %9s %-8s %9s %-8s\n' "2: the pod floods too" "$dir" "$(cgrate "$dir" 2 job)" "(64)" "$(cgrate "$dir" 2 pod)" "(127)"
		printf '  %-28s %-9s %18s %9s %-8s\n' "3: the pod alone" "$dir" "-" "$(cgrate "$dir" 3 pod)" "(191)"
	done
	echo "  Alone, the job borrows the whole idle link; with the pod flooding too each keeps its guarantee"
	echo "  and the spare 20 is split 2:1 like the guarantees; alone, the pod borrows everything."
	netctl host1 quota delete --cgroup "$P-job" >/dev/null && echo "  quota delete --cgroup $P-job: ok"
	rmdir "$JOBCG"
	cni DEL host1 pod >/dev/null && echo "  DEL pod: ok"
fi

step "Before host3 leaves: the routes host1 and host2 keep for their peers (ip route show proto 75)"
routes host1; routes host2

if "$B/shoald" --help | grep -q -- '--cleanup'; then
	step "host3 leaves: DEL its container, stop its shoald, shoald --cleanup"
	cni DEL host3 db && echo "  DEL db: ok"
	settle host3
	kill "$PID_host3"; wait "$PID_host3" 2>/dev/null
	ip netns exec "$P-host3" "$B/shoald" --config "$TMP/host3.json" --cleanup 2>&1 |
		grep -E 'route|VXLAN|store|--cleanup:' | sed 's/^/  cleanup | /'
else
	step "host3 leaves: DEL its container, stop its shoald, delete its subnet key and lease in etcd"
	cni DEL host3 db && echo "  DEL db: ok"
	settle host3
	key=/shoal/subnets/$(netctl host3 status -o json | jq -r .subnet | tr / -)
	lease=$(etcdctl get "$key" -w fields | sed -n 's/^"Lease" : //p')
	kill "$PID_host3"; wait "$PID_host3" 2>/dev/null
	etcdctl del "$key" | sed "s|^|  etcdctl del $key: |"
	etcdctl lease revoke "$(printf %x "$lease")" | sed 's/^/  etcdctl: /'
fi

step "After: host1 and host2 forgot host3 (its route, FDB entry and neighbour are gone)"
for h in host1 host2; do
	wait_for 10 n_routes "$h" 1 || { echo "  $h still has host3's route"; exit 1; }
done
routes host1; routes host2
echo
netctl host1 subnet list
echo
if ip netns exec "$P-web" ping -c1 -W2 "$(ip_of api)" >/dev/null; then echo "  web -> api: still ok"; else echo "  web -> api: FAILED"; exit 1; fi

step "Tear down: CNI DEL, stop shoald and etcd, remove the namespaces"
cni DEL host1 web && echo "  DEL web: ok"
cni DEL host2 api && echo "  DEL api: ok"
echo
echo "Demo complete: three hosts on etcd, containers pinged across hosts, two workloads shared host1's"
echo "bandwidth by guarantee and priority, host3 left and was forgotten."
