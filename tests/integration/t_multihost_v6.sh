#!/usr/bin/env bash
# The multi-host overlay on an IPv6 underlay (docs/overlay.md "IPv6 underlays"): host namespaces
# joined by an underlay bridge that carries only IPv6 (fd00:5a::/64), one shoald each, one file
# store.  shoal.1 is an IPv6 VXLAN device (local fd00:5a::N), the FDB entries carry IPv6
# destinations, the container MTU is the underlay's minus 70, containers reach each other across
# hosts (ICMP with DF up to exactly the MTU, TCP with the sender's own address); a restart adopts
# the device, a device of the other family is replaced; direct routing goes via inet6; a record with
# a garbage publicIP and a host on an IPv4 underlay are skipped with a reason, logged once; a host
# that leaves takes its entries with it.
. "$(dirname "$0")/lib.sh"

CONF='"leaseTTL": 10, "reconcileInterval": 2'
NET6=fd00:5a:
subnet_of() { netctl_json h1 subnet list | jq -r ".[]? // .subnets[]? | select(.node == \"$1\") | .subnet" | cut -d/ -f1; }
host_field() { netctl_json "$1" host list | jq -r ".[]? // .hosts[]? | select(.node == \"$2\") | .$3"; }
log_count() { log_since "$1" "$2" | grep -c -- "$3"; }
hosts_are() { [ "$(netctl_json "$1" host list | jq -r '[.[]? // .hosts[]? | .node] | sort | join(" ")')" = "$2" ]; }

# ---- lab helpers for an IPv6 underlay (lib.sh's lab_underlay is IPv4)

# lab_underlay6: namespace $LAB-underlay with bridge br0 carrying fd00:5a::fe/64 (the hosts' IPv6
# default gateway) and, for the one IPv4 host, 198.18.0.254/24.  No DAD anywhere: addresses are
# usable at once.  Multicast snooping off: neighbour discovery is flooded like ARP.
lab_underlay6() {
	local u
	u=$(lab_netns underlay) || return 1
	ip netns exec "$u" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.accept_dad=0 || return 1
	ip -n "$u" link add br0 type bridge mcast_snooping 0 && ip -n "$u" link set br0 up || return 1
	ip -n "$u" addr add "${NET6}:fe/64" dev br0 nodad && ip -n "$u" addr add 198.18.0.254/24 dev br0
}

# lab_underlay6_join HOST ADDR6 [DEFAULT_ROUTE=1]: plug host namespace $LAB-HOST into br0 with
# eth0 = ADDR6/64 only (no IPv4 at all), and an IPv6 default route via fd00:5a::fe unless 0.
lab_underlay6_join() {
	local h=$LAB-$1 u=$LAB-underlay port=ul-$1
	ip netns exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.accept_dad=0 || return 1
	ip -n "$u" link add "$port" type veth peer name eth0 netns "$h" || return 1
	ip -n "$u" link set "$port" master br0 up && ip -n "$h" link set eth0 up || return 1
	ip -n "$h" addr add "$2/64" dev eth0 nodad || return 1
	[ "${3:-1}" = 0 ] || ip -n "$h" -6 route add default via "${NET6}:fe" dev eth0
}

# storeput KEY VALUE: write KEY (under /shoal/) into the lab's file store without a lease, through
# store.h as shoald does; an empty VALUE deletes it.  Built from the build's objects.
STOREPUT=$LAB_TMP/storeput
cat >"$LAB_TMP/storeput.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "store/store.h"
int main(int argc, char **argv)
{
	struct store *s;
	int r;

	if (argc != 4 || store_open(NULL, argv[1], NULL, NULL, &s) < 0)
		return 2;
	r = argv[3][0] ? store_put(s, argv[2], argv[3], strlen(argv[3]), 0, NULL) : store_delete(s, argv[2], 0);
	store_free(s);
	if (r < 0)
		fprintf(stderr, "storeput %s: %s\n", argv[2], strerror(-r));
	return r < 0;
}
EOF
# shellcheck disable=SC2046
if ! cc -std=gnu11 -g -I"$ROOT" -D_GNU_SOURCE -o "$STOREPUT" "$LAB_TMP/storeput.c" "$BUILD"/obj/store/*.o \
	"$BUILD/obj/lib/base64.o" "$BUILD/obj/lib/log.o" "$BUILD/obj/lib/fileio.o" \
	$(pkg-config --cflags --libs jansson libuv) -lhttp_parser -ldl \
	$(grep -q fsanitize "$BUILD/.flags" 2>/dev/null && echo -fsanitize=address,undefined) 2>"$LAB_TMP/storeput.log"; then
	not_ok "storeput builds"; sed 's/^/#   /' "$LAB_TMP/storeput.log" | head; lab_done; exit 1
fi
storeput() { "$STOREPUT" "file:$LAB_TMP/store" "$1" "$2"; }

# ---- three hosts on the IPv6 underlay
lab_underlay6 || { not_ok "IPv6 underlay"; lab_done; exit 1; }
for h in h1 h2 h3; do lab_host "$h" >/dev/null; done
lab_underlay6_join h1 "${NET6}:1"          # underlay "": the IPv6 default route's device (no IPv4 route)
lab_underlay6_join h2 "${NET6}:2" 0        # underlay "eth0": an interface without IPv4, no default route
lab_underlay6_join h3 "${NET6}:3"          # underlay "fd00:5a::3"
multihost_up "$CONF" "${NET6}:3" || { lab_done; exit 1; }

# --- the VXLAN device is an IPv6 one, the records publish IPv6 addresses
for h in h1 h2 h3; do
	vx=$(ip -n "$LAB-$h" -d -o link show shoal.1)
	check "shoal.1 on $h: MTU 1430 (1500 - 70), vni 1, local ${NET6}:${h#h} dev eth0, port 8472, learning off" \
		grep -q "mtu 1430 .*vxlan id 1 local ${NET6}:${h#h} dev eth0 .*dstport 8472 nolearning" <<<"$vx"
done
expect_eq "h3's subnet record publishes its IPv6 underlay address" "${NET6}:3" \
	"$(netctl_json h1 subnet list | jq -r '.[]? // .subnets[]? | select(.node == "h3") | .publicIP')"
sub3=$(subnet_of h3)
check "h1: route to h3's subnet via .0 dev shoal.1 onlink, protocol shoal (the inner network is IPv4)" \
	grep -q "^$sub3/24 via $sub3 dev shoal.1 onlink" <<<"$(ip -n "$LAB-h1" route show proto 75)"
check "h1: FDB entry h3's VTEP MAC -> ${NET6}:3 (an IPv6 destination)" \
	grep -q "^$(vtep_mac h3) dst ${NET6}:3 self permanent" <<<"$(bridge -n "$LAB-h1" fdb show dev shoal.1)"
check "h1: neighbour $sub3 -> h3's VTEP MAC, permanent" \
	grep -q "^$sub3 lladdr $(vtep_mac h3) PERMANENT" <<<"$(ip -n "$LAB-h1" neigh show dev shoal.1)"
for h in h1 h2 h3; do
	expect_eq "$h: every FDB entry with a destination has an IPv6 one" "2 2" \
		"$(bridge -n "$LAB-$h" fdb show dev shoal.1 | grep -c ' dst ') $(bridge -n "$LAB-$h" fdb show dev shoal.1 | grep -c " dst ${NET6}:[0-9a-f]* ")"
done
expect_eq "h2 (host list): h1 and h3 programmed over vxlan" "vxlan true ${NET6}:1 vxlan true ${NET6}:3" \
	"$(netctl_json h2 host list | jq -r '[.[]? // .hosts[]? | select(.node == "h1" or .node == "h3")] | sort_by(.node) | .[] | "\(.mode) \(.programmed) \(.publicIP)"' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "container MTU is 1430" 1430 "$(ip -n "$LAB-c11" -o link show eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2)"
check_fails "no IPv4 address on any host's underlay" sh -c "ip -n $LAB-h1 -4 addr show dev eth0 | grep -q inet || ip -n $LAB-h2 -4 addr show dev eth0 | grep -q inet"

# --- traffic: every container to every container on another host
expect_eq "every container pings every container on the other hosts" "" "$(cross_pings c11 c12 c21 c22 c31 c32)"
# 1402 bytes of ICMP payload + 8 + 20 = 1430, the overlay MTU, + 70 = 1500 on the underlay: fits
# with DF; one more byte does not.
check "1402-byte payload with DF (exactly the MTU) crosses hosts" ip netns exec "$LAB-c11" ping -c 1 -W 2 -M do -s 1402 "$(container_ip c21)"
check "1402-byte payload with DF crosses hosts the other way" ip netns exec "$LAB-c32" ping -c 1 -W 2 -M do -s 1402 "$(container_ip c12)"
check_fails "1403-byte payload with DF does not fit" ip netns exec "$LAB-c11" ping -c 1 -W 2 -M do -s 1403 "$(container_ip c21)"

# --- TCP, and the receiver sees the sender's own address (cluster traffic is never masqueraded)
expect_eq "TCP: 300000 bytes across hosts, seen from the sender's own address" "$(container_ip c12) 300000" \
	"$(tcp_exchange c12 c22)"

# --- restart: the IPv6 device and every entry are adopted, nothing rebuilt
ifx=$(ip -n "$LAB-h2" -o link show shoal.1 | cut -d: -f1)
before=$(for h in h1 h2 h3; do peer_counts "$h"; done)
mark=$(log_mark h2)
shoald_stop h2 && shoald_start h2 || not_ok "shoald h2 restarts"
sleep 1
expect_eq "the restarted shoald adopted the IPv6 shoal.1 (same ifindex)" "$ifx" "$(ip -n "$LAB-h2" -o link show shoal.1 | cut -d: -f1)"
check_fails "the restarted shoald changed no peer entry" grep -q 'peers (start):' <<<"$(log_since h2 "$mark")"
check_fails "... and did not replace the device" grep -q 'had other parameters' <<<"$(log_since h2 "$mark")"
expect_eq "no duplicate or missing entries after the restart" "$before" "$(for h in h1 h2 h3; do peer_counts "$h"; done)"

# --- a shoal.1 of the other family (an IPv4 VXLAN device) is not adopted: replaced, with a warning
shoald_stop h1
ip -n "$LAB-h1" link del shoal.1
ip -n "$LAB-h1" link add shoal.1 type vxlan id 1 local 198.18.9.9 dstport 8472 nolearning
mark=$(log_mark h1)
shoald_start h1 || not_ok "shoald h1 restarts"
check "h1 replaced the IPv4 shoal.1, naming its old parameters" \
	lab_wait 5 sh -c "tail -n +$((mark + 1)) $LAB_TMP/shoald-h1.log | grep -q 'shoal.1 had other parameters (vni 1 local 198.18.9.9 .*replaced it (vni 1 local ${NET6}:1 dev eth0'"
check "h1's shoal.1 is IPv6 again, with its entries" lab_wait 10 counts_are h1 "2 2 2"
check "shoal.1 on h1: local ${NET6}:1" grep -q "local ${NET6}:1 dev eth0" <<<"$(ip -n "$LAB-h1" -d link show shoal.1)"
check "c11 reaches c31 after h1's device was replaced" ping_ok c11 "$(container_ip c31)"

# --- records that cannot be used: skipped, logged once, good entries untouched, nobody exits
marks=(); for h in h1 h2 h3; do marks+=("$(log_mark "$h")"); done
check "write a record with a garbage publicIP" \
	storeput subnets/10.244.250.0-24 '{"node":"bogus","publicIP":"fd00:5a::zz","vtepMAC":"02:de:ad:00:00:01"}'
check "write a record with a link-local publicIP" \
	storeput subnets/10.244.251.0-24 '{"node":"bogus2","publicIP":"fe80::9","vtepMAC":"02:de:ad:00:00:02"}'
sleep 5   # two reconcile rounds on every host
i=0
for h in h1 h2 h3; do
	expect_eq "$h reports the garbage publicIP once" 1 \
		"$(log_count "$h" "${marks[$i]}" 'ignoring store record subnets/10.244.250.0-24 .*publicIP')"
	expect_eq "$h reports the link-local publicIP once" 1 \
		"$(log_count "$h" "${marks[$i]}" "ignoring store record subnets/10.244.251.0-24 .*publicIP fe80::9 is not a peer's address")"
	expect_eq "$h's entries untouched by the bad records" "2 2 2" "$(peer_counts "$h")"
	check "shoald $h is still running" kill -0 "$(shoald_pid "$h")"
	i=$((i + 1))
done
expect_eq "h1 (host list): the link-local record is not programmed, with the reason" \
	"false node bogus2: publicIP fe80::9 is not a peer's address" "$(host_field h1 bogus2 programmed) $(host_field h1 bogus2 error)"
check_fails "no FDB entry for the bad records" grep -q '02:de:ad' <<<"$(bridge -n "$LAB-h1" fdb show dev shoal.1)"
storeput subnets/10.244.250.0-24 ""
storeput subnets/10.244.251.0-24 ""

# --- a host on an IPv4 underlay cannot talk VXLAN with IPv6 ones: skipped both ways, with a reason
lab_host h4 >/dev/null
lab_underlay_join h4 198.18.0.4   # lab_underlay6 gave br0 the IPv4 gateway too
shoald_conf h4 "$CONF" >/dev/null
marks=(); for h in h1 h2 h3; do marks+=("$(log_mark "$h")"); done
shoald_start h4 || not_ok "shoald h4 (IPv4 underlay) starts"
check "ADD c41" container_add h4 c41
sleep 5   # two reconcile rounds on every host
sub4=$(subnet_of h4)
i=0
for h in h1 h2 h3; do
	expect_eq "$h logs once that h4's IPv4 publicIP cannot be reached from its IPv6 underlay" 1 \
		"$(log_count "$h" "${marks[$i]}" "ignoring store record subnets/${sub4}-24 .*node h4: publicIP 198.18.0.4 is IPv4 but this node's underlay ${NET6}:${h#h} is IPv6; VXLAN cannot cross address families")"
	expect_eq "$h's entries unchanged by h4" "2 2 2" "$(peer_counts "$h")"
	i=$((i + 1))
done
expect_eq "h1 (host list): h4 not programmed, with the reason" "false" "$(host_field h1 h4 programmed)"
check "h1 (host list): h4's error names the address families" grep -q 'cannot cross address families' <<<"$(host_field h1 h4 error)"
expect_eq "h4 (IPv4 underlay): no entries for the IPv6 hosts" "0 0 0" "$(peer_counts h4)"
expect_eq "h4 (host list): the IPv6 hosts not programmed" "false false false" \
	"$(netctl_json h4 host list | jq -r '[.[]? // .hosts[]? | select(.node | test("^h[123]$"))] | sort_by(.node) | .[] | .programmed' | tr '\n' ' ' | sed 's/ $//')"
check "h4's log says why for h1" grep -q "node h1: publicIP ${NET6}:1 is IPv6 but this node's underlay 198.18.0.4 is IPv4" "$LAB_TMP/shoald-h4.log"
check "shoal.1 on h4 is an IPv4 device with MTU 1450" grep -q 'mtu 1450 .*vxlan id 1 local 198.18.0.4 ' <<<"$(ip -n "$LAB-h4" -d -o link show shoal.1)"
check "h4 leaves (netctl node leave)" "$BUILD/netctl" --socket "$LAB_TMP/h4.sock" node leave
shoald_stop h4
check "h1 forgets h4's record once it is gone" lab_wait 10 hosts_are h1 "h2 h3"
check "h2 forgets h4's record once it is gone" lab_wait 10 hosts_are h2 "h1 h3"
check "h3 forgets h4's record once it is gone" lab_wait 10 hosts_are h3 "h1 h2"

# --- direct routing over the IPv6 underlay: IPv4 routes via inet6 (RTA_VIA), no VXLAN entries
shoald_stop h2
shoald_conf h2 "$CONF, \"underlay\": \"eth0\", \"directRouting\": true" >/dev/null
shoald_start h2 || not_ok "shoald h2 restarts with directRouting"
check "h2 (direct routing): plain routes via the peers' IPv6 underlay addresses, no VXLAN entries" \
	lab_wait 10 counts_are h2 "2 0 0"
sub1=$(subnet_of h1)
check "h2: route to h1's subnet via inet6 ${NET6}:1 dev eth0, protocol shoal" \
	grep -q "^$sub1/24 via inet6 ${NET6}:1 dev eth0" <<<"$(ip -n "$LAB-h2" route show proto 75)"
expect_eq "h2 (host list): h1 in direct mode, programmed" "direct true" "$(host_field h2 h1 mode) $(host_field h2 h1 programmed)"
bad=""
for a in c21 c22; do
	for b in c11 c31; do
		ping_ok "$a" "$(container_ip "$b")" >/dev/null 2>&1 || bad="$bad $a->$b"
		ping_ok "$b" "$(container_ip "$a")" >/dev/null 2>&1 || bad="$bad $b->$a"
	done
done
expect_eq "containers on h2 (direct) and on h1, h3 (VXLAN) reach each other" "" "$bad"
check "1402-byte payload with DF from the direct host" ip netns exec "$LAB-c21" ping -c 1 -W 2 -M do -s 1402 "$(container_ip c31)"
expect_eq "TCP from the direct host, sender's own address" "$(container_ip c22) 300000" "$(tcp_exchange c22 c11)"

# --- h3 leaves the cluster: its entries go on every other host, the rest keeps working
mac3=$(vtep_mac h3)
check "h3 leaves (netctl node leave)" "$BUILD/netctl" --socket "$LAB_TMP/h3.sock" node leave
check "h1: h3's route, FDB entry and neighbour removed" lab_wait 10 counts_are h1 "1 1 1"
check "h2 (direct): h3's route removed" lab_wait 10 counts_are h2 "1 0 0"
check "h3 removed its own peer entries" lab_wait 10 counts_are h3 "0 0 0"
check_fails "h1 has no FDB entry for h3's VTEP any more" grep -q "^$mac3 " <<<"$(bridge -n "$LAB-h1" fdb show dev shoal.1)"
check_fails "h1 has nothing left for h3's subnet" grep -q "$sub3" <<<"$(ip -n "$LAB-h1" route show proto 75; ip -n "$LAB-h1" neigh show dev shoal.1 nud permanent)"
check "c11 still reaches c21" ping_ok c11 "$(container_ip c21)"
check "c21 still reaches c12" ping_ok c21 "$(container_ip c12)"

for h in h1 h2 h3; do
	check "no sanitizer or peer errors in $h's log" sh -c "! grep -E 'failed to (add|delete)|Sanitizer' $LAB_TMP/shoald-$h.log"
done
lab_done
