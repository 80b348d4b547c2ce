#!/usr/bin/env bash
# Bandwidth per cgroup (issue 7, docs/bandwidth.md "Cgroups"): processes of the host's network
# namespace, named by a cgroup v2 directory, get a class in the same HTB trees as pods (shoal-out
# egress 1:MINOR, shoal-in ingress 2:MINOR), classified by two BPF programs on the uplink.
#
# The lab: host h1 runs shoald with 200mbit each way and "uplink": "o0", a veth to the "out"
# namespace where the iperf3 servers listen (as t_bandwidth.sh).  A process "in a cgroup" is an
# iperf3 client started by `sh -c 'echo $$ > DIR/cgroup.procs; exec ip netns exec h1 iperf3 ...'`
# in a directory the test makes under the cgroup v2 mount ($CGD = MOUNT/shoal-$LAB/...) and
# removes at the end, also on failure.  No cgroup controller is used.
#
# `ip netns exec` gives its command a new /sys, without the cgroup v2 mount below it: shoald is
# started with cgroup2 mounted again at the same path in its (private) mount namespace, and with
# $CGD/alias a bind mount of $CGD/a there (the same cgroup under another spelling, for error 101).
#
# Covered: the Gaia properties between two cgroups both ways (guarantee under an 8-stream
# aggressor, borrowing up to the limit, priority, proportion), a cgroup and a pod sharing the
# capacity, nested cgroups, a quota set while the socket is open (within 1 s), kill -9 and
# restart during a limited run (no burst, nothing duplicated, maps adopted), deleting every quota
# (no class, filter, program or map left), the API's errors, a cgroup removed while it has a
# quota, netctl quota set/get/delete --cgroup.  Rates by the TESTING.md method (lib_bw.sh):
# receiver-side goodput, the first second skipped, 0.956 x the rate, 5 %; runs of 5 s.  Egress
# runs use CUBIC, ingress runs BBR (t_bandwidth.sh runs both with each; the time budget here
# does not allow that twice).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_bw.sh"

T=${BW_SECONDS:-4}   # runs of T + 1 = 5 s, the first omitted
CAP=200
BW_SERVER=198.18.5.2
T0=$SECONDS
CGM=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CGM" ]; then
	ok "# SKIP no cgroup v2 mounted on this machine"
	lab_done
	exit 0
fi
CGR=shoal-$LAB        # relative to the mount
CGD=$CGM/$CGR

# Remove the test's cgroups: kill their processes (cgroup.kill, 5.14+; else by pid), then rmdir
# deepest first.  Runs before lab_cleanup (which kills shoald and the namespaces).
cg_cleanup() {
	[ -d "$CGD" ] || return 0
	local d
	for d in $(find "$CGD" -depth -type d 2>/dev/null); do
		if [ -e "$d/cgroup.kill" ]; then echo 1 >"$d/cgroup.kill" 2>/dev/null
		else xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null; fi
	done
	for d in $(find "$CGD" -depth -type d 2>/dev/null); do
		for _ in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	[ ! -d "$CGD" ] || echo "# cannot remove $CGD"
}
trap 'cg_cleanup; lab_cleanup' EXIT
mkdir -p "$CGD"/{a,b,c,n/k,e,i,gone,alias} || { not_ok "cgroup directories under $CGD"; lab_done; exit 1; }

H=$(lab_host h1)
O=$(lab_netns out)
ip -n "$H" link add o0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.18.5.1/24 dev o0 && ip -n "$H" link set o0 up
ip -n "$O" addr add 198.18.5.2/24 dev eth0 && ip -n "$O" link set eth0 up
for p in 5201 5202 5203 5204 5205 5206; do ip netns exec "$O" iperf3 -s -p "$p" -D; done
# receivers that report every 0.5 s (--get-server-output), for the transitions
for p in 5207 5208; do ip netns exec "$O" iperf3 -s -p "$p" -J -i 0.5 -D; done

# cg_shoald_start HOST: shoald_start (lib.sh) with cgroup v2 mounted at $CGM inside shoald's
# mount namespace and $CGD/alias bound to $CGD/a there.
cg_shoald_start() {
	local host=$1
	rm -f "$LAB_TMP/$host.sock"
	ip netns exec "$LAB-$host" sh -c '
		if ! grep -q " $1 cgroup2 " /proc/self/mounts; then
			case $1 in /sys/fs/cgroup/?*) mount -t tmpfs shoal-lab /sys/fs/cgroup || exit 1 ;; esac
			mkdir -p "$1" && mount -t cgroup2 cgroup2 "$1" || exit 1
		fi
		mount --bind "$2/a" "$2/alias" || exit 1
		exec "$3" --config "$4"' sh "$CGM" "$CGD" "$BUILD/shoald" "$LAB_TMP/$host.json" >>"$LAB_TMP/shoald-$host.log" 2>&1 &
	shoald_started "$host" $!
}

shoald_conf h1 "\"bandwidth\": {\"ingress\": \"${CAP}mbit\", \"egress\": \"${CAP}mbit\", \"uplink\": \"o0\"}, \"reconcileInterval\": 2" >/dev/null
cg_shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
ok "shoald starts with bandwidth on uplink o0 and cgroup v2 at $CGM"

S=$LAB_TMP/h1.sock
NC="$BUILD/netctl --socket $S"
status() { netctl_json h1 status; }
committed() { status | jq -r ".bandwidth.$1.committed"; }
# cq PATH JSON: set a cgroup's quota through the API, print the answer; cq_ok: accepted
cq() { $API -s "$S" call "$(jq -nc --arg p "$1" --argjson b "$2" '{op: "quota", cgroup: $p, bandwidth: $b}')"; }
cq_ok() { cq "$@" | jq -e '.ok == true' >/dev/null; }
# bwj G L P: the same quota both ways: guarantee G, limit L Mbit/s, priority P ("-": not given)
bwj() {
	jq -nc --arg g "$1" --arg l "${2:--}" --arg p "${3:--}" '
		def side: (if $g != "-" then {guarantee: ($g | tonumber * 1000000)} else {} end) +
		          (if $l != "-" then {limit: ($l | tonumber * 1000000)} else {} end);
		{ingress: side, egress: side} + (if $p != "-" then {priority: ($p | tonumber)} else {} end)'
}
# q NAME G L P: the quota of $CGR/NAME, the same both ways: guarantee G, limit L Mbit/s, priority
# P ("-": the default), with netctl (which merges with what was asked before: every value is
# given); "not ok" when refused.  (netctl: ~10 ms; the python API client takes ~0.5 s here.)
q() {
	local g=${2:--} l=${3:--} p=${4:--}
	[ "$g" = - ] && g=default || g=${g}mbit
	[ "$l" = - ] && l=default || l=${l}mbit
	[ "$p" = - ] && p=default
	$NC quota set --cgroup "$CGR/$1" --ingress-guarantee "$g" --ingress-limit "$l" --egress-guarantee "$g" \
		--egress-limit "$l" --priority "$p" >"$LAB_TMP/q.out" 2>&1 || not_ok "quota $*: $(tail -3 "$LAB_TMP/q.out")"
}
cgroups_list() { $API -s "$S" call '{"op": "workloads"}' | jq -c '.cgroups // []'; }
# the same from `netctl workload list -o json` (faster)
cgroups_nc() { netctl_json h1 workload list 2>/dev/null | jq -c '[.[]? // .workloads[]? | select(.kind == "cgroup")]'; }
# minor NAME: the class minor (hex, as tc prints it) of $CGR/NAME's quota, empty when none
minor() { local d; d=$(cgroups_nc | jq -r --arg p "$CGR/$1" '.[] | select(.cgroup == $p) | .class'); [ -n "$d" ] && printf '%x' "$d"; }
# field DEV CLASSID WORD (t_bandwidth.sh): rate, ceil, prio; bytes
field() {
	if [ "$3" = bytes ]; then
		tc -n "$H" -s class show dev "$1" classid "$2" | awk '/Sent/ { print $2; exit }'
	else
		tc -n "$H" class show dev "$1" classid "$2" | awk -v w="$3" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }'
	fi
}
has_class() { tc -n "$H" class show dev "$1" | grep -q "^class htb $2 "; }
# the uplink's filters: nfilters HOOK (ingress|egress): how many; prog_of HOOK: their program ids
nfilters() { tc -n "$H" filter show dev o0 "$1" | grep -c ' handle '; }
prog_of() { tc -n "$H" filter show dev o0 "$1" | grep -o ' id [0-9]*' | awk '{ print $2 }' | sort -n | paste -sd' '; }
HAVE_BPFTOOL=0
command -v bpftool >/dev/null && HAVE_BPFTOOL=1
# maps_of PROG_ID: the ids of its maps, sorted; prog_name PROG_ID
maps_of() { bpftool prog show id "$1" -j 2>/dev/null | jq -r '.map_ids // [] | sort | join(" ")'; }
prog_name() { bpftool prog show id "$1" -j 2>/dev/null | jq -r '.name // empty'; }
map_names() { local m; for m in $1; do bpftool map show id "$m" -j 2>/dev/null | jq -r .name; done | sort | paste -sd' '; }
# gone_all "PROG IDS" "MAP IDS": none of them exists in the kernel any more
gone_all() {
	local x
	for x in $1; do bpftool prog show id "$x" >/dev/null 2>&1 && return 1; done
	for x in $2; do bpftool map show id "$x" >/dev/null 2>&1 && return 1; done
	return 0
}

# cgrun NAME CGROUP PORT CC DIR [iperf3 args...]: as run (lib_bw.sh), from a process of cgroup
# $CGD/CGROUP in h1's namespace
cgrun() {
	local name=$1 cg=$2 port=$3 cc=$4 dir=$5; shift 5
	local rev=""
	[ "$dir" = ingress ] && rev=-R
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$CGD/$cg" \
		ip netns exec "$H" iperf3 -c "$BW_SERVER" -p "$port" -t "$((T + 1))" -O 1 -C "$cc" $rev -J "$@" \
		>"$LAB_TMP/ip-$name.json" 2>&1 &
	RUNS+=($!)
}
cc_of() { [ "$1" = egress ] && echo cubic || echo bbr; }
# rx_mean FILE FROM TO (t_bandwidth.sh): the receiver's mean Mbit/s over the 0.5 s intervals within
# [FROM, TO] s; rx_max: the largest of them; rx_list: all, for the log
rx_sel() { jq -r --argjson a "$2" --argjson b "$3" '(.server_output_json.intervals // .intervals) as $iv |
	[$iv[].sum | select(.start >= $a - 0.01 and .end <= $b + 0.01) | .bits_per_second / 1e6]'"$4" "$1" 2>/dev/null || echo 0; }
rx_mean() { rx_sel "$1" "$2" "$3" ' | if length == 0 then 0 else add / length | . * 10 | floor / 10 end'; }
rx_max() { rx_sel "$1" "$2" "$3" ' | if length == 0 then 0 else max | . * 10 | floor / 10 end'; }
rx_list() { rx_sel "$1" 0 99 ' | map(floor | tostring) | join(" ")'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# below LABEL MAX GOT: ok when GOT <= MAX
below() { if awk -v m="$2" -v g="$3" 'BEGIN { exit !(g <= m) }'; then ok "$1: $3 <= $2 Mbit/s"; else not_ok "$1: $3 > $2 Mbit/s"; fi; }
above() { if awk -v m="$2" -v g="$3" 'BEGIN { exit !(g > m) }'; then ok "$1: $3 > $2 Mbit/s"; else not_ok "$1: $3 <= $2 Mbit/s"; fi; }

# --- a pod shares the trees (default share: 1mbit), as t_bandwidth.sh makes one
check "ADD pod p" container_add h1 p

# --- no quota yet: nothing on the uplink
expect_eq "no quota: no filter of ours on the uplink (egress, ingress)" "0 0" "$(nfilters egress) $(nfilters ingress)"
C0=$(committed egress)

echo "# [$((SECONDS - T0)) s]"
# --- netctl: set, get, delete with --cgroup (absolute and relative paths)
out=$($NC quota set --cgroup "$CGD/c" --egress-limit 40mbit --ingress-guarantee 5mbit --priority 2 -o json 2>&1)
echo "# netctl quota set -o json: $out"
expect_eq "netctl quota set --cgroup ABSOLUTE: the entry, normalised" "cgroup $CGR/c $CGD/c $(stat -c %i "$CGD/c")" \
	"$(jq -r '"\(.kind) \(.cgroup) \(.cgroupDir) \(.cgroupId)"' <<<"$out" 2>/dev/null)"
MC=$(minor c)
check "the class minor lies above the /24's addresses (> 0xff: $MC)" test "$((0x${MC:-0}))" -gt 255
expect_eq "c's egress class 1:$MC: ceil 40mbit, prio 2" "40Mbit 2" "$(field shoal-out "1:$MC" ceil) $(field shoal-out "1:$MC" prio)"
expect_eq "c's ingress class 2:$MC: rate 5mbit, prio 2" "5Mbit 2" "$(field shoal-in "2:$MC" rate) $(field shoal-in "2:$MC" prio)"
check "c's record: stateDir/cgroups/$((0x${MC:-0})).json names it" \
	jq -e --arg p "$CGR/c" '.path == $p or .cgroup == $p' "$LAB_TMP/state-h1/cgroups/$((0x${MC:-0})).json"
out=$($NC quota get --cgroup "$CGR/c/" -o json 2>&1)
echo "# netctl quota get -o json: $out"
expect_eq "netctl quota get --cgroup RELATIVE/: the egress limit, the ingress guarantee" "40000000 5000000" \
	"$(jq -r '"\(.bandwidth.egress.limitBitRate) \(.bandwidth.ingress.guaranteeBitRate)"' <<<"$out" 2>/dev/null)"
expect_eq "the API's entry: kind, path, directory, id, class" "cgroup $CGR/c $CGD/c $(stat -c %i "$CGD/c") $((0x${MC:-0}))" \
	"$(cgroups_list | jq -r '.[0] | "\(.kind) \(.cgroup) \(.cgroupDir) \(.cgroupId) \(.class)"')"
expect_eq "one filter per hook on the uplink: shoal_cg_out on egress, shoal_cg_in on ingress" "1 1 1 1" \
	"$(nfilters egress) $(nfilters ingress) $(tc -n "$H" filter show dev o0 egress | grep -c shoal_cg_out) $(tc -n "$H" filter show dev o0 ingress | grep -c shoal_cg_in)"
check "netctl quota delete --cgroup" $NC quota delete --cgroup "$CGR/./c"
check_fails "c's classes are gone" bash -c "tc -n $H class show dev shoal-out | grep -q '^class htb 1:$MC '"
expect_eq "status: committed back to $C0" "$C0" "$(committed egress)"
expect_eq "no quota left: no filter on the uplink" "0 0" "$(nfilters egress) $(nfilters ingress)"

# ===== traffic (run the test under the lab lock: flock /tmp/shoal-lab.lock ... tests/run.sh)
echo "# [$((SECONDS - T0)) s]"
# --- 1. guarantee: a (120) with one stream keeps its guarantee while b (77) floods with 8;
# committed 1 (unclassified) + 1 (pod) + 120 + 77 = 199: the idle 3 go 120:77
q a 120; q b 77
MA=$(minor a); MB=$(minor b)
expect_eq "a's classes 1:$MA and 2:$MA: rate 120mbit, ceil the capacity" "120Mbit 200Mbit 120Mbit" \
	"$(field shoal-out "1:$MA" rate) $(field shoal-out "1:$MA" ceil) $(field shoal-in "2:$MA" rate)"
expect_eq "status: committed 1 + 1 + 120 + 77" "199mbit" "$(committed ingress)"
for dir in egress ingress; do
	cc=$(cc_of $dir)
	cgrun g-a a 5201 "$cc" "$dir"; cgrun g-b b 5202 "$cc" "$dir" -P 8; finish
	near "$cc $dir: guarantee: cgroup a keeps its 120 while cgroup b floods with 8 streams" "$(want 121)" "$(mbit g-a)"
	near "$cc $dir: and b gets its 77" "$(want 78)" "$(mbit g-b)"
done

echo "# [$((SECONDS - T0)) s]"
# --- 2. borrowing and nesting, at once (no class reaches the capacity): a (20, limit 80) alone
# in the egress tree, b (20, limit 80) alone in the ingress one; n (limit 30) and its child n/k
# (limit 50) each sending: the child's traffic goes to the child's class, the parent's to its own
q a 20 80; q b 20 80; q n - 30; q n/k - 50
MA=$(minor a); MB=$(minor b); MN=$(minor n); MK=$(minor n/k)
expect_eq "a, b, n, n/k: four different classes ($MA $MB $MN $MK)" 4 "$(printf '%s\n' $MA $MB $MN $MK | sort -u | grep -c .)"
cgrun bo-a a 5201 cubic egress; cgrun bo-b b 5202 bbr ingress
cgrun ne-n n 5203 cubic egress; cgrun ne-k n/k 5204 cubic egress; finish
near "cubic egress: borrowing: a (20) alone gets up to its limit 80" "$(want 80)" "$(mbit bo-a)"
near "bbr ingress: borrowing: b (20) alone gets up to its limit 80" "$(want 80)" "$(mbit bo-b)"
near "nested: a process of n/k gets n/k's limit 50 (inside n with 30)" "$(want 50)" "$(mbit ne-k)"
near "nested: a process of n itself gets n's 30" "$(want 30)" "$(mbit ne-n)"
bk=$(field shoal-out "1:$MK" bytes); pk=$(jq -r '.end.sum_received.bytes // 0' "$LAB_TMP/ip-ne-k.json")
check "nested: n/k's egress class counted its process's payload ($bk >= $pk bytes)" test "${bk:-0}" -ge "${pk:-1}" -a "${pk:-0}" -gt 0

echo "# [$((SECONDS - T0)) s]"
# --- 3. priority: a (40, prio 0), b and c (40, prio 1): a gets 40 + all the spare
q a 40 - 0; q b 40 - 1; q c 40 - 1
expect_eq "netctl quota set with every value: a's limit of 80 is gone (what the API has)" \
	'{"egress":{"guarantee":40000000},"ingress":{"guarantee":40000000},"priority":0}' \
	"$(cgroups_nc | jq -cS --arg p "$CGR/a" '.[] | select(.cgroup == $p) | .bandwidthAsked')"
MC=$(minor c)
for dir in egress ingress; do
	cc=$(cc_of $dir)
	cgrun p-a a 5201 "$cc" "$dir"; cgrun p-b b 5202 "$cc" "$dir"; cgrun p-c c 5203 "$cc" "$dir"; finish
	near "$cc $dir: priority: a (prio 0) gets 40 + the spare" "$(want 120)" "$(mbit p-a)"
	near "$cc $dir: b (prio 1) its 40" "$(want 40)" "$(mbit p-b)"
	near "$cc $dir: c (prio 1) its 40" "$(want 40)" "$(mbit p-c)"
done

echo "# [$((SECONDS - T0)) s]"
# --- 4. proportion: equal priority, a 20 and b 60: the spare 120 is split 1:3
q a 20 - 3; q b 60 - 3
for dir in egress ingress; do
	cc=$(cc_of $dir)
	cgrun r-a a 5201 "$cc" "$dir"; cgrun r-b b 5202 "$cc" "$dir"; finish
	near "$cc $dir: proportion: a (20) gets 20 + 30" "$(want 50)" "$(mbit r-a)"
	near "$cc $dir: b (60) gets 60 + 90" "$(want 150)" "$(mbit r-b)"
done

echo "# [$((SECONDS - T0)) s]"
# --- 5. a cgroup and a pod share one capacity: both flood with 8 streams; pod 118, cgroup a 77,
# b and c at the default 1, n and n/k at 1: committed 200, the idle 5 split 118:77
q b - ; q c - ; q a 77 - 4
quota_ok p "$(bwj 118 - 4)" || not_ok "pod p's quota 118"
expect_eq "status: the pod and the cgroups commit the whole capacity" "200mbit" "$(committed egress)"
out=$(cq "$CGR/b" "$(bwj 2)")
expect_eq "admission: 1mbit more for cgroup b is refused (107)" "107 bandwidth refused by admission control" \
	"$(jq -r '"\(.code) \(.msg)"' <<<"$out")"
check "naming the numbers" grep -q "does not fit" <<<"$(jq -r .details <<<"$out")"
expect_eq "and b keeps its class as it was" "1Mbit" "$(field shoal-out "1:$MB" rate)"
for dir in egress ingress; do
	cc=$(cc_of $dir)
	cgrun s-a a 5201 "$cc" "$dir" -P 8; run s-p p 5202 "$cc" "$dir" -P 8; finish
	near "$cc $dir: cgroup a gets its 77 while pod p floods" "$(want 79)" "$(mbit s-a)"
	near "$cc $dir: pod p gets its 118 while cgroup a floods" "$(want 121)" "$(mbit s-p)"
done
quota_ok p "$(bwj 1)" || not_ok "pod p back to 1mbit"

echo "# [$((SECONDS - T0)) s]"
# --- 6. a quota set while the socket is open: e sends, i receives, both unshaped (no quota, iperf3
# paced at 150 Mbit/s: unpaced, the veth takes both cores) for 2 s; then e gets an egress limit
# of 50, i an ingress one: a second later each receiver is there
T_LIVE=6
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CGD/e" ip netns exec "$H" \
	iperf3 -c "$BW_SERVER" -p 5207 -t $T_LIVE -i 0.5 -b 150M -C cubic -J --get-server-output >"$LAB_TMP/lv-e.json" 2>&1 &
le=$!
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CGD/i" ip netns exec "$H" \
	iperf3 -c "$BW_SERVER" -p 5205 -t $T_LIVE -i 0.5 -b 150M -C bbr -R -J >"$LAB_TMP/lv-i.json" 2>&1 &
li=$!
t0=$(now)
sleep 2
$NC quota set --cgroup "$CGR/e" --egress-limit 50mbit >/dev/null || not_ok "quota e: egress limit 50"
$NC quota set --cgroup "$CGR/i" --ingress-limit 50mbit >/dev/null || not_ok "quota i: ingress limit 50"
tq=$(since "$t0" "$(now)")
wait $le $li
for x in e:egress i:ingress; do
	f=$LAB_TMP/lv-${x%%:*}.json
	echo "# live ${x#*:}: receiver Mbit/s every 0.5 s: $(rx_list "$f") (quota at $tq s)"
	above "live ${x#*:}: unshaped before the quota (0.5 .. 1.5 s)" 100 "$(rx_mean "$f" 0.5 1.5)"
	t1=$(awk -v t="$tq" 'BEGIN { print t + 1 }')
	near "live ${x#*:}: the first 0.5 s interval from 1 s after the quota (socket opened before it)" "$(want 50)" \
		"$(rx_mean "$f" "$t1" "$(awk -v t="$t1" 'BEGIN { print int(t * 2 + 0.999) / 2 + 0.5 }')")"
	near "live ${x#*:}: and every one after it, on average" "$(want 50)" "$(rx_mean "$f" "$t1" 99)"
done

echo "# [$((SECONDS - T0)) s]"
# --- 7. kill -9 and restart while e (egress) and i (ingress) run at their 50 limit: the limit
# holds during the outage and after the restart, without a burst; nothing is duplicated
ME=$(minor e); MI=$(minor i)
pe0=$(prog_of egress); pi0=$(prog_of ingress)
maps0=""
[ "$HAVE_BPFTOOL" = 1 ] && maps0=$(maps_of "$pe0")
rec0=$(ls "$LAB_TMP/state-h1/cgroups" | grep -c '\.json$')
cmt0=$(committed egress)
by0=$(field shoal-out "1:$ME" bytes)
T_RS=8
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CGD/e" ip netns exec "$H" \
	iperf3 -c "$BW_SERVER" -p 5208 -t $T_RS -i 0.5 -C cubic -J --get-server-output >"$LAB_TMP/rs-e.json" 2>&1 &
le=$!
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CGD/i" ip netns exec "$H" \
	iperf3 -c "$BW_SERVER" -p 5206 -t $T_RS -i 0.5 -C bbr -R -J >"$LAB_TMP/rs-i.json" 2>&1 &
li=$!
t0=$(now)
sleep 2.5
shoald_stop h1 KILL || not_ok "shoald dies of kill -9"
tk=$(since "$t0" "$(now)")
sleep 2
cg_shoald_start h1 || not_ok "shoald restarts after kill -9"
tr=$(since "$t0" "$(now)")
wait $le $li
for x in e:egress i:ingress; do
	f=$LAB_TMP/rs-${x%%:*}.json
	echo "# restart ${x#*:}: receiver Mbit/s every 0.5 s: $(rx_list "$f") (killed at $tk s, restarted at $tr s)"
	near "restart ${x#*:}: the limit holds while shoald is down ($tk .. $tr s)" "$(want 50)" "$(rx_mean "$f" "$tk" "$tr")"
	near "restart ${x#*:}: and after the restart" "$(want 50)" "$(rx_mean "$f" "$tr" 99)"
	below "restart ${x#*:}: no 0.5 s interval above the limit (+10 %) from 1 s on" "$(awk -v w="$(want 50)" 'BEGIN { print w * 1.1 }')" \
		"$(rx_max "$f" 1 99)"
done
expect_eq "after the restart: one filter per hook on the uplink" "1 1" "$(nfilters egress) $(nfilters ingress)"
expect_eq "e's classes exist once in each tree" "1 1" \
	"$(tc -n "$H" class show dev shoal-out | grep -c "^class htb 1:$ME ") $(tc -n "$H" class show dev shoal-in | grep -c "^class htb 2:$ME ")"
expect_eq "the quotas' records and committed are unchanged" "$rec0 $cmt0" "$(ls "$LAB_TMP/state-h1/cgroups" | grep -c '\.json$') $(committed egress)"
by1=$(field shoal-out "1:$ME" bytes)
check "e's class kept counting across the restart ($by0 -> $by1 bytes)" test "${by1:-0}" -gt "${by0:-0}" -a "${by0:-0}" -gt 0
expect_eq "the cgroups listed after the restart keep their classes" "$ME $MI" "$(minor e) $(minor i)"
pe1=$(prog_of egress); pi1=$(prog_of ingress)
if [ "$HAVE_BPFTOOL" = 1 ]; then
	maps1=$(maps_of "$pe1")
	expect_eq "the programs are named shoal_cg_out and shoal_cg_in" "shoal_cg_out shoal_cg_in" "$(prog_name "$pe1") $(prog_name "$pi1")"
	expect_eq "their maps: shoal_cg_conf, shoal_cg_flows, shoal_cg_quota" "shoal_cg_conf shoal_cg_flows shoal_cg_quota" "$(map_names "$maps1")"
	expect_eq "both programs share the same maps" "$maps1" "$(maps_of "$pi1")"
	expect_eq "the restarted shoald adopted the maps (same ids)" "$maps0" "$maps1"
	check "the programs from before the restart ($pe0 $pi0) are gone" lab_wait 3 gone_all "$(echo "$pe0 $pi0" | tr ' ' '\n' | grep -vxF -e "$pe1" -e "$pi1")" ""
else
	echo "# bpftool is not installed: the programs' and maps' checks are skipped"
fi

echo "# [$((SECONDS - T0)) s]"
# --- 8. bad input: every error's code and message, asked in one python run (api_batch)
# api_batch: each line of stdin, "SOCKET REQUEST", sent to that shoald; each answer on one line
api_batch() {
	python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import apiclient
for line in sys.stdin:
    sock, req = line.rstrip("\n").split(" ", 1)
    r = apiclient.call(sock, json.loads(req))
    print(json.dumps(r.response if r.response is not None else {"error": r.error}, separators=(",", ":")))
' "$ROOT/tests/integration"
}
# h2: bandwidth, but its mount namespace (plain `ip netns exec`) has no cgroup v2; h3: no bandwidth
lab_host h2 >/dev/null
shoald_conf h2 "\"bandwidth\": {\"ingress\": \"${CAP}mbit\", \"egress\": \"${CAP}mbit\"}" >/dev/null
lab_host h3 >/dev/null
shoald_conf h3 >/dev/null
{ shoald_start h2 && shoald_start h3; } || not_ok "shoald h2 and h3 start"
V2_IN_H2=0
ip netns exec "$LAB-h2" grep -q cgroup2 /proc/self/mountinfo && V2_IN_H2=1
# LABEL|WANT "CODE MSG"|HOST|OP|PATH
ERRS=(
	"a path without a directory|3 no such cgroup|h1|quota|$CGR/nope"
	"a file, not a directory|7 not a cgroup v2 directory|h1|quota|$CGR/a/cgroup.procs"
	"a \"..\" component|7 not a cgroup v2 directory|h1|quota|$CGR/a/../b"
	"a path outside the mount|7 not a cgroup v2 directory|h1|quota|$LAB_TMP"
	"the mount's root itself (absolute)|7 not a cgroup v2 directory|h1|quota|$CGM"
	"the mount's root itself (\".\")|7 not a cgroup v2 directory|h1|quota|."
	"a's cgroup under another spelling (bind mount $CGR/alias)|101 cgroup already has a quota|h1|quota|$CGR/alias"
	"quotaDelete of a cgroup without a quota|3 no such cgroup|h1|quotaDelete|$CGR/gone"
	"a shoald without \"bandwidth\"|7 bandwidth is not configured|h3|quota|$CGR/a"
)
if [ "$V2_IN_H2" = 0 ]; then
	ERRS+=("no cgroup v2 mounted|50 no cgroup v2 mounted|h2|quota|$CGR/a")
else
	echo "# cgroup v2 is visible inside ip netns exec here: code 50 is not tested"
fi
for e in "${ERRS[@]}"; do
	IFS='|' read -r _ _ host op path <<<"$e"
	echo "$LAB_TMP/$host.sock $(jq -nc --arg op "$op" --arg p "$path" --argjson b "$(bwj 1)" \
		'{op: $op, cgroup: $p} + (if $op == "quota" then {bandwidth: $b} else {} end)')"
done | api_batch >"$LAB_TMP/errs.out"
n=0
for e in "${ERRS[@]}"; do
	n=$((n + 1))
	IFS='|' read -r label want _ <<<"$e"
	expect_eq "$label: $want" "$want" "$(sed -n "${n}p" "$LAB_TMP/errs.out" | jq -r '"\(.code) \(.msg)"' 2>/dev/null)"
done
# removed while it has a quota: released at the next reconcile (2 s)
q gone 10
MG=$(minor gone)
cmt=$(committed egress)
rmdir "$CGD/gone"
check "a cgroup removed while it has a quota loses its classes within a reconcile (2 s)" \
	lab_wait 4 bash -c "! tc -n $H class show dev shoal-out | grep -q '^class htb 1:$MG ' && ! tc -n $H class show dev shoal-in | grep -q '^class htb 2:$MG '"
expect_eq "and its share: committed $cmt -> 10mbit less" \
	"$(awk -v c="${cmt%mbit}" 'BEGIN { print c - 10 "mbit" }')" "$(committed egress)"
check_fails "and its record" test -e "$LAB_TMP/state-h1/cgroups/$((0x${MG:-0})).json"
expect_eq "and the listing" "" "$(minor gone)"

echo "# [$((SECONDS - T0)) s]"
# --- 9. delete every quota: no class, no filter, no program or map of ours is left
pe=$(prog_of egress); pi=$(prog_of ingress)
maps=""
[ "$HAVE_BPFTOOL" = 1 ] && maps=$(maps_of "$pe")
minors=""
for c in a b c n n/k e i; do
	m=$(minor "$c"); minors="$minors $m"
	check "netctl quota delete --cgroup $CGR/$c" $NC quota delete --cgroup "$CGR/$c"
done
expect_eq "every quota had its own class ($minors)" 7 "$(printf '%s\n' $minors | sort -u | grep -c .)"
left=""
for m in $minors; do has_class shoal-out "1:$m" && left="$left 1:$m"; has_class shoal-in "2:$m" && left="$left 2:$m"; done
expect_eq "none of their classes is left" "" "$left"
expect_eq "no filter on the uplink (egress, ingress)" "0 0" "$(nfilters egress) $(nfilters ingress)"
expect_eq "no record left" "0" "$(ls "$LAB_TMP/state-h1/cgroups" | grep -c '\.json$')"
expect_eq "status: committed back to $C0" "$C0" "$(committed egress)"
expect_eq "the API lists no cgroup" "[]" "$(cgroups_list)"
if [ "$HAVE_BPFTOOL" = 1 ]; then
	check "the programs ($pe $pi) and maps ($maps) are gone" lab_wait 3 gone_all "$pe $pi" "$maps"
fi
sleep 2.5   # a reconcile later: still nothing
expect_eq "a reconcile later: still no filter on the uplink" "0 0" "$(nfilters egress) $(nfilters ingress)"
echo "# t_bandwidth_cgroup: $((SECONDS - T0)) s"
lab_done
