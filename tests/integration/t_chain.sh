#!/usr/bin/env bash
# Chaining: shoal first, then Debian's portmap, tuning and firewall, executed the way libcni does
# (prevResult handed from plugin to plugin on ADD, the cached result to every plugin on DEL, in
# reverse order).  Real traffic goes through the port mapping.
. "$(dirname "$0")/lib.sh"
CNI_BIN=/usr/lib/cni
H=$(lab_host h1)
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }

cat >"$LAB_TMP/chain.conflist" <<EOC
{ "cniVersion": "1.0.0", "name": "shoal-chain", "plugins": [
  { "type": "shoal", "socket": "$LAB_TMP/h1.sock", "stateDir": "$LAB_TMP/state-h1" },
  { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true },
  { "type": "tuning", "sysctl": { "net.core.somaxconn": "512" } },
  { "type": "firewall" } ] }
EOC

# chain_exec CMD ID NETNS: run every plugin of the conflist inside the host namespace.
chain_exec() {
	local cmd=$1 id=$2 netns=$3 list=$LAB_TMP/chain.conflist prev="" n i order conf out rc
	n=$(jq '.plugins | length' "$list")
	# CHECK and DEL get the cached final result of the ADD as prevResult; DEL runs backwards.
	[ "$cmd" != ADD ] && prev=$(cat "$LAB_TMP/$id.cached" 2>/dev/null)
	if [ "$cmd" = DEL ]; then order=$(seq $((n - 1)) -1 0); else order=$(seq 0 $((n - 1))); fi
	for i in $order; do
		conf=$(jq -c --argjson i "$i" '.plugins[$i] + {cniVersion: .cniVersion, name: .name}
			| if .capabilities.portMappings then . + {runtimeConfig: {portMappings: [{hostPort: 8080, containerPort: 80, protocol: "tcp"}]}} else . end' "$list")
		[ -n "$prev" ] && conf=$(jq -c --argjson p "$prev" '. + {prevResult: $p}' <<<"$conf")
		type=$(jq -r .type <<<"$conf")
		# Debian's portmap 1.1.1 fails its own CHECK on IPv4-only results: it looks for an IPv6 DNAT
		# chain it never created (containernetworking/plugins#819).  Its ADD and DEL are tested here.
		[ "$cmd" = CHECK ] && [ "$type" = portmap ] && continue
		out=$(echo "$conf" | ip netns exec "$H" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$cmd" \
			CNI_CONTAINERID="$id" CNI_NETNS="$netns" CNI_IFNAME=eth0 CNI_PATH="$BUILD:$CNI_BIN" \
			"$( [ "$type" = shoal ] && echo "$BUILD/shoal" || echo "$CNI_BIN/$type")")
		rc=$?
		if [ $rc -ne 0 ]; then echo "# $cmd $type failed: $out"; return $rc; fi
		[ "$cmd" = ADD ] && prev=$out
	done
	[ "$cmd" = ADD ] && echo "$prev" >"$LAB_TMP/$id.cached"
	return 0
}

C=$(lab_netns web)
check "ADD through shoal, portmap, tuning, firewall" chain_exec ADD "$C" "$(netns_path web)"
expect_eq "final result still carries shoal's address" 1 "$(jq '[.ips[] | select(.address | startswith("10.244."))] | length' "$LAB_TMP/$C.cached")"
expect_eq "tuning applied its sysctl inside the container" 512 "$(ip netns exec "$C" sysctl -n net.core.somaxconn)"

# Outside namespace on an underlay link to the host; it has no route to the pod network.
O=$(lab_netns out)
ip link add "$LAB-u0" netns "$H" type veth peer name "$LAB-u1" netns "$O"
ip -n "$H" addr add 198.18.0.1/24 dev "$LAB-u0"; ip -n "$H" link set "$LAB-u0" up
ip -n "$O" addr add 198.18.0.2/24 dev "$LAB-u1"; ip -n "$O" link set "$LAB-u1" up
echo shoal-chain-ok >"$LAB_TMP/index.html"
ip netns exec "$C" python3 -m http.server 80 --bind 0.0.0.0 --directory "$LAB_TMP" >/dev/null 2>&1 &
LAB_PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$C" bash -c 'exec 3<>/dev/tcp/127.0.0.1/80' 2>/dev/null && break; sleep 0.1; done
expect_eq "portmap: host port 8080 reaches the container's port 80" shoal-chain-ok \
	"$(ip netns exec "$O" curl -s --max-time 5 http://198.18.0.1:8080/index.html)"

check "CHECK through shoal, tuning and firewall" chain_exec CHECK "$C" "$(netns_path web)"
check "DEL through the chain" chain_exec DEL "$C" "$(netns_path web)"
check "DEL through the chain again" chain_exec DEL "$C" "$(netns_path web)"
expect_eq "no interface left in the container" 0 "$(ip -n "$C" -o link | grep -vc ': lo:')"
expect_eq "portmap removed its DNAT" "" "$(ip netns exec "$O" curl -s --max-time 2 http://198.18.0.1:8080/index.html)"
lab_done
