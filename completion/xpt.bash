# SPDX-License-Identifier: MIT
# bash completion for xpt(1).  The commands and each command's options and
# arguments come from `xpt --help` itself (its usage lines), so a new
# command completes without a change here; what an argument is comes from
# its name in the usage: DOMAIN and an option's D|NAME (the host's
# domains, from `xpt list --json`), BDF and SPEC (assignable devices, or for pci-detach the
# domain's own, from `xpt pci-list --json`), CONFIG, FILE, LOG (files),
# COMMAND (the commands).  The host is asked quietly (-q) and briefly: with
# no host up, nothing is offered.  -R/-P given on the line go to the xpt
# asked.  Without the bash-completion package: source this file.

# _xpt_ask ARGS...: the xpt being completed, with the line's -R/-P
_xpt_ask()
{
	timeout 3 "${_xpt_bin:-xpt}" "${_xpt_globals[@]}" -q "$@" \
		2>/dev/null </dev/null
}

# the values of "KEY": ... lines of xpt's (indented) JSON
_xpt_json_values()
{
	local line re

	re="^[[:space:]]*\"$1\": \"?([^\",]*)\"?,?$"
	while IFS= read -r line; do
		[[ $line =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
	done
}

_xpt_domains()
{
	local json

	json=$(_xpt_ask list --json) || return
	_xpt_json_values name <<<"$json"
	_xpt_json_values domid <<<"$json"
}

# assignable devices, by address and by name=NAME; -a: assigned ones too
_xpt_assignable()
{
	local json

	json=$(_xpt_ask pci-assignable-list --json "$@") || return
	_xpt_json_values bdf <<<"$json"
	_xpt_json_values name <<<"$json" | grep -vx null | sed 's/^/name=/'
}

_xpt_domain_devices()
{
	_xpt_ask pci-list --json "$1" | _xpt_json_values bdf | grep -vx null
}

# COMP_WORDS with the pieces bash split at ':' (COMP_WORDBREAKS) joined
# again: 0000 : 03 : 00.0 is one address
_xpt_join_words()
{
	local i w

	_xpt_words=()
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((${#_xpt_words[@]} > 1)) &&
		   [[ $w == : || ${_xpt_words[-1]} == *: ]]; then
			_xpt_words[-1]+=$w
		else
			_xpt_words+=("$w")
		fi
	done
}

_xpt()
{
	local cur prev help cmd="" usage="" w i n opt
	local -a _xpt_words _xpt_globals=() pos=() cmds=() reply=()
	local _xpt_bin=${COMP_WORDS[0]/#\~/$HOME}	# ~/bin/xpt as typed

	COMPREPLY=()
	_xpt_join_words
	cur=${_xpt_words[-1]}
	n=${#_xpt_words[@]}
	prev=""
	((n > 1)) && prev=${_xpt_words[n - 2]}

	# the global options, then the command
	for ((i = 1; i < n - 1; i++)); do
		w=${_xpt_words[i]}
		case $w in
		-R | --rundir | -P | --platform)
			_xpt_globals+=("$w" "${_xpt_words[i + 1]}")
			((i++)) ;;
		--rundir=* | --platform=* | -R?* | -P?*) _xpt_globals+=("$w") ;;
		-W | --wait-factor) ((i++)) ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		case $prev in
		-R | --rundir)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
			return ;;
		-P | --platform)
			mapfile -t COMPREPLY < <(compgen -W "model xen" -- "$cur")
			return ;;
		-W | --wait-factor)
			return ;;	# a number
		esac
	fi

	help=$("$_xpt_bin" --help 2>/dev/null) || return
	while IFS= read -r w; do
		[[ $w =~ ^\ \ ([a-z][-a-z0-9]*)\ +(.*)$ ]] || continue
		cmds+=("${BASH_REMATCH[1]}")
		[[ ${BASH_REMATCH[1]} == "$cmd" ]] && usage=${BASH_REMATCH[2]}
	done < <(sed -n '/^Commands:/,/^$/p' <<<"$help")

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			# the global options: those of the help above its commands
			mapfile -t COMPREPLY < <(compgen -W "$(sed '/^Commands:/q' \
				<<<"$help" | grep -oE -- '(^|[[ ,])-{1,2}[a-zA-Z][-a-zA-Z]*' |
				tr -d '[ ,' | sort -u)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "${cmds[*]}" -- "$cur")
		fi
		return
	fi

	# a usage with alternatives (host: "start [...] | stop | ..."): the
	# first word picks one
	if [[ $usage == *" | "* ]]; then
		local alt first="" chosen=""
		local -a alts=()

		for ((w = i + 1; w < n - 1; w++)); do
			[[ ${_xpt_words[w]} != -* ]] && { first=${_xpt_words[w]}; break; }
		done
		while IFS= read -r alt; do
			alts+=("${alt%% *}")
			[[ ${alt%% *} == "$first" ]] && chosen=$alt
		done < <(sed 's/ | /\n/g' <<<"$usage")
		if [[ -n $first ]]; then
			usage=$chosen
		elif [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "${alts[*]}" -- "$cur")
			return
		fi
	fi

	# an option's argument (-n NAME, --host FILE, trace's --domain D|NAME
	# and [--hv-log FILE|--no-hv-log])
	local optarg="\\[$prev ([A-Z][A-Z_|]*)[]|]"
	if [[ $prev == -* && $usage =~ $optarg ]]; then
		case ${BASH_REMATCH[1]} in
		FILE | CONFIG | LOG | DIR)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		DOMAIN | D\|NAME)
			mapfile -t COMPREPLY < <(compgen -W "$(_xpt_domains)" -- "$cur") ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		# [-x ...], [--xy|--yz]: every option in brackets
		mapfile -t COMPREPLY < <(compgen -W "$(grep -oE -- \
			'[[|]-{1,2}[a-zA-Z][-a-zA-Z]*' <<<"$usage" |
			tr -d '[|') -h --help" -- "$cur")
		return
	fi

	# the positional arguments so far, and the usage's for each
	for ((w = i + 1; w < n - 1; w++)); do
		opt=${_xpt_words[w]}
		if [[ $opt == -* ]]; then
			[[ $usage =~ \[$opt\ [A-Z] ]] && ((w++))
			continue
		fi
		pos+=("$opt")
	done
	local -a metas
	read -ra metas <<<"$(sed 's/\[[^]]*\]//g' <<<"$usage")"
	local meta=${metas[${#pos[@]}]:-}
	# a trailing optional positional, [COMMAND], [LOG]; one ending in
	# "..." repeats (doctor's [BDF|BB:DD.*|name=NAME...])
	if [[ -z $meta && $usage =~ \[([A-Z][^]\ ]*)\]$ ]]; then
		opt=${BASH_REMATCH[1]}
		if ((${#pos[@]} == ${#metas[@]})) || [[ $opt == *... ]]; then
			meta=$opt
		fi
	fi

	case $meta in
	DOMAIN)
		reply=($(_xpt_domains)) ;;
	SPEC | BDF*)
		case $cmd in
		pci-detach) [[ ${pos[0]:-} ]] && reply=($(_xpt_domain_devices "${pos[0]}")) ;;
		pci-assignable-add) ;;	# a host device: nothing to ask
		host) reply=($(_xpt_assignable -a | grep -v '^name=')) ;;
		pci-attach | pci-assignable-remove) reply=($(_xpt_assignable)) ;;
		*) reply=($(_xpt_assignable -a)) ;;	# doctor: any of pciback's
		esac ;;
	CONFIG | FILE | LOG)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	COMMAND)
		reply=("${cmds[@]}") ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "${reply[*]}" -- "$cur")
	# bash replaces only the part after the last ':' of an address
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local colon=${cur%"${cur##*:}"}

		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$colon"}
		done
	fi
}
complete -F _xpt xpt
