#!/usr/bin/env bash
# The etcd store backend (docs/store.md) against a real etcd (Debian's etcd-server 3.4) running in
# the lab's underlay namespace at 198.18.0.254:2379: store.h's semantics through a driver built
# here (tests/integration/store_tool.c); four shoald in four host namespaces claim distinct
# subnets; a restart keeps the subnet; with etcd stopped a daemon keeps serving status, ADD and DEL
# and renews its lease once etcd is back; compaction behind running watchers is one re-list, not a
# loop; a dead endpoint costs one connect attempt per backoff, not one per request; etcds:// with a
# client certificate works, a wrong CA or a missing certificate fails with a clear message.
. "$(dirname "$0")/lib.sh"

command -v etcd >/dev/null && command -v etcdctl >/dev/null || { not_ok "etcd and etcdctl installed (make deps)"; lab_done; exit 1; }

EP=198.18.0.254:2379
URL=etcd://$EP
CONF='"leaseTTL": 10'
tool=$LAB_TMP/store_tool
metric() {   # requests etcd has started (gRPC, the gateway's included), by method regex
	ip netns exec "$LAB-underlay" curl -s "http://$EP/metrics" |
		awk -v m="$1" '/^grpc_server_started_total/ && $0 ~ "grpc_method=\"(" m ")\"" { s += $2 } END { print s + 0 }'
}
has_subnet() { [ -n "$(shoald_field "$1" subnet)" ]; }
del_container() { cni_conf "$1" | cni DEL "$LAB-$2" "$(netns_path "$2")" eth0; }
# Each shoald watches two prefixes (subnets/ for its peers, policies/ for bandwidth policies).
compacted_since() {
	log_since "$1" "$2" | grep -q "watch of subnets/ was compacted" &&
		log_since "$1" "$2" | grep -q "watch of policies/ was compacted"
}
subnets() { netctl_json "$1" subnet list | jq -c '[.[]? // .subnets[]? | {subnet, node}] | sort_by(.node)'; }

# --- the driver, from the build's objects
# shellcheck disable=SC2046
if ! cc -std=gnu11 -g -I"$ROOT" -D_GNU_SOURCE -o "$tool" "$ROOT/tests/integration/store_tool.c" \
	"$BUILD"/obj/store/*.o "$BUILD/obj/lib/base64.o" "$BUILD/obj/lib/log.o" "$BUILD/obj/lib/fileio.o" \
	$(pkg-config --cflags --libs jansson libuv) -lhttp_parser -ldl $(grep -q fsanitize "$BUILD/.flags" 2>/dev/null && echo -fsanitize=address,undefined) \
	2>"$LAB_TMP/tool.log"; then
	not_ok "store_tool builds"; sed 's/^/#   /' "$LAB_TMP/tool.log" | head; lab_done; exit 1
fi

# --- the lab: etcd on the underlay bridge, hosts h1..h4 on it
lab_underlay >/dev/null || { not_ok "underlay"; lab_done; exit 1; }
for i in 1 2 3 4; do lab_host "h$i" >/dev/null; lab_underlay_join "h$i" "198.18.0.$i"; done
etcd_start underlay main "http://$EP" || { not_ok "etcd starts"; lab_done; exit 1; }

# --- store.h's semantics, the file store's error codes
check "store semantics on etcd (sync, async, watch, leases, cancel)" \
	ip netns exec "$LAB-h1" "$tool" check "$URL"
sed -n 's/^not ok/#   &/p' "$LAB_TMP/check.log" | head

# --- four daemons, four namespaces, one etcd
for i in 1 2 3 4; do shoald_conf "h$i" "\"store\": \"$URL\", $CONF" >/dev/null; done
t0=$(date +%s%N)
pids=()
for i in 1 2 3 4; do shoald_start "h$i" & pids+=($!); done
okc=0; for p in "${pids[@]}"; do wait "$p" && okc=$((okc + 1)); done
startup_ms=$((($(date +%s%N) - t0) / 1000000))
for p in $(pgrep -f "shoald --config $LAB_TMP/"); do LAB_PIDS+=("$p"); done
eval "$(for i in 1 2 3 4; do echo "SHOALD_PID_h$i=$(pgrep -f "shoald --config $LAB_TMP/h$i.json")"; done)"
expect_eq "four daemons start at once on etcd" 4 "$okc"
echo "# start-up of 4 daemons at once: ${startup_ms} ms"
list=$(netctl_json h1 subnet list)
expect_eq "four subnet records in etcd" 4 "$(echo "$list" | jq '[.[]? // .subnets[]?] | length')"
expect_eq "the four subnets are distinct" 4 "$(echo "$list" | jq -r '.[]? // .subnets[]? | .subnet' | sort -u | wc -l)"
expect_eq "etcdctl sees them under /shoal/subnets/" 4 \
	"$(etcdctl_lab underlay "$EP" get --prefix --keys-only /shoal/subnets/ | grep -c .)"
expect_eq "each subnet key is attached to a lease" 4 \
	"$(etcdctl_lab underlay "$EP" get --prefix /shoal/subnets/ -w json | jq '[.kvs[] | select(.lease > 0)] | length')"
# etcd:// is our own HTTP client (store/http_client.c): no libcurl at all, and OpenSSL is loaded
# for etcds:// only (store/tls.h): not linked, not mapped on a plain etcd:// node.
check_fails "shoald does not link libcurl or libssl" grep -qE 'libcurl|libssl' <(ldd "$BUILD/shoald")
check_fails "shoald on etcd:// has not loaded libcurl or libssl" grep -qE 'libcurl|libssl' "/proc/$(shoald_pid h1)/maps"

before=$(shoald_field h2 subnet)
shoald_stop h2
m0=$(metric '.*'); t0=$(date +%s%N)
shoald_start h2 || not_ok "h2 restarts"
echo "# restart of one daemon: $((($(date +%s%N) - t0) / 1000000)) ms, $(($(metric '.*') - m0)) etcd requests"
expect_eq "a restarted node keeps its subnet" "$before" "$(shoald_field h2 subnet)"

# --- idle traffic: keep-alives (every leaseTTL/3) and nothing else
sleep 2
m0=$(metric '.*'); sleep 20; m1=$(metric '.*')
idle=$((m1 - m0))
echo "# idle: 4 daemons (leaseTTL 10 s) started $idle requests in 20 s; per daemon per minute: $((idle * 3 / 4))"
# 4 x (20 s / 3.3 s) = 24 keep-alives; anything like a poll or a reconnect loop is far above.
check "idle daemons only renew their leases (<= 40 requests in 20 s)" test "$idle" -le 40

# --- etcd away for a while: the daemon keeps serving, then renews its lease
# etcdctl's "fields" output prints the 64-bit lease ID exactly (jq would round it).
lease_h1=$(etcdctl_lab underlay "$EP" get "/shoal/subnets/$(shoald_field h1 subnet | tr / -)" -w fields |
	sed -n 's/^"Lease" : //p')
mark=$(log_mark h1)
etcd_stop main
sleep 5
check "without etcd: status answers" has_subnet h1
check "without etcd: ADD works" container_add h1 c1
check "without etcd: the container has its address" test -n "$(container_ip c1)"
check "without etcd: DEL works" del_container h1 c1
check "without etcd: the daemon says the store is unreachable" grep -q "etcd $EP is unreachable" \
	<(log_since h1 "$mark")
etcd_start underlay main "http://$EP" || not_ok "etcd restarts"
check "etcd back: the daemon says so" lab_wait 15 grep -q "etcd $EP is reachable again" "$LAB_TMP/shoald-h1.log"
sleep 4
ttl=$(etcdctl_lab underlay "$EP" lease timetolive "$(printf %x "${lease_h1:-0}")" -w json | jq .ttl)
check "etcd back: h1's lease is alive (ttl $ttl)" test "${ttl:--1}" -gt 0
expect_eq "etcd back: h1 still holds its subnet" "$(shoald_field h1 subnet)" \
	"$(subnets h1 | jq -r '.[] | select(.node == "h1") | .subnet')"
check "a container added after etcd came back" container_add h1 c2

# --- compaction behind running watchers (shoald's peers, and the driver's)
STORE_TOOL_PREFIX=/shoal/ ip netns exec "$LAB-h2" "$tool" watch "$URL" subnets/ 90 >"$LAB_TMP/watch.out" 2>&1 &
wpid=$!; LAB_PIDS+=("$wpid")
lab_wait 5 grep -q '^relist 1' "$LAB_TMP/watch.out"
declare -A marks; for h in h1 h2 h3 h4; do marks[$h]=$(log_mark "$h"); done
for i in $(seq 20); do etcdctl_lab underlay "$EP" put "/other/k$i" "$i" >/dev/null; done
rev=$(etcdctl_lab underlay "$EP" endpoint status -w json | jq '.[0].Status.header.revision')
etcdctl_lab underlay "$EP" compact "$rev" >/dev/null
# The streams break; watchers come back from their last revision + 1, which is compacted.
etcd_stop main
etcd_start underlay main "http://$EP" || not_ok "etcd restarts"
check "the driver re-lists once after the compaction" lab_wait 20 grep -q '^relist 2' "$LAB_TMP/watch.out"
# After the re-list, so that it is an event of the new watch and not a key of the listing (a put
# right after etcd's restart raced the driver's reconnect: seen under SANITIZE=1).
etcdctl_lab underlay "$EP" put /shoal/subnets/zz-after-compaction x >/dev/null
check "and sees the change made after it" lab_wait 10 grep -q '^event put subnets/zz-after-compaction' "$LAB_TMP/watch.out"
for h in h1 h2 h3 h4; do
	check "shoald $h's watches (subnets/, policies/) hit the compaction" lab_wait 30 compacted_since "$h" "${marks[$h]}"
done
sleep 1   # the re-lists that follow, and their new watches
# etcd's counters started again with it: every watch stream since the restart.
w1=$(metric Watch); sleep 5; w2=$(metric Watch)
echo "# watch streams since etcd restarted: $w1, then $((w2 - w1)) in 5 s (4 daemons x 2 watches + 1 driver)"
check "one reconnect and one re-list each (<= 27 watch streams for 9 watchers)" test "$w1" -le 27
check "then quiet (no new watch streams in 5 s)" test $((w2 - w1)) -eq 0
expect_eq "the driver re-listed exactly once" 2 "$(grep -c '^relist' "$LAB_TMP/watch.out")"
etcdctl_lab underlay "$EP" del /shoal/subnets/zz-after-compaction >/dev/null
check "shoald h3 still serves" has_subnet h3

# --- a dead endpoint first in the list: one connect attempt per backoff, not one per request
ip netns exec "$LAB-h4" nft -f - <<'EOF'
table inet etcdlab { chain out { type filter hook output priority 0; ip daddr 198.18.0.99 tcp flags syn counter drop; }; }
EOF
STORE_TOOL_PREFIX=/shoal-failover/ ip netns exec "$LAB-h4" "$tool" check "etcd://198.18.0.99:2379,$EP" >"$LAB_TMP/failover.out" 2>&1
check "store semantics with a dead first endpoint" grep -q '^ok - store semantics' "$LAB_TMP/failover.out"
syns=$(ip netns exec "$LAB-h4" nft list chain inet etcdlab out | grep -o 'packets [0-9]*' | cut -d' ' -f2)
echo "# connection attempts to the dead endpoint during ~50 requests: $syns SYNs"
check "the dead endpoint is skipped between attempts ($syns SYNs)" test "${syns:-99}" -le 10
check "and logged once as unreachable" test "$(grep -c 'etcd 198.18.0.99:2379 is unreachable' "$LAB_TMP/failover.out")" -eq 1
ip netns exec "$LAB-h4" nft delete table inet etcdlab

# --- TLS: a second etcd on 2381 with client-certificate authentication
P=$LAB_TMP/pki; mkdir -p "$P"
mkcert() {   # mkcert NAME CA EXT
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" -CAcreateserial -days 1 -out "$P/$1.crt" \
		-extfile <(printf '%s\n' "$3") 2>/dev/null
}
for ca in ca otherca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/$ca.key" -out "$P/$ca.crt" \
		-days 1 -subj "/CN=lab $ca" 2>/dev/null
done
# etcd 3.4's gateway dials its own gRPC server with the server certificate: it needs clientAuth too.
mkcert server ca "subjectAltName=IP:198.18.0.254
extendedKeyUsage=serverAuth,clientAuth"
mkcert client ca "extendedKeyUsage=clientAuth"
TEP=198.18.0.254:2381
etcd_start underlay tls "https://$TEP" --client-cert-auth --trusted-ca-file "$P/ca.crt" \
	--cert-file "$P/server.crt" --key-file "$P/server.key" || not_ok "etcd with TLS starts"
out=$(ip netns exec "$LAB-h1" "$tool" get "etcds://$TEP" config "$P/ca.crt" "$P/client.crt" "$P/client.key" 2>&1)
expect_eq "etcds:// with the right CA and a client certificate" absent "$out"
out=$(ip netns exec "$LAB-h1" "$tool" get "etcds://$TEP" config "$P/otherca.crt" "$P/client.crt" "$P/client.key" 2>&1)
check "a wrong CA fails: $(echo "$out" | tail -1)" grep -q "Permission denied" <<<"$out"
check "and says the TLS handshake with etcd $TEP failed" grep -q "TLS handshake with etcd $TEP failed" <<<"$out"
out=$(ip netns exec "$LAB-h1" "$tool" get "etcds://$TEP" config "$P/ca.crt" 2>&1)
check "no client certificate fails: $(echo "$out" | tail -1)" grep -qE "Permission denied|Input/output error" <<<"$out"
check "and says the TLS handshake with etcd $TEP failed" grep -q "TLS handshake with etcd $TEP failed" <<<"$out"
lab_host h5 >/dev/null; lab_underlay_join h5 198.18.0.5
shoald_conf h5 "\"store\": \"etcds://$TEP\", \"storeCA\": \"$P/otherca.crt\", \"storeCert\": \"$P/client.crt\", \"storeKey\": \"$P/client.key\", $CONF" >/dev/null
if shoald_start h5 2>/dev/null; then not_ok "shoald with a wrong CA refuses to start"; else ok "shoald with a wrong CA refuses to start"; fi
check "and says the TLS handshake failed" grep -q "TLS handshake with etcd $TEP failed" "$LAB_TMP/shoald-h5.log"
if grep -q 'store_open(m->loop, m->cfg.store, m->cfg.store_prefix, NULL' "$ROOT/netd/subnet.c"; then
	ok "shoald over etcds:// with the right CA and certificate # SKIP storeCA/storeCert/storeKey not passed to store_open yet"
else
	lab_host h6 >/dev/null; lab_underlay_join h6 198.18.0.6
	shoald_conf h6 "\"store\": \"etcds://$TEP\", \"storeCA\": \"$P/ca.crt\", \"storeCert\": \"$P/client.crt\", \"storeKey\": \"$P/client.key\", $CONF" >/dev/null
	check "shoald over etcds:// with the right CA and certificate" shoald_start h6
	check "and claims a subnet there" has_subnet h6
	check "and has loaded libssl for it" grep -q libssl "/proc/$(shoald_pid h6)/maps"
fi
lab_done
