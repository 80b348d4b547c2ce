#!/usr/bin/env bash
# `shoald --check-config` catches what start-up would refuse (a missing socketGroup, unreadable TLS
# files, a state or socket directory that cannot be created) and says which values are built-in
# defaults; start-up runs the same checks before any lease or kernel object.  Also: --version of
# shoald and the plugin, the example config, and log lines for the journal versus a terminal.
. "$(dirname "$0")/lib.sh"

version=$(sed -n 's/^#define SHOAL_VERSION "\(.*\)"/\1/p' "$ROOT/lib/version.h")
expect_eq "shoald --version" "shoald $version" "$("$BUILD/shoald" --version)"
expect_eq "shoal --version (the plugin)" "shoal $version" "$("$BUILD/shoal" --version </dev/null)"
check "shoal --version exits 0" "$BUILD/shoal" --version </dev/null

# check_config NAME: run --check-config on $LAB_TMP/NAME.json; output in $out, exit code in $rc.
check_config() { out=$("$BUILD/shoald" --config "$LAB_TMP/$1.json" --check-config 2>&1); rc=$?; }

# ---- a good file that leaves some keys out
shoald_conf good >/dev/null
jq 'del(.node, .logLevel)' "$LAB_TMP/good.json" >"$LAB_TMP/good2.json"
check_config good2
expect_eq "a good file passes" 0 "$rc"
host=$(hostname)
check "the node name left out is the host name, marked as a default" \
	grep -qxF "node: \"$host\" (default: the host name)" <<<"$out"
check "logLevel left out is listed as a default" grep -qxF 'logLevel: "info" (default)' <<<"$out"
check_fails "keys set in the file are not listed as defaults" grep -qE '^(network|subnetLen|stateDir|socket|store):' <<<"$out"
check "it ends with what was checked" grep -qF "configuration OK ($LAB_TMP/good2.json)" <<<"$out"
out=$("$BUILD/shoald" --config "$LAB_TMP/good2.json" --node n9 --check-config 2>&1)
check_fails "a command-line override is not a default" grep -q '^node:' <<<"$out"
check_fails "--check-config creates nothing" test -e "$LAB_TMP/state-good" -o -e "$LAB_TMP/store"

# ---- the shipped example: complete, valid, and every host gets its own node name
check_fails "conf/shoald.json does not hard-code a node name" jq -e 'has("node")' "$ROOT/conf/shoald.json"
jq --arg t "$LAB_TMP" '.stateDir = ($t + "/ex-state") | .socket = ($t + "/ex.sock") | .store = ("file:" + $t + "/ex-store")' \
	"$ROOT/conf/shoald.json" >"$LAB_TMP/example.json"
check_config example
expect_eq "conf/shoald.json passes --check-config" 0 "$rc"
check "with conf/shoald.json the node is the host name" grep -qxF "node: \"$host\" (default: the host name)" <<<"$out"

# ---- what start-up would refuse
# expect_refused NAME KEY TEXT: --check-config exits 1 naming KEY and TEXT.
expect_refused() {
	check_config "$1"
	if [ "$rc" = 1 ] && grep -qF "key \"$2\"" <<<"$out" && grep -qF "$3" <<<"$out"; then ok "refused: $1"; else
		not_ok "refused: $1 (rc $rc)"; echo "$out" | tail -3 | sed 's/^/#   /'; fi
}
shoald_conf nogroup '"socketGroup": "shoal-no-such-group"' >/dev/null
expect_refused nogroup socketGroup 'group "shoal-no-such-group" does not exist'
shoald_conf rootgroup '"socketGroup": "root"' >/dev/null
check_config rootgroup
expect_eq "an existing socketGroup passes" 0 "$rc"

shoald_conf noca "\"store\": \"etcds://198.18.0.1:2379\", \"storeCA\": \"$LAB_TMP/missing-ca.pem\"" >/dev/null
expect_refused noca storeCA "$LAB_TMP/missing-ca.pem: No such file or directory"
mkdir "$LAB_TMP/ca-dir"
shoald_conf dirca "\"store\": \"etcds://198.18.0.1:2379\", \"storeCA\": \"$LAB_TMP/ca-dir\"" >/dev/null
expect_refused dirca storeCA "is not a regular file"
echo cert >"$LAB_TMP/cert.pem"
shoald_conf nokey "\"store\": \"etcds://198.18.0.1:2379\", \"storeCert\": \"$LAB_TMP/cert.pem\", \"storeKey\": \"$LAB_TMP/key.pem\"" >/dev/null
expect_refused nokey storeKey "key.pem: No such file or directory"
echo key >"$LAB_TMP/key.pem"
check_config nokey
expect_eq "readable TLS files pass" 0 "$rc"

touch "$LAB_TMP/a-file"
shoald_conf badstate "\"stateDir\": \"$LAB_TMP/a-file/state\"" >/dev/null
expect_refused badstate stateDir "$LAB_TMP/a-file is not a directory"
shoald_conf badsock "\"socket\": \"$LAB_TMP/a-file/run/x.sock\"" >/dev/null
expect_refused badsock socket "$LAB_TMP/a-file is not a directory"
shoald_conf badstore "\"store\": \"file:$LAB_TMP/a-file/store\"" >/dev/null
expect_refused badstore store "$LAB_TMP/a-file is not a directory"

# A read-only file system (what ProtectSystem=strict gives a path not in ReadWritePaths=): root's
# permission override does not help.  A private mount namespace keeps the mount to this test.
mkdir -p "$LAB_TMP/ro"
shoald_conf rostate "\"stateDir\": \"$LAB_TMP/ro/state\"" >/dev/null
out=$(unshare -m --propagation private sh -c 'mount -t tmpfs -o ro tmpfs "$1" && "$2" --config "$3" --check-config' \
	sh "$LAB_TMP/ro" "$BUILD/shoald" "$LAB_TMP/rostate.json" 2>&1); rc=$?
if [ "$rc" = 1 ] && grep -qF 'key "stateDir"' <<<"$out" && grep -qF 'Read-only file system' <<<"$out"; then
	ok "refused: a state directory on a read-only mount"
else
	not_ok "refused: a state directory on a read-only mount (rc $rc)"; echo "$out" | tail -3 | sed 's/^/#   /'
fi

# ---- start-up refuses the same, before any kernel object or lease
lab_host h1 >/dev/null
shoald_conf h1 '"socketGroup": "shoal-no-such-group"' >/dev/null
ip netns exec "$LAB-h1" "$BUILD/shoald" --config "$LAB_TMP/h1.json" >"$LAB_TMP/h1-start.log" 2>&1; rc=$?
expect_eq "shoald with a missing socketGroup exits 1" 1 "$rc"
check "the start-up error names socketGroup" grep -qF 'key "socketGroup"' "$LAB_TMP/h1-start.log"
check_fails "no bridge was created" ip -n "$LAB-h1" link show shoal0
check_fails "no state directory or store was created (no lease)" test -e "$LAB_TMP/state-h1" -o -e "$LAB_TMP/store"
check_fails "no nftables table was created" sh -c "ip netns exec $LAB-h1 nft list tables | grep -q shoal"

# ---- log lines: the journal gets syslog priorities and no time; a file gets an ISO-8601 time
shoald_conf bad '"stateDir": "relative"' >/dev/null
log=$LAB_TMP/journal.log
: >"$log"
js=$(stat -c '%d:%i' "$log")
JOURNAL_STREAM=$js "$BUILD/shoald" --config "$LAB_TMP/bad.json" 2>>"$log"
check "journal stream: an error starts with <3>" grep -qE '^<3>invalid configuration: .*"stateDir"' "$log"
check_fails "journal stream: no time stamp" grep -qE '^<3>[0-9]{4}-' "$log"
"$BUILD/shoald" --config "$LAB_TMP/bad.json" 2>"$LAB_TMP/plain.log"
check "elsewhere: ISO-8601 time, then the level" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} shoal error: invalid configuration' \
	"$LAB_TMP/plain.log"
# JOURNAL_STREAM inherited, but stderr goes elsewhere (the plugin under a runtime, a redirect).
JOURNAL_STREAM=$js "$BUILD/shoald" --config "$LAB_TMP/bad.json" 2>"$LAB_TMP/plain2.log"
check "an inherited JOURNAL_STREAM that is not stderr is ignored" grep -qE '^[0-9]{4}-.* shoal error: ' "$LAB_TMP/plain2.log"

lab_done
