#!/usr/bin/env bash
# Bandwidth across hosts through VXLAN (docs/bandwidth.md): h1 shapes 200 Mbit/s each way, its
# workloads talk to a container on h2 through shoal.1.  Shaping happens on the host veth's hooks,
# before encapsulation and after decapsulation, so the classes count inner frames and the expected
# goodput is 0.956 x the rate as over plain routing (TESTING.md; 0.923 is for shaping below VXLAN).
# Limit, borrowing and a guarantee under an 8-stream flood, both directions, CUBIC and BBR, 5 %.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_bw.sh"

lab_underlay >/dev/null || { not_ok "underlay"; lab_done; exit 1; }
for h in h1 h2; do lab_host "$h" >/dev/null; done
lab_underlay_join h1 198.18.0.1
lab_underlay_join h2 198.18.0.2
shoald_conf h1 '"bandwidth": {"ingress": "200mbit", "egress": "200mbit"}' >/dev/null
shoald_conf h2 >/dev/null
for h in h1 h2; do shoald_start "$h" || { not_ok "shoald $h starts"; lab_done; exit 1; }; done
for c in a b; do check "ADD $c on h1" container_add h1 "$c"; done
check "ADD s on h2" container_add h2 s
S=$(container_ip s)
BW_SERVER=$S
check "h1 reaches h2's subnet through shoal.1" lab_wait 10 bash -c "ip -n $LAB-h1 route show proto 75 | grep -q shoal.1"
check "a reaches s across hosts" lab_wait 10 ip netns exec "$LAB-a" ping -c1 -W1 "$S"
for p in 5201 5202; do ip netns exec "$LAB-s" iperf3 -s -p "$p" -D; done


check "a: limit 50mbit both ways" quota_ok a '{"ingress": {"limit": 50000000}, "egress": {"limit": 50000000}}'
for cc in cubic bbr; do
	for dir in egress ingress; do
		run lim a 5201 "$cc" "$dir"; finish
		near "$cc $dir across hosts: a's 50mbit limit holds" "$(want 50)" "$(mbit lim)"
	done
done
check "a: guarantee 120mbit" quota_ok a '{"ingress": {"guarantee": 120000000}, "egress": {"guarantee": 120000000}}'
check "b: guarantee 78mbit" quota_ok b '{"ingress": {"guarantee": 78000000}, "egress": {"guarantee": 78000000}}'
for cc in cubic bbr; do
	for dir in egress ingress; do
		run bor a 5201 "$cc" "$dir"; finish
		near "$cc $dir across hosts: borrowing: a alone reaches the capacity" "$(want 200)" "$(mbit bor)"
		run g-a a 5201 "$cc" "$dir"; run g-b b 5202 "$cc" "$dir" -P 8; finish
		near "$cc $dir across hosts: a keeps its 120 while b floods with 8 streams" "$(want 120)" "$(mbit g-a)"
		near "$cc $dir across hosts: and b gets its 78" "$(want 78)" "$(mbit g-b)"
	done
done
lab_done
