# Shared by .ci/demo and .ci/test: a private system-type bus with the
# project's own bus policy, so nothing is installed into the host's /usr or
# /etc and nothing depends on systemd being PID 1.

# start_private_bus DIR: writes DIR/bus.conf, starts dbus-daemon, exports
# DBUS_SYSTEM_BUS_ADDRESS and BUS_PID.
start_private_bus() {
        dir=$1
        mkdir -p "$dir/system.d"
        cp "$SRCDIR/dbus/org.vfiohost.conf" "$dir/system.d/"
        cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <includedir>$dir/system.d</includedir>
</busconfig>
CONF
        BUS_PID=$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid)
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket"
}

# wait_for_name NAME: until NAME has an owner on the bus (10 s at most).
wait_for_name() {
        for _ in $(seq 100); do
                if dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                        org.freedesktop.DBus.GetNameOwner "string:$1" >/dev/null 2>&1; then
                        return 0
                fi
                sleep 0.1
        done
        echo "$1 did not appear on the bus" >&2
        return 1
}
