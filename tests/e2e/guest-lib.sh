# Sourced by the guest's scenario scripts (busybox sh). Records raw facts
# under $R (on the 9p share); the host judges them (tests/e2e/judge-*.c).
# Nothing here decides PASS or FAIL.

R=${R:-/share/results}

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
# Shell builtins where they do: each fork and each open on the share is
# slow under TCG, and a full Debian guest has no applets.
snap() {
        f=$S/$1.state
        {
        for d in /sys/bus/pci/devices/*; do
                a=${d##*/}
                for attr in vendor device subsystem_vendor subsystem_device class numa_node driver_override \
                            reset_method boot_vga; do
                        if [ -r "$d/$attr" ]; then
                                v=
                                read -r v <"$d/$attr" 2>/dev/null
                                echo "$a $attr $v"
                        else
                                echo "$a $attr -"
                        fi
                done
                for link in driver iommu_group; do
                        if [ -e "$d/$link" ]; then
                                l=$(readlink "$d/$link")
                                echo "$a $link ${l##*/}"
                        else
                                echo "$a $link -"
                        fi
                done
                if [ -d "$d/net" ]; then
                        l=
                        for n in "$d"/net/*; do
                                [ -e "$n" ] && l="$l${n##*/} "
                        done
                        echo "$a net $l"
                fi
        done
        # Group nodes only: the container node "vfio" comes with the module.
        l=
        for n in /dev/vfio/*; do
                [ -e "$n" ] && [ "${n##*/}" != vfio ] && l="$l${n##*/} "
        done
        echo "host dev_vfio $l"
        if [ -f /var/lib/vfiohost/journal.json ]; then
                echo "host journal $(tr '\n' ' ' </var/lib/vfiohost/journal.json)"
        else
                echo "host journal -"
        fi
        echo "host default_route $(ip route show default 2>/dev/null | tr '\n' ' ')"
        echo "host mounts $(awk '$1 ~ /^\/dev\/nvme/ { printf "%s:%s ", $1, $2 }' /proc/mounts)"
        echo "host daemon_pid $(pidof vfiohostd)"
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
