#!/usr/bin/env bash
# The test runner behind `make check`: unit (cmocka binaries), integration (netns lab scripts) and a
# short fuzz run.  Every test prints "ok - NAME" or "not ok - NAME"; the last line is the summary
# "N passed, N failed" over all tiers, so a run that tested nothing shows.
#
#   tests/run.sh [unit|integration|fuzz]...   (default: all three)
#   TEST_FILTER=regex  run only the integration scripts whose name matches
set -u
cd "$(dirname "$0")/.."
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit integration fuzz)
passed=0 failed=0
B=${B:-build}
export BUILD=${BUILD:-$PWD/$B}
log_dir=$B/test-logs
mkdir -p "$log_dir"

count() {  # count ok/not ok lines of a log
	local p f
	p=$(grep -cE '^ok - ' "$1" || true)
	f=$(grep -cE '^not ok - ' "$1" || true)
	passed=$((passed + p)); failed=$((failed + f))
	grep -E '^not ok - ' "$1" | sed 's/^/    /'
}

run_unit() {
	local t log
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		log="$log_dir/$(basename "$t").log"
		# cmocka's TAP output gives one ok/not ok line per case.
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
		local rc=$?
		printf 'unit  %-32s %s\n' "$(basename "$t")" "$(grep -cE '^ok ' "$log") ok, $(grep -cE '^not ok ' "$log") failed"
		sed -E -i 's/^ok [0-9]+ - /ok - /; s/^not ok [0-9]+ - /not ok - /' "$log"
		if [ $rc -ne 0 ] && ! grep -qE '^not ok - ' "$log"; then
			echo "not ok - $(basename "$t") exited $rc" >>"$log"
		fi
		count "$log"
	done
}

run_integration() {
	local t log
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - integration tests need root" >"$log_dir/integration-root.log"
		count "$log_dir/integration-root.log"
		return
	fi
	for t in tests/integration/t_*.sh; do
		[ -f "$t" ] || continue
		[[ -n "${TEST_FILTER:-}" && ! "$t" =~ ${TEST_FILTER} ]] && continue
		log="$log_dir/$(basename "$t" .sh).log"
		local start=$SECONDS
		timeout --kill-after=10 600 bash "$t" >"$log" 2>&1
		local rc=$?
		if [ $rc -ne 0 ] && ! grep -qE '^not ok - ' "$log"; then
			echo "not ok - $(basename "$t") exited $rc" >>"$log"
		fi
		printf 'integ %-32s %s (%ds)\n' "$(basename "$t" .sh)" \
			"$(grep -cE '^ok - ' "$log") ok, $(grep -cE '^not ok - ' "$log") failed" $((SECONDS - start))
		count "$log"
	done
}

run_fuzz() {
	local log="$log_dir/fuzz.log"
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} tests/fuzz/run.sh >"$log" 2>&1
	printf 'fuzz  %-32s %s\n' "all targets" "$(grep -cE '^ok - ' "$log") ok, $(grep -cE '^not ok - ' "$log") failed"
	count "$log"
}

for tier in "${tiers[@]}"; do
	case "$tier" in
	unit) run_unit ;;
	integration) run_integration ;;
	fuzz) run_fuzz ;;
	*) echo "unknown tier $tier" >&2; exit 2 ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
