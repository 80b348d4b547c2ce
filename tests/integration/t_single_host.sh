#!/usr/bin/env bash
# One host end to end: the real plugin, executed as runtimes do, against shoald on the file store.
. "$(dirname "$0")/lib.sh"

H=$(lab_host h1)
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
ok "shoald starts"
# The file store never loads OpenSSL (only etcds:// does: store/tls.h).
check_fails "shoald on the file store has not loaded libssl" grep -q libssl "/proc/$(shoald_pid h1)/maps"

# --- ADD three containers; results; connectivity
for c in a b c; do
	check "ADD $c" container_add h1 $c
done
GW=$(jq -r '.ips[0].gateway' "$LAB_TMP/a.result")
expect_eq "result has cniVersion 1.1.0" "1.1.0" "$(jq -r .cniVersion "$LAB_TMP/a.result")"
expect_eq "result names eth0 in the sandbox" "eth0 $(netns_path a)" "$(jq -r '.interfaces[1].name + " " + .interfaces[1].sandbox' "$LAB_TMP/a.result")"
expect_eq "three distinct addresses" 3 "$(for c in a b c; do container_ip $c; done | sort -u | wc -l)"
check "container a reaches the gateway" ip netns exec "$LAB-a" ping -c1 -W2 "$GW"
check "container a reaches container b" ip netns exec "$LAB-a" ping -c1 -W2 "$(container_ip b)"
check "container c reaches container a" ip netns exec "$LAB-c" ping -c1 -W2 "$(container_ip a)"
expect_eq "eth0 inside has the address" "$(jq -r '.ips[0].address' "$LAB_TMP/a.result")" \
	"$(ip -n "$LAB-a" -4 -o addr show eth0 | awk '{print $4}')"
expect_eq "lo is up inside" 1 "$(ip -n "$LAB-a" link show lo | grep -c ',UP')"
expect_eq "default route via the gateway" "default via $GW dev eth0" "$(ip -n "$LAB-a" route show default | sed 's/ *$//')"
hv=$(jq -r '.interfaces[0].name' "$LAB_TMP/a.result")
expect_eq "host veth is on the bridge" "shoal0" "$(ip -n "$H" -o link show "$hv" | grep -o 'master [^ ]*' | cut -d' ' -f2)"

# --- netctl
check "netctl status" "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status
expect_eq "netctl workload list -o json shows 3" 3 \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" workload list -o json | jq '[.[]? // .workloads[]?] | length')"
check "netctl workload list shows container a" bash -c "'$BUILD/netctl' --socket '$LAB_TMP/h1.sock' workload list | grep -q '$LAB-a'"

# --- every spec version gets its own result shape
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	n=v${v//./}
	lab_netns $n >/dev/null
	cni_conf h1 $v | cni ADD "$LAB-$n" "$(netns_path $n)" eth0 >"$LAB_TMP/$n.result"
	got=$(jq -r '.cniVersion + " " + (.ips[0].version // "none")' "$LAB_TMP/$n.result")
	case $v in 0.*) want="$v 4" ;; *) want="$v none" ;; esac
	expect_eq "ADD result in version $v" "$want" "$got"
	cni_conf h1 $v | cni DEL "$LAB-$n" "$(netns_path $n)" eth0 >/dev/null
done

# --- CHECK
chk() { cni_conf h1 1.1.0 "\"prevResult\": $(cat "$LAB_TMP/$1.result")" | cni CHECK "$LAB-$1" "$(netns_path $1)" eth0; }
check "CHECK passes after ADD" chk a
ip -n "$H" link del "$(jq -r '.interfaces[0].name' "$LAB_TMP/b.result")"
out=$(chk b); rc=$?
expect_eq "CHECK fails after the veth was deleted" "1 104" "$([ $rc -ne 0 ] && echo 1) $(echo "$out" | jq -r .code)"

out=$(cni_conf h1 1.1.0 "\"prevResult\": $(jq '.ips[0].address = "10.244.99.99/24"' "$LAB_TMP/a.result")" |
	cni CHECK "$LAB-a" "$(netns_path a)" eth0); rc=$?
expect_eq "CHECK fails when prevResult names another address" "1 104" "$([ $rc -ne 0 ] && echo 1) $(echo "$out" | jq -r .code)"

# --- DEL: twice, with the netns gone, never added
check "DEL a" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL $LAB-a $(netns_path a) eth0"
check "DEL a again" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL $LAB-a $(netns_path a) eth0"
ip netns del "$LAB-c"
check "DEL with the netns already deleted" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL $LAB-c /var/run/netns/$LAB-c eth0"
check "DEL of a container never added" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL never-added '' eth0"
check "DEL without CNI_NETNS" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL $LAB-b '' eth0"
# Deletion of host veths is deferred; they go within a moment.
wait_settled h1
expect_eq "no host veth left after DELs" 0 "$(ip -n "$H" -o link show type veth | grep -c shv)"
expect_eq "no attachment records left" 0 "$(ls "$LAB_TMP/state-h1/attachments" "$LAB_TMP/state-h1/releasing" | grep -c json)"
st=$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json)
expect_eq "all addresses free again" "0 253" "$(echo "$st" | jq -r '"\(.workloads) \(.addressesFree)"')"

# --- GC
for c in g1 g2 g3; do container_add h1 $c; done
# An attachment of another CNI network on the same shoald: not this GC's to remove.
lab_netns other >/dev/null
cni_conf h1 | jq -c '.name = "other-net"' | cni ADD "$LAB-other" "$(netns_path other)" eth0 >/dev/null
cni_conf h1 1.1.0 "\"cni.dev/valid-attachments\": [{\"containerID\": \"$LAB-g2\", \"ifname\": \"eth0\"}]" |
	cni GC "" "" "" >/dev/null
check "GC succeeds" test $? -eq 0
expect_eq "GC keeps exactly the valid attachment" "$LAB-g2" \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" workload list -o json | jq -r '[(.[]? // .workloads[]?) | select(.state == "active" and .network == "shoal-lab") | .containerId] | join(",")')"
expect_eq "GC leaves other networks' attachments alone" "$LAB-other" \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" workload list -o json | jq -r '[(.[]? // .workloads[]?) | select(.network == "other-net") | .containerId] | join(",")')"
cni_conf h1 | jq -c '.name = "other-net"' | cni DEL "$LAB-other" "$(netns_path other)" eth0 >/dev/null

# --- STATUS, and shoald down
# A DEL record older than the attachment it names (written by a plugin that timed out before the
# runtime re-added the container) must not remove the newer attachment.
container_add h1 keep
hv_keep=$(jq -r '.interfaces[0].name' "$LAB_TMP/keep.result")
check "STATUS succeeds with shoald up" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni STATUS '' '' ''"
shoald_stop h1
out=$(cni_conf h1 | cni STATUS "" "" ""); rc=$?
expect_eq "STATUS with shoald down: code 50" "1 50" "$([ $rc -ne 0 ] && echo 1) $(echo "$out" | jq -r .code)"
lab_netns d >/dev/null
out=$(cni_conf h1 | cni ADD "$LAB-d" "$(netns_path d)" eth0); rc=$?
expect_eq "ADD with shoald down: code 11" "1 11" "$([ $rc -ne 0 ] && echo 1) $(echo "$out" | jq -r .code)"
expect_eq "failed ADD leaves no interface in the container" 1 "$(ip -n "$LAB-d" -o link | wc -l)"
check "DEL with shoald down succeeds" bash -c "$(declare -f cni cni_conf); LAB=$LAB LAB_TMP=$LAB_TMP BUILD=$BUILD; cni_conf h1 | cni DEL $LAB-g2 $(netns_path g2) eth0"
expect_eq "DEL with shoald down leaves a pending record" 1 "$(ls "$LAB_TMP/state-h1/pending-del" | wc -l)"
# Plugin-written records carry the time of the DEL; this one predates the attachment.
echo "{\"containerId\": \"$LAB-keep\", \"ifname\": \"eth0\", \"netns\": \"\", \"time\": 1}" \
	>"$LAB_TMP/state-h1/pending-del/$hv_keep.json"
shoald_start h1 || not_ok "shoald restarts"
wait_settled h1
expect_eq "restart finishes the pending DEL (only the kept veth remains)" "0 1" \
	"$(ls "$LAB_TMP/state-h1/pending-del" | wc -l) $(ip -n "$H" -o link show type veth | grep -c shv)"
expect_eq "a stale pending DEL leaves the newer attachment alone" 1 "$(ip -n "$H" -o link show "$hv_keep" | wc -l)"
expect_eq "restart keeps the subnet" "$GW" "$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq -r .gateway)"

# --- the pod a runtime names in CNI_ARGS is recorded, listed and logged, ADD and DEL alike
CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;K8S_POD_UID=0f1e2d3c-4b5a-6978" container_add h1 pod1 \
	|| not_ok "ADD with Kubernetes CNI_ARGS"
expect_eq "workload list shows the pod's namespace, name and UID" "prod web-0 0f1e2d3c-4b5a-6978" \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" workload list -o json | jq -r --arg id "$LAB-pod1" \
	   '.[] | select(.containerId == $id) | "\(.namespace) \(.pod) \(.podUID)"')"
check "one info line per ADD names container, pod and address" \
	grep -qE "info: ADD $LAB-pod1/eth0 pod prod/web-0: 10\.244\.[0-9.]+/24 on shv" "$LAB_TMP/shoald-h1.log"
cni_conf h1 | cni DEL "$LAB-pod1" "$(netns_path pod1)" eth0 >/dev/null
check "one info line per DEL names container, pod and address" \
	grep -qE "info: DEL $LAB-pod1/eth0 pod prod/web-0: releasing 10\.244\.[0-9.]+ on shv" "$LAB_TMP/shoald-h1.log"

# --- no underlay (this lab host has no default route): no VXLAN device, nothing announced for it
expect_eq "no VXLAN device without an underlay" 0 "$(ip -n "$H" -o link show type vxlan | wc -l)"
expect_eq "the lease announces no underlay address and no VTEP MAC" '"" ""' \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" subnet list -o json | jq -r '.[0] | "\"\(.publicIP)\" \"\(.vtepMAC)\""')"
check "netctl subnet list shows - for both" bash -c "\"$BUILD/netctl\" --socket $LAB_TMP/h1.sock subnet list | awk 'NR == 2 { exit !(\$3 == \"-\" && \$4 == \"-\") }'"

# --- SIGHUP: logLevel applies at once; a key that needs a restart is named as such
jq '.logLevel = "debug" | .vni = 7' "$LAB_TMP/h1.json" >"$LAB_TMP/h1.json.new" && mv "$LAB_TMP/h1.json.new" "$LAB_TMP/h1.json"
kill -HUP "$(shoald_pid h1)"
for _ in $(seq 50); do grep -q "take effect after a restart" "$LAB_TMP/shoald-h1.log" && break; sleep 0.1; done
check "SIGHUP applies logLevel" grep -q "log level changed" "$LAB_TMP/shoald-h1.log"
check "SIGHUP says other changes (vni) need a restart" grep -q "changes other than logLevel take effect after a restart" \
	"$LAB_TMP/shoald-h1.log"
check "shoald keeps serving after SIGHUP" "$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status

# --- masquerade to outside the cluster network: an "outside" namespace without a route back
O=$(lab_netns out)
ip link add "$LAB-u0" netns "$H" type veth peer name "$LAB-u1" netns "$O"
ip -n "$H" addr add 198.18.0.1/24 dev "$LAB-u0"; ip -n "$H" link set "$LAB-u0" up
ip -n "$O" addr add 198.18.0.2/24 dev "$LAB-u1"; ip -n "$O" link set "$LAB-u1" up
container_add h1 m
check "container reaches outside through masquerade" ip netns exec "$LAB-m" ping -c1 -W2 198.18.0.2
check "nftables table inet shoal exists" bash -c "ip netns exec $H nft list table inet shoal | grep -q masquerade"
# SIGTERM must leave the data plane alone, and stop even with a client connection open.
python3 -c "import socket,time,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(5)" \
	"$LAB_TMP/h1.sock" &
idle=$!
sleep 0.2
check "shoald stops on SIGTERM with an idle client connected" shoald_stop h1
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
check "traffic keeps flowing with shoald stopped" ip netns exec "$LAB-m" ping -c1 -W2 198.18.0.2
lab_done
