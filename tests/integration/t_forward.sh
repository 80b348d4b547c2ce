#!/usr/bin/env bash
# fw/forward: someone else's FORWARD drop policy (iptables-nft's `ip filter FORWARD`, as Docker
# sets it), detected by fw_forward_probe() and overridden by the opt-in fw_forward_allow(), driven
# by tests/integration/fw_tool.c (fwd-probe, fwd-allow, fwd-remove).
#
#   pod1 10.244.3.2 --- shv-p1 -[ br0 10.244.3.1 ]- shv-p2 --- pod2 10.244.3.3     bridged
#                                [    host      ] 198.18.0.1 --- 198.18.0.2 out    routed
#
# `out` routes 10.244.0.0/16 back via the host, so pod1 -> out is forwarded without NAT.  With
# br_netfilter (bridge-nf-call-iptables=1) even pod1 -> pod2 across br0 passes the iptables
# FORWARD chain; without it only the routed case does.
source "$(dirname "$0")/lib.sh"

NET=10.244.0.0/16
COMMENT="shoal: accept cluster network traffic"

# The tool: the Makefile target when it is current, else built here with the Makefile's flags.
TOOL=$BUILD/tests/fw_tool
if [ ! -x "$TOOL" ] || [ "$ROOT/tests/integration/fw_tool.c" -nt "$TOOL" ] || [ "$ROOT/fw/forward.c" -nt "$TOOL" ]; then
	TOOL=$BUILD/itest/fw_tool_fwd
	mkdir -p "$BUILD/itest"
	# shellcheck disable=SC2046
	check "build fw_tool" cc -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-Wformat=2 -Wno-unused-parameter -Wno-format-truncation -O2 -g -I"$ROOT" -D_GNU_SOURCE \
		-o "$TOOL.$$" "$ROOT/tests/integration/fw_tool.c" $(ls "$ROOT"/fw/*.c) "$ROOT/lib/cidr.c" \
		$(pkg-config --cflags --libs libnftnl libmnl)
	mv -f "$TOOL.$$" "$TOOL" 2>/dev/null
fi
[ -x "$TOOL" ] || { not_ok "fw_tool missing"; lab_done; exit 1; }

HOST=$(lab_host fwdhost)
P1=$(lab_netns fwdp1)
P2=$(lab_netns fwdp2)
OUT=$(lab_netns fwdout)

ip -n "$HOST" link add br0 type bridge
ip -n "$HOST" addr add 10.244.3.1/24 dev br0
ip -n "$HOST" link set br0 up
ip -n "$HOST" link add shv-p1 type veth peer name eth0 netns "$P1"
ip -n "$HOST" link add shv-p2 type veth peer name eth0 netns "$P2"
ip -n "$HOST" link add h-out type veth peer name eth0 netns "$OUT"
for d in shv-p1 shv-p2; do ip -n "$HOST" link set "$d" master br0 up; done
ip -n "$HOST" addr add 198.18.0.1/24 dev h-out
ip -n "$HOST" link set h-out up
ip -n "$P1" addr add 10.244.3.2/24 dev eth0
ip -n "$P2" addr add 10.244.3.3/24 dev eth0
ip -n "$OUT" addr add 198.18.0.2/24 dev eth0
for ns in "$P1" "$P2" "$OUT"; do ip -n "$ns" link set eth0 up; done
ip -n "$P1" route add default via 10.244.3.1
ip -n "$P2" route add default via 10.244.3.1
ip -n "$OUT" route add 10.244.0.0/16 via 198.18.0.1

fw()     { ip netns exec "$HOST" "$TOOL" "$@"; }
ipt()    { ip netns exec "$HOST" iptables "$@"; }
hnft()   { ip netns exec "$HOST" nft "$@"; }
probe()  { fw fwd-probe 2>&1; }
routed() { ip netns exec "$P1" ping -c1 -W1 198.18.0.2; }
bridged() { ip netns exec "$P1" ping -c1 -W1 10.244.3.3; }
# The FORWARD rules as iptables lists them (without the policy line).
ipt_rules() { ipt -S FORWARD | grep -v '^-P'; }
ours_listed() { ipt -S FORWARD | grep -c -- "--comment \"$COMMENT\"" ; }

# br_netfilter: built in or loadable?  Its sysctls exist per namespace once the module is loaded.
BRNF=0
if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && command -v modprobe >/dev/null; then
	modprobe br_netfilter 2>/dev/null
fi
if ip netns exec "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null; then
	BRNF=1
else
	echo "# br_netfilter not available in this kernel: the bridged case is not tested, only the routed one"
fi

# --- nothing of iptables yet: nothing to detect, nothing to override, nothing created
expect_eq "fresh namespace: probe finds no FORWARD chain" \
	"iptables_forward=no drop=no br_netfilter=$([ $BRNF = 1 ] && echo yes || echo no) ours=0 other=" "$(probe)"
err=$(fw fwd-allow $NET 2>&1); rc=$?
expect_eq "allow without ip filter FORWARD: -ENOENT (exit 3)" 3 "$rc"
expect_eq "allow without the chain says so" \
	"fw_tool fwd-allow: chain ip filter FORWARD does not exist: nothing to override" "$err"
expect_eq "allow without the chain created nothing" "" "$(hnft list tables)"
check "remove without the chain succeeds" fw fwd-remove $NET
check "control: routed pod1 -> out flows with no firewall" routed
[ $BRNF = 1 ] && check "control: bridged pod1 -> pod2 flows with no firewall" bridged

# --- Docker's FORWARD DROP, and a rule of someone else's
ipt -P FORWARD DROP
ipt -A FORWARD -s 10.99.0.0/16 -j ACCEPT
foreign="-A FORWARD -s 10.99.0.0/16 -j ACCEPT"
expect_eq "probe reports iptables FORWARD policy drop" \
	"iptables_forward=yes drop=yes br_netfilter=$([ $BRNF = 1 ] && echo yes || echo no) ours=0 other=" "$(probe)"
check_fails "FORWARD DROP blocks routed pod1 -> out" routed
if [ $BRNF = 1 ]; then
	check_fails "FORWARD DROP blocks bridged pod1 -> pod2 (br_netfilter)" bridged
	ip netns exec "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	expect_eq "probe: bridge-nf-call-iptables=0 is reported" "br_netfilter=no" "$(probe | grep -o 'br_netfilter=[a-z]*')"
	check "control: without bridge-nf-call-iptables bridged traffic skips iptables" bridged
	ip netns exec "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=1
fi

# --- allow: both directions flow, iptables lists our two rules cleanly
check "allow $NET" fw fwd-allow $NET
expect_eq "iptables -S FORWARD shows the foreign rule and our two, in order" \
	"$foreign|-A FORWARD -s $NET -m comment --comment \"$COMMENT\" -j ACCEPT|-A FORWARD -d $NET -m comment --comment \"$COMMENT\" -j ACCEPT" \
	"$(ipt_rules | paste -sd'|')"
expect_eq "probe counts our two rules" "ours=2" "$(probe | grep -o 'ours=[0-9]*')"
check "after allow: routed pod1 -> out flows" routed
[ $BRNF = 1 ] && check "after allow: bridged pod1 -> pod2 flows" bridged
expect_eq "policy is still drop (we add rules, we never change the policy)" "-P FORWARD DROP" "$(ipt -S FORWARD | head -1)"
pkts=$(ipt -L FORWARD -v -n -x | awk -v c="$COMMENT" 'index($0, c) {s += $1} END {print s + 0}')
[ "$pkts" -gt 0 ] && ok "our rules counted the packets ($pkts)" || not_ok "our rules counted the packets ($pkts)"

# --- idempotent
check "allow again" fw fwd-allow $NET
expect_eq "second allow adds nothing" 3 "$(ipt_rules | wc -l)"
# a duplicate of ours (a crash between two runs, say) is folded away
hnft add rule ip filter FORWARD ip saddr $NET counter accept comment "\"$COMMENT\""
check "allow with a duplicate of ours present" fw fwd-allow $NET
expect_eq "duplicate removed: our rules are two again" 2 "$(ours_listed)"

# --- iptables-save | iptables-restore (netfilter-persistent at boot) turns our nft comment into an
# xt comment match: the rules are still ours, allow adds no twin, remove finds them
ipt-save() { ip netns exec "$HOST" iptables-save; }
ipt-save >"$LAB_TMP/ipt.save" && ip netns exec "$HOST" iptables-restore <"$LAB_TMP/ipt.save"
hnft --debug=netlink list chain ip filter FORWARD 2>/dev/null | grep -q 'match name comment' &&
	ok "after iptables-restore our comments are xt comment matches" ||
	not_ok "after iptables-restore our comments are xt comment matches"
expect_eq "probe still counts two of ours after iptables-restore" "ours=2" "$(probe | grep -o 'ours=[0-9]*')"
check "allow after iptables-restore" fw fwd-allow $NET
expect_eq "allow after iptables-restore adds no twin" 2 "$(ours_listed)"
check "after iptables-restore: routed pod1 -> out flows" routed

# --- the cluster network changed: allow replaces the old network's rules in one batch
check "allow 10.245.0.0/16 (as after a config change)" fw fwd-allow 10.245.0.0/16
expect_eq "only the new network's rules are ours now" "2 0" \
	"$(ipt -S FORWARD | grep -c -- "10.245.0.0/16 -m comment") $(ipt -S FORWARD | grep -c -- "$NET -m comment")"
check "allow $NET again" fw fwd-allow $NET

# --- a drop elsewhere: an operator's own inet table; our accept cannot override it, probe names it
hnft add table inet opfw
hnft add chain inet opfw guard '{ type filter hook forward priority 0; policy drop; }'
expect_eq "probe names the other dropping chain" "other=inet opfw guard" "$(probe | grep -o 'other=.*')"
check_fails "a drop in another table still blocks, whatever our rules say" routed
hnft delete table inet opfw
check "without it traffic flows again" routed

# --- remove: exactly ours go, the foreign rules stay, traffic is blocked again
ipt -A FORWARD -d $NET -j ACCEPT -i nonexistent0   # same match as ours plus -i, no comment
hnft add rule ip filter FORWARD ip daddr $NET counter accept   # same match as ours, no comment
foreign_after="$(ipt_rules | grep -v -- "--comment \"$COMMENT\"" | paste -sd'|')"
check "remove $NET" fw fwd-remove $NET
expect_eq "after remove: no rule of ours is left" 0 "$(ours_listed)"
expect_eq "after remove: every foreign rule survives, in order" "$foreign_after" "$(ipt_rules | paste -sd'|')"
expect_eq "after remove: 3 foreign rules" 3 "$(ipt_rules | wc -l)"
# the operator's comment-less twins of ours would let traffic through: take them away again
check "operator deletes their -d $NET -j ACCEPT" ipt -D FORWARD -d $NET -j ACCEPT
check "operator deletes their -i nonexistent0 -d $NET -j ACCEPT" ipt -D FORWARD -d $NET -j ACCEPT -i nonexistent0
expect_eq "only the first foreign rule is left" "$foreign" "$(ipt_rules)"
check_fails "after remove: routed pod1 -> out blocked again" routed
[ $BRNF = 1 ] && check_fails "after remove: bridged pod1 -> pod2 blocked again" bridged
check "remove twice succeeds" fw fwd-remove $NET
expect_eq "policy still drop after remove" "-P FORWARD DROP" "$(ipt -S FORWARD | head -1)"

# --- remove any: every rule of ours, for whichever network
check "allow 10.245.0.0/16" fw fwd-allow 10.245.0.0/16
check "remove any" fw fwd-remove any
expect_eq "remove any: nothing of ours, foreign rule intact" "0 1" "$(ours_listed) $(ipt_rules | wc -l)"

# --- errors: no CAP_NET_ADMIN, and a /0 network
err=$(ip netns exec "$HOST" setpriv --bounding-set=-net_admin -- "$TOOL" fwd-allow $NET 2>&1)
expect_eq "allow without CAP_NET_ADMIN fails readably" "fw_tool fwd-allow: list ip filter FORWARD: Operation not permitted" "$err"
check_fails "allow 0.0.0.0/0 is refused" fw fwd-allow 0.0.0.0/0
expect_eq "nothing added by the refused calls" 0 "$(ours_listed)"

# --- the chain goes away (iptables flushed and the table deleted): remove is a no-op, allow refuses
check "allow before the table goes" fw fwd-allow $NET
hnft delete table ip filter
check "remove after the table went succeeds" fw fwd-remove $NET
fw fwd-allow $NET >/dev/null 2>&1
expect_eq "allow after the table went: exit 3, nothing created" "3 " "$? $(hnft list tables)"

lab_done
