#!/usr/bin/env bash
# shoald --cleanup (docs/install.md "Removing shoal from a host"): on a host of a two-host overlay
# with two containers, after shoald stopped, it removes every object shoald created (workload
# veths, so the containers lose eth0; routes of protocol 75; shoal.1 with its FDB and neighbours;
# the bridge; the cgroup classifiers on the uplink; the IFBs; tables inet/bridge shoal; its FORWARD accepts; the state directory's files;
# the socket; this node's subnet key and lease, so the other host drops its routes) and nothing
# else (an interface with its route, an "shv" veth of nobody's, a route, an nft table, an iptables rule, a file in the
# state directory survive).  A second run finds nothing; --dry-run and a run while shoald runs
# (same namespace, or same state directory) change nothing; a foreign port keeps the bridge.
. "$(dirname "$0")/lib.sh"

# A long lease: the stopped h1's key must still be there when --cleanup looks for it.
CONF='"leaseTTL": 300, "reconcileInterval": 1'
H1=$LAB-h1
have_ipt=0
command -v iptables >/dev/null && have_ipt=1

lab_underlay >/dev/null || { not_ok "underlay"; lab_done; exit 1; }
lab_host h1 >/dev/null
lab_host h2 >/dev/null
lab_underlay_join h1 198.18.0.1
lab_underlay_join h2 198.18.0.2
fwd=""
if [ $have_ipt = 1 ]; then
	# A DROP policy makes ip filter FORWARD exist, so forwardAccept puts its two rules there.
	ip netns exec "$H1" iptables -P FORWARD DROP
	ip netns exec "$H1" iptables -A FORWARD -s 198.51.100.0/24 -j ACCEPT   # someone else's rule
	fwd=', "forwardAccept": true'
fi
shoald_conf h1 "$CONF$fwd" >/dev/null
shoald_conf h2 "$CONF" >/dev/null
shoald_start h1 || { not_ok "shoald h1 starts"; lab_done; exit 1; }
shoald_start h2 || { not_ok "shoald h2 starts"; lab_done; exit 1; }
for c in c1 c2; do check "ADD $c on h1" container_add h1 "$c"; done
check "ADD c3 on h2" container_add h2 c3
counts_are() { [ "$(peer_counts "$1")" = "$2" ]; }
check "h1 has h2's route, FDB entry and neighbour" lab_wait 10 counts_are h1 "1 1 1"
check "h2 has h1's route, FDB entry and neighbour" lab_wait 10 counts_are h2 "1 1 1"
check "c1 on h1 pings c3 on h2 (the overlay works before the cleanup)" \
	ip netns exec "$LAB-c1" ping -c1 -W2 "$(container_ip c3)"
# The bandwidth IFBs (shoald does not create them yet; --cleanup removes them when present).
ip -n "$H1" link add shoal-in type ifb && ip -n "$H1" link add shoal-out type ifb
subnet_of() { netctl_json h2 subnet list | jq -r ".[]? // .subnets[]? | select(.node == \"$1\") | .subnet"; }
sub1=$(subnet_of h1) sub2=$(subnet_of h2)
expect_eq "h1 and h2 hold a subnet each in the store" 1 "$([ -n "$sub1" ] && [ -n "$sub2" ] && echo 1)"

# What is not ours, and must survive.
ip -n "$H1" link add fgn0 type veth peer name fgn0p && ip -n "$H1" link set fgn0 up && ip -n "$H1" link set fgn0p up
ip -n "$H1" addr add 192.0.2.1/24 dev fgn0
ip -n "$H1" route add 203.0.113.0/24 via 192.0.2.2 dev fgn0 proto static
ip -n "$H1" link add shv0000000000ff type veth peer name fgn1     # our prefix, but nobody's
ip netns exec "$H1" nft add table inet lab
ip netns exec "$H1" nft add chain inet lab input '{ type filter hook input priority 0; policy accept; }'
SD=$LAB_TMP/state-h1
echo "mine" >"$SD/notes.txt"
# A cgroup quota's classifiers on the uplink and its record (netd/cgroups.c), as a shoald with
# cgroup quotas leaves them (programs without entries: they classify nothing).
check "cgroup classifiers attached to h1's eth0" ip netns exec "$H1" "$BUILD/tests/cgbpf_tool" eth0 attach shoal-out shoal-in
mkdir -p "$SD/cgroups" && echo '{}' >"$SD/cgroups/256.json" && echo '{}' >"$SD/cgroups/257.json.bad"

# snap: everything a cleanup could change on h1 (links with master and alias, routes, ruleset,
# state directory, socket) and the store as h2 sees it.
snap() {
	ip -n "$H1" -d -o link show | sed -E 's/^[0-9]+: //; s/ (qlen|minmtu|numtxqueues|gso_max_size|tso_max_size|gro_max_size|gso_ipv4_max_size|gro_ipv4_max_size) [0-9]+//g' \
		| awk '{print $1, $0 ~ /master/ ? "m" : "-"}' | sort
	ip -n "$H1" -o link show | grep -o 'alias .*' | sort
	ip -n "$H1" -4 route show table all | sort      # (IPv6 link-local addresses come and go by themselves)
	ip -n "$H1" -4 neigh show nud permanent | sort
	bridge -n "$H1" fdb show dev shoal.1 2>/dev/null | sort
	ip netns exec "$H1" nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
	(cd "$SD" 2>/dev/null && find . | sort)
	ls -l "$LAB_TMP/h1.sock" 2>/dev/null
	netctl_json h2 subnet list | jq -c '[.[]? // .subnets[]? | .node] | sort'
}
cleanup() { ip netns exec "${NS:-$H1}" "$BUILD/shoald" --config "$LAB_TMP/h1.json" --cleanup "$@"; }

# --- refused while shoald runs: in this namespace, or on this state directory
before=$(snap)
out=$(cleanup 2>&1); rc=$?
expect_eq "--cleanup while shoald runs in the namespace exits 1" 1 "$rc"
check "... and says shoald is running" grep -q "shoald is running" <<<"$out"
lab_netns other >/dev/null
out=$(NS=$LAB-other cleanup 2>&1); rc=$?
expect_eq "--cleanup from another namespace on the running shoald's state directory exits 1" 1 "$rc"
check "... and names the state directory" grep -q "shoald is running with state directory" <<<"$out"
expect_eq "a refused --cleanup changed nothing" "$before" "$(snap)"
check "shoald h1 still serves" "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status
check_fails "--dry-run without --cleanup is a usage error" ip netns exec "$H1" "$BUILD/shoald" --dry-run

check "shoald h1 stops" shoald_stop h1
# A route of protocol 75 that does not go with shoal.1 (as a directRouting peer's, via the underlay);
# added now, or the running shoald's reconcile would have removed it as not wanted.
ip -n "$H1" route add 10.244.250.0/24 via 198.18.0.2 dev eth0 proto 75
before=$(snap)

# --- --dry-run: lists, changes nothing
out=$(cleanup --dry-run 2>&1); rc=$?
expect_eq "--cleanup --dry-run exits 0" 0 "$rc"
for v in $(ns_links "$H1" | grep '^shv' | grep -v shv0000000000ff); do
	check "dry run lists workload veth $v" grep -q "^would remove veth $v " <<<"$out"
done
for w in "VXLAN device shoal.1" "bridge shoal0" "IFB shoal-in" "IFB shoal-out" "nftables table inet shoal" \
         "cgroup classifier on eth0 (egress)" "cgroup classifier on eth0 (ingress)" "file $SD/cgroups/256.json" \
         "nftables table bridge shoal" "route $sub2 via" "route 10.244.250.0/24 via 198.18.0.2" "store key subnets/${sub1/\//-} (node h1)" "file $SD/subnet.json"; do
	check "dry run lists: $w" grep -qF "would remove $w" <<<"$out"
done
[ $have_ipt = 1 ] && check "dry run lists the FORWARD rules" grep -q "would remove 2 accept rules" <<<"$out"
check_fails "dry run would remove nothing foreign" grep -E "^would remove .*(fgn|shv0000000000ff|notes.txt|inet lab)" <<<"$out"
check "dry run ends with its summary" bash -c 'tail -1 | grep -q "^shoald --cleanup --dry-run: would remove 2 veths, "' <<<"$out"
expect_eq "--dry-run changed nothing" "$before" "$(snap)"

# --- the cleanup
out=$(cleanup 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "--cleanup exits 0" 0 "$rc"
check "the summary names what went" bash -c 'tail -1 | grep -q "^shoald --cleanup: removed 2 veths, 2 routes, 1 VXLAN device, 1 bridge, 2 IFBs, 2 cgroup classifiers, 2 nftables tables"' <<<"$out"
expect_eq "no workload veth is left (the foreign shv veth is)" shv0000000000ff "$(host_veths h1 | tr '\n' ' ' | xargs)"
for c in c1 c2; do
	check_fails "container $c has no eth0 any more" ip -n "$LAB-$c" link show eth0
done
for l in shoal0 shoal.1 shoal-in shoal-out; do
	check_fails "$l is gone" ip -n "$H1" link show "$l"
done
expect_eq "no route of protocol 75 is left" "" "$(ip -n "$H1" route show table all proto 75)"
expect_eq "no cgroup classifier is left on eth0" "" "$(tc -n "$H1" filter show dev eth0 egress; tc -n "$H1" filter show dev eth0 ingress)"
expect_eq "no table shoal is left" "" "$(ip netns exec "$H1" nft list tables | grep -w shoal)"
if [ $have_ipt = 1 ]; then
	expect_eq "no FORWARD rule of shoal's is left" 0 "$(ip netns exec "$H1" iptables -S FORWARD | grep -c 'shoal:')"
	check "the foreign FORWARD rule survives" bash -c "ip netns exec $H1 iptables -S FORWARD | grep -q 198.51.100.0/24"
fi
check "the foreign interface survives, with its address" bash -c "ip -n $H1 -4 -o addr show dev fgn0 | grep -q 192.0.2.1/24"
check "the foreign route survives" bash -c "ip -n $H1 route show 203.0.113.0/24 | grep -q 'via 192.0.2.2'"
check "the foreign veth named shv... survives" ip -n "$H1" link show shv0000000000ff
check "the foreign nft table survives" bash -c "ip netns exec $H1 nft list tables | grep -q 'table inet lab'"
expect_eq "the state directory holds only the foreign file" "./notes.txt" "$(cd "$SD" && find . -mindepth 1 | sort | xargs)"
check_fails "the socket is gone" test -e "$LAB_TMP/h1.sock"
check "h2 no longer sees h1's subnet in the store" \
	bash -c "! '$BUILD/netctl' --socket '$LAB_TMP/h2.sock' subnet list -o json | jq -e '.[]? // .subnets[]? | select(.node == \"h1\")'"
check "h2 drops its route, FDB entry and neighbour for h1" lab_wait 10 counts_are h2 "0 0 0"
check "c3 on h2 is untouched" ip -n "$LAB-c3" link show eth0

# --- idempotent
after=$(snap)
out=$(cleanup 2>&1); rc=$?
expect_eq "a second --cleanup exits 0" 0 "$rc"
check "... and says nothing is left" bash -c 'tail -1 | grep -q "^shoald --cleanup: nothing of shoal.s is left on this host"' <<<"$out"
check "... keeping the state directory for the foreign file" grep -q "kept $SD (holds notes.txt)" <<<"$out"
expect_eq "... and changed nothing" "$after" "$(snap)"
rm -f "$SD/notes.txt"
out=$(cleanup 2>&1)
check_fails "without the foreign file the state directory goes too" test -e "$SD"

# --- a foreign port keeps the bridge
shoald_start h1 || not_ok "shoald h1 starts again"
check "ADD c4 on h1" container_add h1 c4
ip -n "$H1" link add fgnport type veth peer name fgnport1
ip -n "$H1" link set fgnport master shoal0
check "shoald h1 stops again" shoald_stop h1
out=$(cleanup 2>&1); rc=$?
expect_eq "--cleanup with a foreign port on the bridge exits 0" 0 "$rc"
check "... reports the bridge kept for the foreign port" grep -q "kept bridge shoal0 (foreign port fgnport)" <<<"$out"
check "... the bridge is still there" ip -n "$H1" link show shoal0
check "... with the foreign port on it" bash -c "ip -n $H1 -o link show fgnport | grep -q 'master shoal0'"
check_fails "... c4's veth is gone all the same" ip -n "$LAB-c4" link show eth0
ip -n "$H1" link del fgnport
out=$(cleanup 2>&1); rc=$?
expect_eq "once the foreign port is gone, --cleanup exits 0" 0 "$rc"
check "... and removes the bridge" bash -c 'tail -1 | grep -q "removed 1 bridge"' <<<"$out"
check_fails "shoal0 is gone" ip -n "$H1" link show shoal0
# The runtime deletes its containers later: the plugin must not fail them.
del_c1() { cni_conf h1 | cni DEL "$LAB-c1" "$(netns_path c1)" eth0; }
check "a runtime's DEL of a container after the cleanup succeeds" del_c1

lab_done
