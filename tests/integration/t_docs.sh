#!/usr/bin/env bash
# The man pages and netctl's shell completion, as a user meets them: `make man` builds
# shoald(8), netctl(8), shoal-cni(8) and shoald.json(5) (and says so clearly when scdoc is
# missing), `man -l` renders each without a warning, `make install` puts them and the completion
# scripts where man and the shells look, and `make uninstall` takes them away again.  The pages
# name every option of shoald --help, every command and option of netctl's help and every key of
# the configuration; the bash completion offers exactly the commands and options netctl accepts,
# per command, and completes container ids, interfaces, namespaces and subnets from a running
# shoald.  The zsh completion is checked when zsh is installed.
. "$(dirname "$0")/lib.sh"

# Never rebuild the binaries from inside a test (-o all); put back the flags stamp the Makefile
# rewrites when this make's flags differ from the build's (as t_systemd.sh does).
mk() {
	local r
	cp -p "$BUILD/.flags" "$LAB_TMP/flags.saved" 2>/dev/null
	make --no-print-directory -C "$ROOT" B="$BUILD" -o all "$@" >>"$LAB_TMP/make.log" 2>&1; r=$?
	[ -f "$LAB_TMP/flags.saved" ] && cp -p "$LAB_TMP/flags.saved" "$BUILD/.flags"
	return $r
}
PAGES="shoald.8 netctl.8 shoal-cni.8 shoald.json.5"
version=$(sed -n 's/^#define SHOAL_VERSION "\(.*\)"$/\1/p' "$ROOT/lib/version.h")

# ---- make man
if ! command -v scdoc >/dev/null; then
	not_ok "scdoc is installed (Debian package scdoc: make deps)"
	lab_done; exit
fi
if mk man; then ok "make man"; else not_ok "make man"; tail -5 "$LAB_TMP/make.log" | sed 's/^/#   /'; fi
out=$(make --no-print-directory -C "$ROOT" B="$LAB_TMP/nosc" SCDOC=no-such-scdoc man 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'scdoc not found.*Debian package scdoc' <<<"$out"; then
	ok "make man without scdoc fails and names the package"
else
	not_ok "make man without scdoc fails and names the package (rc $rc)"; echo "$out" | sed 's/^/#   /'
fi
for p in $PAGES; do
	f=$BUILD/man/$p
	[ -s "$f" ] || { not_ok "$p was built"; continue; }
	# man -l renders through groff; --warnings makes it complain about bad roff.
	txt=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$f" 2>"$LAB_TMP/$p.err")
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$LAB_TMP/$p.err" ] && [ -n "$txt" ]; then ok "man -l $p renders without warnings"; else
		not_ok "man -l $p renders without warnings (rc $rc)"; sed 's/^/#   /' "$LAB_TMP/$p.err" | head -5; fi
	printf '%s\n' "$txt" >"$LAB_TMP/$p.txt"
	name=${p%.*} sec=${p##*.}
	check "$p: the header is $name($sec)" grep -qE "^$name\($sec\) " "$LAB_TMP/$p.txt"
	check "$p: the footer names shoal $version" grep -qF "shoal $version" "$LAB_TMP/$p.txt"
	check_fails "$p: no unsubstituted @PLACEHOLDER@" grep -q '@[A-Z]*@' "$f"
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		check "$p has a $s section" grep -qx "$s" "$LAB_TMP/$p.txt"
	done
done

# ---- the pages say what the programs do
# Every option of shoald --help is in shoald(8) (long and short form).
for o in $("$BUILD/shoald" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | tr ',' ' '); do
	check "shoald(8) documents $o" grep -qE -- "(^|[ ,])$o([ ,]|$)" "$LAB_TMP/shoald.8.txt"
done
# Every configuration key: those docs/config.md's table lists and those shoald --check-config
# reports at their defaults (an empty file leaves all but the overridden ones there).
printf '{}\n' >"$LAB_TMP/empty.json"
keys=$( ( "$BUILD/shoald" --check-config --config "$LAB_TMP/empty.json" --state-dir "$LAB_TMP/st" \
		--socket "$LAB_TMP/s.sock" --store "file:$LAB_TMP/store" | sed -n 's/^\([a-zA-Z]*\): .*/\1/p'
	grep -E '^\| `' "$ROOT/docs/config.md" | cut -d'|' -f2 | grep -oE '`[a-zA-Z]+`' | tr -d '`' ) | sort -u)
n=$(echo "$keys" | wc -w)
[ "$n" -ge 20 ] && ok "found $n configuration keys" || not_ok "found $n configuration keys (want 20 or more)"
for k in $keys; do
	check "shoald.json(5) has an entry for key $k" \
		grep -qE "^ {7}([a-zA-Z]+, )*$k(, [a-zA-Z]+)* \(" "$LAB_TMP/shoald.json.5.txt"
done
# netctl: every command of the help's COMMANDS section, every option of every help text.
# "    subnet list     every subnet ..." -> "subnet list"; "    help COMMAND    ..." -> "help".
cmds=$("$BUILD/netctl" --help | sed -n '/^COMMANDS/,/^$/p' | sed -nE 's/^    ([a-z]+( [a-z]+)?)( [A-Z]+)? {2,}.*/\1/p')
n=$(echo "$cmds" | grep -c .)
[ "$n" -ge 9 ] && ok "netctl --help lists $n commands" || not_ok "netctl --help lists $n commands (want 9 or more)"
opts=""
while read -r c; do
	[ -n "$c" ] || continue
	check "netctl(8) documents the command '$c'" grep -qE "^ {7}$c( |$)" "$LAB_TMP/netctl.8.txt"
	# shellcheck disable=SC2086
	opts="$opts $("$BUILD/netctl" $c --help 2>/dev/null | grep -oE '^    (-[a-z], )?--[a-z-]+' | tr ',' ' ')"
done <<<"$cmds"
opts=$(echo "$opts" | tr ' ' '\n' | grep . | sort -u)
for o in $opts; do
	check "netctl(8) documents $o" grep -qE -- "(^|[ ,])$o([ ,]|$)" "$LAB_TMP/netctl.8.txt"
done
# shoal-cni(8): every error code of lib/cnierr.h, every key of the plugin's table in docs/cni.md.
for code in $(grep -oE '= [0-9]+,' "$ROOT/lib/cnierr.h" | tr -dc '0-9\n'); do
	[ "$code" = 2 ] && continue   # "unsupported field": defined by the spec, never returned by shoal
	check "shoal-cni(8) explains error code $code" grep -qE "^ {7}$code$" "$LAB_TMP/shoal-cni.8.txt"
done
for k in $(awk '/^### Keys/ { on = 1 } on && /^\| `/ { print; seen = 1 } seen && /^$/ { exit }' "$ROOT/docs/cni.md" |
	cut -d'|' -f2 | tr -d '` '); do
	check "shoal-cni(8) has an entry for key $k" grep -qE "^ {7}$k \(" "$LAB_TMP/shoal-cni.8.txt"
done
for v in CNI_COMMAND CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_ARGS CNI_PATH; do
	check "shoal-cni(8) explains $v" grep -qE "^ {7}$v$" "$LAB_TMP/shoal-cni.8.txt"
done

# ---- make install / uninstall
stage=$LAB_TMP/stage
if mk install DESTDIR="$stage" PREFIX=/usr; then ok "make install DESTDIR=... PREFIX=/usr"; else
	not_ok "make install DESTDIR=... PREFIX=/usr"; tail -5 "$LAB_TMP/make.log" | sed 's/^/#   /'; fi
for p in $PAGES; do
	check "make install puts $p into share/man/man${p##*.}" cmp -s "$BUILD/man/$p" "$stage/usr/share/man/man${p##*.}/$p"
done
# man finds them by name and section, as `man 5 shoald.json` will.
expect_eq "man finds netctl(8) in the installed tree" "$stage/usr/share/man/man8/netctl.8" \
	"$(man -M "$stage/usr/share/man" -w 8 netctl 2>/dev/null)"
expect_eq "man finds shoald.json(5) in the installed tree" "$stage/usr/share/man/man5/shoald.json.5" \
	"$(man -M "$stage/usr/share/man" -w 5 shoald.json 2>/dev/null)"
check "the bash completion is installed where bash-completion loads it" \
	cmp -s "$ROOT/conf/completion/netctl.bash" "$stage/usr/share/bash-completion/completions/netctl"
check "the zsh completion is installed in zsh's vendor-completions" \
	cmp -s "$ROOT/conf/completion/_netctl" "$stage/usr/share/zsh/vendor-completions/_netctl"
mk uninstall DESTDIR="$stage" PREFIX=/usr
expect_eq "uninstall removes the man pages and the completions, and their directories" "" \
	"$(cd "$stage" 2>/dev/null && find usr/share/man usr/share/bash-completion usr/share/zsh 2>/dev/null)"
rm -rf "$stage"

# ---- bash completion
comp=$ROOT/conf/completion/netctl.bash
check "netctl.bash: bash -n" bash -n "$comp"
# complete WORD... : what the completion offers for the last word, sorted, on one line.  Runs in
# a fresh bash that loaded only the script, with this build's netctl first in PATH.
complete_bash() {
	PATH="$BUILD:$PATH" bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		complete -p netctl >/dev/null || exit 1
		_netctl netctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | grep . | sort | tr "\n" " " | sed "s/ $//"' _ "$comp" "$@"
}
expect_eq "netctl <TAB> lists the commands" "help host network node policy quota status subnet top version workload" \
	"$(complete_bash netctl '')"
expect_eq "netctl s<TAB>" "status subnet" "$(complete_bash netctl s)"
expect_eq "netctl subnet <TAB> lists list and release" "list release" "$(complete_bash netctl subnet '')"
expect_eq "netctl subnets <TAB> (alias) lists list and release" "list release" "$(complete_bash netctl subnets '')"
expect_eq "netctl workload <TAB>" "get list" "$(complete_bash netctl workload '')"
expect_eq "netctl host <TAB>" "list" "$(complete_bash netctl host '')"
expect_eq "netctl network <TAB>" "show" "$(complete_bash netctl network '')"
expect_eq "netctl node <TAB>" "leave" "$(complete_bash netctl node '')"
expect_eq "netctl quota <TAB>" "delete get set" "$(complete_bash netctl quota '')"
expect_eq "netctl policy <TAB>" "delete list set" "$(complete_bash netctl policy '')"
expect_eq "netctl policies <TAB> (alias)" "delete list set" "$(complete_bash netctl policies '')"
expect_eq "netctl -o <TAB> lists the formats" "json table wide yaml" "$(complete_bash netctl -o '')"
expect_eq "netctl status --output=<TAB>" "json table wide yaml" "$(complete_bash netctl status --output = '')"
expect_eq "netctl -oy<TAB>" "-oyaml" "$(complete_bash netctl -oy)"
expect_eq "netctl -o json workload <TAB> (options before the command)" "get list" \
	"$(complete_bash netctl -o json workload '')"
expect_eq "netctl help <TAB>" "host network node policy quota status subnet top version workload" "$(complete_bash netctl help '')"
expect_eq "netctl help policy <TAB>" "delete list set" "$(complete_bash netctl help policy '')"
expect_eq "netctl help workload <TAB>" "get list" "$(complete_bash netctl help workload '')"
expect_eq "netctl status <TAB>: nothing more to name" "" "$(complete_bash netctl status '')"
expect_eq "netctl workload list --n<TAB>" "--namespace --no-headers --no-trunc" "$(complete_bash netctl workload list --n)"
expect_eq "netctl subnet release --f<TAB>" "--force" "$(complete_bash netctl subnet release --f)"
expect_eq "netctl top --<TAB> (no --watch: top refreshes by itself)" \
	"--count --help --interval --namespace --no-headers --no-trunc --output --pod --socket --timeout --version" \
	"$(complete_bash netctl top --)"
expect_eq "netctl quota set ID --e<TAB>" "--egress-guarantee --egress-limit" "$(complete_bash netctl quota set abc --e)"
expect_eq "netctl quota set ID --priority <TAB>" "0 1 2 3 4 5 6 7 default" \
	"$(complete_bash netctl quota set abc --priority '')"
expect_eq "netctl quota set ID --ingress-limit <TAB> offers only default" "default" \
	"$(complete_bash netctl quota set abc --ingress-limit '')"
expect_eq "netctl policy set NAME --m<TAB>" "--match" "$(complete_bash netctl policy set p --m)"
expect_eq "netctl policy set NAME --a<TAB>" "--all" "$(complete_bash netctl policy set p --a)"
expect_eq "netctl policy set NAME --match <TAB> offers the keys" "K8S_POD_NAME= K8S_POD_NAMESPACE= K8S_POD_UID= cgroup= network=" \
	"$(complete_bash netctl policy set p --match '')"
expect_eq "netctl policy set NAME --match K8S_POD_N<TAB>" "K8S_POD_NAME= K8S_POD_NAMESPACE=" \
	"$(complete_bash netctl policy set p --match K8S_POD_N)"
# bash splits KEY=PATTERN at '=' (COMP_WORDBREAKS): the pattern is typed, and it is no command word.
expect_eq "netctl policy set NAME --match KEY=<TAB> offers no pattern" "" \
	"$(complete_bash netctl policy set p --match K8S_POD_NAMESPACE = '')"
expect_eq "netctl policy set NAME --match KEY=PATTERN --e<TAB>" "--egress-guarantee --egress-limit" \
	"$(complete_bash netctl policy set p --match K8S_POD_NAMESPACE = prod --e)"
expect_eq "netctl policy list --<TAB> (no --match, no rates)" \
	"--help --no-headers --no-trunc --output --socket --timeout --version" "$(complete_bash netctl policy list --)"
check "netctl --socket <TAB> completes file names" \
	grep -qx "$LAB_TMP/make.log" <<<"$(complete_bash netctl --socket "$LAB_TMP/make" | tr ' ' '\n')"

# Exactly what netctl accepts: for every command, each option the completion offers is accepted
# (netctl gets as far as trying the socket: exit 3, or 0 for --help/--version), and each option of
# any command that it does not offer is refused (exit 2, usage error).
value_of() {
	case $1 in
	-o | --output) echo json ;; --socket) echo "$LAB_TMP/none.sock" ;; --timeout | --interval) echo 1s ;;
	--count) echo 1 ;; -n | --namespace) echo ns ;; --pod) echo pod ;; --priority) echo 1 ;;
	--ingress-guarantee | --ingress-limit | --egress-guarantee | --egress-limit) echo 1gbit ;;
	--match) echo K8S_POD_UID=x ;; --cgroup) echo x ;;
	esac
}
commands_with_args=("status" "version" "subnet list" "subnet release 10.244.99.0/24" "host list" "network show"
	"node leave" "workload list" "workload get abc" "quota get abc" "quota set abc --priority 1" "top"
	"policy list" "policy set p --priority 1" "policy delete p" "quota delete --cgroup x")
all_opts=$opts
for c in "${commands_with_args[@]}"; do
	# shellcheck disable=SC2086
	all_opts="$all_opts $(complete_bash netctl $c -)"
done
all_opts=$(echo "$all_opts" | tr ' ' '\n' | grep . | sort -u)
check "the completion offers at least the options of netctl's help texts" \
	bash -c 'for o in '"$(echo $opts)"'; do grep -qx -- "$o" <<<"$1" || exit 1; done' _ "$all_opts"
mismatch=0
for c in "${commands_with_args[@]}"; do
	# shellcheck disable=SC2086
	offered=" $(complete_bash netctl $c -) "
	for o in $all_opts; do
		args=("$o")
		v=$(value_of "$o"); [ -n "$v" ] && args+=("$v")
		# --interval and --count go with --watch (offered together, tried together); a watch of an
		# unreachable shoald goes on for ever: one sample.
		case $o in
		--interval) [[ $offered == *" -w "* ]] && args+=(-w --count 1) ;;
		--count) [[ $offered == *" -w "* ]] && args+=(-w) ;;
		-w | --watch) args+=(--count 1) ;;
		esac
		# policy set needs --match or --all, not both: --all goes with each other option.
		[[ $c == "policy set"* && $o != --match && $o != --all ]] && args+=(--all)
		# --cgroup names the workload instead of the container id.
		cmd=$c; [ "$o" = --cgroup ] && { cmd=${c/ abc/}; cmd=${cmd/ --cgroup x/}; }
		# shellcheck disable=SC2086
		timeout 20 "$BUILD/netctl" --socket "$LAB_TMP/none.sock" --timeout 1s $cmd "${args[@]}" >/dev/null 2>&1; rc=$?
		if [[ $offered == *" $o "* ]]; then
			[ $rc -ne 2 ] || { echo "# netctl $c: offers $o, which netctl refuses"; mismatch=1; }
		else
			[ $rc -eq 2 ] || { echo "# netctl $c: netctl accepts $o (exit $rc), not offered"; mismatch=1; }
		fi
	done
done
[ $mismatch = 0 ] && ok "per command, the completion offers exactly the options netctl accepts" ||
	not_ok "per command, the completion offers exactly the options netctl accepts"
# And the commands: every group and verb offered runs (exit 3: it went for the socket).
mismatch=0
for g in $(complete_bash netctl ''); do
	[ "$g" = help ] && continue
	verbs=$(complete_bash netctl "$g" '')
	for v in ${verbs:-''}; do
		a=(); [ "$g $v" = "workload get" ] && a=(abc); [ "$g $v" = "subnet release" ] && a=(10.244.99.0/24)
		[ "$g $v" = "quota get" ] && a=(abc); [ "$g $v" = "quota set" ] && a=(abc --priority 1)
		[ "$g $v" = "quota delete" ] && a=(--cgroup x)
		[ "$g $v" = "policy set" ] && a=(p --all --priority 1); [ "$g $v" = "policy delete" ] && a=(p)
		# shellcheck disable=SC2086
		"$BUILD/netctl" --socket "$LAB_TMP/none.sock" --timeout 1s $g $v "${a[@]}" >/dev/null 2>&1; rc=$?
		[ $rc -eq 3 ] || { echo "# netctl $g $v: exit $rc, want 3"; mismatch=1; }
	done
done
[ $mismatch = 0 ] && ok "every command the completion offers is one netctl runs" ||
	not_ok "every command the completion offers is one netctl runs"
# ... and nothing netctl runs is missing: the commands of netctl --help.
while read -r c; do
	[ -n "$c" ] || continue
	# shellcheck disable=SC2086
	set -- $c
	if [ $# -eq 1 ]; then got=$(complete_bash netctl '' | tr ' ' '\n' | grep -x "$1"); else
		got=$(complete_bash netctl "$1" '' | tr ' ' '\n' | grep -x "$2"); fi
	[ -n "$got" ] && ok "the completion offers '$c'" || not_ok "the completion offers '$c'"
done <<<"$cmds"

# Values from a running shoald: two hosts sharing a file store (no underlay needed: the subnet
# list is the store's), a pod on n1.
lab_host n1 >/dev/null && lab_host n2 >/dev/null
if shoald_start n1 && shoald_start n2; then ok "two shoalds started"; else not_ok "two shoalds started"; fi
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
lab_netns c1 >/dev/null
cni_conf n1 | CNI_ARGS="K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0" cni ADD "$id" "$(netns_path c1)" net1 >/dev/null
check "a pod was added on n1" test "$(netctl_json n1 workload list | jq length)" = 1
s1=$LAB_TMP/n1.sock
expect_eq "netctl workload get <TAB> offers the container ids (whole)" "$id" \
	"$(complete_bash netctl --socket "$s1" workload get '')"
expect_eq "netctl workload get ID <TAB> offers its interfaces" "net1" \
	"$(complete_bash netctl --socket = "$s1" workload get 0123 '')"
expect_eq "netctl quota set <TAB> offers the container ids (whole)" "$id" \
	"$(complete_bash netctl --socket "$s1" quota set '')"
expect_eq "netctl quota get ID <TAB> offers its interfaces" "net1" \
	"$(complete_bash netctl --socket "$s1" quota get 0123 '')"
expect_eq "netctl workload list -n <TAB> offers the pods' namespaces" "team-a" \
	"$(complete_bash netctl workload list --socket "$s1" -n '')"
expect_eq "netctl workload list --pod <TAB> offers the pods' names" "web-0" \
	"$(complete_bash netctl workload list --socket "$s1" --pod '')"
sub1=$(shoald_field n1 subnet) sub2=$(shoald_field n2 subnet)
expect_eq "netctl subnet release <TAB> offers the other host's subnet, never this host's own" "$sub2" \
	"$(complete_bash netctl --socket "$s1" subnet release '')"
check "the two hosts have subnets" test -n "$sub1" -a -n "$sub2" -a "$sub1" != "$sub2"
"$BUILD/netctl" --socket "$s1" policy set prod-web --match K8S_POD_NAMESPACE=prod --priority 2 >/dev/null &&
	"$BUILD/netctl" --socket "$s1" policy set floor --all --egress-guarantee 1mbit >/dev/null
check "two policies were written through n1" test "$(netctl_json n2 policy list | jq -r '[.[].name] | join(" ")')" = "floor prod-web"
expect_eq "netctl policy delete <TAB> offers the policies' names (of any host's store)" "floor prod-web" \
	"$(complete_bash netctl --socket "$LAB_TMP/n2.sock" policy delete '')"
expect_eq "netctl policy rm <TAB> (alias) offers them too" "floor prod-web" \
	"$(complete_bash netctl --socket "$s1" policy rm '')"
expect_eq "with shoald unreachable, workload get <TAB> offers nothing" "" \
	"$(complete_bash netctl --socket "$LAB_TMP/none.sock" workload get '')"

# ---- zsh completion (only when zsh is installed: nothing here installs it)
if ! command -v zsh >/dev/null; then
	ok "skipped: zsh is not installed (zsh completion)"
else
	zcomp=$ROOT/conf/completion/_netctl
	check "_netctl: zsh -n" zsh -n "$zcomp"
	# The completion function run with stand-ins for zsh's completion builtins that print what would
	# be offered (the matching against the typed prefix is zsh's, not ours).
	complete_zsh() {
		PATH="$BUILD:$PATH" zsh -f -c '
			compadd() { local -a out; while (( $# )); do case $1 in -a) shift; out+=(${(P)1});;
				--) shift; out+=("$@"); break;; -*) ;; *) out+=($1);; esac; shift; done; print -r -- ${(o)out}; }
			_describe() { print -r -- ${(o)${${(P)4}%%:*}}; }
			_files() { print -r -- "<files>"; }
			_message() { print -r -- "<message>"; }
			compset() { :; }
			fpath=($1 $fpath); autoload -Uz _netctl; shift
			words=("$@"); CURRENT=$#; _netctl' _ "$(dirname "$zcomp")" "$@"
	}
	expect_eq "zsh: netctl <TAB> lists the commands" "help host network node policy quota status subnet top version workload" \
		"$(complete_zsh netctl '')"
	expect_eq "zsh: netctl subnet <TAB>" "list release" "$(complete_zsh netctl subnet '')"
	expect_eq "zsh: netctl -o <TAB>" "json table wide yaml" "$(complete_zsh netctl -o '')"
	expect_eq "zsh: netctl --output=<TAB>" "json table wide yaml" "$(complete_zsh netctl --output=)"
	expect_eq "zsh: netctl help <TAB>" "host network node policy quota status subnet top version workload" "$(complete_zsh netctl help '')"
	expect_eq "zsh: netctl policy <TAB>" "delete list set" "$(complete_zsh netctl policy '')"
	expect_eq "zsh: netctl policy set NAME --match <TAB> offers the keys" \
		"K8S_POD_NAME= K8S_POD_NAMESPACE= K8S_POD_UID= cgroup= network=" "$(complete_zsh netctl policy set p --match '')"
	expect_eq "zsh: netctl policy set NAME --match=<TAB> offers the keys" \
		"K8S_POD_NAME= K8S_POD_NAMESPACE= K8S_POD_UID= cgroup= network=" "$(complete_zsh netctl policy set p --match=)"
	expect_eq "zsh: netctl policy set NAME --match KEY=<TAB> offers no pattern" "<message>" \
		"$(complete_zsh netctl policy set p --match K8S_POD_NAMESPACE=)"
	expect_eq "zsh: netctl policy delete <TAB> offers the policies' names" "floor prod-web" \
		"$(complete_zsh netctl --socket "$s1" policy delete '')"
	expect_eq "zsh: netctl quota <TAB>" "delete get set" "$(complete_zsh netctl quota '')"
	expect_eq "zsh: netctl quota set ID --priority <TAB>" "0 1 2 3 4 5 6 7 default" \
		"$(complete_zsh netctl quota set abc --priority '')"
	expect_eq "zsh: netctl quota get <TAB> offers the container ids" "$id" \
		"$(complete_zsh netctl --socket "$s1" quota get '')"
	expect_eq "zsh: netctl --socket <TAB> completes files" "<files>" "$(complete_zsh netctl --socket '')"
	# The same options per command as bash (which is checked against netctl above).
	mismatch=0
	for c in "${commands_with_args[@]}"; do
		# shellcheck disable=SC2086
		b=$(complete_bash netctl $c -); z=$(complete_zsh netctl $c - | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
		[ "$b" = "$z" ] || { echo "# netctl $c -: bash offers '$b', zsh '$z'"; mismatch=1; }
	done
	[ $mismatch = 0 ] && ok "zsh offers the same options per command as bash" ||
		not_ok "zsh offers the same options per command as bash"
	expect_eq "zsh: netctl workload get <TAB> offers the container ids" "$id" \
		"$(complete_zsh netctl --socket "$s1" workload get '')"
	expect_eq "zsh: netctl workload get ID <TAB> offers its interfaces" "net1" \
		"$(complete_zsh netctl --socket="$s1" workload get 0123 '')"
	expect_eq "zsh: netctl subnet release <TAB> offers the other host's subnet" "$sub2" \
		"$(complete_zsh netctl --socket "$s1" subnet release '')"
fi

cni_conf n1 | cni DEL "$id" "$(netns_path c1)" net1 >/dev/null
lab_done
