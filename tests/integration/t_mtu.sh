#!/usr/bin/env bash
# MTU drift: without "mtu" in the config the pods' MTU derives from the underlay (minus VXLAN's 50),
# but a node keeps the MTU its pods already have when the underlay's grows across a restart
# (new pods with another MTU than the running ones would lose large packets between them), and
# says so.  Only an explicit "mtu" changes it, and CHECK then reports the pods made before.  An
# underlay that shrank below the pods' MTU cannot carry it: the smaller MTU wins, with an error.
. "$(dirname "$0")/lib.sh"
H=$(lab_host h1)
# The underlay: a veth (this kernel has no dummy driver) holding the default route.
ip -n "$H" link add up0 type veth peer name up0p
ip -n "$H" link set up0p up
ip -n "$H" link set up0 mtu 1500 up
ip -n "$H" addr add 198.18.9.1/24 dev up0
ip -n "$H" route add default via 198.18.9.254
status_mtu() { "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq -r .mtu; }
pod_mtu() { ip -n "$LAB-$1" -o link show eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
check_pod() { cni_conf h1 1.1.0 '"prevResult": '"$(cat "$LAB_TMP/$1.result")" | cni CHECK "$LAB-$1" "$(netns_path "$1")" eth0; }

check "precondition: the lab host has a default route via up0" bash -c "ip -n $H route show default | grep -q 'dev up0'"
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
expect_eq "the MTU derives from the underlay (1500 - 50)" 1450 "$(status_mtu)"
container_add h1 c1 || not_ok "ADD c1"
expect_eq "a pod gets it" 1450 "$(pod_mtu c1)"
expect_eq "subnet.json remembers it" 1450 "$(jq -r .mtu "$LAB_TMP/state-h1/subnet.json")"

shoald_stop h1
ip -n "$H" link set up0p mtu 9000
ip -n "$H" link set up0 mtu 9000
shoald_start h1 || not_ok "shoald restarts after the underlay's MTU changed"
expect_eq "the node keeps its pods' MTU" 1450 "$(status_mtu)"
check "and warns, naming both and the way to change it" grep -q "the underlay now gives pods an MTU of 8950, but this node's pods have 1450: keeping 1450" \
	"$LAB_TMP/shoald-h1.log"
container_add h1 c2 || not_ok "ADD c2"
expect_eq "a new pod gets the same MTU as the old ones" 1450 "$(pod_mtu c2)"
check "CHECK of the old pod passes" check_pod c1

shoald_stop h1
shoald_conf h1 '"mtu": 8950' >/dev/null
shoald_start h1 || not_ok "shoald restarts with an explicit mtu"
expect_eq "an explicit mtu changes it" 8950 "$(status_mtu)"
check "and says the pods made before keep theirs" grep -q "MTU 8950 set by the config (pods made before have 1450" "$LAB_TMP/shoald-h1.log"
container_add h1 c3 || not_ok "ADD c3"
expect_eq "a new pod gets the new MTU" 8950 "$(pod_mtu c3)"
out=$(check_pod c1); rc=$?
expect_eq "CHECK reports a pod whose MTU differs from the node's" "1 104" "$rc $(jq -r .code <<<"$out")"
check "naming both MTUs" grep -q "MTU 1450 differs from the node's 8950" <<<"$(jq -r .details <<<"$out")"
check "CHECK of the new pod passes" check_pod c3
expect_eq "subnet.json remembers the new MTU" 8950 "$(jq -r .mtu "$LAB_TMP/state-h1/subnet.json")"

# A smaller underlay cannot carry the pods' MTU any more: the new one wins, loudly.
shoald_stop h1
shoald_conf h1 >/dev/null
ip -n "$H" link set up0 mtu 1400
ip -n "$H" link set up0p mtu 1400
shoald_start h1 || not_ok "shoald restarts after the underlay's MTU shrank"
expect_eq "a shrunk underlay lowers the node's MTU (1400 - 50)" 1350 "$(status_mtu)"
check "and says the pods made before must be re-created" grep -q "the underlay now gives pods an MTU of 1350, below the 8950 this node's pods have" \
	"$LAB_TMP/shoald-h1.log"
container_add h1 c4 || not_ok "ADD c4"
expect_eq "a new pod gets the smaller MTU" 1350 "$(pod_mtu c4)"
lab_done
