#!/usr/bin/env bash
# shoald and someone else's FORWARD policy: a host whose iptables FORWARD policy is DROP (as Docker
# sets it) drops pod traffic that shoald's own tables cannot accept.  shoald reports it (status,
# log); with "forwardAccept": true it accepts the cluster network in that chain, and takes exactly
# its rules out again when the option is turned off.
. "$(dirname "$0")/lib.sh"
command -v iptables >/dev/null || { echo "ok - skipped: no iptables"; lab_done; exit 0; }
H=$(lab_host h1)
O=$(lab_netns out)
ip link add "$LAB-u0" netns "$H" type veth peer name "$LAB-u1" netns "$O"
ip -n "$H" addr add 198.18.0.1/24 dev "$LAB-u0"; ip -n "$H" link set "$LAB-u0" up
ip -n "$O" addr add 198.18.0.2/24 dev "$LAB-u1"; ip -n "$O" link set "$LAB-u1" up
ip netns exec "$H" iptables -P FORWARD DROP
ip netns exec "$H" iptables -A FORWARD -s 198.51.100.0/24 -j ACCEPT   # a foreign rule that must survive

shoald_conf h1 '"reconcileInterval": 1' >/dev/null
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
container_add h1 c1 || not_ok "ADD c1"
status() { "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json; }
check "status names the dropping FORWARD policy" bash -c "[[ \"\$(cat)\" == *FORWARD* ]]" <<<"$(status | jq -r .forwardDrop)"
check "the log says so and names the option" grep -q "forwarded traffic is dropped by iptables' filter FORWARD policy.*forwardAccept" \
	"$LAB_TMP/shoald-h1.log"
check_fails "pod traffic leaving the host is dropped (forwardAccept off)" ip netns exec "$LAB-c1" ping -c1 -W1 198.18.0.2

shoald_stop h1
shoald_conf h1 '"reconcileInterval": 1, "forwardAccept": true' >/dev/null
shoald_start h1 || not_ok "shoald restarts with forwardAccept"
expect_eq "status reports forwardAccept" true "$(status | jq -r .forwardAccept)"
check "pod traffic leaving the host flows (forwardAccept on)" ip netns exec "$LAB-c1" ping -c1 -W2 198.18.0.2
expect_eq "two accept rules for the cluster network in FORWARD" 2 \
	"$(ip netns exec "$H" iptables -S FORWARD | grep -c '10.244.0.0/16.*shoal: accept cluster network traffic.*ACCEPT')"
# A firewall reload flushes FORWARD: the next reconcile puts the rules back.
ip netns exec "$H" iptables -F FORWARD
ip netns exec "$H" iptables -A FORWARD -s 198.51.100.0/24 -j ACCEPT
for _ in $(seq 50); do ip netns exec "$LAB-c1" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.2; done
check "reconcile restores the rules after a flush" ip netns exec "$LAB-c1" ping -c1 -W2 198.18.0.2

shoald_stop h1
shoald_conf h1 '"reconcileInterval": 1' >/dev/null
shoald_start h1 || not_ok "shoald restarts without forwardAccept"
expect_eq "turning it off removes exactly shoal's rules" "0 1" \
	"$(ip netns exec "$H" iptables -S FORWARD | grep -c 'shoal: accept') $(ip netns exec "$H" iptables -S FORWARD | grep -c 198.51.100.0/24)"
check_fails "and pod traffic leaving the host is dropped again" ip netns exec "$LAB-c1" ping -c1 -W1 198.18.0.2
lab_done
