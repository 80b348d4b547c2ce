#!/usr/bin/env bash
# Several shoald processes (one per simulated host) share one file store: started at the same
# moment they claim distinct subnets, a restart keeps the node's subnet, and a node whose config
# disagrees with the store's network config refuses to start.
. "$(dirname "$0")/lib.sh"
hosts="h1 h2 h3 h4"
for h in $hosts; do lab_host $h >/dev/null; shoald_conf $h >/dev/null; done
pids=()
for h in $hosts; do shoald_start $h & pids+=($!); done
okc=0; for p in "${pids[@]}"; do wait "$p" && okc=$((okc + 1)); done
# shoald_start ran in subshells: find the daemons' pids for the cleanup.
for p in $(pgrep -f "shoald --config $LAB_TMP/"); do LAB_PIDS+=("$p"); done
expect_eq "four daemons start at once on one store" 4 "$okc"
subnets=$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" subnet list -o json)
expect_eq "four subnet leases in the store" 4 "$(echo "$subnets" | jq length)"
expect_eq "the four subnets are distinct" 4 "$(echo "$subnets" | jq -r '.[].subnet' | sort -u | wc -l)"
expect_eq "each node holds one" "h1 h2 h3 h4" "$(echo "$subnets" | jq -r '[.[].node] | sort | join(" ")')"
before=$("$BUILD/netctl" --socket "$LAB_TMP/h2.sock" status -o json | jq -r .subnet)
kill -TERM "$(pgrep -f "shoald --config $LAB_TMP/h2.json")"
sleep 0.3
shoald_start h2 || not_ok "h2 restarts"
expect_eq "a restarted node keeps its subnet" "$before" "$("$BUILD/netctl" --socket "$LAB_TMP/h2.sock" status -o json | jq -r .subnet)"
# A second shoald on the same state directory must not start (it would take over the lease).
lease_before=$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" subnet list -o json | jq -c '[.[] | select(.node == "h1") | .lease]')
if ip netns exec "$LAB-h1" "$BUILD/shoald" --config "$LAB_TMP/h1.json" --socket "$LAB_TMP/h1-second.sock" \
	>"$LAB_TMP/second.log" 2>&1; then
	not_ok "a second shoald on the same state directory is refused"
else
	ok "a second shoald on the same state directory is refused"
fi
check "and says why" grep -q "another shoald is running with state directory" "$LAB_TMP/second.log"
expect_eq "the first keeps its lease" "$lease_before" \
	"$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" subnet list -o json | jq -c '[.[] | select(.node == "h1") | .lease]')"
lab_host h5 >/dev/null
shoald_conf h5 '"network": "10.245.0.0/16"' >/dev/null
if shoald_start h5 2>/dev/null; then not_ok "a node with another network refuses to start"; else ok "a node with another network refuses to start"; fi
check "and says which values differ" grep -q "differs from this host's config" "$LAB_TMP/shoald-h5.log"
lab_done
