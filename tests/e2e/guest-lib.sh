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
snap() {
        f=$S/$1.state
        : >"$f"
        for d in /sys/bus/pci/devices/*; do
                a=${d##*/}
                for attr in vendor device subsystem_vendor subsystem_device class numa_node driver_override \
                            reset_method boot_vga; do
                        if [ -r "$d/$attr" ]; then
                                v=$(cat "$d/$attr" 2>/dev/null | tr '\n' ' ')
                                echo "$a $attr ${v% }" >>"$f"
                        else
                                echo "$a $attr -" >>"$f"
                        fi
                done
                if [ -e "$d/driver" ]; then
                        echo "$a driver $(basename "$(readlink "$d/driver")")" >>"$f"
                else
                        echo "$a driver -" >>"$f"
                fi
                if [ -e "$d/iommu_group" ]; then
                        echo "$a iommu_group $(basename "$(readlink "$d/iommu_group")")" >>"$f"
                else
                        echo "$a iommu_group -" >>"$f"
                fi
                if [ -d "$d/net" ]; then
                        echo "$a net $(ls "$d/net" | tr '\n' ' ')" >>"$f"
                fi
        done
        # Group nodes only: the container node "vfio" comes with the module.
        echo "host dev_vfio $(ls /dev/vfio 2>/dev/null | grep -vx vfio | tr '\n' ' ')" >>"$f"
        if [ -f /var/lib/vfiohost/journal.json ]; then
                echo "host journal $(tr '\n' ' ' </var/lib/vfiohost/journal.json)" >>"$f"
        else
                echo "host journal -" >>"$f"
        fi
        echo "host default_route $(ip route show default 2>/dev/null | tr '\n' ' ')" >>"$f"
        echo "host mounts $(awk '$1 ~ /^\/dev\/nvme/ { printf "%s:%s ", $1, $2 }' /proc/mounts)" >>"$f"
        echo "host daemon_pid $(pidof vfiohostd)" >>"$f"
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
