#!/usr/bin/env bash
# Many hosts, as an operator sees and manages them (docs/netctl.md): three hosts on one underlay
# sharing a store (the file store, then etcd when /usr/bin/etcd exists), with short leases.
#   subnet list    every lease with its time left and whether its host still renews it
#   host list      the peers a host programmed
#   network show   the store's network config and this host's part in it
#   a host killed with -9: its lease shows live no, then vanishes, and so do its routes
#   subnet release refuses a live lease without --force and frees it with it
#   node leave     the lease vanishes everywhere, ADD is refused with a clear message, existing
#                  containers keep their gateway, a restart rejoins with the same subnet
. "$(dirname "$0")/lib.sh"

CONF='"leaseTTL": 10, "reconcileInterval": 2'
ctl() { local h=$1; shift; "$BUILD/netctl" --socket "$LAB_TMP/$h.sock" "$@"; }
subnets() { netctl_json "$1" subnet list 2>/dev/null; }
# lease HOST NODE FIELD: one field of NODE's lease as HOST lists it ("none" without the lease)
lease() { subnets "$1" | jq -r --arg n "$2" "[.[] | select(.node == \$n) | .$3 | tostring][0] // \"none\""; }
n_live() { subnets "$1" | jq '[.[] | select(.live == true and .expiresIn > 0 and .leaseTTL == 10)] | length'; }
# entries HOST SUBNET: the route, neighbour and FDB entries HOST has for SUBNET ("" when none)
entries() {
	local h=$LAB-$1 net=${2%/*}
	ip -n "$h" route show proto 75 | grep "^$2 "
	ip -n "$h" neigh show nud permanent 2>/dev/null | grep "^$net "
}
gone_from() { [ -z "$(entries "$1" "$2")" ]; }
has_entries() { [ -n "$(entries "$1" "$2")" ]; }
# Conditions for lab_wait, evaluated afresh on every try.
lease_is() { [ "$(lease "$1" "$2" "$3")" = "$4" ]; }
n_live_is() { [ "$(n_live "$1")" = "$2" ]; }
programmed_are() {
	[ "$(netctl_json "$1" host list | jq -c '[.[] | select(.programmed and .mode == "vxlan") | .node] | sort')" = "$2" ]
}
counts_are() { [ "$(peer_counts "$1" "$2")" = "$3" ]; }
ping_ok() { ip netns exec "$LAB-$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

U=$(lab_underlay) || { not_ok "underlay"; lab_done; exit 1; }

# cluster P BASE VNI STORE: hosts P1..P3 at 198.18.0.BASE+1..3, containers Pc1..Pc3.
cluster() {
	local p=$1 base=$2 vni=$3 store=$4 h1=${1}1 h2=${1}2 h3=${1}3 i out rc s1 s2 s3
	echo "# --- $p: store $store"
	for i in 1 2 3; do
		lab_host "$p$i" >/dev/null
		lab_underlay_join "$p$i" "198.18.0.$((base + i))"
		shoald_conf "$p$i" "$CONF, \"vni\": $vni, \"store\": \"$store\"" >/dev/null
		shoald_start "$p$i" || { not_ok "$p: shoald $p$i starts"; return 1; }
		check "$p: ADD ${p}c$i" container_add "$p$i" "${p}c$i"
	done
	s1=$(lease "$h1" "$h1" subnet) s2=$(lease "$h1" "$h2" subnet) s3=$(lease "$h1" "$h3" subnet)

	# --- subnet list: three live leases, each with its own time left
	check "$p: subnet list shows three live leases with time left" lab_wait 10 n_live_is "$h1" 3
	out=$(ctl "$h1" subnet list)
	check "$p: the table has EXPIRES and LIVE columns" grep -q '^SUBNET .*EXPIRES *LIVE *SELF$' <<<"$out"
	check "$p: h1's own row says live yes, self yes" grep -Eq "^$s1 +$h1 +198\.18\.0\.$((base + 1)) .* yes +yes$" <<<"$out"
	expect_eq "$p: the VTEP MAC h3 published is its shoal.$vni's" \
		"$(ip -n "$LAB-$h3" -o link show "shoal.$vni" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)" \
		"$(lease "$h1" "$h3" vtepMAC)"

	# --- host list: the peers h1 programmed
	check "$p: h1 programmed h2 and h3 (vxlan)" lab_wait 10 programmed_are "$h1" "[\"$h2\",\"$h3\"]"
	check "$p: host list table shows PROGRAMMED yes for h3" \
		grep -Eq "^$h3 +$s3 +198\.18\.0\.$((base + 3)) .* vxlan +yes +-$" <<<"$(ctl "$h1" host list)"

	# --- network show
	out=$(netctl_json "$h2" network show)
	expect_eq "$p: network show: the store's config" "10.244.0.0/16 24 $vni 8472" \
		"$(jq -r '"\(.config.network) \(.config.subnetLen) \(.config.vni) \(.config.port)"' <<<"$out")"
	expect_eq "$p: network show: h2's view" "$s2 eth0 198.18.0.$((base + 2)) shoal.$vni 1450 false" \
		"$(jq -r '.node | "\(.subnet) \(.underlay) \(.underlayIP) \(.vxlanDevice) \(.mtu) \(.directRouting)"' <<<"$out")"
	check "$p: network show as a table" grep -q "^VXLAN device: *shoal.$vni$" <<<"$(ctl "$h2" network show)"

	# --- h3 killed: not live within a TTL, then gone, and its routes with it
	shoald_stop "$h3" KILL
	check "$p: h3's lease shows live no (still there, time left shrinking)" lab_wait 12 lease_is "$h1" "$h3" live false
	check "$p: h3's lease vanishes when it expires" lab_wait 15 lease_is "$h1" "$h3" subnet none
	check "$p: h1 removed h3's entries" lab_wait 10 gone_from "$h1" "$s3"

	# --- subnet release: h3 back, killed again; its lease is still live for a few seconds
	shoald_start "$h3" || not_ok "$p: shoald h3 restarts"
	check "$p: h3 rejoined with its subnet" lab_wait 10 lease_is "$h1" "$h3" subnet "$s3"
	check "$p: h1 programmed h3 again" lab_wait 10 has_entries "$h1" "$s3"
	shoald_stop "$h3" KILL
	out=$(ctl "$h1" subnet release "$s3" 2>&1); rc=$?
	expect_eq "$p: release of a live lease without --force exits 1" 1 "$rc"
	check "$p: ... saying it is live and what --force does" grep -q 'live.*--force' <<<"$out"
	expect_eq "$p: ... and the lease is still there" "$s3" "$(lease "$h1" "$h3" subnet)"
	out=$(ctl "$h1" subnet release "$s3" --force 2>&1); rc=$?
	expect_eq "$p: release --force exits 0" 0 "$rc"
	check "$p: ... and says what it released" grep -q "released subnet $s3 of node $h3" <<<"$out"
	expect_eq "$p: the lease is gone at once" none "$(lease "$h2" "$h3" subnet)"
	check "$p: h1 forgot h3" lab_wait 5 gone_from "$h1" "$s3"
	check "$p: h2 forgot h3" lab_wait 5 gone_from "$h2" "$s3"
	out=$(ctl "$h1" subnet release "$s1" 2>&1); rc=$?
	check "$p: releasing this node's own subnet is refused, pointing at node leave" \
		test "$rc" = 1 -a -n "$(grep 'node leave' <<<"$out")"
	check_fails "$p: releasing a subnet nobody holds fails" ctl "$h1" subnet release 10.244.254.0/24
	shoald_start "$h3" || not_ok "$p: shoald h3 restarts"
	check "$p: h3 is back and live" lab_wait 10 lease_is "$h1" "$h3" live true

	# --- node leave on h2
	check "$p: h3 programmed h2 before it leaves" lab_wait 10 has_entries "$h3" "$s2"
	out=$(ctl "$h2" node leave 2>&1); rc=$?
	expect_eq "$p: node leave exits 0" 0 "$rc"
	check "$p: ... and says the node left" grep -q "node $h2 left the cluster" <<<"$out"
	expect_eq "$p: h2's lease vanished from the store at once" none "$(lease "$h1" "$h2" subnet)"
	check "$p: h1 removed h2's route and neighbour" lab_wait 5 gone_from "$h1" "$s2"
	check "$p: h3 removed h2's route and neighbour" lab_wait 5 gone_from "$h3" "$s2"
	check "$p: h1 has no FDB entry to h2 any more" lab_wait 5 sh -c \
		"! bridge -n $LAB-$h1 fdb show dev shoal.$vni | grep -q 'dst 198.18.0.$((base + 2)) '"
	check "$p: h2 removed its own peer entries" lab_wait 5 counts_are "$h2" "$vni" "0 0 0"
	container_add "$h2" "${p}c2b"; rc=$?
	check "$p: h2 refuses ADD with a clear error" \
		test "$rc" != 0 -a -n "$(cni_text <"$LAB_TMP/${p}c2b.result" | grep 'left the cluster; restart shoald to rejoin or run shoald --cleanup')"
	check "$p: h2's existing container still reaches its gateway" \
		ping_ok "${p}c2" "$(jq -r '.ips[0].gateway' "$LAB_TMP/${p}c2.result")"
	expect_eq "$p: h2's status says it left" true "$(shoald_field "$h2" left)"
	sleep 4   # more than one renewal interval: a left node renews and re-claims nothing
	expect_eq "$p: h2 did not claim its subnet again" none "$(lease "$h1" "$h2" subnet)"
	check_fails "$p: a second leave is refused" ctl "$h2" node leave

	# --- restart rejoins with the same subnet
	shoald_stop "$h2" && shoald_start "$h2" || not_ok "$p: shoald h2 restarts"
	check "$p: h2 rejoined with its previous subnet" lab_wait 10 lease_is "$h1" "$h2" subnet "$s2"
	check "$p: ${p}c1 reaches ${p}c2 across hosts again" lab_wait 15 ping_ok "${p}c1" "$(container_ip "${p}c2")"
	check "$p: ${p}c2 reaches ${p}c3" lab_wait 10 ping_ok "${p}c2" "$(container_ip "${p}c3")"
	check "$p: h2 accepts ADD again" container_add "$h2" "${p}c2c"
	for i in 1 2 3; do shoald_stop "$p$i"; done
	for i in 1 2 3; do
		check "$p: no sanitizer errors in $p$i's log" sh -c "! grep -q Sanitizer $LAB_TMP/shoald-$p$i.log"
	done
}

cluster f 0 1 "file:$LAB_TMP/store"

if [ -x /usr/bin/etcd ]; then
	if etcd_start underlay cl "http://198.18.0.254:23790"; then
		cluster e 10 2 "etcd://198.18.0.254:23790"
		etcd_stop cl
	else
		not_ok "etcd starts"
	fi
else
	echo "# /usr/bin/etcd missing: etcd pass skipped"
fi
lab_done
