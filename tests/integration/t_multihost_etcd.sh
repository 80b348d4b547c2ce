#!/usr/bin/env bash
# Many hosts on a real etcd (Debian's etcd-server 3.4) in the lab's underlay namespace
# (docs/overlay.md "Tested failure behaviour"):
#   - 20 shoald started at the same moment on one etcd claim 20 distinct subnets;
#   - three hosts, two containers each: every container reaches every other across hosts, 1400
#     bytes with DF included;
#   - bad records under /shoal/subnets/ (garbage, truncated, a key outside the network, an invalid
#     MAC, a 2 MB value) are logged and skipped: no daemon dies, no good entry goes, and a daemon
#     restarted with them in the store still programs its peers;
#   - etcd stopped for 30 s: a ping every 0.2 s across hosts loses (almost) nothing, ADD and DEL
#     keep working, a host that joined before is still reachable, the leases are renewed after;
#   - a three-member etcd cluster: the member shoald talks to (the first endpoint) is killed:
#     shoald keeps serving and renewing its lease, a new container is added, a new host joins and
#     is programmed on the others.
. "$(dirname "$0")/lib.sh"

command -v etcd >/dev/null && command -v etcdctl >/dev/null || { not_ok "etcd and etcdctl installed (make deps)"; lab_done; exit 1; }

EP=198.18.0.254:2379
URL=etcd://$EP
CONF='"leaseTTL": 10, "reconcileInterval": 5'
ping_ok() { ip netns exec "$LAB-$1" ping -c 1 -W 2 "$2"; }
counts_are() { [ "$(peer_counts "$1")" = "$2" ]; }
has_subnet() { [ -n "$(shoald_field "$1" subnet)" ]; }
del_container() { cni_conf "$1" | cni DEL "$LAB-$2" "$(netns_path "$2")" eth0; }
ectl() { etcdctl_lab underlay "$EP" "$@"; }
# subnet_key HOST: HOST's subnet key in etcd (/shoal/subnets/a.b.c.d-len).
subnet_key() { echo "/shoal/subnets/$(shoald_field "$1" subnet | tr / -)"; }
# lease_of ENDPOINT KEY: the key's lease in hex, as etcdctl lease commands want it ("fields"
# output prints the 64-bit ID exactly; jq would round it).
lease_of() {
	local id
	id=$(etcdctl_lab underlay "$1" get "$2" -w fields | sed -n 's/^"Lease" : //p')
	[ -n "$id" ] && printf '%x\n' "$id"
}
# lease_ttl ENDPOINT LEASE_HEX: the lease's remaining TTL (-1 when it is gone).
lease_ttl() { etcdctl_lab underlay "$1" lease timetolive "$2" -w json 2>/dev/null | jq '.ttl // -1'; }
# lease_alive ENDPOINT KEY LEASE_HEX: KEY still exists, on that lease, and the lease lives.
lease_alive() { [ "$(lease_of "$1" "$2")" = "$3" ] && [ "$(lease_ttl "$1" "$3")" -gt 0 ]; }
# start_at_once HOST...: start shoald on every HOST at the same moment; STARTED = how many did.
start_at_once() {
	local h p pids=() okc=0
	for h in "$@"; do shoald_start "$h" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" && okc=$((okc + 1)); done
	# shoald_start ran in subshells: register the daemons here, for shoald_pid and lab_cleanup.
	for h in "$@"; do
		p=$(pgrep -f "shoald --config $LAB_TMP/$h.json") || continue
		LAB_PIDS+=("$p")
		eval "SHOALD_PID_$h=$p"
	done
	STARTED=$okc
}
# logged HOST MARK REGEX: HOST's log has a line matching REGEX after MARK.
logged() { log_since "$1" "$2" | grep -qE "$3"; }
# add HOST NAME: container_add, remembering where NAME lives for ping_all.
declare -A CHOST
add() { CHOST[$2]=$1; container_add "$1" "$2"; }
# ping_all C...: every container pings every container on another host; prints the failed pairs.
ping_all() {
	local a b bad=""
	for a in "$@"; do
		for b in "$@"; do
			[ "${CHOST[$a]}" = "${CHOST[$b]}" ] && continue
			ping_ok "$a" "$(container_ip "$b")" >/dev/null 2>&1 || bad="$bad $a->$b"
		done
	done
	echo "$bad"
}
veths_are() { [ "$(host_veths "$1" | wc -l)" -eq "$2" ]; }
all_have_subnet() { local h; for h in "$@"; do has_subnet "$h" || return 1; done; }

U=$(lab_underlay) || { not_ok "underlay"; lab_done; exit 1; }
# --max-request-bytes: etcd refuses requests over 1.5 MiB by default; the bad-input part stores a
# 2 MB value, as a misbehaving writer with a raised limit could.
etcd_start underlay main "http://$EP" --max-request-bytes 4194304 || { not_ok "etcd starts"; lab_done; exit 1; }

# ---- 20 daemons started at the same moment on one etcd (no containers)
hosts20=()
for i in $(seq -w 1 20); do
	lab_host "s$i" >/dev/null && lab_underlay_join "s$i" "198.18.0.$((100 + 10#$i))" || not_ok "host s$i"
	shoald_conf "s$i" "\"store\": \"$URL\", $CONF" >/dev/null
	hosts20+=("s$i")
done
t0=$(date +%s%N)
start_at_once "${hosts20[@]}"
expect_eq "20 shoald started at the same moment all serve" 20 "$STARTED"
echo "# 20 daemons at once: $((($(date +%s%N) - t0) / 1000000)) ms until every socket existed"
keys=$(ectl get --prefix --keys-only /shoal/subnets/ | grep .)
expect_eq "20 subnet keys under /shoal/subnets/" 20 "$(echo "$keys" | grep -c .)"
expect_eq "the 20 subnets are distinct" 20 "$(echo "$keys" | sort -u | grep -c .)"
expect_eq "the 20 records name 20 distinct nodes" 20 \
	"$(ectl get --prefix --print-value-only /shoal/subnets/ | jq -r .node | sort -u | grep -c '^s[0-9][0-9]$')"
held=$(ectl get --prefix /shoal/subnets/ -w json | jq -r '.kvs[] | "\(.value | @base64d | fromjson | .node) \(.key | @base64d)"' | sort)
served=$(for h in "${hosts20[@]}"; do echo "$h /shoal/subnets/$(shoald_field "$h" subnet | tr / -)"; done | sort)
expect_eq "each daemon serves the subnet etcd holds for it" "$held" "$served"
check "s01 programs its 19 peers" lab_wait 20 counts_are s01 "19 19 19"
# Done with them: stop, revoke their leases (their keys go with them), free the namespaces.
for h in "${hosts20[@]}"; do kill "$(shoald_pid "$h")" 2>/dev/null; done
for h in "${hosts20[@]}"; do shoald_stop "$h"; ip netns del "$LAB-$h"; done
for l in $(ectl lease list | grep -o '[0-9a-f]\{10,\}'); do ectl lease revoke "$l" >/dev/null; done
expect_eq "their keys are gone with their leases" 0 "$(ectl get --prefix --keys-only /shoal/subnets/ | grep -c .)"

# ---- three hosts, two containers each
for i in 1 2 3; do
	lab_host "h$i" >/dev/null && lab_underlay_join "h$i" "198.18.0.$i"
	shoald_conf "h$i" "\"store\": \"$URL\", $CONF" >/dev/null
	shoald_start "h$i" || { not_ok "shoald h$i starts"; lab_done; exit 1; }
done
for c in c11 c12 c21 c22 c31 c32; do check "ADD $c on h${c:1:1}" add "h${c:1:1}" "$c"; done
for h in h1 h2 h3; do check "$h: two peers programmed" lab_wait 10 counts_are "$h" "2 2 2"; done
expect_eq "every container pings every container on the other hosts" "" "$(ping_all c11 c12 c21 c22 c31 c32)"
check "1400-byte ping with DF set crosses hosts (c12 -> c31)" \
	ip netns exec "$LAB-c12" ping -c 1 -W 2 -M do -s 1400 "$(container_ip c31)"

# ---- bad records under the prefix: logged, skipped, nothing crashes, nothing good removed
used=$(ectl get --prefix --keys-only /shoal/subnets/)
free=()
for o in $(seq 250 -1 200); do grep -q "/10.244.$o.0-24$" <<<"$used" || free+=("10.244.$o.0-24"); done
pids_before=$(for h in h1 h2 h3; do shoald_pid "$h"; done | tr '\n' ' ')
counts_before=$(for h in h1 h2 h3; do peer_counts "$h"; done | tr '\n' ' ')
mark=$(log_mark h1)
k_garbage=/shoal/subnets/${free[0]}
k_trunc=/shoal/subnets/${free[1]}
k_mac=/shoal/subnets/${free[2]}
k_big=/shoal/subnets/${free[3]}
k_out=/shoal/subnets/10.99.0.0-24
now=$(date -u +%FT%TZ)
ectl put "$k_garbage" garbage >/dev/null
ectl put "$k_trunc" '{"node":"trunc","publicIP":"198.18.0.77","vtepM' >/dev/null
ectl put "$k_out" "{\"node\":\"outside\",\"publicIP\":\"198.18.0.78\",\"vtepMAC\":\"02:00:00:00:00:78\",\"created\":\"$now\"}" >/dev/null
ectl put "$k_mac" "{\"node\":\"badmac\",\"publicIP\":\"198.18.0.79\",\"vtepMAC\":\"02:zz:00:00:00:79\",\"created\":\"$now\"}" >/dev/null
head -c 2000000 /dev/zero | tr '\0' x >"$LAB_TMP/big"
check "etcd takes the 2 MB value" sh -c "ip netns exec $LAB-underlay env ETCDCTL_API=3 etcdctl --endpoints=$EP put $k_big <$LAB_TMP/big"
expect_eq "the five bad records are in etcd" 5 \
	"$(ectl get --prefix --keys-only /shoal/subnets/ | grep -cE "$k_garbage|$k_trunc|$k_out|$k_mac|$k_big")"
sleep 3   # the watch delivers them; a reconcile tick passes
for k in "$k_garbage" "$k_trunc" "$k_out" "$k_mac"; do
	check "h1 logs that it ignores ${k#/shoal/}" lab_wait 10 logged h1 "$mark" "ignoring store record ${k#/shoal/} "
done
check "h1 logs that it ignores the 2 MB record" lab_wait 10 logged h1 "$mark" "ignoring store record ${k_big#/shoal/} "
log_since h1 "$mark" | grep -v -e "$k_garbage" -e "$k_trunc" -e "$k_out" -e "$k_mac" | cut -c1-200 | head -8 | sed 's/^/# h1 log: /'
check "no log line carries the 2 MB value" test "$(log_since h1 "$mark" | wc -L)" -lt 4096
expect_eq "every shoald still runs, same pids" "$pids_before" \
	"$(for h in h1 h2 h3; do kill -0 "$(shoald_pid "$h")" 2>/dev/null && shoald_pid "$h"; done | tr '\n' ' ')"
expect_eq "no peer entry added or removed on any host" "$counts_before" "$(for h in h1 h2 h3; do peer_counts "$h"; done | tr '\n' ' ')"
check_fails "no entry for a bad record (198.18.0.77-79, 10.99.0.0) on h1" grep -qE '198\.18\.0\.7[789]|10\.99\.0\.0' \
	<<<"$(ip -n "$LAB-h1" route show proto 75; bridge -n "$LAB-h1" fdb show dev shoal.1)"
expect_eq "cross-host pings still work" "" "$(ping_all c11 c21 c31)"
shoald_stop h3
shoald_start h3 || not_ok "h3 restarts with the bad records in the store"
check "h3, restarted with the bad records in etcd, serves and has its two peers" lab_wait 10 counts_are h3 "2 2 2"
check "and c31 reaches c11" ping_ok c31 "$(container_ip c11)"
for k in "$k_garbage" "$k_trunc" "$k_out" "$k_mac" "$k_big"; do ectl del "$k" >/dev/null; done

# ---- a fourth host joins; then etcd is away for 30 s
lab_host h4 >/dev/null && lab_underlay_join h4 198.18.0.4
shoald_conf h4 "\"store\": \"$URL\", $CONF" >/dev/null
shoald_start h4 || not_ok "shoald h4 starts"
check "ADD c41 on h4" add h4 c41
for h in h1 h2 h3 h4; do check "$h: three peers after h4 joined" lab_wait 10 counts_are "$h" "3 3 3"; done
declare -A key lease
for h in h1 h2 h3 h4; do key[$h]=$(subnet_key "$h"); lease[$h]=$(lease_of "$EP" "${key[$h]}"); done
counts_before=$(for h in h1 h2 h3 h4; do peer_counts "$h"; done | tr '\n' ' ')
# c11 (h1) pings a container on each other host every 0.2 s for 48 s: the outage, etcd's return
# and the 13 s after it, when a lease renewal that comes too late would show.
pingers=()
for c in c21 c31 c41; do
	ip netns exec "$LAB-c11" ping -i 0.2 -c 240 -W 1 "$(container_ip "$c")" >"$LAB_TMP/outage-ping-$c.txt" 2>&1 &
	pingers+=($!)
done
sleep 2
# Every route change on every host while etcd is away and comes back.
for h in h1 h2 h3 h4; do
	ip -n "$LAB-$h" monitor route >"$LAB_TMP/monitor-$h.txt" 2>&1 &
	LAB_PIDS+=($!)
	eval "MON_$h=$!"
done
mark=$(log_mark h1)
t0=$SECONDS
etcd_stop main
sleep 3
check "without etcd: status answers on every host" all_have_subnet h1 h2 h3 h4
check "without etcd: ADD c13 on h1" add h1 c13
check "without etcd: the new container reaches c21 and c41" \
	sh -c "ip netns exec $LAB-c13 ping -c1 -W2 $(container_ip c21) && ip netns exec $LAB-c13 ping -c1 -W2 $(container_ip c41)"
check "without etcd: DEL c13" del_container h1 c13
check "without etcd: c13's veth is gone from h1, the others stay" lab_wait 10 veths_are h1 2
check "without etcd: c11 reaches c41 (h4 joined before the outage)" ping_ok c11 "$(container_ip c41)"
check "without etcd: h1 says the store is unreachable" logged h1 "$mark" "etcd $EP is unreachable"
sleep $((30 - (SECONDS - t0)))
etcd_start underlay main "http://$EP" --max-request-bytes 4194304 || not_ok "etcd restarts"
echo "# etcd was away for $((SECONDS - t0)) s"
check "etcd back: h1 says so" lab_wait 20 grep -q "etcd $EP is reachable again" "$LAB_TMP/shoald-h1.log"
# etcd's restart itself extends every lease by its TTL; only renewals keep one alive past that.
sleep 13
wait "${pingers[@]}"
for c in c21 c31 c41; do
	sent=$(grep -o '[0-9]* packets transmitted' "$LAB_TMP/outage-ping-$c.txt" | cut -d' ' -f1)
	got=$(grep -o '[0-9]* received' "$LAB_TMP/outage-ping-$c.txt" | cut -d' ' -f1)
	check "c11 -> $c every 0.2 s through the outage and after: at most 2 of ${sent:-0} lost (got ${got:-0})" \
		test "${got:-0}" -ge 238
done
for h in h1 h2 h3 h4; do
	if lease_alive "$EP" "${key[$h]}" "${lease[$h]}"; then
		ok "etcd back: $h's subnet key and lease ${lease[$h]} alive after 13 s (renewed)"
	else
		not_ok "etcd back: $h's subnet key and lease ${lease[$h]} alive after 13 s (renewed)"
		echo "#   ${key[$h]} is on lease $(lease_of "$EP" "${key[$h]}"); lease ${lease[$h]} has ttl $(lease_ttl "$EP" "${lease[$h]}")"
		grep -E 'lease|reachable' "$LAB_TMP/shoald-$h.log" | tail -n 4 | cut -c1-200 | sed "s/^/#   $h: /"
	fi
done
for h in h1 h2 h3 h4; do v=MON_$h; kill "${!v}"; done
deleted=$(cat "$LAB_TMP"/monitor-h*.txt | grep '^Deleted .*proto 75' | cut -d' ' -f2 | sort -u | tr '\n' ' ')
expect_eq "no host removed a peer's route at any time during or after the outage" "" "$deleted"
expect_eq "etcd back: no peer entry lost or duplicated" "$counts_before" "$(for h in h1 h2 h3 h4; do peer_counts "$h"; done | tr '\n' ' ')"
check "etcd back: c41 and c31 still reachable from c12" \
	sh -c "ip netns exec $LAB-c12 ping -c1 -W2 $(container_ip c41) && ip netns exec $LAB-c12 ping -c1 -W2 $(container_ip c31)"
check "etcd back: ADD c14 on h1" add h1 c14
# The others are not needed any more; the cluster part runs on its own hosts.
for h in h1 h2 h3 h4; do shoald_stop "$h"; done

# ---- a three-member etcd cluster; the member shoald talks to dies
members=""
for i in 1 2 3; do
	ip -n "$U" addr add "198.18.0.25$i/24" dev br0
	members="$members${members:+,}m$i=http://198.18.0.25$i:2380"
done
for i in 1 2 3; do
	ip netns exec "$U" etcd --name "m$i" --data-dir "$LAB_TMP/etcd-m$i" \
		--listen-client-urls "http://198.18.0.25$i:2379" --advertise-client-urls "http://198.18.0.25$i:2379" \
		--listen-peer-urls "http://198.18.0.25$i:2380" --initial-advertise-peer-urls "http://198.18.0.25$i:2380" \
		--initial-cluster "$members" --initial-cluster-state new --initial-cluster-token "$LAB" \
		>>"$LAB_TMP/etcd-m$i.log" 2>&1 &
	LAB_PIDS+=($!)
	eval "ETCD_PID_m$i=$!"
done
EPS=198.18.0.251:2379,198.18.0.252:2379,198.18.0.253:2379
EP2=198.18.0.252:2379,198.18.0.253:2379
check "the three-member cluster is healthy" lab_wait 30 sh -c "ip netns exec $LAB-underlay env ETCDCTL_API=3 etcdctl --endpoints=$EPS endpoint health"
for h in k1 k2 k3; do
	lab_host "$h" >/dev/null && lab_underlay_join "$h" "198.18.0.$((30 + ${h:1}))"
	shoald_conf "$h" "\"store\": \"etcd://$EPS\", $CONF" >/dev/null
done
start_at_once k1 k2
expect_eq "k1 and k2 start on the cluster" 2 "$STARTED"
check "ADD ck1 on k1" add k1 ck1
check "ADD ck2 on k2" add k2 ck2
check "ck1 reaches ck2" lab_wait 10 ping_ok ck1 "$(container_ip ck2)"
kkey=$(subnet_key k1)
klease=$(lease_of "$EP2" "$kkey")
pid_k1=$(shoald_pid k1)
mark=$(log_mark k1)
# bash reports a job killed by SIGKILL on the shell's own stderr: silenced while m1 is reaped.
exec 4>&2 2>/dev/null
etcd_stop m1 KILL
wait "$ETCD_PID_m1"
exec 2>&4 4>&-
t0=$SECONDS
check "member m1 (the first endpoint) is dead" test "$(ip netns exec "$U" env ETCDCTL_API=3 etcdctl --endpoints=198.18.0.251:2379 --dial-timeout=1s endpoint health >/dev/null 2>&1; echo $?)" -ne 0
# Keep-alives every leaseTTL/3: after 1.6 TTLs a lease that was not renewed would have expired,
# even if m1 was the leader (a new leader extends every lease once, by its TTL).
stale=0 samples=0
while [ $((SECONDS - t0)) -lt 16 ]; do
	has_subnet k1 || stale=$((stale + 100))
	lease_alive "$EP2" "$kkey" "$klease" || stale=$((stale + 1))
	samples=$((samples + 1))
	sleep 2
done
echo "# $samples samples over 16 s after m1 died: last TTL $(lease_ttl "$EP2" "$klease") s of 10"
expect_eq "for 16 s without m1: k1 serves and its lease $klease stays alive" 0 "$stale"
check "k1 says m1 is unreachable" logged k1 "$mark" "etcd 198.18.0.251:2379 is unreachable"
check "ADD ck1b on k1 without m1" add k1 ck1b
check "ck1b reaches ck2" ping_ok ck1b "$(container_ip ck2)"
check "k3 (m1 first in its list) joins without m1" shoald_start k3
check "ADD ck3 on k3" add k3 ck3
for h in k1 k2 k3; do check "$h: two peers with k3 in" lab_wait 10 counts_are "$h" "2 2 2"; done
expect_eq "ck3 and the others reach each other" "" "$(ping_all ck1 ck2 ck3)"
expect_eq "k1 is still the same process" "$pid_k1" "$(pgrep -f "shoald --config $LAB_TMP/k1.json")"
# Both remaining members at once: one alone waits for its lost peer before it exits.
kill "$ETCD_PID_m2" "$ETCD_PID_m3"
{ wait "$ETCD_PID_m2" "$ETCD_PID_m3"; } 2>/dev/null

for f in "$LAB_TMP"/shoald-*.log; do
	h=$(basename "$f" .log); h=${h#shoald-}
	check "no failed peer changes in $h's log" sh -c "! grep -E 'failed to (add|delete)' $f"
done
lab_done
