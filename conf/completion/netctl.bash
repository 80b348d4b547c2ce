# bash completion for netctl, shoal's CLI.                                   -*- shell-script -*-
# Installed as $PREFIX/share/bash-completion/completions/netctl, where bash-completion loads it the
# first time netctl is completed; without bash-completion, `source` it from ~/.bashrc.  It needs
# nothing from bash-completion.
#
# netctl's command line lives in netctl/args.c.  Everything this script knows about it is in the
# block below: keep it in step (tests/integration/t_docs.sh checks that every command and option
# offered is accepted by netctl, and every one netctl accepts is offered).  Aliases (subnets, ls,
# ...) are understood when typed, but not offered.

_netctl_commands='status subnet host network node workload quota policy top version help'
# The verbs of a command group ("" for a command that takes none).
_netctl_verbs() {
	case $1 in
	subnet | subnets) echo 'list release' ;;
	host | hosts) echo 'list' ;;
	network) echo 'show' ;;
	node) echo 'leave' ;;
	workload | workloads) echo 'list get' ;;
	quota) echo 'get set delete' ;;
	policy | policies) echo 'list set delete' ;;
	esac
}
# Options every command takes.
_netctl_global_opts='-o --output --socket --timeout --no-headers --no-trunc -h --help --version'
# Options only some commands take, by command ("GROUP VERB" with the canonical names).
_netctl_command_opts() {
	case $1 in
	status | 'subnet list' | 'host list') echo '-w --watch --interval --count' ;;
	'workload list') echo '-w --watch --interval --count -n --namespace --pod' ;;
	'subnet release') echo '--force' ;;
	'workload get' | 'quota get' | 'quota delete') echo '--cgroup' ;;
	'quota set') echo '--cgroup --ingress-guarantee --ingress-limit --egress-guarantee --egress-limit --priority' ;;
	'policy set') echo '--match --all --ingress-guarantee --ingress-limit --egress-guarantee --egress-limit --priority' ;;
	top) echo '--interval --count -n --namespace --pod' ;;
	esac
}
# Options that take a value (the next word, or --opt=VALUE, or -oVALUE).
_netctl_value_opts=' -o --output --socket --timeout --interval --count -n --namespace --pod --cgroup '
_netctl_value_opts+='--ingress-guarantee --ingress-limit --egress-guarantee --egress-limit --priority --match '
# What a policy matches on (--match KEY=PATTERN).
_netctl_match_keys='K8S_POD_NAMESPACE= K8S_POD_NAME= K8S_POD_UID= network= cgroup='
_netctl_outputs='table wide json yaml'

# The canonical "GROUP VERB" of the command words given so far.
_netctl_canonical() {
	local g=$1 v=$2
	case $g in
	subnets) g=subnet ;; hosts) g=host ;; workloads) g=workload ;; policies) g=policy ;;
	esac
	[ "$v" = ls ] && v=list
	[ "$v" = rm ] && v=delete
	echo "$g${v:+ $v}"
}

# The rows of a netctl table (without header), asked through the netctl being completed with the
# --socket given on the line; nothing when shoald does not answer within a second.
_netctl_rows() {
	"$_netctl_bin" ${_netctl_socket:+--socket "$_netctl_socket"} --timeout 1s --no-headers "$@" 2>/dev/null
}

# The container ids of workload list (its cgroup:PATH rows left out), and the cgroups with a quota.
_netctl_ids() { _netctl_rows --no-trunc workload list | awk 'index($1, "cgroup:") != 1 { print $1 }' | sort -u; }
_netctl_cgroups() { _netctl_rows workload list | awk 'index($1, "cgroup:") == 1 { print substr($1, 8) }'; }

_netctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} i w only_words='' skip='' help='' cmd candidates=''
	local -a pos=()
	_netctl_bin=${COMP_WORDS[0]}
	_netctl_socket=''
	type -P -- "$_netctl_bin" >/dev/null 2>&1 || _netctl_bin=netctl
	COMPREPLY=()

	# The words before the cursor: options (and their values) apart, command words in pos.
	# bash splits --output=json into "--output" "=" "json" (COMP_WORDBREAKS has '=').
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ -n "$skip" ]; then
			[ "$w" = '=' ] && continue
			[ "$skip" = --socket ] && _netctl_socket=$w
			# --match KEY=PATTERN arrives as KEY, =, PATTERN: the pattern is part of the value.
			if [ "$skip" = --match ] && [ "${COMP_WORDS[i + 1]}" = '=' ]; then skip=--match=; else skip=''; fi
		elif [ -n "$only_words" ] || [[ $w != -* ]] || [ "$w" = - ]; then
			pos+=("$w")
		elif [ "$w" = -- ]; then
			only_words=1
		elif [[ $_netctl_value_opts == *" $w "* ]]; then
			skip=$w
		elif [[ $w == --socket=* ]]; then   # when COMP_WORDBREAKS lacks '='
			_netctl_socket=${w#--socket=}
		fi
	done

	# The value of an option.
	if [ -n "$skip" ]; then
		[ "$cur" = '=' ] && cur=''
		case $skip in
		-o | --output) candidates=$_netctl_outputs ;;
		--socket)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		-n | --namespace) candidates=$(_netctl_rows workload list | awk '$4 != "-" { print $4 }' | sort -u) ;;
		# The cgroups with a quota; quota set may give one to any cgroup: also the directories
		# under the cgroup v2 mount, relative to it (absolute ones when the word begins with /).
		--cgroup)
			candidates=$(_netctl_cgroups)
			if [ "$(_netctl_canonical "${pos[0]}" "${pos[1]}")" = 'quota set' ]; then
				local mnt
				mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts 2>/dev/null)
				compopt -o nospace 2>/dev/null
				if [[ $cur == /* ]]; then
					candidates+=" $(compgen -d -S / -- "$cur")"
				elif [ -n "$mnt" ]; then
					candidates+=" $(cd "$mnt" 2>/dev/null && compgen -d -S / -- "$cur")"
				fi
			fi
			;;
		--pod) candidates=$(_netctl_rows workload list | awk '$5 != "-" { print $5 }' | sort -u) ;;
		# A rate is typed (100mbit, 1gbit); only the word that clears one is worth offering.
		--ingress-guarantee | --ingress-limit | --egress-guarantee | --egress-limit) candidates=default ;;
		--priority) candidates='0 1 2 3 4 5 6 7 default' ;;
		# The key, then the pattern is typed.
		--match) candidates=$_netctl_match_keys; compopt -o nospace 2>/dev/null ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
		return 0
	fi
	if [[ $cur == -o?* && $cur != --* && -z $only_words ]]; then   # -ojson
		mapfile -t COMPREPLY < <(compgen -P -o -W "$_netctl_outputs" -- "${cur#-o}")
		return 0
	fi

	# `netctl help COMMAND` completes like the command.
	if [ "${pos[0]}" = help ]; then
		help=1
		pos=("${pos[@]:1}")
	fi
	cmd=$(_netctl_canonical "${pos[0]}" "${pos[1]}")
	if [ -z "$only_words" ] && [[ $cur == -* ]]; then
		candidates="$_netctl_global_opts $(_netctl_command_opts "$cmd")"
	else
		case ${#pos[@]} in
		0) candidates=$_netctl_commands; [ -n "$help" ] && candidates=${candidates% help} ;;
		1) candidates=$(_netctl_verbs "${pos[0]}") ;;
		2)
			[ -n "$help" ] ||
			case $cmd in
			'workload get' | 'quota get' | 'quota set') candidates=$(_netctl_ids) ;;
			# This host's own subnet (SELF yes, the last column) cannot be released.
			'subnet release') candidates=$(_netctl_rows subnet list | awk '$NF != "yes" { print $1 }') ;;
			'policy delete') candidates=$(_netctl_rows policy list | awk '{ print $1 }') ;;
			esac
			;;
		3)
			[ -z "$help" ] && [[ $cmd == 'workload get' || $cmd == 'quota get' || $cmd == 'quota set' ]] &&
				candidates=$(_netctl_rows --no-trunc workload list |
					awk -v id="${pos[2]}" 'index($1, id) == 1 { print $2 }' | sort -u)
			;;
		esac
	fi
	mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
	return 0
}
complete -F _netctl netctl
