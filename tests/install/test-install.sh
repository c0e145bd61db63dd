#!/bin/sh
# Installs a fresh build at the default prefix (/usr/local) into a DESTDIR
# and checks that every file lands where the system's own daemons read it,
# as their pkg-config files say: the bus policy and activation file where
# dbus-daemon looks, the actions where polkitd looks, the unit where
# systemd looks, the rule where udev looks (docs/testing.md, "install").
# Then systemd-analyze verify on the installed unit. TAP on stdout.
#
# Usage: test-install.sh SOURCE_ROOT MESON NINJA
set -u

src=$1
meson=$2
ninja=$3
prefix=/usr/local

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { # DESCRIPTION COMMAND...
        d=$1
        shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}

for p in pkg-config "$meson" "$ninja"; do
        command -v "$p" >/dev/null || { echo "1..0 # SKIP $p not found"; exit 0; }
done
for pc in dbus-1 polkit-gobject-1 systemd udev; do
        pkg-config --exists "$pc" || { echo "1..0 # SKIP no $pc.pc: nothing says where the system looks"; exit 0; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vh-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
destdir=$tmp/dest

# A build directory of its own: the suite's may have any prefix or options.
if ! "$meson" setup --prefix "$prefix" -Dtests=false "$tmp/build" "$src" >"$tmp/setup.log" 2>&1; then
        sed 's/^/# /' "$tmp/setup.log"
        echo "Bail out! meson setup failed"
        exit 1
fi
if ! DESTDIR=$destdir "$ninja" -C "$tmp/build" -j2 install >"$tmp/install.log" 2>&1; then
        tail -n 40 "$tmp/install.log" | sed 's/^/# /'
        echo "Bail out! ninja install failed"
        exit 1
fi
grep '^Installing' "$tmp/install.log" | sed 's/^/# /'

# Where the system reads, from the .pc files as they stand (never re-rooted).
dbus_datadir=$(pkg-config --variable=datadir dbus-1)
services_dir=$(pkg-config --variable=system_bus_services_dir dbus-1)
policy_dir=$dbus_datadir/dbus-1/system.d
actions_dir=$(pkg-config --variable=actiondir polkit-gobject-1)
[ -n "$actions_dir" ] || actions_dir=$(pkg-config --variable=policydir polkit-gobject-1)
unit_dir=$(pkg-config --variable=systemdsystemunitdir systemd)
rules_dir=$(pkg-config --variable=udevdir udev)/rules.d

# dbus-daemon's own configuration must include that policy directory: the
# relative <includedir>system.d</includedir> of system.conf next to it.
system_conf=$dbus_datadir/dbus-1/system.conf
if [ -f "$system_conf" ]; then
        check "$system_conf includes $policy_dir" \
                grep -Eq "<includedir>(system\.d|$policy_dir)</includedir>" "$system_conf"
else
        skip "no $system_conf to cross-check the policy directory"
fi

for f in "$policy_dir/org.vfiohost.conf" \
         "$services_dir/org.vfiohost.service" \
         "$actions_dir/org.vfiohost.policy" \
         "$unit_dir/vfiohostd.service" \
         "$rules_dir/70-vfiohost.rules" \
         "$prefix/libexec/vfiohostd" \
         "$prefix/bin/vfiohostctl"; do
        check "installed $f" test -f "$destdir$f"
done

# The polkit actions installed are the merged build file (po/ applied, each
# message in the vfiohost gettext domain), not the .in.
check "installed org.vfiohost.policy names gettext-domain=\"vfiohost\"" \
        grep -q 'gettext-domain="vfiohost"' "$destdir$actions_dir/org.vfiohost.policy"

# The binary stays under the prefix, and both starters name it there.
check "unit ExecStart=$prefix/libexec/vfiohostd" \
        grep -qx "ExecStart=$prefix/libexec/vfiohostd" "$destdir$unit_dir/vfiohostd.service"
check "activation file Exec=$prefix/libexec/vfiohostd" \
        grep -qx "Exec=$prefix/libexec/vfiohostd" "$destdir$services_dir/org.vfiohost.service"

# Nothing where no daemon looks.
for d in share/dbus-1/system.d share/dbus-1/system-services share/polkit-1 lib/systemd; do
        check "nothing in $prefix/$d" test ! -e "$destdir$prefix/$d"
done

# Man pages, when scdoc built them (the man option is auto).
man_dir=$destdir$prefix/share/man
if command -v scdoc >/dev/null; then
        for page in man1/vfiohostctl.1 man8/vfiohostd.8 man7/org.vfiohost.7; do
                check "installed $prefix/share/man/$page" test -s "$man_dir/$page"
        done
else
        skip "no scdoc: no man pages built"
fi

# systemd-analyze verify without systemd as PID 1 (systemd 252): the unit
# is copied with ExecStart= pointing into DESTDIR, since verify requires
# the executable to exist; its dependencies (modprobe@.service, dbus.socket,
# sysinit.target) come from this host's unit path, which is why not
# --root=DESTDIR. Documentation=man: is checked against the pages just
# installed (MANPATH); without them, or without man, --man=no. Unknown keys
# are only warnings (exit 0): any output fails too.
if command -v systemd-analyze >/dev/null; then
        mkdir -p "$tmp/verify"
        sed "s|^ExecStart=|ExecStart=$destdir|" "$destdir$unit_dir/vfiohostd.service" >"$tmp/verify/vfiohostd.service"
        man_arg=--man=no
        if command -v man >/dev/null && [ -s "$man_dir/man8/vfiohostd.8" ]; then
                man_arg=--man=yes
        fi
        if MANPATH=$man_dir systemd-analyze verify "$man_arg" "$tmp/verify/vfiohostd.service" >"$tmp/verify.log" 2>&1 &&
           [ ! -s "$tmp/verify.log" ]; then
                ok "systemd-analyze verify $man_arg vfiohostd.service"
        else
                sed 's/^/# /' "$tmp/verify.log"
                not_ok "systemd-analyze verify $man_arg vfiohostd.service"
        fi
else
        skip "systemd-analyze not found"
fi

echo "1..$n"
exit $failed
