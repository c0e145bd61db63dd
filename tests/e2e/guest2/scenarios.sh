#!/bin/sh
# Guest 2's scenarios: the project installed as a package on Debian 12,
# systemd as PID 1, the daemon activated by dbus-daemon through systemd,
# polkitd with the example rules. Each scenario records raw facts under
# $R/NAME; tests/e2e/judge-guest2.c decides. Addresses are fixed by
# tests/e2e/guest2/qemu.sh.
. /usr/lib/vh-e2e/guest-lib.sh

RNG=0000:01:00.0        # virtio-rng behind root port rp1
NIC=0000:00:02.0        # e1000e, not configured: the persisted device (its driver is a module udev loads)

ctl() {
        vfiohostctl --no-ask-password "$@"
}

# Debian's setpriv; --init-groups takes the groups from /etc/group.
as_alice() {
        /usr/bin/setpriv --reuid=alice --regid=alice --init-groups "$@"
}

as_bob() {
        /usr/bin/setpriv --reuid=bob --regid=bob --init-groups "$@"
}

mainpid() {
        systemctl show -P MainPID vfiohostd
}

# Leaves the RNG on its boot driver whatever a step did.
restore_rng() {
        if [ "$(basename "$(readlink "/sys/bus/pci/devices/$RNG/driver")")" = vfio-pci ]; then
                ctl unbind "$RNG" --json >>"$S/cleanup.out" 2>&1
        fi
}

main() {
        scenario boot
        snap boot
        step is-running systemctl is-system-running
        step modules cat /proc/modules
        scenario_end

        # Nothing has called org.vfiohost yet.
        scenario activation
        step show-before systemctl show vfiohostd -p ActiveState,SubState,MainPID,LoadState
        step pid-before pidof vfiohostd
        step modules-before cat /proc/modules
        step status ctl status --json
        step pid-after pidof vfiohostd
        step show-after systemctl show vfiohostd -p ActiveState,SubState,MainPID,Type,BusName,NRestarts
        step cgroup cat "/proc/$(mainpid)/cgroup"
        step modules-after cat /proc/modules
        step modprobe-unit systemctl show modprobe@vfio_pci -p ActiveState,Result,ExecMainStatus
        step activation-file cat /usr/share/dbus-1/system-services/org.vfiohost.service
        step dbus-log journalctl -b -o cat --no-pager -u dbus
        step unit-log journalctl -b -o cat --no-pager -u vfiohostd
        scenario_end

        # What "meson install" put where, as the guest's tools see it.
        scenario install
        step files sh -c 'while read -r p; do stat -c "%n %a %U:%G" "$p"; done </share/install-manifest'
        step unit-show systemctl show vfiohostd -p LoadState,FragmentPath,UnitFileState
        step pkaction pkaction --verbose --action-id org.vfiohost.bind
        step rules cat /usr/share/polkit-1/rules.d/50-org.vfiohost.rules
        step group getent group vfio
        step verify systemd-analyze verify vfiohostd.service
        scenario_end

        scenario root-bind
        snap before
        step bind ctl bind "$RNG" --json
        snap bound
        step show ctl show "$RNG" --json
        step unbind ctl unbind "$RNG" --json
        snap restored
        scenario_end

        scenario state-dir
        step bind ctl bind "$RNG" --json
        step journal-bound cat /var/lib/vfiohost/journal.json
        step stat stat -c "%n %a %U:%G" /var/lib/vfiohost /var/lib/vfiohost/journal.json
        step show systemctl show vfiohostd -p StateDirectory,StateDirectoryMode
        step environ sh -c "tr '\\0' '\\n' </proc/$(mainpid)/environ"
        step unbind ctl unbind "$RNG" --json
        step journal-unbound cat /var/lib/vfiohost/journal.json
        scenario_end

        scenario polkit-group
        step id as_alice id
        snap before
        step bind as_alice vfiohostctl --no-ask-password bind "$RNG" --json
        snap bound
        step unbind as_alice vfiohostctl --no-ask-password unbind "$RNG" --json
        snap restored
        restore_rng
        scenario_end

        scenario polkit-outsider
        step id as_bob id
        snap before
        step bind as_bob vfiohostctl --no-ask-password bind "$RNG" --json
        snap after-bind
        step root-bind ctl bind "$RNG" --json
        snap bound
        step unbind as_bob vfiohostctl --no-ask-password unbind "$RNG" --json
        snap after-unbind
        step root-unbind ctl unbind "$RNG" --json
        restore_rng
        # Whose groups polkit goes by: the process's or /etc/group's.
        step bind-proc-vfio /usr/bin/setpriv --reuid=bob --regid=bob --groups=vfio \
                vfiohostctl --no-ask-password bind "$RNG" --json
        restore_rng
        step bind-proc-none /usr/bin/setpriv --reuid=alice --regid=alice --clear-groups \
                vfiohostctl --no-ask-password bind "$RNG" --json
        restore_rng
        snap end
        scenario_end

        scenario sandbox
        step status ctl status --json
        pid=$(mainpid)
        echo "$pid" >"$S/mainpid"
        step show systemctl show vfiohostd
        step unit cat /lib/systemd/system/vfiohostd.service
        step proc-status cat "/proc/$pid/status"
        step mountinfo cat "/proc/$pid/mountinfo"
        step check ctl check --json
        step security systemd-analyze security --no-pager vfiohostd.service
        echo "$(mainpid)" >"$S/mainpid-after"
        scenario_end

        overflow

        scenario final
        snap final
        scenario_end

        # Persisted now; boot 2 must find it on vfio-pci with nobody calling.
        scenario persist
        snap before
        step persist ctl persist "$NIC" --name nic --json
        snap persisted
        step persisted ctl persisted --json
        step store cat /var/lib/vfiohost/assignments.json
        scenario_end

        # The last thing before the power goes: bound, as the journal says.
        scenario reboot-before
        step bind ctl bind "$RNG" --json
        snap bound
        step journal cat /var/lib/vfiohost/journal.json
        scenario_end
}

# Lost events on the real kernel: under the unit (no CAP_NET_ADMIN) the
# monitor's receive buffer is net.core.rmem_max. The daemon is stopped,
# synthetic "change" uevents fill its socket, a driver is unbound by hand
# among them; resumed, it must say events were lost and still show the
# unbind (the rescan found it).
overflow() {
        scenario overflow
        ctl status --json >"$S/status.out" 2>&1
        pid=$(mainpid)
        echo "$pid" >"$S/pid"
        cat /proc/sys/net/core/rmem_max >"$S/rmem_max"
        kill -STOP "$pid"
        i=0
        while [ "$i" -lt 60 ]; do
                for u in /sys/bus/pci/devices/*/uevent; do
                        echo change >"$u"
                done
                i=$((i + 1))
        done
        echo "$RNG" >/sys/bus/pci/drivers/virtio-pci/unbind
        # Let udevd re-broadcast all of it into the stopped daemon's socket.
        udevadm settle --timeout=60
        kill -CONT "$pid"
        sleep 3
        step show ctl show "$RNG" --json
        echo "$(mainpid)" >"$S/pid-after"
        step log journalctl -b -o cat --no-pager -u vfiohostd
        echo "$RNG" >/sys/bus/pci/drivers/virtio-pci/bind
        sleep 2
        step show-back ctl show "$RNG" --json
        scenario_end
}

# Boot 2, same disk: the device is on its boot driver again, the journal
# still says bound until the daemon reconciles.
after_reboot() {
        scenario reboot-after
        step pid-before pidof vfiohostd
        snap before
        step status ctl status --json
        wait_reconciled 60
        echo $? >"$S/reconciled.rc"
        snap after
        step show ctl show "$RNG" --json
        step journal cat /var/lib/vfiohost/journal.json
        step log journalctl -b -o cat --no-pager -u vfiohostd
        # The persistent journal: this is the system of boot 1, rebooted.
        step boots journalctl --list-boots --no-pager
        step log-boot1 journalctl -b -1 -o cat --no-pager -u vfiohostd
        scenario_end
}

# Boot 2, after the reboot check: the persisted NIC came up on vfio-pci —
# udev set its driver_override before e1000e loaded — and then it is
# unpersisted (it stays on vfio-pci until boot 3).
persist_after_reboot() {
        scenario persist-reboot
        snap boot
        step pid-before pidof vfiohostd
        step udev-log journalctl -b -o cat --no-pager -t vfiohost-udev-assign
        step record cat "/run/vfiohost/boot/$NIC"
        step persisted ctl persisted --json
        step unpersist ctl unpersist nic --json
        snap unpersisted
        step store cat /var/lib/vfiohost/assignments.json
        scenario_end
}

# Boot 3: nothing persisted, so the NIC is on its own driver again.
after_unpersist() {
        scenario unpersisted
        snap boot
        step record ls /run/vfiohost/boot
        step persisted ctl persisted --json
        scenario_end
}

case ${1:-main} in
main) main ;;
reboot) after_reboot; persist_after_reboot ;;
unpersisted) after_unpersist ;;
*) echo "unknown mode $1" >&2; exit 2 ;;
esac
