# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vfiohostctl: verbs, options, and the addresses, names
# and VMs the running vfiohostd knows. Needs nothing from bash-completion
# (its helpers may or may not be loaded), nor jq.

_vfiohostctl_verbs="status list show groups vms vm bind unbind check monitor persist unpersist persisted vfs config help"

_vfiohostctl_global_opts="-h --help --version --json --json=pretty --json=short --no-ask-password
        --no-pager --no-legend -q --quiet -l --full --color=auto --color=always --color=never"

# The options each verb takes besides the global ones (client/vfiohostctl.c).
_vfiohostctl_verb_opts() {
        case $1 in
                bind) echo "--group --force --dry-run --driver" ;;
                unbind) echo "--group --dry-run" ;;
                check) echo "--device" ;;
                persist) echo "--group --dry-run --name --driver --vfs" ;;
                vfs) echo "--force --dry-run --driver" ;;
                config) echo "--device --hugepages --isolate-cpus" ;;
                list) echo "--class --tree" ;;
        esac
}

# Options followed by a value in the next word (or after '=').
_vfiohostctl_opt_takes_arg() {
        case $1 in
                --device | --name | --driver | --vfs | --hugepages | --isolate-cpus | --class) return 0 ;;
        esac
        return 1
}

# vfiohostctl's JSON for the verb in $2.., nothing when the daemon does not
# answer. Never a password prompt, a pager nor a message on the terminal;
# bounded by timeout(1) when there is one, so a hung bus cannot hang the shell.
_vfiohostctl_json() {
        local ctl=$1 out rc
        shift
        local -a run=("$ctl")

        if type -P timeout >/dev/null 2>&1; then
                run=(timeout 5 "$ctl")
        fi
        out=$(PAGER=cat SYSTEMD_PAGER=cat "${run[@]}" --no-ask-password --no-pager --json "$@" </dev/null 2>/dev/null)
        rc=$?
        ((rc == 0)) || return 1
        printf '%s\n' "$out"
}

# The string values of key $1 in JSON on stdin, pretty or compact; "" skipped.
_vfiohostctl_json_strings() {
        grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" | sed 's/^.*:[[:space:]]*"//; s/"$//' | grep -v '^$'
}

# The integer values of key $1 in JSON on stdin.
_vfiohostctl_json_numbers() {
        grep -o "\"$1\"[[:space:]]*:[[:space:]]*[0-9][0-9]*" | sed 's/^.*[^0-9]//'
}

_vfiohostctl_addresses() {
        _vfiohostctl_json "$1" list | _vfiohostctl_json_strings address
}

# SR-IOV PFs: list's objects are flat, so one object per line after cutting
# at '}' tells which address has a non-zero sriov_total_vfs.
_vfiohostctl_pfs() {
        _vfiohostctl_json "$1" list | tr -d '\n' | sed 's/}/}\n/g' |
                grep '"sriov_total_vfs"[[:space:]]*:[[:space:]]*[1-9]' | _vfiohostctl_json_strings address
}

_vfiohostctl_persisted() {
        _vfiohostctl_json "$1" persisted | _vfiohostctl_json_strings "$2"
}

# Addresses and the names of persistent assignments: ADDRESS|NAME.
_vfiohostctl_devices() {
        _vfiohostctl_addresses "$1"
        _vfiohostctl_persisted "$1" name
}

_vfiohostctl_vms() {
        local out

        out=$(_vfiohostctl_json "$1" vms) || return
        _vfiohostctl_json_strings name <<<"$out"
        _vfiohostctl_json_numbers pid <<<"$out"
}

# vfio-pci and the variant drivers (*_vfio_pci) some function is on now.
_vfiohostctl_drivers() {
        echo vfio-pci
        _vfiohostctl_json "$1" list | _vfiohostctl_json_strings driver | grep '_vfio_pci$'
}

_vfiohostctl() {
        local line cur prev verb ctl i w npos=0
        local -a words candidates

        # Words split on blanks only: COMP_WORDS splits "0000:01:00.0" and
        # "--color=auto" at COMP_WORDBREAKS, which is undone below.
        if [[ -n ${COMP_LINE+set} ]]; then
                line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
                read -r -a words <<<"$line"
                [[ -z $line || $line == *[[:space:]] ]] && words+=("")
        else
                words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
        fi
        ((${#words[@]} > 0)) || words=("vfiohostctl" "")
        ((${#words[@]} > 1)) || words+=("")
        cur=${words[${#words[@]} - 1]}
        prev=${words[${#words[@]} - 2]}

        ctl=${words[0]}
        [[ $ctl == */* && -x $ctl ]] || ctl=vfiohostctl

        # The verb is the first word that is neither an option nor its value;
        # npos counts the verb's arguments before cur.
        for ((i = 1; i < ${#words[@]} - 1; i++)); do
                w=${words[i]}
                if [[ $w == -* ]]; then
                        _vfiohostctl_opt_takes_arg "$w" && ((i++))
                elif [[ -z $verb ]]; then
                        verb=$w
                else
                        ((npos++))
                fi
        done

        if [[ $cur == --*=* ]]; then
                local opt=${cur%%=*}
                case $opt in
                        --color) candidates=(--color=auto --color=always --color=never) ;;
                        --json) candidates=(--json=pretty --json=short) ;;
                        --device) mapfile -t candidates < <(_vfiohostctl_devices "$ctl" | sed "s/^/$opt=/") ;;
                        --driver) mapfile -t candidates < <(_vfiohostctl_drivers "$ctl" | sed "s/^/$opt=/") ;;
                        --class) candidates=("$opt="{gpu,network,storage,usb,audio}) ;;
                esac
        elif [[ $prev == -* ]] && _vfiohostctl_opt_takes_arg "$prev"; then
                case $prev in
                        --device) mapfile -t candidates < <(_vfiohostctl_devices "$ctl") ;;
                        --driver) mapfile -t candidates < <(_vfiohostctl_drivers "$ctl") ;;
                        --class) candidates=(gpu network storage usb audio) ;;
                esac
                # --name, --vfs COUNT, --hugepages, --isolate-cpus: free text
        elif [[ $cur == -* ]]; then
                # shellcheck disable=SC2207
                candidates=($_vfiohostctl_global_opts $(_vfiohostctl_verb_opts "$verb"))
        elif [[ -z $verb ]]; then
                # shellcheck disable=SC2207
                candidates=($_vfiohostctl_verbs)
        elif ((npos == 0)); then
                case $verb in
                        show | bind | unbind) mapfile -t candidates < <(_vfiohostctl_devices "$ctl") ;;
                        persist) mapfile -t candidates < <(_vfiohostctl_addresses "$ctl") ;;
                        unpersist) mapfile -t candidates < <(_vfiohostctl_persisted "$ctl" address; _vfiohostctl_persisted "$ctl" name) ;;
                        vfs) mapfile -t candidates < <(_vfiohostctl_pfs "$ctl") ;;
                        vm) mapfile -t candidates < <(_vfiohostctl_vms "$ctl") ;;
                        # shellcheck disable=SC2207
                        help) candidates=($_vfiohostctl_verbs) ;;
                esac
        fi

        COMPREPLY=()
        for w in "${candidates[@]}"; do
                [[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
        done

        # bash replaces only the text after the last COMP_WORDBREAKS character
        # in cur (the ':' of an address, '='), so the replies drop up to it.
        local breaks=${COMP_WORDBREAKS-} before=$cur
        while [[ -n $before && $breaks != *"${before: -1}"* ]]; do
                before=${before:0:${#before}-1}
        done
        if [[ -n $before ]]; then
                for i in "${!COMPREPLY[@]}"; do
                        COMPREPLY[i]=${COMPREPLY[i]#"$before"}
                done
        fi
        return 0
}

complete -F _vfiohostctl vfiohostctl
