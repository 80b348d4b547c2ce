#!/usr/bin/env bash
# 32 ADDs at once: all succeed, with unique addresses, and everything is reachable; then 32 DELs
# at once leave nothing behind.
. "$(dirname "$0")/lib.sh"
N=32
H=$(lab_host h1)
shoald_start h1 || { not_ok "shoald starts"; lab_done; exit 1; }
for i in $(seq $N); do lab_netns p$i >/dev/null; done
pids=()
for i in $(seq $N); do
	( cni_conf h1 | cni ADD "$LAB-p$i" "$(netns_path p$i)" eth0 >"$LAB_TMP/p$i.result"; echo $? >"$LAB_TMP/p$i.rc" ) &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$N parallel ADDs all succeed" "$N" "$(cat "$LAB_TMP"/p*.rc | grep -c '^0$')"
expect_eq "$N unique addresses" "$N" "$(for i in $(seq $N); do container_ip p$i; done | sort -u | grep -c .)"
fails=0
for i in $(seq 2 $N); do
	ip netns exec "$LAB-p$i" ping -c1 -W2 "$(container_ip p1)" >/dev/null || fails=$((fails + 1))
done
expect_eq "every container reaches the first one" 0 "$fails"
expect_eq "shoald counts $N workloads" "$N" "$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq .workloads)"
pids=()
for i in $(seq $N); do
	( cni_conf h1 | cni DEL "$LAB-p$i" "$(netns_path p$i)" eth0 >/dev/null; echo $? >"$LAB_TMP/d$i.rc" ) &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$N parallel DELs all succeed" "$N" "$(cat "$LAB_TMP"/d*.rc | grep -c '^0$')"
wait_settled h1
expect_eq "no host veth left" 0 "$(ip -n "$H" -o link show type veth | grep -c shv)"
left=0
for i in $(seq $N); do left=$((left + $(ip -n "$LAB-p$i" -o link | grep -vc ': lo:'))); done
expect_eq "no interface left in any container" 0 "$left"
expect_eq "all addresses free" 253 "$("$BUILD/netctl" --socket "$LAB_TMP/h1.sock" status -o json | jq .addressesFree)"
lab_done
