#!/usr/bin/env bash
# Build and run every libFuzzer target for FUZZ_SECONDS (default 10) each, FUZZ_JOBS (default: the
# number of CPUs, at most 4) at a time; results are printed in the targets' order.
# A target tests/fuzz/fuzz_NAME.c names what it links in two comment lines:
#   // SOURCES: cni-plugin/cni.c lib/cidr.c
#   // PKGS: jansson
# and, for libraries without a pkg-config file, a third:
#   // LIBS: -lhttp_parser
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -gt 4 ] && jobs=4
out=${B:-build}/fuzz
mkdir -p "$out"

# fuzz_one SRC: build and run one target; its result lines go to $out/NAME.result.
fuzz_one() {
	local src=$1 name sources pkgs libs seeds
	name=$(basename "$src" .c)
	sources=$(sed -n 's|^// SOURCES: ||p' "$src")
	pkgs=$(sed -n 's|^// PKGS: ||p' "$src")
	libs=$(sed -n 's|^// LIBS: ||p' "$src")
	# shellcheck disable=SC2086
	if ! clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		$( [ -n "$pkgs" ] && pkg-config --cflags $pkgs ) "$src" $sources \
		$( [ -n "$pkgs" ] && pkg-config --libs $pkgs ) $libs -lpthread -o "$out/$name" 2>"$out/$name.build.log"; then
		{ echo "not ok - fuzz $name does not build"; sed 's/^/    /' "$out/$name.build.log" | head -20; } >"$out/$name.result"
		return
	fi
	mkdir -p "$out/$name.corpus"
	seeds=tests/fuzz/corpus/$name
	if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$name-" "$out/$name.corpus" \
		$( [ -d "$seeds" ] && echo "$seeds" ) >"$out/$name.log" 2>&1; then
		echo "ok - fuzz $name (${secs}s, $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$out/$name.log" | grep -oE '[0-9]+' || echo '?') runs)" >"$out/$name.result"
	else
		{ echo "not ok - fuzz $name"; tail -30 "$out/$name.log" | sed 's/^/    /'; } >"$out/$name.result"
	fi
}

# Targets are independent (own binary, corpus, log): run them side by side; wait only on our own
# children.
targets=()
running=()
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	targets+=("$src")
	rm -f "$out/$(basename "$src" .c).result"
	fuzz_one "$src" &
	running+=($!)
	if [ "${#running[@]}" -ge "$jobs" ]; then
		wait "${running[0]}"
		running=("${running[@]:1}")
	fi
done
for p in "${running[@]}"; do wait "$p"; done
for src in "${targets[@]}"; do
	name=$(basename "$src" .c)
	cat "$out/$name.result" 2>/dev/null || echo "not ok - fuzz $name left no result"
done
