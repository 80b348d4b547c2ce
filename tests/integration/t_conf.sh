#!/usr/bin/env bash
# The example configuration a user copies: every conflist in conf/ is valid JSON at the CNI version
# Debian 12's runtimes parse (1.0.0), every shoal key in it is one the plugin accepts, docs/cni.md
# shows exactly the files in conf/, and conf/shoald.json passes shoald --check-config.
. "$(dirname "$0")/lib.sh"
for f in "$ROOT"/conf/*.conflist; do
	n=$(basename "$f")
	check "$n is valid JSON" jq -e . "$f"
	expect_eq "$n says cniVersion 1.0.0 (what Debian 12's runtimes parse)" 1.0.0 "$(jq -r .cniVersion "$f")"
	expect_eq "$n starts with shoal" shoal "$(jq -r '.plugins[0].type' "$f")"
	# The plugin itself must accept its entry: run VERSION-independent validation through ADD with no
	# shoald (code 11 = config accepted, shoald unreachable; 7 would be a config error).
	conf=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name, socket: "'"$LAB_TMP"'/none.sock", stateDir: "'"$LAB_TMP"'/st"}' "$f")
	lab_netns "c-${n%%.*}" >/dev/null
	code=$(echo "$conf" | cni ADD c1 "$(netns_path "c-${n%%.*}")" eth0 | jq -r .code)
	expect_eq "the plugin accepts $n's shoal entry (shoald unreachable: 11)" 11 "$code"
done
# docs/cni.md's examples are the files themselves.
for f in 10-shoal.conflist 10-shoal-chained.conflist; do
	block=$(awk -v f="conf/$f" 'index($0, "as in `" f "`") { want=1 } want && /^```json/ { on=1; next } on && /^```/ { exit } on { print }' "$ROOT/docs/cni.md")
	expect_eq "docs/cni.md shows conf/$f as it is" "$(jq -cS . "$ROOT/conf/$f")" "$(jq -cS . <<<"$block" 2>/dev/null)"
done
check "conf/shoald.json passes shoald --check-config" "$BUILD/shoald" --check-config --config "$ROOT/conf/shoald.json" \
	--state-dir "$LAB_TMP/state" --socket "$LAB_TMP/s.sock" --store "file:$LAB_TMP/store"
expect_eq "conf/shoald.json names no node (each host its own)" null "$(jq -r .node "$ROOT/conf/shoald.json")"
lab_done
