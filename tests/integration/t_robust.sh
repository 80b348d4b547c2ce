#!/usr/bin/env bash
# Robustness of one host against what runtimes, operators and bad luck do to it:
#   1. a container that already has a default route (and "defaultRoute": false)
#   2. two attachments whose host veth names collide, live and through pending DELs
#   3. a corrupt attachment record of a live container (adopted from the kernel)
#   4. a FIFO, a symlink and an unreadable record in attachments/
#   5. subnet.json edited behind shoald's back
#   6. the IPAM invariant on a tiny subnet while veth deletion is slow
#   7. the container MTU
#   8. a second shoald in the same network namespace
#   9. CNI_IFNAME values the kernel would misread
# Every section has its own lab host and file store, so a failure in one does not cascade.
. "$(dirname "$0")/lib.sh"

store_of() { echo "\"store\": \"file:$LAB_TMP/store-$1\""; }

# host_up HOST [json fields]: lab host + own store + shoald.
host_up() {
	local h=$1; shift
	local extra; extra=$(store_of "$h")
	[ $# -gt 0 ] && extra+=", $*"
	lab_host "$h" >/dev/null || return 1
	shoald_conf "$h" "$extra" >/dev/null || return 1
	shoald_start "$h"
}

# plug HOST CMD CONTAINERID NSNAME IFNAME [extra conf fields]: the plugin as runtimes run it.
# Extra fields are joined with commas into one cni_conf argument.
plug() {
	local h=$1 cmd=$2 id=$3 ns=$4 ifn=$5 path="" extra=""
	shift 5
	[ -n "$ns" ] && path=$(netns_path "$ns")
	[ $# -gt 0 ] && extra=$(printf '%s, ' "$@") && extra=${extra%, }
	if [ -n "$extra" ]; then cni_conf "$h" 1.1.0 "$extra"; else cni_conf "$h" 1.1.0; fi | cni "$cmd" "$id" "$path" "$ifn"
}

pings() { ip netns exec "$LAB-$1" ping -c1 -W2 "$2" >/dev/null 2>&1; }
has_eth0() { ip -n "$LAB-$1" link show "${2:-eth0}" >/dev/null 2>&1; }
state_count() { local d=$LAB_TMP/state-$1/$2; [ -d "$d" ] || { echo 0; return; }; find "$d" -mindepth 1 -maxdepth 1 ! -name '*.tmp.*' | wc -l; }
records() { ls "$LAB_TMP/state-$1/attachments" "$LAB_TMP/state-$1/releasing" 2>/dev/null | grep -c '\.json$'; }
# listed HOST ID IFNAME: "state address" of that attachment in the workload list.
listed() { workloads_json "$1" | jq -r --arg id "$2" --arg ifn "$3" '.[] | select(.containerId == $id and .ifname == $ifn) | "\(.state) \(.address)"'; }

# ------------------------------------------------------------------------------------------------
# 1. Default route already present in the container.
sec_default_route() {
	host_up h1 || { not_ok "defaultRoute: shoald starts"; return 1; }
	local ns=$LAB-dr out rc gw free0 veths0 links0 route0 code
	gw=$(shoald_field h1 gateway)
	lab_netns dr >/dev/null
	# An uplink the runtime (or another plugin) configured first; dummy where the kernel has it.
	if ! ip -n "$ns" link add up0 type dummy 2>/dev/null; then
		ip -n "$ns" link add up0 type veth peer name up1 && ip -n "$ns" link set up1 up
	fi
	ip -n "$ns" addr add 198.18.5.2/24 dev up0
	ip -n "$ns" link set up0 up
	ip -n "$ns" route add default via 198.18.5.1 dev up0
	route0=$(ip -n "$ns" route show default)
	expect_eq "precondition: the container has its own default route" 1 "$(echo "$route0" | grep -c 'via 198.18.5.1 dev up0')"
	links0=$(ns_links "$ns"); veths0=$(host_veths h1); free0=$(shoald_field h1 addressesFree)

	out=$(plug h1 ADD "$LAB-dr" dr eth0); rc=$?
	code=$(echo "$out" | cni_code)
	{ [ "$code" = 101 ] || [ "$code" = 103 ]; } && code=101/103
	expect_eq "ADD into a namespace with a default route fails (non-zero, code 101 or 103)" "1 101/103" \
		"$([ $rc -ne 0 ] && echo 1 || echo 0) $code"
	check "the error message mentions the route" grep -qi route <<<"$(echo "$out" | cni_text)"
	wait_settled h1
	expect_eq "the container's default route is untouched" "$route0" "$(ip -n "$ns" route show default)"
	expect_eq "no eth0 (no interface) left in the container" "$links0" "$(ns_links "$ns")"
	expect_eq "no host veth left" "$veths0" "$(host_veths h1)"
	expect_eq "the address is not consumed" "$free0" "$(shoald_field h1 addressesFree)"

	out=$(plug h1 ADD "$LAB-dr" dr eth0 '"defaultRoute": false'); rc=$?
	expect_eq "with \"defaultRoute\": false the same ADD succeeds" 0 "$rc"
	expect_eq "defaultRoute false: the existing default route is untouched" "$route0" "$(ip -n "$ns" route show default)"
	expect_eq "defaultRoute false: route to the cluster network 10.244.0.0/16 via the gateway" 1 \
		"$(ip -j -n "$ns" route show 10.244.0.0/16 2>/dev/null | jq --arg gw "$gw" '[.[] | select(.dst == "10.244.0.0/16" and .gateway == $gw and .dev == "eth0")] | length')"
	check "defaultRoute false: the container reaches the gateway" pings dr "$gw"
	if [ $rc -eq 0 ]; then
		echo "$out" >"$LAB_TMP/dr.result"
		check "defaultRoute false: CHECK passes" \
			plug h1 CHECK "$LAB-dr" dr eth0 '"defaultRoute": false' "\"prevResult\": $(jq -c . "$LAB_TMP/dr.result")"
	else
		not_ok "defaultRoute false: CHECK passes (no ADD result)"
	fi
	plug h1 DEL "$LAB-dr" dr eth0 '"defaultRoute": false' >/dev/null
	wait_settled h1
	expect_eq "defaultRoute false: DEL leaves the default route and removes eth0" "$route0 $links0" \
		"$(ip -n "$ns" route show default) $(ns_links "$ns")"
}

# h1 is started by sec_default_route; sections 7 and 9 reuse it (or start it when run alone).
h1_up() { [ -e "$(netns_path h1)" ] || host_up h1; }

# 7. MTU (on h1).
sec_mtu() {
	local mtu
	h1_up || { not_ok "mtu: shoald starts"; return 1; }
	mtu=$(shoald_field h1 mtu)
	check "precondition: status reports a numeric mtu" test -n "$mtu" -a "$mtu" -gt 0
	lab_netns mt1 >/dev/null; lab_netns mt2 >/dev/null
	plug h1 ADD "$LAB-mt1" mt1 eth0 >/dev/null
	plug h1 ADD "$LAB-mt2" mt2 eth0 '"mtu": 1400' >/dev/null
	expect_eq "container eth0 MTU equals status mtu" "$mtu" "$(ip -j -n "$LAB-mt1" link show eth0 2>/dev/null | jq '.[0].mtu')"
	expect_eq "conflist \"mtu\": 1400 gives eth0 MTU 1400" 1400 "$(ip -j -n "$LAB-mt2" link show eth0 2>/dev/null | jq '.[0].mtu')"
	plug h1 DEL "$LAB-mt1" mt1 eth0 >/dev/null
	plug h1 DEL "$LAB-mt2" mt2 eth0 '"mtu": 1400' >/dev/null
}

# 9. Interface names the kernel would misread (on h1).
sec_ifnames() {
	local ifn i=0 out rc veths0
	h1_up || { not_ok "ifnames: shoald starts"; return 1; }
	# The sections before may still be reaping their veths: compare with the settled set.
	wait_settled h1
	veths0=$(host_veths h1)
	for ifn in 'e%d' lo 'a:b' all; do
		i=$((i + 1))
		lab_netns bad$i >/dev/null
		out=$(plug h1 ADD "$LAB-bad$i" bad$i "$ifn"); rc=$?
		expect_eq "CNI_IFNAME '$ifn': exit non-zero with code 4" "1 4" \
			"$([ $rc -ne 0 ] && echo 1 || echo 0) $(echo "$out" | cni_code)"
		expect_eq "CNI_IFNAME '$ifn': no interface created in the container" "lo" "$(ns_links "$LAB-bad$i" | tr '\n' ' ' | sed 's/ $//')"
	done
	wait_settled h1
	expect_eq "invalid CNI_IFNAMEs leave no host veth" "$veths0" "$(host_veths h1)"
}

# ------------------------------------------------------------------------------------------------
# 2. Host veth name collisions.
IDA=e0e5b79c59b004c8
IDB=d0da1fd138f4dfbc
gone_summary() {  # HOST: what must be zero / full after everything was deleted
	echo "veths=$(host_veths "$1" | grep -c .) records=$(records "$1") pending=$(state_count "$1" pending-del)" \
		"workloads=$(shoald_field "$1" workloads) free=$(shoald_field "$1" addressesFree)" \
		"eth0=$( (has_eth0 ca && echo A; has_eth0 cb && echo B) | tr -d '\n')"
}
sec_collision() {
	local gw out rc va vb cand usable want_gone
	host_up h2 || { not_ok "collision: shoald starts"; return 1; }
	gw=$(shoald_field h2 gateway); usable=$(shoald_field h2 addressesFree)
	want_gone="veths=0 records=0 pending=0 workloads=0 free=$usable eth0="
	cand=$(veth_name_hash "$IDA" eth0)
	expect_eq "precondition: $IDA and $IDB hash to the same host veth name" "$cand" "$(veth_name_hash "$IDB" eth0)"
	lab_netns ca >/dev/null; lab_netns cb >/dev/null

	# (a) both live at once
	plug h2 ADD "$IDA" ca eth0 >"$LAB_TMP/ca.result"; rc=$?
	expect_eq "collision (a): ADD A succeeds" 0 "$rc"
	va=$(jq -r '.interfaces[0].name' "$LAB_TMP/ca.result" 2>/dev/null)
	# A, added first, gets the historic name: the test really exercises the collision.
	expect_eq "precondition: A's host veth is the colliding name" "$cand" "$va"
	out=$(plug h2 ADD "$IDB" cb eth0); rc=$?
	echo "$out" >"$LAB_TMP/cb.result"
	expect_eq "collision (a): ADD B succeeds while A exists" "0 " "$rc $(echo "$out" | cni_code)"
	vb=$(jq -r '.interfaces[0].name // empty' "$LAB_TMP/cb.result" 2>/dev/null)
	check "collision (a): B got another host veth name" test -n "$vb" -a "$vb" != "$va"
	check "collision (a): A reaches the gateway" pings ca "$gw"
	check "collision (a): B reaches the gateway" pings cb "$gw"
	expect_eq "collision (a): both listed active" "active active" \
		"$(listed h2 "$IDA" eth0 | cut -d' ' -f1) $(listed h2 "$IDB" eth0 | cut -d' ' -f1)"
	plug h2 DEL "$IDB" cb eth0 >/dev/null
	check "collision (a): DEL B leaves A working" pings ca "$gw"
	plug h2 DEL "$IDA" ca eth0 >/dev/null
	wait_settled h2
	expect_eq "collision (a): after DEL of both everything is gone" "$want_gone" "$(gone_summary h2)"

	# (b) A attached, a DEL of B recorded while shoald is down, must not remove A
	plug h2 ADD "$IDA" ca eth0 >"$LAB_TMP/ca.result"
	check "collision (b): precondition: A is attached" has_eth0 ca
	shoald_stop h2 TERM
	plug h2 DEL "$IDB" cb eth0 >/dev/null; rc=$?
	expect_eq "collision (b): offline DEL of B succeeds and leaves a pending record" "0 1" "$rc $(state_count h2 pending-del)"
	shoald_start h2 || { not_ok "collision (b): shoald restarts"; return 1; }
	wait_settled h2
	check "collision (b): after the start A still has eth0" has_eth0 ca
	check "collision (b): after the start A reaches the gateway" pings ca "$gw"
	expect_eq "collision (b): A is still listed active" "active" "$(listed h2 "$IDA" eth0 | cut -d' ' -f1)"
	expect_eq "collision (b): the pending DEL was processed" 0 "$(state_count h2 pending-del)"
	plug h2 ADD "$IDB" cb eth0 >"$LAB_TMP/cb.result"; rc=$?
	expect_eq "collision (b): then ADD B succeeds" 0 "$rc"
	check "collision (b): B reaches the gateway" pings cb "$gw"
	check "collision (b): A still reaches the gateway" pings ca "$gw"
	plug h2 DEL "$IDA" ca eth0 >/dev/null
	plug h2 DEL "$IDB" cb eth0 >/dev/null
	wait_settled h2
	expect_eq "collision (b): after DEL of both everything is gone" "$want_gone" "$(gone_summary h2)"

	# (c) DELs of both recorded while shoald is down
	plug h2 ADD "$IDA" ca eth0 >/dev/null; rc=$?
	plug h2 ADD "$IDB" cb eth0 >/dev/null
	expect_eq "collision (c): precondition: A and B attached" "0 AB" "$rc $( (has_eth0 ca && echo A; has_eth0 cb && echo B) | tr -d '\n')"
	shoald_stop h2 TERM
	plug h2 DEL "$IDA" ca eth0 >/dev/null; rc=$?
	plug h2 DEL "$IDB" cb eth0 >/dev/null; rc=$((rc + $?))
	expect_eq "collision (c): offline DELs of A and B leave two pending records" "0 2" "$rc $(state_count h2 pending-del)"
	shoald_start h2 || { not_ok "collision (c): shoald restarts"; return 1; }
	wait_settled h2
	expect_eq "collision (c): both pending DELs processed at start, everything gone" "$want_gone" "$(gone_summary h2)"
}

# ------------------------------------------------------------------------------------------------
# 3. A corrupt attachment record of a live container.
sec_corrupt_record() {
	local gw usable i=0 variant sig c addr hv rec out rc n dup last j
	host_up h3 '"subnetLen": 28' || { not_ok "corrupt record: shoald starts"; return 1; }
	gw=$(shoald_field h3 gateway); usable=$(shoald_field h3 addressesFree)
	for variant in empty garbage 100KiB; do
		i=$((i + 1)); c=r$i
		sig=TERM; [ "$variant" = garbage ] && sig=KILL
		if ! container_add h3 "$c"; then not_ok "corrupt record ($variant): ADD"; continue; fi
		addr=$(jq -r '.ips[0].address' "$LAB_TMP/$c.result"); hv=$(jq -r '.interfaces[0].name' "$LAB_TMP/$c.result")
		rec=$LAB_TMP/state-h3/attachments/$hv.json
		if [ ! -f "$rec" ] || ! ip -n "$LAB-h3" link show "$hv" >/dev/null 2>&1 || ! pings "$c" "$gw"; then
			not_ok "corrupt record ($variant): precondition: record, veth and connectivity exist"; continue
		fi
		case $variant in
		empty) : >"$rec" ;;
		garbage) printf 'garbage\000\377{"containerId":' >"$rec" ;;
		100KiB) { cat "$rec"; head -c 102400 /dev/zero | tr '\0' ' '; } >"$rec.new" && mv "$rec.new" "$rec" ;;
		esac
		shoald_stop h3 "$sig"
		shoald_start h3 || { not_ok "corrupt record ($variant): shoald restarts after $sig"; return 1; }
		wait_settled h3
		expect_eq "corrupt record ($variant, $sig): eth0 still exists with its address" "$addr" "$(ns_addr "$LAB-$c")"
		check "corrupt record ($variant, $sig): the container reaches the gateway" pings "$c" "$gw"
		expect_eq "corrupt record ($variant, $sig): workload list shows it active, same address" "active $addr" \
			"$(listed h3 "$LAB-$c" eth0)"
		# Fill the subnet: no new ADD may get the adopted address.
		n=0; dup=0; last=none
		for j in $(seq $((usable + 1))); do
			[ -e "$(netns_path f$j)" ] || lab_netns f$j >/dev/null
			out=$(plug h3 ADD "$LAB-f$j" f$j eth0); rc=$?
			if [ $rc -ne 0 ]; then last=$(echo "$out" | cni_code); break; fi
			n=$((n + 1))
			[ "$(echo "$out" | jq -r '.ips[0].address')" = "$addr" ] && dup=$((dup + 1))
		done
		expect_eq "corrupt record ($variant): new ADDs until the subnet is full never get its address" \
			"dup=0 added=$((usable - 1)) then=102" "dup=$dup added=$n then=$last"
		for j in $(seq $((usable + 1))); do plug h3 DEL "$LAB-f$j" f$j eth0 >/dev/null 2>&1; done
		wait_settled h3
		plug h3 DEL "$LAB-$c" "$c" eth0 >/dev/null; rc=$?
		wait_settled h3
		expect_eq "corrupt record ($variant): DEL by id/ifname removes it" "rc=0 eth0=no veth=no listed=" \
			"rc=$rc eth0=$(has_eth0 "$c" && echo yes || echo no) veth=$(ip -n "$LAB-h3" link show "$hv" >/dev/null 2>&1 && echo yes || echo no) listed=$(listed h3 "$LAB-$c" eth0)"
		expect_eq "corrupt record ($variant): afterwards every address is free" "0 $usable" \
			"$(shoald_field h3 workloads) $(shoald_field h3 addressesFree)"
	done
}

# ------------------------------------------------------------------------------------------------
# 4. Things in attachments/ that are not records.
sec_odd_files() {
	local gw att junk=shv0000deadbeef m c1 c2
	host_up h4 || { not_ok "odd files: shoald starts"; return 1; }
	gw=$(shoald_field h4 gateway); att=$LAB_TMP/state-h4/attachments
	container_add h4 live || not_ok "odd files: ADD"
	printf 'this is not json' >"$att/$junk.json"
	shoald_stop h4 TERM; m=$(log_mark h4)
	shoald_start h4 || { not_ok "odd files: restart with an unreadable record"; return 1; }
	c1=$(log_since h4 "$m" | grep -c "$junk")
	shoald_stop h4 TERM; m=$(log_mark h4)
	shoald_start h4 || { not_ok "odd files: second restart"; return 1; }
	c2=$(log_since h4 "$m" | grep -c "$junk")
	expect_eq "an unreadable record is reported on the first start and not re-read on the next" "yes 0" \
		"$([ "$c1" -ge 1 ] && echo yes || echo "no($c1)") $c2"

	mkfifo "$att/shvfifo0000000a.json"
	mkfifo "$LAB_TMP/elsewhere.fifo"
	ln -s "$LAB_TMP/elsewhere.fifo" "$att/shvlink0000000b.json"
	shoald_stop h4 TERM; m=$(log_mark h4)
	if shoald_start h4; then
		ok "shoald starts (socket within 5 s) with a FIFO and a symlink in attachments/"
	else
		not_ok "shoald starts (socket within 5 s) with a FIFO and a symlink in attachments/"
		shoald_stop h4 KILL
		return 1
	fi
	check "the FIFO is reported" grep -q shvfifo0000000a <<<"$(log_since h4 "$m")"
	check "the symlink is reported" grep -q shvlink0000000b <<<"$(log_since h4 "$m")"
	check "the symlink's target is left alone" test -p "$LAB_TMP/elsewhere.fifo"
	check "the live container still reaches the gateway" pings live "$gw"
	expect_eq "the live container is still listed active" "active" "$(listed h4 "$LAB-live" eth0 | cut -d' ' -f1)"
}

# ------------------------------------------------------------------------------------------------
# 5. subnet.json edited to another subnet while workloads run.
sec_subnet_edit() {
	local gw old bogus m f=$LAB_TMP/state-h5/subnet.json c
	host_up h5 || { not_ok "subnet edit: shoald starts"; return 1; }
	container_add h5 s1 && container_add h5 s2 || not_ok "subnet edit: ADD"
	gw=$(shoald_field h5 gateway); old=$(shoald_field h5 subnet)
	bogus=10.244.99.0/24; [ "$old" = "$bogus" ] && bogus=10.244.98.0/24
	jq -c --arg s "$bogus" '.subnet = $s' "$f" >"$f.new" && mv "$f.new" "$f"
	expect_eq "precondition: subnet.json now names $bogus" "$bogus" "$(jq -r .subnet "$f")"
	shoald_stop h5 TERM; m=$(log_mark h5)
	shoald_start h5 || { not_ok "subnet edit: shoald restarts"; return 1; }
	wait_settled h5
	expect_eq "subnet edit: status shows the old subnet" "$old" "$(shoald_field h5 subnet)"
	expect_eq "subnet edit: the store has no lease for $bogus" 0 \
		"$(netctl_json h5 subnet list | jq --arg s "$bogus" '[(.[]? // .subnets[]?) | select(.subnet == $s)] | length')"
	for c in s1 s2; do
		expect_eq "subnet edit: $c keeps its address" "$(jq -r '.ips[0].address' "$LAB_TMP/$c.result")" "$(ns_addr "$LAB-$c")"
		check "subnet edit: $c reaches the gateway" pings "$c" "$gw"
	done
	expect_eq "subnet edit: both workloads still listed active" 2 "$(workloads_json h5 | jq '[.[] | select(.state == "active")] | length')"
	check "subnet edit: the log reports the conflict (a warning or error naming $bogus)" \
		grep -qF "$bogus" <<<"$(log_since h5 "$m" | grep -E '(^|[0-9] )shoal (warning|error):')"
}

# ------------------------------------------------------------------------------------------------
# 6. IPAM on a /29 while the deletion worker is slow (test hook SHOALD_TEST_REAPER_DELAY_MS).
sec_ipam_invariant() {
	local H=$LAB-h6 USABLE=5 hv f_add f_del still early rose f v round i viol="" saw_deleting=0 adds_ok=0 dels=0
	local l1 l2 l st try active deleting w free dup rc pids
	lab_host h6 >/dev/null
	shoald_conf h6 "$(store_of h6), \"subnetLen\": 29" >/dev/null
	export SHOALD_TEST_REAPER_DELAY_MS=400
	shoald_start h6; rc=$?
	unset SHOALD_TEST_REAPER_DELAY_MS
	[ $rc -eq 0 ] || { not_ok "ipam: shoald starts"; return 1; }
	check "precondition: shoald runs with SHOALD_TEST_REAPER_DELAY_MS=400" \
		grep -qx SHOALD_TEST_REAPER_DELAY_MS=400 <<<"$(tr '\0' '\n' <"/proc/$(shoald_pid h6)/environ")"
	expect_eq "ipam: a /29 has $USABLE usable addresses" $USABLE "$(shoald_field h6 addressesFree)"

	# Up to three tries: on a badly overloaded machine the 400 ms may pass before we look, which
	# proves nothing either way.  Without the hook the veth is gone every time.
	for try in 1 2 3; do
		container_add h6 q$try || not_ok "ipam: ADD"
		hv=$(jq -r '.interfaces[0].name' "$LAB_TMP/q$try.result")
		f_add=$(shoald_field h6 addressesFree)
		plug h6 DEL "$LAB-q$try" q$try eth0 >/dev/null
		# Status first, then the veth: if the veth exists afterwards it existed when status answered.
		f_del=$("$BUILD/netctl" --socket "$LAB_TMP/h6.sock" status -o json | jq -r .addressesFree)
		still=$(ip -n "$H" link show "$hv" >/dev/null 2>&1 && echo yes || echo no)
		[ "$still" = yes ] && break
		wait_settled h6
	done
	expect_eq "ipam: precondition: right after DEL the veth still exists (deletion delayed)" yes "$still"
	expect_eq "ipam: right after DEL addressesFree has not risen" "$f_add" "$f_del"
	early=0; rose=0
	for _ in $(seq 50); do
		f=$(shoald_field h6 addressesFree)
		v=$(ip -n "$H" link show "$hv" >/dev/null 2>&1 && echo yes || echo no)
		if [ -n "$f" ] && [ "$f" -gt "$f_add" ]; then
			rose=1
			[ "$v" = yes ] && early=1
			[ "$v" = no ] && break
		fi
		sleep 0.1
	done
	expect_eq "ipam: addressesFree rises once the veth is gone, never while it exists" "rose=1 early=0" "rose=$rose early=$early"

	for i in $(seq 8); do lab_netns p$i >/dev/null; done
	for round in $(seq 10); do
		rm -f "$LAB_TMP"/p*.rc
		pids=()
		for i in $(seq 8); do
			if has_eth0 p$i; then
				[ $((RANDOM % 2)) -eq 0 ] || continue
				dels=$((dels + 1))
				(plug h6 DEL "$LAB-p$i" p$i eth0 >/dev/null 2>&1) &
				pids+=($!)
			else
				[ $((RANDOM % 3)) -ne 0 ] || continue
				(plug h6 ADD "$LAB-p$i" p$i eth0 >"$LAB_TMP/p$i.result" 2>/dev/null; echo $? >"$LAB_TMP/p$i.rc") &
				pids+=($!)
			fi
		done
		# Only these jobs: a bare wait would wait for shoald too.
		[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
		adds_ok=$((adds_ok + $(cat "$LAB_TMP"/p*.rc 2>/dev/null | grep -cx 0)))
		# A consistent snapshot: the list did not change while status was read.
		l1="" st=""
		for try in $(seq 20); do
			a=$(workloads_json h6); s=$(netctl_json h6 status 2>/dev/null); b=$(workloads_json h6)
			# Any list counts for the precondition, consistent or not.
			for l in "$a" "$b"; do jq -e 'any(.[]; .state != "active")' <<<"$l" >/dev/null 2>&1 && saw_deleting=1; done
			# A query that failed (shoald busy on a loaded machine) is asked again, not counted.
			[ -n "$a" ] && [ -n "$s" ] || continue
			l1=$a st=$s
			[ "$a" = "$b" ] && break
		done
		active=$(echo "$l1" | jq '[.[] | select(.state == "active")] | length')
		deleting=$(echo "$l1" | jq '[.[] | select(.state != "active") | .address] | unique | length')
		w=$(echo "$st" | jq -r '.workloads // 999'); free=$(echo "$st" | jq -r '.addressesFree // 999')
		[[ $w =~ ^[0-9]+$ && $free =~ ^[0-9]+$ && $deleting =~ ^[0-9]+$ ]] || { w=999 free=999 deleting=999; }
		if ! [ "$((w + free + deleting))" -eq $USABLE ] 2>/dev/null || [ "$w" != "$active" ]; then
			viol+=" round $round: workloads $w + free $free + deleting $deleting != $USABLE (listed active $active);"
		fi
		dup=$(for i in $(seq 8); do ns_addr "$LAB-p$i"; done | grep . | sort | uniq -d | tr '\n' ' ')
		[ -z "$dup" ] || viol+=" round $round: $dup on two containers;"
		sleep "0.$((RANDOM % 5))"
	done
	expect_eq "ipam: workloads + free + deleting == $USABLE and unique container addresses after each of 10 rounds" "" "$viol"
	expect_eq "ipam: precondition: the rounds ADDed, DELed and saw deleting attachments" "yes yes 1" \
		"$([ $adds_ok -gt 0 ] && echo yes) $([ $dels -gt 0 ] && echo yes) $saw_deleting"
	for i in $(seq 8); do plug h6 DEL "$LAB-p$i" p$i eth0 >/dev/null 2>&1; done
	wait_settled h6 || wait_settled h6
	expect_eq "ipam: after DEL of all: no workload, every address free, no veth" "0 $USABLE 0" \
		"$(shoald_field h6 workloads) $(shoald_field h6 addressesFree) $(host_veths h6 | grep -c .)"
}

# ------------------------------------------------------------------------------------------------
# 8. A second shoald in the same network namespace.  Each variant has its own host, so the damage
# one does today cannot hide what the other does.
#   own-socket:  a copy of the config with its own state dir and socket (the same node name)
#   same-socket: its own state dir and another node name, but the first daemon's socket
second_daemon() {
	local tag=$1 h=$2 H=$LAB-$2 gw ports0 leases0 conf out rc c
	host_up "$h" || { not_ok "second shoald ($tag): the first shoald starts"; return 1; }
	container_add "$h" "${h}m1" && container_add "$h" "${h}m2" || not_ok "second shoald ($tag): ADD"
	gw=$(shoald_field "$h" gateway)
	ports0=$(ip -n "$H" -o link show master shoal0 | awk -F': ' '{print $1 ":" $2}' | cut -d@ -f1 | sort)
	leases0=$(netctl_json "$h" subnet list | jq -c '[(.[]? // .subnets[]?) | {subnet, node, lease}]')
	expect_eq "second shoald ($tag): precondition: two veths on shoal0 and one subnet lease" "2 1" \
		"$(echo "$ports0" | grep -c shv) $(echo "$leases0" | jq length)"
	conf=$LAB_TMP/$h-second.json
	if [ "$tag" = own-socket ]; then
		jq --arg t "$LAB_TMP" --arg h "$h" '.stateDir = ($t + "/state-" + $h + "-2") | .socket = ($t + "/" + $h + "-2.sock")' \
			"$LAB_TMP/$h.json" >"$conf"
	else
		jq --arg t "$LAB_TMP" --arg h "$h" '.stateDir = ($t + "/state-" + $h + "-2") | .node = ($h + "-2")' \
			"$LAB_TMP/$h.json" >"$conf"
	fi
	out=$(timeout -k 2 5 ip netns exec "$H" "$BUILD/shoald" --config "$conf" 2>&1); rc=$?
	echo "$out" >"$LAB_TMP/shoald-$h-second.log"
	expect_eq "second shoald ($tag): exits non-zero by itself" "exited non-zero" \
		"$({ [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && echo "still running" || { [ $rc -ne 0 ] && echo "exited non-zero" || echo "exited 0"; })"
	if ! grep -qi "another shoald" <<<"$out" || ! grep -qi "network namespace" <<<"$out"; then
		not_ok "second shoald ($tag): says another shoald runs in this network namespace"
		echo "$out" | tail -3 | sed 's/^/#   /'
	else
		ok "second shoald ($tag): says another shoald runs in this network namespace"
	fi
	expect_eq "second shoald ($tag): the first daemon's veths are untouched" "$ports0" \
		"$(ip -n "$H" -o link show master shoal0 | awk -F': ' '{print $1 ":" $2}' | cut -d@ -f1 | sort)"
	for c in "${h}m1" "${h}m2"; do check "second shoald ($tag): container $c still reaches the gateway" pings "$c" "$gw"; done
	expect_eq "second shoald ($tag): shoal0 has exactly one IPv4 address" 1 "$(ip -n "$H" -4 -o addr show dev shoal0 | wc -l)"
	expect_eq "second shoald ($tag): the store still has the one subnet lease" "$leases0" \
		"$(netctl_json "$h" subnet list 2>/dev/null | jq -c '[(.[]? // .subnets[]?) | {subnet, node, lease}]')"
	check "second shoald ($tag): it wrote no subnet.json" test ! -e "$(jq -r .stateDir "$conf")/subnet.json"
	expect_eq "second shoald ($tag): the first daemon still serves" "$h 2" \
		"$(shoald_field "$h" node) $(shoald_field "$h" workloads)"
	container_add "$h" "${h}m3"; rc=$?
	expect_eq "second shoald ($tag): the first daemon still ADDs" 0 "$rc"
	check "second shoald ($tag): the new container reaches the gateway" pings "${h}m3" "$gw"
}
sec_second_daemon() {
	second_daemon own-socket o8
	second_daemon same-socket s8
}

# T_ROBUST_SECTIONS="sec_collision sec_mtu" runs a subset while working on one of them.
for sec in ${T_ROBUST_SECTIONS:-sec_default_route sec_mtu sec_ifnames sec_collision sec_corrupt_record \
	sec_odd_files sec_subnet_edit sec_ipam_invariant sec_second_daemon}; do
	"$sec"
done
lab_done
