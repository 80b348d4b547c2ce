#!/usr/bin/env bash
# fw/: the `inet shoal` table in a real kernel, driven by tests/integration/fw_tool.c.
#
#   pod  10.244.3.2/24 --- 10.244.3.1 [ host ] 198.18.0.1 --- 198.18.0.2  out (no route to 10.244/16)
#   pod2 10.244.4.2/24 --- 10.244.4.1 [      ]
#
# The host masquerades pod traffic leaving 10.244.0.0/16: a ping from pod reaches out only when the
# source is rewritten (out cannot answer 10.244.3.2), and pod2 must still see the pod's own address.
source "$(dirname "$0")/lib.sh"

NET=10.244.0.0/16
SUB=10.244.3.0/24

# The tool: a Makefile target when there is one, else built here with the Makefile's flags.
TOOL=$BUILD/tests/fw_tool
if [ ! -x "$TOOL" ] || [ "$ROOT/tests/integration/fw_tool.c" -nt "$TOOL" ] || [ "$ROOT/fw/fw.c" -nt "$TOOL" ]; then
	TOOL=$BUILD/itest/fw_tool
	mkdir -p "$BUILD/itest"
	# shellcheck disable=SC2046
	check "build fw_tool" cc -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-Wformat=2 -Wno-unused-parameter -Wno-format-truncation -O2 -g -I"$ROOT" -D_GNU_SOURCE \
		-o "$TOOL.$$" "$ROOT/tests/integration/fw_tool.c" "$ROOT/fw/fw.c" "$ROOT/lib/cidr.c" \
		$(pkg-config --cflags --libs libnftnl libmnl)
	mv -f "$TOOL.$$" "$TOOL" 2>/dev/null
fi
[ -x "$TOOL" ] || { not_ok "fw_tool missing"; lab_done; exit 1; }

HOST=$(lab_host fwhost)
POD=$(lab_netns fwpod)
POD2=$(lab_netns fwpod2)
OUT=$(lab_netns fwout)

# veth pairs are created inside the namespaces, nothing touches the root namespace.
ip -n "$HOST" link add h-pod type veth peer name eth0 netns "$POD"
ip -n "$HOST" link add h-pod2 type veth peer name eth0 netns "$POD2"
ip -n "$HOST" link add h-out type veth peer name eth0 netns "$OUT"
ip -n "$HOST" addr add 10.244.3.1/24 dev h-pod
ip -n "$HOST" addr add 10.244.4.1/24 dev h-pod2
ip -n "$HOST" addr add 198.18.0.1/24 dev h-out
for d in h-pod h-pod2 h-out; do ip -n "$HOST" link set "$d" up; done
ip -n "$POD" addr add 10.244.3.2/24 dev eth0
ip -n "$POD2" addr add 10.244.4.2/24 dev eth0
ip -n "$OUT" addr add 198.18.0.2/24 dev eth0
for ns in "$POD" "$POD2" "$OUT"; do ip -n "$ns" link set eth0 up; done
ip -n "$POD" route add default via 10.244.3.1
ip -n "$POD2" route add default via 10.244.4.1

# Observers: count echo requests by source address where they arrive.
ip netns exec "$OUT" nft -f - <<'EOF'
table inet obs {
	chain in {
		type filter hook input priority 0;
		ip saddr 198.18.0.1 icmp type echo-request counter
		ip saddr 10.244.3.2 icmp type echo-request counter
	}
}
EOF
ip netns exec "$POD2" nft -f - <<'EOF'
table inet obs {
	chain in {
		type filter hook input priority 0;
		ip saddr 10.244.3.2 icmp type echo-request counter
		ip saddr 10.244.4.1 icmp type echo-request counter
	}
}
EOF
# A foreign table in the host that must survive everything we do.
ip netns exec "$HOST" nft -f - <<'EOF'
table inet other {
	chain input {
		type filter hook input priority 0;
		tcp dport 4242 counter accept
	}
}
EOF

fw()   { ip netns exec "$HOST" "$TOOL" "$@"; }
hnft() { ip netns exec "$HOST" nft "$@"; }
# counter NS SADDR: packets counted by the observer rule for SADDR.
counter() {
	ip netns exec "$1" nft -j list table inet obs |
		jq -r --arg s "$2" '.nftables[] | select(.rule) | .rule | select(any(.expr[]; .match.right? == $s))
			| .expr[] | select(.counter) | .counter.packets'
}
ntables() { hnft -j list tables | jq --arg n "$1" '[.nftables[] | select(.table.name? == $n)] | length'; }
nrules()  { hnft -j list table inet "$1" 2>/dev/null | jq '[.nftables[] | select(.rule)] | length'; }
shoal_json() { hnft -j list table inet shoal; }
check_state() { local want=$1; shift; local got; got=$(fw check "$@" 2>/dev/null); expect_eq "$want: fw_check says $want" "$want" "$got"; }

# --- before: nothing of ours, no masquerade
check_state absent $NET $SUB
check_fails "no masquerade yet: pod cannot reach out" ip netns exec "$POD" ping -c1 -W1 198.18.0.2

# --- apply
check "apply" fw apply $NET $SUB
expect_eq "one table inet shoal" 1 "$(ntables shoal)"
expect_eq "chain postrouting: nat hook postrouting prio 100 policy accept" "nat postrouting 100 accept" \
	"$(shoal_json | jq -r '.nftables[] | select(.chain) | .chain | "\(.type) \(.hook) \(.prio) \(.policy)"')"
expect_eq "rule: ip saddr $SUB ip daddr != $NET masquerade" \
	"== 10.244.3.0/24;!= 10.244.0.0/16;masquerade" \
	"$(shoal_json | jq -r '.nftables[] | select(.rule) | .rule.expr | map(
		if .match then "\(.match.op) \(.match.right.prefix.addr)/\(.match.right.prefix.len)"
		elif has("masquerade") then "masquerade" else tostring end) | join(";")')"
hnft list table inet shoal | grep -q 'ip saddr 10.244.3.0/24 ip daddr != 10.244.0.0/16 masquerade comment' &&
	ok "nft shows the rule as an operator would write it" || not_ok "nft shows the rule as an operator would write it"
check_state in-sync $NET $SUB
check_state differs $NET 10.244.4.0/24

# --- idempotent
check "apply again" fw apply $NET $SUB
expect_eq "still one table inet shoal" 1 "$(ntables shoal)"
expect_eq "still one rule" 1 "$(nrules shoal)"
expect_eq "foreign table untouched by apply" 1 "$(nrules other)"

# --- traffic
# (the failed ping above already left one un-rewritten request in out's counter)
before=$(counter "$OUT" 10.244.3.2)
check "pod reaches out through the masquerade" ip netns exec "$POD" ping -c2 -W2 198.18.0.2
expect_eq "out saw the host address, not the pod's" "2 $before" "$(counter "$OUT" 198.18.0.1) $(counter "$OUT" 10.244.3.2)"
check "pod reaches pod2 inside the cluster network" ip netns exec "$POD" ping -c2 -W2 10.244.4.2
expect_eq "pod2 saw the pod's own address (no masquerade inside the cluster)" "2 0" \
	"$(counter "$POD2" 10.244.3.2) $(counter "$POD2" 10.244.4.1)"

# --- drift is detected and repaired in one apply
hnft add rule inet shoal postrouting counter
hnft add chain inet shoal stray
check_state differs $NET $SUB
check "apply repairs drift" fw apply $NET $SUB
expect_eq "after repair: one rule, one chain" "1 1" \
	"$(nrules shoal) $(shoal_json | jq '[.nftables[] | select(.chain)] | length')"
check_state in-sync $NET $SUB

# --- a changed config replaces the rule, it does not add one
check "apply with subnet /25 and bridge" fw apply $NET 10.244.3.0/25 shoal0
expect_eq "changed config: one rule" 1 "$(nrules shoal)"
hnft list table inet shoal | grep -q 'ip saddr 10.244.3.0/25 ip daddr != 10.244.0.0/16 oifname != "shoal0" masquerade' &&
	ok "rule now has /25 and the bridge exemption" || not_ok "rule now has /25 and the bridge exemption"
check_state in-sync $NET 10.244.3.0/25 shoal0
check_state differs $NET 10.244.3.0/25

# --- masquerade off: an empty table, no nat chain
check "apply without masquerade" fw apply-nomasq
expect_eq "empty table: no chains" 0 "$(shoal_json | jq '[.nftables[] | select(.chain)] | length')"

# --- errors name the message that failed (no CAP_NET_ADMIN: the kernel refuses the batch)
err=$(ip netns exec "$HOST" setpriv --bounding-set=-net_admin -- "$TOOL" apply $NET $SUB 2>&1)
expect_eq "error without CAP_NET_ADMIN is mapped and readable" \
	"fw_tool apply: batch: Operation not permitted" "$err"

# --- remove
check "apply before remove" fw apply $NET $SUB
check "remove" fw remove
expect_eq "table inet shoal gone" 0 "$(ntables shoal)"
expect_eq "foreign table and its rule survive remove" "1 1" "$(ntables other) $(nrules other)"
check "remove twice succeeds" fw remove
check_state absent $NET $SUB
check_fails "after remove: no masquerade again" ip netns exec "$POD" ping -c1 -W1 198.18.0.2

lab_done
