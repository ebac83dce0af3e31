#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion (completion/xpt.bash): the script is sourced, COMP_WORDS
# and COMP_CWORD set as bash sets them, _xpt called and COMPREPLY checked.
# Table-driven from `xpt --help`: every command completes, and so does
# every option of its usage.  Then against a running modelled host:
# domain names and ids, assignable devices for pci-attach, the domain's
# own for pci-detach (an address split at its ':' as bash splits it), -R
# passed to the xpt asked; and with no host, nothing.
#
# usage: completion.sh XPT HOSTFILE COMPLETION-SCRIPT
set -u
XPT=$1
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../completion/xpt.bash
. "$3"

# comp WORD...: the replies for the last word, sorted, one a line
comp() {
	COMP_WORDS=("$XPT" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_xpt
	printf '%s\n' "${COMPREPLY[@]}" | sort | sed '/^$/d'
}

# expect WHAT WANT WORD...: comp WORD... gives WANT (lines)
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$(comp "$@")
	[ "$got" = "$want" ] || fail "$what: got '$(echo $got)', want '$(echo $want)'"
}

# has WHAT ITEM WORD...: ITEM is among the replies
has() {
	local what=$1 item=$2
	shift 2
	comp "$@" | grep -qxF -- "$item" || fail "$what: '$item' not among '$(echo $(comp "$@"))'"
}

complete -p xpt >/dev/null 2>&1 || fail "the script does not register _xpt for xpt"

# every command of `xpt --help`, and every option of its usage
cmds=$("$XPT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" {print $1}')
[ -n "$cmds" ] || fail "no commands in xpt --help"
expect "commands" "$(sort <<<"$cmds")" ""
for c in $cmds; do
	has "command $c" "$c" "${c:0:3}"
	usage=$("$XPT" --help | awk -v c="$c" '$1 == c {$1 = ""; print}')
	for o in $(grep -oE -- '(^|[[:space:][|])-{1,2}[a-zA-Z][-a-zA-Z]*' <<<"$usage" |
		   tr -d '[| '); do
		if [ "$c" = host ]; then
			# host's options belong to a subcommand: start, status
			case $o in --json) sub=status ;; *) sub=start ;; esac
			has "host $sub option $o" "$o" host "$sub" -
		else
			has "$c option $o" "$o" "$c" -
		fi
	done
done
# every global option of `xpt --help` (those above its commands)
for o in $("$XPT" --help | sed '/^Commands:/q' | grep -oE -- '^ +-[a-zA-Z], --[a-z][-a-z]*' | tr -d ','); do
	has "global option $o" "$o" "${o:0:2}"
done
# xpt typed as ~/...: the completion runs the xpt the tilde names
home_xpt=$(realpath "$XPT")
(
	HOME=$(dirname "$home_xpt")
	COMP_WORDS=("~/$(basename "$home_xpt")" "pci-l")
	COMP_CWORD=1
	_xpt
	[ "${COMPREPLY[*]}" = "pci-list" ] ||
		{ echo "FAIL: xpt typed as ~/$(basename "$home_xpt"): '${COMPREPLY[*]}'"; exit 1; }
) || fails=$((fails + 1))
expect "help COMMAND" "$(sort <<<"$cmds")" help ""
expect "host subcommands" "$(printf '%s\n' raise-irq start status stop)" host ""
expect "-P" "$(printf '%s\n' model xen)" -P ""
# -W takes a number: nothing offered for it, and after it the command
expect "-W" "" -W ""
expect "-W F COMMAND" "pci-list" -W 2 pci-l
expect "--wait-factor F COMMAND" "pci-list" --wait-factor 2 pci-l

# files for create and host start --host
mkdir -p "${TMPDIR:-/tmp}/xpt-comp.$$"
touch "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg"
expect "create CONFIG" "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg" create "${TMPDIR:-/tmp}/xpt-comp.$$/a"
expect "host start --host FILE" "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg" host start --host "${TMPDIR:-/tmp}/xpt-comp.$$/a"
# an option's FILE, and an optional LOG, of whichever command has them
for c in $cmds; do
	usage=$("$XPT" --help | awk -v c="$c" '$1 == c {$1 = ""; print}')
	if [[ $c != host && $usage =~ \[(-[-a-zA-Z]+)\ (FILE|LOG)\] ]]; then
		expect "$c ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}" "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg" \
			"$c" "${BASH_REMATCH[1]}" "${TMPDIR:-/tmp}/xpt-comp.$$/a"
	fi
	if [[ $c != host && $usage =~ \[(LOG|FILE)\]$ ]]; then
		expect "$c [${BASH_REMATCH[1]}]" "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg" \
			"$c" "${TMPDIR:-/tmp}/xpt-comp.$$/a"
	fi
done
# an option's FILE before another alternative ([--hv-log FILE|--no-hv-log])
expect "trace --hv-log FILE" "${TMPDIR:-/tmp}/xpt-comp.$$/a.cfg" trace --hv-log "${TMPDIR:-/tmp}/xpt-comp.$$/a"
rm -rf "${TMPDIR:-/tmp}/xpt-comp.$$"

# no host: quietly nothing
XPT_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/xpt-comp-none.XXXXXX")
export XPT_RUNDIR
expect "no host: domains" "" pci-attach ""
expect "no host: devices" "" pci-attach d1 ""
rmdir "$XPT_RUNDIR"

# a running host with a guest c1 that has 04:00.0, and 05:00.0 assignable
host_start "$2"
printf 'name = "c1"\ntype = "pv"\nmemory = 128\npci = [ "04:00.0" ]\n' >"$XPT_RUNDIR/c1.cfg"
"$XPT" pci-assignable-add 04:00.0 || fail "assignable-add 04:00.0"
"$XPT" pci-assignable-add -n nvme 05:00.0 || fail "assignable-add 05:00.0"
"$XPT" create "$XPT_RUNDIR/c1.cfg" >/dev/null || fail "create c1"
expect "domains" "$(printf '%s\n' 0 1 Domain-0 c1 | sort)" pci-attach ""
expect "domain by prefix" "c1" destroy c
# an option's argument that is a domain (trace --domain D|NAME); before,
# files were offered, as for trace's optional LOG
expect "trace --domain D|NAME" "$(printf '%s\n' 0 1 Domain-0 c1 | sort)" trace --domain ""
expect "trace --domain by prefix" "c1" trace --domain c
expect "assignable for pci-attach" "$(printf '%s\n' 0000:05:00.0 name=nvme)" pci-attach c1 ""
expect "the domain's own for pci-detach" "0000:04:00.0" pci-detach -f c1 ""
# bash splits 0000:04 at ':': the reply replaces what follows the last one
expect "an address split at ':'" "04:00.0" pci-detach c1 0000 : 04
# doctor takes any number of devices, those assigned included
if grep -q '^  doctor ' <<<"$("$XPT" --help)"; then
	expect "doctor BDF..." "$(printf '%s\n' 0000:04:00.0 0000:05:00.0 name=nvme)" doctor 0000:04:00.0 ""
fi
expect "assignable-remove" "$(printf '%s\n' 0000:05:00.0 name=nvme)" pci-assignable-remove ""
# -R on the line: the xpt asked looks there
rundir=$XPT_RUNDIR
XPT_RUNDIR=/nonexistent
expect "-R passed on" "c1" -R "$rundir" pci-list c
XPT_RUNDIR=$rundir
finish
