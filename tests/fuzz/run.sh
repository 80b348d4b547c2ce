#!/usr/bin/env bash
# Build and run every libFuzzer target for FUZZ_SECONDS (default 10) each.
# A target tests/fuzz/fuzz_NAME.c names what it links in two comment lines:
#   // SOURCES: cni-plugin/cni.c lib/cidr.c
#   // PKGS: jansson
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
out=${B:-build}/fuzz
mkdir -p "$out"
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	sources=$(sed -n 's|^// SOURCES: ||p' "$src")
	pkgs=$(sed -n 's|^// PKGS: ||p' "$src")
	# shellcheck disable=SC2086
	if ! clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		$( [ -n "$pkgs" ] && pkg-config --cflags $pkgs ) "$src" $sources \
		$( [ -n "$pkgs" ] && pkg-config --libs $pkgs ) -lpthread -o "$out/$name" 2>"$out/$name.build.log"; then
		echo "not ok - fuzz $name does not build"; sed 's/^/    /' "$out/$name.build.log" | head -20
		continue
	fi
	mkdir -p "$out/$name.corpus"
	seeds=tests/fuzz/corpus/$name
	if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$name-" "$out/$name.corpus" \
		$( [ -d "$seeds" ] && echo "$seeds" ) >"$out/$name.log" 2>&1; then
		echo "ok - fuzz $name (${secs}s, $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$out/$name.log" | grep -oE '[0-9]+' || echo '?') runs)"
	else
		echo "not ok - fuzz $name"; tail -30 "$out/$name.log" | sed 's/^/    /'
	fi
done
