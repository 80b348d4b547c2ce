#!/usr/bin/env bash
# The cgroup classifier in a real kernel (tc/bpf/cgroup.bpf.c, tc/cgbpf.h, classify_build_uplink()),
# driven by tests/integration/cgbpf_tool.c: processes in a cgroup v2 directory, in the "host"
# namespace, shaped by the host's HTB trees, everything else untouched.
#
#   [ host ns: shoal-out (HTB 1:), shoal-in (HTB 2:) ] vh 10.99.0.1 fd99::1 --- vp 10.99.0.2 fd99::2 [ peer ns ]
#
# Classes (same minor in both trees): :10 20mbit (the test cgroup), :20 30mbit (a cgroup nested in
# it), :99 10gbit (default: nothing should land there).  The cgroup is made under the cgroup v2
# mount for the run and removed at the end; a process enters it by writing itself to
# cgroup.procs before exec'ing `ip netns exec host iperf3 ...` (a cgroup is not a namespace
# thing: the socket's cgroup is its creator's).  Goodput is checked as in lib_bw.sh (receiver
# side, first second omitted, 0.956 x the rate, 5 %); rates measured from class counters count
# whole frames and are compared with the rate itself.  On a shared machine run it under the lab
# lock: flock /tmp/shoal-lab.lock env TEST_FILTER=t_cgroup_bpf bash tests/run.sh integration
# (the test takes no lock itself: an inner flock on the same file would wait for that outer one).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bw.sh"

TOOL=$BUILD/tests/cgbpf_tool
[ -x "$TOOL" ] || { not_ok "cgbpf_tool missing (make check builds it)"; exit 1; }
command -v iperf3 >/dev/null || { not_ok "iperf3 missing (make deps)"; exit 1; }

MNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$MNT" ] || { not_ok "no cgroup v2 mount"; exit 1; }
CG=$MNT/$LAB-cg
CGN=$CG/inner
cg_cleanup() {
	local d p
	for d in "$CGN" "$CG"; do
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		for _ in $(seq 20); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
}
trap 'cg_cleanup; lab_cleanup' EXIT

H=$(lab_netns host)
P=$(lab_netns peer)
ip -n "$H" link add vh type veth peer name vp netns "$P"
ip -n "$H" addr add 10.99.0.1/24 dev vh
ip -n "$P" addr add 10.99.0.2/24 dev vp
ip -n "$H" addr add fd99::1/64 dev vh nodad
ip -n "$P" addr add fd99::2/64 dev vp nodad
ip -n "$H" link set vh up
ip -n "$P" link set vp up
for t in shoal-out:1 shoal-in:2; do
	dev=${t%:*} maj=${t#*:}
	ip -n "$H" link add "$dev" type ifb
	# No IPv6 on the IFBs: their own router solicitations would land in the default class.
	ip netns exec "$H" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	ip -n "$H" link set "$dev" up
	ip netns exec "$H" tc qdisc add dev "$dev" root handle "$maj:" htb default 99
	ip netns exec "$H" tc class add dev "$dev" parent "$maj:" classid "$maj:10" htb rate 20mbit ceil 20mbit
	ip netns exec "$H" tc class add dev "$dev" parent "$maj:" classid "$maj:20" htb rate 30mbit ceil 30mbit
	ip netns exec "$H" tc class add dev "$dev" parent "$maj:" classid "$maj:99" htb rate 10gbit ceil 10gbit
done 2>/dev/null   # HTB's "quantum is big" warnings
for p in 5201 5202 5203 5204 5205 5206 5207 5208 5209 5210 5211; do ip netns exec "$P" iperf3 -s -p "$p" -D; done
mkdir "$CG" "$CGN"
ID=$(stat -c %i "$CG")
IDN=$(stat -c %i "$CGN")

tool() { ip netns exec "$H" "$TOOL" vh "$@"; }
# bytes DEV CLASS: what the class has sent so far.
bytes() {
	ip netns exec "$H" tc -s class show dev "$1" |
		awk -v c="$2" '$1 == "class" { cur = $3 } cur == c && $1 == "Sent" { print $2; exit }'
}
# in_cg DIR CMD...: CMD in the host namespace, as a process of cgroup DIR.
in_cg() {
	local d=$1; shift
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec ip netns exec "$0" "$@"' "$H" "$d" "$@"
}
# iperf NAME CGROUP|- ADDR PORT DIR SECONDS [args]: in the foreground, JSON in $LAB_TMP/ip-NAME.json.
iperf() {
	local name=$1 d=$2 addr=$3 port=$4 dir=$5 secs=$6; shift 6
	local rev=""
	[ "$dir" = ingress ] && rev=-R
	if [ "$d" = - ]; then
		ip netns exec "$H" iperf3 -c "$addr" -p "$port" -t "$secs" -O 1 $rev -J "$@"
	else
		in_cg "$d" iperf3 -c "$addr" -p "$port" -t "$secs" -O 1 $rev -J "$@"
	fi >"$LAB_TMP/ip-$name.json" 2>&1
}
ifb_of() { [ "$1" = egress ] && echo shoal-out || echo shoal-in; }
maj_of() { [ "$1" = egress ] && echo 1 || echo 2; }

# --- attach
out=$(tool attach shoal-out shoal-in)
expect_eq "attach: a first load adopts nothing" "adopted 0" "$out"
show=$(tool show)
expect_eq "both filters at prio 0xc500 handle 1, classic mode, redirecting to the IFBs" \
	"egress 0xc500 1 shoal_cg_out $(ip netns exec "$H" cat /sys/class/net/shoal-out/ifindex)
ingress 0xc500 1 shoal_cg_in $(ip netns exec "$H" cat /sys/class/net/shoal-in/ifindex)" \
	"$(echo "$show" | awk '{ print $1, $2, $3, $4, $6 }')"
PROGS=$(echo "$show" | awk '{ print $5 }')
check "tc(8) sees the mirred redirect on the egress hook" \
	bash -c "ip netns exec $H tc filter show dev vh egress | grep -q 'Egress Redirect to device shoal-out'"

# --- quotas
check "quota set" tool set "$ID" 1 0x10
check "nested quota set" tool set "$IDN" 2 0x20
expect_eq "quota list" "$(printf '%s 1 16\n%s 2 32' "$ID" "$IDN" | sort)" "$(tool list | sort)"
check_fails "minor 0 refused" tool set "$ID" 1 0
check_fails "del of a missing quota fails" tool del 12345678

# --- the cgroup's traffic in its class, at its rate
port=5201
for dir in egress ingress; do
	ifb=$(ifb_of $dir) maj=$(maj_of $dir)
	b10=$(bytes "$ifb" "$maj:10") b99=$(bytes "$ifb" "$maj:99")
	iperf "cg-$dir" "$CG" 10.99.0.2 $port $dir $((T + 1))
	port=$((port + 1))
	near "cgroup $dir goodput (20mbit class)" "$(want 20)" "$(mbit "cg-$dir")"
	d10=$(($(bytes "$ifb" "$maj:10") - b10))
	check "cgroup $dir traffic counted in $maj:10 ($d10 bytes)" test "$d10" -gt 10000000
	expect_eq "nothing in the default class $maj:99 ($dir)" 0 $(($(bytes "$ifb" "$maj:99") - b99))
done
for dir in egress ingress; do
	ifb=$(ifb_of $dir) maj=$(maj_of $dir)
	b10=$(bytes "$ifb" "$maj:10")
	iperf "cg6-$dir" "$CG" fd99::2 $port $dir 2
	port=$((port + 1))
	d10=$(($(bytes "$ifb" "$maj:10") - b10))
	check "cgroup $dir IPv6 traffic counted in $maj:10 ($d10 bytes)" test "$d10" -gt 3000000
done

# --- the nested cgroup's own quota beats its parent's
for dir in egress ingress; do
	ifb=$(ifb_of $dir) maj=$(maj_of $dir)
	b10=$(bytes "$ifb" "$maj:10") b20=$(bytes "$ifb" "$maj:20")
	iperf "nested-$dir" "$CGN" 10.99.0.2 $port $dir 2
	port=$((port + 1))
	d10=$(($(bytes "$ifb" "$maj:10") - b10)) d20=$(($(bytes "$ifb" "$maj:20") - b20))
	check "nested cgroup $dir in $maj:20 ($d20 bytes), not in $maj:10 ($d10)" \
		test "$d20" -gt 3000000 -a "$d10" -lt 100000
done

# --- a process outside the cgroup: no class, full speed
for dir in egress ingress; do
	ifb=$(ifb_of $dir) maj=$(maj_of $dir)
	before=$(ip netns exec "$H" tc -s class show dev "$ifb" | awk '$1 == "Sent" { s += $2 } END { print s }')
	iperf "out-$dir" - 10.99.0.2 $port $dir 2
	port=$((port + 1))
	after=$(ip netns exec "$H" tc -s class show dev "$ifb" | awk '$1 == "Sent" { s += $2 } END { print s }')
	expect_eq "outside the cgroup: nothing through $ifb ($dir)" 0 $((after - before))
	got=$(mbit "out-$dir")
	check "outside the cgroup: full speed ($got Mbit/s $dir)" awk -v g="$got" 'BEGIN { exit !(g > 200) }'
done

# --- a running socket, opened before its quota: caught within 1 s of the set, released by the del
# stamp DEV CLASS: "SECONDS BYTES", the time taken right after the counter was read.
stamp() { local b; b=$(bytes "$1" "$2"); echo "$(date +%s.%N) $b"; }
# rate_between "T1 B1" "T2 B2": Mbit/s of whole frames between two stamps.
rate_between() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
	printf "%.1f", (y[2] - x[2]) * 8 / (y[1] - x[1]) / 1e6 }'; }
check "quota del" tool del "$ID"
for dir in egress ingress; do
	ifb=$(ifb_of $dir) maj=$(maj_of $dir)
	iperf "live-$dir" "$CG" 10.99.0.2 $port $dir 10 -i 0.5 &
	ipid=$!
	port=$((port + 1))
	sleep 1.5
	b0=$(bytes "$ifb" "$maj:10")
	sleep 0.5
	expect_eq "no quota yet: $maj:10 untouched ($dir)" 0 $(($(bytes "$ifb" "$maj:10") - b0))
	tool set "$ID" 1 0x10
	sleep 1
	s1=$(stamp "$ifb" "$maj:10")
	sleep 2
	s2=$(stamp "$ifb" "$maj:10")
	# Frames on the IFB, Ethernet headers included: the class's own rate.
	near "quota set on a running $dir flow: class rate from 1 s after the set" 20.0 "$(rate_between "$s1" "$s2")"
	tool del "$ID"
	# What the class had queued when the quota went (up to 32 GSO packets, ~2 MB) still drains
	# at 20mbit for up to ~0.8 s; after that nothing more may come.
	sleep 1.5
	c1=$(bytes "$ifb" "$maj:10")
	sleep 1
	expect_eq "quota deleted: $maj:10 no longer fed ($dir)" 0 $(($(bytes "$ifb" "$maj:10") - c1))
	wait $ipid
	# The last two seconds of the run (iperf3's clock starts after the omitted first second: the
	# del was at ~5 s of it), at the receiver.
	got=$(jq -r '[.intervals[] | select(.sum.start >= 7.9) | .sum.bits_per_second] | add / length / 1e6 | floor' \
		"$LAB_TMP/ip-live-$dir.json" 2>/dev/null || echo 0)
	check "quota deleted: the flow is back at full speed ($got Mbit/s $dir)" \
		awk -v g="$got" 'BEGIN { exit !(g > 200) }'
done
check "quota set again" tool set "$ID" 1 0x10

# --- a restart: a new load adopts the maps, REPLACE swaps the programs
out=$(tool attach shoal-out shoal-in)
expect_eq "attach again: the maps are adopted" "adopted 1" "$out"
expect_eq "quotas kept across the restart" "$(printf '%s 1 16\n%s 2 32' "$ID" "$IDN" | sort)" "$(tool list | sort)"
PROGS2=$(tool show | awk '{ print $5 }')
check "the programs were replaced" test "$(echo $PROGS)" != "$(echo $PROGS2)"
b10=$(bytes shoal-in 2:10)
iperf "adopted" "$CG" 10.99.0.2 $port ingress 2
port=$((port + 1))
check "flows learned before the restart still classified" test $(($(bytes shoal-in 2:10) - b10)) -gt 3000000

# --- detach: nothing left
BPFTOOL=$(command -v bpftool || true)
MAPS=
if [ -n "$BPFTOOL" ]; then
	for id in $PROGS; do
		$BPFTOOL prog show id "$id" >/dev/null 2>&1 && not_ok "program $id of the first load still there before detach"
	done
	MAPS=$(for id in $PROGS2; do $BPFTOOL -j prog show id "$id" | jq -r '.map_ids[]'; done | sort -u)
fi
check "detach" tool detach
expect_eq "no filter left" "" "$(tool show)"
if [ -n "$BPFTOOL" ]; then
	left=
	for _ in $(seq 30); do
		left=
		for id in $PROGS2; do $BPFTOOL prog show id "$id" >/dev/null 2>&1 && left="$left prog:$id"; done
		for id in $MAPS; do $BPFTOOL map show id "$id" >/dev/null 2>&1 && left="$left map:$id"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	expect_eq "no program or map left ($(echo $MAPS | wc -w) maps checked)" "" "$left"
else
	echo "# bpftool missing: program and map removal not checked"
fi
check_fails "set without an attached program fails" tool set "$ID" 1 0x10

echo "# $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" -eq 0 ]
