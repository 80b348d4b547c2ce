#!/usr/bin/env bash
# The plugin refuses malformed invocations: for each one the exit code is non-zero, stdout is exactly
# the CNI spec's error object with the expected "code", and nothing is left behind (no interface in
# the host or container namespace, no file in the state directory).
#
# Phase 1 needs no daemon: a "tripwire" listens on the socket and records every connection; all
# malformed invocations must be refused before shoald is asked.  Phase 2: valid invocations with no
# daemon at all (codes 11 / 50, DEL's pending-delete record).  Phase 3: a fake shoald (a few lines of
# Python) answers ADD, so the whole ADD path (netns fd passing, result conversion for every version,
# prevResult merging) runs, and Debian's portmap and tuning accept our result as their prevResult.
# Phase 4 (only when build/shoald exists): the phase-1 cases again against the real shoald, and a
# full /30 subnet whose second ADD fails with 102 and leaves nothing behind.
source "$(dirname "$0")/lib.sh"

HOST=$(lab_host h1) || exit 1
C1=$(lab_netns c1) || exit 1
SOCK=$LAB_TMP/h1.sock
STATE=$LAB_TMP/state-h1
NETNS1=$(netns_path c1)
PLUGIN_PATH=$BUILD:/usr/lib/cni
mkdir -p "$STATE"

# plug VAR=VAL... < input: exec the plugin as a runtime does, with exactly these variables, from the
# lab host's network namespace.
plug() { ip netns exec "$HOST" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" "${SHOAL_PLUGIN:-$BUILD/shoal}"; }

ADD_ENV=(CNI_COMMAND=ADD "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0 "CNI_PATH=$PLUGIN_PATH")
DEL_ENV=(CNI_COMMAND=DEL "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0 "CNI_PATH=$PLUGIN_PATH")
CHECK_ENV=(CNI_COMMAND=CHECK "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0 "CNI_PATH=$PLUGIN_PATH")

# conf VERSION [extra json fields]: a valid network config for host h1.
conf() { cni_conf h1 "$@"; }
HEAD="\"socket\":\"$SOCK\",\"stateDir\":\"$STATE\""

# What a malformed invocation must not change: links in the host and container namespaces, files in
# the state directory.
snapshot() {
	local ns
	for ns in "$HOST" "$C1"; do
		echo "== $ns"
		ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	done
	echo "== $STATE"
	find "$STATE" -type f ! -name '*.tmp.*' 2>/dev/null | sort
}

# bad NAME CODE INPUT VAR=VAL...: INPUT is the stdin text, or @FILE.
bad() {
	local name=$1 code=$2 input=$3 before after out rc why=""
	shift 3
	before=$(snapshot)
	if [[ $input == @* ]]; then
		out=$(plug "$@" <"${input#@}" 2>>"$LAB_TMP/stderr.log")
		rc=$?
	else
		out=$(printf '%s' "$input" | plug "$@" 2>>"$LAB_TMP/stderr.log")
		rc=$?
	fi
	after=$(snapshot)
	[ "$rc" -ne 0 ] || why+=" exit code 0;"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || why+=" not one line of output;"
	printf '%s' "$out" | jq -e --argjson c "$code" '
		(keys == ["cniVersion", "code", "details", "msg"]) and .code == $c and
		(.cniVersion | type == "string") and (.msg | type == "string" and length > 0) and
		(.details | type == "string")' >/dev/null 2>&1 || why+=" output $out;"
	[ "$before" = "$after" ] ||
		why+=" left behind: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ');"
	if [ -z "$why" ]; then ok "$name -> code $code"; else not_ok "$name:$why"; fi
}

# The fake shoald / tripwire: MODE tripwire records connections and closes them; MODE fake answers.
cat >"$LAB_TMP/fake_shoald.py" <<'EOF'
import array, json, os, socket, sys
path, log, mode, netns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
RESULT = {"interfaces": [{"name": "shv000000000001", "mac": "aa:bb:cc:00:00:01", "mtu": 1450},
                         {"name": None, "mac": "be:ef:00:00:00:02", "mtu": 1450, "sandbox": None}],
          "ips": [{"address": "10.244.3.7/24", "gateway": "10.244.3.1", "interface": 1}],
          "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.3.1"}], "dns": {}}
while True:
    c, _ = s.accept()
    data, fds = b"", []
    while True:
        msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4))
        for level, typ, d in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds += array.array("i", d[:4])
        if not msg:
            break
        data += msg
    with open(log, "a") as f:
        f.write(data.decode(errors="replace") + "\n")
    ans = None
    if mode == "fake":
        req = json.loads(data)
        op = req.get("op")
        if op in ("add", "check"):
            # The fd must be the container's netns (add names it; check does not).
            if len(fds) != 1 or os.fstat(fds[0]).st_ino != os.stat(req.get("netns", netns)).st_ino:
                ans = {"ok": False, "code": 5, "msg": "fd is not the netns", "details": netns}
            elif req["containerId"].endswith("full"):
                ans = {"ok": False, "code": 102, "msg": "no free address", "details": "subnet 10.244.3.0/30 is full"}
            elif op == "add":
                ans = dict(RESULT, ok=True)
                ans["interfaces"] = [dict(i) for i in RESULT["interfaces"]]
                ans["interfaces"][1]["name"] = req["ifname"]
                ans["interfaces"][1]["sandbox"] = req["netns"]
            else:
                ans = {"ok": True}
        elif op == "status":
            ans = {"ok": True, "subnet": "10.244.3.0/24", "addressesFree": 250}
        else:
            ans = {"ok": True, "removed": 0}
    for fd in fds:
        os.close(fd)
    if ans is not None:
        c.sendall(json.dumps(ans).encode())
    c.close()
EOF

fake_start() {  # MODE
	rm -f "$SOCK" "$LAB_TMP/fake.log"
	touch "$LAB_TMP/fake.log"
	python3 "$LAB_TMP/fake_shoald.py" "$SOCK" "$LAB_TMP/fake.log" "$1" "$NETNS1" &
	FAKE_PID=$!
	LAB_PIDS+=("$FAKE_PID")
	for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	echo "# fake shoald did not start"
	return 1
}
fake_stop() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; rm -f "$SOCK"; }

head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$LAB_TMP/huge.json"
: >"$LAB_TMP/regular-file"
LONG_ID=$(printf 'a%.0s' $(seq 257))
V11=$(conf 1.1.0)
V04=$(conf 0.4.0)

bad_cases() {
	# -- environment --
	bad "no CNI_COMMAND" 4 "$V11" "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0
	bad "unknown CNI_COMMAND" 4 "$V11" CNI_COMMAND=FROB "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0
	bad "lower-case CNI_COMMAND" 4 "$V11" CNI_COMMAND=add "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0
	bad "CNI_COMMAND=INIT (not in 1.1.0)" 4 "$V11" CNI_COMMAND=INIT
	bad "ADD without CNI_CONTAINERID" 4 "$V11" CNI_COMMAND=ADD "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0
	bad "ADD without CNI_NETNS" 4 "$V11" CNI_COMMAND=ADD "CNI_CONTAINERID=$LAB-c1" CNI_IFNAME=eth0
	bad "ADD with empty CNI_NETNS" 4 "$V11" CNI_COMMAND=ADD "CNI_CONTAINERID=$LAB-c1" CNI_NETNS= CNI_IFNAME=eth0
	bad "ADD without CNI_IFNAME" 4 "$V11" CNI_COMMAND=ADD "CNI_CONTAINERID=$LAB-c1" "CNI_NETNS=$NETNS1"
	bad "ADD without any variable" 4 "$V11" CNI_COMMAND=ADD
	bad "DEL without CNI_CONTAINERID" 4 "$V11" CNI_COMMAND=DEL CNI_IFNAME=eth0
	bad "DEL without CNI_IFNAME" 4 "$V11" CNI_COMMAND=DEL "CNI_CONTAINERID=$LAB-c1"
	bad "CHECK without CNI_NETNS" 4 "$V11" CNI_COMMAND=CHECK "CNI_CONTAINERID=$LAB-c1" CNI_IFNAME=eth0
	bad "CHECK without CNI_CONTAINERID" 4 "$V11" CNI_COMMAND=CHECK "CNI_NETNS=$NETNS1" CNI_IFNAME=eth0
	bad "GC without CNI_PATH" 4 "$(conf 1.1.0 '"cni.dev/valid-attachments":[]')" CNI_COMMAND=GC
	bad "CNI_IFNAME a/b" 4 "$V11" "${ADD_ENV[@]}" CNI_IFNAME=a/b
	bad "CNI_IFNAME of 16 bytes" 4 "$V11" "${ADD_ENV[@]}" CNI_IFNAME=abcdefghijklmnop
	bad "CNI_IFNAME ." 4 "$V11" "${ADD_ENV[@]}" CNI_IFNAME=.
	bad "CNI_IFNAME with a space" 4 "$V11" "${ADD_ENV[@]}" "CNI_IFNAME=eth 0"
	bad "CNI_IFNAME with a colon (DEL)" 4 "$V11" "${DEL_ENV[@]}" CNI_IFNAME=eth0:1
	bad "CNI_CONTAINERID ../x" 4 "$V11" "${ADD_ENV[@]}" CNI_CONTAINERID=../x
	bad "CNI_CONTAINERID of 257 bytes" 4 "$V11" "${ADD_ENV[@]}" "CNI_CONTAINERID=$LONG_ID"
	bad "CNI_CONTAINERID with a space (DEL)" 4 "$V11" "${DEL_ENV[@]}" "CNI_CONTAINERID=a b"
	bad "CNI_NETNS relative" 4 "$V11" "${ADD_ENV[@]}" CNI_NETNS=var/run/netns/x
	bad "CNI_NETNS missing path" 4 "$V11" "${ADD_ENV[@]}" "CNI_NETNS=/var/run/netns/$LAB-nonexistent"
	bad "CNI_NETNS a regular file" 4 "$V11" "${ADD_ENV[@]}" "CNI_NETNS=$LAB_TMP/regular-file"
	bad "CNI_NETNS a directory" 4 "$V11" "${ADD_ENV[@]}" "CNI_NETNS=$LAB_TMP"
	bad "CNI_NETNS /dev/null" 4 "$V11" "${ADD_ENV[@]}" CNI_NETNS=/dev/null
	bad "CNI_NETNS a mount namespace" 4 "$V11" "${ADD_ENV[@]}" CNI_NETNS=/proc/self/ns/mnt
	bad "CNI_NETNS the host's own netns" 4 "$V11" "${ADD_ENV[@]}" "CNI_NETNS=/var/run/netns/$HOST"
	bad "CHECK CNI_NETNS a regular file" 4 "$(conf 1.1.0 '"prevResult":{}')" "${CHECK_ENV[@]}" "CNI_NETNS=$LAB_TMP/regular-file"
	bad "CNI_ARGS without =" 6 "$V11" "${ADD_ENV[@]}" CNI_ARGS=K8S_POD_NAME
	bad "CNI_ARGS with two =" 6 "$V11" "${ADD_ENV[@]}" "CNI_ARGS=A=1=2"
	bad "CNI_ARGS with an empty key" 6 "$V11" "${ADD_ENV[@]}" "CNI_ARGS=IgnoreUnknown=1;=x"
	bad "CNI_ARGS with a bad key" 6 "$V11" "${ADD_ENV[@]}" "CNI_ARGS=K8S POD=x"
	# -- stdin / network config --
	bad "empty stdin" 6 "" "${ADD_ENV[@]}"
	bad "truncated JSON" 6 '{"cniVersion":"1.1.0","name":' "${ADD_ENV[@]}"
	bad "JSON array" 6 '[1,2]' "${ADD_ENV[@]}"
	bad "JSON with trailing garbage" 6 "$V11 x" "${ADD_ENV[@]}"
	bad "not JSON at all" 6 'cniVersion=1.1.0' "${ADD_ENV[@]}"
	bad "stdin of 2 MiB" 5 "@$LAB_TMP/huge.json" "${ADD_ENV[@]}"
	bad "missing cniVersion" 1 "{\"name\":\"n\",\"type\":\"shoal\",$HEAD}" "${ADD_ENV[@]}"
	bad "cniVersion 0.2.0" 1 "$(conf 0.2.0)" "${ADD_ENV[@]}"
	bad "cniVersion 2.0.0" 1 "$(conf 2.0.0)" "${ADD_ENV[@]}"
	bad "cniVersion a number" 1 "{\"cniVersion\":1.0,\"name\":\"n\",\"type\":\"shoal\",$HEAD}" "${ADD_ENV[@]}"
	bad "missing name" 7 "{\"cniVersion\":\"1.1.0\",\"type\":\"shoal\",$HEAD}" "${ADD_ENV[@]}"
	bad "name a number" 7 "{\"cniVersion\":\"1.1.0\",\"name\":7,\"type\":\"shoal\",$HEAD}" "${ADD_ENV[@]}"
	bad "name with a slash" 7 "{\"cniVersion\":\"1.1.0\",\"name\":\"a/b\",\"type\":\"shoal\",$HEAD}" "${ADD_ENV[@]}"
	bad "missing type" 7 "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",$HEAD}" "${ADD_ENV[@]}"
	bad "type an object" 7 "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":{},$HEAD}" "${ADD_ENV[@]}"
	bad "socket a number" 7 '{"cniVersion":"1.1.0","name":"n","type":"shoal","socket":5}' "${ADD_ENV[@]}"
	bad "socket relative" 7 '{"cniVersion":"1.1.0","name":"n","type":"shoal","socket":"shoald.sock"}' "${ADD_ENV[@]}"
	bad "stateDir an array" 7 "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"shoal\",\"stateDir\":[]}" "${DEL_ENV[@]}"
	bad "timeoutMs a string" 7 "$(conf 1.1.0 '"timeoutMs":"1000"')" "${ADD_ENV[@]}"
	bad "timeoutMs 0" 7 "$(conf 1.1.0 '"timeoutMs":0')" "${ADD_ENV[@]}"
	bad "mtu 70000" 7 "$(conf 1.1.0 '"mtu":70000')" "${ADD_ENV[@]}"
	bad "prevResult an array" 7 "$(conf 1.0.0 '"prevResult":[]')" "${ADD_ENV[@]}"
	bad "prevResult with a bad address" 7 "$(conf 0.4.0 '"prevResult":{"ips":[{"version":"4","address":"10.1.1.1"}]}')" "${ADD_ENV[@]}"
	bad "prevResult with a bad interface index" 7 "$(conf 1.0.0 '"prevResult":{"interfaces":[],"ips":[{"address":"10.1.1.1/24","interface":3}]}')" "${ADD_ENV[@]}"
	bad "CHECK with cniVersion 0.3.1" 1 "$(conf 0.3.1 '"prevResult":{}')" "${CHECK_ENV[@]}"
	bad "CHECK without prevResult" 7 "$V04" "${CHECK_ENV[@]}"
	bad "STATUS with cniVersion 1.0.0" 1 "$(conf 1.0.0)" CNI_COMMAND=STATUS
	bad "GC with cniVersion 0.4.0" 1 "$(conf 0.4.0 '"cni.dev/valid-attachments":[]')" CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH"
	bad "GC without valid-attachments" 7 "$V11" CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH"
	bad "GC valid-attachments an object" 7 "$(conf 1.1.0 '"cni.dev/valid-attachments":{}')" CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH"
	bad "GC attachment without ifname" 7 "$(conf 1.1.0 '"cni.dev/valid-attachments":[{"containerID":"a"}]')" CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH"
	bad "DEL with bad JSON" 6 '{' "${DEL_ENV[@]}"
	bad "DEL with cniVersion 0.1.0" 1 "$(conf 0.1.0)" "${DEL_ENV[@]}"
}

# ---- phase 1: malformed invocations, a tripwire on the socket ----
fake_start tripwire || exit 1
bad_cases
expect_eq "no malformed invocation reached the socket" 0 "$(grep -c . "$LAB_TMP/fake.log")"

# The error object carries the config's version when it is known.
out=$(conf 0.3.1 | plug "${ADD_ENV[@]}" CNI_IFNAME=a/b)
expect_eq "error in the config's cniVersion" "0.3.1 4" "$(echo "$out" | jq -r '"\(.cniVersion) \(.code)"')"
expect_eq "error message names the variable, the value and why" 'CNI_IFNAME "a/b" is not a valid interface name: it contains '"'/'" \
	"$(echo "$out" | jq -r .msg)"
out=$(conf 1.0.0 | plug "${ADD_ENV[@]}" CNI_ARGS=K8S_POD_NAME)
expect_eq "CNI_ARGS message names the pair" "CNI_ARGS: pair \"K8S_POD_NAME\" has no '='" "$(echo "$out" | jq -r .msg)"
fake_stop

# VERSION answers whatever is asked, with the versions we speak.
out=$(echo '{"cniVersion":"1.0.0"}' | plug CNI_COMMAND=VERSION)
expect_eq "VERSION" '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' \
	"$(echo "$out" | jq -c .)"
out=$(plug CNI_COMMAND=VERSION </dev/null)
expect_eq "VERSION with empty stdin" "1.1.0" "$(echo "$out" | jq -r .cniVersion)"

# ---- phase 2: valid invocations, no shoald ----
out=$(conf 1.1.0 | plug "${ADD_ENV[@]}")
expect_eq "ADD without shoald: code 11" 11 "$(echo "$out" | jq .code)"
expect_eq "ADD without shoald: message" "shoald is not reachable at $SOCK: No such file or directory" \
	"$(echo "$out" | jq -r .msg)"
out=$(conf 1.0.0 '"prevResult":{"cniVersion":"1.0.0"}' | plug "${CHECK_ENV[@]}")
expect_eq "CHECK without shoald: code 11" 11 "$(echo "$out" | jq .code)"
out=$(conf 1.1.0 '"cni.dev/valid-attachments":[]' | plug CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH")
expect_eq "GC without shoald: code 11" 11 "$(echo "$out" | jq .code)"
out=$(conf 1.1.0 | plug CNI_COMMAND=STATUS)
expect_eq "STATUS without shoald: code 50" 50 "$(echo "$out" | jq .code)"
out=$(conf 1.1.0 | plug "${DEL_ENV[@]}" 2>/dev/null); rc=$?
expect_eq "DEL without shoald succeeds silently" "0:" "$rc:$out"
rec=$(ls "$STATE/pending-del/" 2>/dev/null)
# Named by the attachment key (container id, ifname), not the host veth name, which may collide.
expect_eq "DEL without shoald leaves one pending-delete record" 1 "$(echo "$rec" | grep -cx "$LAB-c1@eth0\.json")"
expect_eq "pending-delete record content" "$LAB-c1 eth0 $NETNS1 number" \
	"$(jq -r '"\(.containerId) \(.ifname) \(.netns) \(.time | type)"' "$STATE/pending-del/$rec" 2>/dev/null)"
out=$(conf 1.1.0 | plug "${DEL_ENV[@]}" CNI_NETNS= 2>/dev/null); rc=$?
expect_eq "repeated DEL without netns and shoald succeeds" "0:1" "$rc:$(ls "$STATE/pending-del/" | wc -l)"
rm -rf "$STATE/pending-del"

# ---- phase 3: a fake shoald answers; the ADD path and chaining with Debian's plugins ----
fake_start fake || exit 1
for ver in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	res=$(conf "$ver" | plug "${ADD_ENV[@]}" "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web-0")
	rc=$?
	case $ver in 0.*) want_ipver=4 ;; *) want_ipver=null ;; esac
	case $ver in 1.1.0) want_mtu=1450 ;; *) want_mtu=null ;; esac
	expect_eq "ADD $ver: result" "0 $ver $want_ipver 1 eth0 $NETNS1 $want_mtu null" \
		"$rc $(echo "$res" | jq -r '"\(.cniVersion) \(.ips[0].version) \(.ips[0].interface) \(.interfaces[1].name) \(.interfaces[1].sandbox) \(.interfaces[0].mtu) \(.dns)"')"
	echo "$res" >"$LAB_TMP/result-$ver.json"
done
req=$(grep '"op":"add"' "$LAB_TMP/fake.log" | tail -1)
expect_eq "ADD request to shoald" "eth0 $NETNS1 shoal-lab web-0 0" \
	"$(echo "$req" | jq -r '"\(.ifname) \(.netns) \(.network) \(.args.K8S_POD_NAME) \(.mtu)"')"

# Debian's chained plugins (containernetworking-plugins 1.1.1 speaks up to 1.0.0) take our result as
# prevResult and pass it on.
for ver in 0.3.1 0.4.0 1.0.0; do
	res=$(cat "$LAB_TMP/result-$ver.json")
	for p in portmap tuning; do
		out=$(printf '{"cniVersion":"%s","name":"shoal-lab","type":"%s","capabilities":{"portMappings":true},"prevResult":%s}' \
			"$ver" "$p" "$res" | ip netns exec "$HOST" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${ADD_ENV[@]}" \
			"/usr/lib/cni/$p" 2>>"$LAB_TMP/stderr.log")
		expect_eq "$p $ver accepts our result as prevResult" "$(echo "$res" | jq -cS '.ips')" \
			"$(echo "$out" | jq -cS '.ips' 2>/dev/null)"
	done
	[ "$ver" = 0.3.1 ] && continue   # firewall speaks 0.4.0 and 1.0.0
	# firewall (iptables backend) adds its chains inside the lab host namespace.
	out=$(printf '{"cniVersion":"%s","name":"shoal-lab","type":"firewall","backend":"iptables","prevResult":%s}' \
		"$ver" "$res" | ip netns exec "$HOST" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${ADD_ENV[@]}" \
		/usr/lib/cni/firewall 2>>"$LAB_TMP/stderr.log")
	expect_eq "firewall $ver accepts our result as prevResult" "$(echo "$res" | jq -cS '.ips')" \
		"$(echo "$out" | jq -cS '.ips' 2>/dev/null)"
done

# shoal chained after another plugin: previous interfaces first, our indexes shifted.
prev='{"cniVersion":"0.4.0","interfaces":[{"name":"net9","sandbox":"'$NETNS1'"}],"ips":[{"version":"4","address":"192.168.7.2/24","interface":0}],"dns":{"nameservers":["192.168.7.1"]}}'
out=$(conf 0.4.0 "\"prevResult\":$prev" | plug "${ADD_ENV[@]}" CNI_IFNAME=eth1)
expect_eq "ADD with prevResult merges" "net9 eth1 0 2 192.168.7.1" \
	"$(echo "$out" | jq -r '"\(.interfaces[0].name) \(.interfaces[2].name) \(.ips[0].interface) \(.ips[1].interface) \(.dns.nameservers[0])"')"

# CHECK sends the prevResult in shoald's 1.x shape; DEL, STATUS and GC succeed silently.
out=$(conf 0.4.0 "\"prevResult\":$(cat "$LAB_TMP/result-0.4.0.json")" | plug "${CHECK_ENV[@]}"); rc=$?
expect_eq "CHECK succeeds silently" "0:" "$rc:$out"
expect_eq "CHECK request carries a 1.x prevResult" "check null 1" \
	"$(grep '"op":"check"' "$LAB_TMP/fake.log" | tail -1 | jq -r '"\(.op) \(.prevResult.ips[0].version) \(.prevResult.ips[0].interface)"')"
out=$(conf 1.1.0 | plug CNI_COMMAND=STATUS); rc=$?
expect_eq "STATUS succeeds silently" "0:" "$rc:$out"
out=$(conf 1.1.0 '"cni.dev/valid-attachments":[{"containerID":"x","ifname":"eth0"}]' | plug CNI_COMMAND=GC "CNI_PATH=$PLUGIN_PATH"); rc=$?
expect_eq "GC succeeds silently" "0:" "$rc:$out"
expect_eq "GC request" '[{"containerId":"x","ifname":"eth0"}]' \
	"$(grep '"op":"gc"' "$LAB_TMP/fake.log" | tail -1 | jq -c .valid)"
out=$(conf 1.1.0 | plug "${DEL_ENV[@]}"); rc=$?
expect_eq "DEL succeeds silently" "0:" "$rc:$out"
# shoald's error is handed to the runtime unchanged.
out=$(conf 1.0.0 | plug "${ADD_ENV[@]}" "CNI_CONTAINERID=$LAB-full")
expect_eq "shoald's error passed through" '{"cniVersion":"1.0.0","code":102,"msg":"no free address","details":"subnet 10.244.3.0/30 is full"}' \
	"$(echo "$out" | jq -c .)"
fake_stop

# ---- phase 4: the real shoald ----
if [ ! -x "$BUILD/shoald" ]; then
	echo "# SKIP phase 4 (real shoald: bad input against a running daemon, full /30 subnet -> 102): build/shoald missing"
else
	shoald_conf h1 '"subnetLen": 30' >/dev/null
	if shoald_start h1; then
		bad_cases
		C2=$(lab_netns c2)
		out=$(conf 1.1.0 | plug "${ADD_ENV[@]}"); rc=$?
		expect_eq "real shoald: first ADD in a /30 succeeds" "0 eth0" "$rc $(echo "$out" | jq -r '.interfaces[] | select(.sandbox) | .name')"
		before=$(snapshot; ip -n "$C2" -o link show | awk -F': ' '{print $2}')
		out=$(conf 1.1.0 | plug "${ADD_ENV[@]}" "CNI_CONTAINERID=$LAB-c2" "CNI_NETNS=$(netns_path c2)"); rc=$?
		expect_eq "real shoald: second ADD in a full /30 fails with 102" "1 102" "$rc $(echo "$out" | jq .code)"
		after=$(snapshot; ip -n "$C2" -o link show | awk -F': ' '{print $2}')
		expect_eq "real shoald: the failed ADD left nothing behind" "$before" "$after"
		out=$(conf 1.1.0 | plug "${DEL_ENV[@]}" "CNI_CONTAINERID=$LAB-c2" "CNI_NETNS=$(netns_path c2)"); rc=$?
		expect_eq "real shoald: DEL of the failed ADD succeeds" "0:" "$rc:$out"
		out=$(conf 1.1.0 | plug "${DEL_ENV[@]}"); rc=$?
		expect_eq "real shoald: DEL succeeds" "0:" "$rc:$out"
		out=$(conf 1.1.0 | plug "${DEL_ENV[@]}"); rc=$?
		expect_eq "real shoald: repeated DEL succeeds" "0:" "$rc:$out"
		expect_eq "real shoald: no interface left in the container" "lo" \
			"$(ip -n "$C1" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | tr '\n' ' ' | sed 's/ $//')"
	else
		not_ok "real shoald did not start"
	fi
fi

lab_done
