#!/usr/bin/env bash
# make demo: one simulated host (a network namespace, so nothing on this machine changes), shoald on
# the embedded file store, three containers attached through the real CNI plugin, a look at
# netctl, pings between them, then everything torn down.
set -u
cd "$(dirname "$0")/.."
B=$PWD/${B:-build}
P=shoal-demo-$$
TMP=$(mktemp -d /tmp/$P.XXXX)
SHOALD=""
cleanup() {
	[ -n "$SHOALD" ] && kill "$SHOALD" 2>/dev/null && wait "$SHOALD" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (it creates network namespaces)"; exit 1; }

step "A simulated host: network namespace $P-host"
ip netns add "$P-host"
ip -n "$P-host" link set lo up
cat >"$TMP/shoald.json" <<EOC
{ "node": "demo-host", "store": "file:$TMP/store", "network": "10.244.0.0/16", "subnetLen": 24,
  "stateDir": "$TMP/state", "socket": "$TMP/shoald.sock" }
EOC
cat "$TMP/shoald.json"

step "Start shoald on the embedded file store"
ip netns exec "$P-host" "$B/shoald" --config "$TMP/shoald.json" 2>"$TMP/shoald.log" &
SHOALD=$!
for _ in $(seq 100); do [ -S "$TMP/shoald.sock" ] && break; sleep 0.05; done
sed 's/^/  shoald | /' "$TMP/shoald.log"
[ -S "$TMP/shoald.sock" ] || { echo "shoald did not start"; exit 1; }

step "Attach three containers through the CNI plugin (CNI_COMMAND=ADD, config on stdin)"
conf='{"cniVersion":"1.1.0","name":"demo","type":"shoal","socket":"'$TMP/shoald.sock'","stateDir":"'$TMP/state'"}'
for c in web api db; do
	ip netns add "$P-$c"
	start=$(date +%s%N)
	echo "$conf" | CNI_COMMAND=ADD CNI_CONTAINERID="$P-$c" CNI_NETNS="/var/run/netns/$P-$c" CNI_IFNAME=eth0 \
		CNI_PATH="$B" "$B/shoal" >"$TMP/$c.json" || { cat "$TMP/$c.json"; exit 1; }
	end=$(date +%s%N)
	printf '  %-4s -> %-16s (ADD took %d.%03d ms including exec)\n' "$c" "$(jq -r '.ips[0].address' "$TMP/$c.json")" \
		$(((end - start) / 1000000)) $((((end - start) / 1000) % 1000))
done

step "netctl status / workload list"
"$B/netctl" --socket "$TMP/shoald.sock" status
echo
"$B/netctl" --socket "$TMP/shoald.sock" workload list

step "Ping between containers"
ip_of() { jq -r '.ips[0].address' "$TMP/$1.json" | cut -d/ -f1; }
for pair in "web api" "api db" "db web"; do
	set -- $pair
	if ip netns exec "$P-$1" ping -c1 -W2 "$(ip_of "$2")" >/dev/null; then
		printf '  %-4s -> %-4s (%s): ok\n' "$1" "$2" "$(ip_of "$2")"
	else
		printf '  %-4s -> %-4s (%s): FAILED\n' "$1" "$2" "$(ip_of "$2")"; exit 1
	fi
done

step "Tear down: CNI DEL for each container, stop shoald, remove the namespaces"
for c in web api db; do
	echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID="$P-$c" CNI_NETNS="/var/run/netns/$P-$c" CNI_IFNAME=eth0 \
		CNI_PATH="$B" "$B/shoal" && echo "  DEL $c: ok"
done
echo
echo "Demo complete: three containers attached, listed, pinged and detached."
