# Sourced by the guest's scenario scripts (busybox sh). Records raw facts
# under $R (on the 9p share); the host judges them (tests/e2e/judge-*.c).
# Nothing here decides PASS or FAIL.

R=${R:-/share/results}

# vh_nvme_disk ADDRESS: the block device of the first namespace of the NVMe
# controller at ADDRESS. Controllers are numbered in the order they probe
# (asynchronously), so /dev/nvme0n1 may be another controller's.
vh_nvme_disk() {
        for c in /sys/bus/pci/devices/"$1"/nvme/nvme*; do
                [ -e "$c" ] && echo "/dev/${c##*/}n1" && return
        done
        echo /dev/null/no-nvme-at-"$1"
}

now_ms() {
        # /proc/uptime has centiseconds; busybox date has no %N.
        awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# scenario NAME: starts recording into $R/NAME.
scenario() {
        S=$R/$1
        mkdir -p "$S"
        now_ms >"$S/t0"
        echo "vh-e2e: scenario $1" >/dev/kmsg
}

scenario_end() {
        now_ms >"$S/t1"
}

# step NAME CMD...: CMD's stdout, stderr and exit status as NAME.out,
# NAME.err, NAME.rc.
step() {
        name=$1
        shift
        "$@" >"$S/$name.out" 2>"$S/$name.err"
        echo $? >"$S/$name.rc"
}

# snap NAME: the state of every PCI function as the kernel shows it, one
# "ADDRESS FIELD VALUE" line per fact, plus /dev/vfio and the journal.
# Shell builtins where it can: a fork costs milliseconds under TCG.
snap() {
        f=$S/$1.state
        {
                for d in /sys/bus/pci/devices/*; do
                        a=${d##*/}
                        for attr in vendor device subsystem_vendor subsystem_device class numa_node driver_override \
                                    reset_method boot_vga sriov_numvfs sriov_drivers_autoprobe; do
                                v=-
                                [ -r "$d/$attr" ] && read -r v <"$d/$attr" 2>/dev/null
                                echo "$a $attr $v"
                        done
                        for link in driver iommu_group; do
                                v=-
                                [ -e "$d/$link" ] && { v=$(readlink "$d/$link"); v=${v##*/}; }
                                echo "$a $link $v"
                        done
                        if [ -d "$d/net" ]; then
                                v=
                                for n in "$d"/net/*; do v="$v${n##*/} "; done
                                echo "$a net ${v% }"
                        fi
                done
                # Group nodes only: the container node "vfio" comes with the module.
                v=
                for n in /dev/vfio/*; do
                        case ${n##*/} in
                        vfio | "*") ;;
                        *) v="$v${n##*/} " ;;
                        esac
                done
                echo "host dev_vfio $v"
                v=-
                if [ -f /var/lib/vfiohost/journal.json ]; then
                        v=
                        while read -r line; do v="$v$line "; done </var/lib/vfiohost/journal.json
                fi
                echo "host journal $v"
                # /proc/net/route: a default route has destination 00000000.
                v=
                while read -r iface dest gw rest; do
                        [ "$dest" = 00000000 ] && v="$v$iface:$gw "
                done </proc/net/route
                echo "host default_route $v"
                v=
                while read -r dev mnt rest; do
                        case $dev in /dev/nvme*) v="$v$dev:$mnt " ;; esac
                done </proc/mounts
                echo "host mounts $v"
                v=
                for p in /proc/[0-9]*; do
                        [ -r "$p/comm" ] && read -r c <"$p/comm" 2>/dev/null && [ "$c" = vfiohostd ] && v="$v${p##*/} "
                done
                echo "host daemon_pid $v"
        } >"$f"
}

# Waits until vfiohostd has exited (idle exit or a kill), at most $1 s.
wait_daemon_gone() {
        n=0
        while pidof vfiohostd >/dev/null 2>&1; do
                n=$((n + 1))
                [ "$n" -gt $(($1 * 10)) ] && return 1
                sleep 0.1
        done
}

# Waits until the daemon says it is not reconciling, at most $1 s.
wait_reconciled() {
        n=0
        while [ "$n" -lt $(($1 * 10)) ]; do
                vfiohostctl status --json 2>/dev/null | grep -q '"reconciling" *: *false' && return 0
                sleep 0.1
                n=$((n + 1))
        done
        return 1
}
