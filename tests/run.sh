#!/usr/bin/env bash
# The test runner behind `make check`: unit (cmocka binaries), integration (netns lab scripts) and a
# short fuzz run.  Every test prints "ok - NAME" or "not ok - NAME"; the last line is the summary
# "N passed, N failed" over all tiers, so a run that tested nothing shows.
#
#   tests/run.sh [unit|integration|fuzz]...   (default: all three)
#   TEST_FILTER=regex  run only the integration scripts whose name matches
#   INTEG_JOBS=N       integration scripts side by side (default 2; 1 = one after another, in name
#                      order, as before).  Exclusive scripts (below) always run alone.
#   INTEG_LOCK=FILE    the lab lock exclusive scripts hold (default /tmp/shoal-lab.lock; empty: none)
#   INTEG_LOCK_WAIT=S  how long to wait for it (default 900); then exclusive scripts run without it
#
# Integration in two lanes (docs/testing.md "How the integration tier runs"): first every exclusive
# script alone, holding the lab lock, in name order; then the others INTEG_JOBS at a time, the
# longest (by the last run's times in $B/test-logs/durations) first.  The "integ" lines come in a
# fixed order whatever finishes first: the exclusive scripts', then the others', each in name order.
set -u
cd "$(dirname "$0")/.."
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit integration fuzz)
passed=0 failed=0
B=${B:-build}
export BUILD=${BUILD:-$PWD/$B}
log_dir=$B/test-logs
mkdir -p "$log_dir"

# Integration scripts that must run alone: nothing else of the suite runs meanwhile.  Besides these,
# every script that runs iperf3 or sources lib_bw.sh, and every script with the header line
# "# shoal-test: exclusive", is exclusive.  The reasons:
INTEG_EXCLUSIVE=(
	t_api             # answers "within 2 s" during a 600-connection flood, RSS bounds
	t_metrics         # the exported rate within 15 % of bytes moved / time between two scrapes
	t_multihost_etcd  # 20 daemons started at once must each serve within 5 s (4.2 s seen alone at
	                  # load 4); <= 2 of 240 pings lost through an etcd outage; a 3-member etcd
	                  # cluster's elections
	t_robust          # a 400 ms deletion delay must still be running when looked at; status read
	                  # 20 times in a row: failed once side by side with t_plugin_badinput
	t_docs            # make man / install in $BUILD: the man pages and the .flags stamp are
	t_systemd         # shared with each other (and t_etcd reads .flags)
)

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

# ---- integration

# integ_exclusive SCRIPT: true when SCRIPT must run alone.
integ_exclusive() {
	local name x
	name=$(basename "$1" .sh)
	for x in "${INTEG_EXCLUSIVE[@]}"; do [ "$x" = "$name" ] && return 0; done
	head -n 40 "$1" | grep -qx '# shoal-test: exclusive' && return 0
	grep -qE '^[^#]*(\<iperf3\>|lib_bw\.sh)' "$1"
}

# integ_locks_itself SCRIPT: true when SCRIPT (or a lib*.sh it sources) takes the lab lock itself.
# run.sh must not hold it then: flock on the same file from the child blocks on the parent's lock.
integ_locks_itself() {
	local f lock=${INTEG_LOCK##*/}
	[ -n "$lock" ] || return 1
	for f in "$1" $(grep -oE '^[^#]*(\.|source) +"\$\(dirname "\$0"\)/lib[A-Za-z0-9_]*\.sh"' "$1" |
		grep -oE 'lib[A-Za-z0-9_]*\.sh' | sed 's|^|tests/integration/|'); do
		grep -qF -- "$lock" <(grep -vE '^[[:space:]]*#' "$f" 2>/dev/null) && return 0
	done
	return 1
}

# integ_under_lock: true when this process already holds the lab lock, i.e. runs under
# `flock /tmp/shoal-lab.lock tests/run.sh ...` (flock hands its locked descriptor down).
integ_under_lock() {
	local f want
	want=$(readlink -f -- "$INTEG_LOCK" 2>/dev/null) || return 1
	for f in /proc/$$/fd/*; do
		[ "$(readlink -- "$f" 2>/dev/null)" = "$want" ] && return 0
	done
	return 1
}

# integ_lock NAME: take the lab lock on INTEG_LOCK_FD (waiting up to INTEG_LOCK_WAIT s) unless it is
# held already; 1 when it stayed busy.  A wait is said on stderr.  The flock runs in the background
# (the lock belongs to the descriptor it shares with us): `wait` lets a signal's trap in.
integ_lock() {
	local t0=$SECONDS rc
	[ -n "$INTEG_LOCK_FD" ] && return 0
	if [ -e "$INTEG_LOCK" ]; then exec {INTEG_LOCK_FD}<"$INTEG_LOCK"; else exec {INTEG_LOCK_FD}>>"$INTEG_LOCK"; fi || return 1
	flock -n "$INTEG_LOCK_FD" && return 0
	echo "# $1: waiting for the lab lock $INTEG_LOCK (up to ${INTEG_LOCK_WAIT:-900} s)" >&2
	flock -w "${INTEG_LOCK_WAIT:-900}" "$INTEG_LOCK_FD" &
	I_LOCKER=$!
	wait "$I_LOCKER"; rc=$?
	I_LOCKER=""
	if [ $rc -eq 0 ]; then
		echo "# $1: got the lab lock after $((SECONDS - t0)) s" >&2
		return 0
	fi
	integ_unlock
	return 1
}
integ_unlock() { [ -n "$INTEG_LOCK_FD" ] && exec {INTEG_LOCK_FD}<&-; INTEG_LOCK_FD=""; }

# integ_spawn I: start script I in the background; when it ends, "I RC" arrives on the fifo.
integ_spawn() {
	local i=$1
	I_START[$i]=$SECONDS
	(
		trap '[ -n "${tp:-}" ] && kill -TERM "$tp" 2>/dev/null' TERM
		# The lab lock stays with run.sh: a daemon the script leaves behind must not keep it.
		[ -n "$INTEG_LOCK_FD" ] && exec {INTEG_LOCK_FD}<&-
		timeout --kill-after=10 600 bash "${I_TEST[$i]}" >"${I_LOG[$i]}" 2>&1 </dev/null {I_FIFO}>&- &
		tp=$!
		while :; do wait "$tp"; rc=$?; kill -0 "$tp" 2>/dev/null || break; done
		echo "$i $rc" >&"$I_FIFO"
	) &
	I_PID[$i]=$!
	I_RUNNING=$((I_RUNNING + 1))
}

# integ_reap: wait for the next script to end and record its result.
integ_reap() {
	local i rc
	until read -r i rc <&"$I_FIFO"; do :; done
	wait "${I_PID[$i]}" 2>/dev/null
	I_SECS[$i]=$((SECONDS - I_START[$i]))
	I_RC[$i]=$rc
	unset "I_PID[$i]"
	I_RUNNING=$((I_RUNNING - 1))
}

# integ_report I: the "integ" line of script I, and its ok/not ok lines into the totals.
integ_report() {
	local i=$1 log=${I_LOG[$1]}
	if [ "${I_RC[$i]}" -ne 0 ] && ! grep -qE '^not ok - ' "$log"; then
		echo "not ok - $(basename "${I_TEST[$i]}") exited ${I_RC[$i]}" >>"$log"
	fi
	printf 'integ %-32s %s (%ds)\n' "${I_NAME[$i]}" \
		"$(grep -cE '^ok - ' "$log") ok, $(grep -cE '^not ok - ' "$log") failed" "${I_SECS[$i]}"
	count "$log"
	DURATION[${I_NAME[$i]}]=${I_SECS[$i]}
}

# integ_alone I: run script I with nothing else of the suite, holding the lab lock unless this run
# holds it already or the script takes it itself (the lock is not released after it: the caller
# does, with integ_unlock, so that consecutive exclusive scripts take it once).
integ_alone() {
	local i=$1
	if [ -n "$INTEG_LOCK" ] && [ -z "$UNDER_LOCK" ]; then
		if integ_locks_itself "${I_TEST[$i]}"; then
			integ_unlock
		elif ! integ_lock "${I_NAME[$i]}"; then
			# As before the lanes: alone in the suite, but without the lock, and said so.
			echo "# ${I_NAME[$i]}: the lab lock $INTEG_LOCK stayed busy for ${INTEG_LOCK_WAIT:-900} s:" \
				"the exclusive scripts run without it from here on" >&2
			UNDER_LOCK=busy
		fi
	fi
	integ_spawn "$i"
	integ_reap
	[ "$UNDER_LOCK" = busy ] && echo "# ran without the lab lock $INTEG_LOCK (busy)" >>"${I_LOG[$i]}"
	integ_report "$i"
}

integ_abort() {
	local p
	for p in "${I_PID[@]}" ${I_LOCKER:+"$I_LOCKER"}; do kill -TERM "$p" 2>/dev/null; done
	wait
	echo "interrupted" >&2
	exit 130
}

run_integration() {
	local t i n jobs
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - integration tests need root" >"$log_dir/integration-root.log"
		count "$log_dir/integration-root.log"
		return
	fi
	jobs=${INTEG_JOBS:-2}
	[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "INTEG_JOBS must be a number >= 1, not '$jobs'" >&2; exit 2; }
	INTEG_LOCK=${INTEG_LOCK-/tmp/shoal-lab.lock}
	UNDER_LOCK=""
	[ -n "$INTEG_LOCK" ] && integ_under_lock && UNDER_LOCK=1
	I_TEST=() I_NAME=() I_LOG=() I_PID=() I_START=() I_SECS=() I_RC=() I_RUNNING=0 INTEG_LOCK_FD="" I_LOCKER=""
	declare -gA DURATION=()
	[ -f "$log_dir/durations" ] && while read -r t n; do DURATION[$t]=$n; done <"$log_dir/durations"
	n=0
	for t in tests/integration/t_*.sh; do
		[ -f "$t" ] || continue
		[[ -n "${TEST_FILTER:-}" && ! "$t" =~ ${TEST_FILTER} ]] && continue
		I_TEST[$n]=$t I_NAME[$n]=$(basename "$t" .sh) I_LOG[$n]=$log_dir/$(basename "$t" .sh).log
		n=$((n + 1))
	done
	local fifo
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/shoal-integ.XXXXXX") && mkfifo -m 600 "$fifo" || { echo "mkfifo failed" >&2; exit 2; }
	exec {I_FIFO}<>"$fifo"
	rm -f "$fifo"
	trap integ_abort INT TERM

	if [ "$jobs" -eq 1 ]; then
		# One after another in name order, as before; exclusive scripts still hold the lab lock.
		for ((i = 0; i < n; i++)); do
			if integ_exclusive "${I_TEST[$i]}"; then integ_alone "$i"; else
				integ_unlock; integ_spawn "$i"; integ_reap; integ_report "$i"; fi
		done
		integ_unlock
	else
		local shared=() order=() next=0 k
		for ((i = 0; i < n; i++)); do
			if integ_exclusive "${I_TEST[$i]}"; then integ_alone "$i"; else shared+=("$i"); fi
		done
		integ_unlock
		# Start the longest first (the last run's times; a script never timed counts as long, then
		# name order), so that the lanes end together; report in name order.
		mapfile -t order < <(for i in "${shared[@]}"; do
			echo "${DURATION[${I_NAME[$i]}]:-100000} $i"; done | sort -k1,1nr -k2,2n -s | cut -d' ' -f2)
		k=0
		while [ "$next" -lt ${#shared[@]} ]; do
			while [ "$I_RUNNING" -lt "$jobs" ] && [ "$k" -lt ${#order[@]} ]; do
				integ_spawn "${order[$k]}"; k=$((k + 1))
			done
			integ_reap
			while [ "$next" -lt ${#shared[@]} ] && [ -n "${I_RC[${shared[$next]}]:-}" ]; do
				integ_report "${shared[$next]}"; next=$((next + 1))
			done
		done
	fi
	trap - INT TERM
	exec {I_FIFO}>&-
	# Remember every script's time for the next run's order.
	for t in "${!DURATION[@]}"; do echo "$t ${DURATION[$t]}"; done | sort >"$log_dir/durations.tmp.$$" &&
		mv -f "$log_dir/durations.tmp.$$" "$log_dir/durations"
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
