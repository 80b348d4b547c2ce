#!/usr/bin/env bash
# /metrics and /healthz over HTTP (docs/bandwidth.md "/metrics", docs/config.md "metrics"): off by
# default; a bad or unbindable metrics.listen is refused naming the key; with bandwidth on, the
# scrape, parsed by a real Prometheus text parser (Debian's python3-prometheus-client), agrees with
# the API's `workloads` answer (counters, guarantees, limits) and with the rate it derives; a DEL
# removes the workload's series; other paths are 404, other methods 405.  All HTTP traffic stays
# inside the lab's host namespaces (shoald listens on their loopback; curl runs there).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
API="$PY $ROOT/tests/integration/apiclient.py"
PORT=9253
URL=http://127.0.0.1:$PORT
# pycheck ARGS...: run check.py (below); its "ok -" / "not ok -" lines count as this script's.
pycheck() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done < <("$PY" "$LAB_TMP/check.py" "$@" 2>&1)
}

# ---- off by default, bad values, a bind failure (host h0)
H0=$(lab_host h0)
shoald_conf h0 '"metrics": {"listen": "localhost:9253"}' >/dev/null
out=$("$BUILD/shoald" --check-config --config "$LAB_TMP/h0.json" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q 'key "metrics.listen": "localhost:9253"' <<<"$out"; then
	ok "a host name in metrics.listen is refused, naming the key"
else
	not_ok "a host name in metrics.listen is refused, naming the key (rc $rc)"; echo "$out" | sed 's/^/#   /'
fi
shoald_conf h0 '"metrics": {"listen": "127.0.0.1:65536"}' >/dev/null
out=$("$BUILD/shoald" --check-config --config "$LAB_TMP/h0.json" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q 'key "metrics.listen"' <<<"$out" && ok "port 65536 is refused, naming the key" ||
	{ not_ok "port 65536 is refused, naming the key (rc $rc)"; echo "$out" | sed 's/^/#   /'; }
shoald_conf h0 '"metrics": {"listen": "127.0.0.1:9253", "port": 1}' >/dev/null
out=$("$BUILD/shoald" --check-config --config "$LAB_TMP/h0.json" 2>&1)
grep -q 'unknown key "metrics.port"' <<<"$out" && ok "an unknown key inside metrics is refused" ||
	{ not_ok "an unknown key inside metrics is refused"; echo "$out" | sed 's/^/#   /'; }

shoald_conf h0 >/dev/null
out=$("$BUILD/shoald" --check-config --config "$LAB_TMP/h0.json" 2>&1)
grep -q '^metrics: null (default: no HTTP server' <<<"$out" && ok "check-config: metrics is off by default" ||
	{ not_ok "check-config: metrics is off by default"; echo "$out" | sed 's/^/#   /'; }
shoald_start h0 || { not_ok "shoald starts without metrics"; lab_done; exit 1; }
P0=$(shoald_pid h0)
expect_eq "without metrics nothing listens on TCP in shoald's namespace" 0 "$(ip netns exec "$H0" ss -Htln 2>/dev/null | wc -l)"
check_fails "and shoald has not loaded libmicrohttpd" grep -q libmicrohttpd "/proc/$P0/maps"
check_fails "nothing answers on $URL" ip netns exec "$H0" curl -s -m 2 -o /dev/null "$URL/healthz"
shoald_stop h0
# An address this namespace does not have: start-up fails and says where it could not listen.
shoald_conf h0 '"metrics": {"listen": "198.18.99.1:9253"}' >/dev/null
ip netns exec "$H0" "$BUILD/shoald" --config "$LAB_TMP/h0.json" >"$LAB_TMP/h0-bind.log" 2>&1 &
bpid=$!
LAB_PIDS+=("$bpid")
lab_wait 10 bash -c "! kill -0 $bpid"
wait "$bpid"; rc=$?
if [ $rc -eq 1 ] && grep -q 'key "metrics.listen": cannot listen on 198.18.99.1:9253: Cannot assign requested address' "$LAB_TMP/h0-bind.log"; then
	ok "an address shoald cannot bind stops start-up with an error naming it"
else
	not_ok "an address shoald cannot bind stops start-up with an error naming it (rc $rc)"
	sed 's/^/#   /' "$LAB_TMP/h0-bind.log" | tail -5
fi
# ":PORT": every address, IPv4 and IPv6 (when the lab has IPv6 on lo).
shoald_conf h0 '"metrics": {"listen": ":9254"}' >/dev/null
shoald_start h0 || not_ok "shoald starts with metrics on :9254"
lab_wait 5 ip netns exec "$H0" curl -sf -m 2 -o /dev/null http://127.0.0.1:9254/healthz
check "\":9254\" answers on 127.0.0.1" ip netns exec "$H0" curl -sf -m 2 -o /dev/null http://127.0.0.1:9254/healthz
if ip -n "$H0" -6 addr show dev lo | grep -q '::1/128'; then
	check "\":9254\" answers on [::1]" ip netns exec "$H0" curl -sf -m 2 -o /dev/null 'http://[::1]:9254/healthz'
fi
shoald_stop h0

# ---- h1: bandwidth on, metrics on 127.0.0.1, two workloads with guarantees
H=$(lab_host h1)
O=$(lab_netns out)
ip -n "$H" link add o0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.18.5.1/24 dev o0 && ip -n "$H" link set o0 up
ip -n "$O" addr add 198.18.5.2/24 dev eth0 && ip -n "$O" link set eth0 up
shoald_conf h1 '"bandwidth": {"ingress": "200mbit", "egress": "200mbit"}, "metrics": {"listen": "127.0.0.1:9253"}' >/dev/null
shoald_start h1 || { not_ok "shoald starts with bandwidth and metrics"; lab_done; exit 1; }
PID=$(shoald_pid h1)
ok "shoald starts with bandwidth and metrics on 127.0.0.1:$PORT"
check "shoald has loaded libmicrohttpd now" grep -q libmicrohttpd "/proc/$PID/maps"
lab_wait 5 ip netns exec "$H" curl -sf -m 2 -o /dev/null "$URL/healthz"

hcurl() { ip netns exec "$H" curl -s -m 5 "$@"; }
api() { $API -s "$LAB_TMP/h1.sock" call "$1"; }

# The listening socket is shoald's and close-on-exec (O_CLOEXEC is 02000000 in fdinfo's octal flags).
ino=$(ip netns exec "$H" ss -Htlnpe "sport = :$PORT" 2>/dev/null | grep -o 'ino:[0-9]*' | head -1 | cut -d: -f2)
fd=""
for f in /proc/"$PID"/fd/*; do
	[ "$(readlink "$f")" = "socket:[$ino]" ] && fd=${f##*/}
done
if [ -n "$ino" ] && [ -n "$fd" ]; then
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$PID/fdinfo/$fd")
	if (( (8#$flags & 8#2000000) != 0 )); then ok "shoald listens on $PORT with a close-on-exec socket"; else
		not_ok "shoald listens on $PORT with a close-on-exec socket (flags $flags)"; fi
else
	not_ok "shoald listens on $PORT (socket inode '$ino', fd '$fd')"
fi
# So is every socket and epoll descriptor, a client's connection (held open here) included.
ip netns exec "$H" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3; sleep 2" &
idle=$!
sleep 0.5
leaks=""
for f in /proc/"$PID"/fd/*; do
	case $(readlink "$f") in socket:*|anon_inode:*poll*) ;; *) continue ;; esac
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$PID/fdinfo/${f##*/}")
	(( (8#$flags & 8#2000000) != 0 )) || leaks="$leaks ${f##*/}"
done
expect_eq "every socket and epoll descriptor of shoald is close-on-exec" "" "$leaks"
expect_eq "with a client connected, shoald has one more TCP socket" 1 \
	"$(ip netns exec "$H" ss -Htnp state established "sport = :$PORT" 2>/dev/null | grep -c "pid=$PID,")"
wait "$idle"

# add NAME POD RUNTIMECONFIG
add() {
	lab_netns "$1" >/dev/null
	cni_conf h1 1.1.0 "\"capabilities\": {\"bandwidth\": true}, \"runtimeConfig\": $3" |
		CNI_ARGS="K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=$2" cni ADD "$LAB-$1" "$(netns_path "$1")" eth0 >"$LAB_TMP/$1.result"
}
del() { cni_conf h1 | cni DEL "$LAB-$1" "$(netns_path "$1")" eth0; }
check "ADD a: guarantees 20mbit out / 10mbit in, limit 100mbit out" add a web-0 \
	'{"bandwidth": {"egressGuarantee": 20000000, "ingressGuarantee": 10000000, "egressRate": 100000000}}'
check "ADD b: guarantee 30mbit out, priority 2" add b web-1 '{"bandwidth": {"egressGuarantee": 30000000, "priority": 2}}'

# A little traffic through both classes of each: pings to the outside and their replies.
for c in a b; do
	ip netns exec "$LAB-$c" ping -q -c 20 -i 0.01 -s 1000 198.18.5.2 >/dev/null 2>&1 ||
		not_ok "ping from $c to the outside"
done

# ---- one scrape between two API reads, checked by prometheus_client
api '{"op": "workloads"}' >"$LAB_TMP/before.json"
hcurl -D "$LAB_TMP/m1.head" -o "$LAB_TMP/m1.txt" "$URL/metrics"
api '{"op": "workloads"}' >"$LAB_TMP/after.json"
grep -qi '^content-type: text/plain; version=0.0.4' "$LAB_TMP/m1.head" && ok "/metrics: Content-Type text/plain; version=0.0.4" ||
	{ not_ok "/metrics: Content-Type text/plain; version=0.0.4"; sed 's/^/#   /' "$LAB_TMP/m1.head"; }

cat >"$LAB_TMP/check.py" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

def load(path):
    with open(path) as f:
        return text_string_to_metric_families(f.read())

def samples(path):
    """{(sample name, frozenset(labels)): value} and {family name: type}"""
    out, types = {}, {}
    for fam in load(path):
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types

def ok(cond, name):
    print(("ok - " if cond else "not ok - ") + name)

mode = sys.argv[1]
if mode == "agree":
    m, types = samples(sys.argv[2])
    before = {(w["containerId"], w["ifname"]): w for w in json.load(open(sys.argv[3]))["workloads"]}
    after = {(w["containerId"], w["ifname"]): w for w in json.load(open(sys.argv[4]))["workloads"]}
    ok(types.get("shoal_workload_bytes") == "counter", "prometheus_client parses /metrics; bytes is a counter")
    ok(m.get(("shoal_attachments", frozenset({"state": "active"}.items()))) == 2, "shoal_attachments{state=active} is 2")
    ok(m.get(("shoal_healthy", frozenset())) == 1, "shoal_healthy is 1")
    ok(m.get(("shoal_bandwidth_counters_read", frozenset())) == 1, "shoal_bandwidth_counters_read is 1")
    for d in ("ingress", "egress"):
        ok(m.get(("shoal_bandwidth_capacity_bytes_per_second", frozenset({"direction": d}.items()))) == 200e6 / 8,
           "capacity %s is 200mbit (25e6 bytes/s)" % d)
    for (cid, ifn), w in sorted(after.items()):
        b = before[(cid, ifn)]
        base = {"container_id": cid, "ifname": ifn, "pod_namespace": w["namespace"], "pod_name": w["pod"]}
        ok(m.get(("shoal_workload_info", frozenset(base.items()))) == 1, "%s: shoal_workload_info with pod labels" % w["pod"])
        ok(m.get(("shoal_workload_priority", frozenset(base.items()))) == w["bandwidth"]["priority"],
           "%s: priority %d" % (w["pod"], w["bandwidth"]["priority"]))
        for d in ("ingress", "egress"):
            lab = frozenset(dict(base, direction=d).items())
            share = w["bandwidth"][d]
            g = m.get(("shoal_workload_guarantee_bytes_per_second", lab))
            l = m.get(("shoal_workload_limit_bytes_per_second", lab))
            ok(g == share["guaranteeBitRate"] / 8, "%s %s: guarantee %s bytes/s = API %s bit/s / 8" % (w["pod"], d, g, share["guaranteeBitRate"]))
            ok(l == share["limitBitRate"] / 8, "%s %s: limit %s bytes/s = API %s bit/s / 8" % (w["pod"], d, l, share["limitBitRate"]))
            for key, name in (("bytes", "bytes"), ("packets", "packets"), ("drops", "drops"),
                              ("overlimits", "overlimits"), ("borrows", "borrowed_packets")):
                v = m.get(("shoal_workload_%s_total" % name, lab))
                lo, hi = b["counters"][d][key], after[(cid, ifn)]["counters"][d][key]
                ok(v is not None and lo <= v <= hi, "%s %s: %s %s within the API's %d..%d" % (w["pod"], d, name, v, lo, hi))
            if d == "egress":
                ok(b["counters"][d]["bytes"] > 0, "%s egress: the pings were counted" % w["pod"])
elif mode == "rate":
    # rate = bytes moved between the two scrapes / the time between them (the client's clock here,
    # the server's in shoald: a few ms apart)
    m1, _ = samples(sys.argv[2])
    m2, _ = samples(sys.argv[3])
    dt = float(sys.argv[4])
    n = 0
    for (name, lab), v in m2.items():
        if name != "shoal_workload_rate_bytes_per_second":
            continue
        n += 1
        d = dict(lab)
        moved = m2[("shoal_workload_bytes_total", lab)] - m1[("shoal_workload_bytes_total", lab)]
        want = moved / dt
        ok(abs(v - want) <= 0.15 * want + 200, "%s %s: rate %.0f bytes/s, bytes moved / time %.0f" % (d["pod_name"], d["direction"], v, want))
    ok(n == 4, "a rate for both directions of both workloads from the second scrape on (%d)" % n)
elif mode == "gone":
    m, _ = samples(sys.argv[2])
    cid = sys.argv[3]
    left = [k for k in m if dict(k[1]).get("container_id") == cid]
    ok(not left, "after DEL no series names %s (%d left)" % (cid, len(left)))
    ok(any(dict(k[1]).get("container_id") == sys.argv[4] for k in m), "the other workload's series are still there")
    ok(m.get(("shoal_attachments", frozenset({"state": "active"}.items()))) == 1, "shoal_attachments{state=active} is 1")
PY
pycheck agree "$LAB_TMP/m1.txt" "$LAB_TMP/before.json" "$LAB_TMP/after.json"
check_fails "no rate at the first scrape" grep -q '^shoal_workload_rate_bytes_per_second' "$LAB_TMP/m1.txt"

# ---- rate: traffic between two scrapes at least 1 s apart (and 1 s after the first, so that the
# second scrape is the base the third is measured against)
sleep 1.1
t1=$(date +%s.%N)
hcurl -o "$LAB_TMP/m2.txt" "$URL/metrics"
for c in a b; do ip netns exec "$LAB-$c" ping -q -c 60 -i 0.02 -s 1200 198.18.5.2 >/dev/null 2>&1 & done
sleep 1.5
t2=$(date +%s.%N)
hcurl -o "$LAB_TMP/m3.txt" "$URL/metrics"
pycheck rate "$LAB_TMP/m2.txt" "$LAB_TMP/m3.txt" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"

# ---- the HTTP surface
body=$(hcurl -w ' %{http_code}' "$URL/healthz")
[[ "$body" == "ok: serving, subnet 10.244."*" 200" ]] && ok "/healthz: 200 ok" || not_ok "/healthz: 200 ok (got '$body')"
expect_eq "another path is 404" 404 "$(hcurl -o /dev/null -w '%{http_code}' "$URL/metricz")"
expect_eq "/ is 404" 404 "$(hcurl -o /dev/null -w '%{http_code}' "$URL/")"
expect_eq "POST /metrics is 405" 405 "$(hcurl -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL/metrics")"
check "the 405 says Allow: GET, HEAD" bash -c "ip netns exec $H curl -s -m 5 -D - -o /dev/null -X DELETE $URL/healthz | grep -qi '^allow: GET, HEAD'"
head=$(hcurl -I "$URL/metrics")
len=$(grep -i '^content-length:' <<<"$head" | tr -dc 0-9)
[[ "$head" == "HTTP/1.1 200"* ]] && [ "${len:-0}" -gt 1000 ] && ok "HEAD /metrics: 200, Content-Length $len, no body" ||
	not_ok "HEAD /metrics: 200 with a Content-Length"
expect_eq "a query string is ignored" 200 "$(hcurl -o /dev/null -w '%{http_code}' "$URL/metrics?x=1")"
# More connections than the server takes (32), held while shoald is stopped, closed together: at
# its limit libmicrohttpd leaves the listening socket out of its epoll set until a later run, so
# shoald must run it again by itself, or it never answers again.
ip netns exec "$H" /usr/bin/python3 - "$PORT" "$(shoald_pid h1)" <<'PY' >>"$LAB_TMP/check.log" 2>&1
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
conns = []
for _ in range(40):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(('127.0.0.1', port))
    except OSError:
        pass
    conns.append(s)
time.sleep(0.3)
os.kill(pid, signal.SIGSTOP)
for s in conns:
    s.close()
time.sleep(0.2)
os.kill(pid, signal.SIGCONT)
PY
ok_after=""
for _ in $(seq 10); do
	[ "$(hcurl -o /dev/null -w '%{http_code}' -m 2 "$URL/healthz")" = 200 ] && { ok_after=1; break; }
	sleep 0.3
done
[ -n "$ok_after" ] && ok "40 connections closed at once: /healthz answers again" ||
	not_ok "40 connections closed at once: /healthz answers again"

# ---- DEL: the workload's series are gone
check "DEL a" del a
wait_settled h1 || not_ok "h1 settles after DEL"
hcurl -o "$LAB_TMP/m4.txt" "$URL/metrics"
pycheck gone "$LAB_TMP/m4.txt" "$LAB-a" "$LAB-b"

# ---- a clean stop closes the port
shoald_stop h1 && ok "shoald stops on SIGTERM" || not_ok "shoald stops on SIGTERM"
check_fails "nothing answers on $URL after the stop" hcurl -sf -m 2 -o /dev/null "$URL/healthz"
grep -q "serving /metrics and /healthz on http://127.0.0.1:$PORT" "$LAB_TMP/shoald-h1.log" &&
	ok "the log says where /metrics is served" || not_ok "the log says where /metrics is served"
lab_done
